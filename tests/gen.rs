//! The generator: committed default output, golden text for small configs,
//! determinism, output-directory safety and config errors.

use sme::config::{TileConfig, TileParams};
use sme::rtlgen::{DEFAULT_PREFIX, generate};
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Compare a bundle with a committed directory; `SME_BLESS=1` rewrites it.
fn check_dir(cfg: &TileConfig, dir: &Path) {
    let bundle = generate(cfg, DEFAULT_PREFIX);
    if std::env::var_os("SME_BLESS").is_some() {
        std::fs::create_dir_all(dir).unwrap();
        for f in bundle.files() {
            std::fs::write(dir.join(&f.name), &f.text).unwrap();
        }
    }
    let mut names: Vec<String> = bundle.files().map(|f| f.name.clone()).collect();
    for f in bundle.files() {
        let committed = std::fs::read_to_string(dir.join(&f.name)).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (run `SME_BLESS=1 cargo test --test gen` to regenerate)",
                dir.join(&f.name).display()
            )
        });
        assert!(
            committed == f.text,
            "{} differs from the generator's output (run `SME_BLESS=1 cargo test --test gen` after an intended change)",
            dir.join(&f.name).display()
        );
    }
    let mut on_disk: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    names.sort();
    assert_eq!(
        on_disk,
        names,
        "{} holds files the generator does not write",
        dir.display()
    );
}

#[test]
fn committed_default_rtl_matches_generator() {
    check_dir(&TileConfig::default_config(), &root().join("rtl"));
}

#[test]
fn golden_text_small_configs() {
    let small = [
        (
            "tiny",
            sme::cosim_matrix::matrix()
                .into_iter()
                .find(|(n, _)| *n == "tiny")
                .unwrap()
                .1,
        ),
        (
            "odd",
            sme::cosim_matrix::matrix()
                .into_iter()
                .find(|(n, _)| *n == "odd")
                .unwrap()
                .1,
        ),
        (
            "lossy",
            sme::cosim_matrix::matrix()
                .into_iter()
                .find(|(n, _)| *n == "lossy")
                .unwrap()
                .1,
        ),
    ];
    for (name, params) in small {
        check_dir(
            &params.validate().unwrap(),
            &root().join("tests/golden").join(name),
        );
    }
}

#[test]
fn generation_is_deterministic() {
    let cfg = TileConfig::default_config();
    assert_eq!(generate(&cfg, "sme"), generate(&cfg, "sme"));
    let other = TileParams {
        xbars: Some(4),
        ..Default::default()
    }
    .validate()
    .unwrap();
    assert_ne!(generate(&cfg, "sme"), generate(&other, "sme"));
}

fn sme() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sme"))
}

fn tmpdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sme-test-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[test]
fn cli_gen_writes_refuses_and_reruns_identically() {
    let d = tmpdir("gen");
    let out = sme()
        .args(["gen", "--xbar", "16", "--xbars", "2", "--out"])
        .arg(&d)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("sme_tile.json"), "{stdout}");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("sme_tile.json")).unwrap()).unwrap();
    assert_eq!(manifest["top"], "sme_tile");
    assert_eq!(manifest["config"]["rows"], 16);
    let filelist = std::fs::read_to_string(d.join("sme_tile.f")).unwrap();
    for line in filelist.lines() {
        assert!(
            d.join(line).is_file(),
            "filelist entry {line} is not relative to the output dir"
        );
    }
    let first: Vec<(String, Vec<u8>)> = read_all(&d);
    // Non-empty: refused without --force, nothing changed.
    let again = sme()
        .args(["gen", "--xbar", "16", "--xbars", "2", "--out"])
        .arg(&d)
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    let forced = sme()
        .args(["gen", "--xbar", "16", "--xbars", "2", "--force", "--out"])
        .arg(&d)
        .output()
        .unwrap();
    assert!(forced.status.success());
    assert_eq!(read_all(&d), first, "rerun is not byte-identical");
    std::fs::remove_dir_all(&d).unwrap();
}

