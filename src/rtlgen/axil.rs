//! The AXI4-Lite slave wrapper `<prefix>_tile_axil` (and its register-map
//! package `<prefix>_tile_axil_pkg`): the register map, defined once here and
//! rendered into the package, the wrapper's comment, the manifest (`axil`)
//! and the C header.

use super::{Ctx, GenFile, bits_for, render};
use crate::config::TileConfig;
use askama::Template;
use serde_json::json;

/// One bit field of a register.
#[derive(Debug, Clone)]
pub struct RegField {
    /// Name.
    pub name: &'static str,
    /// Lowest bit.
    pub lsb: u32,
    /// Bits.
    pub bits: u32,
    /// Meaning.
    pub doc: &'static str,
}

/// One register of the wrapper.
#[derive(Debug, Clone)]
pub struct Reg {
    /// Name (manifest, C define).
    pub name: &'static str,
    /// Localparam of its word index in the package.
    pub sv_name: &'static str,
    /// Byte offset.
    pub offset: u32,
    /// `R`, `W` or `RW`.
    pub access: &'static str,
    /// Meaning.
    pub doc: &'static str,
    /// Copies (OUT_DATA: one per 32 bits of the output).
    pub count: u32,
    /// Fields.
    pub fields: Vec<RegField>,
}

/// The register map of the wrapper for one config.
#[derive(Debug, Clone)]
pub struct Axil {
    /// Address bits (byte addresses).
    pub addr_bits: u32,
    /// 32-bit words of prog_data_i.
    pub prog_words: u32,
    /// 32-bit words of out_data_o.
    pub out_words: u32,
    /// Output port read latency (`Derived::out_latency`).
    pub out_latency: u32,
    /// Width of the read-latency counter.
    pub out_lat_bits: u32,
    /// Byte offset of PROG_DATA word 0 (address bit `addr_bits - 1`).
    pub prog_base: u32,
    /// The control registers, in offset order.
    pub regs: Vec<Reg>,
}

fn f(name: &'static str, lsb: u32, bits: u32, doc: &'static str) -> RegField {
    RegField {
        name,
        lsb,
        bits,
        doc,
    }
}

impl Axil {
    /// The register map for `cfg`.
    pub fn new(cfg: &TileConfig) -> Axil {
        let d = &cfg.derived;
        let prog_words = d.prog_data_bits.div_ceil(32);
        let out_words = d.acc_bits.div_ceil(32);
        let prog_base = (4 * prog_words).next_power_of_two().max(0x40);
        let addr_bits = prog_base.trailing_zeros() + 1;
        let reg = |name, sv_name, offset, access, doc, count, fields| Reg {
            name,
            sv_name,
            offset,
            access,
            doc,
            count,
            fields,
        };
        let regs = vec![
            reg(
                "CTRL",
                "RegCtrl",
                0x00,
                "W",
                "write 1 to bit 0: start one input vector (ignored while busy); clears STATUS.done",
                1,
                vec![f("start", 0, 1, "1 = pulse start_i")],
            ),
            reg(
                "STATUS",
                "RegStatus",
                0x04,
                "R",
                "busy, done (sticky until the next start; also irq_o), programming write pending, output data valid",
                1,
                vec![
                    f("busy", 0, 1, "busy_o"),
                    f("done", 1, 1, "done_o has pulsed since the last CTRL.start"),
                    f(
                        "prog_pending",
                        2,
                        1,
                        "a PROG_CMD write waits for the tile (bus writes stall)",
                    ),
                    f(
                        "out_valid",
                        3,
                        1,
                        "OUT_DATA holds the output OUT_ADDR names",
                    ),
                ],
            ),
            reg(
                "PROG_ADDR",
                "RegProgAddr",
                0x08,
                "RW",
                "prog_addr_i of the next programming write",
                1,
                vec![f("addr", 0, d.prog_addr_bits, "{region, offset}")],
            ),
            reg(
                "PROG_CMD",
                "RegProgCmd",
                0x0c,
                "W",
                "any write: one programming write of PROG_ADDR and PROG_DATA",
                1,
                vec![],
            ),
            reg(
                "OUT_ADDR",
                "RegOutAddr",
                0x10,
                "RW",
                "a write names the output to read and clears STATUS.out_valid",
                1,
                vec![f("addr", 0, d.out_idx_bits, "output index")],
            ),
            reg(
                "OUT_DATA",
                "RegOutData",
                0x20,
                "R",
                "word i: bits [32 i, 32 i + 32) of the output, sign-extended",
                out_words,
                vec![],
            ),
        ];
        Axil {
            addr_bits,
            prog_words,
            out_words,
            out_latency: d.out_latency,
            out_lat_bits: bits_for(d.out_latency as u64),
            prog_base,
            regs,
        }
    }

