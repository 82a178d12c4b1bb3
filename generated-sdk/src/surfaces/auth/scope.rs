//! The SDKs' ready-made API scopes (Python `ApiScope.agent_default`, `user_default`, `full`),
//! per protocol version: 0.56 adds `dataset` (formerly `database`), `sqlite` and `llm`, and
//! its user and full scopes no longer include `secrets`.

use crate::types::*;

impl ApiScope {
    /// An agent's default permissions: every API but `admin` and `secrets`, and `tunnels`
    /// only when asked (Python `ApiScope.agent_default(tunnels=...)`).
    pub fn agent_default(tunnels: bool) -> ApiScope {
        let mut scope = common();
        #[cfg(not(feature = "protocol-0-35-8"))]
        {
            scope.llm = Some(LlmGrant::new());
        }
        scope.tunnels = tunnels.then(TunnelsGrant::new);
        scope
    }

    /// A user's default permissions (Python `ApiScope.user_default()`): no `admin`, no
    /// `tunnels`; 0.35.8 includes `secrets`, 0.56 includes neither `secrets` nor `llm`.
    pub fn user_default() -> ApiScope {
        #[allow(unused_mut)] // 0.56 adds nothing
        let mut scope = common();
        #[cfg(feature = "protocol-0-35-8")]
        {
            scope.secrets = Some(SecretsGrant::new());
        }
        scope
    }

    /// Every permission the SDK's `ApiScope.full()` gives: the user's plus `admin` and
    /// `tunnels` (and `llm` in 0.56; `secrets` in 0.35.8).
    pub fn full() -> ApiScope {
        let mut scope = ApiScope::user_default();
        #[cfg(not(feature = "protocol-0-35-8"))]
        {
            scope.llm = Some(LlmGrant::new());
        }
        scope.admin = Some(AdminGrant::new());
        scope.tunnels = Some(TunnelsGrant::new());
        scope
    }
}

/// The grants every default scope has, each with the SDK's defaults.
fn common() -> ApiScope {
    let mut s = ApiScope::new();
    s.livekit = Some(LivekitGrant::new());
    s.queues = Some(QueuesGrant::new());
    s.messaging = Some(MessagingGrant::new());
    #[cfg(not(feature = "protocol-0-35-8"))]
    {
        s.dataset = Some(DatasetGrant::new());
        s.sqlite = Some(SqliteGrant::new());
    }
    #[cfg(feature = "protocol-0-35-8")]
    {
        s.database = Some(DatabaseGrant::new());
    }
    s.memory = Some(MemoryGrant::new());
    s.sync = Some(SyncGrant::new());
    s.storage = Some(StorageGrant::new());
    s.containers = Some(ContainersGrant::new());
    s.developer = Some(DeveloperGrant::new());
    s.agents = Some(AgentsGrant::new());
    s.services = Some(ServicesGrant::new());
    s
}
