//! The bounds of one `sme verify` run and the time limits of the programs
//! it runs (`docs/limits.md`, section `verify`). Everything is checked
//! before any work, with an error that names the quantity, its value and
//! the limit.

use super::units::Work;
use crate::config::TileConfig;
use anyhow::{Result, bail};
use std::time::Duration;

/// Most `--vectors` (random vectors per program or layer), and most vectors
/// in an `--input-file`.
pub(crate) const MAX_VECTORS: usize = 100_000;
/// Most `--programs`.
pub(crate) const MAX_PROGRAMS: usize = 10_000;
/// Most tile-vector runs (every vector of every tile of every mapping, or
/// of every random program).
pub(crate) const MAX_RUNS: u64 = 2_000_000;
/// Most simulated clock cycles (programming writes, idle cycles, input
/// writes and runs).
pub(crate) const MAX_CYCLES: u64 = 2_000_000_000;
/// Most simulated clock cycles with `--trace` (a VCD grows with every
/// cycle: about 1 KB per cycle on small tiles).
pub(crate) const MAX_TRACE_CYCLES: u64 = 2_000_000;
/// Most input and output values held in memory at once (layer vectors,
/// layer outputs per mapping, random vectors): 64 Mi values.
pub(crate) const MAX_HELD_VALUES: u64 = 64 << 20;
/// Range of `--timeout-scale`.
pub(crate) const TIMEOUT_SCALE: std::ops::RangeInclusive<f64> = 0.1..=100.0;

/// Checks `--programs` and `--vectors`.
pub(crate) fn check_counts(programs: usize, vectors: usize) -> Result<()> {
    if !(1..=MAX_VECTORS).contains(&vectors) {
        bail!("--vectors {vectors}: valid 1..={MAX_VECTORS}");
    }
    if !(1..=MAX_PROGRAMS).contains(&programs) {
        bail!("--programs {programs}: valid 1..={MAX_PROGRAMS}");
    }
    Ok(())
}

/// Checks that `values` values of `what` may be held in memory.
pub(crate) fn check_held(what: &str, values: u64) -> Result<()> {
    if values > MAX_HELD_VALUES {
        bail!(
            "{what} would hold {values} values in memory; the limit is {MAX_HELD_VALUES}: \
             give fewer --vectors or --programs, or a smaller --cut"
        );
    }
    Ok(())
}

/// Checks what a layer run holds: `vectors` layer vectors of `rows`
/// inputs, and per mapping `vectors x cols` layer outputs (16 bytes each).
pub(crate) fn check_layer(vectors: usize, rows: usize, cols: usize, mappings: usize) -> Result<()> {
    let v = vectors as u64;
    check_held("the layer's input vectors", v.saturating_mul(rows as u64))?;
    check_held(
        "the layer's outputs",
        v.saturating_mul(cols as u64)
            .saturating_mul(mappings as u64)
            .saturating_mul(4),
    )
}

/// Checks the simulation work of a plan.
pub(crate) fn check_work(w: &Work, trace: bool) -> Result<()> {
    let hint = "give fewer --vectors or --programs, a smaller --cut, or one --mapper";
    if w.vectors > MAX_RUNS {
        bail!(
            "this run needs {} tile-vector runs; the limit is {MAX_RUNS}: {hint}",
            w.vectors
        );
    }
    if w.cycles > MAX_CYCLES {
        bail!(
            "this run needs about {} simulated cycles; the limit is {MAX_CYCLES}: {hint}",
            w.cycles
        );
    }
    if trace && w.cycles > MAX_TRACE_CYCLES {
        bail!(
            "--trace: this run needs about {} simulated cycles; with a trace the limit is \
             {MAX_TRACE_CYCLES} (the VCD grows with every cycle): {hint}",
            w.cycles
        );
    }
    Ok(())
}

