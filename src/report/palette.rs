//! Colours every report uses, from the Okabe–Ito palette (safe for the common forms of colour
//! blindness): baseline and candidate keep their colours in every plot and table.

use plotters::style::RGBColor;

use crate::model::Verdict;

/// The baseline, everywhere.
pub const BASELINE: RGBColor = RGBColor(0x00, 0x72, 0xB2);
/// The candidate, everywhere.
pub const CANDIDATE: RGBColor = RGBColor(0xE6, 0x9F, 0x00);
/// The candidate's tail (p99) where its median is drawn too.
pub const CANDIDATE_LIGHT: RGBColor = RGBColor(0xF2, 0xC4, 0x6A);
/// Throughput in time-series plots.
pub const THROUGHPUT: RGBColor = RGBColor(0x99, 0x99, 0x99);
/// Errors in time-series plots.
pub const ERRORS: RGBColor = RGBColor(0xD5, 0x5E, 0x00);
/// Axis and text grey.
pub const INK: RGBColor = RGBColor(0x33, 0x33, 0x33);

/// A verdict's colour.
pub fn verdict(v: Verdict) -> RGBColor {
    match v {
        Verdict::Regressed => RGBColor(0xD5, 0x5E, 0x00),
        Verdict::Improved => RGBColor(0x00, 0x9E, 0x73),
        Verdict::Unchanged => RGBColor(0x99, 0x99, 0x99),
        Verdict::Inconclusive => RGBColor(0x56, 0xB4, 0xE9),
    }
}

/// A colour as CSS hex.
pub fn css(c: RGBColor) -> String {
    format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
}
