//! `sme compress`: train, quantize and ADMM fine-tune a small network on
//! real data and report accuracy at every stage (the `train` feature).

use crate::compiler::pattern::PatternKind;
use anyhow::Result;
use clap::{Args, ValueEnum};
use std::path::PathBuf;

/// Data sets `sme compress` trains on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Dataset {
    /// The 8x8 handwritten digits (64-64-10 MLP).
    Digits,
    /// 10,000 MNIST digits, 28x28 (LeNet).
    Mnist,
}

/// Models `sme compress` trains.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Model {
    /// 64-64-10 MLP (digits).
    Mlp,
    /// LeNet-5-sized CNN (MNIST): conv 5x5 (6) - pool - conv 5x5 (16) -
    /// pool - FC 120 - FC 10, run as an integer network.
    Lenet,
}

/// Arguments of `sme compress`.
#[derive(Args, Debug)]
pub struct CompressArgs {
    /// Data set.
    #[arg(long, value_enum, default_value_t = Dataset::Digits)]
    pub dataset: Dataset,
    /// Model [default: mlp for digits, lenet for mnist].
    #[arg(long, value_enum)]
    pub model: Option<Model>,
    /// The data CSV, gzip or plain, no header: digits 64 pixels 0..=16,
    /// MNIST 784 pixels 0..=255, then a label 0..=9 per row [default:
    /// data/digits.csv.gz or data/mnist10k.csv.gz, relative to the working
    /// directory].
    #[arg(long, value_name = "FILE")]
    pub data: Option<PathBuf>,
    /// Bit-sparse pattern: khot or group (16x8 windows, the default OU).
    #[arg(long, value_enum, default_value_t = PatternKind::Group)]
    pub pattern: PatternKind,
    /// Non-zero bits per weight (khot) or per window (group), 1..=7.
    #[arg(long, default_value_t = 2, allow_hyphen_values = true)]
    pub k: u32,
    /// Float training epochs, 1..=1000 [default: mlp 60, lenet 15].
    #[arg(long)]
    pub epochs: Option<usize>,
    /// ADMM epochs, 1..=1000 [default: mlp 40, lenet 15].
    #[arg(long)]
    pub admm_epochs: Option<usize>,
    /// Straight-through fine-tune epochs after the hard projection,
    /// 0..=1000 [default: mlp 10, lenet 5].
    #[arg(long)]
    pub finetune_epochs: Option<usize>,
    /// LeNet only: train on the first N training rows (taken round-robin
    /// over the classes) instead of all 8,000 [default: all].
    #[arg(long, value_name = "N")]
    pub train_rows: Option<usize>,
    /// LeNet only: also write the int8 integer network (no pattern,
    /// sme-weights version 2).
    #[arg(long, value_name = "WEIGHTS")]
    pub out_int8: Option<PathBuf>,
    /// Seed of the weight init and minibatch order.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Write the accuracies and settings as JSON (`-` for standard output).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write the ADMM integer weights (sme-weights JSON).
    #[arg(long, value_name = "WEIGHTS")]
    pub out: Option<PathBuf>,
}

/// Most epochs of each stage (`--epochs`, `--admm-epochs`,
/// `--finetune-epochs`; docs/limits.md).
#[cfg_attr(not(feature = "train"), allow(dead_code))]
pub(crate) const MAX_EPOCHS: usize = 1000;

/// Checks the epoch flags: each stage at most [`MAX_EPOCHS`], float and
/// ADMM at least 1.
#[cfg_attr(not(feature = "train"), allow(dead_code))]
pub(crate) fn check_epochs(epochs: usize, admm: usize, finetune: usize) -> Result<()> {
    for (flag, v, min) in [
        ("--epochs", epochs, 1),
        ("--admm-epochs", admm, 1),
        ("--finetune-epochs", finetune, 0),
    ] {
        if !(min..=MAX_EPOCHS).contains(&v) {
            anyhow::bail!(
                "{flag} {v} is out of range: valid {min}..={MAX_EPOCHS}{}",
                if v < min { " (must be at least 1)" } else { "" }
            );
        }
    }
    Ok(())
}

