//! `sme map`: compile a network and print/write the per-layer and total
//! report. Output formatting only; the work is in [`crate::compiler`] and
//! [`crate::cost`].

use crate::cli::MapArgs;
use crate::compiler::network::{LayerReport, compile_layer, report_matrix};
use crate::cost::{Cost, preset, speedup_equal_budget};
use crate::nets::{self, Network};
use crate::outdir;
use anyhow::{Context, Result, bail};
use serde_json::json;
use std::path::Path;

/// Load a network: built-in shapes without weights (`synthetic` = true; the
/// caller synthesizes each layer), or a full ONNX model with an optional
/// `CxHxW` input shape.
pub fn load_network(
    net: Option<&str>,
    onnx: Option<&Path>,
    input_shape: Option<&str>,
) -> Result<(Network, bool)> {
    if let Some(name) = net {
        return Ok((nets::builtin_shapes(name)?, true));
    }
    let Some(path) = onnx else {
        bail!("give a network: --net NAME or --onnx FILE");
    };
    let net = match input_shape {
        Some(s) => {
            let dims: Option<Vec<usize>> =
                s.split(['x', 'X']).map(|d| d.trim().parse().ok()).collect();
            match dims {
                Some(d) if !d.is_empty() && d.iter().all(|&v| v > 0) => {
                    nets::load_onnx_with_input(path, &d)?
                }
                _ => bail!("--input-shape `{s}`: expected positive dimensions like 3x48x192"),
            }
        }
        None => nets::load_onnx(path)?,
    };
    Ok((net, false))
}

fn totals(reports: &[LayerReport]) -> (Cost, Cost, Cost, u64, u64, u64) {
    let (mut d, mut r, mut s) = (Cost::default(), Cost::default(), Cost::default());
    let (mut cell, mut pack, mut cyc) = (0, 0, 0);
    for l in reports {
        d.add(&l.dense);
        r.add(&l.sre);
        s.add(&l.sme);
        cell += l.bounds.cell_crossbars;
        pack += l.bounds.packing_crossbars;
        cyc += l.cycle_bound;
    }
    (d, r, s, cell, pack, cyc)
}

