//! The SDKs' element tree over a sync document (cargo feature `sync-doc`): the Rust
//! counterpart of Python's `MeshDocument` / TypeScript's `MeshDocument`.
//!
//! A MeshAgent document is a tree of elements shaped by a [`MeshSchema`]: one root element
//! (the schema's root tag) whose child property lists elements, each with attributes (its
//! value properties) and, if its type has a child property, children of its own. Open one
//! with [`MeshDocument::open`] (`sync.open` with the schema), read it as JSON with
//! [`MeshDocument::to_json`] and edit it through [`Element`]s.
//!
//! See [`MeshDocument`] for the Yjs layout, shared with the official SDKs.
#![cfg(feature = "sync-doc")]
mod element;
mod schema;

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Number as JsonNumber, Value};
use yrs::any::Number;
use yrs::types::text::YChange;
use yrs::{
    Any, Doc, Out, ReadTxn, Text, Transact, Xml, XmlElementPrelim, XmlElementRef, XmlFragment,
    XmlFragmentRef, XmlOut, XmlTextPrelim, XmlTextRef,
};

use crate::core::error::{Error, Result};
use crate::surfaces::sync_doc::{SyncDocument, SyncOpen, ROOT_NAME};

use element::NodeRef;
pub use element::{Element, Node};
pub use schema::{ElementType, MeshSchema, Property};

/// The attribute holding an element's id.
pub(crate) const ID_ATTRIBUTE: &str = "$id";

/// The tag of rich-text elements, which hold one `XmlText`.
pub(crate) const TEXT_TAG: &str = "text";

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
/// tree (the SDKs' `MeshDocument`).
///
/// # Yjs layout
///
/// The same as the official SDKs' (`meshagent.api.crdt` on pycrdt; the TypeScript runtime on
/// Yjs), so Rust, Python and TypeScript clients edit one document together:
///
/// * the root element is **not** stored: it is the document's XML fragment
///   [`ROOT_NAME`] (`"xml"`), whose children are the
///   root element's children; the root therefore has no `$id` and no attributes;
/// * every other element is a Yjs `XmlElement` named by its tag, with a `"$id"` attribute (a
///   dashed uuid v4 unless given) and one attribute per set property; values are stored as
///   Yjs `Any` (strings, numbers, booleans, null, arrays, objects);
/// * children are the element's `XmlElement`s, in order; an element of tag `text` holds one
///   `XmlText` (rich text, read as a delta).
///
/// Edits are Yjs transactions as Python makes them, so that they travel as the same updates:
/// [`Element::append_child`] inserts the element with its `$id` in one transaction, then sets
/// each attribute in a transaction of its own (in the order given), then, for a `text`
/// element, inserts its `XmlText`. Every transaction is sent as one sync chunk.
///
/// Remote changes are applied to the same yrs document, so every read (`to_json`,
/// `children`, `get_attribute`, ...) reflects them; there is no separate mirror to go stale.
/// Use [`SyncDocument::wait_remote_updates`] or yrs observers to wait for them.
///
/// Reads and edits take a short yrs transaction each: do not call them while holding a
/// transaction of your own on the same document.
///
/// # Example
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

/// A JSON value as a Yjs `Any` (integers as integers, as Yjs writes JS integers).
pub(crate) fn json_to_any(value: &Value) -> Any {
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
pub(crate) fn any_to_json(any: &Any) -> Value {
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