/// `gen --tb` adds the testbench: the C++ is `sim/sme_tb.cpp` verbatim, the
/// makefile carries the config's widths, and a rerun is byte-identical.
#[test]
fn cli_gen_tb_writes_the_testbench() {
    let d = tmpdir("gen-tb");
    let args = [
        "gen", "--rows", "12", "--cols", "10", "--ou", "4x5", "--tb", "--force", "--out",
    ];
    let out = sme().args(args).arg(&d).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let first = read_all(&d);
    let cpp = std::fs::read_to_string(d.join("sme_tb.cpp")).unwrap();
    assert_eq!(
        cpp,
        std::fs::read_to_string(root().join("sim/sme_tb.cpp")).unwrap()
    );
    let mk = std::fs::read_to_string(d.join("sme_tb.mk")).unwrap();
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("sme_tile.json")).unwrap()).unwrap();
    let der = &manifest["derived"];
    for (def, key) in [
        ("SME_ACC_BITS", "acc_bits"),
        ("SME_PROG_ADDR_BITS", "prog_addr_bits"),
        ("SME_PROG_DATA_BITS", "prog_data_bits"),
    ] {
        assert!(
            mk.contains(&format!("-D{def}={} ", der[key]))
                || mk.contains(&format!("-D{def}={}\n", der[key])),
            "{def} in {mk}"
        );
    }
    assert!(mk.contains(&format!("-DSME_OUTPUTS={} ", manifest["config"]["outputs"])));
    for f in manifest["files"].as_array().unwrap() {
        assert!(mk.contains(f.as_str().unwrap()), "{f} not in the makefile");
    }
    let again = sme().args(args).arg(&d).output().unwrap();
    assert!(again.status.success());
    assert_eq!(read_all(&d), first, "rerun is not byte-identical");
    std::fs::remove_dir_all(&d).unwrap();
}

/// `sme gen --target sim|fpga|asic` writes each flow's files: the
/// testbench; the block-RAM crossbar under `fpga/`, its filelist, the FPGA
/// Yosys scripts reading it and the nextpnr clock constraints; the ASIC
/// collateral with the crossbar and every memory as black-box stubs and
/// Liberty views.
#[test]
fn cli_gen_targets_write_their_flow_files() {
    let d = tmpdir("gen-target");
    let out = sme()
        .args(["gen", "--xbar", "8", "--ou", "4x4", "--xbars", "2"])
        .args(["--xbar-latency", "2"])
        .args([
            "--target", "sim", "--target", "fpga", "--target", "asic", "--out",
        ])
        .arg(&d)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for f in ["sme_tb.cpp", "sme_tb.mk"] {
        assert!(d.join(f).is_file(), "{f}");
    }
    // iCE40 reads one bank per memory (fpga/), ECP5 and Xilinx two per true
    // dual-port memory (fpga/tdp/).
    for (fam, synth, dir) in [
        ("ice40", "synth_ice40", "fpga"),
        ("ecp5", "synth_ecp5 -nowidelut", "fpga/tdp"),
        ("xilinx", "synth_xilinx -family xc7 -flatten", "fpga/tdp"),
    ] {
        let ys = std::fs::read_to_string(d.join(format!("sme_tile_{fam}.ys"))).unwrap();
        assert!(ys.contains(&format!("\n{synth} -top sme_tile\n")), "{ys}");
        assert!(ys.contains("read_verilog -sv sme_op_ram.sv\n"), "{ys}");
        assert!(
            ys.contains(&format!("read_verilog -sv {dir}/sme_xbar.sv\n")),
            "{ys}"
        );
        assert!(
            ys.contains(&format!("read_verilog -sv {dir}/sme_tile_pkg.sv\n")),
            "{ys}"
        );
        assert!(!ys.contains("read_verilog -sv sme_xbar.sv\n"), "{ys}");
        let write = if fam == "xilinx" {
            "write_edif -pvector bra sme_tile_xilinx.edif".to_string()
        } else {
            format!("write_json sme_tile_{fam}.json")
        };
        assert!(ys.contains(&format!("\n{write}\n")), "{ys}");
    }
    // The FPGA filelist: the sim sources with the package and the crossbar
    // swapped for the fpga target's own, every file present.
    let list = std::fs::read_to_string(d.join("sme_tile_fpga.f")).unwrap();
    let sim = std::fs::read_to_string(d.join("sme_tile.f")).unwrap();
    assert_eq!(list.lines().count(), sim.lines().count() + 1, "{list}");
    for f in list.lines() {
        assert!(d.join(f).is_file(), "{f}");
    }
    for f in [
        "fpga/sme_tile_pkg.sv",
        "fpga/sme_xbar_ram.sv",
        "fpga/sme_xbar.sv",
    ] {
        assert!(list.lines().any(|l| l == f), "{f} not in {list}");
    }
    let tdp = std::fs::read_to_string(d.join("sme_tile_fpga_tdp.f")).unwrap();
    assert_eq!(tdp.lines().count(), list.lines().count(), "{tdp}");
    for f in tdp.lines() {
        assert!(d.join(f).is_file(), "{f}");
    }
    for f in [
        "fpga/tdp/sme_tile_pkg.sv",
        "fpga/tdp/sme_xbar_ram2.sv",
        "fpga/tdp/sme_xbar.sv",
    ] {
        assert!(tdp.lines().any(|l| l == f), "{f} not in {tdp}");
    }
    let xbar = std::fs::read_to_string(d.join("fpga/sme_xbar.sv")).unwrap();
    assert!(xbar.contains("module sme_xbar #("), "{xbar}");
    assert!(xbar.contains("sme_xbar_ram u_ram ("), "{xbar}");
    let clk = std::fs::read_to_string(d.join("sme_tile_ice40_clk.py")).unwrap();
    assert!(clk.contains("ctx.addClock(\"clk_i\", "), "{clk}");
    let sdc = std::fs::read_to_string(d.join("sme_tile_ecp5.sdc")).unwrap();
    assert!(
        sdc.contains("create_clock -period ") && sdc.contains("[get_ports clk_i]"),
        "{sdc}"
    );
    let asic = std::fs::read_to_string(d.join("sme_tile_asic.ys")).unwrap();
    for m in ["sme_op_ram", "sme_acc_ram", "sme_xbar"] {
        assert!(
            asic.contains(&format!("read_verilog -sv {m}_stub.sv\n")),
            "{asic}"
        );
        assert!(!asic.contains(&format!("{m}.sv\n")), "{asic}");
        assert!(d.join(format!("{m}.lib")).is_file(), "{m}.lib");
    }
    assert!(asic.contains("read_verilog -sv sme_tile.sv\n"), "{asic}");
    for f in ["sme_tile_asic.f", "sme_tile.sdc", "sme_tile_sta.tcl"] {
        assert!(d.join(f).is_file(), "{f}");
    }
    std::fs::remove_dir_all(&d).unwrap();
}

