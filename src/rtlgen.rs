//! RTL generation: renders the askama templates under `templates/` from one
//! validated [`TileConfig`], plus the filelist, JSON manifest and Yosys
//! script. All widths are computed here; templates only loop, branch and
//! print fields. Output is a pure function of (config, prefix): byte-identical
//! on every run.

use crate::config::{TileConfig, bits_for};
use askama::Template;
use serde_json::json;

/// Generator version written into every file header.
pub const GENERATOR_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Every number a template prints, computed from the config.
#[allow(missing_docs)]
#[derive(Debug, Clone)]
pub struct Ctx {
    /// Module-name prefix (`<p>_tile` is the top).
    pub p: String,
    /// Comment header (generator version and config).
    pub header: String,
    pub rows: u32,
    pub cols: u32,
    pub cell_bits: u32,
    pub act_bits: u32,
    pub dac_bits: u32,
    pub ou_rows: u32,
    pub ou_cols: u32,
    pub adc_bits: u32,
    pub xbars: u32,
    pub inputs: u32,
    pub outputs: u32,
    pub ops: u32,
    pub steps: u32,
    pub latency: u32,
    pub row_idx_bits: u32,
    pub rw_bits: u32,
    pub cw_bits: u32,
    pub sum_bits: u32,
    pub row_calc_bits: u32,
    pub col_calc_bits: u32,
    pub cols_pad: u32,
    pub col_pad_bits: u32,
    pub row_guard: bool,
    pub adc_saturates: bool,
    pub adc_max: u64,
    pub shift_bits: u32,
    pub step_bits: u32,
    pub splice_bits: u32,
    pub shamt_bits: u32,
    pub out_idx_bits: u32,
    pub acc_bits: u32,
    pub gather_lanes: u32,
    pub in_idx_bits: u32,
    pub inputs_per_word: u32,
    pub in_word_bits: u32,
    pub act_pad_width: u32,
    pub act_pad_bits: u32,
    pub op_width: u32,
    pub op_idx_bits: u32,
    pub cnt_bits: u32,
    pub xbar_idx_bits: u32,
    pub flush_bits: u32,
    pub prog_addr_bits: u32,
    pub prog_data_bits: u32,
    pub prog_offset_bits: u32,
    pub op_sign: u32,
    pub op_shift: u32,
    pub op_rw: u32,
    pub op_cw: u32,
    pub op_in: u32,
    pub in_entry_bits: u32,
    pub op_out: u32,
    pub out_entry_bits: u32,
}

/// Default module prefix.
pub const DEFAULT_PREFIX: &str = "sme";

/// Check a module prefix: a Verilog identifier of letters, digits and `_`,
/// starting with a letter.
pub fn check_prefix(prefix: &str) -> Result<(), String> {
    let ok = prefix.len() <= 64
        && prefix
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
        && prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "invalid module prefix `{prefix}`: valid is 1..=64 letters, digits or `_`, starting with a letter"
        ))
    }
}

impl Ctx {
    /// Compute every template field from the config.
    pub fn new(cfg: &TileConfig, prefix: &str) -> Ctx {
        let p = &cfg.params;
        let d = &cfg.derived;
        let l = &d.op_layout;
        let cols_pad = d.col_windows * p.ou_cols;
        Ctx {
            p: prefix.to_string(),
            header: header(cfg),
            rows: p.rows,
            cols: p.cols,
            cell_bits: p.cell_bits,
            act_bits: p.act_bits,
            dac_bits: p.dac_bits,
            ou_rows: p.ou_rows,
            ou_cols: p.ou_cols,
            adc_bits: p.adc_bits,
            xbars: p.xbars,
            inputs: p.inputs,
            outputs: p.outputs,
            ops: p.ops,
            steps: d.steps,
            latency: d.latency,
            row_idx_bits: d.row_idx_bits,
            rw_bits: d.rw_bits,
            cw_bits: d.cw_bits,
            sum_bits: d.sum_bits,
            row_calc_bits: bits_for((d.row_windows * p.ou_rows - 1) as u64),
            col_calc_bits: bits_for(((d.col_windows - 1) * p.ou_cols) as u64),
            cols_pad,
            col_pad_bits: (cols_pad - p.cols) * p.cell_bits,
            row_guard: p.rows % p.ou_rows != 0,
            adc_saturates: p.adc_bits < d.sum_bits,
            adc_max: cfg.adc_max(),
            shift_bits: d.shift_bits,
            step_bits: d.step_bits,
            splice_bits: d.splice_bits,
            shamt_bits: bits_for((d.max_slice_shift + d.max_step_shift) as u64),
            out_idx_bits: d.out_idx_bits,
            acc_bits: d.acc_bits,
            gather_lanes: p.xbars * p.ou_rows,
            in_idx_bits: d.in_idx_bits,
            inputs_per_word: d.inputs_per_word,
            in_word_bits: d.in_word_bits,
            act_pad_width: d.steps * p.dac_bits,
            act_pad_bits: d.steps * p.dac_bits - p.act_bits,
            op_width: l.width,
            op_idx_bits: d.op_idx_bits,
            cnt_bits: d.cnt_bits,
            xbar_idx_bits: d.xbar_idx_bits,
            flush_bits: bits_for((d.latency - 1) as u64),
            prog_addr_bits: d.prog_addr_bits,
            prog_data_bits: d.prog_data_bits,
            prog_offset_bits: d.prog_offset_bits,
            op_sign: l.sign,
            op_shift: l.shift,
            op_rw: l.rw,
            op_cw: l.cw,
            op_in: l.inputs,
            in_entry_bits: l.in_entry_bits,
            op_out: l.outputs,
            out_entry_bits: l.out_entry_bits,
        }
    }
}

