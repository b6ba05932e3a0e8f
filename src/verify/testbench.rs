//! Verilator probing, the testbench cache and building and running the
//! standalone testbench.

use super::compare::{Checker, Outcome};
use super::limits::Timeouts;
use super::process;
use super::units::{Layer, Unit, write_stims};
use crate::config::TileConfig;
use crate::progress::Progress;
use crate::rtlgen;
use anyhow::{Context, Result, bail};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// How to install Verilator, printed when it is missing.
pub(crate) const INSTALL_HINT: &str = "install Verilator 5.x: `sudo apt-get install -y verilator` \
     (Debian/Ubuntu), `brew install verilator` (macOS), or run scripts/test, which installs it";

/// The Verilator version line, or a loud error saying how to install it.
pub fn verilator_version() -> Result<String> {
    let mut first = String::new();
    let r = process::run(
        {
            let mut c = Command::new("verilator");
            c.arg("--version");
            c
        },
        "`verilator --version`",
        Timeouts::default().probe(),
        None::<fn(&mut dyn std::io::Write) -> Result<()>>,
        |l| {
            if first.is_empty() {
                first = l.trim().to_string();
            }
            Ok(())
        },
    );
    match r {
        Ok(_) => Ok(first),
        Err(e) if e.to_string().starts_with("cannot run") => bail!(
            "sme verify needs Verilator, and `verilator` was not found on PATH; {INSTALL_HINT}"
        ),
        Err(e) => bail!("{e:#}; {INSTALL_HINT}"),
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
/// never reused. `progress` sees the step start and finish.
pub fn build_testbench(
    cfg: &TileConfig,
    cache: &Path,
    trace: bool,
    timeouts: &Timeouts,
    progress: &dyn Progress,
) -> Result<Testbench> {
    progress.start(
        "verilating and compiling the tile and testbench (cached after the first run)",
        None,
    );
    let tb = build(cfg, cache, trace, timeouts.build(cfg));
    progress.finish();
    tb
}

/// A build directory in the cache: holds an exclusive lock on its `.lock`
/// file while alive (so [`sweep`] can tell a live build from one whose
/// process died) and is removed on drop unless it was renamed into place.
struct BuildDir {
    path: PathBuf,
    _lock: std::fs::File,
    keep: bool,
}

impl BuildDir {
    fn create(path: PathBuf) -> Result<BuildDir> {
        std::fs::create_dir(&path).with_context(|| format!("cannot create {}", path.display()))?;
        let lock = (|| {
            let f = std::fs::File::create(path.join(LOCK))?;
            f.lock()?;
            Ok::<_, std::io::Error>(f)
        })();
        match lock {
            Ok(f) => Ok(BuildDir {
                path,
                _lock: f,
                keep: false,
            }),
            Err(e) => {
                std::fs::remove_dir_all(&path).ok();
                Err(e).with_context(|| format!("cannot lock {}", path.display()))
            }
        }
    }
}

impl Drop for BuildDir {
    fn drop(&mut self) {
        if !self.keep {
            std::fs::remove_dir_all(&self.path).ok();
        }
    }
}

/// The lock file of a build directory.
const LOCK: &str = ".lock";

/// Removes what interrupted or killed runs left in `cache`: build
/// directories (`.tb-*.tmp-*`) whose lock is free (their process is gone)
/// or, without a lock file, older than an hour, and the STIM directories
/// of older versions (`runs/*`) older than an hour.
pub(crate) fn sweep(cache: &Path) {
    let old = |p: &Path| {
        std::fs::symlink_metadata(p)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > Duration::from_secs(3600))
    };
    if let Ok(rd) = std::fs::read_dir(cache) {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if !(name.starts_with(".tb-") && name.contains(".tmp-")) {
                continue;
            }
            let p = e.path();
            let stale = match std::fs::File::open(p.join(LOCK)) {
                Ok(f) => f.try_lock().is_ok(),
                Err(_) => old(&p),
            };
            if stale {
                std::fs::remove_dir_all(&p).ok();
            }
        }
    }
    if let Ok(rd) = std::fs::read_dir(cache.join("runs")) {
        for e in rd.flatten() {
            if old(&e.path()) {
                std::fs::remove_dir_all(e.path()).ok();
            }
        }
    }
}

