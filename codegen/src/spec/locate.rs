//! Where things are in a spec file: an event-level pass (`yaml-rust2`) maps every key path
//! to its line and column, so that problems found later, in validation, are located and
//! shown with their source line. The same pass finds duplicate keys, which the YAML
//! library reports at the start of the enclosing mapping rather than at the duplicate.

use std::collections::HashMap;
use std::sync::Arc;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

use crate::diag::Diagnostic;

/// Maps key paths (`["tools", "exists", "input"]`) to 1-based line and column, and keeps
/// the file's text to quote the offending line.
#[derive(Debug, Clone, Default)]
pub struct Locator {
    positions: HashMap<Vec<String>, (usize, usize)>,
    values: HashMap<Vec<String>, (usize, usize)>,
    text: Arc<str>,
    duplicates: Vec<Duplicate>,
}

/// A key that appears twice in one mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duplicate {
    /// Key path of the repeated key.
    pub path: Vec<String>,
    /// Where it first appears.
    pub first: (usize, usize),
    /// Where it appears again.
    pub again: (usize, usize),
}

impl Locator {
    /// Indexes `text` (a file that `yaml-rust2` cannot parse keeps the positions read up
    /// to the error; others then fall back to the start of the file).
    pub fn new(text: &str) -> Self {
        let mut indexer = Indexer::default();
        let _ = Parser::new_from_str(text).load(&mut indexer, false);
        Locator {
            positions: indexer.positions,
            values: indexer.values,
            text: text.into(),
            duplicates: indexer.duplicates,
        }
    }

    /// The file's text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Keys repeated within one mapping, in file order.
    pub fn duplicates(&self) -> &[Duplicate] {
        &self.duplicates
    }

    /// Position of exactly `path`, when the file has it.
    pub fn position(&self, path: &[&str]) -> Option<(usize, usize)> {
        let owned: Vec<String> = path.iter().map(|s| s.to_string()).collect();
        self.positions.get(&owned).copied()
    }

    /// Position of `path`, or of its nearest located ancestor.
    pub fn locate(&self, path: &[&str]) -> (usize, usize) {
        let mut owned: Vec<String> = path.iter().map(|s| s.to_string()).collect();
        loop {
            if let Some(pos) = self.positions.get(&owned) {
                return *pos;
            }
            if owned.pop().is_none() {
                return (1, 1);
            }
        }
    }

    /// Position of the scalar value at `path` (`type: itn` → `itn`), else as [`Self::locate`].
    pub fn locate_value(&self, path: &[&str]) -> (usize, usize) {
        let owned: Vec<String> = path.iter().map(|s| s.to_string()).collect();
        self.values
            .get(&owned)
            .copied()
            .unwrap_or_else(|| self.locate(path))
    }

    /// Makes every position below `from` also known below `to` (an entry renamed to its
    /// wire name keeps pointing at its text).
    pub fn alias(&mut self, from: &[&str], to: &[&str]) {
        let moved: Vec<(Vec<String>, (usize, usize))> = self
            .positions
            .iter()
            .filter(|(p, _)| p.len() >= from.len() && p.iter().zip(from).all(|(a, b)| a == b))
            .map(|(p, pos)| {
                let mut q: Vec<String> = to.iter().map(|s| s.to_string()).collect();
                q.extend(p[from.len()..].iter().cloned());
                (q, *pos)
            })
            .collect();
        for (p, pos) in moved {
            self.positions.insert(p, pos);
        }
    }

    /// Position of the first key named `key` below `prefix` (used to place serde errors
    /// such as "unknown field `x`" that name a key but not its path).
    pub fn find_below(&self, prefix: &[&str], key: &str) -> Option<(usize, usize)> {
        self.positions
            .iter()
            .filter(|(p, _)| {
                p.len() > prefix.len()
                    && p.last().is_some_and(|k| k == key)
                    && p.iter().zip(prefix).all(|(a, b)| a == b)
            })
            .map(|(_, pos)| *pos)
            .min()
    }

    /// A diagnostic located at `path` in `file`, quoting its line. A path ending in one of
    /// the spec's [`VALUE_KEYS`] points at its value (`flow: server_psh` → under
    /// `server_psh`); any other at its key (`tool:`, an entry's name).
    pub fn diagnostic(
        &self,
        file: &str,
        path: &[&str],
        message: impl Into<String>,
        hint: Option<String>,
    ) -> Diagnostic {
        let position = match path.last() {
            Some(key) if VALUE_KEYS.contains(key) => self.locate_value(path),
            _ => self.locate(path),
        };
        self.diagnostic_at(file, position, message, hint)
    }

    /// A diagnostic at the scalar value of `path` (else as [`Self::diagnostic`]).
    pub fn value_diagnostic(
        &self,
        file: &str,
        path: &[&str],
        message: impl Into<String>,
        hint: Option<String>,
    ) -> Diagnostic {
        self.diagnostic_at(file, self.locate_value(path), message, hint)
    }

    /// A diagnostic at `position` in `file`, quoting its line.
    pub fn diagnostic_at(
        &self,
        file: &str,
        position: (usize, usize),
        message: impl Into<String>,
        hint: Option<String>,
    ) -> Diagnostic {
        Diagnostic::new(file, position, message, hint).with_source_from(&self.text)
    }
}

