//! Replaying cases against the generated client: one libtest-mimic trial per case,
//! checking (a) every message the client sent against the recorded `send` frames, after
//! [`crate::normalize`], and (b) the typed outcome against the recorded one.

use std::path::{Path, PathBuf};
use std::time::Duration;

use futures::StreamExt;
use libtest_mimic::{Failed, Trial};
use meshagent_room::{Error, ExecCommand, ExecSession, RoomClient, RoomEvent, RoomEvents};
use serde_json::Value;

use crate::case::{self, Case, ConnectRecord, Direction, Outcome};

// Messaging streams exist from protocol 0.56 on (no 0.35.8 case records one).
#[cfg(feature = "protocol-0-56")]
mod messaging;
use crate::normalize::{self, canonical, json_diff};
use crate::server::{ClientMessage, ScriptedServer, Transcript};

/// Bound on every wait: connect, the call, each event, the server's script.
const TIMEOUT: Duration = Duration::from_secs(5);

/// Token used when a directory has no `_connect.yaml`.
const DEFAULT_TOKEN: &str = "conformance-token";

/// The cases of one SDK directory (`cases/<sdk>/`).
pub struct Suite {
    /// The SDK folder name (e.g. `python`).
    pub sdk: String,
    /// The recorded connect URL, if any.
    pub connect: Option<ConnectRecord>,
    /// The cases.
    pub cases: Vec<Case>,
}

/// Loads the suites under `dir`: each sub-folder is one SDK's suite; a folder holding
/// case files directly is one suite itself.
pub fn load_suites(dir: &Path) -> Result<Vec<Suite>, String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    if dirs.is_empty() {
        dirs.push(dir.to_path_buf());
    }
    dirs.sort();
    dirs.into_iter()
        .map(|dir| {
            Ok(Suite {
                sdk: dir
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                connect: case::load_connect(&dir).map_err(|e| e.to_string())?,
                cases: case::load_cases(&dir).map_err(|e| e.to_string())?,
            })
        })
        .collect()
}

impl Suite {
    fn token(&self) -> String {
        self.connect
            .as_ref()
            .and_then(|c| c.query.get("token").cloned())
            // 0.56 recordings hide the token.
            .filter(|t| t != "<token>")
            .unwrap_or_else(|| DEFAULT_TOKEN.to_string())
    }

    /// One trial per case (plus the connect URL check), named by case id; the verdict of
    /// a case in `known_failures` is inverted.
    pub fn trials(&self, known_failures: &'static [(&'static str, &'static str)]) -> Vec<Trial> {
        let mut trials = Vec::new();
        if let Some(record) = self.connect.clone() {
            let token = self.token();
            let name = format!("{}-connect-url", self.sdk);
            let id = name.clone();
            trials.push(Trial::test(name, move || {
                listed(&id, run(check_connect(record, token)), known_failures)
            }));
        }
        for case in self.cases.clone() {
            let token = self.token();
            let (name, kind) = (case.id.clone(), self.sdk.clone());
            trials.push(
                Trial::test(name, move || {
                    let id = case.id.clone();
                    listed(&id, run(replay(case, token)), known_failures)
                })
                .with_kind(kind),
            );
        }
        trials
    }
}

/// Every listed id must name a case (or a suite's `<sdk>-connect-url` check), so the
/// list cannot go stale.
pub fn check_known_failures(
    suites: &[Suite],
    known_failures: &[(&str, &str)],
) -> Result<(), String> {
    for (id, _) in known_failures {
        let is_case = suites.iter().flat_map(|s| &s.cases).any(|c| c.id == *id);
        let is_connect = suites
            .iter()
            .any(|s| s.connect.is_some() && format!("{}-connect-url", s.sdk) == *id);
        if !is_case && !is_connect {
            return Err(format!("the known failures list `{id}`, which is no case"));
        }
    }
    Ok(())
}

/// Inverts the verdict of a known failure: a listed check that passes fails.
fn listed(
    id: &str,
    verdict: Result<(), Failed>,
    known_failures: &[(&str, &str)],
) -> Result<(), Failed> {
    match (known_failures.iter().find(|(k, _)| *k == id), verdict) {
        (None, verdict) => verdict,
        (Some(_), Err(_)) => Ok(()),
        (Some((_, reason)), Ok(())) => Err(format!(
            "passes but is listed as a known failure ({reason}): remove it from the list"
        )
        .into()),
    }
}

