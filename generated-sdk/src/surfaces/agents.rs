//! The agents surface: call any tool of any toolkit with routing options
//! (`room.invoke_tool`), list the room's toolkits (`room.list_toolkits`), and call an agent
//! into the room (`room.call`). Hand-written because these are packet types, not tools;
//! their bodies are the spec's `agents.yaml` types.

use std::future::IntoFuture;

use futures::future::BoxFuture;
use serde_json::Value;

use crate::core::client::{new_tool_call_id, RoomClient};
use crate::core::content::Content;
use crate::core::error::{Error, Result};
use crate::core::invoke::{invoke_header, Invoke};
use crate::core::packing::pack_header;
use crate::core::stream::{Overflow, RequestChunks};
use crate::packets::client as cp;
use crate::types::{
    ApiScope, CallRequest as CallBody, ListToolkitsRequest as ListToolkitsBody, ListedTool,
    ListedToolkit, ToolContentSpec,
};

/// Tools of every toolkit, toolkit listings and agent calls. Get it with [`RoomClient::agents`].
#[derive(Debug, Clone)]
pub struct Agents {
    room: RoomClient,
}

impl RoomClient {
    /// The agents surface: any tool, toolkit listings, agent calls.
    pub fn agents(&self) -> Agents {
        Agents { room: self.clone() }
    }
}

impl Agents {
    /// Calls `toolkit.tool` with `input` (`room.invoke_tool`); set routing options on the
    /// returned request, then `.await` it for the reply content.
    pub fn invoke_tool(
        &self,
        toolkit: impl Into<String>,
        tool: impl Into<String>,
        input: Content,
    ) -> InvokeToolRequest {
        InvokeToolRequest {
            room: self.room.clone(),
            toolkit: toolkit.into(),
            tool: tool.into(),
            input,
            participant_id: None,
            on_behalf_of_id: None,
            caller_context: None,
        }
    }

    /// Calls `toolkit.tool` as a stream in both directions: `room.invoke_tool` with
    /// `control/open`, then each item of `input` as a `room.tool_call_request_chunk`
    /// (acknowledged before the next where the protocol acknowledges request chunks; the
    /// request side closes when `input` ends). `.await` the returned request for the
    /// stream of response chunks: `error` chunks are yielded as content, the server's
    /// normal close ends the stream, an abnormal close is [`Error::StreamClosed`].
    /// Dropping the response stream stops sending and closes.
    pub fn invoke_stream(
        &self,
        toolkit: impl Into<String>,
        tool: impl Into<String>,
        input: impl futures::Stream<Item = Content> + Send + 'static,
    ) -> InvokeStreamRequest {
        use futures::StreamExt;
        InvokeStreamRequest {
            room: self.room.clone(),
            toolkit: toolkit.into(),
            tool: tool.into(),
            input: input.boxed(),
            participant_id: None,
            on_behalf_of_id: None,
        }
    }

    /// Lists the room's toolkits (`room.list_toolkits`); filters are builder methods.
    pub fn list_toolkits(&self) -> ListToolkitsRequest {
        ListToolkitsRequest {
            room: self.room.clone(),
            body: ListToolkitsBody {
                participant_id: None,
                participant_name: None,
                timeout: None,
            },
        }
    }

    /// Asks the room to call the agent at `url` into the room as `name` (`room.call`).
    pub fn call(
        &self,
        name: impl Into<String>,
        url: impl Into<String>,
        arguments: Value,
    ) -> CallRequest {
        CallRequest {
            room: self.room.clone(),
            body: CallBody {
                url: url.into(),
                arguments,
                name: name.into(),
                api: None,
            },
        }
    }
}

/// A streamed call being built ([`Agents::invoke_stream`]); `.await` it to open it.
#[must_use = "a request does nothing until it is awaited"]
pub struct InvokeStreamRequest {
    room: RoomClient,
    toolkit: String,
    tool: String,
    input: futures::stream::BoxStream<'static, Content>,
    participant_id: Option<String>,
    on_behalf_of_id: Option<String>,
}

impl std::fmt::Debug for InvokeStreamRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InvokeStreamRequest")
            .field("toolkit", &self.toolkit)
            .field("tool", &self.tool)
            .field("participant_id", &self.participant_id)
            .field("on_behalf_of_id", &self.on_behalf_of_id)
            .finish_non_exhaustive()
    }
}

