//! The `room.invoke_tool` header, built in one place for every call, stream and surface.
//!
//! Key order is the wire's (the conformance replay compares it): `toolkit`, `tool`,
//! `participant_id`, `on_behalf_of_id`, `arguments`, then `caller_context` only when set
//! and the protocol has it ([`crate::protocol::CALLER_CONTEXT`]; removed in 0.41), then
//! `tool_call_id`. Python always sends the two routing ids, as `null` when unset; the
//! spec follows Python.

use serde::Serialize;
use serde_json::Value;

use crate::core::error::Result;
use crate::core::packing::pack_header;

/// Which tool a `room.invoke_tool` calls, and how the call is routed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Invoke<'a> {
    pub(crate) toolkit: &'a str,
    pub(crate) tool: &'a str,
    /// The participant hosting the toolkit, when several do.
    pub(crate) participant_id: Option<&'a str>,
    /// The participant the call is made on behalf of.
    pub(crate) on_behalf_of_id: Option<&'a str>,
    /// Context for tools that take it; left out of the header when unset, and always
    /// when the protocol has no `caller_context`.
    pub(crate) caller_context: Option<&'a Value>,
}

impl<'a> Invoke<'a> {
    /// `toolkit.tool`, unrouted.
    pub(crate) fn new(toolkit: &'a str, tool: &'a str) -> Self {
        Invoke {
            toolkit,
            tool,
            participant_id: None,
            on_behalf_of_id: None,
            caller_context: None,
        }
    }
}

#[derive(Serialize)]
struct Header<'a, A: Serialize + ?Sized> {
    toolkit: &'a str,
    tool: &'a str,
    participant_id: Option<&'a str>,
    on_behalf_of_id: Option<&'a str>,
    arguments: &'a A,
    #[serde(skip_serializing_if = "Option::is_none")]
    caller_context: Option<&'a Value>,
    tool_call_id: &'a str,
}

/// The packed header of a `room.invoke_tool` of `to` with these `arguments` (a content
/// header: `{"type": "json", ..}`, `control/open`, ..).
pub(crate) fn invoke_header<A: Serialize + ?Sized>(
    to: &Invoke<'_>,
    arguments: &A,
    tool_call_id: &str,
) -> Result<Vec<u8>> {
    Ok(pack_header(&Header {
        toolkit: to.toolkit,
        tool: to.tool,
        participant_id: to.participant_id,
        on_behalf_of_id: to.on_behalf_of_id,
        arguments,
        caller_context: to
            .caller_context
            .filter(|_| crate::protocol::CALLER_CONTEXT),
        tool_call_id,
    })?)
}

/// `{"type": "json", "json": input}`: the arguments of a tool with a JSON input.
#[derive(Serialize)]
pub(crate) struct JsonArguments<'a, T: Serialize + ?Sized> {
    #[serde(rename = "type")]
    kind: &'static str,
    json: &'a T,
}

impl<'a, T: Serialize + ?Sized> JsonArguments<'a, T> {
    pub(crate) fn new(json: &'a T) -> Self {
        JsonArguments { kind: "json", json }
    }
}

/// `{"type": "binary", "headers": headers}`: the arguments of a tool with a binary input
/// (the bytes travel as the message tail).
#[derive(Serialize)]
pub(crate) struct BinaryArguments<'a, T: Serialize + ?Sized> {
    #[serde(rename = "type")]
    kind: &'static str,
    headers: &'a T,
}

impl<'a, T: Serialize + ?Sized> BinaryArguments<'a, T> {
    pub(crate) fn new(headers: &'a T) -> Self {
        BinaryArguments {
            kind: "binary",
            headers,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::packing::unpack;
    use serde_json::json;

    fn keys(head: Vec<u8>) -> Vec<String> {
        let packed = unpack(bytes::Bytes::from(head)).expect("packed");
        packed.header.keys().cloned().collect()
    }

    #[test]
    fn keys_are_in_wire_order_and_caller_context_only_when_set() {
        let plain = invoke_header(&Invoke::new("t", "x"), &json!({"type": "empty"}), "id");
        assert_eq!(
            keys(plain.expect("header")),
            [
                "toolkit",
                "tool",
                "participant_id",
                "on_behalf_of_id",
                "arguments",
                "tool_call_id"
            ]
        );
        let context = json!({"k": 1});
        let routed = Invoke {
            participant_id: Some("p"),
            caller_context: Some(&context),
            ..Invoke::new("t", "x")
        };
        let head = invoke_header(&routed, &JsonArguments::new(&json!({})), "id");
        let mut expected = vec![
            "toolkit",
            "tool",
            "participant_id",
            "on_behalf_of_id",
            "arguments",
            "caller_context",
            "tool_call_id",
        ];
        if !crate::protocol::CALLER_CONTEXT {
            // 0.41 and later: never sent, even when set.
            expected.retain(|k| *k != "caller_context");
        }
        assert_eq!(keys(head.expect("header")), expected);
    }
}
