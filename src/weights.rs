//! The integer weights file: quantized (and usually pattern-projected)
//! fully connected layers, written by `sme compress` and read by `sme map
//! --weights` and `sme verify --weights`.
//!
//! JSON, one object:
//! `{"format": "sme-weights", "version": 1, "name": ..., "weight_bits": Q,
//!   "pattern": "khot"|"group"|"none", "k": K, "layers": [ {"name", "rows",
//!   "cols", "scales": [..], "weights": [..], "bias": [..]} ] }`.
//! `weights` is row-major `rows x cols` (rows = inputs, cols = outputs, so
//! `y = x W`), integers with `|w| <= 2^(Q-1) - 1`; the real weight is
//! `w * scales[c]` (one scale, or one per column); `bias` is empty or has
//! `cols` reals.

use crate::outdir;
use crate::program::WeightMatrix;
use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The `format` tag of a weights file.
pub const FORMAT: &str = "sme-weights";
/// The version written for plain fully connected layers.
pub const VERSION: u32 = 1;
/// The version written when a layer has `conv` or `requant`; readers
/// accept 1 and 2.
pub const VERSION_NETWORK: u32 = 2;
/// Largest conv input (`in_h x in_w x in_c` values).
pub const MAX_CONV_INPUT: usize = 1 << 28;
/// Activation bits (unsigned) of a requantized layer's output.
pub const ACT_BITS: u32 = 8;

/// Convolution geometry of a layer (version 2).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ConvInfo {
    /// Input height.
    pub in_h: usize,
    /// Input width.
    pub in_w: usize,
    /// Input channels.
    pub in_c: usize,
    /// Kernel side.
    pub kernel: usize,
    /// Stride (only 1 is supported).
    pub stride: usize,
    /// Max-pooling window and stride after the requantization (1 = none).
    pub pool: usize,
}

impl ConvInfo {
    /// Output height and width of the convolution (before pooling).
    pub fn out_hw(&self) -> (usize, usize) {
        (self.in_h + 1 - self.kernel, self.in_w + 1 - self.kernel)
    }
    /// Output height and width after pooling.
    pub fn pooled_hw(&self) -> (usize, usize) {
        let (h, w) = self.out_hw();
        (h / self.pool, w / self.pool)
    }
}

/// Integer requantization of a layer's accumulators (version 2).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Requant {
    /// Per-column positive multipliers, `1..2^31`.
    pub mult: Vec<i64>,
    /// Per-column integer biases (in units of `2^-shift` output steps).
    pub bias: Vec<i64>,
    /// Right shift, `1..=40`.
    pub shift: u32,
    /// ReLU and clamp to `0..=255` (false only for the logits).
    pub relu: bool,
}
/// Largest rows or cols of a layer (so `rows x cols` cannot overflow).
pub const MAX_DIM: usize = 1 << 24;

/// One integer fully connected layer.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct IntLayer {
    /// Layer name, unique in the file.
    pub name: String,
    /// Inputs.
    pub rows: usize,
    /// Outputs.
    pub cols: usize,
    /// One scale, or `cols` scales; positive and finite.
    pub scales: Vec<f32>,
    /// Row-major `rows x cols` integer weights.
    pub weights: Vec<i32>,
    /// Empty, or `cols` biases.
    #[serde(default)]
    pub bias: Vec<f32>,
    /// Version 2: convolution geometry (none: fully connected).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conv: Option<ConvInfo>,
    /// Version 2: integer requantization of the outputs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requant: Option<Requant>,
}

impl IntLayer {
    /// The integer matrix.
    pub fn matrix(&self) -> WeightMatrix {
        WeightMatrix {
            rows: self.rows,
            cols: self.cols,
            data: self.weights.clone(),
        }
    }
}

/// A whole weights file.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WeightsFile {
    /// Always [`FORMAT`].
    pub format: String,
    /// Always [`VERSION`].
    pub version: u32,
    /// Network name.
    pub name: String,
    /// Weight bits Q including the sign.
    pub weight_bits: u32,
    /// Pattern the weights were projected on (`khot`, `group`, `none`).
    pub pattern: String,
    /// The pattern's k (0 for `none`).
    pub k: u32,
    /// Layers in order.
    pub layers: Vec<IntLayer>,
}

