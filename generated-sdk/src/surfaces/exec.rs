//! `containers.exec`: an interactive session with a command running in a container.
//!
//! ```no_run
//! # async fn demo(room: meshagent_room::RoomClient) -> meshagent_room::Result<()> {
//! use futures::StreamExt;
//!
//! let mut session = room.exec("container-id", ["sh", "-c", "cat"]).tty(false).await?;
//! session.stdin.write("hello\n").await?;
//! session.stdin.close().await?; // EOF
//! while let Some(chunk) = session.stdout.next().await {
//!     print!("{}", String::from_utf8_lossy(&chunk?));
//! }
//! let status = session.wait().await?;
//! println!("{status}");
//! # Ok(()) }
//! ```
//!
//! Wire (as the Python SDK 0.35.8 speaks it): a streaming `room.invoke_tool` of
//! `containers.exec`, then `binary` request chunks: first `{"kind": "start", "request_id",
//! "container_id", "command", "tty"}` (unset `command`/`tty` as `null`), then
//! `{"kind": "input", "channel", "width", "height"}` with channel 1 (stdin bytes in the
//! payload), 4 (resize; `width`/`height` set), 5 (kill) or 255 (close stdin); `width` and
//! `height` are `null` except for resize. The server answers with `binary` chunks told
//! apart by the integer `headers.channel`: 1 stdout, 2 stderr, 3 the exit status (UTF-8 JSON
//! `{"status": int}`); other channels are ignored. After the status the client sends its
//! `control/close`. A close from the server before the status, an `error` chunk, a chunk
//! without an integer channel or a bad status fail the session.
//!
//! Both directions run freely: one background task reads the server's chunks into the
//! stdout/stderr streams and the exit status, another sends the input chunks in order,
//! each waiting only for its own acknowledgement. Both tasks end with the session.
#![cfg(feature = "containers")]

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use futures::future::BoxFuture;
use futures::{Stream, StreamExt};
use serde::Serialize;
use serde_json::{Map, Value};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use crate::core::client::{new_tool_call_id, RoomClient};
use crate::core::content::{Content, Control, CLOSE_NORMAL};
use crate::core::error::{Error, Result};
use crate::core::packing::pack_header;
use crate::core::stream::StreamRoutes;
use crate::core::transport::TransportError;
use crate::packets::client as cp;

const TOOL: &str = "containers.exec";

/// Input channels (request side).
const CHANNEL_STDIN: i64 = 1;
const CHANNEL_RESIZE: i64 = 4;
const CHANNEL_KILL: i64 = 5;
const CHANNEL_CLOSE_STDIN: i64 = 255;
/// Output channels (response side).
const CHANNEL_STDOUT: i64 = 1;
const CHANNEL_STDERR: i64 = 2;
const CHANNEL_STATUS: i64 = 3;

/// What to run: a command line, an argument list, or the container's default command.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ExecCommand {
    /// The container's default command (sent as `null`).
    #[default]
    ContainerDefault,
    /// A command line, as one string.
    Line(String),
    /// A program and its arguments.
    Args(Vec<String>),
}

impl ExecCommand {
    fn to_json(&self) -> Value {
        match self {
            ExecCommand::ContainerDefault => Value::Null,
            ExecCommand::Line(s) => Value::String(s.clone()),
            ExecCommand::Args(a) => Value::from(a.clone()),
        }
    }
}

impl From<&str> for ExecCommand {
    fn from(s: &str) -> Self {
        ExecCommand::Line(s.to_string())
    }
}

impl From<String> for ExecCommand {
    fn from(s: String) -> Self {
        ExecCommand::Line(s)
    }
}

impl From<Vec<String>> for ExecCommand {
    fn from(a: Vec<String>) -> Self {
        ExecCommand::Args(a)
    }
}

impl From<Vec<&str>> for ExecCommand {
    fn from(a: Vec<&str>) -> Self {
        ExecCommand::Args(a.into_iter().map(String::from).collect())
    }
}

