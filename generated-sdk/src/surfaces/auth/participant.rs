//! The participant token's claims, as both SDKs write and read them (Python
//! `ParticipantToken.to_json` / `from_json`, TS `toJson` / `fromJson`): `name`, `grants`,
//! `sub` (project id), `kid` (API key id), `version`, `exp`, and any other claim kept as it is.

use serde_json::{Map, Value};

use super::TokenError;
use crate::core::error::bounded;
use crate::types::{ApiScope, ParticipantGrant, ParticipantRole};

/// A participant token's claims: who joins, which room, with which role and API permissions.
/// Sign it with [`ParticipantToken::sign_with_api_key`] or
/// [`ParticipantToken::sign_with_secret`]; read one with [`super::verify`].
///
/// ```
/// use meshagent_room::auth::ParticipantToken;
/// use meshagent_room::types::{ApiScope, ParticipantRole};
///
/// let token = ParticipantToken::new("worker-1")
///     .with_room("my-room")
///     .with_role(ParticipantRole::Agent)
///     .with_api(ApiScope::agent_default(false));
/// assert_eq!(token.room(), Some("my-room"));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ParticipantToken {
    /// The participant's name (`name`).
    pub name: String,
    /// What it may join and do (`grants`), in order.
    pub grants: Vec<ParticipantGrant>,
    /// The project's id (`sub`); signing with an API key sets it.
    pub project_id: Option<String>,
    /// The API key's id (`kid`); signing with an API key sets it.
    pub api_key_id: Option<String>,
    /// The SDK version that made the token (`version`); [`ParticipantToken::new`] sets the
    /// protocol version this crate speaks, as the SDKs set theirs.
    pub version: Option<String>,
    /// When the token expires (`exp`, seconds since the Unix epoch); none: never.
    pub expires_at: Option<u64>,
    /// Every other claim, kept as it is.
    pub extra: Map<String, Value>,
}

impl ParticipantToken {
    /// A token for the participant `name`, without grants.
    pub fn new(name: impl Into<String>) -> ParticipantToken {
        ParticipantToken {
            name: name.into(),
            grants: Vec::new(),
            project_id: None,
            api_key_id: None,
            version: Some(crate::protocol::VERSION.to_string()),
            expires_at: None,
            extra: Map::new(),
        }
    }

    /// Adds a `room` grant: may join the room `room`.
    pub fn with_room(mut self, room: impl Into<String>) -> Self {
        self.grants
            .push(ParticipantGrant::Room { scope: room.into() });
        self
    }

    /// Adds a `role` grant.
    pub fn with_role(mut self, role: ParticipantRole) -> Self {
        self.grants.push(ParticipantGrant::Role { scope: role });
        self
    }

    /// Adds an `agent` grant: the agent this participant is.
    #[cfg(not(feature = "protocol-0-35-8"))]
    pub fn with_agent(mut self, agent: impl Into<String>) -> Self {
        self.grants.push(ParticipantGrant::Agent {
            scope: agent.into(),
        });
        self
    }

    /// Adds a `site` grant: may open the room `room` as a site.
    #[cfg(not(feature = "protocol-0-35-8"))]
    pub fn with_site(mut self, room: impl Into<String>) -> Self {
        self.grants
            .push(ParticipantGrant::Site { scope: room.into() });
        self
    }

    /// Adds a `tunnel_ports` grant for these ports (written comma-separated, as the SDKs do).
    pub fn with_tunnel_ports(mut self, ports: &[u16]) -> Self {
        let scope = ports
            .iter()
            .map(u16::to_string)
            .collect::<Vec<_>>()
            .join(",");
        self.grants.push(ParticipantGrant::TunnelPorts { scope });
        self
    }

    /// Sets the `api` grant, replacing any there is (a token has at most one, as the SDKs
    /// require).
    pub fn with_api(mut self, scope: ApiScope) -> Self {
        self.grants
            .retain(|g| !matches!(g, ParticipantGrant::Api { .. }) && grant_name(g) != Some("api"));
        self.grants.push(ParticipantGrant::Api { scope });
        self
    }

    /// Sets when the token expires (seconds since the Unix epoch).
    pub fn expires_at(mut self, unix_seconds: u64) -> Self {
        self.expires_at = Some(unix_seconds);
        self
    }

    /// The room of the first `room` grant.
    pub fn room(&self) -> Option<&str> {
        self.grants.iter().find_map(|g| match g {
            ParticipantGrant::Room { scope } => Some(scope.as_str()),
            _ => None,
        })
    }

    /// The role, as the SDKs read it: the first `role` grant other than `user`, else `user`.
    pub fn role(&self) -> ParticipantRole {
        self.grants
            .iter()
            .find_map(|g| match g {
                ParticipantGrant::Role { scope } if *scope != ParticipantRole::User => {
                    Some(scope.clone())
                }
                _ => None,
            })
            .unwrap_or(ParticipantRole::User)
    }

