//! Where a run came from: git commit and branch (flags, CI variables, then the working
//! directory), and a fingerprint of the load-generating host.

use std::process::Command;

use sha2::{Digest, Sha256};

use crate::model::{Git, Host};

/// Commit and branch: explicit flags win, then CI variables, then `git` in the working directory.
pub fn git(commit: Option<String>, branch: Option<String>) -> Option<Git> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let commit = commit
        .or_else(|| var("GITHUB_SHA"))
        .or_else(|| var("CI_COMMIT_SHA"))
        .or_else(|| git_output(&["rev-parse", "HEAD"]));
    let branch = branch
        .or_else(|| var("GITHUB_HEAD_REF"))
        .or_else(|| var("GITHUB_REF_NAME"))
        .or_else(|| var("CI_COMMIT_REF_NAME"))
        .or_else(|| git_output(&["rev-parse", "--abbrev-ref", "HEAD"]).filter(|b| b != "HEAD"));
    let dirty =
        git_output(&["status", "--porcelain", "--untracked-files=no"]).map(|s| !s.is_empty());
    if commit.is_none() && branch.is_none() {
        return None;
    }
    Some(Git {
        commit,
        branch,
        dirty,
    })
}

fn git_output(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The machine generating load.
pub fn host() -> Host {
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown".into());
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let cpu_model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_default();
    // The kind of machine, not the machine: CI runners of one kind get a new host name per
    // job and are as comparable as one machine is with itself from run to run.
    let mut hasher = Sha256::new();
    for part in [
        std::env::consts::OS,
        std::env::consts::ARCH,
        &cpus.to_string(),
        &cpu_model,
    ] {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    let fingerprint = hasher
        .finalize()
        .iter()
        .take(6)
        .map(|b| format!("{b:02x}"))
        .collect();
    Host {
        hostname,
        os: std::env::consts::OS.into(),
        arch: std::env::consts::ARCH.into(),
        cpus,
        fingerprint,
    }
}
