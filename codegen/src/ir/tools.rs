//! Tools: plain calls with their replies, and streaming tools with their flow shape.

use super::build::{At, Builder, FieldUse, Scope};
use super::checks::*;
use super::model::*;
use super::types::*;
use crate::diag::did_you_mean;
use crate::spec::model::{self, EmptyMeaning, OutputContent};

impl Builder {
    /// `fresh` is honoured only on the `start` headers of streams with a generated method.
    fn no_fresh(&mut self, at: At<'_>, path: &[&str], fields: &[Field]) {
        for f in fields.iter().filter(|f| f.fresh.is_some()) {
            let mut p = path.to_vec();
            p.push(&f.wire);
            self.err(
                at,
                &p,
                format!("`fresh` on `{}` would not be honoured here", f.wire),
                Some("`fresh` applies to the request `start` headers of streaming tools whose flow shape has an engine".into()),
            );
        }
    }

    pub(super) fn tool(
        &mut self,
        at: At<'_>,
        scope: &Scope<'_>,
        name: &str,
        def: &model::ToolDef,
    ) -> Option<Tool> {
        let path = ["tools", name];
        if !is_snake_ident(name) {
            self.err(
                at,
                &path,
                format!("bad tool name `{name}`"),
                Some("tool names are snake_case wire names".into()),
            );
        }
        let summary = self.required_text(at, &path, &def.summary, &format!("tool `{name}`"));
        let kind = match (&def.output, &def.stream) {
            (Some(out), None) => {
                let input = self.fields(
                    at,
                    scope,
                    &["tools", name, "input"],
                    &def.input,
                    FieldUse::Input,
                );
                self.no_fresh(at, &["tools", name, "input"], &input);
                let output = self.output(at, scope, name, out)?;
                let mut input = input;
                if let Some(tail) = &def.input_tail {
                    // The tail field leaves the JSON headers for the message tail.
                    for f in input.iter_mut().filter(|f| &f.wire == tail) {
                        f.ty = match &f.ty {
                            TypeRef::Bytes => TypeRef::Tail,
                            TypeRef::Optional(i) if **i == TypeRef::Bytes => {
                                TypeRef::Optional(Box::new(TypeRef::Tail))
                            }
                            other => other.clone(),
                        };
                    }
                    if !input.iter().any(|f| &f.wire == tail && is_tail(&f.ty)) {
                        self.err(
                            at,
                            &["tools", name, "input_tail"],
                            format!("`input_tail: {tail}` must name a `bytes` input field"),
                            Some(format!(
                                "add `{tail}: {{type: bytes, doc: ...}}` to `input`"
                            )),
                        );
                    }
                }
                ToolKind::Plain {
                    input,
                    input_tail: def.input_tail.clone(),
                    output,
                }
            }
            (None, Some(stream)) => {
                if !def.input.is_empty() {
                    self.err(
                        at,
                        &["tools", name, "input"],
                        "a streaming tool takes its input as chunks",
                        Some("describe the opening chunk under `stream.request`".into()),
                    );
                }
                ToolKind::Stream(self.stream(at, scope, name, stream)?)
            }
            (Some(_), Some(_)) => {
                self.err(
                    at,
                    &path,
                    format!("tool `{name}` has both `output` and `stream`"),
                    Some("a plain tool has `output`, a streaming tool `stream`".into()),
                );
                return None;
            }
            (None, None) => {
                self.err(
                    at,
                    &path,
                    format!("tool `{name}` has neither `output` nor `stream`"),
                    Some("add `output: {content: empty}` for a tool that returns nothing".into()),
                );
                return None;
            }
        };
        if def.nowait {
            let fits = matches!(
                &kind,
                ToolKind::Plain {
                    input_tail: None,
                    output: Output::Ignore | Output::Empty,
                    ..
                }
            );
            if !fits {
                self.err(
                    at,
                    &["tools", name, "nowait"],
                    format!("`nowait` tool `{name}` must be a plain JSON tool whose reply is not used"),
                    Some("a fire-and-forget invoke never reads its reply: use `output: {content: any}` (or `empty`) and no `stream` or `input_tail`".into()),
                );
            }
        }
        Some(Tool {
            name: name.to_string(),
            summary,
            kind,
            nowait: def.nowait,
        })
    }

