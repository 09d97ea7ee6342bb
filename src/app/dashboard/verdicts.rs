//! The front page: every scenario with each branch's newest run and its verdict against the
//! base branch. A scenario's branches share one baseline, read once.

use std::collections::HashMap;
use std::sync::Arc;

use super::{Dashboard, Kept, PageError, by_scenario, line};
use crate::app::args::GateArgs;
use crate::app::pipeline::{baseline_for, compare_with};
use crate::app::select::{Resolver, SelectError, Spec};
use crate::app::settings::Gate;
use crate::compare::Baseline;
use crate::report::dashboard::{
    self as pages, BranchLatest, IndexView, ScenarioSummary, VerdictCell,
};
use crate::report::views::Conclusion;
use crate::store::BranchSummary;

/// Branches of a scenario on the front page (the base branch and the most recently run).
const FRONT_BRANCHES: usize = 6;

/// A baseline shared by a scenario's branches, or the verdict every one of them gets.
type Shared = Result<Arc<(Baseline, Vec<String>)>, VerdictCell>;

/// A front-page verdict not kept yet: where it goes, its key, the run.
struct Wanted {
    slot: (usize, usize),
    key: String,
    id: String,
    base: bool,
}

impl Dashboard {
    /// The front page.
    pub(super) async fn index(&self) -> Result<String, PageError> {
        let all = self.store.branches().await?;
        let mut scenarios: Vec<ScenarioSummary> = Vec::new();
        let mut jobs = tokio::task::JoinSet::new();
        let mut without_branch = Vec::new();
        for (name, branches) in by_scenario(&all) {
            let named: Vec<&BranchSummary> = branches
                .iter()
                .filter(|b| b.branch.is_some())
                .copied()
                .collect();
            if named.is_empty() {
                without_branch.push(name.to_string());
                continue;
            }
            let shown = self.front_branches(&named);
            let base_newest = self.newest(name, &self.base).await?;
            let mut rows = Vec::new();
            let mut wanted = Vec::new();
            for b in &shown {
                let branch = b.branch.clone().expect("named branches only");
                let Some(latest) = self.newest(name, &branch).await? else {
                    continue;
                };
                let key = format!(
                    "verdict|{}|{}|{}",
                    latest.id,
                    base_newest.as_ref().map(|r| r.id.as_str()).unwrap_or(""),
                    named
                        .iter()
                        .find(|x| x.branch.as_deref() == Some(self.base.as_str()))
                        .map(|x| x.runs)
                        .unwrap_or(0)
                );
                let slot = (scenarios.len(), rows.len());
                match self.kept(&key) {
                    Some(Kept::Verdict(v)) => rows.push((b.runs, branch.clone(), latest, v)),
                    _ => {
                        wanted.push(Wanted {
                            slot,
                            key,
                            id: latest.id.clone(),
                            base: branch == self.base,
                        });
                        rows.push((
                            b.runs,
                            branch.clone(),
                            latest,
                            VerdictCell::NotCompared("not compared: the comparison failed".into()),
                        ));
                    }
                }
            }
            if !wanted.is_empty() {
                let me = self.clone();
                let name = name.to_string();
                jobs.spawn(async move { me.verdicts(&name, wanted).await });
            }
            scenarios.push(ScenarioSummary {
                name: name.to_string(),
                branches: rows
                    .into_iter()
                    .map(|(runs, branch, latest, verdict)| BranchLatest {
                        branch,
                        runs,
                        latest: line(&latest),
                        verdict,
                    })
                    .collect(),
                more_branches: named.len().saturating_sub(shown.len()),
            });
        }
        while let Some(done) = jobs.join_next().await {
            for ((s, b), v) in done.map_err(|e| PageError::Failed(e.to_string()))? {
                scenarios[s].branches[b].verdict = v;
            }
        }
        let view = IndexView {
            store: self.shown_url.clone(),
            base: self.base.clone(),
            scenarios,
            without_branch,
        };
        Ok(pages::page(
            "rehearse: scenarios",
            &self.shown_url,
            &pages::index(&view),
        ))
    }

