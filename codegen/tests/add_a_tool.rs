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
