//! The request-chunk policies and the halves against a scripted room on the in-memory
//! transport.

use std::time::Duration;

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};

use super::{Overflow, RequestChunks, StreamRoutes};
use crate::core::client::RoomClient;
use crate::core::connect::{connect as connect_core, ConnectOptions};
use crate::core::content::Content;
use crate::core::error::Error;
use crate::core::framing::{encode_message, Message, Reassembler};
use crate::core::invoke::Invoke;
use crate::core::packing::{pack, unpack};
use crate::core::router::Router;
use crate::core::transport::{memory_pair, MemoryTransport};

const STEP: Duration = Duration::from_secs(5);

/// The room side: reads what the client sends, answers as the test says (also used by
/// the client's own tests).
pub(crate) struct Peer {
    io: MemoryTransport,
    reassembler: Reassembler,
    next_id: u64,
}

impl Peer {
    pub(crate) async fn send(&mut self, id: u64, packet_type: &str, header: Value) {
        let data = pack(&header, &[]).expect("an object header");
        for packet in encode_message(id, packet_type, &data) {
            self.io.send(packet).await.expect("client listening");
        }
    }

    pub(crate) async fn push(&mut self, packet_type: &str, header: Value) {
        self.next_id += 1;
        self.send(self.next_id, packet_type, header).await;
    }

    /// The client's next message: id, packet type, header, tail.
    pub(crate) async fn recv(&mut self) -> (u64, String, Value, Bytes) {
        loop {
            let packet = tokio::time::timeout(STEP, self.io.next())
                .await
                .expect("a message in time")
                .expect("connected")
                .expect("no transport error");
            if let Some(Message {
                id,
                message_type,
                data,
            }) = self.reassembler.push(packet).expect("framing")
            {
                let p = unpack(data).expect("packing");
                return (id, message_type, Value::Object(p.header), p.tail);
            }
        }
    }

    /// A request chunk, not acknowledged: its message id, chunk header and tail.
    async fn chunk(&mut self) -> (u64, Value, Bytes) {
        let (id, kind, header, tail) = self.recv().await;
        assert_eq!(kind, "room.tool_call_request_chunk", "{header}");
        (id, header["chunk"].clone(), tail)
    }

    /// Nothing arrives for a while.
    pub(crate) async fn silent(&mut self) {
        let got = tokio::time::timeout(Duration::from_millis(100), self.io.next()).await;
        assert!(got.is_err(), "unexpected message from the client");
    }
}

/// A client with only the core's routes (handshake, stream engine) and a scripted peer.
pub(crate) async fn connect() -> (RoomClient, Peer) {
    connect_with(ConnectOptions::default()).await
}

/// [`connect`] with these options.
async fn connect_with(options: ConnectOptions) -> (RoomClient, Peer) {
    let (client_io, server_io) = memory_pair();
    let mut peer = Peer {
        io: server_io,
        reassembler: Reassembler::default(),
        next_id: 1000,
    };
    let handshake = async {
        let ready = json!({"room_name": "r", "room_url": "ws://x/rooms/r", "session_id": "s"});
        peer.push("room_ready", ready).await;
        let init = json!({"type": "init", "participantId": "p-1", "attributes": {}});
        peer.push("connected", init).await;
    };
    let (client, ()) = tokio::join!(
        connect_core(client_io, options, Router::default(), None),
        handshake
    );
    (client.expect("handshake"), peer)
}

fn text(s: &str) -> Content {
    Content::Text(s.into())
}

fn close(status: i64) -> Value {
    json!({"type": "control", "method": "close", "status_code": status})
}

/// Opens `t.x` with `policy`; the peer answers `control/open`. Returns the stream's id.
async fn open(
    room: &RoomClient,
    peer: &mut Peer,
    policy: RequestChunks,
) -> (super::ToolCallStream, String) {
    let to = Invoke::new("t", "x");
    let opening = room.open_stream_with(&to, policy, Overflow::Pause);
    let ((id, kind, header, _), stream) = tokio::join!(peer.recv(), opening);
    assert_eq!(kind, "room.invoke_tool");
    peer.send(
        id,
        "__response__",
        json!({"type": "control", "method": "open"}),
    )
    .await;
    let mut stream = stream.expect("opened");
    stream.ensure_open().await.expect("open");
    let call = header["tool_call_id"].as_str().expect("id").to_string();
    (stream, call)
}

#[tokio::test]
async fn unacked_chunks_do_not_wait_and_stay_ordered() {
    let (room, mut peer) = connect().await;
    let (mut stream, call) = open(&room, &mut peer, RequestChunks::Unacked).await;
    // Nobody acknowledges anything, yet every send and the close return.
    let sends = async {
        for s in ["a", "b", "c"] {
            stream.send(text(s)).await?;
        }
        stream.send_pipelined(text("d")).await?;
        stream.settle().await?;
        stream.close().await
    };
    tokio::time::timeout(STEP, sends)
        .await
        .expect("sends do not wait for replies")
        .expect("sent");
    let mut ids = Vec::new();
    for s in ["a", "b", "c", "d"] {
        let (id, chunk, _) = peer.chunk().await;
        assert_eq!(chunk, json!({"type": "text", "text": s}));
        ids.push(id);
    }
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    assert_eq!(peer.chunk().await.1, close(1000), "exactly one close");
    // A late reply to a chunk (even a refusal) is ignored; responses still flow.
    peer.send(
        ids[0],
        "__response__",
        json!({"type": "error", "text": "no"}),
    )
    .await;
    let header = json!({"tool_call_id": call, "chunk": {"type": "text", "text": "r"}});
    peer.push("room.tool_call_response_chunk", header).await;
    let done = json!({"tool_call_id": call, "chunk": close(1000)});
    peer.push("room.tool_call_response_chunk", done).await;
    let got = stream.recv_timeout(STEP).await.expect("a chunk");
    assert!(matches!(got, Some(Content::Text(t)) if t == "r"));
    assert!(stream.recv_timeout(STEP).await.expect("closed").is_none());
    drop(stream);
    peer.silent().await;
}

