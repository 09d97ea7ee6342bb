//! Turns the simple JSON paths people write (`$.invoices[0].id`) into RFC 6901 pointers.

/// Converts `$.a.b[0]`, `$['a b'][1]` or an RFC 6901 pointer (`/a/b/0`) into a pointer.
pub fn to_pointer(path: &str) -> Result<String, String> {
    let p = path.trim();
    if p.is_empty() || p.starts_with('/') {
        return Ok(p.to_string());
    }
    let bad = |why: &str| {
        format!(
            "invalid JSON path \"{path}\": {why}; expected e.g. \"$.invoices[0].id\" or a JSON pointer \"/invoices/0/id\""
        )
    };
    let mut rest = p
        .strip_prefix('$')
        .ok_or_else(|| bad("it must start with `$` or `/`"))?;
    let mut pointer = String::new();
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            let key = &r[..end];
            if key.is_empty() {
                return Err(bad("empty key after `.`"));
            }
            push_token(&mut pointer, key);
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let close = r.find(']').ok_or_else(|| bad("unclosed `[`"))?;
            let inner = r[..close].trim();
            let key = if let Some(q) = inner
                .strip_prefix('\'')
                .and_then(|s| s.strip_suffix('\''))
                .or_else(|| inner.strip_prefix('"').and_then(|s| s.strip_suffix('"')))
            {
                q
            } else if !inner.is_empty() && inner.chars().all(|c| c.is_ascii_digit()) {
                inner
            } else {
                return Err(bad("an index must be a number or a quoted key"));
            };
            push_token(&mut pointer, key);
            rest = &r[close + 1..];
        } else {
            return Err(bad("expected `.` or `[`"));
        }
    }
    Ok(pointer)
}

fn push_token(pointer: &mut String, key: &str) {
    pointer.push('/');
    pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_paths_to_pointers() {
        assert_eq!(to_pointer("$.invoices[0].id").unwrap(), "/invoices/0/id");
        assert_eq!(to_pointer("$['a/b'][\"c d\"]").unwrap(), "/a~1b/c d");
        assert_eq!(to_pointer("/already/0").unwrap(), "/already/0");
        assert_eq!(to_pointer("$").unwrap(), "");
        assert!(to_pointer("invoices.0").is_err());
        assert!(to_pointer("$.a[x]").is_err());
        assert!(to_pointer("$..a").is_err());
        let doc = serde_json::json!({"invoices": [{"id": "inv_1"}]});
        assert_eq!(
            doc.pointer(&to_pointer("$.invoices[0].id").unwrap())
                .unwrap(),
            "inv_1"
        );
    }
}
