//! ADMM fine-tuning onto a bit-sparse pattern set (DESIGN section 4 step 3).
//!
//! Both weight matrices are constrained to `{scale_c * n : n allowed by the
//! pattern}` with fixed per-column int8 scales. ADMM alternates
//!
//! - W-step: one epoch of Adam minibatch steps on
//!   `loss(W) + rho/2 * ||W - Z + U||^2` (biases are free);
//! - Z-step: `Z = project_real(W + U)`;
//! - U-step: `U += W - Z`;
//!
//! with `rho` multiplied by `rho_growth` after every epoch (capped at
//! `rho_max`). Then the weights are hard-projected and fine-tuned for a few
//! epochs with a straight-through estimator (the forward pass uses the
//! projection of float shadow weights, the gradient updates the shadows,
//! biases are free), and projected a last time, so every weight is exactly
//! an allowed value.

use super::mlp::{Adam, Mlp, batches, gather};
use crate::compiler::pattern::{Pattern, project_real};
use ndarray::{Array2, Zip};
use rand::rngs::StdRng;

/// The constraint set: a pattern, the magnitude bits and each layer's
/// per-column scales.
#[derive(Clone, Debug, PartialEq)]
pub struct Constraint {
    /// The pattern both layers are projected on.
    pub pattern: Pattern,
    /// Magnitude bits M (7 for int8).
    pub mag_bits: u32,
    /// Column scales of layer 1 (`hidden` entries).
    pub scales1: Vec<f32>,
    /// Column scales of layer 2 (`classes` entries).
    pub scales2: Vec<f32>,
}

impl Constraint {
    /// Nearest allowed matrix to `w` (layer 0 or 1).
    pub(crate) fn project_layer(&self, layer: usize, w: &Array2<f32>) -> Array2<f32> {
        let scales = if layer == 0 {
            &self.scales1
        } else {
            &self.scales2
        };
        project_matrix(&self.pattern, self.mag_bits, scales, w)
    }

    /// `mlp` with both weight matrices projected; biases unchanged.
    pub(crate) fn project(&self, mlp: &Mlp) -> Mlp {
        Mlp {
            w1: self.project_layer(0, &mlp.w1),
            b1: mlp.b1.clone(),
            w2: self.project_layer(1, &mlp.w2),
            b2: mlp.b2.clone(),
        }
    }
}

/// ADMM and fine-tune hyper-parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct AdmmSchedule {
    /// ADMM epochs (one W-step epoch, then a Z- and a U-step, each).
    pub epochs: usize,
    /// Straight-through fine-tune epochs after the hard projection.
    pub finetune_epochs: usize,
    /// Minibatch size.
    pub batch: usize,
    /// Adam learning rate of the W-steps.
    pub lr: f32,
    /// Adam learning rate of the fine-tune.
    pub finetune_lr: f32,
    /// Initial rho.
    pub rho0: f32,
    /// rho is multiplied by this after every epoch.
    pub rho_growth: f32,
    /// Upper bound on rho.
    pub rho_max: f32,
}

impl Default for AdmmSchedule {
    fn default() -> Self {
        AdmmSchedule {
            epochs: 40,
            finetune_epochs: 10,
            batch: 32,
            lr: 1e-3,
            finetune_lr: 5e-4,
            rho0: 1e-3,
            rho_growth: 1.15,
            rho_max: 1.0,
        }
    }
}

/// Runs ADMM, the hard projection and the straight-through fine-tune on
/// `(x, y)` starting from `start`; returns the final, projected model (both
/// weight matrices exactly in the constraint set). `progress(stage)` runs
/// after every epoch, `stage` being `"admm"` or `"finetune"`.
pub(crate) fn admm_finetune(
    start: &Mlp,
    c: &Constraint,
    x: &Array2<f32>,
    y: &[u8],
    s: &AdmmSchedule,
    rng: &mut StdRng,
    mut progress: impl FnMut(&str),
) -> Mlp {
    let mut w = start.clone();
    let mut z = c.project(&w);
    let mut u1 = Array2::<f32>::zeros(w.w1.raw_dim());
    let mut u2 = Array2::<f32>::zeros(w.w2.raw_dim());
    let mut rho = s.rho0;
    let mut opt = Adam::new(&w, s.lr);
    for _ in 0..s.epochs {
        // W-step.
        for b in batches(y.len(), s.batch, rng) {
            let (xb, yb) = gather(x, y, &b);
            let (_, mut g) = w.loss_and_grad(&xb, &yb);
            penalty(&mut g.w1, &w.w1, &z.w1, &u1, rho);
            penalty(&mut g.w2, &w.w2, &z.w2, &u2, rho);
            opt.step(&mut w, &g);
        }
        // Z-step and U-step.
        z.w1 = c.project_layer(0, &(&w.w1 + &u1));
        z.w2 = c.project_layer(1, &(&w.w2 + &u2));
        u1 += &(&w.w1 - &z.w1);
        u2 += &(&w.w2 - &z.w2);
        rho = (rho * s.rho_growth).min(s.rho_max);
        progress("admm");
    }
    // Hard projection, then straight-through fine-tune of float shadows.
    let mut shadow = c.project(&w);
    let mut opt = Adam::new(&shadow, s.finetune_lr);
    for _ in 0..s.finetune_epochs {
        for b in batches(y.len(), s.batch, rng) {
            let (xb, yb) = gather(x, y, &b);
            let fwd = c.project(&shadow);
            let (_, g) = fwd.loss_and_grad(&xb, &yb);
            opt.step(&mut shadow, &g);
        }
        progress("finetune");
    }
    c.project(&shadow)
}

/// Nearest matrix to `w` whose entries are `scales[c] * n` with `n`
/// allowed by `pattern` (`mag_bits` magnitude bits).
pub(crate) fn project_matrix(
    pattern: &Pattern,
    mag_bits: u32,
    scales: &[f32],
    w: &Array2<f32>,
) -> Array2<f32> {
    let (r, c) = w.dim();
    let flat: Vec<f32> = w.iter().copied().collect(); // row-major
    let p = project_real(pattern, &flat, r, c, scales, mag_bits);
    Array2::from_shape_vec((r, c), p).expect("shape")
}

/// `g += rho * (w - z + u)`.
pub(crate) fn penalty(
    g: &mut Array2<f32>,
    w: &Array2<f32>,
    z: &Array2<f32>,
    u: &Array2<f32>,
    rho: f32,
) {
    Zip::from(g)
        .and(w)
        .and(z)
        .and(u)
        .for_each(|g, &w, &z, &u| *g += rho * (w - z + u));
}
