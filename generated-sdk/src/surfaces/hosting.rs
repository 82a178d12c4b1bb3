//! Hosting a toolkit: this client offers tools to the room (the TypeScript SDK's
//! `RemoteToolkit`). The client sends `room.register_toolkit`, answers every pushed
//! `room.tool_call.<toolkit>` with `room.tool_call_response` (reusing the push's message
//! id), and sends `room.unregister_toolkit` on [`HostedToolkit::unregister`] or drop.
//!
//! At most `ConnectOptions::hosted_calls` calls are served at once; at the limit the client
//! stops reading until one finishes, so replies waiting to be sent stay bounded. After a
//! reconnection every hosted toolkit is registered again.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::FutureExt;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::core::backpressure::Meter;
use crate::core::client::RoomClient;
use crate::core::content::Content;
use crate::core::error::{Error, Result};
use crate::core::framing::Message;
use crate::core::packing::{pack, pack_header, unpack};
use crate::core::router::{Match, Route, Router};
use crate::core::shared::Shared;
use crate::packets::client as cp;

/// Prefix of `room.tool_call.<toolkit>`, the calls to toolkits this client hosts.
const HOSTED_CALL_PREFIX: &str = "room.tool_call.";

/// The toolkits this connection hosts, by name: the route of `room.tool_call.<toolkit>`.
pub(crate) struct Hosting {
    toolkits: Mutex<HashMap<String, Hosted>>,
    /// Most calls served at once.
    limit: usize,
    /// Calls being served; holds reading back at the limit (made with the first call:
    /// the connection's backpressure does not exist when routes are installed).
    calls: OnceLock<Arc<Meter>>,
}

/// A hosted toolkit and how it was registered.
struct Hosted {
    toolkit: Arc<Toolkit>,
    public: bool,
    /// The registration id of the current connection.
    id: Option<String>,
}

/// Registers the hosting route with the connection's router.
pub(crate) fn install(router: &mut Router, options: &crate::ConnectOptions) {
    router.register(
        Arc::new(Hosting {
            toolkits: Mutex::default(),
            limit: options.hosted_calls,
            calls: OnceLock::new(),
        }),
        &[Match::Prefix(HOSTED_CALL_PREFIX)],
    );
}

impl Hosting {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Hosted>> {
        // Poisoning only means a panic elsewhere mid-update of a plain map.
        self.toolkits.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn of(room: &RoomClient) -> Option<Arc<Hosting>> {
        room.shared().route::<Hosting>()
    }

    /// Stops serving `name`; returns its current registration id.
    fn remove(room: &RoomClient, name: &str) -> Option<String> {
        Hosting::of(room)?.lock().remove(name)?.id
    }
}

impl Route for Hosting {
    fn handle(&self, shared: &Arc<Shared>, message: Message) {
        let Some(toolkit) = message.message_type.strip_prefix(HOSTED_CALL_PREFIX) else {
            return;
        };
        let found = self.lock().get(toolkit).map(|h| h.toolkit.clone());
        let calls = self
            .calls
            .get_or_init(|| {
                Arc::new(Meter::new(
                    shared.backpressure.clone(),
                    self.limit.saturating_sub(1),
                ))
            })
            .clone();
        serve(
            shared.clone(),
            calls,
            message.id,
            toolkit,
            found,
            message.data,
        );
    }

    /// Registers every hosted toolkit again (the room forgot them with the connection).
    fn restore(&self, room: &RoomClient) -> Option<BoxFuture<'static, ()>> {
        let hosted: Vec<(String, Value)> = self
            .lock()
            .iter()
            .map(|(name, h)| (name.clone(), h.toolkit.register_body(h.public)))
            .collect();
        if hosted.is_empty() {
            return None;
        }
        let room = room.clone();
        Some(Box::pin(async move {
            for (name, body) in hosted {
                match register(&room, &body).await {
                    Ok(id) => {
                        if let Some(h) = Hosting::of(&room) {
                            if let Some(entry) = h.lock().get_mut(&name) {
                                entry.id = Some(id);
                            }
                        }
                    }
                    Err(e) => {
                        tracing::warn!(toolkit = %name, error = %e, "registering a hosted toolkit again failed")
                    }
                }
            }
        }))
    }
}

/// Sends `room.register_toolkit` and returns the registration id.
async fn register(room: &RoomClient, body: &Value) -> Result<String> {
    let reply = room
        .request(cp::ROOM_REGISTER_TOOLKIT, &pack_header(body)?, &[])
        .await?;
    let id = match &reply {
        Content::Json(v) => v.get("id").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    };
    id.ok_or_else(|| {
        Error::unexpected(
            "room.register_toolkit",
            format!("expected json {{id}}, got {reply:?}"),
        )
    })
}

type Handler =
    Arc<dyn Fn(Content) -> BoxFuture<'static, std::result::Result<Content, String>> + Send + Sync>;

/// A tool this client serves.
#[derive(Clone)]
struct Tool {
    title: String,
    description: String,
    input_schema: Option<Value>,
    handler: Handler,
}

