//! Adding a method ends green: a copy of the repository's spec gains methods with every
//! kind of field (scalar, optional, default, list, map, named struct, enum, an input
//! stream and an output stream); the `codegen` binary regenerates a copy of the crate, and a
//! call-site crate that calls each new method is compiled against it (`cargo check`, with
//! `-D warnings`: the generated code must also be warning-free and documented).
//!
//! Nothing of the repository is touched. The scratch workspace and its target folder live
//! in `target/tmp/add-a-method` (cargo's `CARGO_TARGET_TMPDIR`) and are kept between runs,
//! so later runs only recheck the crate; its own target folder keeps the nested cargo off
//! the outer build's lock.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{add_to_spec, root};

/// The new tools, one per line of the field table in the README; `{name}` placeholders
/// become names the spec does not have yet.
const TOOLS: &str = r#"  {every_kind}:
    summary: Takes one field of each kind and returns a named type.
    input:
      name: {type: string, doc: A scalar.}
      limit: {type: "int?", doc: An optional scalar.}
      retry: {type: bool, default: true, doc: A scalar with a default.}
      tags: {type: "list<string>", doc: A list.}
      weights: {type: "map<float>", doc: A map with string keys.}
      item: {type: {EveryKindItem}, doc: A named struct.}
      mode: {type: {EveryKindMode}, doc: An enum.}
      more: {type: "list<{EveryKindItem}>?", doc: An optional list of a named type.}
      seen: {type: "timestamp?", doc: An optional timestamp.}
    output: {content: json, type: {EveryKindItem}}
  {every_kind_upload}:
    summary: Writes a stream of bytes to `path`, sent as the server pulls them.
    stream:
      flow: pull_upload
      request:
        start:
          content: binary
          doc: Opens the upload.
          headers:
            path: {type: string, doc: Where to write.}
            mode: {type: "{EveryKindMode}?", doc: How to write.}
        data: {content: binary, doc: The next piece, headers: {}}
      response:
        pull: {content: binary, doc: The server asks for the next piece, headers: {chunk_size: "int?"}}
  {every_kind_download}:
    summary: Reads `path` as a stream of bytes, pulled one chunk at a time.
    stream:
      flow: pull_download
      request:
        start:
          content: binary
          doc: Opens the download.
          headers:
            path: {type: string, doc: What to read.}
        pull: {content: binary, doc: Asks for the next chunk, headers: {}}
      response:
        start: {content: binary, doc: "Name, MIME type and size", headers: {name: string, mime_type: string, size: int}}
        data: {content: binary, doc: The next chunk, headers: {}}
"#;

const TYPES: &str = r#"  {EveryKindItem}:
    summary: A named struct.
    fields:
      id: {type: string, doc: Its id.}
      size: {type: "int?", doc: "Its size, when known."}
  {EveryKindMode}:
    summary: A string enum.
    enum:
      fast: Quickly.
      careful: Slowly.
"#;

/// Calls every new method with every kind of argument; compiled, never run.
const CALL_SITE: &str = r#"//! Calls the methods the test added, with every kind of argument.

use meshagent_room::queues::{{EveryKindItem}, {EveryKindMode}};

/// Every new method, every argument kind; compiled only (it needs a room to run).
pub async fn call_every_kind(room: &meshagent_room::RoomClient) -> meshagent_room::Result<()> {
    let weights = [("a".to_string(), 0.5)].into_iter().collect();
    let mut other = {EveryKindItem}::new("x");
    other.size = Some(1);
    let item: {EveryKindItem} = room
        .queues()
        .{every_kind}(
            "name",
            vec!["tag".to_string()],
            weights,
            {EveryKindItem}::new("id"),
            {EveryKindMode}::Careful,
        )
        .limit(10)
        .retry(false)
        .more(vec![other])
        .seen(meshagent_room::Timestamp::from("2026-01-01T00:00:00Z"))
        .await?;
    let _: (String, Option<i64>) = (item.id, item.size);
    room.queues()
        .{every_kind_upload}("file.bin", b"bytes".to_vec())
        .mode({EveryKindMode}::Fast)
        .await?;
    let download: meshagent_room::Download =
        room.queues().{every_kind_download}("file.bin").await?;
    let _bytes = download.bytes().await?;
    Ok(())
}
"#;

