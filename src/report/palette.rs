//! Colours every report uses, from the Okabe–Ito palette (safe for the common forms of colour
//! blindness). One meaning per colour in every plot, table and banner: blue is the baseline and
//! orange the candidate (or the only run) everywhere, so no verdict or state is drawn in either.

use plotters::style::RGBColor;

use super::views::Conclusion;
use crate::model::Verdict;

/// The baseline, everywhere.
pub const BASELINE: RGBColor = RGBColor(0x00, 0x72, 0xB2);
/// The candidate (or the only run), everywhere.
pub const CANDIDATE: RGBColor = RGBColor(0xE6, 0x9F, 0x00);
/// The candidate's tail (p99) where its median is drawn too.
pub const CANDIDATE_LIGHT: RGBColor = RGBColor(0xF2, 0xC4, 0x6A);
/// Throughput in time-series plots.
pub const THROUGHPUT: RGBColor = RGBColor(0x99, 0x99, 0x99);
/// Errors in time-series plots.
pub const ERRORS: RGBColor = RGBColor(0xD5, 0x5E, 0x00);
/// Axis and text grey.
pub const INK: RGBColor = RGBColor(0x33, 0x33, 0x33);

/// A verdict's colour: vermillion regressed, green improved, grey unchanged, yellow
/// inconclusive (never the baseline's blue).
pub fn verdict(v: Verdict) -> RGBColor {
    match v {
        Verdict::Regressed => RGBColor(0xD5, 0x5E, 0x00),
        Verdict::Improved => RGBColor(0x00, 0x9E, 0x73),
        Verdict::Unchanged => RGBColor(0x99, 0x99, 0x99),
        Verdict::Inconclusive => RGBColor(0xF0, 0xE4, 0x42),
    }
}

/// A report's banner colour: the colour of the verdict that decided it.
pub fn conclusion(c: Conclusion) -> RGBColor {
    match c {
        Conclusion::Passed => verdict(Verdict::Improved),
        Conclusion::Inconclusive => verdict(Verdict::Inconclusive),
        Conclusion::Failed => verdict(Verdict::Regressed),
    }
}

/// The text colour that reads on `background`: white on dark colours, ink on light ones
/// (the yellow).
pub fn text_on(background: RGBColor) -> RGBColor {
    let RGBColor(r, g, b) = background;
    let luma = 0.299 * r as f64 + 0.587 * g as f64 + 0.114 * b as f64;
    if luma > 186.0 {
        INK
    } else {
        RGBColor(0xFF, 0xFF, 0xFF)
    }
}

/// A colour as CSS hex.
pub fn css(c: RGBColor) -> String {
    format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_verdict_or_conclusion_is_drawn_in_the_baseline_or_candidate_colour() {
        let verdicts = [
            Verdict::Regressed,
            Verdict::Improved,
            Verdict::Unchanged,
            Verdict::Inconclusive,
        ];
        for v in verdicts {
            assert_ne!(verdict(v), BASELINE, "{v:?}");
            assert_ne!(verdict(v), CANDIDATE, "{v:?}");
        }
        let distinct: std::collections::HashSet<String> =
            verdicts.iter().map(|v| css(verdict(*v))).collect();
        assert_eq!(distinct.len(), 4, "one colour per verdict");
        // Text stays readable on every banner.
        assert_eq!(text_on(conclusion(Conclusion::Inconclusive)), INK);
        assert_eq!(
            text_on(conclusion(Conclusion::Failed)),
            RGBColor(255, 255, 255)
        );
        assert_eq!(
            text_on(conclusion(Conclusion::Passed)),
            RGBColor(255, 255, 255)
        );
    }
}
