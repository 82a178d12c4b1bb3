//! Replays every recorded case of the protocol version this build speaks against the
//! generated client over a loopback websocket: `cases/` for 0.35.8, `cases-0.56/` for
//! 0.56 (the default). One trial per case file, named by case id (see `conformance::replay`).

use std::path::Path;

use conformance::case::Case;
use conformance::{coverage, replay};
use libtest_mimic::Arguments;

#[path = "replay/known_0_56.rs"]
mod known_0_56;

/// Cases of `cases/` (protocol 0.35.8) that are known to fail, with the reason. A listed
/// case that passes fails the run, so this list only shrinks.
const KNOWN_FAILURES_0_35_8: &[(&str, &str)] = &[
    // The SDKs reshape some results after decoding; the Rust methods return the wire shape.
    ("py-database-inspect", "Python returns a dict by column with metadata as a dict; Rust the wire's ordered schema"),
    ("py-database-inspect-namespace", "Python returns a dict by column; Rust the wire's ordered schema"),
    ("ts-database-inspect", "TypeScript returns a dict by column without nullable/metadata; Rust the wire's schema"),
    ("py-database-list-versions", "Python parses metadata_json into metadata; Rust keeps the typed JsonString field"),
    ("ts-database-list-versions", "TypeScript parses metadata_json into metadata; Rust keeps the typed JsonString field"),
    ("py-memory-query", "Python returns the decoded records; Rust returns the reply (results or rows)"),
    ("py-memory-query-rows", "Python returns the decoded records; Rust returns the reply (results or rows)"),
    ("ts-memory-query", "TypeScript returns the decoded records; Rust returns the reply (results or rows)"),
    ("ts-memory-query-rows", "TypeScript returns the decoded records; Rust returns the reply (results or rows)"),
    ("py-services-list", "Python returns {services, service_states by id}; Rust the wire's services_json and state list"),
    ("py-services-list-empty", "Python returns {services, service_states by id}; Rust the wire's lists"),
    ("ts-services-list", "TypeScript list() returns only the specs; Rust returns specs and states"),
    ("ts-services-list-with-state", "TypeScript returns states by id; Rust the wire's list"),
    ("py-secrets-request-secret", "Python returns only the file's bytes; Rust the whole file (name, MIME type, bytes)"),
    ("py-secrets-request-secret-options", "Python returns only the file's bytes; Rust the whole file"),
    ("ts-secrets-request-secret", "TypeScript returns only the file's bytes; Rust the whole file"),
    // Event cases record what the SDK hands its callbacks, not the packet.
    ("py-messaging-events", "Python delivers callback names with participant snapshots; Rust typed packet events"),
    ("py-messaging-enable-events", "Python delivers callback names with participant snapshots; Rust typed packet events"),
    ("py-messaging-events-unknown-participant", "Python drops pushes about unknown participants; Rust delivers every packet"),
    ("py-secrets-request-oauth-token-events", "Python flattens the request into handler kwargs; Rust delivers the packet's fields"),
    ("py-secrets-request-secret-events", "Python flattens the request into handler kwargs; Rust delivers the packet's fields"),
    ("py-room-status-events", "room.status's shape is unknown: Rust keeps only `status`, Python every header field"),
    ("ts-messaging-events", "TypeScript delivers callback names with the message and participant snapshots, and fires `message` after each system push; Rust typed packet events"),
    ("ts-messaging-enable-events", "TypeScript delivers callback names with the message and participant snapshots; Rust typed packet events"),
    ("ts-messaging-events-unknown-participant", "TypeScript delivers callback names with the message and participant snapshots; Rust typed packet events"),
    ("ts-developer-log-events", "TypeScript passes null for a missing type/data; Rust, like Python, reads them as `unknown` and {}"),
    ("ts-secrets-request-oauth-token-events", "TypeScript flattens the request into its handler's argument; Rust delivers the packet's fields"),
    ("ts-secrets-request-secret-events", "TypeScript flattens the request into its handler's argument; Rust delivers the packet's fields"),
    // Gaps in the spec format or choices that differ from one SDK.
    ("py-containers-list-images", "the server may send labels as [{key, value}]; the spec types them as a map only"),
    ("ts-containers-list-images", "the server may send labels as [{key, value}]; the spec types them as a map only"),
    ("py-containers-list-containers", "Python keeps unknown container keys (created_at); the typed struct drops them"),
    ("py-developer-error-reply-swallowed", "Python fires info/warning/error and forgets the reply; Rust reports the server's error"),
    ("ts-database-create-full-text-search-index", "TypeScript sends replace: false by default; Rust follows Python (null)"),
    ("ts-database-create-vector-index", "TypeScript sends replace: false by default; Rust follows Python (null)"),
    // Streams.
    ("py-storage-download-abnormal-close", "Python folds close status 1011 into its generic code 1002; Rust keeps it: Error::StreamClosed{1011, message}"),
    ("ts-storage-download-abnormal-close", "TypeScript takes an abnormal close as the end, then fails its size check without a code; Rust reports StreamClosed{1011}"),
    ("ts-database-create-table-open-error", "TypeScript never closes its request side after an `error` open reply (the stream leaks); Rust closes it as Python does"),
    ("ts-database-search-open-error", "TypeScript never closes its request side after an `error` open reply (the stream leaks); Rust closes it as Python does"),
    ("ts-database-merge", "TypeScript sends the float 8.0 as {type: int}; Rust keeps it a float, as Python does"),
    ("ts-database-merge-error-chunk", "TypeScript sends the float 8.0 as {type: int}; Rust keeps it a float, as Python does"),
    ("ts-developer-logs-error-chunk", "TypeScript throws a plain Error without the error chunk's code; Rust keeps code 1001"),
];

fn main() {
    let args = Arguments::from_args();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (dir, known): (&str, &'static [(&str, &str)]) = match meshagent_room::protocol::VERSION {
        "0.35.8" => ("cases", KNOWN_FAILURES_0_35_8),
        "0.56.0" => ("cases-0.56", known_0_56::KNOWN_FAILURES),
        other => panic!("no recorded cases for protocol {other}"),
    };
    println!(
        "protocol {}: replaying conformance/{dir}/",
        meshagent_room::protocol::VERSION
    );
    let suites = replay::load_suites(&root.join(dir)).unwrap_or_else(|e| panic!("{e}"));
    replay::check_known_failures(&suites, known).unwrap_or_else(|e| panic!("{e}"));
    let trials = suites.iter().flat_map(|s| s.trials(known)).collect();
    let conclusion = libtest_mimic::run(&args, trials);
    if !args.list {
        let cases: Vec<Case> = suites.iter().flat_map(|s| s.cases.clone()).collect();
        let methods = coverage::spec_methods(&root.join("../spec")).expect("spec/*.yaml loads");
        println!("{}", coverage::summary(&methods, &cases));
    }
    conclusion.exit();
}
