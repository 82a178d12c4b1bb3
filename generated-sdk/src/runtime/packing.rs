//! Packed messages: a JSON header object plus a binary tail.
//!
//! ```text
//! [u64 header_len (big-endian)][header_len bytes of UTF-8 JSON object][binary tail]
//! ```

use bytes::Bytes;
use serde::de::{DeserializeOwned, IgnoredAny};
use serde::Serialize;
use serde_json::{Map, Value};

/// Length of the big-endian `u64` header length prefix.
const LEN_PREFIX: usize = 8;

/// Why a message could not be packed or unpacked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PackError {
    /// The message is too short to hold the header length prefix.
    #[error("packed message of {len} bytes is shorter than its 8-byte header length")]
    Truncated {
        /// Message length.
        len: usize,
    },
    /// The header length prefix points past the end of the message.
    #[error("packed header length {declared} exceeds the {available} bytes that follow it")]
    HeaderLengthBeyondPayload {
        /// Header length from the prefix.
        declared: u64,
        /// Bytes after the prefix.
        available: usize,
    },
    /// The header is not valid JSON (or not UTF-8).
    #[error("packed message header is not valid JSON")]
    HeaderNotJson(#[source] serde_json::Error),
    /// The header is valid JSON but not an object.
    #[error("packed message header is not a JSON object")]
    HeaderNotObject,
    /// The header is a JSON object that does not match the requested type
    /// (only from [`unpack_as`]).
    #[error("packed message header does not match the expected type")]
    HeaderMismatch(#[source] serde_json::Error),
    /// The header could not be serialized.
    #[error("failed to serialize the packed message header")]
    Encode(#[source] serde_json::Error),
}

/// The header key the Python SDK adds (tracing metadata); removed on unpack.
pub const MESHAGENT_KEY: &str = "__meshagent__";

/// A packed message: JSON header object plus binary tail.
#[derive(Debug, Clone, PartialEq)]
pub struct Packed {
    /// Header object, without [`MESHAGENT_KEY`].
    pub header: Map<String, Value>,
    /// Binary tail; may be empty.
    pub tail: Bytes,
}

/// Serializes `header` (must serialize to a JSON object) and returns the
/// 8-byte length prefix + JSON bytes, ready to be followed by the tail.
pub fn pack_header<H: Serialize + ?Sized>(header: &H) -> Result<Vec<u8>, PackError> {
    write_header(header, 0)
}

/// [`pack_header`] + `tail` in one buffer.
pub fn pack<H: Serialize + ?Sized>(header: &H, tail: &[u8]) -> Result<Vec<u8>, PackError> {
    let mut buf = write_header(header, tail.len())?;
    // Only reallocates if the header outgrew the guessed room.
    buf.reserve_exact(tail.len());
    buf.extend_from_slice(tail);
    Ok(buf)
}

/// Writes prefix + JSON, leaving room for `tail_len` more bytes.
fn write_header<H: Serialize + ?Sized>(header: &H, tail_len: usize) -> Result<Vec<u8>, PackError> {
    // Headers are small; a guess avoids most regrowth while writing them.
    let mut buf = Vec::with_capacity(LEN_PREFIX + 256 + tail_len);
    buf.extend_from_slice(&[0; LEN_PREFIX]);
    serde_json::to_writer(&mut buf, header).map_err(PackError::Encode)?;
    // serde_json writes no leading whitespace, so an object starts right here.
    if buf.get(LEN_PREFIX) != Some(&b'{') {
        return Err(PackError::HeaderNotObject);
    }
    let json_len = (buf.len() - LEN_PREFIX) as u64;
    buf[..LEN_PREFIX].copy_from_slice(&json_len.to_be_bytes());
    Ok(buf)
}

/// Splits a packed message; the tail is a zero-copy slice of `data`; removes
/// [`MESHAGENT_KEY`] from the header.
pub fn unpack(data: Bytes) -> Result<Packed, PackError> {
    let json_end = header_end(&data)?;
    let json = &data[LEN_PREFIX..json_end];
    check_object(json)?;
    let mut header: Map<String, Value> = serde_json::from_slice(json).map_err(json_error)?;
    // `shift_remove` keeps the remaining keys in wire order.
    header.shift_remove(MESHAGENT_KEY);
    Ok(Packed {
        header,
        tail: data.slice(json_end..),
    })
}

/// Like [`unpack`] but deserializes the header straight into `T`, for typed
/// fast paths; the tail is a zero-copy slice of `data`.
///
/// [`MESHAGENT_KEY`] is not removed but simply ignored, as serde ignores
/// unknown fields by default. A `T` with `#[serde(deny_unknown_fields)]`
/// therefore rejects headers packed by the Python SDK; don't use that
/// attribute on header types.
pub fn unpack_as<T: DeserializeOwned>(data: &Bytes) -> Result<(T, Bytes), PackError> {
    let json_end = header_end(data)?;
    let json = &data[LEN_PREFIX..json_end];
    // Checked first because serde also accepts a JSON array for a struct.
    check_object(json)?;
    let header = serde_json::from_slice(json).map_err(json_error)?;
    Ok((header, data.slice(json_end..)))
}

/// Returns the end offset of the JSON header in `data`.
fn header_end(data: &[u8]) -> Result<usize, PackError> {
    let Some((len, rest)) = data.split_first_chunk::<LEN_PREFIX>() else {
        return Err(PackError::Truncated { len: data.len() });
    };
    let declared = u64::from_be_bytes(*len);
    match usize::try_from(declared) {
        Ok(json_len) if json_len <= rest.len() => Ok(LEN_PREFIX + json_len),
        _ => Err(PackError::HeaderLengthBeyondPayload {
            declared,
            available: rest.len(),
        }),
    }
}

/// Cheaply checks that `json` starts an object; if it does not, parses it only
/// to tell "other JSON value" from "not JSON at all".
fn check_object(json: &[u8]) -> Result<(), PackError> {
    if json.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
        return Ok(());
    }
    match serde_json::from_slice::<IgnoredAny>(json) {
        Ok(_) => Err(PackError::HeaderNotObject),
        Err(err) => Err(PackError::HeaderNotJson(err)),
    }
}

/// Maps a decoding error: a shape mismatch is distinct from broken JSON.
fn json_error(err: serde_json::Error) -> PackError {
    match err.classify() {
        serde_json::error::Category::Data => PackError::HeaderMismatch(err),
        _ => PackError::HeaderNotJson(err),
    }
}
