//! Snapshots of what the generator produces for a small fixture spec, and of the error
//! report for a spec full of mistakes.

use std::path::Path;

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

#[test]
fn generated_code_for_the_fixture_spec() {
    let api = codegen::load_api(&fixture("mini"), "fixtures/mini")
        .unwrap_or_else(|d| panic!("fixture spec is valid:\n{}", codegen::diag::render(&d)));
    let files = codegen::emit::generate(&api).expect("fixture generates");
    for f in files {
        insta::assert_snapshot!(format!("mini__{}", f.path.replace('.', "_")), f.contents);
    }
}

#[test]
fn error_report_for_a_spec_with_mistakes() {
    let diags =
        codegen::load_api(&fixture("bad"), "fixtures/bad").expect_err("the bad spec is rejected");
    insta::assert_snapshot!("bad_spec_report", codegen::diag::render(&diags));
}

#[test]
fn generation_is_deterministic() {
    let gen = || {
        let api = codegen::load_api(&fixture("mini"), "fixtures/mini").expect("valid");
        codegen::emit::generate(&api).expect("generates")
    };
    assert_eq!(gen(), gen());
}

/// One real toolkit of each shape: plain tools (queues), typed rows and streams (database),
/// and events (messaging).
#[test]
fn generated_code_for_real_toolkits() {
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec");
    let api = codegen::load_api(&spec, "spec")
        .unwrap_or_else(|d| panic!("{}", codegen::diag::render(&d)));
    let files = codegen::emit::generate(&api).expect("generates");
    for name in ["queues.rs", "database.rs", "messaging.rs"] {
        let file = files.iter().find(|f| f.path == name).expect("toolkit file");
        insta::assert_snapshot!(format!("real__{}", name.replace('.', "_")), file.contents);
    }
}
