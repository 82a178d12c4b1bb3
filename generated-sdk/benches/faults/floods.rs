//! Section 3: peak heap under floods the app does not keep up with. Each flood runs in a
//! child process of this binary (so its peak is its own), with the scripted room on its
//! own runtime whose threads the counting allocator tells apart from the client's.

use std::future::Future;
use std::io::Read;
use std::pin::Pin;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use meshagent_room::wire::framing::Limits;
use meshagent_room::{Content, Error, RoomClient, RoomEvent, RoomEvents, Toolkit};
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::runtime::Handle;
use tokio::sync::{mpsc, oneshot};
use url::Url;

use crate::alloc::{vm_hwm, CLIENT, ON_SERVER, SERVER};
use crate::room::{
    accept, answer_calls, flood, listen, message_frames, packed, split, write_large, Body,
    BoxError, RESPONSE,
};

const MIB: usize = 1 << 20;
/// The environment variable that makes this binary run one flood as a child.
const CHILD_ENV: &str = "MESHAGENT_FAULTS_FLOOD";
/// Set in the child for the short smoke pass.
const SMOKE_ENV: &str = "MESHAGENT_FAULTS_SMOKE";
const RESULT: &str = "FAULTS-FLOOD-RESULT";
/// The longest a child may live before the parent kills it.
const CHILD_LIMIT: Duration = Duration::from_secs(60);

type Script = fn(Handle, Size) -> Pin<Box<dyn Future<Output = Result<String, BoxError>> + Send>>;

/// How big a flood is: the bench's sizes, or the smoke pass's tenth.
#[derive(Clone, Copy)]
pub struct Size {
    /// Pushed messages per flood.
    pub messages: usize,
    /// Bytes of the large reply.
    pub reply: usize,
}

pub struct Flood {
    pub name: &'static str,
    pub what: &'static str,
    /// The client's `Limits::max_message_size` in this flood.
    pub max_message: usize,
    run: Script,
}

pub fn all() -> Vec<Flood> {
    vec![
        Flood {
            name: "events",
            what: "event flood: N `storage.file.deleted` (~400 B) pushed, the app holds its event stream unread",
            max_message: MIB,
            run: |h, s| Box::pin(event_flood(h, s)),
        },
        Flood {
            name: "push-stream",
            what: "pushed-chunk flood: N 400 B chunks on a server-push stream (`open_stream`), the reader not reading for 2 s",
            max_message: MIB,
            run: |h, s| Box::pin(push_stream_flood(h, s)),
        },
        Flood {
            name: "download",
            what: "download chunk flood: N 400 B data chunks sent without pulls (size announced: 1 TiB), the app holds the `Download` unread, then reads it with `write_to`",
            max_message: MIB,
            run: |h, s| Box::pin(download_flood(h, s, false)),
        },
        Flood {
            name: "download-bytes",
            what: "the same download flood, read with `Download::bytes()`",
            max_message: MIB,
            run: |h, s| Box::pin(download_flood(h, s, true)),
        },
        Flood {
            name: "hosted-calls",
            what: "pushed tool calls: N calls to a hosted echo tool (~250 B) while the room reads nothing for 3 s",
            max_message: MIB,
            run: |h, s| Box::pin(hosted_call_flood(h, s)),
        },
        Flood {
            name: "reply-binary",
            what: "one large reply: binary content to `room.invoke` (50 MB)",
            max_message: 64 * MIB,
            run: |h, s| Box::pin(large_reply(h, s, Big::Binary)),
        },
        Flood {
            name: "reply-json",
            what: "one large reply: JSON content with a 50 MB string to `room.invoke`",
            max_message: 64 * MIB,
            run: |h, s| Box::pin(large_reply(h, s, Big::JsonString)),
        },
        Flood {
            name: "reply-wrong-type",
            what: "one large reply: a 50 MB string where `storage.exists` expects a bool",
            max_message: 64 * MIB,
            run: |h, s| Box::pin(large_reply(h, s, Big::WrongType)),
        },
    ]
}

// The child

/// The flood this process runs as a child, if it is one.
pub fn child_flood() -> Option<String> {
    std::env::var(CHILD_ENV).ok()
}

