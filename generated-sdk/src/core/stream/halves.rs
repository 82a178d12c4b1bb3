//! The two halves of a streaming call. The request half sends request chunks and the one
//! request-side close; the response half reads the server's `control/open` and response
//! chunks. A [`ToolCallStream`](super::ToolCallStream) is both; a free-running session
//! (exec, the request pump of `invoke_stream`) splits it and drives each from its own task.

use std::time::Duration;

use super::{ChunkReceiver, StreamRoutes};
use crate::core::client::{Reply, RoomClient};
use crate::core::content::{Content, Control, CLOSE_NORMAL};
use crate::core::error::{Error, Result};
use crate::core::packing::pack_header;
use crate::packets::client as cp;
use serde::Serialize;
use serde_json::Value;

/// How request chunks are sent, chosen when the stream is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RequestChunks {
    /// Each chunk is a request whose reply (the acknowledgement) is awaited before the
    /// next; an `error` reply fails the send. Protocol 0.35.8.
    Acked,
    /// Each chunk is sent without waiting: nothing is awaited and any reply is ignored
    /// (protocol 0.47 and later, Python's `send_nowait`). Chunks still go out in order.
    Unacked,
}

impl RequestChunks {
    /// The policy of a stream whose flow shape declares `acked`: chunks are acknowledged
    /// only when the shape and the protocol ([`crate::protocol::REQUEST_CHUNK_ACKS`]) both
    /// say so.
    pub(crate) const fn effective(acked: bool) -> Self {
        if acked && crate::protocol::REQUEST_CHUNK_ACKS {
            RequestChunks::Acked
        } else {
            RequestChunks::Unacked
        }
    }

    /// The protocol's own policy, for streams with no flow shape (`open_stream`, exec,
    /// `invoke_stream`, sync).
    pub(crate) const fn of_protocol() -> Self {
        Self::effective(true)
    }
}

impl Default for RequestChunks {
    fn default() -> Self {
        Self::of_protocol()
    }
}

/// The request side of a stream: chunks out, then exactly one `control/close`, also when
/// dropped early.
#[derive(Debug)]
pub(crate) struct RequestHalf {
    room: RoomClient,
    tool: String,
    tool_call_id: String,
    policy: RequestChunks,
    /// The acknowledgement of the last pipelined chunk, awaited before the next.
    unacked: Option<Reply>,
    pub(super) closed: bool,
    /// The connection the stream was opened on: after a loss the room forgot the call,
    /// so nothing more is sent for it (not even the close).
    epoch: u64,
}

#[derive(Serialize)]
struct ChunkHeader<'a> {
    tool_call_id: &'a str,
    chunk: Value,
}

/// The packed `room.tool_call_request_chunk` header of a chunk of `tool_call_id`.
fn chunk_head(tool_call_id: &str, chunk: Value) -> Result<Vec<u8>> {
    Ok(pack_header(&ChunkHeader {
        tool_call_id,
        chunk,
    })?)
}

fn close_head(tool_call_id: &str) -> Result<Vec<u8>> {
    let close = Content::Control(Control::Close {
        status_code: CLOSE_NORMAL,
        message: None,
    });
    chunk_head(tool_call_id, close.header())
}

impl RequestHalf {
    /// A request half with nothing to close yet (the invoke is not sent).
    pub(super) fn new(
        room: RoomClient,
        tool: String,
        tool_call_id: String,
        policy: RequestChunks,
    ) -> Self {
        let epoch = room.shared().epoch();
        RequestHalf {
            room,
            tool,
            tool_call_id,
            policy,
            unacked: None,
            closed: true,
            epoch,
        }
    }

    /// Sends one chunk. Acknowledged chunks wait for their reply (bounded by the client's
    /// request timeout) and an `error` reply fails the send; unacknowledged ones only wait
    /// until the chunk is queued.
    pub(crate) async fn send(&mut self, chunk: Content) -> Result<()> {
        let head = self.head(chunk.header()).await?;
        match self.policy {
            RequestChunks::Acked => self
                .room
                .request(cp::ROOM_TOOL_CALL_REQUEST_CHUNK, &head, chunk.tail())
                .await
                .map(drop),
            RequestChunks::Unacked => self.send_unacked(&head, &[chunk.tail()]).await,
        }
    }

