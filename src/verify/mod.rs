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
mod testbench;
mod units;

pub use layer::cut;

use crate::compiler::map::Mapper;
use crate::stim::{self, Run};
use crate::testgen::{self, InputMode, Rng};
use anyhow::{Context, Result, bail};
use compare::{compare_units, summarize_layer};
use layer::{load_layer, parse_dims, parse_inputs};
use std::path::Path;
use testbench::{build_testbench, default_cache_dir, run_testbench, verilator_version};
use units::{LayerJob, Unit, layer_units, random_units, write_stims};

/// Reports the long steps of a verification (building the testbench,
/// simulating) to the user; library code gets one instead of printing.
pub(crate) trait Progress {
    /// A step described by `msg` starts.
    fn start(&mut self, msg: &str);
    /// The step started last is over.
    fn finish(&mut self);
}

/// A [`Progress`] that reports nothing (for tests and quiet callers).
#[cfg(test)]
pub(crate) struct NoProgress;

#[cfg(test)]
impl Progress for NoProgress {
    fn start(&mut self, _msg: &str) {}
    fn finish(&mut self) {}
}

/// A [`Progress`] drawing a spinner on stderr per step (hidden when stderr is
/// not a terminal).
#[derive(Default)]
struct Spinner(Option<indicatif::ProgressBar>);

impl Progress for Spinner {
    fn start(&mut self, msg: &str) {
        self.finish();
        let p = indicatif::ProgressBar::new_spinner();
        p.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {msg} {elapsed}")
                .expect("valid template"),
        );
        p.set_message(msg.to_string());
        p.enable_steady_tick(std::time::Duration::from_millis(200));
        self.0 = Some(p);
    }

    fn finish(&mut self) {
        if let Some(p) = self.0.take() {
            p.finish_and_clear();
        }
    }
}

