//! The room: a tokio-tungstenite acceptor that greets each connection as the real server
//! does (`room_ready`, then `connected`) and answers every `room.invoke_tool` with
//! `{"exists": true}`. It runs in a child process of the bench (the same binary, role
//! `serve`), so the client's resident memory is the client's alone and 10 000 rooms need
//! 10 000 descriptors on each side, not 20 000 in one process.

use std::net::SocketAddr;

use futures::{SinkExt, StreamExt};
use meshagent_room::wire::framing::{encode_message, Reassembler};
use meshagent_room::wire::packing::pack;
use serde_json::json;
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use crate::BoxError;

/// Serves on 127.0.0.1 until stdin closes (the bench ended); prints `port <n>` first.
pub fn serve() -> Result<(), BoxError> {
    crate::raise_open_files();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let socket = TcpSocket::new_v4()?;
        socket.set_reuseaddr(true)?;
        socket.bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
        // Room for a connect burst (the kernel caps it at net.core.somaxconn).
        let listener = socket.listen(4096)?;
        println!("port {}", listener.local_addr()?.port());
        let accept = async {
            loop {
                if let Ok((tcp, _)) = listener.accept().await {
                    // Clients end by exiting: resets are how rooms end here.
                    tokio::spawn(async move {
                        let _ = room(tcp).await;
                    });
                }
            }
        };
        // The bench closes stdin when it is done (or dies): the room ends with it.
        std::thread::spawn(|| {
            let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
            std::process::exit(0)
        });
        accept.await;
        Ok::<(), BoxError>(())
    })
}

async fn room(tcp: TcpStream) -> Result<(), BoxError> {
    tcp.set_nodelay(true)?;
    // Small buffers: this process holds as many rooms as the client.
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0);
    let mut ws = tokio_tungstenite::accept_async_with_config(tcp, Some(config)).await?;
    let ready = json!({"room_name": "bench", "room_url": "ws://127.0.0.1/rooms/bench",
        "session_id": "s"});
    let connected = json!({"type": "init", "participantId": "p", "attributes": {}});
    for (id, (kind, header)) in [("room_ready", ready), ("connected", connected)]
        .into_iter()
        .enumerate()
    {
        for p in encode_message((1 << 32) + id as u64, kind, &pack(&header, &[])?) {
            ws.feed(WsMessage::Binary(p)).await?;
        }
    }
    ws.flush().await?;
    let reply = pack(&json!({"type": "json", "json": {"exists": true}}), &[])?;
    let mut reassembler = Reassembler::default();
    while let Some(frame) = ws.next().await {
        let packet = match frame? {
            WsMessage::Binary(b) => b,
            WsMessage::Close(_) => break,
            _ => continue,
        };
        let Some(message) = reassembler.push(packet)? else {
            continue;
        };
        if message.message_type == "room.invoke_tool" {
            for p in encode_message(message.id, "__response__", &reply) {
                ws.feed(WsMessage::Binary(p)).await?;
            }
            ws.flush().await?;
        }
    }
    Ok(())
}
