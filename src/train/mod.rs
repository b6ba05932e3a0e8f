//! `sme compress`: train a small MLP on the handwritten digits, quantize it
//! to int8 and fine-tune it with ADMM onto a bit-sparse pattern set
//! (DESIGN section 4 step 3), measuring test accuracy at every stage.
//!
//! Pipeline of [`compress`]:
//!
//! 1. load the data ([`data::load_digits`]) and split it with
//!    [`data::split`] (stratified, 20 % test, seed
//!    [`CompressOptions::split_seed`]); nothing below looks at test rows
//!    except the accuracy measurements;
//! 2. train the float model `64 -> hidden (ReLU) -> 10` with Adam
//!    ([`mlp::fit`], seed [`CompressOptions::seed`]);
//! 3. int8: per-column symmetric scales with 7 magnitude bits
//!    ([`quantize`] with [`Granularity::PerChannel`]), weights only,
//!    evaluated with the dequantized weights;
//! 4. projected: [`project_real`](crate::compiler::pattern::project_real) of the float weights onto the pattern with
//!    those scales, no fine-tuning;
//! 5. ADMM: [`admm::admm_finetune`] with the same scales, ending in a hard
//!    projection; the integer weights are `round(w / scale)` and are checked
//!    with [`in_pattern`].
//!
//! Biases stay float throughout. The float model sees `pixel / 16`
//! ([`mlp::INPUT_SCALE`]); in the exported [`WeightsFile`] that factor is
//! folded into the fc1 column scales, so layer 1 of the integer model is
//! exactly `x_int * W_int` on the raw pixels `0..=16`, scaled by
//! `scales[c]`, plus `bias[c]`.

pub mod admm;
pub mod cnn;
pub mod data;
pub mod lenet;
pub mod mlp;

use crate::compiler::pattern::{Pattern, PatternKind, in_pattern, zero_bit_fraction};
use crate::compiler::quant::{Granularity, Quantized, dequantize, quantize};
use crate::program::WeightMatrix;
use crate::weights::{self, IntLayer, WeightsFile};
pub use admm::AdmmSchedule;
use admm::Constraint;
use anyhow::{Context, Result, bail};
use data::{CLASSES, Dataset, PIXELS};
use mlp::{INPUT_SCALE, Mlp};
use ndarray::Array2;
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::Serialize;
use std::path::PathBuf;

/// Weight bits Q including the sign.
pub(crate) const WEIGHT_BITS: u32 = 8;
/// Magnitude bits M = Q - 1.
pub(crate) const MAG_BITS: u32 = WEIGHT_BITS - 1;
/// Group pattern window rows (the default OU rows).
pub(crate) const GROUP_M: u32 = 16;
/// Group pattern window columns (the default OU columns).
pub(crate) const GROUP_G: u32 = 8;
/// Share of each class held out for testing.
pub const TEST_FRACTION: f64 = 0.2;
/// Default seed of the train/test split.
pub const DEFAULT_SPLIT_SEED: u64 = 2024;
/// Default data path, relative to the working directory.
pub(crate) const DEFAULT_DATA: &str = "data/digits.csv.gz";

/// Everything [`compress`] needs.
#[derive(Clone, Debug, PartialEq)]
pub struct CompressOptions {
    /// The digits CSV (gzip or plain).
    pub data: PathBuf,
    /// `KHot { k }` or `Group { k, m: 16, g: 8 }` with `k` in `1..=7`.
    pub pattern: Pattern,
    /// Hidden units.
    pub hidden: usize,
    /// Float training epochs.
    pub epochs: usize,
    /// Float training learning rate (Adam).
    pub lr: f32,
    /// ADMM and fine-tune schedule.
    pub admm: AdmmSchedule,
    /// Seed of the weight init and the minibatch order.
    pub seed: u64,
    /// Seed of the train/test split.
    pub split_seed: u64,
}

impl Default for CompressOptions {
    fn default() -> Self {
        CompressOptions {
            data: PathBuf::from(DEFAULT_DATA),
            pattern: Pattern::Group {
                k: 2,
                m: GROUP_M,
                g: GROUP_G,
            },
            hidden: 64,
            epochs: 60,
            lr: 3e-3,
            admm: AdmmSchedule::default(),
            seed: 1,
            split_seed: DEFAULT_SPLIT_SEED,
        }
    }
}

