//! The one error type of the SDK. It keeps the server's error code and wraps the lower
//! layers' errors (framing, packing, transport, serde, local I/O) as its `source()`.

use std::time::Duration;

use crate::core::framing::FramingError;
use crate::core::packing::PackError;
use crate::core::transport::TransportError;
use crate::ErrorCode;

/// Longest excerpt of server data an error's text keeps (about 200 bytes); a longer one (a
/// reply's payload, a server message) is cut, so a large or hostile reply never ends up whole
/// in logs.
const DETAIL_LIMIT: usize = 200;

/// `detail`, cut to [`DETAIL_LIMIT`] bytes (at a character boundary) with a marker.
pub(crate) fn bounded(mut detail: String) -> String {
    if detail.len() > DETAIL_LIMIT {
        let total = detail.len();
        let mut cut = DETAIL_LIMIT;
        while !detail.is_char_boundary(cut) {
            cut -= 1;
        }
        detail.truncate(cut);
        detail.push_str(&format!("... ({total} bytes)"));
    }
    detail
}

/// A serde error whose message quotes more than [`DETAIL_LIMIT`] bytes of the input (serde
/// echoes strings it could not use) is replaced by one with the message cut; a short one is
/// kept as it is (with its category and position).
pub(crate) fn bounded_serde(err: serde_json::Error) -> serde_json::Error {
    let text = err.to_string();
    if text.len() <= DETAIL_LIMIT {
        return err;
    }
    <serde_json::Error as serde::de::Error>::custom(bounded(text))
}

