//! Named types (structs, enums, unions) and groups of protocol numbers.

use super::fields::{arrow, matched, Differ, FieldsAre};
use super::rules;
use crate::ir::{ConstGroup, Shape, TypeDecl};

fn shape_text(s: &Shape) -> &'static str {
    match s {
        Shape::Struct(_) => "struct",
        Shape::Enum(_) => "enum",
        Shape::Union { .. } => "union",
    }
}

pub(super) fn types(d: &mut Differ<'_>, old: &[TypeDecl], new: &[TypeDecl]) {
    let (removed, added, both) = matched(old, new, |t| t.name.clone());
    for t in removed {
        d.push(
            format!("type {}", t.name),
            &rules::TYPE_REMOVED,
            shape_text(&t.shape).into(),
        );
    }
    for t in added {
        d.push(
            format!("type {}", t.name),
            &rules::TYPE_ADDED,
            shape_text(&t.shape).into(),
        );
    }
    for (o, n) in both {
        let path = format!("type {}", o.name);
        match (&o.shape, &n.shape) {
            (Shape::Struct(of), Shape::Struct(nf)) => {
                d.fields(&format!("{path} / field"), of, nf, FieldsAre::Struct);
            }
            (Shape::Enum(ov), Shape::Enum(nv)) => {
                let (removed, added, _) = matched(ov, nv, |(v, _)| v.clone());
                for (v, _) in removed {
                    d.push(
                        format!("{path} / value {v}"),
                        &rules::ENUM_VALUE_REMOVED,
                        String::new(),
                    );
                }
                for (v, _) in added {
                    d.push(
                        format!("{path} / value {v}"),
                        &rules::ENUM_VALUE_ADDED,
                        String::new(),
                    );
                }
            }
            (
                Shape::Union {
                    tag: ot,
                    variants: ov,
                    ..
                },
                Shape::Union {
                    tag: nt,
                    variants: nv,
                    ..
                },
            ) => {
                if ot != nt {
                    d.push(path.clone(), &rules::UNION_TAG_CHANGED, arrow(ot, nt));
                }
                let (removed, added, both) = matched(ov, nv, |(v, _, _)| v.clone());
                for (v, _, _) in removed {
                    let p = format!("{path} / variant {v}");
                    d.push(p, &rules::UNION_VARIANT_REMOVED, String::new());
                }
                for (v, _, _) in added {
                    d.push(
                        format!("{path} / variant {v}"),
                        &rules::UNION_VARIANT_ADDED,
                        String::new(),
                    );
                }
                for ((v, _, of), (_, _, nf)) in both {
                    let p = format!("{path} / variant {v} field");
                    d.fields(&p, of, nf, FieldsAre::Variant);
                }
            }
            (os, ns) => {
                let detail = arrow(shape_text(os), shape_text(ns));
                d.push(path, &rules::TYPE_KIND_CHANGED, detail);
            }
        }
    }
}

pub(super) fn constants(d: &mut Differ<'_>, old: &[ConstGroup], new: &[ConstGroup]) {
    let flat = |groups: &[ConstGroup]| -> Vec<(String, i64)> {
        groups
            .iter()
            .flat_map(|g| {
                g.values
                    .iter()
                    .map(move |(n, v, _)| (format!("{}::{n}", g.name), *v))
            })
            .collect()
    };
    let (old, new) = (flat(old), flat(new));
    let (removed, added, both) = matched(&old, &new, |(n, _)| n.clone());
    for (n, v) in removed {
        d.push(
            format!("constant {n}"),
            &rules::CONSTANT_REMOVED,
            v.to_string(),
        );
    }
    for (n, v) in added {
        d.push(
            format!("constant {n}"),
            &rules::CONSTANT_ADDED,
            v.to_string(),
        );
    }
    for ((n, o), (_, v)) in both {
        if o != v {
            d.push(
                format!("constant {n}"),
                &rules::CONSTANT_CHANGED,
                arrow(o, v),
            );
        }
    }
}