fn read_all(d: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn cli_rejects_bad_config_cleanly() {
    let d = tmpdir("bad");
    for (args, needle) in [
        (vec!["--xbar", "5000"], "rows"),
        (vec!["--ou-rows", "0"], "ou_rows"),
        (vec!["--cell-bits", "9"], "cell_bits"),
        (vec!["--dac-bits", "3", "--act-bits", "2"], "dac_bits"),
        (vec!["--ou", "16by8"], "--ou"),
        // The block-RAM crossbar reads synchronously: the flag and its range.
        (vec!["--target", "fpga"], "--xbar-latency 2..=16"),
        (
            vec!["--target", "fpga", "--xbar-latency", "1"],
            "--xbar-latency 2..=16",
        ),
    ] {
        let out = sme()
            .arg("gen")
            .args(&args)
            .arg("--out")
            .arg(&d)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?} accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(!d.exists(), "{args:?} left output behind");
    }
    // Config file with an unknown key and a malformed file.
    let f = std::env::temp_dir().join(format!("sme-bad-{}.toml", std::process::id()));
    for text in ["rows = 64\nbogus = 1\n", "rows = [", "rows = -3\n"] {
        std::fs::write(&f, text).unwrap();
        let out = sme()
            .args(["gen", "--config"])
            .arg(&f)
            .arg("--out")
            .arg(&d)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{text:?} accepted");
        assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
    }
    // A valid file, overridden by a flag.
    std::fs::write(&f, "rows = 32\ncols = 32\nxbars = 2\n").unwrap();
    let out = sme()
        .args(["gen", "--config"])
        .arg(&f)
        .args(["--cols", "24", "--out"])
        .arg(&d)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("sme_tile.json")).unwrap()).unwrap();
    assert_eq!(manifest["config"]["rows"], 32);
    assert_eq!(manifest["config"]["cols"], 24);
    std::fs::remove_dir_all(&d).unwrap();
    std::fs::remove_file(&f).unwrap();
}

#[test]
fn lossy_adc_is_accepted_with_a_warning() {
    let d = tmpdir("lossy");
    let out = sme()
        .args(["gen", "--xbar", "16", "--adc-bits", "3", "--out"])
        .arg(&d)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("lossy"));
    std::fs::remove_dir_all(&d).unwrap();
}

/// Every config of the cosim matrix.
fn matrix_configs() -> Vec<(&'static str, TileConfig)> {
    sme::cosim_matrix::matrix()
        .into_iter()
        .map(|(n, p)| (n, p.validate().unwrap()))
        .collect()
}

/// The code of a line, without its `//` comment.
fn code(line: &str) -> &str {
    line.split("//").next().unwrap()
}