/// A toolkit to host: a name, descriptions, and async handlers.
///
/// ```no_run
/// # async fn demo(room: meshagent_room::RoomClient) -> meshagent_room::Result<()> {
/// use meshagent_room::Toolkit;
/// let toolkit = Toolkit::new("greeter", "Greeter", "Says hello.")
///     .json_tool("hello", "Greets `name`.", |args| async move {
///         Ok::<_, String>(serde_json::json!({"greeting": format!("hello {}", args["name"])}))
///     });
/// let hosted = room.host_toolkit(toolkit, false).await?;
/// // ... tools are served until `hosted` is unregistered or dropped.
/// hosted.unregister().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Toolkit {
    name: String,
    title: String,
    description: String,
    tools: BTreeMap<String, Tool>,
}

impl fmt::Debug for Toolkit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Toolkit")
            .field("name", &self.name)
            .field("tools", &self.tools.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Toolkit {
    /// A toolkit with its wire name, title and description.
    pub fn new(
        name: impl Into<String>,
        title: impl Into<String>,
        description: impl Into<String>,
    ) -> Toolkit {
        Toolkit {
            name: name.into(),
            title: title.into(),
            description: description.into(),
            tools: BTreeMap::new(),
        }
    }

    /// Adds a tool taking any content and answering any content.
    pub fn tool<F, Fut, E>(
        mut self,
        name: impl Into<String>,
        description: impl Into<String>,
        handler: F,
    ) -> Self
    where
        F: Fn(Content) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = std::result::Result<Content, E>> + Send + 'static,
        E: fmt::Display,
    {
        let name = name.into();
        let handler: Handler =
            Arc::new(move |c| handler(c).map(|r| r.map_err(|e| e.to_string())).boxed());
        self.tools.insert(
            name.clone(),
            Tool {
                title: name,
                description: description.into(),
                input_schema: None,
                handler,
            },
        );
        self
    }

    /// Adds a tool with a JSON object input (`empty` arguments become `{}`) and a JSON output.
    pub fn json_tool<F, Fut, E>(
        self,
        name: impl Into<String>,
        description: impl Into<String>,
        handler: F,
    ) -> Self
    where
        F: Fn(Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = std::result::Result<Value, E>> + Send + 'static,
        E: fmt::Display,
    {
        let handler = Arc::new(handler);
        self.tool(name, description, move |content: Content| {
            let handler = handler.clone();
            async move {
                let args = match content {
                    Content::Json(v) => v,
                    Content::Empty => Value::Object(Map::new()),
                    other => {
                        return Err(format!(
                            "expected json arguments, got {}",
                            other.type_name()
                        ))
                    }
                };
                handler(args)
                    .await
                    .map(Content::Json)
                    .map_err(|e| e.to_string())
            }
        })
    }

    /// Adds a tool whose input and output are Rust types (JSON on the wire).
    pub fn typed_tool<I, O, F, Fut, E>(
        self,
        name: impl Into<String>,
        description: impl Into<String>,
        handler: F,
    ) -> Self
    where
        I: DeserializeOwned + Send + 'static,
        O: Serialize + 'static,
        F: Fn(I) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = std::result::Result<O, E>> + Send + 'static,
        E: fmt::Display,
    {
        let handler = Arc::new(handler);
        self.json_tool(name, description, move |args: Value| {
            let handler = handler.clone();
            async move {
                let input: I =
                    serde_json::from_value(args).map_err(|e| format!("invalid arguments: {e}"))?;
                let output = handler(input).await.map_err(|e| e.to_string())?;
                serde_json::to_value(output).map_err(|e| format!("output is not JSON: {e}"))
            }
        })
    }

    /// Sets the JSON Schema advertised for the last-added tool named `tool`.
    pub fn input_schema(mut self, tool: &str, schema: Value) -> Self {
        if let Some(t) = self.tools.get_mut(tool) {
            t.input_schema = Some(schema);
        }
        self
    }

    /// The `room.register_toolkit` request body.
    fn register_body(&self, public: bool) -> Value {
        let tools: Map<String, Value> = self
            .tools
            .iter()
            .map(|(name, t)| {
                let mut spec = json!({"types": ["json"], "stream": false});
                if let (Some(schema), Some(obj)) = (&t.input_schema, spec.as_object_mut()) {
                    obj.insert("schema".into(), schema.clone());
                }
                (
                    name.clone(),
                    json!({"description": t.description, "title": t.title, "input_spec": spec}),
                )
            })
            .collect();
        json!({
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "tools": tools,
            "public": public,
        })
    }
}

/// A registered toolkit. Unregisters when dropped (best effort, in the background) or
/// with [`HostedToolkit::unregister`].
#[derive(Debug)]
pub struct HostedToolkit {
    room: RoomClient,
    name: String,
    /// Still registered (not yet unregistered or dropped).
    registered: bool,
}

impl HostedToolkit {
    /// The registration id the room gave (a new one after each reconnection).
    pub fn id(&self) -> String {
        Hosting::of(&self.room)
            .and_then(|h| h.lock().get(&self.name).and_then(|e| e.id.clone()))
            .unwrap_or_default()
    }

    /// Stops serving and sends `room.unregister_toolkit`.
    pub async fn unregister(mut self) -> Result<()> {
        self.registered = false;
        match Hosting::remove(&self.room, &self.name) {
            Some(id) => unregister(&self.room, &id).await,
            None => Ok(()),
        }
    }
}

impl Drop for HostedToolkit {
    fn drop(&mut self) {
        if !self.registered {
            return;
        }
        // Detached: an unanswered unregister never keeps the connection alive.
        if let Some(id) = Hosting::remove(&self.room, &self.name) {
            if let Ok(head) = pack_header(&json!({"id": id})) {
                self.room
                    .shared()
                    .send_detached(cp::ROOM_UNREGISTER_TOOLKIT, head);
            }
        }
    }
}

async fn unregister(room: &RoomClient, id: &str) -> Result<()> {
    room.request(
        cp::ROOM_UNREGISTER_TOOLKIT,
        &pack_header(&json!({"id": id}))?,
        &[],
    )
    .await
    .map(drop)
}

impl RoomClient {
    /// Hosts `toolkit`: registers it with the room (`room.register_toolkit`) and serves its
    /// tools until the returned handle is unregistered or dropped.
    pub async fn host_toolkit(&self, toolkit: Toolkit, public: bool) -> Result<HostedToolkit> {
        let name = toolkit.name.clone();
        let body = toolkit.register_body(public);
        // Serve before registering, so a call racing the reply is answered.
        let hosting = Hosting::of(self).ok_or_else(|| self.shared().closed_error())?;
        hosting.lock().insert(
            name.clone(),
            Hosted {
                toolkit: Arc::new(toolkit),
                public,
                id: None,
            },
        );
        // Dropped on an error: serving stops.
        let hosted = HostedToolkit {
            room: self.clone(),
            name,
            registered: true,
        };
        let id = register(self, &body).await?;
        if let Some(entry) = hosting.lock().get_mut(&hosted.name) {
            entry.id = Some(id);
        }
        Ok(hosted)
    }
}

/// Serves one `room.tool_call.<toolkit>` push in its own task; the reply reuses `id`.
/// `calls` counts it while it runs (reply sent included).
fn serve(
    shared: Arc<Shared>,
    calls: Arc<Meter>,
    id: u64,
    name: &str,
    toolkit: Option<Arc<Toolkit>>,
    data: Bytes,
) {
    let toolkit = toolkit.ok_or_else(|| format!("toolkit `{name}` is not hosted by this client"));
    calls.add(1);
    tokio::spawn(async move {
        let _running = Running(calls);
        let result = match toolkit {
            Ok(tk) => call(&tk, data).await,
            Err(e) => Err(e),
        };
        let content = result.unwrap_or_else(|text| Content::Error { text, code: None });
        let packed = match pack(&content.header(), content.tail()) {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "cannot pack a hosted tool's result");
                return;
            }
        };
        if let Err(e) = shared
            .send(id, cp::ROOM_TOOL_CALL_RESPONSE, &packed, &[])
            .await
        {
            tracing::debug!(error = %e, "cannot answer a hosted tool call");
        }
    });
}

