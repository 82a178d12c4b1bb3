//! Transports: anything that sends and receives binary packets. The websocket
//! transport (tokio-tungstenite, rustls for `wss`) is the real one; tests plug in others.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::{Sink, Stream, StreamExt};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::core::error::{Error, Result};

mod websocket;

pub(crate) use websocket::connect_websocket;
pub use websocket::{websocket_transport, WebSocketTransport};

/// A transport failure (the socket broke, a TLS error, ...). The underlying error (the
/// websocket's, and beneath it the I/O error) is its [`std::error::Error::source`].
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct TransportError {
    message: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
    /// The close code, when the peer closed the websocket with a close frame.
    close_code: Option<u16>,
    /// The HTTP status, when the websocket upgrade was refused.
    http_status: Option<u16>,
    /// The peer stopped answering (the liveness check gave up on it).
    timed_out: bool,
}

impl TransportError {
    /// A failure described by `message` alone (e.g. a custom transport's peer is gone).
    pub fn new(message: impl Into<String>) -> TransportError {
        TransportError {
            message: message.into(),
            source: None,
            close_code: None,
            http_status: None,
            timed_out: false,
        }
    }

    /// A failure caused by `source`, described by its text.
    pub fn from_source(source: impl std::error::Error + Send + Sync + 'static) -> TransportError {
        TransportError {
            message: source.to_string(),
            source: Some(Box::new(source)),
            close_code: None,
            http_status: None,
            timed_out: false,
        }
    }

    /// The peer closed the websocket with `code` (and a reason, cut short here).
    pub fn closed_by_peer(code: u16, reason: &str) -> TransportError {
        let mut message = format!("the server closed the connection ({code})");
        if !reason.is_empty() {
            message.push_str(": ");
            message.push_str(&crate::core::error::bounded(reason.to_string()));
        }
        TransportError {
            close_code: Some(code),
            ..TransportError::new(message)
        }
    }

    /// The websocket upgrade was refused with this HTTP status.
    pub fn refused(status: u16) -> TransportError {
        TransportError {
            http_status: Some(status),
            ..TransportError::new(format!("HTTP error: {status}"))
        }
    }

    /// The peer sent nothing at all, not even the answer to a ping, for `timeout` after a
    /// ping: it is taken as gone (see [`crate::Keepalive`]). [`TransportError::is_timeout`]
    /// tells this failure apart.
    pub fn no_answer(timeout: Duration) -> TransportError {
        TransportError {
            timed_out: true,
            ..TransportError::new(format!(
                "no answer to a websocket ping within {timeout:?} (keepalive): the peer is gone"
            ))
        }
    }

    /// Whether the liveness check gave up on a silent peer ([`TransportError::no_answer`]).
    pub fn is_timeout(&self) -> bool {
        self.timed_out
    }

    /// The websocket close code, when the peer closed with a close frame.
    pub fn close_code(&self) -> Option<u16> {
        self.close_code
    }

    /// The HTTP status, when the websocket upgrade was refused.
    pub fn http_status(&self) -> Option<u16> {
        self.http_status
    }
}

/// A bidirectional packet pipe: each item is one protocol packet (one websocket binary
/// message). Implemented for every matching `Sink + Stream`.
pub trait Transport:
    Sink<Bytes, Error = TransportError>
    + Stream<Item = Result<Bytes, TransportError>>
    + Send
    + Unpin
    + 'static
{
}

impl<T> Transport for T where
    T: Sink<Bytes, Error = TransportError>
        + Stream<Item = Result<Bytes, TransportError>>
        + Send
        + Unpin
        + 'static
{
}

/// A participant token (a JWT): a secret ([`secrecy::SecretString`], zeroed on drop). Its
/// `Debug` never shows it, and nothing in this crate prints or logs it; under protocol 0.56
/// it travels only in the `Authorization` header.
#[derive(Clone)]
pub struct Token(SecretString);

impl Token {
    /// Wraps a participant JWT.
    pub fn new(jwt: impl Into<String>) -> Token {
        Token(SecretString::from(jwt.into()))
    }

