//! The walk over two [`Api`]s: core, flow table, shared types, toolkits and, inside a
//! toolkit, tools, events, types and constants.

use super::decls::{constants, types};
use super::fields::{arrow, matched, type_text, Differ, FieldsAre};
use super::rules;
use super::{Change, Scope};
use crate::ir::{
    Api, Chunk, Event, FlowShape, JsonBody, Output, Stream, Tool, ToolKind, Toolkit, TypeDecl,
};
use crate::spec::model::PushItem;

/// Every change from `old` to `new`, unordered.
pub(super) fn api(old: &Api, new: &Api) -> Vec<Change> {
    let mut changes = Vec::new();
    let mut d = Differ {
        scope: Scope::Core,
        changes: &mut changes,
    };
    core(&mut d, old, new);
    d.scope = Scope::Flows;
    flows(&mut d, &old.flows, &new.flows);
    d.scope = Scope::Shared;
    let shared = |api: &Api| api.shared_types.iter().map(|(_, t)| t.clone()).collect();
    let (old_shared, new_shared): (Vec<TypeDecl>, Vec<TypeDecl>) = (shared(old), shared(new));
    types(&mut d, &old_shared, &new_shared);

    let (removed, added, both) = matched(&old.toolkits, &new.toolkits, |t| t.name.clone());
    for tk in removed {
        d.scope = Scope::Toolkit(tk.name.clone());
        d.push("(the toolkit)", &rules::TOOLKIT_REMOVED, tools_text(tk));
    }
    for tk in added {
        d.scope = Scope::Toolkit(tk.name.clone());
        d.push("(the toolkit)", &rules::TOOLKIT_ADDED, tools_text(tk));
    }
    for (o, n) in both {
        d.scope = Scope::Toolkit(o.name.clone());
        toolkit(&mut d, o, n);
    }
    changes
}

fn tools_text(tk: &Toolkit) -> String {
    match tk.tools.len() {
        1 => "1 tool".into(),
        n => format!("{n} tools"),
    }
}

fn core(d: &mut Differ<'_>, old: &Api, new: &Api) {
    let (o, n) = (&old.transport, &new.transport);
    for (fact, was, is) in [
        ("token_in_header", o.token_in_header, n.token_in_header),
        (
            "request_chunk_acks",
            o.request_chunk_acks,
            n.request_chunk_acks,
        ),
        ("caller_context", o.caller_context, n.caller_context),
    ] {
        if was != is {
            d.push(
                format!("transport {fact}"),
                &rules::TRANSPORT_CHANGED,
                arrow(was, is),
            );
        }
    }
    let (removed, added, both) =
        matched(&old.client_packets, &new.client_packets, |p| p.wire.clone());
    for p in removed {
        d.push(
            format!("client packet {}", p.wire),
            &rules::PACKET_REMOVED,
            String::new(),
        );
    }
    for p in added {
        d.push(
            format!("client packet {}", p.wire),
            &rules::PACKET_ADDED,
            String::new(),
        );
    }
    for (o, n) in both {
        if o.reply != n.reply {
            let detail = arrow(o.reply, n.reply);
            d.push(
                format!("client packet {}", o.wire),
                &rules::PACKET_REPLY_CHANGED,
                detail,
            );
        }
    }
    let (removed, added, _) = matched(&old.server_packets, &new.server_packets, |p| p.wire.clone());
    for p in removed {
        d.push(
            format!("server packet {}", p.wire),
            &rules::PACKET_REMOVED,
            String::new(),
        );
    }
    for p in added {
        d.push(
            format!("server packet {}", p.wire),
            &rules::PACKET_ADDED,
            String::new(),
        );
    }
    let (removed, added, _) = matched(&old.content_types, &new.content_types, |c| c.wire.clone());
    for c in removed {
        d.push(
            format!("content type {}", c.wire),
            &rules::CONTENT_TYPE_REMOVED,
            String::new(),
        );
    }
    for c in added {
        d.push(
            format!("content type {}", c.wire),
            &rules::CONTENT_TYPE_ADDED,
            String::new(),
        );
    }
    let (removed, added, both) = matched(&old.error_codes, &new.error_codes, |e| e.name.clone());
    for e in removed {
        d.push(
            format!("error code {}", e.name),
            &rules::ERROR_CODE_REMOVED,
            e.code.to_string(),
        );
    }
    for e in added {
        d.push(
            format!("error code {}", e.name),
            &rules::ERROR_CODE_ADDED,
            e.code.to_string(),
        );
    }
    for (o, n) in both {
        if o.code != n.code {
            let detail = arrow(o.code, n.code);
            d.push(
                format!("error code {}", o.name),
                &rules::ERROR_CODE_CHANGED,
                detail,
            );
        }
    }
    events(d, &old.core_events, &new.core_events);
    types(d, &old.packet_headers, &new.packet_headers);
}

