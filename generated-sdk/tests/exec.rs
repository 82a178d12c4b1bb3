//! `containers.exec` sessions over a loopback websocket against a scripted peer (the one
//! of `tests/streams.rs`), checked against what the Python SDK 0.35.8 sends.
#![cfg(feature = "containers")]

mod support;

use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use meshagent_room::{protocol, Error, ExecSession, RoomClient, RoomEvents};
use serde_json::{json, Value};

type Peer = support::Peer<support::Loopback>;

/// What only exec tests need from the shared peer.
trait ExecPeer {
    /// Output on `channel` of stream `call`.
    async fn output(&mut self, call: &str, channel: i64, tail: &[u8]);
    /// Expects the streaming invoke of `containers.exec`; returns the invoke header.
    async fn open_exec(&mut self) -> Value;
}

impl ExecPeer for Peer {
    async fn output(&mut self, call: &str, channel: i64, tail: &[u8]) {
        self.respond(
            call,
            json!({"type": "binary", "headers": {"channel": channel}}),
            tail,
        )
        .await;
    }

    async fn open_exec(&mut self) -> Value {
        self.open_invoke("containers", "exec").await
    }
}

async fn connect() -> (RoomClient, RoomEvents, Peer) {
    support::connect_loopback().await
}

fn close(status: i64) -> Value {
    json!({"type": "control", "method": "close", "status_code": status})
}

fn input(channel: i64, width: Value, height: Value) -> Value {
    json!({"type": "binary", "headers": {"kind": "input", "channel": channel, "width": width, "height": height}})
}

fn keys(v: &Value) -> Vec<&str> {
    v.as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect()
}

async fn within<T>(what: &str, fut: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(5), fut)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

/// Opens `room.exec("c1", ["sh", "-c", "cat"])` against the peer; returns the session, the
/// tool_call_id and the start chunk.
async fn open_session(room: &RoomClient, peer: &mut Peer) -> (ExecSession, String, Value) {
    let call = tokio::spawn({
        let room = room.clone();
        async move { room.exec("c1", ["sh", "-c", "cat"]).tty(false).await }
    });
    let invoke = peer.open_exec().await;
    let (start, _) = peer.chunk().await;
    let session = within("exec to open", call)
        .await
        .expect("task")
        .expect("exec opens");
    let id = invoke["tool_call_id"].as_str().expect("id").to_string();
    (session, id, start)
}

#[tokio::test]
async fn the_invoke_and_start_chunk_are_what_python_sends() {
    let (room, _e, mut peer) = connect().await;
    let (session, id, start) = open_session(&room, &mut peer).await;
    // Python: room.containers.exec(container_id="c1", command=["sh", "-c", "cat"], tty=False)
    let request_id = start["headers"]["request_id"].as_str().expect("request_id");
    let parsed = uuid::Uuid::parse_str(request_id).expect("a uuid");
    assert_eq!(parsed.get_version_num(), 4);
    assert_eq!(
        request_id,
        parsed.hyphenated().to_string(),
        "dashed, as str(uuid4())"
    );
    assert_eq!(session.request_id(), request_id);
    assert_eq!(
        start,
        json!({"type": "binary", "headers": {"kind": "start", "request_id": request_id,
               "container_id": "c1", "command": ["sh", "-c", "cat"], "tty": false}})
    );
    assert_eq!(
        keys(&start["headers"]),
        ["kind", "request_id", "container_id", "command", "tty"]
    );
    assert_eq!(id.len(), 32);
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
    drop(session);
    assert_eq!(peer.chunk().await.0, close(1000));

    // Unset command and tty are explicit nulls; the invoke envelope is Python's.
    let call = tokio::spawn({
        let room = room.clone();
        async move { room.exec("c2", None::<&str>).await }
    });
    let invoke = peer.open_exec().await;
    assert_eq!(
        keys(&invoke),
        [
            "toolkit",
            "tool",
            "participant_id",
            "on_behalf_of_id",
            "arguments",
            "tool_call_id"
        ]
    );
    assert_eq!(
        (
            &invoke["toolkit"],
            &invoke["tool"],
            &invoke["participant_id"],
            &invoke["on_behalf_of_id"],
            &invoke["arguments"]
        ),
        (
            &json!("containers"),
            &json!("exec"),
            &Value::Null,
            &Value::Null,
            &json!({"type": "control", "method": "open"})
        )
    );
    let (start, tail) = peer.chunk().await;
    assert!(tail.is_empty());
    let request_id = start["headers"]["request_id"].clone();
    assert_eq!(
        start["headers"],
        json!({"kind": "start", "request_id": request_id, "container_id": "c2", "command": null, "tty": null})
    );
    // A command line stays one string.
    let session = call.await.expect("task").expect("open");
    drop(session);
    peer.chunk().await;
    let call = tokio::spawn({
        let room = room.clone();
        async move { room.exec("c3", "ls -l").tty(true).request_id("r-1").await }
    });
    peer.open_exec().await;
    let (start, _) = peer.chunk().await;
    assert_eq!(
        start["headers"],
        json!({"kind": "start", "request_id": "r-1", "container_id": "c3", "command": "ls -l", "tty": true})
    );
    drop(call.await.expect("task").expect("open"));
    assert_eq!(peer.chunk().await.0, close(1000));
}