impl WeightsFile {
    /// Checks every invariant; the message names the layer and the problem.
    pub fn validate(&self) -> Result<()> {
        if self.format != FORMAT {
            bail!("format `{}`: expected `{FORMAT}`", self.format);
        }
        if self.version != VERSION && self.version != VERSION_NETWORK {
            bail!(
                "version {}: supported versions are {VERSION} and {VERSION_NETWORK}",
                self.version
            );
        }
        if !(2..=16).contains(&self.weight_bits) {
            bail!("weight_bits {}: valid 2..=16", self.weight_bits);
        }
        if !matches!(self.pattern.as_str(), "khot" | "group" | "none") {
            bail!("pattern `{}`: valid khot, group, none", self.pattern);
        }
        if self.k >= self.weight_bits {
            bail!(
                "k {}: valid 0..={} (magnitude bits of weight_bits {})",
                self.k,
                self.weight_bits - 1,
                self.weight_bits
            );
        }
        if self.layers.is_empty() {
            bail!("no layers");
        }
        let max = (1i64 << (self.weight_bits - 1)) - 1;
        for (i, l) in self.layers.iter().enumerate() {
            if self.layers[..i].iter().any(|o| o.name == l.name) {
                bail!("layer name `{}` appears twice", l.name);
            }
            if l.rows == 0 || l.cols == 0 || l.rows > MAX_DIM || l.cols > MAX_DIM {
                bail!(
                    "layer `{}`: {} x {}: rows and cols must be in 1..={MAX_DIM}",
                    l.name,
                    l.rows,
                    l.cols
                );
            }
            if l.weights.len() != l.rows * l.cols {
                bail!(
                    "layer `{}`: {} weights for {} x {} (need {})",
                    l.name,
                    l.weights.len(),
                    l.rows,
                    l.cols,
                    l.rows * l.cols
                );
            }
            if let Some(w) = l.weights.iter().find(|w| (**w as i64).abs() > max) {
                bail!(
                    "layer `{}`: weight {w} is out of range: valid -{max}..={max} for weight_bits {}",
                    l.name,
                    self.weight_bits
                );
            }
            if l.scales.len() != 1 && l.scales.len() != l.cols {
                bail!(
                    "layer `{}`: {} scales: need 1 or {} (one per column)",
                    l.name,
                    l.scales.len(),
                    l.cols
                );
            }
            if l.scales.iter().any(|s| !(s.is_finite() && *s > 0.0)) {
                bail!("layer `{}`: scales must be positive and finite", l.name);
            }
            if l.bias.iter().any(|b| !b.is_finite()) {
                bail!("layer `{}`: biases must be finite", l.name);
            }
            if !l.bias.is_empty() && l.bias.len() != l.cols {
                bail!(
                    "layer `{}`: {} biases: need 0 or {}",
                    l.name,
                    l.bias.len(),
                    l.cols
                );
            }
            if (l.conv.is_some() || l.requant.is_some()) && self.version < VERSION_NETWORK {
                bail!(
                    "layer `{}`: `conv` and `requant` need version {VERSION_NETWORK}, the file says {}",
                    l.name,
                    self.version
                );
            }
            if let Some(c) = &l.conv {
                if c.stride != 1 {
                    bail!(
                        "layer `{}`: stride {}: only 1 is supported",
                        l.name,
                        c.stride
                    );
                }
                if c.kernel == 0 || c.in_c == 0 || c.pool == 0 {
                    bail!(
                        "layer `{}`: kernel, in_c and pool must be at least 1",
                        l.name
                    );
                }
                if c.in_h > MAX_DIM || c.in_w > MAX_DIM || c.in_h < c.kernel || c.in_w < c.kernel {
                    bail!(
                        "layer `{}`: input {} x {} is smaller than the kernel {} (or too large)",
                        l.name,
                        c.in_h,
                        c.in_w,
                        c.kernel
                    );
                }
                if c.in_h.saturating_mul(c.in_w).saturating_mul(c.in_c) > MAX_CONV_INPUT {
                    bail!(
                        "layer `{}`: input {} x {} x {} is larger than {MAX_CONV_INPUT} values",
                        l.name,
                        c.in_h,
                        c.in_w,
                        c.in_c
                    );
                }
                if c.kernel.saturating_mul(c.kernel).saturating_mul(c.in_c) != l.rows {
                    bail!(
                        "layer `{}`: {} rows, but a {}x{} kernel over {} channels needs {}",
                        l.name,
                        l.rows,
                        c.kernel,
                        c.kernel,
                        c.in_c,
                        c.kernel.saturating_mul(c.kernel).saturating_mul(c.in_c)
                    );
                }
                let (h, w) = c.out_hw();
                if h < c.pool || w < c.pool {
                    bail!(
                        "layer `{}`: pool {} is larger than the output {h} x {w}",
                        l.name,
                        c.pool
                    );
                }
            }
            if let Some(r) = &l.requant {
                if r.mult.len() != l.cols || r.bias.len() != l.cols {
                    bail!(
                        "layer `{}`: requant has {} multipliers and {} biases, need {} each",
                        l.name,
                        r.mult.len(),
                        r.bias.len(),
                        l.cols
                    );
                }
                if !(1..=40).contains(&r.shift) {
                    bail!(
                        "layer `{}`: requant shift {}: valid 1..=40",
                        l.name,
                        r.shift
                    );
                }
                if let Some(m) = r.mult.iter().find(|m| !(1..1i64 << 31).contains(*m)) {
                    bail!("layer `{}`: requant multiplier {m}: valid 1..2^31", l.name);
                }
                if let Some(b) = r.bias.iter().find(|b| b.unsigned_abs() >= 1u64 << 48) {
                    bail!("layer `{}`: requant bias {b}: valid |bias| < 2^48", l.name);
                }
            }
        }
        Ok(())
    }

