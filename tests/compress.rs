//! `sme compress` end to end on the real digits data: JSON keys and
//! accuracies, the weights file in the pattern, and bad input (clear
//! message, non-zero exit, no output left behind).
#![cfg(feature = "train")]

mod common;

use common::{sme, stderr, tmp};
use sme::compiler::pattern::{Pattern, in_pattern};
use sme::weights::WeightsFile;
use std::path::Path;

const DIGITS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/digits.csv.gz");

#[test]
fn compress_group_k2_on_digits() {
    assert!(
        Path::new(DIGITS).is_file(),
        "{DIGITS} missing (vendored in data/)"
    );
    let dir = tmp("compress");
    let (json, out) = (
        dir.path().join("g2.json"),
        dir.path().join("g2.weights.json"),
    );
    // The default schedule: it takes well under a second in release and a
    // few seconds in a debug build.
    let o = sme()
        .args(["compress", "--dataset", "digits", "--data", DIGITS])
        .args(["--pattern", "group", "--k", "2", "--json"])
        .arg(&json)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("ADMM"), "{text}");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(doc["dataset"], "digits");
    assert_eq!(doc["pattern"], "group");
    assert_eq!(doc["k"], 2);
    assert_eq!(doc["seed"], 1);
    assert_eq!(doc["weight_bits"], 8);
    let (ntr, nte) = (
        doc["split"]["train"].as_u64().unwrap(),
        doc["split"]["test"].as_u64().unwrap(),
    );
    assert_eq!(ntr + nte, 1797);
    assert!((350..=370).contains(&nte), "{nte}");
    let acc = |k: &str| doc["accuracy"][k].as_f64().unwrap();
    for k in ["float", "int8", "projected", "admm"] {
        assert!((0.0..=1.0).contains(&acc(k)), "{k} {}", acc(k));
    }
    assert!(acc("float") > 0.9, "{doc}");
    // int8 costs little; ADMM does not lose against the plain projection
    // and stays close to int8 (the target is 1 point).
    assert!(acc("int8") >= acc("float") - 0.02, "{doc}");
    assert!(acc("admm") >= acc("projected") - 0.02, "{doc}");
    assert!(acc("admm") >= acc("int8") - 0.02, "{doc}");
    let z = doc["zero_bit_fraction"].as_f64().unwrap();
    assert_eq!(
        z,
        doc["zero_bit_fraction_by_stage"]["admm"].as_f64().unwrap()
    );
    assert!(z > doc["zero_bit_fraction_by_stage"]["int8"].as_f64().unwrap());
    assert!((0.0..=1.0).contains(&z));

    let f = WeightsFile::load(&out).unwrap();
    assert_eq!(f.weight_bits, 8);
    assert_eq!((f.pattern.as_str(), f.k), ("group", 2));
    // The OU window is recorded, so loading checked every window.
    assert_eq!(f.window, Some([16, 8]));
    let names: Vec<&str> = f.layers.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["fc1", "fc2"]);
    let p = Pattern::Group { k: 2, m: 16, g: 8 };
    for l in &f.layers {
        assert!(in_pattern(&p, &l.matrix(), 7), "{} not in {p:?}", l.name);
        assert_eq!(l.bias.len(), l.cols);
    }
    assert_eq!((f.layers[0].rows, f.layers[1].cols), (64, 10));
}

/// Runs a failing command; checks the exit, the message and that neither
/// output file exists.
fn fails(args: &[&str], data: Option<&Path>, want: &str) {
    let dir = tmp("compress-bad");
    let (json, out) = (
        dir.path().join("bad.json"),
        dir.path().join("bad.weights.json"),
    );
    let mut cmd = sme();
    cmd.arg("compress").args(args);
    if let Some(d) = data {
        cmd.arg("--data").arg(d);
    }
    if !args.contains(&"--epochs") {
        cmd.args(["--epochs", "2"]);
    }
    let o = cmd
        .args(["--admm-epochs", "1", "--finetune-epochs", "1"])
        .arg("--json")
        .arg(&json)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(!o.status.success(), "{args:?} succeeded");
    let e = stderr(&o);
    assert!(e.contains(want), "{args:?}: want `{want}` in: {e}");
    assert!(
        !json.exists() && !out.exists(),
        "{args:?} left output behind"
    );
}

