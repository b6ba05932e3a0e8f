//! Hostile and malformed input files end to end (issue #11, the input side):
//! special files, size limits and their overrides, gzip bombs, byte-order
//! marks, non-finite and off-pattern weights, absurd shapes. Every case
//! builds its own small fixture; every refusal exits non-zero quickly with
//! a message naming the file and the problem.

mod common;

use common::{repo, stderr, tmp};
use sme::weights::{FORMAT, IntLayer, VERSION, WeightsFile};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The binary under test; `SME_TEST_BIN` overrides it (the target directory
/// may be shared with builds of other branches that replace it).
fn sme() -> Command {
    match std::env::var_os("SME_TEST_BIN") {
        Some(p) => Command::new(p),
        None => common::sme(),
    }
}

/// Runs `cmd` with a deadline (a FIFO or device must never block a read).
fn run(cmd: &mut Command, secs: u64) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if t0.elapsed() > Duration::from_secs(secs) {
            child.kill().ok();
            panic!("{cmd:?} still running after {secs} s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs `cmd`, expects a non-zero exit and an error containing every
/// fragment of `want`; returns stderr.
fn refused(cmd: &mut Command, want: &[&str]) -> String {
    let out = run(cmd, 60);
    let e = stderr(&out);
    assert!(!out.status.success(), "{cmd:?} exited 0\n{e}");
    for w in want {
        assert!(e.contains(w), "{cmd:?}: missing `{w}` in:\n{e}");
    }
    assert!(e.len() < 4000, "error too long ({} bytes)", e.len());
    e
}

fn mkfifo(p: &Path) -> bool {
    Command::new("mkfifo")
        .arg(p)
        .status()
        .is_ok_and(|s| s.success())
}

fn weights() -> WeightsFile {
    WeightsFile {
        format: FORMAT.into(),
        version: VERSION,
        name: "w".into(),
        weight_bits: 8,
        pattern: "khot".into(),
        k: 2,
        window: None,
        layers: vec![
            IntLayer {
                name: "fc1".into(),
                rows: 4,
                cols: 3,
                scales: vec![0.5],
                weights: vec![1, 2, 3, 0, -5, 6, 0, 0, 64, 96, -3, 1],
                bias: vec![],
                conv: None,
                requant: None,
            },
            IntLayer {
                name: "fc2".into(),
                rows: 3,
                cols: 2,
                scales: vec![1.0, 2.0],
                weights: vec![1, 0, 0, 1, 3, 3],
                bias: vec![0.0, 1.0],
                conv: None,
                requant: None,
            },
        ],
    }
}

fn map_weights(p: &Path) -> Command {
    let mut c = sme();
    c.args(["map", "--xbar", "16", "--weights"]).arg(p);
    c
}

#[test]
fn config_special_files_are_refused_quickly() {
    let dir = tmp("robust-config");
    let gen_cmd = |cfg: &Path| {
        let mut c = sme();
        c.args(["gen", "--out"])
            .arg(dir.path().join("out"))
            .arg("--config")
            .arg(cfg);
        c
    };
    let t0 = Instant::now();
    refused(
        &mut gen_cmd(Path::new("/dev/zero")),
        &["config file /dev/zero is a character device, not a regular file"],
    );
    assert!(t0.elapsed() < Duration::from_secs(10));
    refused(
        &mut gen_cmd(dir.path()),
        &["is a directory, not a regular file"],
    );
    let fifo = dir.path().join("cfg.fifo");
    if mkfifo(&fifo) {
        refused(&mut gen_cmd(&fifo), &["is a FIFO, not a regular file"]);
    }
    refused(
        &mut gen_cmd(&dir.path().join("missing.toml")),
        &["cannot read config file"],
    );
}

#[test]
fn config_size_limit_env_override_and_bom() {
    let dir = tmp("robust-limit");
    let big = dir.path().join("big.toml");
    let mut text = "# padding\n".repeat(120_000);
    text += "xbar = 32\n";
    std::fs::write(&big, &text).unwrap();
    let map = |cfg: &Path| {
        let mut c = sme();
        c.args(["map", "--net", "resnet18", "--layers", "1", "--config"])
            .arg(cfg);
        c
    };
    refused(
        &mut map(&big),
        &[
            "more than the limit of 1048576 bytes (1 MiB)",
            "SME_MAX_CONFIG_BYTES",
        ],
    );
    let out = run(map(&big).env("SME_MAX_CONFIG_BYTES", "2M"), 120);
    assert!(out.status.success(), "{}", stderr(&out));
    refused(
        map(&big).env("SME_MAX_CONFIG_BYTES", "lots"),
        &["SME_MAX_CONFIG_BYTES=lots: expected a positive size"],
    );
    // A byte-order mark is skipped; the config takes effect.
    let bom = dir.path().join("bom.toml");
    std::fs::write(&bom, "\u{feff}xbar = 32\nou = \"8x4\"\n").unwrap();
    let out = run(&mut map(&bom), 120);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("32x32"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // An offending line is quoted only in part.
    let long = dir.path().join("long.toml");
    std::fs::write(&long, format!("rows = \"{}\"\n", "9".repeat(500_000))).unwrap();
    refused(&mut map(&long), &["long.toml", "invalid tile config"]);
    // Binary junk is not UTF-8.
    let bin = dir.path().join("bin.toml");
    std::fs::write(&bin, b"rows = 4\xff\xfe\n").unwrap();
    refused(
        &mut map(&bin),
        &["not UTF-8 text (invalid byte 0xff at offset 8)"],
    );
}

#[test]
fn onnx_files_are_bounded() {
    let dir = tmp("robust-onnx");
    let model = repo("data/ppocr_mobile_v2_cls.onnx");
    let map = |p: &Path| {
        let mut c = sme();
        c.args(["map", "--input-shape", "3x48x192", "--onnx"])
            .arg(p);
        c
    };
    refused(
        &mut map(Path::new("/dev/zero")),
        &["ONNX model /dev/zero is a character device"],
    );
    refused(&mut map(dir.path()), &["ONNX model", "is a directory"]);
    let fifo = dir.path().join("m.onnx");
    if mkfifo(&fifo) {
        refused(&mut map(&fifo), &["is a FIFO"]);
    }
    refused(
        map(&model).env("SME_MAX_ONNX_BYTES", "100K"),
        &[
            "585532 bytes, more than the limit of 102400 bytes",
            "SME_MAX_ONNX_BYTES",
        ],
    );
    // The example: wrapped totals must not exit 0.
    let mut c = sme();
    c.args(["map", "--input-shape", "3x3000000000x3000000000", "--onnx"])
        .arg(&model);
    refused(
        &mut c,
        &["graph input \"x\": dimension 2 is 3000000000: valid 1..=16777216"],
    );
    let mut c = sme();
    c.args(["map", "--input-shape", "3x140000x140000", "--onnx"])
        .arg(&model);
    refused(
        &mut c,
        &["input vectors per inference, more than the limit"],
    );
    // Random bytes are not a model.
    let junk = dir.path().join("junk.onnx");
    std::fs::write(
        &junk,
        (0..5000u32)
            .map(|i| (i * 7919 % 251) as u8)
            .collect::<Vec<_>>(),
    )
    .unwrap();
    refused(&mut map(&junk), &["junk.onnx"]);
}

#[test]
fn weights_files_are_checked() {
    let dir = tmp("robust-weights");
    let good = dir.path().join("good.json");
    let text = serde_json::to_string(&weights()).unwrap();
    std::fs::write(&good, &text).unwrap();
    let out = run(&mut map_weights(&good), 60);
    assert!(out.status.success(), "{}", stderr(&out));
    // A byte-order mark is skipped.
    let bom = dir.path().join("bom.json");
    std::fs::write(&bom, format!("\u{feff}{text}")).unwrap();
    let out = run(&mut map_weights(&bom), 60);
    assert!(out.status.success(), "{}", stderr(&out));
    // Real values past f32 are refused by layer and index.
    let inf = dir.path().join("inf.json");
    std::fs::write(
        &inf,
        text.replace("[1.0,2.0]", "[1.0,3e38e1]")
            .replace("3e38e1", "3e39"),
    )
    .unwrap();
    refused(
        &mut map_weights(&inf),
        &["layer `fc2`: scale inf at index 1"],
    );
    // A weight outside the declared pattern (7 has 3 bits, k = 2).
    let mut w = weights();
    w.layers[0].weights[5] = 7;
    let off = dir.path().join("off.json");
    std::fs::write(&off, serde_json::to_string(&w).unwrap()).unwrap();
    refused(
        &mut map_weights(&off),
        &["layer `fc1`: weight 7 at index 5 (row 1, col 2) has 3 magnitude bits set"],
    );
    // Consecutive layers that do not chain.
    let mut w = weights();
    w.layers[1].rows = 2;
    w.layers[1].weights.truncate(4);
    let chain = dir.path().join("chain.json");
    std::fs::write(&chain, serde_json::to_string(&w).unwrap()).unwrap();
    refused(
        &mut map_weights(&chain),
        &["layer `fc2` has 2 rows (inputs) but the layer before it, `fc1`, has 3 cols"],
    );
    // Special files and the size limit.
    refused(
        &mut map_weights(Path::new("/dev/zero")),
        &["weights file /dev/zero is a character device"],
    );
    let fifo = dir.path().join("w.fifo");
    if mkfifo(&fifo) {
        refused(&mut map_weights(&fifo), &["weights file", "is a FIFO"]);
    }
    refused(
        map_weights(&good).env("SME_MAX_WEIGHTS_BYTES", "64"),
        &["more than the limit of 64 bytes", "SME_MAX_WEIGHTS_BYTES"],
    );
}

#[test]
fn verify_input_file_is_bounded() {
    let dir = tmp("robust-verify");
    let w = dir.path().join("w.json");
    std::fs::write(&w, serde_json::to_string(&weights()).unwrap()).unwrap();
    let verify = |inputs: &Path| {
        let mut c = sme();
        c.args(["verify", "--xbar", "16", "--layer", "fc1", "--weights"])
            .arg(&w)
            .arg("--cache-dir")
            .arg(dir.path().join("cache"))
            .arg("--input-file")
            .arg(inputs);
        c
    };
    refused(
        &mut verify(Path::new("/dev/zero")),
        &["inputs file /dev/zero is a character device"],
    );
    refused(&mut verify(dir.path()), &["inputs file", "is a directory"]);
    let big = dir.path().join("in.txt");
    std::fs::write(&big, "1 2 3 4\n".repeat(1000)).unwrap();
    refused(
        verify(&big).env("SME_MAX_INPUTS_BYTES", "1K"),
        &[
            "more than the limit of 1024 bytes (1 KiB)",
            "SME_MAX_INPUTS_BYTES",
        ],
    );
    let junk = dir.path().join("junk.txt");
    std::fs::write(&junk, format!("1 {}\n", "z".repeat(100_000))).unwrap();
    let e = refused(&mut verify(&junk), &["is not an activation"]);
    assert!(!e.contains(&"z".repeat(100)));
}

#[test]
fn check_results_files_are_bounded() {
    let dir = tmp("robust-check");
    let mut c = sme();
    c.args(["check", "/dev/zero", "/dev/zero"]);
    refused(&mut c, &["results file /dev/zero is a character device"]);
    let mut c = sme();
    c.arg("check").arg(dir.path()).arg(dir.path());
    refused(&mut c, &["is a directory"]);
}

#[cfg(feature = "train")]
#[test]
fn data_gzip_bomb_stops_at_the_limit() {
    use std::io::Write;
    let dir = tmp("robust-data");
    // One gzip member of 64 MiB of zeros (~64 KiB), repeated 100 times: a
    // 6.4 MB file that would inflate to 6.7 GB.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&vec![0u8; 64 << 20]).unwrap();
    let member = gz.finish().unwrap();
    let bomb = dir.path().join("bomb.csv.gz");
    std::fs::write(&bomb, member.repeat(100)).unwrap();
    let compress = |p: &Path| {
        let mut c = sme();
        c.args(["compress", "--epochs", "1", "--admm-epochs", "1", "--data"])
            .arg(p);
        c
    };
    let t0 = Instant::now();
    refused(
        &mut compress(&bomb),
        &[
            "bomb.csv.gz: decompresses to more than the limit of 268435456 bytes (256 MiB)",
            "SME_MAX_DATA_BYTES",
        ],
    );
    assert!(t0.elapsed() < Duration::from_secs(30), "{:?}", t0.elapsed());
    refused(
        compress(&bomb).env("SME_MAX_DATA_BYTES", "1M"),
        &["more than the limit of 1048576 bytes (1 MiB)"],
    );
    refused(
        &mut compress(Path::new("/dev/zero")),
        &["data file /dev/zero is a character device"],
    );
    // A CSV with a byte-order mark and a huge junk field quoted in part.
    let csv = dir.path().join("bom.csv");
    let row = |l: u8| {
        let mut r = vec!["1"; 64].join(",");
        r += &format!(",{l}\n");
        r
    };
    let mut text = String::from("\u{feff}");
    for i in 0..30 {
        text += &row(i % 10);
    }
    text += &format!("{},1\n", "x".repeat(100_000));
    std::fs::write(&csv, text).unwrap();
    let e = refused(&mut compress(&csv), &["line 31", "columns"]);
    assert!(!e.contains(&"x".repeat(100)), "{e}");
}
