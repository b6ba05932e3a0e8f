//! Chip model: every layer of a network on its own tiles, layers pipelined
//! over a stream of inputs, bottleneck layers replicated until the chip is
//! full (as ISAAC, PUMA and MNSIM evaluate a chip), for the dense,
//! SRE-style and SME mappings of the same network on the same chip.
//!
//! - A chip is `tiles` tiles of the tile config (N crossbars each; an ISAAC
//!   IMA is one tile), grouped `tiles_per_cluster` at a time into clusters
//!   that share an eDRAM buffer, a bus and a router (an ISAAC "tile"), plus
//!   the chip's off-chip links.
//! - Placement: layer i's mapping needs `t_i` tiles (the mapper's tile
//!   programs; tiles are the allocation unit, a tile never holds two
//!   layers). A mapping fits when `sum t_i <= tiles`.
//! - Stage time of layer i with `r_i` replicas: its replicas split the
//!   layer's input vectors, so one inference takes
//!   `ceil(vectors_i / r_i) x cycles_per_vector_i` cycles (the cost model's
//!   cycles, exactly what the RTL takes; equal to the layer's cycles
//!   divided by `r_i` when `r_i` divides the vectors).
//! - Pipeline: layers form a pipeline over a stream of inferences; its
//!   interval is the slowest stage, throughput = 1 / (interval x cycle),
//!   latency of one inference = the sum of the stage times (pipeline fill).
//! - Replication ([`replicate`]): phase 1 gives the slowest stage the
//!   fewest extra replicas that shorten it, as long as they fit; this is
//!   optimal for the interval (every replica count stays the smallest that
//!   meets the current interval, so when the bottleneck's next step does not
//!   fit, no placement has a shorter interval). Phase 2 spends the tiles
//!   left on the steps that cut the most latency per tile, which leaves the
//!   interval unchanged and shortens the pipeline fill.
//! - Energy per inference: the cost model's dynamic energy of every OU op,
//!   conversion and row drive ([`crate::cost::layer_cost`]) plus every other
//!   component of the chip (registers, sample-and-hold, eDRAM, bus, router,
//!   links: cited constants, see [`ChipPreset`]) at its peak power for one
//!   pipeline interval.

use crate::compiler::map::{Mapper, PerMapper};
use crate::compiler::network::{LayerReport, NetworkReport};
use crate::config::{TileConfig, TileParams};
use crate::cost::{Preset, tile_peak};
use anyhow::{Result, bail};
use serde::Serialize;

/// A component outside the cost model's tile periphery, with its source.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Component {
    /// What it is.
    pub name: &'static str,
    /// Power (mW).
    pub power_mw: f64,
    /// Area (mm^2).
    pub area_mm2: f64,
    /// Where the figure comes from.
    pub source: &'static str,
}

/// A chip organization with its timing and the per-component constants
/// for what the tile RTL does not contain.
#[derive(Clone, Debug, Serialize)]
pub struct ChipPreset {
    /// Name (`isaac`).
    pub name: &'static str,
    /// Source of the organization and constants.
    pub source: &'static str,
    /// ADCs per crossbar (ISAAC: one, shared by the 128 columns).
    pub adcs_per_xbar: u64,
    /// ADC sample rate (GS/s). One OU op per crossbar per cycle, and a
    /// cycle is the time the crossbar's ADCs take to convert the op's g
    /// columns: `cycle = g / (adcs_per_xbar x rate)` (ISAAC: 128 columns at
    /// 1.28 GS/s = its 100 ns crossbar read).
    pub adc_gsps: f64,
    /// Tiles per cluster (ISAAC: 12 IMAs per tile).
    pub tiles_per_cluster: u64,
    /// Clusters of the full chip (ISAAC: 168 tiles).
    pub clusters: u64,
    /// Sample-and-hold per crossbar column (mW, mm^2).
    pub sample_hold: (f64, f64),
    /// Input register per 1024 entries of 16 bits (mW, mm^2), scaled by
    /// the tile's `inputs x act_bits`.
    pub input_register: (f64, f64),
    /// Output register per 128 entries (mW, mm^2), scaled by `outputs`.
    pub output_register: (f64, f64),
    /// Components of one cluster outside its tiles.
    pub cluster_components: &'static [Component],
    /// Components of one chip outside its clusters.
    pub chip_components: &'static [Component],
}

