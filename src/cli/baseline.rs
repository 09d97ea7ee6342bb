//! Naming runs on the command line: `branch:NAME`, `latest`, a run id (or unique prefix),
//! or a results.json path, resolved against the store (opened only when needed).

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

use super::runs::read_for_import;
use crate::model::RunResult;
use crate::store::{RunFilter, Store, redact};

/// How a side of a comparison was named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Spec {
    /// The newest complete runs of a branch.
    Branch(String),
    /// The newest complete run of the scenario.
    Latest,
    /// A results.json file (or a folder holding one).
    File(PathBuf),
    /// A stored run id or unique prefix.
    Id(String),
}

impl Spec {
    /// Reads a spec from a command-line word.
    pub fn parse(text: &str) -> Spec {
        if let Some(branch) = text.strip_prefix("branch:") {
            return Spec::Branch(branch.to_string());
        }
        if text == "latest" {
            return Spec::Latest;
        }
        let path = Path::new(text);
        if path.exists() || text.ends_with(".json") {
            return Spec::File(path.to_path_buf());
        }
        Spec::Id(text.to_string())
    }

    /// Whether it names runs without knowing the scenario.
    pub fn is_concrete(&self) -> bool {
        matches!(self, Spec::File(_) | Spec::Id(_))
    }
}

/// Resolves specs, opening the store on first need.
pub struct Resolver {
    url: String,
    store: Option<Store>,
}

impl Resolver {
    /// A resolver over the store at `url`.
    pub fn new(url: &str) -> Self {
        Self {
            url: url.to_string(),
            store: None,
        }
    }

    async fn store(&mut self) -> anyhow::Result<&Store> {
        if self.store.is_none() {
            let store = Store::open(&self.url)
                .await
                .with_context(|| format!("store {}", redact(&self.url)))?;
            self.store = Some(store);
        }
        Ok(self.store.as_ref().expect("opened above"))
    }

    /// Whether the store exists (an SQLite file that was never written is not opened, so a
    /// comparison of two files creates nothing).
    fn store_exists(&self) -> bool {
        match crate::store::sqlite_path(&self.url) {
            Some(path) => path.is_file(),
            None => true,
        }
    }

    /// The runs a spec names: up to `n` for a branch, one otherwise; never those in `exclude`.
    pub async fn runs(
        &mut self,
        spec: &Spec,
        scenario: Option<&str>,
        n: usize,
        exclude: &[String],
    ) -> anyhow::Result<Vec<RunResult>> {
        match spec {
            Spec::File(path) => {
                let file = if path.is_dir() {
                    path.join("results.json")
                } else {
                    path.clone()
                };
                Ok(vec![read_for_import(&file)?.0])
            }
            Spec::Id(id) => {
                let store = self.store().await?;
                let id = store.resolve(id).await?;
                Ok(vec![store.load(&id).await?])
            }
            Spec::Latest | Spec::Branch(_) => {
                let Some(scenario) = scenario else {
                    bail!(
                        "cannot tell which scenario `{}` means: name a run or a file on the other side, or pass --scenario",
                        describe(spec)
                    );
                };
                let branch = match spec {
                    Spec::Branch(b) => Some(b.clone()),
                    _ => None,
                };
                let want = if branch.is_some() { n } else { 1 };
                let url = redact(&self.url);
                let store = self.store().await?;
                // A/B-session and demo runs are skipped (made against other targets or a
                // sandbox, they are not this branch's history unless named by id), so page
                // until enough plain runs are found.
                const PAGE: i64 = 200;
                let mut ids = Vec::new();
                let mut offset = 0;
                while ids.len() < want {
                    let page = store
                        .list(&RunFilter {
                            scenario: Some(scenario.to_string()),
                            branch: branch.clone(),
                            limit: PAGE,
                            offset,
                            include_incomplete: false,
                        })
                        .await?;
                    let last_page = (page.len() as i64) < PAGE;
                    offset += PAGE;
                    // A run stored between two pages shifts the next one: never take one twice.
                    for r in page {
                        let plain = !r.labels.contains_key("ab.session")
                            && r.labels.get("source").map(String::as_str) != Some("demo");
                        if plain && !exclude.contains(&r.id) && !ids.contains(&r.id) {
                            ids.push(r.id);
                        }
                    }
                    if last_page {
                        break;
                    }
                }
                ids.truncate(want);
                if ids.is_empty() {
                    bail!(NoRuns(format!(
                        "no complete runs of `{scenario}` match `{}` in the store {url} (A/B-session and demo runs are not counted; name one by id to use it)",
                        describe(spec)
                    )));
                }
                let mut runs = Vec::new();
                for id in ids {
                    runs.push(store.load(&id).await?);
                }
                Ok(runs)
            }
        }
    }

    /// Earlier complete runs of the baseline's branch to learn the noise from, when the
    /// baseline is a single run; empty when nothing is known.
    pub async fn history_for(
        &mut self,
        baseline: &RunResult,
        n: usize,
        exclude: &[String],
    ) -> Vec<RunResult> {
        let Some(branch) = baseline.git.as_ref().and_then(|g| g.branch.clone()) else {
            return Vec::new();
        };
        if !self.store_exists() {
            return Vec::new();
        }
        let spec = Spec::Branch(branch);
        self.runs(&spec, Some(&baseline.scenario), n, exclude)
            .await
            .unwrap_or_default()
    }

    /// The store, if it exists (never created just to look).
    pub async fn existing_store(&mut self) -> Option<&Store> {
        if !self.store_exists() {
            return None;
        }
        self.store().await.ok()
    }

    /// A run's interval log: beside its results file, else from the store.
    pub async fn interval_log(&mut self, run: &RunResult, dir: Option<&Path>) -> Option<Vec<u8>> {
        let file = run.intervals.as_ref()?.file.clone();
        if let Some(bytes) = dir.and_then(|d| std::fs::read(d.join(&file)).ok()) {
            return Some(bytes);
        }
        self.existing_store()
            .await?
            .interval_log(&run.run_id)
            .await
            .ok()
            .flatten()
    }

    /// Closes the store if it was opened.
    pub async fn close(self) {
        if let Some(s) = self.store {
            s.close().await;
        }
    }
}

/// A branch (or `latest`) with no runs yet: the first run of a branch has nothing to compare with.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct NoRuns(pub String);

/// The spec as the user wrote it.
pub fn describe(spec: &Spec) -> String {
    match spec {
        Spec::Branch(b) => format!("branch:{b}"),
        Spec::Latest => "latest".into(),
        Spec::File(p) => p.display().to_string(),
        Spec::Id(i) => i.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse() {
        assert_eq!(Spec::parse("branch:main"), Spec::Branch("main".into()));
        assert_eq!(Spec::parse("latest"), Spec::Latest);
        assert_eq!(
            Spec::parse("reports/x/results.json"),
            Spec::File("reports/x/results.json".into())
        );
        assert_eq!(Spec::parse("01a224cb"), Spec::Id("01a224cb".into()));
        assert_eq!(Spec::parse("Cargo.toml"), Spec::File("Cargo.toml".into()));
    }
}
