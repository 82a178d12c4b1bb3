//! The `dispatch` table of a toolkit (feature `dispatch`).

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::*;
use crate::ir::{Toolkit, TypeRef};
use crate::naming::{ident, pascal, snake};
use crate::spec::model::Flow;

/// `dispatch(tool, json, input)`: calls a tool through its typed method from JSON arguments
/// (wire names) and returns the typed result as JSON; streaming tools take their input
/// from `input` and collect their output (see `runtime::dispatch`). Behind the `dispatch`
/// feature; used by the conformance replay so that a recorded case needs no per-case code.
pub(super) fn dispatch_impl(tk: &Toolkit) -> TokenStream {
    let s = format_ident!("{}", pascal(&tk.name));
    let arms = tk.tools.iter().filter_map(|t| {
        let (input, call) = method_parts(t)?;
        let wire = &t.name;
        let method = ident(&snake(&t.name));
        let fields = input.iter().map(|f| {
            let n = ident(&f.rust);
            let ty = match &f.ty {
                // Tail bytes arrive base64-encoded in JSON arguments.
                TypeRef::Tail => quote!(crate::Base64Bytes),
                TypeRef::Optional(i) if **i == TypeRef::Tail => quote!(Option<crate::Base64Bytes>),
                TypeRef::Optional(_) => field_type(f),
                _ if f.is_required() => field_type(f),
                _ => {
                    let t = field_type(f);
                    quote!(Option<#t>)
                }
            };
            let rename = (f.rust != f.wire).then(|| {
                let w = &f.wire;
                quote!(#[serde(rename = #w)])
            });
            let default = (!f.is_required()).then(|| quote!(#[serde(default)]));
            quote! { #rename #default #n: #ty, }
        });
        let stream_input = match call {
            Call::Flow(Flow::PullUpload) => {
                Some(quote!(crate::support::dispatch::byte_source(tool, input)))
            }
            Call::Flow(Flow::WriteBatches) => {
                Some(quote!(crate::support::dispatch::batches(tool, input)))
            }
            _ => None,
        };
        let take_input = stream_input.as_ref().map(|e| {
            quote! {
                let input = match #e {
                    Ok(i) => i,
                    Err(e) => return Some(Err(e)),
                };
            }
        });
        let required = input
            .iter()
            .filter(|f| f.is_required())
            .map(|f| {
                let n = ident(&f.rust);
                quote!(a.#n)
            })
            .chain(stream_input.is_some().then(|| quote!(input)));
        let optional = input.iter().filter(|f| !f.is_required()).map(|f| {
            let n = ident(&f.rust);
            quote! { if let Some(v) = a.#n { call = call.#n(v); } }
        });
        let mutable = input.iter().any(|f| !f.is_required()).then(|| quote!(mut));
        let finish = match call {
            Call::Flow(Flow::PullDownload) => {
                quote!(crate::support::dispatch::download(call.await).await)
            }
            Call::Flow(Flow::ReadBatches | Flow::ServerPush) => {
                quote!(crate::support::dispatch::collect(call.await).await)
            }
            _ => quote!(crate::support::dispatch::result(call.await)),
        };
        Some(quote! {
            #wire => {
                #[derive(serde::Deserialize)]
                #[serde(deny_unknown_fields)]
                struct Args { #(#fields)* }
                let a: Args = match crate::support::dispatch::args(tool, args) {
                    Ok(a) => a,
                    Err(e) => return Some(Err(e)),
                };
                #take_input
                let #mutable call = self.#method(#(#required),*);
                #(#optional)*
                #finish
            }
        })
    });
    quote! {
        #[cfg(feature = "dispatch")]
        impl #s {
            /// Calls `tool` from JSON arguments (wire names) through its typed method and returns
            /// the typed result as JSON; a streaming tool reads its input from `input` and
            /// collects its output (see [`crate::support::dispatch`]). `None` when there is no such tool.
            #[allow(unused_variables, unreachable_code)]
            pub async fn dispatch(&self, tool: &str, args: serde_json::Value, input: Vec<serde_json::Value>) -> Option<crate::Result<serde_json::Value>> {
                Some(match tool {
                    #(#arms)*
                    _ => return None,
                })
            }
        }
    }
}
