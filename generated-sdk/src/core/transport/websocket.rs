//! The websocket transport (tokio-tungstenite, rustls for `wss`): binary frames are the
//! packets, and a ping/pong liveness check ([`Keepalive`]) notices a peer that has gone
//! silent (a dead host, a dropped NAT mapping, a half-open TCP connection).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::{Sink, Stream};
use tokio::time::{Instant, Sleep};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use url::Url;

use super::{default_tls, redacted, Token, Transport, TransportError};
use crate::core::error::{Error, Result};
use crate::core::link::Keepalive;

/// A websocket error as a [`TransportError`] keeping it as the source, except an HTTP
/// refusal: its response (headers that may echo the token, a body of any size) is reduced
/// to the status.
fn websocket_error(e: WsError) -> TransportError {
    match e {
        WsError::Http(response) => TransportError::refused(response.status().as_u16()),
        other => TransportError::from_source(other),
    }
}

/// Opens a websocket to `url` (already carrying its query), with `bearer` as an
/// `Authorization: Bearer` header when given, and adapts it to [`Transport`] with the
/// liveness check `keepalive` (see [`WebSocketTransport`]), its buffers sized by `config`
/// ([`ConnectOptions::websocket_config`](crate::ConnectOptions::websocket_config)).
///
/// permessage-deflate (offered by Python 0.40 and later) is not negotiated: tungstenite
/// 0.28 has no support for it (snapview/tungstenite-rs#2, PR #426 still open). Rooms accept
/// uncompressed connections.
pub(crate) async fn connect_websocket(
    url: &Url,
    bearer: Option<&Token>,
    tls: Option<Arc<rustls::ClientConfig>>,
    keepalive: Option<Keepalive>,
    config: WebSocketConfig,
) -> Result<impl Transport> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::http::{header::AUTHORIZATION, HeaderValue};

    let connect_err = |source: TransportError| Error::Connect {
        url: redacted(url),
        source,
    };
    let connector = match (url.scheme(), tls) {
        ("wss", Some(cfg)) => Some(tokio_tungstenite::Connector::Rustls(cfg)),
        ("wss", None) => Some(tokio_tungstenite::Connector::Rustls(default_tls()?)),
        ("ws", _) => None,
        (other, _) => {
            return Err(Error::Url(format!(
                "unsupported scheme `{other}` (use ws or wss)"
            )))
        }
    };
    // tungstenite's errors contain neither the request URL nor its headers, so the token
    // stays out of them.
    let mut request = url
        .as_str()
        .into_client_request()
        .map_err(|e| connect_err(websocket_error(e)))?;
    if let Some(token) = bearer {
        // The value is not echoed: a token that is not a valid header value is a plain error.
        let mut value =
            HeaderValue::from_str(&format!("Bearer {}", token.expose())).map_err(|_| {
                connect_err(TransportError::new("the token is not a valid header value"))
            })?;
        // Kept out of `http`'s Debug output.
        value.set_sensitive(true);
        request.headers_mut().insert(AUTHORIZATION, value);
    }
    let (ws, _response) =
        tokio_tungstenite::connect_async_tls_with_config(request, Some(config), true, connector)
            .await
            .map_err(|e| connect_err(websocket_error(e)))?;
    Ok(WebSocketTransport::new(ws, keepalive))
}

/// Adapts any tungstenite websocket stream into a [`Transport`], without a liveness check
/// (the peer's pings are still answered). For one, use [`WebSocketTransport::new`] with a
/// [`Keepalive`]; [`RoomClient::connect`](crate::RoomClient::connect) does, with
/// [`ConnectOptions::keepalive`](crate::ConnectOptions::keepalive).
pub fn websocket_transport<S>(ws: S) -> WebSocketTransport<S>
where
    S: Sink<Message, Error = WsError> + Stream<Item = Result<Message, WsError>> + Unpin,
{
    WebSocketTransport::new(ws, None)
}

/// A tungstenite websocket as a [`Transport`]: each binary message is one packet.
///
/// - Text frames are logged and skipped (the protocol is binary); the peer's pings are
///   answered by tungstenite.
/// - A close frame ends the stream with [`TransportError::closed_by_peer`] (1005 when it has
///   no code); a refused upgrade is reduced to its status ([`TransportError::refused`]).
/// - With a [`Keepalive`]: once nothing at all has arrived for `interval`, a websocket ping
///   is sent (from the reading side: the transport's user polls the stream, and the
///   writing is never concurrent with its own). If nothing arrives within `timeout` after
///   that ping (any frame counts, the pong or data), the stream yields
///   [`TransportError::no_answer`] ([`TransportError::is_timeout`]) and then ends. A dead
///   or silent peer is thus noticed within `interval + timeout` of its last frame, provided
///   the stream is being polled; the timer wakes the reader at its deadline. A timer
///   (tokio's) is needed only with a keepalive, and is made on the first read.
#[derive(Debug)]
pub struct WebSocketTransport<S> {
    ws: S,
    liveness: Option<Liveness>,
    /// The stream has yielded its end (or the liveness failure): it returns `None` from now.
    ended: bool,
}

