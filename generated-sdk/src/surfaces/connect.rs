//! Connecting: the assembled client. Each surface registers its routes (pushed events,
//! hosted tool calls, participant state), then core opens the connection with them.

use std::future::IntoFuture;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use url::Url;

use crate::core::client::RoomClient;
use crate::core::error::{Error, Result};
use crate::core::framing::Limits;
use crate::core::link::{Keepalive, ReconnectPolicy};
use crate::core::options::ConnectOptions;
use crate::core::reconnect::{Dial, Redial};
use crate::core::router::Router;
use crate::core::transport::{bearer, connect_url, connect_websocket, Token, Transport};
use crate::surfaces::events::{self, RoomEvents};
use crate::surfaces::{hosting, participants};

/// A pending connect; set options, then `.await` it.
#[must_use = "connecting does nothing until awaited"]
#[derive(Debug)]
pub struct Connect {
    url: Url,
    token: Token,
    options: ConnectOptions,
}

impl Connect {
    /// Sets the longest time for the whole connect (TCP, TLS, websocket upgrade, `room_ready`
    /// and `connected`); default 30 s.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.options = self.options.connect_timeout(timeout);
        self
    }

    /// Sets how long to wait for the room's handshake.
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.options = self.options.handshake_timeout(timeout);
        self
    }

    /// Sets the incoming message limits.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.options = self.options.limits(limits);
        self
    }

    /// Sets the longest wait for any request's reply.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.options = self.options.request_timeout(timeout);
        self
    }

    /// Sets the websocket liveness check: a ping after `interval` with nothing received,
    /// the connection lost when nothing answers within `timeout` (default 20 s and 20 s;
    /// `None` turns it off). See [`Keepalive`].
    pub fn keepalive(mut self, keepalive: Option<Keepalive>) -> Self {
        self.options = self.options.keepalive(keepalive);
        self
    }

    /// Sets the TLS configuration used for `wss`.
    pub fn tls(mut self, config: Arc<rustls::ClientConfig>) -> Self {
        self.options = self.options.tls(config);
        self
    }

    /// Sets the reconnection policy (`None`: a lost connection closes the client).
    pub fn reconnect(mut self, policy: Option<ReconnectPolicy>) -> Self {
        self.options = self.options.reconnect(policy);
        self
    }

    /// The room URL this connects to (without the query: the 0.35.8 token is added when
    /// dialling).
    pub fn room_url(&self) -> &Url {
        &self.url
    }

    /// Replaces every option at once.
    pub fn options(mut self, options: ConnectOptions) -> Self {
        self.options = options;
        self
    }
}

impl IntoFuture for Connect {
    type Output = Result<(RoomClient, RoomEvents)>;
    type IntoFuture = BoxFuture<'static, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let deadline = self.options.connect_timeout;
            let url = connect_url(&self.url, &self.token);
            let token = self.token;
            let tls = self.options.tls.clone();
            let keepalive = self.options.keepalive;
            let config = self.options.websocket_config();
            // Every dial, the first and each reconnection, opens the same URL with the
            // same token.
            let dial: Dial = Arc::new(move || {
                let (url, token, tls) = (url.clone(), token.clone(), tls.clone());
                Box::pin(async move {
                    let transport =
                        connect_websocket(&url, bearer(&token), tls, keepalive, config).await?;
                    Ok(Box::new(transport) as Box<dyn Transport>)
                })
            });
            let options = self.options;
            let connect = async move {
                let transport = dial().await?;
                RoomClient::start_with(transport, options, Some(dial)).await
            };
            // Dropping the connect future on the deadline also drops a half-open socket.
            tokio::time::timeout(deadline, connect)
                .await
                .unwrap_or(Err(Error::Timeout(deadline, "connect")))
        })
    }
}

impl RoomClient {
    /// Connects to the room at `url` (see [`crate::room_url`]) with a participant token;
    /// `.await` the result to get the client and its first event stream.
    ///
    /// ```no_run
    /// # async fn demo() -> meshagent_room::Result<()> {
    /// let url = meshagent_room::room_url("https://api.meshagent.com", "my-room")?;
    /// let (room, _events) = meshagent_room::RoomClient::connect(url, "jwt").await?;
    /// let files = room.storage().list("/").await?;
    /// # Ok(()) }
    /// ```
    pub fn connect(url: Url, token: impl Into<Token>) -> Connect {
        Connect {
            url,
            token: token.into(),
            options: ConnectOptions::default(),
        }
    }

    /// Runs the protocol over any [`Transport`] and waits for the room's handshake
    /// (`room_ready` and `connected`).
    ///
    /// The client cannot reconnect over a single transport: a lost connection closes it.
    /// [`RoomClient::with_dialer`] reconnects by opening another.
    pub async fn with_transport(
        transport: impl Transport,
        options: ConnectOptions,
    ) -> Result<(RoomClient, RoomEvents)> {
        RoomClient::start_with(Box::new(transport), options, None).await
    }

    /// Runs the protocol over transports that `dial` opens: one now, and another after
    /// each loss the reconnection policy ([`ConnectOptions::reconnect`]) retries.
    pub async fn with_dialer<F, Fut, T>(
        dial: F,
        options: ConnectOptions,
    ) -> Result<(RoomClient, RoomEvents)>
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<T>> + Send + 'static,
        T: Transport,
    {
        let dial: Dial = Arc::new(move || {
            let next = dial();
            Box::pin(async move { Ok(Box::new(next.await?) as Box<dyn Transport>) })
        });
        let deadline = options.connect_timeout;
        let first = tokio::time::timeout(deadline, dial())
            .await
            .unwrap_or(Err(Error::Timeout(deadline, "connect")))?;
        RoomClient::start_with(first, options, Some(dial)).await
    }

    /// Assembles the surfaces' routes and runs the protocol over `transport`; `dial`
    /// reopens the connection when the policy allows.
    async fn start_with(
        transport: Box<dyn Transport>,
        options: ConnectOptions,
        dial: Option<Dial>,
    ) -> Result<(RoomClient, RoomEvents)> {
        let mut router = Router::default();
        let participants = participants::install(&mut router);
        hosting::install(&mut router, &options);
        #[cfg(all(feature = "messaging", not(feature = "protocol-0-35-8")))]
        crate::surfaces::messaging_stream::install(&mut router);
        let events = events::install(&mut router, participants, &options);
        let redial = match (dial, &options.reconnect) {
            (Some(dial), Some(policy)) => Some(Redial {
                dial,
                policy: policy.clone(),
                connect_timeout: options.connect_timeout,
                handshake_timeout: options.handshake_timeout,
            }),
            _ => None,
        };
        let room = crate::core::connect::connect(transport, options, router, redial).await?;
        Ok((room, events))
    }
}
