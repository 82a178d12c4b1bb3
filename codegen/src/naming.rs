//! Naming rules from wire names to Rust names (documented in the README):
//!
//! - methods, fields, modules: `snake_case` of the wire name (heck);
//! - types, variants, builders: `PascalCase` (heck);
//! - request builders share one rule: the builder a method `foo` returns is `FooRequest`
//!   (`storage.upload` → `UploadRequest`), for generated tools and hand-written surfaces
//!   alike (no `...RequestBuilder`); its reply struct, when the spec gives inline fields,
//!   is `FooOutput`. Spec types cannot take these names (a located error says so);
//! - a name that is a Rust keyword gets a trailing `_` (`type` → `type_`), and the wire
//!   name is kept with `#[serde(rename)]` whenever the two differ;
//! - a name that would start with a digit gets a leading `_`.

use heck::{ToPascalCase, ToShoutySnakeCase, ToSnakeCase};
use proc_macro2::{Ident, Span};

const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut",
    "pub", "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "type",
    "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "try", "typeof", "unsized", "virtual", "yield",
];

fn sanitize(name: String) -> String {
    let name = if name.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{name}")
    } else {
        name
    };
    if KEYWORDS.contains(&name.as_str()) {
        format!("{name}_")
    } else {
        name
    }
}

/// `snake_case` name for methods, fields and modules.
pub fn snake(wire: &str) -> String {
    sanitize(wire.replace('.', "_").to_snake_case())
}

/// `PascalCase` name for types and variants.
pub fn pascal(wire: &str) -> String {
    sanitize(wire.replace('.', "_").to_pascal_case())
}

/// `SHOUTY_SNAKE_CASE` name for constants.
pub fn shouty(wire: &str) -> String {
    sanitize(wire.to_shouty_snake_case())
}

/// The request builder a tool's method returns: `<Tool>Request`.
pub fn builder(tool: &str) -> String {
    format!("{}Request", pascal(tool))
}

/// The struct of a tool's reply with inline fields: `<Tool>Output`.
pub fn output_struct(tool: &str) -> String {
    format!("{}Output", pascal(tool))
}

/// An identifier token.
pub fn ident(name: &str) -> Ident {
    Ident::new(name, Span::call_site())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        assert_eq!(snake("download_url"), "download_url");
        assert_eq!(snake("type"), "type_");
        assert_eq!(snake("isFolder"), "is_folder");
        assert_eq!(pascal("file_updated"), "FileUpdated");
        assert_eq!(pascal("storage.file.updated"), "StorageFileUpdated");
        assert_eq!(pascal("self"), "Self_");
        assert_eq!(snake("3d"), "_3d");
        assert_eq!(shouty("PERMISSION_DENIED"), "PERMISSION_DENIED");
        assert_eq!(builder("list_toolkits"), "ListToolkitsRequest");
        assert_eq!(output_struct("describe"), "DescribeOutput");
    }
}
