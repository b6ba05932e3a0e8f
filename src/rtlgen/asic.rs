//! The `asic` target (`sme gen --target asic`): the crossbar and every memory
//! as black-box hard macros, with
//!
//! - `<prefix>_<module>_stub.sv`: a `(* blackbox *)` module with the ports of
//!   each macro module (`<prefix>_xbar` and every shape of
//!   [`super::ram_shapes`]), copied from the behavioral module's header;
//! - `<top>_asic.f`: the filelist with the stubs in place of the macros'
//!   behavioral bodies (the normal `<top>.f` keeps the bodies for
//!   simulation);
//! - `<module>.lib`: a Liberty view of each macro, its area and read energy
//!   from the cost model preset, its timing estimated from the clock period;
//! - `<top>.sdc`: clock, input/output delays, reset false path;
//! - `<top>_asic.ys`: Yosys synthesis to a standard-cell Liberty file,
//!   writing `<top>_netlist.v` and the area report `<top>_asic_area.txt`;
//! - `<top>_sta.tcl`: OpenSTA on that netlist with the Liberty files and the
//!   SDC, reporting the worst paths, WNS and TNS.
//!
//! Every number in the macro views and the SDC is an estimate derived by the
//! formulas documented on [`AsicOpts`] and in `docs/flows.md`.

use super::{GenFile, NO_LATCH, ram_shapes};
use crate::config::TileConfig;
use std::collections::BTreeMap;

/// Options of the `asic` target (`sme gen --clock-ns --liberty --preset`).
#[derive(Debug, Clone)]
pub struct AsicOpts {
    /// Clock period in ns (`--clock-ns`, [`CLOCK_NS_RANGE`]).
    pub clock_ns: f64,
    /// Standard-cell Liberty file the Yosys and OpenSTA scripts map to and
    /// time with (`--liberty`), written into the scripts as given.
    pub liberty: String,
    /// Buffer cell of that library ABC drives the mapped logic's inputs with
    /// and buffers high-fanout nets with (`--drive-cell`, written into the
    /// ABC constraint file `<top>_abc.constr`).
    pub drive_cell: String,
    /// Area and read energy of the macros (from the cost model:
    /// `cost::asic_macros`).
    pub costs: MacroCosts,
}

/// Area and read energy of the hard macros, from the cost model (computed
/// outside `rtlgen`, which the build script compiles without the cost model).
#[derive(Debug, Clone, PartialEq)]
pub struct MacroCosts {
    /// Where the crossbar figures come from (the preset's name).
    pub xbar_source: String,
    /// Crossbar macro area: cells, row DACs and one ADC per OU column (um^2).
    pub xbar_um2: f64,
    /// Energy of one OU read: cells, DAC drives, conversions (pJ).
    pub xbar_read_pj: f64,
    /// Where the memory figures come from.
    pub ram_source: String,
    /// Memory macro area per bit (um^2).
    pub ram_um2_per_bit: f64,
    /// Memory read energy per bit read (pJ).
    pub ram_read_pj_per_bit: f64,
}

/// Default standard-cell library: qflow's OSU 0.18 um cells as installed by
/// Debian's `qflow-tech-osu018`.
pub const DEFAULT_LIBERTY: &str = "/usr/share/qflow/tech/osu018/osu018_stdcells.lib";

/// Default `--drive-cell`: OSU018's two-drive buffer.
pub const DEFAULT_DRIVE_CELL: &str = "BUFX2";

/// Default clock period (ns).
pub const DEFAULT_CLOCK_NS: f64 = 10.0;

/// Valid `--clock-ns` range (ns).
pub const CLOCK_NS_RANGE: (f64, f64) = (0.1, 10_000.0);

