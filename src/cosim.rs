//! In-process co-simulation (feature `cosim`): a safe wrapper over the
//! Verilated tile models that build.rs links in (one per config of
//! [`crate::cosim_matrix`], each with its own Verilator prefix).
//!
//! A [`Tile`] drives the RTL only through its ports, exactly as a host would:
//! programming writes with valid/ready, start, done, output reads. Random
//! idle cycles can be inserted between port transactions.

use crate::config::TileConfig;
use crate::iface::{Dir, Port, port};
use crate::program::{TileProgram, Write, input_writes, program_writes};
use num_bigint::BigUint;
use std::ffi::c_void;
use std::marker::PhantomData;

/// Function table of one linked model.
pub struct ModelFns {
    /// Matrix name.
    pub name: &'static str,
    /// Create a model.
    pub new: unsafe extern "C" fn() -> *mut c_void,
    /// Destroy a model.
    pub free: unsafe extern "C" fn(*mut c_void),
    /// Set an input port from u32 words.
    pub poke: unsafe extern "C" fn(*mut c_void, u32, *const u32) -> i32,
    /// Read an output port into u32 words.
    pub peek: unsafe extern "C" fn(*mut c_void, u32, *mut u32) -> i32,
    /// Evaluate combinational logic.
    pub eval: unsafe extern "C" fn(*mut c_void),
    /// One clock cycle.
    pub tick: unsafe extern "C" fn(*mut c_void),
}

mod ffi {
    use super::ModelFns;
    include!(concat!(env!("OUT_DIR"), "/cosim_models.rs"));
}

pub use ffi::MODELS;

/// Idle-cycle insertion on the ports, drawn from the crate's one seedable
/// generator ([`crate::testgen::Rng`]).
pub struct IdleGen {
    rng: crate::testgen::Rng,
    /// Probability (in 1/256) of inserting idle cycles before a transaction.
    pub rate: u32,
    /// Maximum idle cycles inserted at once.
    pub max: u32,
}

impl IdleGen {
    /// No idle cycles.
    pub fn none() -> IdleGen {
        IdleGen::new(1, 0, 0)
    }

    /// Random idle cycles from `seed`.
    pub fn new(seed: u64, rate: u32, max: u32) -> IdleGen {
        IdleGen {
            rng: crate::testgen::Rng::new(seed),
            rate,
            max,
        }
    }

    fn cycles(&mut self) -> u32 {
        if self.rate == 0 || self.max == 0 {
            return 0;
        }
        let r = self.rng.next_u64();
        if (r & 0xff) as u32 >= self.rate {
            0
        } else {
            1 + ((r >> 8) % self.max as u64) as u32
        }
    }
}

/// A live Verilated tile. Not `Send`: a model is created and evaluated on one
/// thread.
pub struct Tile {
    fns: &'static ModelFns,
    h: *mut c_void,
    cfg: TileConfig,
    /// Idle-cycle insertion between port transactions.
    pub idle: IdleGen,
    /// Total cycles simulated.
    pub cycles: u64,
    _not_send: PhantomData<*const ()>,
}

impl Drop for Tile {
    fn drop(&mut self) {
        // SAFETY: h came from fns.new and is freed once.
        unsafe { (self.fns.free)(self.h) }
    }
}

/// The config of matrix entry `name`.
pub fn matrix_config(name: &str) -> Option<TileConfig> {
    crate::cosim_matrix::matrix()
        .into_iter()
        .find(|(n, _)| *n == name)
        .map(|(_, p)| p.validate().expect("matrix configs are valid"))
}

fn words(v: &BigUint, bits: u32) -> Vec<u32> {
    let n = bits.div_ceil(32).max(1) as usize;
    let mut w = v.to_u32_digits();
    assert!(
        v.bits() <= bits as u64,
        "value wider than the port ({bits} bits)"
    );
    w.resize(n, 0);
    w
}

