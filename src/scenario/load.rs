//! `[load]`: the open and closed models, stages and the time and iteration limits.

use std::time::Duration;

use toml::{Spanned, Value};

use super::Overrides;
use super::build::{Builder, describe};
use super::limits::{
    self, MAX_DURATION, MAX_GRACE, MAX_IN_FLIGHT, MAX_ITERATIONS, MAX_USERS, MAX_WARMUP,
};
use super::plan::{Arrivals, LoadModel, LoadPlan, Profile, Stage};
use super::raw::{RawLoad, RawStage};
use super::units::parse_rate;

/// Default cap on in-flight iterations in the open model.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 1000;
/// Time limit when only `iterations` bounds a run: every run stops by itself.
pub const SAFETY_DURATION: Duration = Duration::from_secs(600);
/// Default time in-flight iterations get to finish once the run ends.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(5);

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Open,
    Closed,
}

pub(super) fn build_load(
    b: &mut Builder,
    raw: Option<&Spanned<RawLoad>>,
    o: &Overrides,
) -> Option<LoadPlan> {
    let Some(raw) = raw else {
        return from_overrides_only(o);
    };
    let span = raw.span();
    let l = raw.get_ref();
    let before = b.diags.len();

    let explicit =
        l.model
            .as_ref()
            .and_then(|m| match m.get_ref().trim().to_ascii_lowercase().as_str() {
                "open" => Some(Kind::Open),
                "closed" => Some(Kind::Closed),
                other => {
                    b.error(
                        m.span(),
                        format!("unknown load model \"{other}\": expected \"open\" or \"closed\""),
                    );
                    None
                }
            });
    let stage_rate = l
        .stages
        .iter()
        .flatten()
        .any(|s| s.get_ref().rate.is_some());
    let stage_users = l
        .stages
        .iter()
        .flatten()
        .any(|s| s.get_ref().users.is_some());
    let says_open = l.rate.is_some()
        || l.start_rate.is_some()
        || stage_rate
        || l.max_in_flight.is_some()
        || l.arrivals.is_some();
    let says_closed = l.users.is_some() || l.start_users.is_some() || stage_users;
    let mut kind = match (explicit, says_open, says_closed) {
        (Some(k), _, _) => k,
        (None, true, false) => Kind::Open,
        (None, false, true) => Kind::Closed,
        (None, true, true) => {
            b.error_help(span.clone(), "the load mixes open-model settings (rate) with closed-model settings (users)", "use `rate` for arrivals per second (open model) or `users` for looping users (closed model), not both");
            return None;
        }
        (None, false, false) => {
            b.error_help(
                span.clone(),
                "the load sets neither `rate` nor `users`",
                "add `rate = \"20/s\"` (open model) or `users = 10` (closed model)",
            );
            return None;
        }
    };
    // Settings that belong to the other model are mistakes worth naming.
    if kind == Kind::Open {
        for (name, s) in [
            ("users", l.users.as_ref().map(|u| u.span())),
            ("start_users", l.start_users.as_ref().map(|u| u.span())),
            ("think", l.think.as_ref().map(|t| t.span())),
        ] {
            if let Some(s) = s {
                b.error(s, format!("`{name}` belongs to the closed model, but this load is open (it has a rate)"));
            }
        }
    } else {
        for (name, s) in [
            ("rate", l.rate.as_ref().map(|u| u.span())),
            ("start_rate", l.start_rate.as_ref().map(|u| u.span())),
            ("max_in_flight", l.max_in_flight.as_ref().map(|t| t.span())),
            ("arrivals", l.arrivals.as_ref().map(|t| t.span())),
        ] {
            if let Some(s) = s {
                b.error(
                    s,
                    format!(
                        "`{name}` belongs to the open model, but this load is closed (it has users)"
                    ),
                );
            }
        }
    }

    let duration = l
        .duration
        .as_ref()
        .and_then(|d| b.duration_in(d, "duration", true, MAX_DURATION));
    if let (Some(d), Some(_)) = (&l.duration, &l.stages) {
        b.error_help(
            d.span(),
            "`duration` and `stages` both set the run's length",
            "remove `duration`: the stages' durations add up to the run's length",
        );
    }
    let warmup = l
        .warmup
        .as_ref()
        .and_then(|w| b.duration_in(w, "warmup", false, MAX_WARMUP))
        .unwrap_or_default();
    let grace = l
        .grace
        .as_ref()
        .and_then(|g| b.duration_in(g, "grace", false, MAX_GRACE))
        .unwrap_or(DEFAULT_GRACE);
    let iterations = l
        .iterations
        .as_ref()
        .and_then(|i| count(b, i, "iterations", 1, MAX_ITERATIONS));
    if l.duration.is_none() && l.stages.is_none() && l.iterations.is_none() {
        b.error_help(
            span.clone(),
            "the load has no end",
            "set `duration = \"30s\"`, `iterations = 100` or `stages`",
        );
    }
    let length = duration.unwrap_or(if l.stages.is_none() {
        SAFETY_DURATION
    } else {
        Duration::ZERO
    });

    let mut profile = match (&l.stages, kind) {
        (Some(stages), _) => {
            if stages.is_empty() {
                b.error(span.clone(), "`stages` is empty");
            }
            let start = match kind {
                Kind::Open => l
                    .start_rate
                    .as_ref()
                    .and_then(|r| rate(b, r, "start_rate", true))
                    .unwrap_or(0.0),
                Kind::Closed => l
                    .start_users
                    .as_ref()
                    .and_then(|u| count(b, u, "start_users", 0, MAX_USERS))
                    .unwrap_or(0) as f64,
            };
            let stages: Vec<Stage> = stages
                .iter()
                .filter_map(|s| stage(b, s, kind == Kind::Open))
                .collect();
            let total: Duration = stages.iter().map(|s| s.duration).sum();
            if !stages.is_empty() && (total.is_zero() || total > MAX_DURATION) {
                b.error(
                    span.clone(),
                    format!(
                        "the stages last {} in all: a run must last more than 0 and at most {}",
                        humantime::format_duration(total),
                        humantime::format_duration(MAX_DURATION)
                    ),
                );
            }
            Profile { start, stages }
        }
        (None, Kind::Open) => {
            let r = l
                .rate
                .as_ref()
                .and_then(|r| rate(b, r, "rate", false))
                .unwrap_or(0.0);
            Profile::constant(r, length)
        }
        (None, Kind::Closed) => {
            let u = l
                .users
                .as_ref()
                .and_then(|u| count(b, u, "users", 1, MAX_USERS))
                .unwrap_or(1);
            Profile::constant(u as f64, length)
        }
    };
    let max_in_flight = l
        .max_in_flight
        .as_ref()
        .and_then(|m| count(b, m, "max_in_flight", 1, MAX_IN_FLIGHT))
        .map(|m| m as usize)
        .unwrap_or(DEFAULT_MAX_IN_FLIGHT);
    let think = l.think.as_ref().and_then(|t| b.think(t));
    let arrivals = match &l.arrivals {
        None => Arrivals::Uniform,
        Some(a) => {
            match a.get_ref().trim().to_ascii_lowercase().as_str() {
                "uniform" => Arrivals::Uniform,
                "poisson" => Arrivals::Poisson,
                other => {
                    b.error(
                    a.span(),
                    format!("unknown arrival process \"{other}\": expected \"uniform\" or \"poisson\""),
                );
                    Arrivals::Uniform
                }
            }
        }
    };
    if b.diags.len() > before {
        return None;
    }

    let mut iterations = iterations;
    apply_overrides(&mut kind, &mut profile, &mut iterations, o);
    let model = match kind {
        Kind::Open => LoadModel::Open { max_in_flight },
        Kind::Closed => LoadModel::Closed { think },
    };
    Some(LoadPlan {
        model,
        warmup: o.warmup.unwrap_or(warmup),
        profile,
        iterations,
        grace,
        arrivals,
    })
}