/// Time limits of the external programs, derived from the work and scaled
/// by `scale` (`--timeout-scale`, for slow machines):
///
/// - `verilator --version`: 60 s;
/// - the testbench build (make, Verilator, the C++ compiler):
///   `600 s + 5 ms x N x X_r x X_c` (N crossbars of X_r x X_c cells);
/// - the testbench: `60 s + 20 x (simulated cycles x (1 + N m g / 64) x
///   1 us + output reads x 0.2 us)` (m x g the OU window), times 10 with
///   `--trace`.
///
/// The factor 20 over the measured speed (about 1 us per cycle on small
/// tiles) leaves room for a loaded machine; a hang is still killed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Timeouts {
    /// Multiplies every limit.
    pub scale: f64,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts { scale: 1.0 }
    }
}

impl Timeouts {
    /// Timeouts scaled by `scale`, which must be in [`TIMEOUT_SCALE`].
    pub fn new(scale: f64) -> Result<Timeouts> {
        if !TIMEOUT_SCALE.contains(&scale) {
            bail!(
                "--timeout-scale {scale}: valid {}..={}",
                TIMEOUT_SCALE.start(),
                TIMEOUT_SCALE.end()
            );
        }
        Ok(Timeouts { scale })
    }

    fn scaled(&self, secs: f64) -> Duration {
        Duration::from_secs_f64((secs * self.scale).min(1e9))
    }

    /// `verilator --version`.
    pub(crate) fn probe(&self) -> Duration {
        self.scaled(60.0)
    }

    /// Building the testbench of `cfg`.
    pub fn build(&self, cfg: &TileConfig) -> Duration {
        let p = &cfg.params;
        let cells = p.xbars as f64 * p.rows as f64 * p.cols as f64;
        self.scaled(600.0 + 0.005 * cells)
    }

    /// Running `work` on the testbench of `cfg`.
    pub(crate) fn testbench(&self, cfg: &TileConfig, work: &Work, trace: bool) -> Duration {
        let p = &cfg.params;
        let per_cycle = 1e-6 * (1.0 + p.xbars as f64 * p.ou_rows as f64 * p.ou_cols as f64 / 64.0);
        let est = work.cycles as f64 * per_cycle + work.reads as f64 * 0.2e-6;
        self.scaled(60.0 + 20.0 * est * if trace { 10.0 } else { 1.0 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::test_util::small_cfg;

    #[test]
    fn limits_name_the_value_and_the_range() {
        let e = check_counts(1, 0).unwrap_err().to_string();
        assert_eq!(e, "--vectors 0: valid 1..=100000");
        let e = check_counts(10_001, 1).unwrap_err().to_string();
        assert_eq!(e, "--programs 10001: valid 1..=10000");
        let e = check_layer(100_000, 4096, 16, 3).unwrap_err().to_string();
        assert!(e.contains("input vectors") && e.contains("limit"), "{e}");
        let big = Work {
            vectors: MAX_RUNS + 1,
            cycles: 1,
            reads: 1,
        };
        assert!(
            check_work(&big, false)
                .unwrap_err()
                .to_string()
                .contains("tile-vector runs")
        );
        let traced = Work {
            vectors: 1,
            cycles: MAX_TRACE_CYCLES + 1,
            reads: 1,
        };
        check_work(&traced, false).unwrap();
        let e = check_work(&traced, true).unwrap_err().to_string();
        assert!(e.starts_with("--trace") && e.contains("2000000"), "{e}");
        let e = Timeouts::new(0.0).unwrap_err().to_string();
        assert_eq!(e, "--timeout-scale 0: valid 0.1..=100");
        assert!(Timeouts::new(f64::NAN).is_err());
    }

    #[test]
    fn time_limits_grow_with_the_work() {
        let cfg = small_cfg();
        let t = Timeouts::default();
        let small = Work {
            vectors: 10,
            cycles: 1000,
            reads: 100,
        };
        let large = Work {
            cycles: 1_000_000_000,
            ..small
        };
        assert!(t.testbench(&cfg, &small, false) >= Duration::from_secs(60));
        assert!(t.testbench(&cfg, &large, false) > 10 * t.testbench(&cfg, &small, false));
        assert!(t.testbench(&cfg, &small, true) > t.testbench(&cfg, &small, false));
        let twice = Timeouts::new(2.0).unwrap();
        assert_eq!(twice.build(&cfg), 2 * t.build(&cfg));
    }
}
