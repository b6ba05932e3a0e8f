//! The `fpga` target (`sme gen --target fpga`): under `fpga/`, the
//! block-RAM crossbar body (`fpga/<prefix>_xbar.sv`, module `<prefix>_xbar`
//! with the behavioral crossbar's ports, over banked `<prefix>_xbar_ram`
//! memories) and the package with its constants; the FPGA filelist
//! `<top>_fpga.f` (the sim sources with those three swapped in), Yosys
//! scripts for `synth_ice40` and `synth_ecp5` (writing the netlist JSON
//! nextpnr reads) and `synth_xilinx -family xc7 -flatten` (writing EDIF), and
//! pin-free clock constraints for nextpnr (`<top>_ice40_clk.py` for `--pre-pack`, `<top>_ecp5.sdc` for
//! `--sdc`).

use super::{Ctx, GenFile, NO_LATCH, RamShape, render};
use crate::config::TileConfig;
use askama::Template;

/// Smallest `xbar_latency` the block-RAM crossbar supports: one edge for the
/// synchronous bank read, the X-stage register for the ADC.
pub(crate) const MIN_XBAR_LATENCY: u32 = 2;

/// Clock constraint on `clk_i` for nextpnr-ice40, in MHz (steers
/// timing-driven placement; nextpnr reports the reached Fmax either way).
pub(crate) const ICE40_MHZ: u32 = 25;

/// Clock constraint on `clk_i` for nextpnr-ecp5, in MHz.
pub(crate) const ECP5_MHZ: u32 = 50;

/// Banks of the block-RAM crossbar: max(ou_rows, col_windows), so that a
/// window read (ou_rows rows) and a row write (col_windows words) each touch
/// a bank at most once.
pub(crate) fn banks(cfg: &TileConfig) -> u32 {
    cfg.params.ou_rows.max(cfg.derived.col_windows)
}

/// Check that `cfg` can use the block-RAM crossbar.
pub(crate) fn check(cfg: &TileConfig) -> Result<(), String> {
    let l = cfg.params.xbar_latency;
    if l < MIN_XBAR_LATENCY {
        return Err(format!(
            "--target fpga needs --xbar-latency {MIN_XBAR_LATENCY}..={} (the block-RAM crossbar reads \
             its banks synchronously: one cycle for the read, one for the ADC register); got {l}",
            crate::config::limits::MAX_XBAR_LATENCY
        ));
    }
    Ok(())
}

#[derive(Template)]
#[template(path = "xbar_fpga.sv", escape = "none")]
struct XbarFpgaT<'a> {
    c: &'a Ctx,
}

#[derive(Template)]
#[template(path = "ram_tdp.sv", escape = "none")]
struct RamTdpT<'a> {
    c: &'a Ctx,
}

/// The memory shape of one crossbar bank.
fn bank_shape(prefix: &str) -> RamShape {
    RamShape {
        name: "xbar_ram",
        module: format!("{prefix}_xbar_ram"),
        doc: "One bank of the block-RAM crossbar (fpga target): Rows words of one column window (OuCols x CellW bits).",
        depth: "Rows",
        width: "XbarBankW",
        addr_w: "RowIdxW",
        // 1-kbit banks would become LUT RAM on ECP5; the cells belong in
        // block RAM (the LUTs are needed for the accumulators).
        block: true,
    }
}

/// Subdirectory of the fpga target's own sources (file names match module
/// names, as in the sim target's directory).
pub(crate) const DIR: &str = "fpga";

/// Subdirectory of the two-banks-per-memory variant (true dual-port block
/// RAM: ECP5, Xilinx; iCE40 has none, so `fpga/` keeps one bank per memory).
pub(crate) const TDP_DIR: &str = "fpga/tdp";

/// The sources the fpga target has of its own, under [`DIR`] (or
/// [`TDP_DIR`] with `tdp`): the package (with the block-RAM crossbar's
/// constants), the bank memory and the block-RAM crossbar body (module
/// `<prefix>_xbar`).
fn own_sources(cfg: &TileConfig, prefix: &str, tdp: bool) -> (GenFile, Vec<GenFile>) {
    let c = Ctx::for_fpga(cfg, prefix, tdp);
    let dir = if tdp { TDP_DIR } else { DIR };
    let pkg = GenFile {
        name: format!("{dir}/{prefix}_tile_pkg.sv"),
        text: super::render_pkg(&c),
    };
    let ram = if tdp {
        GenFile {
            name: format!("{dir}/{prefix}_xbar_ram2.sv"),
            text: render(&RamTdpT { c: &c }),
        }
    } else {
        let bank = bank_shape(prefix);
        GenFile {
            name: format!("{dir}/{}.sv", bank.module),
            text: super::render_ram(&c, &bank),
        }
    };
    let xbar = vec![
        ram,
        GenFile {
            name: format!("{dir}/{prefix}_xbar.sv"),
            text: render(&XbarFpgaT { c: &c }),
        },
    ];
    (pkg, xbar)
}

