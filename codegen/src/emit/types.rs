//! Named types, struct fields, serde attributes and default values.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};
use serde_json::Value;

use super::*;
use crate::ir::{Field, Shape, TypeDecl, TypeRef};
use crate::naming::{ident, pascal};
use crate::runtime_type::{self as rt, Root};
use crate::spec::model::Absent;

/// Every field of the named types (struct fields and union variant fields).
pub(super) fn type_fields(types: &[TypeDecl]) -> Vec<&Field> {
    types
        .iter()
        .flat_map(|t| match &t.shape {
            Shape::Struct(fields) => fields.iter().collect::<Vec<_>>(),
            Shape::Union { variants, .. } => {
                variants.iter().flat_map(|(_, _, f)| f.iter()).collect()
            }
            Shape::Enum(_) => Vec::new(),
        })
        .collect()
}

/// The Rust type of a field; named types resolve in the toolkit module or `crate::types`.
pub(super) fn rust_type(t: &TypeRef) -> TokenStream {
    match t {
        TypeRef::String => quote!(String),
        TypeRef::Bool => quote!(bool),
        TypeRef::Int => quote!(i64),
        TypeRef::Float => quote!(f64),
        TypeRef::Bytes => Root::Base64Bytes.tokens(),
        TypeRef::Tail => quote!(bytes::Bytes),
        TypeRef::Json => quote!(serde_json::Value),
        TypeRef::Timestamp => Root::Timestamp.tokens(),
        TypeRef::List(i) => {
            let i = rust_type(i);
            quote!(Vec<#i>)
        }
        TypeRef::Map(i) => {
            let i = rust_type(i);
            quote!(indexmap::IndexMap<String, #i>)
        }
        TypeRef::JsonString(i) => {
            let i = rust_type(i);
            let j = Root::JsonString.tokens();
            quote!(#j<#i>)
        }
        TypeRef::Optional(i) => {
            let i = rust_type(i);
            quote!(Option<#i>)
        }
        TypeRef::Named { name, shared: true } => rt::shared_type(name),
        TypeRef::Named {
            name,
            shared: false,
        } => {
            let n = format_ident!("{name}");
            quote!(#n)
        }
    }
}

/// serde attributes for a field: the wire name and the rule for absent optional values.
pub(super) fn serde_attrs(f: &Field) -> TokenStream {
    let rename = (f.rust != f.wire).then(|| {
        let w = &f.wire;
        quote!(#[serde(rename = #w)])
    });
    let optional = f.ty.is_optional().then(|| match f.absent {
        Absent::Omit => quote!(#[serde(default, skip_serializing_if = "Option::is_none")]),
        Absent::SendNull => quote!(#[serde(default)]),
    });
    let skip = f.skip_invalid.then(|| {
        let with = rt::Support::Decode.item_path("skip_invalid");
        quote!(#[serde(deserialize_with = #with)])
    });
    quote!(#rename #optional #skip)
}

/// A field's Rust type, boxing a self-containing named type.
pub(super) fn field_type(f: &Field) -> TokenStream {
    match (&f.ty, f.boxed) {
        (TypeRef::Optional(inner), true) => {
            let i = rust_type(inner);
            quote!(Option<Box<#i>>)
        }
        (t, true) => {
            let i = rust_type(t);
            quote!(Box<#i>)
        }
        (t, false) => rust_type(t),
    }
}

pub(super) fn struct_field(f: &Field, public: bool) -> TokenStream {
    let default = default_attr(f);
    let field = builder_field(f, public);
    quote! { #default #field }
}

/// `#[serde(default)]` for a decoded field whose spec default is the type's zero value,
/// `#[serde(default = "...")]` naming a generated function otherwise.
pub(super) fn default_attr(f: &Field) -> Option<TokenStream> {
    let d = f.default.as_ref()?;
    Some(match default_fn(f, d) {
        None => quote!(#[serde(default)]),
        Some((name, _)) => {
            let name = name.to_string();
            quote!(#[serde(default = #name)])
        }
    })
}

/// The function a non-zero default needs: its name and definition (`None` for zero values).
pub(super) fn default_fn(f: &Field, d: &Value) -> Option<(proc_macro2::Ident, TokenStream)> {
    // Whether `Default::default()` of the Rust type is this value (JSON's default is null).
    let zero = match d {
        _ if f.ty == TypeRef::Json => d.is_null(),
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty() && !matches!(f.ty, TypeRef::Named { .. }),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        Value::Null => true,
    };
    if zero {
        return None;
    }
    let tag: String = format!("{:?}_{d}", f.ty)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    // Readable, and unique per (type, value): the hash of the exact text tells apart values
    // that sanitize alike (`{}` and `[]`).
    let exact = format!("{:?}_{d}", f.ty);
    let hash = exact.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    let readable = tag
        .split('_')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("_");
    let name = format_ident!("default_{readable}_{:08x}", hash as u32);
    let ty = rust_type(&f.ty);
    let value = default_value(&f.ty, d);
    Some((name.clone(), quote! { fn #name() -> #ty { #value } }))
}

/// The functions every non-zero default of `fields` needs, deduplicated by name.
pub(super) fn default_fns<'a>(fields: impl IntoIterator<Item = &'a Field>) -> Vec<TokenStream> {
    let mut fns = std::collections::BTreeMap::new();
    for f in fields {
        if let Some((name, def)) = f.default.as_ref().and_then(|d| default_fn(f, d)) {
            fns.insert(name.to_string(), def);
        }
    }
    fns.into_values().collect()
}

/// A field as the request builders hold it (no decode defaults: the builder sets them).
pub(super) fn builder_field(f: &Field, public: bool) -> TokenStream {
    let name = ident(&f.rust);
    let ty = field_type(f);
    // The tail travels after the JSON, not in it.
    let attrs = if tail_field(f) {
        quote!(#[serde(skip)])
    } else {
        serde_attrs(f)
    };
    let d = doc(&f.doc);
    let vis = public.then(|| quote!(pub));
    quote! { #d #attrs #vis #name: #ty, }
}

pub(super) fn type_decl(t: &TypeDecl, _shared: bool) -> TokenStream {
    let name = format_ident!("{}", t.name);
    let d = doc(&t.summary);
    match &t.shape {
        Shape::Struct(fields) => {
            let ctor = constructor(&name, fields, None);
            let fields = fields.iter().map(|f| struct_field(f, true));
            quote! {
                #d
                #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
                #[non_exhaustive]
                pub struct #name { #(#fields)* }
                #ctor
            }
        }
        Shape::Enum(values) => {
            let variants: Vec<_> = values
                .iter()
                .map(|(v, _)| format_ident!("{}", pascal(v)))
                .collect();
            let docs = values.iter().map(|(v, d)| doc(&format!("`{v}`: {d}")));
            let wires: Vec<&str> = values.iter().map(|(v, _)| v.as_str()).collect();
            quote! {
                #d
                ///
                /// Values this client does not know are kept in `Other`.
                #[derive(Debug, Clone, PartialEq, Eq, Hash)]
                #[non_exhaustive]
                pub enum #name {
                    #(#docs #variants,)*
                    /// A value not in the spec, kept as sent.
                    Other(String),
                }
                impl #name {
                    /// The wire value.
                    pub fn as_str(&self) -> &str {
                        match self { #(#name::#variants => #wires,)* #name::Other(s) => s }
                    }
                }
                impl From<&str> for #name {
                    fn from(s: &str) -> Self {
                        match s { #(#wires => #name::#variants,)* other => #name::Other(other.to_string()) }
                    }
                }
                impl serde::Serialize for #name {
                    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                        s.serialize_str(self.as_str())
                    }
                }
                impl<'de> serde::Deserialize<'de> for #name {
                    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                        Ok(#name::from(s.as_ref()))
                    }
                }
            }
        }
        Shape::Union {
            tag,
            variants,
            other,
        } => {
            let vs = variants.iter().map(|(wire, vdoc, fields)| {
                let v = format_ident!("{}", pascal(wire));
                let fields = fields.iter().map(|f| struct_field(f, false));
                let vd = doc(vdoc);
                quote! { #vd #[serde(rename = #wire)] #v { #(#fields)* }, }
            });
            // serde tries the tagged variants first, then this untagged one (it must be last).
            let other = other.as_ref().map(|text| {
                let od = doc(text);
                quote! { #od #[serde(untagged)] Other(serde_json::Value), }
            });
            // Variants are wire shapes of any size (a token grant may hold a whole ApiScope);
            // boxing them would only make them harder to build.
            quote! {
                #d
                #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
                #[serde(tag = #tag)]
                #[non_exhaustive]
                #[allow(clippy::large_enum_variant)]
                pub enum #name { #(#vs)* #other }
            }
        }
    }
}

/// Whether the field is a `binary` input's tail.
pub(super) fn tail_field(f: &Field) -> bool {
    matches!(&f.ty, TypeRef::Tail) || matches!(&f.ty, TypeRef::Optional(i) if **i == TypeRef::Tail)
}

/// Argument type and conversion for a setter or positional argument of type `ty`.
pub(super) fn arg(ty: &TypeRef) -> (TokenStream, bool) {
    match ty {
        TypeRef::String => (quote!(impl Into<String>), true),
        TypeRef::Tail => (quote!(impl Into<bytes::Bytes>), true),
        // Plain values convert: `json!({..})` for a `JsonString<Value>`, a `Vec<u8>` for bytes.
        TypeRef::JsonString(_) | TypeRef::Bytes | TypeRef::Timestamp => {
            let t = rust_type(ty);
            (quote!(impl Into<#t>), true)
        }
        other => (rust_type(other), false),
    }
}

/// A Rust expression for a spec default value (checked against the type by the IR).
pub(super) fn default_value(ty: &TypeRef, v: &Value) -> TokenStream {
    match (ty, v) {
        (TypeRef::Bool, Value::Bool(b)) => quote!(#b),
        (TypeRef::Int, Value::Number(n)) => {
            let l = Literal::i64_suffixed(n.as_i64().unwrap_or_default());
            quote!(#l)
        }
        (TypeRef::Float, Value::Number(n)) => {
            let l = Literal::f64_suffixed(n.as_f64().unwrap_or_default());
            quote!(#l)
        }
        (TypeRef::String, Value::String(s)) => quote!(#s.into()),
        (TypeRef::Timestamp, Value::String(s)) => {
            let t = Root::Timestamp.tokens();
            quote!(#t::from(#s))
        }
        (TypeRef::Named { .. }, Value::String(s)) => {
            let t = rust_type(ty);
            quote!(#t::from(#s))
        }
        (TypeRef::List(inner), Value::Array(items)) => {
            let items = items.iter().map(|i| default_value(inner, i));
            quote!(vec![#(#items),*])
        }
        (_, v) => {
            let text = v.to_string();
            quote!(serde_json::from_str(#text).unwrap_or_default())
        }
    }
}

/// `new` for a generated struct, which is `#[non_exhaustive]` (the spec may add fields):
/// the required fields are its arguments, in spec order; optional ones start as `None`,
/// defaulted ones at their default, and the `tail` field (an event's packet tail) empty.
/// The fields are public, so callers set the others after `new`.
pub(super) fn constructor(
    name: &proc_macro2::Ident,
    fields: &[Field],
    tail: Option<&str>,
) -> TokenStream {
    let is_tail = |f: &Field| tail == Some(f.wire.as_str());
    let required: Vec<&Field> = fields
        .iter()
        .filter(|f| f.is_required() && !is_tail(f))
        .collect();
    let params = required.iter().map(|f| {
        let n = ident(&f.rust);
        let ty = if f.boxed { field_type(f) } else { arg(&f.ty).0 };
        quote!(#n: #ty)
    });
    let inits = fields.iter().map(|f| {
        let n = ident(&f.rust);
        if is_tail(f) {
            quote!(#n: bytes::Bytes::new())
        } else if f.is_required() {
            if !f.boxed && arg(&f.ty).1 {
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
    let text = if required.is_empty() {
        format!("A `{name}` with every field at its default; set the public fields after.")
    } else {
        let names: Vec<String> = required.iter().map(|f| format!("`{}`", f.rust)).collect();
        format!(
            "A `{name}` from its required fields ({}); the others start unset or at their default.",
            names.join(", ")
        )
    };
    let d = doc(&text);
    let many = (required.len() > 7).then(|| quote!(#[allow(clippy::too_many_arguments)]));
    let default = required.is_empty().then(|| {
        quote! {
            impl Default for #name {
                fn default() -> Self {
                    Self::new()
                }
            }
        }
    });
    quote! {
        impl #name {
            #d
            #many
            pub fn new(#(#params),*) -> Self {
                Self { #(#inits,)* }
            }
        }
        #default
    }
}
