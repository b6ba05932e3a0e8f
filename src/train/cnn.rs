//! A LeNet-5-sized CNN for 28x28 MNIST digits with a hand-written forward
//! and backward pass (softmax cross-entropy), trained with Adam.
//!
//! `conv1 5x5 (1 -> c1) - ReLU - maxpool 2 - conv2 5x5 (c1 -> c2) - ReLU -
//! maxpool 2 - fc1 (16 c2 -> hidden) - ReLU - fc2 (hidden -> 10)`, no
//! padding, stride 1. Activations are NHWC; every layer is a crossbar
//! matrix product `y = x W + b` with `W` of `rows x cols` = inputs x
//! outputs: a conv layer multiplies the im2col patch matrix (one row per
//! output pixel, columns ordered `(ky, kx, ci)`) with its `K*K*Cin x Cout`
//! matrix, exactly as the tile runs it ([`crate::qnet`]). The float model
//! sees `pixel / 255` ([`INPUT_SCALE`]).
//!
//! Single-threaded and deterministic for a given seed.

use super::data::{Dataset, MNIST_SIDE};
use ndarray::{Array1, Array2, Axis, Zip};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// The float model's input is `pixel * INPUT_SCALE` (0..=255 -> 0..=1).
pub(crate) const INPUT_SCALE: f32 = 1.0 / 255.0;
/// Convolution kernel side.
pub(crate) const KERNEL: usize = 5;
/// Pooling window and stride.
pub(crate) const POOL: usize = 2;
/// Layer names in order.
pub(crate) const LAYER_NAMES: [&str; 4] = ["conv1", "conv2", "fc1", "fc2"];

/// Channel and unit counts of the LeNet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeNetShape {
    /// conv1 output channels.
    pub c1: usize,
    /// conv2 output channels.
    pub c2: usize,
    /// fc1 units.
    pub hidden: usize,
    /// Input side (28 for MNIST).
    pub side: usize,
}

impl Default for LeNetShape {
    fn default() -> Self {
        LeNetShape {
            c1: 6,
            c2: 16,
            hidden: 120,
            side: MNIST_SIDE,
        }
    }
}

impl LeNetShape {
    /// conv1 output side (before pooling).
    pub(crate) fn s1(&self) -> usize {
        self.side - KERNEL + 1
    }
    /// conv2 input side (after pool 1).
    pub(crate) fn p1(&self) -> usize {
        self.s1() / POOL
    }
    /// conv2 output side.
    pub(crate) fn s2(&self) -> usize {
        self.p1() - KERNEL + 1
    }
    /// Side after pool 2.
    pub(crate) fn p2(&self) -> usize {
        self.s2() / POOL
    }
    /// fc1 inputs.
    pub(crate) fn flat(&self) -> usize {
        self.p2() * self.p2() * self.c2
    }
    /// `(rows, cols)` of the four weight matrices.
    pub(crate) fn dims(&self) -> [(usize, usize); 4] {
        [
            (KERNEL * KERNEL, self.c1),
            (KERNEL * KERNEL * self.c1, self.c2),
            (self.flat(), self.hidden),
            (self.hidden, 10),
        ]
    }
    /// Checks that the geometry works out (positive sides, even before
    /// pooling) and the sizes are non-zero.
    pub fn validate(&self) -> anyhow::Result<()> {
        if self.c1 == 0 || self.c2 == 0 || self.hidden == 0 {
            anyhow::bail!("LeNet channels and hidden units must be at least 1");
        }
        if self.side < 4 * KERNEL - 4
            || !self.s1().is_multiple_of(POOL)
            || !self.s2().is_multiple_of(POOL)
        {
            anyhow::bail!("input side {} does not fit a LeNet", self.side);
        }
        Ok(())
    }
}

/// Weights and biases of the four layers (`w[l]` is `rows x cols`).
#[derive(Clone, Debug, PartialEq)]
pub struct Cnn {
    /// Geometry.
    pub shape: LeNetShape,
    /// Weight matrices conv1, conv2, fc1, fc2.
    pub w: Vec<Array2<f32>>,
    /// Biases.
    pub b: Vec<Array1<f32>>,
}

/// Gradients, shaped like [`Cnn`]'s parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct Grads {
    /// d loss / d w.
    pub w: Vec<Array2<f32>>,
    /// d loss / d b.
    pub b: Vec<Array1<f32>>,
}

