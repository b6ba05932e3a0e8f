//! Symmetric weight quantization (DESIGN section 4 step 1).
//!
//! Weights become sign-magnitude integers in `[-(2^M - 1), 2^M - 1]` with a
//! real scale per layer or per output column: `real ~= int * scale`.
//! Matrices are row-major `rows x cols` (rows = inputs, cols = outputs),
//! the same layout as [`WeightMatrix`].

use crate::program::WeightMatrix;
use serde::{Deserialize, Serialize};

/// Largest magnitude width [`quantize`] accepts (magnitudes fit an `i32`).
pub(crate) const MAX_QUANT_MAG_BITS: u32 = 30;

/// Which weights share one scale.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Granularity {
    /// One scale for the whole matrix.
    PerLayer,
    /// One scale per output channel (matrix column).
    PerChannel,
}

/// A quantized weight matrix with its scales.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Quantized {
    /// Integer weights, magnitudes at most `2^M - 1`.
    pub w: WeightMatrix,
    /// One scale (per layer) or `cols` scales (per channel); all positive.
    pub scales: Vec<f32>,
}

/// The scale of column `c` given 1 (per layer) or per-column scales.
pub(crate) fn scale_of(scales: &[f32], c: usize) -> f32 {
    if scales.len() == 1 {
        scales[0]
    } else {
        scales[c]
    }
}

/// Largest magnitude `2^M - 1` for `mag_bits` M.
pub(crate) fn max_magnitude(mag_bits: u32) -> u32 {
    assert!(mag_bits <= 31, "mag_bits {mag_bits} > 31");
    ((1u64 << mag_bits) - 1) as u32
}

/// Quantizes a row-major `rows x cols` matrix symmetrically to `mag_bits`
/// magnitude bits.
///
/// `scale = max|w| / (2^M - 1)` over the layer or over each column; an
/// all-zero layer or column gets scale 1.0 and all-zero integers. Values are
/// rounded half away from zero and clamped to `[-(2^M - 1), 2^M - 1]`.
/// Inputs must be finite. Panics if `w.len() != rows * cols` or `mag_bits`
/// is not in `1..=30`.
pub(crate) fn quantize(
    w: &[f32],
    rows: usize,
    cols: usize,
    mag_bits: u32,
    gran: Granularity,
) -> Quantized {
    assert_eq!(
        w.len(),
        rows * cols,
        "quantize: {} values for {rows} x {cols}",
        w.len()
    );
    assert!(
        (1..=MAX_QUANT_MAG_BITS).contains(&mag_bits),
        "quantize: mag_bits {mag_bits} not in 1..={MAX_QUANT_MAG_BITS}"
    );
    let qmax = max_magnitude(mag_bits) as f64;
    let scale_for = |amax: f32| -> f32 {
        let s = (amax as f64 / qmax) as f32;
        if s > 0.0 && s.is_finite() { s } else { 1.0 }
    };
    let scales: Vec<f32> = match gran {
        Granularity::PerLayer => {
            let amax = w.iter().fold(0.0f32, |a, &x| a.max(x.abs()));
            vec![scale_for(amax)]
        }
        Granularity::PerChannel => {
            use rayon::prelude::*;
            // Column maxima over row chunks in parallel (max is exact in
            // any order).
            let chunk_rows = (1 << 16) / cols.max(1) + 1;
            let amax = w
                .par_chunks(chunk_rows * cols.max(1))
                .map(|part| {
                    let mut amax = vec![0.0f32; cols];
                    for row in part.chunks_exact(cols.max(1)) {
                        for (a, &x) in amax.iter_mut().zip(row) {
                            *a = a.max(x.abs());
                        }
                    }
                    amax
                })
                .reduce(
                    || vec![0.0f32; cols],
                    |a, b| a.iter().zip(&b).map(|(x, y)| x.max(*y)).collect(),
                );
            amax.into_iter().map(scale_for).collect()
        }
    };
    use rayon::prelude::*;
    let data = w
        .par_iter()
        .enumerate()
        .map(|(i, &x)| {
            let s = scale_of(&scales, i % cols) as f64;
            // f64::round rounds half away from zero.
            (x as f64 / s).round().clamp(-qmax, qmax) as i32
        })
        .collect();
    Quantized {
        w: WeightMatrix { rows, cols, data },
        scales,
    }
}

/// Real values `int * scale` of a quantized matrix, row-major.
#[cfg_attr(not(feature = "train"), allow(dead_code))] // used by the `train` feature
pub(crate) fn dequantize(q: &Quantized) -> Vec<f32> {
    let cols = q.w.cols;
    q.w.data
        .iter()
        .enumerate()
        .map(|(i, &v)| v as f32 * scale_of(&q.scales, i % cols))
        .collect()
}

