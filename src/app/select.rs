//! Naming runs on the command line: `branch:NAME`, `latest`, a run id (or unique prefix),
//! or a results.json path, resolved against the store. The store is opened only when a
//! spec needs it, read-only, and never created just to look.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, anyhow};

use crate::model::{GroupKind, MAX_INTERVAL_LOG, RunResult, read_capped};
use crate::store::{Access, Group, RunFilter, Store, StoreError, Which, redact};

/// How runs were named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Spec {
    /// The newest runs of a branch that can serve as a baseline.
    Branch(String),
    /// The newest run that can serve as a baseline (of the scenario, when known).
    Latest,
    /// A results.json file (or a folder holding one).
    File(PathBuf),
    /// A stored run id or unique prefix.
    Id(String),
    /// A suite run: `suite:ID`, `suite:latest` or `suite:branch:NAME`. It names runs of
    /// many scenarios, so it is read one scenario at a time.
    Suite(SuiteSpec),
}

/// How a suite run was named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SuiteSpec {
    /// By id or unique prefix.
    Id(String),
    /// The newest suite run.
    Latest,
    /// The newest suite run of a branch.
    Branch(String),
}

impl Spec {
    /// Reads a spec from a command-line word.
    pub fn parse(text: &str) -> Spec {
        if let Some(suite) = text.strip_prefix("suite:") {
            return Spec::Suite(match suite {
                "latest" => SuiteSpec::Latest,
                _ => match suite.strip_prefix("branch:") {
                    Some(b) => SuiteSpec::Branch(b.to_string()),
                    None => SuiteSpec::Id(suite.to_string()),
                },
            });
        }
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

    /// Whether it names particular runs without knowing the scenario.
    pub fn is_concrete(&self) -> bool {
        matches!(self, Spec::File(_) | Spec::Id(_))
    }

    /// The folder a results file was read from, where its interval log sits.
    pub fn source_dir(&self) -> Option<PathBuf> {
        match self {
            Spec::File(p) if p.is_dir() => Some(p.clone()),
            Spec::File(p) => p.parent().map(Path::to_path_buf),
            _ => None,
        }
    }
}

impl std::fmt::Display for Spec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Spec::Branch(b) => write!(f, "branch:{b}"),
            Spec::Latest => f.write_str("latest"),
            Spec::File(p) => write!(f, "{}", p.display()),
            Spec::Id(i) => f.write_str(i),
            Spec::Suite(SuiteSpec::Id(i)) => write!(f, "suite:{i}"),
            Spec::Suite(SuiteSpec::Latest) => f.write_str("suite:latest"),
            Spec::Suite(SuiteSpec::Branch(b)) => write!(f, "suite:branch:{b}"),
        }
    }
}

/// Why runs could not be selected.
#[derive(Debug, thiserror::Error)]
pub enum SelectError {
    /// Nothing matches yet (the first run of a branch has nothing to compare with).
    #[error("{0}")]
    NoRuns(String),
    /// The spec names something that is not there or cannot be read.
    #[error(transparent)]
    Invalid(anyhow::Error),
    /// A named run failed as a run: it cannot be compared as a baseline.
    #[error("{0}")]
    FailedRun(String),
}

impl From<StoreError> for SelectError {
    fn from(e: StoreError) -> Self {
        SelectError::Invalid(e.into())
    }
}

/// Resolves specs, opening the store on first need.
pub struct Resolver {
    url: String,
    store: Option<Store>,
    /// The suite run being judged, which `suite:…` baselines never name.
    candidate_suite: Option<String>,
}

/// Runs stored between two pages shift the next one; pages of this size keep lookups cheap.
const PAGE: i64 = 200;

impl Resolver {
    /// A resolver over the store at `url`, opened read-only when first needed.
    pub fn new(url: &str) -> Self {
        Self {
            url: url.to_string(),
            store: None,
            candidate_suite: None,
        }
    }

    /// A resolver over a store that is already open.
    pub fn with_store(url: &str, store: Store) -> Self {
        Self {
            url: url.to_string(),
            store: Some(store),
            candidate_suite: None,
        }
    }

