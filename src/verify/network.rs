//! Whole-network inference on the generated RTL (`sme infer`): every conv
//! and FC layer of an integer network ([`crate::qnet`], weights file
//! version 2) is compiled with one mapper, and every tile program of every
//! layer runs on the Verilated tile (the run-time testbench of
//! [`super::build_testbench`]) for every crossbar input vector of every
//! image. The host does im2col, summing the tiles' outputs into the layer's
//! columns, requantization and pooling ([`qnet::finish_layer`]); the RTL
//! class of each image is compared with the integer model's
//! ([`qnet::classify`]), every tile run with the golden executor and its
//! cycles with the cycle model, and each layer's RTL cycles per vector with
//! the cost model's.
//!
//! Images run in batches of [`BATCH`]: per batch, one testbench run per
//! layer (the next layer's inputs are the host's requantized outputs).

use super::compare::summarize_layer;
use super::limits::Timeouts;
use super::testbench::{Testbench, run_testbench};
use super::units::{Layer, LayerJob, layer_units, work};
use crate::compiler::map::Mapper;
use crate::config::TileConfig;
use crate::progress::{Progress, Silent};
use crate::qnet;
use crate::weights::WeightsFile;
use anyhow::{Result, bail};
use serde::Serialize;

/// Images per testbench batch.
pub(crate) const BATCH: usize = 50;

/// What [`infer`] runs.
#[derive(Clone, Debug)]
pub struct InferRequest {
    /// The integer network.
    pub weights: WeightsFile,
    /// Images (`input_len` pixels each).
    pub images: Vec<Vec<u8>>,
    /// Their labels.
    pub labels: Vec<u8>,
    /// The mapper every layer is compiled with.
    pub mapper: Mapper,
    /// Seed of the idle cycles between vectors.
    pub seed: u64,
    /// The integer model the RTL is checked against; `None`: `weights`
    /// itself (a different file, e.g. the uncorrupted network, shows that
    /// the check catches a wrong layer).
    pub reference: Option<WeightsFile>,
}

/// One layer on the RTL.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct LayerRun {
    /// Layer name.
    pub name: String,
    /// Crossbar rows (inputs) of the layer matrix.
    pub rows: usize,
    /// Columns (outputs).
    pub cols: usize,
    /// Crossbar input vectors per image.
    pub vectors_per_image: usize,
    /// Tiles of the mapping.
    pub tiles: usize,
    /// Physical crossbars allocated.
    pub crossbars: u64,
    /// RTL cycles per vector, tiles side by side (slowest tile).
    pub cycles_rtl_per_vector: u64,
    /// The cost model's cycles per vector.
    pub cycles_model_per_vector: u64,
    /// RTL cycles per image (`vectors_per_image x cycles_rtl_per_vector`).
    pub cycles_rtl: u64,
    /// Cost model cycles per image.
    pub cycles_model: u64,
    /// Tile runs whose outputs or cycles differ from the golden executor and
    /// cycle model, plus layer vectors whose tile sum differs from `x W`.
    pub mismatches: u64,
}

/// One image.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ImageRun {
    /// Label.
    pub label: u8,
    /// Class from the RTL's layer outputs.
    pub class_rtl: usize,
    /// Class of the integer model.
    pub class_integer: usize,
    /// The RTL's logits equal the integer model's exactly.
    pub logits_agree: bool,
}

/// `sme infer`'s report (`--json`; schema in `docs/json.md`).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct InferReport {
    /// The network's name.
    pub network: String,
    /// The mapper.
    pub mapper: Mapper,
    /// The tile config tag.
    pub tag: String,
    /// Images run.
    pub images: usize,
    /// Images whose RTL class equals the integer model's.
    pub agree: usize,
    /// Images whose RTL logits equal the integer model's exactly.
    pub logits_agree: usize,
    /// Share of images whose RTL class equals the label.
    pub accuracy_rtl: f64,
    /// Share of images whose integer-model class equals the label.
    pub accuracy_integer: f64,
    /// RTL cycles per image, summed over layers (tiles side by side).
    pub cycles_rtl: u64,
    /// Cost model cycles per image, summed over layers.
    pub cycles_model: u64,
    /// Tile, cycle and layer-sum mismatches over all layers.
    pub mismatches: u64,
    /// Every image's logits agree, no mismatch, RTL cycles equal the
    /// model's.
    pub ok: bool,
    /// Per layer.
    pub layers: Vec<LayerRun>,
    /// Per image.
    pub per_image: Vec<ImageRun>,
    /// The first mismatch details (at most 20).
    pub details: Vec<String>,
}

