//! The case file format (`cases/<sdk>/*.yaml`, see `recorder/README.md`) and its loader.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use base64::Engine;
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

/// The only case format version this loader understands.
pub const FORMAT: u32 = 1;

/// Why cases could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A directory or file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The path that failed.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A file is not a valid case.
    #[error("malformed case file {}: {reason}", path.display())]
    Malformed {
        /// The offending file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}

/// One recorded SDK call (or push-only scenario).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// Format version; must be [`FORMAT`].
    pub format: u32,
    /// Unique case id, e.g. `py-storage-exists-true`.
    pub id: String,
    /// The SDK that was recorded.
    pub sdk: Sdk,
    /// `<toolkit>.<tool>` as on the wire, or `events` for push-only cases.
    pub method: String,
    /// The call's arguments by wire field name; omitted ones are absent.
    #[serde(default)]
    pub arguments: Map<String, Value>,
    /// What the caller fed into a streaming call, in order (see `recorder/README.md`):
    /// base64 chunks for uploads, batches for database writes, operations for exec.
    #[serde(default)]
    pub input: Vec<Value>,
    /// Every message after the handshake, in order.
    pub frames: Vec<Frame>,
    /// What the SDK call produced.
    pub outcome: Outcome,
}

/// The recorded SDK.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sdk {
    /// Package name, e.g. `meshagent-api`.
    pub name: String,
    /// Language, e.g. `python`.
    pub language: String,
    /// Package version.
    pub version: String,
}

/// Direction of a frame, from the SDK's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Client to server.
    Send,
    /// Server to client.
    Recv,
}

/// One message as recorded on the wire.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Frame {
    /// Who sent it.
    pub dir: Direction,
    /// The message id the sender used.
    pub id: u64,
    /// The packet type, e.g. `room.invoke_tool`.
    #[serde(rename = "type")]
    pub packet_type: String,
    /// The decoded JSON header, as sent.
    pub header: Map<String, Value>,
    /// The binary tail (base64 in the file).
    #[serde(deserialize_with = "base64_bytes")]
    pub tail: Vec<u8>,
}

/// What the SDK call produced: exactly one of the three.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "RawOutcome")]
pub enum Outcome {
    /// The return value as JSON.
    Result(Value),
    /// A server error.
    Error(ServerErrorOutcome),
    /// Events delivered to the application, in order.
    Events(Vec<EventOutcome>),
}

/// `outcome` as written: a map with one key (serde_yaml 0.9 reads enums from tags only).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOutcome {
    #[serde(default, deserialize_with = "present")]
    result: Option<Value>,
    error: Option<ServerErrorOutcome>,
    events: Option<Vec<EventOutcome>>,
}

/// Keeps an explicit `null` apart from an absent key.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

impl TryFrom<RawOutcome> for Outcome {
    type Error = String;

    fn try_from(raw: RawOutcome) -> Result<Outcome, String> {
        match (raw.result, raw.error, raw.events) {
            (Some(v), None, None) => Ok(Outcome::Result(v)),
            (None, Some(e), None) => Ok(Outcome::Error(e)),
            (None, None, Some(e)) => Ok(Outcome::Events(e)),
            _ => Err("outcome needs exactly one of `result`, `error`, `events`".into()),
        }
    }
}

/// A server error as the SDK reported it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerErrorOutcome {
    /// The numeric code, when present.
    pub code: Option<i64>,
    /// The message.
    pub text: String,
}

/// One delivered event.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventOutcome {
    /// The packet type that carried it.
    #[serde(rename = "type")]
    pub packet_type: String,
    /// The event's fields.
    pub fields: Map<String, Value>,
}

/// The connect URL recorded in `_connect.yaml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectRecord {
    /// Format version; must be [`FORMAT`].
    pub format: u32,
    /// The recorded SDK.
    pub sdk: Sdk,
    /// The request path, e.g. `/rooms/test-room`.
    pub path: String,
    /// The decoded query parameters (0.56 recordings write the token as `<token>`).
    pub query: BTreeMap<String, String>,
    /// The raw query string, as sent (0.35.8 recordings).
    #[serde(default)]
    pub query_string: Option<String>,
    /// Request headers that carry protocol facts, e.g. `Authorization: Bearer <token>`
    /// (0.56 recordings).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// The websocket extensions the SDK offered (0.56 recordings).
    #[serde(default)]
    pub extensions: Option<String>,
}

fn base64_bytes<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    let text = String::deserialize(d)?;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(serde::de::Error::custom)
}

/// Loads every case of one SDK directory: the `*.yaml` files whose name does not start
/// with `_`, sorted by file name. Fails on the first malformed file, naming it, and on
/// duplicate ids.
pub fn load_cases(dir: &Path) -> Result<Vec<Case>, LoadError> {
    let mut cases = Vec::new();
    let mut ids = BTreeSet::new();
    for path in case_files(dir)? {
        let case: Case = parse(&path)?;
        check_format(&path, case.format)?;
        if !ids.insert(case.id.clone()) {
            return Err(malformed(&path, format!("duplicate case id `{}`", case.id)));
        }
        cases.push(case);
    }
    Ok(cases)
}

/// Loads `<dir>/_connect.yaml`, or `None` when the directory has none.
pub fn load_connect(dir: &Path) -> Result<Option<ConnectRecord>, LoadError> {
    let path = dir.join("_connect.yaml");
    if !path.exists() {
        return Ok(None);
    }
    let record: ConnectRecord = parse(&path)?;
    check_format(&path, record.format)?;
    Ok(Some(record))
}

/// The case files of `dir`, sorted by file name.
fn case_files(dir: &Path) -> Result<Vec<PathBuf>, LoadError> {
    let io = |source| LoadError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.ends_with(".yaml") && !name.starts_with('_') {
            files.push(path);
        }
    }
    files.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    Ok(files)
}

fn parse<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    serde_yaml::from_str(&text).map_err(|e| malformed(path, e.to_string()))
}

fn check_format(path: &Path, format: u32) -> Result<(), LoadError> {
    if format == FORMAT {
        Ok(())
    } else {
        Err(malformed(
            path,
            format!("format {format}, expected {FORMAT}"),
        ))
    }
}

fn malformed(path: &Path, reason: String) -> LoadError {
    LoadError::Malformed {
        path: path.to_path_buf(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir_with(files: &[(&str, &str)]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "conformance-case-test-{}-{}",
            std::process::id(),
            files.len()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        for (name, text) in files {
            std::fs::write(dir.join(name), text).expect("write temp file");
        }
        dir
    }

    const GOOD: &str =
        "format: 1\nid: b\nsdk: {name: n, language: l, version: v}\nmethod: events\n\
                        frames: [{dir: recv, id: 3, type: x, header: {a: 1}, tail: AAE=}]\n\
                        outcome: {result: null}\n";

    #[test]
    fn loads_sorted_skips_underscore_and_names_bad_file() {
        let dir = dir_with(&[
            ("b.yaml", GOOD),
            ("a.yaml", &GOOD.replace("id: b", "id: a")),
            ("_connect.yaml", "not: a case"),
        ]);
        let cases = load_cases(&dir).expect("cases load");
        let ids: Vec<&str> = cases.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["a", "b"]);
        assert_eq!(cases[1].frames[0].tail, [0, 1]);
        assert_eq!(cases[1].outcome, Outcome::Result(Value::Null));

        std::fs::write(dir.join("c.yaml"), "format: 1\nid: c\n").expect("write");
        let err = load_cases(&dir).expect_err("c.yaml is malformed");
        assert!(err.to_string().contains("c.yaml"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
