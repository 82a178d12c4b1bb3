//! The SDKs' element tree over a sync document (cargo feature `sync-doc`): the Rust
//! counterpart of Python's `MeshDocument` / TypeScript's `MeshDocument`.
//!
//! A MeshAgent document is a tree of elements shaped by a [`MeshSchema`]: one root element
//! (the schema's root tag) whose child property lists elements, each with attributes (its
//! value properties) and, if its type has a child property, children of its own. Open one
//! with [`MeshDocument::open`] (`sync.open` with the schema), read it as JSON with
//! [`MeshDocument::to_json`] and edit it through [`Element`]s.
//!
//! # Yjs layout
//!
//! The same as the official SDKs' (`meshagent.api.crdt` on pycrdt; the TypeScript runtime on
//! Yjs), so Rust, Python and TypeScript clients edit one document together:
//!
//! * the root element is **not** stored: it is the document's XML fragment
//!   [`ROOT_NAME`] (`"xml"`), whose children are the
//!   root element's children; the root therefore has no `$id` and no attributes;
//! * every other element is a Yjs `XmlElement` named by its tag, with a `"$id"` attribute (a
//!   dashed uuid v4 unless given) and one attribute per set property; values are stored as
//!   Yjs `Any` (strings, numbers, booleans, null, arrays, objects);
//! * children are the element's `XmlElement`s, in order; an element of tag `text` holds one
//!   `XmlText` (rich text, read as a delta).
//!
//! Edits are Yjs transactions as Python makes them, so that they travel as the same updates:
//! [`Element::append_child`] inserts the element with its `$id` in one transaction, then sets
//! each attribute in a transaction of its own (in the order given), then, for a `text`
//! element, inserts its `XmlText`. Every transaction is sent as one sync chunk.
//!
//! Remote changes are applied to the same yrs document, so every read (`to_json`,
//! `children`, `get_attribute`, ...) reflects them; there is no separate mirror to go stale.
//! Use [`SyncDocument::wait_remote_updates`] or yrs observers to wait for them.
//!
//! Reads and edits take a short yrs transaction each: do not call them while holding a
//! transaction of your own on the same document.
#![cfg(feature = "sync-doc")]

use std::collections::HashMap;
use std::sync::Arc;

use indexmap::IndexMap;
use serde_json::{Map, Number as JsonNumber, Value};
use yrs::any::Number;
use yrs::types::text::YChange;
use yrs::{
    Any, Doc, Out, ReadTxn, Text, Transact, Xml, XmlElementPrelim, XmlElementRef, XmlFragment,
    XmlFragmentRef, XmlOut, XmlTextPrelim, XmlTextRef,
};

use crate::core::error::{Error, Result};
use crate::surfaces::sync_doc::{SyncDocument, SyncOpen, ROOT_NAME};

/// The attribute holding an element's id.
pub const ID_ATTRIBUTE: &str = "$id";

/// The tag of rich-text elements, which hold one `XmlText`.
pub const TEXT_TAG: &str = "text";

/// Prefix of the `$ref`s in a schema's JSON.
const DEFS_PREFIX: &str = "#/$defs/";

fn schema_error(detail: impl std::fmt::Display) -> Error {
    Error::InvalidArguments(format!("document schema: {detail}"))
}

/// A document schema (the SDKs' `MeshSchema`), read from its JSON form: `$root_tag_ref`
/// names the root element type, `$defs` holds one element type per tag.
#[derive(Debug, Clone, PartialEq)]
pub struct MeshSchema {
    root_tag: String,
    elements: IndexMap<String, ElementType>,
    json: Value,
}

