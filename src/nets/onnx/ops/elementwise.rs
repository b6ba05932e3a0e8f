//! Elementwise operators: unary ops keep their input's shape, the others
//! broadcast; integer values are folded for the few ops used in shape
//! arithmetic.

use crate::nets::onnx::Importer;
use crate::nets::onnx::proto::{NodeProto, input0, op};
use crate::nets::onnx::shape::{Shape, broadcast};

/// Elementwise / broadcasting ops: output shape is the broadcast of the inputs.
pub(super) const BROADCAST_OPS: &[&str] = &[
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
pub(super) const UNARY_OPS: &[&str] = &[
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
    /// Ops in [`UNARY_OPS`]; Identity / Dropout pass constants through.
    pub(super) fn unary(&mut self, node: &'a NodeProto) {
        let op = op(node);
        let in0 = input0(node);
        let out0 = node.output.first();
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
    }

    /// Ops in [`BROADCAST_OPS`]; Add / Sub / Mul / Div fold integer values.
    pub(super) fn broadcasting(&mut self, node: &NodeProto) {
        let op = op(node);
        let out0 = node.output.first();
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
    }
}
