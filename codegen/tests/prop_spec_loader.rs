//! Property tests of the spec loader: arbitrary text and mutated copies of the real
//! `spec/*.yaml` files must never make `load_str` panic, and every diagnostic must point
//! at a real position (line and column ≥ 1). Mutated specs are also pushed through
//! validation (`ir::build`), which must not panic either.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use codegen::spec::load::{load_str, LoadedFile};
use codegen::Diagnostic;
use proptest::prelude::*;

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn spec_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec")
}

/// The real spec files, name and text, in name order (read once).
fn real_specs() -> &'static [(String, String)] {
    static SPECS: OnceLock<Vec<(String, String)>> = OnceLock::new();
    SPECS.get_or_init(read_specs)
}

/// The real spec files, loaded (once).
fn real_loaded() -> &'static [LoadedFile] {
    static LOADED: OnceLock<Vec<LoadedFile>> = OnceLock::new();
    LOADED.get_or_init(|| {
        real_specs()
            .iter()
            .map(|(name, text)| load_str(name, text).0.expect("the real specs parse"))
            .collect()
    })
}

fn read_specs() -> Vec<(String, String)> {
    let mut files: Vec<_> = std::fs::read_dir(spec_dir())
        .expect("spec/ exists")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no spec files found");
    files
        .into_iter()
        .map(|p| {
            let name = format!(
                "spec/{}",
                p.file_name().unwrap_or_default().to_string_lossy()
            );
            let text = std::fs::read_to_string(&p).expect("readable spec");
            (name, text)
        })
        .collect()
}

fn check_positions(diags: &[Diagnostic], text: &str) -> Result<(), TestCaseError> {
    for d in diags {
        prop_assert!(
            d.line >= 1 && d.column >= 1,
            "diagnostic at {}:{} for {:?}: {}",
            d.line,
            d.column,
            text,
            d
        );
        prop_assert!(!d.message.is_empty());
        // The quoted source line is the located one (`text` is the file of `fuzz.yaml` or
        // the mutated target; diagnostics of the other, real files quote their own text).
        if let (Some(source), true) = (&d.source, d.file == "fuzz.yaml") {
            prop_assert_eq!(Some(source.as_str()), text.lines().nth(d.line - 1));
        }
        // Rendering never panics either, and shows the message.
        let shown = d.to_string();
        prop_assert!(
            shown.contains(&d.message.replace('\t', "    ")),
            "{:?} in {:?}",
            d.message,
            shown
        );
    }
    Ok(())
}

/// Snippets that YAML (and the spec format) gives meaning to.
const SNIPPETS: &[&str] = &[
    ":",
    ": ",
    "-",
    "- ",
    "?",
    "? ",
    "{",
    "}",
    "[",
    "]",
    ",",
    "\"",
    "'",
    "#",
    "&a ",
    "*a",
    "!!str ",
    "!tag ",
    "|",
    ">",
    "\n",
    "\n  ",
    "\t",
    "  ",
    "~",
    "null",
    "true",
    "3",
    "\"int?\"",
    "list<",
    "map<string>",
    "string?",
    "type: ",
    "doc: ",
    "fields:",
    "tools:",
    "types:",
    "events:",
    "toolkit:",
    "input:",
    "output:",
    "content: json",
    "returns: x",
    "stream:",
    "enum:",
    "tag: kind",
    "variants:",
    "---\n",
    "...\n",
    "%YAML 1.2\n",
    "\u{feff}",
    "<<: *a",
    "\u{0}",
    "é",
    "\r\n",
];

#[derive(Debug, Clone)]
enum Mutation {
    /// Removes the bytes `[at, at + len)` (positions taken modulo the text length).
    Delete { at: usize, len: usize },
    /// Inserts a snippet at a position.
    Insert { at: usize, snippet: &'static str },
    /// Duplicates a line.
    DuplicateLine { line: usize },
    /// Swaps two lines.
    SwapLines { a: usize, b: usize },
    /// Changes the indentation of a line.
    Reindent { line: usize, spaces: usize },
    /// Cuts the text at a position.
    Truncate { at: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1usize..12).prop_map(|(at, len)| Mutation::Delete { at, len }),
        (any::<usize>(), proptest::sample::select(SNIPPETS))
            .prop_map(|(at, snippet)| Mutation::Insert { at, snippet }),
        any::<usize>().prop_map(|line| Mutation::DuplicateLine { line }),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines { a, b }),
        (any::<usize>(), 0usize..9).prop_map(|(line, spaces)| Mutation::Reindent { line, spaces }),
        any::<usize>().prop_map(|at| Mutation::Truncate { at }),
    ]
}

