//! `cargo run -p devroom -- [--port 7777] [--protocol auto|0.56|0.35.8] [--storage-dir DIR] [--secret S]`:
//! a local MeshAgent room at `ws://127.0.0.1:PORT/rooms/<room>`, in memory unless
//! `--storage-dir` is given. Prints `PORT <n>` once listening (for scripts using `--port 0`).

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use devroom::{DevRoom, DevRoomOptions, Dialect, ProtocolChoice, StorageOption};

/// A local MeshAgent room server.
#[derive(Parser, Debug)]
#[command(name = "devroom", version)]
struct Cli {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// Port to listen on (0: any free port).
    #[arg(long, default_value_t = 7777)]
    port: u16,
    /// Protocol version: `auto` decides per connection (a `v` of 0.47 or later means 0.56;
    /// an older or no `v` means 0.35.8), or force `0.56` / `0.35.8` for every connection.
    #[arg(long, default_value = "auto", value_parser = parse_protocol)]
    protocol: ProtocolChoice,
    /// Keep storage in this directory (one folder per room) instead of in memory.
    #[arg(long)]
    storage_dir: Option<PathBuf>,
    /// Verify participant tokens (HS256) with this secret, or the secret of this API key
    /// (`ma-…`), as a MeshAgent room does; without it any token is accepted.
    #[arg(long)]
    secret: Option<String>,
    /// Log each connection and call (debug level).
    #[arg(long)]
    verbose: bool,
}

fn parse_protocol(s: &str) -> Result<ProtocolChoice, String> {
    match s {
        "auto" => Ok(ProtocolChoice::Auto),
        "0.56" | "0.56.0" => Ok(ProtocolChoice::Force(Dialect::V0_56)),
        "0.35.8" => Ok(ProtocolChoice::Force(Dialect::V0_35_8)),
        other => Err(format!("unknown protocol `{other}` (auto, 0.56 or 0.35.8)")),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let level = if cli.verbose {
        tracing::Level::DEBUG
    } else {
        tracing::Level::INFO
    };
    tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("devroom: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let mut options = DevRoomOptions::default()
            .port(cli.port)
            .protocol(cli.protocol);
        options.host = cli.host;
        if let Some(secret) = cli.secret.as_deref() {
            match devroom::VerifyTokens::new(secret) {
                Ok(check) => options = options.token_check(check),
                Err(e) => {
                    eprintln!("devroom: --secret: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
        if let Some(dir) = cli.storage_dir {
            options = options.storage(StorageOption::Dir(dir));
        }
        match DevRoom::start(options).await {
            Ok(room) => {
                println!("PORT {}", room.addr().port());
                println!("devroom: rooms at {}/rooms/<name>", room.url());
                room.wait().await;
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("devroom: {e}");
                ExitCode::FAILURE
            }
        }
    })
}
