//! `sme verify`: run compiled or random programs on the generated RTL and
//! compare with the golden executor, without linking any model into `sme`.
//!
//! The RTL and the standalone testbench (`sim/sme_tb.cpp`, built by the
//! generated `sme_tb.mk`) are verilated at run time into a cache directory
//! keyed by the generated files and the Verilator version, so the next call
//! with the same config reuses the binary. STIM files go to the testbench, its
//! results come back and are compared run by run: outputs with the golden
//! executor, cycles with the cycle model (which is also the cost model's), and
//! for layers the sum over tiles with the integer product `x W` (lossless
//! ADC) or the golden layer result (lossy ADC).

mod compare;
mod layer;
pub mod limits;
pub mod network;
mod process;
mod testbench;
mod units;

pub use compare::MapperRun;
pub use layer::{LayerWeights, cut};
pub use limits::Timeouts;
pub use process::{Busy, busy, cancel, cancelled};
pub use testbench::{Testbench, build_testbench, default_cache_dir, verilator_version};

use crate::compiler::map::Mapper;
use crate::config::{Params, TileConfig};
use crate::progress::Progress;
use crate::stim::Comparison;
use crate::testgen::{self, InputMode, Rng};
use anyhow::{Context, Result, bail};
use compare::summarize_layer;
use layer::{load_layer, read_inputs};
use serde::Serialize;
use std::path::{Path, PathBuf};
use testbench::run_testbench;
use units::{Layer, LayerJob, Unit, Work, layer_units, random_units};

/// One layer to verify: its weights, cut to a top-left block, and its input
/// vectors.
#[derive(Clone, Debug)]
pub struct LayerRequest {
    /// Where the weights come from.
    pub weights: LayerWeights,
    /// Layer name.
    pub layer: String,
    /// Cut the layer to its top-left `rows x cols` block.
    pub cut: (usize, usize),
    /// Input vectors from a file (one per line), instead of `vectors` random
    /// ones.
    pub input_file: Option<PathBuf>,
    /// The mappings to run.
    pub mappers: Vec<Mapper>,
    /// What the mappers optimize inside a tile (`--objective`).
    pub objective: crate::compiler::map::Objective,
}

/// What `sme verify` runs.
#[derive(Clone, Debug)]
pub enum VerifyRequest {
    /// `programs` random programs (mapped random weights and fully random
    /// programs), `vectors` each.
    Random {
        /// Programs.
        programs: usize,
        /// Vectors per program.
        vectors: usize,
        /// Seed of programs, vectors and idle cycles.
        seed: u64,
    },
    /// Every tile of every requested mapping of one layer.
    Layer {
        /// The layer.
        layer: LayerRequest,
        /// Random vectors (without an input file).
        vectors: usize,
        /// Seed of the vectors, idle cycles and synthetic weights.
        seed: u64,
    },
}

/// The units to run, with what the user should be told about them.
pub struct Plan {
    units: Vec<Unit>,
    layer: Option<Layer>,
    seed: u64,
    work: Work,
    /// One line describing the run.
    pub header: String,
    /// The pattern and k of a weights file, when the layer came from one.
    pub file_pattern: Option<(String, u32)>,
}

