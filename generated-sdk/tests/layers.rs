//! The runtime's layers point one way. Every `crate::` path in a layer's source files
//! (imports, paths in code, intra-doc links) is classified by the layer it reaches, and
//! must be one the rule table below allows. Root re-exports (`crate::RoomClient`) count
//! as the layer they come from, read from `src/lib.rs`.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// Where a path leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    /// A runtime layer, spelled out (`crate::core::client::..`).
    Direct(&'static str),
    /// A runtime layer's item through its root re-export (`crate::RoomClient`).
    Root(&'static str),
    /// Generated protocol facts with no dependencies (`packets`, `error_codes`, ...).
    Protocol,
    /// Generated shared types (`crate::types`).
    Types,
    /// Generated toolkits and events (`crate::storage`, `crate::RoomEvent`, ...).
    Generated,
}

/// One rule: the files of `dir` may reach only these targets. A layer name allows it
/// both spelled out and through the root; `"core@root"` allows core only through the root.
struct Rule {
    dir: &'static str,
    allowed: &'static [&'static str],
}

/// The layer rules: protocol <- core <- support <- { surfaces, generated toolkits }.
const RULES: &[Rule] = &[
    Rule {
        dir: "core",
        allowed: &["core", "protocol"],
    },
    Rule {
        dir: "support",
        allowed: &["core", "support", "protocol", "types"],
    },
    Rule {
        dir: "surfaces",
        allowed: &[
            "core",
            "support",
            "surfaces",
            "protocol",
            "types",
            "generated",
        ],
    },
    // The codegen contract: generated code reaches the runtime through root items and
    // `crate::support` only.
    Rule {
        dir: "generated",
        allowed: &["core@root", "support", "protocol", "types", "generated"],
    },
];

/// Known exceptions, each with its reason: (file under `src/`, path).
const EXCEPTIONS: &[(&str, &str)] = &[
    // The generated `RoomClient::dispatch` table calls the hand-written agents surface
    // (top layer to top layer, but outside the codegen contract). To go once codegen
    // emits `self.agents().dispatch(..)` like the toolkits' entries.
    // One module tree per protocol version.
    (
        "generated/v0_35_8/mod.rs",
        "crate::surfaces::agents::dispatch",
    ),
    (
        "generated/v0_56_0/mod.rs",
        "crate::surfaces::agents::dispatch",
    ),
    // The same table first asks the hand-written conveniences (the Arrow data of
    // `dataset`/`sqlite` as JSON rows), which sit on top of the generated toolkits.
    (
        "generated/v0_35_8/mod.rs",
        "crate::surfaces::dispatch::conveniences",
    ),
    (
        "generated/v0_56_0/mod.rs",
        "crate::surfaces::dispatch::conveniences",
    ),
];

/// Generated items that are leaf protocol facts (allowed everywhere).
/// (`protocol` is the chosen version's transport facts.)
const PROTOCOL: &[&str] = &[
    "packets",
    "error_codes",
    "ErrorCode",
    "PROTOCOL_VERSION",
    "protocol",
];
const LAYERS: &[&str] = &["core", "support", "surfaces"];

fn allows(rule: &Rule, target: Target) -> bool {
    let ok = |name: &str| rule.allowed.contains(&name);
    match target {
        Target::Direct(layer) => ok(layer),
        Target::Root(layer) => ok(layer) || ok(&format!("{layer}@root")),
        Target::Protocol => ok("protocol"),
        Target::Types => ok("types"),
        Target::Generated => ok("generated"),
    }
}

/// Expands one use tree (whitespace removed) into full paths: `a::{b,c::{d}}` gives
/// `a::b` and `a::c::d`.
fn expand(tree: &str) -> Vec<String> {
    let Some(open) = tree.find('{') else {
        return vec![tree.to_string()];
    };
    let prefix = &tree[..open];
    let inner = tree[open + 1..]
        .strip_suffix('}')
        .unwrap_or(&tree[open + 1..]);
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, ch) in inner.char_indices() {
        match ch {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
        .into_iter()
        .filter(|p| !p.is_empty())
        .flat_map(|p| expand(&format!("{prefix}{p}")))
        .collect()
}

/// Every `crate::` path in `source`, use trees expanded.
fn crate_paths(source: &str) -> Vec<String> {
    let mut paths = Vec::new();
    let mut rest = source;
    while let Some(at) = rest.find("crate::") {
        // `crate::` inside an identifier (`foo_crate::`) is not a crate path.
        let before = rest[..at].chars().next_back();
        rest = &rest[at..];
        let mut depth = 0;
        let end = rest
            .char_indices()
            .find(|&(_, ch)| match ch {
                '{' => {
                    depth += 1;
                    false
                }
                '}' if depth > 0 => {
                    depth -= 1;
                    false
                }
                c if depth > 0 => !(c.is_alphanumeric() || "_:, \n\t{}*".contains(c)),
                c => !(c.is_alphanumeric() || c == '_' || c == ':'),
            })
            .map_or(rest.len(), |(i, _)| i);
        let tree: String = rest[..end].chars().filter(|c| !c.is_whitespace()).collect();
        if !before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            paths.extend(expand(tree.trim_end_matches(':')));
        }
        rest = &rest["crate::".len()..];
    }
    paths
}

