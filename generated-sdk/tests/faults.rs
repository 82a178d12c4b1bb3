//! Fault injection over a real loopback websocket: a disconnect in the middle of requests
//! fails every pending request and open stream promptly, and no background task keeps
//! the socket open once the client is gone.

mod support;

use std::time::{Duration, Instant};

use futures::StreamExt;
use meshagent_room::{protocol, ConnectionEvent, Content, Error, RoomClient, RoomEvent};
use serde_json::json;
use support::{listen, within, WsPeer};
use tokio::sync::oneshot;

/// The promise: everything pending fails within this long after the socket goes away.
/// Measured generously (from just before the server's disconnect to the last failure
/// observed by the test's own tasks), so scheduling noise is included.
const PROMPT: Duration = Duration::from_millis(100);

/// How the room goes away.
#[derive(Debug, Clone, Copy)]
enum Disconnect {
    /// The socket is dropped without a close frame.
    Drop,
    /// A websocket close frame is sent.
    CloseFrame,
}

/// Pending work on the client side; each entry resolves with (what, result, when).
type Pending = Vec<tokio::task::JoinHandle<(String, Result<(), Error>, Instant)>>;

async fn disconnect_mid_request(how: Disconnect) {
    let (listener, url) = listen().await;
    let (disconnected_tx, disconnected_rx) = oneshot::channel::<Instant>();
    let (ready_tx, ready_rx) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let mut peer = WsPeer::accept(&listener).await;
        peer.handshake().await;
        // Two streams: open each.
        for _ in 0..2 {
            let (id, kind, header, _) = peer.expect_recv().await;
            assert_eq!(kind, "room.invoke_tool", "{header}");
            peer.reply(id, json!({"type": "control", "method": "open"}))
                .await;
        }
        // Five calls, one request chunk and one more stream open: all left unanswered.
        for _ in 0..7 {
            peer.expect_recv().await;
        }
        let _ = ready_tx.send(());
        // Give the client a moment to be parked on every future.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let at = Instant::now();
        match how {
            Disconnect::Drop => drop(peer),
            Disconnect::CloseFrame => {
                let _ = disconnected_tx.send(at);
                let _ = futures::SinkExt::close(&mut peer.ws).await;
                return;
            }
        }
        let _ = disconnected_tx.send(at);
    });

    let (room, mut events) = within("connect", RoomClient::connect(url, "tok").reconnect(None))
        .await
        .expect("connected");
    let mut receiving = room.open_stream("demo", "receive").await.expect("open");
    let mut sending = room.open_stream("demo", "send").await.expect("open");
    // Make sure both opens are acknowledged before the rest is sent.
    within(
        "the stream to open",
        receiving.recv_timeout(Duration::from_millis(20)),
    )
    .await
    .expect_err("no chunk yet");
    within(
        "the stream to open",
        sending.recv_timeout(Duration::from_millis(20)),
    )
    .await
    .expect_err("no chunk yet");

    let mut pending: Pending = Vec::new();
    let done = |what: String, r: Result<(), Error>| (what, r, Instant::now());
    for i in 0..5 {
        let room = room.clone();
        pending.push(tokio::spawn(async move {
            let r = room.storage().exists(format!("f{i}")).await.map(drop);
            done(format!("call {i}"), r)
        }));
    }
    pending.push(tokio::spawn(async move {
        let r = sending.send(Content::Text("chunk".into())).await;
        if protocol::REQUEST_CHUNK_ACKS {
            return done("a request chunk awaiting its ack".into(), r);
        }
        // Unacknowledged chunks (0.47 and later) wait for nothing: what is left pending
        // is the stream's response side.
        let r = match r {
            Ok(()) => match sending.recv().await {
                Ok(c) => Err(Error::Content(format!("unexpected chunk {c:?}"))),
                Err(e) => Err(e),
            },
            Err(e) => Err(Error::Content(format!("an unacked send failed: {e}"))),
        };
        done("a stream after an unacked chunk".into(), r)
    }));
    pending.push(tokio::spawn(async move {
        let r = match receiving.recv().await {
            Ok(c) => Err(Error::Content(format!("unexpected chunk {c:?}"))),
            Err(e) => Err(e),
        };
        done("an open stream's recv".into(), r)
    }));
    pending.push(tokio::spawn({
        let room = room.clone();
        async move {
            let r = room.open_stream("demo", "late").await;
            let r = match r {
                Ok(mut s) => s.recv().await.map(drop),
                Err(e) => Err(e),
            };
            done("a stream whose open is unanswered".into(), r)
        }
    }));

    within("the server to get every request", ready_rx)
        .await
        .expect("server ready");
    let disconnected_at = within("the disconnect", disconnected_rx)
        .await
        .expect("server disconnected");
    let mut slowest = Duration::ZERO;
    for p in pending {
        let (what, result, at) = within("a pending future to fail", p).await.expect("task");
        assert!(
            matches!(result, Err(Error::Closed { .. })),
            "{how:?}: {what}: {result:?}"
        );
        slowest = slowest.max(at.saturating_duration_since(disconnected_at));
    }
    eprintln!("{how:?}: every pending future failed within {slowest:?}");
    assert!(
        slowest < PROMPT,
        "{how:?}: the last pending future failed {slowest:?} after the disconnect"
    );
    assert!(room.is_closed());
    assert!(matches!(
        within("the close report", events.next()).await,
        Some(RoomEvent::Connection(ConnectionEvent::Closed { .. }))
    ));
    assert_eq!(within("the event stream to end", events.next()).await, None);
    within("the server task", server).await.expect("server");
}

