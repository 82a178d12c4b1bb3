//! The `generated` module root (accessors, `dispatch`), packet names and error codes.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use super::*;
use crate::ir::Api;
use crate::naming::{ident, pascal, shouty};
use crate::runtime_type::{self as rt, Root, Support};

/// The `protocol` leaf module: this version's transport facts, the only place the
/// runtime reads them from.
pub(super) fn protocol_rs(api: &Api) -> TokenStream {
    let version = &api.version;
    let t = &api.transport;
    let (header, acks, caller) = (t.token_in_header, t.request_chunk_acks, t.caller_context);
    let top = format!(
        " Transport facts of protocol {version} (`protocol.versions` in the spec): the runtime reads\n them from here only."
    );
    let top = top.lines().map(|l| l.to_string());
    quote! {
        #(#![doc = #top])*

        /// The protocol version this build speaks (the official SDKs' version).
        pub const VERSION: &str = #version;
        /// Whether the participant token goes in an `Authorization: Bearer` header (never in
        /// the query); otherwise it goes in the `token` query parameter.
        pub const TOKEN_IN_HEADER: bool = #header;
        /// Whether the server acknowledges each `room.tool_call_request_chunk` (the client
        /// awaits the reply before the next chunk); otherwise chunks are sent one-way.
        pub const REQUEST_CHUNK_ACKS: bool = #acks;
        /// Whether `room.invoke_tool` carries `caller_context`.
        pub const CALLER_CONTEXT: bool = #caller;
    }
}

pub(super) fn mod_rs(api: &Api) -> TokenStream {
    let version = &api.version;
    let shared = (!api.shared_types.is_empty()).then(|| quote! { pub mod types; });
    let modules = api.toolkits.iter().map(|tk| {
        let m = ident(&tk.name);
        let f = feature(&tk.name);
        let d = doc(&tk.summary);
        quote! { #f #d pub mod #m; }
    });
    let accessors = api.toolkits.iter().map(|tk| {
        let m = ident(&tk.name);
        let s = format_ident!("{}", pascal(&tk.name));
        let f = feature(&tk.name);
        let d = doc(&format!(
            "{}\n\nTools of the `{}` toolkit (cargo feature `{}`).",
            tk.summary, tk.name, tk.name
        ));
        quote! {
            #f #d
            pub fn #m(&self) -> #m::#s {
                #m::#s { room: self.clone() }
            }
        }
    });
    let dispatch_arms = api.toolkits.iter().map(|tk| {
        let m = ident(&tk.name);
        let name = &tk.name;
        let f = arm_feature(&tk.name);
        quote! { #f #name => self.#m().dispatch(tool, args, input).await, }
    });
    let flow_shapes = ident(rt::FLOW_SHAPES_MODULE);
    let (room, result, error) = (
        Root::RoomClient.tokens(),
        Root::Result.tokens(),
        Root::Error.tokens(),
    );
    let agents = rt::agents_dispatch();
    let conveniences = rt::conveniences_dispatch();
    let dispatch_doc = doc(&format!(
        "Calls `toolkit.tool` from JSON arguments (wire names) through the generated typed\nmethod and returns its typed result as JSON (feature `dispatch`). `input` is what\na streaming tool's caller feeds in (see {}); empty otherwise.",
        Support::Dispatch.doc_name()
    ));
    let dispatch_gate = feature("dispatch");
    quote! {
        #![doc = " Code generated from the protocol spec: typed toolkits, events, packets and error codes."]
        pub mod error_codes;
        pub mod events;
        pub(crate) mod #flow_shapes;
        pub mod packets;
        pub mod protocol;
        #shared
        #(#modules)*

        /// Version of the official SDKs whose protocol this crate speaks.
        pub const PROTOCOL_VERSION: &str = #version;

        impl #room {
            #(#accessors)*

            #dispatch_doc
            #dispatch_gate
            pub async fn dispatch(&self, method: &str, args: serde_json::Value, input: Vec<serde_json::Value>) -> #result<serde_json::Value> {
                // Hand-written conveniences answer some calls first.
                if let Some(r) = #conveniences(self, method, &args, &input).await {
                    return r;
                }
                let (toolkit, tool) = method.split_once('.').unwrap_or((method, ""));
                let found: Option<#result<serde_json::Value>> = match toolkit {
                    #(#dispatch_arms)*
                    // Packet-level surfaces the runtime implements by hand.
                    "agents" => #agents(self, tool, args, input).await,
                    _ => None,
                };
                found.unwrap_or_else(|| Err(#error::InvalidArguments(format!("no generated method `{method}`"))))
            }
        }
    }
}

