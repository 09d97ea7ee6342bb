//! From what was typed to what a command runs with: flags, scenario files and the
//! environment merged in this one place, every default applied here, every value checked
//! before anything is sent (ripgrep's LowArgs → HiArgs, criterion's `to_complete`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::args::{AbArgs, GateArgs, LoadArgs, PublishArgs, RunArgs, VerdictArgs};
use super::error::{AppError, Outcome};
use super::progress::Mode;
use super::provenance;
use super::select::{Spec, needs_store};
use crate::model::{CompareSettings, Comparison, Git};
use crate::runner::Provenance;
use crate::scenario::{self, Overrides, Plan};
use crate::stats::DaqParams;

/// Runs `branch:NAME` takes as the baseline when neither the flag nor the scenario says.
pub const DEFAULT_HISTORY: usize = 10;

/// How verdicts are reached and what fails, merged: flags over the run's recorded
/// `[compare]` settings over the documented defaults.
#[derive(Debug, Clone)]
pub struct Gate {
    /// Runs `branch:NAME` takes as the baseline.
    pub history: usize,
    /// The test's parameters.
    pub params: DaqParams,
    /// An inconclusive verdict fails (exit 1).
    pub fail_on_inconclusive: bool,
}

impl Gate {
    /// The gate for comparisons against stored runs.
    pub fn new(args: &GateArgs, recorded: &CompareSettings) -> Self {
        Self {
            history: args
                .history
                .map(|h| h as usize)
                .or(recorded.history)
                .unwrap_or(DEFAULT_HISTORY),
            ..Self::verdicts(&args.verdict, recorded)
        }
    }

    /// The gate for an A/B session (no history: the rounds are the evidence).
    pub fn verdicts(args: &VerdictArgs, recorded: &CompareSettings) -> Self {
        Self {
            history: DEFAULT_HISTORY,
            params: crate::compare::params(
                recorded,
                &crate::compare::Overrides { alpha: args.alpha },
            ),
            fail_on_inconclusive: args.fail_on_inconclusive,
        }
    }

    /// What a comparison means for the exit code.
    pub fn outcome(&self, c: &Comparison) -> Outcome {
        if !c.overall.passed || (self.fail_on_inconclusive && c.overall.inconclusive > 0) {
            Outcome::Failed
        } else {
            Outcome::Passed
        }
    }
}

/// Where a report folder goes and where it will be reachable.
#[derive(Debug, Clone, Default)]
pub struct Publish {
    /// The report folder, if asked for.
    pub report: Option<PathBuf>,
    /// Where index.html will be reachable (an http(s) URL).
    pub link: Option<String>,
}

impl From<&PublishArgs> for Publish {
    fn from(a: &PublishArgs) -> Self {
        Self {
            report: a.report.clone(),
            link: a.link.clone(),
        }
    }
}

/// Everything `rehearse run` needs, validated.
#[derive(Debug)]
pub struct RunSettings {
    /// The scenario, with the command line's overrides applied.
    pub plan: Plan,
    /// Where results go (one folder per repeat when repeating).
    pub out_dir: PathBuf,
    /// Labels, git state and host recorded with each run.
    pub provenance: Provenance,
    /// Seed for feeders, think times and `{{ uuid }}`.
    pub seed: u64,
    /// How progress is shown.
    pub progress: Mode,
    /// The store URL, or None with `--no-store`.
    pub store: Option<String>,
    /// The store URL to read baselines and history from (even with `--no-store`).
    pub lookup_store: String,
    /// The baseline to compare with, if any.
    pub baseline: Option<Spec>,
    /// How many times to run the scenario.
    pub repeat: u32,
    /// Verdict settings.
    pub gate: Gate,
    /// The report folder.
    pub publish: Publish,
    /// This process's shard of a sharded run, if the load is split.
    pub sharding: Option<Sharding>,
}

/// One shard of a sharded run: which share of the load, and the group the shards meet in.
#[derive(Debug, Clone)]
pub struct Sharding {
    /// The sharded run's id, the same for every shard.
    pub group: String,
    /// This process's share.
    pub shard: crate::runner::Shard,
    /// How long to wait for every shard to register.
    pub barrier_timeout: std::time::Duration,
}

/// How long a shard waits for the others by default: long enough for pods to be scheduled
/// and pull an image, short enough that a missing one fails the job promptly.
pub const DEFAULT_BARRIER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

