//! devroom checking tokens as a MeshAgent room does (`VerifyTokens`): a program given only an
//! API key and a room name (the `MESHAGENT_*` environment) joins; a token signed with another
//! key, or granted another room, is refused.

mod support;

use std::collections::HashMap;

use meshagent_room::auth::{ApiKey, ExposeSecret, ParticipantToken};
use meshagent_room::Connect;
use support::{start_with, within};

fn key(secret: &str) -> ApiKey {
    ApiKey::new(
        "0b7c1d9e-2f3a-4b5c-8d6e-7f8091a2b3c4",
        "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b",
        secret.to_string(),
    )
    .expect("a valid key")
}

fn env(pairs: &[(&str, String)]) -> impl Fn(&str) -> Option<String> {
    let vars: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    move |name| vars.get(name).cloned()
}

#[tokio::test]
async fn an_api_key_and_a_room_name_join_a_verifying_room() {
    let project_key = key("project-secret");
    let check = devroom::VerifyTokens::new(project_key.encode().expose_secret()).expect("key");
    let server = start_with(devroom::DevRoomOptions::default().token_check(check)).await;
    let lookup = env(&[
        (
            "MESHAGENT_API_KEY",
            project_key.encode().expose_secret().to_string(),
        ),
        ("MESHAGENT_ROOM", "lab".into()),
        ("MESHAGENT_ROOM_URL", server.url()),
    ]);
    let connect = Connect::from_env_with("ada", lookup).expect("the environment names a room");
    let (room, _events) = within("the join", connect)
        .await
        .expect("the token verifies");
    assert_eq!(room.room_name(), "lab");
    assert_eq!(
        room.local_participant().attributes.get("name"),
        Some(&serde_json::json!("ada"))
    );

    // Another key's token is refused at the upgrade (401), and so is a token for another room (403).
    let lookup = env(&[
        (
            "MESHAGENT_API_KEY",
            key("other-secret").encode().expose_secret().to_string(),
        ),
        ("MESHAGENT_ROOM", "lab".into()),
        ("MESHAGENT_ROOM_URL", server.url()),
    ]);
    let refused = within(
        "the refused join",
        Connect::from_env_with("eve", lookup).expect("env"),
    )
    .await;
    let text = refused.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(text.contains("401"), "{text}");
    let elsewhere = ParticipantToken::new("eve")
        .with_room("vault")
        .sign_with_api_key(&project_key)
        .expect("signs");
    let url = meshagent_room::room_url(&server.url(), "lab").expect("url");
    let refused = within(
        "the join with another room's token",
        meshagent_room::RoomClient::connect(url, elsewhere),
    )
    .await;
    let text = refused.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(text.contains("403"), "{text}");
}
