//! The handles a caller holds: the session, its stdin, its two output streams and its
//! exit status. Each part keeps the session alive; the last one dropped ends it.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use futures::{Stream, StreamExt};
use tokio::sync::{mpsc, oneshot};

use super::session::{dup_result, Cmd, Core, Lifetime};
use super::wire::{channel, input_chunk, TOOL};
use super::{ExecOutput, ExitStatus};
use crate::core::error::{Error, Result};

/// An interactive session opened by [`RoomClient::exec`](crate::RoomClient::exec).
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
    pub(super) request_id: String,
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
    pub(super) core: Arc<Core>,
    pub(super) _life: Arc<Lifetime>,
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
            chunk: input_chunk(channel, size, data),
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
        self.submit(channel::STDIN, None, data.into()).await
    }

    /// Closes stdin (channel 255): the command reads EOF. Later calls do nothing.
    pub async fn close(&self) -> Result<()> {
        if std::mem::replace(&mut self.core.state().stdin_closed, true) {
            return Ok(());
        }
        self.submit(channel::CLOSE_STDIN, None, Bytes::new()).await
    }

    /// Resizes the terminal (channel 4); a resize to the current size sends nothing.
    pub async fn resize(&self, width: u16, height: u16) -> Result<()> {
        if self.core.state().last_size.replace((width, height)) == Some((width, height)) {
            return Ok(());
        }
        self.submit(channel::RESIZE, Some((width, height)), Bytes::new())
            .await
    }

    /// Kills the command (channel 5). After the session has ended this does nothing.
    pub async fn kill(&self) -> Result<()> {
        if self.core.state().outcome.is_some() {
            return Ok(());
        }
        self.submit(channel::KILL, None, Bytes::new()).await
    }
}

/// stdout or stderr of a session: a `Stream` of byte chunks as the server sent them. It
/// ends after the exit status; if the session fails, its last item is the error.
pub struct OutputStream {
    pub(super) rx: mpsc::UnboundedReceiver<Result<Bytes>>,
    pub(super) _life: Arc<Lifetime>,
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
    pub(super) state: ExitState,
    pub(super) core: Arc<Core>,
    pub(super) _life: Arc<Lifetime>,
}

pub(super) enum ExitState {
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
