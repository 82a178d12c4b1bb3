//! Flow-control policies of streaming tools, one function per policy named in the spec
//! (`stream.flow`). Generated methods pass the start chunk's headers and the data.

#[cfg(feature = "storage")]
use std::io;

#[cfg(any(feature = "storage", feature = "containers", feature = "developer"))]
use bytes::Bytes;
#[cfg(feature = "storage")]
use bytes::BytesMut;
use futures::stream::BoxStream;
use futures::{Stream, StreamExt};
#[cfg(feature = "storage")]
use serde_json::json;
use serde_json::{Map, Value};
#[cfg(feature = "storage")]
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::core::content::Content;
use crate::core::error::{Error, Result};
#[cfg(feature = "storage")]
use crate::core::stream::ToolCallStream;
use crate::RoomClient;

/// Chunk size used when the server's pull does not name one (the SDKs' default).
#[cfg(feature = "storage")]
pub const DEFAULT_CHUNK_SIZE: usize = 64 * 1024;

/// A `binary` chunk with only a `kind` header.
#[cfg(feature = "storage")]
fn kind_chunk(kind: &str, data: Bytes) -> Content {
    let mut headers = Map::new();
    headers.insert("kind".into(), kind.into());
    Content::Binary { headers, data }
}

/// Bytes to upload: from a buffer, a `Stream` of `Bytes`, or an `AsyncRead`.
#[cfg(feature = "storage")]
pub struct ByteSource {
    stream: BoxStream<'static, io::Result<Bytes>>,
    len: Option<u64>,
}

#[cfg(feature = "storage")]
impl std::fmt::Debug for ByteSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ByteSource")
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "storage")]
impl ByteSource {
    /// Bytes from a stream of chunks (any sizes; they are re-sliced to what the server pulls).
    pub fn from_stream(
        stream: impl Stream<Item = io::Result<Bytes>> + Send + 'static,
    ) -> ByteSource {
        ByteSource {
            stream: stream.boxed(),
            len: None,
        }
    }

    /// Bytes read from an `AsyncRead` until its end.
    pub fn from_reader(reader: impl AsyncRead + Send + Unpin + 'static) -> ByteSource {
        let stream = futures::stream::unfold(reader, |mut r| async move {
            let mut buf = BytesMut::with_capacity(DEFAULT_CHUNK_SIZE);
            match r.read_buf(&mut buf).await {
                Ok(0) => None,
                Ok(_) => Some((Ok(buf.freeze()), r)),
                Err(e) => Some((Err(e), r)),
            }
        });
        ByteSource::from_stream(stream)
    }

    /// The total length, when known up front (sent as `size`).
    pub fn len(&self) -> Option<u64> {
        self.len
    }

    /// Whether the source is known to be empty.
    pub fn is_empty(&self) -> bool {
        self.len == Some(0)
    }
}

#[cfg(feature = "storage")]
impl From<Bytes> for ByteSource {
    fn from(b: Bytes) -> ByteSource {
        let len = Some(b.len() as u64);
        let once = futures::stream::iter((!b.is_empty()).then_some(Ok(b)));
        ByteSource {
            stream: once.boxed(),
            len,
        }
    }
}

#[cfg(feature = "storage")]
impl From<Vec<u8>> for ByteSource {
    fn from(v: Vec<u8>) -> ByteSource {
        Bytes::from(v).into()
    }
}

#[cfg(feature = "storage")]
impl From<&'static [u8]> for ByteSource {
    fn from(v: &'static [u8]) -> ByteSource {
        Bytes::from_static(v).into()
    }
}

/// Takes exactly `n` bytes (fewer only at the end) from a chunked source.
#[cfg(feature = "storage")]
struct Slicer {
    source: BoxStream<'static, io::Result<Bytes>>,
    pending: Bytes,
    done: bool,
}

