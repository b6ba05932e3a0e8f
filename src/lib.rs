//! `sme`: RTL generator, golden model and compiler for SME, a ReRAM-crossbar
//! accelerator that squeezes out the bit sparsity of quantized weights.
//!
//! Data flows one way: [`config`] -> [`compiler`] -> [`program`] ->
//! {[`golden`], [`rtlgen`], [`cost`]}.

#![warn(missing_docs)]

pub mod config;
pub mod nets;
pub mod golden;
pub mod program;
