//! Reconnection, run by the I/O task after a retryable loss (see [`ReconnectPolicy`]):
//! wait (backoff with jitter), dial, put the new transport in the socket, then read while
//! the handshake completes and every route restores its state; only then do waiting calls
//! go out. Calls in flight at the loss have already failed with the retryable
//! [`Error::Disconnected`](crate::Error::Disconnected); nothing is re-sent.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::{self, BoxFuture, Either};

use crate::core::error::{Error, Result};
use crate::core::framing::{Limits, Reassembler};
use crate::core::io_task::read_until_lost;
use crate::core::link::{ConnectionEvent, Loss, ReconnectPolicy};
use crate::core::shared::Shared;
use crate::core::transport::Transport;

/// Opens a new transport to the same room (a websocket to the same URL with the same
/// token, or a custom transport's factory).
pub(crate) type Dial =
    Arc<dyn Fn() -> BoxFuture<'static, Result<Box<dyn Transport>>> + Send + Sync>;

/// How a client reopens its connection.
pub(crate) struct Redial {
    pub(crate) dial: Dial,
    pub(crate) policy: ReconnectPolicy,
    /// Deadline of each dial (TCP, TLS, upgrade).
    pub(crate) connect_timeout: Duration,
    /// Deadline of each handshake, and of the restoration after it.
    pub(crate) handshake_timeout: Duration,
}

/// Reopens the connection after `loss`. `Ok` with the next loss once the connection was
/// back and was lost again; `Err` with the final reason when reconnecting gave up (the
/// policy's budget, a refusal it does not retry, a final close) or the client closed.
pub(crate) async fn run(
    shared: &Arc<Shared>,
    redial: &Redial,
    loss: &Loss,
    limits: Limits,
) -> std::result::Result<Loss, String> {
    let policy = &redial.policy;
    let lost_at = Instant::now();
    let mut last = loss.reason.clone();
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        if policy.max_attempts.is_some_and(|max| attempt > max) {
            return Err(format!(
                "gave up reconnecting after {} attempts: {last}",
                attempt - 1
            ));
        }
        let mut delay = policy.delay(attempt, fastrand::f64());
        if let Some(budget) = policy.max_elapsed {
            let left = budget.saturating_sub(lost_at.elapsed());
            if left.is_zero() {
                return Err(format!("gave up reconnecting after {budget:?}: {last}"));
            }
            delay = delay.min(left);
        }
        shared
            .router
            .link(shared, &ConnectionEvent::Reconnecting { attempt, delay });
        if !sleep_unless_closing(shared, delay).await {
            return Err(closing_reason(shared));
        }
        let transport = match tokio::time::timeout(redial.connect_timeout, (redial.dial)()).await {
            Err(_) => {
                last = format!("connect timed out after {:?}", redial.connect_timeout);
                continue;
            }
            Ok(Err(e)) => {
                if refused(policy, &e) {
                    return Err(format!("the room refused the reconnection: {e}"));
                }
                tracing::debug!(attempt, error = %e, "reconnection attempt failed");
                last = e.to_string();
                continue;
            }
            Ok(Ok(transport)) => transport,
        };
        if shared.ending() {
            return Err(closing_reason(shared));
        }
        shared.socket.replace(transport);
        let mut reassembler = Reassembler::new(limits);
        let read = std::pin::pin!(read_until_lost(&mut reassembler, shared));
        let resume = std::pin::pin!(resume(shared, redial));
        match future::select(read, resume).await {
            Either::Left((lost, _)) => {
                if !lost.retryable() || shared.ending() {
                    return Err(lost.reason);
                }
                last = lost.reason;
            }
            Either::Right((Ok(session_id), read)) => {
                shared.reconnected();
                tracing::info!(attempt, "room connection restored");
                shared
                    .router
                    .link(shared, &ConnectionEvent::Reconnected { session_id });
                return Ok(read.await);
            }
            Either::Right((Err(e), _)) => {
                last = e.to_string();
                shared.socket.abandon(&last);
                if shared.ending() {
                    return Err(closing_reason(shared));
                }
            }
        }
    }
}

/// Waits for the new connection's handshake, then for every route's restoration.
/// Returns the new session id.
async fn resume(shared: &Arc<Shared>, redial: &Redial) -> Result<String> {
    let limit = redial.handshake_timeout;
    let info = tokio::time::timeout(limit, crate::core::connect::rejoined(shared))
        .await
        .unwrap_or(Err(Error::Timeout(limit, "room_ready and connected")))?;
    let Some(room) = shared.client() else {
        return Err(shared.closed_error());
    };
    let restoring = room.restoring(limit);
    // Each route logs its own failures: a toolkit that cannot be registered again must not
    // keep the whole client offline.
    future::join_all(shared.router.restore(&restoring)).await;
    Ok(info.session_id)
}

/// Whether a failed dial is a refusal the policy does not retry.
fn refused(policy: &ReconnectPolicy, e: &Error) -> bool {
    let status = match e {
        Error::Connect { source, .. } | Error::Transport(source) => source.http_status(),
        _ => None,
    };
    status.is_some_and(|s| policy.refuses(s))
}

/// Sleeps `delay`; `false` as soon as the client is closing.
async fn sleep_unless_closing(shared: &Shared, delay: Duration) -> bool {
    let sleep = tokio::time::sleep(delay);
    let closing = shared.wait_closing();
    !matches!(
        future::select(std::pin::pin!(sleep), std::pin::pin!(closing)).await,
        Either::Right(_)
    )
}

fn closing_reason(shared: &Shared) -> String {
    shared
        .lock()
        .closed
        .clone()
        .unwrap_or_else(|| "closed by the client".to_string())
}
