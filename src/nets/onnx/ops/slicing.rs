//! Slicing and joining: `Slice`, `Concat`, `Gather`, `Split` (with integer
//! folding where shape arithmetic needs it).

use crate::nets::onnx::Importer;
use crate::nets::onnx::proto::{NodeProto, attr_i, attr_ints, input0};
use crate::nets::onnx::shape::{Shape, norm_axis};

impl Importer<'_> {
    /// `Slice` (attributes or inputs); folds integer values of 1-D data.
    pub(super) fn slice(&mut self, node: &NodeProto, x: Option<Shape>) {
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

    /// `Concat` along `axis`; concatenates folded integer values.
    pub(super) fn concat(&mut self, node: &NodeProto) {
        let out0 = node.output.first();
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
                            s.iter()
                                .try_fold(0i64, |acc, s| s[i].and_then(|d| acc.checked_add(d)))
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

    /// `Gather` along `axis`; folds 1-D integer data.
    pub(super) fn gather(&mut self, node: &NodeProto, x: Option<Shape>) {
        let in0 = input0(node);
        let out0 = node.output.first();
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

    /// `Split` into the given sizes or equal parts.
    pub(super) fn split(&mut self, node: &NodeProto, x: Option<Shape>) {
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
}
