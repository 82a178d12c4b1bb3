//! `RoomClient::dispatch` with the `arrow` feature: the calls of the `dataset` and `sqlite`
//! toolkits that carry Arrow data take and give it as the SDKs hand it out.
//!
//! - input rows (a single `input` item that is a list of row objects): `insert` / `merge`
//!   go through `insert_rows` / `merge_rows` (the table is inspected first);
//!   `create_table` with a schema (the `data` argument, base64 Arrow IPC: the `start`
//!   payload) through `create_table_with_rows`, without one (dataset only) through
//!   `create_table_from_json_rows`. Base64 IPC items keep the generated form, the `data`
//!   schema then sent as the `start` payload.
//! - `dataset.add_columns` with `content_type` and `data` (an IPC schema) is the Arrow form
//!   (`add_columns_schema`).
//! - rows out: `search` / `read_sql_query` give one list of row objects per data chunk;
//!   `dataset.watch_table` gives [`TableWatchEvent`]s, and an integer `input` item stops the
//!   watch after that many events (the caller closes it), as an SDK caller that breaks out of
//!   its loop.
//! - schemas: `inspect` gives the fields `[{name, type, nullable}]`
//!   ([`crate::arrow::schema_fields`]); replies holding a query's schema (`execute_sql`,
//!   `open_sql_query`, `execute_sql_batch`) give it as `schema` fields in place of the IPC
//!   bytes and their `content_type`, which named that encoding.
//!
//! Anything else is not handled here (`None`): the generated arm answers it.

use base64::Engine;
use serde::Deserialize;
use serde_json::Value;

use crate::core::error::{Error, Result};
use crate::support::arrow::schema_from_ipc;
use crate::support::arrow_json::schema_fields;
use crate::support::flows::RecordBatchChunk;
use crate::RoomClient;

/// The convenience for `method`, when it has one for these arguments.
pub(crate) async fn dispatch(
    room: &RoomClient,
    method: &str,
    args: &Value,
    input: &[Value],
) -> Option<Result<Value>> {
    let rows = rows_input(input);
    let (toolkit, tool) = method.split_once('.')?;
    Some(match (toolkit, tool) {
        #[cfg(feature = "dataset")]
        ("dataset", "insert" | "merge" | "create_table" | "add_columns" | "watch_table") => {
            return dataset(room, tool, args, input, rows).await
        }
        #[cfg(feature = "sqlite")]
        ("sqlite", "insert" | "create_table") => {
            return sqlite(room, tool, args, input, rows).await
        }
        (_, "search" | "read_sql_query") => {
            let chunks = generated(room, toolkit, tool, args.clone(), input.to_vec()).await?;
            chunks.and_then(rows_per_chunk)
        }
        (_, "inspect") => {
            let reply = generated(room, toolkit, tool, args.clone(), input.to_vec()).await?;
            reply.and_then(|mut v| {
                // dataset: the DatasetSchema object; sqlite: the bytes alone.
                let ipc = v.get_mut("schema").map(Value::take).unwrap_or(v);
                Ok(schema_fields(
                    schema_from_ipc(&base64_bytes(&ipc)?)?.as_ref(),
                ))
            })
        }
        (_, "execute_sql" | "open_sql_query") => {
            let reply = generated(room, toolkit, tool, args.clone(), input.to_vec()).await?;
            reply.and_then(|mut v| decoded_schema(&mut v, "schema").map(|()| v))
        }
        (_, "execute_sql_batch") => {
            let reply = generated(room, toolkit, tool, args.clone(), input.to_vec()).await?;
            reply.and_then(|mut v| {
                if let Value::Array(items) = &mut v {
                    for item in items {
                        decoded_schema(item, "schema_base64")?;
                    }
                }
                Ok(v)
            })
        }
        _ => return None,
    })
}

/// The generated arm of `toolkit.tool`.
async fn generated(
    room: &RoomClient,
    toolkit: &str,
    tool: &str,
    args: Value,
    input: Vec<Value>,
) -> Option<Result<Value>> {
    match toolkit {
        #[cfg(feature = "dataset")]
        "dataset" => room.dataset().dispatch(tool, args, input).await,
        #[cfg(feature = "sqlite")]
        "sqlite" => room.sqlite().dispatch(tool, args, input).await,
        _ => None,
    }
}

/// The rows of a single input item that is a list of objects.
fn rows_input(input: &[Value]) -> Option<&[Value]> {
    match input {
        [Value::Array(rows)] if rows.iter().all(Value::is_object) => Some(rows),
        _ => None,
    }
}

fn bad(what: impl std::fmt::Display) -> Error {
    Error::InvalidArguments(what.to_string())
}

