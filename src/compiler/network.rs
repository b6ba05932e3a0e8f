//! The whole compile flow for one layer and one network: lower, quantize
//! (per output channel), project onto the bit-sparse pattern, map with the
//! three mappers, cost each mapping, and report the bounds.
//!
//! Grouped and depthwise convolutions lower to one block-diagonal matrix
//! (group i's K*K*Cin/groups rows by Cout/groups columns on the diagonal):
//! the dense mapping pays for every zero off-diagonal block (that is why
//! these layers fill crossbars poorly), SRE-style and SME squeeze the zeros
//! out.

use crate::compiler::map::{Bounds, Mapper, PerMapper, map_all};
use crate::compiler::pattern::{Pattern, PatternKind, project_int, zero_bit_fraction};
use crate::compiler::quant::{Granularity, Quantized, dequantize, quantize, sqnr_db};
use crate::config::{Params, TileConfig};
use crate::cost::{Cost, Preset, PresetName, layer_cost, speedup_equal_budget};
use crate::nets::{Layer, Network};
use crate::program::WeightMatrix;
use crate::progress::Progress;
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
    /// The cost of each mapping (dense ISAAC-style, SRE-style, SME), as
    /// fields `dense`, `sre` and `sme`.
    #[serde(flatten)]
    pub cost: PerMapper<Cost>,
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
pub fn pattern_for(cfg: &TileConfig, kind: PatternKind, k: u32) -> Pattern {
    kind.with(k, cfg.params.ou_rows, cfg.params.ou_cols)
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
    let (programs, b) = map_all(cfg, q);
    let cost = programs.map(|_, lp| layer_cost(cfg, lp, vectors, preset));
    let sme_xbars = cost[Mapper::Sme].crossbars;
    let per_vec = (cfg.derived.steps as u64)
        .saturating_mul(b.squeezed_windows.div_ceil(sme_xbars.max(1)))
        .saturating_add(cfg.derived.latency as u64);
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
        cost,
        cycle_bound: if b.squeezed_windows == 0 {
            0
        } else {
            vectors.saturating_mul(per_vec)
        },
        bounds: b,
    }
}

/// What a network is mapped with.
#[derive(Clone, Debug)]
pub enum MapInput {
    /// Layer shapes whose weights are synthesized layer by layer
    /// ([`crate::nets::synthesize`], seed `MapRequest::seed + layer index`).
    Synthetic(Network),
    /// Real float weights (ONNX): quantized and projected here.
    Real(Network),
    /// Integer weights (an sme-weights file), already quantized and
    /// projected: mapped as they are. One matrix per layer of the network.
    Integer(Network, Vec<WeightMatrix>),
}

impl MapInput {
    /// The network.
    pub fn network(&self) -> &Network {
        match self {
            MapInput::Synthetic(n) | MapInput::Real(n) | MapInput::Integer(n, _) => n,
        }
    }
}

/// How to map a network.
#[derive(Clone, Debug)]
pub struct MapRequest {
    /// The bit-sparse pattern (ignored for integer weights).
    pub pattern: Pattern,
    /// Seed of synthetic weights.
    pub seed: u64,
    /// Energy/area preset.
    pub preset: PresetName,
    /// Only the first N layers.
    pub layers: Option<usize>,
}

/// The preset a report was costed with.
#[derive(Clone, Debug, Serialize)]
pub struct PresetRef {
    /// Preset name.
    pub name: &'static str,
    /// Where its figures come from.
    pub source: &'static str,
}

/// Sums of the bounds over all layers.
#[derive(Clone, Debug, Default, Serialize)]
pub struct BoundTotals {
    /// Sum of the per-layer cell bounds (crossbars).
    pub cell_crossbars: u64,
    /// Sum of the per-layer packing bounds (crossbars).
    pub packing_crossbars: u64,
    /// Sum of the per-layer cycle bounds (one inference).
    pub cycles: u64,
}

/// Speedups at equal crossbar budget over the dense mapping.
#[derive(Clone, Debug, Serialize)]
pub struct SpeedupVsDense {
    /// SRE-style over dense.
    pub sre: f64,
    /// SME over dense.
    pub sme: f64,
}

/// Totals for one inference of the whole network.
#[derive(Clone, Debug, Serialize)]
pub struct Totals {
    /// Summed cost of each mapping, as fields `dense`, `sre`, `sme`.
    #[serde(flatten)]
    pub cost: PerMapper<Cost>,
    /// Summed bounds.
    pub bounds: BoundTotals,
    /// Speedups at equal crossbar budget over dense.
    pub speedup_vs_dense: SpeedupVsDense,
    /// SME over SRE-style at equal crossbar budget.
    pub speedup_sme_vs_sre: f64,
}

