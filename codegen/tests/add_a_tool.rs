//! Adding a tool is only YAML: append one to a copy of the real spec and the generator
//! produces a typed method and request builder for it, with no hand-written code. Each
//! added tool gets a name the spec does not have yet (`peek`, or `peek_2` once a
//! contributor has added a real `peek`), so these tests never collide with real edits.
//! `add_a_method_builds.rs` goes further: it compiles a call site of the new methods.

mod common;

use std::collections::BTreeSet;

use common::{add_to_spec, copy_spec, fresh, insert_entries, temp_dir};

#[test]
fn a_new_tool_in_yaml_becomes_a_typed_method() {
    let dir = temp_dir("add-tool");
    copy_spec(&dir);
    let new_tool = r#"  {peek}:
    summary: Looks at the next message of queue `name` without taking it.
    input:
      name: {type: string, doc: Name of the queue.}
      max_bytes: {type: "int?", doc: Truncate the message beyond this size.}
    output: {content: json, type: json, empty: none}
"#;
    let names = add_to_spec(&dir, "queues.yaml", (&["peek"], new_tool), (&[], ""));
    let peek = names.tool("peek");
    let builder = format!("{}Request", heck_pascal(peek));

    let api = codegen::load_api(&dir, "spec").unwrap_or_else(|d| {
        panic!(
            "spec with the new tool is valid:\n{}",
            codegen::diag::render(&d)
        )
    });
    let files = codegen::emit::generate(&api).expect("generates");
    let code = &files
        .iter()
        .find(|f| f.path == "queues.rs")
        .expect("queues.rs")
        .contents;

    assert!(
        code.contains(&format!(
            "pub fn {peek}(&self, name: impl Into<String>) -> {builder}"
        )),
        "{code}"
    );
    assert!(code.contains("pub fn max_bytes(mut self, max_bytes: i64) -> Self"));
    assert!(code.contains("type Output = crate::Result<Option<serde_json::Value>>;"));
    assert!(code.contains(&format!(
        "Sends `room.invoke_tool` for tool `queues.{peek}`"
    )));
    assert!(code.contains(&format!(
        "self.room.invoke_json(TOOLKIT, \"{peek}\", &self)"
    )));
    // The output is still valid Rust.
    syn::parse_file(
        code.split_once('\n')
            .map_or(code.as_str(), |(_, rest)| rest),
    )
    .expect("parses");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `peek_2` → `Peek2`, as the generator names builders.
fn heck_pascal(name: &str) -> String {
    codegen::naming::pascal(name)
}

/// A tool the spec already has is never picked: the test's tool gets the next free name.
#[test]
fn added_tools_take_a_free_name() {
    let taken: BTreeSet<String> = ["peek", "peek_2"].map(String::from).into();
    assert_eq!(fresh("peek", "_", &taken), "peek_3");
    assert_eq!(fresh("poke", "_", &taken), "poke");
    let mut yaml = "toolkit: {name: q}\ntools:\n  a: {}\n".to_string();
    insert_entries(&mut yaml, "tools", "  b: {}\n");
    insert_entries(&mut yaml, "types", "  T: {}\n");
    assert_eq!(
        yaml,
        "toolkit: {name: q}\ntools:\n  b: {}\n  a: {}\ntypes:\n  T: {}\n"
    );

    // A contributor's own `peek` in the copy: the helper moves on to `peek_2`.
    let dir = temp_dir("free-name");
    copy_spec(&dir);
    let tool = "  {peek}:\n    summary: S.\n    output: {content: empty}\n";
    let first = add_to_spec(&dir, "queues.yaml", (&["peek"], tool), (&[], ""));
    let second = add_to_spec(&dir, "queues.yaml", (&["peek"], tool), (&[], ""));
    assert_ne!(first.tool("peek"), second.tool("peek"));
    codegen::load_api(&dir, "spec")
        .unwrap_or_else(|d| panic!("both tools load:\n{}", codegen::diag::render(&d)));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A streaming tool of a shape the flow table already has is YAML only too: the shape's
/// signature and engine come from `spec/flows.yaml`.
#[test]
fn a_new_streaming_tool_of_an_existing_shape_is_yaml_only() {
    let dir = temp_dir("add-stream");
    copy_spec(&dir);
    let new_tool = r#"  {download_preview}:
    summary: Reads a small preview of a file as a stream of bytes.
    stream:
      flow: pull_download
      request:
        start:
          content: binary
          doc: Opens the preview download.
          headers:
            path: {type: string, doc: Path of the file to preview.}
        pull: {content: binary, doc: Asks for the next chunk, headers: {}}
      response:
        start: {content: binary, doc: "Name, MIME type and size", headers: {name: string, mime_type: string, size: int}}
        data: {content: binary, doc: The next chunk, headers: {}}
"#;
    let names = add_to_spec(
        &dir,
        "storage.yaml",
        (&["download_preview"], new_tool),
        (&[], ""),
    );
    let preview = names.tool("download_preview");
    let api = codegen::load_api(&dir, "spec")
        .unwrap_or_else(|d| panic!("spec is valid:\n{}", codegen::diag::render(&d)));
    let files = codegen::emit::generate(&api).expect("generates");
    let code = &files
        .iter()
        .find(|f| f.path == "storage.rs")
        .expect("storage.rs")
        .contents;
    assert!(
        code.contains(&format!(
            "pub fn {preview}(&self, path: impl Into<String>) -> {}Request",
            codegen::naming::pascal(preview)
        )),
        "{code}"
    );
    assert!(code.contains("type Output = crate::Result<crate::Download>;"));
    assert!(code.contains("&crate::flow_shapes::PULL_DOWNLOAD"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A tool naming a flow shape the table does not have is a located error with a hint.
#[test]
fn an_unknown_flow_shape_is_a_located_error_with_a_hint() {
    let dir = temp_dir("bad-flow");
    copy_spec(&dir);
    let developer = dir.join("developer.yaml");
    let yaml = std::fs::read_to_string(&developer).expect("developer.yaml");
    let yaml = yaml.replacen("flow: server_push", "flow: server_pushed", 1);
    std::fs::write(&developer, &yaml).expect("write");
    let line = yaml
        .lines()
        .position(|l| l.contains("flow: server_pushed"))
        .expect("edited")
        + 1;

    let diags = codegen::load_api(&dir, "spec").expect_err("unknown flow is rejected");
    assert_eq!(diags.len(), 1, "{}", codegen::diag::render(&diags));
    let d = &diags[0];
    assert_eq!(d.file, "spec/developer.yaml");
    assert_eq!(d.line, line);
    assert_eq!(d.message, "unknown flow shape `server_pushed`");
    assert_eq!(d.hint.as_deref(), Some("did you mean `server_push`?"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Tools of the record-batch shapes (0.56 Arrow streams: `write_record_batches`,
/// `read_record_batches`, `watch_record_batches`) are YAML only: the flow table gives each
/// its signature and engine.
#[test]
fn record_batch_tools_are_yaml_only() {
    let dir = temp_dir("add-record-batches");
    copy_spec(&dir);
    let new_tools = r#"  {append_rows}:
    summary: Appends Arrow record batches to table `table`.
    stream:
      flow: write_record_batches
      request:
        start:
          content: binary
          doc: Opens the write; the payload may hold the Arrow schema.
          headers:
            table: {type: string, doc: The table.}
            branch: {type: "string?", doc: The branch.}
        data: {content: binary, doc: One Arrow IPC stream, headers: {content_type: string}}
      response:
        pull: {content: binary, doc: Asks for the next batch, headers: {}}
  {scan_rows}:
    summary: Reads table `table` as Arrow record batches.
    stream:
      flow: read_record_batches
      request:
        start:
          content: binary
          doc: Opens the read.
          headers:
            table: {type: string, doc: The table.}
            limit: {type: "int?", doc: At most this many rows.}
        pull: {content: binary, doc: Asks for the next batch, headers: {}}
      response:
        data: {content: binary, doc: One Arrow IPC stream, headers: {content_type: string}}
  {follow_rows}:
    summary: Watches table `table` for changes.
    stream:
      flow: watch_record_batches
      request:
        start:
          content: binary
          doc: Opens the watch.
          headers:
            table: {type: string, doc: The table.}
        pull: {content: binary, doc: Asks for the next event, headers: {}}
      response:
        data: {content: binary, doc: Changed rows, headers: {content_type: string, phase: "string?"}}
        ready: {content: json, doc: The snapshot is complete, headers: {phase: "string?"}}
"#;
    let names = add_to_spec(
        &dir,
        "storage.yaml",
        (&["append_rows", "scan_rows", "follow_rows"], new_tools),
        (&[], ""),
    );
    let api = codegen::load_api(&dir, "spec")
        .unwrap_or_else(|d| panic!("spec is valid:\n{}", codegen::diag::render(&d)));
    let files = codegen::emit::generate(&api).expect("generates");
    let code = &files
        .iter()
        .find(|f| f.path == "storage.rs")
        .expect("storage.rs")
        .contents;
    let expected = names.fill(
        "pub fn {append_rows}(\n        &self,\n        table: impl Into<String>,\n        batches: impl Into<crate::RecordBatches>,\n    ) -> AppendRowsRequest
crate::support::flows::write_record_batches(
&crate::flow_shapes::WRITE_RECORD_BATCHES
pub fn {scan_rows}(&self, table: impl Into<String>) -> ScanRowsRequest
pub fn limit(mut self, limit: i64) -> Self
futures::stream::BoxStream<'static, crate::Result<crate::RecordBatchChunk>>
crate::support::flows::read_record_batches(
pub fn {follow_rows}(&self, table: impl Into<String>) -> FollowRowsRequest
crate::support::flows::watch_record_batches(
&crate::flow_shapes::WATCH_RECORD_BATCHES",
    );
    // Builders are named after the (possibly suffixed) tools.
    let expected = [
        ("AppendRowsRequest", names.tool("append_rows")),
        ("ScanRowsRequest", names.tool("scan_rows")),
        ("FollowRowsRequest", names.tool("follow_rows")),
    ]
    .iter()
    .fold(expected, |text, (builder, tool)| {
        text.replace(
            builder,
            &format!("{}Request", codegen::naming::pascal(tool)),
        )
    });
    for expected in expected.lines() {
        assert!(code.contains(expected), "missing {expected:?} in:\n{code}");
    }
    syn::parse_file(
        code.split_once('\n')
            .map_or(code.as_str(), |(_, rest)| rest),
    )
    .expect("parses");
    let _ = std::fs::remove_dir_all(&dir);
}
