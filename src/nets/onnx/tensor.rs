//! Tensor values: decoding of `TensorProto` data (raw little-endian bytes
//! or typed fields) into f32 weights and i64 shape values.

use super::proto::TensorProto;
use anyhow::{Result, anyhow, bail, ensure};

/// A shape for messages: the dims as `[a, b, ...]`, at most the first 8
/// of them then `... (N dims)`, so a malformed tensor with thousands of
/// dims cannot blow up an error message.
pub(super) fn dims_str(dims: &[i64]) -> String {
    const SHOW: usize = 8;
    if dims.len() <= SHOW {
        format!("{dims:?}")
    } else {
        let head: Vec<String> = dims[..SHOW].iter().map(|d| d.to_string()).collect();
        format!("[{}, ... ({} dims)]", head.join(", "), dims.len())
    }
}

/// Name of an ONNX data type, for messages.
pub(super) fn dtype_name(t: i32) -> String {
    const NAMES: [&str; 24] = [
        "UNDEFINED",
        "FLOAT",
        "UINT8",
        "INT8",
        "UINT16",
        "INT16",
        "INT32",
        "INT64",
        "STRING",
        "BOOL",
        "FLOAT16",
        "DOUBLE",
        "UINT32",
        "UINT64",
        "COMPLEX64",
        "COMPLEX128",
        "BFLOAT16",
        "FLOAT8E4M3FN",
        "FLOAT8E4M3FNUZ",
        "FLOAT8E5M2",
        "FLOAT8E5M2FNUZ",
        "UINT4",
        "INT4",
        "FLOAT4E2M1",
    ];
    match usize::try_from(t).ok().and_then(|i| NAMES.get(i)) {
        Some(n) => format!("{n} ({t})"),
        None => format!("unknown data type {t}"),
    }
}

/// Number of elements of a tensor with these dims (None if invalid/overflow).
pub(super) fn numel(dims: &[i64]) -> Option<usize> {
    dims.iter().try_fold(1usize, |acc, &d| {
        usize::try_from(d).ok().and_then(|d| acc.checked_mul(d))
    })
}

/// `n` fixed-size chunks of `raw`, if its length is exactly `n * N` bytes.
fn raw_chunks<const N: usize>(raw: &[u8], n: usize) -> Option<impl Iterator<Item = [u8; N]> + '_> {
    (n.checked_mul(N) == Some(raw.len()))
        .then(|| raw.chunks_exact(N).map(|c| c.try_into().unwrap()))
}

/// Integer values of an INT64 / INT32 tensor.
pub(super) fn tensor_ints(t: &TensorProto) -> Result<Vec<i64>> {
    let n = numel(&t.dims).ok_or_else(|| anyhow!("invalid dims {}", dims_str(&t.dims)))?;
    let raw = t.raw_data.as_deref().unwrap_or(&[]);
    let v: Vec<i64> = match t.data_type.unwrap_or(0) {
        7 if !raw.is_empty() => raw_chunks::<8>(raw, n)
            .ok_or_else(|| anyhow!("raw_data size"))?
            .map(i64::from_le_bytes)
            .collect(),
        7 => t.int64_data.clone(),
        6 if !raw.is_empty() => raw_chunks::<4>(raw, n)
            .ok_or_else(|| anyhow!("raw_data size"))?
            .map(|b| i32::from_le_bytes(b) as i64)
            .collect(),
        6 => t.int32_data.iter().map(|&x| x as i64).collect(),
        d => bail!("not an integer tensor: {}", dtype_name(d)),
    };
    ensure!(
        v.len() == n,
        "tensor holds {} values, dims {} need {n}",
        v.len(),
        dims_str(&t.dims)
    );
    Ok(v)
}

/// IEEE half-precision bits to f32.
fn f16_to_f32(h: u16) -> f32 {
    let sign = if h & 0x8000 != 0 { -1.0f32 } else { 1.0 };
    let exp = ((h >> 10) & 0x1f) as i32;
    let frac = (h & 0x3ff) as f32;
    match exp {
        0 => sign * frac * 2f32.powi(-24),
        31 if frac == 0.0 => sign * f32::INFINITY,
        31 => f32::NAN,
        _ => sign * (1.0 + frac / 1024.0) * 2f32.powi(exp - 15),
    }
}

/// Values of a floating-point tensor as f32 (FLOAT, DOUBLE or FLOAT16).
pub(super) fn tensor_f32(t: &TensorProto) -> Result<Vec<f32>> {
    if t.data_location == Some(1) {
        bail!(
            "tensor {:?} uses external data, which is not supported (save the model with weights embedded)",
            t.name.as_deref().unwrap_or("")
        );
    }
    let n = numel(&t.dims).ok_or_else(|| anyhow!("invalid dims {}", dims_str(&t.dims)))?;
    let raw = t.raw_data.as_deref().unwrap_or(&[]);
    let size_err = || {
        anyhow!(
            "tensor raw_data has {} bytes, which does not match dims {}",
            raw.len(),
            dims_str(&t.dims)
        )
    };
    let v: Vec<f32> = match t.data_type.unwrap_or(0) {
        1 if !raw.is_empty() => raw_chunks::<4>(raw, n)
            .ok_or_else(size_err)?
            .map(f32::from_le_bytes)
            .collect(),
        1 => t.float_data.clone(),
        11 if !raw.is_empty() => raw_chunks::<8>(raw, n)
            .ok_or_else(size_err)?
            .map(|b| f64::from_le_bytes(b) as f32)
            .collect(),
        11 => t.double_data.iter().map(|&x| x as f32).collect(),
        10 if !raw.is_empty() => raw_chunks::<2>(raw, n)
            .ok_or_else(size_err)?
            .map(|b| f16_to_f32(u16::from_le_bytes(b)))
            .collect(),
        10 => t.int32_data.iter().map(|&x| f16_to_f32(x as u16)).collect(),
        d => bail!(
            "unsupported weight data type {} (supported: FLOAT, DOUBLE, FLOAT16)",
            dtype_name(d)
        ),
    };
    ensure!(
        v.len() == n,
        "tensor holds {} values, dims {} need {n}",
        v.len(),
        dims_str(&t.dims)
    );
    if let Some((i, x)) = v.iter().enumerate().find(|(_, x)| !x.is_finite()) {
        bail!(
            "value {x} at index {i} (of {n}, dims {}): weights must be finite",
            dims_str(&t.dims)
        );
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f16_values() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
    }
}
