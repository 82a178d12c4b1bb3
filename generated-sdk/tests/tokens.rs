//! Participant tokens: signing and verifying round trips, every refusal as a typed error,
//! no secret in any error or `Debug` output, the claims as the SDKs write them, and a token
//! made by the Python SDK 0.56.0 read here (the live interop with both SDKs runs in
//! `conformance/tokens/run.sh`).
#![cfg(feature = "tokens")]

use std::time::{SystemTime, UNIX_EPOCH};

use meshagent_room::auth::{decode_unverified, verify, ApiKey, ParticipantToken, TokenError};
use meshagent_room::types::{ApiScope, ParticipantGrant, ParticipantRole};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};

const SECRET: &str = "the-very-secret-signing-key";
const KEY_ID: &str = "0b3c5d7e-9f10-4a2b-8c3d-4e5f60718293";
const PROJECT: &str = "ffeeddcc-bbaa-4998-8877-665544332211";

fn key() -> ApiKey {
    ApiKey::new(KEY_ID, PROJECT, SECRET).expect("a valid key")
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// A JWT over any claims, signed with `secret` (to make payloads the builder cannot).
fn raw_jwt(claims: Value, secret: &str) -> String {
    let key = jsonwebtoken::EncodingKey::from_secret(secret.as_bytes());
    jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key).expect("encode")
}

fn assert_no_secret(text: &str) {
    assert!(!text.contains(SECRET), "the secret leaked: {text}");
}

#[test]
fn signed_with_an_api_key_it_verifies_with_equal_claims() -> Result<(), TokenError> {
    let mut made = ParticipantToken::new("worker-1")
        .with_room("my-room")
        .with_role(ParticipantRole::Agent)
        .with_tunnel_ports(&[8080, 9000])
        .with_api(ApiScope::full())
        .expires_at(now() + 600);
    made.extra.insert("custom".into(), json!({"a": [1, 2]}));
    let jwt = made.sign_with_api_key(&key())?;
    let read = verify(jwt.expose(), key().secret())?;
    // Signing with the key sets `kid` and `sub`; everything else comes back as it was.
    made.api_key_id = Some(KEY_ID.into());
    made.project_id = Some(PROJECT.into());
    assert_eq!(read, made);
    assert_eq!(read.room(), Some("my-room"));
    assert_eq!(read.role(), ParticipantRole::Agent);
    assert_eq!(read.api_scope(), Some(&ApiScope::full()));
    assert_eq!(
        read.version.as_deref(),
        Some(meshagent_room::protocol::VERSION)
    );
    Ok(())
}

#[test]
fn a_bare_secret_keeps_sub_and_kid_as_set() -> Result<(), TokenError> {
    let mut made = ParticipantToken::new("u").with_room("r");
    made.project_id = Some("p".into());
    let secret = SecretString::from(SECRET);
    let read = verify(made.sign_with_secret(&secret)?.expose(), &secret)?;
    assert_eq!(read.project_id.as_deref(), Some("p"));
    assert_eq!(read.api_key_id, None);
    assert_eq!(read.role(), ParticipantRole::User);
    Ok(())
}

#[test]
fn claims_are_written_as_the_sdks_write_them() -> Result<(), TokenError> {
    let mut scope = ApiScope::new();
    scope.queues = Some(meshagent_room::types::QueuesGrant::new());
    let claims = ParticipantToken::new("n")
        .with_room("r")
        .with_api(scope)
        .to_claims()?;
    // Python's `model_dump(exclude_none=True, exclude_defaults=True)`: no nulls at all.
    assert_eq!(
        Value::Object(claims),
        json!({
            "name": "n",
            "grants": [{"name": "room", "scope": "r"}, {"name": "api", "scope": {"queues": {}}}],
            "version": meshagent_room::protocol::VERSION,
        })
    );
    Ok(())
}

