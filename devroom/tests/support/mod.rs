//! An embedded room and clients joined to it; every wait is bounded.
#![allow(dead_code)] // each test binary uses a part

use std::future::IntoFuture;
use std::time::Duration;

use devroom::{DevRoom, DevRoomOptions};
use futures::StreamExt;
use meshagent_room::{room_url, RoomClient, RoomEvent, RoomEvents};

/// The longest any one step may take.
pub const STEP: Duration = Duration::from_secs(10);

/// Bounds `fut` by [`STEP`], panicking with `what` when it takes longer.
pub async fn within<F: IntoFuture>(what: &str, fut: F) -> F::Output {
    match tokio::time::timeout(STEP, fut.into_future()).await {
        Ok(v) => v,
        Err(_) => panic!("timed out after {STEP:?} waiting for {what}"),
    }
}

/// An unsigned JWT naming `name` (the default token check reads the name unverified).
pub fn token(name: &str) -> String {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    format!(
        "{}.{}.sig",
        b64(r#"{"alg":"none"}"#),
        b64(&format!(r#"{{"name":"{name}"}}"#))
    )
}

/// A room server with default options.
pub async fn start() -> DevRoom {
    start_with(DevRoomOptions::default()).await
}

pub async fn start_with(options: DevRoomOptions) -> DevRoom {
    within("the server to start", DevRoom::start(options))
        .await
        .expect("the server starts")
}

/// Joins room `room` as `name`.
pub async fn join(server: &DevRoom, room: &str, name: &str) -> (RoomClient, RoomEvents) {
    let url = room_url(&server.url(), room).expect("a room URL");
    within("joining", RoomClient::connect(url, token(name)))
        .await
        .expect("joins the room")
}

/// The next event `pick` accepts, skipping others.
pub async fn next_event<T>(
    events: &mut RoomEvents,
    what: &str,
    mut pick: impl FnMut(RoomEvent) -> Option<T>,
) -> T {
    within(what, async {
        loop {
            match events.next().await {
                Some(event) => {
                    if let Some(found) = pick(event) {
                        return found;
                    }
                }
                None => panic!("the event stream ended while waiting for {what}"),
            }
        }
    })
    .await
}
