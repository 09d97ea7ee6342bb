//! The load generator's own health, sampled once per interval: how much CPU this process
//! used (getrusage), and how starved the machine was (Linux pressure stall information and
//! steal time). A starved generator sends late, and a late send looks like target latency.

use std::time::Instant;

/// Cumulative counters at one moment.
#[derive(Debug, Clone, Copy, Default)]
struct Reading {
    /// This process's user + system CPU time, µs.
    cpu_us: Option<u64>,
    /// Time some task waited for a CPU (PSI `some` total), µs.
    pressure_some_us: Option<u64>,
    /// Time all non-idle tasks waited for a CPU (PSI `full` total), µs.
    pressure_full_us: Option<u64>,
    /// (steal, total) CPU time from /proc/stat, in clock ticks.
    steal: Option<(u64, u64)>,
    at: Option<Instant>,
}

/// What one interval looked like.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct MachineSample {
    /// Average cores this process kept busy (1.5 = one and a half cores).
    pub cpu_cores: Option<f64>,
    /// Share of the interval some task waited for a CPU (0..1).
    pub pressure_some: Option<f64>,
    /// Share of the interval every non-idle task waited for a CPU (0..1).
    pub pressure_full: Option<f64>,
    /// Share of the machine's CPU time stolen by the hypervisor (0..1).
    pub steal: Option<f64>,
}

/// Samples the counters and returns the differences since the previous sample.
#[derive(Debug, Default)]
pub struct Probe {
    last: Reading,
}

impl Probe {
    /// A probe whose first interval starts now.
    pub fn start() -> Self {
        Self { last: read() }
    }

    /// The interval since the previous call (or `start`).
    pub fn sample(&mut self) -> MachineSample {
        let now = read();
        let prev = std::mem::replace(&mut self.last, now);
        let wall_us = match (prev.at, now.at) {
            (Some(a), Some(b)) => b.saturating_duration_since(a).as_micros() as f64,
            _ => 0.0,
        };
        let share = |a: Option<u64>, b: Option<u64>| match (a, b) {
            (Some(a), Some(b)) if wall_us > 0.0 => {
                Some((b.saturating_sub(a) as f64 / wall_us).clamp(0.0, f64::MAX))
            }
            _ => None,
        };
        MachineSample {
            cpu_cores: share(prev.cpu_us, now.cpu_us),
            pressure_some: share(prev.pressure_some_us, now.pressure_some_us).map(|s| s.min(1.0)),
            pressure_full: share(prev.pressure_full_us, now.pressure_full_us).map(|s| s.min(1.0)),
            steal: match (prev.steal, now.steal) {
                (Some((s0, t0)), Some((s1, t1))) if t1 > t0 => {
                    Some(s1.saturating_sub(s0) as f64 / (t1 - t0) as f64)
                }
                _ => None,
            },
        }
    }
}

fn read() -> Reading {
    let (pressure_some_us, pressure_full_us) = pressure();
    Reading {
        cpu_us: process_cpu_us(),
        pressure_some_us,
        pressure_full_us,
        steal: steal(),
        at: Some(Instant::now()),
    }
}

#[cfg(unix)]
fn process_cpu_us() -> Option<u64> {
    // SAFETY: getrusage writes into the struct we pass and reads nothing else.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    if rc != 0 {
        return None;
    }
    let us = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    Some(us(usage.ru_utime) + us(usage.ru_stime))
}

#[cfg(not(unix))]
fn process_cpu_us() -> Option<u64> {
    None
}

/// `/proc/pressure/cpu` totals: `some avg10=… total=N` and `full … total=N` (µs).
fn pressure() -> (Option<u64>, Option<u64>) {
    let Ok(text) = std::fs::read_to_string("/proc/pressure/cpu") else {
        return (None, None);
    };
    parse_pressure(&text)
}

fn parse_pressure(text: &str) -> (Option<u64>, Option<u64>) {
    let total = |kind: &str| {
        text.lines()
            .find(|l| l.starts_with(kind))?
            .split_whitespace()
            .find_map(|f| f.strip_prefix("total="))?
            .parse()
            .ok()
    };
    (total("some"), total("full"))
}

/// (steal, total) ticks of the `cpu` line of `/proc/stat`.
fn steal() -> Option<(u64, u64)> {
    let text = std::fs::read_to_string("/proc/stat").ok()?;
    parse_steal(&text)
}

fn parse_steal(text: &str) -> Option<(u64, u64)> {
    let line = text.lines().find(|l| l.starts_with("cpu "))?;
    let fields: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal [guest guest_nice]: guest time is
    // already counted in user, so the total stops at steal.
    let total = fields.iter().take(8).sum();
    Some((*fields.get(7)?, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pressure_and_steal_parse() {
        let psi = "some avg10=1.50 avg60=0.80 avg300=0.20 total=123456\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=789\n";
        assert_eq!(parse_pressure(psi), (Some(123_456), Some(789)));
        assert_eq!(parse_pressure("garbage"), (None, None));
        let stat = "cpu  100 0 50 800 10 0 5 35 0 0\ncpu0 50 0 25 400 5 0 2 18 0 0\n";
        assert_eq!(parse_steal(stat), Some((35, 1000)));
    }

    #[test]
    fn the_process_sees_its_own_cpu_use() {
        let mut probe = Probe::start();
        let mut x = 0u64;
        for i in 0..5_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        let s = probe.sample();
        if cfg!(unix) {
            assert!(s.cpu_cores.is_some_and(|c| c > 0.0), "{s:?}");
        }
    }
}
