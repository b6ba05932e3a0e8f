//! RTL generation: renders the askama templates under `templates/` from one
//! validated [`TileConfig`] - the package `<prefix>_tile_pkg.sv` that holds
//! every constant, then one module per block - plus the filelist, JSON
//! manifest and Yosys script. Ports and region codes come from
//! [`crate::iface`]. All widths are computed here; templates only loop,
//! branch and print fields. Output is a pure function of (config, prefix):
//! byte-identical on every run.

use crate::config::{Derived, OUT_TREE_FAN_IN, Params, TileConfig, bits_for, out_tree_levels};
use crate::iface::{self, Port, Region};
use askama::Template;
use serde_json::json;

mod asic;
mod axil;
mod cheader;
mod fpga;
mod fusesoc;
#[allow(unused_imports)] // build.rs includes this module and does not use it
pub use fusesoc::core_name;

/// Most iterations one generate loop may have: Verilator 5 refuses to
/// unroll a generate loop past `--unroll-count` x 16 = 1024 iterations by
/// default ("Loop unrolling took too long"), so longer loops are emitted as
/// an outer loop over blocks and an inner loop of at most this many.
pub(crate) const GEN_LOOP_MAX: u32 = 1024;

impl Ctx {
    /// The fpga target's context: `fpga` set and, with `tdp`, the crossbar
    /// banks rounded up to even (two per true dual-port memory) and the
    /// widths that depend on the bank count recomputed.
    pub(crate) fn for_fpga(cfg: &TileConfig, prefix: &str, tdp: bool) -> Ctx {
        let mut c = Ctx::new(cfg, prefix);
        c.fpga = true;
        c.xbar_tdp = tdp;
        if tdp {
            c.set_xbar_banks(cfg, fpga::banks(cfg).next_multiple_of(2));
        }
        c
    }

    /// Set the block-RAM crossbar's bank count and the widths derived from
    /// it (bank index arithmetic, adder-tree leaves).
    fn set_xbar_banks(&mut self, cfg: &TileConfig, banks: u32) {
        let (p, d) = (&cfg.params, &cfg.derived);
        self.xbar_banks = banks;
        self.xbar_bank_calc_bits = bits_for(
            (2 * banks - 1)
                .max((d.row_windows - 1) * p.ou_rows + banks - 1)
                .max(p.rows) as u64,
        );
        self.xbar_tree_leaves = banks.next_power_of_two();
    }
}

/// Entry-index bits below the live-bit group of an accumulator entry:
/// max(1, floor(out_idx_bits / 2)), so groups and their words are both
/// about sqrt(outputs) (16 x 16 at 256 outputs: one distributed-RAM word
/// per group on an FPGA).
fn live_sub_bits(out_idx_bits: u32) -> u32 {
    (out_idx_bits / 2).max(1)
}

/// Splits `n` iterations into (blocks, iterations per block), each block at
/// most [`GEN_LOOP_MAX`]; the last block may be partial (guarded in RTL).
fn gen_loop_split(n: u32) -> (u32, u32) {
    let blocks = n.div_ceil(GEN_LOOP_MAX);
    (blocks, n.div_ceil(blocks))
}