const T1: &str = "ISAAC Table I (Shafiee et al., ISCA 2016), docs/references.md";

/// ISAAC (Shafiee et al., ISCA 2016): 128x128 crossbars of 2-bit cells,
/// 16-bit weights and inputs, 1-bit DAC, one 8-bit 1.28 GS/s ADC per
/// crossbar (a 128-column read takes 100 ns), 8 crossbars per IMA, 12 IMAs per tile,
/// 168 tiles. Table I values per instance (group totals divided by the
/// count; the router is shared by 4 tiles).
pub const ISAAC: ChipPreset = ChipPreset {
    name: "isaac",
    source: T1,
    adcs_per_xbar: 1,
    adc_gsps: crate::cost::ISAAC_ADC_GSPS,
    tiles_per_cluster: 12,
    clusters: 168,
    sample_hold: (0.01 / 1024.0, 0.00004 / 1024.0),
    input_register: crate::cost::ISAAC_INPUT_REGISTER,
    output_register: (0.23, 0.00077),
    cluster_components: &[
        Component {
            name: "eDRAM buffer 64 KB",
            power_mw: 20.7,
            area_mm2: 0.083,
            source: T1,
        },
        Component {
            name: "eDRAM-to-IMA bus",
            power_mw: 7.0,
            area_mm2: 0.090,
            source: T1,
        },
        Component {
            name: "router (1/4 of one shared by 4 tiles)",
            power_mw: 42.0 / 4.0,
            area_mm2: 0.151 / 4.0,
            source: T1,
        },
        Component {
            name: "sigmoid units",
            power_mw: 0.52,
            area_mm2: 0.0006,
            source: T1,
        },
        Component {
            name: "tile shift-and-add",
            power_mw: 0.05,
            area_mm2: 0.00006,
            source: T1,
        },
        Component {
            name: "max-pool",
            power_mw: 0.4,
            area_mm2: 0.00024,
            source: T1,
        },
        Component {
            name: "tile output register 3 KB",
            power_mw: 1.68,
            area_mm2: 0.0032,
            source: T1,
        },
    ],
    chip_components: &[Component {
        name: "HyperTransport, 4 links",
        power_mw: 10400.0,
        area_mm2: 22.88,
        source: T1,
    }],
};

impl ChipPreset {
    /// ISAAC's tile as raw parameters: 128x128, C = 2, Q = 16, A = 16,
    /// D = 1, the whole crossbar read at once (OU 128x128), 8-bit ADC
    /// (lossy: ISAAC's encoding keeps 8 bits enough, this tile saturates),
    /// N = 8, 1024 inputs (2 KB input register), 128 outputs (256 B output
    /// register). Tile flags overlay these.
    pub fn tile(&self) -> TileParams {
        TileParams {
            rows: Some(128),
            cols: Some(128),
            cell_bits: Some(2),
            weight_bits: Some(16),
            act_bits: Some(16),
            dac_bits: Some(1),
            ou_rows: Some(128),
            ou_cols: Some(128),
            adc_bits: Some(8),
            xbars: Some(8),
            inputs: Some(1024),
            outputs: Some(128),
            ..TileParams::default()
        }
    }
}

/// Which chip.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChipSize {
    /// The preset's full chip.
    Full,
    /// The smallest chip that holds this mapping.
    Fit(Mapper),
    /// At least this many crossbars (rounded up to whole tiles).
    Crossbars(u64),
}