/// The nearest char boundary at or before `at % (len + 1)`.
fn boundary(text: &str, at: usize) -> usize {
    let mut at = at % (text.len() + 1);
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn apply(text: &str, m: &Mutation) -> String {
    let mut lines: Vec<String> = text.split('\n').map(str::to_owned).collect();
    let n = lines.len();
    match *m {
        Mutation::Delete { at, len } => {
            let start = boundary(text, at);
            let end = boundary(text, start + len).max(start);
            let end = if end < start + len && start + len <= text.len() {
                // `boundary` wrapped around; delete to the end instead.
                text.len()
            } else {
                end
            };
            format!("{}{}", &text[..start], &text[end..])
        }
        Mutation::Insert { at, snippet } => {
            let at = boundary(text, at);
            format!("{}{snippet}{}", &text[..at], &text[at..])
        }
        Mutation::DuplicateLine { line } => {
            let line = line % n;
            let copy = lines[line].clone();
            lines.insert(line, copy);
            lines.join("\n")
        }
        Mutation::SwapLines { a, b } => {
            lines.swap(a % n, b % n);
            lines.join("\n")
        }
        Mutation::Reindent { line, spaces } => {
            let line = line % n;
            let trimmed = lines[line].trim_start().to_string();
            lines[line] = format!("{}{trimmed}", " ".repeat(spaces));
            lines.join("\n")
        }
        Mutation::Truncate { at } => text[..boundary(text, at)].to_string(),
    }
}

/// Loads `text` in place of the real spec file at `target`, and builds the IR with the
/// other real files: no panic, and located diagnostics.
fn load_all_with(target: usize, text: &str) -> Result<(), TestCaseError> {
    let (name, _) = &real_specs()[target];
    let (file, diags) = load_str(name, text);
    check_positions(&diags, text)?;
    let mut loaded: Vec<LoadedFile> = real_loaded().to_vec();
    match file {
        Some(file) => loaded[target] = file,
        None => {
            loaded.remove(target);
        }
    }
    if let Err(diags) = codegen::ir::build(&loaded) {
        check_positions(&diags, text)?;
    }
    Ok(())
}

#[test]
fn the_real_specs_load_cleanly() {
    for (name, text) in real_specs() {
        let (file, diags) = load_str(name, text);
        assert!(file.is_some(), "{name}");
        assert!(diags.is_empty(), "{name}: {diags:?}");
    }
}

proptest! {
    #![proptest_config(config(384))]

    /// Arbitrary text: no panic, every diagnostic located.
    #[test]
    fn arbitrary_text_never_panics(text in ".{0,200}") {
        let (_file, diags) = load_str("fuzz.yaml", &text);
        check_positions(&diags, &text)?;
    }

    /// Text made of YAML-significant snippets, which reaches much deeper than random chars.
    #[test]
    fn yaml_like_text_never_panics(
        pieces in proptest::collection::vec(
            prop_oneof![
                3 => proptest::sample::select(SNIPPETS).prop_map(str::to_owned),
                1 => "[a-z_]{1,8}",
            ],
            0..60,
        ),
    ) {
        let text = pieces.concat();
        let (_file, diags) = load_str("fuzz.yaml", &text);
        check_positions(&diags, &text)?;
    }
}

proptest! {
    // Each case also validates the whole spec, so fewer of them.
    #![proptest_config(config(192))]

    /// Mutated copies of the real spec files: the loader and validation never panic,
    /// every diagnostic is located.
    #[test]
    fn mutated_real_specs_never_panic(
        target in any::<usize>(),
        mutations in proptest::collection::vec(mutation(), 1..5),
    ) {
        let specs = real_specs();
        let target = target % specs.len();
        let mut text = specs[target].1.clone();
        for m in &mutations {
            text = apply(&text, m);
        }
        load_all_with(target, &text)?;
    }
}

/// A key repeated inside a repeated mapping is named by the mapping's own name (the
/// locator's private marker for "below a repeat" never reaches a message).
#[test]
fn a_duplicate_under_a_repeated_key_names_its_mapping() {
    let text = "tools:\n  a: {}\ntools:\n  b: {}\n  b: {}\n";
    let (_, diags) = load_str("fuzz.yaml", text);
    let messages: Vec<String> = diags.iter().map(|d| d.message.clone()).collect();
    assert!(
        messages.iter().all(|m| !m.contains('\u{0}')),
        "{messages:?}"
    );
    assert!(
        messages.contains(&"duplicate key `b` in `tools`".to_string()),
        "{messages:?}"
    );
}
