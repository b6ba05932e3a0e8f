//! The layer to verify: loading it from the arguments, cutting it to a block
//! and parsing its input vectors.

use super::limits::MAX_VECTORS;
use crate::compiler::pattern::Pattern;
use crate::config::TileConfig;
use crate::nets::Source;
use crate::program::WeightMatrix;
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};

/// Cuts `w` to its top-left `rows x cols` block (no-op when smaller).
pub fn cut(w: &WeightMatrix, rows: usize, cols: usize) -> WeightMatrix {
    let (r, c) = (w.rows.min(rows), w.cols.min(cols));
    let mut data = Vec::with_capacity(r * c);
    for i in 0..r {
        data.extend_from_slice(&w.data[i * w.cols..i * w.cols + c]);
    }
    WeightMatrix {
        rows: r,
        cols: c,
        data,
    }
}

/// Reads an inputs file (a regular file within the `inputs` size limit of
/// [`crate::input`]) with [`parse_inputs`].
pub(crate) fn read_inputs(path: &Path, len: usize, max: u32) -> Result<Vec<Vec<u32>>> {
    let text = crate::input::read_text(path, crate::input::InputKind::Inputs)?;
    parse_inputs(&text, len, max).with_context(|| format!("inputs file {}", path.display()))
}

/// Parses an inputs file: one vector per line, integers separated by commas
/// or whitespace, `#` comments; each value in `0..=max`, at most `len`
/// values per line (missing ones are zero).
pub(crate) fn parse_inputs(text: &str, len: usize, max: u32) -> Result<Vec<Vec<u32>>> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let mut x = Vec::new();
        for tok in line
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|t| !t.is_empty())
        {
            match tok.parse::<u32>() {
                Ok(v) if v <= max => x.push(v),
                _ => bail!(
                    "inputs line {}: `{}` is not an activation: valid integers 0..={max}",
                    i + 1,
                    crate::input::excerpt(tok)
                ),
            }
        }
        if x.len() > len {
            bail!(
                "inputs line {}: {} values, the layer (after --cut) has {len} inputs",
                i + 1,
                x.len()
            );
        }
        if out.len() == MAX_VECTORS {
            bail!(
                "inputs line {}: more than {MAX_VECTORS} vectors (the limit of one run)",
                i + 1
            );
        }
        super::limits::check_held(
            "the layer's input vectors",
            (out.len() as u64 + 1).saturating_mul(len as u64),
        )?;
        x.resize(len, 0);
        out.push(x);
    }
    if out.is_empty() {
        bail!("inputs file has no vectors");
    }
    Ok(out)
}

/// Where the weights of a verified layer come from.
#[derive(Clone, Debug)]
pub enum LayerWeights {
    /// An integer weights file (`sme compress --out`), used as it is.
    File(PathBuf),
    /// A network's float weights, quantized and projected onto `pattern`
    /// (built-in networks get synthetic weights from `seed + layer index`).
    Network {
        /// The network.
        source: Source,
        /// The bit-sparse pattern.
        pattern: Pattern,
        /// Seed of synthetic weights.
        seed: u64,
    },
}

/// A layer loaded for `sme verify`.
pub(crate) struct Loaded {
    /// `model:layer`, for messages.
    pub(crate) name: String,
    /// Its integer matrix (not cut yet).
    pub(crate) w: WeightMatrix,
    /// Where the weights came from (for network layers).
    pub(crate) note: Option<String>,
    /// The pattern and k a weights file declares.
    pub(crate) file_pattern: Option<(String, u32)>,
}

/// Loads layer `name` as an integer matrix.
pub(crate) fn load_layer(cfg: &TileConfig, weights: &LayerWeights, name: &str) -> Result<Loaded> {
    let (source, pattern, seed) = match weights {
        LayerWeights::File(path) => {
            let f = crate::weights::WeightsFile::load(path)?;
            let l = f.layer(name)?;
            f.check_fits(cfg)?;
            return Ok(Loaded {
                name: format!("{}:{name}", f.name),
                w: l.matrix(),
                note: None,
                file_pattern: Some((f.pattern.clone(), f.k)),
            });
        }
        LayerWeights::Network {
            source,
            pattern,
            seed,
        } => (source, pattern, *seed),
    };
    let mut net = source.load()?;
    let synthetic = source.synthetic();
    let Some(idx) = net.layers.iter().position(|l| l.name == name) else {
        let names: Vec<&str> = net.layers.iter().map(|l| l.name.as_str()).collect();
        bail!(
            "no layer `{name}` in {}: valid {}",
            net.name,
            names.join(", ")
        );
    };
    let layer = &mut net.layers[idx];
    if synthetic {
        crate::nets::synthesize(layer, seed.wrapping_add(idx as u64));
    }
    let (rows, cols, w) = crate::compiler::network::lower(layer);
    let (q, sqnr) = crate::compiler::network::quantize_project(cfg, rows, cols, &w, pattern);
    Ok(Loaded {
        name: format!("{}:{name}", net.name),
        w: q,
        note: Some(format!(
            "{} weights, pattern {pattern:?}, SQNR {sqnr:.1} dB",
            if synthetic {
                "synthetic Laplace"
            } else {
                "real"
            }
        )),
        file_pattern: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrix(rows: usize, cols: usize) -> WeightMatrix {
        WeightMatrix {
            rows,
            cols,
            data: (0..(rows * cols) as i32).collect(),
        }
    }

    #[test]
    fn cut_takes_the_top_left_block() {
        let w = matrix(3, 4);
        let c = cut(&w, 2, 3);
        assert_eq!((c.rows, c.cols), (2, 3));
        assert_eq!(c.data, vec![0, 1, 2, 4, 5, 6]);
        let same = cut(&w, 10, 10);
        assert_eq!((same.rows, same.cols, &same.data), (3, 4, &w.data));
    }

    #[test]
    fn inputs_parse_with_comments_separators_and_padding() {
        let x = parse_inputs("# header\n1, 2 3\n\n4 # tail\n", 4, 7).unwrap();
        assert_eq!(x, vec![vec![1, 2, 3, 0], vec![4, 0, 0, 0]]);
    }

    #[test]
    fn inputs_errors_name_line_and_range() {
        let e = parse_inputs("1\n9\n", 2, 7).unwrap_err().to_string();
        assert!(e.contains("line 2") && e.contains("0..=7"), "{e}");
        let e = parse_inputs("1 2 3\n", 2, 7).unwrap_err().to_string();
        assert!(e.contains("3 values") && e.contains("2 inputs"), "{e}");
        let e = parse_inputs("# only a comment\n", 2, 7)
            .unwrap_err()
            .to_string();
        assert!(e.contains("no vectors"), "{e}");
        let many = "1\n".repeat(MAX_VECTORS + 1);
        let e = parse_inputs(&many, 1, 7).unwrap_err().to_string();
        assert!(e.contains("more than 100000 vectors"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let e = read_inputs(dir.path(), 1, 7).unwrap_err().to_string();
        assert!(e.contains("not a regular file"), "{e}");
    }
}