/// The package `<prefix>_tile_pkg.sv` comes first (sources, filelist,
/// manifest), and no module has an overridable parameter: every constant a
/// module uses is a `localparam` bound to the package (so `sme_tile
/// #(.Xbars(4))` cannot elaborate an inconsistent design; tests/lint.rs
/// checks that the tools reject it). Only the package holds numbers.
#[test]
fn package_first_and_no_overridable_parameters() {
    for (name, cfg) in matrix_configs() {
        for prefix in ["sme", "acme"] {
            let b = generate(&cfg, prefix);
            let pkg = format!("{prefix}_tile_pkg");
            assert_eq!(b.sources[0].name, format!("{pkg}.sv"), "{name}");
            assert!(
                b.sources[0].text.contains(&format!("\npackage {pkg};\n")),
                "{name}"
            );
            let filelist = &b.extras[0].text;
            assert_eq!(filelist.lines().next(), Some(format!("{pkg}.sv").as_str()));
            for f in &b.sources {
                for line in f.text.lines().map(code) {
                    assert!(
                        !line
                            .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
                            .any(|w| w == "parameter"),
                        "{name}/{}: overridable parameter: {line}",
                        f.name
                    );
                    if f.name != b.sources[0].name && line.contains("localparam") {
                        // `localparam int X = <pkg>::Y` (one place per number).
                        let rhs = line.split('=').nth(1).unwrap_or("").trim();
                        assert!(
                            rhs.starts_with(&format!("{pkg}::")),
                            "{name}/{}: localparam not from {pkg}: {line}",
                            f.name
                        );
                    }
                }
            }
        }
    }
}

/// The top's ports, the manifest's ports and the testbench makefile's
/// defines all come from the one port table (`sme::iface::PORTS`); the region
/// codes of the package are the table's.
#[test]
fn ports_and_regions_render_from_the_table() {
    use sme::iface::{PORTS, REGION_BITS, region};
    for (name, cfg) in matrix_configs() {
        let b = generate(&cfg, DEFAULT_PREFIX);
        let top = &b.sources.last().unwrap().text;
        let header = top.split(");\n").next().unwrap();
        let decls: Vec<(&str, &str)> = header
            .lines()
            .map(code)
            .filter(|l| {
                l.trim_start().starts_with("input ") || l.trim_start().starts_with("output ")
            })
            .map(|l| {
                let mut w = l.split_whitespace();
                (w.next().unwrap(), w.last().unwrap().trim_end_matches(','))
            })
            .collect();
        let table: Vec<(&str, &str)> = PORTS.iter().map(|p| (p.dir.sv(), p.name)).collect();
        assert_eq!(decls, table, "{name}");
        let manifest: serde_json::Value = serde_json::from_str(&b.extras[1].text).unwrap();
        for (m, p) in manifest["ports"]
            .as_array()
            .unwrap()
            .iter()
            .zip(PORTS.iter())
        {
            assert_eq!(m["name"], p.name);
            assert_eq!(m["width"], p.width.bits(&cfg));
        }
        let pkg = &b.sources[0].text;
        for r in region::ALL {
            assert!(
                pkg.contains(&format!(
                    "localparam logic [RegionW-1:0] {} = {REGION_BITS}'d{};",
                    r.sv_name, r.code
                )),
                "{name}: {}",
                r.name
            );
        }
        let mk = sme::rtlgen::testbench_makefile(&cfg, DEFAULT_PREFIX, &b.sources);
        for p in PORTS {
            if let Some(def) = p.width.c_define() {
                assert!(
                    mk.contains(&format!(" -D{def}={}", p.width.bits(&cfg))),
                    "{def}"
                );
            }
        }
    }
    // The shim's ports come from the generated header, not from sim/shim.inc.
    let shim = std::fs::read_to_string(root().join("sim/shim.inc")).unwrap();
    let h = sme::iface::shim_ports_header();
    for p in PORTS {
        assert!(!shim.contains(p.name), "sim/shim.inc names port {}", p.name);
        assert!(
            h.contains(&format!("X({}, {})", p.number(), p.name)),
            "{}",
            p.name
        );
    }
}

/// README's interface section states every behaviour of the manifest
/// (`sme::iface::BEHAVIOURS`) with the same result and detail.
#[test]
fn readme_states_every_interface_behaviour() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    for b in sme::iface::BEHAVIOURS {
        let row = format!("| `{}` | {} | {} |", b.key, b.result, b.detail);
        assert!(readme.contains(&row), "README lacks the row: {row}");
        assert!(
            b.result == "undefined" || !b.tested_by.is_empty(),
            "{}: a defined behaviour names its test",
            b.key
        );
    }
    let cfg = TileConfig::default_config();
    let b = generate(&cfg, DEFAULT_PREFIX);
    let m: serde_json::Value = serde_json::from_str(&b.extras[1].text).unwrap();
    assert_eq!(
        m["behaviour"].as_object().unwrap().len(),
        sme::iface::BEHAVIOURS.len()
    );
}
