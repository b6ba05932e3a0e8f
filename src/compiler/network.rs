//! The whole compile flow for one layer and one network: lower, quantize
//! (per output channel), project onto the bit-sparse pattern, map with the
//! three mappers, cost each mapping, and report the bounds.
//!
//! Grouped and depthwise convolutions lower to one block-diagonal matrix
//! (group i's K*K*Cin/groups rows by Cout/groups columns on the diagonal):
//! the dense mapping pays for every zero off-diagonal block (that is why
//! these layers fill crossbars poorly), SRE-style and SME squeeze the zeros
//! out.

use crate::compiler::map::{Bounds, map_all};
use crate::compiler::pattern::{Pattern, project_int, zero_bit_fraction};
use crate::compiler::quant::{Granularity, Quantized, dequantize, quantize, sqnr_db};
use crate::config::TileConfig;
use crate::cost::{Cost, Preset, layer_cost};
use crate::nets::Layer;
use crate::program::WeightMatrix;
use serde::Serialize;

/// One layer's results.
#[derive(Clone, Debug, Serialize)]
pub struct LayerReport {
    /// Layer name.
    pub name: String,
    /// Kind (conv, depthwise, grouped, fc).
    pub kind: String,
    /// Lowered matrix rows (inputs) and columns (outputs).
    pub rows: usize,
    /// Lowered matrix columns.
    pub cols: usize,
    /// Groups.
    pub groups: usize,
    /// Input vectors per inference.
    pub vectors: u64,
    /// Weights (without the block-diagonal zeros).
    pub weights: u64,
    /// SQNR of the quantized, projected weights against the float weights (dB).
    pub sqnr_db: f64,
    /// Share of zero magnitude bits after projection.
    pub zero_bit_fraction: f64,
    /// Dense (ISAAC-style) mapping.
    pub dense: Cost,
    /// SRE-style mapping.
    pub sre: Cost,
    /// SME squeeze-out mapping.
    pub sme: Cost,
    /// Bounds of the SME squeeze.
    pub bounds: Bounds,
    /// Cycle bound for one inference: vectors x (steps x ceil(squeezed
    /// windows / SME crossbars) + latency).
    pub cycle_bound: u64,
}

/// Lower a layer to one matrix (block-diagonal for grouped convs).
pub fn lower(layer: &Layer) -> (usize, usize, Vec<f32>) {
    let mats = layer.matrices();
    let rows: usize = mats.iter().map(|m| m.rows).sum();
    let cols: usize = mats.iter().map(|m| m.cols).sum();
    let mut data = vec![0f32; rows * cols];
    let (mut r0, mut c0) = (0, 0);
    for m in &mats {
        for r in 0..m.rows {
            let src = &m.data[r * m.cols..(r + 1) * m.cols];
            data[(r0 + r) * cols + c0..(r0 + r) * cols + c0 + m.cols].copy_from_slice(src);
        }
        r0 += m.rows;
        c0 += m.cols;
    }
    (rows, cols, data)
}

/// The pattern to project on, with group windows equal to the OU.
pub fn pattern_for(cfg: &TileConfig, name: &str, k: u32) -> Result<Pattern, String> {
    match name {
        "none" | "dense" => Ok(Pattern::Dense),
        "khot" => Ok(Pattern::KHot { k }),
        "group" => Ok(Pattern::Group {
            k,
            m: cfg.params.ou_rows,
            g: cfg.params.ou_cols,
        }),
        other => Err(format!(
            "unknown pattern `{other}`: valid khot, group, none"
        )),
    }
}

/// Quantize (per output channel) and project a float matrix.
pub fn quantize_project(
    cfg: &TileConfig,
    rows: usize,
    cols: usize,
    w: &[f32],
    pattern: &Pattern,
) -> (WeightMatrix, f64) {
    let m = cfg.derived.mag_bits;
    let q = quantize(w, rows, cols, m, Granularity::PerChannel);
    let projected = project_int(pattern, &q.w, m);
    let approx = dequantize(&Quantized {
        w: projected.clone(),
        scales: q.scales.clone(),
    });
    (projected, sqnr_db(w, &approx))
}

/// Compile one layer under all three mappers.
pub fn compile_layer(
    cfg: &TileConfig,
    layer: &Layer,
    pattern: &Pattern,
    preset: &Preset,
) -> LayerReport {
    let (rows, cols, w) = lower(layer);
    let (q, sqnr) = quantize_project(cfg, rows, cols, &w, pattern);
    report_matrix(cfg, layer, &q, sqnr, preset)
}

/// Map an already quantized matrix of `layer` and cost it.
pub fn report_matrix(
    cfg: &TileConfig,
    layer: &Layer,
    q: &WeightMatrix,
    sqnr: f64,
    preset: &Preset,
) -> LayerReport {
    let vectors = layer.vectors as u64;
    let (dense, sre, sme, b) = map_all(cfg, q);
    let mut costs: Vec<Cost> = [dense, sre, sme]
        .iter()
        .map(|lp| layer_cost(cfg, lp, vectors, preset))
        .collect();
    let sme_xbars = costs[2].crossbars;
    let per_vec = cfg.derived.steps as u64 * b.squeezed_windows.div_ceil(sme_xbars.max(1))
        + cfg.derived.latency as u64;
    LayerReport {
        name: layer.name.clone(),
        kind: format!("{:?}", layer.kind).to_lowercase(),
        rows: q.rows,
        cols: q.cols,
        groups: layer.groups,
        vectors,
        weights: layer.num_weights() as u64,
        sqnr_db: sqnr,
        zero_bit_fraction: zero_bit_fraction(q, cfg.derived.mag_bits),
        sme: costs.pop().unwrap(),
        sre: costs.pop().unwrap(),
        dense: costs.pop().unwrap(),
        cycle_bound: if b.squeezed_windows == 0 {
            0
        } else {
            vectors * per_vec
        },
        bounds: b,
    }
}
