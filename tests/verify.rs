//! End to end on the generated RTL through `sme verify` (run-time
//! Verilation, cached) and the standalone testbench: random programs on
//! random configs, real ONNX layers and synthetic ResNet-50 / MobileNet-v2
//! layers under the dense, SRE-style and SME mappers, the cycle count against
//! the cost model, and the Rust-free flow `gen --tb` + make + `sme check`.
//!
//! Needs `--features cosim` (Verilator, make, a C++ compiler). Run by
//! scripts/test.
#![cfg(feature = "cosim")]

mod common;

use common::{cache, regressions, rng_seed, sme, text, tmp};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const ONNX: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/ppocr_mobile_v2_cls.onnx");

/// `sme ARGS --cache-dir CACHE`.
fn run(args: &[&str]) -> Output {
    sme()
        .args(args)
        .arg("--cache-dir")
        .arg(cache())
        .output()
        .expect("run sme")
}

/// The numbers of the final `verify:` line: (vectors, mismatches, rtl, model).
fn verify_line(stdout: &str) -> (u64, u64, u64, u64) {
    let line = stdout
        .lines()
        .last()
        .filter(|l| l.starts_with("verify: "))
        .unwrap_or_else(|| panic!("no final verify line in:\n{stdout}"));
    let nums: Vec<u64> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|t| !t.is_empty())
        .map(|t| t.parse().unwrap())
        .collect();
    assert_eq!(nums.len(), 4, "{line}");
    assert_eq!(
        line,
        format!(
            "verify: {} vectors, {} mismatches, rtl cycles {}, model cycles {}",
            nums[0], nums[1], nums[2], nums[3]
        )
    );
    (nums[0], nums[1], nums[2], nums[3])
}

fn assert_passes(args: &[&str]) -> String {
    let o = run(args);
    let (out, err) = text(&o);
    assert!(o.status.success(), "sme {args:?} failed:\n{out}\n{err}");
    let (n, k, a, b) = verify_line(&out);
    assert!(n > 0 && k == 0 && a == b && a > 0, "{out}");
    out
}

/// Random programs (dense/SRE/SME mappings of edge-case weights and fully
/// random programs, all-zero/all-max/random inputs, idle cycles) on random
/// tile configs: odd sizes, multi-bit cells, lossy ADCs, wide and narrow
/// accumulators. Each config is verilated once (cached).
#[test]
fn random_programs_on_random_configs() {
    let mut runner = TestRunner::new(Config {
        cases: 4,
        rng_seed: rng_seed(),
        failure_persistence: regressions("verify"),
        ..Config::default()
    });
    let strat = (
        3u32..=12,
        3u32..=12,
        1u32..=4,
        1u32..=4,
        prop::sample::select(vec![
            (1u32, 8u32, 8u32, 1u32),
            (2, 8, 6, 2),
            (1, 4, 5, 2),
            (2, 16, 4, 1),
        ]),
        any::<bool>(),
        1u32..=3,
        any::<u64>(),
    );
    let seen = std::cell::Cell::new(0);
    runner
        .run(
            &strat,
            |(rows, cols, our, ouc, (c, q, a, d), lossy, xbars, seed)| {
                let our = our.min(rows);
                let ouc = ouc.min(cols);
                let mut args: Vec<String> = vec![
                    "verify".into(),
                    format!("--rows={rows}"),
                    format!("--cols={cols}"),
                    format!("--ou={our}x{ouc}"),
                    format!("--cell-bits={c}"),
                    format!("--weight-bits={q}"),
                    format!("--act-bits={a}"),
                    format!("--dac-bits={d}"),
                    format!("--xbars={xbars}"),
                    "--programs=6".into(),
                    "--vectors=4".into(),
                    format!("--seed={seed}"),
                ];
                if lossy {
                    args.push("--adc-bits=2".into());
                }
                let refs: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
                let o = run(&refs);
                let (out, err) = text(&o);
                prop_assert!(o.status.success(), "sme {:?}:\n{}\n{}", refs, out, err);
                let (n, k, rtl, model) = verify_line(&out);
                prop_assert!(n >= 24 && k == 0 && rtl == model, "{}", out);
                seen.set(seen.get() + 1);
                Ok(())
            },
        )
        .unwrap();
    assert_eq!(seen.get(), 4);
}

