//! `rehearse demo`: the sandbox in-process and every shipped scenario against it, briefly.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, anyhow};

use crate::app::args::DemoArgs;
use crate::app::console;
use crate::app::error::{AppError, AppResult, Classify as _, Outcome};
use crate::app::pipeline::{self, Placement};
use crate::app::progress::Mode;
use crate::app::provenance;
use crate::app::publish::{self, ReportRequest};
use crate::app::select::Resolver;
use crate::app::settings::{Publish, default_out_dir};
use crate::model::LABEL_SOURCE;
use crate::report::console as text;
use crate::runner::Provenance;
use crate::sandbox::{self, SandboxConfig};
use crate::scenario::{self, Overrides};

/// The shipped scenarios, built in so `demo` works from any directory.
const BUILT_IN: &[(&str, &str)] = &[
    (
        "pay-invoice.toml",
        include_str!("../../../scenarios/pay-invoice.toml"),
    ),
    (
        "browse-invoices.toml",
        include_str!("../../../scenarios/browse-invoices.toml"),
    ),
    (
        "signup-add-card.toml",
        include_str!("../../../scenarios/signup-add-card.toml"),
    ),
    (
        "data/customers.csv",
        include_str!("../../../scenarios/data/customers.csv"),
    ),
];

/// Runs the command.
pub async fn demo(args: DemoArgs) -> AppResult {
    let out = args.out.clone().unwrap_or_else(|| default_out_dir("demo"));
    std::fs::create_dir_all(&out)
        .with_context(|| format!("cannot create '{}'", out.display()))
        .invalid()?;
    let dir = match &args.scenarios {
        Some(d) => d.clone(),
        None if Path::new("scenarios").is_dir() => PathBuf::from("scenarios"),
        None => unpack_built_in(&out.join("scenarios")).invalid()?,
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| format!("cannot read the scenario directory '{}'", dir.display()))
        .invalid()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        // Suite and mix files run scenarios already among these.
        .filter(|p| {
            !crate::scenario::suite::is_suite_file(p) && !crate::scenario::mix::is_mix_file(p)
        })
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(AppError::invalid(anyhow!(
            "no scenario files (*.toml) in '{}'",
            dir.display()
        )));
    }
    // The sandbox listens on loopback; an allowlist that excludes it refuses the demo too.
    crate::app::allow::check("127.0.0.1", &args.allow.allowed_hosts)
        .map_err(|e| AppError::invalid(anyhow!(e)))?;
    let store_url = (!args.no_store).then(|| args.store.url());
    let store = pipeline::open_for_runs(store_url.as_deref()).await?;

    let server = sandbox::start(
        SandboxConfig::default(),
        SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
    )
    .await
    .context("cannot start the sandbox")
    .invalid()?;
    console::note(&format!(
        "sandbox on {}; running {} scenarios for {} each",
        server.url(),
        files.len(),
        humantime::format_duration(args.duration)
    ));
    let mut resolver = match &store {
        Some(s) => Resolver::with_store(&args.store.url(), s.clone()),
        None => Resolver::new(&args.store.url()),
    };
    let mut outcome = Ok(Outcome::Passed);
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
                console::note(&e.to_string());
                outcome = Err(AppError::Scenario(e));
                continue;
            }
        };
        // The target is the sandbox, but a scenario's databases are its own: they meet the
        // allowlist like any run's.
        if let Err(e) = crate::app::allow::check_plan(&plan, &args.allow.allowed_hosts) {
            console::note(&format!("{}: {e}", file.display()));
            outcome = Err(AppError::invalid(anyhow!(e)));
            continue;
        }
        let place = Placement {
            out_dir: out.join(&plan.name),
            provenance: Provenance {
                labels: [(LABEL_SOURCE.to_string(), "demo".to_string())].into(),
                git: provenance::git(None, None),
                host: Some(provenance::host()),
                group: None,
            },
            seed: 1,
            progress: Mode::detect(args.quiet),
            shard: Default::default(),
            start_at: None,
        };
        let stored = store.as_ref().zip(store_url.as_deref());
        let (result, path) = pipeline::execute(&plan, &place, stored).await?;
        console::out("\n");
        console::out(&text::summary(&result));
        console::out(&format!("results: {}\n", path.display()));
        if let Some(report) = &args.report {
            publish::publish(
                &mut resolver,
                ReportRequest {
                    candidates: vec![result.clone()],
                    dirs: vec![Some(place.out_dir.clone())],
                    comparison: None,
                    baseline: Vec::new(),
                    publish: Publish {
                        report: Some(report.join(&plan.name)),
                        link: None,
                    },
                },
            )
            .await?;
        }
        if let Some(failure) = pipeline::run_failure(&result)
            && outcome.is_ok()
        {
            outcome = Err(failure);
        }
    }
    resolver.close().await;
    server.stop().await;
    console::out(&format!("\nall results under {}\n", out.display()));
    outcome
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
