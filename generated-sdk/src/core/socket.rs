//! The connection's transport, shared by the I/O task and the tasks that send.
//!
//! A sender appends its whole message to the outbox (one short lock) and then writes the
//! outbox into the transport itself if the transport is free (no hand-off to another task,
//! which costs a cross-thread wake-up per message when the caller runs on another thread,
//! as `#[tokio::main]` code does). If another sender or the I/O task holds the transport,
//! the sender does not wait for it: the holder writes what is in the outbox before it lets
//! go, so under contention one holder writes many messages with one flush, and no thread
//! sleeps on the lock. When the socket is full the I/O task, which also reads, finishes the
//! writing. Messages enter the outbox whole and leave it in order, so a cancelled sender
//! never leaves half a message on the wire and messages never interleave.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, TryLockError};
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use futures::task::AtomicWaker;
use futures::{Sink, Stream};
use tokio::sync::{oneshot, Notify};

use crate::core::framing::{Message, Reassembler};
use crate::core::link::Loss;
use crate::core::transport::{Transport, TransportError};

/// Most packets the I/O task reads before it lets other tasks run.
pub(crate) const READ_BATCH: usize = 256;

/// The shared transport and its write queue.
pub(crate) struct Socket {
    /// The transport; held across transport calls (never across an await).
    state: Mutex<State>,
    /// Whole messages accepted but not yet handed to the transport; held only briefly.
    outbox: Mutex<Outbox>,
    /// Signalled whenever the queue drains or the socket fails.
    space: Notify,
    /// The I/O task found the transport taken and went to sleep: whoever lets go of it
    /// wakes the task (it never blocks on a sender's write).
    io_wanted: AtomicBool,
    /// The I/O task's waker for that wake-up (registered without the lock).
    io_wanted_waker: AtomicWaker,
    /// Queued bytes above which senders wait for the I/O task to drain the queue.
    queue_limit: usize,
}

struct State {
    io: Box<dyn Transport>,
    /// The transport holds bytes that still need a flush.
    unflushed: bool,
    /// A close was asked for: acknowledged once the close frame is out.
    closing: Option<oneshot::Sender<()>>,
    /// A sender's write failed; the I/O task ends the connection with this reason.
    failed: Option<String>,
    /// The I/O task, woken when it has writing to finish.
    io_waker: Option<Waker>,
    /// The I/O task runs on a current-thread runtime: waking it is cheap and it runs after
    /// the tasks already woken, so a sender with other requests in flight can leave the
    /// flush to it, and one flush then carries the requests of all those tasks.
    io_local: bool,
    /// The I/O task handed out packets and polls again soon (its `poll_io` flushes first):
    /// a sender with other requests in flight leaves the flush to it, on any runtime.
    io_running: bool,
}

#[derive(Default)]
struct Outbox {
    /// Packets accepted but not yet handed to the transport, in order.
    queue: VecDeque<Bytes>,
    queued_bytes: usize,
    /// Nothing more is written: closed, or failed (with the reason).
    ended: Option<String>,
}

/// What one poll of the I/O task read.
pub(crate) enum Read {
    /// How many packets were read, and the message they completed, if any. It is handed
    /// out at once: a message cut from the websocket's read buffer keeps that buffer from
    /// being reused (the websocket then reads a packet at a time) until it is dispatched.
    Packets(usize, Option<Message>),
    /// The connection is lost, this way.
    Ended(Loss),
}

/// Why writing the outbox stopped.
enum Wrote {
    /// Everything taken is in the transport (flushed, or the flush is pending).
    All,
    /// The transport is full; the rest waits in the outbox for the I/O task.
    Full,
}

impl Socket {
    /// Wraps a connected transport; senders wait while more than `queue_limit` bytes are
    /// queued.
    pub(crate) fn new(io: impl Transport, queue_limit: usize) -> Socket {
        Socket {
            state: Mutex::new(State {
                io: Box::new(io),
                unflushed: false,
                closing: None,
                failed: None,
                io_waker: None,
                io_local: false,
                io_running: false,
            }),
            outbox: Mutex::new(Outbox::default()),
            space: Notify::new(),
            io_wanted: AtomicBool::new(false),
            io_wanted_waker: AtomicWaker::new(),
            queue_limit,
        }
    }

