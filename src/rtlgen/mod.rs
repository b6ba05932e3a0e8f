//! RTL generation: renders the askama templates under `templates/` from one
//! validated [`TileConfig`] - the package `<prefix>_tile_pkg.sv` that holds
//! every constant, then one module per block - plus the filelist, JSON
//! manifest and Yosys script. Ports and region codes come from
//! [`crate::iface`]. All widths are computed here; templates only loop,
//! branch and print fields. Output is a pure function of (config, prefix):
//! byte-identical on every run.

use crate::config::{Derived, Params, TileConfig, bits_for};
use crate::iface::{self, Port, Region};
use askama::Template;
use serde_json::json;

mod asic;
mod fpga;

/// Generator version written into every file header.
pub(crate) const GENERATOR_VERSION: &str = env!("CARGO_PKG_VERSION");

/// What a template prints: the resolved config, plus the few values that
/// only the templates need. Every number is computed here; the templates
/// only loop, branch and print fields. Adding a tile parameter touches its
/// declaration in `config` and its use in the templates (the package
/// template `templates/pkg.sv` names every constant the RTL uses).
#[derive(Debug, Clone)]
pub struct Ctx {
    /// Module-name prefix (`<prefix>_tile` is the top).
    pub prefix: String,
    /// The package every module takes its constants from (`<prefix>_tile_pkg`).
    pub pkg: String,
    /// Comment header (generator version and config).
    pub header: String,
    /// Resolved parameters.
    pub params: Params,
    /// Derived widths.
    pub derived: Derived,
    /// Row index arithmetic width in the crossbar: holds rw * OuRows + OuRows - 1.
    pub row_calc_bits: u32,
    /// Column index arithmetic width in the crossbar: holds cw * OuCols.
    pub col_calc_bits: u32,
    /// Bits of a row padded to whole column windows.
    pub row_pad_bits: u32,
    /// Whether the last row window is partial (rows beyond `rows` read as zero).
    pub row_guard: bool,
    /// Largest ADC code 2^R - 1 (the package declares it only for a lossy
    /// ADC, where `derived.adc_lossless` is false and it is below 2^18).
    pub adc_max: u64,
    /// Splice shift amount width: holds max slice shift + max step shift.
    pub shamt_bits: u32,
    /// Gather lanes: one per OU row of every crossbar.
    pub gather_lanes: u32,
    /// Activation width padded to whole DAC steps.
    pub act_pad_width: u32,
    /// Width of the controller's flush counter: holds latency - 1.
    pub flush_bits: u32,
    /// Registers the crossbar read adds beyond the X-stage register:
    /// xbar_latency - 1 (the crossbar's sums and the ops' side band are
    /// delayed by this many cycles).
    pub xbar_delay: u32,
    /// Width of an op's side band delayed with the crossbar read: sign,
    /// slice shift and output entries.
    pub rd_side_bits: u32,
    /// Whether the files are the fpga target's (the package declares the
    /// block-RAM crossbar's constants instead of the behavioral one's).
    pub fpga: bool,
    /// Block-RAM crossbar (fpga target): banks per crossbar,
    /// max(ou_rows, col_windows).
    pub xbar_banks: u32,
    /// Block-RAM crossbar: bits of a bank word (one column window of one
    /// row: ou_cols x cell_bits).
    pub xbar_bank_bits: u32,
    /// Block-RAM crossbar: bank index arithmetic width (holds 2 banks - 1,
    /// (row_windows - 1) ou_rows + banks - 1 and rows).
    pub xbar_bank_calc_bits: u32,
    /// Block-RAM crossbar: leaves of each column's adder tree (banks rounded
    /// up to a power of two).
    pub xbar_tree_leaves: u32,
    /// Bits of the region field of the programming address.
    pub region_bits: u32,
    /// Programming regions.
    pub regions: &'static [Region],
    /// One aligned comment line per region (code, name, offset, data).
    pub region_docs: Vec<String>,
    /// The top's port declarations, rendered from [`iface::PORTS`] (widths
    /// name the top's localparams, which bind the package's constants).
    pub ports: Vec<PortDecl>,
}

/// One port declaration of the top module.
#[derive(Debug, Clone)]
pub struct PortDecl {
    /// Comment line printed before the port.
    pub group: Option<&'static str>,
    /// The declaration (`input  logic [W-1:0] name`), aligned.
    pub decl: String,
    /// Whether this is the last port (no trailing comma).
    pub last: bool,
}

/// Default module prefix.
pub const DEFAULT_PREFIX: &str = "sme";

