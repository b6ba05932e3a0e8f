//! Lockstep co-simulation: the Verilated tile (every config of the cosim
//! matrix) is driven only through its ports - programming writes with random
//! idle cycles, start/done, output reads - and must agree with the golden
//! executor bit for bit and with the cycle model exactly.
//!
//! Needs `--features cosim` (Verilator). Run by scripts/test.
#![cfg(feature = "cosim")]

mod common;

use common::rng_seed;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use sme::compiler::map::{Mapper, map_matrix};
use sme::config::TileConfig;
use sme::cosim::{IdleGen, MODELS, Tile};
use sme::golden;
use sme::program::{TileProgram, WeightMatrix};
use sme::testgen::{InputMode, Rng, WeightMode, input_vector, random_program, weights};
use std::cell::Cell;
use std::collections::BTreeMap;

/// The exact product of a tile's weights for a tile-local input.
type Exact<'a> = dyn Fn(&[u32]) -> Vec<i128> + 'a;

/// Run `prog` on the RTL for `nvec` vectors and compare. Returns vectors run.
fn check_program(
    tile: &mut Tile,
    prog: &TileProgram,
    rng: &mut Rng,
    nvec: usize,
    exact: Option<&Exact>,
) -> Result<(usize, u64), TestCaseError> {
    let cfg = tile.config().clone();
    prop_assert!(prog.validate(&cfg).is_ok(), "{:?}", prog.validate(&cfg));
    tile.load_program(prog);
    for v in 0..nvec {
        // All-zero and all-max first, then random.
        let mode = [InputMode::Zero, InputMode::Max, InputMode::Random][v.min(2)];
        let x = input_vector(&cfg, cfg.params.inputs as usize, rng, mode);
        let (y, cycles) = tile.execute(&x);
        let g = golden::execute(&cfg, prog, &x);
        prop_assert_eq!(&y, &g, "RTL vs golden, vector {}", v);
        prop_assert_eq!(
            cycles,
            golden::cycles(&cfg, prog),
            "RTL cycles vs cycle model"
        );
        if let Some(f) = exact {
            prop_assert_eq!(&g[..], &f(&x)[..], "golden vs x W");
        }
    }
    Ok((nvec, golden::cycles(&cfg, prog)))
}

