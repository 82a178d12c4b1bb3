//! Elements: reading and editing one node of the tree, as the SDKs do.

use super::schema::schema_error;
use super::*;

#[derive(Clone)]
pub(super) enum NodeRef {
    Root(XmlFragmentRef),
    Element(XmlElementRef),
}

/// An element of a document: the root or an `XmlElement`. A handle: it reads the current
/// state on every call (remote changes included).
#[derive(Clone)]
pub struct Element {
    pub(super) tree: ElementTree,
    pub(super) node: NodeRef,
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
