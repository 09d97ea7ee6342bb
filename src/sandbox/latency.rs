//! The latency model: per-endpoint lognormal delays with a Pareto tail, stalls and injected errors.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

use super::config::{SandboxConfig, Stall};

/// Names of the endpoints that have latency, in `Endpoint` order; used by `--slowdown`.
pub const ENDPOINTS: &[&str] = &[
    "login",
    "signup",
    "customer",
    "add_card",
    "list_invoices",
    "search_invoices",
    "create_invoice",
    "get_invoice",
    "pay",
    "receipt",
    "payment",
    "settle",
];

/// Typical median latency of each endpoint on an unloaded staging box, in `ENDPOINTS` order.
/// `payment` is the status lookup; `settle` is no request but the time from a payment's
/// acceptance to its settlement.
const BASE_MEDIAN_MS: [f64; 12] = [
    25.0, 40.0, 5.0, 60.0, 15.0, 30.0, 20.0, 6.0, 80.0, 8.0, 4.0, 150.0,
];

/// Spread of the lognormal body: sigma 0.35 puts p90 at about 1.6 × median.
const SIGMA: f64 = 0.35;
/// Share of requests that land in the slow tail instead of the body.
const TAIL_PROBABILITY: f64 = 0.01;
/// The tail starts at this multiple of the median.
const TAIL_START: f64 = 2.5;
/// Pareto shape of the tail; 2.2 keeps a finite variance, as measured tails usually do.
const TAIL_ALPHA: f64 = 2.2;
/// An unbounded Pareto would once in a blue moon sleep for hours; a proxy would have timed out.
const MAX_FACTOR: f64 = 100.0;

/// An endpoint that has latency; the discriminant indexes `ENDPOINTS`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Endpoint {
    Login,
    Signup,
    Customer,
    AddCard,
    ListInvoices,
    SearchInvoices,
    CreateInvoice,
    GetInvoice,
    Pay,
    Receipt,
    Payment,
    Settle,
}

/// What one request to a paced endpoint gets.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Draw {
    /// How long the whole answer takes, before any freeze.
    pub delay: Duration,
    /// Answer an injected 500 instead of calling the handler.
    pub fail: bool,
}

/// The per-request randomness and timing of a running sandbox.
#[derive(Debug)]
pub(super) struct Pacing {
    /// Median per endpoint with scale and slowdown already applied, in seconds.
    medians: [f64; ENDPOINTS.len()],
    error_rate: f64,
    stall: Option<Stall>,
    seed: u64,
    /// Gives each handler's made-up data (tokens, ids) its own random stream without a lock.
    requests: AtomicU64,
    /// Requests paced so far, per endpoint: the n-th request to an endpoint draws from the
    /// same stream in every run with the same seed, however requests interleave.
    paced: [AtomicU64; ENDPOINTS.len()],
    started: Instant,
}

impl Pacing {
    /// Builds the model from a validated config; stalls are timed from now.
    pub(super) fn new(config: &SandboxConfig) -> Self {
        let mut medians = BASE_MEDIAN_MS.map(|ms| ms / 1000.0 * config.latency_scale);
        for (name, factor) in &config.slowdowns {
            if let Some(index) = ENDPOINTS.iter().position(|known| known == name) {
                medians[index] *= factor;
            }
        }
        Self {
            medians,
            error_rate: config.error_rate,
            stall: config.stall,
            seed: config.seed,
            requests: AtomicU64::new(0),
            paced: std::array::from_fn(|_| AtomicU64::new(0)),
            started: Instant::now(),
        }
    }

    /// A fresh random stream for data a handler makes up, distinct for every call, derived
    /// from the seed.
    pub(super) fn rng(&self) -> fastrand::Rng {
        let n = self.requests.fetch_add(1, Ordering::Relaxed);
        fastrand::Rng::with_seed(splitmix64(self.seed ^ splitmix64(n)))
    }

    /// The latency and fate of the next request to `endpoint`, from that endpoint's own
    /// stream: the n-th request to an endpoint draws the same in every run with the same seed.
    /// One stream for all requests would hand a seed's rare extreme draw to whichever request
    /// happened to arrive n-th: an 8 s pay (a timeout) in one run, a 2.5 s login in the next.
    pub(super) fn draw(&self, endpoint: Endpoint) -> Draw {
        let n = self.paced[endpoint as usize].fetch_add(1, Ordering::Relaxed);
        self.nth(endpoint, n)
    }

