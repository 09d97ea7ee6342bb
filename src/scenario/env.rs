//! `${NAME}` and `${NAME:-default}` interpolation of environment variables in target settings and `[vars]`.

/// Why an interpolation failed, and where in the string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvError {
    /// Byte offset of the `${` in the input.
    pub offset: usize,
    /// The text of the faulty reference, e.g. `${STAGING_URL}`.
    pub reference: String,
    /// What went wrong.
    pub message: String,
}

/// Replaces every `${NAME}` / `${NAME:-default}` using `lookup`; `$$` is a literal `$`.
pub fn interpolate(
    input: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String, EnvError> {
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    let mut consumed = 0;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            consumed += i + 2;
            rest = tail;
            continue;
        }
        let Some(body) = after.strip_prefix('{') else {
            out.push('$');
            consumed += i + 1;
            rest = after;
            continue;
        };
        let offset = consumed + i;
        let Some(close) = body.find('}') else {
            return Err(EnvError {
                offset,
                reference: rest[i..].to_string(),
                message: "unterminated `${`: expected `${NAME}` or `${NAME:-default}`".into(),
            });
        };
        let inner = &body[..close];
        let reference = format!("${{{inner}}}");
        let (name, default) = match inner.split_once(":-") {
            Some((n, d)) => (n, Some(d)),
            None => (inner, None),
        };
        let valid = !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !name.starts_with(|c: char| c.is_ascii_digit());
        if !valid {
            return Err(EnvError {
                offset,
                reference,
                message: format!("invalid environment variable name `{name}`"),
            });
        }
        match lookup(name)
            .filter(|v| !v.is_empty())
            .or(default.map(str::to_string))
        {
            Some(v) => out.push_str(&v),
            None => {
                return Err(EnvError {
                    offset,
                    message: format!(
                        "environment variable `{name}` is not set and `{reference}` has no default"
                    ),
                    reference,
                });
            }
        }
        let used = i + 2 + close + 1;
        consumed += used;
        rest = &rest[used..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Looks a variable up in the process environment.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "HOST" => Some("staging.example.com".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn substitutes_set_and_defaulted_variables() {
        assert_eq!(
            interpolate("https://${HOST}/v1", &env).unwrap(),
            "https://staging.example.com/v1"
        );
        assert_eq!(
            interpolate("${MISSING:-http://127.0.0.1:8080}", &env).unwrap(),
            "http://127.0.0.1:8080"
        );
        assert_eq!(interpolate("${EMPTY:-fallback}", &env).unwrap(), "fallback");
        assert_eq!(
            interpolate("cost $$5 and $x", &env).unwrap(),
            "cost $5 and $x"
        );
    }

    #[test]
    fn reports_the_missing_variable_and_its_offset() {
        let err = interpolate("http://x/${NOPE}/y", &env).unwrap_err();
        assert_eq!(err.offset, 9);
        assert_eq!(err.reference, "${NOPE}");
        assert!(err.message.contains("`NOPE` is not set"));
        assert!(interpolate("${BAD NAME}", &env).is_err());
        assert!(interpolate("${OPEN", &env).is_err());
    }
}