    /// The base branch first, then the most recently run others.
    fn front_branches<'a>(&self, named: &[&'a BranchSummary]) -> Vec<&'a BranchSummary> {
        let mut shown: Vec<&BranchSummary> = named
            .iter()
            .filter(|b| b.branch.as_deref() == Some(self.base.as_str()))
            .copied()
            .collect();
        shown.extend(
            named
                .iter()
                .filter(|b| b.branch.as_deref() != Some(self.base.as_str()))
                .take(FRONT_BRANCHES - shown.len()),
        );
        shown
    }

    /// The verdicts a scenario's front-page rows want. The branches other than the base
    /// share one baseline (the base branch's newest runs), read once and compared with each
    /// in parallel; the base branch's own newest run is compared with the runs before it.
    async fn verdicts(
        &self,
        scenario: &str,
        wanted: Vec<Wanted>,
    ) -> Vec<((usize, usize), VerdictCell)> {
        let against = Spec::Branch(self.base.clone());
        let mut out = Vec::new();
        let mut baselines: HashMap<usize, Shared> = HashMap::new();
        let mut jobs = tokio::task::JoinSet::new();
        for w in wanted {
            if w.base {
                let v = self.verdict(&w.id).await;
                self.keep_verdict(w.key, &v);
                out.push((w.slot, v));
                continue;
            }
            let run = match self.store.load(&w.id).await {
                Ok(r) => r,
                Err(e) => {
                    out.push((
                        w.slot,
                        VerdictCell::NotCompared(format!("not compared: {e}")),
                    ));
                    continue;
                }
            };
            if let Err(e) = crate::app::select::check_whole(&run, "") {
                out.push((
                    w.slot,
                    VerdictCell::NotCompared(format!("not compared: {e}")),
                ));
                continue;
            }
            let gate = Gate::new(&GateArgs::default(), &run.compare);
            let shared = match baselines.get(&gate.history) {
                Some(b) => b.clone(),
                None => {
                    let mut resolver = Resolver::with_store(&self.url, self.store.clone());
                    let found =
                        match baseline_for(&mut resolver, &against, scenario, &gate, &[]).await {
                            Ok(b) => Ok(Arc::new(b)),
                            Err(SelectError::NoRuns(_)) => Err(self.first_run()),
                            Err(e) => Err(VerdictCell::NotCompared(format!("not compared: {e}"))),
                        };
                    baselines.insert(gate.history, found.clone());
                    found
                }
            };
            match shared {
                Err(v) => {
                    self.keep_verdict(w.key, &v);
                    out.push((w.slot, v));
                }
                Ok(baseline) => {
                    let against = against.to_string();
                    jobs.spawn_blocking(move || {
                        let thresholds: Vec<_> =
                            run.thresholds.iter().map(|t| t.threshold.clone()).collect();
                        let c = crate::compare::compare(
                            &baseline.0,
                            std::slice::from_ref(&run),
                            &gate.params,
                            &thresholds,
                            &run.run_id,
                        );
                        let v = VerdictCell::Compared {
                            against,
                            conclusion: Conclusion::of(&c),
                            text: c.overall.summary.clone(),
                        };
                        (w, v)
                    });
                }
            }
        }
        while let Some(done) = jobs.join_next().await {
            // A comparison that panicked leaves its row saying so (its placeholder).
            if let Ok((w, v)) = done {
                self.keep_verdict(w.key, &v);
                out.push((w.slot, v));
            }
        }
        out
    }

    /// The cell of a run with nothing on the base branch to compare with.
    fn first_run(&self) -> VerdictCell {
        VerdictCell::Alone(format!(
            "first run: no earlier run of {} to compare with",
            self.base
        ))
    }

    /// Keeps a verdict that lasts until a run is stored (not a failure to answer).
    fn keep_verdict(&self, key: String, v: &VerdictCell) {
        if !matches!(v, VerdictCell::NotCompared(_)) {
            self.keep(key, Kept::Verdict(v.clone()));
        }
    }

    /// The verdict of a branch's newest run against the base branch.
    async fn verdict(&self, id: &str) -> VerdictCell {
        let run = match self.store.load(id).await {
            Ok(r) => r,
            Err(e) => return VerdictCell::NotCompared(format!("not compared: {e}")),
        };
        let mut resolver = Resolver::with_store(&self.url, self.store.clone());
        let gate = Gate::new(&GateArgs::default(), &run.compare);
        let against = Spec::Branch(self.base.clone());
        match compare_with(&mut resolver, &against, &[run], id, &gate).await {
            Ok((c, _)) => VerdictCell::Compared {
                against: against.to_string(),
                conclusion: Conclusion::of(&c),
                text: c.overall.summary.clone(),
            },
            Err(SelectError::NoRuns(_)) => self.first_run(),
            Err(e) => VerdictCell::NotCompared(format!("not compared: {e}")),
        }
    }
}