/// The sequence of the Python recording (reference §7.6), frame for frame.
#[tokio::test]
async fn the_python_recorded_session_replays() {
    let (room, _e, mut peer) = connect().await;
    let (mut session, id, _) = open_session(&room, &mut peer).await;
    peer.output(&id, 1, b"out").await;
    let first = within("stdout", session.stdout.next()).await;
    assert_eq!(
        first.expect("item").expect("ok"),
        Bytes::from_static(b"out")
    );

    let stdin = session.stdin.clone();
    let writes = tokio::spawn(async move {
        stdin.write("ping").await?;
        stdin.resize(80, 24).await?;
        stdin.resize(80, 24).await?; // repeats the size: nothing sent
        stdin.close().await?;
        stdin.close().await // once only
    });
    let (chunk, tail) = peer.chunk().await;
    assert_eq!(chunk, input(1, Value::Null, Value::Null));
    assert_eq!(
        keys(&chunk["headers"]),
        ["kind", "channel", "width", "height"]
    );
    assert_eq!(&tail[..], b"ping");
    let (chunk, tail) = peer.chunk().await;
    assert_eq!(chunk, input(4, json!(80), json!(24)));
    assert!(tail.is_empty());
    let (chunk, tail) = peer.chunk().await;
    assert_eq!(chunk, input(255, Value::Null, Value::Null));
    assert!(tail.is_empty());
    within("writes", writes)
        .await
        .expect("task")
        .expect("acknowledged");

    peer.output(&id, 2, b"err").await;
    peer.output(&id, 3, br#"{"status": 0}"#).await;
    peer.respond(&id, close(1000), &[]).await;
    let (chunk, _) = peer.chunk().await;
    assert_eq!(
        chunk,
        close(1000),
        "the client closes its side after the status"
    );
    let status = within("exit", session.wait()).await.expect("status");
    assert!(status.success());
    assert_eq!(status.code(), 0);
    // Awaiting again gives the same answer.
    assert_eq!(session.wait().await.expect("again"), status);
    let err = within("stderr", session.stderr.read_all()).await;
    assert_eq!(err.expect("stderr"), Bytes::from_static(b"err"));
    assert!(session.stdout.next().await.is_none(), "stdout ended");
    peer.silent().await;
}

#[tokio::test]
async fn kill_and_initial_size_use_their_channels() {
    let (room, _e, mut peer) = connect().await;
    let call = tokio::spawn({
        let room = room.clone();
        async move { room.exec("c1", "top").tty(true).size(120, 40).await }
    });
    peer.open_exec().await;
    peer.chunk().await;
    // `.size()` is a resize right after the start, before exec() returns.
    let (chunk, _) = peer.chunk().await;
    assert_eq!(chunk, input(4, json!(120), json!(40)));
    let session = within("open", call).await.expect("task").expect("open");
    let stdin = session.stdin.clone();
    let ops = tokio::spawn(async move {
        stdin.resize(120, 40).await?; // the current size: nothing sent
        stdin.kill().await
    });
    let (chunk, tail) = peer.chunk().await;
    assert_eq!(chunk, input(5, Value::Null, Value::Null));
    assert!(tail.is_empty());
    within("kill", ops).await.expect("task").expect("ok");
}

#[tokio::test]
async fn interleaved_output_goes_to_the_right_streams() {
    let (room, _e, mut peer) = connect().await;
    let (mut session, id, _) = open_session(&room, &mut peer).await;
    peer.output(&id, 1, b"o1 ").await;
    peer.output(&id, 2, b"e1 ").await;
    peer.output(&id, 1, b"o2").await;
    peer.output(&id, 9, b"ignored").await;
    peer.output(&id, 2, b"e2").await;
    peer.output(&id, 3, br#"{"status": 3}"#).await;
    assert_eq!(peer.chunk().await.0, close(1000));
    let status = within("exit", session.wait()).await.expect("status");
    assert_eq!((status.code(), status.success()), (3, false));
    let out = session.stdout.collect::<Vec<_>>().await;
    let err = session.stderr.collect::<Vec<_>>().await;
    let out: Vec<Bytes> = out.into_iter().map(|r| r.expect("ok")).collect();
    let err: Vec<Bytes> = err.into_iter().map(|r| r.expect("ok")).collect();
    assert_eq!(out, [&b"o1 "[..], b"o2"]);
    assert_eq!(err, [&b"e1 "[..], b"e2"]);
    // Input after the end is refused; kill is a no-op.
    let err = session.stdin.write("late").await.expect_err("over");
    assert!(matches!(err, Error::InvalidArguments(_)), "{err:?}");
    session.stdin.kill().await.expect("no-op");
    peer.silent().await;
}

#[tokio::test]
async fn output_collects_everything_after_closing_stdin() {
    let (room, _e, mut peer) = connect().await;
    let (session, id, _) = open_session(&room, &mut peer).await;
    let output = tokio::spawn(session.output());
    let (chunk, _) = peer.chunk().await;
    assert_eq!(chunk, input(255, Value::Null, Value::Null));
    peer.output(&id, 1, b"hello ").await;
    peer.output(&id, 2, b"warn").await;
    peer.output(&id, 1, b"world").await;
    peer.output(&id, 3, br#"{"status": 0}"#).await;
    assert_eq!(peer.chunk().await.0, close(1000));
    let out = within("output", output).await.expect("task").expect("ok");
    assert_eq!(&out.stdout[..], b"hello world");
    assert_eq!(&out.stderr[..], b"warn");
    assert!(out.status.success());
}

#[tokio::test]
async fn input_and_output_run_freely() {
    let (room, _e, mut peer) = connect().await;
    let (mut session, id, _) = open_session(&room, &mut peer).await;
    let stdin = session.stdin.clone();
    let write = tokio::spawn(async move { stdin.write("slow").await });
    // The write is on the wire but not yet acknowledged...
    let (msg, chunk, _) = peer.chunk_unacked().await;
    assert_eq!(chunk["headers"]["channel"], json!(1));
    // ...and output still flows meanwhile.
    peer.output(&id, 1, b"meanwhile").await;
    let got = within("stdout during a pending write", session.stdout.next()).await;
    assert_eq!(&got.expect("item").expect("ok")[..], b"meanwhile");
    if protocol::REQUEST_CHUNK_ACKS {
        assert!(
            !write.is_finished(),
            "the write waits for its acknowledgement"
        );
        peer.ack(msg).await;
    }
    // Unacknowledged (0.47 and later): the write is done once sent.
    within("write", write).await.expect("task").expect("acked");
    // And reading nothing does not hold back input.
    let stdin = session.stdin.clone();
    let write = tokio::spawn(async move { stdin.write("more").await });
    assert_eq!(&peer.chunk().await.1[..], b"more");
    within("write", write).await.expect("task").expect("acked");
}

#[tokio::test]
async fn abnormal_close_fails_every_part() {
    let (room, _e, mut peer) = connect().await;
    let (mut session, id, _) = open_session(&room, &mut peer).await;
    peer.output(&id, 1, b"partial").await;
    peer.respond(
        &id,
        json!({"type": "control", "method": "close", "status_code": 1011, "message": "boom"}),
        &[],
    )
    .await;
    assert_eq!(peer.chunk().await.0, close(1000));
    let err = within("exit", session.wait()).await.expect_err("abnormal");
    assert!(
        matches!(err, Error::StreamClosed { status_code: 1011, ref message } if message.as_deref() == Some("boom")),
        "{err:?}"
    );
    assert_eq!(
        &session.stdout.next().await.expect("item").expect("data")[..],
        b"partial"
    );
    let last = session.stdout.next().await.expect("error item");
    assert!(matches!(last, Err(Error::StreamClosed { .. })), "{last:?}");
    assert!(session.stdout.next().await.is_none());
    assert!(matches!(
        session.stderr.next().await,
        Some(Err(Error::StreamClosed { .. }))
    ));
    assert!(matches!(
        session.stdin.write("x").await,
        Err(Error::StreamClosed { .. })
    ));
}

#[tokio::test]
async fn a_normal_close_before_the_status_is_an_error() {
    let (room, _e, mut peer) = connect().await;
    let (mut session, id, _) = open_session(&room, &mut peer).await;
    peer.respond(&id, close(1000), &[]).await;
    assert_eq!(peer.chunk().await.0, close(1000));
    let err = within("exit", session.wait()).await.expect_err("no status");
    assert!(
        matches!(&err, Error::UnexpectedResponse { detail, .. } if detail.contains("before a status")),
        "{err:?}"
    );
}

#[tokio::test]
async fn error_chunks_and_bad_chunks_fail_the_session() {
    let (room, _e, mut peer) = connect().await;
    let (mut session, id, _) = open_session(&room, &mut peer).await;
    peer.respond(
        &id,
        json!({"type": "error", "text": "no such container", "code": 404}),
        &[],
    )
    .await;
    assert_eq!(peer.chunk().await.0, close(1000));
    let err = within("exit", session.wait()).await.expect_err("error");
    assert_eq!(err.code(), Some(404));

    for (headers, tail) in [
        (json!({"channel": true}), &b"x"[..]),
        (json!({}), b"x"),
        (json!({"channel": 3}), b"not json"),
    ] {
        let (mut session, id, _) = open_session(&room, &mut peer).await;
        peer.respond(&id, json!({"type": "binary", "headers": headers}), tail)
            .await;
        assert_eq!(peer.chunk().await.0, close(1000));
        let err = within("exit", session.wait()).await.expect_err("bad chunk");
        assert!(
            matches!(err, Error::UnexpectedResponse { .. }),
            "{headers}: {err:?}"
        );
    }
}

#[tokio::test]
async fn a_refused_input_fails_the_session() {
    let (room, _e, mut peer) = connect().await;
    let (mut session, _id, _) = open_session(&room, &mut peer).await;
    let stdin = session.stdin.clone();
    let write = tokio::spawn(async move { stdin.write("x").await });
    let (msg, _, _) = peer.chunk_unacked().await;
    peer.send(
        msg,
        "__response__",
        json!({"type": "error", "text": "stdin gone", "code": 7}),
        &[],
    )
    .await;
    if !protocol::REQUEST_CHUNK_ACKS {
        // 0.47 and later: replies to request chunks are ignored, the session goes on.
        within("write", write).await.expect("task").expect("sent");
        session.stdin.write("y").await.expect("still writable");
        assert_eq!(&peer.chunk_unacked().await.2[..], b"y");
        return;
    }
    let err = within("write", write)
        .await
        .expect("task")
        .expect_err("refused");
    assert_eq!(err.code(), Some(7));
    assert_eq!(peer.chunk().await.0, close(1000));
    let err = within("exit", session.wait()).await.expect_err("failed");
    assert_eq!(err.code(), Some(7));
}

#[tokio::test]
async fn an_error_reply_to_the_open_fails_exec() {
    let (room, _e, mut peer) = connect().await;
    let call = tokio::spawn({
        let room = room.clone();
        async move { room.exec("missing", "sh").await }
    });
    let (id, ..) = peer.recv().await;
    peer.send(
        id,
        "__response__",
        json!({"type": "error", "text": "container not found", "code": 4004}),
        &[],
    )
    .await;
    // The start chunk was sent before the reply (as Python); then the close.
    let (chunk, _) = peer.chunk().await;
    assert_eq!(chunk["headers"]["kind"], json!("start"));
    let err = within("exec", call)
        .await
        .expect("task")
        .expect_err("refused");
    assert_eq!(err.code(), Some(4004));
    assert_eq!(peer.chunk().await.0, close(1000));
}

#[tokio::test]
async fn disconnect_fails_every_part() {
    let (room, _e, mut peer) = connect().await;
    let (mut session, _id, _) = open_session(&room, &mut peer).await;
    let stdin = session.stdin.clone();
    let write = tokio::spawn(async move { stdin.write("x").await });
    peer.chunk_unacked().await;
    drop(peer);
    let err = within("exit", session.wait()).await.expect_err("closed");
    assert!(matches!(err, Error::Closed { .. }), "{err:?}");
    let write = within("write", write).await.expect("task");
    if protocol::REQUEST_CHUNK_ACKS {
        assert!(matches!(write, Err(Error::Closed { .. })), "{write:?}");
    } else {
        // Sent before the disconnect, with nothing to wait for.
        assert!(write.is_ok(), "{write:?}");
    }
    assert!(matches!(
        session.stdout.next().await,
        Some(Err(Error::Closed { .. }))
    ));
    assert!(matches!(
        session.stderr.next().await,
        Some(Err(Error::Closed { .. }))
    ));
    assert!(session.stdout.next().await.is_none());
    assert!(matches!(
        session.stdin.resize(1, 1).await,
        Err(Error::Closed { .. })
    ));
}

#[tokio::test]
async fn dropping_the_session_closes_the_stream() {
    let (room, _e, mut peer) = connect().await;
    let (session, id, _) = open_session(&room, &mut peer).await;
    // Parts keep the session alive: dropping stdin alone sends nothing.
    let ExecSession {
        stdin,
        stdout,
        stderr,
        exit,
        ..
    } = session;
    drop(stdin);
    drop(stderr);
    drop(exit);
    peer.silent().await;
    drop(stdout);
    assert_eq!(peer.chunk().await.0, close(1000));
    // Later chunks for it are ignored; nothing more is sent.
    peer.output(&id, 1, b"late").await;
    peer.silent().await;

    // Also while an input waits for an acknowledgement that never comes.
    let (session, _id, _) = open_session(&room, &mut peer).await;
    let stdin = session.stdin.clone();
    let write = tokio::spawn(async move { stdin.write("x").await });
    peer.chunk_unacked().await;
    write.abort();
    let _ = write.await;
    drop(session);
    let (_, chunk, _) = peer.chunk_unacked().await;
    assert_eq!(chunk, close(1000));
    peer.silent().await;

    // And a cancelled exec() closes what it opened.
    let call = tokio::spawn({
        let room = room.clone();
        async move { room.exec("c1", "sh").await }
    });
    let (_invoke_id, ..) = peer.recv().await;
    peer.chunk().await; // the start chunk
    call.abort();
    let _ = call.await;
    assert_eq!(peer.chunk().await.0, close(1000));
}

#[tokio::test]
async fn no_task_outlives_the_session() {
    let alive = || {
        tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks()
    };
    let (room, _e, mut peer) = connect().await;
    let before = alive();

    // Ended by the status: both tasks finish once the close is acknowledged.
    let (mut session, id, _) = open_session(&room, &mut peer).await;
    assert_eq!(alive(), before + 2, "one reader and one writer");
    peer.output(&id, 3, br#"{"status": 0}"#).await;
    within("exit", session.wait()).await.expect("status");
    peer.chunk().await;
    within("tasks to end", async {
        while alive() > before {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    drop(session);

    // Dropped mid-session with an unacknowledged input.
    let (session, _id, _) = open_session(&room, &mut peer).await;
    let stdin = session.stdin.clone();
    let write = tokio::spawn(async move { stdin.write("x").await });
    peer.chunk_unacked().await;
    // The pending write holds a clone of stdin, a part of the session: cancel it too.
    write.abort();
    let _ = write.await;
    drop(session);
    peer.chunk_unacked().await; // the close, never acknowledged
    within("tasks to end", async {
        while alive() > before {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
}
