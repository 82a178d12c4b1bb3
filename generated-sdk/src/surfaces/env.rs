//! Joining a room from the environment alone, as the SDKs do (Python `RoomClient()` with no
//! arguments, `meshagent/api/urls.py` and `helpers.py`; TS `helpers.js`):
//!
//! - the room: `MESHAGENT_ROOM`, checked as the SDKs' `is_valid_room_name` checks it;
//! - the token: `MESHAGENT_TOKEN`; failing that (feature `tokens`), one made here for the
//!   room with the agent's default scope, signed with `MESHAGENT_API_KEY`, or with
//!   `MESHAGENT_SECRET` and the ids `MESHAGENT_PROJECT_ID` and `MESHAGENT_KEY_ID`;
//! - the URL: `MESHAGENT_ROOM_URL`, then `MESHAGENT_PROFILE_API_URL` (0.56), then
//!   `MESHAGENT_API_URL`, then `wss://api.meshagent.com`, plus `/rooms/<room>`.
//!
//! An empty variable counts as unset (Python takes an empty `MESHAGENT_ROOM_URL` as a base).

use url::Url;

use crate::core::client::RoomClient;
use crate::core::error::{Error, Result};
use crate::core::transport::{room_url, Token};
use crate::surfaces::connect::Connect;

/// The participant name of a token made from an API key by [`RoomClient::from_env`].
pub const DEFAULT_PARTICIPANT_NAME: &str = "rust-client";

/// The base URL when no variable names one (the SDKs' default).
const DEFAULT_BASE: &str = "wss://api.meshagent.com";

/// Where the room URL comes from, first match wins (Python 0.56 `websocket_room_url`;
/// 0.35.8 has no profile URL).
#[cfg(not(feature = "protocol-0-35-8"))]
const URL_VARIABLES: &[&str] = &[
    "MESHAGENT_ROOM_URL",
    "MESHAGENT_PROFILE_API_URL",
    "MESHAGENT_API_URL",
];
#[cfg(feature = "protocol-0-35-8")]
const URL_VARIABLES: &[&str] = &["MESHAGENT_ROOM_URL", "MESHAGENT_API_URL"];

const NOTHING_SET: &str = "set MESHAGENT_ROOM and MESHAGENT_TOKEN, or MESHAGENT_ROOM and \
     MESHAGENT_API_KEY (or MESHAGENT_SECRET with MESHAGENT_PROJECT_ID and MESHAGENT_KEY_ID)";

impl RoomClient {
    /// Joins the room the process environment names (see [`Connect::from_env_with`]); a
    /// token made from an API key names the participant [`DEFAULT_PARTICIPANT_NAME`].
    ///
    /// ```no_run
    /// # async fn demo() -> meshagent_room::Result<()> {
    /// // MESHAGENT_API_KEY=ma-… MESHAGENT_ROOM=my-room
    /// let (room, _events) = meshagent_room::RoomClient::from_env()?.await?;
    /// # Ok(()) }
    /// ```
    pub fn from_env() -> Result<Connect> {
        Connect::from_env(DEFAULT_PARTICIPANT_NAME)
    }
}

impl Connect {
    /// Joins the room the process environment names; a token made from an API key names
    /// the participant `participant_name`. See [`Connect::from_env_with`].
    pub fn from_env(participant_name: &str) -> Result<Connect> {
        Connect::from_env_with(participant_name, |name| std::env::var(name).ok())
    }

