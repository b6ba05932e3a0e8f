//! The layout rules of `docs/architecture.md`, checked on the source text:
//! the `src/` module graph has no circle, the library never imports the
//! command line, and library code never prints or exits (it reports through
//! a `progress::Progress` handle and returns errors).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The module a file defines, as its path under `src/` without `.rs` and
/// `/mod` (`compiler/map`, `cli`, `lib`).
fn module_of(file: &Path) -> String {
    let rel = file.strip_prefix(src()).unwrap().with_extension("");
    let s = rel.to_string_lossy().replace('\\', "/");
    s.strip_suffix("/mod").unwrap_or(&s).to_string()
}

/// Source text without `//` comments and without `#[cfg(test)]` modules
/// (unit tests may reach anywhere).
fn code(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => text,
    };
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Modules a file's code names through `crate::a::b...` (longest existing
/// module prefix), including grouped `use crate::{a, b::c}` imports.
fn references(code: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let mut refs = BTreeSet::new();
    let mut add = |path: &str| {
        let segs: Vec<&str> = path
            .split("::")
            .map(|s| s.trim_matches(|c: char| !(c.is_alphanumeric() || c == '_')))
            .take_while(|s| !s.is_empty())
            .collect();
        for n in (1..=segs.len()).rev() {
            let m = segs[..n].join("/");
            if modules.contains(&m) {
                refs.insert(m);
                return;
            }
        }
    };
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                add(item.trim());
            }
        } else {
            let end = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .unwrap_or(rest.len());
            add(&rest[..end]);
        }
    }
    refs
}

struct Graph {
    edges: BTreeMap<String, BTreeSet<String>>,
    code: BTreeMap<String, String>,
}

fn graph() -> Graph {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let modules: BTreeSet<String> = files.iter().map(|f| module_of(f)).collect();
    let mut edges = BTreeMap::new();
    let mut codes = BTreeMap::new();
    for f in &files {
        let m = module_of(f);
        let c = code(&std::fs::read_to_string(f).unwrap());
        let mut refs = references(&c, &modules);
        refs.remove(&m);
        edges.insert(m.clone(), refs);
        codes.insert(m, c);
    }
    Graph { edges, code: codes }
}

/// A circle in `edges` (collapsed by `key`), if any.
fn circle(
    edges: &BTreeMap<String, BTreeSet<String>>,
    key: impl Fn(&str) -> String,
) -> Option<Vec<String>> {
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (from, tos) in edges {
        let f = key(from);
        for to in tos {
            let t = key(to);
            if t != f {
                g.entry(f.clone()).or_default().insert(t);
            }
        }
    }
    fn visit(
        n: &str,
        g: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match state.get(n) {
            Some(2) => return None,
            Some(1) => {
                let i = stack.iter().position(|s| s == n).unwrap();
                let mut c = stack[i..].to_vec();
                c.push(n.to_string());
                return Some(c);
            }
            _ => {}
        }
        state.insert(n.to_string(), 1);
        stack.push(n.to_string());
        for m in g.get(n).into_iter().flatten() {
            if let Some(c) = visit(m, g, state, stack) {
                return Some(c);
            }
        }
        stack.pop();
        state.insert(n.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in g.keys() {
        if let Some(c) = visit(n, &g, &mut state, &mut Vec::new()) {
            return Some(c);
        }
    }
    None
}

fn top(m: &str) -> String {
    m.split('/').next().unwrap().to_string()
}

fn is_cli(m: &str) -> bool {
    m == "main" || m == "cli" || m.starts_with("cli/")
}

/// Unit-test modules in their own file (`mod tests;` under `#[cfg(test)]`).
fn is_test_module(m: &str) -> bool {
    m == "tests" || m.ends_with("/tests")
}

#[test]
fn no_import_circle_between_modules() {
    let g = graph();
    if let Some(c) = circle(&g.edges, top) {
        panic!(
            "import circle between top-level modules: {}",
            c.join(" -> ")
        );
    }
    if let Some(c) = circle(&g.edges, |m| m.to_string()) {
        panic!("import circle between modules: {}", c.join(" -> "));
    }
}

#[test]
fn the_library_never_imports_the_cli() {
    let g = graph();
    let bad: Vec<String> = g
        .edges
        .iter()
        .filter(|(m, _)| !is_cli(m) && !is_test_module(m) && m.as_str() != "lib")
        .filter(|(_, refs)| refs.iter().any(|r| is_cli(r)))
        .map(|(m, _)| m.clone())
        .collect();
    assert!(bad.is_empty(), "library modules importing cli: {bad:?}");
}

#[test]
fn the_library_never_prints_or_exits() {
    let g = graph();
    let mut bad = Vec::new();
    for (m, c) in &g.code {
        if is_cli(m) || is_test_module(m) {
            continue;
        }
        for needle in [
            "println!",
            "eprintln!",
            "print!(",
            "eprint!(",
            "process::exit",
            "indicatif",
        ] {
            if c.contains(needle) {
                bad.push(format!("{m}: {needle}"));
            }
        }
    }
    assert!(bad.is_empty(), "library code that prints or exits: {bad:?}");
}

#[test]
fn the_checks_can_fail() {
    let modules: BTreeSet<String> = ["a", "b", "b/c"].iter().map(|s| s.to_string()).collect();
    let refs = references(
        "use crate::{a::X, b::c::Y};\nlet z = crate::b::f();",
        &modules,
    );
    assert_eq!(refs, modules.iter().cloned().collect());
    let mut edges = BTreeMap::new();
    edges.insert("a".to_string(), BTreeSet::from(["b/c".to_string()]));
    edges.insert("b/c".to_string(), BTreeSet::from(["a".to_string()]));
    assert!(circle(&edges, top).is_some());
    edges.remove("b/c");
    assert!(circle(&edges, top).is_none());
}
