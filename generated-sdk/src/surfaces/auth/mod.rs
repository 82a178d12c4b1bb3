//! Participant tokens and API keys, as the official SDKs make them (Python
//! `meshagent/api/participant_token.py` and `keys.py`, TS `participant-token.js` and
//! `api_keys.js`): build a [`ParticipantToken`], sign it with an [`ApiKey`] (or a bare
//! secret), [`verify`] one. The grant and scope types are the protocol's
//! ([`crate::types::ParticipantGrant`], [`crate::types::ApiScope`]).
//!
//! ```
//! use meshagent_room::auth::{verify, ApiKey, ParticipantToken};
//! use meshagent_room::types::ApiScope;
//!
//! # fn main() -> Result<(), meshagent_room::auth::TokenError> {
//! let key = ApiKey::new(
//!     "0b3c5d7e-9f10-4a2b-8c3d-4e5f60718293",
//!     "ffeeddcc-bbaa-4998-8877-665544332211",
//!     "the-secret",
//! )?;
//! let jwt = ParticipantToken::new("worker-1")
//!     .with_room("my-room")
//!     .with_api(ApiScope::agent_default(false))
//!     .sign_with_api_key(&key)?;
//! let claims = verify(jwt.expose(), key.secret())?;
//! assert_eq!(claims.project_id.as_deref(), Some(key.project_id()));
//! # Ok(()) }
//! ```

mod api_key;
mod jwt;
mod participant;
mod scope;

pub use crate::core::error::TokenError;
pub use api_key::ApiKey;
pub use jwt::{decode_unverified, verify};
pub use participant::ParticipantToken;
/// The secret types of the API (from the `secrecy` crate): API key secrets, and what
/// [`ApiKey::encode`] returns.
pub use secrecy::{ExposeSecret, SecretString};
