//! The integer network of a version-2 weights file, executed as the
//! hardware runs it: the host does im2col, requantization and pooling, and
//! every conv and FC layer is one crossbar vector-matrix product `acc = x W`
//! per input vector (exact integers; the tile computes the same with a
//! lossless ADC).
//!
//! Activations are unsigned 8-bit ([`ACT_BITS`]); the input image is its
//! raw pixels (`0..=255`). Per layer (see [`crate::weights`]):
//!
//! 1. vectors: for a conv layer the im2col rows of its NHWC input (one per
//!    output pixel, columns `(ky, kx, ci)`); for an FC layer the whole
//!    previous output, flattened NHWC;
//! 2. `acc[v][c] = sum_r x_v[r] W[r][c]` (the VMM: [`forward_with`] lets
//!    the caller compute it, e.g. on the RTL);
//! 3. requantization `y = (acc mult[c] + bias[c] + 2^(S-1)) >> S`, ReLU
//!    and clamp to `0..=255` (all but the last layer);
//! 4. for a conv layer with `pool > 1`, max pooling (window = stride =
//!    `pool`) of the 8-bit outputs (it commutes with the monotone
//!    requantization).
//!
//! The class is the arg-max of the last layer's integer outputs (the first
//! on ties).

use crate::weights::{ACT_BITS, IntLayer, WeightsFile};
use anyhow::{Result, bail};

/// Largest activation value.
pub(crate) const ACT_MAX: i64 = (1 << ACT_BITS) - 1;

/// Checks that `f` is a whole integer network: every layer has `requant`,
/// only the last has `relu: false`, each layer's input size equals the
/// previous layer's output size. Returns the input size (pixels).
pub(crate) fn check_network(f: &WeightsFile) -> Result<usize> {
    f.validate()?;
    let n = f.layers.len();
    let mut prev_out: Option<usize> = None;
    for (i, l) in f.layers.iter().enumerate() {
        let Some(r) = &l.requant else {
            bail!(
                "layer `{}` has no `requant`: not an integer network (written by `sme compress --model lenet`, version 2)",
                l.name
            );
        };
        if r.relu != (i + 1 < n) {
            bail!(
                "layer `{}`: relu must be {} ({} layer)",
                l.name,
                i + 1 < n,
                if i + 1 < n { "a hidden" } else { "the last" }
            );
        }
        let input = match &l.conv {
            Some(c) => c.in_h * c.in_w * c.in_c,
            None => l.rows,
        };
        if let Some(p) = prev_out
            && p != input
        {
            bail!(
                "layer `{}` takes {input} inputs, but the previous layer gives {p}",
                l.name
            );
        }
        prev_out = Some(output_len(l));
    }
    Ok(match &f.layers[0].conv {
        Some(c) => c.in_h * c.in_w * c.in_c,
        None => f.layers[0].rows,
    })
}

/// Output values of a layer (after pooling).
pub(crate) fn output_len(l: &IntLayer) -> usize {
    match &l.conv {
        Some(c) => {
            let (h, w) = c.pooled_hw();
            h * w * l.cols
        }
        None => l.cols,
    }
}

/// The crossbar input vectors of layer `l` for its input `x` (step 1).
pub(crate) fn layer_vectors(l: &IntLayer, x: &[u8]) -> Vec<Vec<u8>> {
    match &l.conv {
        None => vec![x.to_vec()],
        Some(c) => {
            let (oh, ow) = c.out_hw();
            let k = c.kernel;
            let mut v = Vec::with_capacity(oh * ow);
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut row = Vec::with_capacity(l.rows);
                    for ky in 0..k {
                        let s = ((oy + ky) * c.in_w + ox) * c.in_c;
                        row.extend_from_slice(&x[s..s + k * c.in_c]);
                    }
                    v.push(row);
                }
            }
            v
        }
    }
}

/// The exact integer product `x W` of one vector (step 2).
pub(crate) fn vmm(l: &IntLayer, x: &[u8]) -> Vec<i64> {
    let mut acc = vec![0i64; l.cols];
    for (r, &xv) in x.iter().enumerate().take(l.rows) {
        if xv == 0 {
            continue;
        }
        let row = &l.weights[r * l.cols..(r + 1) * l.cols];
        for (a, &w) in acc.iter_mut().zip(row) {
            *a += xv as i64 * w as i64;
        }
    }
    acc
}