#[allow(unused_imports)] // the build script compiles this module without the CLI
pub use asic::{
    AsicOpts, CLOCK_NS_RANGE, DEFAULT_CLOCK_NS, DEFAULT_DRIVE_CELL, DEFAULT_LIBERTY, MacroCosts,
    check_clock_ns, check_drive_cell, check_liberty,
};

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
    /// The generate loop over the gather lanes, split into blocks of at
    /// most [`GEN_LOOP_MAX`] iterations: (blocks, iterations per block).
    pub lane_loop: (u32, u32),
    /// Accumulator live bits, two levels: entries per group as a power of
    /// two (`LiveSubW` = max(1, floor(out_idx_bits / 2)) bits of the entry
    /// index), the number of groups (ceil(outputs / 2^LiveSubW)) and the
    /// group index width.
    pub live_sub_bits: u32,
    /// Entries per live-bit group: 2^`live_sub_bits`.
    pub live_sub: u32,
    /// Live-bit groups (see `live_sub_bits`).
    pub live_groups: u32,
    /// Live-bit group index width (see `live_sub_bits`).
    pub live_grp_bits: u32,
    /// Leaves of the controller's tree over the op counts (xbars rounded up
    /// to a power of two).
    pub cnt_tree_leaves: u32,
    /// Whether an input index can name an entry beyond `inputs` (then the
    /// gather compares it and reads zero).
    pub in_guard: bool,
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
    /// Block-RAM crossbar with two banks per true dual-port memory (the
    /// fpga target's `fpga/tdp/` variant, for ECP5 and Xilinx).
    pub xbar_tdp: bool,
    /// Block-RAM crossbar (fpga target): banks per crossbar,
    /// max(ou_rows, col_windows), rounded up to even when `xbar_tdp`.
    pub xbar_banks: u32,
    /// Words of one two-bank memory (`xbar_tdp`): 2 x 2^row_idx_bits (bank
    /// 2p at {0, row}, bank 2p+1 at {1, row}).
    pub xbar_pair_depth: u32,
    /// Address width of one two-bank memory (`xbar_tdp`).
    pub xbar_pair_addr_bits: u32,
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
    /// Memories summed by the output read port: one per crossbar and OU column.
    pub out_lanes: u32,
    /// Inputs of one adder-tree node of the output read port.
    pub out_fan_in: u32,
    /// The registered levels of the output read port's adder tree, first
    /// to last (the last one is `out_data_o`).
    pub out_tree: Vec<OutLevel>,
    /// Number of tree levels (the last one drives `out_data_o`).
    pub out_levels: usize,
}

