//! Token interop, Rust side: participant tokens and API keys made here are checked by the
//! official SDKs, and theirs here (`conformance/tokens/run.sh` runs both directions).
//!
//! ```sh
//! cargo run -q -p conformance --example token_interop -- make > rust.json
//! cargo run -q -p conformance --example token_interop -- check python.json
//! ```
//!
//! `make` prints a JSON list of cases: an API key (`ma-…`, or null for a bare secret), its
//! secret, the JWT signed here and the claims as signed. `check FILE` reads such a list made
//! by an SDK: the key must parse to the ids and secret the SDK reports and encode back to the
//! same text, the JWT must verify with the secret and read as the claims the SDK reports,
//! and must be refused with another secret. Exits 1 on any mismatch (2 on bad usage).

use std::process::ExitCode;

use meshagent_room::auth::{verify, ApiKey, ExposeSecret, ParticipantToken, SecretString};
use meshagent_room::types::{
    ApiScope, ParticipantGrant, ParticipantRole, StorageGrant, StoragePathGrant, TableGrant,
};
use serde_json::{json, Value};

const KEY_ID: &str = "4f1e9c2a-7b3d-4c5e-9a8b-0c1d2e3f4a5b";
const PROJECT: &str = "a0b1c2d3-e4f5-4677-8899-aabbccddeeff";
const SECRET: &str = "rust-made-secret-with-dashes-0123456789";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["make"] => make().map(|cases| println!("{cases}")),
        ["check", file] => check(file),
        _ => {
            eprintln!("usage: token_interop make | token_interop check FILE");
            return ExitCode::from(2);
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("token interop FAILED: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The tokens made here: the SDKs' default scopes, a narrow one, unknown grants and extra
/// claims, an expiry, and one signed with a bare secret.
fn make() -> Result<Value, String> {
    let key = ApiKey::new(KEY_ID, PROJECT, SECRET).map_err(|e| e.to_string())?;
    let mut narrow = ApiScope::new();
    let mut path = StoragePathGrant::new("/reports");
    path.read_only = Some(true);
    let mut storage = StorageGrant::new();
    storage.paths = Some(vec![path]);
    narrow.storage = Some(storage);
    let mut table = TableGrant::new("orders");
    table.write = Some(true);
    table.namespace = Some(vec!["shop".into()]);
    #[cfg(not(feature = "protocol-0-35-8"))]
    {
        let mut dataset = meshagent_room::types::DatasetGrant::new();
        dataset.tables = Some(vec![table]);
        narrow.dataset = Some(dataset);
    }
    #[cfg(feature = "protocol-0-35-8")]
    {
        let mut database = meshagent_room::types::DatabaseGrant::new();
        database.tables = Some(vec![table]);
        narrow.database = Some(database);
    }

    let mut agent = ParticipantToken::new("rust-agent")
        .with_room("test-room")
        .with_role(ParticipantRole::Agent)
        .with_api(ApiScope::agent_default(true))
        .expires_at(4_102_444_800); // 2100-01-01
    agent
        .extra
        .insert("custom".into(), json!({"nested": [1, "two", null]}));
    let user = ParticipantToken::new("rust-user")
        .with_room("test-room")
        .with_api(ApiScope::user_default());
    let mut full = ParticipantToken::new("rust-admin")
        .with_room("test-room")
        .with_tunnel_ports(&[8080, 9000])
        .with_api(ApiScope::full());
    full.grants.push(ParticipantGrant::Other(
        json!({"name": "future_grant", "scope": {"x": 1}}),
    ));
    let narrow = ParticipantToken::new("reviewer")
        .with_room("test-room")
        .with_role(ParticipantRole::User)
        .with_api(narrow);
    let mut bare = ParticipantToken::new("rust-bare").with_room("test-room");
    bare.project_id = Some(PROJECT.into());
    bare.api_key_id = Some("bare-kid".into());

    let mut cases = Vec::new();
    for (case, token) in [
        ("agent", agent),
        ("user", user),
        ("full", full),
        ("narrow", narrow),
    ] {
        let jwt = token
            .sign_with_api_key(&key)
            .map_err(|e| format!("{case}: {e}"))?;
        let claims = verify(jwt.expose(), key.secret()).and_then(|t| t.to_claims());
        cases.push(json!({
            "case": case,
            "key": key.encode().expose_secret(),
            "key_id": KEY_ID,
            "project_id": PROJECT,
            "secret": SECRET,
            "jwt": jwt.expose(),
            "claims": claims.map_err(|e| format!("{case}: {e}"))?,
        }));
    }
    let secret = SecretString::from("a-bare-secret");
    let jwt = bare.sign_with_secret(&secret).map_err(|e| e.to_string())?;
    cases.push(json!({
        "case": "bare secret",
        "key": null,
        "secret": "a-bare-secret",
        "jwt": jwt.expose(),
        "claims": bare.to_claims().map_err(|e| e.to_string())?,
    }));
    Ok(Value::Array(cases))
}

/// Checks the cases an SDK made (see the module doc).
fn check(file: &str) -> Result<(), String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}"))?;
    let cases: Vec<Value> = serde_json::from_str(&text).map_err(|e| format!("{file}: {e}"))?;
    if cases.is_empty() {
        return Err(format!("{file}: no cases"));
    }
    let mut failures = Vec::new();
    for case in &cases {
        let name = case["case"].as_str().unwrap_or("?");
        match check_case(case) {
            Ok(()) => println!("  ok: {name}"),
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    if failures.is_empty() {
        println!("{} cases verified here", cases.len());
        Ok(())
    } else {
        Err(failures.join("\n  "))
    }
}

fn check_case(case: &Value) -> Result<(), String> {
    let text = |k: &str| case[k].as_str().ok_or(format!("no `{k}`"));
    let secret = SecretString::from(text("secret")?);
    if let Some(encoded) = case["key"].as_str() {
        let key = ApiKey::parse(encoded).map_err(|e| format!("the key: {e}"))?;
        let parts = (key.id(), key.project_id(), key.secret().expose_secret());
        let expected = (text("key_id")?, text("project_id")?, secret.expose_secret());
        if parts != expected {
            return Err(format!(
                "the key reads as {parts:?}, the SDK says {expected:?}"
            ));
        }
        if key.encode().expose_secret() != encoded {
            return Err("the key does not encode back to the same text".into());
        }
    }
    let jwt = text("jwt")?;
    let read = verify(jwt, &secret).map_err(|e| format!("verify: {e}"))?;
    let claims = case["claims"]
        .as_object()
        .cloned()
        .ok_or("no `claims` object")?;
    let expected = ParticipantToken::from_claims(claims).map_err(|e| format!("claims: {e}"))?;
    if read != expected {
        return Err(format!(
            "the token reads as\n    {read:?}\n  the SDK says\n    {expected:?}"
        ));
    }
    if verify(jwt, &"another-secret".into()).is_ok() {
        return Err("it verifies with another secret".into());
    }
    Ok(())
}