/// The FPGA source list in dependency order: `sources` (the sim target's)
/// with the package and `<prefix>_xbar.sv` replaced by the fpga target's own
/// (`fpga/<prefix>_tile_pkg.sv`, `fpga/<prefix>_xbar_ram.sv`,
/// `fpga/<prefix>_xbar.sv`; with `tdp` the `fpga/tdp/` variant with
/// `<prefix>_xbar_ram2.sv`). Needs `xbar_latency >= 2` ([`check`]).
pub(crate) fn verilog(
    cfg: &TileConfig,
    prefix: &str,
    sources: &[GenFile],
    tdp: bool,
) -> Vec<GenFile> {
    let (pkg, xbar) = own_sources(cfg, prefix, tdp);
    let mut v = Vec::new();
    for f in sources {
        if f.name == format!("{prefix}_tile_pkg.sv") {
            v.push(pkg.clone());
        } else if f.name == format!("{prefix}_xbar.sv") {
            v.extend(xbar.iter().cloned());
        } else {
            v.push(f.clone());
        }
    }
    v
}

/// The files of the `fpga` target (`cfg` passed [`check`]).
pub(crate) fn files(cfg: &TileConfig, prefix: &str, sources: &[GenFile]) -> Vec<GenFile> {
    let top = format!("{prefix}_tile");
    let mut out = Vec::new();
    // One bank per memory (fpga/, <top>_fpga.f) and two per true dual-port
    // memory (fpga/tdp/, <top>_fpga_tdp.f).
    let mut reads = Vec::new();
    for (tdp, list) in [
        (false, format!("{top}_fpga.f")),
        (true, format!("{top}_fpga_tdp.f")),
    ] {
        let fpga = verilog(cfg, prefix, sources, tdp);
        let (pkg, xbar) = own_sources(cfg, prefix, tdp);
        out.push(pkg);
        out.extend(xbar);
        out.push(GenFile {
            name: list,
            text: fpga.iter().map(|f| format!("{}\n", f.name)).collect(),
        });
        reads.push(
            fpga.iter()
                .map(|f| format!("read_verilog -sv {}\n", f.name))
                .collect::<String>(),
        );
    }
    // (family, synth command, netlist written, what reads it, whether it
    // reads the fpga/tdp variant: iCE40 has no true dual-port RAM)
    let fams = [
        (
            "ice40",
            "synth_ice40",
            "write_json",
            "json",
            "nextpnr-ice40",
            false,
        ),
        // -nowidelut: Yosys 0.23's wide-mux mapping (PFUMX, L6MUX21) doubles
        // the LUT4 of this design's muxes (one accumulator module at the
        // default config: 3400 LUT4 + 1186 PFUMX, 1431 LUT4 without).
        (
            "ecp5",
            "synth_ecp5 -nowidelut",
            "write_json",
            "json",
            "nextpnr-ecp5",
            true,
        ),
        (
            "xilinx",
            "synth_xilinx -family xc7 -flatten",
            "write_edif -pvector bra",
            "edif",
            "a Xilinx 7-series place and route (Vivado)",
            true,
        ),
    ];
    for (fam, synth, write, ext, by, tdp) in fams {
        let (list, banks) = if tdp {
            (
                format!("{top}_fpga_tdp.f"),
                format!("pairs of banks, {prefix}_xbar_ram2"),
            )
        } else {
            (format!("{top}_fpga.f"), format!("{prefix}_xbar_ram banks"))
        };
        let reads = &reads[usize::from(tdp)];
        out.push(GenFile {
            name: format!("{top}_{fam}.ys"),
            text: format!(
                "# Generated by sme: FPGA synthesis for {fam} (yosys -s <this file>), the\n\
                 # sources of {list} (crossbar cells in {banks}).\n\
                 # Every memory maps to RAM primitives: the crossbar banks to block RAM,\n\
                 # the op and accumulator memories to block or LUT RAM by size; the\n\
                 # log must not say \"Replacing memory ... with list of registers\" or\n\
                 # \"using FF mapping for memory\". Writes {top}_{fam}.{ext} for\n\
                 # {by}.\n\
                 {reads}{synth} -top {top}\n{NO_LATCH}stat\n{write} {top}_{fam}.{ext}\n"
            ),
        });
    }
    out.push(GenFile {
        name: format!("{top}_ice40_clk.py"),
        text: format!(
            "# Generated by sme: pin-free clock constraint for nextpnr-ice40\n\
             # (nextpnr-ice40 --pre-pack {top}_ice40_clk.py ...): clk_i at {ICE40_MHZ} MHz.\n\
             ctx.addClock(\"clk_i\", {ICE40_MHZ})\n"
        ),
    });
    out.push(GenFile {
        name: format!("{top}_ecp5.sdc"),
        text: format!(
            "# Generated by sme: pin-free clock constraint for nextpnr-ecp5\n\
             # (nextpnr-ecp5 --sdc {top}_ecp5.sdc ...): clk_i at {ECP5_MHZ} MHz.\n\
             create_clock -period {:.3} [get_ports clk_i]\n",
            1000.0 / ECP5_MHZ as f64
        ),
    });
    out
}
