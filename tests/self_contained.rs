//! The repository is self-contained: the vendored data in `data/` is intact,
//! and no source, test, script or build file names a path outside the
//! repository (a clone must pass its tests with nothing beside it).

mod common;

use common::root;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

#[test]
fn vendored_data_matches_its_readme() {
    let readme = std::fs::read_to_string(root().join("data/README.md")).unwrap();
    for name in [
        "digits.csv.gz",
        "mnist10k.csv.gz",
        "ppocr_mobile_v2_cls.onnx",
    ] {
        let bytes = std::fs::read(root().join("data").join(name))
            .unwrap_or_else(|e| panic!("data/{name}: {e}"));
        let hash: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let row = readme
            .lines()
            .find(|l| l.contains(&format!("`{name}`")))
            .unwrap_or_else(|| panic!("data/README.md has no row for {name}"));
        assert!(
            row.contains(&hash),
            "data/{name} has sha256 {hash}, not the one in data/README.md"
        );
    }
}

/// Directories a path in the tree may never start with (the parent
/// directory and machine-specific absolute locations). Built at run time so
/// this file does not match itself.
fn forbidden() -> Vec<String> {
    let mut v = vec![format!("..{}shared", '/')];
    for top in [
        "home", "root", "work", "opt", "srv", "mnt", "media", "farm", "Users",
    ] {
        for quote in ['"', '\'', ' ', '='] {
            v.push(format!("{quote}/{top}/"));
        }
    }
    v
}

fn offending_lines(text: &str) -> Vec<(usize, String)> {
    let bad = forbidden();
    text.lines()
        .enumerate()
        .filter(|(_, l)| bad.iter().any(|b| l.contains(b.as_str())))
        .map(|(i, l)| (i + 1, l.trim().to_string()))
        .collect()
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[test]
fn the_check_catches_outside_paths() {
    let outside = format!("let p = \"/{}/x/data.csv\";", "work");
    assert_eq!(offending_lines(&outside).len(), 1);
    let parent = format!("model=..{}shared/models/x.onnx", '/');
    assert_eq!(offending_lines(&parent).len(), 1);
    assert!(offending_lines("let p = \"/tmp/x\"; // /usr/bin/env").is_empty());
}

#[test]
fn no_path_outside_the_repository() {
    let mut files = vec![root().join("build.rs"), root().join(".ci/run")];
    for d in ["src", "tests", "scripts", "sim", "templates"] {
        walk(&root().join(d), &mut files);
    }
    let mut found = Vec::new();
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue; // binary files
        };
        for (n, line) in offending_lines(&text) {
            found.push(format!("{}:{n}: {line}", f.display()));
        }
    }
    assert!(
        found.is_empty(),
        "paths outside the repository:\n{}",
        found.join("\n")
    );
}
