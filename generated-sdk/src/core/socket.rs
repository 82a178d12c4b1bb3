//! The connection's transport, shared by the I/O task and the tasks that send.
//!
//! A sender writes its message straight into the transport when nothing is queued ahead of
//! it (no hand-off to another task, which costs a cross-thread wake-up per message when the
//! caller runs on another thread, as `#[tokio::main]` code does); otherwise, or when the
//! socket is full, the rest of the message is queued and the I/O task, which also reads,
//! finishes writing it. Every write happens inside one lock hold without awaiting, so a
//! message is taken whole or not at all: cancelling a sender never leaves half a message
//! on the wire, and messages never interleave.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use futures::{Sink, Stream};
use tokio::sync::{oneshot, Notify};

use crate::core::framing::{Message, Reassembler};
use crate::core::transport::{Transport, TransportError};

/// Queued bytes above which senders wait for the I/O task to drain the queue.
const QUEUE_LIMIT: usize = 4 << 20;

/// Most packets the I/O task reads before it lets other tasks run.
pub(crate) const READ_BATCH: usize = 256;

/// The shared transport and its write queue.
pub(crate) struct Socket {
    state: Mutex<State>,
    /// Signalled whenever the queue drains or the socket fails.
    space: Notify,
}

struct State {
    io: Box<dyn Transport>,
    /// Packets accepted but not yet handed to the transport, in order.
    queue: VecDeque<Bytes>,
    queued_bytes: usize,
    /// The transport holds bytes that still need a flush.
    unflushed: bool,
    /// A close was asked for: acknowledged once the close frame is out.
    closing: Option<oneshot::Sender<()>>,
    /// Nothing more is written: closed, or failed (with the reason).
    ended: Option<String>,
    /// The I/O task, woken when it has writing to finish.
    io_waker: Option<Waker>,
}

/// What one poll of the I/O task read.
pub(crate) enum Read {
    /// How many packets were read, and the message they completed, if any. It is handed
    /// out at once: a message cut from the websocket's read buffer keeps that buffer from
    /// being reused (the websocket then reads a packet at a time) until it is dispatched.
    Packets(usize, Option<Message>),
    /// The connection is over, for this reason.
    Ended(String),
}

impl Socket {
    /// Wraps a connected transport.
    pub(crate) fn new(io: impl Transport) -> Socket {
        Socket {
            state: Mutex::new(State {
                io: Box::new(io),
                queue: VecDeque::new(),
                queued_bytes: 0,
                unflushed: false,
                closing: None,
                ended: None,
                io_waker: None,
            }),
            space: Notify::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Poisoning only means a panic elsewhere mid-update; the queue is still consistent
        // message by message, and failing every send would be worse.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sends a whole message: written now if nothing is queued ahead, else queued for the
    /// I/O task. Waits only while the queue is over its limit. Errors once the socket ended.
    pub(crate) async fn send(&self, packets: Vec<Bytes>) -> Result<(), String> {
        loop {
            let space = self.space.notified();
            {
                let mut st = self.lock();
                if let Some(reason) = &st.ended {
                    return Err(reason.clone());
                }
                if st.queued_bytes <= QUEUE_LIMIT {
                    st.accept(packets);
                    return Ok(());
                }
            }
            space.await;
        }
    }

    /// Sends a whole message without waiting (from `Drop`): queued if it cannot be written
    /// now; dropped silently once the socket has ended.
    pub(crate) fn send_now(&self, packets: Vec<Bytes>) {
        let mut st = self.lock();
        if st.ended.is_none() {
            // The queue limit is not applied: a drop must not wait, and these are small.
            st.queue_all(packets);
            st.wake_io();
        }
    }

    /// Asks for the websocket close; `done` fires once it is sent (or the socket ended).
    pub(crate) fn close(&self, done: oneshot::Sender<()>) {
        let mut st = self.lock();
        if st.ended.is_some() {
            let _ = done.send(());
            return;
        }
        st.closing = Some(done);
        st.wake_io();
    }

    /// The I/O task's turn: finish queued writes and the close, then read and reassemble
    /// until a message is complete, [`READ_BATCH`] packets were read, or nothing is left.
    /// Packets go into `reassembler` as they are read, never held: the websocket reuses
    /// its read buffer only once the packets cut from it are gone.
    pub(crate) fn poll_io(
        &self,
        cx: &mut Context<'_>,
        reassembler: &mut Reassembler,
    ) -> Poll<Read> {
        let mut st = self.lock();
        if !st
            .io_waker
            .as_ref()
            .is_some_and(|w| w.will_wake(cx.waker()))
        {
            st.io_waker = Some(cx.waker().clone());
        }
        let was_over = st.queued_bytes > QUEUE_LIMIT;
        if let Err(e) = st.drive_writes(cx) {
            let reason = format!("send failed: {e}");
            st.ended = Some(reason.clone());
            drop(st);
            self.space.notify_waiters();
            return Poll::Ready(Read::Ended(reason));
        }
        if was_over && st.queued_bytes <= QUEUE_LIMIT {
            self.space.notify_waiters();
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
                    ended = Some(format!("receive failed: {e}"));
                    break;
                }
                Poll::Ready(None) => {
                    ended = Some("the server closed the connection".to_string());
                    break;
                }
                Poll::Pending => break,
            }
        }
        if let Some(reason) = &ended {
            st.ended.get_or_insert_with(|| reason.clone());
            if let Some(done) = st.closing.take() {
                let _ = done.send(());
            }
            drop(st);
            self.space.notify_waiters();
        }
        match (read, ended) {
            (0, Some(reason)) => Poll::Ready(Read::Ended(reason)),
            (0, None) => Poll::Pending,
            (n, _) => Poll::Ready(Read::Packets(n, message)),
        }
    }
}

