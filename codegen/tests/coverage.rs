//! The spec covers everything the official SDKs put on the wire, version by version (the
//! inventories `codegen/inventory-0.35.8.yaml` and `codegen/inventory-0.56.yaml`): every
//! tool, packet type, content type and error code.

use std::path::Path;

#[test]
fn the_spec_covers_the_whole_inventory() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let api = codegen::load_api_version(&root.join("spec"), "spec", Some("0.35.8"))
        .unwrap_or_else(|d| panic!("{}", codegen::diag::render(&d)));
    let text =
        std::fs::read_to_string(root.join("codegen/inventory-0.35.8.yaml")).expect("inventory");
    let inventory: codegen::coverage::Inventory =
        codegen::spec::load::parse_yaml(&text).expect("inventory parses");
    let rows = codegen::coverage::compare(&api, &inventory);
    let (table, complete) = codegen::coverage::render(&rows);
    println!("{table}");
    assert!(complete, "the spec misses parts of the inventory:\n{table}");
    let tools: usize = rows
        .iter()
        .filter(|r| r.what.starts_with("toolkit "))
        .map(|r| r.specified)
        .sum();
    assert_eq!(tools, 99);
}

/// 0.56.0 is reported against its own inventory; `dataset` (32 tools with TypeScript's two
/// extra) and `sqlite` (28 tools, backup and restore included) are typed in full.
#[test]
fn the_0_56_report_types_the_arrow_toolkits_in_full() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let api = codegen::load_api_version(&root.join("spec"), "spec", Some("0.56.0"))
        .unwrap_or_else(|d| panic!("{}", codegen::diag::render(&d)));
    let text =
        std::fs::read_to_string(root.join("codegen/inventory-0.56.yaml")).expect("inventory");
    let inventory: codegen::coverage::Inventory =
        codegen::spec::load::parse_yaml(&text).expect("inventory parses");
    assert_eq!(inventory.version, "0.56.0");
    let rows = codegen::coverage::compare(&api, &inventory);
    let (table, _) = codegen::coverage::render(&rows);
    println!("{table}");
    for (toolkit, total) in [("dataset", 32), ("sqlite", 28)] {
        let row = rows
            .iter()
            .find(|r| r.what == format!("toolkit {toolkit}"))
            .expect("row");
        assert!(
            row.deferred.is_none() && row.problems.is_empty(),
            "{toolkit}"
        );
        assert_eq!((row.specified, row.total), (total, total), "{toolkit}");
    }
    // What is left deferred (single tools) does not make the report incomplete.
    assert!(codegen::coverage::render(&rows).1);
}

/// A tool the spec has and the inventory lacks is *extra*, apart from missing ones, with
/// counts that add up; extras do not fail the check, missing tools do.
#[test]
fn extra_tools_are_told_apart_from_missing_ones() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let api = codegen::load_api_version(&root.join("spec"), "spec", Some("0.35.8"))
        .unwrap_or_else(|d| panic!("{}", codegen::diag::render(&d)));
    let text =
        std::fs::read_to_string(root.join("codegen/inventory-0.35.8.yaml")).expect("inventory");
    let mut inventory: codegen::coverage::Inventory =
        codegen::spec::load::parse_yaml(&text).expect("inventory parses");
    // Extras the spec already has (a contributor's new method, say) stay extras.
    let before = codegen::coverage::compare(&api, &inventory);
    let before = before
        .iter()
        .find(|r| r.what == "toolkit queues")
        .expect("row");
    let queues = inventory.toolkits.get_mut("queues").expect("queues");
    let total = queues.len();
    // The inventory forgets `open` (so the spec's `open` is extra)...
    queues.retain(|t| !matches!(t, codegen::coverage::ToolEntry::Plain(n) if n == "open"));
    assert_eq!(queues.len(), total - 1, "the inventory lists queues.open");
    let rows = codegen::coverage::compare(&api, &inventory);
    let (table, complete) = codegen::coverage::render(&rows);
    let row = rows
        .iter()
        .find(|r| r.what == "toolkit queues")
        .expect("row");
    assert_eq!(
        (row.specified, row.total),
        (total - 1, total - 1),
        "{table}"
    );
    assert!(row.extra.contains(&"open".to_string()), "{table}");
    assert_eq!(row.extra.len(), before.extra.len() + 1, "{table}");
    assert!(row.problems.is_empty());
    assert!(complete, "extra tools do not fail the check:\n{table}");
    let extras = row.extra.len();
    assert!(
        table.contains(&format!("ok, {extras} extra"))
            && table.contains("- open: extra (in the spec, not in the reference inventory)")
            && table.contains(codegen::coverage::EXTRA_NOTE),
        "{table}"
    );
    assert!(!table.contains("MISSING"), "{table}");

    // ...and names a tool the spec lacks: that one is missing and fails the check.
    inventory.toolkits.get_mut("queues").expect("queues").push(
        codegen::coverage::ToolEntry::Plain("not_in_the_spec".into()),
    );
    let rows = codegen::coverage::compare(&api, &inventory);
    let (table, complete) = codegen::coverage::render(&rows);
    let row = rows
        .iter()
        .find(|r| r.what == "toolkit queues")
        .expect("row");
    assert_eq!((row.specified, row.total), (total - 1, total), "{table}");
    assert_eq!(row.problems, ["not_in_the_spec: missing"]);
    assert!(!complete);
    assert!(
        table.contains(&format!("MISSING 1, {extras} extra")),
        "{table}"
    );
}
