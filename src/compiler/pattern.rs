//! Bit-sparse pattern sets and the projection onto them (DESIGN section 4
//! step 2).
//!
//! A pattern restricts which magnitude bits a weight may use (the sign is
//! always free). Projection returns the nearest allowed value:
//!
//! - [`Pattern::Dense`]: any magnitude in `[0, 2^M - 1]`.
//! - [`Pattern::KHot`]: each magnitude has at most `k` one bits.
//! - [`Pattern::Group`]: the matrix is cut into aligned `m x g` windows
//!   (rows `[a*m, a*m + m)` x columns `[b*g, b*g + g)`, edge windows
//!   smaller); all magnitudes of one window use bits from one shared set `S`
//!   of at most `k` of the M positions.
//!
//! Tie rules (deterministic): a value exactly between two allowed magnitudes
//! goes to the smaller one. For groups only bit sets of exactly `min(k, M)`
//! positions are searched (a superset never has a larger error, so the
//! minimum window error over all sets of size `<= k` is attained there);
//! among those with equal window error the one with the smallest bit mask
//! (as an unsigned integer, bit `b` = position `b`) wins.

use crate::compiler::quant::{max_magnitude, scale_of};
use crate::program::WeightMatrix;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// Largest magnitude width M the projections accept (lookup tables have
/// `2^M` entries).
pub(crate) const MAX_PATTERN_MAG_BITS: u32 = 15;

/// The kind of a bit-sparse pattern, as named on the command line and in
/// files (`khot`, `group`, `none`).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum PatternKind {
    /// At most k non-zero magnitude bits per weight.
    Khot,
    /// Every m x g window shares one set of at most k bit positions.
    Group,
    /// No bit-sparse constraint (plain quantization).
    #[value(alias = "dense")]
    #[serde(alias = "dense")]
    None,
}

impl PatternKind {
    /// The pattern of this kind with `k` bits and (for group) `m x g`
    /// windows.
    pub fn with(self, k: u32, m: u32, g: u32) -> Pattern {
        match self {
            PatternKind::Khot => Pattern::KHot { k },
            PatternKind::Group => Pattern::Group { k, m, g },
            PatternKind::None => Pattern::Dense,
        }
    }

    /// Lower-case name (`khot`, `group`, `none`).
    pub fn name(self) -> &'static str {
        match self {
            PatternKind::Khot => "khot",
            PatternKind::Group => "group",
            PatternKind::None => "none",
        }
    }
}

impl std::fmt::Display for PatternKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A bit-sparse pattern set.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pattern {
    /// No constraint beyond the magnitude range.
    Dense,
    /// At most `k` non-zero magnitude bits per weight (`k = 1`: powers of two).
    KHot {
        /// Maximum one bits per magnitude.
        k: u32,
    },
    /// Every aligned `m x g` window shares one set of at most `k` bit
    /// positions.
    Group {
        /// Maximum bit positions per window.
        k: u32,
        /// Window rows (matrix rows = inputs).
        m: u32,
        /// Window columns (matrix columns = outputs).
        g: u32,
    },
}

impl Pattern {
    /// The kind of this pattern.
    pub fn kind(&self) -> PatternKind {
        match self {
            Pattern::Dense => PatternKind::None,
            Pattern::KHot { .. } => PatternKind::Khot,
            Pattern::Group { .. } => PatternKind::Group,
        }
    }

    /// Panics unless the pattern's window is non-empty.
    fn check(&self) {
        if let Pattern::Group { m, g, .. } = *self {
            assert!(
                m > 0 && g > 0,
                "group pattern needs m, g > 0 (got {m} x {g})"
            );
        }
    }
}

fn check_bits(mag_bits: u32) {
    assert!(
        (1..=MAX_PATTERN_MAG_BITS).contains(&mag_bits),
        "mag_bits {mag_bits} not in 1..={MAX_PATTERN_MAG_BITS}"
    );
}

// ---------------------------------------------------------------------------
// Bit-set arithmetic: the magnitudes representable with bits in S are
// exactly the submasks of S, ordered like integers.

/// Largest submask of `s` that is `<= v`.
#[inline]
fn floor_sub(s: u32, v: u32) -> u32 {
    let d = v & !s;
    if d == 0 {
        return v;
    }
    // Highest bit h where v has a one that S lacks: keep v above h, clear
    // bit h, and fill every S bit below h.
    let h = 31 - d.leading_zeros();
    let above = v & !(((2u64 << h) - 1) as u32);
    above | (s & ((1u32 << h) - 1))
}

/// Smallest submask of `s` greater than the submask `f`, if any.
#[inline]
fn next_sub(s: u32, f: u32) -> Option<u32> {
    if f == s {
        None
    } else {
        Some((f | !s).wrapping_add(1) & s)
    }
}

/// Nearest submask of `s` to the integer `v` (ties: the smaller).
#[inline]
fn nearest_int_sub(s: u32, v: u32) -> u32 {
    let f = floor_sub(s, v);
    if f == v {
        return v;
    }
    match next_sub(s, f) {
        Some(c) if c - v < v - f => c,
        _ => f,
    }
}

/// Nearest submask of `s` to the real `x` in `[0, 2^31)` (ties: the smaller).
#[inline]
#[cfg_attr(not(feature = "train"), allow(dead_code))] // used by the `train` feature
fn nearest_real_sub(s: u32, x: f64) -> u32 {
    let fl = x as u32; // floor for x >= 0
    let f = floor_sub(s, fl);
    if f == fl && x == fl as f64 {
        return f;
    }
    match next_sub(s, f) {
        Some(c) if (c as f64 - x) < (x - f as f64) => c,
        _ => f,
    }
}