impl State {
    /// Writes what it can of `packets` now (only if nothing is queued ahead), queues the
    /// rest, and hands any unfinished writing to the I/O task. The writes use the I/O
    /// task's waker: the transport's readiness wake-ups (tokio-tungstenite wakes the last
    /// writer on every readable event too) must go to the task that finishes writes and
    /// reads, never to a sender that is not waiting for them.
    fn accept(&mut self, packets: Vec<Bytes>) {
        let waker = match &self.io_waker {
            Some(w) if self.queue.is_empty() && self.closing.is_none() => w.clone(),
            // Not started yet, or writes queued ahead: the I/O task sends them in order.
            _ => {
                self.queue_all(packets);
                self.wake_io();
                return;
            }
        };
        let cx = &mut Context::from_waker(&waker);
        let mut packets = packets.into_iter();
        let mut wrote = false;
        for p in packets.by_ref() {
            match Pin::new(&mut self.io).poll_ready(cx) {
                Poll::Ready(Ok(())) => {}
                // The I/O task meets the error again and ends the connection.
                Poll::Ready(Err(_)) | Poll::Pending => {
                    self.queue_one(p);
                    break;
                }
            }
            if Pin::new(&mut self.io).start_send(p).is_err() {
                break;
            }
            wrote = true;
        }
        self.queue_all(packets.collect());
        if wrote {
            self.unflushed = true;
            if let Poll::Ready(Ok(())) = Pin::new(&mut self.io).poll_flush(cx) {
                self.unflushed = false;
            }
        }
        if self.unflushed || !self.queue.is_empty() {
            // The socket is full: the I/O task registers for writability and finishes.
            self.wake_io();
        }
    }

    fn queue_one(&mut self, p: Bytes) {
        self.queued_bytes += p.len();
        self.queue.push_back(p);
    }

    fn queue_all(&mut self, packets: Vec<Bytes>) {
        for p in packets {
            self.queue_one(p);
        }
    }

    fn wake_io(&self) {
        if let Some(w) = &self.io_waker {
            w.wake_by_ref();
        }
    }

