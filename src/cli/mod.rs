//! Command-line interface: one file per subcommand. Each turns flags into a
//! typed library request, calls the library, and prints or writes the typed
//! report it gets back. The library never imports from here.

pub mod args;
mod check;
mod chip;
mod compress;
mod r#gen;
mod infer;
mod map;
pub mod output;
mod verify;

pub use args::{ConfigArgs, NetArgs, PatternArgs};
pub(crate) use map::source as map_source;

use anyhow::Result;
use clap::{Parser, Subcommand};

/// SME: RTL generator, golden model and compiler for a bit-sparse ReRAM
/// crossbar accelerator.
#[derive(Parser, Debug)]
#[command(name = "sme", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub cmd: Command,
}

/// Subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Generate the tile RTL, filelist, manifest and Yosys script.
    Gen(r#gen::GenArgs),
    /// Compile a network with the dense, SRE-style and SME mappers and report
    /// crossbars, cycles, energy and bounds per layer and in total.
    Map(map::MapArgs),
    /// Place a network's dense, SRE-style and SME mappings on a chip (every
    /// layer on its own tiles, layers pipelined, bottlenecks replicated) and
    /// report throughput, latency, energy, area and power.
    Chip(chip::ChipArgs),
    /// Run random programs, or the dense, SRE-style and SME programs of one
    /// layer, on the generated RTL (Verilated at run time, cached) and compare
    /// with the golden executor and the cycle model.
    Verify(verify::VerifyArgs),
    /// Compare a standalone-testbench results file with the expected results
    /// written by `sme verify --emit`.
    Check(check::CheckArgs),
    /// Train a small MLP on the handwritten digits, quantize it to int8 and
    /// ADMM fine-tune it onto a bit-sparse pattern; report test accuracy at
    /// every stage (needs the `train` feature).
    Compress(compress::CompressArgs),
    /// Classify MNIST test images with a whole integer network (from `sme
    /// compress --model lenet`) on the generated RTL: every layer compiled
    /// with one mapper, every tile program run on the Verilated tile; checks
    /// the classes against the integer model and the cycles against the
    /// cost model (needs the `train` feature).
    Infer(infer::InferArgs),
}

/// Run one command.
pub fn run(cli: Cli) -> Result<()> {
    match cli.cmd {
        Command::Gen(a) => r#gen::run(&a),
        Command::Map(a) => map::run(&a),
        Command::Chip(a) => chip::run(&a),
        Command::Verify(a) => verify::run(&a),
        Command::Check(a) => check::run(&a),
        Command::Compress(a) => compress::run(&a),
        Command::Infer(a) => infer::run(&a),
    }
}

/// [`crate::progress::Progress`] on standard error with indicatif: a bar
/// when the length is known, a spinner otherwise.
pub(crate) struct Bar {
    bar: indicatif::ProgressBar,
    unit: &'static str,
}

impl Bar {
    /// A bar whose steps are counted in `unit` (e.g. "layers").
    pub(crate) fn new(unit: &'static str) -> Bar {
        Bar {
            bar: indicatif::ProgressBar::hidden(),
            unit,
        }
    }
}

impl crate::progress::Progress for Bar {
    fn start(&self, what: &str, len: Option<u64>) {
        let template = match len {
            Some(_) => format!(
                "{{spinner}} {what} {{msg}} [{{bar:30}}] {{pos}}/{{len}} {} {{elapsed}}",
                self.unit
            ),
            None => format!("{{spinner}} {what} {{msg}} {{elapsed}}"),
        };
        self.bar
            .set_draw_target(indicatif::ProgressDrawTarget::stderr());
        self.bar.reset();
        self.bar.set_length(len.unwrap_or(0));
        self.bar
            .set_style(indicatif::ProgressStyle::with_template(&template).expect("valid template"));
        if len.is_none() {
            self.bar
                .enable_steady_tick(std::time::Duration::from_millis(120));
        }
    }
    fn message(&self, msg: &str) {
        self.bar.set_message(msg.to_string());
    }
    fn inc(&self, n: u64) {
        self.bar.inc(n);
    }
    fn finish(&self) {
        self.bar.disable_steady_tick();
        self.bar.finish_and_clear();
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

    /// Every tile parameter is a flag, and the TOML file accepts the flag
    /// names (with `-` or `_`) including the `xbar` and `ou` shorthands.
    #[test]
    fn flags_and_toml_keys_agree() {
        let flags = Cli::try_parse_from([
            "sme",
            "gen",
            "--xbar",
            "32",
            "--ou",
            "8x4",
            "--cell-bits",
            "2",
        ])
        .unwrap();
        let Command::Gen(g) = flags.cmd else {
            panic!("gen")
        };
        let from_flags = g.cfg.params().unwrap().validate().unwrap();
        let toml = crate::config::TileParams::from_toml("xbar = 32\nou = \"8x4\"\ncell-bits = 2\n")
            .unwrap()
            .validate()
            .unwrap();
        assert_eq!(from_flags, toml);
        assert_eq!(
            (toml.params.rows, toml.params.ou_cols, toml.params.cell_bits),
            (32, 4, 2)
        );
    }

    #[test]
    fn negative_values_name_the_flag() {
        let e = Cli::try_parse_from(["sme", "gen", "--xbar", "-5"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("--xbar"), "{e}");
    }
}