impl Totals {
    /// Sum the layer reports.
    pub fn of(layers: &[LayerReport]) -> Totals {
        let mut cost: PerMapper<Cost> = PerMapper::default();
        let mut bounds = BoundTotals::default();
        for l in layers {
            for m in Mapper::ALL {
                cost[m].add(&l.cost[m]);
            }
            // Saturating: counts never wrap (see `Cost::saturated`).
            bounds.cell_crossbars = bounds
                .cell_crossbars
                .saturating_add(l.bounds.cell_crossbars);
            bounds.packing_crossbars = bounds
                .packing_crossbars
                .saturating_add(l.bounds.packing_crossbars);
            bounds.cycles = bounds.cycles.saturating_add(l.cycle_bound);
        }
        let (d, r, s) = (&cost[Mapper::Dense], &cost[Mapper::Sre], &cost[Mapper::Sme]);
        Totals {
            speedup_vs_dense: SpeedupVsDense {
                sre: speedup_equal_budget(d, r),
                sme: speedup_equal_budget(d, s),
            },
            speedup_sme_vs_sre: speedup_equal_budget(r, s),
            cost,
            bounds,
        }
    }
}

/// Definition of the equal-budget speedup, written into every report.
pub const SPEEDUP_DEFINITION: &str = "(cycles_dense x crossbars_dense) / (cycles_x x crossbars_x): throughput at equal crossbar budget";

/// `sme map`'s report: every layer under the three mappers, and the totals.
/// Serialized as the `--json` output (schema: `docs/json.md`).
#[derive(Clone, Debug, Serialize)]
pub struct NetworkReport {
    /// Network name.
    pub network: String,
    /// Whether the weights were synthetic.
    pub synthetic_weights: bool,
    /// Whether the weights were an integer weights file, mapped as they are.
    #[serde(skip)]
    pub integer_weights: bool,
    /// Seed of the synthetic weights.
    pub seed: u64,
    /// The pattern projected on (not applied to integer weights).
    pub pattern: Pattern,
    /// The tile parameters.
    pub config: Params,
    /// The energy/area preset.
    pub preset: PresetRef,
    /// How the speedups are defined.
    pub speedup_definition: &'static str,
    /// Per layer.
    pub layers: Vec<LayerReport>,
    /// For one inference.
    pub totals: Totals,
    /// Non-fatal import problems.
    #[serde(skip)]
    pub warnings: Vec<String>,
}

/// Compile every layer of a network with the three mappers and cost it.
pub fn map_network(
    cfg: &TileConfig,
    input: MapInput,
    req: &MapRequest,
    progress: &dyn Progress,
) -> NetworkReport {
    let preset = req.preset.preset();
    let (synthetic, integer) = (
        matches!(input, MapInput::Synthetic(_)),
        matches!(input, MapInput::Integer(..)),
    );
    let (mut net, ints) = match input {
        MapInput::Synthetic(n) | MapInput::Real(n) => (n, None),
        MapInput::Integer(n, ms) => (n, Some(ms)),
    };
    if let Some(n) = req.layers {
        net.layers.truncate(n);
    }
    progress.start("mapping", Some(net.layers.len() as u64));
    let mut layers = Vec::with_capacity(net.layers.len());
    for (i, layer) in net.layers.iter_mut().enumerate() {
        progress.message(&layer.name);
        if synthetic {
            crate::nets::synthesize(layer, req.seed.wrapping_add(i as u64));
        }
        layers.push(match &ints {
            // Integer weights are mapped as they are (no float reference:
            // SQNR is NaN, null in JSON).
            Some(ms) => report_matrix(cfg, layer, &ms[i], f64::NAN, preset),
            None => compile_layer(cfg, layer, &req.pattern, preset),
        });
        if synthetic {
            layer.weights = Vec::new();
        }
        progress.inc(1);
    }
    progress.finish();
    NetworkReport {
        network: net.name,
        synthetic_weights: synthetic,
        integer_weights: integer,
        seed: req.seed,
        pattern: req.pattern,
        config: cfg.params.clone(),
        preset: PresetRef {
            name: preset.name,
            source: preset.source,
        },
        speedup_definition: SPEEDUP_DEFINITION,
        totals: Totals::of(&layers),
        layers,
        warnings: net.warnings,
    }
}
