//! The state one connection shares between its client handles and its I/O task: the
//! pending calls, whether the connection is up, lost (reconnecting) or closed, and the
//! socket and router. Calls wait here while the connection is being reopened.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{oneshot, watch};

use crate::core::client::{CallSettings, Inner, RoomClient};
use crate::core::content::Content;
use crate::core::error::{Error, Result};
use crate::core::framing::encode_message_parts;
use crate::core::link::ConnectionEvent;
use crate::core::reconnect::Redial;
use crate::core::router::{Route, Router};
use crate::core::socket::Socket;

/// State shared with the background tasks.
pub(crate) struct Shared {
    state: Mutex<State>,
    /// The client, for work the reader starts (answering pushes); weak so that dropping
    /// the last `RoomClient` still closes the connection.
    pub(crate) client: std::sync::OnceLock<std::sync::Weak<Inner>>,
    /// The transport, written by senders directly and read by the I/O task.
    pub(crate) socket: Socket,
    next_id: AtomicU64,
    /// Where every message that is not a `__response__` goes.
    pub(crate) router: Router,
    /// Bumped on every change of `State::down` or `State::closed`, for the calls that wait.
    link: watch::Sender<u64>,
    /// Bumped on every connection loss: a stream opened before it is dead.
    epoch: AtomicU64,
    /// How to open the connection again, when reconnection is on.
    pub(crate) redial: Option<Redial>,
    /// Reading waits while this is set (a stream's buffer is full, or every hosted-call
    /// slot is taken), so the room's writes back up instead of the client's memory.
    pub(crate) backpressure: Arc<crate::core::backpressure::Backpressure>,
}

#[derive(Default)]
pub(crate) struct State {
    pub(crate) pending: HashMap<u64, oneshot::Sender<Result<Content>>>,
    /// Closed for good, and why.
    pub(crate) closed: Option<String>,
    /// The client asked to close: a loss now is final.
    pub(crate) closing: bool,
    /// The connection is lost and being reopened, and why: calls wait.
    pub(crate) down: Option<String>,
}

