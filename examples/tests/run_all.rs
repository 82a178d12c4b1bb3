//! Runs every example program, as a user would, and checks it succeeds with its closing line:
//! each with its own local room (no `MESHAGENT_ROOM_URL`), then each in a room of one shared
//! server, named by `MESHAGENT_ROOM_URL`.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Each example's program and the start of the line it prints last on success.
const EXAMPLES: &[(&str, &str, &str)] = &[
    ("events", env!("CARGO_BIN_EXE_events"), "events: alice saw "),
    (
        "transfer",
        env!("CARGO_BIN_EXE_transfer"),
        "transfer: uploaded and downloaded 1000000 bytes, identical",
    ),
    (
        "queue_worker",
        env!("CARGO_BIN_EXE_queue_worker"),
        "queue_worker: 5 jobs done, results add up to 55",
    ),
    (
        "chat",
        env!("CARGO_BIN_EXE_chat"),
        "chat: 3 messages exchanged",
    ),
    (
        "sync_doc",
        env!("CARGO_BIN_EXE_sync_doc"),
        "sync_doc: both copies read the same document",
    ),
    (
        "host_toolkit",
        env!("CARGO_BIN_EXE_host_toolkit"),
        "host_toolkit: the caller listed and called the hosted tool",
    ),
];

/// The longest one example may run (each waits at most 10 s per step itself).
const LIMIT: Duration = Duration::from_secs(60);

/// Runs `program` with `room_url` as `MESHAGENT_ROOM_URL` (or none), killing it past
/// [`LIMIT`]; its exit success and stdout.
fn run(name: &str, program: &str, room_url: Option<&str>) -> (bool, String) {
    let mut command = Command::new(program);
    command
        .env_remove("MESHAGENT_ROOM_URL")
        .env_remove("MESHAGENT_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(url) = room_url {
        command.env("MESHAGENT_ROOM_URL", url);
    }
    let mut child = command
        .spawn()
        .unwrap_or_else(|e| panic!("starting {name}: {e}"));
    // Read the output on threads, so a full pipe never stalls the program.
    let read = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_string(&mut text);
            }
            text
        })
    };
    let stdout = read(child.stdout.take().map(|p| Box::new(p) as _));
    let stderr = read(child.stderr.take().map(|p| Box::new(p) as _));
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if start.elapsed() > LIMIT => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{name} still running after {LIMIT:?}");
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("waiting for {name}: {e}"),
        }
    };
    let stdout = stdout.join().expect("the stdout reader");
    let stderr = stderr.join().expect("the stderr reader");
    if !status.success() {
        eprintln!("{name} failed ({status}):\n{stdout}\n{stderr}");
    }
    (status.success(), stdout)
}

/// Runs every example, `room_url` giving each one's room (or none: a local room each).
fn run_all(room_url: impl Fn(&str) -> Option<String>) {
    let mut failed = Vec::new();
    for (name, program, last_line) in EXAMPLES {
        let (ok, stdout) = run(name, program, room_url(name).as_deref());
        let closing = stdout.lines().last().unwrap_or("");
        if !ok || !closing.starts_with(last_line) {
            eprintln!("{name}: expected a last line starting {last_line:?}, got:\n{stdout}");
            failed.push(*name);
        }
    }
    assert!(failed.is_empty(), "examples failed: {failed:?}");
}

#[test]
fn every_example_runs_with_its_own_local_room() {
    run_all(|_| None);
}

#[test]
fn every_example_runs_against_a_room_named_by_meshagent_room_url() {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let server = runtime
        .block_on(devroom::DevRoom::start(devroom::DevRoomOptions::default()))
        .expect("the room server starts");
    run_all(|name| Some(server.room_url(&format!("remote-{name}"))));
    runtime.block_on(server.shutdown());
}
