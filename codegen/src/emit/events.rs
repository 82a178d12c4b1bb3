//! `events.rs`: the `RoomEvent` enum, its decoding, and the structs of room core events.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::*;
use crate::ir::{Api, Event, Toolkit};
use crate::naming::{ident, pascal, snake};
use crate::runtime_type::{self as rt, Root};

/// Where an event's struct lives: a toolkit module, or `events.rs` for room core events.
pub(super) type Owner<'a> = Option<&'a Toolkit>;

pub(super) fn event_variant(owner: Owner<'_>, e: &Event) -> proc_macro2::Ident {
    match owner {
        Some(tk) => format_ident!("{}{}", pascal(&tk.name), pascal(&e.name)),
        None => format_ident!("{}", pascal(&e.name)),
    }
}

pub(super) fn owner_feature(owner: Owner<'_>) -> TokenStream {
    owner.map(|tk| feature(&tk.name)).unwrap_or_default()
}

/// The gate of a match arm for an event of `owner`.
pub(super) fn owner_arm_feature(owner: Owner<'_>) -> TokenStream {
    owner.map(|tk| arm_feature(&tk.name)).unwrap_or_default()
}

pub(super) fn event_path(owner: Owner<'_>, e: &Event) -> TokenStream {
    let s = format_ident!("{}", pascal(&e.name));
    match owner {
        Some(tk) => {
            let m = rt::generated_module(&tk.name);
            quote!(#m::#s)
        }
        None => quote!(#s),
    }
}

/// The struct of an event; the tail field, if any, is filled from the packet tail.
pub(super) fn event_struct(owner: Owner<'_>, e: &Event) -> TokenStream {
    let name = format_ident!("{}", pascal(&e.name));
    let d = doc(&format!(
        "{}\n\nPushed as `{}`; arrives as {}.",
        e.summary,
        e.packet,
        Root::RoomEvent.doc_link(Some(&event_variant(owner, e).to_string()))
    ));
    let fields = e.fields.iter().map(|f| {
        if e.tail.as_deref() == Some(f.wire.as_str()) {
            let n = ident(&f.rust);
            let fd = doc(&format!(
                "{}\n\nCarried in the packet's binary tail.",
                f.doc
            ));
            quote! { #fd #[serde(skip)] pub #n: bytes::Bytes, }
        } else {
            struct_field(f, true)
        }
    });
    let ctor = constructor(&name, &e.fields, e.tail.as_deref());
    quote! {
        #d
        #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
        #[non_exhaustive]
        pub struct #name { #(#fields)* }
        #ctor
    }
}

pub(super) fn events_rs(api: &Api) -> TokenStream {
    let all: Vec<(Owner<'_>, &Event)> = api
        .core_events
        .iter()
        .map(|e| (None, e))
        .chain(
            api.toolkits
                .iter()
                .flat_map(|tk| tk.events.iter().map(move |e| (Some(tk), e))),
        )
        .collect();
    let core_structs = api.core_events.iter().map(|e| event_struct(None, e));
    let core_defaults = default_fns(api.core_events.iter().flat_map(|e| e.fields.iter()));
    let variants = all.iter().map(|(tk, e)| {
        let v = event_variant(*tk, e);
        let path = event_path(*tk, e);
        let f = owner_feature(*tk);
        let d = doc(&format!("{} Pushed as `{}`.", e.summary, e.packet));
        quote! { #f #d #v(#path), }
    });
    let json_arms = all.iter().map(|(tk, e)| {
        let v = event_variant(*tk, e);
        let f = owner_arm_feature(*tk);
        quote! { #f RoomEvent::#v(e) => serde_json::to_value(e), }
    });
    let packet_arms = all.iter().map(|(tk, e)| {
        let v = event_variant(*tk, e);
        let f = owner_arm_feature(*tk);
        let p = &e.packet;
        quote! { #f RoomEvent::#v(_) => #p, }
    });
    let decode_arms = packet_groups(&all).into_iter().map(|(tk, packet, events)| {
        let f = owner_arm_feature(tk);
        let selected: Vec<TokenStream> = events
            .iter()
            .filter_map(|e| {
                let (_, value) = e.when.as_ref()?;
                let d = decode_event(tk, e);
                Some(quote! { Some(#value) => #d, })
            })
            .collect();
        let fallback = events
            .iter()
            .find(|e| e.when.is_none())
            .map_or(quote!(return None), |e| decode_event(tk, e));
        match events.iter().find_map(|e| e.when.as_ref()) {
            Some((key, _)) => quote! {
                #f #packet => match header.get(#key).and_then(serde_json::Value::as_str) {
                    #(#selected)*
                    _ => #fallback,
                },
            },
            None => quote! { #f #packet => #fallback, },
        }
    });
    let unknown = Root::UnknownPacket.tokens();
    let connection = Root::ConnectionEvent.tokens();
    let dispatch_gate = feature("dispatch");
    quote! {
        #![doc = " Typed events the room server pushes."]
        /// An event pushed by the room server, or one the client reports about its own
        /// connection ([`RoomEvent::Connection`], [`RoomEvent::Lagged`]).
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        pub enum RoomEvent {
            #(#variants)*
            /// A pushed packet this client does not know (or whose toolkit feature is off), kept as received.
            Unknown(#unknown),
            /// The client's connection changed: lost, reconnecting, back, or closed for good.
            /// Reported by the client, never sent on the wire (packet type `client.connection`).
            Connection(#connection),
            /// This subscriber read too slowly and this many of the oldest events were
            /// dropped from its queue (see `ConnectOptions::event_buffer`). Reported by the
            /// client (packet type `client.lagged`).
            Lagged(u64),
        }

        impl RoomEvent {
            /// The wire packet type that carried the event (`client.connection` and
            /// `client.lagged` for the client's own reports).
            pub fn packet_type(&self) -> &str {
                match self {
                    #(#packet_arms)*
                    RoomEvent::Unknown(p) => &p.packet_type,
                    RoomEvent::Connection(_) => "client.connection",
                    RoomEvent::Lagged(_) => "client.lagged",
                }
            }

            /// The event's header fields as JSON (an unknown packet's header as received;
            /// tail fields are left out). Feature `dispatch`.
            #dispatch_gate
            pub fn to_json(&self) -> serde_json::Result<serde_json::Value> {
                match self {
                    #(#json_arms)*
                    RoomEvent::Unknown(p) => Ok(serde_json::Value::Object(p.header.clone())),
                    RoomEvent::Connection(c) => serde_json::to_value(c),
                    RoomEvent::Lagged(n) => Ok(serde_json::json!({ "skipped": n })),
                }
            }

            /// Decodes a pushed packet's JSON header and tail: `None` when the packet type
            /// is not a known event, an error when it is but the header does not match.
            #[allow(unused_variables)]
            pub(crate) fn decode(
                packet_type: &str,
                header: &serde_json::Value,
                tail: bytes::Bytes,
            ) -> Option<Result<RoomEvent, serde_json::Error>> {
                Some(match packet_type {
                    #(#decode_arms)*
                    _ => return None,
                })
            }
        }

        #(#core_structs)*
        #(#core_defaults)*
    }
}

/// Events grouped by packet, in first-seen order (events sharing a packet are in one file).
pub(super) fn packet_groups<'a>(
    all: &[(Owner<'a>, &'a Event)],
) -> Vec<(Owner<'a>, &'a str, Vec<&'a Event>)> {
    let mut groups: Vec<(Owner<'a>, &str, Vec<&Event>)> = Vec::new();
    for (tk, e) in all {
        match groups.iter_mut().find(|(_, p, _)| *p == e.packet) {
            Some((_, _, events)) => events.push(e),
            None => groups.push((*tk, &e.packet, vec![e])),
        }
    }
    groups
}

/// Decodes the header into the event's struct, moving the tail into its tail field.
pub(super) fn decode_event(owner: Owner<'_>, e: &Event) -> TokenStream {
    let v = event_variant(owner, e);
    let path = event_path(owner, e);
    match &e.tail {
        Some(tail) => {
            let t = ident(&snake(tail));
            quote! {
                <#path as serde::Deserialize>::deserialize(header).map(|mut e: #path| {
                    e.#t = tail;
                    RoomEvent::#v(e)
                })
            }
        }
        None => quote! { <#path as serde::Deserialize>::deserialize(header).map(RoomEvent::#v) },
    }
}
