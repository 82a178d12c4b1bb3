//! Upload a file and download it, with progress:
//! `cargo run -p meshagent-examples --bin transfer`.
//!
//! Uploads 1 MB to the room's storage, printing the bytes sent as they go, downloads it
//! again piece by piece, printing the bytes received, and checks both copies match.

use std::process::ExitCode;

use meshagent_examples::{exit, within, ExampleRoom, Result};
use meshagent_room::ByteSource;

/// Size of the file: large enough to travel in several chunks.
const SIZE: usize = 1_000_000;

#[tokio::main]
async fn main() -> ExitCode {
    exit(run().await)
}

async fn run() -> Result<()> {
    let room = ExampleRoom::open("transfer").await?;
    let (client, _events) = room.join("uploader").await?;
    let storage = client.storage();

    let data: Vec<u8> = (0..SIZE).map(|i| (i % 251) as u8).collect();

    // Upload: a source of bytes (a buffer here; `ByteSource::from_file` reads a file as it
    // is sent) with a callback told the total sent after each chunk.
    let source = ByteSource::from(bytes::Bytes::from(data.clone()))
        .on_progress(|sent| println!("upload: {sent} of {SIZE} bytes sent"));
    within(
        "the upload",
        storage.upload("examples/data.bin", source).overwrite(true),
    )
    .await??;

    // Download: the size comes first, then the bytes chunk by chunk.
    let mut download = within(
        "the download to start",
        storage.download("examples/data.bin"),
    )
    .await??;
    println!(
        "download: {} ({} bytes, {})",
        download.name, download.size, download.mime_type
    );
    let mut received = Vec::with_capacity(SIZE);
    while let Some(chunk) = within("the next chunk", download.chunk()).await?? {
        received.extend_from_slice(&chunk);
        println!(
            "download: {} of {} bytes received",
            received.len(),
            download.size
        );
    }

    if received != data {
        return Err(format!(
            "the downloaded file differs from the upload ({} bytes vs {SIZE})",
            received.len()
        )
        .into());
    }
    println!("transfer: uploaded and downloaded {SIZE} bytes, identical");
    client.close().await;
    room.close().await;
    Ok(())
}
