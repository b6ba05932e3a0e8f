//! Output files of one command, checked before any work starts and
//! committed together at the end: no output replaces an input, a link, a
//! FIFO or a device; no two outputs name the same path (or one lies in an
//! output directory); `-` is standard output; each file is written to a
//! temporary file beside it and renamed into place only after every output
//! was written. An output directory (`sme verify --emit`) must be new or
//! empty; it is filled under a temporary name beside it and renamed the
//! same way. Outputs written by other programs (a trace) go to a staged
//! temporary file first.

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
    dirs: Vec<(String, PathBuf)>,
}

/// An output written before the commit under a temporary name beside its
/// target (removed if dropped uncommitted).
#[derive(Debug)]
pub enum Staged {
    /// A temporary file and its target file.
    File(tempfile::TempPath, PathBuf),
    /// A temporary directory and its target directory.
    Dir(tempfile::TempDir, PathBuf),
}

/// Gives a staged output the usual permissions (temporary files are
/// private).
fn set_mode(path: &Path, mode: u32) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).ok();
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
}

/// The directory `path` lies in (`.` for a bare name).
fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

impl Staged {
    /// A temporary file beside the file `target`.
    pub fn file(target: &Path) -> Result<Staged> {
        let dir = parent_of(target);
        let tmp = tempfile::Builder::new()
            .prefix(".sme-out-")
            .tempfile_in(&dir)
            .with_context(|| format!("cannot write into {}", dir.display()))?;
        Ok(Staged::File(tmp.into_temp_path(), target.to_path_buf()))
    }

    /// A temporary directory beside the directory `target`.
    pub fn dir(target: &Path) -> Result<Staged> {
        let parent = parent_of(target);
        let tmp = tempfile::Builder::new()
            .prefix(".sme-out-")
            .tempdir_in(&parent)
            .with_context(|| format!("cannot write into {}", parent.display()))?;
        Ok(Staged::Dir(tmp, target.to_path_buf()))
    }

    /// Where to write now.
    pub fn path(&self) -> &Path {
        match self {
            Staged::File(t, _) => t,
            Staged::Dir(t, _) => t.path(),
        }
    }

