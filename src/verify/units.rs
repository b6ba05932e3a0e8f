//! Stimulus units (a program, its vectors, idle cycles and golden results)
//! and writing them as STIM files.

use crate::compiler::map::{Mapper, Objective, map_matrix, map_matrix_with};
use crate::config::TileConfig;
use crate::golden;
use crate::program::{LayerProgram, TileProgram, WeightMatrix, program_writes};
use crate::stim::{self, Run};
use crate::testgen::{self, InputMode, Rng, WeightMode};
use anyhow::{Context, Result};
use std::borrow::Cow;
use std::io::Write;
use std::ops::Range;
use std::path::Path;

/// Where a unit's input vectors come from.
#[derive(Clone, Debug)]
pub(crate) enum Inputs {
    /// Its own tile-local vectors.
    Own(Vec<Vec<u32>>),
    /// The tile-local slices of the layer's vectors (computed when needed,
    /// so a long layer run holds the layer's vectors once, not per tile).
    Layer {
        /// Index into [`Layer::mapped`].
        mapping: usize,
        /// Tile of that mapping.
        tile: usize,
    },
}

/// One program with the vectors it runs and its golden cycle count.
#[derive(Clone, Debug)]
pub(crate) struct Unit {
    /// Human label, e.g. `sme tile 3`.
    pub(crate) label: String,
    /// The program.
    pub(crate) program: TileProgram,
    /// Tile-local input vectors.
    pub(crate) inputs: Inputs,
    /// Number of vectors.
    pub(crate) len: usize,
    /// Idle cycles before each vector.
    pub(crate) idle: Vec<u32>,
    /// The cycle model's cycles per vector.
    pub(crate) cycles: u64,
}

impl Unit {
    /// A unit; its cycles come from the cycle model.
    pub(crate) fn new(
        cfg: &TileConfig,
        label: String,
        program: TileProgram,
        inputs: Inputs,
        len: usize,
        idle: Vec<u32>,
    ) -> Unit {
        Unit {
            label,
            cycles: golden::cycles(cfg, &program),
            program,
            inputs,
            len,
            idle,
        }
    }

    /// Tile-local input vector `v`.
    pub(crate) fn vector<'a>(&'a self, layer: Option<&Layer>, v: usize) -> Cow<'a, [u32]> {
        match &self.inputs {
            Inputs::Own(xs) => Cow::Borrowed(&xs[v]),
            Inputs::Layer { mapping, tile } => {
                let l = layer.expect("layer units come with their layer");
                Cow::Owned(l.mapped[*mapping].lp.tile_inputs(*tile, &l.job.xs[v]))
            }
        }
    }

    /// The golden result of vector `v`.
    pub(crate) fn expected(&self, cfg: &TileConfig, layer: Option<&Layer>, v: usize) -> Run {
        Run {
            cycles: self.cycles,
            outputs: golden::execute(cfg, &self.program, &self.vector(layer, v)),
        }
    }
}

/// Random idle cycles (0..=3 before about one vector in three).
fn idles(rng: &mut Rng, n: usize) -> Vec<u32> {
    (0..n)
        .map(|_| {
            if rng.below(3) == 0 {
                1 + rng.below(3) as u32
            } else {
                0
            }
        })
        .collect()
}

/// What a verification program is: a mapper's program of random weights, or
/// a fully random valid program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stimulus {
    /// The program `Mapper` makes of random weights.
    Mapped(Mapper),
    /// A fully random valid program ([`testgen::random_program`]).
    Random,
}

