//! A browser's cookie jar for one simulated customer (an iteration in the open model, a user
//! in the closed one), by RFC 6265: `Set-Cookie` is parsed leniently as browsers do, a
//! cookie for another domain is refused, a host-only cookie stays on its host, a path
//! scopes it, `Max-Age`/`Expires` end it (`Max-Age` wins), a `Secure` one is sent over TLS
//! only. The target is one host, so the public-suffix list is not needed: a `Domain` must be
//! the target's host or a parent of it, and an IP address only itself.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Most cookies one jar keeps (RFC 6265 asks at least 50 per domain); a misbehaving target
/// cannot grow it without bound.
const MAX_COOKIES: usize = 64;
/// Longest `name=value` kept (browsers keep 4,096 bytes).
const MAX_COOKIE: usize = 4096;
/// Longest life a cookie is given, whatever it asks (RFC 6265bis caps `Max-Age` at 400 days);
/// a huge `Max-Age` must not overflow the clock.
const MAX_AGE: u64 = 400 * 24 * 3600;

/// One stored cookie.
#[derive(Debug, Clone, PartialEq)]
struct Cookie {
    name: String,
    value: String,
    /// The domain it was set for (lower case), and whether only that exact host gets it.
    domain: String,
    host_only: bool,
    path: String,
    expires: Option<SystemTime>,
    secure: bool,
}

/// The cookies of one simulated customer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Jar {
    cookies: Vec<Cookie>,
}

impl Jar {
    /// Takes one `Set-Cookie` value received from `host` for a request to `path`; returns
    /// the cookie's name when it was stored (or removed, by an expiry in the past).
    pub fn store(
        &mut self,
        header: &str,
        host: &str,
        path: &str,
        now: SystemTime,
    ) -> Option<String> {
        let mut parts = header.split(';');
        let pair = parts.next()?.trim();
        let (name, value) = pair.split_once('=')?;
        let (name, value) = (name.trim(), value.trim());
        if name.is_empty() || pair.len() > MAX_COOKIE {
            return None;
        }
        let host = host.to_ascii_lowercase();
        let mut cookie = Cookie {
            name: name.to_string(),
            // Quotes are part of the value (RFC 6265 §4.1.1): sent back as received.
            value: value.to_string(),
            domain: host.clone(),
            host_only: true,
            path: default_path(path),
            expires: None,
            secure: false,
        };
        let mut max_age: Option<i64> = None;
        for attribute in parts {
            let (key, val) = attribute.split_once('=').unwrap_or((attribute, ""));
            let (key, val) = (key.trim().to_ascii_lowercase(), val.trim());
            match key.as_str() {
                "max-age" => {
                    if let Ok(n) = val.parse::<i64>() {
                        max_age = Some(n);
                    }
                }
                "expires" => {
                    if let Some(t) = parse_date(val) {
                        cookie.expires = Some(t.min(now + Duration::from_secs(MAX_AGE)));
                    }
                }
                "domain" => {
                    let d = val.trim_start_matches('.').to_ascii_lowercase();
                    if !d.is_empty() {
                        // A cookie for a domain the host is not in is refused (§5.3 step 6).
                        if !domain_matches(&host, &d) {
                            return None;
                        }
                        cookie.domain = d;
                        cookie.host_only = false;
                    }
                }
                "path" if val.starts_with('/') => cookie.path = val.to_string(),
                "secure" => cookie.secure = true,
                _ => {}
            }
        }
        if let Some(n) = max_age {
            cookie.expires = Some(if n <= 0 {
                UNIX_EPOCH
            } else {
                now + Duration::from_secs((n as u64).min(MAX_AGE))
            });
        }
        let same = |c: &Cookie| {
            c.name == cookie.name && c.domain == cookie.domain && c.path == cookie.path
        };
        // Expired cookies go first (§5.3), then, at the cap, the oldest.
        self.cookies
            .retain(|c| !same(c) && c.expires.is_none_or(|t| t > now));
        if cookie.expires.is_none_or(|t| t > now) {
            if self.cookies.len() >= MAX_COOKIES {
                self.cookies.remove(0);
            }
            self.cookies.push(cookie);
        }
        Some(name.to_string())
    }