/// Result of SDK calls.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong talking to a room, as one enum.
///
/// A server error keeps the server's numeric code ([`Error::code`]); known codes map to
/// [`ErrorCode`] with [`Error::error_code`]. Errors of the layers below (transport, framing,
/// packing, serde, local I/O) are kept whole: [`std::error::Error::source`] returns them.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with an `error` content.
    #[error("server error{}{}: {text}", code.map(|c| format!(" {c}")).unwrap_or_default(), tool.as_ref().map(|t| format!(" from {t}")).unwrap_or_default())]
    Server {
        /// The server's error code, when it sent one.
        code: Option<i64>,
        /// The server's message (cut to about 200 bytes).
        text: String,
        /// `toolkit.tool` of the call that failed, when the error answers a tool call
        /// (`room.invoke` and every generated method; streams name theirs too).
        tool: Option<String>,
    },
    /// The server answered with a content the tool does not return (the SDKs' code 1100).
    #[error("unexpected reply from {tool}: {detail}")]
    UnexpectedResponse {
        /// `toolkit.tool` (or the packet type) that was answered.
        tool: String,
        /// What was wrong with the reply (payload previews are cut short).
        detail: String,
        /// The decoding error, when the reply's JSON did not match the spec.
        #[source]
        source: Option<serde_json::Error>,
    },
    /// A content header that could not be decoded.
    #[error("malformed content: {0}")]
    Content(String),
    /// The server closed a stream with a status other than 1000 (its message cut to about
    /// 200 bytes).
    #[error("stream closed abnormally ({status_code}){}", message.as_ref().map(|m| format!(": {m}")).unwrap_or_default())]
    StreamClosed {
        /// The close status.
        status_code: i64,
        /// The server's reason, if any.
        message: Option<String>,
    },
    /// A stream's server sent more than the client buffers ahead of its pulls (a flow
    /// paced by pulls, e.g. a download): the stream is failed and its buffer freed; the
    /// connection goes on.
    #[error("{tool}: the server sent more than {limit} bytes ahead of the client's pulls")]
    Overflow {
        /// `toolkit.tool` of the stream.
        tool: String,
        /// The stream buffer's size (`ConnectOptions::stream_buffer`).
        limit: usize,
    },
    /// The connection was lost while this call was in flight. The room may or may not have
    /// seen the call; the client never re-sends it. Retryable: later calls wait for the
    /// reconnection ([`Error::is_retryable`]).
    #[error("connection lost: {reason}")]
    Disconnected {
        /// Why the connection was lost.
        reason: String,
    },
    /// The connection is closed for good; every pending call fails with this.
    #[error("connection closed: {reason}")]
    Closed {
        /// Why the connection closed.
        reason: String,
    },
    /// Opening the connection failed (the URL's token is never included).
    #[error("cannot connect to {url}: {source}")]
    Connect {
        /// The room URL without its query string.
        url: String,
        /// Why it failed (the websocket's error, and beneath it the I/O error).
        #[source]
        source: TransportError,
    },
    /// The transport failed.
    #[error("transport error: {0}")]
    Transport(#[from] TransportError),
    /// Local I/O failed: an upload's source, a download's destination.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: &'static str,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
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
    /// The environment does not say how to join a room ([`crate::RoomClient::from_env`]);
    /// the message names the variables to set.
    #[error("cannot join from the environment: {0}")]
    Environment(String),
    /// A participant token or API key was refused (the error never holds the secret).
    #[cfg(feature = "tokens")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tokens")))]
    #[error(transparent)]
    Token(#[from] TokenError),
}

/// Why a participant token or an API key was refused (`meshagent_room::auth`, feature
/// `tokens`). No variant carries a secret, a key or a token.
#[cfg(feature = "tokens")]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The API key is not in the `ma-<key id>-<project id>-<secret>` form (which part).
    #[error("malformed API key: {0}")]
    ApiKey(&'static str),
    /// The text is not an HS256 JWT (its shape, base64 or header).
    #[error("malformed token: {0}")]
    Malformed(String),
    /// The signature does not match the secret.
    #[error("the token's signature does not match")]
    BadSignature,
    /// The token's `exp` has passed.
    #[error("the token has expired")]
    Expired,
    /// The token's `nbf` is still to come.
    #[error("the token is not valid yet")]
    NotYetValid,
    /// A claim a participant token needs (`name`, `grants`) is missing.
    #[error("the token has no `{0}` claim")]
    MissingClaim(&'static str),
    /// A claim has the wrong shape.
    #[error("the token's `{0}` claim is {1}")]
    InvalidClaim(&'static str, &'static str),
    /// The claims could not be read or written as JSON (the message is cut short).
    #[error("the token's claims: {0}")]
    Claims(String),
    /// Signing failed.
    #[error("cannot sign the token: {0}")]
    Sign(String),
}

impl Error {
    /// The numeric code of a server error.
    pub fn code(&self) -> Option<i64> {
        match self {
            Error::Server { code, .. } => *code,
            _ => None,
        }
    }

    /// Whether trying again may succeed: the connection was lost mid-call
    /// ([`Error::Disconnected`]), a wait timed out, or the transport failed. The caller
    /// decides: a call that is not idempotent may have taken effect.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Error::Disconnected { .. }
                | Error::Timeout(..)
                | Error::Transport(_)
                | Error::Connect { .. }
        )
    }

    /// The known [`ErrorCode`] of a server error.
    pub fn error_code(&self) -> Option<ErrorCode> {
        self.code().and_then(ErrorCode::from_code)
    }

    /// A copy of this error for a second receiver (`Error` is not `Clone`: io, websocket
    /// and serde causes are not). Variants with plain data are copied as they are; the
    /// others become [`Error::Transport`] with the original's message.
    #[cfg(any(feature = "containers", feature = "sync-doc"))] // exec sessions, sync documents
    pub(crate) fn replicate(&self) -> Error {
        match self {
            Error::Server { code, text, tool } => Error::Server {
                code: *code,
                text: text.clone(),
                tool: tool.clone(),
            },
            Error::UnexpectedResponse { tool, detail, .. } => {
                Error::unexpected(tool, detail.clone())
            }
            Error::StreamClosed {
                status_code,
                message,
            } => Error::StreamClosed {
                status_code: *status_code,
                message: message.clone(),
            },
            Error::Closed { reason } => Error::Closed {
                reason: reason.clone(),
            },
            Error::Disconnected { reason } => Error::Disconnected {
                reason: reason.clone(),
            },
            Error::Overflow { tool, limit } => Error::Overflow {
                tool: tool.clone(),
                limit: *limit,
            },
            Error::InvalidArguments(s) => Error::InvalidArguments(s.clone()),
            Error::Timeout(d, what) => Error::Timeout(*d, what),
            other => Error::Transport(TransportError::new(other.to_string())),
        }
    }

    /// A server's `error` reply, its text cut to [`DETAIL_LIMIT`].
    pub(crate) fn server(code: Option<i64>, text: String) -> Error {
        Error::Server {
            code,
            text: bounded(text),
            tool: None,
        }
    }

    /// This error, naming `toolkit.tool` if it is a server error that names no call yet.
    /// Called only on the error path, so a call's success costs nothing.
    pub(crate) fn in_tool(self, toolkit: &str, tool: &str) -> Error {
        match self {
            Error::Server { tool: None, .. } => self.in_call(&format!("{toolkit}.{tool}")),
            other => other,
        }
    }

    /// This error, naming `call` (`toolkit.tool`) if it is a server error that names no call yet.
    pub(crate) fn in_call(mut self, call: &str) -> Error {
        if let Error::Server { tool: t @ None, .. } = &mut self {
            *t = Some(call.to_string());
        }
        self
    }

    /// A stream closed abnormally by the server, its message cut to [`DETAIL_LIMIT`].
    pub(crate) fn stream_closed(status_code: i64, message: Option<String>) -> Error {
        Error::StreamClosed {
            status_code,
            message: message.map(bounded),
        }
    }

    pub(crate) fn unexpected(tool: &str, detail: impl Into<String>) -> Error {
        Error::UnexpectedResponse {
            tool: tool.to_string(),
            detail: bounded(detail.into()),
            source: None,
        }
    }

    /// A reply whose JSON does not match the spec: the serde error is kept as the source.
    pub(crate) fn mismatch(tool: &str, detail: &str, source: serde_json::Error) -> Error {
        let source = bounded_serde(source);
        Error::UnexpectedResponse {
            tool: tool.to_string(),
            detail: bounded(format!("{detail}: {source}")),
            source: Some(source),
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(source: std::io::Error) -> Error {
        Error::Io {
            context: "i/o error",
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_are_bounded() {
        let long = "é".repeat(DETAIL_LIMIT);
        let cut = bounded(long.clone());
        assert!(cut.len() < long.len() && cut.ends_with(&format!("({} bytes)", long.len())));
        assert_eq!(bounded("short".into()), "short");
        let e = Error::unexpected("t.x", "x".repeat(10_000));
        assert!(e.to_string().len() < 300, "{e}");
    }

    #[test]
    fn server_data_is_cut_everywhere() {
        let long = "y".repeat(10_000);
        let e = Error::server(Some(1), long.clone()).in_tool("storage", "list");
        let text = e.to_string();
        assert!(text.len() < 300, "{text}");
        assert!(
            text.starts_with("server error 1 from storage.list: "),
            "{text}"
        );
        let e = Error::stream_closed(1011, Some(long.clone()));
        assert!(e.to_string().len() < 300, "{e}");
        // serde quotes the string it could not use; the kept source is cut too.
        let serde_err = serde_json::from_value::<bool>(serde_json::Value::String(long))
            .expect_err("a string is not a bool");
        assert!(serde_err.to_string().len() > 10_000);
        let e = Error::mismatch("t.x", "reply does not match the spec", serde_err);
        assert!(e.to_string().len() < 300, "{e}");
        let source = std::error::Error::source(&e).map(ToString::to_string);
        assert!(source.is_some_and(|s| s.len() < 300));
    }

    #[test]
    fn a_tool_is_named_once() {
        let e = Error::server(None, "x".into())
            .in_tool("a", "b")
            .in_tool("c", "d");
        assert!(matches!(e, Error::Server { tool: Some(ref t), .. } if t == "a.b"));
        let e = Error::unexpected("t.x", "y").in_tool("a", "b");
        assert!(matches!(e, Error::UnexpectedResponse { ref tool, .. } if tool == "t.x"));
    }
}
