//! Bit-slice mapping (DESIGN section 4 steps 5-8): the three mappers that turn
//! an integer weight matrix into tile programs, the grouping step, and the
//! bounds reported beside every mapping.
//!
//! - [`Mapper::Dense`]: ISAAC-style. Every (row block, column block, slice,
//!   sign) is a physical crossbar, every OU window of it is an op.
//! - [`Mapper::Sre`]: SRE-style. Inside each crossbar's g-column strips, rows
//!   whose g cells are all zero are dropped and the rest compacted upwards
//!   (each kept row remembers its input index); no packing across crossbars;
//!   all-zero crossbars are not allocated.
//! - [`Mapper::Sme`]: squeeze-out. The same strip compaction, then the
//!   surviving strips of all logical crossbars of a tile slice are packed, in
//!   whole OU windows, into as few physical crossbars as possible
//!   (column windows filled in order, a strip split between windows where
//!   one is full), then grouped: the windows are spread evenly over those
//!   crossbars so the longest op list is ceil(windows / crossbars).
//!
//! Tile slices: a layer is cut into slices of at most `inputs` rows by
//! `outputs` columns (the tile's buffers). Each slice is mapped on its own
//! and its physical crossbars are grouped N at a time into tiles. All tiles
//! of a layer run concurrently; their partial outputs are summed.

use crate::config::TileConfig;
use crate::cost::LayerStats;
use crate::program::{Crossbar, LayerProgram, MappedTile, Op, TileProgram, WeightMatrix};
use serde::{Deserialize, Serialize};

/// Which mapper.
#[derive(
    Serialize,
    Deserialize,
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Mapper {
    /// ISAAC-style dense bit-sliced mapping.
    Dense,
    /// SRE-style strip row compaction, no packing.
    Sre,
    /// SME squeeze-out: compaction, packing, grouping.
    Sme,
}

impl Mapper {
    /// All mappers, baseline first.
    pub const ALL: [Mapper; 3] = [Mapper::Dense, Mapper::Sre, Mapper::Sme];

    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Mapper::Dense => "dense",
            Mapper::Sre => "sre",
            Mapper::Sme => "sme",
        }
    }

    /// Position in [`Mapper::ALL`] (and in a [`PerMapper`]).
    pub fn index(self) -> usize {
        self as usize
    }
}

/// One value per mapper, indexed by [`Mapper`]; serializes as a map
/// `{"dense": .., "sre": .., "sme": ..}`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PerMapper<T>(pub [T; 3]);

impl<T> PerMapper<T> {
    /// Build from a function of the mapper.
    pub(crate) fn from_fn(mut f: impl FnMut(Mapper) -> T) -> PerMapper<T> {
        PerMapper(Mapper::ALL.map(&mut f))
    }

    /// `(mapper, value)` pairs, baseline first.
    pub fn iter(&self) -> impl Iterator<Item = (Mapper, &T)> {
        Mapper::ALL.into_iter().zip(self.0.iter())
    }

    /// Apply `f` to every value.
    pub fn map<U>(&self, mut f: impl FnMut(Mapper, &T) -> U) -> PerMapper<U> {
        PerMapper::from_fn(|m| f(m, &self[m]))
    }
}

impl<T> std::ops::Index<Mapper> for PerMapper<T> {
    type Output = T;
    fn index(&self, m: Mapper) -> &T {
        &self.0[m.index()]
    }
}

impl<T> std::ops::IndexMut<Mapper> for PerMapper<T> {
    fn index_mut(&mut self, m: Mapper) -> &mut T {
        &mut self.0[m.index()]
    }
}

impl<T: Serialize> Serialize for PerMapper<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(3))?;
        for (k, v) in self.iter() {
            m.serialize_entry(k.name(), v)?;
        }
        m.end()
    }
}

/// What the mappers optimize inside a tile, once the tile count is fixed
/// (the tile is what a chip allocates).
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, Hash, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Objective {
    /// Fewest crossbars: windows packed into as few crossbars as possible;
    /// a tile's other crossbars stay empty.
    #[default]
    Crossbars,
    /// Workload grouping: every tile's op lists spread over all N crossbars
    /// of the tile, so its longest op list (its cycles) is as short as
    /// contiguous splits of the lists allow. Same tiles, more crossbars.
    Balanced,
}

/// Bounds of DESIGN section 4 step 8 for one weight matrix.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct Bounds {
    /// Non-zero cells over all bit-planes and signs.
    pub nonzero_cells: u64,
    /// ceil(non-zero cells / (X_r X_c)): no mapping can use fewer crossbars.
    pub cell_crossbars: u64,
    /// Squeezed OU windows: sum over strips of ceil(kept rows / m).
    pub squeezed_windows: u64,
    /// ceil(squeezed windows / window slots per crossbar): perfect packing of
    /// this squeeze's strips. A crossbar has ceil(X_r/m) x ceil(X_c/g) window
    /// slots, so when m divides X_r and g divides X_c this is exactly
    /// ceil(squeezed windows x m x g / (X_r X_c)) (DESIGN section 4 step 8).
    pub packing_crossbars: u64,
}

