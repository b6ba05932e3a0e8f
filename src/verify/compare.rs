//! Comparing the testbench's results with the golden ones while they
//! stream in, unit by unit and per layer mapping.

use super::units::{Layer, Unit};
use crate::compiler::map::Mapper;
use crate::config::TileConfig;
use crate::cost::{PresetName, layer_cost};
use crate::golden;
use crate::stim::{self, Comparison, Run};
use anyhow::{Context, Result, bail};
use std::io::Write;

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

/// What a testbench run gave: the total comparison, per unit results and
/// per mapping the layer outputs (per vector, per column).
pub(crate) type Outcome = (Comparison, Vec<UnitResult>, Vec<Vec<Vec<i128>>>);

/// What one unit gave.
#[derive(Clone, Debug, Default)]
pub(crate) struct UnitResult {
    /// Its comparison.
    pub(crate) cmp: Comparison,
    /// The RTL cycles of its first vector.
    pub(crate) cycles: Option<u64>,
}

/// Checks the testbench's results line by line as they arrive: each run
/// against the golden executor (computed then, not held), the tile outputs
/// summed into the layer outputs per mapping, and with `expected` the
/// golden results written out (`expected.txt`).
pub(crate) struct Checker<'a> {
    cfg: &'a TileConfig,
    units: &'a [Unit],
    layer: Option<&'a Layer>,
    expected: Option<Box<dyn Write + 'a>>,
    line: usize,
    header: bool,
    pending: Option<u64>,
    unit: usize,
    v: usize,
    per_unit: Vec<UnitResult>,
    extra: u64,
    /// Per mapping, per layer vector, the tile outputs summed into the
    /// layer's columns.
    layer_y: Vec<Vec<Vec<i128>>>,
}

impl<'a> Checker<'a> {
    /// A checker of the results of `units` (in run order).
    pub(crate) fn new(
        cfg: &'a TileConfig,
        units: &'a [Unit],
        layer: Option<&'a Layer>,
        mut expected: Option<Box<dyn Write + 'a>>,
    ) -> Result<Checker<'a>> {
        if let Some(w) = &mut expected {
            writeln!(w, "{}", stim::RESULTS_HEADER).context("writing expected.txt")?;
        }
        let layer_y = layer.map_or_else(Vec::new, |l| {
            l.mapped
                .iter()
                .map(|m| vec![vec![0; m.lp.cols]; l.job.xs.len()])
                .collect()
        });
        Ok(Checker {
            cfg,
            units,
            layer,
            expected,
            line: 0,
            header: false,
            pending: None,
            unit: 0,
            v: 0,
            per_unit: vec![UnitResult::default(); units.len()],
            extra: 0,
            layer_y,
        })
    }

    /// One line of the testbench's standard output.
    pub(crate) fn line(&mut self, l: &str) -> Result<()> {
        self.line += 1;
        let n = self.line;
        if l.trim().is_empty() {
            return Ok(());
        }
        if !self.header {
            if l.trim() != stim::RESULTS_HEADER {
                bail!(
                    "testbench results: expected the header `{}` on the first line",
                    stim::RESULTS_HEADER
                );
            }
            self.header = true;
            return Ok(());
        }
        let mut it = l.split_whitespace();
        match (it.next(), self.pending) {
            (Some("cycles"), None) => {
                let c = it.next().and_then(|v| v.parse::<u64>().ok());
                match (c, it.next()) {
                    (Some(c), None) => self.pending = Some(c),
                    _ => bail!("testbench results line {n}: expected `cycles <n>`"),
                }
            }
            (Some("out"), Some(cycles)) => {
                let outputs: Option<Vec<i128>> = it.map(|v| v.parse().ok()).collect();
                let Some(outputs) = outputs else {
                    bail!(
                        "testbench results line {n}: `out` values must be signed decimal integers"
                    );
                };
                self.pending = None;
                self.run(Run { cycles, outputs })?;
            }
            _ => bail!(
                "testbench results line {n}: expected {}",
                if self.pending.is_some() {
                    "`out ...` after `cycles`"
                } else {
                    "`cycles <n>`"
                }
            ),
        }
        Ok(())
    }

    /// One run of the RTL.
    fn run(&mut self, a: Run) -> Result<()> {
        while self.unit < self.units.len() && self.v >= self.units[self.unit].len {
            self.unit += 1;
            self.v = 0;
        }
        let Some(u) = self.units.get(self.unit) else {
            self.extra += 1;
            return Ok(());
        };
        let e = u.expected(self.cfg, self.layer, self.v);
        if let Some(w) = &mut self.expected {
            w.write_all(stim::run_text(&e).as_bytes())
                .context("writing expected.txt")?;
        }
        let r = &mut self.per_unit[self.unit];
        r.cmp.check_run(&u.label, self.v, &e, &a);
        r.cycles.get_or_insert(a.cycles);
        if let (Some(layer), super::units::Inputs::Layer { mapping, tile }) =
            (self.layer, &u.inputs)
        {
            let t = &layer.mapped[*mapping].lp.tiles[*tile];
            let y = &mut self.layer_y[*mapping][self.v];
            for (o, &col) in t.output_map.iter().enumerate() {
                y[col as usize] += a.outputs.get(o).copied().unwrap_or(0);
            }
        }
        self.v += 1;
        Ok(())
    }

    /// The total comparison, per unit results and the layer outputs per
    /// mapping. Missing results count as mismatches; with `expected` the
    /// golden results of vectors the RTL did not give are written too.
    pub(crate) fn finish(mut self) -> Result<Outcome> {
        if self.pending.is_some() {
            bail!("testbench results: the last `cycles` line has no `out` line");
        }
        let mut total = Comparison::default();
        for (i, u) in self.units.iter().enumerate() {
            let done = if i < self.unit {
                u.len
            } else if i == self.unit {
                self.v
            } else {
                0
            };
            let r = &mut self.per_unit[i];
            for v in done..u.len {
                let e = u.expected(self.cfg, self.layer, v);
                if let Some(w) = &mut self.expected {
                    w.write_all(stim::run_text(&e).as_bytes())
                        .context("writing expected.txt")?;
                }
                r.cmp.missing_run(&u.label, v, &e);
            }
            total.add(&r.cmp);
        }
        if self.extra > 0 {
            total.mismatches += self.extra;
            total
                .details
                .push(format!("{} more results than expected", self.extra));
        }
        if let Some(w) = &mut self.expected {
            w.flush().context("writing expected.txt")?;
        }
        Ok((total, self.per_unit, self.layer_y))
    }
}