#[test]
fn real_and_synthetic_layers_match_and_cycles_equal_the_cost_model() {
    let scratch = tmp("verify-layers");
    let dir = scratch.path();
    let cfg = ["--xbar=16", "--ou=4x4"];
    let cases: Vec<Vec<String>> = [
        "--onnx ONNX --layer Conv@46 --pattern group --k 2",
        "--onnx ONNX --layer Conv@42 --pattern khot --k 2",
        "--onnx ONNX --layer MatMul@0 --pattern none",
        "--net resnet50 --layer layer3.0.conv2 --pattern group --k 1",
        "--net mobilenetv2 --layer features.2.expand --pattern khot --k 1",
        "--net mobilenetv2 --layer features.2.depthwise --pattern group --k 2",
    ]
    .iter()
    .map(|c| {
        c.split_whitespace()
            .map(|t| {
                if t == "ONNX" {
                    ONNX.to_string()
                } else {
                    t.to_string()
                }
            })
            .collect()
    })
    .collect();
    for (i, case) in cases.iter().enumerate() {
        let json = dir.join(format!("{i}.json"));
        let mut args = vec!["verify", "--vectors", "3"];
        args.extend(cfg);
        args.extend(case.iter().map(|s| s.as_str()));
        args.extend(["--json", json.to_str().unwrap()]);
        let out = assert_passes(&args);
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        let mappers = v["mappers"].as_array().expect("mappers");
        assert_eq!(mappers.len(), 3, "{out}");
        for m in mappers {
            assert_eq!(
                m["rtl_cycles_parallel"], m["cost_cycles_per_vector"],
                "{case:?}: {m}"
            );
            assert_eq!(m["mismatches"], 0);
            assert_eq!(m["layer_mismatches"], 0);
        }
        let tiles = |name: &str| {
            mappers.iter().find(|m| m["mapper"] == name).unwrap()["rtl_cycles_one_tile"]
                .as_u64()
                .unwrap()
        };
        // On this 16x16 tile every layer block (at most 64 x 32) spans several
        // dense tiles, and SME's squeezed programs need no more
        // time-multiplexed RTL cycles than dense. (On a 128x128 tile, small
        // layers can be slower under SME than dense; see docs/results.md.)
        assert!(tiles("sme") <= tiles("dense"), "{case:?}\n{out}");
    }
}

#[test]
fn lossy_adc_layer_matches_golden() {
    assert_passes(&[
        "verify",
        "--xbar=16",
        "--ou=8x4",
        "--adc-bits=2",
        "--onnx",
        ONNX,
        "--layer",
        "Conv@44",
        "--pattern",
        "none",
        "--vectors",
        "3",
    ]);
}

#[test]
fn cache_is_reused() {
    let args = [
        "verify",
        "--xbar=8",
        "--ou=4x4",
        "--xbars=2",
        "--programs=2",
        "--vectors=2",
    ];
    assert_passes(&args);
    let o = run(&args);
    let (_, err) = text(&o);
    assert!(o.status.success());
    assert!(err.contains("reusing cached testbench"), "{err}");
}

