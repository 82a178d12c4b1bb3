//! Plain JSON rows to and from the typed rows of database streams, with the SDKs' rules:
//! `null`, `bool` (never an int), `int` for integral JSON numbers, `float` for the rest,
//! `text`, `list` for arrays and `struct` for objects (keys in order). Dates, timestamps
//! and bytes cannot be told apart from text in JSON: build those [`TypedValue`]s directly.

use base64::Engine;
use serde_json::{Map, Number, Value};

use crate::types::{NamedValue, Row, TypedValue};

impl From<Value> for TypedValue {
    fn from(v: Value) -> TypedValue {
        match v {
            Value::Null => TypedValue::Null {},
            Value::Bool(value) => TypedValue::Bool { value },
            Value::Number(n) => match n.as_i64() {
                Some(value) => TypedValue::Int { value },
                // Integers beyond i64 go as floats, as every JSON reader may do.
                None => TypedValue::Float {
                    value: n.as_f64().unwrap_or(f64::NAN),
                },
            },
            Value::String(value) => TypedValue::Text { value },
            Value::Array(items) => TypedValue::List {
                items: items.into_iter().map(TypedValue::from).collect(),
            },
            Value::Object(fields) => TypedValue::Struct {
                fields: named(fields),
            },
        }
    }
}

fn named(object: Map<String, Value>) -> Vec<NamedValue> {
    object
        .into_iter()
        .map(|(name, v)| NamedValue {
            name,
            value: v.into(),
        })
        .collect()
}

impl From<Map<String, Value>> for Row {
    fn from(object: Map<String, Value>) -> Row {
        Row {
            columns: named(object),
        }
    }
}

impl TypedValue {
    /// The value as plain JSON, as the SDKs hand it back: dates and timestamps as their
    /// text, bytes as base64 text, structs as objects.
    pub fn to_json(&self) -> Value {
        match self {
            TypedValue::Null {} => Value::Null,
            TypedValue::Bool { value } => Value::Bool(*value),
            TypedValue::Int { value } => Value::from(*value),
            TypedValue::Float { value } => {
                Number::from_f64(*value).map_or(Value::Null, Value::Number)
            }
            TypedValue::Text { value } | TypedValue::Date { value } => Value::String(value.clone()),
            TypedValue::Timestamp { value } => Value::String(value.as_str().to_string()),
            TypedValue::Binary { data } => {
                Value::String(base64::engine::general_purpose::STANDARD.encode(&data.0))
            }
            TypedValue::List { items } => Value::Array(items.iter().map(Self::to_json).collect()),
            TypedValue::Struct { fields } => Value::Object(object(fields)),
        }
    }
}

fn object(fields: &[NamedValue]) -> Map<String, Value> {
    fields
        .iter()
        .map(|f| (f.name.clone(), f.value.to_json()))
        .collect()
}

/// How many rows the SDKs put in one chunk when handed a whole list of records.
pub(crate) const ROWS_PER_BATCH: usize = 128;

/// `rows` cut into batches of [`ROWS_PER_BATCH`] (none for no rows).
pub(crate) fn in_batches(rows: Vec<Row>) -> Vec<Vec<Row>> {
    let mut rows = rows.into_iter().peekable();
    let mut batches = Vec::new();
    while rows.peek().is_some() {
        batches.push(rows.by_ref().take(ROWS_PER_BATCH).collect());
    }
    batches
}

impl Row {
    /// A whole list of rows as batches of 128 rows, as the SDKs' `insert(records)`
    /// sends them: a stream to pass to `insert`, `merge` or `create_table`.
    pub fn batches(rows: Vec<Row>) -> futures::stream::Iter<std::vec::IntoIter<Vec<Row>>> {
        futures::stream::iter(in_batches(rows))
    }

    /// The row as a plain JSON object (see [`TypedValue::to_json`]).
    pub fn to_json(&self) -> Map<String, Value> {
        object(&self.columns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn batch_size_matches_the_docs() {
        // `Row::batches`' public docs spell the number out (the constant is private).
        assert_eq!(ROWS_PER_BATCH, 128);
    }

    #[test]
    fn json_rows_take_the_sdk_types() {
        let Value::Object(m) = json!({"b": true, "i": 3, "f": 2.0, "s": "x", "n": null,
            "l": [1, 1.5], "o": {"k": "v"}})
        else {
            unreachable!()
        };
        let row = Row::from(m.clone());
        let wire = serde_json::to_value(&row).unwrap_or_default();
        assert_eq!(
            wire["columns"][0],
            json!({"name": "b", "value": {"type": "bool", "value": true}})
        );
        assert_eq!(wire["columns"][1]["value"]["type"], "int");
        assert_eq!(wire["columns"][2]["value"]["type"], "float");
        assert_eq!(wire["columns"][5]["value"]["items"][1]["type"], "float");
        assert_eq!(wire["columns"][6]["value"]["type"], "struct");
        assert_eq!(Value::Object(row.to_json()), Value::Object(m));
    }

    #[test]
    fn whole_lists_go_in_batches_of_128() {
        let rows = vec![Row { columns: vec![] }; 2 * ROWS_PER_BATCH + 2];
        let sizes: Vec<usize> = in_batches(rows).iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![128, 128, 2]);
        assert!(in_batches(vec![]).is_empty());
    }
}