#[cfg(feature = "storage")]
impl Slicer {
    /// The next `n` bytes of the source (fewer only at its end; none once it is done), as
    /// the source's own pieces: they are framed without being joined, so no byte is copied
    /// before the socket write.
    async fn take(&mut self, n: usize) -> Result<Vec<Bytes>> {
        let mut parts = Vec::new();
        let mut have = 0;
        while have < n {
            if self.pending.is_empty() {
                if self.done {
                    break;
                }
                match self.source.next().await {
                    Some(Ok(b)) => self.pending = b,
                    Some(Err(e)) => {
                        return Err(Error::Io {
                            context: "reading the upload source",
                            source: e,
                        })
                    }
                    None => self.done = true,
                }
                continue;
            }
            let piece = self.pending.split_to((n - have).min(self.pending.len()));
            have += piece.len();
            parts.push(piece);
        }
        Ok(parts)
    }
}

#[cfg(any(
    feature = "storage",
    feature = "containers",
    feature = "developer",
    feature = "database"
))]
fn headers_with_kind(kind: &str, headers: Value) -> Value {
    let mut m = match headers {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    // `kind` first, as the SDKs write it.
    let mut out = Map::new();
    out.insert("kind".into(), kind.into());
    out.append(&mut m);
    Value::Object(out)
}

#[cfg(feature = "storage")]
fn binary_kind(chunk: &Content) -> Option<(&str, &Map<String, Value>, &Bytes)> {
    match chunk {
        Content::Binary { headers, data } => headers
            .get("kind")
            .and_then(Value::as_str)
            .map(|k| (k, headers, data)),
        _ => None,
    }
}

#[cfg(any(feature = "storage", feature = "developer", feature = "database"))]
fn chunk_error(tool: &str, chunk: Content) -> Error {
    match chunk {
        Content::Error { text, code } => Error::Server { code, text },
        other => Error::unexpected(tool, format!("unexpected stream chunk: {}", other.header())),
    }
}

/// `pull_upload`: sends the start chunk, then exactly the pulled number of bytes per
/// server pull; when the source is exhausted, closes the request side and waits for the
/// server's close.
///
/// Start headers the caller left out are filled as the SDKs do: `name` with the last
/// segment of `path`, `mime_type` guessed from the name's extension ([`guess_mime_type`]),
/// and `size` with the source's length when known, else `null`.
#[cfg(feature = "storage")]
pub async fn pull_upload(
    room: &RoomClient,
    toolkit: &str,
    tool: &str,
    start: Value,
    source: ByteSource,
) -> Result<()> {
    let id = format!("{toolkit}.{tool}");
    let mut start = headers_with_kind("start", start);
    if let Value::Object(h) = &mut start {
        let path = h.get("path").and_then(Value::as_str).unwrap_or_default();
        let default_name = path.rsplit('/').next().unwrap_or_default().to_string();
        let name = h
            .entry("name")
            .or_insert(Value::String(default_name))
            .as_str()
            .unwrap_or_default();
        let mime_type = guess_mime_type(name);
        h.entry("mime_type")
            .or_insert(Value::String(mime_type.into()));
        h.entry("size")
            .or_insert(source.len.map_or(Value::Null, Value::from));
    }
    let mut stream = room.open_stream(toolkit, tool).await?;
    stream.send_binary(start, Bytes::new()).await?;
    let mut slicer = Slicer {
        source: source.stream,
        pending: Bytes::new(),
        done: false,
    };
    while let Some(chunk) = stream.recv().await? {
        match binary_kind(&chunk) {
            Some(("pull", headers, _)) => {
                let size = headers
                    .get("chunk_size")
                    .and_then(Value::as_u64)
                    .filter(|n| *n > 0)
                    .map_or(DEFAULT_CHUNK_SIZE, |n| n as usize);
                let parts = slicer.take(size).await?;
                if parts.is_empty() {
                    stream.close().await?;
                } else {
                    // Acknowledged before the next chunk; meanwhile wait for the next pull.
                    let header = kind_chunk("data", Bytes::new()).header();
                    let payload: Vec<&[u8]> = parts.iter().map(|p| &p[..]).collect();
                    stream.send_parts_pipelined(header, &payload).await?;
                }
            }
            _ => return Err(chunk_error(&id, chunk)),
        }
    }
    stream.close().await
}

/// The MIME type an upload named `name` gets when the caller gives none: the TypeScript
/// SDK's fixed table (the Python SDK asks the machine's MIME table, which agrees on these
/// and varies on others), else `application/octet-stream`.
#[cfg(feature = "storage")]
pub fn guess_mime_type(name: &str) -> &'static str {
    const BY_EXTENSION: [(&str, &str); 29] = [
        (".tar.gz", "application/x-tar"),
        (".tgz", "application/x-tar"),
        (".bin", "application/octet-stream"),
        (".css", "text/css"),
        (".csv", "text/csv"),
        (".gif", "image/gif"),
        (".gz", "application/gzip"),
        (".htm", "text/html"),
        (".html", "text/html"),
        (".jpeg", "image/jpeg"),
        (".jpg", "image/jpeg"),
        (".js", "text/javascript"),
        (".json", "application/json"),
        (".md", "text/markdown"),
        (".mp3", "audio/mpeg"),
        (".mp4", "video/mp4"),
        (".pdf", "application/pdf"),
        (".png", "image/png"),
        (".svg", "image/svg+xml"),
        (".tar", "application/x-tar"),
        (".txt", "text/plain"),
        (".ts", "text/typescript"),
        (".tsx", "text/tsx"),
        (".wasm", "application/wasm"),
        (".webp", "image/webp"),
        (".xml", "application/xml"),
        (".yaml", "application/yaml"),
        (".yml", "application/yaml"),
        (".zip", "application/zip"),
    ];
    let lower = name.to_lowercase();
    // Two-part suffixes first, then the last extension only.
    let ext = lower.rfind('.').map_or("", |i| &lower[i..]);
    BY_EXTENSION
        .iter()
        .find(|(suffix, _)| suffix.matches('.').count() == 2 && lower.ends_with(suffix))
        .or_else(|| BY_EXTENSION.iter().find(|(e, _)| *e == ext))
        .map_or("application/octet-stream", |(_, t)| t)
}