impl std::str::FromStr for ChipSize {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "isaac" => Ok(ChipSize::Full),
            "fit-dense" => Ok(ChipSize::Fit(Mapper::Dense)),
            "fit-sre" => Ok(ChipSize::Fit(Mapper::Sre)),
            "fit-sme" => Ok(ChipSize::Fit(Mapper::Sme)),
            _ => match s.parse::<u64>() {
                Ok(n) if n > 0 => Ok(ChipSize::Crossbars(n)),
                _ => Err(format!(
                    "`{s}`: expected isaac, fit-dense, fit-sre, fit-sme or a positive crossbar count"
                )),
            },
        }
    }
}

impl ChipSize {
    /// The name used in reports.
    pub fn name(self) -> String {
        match self {
            ChipSize::Full => "isaac".into(),
            ChipSize::Fit(m) => format!("fit-{}", m.name()),
            ChipSize::Crossbars(n) => n.to_string(),
        }
    }
}

/// Power and area of one block.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Block {
    /// Power (W).
    pub power_w: f64,
    /// Area (mm^2).
    pub area_mm2: f64,
}

/// The chip.
#[derive(Clone, Debug, Serialize)]
pub struct Chip {
    /// `isaac`, `fit-<mapper>` or the crossbar count asked for.
    pub name: String,
    /// Crossbars.
    pub crossbars: u64,
    /// Tiles (the allocation unit; an ISAAC IMA).
    pub tiles: u64,
    /// Crossbars per tile.
    pub crossbars_per_tile: u64,
    /// Tiles per cluster (an ISAAC tile).
    pub tiles_per_cluster: u64,
    /// Clusters (a partly filled last cluster has all its shared parts).
    pub clusters: u64,
    /// ADCs per crossbar.
    pub adcs_per_crossbar: u64,
    /// Cycle time: one OU op per crossbar, g conversions (ns).
    pub cycle_ns: f64,
    /// Chip area (mm^2).
    pub area_mm2: f64,
    /// Chip peak power (W).
    pub power_w: f64,
    /// Peak power of the components whose energy the cost model counts per
    /// event (crossbars, ADCs, DACs, shift-and-add) (W).
    pub event_power_w: f64,
    /// One tile.
    pub tile: Block,
    /// One full cluster (its tiles and its shared parts).
    pub cluster: Block,
}

/// The power/area model of a chip of `tiles` tiles.
#[derive(Clone, Debug)]
struct Model {
    cycle_ns: f64,
    adcs: u64,
    tile: Block,
    tile_event_w: f64,
    cluster_extra: Block,
    chip_extra: Block,
}

fn model(cfg: &TileConfig, preset: &Preset, chip: &ChipPreset) -> Model {
    let p = &cfg.params;
    let adcs = chip.adcs_per_xbar;
    let cycle_ns = p.ou_cols as f64 / (adcs as f64 * chip.adc_gsps);
    let peak = tile_peak(cfg, preset, cycle_ns, adcs as u32);
    let n = p.xbars as f64;
    let inputs = p.inputs as f64 * p.act_bits as f64 / (1024.0 * 16.0);
    let outputs = p.outputs as f64 / 128.0;
    let other_mw = n * p.cols as f64 * chip.sample_hold.0
        + inputs * chip.input_register.0
        + outputs * chip.output_register.0;
    let other_mm2 = n * p.cols as f64 * chip.sample_hold.1
        + inputs * chip.input_register.1
        + outputs * chip.output_register.1;
    let sum = |cs: &[Component]| Block {
        power_w: cs.iter().map(|c| c.power_mw).sum::<f64>() / 1e3,
        area_mm2: cs.iter().map(|c| c.area_mm2).sum(),
    };
    Model {
        cycle_ns,
        adcs,
        tile: Block {
            power_w: (peak.power_mw() + other_mw) / 1e3,
            area_mm2: peak.area_um2() / 1e6 + other_mm2,
        },
        tile_event_w: peak.power_mw() / 1e3,
        cluster_extra: sum(chip.cluster_components),
        chip_extra: sum(chip.chip_components),
    }
}

