//! A database URL read as its driver will read it: the host connected to (for the allowlist),
//! its passwords (secrets) and a form to show people.

use std::str::FromStr as _;

use crate::scenario::plan::Driver;

/// A database URL taken apart: what runs, what people see, what is secret.
#[derive(Debug)]
pub(super) struct DbUrl {
    pub driver: Driver,
    pub display: String,
    pub host: Option<String>,
    pub passwords: Vec<String>,
}

/// Reads a database URL as the driver will (the same URL parser, then the driver's own
/// options): the host it connects to, its passwords (in `user:pass@` or a `password`
/// parameter, however encoded) and a display form with them as `***`. What could send the
/// connection elsewhere than the host the allowlist sees is refused: `host`, `hostaddr` and
/// `socket` parameters, a fragment, an `@` after the host.
pub(super) fn parse_url(text: &str) -> Result<DbUrl, String> {
    let scheme = text
        .split_once(':')
        .map(|(s, _)| s.to_ascii_lowercase())
        .ok_or("the URL has no scheme (postgres://, mysql://, mariadb:// or sqlite:)")?;
    let driver = match scheme.as_str() {
        "postgres" | "postgresql" => Driver::Postgres,
        "mysql" | "mariadb" => Driver::MySql,
        "sqlite" => Driver::Sqlite,
        other => {
            return Err(format!(
                "unknown database scheme `{other}:` (postgres://, mysql://, mariadb:// or sqlite:)"
            ));
        }
    };
    // The driver's own reading: what it refuses fails validation, not the run.
    let check = |r: Result<(), sqlx::Error>| {
        r.map_err(|e| format!("the {} driver does not accept it: {e}", driver.name()))
    };
    if driver == Driver::Sqlite {
        let (file, _) = text["sqlite:".len()..]
            .split_once('?')
            .unwrap_or((&text["sqlite:".len()..], ""));
        if file.trim_start_matches("//").is_empty() {
            return Err("a sqlite: URL needs a file, e.g. sqlite:ledger.db".into());
        }
        check(sqlx::sqlite::SqliteConnectOptions::from_str(text).map(drop))?;
        return Ok(DbUrl {
            driver,
            display: text.to_string(),
            host: None,
            passwords: Vec::new(),
        });
    }
    let url = url::Url::parse(text).map_err(|e| format!("not a URL: {e}"))?;
    if url.fragment().is_some() {
        return Err(
            "a `#` ends the URL's address early: percent-encode it (%23) in a password".into(),
        );
    }
    if url.path().contains('@') {
        return Err(
            "an `@` after the host: a password holding `/`, `?` or `#` must be percent-encoded (%2F, %3F, %23)".into(),
        );
    }
    let host = match url.host() {
        Some(url::Host::Domain(d)) => d.to_string(),
        Some(url::Host::Ipv4(ip)) => ip.to_string(),
        Some(url::Host::Ipv6(ip)) => ip.to_string(),
        None => return Err(format!("the {scheme}:// URL has no host")),
    };
    if host.is_empty() {
        return Err(format!("the {scheme}:// URL has no host"));
    }
    let mut passwords = Vec::new();
    let mut shown = Vec::new();
    for (key, value) in url.query_pairs() {
        let k = key.to_ascii_lowercase();
        if matches!(k.as_str(), "host" | "hostaddr" | "socket") {
            return Err(format!(
                "the `{key}` parameter would connect elsewhere than the URL's host `{host}`: put the address in the URL"
            ));
        }
        if k == "password" {
            passwords.push(value.to_string());
            shown.push((key.to_string(), "***".to_string()));
        } else {
            shown.push((key.to_string(), value.to_string()));
        }
    }
    if let Some(p) = url.password() {
        passwords.push(p.to_string());
        passwords.push(crate::scenario::template::percent_decode(p));
    }
    // The driver must agree on the host (the allowlist checks this one) and use no socket.
    let (driver_host, socket) = match driver {
        Driver::Postgres => {
            let o = sqlx::postgres::PgConnectOptions::from_str(text);
            check(
                o.as_ref()
                    .map(drop)
                    .map_err(|e| sqlx::Error::Configuration(e.to_string().into())),
            )?;
            let o = o.expect("checked");
            (o.get_host().to_string(), o.get_socket().is_some())
        }
        _ => {
            let as_mysql = format!("mysql{}", &text[scheme.len()..]);
            let o = sqlx::mysql::MySqlConnectOptions::from_str(&as_mysql);
            check(
                o.as_ref()
                    .map(drop)
                    .map_err(|e| sqlx::Error::Configuration(e.to_string().into())),
            )?;
            let o = o.expect("checked");
            (o.get_host().to_string(), o.get_socket().is_some())
        }
    };
    let bare = |h: &str| {
        h.trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase()
    };
    if socket || bare(&driver_host) != bare(&host) {
        return Err(format!(
            "the {} driver would connect to `{driver_host}`, not the URL's host `{host}`",
            driver.name()
        ));
    }
    let mut display = url.clone();
    if url.password().is_some() {
        let _ = display.set_password(Some("***"));
    }
    if url.query().is_some() {
        display.query_pairs_mut().clear().extend_pairs(shown);
    }
    passwords.retain(|p| !p.is_empty());
    Ok(DbUrl {
        driver,
        display: display.to_string().replace("%2A%2A%2A", "***"),
        host: Some(host),
        passwords,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_masked_and_remembered() {
        let u =
            parse_url("postgres://app:s%40cret@db.staging:5432/ledger?sslmode=require").unwrap();
        assert_eq!(u.driver, Driver::Postgres);
        assert_eq!(
            u.display,
            "postgres://app:***@db.staging:5432/ledger?sslmode=require"
        );
        assert_eq!(u.host.as_deref(), Some("db.staging"));
        assert!(u.passwords.contains(&"s%40cret".to_string()));
        assert!(u.passwords.contains(&"s@cret".to_string()));
        let u = parse_url("mysql://root@127.0.0.1:3306/test?password=hunter2").unwrap();
        assert_eq!(u.driver, Driver::MySql);
        assert_eq!(u.display, "mysql://root@127.0.0.1:3306/test?password=***");
        assert!(u.passwords.contains(&"hunter2".to_string()));
        let u = parse_url("mariadb://[::1]:3306/x").unwrap();
        assert_eq!(u.host.as_deref(), Some("::1"));
        let u = parse_url("sqlite:ledger.db").unwrap();
        assert_eq!((u.driver, u.host), (Driver::Sqlite, None));
        assert!(
            parse_url("oracle://x")
                .unwrap_err()
                .contains("unknown database scheme")
        );
        assert!(parse_url("postgres:///db").unwrap_err().contains("no host"));
        assert!(
            parse_url("postgres://h:99999/db")
                .unwrap_err()
                .contains("port")
        );
        assert!(
            parse_url("mysql://[::1]:x/db")
                .unwrap_err()
                .contains("port")
        );
        assert!(parse_url("postgres://h:5432/db").is_ok());
        assert!(parse_url("sqlite:").is_err());
        // What would connect elsewhere than the host the allowlist sees is refused.
        for (url, words) in [
            (
                "postgres://u@db.allowed:5432/t?host=127.0.0.1",
                "`host` parameter",
            ),
            (
                "postgres://u@db.allowed:5432/t?hostaddr=127.0.0.1",
                "`hostaddr` parameter",
            ),
            ("postgres://u@db.allowed/t?host=%2Ftmp", "`host` parameter"),
            (
                "mysql://u@db.allowed/t?socket=/run/mysqld.sock",
                "`socket` parameter",
            ),
            ("postgres://u@127.0.0.1:5432#@db.allowed/t", "`#`"),
            ("mysql://u@127.0.0.1:3306#@db.allowed/t", "`#`"),
            (
                "postgres://app:1234/secret@db.allowed/t",
                "`@` after the host",
            ),
        ] {
            let e = parse_url(url).unwrap_err();
            assert!(e.contains(words), "{url}: {e}");
        }
        // A password however the parameter's name is encoded, masked and kept secret.
        let u = parse_url("postgres://app@127.0.0.1/t?pass%77ord=Hunter2Secret").unwrap();
        assert!(!u.display.contains("Hunter2Secret"), "{}", u.display);
        assert!(u.passwords.contains(&"Hunter2Secret".to_string()));
        // What the driver refuses fails here, not in the run.
        assert!(
            parse_url("postgres://h/t?sslmode=bogus")
                .unwrap_err()
                .contains("driver")
        );
        assert!(
            parse_url("sqlite:x.db?mode=bogus")
                .unwrap_err()
                .contains("driver")
        );
    }
}