impl From<&[&str]> for ExecCommand {
    fn from(a: &[&str]) -> Self {
        ExecCommand::Args(a.iter().map(|s| s.to_string()).collect())
    }
}

impl<const N: usize> From<[&str; N]> for ExecCommand {
    fn from(a: [&str; N]) -> Self {
        ExecCommand::Args(a.iter().map(|s| s.to_string()).collect())
    }
}

impl<T: Into<ExecCommand>> From<Option<T>> for ExecCommand {
    fn from(c: Option<T>) -> Self {
        c.map_or(ExecCommand::ContainerDefault, Into::into)
    }
}

/// The exit status of an exec'd command, as the server reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExitStatus(i64);

impl ExitStatus {
    /// The status code.
    pub fn code(self) -> i64 {
        self.0
    }

    /// Whether the command exited with status 0.
    pub fn success(self) -> bool {
        self.0 == 0
    }
}

impl fmt::Display for ExitStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "exit status: {}", self.0)
    }
}

/// Everything a finished command wrote, with its status ([`ExecSession::output`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecOutput {
    /// The exit status.
    pub status: ExitStatus,
    /// All of stdout.
    pub stdout: Bytes,
    /// All of stderr.
    pub stderr: Bytes,
}

#[cfg_attr(docsrs, doc(cfg(feature = "containers")))]
impl RoomClient {
    /// Runs `command` in the running container `container_id` as an interactive session
    /// (`containers.exec`). Optional: [`tty`](ExecRequest::tty), [`size`](ExecRequest::size);
    /// `.await` opens the session and resolves once the server has accepted it.
    ///
    /// `command` is a command line (`"ls -l"`), an argument list (`["ls", "-l"]`,
    /// `vec![...]`) or [`ExecCommand::ContainerDefault`] (also `None::<&str>`).
    pub fn exec(
        &self,
        container_id: impl Into<String>,
        command: impl Into<ExecCommand>,
    ) -> ExecRequest {
        ExecRequest {
            room: self.clone(),
            container_id: container_id.into(),
            command: command.into(),
            tty: None,
            size: None,
            request_id: None,
        }
    }
}

/// A `containers.exec` call being built; `.await` it to open the session.
#[derive(Debug, Clone)]
#[must_use = "an exec request does nothing until awaited"]
pub struct ExecRequest {
    room: RoomClient,
    container_id: String,
    command: ExecCommand,
    tty: Option<bool>,
    size: Option<(u16, u16)>,
    request_id: Option<String>,
}

impl ExecRequest {
    /// Ask for a terminal (sent as `tty`; `null` when not set, as the Python SDK sends).
    pub fn tty(mut self, tty: bool) -> Self {
        self.tty = Some(tty);
        self
    }

    /// Sets the terminal size right after the start: a resize input (channel 4) is sent
    /// before `.await` returns, exactly as an immediate [`ExecStdin::resize`] would.
    pub fn size(mut self, width: u16, height: u16) -> Self {
        self.size = Some((width, height));
        self
    }

    /// Uses this `request_id` instead of a fresh dashed uuid4 (the Python SDK's choice).
    pub fn request_id(mut self, request_id: impl Into<String>) -> Self {
        self.request_id = Some(request_id.into());
        self
    }
}

impl IntoFuture for ExecRequest {
    type Output = Result<ExecSession>;
    type IntoFuture = BoxFuture<'static, Result<ExecSession>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(open(self))
    }
}

// ---------------------------------------------------------------- the wire

#[derive(Serialize)]
struct InvokeHeader<'a> {
    toolkit: &'a str,
    tool: &'a str,
    participant_id: Option<&'a str>,
    on_behalf_of_id: Option<&'a str>,
    arguments: Value,
    tool_call_id: &'a str,
}

#[derive(Serialize)]
struct ChunkHeader<'a> {
    tool_call_id: &'a str,
    chunk: Value,
}

