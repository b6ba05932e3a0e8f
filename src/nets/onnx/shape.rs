//! Tensor metadata for shape inference: (partially known) shapes, folded
//! integer values, and the shape rules shared by several operators
//! (broadcasting, conv / pool windows, reshape).

use super::proto::{NodeProto, TensorProto, attr_i, attr_ints, attr_s};
use super::tensor::{numel, tensor_ints};
use anyhow::{Result, bail, ensure};

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

/// The window attributes of a conv / pool node, validated.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Window {
    strides: Vec<i64>,
    dilations: Vec<i64>,
    pads: Vec<i64>,
    auto_pad: String,
    ceil: bool,
}

/// A list attribute of `n` values, each at least `min` (default `def`).
fn ints_attr(node: &NodeProto, name: &str, n: usize, min: i64, def: i64) -> Result<Vec<i64>> {
    match attr_ints(node, name) {
        None => Ok(vec![def; n]),
        Some(v) => {
            ensure!(
                v.len() == n,
                "attribute {name} has {} values {}: need {n} for a {}-D window",
                v.len(),
                show_ints(&v),
                if name == "pads" { n / 2 } else { n }
            );
            if let Some((i, x)) = v.iter().enumerate().find(|(_, x)| **x < min) {
                bail!("attribute {name}[{i}] is {x}: valid {min}..={MAX_WINDOW_ATTR}");
            }
            if let Some((i, x)) = v.iter().enumerate().find(|(_, x)| **x > MAX_WINDOW_ATTR) {
                bail!("attribute {name}[{i}] is {x}: valid {min}..={MAX_WINDOW_ATTR}");
            }
            Ok(v)
        }
    }
}

/// At most 8 values of an integer list, for messages.
pub(super) fn show_ints(v: &[i64]) -> String {
    if v.len() <= 8 {
        format!("{v:?}")
    } else {
        format!("{:?}... ({} values)", &v[..8], v.len())
    }
}

/// Largest stride, dilation, pad or kernel size accepted.
pub(super) const MAX_WINDOW_ATTR: i64 = 1 << 20;

/// Validates the window attributes of a conv / pool node with `kernel`
/// (`kernel_shape` must agree with it when given): strides and dilations at
/// least 1, pads at least 0, one value per spatial dim (pads two), a known
/// `auto_pad`, `ceil_mode` 0 or 1.
pub(super) fn window_attrs(node: &NodeProto, kernel: &[i64]) -> Result<Window> {
    let ns = kernel.len();
    if let Some(ks) = attr_ints(node, "kernel_shape") {
        ensure!(
            ks == kernel,
            "attribute kernel_shape {} disagrees with the weight's kernel {}",
            show_ints(&ks),
            show_ints(kernel)
        );
    }
    if let Some((i, k)) = kernel
        .iter()
        .enumerate()
        .find(|(_, k)| !(1..=MAX_WINDOW_ATTR).contains(*k))
    {
        bail!("kernel size {k} in spatial dim {i}: valid 1..={MAX_WINDOW_ATTR}");
    }
    let strides = ints_attr(node, "strides", ns, 1, 1)?;
    let dilations = ints_attr(node, "dilations", ns, 1, 1)?;
    let pads = ints_attr(node, "pads", 2 * ns, 0, 0)?;
    let auto_pad = attr_s(node, "auto_pad").unwrap_or_default();
    ensure!(
        matches!(
            auto_pad.as_str(),
            "" | "NOTSET" | "SAME_UPPER" | "SAME_LOWER" | "VALID"
        ),
        "attribute auto_pad `{}`: valid NOTSET, SAME_UPPER, SAME_LOWER, VALID",
        crate::input::excerpt(&auto_pad)
    );
    let ceil = match attr_i(node, "ceil_mode").unwrap_or(0) {
        0 => false,
        1 => true,
        c => bail!("attribute ceil_mode is {c}: valid 0 or 1"),
    };
    Ok(Window {
        strides,
        dilations,
        pads,
        auto_pad,
        ceil,
    })
}

/// Output shape of a conv / pool node on an `[N, C, spatial...]` input
/// (`None` if the input's rank does not fit); an error if the attributes
/// are invalid or a known input is too small for the window.
pub(super) fn window_shape(
    node: &NodeProto,
    x: &Shape,
    kernel: &[i64],
    out_ch: Dim,
) -> Result<Option<Shape>> {
    let w = window_attrs(node, kernel)?;
    let ns = kernel.len();
    if x.len() != ns + 2 {
        return Ok(None);
    }
    let mut out = vec![x[0], out_ch];
    for i in 0..ns {
        let o = window_out(
            x[i + 2],
            kernel[i],
            w.strides[i],
            w.dilations[i],
            w.pads[i],
            w.pads[i + ns],
            &w.auto_pad,
            w.ceil,
        );
        if let (Some(d), None) = (x[i + 2], o) {
            bail!(
                "input size {d} in spatial dim {i} is too small for kernel {} with dilation {} and pads {}+{}: the output would be empty",
                kernel[i],
                w.dilations[i],
                w.pads[i],
                w.pads[i + ns]
            );
        }
        out.push(o);
    }
    Ok(Some(out))
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
