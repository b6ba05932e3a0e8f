//! The MNIST LeNet end to end (issue 13): `sme compress --dataset mnist
//! --model lenet` on a short schedule trains the CNN, writes a version-2
//! integer network in the pattern, and `sme infer` runs every layer of it on
//! the generated RTL with RTL classes (and logits) equal to the integer
//! model's; a corrupted layer is caught. Needs `--features train` and
//! Verilator.
#![cfg(feature = "train")]

mod common;

use common::{cache, sme, stderr, tmp};
use sme::compiler::pattern::{Pattern, in_pattern};
use sme::weights::WeightsFile;
use std::path::Path;

const MNIST: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/mnist10k.csv.gz");

fn infer(weights: &Path, extra: &[&str], json: &Path) -> std::process::Output {
    sme()
        .args(["infer", "--xbar", "32", "--ou", "16x8", "--data", MNIST])
        .args(["--images", "3", "--weights"])
        .arg(weights)
        .args(extra)
        .arg("--cache-dir")
        .arg(cache())
        .arg("--json")
        .arg(json)
        .output()
        .unwrap()
}

#[test]
fn lenet_trains_compresses_and_runs_on_the_rtl() {
    let dir = tmp("compress-cnn");
    let d = dir.path();
    let (json, out, int8) = (
        d.join("k2.json"),
        d.join("k2.weights.json"),
        d.join("int8.weights.json"),
    );
    // A short schedule on 7,000 of the 8,000 training rows.
    let o = sme()
        .args(["compress", "--dataset", "mnist", "--data", MNIST])
        .args(["--model", "lenet", "--pattern", "khot", "--k", "2"])
        .args(["--train-rows", "7000", "--epochs", "4"])
        .args(["--admm-epochs", "2", "--finetune-epochs", "1", "--json"])
        .arg(&json)
        .arg("--out")
        .arg(&out)
        .arg("--out-int8")
        .arg(&int8)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(doc["dataset"], "mnist");
    assert_eq!(doc["act_bits"], 8);
    assert_eq!(doc["split"]["train"], 7000);
    assert_eq!(doc["split"]["test"], 2000);
    let acc = |k: &str| doc["accuracy"][k].as_f64().unwrap();
    assert!(acc("float") >= 0.95, "{doc}");
    assert!(acc("int8") >= acc("float") - 0.01, "{doc}");
    assert!(acc("admm") >= 0.94, "{doc}");

    let f = WeightsFile::load(&out).unwrap();
    assert_eq!(f.version, 2);
    assert_eq!(f.layers.len(), 4);
    for l in &f.layers {
        assert!(
            in_pattern(&Pattern::KHot { k: 2 }, &l.matrix(), 7),
            "{}",
            l.name
        );
        assert!(l.requant.is_some());
    }
    assert_eq!(f.layers[0].conv.unwrap().kernel, 5);
    assert_eq!((f.layers[1].rows, f.layers[1].cols), (150, 16));

    // The integer network on the RTL: dense and SME programs.
    for mapper in ["sme", "dense"] {
        let j = d.join(format!("infer_{mapper}.json"));
        let o = infer(&out, &["--mapper", mapper], &j);
        assert!(o.status.success(), "{}", stderr(&o));
        let r: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&j).unwrap()).unwrap();
        assert_eq!(r["images"], 3);
        assert_eq!(r["agree"], 3, "{r}");
        assert_eq!(r["logits_agree"], 3, "{r}");
        assert_eq!(r["cycles_rtl"], r["cycles_model"], "{r}");
        assert!(r["cycles_rtl"].as_u64().unwrap() > 0);
        assert_eq!(r["ok"], true);
        assert_eq!(r["layers"].as_array().unwrap().len(), 4);
    }

    // A corrupted conv2 weight: the RTL runs the corrupted network, the
    // check uses the original integer model, and the run fails.
    let mut bad = f.clone();
    for w in bad.layers[1].weights.iter_mut().take(40) {
        *w = if *w > 0 { -*w } else { 96 }; // 96 = 0b1100000: still k-hot k = 2
    }
    let bad_path = d.join("bad.weights.json");
    bad.save(&bad_path).unwrap();
    let j = d.join("infer_bad.json");
    let o = infer(&bad_path, &["--reference", out.to_str().unwrap()], &j);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(e.contains("RTL and integer model disagree"), "{e}");
    assert!(e.contains("RTL logits"), "{e}");
    let r: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&j).unwrap()).unwrap();
    assert!(r["logits_agree"].as_u64().unwrap() < 3, "{r}");
    assert_eq!(r["ok"], false);
}

#[test]
fn bad_input_is_named() {
    let dir = tmp("compress-cnn-bad");
    let d = dir.path();
    let run = |args: &[&str]| {
        let o = sme().args(args).output().unwrap();
        assert!(!o.status.success(), "{args:?}");
        stderr(&o)
    };
    // MNIST rows are 785 columns: the digits file is not MNIST.
    let digits = concat!(env!("CARGO_MANIFEST_DIR"), "/data/digits.csv.gz");
    let e = run(&["compress", "--dataset", "mnist", "--data", digits]);
    assert!(e.contains("65 columns, expected 785"), "{e}");
    let e = run(&["compress", "--dataset", "digits", "--model", "lenet"]);
    assert!(
        e.contains("--model lenet does not fit --dataset digits"),
        "{e}"
    );
    // A version-1 file is not a network.
    let v1 = d.join("v1.json");
    std::fs::write(
        &v1,
        r#"{"format":"sme-weights","version":1,"name":"t","weight_bits":8,"pattern":"none","k":0,
           "layers":[{"name":"fc","rows":2,"cols":1,"scales":[1.0],"weights":[1,2]}]}"#,
    )
    .unwrap();
    let e = run(&["infer", "--weights", v1.to_str().unwrap(), "--data", MNIST]);
    assert!(e.contains("has no `requant`"), "{e}");
    let e = run(&["infer", "--weights", d.join("none.json").to_str().unwrap()]);
    assert!(e.contains("cannot read weights file"), "{e}");
}
