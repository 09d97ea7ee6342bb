//! Suites: every customer workflow a CI job runs, as a folder of scenario files, a list of
//! them, or a suite file (`rehearse.toml`) that names them and sets shared defaults and
//! per-scenario overrides. A suite loads into one [`Plan`] per scenario, in a stable order,
//! with every problem of every file reported together.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::{Spanned, Value};

use super::diagnostic::{Diagnostic, ScenarioErrors, SourceFile};
use super::raw::RawCompare;
use super::{Overrides, Plan};
use crate::model::{CompareSettings, Threshold};

/// The file name a folder's suite file has.
pub const SUITE_FILE: &str = "rehearse.toml";

/// A suite file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSuiteFile {
    suite: Spanned<RawSuite>,
    #[serde(default)]
    thresholds: BTreeMap<Spanned<String>, Spanned<Value>>,
    compare: Option<Spanned<RawCompare>>,
    #[serde(default)]
    scenarios: BTreeMap<Spanned<String>, Spanned<RawMember>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSuite {
    name: Option<Spanned<String>>,
    scenarios: Option<Vec<Spanned<String>>>,
    target: Option<Spanned<String>>,
    store: Option<Spanned<String>>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMember {
    skip: Option<bool>,
    duration: Option<Spanned<Value>>,
    rate: Option<Spanned<Value>>,
    users: Option<Spanned<i64>>,
    weight: Option<Spanned<f64>>,
}

/// A suite ready to run: its scenarios in order, with shared settings.
#[derive(Debug, Clone)]
pub struct Suite {
    /// The suite's name (the suite file's `name`, else its folder's).
    pub name: String,
    /// The suite file, when there is one.
    pub source: Option<PathBuf>,
    /// The scenarios to run, in order.
    pub members: Vec<Member>,
    /// Scenarios the suite file skips.
    pub skipped: Vec<String>,
    /// The suite file's default store, if it names one.
    pub store: Option<String>,
    /// Labels stored with every run.
    pub labels: BTreeMap<String, String>,
    /// The suite file's `[compare]`: one standard for the whole suite's verdict.
    pub compare: CompareSettings,
}

/// One scenario of a suite.
#[derive(Debug, Clone)]
pub struct Member {
    /// Its plan, with the suite's defaults and overrides applied.
    pub plan: Plan,
    /// Its share of a CI job's time, for splitting the suite across jobs: the suite file's
    /// `weight`, else its planned length in seconds.
    pub weight: f64,
}

/// What the command line named.
#[derive(Debug, Clone)]
pub enum Target {
    /// One scenario file.
    Scenario(PathBuf),
    /// A suite: a folder, several files, or a suite file.
    Suite(Suite),
    /// A mix file: several scenarios at once, as one run.
    Mix(super::mix::Mix),
}

/// Reads what the command line named: one scenario file, or a suite (a folder, a list of
/// scenario files, or a suite file). `overrides` come from the command line and beat the
/// suite file's.
pub fn load(paths: &[PathBuf], overrides: &Overrides) -> Result<Target, ScenarioErrors> {
    let env = super::env::process_env;
    if let [only] = paths
        && only.is_file()
        && super::mix::is_mix_file(only)
    {
        return super::mix::load(only, overrides).map(Target::Mix);
    }
    if let [only] = paths
        && only.is_file()
        && !is_suite_file(only)
    {
        return Ok(Target::Scenario(only.clone()));
    }
    // A folder with a suite file is that suite; a lone suite file is its own suite.
    let suite_file = match paths {
        [only] if only.is_dir() && only.join(SUITE_FILE).is_file() => Some(only.join(SUITE_FILE)),
        [only] if only.is_file() => Some(only.clone()),
        _ => None,
    };
    match suite_file {
        Some(file) => from_suite_file(&file, overrides, &env),
        None => {
            let files = scenario_files(paths)?;
            let name = match paths {
                [only] if only.is_dir() => folder_name(only),
                _ => "suite".to_string(),
            };
            let members = plans(&files, overrides, &BTreeMap::new(), &Defaults::default())?;
            Ok(Target::Suite(Suite {
                name,
                source: None,
                members,
                skipped: Vec::new(),
                store: None,
                labels: BTreeMap::new(),
                compare: CompareSettings::default(),
            }))
        }
    }
}

/// Whether a file is a suite file (it has a `[suite]` table) rather than a scenario.
pub fn is_suite_file(path: &Path) -> bool {
    super::limits::read_capped(path, super::limits::MAX_SCENARIO_FILE)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|t| t.parse::<toml::Table>().ok())
        .is_some_and(|t| t.contains_key("suite"))
}

