//! The whole compile flow for one layer and one network: lower, quantize
//! (per output channel), project onto the bit-sparse pattern, map with the
//! three mappers, cost each mapping, and report the bounds.
//!
//! Grouped and depthwise convolutions lower per group: consecutive groups
//! are placed on the diagonal of blocks no larger than one crossbar
//! ([`blocks`]), and every block is mapped on its own, so neither memory nor
//! any mapper (the dense baseline included) spends anything on the zeros
//! between blocks. [`lower`] still builds the whole block-diagonal matrix,
//! for checks that compare against one `x W` (`sme verify --layer`, which
//! cuts it to the tile's buffers).

use crate::compiler::map::{
    Bounds, Mapper, Objective, PerMapper, dense_stats, map_all_stats_with, map_all_with,
    map_matrix_with,
};
use crate::compiler::pattern::{Pattern, PatternKind, project_int, zero_bit_fraction};
use crate::compiler::quant::{Granularity, quantize};
use crate::config::{Params, TileConfig};
use crate::cost::LayerStats;
use crate::cost::{Cost, Preset, PresetName, speedup_equal_budget};
use crate::nets::{Layer, Network};
use crate::program::{LayerProgram, WeightMatrix};
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
    let (q, sig, err) = quantize_project_parts(cfg, rows, cols, w, pattern);
    (q, sqnr_from_parts(sig, err))
}

/// [`quantize_project`], returning the signal and error energies of the
/// SQNR instead of their ratio (so blocks of a layer can be summed). The
/// intermediate integer matrix is dropped before the projected one is
/// returned, and no dequantized copy is made.
fn quantize_project_parts(
    cfg: &TileConfig,
    rows: usize,
    cols: usize,
    w: &[f32],
    pattern: &Pattern,
) -> (WeightMatrix, f64, f64) {
    let m = cfg.derived.mag_bits;
    let q = quantize(w, rows, cols, m, Granularity::PerChannel);
    let projected = project_int(pattern, &q.w, m);
    let scales = q.scales;
    let (mut sig, mut err) = (0.0f64, 0.0f64);
    for (i, (&r, &v)) in w.iter().zip(&projected.data).enumerate() {
        let s = if scales.len() == 1 {
            scales[0]
        } else {
            scales[i % cols]
        };
        let (r, a) = (r as f64, (v as f32 * s) as f64);
        sig += r * r;
        err += (r - a) * (r - a);
    }
    (projected, sig, err)
}

/// `10 log10(sig / err)`, infinite when the error is zero.
fn sqnr_from_parts(sig: f64, err: f64) -> f64 {
    if err == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (sig / err).log10()
    }
}

/// A block of a layer's lowered matrix: consecutive groups placed on the
/// diagonal of a matrix no larger than one crossbar (a group larger than a
/// crossbar is a block of its own). Each block is quantized, projected and
/// mapped on its own, so no memory or crossbar is ever spent on the zeros
/// between blocks: memory grows with the weights, not with groups^2, and
/// the dense (ISAAC-style) baseline packs small groups (depthwise convs)
/// along crossbar diagonals instead of allocating all-zero crossbars.
#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    /// Rows (sum of the groups' rows).
    pub rows: usize,
    /// Columns (sum of the groups' columns).
    pub cols: usize,
    /// Row-major `rows x cols` matrix, zero outside the groups.
    pub data: Vec<f32>,
    /// The groups: `(row0, col0, rows, cols)` inside the block.
    pub groups: Vec<(usize, usize, usize, usize)>,
}