    /// Puts a new transport in place of a lost one (a reconnection): what was queued for
    /// the old one is dropped (its calls have failed), and sending works again.
    pub(crate) fn replace(&self, io: Box<dyn Transport>) {
        {
            let mut st = self.lock();
            st.io = io;
            st.unflushed = false;
            st.failed = None;
            st.io_running = false;
            if let Some(done) = st.closing.take() {
                let _ = done.send(());
            }
            let mut ob = self.outbox();
            ob.queue.clear();
            ob.queued_bytes = 0;
            ob.ended = None;
        }
        self.space.notify_waiters();
    }

    /// Drops the current transport (closing it) and ends sending, with `reason`.
    pub(crate) fn abandon(&self, reason: &str) {
        let mut st = self.lock();
        st.io = Box::new(Gone);
        self.end(reason);
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Poisoning only means a panic elsewhere mid-update; the queue is still consistent
        // message by message, and failing every send would be worse.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The transport if no one else holds it.
    fn try_lock(&self) -> Option<MutexGuard<'_, State>> {
        match self.state.try_lock() {
            Ok(st) => Some(st),
            Err(TryLockError::Poisoned(p)) => Some(p.into_inner()),
            Err(TryLockError::WouldBlock) => None,
        }
    }

    fn outbox(&self) -> MutexGuard<'_, Outbox> {
        self.outbox.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sends a whole message: queued in the outbox and written now unless someone else is
    /// writing (who then writes it too). Waits only while the queue is over its limit.
    /// Errors once the socket ended.
    ///
    /// `batch`: other requests are in flight, so on a current-thread runtime the flush may
    /// wait for the I/O task (see `State::io_local`).
    pub(crate) async fn send(&self, packets: Vec<Bytes>, batch: bool) -> Result<(), String> {
        loop {
            let space = self.space.notified();
            {
                let mut ob = self.outbox();
                if let Some(reason) = &ob.ended {
                    return Err(reason.clone());
                }
                if ob.queued_bytes <= self.queue_limit {
                    ob.push(packets);
                    break;
                }
            }
            space.await;
        }
        self.write_out(batch);
        Ok(())
    }

    /// Sends a whole message without waiting (from `Drop`); dropped silently once the
    /// socket has ended.
    pub(crate) fn send_now(&self, packets: Vec<Bytes>) {
        {
            let mut ob = self.outbox();
            if ob.ended.is_some() {
                return;
            }
            // The queue limit is not applied: a drop must not wait, and these are small.
            ob.push(packets);
        }
        self.write_out(false);
    }

    /// Asks for the websocket close; `done` fires once it is sent (or the socket ended).
    pub(crate) fn close(&self, done: oneshot::Sender<()>) {
        {
            // Under the transport lock: the I/O task marks the end while it holds it.
            let mut st = self.lock();
            if self.outbox().ended.is_some() {
                let _ = done.send(());
            } else {
                st.closing = Some(done);
                st.wake_io();
            }
        }
        self.hand_back();
    }

    /// Writes the outbox into the transport while no one else holds it. Whoever holds the
    /// transport looks at the outbox again after letting go, so a message queued while the
    /// transport was taken is never left behind.
    fn write_out(&self, batch: bool) {
        loop {
            let Some(more) = self.try_with(|st| st.write_out(self, batch)) else {
                return;
            };
            if !more || self.outbox().queue.is_empty() {
                return;
            }
        }
    }

    /// Runs `f` on the transport if no one else holds it; then wakes the I/O task if it
    /// found the transport taken meanwhile.
    fn try_with<R>(&self, f: impl FnOnce(&mut State) -> R) -> Option<R> {
        let r = {
            let mut st = self.try_lock()?;
            f(&mut st)
        };
        self.hand_back();
        Some(r)
    }

    /// After letting go of the transport: wakes the I/O task if it found it taken.
    fn hand_back(&self) {
        if self.io_wanted.swap(false, Ordering::SeqCst) {
            self.io_wanted_waker.wake();
        }
    }

