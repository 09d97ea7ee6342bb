//! Following a redirect as a browser does, to the target only: where a 3xx points, and the
//! request that goes there. rehearse never sends load to a host it was not given, so a
//! redirect to another host (or scheme, or port) ends the step as a 3xx, saying where.

use http::header::{
    CONTENT_ENCODING, CONTENT_LANGUAGE, CONTENT_LENGTH, CONTENT_LOCATION, CONTENT_TYPE, COOKIE,
    HeaderName, LOCATION, TRANSFER_ENCODING,
};
use http::request::Parts as RequestParts;
use http::response::Parts;
use http::{Method, Request, StatusCode, Uri};

use super::client::{Body, HttpClient};

/// Where a redirect response points, if it is one (301, 302, 303, 307, 308 with a Location).
pub fn location(parts: &Parts) -> Option<String> {
    let redirect = matches!(parts.status.as_u16(), 301 | 302 | 303 | 307 | 308);
    redirect
        .then(|| {
            parts
                .headers
                .get(LOCATION)?
                .to_str()
                .ok()
                .map(str::to_string)
        })
        .flatten()
}

/// The request a redirect asks for: 303 (and 301/302 after a POST, as browsers do) become a
/// GET without a body; 307 and 308 repeat the method and body. A `Cookie` header the jar
/// wrote (`jar_cookie`) is left for the jar to write again for the new path; one the step
/// wrote goes along.
pub fn next(
    sent: &RequestParts,
    body: Body,
    status: StatusCode,
    location: &str,
    client: &HttpClient,
    jar_cookie: bool,
) -> Result<Request<Body>, String> {
    let target = resolve(&sent.uri, location, client)?;
    let as_get = status == StatusCode::SEE_OTHER && sent.method != Method::HEAD
        || matches!(status.as_u16(), 301 | 302) && sent.method == Method::POST;
    let mut req = Request::builder()
        .method(if as_get {
            Method::GET
        } else {
            sent.method.clone()
        })
        .uri(target)
        .body(if as_get { Body::default() } else { body })
        .map_err(|e| format!("cannot follow the redirect to `{}`: {e}", shown(location)))?;
    const BODY_HEADERS: [HeaderName; 6] = [
        CONTENT_TYPE,
        CONTENT_LENGTH,
        CONTENT_ENCODING,
        CONTENT_LANGUAGE,
        CONTENT_LOCATION,
        TRANSFER_ENCODING,
    ];
    for (name, value) in &sent.headers {
        let dropped = (name == COOKIE && jar_cookie) || (as_get && BODY_HEADERS.contains(name));
        if !dropped {
            req.headers_mut().append(name.clone(), value.clone());
        }
    }
    Ok(req)
}

