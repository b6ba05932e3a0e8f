//! Constants and shape queries: `Constant`, `Shape`, `Size`.

use crate::nets::onnx::Importer;
use crate::nets::onnx::proto::{NodeProto, attr, attr_f, attr_i, attr_ints};
use crate::nets::onnx::shape::{Info, Shape, const_info, prod};

impl<'a> Importer<'a> {
    /// `Constant`: a tensor (kept as a possible weight) or scalar / list values.
    pub(super) fn constant(&mut self, node: &'a NodeProto) {
        let out0 = node.output.first();
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

    /// `Shape`: the (sliced) input shape as folded integer values.
    pub(super) fn shape_of(&mut self, node: &NodeProto, x: Option<Shape>) {
        let out0 = node.output.first();
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

    /// `Size`: the input's element count.
    pub(super) fn size(&mut self, node: &NodeProto, x: Option<Shape>) {
        let out0 = node.output.first();
        let ints = x.and_then(|x| prod(&x)).map(|n| vec![n]);
        self.set(out0, Some(vec![]), ints);
    }
}