    /// The `n`-th draw of `endpoint`'s stream.
    fn nth(&self, endpoint: Endpoint, n: u64) -> Draw {
        let key = splitmix64(self.seed ^ splitmix64(endpoint as u64));
        let mut rng = fastrand::Rng::with_seed(splitmix64(key ^ n));
        let delay = self.delay(endpoint, &mut rng);
        Draw {
            delay,
            fail: self.inject_error(&mut rng),
        }
    }

    /// How long payment number `n` takes to settle: the `n`-th draw of the settlement's own
    /// stream, so the same payment settles after the same delay in every run with the seed,
    /// whatever order concurrent payments are accepted in.
    pub(super) fn settlement(&self, n: u64) -> Duration {
        self.nth(Endpoint::Settle, n).delay
    }

    /// Whether this request should fail with an injected 500.
    fn inject_error(&self, rng: &mut fastrand::Rng) -> bool {
        self.error_rate > 0.0 && rng.f64() < self.error_rate
    }

    /// How long a request to `endpoint` should take, before any freeze.
    fn delay(&self, endpoint: Endpoint, rng: &mut fastrand::Rng) -> Duration {
        let median = self.medians[endpoint as usize];
        if median <= 0.0 {
            return Duration::ZERO;
        }
        Duration::try_from_secs_f64(median * latency_factor(rng)).unwrap_or(Duration::ZERO)
    }

    /// Returns once the server is not frozen; immediately when no freeze is on.
    pub(super) async fn wait_out_freeze(&self) {
        let Some(stall) = &self.stall else { return };
        if let Some(end) = freeze_end(self.started.elapsed(), stall) {
            tokio::time::sleep_until(self.started + end).await;
        }
    }
}

/// One draw of latency / median: lognormal body, Pareto tail from `TAIL_START`.
fn latency_factor(rng: &mut fastrand::Rng) -> f64 {
    if rng.f64() < TAIL_PROBABILITY {
        // 1 - f64() lies in (0, 1], so the power is finite.
        let uniform = 1.0 - rng.f64();
        (TAIL_START / uniform.powf(1.0 / TAIL_ALPHA)).min(MAX_FACTOR)
    } else {
        (SIGMA * standard_normal(rng)).exp()
    }
}

