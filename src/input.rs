//! Reading input files with a size limit: the one place the library and the
//! command line read a user-given file (`--config`, `--onnx`, `--weights`,
//! `--data`, `--input-file`, `sme check`'s results).
//!
//! Every read
//! - refuses what is not a regular file (a directory, FIFO, socket or device
//!   such as `/dev/zero`) before opening it, so nothing blocks or streams
//!   forever;
//! - refuses a file larger than its kind's limit ([`InputKind::limit`]),
//!   from its size before reading and again while reading (a file that grows
//!   or reports no size);
//! - for gzip, stops decompressing at the same limit, so a small gzip bomb
//!   never inflates past it.
//!
//! Text is UTF-8; a leading byte-order mark is stripped. Error messages name
//! the kind of file, the path, the limit and the environment variable that
//! raises it, and quote at most a short excerpt of offending input
//! ([`excerpt`]). The limits are listed in `docs/limits.md`.

use anyhow::{Context, Result, anyhow, bail};
use std::io::Read;
use std::path::Path;

/// The kinds of input file, each with its own size limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputKind {
    /// A tile configuration (`--config`, TOML).
    Config,
    /// An ONNX model (`--onnx`).
    Onnx,
    /// An integer weights file (`--weights`, JSON).
    Weights,
    /// Training data (`--data`, CSV, optionally gzip-compressed; the limit
    /// applies to the file and to its decompressed text).
    Data,
    /// Input vectors (`sme verify --input-file`).
    Inputs,
    /// Expected or testbench results (`sme check`).
    Results,
}

/// One mebibyte.
const MIB: u64 = 1 << 20;

impl InputKind {
    /// Every kind, for documentation and tests.
    pub const ALL: [InputKind; 6] = [
        InputKind::Config,
        InputKind::Onnx,
        InputKind::Weights,
        InputKind::Data,
        InputKind::Inputs,
        InputKind::Results,
    ];

    /// What the file is, for messages.
    pub fn what(self) -> &'static str {
        match self {
            InputKind::Config => "config file",
            InputKind::Onnx => "ONNX model",
            InputKind::Weights => "weights file",
            InputKind::Data => "data file",
            InputKind::Inputs => "inputs file",
            InputKind::Results => "results file",
        }
    }

    /// The default size limit in bytes.
    pub(crate) fn default_limit(self) -> u64 {
        match self {
            InputKind::Config => MIB,
            InputKind::Onnx => 1024 * MIB,
            InputKind::Weights => 512 * MIB,
            InputKind::Data => 256 * MIB,
            InputKind::Inputs => 64 * MIB,
            InputKind::Results => 256 * MIB,
        }
    }

    /// The environment variable that overrides the limit (bytes, or with a
    /// `K`, `M` or `G` suffix, powers of 1024).
    pub(crate) fn env_var(self) -> &'static str {
        match self {
            InputKind::Config => "SME_MAX_CONFIG_BYTES",
            InputKind::Onnx => "SME_MAX_ONNX_BYTES",
            InputKind::Weights => "SME_MAX_WEIGHTS_BYTES",
            InputKind::Data => "SME_MAX_DATA_BYTES",
            InputKind::Inputs => "SME_MAX_INPUTS_BYTES",
            InputKind::Results => "SME_MAX_RESULTS_BYTES",
        }
    }

    /// The limit in force: the environment variable if set, else the default.
    /// A malformed or zero value is an error naming the variable.
    pub fn limit(self) -> Result<u64> {
        match std::env::var(self.env_var()) {
            Ok(v) => parse_size(&v).ok_or_else(|| {
                anyhow!(
                    "{}={}: expected a positive size in bytes, optionally with a K, M or G suffix (e.g. 2G)",
                    self.env_var(),
                    excerpt(&v)
                )
            }),
            Err(std::env::VarError::NotPresent) => Ok(self.default_limit()),
            Err(std::env::VarError::NotUnicode(_)) => {
                bail!("{} is not valid UTF-8", self.env_var())
            }
        }
    }

    fn too_big(self, path: &Path, what: &str, limit: u64) -> anyhow::Error {
        anyhow!(
            "{} {}: {what} more than the limit of {} bytes ({}); set {} to raise it",
            self.what(),
            path.display(),
            limit,
            human(limit),
            self.env_var()
        )
    }
}

/// `1234`, `64K`, `512M`, `2G` (powers of 1024, case-insensitive, optional
/// trailing `B`/`iB`); `None` if malformed, zero or overflowing.
pub(crate) fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let s = s
        .strip_suffix("iB")
        .or_else(|| s.strip_suffix("ib"))
        .or_else(|| s.strip_suffix(['B', 'b']))
        .unwrap_or(s);
    let (num, mult) = match s.chars().last()? {
        'k' | 'K' => (&s[..s.len() - 1], 1u64 << 10),
        'm' | 'M' => (&s[..s.len() - 1], 1 << 20),
        'g' | 'G' => (&s[..s.len() - 1], 1 << 30),
        't' | 'T' => (&s[..s.len() - 1], 1 << 40),
        _ => (s, 1),
    };
    num.trim()
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .filter(|&n| n > 0)
}

