//! Room-level state kept from pushed events: the remote participants (from `messaging.send`
//! system messages) and the answer to the server's secret requests.

use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::Value;

use crate::core::client::RoomClient;
use crate::core::router::{Route, Router};
use crate::core::shared::Shared;
use crate::RoomEvent;

/// A participant of the room other than this client, as messaging events describe it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RemoteParticipant {
    /// Participant id.
    pub id: String,
    /// Its role (e.g. `agent`, `user`).
    pub role: String,
    /// Its attributes, updated by `participant.attributes` events.
    pub attributes: indexmap::IndexMap<String, Value>,
    /// Whether it is in the room (false after `participant.disabled`).
    pub online: bool,
}

/// The room state kept from pushed events (the event surface shows it each event first).
/// Registered without matches: it receives no messages of its own.
#[derive(Default)]
pub(crate) struct Participants {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Remote participants by id, in order of appearance.
    remote: indexmap::IndexMap<String, RemoteParticipant>,
    /// Messaging was enabled on this connection (the room pushed its participant list):
    /// it is enabled again after a reconnection, as the 0.56 SDKs do.
    messaging_enabled: bool,
    /// Who answers the server's secret requests.
    #[cfg(feature = "secrets")]
    secrets_handler: Option<Arc<dyn secrets::SecretsHandler>>,
}

impl Route for Participants {
    fn restore(&self, room: &RoomClient) -> Option<futures::future::BoxFuture<'static, ()>> {
        if !self.lock().messaging_enabled {
            return None;
        }
        let room = room.clone();
        Some(Box::pin(async move {
            let input = serde_json::Map::new();
            if let Err(e) = room.invoke_json_nowait("messaging", "enable", &input).await {
                tracing::warn!(error = %e, "enabling messaging again failed");
            }
        }))
    }
}

/// Registers the participant state with the connection's router.
pub(crate) fn install(router: &mut Router) -> Arc<Participants> {
    let participants = Arc::new(Participants::default());
    router.register(participants.clone(), &[]);
    participants
}

impl Participants {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Poisoning only means a panic elsewhere mid-update of plain maps.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Applies an event to the room state before subscribers see it.
    pub(crate) fn observe(&self, shared: &Arc<Shared>, event: &RoomEvent) {
        // Without the messaging and secrets features there is nothing to observe.
        let _ = shared;
        #[allow(unreachable_patterns)]
        match event {
            // The participants were those of the lost connection; enabling messaging again
            // brings the current list.
            RoomEvent::Connection(crate::ConnectionEvent::Disconnected { .. }) => {
                self.lock().remote.clear();
            }
            #[cfg(feature = "messaging")]
            RoomEvent::MessagingEnabled(e) => {
                let mut st = self.lock();
                st.messaging_enabled = true;
                for p in &e.message.participants {
                    st.remote.insert(p.id.clone(), remote(p));
                }
            }
            #[cfg(feature = "messaging")]
            RoomEvent::MessagingParticipantEnabled(e) => {
                self.lock()
                    .remote
                    .insert(e.message.id.clone(), remote(&e.message));
            }
            #[cfg(feature = "messaging")]
            RoomEvent::MessagingParticipantDisabled(e) => {
                if let Some(p) = self.lock().remote.get_mut(&e.message.id) {
                    p.online = false;
                }
            }
            #[cfg(feature = "messaging")]
            RoomEvent::MessagingParticipantAttributes(e) => {
                // Like the Python SDK: merged into the known attributes; unknown senders ignored.
                if let Some(p) = self.lock().remote.get_mut(&e.from_participant_id) {
                    p.attributes.extend(e.message.attributes.clone());
                }
            }
            #[cfg(feature = "secrets")]
            RoomEvent::SecretsOauthTokenRequested(_) | RoomEvent::SecretsSecretRequested(_) => {
                let handler = self.lock().secrets_handler.clone();
                secrets::answer(shared, handler, event);
            }
            _ => {}
        }
    }
}

