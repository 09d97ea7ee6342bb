//! `rehearse validate`: check scenario files, send nothing.

use std::path::PathBuf;

use crate::app::console;
use crate::app::error::{AppError, AppResult, Outcome};
use crate::scenario::{self, LoadModel, Overrides};

/// Validates every file; prints problems as `file:line:col`.
pub fn validate(files: &[PathBuf]) -> AppResult {
    let mut bad = 0;
    for file in files {
        match scenario::load(file, &Overrides::default()) {
            Ok(plan) => {
                let load = match plan.load.model {
                    LoadModel::Open { .. } => format!("open {}/s", plan.load.profile.peak()),
                    LoadModel::Closed { .. } => {
                        format!("closed {} users", plan.load.profile.peak())
                    }
                };
                console::out(&format!(
                    "ok: {} ({}: {} steps, {load} for {})\n",
                    file.display(),
                    plan.name,
                    plan.steps.len(),
                    humantime::format_duration(plan.load.profile.duration())
                ));
            }
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
    Ok(Outcome::Passed)
}
