//! A two-layer perceptron `inputs -> hidden (ReLU) -> classes` with a
//! hand-written forward and backward pass (softmax cross-entropy) and Adam.
//!
//! Layout matches the crossbar: weights are `rows x cols` with rows =
//! inputs and cols = outputs, so a layer is `y = x W + b`. The float model
//! sees the integer pixels times [`INPUT_SCALE`]; layer 1 of the integer
//! model is exactly `x_int W_int` with the scale folded into the column
//! scales (see [`super::CompressReport::weights`]).
//!
//! Everything is single-threaded and deterministic for a given seed.

use super::data::{Dataset, PIXELS};
use ndarray::{Array1, Array2, Axis};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// The float model's input is `pixel * INPUT_SCALE` (pixels 0..=16 -> 0..=1).
pub(crate) const INPUT_SCALE: f32 = 1.0 / 16.0;

/// Model inputs for `d`: `len x PIXELS`, pixels times [`INPUT_SCALE`].
pub fn inputs(d: &Dataset) -> Array2<f32> {
    Array2::from_shape_fn((d.len(), PIXELS), |(i, j)| {
        d.x[i * PIXELS + j] as f32 * INPUT_SCALE
    })
}

/// Weights and biases of the two layers.
#[derive(Clone, Debug, PartialEq)]
pub struct Mlp {
    /// Layer 1 weights, `inputs x hidden`.
    pub w1: Array2<f32>,
    /// Layer 1 bias, `hidden`.
    pub b1: Array1<f32>,
    /// Layer 2 weights, `hidden x classes`.
    pub w2: Array2<f32>,
    /// Layer 2 bias, `classes`.
    pub b2: Array1<f32>,
}

/// Gradients, shaped like [`Mlp`].
#[derive(Clone, Debug, PartialEq)]
pub struct Grads {
    /// d loss / d w1.
    pub w1: Array2<f32>,
    /// d loss / d b1.
    pub b1: Array1<f32>,
    /// d loss / d w2.
    pub w2: Array2<f32>,
    /// d loss / d b2.
    pub b2: Array1<f32>,
}

impl Mlp {
    /// He-uniform weights (`U(-sqrt(6/fan_in), sqrt(6/fan_in))`, drawn row
    /// by row from `StdRng::seed_from_u64(seed)`), zero biases.
    pub fn new(inputs: usize, hidden: usize, classes: usize, seed: u64) -> Mlp {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut init = |r: usize, c: usize| {
            let lim = (6.0 / r as f32).sqrt();
            Array2::from_shape_simple_fn((r, c), || (rng.random::<f32>() * 2.0 - 1.0) * lim)
        };
        let w1 = init(inputs, hidden);
        let w2 = init(hidden, classes);
        Mlp {
            w1,
            b1: Array1::zeros(hidden),
            w2,
            b2: Array1::zeros(classes),
        }
    }

    /// Logits for a batch `x` (`batch x inputs`).
    pub fn logits(&self, x: &Array2<f32>) -> Array2<f32> {
        let h = (x.dot(&self.w1) + &self.b1).mapv(relu);
        h.dot(&self.w2) + &self.b2
    }

    /// Share of rows of `x` whose arg-max logit (first on ties) equals the
    /// label.
    pub fn accuracy(&self, x: &Array2<f32>, y: &[u8]) -> f64 {
        if y.is_empty() {
            return 0.0;
        }
        let z = self.logits(x);
        let hits = z
            .outer_iter()
            .zip(y)
            .filter(|(row, l)| argmax(row.as_slice().expect("standard layout")) == **l as usize)
            .count();
        hits as f64 / y.len() as f64
    }

