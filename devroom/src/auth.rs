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

/// Verifies participant tokens as a MeshAgent room does: an HS256 JWT signed with the
/// project's secret (`meshagent_room::auth::verify`: signature, `exp`/`nbf`, claims). A
/// token whose room grant names another room is refused with 403; no token, a bad one or
/// an expired one with 401. The name is the token's `name` claim.
pub struct VerifyTokens {
    secret: meshagent_room::auth::SecretString,
}

impl VerifyTokens {
    /// Checks tokens against `secret`: a bare secret, or an API key in its `ma-…` form
    /// (whose secret is then used).
    pub fn new(secret_or_api_key: &str) -> Result<VerifyTokens, meshagent_room::auth::TokenError> {
        let secret = if secret_or_api_key.starts_with("ma-") {
            meshagent_room::auth::ApiKey::parse(secret_or_api_key)?
                .secret()
                .clone()
        } else {
            secret_or_api_key.to_owned().into()
        };
        Ok(VerifyTokens { secret })
    }
}

impl std::fmt::Debug for VerifyTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VerifyTokens { secret: [redacted] }")
    }
}

impl TokenCheck for VerifyTokens {
    fn check(&self, room: &str, token: Option<&str>) -> Result<Identity, Refusal> {
        let token =
            token.ok_or_else(|| Refusal::unauthorized("a participant token is required"))?;
        let claims = meshagent_room::auth::verify(token, &self.secret)
            .map_err(|e| Refusal::unauthorized(format!("the token is refused: {e}")))?;
        match claims.room() {
            Some(granted) if granted != room => Err(Refusal::forbidden(format!(
                "the token is for room `{granted}`, not `{room}`"
            ))),
            _ => Ok(Identity { name: claims.name }),
        }
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
    use meshagent_room::auth::ExposeSecret;
    use meshagent_room::auth::{ApiKey, ParticipantToken};

    #[test]
    fn verified_tokens_admit_their_name_and_room_only() {
        let key = ApiKey::new(
            "5f0e4a7e-9a43-4c43-8f1c-1f7a9f3c2b11",
            "a3c1e2d4-6b7f-4e8a-9c0d-2e3f4a5b6c7d",
            "s3cret".to_string(),
        )
        .expect("a valid key");
        let check = VerifyTokens::new(key.encode().expose_secret()).expect("an API key");
        let token = ParticipantToken::new("ada")
            .with_room("lab")
            .sign_with_api_key(&key)
            .expect("signs");
        let jwt = token.expose();
        assert_eq!(
            check.check("lab", Some(jwt)).map(|i| i.name),
            Ok("ada".into())
        );
        assert_eq!(
            check.check("other", Some(jwt)).map_err(|r| r.status),
            Err(403)
        );
        assert_eq!(check.check("lab", None).map_err(|r| r.status), Err(401));
        let forged = ParticipantToken::new("eve")
            .sign_with_secret(&meshagent_room::auth::SecretString::from(
                "wrong".to_string(),
            ))
            .expect("signs");
        let refused = check.check("lab", Some(forged.expose()));
        assert_eq!(refused.as_ref().map_err(|r| r.status), Err(401));
        assert!(!format!("{check:?}").contains("s3cret"));
    }

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