    /// Names the suite run being judged, so no `suite:…` baseline resolves to it.
    pub fn judging_suite(&mut self, id: &str) {
        self.candidate_suite = Some(id.to_string());
    }

    /// The store's URL with any password hidden.
    pub fn shown_url(&self) -> String {
        redact(&self.url)
    }

    /// The store, opened read-only if not open yet.
    pub async fn store(&mut self) -> Result<&Store, StoreError> {
        if self.store.is_none() {
            self.store = Some(Store::open(&self.url, Access::Read).await?);
        }
        Ok(self.store.as_ref().expect("opened above"))
    }

    /// The store if it exists; `Ok(None)` when nothing was ever stored there.
    pub async fn existing_store(&mut self) -> Result<Option<&Store>, StoreError> {
        match self.store().await {
            Ok(_) => Ok(self.store.as_ref()),
            Err(StoreError::Missing { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The runs a spec names: up to `n` for a branch, one otherwise; never those in
    /// `exclude`. `scenario` narrows `branch:`/`latest`; without it `latest` is the newest
    /// run in the store. A failed run named by id or file is returned: the caller decides.
    pub async fn runs(
        &mut self,
        spec: &Spec,
        scenario: Option<&str>,
        n: usize,
        exclude: &[String],
    ) -> Result<Vec<RunResult>, SelectError> {
        match spec {
            Spec::File(path) => {
                let file = if path.is_dir() {
                    path.join("results.json")
                } else {
                    path.clone()
                };
                Ok(vec![
                    read_for_import(&file).map_err(SelectError::Invalid)?.0,
                ])
            }
            Spec::Id(id) => {
                let store = self.store().await?;
                let id = store.resolve(id).await?;
                Ok(vec![store.load(&id).await?])
            }
            Spec::Suite(suite) => {
                let Some(scenario) = scenario else {
                    return Err(SelectError::Invalid(anyhow!(
                        "`{spec}` names runs of every scenario of a suite: compare it with `rehearse compare BASELINE {spec}`"
                    )));
                };
                let url = self.shown_url();
                let not = self.candidate_suite.clone();
                let Some(store) = self.existing_store().await? else {
                    return Err(SelectError::Invalid(anyhow!(
                        "there is no store at `{url}`, so `{spec}` names no suite run"
                    )));
                };
                let group = find_suite(store, suite, not.as_deref()).await?;
                let mut runs = Vec::new();
                for id in store.group_runs(&group.id).await? {
                    if exclude.contains(&id) {
                        continue;
                    }
                    let run = store.load(&id).await?;
                    if run.scenario == scenario {
                        runs.push(run);
                    }
                }
                if runs.is_empty() {
                    return Err(SelectError::NoRuns(format!(
                        "the suite run {} has no runs of `{scenario}`",
                        group.id
                    )));
                }
                Ok(runs)
            }
            Spec::Branch(_) | Spec::Latest => {
                let branch = match spec {
                    Spec::Branch(b) => Some(b.clone()),
                    _ => None,
                };
                if branch.is_some() && scenario.is_none() {
                    // `branch:NAME` alone means the scenario of the branch's newest run.
                    let newest = self.newest(branch.as_deref()).await?;
                    return Box::pin(self.runs(spec, Some(&newest), n, exclude)).await;
                }
                let want = if branch.is_some() { n } else { 1 };
                let url = self.shown_url();
                let store = match self.existing_store().await? {
                    Some(s) => s,
                    None => {
                        return Err(SelectError::NoRuns(format!(
                            "there is no store at `{url}` yet, so `{spec}` names no run"
                        )));
                    }
                };
                let mut ids = Vec::new();
                let mut offset = 0;
                while ids.len() < want {
                    let page = store
                        .list(&RunFilter {
                            scenario: scenario.map(str::to_string),
                            branch: branch.clone(),
                            limit: PAGE,
                            offset,
                            which: Which::Baselines,
                            group: None,
                        })
                        .await?;
                    let last_page = (page.len() as i64) < PAGE;
                    offset += PAGE;
                    for r in page {
                        if !exclude.contains(&r.id) && !ids.contains(&r.id) {
                            ids.push(r.id);
                        }
                    }
                    if last_page {
                        break;
                    }
                }
                ids.truncate(want);
                if ids.is_empty() {
                    let of = scenario.map(|s| format!(" of `{s}`")).unwrap_or_default();
                    return Err(SelectError::NoRuns(format!(
                        "no runs{of} match `{spec}` in the store `{url}` (only complete runs that did not fail count; A/B rounds and demo runs are named by id)"
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

    /// The scenario of the newest baseline-worthy run (of a branch, if given).
    async fn newest(&mut self, branch: Option<&str>) -> Result<String, SelectError> {
        let url = self.shown_url();
        let Some(store) = self.existing_store().await? else {
            return Err(SelectError::NoRuns(format!(
                "there is no store at `{url}` yet"
            )));
        };
        let newest = store
            .list(&RunFilter {
                scenario: None,
                branch: branch.map(str::to_string),
                limit: 1,
                offset: 0,
                which: Which::Baselines,
                group: None,
            })
            .await?;
        newest
            .into_iter()
            .next()
            .map(|r| r.scenario)
            .ok_or_else(|| {
                SelectError::NoRuns(match branch {
                    Some(b) => format!("the store `{url}` has no runs of branch `{b}`"),
                    None => format!("the store `{url}` has no runs yet"),
                })
            })
    }

    /// Earlier runs of the baseline's branch to learn the noise from, when the baseline is a
    /// single run. `Ok(empty)` when nothing is known (no branch, no store, no runs).
    pub async fn history_for(
        &mut self,
        baseline: &RunResult,
        n: usize,
        exclude: &[String],
    ) -> Result<Vec<RunResult>, SelectError> {
        let Some(branch) = baseline.git.as_ref().and_then(|g| g.branch.clone()) else {
            return Ok(Vec::new());
        };
        if self.existing_store().await?.is_none() {
            return Ok(Vec::new());
        }
        let spec = Spec::Branch(branch);
        match self.runs(&spec, Some(&baseline.scenario), n, exclude).await {
            Err(SelectError::NoRuns(_)) => Ok(Vec::new()),
            other => other,
        }
    }

    /// A run's interval log: beside its results file, else from the store.
    pub async fn interval_log(
        &mut self,
        run: &RunResult,
        dir: Option<&Path>,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let Some(file) = run.intervals.as_ref().map(|i| i.file.clone()) else {
            return Ok(None);
        };
        // The name was checked when the run was read: a plain file name beside it.
        if let Some(bytes) = dir.and_then(|d| read_capped(&d.join(&file), MAX_INTERVAL_LOG).ok()) {
            return Ok(Some(bytes));
        }
        match self.existing_store().await? {
            Some(store) => match store.interval_log(&run.run_id).await {
                Ok(log) => Ok(log),
                Err(StoreError::NotFound(_)) => Ok(None),
                Err(e) => Err(e),
            },
            None => Ok(None),
        }
    }

    /// Closes the store if it was opened.
    pub async fn close(self) {
        if let Some(s) = self.store {
            s.close().await;
        }
    }
}

/// The suite run a spec names, never `not` (the suite run being judged: `suite:latest` as its
/// baseline means the one before it); an error that says what is there when nothing matches.
pub async fn find_suite(
    store: &Store,
    spec: &SuiteSpec,
    not: Option<&str>,
) -> Result<Group, SelectError> {
    let kind = GroupKind::Suite.name();
    let found = match spec {
        SuiteSpec::Id(id) => store.group(id).await?.filter(|g| g.kind == kind),
        SuiteSpec::Latest => store.latest_group(kind, None, None, not).await?,
        SuiteSpec::Branch(b) => store.latest_group(kind, None, Some(b), not).await?,
    };
    match (found, spec) {
        (Some(g), SuiteSpec::Id(_)) if Some(g.id.as_str()) == not => {
            Err(SelectError::Invalid(anyhow!(
                "suite run {} is the candidate itself: name another as its baseline",
                g.id
            )))
        }
        (Some(g), _) => Ok(g),
        (None, SuiteSpec::Id(id)) => Err(SelectError::Invalid(anyhow!(
            "no suite run `{id}` in the store (`rehearse runs list --suites` lists them)"
        ))),
        // Like `branch:NAME` before a branch's first run: nothing to compare with yet.
        (None, SuiteSpec::Latest) => Err(SelectError::NoRuns(
            "the store holds no other suite run yet".to_string(),
        )),
        (None, SuiteSpec::Branch(b)) => Err(SelectError::NoRuns(format!(
            "the store holds no other suite run of branch `{b}`"
        ))),
    }
}

/// Reads a results file for import, with the interval log beside it when there is one.
/// A foreign file without an id gets one, so it can be stored and referred to.
pub fn read_for_import(file: &Path) -> anyhow::Result<(RunResult, Option<Vec<u8>>)> {
    let mut run = RunResult::read(file)?;
    if run.run_id.is_empty() {
        run.run_id = uuid::Uuid::now_v7().to_string();
    }
    let log = match &run.intervals {
        Some(iv) => {
            let path = file.parent().unwrap_or(Path::new(".")).join(&iv.file);
            if path.exists() {
                Some(
                    read_capped(&path, MAX_INTERVAL_LOG)
                        .map_err(|e| anyhow!("{}: {e}", path.display()))
                        .with_context(|| format!("the interval log of {}", file.display()))?,
                )
            } else {
                None
            }
        }
        None => None,
    };
    Ok((run, log))
}

/// Refuses a run as a baseline when it failed; an incomplete run named on purpose is used
/// with a note (the comparison says so).
pub fn check_baseline(runs: &[RunResult], spec: &Spec) -> Result<(), SelectError> {
    for r in runs {
        check_whole(r, &format!(" (`{spec}`)"))?;
        if let Some(why) = r.failure() {
            return Err(SelectError::FailedRun(format!(
                "run {} (`{spec}`) failed ({why}): a failed run is no baseline; compare with an earlier run",
                r.run_id
            )));
        }
    }
    Ok(())
}

/// Refuses a run that does not stand for its scenario's whole load, on either side of a
/// comparison: one shard of a sharded run (exit 2), or a merge of an incomplete set of shards
/// (exit 3). `named` says how the run was named, for the message (may be empty).
pub fn check_whole(r: &RunResult, named: &str) -> Result<(), SelectError> {
    if let Some(g) = r
        .group
        .as_ref()
        .filter(|g| g.kind == crate::model::GroupKind::Sharded)
    {
        return Err(SelectError::Invalid(anyhow!(
            "run {}{named} is one shard of the sharded run `{}`, with a share of its load: compare with the merged run `{}` (`rehearse merge {}` makes it)",
            r.run_id,
            g.id,
            g.id,
            g.id
        )));
    }
    if !r.complete && !r.shards.is_empty() {
        return Err(SelectError::FailedRun(format!(
            "run {}{named} was merged from an incomplete set of shards ({}): it cannot stand for the scenario's load and is no baseline",
            r.run_id,
            r.stop_reason.as_deref().unwrap_or("a shard is missing")
        )));
    }
    Ok(())
}

/// Fails when a spec needs the store and there is none, for `--no-store` runs.
pub fn needs_store(spec: &Spec) -> bool {
    !matches!(spec, Spec::File(_))
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
        assert_eq!(Spec::Branch("main".into()).to_string(), "branch:main");
        for text in ["suite:01a2", "suite:latest", "suite:branch:main"] {
            assert!(matches!(Spec::parse(text), Spec::Suite(_)), "{text}");
            assert_eq!(Spec::parse(text).to_string(), text);
        }
        assert_eq!(
            Spec::parse("suite:branch:main"),
            Spec::Suite(SuiteSpec::Branch("main".into()))
        );
    }
}