/// One weight of a strip after squeezing: which logical crossbar and strip.
#[derive(Clone, Debug)]
struct Strip {
    /// Slice-local column of the strip's first column.
    col0: u32,
    /// Columns in the strip (<= g).
    width: u32,
    /// Magnitude slice p.
    plane: u32,
    /// Sign set.
    negative: bool,
    /// Kept rows (slice-local input indices), in order.
    rows: Vec<u32>,
    /// Row-block index inside the slice (for the dense/SRE layout).
    row_block: u32,
    /// Column-block index inside the slice.
    col_block: u32,
    /// Strip index inside its column block.
    cw: u32,
}

/// A slice of the layer: rows [r0, r0+nr), cols [c0, c0+nc).
struct Slice<'a> {
    w: &'a WeightMatrix,
    r0: usize,
    nr: usize,
    c0: usize,
    nc: usize,
    /// Whether the mapping writes crossbar cells. The cost model reads op
    /// lists only (a cell never changes a count), so the costing path skips
    /// them: no per-cell work and no cell memory.
    cells: bool,
    /// What to optimize inside a tile.
    objective: Objective,
}

impl Slice<'_> {
    fn at(&self, r: usize, c: usize) -> i32 {
        self.w.data[(self.r0 + r) * self.w.cols + self.c0 + c]
    }

    /// A new physical crossbar: all-zero cells (when cells are kept), no ops.
    fn crossbar(&self, cfg: &TileConfig) -> Crossbar {
        if self.cells {
            Crossbar::empty(cfg)
        } else {
            Crossbar {
                cells: Vec::new(),
                ops: Vec::new(),
            }
        }
    }
}

fn cell_of(w: i32, plane: u32, cbits: u32) -> u8 {
    ((w.unsigned_abs() >> (plane * cbits)) & ((1 << cbits) - 1)) as u8
}

/// Squeeze every strip of every logical crossbar of a slice. Returns the
/// strips with at least one kept row.
fn squeeze(cfg: &TileConfig, s: &Slice) -> Vec<Strip> {
    let p = &cfg.params;
    let (xr, xc, g) = (p.rows as usize, p.cols as usize, p.ou_cols as usize);
    let planes = cfg.derived.slices;
    let cbits = p.cell_bits;
    let cmask: u32 = (1 << cbits) - 1;
    let mut out = Vec::new();
    let row_blocks = s.nr.div_ceil(xr);
    let col_blocks = s.nc.div_ceil(xc);
    // Per row: OR of positive and of negative magnitudes over the strip.
    let mut pos_or = vec![0u32; xr];
    let mut neg_or = vec![0u32; xr];
    for cb in 0..col_blocks {
        let bc0 = cb * xc;
        let bcols = (s.nc - bc0).min(xc);
        for cw in 0..bcols.div_ceil(g) {
            let sc0 = bc0 + cw * g;
            let width = (bcols - cw * g).min(g);
            for rb in 0..row_blocks {
                let br0 = rb * xr;
                let brows = (s.nr - br0).min(xr);
                for r in 0..brows {
                    let (mut po, mut no) = (0u32, 0u32);
                    for c in sc0..sc0 + width {
                        let v = s.at(br0 + r, c);
                        if v > 0 {
                            po |= v as u32;
                        } else if v < 0 {
                            no |= v.unsigned_abs();
                        }
                    }
                    pos_or[r] = po;
                    neg_or[r] = no;
                }
                for plane in 0..planes {
                    for negative in [false, true] {
                        let ors = if negative { &neg_or } else { &pos_or };
                        let rows: Vec<u32> = (0..brows)
                            .filter(|&r| (ors[r] >> (plane * cbits)) & cmask != 0)
                            .map(|r| (br0 + r) as u32)
                            .collect();
                        if !rows.is_empty() {
                            out.push(Strip {
                                col0: sc0 as u32,
                                width: width as u32,
                                plane,
                                negative,
                                rows,
                                row_block: rb as u32,
                                col_block: cb as u32,
                                cw: cw as u32,
                            });
                        }
                    }
                }
            }
        }
    }
    out
}

/// The bounds of a whole weight matrix under `cfg`.
pub fn bounds(cfg: &TileConfig, w: &WeightMatrix) -> Bounds {
    let mut windows = 0;
    for_each_slice(cfg, w, Objective::Crossbars, |s| {
        windows += squeezed_windows(cfg, &squeeze(cfg, &s))
    });
    finish_bounds(cfg, w, windows)
}

