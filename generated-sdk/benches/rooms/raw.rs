//! The baseline: tokio-tungstenite alone holding a connection to the room, doing what the
//! SDK does for its handshake and one call with the same framing and packing, and then
//! a task per connection that keeps reading it (as the SDK's I/O task does: pings are
//! answered, a close is noticed).

use std::net::SocketAddr;

use futures::{SinkExt, StreamExt};
use meshagent_room::wire::framing::{encode_message, Reassembler};
use meshagent_room::wire::packing::{pack, unpack};
use serde_json::json;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::BoxError;

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A raw connection past the room's handshake.
pub struct Raw {
    ws: Ws,
    reassembler: Reassembler,
}

impl Raw {
    /// Connects with `config` (`None`: tungstenite's defaults) and reads the handshake.
    pub async fn connect(
        addr: SocketAddr,
        config: Option<WebSocketConfig>,
    ) -> Result<Raw, BoxError> {
        let url = format!("ws://{addr}/rooms/bench?token=raw");
        let (ws, _) = tokio_tungstenite::connect_async_with_config(url, config, true).await?;
        let mut raw = Raw {
            ws,
            reassembler: Reassembler::default(),
        };
        for expected in ["room_ready", "connected"] {
            let (_, kind, _) = raw.recv().await?;
            if kind != expected {
                return Err(format!("expected {expected}, got {kind}").into());
            }
        }
        Ok(raw)
    }

    /// One `storage.exists` call, as the SDK packs it.
    pub async fn call(&mut self, path: &str) -> Result<(), BoxError> {
        let header = json!({"toolkit": "storage", "tool": "exists", "participant_id": null,
            "on_behalf_of_id": null, "arguments": {"type": "json", "json": {"path": path}},
            "tool_call_id": uuid::Uuid::new_v4().simple().to_string()});
        for p in encode_message(1, "room.invoke_tool", &pack(&header, &[])?) {
            self.ws.feed(WsMessage::Binary(p)).await?;
        }
        self.ws.flush().await?;
        let (id, kind, data) = self.recv().await?;
        let reply = unpack(data)?;
        if id != 1
            || kind != "__response__"
            || reply.header.get("json") != Some(&json!({"exists": true}))
        {
            return Err(format!("unexpected reply {kind} {id}").into());
        }
        Ok(())
    }

    /// Keeps reading the connection on its own task until it ends.
    pub fn idle(mut self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move { while let Some(Ok(_)) = self.ws.next().await {} })
    }

    async fn recv(&mut self) -> Result<(u64, String, bytes::Bytes), BoxError> {
        loop {
            let packet = match self.ws.next().await {
                Some(Ok(WsMessage::Binary(b))) => b,
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(e.into()),
                None => return Err("the room closed the connection".into()),
            };
            if let Some(m) = self.reassembler.push(packet)? {
                return Ok((m.id, m.message_type, m.data));
            }
        }
    }
}
