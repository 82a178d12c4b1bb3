//! Reads spec YAML into [`SpecFile`]s, collecting every problem with its location.
//!
//! This is the only module that knows about the YAML library (`serde_yaml`): swapping
//! it is a change to this file alone. Positions come from a second, event-level pass
//! (`yaml-rust2`) that maps every key path to its line and column, so that problems
//! found later, in validation, can also be located.

use std::collections::HashMap;
use std::path::Path;

use indexmap::IndexMap;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_yaml::Value;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

use super::model::{EnumValueDef, EnumValueSpec, FieldDef, FieldSpec, SpecFile};
use crate::diag::{did_you_mean, Diagnostic};

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

/// Maps key paths (`["tools", "exists", "input"]`) to 1-based line and column.
#[derive(Debug, Clone, Default)]
pub struct Locator {
    positions: HashMap<Vec<String>, (usize, usize)>,
}

impl Locator {
    /// Position of `path`, or of its nearest located ancestor.
    pub fn locate(&self, path: &[&str]) -> (usize, usize) {
        let mut owned: Vec<String> = path.iter().map(|s| s.to_string()).collect();
        loop {
            if let Some(pos) = self.positions.get(&owned) {
                return *pos;
            }
            if owned.pop().is_none() {
                return (1, 1);
            }
        }
    }

    /// Makes every position below `from` also known below `to` (an entry renamed to its
    /// wire name keeps pointing at its text).
    pub fn alias(&mut self, from: &[&str], to: &[&str]) {
        let moved: Vec<(Vec<String>, (usize, usize))> = self
            .positions
            .iter()
            .filter(|(p, _)| p.len() >= from.len() && p.iter().zip(from).all(|(a, b)| a == b))
            .map(|(p, pos)| {
                let mut q: Vec<String> = to.iter().map(|s| s.to_string()).collect();
                q.extend(p[from.len()..].iter().cloned());
                (q, *pos)
            })
            .collect();
        for (p, pos) in moved {
            self.positions.insert(p, pos);
        }
    }

    /// Position of the first key named `key` below `prefix` (used to place serde errors
    /// such as "unknown field `x`" that name a key but not its path).
    fn find_below(&self, prefix: &[&str], key: &str) -> Option<(usize, usize)> {
        self.positions
            .iter()
            .filter(|(p, _)| {
                p.len() > prefix.len()
                    && p.last().is_some_and(|k| k == key)
                    && p.iter().zip(prefix).all(|(a, b)| a == b)
            })
            .map(|(_, pos)| *pos)
            .min()
    }

    /// A diagnostic located at `path` in `file`.
    pub fn diagnostic(
        &self,
        file: &str,
        path: &[&str],
        message: impl Into<String>,
        hint: Option<String>,
    ) -> Diagnostic {
        let (line, column) = self.locate(path);
        Diagnostic {
            file: file.to_string(),
            line,
            column,
            message: message.into(),
            hint,
        }
    }
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
            diagnostics.push(Diagnostic {
                file: display_dir.to_string(),
                line: 1,
                column: 1,
                message: format!("cannot read the spec folder: {e}"),
                hint: Some("run from the repository root, or pass --spec <dir>".into()),
            });
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
            Err(e) => diagnostics.push(Diagnostic {
                file: name,
                line: 1,
                column: 1,
                message: format!("cannot read the file: {e}"),
                hint: None,
            }),
        }
    }
    (files, diagnostics)
}

