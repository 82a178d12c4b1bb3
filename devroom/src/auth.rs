//! Token checks: what decides who may join and under which name.

use base64::Engine;
use serde_json::Value;

/// Who a token admits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The participant's `name` attribute.
    pub name: String,
}

/// Why a token was refused: answered as the HTTP status of the websocket upgrade.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// 401 (no or malformed token) or 403 (a token that is not allowed).
    pub status: u16,
    /// Shown in the response body.
    pub reason: String,
}

impl Refusal {
    /// A 401 refusal.
    pub fn unauthorized(reason: impl Into<String>) -> Refusal {
        Refusal {
            status: 401,
            reason: reason.into(),
        }
    }

    /// A 403 refusal.
    pub fn forbidden(reason: impl Into<String>) -> Refusal {
        Refusal {
            status: 403,
            reason: reason.into(),
        }
    }
}

/// Checks the raw participant token of a connection (from `Authorization: Bearer` or the
/// `token` query parameter; `None` when there is neither) for the room `room`.
pub trait TokenCheck: Send + Sync + 'static {
    /// The identity the token admits, or why it is refused.
    fn check(&self, room: &str, token: Option<&str>) -> Result<Identity, Refusal>;
}

impl<F> TokenCheck for F
where
    F: Fn(&str, Option<&str>) -> Result<Identity, Refusal> + Send + Sync + 'static,
{
    fn check(&self, room: &str, token: Option<&str>) -> Result<Identity, Refusal> {
        self(room, token)
    }
}

/// The default check: any token (or none) is accepted, unverified. The name is the `name`
/// claim of the token's JWT payload when there is one, else `participant`.
#[derive(Debug, Clone, Copy, Default)]
pub struct AcceptAnyToken;

impl TokenCheck for AcceptAnyToken {
    fn check(&self, _room: &str, token: Option<&str>) -> Result<Identity, Refusal> {
        let name = token
            .and_then(unverified_name)
            .unwrap_or_else(|| "participant".to_string());
        Ok(Identity { name })
    }
}

/// The `name` claim of a JWT's payload, read without checking the signature.
fn unverified_name(token: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    // Bounded: a payload is a few hundred bytes; a huge one is not a token we read.
    if payload.len() > 16 * 1024 {
        return None;
    }
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    claims
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_comes_from_the_unverified_payload() {
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"name":"zoe"}"#);
        let token = format!("e30.{payload}.sig");
        let id = AcceptAnyToken.check("r", Some(&token));
        assert_eq!(id.map(|i| i.name), Ok("zoe".to_string()));
        let id = AcceptAnyToken.check("r", Some("not-a-jwt"));
        assert_eq!(id.map(|i| i.name), Ok("participant".to_string()));
        assert_eq!(
            AcceptAnyToken.check("r", None).map(|i| i.name),
            Ok("participant".to_string())
        );
    }
}