/// OU windows of squeezed strips: sum of ceil(kept rows / m).
fn squeezed_windows(cfg: &TileConfig, strips: &[Strip]) -> u64 {
    let m = cfg.params.ou_rows as u64;
    strips
        .iter()
        .map(|st| (st.rows.len() as u64).div_ceil(m))
        .sum()
}

/// Complete the bounds from the squeezed window count.
fn finish_bounds(cfg: &TileConfig, w: &WeightMatrix, squeezed_windows: u64) -> Bounds {
    let p = &cfg.params;
    use rayon::prelude::*;
    let nonzero_cells = w
        .data
        .par_iter()
        .map(|&v| {
            (0..cfg.derived.slices)
                .filter(|&pl| cell_of(v, pl, p.cell_bits) != 0)
                .count() as u64
        })
        .sum::<u64>();
    Bounds::from_counts(cfg, nonzero_cells, squeezed_windows)
}

impl Bounds {
    /// The bounds of a matrix with `nonzero_cells` non-zero cells whose
    /// squeeze leaves `squeezed_windows` OU windows.
    pub(crate) fn from_counts(
        cfg: &TileConfig,
        nonzero_cells: u64,
        squeezed_windows: u64,
    ) -> Bounds {
        let p = &cfg.params;
        let slots = cfg.derived.row_windows as u64 * cfg.derived.col_windows as u64;
        Bounds {
            nonzero_cells,
            cell_crossbars: nonzero_cells.div_ceil((p.rows * p.cols) as u64),
            squeezed_windows,
            packing_crossbars: squeezed_windows.div_ceil(slots),
        }
    }

    /// The bounds of a layer made of independently mapped blocks: counts
    /// add, and the crossbar bounds are taken over the sums.
    pub(crate) fn combine(cfg: &TileConfig, parts: &[Bounds]) -> Bounds {
        Bounds::from_counts(
            cfg,
            parts.iter().map(|b| b.nonzero_cells).sum(),
            parts.iter().map(|b| b.squeezed_windows).sum(),
        )
    }
}

/// SME layout of a slice, or its SRE layout when that is smaller (the packer
/// uses whole row windows only, so when m does not divide X_r the in-place
/// layout can win) or, under [`Objective::Balanced`], when the SRE layout
/// needs no more tiles and runs faster (a shorter longest op list after
/// workload grouping): SME is then never slower than SRE-style at an equal
/// or smaller tile count. Both are valid programs of the same tile.
fn sme_or_sre(cfg: &TileConfig, s: &Slice, strips: Vec<Strip>, sre: &[Crossbar]) -> Vec<Crossbar> {
    let sme = map_sme(cfg, s, strips);
    if sme.len() > sre.len() {
        return sre.to_vec();
    }
    if s.objective == Objective::Balanced {
        let (t_sme, span_sme) = tile_shape(cfg, &sme);
        let (t_sre, span_sre) = tile_shape(cfg, sre);
        if t_sre <= t_sme && span_sre < span_sme {
            return sre.to_vec();
        }
    }
    sme
}

/// Tiles and the longest op list of a slice's crossbars once grouped N at a
/// time and balanced ([`tiles_of`] under [`Objective::Balanced`]), from the
/// op-list lengths alone.
fn tile_shape(cfg: &TileConfig, xbars: &[Crossbar]) -> (usize, usize) {
    let n = cfg.params.xbars as usize;
    let mut span = 0;
    for chunk in xbars.chunks(n) {
        let lens: Vec<usize> = chunk.iter().map(|x| x.ops.len()).collect();
        let t = balanced_cap(&lens, n);
        span = span.max(lens.iter().map(|&l| l.min(t)).max().unwrap_or(0));
    }
    (xbars.len().div_ceil(n), span)
}

/// The tile slices of `w` (at most `inputs` rows by `outputs` columns each),
/// row blocks outer.
fn slices<'a>(
    cfg: &TileConfig,
    w: &'a WeightMatrix,
    cells: bool,
    objective: Objective,
) -> Vec<Slice<'a>> {
    let (si, so) = (cfg.params.inputs as usize, cfg.params.outputs as usize);
    let mut out = Vec::new();
    for r0 in (0..w.rows).step_by(si) {
        for c0 in (0..w.cols).step_by(so) {
            out.push(Slice {
                w,
                r0,
                nr: (w.rows - r0).min(si),
                c0,
                nc: (w.cols - c0).min(so),
                cells,
                objective,
            });
        }
    }
    out
}

