//! Live progress: a bar on a terminal, a plain line every few seconds in CI logs, or nothing.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::record::interval::{Live, OnInterval};
use crate::report::console::fmt_us;

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A bar (stderr is a terminal).
    Bar,
    /// A line every few seconds (CI).
    Lines,
    /// Nothing (`--quiet`).
    Quiet,
}

impl Mode {
    /// Chooses from `--quiet` and whether stderr is a terminal.
    pub fn detect(quiet: bool) -> Self {
        if quiet {
            Mode::Quiet
        } else if std::io::stderr().is_terminal() {
            Mode::Bar
        } else {
            Mode::Lines
        }
    }
}

/// Clears the display when the run is over.
pub type Finish = Box<dyn FnOnce() + Send>;

/// A progress sink for one run of `total` length, plus what clears it afterwards.
pub fn reporter(mode: Mode, label: &str, total: Duration) -> (OnInterval, Finish) {
    let secs = total.as_secs().max(1);
    match mode {
        Mode::Quiet => (Box::new(|_| {}), Box::new(|| {})),
        Mode::Bar => {
            let bar = ProgressBar::with_draw_target(Some(secs), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "{prefix} [{elapsed_precise}] {bar:24} {pos}/{len}s {msg}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            bar.set_prefix(super::console::clean(label).into_owned());
            let done = bar.clone();
            (
                Box::new(move |l: &Live| {
                    bar.set_position(l.elapsed.as_secs().min(secs));
                    bar.set_message(super::console::clean(&describe(l)).into_owned());
                }),
                Box::new(move || done.finish_and_clear()),
            )
        }
        Mode::Lines => {
            let label = label.to_string();
            let mut last = 0u64;
            (
                Box::new(move |l: &Live| {
                    let s = l.elapsed.as_secs();
                    // Past the scheduled end only in-flight iterations are finishing.
                    if s >= last + 5 && s <= secs {
                        last = s;
                        super::console::note(&format!("{label} {s:>4}s/{secs}s  {}", describe(l)));
                    }
                }),
                Box::new(|| {}),
            )
        }
    }
}

fn describe(l: &Live) -> String {
    if l.warming_up {
        return format!("warming up · {:.1} it/s", l.rate);
    }
    let p99 = l.p99_us.map(fmt_us).unwrap_or_else(|| "-".into());
    let dropped = if l.dropped > 0 {
        format!(" · {} dropped", l.dropped)
    } else {
        String::new()
    };
    // The generator's own lateness, when it is large enough to matter (see model::health).
    let lag = if l.lag_p99_us > crate::model::health::LAG_FLOOR_US {
        format!(" · schedule lag p99 {}", fmt_us(l.lag_p99_us))
    } else {
        String::new()
    };
    format!(
        "{:.1} it/s · {} ok · {} errors{dropped} · p99 {p99}{lag}",
        l.rate, l.ok, l.errors
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warm_up_is_shown_as_such_and_counts_are_the_measured_ones() {
        let warming = Live {
            warming_up: true,
            ok: 0,
            errors: 0,
            rate: 10.0,
            ..Live::default()
        };
        assert_eq!(describe(&warming), "warming up · 10.0 it/s");
        let measuring = Live {
            ok: 40,
            errors: 2,
            rate: 10.0,
            p99_us: Some(12_000),
            ..Live::default()
        };
        assert_eq!(
            describe(&measuring),
            "10.0 it/s · 40 ok · 2 errors · p99 12.0ms"
        );
        let late = Live {
            lag_p99_us: 4_500,
            ..measuring.clone()
        };
        assert!(
            describe(&late).ends_with("schedule lag p99 4.50ms"),
            "{}",
            describe(&late)
        );
    }
}