/// The comment header of every generated file: generator version and the
/// full resolved config.
pub fn header(cfg: &TileConfig) -> String {
    let mut h = format!(
        "// Generated by sme {GENERATOR_VERSION} (SME tile RTL generator). Do not edit:\n\
         // regenerate with `sme gen` and this config instead.\n// Config:\n"
    );
    for line in cfg.params_toml().lines() {
        h.push_str("//   ");
        h.push_str(line);
        h.push('\n');
    }
    h.push_str(&format!(
        "// Derived: slices {} steps {} sum {} b, ADC {} b ({}), splice {} b, accumulator {} b, op word {} b",
        cfg.derived.slices,
        cfg.derived.steps,
        cfg.derived.sum_bits,
        cfg.params.adc_bits,
        if cfg.derived.adc_lossless { "lossless" } else { "LOSSY: saturates" },
        cfg.derived.splice_bits,
        cfg.derived.acc_bits,
        cfg.derived.op_layout.width
    ));
    h
}

macro_rules! templates {
    ($($name:ident => $path:literal),* $(,)?) => {
        $(
            #[derive(Template)]
            #[template(path = $path, escape = "none")]
            struct $name<'a> {
                c: &'a Ctx,
            }
        )*
    };
}

templates! {
    XbarT => "xbar.sv",
    GatherT => "gather.sv",
    AdcT => "adc.sv",
    SpliceT => "splice.sv",
    AccumT => "accum.sv",
    CtrlT => "ctrl.sv",
    TileT => "tile.sv",
}

/// One generated file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenFile {
    /// File name (no directory).
    pub name: String,
    /// Contents.
    pub text: String,
}

/// The complete generated output for one config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    /// Top module name.
    pub top: String,
    /// Verilog sources in dependency order (top last).
    pub sources: Vec<GenFile>,
    /// Filelist, manifest and Yosys script.
    pub extras: Vec<GenFile>,
}

impl Bundle {
    /// Every file (sources, then extras).
    pub fn files(&self) -> impl Iterator<Item = &GenFile> {
        self.sources.iter().chain(self.extras.iter())
    }
}

fn render<T: Template>(t: &T) -> String {
    let mut s = t
        .render()
        .expect("templates render (all fields are plain values)");
    // askama drops the final newline; Verilator -Wall wants one.
    if !s.ends_with('\n') {
        s.push('\n');
    }
    s
}

/// Render the Verilog sources only, in dependency order (top last).
pub fn verilog(cfg: &TileConfig, prefix: &str) -> Vec<GenFile> {
    let c = Ctx::new(cfg, prefix);
    let f = |block: &str, text: String| GenFile {
        name: format!("{prefix}_{block}.sv"),
        text,
    };
    vec![
        f("xbar", render(&XbarT { c: &c })),
        f("gather", render(&GatherT { c: &c })),
        f("adc", render(&AdcT { c: &c })),
        f("splice", render(&SpliceT { c: &c })),
        f("accum", render(&AccumT { c: &c })),
        f("ctrl", render(&CtrlT { c: &c })),
        f("tile", render(&TileT { c: &c })),
    ]
}

/// The tile's ports: (name, direction, width).
pub fn ports(cfg: &TileConfig) -> Vec<(&'static str, &'static str, u32)> {
    let d = &cfg.derived;
    vec![
        ("clk_i", "input", 1),
        ("rst_ni", "input", 1),
        ("prog_valid_i", "input", 1),
        ("prog_ready_o", "output", 1),
        ("prog_addr_i", "input", d.prog_addr_bits),
        ("prog_data_i", "input", d.prog_data_bits),
        ("start_i", "input", 1),
        ("busy_o", "output", 1),
        ("done_o", "output", 1),
        ("out_addr_i", "input", d.out_idx_bits),
        ("out_data_o", "output", d.acc_bits),
    ]
}

