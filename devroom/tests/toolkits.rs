//! The generated Rust client against an embedded devroom: each served toolkit, end to end.

mod support;

use bytes::Bytes;
use futures::StreamExt;
use meshagent_room::{Content, ErrorCode, RoomEvent, Toolkit};
use serde_json::json;
use support::*;

#[tokio::test]
async fn the_handshake_names_the_room_and_the_participant() {
    let server = start().await;
    let (room, _events) = join(&server, "hello", "alice").await;
    assert_eq!(room.room_name(), "hello");
    let me = room.local_participant();
    assert!(!me.id.is_empty());
    assert_eq!(me.attributes.get("name"), Some(&json!("alice")));
}

#[tokio::test]
async fn storage_uploads_lists_downloads_moves_and_deletes() {
    let server = start().await;
    let (room, _events) = join(&server, "files", "alice").await;
    let (other, mut other_events) = join(&server, "files", "bob").await;
    let storage = room.storage();

    // 300 KB: several pulls of 64 KiB.
    let big: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    within("upload", storage.upload("docs/big.bin", big.clone()))
        .await
        .expect("upload");
    within(
        "upload",
        storage.upload("docs/a.txt", Bytes::from_static(b"hello")),
    )
    .await
    .expect("upload");
    let updated = next_event(&mut other_events, "storage.file.updated", |e| match e {
        RoomEvent::StorageFileUpdated(u) => Some(u),
        _ => None,
    })
    .await;
    assert_eq!(updated.path, "docs/big.bin");
    assert_eq!(updated.participant_id, room.local_participant().id);

    let mut names: Vec<(String, Option<i64>)> = within("list", storage.list("docs"))
        .await
        .expect("list")
        .into_iter()
        .map(|e| (e.name, e.size))
        .collect();
    names.sort();
    assert_eq!(
        names,
        vec![
            ("a.txt".to_string(), Some(5)),
            ("big.bin".to_string(), Some(300_000))
        ]
    );
    let root = within("list", storage.list("/")).await.expect("list root");
    assert!(
        root.iter().any(|e| e.name == "docs" && e.is_folder),
        "{root:?}"
    );

    // Another participant downloads what was uploaded.
    let download = within("download", other.storage().download("docs/big.bin"))
        .await
        .expect("download");
    assert_eq!(
        (download.size, download.mime_type.as_str()),
        (300_000, "application/octet-stream")
    );
    assert_eq!(
        within("bytes", download.bytes()).await.expect("bytes"),
        Bytes::from(big)
    );
    let small = within("download", other.storage().download("docs/a.txt"))
        .await
        .expect("download");
    assert_eq!(small.mime_type, "text/plain");
    assert_eq!(
        within("bytes", small.bytes()).await.expect("bytes"),
        Bytes::from_static(b"hello")
    );

    // Overwrite is refused unless asked for.
    let again = within(
        "upload",
        storage.upload("docs/a.txt", Bytes::from_static(b"x")),
    )
    .await;
    assert_eq!(
        again.err().and_then(|e| e.error_code()),
        Some(ErrorCode::StorageAlreadyExists)
    );

    assert!(within("exists", storage.exists("docs/a.txt"))
        .await
        .expect("exists"));
    within("delete", storage.delete("docs").recursive(true))
        .await
        .expect("delete");
    let gone = within("download", storage.download("docs/big.bin")).await;
    assert_eq!(
        gone.err().and_then(|e| e.error_code()),
        Some(ErrorCode::StorageNotFound)
    );
}

/// `storage.move` and its event are 0.56 only.
#[cfg(not(feature = "protocol-0-35-8"))]
#[tokio::test]
async fn storage_moves_a_file_and_says_so() {
    let server = start().await;
    let (room, _events) = join(&server, "files", "alice").await;
    let (_other, mut other_events) = join(&server, "files", "bob").await;
    let storage = room.storage();
    within(
        "upload",
        storage.upload("docs/a.txt", Bytes::from_static(b"hello")),
    )
    .await
    .expect("upload");
    within("move", storage.move_("docs/a.txt", "b.txt"))
        .await
        .expect("move");
    assert!(within("exists", storage.exists("b.txt"))
        .await
        .expect("exists"));
    assert!(!within("exists", storage.exists("docs/a.txt"))
        .await
        .expect("exists"));
    let moved = next_event(&mut other_events, "storage.file.moved", |e| match e {
        RoomEvent::StorageFileMoved(m) => Some(m),
        _ => None,
    })
    .await;
    assert_eq!(
        (moved.source_path.as_str(), moved.destination_path.as_str()),
        ("docs/a.txt", "b.txt")
    );
    let taken = within("move", storage.move_("b.txt", "b.txt")).await;
    assert_eq!(
        taken.err().and_then(|e| e.error_code()),
        Some(ErrorCode::StorageAlreadyExists)
    );
}