/// Fraction of the period the SDC gives to logic outside the tile on each
/// input and output (set_input_delay / set_output_delay).
pub const IO_DELAY_FRAC: f64 = 0.2;
/// Macro input setup time as a fraction of the period (hold is 0).
pub const SETUP_FRAC: f64 = 0.1;
/// Macro clock-to-output delay (RAM access, or the last register of a
/// crossbar read of more than one cycle) as a fraction of the period.
pub const CLK_Q_FRAC: f64 = 0.3;
/// Combinational crossbar read (`--xbar-latency 1`: inputs to `sum_o`) as
/// a fraction of the period.
pub const XBAR_COMB_FRAC: f64 = 0.5;
/// Macro input pin capacitance (pF): about one flip-flop D input of a
/// 0.18 um library (OSU018 `DFFPOSX1` D: 0.0088 pF).
pub const PIN_CAP_PF: f64 = 0.01;
/// Macro clock pin capacitance (pF): about one OSU018 `DFFPOSX1` CLK (0.028 pF).
pub const CLK_CAP_PF: f64 = 0.03;
/// Macro output transition (ns), an estimate.
pub const OUT_TRANSITION_NS: f64 = 0.1;

/// Check a `--clock-ns` value: finite and in [`CLOCK_NS_RANGE`].
pub fn check_clock_ns(ns: f64) -> Result<(), String> {
    let (lo, hi) = CLOCK_NS_RANGE;
    if ns.is_finite() && (lo..=hi).contains(&ns) {
        Ok(())
    } else {
        Err(format!(
            "invalid clock period {ns} ns: valid is {lo}..={hi} ns"
        ))
    }
}

/// Check a `--liberty` path: non-empty, without whitespace, quotes, `;`,
/// `#`, `[`, `]`, `$`, `{`, `}` or `\` (it is written unquoted into Yosys and
/// Tcl scripts).
pub fn check_liberty(path: &str) -> Result<(), String> {
    let bad = |c: char| c.is_whitespace() || "\"';#[]${}\\".contains(c);
    if !path.is_empty() && !path.chars().any(bad) {
        Ok(())
    } else {
        Err(format!(
            "invalid Liberty path `{path}`: valid is a non-empty path without whitespace or any of \" ' ; # [ ] $ {{ }} \\"
        ))
    }
}

/// Check a `--drive-cell` name: a Liberty cell identifier (letters, digits,
/// `_`, not starting with a digit, at most 64 characters).
pub fn check_drive_cell(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "invalid drive cell `{name}`: valid is a cell name of the --liberty file of 1..=64 letters, digits and `_`, not starting with a digit"
        ))
    }
}

/// A port of a macro module.
#[derive(Debug, Clone, PartialEq, Eq)]
struct MacroPort {
    name: String,
    output: bool,
    width: u64,
}

/// A hard macro: a module whose body the ASIC flow replaces.
#[derive(Debug, Clone)]
struct Macro {
    module: String,
    /// The behavioral file (`<module>.sv`).
    file: String,
    /// The module header (`module ... );`) as rendered.
    header: String,
    ports: Vec<MacroPort>,
}

/// The `localparam int Name = N;` constants of the rendered package.
fn pkg_consts(pkg: &str) -> BTreeMap<String, u64> {
    pkg.lines()
        .filter_map(|l| {
            let l = l.trim().strip_prefix("localparam int ")?;
            let (name, val) = l.split_once('=')?;
            let val = val.trim().strip_suffix(';')?.trim().parse().ok()?;
            Some((name.trim().to_string(), val))
        })
        .collect()
}

