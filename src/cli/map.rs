//! `sme map`: compile a network and print/write the per-layer and total
//! report. Formatting only; the work is in [`crate::compiler::network`].

use super::output::Outputs;
use super::{Bar, ConfigArgs, NetArgs, PatternArgs};
use crate::compiler::map::{Mapper, Objective};
use crate::compiler::network::{MapRequest, NetworkReport, map_network};
use crate::cost::{PresetName, speedup_equal_budget};
use crate::nets::Source;
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;

/// Arguments of `sme map`.
#[derive(Args, Debug)]
pub struct MapArgs {
    /// Tile configuration.
    #[command(flatten)]
    pub cfg: ConfigArgs,
    /// The network.
    #[command(flatten)]
    pub net: NetArgs,
    /// Bit-sparse pattern.
    #[command(flatten)]
    pub pattern: PatternArgs,
    /// Seed of the synthetic weights of built-in networks.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Energy/area preset.
    #[arg(long, value_enum, default_value_t = PresetName::Isaac32)]
    pub preset: PresetName,
    /// What the mappers optimize inside a tile: fewest crossbars, or the
    /// tile's windows spread over all its crossbars (shortest op lists,
    /// same tiles).
    #[arg(long, value_enum, default_value_t = Objective::Crossbars)]
    pub objective: Objective,
    /// Write the full report as JSON (`-` for standard output).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write one CSV row per layer (`-` for standard output).
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// Only the first N layers (quick looks).
    #[arg(long)]
    pub layers: Option<usize>,
}

/// The network source of `--net` / `--onnx` (with `--input-shape`).
pub(crate) fn source(
    net: Option<&str>,
    onnx: Option<&std::path::Path>,
    input_shape: Option<&str>,
) -> Result<Source> {
    if let Some(name) = net {
        return Ok(Source::Builtin(name.to_string()));
    }
    let Some(path) = onnx else {
        anyhow::bail!("give a network: --net NAME or --onnx FILE");
    };
    let input_shape = input_shape
        .map(|s| super::args::parse_dims(s, "--input-shape", "3x48x192"))
        .transpose()?;
    Ok(Source::Onnx {
        path: path.to_path_buf(),
        input_shape,
    })
}

