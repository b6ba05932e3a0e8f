//! `sme compress --dataset mnist --model lenet`: train the LeNet
//! ([`super::cnn`]) on MNIST, quantize it to the integer network the tile
//! runs ([`crate::qnet`]) and fine-tune it with ADMM onto a bit-sparse
//! pattern, measuring test accuracy at every stage.
//!
//! Pipeline of [`compress_lenet`]:
//!
//! 1. stratified split ([`super::data::split`], 20 % test: 8,000 / 2,000 rows
//!    of `data/mnist10k.csv.gz`, split seed [`LenetOptions::split_seed`]);
//!    only the accuracy measurements look at test rows;
//! 2. float model, Adam ([`cnn::fit`], seed [`LenetOptions::seed`]);
//! 3. weights: per-output-channel symmetric scales with 7 magnitude bits
//!    ([`quantize`], [`Granularity::PerChannel`]) for every conv and FC
//!    matrix; the same scales constrain the projection and ADMM;
//! 4. integer network ([`export`]): activations unsigned 8 bits after each
//!    ReLU; activation scale of layer `l` = (largest float activation of
//!    that layer over the first [`CALIBRATION_ROWS`] training rows) / 255,
//!    the input scale is 1/255 (raw pixels); requantization is a
//!    per-column integer multiplier below 2^16 and integer bias with one
//!    right shift per layer (`mult = round(s_in s_w[c] / s_out 2^S)`,
//!    `bias = round(b[c] / s_out 2^S)`); the logits layer uses
//!    `s_out = max |logit| / 2^15`;
//! 5. accuracy `int8`, `projected` and `admm` are the integer network's
//!    ([`qnet::classify`]) with the int8, the hard-projected and the ADMM
//!    weights; `float` is the float model's.

use super::admm::{AdmmSchedule, penalty, project_matrix};
use super::cnn::{self, Adam, Cnn, INPUT_SCALE, KERNEL, LAYER_NAMES, LeNetShape, POOL};
use super::data::{self, CLASSES, Dataset, MNIST_PIXELS};
use super::mlp::{batches, gather};
use super::{
    Accuracy, MAG_BITS, Progress, TEST_FRACTION, WEIGHT_BITS, ZeroBits, to_ints, zero_bits,
};
use crate::compiler::pattern::{Pattern, in_pattern};
use crate::compiler::quant::{Granularity, quantize};
use crate::program::WeightMatrix;
use crate::qnet;
use crate::weights::{self, ConvInfo, IntLayer, Requant, WeightsFile};
use anyhow::{Context, Result, bail};
use ndarray::Array2;
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::path::PathBuf;

/// Training rows that calibrate the activation scales.
pub(crate) const CALIBRATION_ROWS: usize = 1000;
/// Default MNIST path, relative to the working directory.
pub(crate) const DEFAULT_MNIST: &str = "data/mnist10k.csv.gz";
/// Requantization multipliers are below this.
pub(crate) const MULT_LIMIT: f64 = 65536.0;

/// Everything [`compress_lenet`] needs.
#[derive(Clone, Debug, PartialEq)]
pub struct LenetOptions {
    /// The MNIST CSV (gzip or plain).
    pub data: PathBuf,
    /// `KHot { k }` or `Group { k, m: 16, g: 8 }`.
    pub pattern: Pattern,
    /// Channels and hidden units.
    pub shape: LeNetShape,
    /// Float training epochs.
    pub epochs: usize,
    /// Float learning rate (Adam).
    pub lr: f32,
    /// ADMM and fine-tune schedule (its `batch` is used for every stage).
    pub admm: AdmmSchedule,
    /// Seed of the weight init and the minibatch order.
    pub seed: u64,
    /// Seed of the train/test split.
    pub split_seed: u64,
    /// Use only the first this many training rows (tests); `None`: all.
    pub train_limit: Option<usize>,
}

