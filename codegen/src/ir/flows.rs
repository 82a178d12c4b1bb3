//! The flow table (`flows:` in `spec/flows.yaml`): each flow shape streaming tools name in
//! `stream.flow`, checked once here and then copied into every tool that uses it.

use indexmap::IndexMap;

use super::build::{At, Builder};
use super::checks::is_snake_ident;
use super::model::{FlowMethod, FlowShape};
use crate::diag::Diagnostic;
use crate::spec::load::LoadedFile;
use crate::spec::model::{FlowDef, Initiator, RequestPacing, ResponsePacing};

impl Builder {
    /// Reads the flow table from the one file that declares `flows`.
    pub(super) fn flow_table(&mut self, files: &[LoadedFile]) -> IndexMap<String, FlowShape> {
        let mut table = IndexMap::new();
        let mut source: Option<&str> = None;
        for file in files {
            let Some(flows) = &file.spec.flows else {
                continue;
            };
            let at = At { file };
            let spec = &file.spec;
            let others = spec.protocol.is_some()
                || spec.packets.is_some()
                || spec.content_types.is_some()
                || spec.error_codes.is_some()
                || spec.toolkit.is_some()
                || !spec.tools.is_empty()
                || !spec.events.is_empty()
                || !spec.types.is_empty();
            if others {
                self.err(
                    at,
                    &["flows"],
                    "the flow table lives in a file of its own",
                    Some("move `flows` to spec/flows.yaml".into()),
                );
            }
            if let Some(prev) = source {
                self.err(
                    at,
                    &["flows"],
                    "a second flow table",
                    Some(format!("the flow table is already in {prev}")),
                );
                continue;
            }
            source = Some(&file.name);
            for (name, def) in flows {
                if let Some(shape) = self.flow_shape(at, name, def) {
                    table.insert(name.clone(), shape);
                }
            }
        }
        table
    }

    fn flow_shape(&mut self, at: At<'_>, name: &str, def: &FlowDef) -> Option<FlowShape> {
        let path = ["flows", name];
        if !is_snake_ident(name) {
            self.err(
                at,
                &path,
                format!("bad flow shape name `{name}`"),
                Some("flow shape names are snake_case: they become constants".into()),
            );
        }
        let summary = self.required_text(at, &path, &def.summary, &format!("flow `{name}`"));
        if def.steps.is_empty() {
            self.err(
                at,
                &path,
                format!("flow `{name}` lists no wire `steps`"),
                Some("describe what goes over the wire, in order: they become the docs".into()),
            );
        }
        let paced_by_pulls = def.request == RequestPacing::Pulled
            || matches!(
                def.response,
                ResponsePacing::Pulled | ResponsePacing::PulledEager
            );
        if paced_by_pulls != def.pull.is_some() {
            let message = if paced_by_pulls {
                format!("flow `{name}` is paced by pulls but does not say how they are carried")
            } else {
                format!("flow `{name}` has no pulls, so `pull` does not apply")
            };
            self.err(
                at,
                &path,
                message,
                Some("`pull: json | binary | json_or_binary` goes with `request: pulled` or `response: pulled | pulled_eager`".into()),
            );
        }
        let method = match (def.signature, &def.engine) {
            (Some(signature), Some(engine)) => {
                if !is_snake_ident(engine) {
                    self.err(
                        at,
                        &["flows", name, "engine"],
                        format!("bad engine name `{engine}`"),
                        Some("an engine is a function of `crate::support::flows`".into()),
                    );
                }
                if def.initiator == Initiator::Server {
                    self.err(
                        at,
                        &["flows", name, "engine"],
                        "a server-initiated flow has no client method to generate",
                        Some("drop `signature` and `engine`: hosted toolkits answer it".into()),
                    );
                }
                Some(FlowMethod {
                    signature,
                    engine: engine.clone(),
                })
            }
            (None, None) => None,
            (Some(_), None) | (None, Some(_)) => {
                self.err(
                    at,
                    &path,
                    format!("flow `{name}` needs both `signature` and `engine`, or neither"),
                    Some("without them, tools of the shape are reached through `RoomClient::open_stream`".into()),
                );
                None
            }
        };
        Some(FlowShape {
            name: name.to_string(),
            summary,
            steps: def.steps.clone(),
            initiator: def.initiator,
            request: def.request,
            request_acked: def.request_acked,
            response: def.response,
            data: def.data,
            pull: def.pull,
            item: def.item,
            method,
        })
    }
}

/// The table's names, for did-you-mean hints.
pub(super) fn names(table: &IndexMap<String, FlowShape>) -> Vec<&str> {
    table.keys().map(String::as_str).collect()
}

/// A located "unknown flow" error.
pub(super) fn unknown(
    at: At<'_>,
    tool: &str,
    flow: &str,
    table: &IndexMap<String, FlowShape>,
) -> Diagnostic {
    let hint = crate::diag::did_you_mean(flow, names(table)).or_else(|| {
        Some(if table.is_empty() {
            "no flow table: declare the shapes under `flows:` in spec/flows.yaml".to_string()
        } else {
            format!("the flow shapes are: {}", names(table).join(", "))
        })
    });
    at.diag(
        &["tools", tool, "stream", "flow"],
        format!("unknown flow shape `{flow}`"),
        hint,
    )
}