fn chunk_head(tool_call_id: &str, chunk: &Content) -> Result<Vec<u8>> {
    Ok(pack_header(&ChunkHeader {
        tool_call_id,
        chunk: chunk.header(),
    })?)
}

fn close_head(tool_call_id: &str) -> Result<Vec<u8>> {
    chunk_head(
        tool_call_id,
        &Content::Control(Control::Close {
            status_code: CLOSE_NORMAL,
            message: None,
        }),
    )
}

/// `{"kind": "input", "channel", "width", "height"}`, nulls included, in the Python order.
fn input_headers(channel: i64, size: Option<(u16, u16)>) -> Map<String, Value> {
    let (width, height) = size.map_or((Value::Null, Value::Null), |(w, h)| (w.into(), h.into()));
    let mut m = Map::new();
    m.insert("kind".into(), "input".into());
    m.insert("channel".into(), channel.into());
    m.insert("width".into(), width);
    m.insert("height".into(), height);
    m
}

/// Sends one binary request chunk and waits for its acknowledgement.
async fn send_chunk(
    room: &RoomClient,
    tool_call_id: &str,
    headers: Map<String, Value>,
    data: Bytes,
) -> Result<()> {
    let chunk = Content::Binary { headers, data };
    let head = chunk_head(tool_call_id, &chunk)?;
    room.request(cp::ROOM_TOOL_CALL_REQUEST_CHUNK, &head, chunk.tail())
        .await
        .map(drop)
}

/// Copies an error for the session's other parts ([`Error`] is not `Clone`).
fn dup(e: &Error) -> Error {
    match e {
        Error::Server { code, text } => Error::Server {
            code: *code,
            text: text.clone(),
        },
        Error::UnexpectedResponse { tool, detail, .. } => Error::unexpected(tool, detail.clone()),
        Error::StreamClosed {
            status_code,
            message,
        } => Error::StreamClosed {
            status_code: *status_code,
            message: message.clone(),
        },
        Error::Closed { reason } => Error::Closed {
            reason: reason.clone(),
        },
        Error::InvalidArguments(s) => Error::InvalidArguments(s.clone()),
        Error::Timeout(d, what) => Error::Timeout(*d, what),
        other => Error::Transport(TransportError::new(other.to_string())),
    }
}

fn dup_result(r: &Result<ExitStatus>) -> Result<ExitStatus> {
    r.as_ref().map(|s| *s).map_err(dup)
}

// ---------------------------------------------------------------- opening

/// Unregisters the route and closes the request side if opening fails or is dropped.
struct Opening {
    room: RoomClient,
    tool_call_id: String,
    invoked: bool,
    armed: bool,
}

impl Drop for Opening {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        StreamRoutes::remove_of(&self.room, &self.tool_call_id);
        if self.invoked && !self.room.is_closed() {
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                let (room, id) = (self.room.clone(), self.tool_call_id.clone());
                rt.spawn(async move {
                    let sent = match close_head(&id) {
                        Ok(head) => room
                            .request(cp::ROOM_TOOL_CALL_REQUEST_CHUNK, &head, &[])
                            .await
                            .map(drop),
                        Err(e) => Err(e),
                    };
                    if let Err(e) = sent {
                        tracing::debug!(error = %e, "closing an exec that failed to open");
                    }
                });
            }
        }
    }
}

