//! `[target]`: the base URL (credentials taken out into a header, never shown), TLS,
//! default headers, timeouts, body limits, cookies and redirects.

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine as _;
use http::HeaderValue;
use toml::{Spanned, Value};

use super::Overrides;
use super::build::{Builder, DEFAULT_TIMEOUT, describe};
use super::diagnostic::Diagnostic;
use super::plan::*;
use super::raw::*;

pub(super) fn build_target(
    b: &mut Builder,
    raw: Option<&Spanned<RawTarget>>,
    overrides: &Overrides,
    base_dir: &Path,
) -> Option<TargetPlan> {
    let default = RawTarget {
        base_url: None,
        headers: BTreeMap::new(),
        timeout: None,
        ca_file: None,
        insecure: None,
        max_body: None,
        cookies: None,
        follow_redirects: None,
        http: None,
        connections: None,
    };
    let (t, span) = match raw {
        Some(t) => (t.get_ref(), t.span()),
        None => (&default, 0..0),
    };
    let url = match (&overrides.target, &t.base_url) {
        (Some(url), _) => Some((url.clone(), None)),
        (None, Some(u)) => b.interpolate_address(u).map(|s| (s, Some(u.span()))),
        (None, None) => {
            b.error_help(
                span,
                "no target: `[target] base_url` is not set",
                "set `base_url` in `[target]` or pass `--target http://host:port`",
            );
            None
        }
    };
    let timeout = match &t.timeout {
        Some(v) => b.duration_in(v, "timeout", true, super::limits::MAX_TIMEOUT),
        None => Some(DEFAULT_TIMEOUT),
    };
    let max_body = match &t.max_body {
        Some(v) => b.size(v, "max_body"),
        None => Some(super::limits::DEFAULT_MAX_BODY),
    };
    let cookies = match &t.cookies {
        None => Some(true),
        Some(v) => match v.get_ref() {
            Value::Boolean(on) => Some(*on),
            other => {
                b.error(
                    v.span(),
                    format!("`cookies` is true or false, not {}", describe(other)),
                );
                None
            }
        },
    };
    let max_redirects = match &t.follow_redirects {
        None => Some(super::limits::DEFAULT_REDIRECTS),
        Some(v) => b.redirects(v),
    };
    let http = match &t.http {
        None => Some(HttpVersion::Http1),
        Some(v) => match v.get_ref() {
            Value::String(s) if s.trim() == "1.1" => Some(HttpVersion::Http1),
            Value::String(s) if s.trim() == "2" => Some(HttpVersion::Http2),
            Value::String(s) if s.trim().eq_ignore_ascii_case("auto") => Some(HttpVersion::Auto),
            Value::Integer(2) => Some(HttpVersion::Http2),
            Value::Float(f) if *f == 1.1 => Some(HttpVersion::Http1),
            other => {
                b.error(
                    v.span(),
                    format!(
                        "`http` is \"1.1\", \"2\" or \"auto\", not {}",
                        describe(other)
                    ),
                );
                None
            }
        },
    };
    let connections = match &t.connections {
        None => Some(DEFAULT_H2_CONNECTIONS),
        Some(c) if (1..=MAX_H2_CONNECTIONS).contains(c.get_ref()) => Some(*c.get_ref() as u32),
        Some(c) => {
            b.error(
                c.span(),
                format!("`connections` must be between 1 and {MAX_H2_CONNECTIONS}"),
            );
            None
        }
    };
    let plain_auto = http == Some(HttpVersion::Auto)
        && url
            .as_ref()
            .is_some_and(|(u, _)| u.trim_start().to_ascii_lowercase().starts_with("http://"));
    if let (Some(c), true) = (&t.connections, plain_auto) {
        b.error_help(
            c.span(),
            "`connections` sets how many HTTP/2 connections streams share; `auto` on an http:// target speaks HTTP/1.1 (no TLS, no ALPN)",
            "use `http = \"2\"` for HTTP/2 in plain text (h2c), or leave `connections` out",
        );
    }
    if let (Some(c), Some(HttpVersion::Http1)) = (&t.connections, http) {
        b.error_help(
            c.span(),
            "`connections` sets how many HTTP/2 connections streams share; this target speaks HTTP/1.1",
            "add `http = \"2\"` (or \"auto\"), or leave `connections` out: HTTP/1.1 opens a connection per customer",
        );
    }
    let mut headers = Vec::new();
    for (name, value) in &t.headers {
        let Some(h) = b.header_name(name) else {
            continue;
        };
        let Some(v) = b.interpolate(value) else {
            continue;
        };
        match HeaderValue::from_str(&v) {
            Ok(v) => headers.push((h, v)),
            Err(_) => b.error(
                value.span(),
                format!("invalid value for header `{}`", name.get_ref()),
            ),
        }
    }
    let ca_file = t.ca_file.as_ref().and_then(|f| {
        let path = base_dir.join(b.interpolate_address(f)?);
        match super::limits::read_capped(&path, super::limits::MAX_CA_FILE) {
            Ok(_) => Some(path),
            Err(e) => {
                b.error(f.span(), format!("CA file `{}`: {e}", path.display()));
                None
            }
        }
    });
    let (url, url_span) = url?;
    let parsed = match parse_base_url(&url) {
        Ok(p) => p,
        Err(e) => {
            match url_span {
                Some(s) => b.error(s, e),
                None => b.diags.push(Diagnostic::whole_file(
                    &b.source.path,
                    format!("--target: {e}"),
                )),
            }
            return None;
        }
    };
    let tls = (parsed.scheme == "https").then(|| TlsPlan {
        ca_file,
        insecure: t.insecure.unwrap_or(false),
    });
    let basic_auth = parsed.userinfo.as_ref().map(|(user, password)| {
        b.secrets.add(password);
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        b.secrets.add(&token);
        HeaderValue::from_str(&format!("Basic {token}")).expect("base64 is a valid header value")
    });
    Some(TargetPlan {
        base_url: format!("{}://{}{}", parsed.scheme, parsed.authority, parsed.path),
        basic_auth,
        tls,
        host: parsed.host,
        port: parsed.port,
        authority: parsed.authority,
        base_path: parsed.path,
        headers,
        timeout: timeout?,
        max_body: max_body?,
        cookies: cookies?,
        max_redirects: max_redirects?,
        http: http?,
        connections: connections?,
    })
}

