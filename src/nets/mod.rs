//! Networks: weight layers of a CNN (built-in ImageNet models with synthetic
//! weights, or imported from ONNX) and their lowering to crossbar matrices
//! (DESIGN.md section 4, step 4).
//!
//! Only the layers whose weights are stored in crossbars are kept
//! (convolutions and fully connected layers); biases, batch norm, pooling and
//! activations run outside the crossbars and are dropped.

pub mod builtin;
pub mod onnx;

pub use builtin::{BUILTIN_NAMES, builtin, builtin_shapes, synthesize};
pub use onnx::{load_onnx, load_onnx_with_input, parse_onnx, parse_onnx_with_input};

use serde::Serialize;
use std::path::PathBuf;

/// Most input vectors one layer may see per inference (a 65536 x 65536
/// output feature map); more is refused at import.
pub(crate) const MAX_VECTORS: usize = 1 << 32;
/// Largest lowered matrix of one layer, `kh * kw * in_ch * out_ch` cells
/// (grouped layers are lowered block-diagonally, so this counts the zero
/// blocks too); more is refused at import.
pub(crate) const MAX_LAYER_CELLS: u64 = 1 << 30;
/// Most weight layers in a network.
pub(crate) const MAX_LAYERS: usize = 1 << 16;
/// Largest dimension of a network's input shape (`--input-shape` or the
/// model's declared input).
pub(crate) const MAX_INPUT_DIM: u64 = 1 << 24;
/// Most elements of a network's input (the product of its shape).
pub(crate) const MAX_INPUT_ELEMENTS: u64 = 1 << 36;

/// Where a network's float weights come from.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    /// A built-in network by name ([`BUILTIN_NAMES`]): shapes only; each
    /// layer's weights are synthesized when it is compiled ([`synthesize`]).
    Builtin(String),
    /// An ONNX model file, with the `[C, H, W]` input shape when the model
    /// leaves it dynamic.
    Onnx {
        /// The model file.
        path: PathBuf,
        /// Input shape override.
        input_shape: Option<Vec<usize>>,
    },
}

impl Source {
    /// Load the network. Built-in networks come without weights.
    pub fn load(&self) -> anyhow::Result<Network> {
        let net = match self {
            Source::Builtin(name) => builtin_shapes(name),
            Source::Onnx {
                path,
                input_shape: Some(shape),
            } => load_onnx_with_input(path, shape),
            Source::Onnx {
                path,
                input_shape: None,
            } => load_onnx(path),
        }?;
        net.check_limits()?;
        Ok(net)
    }

    /// Whether the weights are synthetic (built-in networks).
    pub fn synthetic(&self) -> bool {
        matches!(self, Source::Builtin(_))
    }
}

/// What a weight layer computes, which decides how it is lowered.
#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LayerKind {
    /// Dense convolution (`groups == 1`).
    Conv,
    /// Depthwise convolution: `groups == in_ch > 1`, one input channel per group.
    Depthwise,
    /// Grouped convolution with more than one input channel per group.
    Grouped,
    /// Fully connected layer (Gemm / MatMul / Linear): `kh == kw == 1`.
    Fc,
}

/// One weight layer.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct Layer {
    /// Layer name (unique within its network).
    pub name: String,
    /// Kind of layer.
    pub kind: LayerKind,
    /// Input channels (FC: input features).
    pub in_ch: usize,
    /// Output channels (FC: output features).
    pub out_ch: usize,
    /// Kernel height (1 for FC).
    pub kh: usize,
    /// Kernel width (1 for FC).
    pub kw: usize,
    /// Number of groups (1 for dense conv and FC, `in_ch` for depthwise).
    pub groups: usize,
    /// Input vectors applied to the lowered matrices per inference (batch 1):
    /// output pixels `out_h * out_w` for a conv, 1 for a plain FC layer.
    pub vectors: usize,
    /// Weights in ONNX layout `[out_ch][in_ch/groups][kh][kw]` (FC: `[out][in]`).
    /// Empty when only shapes were requested ([`builtin_shapes`]).
    #[serde(skip)]
    pub weights: Vec<f32>,
}

/// A network: its weight layers in topological order.
#[derive(Serialize, Clone, Debug, PartialEq, Default)]
pub struct Network {
    /// Network name.
    pub name: String,
    /// Weight layers, in topological order.
    pub layers: Vec<Layer>,
    /// Non-fatal import problems (e.g. a shape that could not be inferred, so
    /// a layer's `vectors` fell back to 1).
    pub warnings: Vec<String>,
}

/// One crossbar-ready weight matrix of a layer (one per group).
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct LoweredMatrix {
    /// Group index (0 for dense conv and FC).
    pub group: usize,
    /// Rows: `kh * kw * in_ch / groups` (one per input of the unrolled window).
    pub rows: usize,
    /// Columns: `out_ch / groups` (one per output channel of the group).
    pub cols: usize,
    /// Row-major `rows x cols` matrix `W` such that `y = x W`.
    pub data: Vec<f32>,
}