/// Parse a rendered module: its header text and ports with numeric widths.
/// Widths are `[E-1:0]` where `E` is a product of integers and names bound
/// by the module's `localparam int X = <pkg>::Y` (or `= N`) lines.
fn parse_macro(module: &str, file: &GenFile, pkg: &BTreeMap<String, u64>) -> Macro {
    let text = &file.text;
    let start = text
        .find(&format!("module {module} "))
        .unwrap_or_else(|| panic!("{} declares module {module}", file.name));
    let end = start
        + text[start..]
            .find("\n);")
            .unwrap_or_else(|| panic!("{} ends its port list with `);`", file.name))
        + 3;
    let header = text[start..end].to_string();
    let mut locals = BTreeMap::new();
    let mut ports = Vec::new();
    let mut in_ports = false;
    for line in header.lines() {
        let l = line.trim();
        if l.starts_with(") (") {
            in_ports = true;
            continue;
        }
        if !in_ports {
            if let Some(rest) = l.strip_prefix("localparam int ") {
                let (name, val) = rest.split_once('=').expect("localparam has a value");
                let val = val.trim().trim_end_matches(',').trim();
                let v = match val.rsplit_once("::") {
                    Some((_, c)) => pkg[c],
                    None => val.parse().expect("localparam value is a number"),
                };
                locals.insert(name.trim().to_string(), v);
            }
            continue;
        }
        let (output, rest) = if let Some(r) = l.strip_prefix("input") {
            (false, r)
        } else if let Some(r) = l.strip_prefix("output") {
            (true, r)
        } else {
            continue;
        };
        let rest = rest
            .trim()
            .strip_prefix("logic")
            .expect("ports are `logic`")
            .trim();
        let (width, name) = match rest.strip_prefix('[') {
            Some(r) => {
                let (range, name) = r.split_once(']').expect("range closes");
                let expr = range
                    .strip_suffix("-1:0")
                    .unwrap_or_else(|| panic!("{module}: range [{range}] is [E-1:0]"));
                let w = expr
                    .split('*')
                    .map(|f| {
                        let f = f.trim();
                        f.parse::<u64>()
                            .ok()
                            .or_else(|| locals.get(f).copied())
                            .unwrap_or_else(|| panic!("{module}: width factor `{f}` is bound"))
                    })
                    .product();
                (w, name)
            }
            None => (1, rest),
        };
        ports.push(MacroPort {
            name: name.trim().trim_end_matches(',').trim().to_string(),
            output,
            width,
        });
    }
    Macro {
        module: module.to_string(),
        file: file.name.clone(),
        header,
        ports,
    }
}

/// The hard macros of the tile: the crossbar, then every memory shape.
fn macros(prefix: &str, sources: &[GenFile]) -> Vec<Macro> {
    let pkg_file = format!("{prefix}_tile_pkg.sv");
    let pkg = pkg_consts(
        &sources
            .iter()
            .find(|f| f.name == pkg_file)
            .expect("the package is generated")
            .text,
    );
    std::iter::once(format!("{prefix}_xbar"))
        .chain(ram_shapes(prefix).into_iter().map(|r| r.module))
        .map(|m| {
            let file = sources
                .iter()
                .find(|f| f.name == format!("{m}.sv"))
                .unwrap_or_else(|| panic!("{m}.sv is generated"));
            parse_macro(&m, file, &pkg)
        })
        .collect()
}

fn stub_name(module: &str) -> String {
    format!("{module}_stub.sv")
}

/// The black-box stub of a macro: its header, no body.
fn stub(m: &Macro, header: &str) -> String {
    format!(
        "{header}\n// Black-box stub of {} for ASIC synthesis (the `asic` filelist): the\n\
         // hard macro `{}` (Liberty view {}.lib) with the ports of\n\
         // the behavioral module in {}, which simulation keeps.\n\
         `default_nettype none\n\n(* blackbox *)\n{}\nendmodule\n\n`default_nettype wire\n",
        m.module, m.module, m.module, m.file, m.header
    )
}

/// A number in a Liberty or SDC file: fixed 4 decimals, deterministic.
fn num(x: f64) -> String {
    format!("{x:.4}")
}

/// How a macro's outputs are timed.
enum OutTiming {
    /// Clock-to-output (`rising_edge` on `clk_i`); every input is
    /// sampled with setup/hold.
    Registered,
    /// Combinational from these inputs with this delay (ns); other inputs
    /// are sampled with setup/hold.
    Comb(Vec<String>, f64),
}