/// One element type of a [`MeshSchema`]: its tag and properties.
#[derive(Debug, Clone, PartialEq)]
pub struct ElementType {
    tag_name: String,
    properties: Vec<Property>,
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

/// An element tree over a yrs document, without a connection (what [`MeshDocument`] reads
/// and edits; also usable on its own, e.g. on a document loaded from an update).
#[derive(Clone)]
pub struct ElementTree {
    doc: Doc,
    fragment: XmlFragmentRef,
    schema: Arc<MeshSchema>,
}

impl std::fmt::Debug for ElementTree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ElementTree")
            .field("root_tag", &self.schema.root_tag)
            .field("client_id", &self.doc.client_id())
            .finish_non_exhaustive()
    }
}

impl ElementTree {
    /// The tree of `doc` (its [`ROOT_NAME`] fragment) read with `schema`.
    pub fn new(doc: &Doc, schema: MeshSchema) -> Self {
        ElementTree {
            doc: doc.clone(),
            fragment: doc.get_or_insert_xml_fragment(ROOT_NAME),
            schema: Arc::new(schema),
        }
    }

    /// The schema.
    pub fn schema(&self) -> &MeshSchema {
        &self.schema
    }

    /// The yrs document.
    pub fn doc(&self) -> &Doc {
        &self.doc
    }

    /// The root element (the document's XML fragment).
    pub fn root(&self) -> Element {
        Element {
            tree: self.clone(),
            node: NodeRef::Root(self.fragment.clone()),
        }
    }

    /// The document as JSON, as the SDKs' `to_json()`: `{<root tag>: {<child property>:
    /// [...]}}`, each element `{<tag>: {<attributes but $id>, <child property>: [...]}}`,
    /// each text `{"text": {"delta": [{insert, attributes}]}}`.
    pub fn to_json(&self) -> Value {
        self.root().to_json()
    }

    /// The element whose `$id` is `id`.
    pub fn get_node_by_id(&self, id: &str) -> Option<Element> {
        self.root().get_node_by_id(id)
    }
}

/// A MeshAgent document open in the room: a [`SyncDocument`] read and edited as an element
/// tree (the SDKs' `MeshDocument`). See the [module docs](self) for the Yjs layout.
///
/// ```no_run
/// # async fn demo(room: meshagent_room::RoomClient, schema: serde_json::Value) -> meshagent_room::Result<()> {
/// use meshagent_room::MeshDocument;
/// use serde_json::json;
///
/// let doc = MeshDocument::open(room.sync_open("docs/todo.list").schema(schema)).await?;
/// let item = doc.root().append_child("item", json!({"text": "buy milk"}))?;
/// item.set_attribute("text", "buy oat milk")?;
/// println!("{}", doc.to_json()); // {"todo": {"items": [{"item": {"text": "buy oat milk"}}]}}
/// doc.close().await?;
/// # Ok(()) }
/// ```
pub struct MeshDocument {
    sync: SyncDocument,
    tree: ElementTree,
}

impl std::fmt::Debug for MeshDocument {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MeshDocument")
            .field("sync", &self.sync)
            .field("root_tag", &self.tree.schema.root_tag)
            .finish_non_exhaustive()
    }
}

impl MeshDocument {
    /// Opens the document (`sync.open`) and reads it with the schema the server returns, as
    /// the SDKs' `sync.open(path, schema=...)` does. Pass the schema you expect with
    /// [`SyncOpen::schema`] (sent in the start chunk, e.g. to create the document).
    pub async fn open(request: SyncOpen) -> Result<Self> {
        Self::from_sync(request.await?)
    }

    /// The element tree of an open [`SyncDocument`], read with the schema the server sent.
    pub fn from_sync(sync: SyncDocument) -> Result<Self> {
        let schema = MeshSchema::from_json(sync.schema()).map_err(|e| {
            Error::unexpected("sync.open", format!("the server's schema is invalid: {e}"))
        })?;
        let tree = ElementTree::new(sync.doc(), schema);
        Ok(MeshDocument { sync, tree })
    }

    /// The underlying sync document (yrs document, path, flush, ...).
    pub fn sync(&self) -> &SyncDocument {
        &self.sync
    }