impl Default for LenetOptions {
    fn default() -> Self {
        LenetOptions {
            data: PathBuf::from(DEFAULT_MNIST),
            pattern: Pattern::Group {
                k: 2,
                m: super::GROUP_M,
                g: super::GROUP_G,
            },
            shape: LeNetShape::default(),
            epochs: 15,
            lr: 2e-3,
            admm: AdmmSchedule {
                epochs: 15,
                finetune_epochs: 5,
                batch: 64,
                lr: 5e-4,
                finetune_lr: 2e-4,
                rho0: 1e-2,
                rho_growth: 1.5,
                rho_max: 1.0,
            },
            seed: 1,
            split_seed: super::DEFAULT_SPLIT_SEED,
            train_limit: None,
        }
    }
}

impl LenetOptions {
    /// Checks the ranges; the message names the option and the valid range.
    pub fn validate(&self) -> Result<()> {
        super::check_k(&self.pattern)?;
        if self.epochs == 0 || self.admm.epochs == 0 {
            bail!("epochs and ADMM epochs must be at least 1");
        }
        if self.admm.batch == 0 {
            bail!("batch size must be at least 1");
        }
        self.shape.validate()
    }
}

/// What [`compress_lenet`] measured and produced.
#[derive(Clone, Debug, PartialEq)]
pub struct LenetReport {
    /// Test accuracies (`int8`, `projected`, `admm`: the integer network).
    pub accuracy: Accuracy,
    /// Float model with the ADMM weights (integer weights times scales).
    pub admm_float: f64,
    /// Zero magnitude bits over all four layers.
    pub zero_bit_fraction: ZeroBits,
    /// Training rows.
    pub train_size: usize,
    /// Test rows.
    pub test_size: usize,
    /// The int8 integer network (no pattern).
    pub int8: WeightsFile,
    /// The ADMM integer network.
    pub weights: WeightsFile,
}

/// Loads `opts.data` and runs [`compress_lenet_dataset`].
pub(crate) fn compress_lenet(
    opts: &LenetOptions,
    progress: impl FnMut(Progress),
) -> Result<LenetReport> {
    opts.validate()?;
    let d = data::load_mnist(&opts.data)?;
    compress_lenet_dataset(opts, &d, progress)
}