/// Steps 3 and 4: the layer's output from its accumulators (one per
/// vector). Hidden layers give `0..=255`; the last gives the logits.
pub(crate) fn finish_layer(l: &IntLayer, acc: &[Vec<i64>]) -> Result<Vec<i64>> {
    let Some(r) = &l.requant else {
        bail!("layer `{}` has no `requant`", l.name);
    };
    let mut y = Vec::with_capacity(acc.len() * l.cols);
    for a in acc {
        if a.len() != l.cols {
            bail!(
                "layer `{}`: {} accumulators for {} columns",
                l.name,
                a.len(),
                l.cols
            );
        }
        for (c, &v) in a.iter().enumerate() {
            let t = (v as i128 * r.mult[c] as i128 + r.bias[c] as i128 + (1i128 << (r.shift - 1)))
                >> r.shift;
            let t = t.clamp(i64::MIN as i128, i64::MAX as i128) as i64;
            y.push(if r.relu { t.clamp(0, ACT_MAX) } else { t });
        }
    }
    match &l.conv {
        Some(c) if c.pool > 1 => {
            let (oh, ow) = c.out_hw();
            let (ph, pw) = c.pooled_hw();
            let mut out = Vec::with_capacity(ph * pw * l.cols);
            for py in 0..ph {
                for px in 0..pw {
                    for ch in 0..l.cols {
                        let mut m = i64::MIN;
                        for dy in 0..c.pool {
                            for dx in 0..c.pool {
                                let (yy, xx) = (py * c.pool + dy, px * c.pool + dx);
                                m = m.max(y[(yy * ow + xx) * l.cols + ch]);
                            }
                        }
                        out.push(m);
                    }
                }
            }
            debug_assert!(oh >= ph * c.pool);
            Ok(out)
        }
        _ => Ok(y),
    }
}

/// Index of the largest value; the first one on ties.
pub(crate) fn argmax(v: &[i64]) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    best
}

/// Runs the network on one image (`input_len` pixels), computing every
/// VMM with `vmm(layer index, layer, vectors) -> accumulators` (one per
/// vector); returns the logits. Check the file with [`check_network`]
/// first.
pub(crate) fn forward_with(
    f: &WeightsFile,
    image: &[u8],
    mut vmm_fn: impl FnMut(usize, &IntLayer, &[Vec<u8>]) -> Result<Vec<Vec<i64>>>,
) -> Result<Vec<i64>> {
    let mut x: Vec<u8> = image.to_vec();
    let mut out = Vec::new();
    for (i, l) in f.layers.iter().enumerate() {
        let vecs = layer_vectors(l, &x);
        let acc = vmm_fn(i, l, &vecs)?;
        if acc.len() != vecs.len() {
            bail!(
                "layer `{}`: {} results for {} vectors",
                l.name,
                acc.len(),
                vecs.len()
            );
        }
        out = finish_layer(l, &acc)?;
        if i + 1 < f.layers.len() {
            x = out.iter().map(|&v| v.clamp(0, ACT_MAX) as u8).collect();
        }
    }
    Ok(out)
}

/// The integer model: [`forward_with`] with exact [`vmm`]s.
pub(crate) fn forward(f: &WeightsFile, image: &[u8]) -> Result<Vec<i64>> {
    forward_with(f, image, |_, l, vecs| {
        Ok(vecs.iter().map(|v| vmm(l, v)).collect())
    })
}

