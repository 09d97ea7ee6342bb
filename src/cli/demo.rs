//! `rehearse demo`: the sandbox in-process and every shipped scenario against it, briefly.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use super::pipeline::{RunSettings, default_out_dir, execute};
use super::progress::Mode;
use super::run::verdict;
use super::{DemoArgs, Outcome, provenance};
use crate::report::console;
use crate::sandbox::{self, SandboxConfig};
use crate::scenario::{self, Overrides};

/// The shipped scenarios, built in so `demo` works from any directory.
const BUILT_IN: &[(&str, &str)] = &[
    (
        "pay-invoice.toml",
        include_str!("../../scenarios/pay-invoice.toml"),
    ),
    (
        "browse-invoices.toml",
        include_str!("../../scenarios/browse-invoices.toml"),
    ),
    (
        "signup-add-card.toml",
        include_str!("../../scenarios/signup-add-card.toml"),
    ),
    (
        "data/customers.csv",
        include_str!("../../scenarios/data/customers.csv"),
    ),
];

/// Runs the command.
pub async fn demo(args: DemoArgs) -> anyhow::Result<Outcome> {
    let out = args.out.clone().unwrap_or_else(|| default_out_dir("demo"));
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create '{}'", out.display()))?;
    let dir = match &args.scenarios {
        Some(d) => d.clone(),
        None if Path::new("scenarios").is_dir() => PathBuf::from("scenarios"),
        None => unpack_built_in(&out.join("scenarios"))?,
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| format!("cannot read the scenario directory '{}'", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    if files.is_empty() {
        anyhow::bail!("no scenario files (*.toml) in '{}'", dir.display());
    }

    let server = sandbox::start(
        SandboxConfig::default(),
        SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
    )
    .await
    .context("cannot start the sandbox")?;
    eprintln!(
        "sandbox on {}; running {} scenarios for {} each",
        server.url(),
        files.len(),
        humantime::format_duration(args.duration)
    );
    let mut outcome = Outcome::Success;
    for file in &files {
        let overrides = Overrides {
            target: Some(server.url()),
            duration: Some(args.duration),
            warmup: Some(args.warmup),
            ..Overrides::default()
        };
        let plan = match scenario::load(file, &overrides) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("{e}");
                outcome = Outcome::Invalid;
                continue;
            }
        };
        let settings = RunSettings {
            out_dir: out.join(&plan.name),
            labels: [("source".to_string(), "demo".to_string())].into(),
            git: provenance::git(None, None),
            seed: 1,
            progress: Mode::detect(args.quiet),
            store: (!args.no_store).then(|| args.store.store.clone()),
        };
        let (result, path) = execute(plan, &settings).await?;
        super::print_out("\n");
        super::print_out(&console::summary(&result));
        super::print_out(&format!("results: {}\n", path.display()));
        if verdict(&result) != Outcome::Success && outcome == Outcome::Success {
            outcome = Outcome::RunFailed;
        }
    }
    server.stop().await;
    super::print_out(&format!("\nall results under {}\n", out.display()));
    Ok(outcome)
}

fn unpack_built_in(dir: &Path) -> anyhow::Result<PathBuf> {
    for (name, text) in BUILT_IN {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, text)
            .with_context(|| format!("cannot write '{}'", path.display()))?;
    }
    Ok(dir.to_path_buf())
}
