//! `sme verify` and `sme check` on bad input and without Verilator: clear
//! errors, non-zero exit. Needs no Verilator (runs in every test build).

mod common;

use common::{repo, sme, tmp};
use std::process::Output;

fn run(args: &[&str], path: Option<&str>) -> Output {
    let mut c = sme();
    c.args(args);
    if let Some(p) = path {
        c.env("PATH", p);
    }
    c.output().expect("run sme")
}

fn fails_with(args: &[&str], path: Option<&str>, needles: &[&str]) {
    let o = run(args, path);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "sme {args:?} should fail");
    assert!(!err.contains("panicked"), "{err}");
    for n in needles {
        assert!(err.contains(n), "sme {args:?}: `{n}` not in:\n{err}");
    }
}

#[test]
fn without_verilator_verify_says_how_to_install_it() {
    let empty = tmp("empty-path");
    fails_with(
        &["verify", "--xbar", "8", "--ou", "4x4", "--programs", "1"],
        Some(empty.path().to_str().unwrap()),
        &["Verilator", "not found", "apt-get install -y verilator"],
    );
}

#[test]
fn bad_verify_arguments_are_named() {
    let onnx = repo("data/ppocr_mobile_v2_cls.onnx");
    let onnx = onnx.to_str().unwrap();
    fails_with(
        &["verify", "--vectors", "0"],
        None,
        &["--vectors 0", "valid 1..=100000"],
    );
    fails_with(
        &["verify", "--mapper", "fast"],
        None,
        &[
            "invalid value 'fast' for '--mapper",
            "possible values: all, dense, sre, sme",
        ],
    );
    fails_with(&["verify", "--xbar", "1"], None, &["rows", "valid"]);
    fails_with(
        &["verify", "--onnx", onnx, "--layer", "nope"],
        None,
        &["no layer `nope`", "valid"],
    );
    fails_with(
        &[
            "verify", "--net", "resnet50", "--layer", "conv1", "--cut", "0x5",
        ],
        None,
        &["--cut `0x5`", "ROWSxCOLS"],
    );
    fails_with(&["verify", "--net", "resnet50"], None, &["--layer"]);
    let scratch = tmp("verify-cli");
    let dir = scratch.path();
    let inputs = dir.join("x.csv");
    std::fs::write(&inputs, "1,2,3\n4,999,6\n").unwrap();
    fails_with(
        &[
            "verify",
            "--net",
            "resnet50",
            "--layer",
            "conv1",
            "--input-file",
            inputs.to_str().unwrap(),
        ],
        None,
        &["inputs line 2", "`999`", "valid integers 0..=255"],
    );
    let weights = dir.join("w.json");
    std::fs::write(&weights, "{\"format\": \"sme-weights\"}").unwrap();
    fails_with(
        &[
            "verify",
            "--weights",
            weights.to_str().unwrap(),
            "--layer",
            "fc1",
        ],
        None,
        &["not a valid sme weights file"],
    );
    // Layer flags without a layer are refused, not ignored.
    fails_with(
        &["verify", "--layer-outputs", "y.csv"],
        None,
        &["--layer-outputs needs a layer"],
    );
    fails_with(&["verify", "--cut", "4x4"], None, &["--cut needs a layer"]);
    // `sme check` on malformed files.
    let exp = dir.join("expected.txt");
    std::fs::write(&exp, "sme-out 1\ncycles 5\nout 1 2\n").unwrap();
    let res = dir.join("results.txt");
    std::fs::write(&res, "sme-out 1\ncycles five\n").unwrap();
    fails_with(
        &["check", exp.to_str().unwrap(), res.to_str().unwrap()],
        None,
        &["results line 2", "expected `cycles <n>`"],
    );
    let empty = dir.join("empty.txt");
    std::fs::write(&empty, "sme-out 1\n").unwrap();
    fails_with(
        &["check", empty.to_str().unwrap(), empty.to_str().unwrap()],
        None,
        &["no vectors to check"],
    );
    std::fs::write(&res, "sme-out 1\ncycles 6\nout 1 2\n").unwrap();
    fails_with(
        &["check", exp.to_str().unwrap(), res.to_str().unwrap()],
        None,
        &["rtl cycles 6 != model cycles 5"],
    );
}

