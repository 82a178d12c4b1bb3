//! `RoomClient`: the connection and request correlation.
//!
//! Senders queue whole messages in the socket's outbox and write it when the transport is
//! free (see `socket`). One background I/O task finishes queued writes and reassembles
//! incoming packets: a `__response__` settles the waiting call (request id -> pending
//! oneshot; handed over once per batch of reads while other calls wait), everything else
//! goes to the connection's [`Router`]. The task ends when the last `RoomClient` clone is
//! dropped. The handshake lives in `connect`.

use std::collections::HashMap;
use std::fmt;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use serde::Serialize;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::core::connect::RoomInfo;
use crate::core::content::Content;
use crate::core::error::{Error, Result};
use crate::core::framing::{encode_message_parts, Message, Reassembler};
use crate::core::invoke::{invoke_header, BinaryArguments, Invoke, JsonArguments};
use crate::core::packing::unpack;
use crate::core::router::{Route, Router};
use crate::core::socket::{Read, Socket};
use crate::packets::{client as cp, server as sp};

/// A connection to a room. Cheap to clone; the connection closes when the last clone
/// is dropped (or on [`RoomClient::close`]).
#[derive(Clone)]
pub struct RoomClient {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Arc<Shared>,
    info: RoomInfo,
    request_timeout: Option<Duration>,
    /// Held only to abort the tasks with the last clone.
    _tasks: AbortOnDrop,
}

/// State shared with the background tasks.
pub(crate) struct Shared {
    state: Mutex<State>,
    /// The client, for work the reader starts (answering pushes); weak so that dropping
    /// the last `RoomClient` still closes the connection.
    client: std::sync::OnceLock<std::sync::Weak<Inner>>,
    /// The transport, written by senders directly and read by the I/O task.
    socket: Socket,
    next_id: AtomicU64,
    /// Where every message that is not a `__response__` goes.
    router: Router,
}

#[derive(Default)]
pub(crate) struct State {
    pending: HashMap<u64, oneshot::Sender<Result<Content>>>,
    pub(crate) closed: Option<String>,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // A poisoned lock only means another thread panicked mid-update of plain maps;
        // the data is still usable, and failing every call would be worse.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Marks the connection closed, fails every pending call and tells every route.
    pub(crate) fn close(&self, reason: String) {
        let (pending, reason) = {
            let mut st = self.lock();
            if st.closed.is_none() {
                // The reason may carry what the room sent (a close frame, a dismiss).
                let reason = crate::core::error::bounded(reason);
                tracing::debug!(%reason, "room connection closed");
                st.closed = Some(reason);
            }
            let reason = st.closed.clone().unwrap_or_default();
            (std::mem::take(&mut st.pending), reason)
        };
        for (_, tx) in pending {
            let _ = tx.send(Err(Error::Closed {
                reason: reason.clone(),
            }));
        }
        self.router.closed(&reason);
    }

