//! `sme gen`: write the tile RTL and its collateral.

use super::ConfigArgs;
use crate::cost::PresetName;
use crate::{outdir, rtlgen};
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;

/// Arguments of `sme gen`.
#[derive(Args, Debug)]
pub struct GenArgs {
    /// Tile configuration.
    #[command(flatten)]
    pub cfg: ConfigArgs,
    /// Output directory.
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
    /// Module-name prefix (the top is `<prefix>_tile`).
    #[arg(long, default_value = rtlgen::DEFAULT_PREFIX)]
    pub prefix: String,
    /// Overwrite files in a non-empty output directory.
    #[arg(long)]
    pub force: bool,
    /// Also write the standalone Verilator testbench (`sme_tb.cpp`,
    /// `sme_tb.mk`) beside the RTL.
    #[arg(long)]
    pub tb: bool,
    /// Also write the files of a flow: `sim` (the testbench, as `--tb`),
    /// `fpga` (the block-RAM crossbar under `fpga/` and its banks,
    /// `<top>_fpga.f`, the two-banks-per-memory variant under `fpga/tdp/`
    /// and `<top>_fpga_tdp.f`, `<top>_ice40.ys`, `<top>_ecp5.ys`, `<top>_xilinx.ys`, nextpnr clock
    /// constraints; needs --xbar-latency >= 2), `asic` (crossbar and
    /// memories as hard macros: stubs, `<top>_asic.f`, Liberty views,
    /// `<top>.sdc`, `<top>_asic.ys`, `<top>_sta.tcl`). Repeatable.
    #[arg(long, value_enum)]
    pub target: Vec<TargetArg>,
    /// Clock period in ns for the `asic` target (SDC, macro timing
    /// estimates); 0.1..=10000.
    #[arg(long, value_name = "NS", default_value_t = rtlgen::DEFAULT_CLOCK_NS, value_parser = parse_clock_ns)]
    pub clock_ns: f64,
    /// Standard-cell Liberty file the `asic` target's Yosys and OpenSTA
    /// scripts use, written into them as given (relative paths are seen
    /// from the output directory).
    #[arg(long, value_name = "FILE", default_value = rtlgen::DEFAULT_LIBERTY)]
    pub liberty: String,
    /// Buffer cell of the `--liberty` library that the `asic` target's ABC
    /// constraint file names: it drives the mapped logic's inputs and
    /// buffers high-fanout nets.
    #[arg(long, value_name = "CELL", default_value = rtlgen::DEFAULT_DRIVE_CELL)]
    pub drive_cell: String,
    /// Cost model preset of the `asic` target's crossbar macro view (area,
    /// read energy).
    #[arg(long, value_enum, default_value_t = PresetName::Isaac32)]
    pub preset: PresetName,
}

/// Parse and check `--clock-ns`.
fn parse_clock_ns(s: &str) -> Result<f64, String> {
    let ns: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("invalid clock period `{s}`: expected a number of ns"))?;
    rtlgen::check_clock_ns(ns)?;
    Ok(ns)
}

/// `--target` values (see [`rtlgen::Target`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum TargetArg {
    /// The standalone Verilator testbench (as `--tb`).
    Sim,
    /// The block-RAM crossbar, Yosys scripts for synth_ice40 and synth_ecp5,
    /// nextpnr clock constraints (needs --xbar-latency >= 2).
    Fpga,
    /// Hard-macro stubs and Liberty views, SDC, Yosys and OpenSTA scripts.
    Asic,
}

impl From<TargetArg> for rtlgen::Target {
    fn from(t: TargetArg) -> Self {
        match t {
            TargetArg::Sim => rtlgen::Target::Sim,
            TargetArg::Fpga => rtlgen::Target::Fpga,
            TargetArg::Asic => rtlgen::Target::Asic,
        }
    }
}

/// Run `sme gen`.
pub fn run(a: &GenArgs) -> Result<()> {
    let cfg = a.cfg.validated()?;
    rtlgen::check_prefix(&a.prefix).map_err(anyhow::Error::msg)?;
    rtlgen::check_liberty(&a.liberty).map_err(anyhow::Error::msg)?;
    rtlgen::check_drive_cell(&a.drive_cell).map_err(anyhow::Error::msg)?;
    let asic = rtlgen::AsicOpts {
        clock_ns: a.clock_ns,
        liberty: a.liberty.clone(),
        drive_cell: a.drive_cell.clone(),
        costs: crate::cost::asic_macros(&cfg, a.preset.preset()),
    };
    let bundle = rtlgen::generate(&cfg, &a.prefix);
    let mut files: Vec<(String, String)> = bundle
        .files()
        .map(|f| (f.name.clone(), f.text.clone()))
        .collect();
    let mut targets: Vec<rtlgen::Target> = a.target.iter().map(|&t| t.into()).collect();
    if a.tb {
        targets.insert(0, rtlgen::Target::Sim);
    }
    for &t in &targets {
        rtlgen::check_target(t, &cfg).map_err(anyhow::Error::msg)?;
    }
    let mut seen = Vec::new();
    let mut extra = Vec::new();
    for t in targets {
        if seen.contains(&t) {
            continue;
        }
        seen.push(t);
        extra.extend(rtlgen::target_files(
            t,
            &cfg,
            &a.prefix,
            &bundle.sources,
            &asic,
        ));
    }
    // The core file names the target files too.
    let core = bundle.core_file(&cfg, &a.prefix, &extra);
    for f in files.iter_mut() {
        if f.0 == core.name {
            f.1 = core.text.clone();
        }
    }
    files.extend(extra.into_iter().map(|f| (f.name, f.text)));
    outdir::write_all(&a.out, &files, a.force)?;
    let p = &cfg.params;
    println!(
        "sme gen: top {} ({}x{} crossbars x{}, {}x{} OU, C={} Q={} A={} D={} R={}{}), wrote {}:",
        bundle.top,
        p.rows,
        p.cols,
        p.xbars,
        p.ou_rows,
        p.ou_cols,
        p.cell_bits,
        p.weight_bits,
        p.act_bits,
        p.dac_bits,
        p.adc_bits,
        if cfg.derived.adc_lossless {
            ""
        } else {
            " lossy"
        },
        a.out.display()
    );
    for (name, text) in &files {
        println!("  {:<24} {:>8} bytes", name, text.len());
    }
    Ok(())
}