impl Tile {
    /// Instantiate the model of matrix entry `name` and reset it.
    pub fn new(name: &str) -> Option<Tile> {
        let fns = MODELS.iter().find(|m| m.name == name)?;
        let cfg = matrix_config(name)?;
        // SAFETY: the function returns a fresh model handle.
        let h = unsafe { (fns.new)() };
        let mut t = Tile {
            fns,
            h,
            cfg,
            idle: IdleGen::none(),
            cycles: 0,
            _not_send: PhantomData,
        };
        t.reset();
        Some(t)
    }

    /// The model's config.
    pub fn config(&self) -> &TileConfig {
        &self.cfg
    }

    /// Set input `port` (numbered and sized by the port table of
    /// [`crate::iface`], which the shim's `sme_ports.h` is generated from).
    fn poke(&mut self, port: Port, v: &BigUint) {
        debug_assert_eq!(port.dir, Dir::In, "{}", port.name);
        let w = words(v, port.width.bits(&self.cfg));
        // SAFETY: w holds at least as many words as the port needs.
        let rc = unsafe { (self.fns.poke)(self.h, port.number(), w.as_ptr()) };
        assert_eq!(rc, 0, "shim rejected port {}", port.name);
    }

    fn poke_bit(&mut self, port: Port, b: bool) {
        self.poke(port, &BigUint::from(b as u32));
    }

    /// Read output `port`.
    fn peek(&mut self, port: Port) -> BigUint {
        debug_assert_eq!(port.dir, Dir::Out, "{}", port.name);
        let bits = port.width.bits(&self.cfg);
        let mut w = vec![0u32; bits.div_ceil(32).max(1) as usize];
        // SAFETY: w is large enough for the port.
        let rc = unsafe { (self.fns.peek)(self.h, port.number(), w.as_mut_ptr()) };
        assert_eq!(rc, 0, "shim rejected port {}", port.name);
        BigUint::from_slice(&w)
    }

    fn peek_bit(&mut self, port: Port) -> bool {
        self.peek(port) != BigUint::from(0u32)
    }

    fn eval(&mut self) {
        // SAFETY: valid handle.
        unsafe { (self.fns.eval)(self.h) }
    }

    /// One clock cycle.
    pub fn tick(&mut self) {
        // SAFETY: valid handle.
        unsafe { (self.fns.tick)(self.h) }
        self.cycles += 1;
    }

    fn idle_cycles(&mut self) {
        for _ in 0..self.idle.cycles() {
            self.tick();
        }
    }

    /// Apply reset for two cycles.
    pub(crate) fn reset(&mut self) {
        let zero = BigUint::from(0u32);
        self.poke_bit(port::CLK, false);
        self.poke_bit(port::PROG_VALID, false);
        self.poke_bit(port::START, false);
        self.poke(port::PROG_ADDR, &zero);
        self.poke(port::PROG_DATA, &zero);
        self.poke(port::OUT_ADDR, &zero);
        self.poke_bit(port::RST_N, false);
        self.eval();
        self.tick();
        self.tick();
        self.poke_bit(port::RST_N, true);
        self.eval();
        self.tick();
    }

    /// One programming write (waits for ready; random idle cycles before).
    pub fn write(&mut self, w: &Write) {
        self.idle_cycles();
        self.poke(port::PROG_ADDR, &BigUint::from(w.addr));
        self.poke(port::PROG_DATA, &w.data);
        self.poke_bit(port::PROG_VALID, true);
        self.eval();
        let mut guard = 0;
        while !self.peek_bit(port::PROG_READY) {
            self.tick();
            guard += 1;
            assert!(guard < 1_000_000, "prog_ready_o never rose");
        }
        self.tick();
        self.poke_bit(port::PROG_VALID, false);
        self.eval();
    }

    /// Load a program through the programming port.
    pub fn load_program(&mut self, prog: &TileProgram) {
        for w in program_writes(&self.cfg, prog) {
            self.write(&w);
        }
    }

