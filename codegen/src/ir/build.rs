//! The build stage: walks the loaded files in order and turns each section into IR,
//! reporting every problem with its location.

use std::collections::{BTreeMap, BTreeSet};

use indexmap::IndexMap;

use super::checks::*;
use super::model::*;
use super::types::*;
use crate::diag::{did_you_mean, Diagnostic};
use crate::naming::{pascal, snake};
use crate::spec::load::LoadedFile;
use crate::spec::model::{self};
use crate::spec::versions;

/// Builds and validates the [`Api`] of the spec's default version from loaded files;
/// returns every problem found.
pub fn build(files: &[LoadedFile]) -> Result<Api, Vec<Diagnostic>> {
    let (v, _) = versions::read(files);
    build_version(files, &v.default)
}

/// Builds and validates the [`Api`] of one protocol version: only the items alive in
/// `version`. Version problems anywhere in the spec (in any version) are reported too.
pub fn build_version(files: &[LoadedFile], version: &str) -> Result<Api, Vec<Diagnostic>> {
    let (v, mut diags) = versions::read(files);
    diags.extend(versions::check_all(files, &v));
    if !v.list.is_empty() && v.get(version).is_none() {
        if let Some(core) = files.iter().find(|f| f.spec.protocol.is_some()) {
            let hint = did_you_mean(version, v.names())
                .or_else(|| Some(format!("the versions are: {}", v.names().join(", "))));
            diags.push(core.locator.diagnostic(
                &core.name,
                &["protocol", "versions"],
                format!("unknown protocol version `{version}` selected"),
                hint,
            ));
        }
    }
    let (selected, _) = versions::select(files, &v, version);
    let mut b = Builder {
        absent_types: versions::absent_types(files, &v, version),
        version: version.to_string(),
        ..Builder::default()
    };
    let mut api = b.api(&selected);
    if let Some(info) = v.get(version) {
        api.version = info.name.clone();
        api.transport = Transport {
            token_in_header: versions::token_in_header(&info.transport),
            request_chunk_acks: info.transport.request_chunk_acks,
            caller_context: info.transport.caller_context,
        };
    }
    api.versions = v.names().into_iter().map(str::to_owned).collect();
    api.default_version = v.default.clone();
    diags.append(&mut b.diags);
    if diags.is_empty() {
        Ok(api)
    } else {
        diags.sort();
        diags.dedup();
        Err(diags)
    }
}

#[derive(Default)]
pub(super) struct Builder {
    pub(super) diags: Vec<Diagnostic>,
    pub(super) shared_names: BTreeSet<String>,
    /// The flow table, read before any toolkit.
    pub(super) flows: IndexMap<String, FlowShape>,
    /// Content type names of the room core file, read before any toolkit.
    pub(super) content_types: Vec<String>,
    /// Types of the spec that the selected version does not have, with their versions.
    pub(super) absent_types: BTreeMap<String, String>,
    /// The selected protocol version.
    pub(super) version: String,
}

/// Where we are: file and key path, for diagnostics.
#[derive(Clone, Copy)]
pub(super) struct At<'a> {
    pub(super) file: &'a LoadedFile,
}

impl At<'_> {
    pub(super) fn diag(&self, path: &[&str], message: String, hint: Option<String>) -> Diagnostic {
        self.file
            .locator
            .diagnostic(&self.file.name, path, message, hint)
    }
}

impl Builder {
    /// An error at the scalar value of `path` (`type: itn` → under `itn`; a bare field type).
    pub(super) fn err_at_value(
        &mut self,
        at: At<'_>,
        path: &[&str],
        message: impl Into<String>,
        hint: Option<String>,
    ) {
        let d = at
            .file
            .locator
            .value_diagnostic(&at.file.name, path, message, hint);
        self.diags.push(d);
    }

    pub(super) fn err(
        &mut self,
        at: At<'_>,
        path: &[&str],
        message: impl Into<String>,
        hint: Option<String>,
    ) {
        let d = at.diag(path, message.into(), hint);
        self.diags.push(d);
    }

    pub(super) fn required_text(
        &mut self,
        at: At<'_>,
        path: &[&str],
        text: &Option<String>,
        what: &str,
    ) -> String {
        match text.as_deref().map(str::trim) {
            Some(t) if !t.is_empty() => t.to_string(),
            _ => {
                self.err(
                    at,
                    path,
                    format!("missing description for {what}"),
                    Some("every public item needs words: they become the generated docs".into()),
                );
                String::new()
            }
        }
    }

