//! The collector of changes and the field-list comparisons shared by inputs, structs,
//! outputs, events, chunk headers and union variants.

use serde_json::Value;

use super::rules::{self, Rule};
use super::{Change, Scope};
use crate::ir::{Field, TypeRef};
use crate::spec::model::Absent;

/// Collects the changes of one scope.
pub(super) struct Differ<'c> {
    pub(super) scope: Scope,
    pub(super) changes: &'c mut Vec<Change>,
}

impl Differ<'_> {
    /// Records a change of `path` under `rule`.
    pub(super) fn push(&mut self, path: impl Into<String>, rule: &'static Rule, detail: String) {
        self.changes.push(Change {
            scope: self.scope.clone(),
            path: path.into(),
            rule,
            detail,
        });
    }
}

/// How a list of fields surfaces in the generated code.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum FieldsAre {
    /// Method arguments: required ones positional, the others builder methods.
    Inputs,
    /// A `#[non_exhaustive]` struct with `new(required fields)`.
    Struct,
    /// An exhaustive struct variant of a union.
    Variant,
}

/// Items of `old` and `new` matched by key: (only in old, only in new, in both).
pub(super) type Matched<'a, T> = (Vec<&'a T>, Vec<&'a T>, Vec<(&'a T, &'a T)>);

/// Matches items by key, in `old` order then `new` order.
pub(super) fn matched<'a, T, K: PartialEq>(
    old: &'a [T],
    new: &'a [T],
    key: impl Fn(&T) -> K,
) -> Matched<'a, T> {
    let mut removed = Vec::new();
    let mut both = Vec::new();
    for o in old {
        match new.iter().find(|n| key(n) == key(o)) {
            Some(n) => both.push((o, n)),
            None => removed.push(o),
        }
    }
    let added = new
        .iter()
        .filter(|n| !old.iter().any(|o| key(o) == key(n)))
        .collect();
    (removed, added, both)
}

/// `old -> new`, for details.
pub(super) fn arrow(old: impl std::fmt::Display, new: impl std::fmt::Display) -> String {
    format!("{old} -> {new}")
}

/// A type as the spec writes it, e.g. `list<string>?`.
pub(super) fn type_text(t: &TypeRef) -> String {
    match t {
        TypeRef::String => "string".into(),
        TypeRef::Bool => "bool".into(),
        TypeRef::Int => "int".into(),
        TypeRef::Float => "float".into(),
        TypeRef::Bytes => "bytes".into(),
        TypeRef::Json => "json".into(),
        TypeRef::Timestamp => "timestamp".into(),
        TypeRef::List(t) => format!("list<{}>", type_text(t)),
        TypeRef::Map(t) => format!("map<{}>", type_text(t)),
        TypeRef::JsonString(t) => format!("json_string<{}>", type_text(t)),
        TypeRef::Optional(t) => format!("{}?", type_text(t)),
        TypeRef::Tail => "tail".into(),
        TypeRef::Named { name, shared: true } => format!("types::{name}"),
        TypeRef::Named {
            name,
            shared: false,
        } => name.clone(),
    }
}

/// The type without its outer `?`. (`tail` stays apart from `bytes`: the generated
/// argument is `bytes::Bytes` for a tail and `Base64Bytes` for a JSON field.)
fn base(t: &TypeRef) -> &TypeRef {
    match t {
        TypeRef::Optional(inner) => inner,
        other => other,
    }
}

/// A field's type with its default, e.g. `int = 10`.
fn field_text(f: &Field) -> String {
    match &f.default {
        Some(v) => format!("{} = {v}", type_text(&f.ty)),
        None => type_text(&f.ty),
    }
}

fn value_text(v: &Option<Value>) -> String {
    v.as_ref().map_or_else(|| "none".into(), Value::to_string)
}

fn absent_text(a: Absent) -> &'static str {
    match a {
        Absent::Omit => "omit",
        Absent::SendNull => "send_null",
    }
}

fn required_text(f: &Field) -> &'static str {
    if f.is_required() {
        "required"
    } else {
        "optional"
    }
}

impl Differ<'_> {
    /// Compares two field lists under `at` (e.g. `tool get / input`).
    pub(super) fn fields(&mut self, at: &str, old: &[Field], new: &[Field], are: FieldsAre) {
        let (removed, added, both) = matched(old, new, |f| f.wire.clone());
        let inputs = are == FieldsAre::Inputs;
        for f in removed {
            let rule = if inputs {
                &rules::INPUT_REMOVED
            } else {
                &rules::FIELD_REMOVED
            };
            self.push(format!("{at} {}", f.wire), rule, field_text(f));
        }
        for f in added {
            let rule = match (are, f.is_required()) {
                (FieldsAre::Inputs, true) => &rules::INPUT_ADDED_REQUIRED,
                (FieldsAre::Inputs, false) => &rules::INPUT_ADDED_OPTIONAL,
                (FieldsAre::Variant, _) => &rules::UNION_VARIANT_FIELD_ADDED,
                (FieldsAre::Struct, true) => &rules::FIELD_ADDED_REQUIRED,
                (FieldsAre::Struct, false) => &rules::FIELD_ADDED_OPTIONAL,
            };
            self.push(format!("{at} {}", f.wire), rule, field_text(f));
        }
        for (o, n) in both {
            self.field(&format!("{at} {}", o.wire), o, n, inputs);
        }
    }

    fn field(&mut self, path: &str, o: &Field, n: &Field, inputs: bool) {
        let types = arrow(field_text(o), field_text(n));
        if base(&o.ty) != base(&n.ty) {
            let rule = if inputs {
                &rules::INPUT_TYPE_CHANGED
            } else {
                &rules::FIELD_TYPE_CHANGED
            };
            self.push(path, rule, types);
        } else if o.is_required() != n.is_required() {
            let rule = match (inputs, n.is_required()) {
                (true, true) => &rules::INPUT_BECAME_REQUIRED,
                (true, false) => &rules::INPUT_BECAME_OPTIONAL,
                (false, true) => &rules::FIELD_BECAME_REQUIRED,
                (false, false) => &rules::FIELD_BECAME_OPTIONAL,
            };
            let detail = format!("{} -> {} ({types})", required_text(o), required_text(n));
            self.push(path, rule, detail);
        } else if o.ty != n.ty && !inputs {
            // Same base, same requiredness: a defaulted field became `T?` or back.
            self.push(path, &rules::FIELD_TYPE_CHANGED, types);
        }
        if inputs && o.default != n.default && !n.is_required() && !o.is_required() {
            let detail = arrow(value_text(&o.default), value_text(&n.default));
            self.push(path, &rules::INPUT_DEFAULT_CHANGED, detail);
        }
        if inputs && o.absent != n.absent && o.ty.is_optional() && n.ty.is_optional() {
            let detail = arrow(absent_text(o.absent), absent_text(n.absent));
            self.push(path, &rules::INPUT_ABSENT_CHANGED, detail);
        }
    }
}
