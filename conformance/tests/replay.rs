//! Replays every recorded case in `cases/` against the generated client over a loopback
//! websocket: one trial per case file, named by case id (see `conformance::replay`).

use std::path::Path;

use conformance::case::Case;
use conformance::{coverage, replay};
use libtest_mimic::Arguments;

/// Cases that are known to fail, with the reason. A listed case that passes fails the
/// run, so this list only shrinks.
const KNOWN_FAILURES: &[(&str, &str)] = &[];

fn main() {
    let args = Arguments::from_args();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let suites = replay::load_suites(&root.join("cases")).unwrap_or_else(|e| panic!("{e}"));
    replay::check_known_failures(&suites, KNOWN_FAILURES).unwrap_or_else(|e| panic!("{e}"));
    let trials = suites
        .iter()
        .flat_map(|s| s.trials(KNOWN_FAILURES))
        .collect();
    let conclusion = libtest_mimic::run(&args, trials);
    if !args.list {
        let cases: Vec<Case> = suites.iter().flat_map(|s| s.cases.clone()).collect();
        let methods = coverage::spec_methods(&root.join("../spec")).expect("spec/*.yaml loads");
        println!("{}", coverage::summary(&methods, &cases));
    }
    conclusion.exit();
}