/// Plan a verification: build the stimulus units (programs, vectors, idle
/// cycles; golden results are computed while the RTL's stream in). Refuses
/// work beyond the [`limits`] before generating it.
pub(crate) fn plan(cfg: &TileConfig, req: &VerifyRequest) -> Result<Plan> {
    let plan = match req {
        &VerifyRequest::Random {
            programs,
            vectors,
            seed,
        } => {
            limits::check_counts(programs, vectors)?;
            // Mapped programs run up to two tiles, each with its own vectors.
            limits::check_held(
                "the random input vectors",
                2 * programs as u64 * vectors as u64 * cfg.params.inputs as u64,
            )?;
            Plan {
                units: random_units(cfg, seed, programs, vectors),
                layer: None,
                seed,
                work: Work::default(),
                header: format!(
                    "sme verify: {programs} random programs x {vectors} vectors, seed {seed}, tile {}",
                    cfg.tag()
                ),
                file_pattern: None,
            }
        }
        VerifyRequest::Layer {
            layer: lr,
            vectors,
            seed,
        } => {
            let loaded = load_layer(cfg, &lr.weights, &lr.layer)?;
            let full = (loaded.w.rows, loaded.w.cols);
            let w = cut(&loaded.w, lr.cut.0, lr.cut.1);
            let xs = match &lr.input_file {
                Some(path) => read_inputs(path, w.rows, cfg.max_act())?,
                None => {
                    limits::check_counts(1, *vectors)?;
                    limits::check_layer(*vectors, w.rows, w.cols, lr.mappers.len())?;
                    let mut rng = Rng::new(*seed);
                    (0..*vectors)
                        .map(|_| testgen::input_vector(cfg, w.rows, &mut rng, InputMode::Random))
                        .collect()
                }
            };
            limits::check_layer(xs.len(), w.rows, w.cols, lr.mappers.len())?;
            let header = format!(
                "sme verify: layer {} ({}x{}{}){}, {} vectors, tile {}",
                loaded.name,
                w.rows,
                w.cols,
                if full != (w.rows, w.cols) {
                    format!(", cut from {}x{}", full.0, full.1)
                } else {
                    String::new()
                },
                loaded.note.map(|n| format!(", {n}")).unwrap_or_default(),
                xs.len(),
                cfg.tag()
            );
            let job = LayerJob {
                name: loaded.name,
                w,
                xs,
                objective: lr.objective,
            };
            let mut units = Vec::new();
            let mapped = layer_units(cfg, &job, &lr.mappers, *seed, &mut units);
            Plan {
                units,
                layer: Some(Layer { job, mapped }),
                seed: *seed,
                work: Work::default(),
                header,
                file_pattern: loaded.file_pattern,
            }
        }
    };
    let work = units::work(cfg, &plan.units);
    limits::check_work(&work, false)?;
    Ok(Plan { work, ..plan })
}

impl Plan {
    /// Checks the plan's work against the [`limits`] (stricter with a
    /// trace, whose size grows with every simulated cycle).
    pub fn check(&self, trace: bool) -> Result<()> {
        limits::check_work(&self.work, trace)
    }

    /// Tile-vector runs of the plan.
    pub fn runs(&self) -> u64 {
        self.work.vectors
    }

    /// Simulated clock cycles of the plan (estimate: programming writes,
    /// idle cycles, input writes and runs).
    pub fn cycles(&self) -> u64 {
        self.work.cycles
    }
}

/// The verified layer.
#[derive(Clone, Debug, Serialize)]
pub struct LayerInfo {
    /// `model:layer`.
    pub name: String,
    /// Rows after the cut.
    pub rows: usize,
    /// Columns after the cut.
    pub cols: usize,
}

/// Totals of a verification.
#[derive(Clone, Debug, Serialize)]
pub struct VerifySummary {
    /// Vectors run.
    pub vectors: u64,
    /// Vectors whose outputs differ (per tile, and per layer vector).
    pub mismatches: u64,
    /// Runs whose cycles differ from the model.
    pub cycle_mismatches: u64,
    /// RTL cycles, summed over runs.
    pub rtl_cycles: u64,
    /// Model cycles, summed over runs.
    pub model_cycles: u64,
    /// No mismatch of any kind.
    pub ok: bool,
}

/// `sme verify`'s report (the `--json` output; schema in `docs/json.md`).
/// Fields are in the order of the earlier untyped report.
#[derive(Clone, Debug, Serialize)]
pub struct VerifyReport {
    /// The tile parameters.
    pub config: Params,
    /// The verified layer (layer runs only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer: Option<LayerInfo>,
    /// Per mapping of the layer (layer runs only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mappers: Option<Vec<MapperRun>>,
    /// Seed of the stimulus.
    pub seed: u64,
    /// The config tag.
    pub tag: String,
    /// Totals.
    pub verify: VerifySummary,
    /// Every comparison, with a line per mismatch.
    #[serde(skip)]
    pub comparison: Comparison,
}

