//! Tests of `socket.rs`: messages stay whole and ordered; deferred flushes are done.

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
    let socket = Arc::new(Socket::new(io.clone(), 4 << 20));
    let reader = tokio::spawn({
        let socket = socket.clone();
        async move {
            let mut reassembler = Reassembler::default();
            while let Read::Packets(..) =
                std::future::poll_fn(|cx| socket.poll_io(cx, &mut reassembler, true)).await
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
                    socket
                        .send(packets, msg % 2 == 0)
                        .await
                        .expect("socket open");
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

/// A transport that delivers what it was given only when flushed.
#[derive(Clone, Default)]
struct Flushed(Arc<std::sync::Mutex<(Vec<Bytes>, Vec<Bytes>)>>);

impl Flushed {
    fn delivered(&self) -> usize {
        self.0.lock().map(|s| s.1.len()).unwrap_or(0)
    }
}

impl Sink<Bytes> for Flushed {
    type Error = TransportError;
    fn poll_ready(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }
    fn start_send(self: Pin<&mut Self>, item: Bytes) -> Result<(), Self::Error> {
        if let Ok(mut s) = self.0.lock() {
            s.0.push(item);
        }
        Ok(())
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        if let Ok(mut s) = self.0.lock() {
            let buffered = std::mem::take(&mut s.0);
            s.1.extend(buffered);
        }
        Poll::Ready(Ok(()))
    }
    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }
}

impl Stream for Flushed {
    type Item = Result<Bytes, TransportError>;
    fn poll_next(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Poll::Pending
    }
}

/// Sends whose flush is left to the I/O task (other requests in flight) all reach the
/// wire, on both runtime flavours, also while the I/O task is idle.
fn batched_sends_are_flushed(rt: tokio::runtime::Runtime) {
    rt.block_on(async {
        let io = Flushed::default();
        let socket = Arc::new(Socket::new(io.clone(), 4 << 20));
        let reader = tokio::spawn({
            let socket = socket.clone();
            async move {
                let mut reassembler = Reassembler::default();
                while let Read::Packets(..) =
                    std::future::poll_fn(|cx| socket.poll_io(cx, &mut reassembler, true)).await
                {
                }
            }
        });
        // Let the I/O task register its waker first, as a connected client's has.
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        for round in 0..20u8 {
            let senders: Vec<_> = (0..10u8)
                .map(|task| {
                    let socket = socket.clone();
                    tokio::spawn(async move {
                        let packets = vec![Bytes::from(vec![round, task])];
                        socket.send(packets, true).await.expect("socket open");
                    })
                })
                .collect();
            for s in senders {
                s.await.expect("sender");
            }
            let expected = (usize::from(round) + 1) * 10;
            let waited = tokio::time::timeout(std::time::Duration::from_secs(5), async {
                while io.delivered() < expected {
                    tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                }
            })
            .await;
            assert!(
                waited.is_ok(),
                "round {round}: a batched send was never flushed"
            );
        }
        reader.abort();
    });
}

#[test]
fn batched_sends_are_flushed_on_a_current_thread_runtime() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    batched_sends_are_flushed(rt.expect("runtime"));
}

#[test]
fn batched_sends_are_flushed_on_a_multi_thread_runtime() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build();
    batched_sends_are_flushed(rt.expect("runtime"));
}
