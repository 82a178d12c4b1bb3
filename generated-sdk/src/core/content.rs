//! Content: a JSON header with a `type` plus an optional binary tail.

use bytes::Bytes;
use serde_json::{Map, Value};

use crate::core::error::{Error, Result};

/// Status code of a normal stream close.
pub(crate) const CLOSE_NORMAL: i64 = 1000;

/// A value carried by requests, replies and stream chunks.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Content {
    /// `json`: a JSON value.
    Json(Value),
    /// `text`: a string.
    Text(String),
    /// `file`: a named file with its bytes.
    File(FileContent),
    /// `binary`: bytes with free-form headers.
    Binary {
        /// Free-form headers (`{}` when the wire has none).
        headers: Map<String, Value>,
        /// The bytes.
        data: Bytes,
    },
    /// `empty`: no value.
    Empty,
    /// `error`: a failure.
    Error {
        /// The message.
        text: String,
        /// The numeric code, when present.
        code: Option<i64>,
    },
    /// `link`: a named URL.
    Link {
        /// Display name.
        name: String,
        /// The URL.
        url: String,
    },
    /// `raw`: raw model outputs (Python SDK only).
    Raw {
        /// The outputs.
        outputs: Vec<Value>,
    },
    /// `control`: stream control.
    Control(Control),
}

/// A file: name, MIME type and bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileContent {
    /// File name.
    pub name: String,
    /// MIME type.
    pub mime_type: String,
    /// The bytes.
    pub data: Bytes,
}

/// As JSON, a file is its content header plus `data` in base64 (how the conformance
/// recordings write a file result).
impl serde::Serialize for FileContent {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use base64::Engine;
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(4))?;
        m.serialize_entry("type", "file")?;
        m.serialize_entry("name", &self.name)?;
        m.serialize_entry("mime_type", &self.mime_type)?;
        m.serialize_entry(
            "data",
            &base64::engine::general_purpose::STANDARD.encode(&self.data),
        )?;
        m.end()
    }
}

/// Stream control messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Control {
    /// The stream is open (the reply to a streaming invoke).
    Open,
    /// The stream ends; `status_code` 1000 is normal.
    Close {
        /// Close status; 1000 normal, anything else abnormal.
        status_code: i64,
        /// Optional reason.
        message: Option<String>,
    },
}

impl Content {
    /// The wire `type` of this content.
    pub fn type_name(&self) -> &'static str {
        match self {
            Content::Json(_) => "json",
            Content::Text(_) => "text",
            Content::File(_) => "file",
            Content::Binary { .. } => "binary",
            Content::Empty => "empty",
            Content::Error { .. } => "error",
            Content::Link { .. } => "link",
            Content::Raw { .. } => "raw",
            Content::Control(_) => "control",
        }
    }

    /// The JSON header (with `type`), as the SDKs write it.
    pub fn header(&self) -> Value {
        let mut m = Map::new();
        m.insert("type".into(), self.type_name().into());
        match self {
            Content::Json(v) => {
                m.insert("json".into(), v.clone());
            }
            Content::Text(t) => {
                m.insert("text".into(), t.as_str().into());
            }
            Content::File(f) => {
                m.insert("name".into(), f.name.as_str().into());
                m.insert("mime_type".into(), f.mime_type.as_str().into());
            }
            Content::Binary { headers, .. } => {
                m.insert("headers".into(), Value::Object(headers.clone()));
            }
            Content::Empty => {}
            Content::Error { text, code } => {
                m.insert("text".into(), text.as_str().into());
                if let Some(c) = code {
                    m.insert("code".into(), (*c).into());
                }
            }
            Content::Link { name, url } => {
                m.insert("name".into(), name.as_str().into());
                m.insert("url".into(), url.as_str().into());
            }
            Content::Raw { outputs } => {
                m.insert("outputs".into(), Value::Array(outputs.clone()));
            }
            Content::Control(Control::Open) => {
                m.insert("method".into(), "open".into());
            }
            Content::Control(Control::Close {
                status_code,
                message,
            }) => {
                m.insert("method".into(), "close".into());
                m.insert("status_code".into(), (*status_code).into());
                if let Some(msg) = message {
                    m.insert("message".into(), msg.as_str().into());
                }
            }
        }
        Value::Object(m)
    }

    /// The bytes that travel in the message tail (empty for contents without one).
    pub fn tail(&self) -> &[u8] {
        match self {
            Content::File(f) => &f.data,
            Content::Binary { data, .. } => data,
            _ => &[],
        }
    }

    /// Decodes a content from its header and tail. Unknown types and missing required
    /// fields are errors, never panics.
    pub fn from_parts(mut header: Map<String, Value>, tail: Bytes) -> Result<Content> {
        let ty = match header.remove("type") {
            Some(Value::String(t)) => t,
            Some(other) => return Err(bad(format!("`type` must be a string, got {other}"))),
            None => return Err(bad("content header is missing required 'type'".into())),
        };
        Ok(match ty.as_str() {
            "json" => Content::Json(take(&mut header, "json", &ty)?),
            "text" => Content::Text(take_str(&mut header, "text", &ty)?),
            "file" => Content::File(FileContent {
                name: take_str(&mut header, "name", &ty)?,
                mime_type: take_str(&mut header, "mime_type", &ty)?,
                data: tail,
            }),
            "binary" => Content::Binary {
                headers: match header.remove("headers") {
                    Some(Value::Object(h)) => h,
                    // Both SDKs turn anything else into `{}`.
                    _ => Map::new(),
                },
                data: tail,
            },
            "empty" => Content::Empty,
            "error" => Content::Error {
                text: take_str(&mut header, "text", &ty)?,
                code: header.remove("code").and_then(|c| lenient_code(&c)),
            },
            "link" => Content::Link {
                name: take_str(&mut header, "name", &ty)?,
                url: take_str(&mut header, "url", &ty)?,
            },
            "raw" => match take(&mut header, "outputs", &ty)? {
                Value::Array(outputs) => Content::Raw { outputs },
                other => return Err(bad(format!("raw `outputs` must be a list, got {other}"))),
            },
            "control" => Content::Control(match take_str(&mut header, "method", &ty)?.as_str() {
                "open" => Control::Open,
                "close" => Control::Close {
                    status_code: header
                        .get("status_code")
                        .and_then(Value::as_i64)
                        .unwrap_or(CLOSE_NORMAL),
                    message: header
                        .get("message")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                },
                other => return Err(bad(format!("unknown control method `{other}`"))),
            }),
            other => return Err(bad(format!("unsupported content type: {other}"))),
        })
    }
}

