//! Helpers for tests that add tools to a copy of the real spec. Names are chosen so that
//! they never collide with what the spec already has: a contributor who adds `peek` to
//! `spec/queues.yaml` must not break a test that adds its own `peek`.

#![allow(dead_code)] // Each test binary uses some of these.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Copies the real spec's YAML files into `to` (created if needed).
pub fn copy_spec(to: &Path) {
    std::fs::create_dir_all(to).expect("temp dir");
    for entry in std::fs::read_dir(root().join("spec")).expect("spec dir") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "yaml") {
            std::fs::copy(&path, to.join(path.file_name().expect("name"))).expect("copy");
        }
    }
}

/// A fresh, empty folder for one test (unique per test name and process).
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("codegen-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Tool names of `file` and type names of every file in the spec at `dir`.
fn taken(dir: &Path, file: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let (mut tools, mut types) = (BTreeSet::new(), BTreeSet::new());
    for entry in std::fs::read_dir(dir).expect("spec dir") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("read");
        let (loaded, _) = codegen::spec::load::load_str("x.yaml", &text);
        let Some(loaded) = loaded else { continue };
        types.extend(loaded.spec.types.keys().cloned());
        if path.file_name().is_some_and(|n| n == file) {
            tools.extend(loaded.spec.tools.keys().cloned());
        }
    }
    (tools, types)
}

/// `base`, or `base` with the first numeric suffix (`sep` + n) that `taken` lacks.
pub fn fresh(base: &str, sep: &str, taken: &BTreeSet<String>) -> String {
    std::iter::once(base.to_string())
        .chain((2..).map(|n| format!("{base}{sep}{n}")))
        .find(|name| !taken.contains(name))
        .expect("a free name")
}

/// Names for the tools (snake_case bases) and types (PascalCase bases) a test adds to
/// `file` of the spec at `dir`, each free in the spec as it is now.
pub struct FreshNames {
    /// Base name → free tool name.
    pub tools: Vec<(String, String)>,
    /// Base name → free type name.
    pub types: Vec<(String, String)>,
}

impl FreshNames {
    /// Picks free names for `tools` and `types`.
    pub fn pick(dir: &Path, file: &str, tools: &[&str], types: &[&str]) -> Self {
        let (mut taken_tools, mut taken_types) = taken(dir, file);
        let pick = |bases: &[&str], sep: &str, taken: &mut BTreeSet<String>| {
            bases
                .iter()
                .map(|b| {
                    let name = fresh(b, sep, taken);
                    taken.insert(name.clone());
                    (b.to_string(), name)
                })
                .collect()
        };
        FreshNames {
            tools: pick(tools, "_", &mut taken_tools),
            types: pick(types, "", &mut taken_types),
        }
    }

    /// The free tool name for `base`.
    pub fn tool(&self, base: &str) -> &str {
        lookup(&self.tools, base)
    }

    /// The free type name for `base`.
    pub fn ty(&self, base: &str) -> &str {
        lookup(&self.types, base)
    }

    /// `text` with every `{base}` placeholder replaced by its free name.
    pub fn fill(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (base, name) in self.tools.iter().chain(&self.types) {
            out = out.replace(&format!("{{{base}}}"), name);
        }
        out
    }
}

fn lookup<'a>(names: &'a [(String, String)], base: &str) -> &'a str {
    names
        .iter()
        .find(|(b, _)| b == base)
        .map(|(_, n)| n.as_str())
        .expect("a picked name")
}

/// Inserts `entries` (already indented by two spaces) as the first entries of top-level
/// section `section` of `yaml`, adding the section at the end when the file has none.
pub fn insert_entries(yaml: &mut String, section: &str, entries: &str) {
    let header = format!("{section}:\n");
    let at = if yaml.starts_with(&header) {
        Some(header.len())
    } else {
        yaml.find(&format!("\n{header}"))
            .map(|i| i + 1 + header.len())
    };
    match at {
        Some(at) => yaml.insert_str(at, entries),
        None => {
            if !yaml.ends_with('\n') {
                yaml.push('\n');
            }
            yaml.push_str(&header);
            yaml.push_str(entries);
        }
    }
}

/// Adds tools (and types) to `file` of the spec at `dir`; placeholders `{base}` in both
/// texts are replaced by free names. Returns the names.
pub fn add_to_spec(
    dir: &Path,
    file: &str,
    tools: (&[&str], &str),
    types: (&[&str], &str),
) -> FreshNames {
    let names = FreshNames::pick(dir, file, tools.0, types.0);
    let path = dir.join(file);
    let mut yaml = std::fs::read_to_string(&path).expect("spec file");
    insert_entries(&mut yaml, "tools", &names.fill(tools.1));
    if !types.1.is_empty() {
        insert_entries(&mut yaml, "types", &names.fill(types.1));
    }
    std::fs::write(&path, yaml).expect("write spec file");
    names
}