/// Check a module prefix: a Verilog identifier of letters, digits and `_`,
/// starting with a letter.
pub(crate) fn check_prefix(prefix: &str) -> Result<(), String> {
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
        let pkg = format!("{prefix}_tile_pkg");
        let range = |port: &Port| {
            port.width
                .sv_param()
                .map(|w| format!("[{w}-1:0]"))
                .unwrap_or_default()
        };
        let range_w = iface::PORTS
            .iter()
            .map(|q| range(q).len())
            .max()
            .unwrap_or(0);
        let ports = iface::PORTS
            .iter()
            .enumerate()
            .map(|(i, q)| PortDecl {
                group: q.group,
                decl: format!("{:<6} logic {:<range_w$} {}", q.dir.sv(), range(q), q.name),
                last: i + 1 == iface::PORTS.len(),
            })
            .collect();
        Ctx {
            prefix: prefix.to_string(),
            header: header(cfg),
            params: p.clone(),
            derived: d.clone(),
            row_calc_bits: bits_for((d.row_windows * p.ou_rows - 1) as u64),
            col_calc_bits: bits_for(((d.col_windows - 1) * p.ou_cols) as u64),
            row_pad_bits: d.col_windows * p.ou_cols * p.cell_bits,
            row_guard: !p.rows.is_multiple_of(p.ou_rows),
            adc_max: cfg.adc_max(),
            shamt_bits: bits_for((d.max_slice_shift + d.max_step_shift) as u64),
            gather_lanes: p.xbars * p.ou_rows,
            act_pad_width: d.steps * p.dac_bits,
            flush_bits: bits_for((d.latency - 1) as u64),
            xbar_delay: p.xbar_latency - 1,
            rd_side_bits: 1 + d.shift_bits + p.ou_cols * d.op_layout.out_entry_bits,
            fpga: false,
            xbar_banks: fpga::banks(cfg),
            xbar_bank_bits: p.ou_cols * p.cell_bits,
            xbar_bank_calc_bits: bits_for(
                (2 * fpga::banks(cfg) - 1)
                    .max((d.row_windows - 1) * p.ou_rows + fpga::banks(cfg) - 1)
                    .max(p.rows) as u64,
            ),
            xbar_tree_leaves: fpga::banks(cfg).next_power_of_two(),
            region_bits: iface::REGION_BITS,
            regions: &iface::region::ALL,
            region_docs: iface::region::ALL
                .iter()
                .map(|r| {
                    format!(
                        "region {} {:<6}: offset = {:<12} data = {}",
                        r.code, r.name, r.offset, r.data
                    )
                })
                .collect(),
            ports,
            pkg,
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

/// One memory shape: a `<prefix>_<name>` module rendered from
/// `templates/ram.sv` (one write port, synchronous read, read latency 1).
/// Depth, width and address width name package constants.
#[derive(Debug, Clone)]
pub struct RamShape {
    /// Block name: the module is `<prefix>_<name>`, the file `<prefix>_<name>.sv`.
    pub name: &'static str,
    /// Module name.
    pub module: String,
    /// What the memory holds (the module's comment).
    pub doc: &'static str,
    /// Package constant of the depth.
    pub depth: &'static str,
    /// Package constant of the word width.
    pub width: &'static str,
    /// Package constant of the address width.
    pub addr_w: &'static str,
    /// Ask for block RAM (`(* ram_style = "block" *)`) even where the
    /// synthesis tool would pick LUT RAM (the fpga target's crossbar banks).
    pub block: bool,
}

/// The memories of the tile, one module per shape. Only memories with one
/// reader per cycle are here: the input buffer and the accumulators are read
/// by every lane every cycle (and the crossbar cells by every OU row), so
/// they stay registers.
pub(crate) fn ram_shapes(prefix: &str) -> Vec<RamShape> {
    vec![RamShape {
        name: "op_ram",
        module: format!("{prefix}_op_ram"),
        doc: "Op memory of one crossbar: Ops op words (the controller holds one per crossbar).",
        depth: "Ops",
        width: "OpW",
        addr_w: "OpIdxW",
        block: false,
    }]
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
    PkgT => "pkg.sv",
    XbarT => "xbar.sv",
    GatherT => "gather.sv",
    AdcT => "adc.sv",
    SpliceT => "splice.sv",
    AccumT => "accum.sv",
    CtrlT => "ctrl.sv",
    TileT => "tile.sv",
}

#[derive(Template)]
#[template(path = "ram.sv", escape = "none")]
struct RamT<'a> {
    c: &'a Ctx,
    r: &'a RamShape,
}

/// Render the package.
pub(crate) fn render_pkg(c: &Ctx) -> String {
    render(&PkgT { c })
}

/// Render the memory module of shape `r`.
pub(crate) fn render_ram(c: &Ctx, r: &RamShape) -> String {
    render(&RamT { c, r })
}

/// The Verilog sources of the fpga target in dependency order: as
/// [`verilog`], with `fpga/<prefix>_tile_pkg.sv` and the block-RAM crossbar
/// body (`fpga/<prefix>_xbar.sv`, module `<prefix>_xbar`, over
/// `fpga/<prefix>_xbar_ram.sv` banks) in place of the package and the
/// behavioral `<prefix>_xbar.sv`. File names are relative paths. Needs `xbar_latency >= 2`
/// ([`check_target`]).
pub fn fpga_verilog(cfg: &TileConfig, prefix: &str) -> Vec<GenFile> {
    fpga::verilog(cfg, prefix, &verilog(cfg, prefix))
}

/// Check that `cfg` suits `target`: the fpga target needs
/// `xbar_latency >= 2` (its crossbar reads block RAM synchronously).
pub fn check_target(target: Target, cfg: &TileConfig) -> Result<(), String> {
    match target {
        Target::Fpga => fpga::check(cfg),
        Target::Sim | Target::Asic => Ok(()),
    }
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
    /// Verilog sources in dependency order (package first, top last).
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

/// Render the Verilog sources only, in dependency order: the package
/// `<prefix>_tile_pkg.sv` first, the top last.
pub fn verilog(cfg: &TileConfig, prefix: &str) -> Vec<GenFile> {
    let c = Ctx::new(cfg, prefix);
    let f = |block: &str, text: String| GenFile {
        name: format!("{prefix}_{block}.sv"),
        text,
    };
    let mut v = vec![f("tile_pkg", render(&PkgT { c: &c }))];
    for r in ram_shapes(prefix) {
        v.push(f(r.name, render(&RamT { c: &c, r: &r })));
    }
    v.extend([
        f("xbar", render(&XbarT { c: &c })),
        f("gather", render(&GatherT { c: &c })),
        f("adc", render(&AdcT { c: &c })),
        f("splice", render(&SpliceT { c: &c })),
        f("accum", render(&AccumT { c: &c })),
        f("ctrl", render(&CtrlT { c: &c })),
        f("tile", render(&TileT { c: &c })),
    ]);
    v
}

/// The tile's ports for `cfg`: (name, direction, width), from [`iface::PORTS`].
pub fn ports(cfg: &TileConfig) -> Vec<(&'static str, &'static str, u32)> {
    iface::PORTS
        .iter()
        .map(|p| (p.name, p.dir.sv(), p.width.bits(cfg)))
        .collect()
}

/// The manifest entry of one programming region: its offset and data layout
/// with this config's numbers.
fn manifest_region(cfg: &TileConfig, r: &Region) -> serde_json::Value {
    let d = &cfg.derived;
    let p = &cfg.params;
    let (offset, count, data, data_bits) = match r.code {
        iface::region::CELLS => (
            format!("xbar << {} | row", d.row_idx_bits),
            p.xbars * p.rows,
            format!(
                "one crossbar row: cell c at bits [c*{c}, c*{c}+{c})",
                c = p.cell_bits
            ),
            d.row_data_bits,
        ),
        iface::region::OPS => (
            format!("xbar << {} | k", d.op_idx_bits),
            p.xbars * p.ops,
            "op word, see op_layout".to_string(),
            d.op_layout.width,
        ),
        iface::region::COUNTS => (
            "xbar".to_string(),
            p.xbars,
            "number of ops of the crossbar".to_string(),
            d.cnt_bits,
        ),
        iface::region::INPUTS => (
            "word".to_string(),
            d.input_words,
            format!(
                "inputs word*{ipw}+i at bits [i*{a}, i*{a}+{a}) for i < {ipw}",
                ipw = d.inputs_per_word,
                a = p.act_bits
            ),
            d.inputs_per_word * p.act_bits,
        ),
        _ => unreachable!("region {} has no manifest entry", r.name),
    };
    json!({"name": r.name, "region": r.code, "offset": offset, "count": count, "data": data, "data_bits": data_bits})
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
            "xbar_latency": p.xbar_latency,
            "steps": d.steps,
            "latency": d.latency,
            "counted_from": "the rising edge that samples start_i high while idle",
            "counted_to": "the first rising edge after which done_o is high",
        },
        "programming": {
            "handshake": "a write happens on a rising edge with prog_valid_i && prog_ready_o; prog_ready_o is high only while idle",
            "addr_bits": d.prog_addr_bits,
            "data_bits": d.prog_data_bits,
            "region_bits": [d.prog_addr_bits - 1, d.prog_addr_bits - iface::REGION_BITS],
            "offset_bits": d.prog_offset_bits,
            "regions": iface::region::ALL.iter().map(|r| manifest_region(cfg, r)).collect::<Vec<_>>(),
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
            "read_latency": d.out_latency,
            "meaning": "signed two's complement sum of every crossbar's bank for the output out_addr_i named read_latency rising edges earlier (registered read port); valid from the cycle after done_o until the next start",
        },
        "sequence": [
            "reset: rst_ni low for at least one cycle",
            format!(
                "write cells (region {}) and ops (region {}) of every crossbar, then the op counts (region {})",
                iface::region::CELLS,
                iface::region::OPS,
                iface::region::COUNTS
            ),
            format!("write the input vector (region {})", iface::region::INPUTS),
            "pulse start_i for one cycle while busy_o is low",
            "wait for done_o (a one-cycle pulse)",
            "read outputs 0..outputs-1: set out_addr_i, read out_data_o after the next rising edge (registered read port)",
            "for the next vector: write inputs, start again (cells and ops persist)",
        ],
    })
}

