//! Declared result-shape and outcome differences: where an SDK presents the same
//! information as the Rust client in another shape, or reports its own client-side
//! rejection as an error the Rust client reports as its own type. Each is named, has its
//! reason, and applies only to the methods (and SDK languages) it lists; nothing else is
//! rewritten.

use meshagent_room::Error;
use serde_json::{Map, Value};

use crate::case::{Case, Direction, ServerErrorOutcome};

/// A declared difference in how a result is presented.
pub struct ResultShape {
    /// Short name.
    pub name: &'static str,
    /// Why both shapes hold the same information.
    pub reason: &'static str,
    /// The SDK languages whose recordings it applies to.
    pub languages: &'static [&'static str],
    /// The methods it applies to.
    pub methods: &'static [&'static str],
    /// Rewrites (expected, actual) into one shape.
    apply: fn(&mut Value, &mut Value),
}

const PY: &[&str] = &["python"];
const TS: &[&str] = &["typescript"];
const BOTH: &[&str] = &["python", "typescript"];

/// The declared result shapes.
pub const RESULT_SHAPES: [ResultShape; 5] = [
    ResultShape {
        name: "pyarrow type names",
        reason:
            "a decoded schema's field types: Python prints pyarrow's names (`int64`, `string`, \
                 `double`), Rust and TypeScript the Arrow names (`Int64`, `Utf8`, `Float64`); the \
                 same types, renamed by a fixed table (a name not in it is left as is and fails)",
        languages: PY,
        methods: &[
            "dataset.inspect",
            "sqlite.inspect",
            "dataset.execute_sql",
            "dataset.open_sql_query",
            "sqlite.execute_sql",
            "sqlite.open_sql_query",
            "sqlite.execute_sql_batch",
        ],
        apply: |expected, _| rename_types(expected),
    },
    ResultShape {
        name: "SQL results by class",
        reason: "Python returns a query as `DatasetSqlQuery`/`SqliteSqlQuery` and a statement as \
                 a class holding `rows_affected`, where Rust (and TypeScript) keep the reply's \
                 `kind` tag (`query` / `statement`): the class is the tag",
        languages: PY,
        methods: &[
            "dataset.execute_sql",
            "dataset.open_sql_query",
            "sqlite.execute_sql",
            "sqlite.execute_sql_batch",
        ],
        apply: |expected, _| tag_by_class(expected),
    },
    ResultShape {
        name: "JSON text parsed",
        reason: "the SDKs replace each `<name>_json` text of these replies by its parsed value \
                 under `<name>` (Python: `data[\"details\"] = json.loads(details_json)`); Rust \
                 returns the wire's fields, whose text is parsed here the same way",
        languages: BOTH,
        methods: &[
            "dataset.list_indexes",
            "dataset.list_versions",
            "dataset.optimize",
            "dataset.stats",
        ],
        apply: |_, actual| parse_json_texts(actual),
    },
    ResultShape {
        name: "camelCase optimizedIndices",
        reason: "TypeScript names the optimize result's `optimized_indices` `optimizedIndices`",
        languages: TS,
        methods: &["dataset.optimize"],
        apply: |_, actual| {
            if let Some(m) = actual.as_object_mut() {
                if let Some(v) = m.remove("optimized_indices") {
                    m.insert("optimizedIndices".into(), v);
                }
            }
        },
    },
    ResultShape {
        name: "one table of all chunks",
        reason: "Python's `search()` returns the chunks' tables concatenated into one \
                 (`pa.concat_tables`), `search_stream()` one table per chunk, the shape Rust \
                 gives; a recording of `search()` (a flat list of rows) is compared with the \
                 chunks' rows in order",
        languages: PY,
        methods: &["dataset.search", "sqlite.search"],
        apply: |expected, actual| {
            let flat = |v: &Value| v.as_array().is_some_and(|a| a.iter().all(Value::is_object));
            if flat(expected) && !flat(actual) {
                if let Value::Array(chunks) = actual {
                    let rows = chunks
                        .iter()
                        .flat_map(|c| c.as_array().cloned().unwrap_or_default());
                    *actual = Value::Array(rows.collect());
                }
            }
        },
    },
];

