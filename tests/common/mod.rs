//! Helpers for end-to-end tests: an in-process sandbox, the real binary, scratch scenarios.
#![allow(dead_code)]

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use rehearse::model::RunResult;
use rehearse::sandbox::{self, Sandbox, SandboxConfig};

pub mod dashboard;
pub mod servers;
pub mod simulated;
pub mod stores;

/// A sandbox running on its own runtime for the duration of a test.
pub struct Target {
    pub url: String,
    sandbox: Option<Sandbox>,
    runtime: tokio::runtime::Runtime,
}

impl Drop for Target {
    fn drop(&mut self) {
        if let Some(s) = self.sandbox.take() {
            self.runtime.block_on(s.stop());
        }
    }
}

/// Starts a sandbox on an ephemeral loopback port.
pub fn sandbox(config: SandboxConfig) -> Target {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let s = runtime
        .block_on(sandbox::start(
            config,
            SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        ))
        .unwrap();
    Target {
        url: s.url(),
        sandbox: Some(s),
        runtime,
    }
}

/// A fast sandbox: latencies a twentieth of the realistic ones.
pub fn fast_sandbox() -> Target {
    sandbox(SandboxConfig {
        latency_scale: 0.05,
        ..SandboxConfig::default()
    })
}

/// The rehearse binary, storing into a scratch store (never the repository's `.rehearse/`).
pub fn rehearse() -> assert_cmd::Command {
    let mut cmd = assert_cmd::cargo::cargo_bin_cmd!("rehearse");
    cmd.env("REHEARSE_STORE", scratch_store());
    cmd
}

/// A store shared by the tests of one binary that do not look into it.
pub fn scratch_store() -> String {
    format!("sqlite://{}/rehearse-tests.db", env!("CARGO_TARGET_TMPDIR"))
}

/// Writes a file into `dir`.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&path, text).unwrap();
    path
}

/// Reads a run's results.json.
pub fn results(dir: &Path) -> RunResult {
    RunResult::read(&dir.join("results.json")).unwrap()
}

/// The repository's shipped scenario directory.
pub fn scenarios() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

/// A step by name.
pub fn step<'a>(run: &'a RunResult, name: &str) -> &'a rehearse::model::StepResult {
    run.steps
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no step {name}"))
}

/// Checks a results.json document against schema/results.schema.json.
pub fn schema_check(instance: &serde_json::Value) -> Result<(), String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/results.schema.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    compiler
        .add_resource("results.schema.json", schema)
        .unwrap();
    let index = compiler
        .compile("results.schema.json", &mut schemas)
        .unwrap();
    schemas
        .validate(instance, index)
        .map_err(|e| format!("{e:#}"))
}

/// The comparison.json a command wrote into `dir`.
pub fn comparison(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("comparison.json")).unwrap()).unwrap()
}

/// A step's verdict in a comparison.json.
pub fn verdict(c: &serde_json::Value, name: &str) -> String {
    c["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no step {name}: {c}"))["verdict"]
        .as_str()
        .unwrap()
        .to_string()
}
