//! Message routing. The I/O task settles `__response__` itself (the request hot path) and
//! hands every other message to the [`Router`], which passes it to the route registered
//! for its packet type: by exact type, by prefix, or as the rest (pushed events).
//!
//! Each module (the handshake, the stream engine, hosting, the event surface) is a
//! [`Route`] that keeps its own state; the client holds the router, not their fields, so
//! core knows no module above it. Modules find their state again with [`Router::get`].

use std::any::Any;
use std::collections::HashMap;
use std::sync::Arc;

use futures::future::BoxFuture;

use crate::core::client::RoomClient;
use crate::core::framing::Message;
use crate::core::link::ConnectionEvent;
use crate::core::shared::Shared;

/// A module that receives routed messages and keeps its own per-connection state.
pub(crate) trait Route: Any + Send + Sync {
    /// Handles one routed message. Runs on the I/O task: must not block or await.
    fn handle(&self, _shared: &Arc<Shared>, _message: Message) {}

    /// The connection closed for good: fail what waits and end what streams.
    fn closed(&self, _reason: &str) {}

    /// The connection's status changed. On [`ConnectionEvent::Disconnected`] the module
    /// fails what belonged to the lost connection and keeps what outlives it.
    fn link(&self, _shared: &Arc<Shared>, _event: &ConnectionEvent) {}

    /// The connection is back (handshake done): what this module restores on it, run
    /// before other calls resume. `room`'s calls go out ahead of them.
    fn restore(&self, _room: &RoomClient) -> Option<BoxFuture<'static, ()>> {
        None
    }
}

/// Which messages a route receives.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Match {
    /// Messages of exactly this packet type.
    Exact(&'static str),
    /// Messages whose packet type starts with this (e.g. `room.tool_call.`).
    Prefix(&'static str),
    /// Every message no exact or prefix route takes.
    Rest,
}

struct Registered {
    route: Arc<dyn Route>,
    /// The same object, for lookup by type.
    any: Arc<dyn Any + Send + Sync>,
}

/// The routes of one connection, fixed before its I/O starts (so routing takes no lock).
#[derive(Default)]
pub(crate) struct Router {
    exact: HashMap<&'static str, usize>,
    prefixes: Vec<(&'static str, usize)>,
    rest: Option<usize>,
    routes: Vec<Registered>,
}

impl Router {
    /// Registers `route` for `matches` (none: only kept for [`Router::get`] and closing).
    /// A later match for the same packet type replaces an earlier one.
    pub(crate) fn register<R: Route>(&mut self, route: Arc<R>, matches: &[Match]) {
        let index = self.routes.len();
        self.routes.push(Registered {
            route: route.clone(),
            any: route,
        });
        for m in matches {
            match *m {
                Match::Exact(packet_type) => {
                    self.exact.insert(packet_type, index);
                }
                Match::Prefix(prefix) => self.prefixes.push((prefix, index)),
                Match::Rest => self.rest = Some(index),
            }
        }
    }

    /// The registered route of type `R`.
    pub(crate) fn get<R: Route>(&self) -> Option<Arc<R>> {
        // `is` first: no reference count is touched for the routes passed over.
        let found = self.routes.iter().find(|r| r.any.is::<R>())?;
        found.any.clone().downcast::<R>().ok()
    }

    /// Hands `message` to its route; a message no route takes is logged and dropped.
    pub(crate) fn route(&self, shared: &Arc<Shared>, message: Message) {
        let packet_type = message.message_type.as_str();
        let index = self.exact.get(packet_type).copied().or_else(|| {
            self.prefixes
                .iter()
                .find(|(prefix, _)| packet_type.starts_with(prefix))
                .map(|&(_, i)| i)
                .or(self.rest)
        });
        match index.and_then(|i| self.routes.get(i)) {
            Some(r) => r.route.handle(shared, message),
            None => tracing::debug!(packet = %packet_type, "no route for a message"),
        }
    }

    /// Tells every route the connection closed.
    pub(crate) fn closed(&self, reason: &str) {
        for r in &self.routes {
            r.route.closed(reason);
        }
    }

    /// Tells every route the connection's status changed.
    pub(crate) fn link(&self, shared: &Arc<Shared>, event: &ConnectionEvent) {
        for r in &self.routes {
            r.route.link(shared, event);
        }
    }

    /// What every route restores after a reconnection.
    pub(crate) fn restore(&self, room: &RoomClient) -> Vec<BoxFuture<'static, ()>> {
        self.routes
            .iter()
            .filter_map(|r| r.route.restore(room))
            .collect()
    }
}
