//! Joining from the environment: a client given only `MESHAGENT_API_KEY` and
//! `MESHAGENT_ROOM` (plus `MESHAGENT_ROOM_URL`, which points at the loopback) joins a room
//! that verifies its token with [`verify`] and refuses a bad one with 401. The environment
//! is a map ([`Connect::from_env_with`]), so no test touches the process's variables;
//! `RoomClient::from_env` itself runs in `conformance/tokens/run.sh` (the example
//! `join_from_env` against a room that verifies tokens with the Python SDK).
#![cfg(feature = "tokens")]

mod support;

use std::collections::HashMap;

use meshagent_room::auth::{verify, ApiKey, ParticipantToken, SecretString, TokenError};
use meshagent_room::types::ApiScope;
use meshagent_room::{Connect, Error};
use support::{listen, within, WsPeer};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::StatusCode;

const SECRET: &str = "room-secret-for-the-env-test";
const ROOM: &str = "test-room";

fn key(secret: &str) -> ApiKey {
    ApiKey::new(
        "0b3c5d7e-9f10-4a2b-8c3d-4e5f60718293",
        "ffeeddcc-bbaa-4998-8877-665544332211",
        secret,
    )
    .expect("a valid key")
}

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn connect(vars: &HashMap<String, String>) -> meshagent_room::Result<Connect> {
    Connect::from_env_with("env-worker", |name| vars.get(name).cloned())
}

/// The JWT where the protocol carries it: the `Authorization` header (0.56) or the
/// `token` query parameter (0.35.8).
fn presented(req: &Request) -> Option<String> {
    if meshagent_room::protocol::TOKEN_IN_HEADER {
        let auth = req.headers().get("authorization")?.to_str().ok()?;
        return auth.strip_prefix("Bearer ").map(str::to_owned);
    }
    let query = req.uri().query()?;
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
}

/// A room that accepts one client only with a token that verifies with `secret` and grants
/// this room; it returns what it read from the token (or why it refused).
async fn verifying_room(
    listener: TcpListener,
    secret: SecretString,
) -> Result<(WsPeer, ParticipantToken), String> {
    let (tcp, _) = listener.accept().await.map_err(|e| e.to_string())?;
    let mut outcome: Result<ParticipantToken, String> = Err("no request".into());
    let mut request_uri = String::new();
    let mut authorization = None;
    // The error type is fixed by tungstenite's `Callback` signature.
    #[allow(clippy::result_large_err)]
    let callback = |req: &Request, resp: Response| -> Result<Response, ErrorResponse> {
        request_uri = req.uri().to_string();
        authorization = req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        outcome = match presented(req) {
            None => Err("no token".into()),
            Some(jwt) => verify(&jwt, &secret)
                .map_err(|e| e.to_string())
                .and_then(|t| match t.room() {
                    Some(ROOM) => Ok(t),
                    other => Err(format!("token for room {other:?}")),
                }),
        };
        match &outcome {
            Ok(_) => Ok(resp),
            Err(_) => {
                let mut refusal = ErrorResponse::new(Some("bad token".into()));
                *refusal.status_mut() = StatusCode::UNAUTHORIZED;
                Err(refusal)
            }
        }
    };
    let accepted = tokio_tungstenite::accept_hdr_async(tcp, callback).await;
    let token = outcome?;
    let ws = accepted.map_err(|e| e.to_string())?;
    let mut peer = WsPeer {
        ws,
        reassembler: Default::default(),
        next_id: 1000,
        request_uri,
        authorization,
        extensions: None,
    };
    peer.handshake().await;
    Ok((peer, token))
}

#[tokio::test]
async fn an_api_key_and_a_room_name_are_enough() {
    let (listener, url) = listen().await;
    let base = format!("ws://{}", url.authority());
    let key = key(SECRET);
    let encoded = key.encode();
    use secrecy::ExposeSecret;
    let vars = env(&[
        ("MESHAGENT_API_KEY", encoded.expose_secret()),
        ("MESHAGENT_ROOM", ROOM),
        ("MESHAGENT_ROOM_URL", &base),
    ]);
    let connect = connect(&vars).expect("the environment names a room");
    assert_eq!(connect.room_url().as_str(), format!("{base}/rooms/{ROOM}"));
    let room = tokio::spawn(verifying_room(listener, key.secret().clone()));
    let (client, _events) = within("joining", connect).await.expect("joined");
    let (peer, token) = room
        .await
        .expect("room task")
        .expect("the room verified the token");
    // The token the client made: this participant, this room, the agent's default scope,
    // `kid` and `sub` from the API key; and the JWT went in the header (0.56).
    assert_eq!(token.name, "env-worker");
    assert_eq!(token.room(), Some(ROOM));
    assert_eq!(token.api_scope(), Some(&ApiScope::agent_default(false)));
    assert_eq!(token.api_key_id.as_deref(), Some(key.id()));
    assert_eq!(token.project_id.as_deref(), Some(key.project_id()));
    assert!(!peer.request_uri.contains(SECRET));
    if meshagent_room::protocol::TOKEN_IN_HEADER {
        assert!(!peer.request_uri.contains("token="));
        assert!(peer.authorization.is_some());
    }
    client.close().await;
}

