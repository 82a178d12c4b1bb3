//! The report as readable text (grouped by scope) or as JSON (stable order).

use serde::Serialize;

use super::rules::{Rule, RULES};
use super::{Report, Scope};

fn mark(breaking: bool) -> &'static str {
    if breaking {
        "BREAKING"
    } else {
        "ok"
    }
}

/// `3 changes, 1 breaking`.
fn counts(all: usize, breaking: usize) -> String {
    let s = if all == 1 { "" } else { "s" };
    format!("{all} change{s}, {breaking} breaking")
}

/// The rules the report's changes name, in table order.
fn used_rules(report: &Report) -> Vec<&'static Rule> {
    RULES
        .iter()
        .copied()
        .filter(|r| report.changes.iter().any(|c| std::ptr::eq(c.rule, *r)))
        .collect()
}

/// The report as text: a summary line, the changes grouped by scope, then the rules used.
pub fn render_text(report: &Report) -> String {
    let mut out = format!(
        "protocol {} -> {}: {}\n",
        report.old_version,
        report.new_version,
        counts(report.changes.len(), report.breaking_count())
    );
    let mut scope: Option<&Scope> = None;
    for c in &report.changes {
        if scope != Some(&c.scope) {
            let here = report.changes.iter().filter(|o| o.scope == c.scope);
            let (all, breaking) =
                here.fold((0, 0), |(a, b), o| (a + 1, b + usize::from(o.breaking())));
            out.push_str(&format!("\n{} ({})\n", c.scope, counts(all, breaking)));
            scope = Some(&c.scope);
        }
        let detail = if c.detail.is_empty() {
            String::new()
        } else {
            format!(": {}", c.detail)
        };
        out.push_str(&format!(
            "  {:8}  {}{detail}  [{}]\n",
            mark(c.breaking()),
            c.path,
            c.rule.id
        ));
    }
    let used = used_rules(report);
    if !used.is_empty() {
        out.push_str("\nrules\n");
        for r in used {
            out.push_str(&format!(
                "  {} ({}, {}): {}\n",
                r.id,
                mark(r.breaking),
                r.category.as_str(),
                r.reason
            ));
        }
    }
    out
}

#[derive(Serialize)]
struct JsonReport<'a> {
    old_version: &'a str,
    new_version: &'a str,
    breaking: bool,
    breaking_changes: usize,
    non_breaking_changes: usize,
    changes: Vec<JsonChange<'a>>,
    rules: Vec<&'static Rule>,
}

#[derive(Serialize)]
struct JsonChange<'a> {
    scope: String,
    toolkit: Option<&'a str>,
    path: &'a str,
    rule: &'static str,
    breaking: bool,
    category: &'static str,
    detail: &'a str,
}

/// The report as pretty JSON: versions, counts, the changes in report order and the
/// rules they name, in table order.
pub fn render_json(report: &Report) -> String {
    let breaking = report.breaking_count();
    let json = JsonReport {
        old_version: &report.old_version,
        new_version: &report.new_version,
        breaking: breaking > 0,
        breaking_changes: breaking,
        non_breaking_changes: report.changes.len() - breaking,
        changes: report
            .changes
            .iter()
            .map(|c| JsonChange {
                scope: match &c.scope {
                    Scope::Core => "core".into(),
                    Scope::Flows => "flows".into(),
                    Scope::Shared => "shared".into(),
                    Scope::Toolkit(_) => "toolkit".into(),
                },
                toolkit: match &c.scope {
                    Scope::Toolkit(name) => Some(name),
                    _ => None,
                },
                path: &c.path,
                rule: c.rule.id,
                breaking: c.breaking(),
                category: c.rule.category.as_str(),
                detail: &c.detail,
            })
            .collect(),
        rules: used_rules(report),
    };
    let mut text = serde_json::to_string_pretty(&json).unwrap_or_default();
    text.push('\n');
    text
}