/// A file being downloaded: its metadata, then its bytes as a stream.
#[cfg(feature = "storage")]
pub struct Download {
    /// File name.
    pub name: String,
    /// MIME type.
    pub mime_type: String,
    /// Size in bytes, as announced by the server.
    pub size: u64,
    received: u64,
    stream: ToolCallStream,
    tool: String,
}

#[cfg(feature = "storage")]
impl std::fmt::Debug for Download {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Download")
            .field("name", &self.name)
            .field("mime_type", &self.mime_type)
            .field("size", &self.size)
            .field("received", &self.received)
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "storage")]
impl Download {
    /// The next piece of the file; `None` once the server closed after the last byte.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>> {
        loop {
            let Some(chunk) = self.stream.recv().await? else {
                self.stream.close().await?;
                if self.received != self.size {
                    return Err(Error::unexpected(
                        &self.tool,
                        format!("closed after {} of {} bytes", self.received, self.size),
                    ));
                }
                return Ok(None);
            };
            match binary_kind(&chunk) {
                Some(("data", _, data)) => {
                    self.received += data.len() as u64;
                    if self.received > self.size {
                        return Err(Error::unexpected(
                            &self.tool,
                            format!("more than the announced {} bytes", self.size),
                        ));
                    }
                    let data = data.clone();
                    if self.received < self.size {
                        // Its acknowledgement is awaited before the next chunk is sent, not
                        // before this one is handed out.
                        self.stream
                            .send_pipelined(kind_chunk("pull", Bytes::new()))
                            .await?;
                    }
                    if data.is_empty() {
                        continue;
                    }
                    return Ok(Some(data));
                }
                _ => return Err(chunk_error(&self.tool, chunk)),
            }
        }
    }

    /// The whole file in memory.
    pub async fn bytes(mut self) -> Result<Bytes> {
        let mut out = BytesMut::with_capacity(self.size.min(1 << 26) as usize);
        while let Some(b) = self.chunk().await? {
            out.extend_from_slice(&b);
        }
        Ok(out.freeze())
    }

    /// Writes the file to `writer`; memory stays bounded by one chunk.
    pub async fn write_to(
        mut self,
        writer: &mut (impl tokio::io::AsyncWrite + Unpin),
    ) -> Result<u64> {
        use tokio::io::AsyncWriteExt;
        while let Some(b) = self.chunk().await? {
            writer.write_all(&b).await.map_err(|source| Error::Io {
                context: "writing the download",
                source,
            })?;
        }
        writer.flush().await.map_err(|source| Error::Io {
            context: "writing the download",
            source,
        })?;
        Ok(self.received)
    }

    /// The bytes as a `Stream`.
    pub fn into_stream(self) -> impl Stream<Item = Result<Bytes>> + Send {
        futures::stream::unfold(Some(self), |d| async move {
            let mut d = d?;
            match d.chunk().await {
                Ok(Some(b)) => Some((Ok(b), Some(d))),
                Ok(None) => None,
                Err(e) => Some((Err(e), None)),
            }
        })
    }
}

