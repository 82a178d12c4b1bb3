//! How a [`crate::DevRoom`] is started.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::auth::{AcceptAnyToken, TokenCheck};
use crate::dialect::Dialect;

/// Where `storage` keeps files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum StorageOption {
    /// In memory, gone with the server (the default).
    #[default]
    Memory,
    /// Files in this directory (created if missing).
    Dir(PathBuf),
}

/// Which protocol version connections speak.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ProtocolChoice {
    /// Decided per connection from its request (see [`Dialect`]); the default.
    #[default]
    Auto,
    /// Every connection speaks this one.
    Force(Dialect),
}

/// Options of [`crate::DevRoom::start`]. Every limit bounds what one client can make the
/// server hold or wait for.
#[derive(Clone)]
#[non_exhaustive]
pub struct DevRoomOptions {
    /// Address to listen on (default 127.0.0.1).
    pub host: IpAddr,
    /// Port to listen on; 0 picks a free one (the default).
    pub port: u16,
    /// Where storage keeps files.
    pub storage: StorageOption,
    /// Protocol version per connection.
    pub protocol: ProtocolChoice,
    /// Decides who may join.
    pub token_check: Arc<dyn TokenCheck>,
    /// Largest message a client may send (reassembled), in bytes.
    pub max_message_size: usize,
    /// Largest file `storage.upload` accepts, in bytes.
    pub max_upload_size: u64,
    /// Most messages waiting in one queue.
    pub max_queue_len: usize,
    /// Messages waiting to be written to one client; a client that falls this far behind on
    /// pushed events is disconnected (its own replies wait instead).
    pub outbox_len: usize,
    /// Connections served at once; more are closed as soon as they are accepted.
    pub max_connections: usize,
    /// Calls one client may have in progress at once.
    pub max_calls_per_client: usize,
    /// How long a streamed call waits for the client's next chunk, and a websocket
    /// upgrade for its request.
    pub idle_timeout: Duration,
    /// How long a call to a hosted toolkit waits for the host's answer.
    pub hosted_call_timeout: Duration,
}

impl fmt::Debug for DevRoomOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DevRoomOptions")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("storage", &self.storage)
            .field("protocol", &self.protocol)
            .field("max_message_size", &self.max_message_size)
            .field("max_upload_size", &self.max_upload_size)
            .finish_non_exhaustive()
    }
}

impl Default for DevRoomOptions {
    fn default() -> Self {
        DevRoomOptions {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            storage: StorageOption::Memory,
            protocol: ProtocolChoice::Auto,
            token_check: Arc::new(AcceptAnyToken),
            max_message_size: 16 << 20,
            max_upload_size: 256 << 20,
            max_queue_len: 10_000,
            outbox_len: 1024,
            max_connections: 1024,
            max_calls_per_client: 256,
            idle_timeout: Duration::from_secs(60),
            hosted_call_timeout: Duration::from_secs(120),
        }
    }
}

impl DevRoomOptions {
    /// Listens on `port` (0: any free port).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Keeps storage in `storage`.
    pub fn storage(mut self, storage: StorageOption) -> Self {
        self.storage = storage;
        self
    }

    /// Speaks `protocol`.
    pub fn protocol(mut self, protocol: ProtocolChoice) -> Self {
        self.protocol = protocol;
        self
    }

    /// Checks tokens with `check`.
    pub fn token_check(mut self, check: impl TokenCheck) -> Self {
        self.token_check = Arc::new(check);
        self
    }
}
