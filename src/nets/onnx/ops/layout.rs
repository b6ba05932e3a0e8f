//! Layout operators: `Flatten`, `Reshape`, `Transpose`, `Squeeze`,
//! `Unsqueeze`, `ConstantOfShape` / `Expand` / `Tile`, `Pad`, `Resize`.

use crate::nets::onnx::Importer;
use crate::nets::onnx::proto::{NodeProto, attr, attr_i, attr_ints, input0, op};
use crate::nets::onnx::shape::{Shape, broadcast, norm_axis, prod, reshape};
use crate::nets::onnx::tensor::tensor_f32;

impl Importer<'_> {
    /// `Flatten`: 2-D, split at `axis`.
    pub(super) fn flatten(&mut self, node: &NodeProto, x: Option<Shape>) {
        let out0 = node.output.first();
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

    /// `Reshape` to a constant-folded target shape.
    pub(super) fn reshape(&mut self, node: &NodeProto, x: Option<Shape>) {
        let in0 = input0(node);
        let out0 = node.output.first();
        let target = node.input.get(1).and_then(|s| self.ints(s));
        let allowzero = attr_i(node, "allowzero").unwrap_or(0) != 0;
        let shape = target.map(|t| reshape(x.as_ref(), &t, allowzero));
        let ints = self.ints(in0);
        self.set(out0, shape, ints);
    }

    /// `Transpose` by `perm` (default: reverse).
    pub(super) fn transpose(&mut self, node: &NodeProto, x: Option<Shape>) {
        let out0 = node.output.first();
        let shape = x.map(|x| {
            let perm =
                attr_ints(node, "perm").unwrap_or_else(|| (0..x.len() as i64).rev().collect());
            perm.iter()
                .map(|&p| norm_axis(p, x.len()).and_then(|p| x[p]))
                .collect()
        });
        self.set(out0, shape, None);
    }

    /// `Squeeze` the given axes (default: all known 1s).
    pub(super) fn squeeze(&mut self, node: &NodeProto, x: Option<Shape>) {
        let in0 = input0(node);
        let out0 = node.output.first();
        let axes = self.axes(node, 1);
        let shape = x.and_then(|x| {
            let keep: Option<Vec<bool>> = match axes {
                Some(a) => {
                    let a: Option<Vec<usize>> = a.iter().map(|&a| norm_axis(a, x.len())).collect();
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

    /// `Unsqueeze`: insert 1s at the given axes.
    pub(super) fn unsqueeze(&mut self, node: &NodeProto, x: Option<Shape>) {
        let in0 = input0(node);
        let out0 = node.output.first();
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

    /// `ConstantOfShape`, `Expand`, `Tile`: shape from a folded second input.
    pub(super) fn expand(&mut self, node: &NodeProto, x: Option<Shape>) {
        let op = op(node);
        let in0 = input0(node);
        let out0 = node.output.first();
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

    /// `Pad` by attribute or folded input pads.
    pub(super) fn pad(&mut self, node: &NodeProto, x: Option<Shape>) {
        let out0 = node.output.first();
        let pads = attr_ints(node, "pads").or_else(|| node.input.get(1).and_then(|s| self.ints(s)));
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
                out[a] = x[a].and_then(|d| d.checked_add(pads[k])?.checked_add(pads[k + na]));
            }
            Some(out)
        });
        self.set(out0, shape, None);
    }

    /// `Resize` / `Upsample` by folded sizes or constant scales.
    pub(super) fn resize(&mut self, node: &NodeProto, x: Option<Shape>) {
        let op = op(node);
        let out0 = node.output.first();
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
}
