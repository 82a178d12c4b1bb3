//! Adding a tool is only YAML: append one to a copy of the real spec and the generator
//! produces a typed method and request builder for it, with no hand-written code.

use std::path::{Path, PathBuf};

fn copy_spec(to: &Path) {
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec");
    std::fs::create_dir_all(to).expect("temp dir");
    for entry in std::fs::read_dir(spec).expect("spec dir") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "yaml") {
            std::fs::copy(&path, to.join(path.file_name().expect("name"))).expect("copy");
        }
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("codegen-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn a_new_tool_in_yaml_becomes_a_typed_method() {
    let dir = temp_dir("add-tool");
    copy_spec(&dir);
    let queues = dir.join("queues.yaml");
    let mut yaml = std::fs::read_to_string(&queues).expect("queues.yaml");
    let marker = "\ntypes:\n";
    let new_tool = r#"
  peek:
    summary: Looks at the next message of queue `name` without taking it.
    input:
      name: {type: string, doc: Name of the queue.}
      max_bytes: {type: "int?", doc: Truncate the message beyond this size.}
    output: {content: json, type: json, empty: none}
"#;
    let at = yaml.find(marker).expect("queues.yaml has a types section");
    yaml.insert_str(at, new_tool);
    std::fs::write(&queues, yaml).expect("write");

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
        code.contains("pub fn peek(&self, name: impl Into<String>) -> PeekRequest"),
        "{code}"
    );
    assert!(code.contains("pub fn max_bytes(mut self, max_bytes: i64) -> Self"));
    assert!(code.contains("type Output = crate::Result<Option<serde_json::Value>>;"));
    assert!(code.contains("Sends `room.invoke_tool` for tool `queues.peek`"));
    assert!(code.contains("self.room.invoke_json(TOOLKIT, \"peek\", &self)"));
    // The output is still valid Rust.
    syn::parse_file(
        code.split_once('\n')
            .map_or(code.as_str(), |(_, rest)| rest),
    )
    .expect("parses");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A streaming tool of a shape the flow table already has is YAML only too: the shape's
/// signature and engine come from `spec/flows.yaml`.
#[test]
fn a_new_streaming_tool_of_an_existing_shape_is_yaml_only() {
    let dir = temp_dir("add-stream");
    copy_spec(&dir);
    let storage = dir.join("storage.yaml");
    let mut yaml = std::fs::read_to_string(&storage).expect("storage.yaml");
    let new_tool = r#"
  download_preview:
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
    let at = yaml
        .find("\nevents:\n")
        .expect("storage.yaml has an events section");
    yaml.insert_str(at, new_tool);
    std::fs::write(&storage, yaml).expect("write");

    let api = codegen::load_api(&dir, "spec")
        .unwrap_or_else(|d| panic!("spec is valid:\n{}", codegen::diag::render(&d)));
    let files = codegen::emit::generate(&api).expect("generates");
    let code = &files
        .iter()
        .find(|f| f.path == "storage.rs")
        .expect("storage.rs")
        .contents;
    assert!(
        code.contains(
            "pub fn download_preview(&self, path: impl Into<String>) -> DownloadPreviewRequest"
        ),
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
    let storage = dir.join("storage.yaml");
    let mut yaml = std::fs::read_to_string(&storage).expect("storage.yaml");
    let new_tools = r#"
  append_rows:
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
  scan_rows:
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
  follow_rows:
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
    let at = yaml
        .find("\nevents:\n")
        .expect("storage.yaml has an events section");
    yaml.insert_str(at, new_tools);
    std::fs::write(&storage, yaml).expect("write");

    let api = codegen::load_api(&dir, "spec")
        .unwrap_or_else(|d| panic!("spec is valid:\n{}", codegen::diag::render(&d)));
    let files = codegen::emit::generate(&api).expect("generates");
    let code = &files
        .iter()
        .find(|f| f.path == "storage.rs")
        .expect("storage.rs")
        .contents;
    for expected in [
        "pub fn append_rows(\n        &self,\n        table: impl Into<String>,\n        batches: impl Into<crate::RecordBatches>,\n    ) -> AppendRowsRequest",
        "crate::support::flows::write_record_batches(",
        "&crate::flow_shapes::WRITE_RECORD_BATCHES",
        "pub fn scan_rows(&self, table: impl Into<String>) -> ScanRowsRequest",
        "pub fn limit(mut self, limit: i64) -> Self",
        "futures::stream::BoxStream<'static, crate::Result<crate::RecordBatchChunk>>",
        "crate::support::flows::read_record_batches(",
        "pub fn follow_rows(&self, table: impl Into<String>) -> FollowRowsRequest",
        "crate::support::flows::watch_record_batches(",
        "&crate::flow_shapes::WATCH_RECORD_BATCHES",
    ] {
        assert!(code.contains(expected), "missing {expected:?} in:\n{code}");
    }
    syn::parse_file(
        code.split_once('\n')
            .map_or(code.as_str(), |(_, rest)| rest),
    )
    .expect("parses");
    let _ = std::fs::remove_dir_all(&dir);
}