/// Checks that `f` runs on `cfg`: an integer network whose weights fit and
/// whose 8-bit activations the tile accepts. Returns the input size.
pub fn check(cfg: &TileConfig, f: &WeightsFile) -> Result<usize> {
    let n = qnet::check_network(f)?;
    f.check_fits(cfg)?;
    if (cfg.max_act() as i64) < qnet::ACT_MAX {
        bail!(
            "the tile's activations go up to {}, the network's to {}: pass --act-bits 8 or more",
            cfg.max_act(),
            qnet::ACT_MAX
        );
    }
    Ok(n)
}

/// Runs `req` on the RTL (module doc): the stimulus streams into the
/// testbench, each run within the time limit of `timeouts`. `progress`
/// counts images.
pub fn infer(
    cfg: &TileConfig,
    tb: &Testbench,
    req: &InferRequest,
    timeouts: &Timeouts,
    progress: &dyn Progress,
) -> Result<InferReport> {
    let f = &req.weights;
    let input = check(cfg, f)?;
    let reference = req.reference.as_ref().unwrap_or(f);
    let ref_input = qnet::check_network(reference)?;
    if ref_input != input {
        bail!("the reference network takes {ref_input} inputs, the network {input}");
    }
    if req.images.len() != req.labels.len() {
        bail!(
            "{} images and {} labels",
            req.images.len(),
            req.labels.len()
        );
    }
    if let Some((i, im)) = req
        .images
        .iter()
        .enumerate()
        .find(|(_, im)| im.len() != input)
    {
        bail!(
            "image {i} has {} pixels, the network takes {input}",
            im.len()
        );
    }
    progress.start(
        &format!("{} images on the RTL", req.images.len()),
        Some(req.images.len() as u64),
    );
    let mut layers: Vec<Option<LayerRun>> = vec![None; f.layers.len()];
    let mut details = Vec::new();
    let mut per_image = Vec::new();
    let mut mismatches = 0u64;
    for (b, batch) in req.images.chunks(BATCH).enumerate() {
        let mut xs: Vec<Vec<u8>> = batch.to_vec();
        let mut logits = Vec::new();
        for (li, l) in f.layers.iter().enumerate() {
            progress.message(&format!("batch {b}: layer {}", l.name));
            let per_img: Vec<Vec<Vec<u8>>> = xs.iter().map(|x| qnet::layer_vectors(l, x)).collect();
            let vpi = per_img[0].len();
            let job = LayerJob {
                name: format!("{}:{}", f.name, l.name),
                w: l.matrix(),
                xs: per_img
                    .iter()
                    .flatten()
                    .map(|v| v.iter().map(|&p| p as u32).collect())
                    .collect(),
                objective: crate::compiler::map::Objective::Crossbars,
            };
            let mut units = Vec::new();
            let mapped = layer_units(cfg, &job, &[req.mapper], req.seed ^ b as u64, &mut units);
            let layer = Layer { job, mapped };
            let limit = timeouts.testbench(cfg, &work(cfg, &units), false);
            let (total, per_unit, layer_y) = run_testbench(
                cfg,
                tb,
                &units,
                Some(&layer),
                None,
                None,
                None,
                limit,
                &Silent,
            )?;
            let runs = summarize_layer(cfg, &layer, &per_unit, layer_y);
            let r = &runs[0];
            let mut m = total.mismatches + r.layer_mismatches;
            if r.rtl_cycles_parallel != r.cost_cycles_per_vector {
                m += 1;
                details.push(format!(
                    "layer {}: RTL cycles per vector {} != cost model {}",
                    l.name, r.rtl_cycles_parallel, r.cost_cycles_per_vector
                ));
            }
            details.extend(total.details.iter().take(5).cloned());
            if r.layer_mismatches > 0 {
                details.push(format!(
                    "layer {}: {} vectors whose tile sum differs from x W",
                    l.name, r.layer_mismatches
                ));
            }
            mismatches += m;
            let entry = layers[li].get_or_insert_with(|| LayerRun {
                name: l.name.clone(),
                rows: l.rows,
                cols: l.cols,
                vectors_per_image: vpi,
                tiles: r.tiles,
                crossbars: r.crossbars,
                cycles_rtl_per_vector: r.rtl_cycles_parallel,
                cycles_model_per_vector: r.cost_cycles_per_vector,
                cycles_rtl: vpi as u64 * r.rtl_cycles_parallel,
                cycles_model: vpi as u64 * r.cost_cycles_per_vector,
                mismatches: 0,
            });
            entry.mismatches += m;
            if entry.cycles_rtl_per_vector != r.rtl_cycles_parallel {
                bail!(
                    "internal error: layer {} cycles differ between batches",
                    l.name
                );
            }
            // Host: requantize and pool each image's accumulators.
            let ys = &r.layer_outputs;
            if ys.len() != batch.len() * vpi {
                bail!(
                    "layer {}: the RTL gave {} layer vectors, expected {}",
                    l.name,
                    ys.len(),
                    batch.len() * vpi
                );
            }
            let mut next = Vec::with_capacity(batch.len());
            logits.clear();
            for img in ys.chunks(vpi) {
                let acc: Vec<Vec<i64>> = img
                    .iter()
                    .map(|v| {
                        v.iter()
                            .map(|&a| a.clamp(i64::MIN as i128, i64::MAX as i128) as i64)
                            .collect()
                    })
                    .collect();
                let out = qnet::finish_layer(l, &acc)?;
                if li + 1 < f.layers.len() {
                    next.push(
                        out.iter()
                            .map(|&v| v.clamp(0, qnet::ACT_MAX) as u8)
                            .collect(),
                    );
                } else {
                    logits.push(out);
                }
            }
            xs = next;
        }
        for (i, z) in logits.iter().enumerate() {
            let gi = b * BATCH + i;
            let want = qnet::forward(reference, &req.images[gi])?;
            if &want != z && details.len() < 20 {
                details.push(format!(
                    "image {gi}: RTL logits {z:?} != integer model {want:?}"
                ));
            }
            per_image.push(ImageRun {
                label: req.labels[gi],
                class_rtl: qnet::argmax(z),
                class_integer: qnet::argmax(&want),
                logits_agree: &want == z,
            });
        }
        progress.inc(batch.len() as u64);
    }
    progress.finish();
    let layers: Vec<LayerRun> = layers.into_iter().flatten().collect();
    let n = per_image.len();
    let agree = per_image
        .iter()
        .filter(|r| r.class_rtl == r.class_integer)
        .count();
    let acc = |f: &dyn Fn(&ImageRun) -> bool| {
        if n == 0 {
            0.0
        } else {
            per_image.iter().filter(|r| f(r)).count() as f64 / n as f64
        }
    };
    let logits_agree = per_image.iter().filter(|r| r.logits_agree).count();
    let cycles_rtl = layers.iter().map(|l| l.cycles_rtl).sum();
    let cycles_model = layers.iter().map(|l| l.cycles_model).sum();
    details.truncate(20);
    Ok(InferReport {
        network: f.name.clone(),
        mapper: req.mapper,
        tag: cfg.tag(),
        images: n,
        agree,
        logits_agree,
        accuracy_rtl: acc(&|r| r.class_rtl == r.label as usize),
        accuracy_integer: acc(&|r| r.class_integer == r.label as usize),
        cycles_rtl,
        cycles_model,
        mismatches,
        ok: agree == n && logits_agree == n && mismatches == 0 && cycles_rtl == cycles_model,
        layers,
        per_image,
        details,
    })
}
