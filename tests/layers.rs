//! The house plan, checked: which layer may import which, and no circle of imports between files.
//!
//! Reads every `crate::` and `super::` path in src/ (in `use` trees and inline), maps it to the
//! file of the module it names, and checks two rules:
//! 1. a layer imports only the layers docs/layout.md allows it (data flows one way: readers
//!    never know the collector, the TUI's state never touches readers, nothing imports a front end);
//! 2. no circle of imports between files. A child module may use its parent's root file (`mod.rs`
//!    or `name.rs`: the module's own vocabulary, which declares the child), so those edges are not
//!    counted; every other edge is.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each top-level module and the top-level modules it may import.
const ALLOWED: &[(&str, &[&str])] = &[
    ("model", &[]),
    ("sys", &["model"]),
    ("policy", &["model", "sys::parse"]),
    ("collect", &["model", "sys"]),
    // Recordings: the model stored and read back (plain files, no kernel readers).
    ("record", &["model"]),
    ("effects", &["model", "sys", "policy", "collect"]),
    ("app", &["model", "policy", "effects", "record"]),
    ("ui", &["model", "app", "record"]),
    (
        "tui",
        &[
            "model", "sys", "policy", "collect", "record", "effects", "app", "ui",
        ],
    ),
    (
        "cli",
        &[
            "model", "sys", "policy", "collect", "record", "effects", "app", "ui", "tui",
        ],
    ),
];

/// `src/app/rows.rs` -> ["app", "rows"]; `src/app/mod.rs` -> ["app"]; `src/lib.rs` -> [].
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap_or(file).with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts
        .last()
        .is_some_and(|l| l == "mod" || l == "lib" || l == "main")
    {
        parts.pop();
    }
    parts
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read src dir") {
        let p = e.expect("dir entry").path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The text without comments and string literals (so that a doc comment naming
/// `crate::cli::Target` is not an import).
fn code_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i..].starts_with(b"//") {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i..].starts_with(b"/*") {
            i += 2;
            while i < b.len() && !b[i..].starts_with(b"*/") {
                i += 1;
            }
            i += 2;
        } else if b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if b[i] == b'\'' && i + 2 < b.len() && (b[i + 2] == b'\'' || b[i + 1] == b'\\') {
            // A char literal such as '"' or '\n' (lifetimes have no closing quote).
            let end = b[i + 1..].iter().position(|&c| c == b'\'').unwrap_or(0);
            i += end + 2;
        } else {
            out.push(b[i] as char);
            i += 1;
        }
    }
    out
}

/// Expands a use tree (`crate::a::{b, c::{d, self}}`) into full paths.
fn expand_use(tree: &str) -> Vec<String> {
    // `x as y` names x: drop the renames, then the white space.
    let words: Vec<&str> = tree.split_whitespace().collect();
    let mut kept = Vec::new();
    let mut i = 0;
    while i < words.len() {
        if words[i] == "as" && i + 1 < words.len() {
            let rest = words[i + 1].trim_start_matches(|c: char| c.is_alphanumeric() || c == '_');
            kept.push(rest);
            i += 2;
        } else {
            kept.push(words[i]);
            i += 1;
        }
    }
    let tree: String = kept.concat();
    let mut out = Vec::new();
    expand_into("", &tree, &mut out);
    out
}

fn expand_into(prefix: &str, tree: &str, out: &mut Vec<String>) {
    if let Some(open) = tree.find('{') {
        let head = &tree[..open];
        let body = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
        let base = format!("{prefix}{head}");
        let mut depth = 0;
        let mut start = 0;
        for (i, c) in body.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    expand_into(&base, &body[start..i], out);
                    start = i + 1;
                }
                _ => {}
            }
        }
        expand_into(&base, &body[start..], out);
    } else if !tree.is_empty() {
        let path = format!("{prefix}{tree}");
        out.push(path.trim_end_matches("::self").to_string());
    }
}

/// Every path this file names: `use` trees expanded, plus inline `crate::...` and `super::...`.
fn paths_in(code: &str) -> Vec<String> {
    let mut paths = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("use ") {
        let before = rest[..i].chars().last();
        rest = &rest[i + 4..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        if let Some(end) = rest.find(';') {
            paths.extend(expand_use(&rest[..end]));
        }
    }
    for start in ["crate::", "super::"] {
        let mut rest = code;
        while let Some(i) = rest.find(start) {
            let before = rest[..i].chars().last();
            let tail = &rest[i..];
            let len = tail
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .unwrap_or(tail.len());
            if !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                paths.push(tail[..len].trim_end_matches(':').to_string());
            }
            rest = &tail[len.max(1)..];
        }
    }
    paths
}

/// The module (as the longest known module path) that `path`, written in module `from` (whose
/// children are `children`), names; None for anything outside the crate.
fn resolve(
    from: &[String],
    is_root_file: bool,
    path: &str,
    modules: &BTreeSet<Vec<String>>,
) -> Option<Vec<String>> {
    let mut segs: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
    let mut base: Vec<String> = match segs.first() {
        Some(&"crate") => {
            segs.remove(0);
            Vec::new()
        }
        Some(&"super") | Some(&"self") => {
            // In a non-root file, `self` is the file's module and `super` its parent.
            let mut b = from.to_vec();
            while let Some(&s) = segs.first() {
                match s {
                    "super" => {
                        b.pop();
                    }
                    "self" => {}
                    _ => break,
                }
                segs.remove(0);
            }
            b
        }
        Some(first) => {
            // A path relative to this module: only its child modules matter here.
            let mut child = from.to_vec();
            child.push((*first).to_string());
            if !(is_root_file || from.is_empty()) || !modules.contains(&child) {
                return None;
            }
            from.to_vec()
        }
        None => return None,
    };
    let mut best = None;
    for s in segs {
        base.push(s.to_string());
        if modules.contains(&base) {
            best = Some(base.clone());
        } else {
            break;
        }
    }
    best
}