    /// Sends one chunk, given as its JSON header and its payload in pieces (framed as they
    /// are), without waiting for its acknowledgement: that is awaited before the next
    /// chunk goes out, or by [`RequestHalf::settle`].
    pub(crate) async fn send_parts_pipelined(
        &mut self,
        chunk_header: Value,
        payload: &[&[u8]],
    ) -> Result<()> {
        let head = self.head(chunk_header).await?;
        match self.policy {
            RequestChunks::Acked => {
                self.unacked = Some(
                    self.room
                        .start_request(cp::ROOM_TOOL_CALL_REQUEST_CHUNK, &head, payload)
                        .await?,
                );
                Ok(())
            }
            RequestChunks::Unacked => self.send_unacked(&head, payload).await,
        }
    }

    /// Waits for the acknowledgement of the last pipelined chunk (bounded by the client's
    /// request timeout); an `error` reply fails.
    pub(crate) async fn settle(&mut self) -> Result<()> {
        match self.unacked.take() {
            Some(ack) => self.room.reply_within_timeout(ack).await.map(drop),
            None => Ok(()),
        }
    }

    /// Sends the `control/close` (exactly once; later calls do nothing) after the last
    /// chunk is acknowledged, and waits for its own acknowledgement.
    pub(crate) async fn close(&mut self) -> Result<()> {
        if self.closed {
            return Ok(());
        }
        let settled = self.settle().await;
        self.closed = true;
        self.check_connection()?;
        let head = close_head(&self.tool_call_id)?;
        let closed = match self.policy {
            RequestChunks::Acked => self
                .room
                .request(cp::ROOM_TOOL_CALL_REQUEST_CHUNK, &head, &[])
                .await
                .map(drop),
            RequestChunks::Unacked => self.send_unacked(&head, &[]).await,
        };
        closed.and(settled)
    }

    /// Sends the `control/close` now, forgetting an acknowledgement still awaited, and
    /// returns the close's own acknowledgement for the caller to await or drop (`None`
    /// when already closed or unacknowledged).
    #[cfg_attr(not(feature = "containers"), allow(dead_code))] // exec's writer
    pub(crate) async fn start_close(&mut self) -> Result<Option<Reply>> {
        if self.closed {
            return Ok(None);
        }
        self.closed = true;
        self.unacked = None;
        self.check_connection()?;
        let head = close_head(&self.tool_call_id)?;
        match self.policy {
            RequestChunks::Acked => self
                .room
                .start_request(cp::ROOM_TOOL_CALL_REQUEST_CHUNK, &head, &[])
                .await
                .map(Some),
            RequestChunks::Unacked => self.send_unacked(&head, &[]).await.map(|()| None),
        }
    }

    /// Settles the previous chunk, then packs the header of the next one.
    async fn head(&mut self, chunk_header: Value) -> Result<Vec<u8>> {
        self.settle().await?;
        self.check_connection()?;
        if self.closed {
            return Err(Error::InvalidArguments(format!(
                "{}: the request side is closed",
                self.tool
            )));
        }
        chunk_head(&self.tool_call_id, chunk_header)
    }

    /// Fails once the connection the stream was opened on is lost.
    fn check_connection(&self) -> Result<()> {
        let shared = self.room.shared();
        if self.room.is_closed() {
            return Err(shared.closed_error());
        }
        if shared.epoch() != self.epoch {
            return Err(Error::Disconnected {
                reason: format!("{}: the connection was lost mid-stream", self.tool),
            });
        }
        Ok(())
    }

    /// Sends a chunk as a request whose reply nobody waits for (it is dropped on arrival).
    async fn send_unacked(&self, head: &[u8], payload: &[&[u8]]) -> Result<()> {
        self.check_connection()?;
        let shared = self.room.shared();
        let mut parts = Vec::with_capacity(payload.len() + 1);
        parts.push(head);
        parts.extend_from_slice(payload);
        shared
            .send_parts(shared.next_id(), cp::ROOM_TOOL_CALL_REQUEST_CHUNK, &parts)
            .await
    }
}

impl Drop for RequestHalf {
    fn drop(&mut self) {
        // Dropped early: still tell the server, so it can free the call (unless the
        // connection it was on is gone).
        if !self.closed && self.room.shared().epoch() == self.epoch {
            close_detached(&self.room, &self.tool_call_id);
        }
    }
}