    pub(super) fn output(
        &mut self,
        at: At<'_>,
        scope: &Scope<'_>,
        tool: &str,
        out: &model::OutputDef,
    ) -> Option<Output> {
        let base = ["tools", tool, "output"];
        let json_only = [
            ("type", out.ty.is_some()),
            ("fields", out.fields.is_some()),
            ("returns", out.returns.is_some()),
            ("present_when", out.present_when.is_some()),
            ("empty", out.empty.is_some()),
        ];
        let binary = matches!(
            out.content,
            OutputContent::Binary | OutputContent::JsonOrBinary
        );
        if binary != out.tail.is_some() {
            self.err(
                at,
                &base,
                "`tail` goes with `content: binary` or `json_or_binary`, and they need it",
                Some("`tail: schema` names the bytes field that receives the binary tail".into()),
            );
        }
        if out.content != OutputContent::Json {
            for (key, set) in json_only {
                // `empty: none` also applies to file replies; binary replies are typed as
                // JSON objects (headers plus the tail field).
                let binary_ok = binary && matches!(key, "type" | "fields" | "returns");
                if set && !binary_ok && !(key == "empty" && out.content == OutputContent::File) {
                    self.err(
                        at,
                        &["tools", tool, "output", key],
                        format!("`{key}` only applies to `content: json`"),
                        None,
                    );
                }
            }
        }
        let output = match out.content {
            OutputContent::Any => Output::Ignore,
            OutputContent::Empty => Output::Empty,
            OutputContent::EmptyOrJson => Output::EmptyOrJson,
            OutputContent::Text => Output::Text,
            OutputContent::JsonIgnored => Output::JsonIgnored,
            OutputContent::File => Output::File {
                empty_none: out.empty == Some(EmptyMeaning::None),
            },
            OutputContent::Json | OutputContent::Binary | OutputContent::JsonOrBinary => {
                let doc_rule = if out.returns.is_some() {
                    FieldUse::Private
                } else {
                    FieldUse::Public
                };
                let body = match (&out.ty, &out.fields) {
                    (Some(ty), None) => JsonBody::Type(self.type_expr(
                        at,
                        scope,
                        &["tools", tool, "output", "type"],
                        ty,
                    )?),
                    (None, Some(fields)) => JsonBody::Fields(self.fields(
                        at,
                        scope,
                        &["tools", tool, "output", "fields"],
                        fields,
                        doc_rule,
                    )),
                    _ => {
                        self.err(at, &base, "a json output needs exactly one of `type` or `fields`", Some("`type: StorageEntry`, or `fields: {url: string}` with `returns: url`".into()));
                        return None;
                    }
                };
                if let Some(r) = &out.returns {
                    let known = match &body {
                        JsonBody::Fields(fs) => fs.iter().any(|f| &f.wire == r),
                        JsonBody::Type(_) => false,
                    };
                    if !known {
                        let names: Vec<&str> = match &body {
                            JsonBody::Fields(fs) => fs.iter().map(|f| f.wire.as_str()).collect(),
                            JsonBody::Type(_) => Vec::new(),
                        };
                        let hint = did_you_mean(r, names)
                            .or(Some("`returns` names one of the output `fields`".into()));
                        self.err(
                            at,
                            &["tools", tool, "output", "returns"],
                            format!("`returns: {r}` is not an output field"),
                            hint,
                        );
                    }
                }
                if let (Some(tail), JsonBody::Fields(fs)) = (&out.tail, &body) {
                    if !fs.iter().any(|f| &f.wire == tail && f.ty == TypeRef::Bytes) {
                        self.err(
                            at,
                            &["tools", tool, "output", "tail"],
                            format!("`tail: {tail}` is not a `bytes` output field"),
                            Some("`tail` names the bytes field that receives the binary reply's payload".into()),
                        );
                    }
                }
                if binary && (out.present_when.is_some() || out.empty.is_some()) {
                    self.err(
                        at,
                        &base,
                        "`present_when` and `empty` do not apply to binary replies",
                        None,
                    );
                }
                if let Some(p) = &out.present_when {
                    if let JsonBody::Fields(fs) = &body {
                        if fs.iter().any(|f| &f.wire == p && f.ty != TypeRef::Bool) {
                            self.err(
                                at,
                                &["tools", tool, "output", "present_when"],
                                format!(
                                    "field type mismatch: `present_when: {p}` must name a bool"
                                ),
                                None,
                            );
                        }
                    }
                    if !is_ident(p, false) {
                        self.err(
                            at,
                            &["tools", tool, "output", "present_when"],
                            format!("bad key `{p}`"),
                            None,
                        );
                    }
                }
                if out.present_when.is_some() && out.empty.is_some() {
                    self.err(
                        at,
                        &base,
                        "`present_when` and `empty: none` cannot be combined",
                        None,
                    );
                }
                Output::Json(JsonOutput {
                    body,
                    returns: out.returns.clone(),
                    present_when: out.present_when.clone(),
                    empty_none: out.empty == Some(EmptyMeaning::None),
                    binary: out.tail.as_ref().map(|tail| BinaryReply {
                        tail: tail.clone(),
                        or_json: out.content == OutputContent::JsonOrBinary,
                    }),
                })
            }
        };
        Some(output)
    }