/// The liveness check's state. Receiving a frame only stores the time; the timer is
/// re-armed when it fires (or once per answered ping), so busy connections pay nothing
/// more than reading the clock.
#[derive(Debug)]
struct Liveness {
    keepalive: Keepalive,
    /// When the last frame arrived (or the transport was made).
    last_seen: Instant,
    /// When the unanswered ping was sent, if one is.
    ping_at: Option<Instant>,
    /// A ping is due but the socket was not ready for it: sent on the next poll.
    ping_unsent: bool,
    /// A ping was written and still needs a flush.
    ping_unflushed: bool,
    /// A frame arrived after a ping: the timer may be later than the next ping is due.
    rearm: bool,
    /// The client is closing the websocket: no more pings (tungstenite refuses them), but
    /// the silence is still bounded.
    closing: bool,
    /// Fires no later than the next deadline (ping due or answer overdue); made lazily,
    /// inside the runtime.
    timer: Option<Pin<Box<Sleep>>>,
}

impl<S> WebSocketTransport<S>
where
    S: Sink<Message, Error = WsError> + Stream<Item = Result<Message, WsError>> + Unpin,
{
    /// Wraps a tungstenite websocket; `keepalive` turns the liveness check on (`None`: off).
    /// With one, the transport must be polled inside a tokio runtime with timers enabled.
    pub fn new(ws: S, keepalive: Option<Keepalive>) -> WebSocketTransport<S> {
        WebSocketTransport {
            ws,
            liveness: keepalive.map(|keepalive| Liveness {
                keepalive,
                last_seen: Instant::now(),
                ping_at: None,
                ping_unsent: false,
                ping_unflushed: false,
                rearm: false,
                closing: false,
                timer: None,
            }),
            ended: false,
        }
    }

    /// The wrapped websocket.
    pub fn get_ref(&self) -> &S {
        &self.ws
    }

    /// Writes and flushes a due ping as far as the socket allows now; what does not fit
    /// waits for the next poll of either side (the socket wakes this task when writable).
    fn drive_ping(&mut self, cx: &mut Context<'_>) -> Result<(), TransportError> {
        let Some(live) = self.liveness.as_mut() else {
            return Ok(());
        };
        if live.ping_unsent {
            match Pin::new(&mut self.ws).poll_ready(cx) {
                Poll::Ready(Ok(())) => {
                    Pin::new(&mut self.ws)
                        .start_send(Message::Ping(Bytes::new()))
                        .map_err(websocket_error)?;
                    live.ping_unsent = false;
                    live.ping_unflushed = true;
                }
                Poll::Ready(Err(e)) => return Err(websocket_error(e)),
                Poll::Pending => return Ok(()),
            }
        }
        if live.ping_unflushed {
            match Pin::new(&mut self.ws).poll_flush(cx) {
                Poll::Ready(Ok(())) => live.ping_unflushed = false,
                Poll::Ready(Err(e)) => return Err(websocket_error(e)),
                Poll::Pending => {}
            }
        }
        Ok(())
    }

    /// Polls the liveness timer: sends the ping when one is due, fails once the peer has
    /// been silent `timeout` past it. `Pending` (with the timer registered) while all is well.
    fn poll_liveness(&mut self, cx: &mut Context<'_>) -> Poll<TransportError> {
        loop {
            let Some(live) = self.liveness.as_mut() else {
                return Poll::Pending;
            };
            let deadline = match live.ping_at {
                None => live.last_seen + live.keepalive.interval,
                Some(at) => at + live.keepalive.timeout,
            };
            let timer = live
                .timer
                .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
            if std::mem::take(&mut live.rearm) {
                timer.as_mut().reset(deadline);
            }
            if timer.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            let now = Instant::now();
            if now < deadline {
                // Frames arrived since the timer was set: it fires again at the real deadline.
                timer.as_mut().reset(deadline);
                continue;
            }
            if live.ping_at.is_some() {
                return Poll::Ready(TransportError::no_answer(live.keepalive.timeout));
            }
            tracing::debug!(quiet = ?live.keepalive.interval, "nothing received for a while: pinging the peer");
            live.ping_at = Some(now);
            // While closing, the close frame already asks for an answer.
            live.ping_unsent = !live.closing;
            timer.as_mut().reset(now + live.keepalive.timeout);
            if let Err(e) = self.drive_ping(cx) {
                return Poll::Ready(e);
            }
            // The timer, now set for the answer's deadline, is polled (registered) next.
        }
    }

    /// The stream is over: nothing more is read, the timer is dropped.
    fn end(
        &mut self,
        item: Option<Result<Bytes, TransportError>>,
    ) -> Poll<Option<Result<Bytes, TransportError>>> {
        self.ended = true;
        if let Some(live) = self.liveness.as_mut() {
            live.timer = None;
        }
        Poll::Ready(item)
    }
}