impl Sharding {
    /// Reads `--shards`, `--shard-index` (or `JOB_COMPLETION_INDEX`) and `--group` (or the CI
    /// system's run id); None when the load is not split.
    fn from_args(args: &RunArgs, plan: &Plan) -> Result<Option<Self>, AppError> {
        let a = &args.sharding;
        let invalid = |m: String| Err(AppError::invalid(anyhow::anyhow!(m)));
        let Some(count) = a.shards else {
            if a.shard_index.is_some() || a.barrier_timeout.is_some() {
                return invalid(
                    "--shard-index and --barrier-timeout belong to a sharded run: add --shards N"
                        .into(),
                );
            }
            return Ok(None);
        };
        let index = match a.shard_index {
            Some(i) => i,
            None => match std::env::var("JOB_COMPLETION_INDEX") {
                Ok(v) => match v.trim().parse::<u32>() {
                    Ok(i) => i,
                    Err(_) => {
                        return invalid(format!(
                            "JOB_COMPLETION_INDEX `{}` is not a shard index",
                            v.escape_debug()
                        ));
                    }
                },
                Err(_) => {
                    return invalid(format!(
                        "which shard of {count} is this? give --shard-index 0..{} (Kubernetes Indexed Jobs set JOB_COMPLETION_INDEX)",
                        count - 1
                    ));
                }
            },
        };
        if index >= count {
            return invalid(format!(
                "--shard-index {index} is out of range: the shards of --shards {count} are 0 to {}",
                count - 1
            ));
        }
        if args.no_store {
            return invalid(
                "the shards of a sharded run meet and merge in the store: drop --no-store".into(),
            );
        }
        // A shard with nothing to send would fail as a run and leave the merge incomplete.
        let users = plan.load.profile.peak().floor() as u64;
        if matches!(plan.load.model, scenario::LoadModel::Closed { .. }) && users < u64::from(count)
        {
            return invalid(format!(
                "--shards {count} is more than the scenario's {users} users: some shards would have none; use at most {users} shards"
            ));
        }
        if let Some(cap) = plan.load.iterations.filter(|c| *c < u64::from(count)) {
            return invalid(format!(
                "--shards {count} is more than the run's {cap} iterations: some shards would have none"
            ));
        }
        if args.baseline.is_some() || args.repeat > 1 {
            return invalid("a sharded run is judged once, on the merged run: run the shards without --baseline and --repeat, then `rehearse merge GROUP --baseline SPEC`".into());
        }
        let group = match a.group.clone().filter(|g| !g.trim().is_empty()) {
            Some(g) => g,
            None => match ci_suite_id() {
                Some(id) => format!("{id}-{}", plan.name),
                None => return invalid("the shards of a sharded run find each other by one id: give --group ID (or REHEARSE_GROUP) to every shard".into()),
            },
        };
        if group.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return invalid(format!("--group `{}` is not an id", group.escape_debug()));
        }
        Ok(Some(Self {
            group,
            shard: crate::runner::Shard { index, count },
            barrier_timeout: a.barrier_timeout.unwrap_or(DEFAULT_BARRIER_TIMEOUT),
        }))
    }
}

/// What `rehearse run` was asked to run.
#[derive(Debug)]
pub enum RunPlan {
    /// One scenario.
    Single(Box<RunSettings>),
    /// A suite of them (or one part of one).
    Suite(Box<SuiteSettings>),
    /// A mix: its scenarios at once, as one run; the settings' plan stands for the mix.
    Mix(Box<RunSettings>, Box<scenario::mix::Mix>),
}

/// Validates `rehearse run`'s flags against what it names; nothing is sent on an error.
pub fn run_plan(args: &RunArgs) -> Result<RunPlan, AppError> {
    let cli = overrides(&args.load, args.target.clone());
    match scenario::suite::load(&args.scenarios, &cli)? {
        scenario::suite::Target::Scenario(path) => {
            if args.shard.is_some() || args.suite_id.is_some() {
                return Err(AppError::invalid(anyhow::anyhow!(
                    "--shard and --suite-id split a suite across CI jobs; `{}` is one scenario (to split its load over machines, use --shards N --shard-index I)",
                    path.display()
                )));
            }
            let plan = scenario::load(&path, &cli)?;
            Ok(RunPlan::Single(Box::new(RunSettings::new(args, plan)?)))
        }
        scenario::suite::Target::Suite(suite) => {
            if args.sharding.shards.is_some() {
                return Err(AppError::invalid(anyhow::anyhow!(
                    "--shards splits one scenario's load over machines; to split a suite's scenarios over CI jobs, use --shard I/N"
                )));
            }
            Ok(RunPlan::Suite(Box::new(SuiteSettings::new(args, suite)?)))
        }
        scenario::suite::Target::Mix(mix) => {
            if args.sharding.shards.is_some() || args.shard.is_some() || args.suite_id.is_some() {
                return Err(AppError::invalid(anyhow::anyhow!(
                    "a mix runs its scenarios together in one process: --shards, --shard and --suite-id do not apply to it"
                )));
            }
            for m in &mix.members {
                super::allow::check_plan(&m.plan, &args.allow.allowed_hosts)
                    .map_err(|e| AppError::invalid(anyhow::anyhow!("{}: {e}", m.plan.name)))?;
            }
            let settings = RunSettings::new(args, mix_plan(&mix))?;
            Ok(RunPlan::Mix(Box::new(settings), Box::new(mix)))
        }
    }
}

