//! The tile's hardware interface, defined once: the programming regions and
//! the top-level ports.
//!
//! Everything that needs a region code, a port name, a port direction, a port
//! number or a port width renders it from these tables: the RTL (the
//! `<prefix>_tile_pkg` package and the top's port list, see `rtlgen`), the
//! manifest, the C++ co-simulation shim (through the `sme_ports.h` header
//! build.rs writes with [`shim_ports_header`]), the standalone testbench's
//! makefile defines and the Rust FFI (`cosim`).

use crate::config::TileConfig;

/// Bits of the region field at the top of `prog_addr_i`
/// (`prog_addr_i = {region, offset}`).
pub const REGION_BITS: u32 = 2;

/// One programming-port region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    /// Name (manifest, docs).
    pub name: &'static str,
    /// Code in the upper [`REGION_BITS`] address bits.
    pub code: u64,
    /// Name of the code's localparam in the SystemVerilog package.
    pub sv_name: &'static str,
    /// Offset layout (SystemVerilog concatenation, MSB first).
    pub offset: &'static str,
    /// Data layout (names from the SystemVerilog package).
    pub data: &'static str,
}

/// Programming-port regions (upper [`REGION_BITS`] address bits).
pub mod region {
    use super::Region;

    /// Crossbar cells: offset = {xbar, row} (row in the low `row_idx_bits`);
    /// data = one row, cell c at bits [cC, cC+C).
    pub(crate) const CELLS: u64 = 0;
    /// Op words: offset = {xbar, k} (k in the low `op_idx_bits`).
    pub(crate) const OPS: u64 = 1;
    /// Op counts: offset = xbar.
    pub(crate) const COUNTS: u64 = 2;
    /// Inputs: offset = word w; input w*IPW + i at bits [iA, iA+A).
    pub(crate) const INPUTS: u64 = 3;

    /// Every region, in code order.
    pub const ALL: [Region; 4] = [
        Region {
            name: "cells",
            code: CELLS,
            sv_name: "RegionCells",
            offset: "{xbar, row}",
            data: "row cells, cell c at [c*CellW +: CellW]",
        },
        Region {
            name: "ops",
            code: OPS,
            sv_name: "RegionOps",
            offset: "{xbar, k}",
            data: "op word (layout in the manifest)",
        },
        Region {
            name: "counts",
            code: COUNTS,
            sv_name: "RegionCounts",
            offset: "xbar",
            data: "op count",
        },
        Region {
            name: "inputs",
            code: INPUTS,
            sv_name: "RegionInputs",
            offset: "word",
            data: "InPerWord inputs, input w*InPerWord+i at [i*ActW +: ActW]",
        },
    ];
}

/// Port direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    /// Input.
    In,
    /// Output.
    Out,
}

impl Dir {
    /// The SystemVerilog keyword.
    pub fn sv(self) -> &'static str {
        match self {
            Dir::In => "input",
            Dir::Out => "output",
        }
    }
}

/// Port width: one bit or one of the config's derived widths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Width {
    /// One bit.
    Bit,
    /// The programming address: `derived.prog_addr_bits`.
    ProgAddr,
    /// The programming data: `derived.prog_data_bits`.
    ProgData,
    /// An output index: `derived.out_idx_bits`.
    OutIdx,
    /// An accumulator: `derived.acc_bits`.
    Acc,
}

impl Width {
    /// Bits for `cfg`.
    pub fn bits(self, cfg: &TileConfig) -> u32 {
        let d = &cfg.derived;
        match self {
            Width::Bit => 1,
            Width::ProgAddr => d.prog_addr_bits,
            Width::ProgData => d.prog_data_bits,
            Width::OutIdx => d.out_idx_bits,
            Width::Acc => d.acc_bits,
        }
    }

