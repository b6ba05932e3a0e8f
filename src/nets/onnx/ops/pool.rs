//! Pooling and reductions: windowed pools, global pools, `Reduce*` / `Arg*`.

use crate::nets::onnx::Importer;
use crate::nets::onnx::proto::{NodeProto, attr_i, attr_ints, op};
use crate::nets::onnx::shape::{MAX_RANK, Shape, norm_axis, window_attrs, window_shape};
use anyhow::{Result, bail, ensure};

impl Importer<'_> {
    /// `MaxPool`, `AveragePool`, `LpPool`: a conv-like window.
    pub(super) fn pool(&mut self, node: &NodeProto, x: Option<Shape>) -> Result<()> {
        let out0 = node.output.first();
        let Some(k) = attr_ints(node, "kernel_shape") else {
            bail!("{} has no kernel_shape attribute (required)", op(node));
        };
        ensure!(
            !k.is_empty() && k.len() <= MAX_RANK,
            "attribute kernel_shape has {} values: valid 1..={MAX_RANK}",
            k.len()
        );
        let shape = match x {
            Some(x) => {
                let c = x.get(1).copied().flatten();
                window_shape(node, &x, &k, c)?
            }
            // Validate the attributes even when the input is unknown.
            None => {
                window_attrs(node, &k)?;
                None
            }
        };
        self.set(out0, shape, None);
        Ok(())
    }

    /// `Global*Pool`: spatial dims become 1.
    pub(super) fn global_pool(&mut self, node: &NodeProto, x: Option<Shape>) {
        let out0 = node.output.first();
        let shape = x.map(|x| {
            x.iter()
                .enumerate()
                .map(|(i, &d)| if i < 2 { d } else { Some(1) })
                .collect()
        });
        self.set(out0, shape, None);
    }

    /// `Reduce*` and `ArgMax` / `ArgMin`: reduced axes dropped or kept as 1.
    pub(super) fn reduce(&mut self, node: &NodeProto, x: Option<Shape>) {
        let op = op(node);
        let out0 = node.output.first();
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
}
