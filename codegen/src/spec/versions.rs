//! Protocol versions: which spec items belong to which version.
//!
//! The room core file lists the versions (`protocol.versions`, oldest first) and the
//! `default`. Any item may carry `since` and/or `until` (both inclusive); an item without
//! them belongs to every version. [`select`] gives the files as one version sees them:
//! items of other versions dropped, entries with `wire:` renamed to their wire name, and
//! SDK `notes` folded into the item's docs. Every problem is located.

use indexmap::IndexMap;

use super::load::{LoadedFile, Locator};
use super::model::{EnumValueDef, FieldDef, Notes, SpecFile, TokenPlace, TransportDef, TypeDef};
use crate::diag::{did_you_mean, Diagnostic};

/// One protocol version with its transport facts.
#[derive(Debug, Clone)]
pub struct VersionInfo {
    /// The version, e.g. `0.56.0`.
    pub name: String,
    /// What the version is.
    pub summary: String,
    /// Its transport facts.
    pub transport: TransportDef,
}

/// The versions a spec describes, oldest first, and the default one.
#[derive(Debug, Clone, Default)]
pub struct Versions {
    /// Oldest first.
    pub list: Vec<VersionInfo>,
    /// The version a crate user gets without choosing.
    pub default: String,
}

impl Versions {
    /// The version names, oldest first.
    pub fn names(&self) -> Vec<&str> {
        self.list.iter().map(|v| v.name.as_str()).collect()
    }

    /// The named version.
    pub fn get(&self, name: &str) -> Option<&VersionInfo> {
        self.list.iter().find(|v| v.name == name)
    }

    fn index(&self, name: &str) -> Option<usize> {
        self.list.iter().position(|v| v.name == name)
    }
}

/// `x.y.z` as numbers, for ordering.
fn parse_version(v: &str) -> Option<Vec<u64>> {
    let parts: Option<Vec<u64>> = v.split('.').map(|p| p.parse().ok()).collect();
    parts.filter(|p| p.len() == 3)
}

/// Reads the versions from the room core file (the file with `protocol`). Without a core
/// file the list is empty (and any `since`/`until` is then an unknown version).
pub fn read(files: &[LoadedFile]) -> (Versions, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let Some((file, p)) = files
        .iter()
        .find_map(|f| f.spec.protocol.as_ref().map(|p| (f, p)))
    else {
        return (Versions::default(), diags);
    };
    let err = |path: &[&str], msg: String, hint: Option<String>| {
        file.locator.diagnostic(&file.name, path, msg, hint)
    };
    let mut versions = Versions::default();
    match (&p.version, p.versions.is_empty()) {
        (Some(v), true) => {
            versions.list.push(VersionInfo {
                name: v.clone(),
                summary: p.summary.clone().unwrap_or_default(),
                transport: TransportDef::default(),
            });
            versions.default = v.clone();
        }
        (Some(_), false) => diags.push(err(
            &["protocol", "version"],
            "`protocol` has both `version` and `versions`".into(),
            Some("list every version under `versions` and drop `version`".into()),
        )),
        (None, true) => diags.push(err(
            &["protocol"],
            "the room core file needs `protocol: {versions: {...}, default: ...}`".into(),
            None,
        )),
        (None, false) => {}
    }
    let mut previous: Option<(Vec<u64>, &str)> = None;
    for (name, def) in &p.versions {
        let path = ["protocol", "versions", name.as_str()];
        match parse_version(name) {
            None => diags.push(err(
                &path,
                format!("bad version `{name}`"),
                Some("versions are `major.minor.patch`, e.g. `0.56.0`".into()),
            )),
            Some(parsed) => {
                if let Some((prev, prev_name)) = &previous {
                    if *prev >= parsed {
                        diags.push(err(
                            &path,
                            format!("version `{name}` is listed after `{prev_name}`"),
                            Some("list versions oldest first".into()),
                        ));
                    }
                }
                previous = Some((parsed, name));
            }
        }
        versions.list.push(VersionInfo {
            name: name.clone(),
            summary: def.summary.clone().unwrap_or_default(),
            transport: def.transport.clone(),
        });
    }
    if !p.versions.is_empty() {
        match &p.default {
            Some(d) if versions.index(d).is_some() => versions.default = d.clone(),
            Some(d) => {
                let hint = did_you_mean(d, versions.names())
                    .or_else(|| Some(format!("the versions are: {}", versions.names().join(", "))));
                diags.push(err(
                    &["protocol", "default"],
                    format!("unknown default version `{d}`"),
                    hint,
                ));
                versions.default = versions
                    .list
                    .last()
                    .map(|v| v.name.clone())
                    .unwrap_or_default();
            }
            None => {
                diags.push(err(
                    &["protocol"],
                    "`protocol` needs a `default` version".into(),
                    Some("e.g. `default: 0.56.0` (usually the newest)".into()),
                ));
                versions.default = versions
                    .list
                    .last()
                    .map(|v| v.name.clone())
                    .unwrap_or_default();
            }
        }
    }
    (versions, diags)
}

