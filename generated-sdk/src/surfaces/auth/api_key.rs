//! API keys in the SDKs' `ma-…` form (Python `meshagent/api/keys.py`, TS `api_keys.js`):
//! `ma-<key id>-<project id>-<secret>`, each id a UUID's 16 bytes in URL-safe base64 without
//! padding, its `-` written as `.` (so that `-` only separates the parts).

use std::fmt;
use std::str::FromStr;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

use super::TokenError;

const PREFIX: &str = "ma-";

/// An API key: its id, its project's id (both UUIDs, hyphenated lowercase) and the secret
/// that signs participant tokens. `Debug` shows the ids, never the secret.
#[derive(Clone)]
pub struct ApiKey {
    id: String,
    project_id: String,
    secret: SecretString,
}

impl ApiKey {
    /// An API key from its parts; `id` and `project_id` are UUIDs (any form the `uuid` crate
    /// reads, as Python's `uuid.UUID(hex=...)` does), kept hyphenated and lowercase.
    pub fn new(
        id: &str,
        project_id: &str,
        secret: impl Into<SecretString>,
    ) -> Result<ApiKey, TokenError> {
        let id = Uuid::parse_str(id).map_err(|_| TokenError::ApiKey("the key id is not a UUID"))?;
        let project_id = Uuid::parse_str(project_id)
            .map_err(|_| TokenError::ApiKey("the project id is not a UUID"))?;
        let secret = secret.into();
        if secret.expose_secret().is_empty() {
            return Err(TokenError::ApiKey("the secret is empty"));
        }
        Ok(ApiKey {
            id: id.hyphenated().to_string(),
            project_id: project_id.hyphenated().to_string(),
            secret,
        })
    }

    /// Parses a key in the `ma-…` form (Python `parse_api_key`, TS `parseApiKey`). The error
    /// says which part is wrong and never repeats the key.
    pub fn parse(key: &str) -> Result<ApiKey, TokenError> {
        let rest = key
            .strip_prefix(PREFIX)
            .ok_or(TokenError::ApiKey("it does not start with `ma-`"))?;
        let mut parts = rest.splitn(3, '-');
        let (Some(id), Some(project), Some(secret)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::ApiKey(
                "it needs three parts: `ma-<key id>-<project id>-<secret>`",
            ));
        };
        let id = decompress_uuid(id).ok_or(TokenError::ApiKey("the key id part is malformed"))?;
        let project_id = decompress_uuid(project)
            .ok_or(TokenError::ApiKey("the project id part is malformed"))?;
        if secret.is_empty() {
            return Err(TokenError::ApiKey("the secret is empty"));
        }
        Ok(ApiKey {
            id,
            project_id,
            secret: SecretString::from(secret),
        })
    }

    /// The key in the `ma-…` form (Python `encode_api_key`): a secret, since it holds one.
    pub fn encode(&self) -> SecretString {
        SecretString::from(format!(
            "{PREFIX}{}-{}-{}",
            compress_uuid(&self.id),
            compress_uuid(&self.project_id),
            self.secret.expose_secret()
        ))
    }

    /// The key's id (the tokens' `kid` claim).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The project's id (the tokens' `sub` claim).
    pub fn project_id(&self) -> &str {
        &self.project_id
    }

    /// The secret that signs tokens (HS256).
    pub fn secret(&self) -> &SecretString {
        &self.secret
    }
}

impl FromStr for ApiKey {
    type Err = TokenError;

    fn from_str(key: &str) -> Result<ApiKey, TokenError> {
        ApiKey::parse(key)
    }
}

impl PartialEq for ApiKey {
    fn eq(&self, other: &ApiKey) -> bool {
        self.id == other.id
            && self.project_id == other.project_id
            && self.secret.expose_secret() == other.secret.expose_secret()
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKey")
            .field("id", &self.id)
            .field("project_id", &self.project_id)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// A hyphenated UUID as 22 URL-safe base64 characters, `-` written as `.` (Python
/// `base64_compress_uuid`). `id` was checked by [`ApiKey::new`] or made by [`decompress_uuid`].
fn compress_uuid(id: &str) -> String {
    let bytes = Uuid::parse_str(id)
        .map(|u| *u.as_bytes())
        .unwrap_or_default();
    URL_SAFE_NO_PAD.encode(bytes).replace('-', ".")
}

/// The inverse of [`compress_uuid`]: `None` unless the part is exactly 16 bytes of URL-safe
/// base64 (the SDKs reject other lengths too).
fn decompress_uuid(part: &str) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD.decode(part.replace('.', "-")).ok()?;
    let bytes: [u8; 16] = bytes.try_into().ok()?;
    Some(Uuid::from_bytes(bytes).hyphenated().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0b3c5d7e-9f10-4a2b-8c3d-4e5f60718293";
    const PROJECT: &str = "ffeeddcc-bbaa-4998-8877-665544332211";

    #[test]
    fn round_trips_and_hides_the_secret() -> Result<(), TokenError> {
        let key = ApiKey::new(ID, PROJECT, "s3cr3t-with-dashes")?;
        let text = key.encode();
        assert!(text.expose_secret().starts_with("ma-"));
        let back = ApiKey::parse(text.expose_secret())?;
        assert_eq!(back, key);
        assert_eq!(back.id(), ID);
        assert_eq!(back.project_id(), PROJECT);
        assert_eq!(back.secret().expose_secret(), "s3cr3t-with-dashes");
        assert!(!format!("{back:?}").contains("s3cr3t"));
        Ok(())
    }

    #[test]
    fn malformed_keys_are_typed_errors_without_the_key() {
        let good = ApiKey::new(ID, PROJECT, "topsecret")
            .map(|k| k.encode().expose_secret().to_string())
            .unwrap_or_default();
        let cut = good.trim_end_matches("topsecret").to_string();
        for bad in [
            "",
            "topsecret",
            "mb-abc-def-topsecret",
            "ma-topsecret",
            "ma-AAAA-topsecret",
            "ma-!!!-AAAAAAAAAAAAAAAAAAAAAA-topsecret",
            "ma-AAAAAAAAAAAAAAAAAAAAAA-AAAA-topsecret",
            cut.as_str(),
        ] {
            match ApiKey::parse(bad) {
                Err(e @ TokenError::ApiKey(_)) => {
                    assert!(!e.to_string().contains("topsecret"), "{e}");
                    assert!(!format!("{e:?}").contains("topsecret"), "{e:?}");
                }
                other => panic!("{bad:?} gave {other:?}"),
            }
        }
        assert!(ApiKey::new("not-a-uuid", PROJECT, "x").is_err());
    }
}