    /// Ends the connection because of something the room sent (e.g. a `dismiss`): marks
    /// it closed with `reason` at once (pending calls, later calls and every route see
    /// it) and asks for the websocket close without waiting for it. Safe to call from a
    /// route, on the I/O task.
    pub(crate) fn close_now(&self, reason: String) {
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
    async fn send_packets(
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
    #[cfg(feature = "secrets")]
    pub(crate) fn client(&self) -> Option<RoomClient> {
        self.client
            .get()
            .and_then(std::sync::Weak::upgrade)
            .map(|inner| RoomClient { inner })
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

impl fmt::Debug for RoomClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RoomClient")
            .field("room_name", &self.inner.info.room_name)
            .field("session_id", &self.inner.info.session_id)
            .field("participant_id", &self.local_participant().id)
            .finish_non_exhaustive()
    }
}

impl RoomClient {
    /// Room name, URL and session id from `room_ready`.
    pub fn info(&self) -> &RoomInfo {
        &self.inner.info
    }

    /// The room's name.
    pub fn room_name(&self) -> &str {
        &self.inner.info.room_name
    }

    /// The room's URL as the server reported it.
    pub fn room_url(&self) -> &str {
        &self.inner.info.room_url
    }

    /// This connection's session id.
    pub fn session_id(&self) -> &str {
        &self.inner.info.session_id
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.inner.shared
    }

    /// Whether the connection has closed.
    pub fn is_closed(&self) -> bool {
        self.inner.shared.lock().closed.is_some()
    }

    /// Closes the websocket (waiting until the close frame is sent); pending calls fail
    /// with [`Error::Closed`].
    pub async fn close(&self) {
        let (ack, sent) = oneshot::channel();
        self.inner.shared.socket.close(ack);
        // An error only means the I/O task is already gone.
        let _ = sent.await;
        self.inner.shared.close("closed by the client".into());
    }

    /// Calls any tool with any content (`room.invoke_tool`) and returns the reply content.
    /// An `error` reply becomes [`Error::Server`].
    pub async fn invoke(&self, toolkit: &str, tool: &str, input: Content) -> Result<Content> {
        let head = invoke_header(
            &Invoke::new(toolkit, tool),
            &input.header(),
            &new_tool_call_id(),
        )?;
        self.request(cp::ROOM_INVOKE_TOOL, &head, input.tail())
            .await
            .map_err(|e| e.in_tool(toolkit, tool))
    }

    /// Calls a tool with a `binary` input: `headers` (a JSON object) and `tail` bytes; used
    /// by the generated methods of tools with an `input_tail`.
    #[allow(dead_code)] // used by generated tools with an `input_tail`
    pub(crate) async fn invoke_binary<T: Serialize>(
        &self,
        toolkit: &str,
        tool: &str,
        headers: &T,
        tail: Bytes,
    ) -> Result<Content> {
        let head = invoke_header(
            &Invoke::new(toolkit, tool),
            &BinaryArguments::new(headers),
            &new_tool_call_id(),
        )?;
        self.request(cp::ROOM_INVOKE_TOOL, &head, &tail)
            .await
            .map_err(|e| e.in_tool(toolkit, tool))
    }

    /// Calls a tool with a JSON object input; used by the generated methods.
    #[allow(dead_code)] // unused when every toolkit feature is off
    pub(crate) async fn invoke_json<T: Serialize>(
        &self,
        toolkit: &str,
        tool: &str,
        input: &T,
    ) -> Result<Content> {
        let head = invoke_header(
            &Invoke::new(toolkit, tool),
            &JsonArguments::new(input),
            &new_tool_call_id(),
        )?;
        self.request(cp::ROOM_INVOKE_TOOL, &head, &[])
            .await
            .map_err(|e| e.in_tool(toolkit, tool))
    }

    /// Calls a tool with a JSON object input without waiting for a reply (Python's
    /// `invoke_nowait`): the `room.invoke_tool` is sent with no pending entry, so a reply
    /// that comes anyway is dropped as one for an unknown request. Returns once the message
    /// is queued; fails only when the connection is closed or the input does not pack.
    /// Used by the generated methods of `nowait` tools.
    #[allow(dead_code)] // used by generated `nowait` tools
    pub(crate) async fn invoke_json_nowait<T: Serialize>(
        &self,
        toolkit: &str,
        tool: &str,
        input: &T,
    ) -> Result<()> {
        self.invoke_nowait_with(&Invoke::new(toolkit, tool), &JsonArguments::new(input), &[])
            .await
    }

    /// Sends a `room.invoke_tool` of `to` with these `arguments` (a content header) and
    /// `tail`, and waits for nothing but the queueing.
    pub(crate) async fn invoke_nowait_with<A: Serialize + ?Sized>(
        &self,
        to: &Invoke<'_>,
        arguments: &A,
        tail: &[u8],
    ) -> Result<()> {
        let head = invoke_header(to, arguments, &new_tool_call_id())?;
        let shared = &self.inner.shared;
        if let Some(reason) = &shared.lock().closed {
            return Err(Error::Closed {
                reason: reason.clone(),
            });
        }
        shared
            .send(shared.next_id(), cp::ROOM_INVOKE_TOOL, &head, tail)
            .await
    }

    /// Sends a request message and waits for its `__response__`. Dropping the future
    /// forgets the call; a late reply is then ignored.
    pub(crate) async fn request(
        &self,
        packet_type: &str,
        head: &[u8],
        tail: &[u8],
    ) -> Result<Content> {
        let reply = self.start_request(packet_type, head, &[tail]).await?;
        // Timing out drops the reply, which forgets the call.
        self.reply_within_timeout(reply).await
    }

    /// Waits for a reply (a [`Reply`], or `&mut Reply` to keep it on timeout), bounded by the
    /// client's request timeout: every wait for a `__response__` goes through here.
    pub(crate) async fn reply_within_timeout(
        &self,
        reply: impl std::future::Future<Output = Result<Content>>,
    ) -> Result<Content> {
        match self.inner.request_timeout {
            Some(limit) => tokio::time::timeout(limit, reply)
                .await
                .unwrap_or(Err(Error::Timeout(limit, "a reply"))),
            None => reply.await,
        }
    }

    /// Sends a request and returns its reply as a future, so the caller can send more
    /// before waiting (a streaming invoke's chunks follow the invoke at once).
    pub(crate) async fn start_request(
        &self,
        packet_type: &str,
        head: &[u8],
        tail: &[&[u8]],
    ) -> Result<Reply> {
        let shared = &self.inner.shared;
        let id = shared.next_id();
        let (tx, rx) = oneshot::channel();
        let others_pending = {
            let mut st = shared.lock();
            if let Some(reason) = &st.closed {
                return Err(Error::Closed {
                    reason: reason.clone(),
                });
            }
            st.pending.insert(id, tx);
            st.pending.len() > 1
        };
        let reply = Reply {
            rx,
            _forget: ForgetOnDrop {
                shared: shared.clone(),
                id,
                answered: false,
            },
        };
        let mut parts = Vec::with_capacity(tail.len() + 1);
        parts.push(head);
        parts.extend_from_slice(tail);
        shared
            .send_packets(id, packet_type, &parts, others_pending)
            .await?;
        Ok(reply)
    }
}

impl RoomClient {
    /// Starts the I/O task on `transport`; messages go to `router` from the first one on.
    /// The client is made by [`Started::into_client`] once the handshake is done.
    pub(crate) fn start(
        transport: impl crate::core::transport::Transport,
        limits: crate::core::framing::Limits,
        router: Router,
    ) -> Started {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            socket: Socket::new(transport),
            next_id: AtomicU64::new(0),
            client: std::sync::OnceLock::new(),
            router,
        });
        let io = tokio::spawn(io_loop(Reassembler::new(limits), shared.clone()));
        // Until the client owns it, the task dies with `Started` (also when a caller's
        // timeout drops the connect future mid-handshake).
        Started {
            shared,
            tasks: AbortOnDrop(io),
        }
    }
}