/// Whether the transport puts the token in a header (for the generated `protocol` module).
pub fn token_in_header(t: &TransportDef) -> bool {
    t.token == TokenPlace::BearerHeader
}

/// The files as `version` sees them, with every problem of versions found on the way.
/// `version` must be one of `versions` (or anything, when the list is empty).
pub fn select(
    files: &[LoadedFile],
    versions: &Versions,
    version: &str,
) -> (Vec<LoadedFile>, Vec<Diagnostic>) {
    let mut out = Vec::new();
    let mut diags = Vec::new();
    let idx = versions.index(version);
    for file in files {
        let mut sel = Sel {
            versions,
            idx,
            file: &file.name,
            locator: &file.locator,
            renames: Vec::new(),
            diags: &mut diags,
        };
        let mut spec = file.spec.clone();
        if !sel.spec(&mut spec) {
            continue;
        }
        let mut locator = file.locator.clone();
        for (from, to) in &sel.renames {
            let from: Vec<&str> = from.iter().map(String::as_str).collect();
            let to: Vec<&str> = to.iter().map(String::as_str).collect();
            locator.alias(&from, &to);
        }
        out.push(LoadedFile {
            name: file.name.clone(),
            spec,
            locator,
        });
    }
    (out, diags)
}

/// Named types that exist in the spec but not in `version`, with the versions they belong
/// to (e.g. `until 0.35.8`): an unknown type in `version` is then explained.
pub fn absent_types(
    files: &[LoadedFile],
    versions: &Versions,
    version: &str,
) -> std::collections::BTreeMap<String, String> {
    let Some(idx) = versions.index(version) else {
        return Default::default();
    };
    let mut absent = std::collections::BTreeMap::new();
    let mut present = std::collections::BTreeSet::new();
    for file in files {
        for (key, def) in &file.spec.types {
            let name = def.wire.clone().unwrap_or_else(|| key.clone());
            let since = def.since.as_deref().and_then(|v| versions.index(v));
            let until = def.until.as_deref().and_then(|v| versions.index(v));
            if since.is_none_or(|s| s <= idx) && until.is_none_or(|u| idx <= u) {
                present.insert(name);
                continue;
            }
            let range = match (&def.since, &def.until) {
                (Some(s), Some(u)) => format!("{s} to {u}"),
                (Some(s), None) => format!("since {s}"),
                (None, Some(u)) => format!("until {u}"),
                (None, None) => String::new(),
            };
            absent.insert(name, range);
        }
    }
    absent.retain(|name, _| !present.contains(name));
    absent
}

/// Every version problem of the files, checked in every version.
pub fn check_all(files: &[LoadedFile], versions: &Versions) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    if versions.list.is_empty() {
        diags.extend(select(files, versions, "").1);
    }
    for v in &versions.list {
        diags.extend(select(files, versions, &v.name).1);
    }
    diags.sort();
    diags.dedup();
    diags
}

/// since/until/wire of an item.
struct Meta<'a> {
    since: Option<&'a str>,
    until: Option<&'a str>,
    wire: Option<&'a str>,
}

const NONE: Meta<'static> = Meta {
    since: None,
    until: None,
    wire: None,
};

struct Sel<'a> {
    versions: &'a Versions,
    /// The selected version's index (`None`: no versions known).
    idx: Option<usize>,
    file: &'a str,
    locator: &'a Locator,
    renames: Vec<(Vec<String>, Vec<String>)>,
    diags: &'a mut Vec<Diagnostic>,
}

fn owned(path: &[&str]) -> Vec<String> {
    path.iter().map(|s| s.to_string()).collect()
}