/// Outputs are checked before any work (no Verilator needed to see these):
/// non-regular targets such as /dev/full, missing directories, `-` for the
/// trace, a non-empty or linked --emit directory, outputs that clash.
#[test]
fn verify_outputs_are_checked_up_front() {
    let scratch = tmp("verify-outputs");
    let dir = scratch.path();
    let p = |n: &str| dir.join(n).to_str().unwrap().to_string();
    let base = ["verify", "--xbar", "8", "--ou", "4x4", "--programs", "1"];
    let with = |extra: &[&str]| -> Vec<String> {
        base.iter()
            .chain(extra)
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
    };
    let check = |extra: &[&str], needles: &[&str]| {
        let args = with(extra);
        let refs: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
        fails_with(&refs, None, needles);
    };
    check(
        &["--trace", "/dev/full"],
        &["--trace /dev/full", "not a regular file"],
    );
    check(
        &["--trace", &p("missing/t.vcd")],
        &["--trace", "does not exist"],
    );
    check(&["--trace", "-"], &["--trace needs a file, not -"]);
    check(&["--json", "/dev/null"], &["not a regular file"]);
    std::fs::create_dir(dir.join("full")).unwrap();
    std::fs::write(dir.join("full/x"), "keep").unwrap();
    check(
        &["--emit", &p("full")],
        &["--emit", "not an empty directory"],
    );
    std::fs::create_dir(dir.join("empty")).unwrap();
    std::os::unix::fs::symlink(dir.join("empty"), dir.join("link")).unwrap();
    check(&["--emit", &p("link")], &["--emit", "link"]);
    check(
        &["--emit", &p("no/such/dir")],
        &["--emit", "does not exist"],
    );
    check(
        &["--emit", &p("empty"), "--json", &p("empty/r.json")],
        &["--emit", "overlaps the output of --json"],
    );
    check(
        &["--json", &p("same"), "--trace", &p("same")],
        &["--trace", "same output as --json"],
    );
    // Nothing was written by any of these.
    let mut left: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["empty", "full", "link"]);
    assert_eq!(std::fs::read_to_string(dir.join("full/x")).unwrap(), "keep");
}

/// The bounds of one run, refused before any build with the value and the
/// limit (docs/limits.md).
#[test]
fn verify_work_is_bounded() {
    fails_with(
        &["verify", "--vectors", "100001"],
        None,
        &["--vectors 100001", "valid 1..=100000"],
    );
    fails_with(
        &["verify", "--programs", "10001"],
        None,
        &["--programs 10001", "valid 1..=10000"],
    );
    fails_with(
        &["verify", "--timeout-scale", "0"],
        None,
        &["--timeout-scale 0", "valid 0.1..=100"],
    );
    // 10000 programs x 100000 vectors: far beyond what one run may hold.
    fails_with(
        &[
            "verify",
            "--xbar",
            "8",
            "--ou",
            "4x4",
            "--programs",
            "10000",
            "--vectors",
            "100000",
        ],
        None,
        &["limit", "fewer --vectors"],
    );
    // Many small runs: within memory, beyond the run limit.
    fails_with(
        &[
            "verify",
            "--xbar",
            "4",
            "--ou",
            "2x2",
            "--xbars",
            "1",
            "--inputs",
            "4",
            "--programs",
            "10000",
            "--vectors",
            "300",
        ],
        None,
        &["tile-vector runs", "the limit is 2000000"],
    );
    // A trace is bounded more tightly (the VCD grows with every cycle).
    let scratch = tmp("verify-many");
    let vcd = scratch.path().join("t.vcd");
    fails_with(
        &[
            "verify",
            "--xbar",
            "16",
            "--ou",
            "4x4",
            "--programs",
            "100",
            "--vectors",
            "2000",
            "--trace",
            vcd.to_str().unwrap(),
        ],
        None,
        &["--trace", "simulated cycles", "2000000"],
    );
    // An inputs file with more vectors than one run may take.
    let inputs = scratch.path().join("x.csv");
    std::fs::write(&inputs, "1\n".repeat(100_001)).unwrap();
    fails_with(
        &[
            "verify",
            "--net",
            "resnet50",
            "--layer",
            "conv1",
            "--input-file",
            inputs.to_str().unwrap(),
        ],
        None,
        &["more than 100000 vectors"],
    );
    assert!(!vcd.exists());
}
