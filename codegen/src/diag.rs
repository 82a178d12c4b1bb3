//! Located spec errors, reported all at once: each shows its source line with a caret
//! (rendered by `annotate-snippets`) and, when there is one, a hint.

use std::fmt;

use annotate_snippets::{AnnotationKind, Group, Level, Origin, Renderer, Snippet};

/// One problem in the spec, with where it is and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Diagnostic {
    /// The spec file, as given to the loader (e.g. `spec/storage.yaml`).
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// What is wrong.
    pub message: String,
    /// How to fix it, when there is something useful to say.
    pub hint: Option<String>,
    /// The text of line `line`, when the file was read (shown with a caret under `column`).
    pub source: Option<String>,
}

impl Diagnostic {
    /// A diagnostic without a source line (the file could not be read, or no line applies).
    pub fn new(
        file: impl Into<String>,
        (line, column): (usize, usize),
        message: impl Into<String>,
        hint: Option<String>,
    ) -> Self {
        Self {
            file: file.into(),
            line,
            column,
            message: message.into(),
            hint,
            source: None,
        }
    }

    /// Attaches line `self.line` of `text` (the whole file) as the source line.
    pub fn with_source_from(mut self, text: &str) -> Self {
        self.source = self
            .line
            .checked_sub(1)
            .and_then(|i| text.lines().nth(i))
            .map(str::to_owned);
        self
    }

    /// Renders the diagnostic; `styled` adds terminal colours.
    pub fn render(&self, styled: bool) -> String {
        let renderer = if styled {
            Renderer::styled()
        } else {
            Renderer::plain()
        };
        let title = Level::ERROR.primary_title(self.message.as_str());
        let located = match &self.source {
            Some(line) => title.element(
                Snippet::source(line.as_str())
                    .line_start(self.line)
                    .path(self.file.as_str())
                    .annotation(AnnotationKind::Primary.span(token_span(line, self.column))),
            ),
            None => title.element(
                Origin::path(self.file.as_str())
                    .line(self.line)
                    .char_column(self.column),
            ),
        };
        let mut report: Vec<Group<'_>> = vec![located];
        if let Some(hint) = &self.hint {
            report.push(Group::with_title(
                Level::HELP.secondary_title(hint.as_str()),
            ));
        }
        renderer.render(&report)
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(false))
    }
}

/// The byte range of the token starting at 1-based character `column` of `line` (a key, a
/// word or a quoted value), so the caret underlines all of it; at least one character.
fn token_span(line: &str, column: usize) -> std::ops::Range<usize> {
    let start = line
        .char_indices()
        .nth(column.saturating_sub(1))
        .map_or(line.len(), |(i, _)| i);
    let rest = &line[start..];
    let len = match rest.chars().next() {
        Some(c) if c.is_whitespace() => c.len_utf8(),
        Some(q @ ('"' | '\'')) => rest[1..].find(q).map_or(rest.len(), |end| end + 2),
        // A plain scalar runs to `: `, a flow indicator or a comment (and may hold spaces).
        Some(c) => {
            let end = [": ", ",", "{", "}", "[", "]", " #"]
                .iter()
                .filter_map(|stop| rest.find(stop))
                .min()
                .unwrap_or(rest.len());
            let end = if rest[..end].ends_with(':') {
                end - 1
            } else {
                end
            };
            match rest[..end].trim_end().len() {
                0 => c.len_utf8(),
                n => n,
            }
        }
        None => 0,
    };
    start..start + len
}

/// Renders a sorted report of every diagnostic, ending with a count; `styled` adds colours.
pub fn render_report(diagnostics: &[Diagnostic], styled: bool) -> String {
    let mut sorted = diagnostics.to_vec();
    sorted.sort();
    sorted.dedup();
    let mut out = String::new();
    for d in &sorted {
        out.push_str(&d.render(styled));
        out.push_str("\n\n");
    }
    let n = sorted.len();
    out.push_str(&format!(
        "{n} error{} in the spec\n",
        if n == 1 { "" } else { "s" }
    ));
    out
}

