//! `[data]`: the CSV feeder, read and checked at load time so a bad row never surfaces mid-run.

use std::path::Path;
use std::sync::Arc;

use super::build::Builder;
use super::plan::{DataFeed, FeedMode};
use super::raw::RawData;

pub(super) fn build_data(b: &mut Builder, raw: &RawData, base_dir: &Path) -> Option<DataFeed> {
    let mode = match raw.mode.as_ref().map(|m| (m.get_ref().as_str(), m.span())) {
        None | Some(("sequential", _)) => FeedMode::Sequential,
        Some(("random", _)) => FeedMode::Random,
        Some(("unique", _)) => FeedMode::Unique,
        Some((other, span)) => {
            b.error(span, format!("unknown data mode \"{other}\": expected \"sequential\", \"random\" or \"unique\""));
            return None;
        }
    };
    let file = base_dir.join(raw.file.get_ref());
    let span = raw.file.span();
    let bytes = match super::limits::read_capped(&file, super::limits::MAX_DATA_FILE) {
        Ok(bytes) => bytes,
        Err(e) => {
            b.error(
                span,
                format!("cannot read data file `{}`: {e}", file.display()),
            );
            return None;
        }
    };
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(bytes.as_slice());
    let columns: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(str::to_string).collect(),
        Err(e) => {
            b.error(span, format!("data file `{}`: {e}", file.display()));
            return None;
        }
    };
    for c in &columns {
        let valid = !c.is_empty()
            && c.chars()
                .all(|ch| ch.is_alphanumeric() || ch == '_' || ch == '-');
        if !valid {
            b.error(span.clone(), format!("data file `{}`: column name \"{c}\" is not a valid variable name (letters, digits, `_`, `-`)", file.display()));
            return None;
        }
        if columns.iter().filter(|other| *other == c).count() > 1 {
            b.error(
                span.clone(),
                format!(
                    "data file `{}`: column `{c}` appears twice in the header",
                    file.display()
                ),
            );
            return None;
        }
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        match record {
            Ok(r) => rows.push(r.iter().map(str::to_string).collect()),
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                b.error(
                    span,
                    format!("data file `{}` line {line}: {e}", file.display()),
                );
                return None;
            }
        }
    }
    if rows.is_empty() {
        b.error(
            span,
            format!("data file `{}` has a header but no rows", file.display()),
        );
        return None;
    }
    Some(DataFeed {
        file,
        columns,
        rows: Arc::new(rows),
        mode,
    })
}
