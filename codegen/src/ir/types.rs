//! Fields, type expressions and named types.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::build::{At, Builder, FieldUse, Scope};
use super::checks::*;
use super::model::*;
use crate::diag::did_you_mean;
use crate::naming::{pascal, snake};
use crate::spec::model::{self, Absent, FieldDef};

impl Builder {
    pub(super) fn fields(
        &mut self,
        at: At<'_>,
        scope: &Scope<'_>,
        path: &[&str],
        defs: &indexmap::IndexMap<String, FieldDef>,
        rule: FieldUse,
    ) -> Vec<Field> {
        let mut out: Vec<Field> = Vec::new();
        for (wire, def) in defs {
            let mut p = path.to_vec();
            p.push(wire);
            if !is_ident(wire, false) && !is_ident(wire, true) {
                self.err(
                    at,
                    &p,
                    format!("bad field name `{wire}`"),
                    Some("field names are identifiers (letters, digits, `_`)".into()),
                );
                continue;
            }
            let rust = snake(wire);
            if let Some(other) = out.iter().find(|f| f.rust == rust) {
                self.err(
                    at,
                    &p,
                    format!(
                        "fields `{}` and `{wire}` both become `{rust}` in Rust",
                        other.wire
                    ),
                    None,
                );
                continue;
            }
            let doc = match (rule, def.doc().map(str::trim)) {
                (FieldUse::Private, doc) => doc.unwrap_or_default().to_string(),
                (_, Some(doc)) if !doc.is_empty() => doc.to_string(),
                _ => {
                    let form = match def {
                        FieldDef::Short(_) => "is a bare type",
                        FieldDef::Full(_) => "has no `doc`",
                    };
                    self.err(
                        at,
                        &p,
                        format!("field `{wire}` {form}, but needs a description"),
                        Some(format!(
                            "write `{wire}: {{type: {}, doc: ...}}`: tool inputs and the fields of types and events become documented API (a bare type is enough for output `fields` with `returns` and stream chunk headers)",
                            quoted_type(def.ty())
                        )),
                    );
                    String::new()
                }
            };
            let mut type_path = p.clone();
            if matches!(def, FieldDef::Full(_)) {
                type_path.push("type");
            }
            let Some(ty) = self.type_expr(at, scope, &type_path, def.ty()) else {
                continue;
            };
            let (default, absent) = match def {
                FieldDef::Short(_) => (None, Absent::Omit),
                FieldDef::Full(f) => (f.default.clone(), f.absent.unwrap_or(Absent::Omit)),
            };
            if let FieldDef::Full(f) = def {
                if f.absent.is_some() && !ty.is_optional() {
                    self.err(
                        at,
                        &p,
                        format!(
                            "`absent` applies only to optional fields, and `{wire}` is `{}`",
                            def.ty()
                        ),
                        Some(format!("write `type: \"{}?\"`", def.ty())),
                    );
                }
                if f.fresh.is_some() && ty != TypeRef::Optional(Box::new(TypeRef::String)) {
                    self.err(
                        at,
                        &p,
                        format!(
                            "`fresh` applies only to `string?` fields, and `{wire}` is `{}`",
                            def.ty()
                        ),
                        Some(
                            "the runtime draws a string id when the caller leaves the field unset"
                                .into(),
                        ),
                    );
                }
            }
            let skip_invalid = matches!(def, FieldDef::Full(f) if f.skip_invalid == Some(true));
            if skip_invalid && !matches!(ty, TypeRef::List(_)) {
                self.err(
                    at,
                    &p,
                    format!(
                        "`skip_invalid` applies only to `list<T>` fields, and `{wire}` is `{}`",
                        def.ty()
                    ),
                    Some("it drops the list entries that do not decode".into()),
                );
            }
            if let Some(d) = &default {
                // On inputs the default is sent when the caller does not set the field; on
                // types, events and replies it is the value of a missing key.
                if ty.is_optional() {
                    self.err(
                        at,
                        &p,
                        format!("`{wire}` has a default, so it cannot also be optional"),
                        Some(format!(
                            "drop the `?`: the default `{d}` stands in for a missing value"
                        )),
                    );
                } else if !default_matches(&ty, d) {
                    self.err(
                        at,
                        &p,
                        format!("field type mismatch: default `{d}` is not a `{}`", def.ty()),
                        None,
                    );
                }
            }
            out.push(Field {
                wire: wire.clone(),
                rust,
                doc,
                ty,
                default,
                absent,
                boxed: false,
                fresh: match def {
                    FieldDef::Full(f) => f.fresh,
                    FieldDef::Short(_) => None,
                },
                skip_invalid,
            });
        }
        out
    }

