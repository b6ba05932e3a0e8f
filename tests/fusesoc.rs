//! FuseSoC itself runs the generated core file `<prefix>_tile.core`: the
//! Verilator lint targets of the tile and of the AXI4-Lite wrapper, the
//! Icarus `sim` target and (on a 4x4 tile) Yosys `synth_ice40`. Needs
//! `fusesoc` on PATH (scripts/test installs it with pip); a missing FuseSoC
//! fails the test, it never skips.

use std::path::Path;
use std::process::Command;

fn sme() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sme"))
}

fn fusesoc(cores: &Path, work: &Path, target: &str) -> std::process::Output {
    Command::new("fusesoc")
        .current_dir(work)
        .arg("--cores-root")
        .arg(cores)
        .args(["run", "--target", target])
        .arg(sme::rtlgen::core_name("sme"))
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "fusesoc not runnable ({e}): install it with `pip install fusesoc` (scripts/test does)"
            )
        })
}

#[test]
fn fusesoc_runs_the_generated_core() {
    let dir = tempfile::tempdir().unwrap();
    let rtl = dir.path().join("rtl");
    let work = dir.path().join("work");
    std::fs::create_dir(&work).unwrap();
    let o = sme()
        .args(["gen", "--xbar", "8", "--ou", "4x4", "--xbars", "2"])
        .args([
            "--inputs",
            "16",
            "--outputs",
            "8",
            "--xbar-latency",
            "2",
            "--target",
            "fpga",
            "--target",
            "sim",
        ])
        .arg("--out")
        .arg(&rtl)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let core = std::fs::read_to_string(rtl.join("sme_tile.core")).unwrap();
    // Every file the core names exists beside it, and every generated
    // Verilog file is in a fileset.
    for line in core.lines() {
        let t = line.trim();
        if let Some(f) = t.strip_prefix("- ") {
            let f = f.split(':').next().unwrap();
            assert!(
                rtl.join(f).is_file(),
                "the core names {f}, which gen did not write"
            );
        }
    }
    for e in std::fs::read_dir(&rtl).unwrap() {
        let n = e.unwrap().file_name().to_string_lossy().into_owned();
        if n.ends_with(".sv") {
            assert!(core.contains(&format!("- {n}\n")), "{n} is in no fileset");
        }
    }
    assert!(core.contains("fpga_scripts"), "{core}");
    for target in ["lint", "lint_axil", "sim"] {
        let o = fusesoc(&rtl, &work, target);
        assert!(
            o.status.success(),
            "fusesoc run --target {target}:\n{}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
    }
    // The lint target really runs Verilator -Wall on the tile: a signal
    // nobody drives or reads in one module makes it fail.
    let adc = rtl.join("sme_adc.sv");
    let text = std::fs::read_to_string(&adc).unwrap();
    std::fs::write(
        &adc,
        text.replace("endmodule", "  logic lint_probe;\nendmodule"),
    )
    .unwrap();
    let work2 = dir.path().join("work2");
    std::fs::create_dir(&work2).unwrap();
    let o = fusesoc(&rtl, &work2, "lint");
    assert!(
        !o.status.success(),
        "the lint target passed a module with an undriven, unused signal"
    );
    std::fs::write(&adc, text).unwrap();
    // Yosys synth_ice40 through FuseSoC on a 4x4 tile writes the netlist.
    let rtl4 = dir.path().join("rtl4");
    let o = sme()
        .args(["gen", "--xbar", "4", "--ou", "2x2", "--xbars", "1"])
        .args(["--inputs", "4", "--outputs", "4", "--out"])
        .arg(&rtl4)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let work4 = dir.path().join("work4");
    std::fs::create_dir(&work4).unwrap();
    let o = fusesoc(&rtl4, &work4, "synth_ice40");
    assert!(
        o.status.success(),
        "fusesoc run --target synth_ice40:\n{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let netlist = work4
        .join("build")
        .join(format!("sme_tile_sme_tile_{}", env!("CARGO_PKG_VERSION")))
        .join("synth_ice40-yosys")
        .join(format!(
            "sme_tile_sme_tile_{}.json",
            env!("CARGO_PKG_VERSION")
        ));
    let n =
        std::fs::read_to_string(&netlist).unwrap_or_else(|e| panic!("{}: {e}", netlist.display()));
    assert!(
        n.contains("SB_LUT4"),
        "no iCE40 cells in {}",
        netlist.display()
    );
    // Without --target fpga the core names no FPGA script.
    let rtl2 = dir.path().join("rtl2");
    let o = sme()
        .args(["gen", "--xbar", "8", "--ou", "4x4", "--xbars", "2", "--out"])
        .arg(&rtl2)
        .output()
        .unwrap();
    assert!(o.status.success());
    let core2 = std::fs::read_to_string(rtl2.join("sme_tile.core")).unwrap();
    assert!(
        !core2.contains("fpga_scripts") && !core2.contains("- sme_tile_ice40.ys"),
        "{core2}"
    );
}