/// The blocks of a layer (one for a dense conv or FC layer).
pub fn blocks(cfg: &TileConfig, layer: &Layer) -> Vec<Block> {
    let (xr, xc) = (cfg.params.rows as usize, cfg.params.cols as usize);
    let mut mats = layer.matrices();
    if mats.len() == 1 {
        let m = mats.pop().expect("one matrix");
        return vec![Block {
            rows: m.rows,
            cols: m.cols,
            groups: vec![(0, 0, m.rows, m.cols)],
            data: m.data,
        }];
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i < mats.len() {
        // Take groups while the block stays within one crossbar.
        let (mut rows, mut cols, mut j) = (0, 0, i);
        while j < mats.len() && (j == i || (rows + mats[j].rows <= xr && cols + mats[j].cols <= xc))
        {
            rows += mats[j].rows;
            cols += mats[j].cols;
            j += 1;
        }
        let mut data = vec![0f32; rows * cols];
        let mut groups = Vec::with_capacity(j - i);
        let (mut r0, mut c0) = (0, 0);
        for m in &mats[i..j] {
            for r in 0..m.rows {
                data[(r0 + r) * cols + c0..][..m.cols]
                    .copy_from_slice(&m.data[r * m.cols..][..m.cols]);
            }
            groups.push((r0, c0, m.rows, m.cols));
            r0 += m.rows;
            c0 += m.cols;
        }
        out.push(Block {
            rows,
            cols,
            data,
            groups,
        });
        i = j;
    }
    out
}

/// Zero magnitude bits and weights inside the groups of a block.
fn zero_bits_in_groups(
    q: &WeightMatrix,
    groups: &[(usize, usize, usize, usize)],
    mag_bits: u32,
) -> (u64, u64) {
    let mask = (1u32 << mag_bits) - 1;
    let (mut ones, mut n) = (0u64, 0u64);
    for &(r0, c0, rows, cols) in groups {
        for r in r0..r0 + rows {
            for &v in &q.data[r * q.cols + c0..][..cols] {
                ones += (v.unsigned_abs() & mask).count_ones() as u64;
            }
        }
        n += (rows * cols) as u64;
    }
    (n * mag_bits as u64 - ones, n)
}

/// Compile one layer under all three mappers.
pub fn compile_layer(
    cfg: &TileConfig,
    layer: &Layer,
    pattern: &Pattern,
    preset: &Preset,
) -> LayerReport {
    compile_blocks(
        cfg,
        layer,
        blocks(cfg, layer),
        pattern,
        Objective::Crossbars,
        preset,
    )
}

/// Compile a layer given as its blocks (see [`blocks`]).
fn compile_blocks(
    cfg: &TileConfig,
    layer: &Layer,
    blocks: Vec<Block>,
    pattern: &Pattern,
    objective: Objective,
    preset: &Preset,
) -> LayerReport {
    use rayon::prelude::*;
    struct Part {
        q: WeightMatrix,
        sig: f64,
        err: f64,
        zero_bits: u64,
        weights: u64,
    }
    let mag = cfg.derived.mag_bits;
    let (rows, cols) = (
        blocks.iter().map(|b| b.rows).sum(),
        blocks.iter().map(|b| b.cols).sum(),
    );
    let parts: Vec<Part> = blocks
        .into_par_iter()
        .map(|b| {
            let (q, sig, err) = quantize_project_parts(cfg, b.rows, b.cols, &b.data, pattern);
            drop(b.data);
            let (zero_bits, weights) = zero_bits_in_groups(&q, &b.groups, mag);
            Part {
                q,
                sig,
                err,
                zero_bits,
                weights,
            }
        })
        .collect();
    let (stats, bounds) = if parts.len() == 1 {
        map_all_stats_with(cfg, &parts[0].q, objective)
    } else {
        // The dense (ISAAC-style) mapper maps every crossbar-sized block on
        // its own: groups packed along crossbar diagonals, no crossbar for
        // a zero block. SRE-style and SME squeeze zeros out anyway, so they
        // map the blocks stacked block-diagonally into tile-slice-sized
        // matrices (at most inputs x outputs), where strips and packing
        // can span groups.
        let dense = parts
            .par_iter()
            .map(|p| dense_stats(cfg, &p.q, objective))
            .reduce(LayerStats::default, LayerStats::merge);
        let slabs = stack(cfg, parts.iter().map(|p| &p.q));
        let (mut stats, bounds) = slabs
            .par_iter()
            .map(|w| {
                let (s, b) = map_all_stats_with(cfg, w, objective);
                (s, vec![b])
            })
            .reduce(
                || (PerMapper::default(), Vec::new()),
                |(a, mut ba), (b, bb)| {
                    ba.extend(bb);
                    (PerMapper::from_fn(|m| a[m].merge(b[m])), ba)
                },
            );
        stats[Mapper::Dense] = dense;
        (stats, Bounds::combine(cfg, &bounds))
    };
    let (sig, err) = parts
        .iter()
        .fold((0.0, 0.0), |(s, e), p| (s + p.sig, e + p.err));
    let (zero_bits, weights) = parts
        .iter()
        .fold((0, 0), |(z, n), p| (z + p.zero_bits, n + p.weights));
    let zero_bit_fraction = if weights == 0 {
        0.0
    } else {
        zero_bits as f64 / (weights * mag as u64) as f64
    };
    finish_report(
        cfg,
        layer,
        (rows, cols),
        stats,
        bounds,
        sqnr_from_parts(sig, err),
        zero_bit_fraction,
        preset,
    )
}

/// The programs whose counts [`compile_layer`] reports (with `objective`),
/// per mapper: one [`LayerProgram`] per mapped matrix, all of whose tiles
/// run concurrently. A dense conv or FC layer is one matrix; a grouped one
/// is, for the dense mapper, each crossbar-sized block, and for SRE-style
/// and SME the blocks stacked into tile-slice-sized matrices (see
/// [`blocks`]). Each program's input and output maps are local to its
/// matrix. For running a layer's exact programs on the RTL.
pub fn layer_programs(
    cfg: &TileConfig,
    layer: &Layer,
    pattern: &Pattern,
    objective: Objective,
) -> PerMapper<Vec<LayerProgram>> {
    let qs: Vec<WeightMatrix> = blocks(cfg, layer)
        .into_iter()
        .map(|b| quantize_project_parts(cfg, b.rows, b.cols, &b.data, pattern).0)
        .collect();
    if qs.len() == 1 {
        let (all, _) = map_all_with(cfg, &qs[0], objective);
        return all.map(|_, lp| vec![lp.clone()]);
    }
    let mut out: PerMapper<Vec<LayerProgram>> = PerMapper::default();
    out[Mapper::Dense] = qs
        .iter()
        .map(|q| map_matrix_with(cfg, q, Mapper::Dense, objective))
        .collect();
    for slab in stack(cfg, qs.iter()) {
        for m in [Mapper::Sre, Mapper::Sme] {
            out[m].push(map_matrix_with(cfg, &slab, m, objective));
        }
    }
    out
}

/// Consecutive blocks stacked block-diagonally into matrices of at most
/// `inputs` rows by `outputs` columns (one tile slice each; a block larger
/// than that stays alone).
fn stack<'a>(
    cfg: &TileConfig,
    blocks: impl Iterator<Item = &'a WeightMatrix>,
) -> Vec<WeightMatrix> {
    let (si, so) = (cfg.params.inputs as usize, cfg.params.outputs as usize);
    let mut out = Vec::new();
    let mut group: Vec<&WeightMatrix> = Vec::new();
    let flush = |group: &mut Vec<&WeightMatrix>, out: &mut Vec<WeightMatrix>| {
        if group.is_empty() {
            return;
        }
        let rows: usize = group.iter().map(|w| w.rows).sum();
        let cols: usize = group.iter().map(|w| w.cols).sum();
        let mut data = vec![0i32; rows * cols];
        let (mut r0, mut c0) = (0, 0);
        for w in group.iter() {
            for r in 0..w.rows {
                data[(r0 + r) * cols + c0..][..w.cols]
                    .copy_from_slice(&w.data[r * w.cols..][..w.cols]);
            }
            r0 += w.rows;
            c0 += w.cols;
        }
        out.push(WeightMatrix { rows, cols, data });
        group.clear();
    };
    let (mut rows, mut cols) = (0, 0);
    for w in blocks {
        if !group.is_empty() && (rows + w.rows > si || cols + w.cols > so) {
            flush(&mut group, &mut out);
            (rows, cols) = (0, 0);
        }
        rows += w.rows;
        cols += w.cols;
        group.push(w);
    }
    flush(&mut group, &mut out);
    out
}

