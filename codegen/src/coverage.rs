//! `codegen coverage`: compares the spec, one protocol version at a time, with the
//! inventory of everything the official SDKs of that version put on the wire
//! (`codegen/inventory-<version>.yaml`, copied from our protocol notes).
//!
//! Toolkits listed in [`DEFERRED`] for a version are reported but do not fail the check.
//! What the spec has beyond the inventory (a method added to the spec before the SDKs
//! have it, say) is reported as *extra*, apart from what is missing, and does not fail it.

use std::collections::{BTreeMap, BTreeSet};

use indexmap::IndexMap;
use serde::Deserialize;

use crate::ir::{Api, ToolKind};

/// The inventory file's shape.
#[derive(Debug, Deserialize)]
pub struct Inventory {
    /// SDK version.
    pub version: String,
    /// Content types.
    pub content_types: Vec<String>,
    /// Error codes by number.
    pub error_codes: BTreeMap<i64, String>,
    /// Client packet types with whether they get a reply.
    pub client_messages: IndexMap<String, ClientMessage>,
    /// Server packet types.
    pub server_messages: Vec<String>,
    /// Toolkit → tools (a streaming tool is written `{name: stream}`).
    pub toolkits: IndexMap<String, Vec<ToolEntry>>,
}

/// A client packet of the inventory.
#[derive(Debug, Deserialize)]
pub struct ClientMessage {
    /// Whether a `__response__` comes back.
    pub reply: bool,
}

/// A tool of the inventory: a name, or `{name: note}`; the tool streams when a `; `-separated
/// part of the note is `stream` or starts with `stream:` (other parts, such as
/// `py 0.56.0 only`, are for readers).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum ToolEntry {
    /// A plain tool.
    Plain(String),
    /// A tool with a note (a streaming tool, or one only some SDKs send).
    Streaming(BTreeMap<String, String>),
}

/// Toolkits or tools the spec deliberately does not type: `(version, toolkit, why)`.
/// Their rows are reported, marked deferred, and never fail the check.
/// An entry is a toolkit (`dataset`) or one tool (`messaging.stream`).
pub const DEFERRED: &[(&str, &str, &str)] = &[(
    "0.56.0",
    "messaging.stream",
    "hand-written surface (surfaces/messaging_stream.rs), no spec entry",
)];

/// Why `toolkit` (or `toolkit.tool`) is deferred in `version`, if it is.
pub fn deferred(version: &str, toolkit: &str) -> Option<&'static str> {
    DEFERRED
        .iter()
        .find(|(v, t, _)| *v == version && *t == toolkit)
        .map(|(_, _, why)| *why)
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// What is counted.
    pub what: String,
    /// How many the spec has.
    pub specified: usize,
    /// How many the inventory has.
    pub total: usize,
    /// What is missing or wrong.
    pub problems: Vec<String>,
    /// What the spec has and the inventory does not (reported, not failing).
    pub extra: Vec<String>,
    /// Why the row does not count (deferred to a later issue), when it does not.
    pub deferred: Option<String>,
    /// Deferred items of a counted row (reported, not failing).
    pub notes: Vec<String>,
}

/// Compares `api` with `inv`, one row per toolkit and per packet/content/code family.
pub fn compare(api: &Api, inv: &Inventory) -> Vec<Row> {
    let mut rows = Vec::new();
    for (toolkit, tools) in &inv.toolkits {
        let spec_tk = api.toolkits.iter().find(|t| &t.name == toolkit);
        let mut problems = Vec::new();
        let mut notes = Vec::new();
        let mut specified = 0;
        for entry in tools {
            let (name, streaming) = match entry {
                ToolEntry::Plain(n) => (n.clone(), false),
                ToolEntry::Streaming(m) => {
                    let streams = m.values().any(|note| {
                        note.split("; ")
                            .any(|part| part == "stream" || part.starts_with("stream:"))
                    });
                    (m.keys().next().cloned().unwrap_or_default(), streams)
                }
            };
            match spec_tk.and_then(|t| t.tools.iter().find(|x| x.name == name)) {
                Some(tool) => {
                    let spec_streams = matches!(tool.kind, ToolKind::Stream(_));
                    if spec_streams == streaming {
                        specified += 1;
                    } else {
                        problems.push(format!("{name}: streaming is {spec_streams} in the spec, {streaming} in the inventory"));
                    }
                }
                None => match deferred(&inv.version, &format!("{toolkit}.{name}")) {
                    Some(why) => {
                        notes.push(format!("{name}: missing, deferred ({why}); not counted"))
                    }
                    None => problems.push(format!("{name}: missing")),
                },
            }
        }
        let known: BTreeSet<String> = tools.iter().map(entry_name).collect();
        let extra = spec_tk
            .map(|tk| {
                tk.tools
                    .iter()
                    .filter(|t| !known.contains(&t.name))
                    .map(|t| t.name.clone())
                    .collect()
            })
            .unwrap_or_default();
        rows.push(Row {
            what: format!("toolkit {toolkit}"),
            specified,
            total: tools.len(),
            problems,
            extra,
            deferred: deferred(&inv.version, toolkit).map(str::to_owned),
            notes,
        });
    }
    for tk in api
        .toolkits
        .iter()
        .filter(|t| !inv.toolkits.contains_key(&t.name))
    {
        rows.push(Row {
            what: format!("toolkit {}", tk.name),
            specified: 0,
            total: 0,
            problems: Vec::new(),
            extra: tk.tools.iter().map(|t| t.name.clone()).collect(),
            deferred: None,
            notes: Vec::new(),
        });
    }
    rows.push(set_row(
        "client packet types",
        inv.client_messages
            .iter()
            .map(|(k, v)| format!("{k} (reply: {})", v.reply)),
        api.client_packets
            .iter()
            .map(|p| format!("{} (reply: {})", p.wire, p.reply)),
    ));
    let server: Vec<String> = api
        .server_packets
        .iter()
        .map(|p| p.wire.clone())
        .chain(api.core_events.iter().map(|e| e.packet.clone()))
        .chain(
            api.toolkits
                .iter()
                .flat_map(|t| t.events.iter().map(|e| e.packet.clone())),
        )
        .collect();
    rows.push(set_row(
        "server packet types",
        inv.server_messages.iter().cloned(),
        server,
    ));
    rows.push(set_row(
        "content types",
        inv.content_types.iter().cloned(),
        api.content_types.iter().map(|c| c.wire.clone()),
    ));
    rows.push(set_row(
        "error codes",
        inv.error_codes.iter().map(|(c, n)| format!("{c} {n}")),
        api.error_codes
            .iter()
            .map(|e| format!("{} {}", e.code, e.name)),
    ));
    rows
}