impl InvokeStreamRequest {
    /// Calls the tool as hosted by this participant (when several host the toolkit).
    pub fn participant_id(mut self, id: impl Into<String>) -> Self {
        self.participant_id = Some(id.into());
        self
    }

    /// Calls the tool on behalf of this participant.
    pub fn on_behalf_of_id(mut self, id: impl Into<String>) -> Self {
        self.on_behalf_of_id = Some(id.into());
        self
    }
}

impl IntoFuture for InvokeStreamRequest {
    type Output = Result<futures::stream::BoxStream<'static, Result<Content>>>;
    type IntoFuture = BoxFuture<'static, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let to = Invoke {
                participant_id: self.participant_id.as_deref(),
                on_behalf_of_id: self.on_behalf_of_id.as_deref(),
                ..Invoke::new(&self.toolkit, &self.tool)
            };
            let stream = self
                .room
                .open_stream_with(&to, RequestChunks::of_protocol(), Overflow::Pause)
                .await?;
            Ok(crate::core::stream::invoke_stream(stream, self.input))
        })
    }
}

/// A pending `room.invoke_tool`; `.await` it.
#[derive(Debug)]
#[must_use = "a request does nothing until it is awaited"]
pub struct InvokeToolRequest {
    room: RoomClient,
    toolkit: String,
    tool: String,
    input: Content,
    participant_id: Option<String>,
    on_behalf_of_id: Option<String>,
    caller_context: Option<Value>,
}

impl InvokeToolRequest {
    /// Calls the tool as hosted by this participant (when several host the toolkit).
    pub fn participant_id(mut self, id: impl Into<String>) -> Self {
        self.participant_id = Some(id.into());
        self
    }

    /// Calls the tool on behalf of this participant.
    pub fn on_behalf_of_id(mut self, id: impl Into<String>) -> Self {
        self.on_behalf_of_id = Some(id.into());
        self
    }

    /// Context passed to tools that support it (a JSON object).
    ///
    /// Only protocols that have it (0.35.8; see [`crate::protocol::CALLER_CONTEXT`]):
    /// from 0.41 on `room.invoke_tool` has no `caller_context` (the Python SDK dropped the
    /// parameter), so under those the call fails with [`Error::InvalidArguments`] before
    /// anything is sent rather than silently calling the tool without the context.
    pub fn caller_context(mut self, context: Value) -> Self {
        self.caller_context = Some(context);
        self
    }

    /// Sends the call without waiting for its reply (Python's `invoke_nowait`): resolves
    /// once the `room.invoke_tool` is queued; a reply that comes anyway is dropped.
    pub fn nowait(self) -> BoxFuture<'static, Result<()>> {
        Box::pin(async move {
            let to = self.target()?;
            self.room
                .invoke_nowait_with(&to, &self.input.header(), self.input.tail())
                .await
        })
    }

    /// The tool and routing, refusing a `caller_context` the protocol cannot carry.
    fn target(&self) -> Result<Invoke<'_>> {
        if self.caller_context.is_some() && !crate::protocol::CALLER_CONTEXT {
            return Err(Error::InvalidArguments(format!(
                "{}.{}: protocol {} has no caller_context (removed in 0.41)",
                self.toolkit,
                self.tool,
                crate::protocol::VERSION
            )));
        }
        Ok(Invoke {
            participant_id: self.participant_id.as_deref(),
            on_behalf_of_id: self.on_behalf_of_id.as_deref(),
            caller_context: self.caller_context.as_ref(),
            ..Invoke::new(&self.toolkit, &self.tool)
        })
    }
}

impl IntoFuture for InvokeToolRequest {
    type Output = Result<Content>;
    type IntoFuture = BoxFuture<'static, Result<Content>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let to = self.target()?;
            let head = invoke_header(&to, &self.input.header(), &new_tool_call_id())?;
            self.room
                .request(cp::ROOM_INVOKE_TOOL, &head, self.input.tail())
                .await
        })
    }
}

/// A pending `room.list_toolkits`; `.await` it.
#[derive(Debug)]
#[must_use = "a request does nothing until it is awaited"]
pub struct ListToolkitsRequest {
    room: RoomClient,
    body: ListToolkitsBody,
}

impl ListToolkitsRequest {
    /// Only the toolkits of this participant.
    pub fn participant_id(mut self, id: impl Into<String>) -> Self {
        self.body.participant_id = Some(id.into());
        self
    }