/// `pull_download`: sends the start chunk, reads the server's start (name, MIME type,
/// size), then pulls one chunk at a time while bytes remain.
#[cfg(feature = "storage")]
pub async fn pull_download(
    room: &RoomClient,
    toolkit: &str,
    tool: &str,
    start: Value,
) -> Result<Download> {
    let id = format!("{toolkit}.{tool}");
    let mut stream = room.open_stream(toolkit, tool).await?;
    stream
        .send_binary(headers_with_kind("start", start), Bytes::new())
        .await?;
    let chunk = stream
        .recv()
        .await?
        .ok_or_else(|| Error::unexpected(&id, "closed before announcing the file"))?;
    let (name, mime_type, size) = match binary_kind(&chunk) {
        Some(("start", h, _)) => (
            h.get("name").and_then(Value::as_str),
            h.get("mime_type").and_then(Value::as_str),
            h.get("size").and_then(Value::as_u64),
        ),
        _ => return Err(chunk_error(&id, chunk)),
    };
    let (Some(name), Some(mime_type), Some(size)) = (name, mime_type, size) else {
        return Err(Error::unexpected(
            &id,
            "start chunk needs string name, mime_type and a size >= 0",
        ));
    };
    let download = Download {
        name: name.to_string(),
        mime_type: mime_type.to_string(),
        size,
        received: 0,
        stream,
        tool: id,
    };
    let mut download = download;
    if size > 0 {
        download
            .stream
            .send_binary(json!({"kind": "pull"}), Bytes::new())
            .await?;
    }
    Ok(download)
}

/// `server_push`: the client sends the `start` chunk if the tool has one (a missing
/// `request_id` gets a fresh uuid4 hex, as the SDKs draw for container logs), then the
/// server sends chunks without pulls until it closes; each item is one chunk (`error`
/// chunks become errors).
#[cfg(any(feature = "containers", feature = "developer"))]
pub async fn server_push(
    room: &RoomClient,
    toolkit: &str,
    tool: &str,
    start: Option<Value>,
) -> Result<impl Stream<Item = Result<Content>> + Send> {
    let mut stream = room.open_stream(toolkit, tool).await?;
    if let Some(start) = start {
        let mut start = headers_with_kind("start", start);
        if let Value::Object(h) = &mut start {
            h.entry("request_id")
                .or_insert_with(|| Value::String(crate::core::client::new_tool_call_id()));
        }
        stream.send_binary(start, Bytes::new()).await?;
    }
    Ok(futures::stream::unfold(Some(stream), |s| async move {
        let mut s = s?;
        match s.recv().await {
            Ok(Some(Content::Error { text, code })) => {
                Some((Err(Error::Server { code, text }), Some(s)))
            }
            Ok(Some(chunk)) => Some((Ok(chunk), Some(s))),
            Ok(None) => {
                let _ = s.close().await;
                None
            }
            Err(e) => Some((Err(e), None)),
        }
    }))
}