/// Run a plan on a built testbench: stream the stimulus into the testbench
/// (and with `emit` also into STIM files, `stims.txt` and `expected.txt` in
/// that existing directory), compare every run with the golden executor and
/// the cycle model as the results stream back, each layer vector's tile sum
/// with `x W` (lossless ADC) or the golden layer result, and each mapping's
/// RTL cycles per vector with the cost model. `trace` is the VCD file the
/// testbench writes. The testbench runs with the time limit of `timeouts`
/// for the plan's work.
pub fn execute(
    cfg: &TileConfig,
    plan: &Plan,
    tb: &Testbench,
    emit: Option<&Path>,
    trace: Option<&Path>,
    timeouts: &Timeouts,
    progress: &dyn Progress,
) -> Result<VerifyReport> {
    plan.check(trace.is_some())?;
    if let Some(d) = emit
        && !d.is_dir()
    {
        bail!("the STIM directory {} does not exist", d.display());
    }
    let expected: Option<Box<dyn std::io::Write>> = match emit {
        Some(d) => {
            let p = d.join("expected.txt");
            let f = std::fs::File::create(&p)
                .with_context(|| format!("cannot create {}", p.display()))?;
            Some(Box::new(std::io::BufWriter::with_capacity(1 << 16, f)))
        }
        None => None,
    };
    let limit = timeouts.testbench(cfg, &plan.work, trace.is_some());
    let layer = plan.layer.as_ref();
    let (mut total, per_unit, layer_y) = run_testbench(
        cfg,
        tb,
        &plan.units,
        layer,
        emit,
        expected,
        trace,
        limit,
        progress,
    )?;
    let (mut layer_info, mut mappers) = (None, None);
    if let Some(layer) = layer {
        let job = &layer.job;
        let runs = summarize_layer(cfg, layer, &per_unit, layer_y);
        for r in &runs {
            if r.rtl_cycles_parallel != r.cost_cycles_per_vector {
                total.cycle_mismatches += 1;
                total.details.push(format!(
                    "{}: rtl cycles per vector {} != cost model {}",
                    r.mapper.name(),
                    r.rtl_cycles_parallel,
                    r.cost_cycles_per_vector
                ));
            }
            if r.layer_mismatches > 0 {
                total.mismatches += r.layer_mismatches;
                total.details.push(format!(
                    "{}: {} vectors whose tile sum differs from {}",
                    r.mapper.name(),
                    r.layer_mismatches,
                    if cfg.derived.adc_lossless {
                        "x W"
                    } else {
                        "the golden layer result"
                    }
                ));
            }
        }
        layer_info = Some(LayerInfo {
            name: job.name.clone(),
            rows: job.w.rows,
            cols: job.w.cols,
        });
        mappers = Some(runs);
    }
    Ok(VerifyReport {
        config: cfg.params.clone(),
        layer: layer_info,
        mappers,
        seed: plan.seed,
        tag: cfg.tag(),
        verify: VerifySummary {
            vectors: total.vectors,
            mismatches: total.mismatches,
            cycle_mismatches: total.cycle_mismatches,
            rtl_cycles: total.rtl_cycles,
            model_cycles: total.model_cycles,
            ok: total.ok(),
        },
        comparison: total,
    })
}

#[cfg(test)]
pub(crate) mod test_util {
    use crate::config::{TileConfig, TileParams};

    /// A small tile (16x16, 4x4 OU, two crossbars) for fast unit tests.
    pub(crate) fn small_cfg() -> TileConfig {
        TileParams {
            rows: Some(16),
            cols: Some(16),
            ou_rows: Some(4),
            ou_cols: Some(4),
            xbars: Some(2),
            ..Default::default()
        }
        .validate()
        .expect("valid test config")
    }
}