    /// Load an input vector through the programming port.
    pub fn load_inputs(&mut self, x: &[u32]) {
        for w in input_writes(&self.cfg, x) {
            self.write(&w);
        }
    }

    /// Pulse start and wait for done. Returns the cycles from the edge that
    /// accepted start to the edge after which done_o was high.
    pub fn run(&mut self) -> u64 {
        self.idle_cycles();
        assert!(!self.peek_bit(port::BUSY), "start while busy");
        self.poke_bit(port::START, true);
        self.eval();
        self.tick();
        self.poke_bit(port::START, false);
        self.eval();
        let mut n = 0u64;
        loop {
            self.tick();
            n += 1;
            if self.peek_bit(port::DONE) {
                break;
            }
            assert!(n < 100_000_000, "done_o never rose");
        }
        n
    }

    /// Read every output through the output port (sign-extended). The read
    /// port is pipelined with the config's read latency L
    /// ([`crate::config::Derived::out_latency`]): one address per cycle,
    /// output o is on `out_data_o` after the L-th rising edge from the one
    /// that sampled address o.
    pub fn read_outputs(&mut self) -> Vec<i128> {
        let acc_bits = port::OUT_DATA.width.bits(&self.cfg);
        let n = self.cfg.params.outputs;
        let lat = self.cfg.derived.out_latency;
        let mut y = Vec::with_capacity(n as usize);
        // Edge e samples address e (held at the last one after n - 1); after
        // edge e the port holds output e + 1 - L.
        for e in 0..n + lat - 1 {
            self.poke(port::OUT_ADDR, &BigUint::from(e.min(n - 1)));
            self.eval();
            self.tick();
            if e + 1 >= lat {
                y.push(self.peek_signed(port::OUT_DATA, acc_bits));
            }
        }
        y
    }

    /// Read output `o` alone: set the address, wait `out_latency` edges,
    /// read (sign-extended).
    pub fn read_output(&mut self, o: u32) -> i128 {
        let acc_bits = port::OUT_DATA.width.bits(&self.cfg);
        self.poke(port::OUT_ADDR, &BigUint::from(o));
        self.eval();
        for _ in 0..self.cfg.derived.out_latency {
            self.tick();
        }
        self.peek_signed(port::OUT_DATA, acc_bits)
    }

    /// Read output port `p` as a signed `bits`-bit value.
    fn peek_signed(&mut self, p: Port, bits: u32) -> i128 {
        let raw = self.peek(p);
        let mut v: i128 = 0;
        for (i, dgt) in raw.to_u32_digits().iter().enumerate() {
            v |= (*dgt as i128) << (32 * i);
        }
        let shift = 128 - bits;
        (v << shift) >> shift
    }

    /// Run one input vector: load inputs, start, wait, read. Returns
    /// (outputs, cycles).
    pub fn execute(&mut self, x: &[u32]) -> (Vec<i128>, u64) {
        self.load_inputs(x);
        let c = self.run();
        (self.read_outputs(), c)
    }
}

/// The interface behaviours of [`crate::iface::BEHAVIOURS`] that are not
/// exercised by valid programs, co-simulated against the golden model on the
/// `odd` tile (37x29 crossbars, 5x3 OU: partial edge windows; 50 inputs and
/// 40 outputs: index fields reach 63).
#[cfg(test)]
mod behaviour {
    use super::*;
    use crate::golden;
    use crate::iface::region;
    use crate::program::prog_addr;
    use crate::testgen::{InputMode, Rng, input_vector, random_program};

    fn tile() -> Tile {
        Tile::new("odd").expect("odd is in the co-simulation matrix")
    }

    fn program(cfg: &TileConfig, seed: u64) -> TileProgram {
        let mut rng = Rng::new(seed);
        loop {
            let p = random_program(cfg, &mut rng);
            if p.max_ops() > 2 && p.xbars.len() > 1 {
                return p;
            }
        }
    }

    fn inputs(cfg: &TileConfig, seed: u64) -> Vec<u32> {
        let mut rng = Rng::new(seed);
        input_vector(cfg, cfg.params.inputs as usize, &mut rng, InputMode::Random)
    }

