//! The breaking-change report (`codegen diff`): snapshots of the report for a pair of
//! specs whose every change is breaking and a pair whose every change is compatible;
//! together they exercise every rule of the table, each on the side its table row says.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use codegen::diff::{self, Report, RULES};

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path)
}

fn load(path: &str) -> codegen::ir::Api {
    codegen::load_api(&fixture(path), &format!("fixtures/{path}"))
        .unwrap_or_else(|d| panic!("{path} is valid:\n{}", codegen::diag::render(&d)))
}

fn pair(name: &str) -> Report {
    diff::diff(
        &load(&format!("diff/{name}/old")),
        &load(&format!("diff/{name}/new")),
    )
}

fn rule_ids(report: &Report) -> BTreeSet<&'static str> {
    report.changes.iter().map(|c| c.rule.id).collect()
}

#[test]
fn breaking_pair_report() {
    let report = pair("breaking");
    assert!(report.is_breaking());
    let ok: Vec<_> = report.changes.iter().filter(|c| !c.breaking()).collect();
    assert!(
        ok.is_empty(),
        "every change of the pair is breaking: {ok:?}"
    );
    insta::assert_snapshot!("diff_breaking_text", diff::render_text(&report));
    insta::assert_snapshot!("diff_breaking_json", diff::render_json(&report));
}

#[test]
fn compatible_pair_report() {
    let report = pair("compatible");
    assert!(!report.is_breaking(), "{}", diff::render_text(&report));
    assert!(!report.changes.is_empty());
    insta::assert_snapshot!("diff_compatible_text", diff::render_text(&report));
    insta::assert_snapshot!("diff_compatible_json", diff::render_json(&report));
}

/// Every breaking rule fires in the breaking pair, every other rule in the compatible one.
#[test]
fn every_rule_is_exercised_on_its_side() {
    let (breaking, compatible) = (rule_ids(&pair("breaking")), rule_ids(&pair("compatible")));
    for rule in RULES {
        let seen = if rule.breaking {
            &breaking
        } else {
            &compatible
        };
        assert!(
            seen.contains(rule.id),
            "rule {} (breaking: {}) is not exercised by its fixture pair",
            rule.id,
            rule.breaking
        );
    }
}

#[test]
fn rule_table() {
    insta::assert_snapshot!("diff_rules", diff::rules::render_rules());
    let ids: BTreeSet<_> = RULES.iter().map(|r| r.id).collect();
    assert_eq!(ids.len(), RULES.len(), "rule ids are unique");
}

/// A spec compared with itself has no changes: the fixture and the real spec.
#[test]
fn a_spec_has_no_changes_against_itself() {
    let mini = load("mini");
    assert_eq!(diff::diff(&mini, &mini).changes, vec![]);
    let real = codegen::load_api(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec"),
        "spec",
    )
    .unwrap_or_else(|d| panic!("{}", codegen::diag::render(&d)));
    let report = diff::diff(&real, &real);
    assert_eq!(report.changes, vec![]);
    assert!(!report.is_breaking());
}

/// Swapping the sides of the compatible pair turns its additions into removals.
#[test]
fn reversed_pair_is_breaking() {
    let report = diff::diff(&load("diff/compatible/new"), &load("diff/compatible/old"));
    assert!(report.is_breaking());
    let ids = rule_ids(&report);
    for id in [
        "TOOLKIT_REMOVED",
        "TOOL_REMOVED",
        "INPUT_REMOVED",
        "FIELD_REMOVED",
    ] {
        assert!(
            ids.contains(id),
            "{id} missing:\n{}",
            diff::render_text(&report)
        );
    }
}

/// The JSON report is valid JSON in a stable order, with the counts the text shows.
#[test]
fn json_report_is_stable_and_parses() {
    let report = pair("breaking");
    let text = diff::render_json(&report);
    assert_eq!(text, diff::render_json(&pair("breaking")));
    let v: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    assert_eq!(v["breaking"], true);
    assert_eq!(v["breaking_changes"], report.changes.len());
    assert_eq!(
        v["changes"].as_array().map(Vec::len),
        Some(report.changes.len())
    );
}

/// The repository's spec, protocol 0.35.8 against 0.56.0 (the pair).
#[test]
fn real_spec_0_35_8_to_0_56_0() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec");
    let load = |v: &str| {
        codegen::load_api_version(&dir, "spec", Some(v))
            .unwrap_or_else(|d| panic!("{}", codegen::diag::render(&d)))
    };
    let report = diff::diff(&load("0.35.8"), &load("0.56.0"));
    assert!(report.is_breaking());
    let ids = rule_ids(&report);
    for id in [
        "TOOLKIT_REMOVED",
        "TRANSPORT_CHANGED",
        "PACKET_REPLY_CHANGED",
        "TOOL_ADDED",
    ] {
        assert!(
            ids.contains(id),
            "{id} missing:\n{}",
            diff::render_text(&report)
        );
    }
    insta::assert_snapshot!("diff_real_0_35_8_to_0_56_0", diff::render_text(&report));
}