    /// The I/O task's writing: the queue in order, one flush, then a requested close.
    fn drive_writes(&mut self, cx: &mut Context<'_>) -> Result<(), TransportError> {
        if self.ended.is_some() {
            return Ok(());
        }
        while let Some(p) = self.queue.front() {
            match Pin::new(&mut self.io).poll_ready(cx)? {
                Poll::Ready(()) => {}
                Poll::Pending => return Ok(()),
            }
            let len = p.len();
            if let Some(p) = self.queue.pop_front() {
                self.queued_bytes -= len;
                Pin::new(&mut self.io).start_send(p)?;
                self.unflushed = true;
            }
        }
        if self.unflushed {
            match Pin::new(&mut self.io).poll_flush(cx)? {
                Poll::Ready(()) => self.unflushed = false,
                Poll::Pending => return Ok(()),
            }
        }
        if let Some(done) = self.closing.take() {
            match Pin::new(&mut self.io).poll_close(cx) {
                Poll::Pending => self.closing = Some(done),
                // An error here only means the socket is already gone.
                Poll::Ready(_) => {
                    let _ = done.send(());
                    self.ended = Some("closed by the client".into());
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// A transport that takes `capacity` packets, then is full until the test drains it.
    #[derive(Default)]
    struct Slow {
        sent: Vec<Bytes>,
        room: usize,
        writer: Option<Waker>,
    }

    #[derive(Clone, Default)]
    struct SlowIo(Arc<std::sync::Mutex<Slow>>);

    impl SlowIo {
        fn drain(&self, capacity: usize) {
            let mut s = self.0.lock().unwrap_or_else(|p| p.into_inner());
            s.room = capacity;
            if let Some(w) = s.writer.take() {
                w.wake();
            }
        }
    }

    impl Sink<Bytes> for SlowIo {
        type Error = TransportError;
        fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            let mut s = self.0.lock().unwrap_or_else(|p| p.into_inner());
            if s.room > 0 {
                Poll::Ready(Ok(()))
            } else {
                s.writer = Some(cx.waker().clone());
                Poll::Pending
            }
        }
        fn start_send(self: Pin<&mut Self>, item: Bytes) -> Result<(), Self::Error> {
            let mut s = self.0.lock().unwrap_or_else(|p| p.into_inner());
            s.room -= 1;
            s.sent.push(item);
            Ok(())
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Ready(Ok(()))
        }
        fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Ready(Ok(()))
        }
    }

    impl Stream for SlowIo {
        type Item = Result<Bytes, TransportError>;
        fn poll_next(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
            Poll::Pending
        }
    }

    /// Messages from many senders through a socket that keeps filling up arrive whole, each
    /// sender's in order: direct writes and the I/O task's queue never interleave.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn messages_stay_whole_and_ordered_when_the_socket_fills() {
        let io = SlowIo::default();
        let socket = Arc::new(Socket::new(io.clone()));
        let reader = tokio::spawn({
            let socket = socket.clone();
            async move {
                let mut reassembler = Reassembler::default();
                while let Read::Packets(..) =
                    std::future::poll_fn(|cx| socket.poll_io(cx, &mut reassembler)).await
                {
                }
            }
        });
        let senders: Vec<_> = (0u8..8)
            .map(|task| {
                let socket = socket.clone();
                tokio::spawn(async move {
                    for msg in 0u8..50 {
                        let packets = (0u8..5).map(|i| Bytes::from(vec![task, msg, i])).collect();
                        socket.send(packets).await.expect("socket open");
                        tokio::task::yield_now().await;
                    }
                })
            })
            .collect();
        let expected = 8 * 50 * 5;
        loop {
            io.drain(7);
            tokio::task::yield_now().await;
            if io.0.lock().map(|s| s.sent.len()).unwrap_or(0) == expected {
                break;
            }
        }
        for s in senders {
            s.await.expect("sender");
        }
        reader.abort();
        let sent = io.0.lock().map(|s| s.sent.clone()).unwrap_or_default();
        let mut next = [0u8; 8];
        for message in sent.chunks(5) {
            let (task, msg) = (message[0][0], message[0][1]);
            for (i, p) in message.iter().enumerate() {
                assert_eq!(&p[..], &[task, msg, i as u8], "a message was split");
            }
            assert_eq!(msg, next[task as usize], "sender {task} out of order");
            next[task as usize] += 1;
        }
    }
}
