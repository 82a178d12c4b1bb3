//! Streaming tools: what a flow shape's signature adds to the generated method, builder and
//! dispatch arm, and the call of the engine the shape names. The one `match` over
//! [`Signature`] is in [`flow_parts`]; everything else reads the flow table.

use proc_macro2::TokenStream;
use quote::quote;

use super::*;
use crate::ir::{Api, Field, FlowMethod, FlowShape, Stream, Tool, Toolkit};
use crate::naming::shouty;
use crate::runtime_type::{self as rt, Root, Support};
use crate::spec::model::{
    ChunkEncoding, FreshId, Initiator, PullEncoding, PushItem, RequestPacing, ResponsePacing,
    Signature,
};

/// What a streaming tool's signature adds to its method, builder and dispatch arm.
pub(super) struct FlowParts {
    /// An extra positional argument of the method, with its doc line.
    pub(super) param: Option<(TokenStream, String)>,
    /// The builder field holding that argument, and its initialisation.
    pub(super) field: Option<(TokenStream, TokenStream)>,
    /// How the dispatch arm builds that argument from the JSON `input`.
    pub(super) dispatch_input: Option<TokenStream>,
    /// How the dispatch arm turns the awaited call into JSON.
    pub(super) dispatch_finish: TokenStream,
    /// The result type and the `into_future` body.
    pub(super) decode: Decode,
}

/// The single field of a data chunk: the request chunk other than `start` (writes) or the
/// response chunk (reads).
fn data_field(s: &Stream, request: bool) -> Option<&Field> {
    let chunks = if request { &s.request } else { &s.response };
    chunks
        .iter()
        .filter(|c| c.kind != "start" && c.kind != "pull")
        .find_map(|c| c.headers.first())
}