/// A compress pattern is k-hot or group with `k` in `1..=MAG_BITS`; the
/// message names the valid range.
pub(crate) fn check_k(p: &Pattern) -> Result<()> {
    let k = match *p {
        Pattern::KHot { k } | Pattern::Group { k, .. } => k,
        Pattern::Dense => bail!("pattern must be khot or group"),
    };
    if !(1..=MAG_BITS).contains(&k) {
        bail!("k {k} is out of range: valid 1..={MAG_BITS}");
    }
    Ok(())
}

impl CompressOptions {
    /// Checks the ranges; the message names the option and the valid range.
    pub fn validate(&self) -> Result<()> {
        check_k(&self.pattern)?;
        if let Pattern::Group { m, g, .. } = self.pattern
            && (m == 0 || g == 0)
        {
            bail!("group window {m} x {g} must be non-empty");
        }
        if self.epochs == 0 {
            bail!("epochs must be at least 1");
        }
        if self.admm.epochs == 0 {
            bail!("ADMM epochs must be at least 1");
        }
        if self.hidden == 0 || self.admm.batch == 0 {
            bail!("hidden units and batch size must be at least 1");
        }
        Ok(())
    }
}

/// Where a run is; passed to the progress callback after every epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// `"float"`, `"admm"` or `"finetune"`.
    pub stage: &'static str,
    /// Epochs done so far over all stages.
    pub done: usize,
    /// Epochs of all stages.
    pub total: usize,
}

/// Test accuracies (fractions 0..=1).
#[derive(Serialize, Clone, Copy, Debug, PartialEq)]
pub struct Accuracy {
    /// Float model.
    pub float: f64,
    /// int8 weights (per-column scales), dequantized.
    pub int8: f64,
    /// Hard projection of the float weights, no fine-tuning.
    pub projected: f64,
    /// ADMM fine-tuned and projected.
    pub admm: f64,
}

/// Share of zero magnitude bits over both layers' integer weights.
#[derive(Serialize, Clone, Copy, Debug, PartialEq)]
pub struct ZeroBits {
    /// int8 weights.
    pub int8: f64,
    /// Hard projection of the int8-scaled float weights.
    pub projected: f64,
    /// ADMM result.
    pub admm: f64,
}

/// What [`compress`] measured and produced.
#[derive(Clone, Debug, PartialEq)]
pub struct CompressReport {
    /// Test accuracies.
    pub accuracy: Accuracy,
    /// Zero magnitude bits.
    pub zero_bit_fraction: ZeroBits,
    /// Training rows.
    pub train_size: usize,
    /// Test rows.
    pub test_size: usize,
    /// Accuracy of the exported integer model (layer 1 computed in exact
    /// integer arithmetic on the raw pixels); equals `accuracy.admm` up to
    /// float rounding.
    pub int_model_accuracy: f64,
    /// The ADMM integer weights, layers `fc1` and `fc2`.
    pub weights: WeightsFile,
}

/// Loads `opts.data` and runs [`compress_dataset`].
pub fn compress(opts: &CompressOptions, progress: impl FnMut(Progress)) -> Result<CompressReport> {
    opts.validate()?;
    let d = data::load_digits(&opts.data)?;
    compress_dataset(opts, &d, progress)
}

