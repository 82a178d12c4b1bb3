//! `cargo run -p codegen [-- --check]`: regenerate (or check) the SDK from the spec.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;

/// Generates the typed Rust SDK from the protocol spec.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// Do not write; fail, naming the stale files, when the checked-in output differs.
    #[arg(long)]
    check: bool,
    /// Repository root (defaults to the workspace this binary was built in).
    #[arg(long)]
    root: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Compare the spec, version by version, with the inventory of the official SDKs
    /// (codegen/inventory-<version>.yaml); fails while anything not deferred is missing.
    Coverage,
    /// Report what changed between two specs, each change classified as breaking or not
    /// for code using the generated crate (rules: `codegen::diff::rules`).
    #[command(
        after_help = "Exit status:\n  0  no breaking change (or --allow-breaking)\n  1  breaking changes found\n  2  a spec does not load, or bad arguments"
    )]
    Diff(DiffArgs),
}

/// Arguments of `codegen diff`.
#[derive(clap::Args)]
struct DiffArgs {
    /// The old spec directory (default: the repository's `spec/`).
    old: Option<PathBuf>,
    /// The new spec directory (default: the old one, to compare two of its versions).
    new: Option<PathBuf>,
    /// The old spec's protocol version (default: its default version).
    #[arg(long)]
    from_version: Option<String>,
    /// The new spec's protocol version (default: its default version).
    #[arg(long)]
    to_version: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
    format: DiffFormat,
    /// Exit 0 even when there are breaking changes.
    #[arg(long)]
    allow_breaking: bool,
}

/// Output formats of `codegen diff`.
#[derive(Clone, Copy, clap::ValueEnum)]
enum DiffFormat {
    /// Readable text grouped by toolkit.
    Text,
    /// JSON in a stable order.
    Json,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let root = args
        .root
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".."));
    let result = match args.command {
        Some(Command::Diff(diff_args)) => return diff(&root, &diff_args),
        Some(Command::Coverage) => coverage(&root),
        None => run(&root, args.check),
    };
    match result {
        Ok(msg) => {
            println!("{msg}");
            ExitCode::SUCCESS
        }
        Err(msg) => {
            eprintln!("{msg}");
            ExitCode::FAILURE
        }
    }
}