fn folder_name(dir: &Path) -> String {
    std::fs::canonicalize(dir)
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().to_string()))
        .unwrap_or_else(|| "suite".into())
}

/// Every scenario file the paths name: files as given, folders' `*.toml` (suite files left
/// out) sorted by name.
fn scenario_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, ScenarioErrors> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| one(path, format!("cannot read the folder: {e}")))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "toml") && p.is_file())
                .filter(|p| !is_suite_file(p) && !super::mix::is_mix_file(p))
                .collect();
            found.sort();
            if found.is_empty() {
                return Err(one(
                    path,
                    "the folder holds no scenario files (*.toml)".into(),
                ));
            }
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

fn one(path: &Path, message: String) -> ScenarioErrors {
    ScenarioErrors(vec![Diagnostic::whole_file(path, message)])
}

/// What a suite file sets for every scenario.
#[derive(Debug, Clone, Default)]
struct Defaults {
    target: Option<String>,
    thresholds: Vec<Threshold>,
    compare: CompareSettings,
}

/// Per-scenario overrides from a suite file, by scenario name.
#[derive(Debug, Clone, Default)]
struct MemberSettings {
    skip: bool,
    overrides: Overrides,
    weight: Option<f64>,
}

fn from_suite_file(
    file: &Path,
    cli: &Overrides,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Target, ScenarioErrors> {
    let bytes = super::limits::read_capped(file, super::limits::MAX_SCENARIO_FILE)
        .map_err(|e| one(file, format!("cannot read the suite file: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|_| one(file, "not UTF-8 text".into()))?;
    let source = SourceFile::new(file, text);
    let raw: RawSuiteFile = toml::from_str(&source.text).map_err(|e| {
        ScenarioErrors(vec![Diagnostic::at(
            &source,
            e.span().unwrap_or(0..0),
            e.message().trim().replace('\n', " "),
        )])
    })?;
    let mut diags = Vec::new();
    let dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
    let suite = raw.suite.get_ref();
    let files: Vec<PathBuf> = match &suite.scenarios {
        Some(list) => list.iter().map(|f| dir.join(f.get_ref())).collect(),
        None => {
            let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
                .map_err(|e| one(file, format!("cannot read its folder: {e}")))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "toml") && p.is_file())
                .filter(|p| p != file && !is_suite_file(p) && !super::mix::is_mix_file(p))
                .collect();
            found.sort();
            found
        }
    };
    if let Some(list) = &suite.scenarios {
        for f in list {
            if !dir.join(f.get_ref()).is_file() {
                diags.push(Diagnostic::at(
                    &source,
                    f.span(),
                    format!("no scenario file `{}` beside the suite file", f.get_ref()),
                ));
            }
        }
    }
    let interpolate = |s: &Spanned<String>, diags: &mut Vec<Diagnostic>| {
        super::env::interpolate(s.get_ref(), env)
            .map_err(|e| {
                let at = source.find_in(&s.span(), &e.reference);
                diags.push(Diagnostic::at(&source, at, e.message));
            })
            .ok()
    };
    let target = suite
        .target
        .as_ref()
        .and_then(|t| interpolate(t, &mut diags));
    let store = suite
        .store
        .as_ref()
        .and_then(|t| interpolate(t, &mut diags));
    let (thresholds, compare) =
        match super::build::suite_gates(&raw.thresholds, raw.compare.as_ref(), &source, env) {
            Ok(g) => g,
            Err(d) => {
                diags.extend(d);
                (Vec::new(), CompareSettings::default())
            }
        };
    let mut members: BTreeMap<String, MemberSettings> = BTreeMap::new();
    for (name, m) in &raw.scenarios {
        let r = m.get_ref();
        let mut settings = MemberSettings {
            skip: r.skip.unwrap_or(false),
            weight: r.weight.as_ref().map(|w| *w.get_ref()),
            ..MemberSettings::default()
        };
        if let Some(d) = &r.duration {
            match d.get_ref() {
                Value::String(s) => match super::units::parse_duration(s).and_then(|d| {
                    super::limits::check_duration("duration", d, true, super::limits::MAX_DURATION)
                }) {
                    Ok(d) => settings.overrides.duration = Some(d),
                    Err(e) => diags.push(Diagnostic::at(&source, d.span(), e)),
                },
                _ => diags.push(Diagnostic::at(
                    &source,
                    d.span(),
                    "expected a duration such as \"30s\"",
                )),
            }
        }
        if let Some(rate) = &r.rate {
            match rate.get_ref() {
                Value::String(s) => match super::units::parse_rate(s)
                    .and_then(|r| super::limits::check_rate("rate", r, false))
                {
                    Ok(r) => settings.overrides.rate = Some(r),
                    Err(e) => diags.push(Diagnostic::at(&source, rate.span(), e)),
                },
                _ => diags.push(Diagnostic::at(
                    &source,
                    rate.span(),
                    "expected a rate such as \"20/s\"",
                )),
            }
        }
        if let Some(u) = &r.users {
            match super::limits::check_count("users", *u.get_ref(), 1, super::limits::MAX_USERS) {
                Ok(u) => settings.overrides.users = Some(u as u32),
                Err(e) => diags.push(Diagnostic::at(&source, u.span(), e)),
            }
        }
        if let Some(w) = &r.weight
            && !(w.get_ref().is_finite() && *w.get_ref() > 0.0)
        {
            diags.push(Diagnostic::at(
                &source,
                w.span(),
                "`weight` must be more than 0",
            ));
        }
        members.insert(name.get_ref().clone(), settings);
    }
    if !diags.is_empty() {
        return Err(ScenarioErrors(diags));
    }
    let defaults = Defaults {
        target,
        thresholds,
        compare: compare.clone(),
    };
    let mut all = plans(&files, cli, &members, &defaults)?;
    // Overrides naming no scenario of the suite are a typo worth an error.
    let names: Vec<String> = all.iter().map(|m| m.plan.name.clone()).collect();
    let unknown: Vec<Diagnostic> = raw
        .scenarios
        .keys()
        .filter(|k| !names.contains(k.get_ref()))
        .map(|k| {
            Diagnostic::at(
                &source,
                k.span(),
                format!("no scenario of the suite is called `{}`", k.get_ref()),
            )
            .with_help(format!("scenarios: {}", names.join(", ")))
        })
        .collect();
    if !unknown.is_empty() {
        return Err(ScenarioErrors(unknown));
    }
    let skipped: Vec<String> = all
        .iter()
        .filter(|m| members.get(&m.plan.name).is_some_and(|s| s.skip))
        .map(|m| m.plan.name.clone())
        .collect();
    all.retain(|m| !skipped.contains(&m.plan.name));
    Ok(Target::Suite(Suite {
        name: suite
            .name
            .as_ref()
            .map(|n| n.get_ref().clone())
            .unwrap_or_else(|| folder_name(&dir)),
        source: Some(file.to_path_buf()),
        members: all,
        skipped,
        store,
        labels: suite.labels.clone(),
        compare,
    }))
}

/// Loads every scenario with the suite's defaults and per-scenario overrides under the
/// command line's; every problem of every file is collected.
fn plans(
    files: &[PathBuf],
    cli: &Overrides,
    members: &BTreeMap<String, MemberSettings>,
    defaults: &Defaults,
) -> Result<Vec<Member>, ScenarioErrors> {
    let mut errors = Vec::new();
    let mut out: Vec<Member> = Vec::new();
    for file in files {
        if super::mix::is_mix_file(file) {
            errors.push(Diagnostic::whole_file(
                file,
                "this is a mix file: a suite runs scenario files; run the mix on its own (`rehearse run MIX`)",
            ));
            continue;
        }
        // The scenario's own name decides which overrides apply, so it is read first with
        // the command line's overrides only, then again with the suite's under them.
        let first = super::load(file, &merged(cli, &Overrides::default(), defaults));
        let plan = match first {
            Ok(p) => match members.get(&p.name) {
                Some(m) => super::load(file, &merged(cli, &m.overrides, defaults)),
                None => Ok(p),
            },
            Err(e) => Err(e),
        };
        match plan {
            Ok(mut plan) => {
                apply_gates(&mut plan, defaults);
                if out.iter().any(|m| m.plan.name == plan.name) {
                    errors.push(Diagnostic::whole_file(
                        file,
                        format!(
                            "two scenarios of the suite are called `{}`: names must be unique",
                            plan.name
                        ),
                    ));
                    continue;
                }
                let weight = members
                    .get(&plan.name)
                    .and_then(|m| m.weight)
                    .unwrap_or_else(|| planned_seconds(&plan));
                out.push(Member { plan, weight });
            }
            Err(e) => errors.extend(e.0),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(ScenarioErrors(errors))
    }
}

/// The command line's overrides over a suite member's, over the suite's target.
fn merged(cli: &Overrides, member: &Overrides, defaults: &Defaults) -> Overrides {
    Overrides {
        target: cli.target.clone().or_else(|| defaults.target.clone()),
        duration: cli.duration.or(member.duration),
        warmup: cli.warmup.or(member.warmup),
        rate: cli.rate.or(member.rate),
        users: cli.users.or(member.users),
        iterations: cli.iterations.or(member.iterations),
    }
}

/// The suite's `[thresholds]` and `[compare]` under each scenario's own: a workflow metric
/// the scenario sets is its own; the suite's error rate replaces only the default one.
fn apply_gates(plan: &mut Plan, defaults: &Defaults) {
    for t in &defaults.thresholds {
        let own = plan
            .thresholds
            .iter()
            .any(|p| !p.default && p.workflow && p.metric == t.metric);
        if own {
            continue;
        }
        plan.thresholds
            .retain(|p| !(p.default && p.workflow && p.metric == t.metric));
        plan.thresholds.push(t.clone());
    }
    let c = &mut plan.compare;
    let d = &defaults.compare;
    c.alpha = c.alpha.or(d.alpha);
    c.history = c.history.or(d.history);
    c.eq_margin = c.eq_margin.or(d.eq_margin);
    for (k, v) in &d.min_effect {
        c.min_effect.entry(k.clone()).or_insert(*v);
    }
}

/// How long a scenario is planned to take, seconds: its warm-up and measured profile (an
/// iteration-bounded one counts its ten-minute safety limit, as a pessimist would).
fn planned_seconds(plan: &Plan) -> f64 {
    plan.load.total_duration().as_secs_f64().max(1.0)
}

/// Splits a suite into `parts` shards balanced by weight: the heaviest scenario first, each
/// to the lightest shard so far (ties to the lowest shard), names breaking ties, so every CI
/// job computes the same split on its own. Returns each member's shard (1-based).
pub fn shard(members: &[Member], parts: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..members.len()).collect();
    order.sort_by(|&a, &b| {
        members[b]
            .weight
            .total_cmp(&members[a].weight)
            .then_with(|| members[a].plan.name.cmp(&members[b].plan.name))
    });
    let mut load = vec![0.0f64; parts.max(1)];
    let mut assigned = vec![0usize; members.len()];
    for i in order {
        let lightest = (0..load.len())
            .min_by(|&a, &b| load[a].total_cmp(&load[b]).then(a.cmp(&b)))
            .expect("at least one shard");
        load[lightest] += members[i].weight;
        assigned[i] = lightest + 1;
    }
    assigned
}

#[cfg(test)]
mod tests;