/// Runs one async check on its own runtime.
fn run(check: impl std::future::Future<Output = Result<(), String>>) -> Result<(), Failed> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failed::from(format!("tokio runtime: {e}")))?;
    runtime.block_on(check).map_err(Failed::from)
}

/// What the client did, to compare with `outcome`.
enum Actual {
    /// A call returned (its value serialized as JSON) or failed.
    Returned(Result<Value, Error>),
    /// Events read from the stream: packet type and fields.
    Events(Vec<(String, Value)>),
}

async fn replay(case: Case, token: String) -> Result<(), String> {
    let mut case = case;
    normalize::declared_differences(
        &case.sdk.language,
        &mut case.frames,
        &crate::server::initial_attributes(),
    );
    let server = ScriptedServer::start(case.frames.clone(), TIMEOUT)
        .await
        .map_err(|e| format!("cannot start the scripted server: {e}"))?;
    let url = url::Url::parse(&server.room_url()).map_err(|e| e.to_string())?;
    let (room, mut events) = tokio::time::timeout(TIMEOUT, RoomClient::connect(url, token))
        .await
        .map_err(|_| "connect timed out".to_string())?
        .map_err(|e| format!("connect failed: {e}"))?;
    let actual = tokio::time::timeout(TIMEOUT, perform(&room, &mut events, &case))
        .await
        .unwrap_or_else(|_| Err(format!("the call did not complete within {TIMEOUT:?}")));
    room.close().await;
    let transcript = server.finish().await;
    let extra_events: Vec<RoomEvent> = tokio::time::timeout(TIMEOUT, events.collect())
        .await
        .unwrap_or_default();
    drop(room);

    let mut problems = Vec::new();
    match transcript {
        Ok(t) => check_sent(&case, &t.messages, &mut problems),
        Err(e) => problems.push(format!("scripted server: {e}")),
    }
    match actual {
        Ok(actual) => check_outcome(&case, actual, &mut problems),
        Err(e) => problems.push(e),
    }
    // Pushes the recording has may reach the stream (the SDK consumed them internally);
    // anything else is unexpected.
    let mut pushed: Vec<&str> = case
        .frames
        .iter()
        .filter(|f| f.dir == Direction::Recv && f.packet_type != "__response__")
        .map(|f| f.packet_type.as_str())
        .collect();
    let unexpected: Vec<&RoomEvent> = extra_events
        .iter()
        // The client's reports about its own connection are not on the wire.
        .filter(|e| !matches!(e, RoomEvent::Connection(_)))
        .filter(
            |e| match pushed.iter().position(|p| *p == e.packet_type()) {
                Some(i) => {
                    pushed.remove(i);
                    false
                }
                None => true,
            },
        )
        .collect();
    if !unexpected.is_empty() {
        problems.push(format!("unexpected events: {unexpected:?}"));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

/// Performs the case's call, or reads its events.
async fn perform(
    room: &RoomClient,
    events: &mut RoomEvents,
    case: &Case,
) -> Result<Actual, String> {
    // A messaging stream another participant offers: answered as recorded.
    #[cfg(feature = "protocol-0-56")]
    if messaging::is_incoming(case) {
        return messaging::incoming(room, case).await.map(Actual::Events);
    }
    if let Outcome::Events(expected) = &case.outcome {
        // Events after a call (e.g. messaging.enable): make the call first.
        if case.method != "events" {
            let args = Value::Object(case.arguments.clone());
            room.dispatch(&case.method, args, case.input.clone())
                .await
                .map_err(|e| format!("the call before the events failed: {e}"))?;
        }
        return read_events(events, expected.len())
            .await
            .map(Actual::Events);
    }
    // An exec session is a handle, not a call: driven here from the case's operations.
    if case.method == "containers.exec" {
        return Ok(Actual::Returned(exec(room, case).await));
    }
    // So is a messaging stream.
    #[cfg(feature = "protocol-0-56")]
    if case.method == "messaging.stream" {
        return Ok(Actual::Returned(messaging::initiate(room, case).await));
    }
    // So is a sync document.
    if case.method == "sync.open" {
        return Ok(Actual::Returned(sync_open(room, case).await));
    }
    // The generated dispatch table calls the typed method from the JSON arguments. 0.56
    // stream recordings take them from the start chunk, whose `kind: start` is no argument.
    let mut args = case.arguments.clone();
    if args.get("kind") == Some(&Value::from("start")) {
        args.remove("kind");
    }
    let args = Value::Object(args);
    Ok(Actual::Returned(
        room.dispatch(&case.method, args, case.input.clone()).await,
    ))
}

/// Opens an exec session from the case's arguments, performs its `input` operations in
/// order (`stdin`, `resize`, `close_stdin`, `kill`), then reads stdout, stderr and the
/// exit status: `{stdout, stderr, exit_code}` with the outputs in base64.
async fn exec(room: &RoomClient, case: &Case) -> Result<Value, Error> {
    use base64::Engine;
    let b64 = &base64::engine::general_purpose::STANDARD;
    let bad = |what: &str| Error::InvalidArguments(format!("containers.exec case: {what}"));
    let args = &case.arguments;
    let container = args
        .get("container_id")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let command = match args.get("command") {
        Some(Value::Array(items)) => ExecCommand::Args(
            items
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| bad("command items"))
                })
                .collect::<Result<_, _>>()?,
        ),
        Some(Value::String(line)) => ExecCommand::Line(line.clone()),
        _ => ExecCommand::ContainerDefault,
    };
    let mut request = room.exec(container, command);
    if let Some(tty) = args.get("tty").and_then(Value::as_bool) {
        request = request.tty(tty);
    }
    let session = request.await?;
    for op in &case.input {
        let size = |v: &Value, k: &str| {
            v.get(k)
                .and_then(Value::as_u64)
                .and_then(|n| u16::try_from(n).ok())
        };
        match (
            op.get("stdin"),
            op.get("resize"),
            op.get("close_stdin"),
            op.get("kill"),
        ) {
            (Some(Value::String(data)), ..) => {
                let bytes = b64.decode(data).map_err(|e| bad(&e.to_string()))?;
                session.stdin.write(bytes).await?
            }
            (_, Some(r), ..) => match (size(r, "width"), size(r, "height")) {
                (Some(w), Some(h)) => session.stdin.resize(w, h).await?,
                _ => return Err(bad("resize needs width and height")),
            },
            (_, _, Some(_), _) => session.stdin.close().await?,
            (.., Some(_)) => session.stdin.kill().await?,
            _ => return Err(bad(&format!("unknown operation {op}"))),
        }
    }
    let ExecSession {
        stdin,
        stdout,
        stderr,
        exit,
        ..
    } = session;
    let (out, err, status) = tokio::join!(stdout.read_all(), stderr.read_all(), exit);
    drop(stdin);
    Ok(serde_json::json!({
        "stdout": b64.encode(out?),
        "stderr": b64.encode(err?),
        "exit_code": status?.code(),
    }))
}

