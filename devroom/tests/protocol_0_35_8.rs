//! The generated client's 0.35.8 build against devroom, run from the default (0.56) build so
//! that `cargo test --workspace` covers both: runs devroom's tests built with the feature
//! `protocol-0-35-8` as a nested cargo command in `target/protocol-0.35.8` (the folder of
//! conformance's nested 0.35.8 build, with the same meshagent-room features, so its build is
//! shared), and fails if they fail. The 0.35.8 client sends its token in the query and `v=0.35.8`
//! and awaits an answer to each request chunk: devroom's 0.35.8 dialect.
#![cfg(not(feature = "protocol-0-35-8"))]

use std::path::Path;
use std::process::Command;

/// devroom's 0.35.8 build, with meshagent-room's features as conformance's 0.35.8 build
/// has them (every 0.35.8 toolkit, dispatch, the sync document layer).
const FEATURES: &str = "protocol-0-35-8,sync,meshagent-room/storage,meshagent-room/queues,\
meshagent-room/messaging,meshagent-room/developer,meshagent-room/sync,meshagent-room/livekit,\
meshagent-room/services,meshagent-room/database,meshagent-room/memory,\
meshagent-room/containers,meshagent-room/secrets,meshagent-room/dispatch,meshagent-room/sync-doc";

#[test]
fn the_0_35_8_client_passes_the_devroom_tests() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let args = [
        "test",
        "-p",
        "devroom",
        "--no-default-features",
        "--features",
        FEATURES,
        "--target-dir",
        "target/protocol-0.35.8",
        "--tests",
    ];
    eprintln!("running: cargo {}", args.join(" "));
    let status = Command::new(cargo)
        .current_dir(&root)
        .args(args)
        .status()
        .expect("cargo runs");
    assert!(
        status.success(),
        "devroom's tests fail with the 0.35.8 client (rerun: cargo {})",
        args.join(" ")
    );
}
