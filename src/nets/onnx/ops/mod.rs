//! Operators: a short dispatch ([`Importer::node`]) to one method per
//! operator family, plus the importer state helpers they share.

mod constant;
mod conv;
mod elementwise;
mod layout;
mod matmul;
mod pool;
mod slicing;

use super::proto::{NodeProto, TensorProto, attr_ints, input0, node_label, op};
use super::shape::{Info, MAX_INTS, MAX_RANK, Shape};
use super::tensor::numel;
use super::{Importer, SUPPORTED};
use crate::nets::Layer;
use anyhow::{Result, bail};
use elementwise::{BROADCAST_OPS, UNARY_OPS};

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

impl<'a> Importer<'a> {
    /// Infer the outputs of one node (in topological order); weight layers
    /// are added to the network.
    pub(super) fn node(&mut self, idx: usize, node: &'a NodeProto) -> Result<()> {
        let op = op(node);
        let label = node_label(node, idx);
        let domain = node.domain.as_deref().unwrap_or("");
        if !(domain.is_empty() || domain == "ai.onnx") {
            return self.unknown(node, &label);
        }
        let x = self.shape(input0(node));
        match op {
            o if UNARY_OPS.contains(&o) => self.unary(node),
            o if BROADCAST_OPS.contains(&o) => self.broadcasting(node),
            "Constant" => self.constant(node),
            "Conv" => self.conv(idx, node, &label, x)?,
            "Gemm" => self.gemm(idx, node, &label, x)?,
            "MatMul" => self.matmul(idx, node, &label, x)?,
            o if UNSUPPORTED_WEIGHTED.contains(&o) => {
                bail!(
                    "unsupported op {o} in node {label:?} (it carries weights that cannot be mapped; {SUPPORTED})"
                )
            }
            "MaxPool" | "AveragePool" | "LpPool" => self.pool(node, x)?,
            "GlobalAveragePool" | "GlobalMaxPool" | "GlobalLpPool" => self.global_pool(node, x),
            "ReduceMean" | "ReduceSum" | "ReduceMax" | "ReduceMin" | "ReduceProd" | "ReduceL1"
            | "ReduceL2" | "ReduceLogSumExp" | "ReduceSumSquare" | "ArgMax" | "ArgMin" => {
                self.reduce(node, x)
            }
            "Flatten" => self.flatten(node, x),
            "Reshape" => self.reshape(node, x),
            "Transpose" => self.transpose(node, x),
            "Squeeze" => self.squeeze(node, x),
            "Unsqueeze" => self.unsqueeze(node, x),
            "ConstantOfShape" | "Expand" | "Tile" => self.expand(node, x),
            "Pad" => self.pad(node, x),
            "Resize" | "Upsample" => self.resize(node, x),
            "Shape" => self.shape_of(node, x),
            "Size" => self.size(node, x),
            "Slice" => self.slice(node, x),
            "Concat" => self.concat(node),
            "Gather" => self.gather(node, x),
            "Split" => self.split(node, x),
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

    /// What is known about tensor `name` (nothing if unseen).
    fn get(&self, name: &str) -> Info {
        self.info.get(name).cloned().unwrap_or_default()
    }
    /// Shape of tensor `name`, if known.
    fn shape(&self, name: &str) -> Option<Shape> {
        self.info.get(name).and_then(|i| i.shape.clone())
    }
    /// Folded integer values of tensor `name`, if known.
    fn ints(&self, name: &str) -> Option<Vec<i64>> {
        self.info.get(name).and_then(|i| i.ints.clone())
    }
    /// Record what is known about output `name` (capped in rank and size).
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
    /// `base`, or `<base>_<idx>` if already taken.
    fn unique_name(&mut self, base: String, idx: usize) -> String {
        let name = if self.names.contains(&base) {
            format!("{base}_{idx}")
        } else {
            base
        };
        self.names.insert(name.clone());
        name
    }

    /// The constant tensor at input `i`, if it is one (error if the input is missing).
    fn weight(&self, node: &NodeProto, i: usize, label: &str) -> Result<Option<&'a TensorProto>> {
        let Some(name) = node.input.get(i) else {
            bail!("{} node {label:?} has no input {i}", op(node));
        };
        Ok(self.consts.get(name.as_str()).copied())
    }

    /// Add a weight layer; unknown `vectors` become 1 with a warning naming `why`.
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
}
