//! Properties of the golden executor and the three mappers: with a lossless
//! ADC every mapping executes to exactly x W, fits the tile, and respects the
//! bounds; on random programs and any ADC the golden executor agrees with the
//! references of tests/common/reference.rs; a lossy ADC saturates as
//! documented.

mod common;

use common::reference::{self, layer_weights, product, saturating, tile_weights};
use common::{input_mode, regressions};
use proptest::prelude::*;
use sme::compiler::map::{
    Mapper, Objective, bounds, crossbars, map_all, map_all_stats, map_all_stats_with, map_all_with,
    map_matrix,
};
use sme::config::{TileConfig, TileParams};
use sme::golden::{execute, execute_layer};
use sme::program::{Crossbar, Op, TileProgram, WeightMatrix};
use sme::testgen::{self, Rng, WeightMode};

/// Small valid configs with odd sizes; the ADC has `cut` bits fewer than
/// lossless (at least one bit), so `0..=0` gives lossless configs only.
fn configs(cut: std::ops::RangeInclusive<u32>) -> impl Strategy<Value = TileConfig> {
    (2u32..40, 2u32..40, 1u32..=4, 2u32..=10, 1u32..=10, 1u32..=6)
        .prop_flat_map(move |(rows, cols, c, q, a, n)| {
            (
                Just((rows, cols, c, q, a, n)),
                1u32..=a.min(4),
                1u32..=rows.min(9),
                1u32..=cols.min(9),
                1u32..=3 * rows,
                1u32..=3 * cols,
                cut.clone(),
                // Op-memory depth: the default (every window of a crossbar)
                // or a tight one, down to a single op.
                prop::option::of(1u32..=6),
            )
        })
        .prop_map(|((rows, cols, c, q, a, n), d, m, g, i, o, cut, ops)| {
            let mut params = TileParams {
                rows: Some(rows),
                cols: Some(cols),
                cell_bits: Some(c),
                weight_bits: Some(q),
                act_bits: Some(a),
                dac_bits: Some(d),
                ou_rows: Some(m),
                ou_cols: Some(g),
                xbars: Some(n),
                inputs: Some(i),
                outputs: Some(o),
                ops,
                ..Default::default()
            };
            let lossless = params
                .clone()
                .validate()
                .expect("strategy builds valid configs");
            params.adc_bits = Some(
                lossless
                    .derived
                    .lossless_adc_bits
                    .saturating_sub(cut)
                    .max(1),
            );
            params.validate().expect("strategy builds valid configs")
        })
}

/// Small valid lossless configs with odd sizes.
fn config() -> impl Strategy<Value = TileConfig> {
    configs(0..=0)
}

/// Weights: empty, fully dense at +-max, sparse or half-dense random.
fn weights(maxw: i32) -> impl Strategy<Value = WeightMatrix> {
    (1usize..70, 1usize..50, 0usize..4, any::<u64>()).prop_map(move |(k, n, mode, seed)| {
        testgen::weight_matrix(k, n, maxw, &mut Rng::new(seed), WeightMode::ALL[mode])
    })
}

