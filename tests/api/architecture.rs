//! The layout holds: no circle of imports between the top-level modules of `src/`, and no storage code above
//! storage (the HTTP layer and the use-cases never name diesel). Read from the source as text, so it also holds for
//! code that has no test of its own.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file without its unit tests (they may reach anywhere).
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

/// The top-level module a file belongs to (`src/http/members.rs` → `http`), or `None` for the crate root.
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let first = file.strip_prefix(src).unwrap().components().next()?.as_os_str().to_string_lossy().into_owned();
    let name = first.trim_end_matches(".rs").to_owned();
    (!matches!(name.as_str(), "main" | "lib")).then_some(name)
}

/// The top-level modules a piece of code names: `crate::x::…` and `use crate::{x, y}`.
fn named(code: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        let names: Vec<String> = if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            group[..end].split(',').map(|p| p.trim().split("::").next().unwrap_or("").to_owned()).collect()
        } else {
            vec![rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect()]
        };
        out.extend(names.into_iter().filter(|n| modules.contains(n)));
    }
    out
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let modules: BTreeSet<String> = files.iter().filter_map(|f| module_of(&src, f)).collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = modules.iter().map(|m| (m.clone(), BTreeSet::new())).collect();
    for file in &files {
        let Some(from) = module_of(&src, file) else { continue };
        for to in named(&code(file), &modules) {
            if to != from {
                edges.get_mut(&from).unwrap().insert(to);
            }
        }
    }
    edges
}

/// A circle through `start`, if there is one.
fn circle_from(edges: &BTreeMap<String, BTreeSet<String>>, start: &str) -> Option<Vec<String>> {
    let mut stack = vec![(start.to_owned(), vec![start.to_owned()])];
    let mut seen = BTreeSet::new();
    while let Some((at, path)) = stack.pop() {
        for next in &edges[&at] {
            if next == start {
                return Some([path, vec![start.to_owned()]].concat());
            }
            if seen.insert(next.clone()) {
                stack.push((next.clone(), [path.clone(), vec![next.clone()]].concat()));
            }
        }
    }
    None
}

#[test]
fn top_level_modules_import_each_other_without_circles() {
    let edges = graph();
    assert!(edges.contains_key("http") && edges.contains_key("app") && edges.contains_key("db"), "{edges:?}");
    assert!(edges["http"].contains("app"), "the reader sees the HTTP layer use the use-cases: {edges:?}");
    let circles: Vec<String> = edges.keys().filter_map(|m| circle_from(&edges, m)).map(|c| c.join(" -> ")).collect();
    assert!(circles.is_empty(), "import circles between top-level modules:\n{}", circles.join("\n"));
}

#[test]
fn storage_is_named_only_by_storage() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut offenders = Vec::new();
    for layer in ["http", "app"] {
        let mut files = Vec::new();
        sources(&src.join(layer), &mut files);
        for file in files {
            if code(&file).contains("diesel") {
                offenders.push(file.display().to_string());
            }
        }
    }
    assert!(offenders.is_empty(), "diesel named above storage: {offenders:?}");
}

#[test]
fn the_check_finds_a_circle_when_there_is_one() {
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    edges.insert("a".into(), ["b".to_owned()].into());
    edges.insert("b".into(), ["c".to_owned()].into());
    edges.insert("c".into(), ["a".to_owned()].into());
    edges.insert("d".into(), ["a".to_owned()].into());
    assert_eq!(circle_from(&edges, "a").unwrap(), ["a", "b", "c", "a"]);
    assert!(circle_from(&edges, "d").is_none());
    let modules: BTreeSet<String> = ["db", "http", "app"].iter().map(|s| (*s).to_owned()).collect();
    let named = named("use crate::{db::x, http};\nlet y = crate::app::f();", &modules);
    assert_eq!(named.into_iter().collect::<Vec<_>>(), ["app", "db", "http"]);
}