    /// Mean softmax cross-entropy over the batch and its gradient.
    pub(crate) fn loss_and_grad(&self, x: &Array2<f32>, y: &[u8]) -> (f64, Grads) {
        let n = y.len();
        assert_eq!(
            x.nrows(),
            n,
            "loss_and_grad: {} rows, {n} labels",
            x.nrows()
        );
        let a1 = x.dot(&self.w1) + &self.b1;
        let h = a1.mapv(relu);
        let z = h.dot(&self.w2) + &self.b2;
        // dz = (softmax(z) - onehot(y)) / n
        let mut dz = z;
        let mut loss = 0.0f64;
        for (mut row, &l) in dz.outer_iter_mut().zip(y) {
            let m = row.fold(f32::NEG_INFINITY, |a, &b| a.max(b));
            row.mapv_inplace(|v| (v - m).exp());
            let s: f32 = row.sum();
            loss += (s as f64).ln() - (row[l as usize] as f64).ln();
            row.mapv_inplace(|v| v / s / n as f32);
            row[l as usize] -= 1.0 / n as f32;
        }
        let dw2 = h.t().dot(&dz);
        let db2 = dz.sum_axis(Axis(0));
        let mut da1 = dz.dot(&self.w2.t());
        da1.zip_mut_with(&a1, |d, &a| {
            if a <= 0.0 {
                *d = 0.0
            }
        });
        let dw1 = x.t().dot(&da1);
        let db1 = da1.sum_axis(Axis(0));
        (
            loss / n as f64,
            Grads {
                w1: dw1,
                b1: db1,
                w2: dw2,
                b2: db2,
            },
        )
    }
}

#[inline]
fn relu(v: f32) -> f32 {
    v.max(0.0)
}

/// Index of the largest value; the first one on ties.
pub(crate) fn argmax(v: &[f32]) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    best
}

/// Adam (Kingma & Ba) over all four parameters.
#[derive(Clone, Debug)]
pub struct Adam {
    /// Learning rate.
    pub lr: f32,
    beta1: f32,
    beta2: f32,
    eps: f32,
    t: i32,
    m: Grads,
    v: Grads,
}

impl Adam {
    /// Fresh state for `mlp` (betas 0.9 / 0.999, eps 1e-8).
    pub fn new(mlp: &Mlp, lr: f32) -> Adam {
        let zero = Grads {
            w1: Array2::zeros(mlp.w1.raw_dim()),
            b1: Array1::zeros(mlp.b1.raw_dim()),
            w2: Array2::zeros(mlp.w2.raw_dim()),
            b2: Array1::zeros(mlp.b2.raw_dim()),
        };
        Adam {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            t: 0,
            m: zero.clone(),
            v: zero,
        }
    }

    /// One update of `p` with gradient `g`.
    pub fn step(&mut self, p: &mut Mlp, g: &Grads) {
        self.t += 1;
        let (b1, b2, eps) = (self.beta1, self.beta2, self.eps);
        let c1 = 1.0 - b1.powi(self.t);
        let c2 = 1.0 - b2.powi(self.t);
        let lr = self.lr;
        let upd = |p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32]| {
            for i in 0..p.len() {
                m[i] = b1 * m[i] + (1.0 - b1) * g[i];
                v[i] = b2 * v[i] + (1.0 - b2) * g[i] * g[i];
                p[i] -= lr * (m[i] / c1) / ((v[i] / c2).sqrt() + eps);
            }
        };
        upd(
            p.w1.as_slice_mut().expect("contiguous"),
            g.w1.as_slice().expect("contiguous"),
            self.m.w1.as_slice_mut().expect("contiguous"),
            self.v.w1.as_slice_mut().expect("contiguous"),
        );
        upd(
            p.b1.as_slice_mut().expect("contiguous"),
            g.b1.as_slice().expect("contiguous"),
            self.m.b1.as_slice_mut().expect("contiguous"),
            self.v.b1.as_slice_mut().expect("contiguous"),
        );
        upd(
            p.w2.as_slice_mut().expect("contiguous"),
            g.w2.as_slice().expect("contiguous"),
            self.m.w2.as_slice_mut().expect("contiguous"),
            self.v.w2.as_slice_mut().expect("contiguous"),
        );
        upd(
            p.b2.as_slice_mut().expect("contiguous"),
            g.b2.as_slice().expect("contiguous"),
            self.m.b2.as_slice_mut().expect("contiguous"),
            self.v.b2.as_slice_mut().expect("contiguous"),
        );
    }
}

/// Minibatches of one epoch: the rows `0..n` shuffled with `rng`, cut into
/// chunks of `batch` (the last one may be smaller).
pub(crate) fn batches(n: usize, batch: usize, rng: &mut StdRng) -> Vec<Vec<usize>> {
    use rand::seq::SliceRandom;
    let mut idx: Vec<usize> = (0..n).collect();
    idx.shuffle(rng);
    idx.chunks(batch.max(1)).map(<[usize]>::to_vec).collect()
}

