//! Small value types used by generated structs.

use base64::Engine;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An ISO-8601 timestamp: the server's text, kept and sent back as it came (the SDKs
/// differ in how they print fractions and zones), and the instant it names when the text
/// is RFC 3339 ([`Timestamp::instant`]). Equality and order are the text's.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Timestamp {
    text: String,
}

impl Timestamp {
    /// The timestamp text, as sent.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The instant, when the text is RFC 3339 (with a zone); `None` for other text, e.g. a
    /// zoneless ISO-8601 time, whose zone only the sender knows.
    pub fn instant(&self) -> Option<time::OffsetDateTime> {
        time::OffsetDateTime::parse(&self.text, &time::format_description::well_known::Rfc3339).ok()
    }
}

impl std::fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.text, f)
    }
}

impl std::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(|text| Timestamp { text })
    }
}

impl From<time::OffsetDateTime> for Timestamp {
    /// The instant as RFC 3339 text (UTC offset kept).
    fn from(t: time::OffsetDateTime) -> Timestamp {
        let text = t
            .format(&time::format_description::well_known::Rfc3339)
            // Only years outside 0..=9999 fail to format; keep a readable text then.
            .unwrap_or_else(|_| t.to_string());
        Timestamp { text }
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
    fn from(text: String) -> Timestamp {
        Timestamp { text }
    }
}

impl From<&str> for Timestamp {
    fn from(s: &str) -> Timestamp {
        Timestamp::from(s.to_string())
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

    #[test]
    fn timestamps_keep_their_text_and_name_their_instant() {
        for text in ["2026-12-06T01:02:03.123456+00:00", "2026-12-06T01:02:03Z"] {
            let t: Timestamp = serde_json::from_value(serde_json::json!(text)).expect("a string");
            assert_eq!(serde_json::to_value(&t).ok(), Some(serde_json::json!(text)));
            let instant = t.instant().expect("RFC 3339");
            assert_eq!(
                (instant.hour(), instant.minute(), instant.second()),
                (1, 2, 3)
            );
        }
        // Zoneless text (Python's naive isoformat) is kept, but names no instant.
        let naive = Timestamp::from("2026-12-06T01:02:03");
        assert_eq!(naive.as_str(), "2026-12-06T01:02:03");
        assert_eq!(naive.instant(), None);
        let from_instant = Timestamp::from(time::OffsetDateTime::UNIX_EPOCH);
        assert_eq!(from_instant.as_str(), "1970-01-01T00:00:00Z");
        assert!(serde_json::from_value::<Timestamp>(serde_json::json!(5)).is_err());
    }
}