/// Whether make can use `p` as a directory (no spaces or make
/// metacharacters).
fn make_safe(p: &Path) -> bool {
    p.to_str().is_some_and(|s| {
        s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+@,~".contains(c))
    })
}

/// A scratch build directory in a path make can use: under the system's
/// temporary directory, else under /tmp.
fn scratch_dir() -> Result<tempfile::TempDir> {
    for base in [std::env::temp_dir(), PathBuf::from("/tmp")] {
        if make_safe(&base) && base.is_dir() {
            return tempfile::Builder::new()
                .prefix("sme-tb-build-")
                .tempdir_in(&base)
                .with_context(|| format!("cannot create a build directory in {}", base.display()));
        }
    }
    bail!(
        "the testbench cache path contains spaces or make metacharacters, which Verilator's \
         makefiles cannot build in, and no temporary directory without them was found: \
         set TMPDIR to such a directory or use another --cache-dir"
    )
}

/// Copies a file, naming both in the error.
fn copy(from: &Path, to: &Path) -> Result<()> {
    std::fs::copy(from, to)
        .map(|_| ())
        .with_context(|| format!("cannot copy {} to {}", from.display(), to.display()))
}

/// [`build_testbench`] without the progress report.
fn build(cfg: &TileConfig, cache: &Path, trace: bool, limit: Duration) -> Result<Testbench> {
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
    sweep(cache);
    static BUILDS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let mut tmp = BuildDir::create(cache.join(format!(
        ".{key}.tmp-{}-{}",
        std::process::id(),
        BUILDS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    )))?;
    // Verilator's makefiles refuse a directory whose path make would split
    // (spaces and the like): then build in a scratch directory elsewhere and
    // copy the sources and the executable into the cache entry.
    let scratch = if make_safe(&std::path::absolute(&tmp.path).unwrap_or_else(|_| tmp.path.clone()))
    {
        None
    } else {
        Some(scratch_dir()?)
    };
    let work = scratch.as_ref().map_or(tmp.path.as_path(), |d| d.path());
    for (name, text) in &files {
        let p = work.join(name);
        std::fs::write(&p, text).with_context(|| format!("cannot write {}", p.display()))?;
    }
    let jobs = std::thread::available_parallelism().map_or(2, |n| n.get());
    // make runs in the build directory and the makefile names every file
    // relative to it.
    let mut make = Command::new("make");
    make.current_dir(work)
        .args(["-f", "sme_tb.mk", &format!("JOBS={jobs}")])
        .arg(format!("TRACE={}", trace as u8));
    process::run(
        make,
        &format!(
            "building the testbench (make -f sme_tb.mk in {})",
            work.display()
        ),
        limit,
        None::<fn(&mut dyn std::io::Write) -> Result<()>>,
        |_| Ok(()),
    )
    .map_err(|e| {
        if e.to_string().starts_with("cannot run") {
            e.context("`make` is needed to build the Verilated testbench")
        } else {
            e
        }
    })?;
    if scratch.is_some() {
        for (name, _) in &files {
            copy(&work.join(name), &tmp.path.join(name))?;
        }
        std::fs::create_dir(tmp.path.join(obj))
            .with_context(|| format!("cannot create {}", tmp.path.join(obj).display()))?;
        copy(
            &work.join(obj).join("sme_tb"),
            &tmp.path.join(obj).join("sme_tb"),
        )?;
    }
    // The lock file is not part of the entry.
    std::fs::remove_file(tmp.path.join(LOCK)).ok();
    if std::fs::rename(&tmp.path, &dir).is_ok() {
        tmp.keep = true;
    } else if !exe.is_file() {
        // Not another process finishing the same entry first.
        bail!("cannot move the built testbench into {}", dir.display());
    }
    Ok(Testbench {
        dir,
        exe,
        cached: false,
    })
}

