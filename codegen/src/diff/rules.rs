//! The classification rules, as data: each change the differ finds names one rule, and
//! the rule alone decides whether the change is breaking.
//!
//! Modelled on buf's breaking rules (one id per kind of change, grouped in categories)
//! and oasdiff's checks (request and response sides judged differently). "Breaking" is
//! judged for code that uses the generated crate (`meshagent-room`):
//! - category `source`: code written against the old crate stops compiling (a removed
//!   item, a changed signature or field type, a new constructor parameter);
//! - category `wire`: the code compiles but the bytes it sends or expects change, so it
//!   no longer talks to a peer of the other version (a changed packet, code or tag).
//!
//! Facts about the generated code the rules rely on: structs (named types, inline
//! outputs, events) are `#[non_exhaustive]` with a `new(required fields)` constructor;
//! string enums are `#[non_exhaustive]` and keep unknown values in `Other`; unions are
//! `#[non_exhaustive]` enums of struct variants (the variants themselves are exhaustive);
//! `RoomEvent` is `#[non_exhaustive]`; required inputs are positional method arguments,
//! optional and defaulted ones builder methods.

/// Whether a rule guards Rust source compatibility or wire compatibility.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// The generated crate's Rust API.
    Source,
    /// What goes over the wire.
    Wire,
}

impl Category {
    /// Its name in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Source => "source",
            Category::Wire => "wire",
        }
    }
}

/// One classification rule.
#[derive(Debug, PartialEq, Eq, serde::Serialize)]
pub struct Rule {
    /// Stable id, e.g. `TOOL_REMOVED`.
    pub id: &'static str,
    /// What change it matches.
    pub matches: &'static str,
    /// Whether the change breaks code using the generated crate.
    pub breaking: bool,
    /// What it guards.
    pub category: Category,
    /// Why, in one line.
    pub reason: &'static str,
}

use Category::{Source, Wire};

macro_rules! rules {
    ($($id:ident: $matches:literal, $breaking:literal, $cat:ident, $reason:literal;)*) => {
        $(
            #[doc = $matches]
            pub static $id: Rule = Rule {
                id: stringify!($id),
                matches: $matches,
                breaking: $breaking,
                category: $cat,
                reason: $reason,
            };
        )*
        /// Every rule, in table order.
        pub static RULES: &[&Rule] = &[$(&$id),*];
    };
}