/// Run `sme verify`.
pub fn run_verify(a: &crate::cli::VerifyArgs) -> Result<()> {
    let cfg = a.cfg.validated()?;
    if a.vectors == 0 || a.vectors > 100_000 {
        bail!("--vectors {}: valid 1..=100000", a.vectors);
    }
    if a.programs == 0 || a.programs > 10_000 {
        bail!("--programs {}: valid 1..=10000", a.programs);
    }
    let mappers: Vec<Mapper> = match a.mapper.as_str() {
        "all" => Mapper::ALL.to_vec(),
        "dense" => vec![Mapper::Dense],
        "sre" => vec![Mapper::Sre],
        "sme" => vec![Mapper::Sme],
        other => bail!("--mapper `{other}`: valid all, dense, sre, sme"),
    };
    let layer_mode = a.weights.is_some() || a.net.is_some() || a.onnx.is_some();
    if !layer_mode {
        let given = [
            ("--layer", a.layer.is_some()),
            ("--input-file", a.input_file.is_some()),
            ("--cut", a.cut.is_some()),
            ("--layer-outputs", a.layer_outputs.is_some()),
            ("--mapper", a.mapper != "all"),
            ("--input-shape", a.input_shape.is_some()),
        ];
        if let Some((flag, _)) = given.iter().find(|(_, g)| *g) {
            bail!("{flag} needs a layer: give --weights, --net or --onnx with --layer");
        }
    }
    let mut job = None;
    let mut mapped = Vec::new();
    let units: Vec<Unit> = if layer_mode {
        let layer::Loaded {
            name,
            w,
            note,
            warnings,
        } = load_layer(&cfg, a)?;
        for w in &warnings {
            eprintln!("note: {w}");
        }
        let (cr, cc) = match &a.cut {
            Some(s) => parse_dims(s, "--cut")?,
            None => (cfg.params.inputs as usize, cfg.params.outputs as usize),
        };
        let full = (w.rows, w.cols);
        let w = cut(&w, cr, cc);
        let xs = match &a.input_file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read inputs file {}", path.display()))?;
                parse_inputs(&text, w.rows, cfg.max_act())
                    .with_context(|| format!("inputs file {}", path.display()))?
            }
            None => {
                let mut rng = Rng::new(a.seed);
                (0..a.vectors)
                    .map(|_| testgen::input_vector(&cfg, w.rows, &mut rng, InputMode::Random))
                    .collect()
            }
        };
        println!(
            "sme verify: layer {name} ({}x{}{}){}, {} vectors, tile {}",
            w.rows,
            w.cols,
            if full != (w.rows, w.cols) {
                format!(", cut from {}x{}", full.0, full.1)
            } else {
                String::new()
            },
            note.map(|n| format!(", {n}")).unwrap_or_default(),
            xs.len(),
            cfg.tag()
        );
        let j = LayerJob { name, w, xs };
        mapped = layer_units(&cfg, &j, &mappers, a.seed);
        job = Some(j);
        mapped
            .iter()
            .flat_map(|(_, _, u)| u.iter().cloned())
            .collect()
    } else {
        println!(
            "sme verify: {} random programs x {} vectors, seed {}, tile {}",
            a.programs,
            a.vectors,
            a.seed,
            cfg.tag()
        );
        random_units(&cfg, a.seed, a.programs, a.vectors)
    };

    let cache = a.cache_dir.clone().unwrap_or_else(default_cache_dir);
    let version = verilator_version()?;
    eprintln!("verify: {version}; testbench cache {}", cache.display());
    let mut progress = Spinner::default();
    let tb = build_testbench(&cfg, &cache, a.trace.is_some(), &mut progress)?;
    eprintln!(
        "verify: {} testbench {}",
        if tb.cached { "reusing cached" } else { "built" },
        tb.dir.display()
    );
    let (stim_dir, temporary) = match &a.emit {
        Some(d) => (d.clone(), false),
        None => (
            cache.join("runs").join(format!(
                "{}-{}",
                std::process::id(),
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos())
            )),
            true,
        ),
    };
    let stims = write_stims(&cfg, &units, &stim_dir);
    let actual = stims.and_then(|s| run_testbench(&tb, &s, a.trace.as_deref(), &mut progress));
    if temporary {
        std::fs::remove_dir_all(&stim_dir).ok();
    } else {
        println!(
            "verify: STIM files, stims.txt (run order) and expected.txt in {}",
            stim_dir.display()
        );
    }
    let actual = actual?;
    let (mut total, per_unit) = compare_units(&units, &actual);
    let mut json = serde_json::json!({
        "config": cfg.params,
        "tag": cfg.tag(),
        "seed": a.seed,
    });
    if let Some(job) = &job {
        let runs = summarize_layer(&cfg, job, &mapped, &per_unit);
        println!(
            "{:<6} {:>5} {:>9} {:>14} {:>14} {:>12} {:>11} {:>9}",
            "mapper",
            "tiles",
            "crossbars",
            "rtl cyc 1 tile",
            "rtl cyc tiles",
            "cost model",
            "load writes",
            "mismatch"
        );
        for r in &runs {
            println!(
                "{:<6} {:>5} {:>9} {:>14} {:>14} {:>12} {:>11} {:>9}",
                r.mapper,
                r.tiles,
                r.crossbars,
                r.rtl_cycles_one_tile,
                r.rtl_cycles_parallel,
                r.cost_cycles_per_vector,
                r.load_writes,
                r.mismatches + r.layer_mismatches
            );
            if r.rtl_cycles_parallel != r.cost_cycles_per_vector {
                total.cycle_mismatches += 1;
                total.details.push(format!(
                    "{}: rtl cycles per vector {} != cost model {}",
                    r.mapper, r.rtl_cycles_parallel, r.cost_cycles_per_vector
                ));
            }
            if r.layer_mismatches > 0 {
                total.mismatches += r.layer_mismatches;
                total.details.push(format!(
                    "{}: {} vectors whose tile sum differs from {}",
                    r.mapper,
                    r.layer_mismatches,
                    if cfg.derived.adc_lossless {
                        "x W"
                    } else {
                        "the golden layer result"
                    }
                ));
            }
        }
        if let (Some(dense), Some(sme)) = (
            runs.iter().find(|r| r.mapper == "dense"),
            runs.iter().find(|r| r.mapper == "sme"),
        ) && sme.rtl_cycles_one_tile > 0
        {
            println!(
                "rtl speedup of sme over dense on one tile: {:.2}x ({} -> {} cycles per vector)",
                dense.rtl_cycles_one_tile as f64 / sme.rtl_cycles_one_tile as f64,
                dense.rtl_cycles_one_tile,
                sme.rtl_cycles_one_tile
            );
        }
        if let Some(path) = &a.layer_outputs {
            let mut s = String::from("# mapper,vector,y0,y1,... (RTL outputs summed over tiles)\n");
            for r in &runs {
                for (v, y) in r.layer_outputs.iter().enumerate() {
                    let vals: Vec<String> = y.iter().map(|v| v.to_string()).collect();
                    s.push_str(&format!("{},{v},{}\n", r.mapper, vals.join(",")));
                }
            }
            crate::outdir::write_file(path, &s)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        json["layer"] =
            serde_json::json!({"name": job.name, "rows": job.w.rows, "cols": job.w.cols});
        json["mappers"] = serde_json::to_value(&runs)?;
    }
    json["verify"] = serde_json::json!({
        "vectors": total.vectors,
        "mismatches": total.mismatches,
        "cycle_mismatches": total.cycle_mismatches,
        "rtl_cycles": total.rtl_cycles,
        "model_cycles": total.model_cycles,
        "ok": total.ok(),
    });
    if let Some(path) = &a.json {
        crate::outdir::write_file(path, &(serde_json::to_string_pretty(&json)? + "\n"))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    for d in &total.details {
        eprintln!("mismatch: {d}");
    }
    println!("{}", total.line());
    if !total.ok() {
        bail!(
            "RTL and golden model disagree ({} mismatches, {} cycle differences)",
            total.mismatches,
            total.cycle_mismatches
        );
    }
    Ok(())
}

/// Run `sme check EXPECTED RESULTS`: compare a testbench results file with
/// the expected results `sme verify --emit` wrote.
pub fn run_check(expected: &Path, results: &Path) -> Result<()> {
    let read = |p: &Path| -> Result<Vec<Run>> {
        let text =
            std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?;
        stim::parse_results(&text).with_context(|| format!("{}", p.display()))
    };
    let exp = read(expected)?;
    if exp.is_empty() {
        bail!("{}: no vectors to check", expected.display());
    }
    let c = stim::compare("results", &exp, &read(results)?);
    for d in &c.details {
        eprintln!("mismatch: {d}");
    }
    println!("{}", c.line());
    if !c.ok() {
        bail!("results differ from the expected results");
    }
    Ok(())
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
