//! The compiler (DESIGN section 4): quantization, bit-sparse projection,
//! bit-slice mapping (dense / SRE-style / SME squeeze-out), grouping and
//! bounds.

pub mod map;
pub mod network;
pub mod pattern;
pub mod quant;