/// One registered level of the output read port's adder tree.
#[derive(Debug, Clone)]
pub struct OutLevel {
    /// Level number, from 1 (level 0 is the memories' outputs).
    pub level: usize,
    /// The previous level's number.
    pub prev: usize,
    /// Values into the level (the previous level's nodes).
    pub ins: u32,
    /// Nodes of the level: each sums up to `out_fan_in` inputs.
    pub nodes: u32,
    /// Index of the last node.
    pub last_node: u32,
    /// Inputs of the last node (`out_fan_in` for the others).
    pub last_ins: u32,
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
        let out_lanes = p.xbars * p.ou_cols;
        let mut ins = out_lanes;
        let out_tree: Vec<OutLevel> = out_tree_levels(out_lanes)
            .into_iter()
            .enumerate()
            .map(|(i, nodes)| {
                let l = OutLevel {
                    level: i + 1,
                    prev: i,
                    ins,
                    nodes,
                    last_node: nodes - 1,
                    last_ins: ins - (nodes - 1) * OUT_TREE_FAN_IN,
                };
                ins = nodes;
                l
            })
            .collect();
        let sub_bits = live_sub_bits(d.out_idx_bits);
        let live_groups = p.outputs.div_ceil(1 << sub_bits);
        let mut c = Ctx {
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
            lane_loop: gen_loop_split(p.xbars * p.ou_rows),
            live_sub_bits: sub_bits,
            live_sub: 1 << sub_bits,
            live_groups,
            live_grp_bits: bits_for((live_groups - 1) as u64),
            cnt_tree_leaves: p.xbars.next_power_of_two(),
            in_guard: (p.inputs as u64) < (1u64 << d.in_idx_bits),
            flush_bits: bits_for((d.latency - 1) as u64),
            xbar_delay: p.xbar_latency - 1,
            rd_side_bits: 1 + d.shift_bits + p.ou_cols * d.op_layout.out_entry_bits,
            fpga: false,
            xbar_tdp: false,
            // Set below (set_xbar_banks).
            xbar_banks: 0,
            xbar_pair_depth: 2 << d.row_idx_bits,
            xbar_pair_addr_bits: d.row_idx_bits + 1,
            xbar_bank_bits: p.ou_cols * p.cell_bits,
            xbar_bank_calc_bits: 0,
            xbar_tree_leaves: 0,
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
            out_lanes,
            out_fan_in: OUT_TREE_FAN_IN,
            out_levels: out_tree.len(),
            out_tree,
        };
        c.set_xbar_banks(cfg, fpga::banks(cfg));
        c
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

/// The memories of the tile, one module per shape: the op memories and the
/// output accumulators (one memory per crossbar and OU column, so each has
/// one reader and one writer per cycle). The input buffer (read by every
/// gather lane every cycle) and the crossbar cells (by every OU row) stay
/// registers.
pub(crate) fn ram_shapes(prefix: &str) -> Vec<RamShape> {
    vec![
        RamShape {
            name: "op_ram",
            module: format!("{prefix}_op_ram"),
            doc: "Op memory of one crossbar: Ops op words (the controller holds one per\n\
                  // crossbar). Written only while the tile is idle, read only while it runs.",
            depth: "Ops",
            width: "OpW",
            addr_w: "OpIdxW",
            block: false,
        },
        RamShape {
            name: "acc_ram",
            module: format!("{prefix}_acc_ram"),
            doc: "Output accumulator of one OU column of one crossbar: Outputs partial\n\
                  // sums (the accumulator module holds one per column). Read one stage\n\
                  // before the accumulate stage and written in it; a read of the word\n\
                  // written at the same edge is served by the accumulator's bypass register.",
            depth: "Outputs",
            width: "AccW",
            addr_w: "OutIdxW",
            block: false,
        },
    ]
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
    fpga::verilog(cfg, prefix, &verilog(cfg, prefix), false)
}

/// As [`fpga_verilog`], the variant with two crossbar banks per true
/// dual-port memory (`fpga/tdp/`, for ECP5 and Xilinx block RAM).
pub fn fpga_verilog_tdp(cfg: &TileConfig, prefix: &str) -> Vec<GenFile> {
    fpga::verilog(cfg, prefix, &verilog(cfg, prefix), true)
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
    /// Modules around the tile, each its own top (not in the filelist).
    pub wrappers: Vec<GenFile>,
    /// Filelist, manifest, Yosys script, C header and FuseSoC core file
    /// (the core last).
    pub extras: Vec<GenFile>,
}

impl Bundle {
    /// Every file (sources, wrappers, then extras).
    pub fn files(&self) -> impl Iterator<Item = &GenFile> {
        self.sources
            .iter()
            .chain(self.wrappers.iter())
            .chain(self.extras.iter())
    }

    /// The FuseSoC core file `<top>.core` for this bundle plus the
    /// `target_files` written beside it (the bundle's own core names no
    /// target file).
    pub fn core_file(&self, cfg: &TileConfig, prefix: &str, target_files: &[GenFile]) -> GenFile {
        let names: Vec<String> = self
            .extras
            .iter()
            .chain(target_files.iter())
            .map(|f| f.name.clone())
            .collect();
        // The fpga target's filelist (its package and block-RAM crossbar in
        // place of the behavioral ones), when generated.
        let fpga_list = format!("{}_fpga.f", self.top);
        let fpga: Option<Vec<String>> = target_files
            .iter()
            .find(|f| f.name == fpga_list)
            .map(|f| f.text.lines().map(String::from).collect());
        GenFile {
            name: format!("{}.core", self.top),
            text: fusesoc::core(
                prefix,
                &cfg.tag(),
                &self.sources,
                &self.wrappers,
                &names,
                fpga.as_deref(),
            ),
        }
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

/// One bit field of a programming address offset, a data word or an op
/// word: `count` copies of `bits` bits, copy n at bit `lsb + n * stride`,
/// each holding a value in `0..range`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// Name (manifest key, C define suffix).
    pub name: &'static str,
    /// Lowest bit of copy 0.
    pub lsb: u32,
    /// Bits of one copy.
    pub bits: u32,
    /// Copies (1 for a scalar field).
    pub count: u32,
    /// Bits from one copy to the next (`bits` when packed).
    pub stride: u32,
    /// Valid values: `0..range`.
    pub range: u64,
    /// What a copy holds.
    pub meaning: String,
}

impl Field {
    fn one(name: &'static str, lsb: u32, bits: u32, range: u64, meaning: String) -> Field {
        Field {
            name,
            lsb,
            bits,
            count: 1,
            stride: bits,
            range,
            meaning,
        }
    }