    pub(super) fn api(&mut self, files: &[LoadedFile]) -> Api {
        // Shared type names first, so toolkits can refer to them.
        for f in files
            .iter()
            .filter(|f| f.spec.toolkit.is_none() && !is_core(&f.spec))
        {
            self.shared_names.extend(f.spec.types.keys().cloned());
        }
        self.flows = self.flow_table(files);
        self.content_types = files
            .iter()
            .filter_map(|f| f.spec.content_types.as_ref())
            .flat_map(|c| c.keys().cloned())
            .collect();
        let mut api = Api {
            version: String::new(),
            versions: Vec::new(),
            default_version: String::new(),
            transport: Transport::default(),
            core_source: String::new(),
            client_packets: Vec::new(),
            server_packets: Vec::new(),
            packet_headers: Vec::new(),
            content_types: Vec::new(),
            error_codes: Vec::new(),
            core_events: Vec::new(),
            shared_types: Vec::new(),
            toolkits: Vec::new(),
            flows: Vec::new(),
            flows_source: files
                .iter()
                .find(|f| f.spec.flows.is_some())
                .map(|f| f.name.clone())
                .unwrap_or_default(),
        };
        let mut core_seen = false;
        for file in files {
            let at = At { file };
            let spec = &file.spec;
            if is_core(spec) {
                if spec.toolkit.is_some() || !spec.tools.is_empty() || !spec.types.is_empty() {
                    self.err(
                        at,
                        &["toolkit"],
                        "the room core file cannot also describe a toolkit or types",
                        Some("move toolkit sections to their own file".into()),
                    );
                }
                if core_seen {
                    self.err(
                        at,
                        &[],
                        "a second room core file (protocol/packets/content_types/error_codes)",
                        Some(format!(
                            "the core is already described in {}",
                            api.core_source
                        )),
                    );
                    continue;
                }
                core_seen = true;
                self.core(at, &mut api);
            } else if let Some(header) = &spec.toolkit {
                if let Some(tk) = self.toolkit(at, header) {
                    api.toolkits.push(tk);
                }
            } else if !spec.tools.is_empty()
                || !spec.events.is_empty()
                || !spec.constants.is_empty()
            {
                self.err(
                    at,
                    &["tools"],
                    "tools, events and constants need a `toolkit` section",
                    Some("add `toolkit: {name: <wire name>, summary: ...}`".into()),
                );
            } else {
                let none = BTreeSet::new();
                let shared = self.shared_names.clone();
                let scope = Scope {
                    local: &none,
                    shared: &shared,
                };
                for (name, def) in &spec.types {
                    if let Some(t) = self.type_decl(at, &scope, name, def, &BTreeSet::new()) {
                        api.shared_types.push((file.name.clone(), t));
                    }
                }
            }
        }
        if !core_seen && !files.is_empty() {
            self.diags.push(Diagnostic::new(
                files[0].name.clone(),
                (1, 1),
                "no room core file: one file must declare `protocol`, `packets`, `content_types` and `error_codes`",
                Some("see spec/room.yaml in the repository".into()),
            ));
        }
        let mut shared: Vec<TypeDecl> = api.shared_types.iter().map(|(_, t)| t.clone()).collect();
        mark_boxed(&mut shared);
        for ((_, t), marked) in api.shared_types.iter_mut().zip(shared) {
            *t = marked;
        }
        self.cross_checks(files, &api);
        api.toolkits.sort_by(|a, b| a.name.cmp(&b.name));
        api.flows = self.flows.values().cloned().collect();
        api
    }

