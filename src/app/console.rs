//! Everything rehearse prints to a terminal goes through here, so text that came from a
//! scenario, a response or a results file can never drive the terminal: control characters
//! (ANSI escape sequences included) are shown as visible escapes, not sent.

use std::io::Write;

/// `text` with control characters other than newline and tab shown as `\x1b`-style escapes.
pub fn clean(text: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| (c.is_control() && c != '\n' && c != '\t') || c == '\u{2028}';
    if !text.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            let code = c as u32;
            if code <= 0xff {
                out.push_str(&format!("\\x{code:02x}"));
            } else {
                out.push_str(&format!("\\u{{{code:x}}}"));
            }
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Writes to stdout; a closed pipe (`rehearse … | head`) is not an error worth a panic.
pub fn out(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout
        .write_all(clean(text).as_bytes())
        .and_then(|_| stdout.flush());
}

/// Writes a line to stderr (progress, notes, warnings).
pub fn note(text: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{}", clean(text));
}

/// Writes a warning line to stderr.
pub fn warn(text: &str) {
    note(&format!("warning: {text}"));
}

/// Writes machine-readable JSON to stdout as it is (serde escapes control characters).
pub fn json(value: &impl serde::Serialize) {
    let text = serde_json::to_string_pretty(value).expect("outputs serialize") + "\n";
    let mut stdout = std::io::stdout().lock();
    let _ = stdout
        .write_all(text.as_bytes())
        .and_then(|_| stdout.flush());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_control_sequences_are_shown_not_sent() {
        assert_eq!(clean("plain\ttext\n"), "plain\ttext\n");
        assert_eq!(
            clean("\u{1b}[2J\u{1b}[32mPASSED"),
            "\\x1b[2J\\x1b[32mPASSED"
        );
        assert_eq!(clean("a\rb\u{7f}\u{9b}c"), "a\\x0db\\x7f\\x9bc");
    }
}
