//! Helpers shared by the integration tests: the `sme` binary, scratch
//! directories that clean up after themselves, paths into the repository,
//! cosim-matrix configs by name, input modes, the proptest seed and where
//! proptest keeps its regression seeds. `reference` holds the tile-program
//! references the co-simulation and golden-model properties compare against.
//!
//! Each test crate uses a subset (`mod common;`).
#![allow(dead_code)]

pub mod reference;

use proptest::test_runner::{FailurePersistence, FileFailurePersistence, RngSeed};
use sme::config::TileConfig;
use sme::testgen::InputMode;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use tempfile::TempDir;

/// The `sme` binary under test.
pub fn sme() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sme"))
}

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A file or directory of the repository, e.g. `repo("data/digits.csv.gz")`.
pub fn repo(rel: &str) -> PathBuf {
    root().join(rel)
}

/// A fresh, empty scratch directory (under cargo's per-target temporary
/// directory) named after `tag`, removed when the returned guard drops -
/// also when the test panics. `SME_KEEP_TMP=1` keeps it for inspection.
pub fn tmp(tag: &str) -> TempDir {
    let mut d = tempfile::Builder::new()
        .prefix(&format!("sme-{tag}-"))
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("create a scratch directory");
    if std::env::var_os("SME_KEEP_TMP").is_some() {
        d.disable_cleanup(true);
        println!("keeping {}", d.path().display());
    }
    d
}

/// The verification cache shared by the tests that run `sme verify`
/// (Verilated testbenches are built once per config and reused).
pub fn cache() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("sme-cache")
}

/// stdout and stderr of a finished command, as text.
pub fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// stderr of a finished command, as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The config named `name` in the co-simulation matrix
/// (`sme::cosim_matrix::matrix()`), validated.
pub fn matrix_config(name: &str) -> TileConfig {
    sme::cosim_matrix::matrix()
        .into_iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no config `{name}` in the cosim matrix"))
        .1
        .validate()
        .unwrap_or_else(|e| panic!("matrix config `{name}`: {e:?}"))
}

/// The input mode of vector `v` in a run: all-zero, all-max, then random.
pub fn input_mode(v: usize) -> InputMode {
    InputMode::ALL[v.min(InputMode::ALL.len() - 1)]
}

/// The proptest seed: fixed (`SME_COSIM_SEED`, default 1) so CI runs are
/// reproducible; `SME_COSIM_RANDOM=1` draws a fresh one.
pub fn rng_seed() -> RngSeed {
    if std::env::var_os("SME_COSIM_RANDOM").is_some() {
        return RngSeed::Random;
    }
    let seed = std::env::var("SME_COSIM_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    println!("proptest seed {seed} (SME_COSIM_SEED; SME_COSIM_RANDOM=1 for a fresh one)");
    RngSeed::Fixed(seed)
}

/// Where proptest keeps the failing seeds of the integration test `test`:
/// `proptest-regressions/tests/<test>.txt`, beside the unit tests'
/// `proptest-regressions/<module path>.txt` (proptest's default for code
/// under `src/`; for `tests/` the default would put a stray
/// `<test>.proptest-regressions` next to the source, since `tests/` has no
/// `lib.rs`). Commit these files: the seeds are replayed first on every run.
pub fn regressions(test: &str) -> Option<Box<dyn FailurePersistence>> {
    let path = format!(
        "{}/proptest-regressions/tests/{test}.txt",
        env!("CARGO_MANIFEST_DIR")
    );
    Some(Box::new(FileFailurePersistence::Direct(Box::leak(
        path.into_boxed_str(),
    ))))
}

/// Fails the test loudly unless `cmd` runs (`arg`: a flag that makes it
/// print its version); `package`: the Debian package to install.
pub fn need(cmd: &str, arg: &str, package: &str) {
    assert!(
        Command::new(cmd).arg(arg).output().is_ok(),
        "{cmd} is not installed: run scripts/test (it installs it) or `apt-get install -y {package}`"
    );
}

/// Runs the Yosys script `script` in `dir`, logging to `log`; asserts that
/// it succeeds and that no memory became a list of registers (or FF
/// mapping, memory_libmap's word for the same) except the memories named in
/// `ff_by_design` (substrings of the memory name), and returns the log.
pub fn yosys_keeping_memories(
    dir: &Path,
    script: &str,
    log: &str,
    ff_by_design: &[&str],
) -> String {
    need("yosys", "-V", "yosys");
    let out = Command::new("yosys")
        .current_dir(dir)
        .args(["-q", "-l", log, "-s", script])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "yosys -s {script}:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(dir.join(log)).unwrap();
    let regs: Vec<&str> = text
        .lines()
        .filter(|l| {
            (l.contains("with list of registers") || l.contains("using FF mapping for memory"))
                && !ff_by_design.iter().any(|m| l.contains(m))
        })
        .collect();
    assert!(
        regs.is_empty(),
        "a memory became registers:\n{}",
        regs.join("\n")
    );
    text
}
