//! Reads spec YAML into [`SpecFile`]s, collecting every problem with its location.
//!
//! This is the only module that knows about the YAML library (`serde_yaml`): swapping
//! it is a change to this file alone. Positions come from a second, event-level pass
//! ([`super::locate`]), so that problems found later, in validation, can also be located.

use std::path::Path;

pub use super::locate::Locator;
use super::model::{EnumValueDef, EnumValueSpec, FieldDef, FieldSpec, SpecFile};
use crate::diag::{did_you_mean, Diagnostic};
use indexmap::IndexMap;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_yaml::Value;

/// Parses a YAML document (other than a spec file, e.g. the inventory) into `T`.
pub fn parse_yaml<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    serde_yaml::from_str(text).map_err(|e| e.to_string())
}

/// A spec file that parsed, with a way to locate any of its key paths.
#[derive(Debug, Clone)]
pub struct LoadedFile {
    /// Display name used in diagnostics and generated headers, e.g. `spec/storage.yaml`.
    pub name: String,
    /// The file's contents.
    pub spec: SpecFile,
    /// Key path → position.
    pub locator: Locator,
}

/// Loads every `*.yaml` file of `dir` in name order. Names in diagnostics are
/// `display_dir/<file>`.
pub fn load_dir(dir: &Path, display_dir: &str) -> (Vec<LoadedFile>, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let mut entries: Vec<_> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
            .collect(),
        Err(e) => {
            diagnostics.push(Diagnostic::new(
                display_dir,
                (1, 1),
                format!("cannot read the spec folder: {e}"),
                Some("run from the repository root, or pass --spec <dir>".into()),
            ));
            return (Vec::new(), diagnostics);
        }
    };
    entries.sort();
    let mut files = Vec::new();
    for path in entries {
        let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let name = format!("{display_dir}/{}", file_name.unwrap_or_default());
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let (file, mut diags) = load_str(&name, &text);
                diagnostics.append(&mut diags);
                files.extend(file);
            }
            Err(e) => diagnostics.push(Diagnostic::new(
                name,
                (1, 1),
                format!("cannot read the file: {e}"),
                None,
            )),
        }
    }
    (files, diagnostics)
}

/// Loads one spec file from text. Returns the file when it parsed as YAML (possibly
/// with some entries dropped, each reported in the diagnostics).
pub fn load_str(name: &str, text: &str) -> (Option<LoadedFile>, Vec<Diagnostic>) {
    let locator = Locator::new(text);
    let mut diags = Vec::new();
    let value: Value = match serde_yaml::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            diags.extend(yaml_errors(name, &locator, &e));
            return (None, diags);
        }
    };
    let mut reader = Reader {
        file: name,
        locator: &locator,
        diags: &mut diags,
    };
    let spec = reader.spec_file(value);
    (
        Some(LoadedFile {
            name: name.to_string(),
            spec,
            locator,
        }),
        diags,
    )
}