/// The plan that stands for a mix where a command needs one: the mix's name, file, hash,
/// thresholds and `[compare]`, its first member's target and load (every member runs as
/// long).
pub fn mix_plan(mix: &scenario::mix::Mix) -> Plan {
    let mut plan = mix.members[0].plan.clone();
    plan.name = mix.name.clone();
    plan.description = mix.description.clone();
    plan.source = mix.source.clone();
    plan.hash = mix.hash.clone();
    plan.thresholds = mix.thresholds.clone();
    plan.compare = mix.compare.clone();
    plan
}

/// Everything a suite run (or one part of it) needs, validated.
#[derive(Debug)]
pub struct SuiteSettings {
    /// The suite, every scenario loaded.
    pub suite: scenario::suite::Suite,
    /// The suite run's id, shared by its parts.
    pub id: String,
    /// This job's part (1-based) and the number of parts.
    pub part: u32,
    /// How many parts (CI jobs) share the suite.
    pub parts: u32,
    /// Each member's part, in suite order.
    pub assignment: Vec<u32>,
    /// Where results go: one folder per scenario.
    pub out_dir: PathBuf,
    /// Labels (the suite file's and the flags'), git state and host.
    pub provenance: Provenance,
    /// Seed.
    pub seed: u64,
    /// Progress display.
    pub progress: Mode,
    /// The store URL, or None with `--no-store`.
    pub store: Option<String>,
    /// The store to read baselines from.
    pub lookup_store: String,
    /// The baseline every scenario is compared with (each with its own history).
    pub baseline: Option<Spec>,
    /// How many times each scenario runs (the order rotates between repeats).
    pub repeat: u32,
    /// One standard for the whole suite: flags over the suite file's `[compare]`.
    pub gate: Gate,
    /// The report folder.
    pub publish: Publish,
}

impl SuiteSettings {
    fn new(args: &RunArgs, suite: scenario::suite::Suite) -> Result<Self, AppError> {
        for m in &suite.members {
            super::allow::check_plan(&m.plan, &args.allow.allowed_hosts)
                .map_err(|e| AppError::invalid(anyhow::anyhow!("{}: {e}", m.plan.name)))?;
        }
        if suite.members.is_empty() {
            return Err(AppError::invalid(anyhow::anyhow!(
                "the suite `{}` has no scenario to run (every one is skipped)",
                suite.name
            )));
        }
        let (part, parts) = args.shard.unwrap_or((1, 1));
        let store_url = args.store.store.clone().or_else(|| suite.store.clone());
        let store = (!args.no_store).then(|| {
            store_url
                .clone()
                .unwrap_or_else(|| crate::store::DEFAULT_URL.into())
        });
        if parts > 1 && store.is_none() {
            return Err(AppError::invalid(anyhow::anyhow!(
                "the parts of a split suite join in the store: drop --no-store"
            )));
        }
        if parts > 1 && args.baseline.is_some() {
            return Err(AppError::invalid(anyhow::anyhow!(
                "a split suite's verdict is given once every part is done: run the parts without --baseline, then `rehearse compare BASELINE suite:ID`"
            )));
        }
        let id = match (&args.suite_id, parts) {
            (Some(id), _) => id.clone(),
            (None, 1) => uuid::Uuid::now_v7().to_string(),
            (None, _) => ci_suite_id().ok_or_else(|| {
                AppError::invalid(anyhow::anyhow!(
                    "the parts of a split suite find each other by its id: give --suite-id (no CI run id was found)"
                ))
            })?,
        };
        if id.trim().is_empty() || id.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(AppError::invalid(anyhow::anyhow!(
                "--suite-id `{}` is not an id",
                id.escape_debug()
            )));
        }
        let baseline = args.baseline.as_deref().map(Spec::parse);
        if let Some(spec) = &baseline
            && store.is_none()
            && needs_store(spec)
        {
            return Err(AppError::invalid(anyhow::anyhow!(
                "--baseline {spec} needs the store; drop --no-store"
            )));
        }
        let mut labels = suite.labels.clone();
        labels.extend(self::labels(&args.labels));
        let assignment = scenario::suite::shard(&suite.members, parts as usize)
            .into_iter()
            .map(|p| p as u32)
            .collect();
        Ok(Self {
            id,
            part,
            parts,
            assignment,
            out_dir: args
                .out
                .clone()
                .unwrap_or_else(|| default_out_dir(&suite.name)),
            provenance: Provenance {
                labels,
                git: provenance::git(args.commit.clone(), args.branch.clone()),
                host: Some(provenance::host()),
                group: None,
            },
            seed: args.seed,
            progress: Mode::detect(args.quiet),
            store,
            lookup_store: store_url.unwrap_or_else(|| crate::store::DEFAULT_URL.into()),
            baseline,
            repeat: args.repeat,
            gate: Gate::new(&args.gate, &suite.compare),
            publish: Publish::from(&args.publish),
            suite,
        })
    }

    /// The members this part runs, in suite order.
    pub fn mine(&self) -> Vec<&scenario::suite::Member> {
        self.suite
            .members
            .iter()
            .zip(&self.assignment)
            .filter(|(_, p)| **p == self.part)
            .map(|(m, _)| m)
            .collect()
    }
}