/// Per-mapper summary of a layer run; also checks the tile sums against the
/// integer product (lossless) or the golden layer result (lossy).
pub(crate) fn summarize_layer(
    cfg: &TileConfig,
    layer: &Layer,
    per_unit: &[UnitResult],
    layer_y: Vec<Vec<Vec<i128>>>,
) -> Vec<MapperRun> {
    let isaac = PresetName::Isaac32.preset();
    let job = &layer.job;
    let mut out = Vec::new();
    for (m, layer_y) in layer.mapped.iter().zip(layer_y) {
        let lp = &m.lp;
        let nvec = job.xs.len();
        let (mut seq, mut par) = (0u64, 0u64);
        let mut mismatches = 0;
        for r in &per_unit[m.units.clone()] {
            mismatches += r.cmp.mismatches;
            // Per-vector cycles of this tile (all vectors take the same).
            let c = r.cycles.unwrap_or(0);
            seq += c;
            par = par.max(c);
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
            mapper: m.mapper,
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

    fn check(units: &[Unit], runs: &[Run]) -> (Comparison, Vec<UnitResult>, String) {
        let cfg = small_cfg();
        let mut exp = Vec::new();
        let mut c = Checker::new(&cfg, units, None, Some(Box::new(&mut exp))).unwrap();
        for l in stim::results_text(runs).lines() {
            c.line(l).unwrap();
        }
        let (t, per, _) = c.finish().unwrap();
        (t, per, String::from_utf8(exp).unwrap())
    }

    #[test]
    fn checker_splits_runs_by_unit_and_writes_the_expected_results() {
        let cfg = small_cfg();
        let units = random_units(&cfg, 5, 2, 2);
        let good: Vec<Run> = units
            .iter()
            .flat_map(|u| (0..u.len).map(|v| u.expected(&cfg, None, v)))
            .collect();
        let (total, per, exp) = check(&units, &good);
        assert!(total.ok(), "{total:?}");
        assert_eq!(total.vectors, good.len() as u64);
        assert_eq!(per.len(), units.len());
        assert!(per.iter().all(|r| r.cmp.ok() && r.cmp.vectors == 2));
        assert_eq!(exp, stim::results_text(&good));

        // A missing result fails the last unit (and is still expected); an
        // extra one is counted; a wrong output names unit and vector.
        let (short, per, exp) = check(&units, &good[..good.len() - 1]);
        assert!(!short.ok());
        assert_eq!(per.last().unwrap().cmp.mismatches, 1);
        assert_eq!(exp, stim::results_text(&good));
        let mut long = good.clone();
        long.push(good[0].clone());
        let (extra, _, _) = check(&units, &long);
        assert_eq!(extra.mismatches, 1);
        assert!(
            extra
                .details
                .iter()
                .any(|d| d == "1 more results than expected")
        );
        let mut bad = good.clone();
        bad[3].outputs[0] += 1;
        let (wrong, _, _) = check(&units, &bad);
        assert_eq!(wrong.mismatches, 1);
        assert!(
            wrong.details[0].starts_with(&format!("{}: vector 1: output 0", units[1].label)),
            "{:?}",
            wrong.details
        );
    }

    #[test]
    fn checker_rejects_malformed_results() {
        let cfg = small_cfg();
        let units = random_units(&cfg, 5, 1, 1);
        let mut c = Checker::new(&cfg, &units, None, None).unwrap();
        let e = c.line("garbage").unwrap_err().to_string();
        assert!(e.contains("header `sme-out 1`"), "{e}");
        let mut c = Checker::new(&cfg, &units, None, None).unwrap();
        c.line("sme-out 1").unwrap();
        let e = c.line("cycles x").unwrap_err().to_string();
        assert!(e.contains("line 2") && e.contains("`cycles <n>`"), "{e}");
        c.line("cycles 5").unwrap();
        assert!(
            c.finish()
                .unwrap_err()
                .to_string()
                .contains("no `out` line")
        );
    }
}