#[tokio::test]
async fn a_dropped_socket_fails_everything_pending_promptly() {
    disconnect_mid_request(Disconnect::Drop).await;
}

#[tokio::test]
async fn a_close_frame_fails_everything_pending_promptly() {
    disconnect_mid_request(Disconnect::CloseFrame).await;
}

/// Waits until the client's side of `peer` is gone, failing after `limit`.
async fn closes_within(peer: &mut WsPeer, limit: Duration) -> bool {
    tokio::time::timeout(limit, peer.wait_closed())
        .await
        .is_ok()
}

#[tokio::test]
async fn the_socket_closes_when_the_last_client_clone_is_dropped() {
    let (listener, url) = listen().await;
    let (peer_tx, peer_rx) = oneshot::channel();
    tokio::spawn(async move {
        let mut peer = WsPeer::accept(&listener).await;
        peer.handshake().await;
        let _ = peer_tx.send(peer);
    });
    let (room, mut events) = within("connect", RoomClient::connect(url, "tok").reconnect(None))
        .await
        .expect("connected");
    let mut peer = within("the server", peer_rx).await.expect("peer");

    // A call that was answered, a call that was dropped unanswered: neither keeps anything.
    let call = tokio::spawn({
        let room = room.clone();
        async move { room.storage().exists("x").await }
    });
    let (id, ..) = peer.expect_recv().await;
    peer.reply(id, json!({"type": "json", "json": {"exists": true}}))
        .await;
    assert!(within("the call", call)
        .await
        .expect("task")
        .expect("reply"));
    let forgotten = tokio::time::timeout(Duration::from_millis(20), room.storage().exists("y"));
    assert!(forgotten.await.is_err(), "no reply, the call was dropped");
    peer.expect_recv().await;

    // One clone dropped: the connection stays, events still flow.
    let clone = room.clone();
    drop(room);
    peer.push(
        "storage.file.deleted",
        json!({"path": "a", "participant_id": "p"}),
    )
    .await;
    assert!(matches!(
        within("an event", events.next()).await,
        Some(RoomEvent::StorageFileDeleted(_))
    ));
    assert!(
        !closes_within(&mut peer, Duration::from_millis(200)).await,
        "the socket closed while a clone was alive"
    );

    // The last clone dropped (the event stream is still held): the socket closes and the
    // event stream ends, so no task is left behind.
    let dropped_at = Instant::now();
    drop(clone);
    assert!(
        closes_within(&mut peer, Duration::from_secs(2)).await,
        "the socket stayed open after the last client clone was dropped"
    );
    eprintln!("socket closed {:?} after the drop", dropped_at.elapsed());
    assert_eq!(within("the event stream to end", events.next()).await, None);
}