/// Runs the testbench on `units` for at most `limit`: the stimulus streams
/// into its standard input (and with `emit` into STIM files there), its
/// results are checked as they stream back (with `expected`, the golden
/// results are written there); `trace` writes a VCD. `progress` counts the
/// tile-vector runs.
#[allow(clippy::too_many_arguments)]
pub(crate) fn run_testbench(
    cfg: &TileConfig,
    tb: &Testbench,
    units: &[Unit],
    layer: Option<&Layer>,
    emit: Option<&Path>,
    expected: Option<Box<dyn std::io::Write + '_>>,
    trace: Option<&Path>,
    limit: Duration,
    progress: &dyn Progress,
) -> Result<Outcome> {
    let total: u64 = units.iter().map(|u| u.len as u64).sum();
    progress.start(
        &format!(
            "simulating {} programs, {total} vectors on the RTL",
            units.len()
        ),
        Some(total),
    );
    let r = run(
        cfg, tb, units, layer, emit, expected, trace, limit, progress,
    );
    progress.finish();
    r
}

/// [`run_testbench`] without starting and finishing the progress report.
#[allow(clippy::too_many_arguments)]
fn run(
    cfg: &TileConfig,
    tb: &Testbench,
    units: &[Unit],
    layer: Option<&Layer>,
    emit: Option<&Path>,
    expected: Option<Box<dyn std::io::Write + '_>>,
    trace: Option<&Path>,
    limit: Duration,
    progress: &dyn Progress,
) -> Result<Outcome> {
    let mut checker = Checker::new(cfg, units, layer, expected)?;
    if units.is_empty() {
        return checker.finish();
    }
    let mut cmd = Command::new(&tb.exe);
    if let Some(t) = trace {
        cmd.arg(format!("+trace={}", t.display()));
    }
    cmd.arg("-");
    let feed = |w: &mut dyn std::io::Write| write_stims(cfg, units, layer, w, emit);
    process::run(
        cmd,
        &format!("the testbench {}", tb.exe.display()),
        limit,
        Some(feed),
        |line| {
            let runs = line.starts_with("out");
            checker.line(line)?;
            if runs {
                progress.inc(1);
            }
            Ok(())
        },
    )?;
    checker.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records the steps it sees.
    #[derive(Default)]
    struct Record(std::sync::Mutex<Vec<String>>);

    impl Progress for Record {
        fn start(&self, msg: &str, _: Option<u64>) {
            self.0.lock().unwrap().push(format!("start {msg}"));
        }
        fn message(&self, _: &str) {}
        fn inc(&self, _: u64) {}
        fn finish(&self) {
            self.0.lock().unwrap().push("finish".into());
        }
    }

    #[test]
    fn run_testbench_reports_progress_even_without_stims() {
        let tb = Testbench {
            dir: PathBuf::from("unused"),
            exe: PathBuf::from("unused/sme_tb"),
            cached: true,
        };
        let p = Record::default();
        let cfg = crate::verify::test_util::small_cfg();
        let limit = Duration::from_secs(1);
        let (c, per, _) = run_testbench(&cfg, &tb, &[], None, None, None, None, limit, &p).unwrap();
        assert!(c.ok() && c.vectors == 0 && per.is_empty());
        assert_eq!(
            *p.0.lock().unwrap(),
            [
                "start simulating 0 programs, 0 vectors on the RTL".to_string(),
                "finish".into()
            ]
        );
    }

    #[test]
    fn sweep_removes_dead_builds_and_keeps_live_ones() {
        let cache = tempfile::tempdir().unwrap();
        let live = BuildDir::create(cache.path().join(".tb-x.tmp-1-0")).unwrap();
        let dead = cache.path().join(".tb-y.tmp-2-0");
        std::fs::create_dir(&dead).unwrap();
        std::fs::write(dead.join(LOCK), "").unwrap();
        let fresh = cache.path().join(".tb-z.tmp-3-0");
        std::fs::create_dir(&fresh).unwrap();
        let entry = cache.path().join("tb-keep");
        std::fs::create_dir(&entry).unwrap();
        sweep(cache.path());
        assert!(live.path.is_dir() && !dead.exists() && entry.is_dir());
        // Without a lock file only an old directory counts as dead.
        assert!(fresh.is_dir());
        let p = live.path.clone();
        drop(live);
        assert!(!p.exists());
    }
}
