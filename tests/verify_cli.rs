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
