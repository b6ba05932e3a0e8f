//! The handwritten digits and MNIST data sets: loading (gzip or plain CSV)
//! and a deterministic, stratified train/test split.
//!
//! File format: one row per image, the integer pixels (digits: 64 in
//! `0..=16`, an 8x8 image; MNIST: 784 in `0..=255`, a 28x28 image; row by
//! row) then the class label in `0..=9`, comma separated, no header. Blank lines are skipped. Every malformed row is reported with
//! its 1-based line number; user input never panics.

use anyhow::{Context, Result, bail};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use std::path::Path;

/// Pixels per image.
pub(crate) const PIXELS: usize = 64;
/// Largest pixel value.
pub(crate) const MAX_PIXEL: u8 = 16;
/// Number of classes.
pub(crate) const CLASSES: usize = 10;
/// MNIST image side (28 x 28 pixels).
pub(crate) const MNIST_SIDE: usize = 28;
/// MNIST pixels per image.
pub(crate) const MNIST_PIXELS: usize = MNIST_SIDE * MNIST_SIDE;
/// Largest MNIST pixel value.
pub(crate) const MNIST_MAX_PIXEL: u8 = 255;

/// Labelled images: `x` is row-major `len x pixels` integer pixels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dataset {
    /// Pixels, `pixels` per image.
    pub x: Vec<u8>,
    /// Labels in `0..CLASSES`.
    pub y: Vec<u8>,
    /// Pixels per image ([`PIXELS`] for the digits, [`MNIST_PIXELS`]).
    pub pixels: usize,
}

impl Default for Dataset {
    /// An empty digits data set ([`PIXELS`] pixels per image).
    fn default() -> Self {
        Dataset {
            x: Vec::new(),
            y: Vec::new(),
            pixels: PIXELS,
        }
    }
}

impl Dataset {
    /// Number of images.
    pub fn len(&self) -> usize {
        self.y.len()
    }

    /// True when there are no images.
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    /// The pixels of image `i`.
    pub fn image(&self, i: usize) -> &[u8] {
        &self.x[i * self.pixels..(i + 1) * self.pixels]
    }

    /// The images at `idx`, in that order.
    pub fn subset(&self, idx: &[usize]) -> Dataset {
        let mut out = Dataset {
            x: Vec::with_capacity(idx.len() * self.pixels),
            y: Vec::with_capacity(idx.len()),
            pixels: self.pixels,
        };
        for &i in idx {
            out.x.extend_from_slice(self.image(i));
            out.y.push(self.y[i]);
        }
        out
    }
}

/// Parses digits CSV text (see the module doc). Errors name the 1-based line.
pub(crate) fn parse_digits(text: &str) -> Result<Dataset> {
    parse_images(text, PIXELS, MAX_PIXEL)
}

/// Parses MNIST CSV text: 784 pixels `0..=255` and a label per row.
pub(crate) fn parse_mnist(text: &str) -> Result<Dataset> {
    parse_images(text, MNIST_PIXELS, MNIST_MAX_PIXEL)
}

/// Parses CSV rows of `pixels` pixels in `0..=max_pixel` and a label.
/// Errors name the 1-based line.
pub(crate) fn parse_images(text: &str, pixels: usize, max_pixel: u8) -> Result<Dataset> {
    let mut d = Dataset {
        pixels,
        ..Dataset::default()
    };
    for (i, line) in crate::input::strip_bom(text).lines().enumerate() {
        let n = i + 1;
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if fields.len() != pixels + 1 {
            bail!(
                "line {n}: {} columns, expected {} ({pixels} pixels and a label)",
                fields.len(),
                pixels + 1
            );
        }
        for (j, f) in fields.iter().enumerate() {
            let v = parse_int(f).with_context(|| {
                format!(
                    "line {n}, column {}: `{}` is not an integer",
                    j + 1,
                    crate::input::excerpt(f)
                )
            })?;
            if j < pixels {
                if !(0..=max_pixel as i64).contains(&v) {
                    bail!(
                        "line {n}, column {}: pixel {v} is out of range: valid 0..={max_pixel}",
                        j + 1
                    );
                }
                d.x.push(v as u8);
            } else {
                if !(0..CLASSES as i64).contains(&v) {
                    bail!(
                        "line {n}, column {}: label {v} is out of range: valid 0..={}",
                        j + 1,
                        CLASSES - 1
                    );
                }
                d.y.push(v as u8);
            }
        }
    }
    if d.is_empty() {
        bail!("no data rows");
    }
    Ok(d)
}

/// Integers, also written as `3.0` (some exports do); anything else fails.
fn parse_int(f: &str) -> Option<i64> {
    if let Ok(v) = f.parse::<i64>() {
        return Some(v);
    }
    let x: f64 = f.parse().ok()?;
    (x.is_finite() && x.fract() == 0.0 && x.abs() < 1e9).then_some(x as i64)
}

/// Reads a digits file, gzip-compressed (detected by its magic bytes) or
/// plain CSV.
pub fn load_digits(path: &Path) -> Result<Dataset> {
    let text = crate::input::read_text_maybe_gz(path, crate::input::InputKind::Data)?;
    parse_digits(&text).with_context(|| format!("digits data {}", path.display()))
}

/// Reads an MNIST file (784 pixels `0..=255` and a label per row), gzip or
/// plain CSV.
pub(crate) fn load_mnist(path: &Path) -> Result<Dataset> {
    let text = crate::input::read_text_maybe_gz(path, crate::input::InputKind::Data)?;
    parse_mnist(&text).with_context(|| format!("MNIST data {}", path.display()))
}