    /// The element tree.
    pub fn tree(&self) -> &ElementTree {
        &self.tree
    }

    /// The schema the document is read with (the server's).
    pub fn schema(&self) -> &MeshSchema {
        self.tree.schema()
    }

    /// The root element.
    pub fn root(&self) -> Element {
        self.tree.root()
    }

    /// The document as JSON (see [`ElementTree::to_json`]).
    pub fn to_json(&self) -> Value {
        self.tree.to_json()
    }

    /// The element whose `$id` is `id`.
    pub fn get_node_by_id(&self, id: &str) -> Option<Element> {
        self.tree.get_node_by_id(id)
    }

    /// Waits until every local change so far was acknowledged ([`SyncDocument::flush`]).
    pub async fn flush(&self) -> Result<()> {
        self.sync.flush().await
    }

    /// Sends what is queued and closes the stream ([`SyncDocument::close`]).
    pub async fn close(self) -> Result<()> {
        self.sync.close().await
    }
}

#[derive(Clone)]
enum NodeRef {
    Root(XmlFragmentRef),
    Element(XmlElementRef),
}

/// An element of a document: the root or an `XmlElement`. A handle: it reads the current
/// state on every call (remote changes included).
#[derive(Clone)]
pub struct Element {
    tree: ElementTree,
    node: NodeRef,
}

impl std::fmt::Debug for Element {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Element")
            .field("tag_name", &self.tag_name())
            .field("id", &self.id())
            .finish_non_exhaustive()
    }
}

/// A child of an element.
#[derive(Debug, Clone)]
pub enum Node {
    /// An element.
    Element(Element),
    /// The rich text of a `text` element.
    Text(XmlTextRef),
}

impl Element {
    /// The element's tag (the schema's root tag for the root).
    pub fn tag_name(&self) -> String {
        match &self.node {
            NodeRef::Root(_) => self.tree.schema.root_tag.clone(),
            NodeRef::Element(el) => el.tag().to_string(),
        }
    }

    /// Whether this is the root element.
    pub fn is_root(&self) -> bool {
        matches!(self.node, NodeRef::Root(_))
    }

    /// The `$id` attribute (`None` for the root).
    pub fn id(&self) -> Option<String> {
        match self.get_attribute(ID_ATTRIBUTE)? {
            Value::String(id) => Some(id),
            _ => None,
        }
    }

    /// The element type in the schema, if its tag is defined there.
    pub fn element_type(&self) -> Option<&ElementType> {
        match &self.node {
            NodeRef::Root(_) => Some(self.tree.schema.root()),
            NodeRef::Element(el) => self.tree.schema.element(el.tag()).ok(),
        }
    }

    /// The attribute `name` (`None` when not set; the root has none).
    pub fn get_attribute(&self, name: &str) -> Option<Value> {
        let NodeRef::Element(el) = &self.node else {
            return None;
        };
        let txn = self.tree.doc.transact();
        el.get_attribute(&txn, name).map(|v| out_to_json(&txn, v))
    }

    /// Every attribute but `$id`: the schema's properties first, in schema order, then any
    /// other attribute by name.
    pub fn attributes(&self) -> Map<String, Value> {
        let NodeRef::Element(el) = &self.node else {
            return Map::new();
        };
        let txn = self.tree.doc.transact();
        let mut all: HashMap<String, Value> = el
            .attributes(&txn)
            .filter(|(k, _)| *k != ID_ATTRIBUTE)
            .map(|(k, v)| (k.to_string(), out_to_json(&txn, v)))
            .collect();
        let mut out = Map::new();
        if let Some(ty) = self.element_type() {
            for p in ty.properties() {
                if let Some(v) = all.remove(p.name()) {
                    out.insert(p.name().to_string(), v);
                }
            }
        }
        let mut rest: Vec<(String, Value)> = all.into_iter().collect();
        rest.sort_by(|a, b| a.0.cmp(&b.0));
        out.extend(rest);
        out
    }