/// [`render_report`] without colours (for tests, logs and files).
pub fn render(diagnostics: &[Diagnostic]) -> String {
    render_report(diagnostics, false)
}

/// Words users write for a builtin type, with the builtin they mean.
const TYPE_SYNONYMS: [(&str, &str); 12] = [
    ("str", "string"),
    ("text", "string"),
    ("boolean", "bool"),
    ("integer", "int"),
    ("i64", "int"),
    ("number", "float"),
    ("double", "float"),
    ("f64", "float"),
    ("object", "json"),
    ("any", "json"),
    ("binary", "bytes"),
    ("datetime", "timestamp"),
];

/// The closest candidate to `word` when it is close enough to be a likely typo: optimal
/// string alignment distance (a swap of two letters counts one, so `itn` finds `int`),
/// ignoring case, at most a third of the word's length (at least 1). A well-known other
/// name of a builtin type (`integer`, `boolean`) finds it when that builtin is a candidate.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let lower = word.to_lowercase();
    let limit = (word.chars().count() / 3).max(1);
    let candidates: Vec<&str> = candidates.into_iter().collect();
    let best = candidates
        .iter()
        .map(|c| {
            let distance = strsim::osa_distance(&lower, &c.to_lowercase());
            // Among equals, prefer the one whose case also matches, then by name.
            (distance, strsim::osa_distance(word, c), *c)
        })
        .filter(|(d, _, _)| *d <= limit)
        .min()
        .map(|(_, _, c)| c)
        .or_else(|| {
            TYPE_SYNONYMS
                .iter()
                .find(|(alias, builtin)| *alias == lower && candidates.contains(builtin))
                .map(|(_, builtin)| *builtin)
        })?;
    Some(format!("did you mean `{best}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let names = ["StorageEntry", "Queue"];
        assert_eq!(
            did_you_mean("StorageEntri", names).as_deref(),
            Some("did you mean `StorageEntry`?")
        );
        assert_eq!(did_you_mean("Banana", names), None);
    }

    #[test]
    fn suggests_builtins_for_swaps_case_and_synonyms() {
        let builtins = ["string", "bool", "int", "float", "json", "Queue"];
        for (typo, meant) in [
            ("itn", "int"),
            ("strnig", "string"),
            ("Bool", "bool"),
            ("integer", "int"),
            ("boolean", "bool"),
            ("queue", "Queue"),
        ] {
            assert_eq!(
                did_you_mean(typo, builtins),
                Some(format!("did you mean `{meant}`?")),
                "{typo}"
            );
        }
        assert_eq!(did_you_mean("integer", ["Queue"]), None);
    }

    #[test]
    fn renders_the_source_line_with_a_caret_under_the_token() {
        let d = Diagnostic::new(
            "spec/q.yaml",
            (2, 20),
            "unknown type `itn`",
            Some("did you mean `int`?".into()),
        )
        .with_source_from("tools:\n      size: {type: itn, doc: Size.}\n");
        assert_eq!(
            d.to_string(),
            "error: unknown type `itn`\n --> spec/q.yaml:2:20\n  |\n2 |       size: {type: itn, doc: Size.}\n  |                    ^^^\n  |\nhelp: did you mean `int`?"
        );
    }

    #[test]
    fn token_spans_cover_words_and_quoted_values() {
        assert_eq!(token_span("  a: \"int?\" ", 6), 5..11);
        assert_eq!(token_span("  name: x", 3), 2..6);
        assert_eq!(token_span("  name:", 3), 2..6);
        assert_eq!(token_span("  Bad Packet: {reply: false}", 3), 2..12);
        assert_eq!(token_span("  a: {code: 1003, b: c}", 13), 12..16);
        assert_eq!(token_span("  a: {", 6), 5..6);
        assert_eq!(token_span("\tsummary: x", 1), 0..1);
        assert_eq!(token_span("", 1), 0..0);
        assert_eq!(token_span("  é: 1", 3), 2..4);
    }
}
