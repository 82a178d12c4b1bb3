//! Storage in a directory: uploads land as files under `<dir>/<room>/`, nothing else is
//! left behind, and the files outlive the server.

mod support;

use bytes::Bytes;
use devroom::{DevRoomOptions, StorageOption};
use support::*;

#[tokio::test]
async fn files_live_in_the_room_folder() {
    let dir = std::env::temp_dir().join(format!("devroom-test-{}", uuid::Uuid::new_v4().simple()));
    let server =
        start_with(DevRoomOptions::default().storage(StorageOption::Dir(dir.clone()))).await;
    let (room, _events) = join(&server, "disk", "alice").await;
    let data: Vec<u8> = (0..150_000u32).map(|i| (i % 7) as u8).collect();
    within("upload", room.storage().upload("docs/a.bin", data.clone()))
        .await
        .expect("upload");
    let on_disk = std::fs::read(dir.join("disk/docs/a.bin")).expect("the file is on disk");
    assert_eq!(on_disk, data);
    let listed = within("list", room.storage().list("docs"))
        .await
        .expect("list");
    assert_eq!(
        listed
            .iter()
            .map(|e| (e.name.as_str(), e.size))
            .collect::<Vec<_>>(),
        vec![("a.bin", Some(150_000))]
    );
    let root: Vec<String> = std::fs::read_dir(dir.join("disk"))
        .expect("room folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        root,
        vec!["docs".to_string()],
        "no upload temporaries are left"
    );
    let back = within("download", room.storage().download("docs/a.bin"))
        .await
        .expect("download");
    assert_eq!(
        within("bytes", back.bytes()).await.expect("bytes"),
        Bytes::from(data.clone())
    );
    drop(room);
    within("shutdown", server.shutdown()).await;

    // A new server on the same folder serves the same file.
    let server =
        start_with(DevRoomOptions::default().storage(StorageOption::Dir(dir.clone()))).await;
    let (room, _events) = join(&server, "disk", "bob").await;
    assert!(within("exists", room.storage().exists("docs/a.bin"))
        .await
        .expect("exists"));
    within("delete", room.storage().delete("docs").recursive(true))
        .await
        .expect("delete");
    assert!(!dir.join("disk/docs").exists());
    let _ = std::fs::remove_dir_all(&dir);
}