    /// Parses and validates JSON text.
    pub fn from_json(text: &str) -> Result<Self> {
        let f: WeightsFile = serde_json::from_str(text).context("not a valid sme weights file")?;
        f.validate()?;
        Ok(f)
    }

    /// Reads and validates a file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read weights file {}", path.display()))?;
        Self::from_json(&text).with_context(|| format!("weights file {}", path.display()))
    }

    /// The file's JSON text (validated first).
    pub fn to_json(&self) -> Result<String> {
        self.validate()?;
        Ok(serde_json::to_string(self)? + "\n")
    }

    /// Writes the file atomically (temporary name, then rename).
    pub fn save(&self, path: &Path) -> Result<()> {
        let text = self.to_json()?;
        outdir::write_file(path, &text).with_context(|| format!("cannot write {}", path.display()))
    }

    /// Checks that every weight fits the tile's weight bits.
    pub fn check_fits(&self, cfg: &crate::config::TileConfig) -> Result<()> {
        let max = cfg.max_weight();
        for l in &self.layers {
            if let Some(w) = l.weights.iter().find(|w| (w.unsigned_abs() as i64) > max) {
                bail!(
                    "layer `{}` has weight {w}, which the tile cannot hold: weight_bits {} allows -{max}..={max}; pass --weight-bits {} or more",
                    l.name,
                    cfg.params.weight_bits,
                    self.weight_bits
                );
            }
        }
        Ok(())
    }

    /// The layers as a network (shapes only), for reports: fully connected
    /// layers with one input vector, conv layers (version 2) with one
    /// vector per output pixel.
    pub fn network(&self) -> crate::nets::Network {
        crate::nets::Network {
            name: self.name.clone(),
            layers: self
                .layers
                .iter()
                .map(|l| match &l.conv {
                    None => crate::nets::Layer {
                        name: l.name.clone(),
                        kind: crate::nets::LayerKind::Fc,
                        in_ch: l.rows,
                        out_ch: l.cols,
                        kh: 1,
                        kw: 1,
                        groups: 1,
                        vectors: 1,
                        weights: Vec::new(),
                    },
                    Some(c) => crate::nets::Layer {
                        name: l.name.clone(),
                        kind: crate::nets::LayerKind::Conv,
                        in_ch: c.in_c,
                        out_ch: l.cols,
                        kh: c.kernel,
                        kw: c.kernel,
                        groups: 1,
                        vectors: c.out_hw().0 * c.out_hw().1,
                        weights: Vec::new(),
                    },
                })
                .collect(),
            warnings: Vec::new(),
        }
    }

    /// The layer called `name`; the error lists the valid names.
    pub fn layer(&self, name: &str) -> Result<&IntLayer> {
        self.layers.iter().find(|l| l.name == name).ok_or_else(|| {
            let names: Vec<&str> = self.layers.iter().map(|l| l.name.as_str()).collect();
            anyhow::anyhow!(
                "no layer `{name}` in the weights file: valid {}",
                names.join(", ")
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> WeightsFile {
        WeightsFile {
            format: FORMAT.into(),
            version: VERSION,
            name: "t".into(),
            weight_bits: 8,
            pattern: "none".into(),
            k: 0,
            layers: vec![IntLayer {
                name: "fc1".into(),
                rows: 2,
                cols: 3,
                scales: vec![0.5],
                weights: vec![1, -2, 3, 127, -127, 0],
                bias: vec![],
                conv: None,
                requant: None,
            }],
        }
    }

    #[test]
    fn round_trip_and_errors() {
        let f = sample();
        let text = serde_json::to_string(&f).unwrap();
        assert_eq!(WeightsFile::from_json(&text).unwrap(), f);
        let mut bad = f.clone();
        bad.layers[0].weights[0] = 128;
        let e = format!("{:#}", bad.validate().unwrap_err());
        assert!(e.contains("weight 128 is out of range"), "{e}");
        let mut bad = f.clone();
        bad.layers[0].weights.pop();
        assert!(format!("{:#}", bad.validate().unwrap_err()).contains("5 weights for 2 x 3"));
        assert!(WeightsFile::from_json("{").is_err());
        let mut bad = f.clone();
        bad.layers[0].rows = 1 << 32;
        bad.layers[0].cols = 1 << 32;
        let e = format!("{:#}", bad.validate().unwrap_err());
        assert!(e.contains("rows and cols must be in 1..="), "{e}");
        let mut bad = f.clone();
        bad.pattern = "dense".into();
        assert!(format!("{:#}", bad.validate().unwrap_err()).contains("valid khot, group, none"));
        let e = format!("{:#}", f.layer("fc9").unwrap_err());
        assert!(e.contains("valid fc1"), "{e}");
    }
}