    /// The width's localparam in the SystemVerilog package (None for a bit).
    pub fn sv_param(self) -> Option<&'static str> {
        match self {
            Width::Bit => None,
            Width::ProgAddr => Some("ProgAddrW"),
            Width::ProgData => Some("ProgDataW"),
            Width::OutIdx => Some("OutIdxW"),
            Width::Acc => Some("AccW"),
        }
    }

    /// The C preprocessor define of the standalone testbench (None for a bit).
    pub fn c_define(self) -> Option<&'static str> {
        match self {
            Width::Bit => None,
            Width::ProgAddr => Some("SME_PROG_ADDR_BITS"),
            Width::ProgData => Some("SME_PROG_DATA_BITS"),
            Width::OutIdx => Some("SME_OUT_IDX_BITS"),
            Width::Acc => Some("SME_ACC_BITS"),
        }
    }
}

/// One port of the top module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Port {
    /// Port name (SystemVerilog and the Verilated model's member).
    pub name: &'static str,
    /// Direction.
    pub dir: Dir,
    /// Width.
    pub width: Width,
    /// Comment line printed before the port in the RTL (starts a group).
    pub group: Option<&'static str>,
}

impl Port {
    /// The port's number in the co-simulation shim: its index among the
    /// ports of the same direction in [`PORTS`].
    pub fn number(&self) -> u32 {
        PORTS
            .iter()
            .filter(|p| p.dir == self.dir)
            .position(|p| p.name == self.name)
            .expect("a port of PORTS") as u32
    }
}

/// The ports, one constant each.
pub mod port {
    use super::{Dir, Port, Width};

    const fn port(name: &'static str, dir: Dir, width: Width) -> Port {
        Port {
            name,
            dir,
            width,
            group: None,
        }
    }

    /// Clock.
    pub(crate) const CLK: Port = port("clk_i", Dir::In, Width::Bit);
    /// Asynchronous active-low reset.
    pub(crate) const RST_N: Port = port("rst_ni", Dir::In, Width::Bit);
    /// Programming handshake: valid.
    pub(crate) const PROG_VALID: Port = Port {
        group: Some("Programming port."),
        ..port("prog_valid_i", Dir::In, Width::Bit)
    };
    /// Programming handshake: ready (only while idle).
    pub(crate) const PROG_READY: Port = port("prog_ready_o", Dir::Out, Width::Bit);
    /// Programming address `{region, offset}`.
    pub(crate) const PROG_ADDR: Port = port("prog_addr_i", Dir::In, Width::ProgAddr);
    /// Programming data.
    pub(crate) const PROG_DATA: Port = port("prog_data_i", Dir::In, Width::ProgData);
    /// Start one input vector (while idle).
    pub(crate) const START: Port = Port {
        group: Some("Control."),
        ..port("start_i", Dir::In, Width::Bit)
    };
    /// Running.
    pub(crate) const BUSY: Port = port("busy_o", Dir::Out, Width::Bit);
    /// One-cycle pulse when the outputs are ready.
    pub(crate) const DONE: Port = port("done_o", Dir::Out, Width::Bit);
    /// Output read address.
    pub(crate) const OUT_ADDR: Port = Port {
        group: Some("Output read port."),
        ..port("out_addr_i", Dir::In, Width::OutIdx)
    };
    /// Output read data (signed; pipelined: the output `out_addr_i` named
    /// `Derived::out_latency` rising edges earlier).
    pub(crate) const OUT_DATA: Port = port("out_data_o", Dir::Out, Width::Acc);
}

/// Every port of the top module, in declaration order.
pub const PORTS: [Port; 11] = [
    port::CLK,
    port::RST_N,
    port::PROG_VALID,
    port::PROG_READY,
    port::PROG_ADDR,
    port::PROG_DATA,
    port::START,
    port::BUSY,
    port::DONE,
    port::OUT_ADDR,
    port::OUT_DATA,
];

