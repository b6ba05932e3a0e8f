//! The tile program (DESIGN section 3): the one contract between the
//! compiler, the golden executor, the generated RTL and the cost model.
//!
//! A [`TileProgram`] holds, for each physical crossbar of a tile, its cells
//! and its ordered list of OU operations. A [`LayerProgram`] is a set of tile
//! programs plus the maps from each tile's local input/output indices to the
//! layer's rows/columns (tiles of one layer run concurrently; their partial
//! outputs are summed).

use crate::config::TileConfig;
use crate::iface::region;
use num_bigint::BigUint;
use serde::{Deserialize, Serialize};
use std::fmt;

/// One OU operation: reads an m x g window of one crossbar.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Op {
    /// Row window: rows `row_window*m .. row_window*m + m` of the crossbar.
    pub row_window: u32,
    /// Column window: columns `col_window*g .. col_window*g + g`.
    pub col_window: u32,
    /// Input-buffer index driving each of the m rows (`None`: row idle).
    pub inputs: Vec<Option<u32>>,
    /// Output accumulator of each of the g columns (`None`: column unused).
    /// Named outputs within one op are distinct.
    pub outputs: Vec<Option<u32>>,
    /// Slice shift (p * C for magnitude slice p).
    pub shift: u32,
    /// Sign: `true` subtracts (the "-" crossbar set).
    pub negative: bool,
}

/// One physical crossbar: its cells (row-major, `rows * cols` values, each
/// below 2^C) and its op list.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Crossbar {
    /// Cell values, row-major.
    pub cells: Vec<u8>,
    /// Ordered op list (one op per cycle per activation step).
    pub ops: Vec<Op>,
}

impl Crossbar {
    /// An all-zero crossbar with no ops.
    pub fn empty(cfg: &TileConfig) -> Crossbar {
        Crossbar {
            cells: vec![0; (cfg.params.rows * cfg.params.cols) as usize],
            ops: Vec::new(),
        }
    }

    /// Cell at (row, col).
    pub fn cell(&self, cfg: &TileConfig, row: u32, col: u32) -> u8 {
        self.cells[(row * cfg.params.cols + col) as usize]
    }
}

/// What one tile holds and executes: at most N crossbars (missing ones are
/// empty).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct TileProgram {
    /// The crossbars, index = physical crossbar number.
    pub xbars: Vec<Crossbar>,
}

/// Why a program does not fit a tile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgramError(pub String);

impl fmt::Display for ProgramError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tile program does not fit the tile: {}", self.0)
    }
}

impl std::error::Error for ProgramError {}

macro_rules! bail {
    ($($t:tt)*) => { return Err(ProgramError(format!($($t)*))) };
}

impl TileProgram {
    /// Check that the program fits `cfg`: crossbar count, cell values, op
    /// counts, windows, indices, shifts, distinct outputs per op.
    pub fn validate(&self, cfg: &TileConfig) -> Result<(), ProgramError> {
        let p = &cfg.params;
        let d = &cfg.derived;
        if self.xbars.len() > p.xbars as usize {
            bail!(
                "{} crossbars, valid 0..={} (xbars)",
                self.xbars.len(),
                p.xbars
            );
        }
        let cell_max = (1u32 << p.cell_bits) - 1;
        for (j, xb) in self.xbars.iter().enumerate() {
            if xb.cells.len() != (p.rows * p.cols) as usize {
                bail!(
                    "crossbar {j} has {} cells, expected rows x cols = {}",
                    xb.cells.len(),
                    p.rows * p.cols
                );
            }
            if let Some(pos) = xb.cells.iter().position(|&c| c as u32 > cell_max) {
                bail!(
                    "crossbar {j} cell {pos} = {}, valid 0..={cell_max} (cell_bits = {})",
                    xb.cells[pos],
                    p.cell_bits
                );
            }
            if xb.ops.len() > p.ops as usize {
                bail!(
                    "crossbar {j} has {} ops, valid 0..={} (ops)",
                    xb.ops.len(),
                    p.ops
                );
            }
            for (k, op) in xb.ops.iter().enumerate() {
                if op.row_window >= d.row_windows {
                    bail!(
                        "crossbar {j} op {k}: row window {}, valid 0..{}",
                        op.row_window,
                        d.row_windows
                    );
                }
                if op.col_window >= d.col_windows {
                    bail!(
                        "crossbar {j} op {k}: column window {}, valid 0..{}",
                        op.col_window,
                        d.col_windows
                    );
                }
                if op.inputs.len() != p.ou_rows as usize {
                    bail!(
                        "crossbar {j} op {k}: {} input entries, expected ou_rows = {}",
                        op.inputs.len(),
                        p.ou_rows
                    );
                }
                if op.outputs.len() != p.ou_cols as usize {
                    bail!(
                        "crossbar {j} op {k}: {} output entries, expected ou_cols = {}",
                        op.outputs.len(),
                        p.ou_cols
                    );
                }
                if op.shift > d.max_slice_shift {
                    bail!(
                        "crossbar {j} op {k}: shift {}, valid 0..={}",
                        op.shift,
                        d.max_slice_shift
                    );
                }
                for (i, inp) in op.inputs.iter().enumerate() {
                    if let Some(ix) = *inp {
                        let row = op.row_window * p.ou_rows + i as u32;
                        if row >= p.rows {
                            bail!(
                                "crossbar {j} op {k}: row {row} beyond the crossbar's {} rows is driven",
                                p.rows
                            );
                        }
                        if ix >= p.inputs {
                            bail!(
                                "crossbar {j} op {k}: input index {ix}, valid 0..{} (inputs)",
                                p.inputs
                            );
                        }
                    }
                }
                let mut seen = Vec::new();
                for (c, out) in op.outputs.iter().enumerate() {
                    if let Some(o) = *out {
                        let col = op.col_window * p.ou_cols + c as u32;
                        if col >= p.cols {
                            bail!(
                                "crossbar {j} op {k}: column {col} beyond the crossbar's {} columns is read",
                                p.cols
                            );
                        }
                        if o >= p.outputs {
                            bail!(
                                "crossbar {j} op {k}: output index {o}, valid 0..{} (outputs)",
                                p.outputs
                            );
                        }
                        if seen.contains(&o) {
                            bail!("crossbar {j} op {k}: output {o} named twice in one op");
                        }
                        seen.push(o);
                    }
                }
            }
        }
        Ok(())
    }