fn build_chip(name: String, cfg: &TileConfig, m: &Model, chip: &ChipPreset, tiles: u64) -> Chip {
    let clusters = tiles.div_ceil(chip.tiles_per_cluster);
    let tpc = chip.tiles_per_cluster as f64;
    Chip {
        name,
        crossbars: tiles * cfg.params.xbars as u64,
        tiles,
        crossbars_per_tile: cfg.params.xbars as u64,
        tiles_per_cluster: chip.tiles_per_cluster,
        clusters,
        adcs_per_crossbar: m.adcs,
        cycle_ns: m.cycle_ns,
        area_mm2: tiles as f64 * m.tile.area_mm2
            + clusters as f64 * m.cluster_extra.area_mm2
            + m.chip_extra.area_mm2,
        power_w: tiles as f64 * m.tile.power_w
            + clusters as f64 * m.cluster_extra.power_w
            + m.chip_extra.power_w,
        event_power_w: tiles as f64 * m.tile_event_w,
        tile: m.tile.clone(),
        cluster: Block {
            power_w: tpc * m.tile.power_w + m.cluster_extra.power_w,
            area_mm2: tpc * m.tile.area_mm2 + m.cluster_extra.area_mm2,
        },
    }
}

/// One pipeline stage: a layer's mapping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stage {
    /// Input vectors per inference.
    pub vectors: u64,
    /// Cycles per vector (slowest tile).
    pub cycles_per_vector: u64,
    /// Tiles of one copy.
    pub tiles: u64,
}

impl Stage {
    /// Cycles of one inference with `r` replicas splitting the vectors.
    pub fn cycles(&self, r: u64) -> u64 {
        self.vectors.div_ceil(r.max(1)) * self.cycles_per_vector
    }

    /// The smallest replica count above `r` that shortens the stage, if any.
    fn next(&self, r: u64) -> Option<u64> {
        let per = self.vectors.div_ceil(r);
        (per > 1 && self.tiles > 0).then(|| self.vectors.div_ceil(per - 1))
    }
}

/// Replica counts (one per stage, each >= 1) for a chip of `budget` tiles,
/// given that one copy of every stage fits. Phase 1: the slowest stage gets
/// the fewest extra replicas that shorten it while they fit (optimal for
/// the pipeline interval). Phase 2: the tiles left go to the steps that
/// cut the most latency (sum of stage cycles) per tile.
pub fn replicate(stages: &[Stage], budget: u64) -> Vec<u64> {
    let mut r = vec![1u64; stages.len()];
    let mut used: u64 = stages.iter().map(|s| s.tiles).sum();
    // Phase 1.
    while let Some(i) = (0..stages.len()).max_by_key(|&i| (stages[i].cycles(r[i]), usize::MAX - i))
    {
        let Some(nr) = stages[i].next(r[i]) else {
            break;
        };
        let cost = (nr - r[i]) * stages[i].tiles;
        if used + cost > budget {
            break;
        }
        used += cost;
        r[i] = nr;
    }
    // Phase 2.
    loop {
        let mut best: Option<(f64, usize, u64, u64)> = None;
        for (i, s) in stages.iter().enumerate() {
            let Some(nr) = s.next(r[i]) else { continue };
            let cost = (nr - r[i]) * s.tiles;
            if used + cost > budget {
                continue;
            }
            let gain = (s.cycles(r[i]) - s.cycles(nr)) as f64 / cost as f64;
            if best.is_none_or(|b| gain > b.0) {
                best = Some((gain, i, nr, cost));
            }
        }
        let Some((_, i, nr, cost)) = best else { break };
        used += cost;
        r[i] = nr;
    }
    r
}

/// One layer's place on the chip.
#[derive(Clone, Debug, Serialize)]
pub struct LayerPlacement {
    /// Layer name.
    pub name: String,
    /// Copies of the layer's mapping.
    pub replicas: u64,
    /// Tiles of all copies.
    pub tiles: u64,
    /// Cycles of one inference in this stage.
    pub stage_cycles: u64,
}