/// Box–Muller: one N(0, 1) draw from two uniforms.
fn standard_normal(rng: &mut fastrand::Rng) -> f64 {
    let u1 = 1.0 - rng.f64(); // (0, 1]: ln stays finite
    let u2 = rng.f64();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// When `elapsed` falls in a freeze `[k·every − length, k·every)`, the offset at which it ends.
fn freeze_end(elapsed: Duration, stall: &Stall) -> Option<Duration> {
    let every = stall.every.as_nanos();
    if every == 0 {
        return None;
    }
    let elapsed = elapsed.as_nanos();
    let into_period = elapsed % every;
    if into_period < every - stall.length.as_nanos() {
        return None;
    }
    let end = elapsed - into_period + every;
    Some(Duration::from_nanos(u64::try_from(end).unwrap_or(u64::MAX)))
}

/// Scrambles neighbouring counters into unrelated seeds.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Endpoint; 12] = [
        Endpoint::Login,
        Endpoint::Signup,
        Endpoint::Customer,
        Endpoint::AddCard,
        Endpoint::ListInvoices,
        Endpoint::SearchInvoices,
        Endpoint::CreateInvoice,
        Endpoint::GetInvoice,
        Endpoint::Pay,
        Endpoint::Receipt,
        Endpoint::Payment,
        Endpoint::Settle,
    ];

    #[test]
    fn endpoint_discriminants_index_the_names() {
        assert_eq!(ALL.len(), ENDPOINTS.len());
        for (index, endpoint) in ALL.iter().enumerate() {
            assert_eq!(*endpoint as usize, index);
        }
        assert_eq!(ENDPOINTS[Endpoint::Pay as usize], "pay");
    }

    #[test]
    fn factor_has_median_one_and_a_one_percent_tail() {
        let mut rng = fastrand::Rng::with_seed(7);
        let mut draws: Vec<f64> = (0..20_000).map(|_| latency_factor(&mut rng)).collect();
        draws.sort_by(f64::total_cmp);
        let median = draws[draws.len() / 2];
        assert!((0.97..1.03).contains(&median), "median {median}");
        let slow = draws.iter().filter(|f| **f >= TAIL_START).count() as f64 / 20_000.0;
        // The body alone passes 2.5 × median with probability ~0.45 %.
        assert!((0.008..0.022).contains(&slow), "tail share {slow}");
        assert!(draws.iter().all(|f| *f > 0.0 && *f <= MAX_FACTOR));
    }

    #[test]
    fn zero_scale_means_no_delay_and_slowdown_multiplies() {
        let config = SandboxConfig {
            latency_scale: 0.0,
            ..SandboxConfig::default()
        };
        let mut rng = fastrand::Rng::with_seed(1);
        assert_eq!(
            Pacing::new(&config).delay(Endpoint::Pay, &mut rng),
            Duration::ZERO
        );

        let slowed = SandboxConfig {
            slowdowns: vec![("pay".into(), 2.0)],
            ..SandboxConfig::default()
        };
        let base = Pacing::new(&SandboxConfig::default());
        let slowed = Pacing::new(&slowed);
        let (mut a, mut b) = (fastrand::Rng::with_seed(3), fastrand::Rng::with_seed(3));
        let ratio = slowed.delay(Endpoint::Pay, &mut b).as_secs_f64()
            / base.delay(Endpoint::Pay, &mut a).as_secs_f64();
        assert!((ratio - 2.0).abs() < 1e-6, "ratio {ratio}");
    }

    #[test]
    fn freeze_windows_close_each_period() {
        let stall = Stall {
            every: Duration::from_millis(600),
            length: Duration::from_millis(300),
        };
        let end = |ms| freeze_end(Duration::from_millis(ms), &stall).map(|d| d.as_millis());
        assert_eq!(end(0), None);
        assert_eq!(end(299), None);
        assert_eq!(end(300), Some(600));
        assert_eq!(end(599), Some(600));
        assert_eq!(end(600), None);
        assert_eq!(end(1000), Some(1200));
    }

    #[test]
    fn an_endpoints_draws_do_not_depend_on_other_endpoints_traffic() {
        // Issue 10: with one stream for all requests, seed 42's 4046th stream, an 8 s draw,
        // went to whichever request took it: a pay (a timeout) in one run, a login in the next.
        let config = SandboxConfig {
            error_rate: 0.3,
            ..SandboxConfig::default()
        };
        let (quiet, busy) = (Pacing::new(&config), Pacing::new(&config));
        for n in 0..2000 {
            for other in ALL.iter().filter(|e| **e != Endpoint::Pay).take(n % 7) {
                busy.draw(*other);
                busy.rng();
            }
            assert_eq!(
                quiet.draw(Endpoint::Pay),
                busy.draw(Endpoint::Pay),
                "pay request {n}"
            );
        }
    }

    #[test]
    fn endpoints_draw_from_different_streams() {
        let pacing = Pacing::new(&SandboxConfig {
            error_rate: 0.5,
            ..SandboxConfig::default()
        });
        // Delays differ by median anyway; coin flips show whether the streams do.
        let fates =
            |endpoint| -> Vec<bool> { (0..64).map(|_| pacing.draw(endpoint).fail).collect() };
        assert_ne!(fates(Endpoint::Login), fates(Endpoint::Pay));
    }

    #[test]
    fn error_rate_extremes_are_exact() {
        let pacing = |error_rate| {
            Pacing::new(&SandboxConfig {
                error_rate,
                ..SandboxConfig::default()
            })
        };
        let (never, always) = (pacing(0.0), pacing(1.0));
        let mut rng = fastrand::Rng::with_seed(5);
        assert!((0..1000).all(|_| always.inject_error(&mut rng)));
        assert!((0..1000).all(|_| !never.inject_error(&mut rng)));
    }
}