    /// Longest op list (the number of issue cycles per activation step).
    pub fn max_ops(&self) -> u32 {
        self.xbars
            .iter()
            .map(|x| x.ops.len() as u32)
            .max()
            .unwrap_or(0)
    }
}

/// Encode one op into its op word (layout in [`crate::config::OpLayout`]).
pub(crate) fn encode_op(cfg: &TileConfig, op: &Op) -> BigUint {
    let l = &cfg.derived.op_layout;
    let d = &cfg.derived;
    let mut w = BigUint::from(0u32);
    let put = |w: &mut BigUint, pos: u32, val: u64| {
        if val != 0 {
            *w |= BigUint::from(val) << pos as usize;
        }
    };
    put(&mut w, l.sign, op.negative as u64);
    put(&mut w, l.shift, op.shift as u64);
    put(&mut w, l.rw, op.row_window as u64);
    put(&mut w, l.cw, op.col_window as u64);
    for (i, inp) in op.inputs.iter().enumerate() {
        if let Some(ix) = inp {
            let pos = l.inputs + i as u32 * l.in_entry_bits;
            put(&mut w, pos, 1 | ((*ix as u64) << 1));
        }
    }
    for (c, out) in op.outputs.iter().enumerate() {
        if let Some(o) = out {
            let pos = l.outputs + c as u32 * l.out_entry_bits;
            put(&mut w, pos, 1 | ((*o as u64) << 1));
        }
    }
    debug_assert!(w.bits() <= d.op_layout.width as u64);
    w
}

/// One write on the programming port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Write {
    /// Full address: region in the top two bits, offset below.
    pub addr: u64,
    /// Data (only the low `prog_data_bits` bits may be set).
    pub data: BigUint,
}

/// Programming-port address of `offset` in `region`.
pub(crate) fn prog_addr(cfg: &TileConfig, region: u64, offset: u64) -> u64 {
    (region << cfg.derived.prog_offset_bits) | offset
}

/// The writes that load a (validated) program: every crossbar's rows (all
/// N crossbars; missing ones are written as zero), op words and op counts.
pub(crate) fn program_writes(cfg: &TileConfig, prog: &TileProgram) -> Vec<Write> {
    let p = &cfg.params;
    let mut out = Vec::new();
    for j in 0..p.xbars {
        let xb = prog.xbars.get(j as usize);
        for r in 0..p.rows {
            let mut data = BigUint::from(0u32);
            if let Some(xb) = xb {
                for c in 0..p.cols {
                    let v = xb.cell(cfg, r, c);
                    if v != 0 {
                        data |= BigUint::from(v) << (c * p.cell_bits) as usize;
                    }
                }
            }
            out.push(Write {
                addr: prog_addr(
                    cfg,
                    region::CELLS,
                    ((j as u64) << cfg.derived.row_idx_bits) | r as u64,
                ),
                data,
            });
        }
        let ops: &[Op] = xb.map(|x| x.ops.as_slice()).unwrap_or(&[]);
        for (k, op) in ops.iter().enumerate() {
            out.push(Write {
                addr: prog_addr(
                    cfg,
                    region::OPS,
                    ((j as u64) << cfg.derived.op_idx_bits) | k as u64,
                ),
                data: encode_op(cfg, op),
            });
        }
        out.push(Write {
            addr: prog_addr(cfg, region::COUNTS, j as u64),
            data: BigUint::from(ops.len()),
        });
    }
    out
}

