//! ONNX importer: reads the weight layers (Conv, Gemm, MatMul) of an ONNX
//! model and infers how many input vectors each one sees per inference.
//!
//! The protobuf subset is hand-written with `prost` (field numbers from
//! `onnx.proto`). Weights may live in graph initializers or in `Constant`
//! nodes. Shapes are propagated through the graph (in its topological order)
//! from the graph input: dynamic batch dimensions become 1; other dynamic
//! dimensions stay unknown unless an input shape is given
//! ([`parse_onnx_with_input`]). Small integer tensors (shape arithmetic such
//! as `Shape -> Slice -> Concat -> Reshape`) are constant-folded. A layer whose
//! shape cannot be inferred gets `vectors = 1` and a warning in
//! [`Network::warnings`].

use super::{Layer, LayerKind, Network};
use anyhow::{Context, Result, anyhow, bail, ensure};
use prost::Message;
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// Hand-written subset of `onnx.proto` (same field numbers).
#[allow(missing_docs)]
pub(crate) mod proto {
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ModelProto {
        #[prost(int64, optional, tag = "1")]
        pub ir_version: Option<i64>,
        #[prost(message, optional, tag = "7")]
        pub graph: Option<GraphProto>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct GraphProto {
        #[prost(message, repeated, tag = "1")]
        pub node: Vec<NodeProto>,
        #[prost(string, optional, tag = "2")]
        pub name: Option<String>,
        #[prost(message, repeated, tag = "5")]
        pub initializer: Vec<TensorProto>,
        #[prost(message, repeated, tag = "11")]
        pub input: Vec<ValueInfoProto>,
        #[prost(message, repeated, tag = "12")]
        pub output: Vec<ValueInfoProto>,
        #[prost(message, repeated, tag = "13")]
        pub value_info: Vec<ValueInfoProto>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct NodeProto {
        #[prost(string, repeated, tag = "1")]
        pub input: Vec<String>,
        #[prost(string, repeated, tag = "2")]
        pub output: Vec<String>,
        #[prost(string, optional, tag = "3")]
        pub name: Option<String>,
        #[prost(string, optional, tag = "4")]
        pub op_type: Option<String>,
        #[prost(message, repeated, tag = "5")]
        pub attribute: Vec<AttributeProto>,
        #[prost(string, optional, tag = "7")]
        pub domain: Option<String>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct AttributeProto {
        #[prost(string, optional, tag = "1")]
        pub name: Option<String>,
        #[prost(float, optional, tag = "2")]
        pub f: Option<f32>,
        #[prost(int64, optional, tag = "3")]
        pub i: Option<i64>,
        #[prost(bytes = "vec", optional, tag = "4")]
        pub s: Option<Vec<u8>>,
        #[prost(message, optional, tag = "5")]
        pub t: Option<TensorProto>,
        #[prost(float, repeated, tag = "7")]
        pub floats: Vec<f32>,
        #[prost(int64, repeated, tag = "8")]
        pub ints: Vec<i64>,
        #[prost(int32, optional, tag = "20")]
        pub r#type: Option<i32>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct TensorProto {
        #[prost(int64, repeated, tag = "1")]
        pub dims: Vec<i64>,
        #[prost(int32, optional, tag = "2")]
        pub data_type: Option<i32>,
        #[prost(float, repeated, tag = "4")]
        pub float_data: Vec<f32>,
        #[prost(int32, repeated, tag = "5")]
        pub int32_data: Vec<i32>,
        #[prost(int64, repeated, tag = "7")]
        pub int64_data: Vec<i64>,
        #[prost(string, optional, tag = "8")]
        pub name: Option<String>,
        #[prost(bytes = "vec", optional, tag = "9")]
        pub raw_data: Option<Vec<u8>>,
        #[prost(double, repeated, tag = "10")]
        pub double_data: Vec<f64>,
        #[prost(int32, optional, tag = "14")]
        pub data_location: Option<i32>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ValueInfoProto {
        #[prost(string, optional, tag = "1")]
        pub name: Option<String>,
        #[prost(message, optional, tag = "2")]
        pub r#type: Option<TypeProto>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct TypeProto {
        /// `oneof value`: only the tensor case is read.
        #[prost(message, optional, tag = "1")]
        pub tensor_type: Option<TypeTensor>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct TypeTensor {
        #[prost(int32, optional, tag = "1")]
        pub elem_type: Option<i32>,
        #[prost(message, optional, tag = "2")]
        pub shape: Option<TensorShapeProto>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct TensorShapeProto {
        #[prost(message, repeated, tag = "1")]
        pub dim: Vec<Dimension>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Dimension {
        #[prost(int64, optional, tag = "1")]
        pub dim_value: Option<i64>,
        #[prost(string, optional, tag = "2")]
        pub dim_param: Option<String>,
    }
}

use proto::{AttributeProto, ModelProto, NodeProto, TensorProto};

const SUPPORTED: &str = "supported weight layers: Conv (dense, grouped, depthwise; 1-D or 2-D), Gemm, MatMul with a constant 2-D weight";

/// Ops that carry weights we cannot map (always an error).
const UNSUPPORTED_WEIGHTED: &[&str] = &[
    "ConvTranspose",
    "LSTM",
    "GRU",
    "RNN",
    "ConvInteger",
    "QLinearConv",
    "MatMulInteger",
    "QLinearMatMul",
    "DeformConv",
];

/// Read an ONNX model file; the network is named after the file stem.
pub fn load_onnx(path: &Path) -> Result<Network> {
    load_impl(path, None)
}

/// Like [`load_onnx`], overriding the shape of the (first) graph input, e.g.
/// `[1, 3, 48, 192]` or without the batch dimension `[3, 48, 192]`.
pub fn load_onnx_with_input(path: &Path, input_shape: &[usize]) -> Result<Network> {
    load_impl(path, Some(input_shape))
}

fn load_impl(path: &Path, input_shape: Option<&[usize]>) -> Result<Network> {
    let bytes =
        std::fs::read(path).with_context(|| format!("reading ONNX model {}", path.display()))?;
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "onnx".into());
    parse_impl(&bytes, &name, input_shape)
        .with_context(|| format!("importing ONNX model {}", path.display()))
}

/// Parse an ONNX model from memory.
pub fn parse_onnx(bytes: &[u8], name: &str) -> Result<Network> {
    parse_impl(bytes, name, None)
}

/// Like [`parse_onnx`], overriding the shape of the (first) graph input that
/// is not an initializer; `input_shape` may omit the batch dimension.
pub fn parse_onnx_with_input(bytes: &[u8], name: &str, input_shape: &[usize]) -> Result<Network> {
    parse_impl(bytes, name, Some(input_shape))
}

/// Largest tensor rank tracked by shape inference.
const MAX_RANK: usize = 64;
/// Largest integer tensor whose values are constant-folded.
const MAX_INTS: usize = 1024;

type Dim = Option<i64>;
type Shape = Vec<Dim>;

/// What is known about a tensor.
#[derive(Clone, Debug, Default)]
struct Info {
    /// Shape, if the rank is known (dims may still be unknown).
    shape: Option<Shape>,
    /// Values of a small integer tensor (constant-folded shape arithmetic).
    ints: Option<Vec<i64>>,
}

struct Importer<'a> {
    info: HashMap<String, Info>,
    consts: HashMap<String, &'a TensorProto>,
    warnings: Vec<String>,
    layers: Vec<Layer>,
    names: HashSet<String>,
    unknown_ops: HashSet<String>,
}

fn parse_impl(bytes: &[u8], name: &str, input_shape: Option<&[usize]>) -> Result<Network> {
    ensure!(!bytes.is_empty(), "{name}: empty file, not an ONNX model");
    let model = ModelProto::decode(bytes)
        .map_err(|e| anyhow!("{name}: not a valid ONNX model (protobuf decode failed: {e})"))?;
    let graph = model
        .graph
        .as_ref()
        .ok_or_else(|| anyhow!("{name}: not an ONNX model (no graph)"))?;
    ensure!(!graph.node.is_empty(), "{name}: ONNX graph has no nodes");

    let mut im = Importer {
        info: HashMap::new(),
        consts: HashMap::new(),
        warnings: Vec::new(),
        layers: Vec::new(),
        names: HashSet::new(),
        unknown_ops: HashSet::new(),
    };
    for t in &graph.initializer {
        let n = t.name.clone().unwrap_or_default();
        im.info.insert(n.clone(), const_info(t));
        im.consts.insert(n, t);
    }
    let mut overridden = false;
    for vi in &graph.input {
        let n = vi.name.clone().unwrap_or_default();
        if im.consts.contains_key(&n) {
            continue;
        }
        let mut shape: Option<Shape> = vi
            .r#type
            .as_ref()
            .and_then(|t| t.tensor_type.as_ref())
            .and_then(|t| t.shape.as_ref())
            .map(|s| {
                s.dim
                    .iter()
                    .enumerate()
                    .map(|(i, d)| match d.dim_value {
                        Some(v) if v > 0 => Some(v),
                        // dynamic batch -> 1
                        _ if i == 0 => Some(1),
                        _ => None,
                    })
                    .collect()
            });
        if let (Some(want), false) = (input_shape, overridden) {
            overridden = true;
            let mut s: Shape = want.iter().map(|&d| Some(d as i64)).collect();
            if let Some(decl) = &shape {
                if s.len() + 1 == decl.len() {
                    s.insert(0, Some(1));
                }
                ensure!(
                    s.len() == decl.len(),
                    "{name}: input shape {want:?} does not match the rank {} of graph input {n:?}",
                    decl.len()
                );
            }
            shape = Some(s);
        }
        im.info.insert(n, Info { shape, ints: None });
    }
    if input_shape.is_some() && !overridden {
        bail!("{name}: the graph has no input to apply the given input shape to");
    }

    // Shapes the file itself declares for intermediate tensors and outputs
    // fill in what propagation could not infer.
    let declared: HashMap<&str, Shape> = graph
        .value_info
        .iter()
        .chain(&graph.output)
        .filter_map(|vi| {
            let dims = &vi
                .r#type
                .as_ref()?
                .tensor_type
                .as_ref()?
                .shape
                .as_ref()?
                .dim;
            let shape = dims
                .iter()
                .map(|d| d.dim_value.filter(|&v| v > 0))
                .collect();
            Some((vi.name.as_deref()?, shape))
        })
        .collect();
    for (idx, node) in graph.node.iter().enumerate() {
        im.node(idx, node)
            .with_context(|| format!("{name}: node {}", node_label(node, idx)))?;
        for o in &node.output {
            if let Some(decl) = declared.get(o.as_str()) {
                let info = im.info.entry(o.clone()).or_default();
                info.shape = match info.shape.take() {
                    Some(mine) if mine.len() == decl.len() => {
                        Some(mine.iter().zip(decl).map(|(m, d)| m.or(*d)).collect())
                    }
                    Some(mine) => Some(mine),
                    None => Some(decl.clone()),
                };
            }
        }
    }
    if !im.unknown_ops.is_empty() {
        let mut ops: Vec<_> = im.unknown_ops.into_iter().collect();
        ops.sort();
        im.warnings.push(format!(
            "no shape inference for op types: {}",
            ops.join(", ")
        ));
    }
    ensure!(
        !im.layers.is_empty(),
        "{name}: no weight layers found ({SUPPORTED})"
    );
    Ok(Network {
        name: name.to_string(),
        layers: im.layers,
        warnings: im.warnings,
    })
}

fn op(node: &NodeProto) -> &str {
    node.op_type.as_deref().unwrap_or("")
}

/// The node's name, or `<op_type>_<index>` when it has none.
fn node_label(node: &NodeProto, idx: usize) -> String {
    match node.name.as_deref() {
        Some(n) if !n.is_empty() => n.to_string(),
        _ => format!("{}_{idx}", op(node)),
    }
}

fn attr<'n>(node: &'n NodeProto, name: &str) -> Option<&'n AttributeProto> {
    node.attribute
        .iter()
        .find(|a| a.name.as_deref() == Some(name))
}
fn attr_i(node: &NodeProto, name: &str) -> Option<i64> {
    attr(node, name).and_then(|a| a.i)
}
fn attr_f(node: &NodeProto, name: &str) -> Option<f32> {
    attr(node, name).and_then(|a| a.f)
}
fn attr_ints(node: &NodeProto, name: &str) -> Option<Vec<i64>> {
    attr(node, name).map(|a| a.ints.clone())
}
fn attr_s(node: &NodeProto, name: &str) -> Option<String> {
    attr(node, name)
        .and_then(|a| a.s.as_ref())
        .map(|s| String::from_utf8_lossy(s).into_owned())
}

fn dtype_name(t: i32) -> String {
    const NAMES: [&str; 24] = [
        "UNDEFINED",
        "FLOAT",
        "UINT8",
        "INT8",
        "UINT16",
        "INT16",
        "INT32",
        "INT64",
        "STRING",
        "BOOL",
        "FLOAT16",
        "DOUBLE",
        "UINT32",
        "UINT64",
        "COMPLEX64",
        "COMPLEX128",
        "BFLOAT16",
        "FLOAT8E4M3FN",
        "FLOAT8E4M3FNUZ",
        "FLOAT8E5M2",
        "FLOAT8E5M2FNUZ",
        "UINT4",
        "INT4",
        "FLOAT4E2M1",
    ];
    match usize::try_from(t).ok().and_then(|i| NAMES.get(i)) {
        Some(n) => format!("{n} ({t})"),
        None => format!("unknown data type {t}"),
    }
}

/// Number of elements of a tensor with these dims (None if invalid/overflow).
fn numel(dims: &[i64]) -> Option<usize> {
    dims.iter().try_fold(1usize, |acc, &d| {
        usize::try_from(d).ok().and_then(|d| acc.checked_mul(d))
    })
}

fn const_info(t: &TensorProto) -> Info {
    let shape = Some(t.dims.iter().map(|&d| Some(d)).collect());
    let ints = match numel(&t.dims) {
        Some(n) if n <= MAX_INTS => tensor_ints(t).ok(),
        _ => None,
    };
    Info { shape, ints }
}

fn raw_chunks<const N: usize>(raw: &[u8], n: usize) -> Option<impl Iterator<Item = [u8; N]> + '_> {
    (n.checked_mul(N) == Some(raw.len()))
        .then(|| raw.chunks_exact(N).map(|c| c.try_into().unwrap()))
}

/// Integer values of an INT64 / INT32 tensor.
fn tensor_ints(t: &TensorProto) -> Result<Vec<i64>> {
    let n = numel(&t.dims).ok_or_else(|| anyhow!("invalid dims {:?}", t.dims))?;
    let raw = t.raw_data.as_deref().unwrap_or(&[]);
    let v: Vec<i64> = match t.data_type.unwrap_or(0) {
        7 if !raw.is_empty() => raw_chunks::<8>(raw, n)
            .ok_or_else(|| anyhow!("raw_data size"))?
            .map(i64::from_le_bytes)
            .collect(),
        7 => t.int64_data.clone(),
        6 if !raw.is_empty() => raw_chunks::<4>(raw, n)
            .ok_or_else(|| anyhow!("raw_data size"))?
            .map(|b| i32::from_le_bytes(b) as i64)
            .collect(),
        6 => t.int32_data.iter().map(|&x| x as i64).collect(),
        d => bail!("not an integer tensor: {}", dtype_name(d)),
    };
    ensure!(
        v.len() == n,
        "tensor holds {} values, dims {:?} need {n}",
        v.len(),
        t.dims
    );
    Ok(v)
}

fn f16_to_f32(h: u16) -> f32 {
    let sign = if h & 0x8000 != 0 { -1.0f32 } else { 1.0 };
    let exp = ((h >> 10) & 0x1f) as i32;
    let frac = (h & 0x3ff) as f32;
    match exp {
        0 => sign * frac * 2f32.powi(-24),
        31 if frac == 0.0 => sign * f32::INFINITY,
        31 => f32::NAN,
        _ => sign * (1.0 + frac / 1024.0) * 2f32.powi(exp - 15),
    }
}

/// Values of a floating-point tensor as f32 (FLOAT, DOUBLE or FLOAT16).
fn tensor_f32(t: &TensorProto) -> Result<Vec<f32>> {
    if t.data_location == Some(1) {
        bail!(
            "tensor {:?} uses external data, which is not supported (save the model with weights embedded)",
            t.name.as_deref().unwrap_or("")
        );
    }
    let n = numel(&t.dims).ok_or_else(|| anyhow!("invalid dims {:?}", t.dims))?;
    let raw = t.raw_data.as_deref().unwrap_or(&[]);
    let size_err = || {
        anyhow!(
            "tensor raw_data has {} bytes, which does not match dims {:?}",
            raw.len(),
            t.dims
        )
    };
    let v: Vec<f32> = match t.data_type.unwrap_or(0) {
        1 if !raw.is_empty() => raw_chunks::<4>(raw, n)
            .ok_or_else(size_err)?
            .map(f32::from_le_bytes)
            .collect(),
        1 => t.float_data.clone(),
        11 if !raw.is_empty() => raw_chunks::<8>(raw, n)
            .ok_or_else(size_err)?
            .map(|b| f64::from_le_bytes(b) as f32)
            .collect(),
        11 => t.double_data.iter().map(|&x| x as f32).collect(),
        10 if !raw.is_empty() => raw_chunks::<2>(raw, n)
            .ok_or_else(size_err)?
            .map(|b| f16_to_f32(u16::from_le_bytes(b)))
            .collect(),
        10 => t.int32_data.iter().map(|&x| f16_to_f32(x as u16)).collect(),
        d => bail!(
            "unsupported weight data type {} (supported: FLOAT, DOUBLE, FLOAT16)",
            dtype_name(d)
        ),
    };
    ensure!(
        v.len() == n,
        "tensor holds {} values, dims {:?} need {n}",
        v.len(),
        t.dims
    );
    Ok(v)
}

/// Product of dims if all are known.
fn prod(dims: &[Dim]) -> Dim {
    dims.iter()
        .try_fold(1i64, |acc, d| d.and_then(|d| acc.checked_mul(d)))
}

/// Normalise a possibly negative axis for rank `r`.
fn norm_axis(a: i64, r: usize) -> Option<usize> {
    let r = r as i64;
    let a = if a < 0 { a + r } else { a };
    (0..r).contains(&a).then_some(a as usize)
}

/// Multidirectional (numpy) broadcast.
fn broadcast(shapes: &[&Shape]) -> Shape {
    let rank = shapes.iter().map(|s| s.len()).max().unwrap_or(0);
    (0..rank)
        .map(|i| {
            let mut out = Some(1);
            for s in shapes {
                let off = rank - s.len();
                if i < off {
                    continue;
                }
                match s[i - off] {
                    Some(1) => {}
                    Some(d) => {
                        out = if out == Some(1) || out == Some(d) {
                            Some(d)
                        } else {
                            None
                        }
                    }
                    None => {
                        if out == Some(1) {
                            out = None
                        }
                    }
                }
            }
            out
        })
        .collect()
}

/// Spatial output size of a conv / pool window (`auto_pad` as in ONNX).
#[allow(clippy::too_many_arguments)]
fn window_out(
    input: Dim,
    k: i64,
    s: i64,
    d: i64,
    pb: i64,
    pe: i64,
    auto_pad: &str,
    ceil: bool,
) -> Dim {
    let x = input?;
    let s = s.max(1);
    if x <= 0 || k <= 0 || d <= 0 {
        return None;
    }
    let eff = (k - 1).checked_mul(d)?.checked_add(1)?;
    let o = match auto_pad {
        "SAME_UPPER" | "SAME_LOWER" => x.checked_add(s - 1)? / s,
        "VALID" => x.checked_sub(eff)?.div_euclid(s) + 1,
        _ => {
            let span = x.checked_add(pb)?.checked_add(pe)?.checked_sub(eff)?;
            if span < 0 {
                return None;
            }
            if ceil {
                span.checked_add(s - 1)? / s + 1
            } else {
                span / s + 1
            }
        }
    };
    (o > 0).then_some(o)
}

/// Output shape of a conv / pool node on an `[N, C, spatial...]` input.
fn window_shape(node: &NodeProto, x: &Shape, kernel: &[i64], out_ch: Dim) -> Option<Shape> {
    let ns = kernel.len();
    if x.len() != ns + 2 {
        return None;
    }
    let strides = attr_ints(node, "strides")
        .filter(|v| v.len() == ns)
        .unwrap_or(vec![1; ns]);
    let dil = attr_ints(node, "dilations")
        .filter(|v| v.len() == ns)
        .unwrap_or(vec![1; ns]);
    let pads = attr_ints(node, "pads")
        .filter(|v| v.len() == 2 * ns)
        .unwrap_or(vec![0; 2 * ns]);
    let auto_pad = attr_s(node, "auto_pad").unwrap_or_default();
    let ceil = attr_i(node, "ceil_mode").unwrap_or(0) != 0;
    let mut out = vec![x[0], out_ch];
    for i in 0..ns {
        out.push(window_out(
            x[i + 2],
            kernel[i],
            strides[i],
            dil[i],
            pads[i],
            pads[i + ns],
            &auto_pad,
            ceil,
        ));
    }
    Some(out)
}

/// Elementwise / broadcasting ops: output shape is the broadcast of the inputs.
const BROADCAST_OPS: &[&str] = &[
    "Add",
    "Sub",
    "Mul",
    "Div",
    "Pow",
    "Max",
    "Min",
    "Sum",
    "Mean",
    "Where",
    "Equal",
    "Less",
    "Greater",
    "LessOrEqual",
    "GreaterOrEqual",
    "And",
    "Or",
    "Xor",
    "Mod",
    "PRelu",
    "BitShift",
];
/// Ops whose (first) output has the shape of their first input.
const UNARY_OPS: &[&str] = &[
    "Relu",
    "LeakyRelu",
    "Clip",
    "HardSigmoid",
    "HardSwish",
    "Sigmoid",
    "Tanh",
    "Softmax",
    "LogSoftmax",
    "Hardmax",
    "BatchNormalization",
    "InstanceNormalization",
    "LayerNormalization",
    "GroupNormalization",
    "LRN",
    "Dropout",
    "Identity",
    "Cast",
    "CastLike",
    "Exp",
    "Log",
    "Sqrt",
    "Neg",
    "Abs",
    "Erf",
    "Gelu",
    "Elu",
    "Selu",
    "Celu",
    "Softplus",
    "Softsign",
    "Mish",
    "Swish",
    "Floor",
    "Ceil",
    "Round",
    "Not",
    "Sign",
    "Reciprocal",
    "QuantizeLinear",
    "DequantizeLinear",
    "ThresholdedRelu",
    "Shrink",
    "IsNaN",
    "IsInf",
    "Sin",
    "Cos",
    "Trim",
    "Trilu",
];

impl<'a> Importer<'a> {
    fn get(&self, name: &str) -> Info {
        self.info.get(name).cloned().unwrap_or_default()
    }
    fn shape(&self, name: &str) -> Option<Shape> {
        self.info.get(name).and_then(|i| i.shape.clone())
    }
    fn ints(&self, name: &str) -> Option<Vec<i64>> {
        self.info.get(name).and_then(|i| i.ints.clone())
    }
    fn set(&mut self, name: Option<&String>, shape: Option<Shape>, ints: Option<Vec<i64>>) {
        // Caps keep hostile files from blowing up ranks or folded values.
        let shape = shape.filter(|s| s.len() <= MAX_RANK);
        let ints = ints.filter(|v| v.len() <= MAX_INTS);
        if let Some(n) = name {
            self.info.insert(n.clone(), Info { shape, ints });
        }
    }
    /// Axes from an attribute (older opsets) or from input `i` (newer ones).
    fn axes(&self, node: &NodeProto, i: usize) -> Option<Vec<i64>> {
        attr_ints(node, "axes").or_else(|| {
            node.input
                .get(i)
                .filter(|s| !s.is_empty())
                .and_then(|s| self.ints(s))
        })
    }
    fn unique_name(&mut self, base: String, idx: usize) -> String {
        let name = if self.names.contains(&base) {
            format!("{base}_{idx}")
        } else {
            base
        };
        self.names.insert(name.clone());
        name
    }

    fn node(&mut self, idx: usize, node: &'a NodeProto) -> Result<()> {
        let op = op(node);
        let label = node_label(node, idx);
        let in0 = node.input.first().map(String::as_str).unwrap_or("");
        let out0 = node.output.first();
        let x = self.shape(in0);
        let domain = node.domain.as_deref().unwrap_or("");
        let standard = domain.is_empty() || domain == "ai.onnx";

        if UNARY_OPS.contains(&op) && standard {
            let info = self.get(in0);
            if matches!(op, "Identity" | "Dropout")
                && let Some(&t) = self.consts.get(in0)
                && let Some(o) = out0
            {
                self.consts.insert(o.clone(), t);
            }
            let ints = if matches!(
                op,
                "Identity" | "Cast" | "CastLike" | "Dropout" | "Neg" | "Abs"
            ) {
                info.ints.and_then(|v| match op {
                    "Neg" => v.iter().map(|x| x.checked_neg()).collect(),
                    "Abs" => v.iter().map(|x| x.checked_abs()).collect(),
                    _ => Some(v),
                })
            } else {
                None
            };
            self.set(out0, info.shape, ints);
            return Ok(());
        }
        if BROADCAST_OPS.contains(&op) && standard {
            let shapes: Option<Vec<Shape>> = node.input.iter().map(|i| self.shape(i)).collect();
            let shape = shapes.map(|s| broadcast(&s.iter().collect::<Vec<_>>()));
            let ints = match (op, node.input.as_slice()) {
                ("Add" | "Sub" | "Mul" | "Div", [a, b]) => match (self.ints(a), self.ints(b)) {
                    (Some(a), Some(b)) if a.len() == b.len() || a.len() == 1 || b.len() == 1 => {
                        let n = a.len().max(b.len());
                        let at = |v: &Vec<i64>, i: usize| if v.len() == 1 { v[0] } else { v[i] };
                        (0..n)
                            .map(|i| {
                                let (x, y) = (at(&a, i), at(&b, i));
                                match op {
                                    "Add" => x.checked_add(y),
                                    "Sub" => x.checked_sub(y),
                                    "Mul" => x.checked_mul(y),
                                    _ => x.checked_div(y),
                                }
                            })
                            .collect()
                    }
                    _ => None,
                },
                _ => None,
            };
            self.set(out0, shape, ints);
            return Ok(());
        }
        if !standard {
            return self.unknown(node, &label);
        }
        match op {
            "Constant" => {
                let info = if let Some(t) = attr(node, "value").and_then(|a| a.t.as_ref()) {
                    if let Some(o) = out0 {
                        self.consts.insert(o.clone(), t);
                    }
                    const_info(t)
                } else if let Some(i) = attr_i(node, "value_int") {
                    Info {
                        shape: Some(vec![]),
                        ints: Some(vec![i]),
                    }
                } else if let Some(v) = attr_ints(node, "value_ints") {
                    Info {
                        shape: Some(vec![Some(v.len() as i64)]),
                        ints: Some(v),
                    }
                } else if attr_f(node, "value_float").is_some() {
                    Info {
                        shape: Some(vec![]),
                        ints: None,
                    }
                } else if let Some(a) = attr(node, "value_floats") {
                    Info {
                        shape: Some(vec![Some(a.floats.len() as i64)]),
                        ints: None,
                    }
                } else {
                    Info::default()
                };
                self.set(out0, info.shape, info.ints);
            }
            "Conv" => self.conv(idx, node, &label, x)?,
            "Gemm" => self.gemm(idx, node, &label, x)?,
            "MatMul" => self.matmul(idx, node, &label, x)?,
            o if UNSUPPORTED_WEIGHTED.contains(&o) => {
                bail!(
                    "unsupported op {o} in node {label:?} (it carries weights that cannot be mapped; {SUPPORTED})"
                )
            }
            "MaxPool" | "AveragePool" | "LpPool" => {
                let k = attr_ints(node, "kernel_shape").unwrap_or_default();
                let shape = x.and_then(|x| {
                    let c = x.get(1).copied().flatten();
                    window_shape(node, &x, &k, c)
                });
                self.set(out0, shape, None);
            }
            "GlobalAveragePool" | "GlobalMaxPool" | "GlobalLpPool" => {
                let shape = x.map(|x| {
                    x.iter()
                        .enumerate()
                        .map(|(i, &d)| if i < 2 { d } else { Some(1) })
                        .collect()
                });
                self.set(out0, shape, None);
            }
            "Flatten" => {
                let shape = x.and_then(|x| {
                    let axis = attr_i(node, "axis").unwrap_or(1);
                    let a = if axis == x.len() as i64 {
                        x.len()
                    } else {
                        norm_axis(axis, x.len())?
                    };
                    Some(vec![prod(&x[..a]), prod(&x[a..])])
                });
                self.set(out0, shape, None);
            }
            "Reshape" => {
                let target = node.input.get(1).and_then(|s| self.ints(s));
                let allowzero = attr_i(node, "allowzero").unwrap_or(0) != 0;
                let shape = target.map(|t| reshape(x.as_ref(), &t, allowzero));
                let ints = self.ints(in0);
                self.set(out0, shape, ints);
            }
            "Transpose" => {
                let shape = x.map(|x| {
                    let perm = attr_ints(node, "perm")
                        .unwrap_or_else(|| (0..x.len() as i64).rev().collect());
                    perm.iter()
                        .map(|&p| norm_axis(p, x.len()).and_then(|p| x[p]))
                        .collect()
                });
                self.set(out0, shape, None);
            }
            "Squeeze" => {
                let axes = self.axes(node, 1);
                let shape = x.and_then(|x| {
                    let keep: Option<Vec<bool>> = match axes {
                        Some(a) => {
                            let a: Option<Vec<usize>> =
                                a.iter().map(|&a| norm_axis(a, x.len())).collect();
                            a.map(|a| (0..x.len()).map(|i| !a.contains(&i)).collect())
                        }
                        None => x.iter().map(|d| d.map(|d| d != 1)).collect(),
                    };
                    keep.map(|k| {
                        x.iter()
                            .zip(k)
                            .filter(|(_, k)| *k)
                            .map(|(d, _)| *d)
                            .collect()
                    })
                });
                let ints = self.ints(in0);
                self.set(out0, shape, ints);
            }
            "Unsqueeze" => {
                let axes = self.axes(node, 1);
                let shape = x.zip(axes).and_then(|(x, axes)| {
                    let r = x.len() + axes.len();
                    let mut a: Vec<usize> = axes
                        .iter()
                        .map(|&a| norm_axis(a, r))
                        .collect::<Option<_>>()?;
                    a.sort_unstable();
                    let mut it = x.into_iter();
                    (0..r)
                        .map(|i| {
                            if a.contains(&i) {
                                Some(Some(1))
                            } else {
                                it.next()
                            }
                        })
                        .collect()
                });
                let ints = self.ints(in0);
                self.set(out0, shape, ints);
            }
            "Shape" => {
                let (shape, ints) = match x {
                    Some(x) => {
                        let r = x.len() as i64;
                        let clamp = |v: i64| (if v < 0 { v + r } else { v }).clamp(0, r) as usize;
                        let s = clamp(attr_i(node, "start").unwrap_or(0));
                        let e = clamp(attr_i(node, "end").unwrap_or(r)).max(s);
                        let part = &x[s..e];
                        (
                            Some(vec![Some(part.len() as i64)]),
                            part.iter().copied().collect::<Option<Vec<i64>>>(),
                        )
                    }
                    None => (None, None),
                };
                self.set(out0, shape, ints);
            }
            "Size" => {
                let ints = x.and_then(|x| prod(&x)).map(|n| vec![n]);
                self.set(out0, Some(vec![]), ints);
            }
            "Slice" => self.slice(node, x),
            "Concat" => {
                let axis = attr_i(node, "axis").unwrap_or(0);
                let shapes: Option<Vec<Shape>> = node.input.iter().map(|i| self.shape(i)).collect();
                let shape = shapes.and_then(|s| {
                    let r = s.first()?.len();
                    let a = norm_axis(axis, r)?;
                    if s.iter().any(|s| s.len() != r) {
                        return None;
                    }
                    Some(
                        (0..r)
                            .map(|i| {
                                if i == a {
                                    s.iter().try_fold(0i64, |acc, s| {
                                        s[i].and_then(|d| acc.checked_add(d))
                                    })
                                } else {
                                    s[0][i]
                                }
                            })
                            .collect(),
                    )
                });
                let ints: Option<Vec<i64>> = node
                    .input
                    .iter()
                    .map(|i| self.ints(i))
                    .collect::<Option<Vec<_>>>()
                    .map(|v| v.concat());
                self.set(out0, shape, ints);
            }
            "Gather" => {
                let axis = attr_i(node, "axis").unwrap_or(0);
                let idx_name = node.input.get(1).map(String::as_str).unwrap_or("");
                let ishape = self.shape(idx_name);
                let shape = x.as_ref().zip(ishape).and_then(|(x, is)| {
                    let a = norm_axis(axis, x.len())?;
                    Some([&x[..a], &is[..], &x[a + 1..]].concat())
                });
                let ints = match (self.ints(in0), self.ints(idx_name)) {
                    (Some(d), Some(ix)) if x.as_ref().is_some_and(|x| x.len() == 1) => {
                        let n = d.len() as i64;
                        ix.iter()
                            .map(|&i| d.get((if i < 0 { i + n } else { i }) as usize).copied())
                            .collect()
                    }
                    _ => None,
                };
                self.set(out0, shape, ints);
            }
            "ConstantOfShape" | "Expand" | "Tile" => {
                let v = node.input.get(1).and_then(|s| self.ints(s));
                let shape = match op {
                    "ConstantOfShape" => self.ints(in0).map(|v| v.into_iter().map(Some).collect()),
                    "Expand" => x
                        .zip(v)
                        .map(|(x, v)| broadcast(&[&x, &v.into_iter().map(Some).collect()])),
                    _ => x.zip(v).and_then(|(x, v)| {
                        (x.len() == v.len()).then(|| {
                            x.iter()
                                .zip(v)
                                .map(|(d, r)| d.and_then(|d| d.checked_mul(r)))
                                .collect()
                        })
                    }),
                };
                self.set(out0, shape, None);
            }
            "Pad" => {
                let pads = attr_ints(node, "pads")
                    .or_else(|| node.input.get(1).and_then(|s| self.ints(s)));
                let axes = node
                    .input
                    .get(3)
                    .filter(|s| !s.is_empty())
                    .map(|s| self.ints(s));
                let shape = x.zip(pads).and_then(|(x, pads)| {
                    let r = x.len();
                    let axes: Vec<usize> = match axes {
                        Some(a) => a?.iter().map(|&a| norm_axis(a, r)).collect::<Option<_>>()?,
                        None => (0..r).collect(),
                    };
                    let na = axes.len();
                    if pads.len() != 2 * na {
                        return None;
                    }
                    let mut out = x.clone();
                    for (k, &a) in axes.iter().enumerate() {
                        out[a] =
                            x[a].and_then(|d| d.checked_add(pads[k])?.checked_add(pads[k + na]));
                    }
                    Some(out)
                });
                self.set(out0, shape, None);
            }
            "Resize" | "Upsample" => {
                let sizes = node.input.get(3).and_then(|s| self.ints(s));
                let scales_name = if op == "Upsample" {
                    node.input.get(1)
                } else {
                    node.input.get(2)
                };
                let scales = scales_name
                    .and_then(|s| self.consts.get(s.as_str()))
                    .and_then(|t| tensor_f32(t).ok())
                    .or_else(|| attr(node, "scales").map(|a| a.floats.clone()));
                let shape = x.and_then(|x| {
                    if let Some(s) = sizes.filter(|s| s.len() == x.len()) {
                        return Some(s.into_iter().map(Some).collect());
                    }
                    let sc = scales.filter(|s| s.len() == x.len())?;
                    Some(
                        x.iter()
                            .zip(sc)
                            .map(|(d, s)| d.map(|d| (d as f64 * s as f64).floor() as i64))
                            .collect(),
                    )
                });
                self.set(out0, shape, None);
            }
            "ReduceMean" | "ReduceSum" | "ReduceMax" | "ReduceMin" | "ReduceProd" | "ReduceL1"
            | "ReduceL2" | "ReduceLogSumExp" | "ReduceSumSquare" | "ArgMax" | "ArgMin" => {
                let keep = attr_i(node, "keepdims").unwrap_or(1) != 0;
                let axes = if op.starts_with("Arg") {
                    Some(vec![attr_i(node, "axis").unwrap_or(0)])
                } else {
                    self.axes(node, 1)
                };
                let shape = x.and_then(|x| {
                    let r = x.len();
                    let a: Vec<usize> = match axes {
                        Some(a) if !a.is_empty() => {
                            a.iter().map(|&a| norm_axis(a, r)).collect::<Option<_>>()?
                        }
                        _ => (0..r).collect(),
                    };
                    Some(
                        (0..r)
                            .filter_map(|i| {
                                if a.contains(&i) {
                                    keep.then_some(Some(1))
                                } else {
                                    Some(x[i])
                                }
                            })
                            .collect(),
                    )
                });
                self.set(out0, shape, None);
            }
            "Split" => {
                let axis = attr_i(node, "axis").unwrap_or(0);
                let split = attr_ints(node, "split").or_else(|| {
                    node.input
                        .get(1)
                        .filter(|s| !s.is_empty())
                        .and_then(|s| self.ints(s))
                });
                let n = node.output.len() as i64;
                for (k, o) in node.output.iter().enumerate() {
                    let shape = x.as_ref().and_then(|x| {
                        let a = norm_axis(axis, x.len())?;
                        let mut s = x.clone();
                        s[a] = match &split {
                            Some(sp) => sp.get(k).copied(),
                            None => x[a]
                                .and_then(|d| d.checked_add(n - 1))
                                .map(|d| d / n.max(1)),
                        };
                        Some(s)
                    });
                    self.set(Some(o), shape, None);
                }
            }
            _ => return self.unknown(node, &label),
        }
        Ok(())
    }

    /// A node without shape inference: error if it carries weights, else
    /// leave its outputs unknown.
    fn unknown(&mut self, node: &NodeProto, label: &str) -> Result<()> {
        let weighty = node
            .input
            .iter()
            .filter_map(|i| self.consts.get(i.as_str()))
            .any(|t| {
                t.dims.len() >= 2
                    && matches!(t.data_type, Some(1 | 10 | 11 | 16 | 2 | 3))
                    && numel(&t.dims).unwrap_or(0) > 1
            });
        if weighty {
            bail!(
                "unsupported op {} in node {label:?} carries constant weights ({SUPPORTED})",
                op(node)
            );
        }
        self.unknown_ops.insert(op(node).to_string());
        for o in &node.output {
            self.info.remove(o);
        }
        Ok(())
    }

    fn weight(&self, node: &NodeProto, i: usize, label: &str) -> Result<Option<&'a TensorProto>> {
        let Some(name) = node.input.get(i) else {
            bail!("{} node {label:?} has no input {i}", op(node));
        };
        Ok(self.consts.get(name.as_str()).copied())
    }

    fn push(&mut self, idx: usize, label: &str, mut layer: Layer, vectors: Option<i64>, why: &str) {
        layer.vectors = match vectors
            .and_then(|v| usize::try_from(v).ok())
            .filter(|&v| v > 0)
        {
            Some(v) => v,
            None => {
                self.warnings.push(format!(
                    "layer {label}: {why} could not be inferred; vectors set to 1"
                ));
                1
            }
        };
        layer.name = self.unique_name(label.to_string(), idx);
        self.layers.push(layer);
    }

    fn conv(&mut self, idx: usize, node: &NodeProto, label: &str, x: Option<Shape>) -> Result<()> {
        let w = self.weight(node, 1, label)?.ok_or_else(|| {
            anyhow!(
                "Conv node {label:?}: weight input is not a constant (initializer or Constant node)"
            )
        })?;
        let dims = &w.dims;
        ensure!(
            dims.len() == 3 || dims.len() == 4,
            "Conv node {label:?}: weight has rank {} (dims {dims:?}); only 1-D and 2-D convolutions are supported",
            dims.len()
        );
        ensure!(
            dims.iter().all(|&d| d > 0),
            "Conv node {label:?}: invalid weight dims {dims:?}"
        );
        let groups = attr_i(node, "group").unwrap_or(1);
        ensure!(groups >= 1, "Conv node {label:?}: invalid group {groups}");
        let (out_ch, cpg) = (dims[0], dims[1]);
        ensure!(
            out_ch % groups == 0,
            "Conv node {label:?}: {out_ch} output channels not divisible by group {groups}"
        );
        let (kh, kw) = if dims.len() == 4 {
            (dims[2], dims[3])
        } else {
            (1, dims[2])
        };
        let weights = tensor_f32(w).with_context(|| {
            format!(
                "Conv node {label:?}: weight {:?}",
                w.name.as_deref().unwrap_or("")
            )
        })?;
        let in_ch = cpg
            .checked_mul(groups)
            .ok_or_else(|| anyhow!("Conv node {label:?}: channel count overflow"))?;
        if let Some(Some(c)) = x.as_ref().and_then(|x| x.get(1))
            && *c != in_ch
        {
            self.warnings.push(format!(
                "layer {label}: input has {c} channels but the weight expects {in_ch}"
            ));
        }
        let kernel = &dims[2..];
        let out = x
            .as_ref()
            .and_then(|x| window_shape(node, x, kernel, Some(out_ch)));
        let vectors = out.as_ref().and_then(|o| prod(&o[2..]));
        let layer = Layer {
            name: String::new(),
            kind: Layer::conv_kind(in_ch as usize, groups as usize),
            in_ch: in_ch as usize,
            out_ch: out_ch as usize,
            kh: kh as usize,
            kw: kw as usize,
            groups: groups as usize,
            vectors: 0,
            weights,
        };
        self.push(idx, label, layer, vectors, "the output spatial size");
        let out = out.or_else(|| {
            x.map(|x| {
                x.iter()
                    .enumerate()
                    .map(|(i, &d)| {
                        if i == 1 {
                            Some(out_ch)
                        } else if i == 0 {
                            d
                        } else {
                            None
                        }
                    })
                    .collect()
            })
        });
        self.set(node.output.first(), out, None);
        Ok(())
    }

    /// Add an FC layer from a constant 2-D weight stored `[in][out]` (`transposed == false`) or `[out][in]`.
    fn fc(
        &mut self,
        idx: usize,
        label: &str,
        w: &TensorProto,
        transposed: bool,
        scale: f32,
        vectors: Option<i64>,
    ) -> Result<usize> {
        let d = &w.dims;
        ensure!(
            d.len() == 2 && d.iter().all(|&x| x > 0),
            "{label}: FC weight must be 2-D, got dims {d:?}"
        );
        let (r, c) = (d[0] as usize, d[1] as usize);
        let mut v = tensor_f32(w)
            .with_context(|| format!("{label}: weight {:?}", w.name.as_deref().unwrap_or("")))?;
        if scale != 1.0 {
            v.iter_mut().for_each(|x| *x *= scale);
        }
        let (in_ch, out_ch, weights) = if transposed {
            (c, r, v)
        } else {
            // [in][out] -> [out][in]
            let mut t = vec![0.0f32; v.len()];
            for i in 0..r {
                for o in 0..c {
                    t[o * r + i] = v[i * c + o];
                }
            }
            (r, c, t)
        };
        let layer = Layer {
            name: String::new(),
            kind: LayerKind::Fc,
            in_ch,
            out_ch,
            kh: 1,
            kw: 1,
            groups: 1,
            vectors: 0,
            weights,
        };
        self.push(idx, label, layer, vectors, "the number of input rows");
        Ok(out_ch)
    }

    fn gemm(&mut self, idx: usize, node: &NodeProto, label: &str, x: Option<Shape>) -> Result<()> {
        let Some(w) = self.weight(node, 1, label)? else {
            self.warnings.push(format!(
                "Gemm node {label}: B is not a constant; no static weights, skipped"
            ));
            self.set(node.output.first(), None, None);
            return Ok(());
        };
        let trans_a = attr_i(node, "transA").unwrap_or(0) != 0;
        let trans_b = attr_i(node, "transB").unwrap_or(0) != 0;
        let alpha = attr_f(node, "alpha").unwrap_or(1.0);
        let m = x
            .as_ref()
            .filter(|x| x.len() == 2)
            .and_then(|x| if trans_a { x[1] } else { x[0] });
        let out = self.fc(idx, label, w, trans_b, alpha, m)?;
        self.set(node.output.first(), Some(vec![m, Some(out as i64)]), None);
        Ok(())
    }

    fn matmul(
        &mut self,
        idx: usize,
        node: &NodeProto,
        label: &str,
        x: Option<Shape>,
    ) -> Result<()> {
        let Some(w) = self.weight(node, 1, label)? else {
            if let Some(a) = self.weight(node, 0, label)?.filter(|a| a.dims.len() == 2) {
                // Constant on the left: y = A X with A [out][in]; every
                // column of X (over all leading dims) is an input vector.
                let xs = node.input.get(1).and_then(|s| self.shape(s));
                let vectors = xs.as_ref().and_then(|xs| {
                    let r = xs.len();
                    (r >= 2).then(|| {
                        prod(&xs[..r - 2])
                            .zip(xs[r - 1])
                            .and_then(|(b, n)| b.checked_mul(n))
                    })?
                });
                let out = self.fc(idx, label, a, true, 1.0, vectors)?;
                let shape = xs.filter(|xs| xs.len() >= 2).map(|mut xs| {
                    let r = xs.len();
                    xs[r - 2] = Some(out as i64);
                    xs
                });
                self.set(node.output.first(), shape, None);
                return Ok(());
            }
            self.warnings.push(format!(
                "MatMul node {label}: no constant 2-D weight input; no static weights, skipped"
            ));
            self.set(node.output.first(), None, None);
            return Ok(());
        };
        ensure!(
            w.dims.len() == 2,
            "MatMul node {label:?}: constant weight of rank {} is not supported (need 2-D [in, out])",
            w.dims.len()
        );
        let vectors = x.as_ref().and_then(|x| {
            if x.len() <= 1 {
                Some(1)
            } else {
                prod(&x[..x.len() - 1])
            }
        });
        let out = self.fc(idx, label, w, false, 1.0, vectors)?;
        let shape = x.map(|mut x| {
            if let Some(l) = x.last_mut() {
                *l = Some(out as i64);
            }
            x
        });
        self.set(node.output.first(), shape, None);
        Ok(())
    }

    fn slice(&mut self, node: &NodeProto, x: Option<Shape>) {
        let inp = |i: usize| {
            node.input
                .get(i)
                .filter(|s| !s.is_empty())
                .and_then(|s| self.ints(s))
        };
        let (starts, ends, axes, steps) = if node.input.len() > 1 {
            (inp(1), inp(2), inp(3), inp(4))
        } else {
            (
                attr_ints(node, "starts"),
                attr_ints(node, "ends"),
                attr_ints(node, "axes"),
                None,
            )
        };
        let data_ints = self.ints(node.input.first().map(String::as_str).unwrap_or(""));
        let out = x.zip(starts.zip(ends)).and_then(|(x, (starts, ends))| {
            let r = x.len();
            let axes: Vec<usize> = match axes {
                Some(a) => a.iter().map(|&a| norm_axis(a, r)).collect::<Option<_>>()?,
                None => (0..starts.len()).collect(),
            };
            let steps = steps.unwrap_or(vec![1; axes.len()]);
            if starts.len() != axes.len() || ends.len() != axes.len() || steps.len() != axes.len() {
                return None;
            }
            let mut shape = x.clone();
            let mut ints = data_ints.filter(|_| r == 1);
            for (k, &a) in axes.iter().enumerate() {
                let Some(d) = x[a].filter(|&d| d >= 0) else {
                    shape[a] = None;
                    ints = None;
                    continue;
                };
                // i128: hostile starts/ends/steps cannot overflow.
                let (d, step) = (d as i128, steps[k] as i128);
                if step == 0 {
                    return None;
                }
                let fix = |v: i64, lo: i128, hi: i128| {
                    let v = v as i128;
                    (if v < 0 { v + d } else { v }).clamp(lo, hi)
                };
                let (s, e) = if step > 0 {
                    (fix(starts[k], 0, d), fix(ends[k], 0, d))
                } else {
                    (fix(starts[k], -1, d - 1), fix(ends[k], -1, d - 1))
                };
                let len = if step > 0 {
                    (e - s + step - 1).max(0) / step
                } else {
                    (s - e - step - 1).max(0) / -step
                };
                shape[a] = Some(len as i64);
                if let Some(v) = ints.take().filter(|v| v.len() as i128 == d) {
                    ints = (0..len)
                        .map(|i| {
                            usize::try_from(s + i * step)
                                .ok()
                                .and_then(|j| v.get(j).copied())
                        })
                        .collect();
                }
            }
            Some((shape, ints))
        });
        match out {
            Some((s, i)) => self.set(node.output.first(), Some(s), i),
            None => self.set(node.output.first(), None, None),
        }
    }
}

/// Output shape of a Reshape to `target` (0 copies the input dim unless
/// `allowzero`; one -1 is inferred from the element count).
fn reshape(x: Option<&Shape>, target: &[i64], allowzero: bool) -> Shape {
    let mut out: Shape = target
        .iter()
        .enumerate()
        .map(|(i, &t)| match t {
            0 if !allowzero => x.and_then(|x| x.get(i).copied().flatten()),
            -1 => None,
            t => Some(t),
        })
        .collect();
    if let Some(pos) = target.iter().position(|&t| t == -1) {
        let total = x.and_then(|x| prod(x));
        let rest = out
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != pos)
            .try_fold(1i64, |acc, (_, d)| d.and_then(|d| acc.checked_mul(d)));
        out[pos] = total.zip(rest).and_then(|(t, r)| {
            if r > 0 && t % r == 0 {
                Some(t / r)
            } else {
                None
            }
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::proto::*;
    use super::*;

    fn model_path() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("data/ppocr_mobile_v2_cls.onnx")
    }

    #[test]
    fn ppocr_cls_model() {
        let net = load_onnx_with_input(&model_path(), &[3, 48, 192]).unwrap();
        assert_eq!(net.name, "ppocr_mobile_v2_cls");
        // Cross-checked with the `onnx` Python package: 53 Conv + 1 MatMul,
        // 124,072 weights in the Conv / MatMul weight tensors.
        assert_eq!(net.layers.len(), 54);
        assert_eq!(net.total_weights(), 124_072);
        let fc: Vec<_> = net
            .layers
            .iter()
            .filter(|l| l.kind == LayerKind::Fc)
            .collect();
        assert_eq!(fc.len(), 1);
        assert_eq!((fc[0].in_ch, fc[0].out_ch, fc[0].vectors), (200, 2, 1));
        assert_eq!(net.count_kind(LayerKind::Depthwise), 11);
        assert_eq!(net.count_kind(LayerKind::Grouped), 0);
        assert!(
            net.layers
                .iter()
                .all(|l| l.weights.len() == l.num_weights())
        );
        // The stem: 3x3 stride 2 on 48x192 -> 24x96.
        let l0 = &net.layers[0];
        assert_eq!(
            (l0.in_ch, l0.out_ch, l0.kh, l0.kw, l0.vectors),
            (3, 8, 3, 3, 24 * 96)
        );
        // Depthwise 3x3 stride (2,1) -> 12x96.
        let dw = net
            .layers
            .iter()
            .find(|l| l.kind == LayerKind::Depthwise)
            .unwrap();
        assert_eq!(
            (dw.groups, dw.in_ch, dw.out_ch, dw.vectors),
            (8, 8, 8, 12 * 96)
        );
        assert_eq!(dw.matrices().len(), 8);
        // SE convs run on a 1x1 map.
        assert!(net.layers.iter().filter(|l| l.vectors == 1).count() == 2 * 9 + 1);
        assert!(net.warnings.is_empty(), "{:?}", net.warnings);
        // Output pixels per Conv, from onnx.shape_inference with a fixed
        // 1x3x48x192 input (independent cross-check), then the FC.
        let expect: [usize; 54] = [
            2304, 2304, 1152, 1, 1, 1152, 1152, 576, 576, 576, 576, 576, 576, 288, 1, 1, 288, 288,
            288, 1, 1, 288, 288, 288, 1, 1, 288, 288, 288, 1, 1, 288, 288, 288, 1, 1, 288, 288,
            192, 1, 1, 192, 192, 192, 1, 1, 192, 192, 192, 1, 1, 192, 192, 1,
        ];
        let got: Vec<usize> = net.layers.iter().map(|l| l.vectors).collect();
        assert_eq!(got, expect);
        assert_eq!(net.total_vectors(), 17_587);
        // Weight values (numbers from numpy on the same file).
        let abs_sum: f64 = net
            .layers
            .iter()
            .flat_map(|l| &l.weights)
            .map(|&w| (w as f64).abs())
            .sum();
        assert!(
            (abs_sum - 24531.255263465326).abs() < 1e-6 * abs_sum,
            "{abs_sum}"
        );
        assert_eq!(l0.weights[..3], [-0.03783069, -0.16586682, -0.06707426]);
        assert_eq!(l0.weights[((7 * 3 + 2) * 3 + 2) * 3 + 1], 0.612134);
        // MatMul weight [in=200][out=2] -> ours [out][in].
        let fc = net.layers.last().unwrap();
        assert_eq!(fc.weights[200 + 199], -0.16783907);
        assert_eq!(fc.weights[5], 0.27224135);
        assert_eq!(fc.matrices()[0].at(199, 1), -0.16783907);
        eprintln!(
            "ppocr: {} layers, {} weights, conv {} dw {} fc {}, vectors {}",
            net.layers.len(),
            net.total_weights(),
            net.count_kind(LayerKind::Conv),
            net.count_kind(LayerKind::Depthwise),
            net.count_kind(LayerKind::Fc),
            net.total_vectors()
        );
        for l in &net.layers {
            eprintln!(
                "  {:10} {:?} {}->{} k{}x{} g{} v{}",
                l.name, l.kind, l.in_ch, l.out_ch, l.kh, l.kw, l.groups, l.vectors
            );
        }
    }

    #[test]
    fn ppocr_dynamic_input_warns() {
        // Without an input shape the spatial dims are dynamic: weights and
        // kinds are still read, conv vectors fall back to 1 with warnings,
        // and the FC after global pooling is still known.
        let net = load_onnx(&model_path()).unwrap();
        assert_eq!(net.total_weights(), 124_072);
        assert!(!net.warnings.is_empty());
        assert!(
            net.warnings.iter().any(|w| w.contains("Conv@0")),
            "{:?}",
            net.warnings
        );
        assert_eq!(
            net.layers
                .iter()
                .find(|l| l.kind == LayerKind::Fc)
                .unwrap()
                .vectors,
            1
        );
    }

    #[test]
    fn malformed_files() {
        let bytes = std::fs::read(model_path()).unwrap();
        for cut in [1, 10, 1000, bytes.len() / 2, bytes.len() - 1] {
            assert!(parse_onnx(&bytes[..cut], "cut").is_err(), "cut at {cut}");
        }
        assert!(
            parse_onnx(&[], "empty")
                .unwrap_err()
                .to_string()
                .contains("empty")
        );
        let mut s = 0x1234_5678_9abc_def0u64;
        for len in [1usize, 7, 64, 1000, 100_000] {
            for _ in 0..20 {
                let v: Vec<u8> = (0..len)
                    .map(|_| {
                        s ^= s << 13;
                        s ^= s >> 7;
                        s ^= s << 17;
                        s as u8
                    })
                    .collect();
                assert!(parse_onnx(&v, "random").is_err());
            }
        }
        assert!(load_onnx(Path::new("/nonexistent/model.onnx")).is_err());
    }

    #[test]
    fn mutated_model_never_panics() {
        // Corrupt bytes of the real model: the importer may accept or reject
        // the result, but must not panic or hang.
        let bytes = std::fs::read(model_path()).unwrap();
        let mut s = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        };
        let (mut ok, mut err) = (0, 0);
        let iters = std::env::var("SME_FUZZ_ITERS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(150);
        for _ in 0..iters {
            let mut v = bytes.clone();
            for _ in 0..1 + next() % 8 {
                let i = (next() % v.len() as u64) as usize;
                v[i] = next() as u8;
            }
            if next() % 4 == 0 {
                v.truncate((next() % v.len() as u64) as usize);
            }
            match parse_onnx_with_input(&v, "m", &[3, 48, 192]) {
                Ok(_) => ok += 1,
                Err(_) => err += 1,
            }
        }
        eprintln!("mutated models: {ok} accepted, {err} rejected");
    }

    fn tensor(name: &str, dims: &[i64], data: Vec<f32>, raw: bool) -> TensorProto {
        let mut t = TensorProto {
            dims: dims.to_vec(),
            data_type: Some(1),
            name: Some(name.into()),
            ..Default::default()
        };
        if raw {
            t.raw_data = Some(data.iter().flat_map(|x| x.to_le_bytes()).collect());
        } else {
            t.float_data = data;
        }
        t
    }
    fn node(
        op: &str,
        name: &str,
        inputs: &[&str],
        outputs: &[&str],
        attrs: Vec<AttributeProto>,
    ) -> NodeProto {
        NodeProto {
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: outputs.iter().map(|s| s.to_string()).collect(),
            name: Some(name.into()),
            op_type: Some(op.into()),
            attribute: attrs,
            domain: None,
        }
    }
    fn ai(name: &str, i: i64) -> AttributeProto {
        AttributeProto {
            name: Some(name.into()),
            i: Some(i),
            r#type: Some(2),
            ..Default::default()
        }
    }
    fn ais(name: &str, v: &[i64]) -> AttributeProto {
        AttributeProto {
            name: Some(name.into()),
            ints: v.to_vec(),
            r#type: Some(7),
            ..Default::default()
        }
    }
    fn input(name: &str, dims: &[Option<i64>]) -> ValueInfoProto {
        let dim = dims
            .iter()
            .map(|d| Dimension {
                dim_value: *d,
                dim_param: if d.is_none() { Some("N".into()) } else { None },
            })
            .collect();
        ValueInfoProto {
            name: Some(name.into()),
            r#type: Some(TypeProto {
                tensor_type: Some(TypeTensor {
                    elem_type: Some(1),
                    shape: Some(TensorShapeProto { dim }),
                }),
            }),
        }
    }
    fn seq(n: usize) -> Vec<f32> {
        (0..n).map(|x| x as f32).collect()
    }

