//! Cost model: crossbars, OU ops, cycles, ADC conversions, energy and area of
//! a compiled layer, with named energy/area presets that cite their sources.
//!
//! Cycles are exactly the cycles the generated RTL takes (see
//! [`crate::golden::cycles`]): per input vector, the slowest tile of the
//! layer (tiles run concurrently) takes `steps x longest op list + latency`.
//! A layer's cycles for one inference are `vectors x` that (the input vectors
//! of a conv are its output pixels; input loading and output reading are not
//! counted).

use crate::config::TileConfig;
use crate::golden;
use crate::program::{LayerProgram, TileProgram};
use serde::Serialize;

/// Energy/area figures of one technology, each with its source.
#[derive(Clone, Debug, Serialize)]
pub struct Preset {
    /// Preset name (`--preset`).
    pub name: &'static str,
    /// Where the figures come from.
    pub source: &'static str,
    /// ADC energy (pJ per conversion) by resolution, (bits, pJ); interpolated
    /// linearly, extrapolated from the nearest two points.
    pub adc_pj: &'static [(u32, f64)],
    /// ADC area (um^2) by resolution.
    pub adc_um2: &'static [(u32, f64)],
    /// DAC energy per row drive per DAC bit (pJ).
    pub dac_pj_per_bit: f64,
    /// DAC area per row per DAC bit (um^2).
    pub dac_um2_per_bit: f64,
    /// Crossbar read energy per cell-activation (pJ): one cell of one OU read.
    pub cell_read_pj: f64,
    /// Crossbar area per cell (um^2).
    pub cell_um2: f64,
    /// Shift-and-add energy per ADC conversion (pJ).
    pub shift_add_pj: f64,
    /// Shift-and-add area per ADC lane (um^2).
    pub shift_add_um2: f64,
}

/// ISAAC 32 nm (Shafiee et al., ISCA 2016), component values as tabulated in
/// the Accelergy hwcomponents library (isaac.py): ADC 4-8 b; DAC 1 b 0.417 pJ,
/// 0.166 um^2; shift-and-add 0.021 pJ, 60 um^2; crossbar 128x128 2-bit cells
/// 0.3 mW over a 128 ns read (PUMA constants), 25 um^2.
pub const ISAAC_32NM: Preset = Preset {
    name: "isaac32",
    source: "ISAAC 32 nm (ISCA 2016) via Accelergy isaac.py and PUMA crossbar constants",
    adc_pj: &[(4, 0.79), (5, 0.99), (6, 1.20), (7, 1.42), (8, 1.67)],
    adc_um2: &[(4, 361.0), (5, 477.0), (6, 627.0), (7, 845.0), (8, 1200.0)],
    dac_pj_per_bit: 0.417,
    dac_um2_per_bit: 0.166,
    // 0.3 mW x 128 ns = 38.4 pJ per full 128x128 read.
    cell_read_pj: 0.3e-3 * 128e-9 / 16384.0 * 1e12,
    cell_um2: 25.0 / 16384.0,
    shift_add_pj: 0.021,
    shift_add_um2: 60.0,
};

/// NeuroSim 22 nm SAR ADC (DNN+NeuroSim V1.4 SarADC model: about 42 fJ at
/// 5 b and 78 fJ at 8 b); every other component as in [`ISAAC_32NM`]
/// (NeuroSim's own array/periphery numbers are not in REFERENCES.md).
pub(crate) const NEUROSIM_22NM: Preset = Preset {
    name: "neurosim22",
    source: "ADC: DNN+NeuroSim V1.4 SarADC 22 nm; other components: ISAAC 32 nm (Accelergy isaac.py, PUMA)",
    adc_pj: &[(5, 0.042), (8, 0.078)],
    ..ISAAC_32NM
};

/// The energy/area presets by name (`--preset`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum PresetName {
    /// [`ISAAC_32NM`].
    #[default]
    Isaac32,
    /// [`NEUROSIM_22NM`].
    Neurosim22,
}