struct Graph {
    /// file module -> modules it imports (edges to its own ancestors left out).
    edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
    /// (from, to, path as written) for every cross-layer import.
    cross: Vec<(Vec<String>, Vec<String>, String)>,
}

fn graph() -> Graph {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| module_of(&src, f)).collect();
    let mut g = Graph {
        edges: BTreeMap::new(),
        cross: Vec::new(),
    };
    for f in &files {
        let from = module_of(&src, f);
        let name = f.file_stem().map(|s| s.to_string_lossy().into_owned());
        let is_root_file = matches!(name.as_deref(), Some("mod" | "lib" | "main"))
            || f.with_extension("").is_dir();
        let code = code_only(&std::fs::read_to_string(f).expect("read source"));
        let edges = g.edges.entry(from.clone()).or_default();
        for p in paths_in(&code) {
            let Some(to) = resolve(&from, is_root_file, &p, &modules) else {
                continue;
            };
            if to == from || from.starts_with(&to) {
                continue;
            }
            if from.first() != to.first() && !from.is_empty() {
                g.cross.push((from.clone(), to.clone(), p.clone()));
            }
            edges.insert(to);
        }
    }
    g
}

fn allowed(from: &str, to: &[String]) -> bool {
    let Some((_, ok)) = ALLOWED.iter().find(|(m, _)| *m == from) else {
        return false;
    };
    ok.iter().any(|a| {
        let want: Vec<&str> = a.split("::").collect();
        to.len() >= want.len() && to.iter().zip(&want).all(|(x, y)| x == y)
    })
}

#[test]
fn every_layer_imports_only_the_layers_below_it() {
    let g = graph();
    assert!(
        g.cross.len() > 20,
        "the reader found only {} cross-layer imports: it is broken",
        g.cross.len()
    );
    let bad: Vec<String> = g
        .cross
        .iter()
        .filter(|(from, to, _)| !allowed(&from[0], to))
        .map(|(from, to, p)| format!("{} -> {} ({p})", from.join("::"), to.join("::")))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    assert!(
        bad.is_empty(),
        "imports against the layering:\n  {}",
        bad.join("\n  ")
    );
}

#[test]
fn no_circle_of_imports_between_files() {
    let g = graph();
    // Tarjan's strongly connected components over the file graph.
    let nodes: Vec<&Vec<String>> = g.edges.keys().collect();
    let index_of: BTreeMap<&Vec<String>, usize> =
        nodes.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let succ: Vec<Vec<usize>> = nodes
        .iter()
        .map(|n| {
            g.edges[*n]
                .iter()
                .filter_map(|t| index_of.get(t).copied())
                .collect()
        })
        .collect();
    let mut circles = Vec::new();
    let mut state = Tarjan {
        index: vec![None; nodes.len()],
        low: vec![0; nodes.len()],
        on_stack: vec![false; nodes.len()],
        stack: Vec::new(),
        next: 0,
    };
    for v in 0..nodes.len() {
        if state.index[v].is_none() {
            state.visit(v, &succ, &mut circles);
        }
    }
    let named: Vec<String> = circles
        .iter()
        .map(|c| {
            c.iter()
                .map(|&i| nodes[i].join("::"))
                .collect::<Vec<_>>()
                .join(" <-> ")
        })
        .collect();
    assert!(
        named.is_empty(),
        "files that import each other in a circle:\n  {}",
        named.join("\n  ")
    );
}

struct Tarjan {
    index: Vec<Option<usize>>,
    low: Vec<usize>,
    on_stack: Vec<bool>,
    stack: Vec<usize>,
    next: usize,
}

impl Tarjan {
    fn visit(&mut self, v: usize, succ: &[Vec<usize>], circles: &mut Vec<Vec<usize>>) {
        self.index[v] = Some(self.next);
        self.low[v] = self.next;
        self.next += 1;
        self.stack.push(v);
        self.on_stack[v] = true;
        for &w in &succ[v] {
            match self.index[w] {
                None => {
                    self.visit(w, succ, circles);
                    self.low[v] = self.low[v].min(self.low[w]);
                }
                Some(iw) if self.on_stack[w] => self.low[v] = self.low[v].min(iw),
                _ => {}
            }
        }
        if Some(self.low[v]) == self.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = self.stack.pop() {
                self.on_stack[w] = false;
                comp.push(w);
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                circles.push(comp);
            }
        }
    }
}

#[test]
fn the_reader_expands_use_trees() {
    assert_eq!(
        expand_use("crate::a::{b, c::{d, self}, e as f}"),
        vec![
            "crate::a::b",
            "crate::a::c::d",
            "crate::a::c",
            "crate::a::e"
        ]
    );
    let code =
        code_only("// crate::cli::Target\nlet s = \"crate::x\"; crate::model::Snapshot::new()");
    assert_eq!(paths_in(&code), vec!["crate::model::Snapshot::new"]);
}