/// All bit sets of exactly `min(k, M)` positions, ascending.
fn group_candidates(k: u32, mag_bits: u32) -> Vec<u32> {
    let kk = k.min(mag_bits);
    (0..=max_magnitude(mag_bits))
        .filter(|s| s.count_ones() == kk)
        .collect()
}

// ---------------------------------------------------------------------------
// k-hot lookup tables, built once per (k, M).

/// For every integer magnitude v in `[0, 2^M - 1]`: the largest allowed
/// magnitude `<= v`, the smallest allowed `>= v` (`NONE` if there is none)
/// and the nearest allowed (ties: smaller).
struct KHotTable {
    floor: Vec<u16>,
    ceil: Vec<u16>,
    nearest: Vec<u16>,
}

const NONE: u16 = u16::MAX;

impl KHotTable {
    fn build(k: u32, mag_bits: u32) -> KHotTable {
        let size = 1usize << mag_bits;
        let ok = |v: usize| (v as u32).count_ones() <= k;
        let mut floor = vec![0u16; size];
        let mut last = 0u16; // 0 is always allowed
        for (v, f) in floor.iter_mut().enumerate() {
            if ok(v) {
                last = v as u16;
            }
            *f = last;
        }
        let mut ceil = vec![NONE; size];
        let mut next = NONE;
        for v in (0..size).rev() {
            if ok(v) {
                next = v as u16;
            }
            ceil[v] = next;
        }
        let nearest = (0..size)
            .map(|v| {
                let (f, c) = (floor[v], ceil[v]);
                if c != NONE && (c as usize - v) < (v - f as usize) {
                    c
                } else {
                    f
                }
            })
            .collect();
        KHotTable {
            floor,
            ceil,
            nearest,
        }
    }

    /// The cached table for (k, M); `k` is capped at M.
    fn get(k: u32, mag_bits: u32) -> Arc<KHotTable> {
        /// Tables by (k, M).
        type Tables = Mutex<HashMap<(u32, u32), Arc<KHotTable>>>;
        static CACHE: OnceLock<Tables> = OnceLock::new();
        let key = (k.min(mag_bits), mag_bits);
        let mut cache = CACHE
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        cache
            .entry(key)
            .or_insert_with(|| Arc::new(KHotTable::build(key.0, key.1)))
            .clone()
    }

    /// Nearest allowed magnitude to the real `x` in `[0, 2^M - 1]`.
    #[inline]
    #[cfg_attr(not(feature = "train"), allow(dead_code))] // used by the `train` feature
    fn nearest_real(&self, x: f64) -> u32 {
        let fl = x as usize;
        if x == fl as f64 {
            return self.nearest[fl] as u32;
        }
        let lo = self.floor[fl];
        let hi = self.ceil.get(fl + 1).copied().unwrap_or(NONE);
        if hi != NONE && (hi as f64 - x) < (x - lo as f64) {
            hi as u32
        } else {
            lo as u32
        }
    }
}

/// Applies `f` to each aligned `m x g` window: `f(row_range, col_range)`.
fn for_each_window(
    rows: usize,
    cols: usize,
    m: u32,
    g: u32,
    mut f: impl FnMut(std::ops::Range<usize>, std::ops::Range<usize>),
) {
    let (m, g) = (m as usize, g as usize);
    for r0 in (0..rows).step_by(m) {
        for c0 in (0..cols).step_by(g) {
            f(r0..(r0 + m).min(rows), c0..(c0 + g).min(cols));
        }
    }
}

#[inline]
fn with_sign(neg: bool, mag: u32) -> i32 {
    // mag <= 2^15 - 1, so the cast is exact.
    if neg { -(mag as i32) } else { mag as i32 }
}

// ---------------------------------------------------------------------------
// Integer domain.

/// Projects integer weights onto the pattern set: every weight becomes the
/// nearest allowed integer (sign kept; magnitudes above `2^M - 1` are
/// allowed in the input and measured against their true value). For [`Pattern::Group`] each window takes the bit set minimizing
/// its sum of squared errors. Panics unless `mag_bits` is in `1..=15` and a
/// group window is non-empty.
pub(crate) fn project_int(p: &Pattern, w: &WeightMatrix, mag_bits: u32) -> WeightMatrix {
    check_bits(mag_bits);
    p.check();
    assert_eq!(
        w.data.len(),
        w.rows * w.cols,
        "project_int: malformed matrix"
    );
    let max = max_magnitude(mag_bits);
    let k = match *p {
        Pattern::Dense => mag_bits,
        Pattern::KHot { k } => k,
        Pattern::Group { k, m, g } => return project_int_group(w, k, m, g, mag_bits),
    };
    let t = KHotTable::get(k, mag_bits);
    use rayon::prelude::*;
    let data = w
        .data
        .par_iter()
        .map(|&v| with_sign(v < 0, t.nearest[v.unsigned_abs().min(max) as usize] as u32))
        .collect();
    WeightMatrix {
        rows: w.rows,
        cols: w.cols,
        data,
    }
}

