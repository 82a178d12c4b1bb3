//! Streaming tool calls, the chunked mechanism every streaming tool builds on.
//!
//! A stream opens with `room.invoke_tool` whose arguments are `control/open`; the server
//! answers `control/open` (or `error`). Each request chunk is its own
//! `room.tool_call_request_chunk` request, acknowledged before the next when the stream
//! was opened with [`RequestChunks::Acked`] (the protocol's policy in 0.35.8; from 0.47
//! chunks are not acknowledged, see [`crate::protocol::REQUEST_CHUNK_ACKS`]); response
//! chunks arrive as `room.tool_call_response_chunk`, routed here by `tool_call_id`. The server ends its
//! side with `control/close` (1000 is normal, anything else an error); the client always
//! sends exactly one request-side close, also when the stream is dropped early.
//!
//! A stream is a request half and a response half ([`ToolCallStream::split`]), so a
//! session can send and receive from separate tasks.

mod duplex;
mod halves;
mod routes;
#[cfg(test)]
pub(crate) mod tests;

use std::time::Duration;

use bytes::Bytes;
use serde_json::{Map, Value};

use crate::core::client::{new_tool_call_id, Reply, RoomClient};
use crate::core::content::{Content, Control};
use crate::core::error::Result;
use crate::core::invoke::{invoke_header, Invoke};
use crate::packets::client as cp;

pub(crate) use duplex::invoke_stream;
pub(crate) use halves::{RequestChunks, RequestHalf, ResponseHalf};
pub(crate) use routes::{ChunkReceiver, Overflow, StreamRoutes};

/// One open streaming call.
#[derive(Debug)]
pub struct ToolCallStream {
    // Fields drop in order: the route goes before the request-side close is sent.
    response: ResponseHalf,
    request: RequestHalf,
    tool_call_id: String,
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Reply")
    }
}

impl RoomClient {
    /// Opens a streaming call of `toolkit.tool`. The stream's response chunks are routed
    /// to it from now on, also those that arrive before the server's `control/open`.
    /// Request chunks follow the protocol's policy: acknowledged one by one where the
    /// protocol acknowledges them ([`crate::protocol::REQUEST_CHUNK_ACKS`]), otherwise sent
    /// without waiting (and then [`ToolCallStream::settle`] has nothing to wait for).
    pub async fn open_stream(&self, toolkit: &str, tool: &str) -> Result<ToolCallStream> {
        self.open_stream_with(
            &Invoke::new(toolkit, tool),
            RequestChunks::of_protocol(),
            Overflow::Pause,
        )
        .await
    }

    /// [`RoomClient::open_stream`] of the tool and routing in `to`, its request chunks
    /// sent as `policy` says, a full buffer handled as `overflow` says.
    pub(crate) async fn open_stream_with(
        &self,
        to: &Invoke<'_>,
        policy: RequestChunks,
        overflow: Overflow,
    ) -> Result<ToolCallStream> {
        let tool_call_id = new_tool_call_id();
        let open = Content::Control(Control::Open).header();
        let head = invoke_header(to, &open, &tool_call_id)?;
        let tool = format!("{}.{}", to.toolkit, to.tool);
        let chunks = StreamRoutes::of(self)?.open(
            &self.shared().backpressure,
            tool_call_id.clone(),
            &tool,
            overflow,
        )?;
        // Unroutes if sending the invoke fails.
        let mut response =
            ResponseHalf::new(self.clone(), tool.clone(), tool_call_id.clone(), chunks);
        response.opened = Some(self.start_request(cp::ROOM_INVOKE_TOOL, &head, &[]).await?);
        let mut request = RequestHalf::new(self.clone(), tool, tool_call_id.clone(), policy);
        // The invoke is out: from now on there is a request side to close.
        request.closed = false;
        Ok(ToolCallStream {
            response,
            request,
            tool_call_id,
        })
    }
}

impl ToolCallStream {
    /// The client-chosen id that keys this stream.
    pub fn tool_call_id(&self) -> &str {
        &self.tool_call_id
    }

    /// Sends one request chunk and, where the protocol acknowledges request chunks, waits
    /// for the server to acknowledge it. An `error` acknowledgement fails the send (the
    /// request stream is then over).
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
        self.request
            .send_parts_pipelined(chunk_header, payload)
            .await
    }

    /// Waits for the acknowledgement of the last pipelined chunk; an `error` reply fails.
    pub async fn settle(&mut self) -> Result<()> {
        self.request.settle().await
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
        self.response.ensure_open().await
    }

    /// The next response chunk: `Ok(None)` after a normal close, [`Error::StreamClosed`](crate::Error::StreamClosed)
    /// after an abnormal one. `error` chunks are returned as [`Content::Error`] (they do not
    /// end the stream); callers decide.
    pub async fn recv(&mut self) -> Result<Option<Content>> {
        self.response.recv().await
    }

    /// Like [`ToolCallStream::recv`], failing with [`Error::Timeout`](crate::Error::Timeout) after `timeout`.
    pub async fn recv_timeout(&mut self, timeout: Duration) -> Result<Option<Content>> {
        self.response.recv_timeout(timeout).await
    }

    /// Sends the request-side `control/close` (exactly once; later calls do nothing).
    pub async fn close(&mut self) -> Result<()> {
        // The close is the last chunk: earlier chunks are acknowledged first.
        self.request.close().await
    }

    /// Whether the server has closed its side.
    pub fn is_finished(&self) -> bool {
        self.response.is_finished()
    }

    /// The two halves, to send and receive from separate tasks. Each keeps its part of
    /// the stream's guarantees: the request half closes exactly once (also when dropped),
    /// the response half unroutes when dropped.
    pub(crate) fn split(self) -> (RequestHalf, ResponseHalf) {
        (self.request, self.response)
    }
}
