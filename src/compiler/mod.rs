//! The compiler (DESIGN section 4): quantization, bit-sparse projection and
//! (later) ADMM, mapping, squeeze-out, grouping and bounds.

pub mod pattern;
pub mod quant;