    /// Only the toolkits of the participant with this name.
    pub fn participant_name(mut self, name: impl Into<String>) -> Self {
        self.body.participant_name = Some(name.into());
        self
    }

    /// How long the server may wait for the participant's toolkits.
    pub fn timeout(mut self, timeout: i64) -> Self {
        self.body.timeout = Some(timeout);
        self
    }
}

impl IntoFuture for ListToolkitsRequest {
    type Output = Result<Vec<ListedToolkit>>;
    type IntoFuture = BoxFuture<'static, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let head = pack_header(&self.body)?;
            match self
                .room
                .request(cp::ROOM_LIST_TOOLKITS, &head, &[])
                .await?
            {
                Content::Json(v) => listed_toolkits(&v),
                other => Err(Error::unexpected(
                    "room.list_toolkits",
                    format!("expected json, got {}", other.type_name()),
                )),
            }
        })
    }
}

/// A pending `room.call`; `.await` it.
#[derive(Debug)]
#[must_use = "a request does nothing until it is awaited"]
pub struct CallRequest {
    room: RoomClient,
    body: CallBody,
}

impl CallRequest {
    /// The API permissions of the agent's token (the server's defaults when not set).
    pub fn api(mut self, api: ApiScope) -> Self {
        self.body.api = Some(api);
        self
    }
}

impl IntoFuture for CallRequest {
    type Output = Result<()>;
    type IntoFuture = BoxFuture<'static, Result<()>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let head = pack_header(&self.body)?;
            self.room.request(cp::ROOM_CALL, &head, &[]).await.map(drop)
        })
    }
}

const LISTING: &str = "room.list_toolkits";

/// Reads a `room.list_toolkits` reply as both SDKs do: `{"tools": {name: toolkit}}`.
fn listed_toolkits(reply: &Value) -> Result<Vec<ListedToolkit>> {
    let toolkits = reply
        .get("tools")
        .and_then(Value::as_object)
        .ok_or_else(|| Error::unexpected(LISTING, "the reply has no `tools` object"))?;
    toolkits
        .iter()
        .map(|(name, tk)| listed_toolkit(name, tk))
        .collect()
}

fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn opt_text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn listed_toolkit(name: &str, tk: &Value) -> Result<ListedToolkit> {
    let tools = match tk.get("tools") {
        Some(Value::Object(tools)) => tools
            .iter()
            .map(|(n, t)| listed_tool(n, t))
            .collect::<Result<_>>()?,
        None | Some(Value::Null) => Vec::new(),
        Some(_) => {
            return Err(Error::unexpected(
                LISTING,
                format!("toolkit `{name}`: `tools` must be an object"),
            ))
        }
    };
    Ok(ListedToolkit {
        name: name.to_string(),
        description: text(tk, "description"),
        title: text(tk, "title"),
        #[cfg(feature = "protocol-0-35-8")]
        thumbnail_url: opt_text(tk, "thumbnail_url"),
        tools,
        participant_id: opt_text(tk, "participant_id"),
        // 0.56: Python reads a missing `annotations` as {} (string values).
        #[cfg(not(feature = "protocol-0-35-8"))]
        annotations: tk
            .get("annotations")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| {
                        let v = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                        (k.clone(), v)
                    })
                    .collect()
            })
            .unwrap_or_default(),
    })
}

fn listed_tool(name: &str, t: &Value) -> Result<ListedTool> {
    Ok(ListedTool {
        name: name.to_string(),
        description: text(t, "description"),
        title: text(t, "title"),
        #[cfg(feature = "protocol-0-35-8")]
        thumbnail_url: opt_text(t, "thumbnail_url"),
        input_spec: content_spec(name, t, "input_spec", "input_schema")?,
        output_spec: content_spec(name, t, "output_spec", "output_schema")?,
        defs: t.get("defs").filter(|d| !d.is_null()).cloned(),
        #[cfg(feature = "protocol-0-35-8")]
        pricing: opt_text(t, "pricing"),
        #[cfg(feature = "protocol-0-35-8")]
        supports_context: t
            .get("supports_context")
            .or_else(|| t.get("supportsContext"))
            .and_then(Value::as_bool)
            .unwrap_or(false),
        // Python keeps `strict` only when it is a bool.
        strict: t.get("strict").and_then(Value::as_bool),
    })
}