    pub(super) fn core(&mut self, at: At<'_>, api: &mut Api) {
        let spec = &at.file.spec;
        api.core_source = at.file.name.clone();
        let (none, shared) = (BTreeSet::new(), self.shared_names.clone());
        api.core_events = self.events(
            at,
            &Scope {
                local: &none,
                shared: &shared,
            },
        );
        match &spec.protocol {
            Some(p) => api.version = p.version.clone().unwrap_or_default(),
            None => self.err(
                at,
                &[],
                "the room core file needs `protocol: {version: ...}`",
                None,
            ),
        }
        let packets = spec.packets.clone().unwrap_or_default();
        for (wire, p) in &packets.client {
            if !is_packet_name(wire) {
                self.err(
                    at,
                    &["packets", "client", wire],
                    format!("bad packet type `{wire}`"),
                    Some("packet types are lowercase with `.` and `_`".into()),
                );
            }
            let summary = self.required_text(
                at,
                &["packets", "client", wire],
                &p.summary,
                &format!("packet `{wire}`"),
            );
            api.client_packets.push(ClientPacket {
                wire: wire.clone(),
                reply: p.reply,
                summary,
            });
        }
        for (wire, p) in &packets.server {
            if !is_packet_name(wire) {
                self.err(
                    at,
                    &["packets", "server", wire],
                    format!("bad packet type `{wire}`"),
                    Some("packet types are lowercase with `.` and `_`".into()),
                );
            }
            let summary = self.required_text(
                at,
                &["packets", "server", wire],
                &p.summary,
                &format!("packet `{wire}`"),
            );
            if let Some(h) = &p.header {
                let path = ["packets", "server", wire.as_str(), "header"];
                if !is_ident(&h.name, true) || pascal(&h.name) != h.name {
                    self.err(
                        at,
                        &path,
                        format!("bad type name `{}`", h.name),
                        Some("header struct names are PascalCase".into()),
                    );
                }
                let (none, shared) = (BTreeSet::new(), self.shared_names.clone());
                let scope = Scope {
                    local: &none,
                    shared: &shared,
                };
                let hsummary =
                    self.required_text(at, &path, &h.summary, &format!("header of `{wire}`"));
                let fields = self.fields(
                    at,
                    &scope,
                    &["packets", "server", wire, "header", "fields"],
                    &h.fields,
                    FieldUse::Public,
                );
                api.packet_headers.push(TypeDecl {
                    name: h.name.clone(),
                    summary: hsummary,
                    shape: Shape::Struct(fields),
                });
            }
            api.server_packets.push(Described {
                wire: wire.clone(),
                summary,
            });
        }
        for (wire, c) in spec.content_types.iter().flatten() {
            let summary = self.required_text(
                at,
                &["content_types", wire],
                &c.summary,
                &format!("content type `{wire}`"),
            );
            api.content_types.push(Described {
                wire: wire.clone(),
                summary,
            });
        }
        let mut codes = BTreeMap::new();
        for (name, e) in spec.error_codes.iter().flatten() {
            if !is_ident(name, true) || name.chars().any(|c| c.is_ascii_lowercase()) {
                self.err(
                    at,
                    &["error_codes", name],
                    format!("bad error code name `{name}`"),
                    Some("error code names are SHOUTY_SNAKE_CASE".into()),
                );
            }
            if let Some(other) = codes.insert(e.code, name.clone()) {
                self.err(
                    at,
                    &["error_codes", name, "code"],
                    format!("duplicate error code {} (also `{other}`)", e.code),
                    None,
                );
            }
            let summary = self.required_text(
                at,
                &["error_codes", name],
                &e.summary,
                &format!("error code `{name}`"),
            );
            api.error_codes.push(ErrorCode {
                name: name.clone(),
                code: e.code,
                summary,
            });
        }
    }

    pub(super) fn toolkit(&mut self, at: At<'_>, header: &model::ToolkitHeader) -> Option<Toolkit> {
        let spec = &at.file.spec;
        if !is_snake_ident(&header.name) || snake(&header.name) != header.name {
            self.err(at, &["toolkit", "name"], format!("bad toolkit name `{}`", header.name), Some("toolkit names are lowercase snake_case: they become a module, a method and a cargo feature".into()));
        }
        let summary = self.required_text(
            at,
            &["toolkit"],
            &header.summary,
            &format!("toolkit `{}`", header.name),
        );
        // Names the generated module already uses, so named types cannot collide with them.
        let mut reserved: BTreeSet<String> = spec
            .tools
            .keys()
            .map(|t| crate::naming::builder(t))
            .chain(spec.events.keys().map(|e| pascal(e)))
            .collect();
        reserved.insert(pascal(&header.name));
        let local: BTreeSet<String> = spec.types.keys().cloned().collect();
        let shared = self.shared_names.clone();
        let scope = Scope {
            local: &local,
            shared: &shared,
        };
        let mut types = Vec::new();
        for (name, def) in &spec.types {
            if let Some(t) = self.type_decl(at, &scope, name, def, &reserved) {
                types.push(t);
            }
        }
        let mut tools = Vec::new();
        for (name, def) in &spec.tools {
            if let Some(t) = self.tool(at, &scope, name, def) {
                tools.push(t);
            }
        }
        let events = self.events(at, &scope);
        let constants = self.constants(at);
        mark_boxed(&mut types);
        Some(Toolkit {
            name: header.name.clone(),
            source: at.file.name.clone(),
            summary,
            tools,
            events,
            types,
            constants,
        })
    }

