//! The `dispatch` table of a toolkit (feature `dispatch`).

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::*;
use crate::ir::{Toolkit, TypeRef};
use crate::naming::{ident, pascal, snake};
use crate::runtime_type::{Root, Support};

/// `dispatch(tool, json, input)`: calls a tool through its typed method from JSON arguments
/// (wire names) and returns the typed result as JSON; streaming tools take their input
/// from `input` and collect their output (see `support::dispatch`). Behind the `dispatch`
/// feature; used by the conformance replay so that a recorded case needs no per-case code.
pub(super) fn dispatch_impl(tk: &Toolkit) -> TokenStream {
    let s = format_ident!("{}", pascal(&tk.name));
    let base64 = Root::Base64Bytes.tokens();
    let args_fn = Support::Dispatch.item("args");
    let result_fn = Support::Dispatch.item("result");
    let arms = tk.tools.iter().filter_map(|t| {
        let (input, call) = method_parts(t)?;
        let flow = call_flow_parts(tk, t, &call);
        let wire = &t.name;
        let method = ident(&snake(&t.name));
        let fields = input.iter().map(|f| {
            let n = ident(&f.rust);
            let ty = match &f.ty {
                // Tail bytes arrive base64-encoded in JSON arguments.
                TypeRef::Tail => quote!(#base64),
                TypeRef::Optional(i) if **i == TypeRef::Tail => quote!(Option<#base64>),
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
        let stream_input = flow.as_ref().and_then(|p| p.dispatch_input.clone());
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
        let finish = match flow {
            Some(p) => p.dispatch_finish,
            None => quote!(#result_fn(call.await)),
        };
        Some(quote! {
            #wire => {
                #[derive(serde::Deserialize)]
                #[serde(deny_unknown_fields)]
                struct Args { #(#fields)* }
                let a: Args = match #args_fn(tool, args) {
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
    let d = doc(&format!("Calls `tool` from JSON arguments (wire names) through its typed method and returns\nthe typed result as JSON; a streaming tool reads its input from `input` and\ncollects its output (see {}). `None` when there is no such tool.", Support::Dispatch.doc_name()));
    let result = Root::Result.tokens();
    let dispatch_gate = feature("dispatch");
    quote! {
        #dispatch_gate
        impl #s {
            #d
            #[allow(unused_variables, unreachable_code)]
            pub async fn dispatch(&self, tool: &str, args: serde_json::Value, input: Vec<serde_json::Value>) -> Option<#result<serde_json::Value>> {
                Some(match tool {
                    #(#arms)*
                    _ => return None,
                })
            }
        }
    }
}