fn flows(d: &mut Differ<'_>, old: &[FlowShape], new: &[FlowShape]) {
    let (removed, added, both) = matched(old, new, |f| f.name.clone());
    for f in removed {
        d.push(
            format!("flow {}", f.name),
            &rules::FLOW_SHAPE_REMOVED,
            String::new(),
        );
    }
    for f in added {
        d.push(
            format!("flow {}", f.name),
            &rules::FLOW_SHAPE_ADDED,
            String::new(),
        );
    }
    for (o, n) in both {
        let path = format!("flow {}", o.name);
        let method = |f: &FlowShape| {
            f.method.as_ref().map_or_else(
                || "none".into(),
                |m| format!("{:?}", m.signature).to_lowercase(),
            )
        };
        if o.method.as_ref().map(|m| m.signature) != n.method.as_ref().map(|m| m.signature) {
            d.push(
                path,
                &rules::FLOW_SHAPE_METHOD_CHANGED,
                arrow(method(o), method(n)),
            );
        } else {
            let changes = wire_shape_changes(o, n);
            if !changes.is_empty() {
                d.push(path, &rules::FLOW_SHAPE_CHANGED, changes);
            }
        }
    }
}

/// The parts of a flow shape that decide the exchange and differ between `o` and `n`,
/// e.g. `data json -> binary`.
fn wire_shape_changes(o: &FlowShape, n: &FlowShape) -> String {
    let parts = |f: &FlowShape| {
        [
            ("initiator", format!("{:?}", f.initiator)),
            ("request", format!("{:?}", f.request)),
            ("request_acked", f.request_acked.to_string()),
            ("response", format!("{:?}", f.response)),
            ("data", format!("{:?}", f.data)),
            ("pull", format!("{:?}", f.pull)),
            ("item", f.item.to_string()),
        ]
    };
    parts(o)
        .iter()
        .zip(parts(n).iter())
        .filter(|(a, b)| a.1 != b.1)
        .map(|(a, b)| format!("{} {}", a.0, arrow(a.1.to_lowercase(), b.1.to_lowercase())))
        .collect::<Vec<_>>()
        .join(", ")
}

fn toolkit(d: &mut Differ<'_>, old: &Toolkit, new: &Toolkit) {
    let (removed, added, both) = matched(&old.tools, &new.tools, |t| t.name.clone());
    for t in removed {
        d.push(
            format!("tool {}", t.name),
            &rules::TOOL_REMOVED,
            kind_text(t),
        );
    }
    for t in added {
        d.push(format!("tool {}", t.name), &rules::TOOL_ADDED, kind_text(t));
    }
    for (o, n) in both {
        tool(d, o, n);
    }
    events(d, &old.events, &new.events);
    types(d, &old.types, &new.types);
    constants(d, &old.constants, &new.constants);
}

fn kind_text(t: &Tool) -> String {
    match &t.kind {
        ToolKind::Plain { .. } => "plain".into(),
        ToolKind::Stream(s) => format!("stream {}", s.shape.name),
    }
}