    /// The `Cookie` header for a request to `host` and `path`, if any cookie applies:
    /// longer paths first, as browsers send them.
    pub fn header(&self, host: &str, path: &str, tls: bool, now: SystemTime) -> Option<String> {
        if self.cookies.is_empty() {
            return None;
        }
        let host = host.to_ascii_lowercase();
        let mut matching: Vec<&Cookie> = self
            .cookies
            .iter()
            .filter(|c| c.expires.is_none_or(|t| t > now))
            .filter(|c| !c.secure || tls)
            .filter(|c| {
                if c.host_only {
                    c.domain == host
                } else {
                    domain_matches(&host, &c.domain)
                }
            })
            .filter(|c| path_matches(path, &c.path))
            .collect();
        if matching.is_empty() {
            return None;
        }
        matching.sort_by_key(|c| std::cmp::Reverse(c.path.len()));
        let mut out = String::new();
        for c in matching {
            if !out.is_empty() {
                out.push_str("; ");
            }
            out.push_str(&c.name);
            out.push('=');
            out.push_str(&c.value);
        }
        Some(out)
    }

    /// The value of the cookie called `name` (the most specific one, if several), unexpired.
    pub fn get(&self, name: &str, now: SystemTime) -> Option<&str> {
        self.cookies
            .iter()
            .filter(|c| c.name == name && c.expires.is_none_or(|t| t > now))
            .max_by_key(|c| c.path.len())
            .map(|c| c.value.as_str())
    }
}

/// Whether `host` is `domain` or a name under it; an IP address matches only itself.
fn domain_matches(host: &str, domain: &str) -> bool {
    if host == domain {
        return true;
    }
    let is_ip = host.parse::<std::net::IpAddr>().is_ok() || host.starts_with('[');
    !is_ip
        && host.len() > domain.len()
        && host.ends_with(domain)
        && host.as_bytes()[host.len() - domain.len() - 1] == b'.'
}

/// Whether a request path is in a cookie's path (§5.1.4).
fn path_matches(request: &str, cookie: &str) -> bool {
    let request = request.split('?').next().unwrap_or("/");
    request == cookie
        || (request.starts_with(cookie)
            && (cookie.ends_with('/') || request.as_bytes().get(cookie.len()) == Some(&b'/')))
}

/// The default path of a cookie set by a response to `path`: its directory (§5.1.4).
fn default_path(path: &str) -> String {
    let path = path.split('?').next().unwrap_or("");
    match path.rfind('/') {
        Some(0) | None => "/".into(),
        Some(i) => path[..i].to_string(),
    }
}

