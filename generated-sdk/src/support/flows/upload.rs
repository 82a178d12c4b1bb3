//! The `pull_upload` engine: bytes sent as the server pulls them.

use bytes::Bytes;
use serde_json::Value;

use super::chunks::*;
use super::shape::*;
use super::source::*;
use crate::core::error::Result;
use crate::RoomClient;

/// `pull_upload`: sends the start chunk, then exactly the pulled number of bytes per
/// server pull; when the source is exhausted, closes the request side and waits for the
/// server's close.
///
/// Start headers the caller left out are filled as the SDKs do: `name` with the last
/// segment of `path`, `mime_type` guessed from the name's extension ([`guess_mime_type`]),
/// and `size` with the source's length when known, else `null`.
pub async fn pull_upload(
    room: &RoomClient,
    shape: &FlowShape,
    toolkit: &str,
    tool: &str,
    start: Value,
    source: ByteSource,
) -> Result<()> {
    let id = format!("{toolkit}.{tool}");
    shape.check(&id, ChunkEncoding::Binary)?;
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
    let mut stream = shape.open(room, toolkit, tool).await?;
    stream.send_binary(start, Bytes::new()).await?;
    let (progress, mut sent) = (source.progress, 0u64);
    let mut slicer = Slicer {
        source: source.stream,
        pending: Bytes::new(),
        done: false,
    };
    while let Some(chunk) = stream.recv().await? {
        match shape.pull_of(&chunk) {
            Some(headers) => {
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
                    sent += parts.iter().map(|p| p.len() as u64).sum::<u64>();
                    ByteSource::report(&progress, sent);
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

#[cfg(test)]
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
