//! The IR types: the spec with names resolved and types parsed.

use serde_json::Value;

use crate::spec::model::{
    Absent, ChunkEncoding, FreshId, Initiator, PullEncoding, PushItem, RequestPacing,
    ResponsePacing, Signature,
};

/// The whole protocol.
#[derive(Debug, Clone)]
pub struct Api {
    /// The protocol version this `Api` describes (the spec filtered to it).
    pub version: String,
    /// Every version the spec describes, oldest first.
    pub versions: Vec<String>,
    /// The version a crate user gets without choosing.
    pub default_version: String,
    /// This version's transport facts.
    pub transport: Transport,
    /// The room core file's name.
    pub core_source: String,
    /// Client packet types.
    pub client_packets: Vec<ClientPacket>,
    /// Server packet types handled by the runtime.
    pub server_packets: Vec<Described>,
    /// Headers of server packets the runtime decodes itself (the handshake), as structs.
    pub packet_headers: Vec<TypeDecl>,
    /// Content types.
    pub content_types: Vec<Described>,
    /// Error codes.
    pub error_codes: Vec<ErrorCode>,
    /// Events of the room core (not tied to a toolkit), e.g. `room.status`.
    pub core_events: Vec<Event>,
    /// Shared types (files with only `types`), with their source file.
    pub shared_types: Vec<(String, TypeDecl)>,
    /// Toolkits in name order.
    pub toolkits: Vec<Toolkit>,
    /// The flow table, in spec order.
    pub flows: Vec<FlowShape>,
    /// The flow table's file name (empty without one).
    pub flows_source: String,
}

/// Transport facts of one protocol version (the generated `protocol` module).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transport {
    /// The token goes in an `Authorization: Bearer` header, never in the query.
    pub token_in_header: bool,
    /// The server acknowledges each request chunk.
    pub request_chunk_acks: bool,
    /// Invokes carry `caller_context`.
    pub caller_context: bool,
}

impl Default for Transport {
    fn default() -> Self {
        Transport {
            token_in_header: false,
            request_chunk_acks: true,
            caller_context: true,
        }
    }
}

/// A client packet type.
#[derive(Debug, Clone)]
pub struct ClientPacket {
    /// Wire type.
    pub wire: String,
    /// Whether a `__response__` comes back.
    pub reply: bool,
    /// Description.
    pub summary: String,
}

/// A wire name with its description.
#[derive(Debug, Clone)]
pub struct Described {
    /// Wire name.
    pub wire: String,
    /// Description.
    pub summary: String,
}

/// An error code.
#[derive(Debug, Clone)]
pub struct ErrorCode {
    /// Constant name, e.g. `STORAGE_NOT_FOUND`.
    pub name: String,
    /// Numeric code.
    pub code: i64,
    /// Description.
    pub summary: String,
}

/// A toolkit and everything it declares.
#[derive(Debug, Clone)]
pub struct Toolkit {
    /// Wire name; also the module, accessor and cargo feature name.
    pub name: String,
    /// Spec file it comes from.
    pub source: String,
    /// Description.
    pub summary: String,
    /// Tools in spec order.
    pub tools: Vec<Tool>,
    /// Events in spec order.
    pub events: Vec<Event>,
    /// Named types in spec order.
    pub types: Vec<TypeDecl>,
    /// Groups of named protocol numbers, in spec order.
    pub constants: Vec<ConstGroup>,
}

/// A group of named protocol numbers (a module of constants).
#[derive(Debug, Clone)]
pub struct ConstGroup {
    /// Group (module) name.
    pub name: String,
    /// Description.
    pub summary: String,
    /// Name, value and description of each number.
    pub values: Vec<(String, i64, String)>,
}

/// A tool.
#[derive(Debug, Clone)]
pub struct Tool {
    /// Wire tool name.
    pub name: String,
    /// Description.
    pub summary: String,
    /// Plain or streaming.
    pub kind: ToolKind,
    /// Fire-and-forget: the invoke is sent and its reply never awaited (plain tools only).
    pub nowait: bool,
}

/// How a tool is called.
#[derive(Debug, Clone)]
pub enum ToolKind {
    /// One request, one reply.
    Plain {
        /// Input fields in wire order.
        input: Vec<Field>,
        /// For a `binary` input: the bytes field sent as the message tail.
        input_tail: Option<String>,
        /// The reply.
        output: Output,
    },
    /// A chunked stream; it gets a generated method when its flow shape names an engine.
    Stream(Stream),
}

/// A streaming tool's declaration.
#[derive(Debug, Clone)]
pub struct Stream {
    /// Its flow shape (a copy of the table entry).
    pub shape: FlowShape,
    /// What a pushed tool yields per chunk; `None`: the raw content.
    pub item: Option<PushItem>,
    /// With `item: text`: the channels whose chunks are text (`[1]` unless the spec says).
    pub text_channels: Vec<i64>,
    /// Request chunk kinds.
    pub request: Vec<Chunk>,
    /// Response chunk kinds.
    pub response: Vec<Chunk>,
}

/// A flow shape of the flow table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowShape {
    /// Table key, e.g. `pull_upload`.
    pub name: String,
    /// Description.
    pub summary: String,
    /// Wire steps, in order.
    pub steps: Vec<String>,
    /// Who opens the stream.
    pub initiator: Initiator,
    /// Pacing of request chunks after `start`.
    pub request: RequestPacing,
    /// Whether each request chunk is answered before the next.
    pub request_acked: bool,
    /// Pacing of response chunks.
    pub response: ResponsePacing,
    /// How data chunks are carried.
    pub data: ChunkEncoding,
    /// How pulls are carried.
    pub pull: Option<PullEncoding>,
    /// Whether tools may set `stream.item`.
    pub item: bool,
    /// The generated method and the engine behind it; `None`: reached through `open_stream`.
    pub method: Option<FlowMethod>,
}