/// The whole pipeline (module doc) on an in-memory MNIST data set.
pub(crate) fn compress_lenet_dataset(
    opts: &LenetOptions,
    d: &Dataset,
    mut progress: impl FnMut(Progress),
) -> Result<LenetReport> {
    opts.validate()?;
    let side = opts.shape.side;
    if d.pixels != side * side {
        bail!(
            "images have {} pixels, the LeNet needs {side} x {side} = {}",
            d.pixels,
            side * side
        );
    }
    let sp = data::split(d, TEST_FRACTION, opts.split_seed);
    if sp.train.is_empty() || sp.test.is_empty() {
        bail!(
            "{} rows are too few for a train/test split: need at least one test row",
            d.len()
        );
    }
    let mut train_idx = sp.train.clone();
    if let Some(n) = opts.train_limit {
        // Every class in the subset: take rows round-robin over the classes.
        let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); CLASSES];
        for &i in &sp.train {
            by_class[d.y[i] as usize].push(i);
        }
        train_idx.clear();
        let mut j = 0;
        while train_idx.len() < n && by_class.iter().any(|c| j < c.len()) {
            for c in &by_class {
                if j < c.len() && train_idx.len() < n {
                    train_idx.push(c[j]);
                }
            }
            j += 1;
        }
    }
    let (train, test) = (d.subset(&train_idx), d.subset(&sp.test));
    let (xtr, xte) = (cnn::inputs(&train), cnn::inputs(&test));

    let s = &opts.admm;
    let total = opts.epochs + s.epochs + s.finetune_epochs;
    let mut done = 0;
    let mut tick = |stage: &'static str| {
        done += 1;
        progress(Progress { stage, done, total });
    };

    // 1. Float model.
    let mut rng = StdRng::seed_from_u64(opts.seed);
    let mut net = Cnn::new(opts.shape, opts.seed);
    cnn::fit(
        &mut net,
        &xtr,
        &train.y,
        opts.epochs,
        s.batch,
        opts.lr,
        &mut rng,
        |_| tick("float"),
    );
    let acc_float = net.accuracy(&xte, &test.y);

    // 2. Per-channel scales and int8 weights.
    let scales: Vec<Vec<f32>> = net.w.iter().map(quant_scales).collect();
    let calib = xtr
        .slice(ndarray::s![..CALIBRATION_ROWS.min(xtr.nrows()), ..])
        .to_owned();
    let project = |n: &Cnn, p: &Pattern| -> Cnn {
        let mut o = n.clone();
        for (l, w) in o.w.iter_mut().enumerate() {
            *w = project_matrix(p, MAG_BITS, &scales[l], w);
        }
        o
    };
    let int8_net = project(&net, &Pattern::Dense);
    let int8 = export(
        &int8_net,
        &scales,
        &calib,
        &Pattern::Dense,
        "mnist-lenet-int8",
    )?;
    let acc_int8 = int_accuracy(&int8, &test)?;

    // 3. Hard projection.
    let projected_net = project(&net, &opts.pattern);
    let projected = export(
        &projected_net,
        &scales,
        &calib,
        &opts.pattern,
        "mnist-lenet",
    )?;
    let acc_projected = int_accuracy(&projected, &test)?;

    // 4. ADMM, hard projection, straight-through fine-tune.
    let mut w = net.clone();
    let mut z = project(&w, &opts.pattern);
    let mut u: Vec<Array2<f32>> = w.w.iter().map(|m| Array2::zeros(m.raw_dim())).collect();
    let mut rho = s.rho0;
    let mut opt = Adam::new(&w, s.lr);
    for _ in 0..s.epochs {
        for b in batches(train.len(), s.batch, &mut rng) {
            let (xb, yb) = gather(&xtr, &train.y, &b);
            let (_, mut g) = w.loss_and_grad(&xb, &yb);
            for (l, gl) in g.w.iter_mut().enumerate() {
                penalty(gl, &w.w[l], &z.w[l], &u[l], rho);
            }
            opt.step(&mut w, &g);
        }
        for l in 0..4 {
            z.w[l] = project_matrix(&opts.pattern, MAG_BITS, &scales[l], &(&w.w[l] + &u[l]));
            u[l] += &(&w.w[l] - &z.w[l]);
        }
        rho = (rho * s.rho_growth).min(s.rho_max);
        tick("admm");
    }
    let mut shadow = project(&w, &opts.pattern);
    let mut opt = Adam::new(&shadow, s.finetune_lr);
    for _ in 0..s.finetune_epochs {
        for b in batches(train.len(), s.batch, &mut rng) {
            let (xb, yb) = gather(&xtr, &train.y, &b);
            let fwd = project(&shadow, &opts.pattern);
            let (_, g) = fwd.loss_and_grad(&xb, &yb);
            opt.step(&mut shadow, &g);
        }
        tick("finetune");
    }
    let tuned = project(&shadow, &opts.pattern);
    let admm_float = tuned.accuracy(&xte, &test.y);
    let weights = export(&tuned, &scales, &calib, &opts.pattern, "mnist-lenet")?;
    for l in &weights.layers {
        if !in_pattern(&opts.pattern, &l.matrix(), MAG_BITS) {
            bail!(
                "internal error: ADMM weights of {} are not in {:?}",
                l.name,
                opts.pattern
            );
        }
    }
    let acc_admm = int_accuracy(&weights, &test)?;
    let mats =
        |f: &WeightsFile| -> Vec<WeightMatrix> { f.layers.iter().map(IntLayer::matrix).collect() };
    let zb = |f: &WeightsFile| {
        let m = mats(f);
        zero_bits(&m.iter().collect::<Vec<_>>())
    };
    Ok(LenetReport {
        accuracy: Accuracy {
            float: acc_float,
            int8: acc_int8,
            projected: acc_projected,
            admm: acc_admm,
        },
        admm_float,
        zero_bit_fraction: ZeroBits {
            int8: zb(&int8),
            projected: zb(&projected),
            admm: zb(&weights),
        },
        train_size: train.len(),
        test_size: test.len(),
        int8,
        weights,
    })
}

