//! Scenario errors that point at the source: file, line, column and a caret under the fault.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// A scenario file's text, kept so errors can quote the offending line.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Path as the user gave it, used in messages.
    pub path: PathBuf,
    /// The whole file.
    pub text: String,
    line_starts: Vec<usize>,
}

impl SourceFile {
    /// Wraps a file's text for locating byte offsets.
    pub fn new(path: impl Into<PathBuf>, text: impl Into<String>) -> Self {
        let text = text.into();
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Self {
            path: path.into(),
            text,
            line_starts,
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.line_starts[line];
        let column = self.text[start..offset].chars().count() + 1;
        (line + 1, column)
    }

    fn line_text(&self, line: usize) -> &str {
        let start = self.line_starts[line - 1];
        let end = self
            .line_starts
            .get(line)
            .copied()
            .unwrap_or(self.text.len());
        self.text[start..end].trim_end_matches(['\n', '\r'])
    }

    /// Byte offset of `needle` inside `span`, or the span's start: used to point at
    /// one `{{ var }}` inside a longer string whose own span is all TOML gives us.
    pub fn find_in(&self, span: &Range<usize>, needle: &str) -> Range<usize> {
        let end = span.end.min(self.text.len());
        let start = span.start.min(end);
        match self.text[start..end].find(needle) {
            Some(i) => start + i..start + i + needle.len(),
            None => span.clone(),
        }
    }
}

/// One problem found in a scenario file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// File the problem is in.
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// What is wrong and what was expected.
    pub message: String,
    /// A hint on how to fix it, when there is one.
    pub help: Option<String>,
    /// The source line, for the caret display.
    pub source_line: String,
    /// How many characters the caret covers.
    pub width: usize,
}

impl Diagnostic {
    /// A diagnostic at a byte span of `source`.
    pub fn at(source: &SourceFile, span: Range<usize>, message: impl Into<String>) -> Self {
        let (line, column) = source.line_col(span.start);
        let source_line = if source.text.is_empty() {
            String::new()
        } else {
            source.line_text(line).to_string()
        };
        let rest = source_line.chars().count().saturating_sub(column - 1);
        let covered = source.text
            [span.start.min(source.text.len())..span.end.min(source.text.len())]
            .split('\n')
            .next()
            .unwrap_or("")
            .chars()
            .count();
        Self {
            file: source.path.clone(),
            line,
            column,
            message: message.into(),
            help: None,
            source_line,
            width: covered.clamp(1, rest.max(1)),
        }
    }

    /// A diagnostic about a file as a whole (unreadable, empty).
    pub fn whole_file(path: &Path, message: impl Into<String>) -> Self {
        Self {
            file: path.to_path_buf(),
            line: 1,
            column: 1,
            message: message.into(),
            help: None,
            source_line: String::new(),
            width: 1,
        }
    }

    /// Adds a hint.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: error: {}",
            self.file.display(),
            self.line,
            self.column,
            self.message
        )?;
        if !self.source_line.is_empty() {
            let gutter = self.line.to_string().len();
            let pad: String = self
                .source_line
                .chars()
                .take(self.column - 1)
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            write!(
                f,
                "\n{:gutter$} |\n{} | {}\n{:gutter$} | {}{}",
                "",
                self.line,
                self.source_line,
                "",
                pad,
                "^".repeat(self.width)
            )?;
        }
        if let Some(help) = &self.help {
            write!(f, "\n  = help: {help}")?;
        }
        Ok(())
    }
}

/// Every problem found in one or more scenario files; nothing is run while any exist.
#[derive(Debug, Clone, Default, thiserror::Error)]
pub struct ScenarioErrors(pub Vec<Diagnostic>);

impl fmt::Display for ScenarioErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            writeln!(f, "{d}")?;
        }
        let n = self.0.len();
        let mut files: Vec<&Path> = self.0.iter().map(|d| d.file.as_path()).collect();
        files.sort();
        files.dedup();
        let plural = if n == 1 { "" } else { "s" };
        match files.as_slice() {
            [one] => write!(f, "{n} error{plural} in {}", one.display()),
            _ => write!(f, "{n} error{plural} in {} files", files.len()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_are_one_based_and_count_characters() {
        let src = SourceFile::new("x.toml", "a = 1\nnamé = \"é{{ v }}\"\n");
        assert_eq!(src.line_col(0), (1, 1));
        let off = src.text.find("{{").unwrap();
        assert_eq!(src.line_col(off), (2, 10));
    }

    #[test]
    fn display_quotes_the_line_with_a_caret() {
        let src = SourceFile::new("s.toml", "name = 1\npath = \"/a/{{ tokn }}\"\n");
        let span = src.find_in(&(9..src.text.len()), "tokn");
        let d = Diagnostic::at(&src, span, "undefined variable `tokn`")
            .with_help("did you mean `token`?");
        let text = d.to_string();
        assert!(
            text.starts_with("s.toml:2:15: error: undefined variable `tokn`"),
            "{text}"
        );
        assert!(text.contains("2 | path = \"/a/{{ tokn }}\""), "{text}");
        assert!(text.contains("  |               ^^^^"), "{text}");
        assert!(text.ends_with("= help: did you mean `token`?"), "{text}");
    }
}