fn for_each_slice<'a>(
    cfg: &TileConfig,
    w: &'a WeightMatrix,
    objective: Objective,
    f: impl FnMut(Slice<'a>),
) {
    slices(cfg, w, true, objective).into_iter().for_each(f)
}

/// Ops of one strip placed with its first kept row at physical row window
/// `rw0` and column window `cw` (columns of the strip at the window's first
/// `width` columns).
fn strip_ops(cfg: &TileConfig, st: &Strip, rw0: u32, cw: u32, out: &mut Vec<Op>) {
    let (m, g) = (cfg.params.ou_rows as usize, cfg.params.ou_cols as usize);
    let outputs: Vec<Option<u32>> = (0..g)
        .map(|c| (c < st.width as usize).then_some(st.col0 + c as u32))
        .collect();
    for (h, chunk) in st.rows.chunks(m).enumerate() {
        let mut inputs: Vec<Option<u32>> = chunk.iter().map(|&r| Some(r)).collect();
        inputs.resize(m, None);
        out.push(Op {
            row_window: rw0 + h as u32,
            col_window: cw,
            inputs,
            outputs: outputs.clone(),
            shift: st.plane * cfg.params.cell_bits,
            negative: st.negative,
        });
    }
}

/// Write a strip's cells into a crossbar at physical row `row0`, column `col0`.
fn place_cells(cfg: &TileConfig, s: &Slice, st: &Strip, xb: &mut Crossbar, row0: u32, col0: u32) {
    if !s.cells {
        return;
    }
    let cols = cfg.params.cols;
    for (i, &r) in st.rows.iter().enumerate() {
        for c in 0..st.width {
            let v = s.at(r as usize, (st.col0 + c) as usize);
            if (v < 0) == st.negative && v != 0 {
                xb.cells[((row0 + i as u32) * cols + col0 + c) as usize] =
                    cell_of(v, st.plane, cfg.params.cell_bits);
            }
        }
    }
}

/// Dense mapping of one slice: every logical crossbar, every OU window.
fn map_dense(cfg: &TileConfig, s: &Slice) -> Vec<Crossbar> {
    let p = &cfg.params;
    let (xr, xc, m, g) = (
        p.rows as usize,
        p.cols as usize,
        p.ou_rows as usize,
        p.ou_cols as usize,
    );
    let mut xbars = Vec::new();
    for rb in 0..s.nr.div_ceil(xr) {
        let br0 = rb * xr;
        let brows = (s.nr - br0).min(xr);
        for cb in 0..s.nc.div_ceil(xc) {
            let bc0 = cb * xc;
            let bcols = (s.nc - bc0).min(xc);
            for plane in 0..cfg.derived.slices {
                for negative in [false, true] {
                    let mut xb = s.crossbar(cfg);
                    for r in (0..brows).take_while(|_| s.cells) {
                        for c in 0..bcols {
                            let v = s.at(br0 + r, bc0 + c);
                            if v != 0 && (v < 0) == negative {
                                xb.cells[r * xc + c] = cell_of(v, plane, p.cell_bits);
                            }
                        }
                    }
                    for rw in 0..brows.div_ceil(m) {
                        for cw in 0..bcols.div_ceil(g) {
                            let inputs = (0..m)
                                .map(|i| {
                                    let r = rw * m + i;
                                    (r < brows).then_some((br0 + r) as u32)
                                })
                                .collect();
                            let outputs = (0..g)
                                .map(|c| {
                                    let cc = cw * g + c;
                                    (cc < bcols).then_some((bc0 + cc) as u32)
                                })
                                .collect();
                            xb.ops.push(Op {
                                row_window: rw as u32,
                                col_window: cw as u32,
                                inputs,
                                outputs,
                                shift: plane * p.cell_bits,
                                negative,
                            });
                        }
                    }
                    xbars.push(xb);
                }
            }
        }
    }
    split_for_ops(cfg, xbars)
}

/// SRE mapping of one slice: each non-empty logical crossbar keeps its
/// strips in place, rows compacted to the top of each strip.
fn map_sre(cfg: &TileConfig, s: &Slice, strips: &[Strip]) -> Vec<Crossbar> {
    let xc = cfg.params.cols;
    let g = cfg.params.ou_cols;
    let mut xbars: Vec<Crossbar> = Vec::new();
    let mut key: Option<(u32, u32, u32, bool)> = None;
    // Strips of one logical crossbar are contiguous after sorting.
    let mut order: Vec<&Strip> = strips.iter().collect();
    order.sort_by_key(|st| (st.row_block, st.col_block, st.plane, st.negative, st.cw));
    for st in order {
        let k = (st.row_block, st.col_block, st.plane, st.negative);
        if key != Some(k) {
            xbars.push(s.crossbar(cfg));
            key = Some(k);
        }
        let xb = xbars.last_mut().unwrap();
        let col0 = st.cw * g;
        debug_assert!(col0 + st.width <= xc);
        place_cells(cfg, s, st, xb, 0, col0);
        strip_ops(cfg, st, 0, st.cw, &mut xb.ops);
    }
    split_for_ops(cfg, xbars)
}

