//! The "Arrow payloads by content" rule: a tail that carries Arrow IPC data is compared by
//! what it decodes to, not byte for byte.
//!
//! Reason: an Arrow IPC stream is a flatbuffer encoding whose bytes depend on the writer
//! (pyarrow, apache-arrow JS and arrow-rs order and pad the flatbuffer tables differently,
//! and arrow-rs aligns buffers to 64 bytes), while every reader decodes the same schema and
//! rows from them; the server reads them with an Arrow reader. What is compared is what a
//! reader sees: the schema (every field's name, type, nullability and metadata, and the
//! schema's metadata) and every record batch's columns, batch by batch. Any difference in a
//! value, a null, a type, a field or the batching fails, as does a tail that does not decode.
//!
//! Which tails: those of messages that name their content Arrow (`content_type:
//! application/vnd.apache.arrow.stream` in the chunk's or the binary arguments' headers), and
//! the `start` payload of a `dataset`/`sqlite` stream (the table's schema, which the SDKs send
//! without a `content_type`). Every other tail is still compared byte for byte.

use meshagent_room::arrow::{batches_from_ipc, schema_from_ipc};
use serde_json::{Map, Value};

/// The MIME type of an Arrow IPC stream.
pub const ARROW_STREAM: &str = "application/vnd.apache.arrow.stream";

/// Whether the tail of a message with this header, in a case of `method`, is Arrow IPC data
/// (see the module docs).
pub fn is_arrow_payload(header: &Map<String, Value>, method: &str) -> bool {
    let content = header.get("chunk").or_else(|| header.get("arguments"));
    let Some(content) = content.filter(|c| c.get("type") == Some(&Value::from("binary"))) else {
        return false;
    };
    let headers = content.get("headers");
    let named = headers.and_then(|h| h.get("content_type")) == Some(&Value::from(ARROW_STREAM));
    let table_schema = header.contains_key("chunk")
        && headers.and_then(|h| h.get("kind")) == Some(&Value::from("start"))
        && matches!(method.split('.').next(), Some("dataset" | "sqlite"));
    named || table_schema
}