/// The whole pipeline (see the module doc) on an in-memory data set.
pub(crate) fn compress_dataset(
    opts: &CompressOptions,
    d: &Dataset,
    mut progress: impl FnMut(Progress),
) -> Result<CompressReport> {
    opts.validate()?;
    let sp = data::split(d, TEST_FRACTION, opts.split_seed);
    if sp.train.is_empty() || sp.test.is_empty() {
        bail!(
            "{} rows are too few for a train/test split: need at least one test row",
            d.len()
        );
    }
    let (train, test) = (d.subset(&sp.train), d.subset(&sp.test));
    let (xtr, xte) = (mlp::inputs(&train), mlp::inputs(&test));

    let total = opts.epochs + opts.admm.epochs + opts.admm.finetune_epochs;
    let mut done = 0;
    let mut tick = |stage: &'static str| {
        done += 1;
        progress(Progress { stage, done, total });
    };

    // 1. Float model.
    let mut rng = StdRng::seed_from_u64(opts.seed);
    let mut net = Mlp::new(PIXELS, opts.hidden, CLASSES, opts.seed);
    mlp::fit(
        &mut net,
        &xtr,
        &train.y,
        opts.epochs,
        opts.admm.batch,
        opts.lr,
        &mut rng,
        |_| tick("float"),
    );
    let acc_float = net.accuracy(&xte, &test.y);

    // 2. int8, per-column scales.
    let q1 = quant(&net.w1);
    let q2 = quant(&net.w2);
    let int8 = Mlp {
        w1: from_vec(&net.w1, dequantize(&q1)),
        w2: from_vec(&net.w2, dequantize(&q2)),
        ..net.clone()
    };
    let acc_int8 = int8.accuracy(&xte, &test.y);

    // 3. Hard projection without fine-tuning.
    let c = Constraint {
        pattern: opts.pattern,
        mag_bits: MAG_BITS,
        scales1: q1.scales.clone(),
        scales2: q2.scales.clone(),
    };
    let projected = c.project(&net);
    let acc_projected = projected.accuracy(&xte, &test.y);

    // 4. ADMM.
    let tuned = admm::admm_finetune(&net, &c, &xtr, &train.y, &opts.admm, &mut rng, |s| {
        tick(if s == "admm" { "admm" } else { "finetune" })
    });
    let acc_admm = tuned.accuracy(&xte, &test.y);

    let proj_ints = [
        to_ints(&projected.w1, &c.scales1, "fc1")?,
        to_ints(&projected.w2, &c.scales2, "fc2")?,
    ];
    let admm_ints = [
        to_ints(&tuned.w1, &c.scales1, "fc1")?,
        to_ints(&tuned.w2, &c.scales2, "fc2")?,
    ];
    for (m, name) in admm_ints.iter().zip(["fc1", "fc2"]) {
        if !in_pattern(&opts.pattern, m, MAG_BITS) {
            bail!(
                "internal error: ADMM weights of {name} are not in {:?}",
                opts.pattern
            );
        }
    }
    let zero = ZeroBits {
        int8: zero_bits(&[&q1.w, &q2.w]),
        projected: zero_bits(&[&proj_ints[0], &proj_ints[1]]),
        admm: zero_bits(&[&admm_ints[0], &admm_ints[1]]),
    };
    let [a1, a2] = admm_ints;
    let k = match opts.pattern {
        Pattern::KHot { k } | Pattern::Group { k, .. } => k,
        Pattern::Dense => 0,
    };
    let file = WeightsFile {
        format: weights::FORMAT.into(),
        version: weights::VERSION,
        name: "digits-mlp".into(),
        weight_bits: WEIGHT_BITS,
        pattern: opts.pattern.kind().name().into(),
        k,
        window: match opts.pattern {
            Pattern::Group { m, g, .. } => Some([m, g]),
            _ => None,
        },
        layers: vec![
            IntLayer {
                name: "fc1".into(),
                rows: a1.rows,
                cols: a1.cols,
                // The float model saw pixel * INPUT_SCALE: fold it in.
                scales: c.scales1.iter().map(|s| s * INPUT_SCALE).collect(),
                weights: a1.data,
                bias: tuned.b1.to_vec(),
                conv: None,
                requant: None,
            },
            IntLayer {
                name: "fc2".into(),
                rows: a2.rows,
                cols: a2.cols,
                scales: c.scales2.clone(),
                weights: a2.data,
                bias: tuned.b2.to_vec(),
                conv: None,
                requant: None,
            },
        ],
    };
    file.validate()
        .context("internal error: exported weights")?;
    let int_model_accuracy = int_model_accuracy(&file, &test)?;
    Ok(CompressReport {
        accuracy: Accuracy {
            float: acc_float,
            int8: acc_int8,
            projected: acc_projected,
            admm: acc_admm,
        },
        zero_bit_fraction: zero,
        train_size: train.len(),
        test_size: test.len(),
        int_model_accuracy,
        weights: file,
    })
}

fn quant(w: &Array2<f32>) -> Quantized {
    let (r, c) = w.dim();
    let flat: Vec<f32> = w.iter().copied().collect();
    quantize(&flat, r, c, MAG_BITS, Granularity::PerChannel)
}