/// One entry of a log stream: its type and its data.
#[cfg(feature = "developer")]
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LogEntry {
    /// The entry's type, e.g. `info`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The entry's data, a JSON object (`{}` when the chunk carried none).
    pub data: Value,
}

/// Pushed chunks as text: the UTF-8 payload of each binary chunk on channel 1 (other
/// channels, e.g. stderr or an exit status, are skipped). Invalid UTF-8 is replaced, as
/// a chunk boundary may split a character.
#[cfg(feature = "containers")]
pub fn text_items(
    s: impl Stream<Item = Result<Content>> + Send + 'static,
) -> BoxStream<'static, Result<String>> {
    s.filter_map(|item| {
        futures::future::ready(match item {
            Ok(Content::Binary { headers, data }) => (headers.get("channel")
                == Some(&Value::from(1)))
            .then(|| Ok(String::from_utf8_lossy(&data).into_owned())),
            Ok(_) => None,
            Err(e) => Some(Err(e)),
        })
    })
    .boxed()
}

/// Pushed chunks as log entries: a binary chunk's `type` header and its payload, UTF-8
/// JSON of an object (empty means `{}`); anything else is an unexpected-response error.
#[cfg(feature = "developer")]
pub fn log_entries(
    s: impl Stream<Item = Result<Content>> + Send + 'static,
    tool: &'static str,
) -> BoxStream<'static, Result<LogEntry>> {
    s.map(move |item| match item? {
        Content::Binary { headers, data } => {
            let kind = headers.get("type").and_then(Value::as_str);
            let data = if data.is_empty() {
                Ok(Value::Object(Map::new()))
            } else {
                serde_json::from_slice::<Value>(&data).map_err(|e| e.to_string())
            };
            match (kind, data) {
                (Some(kind), Ok(data @ Value::Object(_))) => Ok(LogEntry {
                    kind: kind.to_string(),
                    data,
                }),
                (None, _) => Err(Error::unexpected(tool, "log chunk without `type`")),
                (_, Ok(other)) => Err(Error::unexpected(
                    tool,
                    format!("log data is not an object: {other}"),
                )),
                (_, Err(e)) => Err(Error::unexpected(tool, format!("log data: {e}"))),
            }
        }
        other => Err(chunk_error(tool, other)),
    })
    .boxed()
}

#[cfg(feature = "database")]
fn json_kind(chunk: &Content) -> Option<&str> {
    match chunk {
        Content::Json(v) => v.get("kind").and_then(Value::as_str),
        _ => None,
    }
}

#[cfg(feature = "database")]
fn json_chunk(kind: &str, body: Value) -> Content {
    Content::Json(headers_with_kind(kind, body))
}

/// `write_batches`: sends the `start` chunk (JSON), then one batch per server `pull`; when
/// the batches run out, closes the request side and waits for the server's close.
/// Each batch is the JSON object of a `rows` chunk (without `kind`).
#[cfg(feature = "database")]
pub async fn write_batches(
    room: &RoomClient,
    toolkit: &str,
    tool: &str,
    start: Value,
    mut batches: BoxStream<'static, Result<Value>>,
) -> Result<()> {
    let id = format!("{toolkit}.{tool}");
    let mut stream = room.open_stream(toolkit, tool).await?;
    stream.send(json_chunk("start", start)).await?;
    while let Some(chunk) = stream.recv().await? {
        if json_kind(&chunk) != Some("pull") {
            return Err(chunk_error(&id, chunk));
        }
        match batches.next().await {
            Some(batch) => stream.send(json_chunk("rows", batch?)).await?,
            None => stream.close().await?,
        }
    }
    stream.close().await
}

