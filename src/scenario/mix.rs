//! Workflow mixes: several scenarios run at the same time against one target, as real traffic
//! is, so a regression that appears only when browsing and paying contend shows. A mix file
//! (a TOML file with a `[mix]` table) names the scenarios with weights (shares of the mix's
//! total rate or users) or each with its own rate or users; every member keeps its own
//! arrival process, data, cookies and checks, and the run holds every member's steps under
//! qualified names (`pay-invoice/pay`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::{Spanned, Value};

use super::diagnostic::{Diagnostic, ScenarioErrors, SourceFile};
use super::raw::RawCompare;
use super::{Overrides, Plan};
use crate::model::{CompareSettings, Threshold};

/// The separator between a member's name and its step's in a mix run.
pub const QUALIFIER: char = '/';

/// A mix file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMixFile {
    mix: Spanned<RawMix>,
    #[serde(default)]
    thresholds: BTreeMap<Spanned<String>, Spanned<Value>>,
    compare: Option<Spanned<RawCompare>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMix {
    name: Option<Spanned<String>>,
    description: Option<String>,
    target: Option<Spanned<String>>,
    rate: Option<Spanned<Value>>,
    users: Option<Spanned<i64>>,
    duration: Option<Spanned<Value>>,
    warmup: Option<Spanned<Value>>,
    scenarios: Spanned<BTreeMap<Spanned<String>, Spanned<Value>>>,
}

/// A mix ready to run.
#[derive(Debug, Clone)]
pub struct Mix {
    /// The run's scenario name (`[mix] name`, else the file's stem).
    pub name: String,
    /// Free text from `description`.
    pub description: String,
    /// The mix file.
    pub source: PathBuf,
    /// `sha256:` of the mix file and every member's hash: runs of another mix are told apart.
    pub hash: String,
    /// The scenarios, each with its share of the load already applied to its plan.
    pub members: Vec<MixMember>,
    /// The mix's thresholds (on qualified step names and the whole mix) and every member's,
    /// qualified.
    pub thresholds: Vec<Threshold>,
    /// Regression-verdict settings for the mix run.
    pub compare: CompareSettings,
    /// The mix's total level: `(open, level)`, rate per second or users; members with a
    /// level of their own are not in it.
    pub level: Option<(bool, f64)>,
    /// Measured duration every member runs.
    pub duration: Duration,
    /// Warm-up every member runs.
    pub warmup: Duration,
}

/// One scenario of a mix.
#[derive(Debug, Clone)]
pub struct MixMember {
    /// Its plan, its load set to its share.
    pub plan: Plan,
    /// Its weight, when it takes a share of the mix's level.
    pub weight: Option<f64>,
}

/// How a member's load is given.
#[derive(Debug, Clone, Copy)]
enum Share {
    Weight(f64),
    Rate(f64),
    Users(u32),
}

/// Whether a file is a mix file (it has a `[mix]` table) rather than a scenario.
pub fn is_mix_file(path: &Path) -> bool {
    super::limits::read_capped(path, super::limits::MAX_SCENARIO_FILE)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|t| t.parse::<toml::Table>().ok())
        .is_some_and(|t| t.contains_key("mix"))
}

/// Reads and validates a mix file and every scenario it names; `cli` (the command line's
/// overrides) beats the file: `--rate`/`--users` replace the mix's total level, `--duration`
/// and `--warmup` its own, `--target` every member's.
pub fn load(file: &Path, cli: &Overrides) -> Result<Mix, ScenarioErrors> {
    let one = |m: String| ScenarioErrors(vec![Diagnostic::whole_file(file, m)]);
    let bytes = super::limits::read_capped(file, super::limits::MAX_SCENARIO_FILE)
        .map_err(|e| one(format!("cannot read the mix file: {e}")))?;
    let text = String::from_utf8(bytes.clone()).map_err(|_| one("not UTF-8 text".into()))?;
    let source = SourceFile::new(file, text);
    parse(&source, &bytes, cli, &super::env::process_env)
}