    /// Edge rows and columns past the crossbar read as zero, input indices
    /// at or beyond `inputs` drive zero, output indices at or beyond
    /// `outputs` add nowhere; reading an output address beyond `outputs`
    /// gives 0.
    #[test]
    fn out_of_range_entries() {
        let mut t = tile();
        let cfg = t.config().clone();
        let (p, d) = (&cfg.params, &cfg.derived);
        assert!(p.rows % p.ou_rows != 0 && p.cols % p.ou_cols != 0);
        assert!(p.inputs < 1 << d.in_idx_bits && p.outputs < 1 << d.out_idx_bits);
        let mut prog = program(&cfg, 7);
        // Fill every unused entry of every op with an out-of-range index or
        // an edge row/column: none of them may change the result.
        let mut rng = Rng::new(8);
        let mut odd_entries = 0;
        for xb in prog.xbars.iter_mut() {
            for op in xb.ops.iter_mut() {
                op.row_window = d.row_windows - 1;
                op.col_window = d.col_windows - 1;
                for (i, e) in op.inputs.iter_mut().enumerate() {
                    let row = op.row_window * p.ou_rows + i as u32;
                    if row >= p.rows {
                        *e = Some(rng.below(p.inputs as u64) as u32);
                        odd_entries += 1;
                    } else if e.is_none() {
                        *e = Some(
                            p.inputs + rng.below((1 << d.in_idx_bits) - p.inputs as u64) as u32,
                        );
                        odd_entries += 1;
                    }
                }
                let mut used = op.outputs.clone();
                for (j, e) in op.outputs.iter_mut().enumerate() {
                    let col = op.col_window * p.ou_cols + j as u32;
                    if col >= p.cols {
                        // An output the op does not name elsewhere (a
                        // repeated output within one op is not allowed).
                        let o = loop {
                            let o = rng.below(p.outputs as u64) as u32;
                            if !used.contains(&Some(o)) {
                                break o;
                            }
                        };
                        *e = Some(o);
                        used.push(Some(o));
                        odd_entries += 1;
                    } else if e.is_none() {
                        *e = Some(
                            p.outputs + rng.below((1 << d.out_idx_bits) - p.outputs as u64) as u32,
                        );
                        odd_entries += 1;
                    }
                }
            }
        }
        assert!(odd_entries > 10, "{odd_entries}");
        assert!(
            prog.validate(&cfg).is_err(),
            "the program uses out-of-range entries"
        );
        // The same program with those entries dropped (and the windows moved
        // to the edge) is the reference.
        let mut reference = prog.clone();
        for xb in reference.xbars.iter_mut() {
            for op in xb.ops.iter_mut() {
                for (i, e) in op.inputs.iter_mut().enumerate() {
                    if op.row_window * p.ou_rows + i as u32 >= p.rows
                        || e.is_some_and(|x| x >= p.inputs)
                    {
                        *e = None;
                    }
                }
                for (j, e) in op.outputs.iter_mut().enumerate() {
                    if op.col_window * p.ou_cols + j as u32 >= p.cols
                        || e.is_some_and(|x| x >= p.outputs)
                    {
                        *e = None;
                    }
                }
            }
        }
        reference.validate(&cfg).unwrap();
        t.load_program(&prog);
        let x = inputs(&cfg, 9);
        let (y, _) = t.execute(&x);
        let want = golden::execute(&cfg, &reference, &x);
        assert!(want.iter().any(|&v| v != 0), "a non-trivial result");
        assert_eq!(
            y, want,
            "RTL vs golden of the program without the odd entries"
        );
        assert_eq!(golden::execute(&cfg, &prog, &x), want, "golden model");
        // Output addresses beyond `outputs` read 0.
        for a in [p.outputs as u64, (1 << d.out_idx_bits) - 1] {
            t.poke(port::OUT_ADDR, &BigUint::from(a));
            t.eval();
            for _ in 0..d.out_latency {
                t.tick();
            }
            assert_eq!(t.peek(port::OUT_DATA), BigUint::from(0u32), "out_addr {a}");
        }
    }

