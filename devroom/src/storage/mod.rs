//! Where `storage` keeps files: in memory or in a directory. Paths are normalized and may
//! not leave the root.

mod dir;
mod memory;

use std::path::PathBuf;
use std::time::SystemTime;

use bytes::Bytes;
use meshagent_room::ErrorCode;
use serde_json::{json, Value};

use crate::wire::ToolError;

pub(crate) use dir::DirStore;
pub(crate) use memory::MemoryStore;

/// A file or folder as `storage.list` / `storage.stat` describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub name: String,
    pub is_folder: bool,
    pub size: Option<u64>,
    pub created_at: Option<SystemTime>,
    pub updated_at: Option<SystemTime>,
}

impl Entry {
    /// The wire form (the SDKs' `StorageEntry`).
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "is_folder": self.is_folder,
            "size": self.size,
            "created_at": self.created_at.and_then(iso8601),
            "updated_at": self.updated_at.and_then(iso8601),
        })
    }
}

/// An ISO-8601 UTC timestamp in whole seconds (`2026-12-06T00:35:54Z`), as both SDKs parse.
fn iso8601(t: SystemTime) -> Option<String> {
    let t = time::OffsetDateTime::from(t).replace_nanosecond(0).ok()?;
    t.format(&time::format_description::well_known::Rfc3339)
        .ok()
}

/// A file being read: its size and MIME type, then its bytes in pieces.
pub(crate) struct FileReader {
    pub name: String,
    pub mime_type: String,
    pub size: u64,
    source: ReadSource,
}

enum ReadSource {
    Memory(Bytes),
    File(tokio::fs::File),
}

impl FileReader {
    /// Up to `max` next bytes; empty at the end.
    pub(crate) async fn read(&mut self, max: usize) -> Result<Bytes, ToolError> {
        match &mut self.source {
            ReadSource::Memory(rest) => {
                let n = max.min(rest.len());
                Ok(rest.split_to(n))
            }
            ReadSource::File(file) => {
                use tokio::io::AsyncReadExt;
                let mut buf = vec![0u8; max];
                let n = file.read(&mut buf).await.map_err(io_error)?;
                buf.truncate(n);
                Ok(Bytes::from(buf))
            }
        }
    }
}

/// A file being written; nothing is visible until [`FileWriter::commit`].
pub(crate) enum FileWriter {
    Memory(memory::MemoryWriter),
    Dir(dir::DirWriter),
}

impl FileWriter {
    pub(crate) async fn write(&mut self, data: &[u8]) -> Result<(), ToolError> {
        match self {
            FileWriter::Memory(w) => {
                w.write(data);
                Ok(())
            }
            FileWriter::Dir(w) => w.write(data).await,
        }
    }

    /// Bytes written so far.
    pub(crate) fn written(&self) -> u64 {
        match self {
            FileWriter::Memory(w) => w.written(),
            FileWriter::Dir(w) => w.written(),
        }
    }

    /// Makes the file visible at its path.
    pub(crate) async fn commit(self) -> Result<(), ToolError> {
        match self {
            FileWriter::Memory(w) => w.commit(),
            FileWriter::Dir(w) => w.commit().await,
        }
    }
}

/// A room's storage.
pub(crate) enum Storage {
    Memory(MemoryStore),
    Dir(DirStore),
}

impl Storage {
    pub(crate) fn in_dir(root: PathBuf) -> Storage {
        Storage::Dir(DirStore::new(root))
    }

    pub(crate) async fn stat(&self, path: &str) -> Result<Option<Entry>, ToolError> {
        let path = normalize(path)?;
        match self {
            Storage::Memory(s) => Ok(s.stat(&path)),
            Storage::Dir(s) => s.stat(&path).await,
        }
    }

    pub(crate) async fn list(&self, path: &str) -> Result<Vec<Entry>, ToolError> {
        let path = normalize(path)?;
        match self {
            Storage::Memory(s) => s.list(&path),
            Storage::Dir(s) => s.list(&path).await,
        }
    }

    pub(crate) async fn delete(&self, path: &str, recursive: bool) -> Result<(), ToolError> {
        let path = normalize_file(path)?;
        match self {
            Storage::Memory(s) => s.delete(&path, recursive),
            Storage::Dir(s) => s.delete(&path, recursive).await,
        }
    }

    pub(crate) async fn rename(
        &self,
        from: &str,
        to: &str,
        overwrite: bool,
    ) -> Result<(), ToolError> {
        let (from, to) = (normalize_file(from)?, normalize_file(to)?);
        match self {
            Storage::Memory(s) => s.rename(&from, &to, overwrite),
            Storage::Dir(s) => s.rename(&from, &to, overwrite).await,
        }
    }

    pub(crate) async fn read(&self, path: &str) -> Result<FileReader, ToolError> {
        let path = normalize_file(path)?;
        match self {
            Storage::Memory(s) => s.read(&path),
            Storage::Dir(s) => s.read(&path).await,
        }
    }

    /// Starts writing `path`; fails at once if it exists and `overwrite` is false.
    pub(crate) async fn writer(
        &self,
        path: &str,
        overwrite: bool,
        mime_type: &str,
    ) -> Result<FileWriter, ToolError> {
        let path = normalize_file(path)?;
        match self {
            Storage::Memory(s) => s
                .writer(&path, overwrite, mime_type)
                .map(FileWriter::Memory),
            Storage::Dir(s) => s
                .writer(&path, overwrite, mime_type)
                .await
                .map(FileWriter::Dir),
        }
    }
}

/// `path` without leading `./` and `/`, its segments checked: `a/b.txt`, or `""` for the root.
pub(crate) fn normalize(path: &str) -> Result<String, ToolError> {
    let mut segments = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => return Err(invalid_path(path, "`..` is not allowed")),
            s if s.contains('\0') || s.contains('\\') => {
                return Err(invalid_path(path, "NUL and `\\` are not allowed"))
            }
            s => segments.push(s),
        }
    }
    Ok(segments.join("/"))
}

/// [`normalize`], refusing the root.
fn normalize_file(path: &str) -> Result<String, ToolError> {
    let p = normalize(path)?;
    if p.is_empty() {
        return Err(invalid_path(path, "the root is not a file"));
    }
    Ok(p)
}

fn invalid_path(path: &str, why: &str) -> ToolError {
    let shown: String = path.chars().take(200).collect();
    ToolError::new(
        ErrorCode::StorageInvalidPath,
        format!("invalid path `{shown}`: {why}"),
    )
}

pub(crate) fn not_found(path: &str) -> ToolError {
    ToolError::new(
        ErrorCode::StorageNotFound,
        format!("`{path}` was not found"),
    )
}

pub(crate) fn already_exists(path: &str) -> ToolError {
    ToolError::new(
        ErrorCode::StorageAlreadyExists,
        format!("`{path}` already exists"),
    )
}

pub(crate) fn io_error(e: std::io::Error) -> ToolError {
    ToolError::new(ErrorCode::OperationFailed, format!("storage i/o: {e}"))
}

/// The last segment of a normalized path.
pub(crate) fn base_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_normalized_and_kept_inside() {
        assert_eq!(
            normalize("./docs//a.txt").ok(),
            Some("docs/a.txt".to_string())
        );
        assert_eq!(normalize("/").ok(), Some(String::new()));
        assert!(normalize("a/../../etc").is_err());
        assert!(normalize_file("").is_err());
    }

    #[test]
    fn timestamps_are_whole_seconds_in_utc() {
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(1_500);
        assert_eq!(iso8601(t).as_deref(), Some("1970-01-01T00:00:01Z"));
    }
}