fn parse(
    source: &SourceFile,
    bytes: &[u8],
    cli: &Overrides,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Mix, ScenarioErrors> {
    let raw: RawMixFile = toml::from_str(&source.text).map_err(|e| {
        ScenarioErrors(vec![Diagnostic::at(
            source,
            e.span().unwrap_or(0..0),
            e.message().trim().replace('\n', " "),
        )])
    })?;
    let mut diags = Vec::new();
    let mix = raw.mix.get_ref();
    let at = |span: std::ops::Range<usize>, m: String| Diagnostic::at(source, span, m);
    let dir = source
        .path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();

    let duration = |v: &Spanned<Value>, name: &str, zero_ok: bool, diags: &mut Vec<Diagnostic>| {
        let parsed = match v.get_ref() {
            Value::String(s) => super::units::parse_duration(s),
            _ => Err(format!("expected a duration such as \"30s\" for `{name}`")),
        };
        parsed
            .and_then(|d| {
                let max = if zero_ok {
                    super::limits::MAX_WARMUP
                } else {
                    super::limits::MAX_DURATION
                };
                super::limits::check_duration(name, d, !zero_ok, max)
            })
            .map_err(|e| diags.push(at(v.span(), e)))
            .ok()
    };
    let rate = |v: &Spanned<Value>, diags: &mut Vec<Diagnostic>| {
        let parsed = match v.get_ref() {
            Value::String(s) => super::units::parse_rate(s),
            _ => Err("expected a rate such as \"20/s\"".to_string()),
        };
        parsed
            .and_then(|r| super::limits::check_rate("rate", r, false))
            .map_err(|e| diags.push(at(v.span(), e)))
            .ok()
    };
    let users = |v: &Spanned<i64>, diags: &mut Vec<Diagnostic>| {
        super::limits::check_count("users", *v.get_ref(), 1, super::limits::MAX_USERS)
            .map_err(|e| diags.push(at(v.span(), e)))
            .ok()
            .map(|u| u as u32)
    };

    let mut level = match (&mix.rate, &mix.users) {
        (Some(r), None) => rate(r, &mut diags).map(|r| (true, r)),
        (None, Some(u)) => users(u, &mut diags).map(|u| (false, f64::from(u))),
        (Some(_), Some(u)) => {
            diags.push(at(
                u.span(),
                "a mix has a total `rate` (open model) or `users` (closed), not both".into(),
            ));
            None
        }
        (None, None) => None,
    };
    if let Some(r) = cli.rate {
        level = Some((true, r));
    } else if let Some(u) = cli.users {
        level = Some((false, f64::from(u)));
    }
    let mix_duration = match (&mix.duration, cli.duration) {
        (_, Some(d)) => Some(d),
        (Some(v), None) => duration(v, "duration", false, &mut diags),
        (None, None) => {
            diags.push(at(
                raw.mix.span(),
                "a mix needs a `duration`: every scenario of it runs that long, together".into(),
            ));
            None
        }
    };
    let warmup = match (&mix.warmup, cli.warmup) {
        (_, Some(w)) => Some(w),
        (Some(v), None) => duration(v, "warmup", true, &mut diags),
        (None, None) => Some(Duration::ZERO),
    };
    let target = match (&cli.target, &mix.target) {
        (Some(t), _) => Some(t.clone()),
        (None, Some(t)) => super::env::interpolate(t.get_ref(), env)
            .map_err(|e| {
                let span = source.find_in(&t.span(), &e.reference);
                diags.push(at(span, e.message));
            })
            .ok(),
        (None, None) => None,
    };

    // Each member: its file and how its load is given.
    let mut wanted: Vec<(Spanned<String>, Share)> = Vec::new();
    if mix.scenarios.get_ref().is_empty() {
        diags.push(at(
            mix.scenarios.span(),
            "`scenarios` is empty: name the scenario files of the mix".into(),
        ));
    }
    for (file, value) in mix.scenarios.get_ref() {
        let before = diags.len();
        let share = match value.get_ref() {
            Value::Integer(w) => Some(Share::Weight(*w as f64)),
            Value::Float(w) => Some(Share::Weight(*w)),
            Value::Table(t) => {
                let keys: Vec<&str> = t.keys().map(String::as_str).collect();
                match keys.as_slice() {
                    ["weight"] => t["weight"]
                        .as_float()
                        .or_else(|| t["weight"].as_integer().map(|i| i as f64))
                        .map(Share::Weight),
                    ["rate"] => {
                        let v = Spanned::new(value.span(), t["rate"].clone());
                        rate(&v, &mut diags).map(Share::Rate)
                    }
                    ["users"] => match t["users"].as_integer() {
                        Some(u) => {
                            users(&Spanned::new(value.span(), u), &mut diags).map(Share::Users)
                        }
                        None => None,
                    },
                    _ => None,
                }
            }
            _ => None,
        };
        let Some(share) = share else {
            if diags.len() == before {
                diags.push(
                    at(
                        value.span(),
                        format!("cannot read the share of `{}`", file.get_ref()),
                    )
                    .with_help(
                        "write a weight (`\"pay-invoice.toml\" = 20`) or the member's own load: `{ rate = \"2/s\" }` or `{ users = 3 }`",
                    ),
                );
            }
            continue;
        };
        if let Share::Weight(w) = share {
            if !(w.is_finite() && w > 0.0) {
                diags.push(at(value.span(), "a weight must be more than 0".into()));
                continue;
            }
            if level.is_none() && mix.rate.is_none() && mix.users.is_none() {
                diags.push(
                    at(
                        value.span(),
                        format!("`{}` has a weight, but the mix has no total `rate` or `users` to share", file.get_ref()),
                    )
                    .with_help("add `rate = \"20/s\"` (or `users = 20`) to `[mix]`, or give this scenario its own `{ rate = \"2/s\" }`"),
                );
                continue;
            }
        }
        if !dir.join(file.get_ref()).is_file() {
            diags.push(at(
                file.span(),
                format!("no scenario file `{}` beside the mix file", file.get_ref()),
            ));
            continue;
        }
        wanted.push((file.clone(), share));
    }
    let weighted = wanted.iter().any(|(_, s)| matches!(s, Share::Weight(_)));
    if !weighted && (cli.rate.is_some() || cli.users.is_some()) {
        diags.push(at(
            mix.scenarios.span(),
            "--rate and --users replace the mix's total, which only weighted scenarios share, and every scenario of this mix has its own level".into(),
        ));
    }
    if !diags.is_empty() {
        return Err(ScenarioErrors(diags));
    }
    let (duration, warmup) = (mix_duration.unwrap_or_default(), warmup.unwrap_or_default());
    let total_weight: f64 = wanted
        .iter()
        .filter_map(|(_, s)| match s {
            Share::Weight(w) => Some(*w),
            _ => None,
        })
        .sum();

    let mut errors = Vec::new();
    let mut members: Vec<MixMember> = Vec::new();
    for (file, share) in &wanted {
        let mut overrides = Overrides {
            target: target.clone(),
            duration: Some(duration),
            warmup: Some(warmup),
            iterations: cli.iterations,
            ..Overrides::default()
        };
        let mut weight = None;
        match (*share, level) {
            (Share::Weight(w), Some((true, rate))) => {
                overrides.rate = Some(rate * w / total_weight);
                weight = Some(w);
            }
            (Share::Weight(w), Some((false, users))) => {
                // Users come whole: each member gets at least one.
                overrides.users = Some(((users * w / total_weight).round() as u32).max(1));
                weight = Some(w);
            }
            // Refused above: a weight needs a level to share.
            (Share::Weight(_), None) => continue,
            (Share::Rate(r), _) => overrides.rate = Some(r),
            (Share::Users(u), _) => overrides.users = Some(u),
        }
        match super::load(&dir.join(file.get_ref()), &overrides) {
            Ok(plan) => {
                if plan.name.contains(QUALIFIER) {
                    errors.push(at(
                        file.span(),
                        format!(
                            "the scenario `{}` has a `{QUALIFIER}` in its name, which a mix uses to qualify step names",
                            plan.name
                        ),
                    ));
                } else if members.iter().any(|m| m.plan.name == plan.name) {
                    errors.push(at(
                        file.span(),
                        format!(
                            "two scenarios of the mix are called `{}`: names must be unique",
                            plan.name
                        ),
                    ));
                } else {
                    members.push(MixMember { plan, weight });
                }
            }
            Err(e) => errors.extend(e.0),
        }
    }
    if !errors.is_empty() {
        return Err(ScenarioErrors(errors));
    }

    let steps: Vec<String> = members
        .iter()
        .flat_map(|m| {
            m.plan
                .steps
                .iter()
                .map(|s| qualified(&m.plan.name, &s.name))
                .chain([qualified(&m.plan.name, "workflow")])
        })
        .collect();
    let (mut thresholds, compare) =
        super::build::mix_gates(&raw.thresholds, raw.compare.as_ref(), source, env, &steps)
            .map_err(ScenarioErrors)?;
    for m in &members {
        // A scenario's default error rate is not its author's word; the mix's own governs.
        for t in m.plan.thresholds.iter().filter(|t| !t.default) {
            let mut t = t.clone();
            let own = if t.workflow {
                "workflow"
            } else {
                t.step.as_str()
            }
            .to_string();
            t.step = qualified(&m.plan.name, &own);
            t.expression = match t.expression.strip_prefix(&format!("{own}.")) {
                Some(rest) => format!("{}.{rest}", t.step),
                None => format!("{}: {}", m.plan.name, t.expression),
            };
            t.workflow = false;
            thresholds.push(t);
        }
    }
    let mut hashed = bytes.to_vec();
    for m in &members {
        hashed.extend_from_slice(m.plan.hash.as_bytes());
    }
    let name = match &mix.name {
        Some(n) if !n.get_ref().trim().is_empty() => n.get_ref().clone(),
        _ => source
            .path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "mix".into()),
    };
    Ok(Mix {
        name,
        description: mix.description.clone().unwrap_or_default(),
        source: source.path.clone(),
        hash: super::content_hash(&hashed),
        members,
        thresholds,
        compare,
        level,
        duration,
        warmup,
    })
}

impl Mix {
    /// Each member with its load, e.g. `pay-invoice 4/s (20%), browse-invoices 14/s (70%)`.
    pub fn describe(&self) -> String {
        let total: f64 = self.members.iter().filter_map(|m| m.weight).sum();
        self.members
            .iter()
            .map(|m| {
                let level = match &m.plan.load.model {
                    super::LoadModel::Open { .. } => {
                        format!("{}/s", trim(m.plan.load.profile.peak()))
                    }
                    super::LoadModel::Closed { .. } => {
                        format!("{} users", trim(m.plan.load.profile.peak()))
                    }
                };
                match m.weight {
                    Some(w) => format!("{} {level} ({}%)", m.plan.name, trim(w / total * 100.0)),
                    None => format!("{} {level}", m.plan.name),
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A number with at most 3 decimals, without trailing zeros.
fn trim(x: f64) -> String {
    let s = format!("{x:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A member's step name in the mix run: `member/step`.
pub fn qualified(member: &str, step: &str) -> String {
    format!("{member}{QUALIFIER}{step}")
}

#[cfg(test)]
mod tests;
