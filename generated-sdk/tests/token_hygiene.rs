//! Token hygiene: with a TRACE-level tracing subscriber installed the way applications
//! usually do it (`fmt().init()`, which with `tracing-log` also forwards the `log`
//! records of dependencies such as tungstenite), the client connects with a recognizable
//! token to misbehaving servers and to an unreachable port. Every error is formatted with
//! `Display`, `Debug` and `{:#?}` (with its source chain), the client and the connect
//! builder are `Debug`-printed, and the token must appear nowhere. The token travels as the
//! protocol says ([`meshagent_room::protocol::TOKEN_IN_HEADER`]): in an `Authorization:
//! Bearer` header (0.56, never in the query) or as the `token` query parameter (0.35.8);
//! the servers here check that it arrived where it should.
//!
//! One leak is known and outside this crate: tungstenite logs the whole HTTP upgrade
//! request, query string and headers included, at TRACE (`tungstenite::handshake::client`,
//! `generate_request`: `trace!("Request: {:?}", ...)`). `everything_stays_token_free`
//! tolerates exactly that record and nothing else; `no_record_carries_the_token`
//! (ignored) shows it.

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use meshagent_room::{Error, RoomClient, Token};
use serde_json::json;
use support::{listen, within, WsPeer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tracing_subscriber::util::SubscriberInitExt;
use url::Url;

const TOKEN: &str = "SECRET-TOKEN-123";

/// Where the subscriber writes: one buffer for the whole test binary.
fn captured() -> &'static Arc<Mutex<Vec<u8>>> {
    static BUF: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    BUF.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let writer = buf.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_target(true)
            .with_writer(move || Capture(writer.clone()))
            .finish()
            .try_init()
            .expect("the only subscriber of this test binary");
        buf
    })
}

struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn log_text() -> String {
    let buf = captured().lock().unwrap_or_else(|p| p.into_inner());
    String::from_utf8_lossy(&buf).into_owned()
}

/// Display, Debug, pretty Debug and the source chain of an error.
fn render(e: &Error) -> String {
    let mut out = format!("{e}\n{e:?}\n{e:#?}\n");
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        out.push_str(&format!("{s}\n{s:?}\n"));
        source = s.source();
    }
    out
}

/// A raw TCP "server" that reads the request and answers `response`, then hangs up.
async fn raw_http(response: &'static str) -> Url {
    let (listener, url) = listen().await;
    tokio::spawn(async move {
        if let Ok((mut tcp, _)) = listener.accept().await {
            let mut buf = [0u8; 4096];
            let _ = tcp.read(&mut buf).await;
            let _ = tcp.write_all(response.as_bytes()).await;
            let _ = tcp.shutdown().await;
        }
    });
    url
}

/// The token reached the server where the protocol puts it, and nowhere else.
fn assert_token_sent(peer: &WsPeer) {
    use meshagent_room::protocol;
    if protocol::TOKEN_IN_HEADER {
        assert_eq!(
            peer.authorization.as_deref(),
            Some(format!("Bearer {TOKEN}").as_str()),
            "the token was sent in the header"
        );
        assert!(!peer.request_uri.contains(TOKEN), "no token in the query");
        assert!(
            !peer.request_uri.contains("token="),
            "no token in the query"
        );
    } else {
        assert!(peer.request_uri.contains(TOKEN), "the token was sent");
        assert_eq!(peer.authorization, None, "no Authorization header");
    }
    let v = format!("v={}", protocol::VERSION);
    assert!(peer.request_uri.contains(&v), "{v} in the query");
}

/// Connects with the secret token and renders the outcome.
async fn connect_and_render(url: Url, outputs: &mut Vec<(String, String)>, what: &str) {
    let connect = RoomClient::connect(url, TOKEN).handshake_timeout(Duration::from_millis(300));
    outputs.push((
        format!("{what}: Connect"),
        format!("{connect:?} {connect:#?}"),
    ));
    match within(what, connect).await {
        Ok((room, _events)) => {
            outputs.push((what.into(), format!("unexpectedly connected: {room:?}")));
        }
        Err(e) => outputs.push((what.into(), render(&e))),
    }
}