/// im2col of an NHWC batch (`n` images `h x w x c`, flat): one row per
/// output pixel `(image, oy, ox)`, columns `(ky, kx, ci)`; valid padding,
/// stride 1.
pub(crate) fn im2col<T: Copy + Default>(
    x: &[T],
    n: usize,
    h: usize,
    w: usize,
    c: usize,
    k: usize,
) -> (Vec<T>, usize, usize) {
    let (oh, ow) = (h - k + 1, w - k + 1);
    let cols = k * k * c;
    let mut out = vec![T::default(); n * oh * ow * cols];
    let mut r = 0;
    for i in 0..n {
        let img = &x[i * h * w * c..(i + 1) * h * w * c];
        for oy in 0..oh {
            for ox in 0..ow {
                let row = &mut out[r * cols..(r + 1) * cols];
                for ky in 0..k {
                    let src = ((oy + ky) * w + ox) * c;
                    row[ky * k * c..(ky + 1) * k * c].copy_from_slice(&img[src..src + k * c]);
                }
                r += 1;
            }
        }
    }
    (out, n * oh * ow, cols)
}

/// The adjoint of [`im2col`]: adds every patch entry back into its pixel.
fn col2im(p: &Array2<f32>, n: usize, h: usize, w: usize, c: usize, k: usize) -> Vec<f32> {
    let (oh, ow) = (h - k + 1, w - k + 1);
    let mut out = vec![0f32; n * h * w * c];
    let ps = p.as_slice().expect("standard layout");
    let cols = k * k * c;
    let mut r = 0;
    for i in 0..n {
        let img = &mut out[i * h * w * c..(i + 1) * h * w * c];
        for oy in 0..oh {
            for ox in 0..ow {
                let row = &ps[r * cols..(r + 1) * cols];
                for ky in 0..k {
                    let dst = ((oy + ky) * w + ox) * c;
                    for (d, s) in img[dst..dst + k * c]
                        .iter_mut()
                        .zip(&row[ky * k * c..(ky + 1) * k * c])
                    {
                        *d += *s;
                    }
                }
                r += 1;
            }
        }
    }
    out
}

/// 2x2 max pooling of an NHWC batch (`n` images `h x w x c`): the pooled
/// values and, for each, the flat index of its source (first maximum).
pub(crate) fn maxpool<T: Copy + PartialOrd>(
    x: &[T],
    n: usize,
    h: usize,
    w: usize,
    c: usize,
) -> (Vec<T>, Vec<usize>) {
    let (oh, ow) = (h / POOL, w / POOL);
    let mut out = Vec::with_capacity(n * oh * ow * c);
    let mut idx = Vec::with_capacity(n * oh * ow * c);
    for i in 0..n {
        for oy in 0..oh {
            for ox in 0..ow {
                for ch in 0..c {
                    let mut best = ((i * h + oy * POOL) * w + ox * POOL) * c + ch;
                    for dy in 0..POOL {
                        for dx in 0..POOL {
                            let j = ((i * h + oy * POOL + dy) * w + ox * POOL + dx) * c + ch;
                            if x[j] > x[best] {
                                best = j;
                            }
                        }
                    }
                    out.push(x[best]);
                    idx.push(best);
                }
            }
        }
    }
    (out, idx)
}

fn relu(v: f32) -> f32 {
    v.max(0.0)
}

fn mat(v: Vec<f32>, r: usize, c: usize) -> Array2<f32> {
    Array2::from_shape_vec((r, c), v).expect("shape")
}

/// Model inputs for `d`: `len x pixels`, pixels times [`INPUT_SCALE`].
pub fn inputs(d: &Dataset) -> Array2<f32> {
    Array2::from_shape_fn((d.len(), d.pixels), |(i, j)| {
        d.x[i * d.pixels + j] as f32 * INPUT_SCALE
    })
}

/// Forward activations kept for the backward pass.
struct Cache {
    p1: Array2<f32>,
    a1: Array2<f32>,
    i1: Vec<usize>,
    p2: Array2<f32>,
    a2: Array2<f32>,
    i2: Vec<usize>,
    f: Array2<f32>,
    a3: Array2<f32>,
    h3: Array2<f32>,
}

