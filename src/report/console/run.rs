//! The run summary printed after a run: per-step counts and percentiles, errors explained.

use std::fmt::Write;

use super::{fmt_us, shorten, trim};
use crate::model::{Outcome, RunResult, StepResult};

/// The per-step table with the run's headline and any errors explained.
pub fn summary(run: &RunResult) -> String {
    let mut out = String::new();
    let target = run.target.as_deref().unwrap_or("?");
    let load = run
        .load
        .as_ref()
        .map(|l| {
            let level = match (l.rate, l.users) {
                (Some(r), _) => format!("open {}/s", trim(r)),
                (_, Some(1.0)) => "closed 1 user".to_string(),
                (_, Some(u)) => format!("closed {} users", trim(u)),
                _ => l.model.clone(),
            };
            let length = match l.iterations {
                Some(n) => format!("{n} iterations"),
                None => format!("{}s", trim(l.duration_seconds)),
            };
            let warm = if l.warmup_seconds > 0.0 {
                format!(" (+{}s warm-up)", trim(l.warmup_seconds))
            } else {
                String::new()
            };
            format!("{level}, {length}{warm}")
        })
        .unwrap_or_default();
    let state = if run.complete {
        "complete".to_string()
    } else {
        format!(
            "INCOMPLETE: {}",
            run.stop_reason.as_deref().unwrap_or("interrupted")
        )
    };
    // A shard sends a share of the load its settings describe; a merged run is every shard's.
    let share = match (&run.group, run.shards.len()) {
        (Some(g), _) if g.kind == crate::model::GroupKind::Sharded => {
            format!(" (shard index {} of {})", g.part.saturating_sub(1), g.parts)
        }
        (_, n) if n > 0 => format!(" (merged from {n} shards)"),
        _ => String::new(),
    };
    let _ = writeln!(out, "{} · {target} · {load}{share} · {state}", run.scenario);
    let width = run
        .steps
        .iter()
        .map(|s| s.name.chars().count())
        .max()
        .unwrap_or(4)
        .clamp(8, 40);
    let _ = writeln!(
        out,
        "{:<width$}  {:>8} {:>7} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "step", "count", "errors", "p50", "p90", "p99", "max", "rate"
    );
    for step in run.steps.iter().chain(run.workflow.as_ref()) {
        row(&mut out, step, width);
    }
    if let Some(it) = &run.iterations {
        let dropped = match (it.dropped, run.load.as_ref().and_then(|l| l.max_in_flight)) {
            (0, _) => String::new(),
            (n, Some(cap)) => format!(
                ", {n} dropped: max_in_flight ({cap}) iterations were already running when they were due"
            ),
            (n, None) => format!(", {n} dropped"),
        };
        let _ = writeln!(
            out,
            "iterations: {} started, {} completed, {} failed, {} interrupted{dropped}",
            it.started, it.completed, it.failed, it.interrupted
        );
    }
    if let Some(line) = health(run, false) {
        let _ = writeln!(out, "{line}");
    }
    for step in &run.steps {
        if let Some(p) = &step.polls {
            let _ = writeln!(
                out,
                "polls in `{}`: {} requests, {} per attempt on average, at most {}",
                step.name,
                p.requests,
                trim(p.mean),
                p.max
            );
        }
    }
    for step in &run.steps {
        for o in Outcome::ALL.iter().filter(|o| o.is_error()) {
            let n = step.outcomes.get(*o);
            if n > 0 {
                let why = step
                    .error_samples
                    .get(o.name())
                    .map(|m| format!(": {}", shorten(m, 160)))
                    .unwrap_or_default();
                let _ = writeln!(out, "  {} × {} in `{}`{why}", n, o.name(), step.name);
            }
        }
    }
    out
}

/// The load generator's health: a harness-limited run says so and why; a healthy one only
/// when `always` (after a run, a healthy generator is not news).
pub fn health(run: &RunResult, always: bool) -> Option<String> {
    let h = run
        .health
        .as_ref()
        .filter(|h| always || h.harness_limited)?;
    let mut figures = vec![format!(
        "schedule lag p50 {} p99 {} max {}",
        fmt_us(h.lag.p50),
        fmt_us(h.lag.p99),
        fmt_us(h.lag.max)
    )];
    if let Some(c) = h.cpu_cores {
        figures.push(format!("rehearse used {c:.2} cores"));
    }
    if let Some(p) = h.pressure_some {
        figures.push(format!("CPU pressure {:.0}%", p * 100.0));
    }
    let mut text = if h.harness_limited {
        format!(
            "HARNESS-LIMITED: the load generator was starved, so latencies include its own delay ({})",
            figures.join(", ")
        )
    } else {
        format!("load generator healthy: {}", figures.join(", "))
    };
    for r in &h.reasons {
        text.push_str(&format!("\n  - {r}"));
    }
    Some(text)
}

fn row(out: &mut String, s: &StepResult, width: usize) {
    let name: String = if s.name.chars().count() > width {
        s.name.chars().take(width - 1).chain(['…']).collect()
    } else {
        s.name.clone()
    };
    let l = &s.latency;
    let dash = || "-".to_string();
    let has = l.count > 0;
    let _ = writeln!(
        out,
        "{:<width$}  {:>8} {:>7} {:>9} {:>9} {:>9} {:>9} {:>9}",
        name,
        s.count,
        s.errors,
        if has { fmt_us(l.p50) } else { dash() },
        if has { fmt_us(l.p90) } else { dash() },
        if has { fmt_us(l.p99) } else { dash() },
        if has { fmt_us(l.max) } else { dash() },
        format!("{}/s", trim(s.throughput)),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropped_arrivals_are_named_only_when_there_are_some() {
        let mut run: RunResult = serde_json::from_str(
            r#"{"schema": 1, "scenario": "x", "load": {"model": "open", "rate": 10, "duration_seconds": 1, "warmup_seconds": 0, "max_in_flight": 200},
                "iterations": {"started": 10, "completed": 10}, "steps": [{"name": "a", "histogram": ""}]}"#,
        )
        .unwrap();
        let text = summary(&run);
        assert!(
            text.contains("10 started, 10 completed, 0 failed, 0 interrupted\n"),
            "{text}"
        );
        assert!(!text.contains("dropped"), "{text}");
        run.iterations.as_mut().unwrap().dropped = 3;
        assert!(
            summary(&run)
                .contains("3 dropped: max_in_flight (200) iterations were already running"),
            "{}",
            summary(&run)
        );
    }

    #[test]
    fn a_foreign_run_without_load_settings_still_prints() {
        let run: RunResult = serde_json::from_str(
            r#"{"schema": 1, "scenario": "x", "steps": [{"name": "a", "histogram": ""}]}"#,
        )
        .unwrap();
        let text = summary(&run);
        assert!(text.starts_with("x · ? ·"), "{text}");
        assert!(text.contains("\na "), "{text}");
    }
}
