//! Convolution weight layers.

use crate::nets::Layer;
use crate::nets::onnx::Importer;
use crate::nets::onnx::proto::{NodeProto, attr_i};
use crate::nets::onnx::shape::{Shape, prod, window_attrs, window_shape};
use crate::nets::onnx::tensor::{dims_str, tensor_f32};
use anyhow::{Context, Result, anyhow, bail, ensure};

impl Importer<'_> {
    /// `Conv` (dense, grouped or depthwise; 1-D or 2-D) with a constant weight:
    /// one layer, vectors = output pixels.
    pub(super) fn conv(
        &mut self,
        idx: usize,
        node: &NodeProto,
        label: &str,
        x: Option<Shape>,
    ) -> Result<()> {
        let w = self.weight(node, 1, label)?.ok_or_else(|| {
            anyhow!(
                "Conv node {label:?}: weight input is not a constant (initializer or Constant node)"
            )
        })?;
        let dims = &w.dims;
        ensure!(
            dims.len() == 3 || dims.len() == 4,
            "Conv node {label:?}: weight has rank {} (dims {}); only 1-D and 2-D convolutions are supported",
            dims.len(),
            dims_str(dims)
        );
        ensure!(
            dims.iter().all(|&d| d > 0),
            "Conv node {label:?}: invalid weight dims {}",
            dims_str(dims)
        );
        let (out_ch, cpg) = (dims[0], dims[1]);
        let groups = attr_i(node, "group").unwrap_or(1);
        ensure!(
            (1..=out_ch).contains(&groups),
            "Conv node {label:?}: attribute group is {groups}: valid 1..={out_ch} (a divisor of the {out_ch} output channels)"
        );
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
            bail!(
                "Conv node {label:?}: input has {c} channels but the weight [{out_ch}, {cpg}, ...] with group {groups} expects {in_ch} ({cpg} per group)"
            );
        }
        let kernel = &dims[2..];
        let out = match &x {
            Some(x) => window_shape(node, x, kernel, Some(out_ch)),
            None => window_attrs(node, kernel).map(|_| None),
        }
        .with_context(|| format!("Conv node {label:?}"))?;
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
}