fn project_int_group(w: &WeightMatrix, k: u32, m: u32, g: u32, mag_bits: u32) -> WeightMatrix {
    let max = max_magnitude(mag_bits);
    let kk = k.min(mag_bits);
    let cands = group_candidates(k, mag_bits);
    let cols = w.cols;
    let mut out = w.clone();
    // Per-window histogram of magnitudes (reused; cleared via `pairs`).
    let mut counts = vec![0u32; max as usize + 1];
    let mut pairs: Vec<(u32, u32)> = Vec::with_capacity((m as usize) * (g as usize));
    let mut over: Vec<u32> = Vec::new();
    for_each_window(w.rows, cols, m, g, |rr, cc| {
        let mut or = 0u32;
        for r in rr.clone() {
            for &v in &w.data[r * cols + cc.start..r * cols + cc.end] {
                or |= v.unsigned_abs();
            }
        }
        if or <= max && or.count_ones() <= kk {
            return; // already allowed: the projection is the identity
        }
        pairs.clear();
        over.clear();
        for r in rr.clone() {
            for &v in &w.data[r * cols + cc.start..r * cols + cc.end] {
                let a = v.unsigned_abs();
                if a > max {
                    over.push(a);
                } else {
                    if counts[a as usize] == 0 {
                        pairs.push((a, 0));
                    }
                    counts[a as usize] += 1;
                }
            }
        }
        for pr in pairs.iter_mut() {
            pr.1 = std::mem::take(&mut counts[pr.0 as usize]);
        }
        pairs.extend(over.iter().map(|&a| (a, 1)));
        // Largest magnitudes first: they decide most of the error, so the
        // early exit below triggers sooner.
        pairs.sort_unstable_by_key(|x| std::cmp::Reverse(x.0));
        let window_err = |s: u32, bound: u128, s_bound: u32| -> u128 {
            let mut err = 0u128;
            for &(a, cnt) in pairs.iter() {
                let d = a.abs_diff(nearest_int_sub(s, a)) as u64;
                err += cnt as u128 * (d * d) as u128;
                // Partial sums only grow: stop once `s` cannot win.
                if err > bound || (err == bound && s > s_bound) {
                    break;
                }
            }
            err
        };
        let s = best_set(guess_set(or, kk, max), &cands, u128::MAX, window_err);
        for r in rr {
            for i in r * cols + cc.start..r * cols + cc.end {
                let v = w.data[i];
                out.data[i] = with_sign(v < 0, nearest_int_sub(s, v.unsigned_abs()));
            }
        }
    });
    out
}

// ---------------------------------------------------------------------------
// Real domain.

