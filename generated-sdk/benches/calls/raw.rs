//! The baseline: tokio-tungstenite alone, doing what the SDK does for a call with the same
//! framing and packing. It packs the same `room.invoke_tool` header (a fresh v4 UUID per
//! call as `tool_call_id`), splits it into packets with the SDK's framing, correlates
//! replies by message id and decodes each reply's packed JSON content.
//!
//! It is one task that owns the socket: sequential calls send and wait; with N in flight
//! it keeps N requests outstanding and sends the next one as each reply comes in. Each
//! request is flushed as it is made (`SinkExt::send`), as the SDK does for each call;
//! `CALLS_RAW_FLUSH=batch` instead flushes only when no reply is readable (a diagnostic).

use std::collections::HashSet;

use futures::{FutureExt, SinkExt, StreamExt};
use meshagent_room::wire::framing::{encode_message, Reassembler};
use meshagent_room::wire::packing::{pack_header, unpack};
use serde::Serialize;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::{BoxError, PATH};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A raw connection past the room's handshake.
pub struct Raw {
    ws: Ws,
    reassembler: Reassembler,
    next_id: u64,
    /// Flush only when no reply is readable (`CALLS_RAW_FLUSH=batch`).
    batch: bool,
}

#[derive(Serialize)]
struct InvokeHeader<'a> {
    toolkit: &'a str,
    tool: &'a str,
    participant_id: Option<&'a str>,
    on_behalf_of_id: Option<&'a str>,
    arguments: Arguments<'a>,
    tool_call_id: &'a str,
}

#[derive(Serialize)]
struct Arguments<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    json: Path<'a>,
}

#[derive(Serialize)]
struct Path<'a> {
    path: &'a str,
}

impl Raw {
    /// Connects and reads the room's two handshake messages.
    pub async fn connect(addr: std::net::SocketAddr, batch: bool) -> Result<Raw, BoxError> {
        let url = format!("ws://{addr}/rooms/bench?token=raw");
        let (ws, _) = tokio_tungstenite::connect_async_with_config(url, None, true).await?;
        let mut raw = Raw {
            ws,
            reassembler: Reassembler::default(),
            next_id: 0,
            batch,
        };
        for expected in ["room_ready", "connected"] {
            let (_, kind, _) = raw.recv().await?;
            if kind != expected {
                return Err(format!("expected {expected}, got {kind}").into());
            }
        }
        Ok(raw)
    }

    /// Packs and frames one `storage.exists` request; writes it, flushed unless `flush` is off.
    async fn request(&mut self, flush: bool) -> Result<u64, BoxError> {
        self.next_id += 1;
        let call_id = uuid::Uuid::new_v4().simple().to_string();
        let header = InvokeHeader {
            toolkit: "storage",
            tool: "exists",
            participant_id: None,
            on_behalf_of_id: None,
            arguments: Arguments {
                kind: "json",
                json: Path { path: PATH },
            },
            tool_call_id: &call_id,
        };
        let head = pack_header(&header)?;
        for p in encode_message(self.next_id, "room.invoke_tool", &head) {
            self.ws.feed(WsMessage::Binary(p)).await?;
        }
        if flush {
            self.ws.flush().await?;
        }
        Ok(self.next_id)
    }

    /// The next whole message: id, type and (for replies) the decoded `exists`.
    async fn recv(&mut self) -> Result<(u64, String, Option<bool>), BoxError> {
        loop {
            let frame = self.ws.next().await;
            if let Some(message) = self.on_frame(frame)? {
                return Ok(message);
            }
        }
    }

    fn on_frame(
        &mut self,
        frame: Option<Result<WsMessage, tokio_tungstenite::tungstenite::Error>>,
    ) -> Result<Option<(u64, String, Option<bool>)>, BoxError> {
        let packet = match frame {
            Some(Ok(WsMessage::Binary(b))) => b,
            Some(Ok(_)) => return Ok(None),
            Some(Err(e)) => return Err(e.into()),
            None => return Err("the server closed the connection".into()),
        };
        let Some(message) = self.reassembler.push(packet)? else {
            return Ok(None);
        };
        let exists = if message.message_type == "__response__" {
            let packed = unpack(message.data)?;
            match (packed.header.get("type"), packed.header.get("json")) {
                (Some(t), Some(json)) if t == "json" => {
                    json.get("exists").and_then(|e| e.as_bool())
                }
                _ => None,
            }
        } else {
            None
        };
        Ok(Some((message.id, message.message_type, exists)))
    }

    /// `n` calls, `in_flight` at a time (1: sequential).
    pub async fn calls(&mut self, n: usize, in_flight: usize) -> Result<(), BoxError> {
        let mut outstanding = HashSet::with_capacity(in_flight);
        let mut sent = 0;
        let mut done = 0;
        let mut unflushed = false;
        while sent < n.min(in_flight) {
            outstanding.insert(self.request(!self.batch).await?);
            unflushed = self.batch;
            sent += 1;
        }
        while done < n {
            let frame = match self.ws.next().now_or_never() {
                Some(frame) => frame,
                None => {
                    if unflushed {
                        self.ws.flush().await?;
                        unflushed = false;
                    }
                    self.ws.next().await
                }
            };
            let Some((id, kind, exists)) = self.on_frame(frame)? else {
                continue;
            };
            if kind != "__response__" || !outstanding.remove(&id) {
                return Err(format!("unexpected {kind} {id}").into());
            }
            if exists != Some(true) {
                return Err(format!("reply {id} is not {{\"exists\": true}}").into());
            }
            done += 1;
            if sent < n {
                outstanding.insert(self.request(!self.batch).await?);
                unflushed = self.batch;
                sent += 1;
            }
        }
        Ok(())
    }

    pub async fn close(mut self) -> Result<(), BoxError> {
        Ok(self.ws.close(None).await?)
    }
}