/// A tool's spec, folding in its legacy schema as the Python SDK does: without a spec the
/// schema becomes `{types: [json], stream: false, schema}`; a spec accepting json without
/// a schema gets it injected.
fn content_spec(
    tool: &str,
    t: &Value,
    spec_key: &str,
    schema_key: &str,
) -> Result<Option<ToolContentSpec>> {
    let legacy = t.get(schema_key).filter(|s| !s.is_null()).cloned();
    let spec = match t.get(spec_key).filter(|s| !s.is_null()) {
        Some(s) => Some(
            serde_json::from_value::<ToolContentSpec>(s.clone()).map_err(|e| {
                Error::unexpected(LISTING, format!("tool `{tool}` `{spec_key}`: {e}"))
            })?,
        ),
        None => None,
    };
    Ok(match (spec, legacy) {
        (None, Some(schema)) => Some(ToolContentSpec {
            types: vec!["json".into()],
            stream: Some(false),
            schema: Some(schema),
        }),
        (Some(mut spec), Some(schema))
            if spec.schema.is_none() && spec.types.iter().any(|t| t.as_str() == "json") =>
        {
            spec.schema = Some(schema);
            Some(spec)
        }
        (spec, _) => spec,
    })
}

/// `agents.*` for the dispatch table (feature `dispatch`); these calls take no stream input.
#[cfg(feature = "dispatch")]
pub(crate) async fn dispatch(
    room: &RoomClient,
    tool: &str,
    args: Value,
    _input: Vec<Value>,
) -> Option<Result<Value>> {
    let args = match args {
        Value::Object(m) => m,
        _ => serde_json::Map::new(),
    };
    let agents = room.agents();
    Some(match tool {
        "invoke_tool" => invoke_from_json(&agents, args, false).await,
        "invoke_nowait" => invoke_from_json(&agents, args, true).await,
        "list_toolkits" => {
            let mut req = agents.list_toolkits();
            if let Some(v) = args.get("participant_id").and_then(Value::as_str) {
                req = req.participant_id(v);
            }
            if let Some(v) = args.get("participant_name").and_then(Value::as_str) {
                req = req.participant_name(v);
            }
            if let Some(v) = args.get("timeout").and_then(Value::as_i64) {
                req = req.timeout(v);
            }
            crate::support::dispatch::result(req.await)
        }
        "call" => {
            let body: Result<CallBody> =
                crate::support::dispatch::args("agents.call", Value::Object(args));
            match body {
                Ok(body) => {
                    let mut req = agents.call(body.name, body.url, body.arguments);
                    if let Some(api) = body.api {
                        req = req.api(api);
                    }
                    crate::support::dispatch::result(req.await)
                }
                Err(e) => Err(e),
            }
        }
        _ => return None,
    })
}

#[cfg(feature = "dispatch")]
async fn invoke_from_json(
    agents: &Agents,
    args: serde_json::Map<String, Value>,
    nowait: bool,
) -> Result<Value> {
    use base64::Engine;
    let field = |k: &str| args.get(k).and_then(Value::as_str).map(str::to_owned);
    let (Some(toolkit), Some(tool)) = (field("toolkit"), field("tool")) else {
        return Err(Error::InvalidArguments(
            "agents.invoke_tool needs `toolkit` and `tool`".into(),
        ));
    };
    let tail = match field("data") {
        Some(b64) => base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|e| Error::InvalidArguments(format!("`data` is not base64: {e}")))?,
        None => Vec::new(),
    };
    let input = match args.get("arguments") {
        Some(Value::Object(h)) => Content::from_parts(h.clone(), tail.into())?,
        _ => Content::Empty,
    };
    let mut req = agents.invoke_tool(toolkit, tool, input);
    if let Some(v) = field("participant_id") {
        req = req.participant_id(v);
    }
    if let Some(v) = field("on_behalf_of_id") {
        req = req.on_behalf_of_id(v);
    }
    if let Some(v) = args.get("caller_context").filter(|v| !v.is_null()) {
        req = req.caller_context(v.clone());
    }
    if nowait {
        return req.nowait().await.map(|()| Value::Null);
    }
    req.await.map(|c| content_json(&c))
}

/// A content as JSON: its header, plus `data` (base64) for bytes.
#[cfg(feature = "dispatch")]
fn content_json(c: &Content) -> Value {
    use base64::Engine;
    let mut v = c.header();
    if let (Value::Object(m), Content::File(_) | Content::Binary { .. }) = (&mut v, c) {
        m.insert(
            "data".into(),
            base64::engine::general_purpose::STANDARD
                .encode(c.tail())
                .into(),
        );
    }
    v
}
