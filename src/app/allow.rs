//! The guard against load on the wrong host: when an allowlist is set (`--allow-host` or
//! `REHEARSE_ALLOWED_HOSTS`), a target outside it is refused before anything is sent.

/// Checks every host a plan sends to: its HTTP target and its databases' servers (a
/// SQLite file is local and has none).
pub fn check_plan(plan: &crate::scenario::Plan, globs: &[String]) -> Result<(), String> {
    let http = plan
        .steps
        .iter()
        .any(|s| matches!(s.action, crate::scenario::StepAction::Http(_)));
    if http {
        check(&plan.target.host, globs)?;
    }
    for db in &plan.databases {
        if let Some(host) = &db.host {
            check(host, globs).map_err(|e| {
                e.replacen(
                    "the target host",
                    &format!("the host of database `{}`", db.name),
                    1,
                )
            })?;
        }
    }
    Ok(())
}

/// Checks `host` against host globs (`*` matches any run of characters, case-insensitive);
/// an empty list allows every host.
pub fn check(host: &str, globs: &[String]) -> Result<(), String> {
    let globs: Vec<&str> = globs
        .iter()
        .map(|g| g.trim())
        .filter(|g| !g.is_empty())
        .collect();
    if globs.is_empty() || globs.iter().any(|g| matches(g, host)) {
        return Ok(());
    }
    Err(format!(
        "the target host `{host}` is not in the allowed hosts ({}): nothing was sent (set by --allow-host or REHEARSE_ALLOWED_HOSTS)",
        globs.join(", ")
    ))
}

/// Whether `host` matches `glob`, ignoring case; `*` matches any characters, dots included.
pub fn matches(glob: &str, host: &str) -> bool {
    let glob = glob.to_ascii_lowercase();
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let parts: Vec<&str> = glob.split('*').collect();
    if parts.len() == 1 {
        return glob == host;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !host.starts_with(first) || !host.ends_with(last) || host.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &host[first.len()..host.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(i) => rest = &rest[i + middle.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_hosts_and_nothing_else() {
        assert!(matches("*.staging.example.com", "api.staging.example.com"));
        assert!(matches("*.staging.example.com", "API.Staging.Example.com."));
        assert!(!matches("*.staging.example.com", "staging.example.com"));
        assert!(!matches("*.staging.example.com", "api.prod.example.com"));
        assert!(!matches(
            "*.staging.example.com",
            "evil.com?.staging.example.com.attacker.net"
        ));
        assert!(matches("127.0.0.1", "127.0.0.1"));
        assert!(!matches("127.0.0.1", "127.0.0.10"));
        assert!(matches("10.*.*.5", "10.1.2.5"));
        assert!(matches("*", "anything"));
        assert!(check("prod.example.com", &[]).is_ok());
        let e = check(
            "prod.example.com",
            &["*.staging.example.com".into(), " localhost ".into()],
        )
        .unwrap_err();
        assert!(
            e.contains(
                "`prod.example.com` is not in the allowed hosts (*.staging.example.com, localhost)"
            ),
            "{e}"
        );
        assert!(check("localhost", &["localhost".into()]).is_ok());
    }
}