impl Cnn {
    /// He-uniform weights (`U(-sqrt(6/fan_in), sqrt(6/fan_in))`, layer by
    /// layer from `StdRng::seed_from_u64(seed)`), zero biases.
    pub fn new(shape: LeNetShape, seed: u64) -> Cnn {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut w = Vec::new();
        let mut b = Vec::new();
        for (r, c) in shape.dims() {
            let lim = (6.0 / r as f32).sqrt();
            w.push(Array2::from_shape_simple_fn((r, c), || {
                (rng.random::<f32>() * 2.0 - 1.0) * lim
            }));
            b.push(Array1::zeros(c));
        }
        Cnn { shape, w, b }
    }

    fn forward(&self, x: &Array2<f32>) -> (Array2<f32>, Cache) {
        let s = self.shape;
        let n = x.nrows();
        let xs = x.as_standard_layout();
        let (p1, r1, c1) = im2col(xs.as_slice().expect("layout"), n, s.side, s.side, 1, KERNEL);
        let p1 = mat(p1, r1, c1);
        let a1 = p1.dot(&self.w[0]) + &self.b[0];
        let h1 = a1.mapv(relu);
        let (q1, i1) = maxpool(h1.as_slice().expect("layout"), n, s.s1(), s.s1(), s.c1);
        let (p2, r2, c2) = im2col(&q1, n, s.p1(), s.p1(), s.c1, KERNEL);
        let p2 = mat(p2, r2, c2);
        let a2 = p2.dot(&self.w[1]) + &self.b[1];
        let h2 = a2.mapv(relu);
        let (q2, i2) = maxpool(h2.as_slice().expect("layout"), n, s.s2(), s.s2(), s.c2);
        let f = mat(q2, n, s.flat());
        let a3 = f.dot(&self.w[2]) + &self.b[2];
        let h3 = a3.mapv(relu);
        let z = h3.dot(&self.w[3]) + &self.b[3];
        (
            z,
            Cache {
                p1,
                a1,
                i1,
                p2,
                a2,
                i2,
                f,
                a3,
                h3,
            },
        )
    }

    /// Logits for a batch `x` (`batch x side^2`).
    pub fn logits(&self, x: &Array2<f32>) -> Array2<f32> {
        self.forward(x).0
    }

    /// Largest post-ReLU activation of conv1, conv2 and fc1 over `x`, and
    /// the largest logit magnitude (for the activation scales of the
    /// integer model).
    pub(crate) fn activation_max(&self, x: &Array2<f32>) -> [f32; 4] {
        let mut m = [0f32; 4];
        for chunk in x.axis_chunks_iter(Axis(0), 256) {
            let (z, c) = self.forward(&chunk.to_owned());
            let mx = |a: &Array2<f32>| a.fold(0f32, |acc, &v| acc.max(v.abs()));
            m[0] = m[0].max(mx(&c.a1.mapv(relu)));
            m[1] = m[1].max(mx(&c.a2.mapv(relu)));
            m[2] = m[2].max(mx(&c.h3));
            m[3] = m[3].max(mx(&z));
        }
        m
    }

    /// Share of rows of `x` whose arg-max logit (first on ties) equals the
    /// label.
    pub fn accuracy(&self, x: &Array2<f32>, y: &[u8]) -> f64 {
        if y.is_empty() {
            return 0.0;
        }
        let mut hits = 0;
        for (chunk, yc) in x.axis_chunks_iter(Axis(0), 256).zip(y.chunks(256)) {
            let z = self.logits(&chunk.to_owned());
            hits += z
                .outer_iter()
                .zip(yc)
                .filter(|(row, l)| super::mlp::argmax(&row.to_vec()) == **l as usize)
                .count();
        }
        hits as f64 / y.len() as f64
    }

