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
//! Both directions run freely over the stream engine's two halves
//! (`ToolCallStream::split`): one background task
//! reads the server's chunks (the response half) into the stdout/stderr streams and the
//! exit status, another sends the input chunks in order (the request half), each waiting
//! only for its own acknowledgement. Both tasks end with the session.
//!
//! Files: `wire` (channels, chunk headers, reading a response chunk), `session` (opening,
//! the two tasks), `parts` (the handles a caller holds).
#![cfg(feature = "containers")]

mod parts;
mod session;
mod wire;

use std::fmt;
use std::future::IntoFuture;

use bytes::Bytes;
use futures::future::BoxFuture;
use serde_json::Value;

use crate::core::client::RoomClient;
use crate::core::error::Result;

pub use parts::{ExecExit, ExecSession, ExecStdin, OutputStream};

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
        Box::pin(session::open(self))
    }
}
