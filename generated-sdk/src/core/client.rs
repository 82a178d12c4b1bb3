//! `RoomClient`: the connection and request correlation.
//!
//! Senders queue whole messages in the socket's outbox and write it when the transport is
//! free (see `socket`). One background I/O task finishes queued writes and reassembles
//! incoming packets: a `__response__` settles the waiting call (request id -> pending
//! oneshot; handed over once per batch of reads while other calls wait), everything else
//! goes to the connection's [`Router`]. When the connection is lost the same task reconnects
//! (`reconnect`), unless the loss is final. The task ends when the last `RoomClient` clone
//! is dropped. The handshake lives in `connect`.

use std::fmt;
use std::pin::Pin;

use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use serde::Serialize;
use tokio::sync::oneshot;
use tokio_util::task::AbortOnDropHandle;

use crate::core::connect::RoomInfo;
use crate::core::content::Content;
use crate::core::error::{Error, Result};
use crate::core::invoke::{invoke_header, BinaryArguments, Invoke, JsonArguments};
use crate::core::options::ConnectOptions;
use crate::core::reconnect::Redial;
use crate::core::router::Router;
use crate::core::shared::Shared;
use crate::core::socket::Socket;
use crate::packets::client as cp;

/// A connection to a room. Cheap to clone; the connection closes when the last clone
/// is dropped (or on [`RoomClient::close`]).
#[derive(Clone)]
pub struct RoomClient {
    pub(crate) inner: Arc<Inner>,
    /// How this handle's calls are made (a per-call override of the request timeout).
    pub(crate) call: CallSettings,
}

/// Per-handle call settings; copied with the handle.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct CallSettings {
    /// Overrides the client's request timeout (`Some(None)`: no limit).
    request_timeout: Option<Option<Duration>>,
    /// The client's own calls while it restores its state after a reconnection: they go
    /// out before the connection is open to everyone else.
    restoring: bool,
}

pub(crate) struct Inner {
    shared: Arc<Shared>,
    /// The room's name and URL (from the first `room_ready`; they never change).
    room_name: String,
    room_url: String,
    request_timeout: Option<Duration>,
    stream_idle_timeout: Option<Duration>,
    /// The background I/O task, held only to abort it with the last clone (`None`: the
    /// connection ended during the handshake).
    _tasks: Option<AbortOnDropHandle<()>>,
}

impl fmt::Debug for RoomClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RoomClient")
            .field("room_name", &self.inner.room_name)
            .field("session_id", &self.session_id())
            .field("participant_id", &self.local_participant().id)
            .finish_non_exhaustive()
    }
}

impl RoomClient {
    /// Room name, URL and session id from the latest `room_ready` (the session id changes
    /// with each reconnection).
    pub fn info(&self) -> RoomInfo {
        crate::core::connect::room_info(self).unwrap_or_else(|| RoomInfo {
            room_name: self.inner.room_name.clone(),
            room_url: self.inner.room_url.clone(),
            session_id: String::new(),
        })
    }

    /// The room's name.
    pub fn room_name(&self) -> &str {
        &self.inner.room_name
    }

    /// The room's URL as the server reported it.
    pub fn room_url(&self) -> &str {
        &self.inner.room_url
    }

    /// The current session's id (a new one after each reconnection).
    pub fn session_id(&self) -> String {
        self.info().session_id
    }

    /// A handle to the same connection whose calls wait at most `timeout` for their reply
    /// (`None`: no limit), instead of the client's request timeout. Every sub-client of
    /// the returned handle uses it:
    ///
    /// ```no_run
    /// # async fn demo(room: meshagent_room::RoomClient) -> meshagent_room::Result<()> {
    /// # use std::time::Duration;
    /// let slow = room.with_request_timeout(Some(Duration::from_secs(600)));
    /// let jobs = slow.queues().receive("jobs").wait(true).await?;
    /// # Ok(()) }
    /// ```
    pub fn with_request_timeout(&self, timeout: Option<Duration>) -> RoomClient {
        RoomClient {
            inner: self.inner.clone(),
            call: CallSettings {
                request_timeout: Some(timeout),
                ..self.call
            },
        }
    }

    /// The request timeout this handle's calls use.
    pub fn request_timeout(&self) -> Option<Duration> {
        self.call
            .request_timeout
            .unwrap_or(self.inner.request_timeout)
    }

