//! Bytes to upload, and the slicer that cuts them to the size each pull asks for.

use std::io;
use std::path::Path;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use futures::stream::BoxStream;
use futures::{Stream, StreamExt};
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::core::error::{Error, Result};

/// Chunk size used when the server's pull does not name one (the SDKs' default).
pub const DEFAULT_CHUNK_SIZE: usize = 64 * 1024;

/// A progress callback: called with the total number of bytes sent so far.
pub(super) type Progress = Arc<dyn Fn(u64) + Send + Sync>;

/// Bytes to upload: from a buffer, a file, a `Stream` of `Bytes`, or an `AsyncRead`.
/// Sources are read piece by piece as the bytes go out, so memory stays bounded whatever
/// their size. A directory is sent as an archive the caller builds (e.g. with the `tar`
/// crate writing into a pipe read by [`ByteSource::from_reader`]).
pub struct ByteSource {
    pub(super) stream: BoxStream<'static, io::Result<Bytes>>,
    pub(super) len: Option<u64>,
    pub(super) progress: Option<Progress>,
}

impl std::fmt::Debug for ByteSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ByteSource")
            .field("len", &self.len)
            .field("progress", &self.progress.is_some())
            .finish_non_exhaustive()
    }
}

impl ByteSource {
    /// Bytes from a stream of chunks (any sizes; they are re-sliced to what the server pulls).
    pub fn from_stream(
        stream: impl Stream<Item = io::Result<Bytes>> + Send + 'static,
    ) -> ByteSource {
        ByteSource {
            stream: stream.boxed(),
            len: None,
            progress: None,
        }
    }

    /// The bytes of the file at `path`, read in 64 KiB pieces as they are sent; its
    /// length (sent as `size` where the tool has one) is the file's size when opened.
    pub async fn from_file(path: impl AsRef<Path>) -> Result<ByteSource> {
        let io = |source| Error::Io {
            context: "opening the upload source file",
            source,
        };
        let file = tokio::fs::File::open(path).await.map_err(io)?;
        let len = file.metadata().await.map_err(io)?.len();
        let mut source = ByteSource::from_reader(file);
        source.len = Some(len);
        Ok(source)
    }

    /// Calls `progress` with the total number of bytes sent so far, after each chunk
    /// goes out (for a watch: `move |n| { tx.send_replace(n); }` with a
    /// `tokio::sync::watch::Sender<u64>`).
    pub fn on_progress(mut self, progress: impl Fn(u64) + Send + Sync + 'static) -> ByteSource {
        self.progress = Some(Arc::new(progress));
        self
    }

    /// Reports `sent` bytes to the progress callback, if any.
    pub(super) fn report(progress: &Option<Progress>, sent: u64) {
        if let Some(p) = progress {
            p(sent);
        }
    }

    /// Bytes read from an `AsyncRead` until its end.
    pub fn from_reader(reader: impl AsyncRead + Send + Unpin + 'static) -> ByteSource {
        ByteSource::from_stream(tokio_util::io::ReaderStream::with_capacity(
            reader,
            DEFAULT_CHUNK_SIZE,
        ))
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

impl From<Bytes> for ByteSource {
    fn from(b: Bytes) -> ByteSource {
        let len = Some(b.len() as u64);
        let once = futures::stream::iter((!b.is_empty()).then_some(Ok(b)));
        ByteSource {
            stream: once.boxed(),
            len,
            progress: None,
        }
    }
}

impl From<Vec<u8>> for ByteSource {
    fn from(v: Vec<u8>) -> ByteSource {
        Bytes::from(v).into()
    }
}

impl From<&'static [u8]> for ByteSource {
    fn from(v: &'static [u8]) -> ByteSource {
        Bytes::from_static(v).into()
    }
}

/// Takes exactly `n` bytes (fewer only at the end) from a chunked source.
pub(super) struct Slicer {
    pub(super) source: BoxStream<'static, io::Result<Bytes>>,
    pub(super) pending: Bytes,
    pub(super) done: bool,
}

impl Slicer {
    /// The next `n` bytes of the source (fewer only at its end; none once it is done), as
    /// the source's own pieces: they are framed without being joined, so no byte is copied
    /// before the socket write.
    pub(super) async fn take(&mut self, n: usize) -> Result<Vec<Bytes>> {
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
