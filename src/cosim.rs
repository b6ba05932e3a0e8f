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