    pub(super) fn stream(
        &mut self,
        at: At<'_>,
        scope: &Scope<'_>,
        tool: &str,
        def: &model::StreamDef,
    ) -> Option<Stream> {
        let Some(shape) = self.flows.get(&def.flow).cloned() else {
            let d = super::flows::unknown(at, tool, &def.flow, &self.flows);
            self.diags.push(d);
            return None;
        };
        let content_types = self.content_types.clone();
        let side =
            |b: &mut Self, name: &str, chunks: &indexmap::IndexMap<String, model::ChunkDef>| {
                let mut out = Vec::new();
                for (kind, c) in chunks {
                    let path = ["tools", tool, "stream", name, kind.as_str()];
                    let doc = b.required_text(at, &path, &c.doc, &format!("chunk `{kind}`"));
                    if !content_types.contains(&c.content) {
                        b.err(
                            at,
                            &["tools", tool, "stream", name, kind, "content"],
                            format!("unknown content type `{}`", c.content),
                            did_you_mean(&c.content, content_types.iter().map(String::as_str)).or(
                                Some(
                                    "content types are the `content_types` of the room core file"
                                        .into(),
                                ),
                            ),
                        );
                    }
                    // The request start chunk's headers are method arguments: defaults allowed.
                    let generated = shape.method.is_some();
                    let rule = if generated && name == "request" && kind == "start" {
                        FieldUse::Input
                    } else {
                        FieldUse::Private
                    };
                    let headers = b.fields(
                        at,
                        scope,
                        &["tools", tool, "stream", name, kind, "headers"],
                        &c.headers,
                        rule,
                    );
                    if rule != FieldUse::Input {
                        b.no_fresh(
                            at,
                            &["tools", tool, "stream", name, kind, "headers"],
                            &headers,
                        );
                    }
                    out.push(Chunk {
                        kind: kind.clone(),
                        content: c.content.clone(),
                        doc,
                        headers,
                    });
                }
                out
            };
        let request = side(self, "request", &def.request);
        let response = side(self, "response", &def.response);
        if def.item.is_some() && !shape.item {
            let allowing: Vec<&str> = self
                .flows
                .values()
                .filter(|s| s.item)
                .map(|s| s.name.as_str())
                .collect();
            self.err(
                at,
                &["tools", tool, "stream", "item"],
                format!("flow shape `{}` does not allow `item`", shape.name),
                Some(if allowing.is_empty() {
                    "remove `item`: no flow shape of the table has `item: true`".to_string()
                } else {
                    format!(
                        "remove `item`, or use a shape with `item: true` ({})",
                        allowing.join(", ")
                    )
                }),
            );
        }
        if def.text_channels.is_some() && def.item != Some(model::PushItem::Text) {
            self.err(
                at,
                &["tools", tool, "stream", "text_channels"],
                "`text_channels` applies to `item: text` only".to_string(),
                Some("remove `text_channels`, or set `item: text`".to_string()),
            );
        }
        Some(Stream {
            shape,
            item: def.item,
            text_channels: def.text_channels.clone().unwrap_or_else(|| vec![1]),
            request,
            response,
        })
    }
}
