//! Small value types used by generated structs.

use base64::Engine;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An ISO-8601 timestamp as the server sent it (kept as text so nothing is lost;
/// the SDKs differ in how they print fractions and zones).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub String);

impl Timestamp {
    /// The timestamp text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Bytes carried in JSON as standard padded base64.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Base64Bytes(pub Vec<u8>);

impl From<Vec<u8>> for Base64Bytes {
    fn from(v: Vec<u8>) -> Base64Bytes {
        Base64Bytes(v)
    }
}

impl From<&[u8]> for Base64Bytes {
    fn from(v: &[u8]) -> Base64Bytes {
        Base64Bytes(v.to_vec())
    }
}

impl From<String> for Timestamp {
    fn from(s: String) -> Timestamp {
        Timestamp(s)
    }
}

impl From<&str> for Timestamp {
    fn from(s: &str) -> Timestamp {
        Timestamp(s.to_string())
    }
}

impl From<Base64Bytes> for bytes::Bytes {
    fn from(b: Base64Bytes) -> bytes::Bytes {
        b.0.into()
    }
}

impl Serialize for Base64Bytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Base64Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(text.as_bytes())
            .map(Base64Bytes)
            .map_err(serde::de::Error::custom)
    }
}

/// A pushed packet the client has no typed event for, kept as received.
#[derive(Debug, Clone, PartialEq)]
pub struct UnknownPacket {
    /// The wire packet type.
    pub packet_type: String,
    /// The packet's JSON header (without the Python SDK's `__meshagent__` key).
    pub header: serde_json::Map<String, serde_json::Value>,
    /// The packet's binary tail.
    pub tail: bytes::Bytes,
}

/// A value carried on the wire as JSON text inside a JSON string (the SDKs' `*_json`
/// fields, e.g. `message_json`); typed on the Rust side.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct JsonString<T>(pub T);

impl<T> std::ops::Deref for JsonString<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> From<T> for JsonString<T> {
    fn from(value: T) -> Self {
        JsonString(value)
    }
}

impl<T: Serialize> Serialize for JsonString<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let text = serde_json::to_string(&self.0).map_err(serde::ser::Error::custom)?;
        s.serialize_str(&text)
    }
}

impl<'de, T: serde::de::DeserializeOwned> Deserialize<'de> for JsonString<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        serde_json::from_str(&text)
            .map(JsonString)
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_and_base64_round_trip() {
        let v = JsonString(serde_json::json!({"a": [1, "é"]}));
        let wire = serde_json::to_value(&v).expect("serializes");
        assert_eq!(wire, serde_json::json!("{\"a\":[1,\"é\"]}"));
        assert_eq!(
            serde_json::from_value::<JsonString<serde_json::Value>>(wire).ok(),
            Some(v)
        );
        assert!(
            serde_json::from_value::<JsonString<serde_json::Value>>(serde_json::json!("{oops"))
                .is_err()
        );
        let b = Base64Bytes(vec![0, 1, 2, 255]);
        let wire = serde_json::to_value(&b).expect("serializes");
        assert_eq!(wire, serde_json::json!("AAEC/w=="));
        assert_eq!(serde_json::from_value::<Base64Bytes>(wire).ok(), Some(b));
        assert!(serde_json::from_value::<Base64Bytes>(serde_json::json!("not base64!")).is_err());
    }
}