/// Inputs: all zero, all max, or random.
fn inputs(cfg: &TileConfig, k: usize, mode: u8, seed: u64) -> Vec<u32> {
    testgen::input_vector(cfg, k, &mut Rng::new(seed), input_mode(mode as usize))
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 96,
        failure_persistence: regressions("compiler_props"),
        ..ProptestConfig::default()
    })]

    #[test]
    fn every_mapper_computes_x_w(
        (cfg, w) in config().prop_flat_map(|c| { let ws = weights(c.max_weight() as i32); (Just(c), ws) }),
        xmode in 0u8..3,
        seed in any::<u64>(),
    ) {
        let x = inputs(&cfg, w.rows, xmode, seed);
        let expect = w.matvec(&x);
        let b = bounds(&cfg, &w);
        let mut counts = Vec::new();
        for mapper in Mapper::ALL {
            let lp = map_matrix(&cfg, &w, mapper);
            prop_assert!(lp.validate(&cfg).is_ok(), "{:?}: {:?}", mapper, lp.validate(&cfg));
            prop_assert_eq!(&layer_weights(&cfg, &lp), &w, "{:?}: tiles' weights vs W", mapper);
            let y = execute_layer(&cfg, &lp, &x);
            prop_assert_eq!(&y, &expect, "{:?}", mapper);
            let n = crossbars(&lp);
            // Nothing beats the cell bound.
            prop_assert!(n >= b.cell_crossbars, "{:?}: {} < cell bound {}", mapper, n, b.cell_crossbars);
            counts.push(n);
        }
        // The one-pass flow used by `sme map` gives the same programs and bounds.
        let (all, b2) = map_all(&cfg, &w);
        // The costing path (no cells, slices in parallel, programs dropped)
        // counts exactly what the programs hold.
        let (stats, b3) = map_all_stats(&cfg, &w);
        for mapper in Mapper::ALL {
            prop_assert_eq!(&all[mapper], &map_matrix(&cfg, &w, mapper), "{:?}", mapper);
            let preset = sme::cost::PresetName::Isaac32.preset();
            prop_assert_eq!(
                stats[mapper].cost(&cfg, 3, preset),
                sme::cost::layer_cost(&cfg, &all[mapper], 3, preset),
                "{:?}",
                mapper
            );
        }
        prop_assert_eq!(&b2, &b);
        prop_assert_eq!(&b3, &b);
        // Workload grouping: the same tiles, each spread over its crossbars,
        // computes the same x W, never takes more cycles per vector, and
        // the costing path counts exactly what the programs hold.
        let (balanced, _) = map_all_with(&cfg, &w, Objective::Balanced);
        let (bstats, _) = map_all_stats_with(&cfg, &w, Objective::Balanced);
        let preset = sme::cost::PresetName::Isaac32.preset();
        for mapper in Mapper::ALL {
            let lp = &balanced[mapper];
            prop_assert!(lp.validate(&cfg).is_ok(), "balanced {:?}: {:?}", mapper, lp.validate(&cfg));
            prop_assert_eq!(&execute_layer(&cfg, lp, &x), &expect, "balanced {:?}", mapper);
            let (bc, cc) = (
                sme::cost::layer_cost(&cfg, lp, 1, preset),
                sme::cost::layer_cost(&cfg, &all[mapper], 1, preset),
            );
            prop_assert_eq!(bc.tiles, cc.tiles);
            prop_assert!(bc.cycles_per_vector <= cc.cycles_per_vector, "{:?}", mapper);
            prop_assert_eq!(bstats[mapper].cost(&cfg, 1, preset), bc, "{:?}", mapper);
        }
        // SME never uses more crossbars than dense, nor than SRE.
        prop_assert!(counts[2] <= counts[0]);
        prop_assert!(counts[2] <= counts[1]);
        // SME packs no better than perfect packing of its own strips.
        prop_assert!(counts[2] >= b.packing_crossbars);
    }

    /// Random valid programs on configs with lossless and lossy ADCs: the
    /// golden executor equals the saturating reference, and with a lossless
    /// ADC the exact product of the weights the program holds.
    #[test]
    fn golden_matches_the_references_on_random_programs(
        cfg in configs(0..=3),
        seed in any::<u64>(),
    ) {
        let mut rng = Rng::new(seed);
        let prog = testgen::random_program(&cfg, &mut rng);
        prop_assert!(prog.validate(&cfg).is_ok());
        let lossless = reference::lossless(&cfg);
        prop_assert_eq!(lossless, cfg.derived.adc_lossless);
        let wt = tile_weights(&cfg, &prog);
        for v in 0..4 {
            let x = testgen::input_vector(&cfg, cfg.params.inputs as usize, &mut rng, input_mode(v));
            let y = execute(&cfg, &prog, &x);
            prop_assert_eq!(&y, &saturating(&cfg, &prog, &x), "vs saturating, vector {}", v);
            if lossless {
                prop_assert_eq!(&y, &product(&wt, &x), "vs x W_tile, vector {}", v);
            }
        }
    }
}

/// A lossy ADC saturates each OU column sum at 2^R - 1 before the shifts.
#[test]
fn lossy_adc_saturates() {
    let cfg = TileParams {
        rows: Some(8),
        cols: Some(8),
        ou_rows: Some(8),
        ou_cols: Some(2),
        act_bits: Some(3),
        dac_bits: Some(1),
        adc_bits: Some(2),
        xbars: Some(1),
        inputs: Some(8),
        outputs: Some(2),
        ..Default::default()
    }
    .validate()
    .unwrap();
    assert!(!cfg.derived.adc_lossless);
    let mut xb = Crossbar::empty(&cfg);
    // Column 0: all 8 rows are 1. Column 1: only row 0.
    for r in 0..8 {
        xb.cells[r * 8] = 1;
    }
    xb.cells[1] = 1;
    xb.ops.push(Op {
        row_window: 0,
        col_window: 0,
        inputs: (0..8).map(Some).collect(),
        outputs: vec![Some(0), Some(1)],
        shift: 2,
        negative: false,
    });
    let prog = TileProgram { xbars: vec![xb] };
    prog.validate(&cfg).unwrap();
    // x = 5 = 0b101 everywhere: steps t=0 and t=2 drive all 8 rows.
    let y = execute(&cfg, &prog, &[5; 8]);
    // Column 0: sum 8 saturates to 3 in steps 0 and 2: (3<<0 + 3<<2) << 2 = 60.
    assert_eq!(y[0], 60);
    // Column 1: sum 1 (lossless): 5 << 2 = 20.
    assert_eq!(y[1], 20);
    // The test-side reference saturates the same way.
    assert_eq!(saturating(&cfg, &prog, &[5; 8]), y);
}

/// The dense mapping of the default config allocates every logical crossbar.
#[test]
fn dense_counts_every_logical_crossbar() {
    let cfg = TileConfig::default_config();
    let w = WeightMatrix::zeros(300, 200);
    let lp = map_matrix(&cfg, &w, Mapper::Dense);
    // 3 row blocks x 2 column blocks x 7 slices x 2 signs.
    assert_eq!(crossbars(&lp), 3 * 2 * 7 * 2);
    assert_eq!(crossbars(&map_matrix(&cfg, &w, Mapper::Sme)), 0);
}