/// Diagnostics for a file that is not valid YAML, each with a hint that fits its cause.
fn yaml_errors(name: &str, locator: &Locator, e: &serde_yaml::Error) -> Vec<Diagnostic> {
    let text = e.to_string();
    if text.contains("duplicate entry") && !locator.duplicates().is_empty() {
        // The YAML library names the enclosing mapping; the event pass found each repeat.
        return locator
            .duplicates()
            .iter()
            .map(|d| {
                let key = d.path.last().map_or("", String::as_str);
                locator.diagnostic_at(
                    name,
                    d.again,
                    match d.path.split_last() {
                        Some((_, within)) if !within.is_empty() => {
                            // A mapping under an earlier repeat carries a private marker
                            // (`\u{0}n`, see `locate`): shown by its name only.
                            let within: Vec<&str> = within
                                .iter()
                                .map(|k| k.split('\u{0}').next().unwrap_or(k))
                                .collect();
                            format!("duplicate key `{key}` in `{}`", within.join("."))
                        }
                        _ => format!("duplicate section `{key}`"),
                    },
                    Some(format!(
                        "`{key}` is already a key of this mapping (line {}); a key appears once: rename or remove one of them",
                        d.first.0
                    )),
                )
            })
            .collect();
    }
    let mut position = e.location().map_or((1, 1), |l| (l.line(), l.column()));
    let line_of = |n: usize| {
        n.checked_sub(1)
            .and_then(|i| locator.text().lines().nth(i))
            .unwrap_or("")
    };
    // An unclosed `{` or `[` is noticed at the end of the file: point at where it opened.
    let opened = text
        .split_once("while parsing a flow ")
        .and_then(|(_, rest)| rest.split_once(" at line "))
        .and_then(|(_, at)| {
            let (line, column) = at.split_once(" column ")?;
            let column: String = column.chars().take_while(char::is_ascii_digit).collect();
            Some((line.parse().ok()?, column.parse().ok()?))
        });
    if let Some(start) = opened.filter(|_| line_of(position.0).trim().is_empty()) {
        position = start;
    }
    let line = line_of(position.0);
    let at_tab = line.chars().nth(position.1.saturating_sub(1)) == Some('\t');
    let (message, hint) = if let Some(tab) = line.find('\t') {
        let column = line[..tab].chars().count() + 1;
        (
            if at_tab {
                "not valid YAML: a tab character where indentation or a token is expected".into()
            } else {
                format!("not valid YAML: {text}")
            },
            format!("a tab at column {column}: YAML indents with spaces only; replace the tab with spaces"),
        )
    } else if opened.is_some() || line.contains('{') || line.contains('[') {
        (
            format!("not valid YAML: {text}"),
            "close each `{` and `[` on its line, and quote values containing `?`, `,`, `:`, `[` or `{`, e.g. `type: \"int?\"`".into(),
        )
    } else {
        (
            format!("not valid YAML: {text}"),
            "check the indentation (spaces, two per level) and quote values containing `: ` or starting with `*`, `&`, `!`, `%` or `@`".into(),
        )
    };
    vec![locator.diagnostic_at(name, position, message, Some(hint))]
}

const SECTIONS: [&str; 10] = [
    "protocol",
    "packets",
    "content_types",
    "error_codes",
    "toolkit",
    "tools",
    "events",
    "types",
    "flows",
    "constants",
];

struct Reader<'a> {
    file: &'a str,
    locator: &'a Locator,
    diags: &'a mut Vec<Diagnostic>,
}

impl Reader<'_> {
    fn spec_file(&mut self, value: Value) -> SpecFile {
        let mut spec = SpecFile::default();
        let Value::Mapping(top) = value else {
            if !value.is_null() {
                self.error(&[], "a spec file must be a YAML mapping of sections", None);
            }
            return spec;
        };
        for (key, value) in top {
            let Some(key) = key.as_str().map(str::to_owned) else {
                self.error(&[], "section names must be strings", None);
                continue;
            };
            match key.as_str() {
                "protocol" => spec.protocol = self.whole(&key, value),
                "packets" => spec.packets = self.whole(&key, value),
                "toolkit" => spec.toolkit = self.whole(&key, value),
                "content_types" => spec.content_types = Some(self.entries(&key, value)),
                "error_codes" => spec.error_codes = Some(self.entries(&key, value)),
                "tools" => spec.tools = self.entries(&key, value),
                "events" => spec.events = self.entries(&key, value),
                "types" => spec.types = self.entries(&key, value),
                "flows" => spec.flows = Some(self.entries(&key, value)),
                "constants" => spec.constants = self.entries(&key, value),
                other => {
                    let hint = did_you_mean(other, SECTIONS)
                        .or_else(|| Some(format!("the sections are: {}", SECTIONS.join(", "))));
                    self.error(&[other], format!("unknown section `{other}`"), hint);
                }
            }
        }
        spec
    }

    /// Deserializes a whole section; on failure reports it and yields `None`.
    fn whole<T: DeserializeOwned>(&mut self, key: &str, value: Value) -> Option<T> {
        match serde_yaml::from_value(value) {
            Ok(v) => Some(v),
            Err(e) => {
                self.serde_error(&[key], &e);
                None
            }
        }
    }

    /// Deserializes a mapping section entry by entry, so one bad entry does not hide
    /// problems in the others.
    fn entries<T: DeserializeOwned>(&mut self, key: &str, value: Value) -> IndexMap<String, T> {
        let mut out = IndexMap::new();
        let map = match value {
            Value::Mapping(m) => m,
            Value::Null => return out,
            _ => {
                self.error(&[key], format!("`{key}` must be a mapping"), None);
                return out;
            }
        };
        for (name, item) in map {
            let name = match name {
                Value::String(s) => s,
                Value::Number(n) => n.to_string(),
                _ => {
                    self.error(&[key], format!("keys of `{key}` must be strings"), None);
                    continue;
                }
            };
            match serde_yaml::from_value::<T>(item) {
                Ok(v) => {
                    out.insert(name, v);
                }
                Err(e) => self.serde_error(&[key, &name], &e),
            }
        }
        out
    }

    fn serde_error(&mut self, path: &[&str], e: &serde_yaml::Error) {
        let text = e.to_string();
        // serde names the offending key in backticks; place the error on that key.
        let named = text
            .split('`')
            .nth(1)
            .and_then(|k| self.locator.find_below(path, k));
        let (line, column) = named.unwrap_or_else(|| self.locator.locate(path));
        let split_text = text.contains("unknown field")
            && text.split('`').nth(1).is_some_and(|k| k.contains(' '));
        let hint = if split_text {
            Some("a `,` inside `{...}` ends the value: quote text that contains commas, e.g. `doc: \"a, b\"`".into())
        } else if text.contains("unknown field") {
            Some("check the spelling; the schema spec/spec.schema.json lists every key".into())
        } else if text.contains("invalid type: floating point") {
            Some("versions have three parts (`since: 0.56.0`); a number like `0.56` is read as a float".into())
        } else if text.contains("invalid type") {
            Some("see spec/spec.schema.json for the expected shape".into())
        } else {
            None
        };
        let d = self.locator.diagnostic_at(
            self.file,
            (line, column),
            format!("in `{}`: {text}", path.join(".")),
            hint,
        );
        self.diags.push(d);
    }

    fn error(&mut self, path: &[&str], message: impl Into<String>, hint: Option<String>) {
        let d = self.locator.diagnostic(self.file, path, message, hint);
        self.diags.push(d);
    }
}

