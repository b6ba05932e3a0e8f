//! Every key that a `--json` output holds is documented in docs/json.md.

mod common;

use common::sme;
use serde_json::Value;

fn doc() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/json.md")).unwrap()
}

/// Key paths of `v` in the notation of docs/json.md.
fn paths(v: &Value, prefix: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let seg = if ["dense", "sre", "sme"].contains(&k.as_str()) {
                    "<mapper>"
                } else if prefix == "behaviour" {
                    "<key>"
                } else if prefix == "programming.op_layout" && k != "width" {
                    "<field>"
                } else {
                    k.as_str()
                };
                let p = if prefix.is_empty() {
                    seg.to_string()
                } else {
                    format!("{prefix}.{seg}")
                };
                out.push(p.clone());
                // The pattern is one documented enum value; config holds the
                // tile parameters.
                if p == "pattern" {
                    continue;
                }
                if p == "config" {
                    out.push("config.<param>".into());
                    continue;
                }
                if p == "derived" {
                    out.push("derived.<width>".into());
                    continue;
                }
                paths(x, &p, out);
            }
        }
        Value::Array(a) => {
            for x in a {
                paths(x, &format!("{prefix}[]"), out);
            }
        }
        _ => {}
    }
}

fn undocumented(json: &str) -> Vec<String> {
    let v: Value = serde_json::from_str(json).expect("valid JSON");
    let mut ps = Vec::new();
    paths(&v, "", &mut ps);
    ps.sort();
    ps.dedup();
    let doc = doc();
    ps.into_iter()
        .filter(|p| !doc.contains(&format!("| `{p}` |")))
        .collect()
}

#[test]
fn the_check_finds_an_undocumented_key() {
    assert_eq!(
        undocumented(r#"{"network": "x", "no_such_key": 1}"#),
        vec!["no_such_key".to_string()]
    );
}

#[test]
fn map_json_is_documented() {
    let o = sme()
        .args(["map", "--net", "resnet18", "--layers", "2", "--json", "-"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let missing = undocumented(&String::from_utf8(o.stdout).unwrap());
    assert!(missing.is_empty(), "not in docs/json.md: {missing:?}");
}

#[cfg(feature = "train")]
#[test]
fn compress_json_is_documented() {
    let o = sme()
        .args([
            "compress",
            "--epochs",
            "1",
            "--admm-epochs",
            "1",
            "--finetune-epochs",
            "0",
        ])
        .args([
            "--data",
            concat!(env!("CARGO_MANIFEST_DIR"), "/data/digits.csv.gz"),
        ])
        .args(["--json", "-"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let missing = undocumented(&String::from_utf8(o.stdout).unwrap());
    assert!(missing.is_empty(), "not in docs/json.md: {missing:?}");
}

/// Needs Verilator at run time (scripts/test installs it).
#[cfg(feature = "cosim")]
#[test]
fn verify_json_is_documented() {
    let cache = tempfile::tempdir().unwrap();
    let small = [
        "--xbar",
        "16",
        "--ou",
        "4x4",
        "--xbars",
        "2",
        "--vectors",
        "1",
    ];
    for extra in [
        vec!["--programs", "1"],
        vec!["--net", "resnet18", "--layer", "conv1", "--cut", "24x12"],
    ] {
        let o = sme()
            .arg("verify")
            .args(small)
            .args(&extra)
            .arg("--cache-dir")
            .arg(cache.path())
            .args(["--json", "-"])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let text = String::from_utf8(o.stdout).unwrap();
        let json = &text[text.find('{').expect("JSON on stdout")..];
        let missing = undocumented(json);
        assert!(missing.is_empty(), "not in docs/json.md: {missing:?}");
    }
}

#[test]
fn chip_json_is_documented() {
    // `--also 16` gives a chip on which no mapping fits (null fields).
    let o = sme()
        .args([
            "chip", "--net", "resnet18", "--layers", "2", "--chip", "isaac",
        ])
        .args(["--also", "fit-sme,16", "--json", "-"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let missing = undocumented(&String::from_utf8(o.stdout).unwrap());
    assert!(missing.is_empty(), "not in docs/json.md: {missing:?}");
}

#[cfg(feature = "train")]
fn lenet_weights(dir: &std::path::Path) -> (String, std::path::PathBuf) {
    let w = dir.join("lenet.weights.json");
    let o = sme()
        .args(["compress", "--dataset", "mnist", "--train-rows", "300"])
        .args([
            "--epochs",
            "1",
            "--admm-epochs",
            "1",
            "--finetune-epochs",
            "0",
        ])
        .args([
            "--data",
            concat!(env!("CARGO_MANIFEST_DIR"), "/data/mnist10k.csv.gz"),
        ])
        .arg("--out")
        .arg(&w)
        .args(["--json", "-"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    (String::from_utf8(o.stdout).unwrap(), w)
}

#[cfg(feature = "train")]
#[test]
fn compress_lenet_json_is_documented() {
    let dir = tempfile::tempdir().unwrap();
    let (json, _) = lenet_weights(dir.path());
    let missing = undocumented(&json);
    assert!(missing.is_empty(), "not in docs/json.md: {missing:?}");
}

/// Needs Verilator at run time.
#[cfg(all(feature = "train", feature = "cosim"))]
#[test]
fn infer_json_is_documented() {
    let dir = tempfile::tempdir().unwrap();
    let (_, w) = lenet_weights(dir.path());
    let o = sme()
        .args(["infer", "--xbar", "32", "--ou", "16x8", "--images", "1"])
        .args([
            "--data",
            concat!(env!("CARGO_MANIFEST_DIR"), "/data/mnist10k.csv.gz"),
        ])
        .arg("--weights")
        .arg(&w)
        .arg("--cache-dir")
        .arg(common::cache())
        .args(["--json", "-"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let missing = undocumented(&String::from_utf8(o.stdout).unwrap());
    assert!(missing.is_empty(), "not in docs/json.md: {missing:?}");
}

/// The manifest `sme gen` writes beside the RTL.
#[test]
fn gen_manifest_is_documented() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rtl");
    let o = sme()
        .args([
            "gen", "--xbar", "16", "--ou", "4x4", "--xbars", "2", "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let json = std::fs::read_to_string(out.join("sme_tile.json")).unwrap();
    let missing = undocumented(&json);
    assert!(missing.is_empty(), "not in docs/json.md: {missing:?}");
}