    /// Renames it into place.
    fn persist(self) -> Result<()> {
        match self {
            Staged::File(tmp, target) => {
                set_mode(&tmp, 0o644);
                tmp.persist(&target)
                    .map(|_| ())
                    .with_context(|| format!("cannot write {}", target.display()))
            }
            Staged::Dir(tmp, target) => {
                // The target was checked to be missing or empty; an empty
                // one is replaced (remove_dir fails on a non-empty one).
                if std::fs::symlink_metadata(&target).is_ok() {
                    std::fs::remove_dir(&target).with_context(|| {
                        format!("cannot replace {} (no longer empty?)", target.display())
                    })?;
                }
                set_mode(tmp.path(), 0o755);
                std::fs::rename(tmp.path(), &target)
                    .with_context(|| format!("cannot write {}", target.display()))?;
                let _ = tmp.keep();
                Ok(())
            }
        }
    }
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
            dirs: Vec::new(),
        }
    }

    /// Check the output of `flag` now, before any work: its directory
    /// exists, it is missing or a regular file, and it is no input and no
    /// other output.
    pub(crate) fn claim(&mut self, flag: &str, path: Option<&Path>) -> Result<Option<Target>> {
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
            if let Some((other, _)) = self.dirs.iter().find(|(_, d)| c.starts_with(d)) {
                bail!(
                    "{flag} {}: lies in the output directory of {other}",
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

    /// Check the output directory of `flag` now: its parent exists, it is
    /// missing or an empty directory (not a link), and it is no input, holds
    /// no input and is no other output nor holds one. Returns its canonical
    /// path; fill it through [`Staged::dir`].
    pub(crate) fn claim_dir(&mut self, flag: &str, path: Option<&Path>) -> Result<Option<PathBuf>> {
        let Some(path) = path else {
            return Ok(None);
        };
        if path.as_os_str() == "-" {
            bail!("{flag} needs a directory, not -");
        }
        if let Ok(meta) = std::fs::symlink_metadata(path) {
            let empty =
                meta.is_dir() && std::fs::read_dir(path).is_ok_and(|mut rd| rd.next().is_none());
            if !empty {
                bail!(
                    "{flag} {}: exists and is not an empty directory (or is a link); \
                     give a new or empty directory",
                    path.display()
                );
            }
        }
        let parent = parent_of(path);
        if !parent.is_dir() {
            bail!(
                "{flag} {}: directory {} does not exist",
                path.display(),
                parent.display()
            );
        }
        let c = canonical(path);
        if let Some(i) = self.inputs.iter().find(|i| i.starts_with(&c)) {
            bail!(
                "{flag} {}: holds the input {} of this command",
                path.display(),
                i.display()
            );
        }
        let clash = self.claimed.iter().find_map(|(f, t)| match t {
            Target::File(p) if p.starts_with(&c) => Some(f.clone()),
            _ => None,
        });
        let clash = clash.or_else(|| {
            self.dirs
                .iter()
                .find(|(_, d)| d.starts_with(&c) || c.starts_with(d))
                .map(|(f, _)| f.clone())
        });
        if let Some(other) = clash {
            bail!("{flag} {}: overlaps the output of {other}", path.display());
        }
        self.dirs.push((flag.to_string(), c.clone()));
        Ok(Some(c))
    }

    /// Whether an output goes to standard output (then human-readable
    /// reports belong on standard error).
    pub(crate) fn uses_stdout(&self) -> bool {
        self.claimed.iter().any(|(_, t)| *t == Target::Stdout)
    }

    /// Where human-readable reports go: standard error when an output takes
    /// standard output, standard output otherwise.
    pub fn human(&self) -> Box<dyn std::io::Write> {
        if self.uses_stdout() {
            Box::new(std::io::stderr())
        } else {
            Box::new(std::io::stdout())
        }
    }

    /// Write every `(target, text)`: files to temporary names first, then
    /// all renamed; standard output last. On an error nothing is renamed.
    pub(crate) fn commit(files: Vec<(Target, String)>) -> Result<()> {
        Outputs::commit_with(files, Vec::new())
    }

    /// [`Outputs::commit`] with outputs already written under temporary
    /// names (renamed into place after the text files).
    pub(crate) fn commit_with(files: Vec<(Target, String)>, written: Vec<Staged>) -> Result<()> {
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
            set_mode(tmp.path(), 0o644);
            tmp.persist(&path)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        for s in written {
            s.persist()?;
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
    fn output_directories_are_new_or_empty_and_overlap_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.onnx");
        std::fs::write(&input, "x").unwrap();
        let mut o = Outputs::new([input.as_path()]);
        let e = o
            .claim_dir("--emit", Some(dir.path()))
            .unwrap_err()
            .to_string();
        assert!(e.contains("not an empty directory"), "{e}");
        let e = o.claim_dir("--emit", Some(&input)).unwrap_err().to_string();
        assert!(e.contains("not an empty directory"), "{e}");
        let e = o
            .claim_dir("--emit", Some(Path::new("-")))
            .unwrap_err()
            .to_string();
        assert!(e.contains("needs a directory"), "{e}");
        let e = o
            .claim_dir("--emit", Some(&dir.path().join("no/such")))
            .unwrap_err()
            .to_string();
        assert!(e.contains("does not exist"), "{e}");
        let empty = dir.path().join("empty dir");
        std::fs::create_dir(&empty).unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&empty, &link).unwrap();
        let e = o.claim_dir("--emit", Some(&link)).unwrap_err().to_string();
        assert!(e.contains("link"), "{e}");
        let c = o.claim_dir("--emit", Some(&empty)).unwrap().unwrap();
        let e = o
            .claim("--json", Some(&empty.join("r.json")))
            .unwrap_err()
            .to_string();
        assert!(e.contains("output directory of --emit"), "{e}");
        let e = o.claim_dir("--out", Some(&empty)).unwrap_err().to_string();
        assert!(e.contains("overlaps the output of --emit"), "{e}");
        // Filled under a temporary name, renamed over the empty directory.
        let staged = Staged::dir(&c).unwrap();
        std::fs::write(staged.path().join("a.stim"), "s").unwrap();
        Outputs::commit_with(Vec::new(), vec![staged]).unwrap();
        assert_eq!(std::fs::read_to_string(empty.join("a.stim")).unwrap(), "s");
        // Dropped uncommitted: nothing is left.
        let staged = Staged::file(&dir.path().join("t.vcd")).unwrap();
        std::fs::write(staged.path(), "v").unwrap();
        drop(staged);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 3, "{names:?}");
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