/// Per-column int8 scales of `w`.
fn quant_scales(w: &Array2<f32>) -> Vec<f32> {
    let (r, c) = w.dim();
    let flat: Vec<f32> = w.iter().copied().collect();
    quantize(&flat, r, c, MAG_BITS, Granularity::PerChannel).scales
}

/// Accuracy of the integer network on `d`.
pub(crate) fn int_accuracy(f: &WeightsFile, d: &Dataset) -> Result<f64> {
    qnet::check_network(f)?;
    let mut hits = 0;
    for i in 0..d.len() {
        if qnet::classify(f, d.image(i))? == d.y[i] as usize {
            hits += 1;
        }
    }
    Ok(if d.is_empty() {
        0.0
    } else {
        hits as f64 / d.len() as f64
    })
}

/// The integer network (weights file version 2) of `net`, whose weights
/// are multiples of `scales` (module doc, step 4). `calib` are float model
/// inputs for the activation scales.
pub(crate) fn export(
    net: &Cnn,
    scales: &[Vec<f32>],
    calib: &Array2<f32>,
    pattern: &Pattern,
    name: &str,
) -> Result<WeightsFile> {
    let sh = net.shape;
    let amax = net.activation_max(calib);
    let mut s_in = INPUT_SCALE as f64;
    let mut layers = Vec::new();
    for l in 0..4 {
        let ints = to_ints(&net.w[l], &scales[l], LAYER_NAMES[l])?;
        let last = l == 3;
        let s_out = if last {
            (amax[3] as f64).max(1e-6) / 32768.0
        } else {
            (amax[l] as f64).max(1e-6) / 255.0
        };
        let real: Vec<f64> = scales[l]
            .iter()
            .map(|&sw| s_in * sw as f64 / s_out)
            .collect();
        let top = real.iter().cloned().fold(0.0f64, f64::max).max(1e-30);
        let shift = ((MULT_LIMIT - 1.0) / top).log2().floor().clamp(1.0, 40.0) as u32;
        let p = (1u64 << shift) as f64;
        let mult: Vec<i64> = real
            .iter()
            .map(|m| ((m * p).round() as i64).max(1))
            .collect();
        let bias: Vec<i64> = net.b[l]
            .iter()
            .map(|&b| (b as f64 / s_out * p).round() as i64)
            .collect();
        let conv = match l {
            0 => Some(ConvInfo {
                in_h: sh.side,
                in_w: sh.side,
                in_c: 1,
                kernel: KERNEL,
                stride: 1,
                pool: POOL,
            }),
            1 => Some(ConvInfo {
                in_h: sh.p1(),
                in_w: sh.p1(),
                in_c: sh.c1,
                kernel: KERNEL,
                stride: 1,
                pool: POOL,
            }),
            _ => None,
        };
        layers.push(IntLayer {
            name: LAYER_NAMES[l].into(),
            rows: ints.rows,
            cols: ints.cols,
            scales: scales[l].clone(),
            weights: ints.data,
            bias: net.b[l].to_vec(),
            conv,
            requant: Some(Requant {
                mult,
                bias,
                shift,
                relu: !last,
            }),
        });
        s_in = s_out;
    }
    let (kind, k) = match pattern {
        Pattern::KHot { k } => ("khot", *k),
        Pattern::Group { k, .. } => ("group", *k),
        Pattern::Dense => ("none", 0),
    };
    let f = WeightsFile {
        format: weights::FORMAT.into(),
        version: weights::VERSION_NETWORK,
        name: name.into(),
        weight_bits: WEIGHT_BITS,
        pattern: kind.into(),
        k,
        window: match *pattern {
            Pattern::Group { m, g, .. } => Some([m, g]),
            _ => None,
        },
        layers,
    };
    qnet::check_network(&f).context("internal error: exported LeNet")?;
    if qnet::check_network(&f)? != MNIST_PIXELS && sh.side == 28 {
        bail!("internal error: LeNet input size");
    }
    Ok(f)
}