fn from_vec(like: &Array2<f32>, v: Vec<f32>) -> Array2<f32> {
    Array2::from_shape_vec(like.raw_dim(), v).expect("shape")
}

/// `round(w / scale_c)`, checking that it reproduces `w` exactly (it does
/// for the output of [`project_real`](crate::compiler::pattern::project_real)).
fn to_ints(w: &Array2<f32>, scales: &[f32], name: &str) -> Result<WeightMatrix> {
    let (rows, cols) = w.dim();
    let mut data = Vec::with_capacity(rows * cols);
    for ((_, c), &v) in w.indexed_iter() {
        let s = scales[c];
        let n = (v / s).round();
        if n * s != v {
            bail!("internal error: {name} weight {v} is not a multiple of its scale {s}");
        }
        data.push(n as i32);
    }
    Ok(WeightMatrix { rows, cols, data })
}

/// Zero-bit share over several matrices, weighted by their sizes.
fn zero_bits(ms: &[&WeightMatrix]) -> f64 {
    let n: usize = ms.iter().map(|m| m.data.len()).sum();
    if n == 0 {
        return 0.0;
    }
    ms.iter()
        .map(|m| zero_bit_fraction(m, MAG_BITS) * m.data.len() as f64)
        .sum::<f64>()
        / n as f64
}

/// The integer model of one layer: `y[c] = sum_r x[r] * W_int[r][c]` in
/// exact integer arithmetic (missing inputs are zero). This is what the
/// tile computes for the layer with a lossless ADC.
pub fn layer_int(l: &IntLayer, x: &[u8]) -> Vec<i64> {
    (0..l.cols)
        .map(|c| {
            (0..l.rows)
                .map(|r| x.get(r).copied().unwrap_or(0) as i64 * l.weights[r * l.cols + c] as i64)
                .sum()
        })
        .collect()
}

/// Test accuracy of a two-layer integer weights file on `d`: layer 1 is
/// `sum_r x_int[r] * W_int[r][c]` in exact integer arithmetic, times
/// `scales[c]`, plus the bias, then ReLU; layer 2 multiplies those float
/// activations with `W_int * scale` plus the bias; the prediction is the
/// arg-max (first on ties).
pub(crate) fn int_model_accuracy(f: &WeightsFile, d: &Dataset) -> Result<f64> {
    f.validate()?;
    let (l1, l2) = (f.layer("fc1")?, f.layer("fc2")?);
    if l1.rows != PIXELS || l2.rows != l1.cols || l2.cols != CLASSES {
        bail!(
            "expected fc1 {PIXELS} x H and fc2 H x {CLASSES}, got {} x {} and {} x {}",
            l1.rows,
            l1.cols,
            l2.rows,
            l2.cols
        );
    }
    let sc = |l: &IntLayer, c: usize| {
        if l.scales.len() == 1 {
            l.scales[0]
        } else {
            l.scales[c]
        }
    };
    let bias = |l: &IntLayer, c: usize| l.bias.get(c).copied().unwrap_or(0.0);
    let mut hits = 0usize;
    let mut h = vec![0f32; l1.cols];
    let mut z = vec![0f32; l2.cols];
    for i in 0..d.len() {
        let acc1 = layer_int(l1, d.image(i));
        for (c, hc) in h.iter_mut().enumerate() {
            *hc = (acc1[c] as f32 * sc(l1, c) + bias(l1, c)).max(0.0);
        }
        for (c, zc) in z.iter_mut().enumerate() {
            let acc: f32 = (0..l2.rows)
                .map(|r| h[r] * l2.weights[r * l2.cols + c] as f32)
                .sum();
            *zc = acc * sc(l2, c) + bias(l2, c);
        }
        if mlp::argmax(&z) == d.y[i] as usize {
            hits += 1;
        }
    }
    Ok(if d.is_empty() {
        0.0
    } else {
        hits as f64 / d.len() as f64
    })
}

/// How the train/test split is made, for reports.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct SplitInfo {
    /// The method, in words.
    pub method: &'static str,
    /// Share of each class that goes to test.
    pub test_fraction: f64,
    /// Split seed.
    pub seed: u64,
    /// Training rows.
    pub train: usize,
    /// Test rows.
    pub test: usize,
}

