//! Fully connected weight layers: `Gemm` and `MatMul` with a constant 2-D weight.

use crate::nets::onnx::Importer;
use crate::nets::onnx::proto::{NodeProto, TensorProto, attr_f, attr_i};
use crate::nets::onnx::shape::{Shape, prod};
use crate::nets::onnx::tensor::{dims_str, tensor_f32};
use crate::nets::{Layer, LayerKind};
use anyhow::{Context, Result, bail, ensure};

impl Importer<'_> {
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
            "{label}: FC weight must be 2-D, got dims {}",
            dims_str(d)
        );
        let (r, c) = (d[0] as usize, d[1] as usize);
        let mut v = tensor_f32(w)
            .with_context(|| format!("{label}: weight {:?}", w.name.as_deref().unwrap_or("")))?;
        if scale != 1.0 {
            ensure!(
                scale.is_finite(),
                "{label}: attribute alpha is {scale}: it must be finite"
            );
            v.iter_mut().for_each(|x| *x *= scale);
            if let Some((i, x)) = v.iter().enumerate().find(|(_, x)| !x.is_finite()) {
                bail!(
                    "{label}: weight {x} at index {i} after scaling by alpha {scale}: weights must be finite"
                );
            }
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

    /// `Gemm` with a constant B: one FC layer, vectors = rows of A.
    pub(super) fn gemm(
        &mut self,
        idx: usize,
        node: &NodeProto,
        label: &str,
        x: Option<Shape>,
    ) -> Result<()> {
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

    /// `MatMul` with a constant 2-D weight on either side.
    pub(super) fn matmul(
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
}
