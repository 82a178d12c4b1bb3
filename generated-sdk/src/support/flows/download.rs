//! The `pull_download` engine: a file the server announces, pulled chunk by chunk.

use bytes::{Bytes, BytesMut};
use futures::Stream;
use serde_json::Value;

use super::chunks::*;
use super::shape::*;
use crate::core::error::{Error, Result};
use crate::core::stream::ToolCallStream;
use crate::RoomClient;

/// A file being downloaded: its metadata, then its bytes as a stream.
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
    shape: FlowShape,
}

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
                        self.stream.send_pipelined(self.shape.pull_chunk()).await?;
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
        // The announced size is the server's word: reserve at most 1 MiB up front and grow
        // with what actually arrives.
        let mut out = BytesMut::with_capacity(self.size.min(1 << 20) as usize);
        while let Some(b) = self.chunk().await? {
            out.extend_from_slice(&b);
        }
        Ok(out.freeze())
    }

    /// Writes the file to `writer`; memory stays bounded by one chunk.
    pub async fn write_to(self, writer: &mut (impl tokio::io::AsyncWrite + Unpin)) -> Result<u64> {
        write_pieces(self.into_stream(), writer, "writing the download").await
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
pub async fn pull_download(
    room: &RoomClient,
    shape: &FlowShape,
    toolkit: &str,
    tool: &str,
    start: Value,
) -> Result<Download> {
    let id = format!("{toolkit}.{tool}");
    shape.check(&id, ChunkEncoding::Binary)?;
    let mut stream = shape.open(room, toolkit, tool).await?;
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
        shape: *shape,
    };
    let mut download = download;
    if size > 0 {
        let pull = shape.pull_chunk();
        download.stream.send(pull).await?;
    }
    Ok(download)
}