#[tokio::test]
async fn a_token_signed_with_another_key_is_refused() {
    let (listener, url) = listen().await;
    let encoded = key("not-the-room-secret").encode();
    use secrecy::ExposeSecret;
    let vars = env(&[
        ("MESHAGENT_API_KEY", encoded.expose_secret()),
        ("MESHAGENT_ROOM", ROOM),
        ("MESHAGENT_ROOM_URL", &format!("http://{}", url.authority())),
    ]);
    let connect = connect(&vars).expect("the environment names a room");
    assert!(
        connect.room_url().as_str().starts_with("ws://"),
        "http -> ws"
    );
    let room = tokio::spawn(verifying_room(listener, SECRET.into()));
    let refused = within("the refusal", connect).await.err();
    let why = room.await.expect("room task").err();
    assert_eq!(
        why.as_deref(),
        Some(TokenError::BadSignature.to_string().as_str())
    );
    match refused {
        Some(Error::Connect { source, .. }) => assert_eq!(source.http_status(), Some(401)),
        other => panic!("expected a refused connect, got {other:?}"),
    }
}

#[tokio::test]
async fn a_ready_token_is_used_as_it_is() {
    let (listener, url) = listen().await;
    let jwt = ParticipantToken::new("given")
        .with_room(ROOM)
        .sign_with_secret(&SECRET.into())
        .expect("signed");
    let vars = env(&[
        ("MESHAGENT_TOKEN", jwt.expose()),
        // Ignored: a token is there.
        ("MESHAGENT_API_KEY", "ma-not-even-parsed"),
        ("MESHAGENT_ROOM", ROOM),
        ("MESHAGENT_API_URL", &format!("http://{}", url.authority())),
    ]);
    let connect = connect(&vars).expect("the environment names a room");
    let room = tokio::spawn(verifying_room(listener, SECRET.into()));
    let (client, _events) = within("joining", connect).await.expect("joined");
    let (_peer, token) = room.await.expect("room task").expect("verified");
    assert_eq!(token.name, "given");
    client.close().await;
}

#[test]
fn a_secret_with_the_ids_signs_too() {
    let (project, kid) = (
        "ffeeddcc-bbaa-4998-8877-665544332211",
        "0b3c5d7e-9f10-4a2b-8c3d-4e5f60718293",
    );
    let mut vars = env(&[("MESHAGENT_ROOM", ROOM), ("MESHAGENT_SECRET", SECRET)]);
    match connect(&vars) {
        Err(Error::Environment(m)) => {
            assert!(
                m.contains("MESHAGENT_PROJECT_ID") && m.contains("MESHAGENT_KEY_ID"),
                "{m}"
            )
        }
        other => panic!("expected the missing ids to be named, got {other:?}"),
    }
    vars.extend(env(&[
        ("MESHAGENT_PROJECT_ID", project),
        ("MESHAGENT_KEY_ID", kid),
    ]));
    assert!(connect(&vars).is_ok());
}

#[test]
fn urls_resolve_in_the_sdks_order() {
    let url = |pairs: &[(&str, &str)]| {
        let mut vars = env(pairs);
        vars.insert("MESHAGENT_ROOM".into(), ROOM.into());
        vars.insert("MESHAGENT_TOKEN".into(), "jwt".into());
        connect(&vars).map(|c| c.room_url().to_string()).ok()
    };
    let room = |base: &str| Some(format!("{base}/rooms/{ROOM}"));
    assert_eq!(url(&[]), room("wss://api.meshagent.com"));
    assert_eq!(
        url(&[("MESHAGENT_API_URL", "https://api.example")]),
        room("wss://api.example")
    );
    let profile = if cfg!(feature = "protocol-0-35-8") {
        // 0.35.8 has no profile URL.
        room("wss://api.example")
    } else {
        room("wss://profile.example")
    };
    assert_eq!(
        url(&[
            ("MESHAGENT_API_URL", "https://api.example"),
            ("MESHAGENT_PROFILE_API_URL", "https://profile.example"),
        ]),
        profile
    );
    assert_eq!(
        url(&[
            ("MESHAGENT_API_URL", "https://api.example"),
            ("MESHAGENT_PROFILE_API_URL", "https://profile.example"),
            ("MESHAGENT_ROOM_URL", "http://room.example:8080"),
            ("MESHAGENT_ROOM_URL_UNUSED", "x"),
        ]),
        room("ws://room.example:8080")
    );
    // An empty variable counts as unset.
    assert_eq!(
        url(&[
            ("MESHAGENT_ROOM_URL", ""),
            ("MESHAGENT_API_URL", "https://a.example")
        ]),
        room("wss://a.example")
    );
}

#[test]
fn what_is_missing_or_wrong_is_named() {
    let message = |pairs: &[(&str, &str)]| match connect(&env(pairs)) {
        Err(e) => e.to_string(),
        Ok(_) => String::new(),
    };
    let nothing = message(&[]);
    for var in ["MESHAGENT_ROOM", "MESHAGENT_TOKEN", "MESHAGENT_API_KEY"] {
        assert!(nothing.contains(var), "{nothing}");
    }
    let no_token = message(&[("MESHAGENT_ROOM", ROOM)]);
    assert!(
        no_token.contains("MESHAGENT_TOKEN") && no_token.contains("MESHAGENT_API_KEY"),
        "{no_token}"
    );
    let bad_room = message(&[("MESHAGENT_ROOM", "My Room"), ("MESHAGENT_TOKEN", "t")]);
    assert!(bad_room.contains("not a valid room name"), "{bad_room}");
    // A malformed key is a token error that does not repeat the key.
    let bad_key = "ma-zzz-yyy-the-hidden-part";
    match connect(&env(&[
        ("MESHAGENT_ROOM", ROOM),
        ("MESHAGENT_API_KEY", bad_key),
    ])) {
        Err(e @ Error::Token(TokenError::ApiKey(_))) => {
            let shown = format!("{e} {e:?}");
            assert!(!shown.contains("the-hidden-part"), "{shown}");
        }
        other => panic!("expected a malformed key error, got {other:?}"),
    }
}