/// How tools of a shape are called from generated code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowMethod {
    /// The generated method's signature.
    pub signature: Signature,
    /// The runtime engine, a function of `crate::support::flows`.
    pub engine: String,
}

/// A chunk kind.
#[derive(Debug, Clone)]
pub struct Chunk {
    /// The `kind` header value.
    pub kind: String,
    /// Content type.
    pub content: String,
    /// Description.
    pub doc: String,
    /// Header fields beside `kind`.
    pub headers: Vec<Field>,
}

/// A field of a struct, an input or an event.
#[derive(Debug, Clone)]
pub struct Field {
    /// Wire (JSON) name.
    pub wire: String,
    /// Rust name.
    pub rust: String,
    /// Description (may be empty where the spec does not require one).
    pub doc: String,
    /// Type.
    pub ty: TypeRef,
    /// Value sent when unset (input fields).
    pub default: Option<Value>,
    /// Wire rule for an unset optional field.
    pub absent: Absent,
    /// Whether a named type must be boxed here because it contains itself.
    pub boxed: bool,
    /// The id the runtime draws when the caller leaves this `start` header unset.
    pub fresh: Option<FreshId>,
    /// Entries of this `list<T>` that do not decode as `T` are dropped when decoding.
    pub skip_invalid: bool,
}

impl Field {
    /// Whether callers must give this field (a positional argument).
    pub fn is_required(&self) -> bool {
        self.default.is_none() && !self.ty.is_optional()
    }
}

/// A parsed type expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeRef {
    /// `string`
    String,
    /// `bool`
    Bool,
    /// `int`
    Int,
    /// `float`
    Float,
    /// `bytes` (base64 in JSON)
    Bytes,
    /// `json`
    Json,
    /// `timestamp` (ISO-8601 string)
    Timestamp,
    /// `list<T>`
    List(Box<TypeRef>),
    /// `map<T>` with string keys
    Map(Box<TypeRef>),
    /// `json_string<T>`: a T encoded as JSON text inside a JSON string
    JsonString(Box<TypeRef>),
    /// `T?`
    Optional(Box<TypeRef>),
    /// Bytes carried in the message tail of a `binary` input (see `input_tail`).
    Tail,
    /// A named type.
    Named {
        /// Type name.
        name: String,
        /// Whether it lives in the shared `types` module.
        shared: bool,
    },
}

impl TypeRef {
    /// Whether the type is `T?`.
    pub fn is_optional(&self) -> bool {
        matches!(self, TypeRef::Optional(_))
    }
}

/// A named type.
#[derive(Debug, Clone)]
pub struct TypeDecl {
    /// Rust (and spec) name.
    pub name: String,
    /// Description.
    pub summary: String,
    /// Its shape.
    pub shape: Shape,
}

/// Shapes of named types.
#[derive(Debug, Clone)]
pub enum Shape {
    /// A struct.
    Struct(Vec<Field>),
    /// A string enum that keeps unknown values.
    Enum(Vec<(String, String)>),
    /// A union tagged by the JSON key `tag`.
    Union {
        /// The tag key.
        tag: String,
        /// Variants: tag value, description, fields.
        variants: Vec<(String, String, Vec<Field>)>,
        /// The doc of the catch-all variant `Other` (raw JSON), when the union keeps unknown tags.
        other: Option<String>,
    },
}

/// A server-pushed event.
#[derive(Debug, Clone)]
pub struct Event {
    /// Event name (spec key).
    pub name: String,
    /// Wire packet type.
    pub packet: String,
    /// Description.
    pub summary: String,
    /// Header fields.
    pub fields: Vec<Field>,
    /// The header key and value selecting this event among those sharing its packet.
    pub when: Option<(String, String)>,
    /// The field that receives the binary tail.
    pub tail: Option<String>,
}

/// A plain tool's reply.
#[derive(Debug, Clone)]
pub enum Output {
    /// Any content, ignored.
    Ignore,
    /// Must be `empty`.
    Empty,
    /// `empty` or `json`, ignored.
    EmptyOrJson,
    /// A string.
    Text,
    /// `json`, ignored.
    JsonIgnored,
    /// A file; `empty` means `None` when the flag is set.
    File {
        /// An `empty` reply means `None`.
        empty_none: bool,
    },
    /// A JSON value.
    Json(JsonOutput),
}

/// A JSON reply.
#[derive(Debug, Clone)]
pub struct JsonOutput {
    /// Its type or inline fields.
    pub body: JsonBody,
    /// Return only this field.
    pub returns: Option<String>,
    /// A bool key; false means `None`.
    pub present_when: Option<String>,
    /// An `empty` reply means `None`.
    pub empty_none: bool,
    /// A `binary` reply is accepted too (or instead), its tail filling this bytes field.
    pub binary: Option<BinaryReply>,
}

/// How a `binary` reply fills a JSON-typed result.
#[derive(Debug, Clone)]
pub struct BinaryReply {
    /// The bytes field (wire name) that receives the tail.
    pub tail: String,
    /// A `json` reply is accepted as well.
    pub or_json: bool,
}

/// The body of a JSON reply.
#[derive(Debug, Clone)]
pub enum JsonBody {
    /// A type expression.
    Type(TypeRef),
    /// Inline object fields.
    Fields(Vec<Field>),
}
