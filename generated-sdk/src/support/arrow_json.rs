//! Arrow data read back as plain JSON (feature `arrow`), as the SDKs hand it out: a record
//! batch as rows (pyarrow's `Table.to_pylist()`), a schema as its fields. The converse of
//! `rows_to_batch` (`support::arrow`), for the same column types.

use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, Float64Type, Int32Type, Int64Type};
use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType, Schema};
use serde_json::{Map, Number, Value};

use crate::core::error::{Error, Result};
use crate::support::arrow::is_float;

/// The rows of `batch` as JSON objects keyed by column name, in column order; a null is
/// `null`. Converts the column types `rows_to_batch` builds (`Int64`,
/// `Int32`, `Float64`, `Float32`, `Utf8`, `Boolean`, and `List` / `FixedSizeList` of
/// `Float32` or `Float64`); any other type is an [`Error::Content`].
pub fn batch_to_rows(batch: &RecordBatch) -> Result<Vec<Map<String, Value>>> {
    let schema = batch.schema();
    let mut rows = vec![Map::new(); batch.num_rows()];
    for (field, column) in schema.fields().iter().zip(batch.columns()) {
        for (i, row) in rows.iter_mut().enumerate() {
            let v = value(column.as_ref(), i).ok_or_else(|| {
                Error::Content(format!(
                    "column `{}` has type {}, which batch_to_rows does not convert",
                    field.name(),
                    field.data_type()
                ))
            })?;
            row.insert(field.name().clone(), v);
        }
    }
    Ok(rows)
}

/// The value at `i` of `array`, or `None` for a type this module does not convert.
fn value(array: &dyn Array, i: usize) -> Option<Value> {
    if array.is_null(i) {
        // Still refuse types we do not know, even in a null slot.
        return known(array.data_type()).then_some(Value::Null);
    }
    let float = |f: f64| Number::from_f64(f).map_or(Value::Null, Value::Number);
    Some(match array.data_type() {
        DataType::Int64 => Value::from(array.as_primitive::<Int64Type>().value(i)),
        DataType::Int32 => Value::from(array.as_primitive::<Int32Type>().value(i)),
        DataType::Float64 => float(array.as_primitive::<Float64Type>().value(i)),
        DataType::Float32 => float(f64::from(array.as_primitive::<Float32Type>().value(i))),
        DataType::Utf8 => Value::from(array.as_string::<i32>().value(i)),
        DataType::Boolean => Value::from(array.as_boolean().value(i)),
        DataType::List(item) if is_float(item.data_type()) => {
            items(array.as_list::<i32>().value(i).as_ref())?
        }
        DataType::FixedSizeList(item, _) if is_float(item.data_type()) => {
            items(array.as_fixed_size_list().value(i).as_ref())?
        }
        _ => return None,
    })
}

fn items(values: &dyn Array) -> Option<Value> {
    (0..values.len())
        .map(|j| value(values, j))
        .collect::<Option<Vec<_>>>()
        .map(Value::Array)
}

fn known(t: &DataType) -> bool {
    match t {
        DataType::Int64
        | DataType::Int32
        | DataType::Float64
        | DataType::Float32
        | DataType::Utf8
        | DataType::Boolean => true,
        DataType::List(item) | DataType::FixedSizeList(item, _) => is_float(item.data_type()),
        _ => false,
    }
}

/// The fields of `schema` as `[{name, type, nullable}]`, `type` as Arrow names it
/// (`Int64`, `Utf8`, `Float64`, ...: the `DataType` display, which is also how the
/// TypeScript SDK's apache-arrow prints types).
pub fn schema_fields(schema: &Schema) -> Value {
    Value::Array(
        schema
            .fields()
            .iter()
            .map(|f| {
                serde_json::json!({
                    "name": f.name(),
                    "type": f.data_type().to_string(),
                    "nullable": f.is_nullable(),
                })
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_schema::Field;
    use serde_json::json;

    use super::*;
    use crate::support::arrow::rows_to_batch;

    fn schema() -> Arc<Schema> {
        let item = Arc::new(Field::new("item", DataType::Float32, true));
        Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("n", DataType::Int32, true),
            Field::new("name", DataType::Utf8, true),
            Field::new("score", DataType::Float64, true),
            Field::new("ok", DataType::Boolean, true),
            Field::new("v", DataType::FixedSizeList(item.clone(), 2), true),
            Field::new("l", DataType::List(item), true),
        ]))
    }

    #[test]
    fn rows_round_trip() {
        let rows = vec![
            json!({"id": 1, "n": 7, "name": "Zoë", "score": 9.5, "ok": true,
                   "v": [0.5, -1.0], "l": [0.25]}),
            json!({"id": 2, "n": null, "name": null, "score": null, "ok": null,
                   "v": null, "l": null}),
        ];
        let batch = rows_to_batch(schema(), &rows).expect("builds");
        let back: Vec<Value> = batch_to_rows(&batch)
            .expect("converts")
            .into_iter()
            .map(Value::Object)
            .collect();
        // A null fixed-size slot reads back as null, not as its hidden child values.
        assert_eq!(back, rows);
    }

    #[test]
    fn unknown_types_are_refused() {
        let schema = Arc::new(Schema::new(vec![Field::new("d", DataType::Date32, true)]));
        let batch = RecordBatch::new_empty(schema.clone());
        assert!(batch_to_rows(&batch).expect("no rows").is_empty());
        let col: arrow_array::ArrayRef = Arc::new(arrow_array::Date32Array::from(vec![None]));
        let batch = RecordBatch::try_new(schema, vec![col]).expect("valid");
        assert!(matches!(batch_to_rows(&batch), Err(Error::Content(_))));
    }

    #[test]
    fn fields_name_arrow_types() {
        let fields = schema_fields(&schema());
        assert_eq!(
            fields[0],
            json!({"name": "id", "type": "Int64", "nullable": false})
        );
        assert_eq!(fields[2]["type"], "Utf8");
        assert_eq!(fields[3]["type"], "Float64");
    }
}
