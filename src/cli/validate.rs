//! `rehearse validate`: check scenario files, send nothing.

use std::path::PathBuf;

use super::Outcome;
use crate::scenario::{self, LoadModel, Overrides};

/// Validates every file; prints problems as `file:line:col` and returns Invalid if any.
pub fn validate(files: &[PathBuf]) -> Outcome {
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
                super::print_out(&format!(
                    "ok: {} ({}: {} steps, {load} for {})\n",
                    file.display(),
                    plan.name,
                    plan.steps.len(),
                    humantime::format_duration(plan.load.profile.duration())
                ));
            }
            Err(errors) => {
                bad += 1;
                eprintln!("{errors}");
            }
        }
    }
    if bad > 0 {
        eprintln!("{bad} of {} scenario files have errors", files.len());
        Outcome::Invalid
    } else {
        Outcome::Success
    }
}