/// A cookie date (§5.1.1): tokens in any order, the first time, day, month and year found.
fn parse_date(text: &str) -> Option<SystemTime> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let (mut time, mut day, mut month, mut year) = (None, None, None, None);
    for token in text
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == ':'))
        .filter(|t| !t.is_empty())
    {
        let lower = token.to_ascii_lowercase();
        if time.is_none() && token.contains(':') {
            let hms: Vec<u64> = token.split(':').filter_map(|p| p.parse().ok()).collect();
            if let [h, m, s] = hms[..] {
                time = Some((h, m, s));
                continue;
            }
        }
        if day.is_none() && token.len() <= 2 && token.chars().all(|c| c.is_ascii_digit()) {
            day = token.parse::<u64>().ok();
            continue;
        }
        if month.is_none()
            && let Some(m) = MONTHS.iter().position(|m| lower.starts_with(m))
        {
            month = Some(m as u64 + 1);
            continue;
        }
        if year.is_none()
            && (2..=4).contains(&token.len())
            && token.chars().all(|c| c.is_ascii_digit())
        {
            let y: u64 = token.parse().ok()?;
            year = Some(match y {
                70..=99 => y + 1900,
                0..=69 => y + 2000,
                _ => y,
            });
        }
    }
    let ((h, mi, s), d, mo, y) = (time?, day?, month?, year?);
    if !(1..=31).contains(&d) || y < 1601 || h > 23 || mi > 59 || s > 59 {
        return None;
    }
    // Days since the epoch of a civil date (Howard Hinnant's algorithm).
    let (y, mo) = (y as i64, mo as i64);
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (mo + if mo > 2 { -3 } else { 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + (h * 3600 + mi * 60 + s) as i64;
    if secs < 0 {
        return Some(UNIX_EPOCH);
    }
    Some(UNIX_EPOCH + Duration::from_secs(secs as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn a_session_cookie_goes_back_to_its_host_and_path() {
        let now = at(1_800_000_000);
        let mut jar = Jar::default();
        assert_eq!(
            jar.store(
                "sid=abc123; Path=/web; HttpOnly; SameSite=Lax",
                "shop.test",
                "/web/login",
                now
            ),
            Some("sid".into())
        );
        jar.store("theme=dark", "shop.test", "/web/prefs/set", now);
        assert_eq!(
            jar.header("shop.test", "/web/account", false, now)
                .as_deref(),
            Some("sid=abc123")
        );
        assert_eq!(
            jar.header("shop.test", "/web/prefs/x?y=1", false, now)
                .as_deref(),
            Some("theme=dark; sid=abc123"),
            "the default path is the setting request's directory; longer paths first"
        );
        assert_eq!(
            jar.header("shop.test", "/api/x", false, now),
            None,
            "another path"
        );
        assert_eq!(
            jar.header("shop.test", "/website", false, now),
            None,
            "a prefix is not a path"
        );
        assert_eq!(
            jar.header("other.test", "/web/account", false, now),
            None,
            "host-only"
        );
        assert_eq!(jar.get("sid", now), Some("abc123"));
    }

    #[test]
    fn domains_expiry_and_secure_follow_rfc_6265() {
        let now = at(1_800_000_000);
        let mut jar = Jar::default();
        assert_eq!(
            jar.store("a=1; Domain=evil.test", "shop.test", "/", now),
            None
        );
        assert_eq!(
            jar.store("a=1; Domain=hop.test", "shop.test", "/", now),
            None
        );
        jar.store("wide=1; Domain=.example.test", "api.example.test", "/", now);
        assert_eq!(
            jar.header("www.example.test", "/", false, now).as_deref(),
            Some("wide=1")
        );
        assert_eq!(jar.header("badexample.test", "/", false, now), None);
        assert_eq!(
            jar.store("ip=1; Domain=0.0.1", "127.0.0.1", "/", now),
            None,
            "an IP matches only itself"
        );

        jar.store("s=1; Secure", "secure.test", "/", now);
        assert_eq!(jar.header("secure.test", "/", false, now), None);
        assert_eq!(
            jar.header("secure.test", "/", true, now).as_deref(),
            Some("s=1")
        );

        let mut jar = Jar::default();
        jar.store("t=1; Max-Age=60", "h", "/", now);
        assert!(
            jar.header("h", "/", false, now + Duration::from_secs(59))
                .is_some()
        );
        assert!(
            jar.header("h", "/", false, now + Duration::from_secs(61))
                .is_none()
        );
        jar.store("u=1; Expires=Wed, 21 Oct 2015 07:28:00 GMT", "h", "/", now);
        assert_eq!(jar.get("u", now), None, "already expired: not kept");
        jar.store(
            "v=1; Expires=Thu, 01-Jan-2037 00:00:00 GMT; Max-Age=0",
            "h",
            "/",
            now,
        );
        assert_eq!(jar.get("v", now), None, "Max-Age wins over Expires");
        jar.store("w=1", "h", "/", now);
        jar.store("w=; Max-Age=0", "h", "/", now);
        assert_eq!(jar.get("w", now), None, "a logout removes the cookie");
        jar.store("x=2; expires=Fri, 01 Jan 2100 00:00:00 GMT", "h", "/", now);
        assert_eq!(jar.get("x", now), Some("2"));
    }

    #[test]
    fn cookie_dates_parse_as_browsers_read_them() {
        assert_eq!(
            parse_date("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(at(1_445_412_480))
        );
        assert_eq!(
            parse_date("Wednesday, 21-Oct-15 07:28:00 GMT"),
            Some(at(1_445_412_480))
        );
        assert_eq!(
            parse_date("Wed Oct 21 07:28:00 2015"),
            Some(at(1_445_412_480))
        );
        assert_eq!(parse_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(at(0)));
        assert_eq!(parse_date("not a date"), None);
        assert_eq!(parse_date("32 Oct 2015 07:28:00"), None);
    }

    #[test]
    fn a_huge_max_age_or_a_quoted_value_is_taken_as_browsers_take_it() {
        let now = at(1_800_000_000);
        let mut jar = Jar::default();
        jar.store("big=1; Max-Age=9223372036854775807", "h", "/", now);
        assert_eq!(
            jar.get("big", now + Duration::from_secs(399 * 86_400)),
            Some("1")
        );
        assert_eq!(
            jar.get("big", now + Duration::from_secs(401 * 86_400)),
            None
        );
        jar.store("q=\"a b\"", "h", "/", now);
        assert_eq!(jar.get("q", now), Some("\"a b\""));
    }

    #[test]
    fn a_target_cannot_grow_the_jar_without_bound() {
        let now = at(1_800_000_000);
        let mut jar = Jar::default();
        for i in 0..1000 {
            jar.store(&format!("c{i}=1"), "h", "/", now);
        }
        assert_eq!(jar.cookies.len(), MAX_COOKIES);
        assert!(
            jar.store(&format!("big={}", "x".repeat(5000)), "h", "/", now)
                .is_none()
        );
    }
}
