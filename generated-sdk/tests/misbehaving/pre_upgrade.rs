//! Before the websocket upgrade: servers that never answer, trickle, talk garbage or refuse.

use std::time::{Duration, Instant};

use meshagent_room::Error;
use tokio::io::AsyncWriteExt;

use crate::harness::{bounded, check, connect, Scenario, MIB};
use crate::scenario;
use crate::server::{listen, read_request, spawn, upgrade_response};

/// Heap bound of every scenario here: nothing is connected, so little is allocated.
const SMALL: usize = 8 * MIB;

pub fn scenarios() -> Vec<Scenario> {
    vec![
        scenario!("pre/accept-tcp-never-answer", SMALL, no_upgrade),
        scenario!("pre/slow-headers-one-byte-per-100ms", SMALL, slow_headers),
        scenario!("pre/http-garbage", SMALL, garbage),
        scenario!("pre/http-403", SMALL, http_403),
        scenario!("pre/http-404", SMALL, http_404),
        scenario!("pre/http-500", SMALL, http_500),
        scenario!("pre/101-with-wrong-accept-key", SMALL, wrong_accept_key),
        scenario!("pre/tcp-closed-before-answer", SMALL, closed_before_answer),
        scenario!("pre/endless-response-headers", SMALL, endless_headers),
    ]
}

/// Runs a raw server `answer` on the first connection and expects `connect` (with a
/// `deadline`) to fail with an error accepted by `want` within `limit`.
async fn refused<A, F>(
    deadline: Duration,
    answer: A,
    want: &str,
    matches: fn(&Error) -> bool,
) -> Result<(), String>
where
    A: FnOnce(tokio::net::TcpStream) -> F + Send + 'static,
    F: std::future::Future<Output = ()> + Send,
{
    let (listener, url) = listen().await;
    let _server = spawn(async move {
        if let Ok((tcp, _)) = listener.accept().await {
            answer(tcp).await;
        }
    });
    let started = Instant::now();
    let result = bounded(
        "connect to fail",
        deadline + Duration::from_secs(2),
        connect(url).connect_timeout(deadline),
    )
    .await?;
    let took = started.elapsed();
    match result {
        Err(e) if matches(&e) => {
            // The token never appears in what the caller sees.
            check(!format!("{e} {e:?}").contains("token-misbehaving"), || {
                format!("the error shows the token: {e}")
            })?;
            check(took <= deadline + Duration::from_millis(500), || {
                format!("failed only after {took:?} (deadline {deadline:?})")
            })
        }
        Err(e) => Err(format!("expected {want}, got {e:?}")),
        Ok(_) => Err(format!("expected {want}, but connected")),
    }
}

fn timeout(e: &Error) -> bool {
    matches!(e, Error::Timeout(_, "connect"))
}

fn connect_error(e: &Error) -> bool {
    matches!(e, Error::Connect { .. })
}

async fn no_upgrade() -> Result<(), String> {
    refused(
        Duration::from_millis(600),
        |tcp| async move {
            tokio::time::sleep(Duration::from_secs(10)).await;
            drop(tcp);
        },
        "Timeout(connect)",
        timeout,
    )
    .await
}

async fn slow_headers() -> Result<(), String> {
    refused(
        Duration::from_millis(1000),
        |mut tcp| async move {
            let Some(req) = read_request(&mut tcp).await else {
                return;
            };
            let Some(resp) = upgrade_response(&req) else {
                return;
            };
            for b in resp.as_bytes() {
                if tcp.write_all(&[*b]).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        },
        "Timeout(connect)",
        timeout,
    )
    .await
}

async fn endless_headers() -> Result<(), String> {
    // A valid status line, then header lines forever (fast): the client must not buffer
    // them without bound; it gives up (an error, or the deadline).
    refused(
        Duration::from_millis(1500),
        |mut tcp| async move {
            let _ = read_request(&mut tcp).await;
            if tcp
                .write_all(b"HTTP/1.1 101 Switching Protocols\r\n")
                .await
                .is_err()
            {
                return;
            }
            let line = format!("X-Filler: {}\r\n", "f".repeat(1000));
            for _ in 0..100_000 {
                if tcp.write_all(line.as_bytes()).await.is_err() {
                    return;
                }
            }
        },
        "Connect or Timeout(connect)",
        |e| connect_error(e) || timeout(e),
    )
    .await
}

async fn answer_with(bytes: &'static [u8]) -> Result<(), String> {
    refused(
        Duration::from_secs(2),
        move |mut tcp| async move {
            let _ = read_request(&mut tcp).await;
            let _ = tcp.write_all(bytes).await;
            let _ = tcp.flush().await;
            tokio::time::sleep(Duration::from_secs(5)).await;
        },
        "Connect",
        connect_error,
    )
    .await
}

async fn garbage() -> Result<(), String> {
    answer_with(b"\x00\xff\xfeNOT HTTP AT ALL\r\n\x07\x08garbage\r\n\r\n").await
}

async fn refusal(status: &'static [u8], code: &str) -> Result<(), String> {
    let (listener, url) = listen().await;
    let _server = spawn(async move {
        if let Ok((mut tcp, _)) = listener.accept().await {
            let _ = read_request(&mut tcp).await;
            let _ = tcp.write_all(status).await;
            tokio::time::sleep(Duration::from_secs(5)).await;
        }
    });
    match bounded("connect to fail", Duration::from_secs(3), connect(url)).await? {
        Err(e @ Error::Connect { .. }) => check(e.to_string().contains(code), || {
            format!("the error does not name the status {code}: {e}")
        }),
        Err(e) => Err(format!("expected Connect with {code}, got {e:?}")),
        Ok(_) => Err("connected to a server that refused".into()),
    }
}

async fn http_403() -> Result<(), String> {
    refusal(
        b"HTTP/1.1 403 Forbidden\r\nContent-Length: 9\r\n\r\nforbidden",
        "403",
    )
    .await
}

async fn http_404() -> Result<(), String> {
    refusal(
        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
        "404",
    )
    .await
}

async fn http_500() -> Result<(), String> {
    refusal(
        b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\noops",
        "500",
    )
    .await
}

async fn wrong_accept_key() -> Result<(), String> {
    answer_with(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n",
    )
    .await
}

async fn closed_before_answer() -> Result<(), String> {
    refused(
        Duration::from_secs(2),
        |mut tcp| async move {
            let _ = read_request(&mut tcp).await;
            drop(tcp);
        },
        "Connect",
        connect_error,
    )
    .await
}
