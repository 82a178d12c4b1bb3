//! `RoomClient`: the connection, request correlation and event fan-out.
//!
//! One background task owns the transport: it sends whole messages from a bounded queue
//! (so messages never interleave), and reassembles incoming packets, routing
//! `__response__` to the waiting call and everything else to event subscribers. It ends
//! when the last `RoomClient` clone is dropped.

use std::collections::HashMap;
use std::fmt;
use std::future::IntoFuture;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::Stream;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use url::Url;

use crate::core::content::Content;
use crate::core::error::{Error, Result};
use crate::core::framing::{encode_message_parts, Limits, Message, Reassembler};
use crate::core::packing::{pack_header, unpack};
use crate::core::socket::{Read, Socket};
use crate::core::transport::{connect_url, connect_websocket, Token, Transport};
use crate::core::types::UnknownPacket;
use crate::packets::{client as cp, server as sp};
use crate::RoomEvent;

/// Prefix of `room.tool_call.<toolkit>`, the calls to toolkits this client hosts.
const HOSTED_CALL_PREFIX: &str = "room.tool_call.";

/// What `room_ready` says about the room.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RoomInfo {
    /// The room's name.
    pub room_name: String,
    /// The room's URL as the server sees it.
    pub room_url: String,
    /// This connection's session id.
    pub session_id: String,
}

/// The participant this client is, from the `connected` packet.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalParticipant {
    /// Participant id.
    pub id: String,
    /// Attributes the server gave it at connect.
    pub attributes: Map<String, Value>,
}

#[derive(Deserialize)]
struct Connected {
    #[serde(rename = "type")]
    kind: String,
    #[serde(rename = "participantId")]
    participant_id: String,
    #[serde(default)]
    attributes: Map<String, Value>,
}

/// Options for [`RoomClient::connect`].
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// How long to wait for `room_ready` and `connected` (default 30 s).
    pub handshake_timeout: Duration,
    /// Bounds on incoming messages (see [`Limits`]).
    pub limits: Limits,
    /// TLS settings for `wss` (default: rustls with the Mozilla roots).
    pub tls: Option<Arc<rustls::ClientConfig>>,
    /// Longest wait for the reply to any request, [`Error::Timeout`] after (default none: the
    /// protocol has no timeout of its own, and `queues.receive` may wait on purpose).
    pub request_timeout: Option<Duration>,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            handshake_timeout: Duration::from_secs(30),
            limits: Limits::default(),
            tls: None,
            request_timeout: None,
        }
    }
}

/// A pending connect; set options, then `.await` it.
#[must_use = "connecting does nothing until awaited"]
#[derive(Debug)]
pub struct Connect {
    url: Url,
    token: Token,
    options: ConnectOptions,
}

impl Connect {
    /// Sets how long to wait for the room's handshake.
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.options.handshake_timeout = timeout;
        self
    }

    /// Sets the incoming message limits.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.options.limits = limits;
        self
    }

    /// Sets the longest wait for any request's reply.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.options.request_timeout = Some(timeout);
        self
    }

    /// Sets the TLS configuration used for `wss`.
    pub fn tls(mut self, config: Arc<rustls::ClientConfig>) -> Self {
        self.options.tls = Some(config);
        self
    }
}

impl IntoFuture for Connect {
    type Output = Result<(RoomClient, RoomEvents)>;
    type IntoFuture = BoxFuture<'static, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let url = connect_url(&self.url, &self.token);
            let transport = connect_websocket(&url, self.options.tls.clone()).await?;
            RoomClient::with_transport(transport, self.options).await
        })
    }
}

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
    handshake: watch::Sender<()>,
    /// The transport, written by senders directly and read by the I/O task.
    socket: Socket,
    next_id: AtomicU64,
}

