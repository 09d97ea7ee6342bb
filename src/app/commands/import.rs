//! `rehearse import har`: a recorded browser session as a scenario file, checked before it
//! is written; what needs a person's eye is printed.

use anyhow::{Context as _, anyhow};

use crate::app::args::ImportHarArgs;
use crate::app::console;
use crate::app::error::{AppError, AppResult, Classify as _, Outcome};
use crate::import::har;
use crate::scenario::{self, Overrides};

/// The largest recording read: a long session with bodies is tens of MiB.
const MAX_HAR: u64 = 256 * 1024 * 1024;

/// Imports a HAR file into a scenario file.
pub fn har(args: ImportHarArgs) -> AppResult {
    if args.out.exists() && !args.force {
        return Err(AppError::invalid(anyhow!(
            "'{}' exists; pass --force to replace it",
            args.out.display()
        )));
    }
    let bytes = crate::scenario::limits::read_capped(&args.file, MAX_HAR)
        .map_err(|e| AppError::invalid(anyhow!("{}: {e}", args.file.display())))?;
    let name = args.name.clone().unwrap_or_else(|| {
        args.out
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "imported".into())
    });
    let options = har::Options {
        name,
        include_hosts: args.include_host.clone(),
        exclude_hosts: args.exclude_host.clone(),
        source: args
            .file
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default(),
    };
    let imported = har::import(&bytes, &options)
        .map_err(|e| AppError::invalid(anyhow!("{}: {e}", args.file.display())))?;
    // What is written validates as written; the credentials it reads are only named.
    let env = |name: &str| {
        name.starts_with("HAR_")
            .then(|| "set-at-run-time".to_string())
    };
    scenario::parse(
        &scenario::SourceFile::new(&args.out, imported.toml.clone()),
        &Overrides::default(),
        &env,
    )
    .map_err(|e| {
        AppError::invalid(anyhow!(
            "the scenario made from {} does not validate (please report this): {e}",
            args.file.display()
        ))
    })?;
    if let Some(dir) = args.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create '{}'", dir.display()))
            .invalid()?;
    }
    std::fs::write(&args.out, &imported.toml)
        .with_context(|| format!("cannot write '{}'", args.out.display()))
        .invalid()?;
    console::out(&format!(
        "wrote {}: {} steps from {} recorded requests\n",
        args.out.display(),
        imported.steps,
        imported.recorded
    ));
    for (why, n) in &imported.dropped {
        console::out(&format!("  left out {n}: {why}\n"));
    }
    for w in &imported.warnings {
        console::warn(w);
    }
    if !imported.env.is_empty() {
        console::note(&format!(
            "credentials from the recording are not in the file; set {} before running it",
            imported.env.join(", ")
        ));
    }
    Ok(Outcome::Passed)
}