    /// x[N,2,8,8] -> Conv(4x2x3x3, stride 2, pad 1, initializer) -> 4x4x4
    /// -> Flatten -> Gemm(B [64,5], transB=0) -> MatMul(B [5,3] via Constant).
    fn tiny_model() -> ModelProto {
        let conv = node(
            "Conv",
            "",
            &["x", "w_conv"],
            &["c"],
            vec![
                ais("strides", &[2, 2]),
                ais("pads", &[1, 1, 1, 1]),
                ais("kernel_shape", &[3, 3]),
            ],
        );
        let relu = node("Relu", "r", &["c"], &["cr"], vec![]);
        let flat = node("Flatten", "f", &["cr"], &["fl"], vec![ai("axis", 1)]);
        let gemm = node(
            "Gemm",
            "fc1",
            &["fl", "w_gemm", "b_gemm"],
            &["g"],
            vec![ai("transB", 0)],
        );
        let cst = node(
            "Constant",
            "k",
            &[],
            &["w_mm"],
            vec![AttributeProto {
                name: Some("value".into()),
                t: Some(tensor("", &[5, 3], seq(15), true)),
                r#type: Some(4),
                ..Default::default()
            }],
        );
        let mm = node("MatMul", "fc2", &["g", "w_mm"], &["y"], vec![]);
        ModelProto {
            ir_version: Some(8),
            graph: Some(GraphProto {
                node: vec![conv, relu, flat, cst, gemm, mm],
                name: Some("tiny".into()),
                initializer: vec![
                    tensor("w_conv", &[4, 2, 3, 3], seq(72), false),
                    tensor("w_gemm", &[64, 5], seq(320), true),
                    tensor("b_gemm", &[5], vec![0.0; 5], false),
                ],
                input: vec![input("x", &[None, Some(2), Some(8), Some(8)])],
                output: vec![],
                value_info: vec![],
            }),
        }
    }

