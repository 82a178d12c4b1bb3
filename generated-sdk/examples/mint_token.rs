//! Mints a narrow token for another participant with the API key in `MESHAGENT_API_KEY`:
//! one room, one role, and storage under one path only (read-only). Prints the JWT, which
//! is a secret: hand it to that participant (e.g. as its `MESHAGENT_TOKEN`), never log it.
//!
//! ```sh
//! MESHAGENT_API_KEY=ma-… cargo run --example mint_token -- my-room reviewer /reports
//! ```

use meshagent_room::auth::{verify, ApiKey, ParticipantToken};
use meshagent_room::types::{ApiScope, ParticipantRole, StorageGrant, StoragePathGrant};

fn main() {
    if let Err(e) = run() {
        eprintln!("mint_token: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(room), Some(name), Some(path)) = (args.next(), args.next(), args.next()) else {
        return Err("usage: mint_token <room> <participant name> <storage path>".into());
    };
    let key = ApiKey::parse(&std::env::var("MESHAGENT_API_KEY")?)?;

    // Only storage, and only `path`, read-only; every other API is left out (no access).
    let mut only_path = StoragePathGrant::new(path);
    only_path.read_only = Some(true);
    let mut storage = StorageGrant::new();
    storage.paths = Some(vec![only_path]);
    let mut scope = ApiScope::new();
    scope.storage = Some(storage);

    let jwt = ParticipantToken::new(name)
        .with_room(room)
        .with_role(ParticipantRole::User)
        .with_api(scope)
        .expires_at(unix_now() + 3600)
        .sign_with_api_key(&key)?;

    // What the room will read from it.
    let claims = verify(jwt.expose(), key.secret())?;
    eprintln!(
        "token for {:?} in room {:?}, expires at {:?}",
        claims.name,
        claims.room(),
        claims.expires_at
    );
    println!("{}", jwt.expose());
    Ok(())
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}
