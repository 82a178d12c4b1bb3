//! Which spec methods the cases exercise.

use std::path::Path;

use crate::case::{Case, Direction, LoadError};

/// A method the spec declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpecMethod {
    /// A tool, as `<toolkit>.<tool>` (a case's `method`).
    Tool(String),
    /// An event: its packet type and, when several events share the packet, the header key
    /// and value that select it.
    Event {
        /// The wire packet type.
        packet: String,
        /// The selecting header key and value.
        when: Option<(String, String)>,
    },
}

impl SpecMethod {
    /// How the coverage table names it.
    pub fn label(&self) -> String {
        match self {
            SpecMethod::Tool(name) => name.clone(),
            SpecMethod::Event { packet, when: None } => format!("event {packet}"),
            SpecMethod::Event {
                packet,
                when: Some((k, v)),
            } => format!("event {packet} ({k}={v})"),
        }
    }
}

/// The tools and events of every toolkit in `spec_dir`, read through the generator's
/// own loader (so the table always matches what is generated), in toolkit then spec order.
pub fn spec_methods(spec_dir: &Path) -> Result<Vec<SpecMethod>, LoadError> {
    // The spec as the protocol version this build speaks sees it.
    let version = Some(meshagent_room::protocol::VERSION);
    let api = codegen::load_api_version(spec_dir, "spec", version).map_err(|diags| {
        LoadError::Malformed {
            path: spec_dir.to_path_buf(),
            reason: diags
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n"),
        }
    })?;
    let event = |e: &codegen::ir::Event| SpecMethod::Event {
        packet: e.packet.clone(),
        when: e.when.clone(),
    };
    let mut methods = Vec::new();
    for toolkit in &api.toolkits {
        for tool in &toolkit.tools {
            methods.push(SpecMethod::Tool(format!("{}.{}", toolkit.name, tool.name)));
        }
        methods.extend(toolkit.events.iter().map(event));
    }
    methods.extend(api.core_events.iter().map(event));
    Ok(methods)
}

/// How many cases exercise `method`: a tool by `method`; an event when the recording
/// carries its packet from the server (with the selecting header value, if any).
pub fn count(method: &SpecMethod, cases: &[Case]) -> usize {
    cases
        .iter()
        .filter(|c| match method {
            SpecMethod::Tool(name) => c.method == *name,
            SpecMethod::Event { packet, when } => c.frames.iter().any(|f| {
                f.dir == Direction::Recv
                    && f.packet_type == *packet
                    && when
                        .as_ref()
                        .is_none_or(|(k, v)| f.header.get(k).and_then(|x| x.as_str()) == Some(v))
            }),
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
        let name = m.label();
        let (py, ts) = (count(m, &python), count(m, &typescript));
        if py + ts == 0 {
            uncovered.push(name.clone());
        }
        out.push_str(&format!("  {name:<52} {py:>3} / {ts:<3}\n"));
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