#[test]
fn bad_input_fails_cleanly() {
    let digits = Path::new(DIGITS);
    let dir = tmp("compress-inputs");
    let missing = dir.path().join("no-such-file.csv.gz");
    fails(&[], Some(&missing), "cannot read data file");
    let bad = dir.path().join("malformed.csv");
    let mut rows = String::new();
    for i in 0..20 {
        let px = if i == 6 {
            "x".to_string()
        } else {
            "3".to_string()
        };
        let mut f = vec![px; 64];
        f.push((i % 10).to_string());
        rows += &(f.join(",") + "\n");
    }
    std::fs::write(&bad, &rows).unwrap();
    fails(&[], Some(&bad), "line 7, column 1: `x` is not an integer");
    std::fs::write(&bad, "1,2,3\n").unwrap();
    fails(&[], Some(&bad), "line 1: 3 columns, expected 65");
    fails(
        &["--k", "0"],
        Some(digits),
        "--k 0 is out of range: valid 1..=7",
    );
    fails(
        &["--pattern", "khot", "--k", "8"],
        Some(digits),
        "--k 8 is out of range",
    );
    fails(
        &["--pattern", "dense"],
        Some(digits),
        "--pattern none is not supported by compress",
    );
    fails(
        &["--dataset", "cifar"],
        Some(digits),
        "invalid value 'cifar' for '--dataset",
    );
    fails(&["--epochs", "0"], Some(digits), "must be at least 1");
    // An output directory that does not exist: refused before training, so
    // neither the JSON nor the weights are written.
    let json = dir.path().join("ok.json");
    let o = sme()
        .args([
            "compress",
            "--data",
            DIGITS,
            "--epochs",
            "1",
            "--admm-epochs",
            "1",
        ])
        .arg("--json")
        .arg(&json)
        .arg("--out")
        .arg(dir.path().join("no-such-dir").join("w.json"))
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(stderr(&o).contains("does not exist"), "{}", stderr(&o));
    assert!(
        !json.exists(),
        "the JSON was written although --out cannot be"
    );
}

#[test]
fn default_data_path_missing_gives_a_hint() {
    // From a directory without data/ the default is absent.
    let dir = tmp("compress-cwd");
    let o = sme()
        .current_dir(dir.path())
        .args(["compress", "--dataset", "digits"])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("digits data not found"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("pass --data FILE"), "{}", stderr(&o));
}

/// `--out` may not replace the data; a failed run keeps an existing `--out`
/// file as it was; data whose test split has one class is refused; the
/// epoch flags are bounded.
#[test]
fn compress_outputs_and_degenerate_data() {
    let dir = tmp("compress-outputs");
    let data = dir.path().join("digits.csv");
    let mut rows = String::new();
    for i in 0..40 {
        let mut f = vec![(i % 17).to_string(); 64];
        f.push("4".to_string());
        rows += &(f.join(",") + "\n");
    }
    std::fs::write(&data, &rows).unwrap();
    let o = sme()
        .args(["compress", "--data"])
        .arg(&data)
        .arg("--out")
        .arg(&data)
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(stderr(&o).contains("is an input"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&data).unwrap(), rows);

    // One class only: refused before training; the existing --out stays.
    let out = dir.path().join("w.json");
    std::fs::write(&out, "old weights").unwrap();
    let o = sme()
        .args(["compress", "--epochs", "1", "--admm-epochs", "1", "--data"])
        .arg(&data)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.contains("the test split has 1 class (4)") && e.contains("at least 2 classes"),
        "{e}"
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "old weights");
    // A malformed file fails after the outputs were checked: same.
    std::fs::write(&data, "1,2\n").unwrap();
    let o = sme()
        .args(["compress", "--data"])
        .arg(&data)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "old weights");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        2,
        "a temporary file was left behind"
    );

    for (flag, v, want) in [
        (
            "--epochs",
            "1001",
            "--epochs 1001 is out of range: valid 1..=1000",
        ),
        (
            "--admm-epochs",
            "5000",
            "--admm-epochs 5000 is out of range: valid 1..=1000",
        ),
        (
            "--finetune-epochs",
            "18446744073709551615",
            "--finetune-epochs 18446744073709551615 is out of range: valid 0..=1000",
        ),
    ] {
        let o = sme()
            .args(["compress", "--data", DIGITS, flag, v])
            .output()
            .unwrap();
        assert!(!o.status.success());
        assert!(stderr(&o).contains(want), "{}", stderr(&o));
    }
}
