//! The "real peer" check, client side: the generated Rust client against
//! `conformance/peer/python_room.py`, a room server whose framing, dispatch and payloads are
//! the official Python SDK's own classes (meshagent-api 0.35.8).
//!
//! ```sh
//! conformance/peer/run.sh                      # starts the server and runs this
//! cargo run -q -p conformance --example python_peer -- ws://127.0.0.1:PORT/rooms/test-room [token]
//! ```
//!
//! Prints one line per step and exits 1 at the first mismatch (2 on bad usage). Every wait is
//! bounded by [`CALL_TIMEOUT`].

use std::fmt::{Debug, Display};
use std::future::IntoFuture;
use std::process::ExitCode;
use std::time::Duration;

use futures::StreamExt;
use meshagent_room::{Content, Error, ErrorCode, RoomClient, RoomEvent, RoomEvents};
use serde_json::{json, Map, Value};

/// The longest any single step may wait (connect, a call, the next pushed event).
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the client idles to let the server's websocket heartbeat ping it.
const IDLE: Duration = Duration::from_millis(2500);

/// What `python_room.py` announces in its handshake.
const ROOM_NAME: &str = "test-room";
const SESSION_ID: &str = "sess-python-peer";
const PARTICIPANT_ID: &str = "p-rust";

type Check<T = ()> = Result<T, String>;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(url) = args.next() else {
        eprintln!("usage: python_peer <ws://host:port/rooms/test-room> [token]");
        return ExitCode::from(2);
    };
    let token = args.next().unwrap_or_else(|| "token".to_string());
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start tokio: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut steps = Steps(0);
    match runtime.block_on(run(&url, &token, &mut steps)) {
        Ok(()) => {
            println!("python-peer: all {} steps passed", steps.0);
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("FAIL step {}: {e}", steps.0 + 1);
            ExitCode::FAILURE
        }
    }
}

struct Steps(usize);

impl Steps {
    fn pass(&mut self, what: impl Display) {
        self.0 += 1;
        println!("ok {:>2}  {what}", self.0);
    }
}

/// Awaits `fut` for at most [`CALL_TIMEOUT`].
async fn within<T>(what: &str, fut: impl IntoFuture<Output = T>) -> Check<T> {
    tokio::time::timeout(CALL_TIMEOUT, fut)
        .await
        .map_err(|_| format!("{what}: no answer within {CALL_TIMEOUT:?}"))
}

/// Awaits a call and requires it to succeed.
async fn call<T>(what: &str, fut: impl IntoFuture<Output = meshagent_room::Result<T>>) -> Check<T> {
    within(what, fut)
        .await?
        .map_err(|e| format!("{what}: unexpected error: {e} ({e:?})"))
}

/// Awaits a call and requires a server error with `code` (and its known [`ErrorCode`]).
async fn server_error<T: Debug>(
    what: &str,
    fut: impl IntoFuture<Output = meshagent_room::Result<T>>,
    code: i64,
    known: ErrorCode,
) -> Check<String> {
    let result = within(what, fut).await?;
    match result {
        Err(e @ Error::Server { .. }) if e.code() == Some(code) => {
            if e.error_code() != Some(known) {
                return Err(format!(
                    "{what}: code {code} maps to {:?}, expected {known:?}",
                    e.error_code()
                ));
            }
            let Error::Server { text, .. } = e else {
                unreachable!("matched Error::Server above")
            };
            Ok(text)
        }
        other => Err(format!(
            "{what}: expected Error::Server {{ code: Some({code}) }}, got {other:?}"
        )),
    }
}

fn expect_eq<T: PartialEq + Debug>(what: &str, got: T, expected: T) -> Check {
    if got == expected {
        Ok(())
    } else {
        Err(format!("{what}: expected {expected:?}, got {got:?}"))
    }
}

async fn next_event(events: &mut RoomEvents) -> Check<RoomEvent> {
    within("the next pushed event", events.next())
        .await?
        .ok_or_else(|| "the event stream ended (connection closed)".to_string())
}