/// The slowest stage.
#[derive(Clone, Debug, Serialize)]
pub struct Bottleneck {
    /// Layer name.
    pub layer: String,
    /// Layer index (0-based, network order).
    pub index: usize,
    /// Its replicas.
    pub replicas: u64,
    /// Its stage cycles (the pipeline interval).
    pub stage_cycles: u64,
}

/// One mapping on the chip.
#[derive(Clone, Debug, Serialize)]
pub struct Placement {
    /// Whether one copy of every layer fits.
    pub fits: bool,
    /// Crossbars of one copy of every layer (what the chip must hold).
    pub crossbars_needed: u64,
    /// Tiles of one copy of every layer.
    pub tiles_needed: u64,
    /// Crossbars allocated, replicas included (0 when it does not fit).
    pub crossbars: u64,
    /// Tiles allocated, replicas included.
    pub tiles: u64,
    /// Allocated crossbars / chip crossbars.
    pub crossbar_utilization: f64,
    /// Allocated tiles / chip tiles.
    pub tile_utilization: f64,
    /// Pipeline interval (cycles of the slowest stage).
    pub interval_cycles: Option<u64>,
    /// Inferences per second.
    pub throughput_ips: Option<f64>,
    /// Latency of one inference: pipeline fill, the sum of the stage times (s).
    pub latency_s: Option<f64>,
    /// Energy per inference: dynamic (cost model) + the chip's other
    /// components for one interval (J).
    pub energy_j: Option<f64>,
    /// The dynamic part of `energy_j` (J).
    pub dynamic_energy_j: Option<f64>,
    /// The slowest stage.
    pub bottleneck: Option<Bottleneck>,
    /// Per layer (empty when it does not fit).
    pub layers: Vec<LayerPlacement>,
}

/// One chip with the three mappings placed on it.
#[derive(Clone, Debug, Serialize)]
pub struct ChipResult {
    /// The chip.
    pub chip: Chip,
    /// Each mapping on it.
    pub mappers: PerMapper<Placement>,
}

fn stages(layers: &[LayerReport], m: Mapper) -> Vec<Stage> {
    layers
        .iter()
        .map(|l| Stage {
            vectors: l.vectors,
            cycles_per_vector: l.cost[m].cycles_per_vector,
            tiles: l.cost[m].tiles,
        })
        .collect()
}

fn place(rep: &NetworkReport, m: Mapper, chip: &Chip) -> Placement {
    let st = stages(&rep.layers, m);
    let tiles_needed: u64 = st.iter().map(|s| s.tiles).sum();
    let crossbars_needed: u64 = rep.layers.iter().map(|l| l.cost[m].crossbars).sum();
    if tiles_needed > chip.tiles {
        return Placement {
            fits: false,
            crossbars_needed,
            tiles_needed,
            crossbars: 0,
            tiles: 0,
            crossbar_utilization: 0.0,
            tile_utilization: 0.0,
            interval_cycles: None,
            throughput_ips: None,
            latency_s: None,
            energy_j: None,
            dynamic_energy_j: None,
            bottleneck: None,
            layers: Vec::new(),
        };
    }
    let r = replicate(&st, chip.tiles);
    let layers: Vec<LayerPlacement> = rep
        .layers
        .iter()
        .zip(&st)
        .zip(&r)
        .map(|((l, s), &r)| LayerPlacement {
            name: l.name.clone(),
            replicas: r,
            tiles: s.tiles * r,
            stage_cycles: s.cycles(r),
        })
        .collect();
    let crossbars: u64 = rep
        .layers
        .iter()
        .zip(&r)
        .map(|(l, &r)| l.cost[m].crossbars * r)
        .sum();
    let tiles: u64 = layers.iter().map(|l| l.tiles).sum();
    let bottleneck = layers
        .iter()
        .enumerate()
        .max_by_key(|(i, l)| (l.stage_cycles, usize::MAX - i))
        .map(|(i, l)| Bottleneck {
            layer: l.name.clone(),
            index: i,
            replicas: l.replicas,
            stage_cycles: l.stage_cycles,
        });
    let interval = bottleneck.as_ref().map_or(0, |b| b.stage_cycles);
    let interval_s = interval as f64 * chip.cycle_ns * 1e-9;
    let latency_s =
        layers.iter().map(|l| l.stage_cycles).sum::<u64>() as f64 * chip.cycle_ns * 1e-9;
    let dynamic = rep.layers.iter().map(|l| l.cost[m].energy_pj).sum::<f64>() * 1e-12;
    let other_w = chip.power_w - chip.event_power_w;
    Placement {
        fits: true,
        crossbars_needed,
        tiles_needed,
        crossbars,
        tiles,
        crossbar_utilization: crossbars as f64 / chip.crossbars as f64,
        tile_utilization: tiles as f64 / chip.tiles as f64,
        interval_cycles: Some(interval),
        throughput_ips: Some(if interval_s > 0.0 {
            1.0 / interval_s
        } else {
            f64::INFINITY
        }),
        latency_s: Some(latency_s),
        energy_j: Some(dynamic + other_w * interval_s),
        dynamic_energy_j: Some(dynamic),
        bottleneck,
        layers,
    }
}