    #[test]
    fn tiny_model_layouts() {
        let bytes = tiny_model().encode_to_vec();
        let net = parse_onnx(&bytes, "tiny").unwrap();
        assert!(net.warnings.is_empty(), "{:?}", net.warnings);
        assert_eq!(net.layers.len(), 3);
        let c = &net.layers[0];
        assert_eq!(c.name, "Conv_0");
        assert_eq!(
            (c.kind, c.in_ch, c.out_ch, c.kh, c.kw, c.groups, c.vectors),
            (LayerKind::Conv, 2, 4, 3, 3, 1, 16)
        );
        assert_eq!(c.weights, seq(72));
        let g = &net.layers[1];
        assert_eq!(
            (g.name.as_str(), g.kind, g.in_ch, g.out_ch, g.vectors),
            ("fc1", LayerKind::Fc, 64, 5, 1)
        );
        // B [in=64][out=5] stored value i*5+o -> ours [out][in]
        assert_eq!(g.weights[3 * 64 + 10], (10 * 5 + 3) as f32);
        let m = &g.matrices()[0];
        assert_eq!((m.rows, m.cols), (64, 5));
        assert_eq!(m.at(10, 3), (10 * 5 + 3) as f32);
        let mm = &net.layers[2];
        assert_eq!(
            (mm.name.as_str(), mm.in_ch, mm.out_ch, mm.vectors),
            ("fc2", 5, 3, 1)
        );
        assert_eq!(mm.weights[2 * 5 + 4], (4 * 3 + 2) as f32);
        assert_eq!(net.total_weights(), 72 + 320 + 15);
    }