#[tokio::test]
async fn acked_chunks_wait_and_a_refused_chunk_fails_the_send() {
    let (room, mut peer) = connect().await;
    let (mut stream, _call) = open(&room, &mut peer, RequestChunks::Acked).await;
    let send = stream.send(text("a"));
    let ((id, chunk, _), sent) = tokio::join!(
        async {
            let got = peer.chunk().await;
            // The send is still waiting: no reply yet.
            peer.silent().await;
            peer.send(got.0, "__response__", json!({"type": "empty"}))
                .await;
            got
        },
        send
    );
    sent.expect("acknowledged");
    assert_eq!(chunk, json!({"type": "text", "text": "a"}));

    let send = stream.send(text("b"));
    let (_, sent) = tokio::join!(
        async {
            let (id2, _, _) = peer.chunk().await;
            assert!(id2 > id);
            let refusal = json!({"type": "error", "text": "refused", "code": 7});
            peer.send(id2, "__response__", refusal).await;
        },
        send
    );
    let err = sent.expect_err("refused");
    assert!(
        matches!(err, Error::Server { code: Some(7), .. }),
        "{err:?}"
    );
    drop(stream);
    assert_eq!(
        peer.chunk().await.1,
        close(1000),
        "the dropped stream closes"
    );
    peer.silent().await;
}

#[tokio::test]
async fn split_halves_close_once_and_unroute() {
    for policy in [RequestChunks::Acked, RequestChunks::Unacked] {
        let (room, mut peer) = connect().await;
        let (stream, call) = open(&room, &mut peer, policy).await;
        let (mut request, response) = stream.split();
        drop(response);
        assert!(!StreamRoutes::of(&room).is_ok_and(|r| r.contains(&call)));
        // The close goes out now; its acknowledgement is the caller's to await.
        let ack = request.start_close().await.expect("sent");
        assert_eq!(ack.is_some(), policy == RequestChunks::Acked);
        assert_eq!(peer.chunk().await.1, close(1000));
        assert!(request.start_close().await.expect("no-op").is_none());
        drop(request);
        peer.silent().await;

        // A dropped request half still closes, exactly once.
        let (stream, _) = open(&room, &mut peer, policy).await;
        let (request, _response) = stream.split();
        drop(request);
        assert_eq!(peer.chunk().await.1, close(1000));
        peer.silent().await;
    }
}

#[tokio::test]
async fn a_free_running_unacked_pump_sends_everything_then_closes() {
    let (room, mut peer) = connect().await;
    let (stream, call) = open(&room, &mut peer, RequestChunks::Unacked).await;
    let input = futures::stream::iter(["a", "b"].map(text)).boxed();
    let mut responses = super::invoke_stream(stream, input);
    // No acknowledgement is ever sent, yet the pump gets through its input and the close.
    for s in ["a", "b"] {
        assert_eq!(peer.chunk().await.1, json!({"type": "text", "text": s}));
    }
    assert_eq!(peer.chunk().await.1, close(1000));
    let header = json!({"tool_call_id": call, "chunk": {"type": "text", "text": "r"}});
    peer.push("room.tool_call_response_chunk", header).await;
    let done = json!({"tool_call_id": call, "chunk": close(1000)});
    peer.push("room.tool_call_response_chunk", done).await;
    let got = tokio::time::timeout(STEP, responses.next())
        .await
        .expect("in time");
    assert!(matches!(got, Some(Ok(Content::Text(t))) if t == "r"));
    let end = tokio::time::timeout(STEP, responses.next())
        .await
        .expect("in time");
    assert!(end.is_none());
    peer.silent().await;
}

/// Every wait for a reply inside a stream is bounded by the client's request timeout: the
/// server's `control/open` and a pipelined chunk's acknowledgement (a silent server cannot
/// hold a stream forever). The open reply is kept across the timeout, so a later call still
/// sees it.
#[tokio::test]
async fn stream_replies_are_bounded_by_the_request_timeout() {
    let limit = Duration::from_millis(150);
    let (room, mut peer) = connect_with(ConnectOptions::default().request_timeout(limit)).await;
    let to = Invoke::new("t", "x");
    let opening = room.open_stream_with(&to, RequestChunks::Acked, Overflow::Pause);
    let ((invoke_id, _, _, _), stream) = tokio::join!(peer.recv(), opening);
    let mut stream = stream.expect("invoke sent");
    let bound = Duration::from_secs(5);
    match tokio::time::timeout(bound, stream.ensure_open()).await {
        Ok(Err(Error::Timeout(d, _))) => assert_eq!(d, limit),
        other => panic!("a silent open: {other:?}"),
    }
    // The open arrives late: the kept reply still opens the stream.
    peer.send(
        invoke_id,
        "__response__",
        json!({"type": "control", "method": "open"}),
    )
    .await;
    stream.ensure_open().await.expect("late open");
    // A pipelined chunk whose acknowledgement never comes.
    stream.send_pipelined(text("a")).await.expect("chunk sent");
    peer.recv().await;
    match tokio::time::timeout(bound, stream.settle()).await {
        Ok(Err(Error::Timeout(d, _))) => assert_eq!(d, limit),
        other => panic!("a silent acknowledgement: {other:?}"),
    }
}