    pub(super) fn type_expr(
        &mut self,
        at: At<'_>,
        scope: &Scope<'_>,
        path: &[&str],
        text: &str,
    ) -> Option<TypeRef> {
        match parse_type(text) {
            Ok(t) => {
                let mut ok = true;
                visit_named(&t, &mut |name| {
                    if !scope.local.contains(name) && !scope.shared.contains(name) {
                        let candidates: Vec<&str> = scope
                            .local
                            .iter()
                            .chain(scope.shared.iter())
                            .map(String::as_str)
                            .chain(BUILTIN_TYPES)
                            .collect();
                        if let Some(range) = self.absent_types.get(name) {
                            let msg = format!(
                                "type `{name}` is not in protocol {} (it is {range})",
                                self.version
                            );
                            let hint = Some(format!("give this item the same versions (`since`/`until`), or add a `{name}` for {}", self.version));
                            self.err_at_value(at, path, msg, hint);
                            ok = false;
                            return;
                        }
                        if let Some((line, _)) = at.file.locator.position(&["types", name]) {
                            // Declared, but dropped for its own errors (reported there).
                            let msg =
                                format!("type `{name}` is declared (line {line}) but has errors");
                            let hint = Some("fix the errors reported at its declaration".into());
                            self.err_at_value(at, path, msg, hint);
                            ok = false;
                            return;
                        }
                        let hint = did_you_mean(name, candidates).or(Some("declare it under `types:` or use string, bool, int, float, bytes, json, timestamp, list<T>, map<T>, T?".into()));
                        self.err_at_value(at, path, format!("unknown type `{name}`"), hint);
                        ok = false;
                    }
                });
                ok.then(|| resolve_shared(t, scope))
            }
            Err(e) => {
                // `List<string>`, `Map<json>`: the generics are lower case.
                let lowered = text
                    .find('<')
                    .map(|i| format!("{}{}", text[..i].to_lowercase(), &text[i..]));
                let hint = lowered
                    .filter(|l| l != text && parse_type(l).is_ok())
                    .map(|l| format!("did you mean `{l}`?"))
                    .unwrap_or_else(|| {
                        "e.g. `string`, `int?`, `list<StorageEntry>`, `map<json>`".into()
                    });
                self.err_at_value(
                    at,
                    path,
                    format!("bad type expression `{text}`: {e}"),
                    Some(hint),
                );
                None
            }
        }
    }