impl<S> Stream for WebSocketTransport<S>
where
    S: Sink<Message, Error = WsError> + Stream<Item = Result<Message, WsError>> + Unpin,
{
    type Item = Result<Bytes, TransportError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.ended {
            return Poll::Ready(None);
        }
        // What has arrived is read before the timer is looked at: a reader that paused for
        // a while first finds the frames (and pongs) that came meanwhile.
        loop {
            match Pin::new(&mut this.ws).poll_next(cx) {
                Poll::Ready(Some(Ok(message))) => {
                    if let Some(live) = this.liveness.as_mut() {
                        live.last_seen = Instant::now();
                        live.rearm |= live.ping_at.take().is_some();
                    }
                    match message {
                        Message::Binary(packet) => return Poll::Ready(Some(Ok(packet))),
                        Message::Close(frame) => {
                            let e = match frame {
                                Some(f) => {
                                    TransportError::closed_by_peer(u16::from(f.code), &f.reason)
                                }
                                None => TransportError::closed_by_peer(1005, ""),
                            };
                            return this.end(Some(Err(e)));
                        }
                        Message::Text(_) => {
                            tracing::warn!(
                                "skipping a text websocket frame: the room protocol is binary"
                            );
                        }
                        // Pings (answered by tungstenite), pongs, raw frames: signs of life.
                        _ => {}
                    }
                }
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(websocket_error(e)))),
                Poll::Ready(None) => return this.end(None),
                Poll::Pending => break,
            }
        }
        if let Err(e) = this.drive_ping(cx) {
            return Poll::Ready(Some(Err(e)));
        }
        match this.poll_liveness(cx) {
            Poll::Ready(e) => this.end(Some(Err(e))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<S> Sink<Bytes> for WebSocketTransport<S>
where
    S: Sink<Message, Error = WsError> + Stream<Item = Result<Message, WsError>> + Unpin,
{
    type Error = TransportError;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), TransportError>> {
        let this = self.get_mut();
        // A due ping goes first (flushed with the caller's packets).
        if this.liveness.as_ref().is_some_and(|l| l.ping_unsent) {
            this.drive_ping(cx)?;
        }
        Pin::new(&mut this.ws)
            .poll_ready(cx)
            .map_err(websocket_error)
    }

    fn start_send(self: Pin<&mut Self>, packet: Bytes) -> Result<(), TransportError> {
        Pin::new(&mut self.get_mut().ws)
            .start_send(Message::Binary(packet))
            .map_err(websocket_error)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), TransportError>> {
        let this = self.get_mut();
        if this.liveness.as_ref().is_some_and(|l| l.ping_unsent) {
            this.drive_ping(cx)?;
        }
        let flushed = Pin::new(&mut this.ws)
            .poll_flush(cx)
            .map_err(websocket_error);
        if let (Poll::Ready(Ok(())), Some(live)) = (&flushed, this.liveness.as_mut()) {
            live.ping_unflushed = false;
        }
        flushed
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), TransportError>> {
        let this = self.get_mut();
        if let Some(live) = this.liveness.as_mut() {
            live.closing = true;
            live.ping_unsent = false;
        }
        Pin::new(&mut this.ws)
            .poll_close(cx)
            .map_err(websocket_error)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};
    use std::task::Waker;
    use std::time::Duration;

    use futures::channel::mpsc;
    use futures::{SinkExt, StreamExt};

    use super::*;

    /// A websocket whose writability the test controls; it records what is written.
    struct Mock {
        incoming: mpsc::UnboundedReceiver<Message>,
        state: Arc<Mutex<MockState>>,
    }

    #[derive(Default)]
    struct MockState {
        writable: bool,
        written: Vec<Message>,
        flushes: usize,
        waker: Option<Waker>,
    }

    impl Stream for Mock {
        type Item = Result<Message, WsError>;
        fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
            self.incoming.poll_next_unpin(cx).map(|m| m.map(Ok))
        }
    }

    impl Sink<Message> for Mock {
        type Error = WsError;
        fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), WsError>> {
            let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
            if st.writable {
                Poll::Ready(Ok(()))
            } else {
                st.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
        fn start_send(self: Pin<&mut Self>, item: Message) -> Result<(), WsError> {
            let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
            st.written.push(item);
            Ok(())
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), WsError>> {
            self.state.lock().unwrap_or_else(|p| p.into_inner()).flushes += 1;
            Poll::Ready(Ok(()))
        }
        fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), WsError>> {
            Poll::Ready(Ok(()))
        }
    }

    type Harness = (
        WebSocketTransport<Mock>,
        mpsc::UnboundedSender<Message>,
        Arc<Mutex<MockState>>,
    );

    fn mock(keepalive: Keepalive, writable: bool) -> Harness {
        let (tx, incoming) = mpsc::unbounded();
        let state = Arc::new(Mutex::new(MockState {
            writable,
            ..MockState::default()
        }));
        let ws = Mock {
            incoming,
            state: state.clone(),
        };
        (WebSocketTransport::new(ws, Some(keepalive)), tx, state)
    }

    fn written(state: &Mutex<MockState>) -> Vec<Message> {
        state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .written
            .clone()
    }

    const MS: Duration = Duration::from_millis(1);

    #[tokio::test]
    async fn a_ping_the_socket_cannot_take_yet_goes_out_first_on_the_next_write() {
        let (mut t, _tx, state) = mock(Keepalive::new(30 * MS, 10 * 1000 * MS), false);
        // The ping is due after 30 ms; the socket is full.
        let quiet = tokio::time::timeout(80 * MS, t.next()).await;
        assert!(quiet.is_err(), "nothing to read: {quiet:?}");
        assert!(written(&state).is_empty());
        state.lock().unwrap_or_else(|p| p.into_inner()).writable = true;
        let sent = tokio::time::timeout(1000 * MS, t.send(Bytes::from_static(b"p"))).await;
        assert!(matches!(sent, Ok(Ok(()))), "{sent:?}");
        assert_eq!(
            written(&state),
            vec![
                Message::Ping(Bytes::new()),
                Message::Binary(Bytes::from_static(b"p"))
            ]
        );
    }

    #[tokio::test]
    async fn the_reader_sends_a_due_ping_once_the_socket_is_writable() {
        let (mut t, _tx, state) = mock(Keepalive::new(30 * MS, 10 * 1000 * MS), false);
        let quiet = tokio::time::timeout(80 * MS, t.next()).await;
        assert!(quiet.is_err());
        let waker = {
            let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
            st.writable = true;
            st.waker.take()
        };
        // The socket's writability wakes the reader, which then sends and flushes the ping.
        assert!(waker.is_some(), "the reader waits for writability");
        let quiet = tokio::time::timeout(20 * MS, t.next()).await;
        assert!(quiet.is_err());
        assert_eq!(written(&state), vec![Message::Ping(Bytes::new())]);
        assert!(state.lock().unwrap_or_else(|p| p.into_inner()).flushes >= 1);
    }

    #[tokio::test]
    async fn frames_keep_the_peer_alive_and_silence_after_a_ping_ends_the_stream() {
        let (mut t, tx, state) = mock(Keepalive::new(40 * MS, 40 * MS), true);
        // A frame every 20 ms for 200 ms: no ping is due.
        for _ in 0..10 {
            let _ = tx.unbounded_send(Message::Pong(Bytes::new()));
            let r = tokio::time::timeout(20 * MS, t.next()).await;
            assert!(r.is_err(), "pongs are not packets: {r:?}");
        }
        assert!(written(&state).is_empty(), "pinged a live peer");
        let started = std::time::Instant::now();
        let r = tokio::time::timeout(1000 * MS, t.next()).await;
        let took = started.elapsed();
        match r {
            Ok(Some(Err(e))) => assert!(e.is_timeout(), "{e}"),
            other => panic!("expected the liveness failure, got {other:?}"),
        }
        assert_eq!(written(&state), vec![Message::Ping(Bytes::new())]);
        assert!(took >= 40 * MS && took < 500 * MS, "{took:?}");
        // Then the stream is over.
        assert!(t.next().await.is_none());
    }
}
