//! Lint and portability over a parameter grid (the co-simulation matrix,
//! whose `fpga_*` entries use the fpga target's block-RAM crossbar, and
//! more): `verilator --lint-only -Wall` (one waiver: the package's
//! `OutLatency`, for hosts, is read by no module), `iverilog -g2012`, and
//! Yosys `synth` + `check -assert` with an assertion that no latch exists;
//! `synth_ice40` infers block RAM for the op and accumulator memories.
//! Needs the HDL tools (feature `cosim`;
//! scripts/test installs them); a missing tool fails the test loudly.
#![cfg(feature = "cosim")]

mod common;

use sme::config::{TileConfig, TileParams};
use sme::rtlgen::generate;
use std::path::{Path, PathBuf};
use std::process::Command;

fn tool(name: &str) -> Command {
    common::need(
        name,
        if name == "iverilog" {
            "-V"
        } else {
            "--version"
        },
        name,
    );
    Command::new(name)
}

fn p(f: impl FnOnce(&mut TileParams)) -> TileConfig {
    let mut t = TileParams::default();
    f(&mut t);
    t.validate().unwrap()
}

/// The grid: default, odd sizes, OU shapes, MLC, DAC widths, lossy and
/// over-wide ADCs, Q/A extremes, one crossbar, one op, one input/output.
fn grid() -> Vec<(String, TileConfig)> {
    let mut g: Vec<(String, TileConfig)> = sme::cosim_matrix::matrix()
        .into_iter()
        .map(|(n, t)| (n.to_string(), t.validate().unwrap()))
        .collect();
    // The largest legal value of every parameter (config::limits), each in
    // a config that stays quick to lint: I/O and op depth at 65536; the
    // largest crossbar; the widest bits, OU and read latency; the most
    // crossbars; more than 1024 gather lanes (the split generate loop).
    g.push((
        "max_io".into(),
        p(|t| {
            t.xbar = Some(16);
            t.xbars = Some(1);
            t.inputs = Some(65536);
            t.outputs = Some(65536);
            t.ops = Some(65536);
        }),
    ));
    g.push(("max_xbar".into(), p(|t| t.xbar = Some(1024))));
    g.push((
        "max_bits".into(),
        p(|t| {
            t.xbar = Some(128);
            t.ou_rows = Some(128);
            t.ou_cols = Some(128);
            t.xbars = Some(2);
            t.cell_bits = Some(4);
            t.weight_bits = Some(16);
            t.act_bits = Some(16);
            t.dac_bits = Some(8);
            t.adc_bits = Some(32);
            t.xbar_latency = Some(16);
        }),
    ));
    g.push((
        "max_xbars".into(),
        p(|t| {
            t.xbar = Some(16);
            t.xbars = Some(64);
        }),
    ));
    g.push((
        "lanes_1152".into(),
        p(|t| {
            t.rows = Some(128);
            t.cols = Some(8);
            t.ou_rows = Some(128);
            t.ou_cols = Some(1);
            t.xbars = Some(9);
            t.inputs = Some(128);
            t.outputs = Some(16);
        }),
    ));
    g.push((
        "x64_c4".into(),
        p(|t| {
            t.rows = Some(64);
            t.cols = Some(64);
            t.cell_bits = Some(4);
            t.ou_rows = Some(9);
            t.ou_cols = Some(8);
        }),
    ));
    g.push((
        "x7x33".into(),
        p(|t| {
            t.rows = Some(7);
            t.cols = Some(33);
            t.ou_rows = Some(7);
            t.ou_cols = Some(33);
            t.xbars = Some(1);
            t.inputs = Some(7);
            t.outputs = Some(33);
        }),
    ));
    g.push((
        "adc_wide".into(),
        p(|t| {
            t.rows = Some(16);
            t.cols = Some(16);
            t.adc_bits = Some(12);
            t.xbars = Some(2);
            t.inputs = Some(16);
            t.outputs = Some(16);
        }),
    ));
    g.push((
        "d_eq_a".into(),
        p(|t| {
            t.rows = Some(12);
            t.cols = Some(10);
            t.act_bits = Some(4);
            t.dac_bits = Some(4);
            t.ou_rows = Some(3);
            t.ou_cols = Some(2);
            t.xbars = Some(3);
            t.inputs = Some(13);
            t.outputs = Some(11);
        }),
    ));
    g.push((
        "q2_a1".into(),
        p(|t| {
            t.rows = Some(5);
            t.cols = Some(6);
            t.weight_bits = Some(2);
            t.act_bits = Some(1);
            t.ou_rows = Some(2);
            t.ou_cols = Some(4);
            t.xbars = Some(2);
            t.inputs = Some(3);
            t.outputs = Some(2);
            t.ops = Some(2);
        }),
    ));
    g
}

