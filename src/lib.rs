//! `sme`: RTL generator, golden model and compiler for SME, a ReRAM-crossbar
//! accelerator that squeezes out the bit sparsity of quantized weights.
//!
//! Data flows one way: [`config`] -> [`compiler`] -> [`program`] ->
//! {[`golden`], [`rtlgen`], `cost`}.

#![warn(missing_docs)]

pub mod chip;
pub mod cli;
pub mod compiler;
pub mod config;
#[cfg(feature = "cosim")]
pub mod cosim;
pub mod cosim_matrix;
pub mod cost;
pub mod golden;
pub mod iface;
pub mod input;
pub mod nets;
pub mod outdir;
pub mod program;
pub mod progress;
pub mod qnet;
pub mod rtlgen;
pub mod stim;
pub mod testgen;
#[cfg(feature = "train")]
pub mod train;
pub mod verify;
pub mod weights;