/// Loads one spec file from text. Returns the file when it parsed as YAML (possibly
/// with some entries dropped, each reported in the diagnostics).
pub fn load_str(name: &str, text: &str) -> (Option<LoadedFile>, Vec<Diagnostic>) {
    let locator = index_positions(text);
    let mut diags = Vec::new();
    let value: Value = match serde_yaml::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            let (line, column) = e.location().map_or((1, 1), |l| (l.line(), l.column()));
            diags.push(Diagnostic {
                file: name.to_string(),
                line,
                column,
                message: format!("not valid YAML: {e}"),
                hint: Some("in flow mappings `{...}`, quote values containing `?`, `,` or `:`, e.g. `type: \"int?\"`".into()),
            });
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
        self.diags.push(Diagnostic {
            file: self.file.to_string(),
            line,
            column,
            message: format!("in `{}`: {text}", path.join(".")),
            hint,
        });
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

/// Builds the key-path → position index from YAML events.
fn index_positions(text: &str) -> Locator {
    let mut indexer = Indexer::default();
    // A file that yaml-rust2 cannot parse is still reported by serde_yaml; positions
    // then fall back to the start of the file.
    let _ = Parser::new_from_str(text).load(&mut indexer, false);
    Locator {
        positions: indexer.positions,
    }
}

#[derive(Default)]
struct Indexer {
    stack: Vec<Frame>,
    positions: HashMap<Vec<String>, (usize, usize)>,
}

enum Frame {
    Map { key: Option<String> },
    Seq { index: usize },
}

impl Indexer {
    fn path_with(&self, last: String) -> Vec<String> {
        let mut path: Vec<String> = self
            .stack
            .iter()
            .filter_map(|f| match f {
                Frame::Map { key } => key.clone(),
                Frame::Seq { index } => Some(index.to_string()),
            })
            .collect();
        // The innermost frame's slot is being filled: replace rather than extend.
        if matches!(
            self.stack.last(),
            Some(Frame::Map { key: Some(_) }) | Some(Frame::Seq { .. })
        ) {
            path.pop();
        }
        path.push(last);
        path
    }

    /// A node starts at `mark`: either a mapping key, or a value in the current slot.
    /// Returns true when the node was a key.
    fn node(&mut self, scalar: Option<&str>, mark: Marker) -> bool {
        let pos = (mark.line(), mark.col() + 1);
        match self.stack.last() {
            Some(Frame::Map { key: None }) => {
                let key = scalar.unwrap_or("?").to_string();
                let path = self.path_with(key.clone());
                self.positions.entry(path).or_insert(pos);
                if let Some(Frame::Map { key: slot }) = self.stack.last_mut() {
                    *slot = Some(key);
                }
                true
            }
            Some(Frame::Seq { index }) => {
                let path = self.path_with(index.to_string());
                self.positions.entry(path).or_insert(pos);
                false
            }
            _ => false,
        }
    }

    /// The value in the current slot is complete.
    fn value_done(&mut self) {
        match self.stack.last_mut() {
            Some(Frame::Map { key }) => *key = None,
            Some(Frame::Seq { index }) => *index += 1,
            None => {}
        }
    }
}

impl MarkedEventReceiver for Indexer {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        match ev {
            // A scalar or alias that is not a key completes its slot at once.
            Event::Scalar(value, ..) if !self.node(Some(&value), mark) => self.value_done(),
            Event::Alias(_) if !self.node(None, mark) => self.value_done(),
            Event::MappingStart(..) => {
                self.node(None, mark);
                self.stack.push(Frame::Map { key: None });
            }
            Event::SequenceStart(..) => {
                self.node(None, mark);
                self.stack.push(Frame::Seq { index: 0 });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
                self.value_done();
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_nested_keys() {
        let text = "tools:\n  exists:\n    input:\n      path: {type: string, doc: x}\n";
        let loc = index_positions(text);
        assert_eq!(loc.locate(&["tools", "exists"]), (2, 3));
        assert_eq!(loc.locate(&["tools", "exists", "input", "path"]), (4, 7));
        assert_eq!(
            loc.locate(&["tools", "exists", "input", "path", "doc"]),
            (4, 28)
        );
        assert_eq!(loc.locate(&["tools", "missing", "x"]), (1, 1));
    }

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
    fn syntax_errors_are_located() {
        let (file, diags) = load_str("t.yaml", "tools: {a: [}\n");
        assert!(file.is_none());
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].line, 1);
    }
}
