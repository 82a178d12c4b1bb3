//! One module per toolkit: the toolkit struct, a method and a request builder per tool.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::*;
use crate::ir::{Field, JsonBody, JsonOutput, Output, Tool, ToolKind, Toolkit, TypeRef};
use crate::ir::{FlowMethod, Stream};
use crate::naming::{ident, pascal, shouty, snake};
use crate::runtime_type::Root;
use crate::spec::model::Absent;

/// Every field a toolkit module decodes: types, events and inline replies.
pub(super) fn decoded_fields(tk: &Toolkit) -> Vec<&Field> {
    let replies = tk.tools.iter().flat_map(|t| match &t.kind {
        ToolKind::Plain {
            output:
                Output::Json(JsonOutput {
                    body: JsonBody::Fields(f),
                    ..
                }),
            ..
        } => f.iter().collect(),
        _ => Vec::new(),
    });
    type_fields(&tk.types)
        .into_iter()
        .chain(tk.events.iter().flat_map(|e| e.fields.iter()))
        .chain(replies)
        .collect()
}

pub(super) fn toolkit_rs(tk: &Toolkit) -> TokenStream {
    let defaults = default_fns(decoded_fields(tk));
    let s = format_ident!("{}", pascal(&tk.name));
    let wire = &tk.name;
    let tk_doc = doc(&format!(
        "{}\n\nGet it with {}.",
        tk.summary,
        Root::RoomClient.doc_link(Some(&tk.name))
    ));
    let methods = tk.tools.iter().filter_map(|t| tool_method(tk, t));
    let dispatch = dispatch_impl(tk);
    let builders = tk.tools.iter().filter_map(|t| tool_builder(tk, t));
    let events = tk.events.iter().map(|e| event_struct(Some(tk), e));
    let types = tk.types.iter().map(|t| type_decl(t, false));
    let streaming: Vec<String> = tk
        .tools
        .iter()
        .filter(|t| matches!(&t.kind, ToolKind::Stream(s) if s.shape.method.is_none()))
        .map(|t| format!("`{}`", t.name))
        .collect();
    let streaming_note = (!streaming.is_empty()).then(|| {
        doc(&format!(
            "\nStreaming tools declared in the spec without a generated method yet: {}. Reach them with {}.",
            streaming.join(", "),
            Root::RoomClient.doc_link(Some("open_stream"))
        ))
    });
    let mod_doc = format!(" Toolkit `{wire}`: {}", tk.summary);
    let room = Root::RoomClient.tokens();
    let constants = tk.constants.iter().map(|g| {
        let m = ident(&g.name);
        let d = format!(" {}", g.summary);
        let values = g.values.iter().map(|(name, value, vdoc)| {
            let c = ident(&shouty(name));
            let vd = doc(&format!("`{value}`: {vdoc}"));
            let v = proc_macro2::Literal::i64_unsuffixed(*value);
            quote! { #vd pub const #c: i64 = #v; }
        });
        quote! {
            pub mod #m {
                #![doc = #d]
                #(#values)*
            }
        }
    });
    quote! {
        #![doc = #mod_doc]
        #![allow(clippy::too_many_arguments)]

        /// Wire name of this toolkit.
        pub const TOOLKIT: &str = #wire;

        #(#constants)*

        #tk_doc
        #streaming_note
        #[derive(Debug, Clone)]
        pub struct #s {
            pub(crate) room: #room,
        }

        impl #s {
            #(#methods)*
        }

        #dispatch

        #(#builders)*
        #(#events)*
        #(#types)*
        #(#defaults)*
    }
}

pub(super) fn builder_name(t: &Tool) -> proc_macro2::Ident {
    ident(&crate::naming::builder(&t.name))
}

pub(super) fn tool_parts(t: &Tool) -> Option<(&[Field], &Output)> {
    match &t.kind {
        ToolKind::Plain { input, output, .. } => Some((input, output)),
        ToolKind::Stream(_) => None,
    }
}

/// How a generated method calls the server.
pub(super) enum Call<'a> {
    /// `room.invoke_tool` with a JSON input and a typed reply.
    Plain(&'a Output),
    /// A streaming tool whose flow shape names an engine.
    Flow(&'a Stream, &'a FlowMethod),
}

/// The arguments and call kind of a tool that gets a generated method: plain tools, and
/// streaming tools whose flow shape has a `signature` and an `engine`.
pub(super) fn method_parts(t: &Tool) -> Option<(&[Field], Call<'_>)> {
    match &t.kind {
        ToolKind::Plain { input, output, .. } => Some((input, Call::Plain(output))),
        ToolKind::Stream(s) => {
            let method = s.shape.method.as_ref()?;
            let start = s
                .request
                .iter()
                .find(|c| c.kind == "start")
                .map_or(&[][..], |c| &c.headers[..]);
            Some((start, Call::Flow(s, method)))
        }
    }
}

/// The signature's parts of a streaming call (`None` for plain calls).
pub(super) fn call_flow_parts(tk: &Toolkit, t: &Tool, call: &Call<'_>) -> Option<FlowParts> {
    match call {
        Call::Plain(_) => None,
        Call::Flow(s, m) => Some(flow_parts(tk, t, s, m)),
    }
}

