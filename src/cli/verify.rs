//! `sme verify`: run random programs or a layer's programs on the generated
//! RTL and compare with the golden executor and the cycle model.

use super::output::{Outputs, Staged, Target};
use super::{Bar, ConfigArgs, PatternArgs};
use crate::compiler::map::{Mapper, Objective};
use crate::stim::{self, Run};
use crate::verify::limits::{MAX_PROGRAMS, MAX_VECTORS};
use crate::verify::{self, LayerRequest, LayerWeights, MapperRun, Timeouts, VerifyRequest};
use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Arguments of `sme verify`.
#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// Tile configuration.
    #[command(flatten)]
    pub cfg: ConfigArgs,
    /// Built-in network (synthetic weights) to take `--layer` from.
    #[arg(long, conflicts_with_all = ["onnx", "weights"], requires = "layer")]
    pub net: Option<String>,
    /// ONNX model to take `--layer` from.
    #[arg(long, conflicts_with = "weights", requires = "layer")]
    pub onnx: Option<PathBuf>,
    /// Integer weights file (from `sme compress`) to take `--layer` from.
    #[arg(long, requires = "layer")]
    pub weights: Option<PathBuf>,
    /// Layer name (with --net, --onnx or --weights).
    #[arg(long)]
    pub layer: Option<String>,
    /// ONNX input shape CxHxW when the model leaves it dynamic.
    #[arg(long, value_name = "CxHxW")]
    pub input_shape: Option<String>,
    /// Bit-sparse pattern for --net/--onnx layers.
    #[command(flatten)]
    pub pattern: PatternArgs,
    /// Cut the layer to its top-left ROWSxCOLS block (default: the tile's
    /// inputs x outputs).
    #[arg(long, value_name = "RxC")]
    pub cut: Option<String>,
    /// Which mappings of the layer to run.
    #[arg(long, value_enum, default_value_t = MapperChoice::All)]
    pub mapper: MapperChoice,
    /// What the mappers optimize inside a tile: `crossbars` (fewest
    /// crossbars) or `balanced` (workload grouping over the tile's N
    /// crossbars, as `sme chip`).
    #[arg(long, value_enum, default_value_t = Objective::Crossbars)]
    pub objective: Objective,
    /// Input vectors per program (random activations), 1..=100000; the whole
    /// run is bounded too (docs/limits.md).
    #[arg(long, default_value_t = 8)]
    pub vectors: usize,
    /// Layer input vectors from a file (one per line, integers) instead of
    /// random ones.
    #[arg(long, value_name = "FILE")]
    pub input_file: Option<PathBuf>,
    /// Random programs to run when no layer is given, 1..=10000.
    #[arg(long, default_value_t = 8)]
    pub programs: usize,
    /// Seed of the random programs, vectors, idle cycles and synthetic weights.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Testbench cache (default $SME_CACHE_DIR, $XDG_CACHE_HOME/sme or ~/.cache/sme).
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Keep the STIM files and expected results in DIR (new or empty).
    #[arg(long, value_name = "DIR")]
    pub emit: Option<PathBuf>,
    /// Write a VCD waveform of the whole run (builds a tracing testbench).
    #[arg(long, value_name = "FILE")]
    pub trace: Option<PathBuf>,
    /// Write the report as JSON.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write the RTL's layer outputs (summed over tiles) as CSV.
    #[arg(long, value_name = "FILE")]
    pub layer_outputs: Option<PathBuf>,
    /// Multiply the time limits of the Verilator build and the simulation
    /// (derived from the work, docs/limits.md) by F, 0.1..=100.
    #[arg(long, value_name = "F", default_value_t = 1.0)]
    pub timeout_scale: f64,
}

/// Which mappings of a layer `--mapper` runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum MapperChoice {
    /// Dense, SRE-style and SME.
    All,
    /// Dense (ISAAC-style) only.
    Dense,
    /// SRE-style only.
    Sre,
    /// SME only.
    Sme,
}

impl MapperChoice {
    fn mappers(self) -> Vec<Mapper> {
        match self {
            MapperChoice::All => Mapper::ALL.to_vec(),
            MapperChoice::Dense => vec![Mapper::Dense],
            MapperChoice::Sre => vec![Mapper::Sre],
            MapperChoice::Sme => vec![Mapper::Sme],
        }
    }
}

/// Parses `RxC` (e.g. `512x256`).
fn parse_cut(s: &str) -> Result<(usize, usize)> {
    let p = |v: &str| v.trim().parse::<usize>().ok().filter(|&n| n > 0);
    match s.split_once(['x', 'X']) {
        Some((a, b)) if p(a).is_some() && p(b).is_some() => Ok((p(a).unwrap(), p(b).unwrap())),
        _ => bail!("--cut `{s}`: expected ROWSxCOLS with both at least 1, e.g. 512x256"),
    }
}

