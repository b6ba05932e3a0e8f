//! References for what a tile program computes, written from
//! docs/design.md section 2 without `sme::golden` (nor the library's index
//! helpers), so that the golden executor and the RTL are checked against
//! something they do not share:
//!
//! - `tile_weights`: the integer weights a program applies, read off its
//!   cells and ops alone (no activation steps, no ADC). With a lossless ADC
//!   the program must compute exactly `x W_tile` (`product`), and the tiles
//!   of a layer, put back through their maps (`layer_weights`), must hold
//!   exactly the layer's W.
//! - `saturating`: the lossy-ADC semantics - per op, column and activation
//!   step, the column sum clipped at 2^R - 1 - looped op, column, step
//!   (the golden executor loops step, crossbar, op).

use sme::config::TileConfig;
use sme::program::{LayerProgram, TileProgram, WeightMatrix};

/// Whether the config's ADC is lossless by design section 2:
/// `2^R - 1 >= m (2^C - 1)(2^D - 1)`, from the parameters alone.
pub fn lossless(cfg: &TileConfig) -> bool {
    let p = &cfg.params;
    let max_sum = p.ou_rows as u64 * ((1u64 << p.cell_bits) - 1) * ((1u64 << p.dac_bits) - 1);
    (1u64 << p.adc_bits) > max_sum
}

/// The weights `w[i][o]` (tile input i, tile output o, `inputs x outputs`)
/// that `prog` applies: every op adds `+-cell << shift` for each pair of an
/// input on one of its rows and an output on one of its columns.
pub fn tile_weights(cfg: &TileConfig, prog: &TileProgram) -> Vec<Vec<i128>> {
    let p = &cfg.params;
    let mut w = vec![vec![0i128; p.outputs as usize]; p.inputs as usize];
    for xb in &prog.xbars {
        for op in &xb.ops {
            let sign = if op.negative { -1 } else { 1 };
            for (i, input) in op.inputs.iter().enumerate() {
                let Some(ix) = *input else { continue };
                let row = (op.row_window * p.ou_rows) as usize + i;
                for (c, output) in op.outputs.iter().enumerate() {
                    let Some(o) = *output else { continue };
                    let col = (op.col_window * p.ou_cols) as usize + c;
                    let cell = xb.cells[row * p.cols as usize + col] as i128;
                    w[ix as usize][o as usize] += sign * (cell << op.shift);
                }
            }
        }
    }
    w
}

/// `x w` for a `tile_weights` matrix (missing inputs are zero).
pub fn product(w: &[Vec<i128>], x: &[u32]) -> Vec<i128> {
    let cols = w.first().map_or(0, |r| r.len());
    let mut y = vec![0i128; cols];
    for (row, &xv) in w.iter().zip(x) {
        for (yc, &wv) in y.iter_mut().zip(row) {
            *yc += xv as i128 * wv;
        }
    }
    y
}

/// The layer weights (row-major `rows x cols`) the tiles of `lp` hold:
/// each tile's `tile_weights` put back through its input and output maps.
pub fn layer_weights(cfg: &TileConfig, lp: &LayerProgram) -> WeightMatrix {
    let mut w = vec![0i128; lp.rows * lp.cols];
    for t in &lp.tiles {
        let wt = tile_weights(cfg, &t.program);
        for (i, &r) in t.input_map.iter().enumerate() {
            for (o, &c) in t.output_map.iter().enumerate() {
                w[r as usize * lp.cols + c as usize] += wt[i][o];
            }
        }
    }
    // A tile's weight outside the maps' range would make these non-zero.
    let data = w
        .into_iter()
        .map(|v| i32::try_from(v).expect("held weight fits i32"))
        .collect();
    WeightMatrix {
        rows: lp.rows,
        cols: lp.cols,
        data,
    }
}

/// What `prog` computes on the tile-local input `x` with the config's ADC
/// (lossless or not): for each op, each of its columns and each activation
/// step t (bits [tD, tD + D) of every input), the sum of `cell x slice` over
/// the op's rows is clipped at `2^R - 1`, shifted left by the op's shift plus
/// tD and added to or subtracted from the column's output.
pub fn saturating(cfg: &TileConfig, prog: &TileProgram, x: &[u32]) -> Vec<i128> {
    let p = &cfg.params;
    let steps = p.act_bits.div_ceil(p.dac_bits);
    let clip = (1u64 << p.adc_bits) - 1;
    let mut y = vec![0i128; p.outputs as usize];
    for xb in &prog.xbars {
        for op in &xb.ops {
            for (c, output) in op.outputs.iter().enumerate() {
                let Some(o) = *output else { continue };
                let col = (op.col_window * p.ou_cols) as usize + c;
                for t in 0..steps {
                    let lo = t * p.dac_bits;
                    let mut sum = 0u64;
                    for (i, input) in op.inputs.iter().enumerate() {
                        let Some(ix) = *input else { continue };
                        let row = (op.row_window * p.ou_rows) as usize + i;
                        let v = x.get(ix as usize).copied().unwrap_or(0) as u64;
                        let slice = (v >> lo) % (1u64 << p.dac_bits);
                        sum += xb.cells[row * p.cols as usize + col] as u64 * slice;
                    }
                    let adc = sum.min(clip) as i128;
                    let term = adc << (op.shift + lo);
                    y[o as usize] += if op.negative { -term } else { term };
                }
            }
        }
    }
    y
}

/// The layer outputs of `lp` on `x` with the config's ADC: each tile's
/// `saturating` result on its inputs (gathered through its input map),
/// summed into the layer columns through its output map.
pub fn saturating_layer(cfg: &TileConfig, lp: &LayerProgram, x: &[u32]) -> Vec<i128> {
    let mut y = vec![0i128; lp.cols];
    for t in &lp.tiles {
        let xt: Vec<u32> = t
            .input_map
            .iter()
            .map(|&r| x.get(r as usize).copied().unwrap_or(0))
            .collect();
        let yt = saturating(cfg, &t.program, &xt);
        for (o, &c) in t.output_map.iter().enumerate() {
            y[c as usize] += yt[o];
        }
    }
    y
}