rules! {
    TOOLKIT_ADDED: "a toolkit is added", false, Source,
        "a new module, accessor and cargo feature; nothing existing changes";
    TOOLKIT_REMOVED: "a toolkit is removed", true, Source,
        "its module, `RoomClient` accessor and cargo feature disappear";
    TOOL_ADDED: "a tool is added", false, Source,
        "a new method on the toolkit handle";
    TOOL_REMOVED: "a tool is removed", true, Source,
        "its method and request type disappear";
    TOOL_KIND_CHANGED: "a tool changes between plain and streaming", true, Source,
        "the method's arguments and result change completely";
    TOOL_NOWAIT_CHANGED: "a tool becomes fire-and-forget (`nowait`) or awaited again", false, Wire,
        "same signature (both return `()`); a nowait call returns once sent, so server errors go unreported";
    INPUT_ADDED_REQUIRED: "a required input (or stream `start` header) is added", true, Source,
        "the method gains a positional argument";
    INPUT_ADDED_OPTIONAL: "an optional or defaulted input (or `start` header) is added", false, Source,
        "a new builder method; existing calls leave it unset (or at its default)";
    INPUT_REMOVED: "an input (or `start` header) is removed", true, Source,
        "its argument or builder method disappears";
    INPUT_TYPE_CHANGED: "an input's type changes", true, Source,
        "the argument's Rust type changes";
    INPUT_BECAME_REQUIRED: "an optional or defaulted input becomes required", true, Source,
        "a builder method becomes a positional argument";
    INPUT_BECAME_OPTIONAL: "a required input becomes optional or defaulted", true, Source,
        "a positional argument becomes a builder method";
    INPUT_DEFAULT_CHANGED: "an input's default value changes", false, Wire,
        "same signature; calls that leave it unset send the new default";
    INPUT_ABSENT_CHANGED: "how an unset optional input is sent changes (null or left out)", false, Wire,
        "same signature; only the request bytes for an unset argument change";
    INPUT_TAIL_CHANGED: "which input is carried as the binary tail changes", true, Wire,
        "the bytes move between the JSON header and the message tail";
    OUTPUT_CHANGED: "a reply's content type or decoding changes (returns, present_when, empty)", true, Source,
        "the method's result type or how the reply decodes changes";
    OUTPUT_TYPE_CHANGED: "a JSON reply's type (or returned field's type) changes", true, Source,
        "the method's result type changes";
    FIELD_ADDED_OPTIONAL: "an optional field is added to a struct, output, event or chunk", false, Source,
        "structs are #[non_exhaustive] and `new` takes required fields only";
    FIELD_ADDED_REQUIRED: "a required field is added to a struct, output, event or chunk", true, Source,
        "`new` gains a parameter, and data without the field no longer decodes";
    FIELD_REMOVED: "a field is removed", true, Source,
        "code reading or setting the field stops compiling";
    FIELD_TYPE_CHANGED: "a field's type changes (e.g. `json` -> `string`)", true, Source,
        "the field's Rust type changes";
    FIELD_BECAME_REQUIRED: "an optional or defaulted field becomes required (narrowed)", true, Source,
        "`new` gains a parameter (`Option<T>` may become `T`); data without it no longer decodes";
    FIELD_BECAME_OPTIONAL: "a required field becomes optional or defaulted (widened)", true, Source,
        "`new` loses a parameter, and `T` may become `Option<T>`: calls and reads stop compiling";
    TYPE_ADDED: "a named type is added", false, Source,
        "a new type; nothing existing changes";
    TYPE_REMOVED: "a named type is removed", true, Source,
        "code naming the type stops compiling";
    TYPE_KIND_CHANGED: "a named type changes between struct, enum and union", true, Source,
        "a different kind of Rust type under the same name";
    ENUM_VALUE_ADDED: "a value is added to a string enum", false, Source,
        "enums are #[non_exhaustive] and already keep unknown values in `Other`";
    ENUM_VALUE_REMOVED: "a value is removed from a string enum", true, Source,
        "its variant disappears (the value would arrive as `Other`)";
    UNION_VARIANT_ADDED: "a variant is added to a union", false, Source,
        "unions are #[non_exhaustive] enums";
    UNION_VARIANT_REMOVED: "a variant is removed from a union", true, Source,
        "its enum variant disappears";
    UNION_VARIANT_FIELD_ADDED: "a field is added to a union variant", true, Source,
        "union variants are exhaustive struct variants: constructions and patterns break";
    UNION_TAG_CHANGED: "a union's tag key changes", true, Wire,
        "values are tagged under a different JSON key";
    EVENT_ADDED: "an event is added", false, Source,
        "`RoomEvent` is #[non_exhaustive]; the packet used to arrive as `Unknown`";
    EVENT_REMOVED: "an event is removed", true, Source,
        "its `RoomEvent` variant and struct disappear";
    EVENT_PACKET_CHANGED: "an event's packet type changes", true, Wire,
        "the event is expected under another packet type";
    EVENT_SELECTOR_CHANGED: "the header value selecting an event changes", true, Wire,
        "packets are routed to the event by a different header value";
    EVENT_TAIL_CHANGED: "which event field receives the binary tail changes", true, Wire,
        "the tail lands in a different field";
    STREAM_FLOW_CHANGED: "a streaming tool's flow shape changes", true, Wire,
        "the chunk exchange, and with it the generated method, changes";
    STREAM_ITEM_CHANGED: "what a pushed tool yields per chunk changes", true, Source,
        "the stream's item type changes";
    STREAM_TEXT_CHANNELS_CHANGED: "which channels a text stream yields changes", false, Wire,
        "still a stream of strings; it carries more or fewer of the server's channels";
    CHUNK_ADDED: "a chunk kind is added to a stream", false, Wire,
        "a new kind of chunk; existing exchanges are unchanged";
    CHUNK_REMOVED: "a chunk kind is removed from a stream", true, Wire,
        "one side stops sending or understanding that chunk";
    CHUNK_CONTENT_CHANGED: "a chunk kind's content type changes", true, Wire,
        "the chunk's bytes are encoded differently";
    FLOW_SHAPE_ADDED: "a flow shape is added to the flow table", false, Source,
        "a new `flow_shapes` constant";
    FLOW_SHAPE_REMOVED: "a flow shape is removed from the flow table", true, Source,
        "its `flow_shapes` constant disappears";
    FLOW_SHAPE_METHOD_CHANGED: "a flow shape's generated method signature changes", true, Source,
        "every tool of the shape gets a different method signature";
    FLOW_SHAPE_CHANGED: "a flow shape's pacing or encoding changes, same method", true, Wire,
        "the engine exchanges chunks differently with the server";
    TRANSPORT_CHANGED: "a transport fact changes (token place, request chunk acks, caller_context)", true, Wire,
        "the runtime connects or streams differently: peers of the two versions disagree";
    PACKET_ADDED: "a packet type is added", false, Wire,
        "a new packet; existing exchanges are unchanged";
    PACKET_REMOVED: "a packet type is removed", true, Wire,
        "a peer still sending or expecting it is no longer understood";
    PACKET_REPLY_CHANGED: "whether a client packet gets a `__response__` changes", true, Wire,
        "the client waits for a reply that never comes, or ignores one";
    CONTENT_TYPE_ADDED: "a content type is added", false, Wire,
        "a new encoding; existing ones are unchanged";
    CONTENT_TYPE_REMOVED: "a content type is removed", true, Wire,
        "payloads of that type are no longer understood";
    ERROR_CODE_ADDED: "an error code is added", false, Source,
        "a new constant";
    ERROR_CODE_REMOVED: "an error code is removed", true, Source,
        "its constant disappears";
    ERROR_CODE_CHANGED: "an error code's number changes", true, Wire,
        "code matching the constant no longer matches what peers send";
    CONSTANT_ADDED: "a protocol number (constant) is added", false, Source,
        "a new constant";
    CONSTANT_REMOVED: "a protocol number (constant) is removed", true, Source,
        "its constant disappears";
    CONSTANT_CHANGED: "a protocol number's value changes", true, Wire,
        "peers of the two versions disagree on the number";
}

/// The rule table as text: id, breaking, category, what it matches, why.
pub fn render_rules() -> String {
    let width = RULES.iter().map(|r| r.id.len()).max().unwrap_or(0);
    let mut out = String::new();
    for r in RULES {
        out.push_str(&format!(
            "{:width$}  {:8}  {:6}  {}: {}\n",
            r.id,
            if r.breaking { "breaking" } else { "ok" },
            r.category.as_str(),
            r.matches,
            r.reason,
        ));
    }
    out
}