/// `sme compress --model lenet --json`: the settings and results of one
/// run (schema in `docs/json.md`).
#[derive(serde::Serialize, Clone, Debug, PartialEq)]
pub struct LenetSummary {
    /// Data set name (`mnist`).
    pub dataset: &'static str,
    /// Data file.
    pub data: String,
    /// Train/test split.
    pub split: super::SplitInfo,
    /// Seed of the weight init and the minibatch order.
    pub seed: u64,
    /// The model, in words.
    pub model: String,
    /// Float learning rate.
    pub lr: f64,
    /// Pattern kind.
    pub pattern: crate::compiler::pattern::PatternKind,
    /// Bits per weight (khot) or per window (group).
    pub k: u32,
    /// Group window `[m, g]` (null for khot).
    pub window: Option<[u32; 2]>,
    /// Weight bits including the sign.
    pub weight_bits: u32,
    /// Activation bits (unsigned).
    pub act_bits: u32,
    /// Float epochs.
    pub epochs: usize,
    /// ADMM epochs.
    pub admm_epochs: usize,
    /// Fine-tune epochs.
    pub finetune_epochs: usize,
    /// ADMM hyper-parameters.
    pub admm: super::AdmmInfo,
    /// Test accuracies by stage (`int8`, `projected`, `admm`: the integer
    /// network).
    pub accuracy: Accuracy,
    /// Float model with the ADMM weights.
    pub admm_float: f64,
    /// Zero-bit share of the ADMM weights.
    pub zero_bit_fraction: f64,
    /// Zero-bit share by stage.
    pub zero_bit_fraction_by_stage: ZeroBits,
    /// Wall time of the run (s).
    pub seconds: f64,
}