/// The JSON manifest: top, config, derived widths, ports, memory map.
pub fn manifest(cfg: &TileConfig, prefix: &str, sources: &[GenFile]) -> serde_json::Value {
    let d = &cfg.derived;
    let p = &cfg.params;
    let top = format!("{prefix}_tile");
    json!({
        "generator": format!("sme {GENERATOR_VERSION}"),
        "top": top,
        "files": sources.iter().map(|f| f.name.clone()).collect::<Vec<_>>(),
        "config": cfg.params,
        "derived": cfg.derived,
        "ports": ports(cfg).iter().map(|(n, dir, w)| json!({"name": n, "dir": dir, "width": w})).collect::<Vec<_>>(),
        "cycles": {
            "formula": "steps * max_ops + latency",
            "steps": d.steps,
            "latency": d.latency,
            "counted_from": "the rising edge that samples start_i high while idle",
            "counted_to": "the first rising edge after which done_o is high",
        },
        "programming": {
            "handshake": "a write happens on a rising edge with prog_valid_i && prog_ready_o; prog_ready_o is high only while idle",
            "addr_bits": d.prog_addr_bits,
            "data_bits": d.prog_data_bits,
            "region_bits": [d.prog_addr_bits - 1, d.prog_addr_bits - 2],
            "offset_bits": d.prog_offset_bits,
            "regions": [
                {"name": "cells", "region": 0,
                 "offset": format!("xbar << {} | row", d.row_idx_bits),
                 "count": p.xbars * p.rows,
                 "data": format!("one crossbar row: cell c at bits [c*{c}, c*{c}+{c})", c = p.cell_bits),
                 "data_bits": d.row_data_bits},
                {"name": "ops", "region": 1,
                 "offset": format!("xbar << {} | k", d.op_idx_bits),
                 "count": p.xbars * p.ops,
                 "data": "op word, see op_layout",
                 "data_bits": d.op_layout.width},
                {"name": "counts", "region": 2,
                 "offset": "xbar",
                 "count": p.xbars,
                 "data": "number of ops of the crossbar",
                 "data_bits": d.cnt_bits},
                {"name": "inputs", "region": 3,
                 "offset": "word",
                 "count": d.input_words,
                 "data": format!("inputs word*{ipw}+i at bits [i*{a}, i*{a}+{a}) for i < {ipw}", ipw = d.inputs_per_word, a = p.act_bits),
                 "data_bits": d.inputs_per_word * p.act_bits},
            ],
            "op_layout": {
                "sign": {"lsb": d.op_layout.sign, "bits": 1, "meaning": "1 = subtract"},
                "shift": {"lsb": d.op_layout.shift, "bits": d.shift_bits},
                "row_window": {"lsb": d.op_layout.rw, "bits": d.rw_bits},
                "col_window": {"lsb": d.op_layout.cw, "bits": d.cw_bits},
                "inputs": {"lsb": d.op_layout.inputs, "entries": p.ou_rows, "entry_bits": d.op_layout.in_entry_bits,
                           "entry": "bit 0 valid, bits [1..] input index"},
                "outputs": {"lsb": d.op_layout.outputs, "entries": p.ou_cols, "entry_bits": d.op_layout.out_entry_bits,
                            "entry": "bit 0 valid, bits [1..] output index (distinct within an op)"},
                "width": d.op_layout.width,
            },
        },
        "output_port": {
            "addr_bits": d.out_idx_bits,
            "data_bits": d.acc_bits,
            "meaning": "signed two's complement sum of every crossbar's bank for output out_addr_i; combinational; valid after done_o until the next start",
        },
        "sequence": [
            "reset: rst_ni low for at least one cycle",
            "write cells (region 0) and ops (region 1) of every crossbar, then the op counts (region 2)",
            "write the input vector (region 3)",
            "pulse start_i for one cycle while busy_o is low",
            "wait for done_o (a one-cycle pulse)",
            "read outputs 0..outputs-1 through out_addr_i/out_data_o",
            "for the next vector: write inputs, start again (cells and ops persist)",
        ],
    })
}

/// Yosys synthesis script: read, synthesize, assert no latches and a clean
/// check, print statistics.
pub fn yosys_script(prefix: &str, sources: &[GenFile]) -> String {
    let mut s = String::from(
        "# Generated by sme: synthesize the tile with Yosys (yosys -s <this file>).\n",
    );
    for f in sources {
        s.push_str(&format!("read_verilog -sv {}\n", f.name));
    }
    s.push_str(&format!("synth -top {prefix}_tile\n"));
    s.push_str("# No latches anywhere in the design.\n");
    s.push_str(
        "select -assert-none t:$dlatch t:$adlatch t:$dlatchsr t:$_DLATCH_*_ t:$_DLATCHSR_*_\n",
    );
    s.push_str("check -assert\n");
    s.push_str("stat\n");
    s
}