/// The parts of tool `t` (of toolkit `tk`), a stream of a shape with a generated method.
pub(super) fn flow_parts(tk: &Toolkit, t: &Tool, s: &Stream, method: &FlowMethod) -> FlowParts {
    let tool_id = format!("{}.{}", tk.name, t.name);
    let wire = &t.name;
    let engine = Support::Flows.item(&method.engine);
    let shape = rt::flow_shape(&s.shape.name);
    let (result, error) = (Root::Result.tokens(), Root::Error.tokens());
    let dispatch = |f: &str| Support::Dispatch.item(f);
    let has_start = s.request.iter().any(|c| c.kind == "start");
    // Start headers the caller left unset that the spec marks `fresh` get a drawn id.
    let fresh: Vec<TokenStream> = s
        .request
        .iter()
        .filter(|c| c.kind == "start")
        .flat_map(|c| c.headers.iter())
        .filter_map(|f| {
            let form = f.fresh?;
            let fill = Support::Flows.item("fill_fresh_id");
            let form = variant("FreshId", fresh_form(form));
            let w = &f.wire;
            Some(quote!(#fill(&mut start, #w, #form);))
        })
        .collect();
    let start = if fresh.is_empty() {
        quote! {
            let start = serde_json::to_value(&self)
                .map_err(|e| #error::InvalidArguments(e.to_string()))?;
        }
    } else {
        quote! {
            let mut start = serde_json::to_value(&self)
                .map_err(|e| #error::InvalidArguments(e.to_string()))?;
            #(#fresh)*
        }
    };
    let call = |extra: TokenStream| quote!(#engine(&self.room, &#shape, TOOLKIT, #wire, #extra));
    let mut parts = FlowParts {
        param: None,
        field: None,
        dispatch_input: None,
        dispatch_finish: {
            let f = dispatch("result");
            quote!(#f(call.await))
        },
        decode: Decode {
            ret: quote!(()),
            private: quote!(),
            public: quote!(),
            expr: quote!(),
        },
    };
    match method.signature {
        Signature::Upload => {
            let source = Root::ByteSource.tokens();
            let call = call(quote!(start, self.source));
            parts.param = Some((
                quote!(source: impl Into<#source>),
                format!(
                    "- `source`: the bytes: a buffer, or {} / {}; read only as the server pulls.",
                    Root::ByteSource.doc_link(Some("from_stream")),
                    Root::ByteSource.doc_link(Some("from_reader"))
                ),
            ));
            parts.field = Some((quote!(source: #source,), quote!(source: source.into(),)));
            let f = dispatch("byte_source");
            parts.dispatch_input = Some(quote!(#f(tool, input)));
            parts.decode.expr = quote! { #start #call.await };
        }
        Signature::Download => {
            let call = call(quote!(start));
            let f = dispatch("download");
            parts.dispatch_finish = quote!(#f(call.await).await);
            parts.decode.ret = Root::Download.tokens();
            parts.decode.expr = quote! { #start #call.await };
        }
        Signature::CheckedDownload => {
            let call = call(quote!(start));
            let f = dispatch("checked_download");
            parts.dispatch_finish = quote!(#f(call.await).await);
            parts.decode.ret = Root::CheckedDownload.tokens();
            parts.decode.expr = quote! { #start #call.await };
        }
        Signature::WriteBatches => {
            let batches = Support::Flows.item("Batches");
            let call = call(quote!(start, self.batches.into_stream()));
            if let Some(f) = data_field(s, true) {
                let ty = rust_type(&f.ty);
                let w = &f.wire;
                parts.param = Some((
                    quote!(batches: impl futures::Stream<Item = #ty> + Send + 'static),
                    "- `batches`: the batches to write, one sent per server pull (e.g. `futures::stream::iter(batches)`).".to_string(),
                ));
                parts.field = Some((
                    quote!(batches: #batches,),
                    quote!(batches: #batches::new(#w, batches),),
                ));
            }
            let f = dispatch("batches");
            parts.dispatch_input = Some(quote!(#f(tool, input)));
            parts.decode.expr = quote! { #start #call.await };
        }
        Signature::ReadBatches => {
            let (ty, field) = match data_field(s, false) {
                Some(f) => (rust_type(&f.ty), f.wire.clone()),
                None => (quote!(serde_json::Value), String::new()),
            };
            let call = call(quote!(start));
            let pick = Support::Flows.item("field");
            let f = dispatch("collect");
            parts.dispatch_finish = quote!(#f(call.await).await);
            parts.decode.ret = quote!(futures::stream::BoxStream<'static, #result<#ty>>);
            parts.decode.expr = quote! {
                use futures::StreamExt;
                #start
                let rows = #call.await?;
                Ok(rows.map(|chunk| chunk.and_then(|c| #pick::<#ty>(c, #field, #tool_id))).boxed())
            };
        }
        Signature::WriteRecordBatches => {
            let batches = Root::RecordBatches.tokens();
            let call = call(quote!(start, self.batches));
            parts.param = Some((
                quote!(batches: impl Into<#batches>),
                format!(
                    "- `batches`: the record batches, each one Arrow IPC stream sent as one `data` chunk per server pull ({}; with the `arrow` feature, {}); a schema for the `start` chunk goes with {}.",
                    Root::RecordBatches.doc_link(Some("from_ipc")),
                    "`RecordBatches::from_record_batches`",
                    Root::RecordBatches.doc_link(Some("with_schema_ipc")),
                ),
            ));
            parts.field = Some((quote!(batches: #batches,), quote!(batches: batches.into(),)));
            let f = dispatch("record_batches");
            parts.dispatch_input = Some(quote!(#f(tool, input)));
            parts.decode.expr = quote! { #start #call.await };
        }
        Signature::ReadRecordBatches | Signature::WatchRecordBatches => {
            let item = Root::RecordBatchChunk.tokens();
            let boxed = Support::Flows.item("boxed_chunks");
            let call = call(quote!(start));
            let f = dispatch("collect");
            parts.dispatch_finish = quote!(#f(call.await).await);
            parts.decode.ret = quote!(futures::stream::BoxStream<'static, #result<#item>>);
            parts.decode.expr = quote! {
                #start
                #call.await.map(#boxed)
            };
        }
        Signature::Push => {
            let start_arg = if has_start {
                quote! {
                    #start
                    let start = Some(start);
                }
            } else {
                quote!(let start = None;)
            };
            let (item, convert) = match s.item {
                None => (Root::Content.tokens(), quote!(futures::StreamExt::boxed)),
                Some(PushItem::Text) => {
                    let f = Support::Flows.item("text_items");
                    let channels = &s.text_channels;
                    (quote!(String), quote!(|s| #f(s, &[#(#channels),*])))
                }
                Some(PushItem::LogEntry) => {
                    let f = Support::Flows.item("log_entries");
                    (Root::LogEntry.tokens(), quote!(|s| #f(s, #tool_id)))
                }
            };
            let call = call(quote!(start));
            let f = dispatch("collect");
            parts.dispatch_finish = quote!(#f(call.await).await);
            parts.decode.ret = quote!(futures::stream::BoxStream<'static, #result<#item>>);
            parts.decode.expr = quote! {
                #start_arg
                #call.await.map(#convert)
            };
        }
        Signature::PushUpload => push_upload_parts(&mut parts, s, &tool_id, &start, call),
    }
    parts
}

/// `push_upload`: the source as for uploads; the result is the final reply's field.
fn push_upload_parts(
    parts: &mut FlowParts,
    s: &Stream,
    tool_id: &str,
    start: &TokenStream,
    call: impl Fn(TokenStream) -> TokenStream,
) {
    let source = Root::ByteSource.tokens();
    let call = call(quote!(start, self.source));
    parts.param = Some((
        quote!(source: impl Into<#source>),
        format!(
            "- `source`: the bytes: a buffer, a file ({}), or {} / {}; read piece by piece as it is sent (progress: {}).",
            Root::ByteSource.doc_link(Some("from_file")),
            Root::ByteSource.doc_link(Some("from_stream")),
            Root::ByteSource.doc_link(Some("from_reader")),
            Root::ByteSource.doc_link(Some("on_progress"))
        ),
    ));
    parts.field = Some((quote!(source: #source,), quote!(source: source.into(),)));
    let f = Support::Dispatch.item("byte_source");
    parts.dispatch_input = Some(quote!(#f(tool, input)));
    let (ty, field) = match data_field(s, false) {
        Some(f) => (rust_type(&f.ty), f.wire.clone()),
        None => (quote!(serde_json::Value), String::new()),
    };
    let pick = Support::Flows.item("field");
    parts.decode.ret = ty.clone();
    parts.decode.expr = quote! {
        #start
        let reply = #call.await?;
        #pick::<#ty>(reply, #field, #tool_id)
    };
}

/// `flow_shapes.rs`: one constant per entry of the flow table, which the runtime's engines
/// read (pull encoding, eager first pull, acknowledged request chunks).
pub(super) fn flow_shapes_rs(api: &Api) -> TokenStream {
    let ty = Support::Flows.item("FlowShape");
    let shapes = api.flows.iter().map(|s| {
        let name = crate::naming::ident(&shouty(&s.name));
        let d = doc(&shape_doc(s));
        let wire = &s.name;
        let initiator = variant("Initiator", initiator(s.initiator));
        let request = variant("RequestPacing", request(s.request));
        let acked = s.request_acked;
        let response = variant("ResponsePacing", response(s.response));
        let data = variant("ChunkEncoding", data(s.data));
        let pull = match s.pull {
            Some(p) => {
                let v = variant("PullEncoding", pull(p));
                quote!(Some(#v))
            }
            None => quote!(None),
        };
        quote! {
            #d
            pub(crate) const #name: #ty = #ty {
                name: #wire,
                initiator: #initiator,
                request: #request,
                request_acked: #acked,
                response: #response,
                data: #data,
                pull: #pull,
            };
        }
    });
    quote! {
        #![doc = " The flow table (`spec/flows.yaml`): one constant per flow shape. Generated methods pass"]
        #![doc = " their shape to the engine in `crate::support::flows` that runs it."]
        // Shapes without an engine yet (0.56) are described here before anything reads them.
        #![allow(dead_code)]
        #(#shapes)*
    }
}

fn variant(ty: &str, v: &str) -> TokenStream {
    let ty = Support::Flows.item(ty);
    let v = crate::naming::ident(v);
    quote!(#ty::#v)
}

fn fresh_form(v: FreshId) -> &'static str {
    match v {
        FreshId::UuidHex => "UuidHex",
    }
}

fn initiator(v: Initiator) -> &'static str {
    match v {
        Initiator::Client => "Client",
        Initiator::Server => "Server",
    }
}

fn request(v: RequestPacing) -> &'static str {
    match v {
        RequestPacing::None => "None",
        RequestPacing::Pulled => "Pulled",
        RequestPacing::Free => "Free",
    }
}

fn response(v: ResponsePacing) -> &'static str {
    match v {
        ResponsePacing::None => "None",
        ResponsePacing::Pushed => "Pushed",
        ResponsePacing::Pulled => "Pulled",
        ResponsePacing::PulledEager => "PulledEager",
    }
}

fn data(v: ChunkEncoding) -> &'static str {
    match v {
        ChunkEncoding::Json => "Json",
        ChunkEncoding::Binary => "Binary",
    }
}

fn pull(v: PullEncoding) -> &'static str {
    match v {
        PullEncoding::Json => "Json",
        PullEncoding::Binary => "Binary",
        PullEncoding::JsonOrBinary => "JsonOrBinary",
    }
}

/// The constant's doc: summary, wire steps, and how tools of the shape are called.
fn shape_doc(s: &FlowShape) -> String {
    let steps: Vec<String> = s
        .steps
        .iter()
        .enumerate()
        .map(|(i, step)| format!("{}. {step}", i + 1))
        .collect();
    let called = match &s.method {
        Some(m) => format!("Engine: `crate::support::flows::{}`.", m.engine),
        None => "No engine yet: tools of this shape get no generated method; reach them with `RoomClient::open_stream`.".to_string(),
    };
    format!(
        "`{}`: {}\n\nWire steps:\n{}\n\n{called}",
        s.name,
        s.summary,
        steps.join("\n")
    )
}
