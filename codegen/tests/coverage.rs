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
