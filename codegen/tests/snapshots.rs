//! Snapshots of what the generator produces for a small fixture spec and for real
//! toolkits, and of the error report for a spec full of mistakes. A changed snapshot fails
//! with the way to accept it (see [`ACCEPT`]).

use std::path::Path;

/// What to do when a snapshot changed, printed under insta's diff.
const ACCEPT: &str = "\
The output differs from the accepted snapshot (diff above). If you changed the spec or the \
generator on purpose (e.g. added a method to spec/queues.yaml), review and accept it:
    cargo insta review          (install once: cargo install cargo-insta --locked)
or  INSTA_UPDATE=always cargo test -p codegen --test snapshots   then read `git diff codegen/tests/snapshots`
and commit the updated .snap files. In CI (CI set) insta writes nothing: accept locally.";

/// `insta::assert_snapshot!`, failing with [`ACCEPT`] when the snapshot changed.
fn assert_accepted(name: &str, contents: &str) {
    if let Err(panic) = std::panic::catch_unwind(|| insta::assert_snapshot!(name, contents)) {
        let why = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        panic!("snapshot `{name}` changed: {why}\n\n{ACCEPT}");
    }
}

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
        assert_accepted(&format!("mini__{}", f.path.replace('.', "_")), &f.contents);
    }
}

#[test]
fn error_report_for_a_spec_with_mistakes() {
    let diags =
        codegen::load_api(&fixture("bad"), "fixtures/bad").expect_err("the bad spec is rejected");
    assert_accepted("bad_spec_report", &codegen::diag::render(&diags));
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
    let api = codegen::load_api_version(&spec, "spec", Some("0.35.8"))
        .unwrap_or_else(|d| panic!("{}", codegen::diag::render(&d)));
    let files = codegen::emit::generate(&api).expect("generates");
    for name in ["queues.rs", "database.rs", "messaging.rs"] {
        let file = files.iter().find(|f| f.path == name).expect("toolkit file");
        assert_accepted(&format!("real__{}", name.replace('.', "_")), &file.contents);
    }
}

/// A spec in two versions: each version's tree holds only its items (`since`/`until`),
/// `wire:` entries share a wire name, `nowait` tools are fire-and-forget and SDK notes
/// reach the docs.
#[test]
fn generated_code_per_version() {
    let dir = fixture("versioned");
    assert_eq!(
        codegen::spec_versions(&dir, "fixtures/versioned"),
        ["0.1.0", "0.2.0"]
    );
    for version in ["0.1.0", "0.2.0"] {
        let api = codegen::load_api_version(&dir, "fixtures/versioned", Some(version))
            .unwrap_or_else(|d| panic!("{}", codegen::diag::render(&d)));
        assert_eq!(api.version, version);
        assert_eq!(api.default_version, "0.2.0");
        let files = codegen::emit::generate(&api).expect("generates");
        for name in ["gadgets.rs", "protocol.rs", "error_codes.rs"] {
            let file = files.iter().find(|f| f.path == name).expect("file");
            let snapshot = format!(
                "versioned_{}__{}",
                version.replace('.', "_"),
                name.replace('.', "_")
            );
            assert_accepted(&snapshot, &file.contents);
        }
    }
    // Without a choice, the default version.
    let api = codegen::load_api(&dir, "fixtures/versioned").expect("valid");
    assert_eq!(api.version, "0.2.0");
}

/// Version mistakes are located, with hints (did-you-mean for versions).
#[test]
fn error_report_for_version_mistakes() {
    let diags = codegen::load_api(&fixture("bad_versions"), "fixtures/bad_versions")
        .expect_err("the bad spec is rejected");
    assert_accepted("bad_versions_report", &codegen::diag::render(&diags));
    // Selecting a version the spec does not have is an error too.
    let diags =
        codegen::load_api_version(&fixture("versioned"), "fixtures/versioned", Some("0.3.0"))
            .expect_err("unknown version");
    assert!(codegen::diag::render(&diags).contains("unknown protocol version `0.3.0` selected"));
}