/// One stated behaviour of the tile's interface: written into the manifest
/// (`behaviour.<key>`) and README's interface section (a test checks that
/// README lists every key with its result).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Behaviour {
    /// Key (manifest, README).
    pub key: &'static str,
    /// The result in one word: `zero`, `dropped`, `ignored`, `undefined`, ...
    pub result: &'static str,
    /// What happens, exactly.
    pub detail: &'static str,
    /// The test that checks it (empty for `undefined`: not allowed, so not tested).
    pub tested_by: &'static str,
}

const fn beh(
    key: &'static str,
    result: &'static str,
    detail: &'static str,
    tested_by: &'static str,
) -> Behaviour {
    Behaviour {
        key,
        result,
        detail,
        tested_by,
    }
}

/// Where the interface behaviours are co-simulated against the golden model.
const BEH_TEST: &str = "src/cosim.rs behaviour tests (cargo test --features cosim --lib cosim)";

/// Every stated behaviour of the interface, checked against the RTL
/// (`templates/`) and the golden model (`golden`).
pub const BEHAVIOURS: [Behaviour; 24] = [
    beh(
        "input_entry_row",
        "row_window*ou_rows+i",
        "input entry i of an op drives crossbar row row_window*ou_rows + i with the DAC code of its input",
        "tests/cosim.rs (every program)",
    ),
    beh(
        "output_entry_col",
        "col_window*ou_cols+j",
        "output entry j of an op reads crossbar column col_window*ou_cols + j and adds into its output",
        "tests/cosim.rs (every program)",
    ),
    beh(
        "edge_rows",
        "zero",
        "in the last row window, rows at or beyond `rows` do not exist: a valid input entry there contributes zero",
        BEH_TEST,
    ),
    beh(
        "edge_cols",
        "zero",
        "in the last column window, columns at or beyond `cols` read as zero (their output adds 0)",
        BEH_TEST,
    ),
    beh(
        "window_out_of_range",
        "undefined",
        "row_window >= row_windows or col_window >= col_windows is not allowed (TileProgram::validate rejects it)",
        "",
    ),
    beh(
        "shift",
        "2^(shift + t*dac_bits)",
        "at activation step t each ADC code is multiplied by 2^(shift + t*dac_bits) and added (sign 1: subtracted); legal shift 0..=max_slice_shift (the compiler writes p*cell_bits for magnitude slice p); larger values are undefined",
        "tests/cosim.rs (every program)",
    ),
    beh(
        "input_index_out_of_range",
        "zero",
        "a valid input entry whose index is >= inputs drives its row with zero",
        BEH_TEST,
    ),
    beh(
        "output_index_out_of_range",
        "dropped",
        "a valid output entry whose index is >= outputs adds nowhere",
        BEH_TEST,
    ),
    beh(
        "repeated_output_index",
        "undefined",
        "two valid output entries of one op naming the same output are not allowed; entries of different ops or of different crossbars may name the same output and add",
        "",
    ),
    beh(
        "count_above_ops",
        "undefined",
        "an op count above ops is not allowed (it would issue op words that do not exist)",
        "",
    ),
    beh(
        "count_zero",
        "idle",
        "a crossbar whose count is 0 issues nothing; with every count 0 a start takes `latency` cycles and every output reads 0",
        BEH_TEST,
    ),
    beh(
        "unused_data_bits",
        "ignored",
        "prog_data_i bits above the region's data_bits are ignored",
        BEH_TEST,
    ),
    beh(
        "unused_offset_bits",
        "ignored",
        "offset bits above the region's offset fields are ignored",
        BEH_TEST,
    ),
    beh(
        "xbar_out_of_range",
        "dropped",
        "a cells, ops or counts write naming crossbar >= xbars changes nothing",
        BEH_TEST,
    ),
    beh(
        "input_word_out_of_range",
        "dropped",
        "an inputs write naming word >= input_words changes nothing",
        BEH_TEST,
    ),
    beh(
        "row_or_op_out_of_range",
        "undefined",
        "a cells write with row >= rows or an ops write with k >= ops is not allowed",
        "",
    ),
    beh(
        "reset",
        "control and counts",
        "rst_ni low clears the controller (idle, done_o low), the pipeline's valid bits and every op count (to 0); cells, op words, inputs and accumulators keep their contents",
        BEH_TEST,
    ),
    beh(
        "reprogramming",
        "no reset needed",
        "any region may be rewritten whenever prog_ready_o is high; cells, op words, counts and inputs persist across vectors until rewritten",
        BEH_TEST,
    ),
    beh(
        "start",
        "next edge",
        "the rising edge that samples start_i high while busy_o is low accepts it: the outputs are cleared and busy_o is high after that edge",
        BEH_TEST,
    ),
    beh(
        "start_while_busy",
        "ignored",
        "start_i is ignored while busy_o is high",
        BEH_TEST,
    ),
    beh(
        "done",
        "1-cycle pulse, busy_o low",
        "done_o is high for exactly one cycle; busy_o is already low (and prog_ready_o high) in that cycle, so a start or a write in the done_o cycle is accepted",
        BEH_TEST,
    ),
    beh(
        "prog_while_busy",
        "held off",
        "prog_ready_o is low while busy_o is high: a write waits until the run ends",
        BEH_TEST,
    ),
    beh(
        "output_read",
        "valid after done",
        "an address presented on out_addr_i from the done_o cycle until the edge that accepts the next start reads the run's result on out_data_o read_latency edges later; out_addr_i >= outputs reads 0; before the first start the outputs are undefined",
        BEH_TEST,
    ),
    beh(
        "write_and_start_same_edge",
        "undefined",
        "a write and a start accepted on the same edge are not allowed",
        "",
    ),
];

