//! The protocol version a connection speaks, decided from its upgrade request.

/// What differs on the server side between the protocol versions.
///
/// Decided per connection, unless the server forces one ([`crate::ProtocolChoice`]):
/// a `v` query parameter of 0.47 or later (Python 0.56 and the Rust client's 0.56 build
/// send `v=0.56.0`) means [`Dialect::V0_56`]; an older `v` (Python 0.35.8 sends `v=0.35.8`)
/// or none (both TypeScript SDKs, 0.35.8 and 0.39.9, send none and still await chunk
/// acknowledgements) means [`Dialect::V0_35_8`]. The token is accepted from either place
/// (`Authorization: Bearer` or `?token=`) in both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// 0.35.8 transport: every `room.tool_call_request_chunk` is a request and is answered.
    V0_35_8,
    /// 0.56 transport: request chunks are one-way; `storage.file.moved` is pushed.
    V0_56,
}

impl Dialect {
    /// The dialect a `v` query parameter names (`None`: no `v`).
    pub fn from_version(v: Option<&str>) -> Dialect {
        let Some(v) = v else {
            return Dialect::V0_35_8;
        };
        let mut parts = v.trim().split('.').map(|p| p.parse::<u64>().ok());
        match (parts.next().flatten(), parts.next().flatten()) {
            (Some(0), Some(minor)) if minor < 47 => Dialect::V0_35_8,
            (Some(_), Some(_)) => Dialect::V0_56,
            // An unparsable version: the current protocol.
            _ => Dialect::V0_56,
        }
    }

    /// Whether request chunks get a `__response__`.
    pub fn acks_request_chunks(self) -> bool {
        self == Dialect::V0_35_8
    }

    /// Whether the client knows the `storage.file.moved` event.
    pub fn has_moved_event(self) -> bool {
        self == Dialect::V0_56
    }
}

#[cfg(test)]
mod tests {
    use super::Dialect;

    #[test]
    fn versions_map_to_dialects() {
        assert_eq!(Dialect::from_version(None), Dialect::V0_35_8);
        assert_eq!(Dialect::from_version(Some("0.35.8")), Dialect::V0_35_8);
        assert_eq!(Dialect::from_version(Some("0.46.9")), Dialect::V0_35_8);
        assert_eq!(Dialect::from_version(Some("0.47.0")), Dialect::V0_56);
        assert_eq!(Dialect::from_version(Some("0.56.0")), Dialect::V0_56);
        assert_eq!(Dialect::from_version(Some("1.2")), Dialect::V0_56);
    }
}