/// Rows `idx` of `x` and the matching labels.
pub(crate) fn gather(x: &Array2<f32>, y: &[u8], idx: &[usize]) -> (Array2<f32>, Vec<u8>) {
    (x.select(Axis(0), idx), idx.iter().map(|&i| y[i]).collect())
}

/// Plain minibatch training: `epochs` passes over `(x, y)` in batches of
/// `batch` (reshuffled each epoch with `rng`), Adam with learning rate
/// `lr`. `after_epoch(e)` runs after each epoch `e` (0-based).
#[allow(clippy::too_many_arguments)]
pub fn fit(
    mlp: &mut Mlp,
    x: &Array2<f32>,
    y: &[u8],
    epochs: usize,
    batch: usize,
    lr: f32,
    rng: &mut StdRng,
    mut after_epoch: impl FnMut(usize),
) {
    let mut opt = Adam::new(mlp, lr);
    for e in 0..epochs {
        for b in batches(y.len(), batch, rng) {
            let (xb, yb) = gather(x, y, &b);
            let (_, g) = mlp.loss_and_grad(&xb, &yb);
            opt.step(mlp, &g);
        }
        after_epoch(e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> (Mlp, Array2<f32>, Vec<u8>) {
        let mlp = Mlp::new(5, 4, 3, 11);
        let mut rng = StdRng::seed_from_u64(5);
        let x = Array2::from_shape_simple_fn((6, 5), || rng.random::<f32>() * 2.0 - 0.5);
        let y = vec![0, 2, 1, 1, 0, 2];
        (mlp, x, y)
    }

    /// Central differences in f32 on every parameter, against the backward
    /// pass.
    #[test]
    fn gradient_matches_finite_differences() {
        let (mlp, x, y) = tiny();
        let (_, g) = mlp.loss_and_grad(&x, &y);
        let eps = 1e-2f32;
        let mut checked = 0;
        let mut check = |get: &dyn Fn(&mut Mlp) -> &mut [f32], grad: &[f32]| {
            for (i, &gi) in grad.iter().enumerate() {
                let mut p = mlp.clone();
                get(&mut p)[i] += eps;
                let lp = p.loss_and_grad(&x, &y).0;
                get(&mut p)[i] -= 2.0 * eps;
                let lm = p.loss_and_grad(&x, &y).0;
                let num = (lp - lm) / (2.0 * eps as f64);
                let ana = gi as f64;
                assert!(
                    (num - ana).abs() <= 5e-4 + 1e-2 * ana.abs(),
                    "param {i}: numeric {num} analytic {ana}"
                );
                checked += 1;
            }
        };
        check(&|p| p.w1.as_slice_mut().unwrap(), g.w1.as_slice().unwrap());
        check(&|p| p.b1.as_slice_mut().unwrap(), g.b1.as_slice().unwrap());
        check(&|p| p.w2.as_slice_mut().unwrap(), g.w2.as_slice().unwrap());
        check(&|p| p.b2.as_slice_mut().unwrap(), g.b2.as_slice().unwrap());
        assert_eq!(checked, 5 * 4 + 4 + 4 * 3 + 3);
        // Not vacuous: some gradients are sizeable.
        assert!(g.w2.iter().any(|v| v.abs() > 1e-2));
    }

    #[test]
    fn adam_lowers_the_loss_and_is_deterministic() {
        let run = || {
            let (mut mlp, x, y) = tiny();
            let mut opt = Adam::new(&mlp, 1e-2);
            let l0 = mlp.loss_and_grad(&x, &y).0;
            for _ in 0..200 {
                let (_, g) = mlp.loss_and_grad(&x, &y);
                opt.step(&mut mlp, &g);
            }
            (l0, mlp.loss_and_grad(&x, &y).0, mlp)
        };
        let (l0, l1, a) = run();
        assert!(l1 < 0.5 * l0, "{l0} -> {l1}");
        assert_eq!(a, run().2);
        assert_eq!(argmax(&[1.0, 3.0, 3.0, 0.0]), 1);
    }
}