    fn constants(&mut self, at: At<'_>) -> Vec<ConstGroup> {
        let mut groups = Vec::new();
        for (name, def) in &at.file.spec.constants {
            let path = ["constants", name.as_str()];
            if !is_snake_ident(name) {
                self.err(
                    at,
                    &path,
                    format!("bad constant group name `{name}`"),
                    Some("group names are snake_case: they become modules".into()),
                );
            }
            let summary =
                self.required_text(at, &path, &def.summary, &format!("constants `{name}`"));
            let mut values = Vec::new();
            for (v, c) in &def.values {
                let p = ["constants", name.as_str(), "values", v.as_str()];
                if !is_snake_ident(v) {
                    self.err(
                        at,
                        &p,
                        format!("bad constant name `{v}`"),
                        Some("constant names are snake_case in the spec".into()),
                    );
                }
                let doc = self.required_text(at, &p, &c.doc, &format!("constant `{v}`"));
                values.push((v.clone(), c.value, doc));
            }
            groups.push(ConstGroup {
                name: name.clone(),
                summary,
                values,
            });
        }
        groups
    }

    pub(super) fn events(&mut self, at: At<'_>, scope: &Scope<'_>) -> Vec<Event> {
        let spec = &at.file.spec;
        let mut events = Vec::new();
        for (name, def) in &spec.events {
            let path = ["events", name.as_str()];
            if !is_snake_ident(name) {
                self.err(
                    at,
                    &path,
                    format!("bad event name `{name}`"),
                    Some("event names are snake_case".into()),
                );
            }
            if !is_packet_name(&def.packet) {
                self.err(
                    at,
                    &["events", name, "packet"],
                    format!("bad packet type `{}`", def.packet),
                    Some("packet types are lowercase with `.` and `_`".into()),
                );
            }
            let summary = self.required_text(at, &path, &def.summary, &format!("event `{name}`"));
            let fields = self.fields(
                at,
                scope,
                &["events", name, "fields"],
                &def.fields,
                FieldUse::Public,
            );
            let when = self.event_when(at, name, def);
            if let Some(tail) = &def.tail {
                if !fields.iter().any(|f| &f.wire == tail && is_bytes(&f.ty)) {
                    self.err(
                        at,
                        &["events", name, "tail"],
                        format!("`tail: {tail}` must name a `bytes` field of the event"),
                        Some(format!(
                            "add `{tail}: {{type: bytes, doc: ...}}` to `fields`"
                        )),
                    );
                }
            }
            events.push(Event {
                name: name.clone(),
                packet: def.packet.clone(),
                summary,
                fields,
                when,
                tail: def.tail.clone(),
            });
        }
        events
    }

    pub(super) fn event_when(
        &mut self,
        at: At<'_>,
        name: &str,
        def: &model::EventDef,
    ) -> Option<(String, String)> {
        let when = def.when.as_ref()?;
        if when.len() != 1 {
            self.err(
                at,
                &["events", name, "when"],
                "`when` selects by exactly one header key",
                Some("e.g. `when: {type: participant.enabled}`".into()),
            );
        }
        when.iter().next().map(|(k, v)| (k.clone(), v.clone()))
    }
}

/// What a field list is used for, which decides whether docs and defaults are allowed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum FieldUse {
    /// Tool input: docs required, defaults allowed.
    Input,
    /// Public struct or event: docs required.
    Public,
    /// A private wrapper: docs optional.
    Private,
}

pub(super) struct Scope<'a> {
    pub(super) local: &'a BTreeSet<String>,
    pub(super) shared: &'a BTreeSet<String>,
}
