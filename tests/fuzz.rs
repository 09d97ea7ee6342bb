//! Property tests on stable: mutated scenario files and mutated results files never make the
//! parser or the reader panic, and never make them allocate more than a few megabytes more
//! than the input, whatever numbers or lengths they declare. Allocation is measured by a
//! counting allocator, so the bound is exact, not a timing.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// Counts live bytes and the peak since the last reset.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        unsafe { System.dealloc(p, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Most memory one parse may take beyond what was live before it.
const PARSE_BUDGET: usize = 64 * 1024 * 1024;

/// Runs `f` and returns how many bytes it added at its peak.
fn peak_of(f: impl FnOnce()) -> usize {
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    f();
    PEAK.load(Ordering::Relaxed).saturating_sub(before)
}

/// Values that once crashed or exhausted something, spliced into mutated files.
const HOSTILE: &[&str] = &[
    "1000000000000",
    "9223372036854775807",
    "-9223372036854775808",
    "18446744073709551615",
    "\"1e308/1us\"",
    "\"0s\"",
    "\"8760h\"",
    "\"99999999999999999999d\"",
    "1e308",
    "-1",
    "nan",
    "inf",
    "\"/dev/zero\"",
    "\"../../../../etc/passwd\"",
    "\"{{ }}\"",
    "\"{{\"",
    "\"${\"",
    "\"\\u001b[2J\"",
    "[]",
    "{}",
    "\"HISTFAAAABD/////AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"",
];

/// A mutation of `text`: a byte replaced, a span deleted or duplicated, or a value swapped
/// for a hostile one.
fn mutate(text: &str) -> impl Strategy<Value = String> {
    let text = text.to_string();
    let n = text.len().max(1);
    (0..4u8, 0..n, 0..n, any::<u8>(), 0..HOSTILE.len()).prop_map(move |(kind, a, b, byte, h)| {
        let mut bytes = text.clone().into_bytes();
        let (lo, hi) = (a.min(b), a.max(b).min(bytes.len()));
        match kind {
            0 => {
                if let Some(x) = bytes.get_mut(a) {
                    *x = byte;
                }
            }
            1 => {
                bytes.drain(lo..hi);
            }
            2 => {
                let span: Vec<u8> = bytes[lo..hi].to_vec();
                bytes.splice(hi..hi, span);
            }
            _ => {
                // Replace the value after the `=` nearest to `a` with a hostile one.
                let s = String::from_utf8_lossy(&bytes).to_string();
                let at = s[..a.min(s.len())].rfind(['=', ':']).map(|i| i + 1);
                if let Some(start) = at {
                    let end = s[start..]
                        .find(['\n', ','])
                        .map(|i| start + i)
                        .unwrap_or(s.len());
                    let replaced = format!("{} {}{}", &s[..start], HOSTILE[h], &s[end..]);
                    bytes = replaced.into_bytes();
                }
            }
        }
        String::from_utf8_lossy(&bytes).to_string()
    })
}

fn seeds_scenarios() -> Vec<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    [
        "pay-invoice.toml",
        "browse-invoices.toml",
        "signup-add-card.toml",
    ]
    .iter()
    .map(|f| std::fs::read_to_string(root.join(f)).unwrap())
    .collect()
}

fn seed_results() -> String {
    let mut h = rehearse::model::new_histogram();
    for v in [900u64, 1_000, 1_200, 50_000] {
        h.record(v).unwrap();
    }
    let hist = rehearse::model::encode(&h);
    format!(
        r#"{{"schema": 1, "run_id": "0193", "scenario": "pay", "measured_seconds": 10.0, "complete": true,
  "iterations": {{"started": 4, "completed": 4, "failed": 0, "interrupted": 0, "dropped": 0}},
  "intervals": {{"file": "intervals.hlog", "seconds": 1.0, "warmup_intervals": 0, "started": [4], "dropped": [0]}},
  "load": {{"model": "open", "rate": 10.0, "duration_seconds": 10.0, "warmup_seconds": 0.0}},
  "workflow": {{"name": "workflow", "count": 4, "outcomes": {{"ok": 4}}, "errors": 0, "error_rate": 0.0, "throughput": 0.4, "histogram": "{hist}"}},
  "steps": [{{"name": "login", "count": 4, "outcomes": {{"ok": 4}}, "errors": 0, "error_rate": 0.0, "throughput": 0.4, "histogram": "{hist}", "service_histogram": "{hist}"}}]}}"#
    )
}

#[test]
fn mutated_inputs_never_panic_and_stay_within_memory() {
    let cases: u32 = std::env::var("REHEARSE_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(600);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    // Scenario files: parse and validate (no file I/O beyond the data file they name).
    for seed in seeds_scenarios() {
        runner
            .run(&mutate(&seed), |text| {
                let source = rehearse::scenario::SourceFile::new("fuzz.toml", text);
                let used = peak_of(|| {
                    let _ = rehearse::scenario::parse(
                        &source,
                        &rehearse::scenario::Overrides::default(),
                        &|_| Some("value-from-env".into()),
                    );
                });
                prop_assert!(used < PARSE_BUDGET, "a scenario parse took {used} bytes");
                Ok(())
            })
            .unwrap();
    }
    // Results files: read, then every later stage's first touch (summaries, thresholds).
    let seed = seed_results();
    rehearse::model::RunResult::from_json(&seed, std::path::Path::new("seed.json"))
        .expect("the seed itself is valid");
    runner
        .run(&mutate(&seed), |text| {
            let used = peak_of(|| {
                if let Ok(run) =
                    rehearse::model::RunResult::from_json(&text, std::path::Path::new("f.json"))
                {
                    let _ = rehearse::report::console::summary(&run);
                    let _ = rehearse::model::thresholds::evaluate(
                        &[rehearse::scenario::default_error_rate()],
                        &[&run],
                    );
                    let _ = run.failure();
                }
            });
            prop_assert!(used < PARSE_BUDGET, "a results read took {used} bytes");
            Ok(())
        })
        .unwrap();
}

#[test]
fn hostile_histograms_are_refused_within_memory() {
    let runner_cases = 300;
    let mut runner = TestRunner::new(Config {
        cases: runner_cases,
        failure_persistence: None,
        ..Config::default()
    });
    // Arbitrary bytes after a valid cookie: whatever the header declares, decoding stays small.
    let cookies = [0x1c84_9313u32, 0x1c84_9314u32];
    runner
        .run(
            &(0..2usize, proptest::collection::vec(any::<u8>(), 0..200)),
            |(c, tail)| {
                let mut bytes = cookies[c].to_be_bytes().to_vec();
                bytes.extend_from_slice(&tail);
                let used = peak_of(|| {
                    let _ = rehearse::model::decode_bytes(&bytes);
                });
                prop_assert!(used < PARSE_BUDGET, "decoding took {used} bytes");
                Ok(())
            },
        )
        .unwrap();
}
