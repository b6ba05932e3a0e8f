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
//!
//! Layout: `proto` (the protobuf schema), `tensor` (tensor values),
//! `shape` (shape metadata and rules) and `ops` (one method per operator
//! family behind a short dispatch).

mod ops;
mod proto;
mod shape;
mod tensor;
#[cfg(test)]
mod tests;

use super::{Layer, Network};
use anyhow::{Context, Result, anyhow, bail, ensure};
use prost::Message;
use proto::{ModelProto, TensorProto, node_label};
use shape::{Info, Shape, const_info};
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// The weight layers the importer maps, for error messages.
const SUPPORTED: &str = "supported weight layers: Conv (dense, grouped, depthwise; 1-D or 2-D), Gemm, MatMul with a constant 2-D weight";

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
    let bytes = crate::input::read_bounded(path, crate::input::InputKind::Onnx)?;
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

/// Importer state while walking the graph.
struct Importer<'a> {
    /// What is known about each tensor so far.
    info: HashMap<String, Info>,
    /// Constant tensors (initializers, `Constant` outputs, identities of them).
    consts: HashMap<String, &'a TensorProto>,
    /// Warnings for [`Network::warnings`].
    warnings: Vec<String>,
    /// Weight layers found so far.
    layers: Vec<Layer>,
    /// Layer names in use.
    names: HashSet<String>,
    /// Op types without shape inference that were met.
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
        if let Some(s) = &shape {
            ensure!(
                s.len() <= shape::MAX_RANK,
                "{name}: graph input {:?} has rank {}: at most {}",
                crate::input::excerpt(&n),
                s.len(),
                shape::MAX_RANK
            );
            let known: Vec<u64> = s.iter().flatten().map(|&d| d as u64).collect();
            crate::nets::check_input_shape(
                &known,
                &format!(
                    "{name}: shape of graph input {:?}",
                    crate::input::excerpt(&n)
                ),
            )?;
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
    let net = Network {
        name: name.to_string(),
        layers: im.layers,
        warnings: im.warnings,
    };
    net.check_limits()?;
    Ok(net)
}