    #[test]
    fn tiny_model_variants() {
        // transB = 1: weight used as stored ([out][in]).
        let mut m = tiny_model();
        let g = m.graph.as_mut().unwrap();
        g.node[4].attribute = vec![ai("transB", 1)];
        g.initializer[1] = tensor("w_gemm", &[5, 64], seq(320), false);
        let net = parse_onnx(&m.encode_to_vec(), "t").unwrap();
        assert_eq!(net.layers[1].weights, seq(320));
        assert_eq!((net.layers[1].in_ch, net.layers[1].out_ch), (64, 5));

        // Depthwise / grouped detection.
        let mut m = tiny_model();
        let g = m.graph.as_mut().unwrap();
        g.node[0].attribute.push(ai("group", 2));
        g.initializer[0] = tensor("w_conv", &[4, 1, 3, 3], seq(36), false);
        let net = parse_onnx(&m.encode_to_vec(), "t").unwrap();
        assert_eq!(
            (
                net.layers[0].kind,
                net.layers[0].groups,
                net.layers[0].in_ch
            ),
            (LayerKind::Depthwise, 2, 2)
        );
        assert_eq!(net.layers[0].matrices().len(), 2);

        // Unknown spatial size: vectors fall back to 1 with a warning.
        let mut m = tiny_model();
        m.graph.as_mut().unwrap().input = vec![input("x", &[None, Some(2), None, None])];
        let net = parse_onnx(&m.encode_to_vec(), "t").unwrap();
        assert_eq!(net.layers[0].vectors, 1);
        assert!(net.warnings.iter().any(|w| w.contains("Conv_0")));
        // ... unless the caller gives the input shape.
        let net = parse_onnx_with_input(&m.encode_to_vec(), "t", &[2, 16, 16]).unwrap();
        assert_eq!(net.layers[0].vectors, 64);

        // Unsupported weighted op -> error naming the node.
        let mut m = tiny_model();
        m.graph.as_mut().unwrap().node[0].op_type = Some("ConvTranspose".into());
        let e = format!("{:#}", parse_onnx(&m.encode_to_vec(), "t").unwrap_err());
        assert!(
            e.contains("ConvTranspose_0") && e.contains("supported"),
            "{e}"
        );

        // Unsupported data type -> error naming node and type.
        let mut m = tiny_model();
        let t = &mut m.graph.as_mut().unwrap().initializer[0];
        t.data_type = Some(3);
        t.float_data.clear();
        t.raw_data = Some(vec![0; 72]);
        let e = format!("{:#}", parse_onnx(&m.encode_to_vec(), "t").unwrap_err());
        assert!(e.contains("Conv_0") && e.contains("INT8"), "{e}");

        // Weight data that does not match its dims -> error, no panic.
        let mut m = tiny_model();
        m.graph.as_mut().unwrap().initializer[1].raw_data = Some(vec![0; 12]);
        assert!(parse_onnx(&m.encode_to_vec(), "t").is_err());

        // Constant on the left of a MatMul: y = A X, A [out=3][in=4].
        let mut m = tiny_model();
        let g = m.graph.as_mut().unwrap();
        g.initializer
            .push(tensor("a_left", &[3, 4], seq(12), false));
        g.input.push(input("z", &[Some(1), Some(4), Some(7)]));
        g.node
            .push(node("MatMul", "left", &["a_left", "z"], &["zl"], vec![]));
        let net = parse_onnx(&m.encode_to_vec(), "t").unwrap();
        let l = net.layers.last().unwrap();
        assert_eq!((l.in_ch, l.out_ch, l.vectors), (4, 3, 7));
        assert_eq!(l.weights, seq(12));

        // A model without weight layers is rejected.
        let mut m = tiny_model();
        m.graph
            .as_mut()
            .unwrap()
            .node
            .retain(|n| n.op_type.as_deref() == Some("Relu"));
        assert!(parse_onnx(&m.encode_to_vec(), "t").is_err());
    }

