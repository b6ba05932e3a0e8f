//! Tensor metadata for shape inference: (partially known) shapes, folded
//! integer values, and the shape rules shared by several operators
//! (broadcasting, conv / pool windows, reshape).

use super::proto::{NodeProto, TensorProto, attr_i, attr_ints, attr_s};
use super::tensor::{numel, tensor_ints};

/// Largest tensor rank tracked by shape inference.
pub(super) const MAX_RANK: usize = 64;
/// Largest integer tensor whose values are constant-folded.
pub(super) const MAX_INTS: usize = 1024;

/// One dimension, `None` if unknown.
pub(super) type Dim = Option<i64>;
/// A shape of known rank.
pub(super) type Shape = Vec<Dim>;

/// What is known about a tensor.
#[derive(Clone, Debug, Default)]
pub(super) struct Info {
    /// Shape, if the rank is known (dims may still be unknown).
    pub(super) shape: Option<Shape>,
    /// Values of a small integer tensor (constant-folded shape arithmetic).
    pub(super) ints: Option<Vec<i64>>,
}

/// What an initializer or constant tensor tells: its shape and, if small,
/// its integer values.
pub(super) fn const_info(t: &TensorProto) -> Info {
    let shape = Some(t.dims.iter().map(|&d| Some(d)).collect());
    let ints = match numel(&t.dims) {
        Some(n) if n <= MAX_INTS => tensor_ints(t).ok(),
        _ => None,
    };
    Info { shape, ints }
}

/// Product of dims if all are known.
pub(super) fn prod(dims: &[Dim]) -> Dim {
    dims.iter()
        .try_fold(1i64, |acc, d| d.and_then(|d| acc.checked_mul(d)))
}

/// Normalise a possibly negative axis for rank `r`.
pub(super) fn norm_axis(a: i64, r: usize) -> Option<usize> {
    let r = r as i64;
    let a = if a < 0 { a + r } else { a };
    (0..r).contains(&a).then_some(a as usize)
}

/// Multidirectional (numpy) broadcast.
pub(super) fn broadcast(shapes: &[&Shape]) -> Shape {
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
pub(super) fn window_out(
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
pub(super) fn window_shape(
    node: &NodeProto,
    x: &Shape,
    kernel: &[i64],
    out_ch: Dim,
) -> Option<Shape> {
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

/// Output shape of a Reshape to `target` (0 copies the input dim unless
/// `allowzero`; one -1 is inferred from the element count).
pub(super) fn reshape(x: Option<&Shape>, target: &[i64], allowzero: bool) -> Shape {
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
    use super::*;

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
    }
}
