//! Text on PNG pixels, drawn directly with the embedded font: glyphs sit on a common baseline
//! with their descenders (plotters' own bitmap text rounds each glyph's offset separately, which
//! lifts small punctuation off the line).

use ab_glyph::{Font, FontRef, PxScale, ScaleFont, point};
use plotters::style::RGBColor;

static REGULAR: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

/// An RGB pixel buffer to draw on.
pub struct Canvas<'a> {
    /// Row-major RGB bytes.
    pub pixels: &'a mut [u8],
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

/// How a piece of text looks.
#[derive(Clone, Copy)]
pub struct Style {
    /// Pixel size.
    pub size: f32,
    /// Bold face.
    pub bold: bool,
    /// Colour.
    pub colour: RGBColor,
}

fn font(bold: bool) -> FontRef<'static> {
    FontRef::try_from_slice(if bold { BOLD } else { REGULAR }).expect("the embedded font parses")
}

/// The width of `text` in pixels.
pub fn width(text: &str, style: Style) -> f32 {
    let font = font(style.bold);
    let scaled = font.as_scaled(PxScale::from(style.size));
    let mut w = 0.0;
    let mut prev = None;
    for c in text.chars() {
        let id = scaled.glyph_id(c);
        if let Some(p) = prev {
            w += scaled.kern(p, id);
        }
        w += scaled.h_advance(id);
        prev = Some(id);
    }
    w
}

/// `text` cut with an ellipsis to at most `max` pixels wide.
pub fn fit(text: &str, max: f32, style: Style) -> String {
    if width(text, style) <= max {
        return text.to_string();
    }
    let mut chars: Vec<char> = text.chars().collect();
    while !chars.is_empty() {
        chars.pop();
        let cut: String = chars.iter().chain(['…'].iter()).collect();
        if width(&cut, style) <= max {
            return cut;
        }
    }
    String::new()
}

impl Canvas<'_> {
    /// Draws `text` with its left end at `x` and its baseline at `baseline`.
    pub fn text(&mut self, text: &str, x: f32, baseline: f32, style: Style) {
        let font = font(style.bold);
        let scaled = font.as_scaled(PxScale::from(style.size));
        let mut pen = x;
        let mut prev = None;
        for c in text.chars() {
            let id = scaled.glyph_id(c);
            if let Some(p) = prev {
                pen += scaled.kern(p, id);
            }
            let glyph = id.with_scale_and_position(PxScale::from(style.size), point(pen, baseline));
            if let Some(outline) = font.outline_glyph(glyph) {
                let bounds = outline.px_bounds();
                outline.draw(|gx, gy, coverage| {
                    let px = bounds.min.x.floor() as i64 + gx as i64;
                    let py = bounds.min.y.floor() as i64 + gy as i64;
                    self.blend(px, py, style.colour, coverage);
                });
            }
            pen += scaled.h_advance(id);
            prev = Some(id);
        }
    }

    /// Draws `text` ending at `right`.
    pub fn text_right(&mut self, text: &str, right: f32, baseline: f32, style: Style) {
        self.text(text, right - width(text, style), baseline, style);
    }

    fn blend(&mut self, x: i64, y: i64, c: RGBColor, alpha: f32) {
        if x < 0 || y < 0 || x >= self.width as i64 || y >= self.height as i64 {
            return;
        }
        let i = ((y as u32 * self.width + x as u32) * 3) as usize;
        let a = alpha.clamp(0.0, 1.0);
        for (k, v) in [c.0, c.1, c.2].into_iter().enumerate() {
            let old = self.pixels[i + k] as f32;
            self.pixels[i + k] = (old + (v as f32 - old) * a).round() as u8;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_lands_on_the_canvas_on_its_baseline() {
        let (w, h) = (200u32, 40u32);
        let mut pixels = vec![255u8; (w * h * 3) as usize];
        let mut canvas = Canvas {
            pixels: &mut pixels,
            width: w,
            height: h,
        };
        let style = Style {
            size: 20.0,
            bold: false,
            colour: RGBColor(0, 0, 0),
        };
        canvas.text("26.4", 10.0, 30.0, style);
        let dark = |x: u32, y: u32| pixels[((y * w + x) * 3) as usize] < 128;
        // Some ink above the baseline, none below it for these glyphs, and the text is wider than tall.
        assert!((0..w).any(|x| (15..30).any(|y| dark(x, y))));
        assert!(
            !(0..w).any(|x| (32..h).any(|y| dark(x, y))),
            "nothing below the baseline"
        );
        assert!(width("26.4", style) > 30.0 && width("26.4", style) < 60.0);
    }

    #[test]
    fn fitted_text_is_cut_to_the_width() {
        let style = Style {
            size: 13.0,
            bold: false,
            colour: RGBColor(0, 0, 0),
        };
        assert_eq!(fit("short", 500.0, style), "short");
        let long = "a step with a long name that goes on and on";
        let cut = fit(long, 100.0, style);
        assert!(cut.ends_with('…') && width(&cut, style) <= 100.0, "{cut}");
    }
}