#[test]
fn only_one_api_grant() {
    let t = ParticipantToken::new("n")
        .with_api(ApiScope::full())
        .with_api(ApiScope::user_default());
    let apis = t
        .grants
        .iter()
        .filter(|g| matches!(g, ParticipantGrant::Api { .. }))
        .count();
    assert_eq!(apis, 1);
    assert_eq!(t.api_scope(), Some(&ApiScope::user_default()));
}

#[test]
fn unknown_grants_and_claims_are_kept() -> Result<(), TokenError> {
    let claims = json!({
        "name": "n",
        "grants": [{"name": "future", "scope": {"x": 1}}, {"name": "role", "scope": "admin"}],
        "aud": "someone",
    });
    let read = verify(&raw_jwt(claims, SECRET), &SECRET.into())?;
    assert_eq!(
        read.grants[0],
        ParticipantGrant::Other(json!({"name": "future", "scope": {"x": 1}}))
    );
    assert_eq!(read.role(), ParticipantRole::Other("admin".into()));
    assert_eq!(read.extra.get("aud"), Some(&json!("someone")));
    // And written back unchanged.
    let again = read.to_claims()?;
    assert_eq!(
        again.get("grants"),
        Some(&json!([{"name": "future", "scope": {"x": 1}}, {"name": "role", "scope": "admin"}]))
    );
    Ok(())
}

/// Every refusal, with what it must be.
#[test]
fn bad_tokens_are_typed_errors_without_the_secret() {
    let secret = SecretString::from(SECRET);
    let valid = |claims: Value| raw_jwt(claims, SECRET);
    let cases: Vec<(&str, String, TokenError)> = vec![
        (
            "another key's signature",
            raw_jwt(json!({"name": "n", "grants": []}), "another-secret"),
            TokenError::BadSignature,
        ),
        (
            "expired",
            valid(json!({"name": "n", "grants": [], "exp": now() - 5})),
            TokenError::Expired,
        ),
        (
            "not valid yet",
            valid(json!({"name": "n", "grants": [], "nbf": now() + 600})),
            TokenError::NotYetValid,
        ),
        (
            "no name",
            valid(json!({"grants": []})),
            TokenError::MissingClaim("name"),
        ),
        (
            "no grants",
            valid(json!({"name": "n"})),
            TokenError::MissingClaim("grants"),
        ),
        (
            "empty name",
            valid(json!({"name": " ", "grants": []})),
            TokenError::InvalidClaim("name", "not a non-empty string"),
        ),
        (
            "grants not a list",
            valid(json!({"name": "n", "grants": {}})),
            TokenError::InvalidClaim("grants", "not a list"),
        ),
        (
            "a grant without scope",
            valid(json!({"name": "n", "grants": [{"name": "room"}]})),
            TokenError::InvalidClaim("grants", "a grant has no `scope`"),
        ),
        (
            "a malformed api scope",
            valid(json!({"name": "n", "grants": [{"name": "api", "scope": {"queues": 5}}]})),
            TokenError::InvalidClaim("grants", "the `api` grant's scope is not an ApiScope"),
        ),
        (
            "sub not a string",
            valid(json!({"name": "n", "grants": [], "sub": 5})),
            TokenError::InvalidClaim("sub", "not a string"),
        ),
    ];
    for (what, jwt, expected) in cases {
        let got = verify(&jwt, &secret);
        assert_eq!(got.as_ref().err(), Some(&expected), "{what}");
        if let Err(e) = got {
            assert_no_secret(&format!("{e} {e:?} {e:#?}"));
        }
    }
    for garbage in ["", "abc", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.e30"] {
        assert!(
            matches!(verify(garbage, &secret), Err(TokenError::Malformed(_))),
            "{garbage:?}"
        );
    }
    // Another algorithm (HS512) is refused even with the right secret.
    let hs512 = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS512),
        &json!({"name": "n", "grants": []}),
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap_or_default();
    assert!(matches!(
        verify(&hs512, &secret),
        Err(TokenError::Malformed(_))
    ));
}

