//! A tiny seeded property-test loop: every case gets its own reproducible random generator,
//! and a failing case names its seed so it can be replayed.

/// Seed of the first case; case `i` uses a fixed mix of this and `i`.
const BASE_SEED: u64 = 0x5EED_0DA0_2024;

/// Prints which case failed when a property panics, since the panic itself does not know.
struct CaseGuard {
    case: usize,
    seed: u64,
}

impl Drop for CaseGuard {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "property failed at case {} (seed {:#x}); replay with fastrand::Rng::with_seed",
                self.case, self.seed
            );
        }
    }
}

/// Seed of case `case`: a splitmix-style mix so neighbouring cases are unrelated.
pub fn case_seed(case: usize) -> u64 {
    let mut z = BASE_SEED.wrapping_add((case as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Runs `check` on `cases` independently seeded generators.
pub fn for_all(cases: usize, mut check: impl FnMut(&mut fastrand::Rng)) {
    for case in 0..cases {
        let seed = case_seed(case);
        let _guard = CaseGuard { case, seed };
        check(&mut fastrand::Rng::with_seed(seed));
    }
}