/// Yosys synthesis script: read, synthesize, assert no latches and a clean
/// check, print statistics.
pub(crate) fn yosys_script(prefix: &str, sources: &[GenFile]) -> String {
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
pub(crate) const TESTBENCH_CPP: &str = include_str!("../../sim/sme_tb.cpp");

/// The makefile that verilates the tile and builds the standalone testbench
/// `obj_tb/sme_tb` (`obj_tb_trace/sme_tb` with `TRACE=1`, which adds VCD
/// tracing). The config's output count and the width of every multi-bit port
/// (from [`iface::PORTS`]) are passed to the C++ as defines.
pub fn testbench_makefile(cfg: &TileConfig, prefix: &str, sources: &[GenFile]) -> String {
    let mut s = format!(
        "# Generated by sme {GENERATOR_VERSION}: builds the standalone Verilator testbench of\n\
         # {prefix}_tile (needs Verilator 5.x, make and a C++ compiler; no Rust).\n\
         #   make -f sme_tb.mk             # obj_tb/sme_tb\n\
         #   make -f sme_tb.mk TRACE=1     # obj_tb_trace/sme_tb, with +trace=wave.vcd\n\
         #   obj_tb/sme_tb 0000.prog.stim 0000.vec.stim ... > results.txt   (or @stims.txt, or - for stdin)\n\
         # Run make in a directory whose path has no spaces: Verilator's makefiles refuse them.\n\
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
        "\nTB_DEFINES = -DSME_OUTPUTS={}",
        cfg.params.outputs
    ));
    for p in &iface::PORTS {
        if let Some(def) = p.width.c_define() {
            s.push_str(&format!(" -D{def}={}", p.width.bits(cfg)));
        }
    }
    s.push_str(
        "\n\
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
    );
    s
}