impl PresetName {
    /// The figures of this preset.
    pub fn preset(self) -> &'static Preset {
        match self {
            PresetName::Isaac32 => &ISAAC_32NM,
            PresetName::Neurosim22 => &NEUROSIM_22NM,
        }
    }
}

fn interp(table: &[(u32, f64)], bits: u32) -> f64 {
    if table.len() == 1 {
        return table[0].1;
    }
    let x = bits as f64;
    // Segment containing x, or the nearest end segment.
    let i = table
        .windows(2)
        .position(|w| x <= w[1].0 as f64)
        .unwrap_or(table.len() - 2);
    let (x0, y0) = (table[i].0 as f64, table[i].1);
    let (x1, y1) = (table[i + 1].0 as f64, table[i + 1].1);
    (y0 + (y1 - y0) * (x - x0) / (x1 - x0)).max(0.0)
}

impl Preset {
    /// Energy of one ADC conversion at `bits` (pJ).
    pub(crate) fn adc_energy(&self, bits: u32) -> f64 {
        interp(self.adc_pj, bits)
    }

    /// Area of one ADC at `bits` (um^2).
    pub(crate) fn adc_area(&self, bits: u32) -> f64 {
        interp(self.adc_um2, bits)
    }
}

/// Costs of one mapping of one layer for one inference.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Cost {
    /// Physical crossbars allocated.
    pub crossbars: u64,
    /// Tiles.
    pub tiles: u64,
    /// OU ops per input vector (all crossbars, all steps).
    pub ops_per_vector: u64,
    /// Longest op list over all crossbars (ops per step).
    pub makespan_ops: u64,
    /// Cycles per input vector (the slowest tile; what the RTL takes).
    pub cycles_per_vector: u64,
    /// Cycles for one inference: vectors x cycles per vector.
    pub cycles: u64,
    /// ADC conversions for one inference.
    pub adc_conversions: u64,
    /// DAC row drives for one inference.
    pub dac_drives: u64,
    /// Energy for one inference (pJ).
    pub energy_pj: f64,
    /// Area of the allocated crossbars with their periphery (um^2).
    pub area_um2: f64,
}

impl Cost {
    /// Add another layer's costs (cycles add: layers run one after another).
    /// Counts saturate at `u64::MAX` instead of wrapping ([`Cost::saturated`]).
    pub fn add(&mut self, o: &Cost) {
        self.crossbars = self.crossbars.saturating_add(o.crossbars);
        self.tiles = self.tiles.saturating_add(o.tiles);
        self.ops_per_vector = self.ops_per_vector.saturating_add(o.ops_per_vector);
        self.makespan_ops = self.makespan_ops.max(o.makespan_ops);
        self.cycles_per_vector = self.cycles_per_vector.saturating_add(o.cycles_per_vector);
        self.cycles = self.cycles.saturating_add(o.cycles);
        self.adc_conversions = self.adc_conversions.saturating_add(o.adc_conversions);
        self.dac_drives = self.dac_drives.saturating_add(o.dac_drives);
        self.energy_pj += o.energy_pj;
        self.area_um2 += o.area_um2;
    }

    /// The names of the counts that reached `u64::MAX` (saturated: the true
    /// value does not fit 64 bits), empty if none did.
    pub(crate) fn saturated(&self) -> Vec<&'static str> {
        [
            ("crossbars", self.crossbars),
            ("tiles", self.tiles),
            ("ops_per_vector", self.ops_per_vector),
            ("makespan_ops", self.makespan_ops),
            ("cycles_per_vector", self.cycles_per_vector),
            ("cycles", self.cycles),
            ("adc_conversions", self.adc_conversions),
            ("dac_drives", self.dac_drives),
        ]
        .into_iter()
        .filter(|(_, v)| *v == u64::MAX)
        .map(|(n, _)| n)
        .collect()
    }
}

