//! The generator: committed default output, golden text for small configs,
//! determinism, output-directory safety and config errors.

use sme::config::{TileConfig, TileParams};
use sme::rtlgen::{DEFAULT_PREFIX, generate};
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Compare a bundle with a committed directory; `SME_BLESS=1` rewrites it.
fn check_dir(cfg: &TileConfig, dir: &Path) {
    let bundle = generate(cfg, DEFAULT_PREFIX);
    if std::env::var_os("SME_BLESS").is_some() {
        std::fs::create_dir_all(dir).unwrap();
        for f in bundle.files() {
            std::fs::write(dir.join(&f.name), &f.text).unwrap();
        }
    }
    let mut names: Vec<String> = bundle.files().map(|f| f.name.clone()).collect();
    for f in bundle.files() {
        let committed = std::fs::read_to_string(dir.join(&f.name)).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (run `SME_BLESS=1 cargo test --test gen` to regenerate)",
                dir.join(&f.name).display()
            )
        });
        assert!(
            committed == f.text,
            "{} differs from the generator's output (run `SME_BLESS=1 cargo test --test gen` after an intended change)",
            dir.join(&f.name).display()
        );
    }
    let mut on_disk: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    names.sort();
    assert_eq!(
        on_disk,
        names,
        "{} holds files the generator does not write",
        dir.display()
    );
}

#[test]
fn committed_default_rtl_matches_generator() {
    check_dir(&TileConfig::default_config(), &root().join("rtl"));
}

#[test]
fn golden_text_small_configs() {
    let small = [
        (
            "tiny",
            sme::cosim_matrix::matrix()
                .into_iter()
                .find(|(n, _)| *n == "tiny")
                .unwrap()
                .1,
        ),
        (
            "odd",
            sme::cosim_matrix::matrix()
                .into_iter()
                .find(|(n, _)| *n == "odd")
                .unwrap()
                .1,
        ),
        (
            "lossy",
            sme::cosim_matrix::matrix()
                .into_iter()
                .find(|(n, _)| *n == "lossy")
                .unwrap()
                .1,
        ),
    ];
    for (name, params) in small {
        check_dir(
            &params.validate().unwrap(),
            &root().join("tests/golden").join(name),
        );
    }
}

#[test]
fn generation_is_deterministic() {
    let cfg = TileConfig::default_config();
    assert_eq!(generate(&cfg, "sme"), generate(&cfg, "sme"));
    let other = TileParams {
        xbars: Some(4),
        ..Default::default()
    }
    .validate()
    .unwrap();
    assert_ne!(generate(&cfg, "sme"), generate(&other, "sme"));
}

fn sme() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sme"))
}

fn tmpdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sme-test-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[test]
fn cli_gen_writes_refuses_and_reruns_identically() {
    let d = tmpdir("gen");
    let out = sme()
        .args(["gen", "--xbar", "16", "--xbars", "2", "--out"])
        .arg(&d)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("sme_tile.json"), "{stdout}");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("sme_tile.json")).unwrap()).unwrap();
    assert_eq!(manifest["top"], "sme_tile");
    assert_eq!(manifest["config"]["rows"], 16);
    let filelist = std::fs::read_to_string(d.join("sme_tile.f")).unwrap();
    for line in filelist.lines() {
        assert!(
            d.join(line).is_file(),
            "filelist entry {line} is not relative to the output dir"
        );
    }
    let first: Vec<(String, Vec<u8>)> = read_all(&d);
    // Non-empty: refused without --force, nothing changed.
    let again = sme()
        .args(["gen", "--xbar", "16", "--xbars", "2", "--out"])
        .arg(&d)
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    let forced = sme()
        .args(["gen", "--xbar", "16", "--xbars", "2", "--force", "--out"])
        .arg(&d)
        .output()
        .unwrap();
    assert!(forced.status.success());
    assert_eq!(read_all(&d), first, "rerun is not byte-identical");
    std::fs::remove_dir_all(&d).unwrap();
}