/// Random units: `programs` programs cycling through dense, SRE-style and SME
/// mappings of random weights (empty, fully dense, sparse, half) and fully
/// random programs; each runs `vectors` vectors (all-zero, all-max, then
/// random) with random idle cycles. Mapped layers run their first two tiles.
pub(crate) fn random_units(
    cfg: &TileConfig,
    seed: u64,
    programs: usize,
    vectors: usize,
) -> Vec<Unit> {
    let mut rng = Rng::new(seed);
    let mut units = Vec::new();
    let n_in = cfg.params.inputs as usize;
    for i in 0..programs {
        let vecs = |rng: &mut Rng| -> Vec<Vec<u32>> {
            (0..vectors)
                .map(|v| {
                    let mode = [InputMode::Zero, InputMode::Max, InputMode::Random][v.min(2)];
                    testgen::input_vector(cfg, n_in, rng, mode)
                })
                .collect()
        };
        let stimulus = match i % 4 {
            3 => Stimulus::Random,
            k => Stimulus::Mapped(Mapper::ALL[k]),
        };
        if let Stimulus::Mapped(mapper) = stimulus {
            let mode = WeightMode::ALL[(i + i / 4) % 4];
            let w = testgen::weights(cfg, &mut rng, mode);
            let lp = map_matrix(cfg, &w, mapper);
            for (t, mt) in lp.tiles.iter().enumerate().take(2) {
                let xs = vecs(&mut rng);
                let idle = idles(&mut rng, xs.len());
                units.push(Unit::new(
                    cfg,
                    format!(
                        "program {i}: {} of a {}x{} {mode:?} matrix, tile {t}",
                        mapper.name(),
                        w.rows,
                        w.cols
                    ),
                    mt.program.clone(),
                    Inputs::Own(xs),
                    vectors,
                    idle,
                ));
            }
        } else {
            let prog = testgen::random_program(cfg, &mut rng);
            let xs = vecs(&mut rng);
            let idle = idles(&mut rng, xs.len());
            units.push(Unit::new(
                cfg,
                format!("program {i}: random"),
                prog,
                Inputs::Own(xs),
                vectors,
                idle,
            ));
        }
    }
    units
}

/// A layer to verify: its integer matrix and layer-level input vectors.
pub(crate) struct LayerJob {
    /// Name for messages.
    pub(crate) name: String,
    /// Integer weights (magnitudes within the tile's weight bits).
    pub(crate) w: WeightMatrix,
    /// Layer input vectors (length `w.rows`).
    pub(crate) xs: Vec<Vec<u32>>,
    /// What the mappers optimize inside a tile.
    pub(crate) objective: Objective,
}

/// One mapping of a layer: its program and its units (one per tile).
pub(crate) struct Mapping {
    /// The mapper.
    pub(crate) mapper: Mapper,
    /// The layer program.
    pub(crate) lp: LayerProgram,
    /// Its units in the plan's unit list.
    pub(crate) units: Range<usize>,
}

/// A layer run: the job and its mappings.
pub(crate) struct Layer {
    /// The layer.
    pub(crate) job: LayerJob,
    /// Its mappings.
    pub(crate) mapped: Vec<Mapping>,
}

/// The units of `job` for each mapper: one per tile, running the tile-local
/// slices of every layer vector; appended to `units`.
pub(crate) fn layer_units(
    cfg: &TileConfig,
    job: &LayerJob,
    mappers: &[Mapper],
    seed: u64,
    units: &mut Vec<Unit>,
) -> Vec<Mapping> {
    let mut rng = Rng::new(seed ^ 0x1d1e);
    let n = job.xs.len();
    mappers
        .iter()
        .enumerate()
        .map(|(mapping, &m)| {
            let lp = map_matrix_with(cfg, &job.w, m, job.objective);
            let first = units.len();
            for (t, mt) in lp.tiles.iter().enumerate() {
                let idle = idles(&mut rng, n);
                units.push(Unit::new(
                    cfg,
                    format!("{} {} tile {t}", job.name, m.name()),
                    mt.program.clone(),
                    Inputs::Layer { mapping, tile: t },
                    n,
                    idle,
                ));
            }
            Mapping {
                mapper: m,
                lp,
                units: first..units.len(),
            }
        })
        .collect()
}

