//! Lockstep co-simulation: the Verilated tile (every config of the cosim
//! matrix) is driven only through its ports - programming writes with random
//! idle cycles, start/done, output reads - and must agree with the golden
//! executor bit for bit, with the cycle model exactly, and, like the golden
//! executor, with references computed without it (tests/common/reference.rs):
//! `x W` with a lossless ADC, the saturating semantics with a lossy one.
//!
//! Needs `--features cosim` (Verilator). Run by scripts/test.
#![cfg(feature = "cosim")]

mod common;

use common::reference::{self, layer_weights, product, saturating, saturating_layer, tile_weights};
use common::{input_mode, regressions, rng_seed};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use sme::compiler::map::{Mapper, map_matrix};
use sme::cosim::{IdleGen, MODELS, Tile};
use sme::golden;
use sme::program::TileProgram;
use sme::testgen::{InputMode, Rng, WeightMode, input_vector, random_program, weights};
use std::cell::Cell;
use std::collections::BTreeMap;

/// Load `prog` and run it on every tile-local vector of `xs`. Each run's
/// RTL outputs must equal the golden executor's and its cycles the cycle
/// model's; the golden outputs must equal the reference: the exact product
/// `x W_tile` of the weights the program holds when the ADC is lossless, the
/// saturating reference when it is lossy. Returns the RTL outputs per vector
/// and the cycles of one run.
fn check_program(
    tile: &mut Tile,
    prog: &TileProgram,
    xs: &[Vec<u32>],
) -> Result<(Vec<Vec<i128>>, u64), TestCaseError> {
    let cfg = tile.config().clone();
    prop_assert!(prog.validate(&cfg).is_ok(), "{:?}", prog.validate(&cfg));
    let lossless = reference::lossless(&cfg);
    prop_assert_eq!(lossless, cfg.derived.adc_lossless, "lossless ADC");
    let wt = tile_weights(&cfg, prog);
    let model_cycles = golden::cycles(&cfg, prog);
    tile.load_program(prog);
    let mut ys = Vec::new();
    for (v, x) in xs.iter().enumerate() {
        let (y, cycles) = tile.execute(x);
        let g = golden::execute(&cfg, prog, x);
        prop_assert_eq!(&y, &g, "RTL vs golden, vector {}", v);
        prop_assert_eq!(cycles, model_cycles, "RTL cycles vs cycle model");
        if lossless {
            prop_assert_eq!(
                &g,
                &product(&wt, x),
                "golden (= RTL) vs x W_tile, vector {}",
                v
            );
        } else {
            prop_assert_eq!(
                &g,
                &saturating(&cfg, prog, x),
                "golden (= RTL) vs the saturating reference, vector {}",
                v
            );
        }
        ys.push(y);
    }
    Ok((ys, model_cycles))
}