async fn open(req: ExecRequest) -> Result<ExecSession> {
    let ExecRequest {
        room,
        container_id,
        command,
        tty,
        size,
        request_id,
    } = req;
    let request_id = request_id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let tool_call_id = new_tool_call_id();
    let (route_tx, route_rx) = mpsc::unbounded_channel();
    StreamRoutes::of(&room)?.insert(tool_call_id.clone(), route_tx)?;
    let mut opening = Opening {
        room: room.clone(),
        tool_call_id: tool_call_id.clone(),
        invoked: false,
        armed: true,
    };

    // The invoke, then at once (not waiting for `open`) the start chunk, as Python does.
    let invoke = pack_header(&InvokeHeader {
        toolkit: "containers",
        tool: "exec",
        participant_id: None,
        on_behalf_of_id: None,
        arguments: Content::Control(Control::Open).header(),
        tool_call_id: &tool_call_id,
    })?;
    let opened = room
        .start_request(cp::ROOM_INVOKE_TOOL, &invoke, &[])
        .await?;
    opening.invoked = true;
    let mut start = Map::new();
    start.insert("kind".into(), "start".into());
    start.insert("request_id".into(), request_id.clone().into());
    start.insert("container_id".into(), container_id.into());
    start.insert("command".into(), command.to_json());
    start.insert("tty".into(), tty.map_or(Value::Null, Value::Bool));
    let start = Content::Binary {
        headers: start,
        data: Bytes::new(),
    };
    let start_ack = room
        .start_request(
            cp::ROOM_TOOL_CALL_REQUEST_CHUNK,
            &chunk_head(&tool_call_id, &start)?,
            &[],
        )
        .await?;
    match opened.await? {
        Content::Control(Control::Open) => {}
        other => {
            return Err(Error::unexpected(
                TOOL,
                format!("expected control/open, got {}", other.header()),
            ))
        }
    }
    start_ack.await?;
    if let Some(size) = size {
        send_chunk(
            &room,
            &tool_call_id,
            input_headers(CHANNEL_RESIZE, Some(size)),
            Bytes::new(),
        )
        .await?;
    }

    // Open: hand over to the session's two tasks.
    let (stdout_tx, stdout_rx) = mpsc::unbounded_channel();
    let (stderr_tx, stderr_rx) = mpsc::unbounded_channel();
    let (exit_tx, exit_rx) = oneshot::channel();
    let (cmds_tx, cmds_rx) = mpsc::unbounded_channel();
    let core = Arc::new(Core {
        room,
        tool_call_id,
        state: Mutex::new(State {
            stdout: Some(stdout_tx),
            stderr: Some(stderr_tx),
            exit: Some(exit_tx),
            outcome: None,
            stdin_closed: false,
            last_size: size,
        }),
        phase: watch::channel(Phase::Running).0,
        cmds: cmds_tx,
    });
    opening.armed = false;
    tokio::spawn(write_loop(core.clone(), cmds_rx));
    let reader = tokio::spawn(read_loop(core.clone(), route_rx));
    let life = Arc::new(Lifetime {
        core: core.clone(),
        reader,
    });
    Ok(ExecSession {
        stdin: ExecStdin {
            core: core.clone(),
            _life: life.clone(),
        },
        stdout: OutputStream {
            rx: stdout_rx,
            _life: life.clone(),
        },
        stderr: OutputStream {
            rx: stderr_rx,
            _life: life.clone(),
        },
        exit: ExecExit {
            state: ExitState::Waiting(exit_rx),
            core,
            _life: life,
        },
        request_id,
    })
}

// ---------------------------------------------------------------- the running session

/// Where the session is; it only moves forward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    Running,
    /// The status arrived: send what is queued, then close the request side.
    Drain,
    /// The session failed: drop queued input, close the request side.
    Abort,
    /// Every part of the session was dropped: close the request side and stop.
    Dropped,
}

struct Core {
    room: RoomClient,
    tool_call_id: String,
    state: Mutex<State>,
    phase: watch::Sender<Phase>,
    cmds: mpsc::UnboundedSender<Cmd>,
}

struct State {
    stdout: Option<mpsc::UnboundedSender<Result<Bytes>>>,
    stderr: Option<mpsc::UnboundedSender<Result<Bytes>>>,
    exit: Option<oneshot::Sender<Result<ExitStatus>>>,
    /// Set once: the status, or why the session failed.
    outcome: Option<Result<ExitStatus>>,
    stdin_closed: bool,
    last_size: Option<(u16, u16)>,
}