    /// Sets the attribute `name` (one transaction). `name` must be a value property of the
    /// element's type; the root has no attributes in the Yjs layout.
    pub fn set_attribute(&self, name: &str, value: impl Into<Value>) -> Result<()> {
        let el = self.attribute_target(name)?;
        let mut txn = self.tree.doc.transact_mut();
        el.insert_attribute(&mut txn, name, json_to_any(&value.into()));
        Ok(())
    }

    /// Removes the attribute `name` (one transaction).
    pub fn remove_attribute(&self, name: &str) -> Result<()> {
        let el = self.attribute_target(name)?;
        let mut txn = self.tree.doc.transact_mut();
        el.remove_attribute(&mut txn, &name);
        Ok(())
    }

    fn attribute_target(&self, name: &str) -> Result<&XmlElementRef> {
        let NodeRef::Element(el) = &self.node else {
            return Err(Error::InvalidArguments(format!(
                "the root element has no attributes (cannot set {name})"
            )));
        };
        let ty = self.tree.schema.element(el.tag())?;
        match ty.property(name) {
            Some(Property::Value { .. }) => Ok(el),
            Some(Property::Children { .. }) => Err(Error::InvalidArguments(format!(
                "{name} is the child property of {}: add child elements instead",
                el.tag()
            ))),
            None => Err(Error::InvalidArguments(format!(
                "{name} is not a valid property on {}",
                el.tag()
            ))),
        }
    }

    /// Appends a child element with a fresh `$id` (a dashed uuid v4) and `attributes` (a
    /// JSON object, or `null` for none), as the SDKs' `append_child`. The tag must be
    /// allowed by the schema, the attributes must be its value properties.
    pub fn append_child(&self, tag: &str, attributes: Value) -> Result<Element> {
        self.append_child_with_id(tag, &uuid::Uuid::new_v4().to_string(), attributes)
    }

    /// [`append_child`](Self::append_child) with a given `$id` (TypeScript's
    /// `createChildElement(tag, attributes, {id})`).
    pub fn append_child_with_id(&self, tag: &str, id: &str, attributes: Value) -> Result<Element> {
        let attributes = match attributes {
            Value::Object(map) => map,
            Value::Null => Map::new(),
            other => {
                return Err(Error::InvalidArguments(format!(
                    "attributes must be an object, got {other}"
                )))
            }
        };
        let child_type = self.check_child(tag)?;
        for name in attributes.keys() {
            match child_type.property(name) {
                Some(Property::Value { .. }) => {}
                _ => {
                    return Err(Error::InvalidArguments(format!(
                        "{name} is not a valid property on {tag}"
                    )))
                }
            }
        }
        let doc = &self.tree.doc;
        // As Python's crdt layer: the element with its $id, then each attribute, then the
        // text of a `text` element, each in its own transaction.
        let el = {
            let mut txn = doc.transact_mut();
            let el = match &self.node {
                NodeRef::Root(f) => f.push_back(&mut txn, XmlElementPrelim::empty(tag)),
                NodeRef::Element(e) => e.push_back(&mut txn, XmlElementPrelim::empty(tag)),
            };
            el.insert_attribute(&mut txn, ID_ATTRIBUTE, id);
            el
        };
        for (name, value) in &attributes {
            let mut txn = doc.transact_mut();
            el.insert_attribute(&mut txn, name.as_str(), json_to_any(value));
        }
        if tag == TEXT_TAG {
            let mut txn = doc.transact_mut();
            el.push_back(&mut txn, XmlTextPrelim::new(""));
        }
        Ok(Element {
            tree: self.tree.clone(),
            node: NodeRef::Element(el),
        })
    }

