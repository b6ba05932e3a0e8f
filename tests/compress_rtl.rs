//! The compressed digits network's first layer on real test images through
//! the generated RTL: `sme compress` writes the ADMM integer weights, `sme
//! verify --weights ... --layer fc1 --input-file` runs the dense, SRE-style
//! and SME programs of that layer on the Verilated tile with the test images
//! as inputs, and the RTL's layer outputs must equal the Rust integer model
//! (`sme::train::layer_int`) exactly. Needs `--features cosim,train`.
#![cfg(all(feature = "cosim", feature = "train"))]

mod common;

use common::{cache, sme, tmp};
use sme::train::data::{load_digits, split};
use sme::train::{DEFAULT_SPLIT_SEED, TEST_FRACTION, layer_int};
use sme::weights::WeightsFile;
use std::path::Path;

const DIGITS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/digits.csv.gz");

#[test]
fn first_layer_on_rtl_equals_the_integer_model() {
    let scratch = tmp("compress-rtl");
    let d = scratch.path();
    let data = load_digits(Path::new(DIGITS)).expect("digits data (vendored in data/)");
    let sp = split(&data, TEST_FRACTION, DEFAULT_SPLIT_SEED);
    let images: Vec<&[u8]> = sp.test.iter().take(24).map(|&i| data.image(i)).collect();
    let inputs = d.join("test_images.csv");
    let csv: String = images
        .iter()
        .map(|im| {
            im.iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join(",")
                + "\n"
        })
        .collect();
    std::fs::write(&inputs, csv).unwrap();

    for (pattern, k) in [("group", "2"), ("khot", "2")] {
        let w = d.join(format!("{pattern}{k}.weights.json"));
        let o = sme()
            .args([
                "compress",
                "--dataset",
                "digits",
                "--data",
                DIGITS,
                "--pattern",
                pattern,
                "--k",
                k,
                "--out",
            ])
            .arg(&w)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let f = WeightsFile::load(&w).unwrap();
        let fc1 = f.layer("fc1").unwrap();

        let ys = d.join(format!("{pattern}{k}.fc1.csv"));
        let o = sme()
            .args([
                "verify",
                "--xbar",
                "32",
                "--ou",
                "16x8",
                "--layer",
                "fc1",
                "--weights",
            ])
            .arg(&w)
            .arg("--input-file")
            .arg(&inputs)
            .arg("--layer-outputs")
            .arg(&ys)
            .arg("--cache-dir")
            .arg(cache())
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(
            o.status.success(),
            "{out}\n{}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(
            out.lines().last().unwrap().contains(" 0 mismatches"),
            "{out}"
        );

        // Every mapper's RTL outputs equal the Rust integer model per image.
        let text = std::fs::read_to_string(&ys).unwrap();
        let mut rows = 0;
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let mut it = line.split(',');
            let mapper = it.next().unwrap().to_string();
            let v: usize = it.next().unwrap().parse().unwrap();
            let y: Vec<i64> = it.map(|t| t.parse().unwrap()).collect();
            assert_eq!(
                y,
                layer_int(fc1, images[v]),
                "{pattern}{k} {mapper} image {v}"
            );
            assert!(y.iter().any(|&v| v != 0));
            rows += 1;
        }
        assert_eq!(rows, 3 * images.len(), "{text}");
    }
}