/// Respect the op-memory depth: a crossbar with more ops than `ops` is
/// spilled into several physical crossbars, each holding at most `ops` of
/// its ops and only the cells of the windows those ops read.
fn split_for_ops(cfg: &TileConfig, xbars: Vec<Crossbar>) -> Vec<Crossbar> {
    split_cap(cfg, xbars, cfg.params.ops as usize)
}

/// Split every crossbar with more than `cap` ops into contiguous pieces of
/// at most `cap` ops, each a crossbar holding only the cells of the windows
/// its ops read. Crossbars within the cap are kept as they are.
fn split_cap(cfg: &TileConfig, xbars: Vec<Crossbar>, cap: usize) -> Vec<Crossbar> {
    let p = &cfg.params;
    if xbars.iter().all(|x| x.ops.len() <= cap) {
        return xbars;
    }
    let (m, g) = (p.ou_rows, p.ou_cols);
    let mut out = Vec::with_capacity(xbars.len());
    for xb in xbars {
        if xb.ops.len() <= cap {
            out.push(xb);
            continue;
        }
        for chunk in xb.ops.chunks(cap) {
            let mut part = Crossbar {
                cells: vec![0; xb.cells.len()],
                ops: Vec::new(),
            };
            for op in chunk.iter().take_while(|_| !xb.cells.is_empty()) {
                for r in op.row_window * m..((op.row_window + 1) * m).min(p.rows) {
                    for c in op.col_window * g..((op.col_window + 1) * g).min(p.cols) {
                        let i = (r * p.cols + c) as usize;
                        part.cells[i] = xb.cells[i];
                    }
                }
            }
            part.ops = chunk.to_vec();
            out.push(part);
        }
    }
    out
}

/// One piece of a strip placed in a physical crossbar: OU windows
/// `[w0, w0 + nw)` of the strip (window i holds kept rows `[i*m, i*m + m)`)
/// at row windows `[rw0, rw0 + nw)` of column window `cw` of crossbar `xbar`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Piece {
    xbar: u32,
    cw: u32,
    rw0: u32,
    strip: usize,
    w0: u32,
    nw: u32,
}

/// Pack the strips' OU windows into physical crossbars, filling column
/// windows in order and splitting a strip between column windows where one
/// is full (a strip's windows are independent ops, so a split costs
/// nothing). At most `target` windows go into one crossbar. Strips wider than
/// a narrow last column window (when g does not divide X_c) never go there.
/// Returns the pieces and the crossbar count.
fn fill(cfg: &TileConfig, strips: &[Strip], target: u32) -> (Vec<Piece>, u32) {
    let p = &cfg.params;
    let m = p.ou_rows;
    let g = p.ou_cols;
    let full = p.rows / m;
    let cwn = cfg.derived.col_windows;
    let last_width = p.cols - (cwn - 1) * g;
    let narrow_exists = last_width < g;
    let wide_bins = cwn - narrow_exists as u32;
    let mut load: Vec<u32> = Vec::new();
    let mut pieces = Vec::new();
    // Narrow column windows with room: (crossbar, used windows).
    let mut narrow: std::collections::VecDeque<(u32, u32)> = Default::default();
    // The wide column window being filled: (crossbar, cw, used windows).
    let mut cursor: Option<(u32, u32, u32)> = None;
    let can_narrow = |st: &Strip| narrow_exists && st.width <= last_width;
    // Wide strips first, then those that fit a narrow window; taller first.
    let mut order: Vec<usize> = (0..strips.len()).collect();
    order.sort_by_key(|&i| {
        (
            can_narrow(&strips[i]),
            std::cmp::Reverse(strips[i].rows.len()),
            i,
        )
    });
    for i in order {
        let st = &strips[i];
        let mut rem = (st.rows.len() as u32).div_ceil(m);
        let mut w0 = 0;
        while rem > 0 {
            if can_narrow(st)
                && let Some(&(x, used)) = narrow.front()
            {
                let room = (full - used).min(target.saturating_sub(load[x as usize]));
                if room == 0 {
                    narrow.pop_front();
                    continue;
                }
                let take = room.min(rem);
                pieces.push(Piece {
                    xbar: x,
                    cw: cwn - 1,
                    rw0: used,
                    strip: i,
                    w0,
                    nw: take,
                });
                narrow.front_mut().unwrap().1 += take;
                load[x as usize] += take;
                rem -= take;
                w0 += take;
                continue;
            }
            let room = |c: Option<(u32, u32, u32)>, load: &[u32]| {
                c.map_or(0, |(x, _, used)| {
                    (full - used).min(target.saturating_sub(load[x as usize]))
                })
            };
            if room(cursor, &load) == 0 {
                cursor = match cursor {
                    Some((x, cw, _)) if cw + 1 < wide_bins && load[x as usize] < target => {
                        Some((x, cw + 1, 0))
                    }
                    _ => {
                        load.push(0);
                        let x = load.len() as u32 - 1;
                        if narrow_exists {
                            narrow.push_back((x, 0));
                        }
                        if wide_bins == 0 {
                            // Only a narrow window exists; handled above.
                            None
                        } else {
                            Some((x, 0, 0))
                        }
                    }
                };
                if cursor.is_none() {
                    assert!(can_narrow(st), "a strip wider than every column window");
                    continue;
                }
            }
            let (x, cw, used) = cursor.unwrap();
            let take = room(cursor, &load).min(rem);
            pieces.push(Piece {
                xbar: x,
                cw,
                rw0: used,
                strip: i,
                w0,
                nw: take,
            });
            cursor = Some((x, cw, used + take));
            load[x as usize] += take;
            rem -= take;
            w0 += take;
        }
    }
    (pieces, load.len() as u32)
}