/// `codegen diff`: exit 0, 1 (breaking) or 2 (a spec does not load); see its help.
fn diff(root: &Path, args: &DiffArgs) -> ExitCode {
    let load = |dir: &Path, version: Option<&str>| {
        codegen::load_api_version(dir, &dir.display().to_string(), version)
            .map_err(|d| spec_report(&d))
    };
    let old_dir = args.old.clone().unwrap_or_else(|| root.join("spec"));
    let new_dir = args.new.clone().unwrap_or_else(|| old_dir.clone());
    let (old, new) = match (
        load(&old_dir, args.from_version.as_deref()),
        load(&new_dir, args.to_version.as_deref()),
    ) {
        (Ok(old), Ok(new)) => (old, new),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let report = codegen::diff::diff(&old, &new);
    match args.format {
        DiffFormat::Text => print!("{}", codegen::diff::render_text(&report)),
        DiffFormat::Json => print!("{}", codegen::diff::render_json(&report)),
    }
    if report.is_breaking() && !args.allow_breaking {
        eprintln!(
            "{} breaking change(s); pass --allow-breaking to accept them",
            report.breaking_count()
        );
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn coverage(root: &Path) -> Result<String, String> {
    let spec = root.join("spec");
    let mut report = String::new();
    let mut failing = Vec::new();
    for version in codegen::spec_versions(&spec, "spec") {
        let api = codegen::load_api_version(&spec, "spec", Some(&version))
            .map_err(|d| spec_report(&d))?;
        // `inventory-0.35.8.yaml`, or `inventory-0.56.yaml` for a `.0` release.
        let short = version.strip_suffix(".0").unwrap_or(&version);
        let path = [version.as_str(), short]
            .iter()
            .map(|v| root.join(format!("codegen/inventory-{v}.yaml")))
            .find(|p| p.exists())
            .unwrap_or_else(|| root.join(format!("codegen/inventory-{version}.yaml")));
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let inventory: codegen::coverage::Inventory = codegen::spec::load::parse_yaml(&text)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let (table, complete) =
            codegen::coverage::render(&codegen::coverage::compare(&api, &inventory));
        report.push_str(&format!(
            "== protocol {version} ({}) ==\n{table}",
            display(root, &path)
        ));
        let deferred: Vec<String> = codegen::coverage::DEFERRED
            .iter()
            .filter(|(v, _, _)| *v == version)
            .map(|(_, t, why)| format!("{t} ({why})"))
            .collect();
        if !deferred.is_empty() {
            report.push_str(&format!(
                "deferred, reported but not counted: {}\n",
                deferred.join(", ")
            ));
        }
        report.push('\n');
        if !complete {
            failing.push(version);
        }
    }
    if failing.is_empty() {
        Ok(report)
    } else {
        Err(format!(
            "{report}the spec does not cover the inventory of {} yet",
            failing.join(", ")
        ))
    }
}

fn run(root: &Path, check: bool) -> Result<String, String> {
    let spec = root.join("spec");
    let versions = codegen::spec_versions(&spec, "spec");
    let mut apis = Vec::new();
    for version in &versions {
        apis.push(
            codegen::load_api_version(&spec, "spec", Some(version)).map_err(|d| spec_report(&d))?,
        );
    }
    if apis.is_empty() {
        // No versions could be read: report the spec's problems.
        codegen::load_api(&spec, "spec").map_err(|d| spec_report(&d))?;
        return Err("the spec names no protocol version".into());
    }
    check_features(root, &apis)?;
    let out_dir = root.join("generated-sdk/src/generated");
    let mut outputs: Vec<(PathBuf, String)> = Vec::new();
    for api in &apis {
        let dir = out_dir.join(codegen::emit::version_dir(&api.version));
        outputs.extend(
            codegen::emit::generate(api)?
                .into_iter()
                .map(|f| (dir.join(&f.path), f.contents)),
        );
    }
    outputs.push((root.join("spec/spec.schema.json"), codegen::spec_schema()));

    let orphaned = orphans(&out_dir, &outputs);
    let stale: Vec<String> = outputs
        .iter()
        .filter(|(path, text)| std::fs::read_to_string(path).ok().as_deref() != Some(text))
        .map(|(path, _)| display(root, path))
        .chain(
            orphaned
                .iter()
                .map(|p| format!("{} (orphan)", display(root, p))),
        )
        .collect();
    if check {
        return if stale.is_empty() {
            Ok(format!(
                "generated code is up to date ({} files)",
                outputs.len()
            ))
        } else {
            Err(format!(
                "stale generated files (run `cargo run -p codegen`):\n  {}",
                stale.join("\n  ")
            ))
        };
    }
    // Unchanged files are left alone, so that cargo does not rebuild for nothing.
    for (path, text) in outputs
        .iter()
        .filter(|(path, text)| std::fs::read_to_string(path).ok().as_deref() != Some(text))
    {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    for path in orphaned {
        std::fs::remove_file(&path)
            .map_err(|e| format!("cannot remove {}: {e}", path.display()))?;
        if let Some(parent) = path.parent() {
            // Only removes the folder once it is empty.
            let _ = std::fs::remove_dir(parent);
        }
    }
    let mut summary = Vec::new();
    for api in &apis {
        let without = codegen::tools_without_method(api);
        let note = if without.is_empty() {
            String::new()
        } else {
            format!(
                "\n  note: streaming tools whose flow shape has no engine get no generated method: {}",
                without.join(", ")
            )
        };
        summary.push(format!(
            "protocol {}{}: {} toolkits{note}",
            api.version,
            if api.version == api.default_version {
                " (default)"
            } else {
                ""
            },
            api.toolkits.len()
        ));
    }
    Ok(format!(
        "generated {} files ({} changed)\n{}",
        outputs.len(),
        stale.len(),
        summary.join("\n")
    ))
}

/// Files below the generated folder (any depth) that the spec no longer produces.
fn orphans(out_dir: &Path, outputs: &[(PathBuf, String)]) -> Vec<PathBuf> {
    fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for path in entries.filter_map(Result::ok).map(|e| e.path()) {
            if path.is_dir() {
                walk(&path, found);
            } else {
                found.push(path);
            }
        }
    }
    let mut found = Vec::new();
    walk(out_dir, &mut found);
    found.retain(|p| !outputs.iter().any(|(o, _)| o == p));
    found.sort();
    found
}

/// Every toolkit (of any version) needs a cargo feature of its name in the generated
/// crate, and every version its `protocol-*` feature.
fn check_features(root: &Path, apis: &[codegen::ir::Api]) -> Result<(), String> {
    let manifest = root.join("generated-sdk/Cargo.toml");
    let text = std::fs::read_to_string(&manifest)
        .map_err(|e| format!("cannot read {}: {e}", manifest.display()))?;
    let has = |name: &str| {
        text.lines()
            .any(|l| l.trim_start().starts_with(&format!("{name} = [")))
    };
    let mut missing: Vec<String> = Vec::new();
    for api in apis {
        for name in api
            .toolkits
            .iter()
            .map(|t| t.name.clone())
            .chain([codegen::emit::version_feature(&api.version)])
        {
            if !has(&name) && !missing.contains(&name) {
                missing.push(name);
            }
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "generated-sdk/Cargo.toml has no cargo feature for: {}\n  = hint: add `{} = []` under [features] (toolkits also to `default`)",
            missing.join(", "),
            missing.join(" = []`, `")
        ))
    }
}

/// The spec's problems, in colour when they go to a terminal (and `NO_COLOR` is unset).
fn spec_report(diagnostics: &[codegen::Diagnostic]) -> String {
    use std::io::IsTerminal;
    let styled = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    codegen::diag::render_report(diagnostics, styled)
}

fn display(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}