/// Place the three mappings of `rep` (mapped with `cfg`) on a chip of size
/// `size`. Never fails: a mapping that does not fit has `fits = false`.
pub fn evaluate(
    cfg: &TileConfig,
    rep: &NetworkReport,
    preset: &Preset,
    chip: &ChipPreset,
    size: ChipSize,
) -> ChipResult {
    let m = model(cfg, preset, chip);
    let tiles = match size {
        ChipSize::Full => chip.clusters * chip.tiles_per_cluster,
        ChipSize::Fit(mapper) => rep
            .layers
            .iter()
            .map(|l| l.cost[mapper].tiles)
            .sum::<u64>()
            .max(1),
        ChipSize::Crossbars(n) => n.div_ceil(cfg.params.xbars as u64),
    };
    let c = build_chip(size.name(), cfg, &m, chip, tiles);
    ChipResult {
        mappers: PerMapper::from_fn(|mp| place(rep, mp, &c)),
        chip: c,
    }
}

/// Like [`evaluate`], but an error saying how many crossbars each mapping
/// needs when none of them fits.
pub(crate) fn evaluate_fitting(
    cfg: &TileConfig,
    rep: &NetworkReport,
    preset: &Preset,
    chip: &ChipPreset,
    size: ChipSize,
) -> Result<ChipResult> {
    let r = evaluate(cfg, rep, preset, chip, size);
    if r.mappers.iter().all(|(_, p)| !p.fits) {
        let need: Vec<String> = r
            .mappers
            .iter()
            .map(|(m, p)| {
                format!(
                    "{} {} crossbars ({} tiles)",
                    m.name(),
                    p.crossbars_needed,
                    p.tiles_needed
                )
            })
            .collect();
        bail!(
            "{} does not fit chip {} ({} crossbars, {} tiles of {}) with any mapping: it needs {}",
            rep.network,
            r.chip.name,
            r.chip.crossbars,
            r.chip.tiles,
            r.chip.crossbars_per_tile,
            need.join(", ")
        );
    }
    Ok(r)
}

/// One row of the Table I check: the model against the published figure.
#[derive(Clone, Debug, Serialize)]
pub struct CheckRow {
    /// The block.
    pub block: &'static str,
    /// Model power (W).
    pub model_power_w: f64,
    /// Published power (W).
    pub paper_power_w: f64,
    /// Model area (mm^2).
    pub model_area_mm2: f64,
    /// Published area (mm^2).
    pub paper_area_mm2: f64,
}

