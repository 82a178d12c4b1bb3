//! `cargo run -p conformance -- replay <dir> [filter]`: replays any directory of cases in
//! the conformance format against the generated client (see `conformance::replay`).

use std::path::PathBuf;
use std::process::ExitCode;

use conformance::replay;
use libtest_mimic::Arguments;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(command), Some(dir)) = (args.next(), args.next()) else {
        eprintln!("usage: conformance replay <cases-dir> [test filter and libtest options]");
        return ExitCode::from(2);
    };
    if command != "replay" {
        eprintln!("unknown command `{command}`; usage: conformance replay <cases-dir>");
        return ExitCode::from(2);
    }
    let suites = match replay::load_suites(&PathBuf::from(&dir)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let rest: Vec<String> = std::iter::once("conformance".to_string())
        .chain(args)
        .collect();
    let test_args = Arguments::from_iter(rest);
    let trials = suites.iter().flat_map(|s| s.trials(&[])).collect();
    if libtest_mimic::run(&test_args, trials).has_failed() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
