//! What every example shares: where the room is, joining it, and bounded waits.
//!
//! With `MESHAGENT_ROOM_URL` set (the `ws://` or `wss://` URL of a room) the examples join
//! that room, with the token in `MESHAGENT_TOKEN`. Without it they start a local room
//! ([`devroom`]) inside the example's own process, so each runs with one command and nothing
//! else to start: `cargo run -p meshagent-examples --bin chat`.

use std::future::IntoFuture;
use std::time::Duration;

use devroom::{DevRoom, DevRoomOptions};
use meshagent_room::{RoomClient, RoomEvents};
use url::Url;

/// Any error an example stops on; `main` returning it exits with status 1.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// Result of an example's steps.
pub type Result<T> = std::result::Result<T, Error>;

/// The longest any one step waits (joining, a call, an event) before the example fails.
pub const STEP: Duration = Duration::from_secs(10);

/// The room an example runs in: the one named by `MESHAGENT_ROOM_URL`, or a local room
/// started in this process.
pub struct ExampleRoom {
    url: Url,
    /// `MESHAGENT_TOKEN`, used by every participant when set.
    token: Option<String>,
    /// The local room, when this process started one.
    server: Option<DevRoom>,
}

impl ExampleRoom {
    /// The room from `MESHAGENT_ROOM_URL` (and `MESHAGENT_TOKEN`), else a local room named
    /// `name` started here.
    pub async fn open(name: &str) -> Result<ExampleRoom> {
        let token = std::env::var("MESHAGENT_TOKEN")
            .ok()
            .filter(|t| !t.is_empty());
        match std::env::var("MESHAGENT_ROOM_URL") {
            Ok(url) if !url.is_empty() => {
                let url =
                    Url::parse(&url).map_err(|e| format!("MESHAGENT_ROOM_URL {url:?}: {e}"))?;
                println!("room: {url} (from MESHAGENT_ROOM_URL)");
                Ok(ExampleRoom {
                    url,
                    token,
                    server: None,
                })
            }
            _ => {
                let server = within(
                    "the local room to start",
                    DevRoom::start(DevRoomOptions::default()),
                )
                .await??;
                let url = Url::parse(&server.room_url(name))?;
                println!("room: {url} (a local room in this process)");
                Ok(ExampleRoom {
                    url,
                    token,
                    server: Some(server),
                })
            }
        }
    }

    /// Joins the room as `participant`: the client, and its stream of pushed events.
    pub async fn join(&self, participant: &str) -> Result<(RoomClient, RoomEvents)> {
        let token = match &self.token {
            Some(token) => token.clone(),
            None => dev_token(participant)?,
        };
        let joined = within(
            &format!("{participant} to join"),
            RoomClient::connect(self.url.clone(), token),
        )
        .await??;
        Ok(joined)
    }

    /// Stops the local room, if this process started one.
    pub async fn close(self) {
        if let Some(server) = self.server {
            server.shutdown().await;
        }
    }
}

/// A participant token naming `participant`, made with the SDK's token builder and signed
/// with a development secret: the local room accepts any token by default (run it with
/// `--secret devroom-example-secret` to have it verify them). A real room needs a token of
/// its project (`MESHAGENT_TOKEN`, or see the `join_from_env` example).
fn dev_token(participant: &str) -> Result<String> {
    let secret = meshagent_room::auth::SecretString::from("devroom-example-secret".to_string());
    let token = meshagent_room::auth::ParticipantToken::new(participant)
        .sign_with_secret(&secret)
        .map_err(|e| format!("making the token: {e}"))?;
    Ok(token.expose().to_string())
}

/// Waits at most [`STEP`] for `fut`; past that, an error naming `what`.
pub async fn within<F: IntoFuture>(what: &str, fut: F) -> Result<F::Output> {
    tokio::time::timeout(STEP, fut.into_future())
        .await
        .map_err(|_| format!("timed out after {STEP:?} waiting for {what}").into())
}

/// Ends an example: prints its error, if any, and gives the exit status (0 on success).
pub fn exit(outcome: Result<()>) -> std::process::ExitCode {
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