/// A suite run's id from the CI system's own ids, so every job of one pipeline agrees.
fn ci_suite_id() -> Option<String> {
    let var = |n: &str| std::env::var(n).ok().filter(|v| !v.is_empty());
    if let Some(run) = var("GITHUB_RUN_ID") {
        return Some(format!(
            "gh-{run}-{}",
            var("GITHUB_RUN_ATTEMPT").unwrap_or_else(|| "1".into())
        ));
    }
    var("CI_PIPELINE_ID").map(|p| format!("gl-{p}"))
}

impl RunSettings {
    /// Validates `rehearse run`'s flags against its one scenario.
    fn new(args: &RunArgs, plan: Plan) -> Result<Self, AppError> {
        super::allow::check_plan(&plan, &args.allow.allowed_hosts)
            .map_err(|e| AppError::invalid(anyhow::anyhow!(e)))?;
        let store = (!args.no_store).then(|| args.store.url());
        let baseline = args.baseline.as_deref().map(Spec::parse);
        if let Some(spec) = &baseline
            && store.is_none()
            && needs_store(spec)
        {
            return Err(AppError::invalid(anyhow::anyhow!(
                "--baseline {spec} needs the store; drop --no-store or name a results.json"
            )));
        }
        Ok(Self {
            out_dir: args
                .out
                .clone()
                .unwrap_or_else(|| default_out_dir(&plan.name)),
            provenance: Provenance {
                labels: labels(&args.labels),
                git: provenance::git(args.commit.clone(), args.branch.clone()),
                host: Some(provenance::host()),
                group: None,
            },
            seed: args.seed,
            progress: Mode::detect(args.quiet),
            store,
            lookup_store: args.store.url(),
            baseline,
            repeat: args.repeat,
            gate: Gate::new(&args.gate, &plan.compare),
            publish: Publish::from(&args.publish),
            sharding: Sharding::from_args(args, &plan)?,
            plan,
        })
    }
}

/// Everything `rehearse ab` needs, validated.
#[derive(Debug)]
pub struct AbSettings {
    /// The baseline side's plan.
    pub baseline: Plan,
    /// The candidate side's plan (the same target for an A/A session).
    pub candidate: Plan,
    /// Side names: (baseline, candidate).
    pub labels: (String, String),
    /// Both sides are the same target.
    pub same: bool,
    /// Rounds.
    pub rounds: usize,
    /// Where every round's results go.
    pub out_dir: PathBuf,
    /// `--label` pairs added to every run.
    pub extra_labels: BTreeMap<String, String>,
    /// Seed.
    pub seed: u64,
    /// Progress display.
    pub progress: Mode,
    /// The store URL, or None with `--no-store`.
    pub store: Option<String>,
    /// Verdict settings.
    pub gate: Gate,
    /// The report folder.
    pub publish: Publish,
    /// Print JSON.
    pub json: bool,
}