fn base64_bytes(v: &Value) -> Result<Vec<u8>> {
    let text = v
        .as_str()
        .ok_or_else(|| bad("Arrow IPC bytes are base64 text"))?;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| bad(format!("Arrow IPC bytes: {e}")))
}

/// Replaces the IPC schema under `key` of a reply object (if any) by its fields, under
/// `schema`, and drops `content_type`, which named the IPC encoding.
fn decoded_schema(v: &mut Value, key: &str) -> Result<()> {
    let Some(obj) = v.as_object_mut() else {
        return Ok(());
    };
    let Some(ipc) = obj.remove(key) else {
        return Ok(());
    };
    obj.remove("content_type");
    let fields = schema_fields(schema_from_ipc(&base64_bytes(&ipc)?)?.as_ref());
    obj.insert("schema".into(), fields);
    Ok(())
}

/// A record-batch chunk as the generated arm gives it (headers plus `data`, base64) back
/// into its rows.
fn chunk_rows(item: Value) -> Result<Value> {
    let Value::Object(mut headers) = item else {
        return Err(bad("a record-batch chunk is an object"));
    };
    let ipc = match headers.remove("data") {
        Some(d) => base64_bytes(&d)?.into(),
        None => bytes::Bytes::new(),
    };
    let rows = RecordBatchChunk { headers, ipc }.rows()?;
    Ok(Value::Array(rows.into_iter().map(Value::Object).collect()))
}

fn rows_per_chunk(chunks: Value) -> Result<Value> {
    match chunks {
        Value::Array(items) => items.into_iter().map(chunk_rows).collect::<Result<_>>(),
        other => Err(bad(format!("expected a list of chunks, got {other}"))),
    }
}

/// Arguments a `dataset` convenience reads: the recording's `start` keys.
#[cfg(feature = "dataset")]
#[derive(Deserialize)]
struct Args {
    #[serde(default)]
    table: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default, rename = "on")]
    on: Option<String>,
    #[serde(default)]
    namespace: Option<Vec<String>>,
    #[serde(default)]
    branch: Option<String>,
    #[serde(default)]
    data: Option<Value>,
    #[serde(default)]
    poll_interval_seconds: Option<f64>,
}

#[cfg(feature = "dataset")]
fn parse(tool: &str, args: &Value) -> Result<Args> {
    crate::support::dispatch::args(tool, args.clone())
}

fn required(what: &str, v: Option<String>) -> Result<String> {
    v.ok_or_else(|| bad(format!("missing `{what}`")))
}

#[cfg(feature = "dataset")]
async fn dataset(
    room: &RoomClient,
    tool: &str,
    args: &Value,
    input: &[Value],
    rows: Option<&[Value]>,
) -> Option<Result<Value>> {
    let arrow_form = args.get("content_type")
        == Some(&Value::from(crate::ARROW_STREAM_CONTENT_TYPE))
        && args.get("data").is_some();
    Some(match (tool, rows) {
        ("insert" | "merge", Some(rows)) => write_rows(room, tool, args, rows).await,
        ("create_table", Some(rows)) => create_with_rows(room, args, rows).await,
        ("create_table", None) => {
            // Record batches as IPC: the generated arm, the schema as its `start` payload.
            let mut rest = args.clone();
            let schema = rest.as_object_mut()?.remove("data")?;
            let mut items = vec![serde_json::json!({ "schema": schema })];
            items.extend(input.iter().cloned());
            return room.dataset().dispatch(tool, rest, items).await;
        }
        ("add_columns", _) if arrow_form => add_columns(room, args).await,
        ("watch_table", _) => watch(room, args, input).await,
        _ => return None,
    })
}

#[cfg(feature = "dataset")]
fn table_at(a: &Args) -> super::TableAt {
    super::TableAt {
        namespace: a.namespace.clone(),
        branch: a.branch.clone(),
    }
}

#[cfg(feature = "dataset")]
async fn write_rows(room: &RoomClient, tool: &str, args: &Value, rows: &[Value]) -> Result<Value> {
    let a = parse(tool, args)?;
    let at = table_at(&a);
    let table = required("table", a.table)?;
    let d = room.dataset();
    match tool {
        "merge" => {
            d.merge_rows(&table, &required("on", a.on)?, rows, &at)
                .await?
        }
        _ => d.insert_rows(&table, rows, &at).await?,
    }
    Ok(Value::Null)
}

