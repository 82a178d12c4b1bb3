//! The connection's I/O task: it reads and reassembles what arrives, settles replies
//! (`__response__`) itself and hands everything else to the router, until the connection
//! is lost; then it reconnects (`reconnect`) or closes the client.

use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::oneshot;

use crate::core::content::Content;
use crate::core::error::{Error, Result};
use crate::core::framing::{Limits, Message, Reassembler};
use crate::core::link::Loss;
use crate::core::packing::unpack;
use crate::core::reconnect;
use crate::core::shared::Shared;
use crate::core::socket::Read;
use crate::packets::server as sp;

/// The I/O task: reads the connection until it is lost, then reconnects or closes.
pub(crate) async fn io_loop(limits: Limits, shared: Arc<Shared>) {
    let mut reassembler = Reassembler::new(limits);
    let mut loss = read_until_lost(&mut reassembler, &shared).await;
    loop {
        let retry = shared.redial.as_ref().filter(|_| loss.retryable());
        let Some(redial) = retry.filter(|_| !shared.ending()) else {
            shared.close(loss.reason);
            return;
        };
        tracing::warn!(reason = %loss.reason, "room connection lost; reconnecting");
        shared.disconnected(&loss.reason);
        match reconnect::run(&shared, redial, &loss, limits).await {
            Ok(next) => loss = next,
            Err(reason) => {
                shared.close(reason);
                return;
            }
        }
    }
}

/// Lets the socket finish queued writes and reads, reassembles and dispatches what
/// arrives, until the connection is lost.
pub(crate) async fn read_until_lost(reassembler: &mut Reassembler, shared: &Arc<Shared>) -> Loss {
    let mut since_yield = 0;
    let mut answers = Answers::default();
    let loss = loop {
        let read = std::future::poll_fn(|cx| {
            let reading = shared.backpressure.poll_reading(cx);
            let read = shared.socket.poll_io(cx, reassembler, reading);
            if read.is_pending() {
                answers.hand_over();
            }
            read
        })
        .await;
        match read {
            Read::Packets(n, message) => {
                if let Some(message) = message {
                    if message.message_type == sp::RESPONSE {
                        answers.add(shared, message);
                    } else {
                        // Replies that came first are handed over first.
                        answers.hand_over();
                        dispatch(shared, message);
                    }
                }
                // After a batch, let the tasks these messages woke run first.
                since_yield += n;
                if since_yield >= crate::core::socket::READ_BATCH {
                    since_yield = 0;
                    answers.hand_over();
                    tokio::task::yield_now().await;
                }
            }
            Read::Ended(loss) => break loss,
        }
    };
    answers.hand_over();
    loss
}

/// Replies read but not yet handed to their calls. While other calls wait, a reply is
/// handed over once the socket has nothing more to read (or before anything else is
/// dispatched), so a caller on another thread is woken once per batch of replies rather
/// than once per reply, and runs while the I/O task sleeps instead of racing it.
#[derive(Default)]
struct Answers(Vec<(oneshot::Sender<Result<Content>>, Result<Content>)>);

impl Answers {
    /// A `__response__`: decoded now, handed over now if no other call is waiting.
    fn add(&mut self, shared: &Shared, message: Message) {
        let (tx, others_waiting) = {
            let mut st = shared.lock();
            let Some(tx) = st.pending.remove(&message.id) else {
                tracing::debug!(id = message.id, "reply for an unknown or forgotten request");
                return;
            };
            (tx, !st.pending.is_empty())
        };
        self.0.push((tx, response(message.data)));
        if !others_waiting {
            self.hand_over();
        }
    }

    fn hand_over(&mut self) {
        for (tx, reply) in self.0.drain(..) {
            // An error only means the call was dropped meanwhile.
            let _ = tx.send(reply);
        }
    }
}

fn dispatch(shared: &Arc<Shared>, message: Message) {
    if message.message_type == sp::RESPONSE {
        // Replies are taken by `io_loop` before dispatch; this only keeps dispatch whole.
        Answers::default().add(shared, message);
    } else {
        shared.router.route(shared, message);
    }
}

/// A `__response__` body: a packed content; `error` content fails the call.
fn response(data: Bytes) -> Result<Content> {
    let packed = unpack(data)?;
    match Content::from_parts(packed.header, packed.tail)? {
        Content::Error { text, code } => Err(Error::server(code, text)),
        other => Ok(other),
    }
}