    /// Joins the room that `lookup` (a variable's value by name) names, as the SDKs read the
    /// environment: the room from `MESHAGENT_ROOM`; the token from `MESHAGENT_TOKEN`, or
    /// made for `participant_name` in that room with `ApiScope::agent_default`
    /// and signed with `MESHAGENT_API_KEY`, or with `MESHAGENT_SECRET`, `MESHAGENT_PROJECT_ID`
    /// and `MESHAGENT_KEY_ID` (the API key path needs the feature `tokens`); the URL from
    /// `MESHAGENT_ROOM_URL`, `MESHAGENT_PROFILE_API_URL` (0.56), `MESHAGENT_API_URL` or
    /// the default, `http(s)` turned into `ws(s)`.
    ///
    /// An [`Error::Environment`] names the variables to set; a malformed API key is an
    /// `Error::Token` (feature `tokens`) that does not repeat it.
    pub fn from_env_with(
        participant_name: &str,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Connect> {
        let get = |name: &str| lookup(name).filter(|v| !v.is_empty());
        let Some(room) = get("MESHAGENT_ROOM") else {
            return Err(Error::Environment(format!(
                "MESHAGENT_ROOM is not set: {NOTHING_SET}"
            )));
        };
        if !is_valid_room_name(&room) {
            return Err(Error::Environment(format!(
                "MESHAGENT_ROOM `{}` is not a valid room name: 1 to 63 lowercase letters, \
                 digits or `-`, starting and ending with a letter or digit",
                crate::core::error::bounded(room)
            )));
        }
        let url = env_room_url(&room, &get)?;
        let token = match get("MESHAGENT_TOKEN") {
            Some(jwt) => Token::new(jwt),
            None => make_token(participant_name, &room, &get)?,
        };
        Ok(RoomClient::connect(url, token))
    }
}

/// The room's websocket URL from the first URL variable set.
fn env_room_url(room: &str, get: &impl Fn(&str) -> Option<String>) -> Result<Url> {
    let base = URL_VARIABLES
        .iter()
        .find_map(|name| get(name))
        .unwrap_or_else(|| DEFAULT_BASE.to_string());
    room_url(&base, room)
}

/// A token for `room`, made and signed from the API key variables.
#[cfg(feature = "tokens")]
fn make_token(name: &str, room: &str, get: &impl Fn(&str) -> Option<String>) -> Result<Token> {
    use crate::auth::{ApiKey, ParticipantToken};
    use crate::types::ApiScope;

    let claims = ParticipantToken::new(name)
        .with_room(room)
        .with_api(ApiScope::agent_default(false));
    if let Some(key) = get("MESHAGENT_API_KEY") {
        return Ok(claims.sign_with_api_key(&ApiKey::parse(&key)?)?);
    }
    let Some(secret) = get("MESHAGENT_SECRET") else {
        return Err(Error::Environment(format!(
            "neither MESHAGENT_TOKEN nor MESHAGENT_API_KEY is set: {NOTHING_SET}"
        )));
    };
    let (project, key_id) = (get("MESHAGENT_PROJECT_ID"), get("MESHAGENT_KEY_ID"));
    let (Some(project), Some(key_id)) = (project, key_id) else {
        return Err(Error::Environment(
            "MESHAGENT_SECRET needs MESHAGENT_PROJECT_ID and MESHAGENT_KEY_ID too (the API \
             key's project and id); or set MESHAGENT_API_KEY"
                .into(),
        ));
    };
    let mut claims = claims;
    claims.project_id = Some(project);
    claims.api_key_id = Some(key_id);
    Ok(claims.sign_with_secret(&secret.into())?)
}

/// Without the feature `tokens` only a ready token will do.
#[cfg(not(feature = "tokens"))]
fn make_token(_name: &str, _room: &str, _get: &impl Fn(&str) -> Option<String>) -> Result<Token> {
    Err(Error::Environment(format!(
        "MESHAGENT_TOKEN is not set ({NOTHING_SET}; making a token from an API key needs the \
         crate feature `tokens`)"
    )))
}

/// Whether `name` is a room name the SDKs accept (Python `is_valid_room_name`: 1 to 63
/// characters of `a-z`, `0-9` and `-`, starting and ending with a letter or digit).
pub fn is_valid_room_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    let edge = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    (1..=63).contains(&bytes.len())
        && bytes.first().is_some_and(edge)
        && bytes.last().is_some_and(edge)
        && bytes.iter().all(|b| edge(b) || *b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_names_as_the_sdks_check_them() {
        for ok in ["a", "my-room", "r2d2", "a--b", &"x".repeat(63)] {
            assert!(is_valid_room_name(ok), "{ok}");
        }
        for bad in [
            "",
            "-a",
            "a-",
            "My-Room",
            "a_b",
            "a b",
            "é",
            &"x".repeat(64),
        ] {
            assert!(!is_valid_room_name(bad), "{bad}");
        }
    }
}