/// Map an already quantized matrix of `layer` and cost it.
pub(crate) fn report_matrix(
    cfg: &TileConfig,
    layer: &Layer,
    q: &WeightMatrix,
    sqnr: f64,
    objective: Objective,
    preset: &Preset,
) -> LayerReport {
    let (stats, b) = map_all_stats_with(cfg, q, objective);
    let zero = zero_bit_fraction(q, cfg.derived.mag_bits);
    finish_report(cfg, layer, (q.rows, q.cols), stats, b, sqnr, zero, preset)
}

#[allow(clippy::too_many_arguments)]
fn finish_report(
    cfg: &TileConfig,
    layer: &Layer,
    (rows, cols): (usize, usize),
    stats: PerMapper<LayerStats>,
    b: Bounds,
    sqnr: f64,
    zero_bit_fraction: f64,
    preset: &Preset,
) -> LayerReport {
    let vectors = layer.vectors as u64;
    let cost = stats.map(|_, s| s.cost(cfg, vectors, preset));
    let sme_xbars = cost[Mapper::Sme].crossbars;
    let per_vec = (cfg.derived.steps as u64)
        .saturating_mul(b.squeezed_windows.div_ceil(sme_xbars.max(1)))
        .saturating_add(cfg.derived.latency as u64);
    LayerReport {
        name: layer.name.clone(),
        kind: format!("{:?}", layer.kind).to_lowercase(),
        rows,
        cols,
        groups: layer.groups,
        vectors,
        weights: layer.num_weights() as u64,
        sqnr_db: sqnr,
        zero_bit_fraction,
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
    /// What the mappers optimize inside a tile.
    pub objective: Objective,
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
pub(crate) const SPEEDUP_DEFINITION: &str = "(cycles_dense x crossbars_dense) / (cycles_x x crossbars_x): throughput at equal crossbar budget";

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
    /// What the mappers optimized inside a tile.
    pub objective: Objective,
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
    // Layers are independent: compiled in parallel (rayon), reported in
    // order. Synthetic weights depend only on the seed and the layer index.
    use rayon::prelude::*;
    let layers: Vec<LayerReport> = net
        .layers
        .par_iter_mut()
        .enumerate()
        .map(|(i, layer)| {
            progress.message(&layer.name);
            if synthetic {
                crate::nets::synthesize(layer, req.seed.wrapping_add(i as u64));
            }
            let r = match &ints {
                // Integer weights are mapped as they are (no float
                // reference: SQNR is NaN, null in JSON).
                Some(ms) => report_matrix(cfg, layer, &ms[i], f64::NAN, req.objective, preset),
                None => {
                    let b = blocks(cfg, layer);
                    // The lowered blocks hold the weights now; free the
                    // layer's copy before quantizing.
                    layer.weights = Vec::new();
                    compile_blocks(cfg, layer, b, &req.pattern, req.objective, preset)
                }
            };
            progress.inc(1);
            r
        })
        .collect();
    progress.finish();
    NetworkReport {
        network: net.name,
        synthetic_weights: synthetic,
        integer_weights: integer,
        seed: req.seed,
        pattern: req.pattern,
        objective: req.objective,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nets::{LayerKind, synthesize};

    fn depthwise(channels: usize, k: usize) -> Layer {
        let mut l = Layer {
            name: "dw".into(),
            kind: LayerKind::Depthwise,
            in_ch: channels,
            out_ch: channels,
            kh: k,
            kw: k,
            groups: channels,
            vectors: 4,
            weights: Vec::new(),
        };
        synthesize(&mut l, 3);
        l
    }

    #[test]
    fn blocks_put_groups_on_the_diagonal_within_one_crossbar() {
        let cfg = TileConfig::default_config();
        let l = depthwise(40, 3);
        let bs = blocks(&cfg, &l);
        // 9 rows per group: 14 groups fill 126 of 128 rows.
        assert_eq!(
            bs.iter().map(|b| b.groups.len()).collect::<Vec<_>>(),
            [14, 14, 12]
        );
        let mats = l.matrices();
        let mut g = 0;
        for b in &bs {
            assert!(b.rows <= 128 && b.cols <= 128);
            for &(r0, c0, rows, cols) in &b.groups {
                for r in 0..rows {
                    for c in 0..cols {
                        assert_eq!(b.data[(r0 + r) * b.cols + c0 + c], mats[g].at(r, c));
                    }
                }
                g += 1;
            }
            // Everything off the groups is zero.
            let inside: usize = b.groups.iter().map(|&(_, _, r, c)| r * c).sum();
            let nonzero = b.data.iter().filter(|&&v| v != 0.0).count();
            assert!(nonzero <= inside);
        }
        assert_eq!(g, 40);
    }

    /// A 16,384-channel depthwise 1x1 conv lowered block-diagonally would
    /// need 16384^2 floats (1 GiB) and far more for its programs; per block
    /// it is 128 blocks of 128x128, and the dense baseline spends one
    /// crossbar per block, plane and sign, never one on a zero block.
    #[test]
    fn a_huge_depthwise_layer_maps_per_block() {
        let cfg = TileConfig::default_config();
        let l = depthwise(16384, 1);
        let bs = blocks(&cfg, &l);
        assert_eq!(bs.len(), 128);
        let elems: usize = bs.iter().map(|b| b.data.len()).sum();
        assert_eq!(elems, 128 * 128 * 128);
        let r = compile_layer(&cfg, &l, &Pattern::KHot { k: 2 }, &crate::cost::ISAAC_32NM);
        let planes_signs = cfg.derived.slices as u64 * 2;
        assert!(r.cost[Mapper::Dense].crossbars <= 128 * planes_signs);
        assert!(r.cost[Mapper::Sme].crossbars <= r.cost[Mapper::Dense].crossbars);
        assert_eq!((r.rows, r.cols, r.weights), (16384, 16384, 16384));
    }

    /// The programs of a grouped layer are exactly what its report counts.
    #[test]
    fn layer_programs_are_what_the_report_counts() {
        let cfg = TileConfig::default_config();
        let l = depthwise(40, 3);
        for objective in [Objective::Crossbars, Objective::Balanced] {
            let pattern = Pattern::Group { k: 2, m: 16, g: 8 };
            let r = compile_blocks(
                &cfg,
                &l,
                blocks(&cfg, &l),
                &pattern,
                objective,
                &crate::cost::ISAAC_32NM,
            );
            let progs = layer_programs(&cfg, &l, &pattern, objective);
            for m in Mapper::ALL {
                let mut st = LayerStats::default();
                for lp in &progs[m] {
                    assert!(lp.validate(&cfg).is_ok());
                    for t in &lp.tiles {
                        st.add_tile(&cfg, &t.program);
                    }
                }
                let c = st.cost(&cfg, l.vectors as u64, &crate::cost::ISAAC_32NM);
                assert_eq!(c, r.cost[m], "{m:?} {objective:?}");
            }
        }
    }
}