/// Run `sme map`.
pub fn run(a: &MapArgs) -> Result<()> {
    let cfg = a.cfg.validated()?;
    let pattern = a.pattern.resolve(&cfg)?;
    let mut outputs = Outputs::new(a.net.files().chain(a.cfg.config.as_deref()));
    let json = outputs.claim("--json", a.json.as_deref())?;
    let csv = outputs.claim("--csv", a.csv.as_deref())?;
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
    // Counts saturate instead of wrapping; a saturated total is refused.
    for m in Mapper::ALL {
        let sat = rep.totals.cost[m].saturated();
        if !sat.is_empty() {
            anyhow::bail!(
                "the {} totals overflow 64 bits ({}): the network is too large to count (limits: docs/limits.md)",
                m.name(),
                sat.join(", ")
            );
        }
    }
    let b = &rep.totals.bounds;
    if [b.cell_crossbars, b.packing_crossbars, b.cycles].contains(&u64::MAX) {
        anyhow::bail!(
            "the bound totals overflow 64 bits: the network is too large to count (limits: docs/limits.md)"
        );
    }
    print_report(&rep, &mut outputs.human())?;
    let mut files = Vec::new();
    if let Some(t) = json {
        files.push((t, serde_json::to_string_pretty(&rep)? + "\n"));
    }
    if let Some(t) = csv {
        files.push((t, csv_text(&rep)?));
    }
    Outputs::commit(files)
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

fn print_report(rep: &NetworkReport, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let p = &rep.config;
    writeln!(
        out,
        "sme map: {} ({}), pattern {}, tile {}x{} C={} Q={} OU {}x{} N={}, preset {} [{}]",
        rep.network,
        if rep.synthetic_weights {
            format!("synthetic Laplace weights, seed {}", rep.seed)
        } else if rep.integer_weights {
            "integer weights file, mapped as they are".into()
        } else {
            "real weights".into()
        },
        if rep.integer_weights {
            "from the file".to_string()
        } else {
            format!("{:?}", rep.pattern)
        },
        p.rows,
        p.cols,
        p.cell_bits,
        p.weight_bits,
        p.ou_rows,
        p.ou_cols,
        p.xbars,
        rep.preset.name,
        rep.preset.source
    )?;
    writeln!(
        out,
        "{:<28} {:>6} {:>11} {:>6} {:>6} | {:>7} {:>7} {:>7} {:>6} {:>6} | {:>6} {:>6} {:>6}",
        "layer",
        "kind",
        "KxN",
        "vec",
        "SQNR",
        "dense",
        "sre",
        "sme",
        "cell",
        "pack",
        "cyc_d",
        "cyc_r",
        "cyc_s"
    )?;
    for l in &rep.layers {
        let c = &l.cost;
        writeln!(
            out,
            "{:<28} {:>6} {:>11} {:>6} {:>6.1} | {:>7} {:>7} {:>7} {:>6} {:>6} | {:>6} {:>6} {:>6}",
            truncate(&l.name, 28),
            truncate(&l.kind, 6),
            format!("{}x{}", l.rows, l.cols),
            l.vectors,
            l.sqnr_db,
            c[Mapper::Dense].crossbars,
            c[Mapper::Sre].crossbars,
            c[Mapper::Sme].crossbars,
            l.bounds.cell_crossbars,
            l.bounds.packing_crossbars,
            c[Mapper::Dense].cycles_per_vector,
            c[Mapper::Sre].cycles_per_vector,
            c[Mapper::Sme].cycles_per_vector
        )?;
    }
    let t = &rep.totals;
    let d = &t.cost[Mapper::Dense];
    writeln!(out, "totals (one inference):")?;
    for (m, c) in t.cost.iter() {
        writeln!(
            out,
            "  {:<6} crossbars {:>8}  cycles {:>12}  ADC conv {:>14}  energy {:>12.3} uJ  area {:>9.3} mm^2  speedup@equal-crossbars vs dense {:>6.2}x",
            m.name(),
            c.crossbars,
            c.cycles,
            c.adc_conversions,
            c.energy_pj / 1e6,
            c.area_um2 / 1e6,
            speedup_equal_budget(d, c)
        )?;
    }
    writeln!(
        out,
        "  bounds: cell {} crossbars, packing {} crossbars, cycles {}",
        t.bounds.cell_crossbars, t.bounds.packing_crossbars, t.bounds.cycles
    )?;
    let ratio = |a: u64, b: u64| {
        if b == 0 {
            f64::INFINITY
        } else {
            a as f64 / b as f64
        }
    };
    let (r, s) = (&t.cost[Mapper::Sre], &t.cost[Mapper::Sme]);
    writeln!(
        out,
        "  crossbar reduction: sme vs dense {:.2}x, sme vs sre {:.2}x; sme / packing bound {:.3}; speedup sme vs sre at equal crossbars {:.2}x",
        ratio(d.crossbars, s.crossbars),
        ratio(r.crossbars, s.crossbars),
        ratio(s.crossbars, t.bounds.packing_crossbars),
        t.speedup_sme_vs_sre
    )?;
    Ok(())
}

/// One CSV row per layer (the `csv` crate quotes names with commas, quotes
/// or newlines).
fn csv_text(rep: &NetworkReport) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "layer",
        "kind",
        "rows",
        "cols",
        "groups",
        "vectors",
        "sqnr_db",
        "zero_bit_fraction",
        "dense_crossbars",
        "sre_crossbars",
        "sme_crossbars",
        "cell_bound",
        "packing_bound",
        "dense_cycles",
        "sre_cycles",
        "sme_cycles",
        "cycle_bound",
        "dense_energy_pj",
        "sre_energy_pj",
        "sme_energy_pj",
    ])?;
    for l in &rep.layers {
        let c = &l.cost;
        let mut row = vec![
            l.name.clone(),
            l.kind.clone(),
            l.rows.to_string(),
            l.cols.to_string(),
            l.groups.to_string(),
            l.vectors.to_string(),
            format!("{:.3}", l.sqnr_db),
            format!("{:.4}", l.zero_bit_fraction),
        ];
        row.extend(Mapper::ALL.map(|m| c[m].crossbars.to_string()));
        row.push(l.bounds.cell_crossbars.to_string());
        row.push(l.bounds.packing_crossbars.to_string());
        row.extend(Mapper::ALL.map(|m| c[m].cycles.to_string()));
        row.push(l.cycle_bound.to_string());
        row.extend(Mapper::ALL.map(|m| format!("{:.1}", c[m].energy_pj)));
        w.write_record(&row)?;
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}
