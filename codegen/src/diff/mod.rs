//! The breaking-change report: compares two validated [`Api`]s and classifies every
//! difference by the data-driven [`rules`] table.
//!
//! `cargo run -p codegen -- diff <old-spec-dir> <new-spec-dir>` loads both specs and calls
//! [`diff`]; any two `Api`s compare the same way, so a spec that builds one `Api` per
//! protocol version diffs two of its versions with the same call.

mod compare;
mod decls;
mod fields;
mod render;
pub mod rules;

use std::fmt;

use crate::ir::Api;
pub use render::{render_json, render_text};
pub use rules::{Category, Rule, RULES};

/// Where a change is: the room core, the flow table, the shared types or one toolkit.
/// Reports are grouped and ordered by scope, in this order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// Packets, content types, error codes, core events, handshake headers.
    Core,
    /// The flow table.
    Flows,
    /// The shared types.
    Shared,
    /// One toolkit, by name.
    Toolkit(String),
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Core => f.write_str("room core"),
            Scope::Flows => f.write_str("flow table"),
            Scope::Shared => f.write_str("shared types"),
            Scope::Toolkit(name) => write!(f, "toolkit {name}"),
        }
    }
}

/// One difference between the two specs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Where it is.
    pub scope: Scope,
    /// The item inside the scope, e.g. `tool upload / input name`.
    pub path: String,
    /// The rule that classifies it.
    pub rule: &'static Rule,
    /// What changed, e.g. `string -> json` (may be empty).
    pub detail: String,
}

impl Change {
    /// Whether the change breaks code that uses the generated crate.
    pub fn breaking(&self) -> bool {
        self.rule.breaking
    }
}

/// Every change from one spec to another, in a stable order (scope, path, rule id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The old spec's protocol version.
    pub old_version: String,
    /// The new spec's protocol version.
    pub new_version: String,
    /// The changes.
    pub changes: Vec<Change>,
}

impl Report {
    /// Whether any change is breaking.
    pub fn is_breaking(&self) -> bool {
        self.changes.iter().any(Change::breaking)
    }

    /// How many changes are breaking.
    pub fn breaking_count(&self) -> usize {
        self.changes.iter().filter(|c| c.breaking()).count()
    }
}

/// Compares `old` with `new`.
pub fn diff(old: &Api, new: &Api) -> Report {
    let mut changes = compare::api(old, new);
    changes.sort_by(|a, b| {
        (&a.scope, &a.path, a.rule.id, &a.detail).cmp(&(&b.scope, &b.path, b.rule.id, &b.detail))
    });
    changes.dedup();
    Report {
        old_version: old.version.clone(),
        new_version: new.version.clone(),
        changes,
    }
}
