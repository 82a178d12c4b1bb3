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
///
/// # Errors
///
/// [`PackError::Encode`] if serialization fails, [`PackError::HeaderNotObject`]
/// if `header` is not serialized as a JSON object.
pub fn pack_header<H: Serialize + ?Sized>(header: &H) -> Result<Vec<u8>, PackError> {
    write_header(header, 0)
}

/// [`pack_header`] + `tail` in one buffer.
///
/// # Errors
///
/// As [`pack_header`].
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
///
/// # Errors
///
/// [`PackError::Truncated`] or [`PackError::HeaderLengthBeyondPayload`] if
/// the framing is broken, [`PackError::HeaderNotJson`] or
/// [`PackError::HeaderNotObject`] if the header is not a JSON object.
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
///
/// # Errors
///
/// As [`unpack`], plus [`PackError::HeaderMismatch`] if the header object
/// does not deserialize into `T`.
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
/// serde quotes values it could not use; the kept error is cut to an excerpt.
fn json_error(err: serde_json::Error) -> PackError {
    match err.classify() {
        serde_json::error::Category::Data => {
            PackError::HeaderMismatch(crate::core::error::bounded_serde(err))
        }
        _ => PackError::HeaderNotJson(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    /// Builds a packed message by hand from raw JSON text.
    fn raw(json: &str, tail: &[u8]) -> Bytes {
        let len = (json.len() as u64).to_be_bytes();
        [&len[..], json.as_bytes(), tail].concat().into()
    }

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            other => panic!("not an object: {other}"),
        }
    }

    #[test]
    fn round_trips_with_tail() {
        let header = json!({ "type": "write", "path": "a.bin", "n": 3 });
        let data = Bytes::from(pack(&header, b"\x00\x01tail").unwrap());
        let packed = unpack(data.clone()).unwrap();
        assert_eq!(packed.header, object(header));
        assert_eq!(packed.tail, &b"\x00\x01tail"[..]);
        // Zero-copy: the tail points into the input.
        assert_eq!(packed.tail.as_ptr(), data[data.len() - 6..].as_ptr());
    }

    #[test]
    fn round_trips_with_empty_tail() {
        let header = json!({ "a": [1, 2], "b": null });
        let data = pack_header(&header).unwrap();
        assert_eq!(pack(&header, &[]).unwrap(), data);
        assert_eq!(&data[..8], &(data.len() as u64 - 8).to_be_bytes());
        let packed = unpack(data.into()).unwrap();
        assert_eq!(packed.header, object(header));
        assert!(packed.tail.is_empty());
    }

    #[test]
    fn packs_the_exact_layout() {
        let data = pack(&json!({ "k": 1 }), b"T").unwrap();
        assert_eq!(data, b"\0\0\0\0\0\0\0\x07{\"k\":1}T");
    }

    #[test]
    fn meshagent_key_is_removed_and_order_kept() {
        let data = raw(r#"{"a":1,"__meshagent__":{"trace":"x"},"b":2}"#, b"");
        let packed = unpack(data).unwrap();
        let keys: Vec<&str> = packed.header.keys().map(String::as_str).collect();
        assert_eq!(keys, ["a", "b"]);
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Typed {
        a: u32,
        b: String,
    }

    #[test]
    fn unpack_as_ignores_meshagent_key() {
        let data = raw(r#"{"a":1,"__meshagent__":{},"b":"x"}"#, b"tail");
        let (typed, tail) = unpack_as::<Typed>(&data).unwrap();
        assert_eq!(
            typed,
            Typed {
                a: 1,
                b: "x".into()
            }
        );
        assert_eq!(tail, &b"tail"[..]);
    }

    #[test]
    fn unpack_as_reports_shape_mismatch_and_arrays() {
        let err = unpack_as::<Typed>(&raw(r#"{"a":"no"}"#, b"")).unwrap_err();
        assert!(matches!(err, PackError::HeaderMismatch(_)), "{err:?}");
        // serde would accept this array as a `Typed`; the wire format does not.
        let err = unpack_as::<Typed>(&raw(r#"[1,"x"]"#, b"")).unwrap_err();
        assert!(matches!(err, PackError::HeaderNotObject), "{err:?}");
    }

    #[test]
    fn compact_and_python_style_json_are_accepted() {
        let compact = unpack(raw(r#"{"a":1,"b":[1,2]}"#, b"")).unwrap();
        let python = unpack(raw(r#"{"a": 1, "b": [1, 2]}"#, b"")).unwrap();
        assert_eq!(compact, python);
        assert!(unpack(raw(" \n{ }", b"")).unwrap().header.is_empty());
    }

    #[test]
    fn truncated_message_is_rejected() {
        for len in 0..8 {
            let err = unpack(Bytes::from(vec![0; len])).unwrap_err();
            assert!(
                matches!(err, PackError::Truncated { len: l } if l == len),
                "{err:?}"
            );
        }
    }

    #[test]
    fn header_length_beyond_payload_is_rejected() {
        let mut data = raw("{}", b"");
        let err = unpack(data.split_to(9)).unwrap_err();
        assert!(
            matches!(
                err,
                PackError::HeaderLengthBeyondPayload {
                    declared: 2,
                    available: 1
                }
            ),
            "{err:?}"
        );
        let huge = [&u64::MAX.to_be_bytes()[..], b"{}"].concat();
        let err = unpack(huge.into()).unwrap_err();
        assert!(
            matches!(
                err,
                PackError::HeaderLengthBeyondPayload {
                    declared: u64::MAX,
                    available: 2
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn non_json_header_is_rejected() {
        for json in ["nope", "{\"a\":", "\u{0}", ""] {
            let err = unpack(raw(json, b"")).unwrap_err();
            assert!(
                matches!(err, PackError::HeaderNotJson(_)),
                "{json:?}: {err:?}"
            );
            assert_eq!(err.to_string(), "packed message header is not valid JSON");
        }
        let err = unpack(Bytes::from(b"\0\0\0\0\0\0\0\x02\xff\xfe".to_vec())).unwrap_err();
        assert!(matches!(err, PackError::HeaderNotJson(_)), "{err:?}");
    }

    #[test]
    fn non_object_header_is_rejected() {
        for json in ["[1,2]", "\"s\"", "3", "null"] {
            let err = unpack(raw(json, b"")).unwrap_err();
            assert!(matches!(err, PackError::HeaderNotObject), "{json}: {err:?}");
        }
        for header in [json!([1]), json!("s"), json!(null)] {
            assert!(matches!(
                pack_header(&header),
                Err(PackError::HeaderNotObject)
            ));
        }
    }

    #[test]
    fn unserializable_header_is_reported() {
        // JSON object keys must be strings.
        let header = std::collections::BTreeMap::from([((1, 2), 3)]);
        assert!(matches!(pack_header(&header), Err(PackError::Encode(_))));
    }
}