/// The Liberty view of one macro.
fn liberty(
    m: &Macro,
    header: &str,
    notes: &[String],
    area_um2: f64,
    read_pj: f64,
    out: &OutTiming,
    t_ns: f64,
) -> String {
    let mut s = String::new();
    for l in header.lines() {
        s.push_str(&format!("/* {} */\n", l.trim_start_matches("// ")));
    }
    for n in notes {
        s.push_str(&format!("/* {n} */\n"));
    }
    s.push_str(&format!(
        "library ({m}_lib) {{\n  delay_model : table_lookup;\n  time_unit : \"1ns\";\n  voltage_unit : \"1V\";\n  \
         current_unit : \"1uA\";\n  pulling_resistance_unit : \"1kohm\";\n  leakage_power_unit : \"1nW\";\n  \
         capacitive_load_unit (1,pf);\n  nom_process : 1;\n  nom_voltage : 1.8;\n  nom_temperature : 25;\n  \
         slew_upper_threshold_pct_rise : 80;\n  slew_lower_threshold_pct_rise : 20;\n  \
         slew_upper_threshold_pct_fall : 80;\n  slew_lower_threshold_pct_fall : 20;\n  \
         input_threshold_pct_rise : 50;\n  input_threshold_pct_fall : 50;\n  \
         output_threshold_pct_rise : 50;\n  output_threshold_pct_fall : 50;\n",
        m = m.module
    ));
    let mut widths: Vec<u64> = m
        .ports
        .iter()
        .filter(|p| p.width > 1)
        .map(|p| p.width)
        .collect();
    widths.sort_unstable();
    widths.dedup();
    for w in &widths {
        s.push_str(&format!(
            "  type (bus{w}) {{\n    base_type : array;\n    data_type : bit;\n    bit_width : {w};\n    \
             bit_from : {hi};\n    bit_to : 0;\n    downto : true;\n  }}\n",
            hi = w - 1
        ));
    }
    s.push_str(&format!(
        "  cell ({}) {{\n    area : {};\n    dont_touch : true;\n    dont_use : true;\n    \
         interface_timing : true;\n    cell_leakage_power : 0;\n",
        m.module,
        num(area_um2)
    ));
    let comb_from = match out {
        OutTiming::Comb(from, _) => from.clone(),
        OutTiming::Registered => Vec::new(),
    };
    let scalar =
        |kind: &str, v: f64| format!("        {kind} (scalar) {{ values (\"{}\"); }}\n", num(v));
    for p in &m.ports {
        let (open, close) = if p.width > 1 {
            (
                format!(
                    "    bus ({}) {{\n      bus_type : bus{};\n",
                    p.name, p.width
                ),
                "    }\n",
            )
        } else {
            (format!("    pin ({}) {{\n", p.name), "    }\n")
        };
        s.push_str(&open);
        if p.name == "clk_i" {
            s.push_str(&format!(
                "      direction : input;\n      clock : true;\n      capacitance : {};\n      \
                 internal_power () {{\n{}{}      }}\n",
                num(CLK_CAP_PF),
                scalar("rise_power", read_pj),
                scalar("fall_power", 0.0)
            ));
        } else if !p.output {
            s.push_str(&format!(
                "      direction : input;\n      capacitance : {};\n",
                num(PIN_CAP_PF)
            ));
            if !comb_from.contains(&p.name) {
                for (kind, v) in [("setup_rising", SETUP_FRAC * t_ns), ("hold_rising", 0.0)] {
                    s.push_str(&format!(
                        "      timing () {{\n        related_pin : \"clk_i\";\n        timing_type : {kind};\n{}{}      }}\n",
                        scalar("rise_constraint", v),
                        scalar("fall_constraint", v)
                    ));
                }
            }
        } else {
            s.push_str(&format!(
                "      direction : output;\n      max_capacitance : {};\n",
                num(1.0)
            ));
            let (related, kind, delay) = match out {
                OutTiming::Registered => (
                    "clk_i".to_string(),
                    "      timing_type : rising_edge;\n".to_string(),
                    CLK_Q_FRAC * t_ns,
                ),
                // Bus inputs as single bits: OpenSTA drops a bus-to-bus arc
                // between buses of different widths.
                OutTiming::Comb(from, d) => (
                    from.iter()
                        .flat_map(|n| {
                            let w = m.ports.iter().find(|q| &q.name == n).map_or(1, |q| q.width);
                            if w == 1 {
                                vec![n.clone()]
                            } else {
                                (0..w).map(|i| format!("{n}[{i}]")).collect()
                            }
                        })
                        .collect::<Vec<_>>()
                        .join(" "),
                    "      timing_sense : non_unate;\n      timing_type : combinational;\n"
                        .to_string(),
                    *d,
                ),
            };
            s.push_str(&format!(
                "      timing () {{\n        related_pin : \"{related}\";\n  {}{}{}{}{}      }}\n",
                kind.trim_start(),
                scalar("cell_rise", delay),
                scalar("cell_fall", delay),
                scalar("rise_transition", OUT_TRANSITION_NS),
                scalar("fall_transition", OUT_TRANSITION_NS)
            ));
        }
        s.push_str(close);
    }
    s.push_str("  }\n}\n");
    s
}

