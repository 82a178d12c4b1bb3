//! Streaming tool calls, the chunked mechanism every streaming tool builds on.
//!
//! A stream opens with `room.invoke_tool` whose arguments are `control/open`; the server
//! answers `control/open` (or `error`). Each request chunk is its own
//! `room.tool_call_request_chunk` request and is acknowledged before the next; response
//! chunks arrive as `room.tool_call_response_chunk`, routed here by `tool_call_id`. The
//! server ends its side with `control/close` (1000 is normal, anything else an error);
//! the client always sends exactly one request-side close, also when the stream is
//! dropped early.

use std::time::Duration;

use bytes::Bytes;
use serde::Serialize;
use serde_json::{Map, Value};
use tokio::sync::mpsc;

use crate::core::client::{new_tool_call_id, Reply, RoomClient};
use crate::core::content::{Content, Control, CLOSE_NORMAL};
use crate::core::error::{Error, Result};
use crate::core::packing::pack_header;
use crate::packets::client as cp;

mod routes;
pub(crate) use routes::StreamRoutes;

/// One open streaming call.
#[derive(Debug)]
pub struct ToolCallStream {
    room: RoomClient,
    tool: String,
    tool_call_id: String,
    opened: Option<Reply>,
    /// The acknowledgement of the last pipelined request chunk, awaited before the next.
    unacked: Option<Reply>,
    chunks: mpsc::UnboundedReceiver<Result<Content>>,
    request_closed: bool,
    response_closed: bool,
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Reply")
    }
}

#[derive(Serialize)]
struct OpenHeader<'a> {
    toolkit: &'a str,
    tool: &'a str,
    participant_id: Option<&'a str>,
    on_behalf_of_id: Option<&'a str>,
    arguments: Value,
    tool_call_id: &'a str,
}

#[derive(Serialize)]
struct ChunkHeader<'a> {
    tool_call_id: &'a str,
    chunk: Value,
}

impl RoomClient {
    /// Opens a streaming call of `toolkit.tool`. The stream's response chunks are routed
    /// to it from now on, also those that arrive before the server's `control/open`.
    pub async fn open_stream(&self, toolkit: &str, tool: &str) -> Result<ToolCallStream> {
        self.open_stream_routed(toolkit, tool, None, None).await
    }

    /// [`RoomClient::open_stream`] with the routing of `room.invoke_tool`: the hosting
    /// participant and the participant the call is made on behalf of.
    pub(crate) async fn open_stream_routed(
        &self,
        toolkit: &str,
        tool: &str,
        participant_id: Option<&str>,
        on_behalf_of_id: Option<&str>,
    ) -> Result<ToolCallStream> {
        let tool_call_id = new_tool_call_id();
        let head = pack_header(&OpenHeader {
            toolkit,
            tool,
            participant_id,
            on_behalf_of_id,
            arguments: Content::Control(Control::Open).header(),
            tool_call_id: &tool_call_id,
        })?;
        let (tx, chunks) = mpsc::unbounded_channel();
        StreamRoutes::of(self)?.insert(tool_call_id.clone(), tx)?;
        let mut stream = ToolCallStream {
            room: self.clone(),
            tool: format!("{toolkit}.{tool}"),
            tool_call_id,
            opened: None,
            unacked: None,
            chunks,
            // Nothing to close on the server until the invoke is sent.
            request_closed: true,
            response_closed: false,
        };
        stream.opened = Some(self.start_request(cp::ROOM_INVOKE_TOOL, &head, &[]).await?);
        stream.request_closed = false;
        Ok(stream)
    }
}

impl ToolCallStream {
    /// The client-chosen id that keys this stream.
    pub fn tool_call_id(&self) -> &str {
        &self.tool_call_id
    }

    /// Sends one request chunk and waits for the server to acknowledge it. An `error`
    /// acknowledgement fails the send (the request stream is then over).
    pub async fn send(&mut self, chunk: Content) -> Result<()> {
        self.send_pipelined(chunk).await?;
        self.settle().await
    }