/// A byte count for people (`1.0 GiB`, `64 KiB`, `12 bytes`).
pub(crate) fn human(n: u64) -> String {
    const UNITS: [(&str, u64); 3] = [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)];
    for (u, s) in UNITS {
        if n >= s {
            let v = n as f64 / s as f64;
            return if v.fract() == 0.0 {
                format!("{v:.0} {u}")
            } else {
                format!("{v:.1} {u}")
            };
        }
    }
    format!("{n} bytes")
}

/// At most 40 characters of `s` on one line (control characters escaped),
/// with `...` when cut: what error messages quote of offending input.
pub(crate) fn excerpt(s: &str) -> String {
    const MAX: usize = 40;
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i == MAX {
            out.push_str("...");
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// A library error message that may quote input (a TOML or JSON parser's):
/// at most 8 lines of at most 120 characters each.
pub(crate) fn excerpt_message(msg: &str) -> String {
    const LINE: usize = 120;
    const LINES: usize = 8;
    let mut out: Vec<String> = msg
        .lines()
        .take(LINES)
        .map(|l| {
            if l.chars().count() > LINE {
                l.chars().take(LINE).collect::<String>() + "..."
            } else {
                l.to_string()
            }
        })
        .collect();
    if msg.lines().count() > LINES {
        out.push("...".into());
    }
    out.join("\n")
}

/// Opens `path` for reading after checking that it is a regular file no
/// larger than `limit`.
fn open_regular(path: &Path, kind: InputKind, limit: u64) -> Result<std::fs::File> {
    let meta = std::fs::metadata(path)
        .with_context(|| format!("cannot read {} {}", kind.what(), path.display()))?;
    let ft = meta.file_type();
    if !ft.is_file() {
        let what = if ft.is_dir() {
            "a directory"
        } else {
            special_kind(&ft)
        };
        bail!(
            "{} {} is {what}, not a regular file: give a regular file",
            kind.what(),
            path.display()
        );
    }
    if meta.len() > limit {
        return Err(kind.too_big(path, &format!("{} bytes,", meta.len()), limit));
    }
    let f = std::fs::File::open(path)
        .with_context(|| format!("cannot read {} {}", kind.what(), path.display()))?;
    Ok(f)
}

#[cfg(unix)]
fn special_kind(ft: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if ft.is_fifo() {
        "a FIFO"
    } else if ft.is_char_device() {
        "a character device"
    } else if ft.is_block_device() {
        "a block device"
    } else if ft.is_socket() {
        "a socket"
    } else {
        "a special file"
    }
}

#[cfg(not(unix))]
fn special_kind(_: &std::fs::FileType) -> &'static str {
    "a special file"
}

/// Reads at most `limit` bytes of `r`; more is an error.
fn read_limited(
    r: impl Read,
    path: &Path,
    kind: InputKind,
    limit: u64,
    what: &str,
) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    r.take(limit.saturating_add(1))
        .read_to_end(&mut buf)
        .with_context(|| format!("cannot read {} {}", kind.what(), path.display()))?;
    if buf.len() as u64 > limit {
        return Err(kind.too_big(path, what, limit));
    }
    Ok(buf)
}

/// The bytes of the regular file `path`, at most `kind`'s limit.
pub(crate) fn read_bounded(path: &Path, kind: InputKind) -> Result<Vec<u8>> {
    let limit = kind.limit()?;
    let f = open_regular(path, kind, limit)?;
    read_limited(f, path, kind, limit, "holds")
}

/// The UTF-8 text of the regular file `path` (at most `kind`'s limit), a
/// leading byte-order mark stripped.
pub(crate) fn read_text(path: &Path, kind: InputKind) -> Result<String> {
    let bytes = read_bounded(path, kind)?;
    text_of(bytes, path, kind)
}

/// Like [`read_text`], but a gzip file (detected by its magic bytes) is
/// decompressed, its text bounded by the same limit.
#[cfg_attr(not(feature = "train"), allow(dead_code))] // used by the `train` feature
pub(crate) fn read_text_maybe_gz(path: &Path, kind: InputKind) -> Result<String> {
    let limit = kind.limit()?;
    let raw = read_limited(open_regular(path, kind, limit)?, path, kind, limit, "holds")?;
    let bytes = if raw.starts_with(&[0x1f, 0x8b]) {
        gunzip_bounded(&raw, path, kind, limit)?
    } else {
        raw
    };
    text_of(bytes, path, kind)
}

/// Decompresses gzip `raw` (all members) into at most `limit` bytes.
#[cfg_attr(not(feature = "train"), allow(dead_code))] // used by the `train` feature
pub(crate) fn gunzip_bounded(
    raw: &[u8],
    path: &Path,
    kind: InputKind,
    limit: u64,
) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    flate2::read::MultiGzDecoder::new(raw)
        .take(limit.saturating_add(1))
        .read_to_end(&mut buf)
        .with_context(|| {
            format!(
                "{} {}: not valid gzip-compressed data",
                kind.what(),
                path.display()
            )
        })?;
    if buf.len() as u64 > limit {
        return Err(kind.too_big(path, "decompresses to", limit));
    }
    Ok(buf)
}