/// The counts of a layer's tile programs that the cost model reads (a
/// program's cells never change a count). Tiles add up with [`add_tile`];
/// two parts of a layer merge with [`merge`]. Counts are u64: a layer's ops
/// per vector stay far below 2^64 for every tile the config allows.
///
/// [`add_tile`]: LayerStats::add_tile
/// [`merge`]: LayerStats::merge
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LayerStats {
    /// Tiles.
    pub tiles: u64,
    /// Physical crossbars.
    pub xbars: u64,
    /// OU ops over all crossbars (per activation step).
    pub ops: u64,
    /// Valid output entries over all ops (ADC conversions per step).
    pub conversions: u64,
    /// Valid input entries over all ops (DAC row drives per step).
    pub drives: u64,
    /// Longest op list of any crossbar.
    pub makespan: u64,
    /// Cycles per vector of the slowest tile ([`golden::cycles`]).
    pub cycles_per_vector: u64,
}

impl LayerStats {
    /// Count one tile program.
    pub(crate) fn add_tile(&mut self, cfg: &TileConfig, prog: &TileProgram) {
        self.tiles += 1;
        self.xbars += prog.xbars.len() as u64;
        for xb in &prog.xbars {
            self.ops += xb.ops.len() as u64;
            for op in &xb.ops {
                self.conversions += op.outputs.iter().filter(|o| o.is_some()).count() as u64;
                self.drives += op.inputs.iter().filter(|i| i.is_some()).count() as u64;
            }
        }
        self.makespan = self.makespan.max(prog.max_ops() as u64);
        self.cycles_per_vector = self.cycles_per_vector.max(golden::cycles(cfg, prog));
    }

    /// The stats of two disjoint parts of a layer (tiles run concurrently).
    pub(crate) fn merge(self, o: LayerStats) -> LayerStats {
        LayerStats {
            tiles: self.tiles + o.tiles,
            xbars: self.xbars + o.xbars,
            ops: self.ops + o.ops,
            conversions: self.conversions + o.conversions,
            drives: self.drives + o.drives,
            makespan: self.makespan.max(o.makespan),
            cycles_per_vector: self.cycles_per_vector.max(o.cycles_per_vector),
        }
    }

    /// The cost of `vectors` input vectors. Totals that would not fit 64
    /// bits saturate at `u64::MAX` (a shape that large is refused on import).
    pub fn cost(&self, cfg: &TileConfig, vectors: u64, preset: &Preset) -> Cost {
        let p = &cfg.params;
        let steps = cfg.derived.steps as u64;
        let per_run = |n: u64| mul3(n, steps, vectors);
        let adc_conversions = per_run(self.conversions);
        let dac_drives = per_run(self.drives);
        let ou_cells = per_run(self.ops) as f64 * (p.ou_rows * p.ou_cols) as f64;
        let energy_pj = adc_conversions as f64
            * (preset.adc_energy(p.adc_bits) + preset.shift_add_pj)
            + dac_drives as f64 * preset.dac_pj_per_bit * p.dac_bits as f64
            + ou_cells * preset.cell_read_pj * (p.cell_bits as f64 / 2.0).max(0.5);
        let per_xbar_area = (p.rows * p.cols) as f64 * preset.cell_um2 * (p.cell_bits as f64 / 2.0)
            + p.ou_cols as f64 * (preset.adc_area(p.adc_bits) + preset.shift_add_um2)
            + p.rows as f64 * preset.dac_um2_per_bit * p.dac_bits as f64;
        Cost {
            crossbars: self.xbars,
            tiles: self.tiles,
            ops_per_vector: self.ops.saturating_mul(steps),
            makespan_ops: self.makespan,
            cycles_per_vector: self.cycles_per_vector,
            cycles: self.cycles_per_vector.saturating_mul(vectors),
            adc_conversions,
            dac_drives,
            energy_pj,
            area_um2: self.xbars as f64 * per_xbar_area,
        }
    }
}