#[test]
fn a_method_with_every_field_kind_generates_and_compiles() {
    let ws = Path::new(env!("CARGO_TARGET_TMPDIR")).join("add-a-method");
    scratch_workspace(&ws);
    let names = add_to_spec(
        &ws.join("spec"),
        "queues.yaml",
        (
            &["every_kind", "every_kind_upload", "every_kind_download"],
            TOOLS,
        ),
        (&["EveryKindItem", "EveryKindMode"], TYPES),
    );

    // The real CLI, as a contributor runs it, pointed at the copy.
    let codegen = env!("CARGO_BIN_EXE_codegen");
    let out = Command::new(codegen)
        .arg("--root")
        .arg(&ws)
        .output()
        .expect("codegen runs");
    assert!(
        out.status.success(),
        "codegen rejects the new methods:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let generated =
        std::fs::read_to_string(ws.join("generated-sdk/src/generated/v0_56_0/queues.rs"))
            .expect("generated queues.rs");
    for tool in ["every_kind", "every_kind_upload", "every_kind_download"] {
        let name = names.tool(tool);
        assert!(
            generated.contains(&format!("pub fn {name}(")),
            "no method `{name}` in the generated queues.rs"
        );
    }
    // Regenerating is a no-op: the output is deterministic.
    let check = Command::new(codegen)
        .arg("--root")
        .arg(&ws)
        .arg("--check")
        .output()
        .expect("codegen --check runs");
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );

    write_if_changed(&ws.join("call-site/src/lib.rs"), &names.fill(CALL_SITE));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let args = [
        "check",
        "-p",
        "call-site",
        "--target-dir",
        "target",
        "--message-format",
        "short",
    ];
    let out = Command::new(cargo)
        .current_dir(&ws)
        .args(args)
        .env("RUSTFLAGS", "-D warnings")
        .env_remove("CARGO_TARGET_DIR")
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "the call site of the new methods does not compile (in {}: cargo {}):\n{}",
        ws.display(),
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A workspace holding copies of the spec and the crate (sources only), plus an empty
/// call-site crate. Files are written only when they differ, so that cargo's fingerprints
/// of an unchanged crate stay valid between runs.
fn scratch_workspace(ws: &Path) {
    let root = root();
    mirror(&root.join("spec"), &ws.join("spec"), None);
    // `generated/` is left to codegen (below), which writes only what changed.
    mirror(
        &root.join("generated-sdk/src"),
        &ws.join("generated-sdk/src"),
        Some(Path::new("generated")),
    );
    // The crate's manifest without its tests and benches (their files are not copied).
    let manifest = read(&root.join("generated-sdk/Cargo.toml"));
    let lib_only = manifest
        .split_once("\n[dev-dependencies]")
        .map_or(manifest.as_str(), |(lib, _)| lib);
    write_if_changed(&ws.join("generated-sdk/Cargo.toml"), lib_only);
    // The crate's docs include the README.
    write_if_changed(&ws.join("README.md"), &read(&root.join("README.md")));
    // The workspace manifest with the real dependency pins, and the real lock file.
    let workspace = read(&root.join("Cargo.toml"));
    let members = workspace
        .lines()
        .find(|l| l.starts_with("members"))
        .expect("workspace members");
    let workspace = workspace
        .replace(members, "members = [\"generated-sdk\", \"call-site\"]")
        .lines()
        .filter(|l| !l.starts_with("exclude"))
        .collect::<Vec<_>>()
        .join("\n");
    write_if_changed(&ws.join("Cargo.toml"), &workspace);
    // The lock file as the repository has it; cargo then prunes it for this workspace.
    let lock = read(&root.join("Cargo.lock"));
    if write_if_changed(&ws.join("Cargo.lock.repository"), &lock) || !ws.join("Cargo.lock").exists()
    {
        write_if_changed(&ws.join("Cargo.lock"), &lock);
    }
    write_if_changed(
        &ws.join("call-site/Cargo.toml"),
        "[package]\nname = \"call-site\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
         [dependencies]\nmeshagent-room = { path = \"../generated-sdk\" }\n",
    );
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Writes `text` unless `path` holds it already; returns whether it wrote.
fn write_if_changed(path: &Path, text: &str) -> bool {
    if std::fs::read_to_string(path).ok().as_deref() == Some(text) {
        return false;
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("create folder");
    }
    std::fs::write(path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    true
}

/// Makes `to` hold exactly the files of `from` (recursively), but for folder `skip`.
fn mirror(from: &Path, to: &Path, skip: Option<&Path>) {
    let files = |dir: &Path| -> Vec<PathBuf> {
        let mut found = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    if skip.is_none_or(|s| path.strip_prefix(dir).ok() != Some(s)) {
                        stack.push(path);
                    }
                } else if let Ok(rel) = path.strip_prefix(dir) {
                    found.push(rel.to_path_buf());
                }
            }
        }
        found
    };
    let wanted = files(from);
    for stale in files(to).iter().filter(|f| !wanted.contains(f)) {
        let _ = std::fs::remove_file(to.join(stale));
    }
    for rel in &wanted {
        let bytes = std::fs::read(from.join(rel)).expect("read source file");
        let target = to.join(rel);
        if std::fs::read(&target).ok().as_deref() != Some(bytes.as_slice()) {
            std::fs::create_dir_all(target.parent().expect("parent")).expect("create folder");
            std::fs::write(&target, bytes).expect("write copy");
        }
    }
}