#[tokio::test]
async fn queues_pass_messages_between_participants() {
    let server = start().await;
    let (a, _ea) = join(&server, "q", "alice").await;
    let (b, _eb) = join(&server, "q", "bob").await;

    within("send", a.queues().send("jobs", json!({"task": 1})))
        .await
        .expect("send");
    let queues = within("list", a.queues().list()).await.expect("list");
    assert_eq!(
        queues
            .iter()
            .map(|q| (q.name.as_str(), q.size))
            .collect::<Vec<_>>(),
        vec![("jobs", 1)]
    );
    let got = within("receive", b.queues().receive("jobs").wait(false))
        .await
        .expect("receive");
    assert_eq!(got, Some(json!({"task": 1})));
    let none = within("receive", b.queues().receive("jobs").wait(false))
        .await
        .expect("receive");
    assert_eq!(none, None);

    // A waiting receiver gets the next message.
    let waiting = tokio::spawn({
        let b = b.clone();
        async move { b.queues().receive("later").wait(true).await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    within("send", a.queues().send("later", json!({"n": 2})))
        .await
        .expect("send");
    let got = within("the waiting receive", waiting)
        .await
        .expect("task")
        .expect("receive");
    assert_eq!(got, Some(json!({"n": 2})));

    let missing = within("drain", a.queues().drain("nope")).await;
    assert_eq!(
        missing.err().and_then(|e| e.error_code()),
        Some(ErrorCode::QueueNotFound)
    );
}

#[tokio::test]
async fn messaging_between_two_participants() {
    let server = start().await;
    let (a, mut ea) = join(&server, "chat", "alice").await;
    let (b, mut eb) = join(&server, "chat", "bob").await;
    within("enable", b.messaging().enable())
        .await
        .expect("enable");
    next_event(&mut eb, "messaging.enabled", |e| {
        matches!(e, RoomEvent::MessagingEnabled(_)).then_some(())
    })
    .await;
    within("enable", a.messaging().enable())
        .await
        .expect("enable");
    let enabled = next_event(&mut ea, "messaging.enabled", |e| match e {
        RoomEvent::MessagingEnabled(m) => Some(m),
        _ => None,
    })
    .await;
    let bob_id = b.local_participant().id;
    assert!(
        enabled.message.participants.iter().any(|p| p.id == bob_id),
        "alice sees bob"
    );
    let joined = next_event(&mut eb, "participant.enabled", |e| match e {
        RoomEvent::MessagingParticipantEnabled(p) => Some(p),
        _ => None,
    })
    .await;
    assert_eq!(joined.message.id, a.local_participant().id);

    within(
        "send",
        a.messaging()
            .send(bob_id.clone(), "chat", json!({"text": "hi bob"}))
            .attachment_base64(vec![0u8, 1, 2]),
    )
    .await
    .expect("send");
    let message = next_event(&mut eb, "the message", |e| match e {
        RoomEvent::MessagingMessage(m) => Some(m),
        _ => None,
    })
    .await;
    assert_eq!(
        (message.type_.as_str(), &message.message),
        ("chat", &json!({"text": "hi bob"}))
    );
    assert_eq!(message.from_participant_id, a.local_participant().id);
    assert_eq!(message.attachment, Bytes::from_static(&[0, 1, 2]));

    within(
        "broadcast",
        b.messaging().broadcast("hello", json!({"all": true})),
    )
    .await
    .expect("broadcast");
    let message = next_event(&mut ea, "the broadcast", |e| match e {
        RoomEvent::MessagingMessage(m) => Some(m),
        _ => None,
    })
    .await;
    assert_eq!(message.message, json!({"all": true}));

    let nobody = within("send", a.messaging().send("nobody", "chat", json!({}))).await;
    assert_eq!(
        nobody.err().and_then(|e| e.error_code()),
        Some(ErrorCode::NotFound)
    );

    // Leaving is announced.
    b.close().await;
    let left = next_event(&mut ea, "participant.disabled", |e| match e {
        RoomEvent::MessagingParticipantDisabled(p) => Some(p),
        _ => None,
    })
    .await;
    assert_eq!(left.message.id, bob_id);
}

#[tokio::test]
async fn developer_logs_reach_a_subscriber() {
    let server = start().await;
    let (a, _ea) = join(&server, "logs", "alice").await;
    let (b, _eb) = join(&server, "logs", "bob").await;
    let mut logs = within("logs", b.developer().logs()).await.expect("logs");
    within(
        "log",
        a.developer().log("custom", json!({"hello": "world"})),
    )
    .await
    .expect("log");
    within("info", a.developer().info("started"))
        .await
        .expect("info");
    let first = within("an entry", logs.next())
        .await
        .expect("an entry")
        .expect("entry");
    assert_eq!(
        (first.kind.as_str(), &first.data),
        ("custom", &json!({"hello": "world"}))
    );
    let second = within("an entry", logs.next())
        .await
        .expect("an entry")
        .expect("entry");
    assert_eq!(second.kind, "info");
    assert_eq!(second.data["message"], json!("started"));
}

#[tokio::test]
async fn a_hosted_toolkit_is_listed_and_called_by_another_participant() {
    let server = start().await;
    let (host, _eh) = join(&server, "tools", "host").await;
    let (caller, _ec) = join(&server, "tools", "caller").await;
    let toolkit = Toolkit::new("greeter", "Greeter", "Says hello.").json_tool(
        "hello",
        "Greets `name`.",
        |args| async move {
            Ok::<_, String>(
                json!({"greeting": format!("hello {}", args["name"].as_str().unwrap_or("?"))}),
            )
        },
    );
    let hosted = within("host", host.host_toolkit(toolkit, true))
        .await
        .expect("hosted");
    assert!(!hosted.id().is_empty());

    let listed = within("list_toolkits", caller.agents().list_toolkits())
        .await
        .expect("list");
    let greeter = listed
        .iter()
        .find(|t| t.name == "greeter")
        .expect("greeter is listed");
    assert_eq!(
        greeter.participant_id.as_deref(),
        Some(host.local_participant().id.as_str())
    );
    assert_eq!(
        greeter
            .tools
            .iter()
            .map(|t| t.name.as_str())
            .collect::<Vec<_>>(),
        vec!["hello"]
    );
    for built_in in ["storage", "queues", "messaging", "developer", "sync"] {
        assert!(
            listed
                .iter()
                .any(|t| t.name == built_in && t.participant_id.is_none()),
            "{built_in} is listed"
        );
    }

    let reply = within(
        "invoke",
        caller
            .agents()
            .invoke_tool("greeter", "hello", Content::Json(json!({"name": "zoe"}))),
    )
    .await
    .expect("invoke");
    assert_eq!(reply, Content::Json(json!({"greeting": "hello zoe"})));
    // Addressed to the host by id, too.
    let reply = within(
        "invoke",
        caller
            .agents()
            .invoke_tool("greeter", "hello", Content::Json(json!({"name": "ann"})))
            .participant_id(host.local_participant().id),
    )
    .await
    .expect("invoke");
    assert_eq!(reply, Content::Json(json!({"greeting": "hello ann"})));
    // A failing tool answers an error.
    let failed = within(
        "invoke",
        caller
            .agents()
            .invoke_tool("greeter", "nope", Content::Empty),
    )
    .await;
    assert!(failed.is_err(), "{failed:?}");

    within("unregister", hosted.unregister())
        .await
        .expect("unregister");
    let listed = within("list_toolkits", caller.agents().list_toolkits())
        .await
        .expect("list");
    assert!(listed.iter().all(|t| t.name != "greeter"));
    let gone = within(
        "invoke",
        caller
            .agents()
            .invoke_tool("greeter", "hello", Content::Empty),
    )
    .await;
    assert_eq!(
        gone.err().and_then(|e| e.error_code()),
        Some(ErrorCode::NotFound)
    );
}

#[tokio::test]
async fn a_token_check_refuses_a_connection() {
    let options =
        devroom::DevRoomOptions::default().token_check(|_room: &str, token: Option<&str>| {
            match token {
                Some(t) if t == token_of("alice") => Ok(devroom::Identity {
                    name: "alice".into(),
                }),
                _ => Err(devroom::Refusal::forbidden("not on the list")),
            }
        });
    let server = start_with(options).await;
    let url = meshagent_room::room_url(&server.url(), "closed").expect("url");
    let refused = within(
        "connect",
        meshagent_room::RoomClient::connect(url, "someone-else"),
    )
    .await;
    let text = refused.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(text.contains("403"), "{text}");
    let (room, _e) = join(&server, "closed", "alice").await;
    assert_eq!(
        room.local_participant().attributes.get("name"),
        Some(&json!("alice"))
    );
}

fn token_of(name: &str) -> String {
    token(name)
}