/// The randomness each recorder pinned for `sync.open` (see `conformance/recorder`): the
/// Yjs client id of the SDK's document and the `$id` its first `append_child` drew.
///
/// * Python (`py_scenarios/streaming.py` `_fixed_doc_ids`): pycrdt client id 2222; `uuid4()` yields
///   `00000000-0000-4000-8000-{n:012}` from n = 1.
/// * TypeScript (`ts/driver.mjs` `seed_random`, `ts_scenarios/streaming.py` `SYNC_ELEMENT_IDS`):
///   `crypto.getRandomValues` is an LCG seeded with 7; Yjs draws the document's guid (31
///   draws, one per `[018]` of its uuid template) and then its client id, the 32nd draw.
///   uuid v4 draws come from the same `00000000-0000-4000-8000-{n:012}` list; the first goes
///   to the `MeshDocument`'s own id, so the first element gets n = 2.
fn pinned_sync_ids(language: &str) -> (u64, u64) {
    if language == "typescript" {
        let mut seed: u32 = 7;
        for _ in 0..32 {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        }
        (u64::from(seed), 2)
    } else {
        (2222, 1)
    }
}

/// Opens the document from the case's arguments (`path`, `schema`) with the recorder's
/// pinned ids, performs its `input` operations (`append_child`), waits until the remote
/// updates the recording's server sends were applied and every change was acknowledged,
/// then closes: `{document: to_json()}`.
async fn sync_open(room: &RoomClient, case: &Case) -> Result<Value, Error> {
    use meshagent_room::yrs::{ClientID, Options};
    use meshagent_room::MeshDocument;
    let bad = |what: &str| Error::InvalidArguments(format!("sync.open case: {what}"));
    let args = &case.arguments;
    let path = args
        .get("path")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("path"))?;
    let mut request = room.sync_open(path);
    if let Some(schema) = args.get("schema") {
        request = request.schema(schema.clone());
    }
    let (client_id, mut next_id) = pinned_sync_ids(&case.sdk.language);
    let options = Options::with_client_id(ClientID::new(client_id));
    let doc = MeshDocument::open(request.options(options)).await?;
    for op in &case.input {
        let Some(child) = op.get("append_child") else {
            return Err(bad(&format!("unknown operation {op}")));
        };
        let tag = child
            .get("tag")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("append_child needs a tag"))?;
        let attributes = child.get("attributes").cloned().unwrap_or(Value::Null);
        let id = format!("00000000-0000-4000-8000-{next_id:012}");
        next_id += 1;
        doc.root().append_child_with_id(tag, &id, attributes)?;
    }
    // The remote updates the scripted server pushes (non-empty `sync` chunks).
    let remote = case
        .frames
        .iter()
        .filter(|f| f.dir == Direction::Recv && f.packet_type == "room.tool_call_response_chunk")
        .filter(|f| !f.tail.is_empty())
        .filter(|f| {
            f.header
                .get("chunk")
                .and_then(|c| c.pointer("/headers/kind"))
                == Some(&Value::from("sync"))
        })
        .count();
    doc.sync().wait_remote_updates(remote as u64).await?;
    doc.flush().await?;
    let document = doc.to_json();
    doc.close().await?;
    Ok(serde_json::json!({ "document": document }))
}