/// The ADMM hyper-parameters, for reports.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct AdmmInfo {
    /// W-step learning rate.
    pub lr: f64,
    /// Fine-tune learning rate.
    pub finetune_lr: f64,
    /// Initial rho.
    pub rho0: f64,
    /// rho growth per epoch.
    pub rho_growth: f64,
    /// Largest rho.
    pub rho_max: f64,
    /// Minibatch size.
    pub batch: usize,
}

/// `sme compress --json`: the settings and results of one run (schema in
/// `docs/json.md`).
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct CompressSummary {
    /// Data set name.
    pub dataset: &'static str,
    /// Data file.
    pub data: String,
    /// Train/test split.
    pub split: SplitInfo,
    /// Seed of the weight init and the minibatch order.
    pub seed: u64,
    /// The model, in words.
    pub model: String,
    /// Hidden units.
    pub hidden: usize,
    /// Float learning rate.
    pub lr: f64,
    /// Pattern kind.
    pub pattern: PatternKind,
    /// Bits per weight (khot) or per window (group).
    pub k: u32,
    /// Group window `[m, g]` (null for khot).
    pub window: Option<[u32; 2]>,
    /// Weight bits including the sign.
    pub weight_bits: u32,
    /// Magnitude bits.
    pub mag_bits: u32,
    /// Float epochs.
    pub epochs: usize,
    /// ADMM epochs.
    pub admm_epochs: usize,
    /// Fine-tune epochs.
    pub finetune_epochs: usize,
    /// ADMM hyper-parameters.
    pub admm: AdmmInfo,
    /// Test accuracies by stage.
    pub accuracy: Accuracy,
    /// Accuracy of the exported integer model.
    pub int_model_accuracy: f64,
    /// Zero-bit share of the ADMM weights.
    pub zero_bit_fraction: f64,
    /// Zero-bit share by stage.
    pub zero_bit_fraction_by_stage: ZeroBits,
    /// Wall time of the run (s).
    pub seconds: f64,
}

impl CompressReport {
    /// The report of a run with `opts` that took `seconds`.
    pub(crate) fn summary(&self, opts: &CompressOptions, seconds: f64) -> CompressSummary {
        let (k, window) = match opts.pattern {
            Pattern::KHot { k } => (k, None),
            Pattern::Group { k, m, g } => (k, Some([m, g])),
            Pattern::Dense => (0, None),
        };
        CompressSummary {
            dataset: "digits",
            data: opts.data.display().to_string(),
            split: SplitInfo {
                method: "stratified: each class's rows shuffled with StdRng(seed), first round(20%) to test",
                test_fraction: TEST_FRACTION,
                seed: opts.split_seed,
                train: self.train_size,
                test: self.test_size,
            },
            seed: opts.seed,
            model: format!("mlp 64-{}-10 relu", opts.hidden),
            hidden: opts.hidden,
            lr: f32_json(opts.lr),
            pattern: opts.pattern.kind(),
            k,
            window,
            weight_bits: WEIGHT_BITS,
            mag_bits: MAG_BITS,
            epochs: opts.epochs,
            admm_epochs: opts.admm.epochs,
            finetune_epochs: opts.admm.finetune_epochs,
            admm: AdmmInfo {
                lr: f32_json(opts.admm.lr),
                finetune_lr: f32_json(opts.admm.finetune_lr),
                rho0: f32_json(opts.admm.rho0),
                rho_growth: f32_json(opts.admm.rho_growth),
                rho_max: f32_json(opts.admm.rho_max),
                batch: opts.admm.batch,
            },
            accuracy: self.accuracy,
            int_model_accuracy: self.int_model_accuracy,
            zero_bit_fraction: self.zero_bit_fraction.admm,
            zero_bit_fraction_by_stage: self.zero_bit_fraction,
            seconds,
        }
    }
}