/// Run `sme map`.
pub fn run_map(args: &MapArgs) -> Result<()> {
    let cfg = args.cfg.validated()?;
    let pattern = args.pattern.resolve(&cfg)?;
    let preset = preset(&args.preset).map_err(anyhow::Error::msg)?;
    let mut ints: Option<Vec<crate::program::WeightMatrix>> = None;
    let (mut net, synthetic) = match &args.weights {
        Some(path) => {
            let f = crate::weights::WeightsFile::load(path)?;
            f.check_fits(&cfg)?;
            ints = Some(f.layers.iter().map(|l| l.matrix()).collect());
            (f.network(), false)
        }
        None => load_network(
            args.net.as_deref(),
            args.onnx.as_deref(),
            args.input_shape.as_deref(),
        )?,
    };
    for w in &net.warnings {
        eprintln!("warning: {w}");
    }
    if let Some(n) = args.layers {
        net.layers.truncate(n);
    }
    let bar = indicatif::ProgressBar::new(net.layers.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} mapping {msg} [{bar:30}] {pos}/{len} layers {elapsed}",
        )
        .expect("valid template"),
    );
    let mut reports = Vec::new();
    for (i, layer) in net.layers.iter_mut().enumerate() {
        bar.set_message(layer.name.clone());
        if synthetic {
            nets::synthesize(layer, args.seed.wrapping_add(i as u64));
        }
        reports.push(match &ints {
            // Integer weights are mapped as they are (no float reference:
            // SQNR is NaN, null in JSON).
            Some(ms) => report_matrix(&cfg, layer, &ms[i], f64::NAN, preset),
            None => compile_layer(&cfg, layer, &pattern, preset),
        });
        if synthetic {
            layer.weights = Vec::new();
        }
        bar.inc(1);
    }
    bar.finish_and_clear();

    println!(
        "sme map: {} ({}), pattern {:?}, tile {}x{} C={} Q={} OU {}x{} N={}, preset {} [{}]",
        net.name,
        if synthetic {
            format!("synthetic Laplace weights, seed {}", args.seed)
        } else if ints.is_some() {
            "integer weights file, mapped as they are".into()
        } else {
            "real weights".into()
        },
        if ints.is_some() {
            "from the file".to_string()
        } else {
            format!("{pattern:?}")
        },
        cfg.params.rows,
        cfg.params.cols,
        cfg.params.cell_bits,
        cfg.params.weight_bits,
        cfg.params.ou_rows,
        cfg.params.ou_cols,
        cfg.params.xbars,
        preset.name,
        preset.source
    );
    println!(
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
    );
    for l in &reports {
        println!(
            "{:<28} {:>6} {:>11} {:>6} {:>6.1} | {:>7} {:>7} {:>7} {:>6} {:>6} | {:>6} {:>6} {:>6}",
            truncate(&l.name, 28),
            truncate(&l.kind, 6),
            format!("{}x{}", l.rows, l.cols),
            l.vectors,
            l.sqnr_db,
            l.dense.crossbars,
            l.sre.crossbars,
            l.sme.crossbars,
            l.bounds.cell_crossbars,
            l.bounds.packing_crossbars,
            l.dense.cycles_per_vector,
            l.sre.cycles_per_vector,
            l.sme.cycles_per_vector
        );
    }
    let (d, r, s, cell, pack, cyc) = totals(&reports);
    let ratio = |a: u64, b: u64| {
        if b == 0 {
            f64::INFINITY
        } else {
            a as f64 / b as f64
        }
    };
    println!("totals (one inference):");
    for (name, c) in [("dense", &d), ("sre", &r), ("sme", &s)] {
        println!(
            "  {:<6} crossbars {:>8}  cycles {:>12}  ADC conv {:>14}  energy {:>12.3} uJ  area {:>9.3} mm^2  speedup@equal-crossbars vs dense {:>6.2}x",
            name,
            c.crossbars,
            c.cycles,
            c.adc_conversions,
            c.energy_pj / 1e6,
            c.area_um2 / 1e6,
            speedup_equal_budget(&d, c)
        );
    }
    println!(
        "  bounds: cell {} crossbars, packing {} crossbars, cycles {}",
        cell, pack, cyc
    );
    println!(
        "  crossbar reduction: sme vs dense {:.2}x, sme vs sre {:.2}x; sme / packing bound {:.3}; speedup sme vs sre at equal crossbars {:.2}x",
        ratio(d.crossbars, s.crossbars),
        ratio(r.crossbars, s.crossbars),
        ratio(s.crossbars, pack),
        speedup_equal_budget(&r, &s)
    );

    if let Some(path) = &args.json {
        let doc = json!({
            "network": net.name,
            "synthetic_weights": synthetic,
            "seed": args.seed,
            "pattern": pattern,
            "config": cfg.params,
            "preset": {"name": preset.name, "source": preset.source},
            "speedup_definition": "(cycles_dense x crossbars_dense) / (cycles_x x crossbars_x): throughput at equal crossbar budget",
            "layers": reports,
            "totals": {
                "dense": d, "sre": r, "sme": s,
                "bounds": {"cell_crossbars": cell, "packing_crossbars": pack, "cycles": cyc},
                "speedup_vs_dense": {"sre": speedup_equal_budget(&d, &r), "sme": speedup_equal_budget(&d, &s)},
                "speedup_sme_vs_sre": speedup_equal_budget(&r, &s),
            },
        });
        write_file(path, &(serde_json::to_string_pretty(&doc)? + "\n"))?;
    }
    if let Some(path) = &args.csv {
        let mut text = String::from(
            "layer,kind,rows,cols,groups,vectors,sqnr_db,zero_bit_fraction,dense_crossbars,sre_crossbars,sme_crossbars,cell_bound,packing_bound,dense_cycles,sre_cycles,sme_cycles,cycle_bound,dense_energy_pj,sre_energy_pj,sme_energy_pj\n",
        );
        for l in &reports {
            text.push_str(&format!(
                "{},{},{},{},{},{},{:.3},{:.4},{},{},{},{},{},{},{},{},{},{:.1},{:.1},{:.1}\n",
                l.name.replace(',', ";"),
                l.kind,
                l.rows,
                l.cols,
                l.groups,
                l.vectors,
                l.sqnr_db,
                l.zero_bit_fraction,
                l.dense.crossbars,
                l.sre.crossbars,
                l.sme.crossbars,
                l.bounds.cell_crossbars,
                l.bounds.packing_crossbars,
                l.dense.cycles,
                l.sre.cycles,
                l.sme.cycles,
                l.cycle_bound,
                l.dense.energy_pj,
                l.sre.energy_pj,
                l.sme.energy_pj
            ));
        }
        write_file(path, &text)?;
    }
    Ok(())
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n).collect()
    }
}

/// Write one file via a temporary name and a rename.
fn write_file(path: &Path, text: &str) -> Result<()> {
    outdir::write_file(path, text).with_context(|| format!("cannot write {}", path.display()))
}