    pub(super) fn type_decl(
        &mut self,
        at: At<'_>,
        scope: &Scope<'_>,
        name: &str,
        def: &model::TypeDef,
        reserved: &BTreeSet<String>,
    ) -> Option<TypeDecl> {
        let path = ["types", name];
        if !is_ident(name, true) || pascal(name) != name {
            self.err(
                at,
                &path,
                format!("bad type name `{name}`"),
                Some(format!(
                    "type names are PascalCase, e.g. `{}`",
                    pascal(name)
                )),
            );
        }
        if reserved.contains(name) {
            self.err(at, &path, format!("type `{name}` collides with a generated name"), Some("the module already has a builder `<Tool>Request`, an event struct or the toolkit struct by that name; rename the type".into()));
        }
        let summary = self.required_text(at, &path, &def.summary, &format!("type `{name}`"));
        let shape = match (&def.fields, &def.values, &def.tag, &def.variants) {
            (Some(f), None, None, None) => Shape::Struct(self.fields(
                at,
                scope,
                &["types", name, "fields"],
                f,
                FieldUse::Public,
            )),
            (None, Some(v), None, None) => {
                if v.is_empty() {
                    self.err(at, &path, "an enum needs at least one value", None);
                }
                Shape::Enum(
                    v.iter()
                        .map(|(k, d)| (k.clone(), d.doc().to_string()))
                        .collect(),
                )
            }
            (None, None, Some(tag), Some(vars)) => Shape::Union {
                other: def.other.clone(),
                tag: tag.clone(),
                variants: vars
                    .iter()
                    .map(|(k, v)| {
                        let vdoc = self.required_text(
                            at,
                            &["types", name, "variants", k],
                            &v.doc,
                            &format!("variant `{k}`"),
                        );
                        let fields = self.fields(
                            at,
                            scope,
                            &["types", name, "variants", k, "fields"],
                            &v.fields,
                            FieldUse::Public,
                        );
                        (k.clone(), vdoc, fields)
                    })
                    .collect(),
            },
            _ => {
                self.err(at, &path, format!("type `{name}` needs exactly one shape"), Some("`fields` (struct), `enum` (string enum), or `tag` + `variants` (tagged union)".into()));
                return None;
            }
        };
        if def.other.is_some() && !matches!(shape, Shape::Union { .. }) {
            self.err(
                at,
                &path,
                format!("type `{name}` has `other` but is not a tagged union"),
                Some(
                    "`other` keeps unknown tags of a union (`tag` + `variants`); remove it".into(),
                ),
            );
        }
        Some(TypeDecl {
            name: name.to_string(),
            summary,
            shape,
        })
    }
}

/// A type expression as written in a flow mapping (quoted when YAML needs it).
fn quoted_type(ty: &str) -> String {
    if ty.contains(['?', ',', ':', '[', '{']) {
        format!("\"{ty}\"")
    } else {
        ty.to_string()
    }
}

pub(super) const BUILTIN_TYPES: [&str; 7] = [
    "string",
    "bool",
    "int",
    "float",
    "bytes",
    "json",
    "timestamp",
];
pub(super) fn default_matches(ty: &TypeRef, v: &Value) -> bool {
    match (ty, v) {
        (TypeRef::String | TypeRef::Timestamp, Value::String(_)) => true,
        (TypeRef::Bool, Value::Bool(_)) => true,
        (TypeRef::Int, Value::Number(n)) => n.is_i64(),
        (TypeRef::Float, Value::Number(_)) => true,
        (TypeRef::Json, _) => true,
        // A string enum's value (the enum keeps unknown values, so any string decodes).
        (TypeRef::Named { .. }, Value::String(_)) => true,
        (TypeRef::Map(_), Value::Object(m)) => m.is_empty(),
        (TypeRef::List(inner), Value::Array(items)) => {
            items.iter().all(|i| default_matches(inner, i))
        }
        _ => false,
    }
}

pub(super) fn visit_named(t: &TypeRef, f: &mut impl FnMut(&str)) {
    match t {
        TypeRef::List(i) | TypeRef::Map(i) | TypeRef::Optional(i) | TypeRef::JsonString(i) => {
            visit_named(i, f)
        }
        TypeRef::Named { name, .. } => f(name),
        _ => {}
    }
}

pub(super) fn resolve_shared(t: TypeRef, scope: &Scope<'_>) -> TypeRef {
    match t {
        TypeRef::List(i) => TypeRef::List(Box::new(resolve_shared(*i, scope))),
        TypeRef::Map(i) => TypeRef::Map(Box::new(resolve_shared(*i, scope))),
        TypeRef::JsonString(i) => TypeRef::JsonString(Box::new(resolve_shared(*i, scope))),
        TypeRef::Optional(i) => TypeRef::Optional(Box::new(resolve_shared(*i, scope))),
        TypeRef::Named { name, .. } => {
            let shared = !scope.local.contains(&name);
            TypeRef::Named { name, shared }
        }
        other => other,
    }
}

pub(super) fn is_tail(t: &TypeRef) -> bool {
    match t {
        TypeRef::Tail => true,
        TypeRef::Optional(i) => is_tail(i),
        _ => false,
    }
}

pub(super) fn is_bytes(t: &TypeRef) -> bool {
    match t {
        TypeRef::Bytes => true,
        TypeRef::Optional(i) => is_bytes(i),
        _ => false,
    }
}

