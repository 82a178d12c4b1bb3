//! A matrix of malformed frames over a REAL loopback websocket: a tokio-tungstenite room
//! server misbehaves in one named way per case while the client, connected with
//! `RoomClient::connect` to `ws://127.0.0.1:PORT/rooms/r`, has two calls pending.
//!
//! For every case the call the fault is aimed at gets the expected typed error (or the
//! bad packet is skipped and the call gets the valid reply that follows), nothing panics,
//! and then either the client keeps serving (the other pending call and a following one
//! succeed) or it closes cleanly (every pending call fails with `Error::Closed`, later
//! calls too, and the event stream ends). Every wait is bounded; all cases run and every
//! failure is reported with its case name.

#[path = "malformed_frames/cases.rs"]
mod cases;
mod support;

use std::future::IntoFuture;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Once;
use std::time::Duration;

use cases::*;
use futures::StreamExt;
use meshagent_room::wire::framing::Limits;
use meshagent_room::{ConnectionEvent, RoomClient, RoomEvent};
use support::listen;

async fn bounded<F: IntoFuture>(what: &str, fut: F) -> Result<F::Output, String> {
    tokio::time::timeout(Duration::from_secs(5), fut)
        .await
        .map_err(|_| format!("timed out waiting for {what}"))
}

type Call = tokio::task::JoinHandle<meshagent_room::Result<bool>>;

async fn outcome(what: &str, call: Call) -> Result<meshagent_room::Result<bool>, String> {
    bounded(what, call)
        .await?
        .map_err(|e| format!("{what}: task failed: {e}"))
}

fn check(what: &str, got: &meshagent_room::Result<bool>, expect: Expect) -> Result<(), String> {
    match (expect, got) {
        (Expect::Answer(want), Ok(v)) if *v == want => Ok(()),
        (Expect::Fails(_, matches), Err(e)) if matches(e) => Ok(()),
        (Expect::Answer(want), _) => Err(format!("{what}: expected Ok({want}), got {got:?}")),
        (Expect::Fails(desc, _), _) => Err(format!("{what}: expected Err({desc}), got {got:?}")),
    }
}

/// Aborts the room task when a case ends early, so it cannot outlive its case.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn run_case(case: &Case) -> Result<(), String> {
    let (listener, url) = listen().await;
    let mut server = AbortOnDrop(tokio::spawn(serve(listener, case.fault)));
    // Reconnection off: each case ends in a served call or a cleanly closed client.
    let connect = RoomClient::connect(url, "token-abc")
        .reconnect(None)
        .limits(Limits::with_max_message_size(MAX_MESSAGE))
        .handshake_timeout(Duration::from_secs(5));
    let (room, mut events) = bounded("connect", connect)
        .await?
        .map_err(|e| format!("connect failed: {e}"))?;
    let call = |path: &'static str| -> Call {
        let room = room.clone();
        tokio::spawn(async move { room.storage().exists(path).await })
    };
    let (a, a2) = (call("a"), call("a2"));
    let a = outcome("the targeted call", a).await?;
    check("the targeted call", &a, case.expect)?;
    let a2 = outcome("the other pending call", a2).await?;
    match case.after {
        After::KeepsServing => {
            check("the other pending call", &a2, Expect::Answer(true))?;
            let b = outcome("a following call", call("b")).await?;
            check("a following call", &b, Expect::Answer(true))?;
            if room.is_closed() {
                return Err("the client closed although it should keep serving".into());
            }
        }
        After::Closes => {
            check(
                "the other pending call",
                &a2,
                Expect::Fails("Closed", closed),
            )?;
            if !room.is_closed() {
                return Err("the client did not close".into());
            }
            let b = outcome("a call after the close", call("b")).await?;
            check(
                "a call after the close",
                &b,
                Expect::Fails("Closed", closed),
            )?;
            match bounded("the close report", events.next()).await? {
                Some(RoomEvent::Connection(ConnectionEvent::Closed { .. })) => {}
                other => return Err(format!("expected the close report, got {other:?}")),
            }
            if let Some(e) = bounded("the event stream to end", events.next()).await? {
                return Err(format!("the event stream went on after the close: {e:?}"));
            }
        }
    }
    drop((room, events));
    bounded("the server to finish", &mut server.0)
        .await?
        .map_err(|e| format!("server: {e}"))
}

/// How many panics happened so far, on any thread (including the client's background
/// tasks); the counting hook is installed on first use and kept.
fn panics() -> usize {
    static PANICS: AtomicUsize = AtomicUsize::new(0);
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.fetch_add(1, Ordering::SeqCst);
            default_hook(info);
        }));
    });
    PANICS.load(Ordering::SeqCst)
}

/// Runs every case, returning one line per failed case (a panic anywhere fails it).
async fn run_all(cases: &[Case]) -> Vec<String> {
    // One test at a time, so that panics are attributed to the right case.
    static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _serial = SERIAL.lock().await;
    let mut failures = Vec::new();
    for case in cases {
        let before = panics();
        let result = match tokio::time::timeout(Duration::from_secs(15), run_case(case)).await {
            Ok(r) => r,
            Err(_) => Err("the case did not finish in 15 s".into()),
        };
        let result = result.and_then(|()| match panics() - before {
            0 => Ok(()),
            n => Err(format!("{n} panic(s)")),
        });
        if let Err(e) = result {
            failures.push(format!(
                "{} ({:?}, {:?}): {e}",
                case.name, case.fault, case.after
            ));
        }
    }
    failures
}

#[tokio::test]
async fn malformed_frame_matrix() {
    let cases = cases();
    let failures = run_all(&cases).await;
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n  {}",
        failures.len(),
        cases.len(),
        failures.join("\n  ")
    );
}

/// serde would fill a struct from a JSON *array*, field by field; typed replies that are
/// objects reject arrays (`{"type":"json","json":[true]}` for `storage.exists` is an
/// error, as in the SDKs).
#[tokio::test]
async fn arrays_are_not_structs() {
    let cases = known_bug_cases();
    let failures = run_all(&cases).await;
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
