//! Without the `train` feature `sme compress` still parses but explains how
//! to get it.
#![cfg(not(feature = "train"))]

mod common;

use common::sme;

#[test]
fn compress_needs_the_train_feature() {
    let o = sme()
        .args([
            "compress",
            "--dataset",
            "digits",
            "--pattern",
            "group",
            "--k",
            "2",
        ])
        .output()
        .unwrap();
    assert!(!o.status.success());
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("sme compress needs the `train` feature: cargo run --release --features train -- compress"),
        "{e}"
    );
}