/// Applies the declared result shapes of `language` and `method` to both sides.
pub fn declared_result_shapes(
    language: &str,
    method: &str,
    expected: &mut Value,
    actual: &mut Value,
) {
    for s in &RESULT_SHAPES {
        if s.languages.contains(&language) && s.methods.contains(&method) {
            (s.apply)(expected, actual);
        }
    }
}

/// pyarrow's type names and Arrow's (`DataType` display, apache-arrow JS).
const PYARROW_TYPES: [(&str, &str); 8] = [
    ("int64", "Int64"),
    ("int32", "Int32"),
    ("double", "Float64"),
    ("float", "Float32"),
    ("string", "Utf8"),
    ("large_string", "LargeUtf8"),
    ("bool", "Boolean"),
    ("binary", "Binary"),
];

/// Renames `type` in every schema field object (`{name, type, nullable}`).
fn rename_types(v: &mut Value) {
    match v {
        Value::Object(m) => {
            let is_field = m.len() == 3
                && ["name", "type", "nullable"]
                    .iter()
                    .all(|k| m.contains_key(*k));
            if is_field {
                if let Some(Value::String(t)) = m.get_mut("type") {
                    if let Some((_, arrow)) = PYARROW_TYPES.iter().find(|(py, _)| py == t) {
                        *t = (*arrow).to_string();
                    }
                }
            }
            m.values_mut().for_each(rename_types);
        }
        Value::Array(items) => items.iter_mut().for_each(rename_types),
        _ => {}
    }
}

/// Adds the `kind` tag Python's classes stand for.
fn tag_by_class(v: &mut Value) {
    match v {
        Value::Object(m) if !m.contains_key("kind") => {
            let kind = if m.contains_key("query_id") {
                "query"
            } else if m.contains_key("rows_affected") {
                "statement"
            } else {
                return;
            };
            m.insert("kind".into(), kind.into());
        }
        Value::Array(items) => items.iter_mut().for_each(tag_by_class),
        _ => {}
    }
}