    /// The API permissions (the `api` grant).
    pub fn api_scope(&self) -> Option<&ApiScope> {
        self.grants.iter().find_map(|g| match g {
            ParticipantGrant::Api { scope } => Some(scope),
            _ => None,
        })
    }

    /// The claims as JSON, in the SDKs' order (other claims, `exp`, `name`, `grants`, `sub`,
    /// `kid`, `version`). The `api` scope is written without nulls, as Python writes it.
    pub fn to_claims(&self) -> Result<Map<String, Value>, TokenError> {
        let mut claims = self.extra.clone();
        if let Some(exp) = self.expires_at {
            claims.insert("exp".into(), exp.into());
        }
        claims.insert("name".into(), self.name.clone().into());
        let mut grants = Vec::with_capacity(self.grants.len());
        for g in &self.grants {
            let mut value =
                serde_json::to_value(g).map_err(|e| TokenError::Claims(bounded(e.to_string())))?;
            if let ParticipantGrant::Api { .. } = g {
                if let Some(scope) = value.get_mut("scope") {
                    drop_nulls(scope);
                }
            }
            grants.push(value);
        }
        claims.insert("grants".into(), Value::Array(grants));
        for (key, value) in [
            ("sub", &self.project_id),
            ("kid", &self.api_key_id),
            ("version", &self.version),
        ] {
            if let Some(v) = value {
                claims.insert(key.into(), v.clone().into());
            }
        }
        Ok(claims)
    }

    /// Reads claims as the SDKs do: `name` (a non-empty string) and `grants` (a list) are
    /// required, each grant is an object with `name` and `scope`, an `api` grant's scope must
    /// be an ApiScope (other grants are kept whatever their scope, as the SDKs keep them);
    /// `sub`, `kid`, `version` and `exp` are taken out, the rest kept.
    pub fn from_claims(mut claims: Map<String, Value>) -> Result<ParticipantToken, TokenError> {
        let name = match claims.remove("name") {
            None => return Err(TokenError::MissingClaim("name")),
            Some(Value::String(s)) if !s.trim().is_empty() => s,
            Some(_) => return Err(TokenError::InvalidClaim("name", "not a non-empty string")),
        };
        let grants = match claims.remove("grants") {
            None => return Err(TokenError::MissingClaim("grants")),
            Some(Value::Array(list)) => list,
            Some(_) => return Err(TokenError::InvalidClaim("grants", "not a list")),
        };
        let grants = grants
            .into_iter()
            .map(read_grant)
            .collect::<Result<Vec<_>, _>>()?;
        let mut text = |key: &'static str| match claims.remove(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(TokenError::InvalidClaim(key, "not a string")),
        };
        let (project_id, api_key_id, version) = (text("sub")?, text("kid")?, text("version")?);
        let expires_at = match claims.remove("exp") {
            None => None,
            // PyJWT accepts any number that converts to an integer.
            Some(Value::Number(n)) => match (n.as_u64(), n.as_f64()) {
                (Some(v), _) => Some(v),
                (None, Some(f)) if f >= 0.0 && f.is_finite() => Some(f as u64),
                _ => return Err(TokenError::InvalidClaim("exp", "not a time")),
            },
            Some(_) => return Err(TokenError::InvalidClaim("exp", "not a number")),
        };
        Ok(ParticipantToken {
            name,
            grants,
            project_id,
            api_key_id,
            version,
            expires_at,
            extra: claims,
        })
    }
}

/// One grant, checked as Python's `ParticipantGrant.from_json` checks it.
fn read_grant(value: Value) -> Result<ParticipantGrant, TokenError> {
    let Value::Object(object) = &value else {
        return Err(TokenError::InvalidClaim(
            "grants",
            "a grant is not an object",
        ));
    };
    if !object.contains_key("scope") {
        return Err(TokenError::InvalidClaim("grants", "a grant has no `scope`"));
    }
    let is_api = match object.get("name") {
        Some(Value::String(n)) => n == "api",
        Some(_) => false,
        None => return Err(TokenError::InvalidClaim("grants", "a grant has no `name`")),
    };
    let grant: ParticipantGrant =
        serde_json::from_value(value).map_err(|e| TokenError::Claims(bounded(e.to_string())))?;
    // An `api` grant kept as `Other` had a scope that is not an ApiScope: Python rejects it
    // too. Other grants keep any scope, as the SDKs keep it.
    match grant {
        ParticipantGrant::Other(_) if is_api => Err(TokenError::InvalidClaim(
            "grants",
            "the `api` grant's scope is not an ApiScope",
        )),
        grant => Ok(grant),
    }
}

/// The `name` of a grant kept as raw JSON.
fn grant_name(g: &ParticipantGrant) -> Option<&str> {
    match g {
        ParticipantGrant::Other(v) => v.get("name").and_then(Value::as_str),
        _ => None,
    }
}

/// Removes every null member (Python's `exclude_none`), at any depth.
fn drop_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(drop_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}
