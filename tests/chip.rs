//! `sme chip`: the chip model's per-layer cycles against the Verilated tile
//! (feature `cosim`), and the command line (errors, fit chips, JSON).

mod common;

use common::sme;
use serde_json::Value;

const PPOCR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/ppocr_mobile_v2_cls.onnx");

fn run(args: &[&str]) -> std::process::Output {
    sme().arg("chip").args(args).output().unwrap()
}

/// Every tile program of four real ppocr layers (whole layers, real
/// weights, each mapper) runs on the Verilated default tile; the slowest
/// tile's RTL cycles times the vectors each replica runs must equal the
/// chip model's stage cycles of that layer, on a chip large enough to
/// replicate them.
#[cfg(feature = "cosim")]
#[test]
fn chip_stage_cycles_match_the_rtl() {
    use sme::chip::{self, ChipSize};
    use sme::compiler::map::{Mapper, Objective};
    use sme::compiler::network::{MapInput, MapRequest, layer_programs, map_network, pattern_for};
    use sme::compiler::pattern::PatternKind;
    use sme::cosim::Tile;
    use sme::cost::PresetName;
    use sme::testgen::{InputMode, Rng, input_vector};

    let net = sme::nets::load_onnx_with_input(std::path::Path::new(PPOCR), &[3, 48, 192])
        .expect("vendored ONNX model");
    let mut tile = Tile::new("d128").expect("model linked");
    let cfg = tile.config().clone();
    let pattern = pattern_for(&cfg, PatternKind::Group, 2);
    // Balanced (the chip's default): the RTL runs the spread programs.
    let objective = Objective::Balanced;
    let req = MapRequest {
        pattern,
        seed: 1,
        preset: PresetName::Isaac32,
        objective,
        layers: None,
    };
    let rep = map_network(
        &cfg,
        MapInput::Real(net.clone()),
        &req,
        &sme::progress::Silent,
    );
    let preset = PresetName::Isaac32.preset();
    // Two chips: one copy of each layer (fit-dense), and a larger one on
    // which the greedy replicates.
    let mut rng = Rng::new(9);
    let chips: Vec<_> = [ChipSize::Fit(Mapper::Dense), ChipSize::Crossbars(20000)]
        .into_iter()
        .map(|size| chip::evaluate(&cfg, &rep, preset, &chip::ISAAC, size))
        .collect();
    let mut checked = 0;
    let mut replicated = 0;
    // Two convs, two depthwise convs (the largest: 140 dense tiles).
    for idx in [0usize, 7, 18, 43] {
        let layer = &net.layers[idx];
        // Exactly the programs the compiler costs (per block for the
        // depthwise layers); all their tiles run concurrently.
        let programs = layer_programs(&cfg, layer, &pattern, objective);
        for mapper in Mapper::ALL {
            let mut slowest = 0;
            let mut tiles = 0;
            for lp in &programs[mapper] {
                let x = input_vector(&cfg, lp.rows, &mut rng, InputMode::Random);
                for (t, mt) in lp.tiles.iter().enumerate() {
                    tile.load_program(&mt.program);
                    let xt = lp.tile_inputs(t, &x);
                    let (y, cycles) = tile.execute(&xt);
                    assert_eq!(y, sme::golden::execute(&cfg, &mt.program, &xt));
                    slowest = slowest.max(cycles);
                    checked += 1;
                    tiles += 1;
                }
            }
            for res in &chips {
                let placed = &res.mappers[mapper];
                assert!(placed.fits, "{} {}", res.chip.name, mapper.name());
                let l = &placed.layers[idx];
                assert_eq!(l.name, layer.name);
                assert_eq!(l.tiles, tiles * l.replicas);
                let rtl = (layer.vectors as u64).div_ceil(l.replicas) * slowest;
                assert_eq!(
                    l.stage_cycles,
                    rtl,
                    "{} {} {} x{}: chip model vs RTL",
                    res.chip.name,
                    layer.name,
                    mapper.name(),
                    l.replicas
                );
                replicated += (l.replicas > 1) as usize;
            }
        }
    }
    assert!(
        replicated > 0,
        "the large chip replicates some checked layer"
    );
    println!("tile programs run: {checked}");
    assert!(checked > 150);
}

#[test]
fn chip_reports_three_chips_and_fit_chips_are_full() {
    let dir = common::tmp("chip");
    let out = dir.path().join("c.json");
    let o = run(&[
        "--onnx",
        PPOCR,
        "--input-shape",
        "3x48x192",
        "--pattern",
        "group",
        "--k",
        "1",
        "--ou",
        "128x8",
        "--chip",
        "fit-sme",
        "--also",
        "isaac,fit-dense",
        "--json",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let j: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let sme = &j["mappers"]["sme"];
    assert_eq!(sme["fits"], true);
    // fit-sme: one copy of the SME mapping needs exactly the chip's tiles.
    assert_eq!(sme["tiles_needed"], j["chip"]["tiles"]);
    assert_eq!(j["mappers"]["dense"]["fits"], false);
    let isaac = &j["others"][0];
    assert_eq!(isaac["chip"]["crossbars"], 16128);
    assert_eq!(isaac["chip"]["tiles"], 2016);
    assert_eq!(isaac["chip"]["cycle_ns"], 6.25);
    // More tiles never lower throughput.
    for m in ["dense", "sre", "sme"] {
        let small = j["mappers"][m]["throughput_ips"].as_f64();
        let big = isaac["mappers"][m]["throughput_ips"].as_f64().unwrap();
        assert!(small.is_none_or(|s| s <= big), "{m}");
        let u = isaac["mappers"][m]["tile_utilization"].as_f64().unwrap();
        assert!(u <= 1.0 && u > 0.0, "{m} {u}");
    }
}

#[test]
fn a_network_that_does_not_fit_is_an_error_with_the_crossbars_it_needs() {
    let o = run(&["--net", "vgg16", "--layers", "3", "--chip", "16"]);
    assert!(!o.status.success());
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("does not fit chip 16"), "{e}");
    assert!(e.contains("sme") && e.contains("crossbars ("), "{e}");
    let o = run(&["--net", "resnet18", "--chip", "huge"]);
    assert!(!o.status.success());
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("fit-dense"), "{e}");
}