/// Projects real weights onto the pattern set scaled per column: allowed
/// values are `scale_c * n` for an allowed integer `n`; each weight becomes
/// the nearest allowed real (computed from `|w| / scale` directly, not by
/// rounding first; ties go to the smaller magnitude). For
/// [`Pattern::Group`] each window takes the bit set minimizing its sum of
/// squared real errors. `w` is row-major `rows x cols`; `scales` has 1 or
/// `cols` positive finite entries. NaN weights project to 0. Panics on
/// malformed input or `mag_bits` outside `1..=15`.
#[cfg_attr(not(feature = "train"), allow(dead_code))] // used by the `train` feature
pub(crate) fn project_real(
    p: &Pattern,
    w: &[f32],
    rows: usize,
    cols: usize,
    scales: &[f32],
    mag_bits: u32,
) -> Vec<f32> {
    check_bits(mag_bits);
    p.check();
    assert_eq!(
        w.len(),
        rows * cols,
        "project_real: {} values for {rows} x {cols}",
        w.len()
    );
    assert!(
        scales.len() == 1 || scales.len() == cols,
        "project_real: {} scales for {cols} columns",
        scales.len()
    );
    assert!(
        scales.iter().all(|&s| s > 0.0 && s.is_finite()),
        "project_real: scales must be positive and finite"
    );
    let max = max_magnitude(mag_bits) as f64;
    // |w| / scale clamped to the magnitude range; the nearest allowed value
    // of an out-of-range x is the nearest to the clamped x.
    let scaled = |v: f32, s: f32| -> f64 {
        let a = v.abs() as f64;
        if a.is_nan() {
            0.0
        } else {
            (a / s as f64).min(max)
        }
    };
    let out_val = |v: f32, s: f32, n: u32| -> f32 {
        let r = s * n as f32;
        if v < 0.0 { -r } else { r }
    };
    let k = match *p {
        Pattern::Dense => mag_bits,
        Pattern::KHot { k } => k,
        Pattern::Group { k, m, g } => {
            return project_real_group(w, rows, cols, scales, k, m, g, mag_bits);
        }
    };
    let t = KHotTable::get(k, mag_bits);
    w.iter()
        .enumerate()
        .map(|(i, &v)| {
            let s = scale_of(scales, i % cols.max(1));
            out_val(v, s, t.nearest_real(scaled(v, s)))
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
#[cfg_attr(not(feature = "train"), allow(dead_code))] // used by the `train` feature
fn project_real_group(
    w: &[f32],
    rows: usize,
    cols: usize,
    scales: &[f32],
    k: u32,
    m: u32,
    g: u32,
    mag_bits: u32,
) -> Vec<f32> {
    let maxi = max_magnitude(mag_bits);
    let max = maxi as f64;
    let kk = k.min(mag_bits);
    let cands = group_candidates(k, mag_bits);
    let mut out = vec![0.0f32; w.len()];
    // Per weight of the window: (|w|, clamped |w|/scale, scale, index).
    let mut buf: Vec<(f64, f64, f64, usize)> = Vec::with_capacity((m as usize) * (g as usize));
    for_each_window(rows, cols, m, g, |rr, cc| {
        buf.clear();
        let mut or = 0u32;
        for r in rr.clone() {
            for c in cc.clone() {
                let s = scale_of(scales, c) as f64;
                let a = w[r * cols + c].abs() as f64;
                let a = if a.is_nan() { 0.0 } else { a };
                let x = (a / s).min(max);
                or |= (x + 0.5) as u32;
                buf.push((a, x, s, r * cols + c));
            }
        }
        // Largest weights first, so that bad sets are pruned early.
        buf.sort_unstable_by(|p, q| q.0.total_cmp(&p.0));
        let window_err = |s: u32, bound: f64, s_bound: u32| -> f64 {
            let mut err = 0.0f64;
            for &(a, x, sc, _) in buf.iter() {
                let d = a - sc * nearest_real_sub(s, x) as f64;
                err += d * d;
                // Partial sums only grow: stop once `s` cannot win.
                if err > bound || (err == bound && s > s_bound) {
                    break;
                }
            }
            err
        };
        let s = best_set(guess_set(or, kk, maxi), &cands, f64::INFINITY, window_err);
        for &(_, x, sc, i) in buf.iter() {
            let val = sc as f32 * nearest_real_sub(s, x) as f32;
            out[i] = if w[i] < 0.0 { -val } else { val };
        }
    });
    out
}

/// The bit set of lowest window error among `g0` and `cands`. `g0` (a good
/// guess) is scored first to tighten the bound; `err(s, bound, s_bound)` may
/// stop early once `s` cannot beat (`bound`, `s_bound`). Ties go to the
/// smallest mask, as in an ascending scan. `worst` is the error type's
/// largest value.
fn best_set<E: PartialOrd + Copy>(
    g0: u32,
    cands: &[u32],
    worst: E,
    err: impl Fn(u32, E, u32) -> E,
) -> u32 {
    let mut best = (err(g0, worst, u32::MAX), g0);
    for &s in cands {
        if s == g0 {
            continue;
        }
        let e = err(s, best.0, best.1);
        if e < best.0 || (e == best.0 && s < best.1) {
            best = (e, s);
        }
    }
    best.1
}

/// A set of exactly `kk` positions within `max`: the highest bits of `or`,
/// padded with the highest remaining positions.
fn guess_set(or: u32, kk: u32, max: u32) -> u32 {
    let mut s = 0u32;
    for src in [or & max, max] {
        let mut rest = src & !s;
        while s.count_ones() < kk && rest != 0 {
            let top = 1u32 << (31 - rest.leading_zeros());
            s |= top;
            rest &= !top;
        }
    }
    s
}

// ---------------------------------------------------------------------------
// Checks and statistics.

/// True when every magnitude is at most `2^M - 1` and the matrix satisfies
/// the pattern. Accepts `mag_bits` in `0..=31`; panics on an empty group
/// window.
pub fn in_pattern(p: &Pattern, w: &WeightMatrix, mag_bits: u32) -> bool {
    p.check();
    let max = max_magnitude(mag_bits);
    if w.data.iter().any(|v| v.unsigned_abs() > max) {
        return false;
    }
    match *p {
        Pattern::Dense => true,
        Pattern::KHot { k } => w.data.iter().all(|v| v.unsigned_abs().count_ones() <= k),
        Pattern::Group { k, m, g } => {
            let mut ok = true;
            for_each_window(w.rows, w.cols, m, g, |rr, cc| {
                if !ok {
                    return;
                }
                let mut or = 0u32;
                for r in rr {
                    for &v in &w.data[r * w.cols + cc.start..r * w.cols + cc.end] {
                        or |= v.unsigned_abs();
                    }
                }
                ok = or.count_ones() <= k;
            });
            ok
        }
    }
}

/// Share of zero bits among the M magnitude bits of all weights (bits above
/// M are ignored); 0.0 for an empty matrix. Accepts `mag_bits` in `0..=31`.
pub fn zero_bit_fraction(w: &WeightMatrix, mag_bits: u32) -> f64 {
    let total = w.data.len() as u64 * mag_bits as u64;
    if total == 0 {
        return 0.0;
    }
    let mask = max_magnitude(mag_bits);
    let ones: u64 = w
        .data
        .iter()
        .map(|v| (v.unsigned_abs() & mask).count_ones() as u64)
        .sum();
    (total - ones) as f64 / total as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn wm(rows: usize, cols: usize, data: Vec<i32>) -> WeightMatrix {
        WeightMatrix { rows, cols, data }
    }

    // ---- independent brute-force references ----

    /// Nearest value (ties: smaller) among `allowed`, sorted ascending.
    fn brute_nearest_int(allowed: &[u32], v: u32) -> u32 {
        let mut best = allowed[0];
        for &a in allowed {
            if a.abs_diff(v) < best.abs_diff(v) {
                best = a;
            }
        }
        best
    }

    fn brute_khot_allowed(k: u32, mb: u32) -> Vec<u32> {
        (0..=max_magnitude(mb))
            .filter(|v| v.count_ones() <= k)
            .collect()
    }

    fn brute_submasks(s: u32) -> Vec<u32> {
        (0..=s).filter(|v| v & !s == 0).collect()
    }

    /// Minimal window squared error over every bit set of size <= k.
    fn brute_window_min_err(vals: &[u32], k: u32, mb: u32) -> u128 {
        let mut best = u128::MAX;
        for s in 0..=max_magnitude(mb) {
            if s.count_ones() > k {
                continue;
            }
            let allowed = brute_submasks(s);
            let e: u128 = vals
                .iter()
                .map(|&v| {
                    let d = v.abs_diff(brute_nearest_int(&allowed, v)) as u128;
                    d * d
                })
                .sum();
            best = best.min(e);
        }
        best
    }

    fn windows(rows: usize, cols: usize, m: u32, g: u32) -> Vec<Vec<usize>> {
        let mut out = vec![];
        for_each_window(rows, cols, m, g, |rr, cc| {
            let mut idx = vec![];
            for r in rr {
                for c in cc.clone() {
                    idx.push(r * cols + c);
                }
            }
            out.push(idx);
        });
        out
    }

    // ---- unit tests ----

    #[test]
    fn bit_helpers_match_brute_force() {
        for s in 0u32..64 {
            let subs = brute_submasks(s);
            for v in 0u32..80 {
                let fl = *subs.iter().filter(|&&a| a <= v).max().unwrap();
                assert_eq!(floor_sub(s, v), fl, "floor s={s} v={v}");
                assert_eq!(
                    nearest_int_sub(s, v),
                    brute_nearest_int(&subs, v),
                    "s={s} v={v}"
                );
            }
            for (i, &f) in subs.iter().enumerate() {
                assert_eq!(next_sub(s, f), subs.get(i + 1).copied());
            }
        }
    }

    #[test]
    fn khot_examples() {
        // M = 3, k = 1: allowed {0, 1, 2, 4}; 3 ties between 2 and 4 -> 2.
        let w = wm(1, 8, vec![0, 1, 2, 3, -3, 5, 6, -7]);
        let p = project_int(&Pattern::KHot { k: 1 }, &w, 3);
        assert_eq!(p.data, vec![0, 1, 2, 2, -2, 4, 4, -4]);
        // k = 0: everything is zero.
        let p = project_int(&Pattern::KHot { k: 0 }, &w, 3);
        assert!(p.data.iter().all(|&v| v == 0));
        // Out of range magnitudes clamp towards the largest allowed value.
        let w = wm(1, 3, vec![100, -9, 8]);
        assert_eq!(
            project_int(&Pattern::KHot { k: 2 }, &w, 3).data,
            vec![6, -6, 6]
        );
        assert_eq!(project_int(&Pattern::Dense, &w, 3).data, vec![7, -7, 7]);
        assert_eq!(
            project_int(&Pattern::Dense, &wm(1, 1, vec![i32::MIN]), 15).data,
            vec![-32767]
        );
    }

    #[test]
    fn group_example() {
        // One 2x2 window, M = 3, k = 1: values 3, 3, 4, 1.
        // S = {1} (2): errors 1+1+4+1 = 7; S = {2} (4): 1+1+0+1 = 3;
        // S = {0} (1): 4+4+9+0 = 17. Best is {2}: 3 -> 4, 1 -> 0.
        let w = wm(2, 2, vec![3, -3, 4, 1]);
        let p = project_int(&Pattern::Group { k: 1, m: 2, g: 2 }, &w, 3);
        assert_eq!(p.data, vec![4, -4, 4, 0]);
        // Separate windows (m = 1) project independently.
        let p = project_int(&Pattern::Group { k: 1, m: 1, g: 2 }, &w, 3);
        assert_eq!(p.data, vec![2, -2, 4, 0]); // {3,3}: S={0}:8, {1}:2, {2}:2 -> {1}
    }

    #[test]
    fn group_tie_takes_smallest_mask() {
        // A lone 3 with k = 1: S = {0} -> 1 (err 4), {1} -> 2 (err 1),
        // {2} -> 4 (err 1): masks 2 and 4 tie, 2 wins.
        let w = wm(1, 1, vec![3]);
        assert_eq!(
            project_int(&Pattern::Group { k: 1, m: 4, g: 4 }, &w, 3).data,
            vec![2]
        );
        assert_eq!(
            project_real(
                &Pattern::Group { k: 1, m: 4, g: 4 },
                &[3.0],
                1,
                1,
                &[1.0],
                3
            ),
            vec![2.0]
        );
    }

    #[test]
    fn group_tie_beats_first_guess() {
        // M = 3, k = 1, window {2, 4}: the first guess is the top bit of the
        // OR, {2} (errors 4 + 0: 2 ties between 0 and 4 -> 0), but {1}
        // (errors 0 + 4) ties and has the smaller mask -> {2, 2}.
        let p = Pattern::Group { k: 1, m: 1, g: 2 };
        assert_eq!(project_int(&p, &wm(1, 2, vec![2, -4]), 3).data, vec![2, -2]);
        assert_eq!(
            project_real(&p, &[1.0, -2.0], 1, 2, &[0.5], 3),
            vec![1.0, -1.0]
        );
        // Window {3, 5}: {0}: 4 + 16, {1}: 1 + 9, {2}: 1 + 1 -> {2}.
        assert_eq!(project_int(&p, &wm(1, 2, vec![3, 5]), 3).data, vec![4, 4]);
    }

    #[test]
    fn real_is_not_round_then_project() {
        // M = 3, k = 1: allowed {0, 1, 2, 4}. 3.4 rounds to 3 (-> 2), but the
        // nearest allowed real is 4.
        let p = Pattern::KHot { k: 1 };
        assert_eq!(
            project_real(&p, &[3.4, -3.4, 3.0, 2.9], 1, 4, &[1.0], 3),
            vec![4.0, -4.0, 2.0, 2.0]
        );
        let p = Pattern::Group { k: 1, m: 1, g: 1 };
        assert_eq!(
            project_real(&p, &[3.4, -3.4, 3.0, 2.9], 4, 1, &[1.0], 3),
            vec![4.0, -4.0, 2.0, 2.0]
        );
        // Per-channel scales.
        let out = project_real(
            &Pattern::KHot { k: 1 },
            &[0.34, 34.0],
            1,
            2,
            &[0.1, 10.0],
            3,
        );
        assert_eq!(out, vec![0.4, 40.0]);
        // Out of range and NaN.
        let out = project_real(&Pattern::Dense, &[1e9, -1e9, f32::NAN], 1, 3, &[1.0], 3);
        assert_eq!(out, vec![7.0, -7.0, 0.0]);
    }

    #[test]
    fn group_real_weights_by_scale() {
        // One 1x2 window, M = 2, k = 1, columns scaled 1 and 100:
        // x = (3, 1.4). S = {0}: errors 4 + 0.16*1e4; S = {1}: 1 + 1.96e4
        // -> {0}: 3 -> 1, 1.4 -> 1.
        let out = project_real(
            &Pattern::Group { k: 1, m: 1, g: 2 },
            &[3.0, 140.0],
            1,
            2,
            &[1.0, 100.0],
            2,
        );
        assert_eq!(out, vec![1.0, 100.0]);
    }

    #[test]
    fn in_pattern_and_zero_bits() {
        let w = wm(2, 2, vec![1, -2, 3, 0]);
        assert!(in_pattern(&Pattern::Dense, &w, 2));
        assert!(!in_pattern(&Pattern::Dense, &w, 1));
        assert!(!in_pattern(&Pattern::KHot { k: 1 }, &w, 2));
        assert!(in_pattern(&Pattern::KHot { k: 2 }, &w, 2));
        assert!(in_pattern(
            &Pattern::Group { k: 1, m: 2, g: 1 },
            &wm(2, 2, vec![1, -2, 1, 0]),
            2
        ));
        assert!(!in_pattern(
            &Pattern::Group { k: 1, m: 1, g: 2 },
            &wm(2, 2, vec![1, -2, 1, 0]),
            2
        ));
        assert_eq!(zero_bit_fraction(&w, 2), 4.0 / 8.0);
        assert_eq!(zero_bit_fraction(&wm(0, 0, vec![]), 7), 0.0);
        assert_eq!(zero_bit_fraction(&wm(1, 2, vec![0, 0]), 7), 1.0);
        assert_eq!(zero_bit_fraction(&wm(1, 2, vec![127, -127]), 7), 0.0);
    }

    #[test]
    fn edge_matrices_every_m() {
        for mb in 1..=MAX_PATTERN_MAG_BITS {
            let max = max_magnitude(mb) as i32;
            for (r, c) in [(1, 1), (3, 5), (17, 9)] {
                let zeros = WeightMatrix::zeros(r, c);
                let maxes = wm(
                    r,
                    c,
                    (0..r * c)
                        .map(|i| if i % 2 == 0 { max } else { -max })
                        .collect(),
                );
                for k in [0, 1, 2, mb, mb + 3] {
                    for p in [
                        Pattern::Dense,
                        Pattern::KHot { k },
                        Pattern::Group { k, m: 4, g: 2 },
                    ] {
                        assert_eq!(project_int(&p, &zeros, mb), zeros);
                        let q = project_int(&p, &maxes, mb);
                        assert!(in_pattern(&p, &q, mb), "{p:?} M={mb}");
                        let kk = match p {
                            Pattern::Dense => mb,
                            Pattern::KHot { k } | Pattern::Group { k, .. } => k.min(mb),
                        };
                        // The nearest magnitude to 2^M - 1 with kk bits is
                        // its top kk bits (lower ones can't be reached).
                        let want = if kk == 0 {
                            0
                        } else {
                            max & !((1 << (mb - kk)) - 1)
                        };
                        assert!(
                            q.data.iter().all(|&v| v.abs() == want),
                            "{p:?} M={mb} {:?}",
                            &q.data[..1]
                        );
                        let s = [0.5f32];
                        let real: Vec<f32> = maxes.data.iter().map(|&v| v as f32 * 0.5).collect();
                        let qr = project_real(&p, &real, r, c, &s, mb);
                        let expect: Vec<f32> = q.data.iter().map(|&v| v as f32 * 0.5).collect();
                        assert_eq!(qr, expect);
                        assert_eq!(
                            project_real(&p, &vec![0.0; r * c], r, c, &s, mb),
                            vec![0.0; r * c]
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn group_brute_force_m15() {
        // A few windows at the widest M, k = 2 (C(15,2) sets).
        let mb = 15;
        let data: Vec<i32> = (0..24)
            .map(|i| ((i * 7919 + 13) % 32768) * if i % 3 == 0 { -1 } else { 1 })
            .collect();
        let w = wm(4, 6, data);
        let p = Pattern::Group { k: 2, m: 3, g: 4 };
        let q = project_int(&p, &w, mb);
        assert!(in_pattern(&p, &q, mb));
        for idx in windows(4, 6, 3, 4) {
            let vals: Vec<u32> = idx.iter().map(|&i| w.data[i].unsigned_abs()).collect();
            let got: u128 = idx
                .iter()
                .map(|&i| {
                    let d = w.data[i].abs_diff(q.data[i]) as u128;
                    d * d
                })
                .sum();
            // Brute force over all 2-subsets only (every smaller set is a
            // subset of one of them).
            let mut best = u128::MAX;
            for s in group_candidates(2, mb) {
                let e: u128 = vals
                    .iter()
                    .map(|&v| {
                        let d = v.abs_diff(nearest_int_sub(s, v)) as u128;
                        d * d
                    })
                    .sum();
                best = best.min(e);
            }
            assert_eq!(got, best);
        }
    }

    #[test]
    fn pattern_serde() {
        for p in [
            Pattern::Dense,
            Pattern::KHot { k: 2 },
            Pattern::Group { k: 1, m: 16, g: 8 },
        ] {
            let s = serde_json::to_string(&p).unwrap();
            assert_eq!(serde_json::from_str::<Pattern>(&s).unwrap(), p);
        }
    }

    #[test]
    #[should_panic]
    fn empty_window_panics() {
        project_int(
            &Pattern::Group { k: 1, m: 0, g: 8 },
            &WeightMatrix::zeros(2, 2),
            7,
        );
    }

    /// Rough speed check on a ResNet-50-sized weight count. Run with
    /// `cargo test --release --lib pattern::tests::speed -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn speed_25m_weights() {
        use rand::{RngExt, SeedableRng};
        let (rows, cols) = (4608usize, 5426usize); // ~25 M
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let real: Vec<f32> = (0..rows * cols)
            .map(|_| {
                let u: f32 = rng.random::<f32>() - 0.5;
                u.signum() * (-(1.0 - 2.0 * u.abs()).max(1e-9).ln()) // Laplace
            })
            .collect();
        let q = crate::compiler::quant::quantize(
            &real,
            rows,
            cols,
            7,
            crate::compiler::quant::Granularity::PerChannel,
        );
        for p in [
            Pattern::KHot { k: 2 },
            Pattern::Group { k: 2, m: 16, g: 8 },
            Pattern::Group { k: 3, m: 16, g: 8 },
        ] {
            let t = std::time::Instant::now();
            let out = project_int(&p, &q.w, 7);
            let ti = t.elapsed();
            let t = std::time::Instant::now();
            let outr = project_real(&p, &real, rows, cols, &q.scales, 7);
            let tr = t.elapsed();
            assert!(in_pattern(&p, &out, 7));
            eprintln!(
                "{p:?}: int {ti:?} real {tr:?} zero bits {:.3} ({})",
                zero_bit_fraction(&out, 7),
                outr.len()
            );
        }
    }

    // ---- property tests ----

    /// (rows, cols, M, data) with magnitudes in range, sometimes biased to
    /// zeros and extremes.
    fn int_matrix(
        max_dim: usize,
        max_m: u32,
    ) -> impl Strategy<Value = (usize, usize, u32, Vec<i32>)> {
        (1usize..=max_dim, 1usize..=max_dim, 1u32..=max_m).prop_flat_map(|(r, c, mb)| {
            let max = max_magnitude(mb) as i32;
            let val = prop_oneof![3 => -max..=max, 1 => Just(0), 1 => Just(max), 1 => Just(-max)];
            (
                Just(r),
                Just(c),
                Just(mb),
                prop::collection::vec(val, r * c),
            )
        })
    }

    fn any_pattern(mb: u32) -> impl Strategy<Value = Pattern> {
        prop_oneof![
            Just(Pattern::Dense),
            (0..=mb + 1).prop_map(|k| Pattern::KHot { k }),
            (0..=mb + 1, 1u32..6, 1u32..6).prop_map(|(k, m, g)| Pattern::Group { k, m, g }),
        ]
    }

    fn case(
        max_dim: usize,
        max_m: u32,
    ) -> impl Strategy<Value = (usize, usize, u32, Vec<i32>, Pattern)> {
        int_matrix(max_dim, max_m)
            .prop_flat_map(|(r, c, mb, d)| (Just(r), Just(c), Just(mb), Just(d), any_pattern(mb)))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn int_projection_in_pattern_and_idempotent((r, c, mb, d, p) in case(13, 15)) {
            let w = wm(r, c, d);
            let q = project_int(&p, &w, mb);
            prop_assert!(in_pattern(&p, &q, mb));
            prop_assert_eq!(&project_int(&p, &q, mb), &q);
            if in_pattern(&p, &w, mb) {
                prop_assert_eq!(&q, &w);
            }
            // Signs kept (or zeroed).
            for (&a, &b) in w.data.iter().zip(&q.data) {
                prop_assert!(b == 0 || (a < 0) == (b < 0));
            }
        }

        #[test]
        fn khot_k_ge_m_is_identity((r, c, mb, d) in int_matrix(9, 15), extra in 0u32..3) {
            let w = wm(r, c, d);
            prop_assert_eq!(&project_int(&Pattern::KHot { k: mb + extra }, &w, mb), &w);
            prop_assert_eq!(&project_int(&Pattern::Dense, &w, mb), &w);
            prop_assert_eq!(&project_int(&Pattern::Group { k: mb + extra, m: 3, g: 2 }, &w, mb), &w);
        }

        #[test]
        fn khot_is_nearest((r, c, mb, d) in int_matrix(8, 10), k in 0u32..5) {
            let w = wm(r, c, d);
            let q = project_int(&Pattern::KHot { k }, &w, mb);
            let allowed = brute_khot_allowed(k, mb);
            for (&a, &b) in w.data.iter().zip(&q.data) {
                prop_assert_eq!(b.unsigned_abs(), brute_nearest_int(&allowed, a.unsigned_abs()));
            }
        }

        #[test]
        fn group_window_error_is_minimal(
            (r, c, mb, d) in int_matrix(9, 8), k in 0u32..4, m in 1u32..5, g in 1u32..5,
        ) {
            let w = wm(r, c, d);
            let p = Pattern::Group { k, m, g };
            let q = project_int(&p, &w, mb);
            prop_assert!(in_pattern(&p, &q, mb));
            for idx in windows(r, c, m, g) {
                let vals: Vec<u32> = idx.iter().map(|&i| w.data[i].unsigned_abs()).collect();
                let got: u128 = idx.iter().map(|&i| { let e = w.data[i].abs_diff(q.data[i]) as u128; e * e }).sum();
                prop_assert_eq!(got, brute_window_min_err(&vals, k, mb));
            }
        }

        #[test]
        fn group_matches_ascending_scan_reference(
            (r, c, mb, d) in int_matrix(9, 6), k in 0u32..4, m in 1u32..5, g in 1u32..5,
        ) {
            // Reference: full errors for every set of min(k, M) positions in
            // ascending mask order, strict improvement only (ties -> the
            // smallest mask), brute-force nearest submask.
            let w = wm(r, c, d);
            let q = project_int(&Pattern::Group { k, m, g }, &w, mb);
            let kk = k.min(mb);
            for idx in windows(r, c, m, g) {
                let mut best: Option<(u128, Vec<u32>)> = None;
                for s in (0..=max_magnitude(mb)).filter(|s| s.count_ones() == kk) {
                    let subs = brute_submasks(s);
                    let vals: Vec<u32> = idx.iter().map(|&i| brute_nearest_int(&subs, w.data[i].unsigned_abs())).collect();
                    let e: u128 = idx.iter().zip(&vals).map(|(&i, &v)| { let d = w.data[i].unsigned_abs().abs_diff(v) as u128; d * d }).sum();
                    if best.as_ref().is_none_or(|b| e < b.0) {
                        best = Some((e, vals));
                    }
                }
                let want = best.unwrap().1;
                for (&i, &v) in idx.iter().zip(&want) {
                    prop_assert_eq!(q.data[i].unsigned_abs(), v);
                }
            }
        }

        #[test]
        fn out_of_range_ints_project_into_range(
            (r, c, mb, d) in int_matrix(6, 15), big in prop::collection::vec(any::<i32>(), 36), p_idx in 0usize..3,
        ) {
            let mut d = d;
            for (x, &b) in d.iter_mut().zip(&big) {
                if b % 3 == 0 { *x = b; }
            }
            let w = wm(r, c, d);
            let p = [Pattern::Dense, Pattern::KHot { k: 2 }, Pattern::Group { k: 2, m: 2, g: 3 }][p_idx];
            let q = project_int(&p, &w, mb);
            prop_assert!(in_pattern(&p, &q, mb));
            prop_assert_eq!(&project_int(&p, &q, mb), &q);
        }

        #[test]
        fn real_matches_int_on_integer_grid((r, c, mb, d, p) in case(10, 15)) {
            let w = wm(r, c, d);
            let q = project_int(&p, &w, mb);
            let real: Vec<f32> = w.data.iter().map(|&v| v as f32).collect();
            let qr = project_real(&p, &real, r, c, &[1.0], mb);
            let qi: Vec<f32> = q.data.iter().map(|&v| v as f32).collect();
            prop_assert_eq!(qr, qi);
        }

        #[test]
        fn real_projection_is_nearest_and_idempotent(
            (r, c, mb) in (1usize..8, 1usize..8, 1u32..8),
            seed in prop::collection::vec(-1.2f32..1.2, 64),
            per_channel in any::<bool>(),
            p in (0u32..4, 1u32..4, 1u32..4, 0u32..3).prop_map(|(k, m, g, which)| match which {
                0 => Pattern::Dense, 1 => Pattern::KHot { k }, _ => Pattern::Group { k, m, g } }),
        ) {
            let max = max_magnitude(mb) as f32;
            let w: Vec<f32> = (0..r * c).map(|i| seed[i % 64] * max * 0.37 * (1 + i % 3) as f32).collect();
            let scales: Vec<f32> = if per_channel { (0..c).map(|j| 0.25 + 0.5 * j as f32).collect() } else { vec![0.37] };
            let out = project_real(&p, &w, r, c, &scales, mb);
            // Recover the integers and check the pattern.
            let mut ints = WeightMatrix::zeros(r, c);
            for i in 0..r * c {
                let s = scale_of(&scales, i % c);
                let n = (out[i] / s).round();
                prop_assert!((out[i] - n * s).abs() <= 1e-5 * s.max(1.0) * (1.0 + n.abs()));
                prop_assert!(n == 0.0 || (n < 0.0) == (w[i] < 0.0));
                ints.data[i] = n as i32;
            }
            prop_assert!(in_pattern(&p, &ints, mb));
            // Idempotent.
            prop_assert_eq!(&project_real(&p, &out, r, c, &scales, mb), &out);
            // Nearest: per weight (k-hot/dense) or per window (group),
            // brute force over the allowed integers.
            let sq = |i: usize, n: u32| { let d = w[i].abs() as f64 - scale_of(&scales, i % c) as f64 * n as f64; d * d };
            let got = |idx: &[usize]| idx.iter().map(|&i| { let d = (w[i] - out[i]) as f64; d * d }).sum::<f64>();
            match p {
                Pattern::Dense | Pattern::KHot { .. } => {
                    let k = if let Pattern::KHot { k } = p { k } else { mb };
                    let allowed = brute_khot_allowed(k, mb);
                    for i in 0..r * c {
                        let best = allowed.iter().map(|&a| sq(i, a)).fold(f64::INFINITY, f64::min);
                        prop_assert!(got(&[i]) <= best + 1e-3 * (1.0 + best));
                    }
                }
                Pattern::Group { k, m, g } => {
                    for idx in windows(r, c, m, g) {
                        let mut best = f64::INFINITY;
                        for s in 0..=max_magnitude(mb) {
                            if s.count_ones() > k { continue; }
                            let subs = brute_submasks(s);
                            let e: f64 = idx.iter().map(|&i| subs.iter().map(|&a| sq(i, a)).fold(f64::INFINITY, f64::min)).sum();
                            best = best.min(e);
                        }
                        let gv = got(&idx);
                        prop_assert!(gv <= best + 1e-3 * (1.0 + best), "window {:?}: {} > {}", idx, gv, best);
                    }
                }
            }
        }
    }
}
