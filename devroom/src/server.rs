//! The listener: accepts websocket upgrades at `/rooms/<room>`, checks the token, picks the
//! dialect, and runs a session per connection.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::StatusCode;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::auth::Refusal;
use crate::dialect::Dialect;
use crate::options::{DevRoomOptions, ProtocolChoice};
use crate::room::{valid_room_name, Rooms};
use crate::session::{self, Accepted};

/// Largest websocket message accepted: one packet is at most 1036 bytes plus a packet type.
const MAX_PACKET: usize = 64 * 1024;

/// Why the server did not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// The storage directory could not be made.
    #[error("cannot use the storage directory {dir}: {source}")]
    StorageDir {
        /// The directory.
        dir: std::path::PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// A running room server. Dropping it stops accepting connections; [`DevRoom::shutdown`]
/// also closes the open ones and waits for them.
pub struct DevRoom {
    addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for DevRoom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevRoom")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

struct Server {
    options: Arc<DevRoomOptions>,
    rooms: Rooms,
}

impl DevRoom {
    /// Binds and starts serving in the background (inside the current tokio runtime).
    pub async fn start(options: DevRoomOptions) -> Result<DevRoom, StartError> {
        if let crate::options::StorageOption::Dir(dir) = &options.storage {
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(|source| StartError::StorageDir {
                    dir: dir.clone(),
                    source,
                })?;
        }
        let addr = SocketAddr::new(options.host, options.port);
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| StartError::Bind { addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| StartError::Bind { addr, source })?;
        let (shutdown, stopped) = watch::channel(false);
        let server = Arc::new(Server {
            options: Arc::new(options),
            rooms: Rooms::default(),
        });
        let task = tokio::spawn(accept_loop(listener, server, stopped));
        tracing::info!(%addr, "devroom listening");
        Ok(DevRoom {
            addr,
            shutdown,
            task,
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The server's base URL, `ws://HOST:PORT` (what `meshagent_room::room_url` takes).
    pub fn url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    /// The websocket URL of room `room`: `ws://HOST:PORT/rooms/<room>`.
    pub fn room_url(&self, room: &str) -> String {
        format!("ws://{}/rooms/{room}", self.addr)
    }

    /// Closes every connection (close code 1001) and stops; waits at most a few seconds.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        if tokio::time::timeout(Duration::from_secs(5), &mut self.task)
            .await
            .is_err()
        {
            self.task.abort();
        }
    }

    /// Runs until the accept loop ends (the binary's main loop).
    pub async fn wait(mut self) {
        let _ = (&mut self.task).await;
    }
}

impl Drop for DevRoom {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

async fn accept_loop(
    listener: TcpListener,
    server: Arc<Server>,
    mut stopped: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        while connections.try_join_next().is_some() {}
        tokio::select! {
            _ = stopped.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((tcp, peer)) => {
                    if connections.len() >= server.options.max_connections {
                        tracing::warn!(%peer, "too many connections: closing a new one");
                        drop(tcp);
                        continue;
                    }
                    let server = server.clone();
                    let stopped = stopped.clone();
                    connections.spawn(async move {
                        if let Err(e) = connection(tcp, server, stopped).await {
                            tracing::info!(%peer, "connection refused: {e}");
                        }
                    });
                }
                Err(e) => {
                    // Out of descriptors and the like: wait instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
        }
    }
    drop(listener);
    if tokio::time::timeout(Duration::from_secs(3), async {
        while connections.join_next().await.is_some() {}
    })
    .await
    .is_err()
    {
        connections.abort_all();
    }
}

async fn connection(
    tcp: TcpStream,
    server: Arc<Server>,
    stopped: watch::Receiver<bool>,
) -> Result<(), String> {
    let options = server.options.clone();
    let mut decided: Option<Accepted> = None;
    // The error type is fixed by tungstenite's callback signature.
    #[allow(clippy::result_large_err)]
    let callback = |req: &Request, resp: Response| -> Result<Response, ErrorResponse> {
        match decide(&server, req) {
            Ok(accepted) => {
                decided = Some(accepted);
                Ok(resp)
            }
            Err(refusal) => Err(refuse(&refusal)),
        }
    };
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_PACKET))
        .max_frame_size(Some(MAX_PACKET));
    let upgrade = tokio_tungstenite::accept_hdr_async_with_config(tcp, callback, Some(config));
    let ws = match tokio::time::timeout(options.idle_timeout, upgrade).await {
        Ok(Ok(ws)) => ws,
        Ok(Err(e)) => return Err(e.to_string()),
        Err(_) => return Err("no websocket upgrade in time".to_string()),
    };
    let accepted = decided.ok_or("the upgrade was accepted without a decision")?;
    session::run(ws, accepted, stopped).await;
    Ok(())
}

fn refuse(refusal: &Refusal) -> ErrorResponse {
    let mut response = ErrorResponse::new(Some(refusal.reason.clone()));
    *response.status_mut() = StatusCode::from_u16(refusal.status).unwrap_or(StatusCode::FORBIDDEN);
    response
}

/// The room, identity and dialect of an upgrade request, or why it is refused.
fn decide(server: &Server, req: &Request) -> Result<Accepted, Refusal> {
    let not_found = |why: &str| Refusal {
        status: 404,
        reason: why.to_string(),
    };
    let name = req
        .uri()
        .path()
        .strip_prefix("/rooms/")
        .map(|n| n.trim_end_matches('/'))
        .ok_or_else(|| not_found("rooms are at /rooms/<name>"))?;
    if !valid_room_name(name) {
        return Err(not_found("a room name is 1-128 of A-Z a-z 0-9 - _ ."));
    }
    let mut query_token = None;
    let mut version = None;
    for (k, v) in url::form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes()) {
        match &*k {
            "token" => query_token = Some(v.into_owned()),
            "v" => version = Some(v.into_owned()),
            _ => {}
        }
    }
    let header_token = req
        .headers()
        .get("authorization")
        .and_then(|h| h.to_str().ok())
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        })
        .map(|t| t.trim().to_string());
    let token = header_token.or(query_token);
    let identity = server.options.token_check.check(name, token.as_deref())?;
    let dialect = match server.options.protocol {
        ProtocolChoice::Force(d) => d,
        ProtocolChoice::Auto => Dialect::from_version(version.as_deref()),
    };
    let host = req
        .headers()
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    Ok(Accepted {
        room: server.rooms.get(name, &server.options),
        identity,
        dialect,
        room_url: format!("ws://{host}/rooms/{name}"),
    })
}