impl RoomClient {
    /// The remote participants seen so far, in order of appearance. Filled once messaging
    /// is enabled (`room.messaging().enable()`): the server then pushes the participant
    /// list and every change.
    pub fn remote_participants(&self) -> Vec<RemoteParticipant> {
        self.shared()
            .route::<Participants>()
            .map(|p| p.lock().remote.values().cloned().collect())
            .unwrap_or_default()
    }
}

#[cfg(feature = "messaging")]
fn remote(p: &crate::messaging::Participant) -> RemoteParticipant {
    RemoteParticipant {
        id: p.id.clone(),
        role: p.role.clone(),
        attributes: p.attributes.clone(),
        online: true,
    }
}

#[cfg(feature = "secrets")]
pub(crate) mod secrets {
    //! Answering the server's `secrets.request_oauth_token` and `secrets.request_secret`
    //! pushes: a registered handler decides; without one the request is refused at once
    //! (the TypeScript SDK crashes here, the Python SDK leaves the asker waiting).

    use std::sync::Arc;

    use bytes::Bytes;
    use futures::future::BoxFuture;

    use super::Participants;
    use crate::core::client::RoomClient;
    use crate::core::shared::Shared;
    use crate::secrets::{OauthTokenRequested, SecretRequested};
    use crate::RoomEvent;

    /// Answers secret requests. Each method returns the answer, or `Err(reason)` to refuse.
    pub trait SecretsHandler: Send + Sync + 'static {
        /// Asked to authorize an OAuth client: return the authorization code.
        fn oauth_token(
            &self,
            request: OauthTokenRequested,
        ) -> BoxFuture<'static, Result<String, String>>;
        /// Asked for a secret: return its bytes.
        fn secret(&self, request: SecretRequested) -> BoxFuture<'static, Result<Bytes, String>>;
    }

    /// The refusal sent when no handler is registered.
    pub(crate) const NO_HANDLER: &str = "this client has no handler for secret requests";

    #[cfg_attr(docsrs, doc(cfg(feature = "secrets")))]
    impl RoomClient {
        /// Registers the handler that answers the server's secret requests (replacing any).
        pub fn set_secrets_handler(&self, handler: impl SecretsHandler) {
            if let Some(p) = self.shared().route::<Participants>() {
                p.lock().secrets_handler = Some(Arc::new(handler));
            }
        }
    }

    /// Answers one request in the background through `provide_oauth_authorization` /
    /// `provide_secret`.
    pub(crate) fn answer(
        shared: &Arc<Shared>,
        handler: Option<Arc<dyn SecretsHandler>>,
        event: &RoomEvent,
    ) {
        let Some(room) = shared.client() else {
            return;
        };
        let event = event.clone();
        tokio::spawn(async move {
            let result = match event {
                RoomEvent::SecretsOauthTokenRequested(req) => {
                    let id = req.request_id.clone();
                    let answer = match &handler {
                        Some(h) => h.oauth_token(req).await,
                        None => Err(NO_HANDLER.to_string()),
                    };
                    let call = room.secrets().provide_oauth_authorization(id);
                    match answer {
                        Ok(code) => call.code(code).await,
                        Err(reason) => call.error(reason).await,
                    }
                }
                RoomEvent::SecretsSecretRequested(req) => {
                    let id = req.request_id.clone();
                    let answer = match &handler {
                        Some(h) => h.secret(req).await,
                        None => Err(NO_HANDLER.to_string()),
                    };
                    let call = room.secrets().provide_secret(id);
                    match answer {
                        Ok(data) => call.data(data).await,
                        Err(reason) => call.error(reason).await,
                    }
                }
                _ => Ok(()),
            };
            if let Err(e) = result {
                tracing::warn!(error = %e, "answering a secret request failed");
            }
        });
    }
}