/// `a * b * c` in 128 bits, saturated to `u64::MAX`.
fn mul3(a: u64, b: u64, c: u64) -> u64 {
    let p = (a as u128) * (b as u128);
    u64::try_from(p.saturating_mul(c as u128)).unwrap_or(u64::MAX)
}

/// Cost of a compiled layer for `vectors` input vectors.
pub fn layer_cost(cfg: &TileConfig, lp: &LayerProgram, vectors: u64, preset: &Preset) -> Cost {
    let mut s = LayerStats::default();
    for t in &lp.tiles {
        s.add_tile(cfg, &t.program);
    }
    s.cost(cfg, vectors, preset)
}

/// Speedup of `x` over `base` at equal crossbar budget: the ratio of
/// throughput per crossbar, `(cycles_base x crossbars_base) / (cycles_x x
/// crossbars_x)`. It is the throughput ratio when both mappings are given the
/// same number of crossbars and replicate their weights to fill it.
pub(crate) fn speedup_equal_budget(base: &Cost, x: &Cost) -> f64 {
    let b = base.cycles as f64 * base.crossbars as f64;
    let s = x.cycles as f64 * x.crossbars as f64;
    if s == 0.0 { f64::INFINITY } else { b / s }
}

/// Peak power and area of one tile's crossbars and their periphery (the
/// parts of the tile this cost model has figures for), every crossbar
/// running one OU op per cycle.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct TilePeak {
    /// Crossbar arrays: power (mW) at one OU read per crossbar per cycle.
    pub crossbar_mw: f64,
    /// ADCs: `g` conversions per crossbar per cycle (mW).
    pub adc_mw: f64,
    /// DACs: `m` row drives of D bits per crossbar per cycle (mW).
    pub dac_mw: f64,
    /// Shift-and-add: one per conversion (mW).
    pub shift_add_mw: f64,
    /// Crossbar arrays area (um^2).
    pub crossbar_um2: f64,
    /// ADC area: `adcs_per_xbar` ADCs per crossbar (um^2).
    pub adc_um2: f64,
    /// DAC area: one D-bit DAC per row (um^2).
    pub dac_um2: f64,
    /// Shift-and-add area: one unit per ADC (um^2).
    pub shift_add_um2: f64,
}

impl TilePeak {
    /// Total power (mW).
    pub(crate) fn power_mw(&self) -> f64 {
        self.crossbar_mw + self.adc_mw + self.dac_mw + self.shift_add_mw
    }

    /// Total area (um^2).
    pub(crate) fn area_um2(&self) -> f64 {
        self.crossbar_um2 + self.adc_um2 + self.dac_um2 + self.shift_add_um2
    }
}

/// Peak power and area of one tile of `cfg` at `cycle_ns` per OU op, with
/// `adcs_per_xbar` ADCs shared by each crossbar's OU columns (ISAAC: one
/// 1.28 GS/s ADC converts a 128-column read in 100 ns). Per-event energies
/// are exactly those of [`layer_cost`] (an OU op of m x g cells, g
/// conversions, m drives), so `power x time` at full activity equals
/// `layer_cost`'s energy of the same ops.
pub(crate) fn tile_peak(
    cfg: &TileConfig,
    preset: &Preset,
    cycle_ns: f64,
    adcs_per_xbar: u32,
) -> TilePeak {
    let p = &cfg.params;
    let n = p.xbars as f64;
    // pJ per ns = mW.
    let per_cycle = |pj: f64| n * pj / cycle_ns;
    let ou_cells = (p.ou_rows * p.ou_cols) as f64;
    let cell_scale = (p.cell_bits as f64 / 2.0).max(0.5);
    TilePeak {
        crossbar_mw: per_cycle(ou_cells * preset.cell_read_pj * cell_scale),
        adc_mw: per_cycle(p.ou_cols as f64 * preset.adc_energy(p.adc_bits)),
        dac_mw: per_cycle(p.ou_rows as f64 * preset.dac_pj_per_bit * p.dac_bits as f64),
        shift_add_mw: per_cycle(p.ou_cols as f64 * preset.shift_add_pj),
        crossbar_um2: n * (p.rows * p.cols) as f64 * preset.cell_um2 * (p.cell_bits as f64 / 2.0),
        adc_um2: n * adcs_per_xbar as f64 * preset.adc_area(p.adc_bits),
        dac_um2: n * p.rows as f64 * preset.dac_um2_per_bit * p.dac_bits as f64,
        shift_add_um2: n * adcs_per_xbar as f64 * preset.shift_add_um2,
    }
}