    fn check_child(&self, tag: &str) -> Result<&ElementType> {
        let this = self.tag_name();
        let ty = self
            .element_type()
            .ok_or_else(|| schema_error(format!("{this} is not defined")))?;
        if ty.child_property_name().is_none() {
            return Err(Error::InvalidArguments(format!(
                "children are not allowed on {this}"
            )));
        }
        if !ty.child_tags().iter().any(|t| t == tag) {
            return Err(Error::InvalidArguments(format!(
                "cannot add {tag} to {this}, allowed tags {:?}",
                ty.child_tags()
            )));
        }
        self.tree.schema.element(tag)
    }

    /// Removes this element from its parent (one transaction). The root cannot be deleted.
    pub fn delete(&self) -> Result<()> {
        let NodeRef::Element(el) = &self.node else {
            return Err(Error::InvalidArguments("the root cannot be deleted".into()));
        };
        let mut txn = self.tree.doc.transact_mut();
        let parent = match el.parent() {
            Some(XmlOut::Element(p)) => NodeRef::Element(p),
            Some(XmlOut::Fragment(p)) => NodeRef::Root(p),
            _ => return Err(Error::InvalidArguments("the element has no parent".into())),
        };
        let index = {
            let children: Box<dyn Iterator<Item = XmlOut>> = match &parent {
                NodeRef::Root(f) => Box::new(f.children(&txn)),
                NodeRef::Element(e) => Box::new(e.children(&txn)),
            };
            children
                .enumerate()
                .find(|(_, c)| matches!(c, XmlOut::Element(c) if c == el))
                .map(|(i, _)| i)
        };
        let Some(index) = index.and_then(|i| u32::try_from(i).ok()) else {
            return Err(Error::InvalidArguments(
                "the element is no longer in the document".into(),
            ));
        };
        match parent {
            NodeRef::Root(f) => f.remove(&mut txn, index),
            NodeRef::Element(e) => e.remove(&mut txn, index),
        }
        Ok(())
    }

    /// The children, in order.
    pub fn children(&self) -> Vec<Node> {
        let txn = self.tree.doc.transact();
        let children: Vec<XmlOut> = match &self.node {
            NodeRef::Root(f) => f.children(&txn).collect(),
            NodeRef::Element(e) => e.children(&txn).collect(),
        };
        children
            .into_iter()
            .filter_map(|c| match c {
                XmlOut::Element(el) => Some(Node::Element(Element {
                    tree: self.tree.clone(),
                    node: NodeRef::Element(el),
                })),
                XmlOut::Text(text) => Some(Node::Text(text)),
                XmlOut::Fragment(_) => None,
            })
            .collect()
    }

    /// The child elements of tag `tag`.
    pub fn get_children_by_tag_name(&self, tag: &str) -> Vec<Element> {
        self.children()
            .into_iter()
            .filter_map(|c| match c {
                Node::Element(e) if e.tag_name() == tag => Some(e),
                _ => None,
            })
            .collect()
    }

    /// This element or the first descendant whose `$id` is `id`.
    pub fn get_node_by_id(&self, id: &str) -> Option<Element> {
        if self.id().as_deref() == Some(id) {
            return Some(self.clone());
        }
        self.children().into_iter().find_map(|c| match c {
            Node::Element(e) => e.get_node_by_id(id),
            Node::Text(_) => None,
        })
    }

    /// The element as JSON (`{<tag>: {<attributes but $id>, <child property>: [...]}}`), as
    /// the SDKs' `to_json()`. Elements whose tag the schema does not define are written
    /// with their attributes only.
    pub fn to_json(&self) -> Value {
        let txn = self.tree.doc.transact();
        let mut out = Map::new();
        let tag = self.tag_name();
        out.insert(tag, Value::Object(self.body_json(&txn)));
        Value::Object(out)
    }