/// The named type a field holds inline (itself or in an option), which a recursive type
/// must box; lists and maps already allocate.
pub(super) fn inline_named(t: &TypeRef) -> Option<&str> {
    match t {
        TypeRef::Named { name, .. } => Some(name),
        TypeRef::Optional(i) => inline_named(i),
        _ => None,
    }
}

pub(super) fn type_fields_mut(t: &mut TypeDecl) -> Vec<&mut Field> {
    match &mut t.shape {
        Shape::Struct(fields) => fields.iter_mut().collect(),
        Shape::Union { variants, .. } => variants
            .iter_mut()
            .flat_map(|(_, _, f)| f.iter_mut())
            .collect(),
        Shape::Enum(_) => Vec::new(),
    }
}

/// Marks fields whose inline named type leads back to the containing type, so that the
/// generated type has a finite size (`Box<T>`).
pub(super) fn mark_boxed(types: &mut [TypeDecl]) {
    let edges: BTreeMap<String, Vec<String>> = types
        .iter_mut()
        .map(|t| {
            let name = t.name.clone();
            let refs = type_fields_mut(t)
                .iter()
                .filter_map(|f| inline_named(&f.ty).map(str::to_string))
                .collect();
            (name, refs)
        })
        .collect();
    let reaches = |from: &str, to: &str| {
        let mut stack = vec![from.to_string()];
        let mut seen = BTreeSet::new();
        while let Some(n) = stack.pop() {
            if n == to {
                return true;
            }
            if seen.insert(n.clone()) {
                stack.extend(edges.get(&n).into_iter().flatten().cloned());
            }
        }
        false
    };
    for t in types.iter_mut() {
        let name = t.name.clone();
        for f in type_fields_mut(t) {
            if let Some(target) = inline_named(&f.ty) {
                f.boxed = reaches(target, &name);
            }
        }
    }
}

/// Parses a type expression: `string`, `list<T>`, `map<T>`, `T?`, or a type name.
pub fn parse_type(text: &str) -> Result<TypeRef, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("empty type".into());
    }
    if let Some(inner) = text.strip_suffix('?') {
        let inner = parse_type(inner)?;
        if inner.is_optional() {
            return Err("`??` is not a type".into());
        }
        return Ok(TypeRef::Optional(Box::new(inner)));
    }
    for (prefix, wrap) in [
        ("list<", TypeRef::List as fn(Box<TypeRef>) -> TypeRef),
        ("map<", TypeRef::Map),
        ("json_string<", TypeRef::JsonString),
    ] {
        if let Some(rest) = text.strip_prefix(prefix) {
            let inner = rest
                .strip_suffix('>')
                .ok_or_else(|| format!("missing `>` in `{text}`"))?;
            return Ok(wrap(Box::new(parse_type(inner)?)));
        }
    }
    Ok(match text {
        "string" => TypeRef::String,
        "bool" => TypeRef::Bool,
        "int" => TypeRef::Int,
        "float" => TypeRef::Float,
        "bytes" => TypeRef::Bytes,
        "json" => TypeRef::Json,
        "timestamp" => TypeRef::Timestamp,
        // Unknown lower-case names are resolved (and reported with a suggestion) later.
        name if is_ident(name, false) => TypeRef::Named {
            name: name.to_string(),
            shared: false,
        },
        other => return Err(format!("`{other}` is not a type name")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    pub(super) fn parses_type_expressions() {
        assert_eq!(
            parse_type("int?"),
            Ok(TypeRef::Optional(Box::new(TypeRef::Int)))
        );
        assert_eq!(
            parse_type("list<map<Queue>>?"),
            Ok(TypeRef::Optional(Box::new(TypeRef::List(Box::new(
                TypeRef::Map(Box::new(TypeRef::Named {
                    name: "Queue".into(),
                    shared: false
                }))
            )))))
        );
        assert!(parse_type("list<int").is_err());
        assert!(parse_type("int??").is_err());
        assert!(parse_type("a-b").is_err());
        assert!(parse_type("").is_err());
    }
}