#[test]
fn rtl_matches_golden_and_the_reference_across_the_matrix() {
    let names: Vec<&'static str> = MODELS.iter().map(|m| m.name).collect();
    let per_model: std::cell::RefCell<BTreeMap<&str, usize>> = Default::default();
    let total = Cell::new(0usize);
    let lossy_layers = Cell::new(0usize);
    let cases = std::env::var("SME_COSIM_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(400);
    let mut runner = TestRunner::new(Config {
        cases,
        rng_seed: rng_seed(),
        failure_persistence: regressions("cosim"),
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
            let xs: Vec<Vec<u32>> = (0..nvec)
                .map(|v| input_vector(&cfg, cfg.params.inputs as usize, &mut rng, input_mode(v)))
                .collect();
            ran += check_program(&mut tile, &prog, &xs)?.0.len();
        } else {
            let mapper = Mapper::ALL[kind as usize];
            let w = weights(&cfg, &mut rng, WeightMode::ALL[wmode as usize]);
            let lp = map_matrix(&cfg, &w, mapper);
            prop_assert!(lp.validate(&cfg).is_ok());
            // The tiles hold exactly W, whatever the ADC.
            prop_assert_eq!(
                &layer_weights(&cfg, &lp),
                &w,
                "tiles' weights vs W ({})",
                mapper.name()
            );
            // Layer vectors: every tile of the layer runs on its share.
            let xs: Vec<Vec<u32>> = (0..nvec)
                .map(|v| input_vector(&cfg, w.rows, &mut rng, input_mode(v)))
                .collect();
            let mut sums = vec![vec![0i128; w.cols]; nvec];
            let mut slowest = 0;
            for (t, mt) in lp.tiles.iter().enumerate() {
                let xts: Vec<Vec<u32>> = xs.iter().map(|x| lp.tile_inputs(t, x)).collect();
                let (ys, cycles) = check_program(&mut tile, &mt.program, &xts)?;
                for (sum, y) in sums.iter_mut().zip(&ys) {
                    for (o, &c) in mt.output_map.iter().enumerate() {
                        sum[c as usize] += y[o];
                    }
                }
                ran += ys.len();
                slowest = slowest.max(cycles);
            }
            // The layer: x W with a lossless ADC (design section 2), else the
            // saturating reference of the mapped tiles.
            for (v, x) in xs.iter().enumerate() {
                let (expect, what) = if cfg.derived.adc_lossless {
                    (w.matvec(x), "x W")
                } else {
                    lossy_layers.set(lossy_layers.get() + 1);
                    (saturating_layer(&cfg, &lp, x), "the saturating reference")
                };
                prop_assert_eq!(
                    &sums[v],
                    &expect,
                    "RTL layer vs {} ({}, vector {})",
                    what,
                    mapper.name(),
                    v
                );
                prop_assert_eq!(
                    &golden::execute_layer(&cfg, &lp, x),
                    &expect,
                    "golden layer vs {} ({}, vector {})",
                    what,
                    mapper.name(),
                    v
                );
            }
            // All tiles ran: the slowest one's RTL cycles are the cost
            // model's cycles per vector.
            let isaac = sme::cost::PresetName::Isaac32.preset();
            prop_assert_eq!(
                slowest,
                sme::cost::layer_cost(&cfg, &lp, 1, isaac).cycles_per_vector,
                "RTL cycles vs cost model ({})",
                mapper.name()
            );
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
    println!(
        "lossy layer vectors checked against the saturating reference: {}",
        lossy_layers.get()
    );
    for n in &names {
        assert!(
            per_model.borrow().get(n).copied().unwrap_or(0) > 0,
            "model {n} never ran"
        );
    }
    assert!(lossy_layers.get() > 0, "no lossy config ran a layer");
    assert!(
        total.get() >= 1000,
        "only {} co-simulated vectors (need >= 1000)",
        total.get()
    );
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

/// A program whose ops all hit the same few accumulator entries: on every
/// crossbar, op k's OU column c names output `(c + shift[k % 4]) % outputs`
/// (columns c >= outputs unused), so consecutive ops of one lane hit the
/// same entry back to back (k and k + 1, also across activation steps),
/// one cycle apart from another hit, and every crossbar repeats the same
/// entries. Windows, inputs, cells, slice shifts and signs are random.
fn hot_entry_program(
    cfg: &sme::config::TileConfig,
    rng: &mut Rng,
    shifts: [u32; 4],
) -> TileProgram {
    use sme::program::{Crossbar, Op};
    let p = &cfg.params;
    let d = &cfg.derived;
    let cmax = (1u64 << p.cell_bits) - 1;
    let nops = p.ops.min(6) as usize;
    let xbars = (0..p.xbars)
        .map(|_| {
            let mut xb = Crossbar::empty(cfg);
            for c in xb.cells.iter_mut() {
                *c = rng.below(cmax + 1) as u8;
            }
            for k in 0..nops {
                let rw = rng.below(d.row_windows as u64) as u32;
                let cw = rng.below(d.col_windows as u64) as u32;
                let inputs = (0..p.ou_rows)
                    .map(|i| {
                        (rw * p.ou_rows + i < p.rows).then(|| rng.below(p.inputs as u64) as u32)
                    })
                    .collect();
                let outputs = (0..p.ou_cols)
                    .map(|c| {
                        (c < p.outputs && cw * p.ou_cols + c < p.cols)
                            .then(|| (c + shifts[k % 4]) % p.outputs)
                    })
                    .collect();
                xb.ops.push(Op {
                    row_window: rw,
                    col_window: cw,
                    inputs,
                    outputs,
                    shift: rng.below(d.max_slice_shift as u64 + 1) as u32,
                    negative: k % 3 == 2,
                });
            }
            xb
        })
        .collect();
    TileProgram { xbars }
}

/// Directed accumulator hazards on every co-simulated config: back-to-back
/// ops of one lane on the same entry (read-after-write through the bypass),
/// hits two cycles apart, the same entries on every crossbar, outputs read
/// right after done (one at a time and pipelined), and a second program
/// that leaves entries of the first unwritten (they must read as zero: the
/// clear at start). Every read equals the golden executor; cycles equal the
/// cycle model.
#[test]
fn accumulator_hazards_directed() {
    let mut rng = Rng::new(0x05ee_dacc);
    for m in MODELS.iter() {
        let mut tile = Tile::new(m.name).expect("model linked");
        let cfg = tile.config().clone();
        for shifts in [[0, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 1]] {
            let prog = hot_entry_program(&cfg, &mut rng, shifts);
            prog.validate(&cfg).expect("directed program fits");
            tile.load_program(&prog);
            for v in 0..3 {
                let x = input_vector(&cfg, cfg.params.inputs as usize, &mut rng, input_mode(v));
                let g = golden::execute(&cfg, &prog, &x);
                tile.load_inputs(&x);
                let cycles = tile.run();
                assert_eq!(cycles, golden::cycles(&cfg, &prog), "{} cycles", m.name);
                // Right after done: the hottest entries one at a time, then
                // every output through the pipelined port.
                for o in [0, 1 % cfg.params.outputs, 0] {
                    assert_eq!(
                        tile.read_output(o),
                        g[o as usize],
                        "{} {shifts:?} vector {v}: output {o} read right after done",
                        m.name
                    );
                }
                assert_eq!(
                    tile.read_outputs(),
                    g,
                    "{} {shifts:?} vector {v}: pipelined read",
                    m.name
                );
            }
        }
        // A program that only names entry 0 after one that named many: the
        // others read as zero.
        let mut prog = hot_entry_program(&cfg, &mut rng, [0, 0, 0, 0]);
        for xb in prog.xbars.iter_mut() {
            for op in xb.ops.iter_mut() {
                for (c, out) in op.outputs.iter_mut().enumerate() {
                    if c > 0 {
                        *out = None;
                    }
                }
            }
        }
        tile.load_program(&prog);
        let x = input_vector(&cfg, cfg.params.inputs as usize, &mut rng, input_mode(1));
        let (y, _) = tile.execute(&x);
        let g = golden::execute(&cfg, &prog, &x);
        assert!(g[1..].iter().all(|&v| v == 0));
        assert_eq!(y, g, "{}: entries not written in this run", m.name);
    }
}