    fn body_json<T: ReadTxn>(&self, txn: &T) -> Map<String, Value> {
        let mut body = Map::new();
        let (children, ty): (Vec<XmlOut>, Option<&ElementType>) = match &self.node {
            NodeRef::Root(f) => (f.children(txn).collect(), Some(self.tree.schema.root())),
            NodeRef::Element(el) => {
                let ty = self.tree.schema.element(el.tag()).ok();
                let mut attrs: HashMap<String, Value> = el
                    .attributes(txn)
                    .filter(|(k, _)| *k != ID_ATTRIBUTE)
                    .map(|(k, v)| (k.to_string(), out_to_json(txn, v)))
                    .collect();
                for p in ty.map(ElementType::properties).unwrap_or(&[]) {
                    if let Some(v) = attrs.remove(p.name()) {
                        body.insert(p.name().to_string(), v);
                    }
                }
                let mut rest: Vec<(String, Value)> = attrs.into_iter().collect();
                rest.sort_by(|a, b| a.0.cmp(&b.0));
                body.extend(rest);
                (el.children(txn).collect(), ty)
            }
        };
        if let Some(name) = ty.and_then(ElementType::child_property_name) {
            let items = children
                .into_iter()
                .filter_map(|c| match c {
                    XmlOut::Element(el) => {
                        let child = Element {
                            tree: self.tree.clone(),
                            node: NodeRef::Element(el),
                        };
                        let mut m = Map::new();
                        m.insert(child.tag_name(), Value::Object(child.body_json(txn)));
                        Some(Value::Object(m))
                    }
                    XmlOut::Text(text) => Some(text_json(txn, &text)),
                    XmlOut::Fragment(_) => None,
                })
                .collect();
            body.insert(name.to_string(), Value::Array(items));
        }
        body
    }
}

/// `{"text": {"delta": [{insert, attributes}]}}` of an `XmlText`.
fn text_json<T: ReadTxn>(txn: &T, text: &XmlTextRef) -> Value {
    let delta: Vec<Value> = text
        .diff(txn, YChange::identity)
        .into_iter()
        .map(|d| {
            let attributes: Map<String, Value> = d
                .attributes
                .map(|a| {
                    a.iter()
                        .map(|(k, v)| (k.to_string(), any_to_json(v)))
                        .collect()
                })
                .unwrap_or_default();
            serde_json::json!({"insert": out_to_json(txn, d.insert), "attributes": attributes})
        })
        .collect();
    serde_json::json!({"text": {"delta": delta}})
}

/// A JSON value as a Yjs `Any` (integers as integers, as Yjs writes JS integers).
pub fn json_to_any(value: &Value) -> Any {
    match value {
        Value::Null => Any::Null,
        Value::Bool(b) => Any::Bool(*b),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Any::from(i),
            (None, Some(f)) => Any::from(f),
            (None, None) => Any::Null,
        },
        Value::String(s) => Any::from(s.as_str()),
        Value::Array(items) => Any::from(items.iter().map(json_to_any).collect::<Vec<_>>()),
        Value::Object(map) => Any::from(
            map.iter()
                .map(|(k, v)| (k.clone(), json_to_any(v)))
                .collect::<HashMap<_, _>>(),
        ),
    }
}

/// A Yjs `Any` as JSON (buffers as arrays of bytes; undefined as null).
pub fn any_to_json(any: &Any) -> Value {
    match any {
        Any::Null | Any::Undefined => Value::Null,
        Any::Bool(b) => Value::Bool(*b),
        Any::Number(Number::Int(i)) => Value::from(*i),
        Any::Number(Number::Float(f)) => {
            JsonNumber::from_f64(*f).map_or(Value::Null, Value::Number)
        }
        Any::String(s) => Value::String(s.to_string()),
        Any::Buffer(b) => Value::Array(b.iter().map(|x| Value::from(*x)).collect()),
        Any::Array(items) => Value::Array(items.iter().map(any_to_json).collect()),
        Any::Map(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), any_to_json(v)))
                .collect(),
        ),
    }
}

fn out_to_json<T: ReadTxn>(txn: &T, out: Out) -> Value {
    match out {
        Out::Any(any) => any_to_json(&any),
        other => Value::String(other.to_string(txn)),
    }
}