fn entry_name(e: &ToolEntry) -> String {
    match e {
        ToolEntry::Plain(n) => n.clone(),
        ToolEntry::Streaming(m) => m.keys().next().cloned().unwrap_or_default(),
    }
}

/// Compares two sets of names (the spec's may repeat, e.g. a packet carrying several events).
fn set_row(
    what: &str,
    expected: impl IntoIterator<Item = String>,
    actual: impl IntoIterator<Item = String>,
) -> Row {
    let expected: BTreeSet<String> = expected.into_iter().collect();
    let actual: BTreeSet<String> = actual.into_iter().collect();
    Row {
        what: what.to_string(),
        specified: expected.intersection(&actual).count(),
        total: expected.len(),
        problems: expected
            .difference(&actual)
            .map(|m| format!("{m}: missing"))
            .collect(),
        extra: actual.difference(&expected).cloned().collect(),
        deferred: None,
        notes: Vec::new(),
    }
}

/// Renders the rows as a table; the second value is whether everything is covered
/// (deferred rows aside; extra items never make it incomplete).
pub fn render(rows: &[Row]) -> (String, bool) {
    let width = rows.iter().map(|r| r.what.len()).max().unwrap_or(0);
    let mut out = String::new();
    let (mut tools, mut tools_total, mut tools_extra) = (0, 0, 0);
    for r in rows {
        if r.what.starts_with("toolkit ") {
            tools += r.specified;
            tools_total += r.total;
            tools_extra += r.extra.len();
        }
        let mut mark = match (&r.deferred, r.problems.is_empty()) {
            (_, true) => "ok".to_string(),
            (Some(why), false) => format!("deferred ({why}); not counted"),
            (None, false) => format!("MISSING {}", r.problems.len()),
        };
        if !r.extra.is_empty() {
            mark.push_str(&format!(", {} extra", r.extra.len()));
        }
        out.push_str(&format!(
            "{:width$}  {:>3}/{:<3} {mark}\n",
            r.what, r.specified, r.total
        ));
        let extra = r
            .extra
            .iter()
            .map(|x| format!("{x}: extra (in the spec, not in the reference inventory)"));
        for line in r
            .problems
            .iter()
            .cloned()
            .chain(r.notes.iter().cloned())
            .chain(extra)
        {
            out.push_str(&format!("{:width$}    - {line}\n", ""));
        }
    }
    out.push_str(&format!(
        "{:width$}  {tools:>3}/{tools_total:<3}{}\n",
        "tools in all",
        if tools_extra > 0 {
            format!(" and {tools_extra} extra")
        } else {
            String::new()
        }
    ));
    if rows.iter().any(|r| !r.extra.is_empty()) {
        out.push_str(EXTRA_NOTE);
        out.push('\n');
    }
    (
        out,
        rows.iter()
            .all(|r| r.problems.is_empty() || r.deferred.is_some()),
    )
}

/// What to do about extra items (printed under a table that has some).
pub const EXTRA_NOTE: &str =
    "extra: the spec has these and the official SDKs' inventory does not; \
this does not fail the check. If an official SDK sends one, add it to the inventory file; \
if it belongs to a newer protocol version only, give it `since:`.";