/// Keys of the spec format whose problems are about their scalar value.
pub const VALUE_KEYS: &[&str] = &[
    "type",
    "flow",
    "content",
    "returns",
    "tail",
    "present_when",
    "item",
    "since",
    "until",
    "default",
    "version",
    "code",
    "packet",
    "name",
    "engine",
    "signature",
    "fresh",
    "absent",
    "wire",
    "initiator",
    "empty",
];

#[derive(Default)]
struct Indexer {
    stack: Vec<Frame>,
    positions: HashMap<Vec<String>, (usize, usize)>,
    values: HashMap<Vec<String>, (usize, usize)>,
    duplicates: Vec<Duplicate>,
    repeats: usize,
}

enum Frame {
    Map { key: Option<String> },
    Seq { index: usize },
}

impl Indexer {
    fn path_with(&self, last: String) -> Vec<String> {
        let mut path: Vec<String> = self
            .stack
            .iter()
            .filter_map(|f| match f {
                Frame::Map { key } => key.clone(),
                Frame::Seq { index } => Some(index.to_string()),
            })
            .collect();
        // The innermost frame's slot is being filled: replace rather than extend.
        if matches!(
            self.stack.last(),
            Some(Frame::Map { key: Some(_) }) | Some(Frame::Seq { .. })
        ) {
            path.pop();
        }
        path.push(last);
        path
    }

    /// A node starts at `mark`: either a mapping key, or a value in the current slot.
    /// Returns true when the node was a key.
    fn node(&mut self, scalar: Option<&str>, mark: Marker) -> bool {
        let pos = (mark.line(), mark.col() + 1);
        match self.stack.last() {
            Some(Frame::Map { key: None }) => {
                let mut key = scalar.unwrap_or("?").to_string();
                let path = self.path_with(key.clone());
                match self.positions.get(&path) {
                    // Paths are unique per mapping, so a second sighting is a repeated key
                    // (a non-scalar key has no name to compare: not reported).
                    Some(&first) => {
                        if scalar.is_some() {
                            self.duplicates.push(Duplicate {
                                path,
                                first,
                                again: pos,
                            });
                        }
                        // What lies below the repeat gets paths of its own, so that its
                        // keys are not taken for repeats of the first one's.
                        self.repeats += 1;
                        key.push_str(&format!("\u{0}{}", self.repeats));
                    }
                    None => {
                        self.positions.insert(path, pos);
                    }
                }
                if let Some(Frame::Map { key: slot }) = self.stack.last_mut() {
                    *slot = Some(key);
                }
                true
            }
            Some(Frame::Map { key: Some(key) }) => {
                if scalar.is_some() {
                    let path = self.path_with(key.clone());
                    self.values.entry(path).or_insert(pos);
                }
                false
            }
            Some(Frame::Seq { index }) => {
                let path = self.path_with(index.to_string());
                self.positions.entry(path).or_insert(pos);
                false
            }
            _ => false,
        }
    }

    /// The value in the current slot is complete.
    fn value_done(&mut self) {
        match self.stack.last_mut() {
            Some(Frame::Map { key }) => *key = None,
            Some(Frame::Seq { index }) => *index += 1,
            None => {}
        }
    }
}

impl MarkedEventReceiver for Indexer {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        match ev {
            // A scalar or alias that is not a key completes its slot at once.
            Event::Scalar(value, ..) if !self.node(Some(&value), mark) => self.value_done(),
            Event::Alias(_) if !self.node(None, mark) => self.value_done(),
            Event::MappingStart(..) => {
                self.node(None, mark);
                self.stack.push(Frame::Map { key: None });
            }
            Event::SequenceStart(..) => {
                self.node(None, mark);
                self.stack.push(Frame::Seq { index: 0 });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
                self.value_done();
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_nested_keys() {
        let text = "tools:\n  exists:\n    input:\n      path: {type: string, doc: x}\n";
        let loc = Locator::new(text);
        assert_eq!(loc.locate(&["tools", "exists"]), (2, 3));
        assert_eq!(loc.locate(&["tools", "exists", "input", "path"]), (4, 7));
        assert_eq!(
            loc.locate(&["tools", "exists", "input", "path", "doc"]),
            (4, 28)
        );
        assert_eq!(loc.locate(&["tools", "missing", "x"]), (1, 1));
        assert_eq!(
            loc.locate_value(&["tools", "exists", "input", "path", "type"]),
            (4, 20)
        );
        assert!(loc.duplicates().is_empty());
    }

    #[test]
    fn finds_repeated_keys_where_they_repeat() {
        let text = "tools:\n  a:\n    summary: x\n  b: {}\n  a:\n    summary: y\n";
        let loc = Locator::new(text);
        assert_eq!(
            loc.duplicates(),
            [Duplicate {
                path: vec!["tools".into(), "a".into()],
                first: (2, 3),
                again: (5, 3),
            }]
        );
        // Positions below the key stay those of its first appearance.
        assert_eq!(loc.locate(&["tools", "a", "summary"]), (3, 5));
    }
}
