//! The sync wire format: paths as the SDKs normalize them, and sync tails (base64 text of
//! a Yjs v1 update).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use bytes::Bytes;
use yrs::updates::decoder::Decode;
use yrs::Update;

use super::TOOL_ID;
use crate::core::error::{Error, Result};

/// A path as both SDKs put it on the wire: leading `"./"` stripped repeatedly, then leading
/// `"/"` repeatedly; `"."` becomes `""`.
pub fn normalize_sync_path(path: &str) -> String {
    let mut p = path;
    while let Some(rest) = p.strip_prefix("./") {
        p = rest;
    }
    let p = p.trim_start_matches('/');
    if p == "." {
        String::new()
    } else {
        p.to_string()
    }
}

/// Base64 text of a Yjs v1 update, as a sync chunk's tail.
pub fn encode_sync_payload(update_v1: &[u8]) -> Bytes {
    Bytes::from(STANDARD.encode(update_v1))
}

/// The Yjs v1 update in a sync chunk's tail (ASCII base64).
pub fn decode_sync_payload(tail: &[u8]) -> Result<Update> {
    let bytes = STANDARD
        .decode(tail)
        .map_err(|e| Error::unexpected(TOOL_ID, format!("sync payload is not base64: {e}")))?;
    Update::decode_v1(&bytes).map_err(|e| {
        Error::unexpected(TOOL_ID, format!("sync payload is not a Yjs v1 update: {e}"))
    })
}