async fn run(url: &str, token: &str, steps: &mut Steps) -> Check {
    let url = url::Url::parse(url).map_err(|e| format!("bad url {url:?}: {e}"))?;

    // Handshake: room_ready + connected, framed and packed by the Python SDK.
    let (room, mut events) = call("connect", RoomClient::connect(url, token)).await?;
    expect_eq("room_name", room.room_name(), ROOM_NAME)?;
    expect_eq("session_id", room.session_id().as_str(), SESSION_ID)?;
    let me = room.local_participant();
    expect_eq("participant id", me.id.as_str(), PARTICIPANT_ID)?;
    let attributes: Map<String, Value> = json!({"name": "rust-peer", "role": "user"})
        .as_object()
        .cloned()
        .unwrap_or_default();
    expect_eq("participant attributes", &me.attributes, &attributes)?;
    steps.pass(format!(
        "connect: room_ready {ROOM_NAME}/{SESSION_ID}, connected init {PARTICIPANT_ID} {attributes:?}"
    ));

    // storage.exists, both answers.
    let exists = call("storage.exists", room.storage().exists("missing.txt")).await?;
    expect_eq("storage.exists(missing.txt)", exists, false)?;
    steps.pass("storage.exists(\"missing.txt\") -> false");
    let exists = call("storage.exists", room.storage().exists("docs/a.txt")).await?;
    expect_eq("storage.exists(docs/a.txt)", exists, true)?;
    steps.pass("storage.exists(\"docs/a.txt\") -> true");

    // Error path: ErrorContent(code=3001) from the SDK's class.
    let text = server_error(
        "storage.list(nope)",
        room.storage().list("nope"),
        3001,
        ErrorCode::StorageNotFound,
    )
    .await?;
    steps.pass(format!(
        "storage.list(\"nope\") -> Error::Server {{ code: 3001 StorageNotFound, text: {text:?} }}"
    ));

    // storage.list: a file with size and ISO timestamps, a folder with size null and none.
    let entries = call("storage.list", room.storage().list("docs")).await?;
    expect_eq("storage.list(docs) length", entries.len(), 2)?;
    let (file, folder) = (&entries[0], &entries[1]);
    expect_eq(
        "file entry",
        (file.name.as_str(), file.is_folder, file.size),
        ("a.txt", false, Some(5)),
    )?;
    expect_eq(
        "file created_at",
        file.created_at.as_ref().map(|t| t.as_str()),
        Some("2024-01-02T03:04:05.678000+00:00"),
    )?;
    expect_eq(
        "file updated_at",
        file.updated_at.as_ref().map(|t| t.as_str()),
        Some("2024-05-06T07:08:09+00:00"),
    )?;
    expect_eq(
        "folder entry",
        (
            folder.name.as_str(),
            folder.is_folder,
            folder.size,
            folder.created_at.is_none() && folder.updated_at.is_none(),
        ),
        ("sub", true, None, true),
    )?;
    steps.pass("storage.list(\"docs\") -> [a.txt (5 B, timestamps), sub/ (size null)]");

    // storage.delete of a folder: refused without recursive (sent as null), done with it.
    server_error(
        "storage.delete(docs)",
        room.storage().delete("docs"),
        3002,
        ErrorCode::StorageRecursiveRequired,
    )
    .await?;
    steps.pass("storage.delete(\"docs\") -> Error::Server { code: 3002 StorageRecursiveRequired }");
    call(
        "storage.delete recursive",
        room.storage().delete("docs").recursive(true),
    )
    .await?;
    steps.pass("storage.delete(\"docs\").recursive(true) -> ()");

    // The pushes that follow the delete.
    match next_event(&mut events).await? {
        RoomEvent::StorageFileDeleted(e)
            if e.path == "docs" && e.participant_id == PARTICIPANT_ID =>
        {
            steps.pass(format!("event StorageFileDeleted {{ path: {:?} }}", e.path))
        }
        other => {
            return Err(format!(
                "expected StorageFileDeleted for docs, got {other:?}"
            ))
        }
    }
    match next_event(&mut events).await? {
        RoomEvent::StorageFileUpdated(e)
            if e.path == "docs" && e.participant_id == PARTICIPANT_ID =>
        {
            steps.pass(format!("event StorageFileUpdated {{ path: {:?} }}", e.path))
        }
        other => {
            return Err(format!(
                "expected StorageFileUpdated for docs, got {other:?}"
            ))
        }
    }
    let exists = call("storage.exists", room.storage().exists("docs/a.txt")).await?;
    expect_eq("storage.exists(docs/a.txt) after delete", exists, false)?;
    steps.pass("storage.exists(\"docs/a.txt\") -> false after the delete");

    // Untyped invoke of a built-in tool.
    let reply = call(
        "invoke storage.exists",
        room.invoke(
            "storage",
            "exists",
            Content::Json(json!({"path": "readme.md"})),
        ),
    )
    .await?;
    expect_eq(
        "invoke reply",
        reply,
        Content::Json(json!({"exists": true})),
    )?;
    steps.pass("room.invoke(\"storage\", \"exists\", Json) -> Json {\"exists\": true}");

    // queues.send + receive of a message that takes several 1024-byte packets both ways
    // (non-ASCII text, an astral char included: the Rust client sends UTF-8, Python answers
    // \u-escaped, surrogate pairs for the astral one).
    let message = json!({
        "task": "index",
        "n": 42,
        "ratio": 2.5,
        "flags": [true, false, null],
        "text": "héllo wörld ✓ 日本語 🦀 ".repeat(80),
    });
    call("queues.send", room.queues().send("jobs", message.clone())).await?;
    steps.pass(format!(
        "queues.send(\"jobs\", {} B message) -> ()",
        message.to_string().len()
    ));
    let got = call("queues.receive", room.queues().receive("jobs").wait(false)).await?;
    expect_eq("queues.receive(jobs)", got.as_ref(), Some(&message))?;
    steps.pass("queues.receive(\"jobs\").wait(false) -> Some(the same message)");
    let got = call("queues.receive", room.queues().receive("jobs").wait(false)).await?;
    expect_eq("queues.receive(jobs) on an empty queue", got, None)?;
    steps.pass("queues.receive(\"jobs\").wait(false) -> None (empty content)");
    server_error(
        "queues.send(create=false)",
        room.queues()
            .send("no-queue", json!({"a": 1}))
            .create(false),
        5001,
        ErrorCode::QueueNotFound,
    )
    .await?;
    steps.pass(
        "queues.send(\"no-queue\", ..).create(false) -> Error::Server { code: 5001 QueueNotFound }",
    );

    // A receive that waits on the server, answered after a later send (two calls in flight).
    let waiting = room.queues().receive("later").into_future();
    let sending = room
        .queues()
        .send("later", json!({"wake": "up"}))
        .into_future();
    let (got, sent) = within("queues.receive(wait) + send", async {
        tokio::join!(waiting, sending)
    })
    .await?;
    sent.map_err(|e| format!("queues.send(later): {e}"))?;
    let got = got.map_err(|e| format!("queues.receive(later): {e}"))?;
    expect_eq("waiting receive", got, Some(json!({"wake": "up"})))?;
    steps.pass("queues.receive(\"later\") waiting + queues.send -> Some({\"wake\": \"up\"})");

    // set_attributes: fire-and-forget, the server only logs it.
    call("set_attribute", room.set_attribute("status", json!("busy"))).await?;
    steps.pass("set_attribute(\"status\", \"busy\") -> () (no reply expected)");

    // Idle through a few of the server's websocket pings (run.sh starts it with a 1 s
    // heartbeat; aiohttp drops a peer that does not pong), then call again.
    tokio::time::sleep(IDLE).await;
    let exists = call("storage.exists", room.storage().exists("readme.md")).await?;
    expect_eq("storage.exists(readme.md) after idling", exists, true)?;
    if room.is_closed() {
        return Err("the connection closed while idle".to_string());
    }
    steps.pass(format!(
        "idle {IDLE:?} (server heartbeat pings), then storage.exists(\"readme.md\") -> true"
    ));

    // An unknown tool.
    let text = server_error(
        "invoke unknown tool",
        room.invoke("no-such-toolkit", "nope", Content::Json(json!({"x": 1}))),
        1003,
        ErrorCode::NotFound,
    )
    .await?;
    if !text.contains("no-such-toolkit") {
        return Err(format!(
            "unknown tool error text {text:?} does not name the toolkit"
        ));
    }
    steps.pass(format!(
        "room.invoke(\"no-such-toolkit\", \"nope\") -> Error::Server {{ code: 1003 NotFound, text: {text:?} }}"
    ));

    within("close", room.close()).await?;
    steps.pass("close");
    Ok(())
}
