//! Stimulus units (a program, its vectors, idle cycles and golden results)
//! and writing them as STIM files.

use crate::compiler::map::{Mapper, map_matrix};
use crate::config::TileConfig;
use crate::golden;
use crate::program::{LayerProgram, TileProgram, WeightMatrix};
use crate::stim::{self, Run};
use crate::testgen::{self, InputMode, Rng, WeightMode};
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// One program with the vectors it runs and the golden results.
#[derive(Clone, Debug)]
pub(crate) struct Unit {
    /// Human label, e.g. `sme tile 3`.
    pub(crate) label: String,
    /// The program.
    pub(crate) program: TileProgram,
    /// Tile-local input vectors.
    pub(crate) vectors: Vec<Vec<u32>>,
    /// Idle cycles before each vector.
    pub(crate) idle: Vec<u32>,
    /// Golden outputs and model cycles per vector.
    pub(crate) expected: Vec<Run>,
}

impl Unit {
    /// A unit whose expected results come from the golden executor.
    pub(crate) fn new(
        cfg: &TileConfig,
        label: String,
        program: TileProgram,
        vectors: Vec<Vec<u32>>,
        idle: Vec<u32>,
    ) -> Unit {
        let cycles = golden::cycles(cfg, &program);
        let expected = vectors
            .iter()
            .map(|x| Run {
                cycles,
                outputs: golden::execute(cfg, &program, x),
            })
            .collect();
        Unit {
            label,
            program,
            vectors,
            idle,
            expected,
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
                    xs,
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
                xs,
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
}

/// One mapping of a layer with its units (one per tile).
pub(crate) type MappedLayer = (Mapper, LayerProgram, Vec<Unit>);

/// The units of `job` for each mapper: one per tile, running the tile-local
/// slices of every layer vector.
pub(crate) fn layer_units(
    cfg: &TileConfig,
    job: &LayerJob,
    mappers: &[Mapper],
    seed: u64,
) -> Vec<MappedLayer> {
    let mut rng = Rng::new(seed ^ 0x1d1e);
    mappers
        .iter()
        .map(|&m| {
            let lp = map_matrix(cfg, &job.w, m);
            let units = lp
                .tiles
                .iter()
                .enumerate()
                .map(|(t, mt)| {
                    let xs: Vec<Vec<u32>> = job.xs.iter().map(|x| lp.tile_inputs(t, x)).collect();
                    let idle = idles(&mut rng, xs.len());
                    Unit::new(
                        cfg,
                        format!("{} {} tile {t}", job.name, m.name()),
                        mt.program.clone(),
                        xs,
                        idle,
                    )
                })
                .collect();
            (m, lp, units)
        })
        .collect()
}

/// Writes each unit's program and vectors STIM files into `dir` (in run
/// order) and the expected results of the whole sequence; returns the STIM
/// paths.
pub(crate) fn write_stims(cfg: &TileConfig, units: &[Unit], dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut paths = Vec::new();
    let mut expected = Vec::new();
    let mut order = String::new();
    for (i, u) in units.iter().enumerate() {
        let p = dir.join(format!("{i:04}.prog.stim"));
        let v = dir.join(format!("{i:04}.vec.stim"));
        crate::outdir::write_file(&p, &stim::program_stim(cfg, &u.program, &u.label))
            .with_context(|| format!("cannot write {}", p.display()))?;
        crate::outdir::write_file(&v, &stim::vectors_stim(cfg, &u.vectors, &u.idle, &u.label))
            .with_context(|| format!("cannot write {}", v.display()))?;
        order.push_str(&format!("{i:04}.prog.stim {i:04}.vec.stim\n"));
        paths.push(p);
        paths.push(v);
        expected.extend(u.expected.iter().cloned());
    }
    let exp = dir.join("expected.txt");
    crate::outdir::write_file(&exp, &stim::results_text(&expected))
        .with_context(|| format!("cannot write {}", exp.display()))?;
    crate::outdir::write_file(&dir.join("stims.txt"), &order)
        .with_context(|| format!("cannot write {}", dir.display()))?;
    Ok(paths)
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
            assert_eq!(u.vectors, v.vectors);
            assert_eq!(u.idle, v.idle);
            assert_eq!(u.vectors.len(), 3);
            assert_eq!(u.idle.len(), 3);
            for (x, r) in u.vectors.iter().zip(&u.expected) {
                assert_eq!(r.outputs, golden::execute(&cfg, &u.program, x));
            }
        }
    }

    #[test]
    fn write_stims_writes_pairs_in_run_order() {
        let cfg = small_cfg();
        let units = random_units(&cfg, 3, 2, 2);
        let dir = std::env::temp_dir().join(format!("sme-verify-units-{}", std::process::id()));
        let paths = write_stims(&cfg, &units, &dir).unwrap();
        assert_eq!(paths.len(), 2 * units.len());
        assert!(paths[0].ends_with("0000.prog.stim") && paths[1].ends_with("0000.vec.stim"));
        assert!(paths.iter().all(|p| p.is_file()));
        let order = std::fs::read_to_string(dir.join("stims.txt")).unwrap();
        assert_eq!(order.lines().count(), units.len());
        let expected =
            stim::parse_results(&std::fs::read_to_string(dir.join("expected.txt")).unwrap())
                .unwrap();
        let want: Vec<Run> = units.iter().flat_map(|u| u.expected.clone()).collect();
        assert_eq!(expected, want);
        std::fs::remove_dir_all(&dir).ok();
    }
}