#[derive(Default)]
pub(crate) struct State {
    pending: HashMap<u64, oneshot::Sender<Result<Content>>>,
    pub(crate) closed: Option<String>,
    subscribers: Vec<mpsc::UnboundedSender<RoomEvent>>,
    room: Option<RoomInfo>,
    participant: Option<LocalParticipant>,
    hosted: HashMap<String, Arc<crate::surfaces::hosting::Toolkit>>,
    /// Remote participants by id, from messaging events.
    pub(crate) participants:
        indexmap::IndexMap<String, crate::surfaces::participants::RemoteParticipant>,
    /// Who answers the server's secret requests.
    #[cfg(feature = "secrets")]
    pub(crate) secrets_handler:
        Option<Arc<dyn crate::surfaces::participants::secrets::SecretsHandler>>,
    /// Open tool-call streams by `tool_call_id`: where their response chunks go.
    pub(crate) streams: HashMap<String, mpsc::UnboundedSender<Result<Content>>>,
}

impl State {
    pub(crate) fn hosted_insert(
        &mut self,
        name: String,
        toolkit: Arc<crate::surfaces::hosting::Toolkit>,
    ) {
        self.hosted.insert(name, toolkit);
    }

    pub(crate) fn hosted_remove(&mut self, name: &str) {
        self.hosted.remove(name);
    }
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // A poisoned lock only means another thread panicked mid-update of plain maps;
        // the data is still usable, and failing every call would be worse.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Marks the connection closed, fails every pending call and ends event streams.
    fn close(&self, reason: String) {
        let (pending, reason) = {
            let mut st = self.lock();
            if st.closed.is_none() {
                tracing::debug!(%reason, "room connection closed");
                st.closed = Some(reason);
            }
            st.subscribers.clear();
            let reason = st.closed.clone().unwrap_or_default();
            for (_, stream) in st.streams.drain() {
                let _ = stream.send(Err(Error::Closed {
                    reason: reason.clone(),
                }));
            }
            (std::mem::take(&mut st.pending), reason)
        };
        for (_, tx) in pending {
            let _ = tx.send(Err(Error::Closed {
                reason: reason.clone(),
            }));
        }
        self.handshake.send_replace(());
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
    #[allow(dead_code)] // used by the secrets feature
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

    pub(crate) fn hosted(&self, toolkit: &str) -> Option<Arc<crate::surfaces::hosting::Toolkit>> {
        self.lock().hosted.get(toolkit).cloned()
    }

    fn publish(self: &Arc<Self>, event: RoomEvent) {
        crate::surfaces::participants::observe(self, &event);
        self.lock()
            .subscribers
            .retain(|s| s.send(event.clone()).is_ok());
    }
}

/// A stream of server-pushed events. Every subscriber sees every event pushed after it
/// subscribed; the stream ends when the connection closes. Events wait in an unbounded
/// queue until read, so none is lost to a slow reader.
#[derive(Debug)]
pub struct RoomEvents {
    rx: mpsc::UnboundedReceiver<RoomEvent>,
}

impl Stream for RoomEvents {
    type Item = RoomEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<RoomEvent>> {
        self.rx.poll_recv(cx)
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

#[derive(Serialize)]
struct InvokeHeader<'a, A: Serialize> {
    toolkit: &'a str,
    tool: &'a str,
    // Python always sends these two, as null when unset; the spec follows Python.
    participant_id: Option<&'a str>,
    on_behalf_of_id: Option<&'a str>,
    arguments: A,
    tool_call_id: &'a str,
}

#[derive(Serialize)]
struct JsonArguments<'a, T: Serialize> {
    #[serde(rename = "type")]
    kind: &'static str,
    json: &'a T,
}

impl RoomClient {
    /// Connects to the room at `url` (see [`crate::room_url`]) with a participant token;
    /// `.await` the result to get the client and its first event stream.
    ///
    /// ```no_run
    /// # async fn demo() -> meshagent_room::Result<()> {
    /// let url = meshagent_room::room_url("https://api.meshagent.com", "my-room")?;
    /// let (room, _events) = meshagent_room::RoomClient::connect(url, "jwt").await?;
    /// let files = room.storage().list("/").await?;
    /// # Ok(()) }
    /// ```
    pub fn connect(url: Url, token: impl Into<Token>) -> Connect {
        Connect {
            url,
            token: token.into(),
            options: ConnectOptions::default(),
        }
    }

