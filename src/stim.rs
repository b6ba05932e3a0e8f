//! The text formats shared with the standalone testbench (`sim/sme_tb.cpp`):
//! STIM files that drive the tile's ports, and the results the testbench
//! prints (also used for the expected results `sme verify --emit` writes).
//!
//! STIM (`sme-stim 1`): one command per line, `#` comments.
//! `W <addr> <data>` programming write (hex, no `0x`); `I <n>` idle cycles;
//! `R` start and wait for done (prints `cycles <n>`); `O` read every output
//! (prints `out <y0> <y1> ...`, signed decimal); `X` reset.
//!
//! Results (`sme-out 1`): the `cycles` and `out` lines in command order. A
//! vector is one `R` followed by one `O`.

use crate::config::TileConfig;
use crate::program::{TileProgram, Write, input_writes, program_writes};
use anyhow::{Result, bail};
use std::fmt::Write as _;

/// First line of a STIM file.
pub(crate) const STIM_HEADER: &str = "sme-stim 1";
/// First line of a results file.
pub(crate) const RESULTS_HEADER: &str = "sme-out 1";

fn push_writes(s: &mut String, writes: &[Write]) {
    for w in writes {
        let _ = writeln!(s, "W {:x} {}", w.addr, w.data.to_str_radix(16));
    }
}

/// A STIM file that loads `prog` through the programming port.
pub(crate) fn program_stim(cfg: &TileConfig, prog: &TileProgram, comment: &str) -> String {
    let mut s = format!("{STIM_HEADER}\n# {comment}\n# program: cells, ops, op counts\n");
    push_writes(&mut s, &program_writes(cfg, prog));
    s
}

/// A STIM file that runs `xs` one after another: for each vector, write the
/// inputs, `R`, `O`; `idle[i]` idle cycles (if given) before vector i.
#[cfg(test)]
pub(crate) fn vectors_stim(
    cfg: &TileConfig,
    xs: &[Vec<u32>],
    idle: &[u32],
    comment: &str,
) -> String {
    let mut s = format!("{STIM_HEADER}\n# {comment}\n");
    for (i, x) in xs.iter().enumerate() {
        s.push_str(&vector_stim(cfg, i, x, idle.get(i).copied().unwrap_or(0)));
    }
    s
}

/// The lines of [`vectors_stim`] for its vector `i`, `x`, after `idle` idle
/// cycles (for writing a long vector file piece by piece).
pub(crate) fn vector_stim(cfg: &TileConfig, i: usize, x: &[u32], idle: u32) -> String {
    let mut s = format!("# vector {i}\n");
    if idle > 0 {
        let _ = writeln!(s, "I {idle}");
    }
    push_writes(&mut s, &input_writes(cfg, x));
    s.push_str("R\nO\n");
    s
}

/// One executed vector: cycles from start to done, and every output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Run {
    /// Cycles (the cycle model's definition).
    pub cycles: u64,
    /// The `outputs` accumulators.
    pub outputs: Vec<i128>,
}

/// Results text for `runs` (what a correct testbench prints).
#[cfg(test)]
pub(crate) fn results_text(runs: &[Run]) -> String {
    let mut s = format!("{RESULTS_HEADER}\n");
    for r in runs {
        s.push_str(&run_text(r));
    }
    s
}

/// The `cycles` and `out` lines of one run in [`results_text`].
pub(crate) fn run_text(r: &Run) -> String {
    let mut s = format!("cycles {}\nout", r.cycles);
    for y in &r.outputs {
        let _ = write!(s, " {y}");
    }
    s.push('\n');
    s
}

/// Parses results text; each `cycles` line must be followed by an `out` line.
pub(crate) fn parse_results(text: &str) -> Result<Vec<Run>> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    match lines.next() {
        Some((_, l)) if l.trim() == RESULTS_HEADER => {}
        _ => bail!("results: expected the header `{RESULTS_HEADER}` on the first line"),
    }
    let mut runs = Vec::new();
    let mut pending: Option<u64> = None;
    for (i, line) in lines {
        let n = i + 1;
        let mut it = line.split_whitespace();
        match (it.next(), pending) {
            (Some("cycles"), None) => {
                let c = it.next().and_then(|v| v.parse::<u64>().ok());
                match (c, it.next()) {
                    (Some(c), None) => pending = Some(c),
                    _ => bail!("results line {n}: expected `cycles <n>`"),
                }
            }
            (Some("out"), Some(c)) => {
                let outputs: Option<Vec<i128>> = it.map(|v| v.parse().ok()).collect();
                let Some(outputs) = outputs else {
                    bail!("results line {n}: `out` values must be signed decimal integers");
                };
                runs.push(Run { cycles: c, outputs });
                pending = None;
            }
            _ => bail!(
                "results line {n}: expected {}",
                if pending.is_some() {
                    "`out ...` after `cycles`"
                } else {
                    "`cycles <n>`"
                }
            ),
        }
    }
    if pending.is_some() {
        bail!("results: the last `cycles` line has no `out` line");
    }
    Ok(runs)
}