    /// Garbage in the unused data and offset bits of every write, writes to
    /// crossbars beyond `xbars` and input words beyond `input_words`: the
    /// results equal the golden model's.
    #[test]
    fn unused_bits_and_out_of_range_writes_are_ignored() {
        let mut t = tile();
        let cfg = t.config().clone();
        let (p, d) = (&cfg.params, &cfg.derived);
        assert!(
            p.xbars < 1 << d.xbar_idx_bits,
            "a crossbar index beyond xbars exists"
        );
        let prog = program(&cfg, 11);
        let x = inputs(&cfg, 12);
        let mut rng = Rng::new(13);
        let mut junk = |bits_used: u32, bits_total: u32| -> BigUint {
            let mut v = BigUint::from(0u32);
            for b in bits_used..bits_total {
                if rng.below(2) == 1 {
                    v |= BigUint::from(1u32) << b as usize;
                }
            }
            v
        };
        let off_used = |r: u64| match r {
            region::CELLS => d.xbar_idx_bits + d.row_idx_bits,
            region::OPS => d.xbar_idx_bits + d.op_idx_bits,
            region::COUNTS => d.xbar_idx_bits,
            _ => d.in_word_bits,
        };
        let data_used = |r: u64| match r {
            region::CELLS => d.row_data_bits,
            region::OPS => d.op_layout.width,
            region::COUNTS => d.cnt_bits,
            _ => d.inputs_per_word * p.act_bits,
        };
        let mut writes = program_writes(&cfg, &prog);
        writes.extend(input_writes(&cfg, &x));
        let mut dirty = 0;
        for w in writes.iter_mut() {
            let r = w.addr >> d.prog_offset_bits;
            let off = w.addr & ((1 << d.prog_offset_bits) - 1);
            let hi = junk(off_used(r), d.prog_offset_bits);
            let hi: u64 = hi.to_u64_digits().first().copied().unwrap_or(0);
            w.addr = prog_addr(&cfg, r, off | hi);
            // In the last inputs word, copies past the last input are unused too.
            let used = if r == region::INPUTS {
                let left = p.inputs - (off as u32) * d.inputs_per_word;
                left.min(d.inputs_per_word) * p.act_bits
            } else {
                data_used(r)
            };
            w.data |= junk(used, d.prog_data_bits);
            dirty += (hi != 0) as u32;
        }
        assert!(dirty > 0 || d.prog_offset_bits == off_used(region::CELLS));
        // Writes that must change nothing: a crossbar beyond xbars (cells,
        // an op, a count) and, when it exists, an input word beyond input_words.
        let bad = p.xbars as u64;
        let ones = (BigUint::from(1u32) << d.prog_data_bits as usize) - 1u32;
        let mut extra = vec![
            Write {
                addr: prog_addr(&cfg, region::CELLS, bad << d.row_idx_bits),
                data: ones.clone(),
            },
            Write {
                addr: prog_addr(&cfg, region::OPS, bad << d.op_idx_bits),
                data: ones.clone(),
            },
            Write {
                addr: prog_addr(&cfg, region::COUNTS, bad),
                data: ones.clone(),
            },
        ];
        if (d.input_words as u64) < 1 << d.in_word_bits {
            extra.push(Write {
                addr: prog_addr(&cfg, region::INPUTS, d.input_words as u64),
                data: ones.clone(),
            });
        }
        for w in writes.iter().chain(extra.iter()) {
            t.write(w);
        }
        let c = t.run();
        let y = t.read_outputs();
        assert_eq!(y, golden::execute(&cfg, &prog, &x));
        assert_eq!(c, golden::cycles(&cfg, &prog));
    }

