//! `sme chip`: map a network with the three mappers, place every layer on
//! a chip, replicate bottleneck layers, and print/write throughput,
//! latency, energy, area and power. Formatting only; the work is in
//! [`crate::chip`] and [`crate::compiler::network`].

use super::output::Outputs;
use super::{Bar, ConfigArgs, NetArgs, PatternArgs};
use crate::chip::{self, ChipReport, ChipResult, ChipSize};
use crate::compiler::map::Objective;
use crate::compiler::network::{MapRequest, map_network};
use crate::cost::PresetName;
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;

/// Arguments of `sme chip`.
#[derive(Args, Debug)]
pub struct ChipArgs {
    /// Tile configuration: overrides ISAAC's tile (128x128, C=2, Q=16,
    /// A=16, D=1, OU 128x128, 8-bit ADC, N=8, 1024 inputs, 128 outputs).
    #[command(flatten)]
    pub cfg: ConfigArgs,
    /// The network.
    #[command(flatten)]
    pub net: NetArgs,
    /// The chip: `isaac` (168 tiles of 12 IMAs of 8 crossbars), `fit-dense`,
    /// `fit-sre`, `fit-sme` (the smallest chip holding that mapping), or a
    /// crossbar count. An error when no mapping fits it.
    #[arg(long, value_name = "C")]
    pub chip: ChipSize,
    /// Further chips for the same mappings, comma-separated (written as
    /// `others`; a mapping that does not fit is reported, not an error).
    #[arg(long, value_name = "C,..", value_delimiter = ',')]
    pub also: Vec<ChipSize>,
    /// Bit-sparse pattern.
    #[command(flatten)]
    pub pattern: PatternArgs,
    /// Seed of the synthetic weights of built-in networks.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Energy/area preset of the crossbars and their periphery.
    #[arg(long, value_enum, default_value_t = PresetName::Isaac32)]
    pub preset: PresetName,
    /// What the mappers optimize inside a tile. A chip allocates whole
    /// tiles, so `balanced` (each tile's work spread over all its
    /// crossbars: same tiles, never more cycles) is the default here.
    #[arg(long, value_enum, default_value_t = Objective::Balanced)]
    pub objective: Objective,
    /// Write the report as JSON (`-` for standard output).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Only the first N layers (quick looks).
    #[arg(long)]
    pub layers: Option<usize>,
}

/// Run `sme chip`.
pub fn run(a: &ChipArgs) -> Result<()> {
    let preset = &chip::ISAAC;
    let cfg = preset.tile().overlay(&a.cfg.params()?).validate()?;
    let pattern = a.pattern.resolve(&cfg)?;
    let mut outputs = Outputs::new(a.net.files().chain(a.cfg.config.as_deref()));
    let json = outputs.claim("--json", a.json.as_deref())?;
    let input = a.net.input(&cfg)?;
    for w in &input.network().warnings {
        eprintln!("warning: {w}");
    }
    let req = MapRequest {
        pattern,
        seed: a.seed,
        preset: a.preset,
        objective: a.objective,
        layers: a.layers,
    };
    let rep = map_network(&cfg, input, &req, &Bar::new("layers"));
    let r = chip::report(&cfg, &rep, a.preset.preset(), preset, a.chip, &a.also)?;
    print_report(&r, &mut outputs.human())?;
    let mut files = Vec::new();
    if let Some(t) = json {
        files.push((t, serde_json::to_string_pretty(&r)? + "\n"));
    }
    Outputs::commit(files)
}

fn print_chip(res: &ChipResult, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let c = &res.chip;
    writeln!(
        out,
        "chip {}: {} crossbars, {} tiles of {} ({} clusters of {}), {:.1} mm^2, {:.2} W, cycle {} ns, {} ADC(s) per crossbar",
        c.name,
        c.crossbars,
        c.tiles,
        c.crossbars_per_tile,
        c.clusters,
        c.tiles_per_cluster,
        c.area_mm2,
        c.power_w,
        c.cycle_ns,
        c.adcs_per_crossbar
    )?;
    for (m, p) in res.mappers.iter() {
        if !p.fits {
            writeln!(
                out,
                "  {:<6} does not fit: needs {} crossbars ({} tiles)",
                m.name(),
                p.crossbars_needed,
                p.tiles_needed
            )?;
            continue;
        }
        let b = p.bottleneck.as_ref();
        writeln!(
            out,
            "  {:<6} {:>12.1} inf/s  latency {:>10.3} ms  energy {:>10.3} mJ  crossbars {:>6} ({:>5.1} %)  tiles {:>5} ({:>5.1} %)  bottleneck {} x{}",
            m.name(),
            p.throughput_ips.unwrap_or(0.0),
            p.latency_s.unwrap_or(0.0) * 1e3,
            p.energy_j.unwrap_or(0.0) * 1e3,
            p.crossbars,
            100.0 * p.crossbar_utilization,
            p.tiles,
            100.0 * p.tile_utilization,
            b.map_or("-", |b| b.layer.as_str()),
            b.map_or(0, |b| b.replicas)
        )?;
    }
    Ok(())
}

fn print_report(r: &ChipReport, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let p = &r.config;
    writeln!(
        out,
        "sme chip: {}, pattern {:?}, tile {}x{} C={} Q={} A={} OU {}x{} ADC {} b N={}, chip preset {}, preset {}",
        r.network,
        r.pattern,
        p.rows,
        p.cols,
        p.cell_bits,
        p.weight_bits,
        p.act_bits,
        p.ou_rows,
        p.ou_cols,
        p.adc_bits,
        p.xbars,
        r.chip_preset.name,
        r.preset.name
    )?;
    print_chip(
        &ChipResult {
            chip: r.chip.clone(),
            mappers: r.mappers.clone(),
        },
        out,
    )?;
    for o in &r.others {
        print_chip(o, out)?;
    }
    Ok(())
}