/// The simulation work of `units`, for the limits and the time limit of the
/// testbench.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Work {
    /// Tile-vector runs (`R` commands).
    pub(crate) vectors: u64,
    /// Clock cycles simulated: programming writes, idle cycles, input
    /// writes and the cycles of every run.
    pub(crate) cycles: u64,
    /// Output reads (`outputs` per vector).
    pub(crate) reads: u64,
}

/// The work of `units` on `cfg`.
pub(crate) fn work(cfg: &TileConfig, units: &[Unit]) -> Work {
    let mut w = Work::default();
    let in_writes = cfg.derived.input_words as u64;
    for u in units {
        let n = u.len as u64;
        let writes = program_writes(cfg, &u.program).len() as u64;
        let idle: u64 = u.idle.iter().map(|&i| i as u64).sum();
        w.vectors = w.vectors.saturating_add(n);
        w.cycles = w.cycles.saturating_add(
            writes
                .saturating_add(idle)
                .saturating_add(n.saturating_mul(in_writes + 3 + u.cycles)),
        );
        w.reads = w
            .reads
            .saturating_add(n.saturating_mul(cfg.params.outputs as u64));
    }
    w
}

/// A writer that copies everything into a second, optional writer (the
/// emitted STIM file).
struct Tee<'a> {
    main: &'a mut dyn Write,
    copy: Option<std::io::BufWriter<std::fs::File>>,
}

impl Write for Tee<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.main.write_all(buf)?;
        if let Some(c) = &mut self.copy {
            c.write_all(buf)?;
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.main.flush()?;
        if let Some(c) = &mut self.copy {
            c.flush()?;
        }
        Ok(())
    }
}

/// Creates `dir/name` for writing.
fn create(dir: &Path, name: &str) -> Result<std::io::BufWriter<std::fs::File>> {
    let p = dir.join(name);
    let f = std::fs::File::create(&p).with_context(|| format!("cannot create {}", p.display()))?;
    Ok(std::io::BufWriter::with_capacity(1 << 16, f))
}

