//! The `asic` target end to end on a small tile (`--xbar 8 --ou 4x4 --xbars
//! 2`): the generated Yosys script maps to qflow's OSU 0.18 um cells with the
//! crossbar and memories as hard macros, and the generated OpenSTA script
//! times the netlist with the macro Liberty views and the SDC. Needs yosys,
//! OpenSTA (`sta`) and the OSU018 library (Debian `yosys`, `opensta`,
//! `qflow-tech-osu018`; scripts/test installs them); a missing tool fails
//! the test loudly. Feature `cosim` (the HDL-tool tests, as tests/lint.rs).
#![cfg(feature = "cosim")]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const OSU018: &str = "/usr/share/qflow/tech/osu018/osu018_stdcells.lib";

fn sme() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sme"))
}

fn tmpdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sme-asic-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn ok(what: &str, o: &Output) -> String {
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "{what} failed:\n{out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    out
}

fn run_gen(d: &Path, extra: &[&str]) -> Output {
    sme()
        .args(["gen", "--xbar", "8", "--ou", "4x4", "--xbars", "2"])
        .args(["--target", "asic", "--liberty", OSU018])
        .args(extra)
        .arg("--out")
        .arg(d)
        .output()
        .unwrap()
}

/// Module names of the black-box stubs of the `asic` filelist.
fn macros(d: &Path) -> Vec<String> {
    std::fs::read_to_string(d.join("sme_tile_asic.f"))
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_suffix("_stub.sv").map(String::from))
        .collect()
}

#[test]
fn small_tile_synthesizes_to_osu018_and_times_with_opensta() {
    common::need("yosys", "-V", "yosys");
    common::need("sta", "-version", "opensta");
    assert!(
        Path::new(OSU018).is_file(),
        "{OSU018} is missing: `apt-get install -y qflow-tech-osu018`"
    );
    let d = tmpdir("small");
    // 6 ns: met only with ABC's fanout buffering and gate sizing
    // (sme_tile_abc.constr): worst slack +0.520 ns with it, -0.162 ns with
    // the same script without `-constr` (Yosys 0.23, OpenSTA 2.0.17,
    // 2026-12-06).
    ok("sme gen", &run_gen(&d, &["--clock-ns", "6"]));

    let ms = macros(&d);
    assert!(ms.contains(&"sme_xbar".to_string()), "{ms:?}");
    assert!(ms.contains(&"sme_op_ram".to_string()), "{ms:?}");
    for m in &ms {
        assert!(d.join(format!("{m}.lib")).is_file(), "{m}.lib");
    }

    let y = Command::new("yosys")
        .current_dir(&d)
        .args(["-q", "-l", "yosys.log", "-s", "sme_tile_asic.ys"])
        .output()
        .unwrap();
    ok("yosys -s sme_tile_asic.ys", &y);

    // The macros stay instances of black boxes; nothing else is unmapped.
    let net = std::fs::read_to_string(d.join("sme_tile_netlist.v")).unwrap();
    for m in &ms {
        let inst = net
            .lines()
            .filter(|l| l.trim_start().starts_with(&format!("{m} ")))
            .count();
        // The netlist keeps the hierarchy: one crossbar and one op memory per
        // crossbar in the tile and controller, one accumulator memory per OU
        // column in the (one) accumulator module.
        let want = if m == "sme_acc_ram" { 4 } else { 2 };
        assert_eq!(inst, want, "{m}: instance lines in the netlist");
        assert!(!net.contains(&format!("module {m}(")), "{m} has a body");
    }
    assert!(!net.contains("LATCH"), "a latch cell in the netlist");
    assert!(!net.contains("\\$"), "an unmapped internal cell");
    let lib = std::fs::read_to_string(OSU018).unwrap();
    for line in net.lines() {
        let t = line.trim_start();
        let Some(cell) = t.split_whitespace().next() else {
            continue;
        };
        if t.ends_with('(')
            && !["module", "input", "output", "wire", "assign"].contains(&cell)
            && !ms.iter().any(|m| m == cell)
            && !net.contains(&format!("module {cell}("))
        {
            assert!(
                lib.contains(&format!("cell ({cell})")),
                "{cell} is neither a macro, a module nor an OSU018 cell"
            );
        }
    }
    let area = std::fs::read_to_string(d.join("sme_tile_asic_area.txt")).unwrap();
    assert!(
        area.contains("Chip area for top module '\\sme_tile'"),
        "{area}"
    );

    let s = Command::new("sta")
        .current_dir(&d)
        .args(["-no_init", "-no_splash", "-exit", "sme_tile_sta.tcl"])
        .output()
        .unwrap();
    let rep = ok("sta sme_tile_sta.tcl", &s);
    let err = String::from_utf8_lossy(&s.stderr);
    assert!(
        !rep.contains("Error") && !err.contains("Error"),
        "{rep}\n{err}"
    );
    assert!(
        !rep.contains("Warning") && !err.contains("Warning"),
        "{rep}\n{err}"
    );
    let num = |key: &str| -> f64 {
        let l = rep
            .lines()
            .find(|l| l.starts_with(key))
            .unwrap_or_else(|| panic!("no `{key}` in\n{rep}"));
        l[key.len()..].trim().parse().unwrap()
    };
    let wns = num("wns");
    let tns = num("tns");
    assert!(
        wns == 0.0 && tns == 0.0,
        "timing not met at 6 ns: wns {wns} tns {tns}\n{rep}"
    );
    assert!(rep.contains("slack (MET)") && !rep.contains("slack (VIOLATED)"));
    // The crossbar's combinational read arc (every code_i bit to every
    // sum_o bit) is timed with half the 6 ns period.
    let setup: String = std::fs::read_to_string(d.join("sme_tile_sta.tcl"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("report_"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(
        d.join("through.tcl"),
        format!(
            "{setup}report_checks -path_delay max -digits 3 -through [get_pins {{gen_xbar[1].u_xbar/code_i[3]}}] -through [get_pins {{gen_xbar[1].u_xbar/sum_o[0]}}]\n"
        ),
    )
    .unwrap();
    let t = Command::new("sta")
        .current_dir(&d)
        .args(["-no_init", "-no_splash", "-exit", "through.tcl"])
        .output()
        .unwrap();
    let thr = ok("sta through.tcl", &t);
    assert!(
        thr.lines()
            .any(|l| l.contains("3.000") && l.contains("u_xbar/sum_o[0] (sme_xbar)")),
        "{thr}"
    );
    std::fs::remove_dir_all(&d).unwrap();
}

/// Bad `--clock-ns` / `--liberty` / `--drive-cell`: a clear error naming the valid range.
#[test]
fn bad_clock_and_liberty_are_clear_errors() {
    for (flag, val, want) in [
        ("--clock-ns", "0", "valid is 0.1..=10000 ns"),
        ("--clock-ns", "abc", "expected a number of ns"),
        ("--clock-ns", "1e9", "valid is 0.1..=10000 ns"),
        ("--liberty", "a b.lib", "invalid Liberty path"),
        ("--drive-cell", "BUF X2", "invalid drive cell"),
    ] {
        let d = tmpdir("bad");
        let o = sme()
            .args(["gen", "--target", "asic", flag, val, "--out"])
            .arg(&d)
            .output()
            .unwrap();
        assert!(!o.status.success(), "{flag} {val} accepted");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(want), "{flag} {val}: {err}");
        assert!(!err.contains("panicked"), "{err}");
        let _ = std::fs::remove_dir_all(&d);
    }
}
