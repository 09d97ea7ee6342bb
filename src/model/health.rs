//! When a run's own generator was the bottleneck: the documented rule that marks a run
//! `harness_limited`, from figures the run carries (each step's schedule lag and latency,
//! the machine's CPU pressure). Later stages treat such runs' latencies with suspicion.

use super::result::{HarnessHealth, StepResult};

/// Schedule lag at or below this is never a problem: a millisecond is within the noise of
/// any networked target.
pub const LAG_FLOOR_US: u64 = 1_000;

/// Schedule lag above this share of a step's median latency distorts it.
pub const LAG_SHARE: f64 = 0.10;

/// CPU pressure above this share of the measured window (some task waiting for a CPU half
/// the time) means responses were also read late, which no lag figure shows.
pub const PRESSURE_LIMIT: f64 = 0.5;

/// Why the generator limited a run: each step whose lag p99 exceeds both [`LAG_FLOOR_US`]
/// and [`LAG_SHARE`] of its median latency, and sustained CPU pressure above
/// [`PRESSURE_LIMIT`]. Empty when the run's latencies are the target's.
pub fn limits(steps: &[StepResult], health: &HarnessHealth) -> Vec<String> {
    let mut reasons = Vec::new();
    for step in steps {
        let Some(lag) = &step.lag else { continue };
        let p50 = step.latency.p50;
        if lag.p99 > LAG_FLOOR_US && lag.p99 as f64 > LAG_SHARE * p50 as f64 {
            reasons.push(format!(
                "`{}`: schedule lag p99 {} is above 1 ms and 10% of its median latency ({})",
                step.name,
                ms(lag.p99),
                ms(p50)
            ));
        }
    }
    if let Some(p) = health.pressure_some.filter(|p| *p > PRESSURE_LIMIT) {
        reasons.push(format!(
            "the machine's CPUs were contended {:.0}% of the measured window (some task waiting for a CPU), so responses were read late too",
            p * 100.0
        ));
    }
    reasons
}

fn ms(us: u64) -> String {
    if us >= 10_000 {
        format!("{:.1} ms", us as f64 / 1000.0)
    } else {
        format!("{:.2} ms", us as f64 / 1000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{LatencySummary, new_histogram};

    fn step(p50: u64, lag_p99: u64) -> StepResult {
        let mut h = new_histogram();
        h.record(p50).unwrap();
        let mut s = StepResult::from_histogram("pay", &h, 10.0);
        s.lag = Some(LatencySummary {
            p99: lag_p99,
            ..Default::default()
        });
        s
    }

    #[test]
    fn lag_that_is_small_or_small_beside_the_latency_is_fine() {
        let quiet = HarnessHealth::default();
        assert!(limits(&[step(5_000, 900)], &quiet).is_empty(), "under 1 ms");
        assert!(
            limits(&[step(50_000, 4_000)], &quiet).is_empty(),
            "under 10% of p50"
        );
        let r = limits(&[step(8_000, 2_500)], &quiet);
        assert_eq!(r.len(), 1);
        assert!(r[0].contains("`pay`: schedule lag p99 2.50 ms"), "{r:?}");
        let pressed = HarnessHealth {
            pressure_some: Some(0.7),
            ..Default::default()
        };
        let r = limits(&[step(50_000, 100)], &pressed);
        assert!(r[0].contains("contended 70%"), "{r:?}");
    }
}