/// Root names re-exported from a runtime layer by `lib.rs`, by name.
fn root_exports(lib: &str) -> BTreeMap<String, &'static str> {
    let mut map = BTreeMap::new();
    for stmt in lib.split(';') {
        let Some(at) = stmt.find("pub use crate::") else {
            continue;
        };
        for path in crate_paths(&stmt[at..]) {
            let segments: Vec<&str> = path.split("::").collect();
            let (Some(layer), Some(name)) = (segments.get(1), segments.last()) else {
                continue;
            };
            if let Some(layer) = LAYERS.iter().find(|l| *l == layer) {
                map.insert(name.to_string(), *layer);
            }
        }
    }
    map
}

fn classify(path: &str, roots: &BTreeMap<String, &'static str>) -> Target {
    let first = path.split("::").nth(1).unwrap_or_default();
    if let Some(layer) = LAYERS.iter().find(|l| **l == first) {
        Target::Direct(layer)
    } else if let Some(layer) = roots.get(first) {
        Target::Root(layer)
    } else if PROTOCOL.contains(&first) {
        Target::Protocol
    } else if first == "types" {
        Target::Types
    } else {
        Target::Generated
    }
}

/// The paths of `source` (a file of `rule.dir`) that its rule forbids.
fn violations(rule: &Rule, source: &str, roots: &BTreeMap<String, &'static str>) -> Vec<String> {
    crate_paths(source)
        .into_iter()
        .filter(|p| !allows(rule, classify(p, roots)))
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn roots() -> BTreeMap<String, &'static str> {
    let lib = fs::read_to_string(src().join("lib.rs")).unwrap_or_default();
    root_exports(&lib)
}

#[test]
fn no_layer_reaches_up() {
    let roots = roots();
    assert_eq!(roots.get("RoomClient"), Some(&"core"), "lib.rs is parsed");
    let mut found = Vec::new();
    for rule in RULES {
        let mut files = Vec::new();
        rust_files(&src().join(rule.dir), &mut files);
        assert!(!files.is_empty(), "no sources in src/{}", rule.dir);
        for file in files {
            let source = fs::read_to_string(&file).unwrap_or_default();
            let name = file
                .strip_prefix(src())
                .unwrap_or(&file)
                .to_string_lossy()
                .replace('\\', "/");
            for path in violations(rule, &source, &roots) {
                if EXCEPTIONS.contains(&(name.as_str(), path.as_str())) {
                    continue;
                }
                found.push(format!("{}: {path}", file.display()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "paths that point up a layer:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_check_catches_upward_paths() {
    let roots = roots();
    let core = &RULES[0];
    let upward = [
        "use crate::surfaces::hosting::Toolkit;",
        "use crate::support::{decode, flows::Download};",
        "use crate::{RoomEvent, core::error::Error};",
        "fn f(e: &crate::RoomEvent) {}",
        "/// see [`crate::RoomEvents`]",
        "let p: crate::messaging::Participant;",
        "use crate::types::Row;",
    ];
    for source in upward {
        assert!(
            !violations(core, source, &roots).is_empty(),
            "missed: {source}"
        );
    }
    let fine = [
        "use crate::core::{client::RoomClient, error::{Error, Result}};",
        "use crate::packets::{client as cp, server as sp};",
        "crate::PROTOCOL_VERSION; crate::RoomClient; crate::ErrorCode",
        "use other_crate::surfaces::X;",
    ];
    for source in fine {
        assert_eq!(
            violations(core, source, &roots),
            Vec::<String>::new(),
            "{source}"
        );
    }
    let generated = &RULES[3];
    assert!(!violations(generated, "use crate::core::client::RoomClient;", &roots).is_empty());
    assert!(violations(
        generated,
        "crate::RoomClient; crate::support::decode::json",
        &roots
    )
    .is_empty());
    assert_eq!(
        expand("crate::a::{b,c::{d,e}}"),
        ["crate::a::b", "crate::a::c::d", "crate::a::c::e"]
    );
}
