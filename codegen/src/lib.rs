//! The MeshAgent room SDK generator: spec YAML → validated IR → Rust source.
//!
//! `cargo run -p codegen` regenerates `generated-sdk/src/generated/` and
//! `spec/spec.schema.json`; `--check` fails when the checked-in files are stale.

pub mod coverage;
pub mod diag;
pub mod diff;
pub mod emit;
pub mod ir;
pub mod naming;
pub mod runtime_type;
pub mod spec;

use std::path::Path;

pub use diag::Diagnostic;
pub use emit::GeneratedFile;

/// Loads and validates every spec file in `dir` for the spec's default protocol version;
/// `display_dir` prefixes file names in diagnostics. Returns all problems at once.
pub fn load_api(dir: &Path, display_dir: &str) -> Result<ir::Api, Vec<Diagnostic>> {
    load_api_version(dir, display_dir, None)
}

/// The protocol versions the spec in `dir` describes, oldest first (empty when the
/// spec does not load far enough to say).
pub fn spec_versions(dir: &Path, display_dir: &str) -> Vec<String> {
    let (files, _) = spec::load::load_dir(dir, display_dir);
    let (v, _) = spec::versions::read(&files);
    v.names().into_iter().map(str::to_owned).collect()
}

/// Loads and validates every spec file in `dir` as protocol `version` sees it (`None`:
/// the default version). Returns all problems at once.
pub fn load_api_version(
    dir: &Path,
    display_dir: &str,
    version: Option<&str>,
) -> Result<ir::Api, Vec<Diagnostic>> {
    let (files, mut diags) = spec::load::load_dir(dir, display_dir);
    let built = match version {
        Some(v) => ir::build_version(&files, v),
        None => ir::build(&files),
    };
    match built {
        Ok(api) if diags.is_empty() => Ok(api),
        Ok(_) => Err(diags),
        Err(mut more) => {
            diags.append(&mut more);
            diags.sort();
            Err(diags)
        }
    }
}

/// Streaming tools whose flow shape has no engine (`toolkit.tool (shape)`): valid, but
/// they get no generated method and are reached through `RoomClient::open_stream`.
pub fn tools_without_method(api: &ir::Api) -> Vec<String> {
    api.toolkits
        .iter()
        .flat_map(|tk| {
            tk.tools.iter().filter_map(move |t| match &t.kind {
                ir::ToolKind::Stream(s) if s.shape.method.is_none() => {
                    Some(format!("{}.{} ({})", tk.name, t.name, s.shape.name))
                }
                _ => None,
            })
        })
        .collect()
}

/// The JSON Schema of a spec file, pretty-printed.
pub fn spec_schema() -> String {
    let schema = schemars::schema_for!(spec::model::SpecFile);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}