/// The model at ISAAC's own configuration (its tile, 168 clusters) against
/// ISAAC's Table I: 12 IMAs, one tile, 168 tiles, the chip.
pub(crate) fn isaac_table1(preset: &Preset) -> Result<Vec<CheckRow>> {
    let cfg = ISAAC.tile().validate()?;
    let m = model(&cfg, preset, &ISAAC);
    let chip = build_chip("isaac".into(), &cfg, &m, &ISAAC, 168 * 12);
    let row = |block, mp: f64, pp, ma: f64, pa| CheckRow {
        block,
        model_power_w: mp,
        paper_power_w: pp,
        model_area_mm2: ma,
        paper_area_mm2: pa,
    };
    let clusters = 168.0 * chip.cluster.power_w;
    Ok(vec![
        row(
            "12 IMAs",
            12.0 * m.tile.power_w,
            0.289,
            12.0 * m.tile.area_mm2,
            0.157,
        ),
        row(
            "1 tile",
            chip.cluster.power_w,
            0.330,
            chip.cluster.area_mm2,
            0.372,
        ),
        row(
            "168 tiles",
            clusters,
            55.4,
            168.0 * chip.cluster.area_mm2,
            62.5,
        ),
        row("chip", chip.power_w, 65.8, chip.area_mm2, 85.4),
    ])
}

/// The components that enter as constants (not in the tile RTL or the
/// cost model), with their sources, as used by `chip`.
#[derive(Clone, Debug, Serialize)]
pub struct Constants {
    /// Per tile: sample-and-hold, input and output registers (scaled).
    pub tile: Vec<Component>,
    /// Per cluster.
    pub cluster: Vec<Component>,
    /// Per chip.
    pub chip: Vec<Component>,
}

/// The constants of `chip` for tile `cfg`, scaled as the model uses them.
pub fn constants(cfg: &TileConfig, chip: &ChipPreset) -> Constants {
    let p = &cfg.params;
    let n_cols = p.xbars as f64 * p.cols as f64;
    let inputs = p.inputs as f64 * p.act_bits as f64 / (1024.0 * 16.0);
    let outputs = p.outputs as f64 / 128.0;
    Constants {
        tile: vec![
            Component {
                name: "sample-and-hold, one per crossbar column",
                power_mw: n_cols * chip.sample_hold.0,
                area_mm2: n_cols * chip.sample_hold.1,
                source: chip.source,
            },
            Component {
                name: "input register (2 KB per 1024 16-bit inputs)",
                power_mw: inputs * chip.input_register.0,
                area_mm2: inputs * chip.input_register.1,
                source: chip.source,
            },
            Component {
                name: "output register (256 B per 128 outputs)",
                power_mw: outputs * chip.output_register.0,
                area_mm2: outputs * chip.output_register.1,
                source: chip.source,
            },
        ],
        cluster: chip.cluster_components.to_vec(),
        chip: chip.chip_components.to_vec(),
    }
}

/// `sme chip`'s report (schema: `docs/json.md`).
#[derive(Clone, Debug, Serialize)]
pub struct ChipReport {
    /// Network name.
    pub network: String,
    /// The chip preset's name and source.
    pub chip_preset: crate::compiler::network::PresetRef,
    /// The energy/area preset of the tile's crossbars and periphery.
    pub preset: crate::compiler::network::PresetRef,
    /// The tile parameters.
    pub config: crate::config::Params,
    /// The pattern.
    pub pattern: crate::compiler::pattern::Pattern,
    /// The chip asked for.
    pub chip: Chip,
    /// The three mappings on it.
    pub mappers: PerMapper<Placement>,
    /// Further chips (`--also`), same mappings.
    pub others: Vec<ChipResult>,
    /// Components entered as constants.
    pub constants: Constants,
    /// The model at ISAAC's configuration against ISAAC's Table I.
    pub isaac_table1: Vec<CheckRow>,
}

