//! `sme infer`: classify MNIST test images with a whole integer network
//! (from `sme compress --model lenet`) on the generated RTL, every layer
//! compiled with one mapper (needs the `train` feature for the data
//! loader).

use super::ConfigArgs;
use crate::compiler::map::Mapper;
use anyhow::Result;
use clap::{Args, ValueEnum};
use std::path::PathBuf;

/// Which mapper compiles every layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum InferMapper {
    /// Dense (ISAAC-style).
    Dense,
    /// SRE-style.
    Sre,
    /// SME.
    Sme,
}

impl InferMapper {
    /// The library mapper.
    pub fn mapper(self) -> Mapper {
        match self {
            InferMapper::Dense => Mapper::Dense,
            InferMapper::Sre => Mapper::Sre,
            InferMapper::Sme => Mapper::Sme,
        }
    }
}

/// Arguments of `sme infer`.
#[derive(Args, Debug)]
pub struct InferArgs {
    /// Tile configuration.
    #[command(flatten)]
    pub cfg: ConfigArgs,
    /// Integer network (sme-weights version 2, from `sme compress --model
    /// lenet --out`).
    #[arg(long, value_name = "WEIGHTS")]
    pub weights: PathBuf,
    /// MNIST CSV, gzip or plain [default: data/mnist10k.csv.gz, relative to
    /// the working directory].
    #[arg(long, value_name = "FILE")]
    pub data: Option<PathBuf>,
    /// Test images to classify: the first N of the test split (stratified
    /// 20 %, split seed as `sme compress`), taken round-robin over the
    /// classes.
    #[arg(long, default_value_t = 100)]
    pub images: usize,
    /// Mapper for every layer.
    #[arg(long, value_enum, default_value_t = InferMapper::Sme)]
    pub mapper: InferMapper,
    /// Seed of the idle cycles between vectors.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Check the RTL against this network's integer model instead of
    /// --weights' own (e.g. the uncorrupted network, to show that a wrong
    /// layer is caught).
    #[arg(long, value_name = "WEIGHTS")]
    pub reference: Option<PathBuf>,
    /// Testbench cache (default $SME_CACHE_DIR, $XDG_CACHE_HOME/sme or ~/.cache/sme).
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Write the report as JSON (`-` for standard output).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
}

/// Run `sme infer`.
#[cfg(not(feature = "train"))]
pub fn run(_: &InferArgs) -> Result<()> {
    anyhow::bail!(
        "sme infer needs the `train` feature (MNIST loader): cargo run --release --features train -- infer ..."
    )
}