    fn json(&self) -> serde_json::Value {
        json!({"name": self.name, "lsb": self.lsb, "bits": self.bits, "count": self.count,
               "stride": self.stride, "range": self.range, "meaning": self.meaning})
    }
}

/// The layout of one programming region for `cfg`: (writes to fill it,
/// offset fields, data fields).
pub fn region_layout(cfg: &TileConfig, r: &Region) -> (u64, Vec<Field>, Vec<Field>) {
    let d = &cfg.derived;
    let p = &cfg.params;
    let xbar = |lsb| {
        Field::one(
            "xbar",
            lsb,
            d.xbar_idx_bits,
            p.xbars as u64,
            "crossbar".into(),
        )
    };
    match r.code {
        iface::region::CELLS => (
            (p.xbars * p.rows) as u64,
            vec![
                Field::one(
                    "row",
                    0,
                    d.row_idx_bits,
                    p.rows as u64,
                    "crossbar row".into(),
                ),
                xbar(d.row_idx_bits),
            ],
            vec![Field {
                name: "cell",
                lsb: 0,
                bits: p.cell_bits,
                count: p.cols,
                stride: p.cell_bits,
                range: 1 << p.cell_bits,
                meaning: "cell n of the row is column n".into(),
            }],
        ),
        iface::region::OPS => (
            (p.xbars * p.ops) as u64,
            vec![
                Field::one(
                    "k",
                    0,
                    d.op_idx_bits,
                    p.ops as u64,
                    "op index in the crossbar's list".into(),
                ),
                xbar(d.op_idx_bits),
            ],
            vec![Field::one(
                "op",
                0,
                d.op_layout.width,
                0,
                "op word, fields in programming.op_layout (range 0: any value of the layout)"
                    .into(),
            )],
        ),
        iface::region::COUNTS => (
            p.xbars as u64,
            vec![xbar(0)],
            vec![Field::one(
                "count",
                0,
                d.cnt_bits,
                p.ops as u64 + 1,
                "ops of the crossbar's list run per step (ops 0..count-1)".into(),
            )],
        ),
        iface::region::INPUTS => (
            d.input_words as u64,
            vec![Field::one(
                "word",
                0,
                d.in_word_bits,
                d.input_words as u64,
                "input word".into(),
            )],
            vec![Field {
                name: "input",
                lsb: 0,
                bits: p.act_bits,
                count: d.inputs_per_word,
                stride: p.act_bits,
                range: 1 << p.act_bits,
                meaning: "copy n of word w is input w*inputs_per_word + n (unsigned activation; copies past the last input are ignored)"
                    .into(),
            }],
        ),
        _ => unreachable!("region {} has no layout", r.name),
    }
}

/// The fields of one op word for `cfg` (LSB first). The input and output
/// entries have sub-fields [`entry_fields`].
pub fn op_fields(cfg: &TileConfig) -> Vec<Field> {
    let d = &cfg.derived;
    let p = &cfg.params;
    let l = &d.op_layout;
    vec![
        Field::one("sign", l.sign, 1, 2, "1 = subtract the op's values".into()),
        Field::one(
            "shift",
            l.shift,
            d.shift_bits,
            d.max_slice_shift as u64 + 1,
            "weight-slice shift: at step t each ADC code is multiplied by 2^(shift + t*dac_bits); the compiler writes p*cell_bits for magnitude slice p".into(),
        ),
        Field::one(
            "row_window",
            l.rw,
            d.rw_bits,
            d.row_windows as u64,
            "row window: input entry i drives crossbar row row_window*ou_rows + i".into(),
        ),
        Field::one(
            "col_window",
            l.cw,
            d.cw_bits,
            d.col_windows as u64,
            "column window: output entry j reads crossbar column col_window*ou_cols + j".into(),
        ),
        Field {
            name: "inputs",
            lsb: l.inputs,
            bits: l.in_entry_bits,
            count: p.ou_rows,
            stride: l.in_entry_bits,
            range: 0,
            meaning: "input entry i (valid, index): drives row row_window*ou_rows + i".into(),
        },
        Field {
            name: "outputs",
            lsb: l.outputs,
            bits: l.out_entry_bits,
            count: p.ou_cols,
            stride: l.out_entry_bits,
            range: 0,
            meaning: "output entry j (valid, index): reads column col_window*ou_cols + j".into(),
        },
    ]
}

/// The sub-fields of an input (`outputs == false`) or output entry, relative
/// to the entry's lowest bit.
pub fn entry_fields(cfg: &TileConfig, outputs: bool) -> Vec<Field> {
    let d = &cfg.derived;
    let p = &cfg.params;
    let (bits, range, what) = if outputs {
        (d.out_idx_bits, p.outputs, "output accumulator")
    } else {
        (d.in_idx_bits, p.inputs, "input-buffer entry")
    };
    vec![
        Field::one("valid", 0, 1, 2, "1 = the entry is used".into()),
        Field::one("index", 1, bits, range as u64, what.into()),
    ]
}

/// The manifest entry of one programming region: code, writes, and the
/// offset and data fields with this config's numbers.
fn manifest_region(cfg: &TileConfig, r: &Region) -> serde_json::Value {
    let (count, offset, data) = region_layout(cfg, r);
    let data_bits = data
        .iter()
        .map(|f| f.lsb + f.count * f.stride)
        .max()
        .unwrap_or(0);
    json!({
        "name": r.name,
        "region": r.code,
        "count": count,
        "offset_fields": offset.iter().map(Field::json).collect::<Vec<_>>(),
        "data_fields": data.iter().map(Field::json).collect::<Vec<_>>(),
        "data_bits": data_bits,
    })
}

/// The manifest's `op_layout`: every field of an op word with bit offsets,
/// widths and valid ranges.
fn manifest_op_layout(cfg: &TileConfig) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    for f in op_fields(cfg) {
        let mut v = f.json();
        if f.name == "inputs" || f.name == "outputs" {
            v["entry_fields"] = entry_fields(cfg, f.name == "outputs")
                .iter()
                .map(Field::json)
                .collect();
        }
        m.insert(f.name.to_string(), v);
    }
    m.insert("width".into(), json!(cfg.derived.op_layout.width));
    serde_json::Value::Object(m)
}

/// The JSON manifest: top, config, derived widths, ports, memory map, op
/// layout, timing and every stated interface behaviour
/// ([`iface::BEHAVIOURS`]).
pub fn manifest(cfg: &TileConfig, prefix: &str, sources: &[GenFile]) -> serde_json::Value {
    let d = &cfg.derived;
    let p = &cfg.params;
    let top = format!("{prefix}_tile");
    let behaviour: serde_json::Map<String, serde_json::Value> = iface::BEHAVIOURS
        .iter()
        .map(|b| {
            (
                b.key.to_string(),
                json!({"result": b.result, "detail": b.detail, "tested_by": b.tested_by}),
            )
        })
        .collect();
    json!({
        "generator": format!("sme {GENERATOR_VERSION}"),
        "top": top,
        "files": sources.iter().map(|f| f.name.clone()).collect::<Vec<_>>(),
        "driver_files": {
            "c_header": format!("{top}.h"),
            "sv_package": format!("{top}_pkg.sv"),
        },
        "wrappers": [format!("{top}_axil_pkg.sv"), format!("{top}_axil.sv")],
        "axil": axil::Axil::new(cfg).json(prefix),
        "config": cfg.params,
        "derived": cfg.derived,
        "ports": ports(cfg).iter().map(|(n, dir, w)| json!({"name": n, "dir": dir, "width": w})).collect::<Vec<_>>(),
        "cycles": {
            "formula": "steps * max_ops + latency",
            "terms": {
                "steps": d.steps,
                "max_ops": "the largest op count written to region counts (0 if none)",
                "latency": d.latency,
            },
            "xbar_latency": p.xbar_latency,
            "steps": d.steps,
            "latency": d.latency,
            "counted_from": "the rising edge that samples start_i high while idle",
            "counted_to": "the first rising edge after which done_o is high",
        },
        "handshake": {
            "start_accepted": "the rising edge that samples start_i high while busy_o is low",
            "busy_from": "the edge that accepts start_i",
            "busy_in_done_cycle": false,
            "done_pulse_cycles": 1,
            "start_while_busy": "ignored",
            "start_in_done_cycle": "accepted",
            "prog_ready_while_busy": false,
        },
        "programming": {
            "handshake": "a write happens on a rising edge with prog_valid_i && prog_ready_o; prog_ready_o is high only while idle",
            "addr_bits": d.prog_addr_bits,
            "data_bits": d.prog_data_bits,
            "address": {
                "region": {"lsb": d.prog_offset_bits, "bits": iface::REGION_BITS},
                "offset": {"lsb": 0, "bits": d.prog_offset_bits},
            },
            "offset_bits": d.prog_offset_bits,
            "regions": iface::region::ALL.iter().map(|r| manifest_region(cfg, r)).collect::<Vec<_>>(),
            "op_layout": manifest_op_layout(cfg),
        },
        "output_port": {
            "addr_bits": d.out_idx_bits,
            "data_bits": d.acc_bits,
            "signed": true,
            "read_latency": d.out_latency,
            "meaning": "two's complement sum of every accumulator memory's entry for the output out_addr_i named read_latency rising edges earlier (pipelined read port: one address per cycle); valid from the cycle after done_o until the next start",
        },
        "behaviour": behaviour,
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
            format!(
                "read outputs 0..outputs-1: set out_addr_i (one address per cycle), read out_data_o after the {}-th rising edge from the one that sampled the address (output_port.read_latency)",
                d.out_latency
            ),
            "for the next vector: write inputs, start again (cells, ops and counts persist)",
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
        "\nTB_DEFINES = -DSME_OUTPUTS={} -DSME_OUT_LATENCY={}",
        cfg.params.outputs, cfg.derived.out_latency
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
    /// FPGA: the block-RAM crossbar body, the filelist `<top>_fpga.f` (and
    /// the two-banks-per-memory variant `fpga/tdp/`, `<top>_fpga_tdp.f`),
    /// Yosys scripts for `synth_ice40`, `synth_ecp5` and `synth_xilinx`
    /// and nextpnr clock constraints (crossbar banks and op memories become
    /// block RAM).
    Fpga,
    /// ASIC: the crossbar and the memories as black-box hard macros (stubs,
    /// Liberty views), an SDC, a Yosys script to a standard-cell library and
    /// an OpenSTA script (see `asic.rs`).
    Asic,
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
    asic: &AsicOpts,
) -> Vec<GenFile> {
    match target {
        Target::Sim => testbench(cfg, prefix, sources),
        Target::Fpga => fpga::files(cfg, prefix, sources),
        Target::Asic => asic::files(cfg, prefix, sources, asic),
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

/// Render everything for `cfg`: sources, `<top>.f`, `<top>.json`, `<top>.ys`,
/// the C header `<top>.h` and the FuseSoC core `<top>.core`.
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
        GenFile {
            name: format!("{top}.h"),
            text: cheader::header(cfg, prefix),
        },
    ];
    let mut b = Bundle {
        top,
        sources,
        wrappers: axil::files(cfg, prefix),
        extras,
    };
    let core = b.core_file(cfg, prefix, &[]);
    b.extras.push(core);
    b
}
