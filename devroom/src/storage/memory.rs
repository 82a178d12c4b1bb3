//! Files in memory: a map from normalized path to bytes; folders are implied by paths.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use bytes::{Bytes, BytesMut};

use super::{already_exists, base_name, not_found, Entry, FileReader, ReadSource};
use crate::wire::ToolError;
use meshagent_room::ErrorCode;

#[derive(Clone)]
struct MemFile {
    data: Bytes,
    mime_type: String,
    created: SystemTime,
    updated: SystemTime,
}

type Files = Arc<Mutex<BTreeMap<String, MemFile>>>;

/// Files in memory.
#[derive(Default)]
pub(crate) struct MemoryStore {
    files: Files,
}

fn lock(files: &Files) -> MutexGuard<'_, BTreeMap<String, MemFile>> {
    files.lock().unwrap_or_else(|p| p.into_inner())
}

/// Whether `path` names a folder: the root, or a prefix of some file.
fn is_folder(files: &BTreeMap<String, MemFile>, path: &str) -> bool {
    path.is_empty() || {
        let prefix = format!("{path}/");
        files
            .range(prefix.clone()..)
            .next()
            .is_some_and(|(k, _)| k.starts_with(&prefix))
    }
}

fn file_entry(name: &str, f: &MemFile) -> Entry {
    Entry {
        name: name.to_string(),
        is_folder: false,
        size: Some(f.data.len() as u64),
        created_at: Some(f.created),
        updated_at: Some(f.updated),
    }
}

fn folder_entry(name: &str) -> Entry {
    Entry {
        name: name.to_string(),
        is_folder: true,
        size: None,
        created_at: None,
        updated_at: None,
    }
}

impl MemoryStore {
    pub(crate) fn stat(&self, path: &str) -> Option<Entry> {
        let files = lock(&self.files);
        if let Some(f) = files.get(path) {
            return Some(file_entry(base_name(path), f));
        }
        is_folder(&files, path).then(|| folder_entry(base_name(path)))
    }

    pub(crate) fn list(&self, path: &str) -> Result<Vec<Entry>, ToolError> {
        let files = lock(&self.files);
        if !is_folder(&files, path) {
            return Err(not_found(path));
        }
        let prefix = if path.is_empty() {
            String::new()
        } else {
            format!("{path}/")
        };
        let mut out: Vec<Entry> = Vec::new();
        for (key, f) in files.range(prefix.clone()..) {
            let Some(rest) = key.strip_prefix(&prefix) else {
                break;
            };
            match rest.split_once('/') {
                None => out.push(file_entry(rest, f)),
                Some((folder, _)) => {
                    if out.last().is_none_or(|e| e.name != folder || !e.is_folder) {
                        out.push(folder_entry(folder));
                    }
                }
            }
        }
        Ok(out)
    }

    pub(crate) fn delete(&self, path: &str, recursive: bool) -> Result<(), ToolError> {
        let mut files = lock(&self.files);
        if files.remove(path).is_some() {
            return Ok(());
        }
        if !is_folder(&files, path) {
            return Err(not_found(path));
        }
        if !recursive {
            return Err(ToolError::new(
                ErrorCode::StorageRecursiveRequired,
                format!("`{path}` is a folder that is not empty: delete it with recursive"),
            ));
        }
        let prefix = format!("{path}/");
        files.retain(|k, _| !k.starts_with(&prefix));
        Ok(())
    }

    pub(crate) fn rename(&self, from: &str, to: &str, overwrite: bool) -> Result<(), ToolError> {
        let mut files = lock(&self.files);
        if !files.contains_key(from) {
            return Err(not_found(from));
        }
        if is_folder(&files, to) || (files.contains_key(to) && !overwrite) {
            return Err(already_exists(to));
        }
        if let Some(mut f) = files.remove(from) {
            f.updated = SystemTime::now();
            files.insert(to.to_string(), f);
        }
        Ok(())
    }

    pub(crate) fn read(&self, path: &str) -> Result<FileReader, ToolError> {
        let files = lock(&self.files);
        let f = files.get(path).ok_or_else(|| not_found(path))?;
        Ok(FileReader {
            name: base_name(path).to_string(),
            mime_type: f.mime_type.clone(),
            size: f.data.len() as u64,
            source: ReadSource::Memory(f.data.clone()),
        })
    }

    pub(crate) fn writer(
        &self,
        path: &str,
        overwrite: bool,
        mime_type: &str,
    ) -> Result<MemoryWriter, ToolError> {
        let files = lock(&self.files);
        if is_folder(&files, path) || (files.contains_key(path) && !overwrite) {
            return Err(already_exists(path));
        }
        Ok(MemoryWriter {
            files: self.files.clone(),
            path: path.to_string(),
            overwrite,
            mime_type: mime_type.to_string(),
            data: BytesMut::new(),
        })
    }
}

/// An upload into memory; the size limit is the caller's.
pub(crate) struct MemoryWriter {
    files: Files,
    path: String,
    overwrite: bool,
    mime_type: String,
    data: BytesMut,
}

impl MemoryWriter {
    pub(crate) fn write(&mut self, data: &[u8]) {
        self.data.extend_from_slice(data);
    }

    pub(crate) fn written(&self) -> u64 {
        self.data.len() as u64
    }

    pub(crate) fn commit(self) -> Result<(), ToolError> {
        let mut files = lock(&self.files);
        let now = SystemTime::now();
        let created = match files.get(&self.path) {
            Some(_) if !self.overwrite => return Err(already_exists(&self.path)),
            Some(old) => old.created,
            None => now,
        };
        files.insert(
            self.path,
            MemFile {
                data: self.data.freeze(),
                mime_type: self.mime_type,
                created,
                updated: now,
            },
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(store: &MemoryStore, path: &str, data: &[u8]) {
        let mut w = store
            .writer(path, false, "text/plain")
            .ok()
            .unwrap_or_else(|| panic!("writer for {path}"));
        w.write(data);
        assert!(w.commit().is_ok());
    }

    #[test]
    fn folders_are_implied_and_listed_once() {
        let store = MemoryStore::default();
        put(&store, "a/x.txt", b"1");
        put(&store, "a/y.txt", b"22");
        put(&store, "b.txt", b"333");
        let root: Vec<(String, bool)> = store
            .list("")
            .unwrap_or_default()
            .into_iter()
            .map(|e| (e.name, e.is_folder))
            .collect();
        assert_eq!(
            root,
            vec![("a".to_string(), true), ("b.txt".to_string(), false)]
        );
        assert_eq!(store.list("a").map(|v| v.len()).ok(), Some(2));
        assert_eq!(
            store.delete("a", false).map_err(|e| e.code),
            Err(ErrorCode::StorageRecursiveRequired)
        );
        assert!(store.delete("a", true).is_ok());
        assert_eq!(
            store.list("a").map_err(|e| e.code).err(),
            Some(ErrorCode::StorageNotFound)
        );
        assert_eq!(
            store
                .writer("b.txt", false, "x")
                .map(drop)
                .map_err(|e| e.code),
            Err(ErrorCode::StorageAlreadyExists)
        );
    }
}
