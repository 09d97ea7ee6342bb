//! From recorded entries to the calls worth replaying: static assets, CORS preflights,
//! cached or partial answers and other origins left out, each counted with its reason.

use std::collections::BTreeMap;

use super::model::{Entry, Pair};
use super::{ImportError, Options};

/// A request to replay, and what its response held.
#[derive(Debug, Clone)]
pub struct Call {
    /// `GET`, `POST`, …
    pub method: String,
    /// `scheme://authority`.
    pub origin: String,
    /// The path, without the query.
    pub path: String,
    /// Query parameters in order, decoded.
    pub query: Vec<(String, String)>,
    /// Request headers worth sending (lower-case names).
    pub headers: Vec<(String, String)>,
    /// The request body.
    pub body: Body,
    /// The response's status.
    pub status: u16,
    /// Response headers (lower-case names).
    pub response_headers: Vec<(String, String)>,
    /// The response body, parsed, when it is JSON.
    pub response_json: Option<serde_json::Value>,
}

/// A request body as recorded.
#[derive(Debug, Clone)]
pub enum Body {
    /// None.
    None,
    /// JSON.
    Json(serde_json::Value),
    /// `application/x-www-form-urlencoded` fields.
    Form(Vec<(String, String)>),
    /// Any other text, with its media type.
    Text(String, String),
    /// Multipart: its files are not in a HAR, so it cannot be replayed as recorded.
    Multipart,
}

/// Headers a replay must not copy: the connection's own, the browser's own, and caching
/// (a replay that sent `If-None-Match` would measure a 304, not the work).
const DROPPED_HEADERS: &[&str] = &[
    "host",
    "connection",
    "content-length",
    "transfer-encoding",
    "accept-encoding",
    "keep-alive",
    "upgrade",
    "te",
    "trailer",
    "proxy-connection",
    "user-agent",
    "referer",
    "origin",
    "priority",
    "cache-control",
    "pragma",
    "if-none-match",
    "if-modified-since",
    "if-match",
    "if-unmodified-since",
    "if-range",
    "range",
    "upgrade-insecure-requests",
    "dnt",
    "accept-language",
];

/// Response media types of static assets: what a page loads, not what a customer does.
fn is_static(mime: &str, path: &str) -> bool {
    let mime = mime
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let by_type = mime.starts_with("image/")
        || mime.starts_with("font/")
        || mime.starts_with("audio/")
        || mime.starts_with("video/")
        || mime == "text/css"
        || mime.contains("javascript")
        || mime.contains("ecmascript")
        || mime == "application/wasm"
        || mime == "application/manifest+json"
        || mime.starts_with("application/font")
        || mime.starts_with("application/x-font");
    if by_type {
        return true;
    }
    // The file name only decides when the recorder kept no media type.
    mime.is_empty() && {
        let ext = path.rsplit('/').next().unwrap_or("");
        let ext = ext.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
        matches!(
            ext.as_deref(),
            Some(
                "png"
                    | "jpg"
                    | "jpeg"
                    | "gif"
                    | "svg"
                    | "ico"
                    | "webp"
                    | "avif"
                    | "css"
                    | "js"
                    | "mjs"
                    | "map"
                    | "woff"
                    | "woff2"
                    | "ttf"
                    | "otf"
                    | "eot"
                    | "mp4"
                    | "webm"
            )
        )
    }
}

