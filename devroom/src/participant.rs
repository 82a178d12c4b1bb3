//! A connected participant as the rest of the room sees it: its identity, attributes and
//! outbox, and the calls to its hosted toolkits awaiting an answer.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use bytes::Bytes;
use serde_json::{Map, Value};
use tokio::sync::{mpsc, oneshot, Notify};

use crate::dialect::Dialect;
use crate::wire::{pack_value, Outgoing};

/// One connection's participant.
pub(crate) struct Participant {
    pub id: String,
    pub dialect: Dialect,
    attributes: Mutex<Map<String, Value>>,
    messaging: AtomicBool,
    next_id: AtomicU64,
    outbox: mpsc::Sender<Outgoing>,
    /// Told when the connection must close: its outbox overflowed, or its writer gave up.
    pub overflow: Notify,
    /// Calls to this participant's hosted toolkits, by the push's message id.
    hosted_calls: Mutex<HashMap<u64, oneshot::Sender<Bytes>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A poisoned lock only means a panic elsewhere mid-update of plain data.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Participant {
    pub(crate) fn new(
        id: String,
        dialect: Dialect,
        attributes: Map<String, Value>,
        outbox: mpsc::Sender<Outgoing>,
    ) -> Participant {
        Participant {
            id,
            dialect,
            attributes: Mutex::new(attributes),
            messaging: AtomicBool::new(false),
            // Server ids start high, as the recorded rooms do; clients ignore them.
            next_id: AtomicU64::new(1000),
            outbox,
            overflow: Notify::new(),
            hosted_calls: Mutex::default(),
        }
    }

    /// A fresh id for a message the server starts (a push).
    pub(crate) fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    pub(crate) fn attributes(&self) -> Map<String, Value> {
        lock(&self.attributes).clone()
    }

    /// Merges `update` into the attributes (`__meshagent__` is the SDK's metadata, not one).
    pub(crate) fn merge_attributes(&self, update: &Map<String, Value>) -> Map<String, Value> {
        let mut attrs = lock(&self.attributes);
        for (k, v) in update {
            if k != "__meshagent__" {
                attrs.insert(k.clone(), v.clone());
            }
        }
        attrs.clone()
    }

    pub(crate) fn messaging_enabled(&self) -> bool {
        self.messaging.load(Ordering::Acquire)
    }

    pub(crate) fn set_messaging(&self, on: bool) -> bool {
        self.messaging.swap(on, Ordering::AcqRel)
    }

    /// The participant as messaging describes it.
    pub(crate) fn describe(&self) -> Value {
        serde_json::json!({"id": self.id, "role": "user", "attributes": self.attributes()})
    }

    /// Sends a message of this participant's own exchange (a reply, a chunk of its stream):
    /// waits while the outbox is full. False when the connection is gone.
    pub(crate) async fn send(&self, id: u64, packet_type: &str, data: Vec<u8>) -> bool {
        let message = Outgoing {
            id,
            packet_type: packet_type.to_string(),
            data,
        };
        self.outbox.send(message).await.is_ok()
    }

    /// Pushes an event started elsewhere in the room; never waits. A participant whose
    /// outbox is full is disconnected rather than left to hold the room's memory.
    pub(crate) fn push_with_id(
        &self,
        id: u64,
        packet_type: &str,
        header: &Value,
        tail: &[u8],
    ) -> bool {
        let message = Outgoing {
            id,
            packet_type: packet_type.to_string(),
            data: pack_value(header, tail),
        };
        match self.outbox.try_send(message) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                tracing::warn!(participant = %self.id, packet = %packet_type, "outbox full: disconnecting a client that does not read");
                self.overflow.notify_one();
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }

    /// [`Participant::push_with_id`] with a fresh id.
    pub(crate) fn push(&self, packet_type: &str, header: &Value, tail: &[u8]) -> bool {
        self.push_with_id(self.next_id(), packet_type, header, tail)
    }

    /// Awaits the answer to the hosted call pushed with id `id`.
    pub(crate) fn expect_hosted_answer(&self, id: u64) -> oneshot::Receiver<Bytes> {
        let (tx, rx) = oneshot::channel();
        lock(&self.hosted_calls).insert(id, tx);
        rx
    }

    /// Forgets a hosted call (answered elsewhere, or given up).
    pub(crate) fn forget_hosted_call(&self, id: u64) {
        lock(&self.hosted_calls).remove(&id);
    }

    /// Hands a `room.tool_call_response` to the caller; false if no call has that id.
    pub(crate) fn answer_hosted_call(&self, id: u64, data: Bytes) -> bool {
        match lock(&self.hosted_calls).remove(&id) {
            Some(tx) => tx.send(data).is_ok(),
            None => false,
        }
    }

    /// The connection ended: every call waiting on this participant fails.
    pub(crate) fn drop_hosted_calls(&self) {
        lock(&self.hosted_calls).clear();
    }
}