/// Ends the process on a signal when no external program runs (nothing to
/// clean up); otherwise cancels the running program, whose caller then
/// removes its temporary files and returns an "interrupted" error.
#[cfg(unix)]
extern "C" fn on_signal(_: libc::c_int) {
    if !verify::cancel() {
        // SAFETY: _exit is async-signal-safe.
        unsafe { libc::_exit(130) }
    }
}

/// Routes SIGINT, SIGTERM and SIGHUP to [`on_signal`].
fn catch_signals() {
    #[cfg(unix)]
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: installs a handler that only touches atomics or _exits.
        unsafe {
            libc::signal(sig, on_signal as *const () as libc::sighandler_t);
        }
    }
}

/// Run `sme verify`.
pub fn run(a: &VerifyArgs) -> Result<()> {
    let cfg = a.cfg.validated()?;
    if a.vectors == 0 || a.vectors > MAX_VECTORS {
        bail!("--vectors {}: valid 1..={MAX_VECTORS}", a.vectors);
    }
    if a.programs == 0 || a.programs > MAX_PROGRAMS {
        bail!("--programs {}: valid 1..={MAX_PROGRAMS}", a.programs);
    }
    let timeouts = Timeouts::new(a.timeout_scale)?;
    let layer_mode = a.weights.is_some() || a.net.is_some() || a.onnx.is_some();
    if !layer_mode {
        let given = [
            ("--layer", a.layer.is_some()),
            ("--input-file", a.input_file.is_some()),
            ("--cut", a.cut.is_some()),
            ("--layer-outputs", a.layer_outputs.is_some()),
            ("--mapper", a.mapper != MapperChoice::All),
            ("--input-shape", a.input_shape.is_some()),
        ];
        if let Some((flag, _)) = given.iter().find(|(_, g)| *g) {
            bail!("{flag} needs a layer: give --weights, --net or --onnx with --layer");
        }
    }
    let inputs = [&a.onnx, &a.weights, &a.cfg.config, &a.input_file];
    let mut outputs = Outputs::new(inputs.iter().filter_map(|p| p.as_deref()));
    let json = outputs.claim("--json", a.json.as_deref())?;
    let layer_outputs = outputs.claim("--layer-outputs", a.layer_outputs.as_deref())?;
    let trace = match outputs.claim("--trace", a.trace.as_deref())? {
        Some(Target::File(p)) => Some(p),
        Some(Target::Stdout) => bail!("--trace needs a file, not -"),
        None => None,
    };
    let emit = outputs.claim_dir("--emit", a.emit.as_deref())?;
    let req = if layer_mode {
        let weights = match &a.weights {
            Some(path) => LayerWeights::File(path.clone()),
            None => LayerWeights::Network {
                source: super::map_source(
                    a.net.as_deref(),
                    a.onnx.as_deref(),
                    a.input_shape.as_deref(),
                )?,
                pattern: a.pattern.resolve(&cfg)?,
                seed: a.seed,
            },
        };
        VerifyRequest::Layer {
            layer: LayerRequest {
                weights,
                layer: a.layer.clone().expect("clap requires --layer with a model"),
                cut: match &a.cut {
                    Some(s) => parse_cut(s)?,
                    None => (cfg.params.inputs as usize, cfg.params.outputs as usize),
                },
                input_file: a.input_file.clone(),
                mappers: a.mapper.mappers(),
                objective: a.objective,
            },
            vectors: a.vectors,
            seed: a.seed,
        }
    } else {
        VerifyRequest::Random {
            programs: a.programs,
            vectors: a.vectors,
            seed: a.seed,
        }
    };
    let plan = verify::plan(&cfg, &req)?;
    plan.check(trace.is_some())?;
    // Human-readable lines go to standard error when an output takes
    let mut out = outputs.human();
    if let Some((pattern, k)) = &plan.file_pattern
        && !a.pattern.is_default()
    {
        eprintln!(
            "note: --pattern/--k are ignored with --weights: the file's weights are used as they are (pattern {pattern} k {k})"
        );
    }
    writeln!(out, "{}", plan.header)?;

    catch_signals();
    let cache = a
        .cache_dir
        .clone()
        .unwrap_or_else(verify::default_cache_dir);
    let version = verify::verilator_version()?;
    eprintln!("verify: {version}; testbench cache {}", cache.display());
    let bar = Bar::new("vectors");
    let tb = verify::build_testbench(&cfg, &cache, trace.is_some(), &timeouts, &bar)?;
    eprintln!(
        "verify: {} testbench {}",
        if tb.cached { "reusing cached" } else { "built" },
        tb.dir.display()
    );
    // Every file output is written under a temporary name and renamed into
    // place only at the end: a failed or interrupted run leaves none of them
    // (while `_busy` lives a signal cancels instead of exiting).
    let _busy = verify::busy();
    let emit_dir = emit.as_deref().map(Staged::dir).transpose()?;
    let trace_file = trace.as_deref().map(Staged::file).transpose()?;
    let rep = verify::execute(
        &cfg,
        &plan,
        &tb,
        emit_dir.as_ref().map(|d| d.path()),
        trace_file.as_ref().map(|t| t.path()),
        &timeouts,
        &bar,
    )?;
    let mut staged: Vec<Staged> = emit_dir.into_iter().chain(trace_file).collect();
    let mut files = Vec::new();
    if let Some(runs) = &rep.mappers {
        print_mappers(runs, &mut out)?;
        match layer_outputs {
            Some(Target::File(p)) => {
                let s = Staged::file(&p)?;
                let f = std::fs::File::create(s.path())
                    .with_context(|| format!("cannot write {}", p.display()))?;
                let mut w = std::io::BufWriter::new(f);
                write_layer_outputs(runs, &mut w)
                    .and_then(|_| w.flush())
                    .with_context(|| format!("cannot write {}", p.display()))?;
                staged.push(s);
            }
            Some(Target::Stdout) => {
                let mut v = Vec::new();
                write_layer_outputs(runs, &mut v)?;
                files.push((Target::Stdout, String::from_utf8_lossy(&v).into_owned()));
            }
            None => {}
        }
    }
    if let Some(t) = json {
        files.push((t, serde_json::to_string_pretty(&rep)? + "\n"));
    }
    if verify::cancelled() {
        bail!("interrupted; no output written");
    }
    Outputs::commit_with(files, staged)?;
    if let Some(d) = &emit {
        writeln!(
            out,
            "verify: STIM files, stims.txt (run order) and expected.txt in {}",
            d.display()
        )?;
    }
    let total = &rep.comparison;
    for d in &total.details {
        eprintln!("mismatch: {d}");
    }
    writeln!(out, "{}", total.line())?;
    if !total.ok() {
        bail!(
            "RTL and golden model disagree ({} mismatches, {} cycle differences)",
            total.mismatches,
            total.cycle_mismatches
        );
    }
    Ok(())
}

