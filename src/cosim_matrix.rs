//! The matrix of tile configs that build.rs verilates and links for
//! in-process co-simulation (feature `cosim`). Each entry gets its own
//! Verilator `--prefix` (`Vsme_<name>`) and its own shim symbols.
//! Shared between build.rs (via `#[path]`) and the library.

use crate::config::TileParams;

/// (name, params) of every co-simulated config. Names are C identifiers.
pub fn matrix() -> Vec<(&'static str, TileParams)> {
    let mut m = behavioral();
    let fpga = vec![
        // The fpga target's block-RAM crossbar (`fpga_*`, see
        // [`fpga_xbar`]): the default tile at the smallest latency it
        // supports, odd sizes (partial row window, pad cells, 10 banks for 5
        // OU rows), MLC cells with a registered adder tree, 4-bit cells and
        // DAC, a 5-cycle read and the smallest tile.
        (
            "fpga_d128",
            TileParams {
                rows: Some(128),
                cols: Some(128),
                xbar_latency: Some(2),
                ..TileParams::default()
            },
        ),
        ("fpga_odd", with_latency(&m, "odd", 2)),
        ("fpga_mlc", with_latency(&m, "mlc", 3)),
        ("fpga_q16", with_latency(&m, "q16", 2)),
        ("fpga_xlat5", with_latency(&m, "xlat5", 5)),
        ("fpga_tiny", with_latency(&m, "tiny", 2)),
        // The two-banks-per-memory variant (`fpgatdp_*`, see [`fpga_tdp`]):
        // the default tile (16 banks, 8 memories), odd sizes (10 banks) and
        // 5 banks rounded up to 6.
        (
            "fpgatdp_d128",
            TileParams {
                rows: Some(128),
                cols: Some(128),
                xbar_latency: Some(2),
                ..TileParams::default()
            },
        ),
        ("fpgatdp_odd", with_latency(&m, "odd", 2)),
        ("fpgatdp_q16", with_latency(&m, "q16", 3)),
    ];
    m.extend(fpga);
    m
}

/// Whether matrix entry `name` is built from the fpga target's sources
/// (the block-RAM crossbar body, [`crate::rtlgen::fpga_verilog`]) instead of
/// the behavioral ones.
pub fn fpga_xbar(name: &str) -> bool {
    name.starts_with("fpga_")
}

/// Whether matrix entry `name` is built from the fpga target's variant with
/// two crossbar banks per true dual-port memory
/// ([`crate::rtlgen::fpga_verilog_tdp`]).
pub fn fpga_tdp(name: &str) -> bool {
    name.starts_with("fpgatdp_")
}

/// The params of entry `name` of `m` with crossbar read latency `l`.
fn with_latency(m: &[(&'static str, TileParams)], name: &str, l: u32) -> TileParams {
    let (_, t) = m
        .iter()
        .find(|(n, _)| *n == name)
        .expect("matrix entry exists");
    TileParams {
        xbar_latency: Some(l),
        ..t.clone()
    }
}

/// The behavioral configs of the matrix.
fn behavioral() -> Vec<(&'static str, TileParams)> {
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