/// UTF-8 text of `bytes`, a leading byte-order mark stripped.
fn text_of(bytes: Vec<u8>, path: &Path, kind: InputKind) -> Result<String> {
    let bytes = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => rest.to_vec(),
        None => bytes,
    };
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        anyhow!(
            "{} {}: not UTF-8 text (invalid byte 0x{:02x} at offset {at})",
            kind.what(),
            path.display(),
            e.as_bytes()[at]
        )
    })
}

/// Strips a leading UTF-8 byte-order mark from text given in memory.
pub(crate) fn strip_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("1234"), Some(1234));
        assert_eq!(parse_size("64K"), Some(64 << 10));
        assert_eq!(parse_size("2g"), Some(2 << 30));
        assert_eq!(parse_size("3 MiB"), Some(3 << 20));
        for bad in ["", "0", "-1", "1.5G", "G", "99999999999T", "ten"] {
            assert_eq!(parse_size(bad), None, "{bad}");
        }
        assert_eq!(human(1 << 30), "1 GiB");
        assert_eq!(human(1536), "1.5 KiB");
        assert_eq!(human(12), "12 bytes");
    }

    #[test]
    fn excerpt_is_short_and_one_line() {
        let long = "a\nb".repeat(100);
        let e = excerpt(&long);
        assert!(
            e.len() < 60 && !e.contains('\n') && e.ends_with("..."),
            "{e}"
        );
        assert_eq!(excerpt("abc"), "abc");
        let m = excerpt_message(&format!("{}\n", "x".repeat(10_000)).repeat(100));
        assert!(m.len() < 8 * 130 && m.lines().count() == 9, "{m}");
    }

    #[test]
    fn special_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let e = format!(
            "{:#}",
            read_bounded(dir.path(), InputKind::Config).unwrap_err()
        );
        assert!(e.contains("is a directory, not a regular file"), "{e}");
        #[cfg(unix)]
        {
            let e = format!(
                "{:#}",
                read_bounded(Path::new("/dev/zero"), InputKind::Config).unwrap_err()
            );
            assert!(e.contains("character device"), "{e}");
            let fifo = dir.path().join("fifo");
            let ok = std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .is_ok_and(|s| s.success());
            if ok {
                let e = format!("{:#}", read_text(&fifo, InputKind::Onnx).unwrap_err());
                assert!(e.contains("a FIFO, not a regular file"), "{e}");
            }
        }
        let e = format!(
            "{:#}",
            read_bounded(&dir.path().join("missing"), InputKind::Weights).unwrap_err()
        );
        assert!(e.contains("cannot read weights file"), "{e}");
    }

    #[test]
    fn limits_and_bom_and_gzip() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        std::fs::write(&p, "\u{feff}rows = 4\n").unwrap();
        assert_eq!(read_text(&p, InputKind::Config).unwrap(), "rows = 4\n");
        let big = dir.path().join("big.toml");
        std::fs::write(&big, vec![b'#'; (MIB + 1) as usize]).unwrap();
        let e = format!("{:#}", read_text(&big, InputKind::Config).unwrap_err());
        assert!(
            e.contains("more than the limit of 1048576 bytes")
                && e.contains("SME_MAX_CONFIG_BYTES"),
            "{e}"
        );
        let bin = dir.path().join("bin.csv");
        std::fs::write(&bin, b"1,2\xff\n").unwrap();
        let e = format!("{:#}", read_text(&bin, InputKind::Data).unwrap_err());
        assert!(
            e.contains("not UTF-8") && e.contains("0xff at offset 3"),
            "{e}"
        );

        // A gzip bomb: 4 MiB of zeros compress to a few KiB; with a 1 MiB
        // limit decompression stops right after the limit.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&vec![0u8; 4 << 20]).unwrap();
        let bomb = gz.finish().unwrap();
        assert!(bomb.len() < 64 << 10);
        let e = format!(
            "{:#}",
            gunzip_bounded(&bomb, Path::new("b.gz"), InputKind::Data, MIB).unwrap_err()
        );
        assert!(
            e.contains("decompresses to more than the limit of 1048576 bytes"),
            "{e}"
        );
        assert_eq!(
            gunzip_bounded(&bomb, Path::new("b.gz"), InputKind::Data, 4 << 20)
                .unwrap()
                .len(),
            4 << 20
        );
        let e = format!(
            "{:#}",
            gunzip_bounded(
                &bomb[..bomb.len() / 2],
                Path::new("b.gz"),
                InputKind::Data,
                8 << 20
            )
            .unwrap_err()
        );
        assert!(e.contains("not valid gzip"), "{e}");
        // BOM inside gzip is stripped too.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all("\u{feff}1,2\n".as_bytes()).unwrap();
        let g = dir.path().join("d.csv.gz");
        std::fs::write(&g, gz.finish().unwrap()).unwrap();
        assert_eq!(read_text_maybe_gz(&g, InputKind::Data).unwrap(), "1,2\n");
        assert_eq!(strip_bom("\u{feff}x"), "x");
    }
}
