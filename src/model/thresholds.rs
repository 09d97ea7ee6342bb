//! Absolute thresholds (SLOs), evaluated on one run or pooled over several candidate runs.

use super::{
    RunResult, StepResult, SummaryMetric, Threshold, ThresholdResult, decode, new_histogram,
};

/// Evaluates every threshold on the runs taken together: latency histograms are merged,
/// error rates pooled, throughput averaged.
pub fn evaluate(thresholds: &[Threshold], runs: &[&RunResult]) -> Vec<ThresholdResult> {
    thresholds
        .iter()
        .map(|t| {
            let steps: Vec<&StepResult> = runs
                .iter()
                .filter_map(|r| {
                    if t.workflow {
                        r.workflow.as_ref()
                    } else {
                        r.steps.iter().find(|s| s.name == t.step)
                    }
                })
                .collect();
            let value = measure(t.metric, &steps);
            ThresholdResult {
                threshold: t.clone(),
                value,
                passed: value.is_some_and(|v| t.op.holds(v, t.limit)),
            }
        })
        .collect()
}

fn measure(metric: SummaryMetric, steps: &[&StepResult]) -> Option<f64> {
    if steps.is_empty() {
        return None;
    }
    match metric {
        SummaryMetric::ErrorRate => {
            let count: u64 = steps.iter().map(|s| s.count).sum();
            let errors: u64 = steps.iter().map(|s| s.errors).sum();
            (count > 0).then(|| errors as f64 / count as f64)
        }
        SummaryMetric::Throughput => {
            Some(steps.iter().map(|s| s.throughput).sum::<f64>() / steps.len() as f64)
        }
        _ => {
            let mut merged = new_histogram();
            for s in steps {
                let h = decode(&s.histogram).ok()?;
                merged.add(&h).ok()?;
            }
            if merged.is_empty() {
                return None;
            }
            Some(match metric {
                SummaryMetric::Max => merged.max() as f64,
                SummaryMetric::Mean => merged.mean(),
                m => merged.value_at_quantile(m.quantile().expect("a percentile")) as f64,
            })
        }
    }
}
