//! Calls of streaming tools: the flow engine a tool's shape names.

use quote::quote;

use super::*;
use crate::ir::{Field, Tool, ToolKind};
use crate::spec::model::{Flow, PushItem};

/// Whether a streaming tool opens with a request `start` chunk.
pub(super) fn has_start(t: &Tool) -> bool {
    matches!(&t.kind, ToolKind::Stream(s) if s.request.iter().any(|c| c.kind == "start"))
}

/// The call of a flow policy; the start chunk's headers are the builder's fields.
pub(super) fn flow_call(
    flow: Flow,
    item: Option<PushItem>,
    wire: &str,
    has_start: bool,
    rows: Option<&Field>,
    tool_id: &str,
) -> Decode {
    let start = quote! {
        let start = serde_json::to_value(&self)
            .map_err(|e| crate::Error::InvalidArguments(e.to_string()))?;
    };
    let (ret, expr) = match flow {
        Flow::PullUpload => (
            quote!(()),
            quote! {
                #start
                crate::support::flows::pull_upload(&self.room, TOOLKIT, #wire, start, self.source).await
            },
        ),
        Flow::PullDownload => (
            quote!(crate::Download),
            quote! {
                #start
                crate::support::flows::pull_download(&self.room, TOOLKIT, #wire, start).await
            },
        ),
        Flow::WriteBatches => (
            quote!(()),
            quote! {
                #start
                crate::support::flows::write_batches(&self.room, TOOLKIT, #wire, start, self.batches.into_stream()).await
            },
        ),
        Flow::ReadBatches => {
            let (ty, field) = match rows {
                Some(f) => (rust_type(&f.ty), f.wire.clone()),
                None => (quote!(serde_json::Value), String::new()),
            };
            (
                quote!(futures::stream::BoxStream<'static, crate::Result<#ty>>),
                quote! {
                    use futures::StreamExt;
                    #start
                    let rows = crate::support::flows::read_batches(&self.room, TOOLKIT, #wire, start).await?;
                    Ok(rows.map(|chunk| chunk.and_then(|c| crate::support::flows::field::<#ty>(c, #field, #tool_id))).boxed())
                },
            )
        }
        _ => {
            let start_arg = if has_start {
                quote! {
                    #start
                    let start = Some(start);
                }
            } else {
                quote!(let start = None;)
            };
            let (item, convert) = match item {
                None => (quote!(crate::Content), quote!(futures::StreamExt::boxed)),
                Some(PushItem::Text) => (quote!(String), quote!(crate::support::flows::text_items)),
                Some(PushItem::LogEntry) => (
                    quote!(crate::LogEntry),
                    quote!(|s| crate::support::flows::log_entries(s, #tool_id)),
                ),
            };
            (
                quote!(futures::stream::BoxStream<'static, crate::Result<#item>>),
                quote! {
                    #start_arg
                    crate::support::flows::server_push(&self.room, TOOLKIT, #wire, start).await.map(#convert)
                },
            )
        }
    };
    Decode {
        ret,
        private: quote!(),
        public: quote!(),
        expr,
    }
}
