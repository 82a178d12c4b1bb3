//! The spec covers everything the official SDKs 0.35.8 put on the wire (the inventory in
//! `codegen/inventory-0.35.8.yaml`): every tool, packet type, content type and error code.

use std::path::Path;

#[test]
fn the_spec_covers_the_whole_inventory() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let api = codegen::load_api(&root.join("spec"), "spec")
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