    /// The longest quiet time on this client's streams.
    pub(crate) fn stream_idle_timeout(&self) -> Option<Duration> {
        self.inner.stream_idle_timeout
    }

    /// A handle for the client's own calls while it restores its state after a
    /// reconnection: they do not wait for the connection to open to everyone.
    pub(crate) fn restoring(&self, timeout: Duration) -> RoomClient {
        RoomClient {
            inner: self.inner.clone(),
            call: CallSettings {
                request_timeout: Some(Some(timeout)),
                restoring: true,
            },
        }
    }

    /// Waits until the connection is open: at once while it is, until the reconnection
    /// when it was lost; [`Error::Closed`] once it is closed for good.
    pub async fn wait_connected(&self) -> Result<()> {
        self.inner.shared.wait_up().await
    }

    /// Whether the connection is open now (false while reconnecting and once closed).
    pub fn is_connected(&self) -> bool {
        let st = self.inner.shared.lock();
        st.closed.is_none() && st.down.is_none()
    }

    /// Waits until calls may go out (see [`Shared::wait_up`]), bounded by this handle's
    /// request timeout; the client's own restoring calls do not wait.
    pub(crate) async fn ready(&self) -> Result<()> {
        if self.call.restoring {
            return Ok(());
        }
        match self.request_timeout() {
            Some(limit) => tokio::time::timeout(limit, self.inner.shared.wait_up())
                .await
                .unwrap_or(Err(Error::Timeout(limit, "the reconnection"))),
            None => self.inner.shared.wait_up().await,
        }
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
        self.inner.shared.lock().closing = true;
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
        if shared.lock().down.is_some() {
            self.ready().await?;
        }
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
        match self.request_timeout() {
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
        let others_pending = loop {
            {
                let mut st = shared.lock();
                if let Some(reason) = &st.closed {
                    return Err(Error::Closed {
                        reason: reason.clone(),
                    });
                }
                if st.down.is_none() || self.call.restoring {
                    st.pending.insert(id, tx);
                    break st.pending.len() > 1;
                }
            }
            // Lost and being reopened: the call goes out on the next connection.
            self.ready().await?;
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
    /// Starts the I/O loop on `transport`; messages go to `router` from the first one on.
    /// The client is made by [`Started::into_client`] once the handshake is done.
    pub(crate) fn start(
        transport: impl crate::core::transport::Transport,
        options: &ConnectOptions,
        router: Router,
        redial: Option<Redial>,
    ) -> Started {
        let socket = Socket::new(transport, options.send_queue);
        let shared = Arc::new(Shared::new(socket, router, redial));
        let io = Box::pin(crate::core::io_task::io_loop(
            options.limits,
            shared.clone(),
        ));
        Started {
            shared,
            io: Some(io),
        }
    }
}

/// A connection whose handshake is not done yet. Its I/O loop is polled by the connecting
/// task itself ([`Started::poll_io`]) and becomes a task of its own only with the client:
/// a connect then costs no task wake-up (on a multi-thread runtime, no cross-thread one)
/// per handshake message. Dropped (an error, or a caller's timeout mid-handshake), it
/// drops the loop and with it the connection.
pub(crate) struct Started {
    pub(crate) shared: Arc<Shared>,
    /// The I/O loop; `None` once it has ended.
    io: Option<Pin<Box<dyn std::future::Future<Output = ()> + Send>>>,
}

impl Started {
    /// Runs the I/O loop as far as it goes now, from the caller's task; never ready (an
    /// ended loop has closed the client, which the caller sees).
    pub(crate) fn poll_io(&mut self, cx: &mut Context<'_>) {
        if let Some(io) = self.io.as_mut() {
            if io.as_mut().poll(cx).is_ready() {
                self.io = None;
            }
        }
    }

    /// The client over this connection; the I/O loop goes on in a task of its own.
    pub(crate) fn into_client(self, info: RoomInfo, options: &ConnectOptions) -> RoomClient {
        let client = RoomClient {
            inner: Arc::new(Inner {
                shared: self.shared,
                room_name: info.room_name,
                room_url: info.room_url,
                request_timeout: options.request_timeout,
                stream_idle_timeout: options.stream_idle_timeout,
                _tasks: self.io.map(|io| AbortOnDropHandle::new(tokio::spawn(io))),
            }),
            call: CallSettings::default(),
        };
        let _ = client
            .inner
            .shared
            .client
            .set(Arc::downgrade(&client.inner));
        client
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

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