impl Sel<'_> {
    fn err(&mut self, path: &[&str], msg: String, hint: Option<String>) {
        let d = self.locator.diagnostic(self.file, path, msg, hint);
        self.diags.push(d);
    }

    /// The index of a named version, reporting unknown ones.
    fn version_index(&mut self, path: &[&str], key: &str, v: &str) -> Option<usize> {
        if let Some(i) = self.versions.index(v) {
            return Some(i);
        }
        let names = self.versions.names();
        // A well-formed version that is not declared is not a typo of a declared one.
        let typo = if parse_version(v).is_some() {
            None
        } else {
            did_you_mean(v, names.iter().copied())
        };
        let hint = typo.or_else(|| {
            Some(if names.is_empty() {
                "the room core file lists no `protocol.versions`".to_string()
            } else {
                format!(
                    "the versions (`protocol.versions` of the room core file) are: {}; declare new ones there",
                    names.join(", ")
                )
            })
        });
        let mut p = path.to_vec();
        p.push(key);
        self.err(&p, format!("unknown version `{v}` in `{key}`"), hint);
        None
    }

    /// Whether the item at `path` is alive in the selected version. Items with bad
    /// versions count as alive (the error is reported once, not as a cascade).
    fn alive(&mut self, path: &[&str], meta: &Meta<'_>) -> bool {
        let since = meta
            .since
            .and_then(|v| self.version_index(path, "since", v));
        let until = meta
            .until
            .and_then(|v| self.version_index(path, "until", v));
        if let (Some(s), Some(u)) = (since, until) {
            if u < s {
                let mut p = path.to_vec();
                p.push("until");
                self.err(
                    &p,
                    format!(
                        "`until: {}` is before `since: {}`: the item belongs to no version",
                        meta.until.unwrap_or_default(),
                        meta.since.unwrap_or_default()
                    ),
                    Some("`since` and `until` are inclusive; `until` names the last version that has the item".into()),
                );
                return true;
            }
        }
        let Some(idx) = self.idx else { return true };
        since.is_none_or(|s| s <= idx) && until.is_none_or(|u| idx <= u)
    }

    /// Keeps the entries of `map` alive in the selected version, renamed to their wire
    /// name; `inner` walks each kept entry.
    fn map<T>(
        &mut self,
        path: &[&str],
        map: &mut IndexMap<String, T>,
        meta: impl Fn(&T) -> Meta<'_>,
        mut inner: impl FnMut(&mut Self, &[&str], &mut T),
    ) {
        let entries = std::mem::take(map);
        for (key, mut item) in entries {
            let mut p = path.to_vec();
            p.push(&key);
            let (alive, wire) = {
                let m = meta(&item);
                (self.alive(&p, &m), m.wire.map(str::to_owned))
            };
            if !alive {
                continue;
            }
            inner(self, &p, &mut item);
            let name = wire.clone().unwrap_or_else(|| key.clone());
            if map.contains_key(&name) {
                let version = self
                    .idx
                    .map(|i| self.versions.list[i].name.clone())
                    .unwrap_or_default();
                self.err(
                    &p,
                    format!("two entries for `{name}` are alive in version {version}"),
                    Some(
                        "give them `since`/`until` ranges that do not overlap (both are inclusive)"
                            .into(),
                    ),
                );
                continue;
            }
            if wire.is_some() && name != key {
                let mut to = path.to_vec();
                to.push(&name);
                self.renames.push((owned(&p), owned(&to)));
            }
            map.insert(name, item);
        }
    }

    fn fields(&mut self, path: &[&str], fields: &mut IndexMap<String, FieldDef>) {
        self.map(
            path,
            fields,
            |f| match f {
                FieldDef::Short(_) => NONE,
                FieldDef::Full(f) => Meta {
                    since: f.since.as_deref(),
                    until: f.until.as_deref(),
                    wire: f.wire.as_deref(),
                },
            },
            |s, p, f| {
                if let FieldDef::Full(f) = f {
                    s.fold(p, &mut f.doc, &f.notes);
                }
            },
        );
    }

    /// Walks a whole file; false when the file's toolkit is not in the selected version.
    fn spec(&mut self, spec: &mut SpecFile) -> bool {
        if let Some(tk) = &mut spec.toolkit {
            let m = Meta {
                since: tk.since.as_deref(),
                until: tk.until.as_deref(),
                wire: None,
            };
            if !self.alive(&["toolkit"], &m) {
                return false;
            }
            self.fold(&["toolkit"], &mut tk.summary, &tk.notes);
        }
        if let Some(packets) = &mut spec.packets {
            self.map(
                &["packets", "client"],
                &mut packets.client,
                |p| Meta {
                    since: p.since.as_deref(),
                    until: p.until.as_deref(),
                    wire: p.wire.as_deref(),
                },
                |s, path, p| s.fold(path, &mut p.summary, &p.notes),
            );
            self.map(
                &["packets", "server"],
                &mut packets.server,
                |p| Meta {
                    since: p.since.as_deref(),
                    until: p.until.as_deref(),
                    wire: None,
                },
                |s, p, packet| {
                    s.fold(p, &mut packet.summary, &packet.notes);
                    if let Some(h) = &mut packet.header {
                        let mut q = p.to_vec();
                        q.extend(["header", "fields"]);
                        s.fields(&q, &mut h.fields);
                    }
                },
            );
        }
        if let Some(c) = &mut spec.content_types {
            self.map(
                &["content_types"],
                c,
                |c| Meta {
                    since: c.since.as_deref(),
                    until: c.until.as_deref(),
                    wire: None,
                },
                |_, _, _| {},
            );
        }
        if let Some(c) = &mut spec.error_codes {
            self.map(
                &["error_codes"],
                c,
                |c| Meta {
                    since: c.since.as_deref(),
                    until: c.until.as_deref(),
                    wire: None,
                },
                |_, _, _| {},
            );
        }
        self.map(
            &["tools"],
            &mut spec.tools,
            |t| Meta {
                since: t.since.as_deref(),
                until: t.until.as_deref(),
                wire: t.wire.as_deref(),
            },
            |s, p, tool| {
                s.fold(p, &mut tool.summary, &tool.notes);
                let mut q = p.to_vec();
                q.push("input");
                s.fields(&q, &mut tool.input);
                if let Some(fields) = tool.output.as_mut().and_then(|o| o.fields.as_mut()) {
                    let mut q = p.to_vec();
                    q.extend(["output", "fields"]);
                    s.fields(&q, fields);
                }
                if let Some(stream) = &mut tool.stream {
                    for (side, chunks) in [
                        ("request", &mut stream.request),
                        ("response", &mut stream.response),
                    ] {
                        for (kind, chunk) in chunks.iter_mut() {
                            let mut q = p.to_vec();
                            q.extend(["stream", side, kind.as_str(), "headers"]);
                            s.fields(&q, &mut chunk.headers);
                        }
                    }
                }
            },
        );
        self.map(
            &["events"],
            &mut spec.events,
            |e| Meta {
                since: e.since.as_deref(),
                until: e.until.as_deref(),
                wire: e.wire.as_deref(),
            },
            |s, p, event| {
                s.fold(p, &mut event.summary, &event.notes);
                let mut q = p.to_vec();
                q.push("fields");
                s.fields(&q, &mut event.fields);
            },
        );
        self.map(
            &["types"],
            &mut spec.types,
            |t| Meta {
                since: t.since.as_deref(),
                until: t.until.as_deref(),
                wire: t.wire.as_deref(),
            },
            |s, p, ty| s.type_def(p, ty),
        );
        true
    }

    fn type_def(&mut self, p: &[&str], ty: &mut TypeDef) {
        self.fold(p, &mut ty.summary, &ty.notes);
        if let Some(fields) = &mut ty.fields {
            let mut q = p.to_vec();
            q.push("fields");
            self.fields(&q, fields);
        }
        if let Some(values) = &mut ty.values {
            let mut q = p.to_vec();
            q.push("enum");
            self.map(
                &q,
                values,
                |v| match v {
                    EnumValueDef::Short(_) => NONE,
                    EnumValueDef::Full(f) => Meta {
                        since: f.since.as_deref(),
                        until: f.until.as_deref(),
                        wire: None,
                    },
                },
                |s, p, v| {
                    if let EnumValueDef::Full(f) = v {
                        let mut doc = Some(f.doc.clone());
                        s.fold(p, &mut doc, &f.notes);
                        f.doc = doc.unwrap_or_default();
                    }
                },
            );
        }
        if let Some(variants) = &mut ty.variants {
            let mut q = p.to_vec();
            q.push("variants");
            self.map(
                &q,
                variants,
                |v| Meta {
                    since: v.since.as_deref(),
                    until: v.until.as_deref(),
                    wire: None,
                },
                |s, p, v| {
                    let mut q = p.to_vec();
                    q.push("fields");
                    s.fields(&q, &mut v.fields);
                },
            );
        }
    }
}

impl Sel<'_> {
    /// Appends the SDK notes to an item's docs, as their own paragraph, in the versions
    /// the notes apply to (`notes.since`, default: every version of the item).
    fn fold(&mut self, path: &[&str], doc: &mut Option<String>, notes: &Option<Notes>) {
        let Some(notes) = notes else { return };
        let mut p = path.to_vec();
        p.push("notes");
        let meta = Meta {
            since: notes.since.as_deref(),
            until: None,
            wire: None,
        };
        if !self.alive(&p, &meta) {
            return;
        }
        let mut text = doc.clone().unwrap_or_default();
        for (sdk, note) in [("Python", &notes.python), ("TypeScript", &notes.typescript)] {
            if let Some(note) = note {
                text.push_str(&format!("\n\n{sdk} SDK: {}", note.trim()));
            }
        }
        *doc = Some(text);
    }
}
