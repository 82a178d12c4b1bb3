//! Files in a directory. Uploads go to a hidden temporary file first and are renamed into
//! place on commit; MIME types given at upload are remembered for this run only.

use std::collections::HashMap;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use meshagent_room::ErrorCode;
use tokio::io::AsyncWriteExt;

use super::{already_exists, base_name, io_error, not_found, Entry, FileReader, ReadSource};
use crate::wire::ToolError;

/// Names of upload temporaries; hidden from listings.
const TEMP_PREFIX: &str = ".devroom-upload-";

type MimeTypes = Arc<Mutex<HashMap<String, String>>>;

/// Files under a root directory.
pub(crate) struct DirStore {
    root: PathBuf,
    mime_types: MimeTypes,
}

fn not_found_or(path: &str, e: std::io::Error) -> ToolError {
    if e.kind() == ErrorKind::NotFound {
        not_found(path)
    } else {
        io_error(e)
    }
}

fn entry(name: String, meta: &std::fs::Metadata) -> Entry {
    let is_folder = meta.is_dir();
    Entry {
        name,
        is_folder,
        size: (!is_folder).then_some(meta.len()),
        created_at: meta.created().ok().or_else(|| meta.modified().ok()),
        updated_at: meta.modified().ok(),
    }
}

impl DirStore {
    pub(crate) fn new(root: PathBuf) -> DirStore {
        DirStore {
            root,
            mime_types: Arc::default(),
        }
    }

    fn at(&self, path: &str) -> PathBuf {
        self.root.join(path)
    }

    fn mime_type(&self, path: &str) -> String {
        let known = self
            .mime_types
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(path)
            .cloned();
        known.unwrap_or_else(|| "application/octet-stream".to_string())
    }

    pub(crate) async fn stat(&self, path: &str) -> Result<Option<Entry>, ToolError> {
        match tokio::fs::metadata(self.at(path)).await {
            Ok(meta) => Ok(Some(entry(base_name(path).to_string(), &meta))),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error(e)),
        }
    }

    pub(crate) async fn list(&self, path: &str) -> Result<Vec<Entry>, ToolError> {
        let mut dir = tokio::fs::read_dir(self.at(path))
            .await
            .map_err(|e| not_found_or(path, e))?;
        let mut out = Vec::new();
        while let Some(item) = dir.next_entry().await.map_err(io_error)? {
            let name = item.file_name().to_string_lossy().into_owned();
            if name.starts_with(TEMP_PREFIX) {
                continue;
            }
            let meta = item.metadata().await.map_err(io_error)?;
            out.push(entry(name, &meta));
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    pub(crate) async fn delete(&self, path: &str, recursive: bool) -> Result<(), ToolError> {
        let at = self.at(path);
        let meta = tokio::fs::metadata(&at)
            .await
            .map_err(|e| not_found_or(path, e))?;
        if !meta.is_dir() {
            return tokio::fs::remove_file(&at).await.map_err(io_error);
        }
        if recursive {
            return tokio::fs::remove_dir_all(&at).await.map_err(io_error);
        }
        match tokio::fs::remove_dir(&at).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::DirectoryNotEmpty => Err(ToolError::new(
                ErrorCode::StorageRecursiveRequired,
                format!("`{path}` is a folder that is not empty: delete it with recursive"),
            )),
            Err(e) => Err(io_error(e)),
        }
    }

    pub(crate) async fn rename(
        &self,
        from: &str,
        to: &str,
        overwrite: bool,
    ) -> Result<(), ToolError> {
        let (src, dst) = (self.at(from), self.at(to));
        tokio::fs::metadata(&src)
            .await
            .map_err(|e| not_found_or(from, e))?;
        if !overwrite && tokio::fs::try_exists(&dst).await.map_err(io_error)? {
            return Err(already_exists(to));
        }
        make_parent(&dst).await?;
        tokio::fs::rename(&src, &dst).await.map_err(io_error)?;
        let mut types = self.mime_types.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(t) = types.remove(from) {
            types.insert(to.to_string(), t);
        }
        Ok(())
    }

    pub(crate) async fn read(&self, path: &str) -> Result<FileReader, ToolError> {
        let file = tokio::fs::File::open(self.at(path))
            .await
            .map_err(|e| not_found_or(path, e))?;
        let meta = file.metadata().await.map_err(io_error)?;
        if meta.is_dir() {
            return Err(not_found(path));
        }
        Ok(FileReader {
            name: base_name(path).to_string(),
            mime_type: self.mime_type(path),
            size: meta.len(),
            source: ReadSource::File(file),
        })
    }

    pub(crate) async fn writer(
        &self,
        path: &str,
        overwrite: bool,
        mime_type: &str,
    ) -> Result<DirWriter, ToolError> {
        let target = self.at(path);
        if !overwrite && tokio::fs::try_exists(&target).await.map_err(io_error)? {
            return Err(already_exists(path));
        }
        tokio::fs::create_dir_all(&self.root)
            .await
            .map_err(io_error)?;
        let temp = self
            .root
            .join(format!("{TEMP_PREFIX}{}", uuid::Uuid::new_v4().simple()));
        let file = tokio::fs::File::create(&temp).await.map_err(io_error)?;
        Ok(DirWriter {
            file: Some(file),
            temp,
            target,
            path: path.to_string(),
            overwrite,
            mime_type: mime_type.to_string(),
            mime_types: self.mime_types.clone(),
            written: 0,
        })
    }
}

async fn make_parent(path: &Path) -> Result<(), ToolError> {
    match path.parent() {
        Some(parent) => tokio::fs::create_dir_all(parent).await.map_err(io_error),
        None => Ok(()),
    }
}

/// An upload into a temporary file; removed unless committed.
pub(crate) struct DirWriter {
    file: Option<tokio::fs::File>,
    temp: PathBuf,
    target: PathBuf,
    path: String,
    overwrite: bool,
    mime_type: String,
    mime_types: MimeTypes,
    written: u64,
}

impl DirWriter {
    pub(crate) async fn write(&mut self, data: &[u8]) -> Result<(), ToolError> {
        let Some(file) = self.file.as_mut() else {
            return Err(ToolError::new(
                ErrorCode::InvalidState,
                "the upload is finished",
            ));
        };
        file.write_all(data).await.map_err(io_error)?;
        self.written += data.len() as u64;
        Ok(())
    }

    pub(crate) fn written(&self) -> u64 {
        self.written
    }

    pub(crate) async fn commit(mut self) -> Result<(), ToolError> {
        if let Some(mut file) = self.file.take() {
            file.flush().await.map_err(io_error)?;
        }
        if !self.overwrite
            && tokio::fs::try_exists(&self.target)
                .await
                .map_err(io_error)?
        {
            return Err(already_exists(&self.path));
        }
        make_parent(&self.target).await?;
        tokio::fs::rename(&self.temp, &self.target)
            .await
            .map_err(io_error)?;
        self.mime_types
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(self.path.clone(), self.mime_type.clone());
        Ok(())
    }
}

impl Drop for DirWriter {
    fn drop(&mut self) {
        // Committed: the temporary was renamed away and this finds nothing.
        let _ = std::fs::remove_file(&self.temp);
    }
}