/// One input chunk for the writer, with where to report its acknowledgement.
struct Cmd {
    headers: Map<String, Value>,
    data: Bytes,
    reply: oneshot::Sender<Result<()>>,
}

impl Core {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn advance(&self, to: Phase) {
        self.phase.send_if_modified(|p| {
            let moved = to > *p;
            if moved {
                *p = to;
            }
            moved
        });
    }

    /// Ends the session once: resolves the exit status and ends (or fails) both outputs.
    fn finish(&self, outcome: Result<ExitStatus>) {
        let mut st = self.state();
        if st.outcome.is_some() {
            return;
        }
        let (stdout, stderr) = (st.stdout.take(), st.stderr.take());
        if let Err(e) = &outcome {
            for tx in [stdout, stderr].into_iter().flatten() {
                let _ = tx.send(Err(dup(e)));
            }
        }
        if let Some(tx) = st.exit.take() {
            let _ = tx.send(dup_result(&outcome));
        }
        let phase = if outcome.is_ok() {
            Phase::Drain
        } else {
            Phase::Abort
        };
        st.outcome = Some(outcome);
        drop(st);
        self.advance(phase);
    }

    /// The error for input offered after the session ended.
    fn ended_error(&self) -> Error {
        match &self.state().outcome {
            Some(Err(e)) => dup(e),
            _ => Error::InvalidArguments(format!("{TOOL}: the session is already closed")),
        }
    }

    fn push(&self, channel: i64, data: Bytes) {
        let st = self.state();
        let tx = if channel == CHANNEL_STDOUT {
            &st.stdout
        } else {
            &st.stderr
        };
        if let Some(tx) = tx {
            // A dropped reader only means nobody wants this output.
            let _ = tx.send(Ok(data));
        }
    }

    fn unroute(&self) {
        StreamRoutes::remove_of(&self.room, &self.tool_call_id);
    }
}

/// Waits until the phase is at least `at_least`; returns the phase reached.
async fn until(phase: &mut watch::Receiver<Phase>, at_least: Phase) -> Phase {
    match phase.wait_for(|p| *p >= at_least).await {
        Ok(p) => *p,
        Err(_) => Phase::Dropped,
    }
}

/// One response chunk, read as the Python SDK reads it.
enum Step {
    Output(i64, Bytes),
    Ignore,
    Exit(ExitStatus),
}

fn classify(chunk: Content) -> Result<Step> {
    let (headers, data) = match chunk {
        Content::Binary { headers, data } => (headers, data),
        Content::Error { text, code } => return Err(Error::Server { code, text }),
        Content::Control(Control::Close {
            status_code,
            message,
        }) => {
            return Err(if status_code == CLOSE_NORMAL {
                Error::unexpected(TOOL, "stream closed before a status was returned")
            } else {
                Error::StreamClosed {
                    status_code,
                    message,
                }
            })
        }
        other => {
            return Err(Error::unexpected(
                TOOL,
                format!("unexpected stream chunk: {}", other.header()),
            ))
        }
    };
    // An integer, not a bool or a float (Python: `isinstance(v, int) and not bool`).
    let channel = headers.get("channel").and_then(|v| match v {
        Value::Number(n) => n.as_i64(),
        _ => None,
    });
    match channel {
        Some(c @ (CHANNEL_STDOUT | CHANNEL_STDERR)) => Ok(Step::Output(c, data)),
        Some(CHANNEL_STATUS) => {
            let status = serde_json::from_slice::<Value>(&data)
                .ok()
                .and_then(|v| v.get("status").and_then(Value::as_i64));
            status
                .map(|s| Step::Exit(ExitStatus(s)))
                .ok_or_else(|| Error::unexpected(TOOL, "returned an invalid status payload"))
        }
        Some(other) => {
            tracing::warn!(
                channel = other,
                "ignoring an unexpected containers.exec channel"
            );
            Ok(Step::Ignore)
        }
        None => Err(Error::unexpected(
            TOOL,
            "returned a chunk without a valid channel",
        )),
    }
}

