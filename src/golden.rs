//! The golden executor: the bit-exact reference semantics of a tile program
//! (DESIGN sections 2 and 3). The RTL must agree with it on every bit.

use crate::config::TileConfig;
use crate::program::{LayerProgram, TileProgram};

/// Execute `prog` on input vector `x` (tile-local, at most `inputs` entries,
/// each below 2^A; missing entries are zero). Returns the `outputs`
/// accumulators.
///
/// For every activation step t, every crossbar runs its op list: each op sums
/// `cell x input_slice_t` over its m rows for each of its g columns, the ADC
/// returns `min(sum, 2^R - 1)`, and the splice adds
/// `sign x (adc << (shift + t*D))` into the named output.
pub fn execute(cfg: &TileConfig, prog: &TileProgram, x: &[u32]) -> Vec<i128> {
    let p = &cfg.params;
    let d = &cfg.derived;
    let mut y = vec![0i128; p.outputs as usize];
    let adc_max = cfg.adc_max();
    let dmask = (1u32 << p.dac_bits) - 1;
    for t in 0..d.steps {
        let tshift = t * p.dac_bits;
        for xb in &prog.xbars {
            for op in &xb.ops {
                // Input slices of the op's rows for this step (the DAC codes).
                let slices: Vec<(u32, u64)> = op
                    .inputs
                    .iter()
                    .enumerate()
                    .filter_map(|(i, inp)| {
                        inp.map(|ix| {
                            let v = x.get(ix as usize).copied().unwrap_or(0);
                            (
                                op.row_window * p.ou_rows + i as u32,
                                ((v >> tshift) & dmask) as u64,
                            )
                        })
                    })
                    .collect();
                for (c, out) in op.outputs.iter().enumerate() {
                    // An output beyond `outputs` adds nowhere; rows and
                    // columns beyond the crossbar read as zero (the RTL's
                    // behaviour for programs `validate` would reject).
                    let Some(o) = *out else { continue };
                    if o >= p.outputs {
                        continue;
                    }
                    let col = op.col_window * p.ou_cols + c as u32;
                    if col >= p.cols {
                        continue;
                    }
                    let sum: u64 = slices
                        .iter()
                        .filter(|&&(row, _)| row < p.rows)
                        .map(|&(row, s)| xb.cell(cfg, row, col) as u64 * s)
                        .sum();
                    let adc = sum.min(adc_max) as i128;
                    let val = adc << (op.shift + tshift);
                    if op.negative {
                        y[o as usize] -= val;
                    } else {
                        y[o as usize] += val;
                    }
                }
            }
        }
    }
    y
}

/// Execute a layer program: run every tile on its slice of `x` and sum the
/// tiles' outputs into the layer's columns.
pub fn execute_layer(cfg: &TileConfig, lp: &LayerProgram, x: &[u32]) -> Vec<i128> {
    let mut y = vec![0i128; lp.cols];
    for (t, tile) in lp.tiles.iter().enumerate() {
        let xt = lp.tile_inputs(t, x);
        let yt = execute(cfg, &tile.program, &xt);
        for (o, &col) in tile.output_map.iter().enumerate() {
            y[col as usize] += yt[o];
        }
    }
    y
}

/// Cycles the generated tile takes for one input vector of `prog`, from the
/// edge that accepts `start_i` to the first edge with `done_o` high:
/// `steps x longest op list + latency`.
pub fn cycles(cfg: &TileConfig, prog: &TileProgram) -> u64 {
    cfg.derived.steps as u64 * prog.max_ops() as u64 + cfg.derived.latency as u64
}
