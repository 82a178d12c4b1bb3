//! Naming rules and the checks that span files (duplicates, shadowing, shared packets).

use std::collections::BTreeMap;

use super::build::{At, Builder};
use super::model::*;
use crate::spec::load::LoadedFile;
use crate::spec::model::SpecFile;

pub(super) fn is_core(spec: &SpecFile) -> bool {
    spec.protocol.is_some()
        || spec.packets.is_some()
        || spec.content_types.is_some()
        || spec.error_codes.is_some()
}

pub(super) fn is_ident(s: &str, first_upper: bool) -> bool {
    let mut chars = s.chars();
    let first_ok = chars.next().is_some_and(|c| {
        if first_upper {
            c.is_ascii_uppercase()
        } else {
            c.is_ascii_alphabetic() || c == '_'
        }
    });
    first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

pub(super) fn is_snake_ident(s: &str) -> bool {
    is_ident(s, false) && !s.chars().any(|c| c.is_ascii_uppercase())
}

pub(super) fn is_packet_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_.<>".contains(c))
}

impl Builder {
    pub(super) fn cross_checks(&mut self, files: &[LoadedFile], api: &Api) {
        let mut toolkits: BTreeMap<&str, &str> = BTreeMap::new();
        let mut packets: BTreeMap<String, String> = api
            .server_packets
            .iter()
            .map(|p| (p.wire.clone(), api.core_source.clone()))
            .collect();
        let mut shared: BTreeMap<&str, &str> = BTreeMap::new();
        let mut shared_packet_files: BTreeMap<String, String> = BTreeMap::new();
        for file in files {
            let at = At { file };
            if file.spec.toolkit.is_some() || is_core(&file.spec) {
                if let Some(h) = &file.spec.toolkit {
                    if let Some(prev) = toolkits.insert(&h.name, &file.name) {
                        self.err(
                            at,
                            &["toolkit", "name"],
                            format!("duplicate toolkit `{}`", h.name),
                            Some(format!("already declared in {prev}")),
                        );
                    }
                }
                for (name, e) in &file.spec.events {
                    let selector = e.when.as_ref().and_then(|w| w.keys().next().cloned());
                    let key = match &selector {
                        // Events selected by a header value share their packet.
                        Some(k) => format!(
                            "{}#{k}={}",
                            e.packet,
                            e.when
                                .as_ref()
                                .and_then(|w| w.get(k))
                                .cloned()
                                .unwrap_or_default()
                        ),
                        None => e.packet.clone(),
                    };
                    if let Some(other) =
                        shared_packet_files.insert(e.packet.clone(), file.name.clone())
                    {
                        if other != file.name {
                            self.err(at, &["events", name, "packet"], format!("packet `{}` is split across files", e.packet), Some(format!("keep every event of one packet in one toolkit file (also in {other})")));
                        }
                    }
                    if let Some(prev) = packets.insert(key, file.name.clone()) {
                        self.err(
                            at,
                            &["events", name, "packet"],
                            format!("duplicate server packet `{}`", e.packet),
                            Some(format!("already declared in {prev}; events sharing a packet need distinct `when` values")),
                        );
                    }
                }
                for name in file.spec.types.keys() {
                    if self.shared_names.contains(name) {
                        self.err(
                            at,
                            &["types", name],
                            format!("type `{name}` shadows a shared type"),
                            Some("rename one of them".into()),
                        );
                    }
                }
            } else if !is_core(&file.spec) {
                for name in file.spec.types.keys() {
                    if let Some(prev) = shared.insert(name, &file.name) {
                        self.err(
                            at,
                            &["types", name],
                            format!("duplicate shared type `{name}`"),
                            Some(format!("already declared in {prev}")),
                        );
                    }
                }
            }
        }
    }
}