/// HTTP/2 connections when `connections` is not set: a few, so one slow connection (or a
/// load balancer pinning a connection to one backend) does not carry all the load.
const DEFAULT_H2_CONNECTIONS: u32 = 4;
/// Most HTTP/2 connections to one target.
const MAX_H2_CONNECTIONS: i64 = 1_000;

/// The target of a run with no HTTP steps: its database, as reports show it.
pub(super) fn database_target(db: &DatabasePlan) -> TargetPlan {
    TargetPlan {
        base_url: db.display.clone(),
        basic_auth: None,
        tls: None,
        host: db.host.clone().unwrap_or_else(|| "localhost".into()),
        port: 0,
        authority: db.host.clone().unwrap_or_default(),
        base_path: String::new(),
        headers: Vec::new(),
        timeout: super::build::DEFAULT_TIMEOUT,
        max_body: 0,
        cookies: false,
        max_redirects: 0,
        http: HttpVersion::Http1,
        connections: DEFAULT_H2_CONNECTIONS,
    }
}

struct BaseUrl {
    scheme: String,
    host: String,
    port: u16,
    /// Host and port, without user information.
    authority: String,
    path: String,
    /// Percent-decoded user and password from `user:password@`.
    userinfo: Option<(String, String)>,
}

fn parse_base_url(url: &str) -> Result<BaseUrl, String> {
    let uri: http::Uri = url
        .parse()
        .map_err(|e| format!("invalid base URL \"{}\": {e}", strip_userinfo(url)))?;
    let scheme = uri.scheme_str().unwrap_or("").to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return Err(format!(
            "invalid base URL \"{}\": expected an http:// or https:// URL",
            strip_userinfo(url)
        ));
    }
    let authority = uri
        .authority()
        .ok_or_else(|| format!("invalid base URL \"{}\": no host", strip_userinfo(url)))?;
    let host = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let port = authority
        .port_u16()
        .unwrap_or(if scheme == "https" { 443 } else { 80 });
    if uri.query().is_some() {
        return Err(format!(
            "invalid base URL \"{}\": it must not contain a query string",
            strip_userinfo(url)
        ));
    }
    let (userinfo, host_port) = match authority.as_str().rsplit_once('@') {
        Some((info, rest)) => {
            let (user, password) = info.split_once(':').unwrap_or((info, ""));
            (
                Some((
                    super::template::percent_decode(user),
                    super::template::percent_decode(password),
                )),
                rest,
            )
        }
        None => (None, authority.as_str()),
    };
    Ok(BaseUrl {
        scheme,
        host,
        port,
        authority: host_port.to_string(),
        path: uri.path().trim_end_matches('/').to_string(),
        userinfo,
    })
}

/// A URL with any `user:password@` removed, for messages.
pub fn strip_userinfo(url: &str) -> String {
    let Some(start) = url.find("://").map(|i| i + 3) else {
        return url.to_string();
    };
    let end = url[start..]
        .find(['/', '?', '#'])
        .map(|i| start + i)
        .unwrap_or(url.len());
    match url[start..end].rfind('@') {
        Some(at) => format!("{}{}", &url[..start], &url[start + at + 1..]),
        None => url.to_string(),
    }
}
