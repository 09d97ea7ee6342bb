use super::*;

/// A series of `n` runs with Gaussian noise `sd` (log scale), a step of `step` (log) from
/// `at`, within-run se `se`.
fn series(seed: u64, n: usize, sd: f64, step: Option<(usize, f64)>, se: f64) -> Vec<Estimate> {
    let mut g = Generator::new(seed);
    (0..n)
        .map(|i| {
            let shift = match step {
                Some((at, s)) if i >= at => s,
                _ => 0.0,
            };
            Estimate {
                value: 3.0 + shift + sd * g.standard_normal(),
                se,
            }
        })
        .collect()
}

#[test]
fn a_step_is_found_where_it_is() {
    let mut found = 0;
    for seed in 0..200 {
        let s = series(seed, 60, 0.04, Some((30, 0.08f64.ln_1p())), 0.005);
        let c = changes(&s, 3, 0.01, Worse::Up);
        if c.iter()
            .any(|c| c.at.abs_diff(30) <= 3 && c.after > c.before)
        {
            found += 1;
        }
    }
    // The location of a step of 2 noise units is itself uncertain by a few runs.
    assert!(found >= 180, "found {found} of 200");
}

#[test]
fn without_a_change_the_false_rate_is_the_level_asked_for() {
    for (alpha, low, high) in [(0.05, 0.035, 0.065), (0.01, 0.004, 0.018)] {
        let trials = 1000;
        let false_alarms = (0..trials)
            .filter(|seed| {
                !changes(
                    &series(10_000 + seed, 60, 0.04, None, 0.005),
                    3,
                    alpha,
                    Worse::Up,
                )
                .is_empty()
            })
            .count();
        let rate = false_alarms as f64 / trials as f64;
        assert!((low..=high).contains(&rate), "alpha {alpha}: {rate}");
    }
}

#[test]
fn a_single_outlier_run_is_never_a_change() {
    // The outlier's run is replaced by its neighbourhood's median; what is left is chance
    // from not knowing that run's true value, never the outlier itself.
    let mut extra = 0;
    for seed in 0..200 {
        for at in [0, 1, 17, 58, 59] {
            let clean = series(20_000 + seed, 60, 0.04, None, 0.005);
            let mut s = clean.clone();
            s[at].value += 3f64.ln();
            let without: Vec<usize> = changes(&clean, 3, 0.01, Worse::Up)
                .iter()
                .map(|c| c.at)
                .collect();
            for c in changes(&s, 3, 0.01, Worse::Up) {
                // Never a level made of the outlier: up, starting at it or just after it.
                assert!(
                    !((c.after > c.before && c.at == at) || (c.after < c.before && c.at == at + 1)),
                    "seed {seed}, outlier at {at}: {c:?}"
                );
                let near = c.at.abs_diff(at) <= 3 || c.at.abs_diff(at + 1) <= 3;
                if near && !without.iter().any(|w| w.abs_diff(c.at) <= 1) {
                    extra += 1;
                }
            }
        }
    }
    assert!(
        extra <= 10,
        "{extra} of 1,000 series had a change near the outlier"
    );
}

#[test]
fn a_step_is_not_called_a_creep() {
    let creeps = (0..100)
        .filter(|seed| {
            let s = series(40_000 + seed, 60, 0.03, Some((30, 0.15)), 0.005);
            changes(&s, 3, 0.01, Worse::Up)
                .iter()
                .any(|c| c.creep.is_some())
        })
        .count();
    assert!(creeps <= 8, "{creeps} of 100 steps called creeps");
}

#[test]
fn a_creep_is_found_before_it_ends_and_called_a_creep() {
    // +1% a run for 10 runs from run 40, then flat, seen as the runs arrive.
    let mut caught = 0;
    let mut called_creep = 0;
    for seed in 0..100 {
        let full: Vec<Estimate> = series(30_000 + seed, 60, 0.03, None, 0.005)
            .into_iter()
            .enumerate()
            .map(|(i, mut e)| {
                e.value += 0.01 * (i.saturating_sub(39).min(10)) as f64;
                e
            })
            .collect();
        if (43..=50).any(|len| {
            changes(&full[..len], 3, 0.01, Worse::Up)
                .iter()
                .any(|c| c.after > c.before && c.at >= 35)
        }) {
            caught += 1;
        }
        if changes(&full, 3, 0.01, Worse::Up).iter().any(|c| {
            c.creep
                .is_some_and(|(s, e)| s.abs_diff(40) <= 4 && e.abs_diff(50) <= 4)
        }) {
            called_creep += 1;
        }
    }
    assert!(
        caught >= 80,
        "caught before the creep ended in {caught} of 100"
    );
    // Telling a creep from a step takes more runs than finding it: most are told apart.
    assert!(
        called_creep >= 40,
        "called a creep in {called_creep} of 100"
    );
}

#[test]
fn the_same_series_gives_the_same_changes() {
    let s = series(7, 60, 0.04, Some((20, 0.1)), 0.005);
    assert_eq!(
        changes(&s, 3, 0.01, Worse::Up),
        changes(&s, 3, 0.01, Worse::Up)
    );
    let p = best_split_of(&s, 3).unwrap();
    assert_eq!(p, best_split_of(&s, 3).unwrap());
    assert_eq!(p.at, 20);
}

#[test]
fn a_run_with_few_requests_weighs_less() {
    // The same step, but the run right after it is a noisy one with a large se and a value
    // far below: it must not pull the split off its place.
    let mut s = series(9, 40, 0.02, Some((20, 0.1)), 0.002);
    s[20].value -= 0.12;
    s[20].se = 0.5;
    let c = changes(&s, 3, 0.01, Worse::Up);
    assert_eq!(c.len(), 1, "{c:?}");
    assert!(c[0].at.abs_diff(20) <= 1, "{c:?}");
}