    /// Mean softmax cross-entropy over the batch and its gradient.
    pub(crate) fn loss_and_grad(&self, x: &Array2<f32>, y: &[u8]) -> (f64, Grads) {
        let s = self.shape;
        let n = y.len();
        assert_eq!(x.nrows(), n, "loss_and_grad: rows and labels differ");
        let (z, c) = self.forward(x);
        let mut dz = z;
        let mut loss = 0.0f64;
        for (mut row, &l) in dz.outer_iter_mut().zip(y) {
            let m = row.fold(f32::NEG_INFINITY, |a, &b| a.max(b));
            row.mapv_inplace(|v| (v - m).exp());
            let sum: f32 = row.sum();
            loss += (sum as f64).ln() - (row[l as usize] as f64).ln();
            row.mapv_inplace(|v| v / sum / n as f32);
            row[l as usize] -= 1.0 / n as f32;
        }
        let mask = |d: &mut Array2<f32>, a: &Array2<f32>| {
            Zip::from(d).and(a).for_each(|d, &a| {
                if a <= 0.0 {
                    *d = 0.0
                }
            })
        };
        // fc2, fc1.
        let dw4 = c.h3.t().dot(&dz);
        let db4 = dz.sum_axis(Axis(0));
        let mut da3 = dz.dot(&self.w[3].t());
        mask(&mut da3, &c.a3);
        let dw3 = c.f.t().dot(&da3);
        let db3 = da3.sum_axis(Axis(0));
        let df = da3.dot(&self.w[2].t());
        // pool 2 -> conv2.
        let mut da2 = Array2::<f32>::zeros(c.a2.raw_dim());
        {
            let d = da2.as_slice_mut().expect("layout");
            for (g, &j) in df.iter().zip(&c.i2) {
                d[j] += g;
            }
        }
        mask(&mut da2, &c.a2);
        let dw2 = c.p2.t().dot(&da2);
        let db2 = da2.sum_axis(Axis(0));
        let dp2 = da2.dot(&self.w[1].t());
        let dq1 = col2im(&dp2, n, s.p1(), s.p1(), s.c1, KERNEL);
        // pool 1 -> conv1.
        let mut da1 = Array2::<f32>::zeros(c.a1.raw_dim());
        {
            let d = da1.as_slice_mut().expect("layout");
            for (g, &j) in dq1.iter().zip(&c.i1) {
                d[j] += g;
            }
        }
        mask(&mut da1, &c.a1);
        let dw1 = c.p1.t().dot(&da1);
        let db1 = da1.sum_axis(Axis(0));
        (
            loss / n as f64,
            Grads {
                w: vec![dw1, dw2, dw3, dw4],
                b: vec![db1, db2, db3, db4],
            },
        )
    }
}

/// Adam (Kingma & Ba) over every weight and bias of a [`Cnn`].
#[derive(Clone, Debug)]
pub struct Adam {
    /// Learning rate.
    pub lr: f32,
    t: i32,
    m: Grads,
    v: Grads,
}

impl Adam {
    /// Fresh state for `net` (betas 0.9 / 0.999, eps 1e-8).
    pub fn new(net: &Cnn, lr: f32) -> Adam {
        let zero = Grads {
            w: net.w.iter().map(|w| Array2::zeros(w.raw_dim())).collect(),
            b: net.b.iter().map(|b| Array1::zeros(b.raw_dim())).collect(),
        };
        Adam {
            lr,
            t: 0,
            m: zero.clone(),
            v: zero,
        }
    }

    /// One update of `p` with gradient `g`.
    pub fn step(&mut self, p: &mut Cnn, g: &Grads) {
        self.t += 1;
        let (b1, b2, eps) = (0.9f32, 0.999f32, 1e-8f32);
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
        for l in 0..p.w.len() {
            upd(
                p.w[l].as_slice_mut().expect("contiguous"),
                g.w[l].as_slice().expect("contiguous"),
                self.m.w[l].as_slice_mut().expect("contiguous"),
                self.v.w[l].as_slice_mut().expect("contiguous"),
            );
            upd(
                p.b[l].as_slice_mut().expect("contiguous"),
                g.b[l].as_slice().expect("contiguous"),
                self.m.b[l].as_slice_mut().expect("contiguous"),
                self.v.b[l].as_slice_mut().expect("contiguous"),
            );
        }
    }
}