    /// Sends one request chunk without waiting for its acknowledgement, which is awaited
    /// before the next chunk goes out (as the SDKs' request pumps do) or by
    /// [`ToolCallStream::settle`]. Lets a flow read the next response meanwhile.
    pub async fn send_pipelined(&mut self, chunk: Content) -> Result<()> {
        self.send_parts_pipelined(chunk.header(), &[chunk.tail()])
            .await
    }

    /// Like [`ToolCallStream::send_pipelined`] for a chunk given as its JSON header and
    /// its payload in pieces, which are framed as they are, without joining them first.
    pub(crate) async fn send_parts_pipelined(
        &mut self,
        chunk_header: Value,
        payload: &[&[u8]],
    ) -> Result<()> {
        self.settle().await?;
        if self.request_closed {
            return Err(Error::InvalidArguments(format!(
                "{}: the request side is closed",
                self.tool
            )));
        }
        let head = pack_header(&ChunkHeader {
            tool_call_id: &self.tool_call_id,
            chunk: chunk_header,
        })?;
        self.unacked = Some(
            self.room
                .start_request(cp::ROOM_TOOL_CALL_REQUEST_CHUNK, &head, payload)
                .await?,
        );
        Ok(())
    }

    /// Waits for the acknowledgement of the last pipelined chunk; an `error` reply fails.
    pub async fn settle(&mut self) -> Result<()> {
        match self.unacked.take() {
            Some(ack) => ack.await.map(drop),
            None => Ok(()),
        }
    }