/// The origin-form target of `location` relative to the request `base`, refused when it
/// leaves the target's scheme, host or port.
fn resolve(base: &Uri, location: &str, client: &HttpClient) -> Result<Uri, String> {
    let location = location.trim();
    let refuse = || {
        format!(
            "redirect to `{}` refused: rehearse sends only to the target ({}://{})",
            shown(location),
            if client.is_tls() { "https" } else { "http" },
            client.authority.to_str().unwrap_or("")
        )
    };
    // Schemes are case-insensitive (RFC 3986); an authority ends where a browser ends it.
    let scheme = |s: &str| {
        location
            .get(..s.len())
            .filter(|p| p.eq_ignore_ascii_case(s))
            .map(|_| &location[s.len()..])
    };
    let path_and_query = if let Some(rest) = scheme("http://")
        .map(|r| (false, r))
        .or_else(|| scheme("https://").map(|r| (true, r)))
        .or_else(|| location.strip_prefix("//").map(|r| (client.is_tls(), r)))
    {
        let (tls, rest) = rest;
        let (authority, path) = match rest.find(['/', '?', '#', '\\']) {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let same = tls == client.is_tls()
            && same_authority(authority, client.authority.to_str().unwrap_or(""), tls);
        if !same {
            return Err(refuse());
        }
        if path.starts_with('?') {
            format!("/{path}")
        } else {
            path.to_string()
        }
    } else if location.starts_with('/') {
        location.to_string()
    } else if location.starts_with('?') {
        format!("{}{location}", base.path())
    } else if location.contains("://") {
        return Err(refuse());
    } else {
        // Relative to the request's directory.
        let path = base.path();
        let dir = &path[..path.rfind('/').map_or(0, |i| i + 1)];
        format!("{}{location}", if dir.is_empty() { "/" } else { dir })
    };
    let no_fragment = path_and_query.split('#').next().unwrap_or("/");
    no_fragment.parse::<Uri>().map_err(|e| {
        format!(
            "redirect to `{}` is not a valid address: {e}",
            shown(location)
        )
    })
}

/// A redirect's address as error messages show it: no user information, query or fragment,
/// where a signed URL or an OAuth code would carry its secret.
fn shown(location: &str) -> String {
    let cut = location.split(['?', '#']).next().unwrap_or("");
    match cut.find("://") {
        Some(i) => {
            let (scheme, rest) = cut.split_at(i + 3);
            let end = rest.find('/').unwrap_or(rest.len());
            let authority = &rest[..end];
            let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            format!("{scheme}{host}{}", &rest[end..])
        }
        None => cut.to_string(),
    }
}

/// Whether two authorities are the same host and port, a default port written or not.
fn same_authority(a: &str, b: &str, tls: bool) -> bool {
    let default = if tls { "443" } else { "80" };
    let norm = |s: &str| {
        let s = s.to_ascii_lowercase();
        let s = s
            .rsplit_once('@')
            .map_or(s.as_str(), |(_, h)| h)
            .to_string();
        let has_port = s
            .rsplit_once(':')
            .is_some_and(|(_, p)| p.chars().all(|c| c.is_ascii_digit()))
            && !s.ends_with(']');
        if has_port {
            s
        } else {
            format!("{s}:{default}")
        }
    };
    norm(a) == norm(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::TargetPlan;
    use std::time::Duration;

    fn client(base: &str, tls: bool) -> std::sync::Arc<HttpClient> {
        let (host, port) = base.split_once(':').unwrap();
        HttpClient::new(
            &TargetPlan {
                base_url: format!("http://{base}"),
                basic_auth: None,
                tls: tls.then(Default::default),
                host: host.into(),
                port: port.parse().unwrap(),
                authority: base.into(),
                base_path: String::new(),
                headers: Vec::new(),
                timeout: Duration::from_secs(5),
                max_body: 1024,
                cookies: true,
                max_redirects: 10,
                http: crate::scenario::HttpVersion::Http1,
                connections: 1,
            },
            0,
        )
        .unwrap()
    }

    #[test]
    fn redirects_resolve_within_the_target_only() {
        let c = client("shop.test:8080", false);
        let base: Uri = "/web/login?next=1".parse().unwrap();
        let ok = |l: &str| resolve(&base, l, &c).map(|u| u.to_string());
        assert_eq!(ok("/web/account").unwrap(), "/web/account");
        assert_eq!(ok("account?x=1#top").unwrap(), "/web/account?x=1");
        assert_eq!(ok("http://shop.test:8080/a").unwrap(), "/a");
        assert_eq!(ok("http://SHOP.test:8080").unwrap(), "/");
        assert_eq!(ok("//shop.test:8080/b").unwrap(), "/b");
        for away in [
            "http://evil.test/x",
            "https://shop.test:8080/x",
            "http://shop.test:9090/x",
            "http://shop.test/x",
            "ftp://shop.test:8080/x",
            "//evil.test/x",
            "http://shop.test:8080@evil.test/x",
        ] {
            let e = ok(away).unwrap_err();
            assert!(
                e.contains("refused") && e.contains("http://shop.test:8080"),
                "{away}: {e}"
            );
        }
        let standard = client("shop.test:80", false);
        assert_eq!(
            resolve(&base, "http://shop.test/ok", &standard).unwrap(),
            "/ok"
        );
    }

    #[test]
    fn a_303_is_a_get_and_a_307_repeats_the_request() {
        let c = client("shop.test:8080", false);
        let (sent, _) = Request::post("/web/login")
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(COOKIE, "old=1")
            .header("x-keep", "yes")
            .body(())
            .unwrap()
            .into_parts();
        let body = Body::from(bytes::Bytes::from_static(b"email=a"));
        let see_other = next(
            &sent,
            body.clone(),
            StatusCode::SEE_OTHER,
            "/web/account",
            &c,
            true,
        )
        .unwrap();
        assert_eq!(see_other.method(), Method::GET);
        assert!(see_other.headers().get(CONTENT_TYPE).is_none());
        assert!(
            see_other.headers().get(COOKIE).is_none(),
            "set again from the jar"
        );
        assert_eq!(see_other.headers()["x-keep"], "yes");
        let temporary = next(
            &sent,
            body.clone(),
            StatusCode::TEMPORARY_REDIRECT,
            "/web/again",
            &c,
            true,
        )
        .unwrap();
        assert_eq!(temporary.method(), Method::POST);
        assert_eq!(
            temporary.headers()[CONTENT_TYPE],
            "application/x-www-form-urlencoded"
        );
        let own = next(&sent, body, StatusCode::FOUND, "/web/x", &c, false).unwrap();
        assert_eq!(
            own.headers()[COOKIE],
            "old=1",
            "a cookie the step wrote goes along"
        );
    }

    #[test]
    fn a_refused_address_is_shown_without_its_secrets() {
        let c = client("shop.test:8080", false);
        let base: Uri = "/".parse().unwrap();
        let e = resolve(
            &base,
            "https://u:pw@bucket.s3.test/key?X-Amz-Signature=abc#t=1",
            &c,
        )
        .unwrap_err();
        assert!(e.contains("`https://bucket.s3.test/key`"), "{e}");
        assert!(!e.contains("abc") && !e.contains("pw"), "{e}");
        assert_eq!(
            resolve(&base, "HTTP://shop.test:8080/up", &c).unwrap(),
            "/up"
        );
        assert!(resolve(&base, "http://evil.test#@shop.test:8080/", &c).is_err());
        assert!(resolve(&base, "http://evil.test\\@shop.test:8080/", &c).is_err());
    }
}