    #[test]
    fn shape_helpers() {
        assert_eq!(window_out(Some(48), 3, 2, 1, 1, 1, "", false), Some(24));
        assert_eq!(
            window_out(Some(7), 3, 2, 1, 0, 0, "SAME_UPPER", false),
            Some(4)
        );
        assert_eq!(window_out(Some(7), 3, 2, 1, 0, 0, "VALID", false), Some(3));
        assert_eq!(window_out(Some(6), 3, 2, 1, 0, 0, "", true), Some(3));
        assert_eq!(window_out(Some(6), 3, 2, 1, 0, 0, "", false), Some(2));
        assert_eq!(window_out(Some(10), 3, 1, 2, 0, 0, "", false), Some(6));
        assert_eq!(
            broadcast(&[
                &vec![Some(1), Some(8), Some(4), Some(4)],
                &vec![Some(8), Some(1), Some(1)]
            ]),
            vec![Some(1), Some(8), Some(4), Some(4)]
        );
        assert_eq!(
            reshape(
                Some(&vec![Some(1), Some(200), Some(1), Some(1)]),
                &[1, -1],
                false
            ),
            vec![Some(1), Some(200)]
        );
        assert_eq!(
            reshape(Some(&vec![Some(2), Some(3)]), &[0, 3], false),
            vec![Some(2), Some(3)]
        );
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
    }
}
