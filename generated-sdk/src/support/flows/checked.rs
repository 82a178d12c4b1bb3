//! The `checked_download` and `checked_upload` engines: a whole file in chunks of at most
//! [`CHECKED_CHUNK_MAX`] bytes, ending with the file's size and SHA-256, which the receiving
//! side checks (0.56 `sqlite.backup` and `sqlite.restore`, as Python's `sqlite_transfer.py`).

use bytes::{Bytes, BytesMut};
use futures::{Stream, StreamExt};
use ring::digest::{Context, SHA256};
use serde_json::{Map, Value};

use super::chunks::*;
use super::shape::*;
use super::source::*;
use crate::core::content::Content;
use crate::core::error::{Error, Result};
use crate::core::stream::ToolCallStream;
use crate::RoomClient;

/// The largest data chunk either side may send (256 KiB, as the SDKs).
pub const CHECKED_CHUNK_MAX: usize = 256 * 1024;

/// Lowercase hex of a SHA-256 digest.
fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The `{size, sha256}` of a `complete` chunk, read as strictly as Python does: exactly
/// the keys `kind`, `size` (an integer >= 0) and `sha256` (64 lowercase hex digits), and
/// an empty payload.
fn completion(tool: &str, headers: &Map<String, Value>, data: &Bytes) -> Result<(u64, String)> {
    let size = headers.get("size").and_then(Value::as_u64);
    let sha256 = headers
        .get("sha256")
        .and_then(Value::as_str)
        .filter(|s| s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));
    match (size, sha256, headers.len(), data.is_empty()) {
        (Some(size), Some(sha256), 3, true) => Ok((size, sha256.to_string())),
        _ => Err(Error::unexpected(tool, "invalid transfer completion")),
    }
}

/// The `complete` chunk for `size` bytes with this digest.
fn complete_chunk(size: u64, sha256: &str) -> Content {
    let mut headers = Map::new();
    headers.insert("kind".into(), "complete".into());
    headers.insert("size".into(), size.into());
    headers.insert("sha256".into(), sha256.into());
    Content::Binary {
        headers,
        data: Bytes::new(),
    }
}

/// A file being read by a `checked_download` tool (e.g. `sqlite.backup`). Its bytes are
/// only good once [`CheckedDownload::chunk`] has returned `None`, after the server's size
/// and SHA-256 matched what was received; an error means the bytes so far must be dropped.
pub struct CheckedDownload {
    stream: ToolCallStream,
    tool: String,
    shape: FlowShape,
    digest: Context,
    received: u64,
    done: bool,
}

