//! `sme check`: compare a standalone-testbench results file with the
//! expected results of `sme verify --emit`.

use anyhow::Result;
use clap::Args;
use std::path::PathBuf;

/// Arguments of `sme check`.
#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Expected results (`expected.txt`).
    pub expected: PathBuf,
    /// Results printed by `sme_tb`.
    pub results: PathBuf,
}

/// Run `sme check`.
pub fn run(a: &CheckArgs) -> Result<()> {
    super::verify::run_check(&a.expected, &a.results)
}