/// As the SDKs: pops every `<name>_json`; a text is parsed into `<name>`.
fn parse_json_texts(v: &mut Value) {
    match v {
        Value::Object(m) => {
            let keys: Vec<String> = m.keys().filter(|k| k.ends_with("_json")).cloned().collect();
            for k in keys {
                let Some(text) = m.remove(&k) else { continue };
                if let Value::String(text) = text {
                    let parsed = serde_json::from_str(&text).unwrap_or(Value::String(text));
                    m.insert(k.trim_end_matches("_json").to_string(), parsed);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(parse_json_texts),
        _ => {}
    }
}

/// A declared equivalence between an SDK's client-side rejection (recorded as an error
/// with a code and text no server sent) and the Rust client's own error for the same
/// reply.
pub struct ClientRejection {
    /// Short name.
    pub name: &'static str,
    /// Why the two report the same thing.
    pub reason: &'static str,
    /// The SDK's error code.
    pub code: i64,
    /// Whether the SDK's text is this rejection's for `method`.
    text: fn(&str, &str) -> bool,
    /// Whether the Rust error is the same rejection of `method`.
    rust: fn(&Error, &str) -> bool,
}

/// The declared client-side rejections.
pub const CLIENT_REJECTIONS: [ClientRejection; 2] = [
    ClientRejection {
        name: "unexpected reply type",
        reason: "the SDKs reject a reply whose content or fields do not match the call by \
                 raising RoomException(\"unexpected return type from <client>.<tool>\", code \
                 1100) themselves; Rust rejects the same reply with Error::UnexpectedResponse \
                 for that tool (the SDKs' code 1100, see its docs)",
        code: 1100,
        text: |text, method| {
            let Some((toolkit, tool)) = method.split_once('.') else {
                return false;
            };
            // Python names a client by its attribute (`datasets`, `sqlite`, ...).
            let client = text
                .strip_prefix("unexpected return type from ")
                .and_then(|t| t.strip_suffix(&format!(".{tool}")));
            client.is_some_and(|c| c == toolkit || c == format!("{toolkit}s"))
        },
        rust: |e, method| matches!(e, Error::UnexpectedResponse { tool, .. } if tool == method),
    },
    ClientRejection {
        name: "backup check",
        reason:
            "`sqlite.backup` ends with the server's size and SHA-256, which the client checks: \
                 Python raises its mismatch as RoomException(\"SQLite backup size or SHA-256 \
                 mismatch\", code 1002), Rust as Error::UnexpectedResponse whose detail starts \
                 with \"size or SHA-256 mismatch\"",
        code: 1002,
        text: |text, method| {
            method == "sqlite.backup" && text == "SQLite backup size or SHA-256 mismatch"
        },
        rust: |e, method| {
            matches!(e, Error::UnexpectedResponse { tool, detail, .. }
                if tool == method && detail.starts_with("size or SHA-256 mismatch"))
        },
    },
];

/// The declared rejection that makes `actual` the same outcome as the recorded error
/// `want`, if any. Only the SDK's own rejections count: a recorded error that some
/// received frame carries (a server error) never matches.
pub fn same_rejection(
    case: &Case,
    want: &ServerErrorOutcome,
    actual: &Error,
) -> Option<&'static str> {
    let from_server = case
        .frames
        .iter()
        .filter(|f| f.dir == Direction::Recv)
        .any(|f| carries_text(&f.header, &want.text));
    if from_server {
        return None;
    }
    CLIENT_REJECTIONS
        .iter()
        .find(|r| {
            Some(r.code) == want.code
                && (r.text)(&want.text, &case.method)
                && (r.rust)(actual, &case.method)
        })
        .map(|r| r.name)
}

fn carries_text(header: &Map<String, Value>, text: &str) -> bool {
    header.values().any(|v| match v {
        Value::String(s) => s == text,
        Value::Object(m) => carries_text(m, text),
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn shapes_rewrite_only_what_they_name() {
        let mut py = json!({"query_id": "q", "schema": [{"name": "id", "type": "int64", "nullable": true},
                                                         {"name": "d", "type": "date32[day]", "nullable": true}]});
        let mut rs = json!({});
        declared_result_shapes("python", "dataset.execute_sql", &mut py, &mut rs);
        assert_eq!(py["kind"], "query");
        assert_eq!(py["schema"][0]["type"], "Int64");
        // Not in the table: left as is, so it still fails against Arrow's name.
        assert_eq!(py["schema"][1]["type"], "date32[day]");
        // Another method or language: untouched.
        let mut other = json!({"query_id": "q"});
        declared_result_shapes("typescript", "dataset.execute_sql", &mut other, &mut rs);
        declared_result_shapes("python", "dataset.count", &mut other, &mut rs);
        assert_eq!(other, json!({"query_id": "q"}));
    }

    #[test]
    fn json_texts_are_parsed_as_the_sdks_do() {
        let mut rs =
            json!([{"details_json": "{\"a\":1}", "statistics_json": "not json", "cleanup": null}]);
        parse_json_texts(&mut rs);
        assert_eq!(
            rs,
            json!([{"details": {"a": 1}, "statistics": "not json", "cleanup": null}])
        );
    }

    #[test]
    fn rejections_match_only_the_sdks_own() {
        let case: Case = serde_yaml::from_str(
            "{format: 1, id: x, sdk: {name: n, language: python, version: v}, method: dataset.inspect, \
              arguments: {}, frames: [], outcome: {error: {code: 1100, text: unexpected return type from datasets.inspect}}}",
        )
        .expect("case");
        let want = ServerErrorOutcome {
            code: Some(1100),
            text: "unexpected return type from datasets.inspect".into(),
        };
        let unexpected = |tool: &str| Error::UnexpectedResponse {
            tool: tool.into(),
            detail: "d".into(),
            source: None,
        };
        assert_eq!(
            same_rejection(&case, &want, &unexpected("dataset.inspect")),
            Some("unexpected reply type")
        );
        assert_eq!(
            same_rejection(&case, &want, &unexpected("dataset.count")),
            None
        );
        let other_code = ServerErrorOutcome {
            code: Some(1002),
            ..want.clone()
        };
        assert_eq!(
            same_rejection(&case, &other_code, &unexpected("dataset.inspect")),
            None
        );
        let server = Error::Server {
            code: Some(1100),
            text: want.text.clone(),
            tool: None,
        };
        assert_eq!(same_rejection(&case, &want, &server), None);
    }
}