    /// The I/O task's turn: finish queued writes and the close, then (if `reading`) read
    /// and reassemble until a message is complete, [`READ_BATCH`] packets were read, or
    /// nothing is left. Packets go into `reassembler` as they are read, never held: the
    /// websocket reuses its read buffer only once the packets cut from it are gone.
    pub(crate) fn poll_io(
        &self,
        cx: &mut Context<'_>,
        reassembler: &mut Reassembler,
        reading: bool,
    ) -> Poll<Read> {
        let mut st = match self.try_lock() {
            Some(st) => st,
            None => {
                // A sender is writing; it wakes us when it lets go (see `hand_back`), so
                // this thread does not sleep on the lock. Asked first, then tried again, so
                // a release in between is not missed.
                self.io_wanted_waker.register(cx.waker());
                self.io_wanted.store(true, Ordering::SeqCst);
                match self.try_lock() {
                    Some(st) => {
                        self.io_wanted.store(false, Ordering::SeqCst);
                        st
                    }
                    None => return Poll::Pending,
                }
            }
        };
        if !st
            .io_waker
            .as_ref()
            .is_some_and(|w| w.will_wake(cx.waker()))
        {
            st.io_waker = Some(cx.waker().clone());
            st.io_local = tokio::runtime::Handle::try_current()
                .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::CurrentThread);
        }
        if let Err(reason) = st.drive_writes(self, cx) {
            st.io_running = false;
            self.end(&reason);
            return Poll::Ready(Read::Ended(Loss {
                reason,
                close_code: None,
            }));
        }
        if !reading {
            // Backpressure: the waker is registered with whoever holds reading back.
            st.io_running = false;
            return Poll::Pending;
        }
        let mut message = None;
        let mut read = 0;
        let mut ended = None;
        while read < READ_BATCH && message.is_none() {
            match Pin::new(&mut st.io).poll_next(cx) {
                Poll::Ready(Some(Ok(p))) => {
                    read += 1;
                    match reassembler.push(p) {
                        Ok(complete) => message = complete,
                        // The reassembler has reset itself; later messages are unaffected.
                        Err(e) => tracing::warn!(error = %e, "dropping a malformed packet"),
                    }
                }
                Poll::Ready(Some(Err(e))) => {
                    ended = Some(Loss {
                        reason: match e.close_code() {
                            Some(_) => e.to_string(),
                            None => format!("receive failed: {e}"),
                        },
                        close_code: e.close_code(),
                    });
                    break;
                }
                Poll::Ready(None) => {
                    ended = Some(Loss {
                        reason: "the server closed the connection".to_string(),
                        close_code: None,
                    });
                    break;
                }
                Poll::Pending => break,
            }
        }
        st.io_running = read > 0;
        if let Some(loss) = &ended {
            if let Some(done) = st.closing.take() {
                let _ = done.send(());
            }
            self.end(&loss.reason);
        } else {
            drop(st);
            // Senders that found the transport taken left their messages to us.
            if !self.outbox().queue.is_empty() {
                self.write_out(false);
            }
        }
        match (read, ended) {
            (0, Some(reason)) => Poll::Ready(Read::Ended(reason)),
            (0, None) => Poll::Pending,
            (n, _) => Poll::Ready(Read::Packets(n, message)),
        }
    }

    /// Nothing more is written; waiting senders learn it. Called with the transport held,
    /// so `close` cannot miss it.
    fn end(&self, reason: &str) {
        self.outbox()
            .ended
            .get_or_insert_with(|| reason.to_string());
        self.space.notify_waiters();
    }
}

impl Outbox {
    fn push(&mut self, packets: Vec<Bytes>) {
        for p in packets {
            self.queued_bytes += p.len();
            self.queue.push_back(p);
        }
    }
}

impl State {
    /// A sender's turn with the transport (see `Socket::write_out`): writes the outbox,
    /// flushing unless the I/O task will. `true` if the outbox should be looked at again.
    fn write_out(&mut self, socket: &Socket, batch: bool) -> bool {
        let Some(waker) = self.io_waker.clone() else {
            // The I/O task has not started: it writes the queue on its first poll.
            return false;
        };
        if self.closing.is_some() || self.failed.is_some() {
            // The I/O task finishes the close (or ends the connection).
            self.wake_io();
            return false;
        }
        let cx = &mut Context::from_waker(&waker);
        let defer = batch && (self.io_local || self.io_running);
        match self.write_queue(socket, cx, !defer) {
            Ok(Wrote::All) if !self.unflushed => true,
            // The I/O task is between two polls; the next one flushes.
            Ok(Wrote::All) if self.io_running => false,
            // The socket is full (the I/O task registered for writability and finishes),
            // or the flush is left to the I/O task.
            Ok(_) => {
                self.wake_io();
                false
            }
            Err(e) => {
                self.failed = Some(format!("send failed: {e}"));
                self.wake_io();
                false
            }
        }
    }