pub(super) fn tool_method(tk: &Toolkit, t: &Tool) -> Option<TokenStream> {
    let (input, call) = method_parts(t)?;
    let flow = call_flow_parts(tk, t, &call);
    let extra = flow.as_ref().and_then(|p| p.param.clone());
    let extra_init = flow
        .as_ref()
        .and_then(|p| p.field.as_ref().map(|(_, init)| init.clone()));
    let method = ident(&snake(&t.name));
    let builder = builder_name(t);
    let required: Vec<&Field> = input.iter().filter(|f| f.is_required()).collect();
    let params = required
        .iter()
        .map(|f| {
            let n = ident(&f.rust);
            let (ty, _) = arg(&f.ty);
            quote!(#n: #ty)
        })
        .chain(extra.as_ref().map(|(param, _)| param.clone()));
    let inits = input.iter().map(|f| {
        let n = ident(&f.rust);
        if f.is_required() {
            if arg(&f.ty).1 {
                quote!(#n: #n.into())
            } else {
                quote!(#n)
            }
        } else if let Some(d) = &f.default {
            let v = default_value(&f.ty, d);
            quote!(#n: #v)
        } else {
            quote!(#n: None)
        }
    });
    let optional: Vec<String> = input
        .iter()
        .filter(|f| !f.is_required())
        .map(|f| format!("[`{}`]({builder}::{})", f.rust, f.rust))
        .collect();
    let sends = match call {
        Call::Plain(_) if t.nowait => {
            "Sends `room.invoke_tool` without waiting for its reply (fire-and-forget: `.await` returns once the request is sent)"
        }
        Call::Plain(_) => "Sends `room.invoke_tool`",
        Call::Flow(..) => "Streams (`room.invoke_tool` with `control/open`, then chunks)",
    };
    let mut text = format!("{}\n\n{sends} for tool `{}.{}`", t.summary, tk.name, t.name);
    if optional.is_empty() {
        text.push_str("; `.await` the returned request.");
    } else {
        text.push_str(&format!(
            ". Optional arguments: {}; then `.await`.",
            optional.join(", ")
        ));
    }
    let arg_docs: Vec<String> = required
        .iter()
        .map(|f| format!("- `{}`: {}", f.rust, f.doc))
        .chain(extra.map(|(_, doc)| doc))
        .collect();
    if !arg_docs.is_empty() {
        text.push_str(&format!("\n\n# Arguments\n{}", arg_docs.join("\n")));
    }
    let d = doc(&text);
    Some(quote! {
        #d
        pub fn #method(&self, #(#params),*) -> #builder {
            #builder { room: self.room.clone(), #extra_init #(#inits,)* }
        }
    })
}

pub(super) fn tool_builder(tk: &Toolkit, t: &Tool) -> Option<TokenStream> {
    let (input, call) = method_parts(t)?;
    let builder = builder_name(t);
    let fields = input.iter().map(|f| builder_field(f, false));
    let setters: Vec<TokenStream> = input
        .iter()
        .filter(|f| !f.is_required())
        .map(|f| {
            let n = ident(&f.rust);
            let inner = match &f.ty {
                TypeRef::Optional(i) => i.as_ref(),
                other => other,
            };
            let (ty, into) = arg(inner);
            let conv = if into { quote!(#n.into()) } else { quote!(#n) };
            let value = if f.ty.is_optional() {
                quote!(Some(#conv))
            } else {
                conv
            };
            let mut text = f.doc.clone();
            if let Some(d) = &f.default {
                text.push_str(&format!("\n\nDefault: `{d}`."));
            } else if f.fresh.is_some() {
                text.push_str(&format!(
                    "\n\nWhen not set, `{}` is a freshly drawn id.",
                    f.wire
                ));
            } else {
                let absent = match f.absent {
                    Absent::Omit => "left out of the request",
                    Absent::SendNull => "sent as `null`",
                };
                text.push_str(&format!("\n\nWhen not set, `{}` is {absent}.", f.wire));
            }
            let d = doc(&text);
            quote! {
                #d
                pub fn #n(mut self, #n: #ty) -> Self {
                    self.#n = #value;
                    self
                }
            }
        })
        .collect();
    let setters = (!setters.is_empty()).then(|| quote! { impl #builder { #(#setters)* } });
    let (decode, source_field) = match (&call, call_flow_parts(tk, t, &call)) {
        (Call::Plain(output), _) => (output_decode(t, tk, output), None),
        (Call::Flow(..), Some(parts)) => {
            let field = parts.field.map(|(decl, _)| quote! { #[serde(skip)] #decl });
            (parts.decode, field)
        }
        (Call::Flow(..), None) => return None,
    };
    let Decode {
        ret,
        private,
        public,
        expr,
    } = decode;
    let (room, result) = (Root::RoomClient.tokens(), Root::Result.tokens());
    let d = doc(&format!(
        "A call of `{}.{}` ({}); `.await` it to send it and get the typed result.",
        tk.name,
        t.name,
        t.summary.trim_end_matches('.')
    ));
    Some(quote! {
        #d
        #[derive(Debug, serde::Serialize)]
        #[must_use = "a request does nothing until it is awaited"]
        pub struct #builder {
            #[serde(skip)]
            pub(crate) room: #room,
            #source_field
            #(#fields)*
        }

        #setters

        impl std::future::IntoFuture for #builder {
            type Output = #result<#ret>;
            type IntoFuture = futures::future::BoxFuture<'static, Self::Output>;

            fn into_future(self) -> Self::IntoFuture {
                #private
                Box::pin(async move { #expr })
            }
        }

        #public
    })
}
