//! The spec as written in YAML: what a person edits.
//!
//! These types derive `serde` (to read the files) and `schemars` (to write
//! `spec/spec.schema.json`, which editors use to validate and complete the files).
//! They stay close to the text; resolving names and types happens in [`crate::ir`].

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

mod streams;
pub use streams::*;

/// One spec file. A file describes either the room core (`protocol`, `packets`,
/// `content_types`, `error_codes`), one toolkit (`toolkit`, `tools`, `events`, `types`),
/// the flow table (`flows`), or only shared `types`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SpecFile {
    /// The protocol version this spec describes (room core file only).
    pub protocol: Option<Protocol>,
    /// Packet types sent by clients and pushed by the server (room core file only).
    pub packets: Option<Packets>,
    /// Content types, keyed by their wire `type` (room core file only).
    pub content_types: Option<IndexMap<String, ContentTypeDef>>,
    /// Error codes, keyed by their constant name (room core file only).
    pub error_codes: Option<IndexMap<String, ErrorCodeDef>>,
    /// The toolkit this file describes.
    pub toolkit: Option<ToolkitHeader>,
    /// Tools of the toolkit, keyed by wire tool name.
    #[serde(default)]
    pub tools: IndexMap<String, ToolDef>,
    /// Server-pushed packets that belong to this toolkit, keyed by event name.
    #[serde(default)]
    pub events: IndexMap<String, EventDef>,
    /// Named types, keyed by Rust type name (PascalCase).
    #[serde(default)]
    pub types: IndexMap<String, TypeDef>,
    /// Groups of named protocol numbers of a toolkit (e.g. the `exec` channels), keyed by
    /// group name; each group becomes a module of constants.
    #[serde(default)]
    pub constants: IndexMap<String, ConstGroupDef>,
    /// The flow table: the shapes streaming tools name in `stream.flow`, keyed by name
    /// (a file of its own, `spec/flows.yaml`).
    pub flows: Option<IndexMap<String, FlowDef>>,
}

/// A group of named protocol numbers.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConstGroupDef {
    /// What the numbers are; becomes the module's doc comment.
    pub summary: Option<String>,
    /// The numbers, keyed by name (snake_case; the constant is SHOUTY_SNAKE_CASE).
    pub values: IndexMap<String, ConstDef>,
}

/// One named protocol number.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConstDef {
    /// The number on the wire.
    pub value: i64,
    /// What it means.
    pub doc: Option<String>,
}

/// The protocol version.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Protocol {
    /// A single version (older form, for specs that describe one version), e.g. `0.35.8`.
    pub version: Option<String>,
    /// One line about the protocol.
    pub summary: Option<String>,
    /// The protocol versions this spec describes, keyed by version (`x.y.z`), oldest first.
    #[serde(default)]
    pub versions: IndexMap<String, VersionDef>,
    /// The version a crate user gets without choosing (usually the newest).
    pub default: Option<String>,
}

/// One protocol version and its transport facts.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VersionDef {
    /// What the version is (which SDKs speak it).
    pub summary: Option<String>,
    /// How this version's transport differs.
    #[serde(default)]
    pub transport: TransportDef,
}

/// Transport facts of a protocol version.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TransportDef {
    /// Where the participant token goes.
    #[serde(default)]
    pub token: TokenPlace,
    /// Whether the server acknowledges each request chunk of a stream.
    #[serde(default = "yes")]
    pub request_chunk_acks: bool,
    /// Whether invokes carry `caller_context`.
    #[serde(default = "yes")]
    pub caller_context: bool,
}

impl Default for TransportDef {
    fn default() -> Self {
        TransportDef {
            token: TokenPlace::Query,
            request_chunk_acks: true,
            caller_context: true,
        }
    }
}

/// Where the participant token goes when connecting.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenPlace {
    /// In the `token` query parameter of the URL.
    #[default]
    Query,
    /// In an `Authorization: Bearer <token>` header (never in the query).
    BearerHeader,
}

/// Differences of the official SDKs for one item, by SDK.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Notes {
    /// First protocol version whose docs show the notes (default: every version of the
    /// item); e.g. `0.56.0` for a TypeScript 0.39.9 difference on an item 0.35.8 has too,
    /// so that the 0.35.8 docs stay as they are.
    pub since: Option<String>,
    /// The TypeScript SDK's difference.
    pub typescript: Option<String>,
    /// The Python SDK's difference.
    pub python: Option<String>,
}