/// The C++ header the co-simulation shim includes (`sme_ports.h`, written by
/// build.rs): X-macro lists of the input and output ports with their numbers,
/// the clock port and the region codes. The same for every config.
pub fn shim_ports_header() -> String {
    let mut s = String::from(
        "// Generated by build.rs from src/iface.rs: do not edit.\n\
         // SME_IN_PORTS(X) / SME_OUT_PORTS(X) expand X(number, name) for every input /\n\
         // output port of the tile; the numbers are `iface::Port::number`, the ones\n\
         // src/cosim.rs passes to poke/peek.\n\
         #pragma once\n",
    );
    for (list, dir) in [("SME_IN_PORTS", Dir::In), ("SME_OUT_PORTS", Dir::Out)] {
        s.push_str(&format!("#define {list}(X)"));
        for p in PORTS.iter().filter(|p| p.dir == dir) {
            s.push_str(&format!(" \\\n  X({}, {})", p.number(), p.name));
        }
        s.push('\n');
    }
    s.push_str(&format!("#define SME_CLK_PORT {}\n", port::CLK.name));
    s.push_str(&format!("#define SME_REGION_BITS {REGION_BITS}\n"));
    for r in region::ALL {
        s.push_str(&format!(
            "#define SME_REGION_{} {}\n",
            r.name.to_uppercase(),
            r.code
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_codes_fit_and_are_in_order() {
        for (i, r) in region::ALL.iter().enumerate() {
            assert_eq!(r.code, i as u64);
            assert!(r.code < 1 << REGION_BITS);
        }
        let cfg = TileConfig::default_config();
        assert_eq!(
            cfg.derived.prog_addr_bits,
            cfg.derived.prog_offset_bits + REGION_BITS
        );
    }

    #[test]
    fn port_numbers_are_dense_per_direction() {
        for dir in [Dir::In, Dir::Out] {
            let nums: Vec<u32> = PORTS
                .iter()
                .filter(|p| p.dir == dir)
                .map(|p| p.number())
                .collect();
            assert_eq!(nums, (0..nums.len() as u32).collect::<Vec<_>>());
        }
        assert_eq!(port::OUT_DATA.number(), 3);
        assert_eq!(port::OUT_ADDR.number(), 6);
    }
}
