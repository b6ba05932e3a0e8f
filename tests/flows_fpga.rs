//! The fpga target's cheap flow check: a small tile (one 32x32 crossbar,
//! 256-op memory) generated with `sme gen --target fpga`, synthesized by its
//! own `sme_tile_ice40.ys` (`synth_ice40`) and placed and routed by
//! `nextpnr-ice40` (HX8K, CT256, the generated pin-free clock constraint).
//! Every crossbar bank and the op memory are `SB_RAM40_4K` (the count is
//! exact: one per bank, ceil(OpW / 16) for the 256 x 16 op memory), no
//! memory became a list of registers, and nextpnr routes the design with
//! the same block-RAM count and reports an Fmax for `clk_i`. The same
//! config through the generated `sme_tile_ecp5.ys` and `sme_tile_xilinx.ys`
//! maps every memory to RAM primitives of those families (crossbar banks to
//! block RAM). Needs Yosys and nextpnr-ice40 (feature `cosim`; scripts/test
//! installs them).
#![cfg(feature = "cosim")]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn scratch(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sme-flows-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// The value of `localparam int NAME = V;` in a generated package.
fn pkg_const(pkg: &str, name: &str) -> u64 {
    let pat = format!("localparam int {name} ");
    let line = pkg
        .lines()
        .find(|l| l.trim_start().starts_with(&pat))
        .unwrap_or_else(|| panic!("{name} not in the package"));
    line.split('=')
        .nth(1)
        .unwrap()
        .trim()
        .trim_end_matches(';')
        .parse()
        .unwrap()
}