#[tokio::test]
async fn a_handshake_timeout_closes_the_socket() {
    let (listener, url) = listen().await;
    let server = tokio::spawn(async move {
        let mut peer = WsPeer::accept(&listener).await;
        // Never sends room_ready / connected.
        closes_within(&mut peer, Duration::from_secs(2)).await
    });
    let result = RoomClient::connect(url, "tok")
        .handshake_timeout(Duration::from_millis(100))
        .await;
    assert!(matches!(result, Err(Error::Timeout(..))), "{result:?}");
    assert!(
        within("the server", server).await.expect("server"),
        "the socket stayed open after the handshake timed out"
    );
}

/// Dropping the `Connect` future during the handshake (e.g. a caller's own
/// `tokio::time::timeout`) stops the reader and writer tasks and closes the socket.
#[tokio::test]

async fn a_dropped_connect_future_closes_the_socket() {
    let (listener, url) = listen().await;
    let server = tokio::spawn(async move {
        let mut peer = WsPeer::accept(&listener).await;
        closes_within(&mut peer, Duration::from_secs(2)).await
    });
    let dropped = tokio::time::timeout(
        Duration::from_millis(200),
        std::future::IntoFuture::into_future(RoomClient::connect(url, "tok").reconnect(None)),
    )
    .await;
    assert!(dropped.is_err(), "the handshake never completes");
    assert!(
        within("the server", server).await.expect("server"),
        "the socket stayed open after the Connect future was dropped"
    );
}

/// Dropping an open `ToolCallStream` sends the request-side close detached: an
/// unacknowledged close never keeps the socket open once every client handle is dropped.
#[tokio::test]

async fn a_dropped_stream_does_not_keep_the_socket_open() {
    let (listener, url) = listen().await;
    let (peer_tx, peer_rx) = oneshot::channel();
    tokio::spawn(async move {
        let mut peer = WsPeer::accept(&listener).await;
        peer.handshake().await;
        let (id, ..) = peer.expect_recv().await;
        peer.reply(id, json!({"type": "control", "method": "open"}))
            .await;
        let _ = peer_tx.send(peer);
    });
    let (room, events) = within("connect", RoomClient::connect(url, "tok").reconnect(None))
        .await
        .expect("connected");
    let mut stream = room.open_stream("demo", "s").await.expect("open");
    let _ = stream.recv_timeout(Duration::from_millis(20)).await;
    let mut peer = within("the server", peer_rx).await.expect("peer");
    drop(stream);
    let (_, kind, header, _) = peer.expect_recv().await;
    assert_eq!(kind, "room.tool_call_request_chunk");
    assert_eq!(header["chunk"]["method"], json!("close"));
    // The room never acknowledges the close. Everything is dropped.
    drop((room, events));
    assert!(
        closes_within(&mut peer, Duration::from_secs(2)).await,
        "the socket stayed open after every client handle was dropped"
    );
}

/// A server that accepts TCP and then never answers the websocket upgrade, or answers it one
/// byte at a time, cannot hold `connect` past its deadline: the caller gets `Error::Timeout`.
#[tokio::test]
async fn connect_has_a_deadline_against_silent_and_trickling_servers() {
    for trickle in [false, true] {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let server = tokio::spawn(async move {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            if trickle {
                use tokio::io::AsyncWriteExt;
                for b in b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n" {
                    if socket.write_all(&[*b]).await.is_err() {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
            // Silent from here on, with the socket held open.
            tokio::time::sleep(Duration::from_secs(60)).await;
        });
        let url = url::Url::parse(&format!("ws://127.0.0.1:{port}/rooms/r")).expect("url");
        let deadline = Duration::from_millis(300);
        let started = Instant::now();
        let result = within(
            "the connect deadline",
            RoomClient::connect(url, "token").connect_timeout(deadline),
        )
        .await;
        match result {
            Err(Error::Timeout(d, what)) => {
                assert_eq!(d, deadline);
                assert_eq!(what, "connect");
            }
            Err(other) => panic!("trickle={trickle}: expected a timeout, got {other:?}"),
            Ok(_) => panic!("trickle={trickle}: connected to a silent server"),
        }
        assert!(started.elapsed() >= deadline, "trickle={trickle}");
        server.abort();
    }
}