/// The Rust-free flow: `gen --tb`, make, run the testbench on the STIM files
/// `verify --emit` wrote, `sme check` the results; a corrupted result is
/// caught; the tracing build writes a VCD.
#[test]
fn standalone_testbench_flow() {
    let (rtl_dir, stims_dir) = (tmp("tb-rtl"), tmp("tb-stims"));
    let (rtl, stims) = (rtl_dir.path(), stims_dir.path());
    let cfg = ["--xbar=8", "--ou=4x2", "--xbars=2", "--adc-bits=2"];
    let mut gen_args = vec!["gen", "--tb", "--force", "--out", rtl.to_str().unwrap()];
    gen_args.extend(cfg);
    let o = sme().args(&gen_args).output().unwrap();
    assert!(o.status.success(), "{:?}", text(&o));
    let mut v = vec![
        "verify",
        "--programs=4",
        "--vectors=3",
        "--emit",
        stims.to_str().unwrap(),
    ];
    v.extend(cfg);
    assert_passes(&v);

    let make = Command::new("make")
        .current_dir(rtl)
        .args(["-f", "sme_tb.mk", "TRACE=1"])
        .output()
        .unwrap();
    assert!(make.status.success(), "{}", text(&make).1);
    let order = std::fs::read_to_string(stims.join("stims.txt")).unwrap();
    let files: Vec<PathBuf> = order.split_whitespace().map(|f| stims.join(f)).collect();
    assert!(files.len() >= 6, "{order}");
    let vcd = stims.join("wave.vcd");
    let run = Command::new(rtl.join("obj_tb_trace/sme_tb"))
        .arg(format!("+trace={}", vcd.display()))
        .args(&files)
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", text(&run).1);
    let results = stims.join("results.txt");
    std::fs::write(&results, &run.stdout).unwrap();
    let wave = std::fs::read_to_string(&vcd).unwrap();
    assert!(wave.contains("$enddefinitions") && wave.contains("prog_valid_i"));

    let check = |r: &Path| {
        sme()
            .args(["check"])
            .arg(stims.join("expected.txt"))
            .arg(r)
            .output()
            .unwrap()
    };
    let ok = check(&results);
    assert!(ok.status.success(), "{:?}", text(&ok));
    assert!(text(&ok).0.contains(" 0 mismatches"));

    // Corrupt one output value: `sme check` must fail and say where.
    let body = String::from_utf8(run.stdout.clone()).unwrap();
    let bad_line = body.lines().position(|l| l.starts_with("out ")).unwrap();
    let corrupted: Vec<String> = body
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == bad_line {
                let mut parts: Vec<String> = l.split(' ').map(String::from).collect();
                let v: i128 = parts[1].parse().unwrap();
                parts[1] = (v + 1).to_string();
                parts.join(" ")
            } else {
                l.to_string()
            }
        })
        .collect();
    let bad = stims.join("bad.txt");
    std::fs::write(&bad, corrupted.join("\n") + "\n").unwrap();
    let o = check(&bad);
    let (out, err) = text(&o);
    assert!(!o.status.success());
    assert!(out.contains(" 1 mismatches"), "{out}");
    assert!(err.contains("vector 0: output 0"), "{err}");

    // A trace that cannot be written ends the testbench with a message
    // (Verilator's own VCD writer can hang on a failed write).
    let t0 = std::time::Instant::now();
    let o = Command::new(rtl.join("obj_tb_trace/sme_tb"))
        .arg("+trace=/dev/full")
        .args(&files)
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(
        text(&o).1.contains("/dev/full: cannot write the trace"),
        "{:?}",
        text(&o)
    );
    assert!(t0.elapsed().as_secs() < 30);
    // The STIM list: one path per line, relative to the list's directory,
    // so the testbench runs from anywhere; `-` reads standard input.
    let o = Command::new(rtl.join("obj_tb_trace/sme_tb"))
        .arg(format!("@{}", stims.join("stims.txt").display()))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o).1);
    assert_eq!(o.stdout, run.stdout);
    let mut cat = Vec::new();
    for f in &files {
        cat.extend(std::fs::read(f).unwrap());
    }
    let mut child = Command::new(rtl.join("obj_tb_trace/sme_tb"))
        .arg("-")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), &cat).unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success());
    assert_eq!(o.stdout, run.stdout);

    // A write wider than the programming port is rejected, not truncated.
    let wide = stims.join("wide.stim");
    std::fs::write(&wide, "sme-stim 1\nW 1 0\nW fffffffffff 0\n").unwrap();
    let o = Command::new(rtl.join("obj_tb_trace/sme_tb"))
        .arg(&wide)
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(
        text(&o)
            .1
            .contains("wide.stim:3: address wider than prog_addr_i"),
        "{:?}",
        text(&o)
    );

    // A malformed STIM file is rejected with its line number.
    let broken = stims.join("broken.stim");
    std::fs::write(&broken, "sme-stim 1\nW 12\n").unwrap();
    let o = Command::new(rtl.join("obj_tb_trace/sme_tb"))
        .arg(&broken)
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(text(&o).1.contains("broken.stim:2"), "{:?}", text(&o));
}

/// Entries of `dir` (names), sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Spaces everywhere: the cache, the STIM directory, the trace, the JSON
/// and the layer outputs; the emitted `stims.txt` (one name per line) runs
/// through the testbench's `@LIST` from another directory.
#[test]
fn paths_with_spaces() {
    let scratch = tmp("verify space");
    let dir = scratch.path().join("a dir");
    std::fs::create_dir(&dir).unwrap();
    let cache = dir.join("my cache");
    let (emit, vcd, json, y) = (
        dir.join("e m"),
        dir.join("t r.vcd"),
        dir.join("j s.json"),
        dir.join("y s.csv"),
    );
    let cfg = ["--xbar=8", "--ou=4x2", "--xbars=2"];
    let mut args: Vec<&str> = vec!["verify", "--programs=2", "--vectors=3"];
    args.extend(cfg);
    let o = sme()
        .args(&args)
        .arg("--cache-dir")
        .arg(&cache)
        .arg("--emit")
        .arg(&emit)
        .arg("--trace")
        .arg(&vcd)
        .arg("--json")
        .arg(&json)
        .output()
        .unwrap();
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}\n{err}");
    let (n, k, a, b) = verify_line(&out);
    assert!(n > 0 && k == 0 && a == b);
    assert!(
        std::fs::read_to_string(&vcd)
            .unwrap()
            .contains("$enddefinitions")
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["verify"]["vectors"], n);
    // Nothing but the entries is left in the cache.
    let entries = names(&cache);
    assert!(entries.iter().all(|e| e.starts_with("tb-")), "{entries:?}");
    let exe = cache.join(&entries[0]).join("obj_tb_trace/sme_tb");
    let stims = std::fs::read_to_string(emit.join("stims.txt")).unwrap();
    assert_eq!(stims.lines().next(), Some("0000.prog.stim"));
    let run = Command::new(&exe)
        .current_dir(&dir)
        .arg(format!("@{}", emit.join("stims.txt").display()))
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", text(&run).1);
    let results = dir.join("results.txt");
    std::fs::write(&results, &run.stdout).unwrap();
    let check = sme()
        .arg("check")
        .arg(emit.join("expected.txt"))
        .arg(&results)
        .output()
        .unwrap();
    assert!(check.status.success(), "{:?}", text(&check));

    // A layer with its outputs, in the same cache.
    let o = sme()
        .args(["verify", "--net", "resnet50", "--layer", "layer3.0.conv2"])
        .args(["--cut", "20x6", "--vectors", "4", "--mapper", "sme"])
        .args(cfg)
        .arg("--cache-dir")
        .arg(&cache)
        .arg("--layer-outputs")
        .arg(&y)
        .output()
        .unwrap();
    assert!(o.status.success(), "{:?}", text(&o));
    let csv = std::fs::read_to_string(&y).unwrap();
    assert_eq!(csv.lines().count(), 5, "{csv}");
    assert!(csv.lines().nth(1).unwrap().starts_with("sme,0,"), "{csv}");
}