    /// Moves the outbox into the transport, in order, until it is empty or the transport
    /// is full, then flushes once (if `flush`).
    fn write_queue(
        &mut self,
        socket: &Socket,
        cx: &mut Context<'_>,
        flush: bool,
    ) -> Result<Wrote, TransportError> {
        loop {
            let (mut batch, was_over) = {
                let mut ob = socket.outbox();
                if ob.queue.is_empty() {
                    break;
                }
                let was_over = ob.queued_bytes > socket.queue_limit;
                ob.queued_bytes = 0;
                (std::mem::take(&mut ob.queue), was_over)
            };
            while let Some(p) = batch.pop_front() {
                match Pin::new(&mut self.io).poll_ready(cx) {
                    Poll::Ready(Ok(())) => {}
                    Poll::Ready(Err(e)) => return Err(e),
                    Poll::Pending => {
                        batch.push_front(p);
                        // Back in front of anything queued meanwhile, which came later.
                        let mut ob = socket.outbox();
                        ob.queued_bytes += batch.iter().map(Bytes::len).sum::<usize>();
                        batch.append(&mut ob.queue);
                        ob.queue = batch;
                        if was_over && ob.queued_bytes <= socket.queue_limit {
                            socket.space.notify_waiters();
                        }
                        return Ok(Wrote::Full);
                    }
                }
                Pin::new(&mut self.io).start_send(p)?;
                self.unflushed = true;
            }
            if was_over {
                socket.space.notify_waiters();
            }
        }
        if self.unflushed && flush {
            if let Poll::Ready(()) = Pin::new(&mut self.io).poll_flush(cx)? {
                self.unflushed = false;
            }
        }
        Ok(Wrote::All)
    }

    fn wake_io(&self) {
        if let Some(w) = &self.io_waker {
            w.wake_by_ref();
        }
    }

    /// The I/O task's writing: the queue in order, one flush, then a requested close.
    /// An error is the reason the connection ends.
    fn drive_writes(&mut self, socket: &Socket, cx: &mut Context<'_>) -> Result<(), String> {
        if socket.outbox().ended.is_some() {
            return Ok(());
        }
        if let Some(reason) = self.failed.take() {
            return Err(reason);
        }
        match self.write_queue(socket, cx, true) {
            Ok(Wrote::All) if !self.unflushed => {}
            Ok(_) => return Ok(()),
            Err(e) => return Err(format!("send failed: {e}")),
        }
        if let Some(done) = self.closing.take() {
            match Pin::new(&mut self.io).poll_close(cx) {
                Poll::Pending => self.closing = Some(done),
                // An error here only means the socket is already gone.
                Poll::Ready(_) => {
                    let _ = done.send(());
                    socket
                        .outbox()
                        .ended
                        .get_or_insert_with(|| "closed by the client".into());
                    socket.space.notify_waiters();
                }
            }
        }
        Ok(())
    }
}

// Kept apart so that this file stays short.
#[cfg(test)]
#[path = "socket_tests.rs"]
mod tests;

/// What a socket holds once its transport is abandoned: nothing to read, nothing to write.
struct Gone;

impl futures::Sink<Bytes> for Gone {
    type Error = TransportError;

    fn poll_ready(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<(), TransportError>> {
        Poll::Ready(Err(TransportError::new("the connection was abandoned")))
    }

    fn start_send(self: Pin<&mut Self>, _item: Bytes) -> Result<(), TransportError> {
        Err(TransportError::new("the connection was abandoned"))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<(), TransportError>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<(), TransportError>> {
        Poll::Ready(Ok(()))
    }
}

impl Stream for Gone {
    type Item = Result<Bytes, TransportError>;

    fn poll_next(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Poll::Ready(None)
    }
}