/// The SDKs accept an int, or a numeric string; anything else means "no code".
fn lenient_code(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn bad(msg: String) -> Error {
    Error::Content(crate::core::error::bounded(msg))
}

fn take(header: &mut Map<String, Value>, key: &str, ty: &str) -> Result<Value> {
    header
        .remove(key)
        .ok_or_else(|| bad(format!("`{ty}` content is missing `{key}`")))
}

fn take_str(header: &mut Map<String, Value>, key: &str, ty: &str) -> Result<String> {
    match take(header, key, ty)? {
        Value::String(s) => Ok(s),
        other => Err(bad(format!(
            "`{ty}` content `{key}` must be a string, got {other}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn round_trip(c: Content) {
        let Value::Object(h) = c.header() else {
            panic!("header is an object")
        };
        let tail = Bytes::copy_from_slice(c.tail());
        assert_eq!(Content::from_parts(h, tail).ok(), Some(c));
    }

    #[test]
    fn every_content_type_round_trips() {
        round_trip(Content::Json(json!({"a": [1, 2]})));
        round_trip(Content::Text("héllo".into()));
        round_trip(Content::File(FileContent {
            name: "a.bin".into(),
            mime_type: "application/octet-stream".into(),
            data: Bytes::from_static(b"\0\x01"),
        }));
        round_trip(Content::Binary {
            headers: json!({"kind": "data"})
                .as_object()
                .cloned()
                .unwrap_or_default(),
            data: Bytes::from_static(b"xyz"),
        });
        round_trip(Content::Empty);
        round_trip(Content::Error {
            text: "nope".into(),
            code: Some(3001),
        });
        round_trip(Content::Error {
            text: "nope".into(),
            code: None,
        });
        round_trip(Content::Link {
            name: "n".into(),
            url: "https://x".into(),
        });
        round_trip(Content::Raw {
            outputs: vec![json!({"o": 1})],
        });
        round_trip(Content::Control(Control::Open));
        round_trip(Content::Control(Control::Close {
            status_code: 1007,
            message: Some("bad".into()),
        }));
    }

    fn parse(v: Value) -> Result<Content> {
        Content::from_parts(v.as_object().cloned().unwrap_or_default(), Bytes::new())
    }

    #[test]
    fn lenient_error_codes_like_the_sdks() {
        let c = parse(json!({"type": "error", "text": "x", "code": "3001"}));
        assert_eq!(
            c.ok(),
            Some(Content::Error {
                text: "x".into(),
                code: Some(3001)
            })
        );
        let c = parse(json!({"type": "error", "text": "x", "code": true}));
        assert_eq!(
            c.ok(),
            Some(Content::Error {
                text: "x".into(),
                code: None
            })
        );
    }

    #[test]
    fn bad_headers_are_typed_errors() {
        for v in [
            json!({}),
            json!({"type": 5}),
            json!({"type": "nope"}),
            json!({"type": "json"}),
            json!({"type": "text", "text": 1}),
            json!({"type": "control", "method": "pause"}),
            json!({"type": "raw", "outputs": {}}),
        ] {
            assert!(matches!(parse(v.clone()), Err(Error::Content(_))), "{v}");
        }
        // A close without a status is a normal close, as both SDKs default it.
        assert_eq!(
            parse(json!({"type": "control", "method": "close"})).ok(),
            Some(Content::Control(Control::Close {
                status_code: 1000,
                message: None
            }))
        );
    }
}
