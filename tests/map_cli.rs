//! `sme map` end to end: real ONNX model, built-in networks, JSON/CSV output,
//! bad input, and the packer's distance to the packing bound on ResNet-50.

mod common;

use common::{repo, sme, tmp};

#[test]
fn map_real_onnx_model_writes_json_and_csv() {
    let model = repo("data/ppocr_mobile_v2_cls.onnx");
    assert!(
        model.is_file(),
        "{} missing (vendored in data/)",
        model.display()
    );
    let dir = tmp("map");
    let (json, csv) = (dir.path().join("ppocr.json"), dir.path().join("ppocr.csv"));
    let out = sme()
        .args(["map", "--onnx"])
        .arg(&model)
        .args([
            "--input-shape",
            "3x48x192",
            "--pattern",
            "group",
            "--k",
            "2",
            "--xbar",
            "64",
            "--json",
        ])
        .arg(&json)
        .arg("--csv")
        .arg(&csv)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let layers = doc["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 54);
    let t = &doc["totals"];
    for m in ["dense", "sre", "sme"] {
        for k in ["crossbars", "cycles", "energy_pj"] {
            assert!(t[m][k].as_f64().unwrap() > 0.0, "totals.{m}.{k}");
        }
    }
    for k in ["cell_crossbars", "packing_crossbars", "cycles"] {
        assert!(t["bounds"][k].as_u64().unwrap() > 0, "bounds.{k}");
    }
    let (d, s) = (
        t["dense"]["crossbars"].as_u64().unwrap(),
        t["sme"]["crossbars"].as_u64().unwrap(),
    );
    assert!(s <= d && s >= t["bounds"]["packing_crossbars"].as_u64().unwrap());
    assert!(s >= t["bounds"]["cell_crossbars"].as_u64().unwrap());
    let rows = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(rows.lines().count(), 55);
}

#[test]
fn map_rejects_bad_input() {
    for args in [
        vec!["map", "--onnx", "/nonexistent/model.onnx"],
        vec!["map", "--net", "alexnet"],
        vec!["map", "--net", "resnet18", "--k", "0"],
        vec!["map", "--net", "resnet18", "--pattern", "ternary"],
        vec!["map", "--net", "resnet18", "--preset", "nope"],
        vec!["map"],
    ] {
        let out = sme().args(&args).output().unwrap();
        assert!(!out.status.success(), "{args:?} accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !err.contains("panicked") && !err.is_empty(),
            "{args:?}: {err}"
        );
    }
    // A file that is not ONNX.
    let dir = tmp("map-junk");
    let junk = dir.path().join("junk.onnx");
    std::fs::write(&junk, b"definitely not protobuf \xff\xff\xff").unwrap();
    let out = sme().args(["map", "--onnx"]).arg(&junk).output().unwrap();
    assert!(!out.status.success());
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
}

/// The SME packer comes within 5 % of the packing bound on all of ResNet-50.
#[test]
fn resnet50_packing_within_five_percent_of_bound() {
    use sme::compiler::map::Mapper;
    use sme::compiler::network::{compile_layer, pattern_for};
    let cfg = sme::config::TileConfig::default_config();
    let mut net = sme::nets::builtin_shapes("resnet50").unwrap();
    let pattern = pattern_for(&cfg, sme::compiler::pattern::PatternKind::Khot, 2);
    let (mut sme_x, mut bound, mut dense_x) = (0u64, 0u64, 0u64);
    for (i, layer) in net.layers.iter_mut().enumerate() {
        sme::nets::synthesize(layer, 1 + i as u64);
        let r = compile_layer(&cfg, layer, &pattern, &sme::cost::ISAAC_32NM);
        layer.weights = Vec::new();
        sme_x += r.cost[Mapper::Sme].crossbars;
        bound += r.bounds.packing_crossbars;
        dense_x += r.cost[Mapper::Dense].crossbars;
    }
    println!("resnet50 khot2: dense {dense_x} sme {sme_x} packing bound {bound}");
    assert!(
        sme_x as f64 <= 1.05 * bound as f64,
        "sme {sme_x} vs packing bound {bound}"
    );
    assert!(sme_x < dense_x);
}

/// Outputs are checked before any work: the JSON may not replace the ONNX
/// input, and when one output cannot be written none is.
#[test]
fn map_outputs_never_clobber_inputs_and_commit_together() {
    let dir = tmp("map-outputs");
    let model = dir.path().join("model.onnx");
    std::fs::copy(repo("data/ppocr_mobile_v2_cls.onnx"), &model).unwrap();
    let before = std::fs::read(&model).unwrap();
    let out = sme()
        .args(["map", "--input-shape", "3x48x192", "--onnx"])
        .arg(&model)
        .arg("--json")
        .arg(&model)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--json") && err.contains("is an input"),
        "{err}"
    );
    assert_eq!(std::fs::read(&model).unwrap(), before);

    let a = dir.path().join("a.json");
    let out = sme()
        .args(["map", "--net", "resnet18", "--json"])
        .arg(&a)
        .args(["--csv", "/nonexistent/x.csv"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--csv") && err.contains("does not exist"),
        "{err}"
    );
    assert!(!a.exists(), "--json was written although --csv cannot be");
    let out = sme()
        .args(["map", "--net", "resnet18", "--json"])
        .arg(&a)
        .arg("--csv")
        .arg(&a)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("same output as --json"));
    assert!(!a.exists());
}