impl AbSettings {
    /// Validates `rehearse ab`'s flags against its scenario.
    pub fn from_args(args: &AbArgs) -> Result<Self, AppError> {
        let (a_url, b_url) = match (&args.baseline_url, &args.candidate_url, args.same) {
            (b, _, true) => (b.clone(), b.clone()),
            (b, Some(c), false) => (b.clone(), Some(c.clone())),
            (_, None, false) => {
                return Err(AppError::invalid(anyhow::anyhow!(
                    "give the candidate's target with --candidate-url URL, or --same for an A/A session that measures this setup's noise"
                )));
            }
        };
        if scenario::mix::is_mix_file(&args.scenario) {
            return Err(AppError::invalid(anyhow::anyhow!(
                "`{}` is a mix: `ab` runs one scenario per round; compare mixes with `rehearse run MIX --baseline branch:NAME`",
                args.scenario.display()
            )));
        }
        let baseline = scenario::load(&args.scenario, &overrides(&args.load, a_url))?;
        let candidate = scenario::load(&args.scenario, &overrides(&args.load, b_url))?;
        let (http, sql) = baseline
            .steps
            .iter()
            .fold((0, 0), |(h, q), s| match s.action {
                scenario::StepAction::Http(_) => (h + 1, q),
                scenario::StepAction::Sql(_) => (h, q + 1),
            });
        if !args.same && sql > 0 {
            // The two URLs are HTTP targets; a database is the scenario's own.
            if http == 0 {
                return Err(AppError::invalid(anyhow::anyhow!(
                    "`{}` has only SQL steps: both sides would query the same database; compare two databases with two runs and `rehearse compare`",
                    args.scenario.display()
                )));
            }
            super::console::note(&format!(
                "{sql} SQL step(s) query the same database on both sides: only the HTTP steps differ by target"
            ));
        }
        for plan in [&baseline, &candidate] {
            super::allow::check_plan(plan, &args.allow.allowed_hosts)
                .map_err(|e| AppError::invalid(anyhow::anyhow!(e)))?;
        }
        Ok(Self {
            labels: (args.baseline_label.clone(), args.candidate_label.clone()),
            same: args.same,
            rounds: args.rounds as usize,
            out_dir: args
                .out
                .clone()
                .unwrap_or_else(|| default_out_dir(&format!("{}-ab", baseline.name))),
            extra_labels: labels(&args.labels),
            seed: args.seed,
            progress: Mode::detect(args.quiet),
            store: (!args.no_store).then(|| args.store.url()),
            gate: Gate::verdicts(&args.verdict, &baseline.compare),
            publish: Publish::from(&args.publish),
            json: args.json,
            baseline,
            candidate,
        })
    }

    /// What a round's run records: the session labels, and the side's label as its branch
    /// (its runs are not the working directory's).
    pub fn provenance(&self, session: &str, side: &str, round: usize) -> Provenance {
        let label = if side == "baseline" {
            &self.labels.0
        } else {
            &self.labels.1
        };
        let mut labels: BTreeMap<String, String> = [
            (crate::model::LABEL_AB_SESSION, session.to_string()),
            ("ab.side", side.to_string()),
            ("ab.round", round.to_string()),
            ("ab.label", label.clone()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        labels.extend(self.extra_labels.clone());
        Provenance {
            labels,
            git: Some(Git {
                branch: Some(label.clone()),
                commit: None,
                dirty: None,
            }),
            host: Some(provenance::host()),
            group: None,
        }
    }
}

/// Command-line load settings as scenario overrides.
pub fn overrides(load: &LoadArgs, target: Option<String>) -> Overrides {
    Overrides {
        target,
        duration: load.duration,
        warmup: load.warmup,
        rate: load.rate,
        users: load.users,
        iterations: load.iterations,
    }
}

fn labels(pairs: &[(String, String)]) -> BTreeMap<String, String> {
    pairs.iter().cloned().collect()
}

/// `reports/<name>-<YYYYMMDD-HHMMSS>`.
pub fn default_out_dir(name: &str) -> PathBuf {
    let stamp: String = humantime::format_rfc3339_seconds(std::time::SystemTime::now())
        .to_string()
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == 'T')
        .map(|c| if c == 'T' { '-' } else { c })
        .collect();
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    std::path::Path::new("reports").join(format!("{safe}-{stamp}"))
}
