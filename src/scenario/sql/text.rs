//! SQL text read as code: outside string literals, quoted identifiers, comments and dollar
//! quotes, for the checks validation makes (templates, transaction control, placeholders).

use crate::scenario::plan::Driver;

/// Whether SQL text holds a `{{ name }}` template (PostgreSQL's `'{{1,2}}'` array does not).
pub(super) fn looks_templated(sql: &str) -> bool {
    let mut rest = sql;
    while let Some(i) = rest.find("{{") {
        let after = &rest[i + 2..];
        if let Some(end) = after.find("}}") {
            let inner = after[..end].trim();
            if !inner.is_empty()
                && inner
                    .chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '-'))
                && inner
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_alphabetic() || c == '_')
            {
                return true;
            }
        }
        rest = after;
    }
    false
}

/// The statement's code in lower case, one space between words, strings and comments out.
pub(super) fn normalized(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    scan(sql, |c| out.push(c.to_ascii_lowercase()));
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Calls `code` with every character outside string literals, quoted identifiers and
/// comments (a space for each of those).
fn scan(sql: &str, mut code: impl FnMut(char)) {
    let chars: Vec<char> = sql.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            '\'' | '"' | '`' => {
                i += 1;
                while i < chars.len() {
                    if chars[i] == '\\' && c == '\'' {
                        i += 2;
                        continue;
                    }
                    if chars[i] == c {
                        // A doubled quote is the quote itself.
                        if chars.get(i + 1) == Some(&c) {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
                code(' ');
            }
            '-' if next == Some('-') => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
                code(' ');
            }
            '/' if next == Some('*') => {
                i += 2;
                while i + 1 < chars.len() && !(chars[i] == '*' && chars[i + 1] == '/') {
                    i += 1;
                }
                i += 1;
                code(' ');
            }
            // PostgreSQL's dollar quoting: $$…$$ or $tag$…$tag$ ($1 is a placeholder).
            '$' if next.is_some_and(|n| n == '$' || n.is_alphabetic() || n == '_') => {
                let mut j = i + 1;
                while j < chars.len()
                    && chars[j] != '$'
                    && (chars[j].is_alphanumeric() || chars[j] == '_')
                {
                    j += 1;
                }
                if chars.get(j) == Some(&'$') {
                    let tag: String = chars[i..=j].iter().collect();
                    let body: String = chars[j + 1..].iter().collect();
                    match body.find(&tag) {
                        Some(end) => {
                            i = j + 1 + body[..end].chars().count() + tag.chars().count() - 1
                        }
                        None => i = chars.len(),
                    }
                    code(' ');
                } else {
                    code(c);
                }
            }
            c => code(c),
        }
        i += 1;
    }
}

/// How many parameters a statement binds: PostgreSQL's highest `$N`; MySQL's `?`s; SQLite's
/// `?`s, highest `?NNN` and distinct `:name`, `@name`, `$name`.
pub(super) fn placeholders(sql: &str, driver: Driver) -> usize {
    let mut code = String::with_capacity(sql.len());
    scan(sql, |c| code.push(c));
    let chars: Vec<char> = code.chars().collect();
    let (mut bare, mut highest) = (0usize, 0usize);
    let mut names = std::collections::BTreeSet::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let mut j = i + 1;
        while j < chars.len() && chars[j].is_ascii_digit() {
            j += 1;
        }
        let number: Option<usize> = (j > i + 1)
            .then(|| code_slice(&chars, i + 1, j).parse().ok())
            .flatten();
        match (driver, c) {
            (Driver::Postgres, '$') => {
                if let Some(n) = number {
                    highest = highest.max(n);
                }
            }
            (Driver::MySql, '?') => bare += 1,
            (Driver::Sqlite, '?') => match number {
                Some(n) => highest = highest.max(n),
                None => bare += 1,
            },
            (Driver::Sqlite, ':' | '@' | '$')
                if chars.get(i + 1).is_some_and(|n| {
                    n.is_alphabetic() || *n == '_' || (c == '$' && n.is_ascii_digit())
                }) && !(c == ':' && chars.get(i.wrapping_sub(1)) == Some(&':')) =>
            {
                let mut k = i + 1;
                while k < chars.len() && (chars[k].is_alphanumeric() || chars[k] == '_') {
                    k += 1;
                }
                names.insert(code_slice(&chars, i, k));
                i = k;
                continue;
            }
            _ => {}
        }
        i = if number.is_some() { j } else { i + 1 };
    }
    highest.max(bare) + names.len()
}

fn code_slice(chars: &[char], from: usize, to: usize) -> String {
    chars[from..to].iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_counted_outside_strings_and_comments() {
        let pg = |s| placeholders(s, Driver::Postgres);
        let my = |s| placeholders(s, Driver::MySql);
        let lite = |s| placeholders(s, Driver::Sqlite);
        assert_eq!(pg("SELECT * FROM t WHERE a = $1 AND b = $2::int"), 2);
        assert_eq!(
            pg("SELECT '$3', $$ $4 $$, $tag$ $5 $tag$ FROM t WHERE a = $1 -- $6"),
            1
        );
        assert_eq!(pg("SELECT 1 /* $2 */"), 0);
        assert_eq!(pg("UPDATE t SET a = $2 WHERE id = $1"), 2);
        assert_eq!(
            my("SELECT * FROM t WHERE a = ? AND b = '?' AND c = \"?\" AND d = ?"),
            2
        );
        assert_eq!(my("SELECT 'it''s ?' FROM t WHERE a = ?"), 1);
        assert_eq!(lite("SELECT ?1, ?2, ?1"), 2);
        assert_eq!(lite("SELECT :a, :b, :a, @c, $d"), 4);
        assert_eq!(lite("SELECT $1, $2, $1"), 2);
        assert_eq!(lite("SELECT a::text FROM t"), 0);
        assert!(looks_templated("SELECT '{{ id }}'"));
        assert!(!looks_templated("SELECT '{{1,2},{3,4}}'::int[]"));
        assert_eq!(normalized("  BEGIN   -- x\n; "), "begin ;");
        assert_eq!(
            normalized("SET  SESSION TRANSACTION READ\nWRITE"),
            "set session transaction read write"
        );
        assert_eq!(normalized("SELECT 'read write'"), "select");
    }
}