/// The files of the `asic` target.
pub(crate) fn files(
    cfg: &TileConfig,
    prefix: &str,
    sources: &[GenFile],
    o: &AsicOpts,
) -> Vec<GenFile> {
    let p = &cfg.params;
    let t = o.clock_ns;
    let top = format!("{prefix}_tile");
    let header = super::header(cfg);
    let lib = &o.liberty;
    let ms = macros(prefix, sources);
    let mut out = Vec::new();

    // Stubs and the filelist.
    for m in &ms {
        out.push(GenFile {
            name: stub_name(&m.module),
            text: stub(m, &header),
        });
    }
    let asic_sources: Vec<String> = sources
        .iter()
        .map(|f| match ms.iter().find(|m| m.file == f.name) {
            Some(m) => stub_name(&m.module),
            None => f.name.clone(),
        })
        .collect();
    out.push(GenFile {
        name: format!("{top}_asic.f"),
        text: asic_sources.iter().map(|n| format!("{n}\n")).collect(),
    });

    // Liberty views.
    let k = &o.costs;
    let est = format!(
        "Estimates (sme gen --clock-ns {}): setup {} ns ({} T), hold 0, clock-to-output {} ns ({} T), input pins {} pF, clock pin {} pF, output transition {} ns. Area (um^2) and read energy (pJ, rise_power of clk_i: one read per cycle) come from the cost model, not from the standard-cell library's node.",
        num(t),
        num(SETUP_FRAC * t),
        SETUP_FRAC,
        num(CLK_Q_FRAC * t),
        CLK_Q_FRAC,
        PIN_CAP_PF,
        CLK_CAP_PF,
        OUT_TRANSITION_NS,
    );
    let read_in: Vec<String> = ["rw_i", "cw_i", "code_i"].map(String::from).to_vec();
    for m in &ms {
        let is_xbar = m.module == format!("{prefix}_xbar");
        let (area, pj, timing, what) = if is_xbar {
            let (timing, read) = if p.xbar_latency == 1 {
                (
                    OutTiming::Comb(read_in.clone(), XBAR_COMB_FRAC * t),
                    format!(
                        "combinational read rw_i/cw_i/code_i -> sum_o {} ns ({} T)",
                        num(XBAR_COMB_FRAC * t),
                        XBAR_COMB_FRAC
                    ),
                )
            } else {
                (
                    OutTiming::Registered,
                    format!(
                        "read of xbar_latency {} cycles: inputs sampled at an edge, sum_o {} edges later (clock-to-output)",
                        p.xbar_latency,
                        p.xbar_latency - 1
                    ),
                )
            };
            (
                k.xbar_um2,
                k.xbar_read_pj,
                timing,
                format!(
                    "Hard macro {}: {}x{} cells of {} b, {} row DACs of {} b, {} ADCs of {} b (one per OU column; a lossy ADC saturates inside, sum_o is min(sum, 2^R-1) zero-extended). {}. Area {} um^2 (cells, DACs, ADCs) and read energy {} pJ (one OU read of {}x{} cells, {} DAC drives, {} conversions): cost model preset {}.",
                    m.module,
                    p.rows,
                    p.cols,
                    p.cell_bits,
                    p.rows,
                    p.dac_bits,
                    p.ou_cols,
                    p.adc_bits,
                    read,
                    num(k.xbar_um2),
                    num(k.xbar_read_pj),
                    p.ou_rows,
                    p.ou_cols,
                    p.ou_rows,
                    p.ou_cols,
                    k.xbar_source
                ),
            )
        } else {
            let width = m.ports.iter().find(|q| q.output).map_or(0, |q| q.width);
            let addr = m
                .ports
                .iter()
                .find(|q| q.name == "raddr_i")
                .map_or(0, |q| q.width);
            // Depth: the package constant behind the address range is not
            // in the ports; the shape's depth is.
            let bits = ram_depth(prefix, &m.module, sources) * width;
            (
                bits as f64 * k.ram_um2_per_bit,
                width as f64 * k.ram_read_pj_per_bit,
                OutTiming::Registered,
                format!(
                    "Memory macro {}: {} words x {} b ({} b address), one write port, synchronous read (latency 1). Area {} um^2/bit, read energy {} pJ/bit: {}.",
                    m.module,
                    bits / width.max(1),
                    width,
                    addr,
                    num(k.ram_um2_per_bit),
                    num(k.ram_read_pj_per_bit),
                    k.ram_source
                ),
            )
        };
        out.push(GenFile {
            name: format!("{}.lib", m.module),
            text: liberty(m, &header, &[what, est.clone()], area, pj, &timing, t),
        });
    }

    // SDC.
    let io = IO_DELAY_FRAC * t;
    out.push(GenFile {
        name: format!("{top}.sdc"),
        text: format!(
            "{h}\n# Timing constraints of {top} (sme gen --clock-ns {tn}).\n\
             # Clock clk_i, period {tn} ns.\n\
             create_clock -name clk -period {tn} [get_ports clk_i]\n\
             # Logic outside the tile takes {f} of the period on each side: inputs\n\
             # arrive {io} ns after the edge, outputs are needed {io} ns before it.\n\
             set_input_delay {io} -clock clk [delete_from_list [all_inputs] [get_ports {{clk_i rst_ni}}]]\n\
             set_output_delay {io} -clock clk [all_outputs]\n\
             # rst_ni is an asynchronous reset (flip-flops with asynchronous clear);\n\
             # its release is synchronized outside the tile, so it is not timed here.\n\
             set_false_path -from [get_ports rst_ni]\n",
            h = sdc_comment(&header),
            tn = num(t),
            f = IO_DELAY_FRAC,
            io = num(io),
        ),
    });

    // Yosys.
    let macro_libs: Vec<String> = ms.iter().map(|m| format!("{}.lib", m.module)).collect();
    let mut ys = format!(
        "# Generated by sme: ASIC synthesis of {top} (run `yosys -s {top}_asic.ys` in\n\
         # this directory). Reads {top}_asic.f: the crossbar and the memories are\n\
         # black-box stubs (hard macros, Liberty views {macros}),\n\
         # everything else maps to the standard cells of\n#   {lib}\n\
         # (sme gen --liberty). Writes the netlist {top}_netlist.v and the area\n\
         # report {top}_asic_area.txt (per module, before flattening; the macro\n\
         # areas are the estimates of their .lib files).\n",
        macros = macro_libs.join(", ")
    );
    for f in &asic_sources {
        ys.push_str(&format!("read_verilog -sv {f}\n"));
    }
    ys.push_str(&format!(
        "# The standard cells, then the macro views (they replace the stubs'\n\
         # black boxes: the instances must match the Liberty pins).\n\
         read_liberty -lib {lib}\n{}\
         hierarchy -check -top {top}\nsynth -top {top}\n{NO_LATCH}\
         dfflibmap -liberty {lib}\n\
         # Delay-driven mapping at the clock period (ps). With the constraint\n\
         # file ABC also buffers high-fanout nets, then up- and down-sizes\n\
         # gates (its script: ...; &nf; buffer; upsize; dnsize). Without\n\
         # buffering, a flip-flop or gate driving hundreds of loads (the\n\
         # step register into the gather) alone misses the clock many times.\n\
         abc -D {dps} -constr {top}_abc.constr -liberty {lib}\nopt_clean -purge\n\
         # Undriven (x) bits become constant 0.\nsetundef -zero\n\
         hierarchy -check\ncheck -assert\n\
         # Area per module: standard cells only (the macros' area unknown),\n\
         # then with the macro views' estimated area.\n\
         tee -o {top}_asic_area.txt stat -top {top} -liberty {lib}\n\
         tee -a {top}_asic_area.txt stat -top {top} -liberty {lib}{}\n\
         # One-bit nets: OpenSTA's Verilog reader takes no concatenation on\n\
         # the left of an assign.\nsplitnets\nopt_clean -purge\n\
         write_verilog -noattr -noexpr -nohex -nodec {top}_netlist.v\n",
        macro_libs
            .iter()
            .map(|l| format!("read_liberty -lib {l}\n"))
            .collect::<String>(),
        macro_libs
            .iter()
            .map(|l| format!(" -liberty {l}"))
            .collect::<String>(),
        dps = (t * 1000.0).round() as u64,
    ));
    out.push(GenFile {
        name: format!("{top}_abc.constr"),
        text: format!(
            "set_driving_cell {}\nset_load {}\n",
            o.drive_cell,
            num(PIN_CAP_PF * 1000.0)
        ),
    });
    out.push(GenFile {
        name: format!("{top}_asic.ys"),
        text: ys,
    });

    // OpenSTA.
    let mut sta = format!(
        "# Generated by sme: static timing of {top} with OpenSTA (run `sta -exit\n\
         # {top}_sta.tcl` in this directory after `yosys -s {top}_asic.ys`).\n\
         read_liberty {lib}\n"
    );
    for l in &macro_libs {
        sta.push_str(&format!("read_liberty {l}\n"));
    }
    sta.push_str(&format!(
        "read_verilog {top}_netlist.v\nlink_design {top}\nread_sdc {top}.sdc\n\
         report_checks -path_delay max -digits 3\n\
         report_checks -path_delay min -digits 3\n\
         report_wns -digits 3\nreport_tns -digits 3\n"
    ));
    out.push(GenFile {
        name: format!("{top}_sta.tcl"),
        text: sta,
    });
    out
}

