//! The running side of an exec session: opening it on the stream engine, then two tasks
//! over the stream's halves. The reader fills stdout, stderr and the exit status; the
//! writer sends queued input in order, then the request-side close. A phase (running,
//! drain, abort, dropped) tells the writer how to end.

use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use super::parts::{ExecExit, ExecSession, ExecStdin, ExitState, OutputStream};
use super::wire::{channel, classify, input_chunk, start_chunk, Step, TOOL, TOOLKIT, TOOL_NAME};
use super::{ExecRequest, ExitStatus};
use crate::core::content::Content;
use crate::core::error::{Error, Result};
use crate::core::invoke::Invoke;
use crate::core::stream::{Overflow, RequestChunks, RequestHalf, ResponseHalf};

/// Opens the session: the invoke, then at once (not waiting for `open`) the start chunk,
/// as Python does; then the initial size, if any. A failure or a dropped future closes
/// what was opened (the stream's halves do it).
pub(super) async fn open(req: ExecRequest) -> Result<ExecSession> {
    let ExecRequest {
        room,
        container_id,
        command,
        tty,
        size,
        request_id,
    } = req;
    let request_id = request_id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    // Acknowledged input, as 0.35.8 speaks it; `ExecStdin` returns once a chunk is acked.
    let to = Invoke::new(TOOLKIT, TOOL_NAME);
    let mut stream = room
        .open_stream_with(&to, RequestChunks::of_protocol(), Overflow::Pause)
        .await?;
    let start = start_chunk(&request_id, container_id, &command, tty);
    stream.send_pipelined(start).await?;
    stream.ensure_open().await?;
    stream.settle().await?;
    let tool_call_id = stream.tool_call_id().to_string();
    let (mut request, response) = stream.split();
    if let Some(size) = size {
        let resize = input_chunk(channel::RESIZE, Some(size), Bytes::new());
        request.send(resize).await?;
    }

    // Open: hand over to the session's two tasks.
    let (stdout_tx, stdout_rx) = mpsc::unbounded_channel();
    let (stderr_tx, stderr_rx) = mpsc::unbounded_channel();
    let (exit_tx, exit_rx) = oneshot::channel();
    let (cmds_tx, cmds_rx) = mpsc::unbounded_channel();
    let core = Arc::new(Core {
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
    tokio::spawn(write_loop(core.clone(), request, cmds_rx));
    let reader = tokio::spawn(read_loop(core.clone(), response));
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

/// Where the session is; it only moves forward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Phase {
    Running,
    /// The status arrived: send what is queued, then close the request side.
    Drain,
    /// The session failed: drop queued input, close the request side.
    Abort,
    /// Every part of the session was dropped: close the request side and stop.
    Dropped,
}

/// What the session's parts and tasks share.
pub(super) struct Core {
    pub(super) tool_call_id: String,
    state: Mutex<State>,
    phase: watch::Sender<Phase>,
    pub(super) cmds: mpsc::UnboundedSender<Cmd>,
}

pub(super) struct State {
    stdout: Option<mpsc::UnboundedSender<Result<Bytes>>>,
    stderr: Option<mpsc::UnboundedSender<Result<Bytes>>>,
    exit: Option<oneshot::Sender<Result<ExitStatus>>>,
    /// Set once: the status, or why the session failed.
    pub(super) outcome: Option<Result<ExitStatus>>,
    pub(super) stdin_closed: bool,
    pub(super) last_size: Option<(u16, u16)>,
}

/// One input chunk for the writer, with where to report its acknowledgement.
pub(super) struct Cmd {
    pub(super) chunk: Content,
    pub(super) reply: oneshot::Sender<Result<()>>,
}

impl Core {
    pub(super) fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn advance(&self, to: Phase) {
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
                let _ = tx.send(Err(e.replicate()));
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
    pub(super) fn ended_error(&self) -> Error {
        match &self.state().outcome {
            Some(Err(e)) => e.replicate(),
            _ => Error::InvalidArguments(format!("{TOOL}: the session is already closed")),
        }
    }

    fn push(&self, number: i64, data: Bytes) {
        let st = self.state();
        let tx = if number == channel::STDOUT {
            &st.stdout
        } else {
            &st.stderr
        };
        if let Some(tx) = tx {
            // A dropped reader only means nobody wants this output.
            let _ = tx.send(Ok(data));
        }
    }
}

/// Waits until the phase is at least `at_least`; returns the phase reached.
async fn until(phase: &mut watch::Receiver<Phase>, at_least: Phase) -> Phase {
    match phase.wait_for(|p| *p >= at_least).await {
        Ok(p) => *p,
        Err(_) => Phase::Dropped,
    }
}

/// Reads the server's chunks into stdout, stderr and the exit status.
async fn read_loop(core: Arc<Core>, mut response: ResponseHalf) {
    let mut phase = core.phase.subscribe();
    loop {
        let next = tokio::select! {
            biased;
            _ = until(&mut phase, Phase::Abort) => break,
            next = response.recv() => next,
        };
        let step = next.and_then(|chunk| match chunk {
            Some(chunk) => classify(chunk),
            // The engine reads the close: a normal one this early is still a failure.
            None => Err(Error::unexpected(
                TOOL,
                "stream closed before a status was returned",
            )),
        });
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
    // Dropping the response half unroutes: later chunks (the server's close) have
    // nowhere to go.
}

/// Sends the input chunks in order, each after the previous one's acknowledgement, then
/// the request-side `control/close`.
async fn write_loop(
    core: Arc<Core>,
    mut request: RequestHalf,
    mut cmds: mpsc::UnboundedReceiver<Cmd>,
) {
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
            sent = request.send(cmd.chunk) => sent,
        };
        match sent {
            Ok(()) => {
                let _ = cmd.reply.send(Ok(()));
            }
            Err(e) => {
                // A refused input ends the session (Python: "request stream failed").
                core.finish(Err(e.replicate()));
                let _ = cmd.reply.send(Err(e));
                break;
            }
        }
    }
    drop(cmds); // callers of still-queued input get the session's end
    let dropped = *phase.borrow() == Phase::Dropped;
    match request.start_close().await {
        // Wait for the acknowledgement unless the session is gone.
        Ok(Some(reply)) if !dropped => {
            tokio::select! {
                _ = reply => {}
                _ = until(&mut phase, Phase::Dropped) => {}
            }
        }
        Ok(_) => {}
        // Also when the connection is gone: there is nothing left to close then.
        Err(e) => tracing::debug!(error = %e, "closing the exec stream failed"),
    }
}

/// Held by every part of a session; when the last part goes, the session ends: the
/// reader stops, the writer sends the request-side close and stops.
pub(super) struct Lifetime {
    core: Arc<Core>,
    reader: JoinHandle<()>,
}

impl Drop for Lifetime {
    fn drop(&mut self) {
        // The aborted reader drops the response half, which unroutes the stream.
        self.reader.abort();
        self.core.advance(Phase::Dropped);
    }
}

pub(super) fn dup_result(r: &Result<ExitStatus>) -> Result<ExitStatus> {
    r.as_ref().map(|s| *s).map_err(Error::replicate)
}
