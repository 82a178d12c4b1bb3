//! The one error type of the SDK.

use std::time::Duration;

use crate::core::framing::FramingError;
use crate::core::packing::PackError;
use crate::ErrorCode;

/// Result of SDK calls.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong talking to a room, as one flat enum.
///
/// A server error keeps the server's numeric code ([`Error::code`]); known codes map to
/// [`ErrorCode`] with [`Error::error_code`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with an `error` content.
    #[error("server error{}: {text}", code.map(|c| format!(" {c}")).unwrap_or_default())]
    Server {
        /// The server's error code, when it sent one.
        code: Option<i64>,
        /// The server's message.
        text: String,
    },
    /// The server answered with a content the tool does not return (the SDKs' code 1100).
    #[error("unexpected reply from {tool}: {detail}")]
    UnexpectedResponse {
        /// `toolkit.tool` (or the packet type) that was answered.
        tool: String,
        /// What was wrong with the reply.
        detail: String,
    },
    /// A content header that could not be decoded.
    #[error("malformed content: {0}")]
    Content(String),
    /// The server closed a stream with a status other than 1000.
    #[error("stream closed abnormally ({status_code}){}", message.as_ref().map(|m| format!(": {m}")).unwrap_or_default())]
    StreamClosed {
        /// The close status.
        status_code: i64,
        /// The server's reason, if any.
        message: Option<String>,
    },
    /// The connection is closed; every pending call fails with this.
    #[error("connection closed: {reason}")]
    Closed {
        /// Why the connection closed.
        reason: String,
    },
    /// Opening the connection failed (the URL's token is never included).
    #[error("cannot connect to {url}: {reason}")]
    Connect {
        /// The room URL without its query string.
        url: String,
        /// Why it failed.
        reason: String,
    },
    /// The websocket failed.
    #[error("transport error: {0}")]
    Transport(String),
    /// A packet could not be reassembled.
    #[error(transparent)]
    Framing(#[from] FramingError),
    /// A message could not be packed or unpacked.
    #[error(transparent)]
    Pack(#[from] PackError),
    /// Waiting took longer than allowed.
    #[error("timed out after {0:?} waiting for {1}")]
    Timeout(Duration, &'static str),
    /// Arguments that do not fit a method (from [`crate::RoomClient::dispatch`]).
    #[error("invalid arguments: {0}")]
    InvalidArguments(String),
    /// A URL could not be built.
    #[error("invalid url: {0}")]
    Url(String),
}

impl Error {
    /// The numeric code of a server error.
    pub fn code(&self) -> Option<i64> {
        match self {
            Error::Server { code, .. } => *code,
            _ => None,
        }
    }

    /// The known [`ErrorCode`] of a server error.
    pub fn error_code(&self) -> Option<ErrorCode> {
        self.code().and_then(ErrorCode::from_code)
    }

    pub(crate) fn unexpected(tool: &str, detail: impl Into<String>) -> Error {
        Error::UnexpectedResponse {
            tool: tool.to_string(),
            detail: detail.into(),
        }
    }
}