/// Compares two Arrow IPC streams by content: `Ok` when they decode to the same schema and
/// the same record batches, else what differs.
pub fn same_arrow(want: &[u8], got: &[u8]) -> Result<(), String> {
    let decode = |who: &str, ipc: &[u8]| {
        let schema = schema_from_ipc(ipc).map_err(|e| format!("{who} tail: {e}"))?;
        let batches = batches_from_ipc(ipc).map_err(|e| format!("{who} tail: {e}"))?;
        Ok::<_, String>((schema, batches))
    };
    let (want_schema, want_batches) = decode("recorded", want)?;
    let (got_schema, got_batches) = decode("sent", got)?;
    if want_schema != got_schema {
        return Err(format!(
            "Arrow schema differs: recorded {want_schema:?}, sent {got_schema:?}"
        ));
    }
    if want_batches.len() != got_batches.len() {
        return Err(format!(
            "Arrow payload has {} record batches, the recording {}",
            got_batches.len(),
            want_batches.len()
        ));
    }
    for (i, (w, g)) in want_batches.iter().zip(&got_batches).enumerate() {
        if w != g {
            return Err(format!(
                "Arrow record batch {i} differs: recorded {w:?}, sent {g:?}"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use meshagent_room::arrow::arrow_schema::{DataType, Field, Schema};
    use meshagent_room::arrow::{batch_to_ipc, rows_to_batch, schema_to_ipc};
    use serde_json::json;

    use super::*;

    /// pyarrow's bytes for the `people` rows (`arrow_cases.table_ipc`), as recorded.
    const PYARROW_PEOPLE: &str = "//////AAAAAQAAAAAAAKAAwABgAFAAgACgAAAAABBAAMAAAACAAIAAAABAAIAAAABAAAAAMAAACIAAAASAAAAAQAAADQ////AAABAxAAAAAcAAAABAAAAAAAAAAFAAAAc2NvcmUABgAIAAYABgAAAAAAAgAQABQACAAGAAcADAAAABAAEAAAAAAAAQUQAAAAHAAAAAQAAAAAAAAABAAAAG5hbWUAAAAABAAEAAQAAAAQABQACAAAAAcADAAAABAAEAAAAAAAAAIQAAAAHAAAAAQAAAAAAAAAAgAAAGlkAAAIAAwACAAHAAgAAAAAAAABQAAAAAAAAAD/////+AAAABQAAAAAAAAADAAWAAYABQAIAAwADAAAAAADBAAYAAAAaAAAAAAAAAAAAAoAGAAMAAQACAAKAAAAjAAAABAAAAADAAAAAAAAAAAAAAAHAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAGAAAAAAAAAAYAAAAAAAAAAAAAAAAAAAAGAAAAAAAAAAQAAAAAAAAACgAAAAAAAAAHQAAAAAAAABIAAAAAAAAAAEAAAAAAAAAUAAAAAAAAAAYAAAAAAAAAAAAAAADAAAAAwAAAAAAAAAAAAAAAAAAAAMAAAAAAAAAAAAAAAAAAAADAAAAAAAAAAEAAAAAAAAAAQAAAAAAAAACAAAAAAAAAAMAAAAAAAAAAAAAAAsAAAARAAAAHQAAAFpvw6sgw4VncmVu5p2O6Zu3TydCcmllbiAiT2IiAAAAAwAAAAAAAAAAAAAAAAAjQAAAAAAAAB1AAAAAAAAAAAD/////AAAAAA==";

    fn people(score: DataType, id_nullable: bool) -> Arc<Schema> {
        Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, id_nullable),
            Field::new("name", DataType::Utf8, true),
            Field::new("score", score, true),
        ]))
    }

    fn rows(third_score: serde_json::Value) -> Vec<serde_json::Value> {
        vec![
            json!({"id": 1, "name": "Zoë Ågren", "score": 9.5}),
            json!({"id": 2, "name": "李雷", "score": 7.25}),
            json!({"id": 3, "name": "O'Brien \"Ob\"", "score": third_score}),
        ]
    }

    fn ipc(schema: Arc<Schema>, rows: &[serde_json::Value]) -> Vec<u8> {
        let batch = rows_to_batch(schema, rows).expect("rows fit");
        batch_to_ipc(&batch).expect("encodes").to_vec()
    }

    fn pyarrow() -> Vec<u8> {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .decode(PYARROW_PEOPLE)
            .expect("base64")
    }

    #[test]
    fn other_writers_bytes_of_the_same_data_are_the_same() {
        let ours = ipc(people(DataType::Float64, false), &rows(json!(null)));
        assert_ne!(ours, pyarrow(), "the writers' bytes do differ");
        assert_eq!(same_arrow(&pyarrow(), &ours), Ok(()));
    }

    #[test]
    fn any_real_difference_fails() {
        let py = pyarrow();
        // A changed value, a value where a null was, a changed type, a changed nullability.
        for (schema, third) in [
            (people(DataType::Float64, false), json!(1.0)),
            (people(DataType::Float32, false), json!(null)),
            (people(DataType::Float64, true), json!(null)),
        ] {
            let ours = ipc(schema, &rows(third));
            assert!(same_arrow(&py, &ours).is_err());
        }
        let fewer = ipc(people(DataType::Float64, false), &rows(json!(null))[..2]);
        assert!(same_arrow(&py, &fewer).is_err());
        // A schema alone is not the schema with rows; garbage does not decode.
        let schema_only = schema_to_ipc(&people(DataType::Float64, false)).expect("encodes");
        assert!(same_arrow(&py, &schema_only).is_err());
        assert!(same_arrow(&py, b"not arrow").is_err());
        // Schema metadata counts too.
        let meta = people(DataType::Float64, false)
            .as_ref()
            .clone()
            .with_metadata([("owner".to_string(), "alice".to_string())].into());
        let with_meta = schema_to_ipc(&meta).expect("encodes");
        assert!(same_arrow(&schema_only, &with_meta).is_err());
        assert_eq!(same_arrow(&with_meta, &with_meta), Ok(()));
    }

    #[test]
    fn only_arrow_tails_are_chosen() {
        let h = |v: serde_json::Value| v.as_object().cloned().unwrap_or_default();
        let data = h(
            json!({"chunk": {"type": "binary", "headers": {"kind": "data", "content_type": ARROW_STREAM}}}),
        );
        let start =
            h(json!({"chunk": {"type": "binary", "headers": {"kind": "start", "name": "t"}}}));
        let args =
            h(json!({"arguments": {"type": "binary", "headers": {"content_type": ARROW_STREAM}}}));
        let file = h(json!({"chunk": {"type": "binary", "headers": {"kind": "data"}}}));
        assert!(is_arrow_payload(&data, "dataset.insert"));
        assert!(is_arrow_payload(&start, "sqlite.create_table"));
        assert!(!is_arrow_payload(&start, "storage.upload"));
        assert!(is_arrow_payload(&args, "dataset.add_columns"));
        assert!(!is_arrow_payload(&file, "sqlite.restore"));
    }
}