impl LoweredMatrix {
    /// Element at row `r`, column `c`.
    pub fn at(&self, r: usize, c: usize) -> f32 {
        self.data[r * self.cols + c]
    }
}

impl Layer {
    /// Number of weights, `out_ch * in_ch / groups * kh * kw`.
    pub(crate) fn num_weights(&self) -> usize {
        self.out_ch * (self.in_ch / self.groups) * self.kh * self.kw
    }

    /// Fan-in of one output: `kh * kw * in_ch / groups` (the rows of each matrix).
    pub(crate) fn fan_in(&self) -> usize {
        self.kh * self.kw * (self.in_ch / self.groups)
    }

    /// Derive the kind of a convolution from its channel counts and groups.
    pub(crate) fn conv_kind(in_ch: usize, groups: usize) -> LayerKind {
        if groups <= 1 {
            LayerKind::Conv
        } else if groups == in_ch {
            LayerKind::Depthwise
        } else {
            LayerKind::Grouped
        }
    }

    /// Lower the layer to one matrix per group (DESIGN.md step 4).
    ///
    /// For group `g`, row `r = (c * kh + i) * kw + j` holds kernel position
    /// `(i, j)` of input channel `c` *within the group* (global input channel
    /// `g * in_ch/groups + c`), and column `o` is output channel
    /// `g * out_ch/groups + o`. An FC layer gives a single `in x out` matrix.
    /// A depthwise conv gives `groups` matrices of `kh*kw` rows by 1 column:
    /// they fill crossbars poorly, and that is reported, not hidden.
    ///
    /// Panics if `weights` does not hold [`Layer::num_weights`] values (e.g. a
    /// network from [`builtin_shapes`] that was not [`synthesize`]d).
    pub(crate) fn matrices(&self) -> Vec<LoweredMatrix> {
        assert_eq!(
            self.weights.len(),
            self.num_weights(),
            "layer {}: weights missing or of the wrong size",
            self.name
        );
        let rows = self.fan_in();
        let cols = self.out_ch / self.groups;
        (0..self.groups)
            .map(|g| {
                let mut data = vec![0.0f32; rows * cols];
                for o in 0..cols {
                    // ONNX layout: the `rows` weights of output channel
                    // g*cols+o are contiguous and already in row order.
                    let src = &self.weights[(g * cols + o) * rows..][..rows];
                    for (r, &w) in src.iter().enumerate() {
                        data[r * cols + o] = w;
                    }
                }
                LoweredMatrix {
                    group: g,
                    rows,
                    cols,
                    data,
                }
            })
            .collect()
    }
}

/// Checks an input shape against [`MAX_INPUT_DIM`] and [`MAX_INPUT_ELEMENTS`]
/// (`what` names it in the error).
pub(crate) fn check_input_shape(shape: &[u64], what: &str) -> anyhow::Result<()> {
    if let Some((i, d)) = shape
        .iter()
        .enumerate()
        .find(|(_, d)| !(1..=MAX_INPUT_DIM).contains(*d))
    {
        anyhow::bail!(
            "{what}: dimension {i} is {d}: valid 1..={MAX_INPUT_DIM} (limits: docs/limits.md)"
        );
    }
    let n = shape
        .iter()
        .try_fold(1u64, |a, &d| a.checked_mul(d))
        .filter(|&n| n <= MAX_INPUT_ELEMENTS);
    if n.is_none() {
        anyhow::bail!(
            "{what}: {} elements in all, more than the limit of {MAX_INPUT_ELEMENTS} (limits: docs/limits.md)",
            shape
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(" x ")
        );
    }
    Ok(())
}

