//! Replies decode as leniently as the official SDKs where they are lenient (issue 12):
//! an image without `size` (TypeScript 0.35.8 reads it as undefined), and a `memory.list`
//! entry that is not a string (TypeScript drops it), while a reply of the wrong shape
//! still fails.

mod support;

use meshagent_room::{Error, RoomClient};
use serde_json::{json, Value};
use support::{connect_memory, within};

/// Calls `toolkit.tool` through `call`, answers it with `reply`, and returns the result.
async fn answer<T: Send + 'static>(
    toolkit: &'static str,
    tool: &'static str,
    reply: Value,
    call: impl FnOnce(RoomClient) -> futures::future::BoxFuture<'static, meshagent_room::Result<T>>,
) -> meshagent_room::Result<T> {
    let (room, _events, mut peer) = connect_memory().await;
    let task = tokio::spawn(call(room));
    let (id, ..) = peer.recv_invoke(toolkit, tool).await;
    peer.reply(id, json!({"type": "json", "json": reply})).await;
    within("the reply", task).await.expect("task")
}

#[cfg(feature = "memory")]
#[tokio::test]
async fn memory_list_drops_entries_that_are_not_strings() {
    let names = answer(
        "memory",
        "list",
        json!({"memories": ["a", 7, null, {"name": "x"}, "b"]}),
        |room| Box::pin(async move { room.memory().list().await }),
    )
    .await
    .expect("TypeScript keeps the strings");
    assert_eq!(names, ["a", "b"]);

    // A missing key is still an empty list (both SDKs).
    let names = answer("memory", "list", json!({}), |room| {
        Box::pin(async move { room.memory().list().await })
    })
    .await
    .expect("missing key");
    assert!(names.is_empty());

    // A `memories` that is not a list at all is still a wrong reply.
    let err = answer("memory", "list", json!({"memories": "a"}), |room| {
        Box::pin(async move { room.memory().list().await })
    })
    .await
    .expect_err("not a list");
    assert!(
        matches!(&err, Error::UnexpectedResponse { tool, .. } if tool == "memory.list"),
        "{err:?}"
    );
}

#[cfg(all(feature = "containers", feature = "protocol-0-35-8"))]
#[tokio::test]
async fn an_image_without_size_decodes() {
    let images = answer(
        "containers",
        "list_images",
        json!({"images": [
            {"id": "sha256:1", "tags": ["app:1", 3], "labels": {}},
            {"id": "sha256:2", "tags": [], "size": null, "labels": {}},
            {"id": "sha256:3", "tags": ["b"], "size": 42, "labels": {"k": "v"}},
        ]}),
        |room| Box::pin(async move { room.containers().list_images().await }),
    )
    .await
    .expect("TypeScript 0.35.8 accepts an image without size");
    assert_eq!(images.len(), 3);
    assert_eq!(images[0].size, None);
    assert_eq!(images[0].tags, ["app:1"], "non-string tags are dropped");
    assert_eq!(images[1].size, None);
    assert_eq!(images[2].size, Some(42));

    // An image without an id is still a wrong reply (both SDKs require it).
    let err = answer(
        "containers",
        "list_images",
        json!({"images": [{"tags": [], "labels": {}}]}),
        |room| Box::pin(async move { room.containers().list_images().await }),
    )
    .await
    .expect_err("no id");
    assert!(matches!(&err, Error::UnexpectedResponse { .. }), "{err:?}");
}

#[cfg(all(feature = "containers", feature = "protocol-0-56"))]
#[tokio::test]
async fn a_0_56_image_with_only_an_id_decodes() {
    // Python 0.56.0 `Image`: only `id` is required; the rest default.
    let images = answer(
        "containers",
        "list_images",
        json!({"images": [{"id": "sha256:1"}]}),
        |room| Box::pin(async move { room.containers().list_images().await }),
    )
    .await
    .expect("Python 0.56.0 defaults every other field");
    assert_eq!(images.len(), 1);
    assert_eq!(images[0].id, "sha256:1");
    assert!(images[0].references.is_empty());
}