#[test]
fn decoding_without_verification_is_its_own_function() -> Result<(), TokenError> {
    let forged = raw_jwt(json!({"name": "n", "grants": [], "exp": 1}), "anyone");
    assert_eq!(
        verify(&forged, &SECRET.into()).err(),
        Some(TokenError::BadSignature)
    );
    let read = decode_unverified(&forged)?;
    assert_eq!(read.name, "n");
    assert_eq!(read.expires_at, Some(1));
    assert_eq!(
        decode_unverified(&raw_jwt(json!({"grants": []}), "x")).err(),
        Some(TokenError::MissingClaim("name"))
    );
    Ok(())
}

#[test]
fn nothing_shows_a_secret() -> Result<(), TokenError> {
    let key = key();
    let jwt = ParticipantToken::new("n").sign_with_api_key(&key)?;
    let encoded = key.encode();
    let shown = format!("{key:?} {jwt:?} {:?} {:?}", key.secret(), encoded);
    assert_no_secret(&shown);
    assert!(!shown.contains(jwt.expose()));
    assert!(!shown.contains(encoded.expose_secret()));
    // A malformed key's error does not repeat it.
    let bad = format!("mb-{}", &encoded.expose_secret()[3..]);
    let e = ApiKey::parse(&bad).err().map(|e| format!("{e} {e:?}"));
    assert_no_secret(&e.unwrap_or_default());
    Ok(())
}

/// A token made by the Python SDK 0.56.0 (`ParticipantToken.to_jwt(api_key=...)`, with the
/// key below made by its `encode_api_key`).
#[cfg(not(feature = "protocol-0-35-8"))]
#[test]
fn a_python_token_verifies_here() -> Result<(), TokenError> {
    const PY_KEY: &str = "ma-Czxdfp8QSiuMPU5fYHGCkw-_.7dzLuqSZiId2ZVRDMiEQ-fixture-secret";
    const PY_JWT: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJjdXN0b20iOnsiYSI6WzEsMl19LCJuYW1lIjoicHktYWdlbnQiLCJncmFudHMiOlt7Im5hbWUiOiJyb29tIiwic2NvcGUiOiJteS1yb29tIn0seyJuYW1lIjoicm9sZSIsInNjb3BlIjoiYWdlbnQifSx7Im5hbWUiOiJhcGkiLCJzY29wZSI6eyJsaXZla2l0Ijp7fSwicXVldWVzIjp7fSwibWVzc2FnaW5nIjp7fSwiZGF0YXNldCI6e30sInNxbGl0ZSI6e30sIm1lbW9yeSI6e30sInN5bmMiOnt9LCJzdG9yYWdlIjp7fSwiY29udGFpbmVycyI6e30sImRldmVsb3BlciI6e30sImFnZW50cyI6e30sImxsbSI6e30sInNlcnZpY2VzIjp7fX19XSwidmVyc2lvbiI6IjAuNTYuMCIsImtpZCI6IjBiM2M1ZDdlLTlmMTAtNGEyYi04YzNkLTRlNWY2MDcxODI5MyIsInN1YiI6ImZmZWVkZGNjLWJiYWEtNDk5OC04ODc3LTY2NTU0NDMzMjIxMSJ9.nEzNnUBhXrrICPfUDFQUq1kvmGRunjvAAl0K7D8h680";
    let key = ApiKey::parse(PY_KEY)?;
    assert_eq!((key.id(), key.project_id()), (KEY_ID, PROJECT));
    assert_eq!(key.encode().expose_secret(), PY_KEY);
    let read = verify(PY_JWT, key.secret())?;
    let mut expected = ParticipantToken::new("py-agent")
        .with_room("my-room")
        .with_role(ParticipantRole::Agent)
        .with_api(ApiScope::agent_default(false));
    expected.api_key_id = Some(KEY_ID.into());
    expected.project_id = Some(PROJECT.into());
    expected.version = Some("0.56.0".into());
    let mut extra = serde_json::Map::new();
    extra.insert("custom".into(), json!({"a": [1, 2]}));
    expected.extra = extra;
    assert_eq!(read, expected);
    Ok(())
}