fn tool(d: &mut Differ<'_>, old: &Tool, new: &Tool) {
    let at = format!("tool {}", old.name);
    if old.nowait != new.nowait {
        let text = |n: bool| if n { "nowait" } else { "awaited" };
        let detail = arrow(text(old.nowait), text(new.nowait));
        d.push(at.clone(), &rules::TOOL_NOWAIT_CHANGED, detail);
    }
    match (&old.kind, &new.kind) {
        (
            ToolKind::Plain {
                input: oi,
                input_tail: ot,
                output: oo,
            },
            ToolKind::Plain {
                input: ni,
                input_tail: nt,
                output: no,
            },
        ) => {
            d.fields(&format!("{at} / input"), oi, ni, FieldsAre::Inputs);
            if ot != nt {
                let text = |t: &Option<String>| t.clone().unwrap_or_else(|| "none".into());
                d.push(
                    at.clone(),
                    &rules::INPUT_TAIL_CHANGED,
                    arrow(text(ot), text(nt)),
                );
            }
            output(d, &at, oo, no);
        }
        (ToolKind::Stream(o), ToolKind::Stream(n)) => stream(d, &at, o, n),
        _ => d.push(
            at,
            &rules::TOOL_KIND_CHANGED,
            arrow(kind_text(old), kind_text(new)),
        ),
    }
}

fn output_text(o: &Output) -> String {
    match o {
        Output::Ignore => "any (ignored)".into(),
        Output::Empty => "empty".into(),
        Output::EmptyOrJson => "empty or json (ignored)".into(),
        Output::JsonIgnored => "json (ignored)".into(),
        Output::Text => "text".into(),
        Output::File { empty_none } => {
            format!("file{}", if *empty_none { " (empty: none)" } else { "" })
        }
        Output::Json(j) => {
            let mut s = match &j.body {
                JsonBody::Type(t) => format!("json {}", type_text(t)),
                JsonBody::Fields(f) => format!("json {{{} fields}}", f.len()),
            };
            if let Some(r) = &j.returns {
                s.push_str(&format!(" returns {r}"));
            }
            if let Some(p) = &j.present_when {
                s.push_str(&format!(" present_when {p}"));
            }
            if j.empty_none {
                s.push_str(" (empty: none)");
            }
            if let Some(b) = &j.binary {
                let or = if b.or_json { " or" } else { " as" };
                s.push_str(&format!("{or} binary (tail: {})", b.tail));
            }
            s
        }
    }
}

fn output(d: &mut Differ<'_>, at: &str, old: &Output, new: &Output) {
    let path = format!("{at} / output");
    let (Output::Json(o), Output::Json(n)) = (old, new) else {
        if output_text(old) != output_text(new) {
            d.push(
                path,
                &rules::OUTPUT_CHANGED,
                arrow(output_text(old), output_text(new)),
            );
        }
        return;
    };
    if (&o.returns, &o.present_when, o.empty_none) != (&n.returns, &n.present_when, n.empty_none) {
        d.push(
            path,
            &rules::OUTPUT_CHANGED,
            arrow(output_text(old), output_text(new)),
        );
        return;
    }
    match (&o.body, &n.body) {
        (JsonBody::Type(ot), JsonBody::Type(nt)) if ot != nt => {
            d.push(
                path,
                &rules::OUTPUT_TYPE_CHANGED,
                arrow(type_text(ot), type_text(nt)),
            );
        }
        (JsonBody::Type(_), JsonBody::Type(_)) => {}
        (JsonBody::Fields(of), JsonBody::Fields(nf)) => match &o.returns {
            // Only the returned field reaches the caller.
            Some(r) => {
                let ty = |fs: &[crate::ir::Field]| {
                    fs.iter().find(|f| &f.wire == r).map(|f| type_text(&f.ty))
                };
                if ty(of) != ty(nf) {
                    let text = |t: Option<String>| t.unwrap_or_else(|| "missing".into());
                    let detail = arrow(text(ty(of)), text(ty(nf)));
                    d.push(format!("{path} {r}"), &rules::OUTPUT_TYPE_CHANGED, detail);
                }
            }
            None => d.fields(&path, of, nf, FieldsAre::Struct),
        },
        _ => d.push(
            path,
            &rules::OUTPUT_CHANGED,
            arrow(output_text(old), output_text(new)),
        ),
    }
}