/// Runs one flood and prints its result line; never returns.
pub fn child_main(name: &str) -> ! {
    let result = run_child(name);
    match result {
        Ok(line) => println!("{RESULT} ok {line}"),
        Err(e) => println!("{RESULT} fail {}", e.to_string().replace('\n', " ")),
    }
    std::process::exit(0);
}

fn run_child(name: &str) -> Result<String, BoxError> {
    let flood = all()
        .into_iter()
        .find(|f| f.name == name)
        .ok_or_else(|| format!("no flood named {name}"))?;
    let size = if std::env::var(SMOKE_ENV).is_ok() {
        Size {
            messages: 20_000,
            reply: 5_000_000,
        }
    } else {
        Size {
            messages: 200_000,
            reply: 50_000_000,
        }
    };
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("faults-room")
        .on_thread_start(|| ON_SERVER.with(|s| s.set(true)))
        .enable_all()
        .build()?;
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let started = Instant::now();
    let note = client_rt.block_on(async {
        tokio::time::timeout(
            Duration::from_secs(45),
            (flood.run)(server_rt.handle().clone(), size),
        )
        .await
        .map_err(|_| "the flood did not finish within 45 s")?
    })?;
    let elapsed = started.elapsed();
    let client = CLIENT.peak();
    let server = SERVER.peak();
    Ok(format!(
        "{client} {server} {} {} {note}",
        vm_hwm().unwrap_or(0),
        elapsed.as_millis()
    ))
}

/// Starts the room script on the room's runtime; the URL that reaches it.
async fn serve<F, Fut>(server: &Handle, script: F) -> Result<Url, BoxError>
where
    F: FnOnce(TcpListener) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = oneshot::channel();
    server.spawn(async move {
        match listen().await {
            Ok((listener, url)) => {
                let _ = tx.send(Ok(url));
                script(listener).await;
            }
            Err(e) => {
                let _ = tx.send(Err(e.to_string()));
            }
        }
    });
    Ok(rx.await??)
}

/// Connects with reconnection off and `max_message` as the message limit; the heap peaks
/// are reset once connected, so each counts this flood alone.
async fn connect(url: Url, max_message: usize) -> Result<(RoomClient, RoomEvents), BoxError> {
    let connected = RoomClient::connect(url, "bench-token")
        .reconnect(None)
        .limits(Limits::with_max_message_size(max_message))
        .await?;
    CLIENT.reset_peak();
    SERVER.reset_peak();
    Ok(connected)
}

async fn call_ok(room: &RoomClient, limit: Duration) -> Result<Duration, BoxError> {
    let started = Instant::now();
    match tokio::time::timeout(limit, room.storage().exists("x")).await {
        Ok(Ok(true)) => Ok(started.elapsed()),
        Ok(other) => Err(format!("the call after the flood: {other:?}").into()),
        Err(_) => Err(format!("the call after the flood took over {limit:?}").into()),
    }
}

fn ms(d: Duration) -> String {
    format!("{} ms", d.as_millis())
}

// The floods

async fn event_flood(server: Handle, size: Size) -> Result<String, BoxError> {
    let n = size.messages;
    let url = serve(&server, move |listener| async move {
        let Ok(tcp) = accept(&listener, "s-1").await else {
            return;
        };
        let (mut reader, mut wr) = split(tcp).await;
        let event = json!({"path": "p".repeat(300), "participant_id": "someone"});
        let one = message_frames(7, "storage.file.deleted", &packed(&event, &[]));
        if flood(&mut wr, &one, n).await.is_ok() {
            answer_calls(&mut reader, &mut wr).await;
        }
    })
    .await?;
    let (room, mut events) = connect(url, MIB).await?;
    // The call's reply comes after the whole flood on the wire.
    let took = call_ok(&room, Duration::from_secs(30)).await?;
    let (mut kept, mut lagged) = (0u64, 0u64);
    while let Ok(Some(event)) =
        tokio::time::timeout(Duration::from_millis(300), events.next()).await
    {
        match event {
            RoomEvent::Lagged(k) => lagged += k,
            _ => kept += 1,
        }
    }
    room.close().await;
    Ok(format!(
        "a call made at the start answered after {}; then the queue held {kept} events and Lagged({lagged})",
        ms(took)
    ))
}