/// The `--layer-outputs` CSV.
fn write_layer_outputs(runs: &[MapperRun], w: &mut dyn std::io::Write) -> std::io::Result<()> {
    writeln!(
        w,
        "# mapper,vector,y0,y1,... (RTL outputs summed over tiles)"
    )?;
    for r in runs {
        for (v, y) in r.layer_outputs.iter().enumerate() {
            write!(w, "{},{v}", r.mapper.name())?;
            for x in y {
                write!(w, ",{x}")?;
            }
            writeln!(w)?;
        }
    }
    Ok(())
}

fn print_mappers(runs: &[MapperRun], out: &mut dyn std::io::Write) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<6} {:>5} {:>9} {:>14} {:>14} {:>12} {:>11} {:>9}",
        "mapper",
        "tiles",
        "crossbars",
        "rtl cyc 1 tile",
        "rtl cyc tiles",
        "cost model",
        "load writes",
        "mismatch"
    )?;
    for r in runs {
        writeln!(
            out,
            "{:<6} {:>5} {:>9} {:>14} {:>14} {:>12} {:>11} {:>9}",
            r.mapper.name(),
            r.tiles,
            r.crossbars,
            r.rtl_cycles_one_tile,
            r.rtl_cycles_parallel,
            r.cost_cycles_per_vector,
            r.load_writes,
            r.mismatches + r.layer_mismatches
        )?;
    }
    let find = |m: Mapper| runs.iter().find(|r| r.mapper == m);
    if let (Some(dense), Some(sme)) = (find(Mapper::Dense), find(Mapper::Sme))
        && sme.rtl_cycles_one_tile > 0
    {
        writeln!(
            out,
            "rtl speedup of sme over dense on one tile: {:.2}x ({} -> {} cycles per vector)",
            dense.rtl_cycles_one_tile as f64 / sme.rtl_cycles_one_tile as f64,
            dense.rtl_cycles_one_tile,
            sme.rtl_cycles_one_tile
        )?;
    }
    Ok(())
}

/// Run `sme check EXPECTED RESULTS`: compare a testbench results file with
/// the expected results `sme verify --emit` wrote.
pub(crate) fn run_check(expected: &Path, results: &Path) -> Result<()> {
    let read = |p: &Path| -> Result<Vec<Run>> {
        let text = crate::input::read_text(p, crate::input::InputKind::Results)?;
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
mod tests {
    use super::*;

    #[test]
    fn cut_parses_rows_x_cols() {
        assert_eq!(parse_cut("512x256").unwrap(), (512, 256));
        assert_eq!(parse_cut(" 4X5 ").unwrap(), (4, 5));
        for bad in ["0x5", "4x", "abc", "4x-1"] {
            let e = parse_cut(bad).unwrap_err().to_string();
            assert!(e.contains("--cut") && e.contains("ROWSxCOLS"), "{e}");
        }
    }
}