impl std::fmt::Debug for CheckedDownload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckedDownload")
            .field("tool", &self.tool)
            .field("received", &self.received)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl CheckedDownload {
    /// The next piece of the file; `None` once the server's size and SHA-256 were checked
    /// against every byte received (the request side is then closed).
    pub async fn chunk(&mut self) -> Result<Option<Bytes>> {
        if self.done {
            return Ok(None);
        }
        let result = self.next_chunk().await;
        if !matches!(result, Ok(Some(_))) {
            self.done = true;
            // Close on every end, as Python's `finally`; the first error is kept.
            let closed = self.stream.close().await;
            if result.is_ok() {
                closed?;
            }
        }
        result
    }

    async fn next_chunk(&mut self) -> Result<Option<Bytes>> {
        let Some(chunk) = self.stream.recv().await? else {
            return Err(Error::unexpected(
                &self.tool,
                "the transfer ended before its verified completion",
            ));
        };
        match binary_kind(&chunk) {
            Some(("complete", headers, data)) => {
                let (size, sha256) = completion(&self.tool, headers, data)?;
                let digest = std::mem::replace(&mut self.digest, Context::new(&SHA256));
                let ours = hex(digest.finish().as_ref());
                if size != self.received || sha256 != ours {
                    return Err(Error::unexpected(
                        &self.tool,
                        format!(
                            "size or SHA-256 mismatch: the server sent {size} bytes {sha256}, {} bytes {ours} arrived",
                            self.received
                        ),
                    ));
                }
                Ok(None)
            }
            Some(("data", _, data)) if !data.is_empty() && data.len() <= CHECKED_CHUNK_MAX => {
                let data = data.clone();
                self.digest.update(&data);
                self.received += data.len() as u64;
                self.stream.send_pipelined(self.shape.pull_chunk()).await?;
                Ok(Some(data))
            }
            Some(("data", ..)) => Err(Error::unexpected(
                &self.tool,
                format!("a data chunk must hold 1 to {CHECKED_CHUNK_MAX} bytes"),
            )),
            _ => Err(chunk_error(&self.tool, chunk)),
        }
    }

    /// The whole file in memory, checked.
    pub async fn bytes(mut self) -> Result<Bytes> {
        let mut out = BytesMut::new();
        while let Some(b) = self.chunk().await? {
            out.extend_from_slice(&b);
        }
        Ok(out.freeze())
    }

    /// Writes the file to `writer` and returns its size. Write to a temporary place and
    /// publish the copy only after this returns `Ok`: on an error the bytes already written
    /// are not a good copy.
    pub async fn write_to(self, writer: &mut (impl tokio::io::AsyncWrite + Unpin)) -> Result<u64> {
        write_pieces(self.into_stream(), writer, "writing the downloaded file").await
    }

    /// The pieces as a `Stream`; it ends after the check, or with the error that failed it.
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

/// `checked_download`: sends the start chunk and, at once, the first pull; the file's
/// pieces then come one per pull until the server's `complete` (see [`CheckedDownload`]).
pub async fn checked_download(
    room: &RoomClient,
    shape: &FlowShape,
    toolkit: &str,
    tool: &str,
    start: Value,
) -> Result<CheckedDownload> {
    let id = format!("{toolkit}.{tool}");
    shape.check(&id, ChunkEncoding::Binary)?;
    let mut stream = shape.open(room, toolkit, tool).await?;
    stream
        .send_binary(headers_with_kind("start", start), Bytes::new())
        .await?;
    stream.send_pipelined(shape.pull_chunk()).await?;
    Ok(CheckedDownload {
        stream,
        tool: id,
        shape: *shape,
        digest: Context::new(&SHA256),
        received: 0,
        done: false,
    })
}

/// `checked_upload`: sends the start chunk, then one data chunk per server pull — the
/// source's pieces as they come, empty ones skipped and larger ones cut to
/// [`CHECKED_CHUNK_MAX`] — and, at the first pull after the source ran out, the size and
/// SHA-256 of everything sent. Succeeds once the server echoes exactly those. A failing
/// source sends `abort` and fails with the source's error.
pub async fn checked_upload(
    room: &RoomClient,
    shape: &FlowShape,
    toolkit: &str,
    tool: &str,
    start: Value,
    source: ByteSource,
) -> Result<()> {
    let id = format!("{toolkit}.{tool}");
    shape.check(&id, ChunkEncoding::Binary)?;
    let mut stream = shape.open(room, toolkit, tool).await?;
    let result = upload(&mut stream, shape, &id, start, source).await;
    let closed = stream.close().await;
    result?;
    closed
}

async fn upload(
    stream: &mut ToolCallStream,
    shape: &FlowShape,
    id: &str,
    start: Value,
    mut source: ByteSource,
) -> Result<()> {
    stream
        .send_binary(headers_with_kind("start", start), Bytes::new())
        .await?;
    let mut digest = Context::new(&SHA256);
    let mut sent: u64 = 0;
    let mut pending = Bytes::new();
    let mut completed: Option<(u64, String)> = None;
    while let Some(chunk) = stream.recv().await? {
        if shape.pull_of(&chunk).is_some() && chunk.tail().is_empty() {
            if completed.is_some() {
                return Err(Error::unexpected(id, "a pull after the upload completed"));
            }
            while pending.is_empty() {
                match source.stream.next().await {
                    Some(Ok(piece)) => pending = piece,
                    Some(Err(e)) => {
                        stream
                            .send_pipelined(kind_chunk("abort", Bytes::new()))
                            .await?;
                        return Err(Error::Io {
                            context: "reading the upload source",
                            source: e,
                        });
                    }
                    None => break,
                }
            }
            if pending.is_empty() {
                let sha256 = hex(std::mem::replace(&mut digest, Context::new(&SHA256))
                    .finish()
                    .as_ref());
                stream.send_pipelined(complete_chunk(sent, &sha256)).await?;
                completed = Some((sent, sha256));
            } else {
                let piece = pending.split_to(pending.len().min(CHECKED_CHUNK_MAX));
                digest.update(&piece);
                sent += piece.len() as u64;
                stream.send_pipelined(kind_chunk("data", piece)).await?;
            }
            continue;
        }
        return match (binary_kind(&chunk), &completed) {
            (Some(("complete", headers, data)), Some(ours)) => {
                if &completion(id, headers, data)? == ours {
                    Ok(())
                } else {
                    Err(Error::unexpected(
                        id,
                        "the server's acknowledgement does not match the upload",
                    ))
                }
            }
            _ => Err(chunk_error(id, chunk)),
        };
    }
    Err(Error::unexpected(
        id,
        "the transfer ended without a durable completion (its outcome is uncertain)",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn sha256_is_lowercase_hex() {
        let mut c = Context::new(&SHA256);
        c.update(b"abc");
        assert_eq!(
            hex(c.finish().as_ref()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn completions_are_read_strictly() {
        let sha = "0d0c89d062bdb6c8402588df6fe980636551920cd93457d668eee0ba608b3b5c";
        let ok = headers(serde_json::json!({"kind": "complete", "size": 1057, "sha256": sha}));
        assert_eq!(
            completion("t", &ok, &Bytes::new()).ok(),
            Some((1057, sha.to_string()))
        );
        // A payload, an extra key, upper-case hex, a negative size: all rejected.
        assert!(completion("t", &ok, &Bytes::from_static(b"x")).is_err());
        let mut extra = ok.clone();
        extra.insert("more".into(), 1.into());
        assert!(completion("t", &extra, &Bytes::new()).is_err());
        let upper = headers(
            serde_json::json!({"kind": "complete", "size": 1, "sha256": sha.to_uppercase()}),
        );
        assert!(completion("t", &upper, &Bytes::new()).is_err());
        let negative = headers(serde_json::json!({"kind": "complete", "size": -1, "sha256": sha}));
        assert!(completion("t", &negative, &Bytes::new()).is_err());
        let sent = complete_chunk(1057, sha);
        assert!(matches!(binary_kind(&sent), Some(("complete", h, _)) if *h == ok));
    }
}