/// SME mapping of one slice: squeeze (done by the caller), pack into as few
/// crossbars as possible, then group: spread the windows evenly over those
/// crossbars (longest op list ceil(windows / crossbars)) when that still
/// fits them.
fn map_sme(cfg: &TileConfig, s: &Slice, strips: Vec<Strip>) -> Vec<Crossbar> {
    if strips.is_empty() {
        return Vec::new();
    }
    let p = &cfg.params;
    let m = p.ou_rows as usize;
    // A crossbar holds at most its whole row windows, and runs at most
    // `ops` ops (the op-memory depth).
    let cap = (p.rows / p.ou_rows * cfg.derived.col_windows).min(p.ops);
    let (mut pieces, n) = fill(cfg, &strips, cap);
    let windows: u32 = pieces.iter().map(|pc| pc.nw).sum();
    let balanced = windows.div_ceil(n);
    if balanced < cap {
        let (bp, bn) = fill(cfg, &strips, balanced);
        if bn <= n {
            pieces = bp;
        }
    }
    let mut xbars: Vec<Crossbar> = (0..n).map(|_| s.crossbar(cfg)).collect();
    pieces.sort_unstable();
    for pc in pieces {
        let st = &strips[pc.strip];
        let lo = pc.w0 as usize * m;
        let hi = ((pc.w0 + pc.nw) as usize * m).min(st.rows.len());
        let part = Strip {
            rows: st.rows[lo..hi].to_vec(),
            ..st.clone()
        };
        let xb = &mut xbars[pc.xbar as usize];
        place_cells(cfg, s, &part, xb, pc.rw0 * p.ou_rows, pc.cw * p.ou_cols);
        strip_ops(cfg, &part, pc.rw0, pc.cw, &mut xb.ops);
    }
    debug_assert!(xbars.iter().all(|x| x.ops.len() <= p.ops as usize));
    xbars
}

/// Squeeze a slice once: its squeezed window count (for the packing
/// bound), its SRE-style crossbars and its SME crossbars.
fn squeezed(cfg: &TileConfig, s: &Slice) -> (u64, Vec<Crossbar>, Vec<Crossbar>) {
    let strips = squeeze(cfg, s);
    let windows = squeezed_windows(cfg, &strips);
    let sre = map_sre(cfg, s, &strips);
    let sme = sme_or_sre(cfg, s, strips, &sre);
    (windows, sre, sme)
}

/// Map a weight matrix (integers in [-(2^M-1), 2^M-1]) with `mapper`.
/// The result validates against `cfg` and executes (golden, lossless ADC) to
/// exactly x W.
pub fn map_matrix(cfg: &TileConfig, w: &WeightMatrix, mapper: Mapper) -> LayerProgram {
    map_matrix_with(cfg, w, mapper, Objective::Crossbars)
}

/// [`map_matrix`] with an explicit [`Objective`].
pub(crate) fn map_matrix_with(
    cfg: &TileConfig,
    w: &WeightMatrix,
    mapper: Mapper,
    objective: Objective,
) -> LayerProgram {
    let mut tiles = Vec::new();
    for_each_slice(cfg, w, objective, |s| {
        let xbars = match mapper {
            Mapper::Dense => map_dense(cfg, &s),
            Mapper::Sre => map_sre(cfg, &s, &squeeze(cfg, &s)),
            Mapper::Sme => squeezed(cfg, &s).2,
        };
        push_tiles(cfg, &mut tiles, &s, xbars);
    });
    LayerProgram {
        rows: w.rows,
        cols: w.cols,
        tiles,
    }
}