    /// Runs the protocol over any [`Transport`] and waits for the room's handshake
    /// (`room_ready` and `connected`).
    pub async fn with_transport(
        transport: impl Transport,
        options: ConnectOptions,
    ) -> Result<(RoomClient, RoomEvents)> {
        let (handshake, mut handshake_rx) = watch::channel(());
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            handshake,
            socket: Socket::new(transport),
            next_id: AtomicU64::new(0),
            client: std::sync::OnceLock::new(),
        });
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        shared.lock().subscribers.push(events_tx);

        let io = tokio::spawn(io_loop(Reassembler::new(options.limits), shared.clone()));
        // Until the client owns it, the task dies with this future (also when a caller's
        // timeout drops it mid-handshake).
        let tasks = AbortOnDrop(io);

        let wait = async {
            loop {
                {
                    let st = shared.lock();
                    if let Some(reason) = &st.closed {
                        return Err(Error::Closed {
                            reason: reason.clone(),
                        });
                    }
                    if let (Some(room), Some(p)) = (&st.room, &st.participant) {
                        return Ok((room.clone(), p.clone()));
                    }
                }
                if handshake_rx.changed().await.is_err() {
                    return Err(shared.closed_error());
                }
            }
        };
        let (info, _participant) = match tokio::time::timeout(options.handshake_timeout, wait).await
        {
            Ok(Ok(v)) => v,
            // Returning drops `tasks`, which stops the background tasks.
            Ok(Err(e)) => return Err(e),
            Err(_) => {
                return Err(Error::Timeout(
                    options.handshake_timeout,
                    "room_ready and connected",
                ))
            }
        };
        let client = RoomClient {
            inner: Arc::new(Inner {
                shared,
                info,
                request_timeout: options.request_timeout,
                _tasks: tasks,
            }),
        };
        let _ = client
            .inner
            .shared
            .client
            .set(Arc::downgrade(&client.inner));
        Ok((client, RoomEvents { rx: events_rx }))
    }

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

    /// The local participant, with its current attributes.
    pub fn local_participant(&self) -> LocalParticipant {
        self.inner
            .shared
            .lock()
            .participant
            .clone()
            .unwrap_or_else(|| LocalParticipant {
                id: String::new(),
                attributes: Map::new(),
            })
    }

    /// Sets one attribute of the local participant (`set_attributes`, no reply), as both
    /// SDKs do, one key per message.
    pub async fn set_attribute(&self, name: &str, value: Value) -> Result<()> {
        let mut header = Map::new();
        header.insert(name.to_string(), value.clone());
        let head = pack_header(&header)?;
        let shared = &self.inner.shared;
        shared
            .send(shared.next_id(), cp::SET_ATTRIBUTES, &head, &[])
            .await?;
        if let Some(p) = shared.lock().participant.as_mut() {
            p.attributes.insert(name.to_string(), value);
        }
        Ok(())
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.inner.shared
    }

    /// A new subscriber to server-pushed events (from now on).
    pub fn subscribe(&self) -> RoomEvents {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut st = self.inner.shared.lock();
        if st.closed.is_none() {
            st.subscribers.push(tx);
        }
        RoomEvents { rx }
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
        let header = InvokeHeader {
            toolkit,
            tool,
            participant_id: None,
            on_behalf_of_id: None,
            arguments: input.header(),
            tool_call_id: &new_tool_call_id(),
        };
        self.request(cp::ROOM_INVOKE_TOOL, &pack_header(&header)?, input.tail())
            .await
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
        #[derive(Serialize)]
        struct BinaryArguments<'a, T: Serialize> {
            #[serde(rename = "type")]
            kind: &'static str,
            headers: &'a T,
        }
        let header = InvokeHeader {
            toolkit,
            tool,
            participant_id: None,
            on_behalf_of_id: None,
            arguments: BinaryArguments {
                kind: "binary",
                headers,
            },
            tool_call_id: &new_tool_call_id(),
        };
        self.request(cp::ROOM_INVOKE_TOOL, &pack_header(&header)?, &tail)
            .await
    }

    /// Calls a tool with a JSON object input; used by the generated methods.
    #[allow(dead_code)] // unused when every toolkit feature is off
    pub(crate) async fn invoke_json<T: Serialize>(
        &self,
        toolkit: &str,
        tool: &str,
        input: &T,
    ) -> Result<Content> {
        let header = InvokeHeader {
            toolkit,
            tool,
            participant_id: None,
            on_behalf_of_id: None,
            arguments: JsonArguments {
                kind: "json",
                json: input,
            },
            tool_call_id: &new_tool_call_id(),
        };
        self.request(cp::ROOM_INVOKE_TOOL, &pack_header(&header)?, &[])
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
        match self.inner.request_timeout {
            // Timing out drops the reply, which forgets the call.
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
    let Message {
        id,
        message_type,
        data,
    } = message;
    match message_type.as_str() {
        // Replies are taken by `io_loop` before dispatch; this only keeps the match whole.
        sp::RESPONSE => Answers::default().add(
            shared,
            Message {
                id,
                message_type,
                data,
            },
        ),
        sp::ROOM_READY => match unpack(data)
            .map_err(Error::from)
            .and_then(|p| decode_header::<RoomInfo>(p.header))
        {
            Ok(info) => {
                shared.lock().room = Some(info);
                shared.handshake.send_replace(());
            }
            Err(e) => tracing::warn!(error = %e, "ignoring a malformed room_ready"),
        },
        sp::CONNECTED => match unpack(data)
            .map_err(Error::from)
            .and_then(|p| decode_header::<Connected>(p.header))
        {
            Ok(c) if c.kind == "init" => {
                shared.lock().participant = Some(LocalParticipant {
                    id: c.participant_id,
                    attributes: c.attributes,
                });
                shared.handshake.send_replace(());
            }
            Ok(c) => {
                tracing::debug!(kind = %c.kind, "ignoring a connected packet that is not init")
            }
            Err(e) => tracing::warn!(error = %e, "ignoring a malformed connected"),
        },
        hosted if hosted.starts_with(HOSTED_CALL_PREFIX) => crate::surfaces::hosting::serve(
            shared.clone(),
            id,
            &hosted[HOSTED_CALL_PREFIX.len()..],
            data,
        ),
        sp::ROOM_TOOL_CALL_RESPONSE_CHUNK => crate::core::stream::route_chunk(shared, data),
        _ => match unpack(data) {
            Ok(packed) => {
                // Decoded by reference, so an unknown packet keeps its header without a copy.
                let header = Value::Object(packed.header);
                match RoomEvent::decode(&message_type, &header, packed.tail.clone()) {
                    Some(Ok(event)) => shared.publish(event),
                    Some(Err(e)) => {
                        tracing::warn!(packet = %message_type, error = %e, "skipping a malformed event")
                    }
                    None => shared.publish(RoomEvent::Unknown(UnknownPacket {
                        packet_type: message_type,
                        header: match header {
                            Value::Object(m) => m,
                            _ => Map::new(),
                        },
                        tail: packed.tail,
                    })),
                }
            }
            Err(e) => {
                tracing::warn!(packet = %message_type, error = %e, "skipping an unpackable packet")
            }
        },
    }
}

fn decode_header<T: serde::de::DeserializeOwned>(header: Map<String, Value>) -> Result<T> {
    serde_json::from_value(Value::Object(header)).map_err(|e| Error::Content(e.to_string()))
}

/// A `__response__` body: a packed content; `error` content fails the call.
fn response(data: Bytes) -> Result<Content> {
    let packed = unpack(data)?;
    match Content::from_parts(packed.header, packed.tail)? {
        Content::Error { text, code } => Err(Error::Server { code, text }),
        other => Ok(other),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn hosted_call_prefix_matches_the_spec() {
        assert_eq!(
            crate::packets::server::ROOM_TOOL_CALL_TOOLKIT.strip_suffix("<toolkit>"),
            Some(super::HOSTED_CALL_PREFIX)
        );
    }
}