/// ISAAC's input register per 1024 entries of 16 bits (2 KB): (mW, mm^2),
/// Table I (Shafiee et al., ISCA 2016; docs/references.md). Used by the
/// chip preset ([`crate::chip::ISAAC`]) and the ASIC memory macros.
pub const ISAAC_INPUT_REGISTER: (f64, f64) = (1.24, 0.0021);

/// ISAAC's ADC sample rate (GS/s; one ADC per crossbar), Table I. Used by the
/// chip preset ([`crate::chip::ISAAC`]) and for ISAAC's cycle below.
pub const ISAAC_ADC_GSPS: f64 = 1.28;

/// ISAAC's cycle: a 128-column crossbar read through its one ADC (ns): 100.
pub const ISAAC_CYCLE_NS: f64 = 128.0 / ISAAC_ADC_GSPS;

/// Area and read energy of the hard macros of `sme gen --target asic`
/// (their Liberty views). The crossbar macro holds the cells, one D-bit DAC
/// per row and one ADC per OU column (the same per-crossbar area as
/// [`LayerStats::cost`] without the shift-and-add, which is standard-cell
/// logic); a read is one OU op (m x g cells, m drives, g conversions, as in
/// [`tile_peak`]). Memories: ISAAC's 2 KB input register (Table I area and
/// power over its 100 ns cycle, [`ISAAC_INPUT_REGISTER`]) per bit.
pub fn asic_macros(cfg: &TileConfig, preset: &Preset) -> crate::rtlgen::MacroCosts {
    let p = &cfg.params;
    let cell_scale = p.cell_bits as f64 / 2.0;
    let input_register = ISAAC_INPUT_REGISTER;
    let bits = 2.0 * 1024.0 * 8.0;
    let cycle_ns = ISAAC_CYCLE_NS;
    crate::rtlgen::MacroCosts {
        xbar_source: format!("{} ({})", preset.name, preset.source),
        xbar_um2: (p.rows * p.cols) as f64 * preset.cell_um2 * cell_scale
            + p.ou_cols as f64 * preset.adc_area(p.adc_bits)
            + p.rows as f64 * preset.dac_um2_per_bit * p.dac_bits as f64,
        xbar_read_pj: (p.ou_rows * p.ou_cols) as f64 * preset.cell_read_pj * cell_scale.max(0.5)
            + p.ou_cols as f64 * preset.adc_energy(p.adc_bits)
            + p.ou_rows as f64 * preset.dac_pj_per_bit * p.dac_bits as f64,
        ram_source: format!(
            "ISAAC 2 KB input register, Table I: {} mm^2, {} mW over its {} ns cycle, per bit",
            input_register.1, input_register.0, cycle_ns
        ),
        ram_um2_per_bit: input_register.1 * 1e6 / bits,
        ram_read_pj_per_bit: input_register.0 * cycle_ns / bits,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_saturate_instead_of_wrapping() {
        assert_eq!(mul3(1 << 40, 1 << 30, 16), u64::MAX);
        assert_eq!(mul3(3, 4, 5), 60);
        let mut c = Cost {
            cycles: u64::MAX - 1,
            crossbars: 5,
            ..Cost::default()
        };
        assert!(c.saturated().is_empty());
        c.add(&Cost {
            cycles: 10,
            crossbars: 1,
            ..Cost::default()
        });
        assert_eq!(c.cycles, u64::MAX);
        assert_eq!(c.crossbars, 6);
        assert_eq!(c.saturated(), vec!["cycles"]);
    }
}