/// The integer model's class of one image.
#[cfg_attr(not(feature = "train"), allow(dead_code))] // used by the `train` feature
pub(crate) fn classify(f: &WeightsFile, image: &[u8]) -> Result<usize> {
    Ok(argmax(&forward(f, image)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::weights::{ConvInfo, FORMAT, Requant, VERSION_NETWORK};

    /// conv 2x2 over a 3x3x1 input (2 channels) with pool 2, then FC 2 -> 2.
    fn net() -> WeightsFile {
        WeightsFile {
            format: FORMAT.into(),
            version: VERSION_NETWORK,
            name: "t".into(),
            weight_bits: 8,
            pattern: "none".into(),
            k: 0,
            window: None,
            layers: vec![
                IntLayer {
                    name: "conv".into(),
                    rows: 4,
                    cols: 2,
                    scales: vec![1.0],
                    weights: vec![1, -1, 0, 1, 0, 1, 1, 0],
                    bias: vec![],
                    conv: Some(ConvInfo {
                        in_h: 3,
                        in_w: 3,
                        in_c: 1,
                        kernel: 2,
                        stride: 1,
                        pool: 2,
                    }),
                    requant: Some(Requant {
                        mult: vec![2, 1],
                        bias: vec![0, 4],
                        shift: 1,
                        relu: true,
                    }),
                },
                IntLayer {
                    name: "fc".into(),
                    rows: 2,
                    cols: 2,
                    scales: vec![1.0],
                    weights: vec![1, 0, 0, -1],
                    bias: vec![],
                    conv: None,
                    requant: Some(Requant {
                        mult: vec![1, 1],
                        bias: vec![0, 0],
                        shift: 1,
                        relu: false,
                    }),
                },
            ],
        }
    }

    #[test]
    fn forward_by_hand() {
        let f = net();
        assert_eq!(check_network(&f).unwrap(), 9);
        // Image 3x3: 1..9.
        let img: Vec<u8> = (1..=9).collect();
        let l = &f.layers[0];
        let v = layer_vectors(l, &img);
        assert_eq!(
            v,
            vec![
                vec![1, 2, 4, 5],
                vec![2, 3, 5, 6],
                vec![4, 5, 7, 8],
                vec![5, 6, 8, 9]
            ]
        );
        // ch0 = x0 + x3 (w col 0: 1,0,0,1), ch1 = -x0 + x1 + x2.
        assert_eq!(vmm(l, &v[0]), vec![6, 5]);
        // ch0: (acc*2 + 1) >> 1 = acc; ch1: (acc + 4 + 1) >> 1.
        let acc: Vec<Vec<i64>> = v.iter().map(|x| vmm(l, x)).collect();
        assert_eq!(acc, vec![vec![6, 5], vec![8, 6], vec![12, 8], vec![14, 9]]);
        let y = finish_layer(l, &acc).unwrap();
        assert_eq!(y, vec![14, 7]); // max over the 2x2 window
        // fc: [14, -6] -> ((14 + 1) >> 1, (-6 + 1) >> 1) = [7, -3].
        assert_eq!(forward(&f, &img).unwrap(), vec![7, -3]);
        assert_eq!(classify(&f, &img).unwrap(), 0);
        // ReLU clamps to 0..=255.
        let mut g = f.clone();
        g.layers[0].requant.as_mut().unwrap().mult = vec![100, 1];
        assert_eq!(forward(&g, &img).unwrap()[0], (255 + 1) >> 1);
    }

    #[test]
    fn bad_networks_are_named() {
        let mut f = net();
        f.layers[1].rows = 3;
        f.layers[1].weights.extend([0, 0]);
        let e = format!("{:#}", check_network(&f).unwrap_err());
        assert!(
            e.contains("layer `fc` takes 3 inputs, but the previous layer gives 2"),
            "{e}"
        );
        let mut f = net();
        f.layers[1].requant = None;
        let e = format!("{:#}", check_network(&f).unwrap_err());
        assert!(e.contains("has no `requant`"), "{e}");
        let mut f = net();
        f.layers[1].requant.as_mut().unwrap().relu = true;
        assert!(format!("{:#}", check_network(&f).unwrap_err()).contains("relu must be false"));
        let mut f = net();
        f.version = 1;
        let e = format!("{:#}", check_network(&f).unwrap_err());
        assert!(e.contains("need version 2"), "{e}");
        let mut f = net();
        f.layers[0].rows = 5;
        f.layers[0].weights.extend([0, 0]);
        let e = format!("{:#}", check_network(&f).unwrap_err());
        assert!(
            e.contains("5 rows, but a 2x2 kernel over 1 channels needs 4"),
            "{e}"
        );
        let mut f = net();
        f.layers[0].requant.as_mut().unwrap().mult.pop();
        let e = format!("{:#}", check_network(&f).unwrap_err());
        assert!(e.contains("1 multipliers and 2 biases, need 2"), "{e}");
        let mut f = net();
        f.layers[0].conv.as_mut().unwrap().in_h = 1 << 24;
        f.layers[0].conv.as_mut().unwrap().in_w = 1 << 24;
        let e = format!("{:#}", check_network(&f).unwrap_err());
        assert!(e.contains("is larger than"), "{e}");
        let mut f = net();
        f.layers[0].requant.as_mut().unwrap().mult[0] = 0;
        let e = format!("{:#}", check_network(&f).unwrap_err());
        assert!(e.contains("requant multiplier 0"), "{e}");
    }
}