/// The test-accuracy table of a compress run, one row per stage.
#[cfg(feature = "train")]
fn accuracy_table(
    out: &mut dyn std::io::Write,
    a: &crate::train::Accuracy,
    z: &crate::train::ZeroBits,
) -> std::io::Result<()> {
    writeln!(
        out,
        "  {:<10} {:>9} {:>15}",
        "stage", "test acc", "zero-bit share"
    )?;
    writeln!(
        out,
        "  {:<10} {:>8.2}% {:>15}",
        "float",
        100.0 * a.float,
        "-"
    )?;
    for (name, acc, zb) in [
        ("int8", a.int8, z.int8),
        ("projected", a.projected, z.projected),
        ("ADMM", a.admm, z.admm),
    ] {
        writeln!(out, "  {name:<10} {:>8.2}% {zb:>15.3}", 100.0 * acc)?;
    }
    Ok(())
}

/// Run `sme compress`.
#[cfg(not(feature = "train"))]
pub fn run(_: &CompressArgs) -> Result<()> {
    anyhow::bail!(
        "sme compress needs the `train` feature: cargo run --release --features train -- compress ..."
    )
}

/// Run `sme compress`: validates the arguments, runs the compression with a
/// progress bar, prints the accuracy table and writes `--json` / `--out`
/// (together, only after the whole run succeeded).
#[cfg(feature = "train")]
pub fn run(args: &CompressArgs) -> Result<()> {
    use super::output::Outputs;
    use crate::progress::Progress;
    use crate::train::{
        AdmmSchedule, CompressOptions, DEFAULT_DATA, GROUP_G, GROUP_M, MAG_BITS, TEST_FRACTION,
        compress_dataset, data,
    };
    use anyhow::bail;

    if args.pattern == PatternKind::None {
        bail!("--pattern none is not supported by compress: valid khot, group");
    }
    let model = args.model.unwrap_or(match args.dataset {
        Dataset::Digits => Model::Mlp,
        Dataset::Mnist => Model::Lenet,
    });
    match (args.dataset, model) {
        (Dataset::Digits, Model::Mlp) => {}
        (Dataset::Mnist, Model::Lenet) => return run_lenet(args),
        (d, m) => bail!(
            "--model {} does not fit --dataset {}: use mlp with digits, lenet with mnist",
            m.to_possible_value().expect("value").get_name(),
            d.to_possible_value().expect("value").get_name()
        ),
    }
    if args.train_rows.is_some() || args.out_int8.is_some() {
        bail!("--train-rows and --out-int8 are for --model lenet only");
    }
    let defaults = CompressOptions::default();
    let epochs = args.epochs.unwrap_or(defaults.epochs);
    let admm_epochs = args.admm_epochs.unwrap_or(defaults.admm.epochs);
    let finetune_epochs = args
        .finetune_epochs
        .unwrap_or(defaults.admm.finetune_epochs);
    let pattern = args.pattern.with(args.k, GROUP_M, GROUP_G);
    if !(1..=MAG_BITS).contains(&args.k) {
        bail!(
            "--k {} is out of range: valid 1..={MAG_BITS} (magnitude bits of int8)",
            args.k
        );
    }
    check_epochs(epochs, admm_epochs, finetune_epochs)?;
    let data = match &args.data {
        Some(p) => p.clone(),
        None => {
            let p = PathBuf::from(DEFAULT_DATA);
            if !p.is_file() {
                bail!("digits data not found at {DEFAULT_DATA}; pass --data FILE");
            }
            p
        }
    };
    // Outputs are checked before the run, so an error after training cannot
    // leave one output written and the other not.
    let mut outputs = Outputs::new([data.as_path()]);
    let json = outputs.claim("--json", args.json.as_deref())?;
    let weights_out = outputs.claim("--out", args.out.as_deref())?;
    let opts = CompressOptions {
        data,
        pattern,
        epochs,
        admm: AdmmSchedule {
            epochs: admm_epochs,
            finetune_epochs,
            ..defaults.admm.clone()
        },
        seed: args.seed,
        ..defaults
    };
    // Accuracy on a split with fewer than two classes measures nothing:
    // refuse it before training.
    let d = data::load_digits(&opts.data)?;
    let sp = data::split(&d, TEST_FRACTION, opts.split_seed);
    for (name, idx) in [("test", &sp.test), ("training", &sp.train)] {
        let mut classes: Vec<u8> = idx.iter().map(|&i| d.y[i]).collect();
        classes.sort_unstable();
        classes.dedup();
        if classes.len() < 2 {
            let list: Vec<String> = classes.iter().map(|c| c.to_string()).collect();
            bail!(
                "{}: the {name} split has {} class{} ({}) of {} rows; accuracy needs at least 2 \
                 classes in both splits (each class gets {:.0} % of its rows in the test split, \
                 so give at least 2 classes with 3 or more rows each)",
                opts.data.display(),
                classes.len(),
                if classes.len() == 1 { "" } else { "es" },
                if list.is_empty() {
                    "none".to_string()
                } else {
                    list.join(", ")
                },
                d.len(),
                100.0 * TEST_FRACTION
            );
        }
    }
    let bar = super::Bar::new("epochs");
    bar.start(
        "compress",
        Some((opts.epochs + opts.admm.epochs + opts.admm.finetune_epochs) as u64),
    );
    let t0 = std::time::Instant::now();
    let result = compress_dataset(&opts, &d, |p| {
        bar.message(p.stage);
        bar.inc(1);
    });
    bar.finish();
    let rep = result?;
    let summary = rep.summary(&opts, t0.elapsed().as_secs_f64());

    let (a, z) = (rep.accuracy, rep.zero_bit_fraction);
    let mut out = outputs.human();
    writeln!(
        out,
        "sme compress: digits MLP 64-{}-10, {} train / {} test rows (stratified, split seed {}), seed {}, pattern {} k={}{}, epochs float {} / ADMM {} / fine-tune {}, {:.1} s",
        opts.hidden,
        rep.train_size,
        rep.test_size,
        opts.split_seed,
        opts.seed,
        args.pattern.name(),
        args.k,
        match summary.window {
            Some([m, g]) => format!(" ({m}x{g} windows)"),
            None => String::new(),
        },
        opts.epochs,
        opts.admm.epochs,
        opts.admm.finetune_epochs,
        summary.seconds,
    )?;
    accuracy_table(&mut out, &a, &z)?;

    let mut files = Vec::new();
    if let Some(t) = weights_out {
        files.push((t, rep.weights.to_json()?));
    }
    if let Some(t) = json {
        files.push((t, serde_json::to_string_pretty(&summary)? + "\n"));
    }
    Outputs::commit(files)
}