/// Reads the server's chunks into stdout, stderr and the exit status.
async fn read_loop(core: Arc<Core>, mut chunks: mpsc::UnboundedReceiver<Result<Content>>) {
    let mut phase = core.phase.subscribe();
    loop {
        let next = tokio::select! {
            biased;
            _ = until(&mut phase, Phase::Abort) => break,
            next = chunks.recv() => next,
        };
        let step = match next {
            None => Err(core.room.shared().closed_error()),
            Some(Err(e)) => Err(e),
            Some(Ok(chunk)) => classify(chunk),
        };
        match step {
            Ok(Step::Output(channel, data)) => core.push(channel, data),
            Ok(Step::Ignore) => {}
            Ok(Step::Exit(status)) => {
                core.finish(Ok(status));
                break;
            }
            Err(e) => {
                core.finish(Err(e));
                break;
            }
        }
    }
    // Later chunks (the server's close) have nowhere to go.
    core.unroute();
}

/// Sends the input chunks in order, each after the previous one's acknowledgement, then
/// the request-side `control/close`.
async fn write_loop(core: Arc<Core>, mut cmds: mpsc::UnboundedReceiver<Cmd>) {
    let mut phase = core.phase.subscribe();
    let mut draining = false;
    loop {
        let target = if draining { Phase::Abort } else { Phase::Drain };
        let cmd = tokio::select! {
            biased;
            reached = until(&mut phase, target) => {
                if reached == Phase::Drain {
                    // Accept nothing new; what is queued still goes out (as Python).
                    draining = true;
                    cmds.close();
                    continue;
                }
                break;
            }
            cmd = cmds.recv() => match cmd {
                Some(cmd) => cmd,
                None => break,
            },
        };
        let sent = tokio::select! {
            biased;
            _ = until(&mut phase, Phase::Abort) => {
                let _ = cmd.reply.send(Err(core.ended_error()));
                break;
            }
            sent = send_chunk(&core.room, &core.tool_call_id, cmd.headers, cmd.data) => sent,
        };
        match sent {
            Ok(()) => {
                let _ = cmd.reply.send(Ok(()));
            }
            Err(e) => {
                // A refused input ends the session (Python: "request stream failed").
                core.finish(Err(dup(&e)));
                let _ = cmd.reply.send(Err(e));
                break;
            }
        }
    }
    drop(cmds); // callers of still-queued input get the session's end
    if core.room.is_closed() {
        return;
    }
    let dropped = *phase.borrow() == Phase::Dropped;
    let reply = match close_head(&core.tool_call_id) {
        Ok(head) => {
            core.room
                .start_request(cp::ROOM_TOOL_CALL_REQUEST_CHUNK, &head, &[])
                .await
        }
        Err(e) => Err(e),
    };
    match reply {
        // Wait for the acknowledgement unless the session is gone.
        Ok(reply) if !dropped => {
            tokio::select! {
                _ = reply => {}
                _ = until(&mut phase, Phase::Dropped) => {}
            }
        }
        Ok(_) => {}
        Err(e) => tracing::debug!(error = %e, "closing the exec stream failed"),
    }
}

/// Held by every part of a session; when the last part goes, the session ends: the
/// reader stops, the writer sends the request-side close and stops.
struct Lifetime {
    core: Arc<Core>,
    reader: JoinHandle<()>,
}

impl Drop for Lifetime {
    fn drop(&mut self) {
        self.reader.abort();
        self.core.unroute();
        self.core.advance(Phase::Dropped);
    }
}

// ---------------------------------------------------------------- the parts