impl Network {
    /// Checks the network against the import limits ([`MAX_LAYERS`],
    /// [`MAX_VECTORS`], [`MAX_LAYER_CELLS`]) and the consistency of every
    /// layer's shape, so the totals of a report cannot overflow and lowering
    /// cannot exhaust memory. Errors name the layer.
    pub(crate) fn check_limits(&self) -> anyhow::Result<()> {
        use anyhow::bail;
        if self.layers.len() > MAX_LAYERS {
            bail!(
                "{}: {} weight layers, more than the limit of {MAX_LAYERS}",
                self.name,
                self.layers.len()
            );
        }
        for l in &self.layers {
            let n = &l.name;
            if l.in_ch == 0 || l.out_ch == 0 || l.kh == 0 || l.kw == 0 || l.groups == 0 {
                bail!(
                    "layer {n}: empty shape ({} in, {} out, kernel {}x{}, {} groups)",
                    l.in_ch,
                    l.out_ch,
                    l.kh,
                    l.kw,
                    l.groups
                );
            }
            if l.in_ch % l.groups != 0 || l.out_ch % l.groups != 0 {
                bail!(
                    "layer {n}: {} groups do not divide {} input and {} output channels",
                    l.groups,
                    l.in_ch,
                    l.out_ch
                );
            }
            if l.vectors > MAX_VECTORS {
                bail!(
                    "layer {n}: {} input vectors per inference, more than the limit of {MAX_VECTORS} (a smaller --input-shape?; limits: docs/limits.md)",
                    l.vectors
                );
            }
            let cells = [l.kh, l.kw, l.in_ch, l.out_ch]
                .iter()
                .try_fold(1u64, |a, &d| a.checked_mul(d as u64))
                .filter(|&c| c <= MAX_LAYER_CELLS);
            if cells.is_none() {
                bail!(
                    "layer {n}: its lowered matrix ({} rows x {} cols) exceeds the limit of {MAX_LAYER_CELLS} cells (limits: docs/limits.md)",
                    (l.kh as u128) * (l.kw as u128) * (l.in_ch as u128),
                    l.out_ch
                );
            }
            if !l.weights.is_empty() && l.weights.len() != l.num_weights() {
                bail!(
                    "layer {n}: {} weights for its shape (need {})",
                    l.weights.len(),
                    l.num_weights()
                );
            }
        }
        Ok(())
    }

    /// Total number of weights over all layers (from the shapes, so it also
    /// works for shape-only networks).
    #[cfg(test)]
    pub(crate) fn total_weights(&self) -> usize {
        self.layers
            .iter()
            .fold(0usize, |a, l| a.saturating_add(l.num_weights()))
    }

    /// Total input vectors per inference over all layers.
    #[cfg(test)]
    pub(crate) fn total_vectors(&self) -> usize {
        self.layers
            .iter()
            .fold(0usize, |a, l| a.saturating_add(l.vectors))
    }

    /// Number of layers of the given kind.
    #[cfg(test)]
    pub(crate) fn count_kind(&self, kind: LayerKind) -> usize {
        self.layers.iter().filter(|l| l.kind == kind).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(kind: LayerKind, in_ch: usize, out_ch: usize, k: usize, groups: usize) -> Layer {
        let n = out_ch * in_ch / groups * k * k;
        Layer {
            name: "t".into(),
            kind,
            in_ch,
            out_ch,
            kh: k,
            kw: k,
            groups,
            vectors: 1,
            weights: (0..n).map(|x| x as f32).collect(),
        }
    }

    #[test]
    fn lower_dense_conv_row_order() {
        let l = layer(LayerKind::Conv, 2, 3, 2, 1);
        let m = l.matrices();
        assert_eq!(m.len(), 1);
        let m = &m[0];
        assert_eq!((m.rows, m.cols), (8, 3));
        for o in 0..3 {
            for c in 0..2 {
                for i in 0..2 {
                    for j in 0..2 {
                        let r = (c * 2 + i) * 2 + j;
                        let w = (((o * 2 + c) * 2 + i) * 2 + j) as f32;
                        assert_eq!(m.at(r, o), w);
                    }
                }
            }
        }
    }

    #[test]
    fn lower_grouped_and_depthwise() {
        // grouped: 4 in, 6 out, 2 groups -> 2 matrices of 2*1*1 x 3
        let l = layer(LayerKind::Grouped, 4, 6, 1, 2);
        let m = l.matrices();
        assert_eq!(m.len(), 2);
        assert_eq!((m[1].rows, m[1].cols), (2, 3));
        // output channel 3+o, in-group channel c -> weight index (3+o)*2 + c
        assert_eq!(m[1].at(1, 2), (5 * 2 + 1) as f32);
        assert_eq!(m[0].at(0, 1), 2.0);
        // depthwise: 3 channels 3x3 -> 3 matrices of 9 x 1
        let l = layer(LayerKind::Depthwise, 3, 3, 3, 3);
        let m = l.matrices();
        assert_eq!(m.len(), 3);
        assert!(m.iter().all(|m| m.rows == 9 && m.cols == 1));
        assert_eq!(m[2].at(4, 0), (2 * 9 + 4) as f32);
        assert_eq!(Layer::conv_kind(3, 3), LayerKind::Depthwise);
        assert_eq!(Layer::conv_kind(4, 2), LayerKind::Grouped);
        assert_eq!(Layer::conv_kind(4, 1), LayerKind::Conv);
    }

    #[test]
    fn lower_fc() {
        let l = layer(LayerKind::Fc, 4, 2, 1, 1);
        let m = &l.matrices()[0];
        assert_eq!((m.rows, m.cols), (4, 2));
        // weights [out][in]: w[o][i] = o*4+i; y = x W -> W[i][o]
        assert_eq!(m.at(3, 1), 7.0);
        assert_eq!(m.at(1, 0), 1.0);
    }
}