    /// The secret itself (to put on the wire).
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl PartialEq for Token {
    fn eq(&self, other: &Token) -> bool {
        self.expose() == other.expose()
    }
}

impl Eq for Token {}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

impl From<&str> for Token {
    fn from(s: &str) -> Token {
        Token::new(s)
    }
}

impl From<String> for Token {
    fn from(s: String) -> Token {
        Token::new(s)
    }
}

impl From<SecretString> for Token {
    fn from(s: SecretString) -> Token {
        Token(s)
    }
}

/// The websocket URL of a room: `{base}/rooms/{room}`, with `http(s)` turned into `ws(s)`,
/// as both official SDKs build it. `base` is e.g. `https://api.meshagent.com`.
pub fn room_url(base: &str, room: &str) -> Result<Url> {
    let base = base.trim_end_matches('/');
    let base = if let Some(rest) = base.strip_prefix("https:") {
        format!("wss:{rest}")
    } else if let Some(rest) = base.strip_prefix("http:") {
        format!("ws:{rest}")
    } else {
        base.to_string()
    };
    let mut url = Url::parse(&base).map_err(|e| Error::Url(e.to_string()))?;
    url.path_segments_mut()
        .map_err(|_| Error::Url(format!("`{base}` cannot have a path")))?
        .pop_if_empty()
        .extend(["rooms", room]);
    Ok(url)
}

/// The URL actually dialled: the room URL plus the `v` query parameter and, unless the
/// protocol carries the token in a header ([`crate::protocol::TOKEN_IN_HEADER`]), the
/// `token` one, as the Python SDK sends them. Other query parameters are kept; an existing
/// `token` or `v` is replaced (or, with the header form, removed: the token never travels
/// in the query then).
pub(crate) fn connect_url(room: &Url, token: &Token) -> Url {
    let mut url = room.clone();
    let kept: Vec<(String, String)> = room
        .query_pairs()
        .filter(|(k, _)| k != "token" && k != "v")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut query = url.query_pairs_mut();
    query.clear().extend_pairs(kept);
    if !crate::protocol::TOKEN_IN_HEADER {
        query.append_pair("token", token.expose());
    }
    query.append_pair("v", crate::protocol::VERSION);
    drop(query);
    url
}

/// The token for the upgrade request's `Authorization: Bearer` header, when the protocol
/// carries it there ([`crate::protocol::TOKEN_IN_HEADER`]).
pub(crate) fn bearer(token: &Token) -> Option<&Token> {
    crate::protocol::TOKEN_IN_HEADER.then_some(token)
}

/// The URL without its query (safe to log or show: the token may live in the query).
pub(crate) fn redacted(url: &Url) -> String {
    let mut u = url.clone();
    u.set_query(None);
    u.to_string()
}

/// TLS settings for `wss`: rustls with the Mozilla roots (webpki-roots), certificates verified.
pub(crate) fn default_tls() -> Result<Arc<rustls::ClientConfig>> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Transport(TransportError::from_source(e)))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// One end of an in-memory transport pair (see [`memory_pair`]).
#[derive(Debug)]
pub struct MemoryTransport {
    tx: futures::channel::mpsc::UnboundedSender<Bytes>,
    rx: futures::channel::mpsc::UnboundedReceiver<Bytes>,
}

/// Two connected in-memory transports: what one sends, the other receives. Dropping one
/// end closes the other. Used to test against a scripted peer without a socket.
pub fn memory_pair() -> (MemoryTransport, MemoryTransport) {
    let (a_tx, a_rx) = futures::channel::mpsc::unbounded();
    let (b_tx, b_rx) = futures::channel::mpsc::unbounded();
    (
        MemoryTransport { tx: a_tx, rx: b_rx },
        MemoryTransport { tx: b_tx, rx: a_rx },
    )
}

impl Sink<Bytes> for MemoryTransport {
    type Error = TransportError;

    fn poll_ready(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), TransportError>> {
        self.get_mut()
            .tx
            .poll_ready(cx)
            .map_err(|_| TransportError::new("peer closed"))
    }

    fn start_send(self: std::pin::Pin<&mut Self>, item: Bytes) -> Result<(), TransportError> {
        self.get_mut()
            .tx
            .start_send(item)
            .map_err(|_| TransportError::new("peer closed"))
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), TransportError>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn poll_close(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), TransportError>> {
        self.get_mut().tx.close_channel();
        std::task::Poll::Ready(Ok(()))
    }
}

impl Stream for MemoryTransport {
    type Item = Result<Bytes, TransportError>;

    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        self.get_mut().rx.poll_next_unpin(cx).map(|p| p.map(Ok))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_like_the_sdks() {
        let u = room_url("https://api.example.com/", "my room").ok();
        assert_eq!(
            u.as_ref().map(Url::as_str),
            Some("wss://api.example.com/rooms/my%20room")
        );
        let u = room_url("http://localhost:8080", "r").ok();
        assert_eq!(
            u.as_ref().map(Url::as_str),
            Some("ws://localhost:8080/rooms/r")
        );
        let Ok(base) = Url::parse("ws://h/rooms/r?foo=bar&token=old") else {
            panic!("valid url")
        };
        let c = connect_url(&base, &Token::new("T0K"));
        if crate::protocol::TOKEN_IN_HEADER {
            // The token goes in the header only; a stale query token is dropped.
            assert_eq!(c.query(), Some("foo=bar&v=0.56.0"));
            assert_eq!(bearer(&Token::new("T0K")).map(Token::expose), Some("T0K"));
        } else {
            assert_eq!(c.query(), Some("foo=bar&token=T0K&v=0.35.8"));
            assert_eq!(bearer(&Token::new("T0K")), None);
        }
        assert_eq!(redacted(&c), "ws://h/rooms/r");
        assert_eq!(format!("{:?}", Token::new("secret")), "Token(<redacted>)");
    }
}
