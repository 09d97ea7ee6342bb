//! `rehearse validate`: check scenario files, or a suite (a folder, several files, a suite
//! file), as `run` would read them; send nothing.

use std::path::PathBuf;

use crate::app::console;
use crate::app::error::{AppError, AppResult, Outcome};
use crate::scenario::suite::{self, Target};
use crate::scenario::{self, LoadModel, Overrides, Plan};

/// Validates every file; prints problems as `file:line:col`. A folder or a suite file is
/// read as the suite `run` would run, with its defaults and overrides applied.
pub fn validate(paths: &[PathBuf]) -> AppResult {
    let plain = paths
        .iter()
        .all(|p| p.is_file() && !suite::is_suite_file(p) && !crate::scenario::mix::is_mix_file(p));
    if plain {
        files(paths)?;
        if paths.len() < 2 {
            return Ok(Outcome::Passed);
        }
    }
    // What only the suite as a whole can get wrong (two scenarios with one name, a suite
    // file's overrides) is checked on the suite.
    match suite::load(paths, &Overrides::default()) {
        Ok(Target::Scenario(_)) => Ok(Outcome::Passed),
        Ok(Target::Mix(mix)) => {
            for m in &mix.members {
                console::out(&ok_line(m.plan.source.display().to_string(), &m.plan));
            }
            console::out(&format!("ok: mix `{}`: {}\n", mix.name, mix.describe()));
            Ok(Outcome::Passed)
        }
        Ok(Target::Suite(s)) => {
            if !plain {
                for m in &s.members {
                    console::out(&ok_line(m.plan.source.display().to_string(), &m.plan));
                }
            }
            let skipped = if s.skipped.is_empty() {
                String::new()
            } else {
                format!(", skipping {}", s.skipped.join(", "))
            };
            console::out(&format!(
                "ok: suite `{}`: {} scenarios{skipped}\n",
                s.name,
                s.members.len()
            ));
            Ok(Outcome::Passed)
        }
        Err(e) => {
            console::note(&e.to_string());
            let mut at: Vec<&std::path::Path> = e.0.iter().map(|d| d.file.as_path()).collect();
            at.sort();
            at.dedup();
            Err(AppError::invalid(anyhow::anyhow!(
                "the suite has errors in {} file{}",
                at.len(),
                if at.len() == 1 { "" } else { "s" }
            )))
        }
    }
}

/// Each file on its own, every file checked whatever the others hold.
fn files(files: &[PathBuf]) -> Result<(), AppError> {
    let mut bad = 0;
    for file in files {
        match scenario::load(file, &Overrides::default()) {
            Ok(plan) => console::out(&ok_line(file.display().to_string(), &plan)),
            Err(e) => {
                bad += 1;
                console::note(&e.to_string());
            }
        }
    }
    if bad > 0 {
        return Err(AppError::invalid(anyhow::anyhow!(
            "{bad} of {} scenario files have errors",
            files.len()
        )));
    }
    Ok(())
}

fn ok_line(file: String, plan: &Plan) -> String {
    let load = match plan.load.model {
        LoadModel::Open { .. } if plan.load.arrivals == crate::scenario::Arrivals::Poisson => {
            format!("open {}/s, Poisson arrivals", plan.load.profile.peak())
        }
        LoadModel::Open { .. } => format!("open {}/s", plan.load.profile.peak()),
        LoadModel::Closed { .. } => format!("closed {} users", plan.load.profile.peak()),
    };
    format!(
        "ok: {file} ({}: {} steps, {load} for {})\n",
        plan.name,
        plan.steps.len(),
        humantime::format_duration(plan.load.profile.duration())
    )
}