/// Signal-to-quantization-noise ratio in dB:
/// `10 log10(sum ref^2 / sum (ref - approx)^2)`; infinite when the error is
/// zero. Panics if the lengths differ.
#[cfg(test)]
pub(crate) fn sqnr_db(reference: &[f32], approx: &[f32]) -> f64 {
    assert_eq!(reference.len(), approx.len(), "sqnr_db: length mismatch");
    let mut sig = 0.0f64;
    let mut err = 0.0f64;
    for (&r, &a) in reference.iter().zip(approx) {
        let (r, a) = (r as f64, a as f64);
        sig += r * r;
        err += (r - a) * (r - a);
    }
    if err == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (sig / err).log10()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn per_layer_basic() {
        let w = [3.0f32, -1.5, 0.75, 0.0, -3.0, 2.2];
        let q = quantize(&w, 2, 3, 2, Granularity::PerLayer); // qmax 3
        assert_eq!(q.scales, vec![1.0]);
        // -1.5 -> -2 (half away from zero), 0.75 -> 1, 2.2 -> 2
        assert_eq!(q.w.data, vec![3, -2, 1, 0, -3, 2]);
        let q = quantize(&[1.0f32, -0.25], 1, 2, 2, Granularity::PerLayer);
        assert!((q.scales[0] - 1.0 / 3.0).abs() < 1e-7);
        assert_eq!(q.w.data, vec![3, -1]); // -0.75 -> -1
        assert_eq!((q.w.rows, q.w.cols), (1, 2));
    }

    #[test]
    fn round_half_away_from_zero() {
        // scale 1: max 7 with M = 3.
        let w = [7.0f32, 2.5, -2.5, 0.5, -0.5, 1.5];
        let q = quantize(&w, 1, 6, 3, Granularity::PerLayer);
        assert_eq!(q.scales, vec![1.0]);
        assert_eq!(q.w.data, vec![7, 3, -3, 1, -1, 2]);
    }

    #[test]
    fn per_channel_zero_column() {
        let w = [2.0f32, 0.0, -4.0, -1.0, 0.0, 1.0];
        let q = quantize(&w, 2, 3, 7, Granularity::PerChannel);
        assert_eq!(q.scales.len(), 3);
        assert_eq!(q.scales[1], 1.0);
        assert_eq!(q.w.at(0, 1), 0);
        assert_eq!(q.w.at(1, 1), 0);
        assert_eq!(q.w.at(0, 0), 127);
        assert_eq!(q.w.at(1, 0), -64); // -63.5 -> -64
        assert_eq!(q.w.at(0, 2), -127);
        assert_eq!(q.w.at(1, 2), 32); // 31.75 -> 32
    }

    #[test]
    fn all_zero_layer() {
        let q = quantize(&[0.0; 6], 3, 2, 7, Granularity::PerLayer);
        assert_eq!(q.scales, vec![1.0]);
        assert!(q.w.data.iter().all(|&v| v == 0));
        assert_eq!(dequantize(&q), vec![0.0; 6]);
    }

    #[test]
    fn empty_and_one_by_one() {
        let q = quantize(&[], 0, 0, 7, Granularity::PerChannel);
        assert!(q.scales.is_empty() && q.w.data.is_empty());
        let q = quantize(&[-0.3], 1, 1, 1, Granularity::PerChannel);
        assert_eq!(q.w.data, vec![-1]);
        assert_eq!(dequantize(&q), vec![-0.3]);
    }

    #[test]
    fn sqnr_cases() {
        assert_eq!(sqnr_db(&[1.0, 2.0], &[1.0, 2.0]), f64::INFINITY);
        assert_eq!(sqnr_db(&[], &[]), f64::INFINITY);
        let v = sqnr_db(&[1.0, 0.0], &[0.9, 0.0]);
        assert!((v - 20.0).abs() < 1e-5, "{v}");
    }

    #[test]
    fn granularity_serde() {
        let s = serde_json::to_string(&Granularity::PerChannel).unwrap();
        let g: Granularity = serde_json::from_str(&s).unwrap();
        assert_eq!(g, Granularity::PerChannel);
    }

    fn matrix() -> impl Strategy<Value = (usize, usize, Vec<f32>)> {
        (1usize..9, 1usize..9).prop_flat_map(|(r, c)| {
            (
                Just(r),
                Just(c),
                prop::collection::vec(-100.0f32..100.0, r * c),
            )
        })
    }

    proptest! {
        #[test]
        fn round_trip_error_at_most_half_scale(
            (r, c, w) in matrix(),
            m in 1u32..16,
            per_channel in any::<bool>(),
        ) {
            let gran = if per_channel { Granularity::PerChannel } else { Granularity::PerLayer };
            let q = quantize(&w, r, c, m, gran);
            prop_assert_eq!(q.scales.len(), if per_channel { c } else { 1 });
            let qmax = max_magnitude(m) as i32;
            prop_assert!(q.w.data.iter().all(|&v| v.abs() <= qmax));
            let d = dequantize(&q);
            for (i, (&x, &y)) in w.iter().zip(&d).enumerate() {
                let s = scale_of(&q.scales, i % c) as f64;
                let tol = s / 2.0 * (1.0 + 1e-5) + (x.abs() as f64) * 1e-6;
                prop_assert!(((x - y) as f64).abs() <= tol, "w {} -> {} scale {}", x, y, s);
            }
            prop_assert_eq!(sqnr_db(&d, &d), f64::INFINITY);
        }

        #[test]
        fn max_maps_to_qmax((r, c, w) in matrix(), m in 1u32..16) {
            let q = quantize(&w, r, c, m, Granularity::PerChannel);
            let qmax = max_magnitude(m) as i32;
            for col in 0..c {
                let amax = (0..r).map(|row| w[row * c + col].abs()).fold(0.0f32, f32::max);
                let imax = (0..r).map(|row| q.w.at(row, col).abs()).max().unwrap();
                if amax > 0.0 { prop_assert_eq!(imax, qmax); } else { prop_assert_eq!(imax, 0); }
            }
        }
    }
}