/// `gen --tb` adds the testbench: the C++ is `sim/sme_tb.cpp` verbatim, the
/// makefile carries the config's widths, and a rerun is byte-identical.
#[test]
fn cli_gen_tb_writes_the_testbench() {
    let d = tmpdir("gen-tb");
    let args = [
        "gen", "--rows", "12", "--cols", "10", "--ou", "4x5", "--tb", "--force", "--out",
    ];
    let out = sme().args(args).arg(&d).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let first = read_all(&d);
    let cpp = std::fs::read_to_string(d.join("sme_tb.cpp")).unwrap();
    assert_eq!(
        cpp,
        std::fs::read_to_string(root().join("sim/sme_tb.cpp")).unwrap()
    );
    let mk = std::fs::read_to_string(d.join("sme_tb.mk")).unwrap();
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("sme_tile.json")).unwrap()).unwrap();
    let der = &manifest["derived"];
    for (def, key) in [
        ("SME_ACC_BITS", "acc_bits"),
        ("SME_PROG_ADDR_BITS", "prog_addr_bits"),
        ("SME_PROG_DATA_BITS", "prog_data_bits"),
    ] {
        assert!(
            mk.contains(&format!("-D{def}={} ", der[key]))
                || mk.contains(&format!("-D{def}={}\n", der[key])),
            "{def} in {mk}"
        );
    }
    assert!(mk.contains(&format!("-DSME_OUTPUTS={} ", manifest["config"]["outputs"])));
    for f in manifest["files"].as_array().unwrap() {
        assert!(mk.contains(f.as_str().unwrap()), "{f} not in the makefile");
    }
    let again = sme().args(args).arg(&d).output().unwrap();
    assert!(again.status.success());
    assert_eq!(read_all(&d), first, "rerun is not byte-identical");
    std::fs::remove_dir_all(&d).unwrap();
}

fn read_all(d: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn cli_rejects_bad_config_cleanly() {
    let d = tmpdir("bad");
    for (args, needle) in [
        (vec!["--xbar", "5000"], "rows"),
        (vec!["--ou-rows", "0"], "ou_rows"),
        (vec!["--cell-bits", "9"], "cell_bits"),
        (vec!["--dac-bits", "3", "--act-bits", "2"], "dac_bits"),
        (vec!["--ou", "16by8"], "--ou"),
    ] {
        let out = sme()
            .arg("gen")
            .args(&args)
            .arg("--out")
            .arg(&d)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?} accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(!d.exists(), "{args:?} left output behind");
    }
    // Config file with an unknown key and a malformed file.
    let f = std::env::temp_dir().join(format!("sme-bad-{}.toml", std::process::id()));
    for text in ["rows = 64\nbogus = 1\n", "rows = [", "rows = -3\n"] {
        std::fs::write(&f, text).unwrap();
        let out = sme()
            .args(["gen", "--config"])
            .arg(&f)
            .arg("--out")
            .arg(&d)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{text:?} accepted");
        assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
    }
    // A valid file, overridden by a flag.
    std::fs::write(&f, "rows = 32\ncols = 32\nxbars = 2\n").unwrap();
    let out = sme()
        .args(["gen", "--config"])
        .arg(&f)
        .args(["--cols", "24", "--out"])
        .arg(&d)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("sme_tile.json")).unwrap()).unwrap();
    assert_eq!(manifest["config"]["rows"], 32);
    assert_eq!(manifest["config"]["cols"], 24);
    std::fs::remove_dir_all(&d).unwrap();
    std::fs::remove_file(&f).unwrap();
}

#[test]
fn lossy_adc_is_accepted_with_a_warning() {
    let d = tmpdir("lossy");
    let out = sme()
        .args(["gen", "--xbar", "16", "--adc-bits", "3", "--out"])
        .arg(&d)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("lossy"));
    std::fs::remove_dir_all(&d).unwrap();
}