impl LenetReport {
    /// The report of a run with `opts` that took `seconds`.
    pub(crate) fn summary(&self, opts: &LenetOptions, seconds: f64) -> LenetSummary {
        let (k, window) = match opts.pattern {
            Pattern::KHot { k } => (k, None),
            Pattern::Group { k, m, g } => (k, Some([m, g])),
            Pattern::Dense => (0, None),
        };
        let sh = opts.shape;
        let a = &opts.admm;
        LenetSummary {
            dataset: "mnist",
            data: opts.data.display().to_string(),
            split: super::SplitInfo {
                method: "stratified: each class's rows shuffled with StdRng(seed), first round(20%) to test",
                test_fraction: TEST_FRACTION,
                seed: opts.split_seed,
                train: self.train_size,
                test: self.test_size,
            },
            seed: opts.seed,
            model: format!(
                "lenet {s}x{s}: conv5x5({}) relu pool2, conv5x5({}) relu pool2, fc {}-{} relu, fc {}-10",
                sh.c1,
                sh.c2,
                sh.flat(),
                sh.hidden,
                sh.hidden,
                s = sh.side
            ),
            lr: super::f32_json(opts.lr),
            pattern: opts.pattern.kind(),
            k,
            window,
            weight_bits: WEIGHT_BITS,
            act_bits: weights::ACT_BITS,
            epochs: opts.epochs,
            admm_epochs: a.epochs,
            finetune_epochs: a.finetune_epochs,
            admm: super::AdmmInfo {
                lr: super::f32_json(a.lr),
                finetune_lr: super::f32_json(a.finetune_lr),
                rho0: super::f32_json(a.rho0),
                rho_growth: super::f32_json(a.rho_growth),
                rho_max: super::f32_json(a.rho_max),
                batch: a.batch,
            },
            accuracy: self.accuracy,
            admm_float: self.admm_float,
            zero_bit_fraction: self.zero_bit_fraction.admm,
            zero_bit_fraction_by_stage: self.zero_bit_fraction,
            seconds,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    /// A learnable 16x16 data set: 10 random prototypes plus noise.
    fn synthetic(n: usize, seed: u64) -> Dataset {
        let mut rng = StdRng::seed_from_u64(seed);
        let protos: Vec<Vec<i32>> = (0..CLASSES)
            .map(|_| (0..256).map(|_| rng.random_range(0..=255)).collect())
            .collect();
        let mut d = Dataset {
            pixels: 256,
            ..Dataset::default()
        };
        for i in 0..n {
            let c = i % CLASSES;
            for &p in &protos[c] {
                d.x.push((p + rng.random_range(-60..=60)).clamp(0, 255) as u8);
            }
            d.y.push(c as u8);
        }
        d
    }

    fn quick(pattern: Pattern) -> LenetOptions {
        LenetOptions {
            pattern,
            shape: LeNetShape {
                c1: 4,
                c2: 8,
                hidden: 16,
                side: 16,
            },
            epochs: 10,
            admm: AdmmSchedule {
                epochs: 2,
                finetune_epochs: 1,
                batch: 16,
                ..LenetOptions::default().admm
            },
            ..LenetOptions::default()
        }
    }

    #[test]
    fn every_layer_ends_in_its_pattern_and_runs_as_an_integer_network() {
        let d = synthetic(300, 3);
        let mut patterns: Vec<Pattern> = (1..=3).map(|k| Pattern::KHot { k }).collect();
        for k in 1..=2 {
            patterns.push(Pattern::Group { k, m: 16, g: 8 });
        }
        for p in patterns {
            let mut ticks = 0;
            let rep = compress_lenet_dataset(&quick(p), &d, |_| ticks += 1).unwrap();
            assert_eq!(ticks, 10 + 2 + 1);
            assert_eq!((rep.train_size, rep.test_size), (240, 60));
            let f = &rep.weights;
            assert_eq!(f.version, weights::VERSION_NETWORK);
            assert_eq!(qnet::check_network(f).unwrap(), 256);
            assert_eq!(f.layers.len(), 4);
            for l in &f.layers {
                assert!(in_pattern(&p, &l.matrix(), MAG_BITS), "{p:?} {}", l.name);
                assert_eq!(l.scales.len(), l.cols);
            }
            // The int8 network is not in a k <= 3 pattern in general, but
            // is a valid network of the same shape.
            assert_eq!(qnet::check_network(&rep.int8).unwrap(), 256);
            let a = rep.accuracy;
            assert!(a.float > 0.9, "{p:?} {a:?}");
            // 8-bit weights and activations cost little on easy data.
            assert!(a.int8 >= a.float - 0.05, "{p:?} {a:?}");
            assert!(rep.zero_bit_fraction.admm >= rep.zero_bit_fraction.int8);
            // The file round-trips.
            assert_eq!(&WeightsFile::from_json(&f.to_json().unwrap()).unwrap(), f);
        }
    }

    #[test]
    fn wrong_image_size_and_options_are_named() {
        let d = synthetic(50, 1);
        let e = format!(
            "{:#}",
            compress_lenet_dataset(&LenetOptions::default(), &d, |_| {}).unwrap_err()
        );
        assert!(
            e.contains("images have 256 pixels, the LeNet needs 28 x 28 = 784"),
            "{e}"
        );
        let o = LenetOptions {
            pattern: Pattern::KHot { k: 9 },
            ..quick(Pattern::KHot { k: 1 })
        };
        let e = format!("{:#}", compress_lenet_dataset(&o, &d, |_| {}).unwrap_err());
        assert!(e.contains("k 9 is out of range"), "{e}");
    }
}
