//! The spec loader on arbitrary text: never panics, every diagnostic is located (line and
//! column ≥ 1). What loads is also validated (`ir::build`), alone and next to the real
//! room core file, which must not panic either.
#![no_main]

use std::sync::OnceLock;

use codegen::spec::load::{load_str, LoadedFile};
use codegen::Diagnostic;
use libfuzzer_sys::fuzz_target;

fn room_core() -> &'static Option<LoadedFile> {
    static CORE: OnceLock<Option<LoadedFile>> = OnceLock::new();
    CORE.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../spec/room.yaml");
        let text = std::fs::read_to_string(path).ok()?;
        load_str("spec/room.yaml", &text).0
    })
}

fn check(diags: &[Diagnostic]) {
    for d in diags {
        assert!(d.line >= 1 && d.column >= 1, "unlocated diagnostic: {d:?}");
        let _ = d.to_string();
    }
}

fuzz_target!(|input: &[u8]| {
    let Ok(text) = std::str::from_utf8(input) else {
        return;
    };
    let (file, diags) = load_str("fuzz.yaml", text);
    check(&diags);
    let Some(file) = file else {
        return;
    };
    if let Err(diags) = codegen::ir::build(std::slice::from_ref(&file)) {
        check(&diags);
    }
    if let Some(core) = room_core() {
        if let Err(diags) = codegen::ir::build(&[core.clone(), file]) {
            check(&diags);
        }
    }
});
