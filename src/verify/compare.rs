//! Comparing the testbench's results with the golden ones, unit by unit and
//! per layer mapping.

use super::units::{LayerJob, MappedLayer, Unit};
use crate::compiler::map::Mapper;
use crate::config::TileConfig;
use crate::cost::{PresetName, layer_cost};
use crate::golden;
use crate::stim::{self, Comparison, Run};

/// One mapping of a layer on the RTL.
#[derive(Clone, Debug, serde::Serialize)]
pub struct MapperRun {
    /// Mapper name.
    pub mapper: Mapper,
    /// Tiles of the mapping.
    pub tiles: usize,
    /// Physical crossbars allocated.
    pub crossbars: u64,
    /// RTL cycles per vector with every tile run one after another on one
    /// physical tile (sum over tiles; reprogramming not counted).
    pub rtl_cycles_one_tile: u64,
    /// RTL cycles per vector with the tiles side by side (slowest tile).
    pub rtl_cycles_parallel: u64,
    /// Programming-port writes that load all of the mapping's tile programs
    /// (one write per cycle while the port is ready): the reload traffic when
    /// the tiles share one physical tile.
    pub load_writes: u64,
    /// The cost model's cycles per vector (slowest tile).
    pub cost_cycles_per_vector: u64,
    /// Vectors run per tile.
    pub vectors: usize,
    /// Output or cycle mismatches on this mapping.
    pub mismatches: u64,
    /// Layer vectors whose tile sum differs from the exact `x W` (lossless
    /// ADC) or the golden layer result (lossy ADC).
    pub layer_mismatches: u64,
    /// The RTL's layer outputs per vector (tile outputs summed into the
    /// layer's columns).
    #[serde(skip)]
    pub layer_outputs: Vec<Vec<i128>>,
}

/// Splits `actual` by unit and compares each with its expected results;
/// returns the total and, per unit, its comparison and its runs (fewer than
/// expected if the RTL gave fewer).
pub(crate) fn compare_units<'a>(
    units: &[Unit],
    actual: &'a [Run],
) -> (Comparison, Vec<(Comparison, &'a [Run])>) {
    let mut total = Comparison::default();
    let mut per = Vec::new();
    let mut at = 0;
    for u in units {
        let n = u.expected.len();
        let slice = &actual[at.min(actual.len())..(at + n).min(actual.len())];
        let c = stim::compare(&u.label, &u.expected, slice);
        total.add(&c);
        per.push((c, slice));
        at += n;
    }
    if actual.len() > at {
        total.mismatches += (actual.len() - at) as u64;
        total
            .details
            .push(format!("{} more results than expected", actual.len() - at));
    }
    (total, per)
}

/// Per-mapper summary of a layer run; also checks the tile sums against the
/// integer product (lossless) or the golden layer result (lossy).
pub(crate) fn summarize_layer(
    cfg: &TileConfig,
    job: &LayerJob,
    mapped: &[MappedLayer],
    per_unit: &[(Comparison, &[Run])],
) -> Vec<MapperRun> {
    let isaac = PresetName::Isaac32.preset();
    let mut per_unit = per_unit.iter();
    let mut out = Vec::new();
    for (m, lp, units) in mapped {
        let nvec = job.xs.len();
        let mut layer_y: Vec<Vec<i128>> = vec![vec![0; lp.cols]; nvec];
        let (mut seq, mut par) = (0u64, 0u64);
        let mut mismatches = 0;
        for (tile, (cmp, runs)) in lp.tiles.iter().zip(per_unit.by_ref().take(units.len())) {
            mismatches += cmp.mismatches;
            // Per-vector cycles of this tile (all vectors take the same).
            let c = runs.first().map_or(0, |r| r.cycles);
            seq += c;
            par = par.max(c);
            for (v, r) in runs.iter().enumerate() {
                for (o, &col) in tile.output_map.iter().enumerate() {
                    layer_y[v][col as usize] += r.outputs.get(o).copied().unwrap_or(0);
                }
            }
        }
        let layer_mismatches = job
            .xs
            .iter()
            .zip(&layer_y)
            .filter(|(x, y)| {
                let want = if cfg.derived.adc_lossless {
                    job.w.matvec(x)
                } else {
                    golden::execute_layer(cfg, lp, x)
                };
                &want != *y
            })
            .count() as u64;
        let cost = layer_cost(cfg, lp, 1, isaac);
        out.push(MapperRun {
            mapper: *m,
            tiles: lp.tiles.len(),
            crossbars: cost.crossbars,
            rtl_cycles_one_tile: seq,
            rtl_cycles_parallel: par,
            load_writes: lp
                .tiles
                .iter()
                .map(|t| crate::program::program_writes(cfg, &t.program).len() as u64)
                .sum(),
            cost_cycles_per_vector: cost.cycles_per_vector,
            vectors: nvec,
            mismatches,
            layer_mismatches,
            layer_outputs: layer_y,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::test_util::small_cfg;
    use crate::verify::units::random_units;

    #[test]
    fn compare_units_splits_runs_by_unit() {
        let cfg = small_cfg();
        let units = random_units(&cfg, 5, 2, 2);
        let good: Vec<Run> = units.iter().flat_map(|u| u.expected.clone()).collect();
        let (total, per) = compare_units(&units, &good);
        assert!(total.ok());
        assert_eq!(total.vectors, good.len() as u64);
        assert_eq!(per.len(), units.len());
        assert!(per.iter().all(|(c, r)| c.ok() && r.len() == 2));

        // A missing result fails the last unit; an extra one is counted.
        let (short, per) = compare_units(&units, &good[..good.len() - 1]);
        assert!(!short.ok());
        assert_eq!(per.last().unwrap().1.len(), 1);
        let mut long = good.clone();
        long.push(good[0].clone());
        let (extra, _) = compare_units(&units, &long);
        assert_eq!(extra.mismatches, 1);
        assert!(
            extra
                .details
                .iter()
                .any(|d| d == "1 more results than expected")
        );
    }
}