/// An interactive session opened by [`RoomClient::exec`].
///
/// The fields can be used side by side (`session.stdin.write(..)` while reading
/// `session.stdout`) or moved into separate tasks; the session lasts while any part is
/// alive. Dropping every part closes the stream. Output that is not read is buffered.
#[must_use = "dropping the session closes it"]
pub struct ExecSession {
    /// Input: stdin bytes, close stdin, resize, kill.
    pub stdin: ExecStdin,
    /// What the command writes to stdout (with a tty, all of its output).
    pub stdout: OutputStream,
    /// What the command writes to stderr.
    pub stderr: OutputStream,
    /// The exit status (a future; see [`ExecSession::wait`]).
    pub exit: ExecExit,
    request_id: String,
}

impl fmt::Debug for ExecSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExecSession")
            .field("request_id", &self.request_id)
            .field("tool_call_id", &self.stdin.core.tool_call_id)
            .finish_non_exhaustive()
    }
}

impl ExecSession {
    /// The `request_id` sent in the start chunk.
    pub fn request_id(&self) -> &str {
        &self.request_id
    }

    /// Waits for the exit status. Does not close stdin (call [`ExecStdin::close`] for a
    /// command that reads to EOF). Output keeps arriving on the streams meanwhile.
    pub async fn wait(&mut self) -> Result<ExitStatus> {
        (&mut self.exit).await
    }

    /// Closes stdin, then collects all of stdout and stderr and the exit status.
    pub async fn output(self) -> Result<ExecOutput> {
        let ExecSession {
            stdin,
            stdout,
            stderr,
            exit,
            ..
        } = self;
        // If this fails the session has ended, and `exit` says how.
        let _ = stdin.close().await;
        let (stdout, stderr, status) = tokio::join!(stdout.read_all(), stderr.read_all(), exit);
        Ok(ExecOutput {
            status: status?,
            stdout: stdout?,
            stderr: stderr?,
        })
    }
}

/// The input side of a session. Every method sends one chunk and returns once the server
/// acknowledged it; chunks go out in call order. Clones share the same session.
#[derive(Clone)]
pub struct ExecStdin {
    core: Arc<Core>,
    _life: Arc<Lifetime>,
}

impl fmt::Debug for ExecStdin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExecStdin")
            .field("closed", &self.core.state().stdin_closed)
            .finish_non_exhaustive()
    }
}

impl ExecStdin {
    async fn submit(&self, channel: i64, size: Option<(u16, u16)>, data: Bytes) -> Result<()> {
        if self.core.state().outcome.is_some() {
            return Err(self.core.ended_error());
        }
        let (reply, acked) = oneshot::channel();
        let cmd = Cmd {
            headers: input_headers(channel, size),
            data,
            reply,
        };
        if self.core.cmds.send(cmd).is_err() {
            return Err(self.core.ended_error());
        }
        acked.await.unwrap_or_else(|_| Err(self.core.ended_error()))
    }

    /// Writes `data` to the command's stdin (channel 1). Cancelling the returned future
    /// does not take back a chunk that is already queued.
    pub async fn write(&self, data: impl Into<Bytes>) -> Result<()> {
        if self.core.state().stdin_closed {
            return Err(Error::InvalidArguments(format!("{TOOL}: stdin is closed")));
        }
        self.submit(CHANNEL_STDIN, None, data.into()).await
    }

    /// Closes stdin (channel 255): the command reads EOF. Later calls do nothing.
    pub async fn close(&self) -> Result<()> {
        if std::mem::replace(&mut self.core.state().stdin_closed, true) {
            return Ok(());
        }
        self.submit(CHANNEL_CLOSE_STDIN, None, Bytes::new()).await
    }

    /// Resizes the terminal (channel 4); a resize to the current size sends nothing.
    pub async fn resize(&self, width: u16, height: u16) -> Result<()> {
        if self.core.state().last_size.replace((width, height)) == Some((width, height)) {
            return Ok(());
        }
        self.submit(CHANNEL_RESIZE, Some((width, height)), Bytes::new())
            .await
    }

    /// Kills the command (channel 5). After the session has ended this does nothing.
    pub async fn kill(&self) -> Result<()> {
        if self.core.state().outcome.is_some() {
            return Ok(());
        }
        self.submit(CHANNEL_KILL, None, Bytes::new()).await
    }
}

