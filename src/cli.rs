//! Command-line interface: argument parsing and output only; the work is done
//! by the library modules.

use crate::config::{TileConfig, TileParams};
use crate::outdir;
use crate::rtlgen;
use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// SME: RTL generator, golden model and compiler for a bit-sparse ReRAM
/// crossbar accelerator.
#[derive(Parser, Debug)]
#[command(name = "sme", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub cmd: Command,
}

/// Tile configuration flags shared by every subcommand. Flags override the
/// `--config` file, which overrides the defaults.
#[derive(Args, Debug, Clone, Default)]
pub struct ConfigArgs {
    /// TOML file with tile parameters (keys as the long flags, with `_`).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Crossbar size: sets rows and columns.
    #[arg(long, value_name = "N")]
    pub xbar: Option<u32>,
    /// Crossbar rows X_r.
    #[arg(long)]
    pub rows: Option<u32>,
    /// Crossbar columns X_c.
    #[arg(long)]
    pub cols: Option<u32>,
    /// Bits per cell C.
    #[arg(long)]
    pub cell_bits: Option<u32>,
    /// Weight bits Q including sign.
    #[arg(long)]
    pub weight_bits: Option<u32>,
    /// Activation bits A.
    #[arg(long)]
    pub act_bits: Option<u32>,
    /// DAC bits D per step.
    #[arg(long)]
    pub dac_bits: Option<u32>,
    /// OU size as ROWSxCOLS (e.g. 16x8); sets ou_rows and ou_cols.
    #[arg(long, value_name = "MxG")]
    pub ou: Option<String>,
    /// OU rows m.
    #[arg(long)]
    pub ou_rows: Option<u32>,
    /// OU columns g.
    #[arg(long)]
    pub ou_cols: Option<u32>,
    /// ADC bits R (default: smallest lossless).
    #[arg(long)]
    pub adc_bits: Option<u32>,
    /// Crossbars per tile N.
    #[arg(long)]
    pub xbars: Option<u32>,
    /// Input buffer entries.
    #[arg(long)]
    pub inputs: Option<u32>,
    /// Output accumulators.
    #[arg(long)]
    pub outputs: Option<u32>,
    /// Op-memory depth per crossbar.
    #[arg(long)]
    pub ops: Option<u32>,
}

impl ConfigArgs {
    /// Resolve file + flags into raw params.
    pub fn params(&self) -> Result<TileParams> {
        let base = match &self.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read config file {}", path.display()))?;
                TileParams::from_toml(&text)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
            }
            None => TileParams::default(),
        };
        let (mut ou_rows, mut ou_cols) = (None, None);
        if let Some(ou) = &self.ou {
            let parse = |s: &str| s.trim().parse::<u32>().ok();
            match ou.split_once(['x', 'X']) {
                Some((a, b)) if parse(a).is_some() && parse(b).is_some() => {
                    ou_rows = parse(a);
                    ou_cols = parse(b);
                }
                _ => bail!("--ou `{ou}`: expected ROWSxCOLS, e.g. 16x8"),
            }
        }
        let flags = TileParams {
            rows: self.rows.or(self.xbar),
            cols: self.cols.or(self.xbar),
            cell_bits: self.cell_bits,
            weight_bits: self.weight_bits,
            act_bits: self.act_bits,
            dac_bits: self.dac_bits,
            ou_rows: self.ou_rows.or(ou_rows),
            ou_cols: self.ou_cols.or(ou_cols),
            adc_bits: self.adc_bits,
            xbars: self.xbars,
            inputs: self.inputs,
            outputs: self.outputs,
            ops: self.ops,
        };
        Ok(base.overlay(&flags))
    }

    /// Resolve and validate; prints the lossy-ADC warning to stderr.
    pub fn validated(&self) -> Result<TileConfig> {
        let cfg = self.params()?.validate()?;
        if let Some(w) = cfg.warning() {
            eprintln!("{w}");
        }
        Ok(cfg)
    }
}

/// The bit-sparse pattern flags of `map` and `verify`.
#[derive(Args, Debug, Clone)]
pub struct PatternArgs {
    /// Bit-sparse pattern: khot, group (windows = the OU) or none.
    #[arg(long, default_value = "khot")]
    pub pattern: String,
    /// Non-zero bits per weight (khot) or per OU window (group).
    #[arg(long, default_value_t = 2)]
    pub k: u32,
}

impl PatternArgs {
    /// The pattern for `cfg`; errors name the flag and the valid range.
    pub fn resolve(&self, cfg: &TileConfig) -> Result<crate::compiler::pattern::Pattern> {
        if self.k == 0 || self.k > cfg.derived.mag_bits {
            bail!(
                "--k {} is out of range: valid 1..={} (magnitude bits)",
                self.k,
                cfg.derived.mag_bits
            );
        }
        crate::compiler::network::pattern_for(cfg, &self.pattern, self.k)
            .map_err(anyhow::Error::msg)
    }

    /// Whether both flags are at their defaults.
    pub fn is_default(&self) -> bool {
        self.pattern == "khot" && self.k == 2
    }
}

/// Subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Generate the tile RTL, filelist, manifest and Yosys script.
    Gen {
        /// Tile configuration.
        #[command(flatten)]
        cfg: ConfigArgs,
        /// Output directory.
        #[arg(long, default_value = "out")]
        out: PathBuf,
        /// Module-name prefix (the top is `<prefix>_tile`).
        #[arg(long, default_value = rtlgen::DEFAULT_PREFIX)]
        prefix: String,
        /// Overwrite files in a non-empty output directory.
        #[arg(long)]
        force: bool,
        /// Also write the standalone Verilator testbench (`sme_tb.cpp`,
        /// `sme_tb.mk`) beside the RTL.
        #[arg(long)]
        tb: bool,
    },
    /// Compile a network with the dense, SRE-style and SME mappers and report
    /// crossbars, cycles, energy and bounds per layer and in total.
    Map(MapArgs),
    /// Run random programs, or the dense, SRE-style and SME programs of one
    /// layer, on the generated RTL (Verilated at run time, cached) and compare
    /// with the golden executor and the cycle model.
    Verify(VerifyArgs),
    /// Compare a standalone-testbench results file with the expected results
    /// written by `sme verify --emit`.
    Check {
        /// Expected results (`expected.txt`).
        expected: PathBuf,
        /// Results printed by `sme_tb`.
        results: PathBuf,
    },
    /// Train a small MLP on the handwritten digits, quantize it to int8 and
    /// ADMM fine-tune it onto a bit-sparse pattern; report test accuracy at
    /// every stage (needs the `train` feature).
    Compress(CompressArgs),
}

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

/// Arguments of `sme compress`.
#[derive(Args, Debug)]
pub struct CompressArgs {
    /// Data set (only `digits`).
    #[arg(long, default_value = "digits")]
    pub dataset: String,
    /// The digits CSV, gzip or plain: 64 pixels 0..=16 and a label 0..=9
    /// per row, no header [default: data/digits.csv.gz, relative to the working directory].
    #[arg(long, value_name = "FILE")]
    pub data: Option<PathBuf>,
    /// Bit-sparse pattern: khot or group (16x8 windows, the default OU).
    #[arg(long, default_value = "group")]
    pub pattern: String,
    /// Non-zero bits per weight (khot) or per window (group), 1..=7.
    #[arg(long, default_value_t = 2)]
    pub k: u32,
    /// Float training epochs.
    #[arg(long, default_value_t = 60)]
    pub epochs: usize,
    /// ADMM epochs.
    #[arg(long, default_value_t = 40)]
    pub admm_epochs: usize,
    /// Straight-through fine-tune epochs after the hard projection.
    #[arg(long, default_value_t = 10)]
    pub finetune_epochs: usize,
    /// Seed of the weight init and minibatch order.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Write the accuracies and settings as JSON.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write the ADMM integer weights (sme-weights JSON).
    #[arg(long, value_name = "WEIGHTS")]
    pub out: Option<PathBuf>,
}

/// Arguments of `sme map`.
#[derive(Args, Debug)]
pub struct MapArgs {
    /// Tile configuration.
    #[command(flatten)]
    pub cfg: ConfigArgs,
    /// Built-in network (resnet18, resnet50, mobilenetv2, vgg16).
    #[arg(long, conflicts_with_all = ["onnx", "weights"], required_unless_present_any = ["onnx", "weights"])]
    pub net: Option<String>,
    /// ONNX model file.
    #[arg(long, conflicts_with = "weights")]
    pub onnx: Option<PathBuf>,
    /// Integer weights file (`sme compress --out`): fully connected layers,
    /// already quantized and projected, mapped as they are.
    #[arg(long, value_name = "FILE")]
    pub weights: Option<PathBuf>,
    /// ONNX input shape CxHxW when the model leaves it dynamic (e.g. 3x48x192).
    #[arg(long, value_name = "CxHxW")]
    pub input_shape: Option<String>,
    /// Bit-sparse pattern.
    #[command(flatten)]
    pub pattern: PatternArgs,
    /// Seed of the synthetic weights of built-in networks.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Energy/area preset (isaac32, neurosim22).
    #[arg(long, default_value = "isaac32")]
    pub preset: String,
    /// Write the full report as JSON.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write one CSV row per layer.
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// Only the first N layers (quick looks).
    #[arg(long)]
    pub layers: Option<usize>,
}

/// Run the CLI; returns the process exit code.
pub fn run(cli: Cli) -> Result<()> {
    match cli.cmd {
        Command::Gen {
            cfg,
            out,
            prefix,
            force,
            tb,
        } => {
            let cfg = cfg.validated()?;
            rtlgen::check_prefix(&prefix).map_err(anyhow::Error::msg)?;
            let bundle = rtlgen::generate(&cfg, &prefix);
            let mut files: Vec<(String, String)> = bundle
                .files()
                .map(|f| (f.name.clone(), f.text.clone()))
                .collect();
            if tb {
                for f in rtlgen::testbench(&cfg, &prefix, &bundle.sources) {
                    files.push((f.name, f.text));
                }
            }
            outdir::write_all(&out, &files, force)?;
            println!(
                "sme gen: top {} ({}x{} crossbars x{}, {}x{} OU, C={} Q={} A={} D={} R={}{}), wrote {}:",
                bundle.top,
                cfg.params.rows,
                cfg.params.cols,
                cfg.params.xbars,
                cfg.params.ou_rows,
                cfg.params.ou_cols,
                cfg.params.cell_bits,
                cfg.params.weight_bits,
                cfg.params.act_bits,
                cfg.params.dac_bits,
                cfg.params.adc_bits,
                if cfg.derived.adc_lossless {
                    ""
                } else {
                    " lossy"
                },
                out.display()
            );
            for (name, text) in &files {
                println!("  {:<24} {:>8} bytes", name, text.len());
            }
            Ok(())
        }
        Command::Map(args) => crate::report::run_map(&args),
        Command::Verify(args) => crate::verify::run_verify(&args),
        Command::Check { expected, results } => crate::verify::run_check(&expected, &results),
        #[cfg(feature = "train")]
        Command::Compress(args) => crate::train::run_cli(&args),
        #[cfg(not(feature = "train"))]
        Command::Compress(_) => bail!(
            "sme compress needs the `train` feature: cargo run --release --features train -- compress ..."
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