async fn read_events(events: &mut RoomEvents, n: usize) -> Result<Vec<(String, Value)>, String> {
    let mut out = Vec::new();
    while out.len() < n {
        let event = tokio::time::timeout(TIMEOUT, events.next())
            .await
            .map_err(|_| format!("timed out waiting for event {} of {n}", out.len() + 1))?
            .ok_or_else(|| format!("the event stream ended after {} of {n} events", out.len()))?;
        if let RoomEvent::Connection(_) = event {
            // The client's own connection report, not a recorded push.
            continue;
        }
        out.push((event.packet_type().to_string(), event_fields(&event)?));
    }
    Ok(out)
}

fn event_fields(event: &RoomEvent) -> Result<Value, String> {
    event.to_json().map_err(|e| e.to_string())
}

/// (a) every message the client sent equals the recorded `send` frame, normalised.
fn check_sent(case: &Case, sent: &[ClientMessage], problems: &mut Vec<String>) {
    let expected: Vec<&case::Frame> = case
        .frames
        .iter()
        .filter(|f| f.dir == Direction::Send)
        .collect();
    if expected.len() != sent.len() {
        let types: Vec<&str> = sent.iter().map(|m| m.packet_type.as_str()).collect();
        problems.push(format!(
            "the client sent {} messages {types:?}, the recording has {}",
            sent.len(),
            expected.len()
        ));
    }
    for (i, (frame, message)) in expected.iter().zip(sent).enumerate() {
        let want = normalize::normalize(&frame.packet_type, &frame.header, &frame.tail);
        let got = normalize::normalize(&message.packet_type, &message.header, &message.tail);
        let (want, got) = match (want, got) {
            (Ok(w), Ok(g)) => (w, g),
            (w, g) => {
                problems.push(format!("sent message {i}: recorded {w:?}, client {g:?}"));
                continue;
            }
        };
        if want.packet_type != got.packet_type {
            problems.push(format!(
                "sent message {i}: packet type {:?}, recorded {:?}",
                got.packet_type, want.packet_type
            ));
        }
        let (want_header, got_header) = if case.sdk.language == "typescript" {
            (
                normalize::without_nulls(&want.header),
                normalize::without_nulls(&got.header),
            )
        } else {
            (want.header.clone(), got.header.clone())
        };
        for d in json_diff(&want_header, &got_header) {
            problems.push(format!("sent message {i} header {d}"));
        }
        #[cfg(feature = "protocol-0-56")]
        if want.tail != got.tail && normalize::is_arrow_payload(&frame.header, &case.method) {
            if let Err(d) = normalize::same_arrow(&want.tail, &got.tail) {
                problems.push(format!("sent message {i}: {d}"));
            }
            continue;
        }
        if want.tail != got.tail {
            problems.push(format!(
                "sent message {i}: tail of {} bytes differs from the recorded {} bytes",
                got.tail.len(),
                want.tail.len()
            ));
        }
    }
}