/// A testbench that hangs is killed at its time limit; one that fails or
/// prints garbage is reported; none of these runs leaves an output, a
/// staged temporary file or a STIM directory behind.
#[test]
fn a_hanging_or_failing_testbench_leaves_nothing() {
    let scratch = tmp("verify-hang");
    let dir = scratch.path();
    let cache = dir.join("cache");
    let base = [
        "verify",
        "--xbar=8",
        "--ou=2x2",
        "--xbars=1",
        "--programs=2",
        "--vectors=2",
    ];
    let o = sme()
        .args(base)
        .arg("--cache-dir")
        .arg(&cache)
        .output()
        .unwrap();
    assert!(o.status.success(), "{:?}", text(&o));
    let entry = names(&cache)
        .into_iter()
        .find(|e| e.starts_with("tb-"))
        .unwrap();
    let exe = cache.join(entry).join("obj_tb/sme_tb");
    let out = dir.join("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("old.json"), "keep").unwrap();
    for (script, needle) in [
        ("exec sleep 600", "did not finish within its time limit"),
        ("echo broken >&2; exit 3", "broken"),
        (
            "cat >/dev/null; echo garbage",
            "expected the header `sme-out 1`",
        ),
    ] {
        std::fs::write(&exe, format!("#!/bin/sh\n{script}\n")).unwrap();
        let t0 = std::time::Instant::now();
        let o = sme()
            .args(base)
            .args(["--timeout-scale", "0.1"])
            .arg("--cache-dir")
            .arg(&cache)
            .arg("--emit")
            .arg(out.join("stims"))
            .arg("--json")
            .arg(out.join("old.json"))
            .output()
            .unwrap();
        let (stdout, err) = text(&o);
        assert!(!o.status.success(), "{script}: {stdout}");
        assert!(err.contains(needle), "{script}: {err}");
        assert!(!err.contains("panicked"), "{err}");
        assert!(t0.elapsed().as_secs() < 60, "{script}: {:?}", t0.elapsed());
        assert_eq!(names(&out), ["old.json"], "{script}");
        assert_eq!(
            std::fs::read_to_string(out.join("old.json")).unwrap(),
            "keep"
        );
    }
}

/// Ctrl-C during the build stops make and its compilers and removes the
/// half-built cache entry; no output is written.
#[test]
fn an_interrupted_build_leaves_nothing() {
    let scratch = tmp("verify-int");
    let dir = scratch.path();
    let cache = dir.join("cache");
    let json = dir.join("r.json");
    let child = sme()
        .args([
            "verify",
            "--xbar=12",
            "--ou=3x3",
            "--xbars=2",
            "--programs=1",
        ])
        .arg("--cache-dir")
        .arg(&cache)
        .arg("--json")
        .arg(&json)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = std::time::Instant::now();
    while !names(&cache).iter().any(|e| e.contains(".tmp-")) {
        assert!(t0.elapsed().as_secs() < 60, "no build started");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::thread::sleep(std::time::Duration::from_millis(500));
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let o = child.wait_with_output().unwrap();
    let (_, err) = text(&o);
    assert!(!o.status.success());
    assert!(err.contains("interrupted"), "{err}");
    assert!(names(&cache).is_empty(), "{:?}", names(&cache));
    assert!(!json.exists());
    assert_eq!(names(dir), ["cache"]);
}