/// Sends the request-side close of `tool_call_id` from a `Drop`: detached, so an
/// unacknowledged close never keeps the connection alive.
fn close_detached(room: &RoomClient, tool_call_id: &str) {
    if room.is_closed() {
        return;
    }
    if let Ok(head) = close_head(tool_call_id) {
        room.shared()
            .send_detached(cp::ROOM_TOOL_CALL_REQUEST_CHUNK, head);
    }
}

/// The response side of a stream: the server's `control/open`, then response chunks
/// until its close. Dropping it stops routing chunks to the stream.
#[derive(Debug)]
pub(crate) struct ResponseHalf {
    room: RoomClient,
    tool: String,
    tool_call_id: String,
    /// The reply to the invoke, until it has arrived.
    pub(super) opened: Option<Reply>,
    chunks: ChunkReceiver,
    closed: bool,
}

impl ResponseHalf {
    /// The response half of a stream already routed to `chunks`.
    pub(super) fn new(
        room: RoomClient,
        tool: String,
        tool_call_id: String,
        chunks: ChunkReceiver,
    ) -> Self {
        ResponseHalf {
            room,
            tool,
            tool_call_id,
            opened: None,
            chunks,
            closed: false,
        }
    }

    /// Waits for the server's `control/open` (once, bounded by the client's request
    /// timeout); an `error` reply fails.
    pub(crate) async fn ensure_open(&mut self) -> Result<()> {
        // Cancel-safe: the reply is kept until it has arrived.
        if let Some(opened) = self.opened.as_mut() {
            // On a timeout the reply is kept, so a later call still sees the open.
            let reply = self.room.reply_within_timeout(opened).await;
            if matches!(reply, Err(Error::Timeout(..))) {
                return reply.map(drop);
            }
            self.opened = None;
            match reply? {
                Content::Control(Control::Open) => {}
                other => {
                    return Err(Error::unexpected(
                        &self.tool,
                        format!("expected control/open, got {}", other.type_name()),
                    ))
                }
            }
        }
        Ok(())
    }

    /// Waits for the reply to the invoke (once, bounded by the client's request timeout):
    /// `None` when it is `control/open` (or was already taken), else the reply itself, for
    /// tools whose server may answer the call at once (0.56 `containers.build`); an
    /// `error` reply fails. Cancel-safe, as [`ResponseHalf::ensure_open`].
    pub(crate) async fn open_or_reply(&mut self) -> Result<Option<Content>> {
        let Some(opened) = self.opened.as_mut() else {
            return Ok(None);
        };
        let reply = self.room.reply_within_timeout(opened).await;
        if matches!(reply, Err(Error::Timeout(..))) {
            return reply.map(Some);
        }
        self.opened = None;
        match reply? {
            Content::Control(Control::Open) => Ok(None),
            other => Ok(Some(other)),
        }
    }

    /// The next response chunk: `Ok(None)` after a normal close, [`Error::StreamClosed`]
    /// after an abnormal one, `error` chunks as [`Content::Error`].
    pub(crate) async fn recv(&mut self) -> Result<Option<Content>> {
        self.ensure_open().await?;
        if self.closed {
            return Ok(None);
        }
        let next = match self.room.stream_idle_timeout() {
            Some(limit) => match tokio::time::timeout(limit, self.chunks.recv()).await {
                Ok(next) => next,
                Err(_) => return Err(Error::Timeout(limit, "a stream chunk (idle stream)")),
            },
            None => self.chunks.recv().await,
        };
        match next {
            None => Err(self.room.shared().closed_error()),
            Some(Err(e)) => {
                self.closed = true;
                Err(e)
            }
            Some(Ok(Content::Control(Control::Close {
                status_code,
                message,
            }))) => {
                self.closed = true;
                if status_code == CLOSE_NORMAL {
                    Ok(None)
                } else {
                    Err(Error::stream_closed(status_code, message))
                }
            }
            Some(Ok(chunk)) => Ok(Some(chunk)),
        }
    }

    /// Like [`ResponseHalf::recv`], failing with [`Error::Timeout`] after `timeout`.
    pub(crate) async fn recv_timeout(&mut self, timeout: Duration) -> Result<Option<Content>> {
        tokio::time::timeout(timeout, self.recv())
            .await
            .unwrap_or(Err(Error::Timeout(timeout, "a stream chunk")))
    }

    /// Whether the server has closed its side.
    pub(crate) fn is_finished(&self) -> bool {
        self.closed
    }
}

impl Drop for ResponseHalf {
    fn drop(&mut self) {
        StreamRoutes::remove_of(&self.room, &self.tool_call_id);
    }
}