/// Packet types in both directions.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Packets {
    /// Packets a client sends, keyed by wire type.
    #[serde(default)]
    pub client: IndexMap<String, ClientPacket>,
    /// Packets the server pushes that the runtime handles itself, keyed by wire type.
    /// Packets that carry toolkit events are declared under that toolkit's `events`.
    #[serde(default)]
    pub server: IndexMap<String, ServerPacket>,
}

/// A packet type a client sends.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientPacket {
    /// Whether the server answers it with a `__response__` carrying the same message id.
    pub reply: bool,
    /// What the packet does.
    pub summary: Option<String>,
    /// The wire type when it differs from the key (two entries for one packet type in different versions).
    pub wire: Option<String>,
    /// Differences of the official SDKs for this item (e.g. TypeScript 0.39.9); shown in the generated docs.
    pub notes: Option<Notes>,
    /// First protocol version that has this item (a key of `protocol.versions`); without it, every version up to `until`.
    pub since: Option<String>,
    /// Last protocol version that has this item (inclusive); without it, every version from `since` on.
    pub until: Option<String>,
}

/// A packet type the server pushes and the runtime handles.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServerPacket {
    /// What the packet carries.
    pub summary: Option<String>,
    /// Differences of the official SDKs for this item (e.g. TypeScript 0.39.9); shown in the generated docs.
    pub notes: Option<Notes>,
    /// First protocol version that has this item (a key of `protocol.versions`); without it, every version up to `until`.
    pub since: Option<String>,
    /// Last protocol version that has this item (inclusive); without it, every version from `since` on.
    pub until: Option<String>,
    /// The packet's JSON header, for packets the runtime decodes itself (the handshake):
    /// generated as a struct in `packets::server`.
    pub header: Option<PacketHeaderDef>,
}

/// The JSON header of a server packet, generated as a struct.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PacketHeaderDef {
    /// The struct's Rust name (PascalCase).
    pub name: String,
    /// What the struct is; becomes its doc comment.
    pub summary: Option<String>,
    /// The header's fields, keyed by wire name.
    pub fields: IndexMap<String, FieldDef>,
}

/// A content type.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ContentTypeDef {
    /// What the content carries.
    pub summary: Option<String>,
    /// Whether the content carries bytes in the message tail.
    #[serde(default)]
    pub tail: bool,
    /// First protocol version that has this item (a key of `protocol.versions`); without it, every version up to `until`.
    pub since: Option<String>,
    /// Last protocol version that has this item (inclusive); without it, every version from `since` on.
    pub until: Option<String>,
}

/// An error code the server puts in `error.code`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorCodeDef {
    /// The numeric code on the wire.
    pub code: i64,
    /// What the code means.
    pub summary: Option<String>,
    /// First protocol version that has this item (a key of `protocol.versions`); without it, every version up to `until`.
    pub since: Option<String>,
    /// Last protocol version that has this item (inclusive); without it, every version from `since` on.
    pub until: Option<String>,
}

/// Names a toolkit.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ToolkitHeader {
    /// Wire toolkit name; the Rust accessor is `room.<name>()` and the cargo feature `<name>`.
    pub name: String,
    /// What the toolkit is for.
    pub summary: Option<String>,
    /// First protocol version that has this item (a key of `protocol.versions`); without it, every version up to `until`.
    pub since: Option<String>,
    /// Last protocol version that has this item (inclusive); without it, every version from `since` on.
    pub until: Option<String>,
    /// Differences of the official SDKs for this item (e.g. TypeScript 0.39.9); shown in the generated docs.
    pub notes: Option<Notes>,
}

/// A tool of a toolkit, called with `room.invoke_tool`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ToolDef {
    /// What the tool does; becomes the method's doc comment.
    pub summary: Option<String>,
    /// Input fields, sent as the JSON object of a `json` content, in this order.
    /// Required fields become positional arguments; optional and defaulted ones builder methods.
    #[serde(default)]
    pub input: IndexMap<String, FieldDef>,
    /// Send the input as a `binary` content instead of `json`: the fields go into
    /// `binary.headers` and the `bytes` field named here into the message tail.
    pub input_tail: Option<String>,
    /// What the tool answers (plain tools).
    pub output: Option<OutputDef>,
    /// How the tool streams (streaming tools).
    pub stream: Option<StreamDef>,
    /// First protocol version that has this item (a key of `protocol.versions`); without it, every version up to `until`.
    pub since: Option<String>,
    /// Last protocol version that has this item (inclusive); without it, every version from `since` on.
    pub until: Option<String>,
    /// The wire name when it differs from the key: lets two entries (alive in different versions) share one wire name.
    pub wire: Option<String>,
    /// Differences of the official SDKs for this item (e.g. TypeScript 0.39.9); shown in the generated docs.
    pub notes: Option<Notes>,
    /// Fire-and-forget: the invoke is sent and its reply never awaited (the method returns once sent).
    #[serde(default)]
    pub nowait: bool,
}

