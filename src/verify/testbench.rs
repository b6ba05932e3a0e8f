//! Verilator probing, the testbench cache and building and running the
//! standalone testbench.

use crate::config::TileConfig;
use crate::progress::Progress;
use crate::rtlgen;
use crate::stim::{self, Run};
use anyhow::{Context, Result, bail};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;

/// How to install Verilator, printed when it is missing.
pub(crate) const INSTALL_HINT: &str = "install Verilator 5.x: `sudo apt-get install -y verilator` \
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
/// never reused. `progress` sees the step start and finish.
pub fn build_testbench(
    cfg: &TileConfig,
    cache: &Path,
    trace: bool,
    progress: &dyn Progress,
) -> Result<Testbench> {
    progress.start(
        "verilating and compiling the tile and testbench (cached after the first run)",
        None,
    );
    let tb = build(cfg, cache, trace);
    progress.finish();
    tb
}

/// [`build_testbench`] without the progress report.
fn build(cfg: &TileConfig, cache: &Path, trace: bool) -> Result<Testbench> {
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
/// fits on the command line. `stims` are program and vector file pairs as
/// [`write_stims`](super::units::write_stims) returns them; `progress` sees
/// the simulation start and finish.
pub(crate) fn run_testbench(
    tb: &Testbench,
    stims: &[PathBuf],
    trace: Option<&Path>,
    progress: &dyn Progress,
) -> Result<Vec<Run>> {
    progress.start(
        &format!("simulating {} programs on the RTL", stims.len() / 2),
        None,
    );
    let runs = run(tb, stims, trace);
    progress.finish();
    runs
}

/// [`run_testbench`] without the progress report.
fn run(tb: &Testbench, stims: &[PathBuf], trace: Option<&Path>) -> Result<Vec<Run>> {
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
        assert!(run_testbench(&tb, &[], None, &p).unwrap().is_empty());
        assert_eq!(
            *p.0.lock().unwrap(),
            [
                "start simulating 0 programs on the RTL".to_string(),
                "finish".into()
            ]
        );
        assert!(
            run_testbench(&tb, &[], None, &crate::progress::Silent)
                .unwrap()
                .is_empty()
        );
    }
}