fn write(dir: &Path, cfg: &TileConfig) {
    std::fs::create_dir_all(dir).unwrap();
    for f in generate(cfg, "sme").files() {
        std::fs::write(dir.join(&f.name), &f.text).unwrap();
    }
}

fn sources(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_to_string(dir.join("sme_tile.f"))
        .unwrap()
        .lines()
        .map(|l| dir.join(l))
        .collect()
}

/// The AXI4-Lite wrapper's files (its package, then the module).
fn wrapper_sources(dir: &Path) -> Vec<PathBuf> {
    ["sme_tile_axil_pkg.sv", "sme_tile_axil.sv"]
        .iter()
        .map(|f| dir.join(f))
        .collect()
}

fn scratch(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sme-lint-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[test]
fn verilator_lint_wall_and_iverilog_over_grid() {
    let root = scratch("grid");
    for (name, cfg) in grid() {
        let dir = root.join(&name);
        write(&dir, &cfg);
        // `fpga_*` entries: the fpga target's sources (block-RAM crossbar).
        let (fpga, tdp) = (
            sme::cosim_matrix::fpga_xbar(&name),
            sme::cosim_matrix::fpga_tdp(&name),
        );
        let paths = if fpga || tdp {
            let v = if tdp {
                sme::rtlgen::fpga_verilog_tdp(&cfg, "sme")
            } else {
                sme::rtlgen::fpga_verilog(&cfg, "sme")
            };
            for f in &v {
                let path = dir.join(&f.name);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(&path, &f.text).unwrap();
            }
            v.iter().map(|f| dir.join(&f.name)).collect()
        } else {
            sources(&dir)
        };
        let out = tool("verilator")
            .args(["--lint-only", "-Wall", "--top-module", "sme_tile"])
            .args(&paths)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "verilator -Wall on {name}:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = tool("iverilog")
            .args(["-g2012", "-s", "sme_tile", "-o"])
            .arg(dir.join("a.vvp"))
            .args(&paths)
            .output()
            .unwrap();
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "iverilog -g2012 on {name}:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // The AXI4-Lite wrapper around the tile.
        let out = tool("verilator")
            .args(["--lint-only", "-Wall", "--top-module", "sme_tile_axil"])
            .args(sources(&dir))
            .args(wrapper_sources(&dir))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "verilator -Wall on the AXI4-Lite wrapper of {name}:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = tool("iverilog")
            .args(["-g2012", "-s", "sme_tile_axil", "-o"])
            .arg(dir.join("w.vvp"))
            .args(sources(&dir))
            .args(wrapper_sources(&dir))
            .output()
            .unwrap();
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "iverilog -g2012 on the AXI4-Lite wrapper of {name}:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    std::fs::remove_dir_all(&root).unwrap();
}

fn yosys(dir: &Path) -> std::process::Output {
    tool("yosys")
        .current_dir(dir)
        .args(["-q", "-s", "sme_tile.ys"])
        .output()
        .unwrap()
}

#[test]
fn yosys_synthesizes_without_latches() {
    let root = scratch("yosys");
    for (name, cfg) in grid() {
        // Synthesis flattens every crossbar cell into flops and takes tens of
        // seconds per config: a few small ones that cover a lossy ADC, odd
        // sizes, D = A and the smallest tile.
        if !["tiny", "lossy", "d_eq_a", "q2_a1"].contains(&name.as_str()) {
            continue;
        }
        let dir = root.join(&name);
        write(&dir, &cfg);
        let out = yosys(&dir);
        assert!(
            out.status.success(),
            "yosys on {name}:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        if name == "tiny" {
            // The AXI4-Lite wrapper: synthesizes, no latches, clean check.
            let mut script = String::new();
            for f in sources(&dir).iter().chain(wrapper_sources(&dir).iter()) {
                script.push_str(&format!("read_verilog -sv {}\n", f.display()));
            }
            script.push_str(
                "synth -top sme_tile_axil\n\
                 select -assert-none t:$dlatch t:$adlatch t:$dlatchsr t:$_DLATCH_*_ t:$_DLATCHSR_*_\n\
                 check -assert\n",
            );
            std::fs::write(dir.join("axil.ys"), script).unwrap();
            let out = tool("yosys")
                .current_dir(&dir)
                .args(["-q", "-s", "axil.ys"])
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "yosys on the AXI4-Lite wrapper of {name}:\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    std::fs::remove_dir_all(&root).unwrap();
}

/// The latch assertion in the generated Yosys script really fires on a latch.
#[test]
fn yosys_script_catches_a_latch() {
    let dir = scratch("latch");
    let cfg = sme::cosim_matrix::matrix()
        .into_iter()
        .find(|(n, _)| *n == "lossy")
        .unwrap()
        .1
        .validate()
        .unwrap();
    write(&dir, &cfg);
    let (sum, adc) = (
        cfg.params.ou_cols * cfg.derived.sum_bits,
        cfg.params.ou_cols * cfg.params.adc_bits,
    );
    // Replace the ADC with one that holds its output in a latch.
    std::fs::write(
        dir.join("sme_adc.sv"),
        format!(
            "module sme_adc (input logic [{s}:0] sum_i, output logic [{a}:0] code_o);\n  \
             always_latch if (sum_i[0]) code_o = sum_i[{s}:{lo}];\nendmodule\n",
            s = sum - 1,
            a = adc - 1,
            lo = sum - adc
        ),
    )
    .unwrap();
    let out = yosys(&dir);
    assert!(
        !out.status.success(),
        "a latch passed the generated Yosys script"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A wrapper around the top: every port connected, widths from the package.
fn wrapper(pkg: &str, override_: &str) -> String {
    use sme::iface::PORTS;
    let mut s = String::from("`default_nettype none\nmodule wrap (\n");
    let decls: Vec<String> = PORTS
        .iter()
        .map(|p| {
            let range = p
                .width
                .sv_param()
                .map(|w| format!("[{pkg}::{w}-1:0] "))
                .unwrap_or_default();
            format!("  {} logic {range}{}", p.dir.sv(), p.name)
        })
        .collect();
    s.push_str(&decls.join(",\n"));
    s.push_str(&format!("\n);\n  sme_tile {override_}u_tile (\n"));
    let conns: Vec<String> = PORTS
        .iter()
        .map(|p| format!("    .{0} ({0})", p.name))
        .collect();
    s.push_str(&conns.join(",\n"));
    s.push_str("\n  );\nendmodule\n`default_nettype wire\n");
    s
}

/// The generated top cannot be configured inconsistently: it has no
/// overridable parameter at all (every module binds the constants of
/// `sme_tile_pkg` to localparams), so the only way to another config is to
/// regenerate. A wrapper that instantiates the top lints clean; one that
/// tries `#(.Xbars(4))` is rejected by Verilator (and warned about by
/// Icarus) instead of elaborating a silently inconsistent design.
#[test]
fn top_has_no_overridable_parameter() {
    let dir = scratch("override");
    let cfg = sme::cosim_matrix::matrix()
        .into_iter()
        .find(|(n, _)| *n == "odd")
        .unwrap()
        .1
        .validate()
        .unwrap();
    write(&dir, &cfg);
    let run = |wrap: &str| {
        std::fs::write(dir.join("wrap.sv"), wrap).unwrap();
        let mut files = sources(&dir);
        files.push(dir.join("wrap.sv"));
        let v = tool("verilator")
            .args(["--lint-only", "-Wall", "--top-module", "wrap"])
            .args(&files)
            .output()
            .unwrap();
        let i = tool("iverilog")
            .args(["-g2012", "-s", "wrap", "-o"])
            .arg(dir.join("a.vvp"))
            .args(&files)
            .output()
            .unwrap();
        (v, i)
    };
    let (v, i) = run(&wrapper("sme_tile_pkg", ""));
    assert!(
        v.status.success(),
        "verilator on the plain wrapper:\n{}",
        String::from_utf8_lossy(&v.stderr)
    );
    assert!(
        i.status.success() && i.stderr.is_empty(),
        "iverilog on the plain wrapper:\n{}",
        String::from_utf8_lossy(&i.stderr)
    );
    let (v, i) = run(&wrapper("sme_tile_pkg", "#(.Xbars(4)) "));
    let err = String::from_utf8_lossy(&v.stderr);
    assert!(
        !v.status.success() && err.contains("non-parameter"),
        "verilator accepted overriding Xbars:\n{err}"
    );
    let err = String::from_utf8_lossy(&i.stderr);
    assert!(
        err.contains("Xbars") && err.contains("not found"),
        "iverilog silently accepted overriding Xbars:\n{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// FPGA flow: `synth_ice40` on a small config maps every op memory
/// (`sme_op_ram`) and every accumulator memory (`sme_acc_ram`, one per
/// crossbar and OU column) to iCE40 block RAM, turns no memory into a list
/// of registers behind the designer's back, and builds no latch.
#[test]
fn synth_ice40_infers_block_ram_without_latches() {
    let dir = scratch("ice40");
    let cfg = p(|t| {
        t.rows = Some(8);
        t.cols = Some(8);
        t.ou_rows = Some(4);
        t.ou_cols = Some(4);
        t.xbars = Some(2);
        t.ops = Some(256);
        t.inputs = Some(8);
        t.outputs = Some(8);
    });
    write(&dir, &cfg);
    let mut ys = String::new();
    for f in generate(&cfg, "sme").sources {
        ys.push_str(&format!("read_verilog -sv {}\n", f.name));
    }
    ys.push_str(
        "synth_ice40 -top sme_tile\n\
         select -assert-none t:$dlatch t:$adlatch t:$dlatchsr t:$_DLATCH_*_ t:$_DLATCHSR_*_\n\
         select -assert-min 1 t:SB_RAM40_4K\n\
         stat\n",
    );
    std::fs::write(dir.join("ice40.ys"), ys).unwrap();
    let log = common::yosys_keeping_memories(
        &dir,
        "ice40.ys",
        "ice40.log",
        // The sim target's behavioral crossbar cells are registers by
        // design (every OU row is read each cycle; the fpga target puts
        // them in block RAM banks, tests/flows_fpga.rs); the accumulators'
        // live-bit words need asynchronous reads, which iCE40 RAM lacks
        // (ECP5 and Xilinx map them to LUT RAM, tests/flows_fpga.rs).
        &["u_xbar.mem_q", "live_word_q"],
    );
    // Both op memories (256 words each) and all 2 x 4 accumulator memories
    // (8 entries each) are block RAM, not flops.
    let mut rams = vec![];
    for j in 0..2 {
        rams.push(format!("sme_tile.u_ctrl.gen_xbar[{j}].u_op_ram.mem_q"));
        for l in 0..4 {
            rams.push(format!(
                "sme_tile.gen_xbar[{j}].u_accum.gen_lane[{l}].u_acc_ram.mem_q"
            ));
        }
    }
    for m in &rams {
        let ff = format!("using FF mapping for memory {m}");
        assert!(!log.contains(&ff), "{ff}");
        let bram = format!("mapping memory {m} via $__ICE40_RAM4K_");
        assert!(log.contains(&bram), "not block RAM: {m}");
    }
    // At least one SB_RAM40_4K per memory in the final statistics.
    let brams: usize = log
        .lines()
        .rev()
        .find_map(|l| {
            let mut w = l.split_whitespace();
            (w.next() == Some("SB_RAM40_4K")).then(|| w.next()?.parse().ok())?
        })
        .expect("SB_RAM40_4K count in the statistics");
    assert!(
        brams >= rams.len(),
        "{brams} SB_RAM40_4K for {} memories",
        rams.len()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
