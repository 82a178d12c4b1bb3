//! The in-process room: a tokio-tungstenite server on 127.0.0.1 that greets every
//! connection as the real server does (`room_ready`, then `connected`) and answers every
//! `room.invoke_tool` at once with `{"exists": true}`.
//!
//! It runs on a current-thread runtime on its own thread, so it costs the same for the SDK
//! and the raw client. Replies are written without a flush while more requests are already
//! readable and flushed before it waits, as a real server batches its writes.

use std::net::SocketAddr;

use bytes::Bytes;
use futures::{FutureExt, SinkExt, StreamExt};
use meshagent_room::wire::framing::{encode_message, Reassembler};
use meshagent_room::wire::packing::pack;
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message as WsMessage;

use crate::BoxError;

/// Name of the server's thread (its CPU time is not the client's).
pub const THREAD: &str = "bench-server";

/// Starts the server on its own thread; returns its address.
pub fn start() -> Result<SocketAddr, BoxError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let listener = rt.block_on(TcpListener::bind("127.0.0.1:0"))?;
    let addr = listener.local_addr()?;
    std::thread::Builder::new()
        .name(THREAD.into())
        .spawn(move || rt.block_on(accept(listener)))?;
    Ok(addr)
}

async fn accept(listener: TcpListener) {
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        tokio::spawn(async move {
            if let Err(e) = serve(tcp).await {
                eprintln!("server: {e}");
            }
        });
    }
}

async fn serve(tcp: TcpStream) -> Result<(), BoxError> {
    tcp.set_nodelay(true)?;
    let mut ws = tokio_tungstenite::accept_async(tcp).await?;
    let mut push_id = 1u64 << 32;
    let ready = json!({"room_name": "bench", "room_url": "ws://127.0.0.1/rooms/bench",
        "session_id": "s"});
    let connected = json!({"type": "init", "participantId": "p", "attributes": {}});
    for (kind, header) in [("room_ready", ready), ("connected", connected)] {
        push_id += 1;
        for p in encode_message(push_id, kind, &pack(&header, &[])?) {
            ws.feed(WsMessage::Binary(p)).await?;
        }
    }
    ws.flush().await?;

    // Every reply carries the same packed content; only the message id differs.
    let reply = pack(&json!({"type": "json", "json": {"exists": true}}), &[])?;
    let mut reassembler = Reassembler::default();
    let mut unflushed = false;
    loop {
        // Flush only when nothing more is readable right now.
        let frame = match ws.next().now_or_never() {
            Some(frame) => frame,
            None => {
                if unflushed {
                    ws.flush().await?;
                    unflushed = false;
                }
                ws.next().await
            }
        };
        let packet: Bytes = match frame {
            Some(Ok(WsMessage::Binary(b))) => b,
            Some(Ok(WsMessage::Close(_))) | None => return Ok(()),
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(e.into()),
        };
        let Some(message) = reassembler.push(packet)? else {
            continue;
        };
        if message.message_type != "room.invoke_tool" {
            return Err(format!("unexpected {}", message.message_type).into());
        }
        for p in encode_message(message.id, "__response__", &reply) {
            ws.feed(WsMessage::Binary(p)).await?;
        }
        unflushed = true;
    }
}
