//! Comparing results: timestamps as instants, nulls omitted.

use serde_json::Value;

use super::json_diff;

/// Whether two strings are RFC 3339 timestamps of the same instant (see the
/// "timestamps as instants" difference; applied to results of every SDK, since each
/// prints timestamps its own way).
pub fn same_instant(a: &str, b: &str) -> bool {
    use time::format_description::well_known::Rfc3339;
    match (
        time::OffsetDateTime::parse(a, &Rfc3339),
        time::OffsetDateTime::parse(b, &Rfc3339),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// `json_diff` where strings that are the same instant count as equal.
pub fn result_diff(expected: &Value, actual: &Value) -> Vec<String> {
    json_diff(&instants_aligned(expected, actual), actual)
}

/// `expected` with every timestamp string replaced by `actual`'s when both are the same instant.
fn instants_aligned(expected: &Value, actual: &Value) -> Value {
    match (expected, actual) {
        (Value::String(e), Value::String(a)) if same_instant(e, a) => Value::String(a.clone()),
        (Value::Object(e), Value::Object(a)) => Value::Object(
            e.iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        a.get(k)
                            .map_or_else(|| v.clone(), |av| instants_aligned(v, av)),
                    )
                })
                .collect(),
        ),
        (Value::Array(e), Value::Array(a)) => Value::Array(
            e.iter()
                .enumerate()
                .map(|(i, v)| {
                    a.get(i)
                        .map_or_else(|| v.clone(), |av| instants_aligned(v, av))
                })
                .collect(),
        ),
        (e, _) => e.clone(),
    }
}

/// Removes every object key whose value is `null`, recursively (the "null arguments
/// omitted" difference: applied to both sides of a TypeScript comparison).
pub fn without_nulls(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}