/// All three mappings and the bounds of one matrix, squeezing every slice
/// once (the dense mapping runs on a second thread). Equal to calling
/// [`map_matrix`] for each mapper and [`bounds`].
pub fn map_all(cfg: &TileConfig, w: &WeightMatrix) -> (PerMapper<LayerProgram>, Bounds) {
    map_all_with(cfg, w, Objective::Crossbars)
}

/// [`map_all`] with an explicit [`Objective`].
pub fn map_all_with(
    cfg: &TileConfig,
    w: &WeightMatrix,
    objective: Objective,
) -> (PerMapper<LayerProgram>, Bounds) {
    std::thread::scope(|scope| {
        let dense = scope.spawn(|| map_matrix_with(cfg, w, Mapper::Dense, objective));
        let (mut sre_tiles, mut sme_tiles) = (Vec::new(), Vec::new());
        let mut windows = 0;
        for_each_slice(cfg, w, objective, |s| {
            let (w, sre, sme) = squeezed(cfg, &s);
            windows += w;
            push_tiles(cfg, &mut sre_tiles, &s, sre);
            push_tiles(cfg, &mut sme_tiles, &s, sme);
        });
        let b = finish_bounds(cfg, w, windows);
        let lp = |tiles| LayerProgram {
            rows: w.rows,
            cols: w.cols,
            tiles,
        };
        (
            PerMapper([
                dense.join().expect("dense mapping thread"),
                lp(sre_tiles),
                lp(sme_tiles),
            ]),
            b,
        )
    })
}

/// What the cost model needs of all three mappings of a matrix, and its
/// bounds, without keeping any program: slices are mapped in parallel
/// (rayon) without cells, counted ([`LayerStats`]) and dropped, so memory
/// stays at a few slices' op lists whatever the layer size. Equal to
/// counting the programs of [`map_all`] (a property test checks it).
pub fn map_all_stats(cfg: &TileConfig, w: &WeightMatrix) -> (PerMapper<LayerStats>, Bounds) {
    map_all_stats_with(cfg, w, Objective::Crossbars)
}

/// [`map_all_stats`] with an explicit [`Objective`].
pub fn map_all_stats_with(
    cfg: &TileConfig,
    w: &WeightMatrix,
    objective: Objective,
) -> (PerMapper<LayerStats>, Bounds) {
    use rayon::prelude::*;
    let (stats, windows) = slices(cfg, w, false, objective)
        .into_par_iter()
        .map(|s| {
            let count = |xbars: Vec<Crossbar>| {
                let mut st = LayerStats::default();
                for tile in tiles_of(cfg, &s, xbars) {
                    st.add_tile(cfg, &TileProgram { xbars: tile });
                }
                st
            };
            let (windows, sre, sme) = squeezed(cfg, &s);
            let stats = PerMapper([dense_slice_stats(cfg, &s), count(sre), count(sme)]);
            (stats, windows)
        })
        .reduce(
            || (PerMapper::default(), 0),
            |(a, wa), (b, wb)| (PerMapper::from_fn(|m| a[m].merge(b[m])), wa + wb),
        );
    (stats, finish_bounds(cfg, w, windows))
}