/// Run `sme infer`: load and check the network and the images, build (or
/// reuse) the testbench, run every layer of every image on the RTL, print
/// the per-layer table and write `--json`. Fails when an RTL class differs
/// from the integer model's or any run mismatches.
#[cfg(feature = "train")]
pub fn run(a: &InferArgs) -> Result<()> {
    use super::Bar;
    use super::output::Outputs;
    use crate::train::data::{CLASSES, load_mnist, split};
    use crate::train::lenet::DEFAULT_MNIST;
    use crate::train::{DEFAULT_SPLIT_SEED, TEST_FRACTION};
    use crate::verify::{self, network};
    use crate::weights::WeightsFile;
    use anyhow::bail;

    let cfg = a.cfg.validated()?;
    if a.images == 0 || a.images > 10_000 {
        bail!("--images {}: valid 1..=10000", a.images);
    }
    let data = a
        .data
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_MNIST));
    let mut outputs = Outputs::new(
        [
            Some(a.weights.as_path()),
            Some(data.as_path()),
            a.reference.as_deref(),
        ]
        .into_iter()
        .flatten(),
    );
    let json = outputs.claim("--json", a.json.as_deref())?;
    let f = WeightsFile::load(&a.weights)?;
    let input = network::check(&cfg, &f)
        .map_err(|e| e.context(format!("weights file {}", a.weights.display())))?;
    let reference = match &a.reference {
        Some(p) => Some(WeightsFile::load(p)?),
        None => None,
    };
    let d = load_mnist(&data)?;
    if input != d.pixels {
        bail!(
            "the network takes {input} inputs, the images have {} pixels",
            d.pixels
        );
    }
    let sp = split(&d, TEST_FRACTION, DEFAULT_SPLIT_SEED);
    // Round-robin over the classes, so any N is balanced.
    let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); CLASSES];
    for &i in &sp.test {
        by_class[d.y[i] as usize].push(i);
    }
    let mut pick = Vec::new();
    let mut j = 0;
    while pick.len() < a.images && by_class.iter().any(|c| j < c.len()) {
        for c in &by_class {
            if j < c.len() && pick.len() < a.images {
                pick.push(c[j]);
            }
        }
        j += 1;
    }
    if pick.len() < a.images {
        bail!(
            "--images {}: the test split has only {} images",
            a.images,
            pick.len()
        );
    }
    let req = network::InferRequest {
        weights: f,
        images: pick.iter().map(|&i| d.image(i).to_vec()).collect(),
        labels: pick.iter().map(|&i| d.y[i]).collect(),
        mapper: a.mapper.mapper(),
        seed: a.seed,
        reference,
    };
    let mut out = outputs.human();
    writeln!(
        out,
        "sme infer: {} ({} layers), {} MNIST test images, mapper {}, tile {}",
        req.weights.name,
        req.weights.layers.len(),
        req.images.len(),
        req.mapper.name(),
        cfg.tag()
    )?;
    let cache = a
        .cache_dir
        .clone()
        .unwrap_or_else(verify::default_cache_dir);
    let version = verify::verilator_version()?;
    eprintln!("infer: {version}; testbench cache {}", cache.display());
    let bar = Bar::new("images");
    let timeouts = verify::Timeouts::default();
    let tb = verify::build_testbench(&cfg, &cache, false, &timeouts, &bar)?;
    let rep = network::infer(&cfg, &tb, &req, &timeouts, &bar)?;
    writeln!(
        out,
        "{:<8} {:>9} {:>8} {:>5} {:>9} {:>12} {:>12} {:>14} {:>9}",
        "layer",
        "matrix",
        "vec/img",
        "tiles",
        "crossbars",
        "rtl cyc/vec",
        "model cyc/vec",
        "rtl cyc/img",
        "mismatch"
    )?;
    for l in &rep.layers {
        writeln!(
            out,
            "{:<8} {:>9} {:>8} {:>5} {:>9} {:>12} {:>12} {:>14} {:>9}",
            l.name,
            format!("{}x{}", l.rows, l.cols),
            l.vectors_per_image,
            l.tiles,
            l.crossbars,
            l.cycles_rtl_per_vector,
            l.cycles_model_per_vector,
            l.cycles_rtl,
            l.mismatches
        )?;
    }
    writeln!(
        out,
        "images {}: RTL class = integer model class on {}, logits equal on {}; accuracy RTL {:.2}%, integer model {:.2}%; cycles per image RTL {} / model {}",
        rep.images,
        rep.agree,
        rep.logits_agree,
        100.0 * rep.accuracy_rtl,
        100.0 * rep.accuracy_integer,
        rep.cycles_rtl,
        rep.cycles_model
    )?;
    let mut files = Vec::new();
    if let Some(t) = json {
        files.push((t, serde_json::to_string_pretty(&rep)? + "\n"));
    }
    Outputs::commit(files)?;
    for d in &rep.details {
        eprintln!("mismatch: {d}");
    }
    if !rep.ok {
        bail!(
            "RTL and integer model disagree: {} of {} classes and {} logits agree, {} mismatches, cycles RTL {} vs model {}",
            rep.agree,
            rep.images,
            rep.logits_agree,
            rep.mismatches,
            rep.cycles_rtl,
            rep.cycles_model
        );
    }
    Ok(())
}