/// A field: either a bare type expression, or a full description.
/// (`Deserialize` is implemented by hand in the loader for clearer errors.)
#[derive(Debug, Clone, JsonSchema)]
#[serde(untagged)]
pub enum FieldDef {
    /// A bare type expression such as `string`, `int?` or `list<StorageEntry>`: only where
    /// no docs are generated (output `fields` with `returns`, stream chunk headers other than
    /// a generated method's request `start`); tool inputs and type and event fields need `doc`.
    Short(String),
    /// A type with its description and wire options.
    Full(Box<FieldSpec>),
}

/// A field with its description and wire options.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    /// Type expression: `string`, `bool`, `int`, `float`, `bytes`, `json`, `timestamp`,
    /// `list<T>`, `map<T>` (string keys), `json_string<T>` (a T carried as JSON text in a
    /// string), a named type, and `T?` for optional.
    #[serde(rename = "type")]
    pub ty: String,
    /// What the field means; becomes the doc comment. Required for tool inputs and the
    /// fields of types and events.
    pub doc: Option<String>,
    /// Value sent when the caller does not set it (input fields only); makes the argument optional.
    #[schemars(with = "Option<serde_json::Value>")]
    pub default: Option<serde_json::Value>,
    /// What goes on the wire when an optional (`T?`) field is not set. Defaults to `omit`.
    pub absent: Option<Absent>,
    /// For a `string?` header of a streaming tool's `start` chunk: when the caller leaves it
    /// unset, the runtime draws a fresh id of this form (e.g. container log `request_id`).
    pub fresh: Option<FreshId>,
    /// For a decoded `list<T>` field: entries that do not decode as `T` are dropped instead of
    /// failing the whole reply (as an official SDK filters them, e.g. TypeScript's
    /// `memory.list`). The value itself must still be a list.
    pub skip_invalid: Option<bool>,
    /// First protocol version that has this item (a key of `protocol.versions`); without it, every version up to `until`.
    pub since: Option<String>,
    /// Last protocol version that has this item (inclusive); without it, every version from `since` on.
    pub until: Option<String>,
    /// The wire name when it differs from the key: lets two entries (alive in different versions) share one wire name.
    pub wire: Option<String>,
    /// Differences of the official SDKs for this item (e.g. TypeScript 0.39.9); shown in the generated docs.
    pub notes: Option<Notes>,
}

/// The form of an id the runtime draws for an unset field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FreshId {
    /// A random UUID (v4) as 32 lowercase hex digits without dashes, as Python draws.
    UuidHex,
}

/// Wire rule for an unset optional field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Absent {
    /// Leave the key out.
    Omit,
    /// Send the key with a JSON `null`.
    SendNull,
}

/// The reply of a plain tool.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OutputDef {
    /// The content type the reply must have.
    pub content: OutputContent,
    /// For `json`: the type of the whole JSON value.
    #[serde(rename = "type")]
    pub ty: Option<String>,
    /// For `json`: the fields of the JSON object (instead of `type`).
    pub fields: Option<IndexMap<String, FieldDef>>,
    /// Return only this field of `fields`.
    pub returns: Option<String>,
    /// A `bool` field of the reply; when it is false the method returns `None`.
    pub present_when: Option<String>,
    /// What an `empty` reply means, for tools that answer `json` or a `file`, or nothing.
    pub empty: Option<EmptyMeaning>,
    /// For `binary` and `json_or_binary`: the `bytes` field of `type`/`fields` that receives
    /// the binary reply's tail (its headers fill the other fields).
    pub tail: Option<String>,
}

/// Content types a plain tool can answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OutputContent {
    /// A JSON value, decoded into the declared type.
    Json,
    /// A string.
    Text,
    /// Nothing; any other content is an unexpected reply.
    Empty,
    /// `empty` or `json`, ignored; any other content is an unexpected reply.
    EmptyOrJson,
    /// A file (name, MIME type, bytes).
    File,
    /// A `binary` reply: its headers decoded as the declared `type`/`fields`, with the tail
    /// as the bytes field named by `tail`.
    Binary,
    /// A `json` object decoded as the declared `type`/`fields` (typically a union tagged by
    /// `kind`), or a `binary` reply as for `content: binary`.
    JsonOrBinary,
    /// `json` (any value), ignored; any other content is an unexpected reply.
    JsonIgnored,
    /// Any content; the reply is ignored (errors still fail the call).
    Any,
}

/// Meaning of an `empty` reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EmptyMeaning {
    /// The method returns `None`.
    None,
}