/// The standalone C++ testbench (`sim/sme_tb.cpp`), the same for every config.
pub const TESTBENCH_CPP: &str = include_str!("../sim/sme_tb.cpp");

/// The makefile that verilates the tile and builds the standalone testbench
/// `obj_tb/sme_tb` (`obj_tb_trace/sme_tb` with `TRACE=1`, which adds VCD
/// tracing). The config's accumulator width and output count are passed to
/// the C++ as defines.
pub fn testbench_makefile(cfg: &TileConfig, prefix: &str, sources: &[GenFile]) -> String {
    let d = &cfg.derived;
    let mut s = format!(
        "# Generated by sme {GENERATOR_VERSION}: builds the standalone Verilator testbench of\n\
         # {prefix}_tile (needs Verilator 5.x, make and a C++ compiler; no Rust).\n\
         #   make -f sme_tb.mk             # obj_tb/sme_tb\n\
         #   make -f sme_tb.mk TRACE=1     # obj_tb_trace/sme_tb, with +trace=wave.vcd\n\
         #   obj_tb/sme_tb 0000.prog.stim 0000.vec.stim ... > results.txt   (or @stims.txt)\n\
         # The STIM and results formats are described at the top of sme_tb.cpp;\n\
         # `sme verify --emit DIR` writes STIM files, stims.txt and expected.txt.\n\
         # Warnings do not stop this build (-Wno-fatal): the lint gate is\n\
         # `verilator --lint-only -Wall` on the generated RTL.\n\
         VERILATOR ?= verilator\n\
         TRACE ?= 0\n\
         JOBS ?= 2\n\
         TOP = {prefix}_tile\n\
         SOURCES ="
    );
    for f in sources {
        s.push_str(&format!(" {}", f.name));
    }
    s.push_str(&format!(
        "\nTB_DEFINES = -DSME_ACC_BITS={} -DSME_OUTPUTS={} -DSME_OUT_IDX_BITS={} -DSME_PROG_ADDR_BITS={} -DSME_PROG_DATA_BITS={}\n\
         ifeq ($(TRACE),1)\n\
         OBJ = obj_tb_trace\n\
         TRACE_FLAGS = --trace\n\
         else\n\
         OBJ = obj_tb\n\
         TRACE_FLAGS =\n\
         endif\n\
         \n\
         $(OBJ)/sme_tb: $(SOURCES) sme_tb.cpp sme_tb.mk\n\
         \t$(VERILATOR) --cc --exe --build -j $(JOBS) -Wall -Wno-fatal -O3 --x-assign fast --x-initial fast \\\n\
         \t  $(TRACE_FLAGS) --prefix Vtop --top-module $(TOP) -Mdir $(OBJ) -o sme_tb \\\n\
         \t  -CFLAGS \"$(TB_DEFINES)\" $(SOURCES) sme_tb.cpp\n",
        d.acc_bits, cfg.params.outputs, d.out_idx_bits, d.prog_addr_bits, d.prog_data_bits
    ));
    s
}

/// The testbench files `sme gen --tb` writes beside the RTL.
pub fn testbench(cfg: &TileConfig, prefix: &str, sources: &[GenFile]) -> Vec<GenFile> {
    vec![
        GenFile {
            name: "sme_tb.cpp".into(),
            text: TESTBENCH_CPP.to_string(),
        },
        GenFile {
            name: "sme_tb.mk".into(),
            text: testbench_makefile(cfg, prefix, sources),
        },
    ]
}

/// Render everything for `cfg`: sources, `<top>.f`, `<top>.json`, `<top>.ys`.
pub fn generate(cfg: &TileConfig, prefix: &str) -> Bundle {
    let sources = verilog(cfg, prefix);
    let top = format!("{prefix}_tile");
    let filelist: String = sources.iter().map(|f| format!("{}\n", f.name)).collect();
    let mut manifest_text = serde_json::to_string_pretty(&manifest(cfg, prefix, &sources))
        .expect("manifest serializes");
    manifest_text.push('\n');
    let extras = vec![
        GenFile {
            name: format!("{top}.f"),
            text: filelist,
        },
        GenFile {
            name: format!("{top}.json"),
            text: manifest_text,
        },
        GenFile {
            name: format!("{top}.ys"),
            text: yosys_script(prefix, &sources),
        },
    ];
    Bundle {
        top,
        sources,
        extras,
    }
}