    /// The manifest's `axil` object.
    pub fn json(&self, prefix: &str) -> serde_json::Value {
        json!({
            "module": format!("{prefix}_tile_axil"),
            "protocol": "AXI4-Lite slave, 32-bit data, byte addresses, all responses OKAY",
            "addr_bits": self.addr_bits,
            "data_bits": 32,
            "out_read_latency": self.out_latency,
            "registers": self.regs.iter().map(|r| json!({
                "name": r.name,
                "offset": r.offset,
                "access": r.access,
                "count": r.count,
                "meaning": r.doc,
                "fields": r.fields.iter().map(|f| json!({"name": f.name, "lsb": f.lsb, "bits": f.bits, "meaning": f.doc})).collect::<Vec<_>>(),
            })).chain(std::iter::once(json!({
                "name": "PROG_DATA",
                "offset": self.prog_base,
                "access": "RW",
                "count": self.prog_words,
                "meaning": "word i: bits [32 i, 32 i + 32) of prog_data_i",
                "fields": [],
            }))).collect::<Vec<_>>(),
            "sequence": [
                "programming write: write the PROG_DATA words the region uses and PROG_ADDR, then any value to PROG_CMD",
                "run: write 1 to CTRL, poll STATUS.done (or wait for irq_o)",
                "output o: write o to OUT_ADDR, poll STATUS.out_valid, read the OUT_DATA words",
            ],
        })
    }

    /// The C header's defines of the register map.
    pub fn c_defines(&self, up: &str) -> String {
        let mut s = String::from(
            "\n/* AXI4-Lite wrapper register map (byte offsets; 32-bit registers). */\n",
        );
        let mut def = |n: String, v: u32| s.push_str(&format!("#define {n:<40} {v}u\n"));
        def(format!("{up}_AXIL_ADDR_BITS"), self.addr_bits);
        for r in &self.regs {
            def(format!("{up}_AXIL_{}", r.name), r.offset);
            if r.count > 1 || r.name == "OUT_DATA" {
                def(format!("{up}_AXIL_{}_WORDS", r.name), r.count);
            }
            for fl in &r.fields {
                let n = format!("{up}_AXIL_{}_{}", r.name, fl.name.to_uppercase());
                def(format!("{n}_LSB"), fl.lsb);
                def(format!("{n}_BITS"), fl.bits);
            }
        }
        def(format!("{up}_AXIL_PROG_DATA"), self.prog_base);
        def(format!("{up}_AXIL_PROG_DATA_WORDS"), self.prog_words);
        s
    }
}

#[derive(Template)]
#[template(path = "axil_pkg.sv", escape = "none")]
struct AxilPkgT<'a> {
    c: &'a Ctx,
    a: &'a Axil,
}

#[derive(Template)]
#[template(path = "axil.sv", escape = "none")]
struct AxilT<'a> {
    c: &'a Ctx,
    a: &'a Axil,
}