/// Plain minibatch training: `epochs` passes over `(x, y)` in batches of
/// `batch` (reshuffled each epoch with `rng`), Adam with learning rate
/// `lr`. `after_epoch(e)` runs after each epoch `e` (0-based).
#[allow(clippy::too_many_arguments)]
pub fn fit(
    net: &mut Cnn,
    x: &Array2<f32>,
    y: &[u8],
    epochs: usize,
    batch: usize,
    lr: f32,
    rng: &mut StdRng,
    mut after_epoch: impl FnMut(usize),
) {
    let mut opt = Adam::new(net, lr);
    for e in 0..epochs {
        for b in super::mlp::batches(y.len(), batch, rng) {
            let (xb, yb) = super::mlp::gather(x, y, &b);
            let (_, g) = net.loss_and_grad(&xb, &yb);
            opt.step(net, &g);
        }
        after_epoch(e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small geometry: 16x16 input, 2 and 3 channels, 4 hidden units.
    fn tiny() -> (Cnn, Array2<f32>, Vec<u8>) {
        let shape = LeNetShape {
            c1: 2,
            c2: 3,
            hidden: 4,
            side: 16,
        };
        shape.validate().unwrap();
        let net = Cnn::new(shape, 11);
        let mut rng = StdRng::seed_from_u64(5);
        let x = Array2::from_shape_simple_fn((3, 256), || rng.random::<f32>());
        (net, x, vec![0, 7, 3])
    }

    /// Central differences (f64 loss of f32 parameters) on every
    /// parameter, against the backward pass.
    #[test]
    fn gradient_matches_finite_differences() {
        let (net, x, y) = tiny();
        let (_, g) = net.loss_and_grad(&x, &y);
        let eps = 3e-3f32;
        let mut checked = 0;
        let mut big = 0;
        let mut kinks = Vec::new();
        for l in 0..4 {
            for kind in 0..2 {
                let grad: Vec<f32> = if kind == 0 {
                    g.w[l].iter().copied().collect()
                } else {
                    g.b[l].to_vec()
                };
                for (i, &gi) in grad.iter().enumerate() {
                    let bump = |d: f32| {
                        let mut p = net.clone();
                        if kind == 0 {
                            p.w[l].as_slice_mut().unwrap()[i] += d;
                        } else {
                            p.b[l][i] += d;
                        }
                        p.loss_and_grad(&x, &y).0
                    };
                    let num = (bump(eps) - bump(-eps)) / (2.0 * eps as f64);
                    let ana = gi as f64;
                    // Max pooling and ReLU kinks make a few entries
                    // non-smooth within eps: at most 2 % may differ.
                    if (num - ana).abs() > 2e-3 + 2e-2 * ana.abs() {
                        kinks.push(format!("layer {l} kind {kind} param {i}: {num} vs {ana}"));
                    }
                    if ana.abs() > 1e-3 {
                        big += 1;
                    }
                    checked += 1;
                }
            }
        }
        let d = net.shape.dims();
        let total: usize = d.iter().map(|(r, c)| r * c + c).sum();
        assert_eq!(checked, total);
        assert!(kinks.len() * 50 <= total, "{kinks:#?}");
        for (l, w) in g.w.iter().enumerate() {
            assert!(w.iter().any(|v| v.abs() > 1e-3), "layer {l} gradient is ~0");
        }
        assert!(big > 10, "gradients are mostly tiny: {big}");
    }

    #[test]
    fn im2col_and_col2im_are_adjoint_and_pool_picks_the_max() {
        // <im2col(x), p> == <x, col2im(p)>
        let mut rng = StdRng::seed_from_u64(1);
        let (n, h, w, c, k) = (2, 6, 5, 3, 3);
        let x: Vec<f32> = (0..n * h * w * c).map(|_| rng.random()).collect();
        let (cols, r, cc) = im2col(&x, n, h, w, c, k);
        assert_eq!((r, cc), (n * 4 * 3, k * k * c));
        let p = Array2::from_shape_simple_fn((r, cc), || rng.random::<f32>());
        let lhs: f32 = cols.iter().zip(p.iter()).map(|(a, b)| a * b).sum();
        let back = col2im(&p, n, h, w, c, k);
        let rhs: f32 = x.iter().zip(&back).map(|(a, b)| a * b).sum();
        assert!((lhs - rhs).abs() < 1e-3 * lhs.abs(), "{lhs} {rhs}");
        // Patch (image 1, oy 2, ox 1), column (ky 1, kx 2, ci 0).
        let row = (4 * 3) + 2 * 3 + 1;
        let col = (3 + 2) * c;
        assert_eq!(cols[row * cc + col], x[((h + 3) * w + 3) * c]);
        let v: Vec<i32> = vec![1, 9, 3, 4, 5, 6, 7, 8]; // 1 image 2x2x2
        let (o, i) = maxpool(&v, 1, 2, 2, 2);
        assert_eq!((o, i), (vec![7, 9], vec![6, 1]));
    }
}
