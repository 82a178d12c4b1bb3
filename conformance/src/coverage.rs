//! Which spec methods the cases exercise.

use std::path::Path;

use serde::Deserialize;

use crate::case::{Case, LoadError, Outcome};

/// A method the spec declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpecMethod {
    /// A tool, as `<toolkit>.<tool>` (a case's `method`).
    Tool(String),
    /// An event, by its packet type (found in `events` outcomes).
    Event(String),
}

#[derive(Deserialize)]
struct SpecFile {
    toolkit: Option<Toolkit>,
    #[serde(default)]
    tools: serde_yaml::Mapping,
    #[serde(default)]
    events: serde_yaml::Mapping,
}

#[derive(Deserialize)]
struct Toolkit {
    name: String,
}

#[derive(Deserialize)]
struct SpecEvent {
    packet: String,
}

/// The tools and events of every toolkit in `spec_dir/*.yaml`, in file then spec order.
pub fn spec_methods(spec_dir: &Path) -> Result<Vec<SpecMethod>, LoadError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| LoadError::Io { path, source }
    };
    let mut files: Vec<_> = std::fs::read_dir(spec_dir)
        .map_err(io(spec_dir))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(io(spec_dir))?;
    files.retain(|p| p.extension().is_some_and(|e| e == "yaml"));
    files.sort();
    let mut methods = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).map_err(io(&path))?;
        let bad = |e: serde_yaml::Error| LoadError::Malformed {
            path: path.clone(),
            reason: e.to_string(),
        };
        let spec: SpecFile = serde_yaml::from_str(&text).map_err(bad)?;
        let Some(toolkit) = spec.toolkit else {
            continue;
        };
        for tool in spec.tools.keys().filter_map(serde_yaml::Value::as_str) {
            methods.push(SpecMethod::Tool(format!("{}.{tool}", toolkit.name)));
        }
        for event in spec.events.values() {
            let event: SpecEvent = serde_yaml::from_value(event.clone()).map_err(bad)?;
            methods.push(SpecMethod::Event(event.packet));
        }
    }
    Ok(methods)
}

/// How many cases exercise `method`: a tool by `method`, an event by appearing in the
/// expected events.
pub fn count(method: &SpecMethod, cases: &[Case]) -> usize {
    cases
        .iter()
        .filter(|c| match (method, &c.outcome) {
            (SpecMethod::Tool(name), _) => c.method == *name,
            (SpecMethod::Event(packet), Outcome::Events(events)) => {
                events.iter().any(|e| e.packet_type == *packet)
            }
            (SpecMethod::Event(_), _) => false,
        })
        .count()
}

/// One line: `coverage: storage.exists 3, ..., event storage.file.updated 1`.
pub fn summary(methods: &[SpecMethod], cases: &[Case]) -> String {
    let by_sdk = |language: &str| -> Vec<Case> {
        cases
            .iter()
            .filter(|c| c.sdk.language == language)
            .cloned()
            .collect()
    };
    let (python, typescript) = (by_sdk("python"), by_sdk("typescript"));
    let mut out = String::from("coverage: cases per spec method (python / typescript)\n");
    let mut uncovered = Vec::new();
    for m in methods {
        let name = match m {
            SpecMethod::Tool(name) => name.clone(),
            SpecMethod::Event(packet) => format!("event {packet}"),
        };
        let (py, ts) = (count(m, &python), count(m, &typescript));
        if py + ts == 0 {
            uncovered.push(name.clone());
        }
        out.push_str(&format!("  {name:<48} {py:>3} / {ts:<3}\n"));
    }
    out.push_str(&format!(
        "{} of {} spec methods have cases",
        methods.len() - uncovered.len(),
        methods.len(),
    ));
    if !uncovered.is_empty() {
        out.push_str(&format!("; none yet: {}", uncovered.join(", ")));
    }
    out.push('\n');
    out
}