/// The calls to replay, in order, and how many entries were left out for each reason.
pub fn keep(
    entries: Vec<Entry>,
    options: &Options,
    warnings: &mut Vec<String>,
) -> Result<(Vec<Call>, BTreeMap<String, usize>), ImportError> {
    let mut dropped: BTreeMap<String, usize> = BTreeMap::new();
    let mut drop = |why: &str| *dropped.entry(why.to_string()).or_default() += 1;
    let mut calls = Vec::new();
    for entry in entries {
        let req = &entry.request;
        let Ok(uri) = req.url.parse::<http::Uri>() else {
            drop("not a URL");
            continue;
        };
        let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
            drop("not a URL");
            continue;
        };
        if !matches!(scheme, "http" | "https") {
            drop("not HTTP (data:, blob:, extensions, websockets)");
            continue;
        }
        let host = authority.host().to_ascii_lowercase();
        let hostport = authority.as_str().to_ascii_lowercase();
        let named = |list: &[String]| {
            list.iter()
                .any(|h| h.eq_ignore_ascii_case(&host) || h.eq_ignore_ascii_case(&hostport))
        };
        if (!options.include_hosts.is_empty() && !named(&options.include_hosts))
            || named(&options.exclude_hosts)
        {
            drop("another host (--include-host / --exclude-host)");
            continue;
        }
        let method = req.method.to_ascii_uppercase();
        if method == "OPTIONS" {
            drop("CORS preflight (OPTIONS), which browsers send on their own");
            continue;
        }
        let status = entry.response.status;
        let path = uri.path().to_string();
        if status == 0 {
            drop("failed or blocked in the browser (status 0)");
            continue;
        }
        if is_static(&entry.response.content.mime_type, &path) {
            drop("static asset (by its media type)");
            continue;
        }
        if matches!(status, 206 | 304) {
            // The browser answered from its cache: the recording has no body to learn from,
            // and a replay would not hit the cache the same way.
            warnings.push(format!(
                "{method} {path}: answered {status} from the browser's cache or in part, so its body is not in the recording; left out"
            ));
            drop("cached or partial answer (304, 206)");
            continue;
        }
        let query = uri
            .query()
            .map(crate::scenario::template::decode_form)
            .unwrap_or_default();
        let headers = request_headers(&req.headers, &method, &path, warnings);
        let body = body(req, &method, &path, warnings);
        let response_json = response_json(&entry);
        calls.push(Call {
            method,
            origin: format!("{scheme}://{}", authority.as_str().to_ascii_lowercase()),
            path,
            query,
            headers,
            body,
            status,
            response_headers: entry
                .response
                .headers
                .iter()
                .map(|p| (p.name.to_ascii_lowercase(), p.value.clone()))
                .collect(),
            response_json,
        });
    }
    if calls.is_empty() {
        let why: Vec<String> = dropped.iter().map(|(k, n)| format!("{n} {k}")).collect();
        return Err(ImportError::Empty(if why.is_empty() {
            "the recording has no entries".into()
        } else {
            format!("left out: {}", why.join(", "))
        }));
    }
    let mut origins: BTreeMap<&str, usize> = BTreeMap::new();
    for c in &calls {
        *origins.entry(c.origin.as_str()).or_default() += 1;
    }
    if origins.len() > 1 {
        let mut by: Vec<(&str, usize)> = origins.into_iter().collect();
        by.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        return Err(ImportError::Origins {
            count: by.len(),
            list: by
                .iter()
                .map(|(o, n)| format!("{o}: {n}"))
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    Ok((calls, dropped))
}

/// The headers a replay sends: HTTP/2 pseudo-headers and the browser's own left out, and any
/// that is not valid HTTP (a recorder's garbage) left out with a warning.
fn request_headers(
    headers: &[Pair],
    method: &str,
    path: &str,
    warnings: &mut Vec<String>,
) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for h in headers {
        let name = h.name.trim().to_ascii_lowercase();
        if name.is_empty()
            || name.starts_with(':')
            || name.starts_with("sec-")
            || DROPPED_HEADERS.contains(&name.as_str())
            || out.iter().any(|(n, _)| *n == name)
        {
            continue;
        }
        let valid = http::HeaderName::from_bytes(name.as_bytes()).is_ok()
            && http::HeaderValue::from_str(&h.value).is_ok();
        if !valid {
            let shown: String = name.escape_debug().take(40).collect();
            warnings.push(format!(
                "{method} {path}: header `{shown}` is not valid HTTP; left out"
            ));
            continue;
        }
        out.push((name, h.value.clone()));
    }
    out
}

fn body(req: &super::model::Request, method: &str, path: &str, warnings: &mut Vec<String>) -> Body {
    let Some(post) = &req.post_data else {
        return Body::None;
    };
    let mime = post.mime_type.to_ascii_lowercase();
    let text = post.text.clone().unwrap_or_default();
    if mime.starts_with("multipart/") {
        warnings.push(format!(
            "{method} {path}: a multipart upload (its files are not in the recording); imported without a body: add `multipart = {{ … }}` with the files"
        ));
        return Body::Multipart;
    }
    if mime.starts_with("application/x-www-form-urlencoded") {
        if !post.params.is_empty() {
            return Body::Form(
                post.params
                    .iter()
                    .map(|p| {
                        // Recorders differ: some keep fields encoded, some decoded.
                        let decode = |s: &str| {
                            crate::scenario::template::decode_form(&format!("x={s}"))
                                .pop()
                                .map(|(_, v)| v)
                                .unwrap_or_default()
                        };
                        (decode(&p.name), decode(&p.value))
                    })
                    .collect(),
            );
        }
        return Body::Form(crate::scenario::template::decode_form(&text));
    }
    if text.is_empty() {
        return Body::None;
    }
    if mime.contains("json")
        && let Ok(v) = serde_json::from_str::<serde_json::Value>(&text)
    {
        return Body::Json(v);
    }
    Body::Text(post.mime_type.clone(), text)
}

fn response_json(entry: &Entry) -> Option<serde_json::Value> {
    let content = &entry.response.content;
    let text = content.text.as_deref()?;
    let decoded;
    let text = if content.encoding.as_deref() == Some("base64") {
        use base64::Engine as _;
        decoded = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .ok()?;
        std::str::from_utf8(&decoded).ok()?
    } else {
        text
    };
    serde_json::from_str(text).ok()
}
