//! `sme gen`: write the tile RTL and its collateral.

use super::ConfigArgs;
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
}

/// Run `sme gen`.
pub fn run(a: &GenArgs) -> Result<()> {
    let cfg = a.cfg.validated()?;
    rtlgen::check_prefix(&a.prefix).map_err(anyhow::Error::msg)?;
    let bundle = rtlgen::generate(&cfg, &a.prefix);
    let mut files: Vec<(String, String)> = bundle
        .files()
        .map(|f| (f.name.clone(), f.text.clone()))
        .collect();
    if a.tb {
        for f in rtlgen::testbench(&cfg, &a.prefix, &bundle.sources) {
            files.push((f.name, f.text));
        }
    }
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