/// A field is a bare type string or a mapping; deserialized by hand so that errors in the
/// mapping form keep their precise message instead of "did not match any variant".
impl<'de> Deserialize<'de> for FieldDef {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = FieldDef;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a type expression or a mapping with `type` and `doc`")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<FieldDef, E> {
                Ok(FieldDef::Short(v.to_string()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<FieldDef, A::Error> {
                FieldSpec::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(|f| FieldDef::Full(Box::new(f)))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// An enum value is a description string or a mapping with `doc`, `since`, `until`.
impl<'de> Deserialize<'de> for EnumValueDef {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = EnumValueDef;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a description or a mapping with `doc`, `since` and `until`")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<EnumValueDef, E> {
                Ok(EnumValueDef::Short(v.to_string()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<EnumValueDef, A::Error> {
                EnumValueSpec::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(EnumValueDef::Full)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_bad_entry_does_not_hide_others() {
        let text = "tools:\n  a:\n    sumary: x\n  b:\n    summary: y\n    input: 3\n";
        let (file, diags) = load_str("t.yaml", text);
        assert!(file.is_some());
        assert_eq!(diags.len(), 2, "{diags:#?}");
        assert_eq!((diags[0].line, diags[0].column), (3, 5));
        assert!(diags[0].message.contains("unknown field `sumary`"));
    }

    #[test]
    fn repeated_keys_and_tabs_get_their_own_messages() {
        let (file, diags) = load_str("t.yaml", "tools:\n  a: {}\ntools:\n  b: {}\n");
        assert!(file.is_none());
        assert_eq!(diags.len(), 1, "{diags:#?}");
        assert_eq!(diags[0].message, "duplicate section `tools`");
        assert_eq!((diags[0].line, diags[0].column), (3, 1));
        assert!(diags[0]
            .hint
            .as_deref()
            .is_some_and(|h| h.contains("(line 1)")));

        let (_, diags) = load_str("t.yaml", "tools:\n  a:\n\tsummary: x\n");
        assert_eq!(diags.len(), 1, "{diags:#?}");
        assert_eq!((diags[0].line, diags[0].column), (3, 1));
        assert!(diags[0].message.contains("a tab character"));
        assert!(diags[0]
            .hint
            .as_deref()
            .is_some_and(|h| h.contains("spaces")));
        assert_eq!(diags[0].source.as_deref(), Some("\tsummary: x"));
    }

    #[test]
    fn syntax_errors_are_located() {
        let (file, diags) = load_str("t.yaml", "tools: {a: [}\n");
        assert!(file.is_none());
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].line, 1);
    }
}