/// The [`LayerStats`] of the dense mapping of a slice, from its geometry
/// alone: the op lists [`map_dense`] builds (every OU window of every
/// logical crossbar, spilled into crossbars of at most `ops` ops, grouped N
/// at a time into tiles), counted without building them. The property test
/// that compares [`map_all_stats`] with the programs of [`map_all`] keeps the
/// two equal.
fn dense_slice_stats(cfg: &TileConfig, s: &Slice) -> LayerStats {
    let p = &cfg.params;
    let (xr, xc, m, g) = (
        p.rows as usize,
        p.cols as usize,
        p.ou_rows as usize,
        p.ou_cols as usize,
    );
    let (cap, n) = (p.ops as usize, p.xbars as usize);
    // Per physical crossbar, its ops as (valid outputs, valid inputs), in
    // the order map_dense emits them, spilled at the op-memory depth.
    let mut xbars: Vec<Vec<(u32, u32)>> = Vec::new();
    for rb in 0..s.nr.div_ceil(xr) {
        let brows = (s.nr - rb * xr).min(xr);
        for cb in 0..s.nc.div_ceil(xc) {
            let bcols = (s.nc - cb * xc).min(xc);
            let ops: Vec<(u32, u32)> = (0..brows.div_ceil(m))
                .flat_map(|rw| {
                    let drives = (brows - rw * m).min(m) as u32;
                    (0..bcols.div_ceil(g)).map(move |cw| ((bcols - cw * g).min(g) as u32, drives))
                })
                .collect();
            for _ in 0..cfg.derived.slices * 2 {
                if ops.len() <= cap {
                    xbars.push(ops.clone());
                } else {
                    xbars.extend(ops.chunks(cap).map(<[_]>::to_vec));
                }
            }
        }
    }
    let steps = cfg.derived.steps as u64;
    let latency = cfg.derived.latency as u64;
    let mut st = LayerStats::default();
    for tile in xbars.chunks(n) {
        // The same contiguous split as tiles_of/split_cap.
        let pieces: Vec<&[(u32, u32)]> = match s.objective {
            Objective::Crossbars => tile.iter().map(Vec::as_slice).collect(),
            Objective::Balanced => {
                let lens: Vec<usize> = tile.iter().map(Vec::len).collect();
                let t = balanced_cap(&lens, n);
                tile.iter()
                    .flat_map(|x| {
                        if x.len() <= t {
                            vec![x.as_slice()]
                        } else {
                            x.chunks(t).collect()
                        }
                    })
                    .collect()
            }
        };
        let max_ops = pieces.iter().map(|x| x.len() as u64).max().unwrap_or(0);
        st = st.merge(LayerStats {
            tiles: 1,
            xbars: pieces.len() as u64,
            ops: pieces.iter().map(|x| x.len() as u64).sum(),
            conversions: pieces
                .iter()
                .flat_map(|x| x.iter())
                .map(|o| o.0 as u64)
                .sum(),
            drives: pieces
                .iter()
                .flat_map(|x| x.iter())
                .map(|o| o.1 as u64)
                .sum(),
            makespan: max_ops,
            cycles_per_vector: steps * max_ops + latency,
        });
    }
    st
}

/// The [`LayerStats`] of the dense mapping of a whole matrix (equal to
/// counting [`map_matrix`]`(.., Mapper::Dense)`).
pub(crate) fn dense_stats(cfg: &TileConfig, w: &WeightMatrix, objective: Objective) -> LayerStats {
    slices(cfg, w, false, objective)
        .iter()
        .map(|s| dense_slice_stats(cfg, s))
        .fold(LayerStats::default(), LayerStats::merge)
}

/// The longest op list of a balanced tile whose crossbars hold `lens` ops:
/// the smallest `t` at which splitting every list into contiguous pieces of
/// at most `t` ops needs at most `n` crossbars. Never more than the
/// longest list (at that `t` nothing is split).
fn balanced_cap(lens: &[usize], n: usize) -> usize {
    let total: usize = lens.iter().sum();
    let longest = lens.iter().copied().max().unwrap_or(0);
    let mut t = total.div_ceil(n.max(1)).max(1);
    while t < longest && lens.iter().map(|l| l.div_ceil(t)).sum::<usize>() > n {
        t += 1;
    }
    t.max(1)
}

/// Group a slice's crossbars N at a time into tiles, in order; under
/// [`Objective::Balanced`] each tile's op lists are then split over all N
/// crossbars of the tile ([`balanced_cap`]).
fn tiles_of(cfg: &TileConfig, s: &Slice, xbars: Vec<Crossbar>) -> Vec<Vec<Crossbar>> {
    let n = cfg.params.xbars as usize;
    let mut tiles = Vec::new();
    let mut it = xbars.into_iter().peekable();
    while it.peek().is_some() {
        let chunk: Vec<Crossbar> = it.by_ref().take(n).collect();
        tiles.push(match s.objective {
            Objective::Crossbars => chunk,
            Objective::Balanced => {
                let lens: Vec<usize> = chunk.iter().map(|x| x.ops.len()).collect();
                split_cap(cfg, chunk, balanced_cap(&lens, n))
            }
        });
    }
    tiles
}

/// Group a slice's crossbars into tiles ([`tiles_of`]) with the slice's
/// input and output maps.
fn push_tiles(cfg: &TileConfig, tiles: &mut Vec<MappedTile>, s: &Slice, xbars: Vec<Crossbar>) {
    let input_map: Vec<u32> = (s.r0..s.r0 + s.nr).map(|r| r as u32).collect();
    let output_map: Vec<u32> = (s.c0..s.c0 + s.nc).map(|c| c as u32).collect();
    for chunk in tiles_of(cfg, s, xbars) {
        tiles.push(MappedTile {
            program: TileProgram { xbars: chunk },
            input_map: input_map.clone(),
            output_map: output_map.clone(),
        });
    }
}

/// Crossbars a mapping allocates: dense counts every logical crossbar, the
/// others every crossbar holding a non-zero cell.
pub fn crossbars(lp: &LayerProgram) -> u64 {
    lp.tiles.iter().map(|t| t.program.xbars.len() as u64).sum()
}