/// (b) the typed outcome equals the recorded one.
fn check_outcome(case: &Case, actual: Actual, problems: &mut Vec<String>) {
    let language = case.sdk.language.as_str();
    match (&case.outcome, actual) {
        (Outcome::Result(want), Actual::Returned(Ok(mut got))) => {
            let mut want = want.clone();
            normalize::declared_result_shapes(language, &case.method, &mut want, &mut got);
            let (want, got) = if language == "typescript" {
                (
                    normalize::without_nulls(&want),
                    normalize::without_nulls(&got),
                )
            } else {
                (want, got)
            };
            for d in normalize::result_diff(&canonical(&want), &canonical(&got)) {
                problems.push(format!("result {d}"));
            }
        }
        (Outcome::Error(want), Actual::Returned(Err(Error::Server { code, text, .. }))) => {
            if (want.code, &want.text) != (code, &text) {
                problems.push(format!(
                    "server error: expected code {:?} text {:?}, got code {code:?} text {text:?}",
                    want.code, want.text
                ));
            }
        }
        // The SDK's own rejection, declared the same as the Rust client's (see normalize).
        (Outcome::Error(want), Actual::Returned(Err(e)))
            if normalize::same_rejection(case, want, &e).is_some() => {}
        (Outcome::Events(want), Actual::Events(got)) => {
            let want: Vec<(String, Value)> = want
                .iter()
                .map(|e| {
                    (
                        e.packet_type.clone(),
                        canonical(&Value::Object(e.fields.clone())),
                    )
                })
                .collect();
            let got: Vec<(String, Value)> =
                got.into_iter().map(|(t, f)| (t, canonical(&f))).collect();
            if want != got {
                problems.push(format!("events: expected {want:?}, got {got:?}"));
            }
        }
        (want, Actual::Returned(got)) => {
            problems.push(format!("expected {want:?}, the call returned {got:?}"));
        }
        (want, Actual::Events(got)) => {
            problems.push(format!("expected {want:?}, got events {got:?}"))
        }
    }
}

/// The connect request's path and query equal the recorded ones.
async fn check_connect(record: ConnectRecord, token: String) -> Result<(), String> {
    let server = ScriptedServer::start(Vec::new(), TIMEOUT)
        .await
        .map_err(|e| e.to_string())?;
    let url = url::Url::parse(&server.room_url()).map_err(|e| e.to_string())?;
    let (room, _events) = tokio::time::timeout(TIMEOUT, RoomClient::connect(url, token.clone()))
        .await
        .map_err(|_| "connect timed out".to_string())?
        .map_err(|e| format!("connect failed: {e}"))?;
    room.close().await;
    let Transcript {
        request_uri,
        authorization,
        messages,
    } = server.finish().await.map_err(|e| e.to_string())?;
    if !messages.is_empty() {
        return Err(format!(
            "sent {} messages on connect; recorded none",
            messages.len()
        ));
    }
    match &record.query_string {
        // 0.35.8 recordings: the raw query, token included.
        Some(query_string) => {
            let query = normalize::declared_connect_query(&record.sdk.language, query_string);
            let want = format!("{}?{query}", record.path);
            if request_uri != want {
                return Err(format!("requested {request_uri:?}; recorded {want:?}"));
            }
        }
        // 0.56 recordings: the query and the headers, the token written `<token>`.
        None => {
            let (want_query, want_auth) = normalize::declared_connect_0_56(&record);
            let hide = |s: &str| s.replace(&token, "<token>");
            let got_query = hide(request_uri.split_once('?').map_or("", |(_, q)| q));
            let got_path = request_uri.split('?').next().unwrap_or_default();
            let got_auth = authorization.as_deref().map(hide);
            if got_path != record.path || got_query != want_query || got_auth != want_auth {
                return Err(format!(
                    "requested {got_path:?} with query {got_query:?} and Authorization {got_auth:?}; recorded (after declared differences) {:?}, {want_query:?} and {want_auth:?}",
                    record.path
                ));
            }
        }
    }
    Ok(())
}