/// Command-line overrides, merged over the file's settings in this one place.
fn apply_overrides(
    kind: &mut Kind,
    profile: &mut Profile,
    iterations: &mut Option<u64>,
    o: &Overrides,
) {
    if let Some(d) = o.duration {
        let total = profile.duration().as_secs_f64();
        let ramps =
            profile.stages.len() > 1 || profile.stages.iter().any(|st| st.target != profile.start);
        if ramps && total > 0.0 {
            // Keep the shape of a ramp, squeezed or stretched to the requested length.
            let scale = d.as_secs_f64() / total;
            for s in &mut profile.stages {
                s.duration = s.duration.mul_f64(scale);
            }
        } else {
            *profile = Profile::constant(profile.peak(), d);
        }
    }
    if let Some(r) = o.rate {
        *kind = Kind::Open;
        *profile = Profile::constant(r, profile.duration());
    }
    if let Some(u) = o.users {
        *kind = Kind::Closed;
        *profile = Profile::constant(u as f64, profile.duration());
    }
    if let Some(n) = o.iterations {
        *iterations = Some(n);
    }
}

/// A scenario without `[load]`: one user, one iteration (a smoke run), unless overridden.
fn from_overrides_only(o: &Overrides) -> Option<LoadPlan> {
    let mut kind = Kind::Closed;
    let mut profile = Profile::constant(1.0, SAFETY_DURATION);
    let mut iterations = if o.duration.is_some() { None } else { Some(1) };
    apply_overrides(&mut kind, &mut profile, &mut iterations, o);
    Some(LoadPlan {
        model: match kind {
            Kind::Open => LoadModel::Open {
                max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            },
            Kind::Closed => LoadModel::Closed { think: None },
        },
        warmup: o.warmup.unwrap_or_default(),
        profile,
        iterations,
        grace: DEFAULT_GRACE,
        arrivals: Arrivals::Uniform,
    })
}