/// A connection whose I/O runs but whose handshake is not done yet.
pub(crate) struct Started {
    pub(crate) shared: Arc<Shared>,
    tasks: AbortOnDrop,
}

impl Started {
    /// The client over this connection.
    pub(crate) fn into_client(
        self,
        info: RoomInfo,
        request_timeout: Option<Duration>,
    ) -> RoomClient {
        let client = RoomClient {
            inner: Arc::new(Inner {
                shared: self.shared,
                info,
                request_timeout,
                _tasks: self.tasks,
            }),
        };
        let _ = client
            .inner
            .shared
            .client
            .set(Arc::downgrade(&client.inner));
        client
    }
}

/// The background I/O task; aborted when dropped (with the client, or with a connect
/// future dropped mid-handshake).
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The reply to a sent request. Dropping it forgets the call.
pub(crate) struct Reply {
    rx: oneshot::Receiver<Result<Content>>,
    _forget: ForgetOnDrop,
}

impl std::future::Future for Reply {
    type Output = Result<Content>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<Content>> {
        let closed = |s: &Self| s._forget.shared.closed_error();
        match Pin::new(&mut self.rx).poll(cx) {
            Poll::Ready(Ok(r)) => {
                self._forget.answered = true;
                Poll::Ready(r)
            }
            Poll::Ready(Err(_)) => Poll::Ready(Err(closed(&self))),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// Removes a pending call when its future is dropped before the reply.
struct ForgetOnDrop {
    shared: Arc<Shared>,
    id: u64,
    /// The reply came, so the I/O task already removed the call: no lock to take (it is
    /// contended by the I/O task on another thread).
    answered: bool,
}

impl Drop for ForgetOnDrop {
    fn drop(&mut self) {
        if self.answered {
            return;
        }
        self.shared.lock().pending.remove(&self.id);
    }
}

pub(crate) fn new_tool_call_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// The I/O task: lets the socket finish queued writes and reads, reassembles and
/// dispatches what arrives, until the connection ends.
async fn io_loop(mut reassembler: Reassembler, shared: Arc<Shared>) {
    let mut since_yield = 0;
    let mut answers = Answers::default();
    let reason = loop {
        let read = std::future::poll_fn(|cx| {
            let read = shared.socket.poll_io(cx, &mut reassembler);
            if read.is_pending() {
                answers.hand_over();
            }
            read
        })
        .await;
        match read {
            Read::Packets(n, message) => {
                if let Some(message) = message {
                    if message.message_type == sp::RESPONSE {
                        answers.add(&shared, message);
                    } else {
                        // Replies that came first are handed over first.
                        answers.hand_over();
                        dispatch(&shared, message);
                    }
                }
                // After a batch, let the tasks these messages woke run first.
                since_yield += n;
                if since_yield >= crate::core::socket::READ_BATCH {
                    since_yield = 0;
                    answers.hand_over();
                    tokio::task::yield_now().await;
                }
            }
            Read::Ended(reason) => break reason,
        }
    };
    answers.hand_over();
    shared.close(reason);
}

/// Replies read but not yet handed to their calls. While other calls wait, a reply is
/// handed over once the socket has nothing more to read (or before anything else is
/// dispatched), so a caller on another thread is woken once per batch of replies rather
/// than once per reply, and runs while the I/O task sleeps instead of racing it.
#[derive(Default)]
struct Answers(Vec<(oneshot::Sender<Result<Content>>, Result<Content>)>);

impl Answers {
    /// A `__response__`: decoded now, handed over now if no other call is waiting.
    fn add(&mut self, shared: &Shared, message: Message) {
        let (tx, others_waiting) = {
            let mut st = shared.lock();
            let Some(tx) = st.pending.remove(&message.id) else {
                tracing::debug!(id = message.id, "reply for an unknown or forgotten request");
                return;
            };
            (tx, !st.pending.is_empty())
        };
        self.0.push((tx, response(message.data)));
        if !others_waiting {
            self.hand_over();
        }
    }

    fn hand_over(&mut self) {
        for (tx, reply) in self.0.drain(..) {
            // An error only means the call was dropped meanwhile.
            let _ = tx.send(reply);
        }
    }
}

fn dispatch(shared: &Arc<Shared>, message: Message) {
    if message.message_type == sp::RESPONSE {
        // Replies are taken by `io_loop` before dispatch; this only keeps dispatch whole.
        Answers::default().add(shared, message);
    } else {
        shared.router.route(shared, message);
    }
}

/// A `__response__` body: a packed content; `error` content fails the call.
fn response(data: Bytes) -> Result<Content> {
    let packed = unpack(data)?;
    match Content::from_parts(packed.header, packed.tail)? {
        Content::Error { text, code } => Err(Error::server(code, text)),
        other => Ok(other),
    }
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
