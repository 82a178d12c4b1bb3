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