/// `sme compress --dataset mnist --model lenet`.
#[cfg(feature = "train")]
fn run_lenet(args: &CompressArgs) -> Result<()> {
    use super::output::Outputs;
    use crate::progress::Progress;
    use crate::train::lenet::{DEFAULT_MNIST, LenetOptions, compress_lenet};
    use crate::train::{GROUP_G, GROUP_M, MAG_BITS};
    use anyhow::bail;

    let pattern = args.pattern.with(args.k, GROUP_M, GROUP_G);
    if !(1..=MAG_BITS).contains(&args.k) {
        bail!(
            "--k {} is out of range: valid 1..={MAG_BITS} (magnitude bits of int8)",
            args.k
        );
    }
    let defaults = LenetOptions::default();
    let mut admm = defaults.admm.clone();
    admm.epochs = args.admm_epochs.unwrap_or(admm.epochs);
    admm.finetune_epochs = args.finetune_epochs.unwrap_or(admm.finetune_epochs);
    let epochs = args.epochs.unwrap_or(defaults.epochs);
    check_epochs(epochs, admm.epochs, admm.finetune_epochs)?;
    if args.train_rows == Some(0) {
        bail!("--train-rows must be at least 1");
    }
    let data = match &args.data {
        Some(p) => p.clone(),
        None => {
            let p = PathBuf::from(DEFAULT_MNIST);
            if !p.is_file() {
                bail!("MNIST data not found at {DEFAULT_MNIST}; pass --data FILE");
            }
            p
        }
    };
    let mut outputs = Outputs::new([data.as_path()]);
    let json = outputs.claim("--json", args.json.as_deref())?;
    let weights_out = outputs.claim("--out", args.out.as_deref())?;
    let int8_out = outputs.claim("--out-int8", args.out_int8.as_deref())?;
    let opts = LenetOptions {
        data,
        pattern,
        epochs,
        admm,
        seed: args.seed,
        train_limit: args.train_rows,
        ..defaults
    };
    let bar = super::Bar::new("epochs");
    bar.start(
        "compress",
        Some((opts.epochs + opts.admm.epochs + opts.admm.finetune_epochs) as u64),
    );
    let t0 = std::time::Instant::now();
    let result = compress_lenet(&opts, |p| {
        bar.message(p.stage);
        bar.inc(1);
    });
    bar.finish();
    let rep = result?;
    let summary = rep.summary(&opts, t0.elapsed().as_secs_f64());
    let (a, z) = (rep.accuracy, rep.zero_bit_fraction);
    let mut out = outputs.human();
    writeln!(
        out,
        "sme compress: MNIST {}, {} train / {} test rows (stratified, split seed {}), seed {}, pattern {} k={}{}, epochs float {} / ADMM {} / fine-tune {}, {:.1} s",
        summary.model,
        rep.train_size,
        rep.test_size,
        opts.split_seed,
        opts.seed,
        args.pattern.name(),
        args.k,
        match summary.window {
            Some([m, g]) => format!(" ({m}x{g} windows)"),
            None => String::new(),
        },
        opts.epochs,
        opts.admm.epochs,
        opts.admm.finetune_epochs,
        summary.seconds,
    )?;
    accuracy_table(&mut out, &a, &z)?;
    writeln!(
        out,
        "  (int8, projected, ADMM: the integer network, 8-bit activations; ADMM weights in float: {:.2}%)",
        100.0 * rep.admm_float
    )?;
    let mut files = Vec::new();
    if let Some(t) = weights_out {
        files.push((t, rep.weights.to_json()?));
    }
    if let Some(t) = int8_out {
        files.push((t, rep.int8.to_json()?));
    }
    if let Some(t) = json {
        files.push((t, serde_json::to_string_pretty(&summary)? + "\n"));
    }
    Outputs::commit(files)
}