#[cfg(feature = "dataset")]
async fn create_with_rows(room: &RoomClient, args: &Value, rows: &[Value]) -> Result<Value> {
    let a = parse("create_table", args)?;
    let options = create_options(args)?;
    let name = required("name", a.name)?;
    let d = room.dataset();
    match a.data {
        Some(s) => {
            let schema = schema_from_ipc(&base64_bytes(&s)?)?;
            d.create_table_with_rows(&name, &schema, rows, &options)
                .await?
        }
        None => {
            let objects: Vec<serde_json::Map<String, Value>> =
                rows.iter().filter_map(|r| r.as_object().cloned()).collect();
            d.create_table_from_json_rows(&name, &objects, &options)
                .await?
        }
    }
    Ok(Value::Null)
}

#[cfg(feature = "dataset")]
async fn add_columns(room: &RoomClient, args: &Value) -> Result<Value> {
    let a = parse("add_columns", args)?;
    let schema = schema_from_ipc(&base64_bytes(a.data.as_ref().unwrap_or(&Value::Null))?)?;
    let table = required("table", a.table.clone())?;
    room.dataset()
        .add_columns_schema(&table, &schema, &table_at(&a))
        .await?;
    Ok(Value::Null)
}

/// `create_table`'s options, read by the generated arm's rules for those keys.
#[cfg(feature = "dataset")]
fn create_options(args: &Value) -> Result<super::CreateTableOptions> {
    #[derive(Deserialize)]
    struct Options {
        #[serde(default)]
        mode: Option<crate::dataset::CreateMode>,
        #[serde(default)]
        namespace: Option<Vec<String>>,
        #[serde(default)]
        branch: Option<String>,
        #[serde(default)]
        metadata: Option<Vec<crate::types::MetadataEntry>>,
    }
    let mut o = args.clone();
    if let Some(m) = o.as_object_mut() {
        m.remove("name");
        m.remove("data");
    }
    let o: Options = crate::support::dispatch::args("create_table", o)?;
    Ok(super::CreateTableOptions {
        mode: o.mode,
        at: super::TableAt {
            namespace: o.namespace,
            branch: o.branch,
        },
        metadata: o.metadata,
    })
}

#[cfg(feature = "dataset")]
async fn watch(room: &RoomClient, args: &Value, input: &[Value]) -> Result<Value> {
    use futures::StreamExt;
    let a = parse("watch_table", args)?;
    let take = match input {
        [] => usize::MAX,
        [n] => n
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| bad("watch_table: the input is one event count"))?,
        _ => return Err(bad("watch_table: the input is one event count")),
    };
    let mut call = room.dataset().watch_table(required("table", a.table)?);
    if let Some(ns) = a.namespace {
        call = call.namespace(ns);
    }
    if let Some(b) = a.branch {
        call = call.branch(b);
    }
    if let Some(p) = a.poll_interval_seconds {
        call = call.poll_interval_seconds(p);
    }
    let mut events = call.await?.take(take);
    let mut out = Vec::new();
    while let Some(chunk) = events.next().await {
        let event = super::TableWatchEvent::from_chunk(&chunk?)?;
        out.push(serde_json::to_value(event).map_err(bad)?);
    }
    Ok(Value::Array(out))
}

#[cfg(feature = "sqlite")]
async fn sqlite(
    room: &RoomClient,
    tool: &str,
    args: &Value,
    input: &[Value],
    rows: Option<&[Value]>,
) -> Option<Result<Value>> {
    #[derive(Deserialize)]
    struct Args {
        database: String,
        #[serde(default)]
        table: Option<String>,
        #[serde(default)]
        name: Option<String>,
        #[serde(default)]
        mode: Option<crate::sqlite::SqliteCreateMode>,
        #[serde(default)]
        namespace: Option<Vec<String>>,
        #[serde(default)]
        data: Option<Value>,
    }
    let Some(rows) = rows else {
        if tool != "create_table" {
            return None;
        }
        // Record batches as IPC: the generated arm, the schema as its `start` payload.
        let mut rest = args.clone();
        let schema = rest.as_object_mut()?.remove("data")?;
        let mut items = vec![serde_json::json!({ "schema": schema })];
        items.extend(input.iter().cloned());
        return room.sqlite().dispatch(tool, rest, items).await;
    };
    let run = async {
        let a: Args = crate::support::dispatch::args(tool, args.clone())?;
        let s = room.sqlite();
        if tool == "insert" {
            let table = required("table", a.table)?;
            s.insert_rows(&a.database, &table, rows, a.namespace)
                .await?;
        } else {
            let name = required("name", a.name)?;
            let data = a
                .data
                .ok_or_else(|| bad("create_table with rows needs the schema (`data`)"))?;
            let schema = schema_from_ipc(&base64_bytes(&data)?)?;
            s.create_table_with_rows(&a.database, &name, &schema, rows, a.mode, a.namespace)
                .await?;
        }
        Ok(Value::Null)
    };
    Some(run.await)
}