fn stage(b: &mut Builder, s: &Spanned<RawStage>, open: bool) -> Option<Stage> {
    let st = s.get_ref();
    let duration = b.duration_in(&st.duration, "duration", false, MAX_DURATION);
    let target = match (open, &st.rate, &st.users) {
        (true, Some(r), None) => rate(b, r, "rate", true),
        (false, None, Some(u)) => count(b, u, "users", 0, MAX_USERS).map(|u| u as f64),
        (true, _, Some(u)) => {
            b.error(
                u.span(),
                "this load is open (it has a rate): stages set `rate`, not `users`",
            );
            None
        }
        (false, Some(r), _) => {
            b.error(
                r.span(),
                "this load is closed (it has users): stages set `users`, not `rate`",
            );
            None
        }
        (_, None, None) => {
            let what = if open {
                "rate = \"50/s\""
            } else {
                "users = 10"
            };
            b.error_help(
                s.span(),
                "a stage needs a target level",
                format!("add `{what}` to the stage"),
            );
            None
        }
    };
    Some(Stage {
        duration: duration?,
        target: target?,
    })
}

fn rate(b: &mut Builder, v: &Spanned<Value>, name: &str, zero_ok: bool) -> Option<f64> {
    match v.get_ref() {
        Value::String(s) => parse_rate(s)
            .and_then(|r| limits::check_rate(name, r, zero_ok))
            .map_err(|e| b.error(v.span(), e))
            .ok(),
        other => {
            b.error(
                v.span(),
                format!(
                    "expected a rate string such as \"50/s\", found {}",
                    describe(other)
                ),
            );
            None
        }
    }
}

fn count(b: &mut Builder, v: &Spanned<i64>, what: &str, min: u64, max: u64) -> Option<u64> {
    limits::check_count(what, *v.get_ref(), min, max)
        .map_err(|e| b.error(v.span(), e))
        .ok()
}