impl Shared {
    /// The state of a connection over `socket`, routing with `router`.
    pub(crate) fn new(socket: Socket, router: Router, redial: Option<Redial>) -> Shared {
        Shared {
            state: Mutex::new(State::default()),
            socket,
            next_id: AtomicU64::new(0),
            client: std::sync::OnceLock::new(),
            router,
            link: watch::Sender::new(0),
            epoch: AtomicU64::new(0),
            redial,
            backpressure: Default::default(),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // A poisoned lock only means another thread panicked mid-update of plain maps;
        // the data is still usable, and failing every call would be worse.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Marks the connection closed, fails every pending call and tells every route (once).
    pub(crate) fn close(&self, reason: String) {
        let (pending, reason, first) = {
            let mut st = self.lock();
            let first = st.closed.is_none();
            if first {
                // The reason may carry what the room sent (a close frame, a dismiss).
                let reason = crate::core::error::bounded(reason);
                tracing::debug!(%reason, "room connection closed");
                st.closed = Some(reason);
                st.down = None;
            }
            let reason = st.closed.clone().unwrap_or_default();
            (std::mem::take(&mut st.pending), reason, first)
        };
        for (_, tx) in pending {
            let _ = tx.send(Err(Error::Closed {
                reason: reason.clone(),
            }));
        }
        if first {
            self.link.send_modify(|n| *n += 1);
            self.router.closed(&reason);
        }
    }

    /// The connection was lost and will be reopened: calls in flight fail with the
    /// retryable [`Error::Disconnected`] (never re-sent), new calls wait, routes are told.
    pub(crate) fn disconnected(self: &Arc<Self>, reason: &str) {
        let pending = {
            let mut st = self.lock();
            st.down = Some(reason.to_string());
            std::mem::take(&mut st.pending)
        };
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.link.send_modify(|n| *n += 1);
        for (_, tx) in pending {
            let _ = tx.send(Err(Error::Disconnected {
                reason: reason.to_string(),
            }));
        }
        let lost = ConnectionEvent::Disconnected {
            reason: reason.to_string(),
        };
        self.router.link(self, &lost);
    }

    /// The connection is back and restored: waiting calls go out.
    pub(crate) fn reconnected(&self) {
        self.lock().down = None;
        self.link.send_modify(|n| *n += 1);
    }

    /// Whether a loss now is final (the client closed, or the room dismissed it).
    pub(crate) fn ending(&self) -> bool {
        let st = self.lock();
        st.closing || st.closed.is_some()
    }

    /// Returns once the client is closing or closed.
    pub(crate) async fn wait_closing(&self) {
        let mut changed = self.link.subscribe();
        while !self.ending() {
            if changed.changed().await.is_err() {
                return;
            }
        }
    }

    /// Which connection this is: changes with every loss.
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    /// Waits until the connection is up (`Ok`) or closed for good (`Err`).
    pub(crate) async fn wait_up(&self) -> Result<()> {
        let mut changed = self.link.subscribe();
        loop {
            {
                let st = self.lock();
                if let Some(reason) = &st.closed {
                    return Err(Error::Closed {
                        reason: reason.clone(),
                    });
                }
                if st.down.is_none() {
                    return Ok(());
                }
            }
            if changed.changed().await.is_err() {
                return Err(self.closed_error());
            }
        }
    }

    /// Ends the connection because of something the room sent (e.g. a `dismiss`): marks
    /// it closed with `reason` at once (pending calls, later calls and every route see
    /// it) and asks for the websocket close without waiting for it. Safe to call from a
    /// route, on the I/O task.
    pub(crate) fn close_now(&self, reason: String) {
        self.lock().closing = true;
        self.close(reason);
        let (sent, _) = oneshot::channel();
        self.socket.close(sent);
    }

    pub(crate) fn closed_error(&self) -> Error {
        Error::Closed {
            reason: self
                .lock()
                .closed
                .clone()
                .unwrap_or_else(|| "client dropped".into()),
        }
    }

    /// Sends a whole message without waiting for a reply.
    pub(crate) async fn send(
        &self,
        id: u64,
        packet_type: &str,
        head: &[u8],
        tail: &[u8],
    ) -> Result<()> {
        self.send_parts(id, packet_type, &[head, tail]).await
    }

    /// Sends a message whose packed data is `parts` in order (the packed header first),
    /// without joining them first.
    pub(crate) async fn send_parts(
        &self,
        id: u64,
        packet_type: &str,
        parts: &[&[u8]],
    ) -> Result<()> {
        self.send_packets(id, packet_type, parts, false).await
    }

    /// `batch`: other requests are in flight (see `Socket::send`).
    pub(crate) async fn send_packets(
        &self,
        id: u64,
        packet_type: &str,
        parts: &[&[u8]],
        batch: bool,
    ) -> Result<()> {
        let packets = encode_message_parts(id, packet_type, parts);
        self.socket
            .send(packets, batch)
            .await
            .map_err(|_| self.closed_error())
    }

    /// The client, while one is alive.
    pub(crate) fn client(&self) -> Option<RoomClient> {
        self.client
            .get()
            .and_then(std::sync::Weak::upgrade)
            .map(|inner| RoomClient {
                inner,
                call: CallSettings::default(),
            })
    }

    /// Sends a message from a `Drop` impl: nothing is awaited and nothing keeps the client
    /// alive (the message is written now, or by whoever holds the transport).
    pub(crate) fn send_detached(self: &Arc<Self>, packet_type: &'static str, head: Vec<u8>) {
        let packets = encode_message_parts(self.next_id(), packet_type, &[&head]);
        self.socket.send_now(packets);
    }

    pub(crate) fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// The connection's route of type `R` (see [`Router::get`]).
    pub(crate) fn route<R: Route>(&self) -> Option<Arc<R>> {
        self.router.get::<R>()
    }
}