/// A server-pushed packet that carries a toolkit event.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EventDef {
    /// The wire packet type.
    pub packet: String,
    /// What happened; becomes the doc comment.
    pub summary: Option<String>,
    /// Fields of the packet's JSON header.
    #[serde(default)]
    pub fields: IndexMap<String, FieldDef>,
    /// When several events share a packet: the one header key and value that select this
    /// event (e.g. `{type: participant.enabled}`). The event without `when` takes the rest.
    pub when: Option<IndexMap<String, String>>,
    /// Name of a bytes field that receives the packet's binary tail.
    pub tail: Option<String>,
    /// First protocol version that has this item (a key of `protocol.versions`); without it, every version up to `until`.
    pub since: Option<String>,
    /// Last protocol version that has this item (inclusive); without it, every version from `since` on.
    pub until: Option<String>,
    /// The wire name when it differs from the key: lets two entries (alive in different versions) share one wire name.
    pub wire: Option<String>,
    /// Differences of the official SDKs for this item (e.g. TypeScript 0.39.9); shown in the generated docs.
    pub notes: Option<Notes>,
}

/// A named type: a struct (`fields`), a string enum (`enum`) or a tagged union (`tag` + `variants`).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TypeDef {
    /// What the type is; becomes the doc comment.
    pub summary: Option<String>,
    /// Struct fields, keyed by wire name, in wire order.
    pub fields: Option<IndexMap<String, FieldDef>>,
    /// String enum values with their descriptions (or `{doc, since, until}`); unknown values are kept, not rejected.
    #[serde(rename = "enum")]
    pub values: Option<IndexMap<String, EnumValueDef>>,
    /// Tagged union: the JSON key that names the variant.
    pub tag: Option<String>,
    /// Tagged union: variants keyed by tag value.
    pub variants: Option<IndexMap<String, VariantDef>>,
    /// Tagged union: keep an object whose tag is unknown (or whose variant does not decode) as
    /// raw JSON in a last variant `Other` instead of rejecting it; the text is that variant's doc.
    pub other: Option<String>,
    /// First protocol version that has this item (a key of `protocol.versions`); without it, every version up to `until`.
    pub since: Option<String>,
    /// Last protocol version that has this item (inclusive); without it, every version from `since` on.
    pub until: Option<String>,
    /// The wire name when it differs from the key: lets two entries (alive in different versions) share one wire name.
    pub wire: Option<String>,
    /// Differences of the official SDKs for this item (e.g. TypeScript 0.39.9); shown in the generated docs.
    pub notes: Option<Notes>,
}

/// A variant of a tagged union.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VariantDef {
    /// What the variant means.
    pub doc: Option<String>,
    /// The variant's fields.
    #[serde(default)]
    pub fields: IndexMap<String, FieldDef>,
    /// First protocol version that has this item (a key of `protocol.versions`); without it, every version up to `until`.
    pub since: Option<String>,
    /// Last protocol version that has this item (inclusive); without it, every version from `since` on.
    pub until: Option<String>,
}

/// A string enum value: its description, or a description with versions.
/// (`Deserialize` is implemented by hand in the loader for clearer errors.)
#[derive(Debug, Clone, JsonSchema)]
#[serde(untagged)]
pub enum EnumValueDef {
    /// The value's description.
    Short(String),
    /// The value's description with versions.
    Full(EnumValueSpec),
}

/// A string enum value with versions.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnumValueSpec {
    /// What the value means.
    pub doc: String,
    /// First protocol version that has this item (a key of `protocol.versions`); without it, every version up to `until`.
    pub since: Option<String>,
    /// Last protocol version that has this item (inclusive); without it, every version from `since` on.
    pub until: Option<String>,
    /// Differences of the official SDKs for this item (e.g. TypeScript 0.39.9); shown in the generated docs.
    pub notes: Option<Notes>,
}

impl EnumValueDef {
    /// The value's description.
    pub fn doc(&self) -> &str {
        match self {
            EnumValueDef::Short(d) => d,
            EnumValueDef::Full(f) => &f.doc,
        }
    }
}

impl FieldDef {
    /// The field's type expression.
    pub fn ty(&self) -> &str {
        match self {
            FieldDef::Short(t) => t,
            FieldDef::Full(f) => &f.ty,
        }
    }

    /// The field's description, if any.
    pub fn doc(&self) -> Option<&str> {
        match self {
            FieldDef::Short(_) => None,
            FieldDef::Full(f) => f.doc.as_deref(),
        }
    }
}

/// `serde` default for flags that are on unless the spec says otherwise.
fn yes() -> bool {
    true
}