/// How the rows were split.
#[derive(Clone, Debug, PartialEq)]
pub struct Split {
    /// Row indices (into the file's data rows) used for training, ascending.
    pub train: Vec<usize>,
    /// Row indices held out for testing, ascending; disjoint from `train`.
    pub test: Vec<usize>,
}

/// Stratified split: the rows of each class, in file order, are shuffled
/// with `StdRng::seed_from_u64(seed)` (one generator, classes 0..9 in turn)
/// and the first `round(n_c * test_fraction)` go to the test set. Both
/// index lists are returned sorted. Deterministic for a given seed.
pub fn split(d: &Dataset, test_fraction: f64, seed: u64) -> Split {
    let mut rng = StdRng::seed_from_u64(seed);
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for c in 0..CLASSES as u8 {
        let mut idx: Vec<usize> = (0..d.len()).filter(|&i| d.y[i] == c).collect();
        idx.shuffle(&mut rng);
        let n_test = ((idx.len() as f64) * test_fraction).round() as usize;
        test.extend_from_slice(&idx[..n_test.min(idx.len())]);
        train.extend_from_slice(&idx[n_test.min(idx.len())..]);
    }
    train.sort_unstable();
    test.sort_unstable();
    Split { train, test }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(px: u8, label: u8) -> String {
        let mut f: Vec<String> = (0..PIXELS).map(|_| px.to_string()).collect();
        f.push(label.to_string());
        f.join(",")
    }

    fn err(text: &str) -> String {
        format!("{:#}", parse_digits(text).unwrap_err())
    }

    #[test]
    fn parses_rows_and_skips_blank_lines() {
        let text = format!("{}\n\n{}\n", row(3, 1), row(16, 9));
        let d = parse_digits(&text).unwrap();
        assert_eq!(d.len(), 2);
        assert_eq!(d.y, vec![1, 9]);
        assert_eq!(d.image(1), &[16u8; 64][..]);
        let d2 = parse_digits(&format!("{}\n", row(3, 1).replace(",3", ",3.0"))).unwrap();
        assert_eq!(d2.image(0), &[3u8; 64][..]);
    }

    #[test]
    fn malformed_rows_name_the_line() {
        let good = row(1, 2);
        let e = err(&format!("{good}\n{good},5\n"));
        assert!(e.contains("line 2: 66 columns, expected 65"), "{e}");
        let e = err(&format!("{good}\n\n{}\n", good.replacen("1", "x", 1)));
        assert!(e.contains("line 3, column 1: `x` is not an integer"), "{e}");
        let e = err(&format!("{}\n", good.replacen("1", "2.5", 1)));
        assert!(
            e.contains("line 1, column 1: `2.5` is not an integer"),
            "{e}"
        );
        let e = err(&row(17, 0));
        assert!(
            e.contains("line 1, column 1: pixel 17 is out of range: valid 0..=16"),
            "{e}"
        );
        let e = err(&row(0, 10));
        assert!(
            e.contains("line 1, column 65: label 10 is out of range: valid 0..=9"),
            "{e}"
        );
        let e = err(&format!("{}\n", good.replacen("1", "-1", 1)));
        assert!(e.contains("pixel -1 is out of range"), "{e}");
        assert!(err("").contains("no data rows"));
        assert!(err("1,2,3").contains("line 1: 3 columns"));
        let e = format!("{:#}", parse_mnist(&row(1, 2)).unwrap_err());
        assert!(e.contains("65 columns, expected 785 (784 pixels"), "{e}");
        let mut f: Vec<String> = (0..MNIST_PIXELS).map(|_| "255".to_string()).collect();
        f.push("7".into());
        let d = parse_mnist(&f.join(",")).unwrap();
        assert_eq!((d.len(), d.pixels, d.image(0)[783]), (1, 784, 255));
        f[3] = "256".into();
        let e = format!("{:#}", parse_mnist(&f.join(",")).unwrap_err());
        assert!(
            e.contains("column 4: pixel 256 is out of range: valid 0..=255"),
            "{e}"
        );
    }

    #[test]
    fn load_reports_missing_and_bad_gzip() {
        let dir = std::env::temp_dir();
        let missing = dir.join(format!("sme-no-such-{}.csv.gz", std::process::id()));
        let e = format!("{:#}", load_digits(&missing).unwrap_err());
        assert!(e.contains("cannot read data file"), "{e}");
        let bad = dir.join(format!("sme-bad-gz-{}.csv.gz", std::process::id()));
        std::fs::write(&bad, [0x1f, 0x8b, 0, 1, 2, 3]).unwrap();
        let e = format!("{:#}", load_digits(&bad).unwrap_err());
        std::fs::remove_file(&bad).ok();
        assert!(e.contains("not valid gzip"), "{e}");
    }

    #[test]
    fn split_is_deterministic_disjoint_and_stratified() {
        let mut d = Dataset::default();
        for i in 0..503 {
            d.x.extend(std::iter::repeat_n((i % 17) as u8, PIXELS));
            d.y.push((i * 7 % 10) as u8);
        }
        let a = split(&d, 0.2, 7);
        assert_eq!(a, split(&d, 0.2, 7));
        assert_ne!(a.test, split(&d, 0.2, 8).test);
        assert_eq!(a.train.len() + a.test.len(), d.len());
        let mut all: Vec<usize> = a.train.iter().chain(&a.test).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..d.len()).collect::<Vec<_>>());
        for c in 0..10u8 {
            let n = d.y.iter().filter(|&&y| y == c).count();
            let t = a.test.iter().filter(|&&i| d.y[i] == c).count();
            assert_eq!(t, (n as f64 * 0.2).round() as usize);
        }
    }
}