/// The wrapper's files: its package, then the module.
pub(crate) fn files(cfg: &TileConfig, prefix: &str) -> Vec<GenFile> {
    let c = Ctx::new(cfg, prefix);
    let a = Axil::new(cfg);
    vec![
        GenFile {
            name: format!("{prefix}_tile_axil_pkg.sv"),
            text: render(&AxilPkgT { c: &c, a: &a }),
        },
        GenFile {
            name: format!("{prefix}_tile_axil.sv"),
            text: render(&AxilT { c: &c, a: &a }),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::Axil;
    use crate::config::{TileConfig, TileParams};
    use crate::golden;
    use crate::program::{input_writes, program_writes};
    use crate::rtlgen::generate;
    use crate::testgen::{InputMode, Rng, input_vector, random_program};
    use num_bigint::BigUint;
    use std::fmt::Write as _;
    use std::process::Command;

    fn small() -> TileConfig {
        TileParams {
            rows: Some(12),
            cols: Some(10),
            cell_bits: Some(2),
            dac_bits: Some(2),
            ou_rows: Some(4),
            ou_cols: Some(3),
            xbars: Some(2),
            inputs: Some(20),
            outputs: Some(12),
            ..TileParams::default()
        }
        .validate()
        .unwrap()
    }

    /// An Icarus testbench drives the wrapper with AXI4-Lite transactions
    /// only: programs a random program, runs two input vectors, reads every
    /// output through OUT_ADDR/STATUS/OUT_DATA; the outputs equal the golden
    /// model's. Also checks STATUS.done/irq_o, PROG_ADDR readback with byte
    /// strobes and that OUT_ADDR beyond `outputs` reads 0.
    #[test]
    fn axil_wrapper_runs_a_program_over_the_bus() {
        let cfg = small();
        let (p, d) = (&cfg.params, &cfg.derived);
        let a = Axil::new(&cfg);
        let mut rng = Rng::new(5);
        let prog = loop {
            let pr = random_program(&cfg, &mut rng);
            if pr.max_ops() > 1 {
                break pr;
            }
        };
        let xs: Vec<Vec<u32>> = (0..2)
            .map(|_| input_vector(&cfg, p.inputs as usize, &mut rng, InputMode::Random))
            .collect();
        let reg = |n: &str| a.regs.iter().find(|r| r.name == n).unwrap().offset;
        let mut tb = String::new();
        let aw = a.addr_bits;
        write!(
            tb,
            "`timescale 1ns/1ps\nmodule tb;\n\
             logic clk = 1'b0, rst_n = 1'b0;\n\
             always #5 clk = ~clk;\n\
             logic [{aw}-1:0] awaddr = '0, araddr = '0;\n\
             logic awvalid = 1'b0, wvalid = 1'b0, arvalid = 1'b0;\n\
             logic [31:0] wdata = '0;\n logic [3:0] wstrb = 4'hf;\n\
             logic awready, wready, bvalid, arready, rvalid, irq;\n\
             logic [1:0] bresp, rresp;\n logic [31:0] rdata, v;\n integer i;\n\
             sme_tile_axil dut (.clk_i(clk), .rst_ni(rst_n),\n\
             .s_axi_awaddr_i(awaddr), .s_axi_awvalid_i(awvalid), .s_axi_awready_o(awready),\n\
             .s_axi_wdata_i(wdata), .s_axi_wstrb_i(wstrb), .s_axi_wvalid_i(wvalid), .s_axi_wready_o(wready),\n\
             .s_axi_bresp_o(bresp), .s_axi_bvalid_o(bvalid), .s_axi_bready_i(1'b1),\n\
             .s_axi_araddr_i(araddr), .s_axi_arvalid_i(arvalid), .s_axi_arready_o(arready),\n\
             .s_axi_rdata_o(rdata), .s_axi_rresp_o(rresp), .s_axi_rvalid_o(rvalid), .s_axi_rready_i(1'b1),\n\
             .irq_o(irq));\n\
             task automatic wr(input logic [{aw}-1:0] ad, input logic [31:0] dt);\n\
             \x20 @(negedge clk); awaddr = ad; wdata = dt; awvalid = 1'b1; wvalid = 1'b1;\n\
             \x20 while (!(awready && wready)) @(negedge clk);\n\
             \x20 @(negedge clk); awvalid = 1'b0; wvalid = 1'b0;\n\
             \x20 while (!bvalid) @(negedge clk);\n\
             \x20 if (bresp != 2'b00) $display(\"error bresp\");\n\
             \x20 @(negedge clk);\n\
             endtask\n\
             task automatic rd(input logic [{aw}-1:0] ad, output logic [31:0] dt);\n\
             \x20 @(negedge clk); araddr = ad; arvalid = 1'b1;\n\
             \x20 while (!arready) @(negedge clk);\n\
             \x20 @(negedge clk); arvalid = 1'b0;\n\
             \x20 while (!rvalid) @(negedge clk);\n\
             \x20 dt = rdata;\n\
             \x20 if (rresp != 2'b00) $display(\"error rresp\");\n\
             \x20 @(negedge clk);\n\
             endtask\n\
             initial begin\n\
             \x20 #22 rst_n = 1'b1;\n"
        )
        .unwrap();
        // PROG_ADDR readback with byte strobes.
        let status = reg("STATUS");
        writeln!(
            tb,
            "  wr({pa}, 32'h00ff_ffff); wstrb = 4'h1; wr({pa}, 32'h0000_0000); wstrb = 4'hf;\n  rd({pa}, v); $display(\"progaddr %0d\", v);",
            pa = reg("PROG_ADDR")
        )
        .unwrap();
        let prog_write = |tb: &mut String, addr: u64, data: &BigUint| {
            let mut w = data.to_u32_digits();
            w.resize(a.prog_words as usize, 0);
            for (i, x) in w.iter().enumerate() {
                writeln!(tb, "  wr({}, 32'd{x});", a.prog_base + 4 * i as u32).unwrap();
            }
            writeln!(tb, "  wr({}, 32'd{addr});", reg("PROG_ADDR")).unwrap();
            writeln!(tb, "  wr({}, 32'd0);", reg("PROG_CMD")).unwrap();
        };
        for w in program_writes(&cfg, &prog) {
            prog_write(&mut tb, w.addr, &w.data);
        }
        for x in &xs {
            for w in input_writes(&cfg, x) {
                prog_write(&mut tb, w.addr, &w.data);
            }
            writeln!(
                tb,
                "  wr({ctrl}, 32'd1);\n  $display(\"irq_after_start %0d\", irq);\n  v = 0; while (!v[1]) rd({status}, v);\n  $display(\"irq_at_done %0d\", irq);\n  rd({status}, v); $display(\"status %0d\", v);",
                ctrl = reg("CTRL")
            )
            .unwrap();
            for o in 0..=p.outputs {
                writeln!(
                    tb,
                    "  wr({oa}, 32'd{o}); v = 0; while (!v[3]) rd({status}, v);\n  for (i = 0; i < {ow}; i = i + 1) begin rd({od} + 4 * i, v); $display(\"out {o} %0d %0d\", i, v); end",
                    oa = reg("OUT_ADDR"),
                    ow = a.out_words,
                    od = reg("OUT_DATA")
                )
                .unwrap();
            }
        }
        tb.push_str("  $display(\"end\");\n  $finish;\nend\nendmodule\n");

        let dir = tempfile::tempdir().unwrap();
        let b = generate(&cfg, "sme");
        let mut files = Vec::new();
        for f in b.sources.iter().chain(b.wrappers.iter()) {
            std::fs::write(dir.path().join(&f.name), &f.text).unwrap();
            files.push(dir.path().join(&f.name));
        }
        std::fs::write(dir.path().join("tb.sv"), &tb).unwrap();
        let o = Command::new("iverilog")
            .args(["-g2012", "-s", "tb", "-o"])
            .arg(dir.path().join("tb.vvp"))
            .args(&files)
            .arg(dir.path().join("tb.sv"))
            .output()
            .expect("iverilog runs");
        assert!(
            o.status.success(),
            "iverilog: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let o = Command::new("vvp")
            .arg("-n")
            .arg(dir.path().join("tb.vvp"))
            .output()
            .expect("vvp runs");
        let out = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(o.status.success() && out.contains("\nend"), "vvp: {out}");
        assert!(!out.contains("error"), "{out}");
        let mask = ((1u64 << d.prog_addr_bits) - 1) as u32;
        assert!(
            out.contains(&format!("progaddr {}\n", 0x00ff_ff00u32 & mask)),
            "PROG_ADDR readback with wstrb 0x1: {out}"
        );
        // Outputs per vector, sign-extended from the OUT_DATA words.
        let mut runs: Vec<Vec<i128>> = Vec::new();
        let mut cur: Vec<BigUint> = Vec::new();
        let mut irq = Vec::new();
        for line in out.lines() {
            let t: Vec<&str> = line.split_whitespace().collect();
            match t.first() {
                Some(&"irq_after_start") | Some(&"irq_at_done") => irq.push(t[1].to_string()),
                Some(&"status") => {
                    let s: u32 = t[1].parse().unwrap();
                    assert_eq!(
                        s & 0b111,
                        0b010,
                        "STATUS after done: not busy, done, nothing pending"
                    );
                }
                Some(&"out") => {
                    let o: usize = t[1].parse().unwrap();
                    let i: usize = t[2].parse().unwrap();
                    let v: u32 = t[3].parse().unwrap();
                    if o == 0 && i == 0 {
                        runs.push(Vec::new());
                        cur.clear();
                    }
                    if cur.len() <= o {
                        cur.push(BigUint::from(0u32));
                    }
                    cur[o] |= BigUint::from(v) << (32 * i);
                    if i as u32 + 1 == a.out_words {
                        let bits = 32 * a.out_words;
                        let raw = &cur[o];
                        let mut val = 0i128;
                        for (k, dg) in raw.to_u32_digits().iter().enumerate() {
                            val |= (*dg as i128) << (32 * k);
                        }
                        let sh = 128 - bits;
                        runs.last_mut().unwrap().push((val << sh) >> sh);
                    }
                }
                _ => {}
            }
        }
        assert_eq!(
            irq,
            vec!["0", "1", "0", "1"],
            "irq_o: cleared by start, set at done"
        );
        assert_eq!(runs.len(), xs.len());
        for (y, x) in runs.iter().zip(&xs) {
            let mut want = golden::execute(&cfg, &prog, x);
            assert!(want.iter().any(|&v| v != 0));
            want.push(0); // out_addr = outputs reads 0
            assert_eq!(y, &want);
        }
    }
}
