//! The integer weights file: quantized (and usually pattern-projected)
//! fully connected layers, written by `sme compress` and read by `sme map
//! --weights` and `sme verify --weights`.
//!
//! JSON, one object:
//! `{"format": "sme-weights", "version": 1, "name": ..., "weight_bits": Q,
//!   "pattern": "khot"|"group"|"none", "k": K, ["window": [M, G],] "layers": [ {"name", "rows",
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
/// Largest OU window side in a weights file.
pub(crate) const MAX_WINDOW: u32 = 1 << 16;
/// The version written when a layer has `conv` or `requant`; readers
/// accept 1 and 2.
pub(crate) const VERSION_NETWORK: u32 = 2;
/// Largest conv input (`in_h x in_w x in_c` values).
pub(crate) const MAX_CONV_INPUT: usize = 1 << 28;
/// Activation bits (unsigned) of a requantized layer's output.
pub(crate) const ACT_BITS: u32 = 8;

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
    pub(crate) fn out_hw(&self) -> (usize, usize) {
        (self.in_h + 1 - self.kernel, self.in_w + 1 - self.kernel)
    }
    /// Output height and width after pooling.
    pub(crate) fn pooled_hw(&self) -> (usize, usize) {
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
pub(crate) const MAX_DIM: usize = 1 << 24;
/// Most layers in a file.
pub(crate) const MAX_LAYERS: usize = 4096;
/// Longest network or layer name (characters).
pub(crate) const MAX_NAME: usize = 256;

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

/// The first `m x g` window (row-major over the `rows x cols` matrix; edge
/// windows are partial) whose weights' magnitudes OR to more than `k` set
/// bits: `(row, col, bits)` of its top-left corner.
fn first_window_over(l: &IntLayer, m: usize, g: usize, k: u32) -> Option<(usize, usize, u32)> {
    for r0 in (0..l.rows).step_by(m) {
        for c0 in (0..l.cols).step_by(g) {
            let c1 = (c0 + g).min(l.cols);
            let or = (r0..(r0 + m).min(l.rows))
                .flat_map(|r| &l.weights[r * l.cols + c0..r * l.cols + c1])
                .fold(0u32, |a, w| a | w.unsigned_abs());
            if or.count_ones() > k {
                return Some((r0, c0, or.count_ones()));
            }
        }
    }
    None
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
    /// The OU window `[m, g]` (rows x cols of the weight matrix) of a
    /// `group` pattern, when recorded: every window then has at most `k`
    /// magnitude bits set in the OR of its weights (checked). Absent (older
    /// files, or written by hand): each weight is checked alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<[u32; 2]>,
    /// Layers in order.
    pub layers: Vec<IntLayer>,
}

impl WeightsFile {
    /// Checks every invariant; the message names the layer, the index and
    /// the problem (quoting at most a short excerpt of any text).
    pub fn validate(&self) -> Result<()> {
        use crate::input::excerpt;
        if self.format != FORMAT {
            bail!("format `{}`: expected `{FORMAT}`", excerpt(&self.format));
        }
        if self.version != VERSION && self.version != VERSION_NETWORK {
            bail!(
                "version {}: supported versions are {VERSION} and {VERSION_NETWORK}",
                self.version
            );
        }
        if self.name.chars().count() > MAX_NAME {
            bail!(
                "name `{}` has {} characters: at most {MAX_NAME}",
                excerpt(&self.name),
                self.name.chars().count()
            );
        }
        if !(2..=16).contains(&self.weight_bits) {
            bail!("weight_bits {}: valid 2..=16", self.weight_bits);
        }
        if !matches!(self.pattern.as_str(), "khot" | "group" | "none") {
            bail!(
                "pattern `{}`: valid khot, group, none",
                excerpt(&self.pattern)
            );
        }
        let mag = self.weight_bits - 1;
        if self.pattern == "none" && self.k != 0 {
            bail!("k {}: pattern none takes k 0", self.k);
        }
        if self.pattern != "none" && !(1..=mag).contains(&self.k) {
            bail!(
                "k {}: valid 1..={mag} for pattern {} (magnitude bits of weight_bits {})",
                self.k,
                self.pattern,
                self.weight_bits
            );
        }
        if let Some([m, g]) = self.window {
            if self.pattern != "group" {
                bail!(
                    "window [{m}, {g}]: only a group pattern has a window (pattern {})",
                    self.pattern
                );
            }
            if m == 0 || g == 0 || m > MAX_WINDOW || g > MAX_WINDOW {
                bail!("window [{m}, {g}]: both sides must be in 1..={MAX_WINDOW}");
            }
        }
        if self.layers.is_empty() {
            bail!("no layers");
        }
        if self.layers.len() > MAX_LAYERS {
            bail!("{} layers: at most {MAX_LAYERS}", self.layers.len());
        }
        let max = (1i64 << mag) - 1;
        for (i, l) in self.layers.iter().enumerate() {
            if l.name.is_empty() || l.name.chars().count() > MAX_NAME {
                bail!(
                    "layer {i}: name `{}` has {} characters: valid 1..={MAX_NAME}",
                    excerpt(&l.name),
                    l.name.chars().count()
                );
            }
            if self.layers[..i].iter().any(|o| o.name == l.name) {
                bail!("layer name `{}` appears twice", excerpt(&l.name));
            }
            let name = excerpt(&l.name);
            if l.rows == 0 || l.cols == 0 || l.rows > MAX_DIM || l.cols > MAX_DIM {
                bail!(
                    "layer `{name}`: {} x {}: rows and cols must be in 1..={MAX_DIM}",
                    l.rows,
                    l.cols
                );
            }
            if (l.rows as u64) * (l.cols as u64) > crate::nets::MAX_LAYER_CELLS {
                bail!(
                    "layer `{name}`: {} x {} exceeds the limit of {} weights a layer",
                    l.rows,
                    l.cols,
                    crate::nets::MAX_LAYER_CELLS
                );
            }
            // Fully connected layers chain row for column; a conv layer or
            // the layer after one chains through its channels and spatial
            // size, which `qnet::check_network` checks.
            if i > 0
                && self.layers[i - 1].conv.is_none()
                && l.conv.is_none()
                && self.layers[i - 1].cols != l.rows
            {
                let p = &self.layers[i - 1];
                bail!(
                    "layer `{name}` has {} rows (inputs) but the layer before it, `{}`, has {} cols (outputs): consecutive layers must chain",
                    l.rows,
                    excerpt(&p.name),
                    p.cols
                );
            }
            if l.weights.len() != l.rows * l.cols {
                bail!(
                    "layer `{name}`: {} weights for {} x {} (need {})",
                    l.weights.len(),
                    l.rows,
                    l.cols,
                    l.rows * l.cols
                );
            }
            if let Some((j, w)) = l
                .weights
                .iter()
                .enumerate()
                .find(|(_, w)| (**w as i64).abs() > max)
            {
                bail!(
                    "layer `{name}`: weight {w} is out of range at index {j} (row {}, col {}): valid -{max}..={max} for weight_bits {}",
                    j / l.cols,
                    j % l.cols,
                    self.weight_bits
                );
            }
            // Every weight in the declared pattern: a k-hot weight has at
            // most k magnitude bits set; in a group pattern the bits of a
            // whole OU window are at most k, so each weight's are too (the
            // window itself is checked below when the file records it).
            if self.pattern != "none"
                && let Some((j, w)) = l
                    .weights
                    .iter()
                    .enumerate()
                    .find(|(_, w)| w.unsigned_abs().count_ones() > self.k)
            {
                bail!(
                    "layer `{name}`: weight {w} at index {j} (row {}, col {}) has {} magnitude bits set, not in the declared pattern {} with k {} (at most {} per {})",
                    j / l.cols,
                    j % l.cols,
                    w.unsigned_abs().count_ones(),
                    self.pattern,
                    self.k,
                    self.k,
                    if self.pattern == "khot" {
                        "weight"
                    } else {
                        "OU window"
                    }
                );
            }
            if let Some([m, g]) = self.window
                && let Some((r0, c0, bits)) = first_window_over(l, m as usize, g as usize, self.k)
            {
                bail!(
                    "layer `{name}`: the {m} x {g} window at row {r0}, col {c0} has {bits} magnitude bits set across its weights, not in the declared pattern group with k {} (at most {} per window)",
                    self.k,
                    self.k
                );
            }
            if l.scales.len() != 1 && l.scales.len() != l.cols {
                bail!(
                    "layer `{name}`: {} scales: need 1 or {} (one per column)",
                    l.scales.len(),
                    l.cols
                );
            }
            if let Some((j, s)) = l
                .scales
                .iter()
                .enumerate()
                .find(|(_, s)| !(s.is_finite() && **s > 0.0))
            {
                bail!("layer `{name}`: scale {s} at index {j}: scales must be positive and finite");
            }
            if !l.bias.is_empty() && l.bias.len() != l.cols {
                bail!(
                    "layer `{name}`: {} biases: need 0 or {}",
                    l.bias.len(),
                    l.cols
                );
            }
            if let Some((j, b)) = l.bias.iter().enumerate().find(|(_, b)| !b.is_finite()) {
                bail!("layer `{name}`: bias {b} at index {j}: biases must be finite");
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

    /// Parses and validates JSON text (a leading byte-order mark is skipped).
    pub(crate) fn from_json(text: &str) -> Result<Self> {
        let text = crate::input::strip_bom(text);
        let f: WeightsFile = serde_json::from_str(text).map_err(|e| {
            anyhow::anyhow!(
                "not a valid sme weights file: {}",
                crate::input::excerpt_message(&e.to_string())
            )
        })?;
        f.validate()?;
        Ok(f)
    }

    /// Reads and validates a file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = crate::input::read_text(path, crate::input::InputKind::Weights)?;
        Self::from_json(&text).with_context(|| format!("weights file {}", path.display()))
    }

    /// The file's JSON text (validated first).
    pub(crate) fn to_json(&self) -> Result<String> {
        self.validate()?;
        Ok(serde_json::to_string(self)? + "\n")
    }

    /// Writes the file atomically (temporary name, then rename).
    pub fn save(&self, path: &Path) -> Result<()> {
        let text = self.to_json()?;
        outdir::write_file(path, &text).with_context(|| format!("cannot write {}", path.display()))
    }

    /// Checks that every weight fits the tile's weight bits.
    pub(crate) fn check_fits(&self, cfg: &crate::config::TileConfig) -> Result<()> {
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
            window: None,
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

    fn err(f: &WeightsFile) -> String {
        format!("{:#}", f.validate().unwrap_err())
    }

    fn two_layers() -> WeightsFile {
        let mut f = sample();
        f.pattern = "khot".into();
        f.k = 2;
        f.layers[0].weights = vec![1, -2, 3, 96, -65, 0];
        f.layers.push(IntLayer {
            name: "fc2".into(),
            rows: 3,
            cols: 1,
            scales: vec![0.25],
            weights: vec![5, 6, -12],
            bias: vec![0.5],
            conv: None,
            requant: None,
        });
        f
    }

    #[test]
    fn non_finite_reals_are_refused_by_layer_and_index() {
        let f = two_layers();
        f.validate().unwrap();
        let mut bad = f.clone();
        bad.layers[1].scales = vec![f32::NAN];
        assert!(err(&bad).contains("layer `fc2`: scale NaN at index 0"));
        let mut bad = f.clone();
        bad.layers[0].scales = vec![1.0, 2.0, f32::INFINITY];
        assert!(err(&bad).contains("layer `fc1`: scale inf at index 2"));
        let mut bad = f.clone();
        bad.layers[0].scales = vec![1.0, -2.0, 1.0];
        assert!(err(&bad).contains("scale -2 at index 1: scales must be positive"));
        let mut bad = f.clone();
        bad.layers[0].bias = vec![0.0, 0.0, f32::NEG_INFINITY];
        assert!(err(&bad).contains("layer `fc1`: bias -inf at index 2"));
        // JSON cannot spell NaN, but 1e39 overflows f32 to inf.
        let text = serde_json::to_string(&f)
            .unwrap()
            .replace("\"bias\":[0.5]", "\"bias\":[1e39]");
        let e = format!("{:#}", WeightsFile::from_json(&text).unwrap_err());
        assert!(e.contains("layer `fc2`: bias inf at index 0"), "{e}");
        let e = format!(
            "{:#}",
            WeightsFile::from_json(&text.replace("1e39", "NaN")).unwrap_err()
        );
        assert!(e.contains("not a valid sme weights file"), "{e}");
    }

    #[test]
    fn pattern_k_and_chaining_are_checked() {
        let f = two_layers();
        // 7 = 0b111 has 3 bits: not 2-hot.
        let mut bad = f.clone();
        bad.layers[1].weights[1] = -7;
        let e = err(&bad);
        assert!(
            e.contains("layer `fc2`: weight -7 at index 1 (row 1, col 0) has 3 magnitude bits set")
                && e.contains("khot with k 2"),
            "{e}"
        );
        bad.pattern = "group".into();
        assert!(err(&bad).contains("per OU window"));
        // A recorded window is checked as a whole: fc1 = [[1, -2, 3], [96,
        // -65, 0]] in 2 x 2 windows ORs to 0b1100011 (4 bits) in the first
        // window, 0b11 (2 bits) in the second; in 1 x 1 windows each weight
        // alone (at most 2 bits) passes.
        let mut win = f.clone();
        win.pattern = "group".into();
        win.window = Some([1, 1]);
        win.validate().unwrap();
        win.window = Some([2, 2]);
        let e = err(&win);
        assert!(
            e.contains("layer `fc1`: the 2 x 2 window at row 0, col 0 has 4 magnitude bits set")
                && e.contains("at most 2 per window"),
            "{e}"
        );
        win.k = 4;
        win.layers[1].weights = vec![1, 0, 0];
        win.validate().unwrap();
        win.window = Some([0, 2]);
        assert!(err(&win).contains("window [0, 2]: both sides must be in 1..="));
        win.window = Some([2, 2]);
        win.pattern = "khot".into();
        assert!(err(&win).contains("only a group pattern has a window"));
        bad.pattern = "none".into();
        bad.k = 0;
        bad.validate().unwrap();
        bad.k = 2;
        assert!(err(&bad).contains("k 2: pattern none takes k 0"));
        let mut bad = f.clone();
        bad.k = 0;
        assert!(err(&bad).contains("k 0: valid 1..=7 for pattern khot"));
        bad.k = 8;
        assert!(err(&bad).contains("k 8: valid 1..=7"));
        // fc1 has 3 outputs, fc2 must have 3 inputs.
        let mut bad = f.clone();
        bad.layers[1].rows = 2;
        bad.layers[1].weights.pop();
        let e = err(&bad);
        assert!(
            e.contains(
                "layer `fc2` has 2 rows (inputs) but the layer before it, `fc1`, has 3 cols"
            ),
            "{e}"
        );
    }

    #[test]
    fn names_and_texts_are_bounded_in_messages() {
        let mut bad = sample();
        bad.pattern = "x".repeat(100_000);
        assert!(err(&bad).len() < 200);
        let mut bad = sample();
        bad.layers[0].name = "n".repeat(MAX_NAME + 1);
        let e = err(&bad);
        assert!(e.contains("valid 1..=256") && e.len() < 200, "{e}");
        let mut bad = sample();
        bad.format = "\n".repeat(1000);
        assert!(err(&bad).len() < 200);
        // A parser error quoting a huge unknown field stays short.
        let text = format!("{{\"{}\": 1}}", "k".repeat(100_000));
        let e = format!("{:#}", WeightsFile::from_json(&text).unwrap_err());
        assert!(e.len() < 2000, "{} bytes", e.len());
        // A byte-order mark is skipped.
        let text = format!(
            "{}{}",
            '\u{feff}',
            serde_json::to_string(&sample()).unwrap()
        );
        assert_eq!(WeightsFile::from_json(&text).unwrap(), sample());
    }

    mod fuzz {
        //! Mutated valid weights files (byte flips, truncation, field swaps)
        //! never panic: they load or fail with a named error.
        use super::*;
        use proptest::prelude::*;

        fn base() -> String {
            serde_json::to_string(&two_layers()).unwrap()
        }

        #[derive(Clone, Debug)]
        enum Mutation {
            Flip(usize, u8),
            Truncate(usize),
            Insert(usize, String),
            SwapValues(usize, usize),
        }

        fn mutation() -> impl Strategy<Value = Mutation> {
            let token = prop_oneof![
                Just("1e39".to_string()),
                Just("-1".to_string()),
                Just("18446744073709551616".to_string()),
                Just("4294967295".to_string()),
                Just("16777217".to_string()),
                Just("null".to_string()),
                Just("[]".to_string()),
                Just("\"khot\"".to_string()),
                Just(",".to_string()),
                Just("\u{feff}".to_string()),
                "[a-z0-9,:\\[\\]{}\"]{0,8}",
            ];
            prop_oneof![
                (any::<usize>(), 0u8..8).prop_map(|(p, b)| Mutation::Flip(p, b)),
                any::<usize>().prop_map(Mutation::Truncate),
                (any::<usize>(), token).prop_map(|(p, t)| Mutation::Insert(p, t)),
                (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapValues(a, b)),
            ]
        }

        /// Applies `m` on bytes; the result may not be UTF-8 (then the
        /// lossy text is used, as a file read would refuse it earlier).
        fn apply(text: &str, m: &Mutation) -> String {
            let mut v = text.as_bytes().to_vec();
            let n = v.len().max(1);
            match m {
                Mutation::Flip(p, b) => {
                    if !v.is_empty() {
                        v[p % n] ^= 1 << b
                    }
                }
                Mutation::Truncate(p) => v.truncate(p % n),
                Mutation::Insert(p, t) => {
                    let p = p % (v.len() + 1);
                    v.splice(p..p, t.bytes());
                }
                Mutation::SwapValues(a, b) => {
                    // Swap two JSON values between `:` and the next `,`/`}`
                    // (a field swap).
                    let text = String::from_utf8_lossy(&v).into_owned();
                    let spans: Vec<(usize, usize)> = text
                        .match_indices(':')
                        .map(|(i, _)| {
                            let end = text[i + 1..]
                                .find([',', '}'])
                                .map_or(text.len(), |e| i + 1 + e);
                            (i + 1, end)
                        })
                        .collect();
                    if spans.len() >= 2 {
                        let (x, y) = (spans[a % spans.len()], spans[b % spans.len()]);
                        if x.1 <= y.0 {
                            let mut s = text[..x.0].to_string();
                            s += &text[y.0..y.1];
                            s += &text[x.1..y.0];
                            s += &text[x.0..x.1];
                            s += &text[y.1..];
                            return s;
                        }
                    }
                    return text;
                }
            }
            String::from_utf8_lossy(&v).into_owned()
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 4000, failure_persistence: None, ..ProptestConfig::default() })]

            #[test]
            fn mutated_weights_files(muts in proptest::collection::vec(mutation(), 1..5)) {
                let mut text = base();
                for m in &muts {
                    text = apply(&text, m);
                }
                match WeightsFile::from_json(&text) {
                    Ok(f) => {
                        // Whatever loads is consistent.
                        f.validate().unwrap();
                        for l in &f.layers {
                            prop_assert_eq!(l.weights.len(), l.rows * l.cols);
                            let _ = l.matrix();
                        }
                        let _ = f.network();
                    }
                    Err(e) => {
                        let msg = format!("{e:#}");
                        prop_assert!(!msg.is_empty() && msg.len() < 2000, "{}", msg);
                    }
                }
            }
        }
    }
}