/// Build the report: the main chip (error when no mapping fits it) and the
/// others.
pub fn report(
    cfg: &TileConfig,
    rep: &NetworkReport,
    preset: &Preset,
    chip: &ChipPreset,
    size: ChipSize,
    also: &[ChipSize],
) -> Result<ChipReport> {
    let main = evaluate_fitting(cfg, rep, preset, chip, size)?;
    Ok(ChipReport {
        network: rep.network.clone(),
        chip_preset: crate::compiler::network::PresetRef {
            name: chip.name,
            source: chip.source,
        },
        preset: rep.preset.clone(),
        config: cfg.params.clone(),
        pattern: rep.pattern,
        chip: main.chip,
        mappers: main.mappers,
        others: also
            .iter()
            .map(|&s| evaluate(cfg, rep, preset, chip, s))
            .collect(),
        constants: constants(cfg, chip),
        isaac_table1: isaac_table1(preset)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cost::ISAAC_32NM;

    /// The model lands within 10 % of every Table I power and area.
    #[test]
    fn isaac_table1_within_ten_percent() {
        for r in isaac_table1(&ISAAC_32NM).unwrap() {
            let ep = (r.model_power_w / r.paper_power_w - 1.0).abs();
            let ea = (r.model_area_mm2 / r.paper_area_mm2 - 1.0).abs();
            assert!(ep <= 0.10, "{} power {r:?}", r.block);
            assert!(ea <= 0.10, "{} area {r:?}", r.block);
        }
    }

    /// The check can fail: a preset with 10x the ADC energy misses.
    #[test]
    fn isaac_table1_check_can_fail() {
        let hot = Preset {
            adc_pj: &[(8, 16.7)],
            ..ISAAC_32NM
        };
        let rows = isaac_table1(&hot).unwrap();
        assert!(rows[0].model_power_w > 1.1 * rows[0].paper_power_w);
    }

    /// The minimum interval over every replica assignment within budget.
    fn brute(stages: &[Stage], budget: u64) -> u64 {
        fn go(st: &[Stage], left: u64, cur: u64) -> u64 {
            let Some((s, rest)) = st.split_first() else {
                return cur;
            };
            let mut best = u64::MAX;
            let top = if s.tiles == 0 { 1 } else { s.vectors.max(1) };
            for r in 1..=top {
                if r * s.tiles > left {
                    break;
                }
                best = best.min(go(rest, left - r * s.tiles, cur.max(s.cycles(r))));
            }
            best
        }
        go(stages, budget, 0)
    }

    #[test]
    fn greedy_interval_is_optimal() {
        let mut rng = crate::testgen::Rng::new(5);
        for _ in 0..300 {
            let n = 1 + rng.below(4) as usize;
            let st: Vec<Stage> = (0..n)
                .map(|_| Stage {
                    vectors: 1 + rng.below(12),
                    cycles_per_vector: 1 + rng.below(50),
                    tiles: 1 + rng.below(3),
                })
                .collect();
            let min: u64 = st.iter().map(|s| s.tiles).sum();
            let budget = min + rng.below(12);
            let r = replicate(&st, budget);
            let used: u64 = st.iter().zip(&r).map(|(s, r)| s.tiles * r).sum();
            assert!(used <= budget);
            let interval = st.iter().zip(&r).map(|(s, &r)| s.cycles(r)).max().unwrap();
            assert_eq!(
                interval,
                brute(&st, budget),
                "{st:?} budget {budget} -> {r:?}"
            );
        }
    }

    #[test]
    fn chip_sizes_parse() {
        assert_eq!("isaac".parse::<ChipSize>(), Ok(ChipSize::Full));
        assert_eq!(
            "fit-sme".parse::<ChipSize>(),
            Ok(ChipSize::Fit(Mapper::Sme))
        );
        assert_eq!("96".parse::<ChipSize>(), Ok(ChipSize::Crossbars(96)));
        assert!("0".parse::<ChipSize>().is_err());
        assert!("big".parse::<ChipSize>().unwrap_err().contains("fit-dense"));
    }
}