/// Everything the client produced while talking to misbehaving rooms.
async fn exercise() -> Vec<(String, String)> {
    captured();
    let mut outputs: Vec<(String, String)> = Vec::new();

    // An unreachable port.
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        l.local_addr().expect("addr").port()
    };
    let unreachable = Url::parse(&format!("ws://127.0.0.1:{port}/rooms/r")).expect("url");
    connect_and_render(unreachable, &mut outputs, "unreachable port").await;

    // TLS to a server that does not speak it.
    let url = raw_http("not tls at all").await;
    let mut wss = url.clone();
    wss.set_scheme("wss").expect("wss");
    connect_and_render(wss, &mut outputs, "wss to a plain server").await;

    // HTTP-level refusals, one echoing the token back in a header and the body.
    let url = raw_http(
        "HTTP/1.1 401 Unauthorized\r\nContent-Length: 32\r\n\r\nbad token SECRET-TOKEN-123 given",
    )
    .await;
    connect_and_render(url, &mut outputs, "401 echoing the token").await;
    let url = raw_http(
        "HTTP/1.1 302 Found\r\nLocation: /elsewhere?token=SECRET-TOKEN-123\r\nContent-Length: 0\r\n\r\n",
    )
    .await;
    connect_and_render(url, &mut outputs, "redirect echoing the token").await;
    let url = raw_http("garbage that is not http\r\n\r\n").await;
    connect_and_render(url, &mut outputs, "not http").await;
    let url = raw_http("").await;
    connect_and_render(url, &mut outputs, "hang-up before the upgrade").await;

    // A websocket that closes before, or never completes, the room handshake.
    let (listener, url) = listen().await;
    tokio::spawn(async move {
        let peer = WsPeer::accept(&listener).await;
        assert_token_sent(&peer);
        drop(peer);
    });
    connect_and_render(url, &mut outputs, "closed during the handshake").await;
    let (listener, url) = listen().await;
    tokio::spawn(async move {
        let mut peer = WsPeer::accept(&listener).await;
        peer.wait_closed().await;
    });
    connect_and_render(url, &mut outputs, "silent room").await;

    // A room that connects, then misbehaves: garbage packets, bad replies, a server
    // error, then a close in the middle of a message.
    let (listener, url) = listen().await;
    let server = tokio::spawn(async move {
        let mut peer = WsPeer::accept(&listener).await;
        assert_token_sent(&peer);
        peer.handshake().await;
        peer.send_packets(vec![bytes::Bytes::from_static(b"\x00\x01")])
            .await;
        peer.push("storage.file.updated", json!({"path": 3})).await;
        let replies = [
            json!({"type": "hologram"}),
            json!({"type": "json", "json": {"exists": "yes"}}),
            json!({"type": "error", "text": "denied", "code": 1001}),
        ];
        for reply in replies {
            let (id, ..) = peer.expect_recv().await;
            peer.reply(id, reply).await;
        }
        let (id, ..) = peer.expect_recv().await;
        let data = support::packed(&json!({"type": "text", "text": "x".repeat(3000)}), &[]);
        let packets = meshagent_room::wire::framing::encode_message(id, "__response__", &data);
        peer.send_packets(packets[..2].to_vec()).await;
        drop(peer);
    });
    let (room, _events) = within(
        "connect",
        RoomClient::connect(url, Token::new(TOKEN))
            .handshake_timeout(Duration::from_secs(5))
            .reconnect(None),
    )
    .await
    .expect("connected");
    outputs.push(("client".into(), format!("{room:?}\n{room:#?}")));
    for i in 0..4 {
        let e = within("a call", room.storage().exists(format!("f{i}")))
            .await
            .expect_err("every reply is bad");
        outputs.push((format!("call {i}"), render(&e)));
    }
    let e = within("a call after the close", room.storage().exists("late"))
        .await
        .expect_err("closed");
    outputs.push(("call after the close".into(), render(&e)));
    outputs.push(("closed client".into(), format!("{room:?}\n{room:#?}")));
    within("the server", server).await.expect("server");
    outputs.push((
        "token".into(),
        format!("{:?} {:#?}", Token::new(TOKEN), Token::new(TOKEN)),
    ));
    outputs
}

/// Log lines that carry the token, minus tungstenite's known request dump.
fn leaking_log_lines(log: &str, tolerate_tungstenite: bool) -> Vec<String> {
    log.lines()
        .filter(|l| l.contains(TOKEN))
        .filter(|l| {
            !(tolerate_tungstenite
                && l.contains("tungstenite::handshake::client")
                && l.contains("Request:"))
        })
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn everything_stays_token_free() {
    let outputs = exercise().await;
    let log = log_text();
    // The subscriber really captured TRACE output, from this crate and from `log` users.
    assert!(log.contains("TRACE"), "nothing captured at TRACE");
    assert!(log.contains("meshagent_room"), "no record of the client");
    assert!(
        log.contains("tungstenite"),
        "no record forwarded from `log`"
    );
    for (what, text) in &outputs {
        assert!(!text.contains(TOKEN), "{what} shows the token:\n{text}");
    }
    let leaks = leaking_log_lines(&log, true);
    assert!(leaks.is_empty(), "log lines with the token:\n{leaks:#?}");
    // The errors were the expected kinds (so the scenarios really ran).
    let all: String = outputs.iter().map(|(w, t)| format!("{w}: {t}\n")).collect();
    for expected in [
        "cannot connect to ws://127.0.0.1",
        "HTTP error: 401",
        "HTTP error: 302",
        "timed out",
        "connection closed",
        "malformed content",
        "unexpected reply from storage.exists",
        "server error 1001 from storage.exists: denied",
    ] {
        assert!(all.contains(expected), "no `{expected}` in:\n{all}");
    }
}

/// BUG (outside this crate; reported): tungstenite 0.28 logs the full upgrade request,
/// `GET /rooms/r?token=...&v=0.35.8` or, in 0.56, its `Authorization: Bearer ...` header,
/// at TRACE through `log`
/// (tungstenite-0.28.0/src/handshake/client.rs:200). An application that forwards `log`
/// records (tracing-subscriber's default `tracing-log` feature, env_logger) at TRACE
/// writes the participant token to its logs.
/// Run with `cargo test -p meshagent-room --test token_hygiene -- --ignored`.
#[tokio::test]
#[ignore = "known leak in tungstenite's TRACE logging (see doc comment)"]
async fn no_record_carries_the_token() {
    exercise().await;
    let leaks = leaking_log_lines(&log_text(), false);
    assert!(leaks.is_empty(), "log lines with the token:\n{leaks:#?}");
}
