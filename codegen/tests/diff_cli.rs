//! `codegen diff` exit status: 0 without breaking changes or with `--allow-breaking`,
//! 1 with breaking changes, 2 when a spec does not load.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path)
}

fn run(pair: &str, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_codegen"))
        .arg("diff")
        .arg(fixture(&format!("diff/{pair}/old")))
        .arg(fixture(&format!("diff/{pair}/new")))
        .args(extra)
        .output()
        .expect("codegen runs")
}

#[test]
fn compatible_changes_exit_0() {
    let out = run("compatible", &[]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("0 breaking"));
}

#[test]
fn breaking_changes_exit_1() {
    let out = run("breaking", &[]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--allow-breaking"));
}

#[test]
fn allowed_breaking_changes_exit_0() {
    let out = run("breaking", &["--allow-breaking"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("BREAKING"));
}

#[test]
fn json_format_prints_json_and_keeps_the_exit_status() {
    let out = run("breaking", &["--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    assert_eq!(v["breaking"], true);
    let out = run("compatible", &["--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    assert_eq!(v["breaking"], false);
}

#[test]
fn a_spec_that_does_not_load_exits_2() {
    let out = Command::new(env!("CARGO_BIN_EXE_codegen"))
        .arg("diff")
        .arg(fixture("bad"))
        .arg(fixture("mini"))
        .output()
        .expect("codegen runs");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("error"));
}

#[test]
fn help_documents_the_exit_status() {
    let out = Command::new(env!("CARGO_BIN_EXE_codegen"))
        .args(["diff", "--help"])
        .output()
        .expect("codegen runs");
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("Exit status"), "{help}");
    assert!(help.contains("--allow-breaking"), "{help}");
}

/// With versions and no directories, the repository's spec is compared with itself.
#[test]
fn from_and_to_version_compare_two_versions_of_one_spec() {
    let out = Command::new(env!("CARGO_BIN_EXE_codegen"))
        .args(["diff", "--from-version", "0.35.8", "--to-version", "0.56.0"])
        .output()
        .expect("codegen runs");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("protocol 0.35.8 -> 0.56.0:"), "{text}");
    let same = Command::new(env!("CARGO_BIN_EXE_codegen"))
        .args(["diff", "--from-version", "0.56.0", "--to-version", "0.56.0"])
        .output()
        .expect("codegen runs");
    assert_eq!(same.status.code(), Some(0), "{same:?}");
}