/// The header as `#` comments.
fn sdc_comment(header: &str) -> String {
    header
        .lines()
        .map(|l| format!("# {}", l.trim_start_matches("// ")))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The depth (words) of memory `module`: the package constant its shape
/// names.
fn ram_depth(prefix: &str, module: &str, sources: &[GenFile]) -> u64 {
    let pkg = pkg_consts(
        &sources
            .iter()
            .find(|f| f.name == format!("{prefix}_tile_pkg.sv"))
            .expect("the package is generated")
            .text,
    );
    let shape = ram_shapes(prefix)
        .into_iter()
        .find(|r| r.module == module)
        .expect("a memory macro is a ram shape");
    pkg[shape.depth]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> TileConfig {
        TileConfig::default_config()
    }

    #[test]
    fn macro_ports_match_the_behavioral_modules() {
        let c = cfg();
        let src = super::super::verilog(&c, "sme");
        let ms = macros("sme", &src);
        assert_eq!(ms[0].module, "sme_xbar");
        assert_eq!(ms.len(), 1 + ram_shapes("sme").len());
        let x = &ms[0];
        let w = |n: &str| x.ports.iter().find(|p| p.name == n).unwrap().width;
        let p = &c.params;
        assert_eq!(w("clk_i"), 1);
        assert_eq!(w("wr_data_i"), (p.cols * p.cell_bits) as u64);
        assert_eq!(w("code_i"), (p.ou_rows * p.dac_bits) as u64);
        assert_eq!(w("sum_o"), (p.ou_cols * c.derived.sum_bits) as u64);
        for m in &ms[1..] {
            let rd = m.ports.iter().find(|q| q.name == "rdata_o").unwrap();
            assert!(rd.output && rd.width > 0);
        }
    }

    #[test]
    fn clock_and_liberty_are_checked() {
        assert!(check_clock_ns(10.0).is_ok());
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY, 1e9] {
            assert!(check_clock_ns(bad).unwrap_err().contains("valid is"));
        }
        assert!(check_liberty(DEFAULT_LIBERTY).is_ok());
        for bad in ["", "a b.lib", "x;rm.lib", "[exec].lib"] {
            assert!(check_liberty(bad).is_err(), "{bad}");
        }
        assert!(check_drive_cell(DEFAULT_DRIVE_CELL).is_ok());
        assert!(check_drive_cell("sky130_fd_sc_hd__buf_4").is_ok());
        for bad in ["", "4BUF", "BUF X2", "BUF;X", &"B".repeat(65)] {
            assert!(
                check_drive_cell(bad).unwrap_err().contains("valid is"),
                "{bad}"
            );
        }
    }
}
