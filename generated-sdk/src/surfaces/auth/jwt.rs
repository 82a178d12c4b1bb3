//! Signing and verifying participant tokens: HS256 JWTs (jsonwebtoken), as both SDKs make
//! them (PyJWT / jose): header `{"alg":"HS256","typ":"JWT"}`, the claims of
//! [`ParticipantToken::to_claims`].

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};

use super::{ApiKey, ParticipantToken, TokenError};
use crate::core::transport::Token;

impl ParticipantToken {
    /// Signs the token with an API key, as the SDKs' `to_jwt(api_key=...)`: the key's id
    /// becomes `kid` and its project id `sub`, its secret signs.
    pub fn sign_with_api_key(&self, key: &ApiKey) -> Result<Token, TokenError> {
        let mut claims = self.to_claims()?;
        claims.insert("kid".into(), key.id().into());
        claims.insert("sub".into(), key.project_id().into());
        sign(&claims, key.secret())
    }

    /// Signs the token with a bare secret (the SDKs' `to_jwt(token=...)`); `sub` and `kid`
    /// are written as the token has them.
    pub fn sign_with_secret(&self, secret: &SecretString) -> Result<Token, TokenError> {
        sign(&self.to_claims()?, secret)
    }
}

fn sign(claims: &Map<String, Value>, secret: &SecretString) -> Result<Token, TokenError> {
    let key = EncodingKey::from_secret(secret.expose_secret().as_bytes());
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &key)
        .map(Token::new)
        .map_err(|e| TokenError::Sign(e.to_string()))
}

/// Verifies a participant token signed with `secret` (an API key's
/// [`ApiKey::secret`], or a bare one) and reads its claims: the signature must match (HS256
/// only), an `exp` must be in the future and an `nbf` in the past (no leeway, as PyJWT),
/// and the claims must be a participant token's ([`ParticipantToken::from_claims`]).
pub fn verify(jwt: &str, secret: &SecretString) -> Result<ParticipantToken, TokenError> {
    let mut validation = Validation::new(Algorithm::HS256);
    // The SDKs' tokens need not expire; an `exp` that is there is checked.
    validation.required_spec_claims.clear();
    validation.leeway = 0;
    validation.validate_nbf = true;
    // An `aud` claim is kept as an extra claim, as the SDKs keep it.
    validation.validate_aud = false;
    let key = DecodingKey::from_secret(secret.expose_secret().as_bytes());
    let data =
        jsonwebtoken::decode::<Map<String, Value>>(jwt, &key, &validation).map_err(jwt_error)?;
    ParticipantToken::from_claims(data.claims)
}

/// Reads a token's claims WITHOUT checking its signature or expiry: anyone can forge what
/// this returns. For showing what a token says, never for deciding what it may do.
pub fn decode_unverified(jwt: &str) -> Result<ParticipantToken, TokenError> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.insecure_disable_signature_validation();
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_aud = false;
    let key = DecodingKey::from_secret(&[]);
    let data =
        jsonwebtoken::decode::<Map<String, Value>>(jwt, &key, &validation).map_err(jwt_error)?;
    ParticipantToken::from_claims(data.claims)
}

fn jwt_error(e: jsonwebtoken::errors::Error) -> TokenError {
    match e.kind() {
        ErrorKind::InvalidSignature => TokenError::BadSignature,
        ErrorKind::ExpiredSignature => TokenError::Expired,
        ErrorKind::ImmatureSignature => TokenError::NotYetValid,
        ErrorKind::InvalidAlgorithm => TokenError::Malformed("not an HS256 token".into()),
        // The claims are not a JSON object, or a time claim is not a number.
        ErrorKind::Json(inner) => {
            TokenError::Claims(crate::core::error::bounded(inner.to_string()))
        }
        _ => TokenError::Malformed(e.to_string()),
    }
}