/// The writes that load one input vector (missing entries are zero).
pub(crate) fn input_writes(cfg: &TileConfig, x: &[u32]) -> Vec<Write> {
    let p = &cfg.params;
    let d = &cfg.derived;
    (0..d.input_words)
        .map(|w| {
            let mut data = BigUint::from(0u32);
            for i in 0..d.inputs_per_word {
                let idx = (w * d.inputs_per_word + i) as usize;
                if let Some(&v) = x.get(idx)
                    && v != 0
                {
                    data |= BigUint::from(v) << (i * p.act_bits) as usize;
                }
            }
            Write {
                addr: prog_addr(cfg, region::INPUTS, w as u64),
                data,
            }
        })
        .collect()
}

/// A signed integer weight matrix, row-major: `rows` inputs by `cols` outputs
/// (y = x W).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct WeightMatrix {
    /// Input rows K.
    pub rows: usize,
    /// Output columns.
    pub cols: usize,
    /// Row-major values.
    pub data: Vec<i32>,
}

impl WeightMatrix {
    /// A zero matrix.
    pub fn zeros(rows: usize, cols: usize) -> WeightMatrix {
        WeightMatrix {
            rows,
            cols,
            data: vec![0; rows * cols],
        }
    }

    /// Element (r, c).
    pub fn at(&self, r: usize, c: usize) -> i32 {
        self.data[r * self.cols + c]
    }

    /// The exact integer product x W.
    pub fn matvec(&self, x: &[u32]) -> Vec<i128> {
        let mut y = vec![0i128; self.cols];
        for r in 0..self.rows {
            let xv = x.get(r).copied().unwrap_or(0) as i128;
            if xv == 0 {
                continue;
            }
            let row = &self.data[r * self.cols..(r + 1) * self.cols];
            for (yc, &w) in y.iter_mut().zip(row) {
                *yc += xv * w as i128;
            }
        }
        y
    }
}

/// One tile of a layer: its program and the maps from the tile's local
/// input/output indices to the layer's rows/columns.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct MappedTile {
    /// The tile program.
    pub program: TileProgram,
    /// `input_map[i]` = layer row feeding tile input i.
    pub input_map: Vec<u32>,
    /// `output_map[o]` = layer column receiving tile output o.
    pub output_map: Vec<u32>,
}

/// A layer (one weight matrix) compiled to tiles that run concurrently.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct LayerProgram {
    /// Layer input length (weight rows).
    pub rows: usize,
    /// Layer output length (weight columns).
    pub cols: usize,
    /// The tiles.
    pub tiles: Vec<MappedTile>,
}

impl LayerProgram {
    /// Validate every tile against `cfg` and its maps against the layer.
    pub fn validate(&self, cfg: &TileConfig) -> Result<(), ProgramError> {
        for (t, tile) in self.tiles.iter().enumerate() {
            tile.program
                .validate(cfg)
                .map_err(|e| ProgramError(format!("tile {t}: {}", e.0)))?;
            if tile.input_map.len() > cfg.params.inputs as usize {
                bail!(
                    "tile {t}: input map has {} entries, valid 0..={}",
                    tile.input_map.len(),
                    cfg.params.inputs
                );
            }
            if tile.output_map.len() > cfg.params.outputs as usize {
                bail!(
                    "tile {t}: output map has {} entries, valid 0..={}",
                    tile.output_map.len(),
                    cfg.params.outputs
                );
            }
            if let Some(r) = tile.input_map.iter().find(|&&r| r as usize >= self.rows) {
                bail!("tile {t}: input map names row {r}, layer has {}", self.rows);
            }
            if let Some(c) = tile.output_map.iter().find(|&&c| c as usize >= self.cols) {
                bail!(
                    "tile {t}: output map names column {c}, layer has {}",
                    self.cols
                );
            }
            for xb in &tile.program.xbars {
                for op in &xb.ops {
                    if op
                        .inputs
                        .iter()
                        .flatten()
                        .any(|&i| i as usize >= tile.input_map.len())
                    {
                        bail!("tile {t}: an op reads an input beyond the tile's input map");
                    }
                    if op
                        .outputs
                        .iter()
                        .flatten()
                        .any(|&o| o as usize >= tile.output_map.len())
                    {
                        bail!("tile {t}: an op writes an output beyond the tile's output map");
                    }
                }
            }
        }
        Ok(())
    }

    /// The tile-local input vector of tile `t` for the layer input `x`.
    pub fn tile_inputs(&self, t: usize, x: &[u32]) -> Vec<u32> {
        self.tiles[t]
            .input_map
            .iter()
            .map(|&r| x.get(r as usize).copied().unwrap_or(0))
            .collect()
    }
}
