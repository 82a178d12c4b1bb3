//! Document schemas: `MeshSchema` read from its JSON form, element types and properties.

use indexmap::IndexMap;
use serde_json::Value;

use crate::core::error::{Error, Result};

/// Prefix of the `$ref`s in a schema's JSON.
const DEFS_PREFIX: &str = "#/$defs/";

pub(super) fn schema_error(detail: impl std::fmt::Display) -> Error {
    Error::InvalidArguments(format!("document schema: {detail}"))
}

/// A document schema (the SDKs' `MeshSchema`), read from its JSON form: `$root_tag_ref`
/// names the root element type, `$defs` holds one element type per tag.
#[derive(Debug, Clone, PartialEq)]
pub struct MeshSchema {
    pub(super) root_tag: String,
    pub(super) elements: IndexMap<String, ElementType>,
    pub(super) json: Value,
}

/// One element type of a [`MeshSchema`]: its tag and properties.
#[derive(Debug, Clone, PartialEq)]
pub struct ElementType {
    pub(super) tag_name: String,
    pub(super) properties: Vec<Property>,
}

/// A property of an [`ElementType`].
#[derive(Debug, Clone, PartialEq)]
pub enum Property {
    /// A value stored as an attribute (`type` is the JSON type, e.g. `"string"`).
    Value {
        /// The attribute name.
        name: String,
        /// The JSON type (the first one of a `[type, "null"]` list).
        value_type: String,
        /// Whether the type was a single type (not nullable).
        required: bool,
    },
    /// The list of child elements (at most one per element type).
    Children {
        /// The name the children are listed under in JSON.
        name: String,
        /// The tags allowed as children.
        tags: Vec<String>,
    },
}

impl Property {
    /// The property's name.
    pub fn name(&self) -> &str {
        match self {
            Property::Value { name, .. } | Property::Children { name, .. } => name,
        }
    }
}

impl MeshSchema {
    /// Reads a schema from its JSON form (as `MeshSchema.from_json` in the Python SDK).
    /// Fails with [`Error::InvalidArguments`] when it is not a valid MeshSchema.
    pub fn from_json(json: &Value) -> Result<Self> {
        let root_ref = json
            .get("$root_tag_ref")
            .and_then(Value::as_str)
            .ok_or_else(|| schema_error("`$root_tag_ref` is missing"))?;
        let root_tag = root_ref.strip_prefix(DEFS_PREFIX).unwrap_or(root_ref);
        let defs = json
            .get("$defs")
            .and_then(Value::as_object)
            .ok_or_else(|| schema_error("`$defs` is missing"))?;
        let mut elements = IndexMap::new();
        for def in defs.values() {
            let element = ElementType::from_json(def)?;
            if elements.contains_key(&element.tag_name) {
                return Err(schema_error(format!(
                    "{} is defined more than once",
                    element.tag_name
                )));
            }
            elements.insert(element.tag_name.clone(), element);
        }
        let schema = MeshSchema {
            root_tag: root_tag.to_string(),
            elements,
            json: json.clone(),
        };
        schema.element(&schema.root_tag)?;
        for element in schema.elements.values() {
            for tag in element.child_tags() {
                schema.element(tag)?;
            }
        }
        Ok(schema)
    }

    /// The JSON the schema was read from.
    pub fn to_json(&self) -> &Value {
        &self.json
    }

    /// The root element's tag.
    pub fn root_tag(&self) -> &str {
        &self.root_tag
    }

    /// The root element's type.
    pub fn root(&self) -> &ElementType {
        // Checked in `from_json`.
        &self.elements[&self.root_tag]
    }

    /// The element type of `tag`.
    pub fn element(&self, tag: &str) -> Result<&ElementType> {
        self.elements
            .get(tag)
            .ok_or_else(|| schema_error(format!("an element with the name '{tag}' is not defined")))
    }

    /// Every element type, in the order of `$defs`.
    pub fn elements(&self) -> impl Iterator<Item = &ElementType> {
        self.elements.values()
    }
}

impl ElementType {
    /// `{type: object, properties: {<tag>: {properties: {...}}}}`.
    fn from_json(json: &Value) -> Result<Self> {
        let (tag_name, body) = json
            .get("properties")
            .and_then(Value::as_object)
            .and_then(|p| p.iter().next())
            .ok_or_else(|| schema_error("an element type without properties"))?;
        let mut properties = Vec::new();
        let props = body.get("properties").and_then(Value::as_object);
        for (name, prop) in props.into_iter().flatten() {
            let (value_type, required) = match prop.get("type") {
                Some(Value::String(t)) => (t.clone(), true),
                Some(Value::Array(types)) => (
                    types
                        .first()
                        .and_then(Value::as_str)
                        .unwrap_or("null")
                        .to_string(),
                    false,
                ),
                _ => return Err(schema_error(format!("{tag_name}.{name} has no type"))),
            };
            if value_type != "array" {
                properties.push(Property::Value {
                    name: name.clone(),
                    value_type,
                    required,
                });
                continue;
            }
            let refs = match (prop.pointer("/items/anyOf"), prop.get("prefixItems")) {
                (Some(Value::Array(refs)), _) | (None, Some(Value::Array(refs))) => refs,
                _ => {
                    return Err(schema_error(format!(
                        "{tag_name}.{name}: unexpected list type"
                    )))
                }
            };
            let tags = refs
                .iter()
                .map(|r| {
                    r.get("$ref")
                        .and_then(Value::as_str)
                        .map(|r| r.strip_prefix(DEFS_PREFIX).unwrap_or(r).to_string())
                        .ok_or_else(|| {
                            schema_error(format!("{tag_name}.{name}: a child without $ref"))
                        })
                })
                .collect::<Result<Vec<_>>>()?;
            if properties
                .iter()
                .any(|p| matches!(p, Property::Children { .. }))
            {
                return Err(schema_error(format!(
                    "{tag_name}: only one child property is allowed"
                )));
            }
            properties.push(Property::Children {
                name: name.clone(),
                tags,
            });
        }
        Ok(ElementType {
            tag_name: tag_name.clone(),
            properties,
        })
    }

    /// The tag.
    pub fn tag_name(&self) -> &str {
        &self.tag_name
    }

    /// The properties, in schema order.
    pub fn properties(&self) -> &[Property] {
        &self.properties
    }

    /// The property `name`.
    pub fn property(&self, name: &str) -> Option<&Property> {
        self.properties.iter().find(|p| p.name() == name)
    }

    /// The name of the child property, if elements of this type have children.
    pub fn child_property_name(&self) -> Option<&str> {
        self.properties.iter().find_map(|p| match p {
            Property::Children { name, .. } => Some(name.as_str()),
            Property::Value { .. } => None,
        })
    }

    /// The tags allowed as children (empty when there is no child property).
    pub fn child_tags(&self) -> &[String] {
        self.properties
            .iter()
            .find_map(|p| match p {
                Property::Children { tags, .. } => Some(tags.as_slice()),
                Property::Value { .. } => None,
            })
            .unwrap_or(&[])
    }
}
