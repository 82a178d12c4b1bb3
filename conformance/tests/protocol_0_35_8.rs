//! Protocol 0.35.8, tested from the default (0.56) build, so that the README's one test
//! command (`cargo test --workspace`) covers both versions: runs the runtime's, the
//! conformance (replaying `conformance/cases/`) and devroom's tests (the local room against
//! the 0.35.8 client) built for 0.35.8 as one nested cargo command in a target folder of
//! their own, and fails if they fail. One command, so the three share one build.
//!
//! Compiled only in the 0.56 build (the nested run itself builds with `protocol-0-35-8`).
#![cfg(not(feature = "protocol-0-35-8"))]

use std::path::Path;
use std::process::Command;

/// The 0.35.8 build: the version, every 0.35.8 toolkit (through conformance's feature),
/// dispatch and the sync document layer, as the default build has them; devroom with its
/// sync toolkit.
const FEATURES: &str = "conformance/protocol-0-35-8,meshagent-room/dispatch,\
meshagent-room/sync-doc,devroom/protocol-0-35-8,devroom/sync";

#[test]
fn the_0_35_8_build_passes_its_tests() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let args = [
        "test",
        "-p",
        "meshagent-room",
        "-p",
        "conformance",
        "-p",
        "devroom",
        "--no-default-features",
        "--features",
        FEATURES,
        "--target-dir",
        "target/protocol-0.35.8",
    ];
    eprintln!("running: cargo {}", args.join(" "));
    let status = Command::new(cargo)
        .current_dir(&root)
        .args(args)
        .status()
        .expect("cargo runs");
    assert!(
        status.success(),
        "the protocol 0.35.8 build fails its tests (rerun: cargo {})",
        args.join(" ")
    );
}