#[cfg(test)]
mod range_tests {
    #[test]
    fn epochs_are_bounded() {
        super::check_epochs(60, 40, 0).unwrap();
        super::check_epochs(1000, 1000, 1000).unwrap();
        let e = super::check_epochs(1001, 1, 1).unwrap_err().to_string();
        assert_eq!(e, "--epochs 1001 is out of range: valid 1..=1000");
        let e = super::check_epochs(1, 0, 1).unwrap_err().to_string();
        assert!(
            e.starts_with("--admm-epochs 0 is out of range: valid 1..=1000"),
            "{e}"
        );
        let e = super::check_epochs(1, 1, usize::MAX)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("--finetune-epochs"), "{e}");
    }
}

#[cfg(all(test, feature = "train"))]
mod tests {
    use crate::compiler::pattern::{Pattern, PatternKind};
    use crate::train::CompressOptions;

    #[test]
    fn cli_defaults_match_the_library_defaults() {
        use clap::Parser;
        let cli = crate::cli::Cli::parse_from(["sme", "compress"]);
        let crate::cli::Command::Compress(a) = cli.cmd else {
            panic!("not compress")
        };
        let o = CompressOptions::default();
        // Epoch defaults come from the library (per model).
        assert_eq!(
            (a.epochs, a.admm_epochs, a.finetune_epochs),
            (None, None, None)
        );
        assert!(o.epochs > 0 && o.admm.epochs > 0);
        assert_eq!(a.seed, o.seed);
        assert_eq!((a.pattern, a.k), (PatternKind::Group, 2));
        assert_eq!(o.pattern, Pattern::Group { k: 2, m: 16, g: 8 });
    }
}
