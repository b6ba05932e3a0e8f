//! Writing generated files safely: never half-written output, never a silent
//! overwrite.

use anyhow::{Context, Result, bail};
use std::fs;
use std::path::{Path, PathBuf};

/// Write `files` (name, contents) into `dir`.
///
/// Refuses a non-empty `dir` unless `force`. Files are first written into a
/// temporary directory beside `dir`; then either the whole temporary
/// directory is renamed to `dir` (when `dir` is absent or empty) or each file
/// is renamed into place, so no file is ever left half-written.
pub fn write_all(dir: &Path, files: &[(String, String)], force: bool) -> Result<()> {
    let existing = match fs::read_dir(dir) {
        Ok(rd) => Some(rd.count()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            return Err(e)
                .with_context(|| format!("cannot read output directory {}", dir.display()));
        }
    };
    if dir.exists() && !dir.is_dir() {
        bail!(
            "output path {} exists and is not a directory",
            dir.display()
        );
    }
    if existing.unwrap_or(0) > 0 && !force {
        bail!(
            "output directory {} is not empty; pass --force to overwrite the generated files in it",
            dir.display()
        );
    }
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).with_context(|| format!("cannot create {}", parent.display()))?;
    let base = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let tmp = parent.join(format!(".{base}.tmp-{}", std::process::id()));
    if tmp.exists() {
        fs::remove_dir_all(&tmp).ok();
    }
    fs::create_dir(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    let result = (|| -> Result<()> {
        for (name, text) in files {
            let path = tmp.join(name);
            // A name may hold a subdirectory (the fpga target's `fpga/`).
            if let Some(sub) = path.parent() {
                fs::create_dir_all(sub)
                    .with_context(|| format!("cannot create {}", sub.display()))?;
            }
            fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
        }
        if existing.unwrap_or(0) == 0 {
            if existing.is_some() {
                fs::remove_dir(dir).with_context(|| format!("cannot replace {}", dir.display()))?;
            }
            fs::rename(&tmp, dir)
                .with_context(|| format!("cannot rename into {}", dir.display()))?;
        } else {
            for (name, _) in files {
                let to = dir.join(name);
                if let Some(sub) = to.parent() {
                    fs::create_dir_all(sub)
                        .with_context(|| format!("cannot create {}", sub.display()))?;
                }
                fs::rename(tmp.join(name), &to)
                    .with_context(|| format!("cannot rename {name} into {}", dir.display()))?;
            }
            fs::remove_dir_all(&tmp).ok();
        }
        Ok(())
    })();
    if result.is_err() {
        fs::remove_dir_all(&tmp).ok();
    }
    result
}

/// Write one file atomically: to a temporary name beside it, then rename.
pub(crate) fn write_file(path: &Path, text: &str) -> std::io::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    fs::write(&tmp, text)?;
    fs::rename(&tmp, path).inspect_err(|_| {
        let _ = fs::remove_file(&tmp);
    })
}