/// Streams the STIM of every unit, in run order, into `out` (one stream,
/// one `sme-stim 1` header per file); with `emit` also writes each unit's
/// `NNNN.prog.stim` and `NNNN.vec.stim` there and their run order, one
/// name per line, in `stims.txt`. Nothing is held beyond one vector's text.
pub(crate) fn write_stims(
    cfg: &TileConfig,
    units: &[Unit],
    layer: Option<&Layer>,
    out: &mut dyn Write,
    emit: Option<&Path>,
) -> Result<()> {
    let mut order = match emit {
        Some(d) => Some(create(d, "stims.txt")?),
        None => None,
    };
    let io =
        |e: std::io::Error, name: &str| anyhow::Error::new(e).context(format!("writing {name}"));
    for (i, u) in units.iter().enumerate() {
        if crate::verify::process::cancelled() {
            anyhow::bail!("interrupted");
        }
        let (pn, vn) = (format!("{i:04}.prog.stim"), format!("{i:04}.vec.stim"));
        let mut t = Tee {
            main: &mut *out,
            copy: emit.map(|d| create(d, &pn)).transpose()?,
        };
        t.write_all(stim::program_stim(cfg, &u.program, &u.label).as_bytes())
            .and_then(|_| t.flush())
            .map_err(|e| io(e, &pn))?;
        let mut t = Tee {
            main: &mut *out,
            copy: emit.map(|d| create(d, &vn)).transpose()?,
        };
        t.write_all(format!("{}\n# {}\n", stim::STIM_HEADER, u.label).as_bytes())
            .map_err(|e| io(e, &vn))?;
        for v in 0..u.len {
            let x = u.vector(layer, v);
            let idle = u.idle.get(v).copied().unwrap_or(0);
            t.write_all(stim::vector_stim(cfg, v, &x, idle).as_bytes())
                .map_err(|e| io(e, &vn))?;
        }
        t.flush().map_err(|e| io(e, &vn))?;
        if let Some(o) = &mut order {
            writeln!(o, "{pn}\n{vn}").map_err(|e| io(e, "stims.txt"))?;
        }
    }
    if let Some(o) = &mut order {
        o.flush().map_err(|e| io(e, "stims.txt"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::test_util::small_cfg;

    #[test]
    fn random_units_are_deterministic_and_golden() {
        let cfg = small_cfg();
        let a = random_units(&cfg, 7, 4, 3);
        let b = random_units(&cfg, 7, 4, 3);
        // Three mapped programs run up to two tiles each, one random program.
        assert!(a.len() <= 7, "{}", a.len());
        assert_eq!(a.iter().filter(|u| u.label.contains(": random")).count(), 1);
        assert_eq!(a.len(), b.len());
        for (u, v) in a.iter().zip(&b) {
            assert_eq!(u.label, v.label);
            assert_eq!(u.idle, v.idle);
            assert_eq!((u.len, u.idle.len()), (3, 3));
            for i in 0..3 {
                assert_eq!(u.vector(None, i), v.vector(None, i));
                let r = u.expected(&cfg, None, i);
                assert_eq!(
                    r.outputs,
                    golden::execute(&cfg, &u.program, &u.vector(None, i))
                );
                assert_eq!(r.cycles, golden::cycles(&cfg, &u.program));
            }
        }
    }

    #[test]
    fn streamed_stims_equal_the_stim_files_and_are_emitted_in_run_order() {
        let cfg = small_cfg();
        let units = random_units(&cfg, 3, 2, 2);
        let dir = tempfile::tempdir().unwrap();
        let mut stream = Vec::new();
        write_stims(&cfg, &units, None, &mut stream, Some(dir.path())).unwrap();
        let order = std::fs::read_to_string(dir.path().join("stims.txt")).unwrap();
        let names: Vec<&str> = order.lines().collect();
        assert_eq!(names.len(), 2 * units.len());
        assert_eq!(names[..2], ["0000.prog.stim", "0000.vec.stim"]);
        let mut want = String::new();
        for (u, pair) in units.iter().zip(names.chunks(2)) {
            let xs: Vec<Vec<u32>> = (0..u.len).map(|v| u.vector(None, v).into_owned()).collect();
            let p = stim::program_stim(&cfg, &u.program, &u.label);
            let v = stim::vectors_stim(&cfg, &xs, &u.idle, &u.label);
            assert_eq!(
                std::fs::read_to_string(dir.path().join(pair[0])).unwrap(),
                p
            );
            assert_eq!(
                std::fs::read_to_string(dir.path().join(pair[1])).unwrap(),
                v
            );
            want += &p;
            want += &v;
        }
        assert_eq!(String::from_utf8(stream).unwrap(), want);
    }

    #[test]
    fn layer_units_slice_the_layer_vectors_lazily() {
        let cfg = small_cfg();
        let mut rng = Rng::new(5);
        let w = testgen::weights(&cfg, &mut rng, WeightMode::Half);
        let xs: Vec<Vec<u32>> = (0..3)
            .map(|_| testgen::input_vector(&cfg, w.rows, &mut rng, InputMode::Random))
            .collect();
        let layer_job = LayerJob {
            name: "l".into(),
            w,
            xs,
            objective: Objective::Crossbars,
        };
        let mut units = Vec::new();
        let mapped = layer_units(&cfg, &layer_job, &Mapper::ALL, 1, &mut units);
        let layer = Layer {
            job: layer_job,
            mapped,
        };
        assert_eq!(layer.mapped.last().unwrap().units.end, units.len());
        for m in &layer.mapped {
            for (t, u) in units[m.units.clone()].iter().enumerate() {
                assert_eq!(u.len, 3);
                assert_eq!(
                    u.vector(Some(&layer), 2),
                    m.lp.tile_inputs(t, &layer.job.xs[2])
                );
            }
        }
        let w = work(&cfg, &units);
        assert_eq!(w.vectors, 3 * units.len() as u64);
        assert!(w.cycles > w.vectors && w.reads == w.vectors * cfg.params.outputs as u64);
    }
}