/// Expected against actual results.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Comparison {
    /// Vectors compared.
    pub vectors: u64,
    /// Vectors whose outputs or cycles differ (a missing vector counts too).
    pub mismatches: u64,
    /// Vectors whose cycle count differs.
    pub cycle_mismatches: u64,
    /// Sum of the RTL's cycles.
    pub rtl_cycles: u64,
    /// Sum of the model's cycles.
    pub model_cycles: u64,
    /// Descriptions of the first few mismatches.
    pub details: Vec<String>,
}

impl Comparison {
    /// No mismatch of outputs or cycles.
    pub fn ok(&self) -> bool {
        self.mismatches == 0 && self.cycle_mismatches == 0 && self.rtl_cycles == self.model_cycles
    }

    /// The summary line `verify: <n> vectors, <k> mismatches, rtl cycles <a>,
    /// model cycles <b>`.
    pub fn line(&self) -> String {
        format!(
            "verify: {} vectors, {} mismatches, rtl cycles {}, model cycles {}",
            self.vectors, self.mismatches, self.rtl_cycles, self.model_cycles
        )
    }

    /// Notes `detail` (the first ten only).
    pub(crate) fn note(&mut self, detail: String) {
        if self.details.len() < 10 {
            self.details.push(detail);
        }
    }

    /// Counts and compares vector `v` of `label`: expected `e`, actual `a`
    /// (cycles, then outputs; a vector with either wrong is one mismatch).
    pub(crate) fn check_run(&mut self, label: &str, v: usize, e: &Run, a: &Run) {
        self.vectors += 1;
        self.model_cycles += e.cycles;
        self.rtl_cycles += a.cycles;
        let mut bad = false;
        if a.cycles != e.cycles {
            self.cycle_mismatches += 1;
            bad = true;
            self.note(format!(
                "{label}: vector {v}: rtl cycles {} != model cycles {}",
                a.cycles, e.cycles
            ));
        }
        if a.outputs != e.outputs {
            bad = true;
            let first = (0..e.outputs.len().max(a.outputs.len()))
                .find(|&o| a.outputs.get(o) != e.outputs.get(o))
                .unwrap_or(0);
            self.note(format!(
                "{label}: vector {v}: output {first} rtl {:?} != golden {:?}",
                a.outputs.get(first),
                e.outputs.get(first)
            ));
        }
        if bad {
            self.mismatches += 1;
        }
    }

    /// Counts vector `v` of `label`, expected `e`, for which the RTL gave
    /// no result: a mismatch.
    pub(crate) fn missing_run(&mut self, label: &str, v: usize, e: &Run) {
        self.vectors += 1;
        self.model_cycles += e.cycles;
        self.mismatches += 1;
        self.note(format!("{label}: vector {v}: no result from the RTL"));
    }

    /// Adds another comparison.
    pub fn add(&mut self, o: &Comparison) {
        self.vectors += o.vectors;
        self.mismatches += o.mismatches;
        self.cycle_mismatches += o.cycle_mismatches;
        self.rtl_cycles += o.rtl_cycles;
        self.model_cycles += o.model_cycles;
        for d in &o.details {
            if self.details.len() < 10 {
                self.details.push(d.clone());
            }
        }
    }
}

/// Compares runs vector by vector; `label` prefixes the details.
pub fn compare(label: &str, expected: &[Run], actual: &[Run]) -> Comparison {
    let mut c = Comparison::default();
    for (i, e) in expected.iter().enumerate() {
        match actual.get(i) {
            Some(a) => c.check_run(label, i, e, a),
            None => c.missing_run(label, i, e),
        }
    }
    if actual.len() > expected.len() {
        c.mismatches += (actual.len() - expected.len()) as u64;
        c.note(format!(
            "{label}: {} more results than expected",
            actual.len() - expected.len()
        ));
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_round_trip_and_compare() {
        let runs = vec![
            Run {
                cycles: 12,
                outputs: vec![0, -5, 170141183460469231731687303715884105727],
            },
            Run {
                cycles: 4,
                outputs: vec![1, 2, 3],
            },
        ];
        let text = results_text(&runs);
        assert_eq!(parse_results(&text).unwrap(), runs);
        let c = compare("t", &runs, &runs);
        assert!(c.ok());
        assert_eq!(
            c.line(),
            "verify: 2 vectors, 0 mismatches, rtl cycles 16, model cycles 16"
        );
        let mut bad = runs.clone();
        bad[1].outputs[2] = 4;
        bad[0].cycles = 13;
        let c = compare("t", &runs, &bad);
        assert_eq!((c.mismatches, c.cycle_mismatches), (2, 1));
        assert!(!c.ok());
        assert!(
            c.details[1].contains("output 2 rtl Some(4) != golden Some(3)"),
            "{:?}",
            c.details
        );
        let c = compare("t", &runs, &bad[..1]);
        assert_eq!(c.mismatches, 2);
        assert!(parse_results("sme-out 1\ncycles 3\n").is_err());
        assert!(parse_results("sme-out 1\nout 1\n").is_err());
        assert!(parse_results("cycles 3\nout 1\n").is_err());
        assert!(parse_results("sme-out 1\ncycles 3\nout x\n").is_err());
    }
}
