//! `sme verify`: run random programs or a layer's programs on the generated
//! RTL and compare with the golden executor and the cycle model.

use super::{ConfigArgs, PatternArgs};
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;

/// Arguments of `sme verify`.
#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// Tile configuration.
    #[command(flatten)]
    pub cfg: ConfigArgs,
    /// Built-in network (synthetic weights) to take `--layer` from.
    #[arg(long, conflicts_with_all = ["onnx", "weights"], requires = "layer")]
    pub net: Option<String>,
    /// ONNX model to take `--layer` from.
    #[arg(long, conflicts_with = "weights", requires = "layer")]
    pub onnx: Option<PathBuf>,
    /// Integer weights file (from `sme compress`) to take `--layer` from.
    #[arg(long, requires = "layer")]
    pub weights: Option<PathBuf>,
    /// Layer name (with --net, --onnx or --weights).
    #[arg(long)]
    pub layer: Option<String>,
    /// ONNX input shape CxHxW when the model leaves it dynamic.
    #[arg(long, value_name = "CxHxW")]
    pub input_shape: Option<String>,
    /// Bit-sparse pattern for --net/--onnx layers.
    #[command(flatten)]
    pub pattern: PatternArgs,
    /// Cut the layer to its top-left ROWSxCOLS block (default: the tile's
    /// inputs x outputs).
    #[arg(long, value_name = "RxC")]
    pub cut: Option<String>,
    /// Which mappings of the layer to run: all, dense, sre, sme.
    #[arg(long, default_value = "all")]
    pub mapper: String,
    /// Input vectors per program (random activations).
    #[arg(long, default_value_t = 8)]
    pub vectors: usize,
    /// Layer input vectors from a file (one per line, integers) instead of
    /// random ones.
    #[arg(long, value_name = "FILE")]
    pub input_file: Option<PathBuf>,
    /// Random programs to run when no layer is given.
    #[arg(long, default_value_t = 8)]
    pub programs: usize,
    /// Seed of the random programs, vectors, idle cycles and synthetic weights.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Testbench cache (default $SME_CACHE_DIR, $XDG_CACHE_HOME/sme or ~/.cache/sme).
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Keep the STIM files and expected results in DIR.
    #[arg(long, value_name = "DIR")]
    pub emit: Option<PathBuf>,
    /// Write a VCD waveform of the whole run (builds a tracing testbench).
    #[arg(long, value_name = "FILE")]
    pub trace: Option<PathBuf>,
    /// Write the report as JSON.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write the RTL's layer outputs (summed over tiles) as CSV.
    #[arg(long, value_name = "FILE")]
    pub layer_outputs: Option<PathBuf>,
}

/// Run `sme verify`.
pub fn run(a: &VerifyArgs) -> Result<()> {
    crate::verify::run_verify(a)
}