/// A flow the generated RTL is meant for (`sme gen --target`): the extra
/// files written beside the RTL for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// Simulation: the standalone Verilator testbench (as `--tb`).
    Sim,
    /// FPGA: the block-RAM crossbar body, the filelist `<top>_fpga.f`,
    /// Yosys scripts for `synth_ice40` and `synth_ecp5` and nextpnr clock
    /// constraints (crossbar banks and op memories become block RAM).
    Fpga,
    /// ASIC: a Yosys script that keeps every memory module a black box, for
    /// an SRAM macro wrapper with the same name and ports.
    Asic,
}

/// The read lines of a Yosys script; memory modules as black boxes when
/// `blackbox_rams` (`read_verilog -lib`).
pub(crate) fn yosys_reads(prefix: &str, sources: &[GenFile], blackbox_rams: bool) -> String {
    let rams: Vec<String> = ram_shapes(prefix)
        .iter()
        .map(|r| format!("{}.sv", r.module))
        .collect();
    let mut s = String::new();
    for f in sources {
        let lib = blackbox_rams && rams.contains(&f.name);
        s.push_str(&format!(
            "read_verilog -sv {}{}\n",
            if lib { "-lib " } else { "" },
            f.name
        ));
    }
    s
}

/// Yosys lines that fail the script on any latch.
pub(crate) const NO_LATCH: &str = "# No latches anywhere in the design.\n\
    select -assert-none t:$dlatch t:$adlatch t:$dlatchsr t:$_DLATCH_*_ t:$_DLATCHSR_*_\n";

/// The extra files of `target` for the generated sources.
pub(crate) fn target_files(
    target: Target,
    cfg: &TileConfig,
    prefix: &str,
    sources: &[GenFile],
) -> Vec<GenFile> {
    match target {
        Target::Sim => testbench(cfg, prefix, sources),
        Target::Fpga => fpga::files(cfg, prefix, sources),
        Target::Asic => asic::files(cfg, prefix, sources),
    }
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
