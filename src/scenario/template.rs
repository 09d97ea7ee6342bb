//! `{{ var }}` templates: parsed and resolved once at load time, rendered per request without lookups.

/// A variable a template reads at run time (static `[vars]` and `env.*` are folded into literals).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VarRef {
    /// A column of the data feeder's current row.
    Column(usize),
    /// A value captured by an earlier step of the same iteration.
    Capture(usize),
    /// A value rehearse provides.
    Builtin(Builtin),
    /// The simulated customer's cookie with this slot's name (`{{ cookie.NAME }}`).
    Cookie(usize),
}

/// Values rehearse provides to every template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    /// The iteration's 0-based sequence number in the run.
    Iteration,
    /// A fresh random UUID (version 4 format) each time it is rendered.
    Uuid,
    /// Milliseconds since the Unix epoch.
    NowMs,
}

impl Builtin {
    /// Every builtin with the name templates use for it.
    pub const ALL: [(&'static str, Builtin); 3] = [
        ("iteration", Builtin::Iteration),
        ("uuid", Builtin::Uuid),
        ("now_ms", Builtin::NowMs),
    ];
}

/// How a variable's value is escaped where it is inserted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Escape {
    /// Inserted as is (headers, raw bodies).
    None,
    /// Percent-encoded as one URL path segment or query component.
    Url,
    /// Escaped as the inside of a JSON string.
    JsonString,
}

/// One piece of a compiled template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// Text copied unchanged.
    Literal(String),
    /// A variable, escaped for its context.
    Var(VarRef, Escape),
}

/// A compiled template.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Template {
    /// Its pieces, in order.
    pub segments: Vec<Segment>,
}

impl Template {
    /// A template that is plain text.
    pub fn literal(text: impl Into<String>) -> Self {
        let text = text.into();
        Self {
            segments: if text.is_empty() {
                vec![]
            } else {
                vec![Segment::Literal(text)]
            },
        }
    }

    /// The text when the template has no variables.
    pub fn as_literal(&self) -> Option<&str> {
        match self.segments.as_slice() {
            [] => Some(""),
            [Segment::Literal(s)] => Some(s),
            _ => None,
        }
    }

    /// Appends the rendered text to `out`; `value` writes a variable's raw value into its buffer.
    pub fn render_into(
        &self,
        out: &mut String,
        scratch: &mut String,
        mut value: impl FnMut(VarRef, &mut String),
    ) {
        for seg in &self.segments {
            match seg {
                Segment::Literal(s) => out.push_str(s),
                Segment::Var(var, Escape::None) => value(*var, out),
                Segment::Var(var, escape) => {
                    scratch.clear();
                    value(*var, scratch);
                    match escape {
                        Escape::Url => percent_encode_into(scratch, out),
                        Escape::JsonString => json_escape_into(scratch, out),
                        Escape::None => unreachable!("handled above"),
                    }
                }
            }
        }
    }

    /// Appends a literal piece, merging with a preceding literal.
    pub fn push_literal(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        if let Some(Segment::Literal(last)) = self.segments.last_mut() {
            last.push_str(text);
        } else {
            self.segments.push(Segment::Literal(text.to_string()));
        }
    }

    /// Appends all of `other`.
    pub fn append(&mut self, other: Template) {
        for seg in other.segments {
            match seg {
                Segment::Literal(s) => self.push_literal(&s),
                var => self.segments.push(var),
            }
        }
    }
}

/// A `{{ name }}` reference found in a string, before it is resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece<'a> {
    /// Text outside braces.
    Text(&'a str),
    /// A reference; `offset` is the byte offset of `{{` in the string.
    Var { name: &'a str, offset: usize },
}

/// Splits a string into text and `{{ name }}` references; an unclosed or empty reference
/// is an error carrying its byte offset.
pub fn parse(input: &str) -> Result<Vec<Piece<'_>>, (usize, String)> {
    let mut pieces = Vec::new();
    let mut pos = 0;
    while let Some(i) = input[pos..].find("{{") {
        let open = pos + i;
        if open > pos {
            pieces.push(Piece::Text(&input[pos..open]));
        }
        let Some(len) = input[open + 2..].find("}}") else {
            return Err((open, "unclosed `{{`: expected `{{ name }}`".into()));
        };
        let name = input[open + 2..open + 2 + len].trim();
        let valid = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '.' || c == '-');
        if !valid {
            return Err((
                open,
                format!(
                    "invalid variable reference `{}`: expected `{{{{ name }}}}` with a name of letters, digits, `_`, `-` or `.`",
                    &input[open..open + 4 + len]
                ),
            ));
        }
        pieces.push(Piece::Var { name, offset: open });
        pos = open + 4 + len;
    }
    if pos < input.len() {
        pieces.push(Piece::Text(&input[pos..]));
    }
    Ok(pieces)
}

/// Decodes `%XX` escapes (a malformed one is kept as written); invalid UTF-8 becomes U+FFFD.
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `a=1&b=x%20y` (a query string or an `application/x-www-form-urlencoded` body) as pairs:
/// `+` is a space, percent escapes decoded.
pub fn decode_form(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                percent_decode(&k.replace('+', " ")),
                percent_decode(&v.replace('+', " ")),
            )
        })
        .collect()
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub fn percent_encode_into(input: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in input.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 15) as usize] as char);
        }
    }
}

/// Escapes text for the inside of a JSON string literal.
pub fn json_escape_into(input: &str, out: &mut String) {
    for c in input.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                use std::fmt::Write;
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_text_and_references() {
        let p = parse("/api/{{ id }}/pay?x={{env.HOME}}").unwrap();
        assert_eq!(
            p,
            vec![
                Piece::Text("/api/"),
                Piece::Var {
                    name: "id",
                    offset: 5
                },
                Piece::Text("/pay?x="),
                Piece::Var {
                    name: "env.HOME",
                    offset: 20
                },
            ]
        );
        assert_eq!(parse("plain").unwrap(), vec![Piece::Text("plain")]);
        assert_eq!(parse("a {{ x").unwrap_err().0, 2);
        assert!(parse("{{ }}").is_err());
        assert!(parse("{{ a b }}").is_err());
    }

    #[test]
    fn renders_with_context_escaping() {
        let t = Template {
            segments: vec![
                Segment::Literal("q=".into()),
                Segment::Var(VarRef::Column(0), Escape::Url),
                Segment::Literal(" j=".into()),
                Segment::Var(VarRef::Column(0), Escape::JsonString),
                Segment::Literal(" h=".into()),
                Segment::Var(VarRef::Column(0), Escape::None),
            ],
        };
        let mut out = String::new();
        t.render_into(&mut out, &mut String::new(), |_, buf| {
            buf.push_str("a \"b\"/é")
        });
        assert_eq!(out, "q=a%20%22b%22%2F%C3%A9 j=a \\\"b\\\"/é h=a \"b\"/é");
    }
}