/// `sme gen --target fpga` of the test's config with `outputs` output
/// entries into `dir`.
fn gen_fpga(dir: &Path, outputs: &str) {
    let out = Command::new(env!("CARGO_BIN_EXE_sme"))
        .args([
            "gen", "--xbar", "32", "--ou", "8x4", "--xbars", "1", "--ops", "256",
        ])
        .args([
            "--inputs",
            "16",
            "--outputs",
            outputs,
            "--xbar-latency",
            "2",
        ])
        .args(["--target", "fpga", "--out"])
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The memories of the test's config (one crossbar) in Yosys' hierarchical
/// names: crossbar banks, op memory, accumulator memories and their
/// live-bit words.
fn memories(dir: &Path) -> Vec<String> {
    // The ECP5 and Xilinx scripts read the fpga/tdp variant: two banks per
    // true dual-port memory.
    let pkg = std::fs::read_to_string(dir.join("fpga/tdp/sme_tile_pkg.sv")).unwrap();
    assert_eq!(pkg_const(&pkg, "Xbars"), 1);
    let mut m: Vec<String> = (0..pkg_const(&pkg, "XbarPairs"))
        .map(|p| format!("sme_tile.gen_xbar[0].u_xbar.gen_pair[{p}].u_ram.mem_q"))
        .collect();
    m.push("sme_tile.u_ctrl.gen_xbar[0].u_op_ram.mem_q".into());
    for l in 0..pkg_const(&pkg, "OuCols") {
        m.push(format!(
            "sme_tile.gen_xbar[0].u_accum.gen_lane[{l}].u_acc_ram.mem_q"
        ));
        m.push(format!(
            "sme_tile.gen_xbar[0].u_accum.gen_lane[{l}].live_word_q"
        ));
    }
    m
}

#[test]
fn ice40_synth_and_place_route_with_block_ram_crossbar() {
    let dir = scratch("ice40");
    gen_fpga(&dir, "8");
    let pkg = std::fs::read_to_string(dir.join("fpga/sme_tile_pkg.sv")).unwrap();
    let (xbars, banks, op_w) = (
        pkg_const(&pkg, "Xbars"),
        pkg_const(&pkg, "XbarBanks"),
        pkg_const(&pkg, "OpW"),
    );
    let (ou_cols, acc_w, outputs) = (
        pkg_const(&pkg, "OuCols"),
        pkg_const(&pkg, "AccW"),
        pkg_const(&pkg, "Outputs"),
    );
    // Crossbar banks, op memories (16-bit wide blocks) and one accumulator
    // memory per crossbar and OU column (256 x 16 blocks).
    let acc_ram = xbars * ou_cols * acc_w.div_ceil(16) * outputs.div_ceil(256);
    let expect_ram = xbars * banks + xbars * op_w.div_ceil(16) + acc_ram;

    let log = common::yosys_keeping_memories(
        &dir,
        "sme_tile_ice40.ys",
        "yosys.log",
        // The accumulators' live-bit words need asynchronous reads, which
        // iCE40 RAM lacks: flip-flops there (LUT RAM on ECP5 and Xilinx).
        &["live_word_q"],
    );
    let stat = &log[log.rfind("Number of cells:").unwrap()..];
    let ram: u64 = stat
        .lines()
        .find_map(|l| l.trim().strip_prefix("SB_RAM40_4K"))
        .map(|n| n.trim().parse().unwrap())
        .unwrap_or(0);
    assert_eq!(
        ram, expect_ram,
        "SB_RAM40_4K: {xbars} crossbar(s) x {banks} banks + {xbars} op memories of {op_w} bits + {acc_ram} accumulator blocks"
    );

    // nextpnr's placer can stall on a particular seed (seen: seed 1 on this
    // config ran for minutes while seed 2 finished in seconds), so every
    // attempt runs under `timeout` and the next seed is tried; the test fails
    // only when no seed routes within its limit. Seed 2 first: it routes
    // this config in seconds.
    common::need("nextpnr-ice40", "--version", "nextpnr-ice40");
    let mut log = String::new();
    let mut routed = false;
    for seed in ["2", "1", "3", "4"] {
        let out = Command::new("timeout")
            .current_dir(&dir)
            .args(["120", "nextpnr-ice40", "--hx8k", "--package", "ct256"])
            .args(["--seed", seed, "--json", "sme_tile_ice40.json"])
            .args(["--pre-pack", "sme_tile_ice40_clk.py", "--timing-allow-fail"])
            .args(["--report", "report.json", "-q"])
            .output()
            .unwrap();
        if out.status.success() {
            routed = true;
            break;
        }
        log.push_str(&format!(
            "seed {seed}: {:?}\n{}\n",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    assert!(routed, "nextpnr-ice40 (timeout 120 s per seed):\n{log}");
    let rep: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(
        rep["utilization"]["ICESTORM_RAM"]["used"], expect_ram,
        "{rep}"
    );
    let fmax = rep["fmax"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(k, _)| k.contains("clk_i"))
        .map(|(_, v)| v["achieved"].as_f64().unwrap())
        .expect("an Fmax for clk_i");
    assert!(fmax > 10.0, "Fmax {fmax} MHz");
    println!("iCE40 HX8K: {ram} SB_RAM40_4K, Fmax clk_i {fmax:.1} MHz");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// ECP5 and Xilinx 7-series: the generated scripts map every memory of the
/// config to that family's RAM (memory_libmap's "mapping memory ... via"),
/// none to flip-flops, and the crossbar bank pairs (the `fpga/tdp` variant
/// these scripts read: two banks per true dual-port memory, `ram_style =
/// "block"`) to block RAM: one `DP16KD` / `RAMB18E1` each at least.
#[test]
fn ecp5_and_xilinx_map_every_memory_to_ram() {
    let dir = scratch("ecp5-xc7");
    // 256 outputs (the default tile's): live-bit words of 16 x 16 bits,
    // which both families put in LUT RAM (at 8 outputs they are 4 x 2 bits,
    // cheaper as flip-flops, and Yosys rightly makes them so).
    gen_fpga(&dir, "256");
    let mems = memories(&dir);
    let pkg = std::fs::read_to_string(dir.join("fpga/tdp/sme_tile_pkg.sv")).unwrap();
    let pairs = pkg_const(&pkg, "XbarPairs");
    for (fam, bram, bram_map) in [
        ("ecp5", vec!["DP16KD"], "$__ECP5_DP16KD_"),
        ("xilinx", vec!["RAMB18E1", "RAMB36E1"], "$__XILINX_BLOCKRAM"),
    ] {
        let log = common::yosys_keeping_memories(
            &dir,
            &format!("sme_tile_{fam}.ys"),
            &format!("yosys_{fam}.log"),
            &[],
        );
        for m in &mems {
            let via = format!("mapping memory {m} via ");
            let line = log
                .lines()
                .find(|l| l.contains(&via))
                .unwrap_or_else(|| panic!("{fam}: {m} not mapped to a RAM primitive"));
            if m.contains("u_xbar") {
                assert!(
                    line.contains(bram_map),
                    "{fam}: crossbar bank not block RAM: {line}"
                );
            }
        }
        let stat = &log[log.rfind("Number of cells:").unwrap()..];
        let n: u64 = stat
            .lines()
            .filter_map(|l| {
                let mut w = l.split_whitespace();
                let cell = w.next()?;
                bram.contains(&cell)
                    .then(|| w.next()?.parse::<u64>().ok())?
            })
            .sum();
        assert!(
            n >= pairs,
            "{fam}: {n} block RAMs for {pairs} crossbar bank pairs"
        );
        assert!(
            dir.join(format!(
                "sme_tile_{fam}.{}",
                if fam == "xilinx" { "edif" } else { "json" }
            ))
            .is_file()
        );
        println!("{fam}: {n} block RAM cells ({bram:?})");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
