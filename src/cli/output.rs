//! Output files of one command, checked before any work starts and
//! committed together at the end: no output replaces an input, a link, a
//! FIFO or a device; no two outputs name the same path; `-` is standard
//! output; each file is written to a temporary file beside it and renamed
//! into place only after every output was written.

use anyhow::{Context, Result, bail};
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Where one output goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// Standard output (`-`).
    Stdout,
    /// A regular file (existing or not).
    File(PathBuf),
}

/// The outputs of one command.
#[derive(Debug, Default)]
pub struct Outputs {
    inputs: Vec<PathBuf>,
    claimed: Vec<(String, Target)>,
}

/// A path with its parent directory canonicalized (the file itself may not
/// exist yet), for comparing outputs with inputs and each other.
fn canonical(path: &Path) -> PathBuf {
    if let Ok(p) = path.canonicalize() {
        return p;
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let parent = parent
        .canonicalize()
        .unwrap_or_else(|_| parent.to_path_buf());
    match path.file_name() {
        Some(n) => parent.join(n),
        None => parent,
    }
}

impl Outputs {
    /// Outputs of a command that reads `inputs`.
    pub fn new<'a>(inputs: impl IntoIterator<Item = &'a Path>) -> Outputs {
        Outputs {
            inputs: inputs.into_iter().map(canonical).collect(),
            claimed: Vec::new(),
        }
    }

    /// Check the output of `flag` now, before any work: its directory
    /// exists, it is missing or a regular file, and it is no input and no
    /// other output.
    pub fn claim(&mut self, flag: &str, path: Option<&Path>) -> Result<Option<Target>> {
        let Some(path) = path else {
            return Ok(None);
        };
        let target = if path.as_os_str() == "-" {
            Target::Stdout
        } else {
            if let Ok(meta) = std::fs::symlink_metadata(path)
                && !meta.file_type().is_file()
            {
                bail!(
                    "{flag} {}: exists and is not a regular file (a link, directory, FIFO or device); \
                     give a new or regular file, or - for standard output",
                    path.display()
                );
            }
            let parent = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p,
                _ => Path::new("."),
            };
            if !parent.is_dir() {
                bail!(
                    "{flag} {}: directory {} does not exist",
                    path.display(),
                    parent.display()
                );
            }
            let c = canonical(path);
            if self.inputs.contains(&c) {
                bail!(
                    "{flag} {}: is an input of this command; refusing to overwrite it",
                    path.display()
                );
            }
            Target::File(c)
        };
        if let Some((other, _)) = self.claimed.iter().find(|(_, t)| *t == target) {
            bail!("{flag} {} names the same output as {other}", path.display());
        }
        self.claimed.push((flag.to_string(), target.clone()));
        Ok(Some(target))
    }

    /// Whether an output goes to standard output (then human-readable
    /// reports belong on standard error).
    pub fn uses_stdout(&self) -> bool {
        self.claimed.iter().any(|(_, t)| *t == Target::Stdout)
    }

    /// Write every `(target, text)`: files to temporary names first, then
    /// all renamed; standard output last. On an error nothing is renamed.
    pub fn commit(files: Vec<(Target, String)>) -> Result<()> {
        let mut staged = Vec::new();
        let mut stdout = Vec::new();
        for (target, text) in files {
            match target {
                Target::Stdout => stdout.push(text),
                Target::File(path) => {
                    let dir = match path.parent() {
                        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                        _ => PathBuf::from("."),
                    };
                    let mut tmp = tempfile::Builder::new()
                        .prefix(".sme-out-")
                        .tempfile_in(&dir)
                        .with_context(|| format!("cannot write into {}", dir.display()))?;
                    tmp.write_all(text.as_bytes())
                        .and_then(|_| tmp.flush())
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    staged.push((tmp, path));
                }
            }
        }
        for (tmp, path) in staged {
            tmp.persist(&path)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        let mut out = std::io::stdout().lock();
        for text in stdout {
            out.write_all(text.as_bytes())?;
        }
        out.flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_inputs_duplicates_and_non_files() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("model.onnx");
        std::fs::write(&input, "x").unwrap();
        let mut o = Outputs::new([input.as_path()]);
        let e = o.claim("--json", Some(&input)).unwrap_err().to_string();
        assert!(e.contains("is an input"), "{e}");
        let a = dir.path().join("a.json");
        o.claim("--json", Some(&a)).unwrap();
        let e = o.claim("--csv", Some(&a)).unwrap_err().to_string();
        assert!(e.contains("same output as --json"), "{e}");
        let e = o.claim("--csv", Some(dir.path())).unwrap_err().to_string();
        assert!(e.contains("not a regular file"), "{e}");
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&input, &link).unwrap();
        let e = o.claim("--csv", Some(&link)).unwrap_err().to_string();
        assert!(e.contains("not a regular file"), "{e}");
        let e = o
            .claim("--csv", Some(&dir.path().join("no/such/x.csv")))
            .unwrap_err()
            .to_string();
        assert!(e.contains("does not exist"), "{e}");
        assert_eq!(
            o.claim("--csv", Some(Path::new("-"))).unwrap(),
            Some(Target::Stdout)
        );
    }

    #[test]
    fn commit_writes_all_files() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::write(&b, "old").unwrap();
        Outputs::commit(vec![
            (Target::File(a.clone()), "1".into()),
            (Target::File(b.clone()), "2".into()),
        ])
        .unwrap();
        assert_eq!(std::fs::read_to_string(a).unwrap(), "1");
        assert_eq!(std::fs::read_to_string(b).unwrap(), "2");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    }
}