#[test]
fn rtl_matches_golden_across_the_matrix() {
    let names: Vec<&'static str> = MODELS.iter().map(|m| m.name).collect();
    let per_model: std::cell::RefCell<BTreeMap<&str, usize>> = Default::default();
    let total = Cell::new(0usize);
    let cases = std::env::var("SME_COSIM_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(400);
    let mut runner = TestRunner::new(Config {
        cases,
        rng_seed: rng_seed(),
        failure_persistence: None,
        ..Config::default()
    });
    let strat = (
        prop::sample::select(names.clone()),
        any::<u64>(),
        0u8..4,
        0u8..4,
        0u64..4,
    );
    let result = runner.run(&strat, |(name, seed, wmode, kind, idle)| {
        let mut rng = Rng::new(seed);
        let mut tile = Tile::new(name).expect("model linked");
        tile.idle = match idle {
            0 => IdleGen::none(),
            _ => IdleGen::new(seed, 64 * idle as u32, 3),
        };
        let cfg = tile.config().clone();
        let nvec = 8;
        let mut ran = 0;
        if kind == 3 {
            let prog = random_program(&cfg, &mut rng);
            ran += check_program(&mut tile, &prog, &mut rng, nvec, None)?.0;
        } else {
            let mapper = Mapper::ALL[kind as usize];
            let w = weights(&cfg, &mut rng, WeightMode::ALL[wmode as usize]);
            let lp = map_matrix(&cfg, &w, mapper);
            prop_assert!(lp.validate(&cfg).is_ok());
            // Run up to two tiles of the layer (index-gathered sparse programs
            // and dense programs alike); with a lossless ADC each tile's golden
            // output must equal that tile's share of x W.
            let mut slowest = 0;
            for mt in lp.tiles.iter().take(2) {
                let lossless = cfg.derived.adc_lossless;
                let exact = |xt: &[u32]| -> Vec<i128> {
                    // Tile-local product of the tile's own weights.
                    let mut y = golden::execute(&cfg, &mt.program, xt);
                    if lossless {
                        let single = sme::program::LayerProgram {
                            rows: lp.rows,
                            cols: lp.cols,
                            tiles: vec![mt.clone()],
                        };
                        let mut xl = vec![0u32; lp.rows];
                        for (i, &r) in mt.input_map.iter().enumerate() {
                            xl[r as usize] = xt[i];
                        }
                        let full = golden::execute_layer(&cfg, &single, &xl);
                        for (o, &c) in mt.output_map.iter().enumerate() {
                            y[o] = full[c as usize];
                        }
                    }
                    y
                };
                let (n, cycles) =
                    check_program(&mut tile, &mt.program, &mut rng, nvec, Some(&exact))?;
                ran += n;
                slowest = slowest.max(cycles);
            }
            // All tiles ran: the slowest one's RTL cycles are the cost
            // model's cycles per vector.
            if lp.tiles.len() <= 2 {
                let isaac = sme::cost::PresetName::Isaac32.preset();
                prop_assert_eq!(
                    slowest,
                    sme::cost::layer_cost(&cfg, &lp, 1, isaac).cycles_per_vector,
                    "RTL cycles vs cost model ({})",
                    mapper.name()
                );
            }
            lossless_layer_check(&cfg, &lp, &w, &mut rng);
        }
        *per_model.borrow_mut().entry(name).or_default() += ran;
        total.set(total.get() + ran);
        Ok(())
    });
    if let Err(e) = result {
        panic!("co-simulation mismatch: {e}");
    }
    println!("co-simulated vectors per model: {:?}", per_model.borrow());
    println!("co-simulated vectors total: {}", total.get());
    for n in &names {
        assert!(
            per_model.borrow().get(n).copied().unwrap_or(0) > 0,
            "model {n} never ran"
        );
    }
    assert!(
        total.get() >= 1000,
        "only {} co-simulated vectors (need >= 1000)",
        total.get()
    );
}

/// With a lossless ADC the whole layer program executes to x W.
fn lossless_layer_check(
    cfg: &TileConfig,
    lp: &sme::program::LayerProgram,
    w: &WeightMatrix,
    rng: &mut Rng,
) {
    if cfg.derived.adc_lossless {
        let x: Vec<u32> = (0..w.rows)
            .map(|_| rng.next_u64() as u32 & cfg.max_act())
            .collect();
        assert_eq!(golden::execute_layer(cfg, lp, &x), w.matvec(&x));
    }
}

/// Real layers on the default 128x128 tile, in process: the real ONNX
/// model's layers (real weights) and synthetic ResNet-50 / MobileNet-v2
/// layers, cut to the tile's 512 x 256 buffers, compiled by the dense,
/// SRE-style and SME mappers; every tile of every mapping is loaded through
/// the programming port and runs the same layer vectors. Each tile's outputs
/// equal the golden executor's, the tile sums equal `x W` exactly (lossless
/// ADC), each run's cycles equal the cycle model and the slowest tile's equal
/// the cost model's cycles per vector.
#[test]
fn real_layers_on_the_default_tile() {
    use sme::compiler::network::{lower, pattern_for, quantize_project};
    use sme::compiler::pattern::PatternKind;
    use sme::cost::{PresetName, layer_cost};
    use sme::verify::cut;

    let onnx = std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/ppocr_mobile_v2_cls.onnx"
    ));
    let ppocr = sme::nets::load_onnx(onnx).expect("the vendored ONNX model (data/)");
    let take = |net: &sme::nets::Network, name: &str| {
        net.layers
            .iter()
            .find(|l| l.name == name)
            .unwrap_or_else(|| panic!("layer {name}"))
            .clone()
    };
    let synth = |net: &str, name: &str| {
        let n = sme::nets::builtin_shapes(net).unwrap();
        let mut l = take(&n, name);
        sme::nets::synthesize(&mut l, 7);
        l
    };
    let layers = [
        (take(&ppocr, "Conv@44"), PatternKind::Group, 2),
        (take(&ppocr, "Conv@42"), PatternKind::Khot, 2),
        (take(&ppocr, "Conv@46"), PatternKind::None, 1),
        (synth("resnet50", "layer3.0.conv2"), PatternKind::Group, 2),
        (synth("resnet50", "layer1.0.conv2"), PatternKind::Khot, 1),
        (
            synth("mobilenetv2", "features.2.depthwise"),
            PatternKind::Group,
            1,
        ),
    ];
    let mut tile = Tile::new("d128").expect("model linked");
    tile.idle = IdleGen::new(11, 40, 2);
    let cfg = tile.config().clone();
    assert!(cfg.derived.adc_lossless);
    let isaac = PresetName::Isaac32.preset();
    let mut rng = Rng::new(3);
    let mut runs = 0;
    for (layer, pat, k) in &layers {
        let pattern = pattern_for(&cfg, *pat, *k);
        let (rows, cols, w) = lower(layer);
        let (q, _) = quantize_project(&cfg, rows, cols, &w, &pattern);
        let q = cut(&q, cfg.params.inputs as usize, cfg.params.outputs as usize);
        let xs: Vec<Vec<u32>> = (0..2)
            .map(|_| input_vector(&cfg, q.rows, &mut rng, InputMode::Random))
            .collect();
        let mut per_mapper = Vec::new();
        for mapper in Mapper::ALL {
            let lp = map_matrix(&cfg, &q, mapper);
            assert!(lp.validate(&cfg).is_ok());
            let mut sums = vec![vec![0i128; q.cols]; xs.len()];
            let mut slowest = 0;
            let mut one_tile = 0;
            for (t, mt) in lp.tiles.iter().enumerate() {
                tile.load_program(&mt.program);
                for (v, x) in xs.iter().enumerate() {
                    let xt = lp.tile_inputs(t, x);
                    let (y, cycles) = tile.execute(&xt);
                    assert_eq!(
                        y,
                        golden::execute(&cfg, &mt.program, &xt),
                        "{} {} tile {t}",
                        layer.name,
                        mapper.name()
                    );
                    assert_eq!(cycles, golden::cycles(&cfg, &mt.program));
                    for (o, &c) in mt.output_map.iter().enumerate() {
                        sums[v][c as usize] += y[o];
                    }
                    if v == 0 {
                        slowest = slowest.max(cycles);
                        one_tile += cycles;
                    }
                    runs += 1;
                }
            }
            for (v, x) in xs.iter().enumerate() {
                assert_eq!(
                    sums[v],
                    q.matvec(x),
                    "{} {} vector {v}",
                    layer.name,
                    mapper.name()
                );
            }
            assert_eq!(
                slowest,
                layer_cost(&cfg, &lp, 1, isaac).cycles_per_vector,
                "{} {}: RTL vs cost model",
                layer.name,
                mapper.name()
            );
            per_mapper.push((mapper.name(), lp.tiles.len(), one_tile));
        }
        println!(
            "{} {}x{} {pat} k{k}: {per_mapper:?}",
            layer.name, q.rows, q.cols
        );
    }
    println!("real-layer tile runs: {runs}");
    assert!(runs > 100);
}
