//! The matrix of tile configs that build.rs verilates and links for
//! in-process co-simulation (feature `cosim`). Each entry gets its own
//! Verilator `--prefix` (`Vsme_<name>`) and its own shim symbols.
//! Shared between build.rs (via `#[path]`) and the library.

use crate::config::TileParams;

/// (name, params) of every co-simulated config. Names are C identifiers.
pub fn matrix() -> Vec<(&'static str, TileParams)> {
    let p = TileParams::default;
    vec![
        // The default tile, 128x128.
        (
            "d128",
            TileParams {
                rows: Some(128),
                cols: Some(128),
                ..p()
            },
        ),
        // Non-power-of-two crossbar, OU 5x3 that does not divide it.
        (
            "odd",
            TileParams {
                rows: Some(37),
                cols: Some(29),
                ou_rows: Some(5),
                ou_cols: Some(3),
                xbars: Some(3),
                inputs: Some(50),
                outputs: Some(40),
                ..p()
            },
        ),
        // MLC cells and 2-bit DAC: C=2, D=2.
        (
            "mlc",
            TileParams {
                rows: Some(32),
                cols: Some(32),
                cell_bits: Some(2),
                dac_bits: Some(2),
                ou_rows: Some(8),
                ou_cols: Some(4),
                xbars: Some(4),
                inputs: Some(64),
                outputs: Some(48),
                ..p()
            },
        ),
        // Lossy ADC: 4 bits where 7 are lossless.
        (
            "lossy",
            TileParams {
                rows: Some(16),
                cols: Some(16),
                cell_bits: Some(2),
                dac_bits: Some(2),
                ou_rows: Some(8),
                ou_cols: Some(4),
                adc_bits: Some(4),
                xbars: Some(4),
                inputs: Some(24),
                outputs: Some(20),
                ..p()
            },
        ),
        // Q=4 weights, A=5 activations with D=2 (A not a multiple of D).
        (
            "q4",
            TileParams {
                rows: Some(24),
                cols: Some(20),
                weight_bits: Some(4),
                act_bits: Some(5),
                dac_bits: Some(2),
                ou_rows: Some(6),
                ou_cols: Some(5),
                xbars: Some(2),
                inputs: Some(30),
                outputs: Some(25),
                ..p()
            },
        ),
        // Q=16, A=16, C=4, D=4: accumulator wider than 64 bits.
        (
            "q16",
            TileParams {
                rows: Some(32),
                cols: Some(17),
                cell_bits: Some(4),
                weight_bits: Some(16),
                act_bits: Some(16),
                dac_bits: Some(4),
                ou_rows: Some(4),
                ou_cols: Some(4),
                xbars: Some(5),
                inputs: Some(40),
                outputs: Some(20),
                ..p()
            },
        ),
        // Accumulator exactly 32 bits wide.
        ("w32", w32()),
        // Programming data bus exactly 64 bits wide.
        ("w64", w64()),
        // Crossbar + ADC read latency of 5 cycles (a macro with registered
        // reads): the pipeline and the cycle formula follow it.
        (
            "xlat5",
            TileParams {
                rows: Some(24),
                cols: Some(16),
                cell_bits: Some(2),
                dac_bits: Some(3),
                act_bits: Some(7),
                ou_rows: Some(6),
                ou_cols: Some(4),
                xbars: Some(3),
                inputs: Some(40),
                outputs: Some(30),
                xbar_latency: Some(5),
                ..p()
            },
        ),
        // Smallest tile: one crossbar, one op, one input, one output, 1x1 OU.
        (
            "tiny",
            TileParams {
                rows: Some(2),
                cols: Some(3),
                ou_rows: Some(1),
                ou_cols: Some(1),
                xbars: Some(1),
                ops: Some(1),
                inputs: Some(1),
                outputs: Some(1),
                weight_bits: Some(2),
                act_bits: Some(1),
                ..TileParams::default()
            },
        ),
    ]
}

/// A config whose accumulator is exactly 32 bits.
pub(crate) fn w32() -> TileParams {
    TileParams {
        rows: Some(16),
        cols: Some(16),
        ou_rows: Some(4),
        ou_cols: Some(4),
        weight_bits: Some(9),
        act_bits: Some(12),
        dac_bits: Some(3),
        cell_bits: Some(2),
        xbars: Some(2),
        inputs: Some(20),
        outputs: Some(18),
        ops: Some(192),
        ..TileParams::default()
    }
}

/// A config whose programming data bus is exactly 64 bits.
pub(crate) fn w64() -> TileParams {
    TileParams {
        rows: Some(16),
        cols: Some(16),
        ou_rows: Some(4),
        ou_cols: Some(4),
        weight_bits: Some(16),
        act_bits: Some(16),
        dac_bits: Some(8),
        cell_bits: Some(4),
        xbars: Some(2),
        inputs: Some(20),
        outputs: Some(18),
        ops: Some(64),
        ..TileParams::default()
    }
}