    /// Sends a `binary` chunk with these headers and bytes.
    pub async fn send_binary(&mut self, headers: Value, data: Bytes) -> Result<()> {
        let headers = match headers {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        self.send(Content::Binary { headers, data }).await
    }

    /// Waits for the server's `control/open` (once); an `error` reply fails.
    pub async fn ensure_open(&mut self) -> Result<()> {
        // Cancel-safe: the reply is kept until it has arrived.
        if let Some(opened) = self.opened.as_mut() {
            let reply = opened.await;
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

    /// The next response chunk: `Ok(None)` after a normal close, [`Error::StreamClosed`]
    /// after an abnormal one. `error` chunks are returned as [`Content::Error`] (they do not
    /// end the stream); callers decide.
    pub async fn recv(&mut self) -> Result<Option<Content>> {
        self.ensure_open().await?;
        if self.response_closed {
            return Ok(None);
        }
        match self.chunks.recv().await {
            None => Err(self.room.shared().closed_error()),
            Some(Err(e)) => {
                self.response_closed = true;
                Err(e)
            }
            Some(Ok(Content::Control(Control::Close {
                status_code,
                message,
            }))) => {
                self.response_closed = true;
                if status_code == CLOSE_NORMAL {
                    Ok(None)
                } else {
                    Err(Error::StreamClosed {
                        status_code,
                        message,
                    })
                }
            }
            Some(Ok(chunk)) => Ok(Some(chunk)),
        }
    }

    /// Like [`ToolCallStream::recv`], failing with [`Error::Timeout`] after `timeout`.
    pub async fn recv_timeout(&mut self, timeout: Duration) -> Result<Option<Content>> {
        tokio::time::timeout(timeout, self.recv())
            .await
            .unwrap_or(Err(Error::Timeout(timeout, "a stream chunk")))
    }

    /// Sends the request-side `control/close` (exactly once; later calls do nothing).
    pub async fn close(&mut self) -> Result<()> {
        if self.request_closed {
            return Ok(());
        }
        // The close is the last chunk: earlier chunks are acknowledged first.
        let settled = self.settle().await;
        self.request_closed = true;
        send_close(&self.room, &self.tool_call_id)
            .await
            .and(settled)
    }

    /// Whether the server has closed its side.
    pub fn is_finished(&self) -> bool {
        self.response_closed
    }
}

async fn send_close(room: &RoomClient, tool_call_id: &str) -> Result<()> {
    let close = Content::Control(Control::Close {
        status_code: CLOSE_NORMAL,
        message: None,
    });
    let head = pack_header(&ChunkHeader {
        tool_call_id,
        chunk: close.header(),
    })?;
    room.request(cp::ROOM_TOOL_CALL_REQUEST_CHUNK, &head, &[])
        .await
        .map(drop)
}

impl Drop for ToolCallStream {
    fn drop(&mut self) {
        StreamRoutes::remove_of(&self.room, &self.tool_call_id);
        // Dropped early: still tell the server, so it can free the call.
        if !self.request_closed {
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
    let close = Content::Control(Control::Close {
        status_code: CLOSE_NORMAL,
        message: None,
    });
    if let Ok(head) = pack_header(&ChunkHeader {
        tool_call_id,
        chunk: close.header(),
    }) {
        room.shared()
            .send_detached(cp::ROOM_TOOL_CALL_REQUEST_CHUNK, head);
    }
}

/// A streamed call in both directions: `input` goes out as request chunks (each
/// acknowledged before the next, then the close) from a task of its own, while the
/// returned stream yields the response chunks. `error` chunks are yielded as content (the
/// stream goes on, as in the SDKs); a normal close ends the stream, an abnormal one is
/// [`Error::StreamClosed`]; a refused request chunk ends it with that error. Dropping the
/// returned stream stops sending and closes the request side.
pub(crate) fn invoke_stream(
    mut stream: ToolCallStream,
    input: futures::stream::BoxStream<'static, Content>,
) -> futures::stream::BoxStream<'static, Result<Content>> {
    use futures::StreamExt;
    let side = RequestSide {
        room: stream.room.clone(),
        tool_call_id: stream.tool_call_id.clone(),
        closed: false,
    };
    // The pump owns the request side from here on.
    stream.request_closed = true;
    let pump = Some(Pump(tokio::spawn(pump_requests(side, input))));
    futures::stream::unfold(Some((stream, pump)), |state| async move {
        let (mut stream, mut pump) = state?;
        loop {
            let Some(p) = pump.as_mut() else {
                // Everything is sent: only responses are left.
                return next_chunk(stream, None).await;
            };
            tokio::select! {
                biased;
                chunk = stream.recv() => return item(chunk, stream, pump),
                sent = &mut p.0 => match sent {
                    Ok(Ok(())) => pump = None,
                    Ok(Err(e)) => return Some((Err(e), None)),
                    Err(e) => {
                        let e = Error::InvalidArguments(format!("the input stream failed: {e}"));
                        return Some((Err(e), None));
                    }
                },
            }
        }
    })
    .boxed()
}

type ChunkState = Option<(ToolCallStream, Option<Pump>)>;

async fn next_chunk(
    mut stream: ToolCallStream,
    pump: Option<Pump>,
) -> Option<(Result<Content>, ChunkState)> {
    let chunk = stream.recv().await;
    item(chunk, stream, pump)
}

/// One step of the response stream: a chunk and the state to go on with, or the end.
fn item(
    chunk: Result<Option<Content>>,
    stream: ToolCallStream,
    pump: Option<Pump>,
) -> Option<(Result<Content>, ChunkState)> {
    match chunk {
        Ok(Some(c)) => Some((Ok(c), Some((stream, pump)))),
        Ok(None) => None,
        Err(e) => Some((Err(e), None)),
    }
}

/// The request-side sender of [`invoke_stream`]; aborted (which sends the close) when the
/// response stream is dropped.
struct Pump(tokio::task::JoinHandle<Result<()>>);

impl Drop for Pump {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Sends request chunks of one call; closes the request side exactly once, also when
/// dropped mid-way.
struct RequestSide {
    room: RoomClient,
    tool_call_id: String,
    closed: bool,
}

impl Drop for RequestSide {
    fn drop(&mut self) {
        if !self.closed {
            close_detached(&self.room, &self.tool_call_id);
        }
    }
}

async fn pump_requests(
    mut side: RequestSide,
    mut input: futures::stream::BoxStream<'static, Content>,
) -> Result<()> {
    use futures::StreamExt;
    while let Some(chunk) = input.next().await {
        let head = pack_header(&ChunkHeader {
            tool_call_id: &side.tool_call_id,
            chunk: chunk.header(),
        })?;
        side.room
            .request(cp::ROOM_TOOL_CALL_REQUEST_CHUNK, &head, chunk.tail())
            .await?;
    }
    side.closed = true;
    send_close(&side.room, &side.tool_call_id).await
}
