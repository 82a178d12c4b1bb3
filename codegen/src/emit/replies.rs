//! How a plain tool's reply is decoded into the method's result.

use proc_macro2::TokenStream;
use quote::quote;

use super::*;
use crate::ir::{JsonBody, JsonOutput, Output, Tool, Toolkit, TypeRef};
use crate::naming::ident;
use crate::runtime_type::{Root, Support};

/// What a generated call resolves to and how: used for plain replies here and for
/// streaming calls in [`super::flows`].
pub(super) struct Decode {
    /// The Rust type callers get (`Output = Result<ret>`).
    pub(super) ret: TokenStream,
    /// A private wrapper type declared inside `into_future` (for `returns`).
    pub(super) private: TokenStream,
    /// A public output struct declared in the module (`<Tool>Output`).
    pub(super) public: TokenStream,
    /// The body of `into_future`'s async block.
    pub(super) expr: TokenStream,
}

pub(super) fn output_decode(t: &Tool, tk: &Toolkit, output: &Output) -> Decode {
    if t.nowait {
        // Fire-and-forget: the request is sent, its reply never awaited.
        let wire = &t.name;
        return Decode {
            ret: quote!(()),
            private: quote!(),
            public: quote!(),
            expr: quote!(self.room.invoke_json_nowait(TOOLKIT, #wire, &self).await),
        };
    }
    let d = reply_decode(t, tk, output);
    let wire = &t.name;
    let expr = d.expr;
    let tail = tool_parts(t).and_then(|(input, _)| input.iter().find(|f| tail_field(f)));
    let invoke = match tail {
        Some(f) => {
            let n = ident(&f.rust);
            let bytes = if f.ty.is_optional() {
                quote!(self.#n.clone().unwrap_or_default())
            } else {
                quote!(self.#n.clone())
            };
            quote!(self.room.invoke_binary(TOOLKIT, #wire, &self, #bytes).await?)
        }
        None => quote!(self.room.invoke_json(TOOLKIT, #wire, &self).await?),
    };
    Decode {
        expr: quote! {
            let reply = #invoke;
            #expr
        },
        ..d
    }
}

pub(super) fn reply_decode(t: &Tool, tk: &Toolkit, output: &Output) -> Decode {
    let tool_id = format!("{}.{}", tk.name, t.name);
    let simple = |ret: TokenStream, expr: TokenStream| Decode {
        ret,
        private: quote!(),
        public: quote!(),
        expr,
    };
    // A decoder of `crate::support::decode` applied to the reply (and the tool id).
    let call = |f: &str| {
        let f = Support::Decode.item(f);
        quote!(#f(reply, #tool_id))
    };
    let file = Root::FileContent.tokens();
    match output {
        Output::Ignore => {
            let f = Support::Decode.item("ignore");
            simple(quote!(()), quote!(#f(reply)))
        }
        Output::Empty => simple(quote!(()), call("empty")),
        Output::Text => simple(quote!(String), call("text")),
        Output::EmptyOrJson => simple(quote!(()), call("empty_or_json")),
        Output::JsonIgnored => simple(quote!(()), call("json_ignored")),
        Output::File { empty_none: false } => simple(file, call("file")),
        Output::File { empty_none: true } => simple(quote!(Option<#file>), call("file_or_empty")),
        Output::Json(j) => json_decode(t, j, &tool_id),
    }
}

pub(super) fn json_decode(t: &Tool, j: &JsonOutput, tool_id: &str) -> Decode {
    let returned = match (&j.body, &j.returns) {
        (JsonBody::Fields(fields), Some(ret)) => fields.iter().find(|f| &f.wire == ret),
        _ => None,
    };
    // `decoded` is what serde reads; `value` what the caller gets (one field of a private
    // wrapper when the spec says `returns`).
    let (decoded, private, public, pick, value) = match (&j.body, returned) {
        (JsonBody::Type(ty), _) => {
            let r = rust_type(ty);
            (r.clone(), quote!(), quote!(), None, r)
        }
        (JsonBody::Fields(_), Some(f)) => {
            let n = ident(&f.rust);
            let decl = struct_field(f, false);
            let ty = rust_type(&f.ty);
            let private = quote! {
                #[derive(serde::Deserialize)]
                struct Reply { #decl }
            };
            (
                quote!(Reply),
                private,
                quote!(),
                Some(quote!(|r: Reply| r.#n)),
                ty,
            )
        }
        (JsonBody::Fields(fields), None) => {
            let name = ident(&crate::naming::output_struct(&t.name));
            let ctor = constructor(&name, fields, None);
            let fields = fields.iter().map(|f| struct_field(f, true));
            let d = doc(&format!("Reply of `{tool_id}`."));
            let decl = quote! {
                #d
                #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
                #[non_exhaustive]
                pub struct #name { #(#fields)* }
                #ctor
            };
            (quote!(#name), quote!(), decl, None, quote!(#name))
        }
    };
    let object = matches!(
        &j.body,
        JsonBody::Fields(_) | JsonBody::Type(TypeRef::Named { .. })
    );
    let decoder = |f: &str| Support::Decode.item(f);
    let (present_when, or_empty) = (decoder("json_present_when"), decoder("json_or_empty"));
    let (json_object, json) = (decoder("json_object"), decoder("json"));
    // A binary reply: its headers plus the tail as one field, decoded as an object.
    if let Some(b) = &j.binary {
        let f = decoder(if b.or_json {
            "json_or_binary"
        } else {
            "binary"
        });
        let tail = &b.tail;
        let call = quote!(#f::<#decoded>(reply, #tail, #tool_id));
        let expr = match &pick {
            Some(p) => quote!(#call.map(#p)),
            None => call,
        };
        return Decode {
            ret: value,
            private,
            public,
            expr,
        };
    }
    let optional_call = if let Some(key) = &j.present_when {
        Some(quote!(#present_when::<#decoded>(reply, #key, #tool_id)))
    } else if j.empty_none {
        Some(quote!(#or_empty::<#decoded>(reply, #tool_id)))
    } else {
        None
    };
    let (ret, expr) = match (optional_call, pick) {
        (Some(call), Some(p)) => (quote!(Option<#value>), quote!(#call.map(|o| o.map(#p)))),
        (Some(call), None) => (quote!(Option<#value>), call),
        (None, Some(p)) => (
            value,
            quote!(#json_object::<#decoded>(reply, #tool_id).map(#p)),
        ),
        // Named types and inline fields are JSON objects, never arrays.
        (None, None) if object => (value, quote!(#json_object::<#decoded>(reply, #tool_id))),
        (None, None) => (value, quote!(#json::<#decoded>(reply, #tool_id))),
    };
    Decode {
        ret,
        private,
        public,
        expr,
    }
}