    /// Reset clears the op counts (a start then takes `latency` cycles and
    /// every output reads 0) and keeps cells, op words and inputs (writing
    /// the counts again restores the results); a new program loads without a
    /// reset.
    #[test]
    fn reset_clears_counts_only_and_reprogramming_needs_no_reset() {
        let mut t = tile();
        let cfg = t.config().clone();
        let d = &cfg.derived;
        let prog = program(&cfg, 21);
        let x = inputs(&cfg, 22);
        t.load_program(&prog);
        let (y, _) = t.execute(&x);
        assert_eq!(y, golden::execute(&cfg, &prog, &x));
        t.reset();
        assert!(t.peek_bit(port::PROG_READY) && !t.peek_bit(port::BUSY));
        assert_eq!(t.run(), d.latency as u64, "all counts 0 after reset");
        assert!(t.read_outputs().iter().all(|&v| v == 0));
        for w in program_writes(&cfg, &prog) {
            if w.addr >> d.prog_offset_bits == region::COUNTS {
                t.write(&w);
            }
        }
        t.run();
        assert_eq!(t.read_outputs(), y, "cells, ops and inputs survive reset");
        // Another program over the first one, no reset.
        let prog2 = program(&cfg, 23);
        assert_ne!(prog, prog2);
        t.load_program(&prog2);
        let (y2, c2) = t.execute(&x);
        assert_eq!(y2, golden::execute(&cfg, &prog2, &x));
        assert_eq!(c2, golden::cycles(&cfg, &prog2));
    }

    /// Handshake: start is taken on the next edge while idle, ignored while
    /// busy; prog_ready_o is low while busy; done_o is a one-cycle pulse with
    /// busy_o already low; a start in the done_o cycle is accepted.
    #[test]
    fn handshake_timing() {
        let mut t = tile();
        let cfg = t.config().clone();
        let prog = program(&cfg, 31);
        let x = inputs(&cfg, 32);
        let want = golden::execute(&cfg, &prog, &x);
        let cycles = golden::cycles(&cfg, &prog);
        t.load_program(&prog);
        t.load_inputs(&x);
        // Hold start high from the accepting edge until 3 edges before done:
        // it is ignored while busy.
        t.poke_bit(port::START, true);
        t.eval();
        assert!(!t.peek_bit(port::BUSY));
        t.tick();
        let mut n = 0u64;
        let mut seen_done = 0;
        loop {
            assert!(
                t.peek_bit(port::BUSY) || t.peek_bit(port::DONE),
                "busy until done"
            );
            assert!(!t.peek_bit(port::PROG_READY) || t.peek_bit(port::DONE));
            if n + 3 == cycles {
                t.poke_bit(port::START, false);
                t.eval();
            }
            t.tick();
            n += 1;
            if t.peek_bit(port::DONE) {
                seen_done += 1;
                assert!(!t.peek_bit(port::BUSY), "busy_o low in the done_o cycle");
                assert!(
                    t.peek_bit(port::PROG_READY),
                    "prog_ready_o high in the done_o cycle"
                );
                break;
            }
            assert!(n < 10 * cycles);
        }
        assert_eq!(
            (n, seen_done),
            (cycles, 1),
            "start while busy changed the run"
        );
        assert_eq!(t.read_outputs(), want);
        // Start again exactly in the done_o cycle of the next run.
        let c1 = t.run();
        assert_eq!(c1, cycles);
        assert!(t.peek_bit(port::DONE));
        t.poke_bit(port::START, true);
        t.eval();
        t.tick();
        t.poke_bit(port::START, false);
        t.eval();
        assert!(!t.peek_bit(port::DONE), "done_o is a one-cycle pulse");
        assert!(
            t.peek_bit(port::BUSY),
            "the start in the done_o cycle was accepted"
        );
        let mut m = 0u64;
        while !t.peek_bit(port::DONE) {
            t.tick();
            m += 1;
            assert!(m < 10 * cycles);
        }
        assert_eq!(m, cycles);
        assert_eq!(t.read_outputs(), want);
    }
}