async fn call(tk: &Toolkit, data: Bytes) -> std::result::Result<Content, String> {
    let packed = unpack(data).map_err(|e| format!("malformed tool call: {e}"))?;
    let name = packed
        .header
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let tool = tk
        .tools
        .get(&name)
        .ok_or_else(|| format!("unknown tool `{name}` in toolkit `{}`", tk.name))?;
    let arguments = match packed.header.get("arguments") {
        Some(Value::Object(a)) if a.get("type").is_some_and(Value::is_string) => {
            Content::from_parts(a.clone(), packed.tail).map_err(|e| e.to_string())?
        }
        // Legacy servers send the arguments as a plain object.
        Some(Value::Object(a)) => Content::Json(Value::Object(a.clone())),
        None | Some(Value::Null) => Content::Empty,
        Some(other) => return Err(format!("arguments must be an object, got {other}")),
    };
    // A panicking handler becomes an error reply instead of taking the client down.
    match tokio::spawn((tool.handler)(arguments)).await {
        Ok(result) => result,
        Err(e) if e.is_panic() => Err(format!("tool `{name}` panicked")),
        Err(e) => Err(format!("tool `{name}` was cancelled: {e}")),
    }
}

/// One hosted call being served: counted until dropped (also when the task is aborted).
struct Running(Arc<Meter>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.sub(1);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn hosted_call_prefix_matches_the_spec() {
        assert_eq!(
            crate::packets::server::ROOM_TOOL_CALL_TOOLKIT.strip_suffix("<toolkit>"),
            Some(super::HOSTED_CALL_PREFIX)
        );
    }
}