/// An f32 as the shortest decimal that reads back to it (`1e-3`, not
/// `0.0010000000474974513`).
fn f32_json(x: f32) -> f64 {
    x.to_string().parse().unwrap_or(x as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    /// A learnable synthetic data set: 10 random prototype images plus
    /// noise, clamped to 0..=16.
    fn synthetic(n: usize, seed: u64) -> Dataset {
        let mut rng = StdRng::seed_from_u64(seed);
        let protos: Vec<Vec<i32>> = (0..CLASSES)
            .map(|_| (0..PIXELS).map(|_| rng.random_range(0..=16)).collect())
            .collect();
        let mut d = Dataset::default();
        for i in 0..n {
            let c = i % CLASSES;
            for &p in &protos[c] {
                d.x.push((p + rng.random_range(-5..=5)).clamp(0, 16) as u8);
            }
            d.y.push(c as u8);
        }
        d
    }

    fn quick(pattern: Pattern) -> CompressOptions {
        CompressOptions {
            pattern,
            hidden: 24,
            epochs: 15,
            admm: AdmmSchedule {
                epochs: 5,
                finetune_epochs: 3,
                ..AdmmSchedule::default()
            },
            ..CompressOptions::default()
        }
    }

    #[test]
    fn admm_end_state_is_in_pattern_for_every_pattern() {
        let d = synthetic(300, 3);
        let mut patterns = vec![];
        for k in 1..=3 {
            patterns.push(Pattern::KHot { k });
        }
        for k in 1..=2 {
            patterns.push(Pattern::Group {
                k,
                m: GROUP_M,
                g: GROUP_G,
            });
        }
        for p in patterns {
            let mut ticks = 0;
            let rep = compress_dataset(&quick(p), &d, |pr| {
                ticks += 1;
                assert_eq!(pr.total, 15 + 5 + 3);
            })
            .unwrap();
            assert_eq!(ticks, 23);
            assert_eq!(rep.train_size + rep.test_size, 300);
            assert_eq!(rep.test_size, 60);
            let f = &rep.weights;
            assert_eq!(f.weight_bits, 8);
            assert_eq!(f.layers.len(), 2);
            for l in &f.layers {
                assert!(in_pattern(&p, &l.matrix(), MAG_BITS), "{p:?} {}", l.name);
                assert_eq!(l.scales.len(), l.cols);
            }
            assert_eq!((f.layers[0].rows, f.layers[0].cols), (64, 24));
            assert_eq!((f.layers[1].rows, f.layers[1].cols), (24, 10));
            let a = rep.accuracy;
            for v in [a.float, a.int8, a.projected, a.admm] {
                assert!((0.0..=1.0).contains(&v));
            }
            // Easy data: the float model learns it.
            assert!(a.float > 0.9, "{a:?}");
            // The integer model is the ADMM model.
            assert!(
                (rep.int_model_accuracy - a.admm).abs() <= 1.0 / 60.0 + 1e-9,
                "{rep:?}"
            );
            let z = rep.zero_bit_fraction;
            assert!(z.admm >= z.int8, "{z:?}");
        }
    }

    #[test]
    fn compress_is_deterministic() {
        let d = synthetic(200, 4);
        let o = quick(Pattern::KHot { k: 2 });
        let a = compress_dataset(&o, &d, |_| {}).unwrap();
        let b = compress_dataset(&o, &d, |_| {}).unwrap();
        assert_eq!(a, b);
        let c = compress_dataset(&CompressOptions { seed: 9, ..o }, &d, |_| {}).unwrap();
        assert_ne!(a.weights, c.weights);
    }

    #[test]
    fn f32_json_is_the_short_decimal() {
        assert_eq!(f32_json(1e-3), 0.001);
    }

    #[test]
    fn options_are_validated() {
        let bad = |o: CompressOptions| {
            format!(
                "{:#}",
                compress_dataset(&o, &synthetic(50, 1), |_| {}).unwrap_err()
            )
        };
        let o = CompressOptions::default();
        assert!(
            bad(CompressOptions {
                pattern: Pattern::KHot { k: 0 },
                ..o.clone()
            })
            .contains("k 0 is out of range: valid 1..=7")
        );
        assert!(
            bad(CompressOptions {
                pattern: Pattern::Group { k: 8, m: 16, g: 8 },
                ..o.clone()
            })
            .contains("k 8 is out of range")
        );
        assert!(
            bad(CompressOptions {
                pattern: Pattern::Dense,
                ..o.clone()
            })
            .contains("khot or group")
        );
        assert!(
            bad(CompressOptions {
                epochs: 0,
                ..o.clone()
            })
            .contains("epochs must be at least 1")
        );
        let e = format!(
            "{:#}",
            compress_dataset(&o, &synthetic(3, 1), |_| {}).unwrap_err()
        );
        assert!(e.contains("too few"), "{e}");
    }
}