/// The `tool_call_id` of a client's `room.invoke_tool` header.
fn call_id(header: &Value) -> String {
    header["tool_call_id"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn response_chunk(call: &str, chunk: Value, tail: &[u8]) -> Vec<u8> {
    let header = json!({"tool_call_id": call, "chunk": chunk});
    message_frames(9, "room.tool_call_response_chunk", &packed(&header, tail))
}

async fn push_stream_flood(server: Handle, size: Size) -> Result<String, BoxError> {
    let n = size.messages;
    let url = serve(&server, move |listener| async move {
        let Ok(tcp) = accept(&listener, "s-1").await else {
            return;
        };
        let (mut reader, mut wr) = split(tcp).await;
        let Some((id, _, header, _)) = reader.next().await else {
            return;
        };
        let call = call_id(&header);
        let open = packed(&json!({"type": "control", "method": "open"}), &[]);
        let one = response_chunk(
            &call,
            json!({"type": "binary", "headers": {"type": "custom"}}),
            &[b'c'; 400],
        );
        let close = response_chunk(
            &call,
            json!({"type": "control", "method": "close", "status_code": 1000}),
            &[],
        );
        let flooded = async {
            wr.write_all(&message_frames(id, RESPONSE, &open)).await?;
            flood(&mut wr, &one, n).await?;
            wr.write_all(&close).await
        };
        if flooded.await.is_ok() {
            answer_calls(&mut reader, &mut wr).await;
        }
    })
    .await?;
    let (room, _events) = connect(url, MIB).await?;
    let mut stream = room.open_stream("developer", "logs").await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let held = CLIENT.peak();
    let started = Instant::now();
    let mut got = 0usize;
    while let Some(chunk) = stream.recv().await? {
        if matches!(chunk, Content::Binary { .. }) {
            got += 1;
        }
    }
    let read = started.elapsed();
    drop(stream);
    let took = call_ok(&room, Duration::from_secs(10)).await?;
    room.close().await;
    if got != n {
        return Err(format!("the reader got {got} of {n} chunks").into());
    }
    Ok(format!(
        "peak while not reading {:.1} MiB; then all {got} chunks read in {}, nothing dropped; next call {}",
        held as f64 / MIB as f64,
        ms(read),
        ms(took)
    ))
}

async fn download_flood(server: Handle, size: Size, bytes: bool) -> Result<String, BoxError> {
    let n = size.messages;
    let url = serve(&server, move |listener| async move {
        let Ok(tcp) = accept(&listener, "s-1").await else {
            return;
        };
        let (mut reader, mut wr) = split(tcp).await;
        let Some((id, _, header, _)) = reader.next().await else {
            return;
        };
        let call = call_id(&header);
        let open = packed(&json!({"type": "control", "method": "open"}), &[]);
        if wr
            .write_all(&message_frames(id, RESPONSE, &open))
            .await
            .is_err()
        {
            return;
        }
        // The client's start chunk.
        if reader.next().await.is_none() {
            return;
        }
        let start = response_chunk(
            &call,
            json!({"type": "binary", "headers": {"kind": "start", "name": "big",
                "mime_type": "x/y", "size": 1u64 << 40}}),
            &[],
        );
        let one = response_chunk(
            &call,
            json!({"type": "binary", "headers": {"kind": "data"}}),
            &[b'd'; 400],
        );
        let flooded = async {
            wr.write_all(&start).await?;
            flood(&mut wr, &one, n).await
        };
        if flooded.await.is_ok() {
            answer_calls(&mut reader, &mut wr).await;
        }
    })
    .await?;
    let (room, _events) = connect(url, MIB).await?;
    let download = room.storage().download("big").await?;
    let took = call_ok(&room, Duration::from_secs(30)).await?;
    let read = if bytes {
        download.bytes().await.map(|b| b.len() as u64)
    } else {
        download.write_to(&mut tokio::io::sink()).await
    };
    let outcome = match read {
        Err(e @ Error::Overflow { .. }) => format!("the download failed: {e}"),
        other => {
            return Err(format!("expected Error::Overflow from the download, got {other:?}").into())
        }
    };
    room.close().await;
    Ok(format!(
        "{outcome}; a call made during the flood answered after {}",
        ms(took)
    ))
}

async fn hosted_call_flood(server: Handle, size: Size) -> Result<String, BoxError> {
    let n = size.messages;
    let echoes = Arc::new(AtomicUsize::new(0));
    let (resume_tx, resume_rx) = oneshot::channel::<()>();
    let counted = echoes.clone();
    let url = serve(&server, move |listener| async move {
        let Ok(tcp) = accept(&listener, "s-1").await else {
            return;
        };
        let (mut reader, mut wr) = split(tcp).await;
        let Some((id, kind, ..)) = reader.next().await else {
            return;
        };
        if kind != "room.register_toolkit" {
            eprintln!("room: expected room.register_toolkit, got {kind}");
            return;
        }
        let registered = packed(&json!({"type": "json", "json": {"id": "tk-1"}}), &[]);
        if wr
            .write_all(&message_frames(id, RESPONSE, &registered))
            .await
            .is_err()
        {
            return;
        }
        // The writer: the flood, then a reply to each call the reader passes on.
        let (calls_tx, mut calls_rx) = mpsc::unbounded_channel::<u64>();
        let writer = tokio::spawn(async move {
            let call = json!({"name": "echo",
                "arguments": {"type": "json", "json": {"pad": "q".repeat(200)}}});
            let body = packed(&call, &[]);
            let mut raw = Vec::new();
            for i in 0..n as u64 {
                raw.extend(message_frames(10_000 + i, "room.tool_call.tk", &body));
                if raw.len() > 1 << 20 {
                    if wr.write_all(&raw).await.is_err() {
                        return;
                    }
                    raw.clear();
                }
            }
            if wr.write_all(&raw).await.is_err() {
                return;
            }
            let reply = packed(&json!({"type": "json", "json": {"exists": true}}), &[]);
            while let Some(id) = calls_rx.recv().await {
                if wr
                    .write_all(&message_frames(id, RESPONSE, &reply))
                    .await
                    .is_err()
                {
                    return;
                }
            }
        });
        // The reader: nothing until told; then counts the echoes and passes calls on.
        let _ = resume_rx.await;
        while let Some((id, kind, ..)) = reader.next().await {
            match kind.as_str() {
                "room.tool_call_response" => {
                    counted.fetch_add(1, Ordering::Relaxed);
                }
                "room.invoke_tool" => {
                    let _ = calls_tx.send(id);
                }
                _ => {}
            }
        }
        writer.abort();
    })
    .await?;
    let (room, _events) = connect(url, MIB).await?;
    let toolkit = Toolkit::new("tk", "Tk", "the bench's echo").json_tool(
        "echo",
        "echoes its arguments",
        |v: Value| async move { Ok::<_, String>(v) },
    );
    let hosted = room.host_toolkit(toolkit, false).await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let held = CLIENT.peak();
    let echoed_while_held = echoes.load(Ordering::Relaxed);
    let _ = resume_tx.send(());
    let started = Instant::now();
    let took = call_ok(&room, Duration::from_secs(30)).await?;
    while echoes.load(Ordering::Relaxed) < n && started.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let echoed = echoes.load(Ordering::Relaxed);
    let all_in = started.elapsed();
    drop(hosted);
    room.close().await;
    Ok(format!(
        "peak while the room did not read {:.1} MiB ({echoed_while_held} echoes read by then); \
         after it read again: a call answered in {}, {echoed} of {n} echoes in {}",
        held as f64 / MIB as f64,
        ms(took),
        ms(all_in)
    ))
}

#[derive(Clone, Copy)]
enum Big {
    Binary,
    JsonString,
    WrongType,
}

/// The packed reply: `[u64 header length][JSON header][tail]`, made on the fly.
fn big_body(kind: Big, len: usize) -> Body {
    let (json_head, json_tail, tail_len): (&[u8], &[u8], usize) = match kind {
        Big::Binary => (br#"{"type":"binary","headers":{}}"#, b"", len),
        Big::JsonString => (br#"{"type":"json","json":{"data":""#, br#""}}"#, 0),
        Big::WrongType => (br#"{"type":"json","json":{"exists":""#, br#""}}"#, 0),
    };
    let (json_len, fill_in_json) = match kind {
        Big::Binary => (json_head.len(), false),
        _ => (json_head.len() + len + json_tail.len(), true),
    };
    let mut head = (json_len as u64).to_be_bytes().to_vec();
    head.extend_from_slice(json_head);
    Body {
        head,
        fill: b'x',
        fill_len: if fill_in_json { len } else { tail_len },
        tail: json_tail.to_vec(),
    }
}

async fn large_reply(server: Handle, size: Size, kind: Big) -> Result<String, BoxError> {
    let len = size.reply;
    let url = serve(&server, move |listener| async move {
        let Ok(tcp) = accept(&listener, "s-1").await else {
            return;
        };
        let (mut reader, mut wr) = split(tcp).await;
        let Some((id, ..)) = reader.next().await else {
            return;
        };
        if write_large(&mut wr, id, RESPONSE, &big_body(kind, len))
            .await
            .is_ok()
        {
            answer_calls(&mut reader, &mut wr).await;
        }
    })
    .await?;
    let (room, _events) = connect(url, 64 * MIB).await?;
    let started = Instant::now();
    let outcome = match kind {
        Big::Binary => match room.invoke("bench", "big", Content::Empty).await? {
            Content::Binary { data, .. } if data.len() == len => {
                format!("{len} bytes of binary content")
            }
            other => return Err(format!("unexpected reply {:.200}", format!("{other:?}")).into()),
        },
        Big::JsonString => match room.invoke("bench", "big", Content::Empty).await? {
            Content::Json(v) if v["data"].as_str().map(str::len) == Some(len) => {
                format!("a JSON string of {len} bytes")
            }
            other => return Err(format!("unexpected reply {:.200}", format!("{other:?}")).into()),
        },
        Big::WrongType => match room.storage().exists("big").await {
            Err(e @ Error::UnexpectedResponse { .. }) => {
                format!("UnexpectedResponse, {} bytes of text", e.to_string().len())
            }
            other => return Err(format!("unexpected result {:.200}", format!("{other:?}")).into()),
        },
    };
    let received = started.elapsed();
    let took = call_ok(&room, Duration::from_secs(10)).await?;
    room.close().await;
    Ok(format!(
        "got {outcome} in {}; next call {}",
        ms(received),
        ms(took)
    ))
}

// The parent

/// One flood's figures, as its child reported them.
pub struct Measured {
    pub client_peak: u64,
    pub server_peak: u64,
    pub vm_hwm: u64,
    pub elapsed: Duration,
    pub note: String,
}

/// Runs flood `name` in a child process.
pub fn run_in_child(name: &str, smoke: bool) -> Result<Measured, String> {
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    let mut command = Command::new(exe);
    command
        .env(CHILD_ENV, name)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if smoke {
        command.env(SMOKE_ENV, "1");
    }
    let mut child = command
        .spawn()
        .map_err(|e| format!("spawning the child: {e}"))?;
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = r.read_to_string(&mut s);
            s
        })
    };
    let out = child.stdout.take().map(|o| drain(Box::new(o)));
    let err = child.stderr.take().map(|e| drain(Box::new(e)));
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > CHILD_LIMIT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("hung: killed after {CHILD_LIMIT:?}"));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(format!("waiting for the child: {e}")),
        }
    };
    let out = out.and_then(|t| t.join().ok()).unwrap_or_default();
    let err = err.and_then(|t| t.join().ok()).unwrap_or_default();
    let Some(line) = out.lines().find_map(|l| l.strip_prefix(RESULT)) else {
        let tail: String = err
            .chars()
            .rev()
            .take(800)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        return Err(format!(
            "the child died ({status}) without a result: {tail}"
        ));
    };
    let line = line.trim();
    if let Some(e) = line.strip_prefix("fail") {
        return Err(e.trim().to_string());
    }
    let mut fields = line.trim_start_matches("ok").trim().splitn(5, ' ');
    let mut number = || -> Result<u64, String> {
        fields
            .next()
            .and_then(|f| f.parse().ok())
            .ok_or_else(|| format!("a malformed result line: {line}"))
    };
    let client_peak = number()?;
    let server_peak = number()?;
    let vm_hwm = number()?;
    let elapsed = Duration::from_millis(number()?);
    Ok(Measured {
        client_peak,
        server_peak,
        vm_hwm,
        elapsed,
        note: fields.next().unwrap_or_default().to_string(),
    })
}