fn stream(d: &mut Differ<'_>, at: &str, old: &Stream, new: &Stream) {
    if old.shape.name != new.shape.name {
        let detail = arrow(&old.shape.name, &new.shape.name);
        d.push(format!("{at} / flow"), &rules::STREAM_FLOW_CHANGED, detail);
    }
    if old.item == new.item && old.text_channels != new.text_channels {
        let detail = arrow(
            format!("{:?}", old.text_channels),
            format!("{:?}", new.text_channels),
        );
        d.push(
            format!("{at} / text_channels"),
            &rules::STREAM_TEXT_CHANNELS_CHANGED,
            detail,
        );
    } else if old.item != new.item {
        let text = |s: &Stream| match s.item {
            Some(PushItem::Text) => "text".to_string(),
            Some(PushItem::LogEntry) => "log_entry".to_string(),
            None => "raw content".to_string(),
        };
        let detail = arrow(text(old), text(new));
        d.push(format!("{at} / item"), &rules::STREAM_ITEM_CHANGED, detail);
    }
    // The request `start` chunk's headers are the method's arguments.
    let start = |s: &Stream| {
        s.request
            .iter()
            .find(|c| c.kind == "start")
            .map(|c| c.headers.clone())
            .unwrap_or_default()
    };
    d.fields(
        &format!("{at} / start"),
        &start(old),
        &start(new),
        FieldsAre::Inputs,
    );
    chunks(
        d,
        &format!("{at} / request chunk"),
        &old.request,
        &new.request,
        true,
    );
    chunks(
        d,
        &format!("{at} / response chunk"),
        &old.response,
        &new.response,
        false,
    );
}

fn chunks(d: &mut Differ<'_>, at: &str, old: &[Chunk], new: &[Chunk], request: bool) {
    let (removed, added, both) = matched(old, new, |c| c.kind.clone());
    for c in removed {
        d.push(
            format!("{at} {}", c.kind),
            &rules::CHUNK_REMOVED,
            c.content.clone(),
        );
    }
    for c in added {
        d.push(
            format!("{at} {}", c.kind),
            &rules::CHUNK_ADDED,
            c.content.clone(),
        );
    }
    for (o, n) in both {
        let path = format!("{at} {}", o.kind);
        if o.content != n.content {
            d.push(
                path.clone(),
                &rules::CHUNK_CONTENT_CHANGED,
                arrow(&o.content, &n.content),
            );
        }
        if !(request && o.kind == "start") {
            d.fields(&path, &o.headers, &n.headers, FieldsAre::Struct);
        }
    }
}

fn events(d: &mut Differ<'_>, old: &[Event], new: &[Event]) {
    let (removed, added, both) = matched(old, new, |e| e.name.clone());
    for e in removed {
        d.push(
            format!("event {}", e.name),
            &rules::EVENT_REMOVED,
            e.packet.clone(),
        );
    }
    for e in added {
        d.push(
            format!("event {}", e.name),
            &rules::EVENT_ADDED,
            e.packet.clone(),
        );
    }
    for (o, n) in both {
        let path = format!("event {}", o.name);
        if o.packet != n.packet {
            d.push(
                path.clone(),
                &rules::EVENT_PACKET_CHANGED,
                arrow(&o.packet, &n.packet),
            );
        }
        if o.when != n.when {
            let text = |w: &Option<(String, String)>| {
                w.as_ref()
                    .map_or_else(|| "any".into(), |(k, v)| format!("{k}={v}"))
            };
            let detail = arrow(text(&o.when), text(&n.when));
            d.push(path.clone(), &rules::EVENT_SELECTOR_CHANGED, detail);
        }
        if o.tail != n.tail {
            let text = |t: &Option<String>| t.clone().unwrap_or_else(|| "none".into());
            d.push(
                path.clone(),
                &rules::EVENT_TAIL_CHANGED,
                arrow(text(&o.tail), text(&n.tail)),
            );
        }
        d.fields(
            &format!("{path} / field"),
            &o.fields,
            &n.fields,
            FieldsAre::Struct,
        );
    }
}
