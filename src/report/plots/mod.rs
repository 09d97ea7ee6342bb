//! The plots, drawn with plotters on any backend: SVG strings for the HTML, pixels for the PNG.

pub mod change;
pub mod history;
pub mod percentiles;
pub mod rounds;
pub mod series;
pub mod timeline;

use std::sync::Once;

use plotters::chart::MeshStyle;
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

/// The font every plot uses, embedded (DejaVu Sans) so text renders with no fonts installed.
pub const FONT: &str = "sans-serif";
static REGULAR: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans-Bold.ttf");

/// Registers the embedded font with plotters (once per process): it measures text with it
/// for every backend and draws with it on bitmaps.
pub fn register_fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, REGULAR);
        let _ = plotters::style::register_font(FONT, FontStyle::Bold, BOLD);
    });
}

/// A drawing failure, as text.
pub type PlotError = String;

/// Turns plotters' error into text.
pub fn err<E: std::fmt::Debug>(e: E) -> PlotError {
    format!("{e:?}")
}

/// Renders a plot into an SVG string of the given size.
pub fn svg(
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<SVGBackend, Shift>) -> Result<(), PlotError>,
) -> Result<String, PlotError> {
    register_fonts();
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        draw(&root)?;
        root.present().map_err(err)?;
    }
    Ok(compact(&out))
}

/// plotters writes default attributes and 16-digit numbers in attribute values; a suite's
/// report holds hundreds of plots, so defaults go and attribute numbers keep two decimals
/// (text content, where a label such as `99.999%` lives, is left exactly as drawn).
fn compact(svg: &str) -> String {
    let svg = svg.replace(" opacity=\"1\"", "");
    let bytes = svg.as_bytes();
    let mut out = String::with_capacity(svg.len());
    let (mut in_tag, mut in_value) = (false, false);
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if in_value && b.is_ascii_digit() {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
                i += 1;
            }
            let number = &svg[start..i];
            match number.split_once('.') {
                Some((_, decimals)) if decimals.len() > 2 => match number.parse::<f64>() {
                    Ok(v) => {
                        let rounded = format!("{v:.2}");
                        out.push_str(rounded.trim_end_matches('0').trim_end_matches('.'));
                    }
                    Err(_) => out.push_str(number),
                },
                _ => out.push_str(number),
            }
            continue;
        }
        match b {
            b'<' if !in_value => in_tag = true,
            b'>' if !in_value => in_tag = false,
            b'"' if in_tag => in_value = !in_value,
            _ => {}
        }
        // Multi-byte characters are copied whole.
        let len = match b {
            0x00..=0x7F => 1,
            0xC0..=0xDF => 2,
            0xE0..=0xEF => 3,
            _ => 4,
        };
        out.push_str(&svg[i..(i + len).min(svg.len())]);
        i += len;
    }
    out
}

/// The house axis style: 12-pixel text and faint grid lines.
pub fn house_mesh<'m, 'a, 'b, X: Ranged, Y: Ranged, DB: DrawingBackend>(
    mesh: &'m mut MeshStyle<'a, 'b, X, Y, DB>,
) -> &'m mut MeshStyle<'a, 'b, X, Y, DB> {
    mesh.label_style((FONT, 12))
        .axis_desc_style((FONT, 12))
        .light_line_style(RGBColor(0xEE, 0xEE, 0xEE))
        // One faint line between labelled ones reads as well as ten and weighs a tenth.
        .max_light_lines(1)
}

/// Draws the series' legend in the house style at `position`.
pub fn legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
) -> Result<(), PlotError> {
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.9))
        .border_style(RGBColor(0xCC, 0xCC, 0xCC))
        .label_font((FONT, 12))
        .draw()
        .map_err(err)
}

/// A chart of values over `runs` runs, oldest first (x is the run's index, labelled from 1),
/// from 0 to `top`, in the house style: the history trends and the watched series.
pub fn runs_chart<'a, DB: DrawingBackend + 'a>(
    area: &'a DrawingArea<DB, Shift>,
    title: &str,
    runs: f64,
    top: f64,
    y_desc: &str,
) -> Result<ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>, PlotError> {
    let mut chart = ChartBuilder::on(area)
        .caption(title, (FONT, 16))
        .margin(8)
        .x_label_area_size(34)
        .y_label_area_size(56)
        .build_cartesian_2d(-0.5f64..(runs - 0.5).max(0.5), 0f64..top)
        .map_err(err)?;
    house_mesh(&mut chart.configure_mesh())
        .x_desc("runs, oldest to newest")
        .y_desc(y_desc)
        .x_label_formatter(&|x| format!("{}", x.round() as i64 + 1))
        .draw()
        .map_err(err)?;
    Ok(chart)
}

/// Milliseconds from microseconds, for axes.
pub fn ms(us: f64) -> f64 {
    us / 1000.0
}

/// A round upper bound for an axis.
pub fn nice_max(x: f64) -> f64 {
    if x <= 0.0 || !x.is_finite() {
        return 1.0;
    }
    let magnitude = 10f64.powf(x.log10().floor());
    for step in [1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0] {
        if step * magnitude >= x * 1.05 {
            return step * magnitude;
        }
    }
    10.0 * magnitude
}

/// A label cut to `n` characters.
pub fn cut(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n - 1).chain(['…']).collect()
    }
}

/// A step name cut to `n` characters in the middle, so names sharing a long prefix stay
/// apart by their ends (`catalogue/…-category-07`).
pub fn shorten(s: &str, n: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= n {
        return s.to_string();
    }
    let head = (n - 1) / 3;
    let tail = n - 1 - head;
    chars[..head]
        .iter()
        .chain(['…'].iter())
        .chain(&chars[chars.len() - tail..])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortened_names_keep_their_ends_apart() {
        assert_eq!(shorten("login", 20), "login");
        let a = shorten("catalogue/search-products-by-category-07", 20);
        let b = shorten("catalogue/search-products-by-category-08", 20);
        assert_eq!(a.chars().count(), 20);
        assert_ne!(a, b);
        assert!(a.starts_with("catal") && a.ends_with("category-07"), "{a}");
    }

    #[test]
    fn compact_rounds_attribute_numbers_and_keeps_text() {
        let svg = "<text x=\"8\" font-size=\"12.903225806451614\" opacity=\"1\" dy=\"0.76em\">p 99.999% é 1.23456</text>";
        assert_eq!(
            compact(svg),
            "<text x=\"8\" font-size=\"12.9\" dy=\"0.76em\">p 99.999% é 1.23456</text>"
        );
    }
}
