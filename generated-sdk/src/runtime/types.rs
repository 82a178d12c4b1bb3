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