/// `read_batches`: sends the `start` chunk (JSON) and, once the call is open, a first `pull`, then one
/// `pull` per `rows` chunk received; yields each rows chunk's JSON until the server closes.
#[cfg(feature = "database")]
pub async fn read_batches(
    room: &RoomClient,
    toolkit: &str,
    tool: &str,
    start: Value,
) -> Result<impl Stream<Item = Result<Value>> + Send> {
    let id = format!("{toolkit}.{tool}");
    let mut stream = room.open_stream(toolkit, tool).await?;
    stream.send(json_chunk("start", start)).await?;
    // The eager first pull waits for the open (an `error` reply means no pull, only the
    // close sent on drop, as the SDKs do).
    stream.ensure_open().await?;
    stream
        .send(json_chunk("pull", Value::Object(Map::new())))
        .await?;
    Ok(futures::stream::unfold(
        Some((stream, id)),
        |state| async move {
            let (mut s, id) = state?;
            let item = match s.recv().await {
                Ok(Some(chunk)) if json_kind(&chunk) == Some("rows") => {
                    match s.send(json_chunk("pull", Value::Object(Map::new()))).await {
                        Ok(()) => match chunk {
                            Content::Json(v) => Ok(v),
                            other => Err(chunk_error(&id, other)),
                        },
                        Err(e) => Err(e),
                    }
                }
                Ok(Some(chunk)) => Err(chunk_error(&id, chunk)),
                Ok(None) => {
                    let _ = s.close().await;
                    return None;
                }
                Err(e) => Err(e),
            };
            let next = item.is_ok().then_some((s, id));
            Some((item, next))
        },
    ))
}

/// Batches to write, each becoming the `rows`-style chunk `{<field>: batch}`.
#[cfg(feature = "database")]
pub struct Batches(BoxStream<'static, Result<Value>>);

#[cfg(feature = "database")]
impl std::fmt::Debug for Batches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Batches")
    }
}

#[cfg(feature = "database")]
impl Batches {
    /// Wraps `batches`; each is serialized under `field` as it is pulled.
    pub fn new<T: serde::Serialize + Send + 'static>(
        field: &'static str,
        batches: impl Stream<Item = T> + Send + 'static,
    ) -> Batches {
        Batches(
            batches
                .map(move |b| {
                    let mut m = Map::new();
                    m.insert(
                        field.to_string(),
                        serde_json::to_value(b)
                            .map_err(|e| Error::InvalidArguments(e.to_string()))?,
                    );
                    Ok(Value::Object(m))
                })
                .boxed(),
        )
    }

    /// The chunks' JSON, for [`write_batches`].
    pub fn into_stream(self) -> BoxStream<'static, Result<Value>> {
        self.0
    }
}

/// Takes `field` out of a chunk's JSON as a `T`.
#[cfg(feature = "database")]
pub fn field<T: serde::de::DeserializeOwned>(
    mut chunk: Value,
    field: &str,
    tool: &str,
) -> Result<T> {
    let v = chunk.get_mut(field).map(Value::take).unwrap_or(Value::Null);
    serde_json::from_value(v).map_err(|e| Error::unexpected(tool, format!("chunk `{field}`: {e}")))
}

#[cfg(all(test, feature = "storage"))]
mod tests {
    use super::guess_mime_type;

    #[test]
    fn mime_types_follow_the_fixed_table() {
        assert_eq!(guess_mime_type("notes ✓.txt"), "text/plain");
        assert_eq!(guess_mime_type("A.JSON"), "application/json");
        assert_eq!(guess_mime_type("site.tar.gz"), "application/x-tar");
        assert_eq!(guess_mime_type("x.gz"), "application/gzip");
        assert_eq!(guess_mime_type("Makefile"), "application/octet-stream");
        assert_eq!(guess_mime_type("clip.unknown"), "application/octet-stream");
    }
}