pub(super) fn packets_rs(api: &Api) -> TokenStream {
    let client = api.client_packets.iter().map(|p| {
        let name = format_ident!("{}", shouty(&p.wire.replace('.', "_")));
        let wire = &p.wire;
        let reply = if p.reply {
            "The server answers with `__response__`."
        } else {
            "No reply."
        };
        let d = doc(&format!("`{wire}`: {}\n\n{reply}", p.summary));
        quote! { #d pub const #name: &str = #wire; }
    });
    let server = api.server_packets.iter().map(|p| {
        let name = format_ident!("{}", shouty(&p.wire.replace('.', "_")));
        let wire = &p.wire;
        let d = doc(&format!("`{wire}`: {}", p.summary));
        quote! { #d pub const #name: &str = #wire; }
    });
    let content = api.content_types.iter().map(|c| {
        let name = format_ident!("{}", shouty(&c.wire));
        let wire = &c.wire;
        let d = doc(&format!("`{wire}`: {}", c.summary));
        quote! { #d pub const #name: &str = #wire; }
    });
    // Headers of the packets the runtime decodes itself (the handshake).
    let headers = api.packet_headers.iter().map(|t| type_decl(t, false));
    let header_defaults = default_fns(type_fields(&api.packet_headers));
    quote! {
        #![doc = " Wire names of packet types and content types."]
        /// Packet types a client sends.
        pub mod client {
            #(#client)*
        }
        /// Packet types the server pushes that the runtime handles itself.
        pub mod server {
            #(#server)*
            #(#headers)*
            #(#header_defaults)*
        }
        /// Content types (the `type` key of a content header).
        pub mod content {
            #(#content)*
        }
    }
}

pub(super) fn error_codes_rs(api: &Api) -> TokenStream {
    let variants: Vec<_> = api
        .error_codes
        .iter()
        .map(|e| format_ident!("{}", pascal(&e.name.to_lowercase())))
        .collect();
    let docs = api
        .error_codes
        .iter()
        .map(|e| doc(&format!("{} (`{}`, {}).", e.summary, e.name, e.code)));
    let codes: Vec<Literal> = api
        .error_codes
        .iter()
        .map(|e| Literal::i64_unsuffixed(e.code))
        .collect();
    let names = api.error_codes.iter().map(|e| e.name.as_str());
    let ty_doc = doc(&format!("A known error code. Codes the spec does not list are kept as numbers in\n{}; [`ErrorCode::from_code`] returns `None` for them.", Root::Error.doc_link(Some("Server"))));
    quote! {
        #![doc = " Error codes the server puts in an `error` content's `code`."]
        #ty_doc
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrorCode {
            #(#docs #variants,)*
        }

        impl ErrorCode {
            /// Every known code, in spec order.
            pub const ALL: &'static [ErrorCode] = &[#(ErrorCode::#variants),*];

            /// The numeric code on the wire.
            pub const fn code(self) -> i64 {
                match self { #(ErrorCode::#variants => #codes,)* }
            }

            /// The code's constant name, e.g. `STORAGE_NOT_FOUND`.
            pub const fn name(self) -> &'static str {
                match self { #(ErrorCode::#variants => #names,)* }
            }

            /// The known code for `code`, if any.
            pub const fn from_code(code: i64) -> Option<ErrorCode> {
                match code {
                    #(#codes => Some(ErrorCode::#variants),)*
                    _ => None,
                }
            }
        }
    }
}
