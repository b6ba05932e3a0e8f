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

use crate::compiler::map::{Mapper, map_matrix};
use crate::config::TileConfig;
use crate::cost::{PresetName, layer_cost};
use crate::golden;
use crate::program::{LayerProgram, TileProgram, WeightMatrix};
use crate::rtlgen;
use crate::stim::{self, Comparison, Run};
use crate::testgen::{self, InputMode, Rng, WeightMode};
use anyhow::{Context, Result, bail};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;

/// How to install Verilator, printed when it is missing.
pub const INSTALL_HINT: &str = "install Verilator 5.x: `sudo apt-get install -y verilator` \
     (Debian/Ubuntu), `brew install verilator` (macOS), or run scripts/test, which installs it";

/// The Verilator version line, or a loud error saying how to install it.
pub fn verilator_version() -> Result<String> {
    let out = Command::new("verilator").arg("--version").output();
    match out {
        Ok(o) if o.status.success() => Ok(String::from_utf8_lossy(&o.stdout).trim().to_string()),
        Ok(o) => bail!(
            "`verilator --version` failed ({}): {}; {INSTALL_HINT}",
            o.status,
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Err(_) => bail!(
            "sme verify needs Verilator, and `verilator` was not found on PATH; {INSTALL_HINT}"
        ),
    }
}

/// The default cache directory: `$SME_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/sme`, else `$HOME/.cache/sme`, else `.sme-cache`.
pub fn default_cache_dir() -> PathBuf {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(d) = env("SME_CACHE_DIR") {
        return d;
    }
    if let Some(d) = env("XDG_CACHE_HOME") {
        return d.join("sme");
    }
    if let Some(d) = env("HOME") {
        return d.join(".cache").join("sme");
    }
    PathBuf::from(".sme-cache")
}

/// A built testbench.
#[derive(Clone, Debug)]
pub struct Testbench {
    /// The cache entry (generated RTL, testbench sources, build).
    pub dir: PathBuf,
    /// The executable.
    pub exe: PathBuf,
    /// Whether it came from the cache.
    pub cached: bool,
}

/// Builds (or finds in `cache`) the standalone testbench for `cfg`; with
/// `trace` it is built with VCD support. The entry is built in a temporary
/// directory and renamed into place, so a failed or interrupted build is
/// never reused.
pub fn build_testbench(cfg: &TileConfig, cache: &Path, trace: bool) -> Result<Testbench> {
    let version = verilator_version()?;
    let prefix = rtlgen::DEFAULT_PREFIX;
    let bundle = rtlgen::generate(cfg, prefix);
    let mut files: Vec<(String, String)> = bundle
        .sources
        .iter()
        .map(|f| (f.name.clone(), f.text.clone()))
        .collect();
    for f in rtlgen::testbench(cfg, prefix, &bundle.sources) {
        files.push((f.name, f.text));
    }
    let mut h = DefaultHasher::new();
    version.hash(&mut h);
    trace.hash(&mut h);
    files.hash(&mut h);
    let key = format!(
        "tb-{}{}-{:016x}",
        cfg.tag(),
        if trace { "-trace" } else { "" },
        h.finish()
    );
    let dir = cache.join(&key);
    let obj = if trace { "obj_tb_trace" } else { "obj_tb" };
    let exe = dir.join(obj).join("sme_tb");
    if exe.is_file() {
        return Ok(Testbench {
            dir,
            exe,
            cached: true,
        });
    }
    std::fs::create_dir_all(cache)
        .with_context(|| format!("cannot create cache directory {}", cache.display()))?;
    if dir.exists() {
        // An entry without its executable (e.g. removed by hand): rebuild it.
        std::fs::remove_dir_all(&dir).with_context(|| {
            format!("cannot remove the incomplete cache entry {}", dir.display())
        })?;
    }
    static BUILDS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let tmp = cache.join(format!(
        ".{key}.tmp-{}-{}",
        std::process::id(),
        BUILDS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).ok();
    }
    let result = (|| -> Result<()> {
        std::fs::create_dir(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
        for (name, text) in &files {
            std::fs::write(tmp.join(name), text)
                .with_context(|| format!("cannot write {}", tmp.join(name).display()))?;
        }
        let jobs = std::thread::available_parallelism().map_or(2, |n| n.get());
        let out = Command::new("make")
            .current_dir(&tmp)
            .args(["-f", "sme_tb.mk", &format!("JOBS={jobs}")])
            .arg(format!("TRACE={}", trace as u8))
            .output()
            .context("cannot run `make` (needed to build the Verilated testbench)")?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            let tail: Vec<&str> = err.lines().rev().take(30).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            bail!(
                "building the testbench failed (make -f sme_tb.mk in {}):\n{}",
                tmp.display(),
                tail.join("\n")
            );
        }
        Ok(())
    })();
    if let Err(e) = result {
        std::fs::remove_dir_all(&tmp).ok();
        return Err(e);
    }
    if std::fs::rename(&tmp, &dir).is_err() {
        // Another process finished the same entry first: use theirs.
        std::fs::remove_dir_all(&tmp).ok();
        if !exe.is_file() {
            bail!("cannot move the built testbench into {}", dir.display());
        }
    }
    Ok(Testbench {
        dir,
        exe,
        cached: false,
    })
}

/// Runs the testbench on `stims` (in order); `trace` writes a VCD. The paths
/// go to the testbench in a list file (`@list`), so any number of STIM files
/// fits on the command line.
pub fn run_testbench(tb: &Testbench, stims: &[PathBuf], trace: Option<&Path>) -> Result<Vec<Run>> {
    let Some(first) = stims.first() else {
        return Ok(Vec::new());
    };
    let dir = first.parent().unwrap_or(Path::new("."));
    let list = dir.join(format!(".stims-{}.lst", std::process::id()));
    let text: String = stims.iter().map(|p| format!("{}\n", p.display())).collect();
    std::fs::write(&list, text).with_context(|| format!("cannot write {}", list.display()))?;
    let mut cmd = Command::new(&tb.exe);
    if let Some(t) = trace {
        cmd.arg(format!("+trace={}", t.display()));
    }
    cmd.arg(format!("@{}", list.display()));
    let out = cmd.output();
    std::fs::remove_file(&list).ok();
    let out = out.with_context(|| format!("cannot run {}", tb.exe.display()))?;
    if !out.status.success() {
        bail!(
            "the testbench failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    stim::parse_results(&String::from_utf8_lossy(&out.stdout))
}

/// One program with the vectors it runs and the golden results.
#[derive(Clone, Debug)]
pub struct Unit {
    /// Human label, e.g. `sme tile 3`.
    pub label: String,
    /// The mapper that made the program (None for a random program).
    pub mapper: Option<Mapper>,
    /// The program.
    pub program: TileProgram,
    /// Tile-local input vectors.
    pub vectors: Vec<Vec<u32>>,
    /// Idle cycles before each vector.
    pub idle: Vec<u32>,
    /// Golden outputs and model cycles per vector.
    pub expected: Vec<Run>,
}

impl Unit {
    /// A unit whose expected results come from the golden executor.
    pub fn new(
        cfg: &TileConfig,
        label: String,
        mapper: Option<Mapper>,
        program: TileProgram,
        vectors: Vec<Vec<u32>>,
        idle: Vec<u32>,
    ) -> Unit {
        let cycles = golden::cycles(cfg, &program);
        let expected = vectors
            .iter()
            .map(|x| Run {
                cycles,
                outputs: golden::execute(cfg, &program, x),
            })
            .collect();
        Unit {
            label,
            mapper,
            program,
            vectors,
            idle,
            expected,
        }
    }
}

/// Random idle cycles (0..=3 before about one vector in three).
fn idles(rng: &mut Rng, n: usize) -> Vec<u32> {
    (0..n)
        .map(|_| {
            if rng.below(3) == 0 {
                1 + rng.below(3) as u32
            } else {
                0
            }
        })
        .collect()
}

/// Random units: `programs` programs cycling through dense, SRE-style and SME
/// mappings of random weights (empty, fully dense, sparse, half) and fully
/// random programs; each runs `vectors` vectors (all-zero, all-max, then
/// random) with random idle cycles. Mapped layers run their first two tiles.
pub fn random_units(cfg: &TileConfig, seed: u64, programs: usize, vectors: usize) -> Vec<Unit> {
    let mut rng = Rng::new(seed);
    let mut units = Vec::new();
    let n_in = cfg.params.inputs as usize;
    for i in 0..programs {
        let vecs = |rng: &mut Rng| -> Vec<Vec<u32>> {
            (0..vectors)
                .map(|v| {
                    let mode = [InputMode::Zero, InputMode::Max, InputMode::Random][v.min(2)];
                    testgen::input_vector(cfg, n_in, rng, mode)
                })
                .collect()
        };
        if i % 4 == 3 {
            let prog = testgen::random_program(cfg, &mut rng);
            let xs = vecs(&mut rng);
            let idle = idles(&mut rng, xs.len());
            units.push(Unit::new(
                cfg,
                format!("program {i}: random"),
                None,
                prog,
                xs,
                idle,
            ));
        } else {
            let mapper = Mapper::ALL[i % 4];
            let mode = WeightMode::ALL[(i + i / 4) % 4];
            let w = testgen::weights(cfg, &mut rng, mode);
            let lp = map_matrix(cfg, &w, mapper);
            for (t, mt) in lp.tiles.iter().enumerate().take(2) {
                let xs = vecs(&mut rng);
                let idle = idles(&mut rng, xs.len());
                units.push(Unit::new(
                    cfg,
                    format!(
                        "program {i}: {} of a {}x{} {mode:?} matrix, tile {t}",
                        mapper.name(),
                        w.rows,
                        w.cols
                    ),
                    Some(mapper),
                    mt.program.clone(),
                    xs,
                    idle,
                ));
            }
        }
    }
    units
}

/// One mapping of a layer on the RTL.
#[derive(Clone, Debug, serde::Serialize)]
pub struct MapperRun {
    /// Mapper name.
    pub mapper: String,
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

/// A layer to verify: its integer matrix and layer-level input vectors.
pub struct LayerJob {
    /// Name for messages.
    pub name: String,
    /// Integer weights (magnitudes within the tile's weight bits).
    pub w: WeightMatrix,
    /// Layer input vectors (length `w.rows`).
    pub xs: Vec<Vec<u32>>,
}

/// One mapping of a layer with its units (one per tile).
pub type MappedLayer = (Mapper, LayerProgram, Vec<Unit>);

/// The units of `job` for each mapper: one per tile, running the tile-local
/// slices of every layer vector.
pub fn layer_units(
    cfg: &TileConfig,
    job: &LayerJob,
    mappers: &[Mapper],
    seed: u64,
) -> Vec<MappedLayer> {
    let mut rng = Rng::new(seed ^ 0x1d1e);
    mappers
        .iter()
        .map(|&m| {
            let lp = map_matrix(cfg, &job.w, m);
            let units = lp
                .tiles
                .iter()
                .enumerate()
                .map(|(t, mt)| {
                    let xs: Vec<Vec<u32>> = job.xs.iter().map(|x| lp.tile_inputs(t, x)).collect();
                    let idle = idles(&mut rng, xs.len());
                    Unit::new(
                        cfg,
                        format!("{} {} tile {t}", job.name, m.name()),
                        Some(m),
                        mt.program.clone(),
                        xs,
                        idle,
                    )
                })
                .collect();
            (m, lp, units)
        })
        .collect()
}

/// Writes each unit's program and vectors STIM files into `dir` (in run
/// order) and the expected results of the whole sequence; returns the STIM
/// paths.
pub fn write_stims(cfg: &TileConfig, units: &[Unit], dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut paths = Vec::new();
    let mut expected = Vec::new();
    let mut order = String::new();
    for (i, u) in units.iter().enumerate() {
        let p = dir.join(format!("{i:04}.prog.stim"));
        let v = dir.join(format!("{i:04}.vec.stim"));
        crate::outdir::write_file(&p, &stim::program_stim(cfg, &u.program, &u.label))
            .with_context(|| format!("cannot write {}", p.display()))?;
        crate::outdir::write_file(&v, &stim::vectors_stim(cfg, &u.vectors, &u.idle, &u.label))
            .with_context(|| format!("cannot write {}", v.display()))?;
        order.push_str(&format!("{i:04}.prog.stim {i:04}.vec.stim\n"));
        paths.push(p);
        paths.push(v);
        expected.extend(u.expected.iter().cloned());
    }
    let exp = dir.join("expected.txt");
    crate::outdir::write_file(&exp, &stim::results_text(&expected))
        .with_context(|| format!("cannot write {}", exp.display()))?;
    crate::outdir::write_file(&dir.join("stims.txt"), &order)
        .with_context(|| format!("cannot write {}", dir.display()))?;
    Ok(paths)
}

/// Splits `actual` by unit and compares each with its expected results;
/// returns the total and, per unit, its comparison and its runs (fewer than
/// expected if the RTL gave fewer).
pub fn compare_units<'a>(
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
pub fn summarize_layer(
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
            mapper: m.name().to_string(),
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

/// Cuts `w` to its top-left `rows x cols` block (no-op when smaller).
pub fn cut(w: &WeightMatrix, rows: usize, cols: usize) -> WeightMatrix {
    let (r, c) = (w.rows.min(rows), w.cols.min(cols));
    let mut data = Vec::with_capacity(r * c);
    for i in 0..r {
        data.extend_from_slice(&w.data[i * w.cols..i * w.cols + c]);
    }
    WeightMatrix {
        rows: r,
        cols: c,
        data,
    }
}

/// Parses an inputs file: one vector per line, integers separated by commas
/// or whitespace, `#` comments; each value in `0..=max`, at most `len`
/// values per line (missing ones are zero).
pub fn parse_inputs(text: &str, len: usize, max: u32) -> Result<Vec<Vec<u32>>> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let mut x = Vec::new();
        for tok in line
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|t| !t.is_empty())
        {
            match tok.parse::<u32>() {
                Ok(v) if v <= max => x.push(v),
                _ => bail!(
                    "inputs line {}: `{tok}` is not an activation: valid integers 0..={max}",
                    i + 1
                ),
            }
        }
        if x.len() > len {
            bail!(
                "inputs line {}: {} values, the layer (after --cut) has {len} inputs",
                i + 1,
                x.len()
            );
        }
        x.resize(len, 0);
        out.push(x);
    }
    if out.is_empty() {
        bail!("inputs file has no vectors");
    }
    Ok(out)
}

/// Parses `RxC` (e.g. `512x256`).
fn parse_dims(s: &str, what: &str) -> Result<(usize, usize)> {
    let p = |v: &str| v.trim().parse::<usize>().ok().filter(|&n| n > 0);
    match s.split_once(['x', 'X']) {
        Some((a, b)) if p(a).is_some() && p(b).is_some() => Ok((p(a).unwrap(), p(b).unwrap())),
        _ => bail!("{what} `{s}`: expected ROWSxCOLS with both at least 1, e.g. 512x256"),
    }
}

/// Loads the layer named by the arguments as an integer matrix.
fn load_layer(
    cfg: &TileConfig,
    a: &crate::cli::VerifyArgs,
) -> Result<(String, WeightMatrix, Option<String>)> {
    let name = a
        .layer
        .as_deref()
        .expect("clap requires --layer with a model");
    if let Some(path) = &a.weights {
        let f = crate::weights::WeightsFile::load(path)?;
        let l = f.layer(name)?;
        f.check_fits(cfg)?;
        if !a.pattern.is_default() {
            eprintln!(
                "note: --pattern/--k are ignored with --weights: the file's weights are used as they are (pattern {} k {})",
                f.pattern, f.k
            );
        }
        return Ok((format!("{}:{name}", f.name), l.matrix(), None));
    }
    let src = crate::cli::map_source(
        a.net.as_deref(),
        a.onnx.as_deref(),
        a.input_shape.as_deref(),
    )?;
    let (mut net, synthetic) = (src.load()?, src.synthetic());
    let Some(idx) = net.layers.iter().position(|l| l.name == name) else {
        let names: Vec<&str> = net.layers.iter().map(|l| l.name.as_str()).collect();
        bail!(
            "no layer `{name}` in {}: valid {}",
            net.name,
            names.join(", ")
        );
    };
    let layer = &mut net.layers[idx];
    if synthetic {
        crate::nets::synthesize(layer, a.seed.wrapping_add(idx as u64));
    }
    let pattern = a.pattern.resolve(cfg)?;
    let (rows, cols, w) = crate::compiler::network::lower(layer);
    let (q, sqnr) = crate::compiler::network::quantize_project(cfg, rows, cols, &w, &pattern);
    Ok((
        format!("{}:{name}", net.name),
        q,
        Some(format!(
            "{} weights, pattern {pattern:?}, SQNR {sqnr:.1} dB",
            if synthetic {
                "synthetic Laplace"
            } else {
                "real"
            }
        )),
    ))
}

/// A spinner on stderr for a long step (hidden when stderr is not a terminal).
fn spinner(msg: &str) -> indicatif::ProgressBar {
    let p = indicatif::ProgressBar::new_spinner();
    p.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg} {elapsed}")
            .expect("valid template"),
    );
    p.set_message(msg.to_string());
    p.enable_steady_tick(std::time::Duration::from_millis(200));
    p
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
        let (name, w, note) = load_layer(&cfg, a)?;
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
    let spin =
        spinner("verilating and compiling the tile and testbench (cached after the first run)");
    let tb = build_testbench(&cfg, &cache, a.trace.is_some());
    spin.finish_and_clear();
    let tb = tb?;
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
    let spin = spinner(&format!("simulating {} programs on the RTL", units.len()));
    let actual = stims.and_then(|s| run_testbench(&tb, &s, a.trace.as_deref()));
    spin.finish_and_clear();
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