/// stdout or stderr of a session: a `Stream` of byte chunks as the server sent them. It
/// ends after the exit status; if the session fails, its last item is the error.
pub struct OutputStream {
    rx: mpsc::UnboundedReceiver<Result<Bytes>>,
    _life: Arc<Lifetime>,
}

impl fmt::Debug for OutputStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutputStream").finish_non_exhaustive()
    }
}

impl Stream for OutputStream {
    type Item = Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes>>> {
        self.rx.poll_recv(cx)
    }
}

impl OutputStream {
    /// Everything until the stream ends.
    pub async fn read_all(mut self) -> Result<Bytes> {
        let mut out = BytesMut::new();
        while let Some(chunk) = self.next().await {
            out.extend_from_slice(&chunk?);
        }
        Ok(out.freeze())
    }
}

/// The exit status of a session, as a future. Awaiting it again gives the same answer.
pub struct ExecExit {
    state: ExitState,
    core: Arc<Core>,
    _life: Arc<Lifetime>,
}

enum ExitState {
    Waiting(oneshot::Receiver<Result<ExitStatus>>),
    Done(Result<ExitStatus>),
}

impl fmt::Debug for ExecExit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("ExecExit");
        if let ExitState::Done(r) = &self.state {
            d.field("result", r);
        }
        d.finish_non_exhaustive()
    }
}

impl Future for ExecExit {
    type Output = Result<ExitStatus>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<ExitStatus>> {
        let this = &mut *self;
        if let ExitState::Waiting(rx) = &mut this.state {
            let result = match Pin::new(rx).poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok(r)) => r,
                Poll::Ready(Err(_)) => Err(this.core.ended_error()),
            };
            this.state = ExitState::Done(result);
        }
        match &this.state {
            ExitState::Done(r) => Poll::Ready(dup_result(r)),
            ExitState::Waiting(_) => Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn binary(headers: Value, data: &'static [u8]) -> Content {
        match headers {
            Value::Object(headers) => Content::Binary {
                headers,
                data: Bytes::from_static(data),
            },
            _ => unreachable!(),
        }
    }

    #[test]
    fn channels_are_integers_only() {
        for bad in [
            json!({}),
            json!({"channel": true}),
            json!({"channel": 1.0}),
            json!({"channel": "1"}),
        ] {
            assert!(classify(binary(bad, b"x")).is_err());
        }
        assert!(matches!(
            classify(binary(json!({"channel": 7}), b"x")),
            Ok(Step::Ignore)
        ));
        assert!(matches!(
            classify(binary(json!({"channel": 2}), b"x")),
            Ok(Step::Output(2, _))
        ));
    }

    #[test]
    fn status_payload_is_json_with_an_integer_status() {
        let ok = classify(binary(json!({"channel": 3}), br#"{"status": 137}"#));
        assert!(matches!(ok, Ok(Step::Exit(ExitStatus(137)))));
        for bad in [
            &b"{}"[..],
            b"137",
            b"{\"status\": \"0\"}",
            b"{\"status\": true}",
            b"\xff",
        ] {
            let chunk = Content::Binary {
                headers: json!({"channel": 3})
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
                data: Bytes::copy_from_slice(bad),
            };
            assert!(classify(chunk).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn commands_convert() {
        assert_eq!(ExecCommand::from("ls -l").to_json(), json!("ls -l"));
        assert_eq!(
            ExecCommand::from(["ls", "-l"]).to_json(),
            json!(["ls", "-l"])
        );
        assert_eq!(ExecCommand::from(None::<&str>).to_json(), Value::Null);
        assert_eq!(
            serde_json::to_string(&input_headers(4, Some((80, 24)))).ok(),
            Some(r#"{"kind":"input","channel":4,"width":80,"height":24}"#.to_string())
        );
    }
}
