//! Co-simulated vectors per second of a matrix config (default: the 128x128
//! tile), with a dense program that fills every crossbar's op list.
//! `cargo run --release --features cosim --example cosim_speed [-- NAME VECTORS]`

use sme::compiler::map::{Mapper, map_matrix};
use sme::cosim::Tile;
use sme::golden;
use sme::program::WeightMatrix;
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| "d128".into());
    let nvec: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(50);
    let mut tile = Tile::new(&name).expect("model in the cosim matrix");
    let cfg = tile.config().clone();
    let (k, n) = (cfg.params.rows as usize, cfg.params.cols as usize);
    // Random dense weights of one crossbar block: every plane has full op lists.
    let mut rng = sme::testgen::Rng::new(1);
    let maxw = cfg.max_weight();
    let data = (0..k * n)
        .map(|_| rng.below(2 * maxw as u64 + 1) as i32 - maxw as i32)
        .collect();
    let w = WeightMatrix {
        rows: k,
        cols: n,
        data,
    };
    let lp = map_matrix(&cfg, &w, Mapper::Dense);
    let prog = &lp.tiles[0].program;
    let t0 = Instant::now();
    tile.load_program(prog);
    let load = t0.elapsed();
    let t1 = Instant::now();
    let mut cycles = 0;
    for v in 0..nvec {
        let x: Vec<u32> = (0..cfg.params.inputs)
            .map(|_| rng.next_u64() as u32 & cfg.max_act())
            .collect();
        let (y, c) = tile.execute(&x);
        assert_eq!(y, golden::execute(&cfg, prog, &x), "vector {v}");
        cycles += c;
    }
    let dt = t1.elapsed().as_secs_f64();
    println!(
        "cosim {name}: program load {:.3} s ({} crossbars x {} ops); {nvec} vectors in {:.2} s = {:.1} vectors/s, {:.0} tile cycles/s ({} cycles/vector)",
        load.as_secs_f64(),
        prog.xbars.len(),
        prog.max_ops(),
        dt,
        nvec as f64 / dt,
        cycles as f64 / dt,
        cycles / nvec as u64
    );
}
