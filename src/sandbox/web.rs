//! The browser side of the sandbox: a form login that sets a session cookie and redirects
//! (303) to the account page, which needs the cookie; a logout that expires it; a chain of
//! redirects; a redirect off the host, which a load tool must refuse to follow; and an upload
//! form that says what it received.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::header::{CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::http::{ApiError, App};

/// The session cookie's name.
const SESSION: &str = "sid";
/// Longest redirect chain `/web/hops/{n}` makes.
const MAX_HOPS: u32 = 50;

/// `POST /web/login` with a form body: 303 to the account page with a session cookie.
pub(super) async fn login(State(app): State<App>, body: Bytes) -> Result<Response, ApiError> {
    let form = crate::scenario::template::decode_form(&String::from_utf8_lossy(&body));
    let field = |k: &str| {
        form.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    };
    let mut rng = app.pacing().rng();
    let (token, _) = app
        .store()
        .login(field("email"), field("password"), &mut rng)?;
    let mut headers = HeaderMap::new();
    headers.insert(LOCATION, HeaderValue::from_static("/web/account"));
    let cookie = format!("{SESSION}={token}; Path=/web; HttpOnly; SameSite=Lax");
    headers.insert(
        SET_COOKIE,
        HeaderValue::from_str(&cookie).expect("a token is header-safe"),
    );
    Ok((StatusCode::SEE_OTHER, headers).into_response())
}

/// `GET /web/account`: the customer the session cookie names, or 401.
pub(super) async fn account(
    State(app): State<App>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let customer = session(&headers).and_then(|token| app.store().authenticate(&token));
    match customer {
        Some(id) => Ok(Json(json!({ "customer_id": format!("cus_{id}") })).into_response()),
        None => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "no session: log in first",
        )),
    }
}

/// `POST /web/logout`: the session cookie expires.
pub(super) async fn logout() -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(
        SET_COOKIE,
        HeaderValue::from_static("sid=; Path=/web; Max-Age=0"),
    );
    (StatusCode::NO_CONTENT, headers).into_response()
}

/// `GET /web/hops/{n}`: a 302 to `/web/hops/{n-1}`, until 0 answers 200.
pub(super) async fn hops(Path(n): Path<u32>) -> Result<Response, ApiError> {
    if n > MAX_HOPS {
        return Err(ApiError::invalid(format!("at most {MAX_HOPS} hops")));
    }
    if n == 0 {
        return Ok(Json(json!({ "arrived": true })).into_response());
    }
    let mut headers = HeaderMap::new();
    let next = format!("/web/hops/{}", n - 1);
    headers.insert(LOCATION, HeaderValue::from_str(&next).expect("a path"));
    Ok((StatusCode::FOUND, headers).into_response())
}

/// `GET /web/away`: a redirect to a host that is not the sandbox.
pub(super) async fn away() -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(
        LOCATION,
        HeaderValue::from_static("http://elsewhere.invalid/phish"),
    );
    (StatusCode::FOUND, headers).into_response()
}

/// `POST /web/upload` with a `multipart/form-data` body: its text fields, and each file's
/// name, type, size and SHA-256, so a test can tell the bytes arrived whole.
pub(super) async fn upload(headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
    use sha2::Digest as _;
    let boundary = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.split(';')
                .find_map(|p| p.trim().strip_prefix("boundary="))
        })
        .map(|b| b.trim_matches('"').to_string())
        .filter(|b| !b.is_empty() && b.len() <= 70)
        .ok_or_else(|| {
            ApiError::invalid("expected multipart/form-data with a boundary of 1 to 70 characters")
        })?;
    let delimiter = format!("--{boundary}");
    let mut fields = serde_json::Map::new();
    let mut files = Vec::new();
    let mut rest: &[u8] = &body;
    // Each part sits between two delimiters: headers, a blank line, the content, CRLF.
    while let Some(at) = find(rest, delimiter.as_bytes()) {
        rest = &rest[at + delimiter.len()..];
        if rest.starts_with(b"--") {
            break;
        }
        let rest_of = rest.strip_prefix(b"\r\n").unwrap_or(rest);
        let head_end = find(rest_of, b"\r\n\r\n")
            .ok_or_else(|| ApiError::invalid("a part has no blank line"))?;
        let head = String::from_utf8_lossy(&rest_of[..head_end]).to_string();
        let content_start = head_end + 4;
        let next = find(&rest_of[content_start..], delimiter.as_bytes())
            .ok_or_else(|| ApiError::invalid("a part is not closed"))?;
        let content = &rest_of[content_start..content_start + next];
        let content = content.strip_suffix(b"\r\n").unwrap_or(content);
        let disposition = head
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("content-disposition:"))
            .unwrap_or("");
        let attr = |key: &str| {
            disposition.split(';').find_map(|p| {
                p.trim()
                    .strip_prefix(&format!("{key}=\""))
                    .map(|v| v.trim_end_matches('"').to_string())
            })
        };
        let name = attr("name").ok_or_else(|| ApiError::invalid("a part has no name"))?;
        match attr("filename") {
            Some(filename) => {
                let media = head
                    .lines()
                    .find_map(|l| {
                        l.split_once(':')
                            .filter(|(k, _)| k.trim().eq_ignore_ascii_case("content-type"))
                            .map(|(_, v)| v.trim().to_string())
                    })
                    .unwrap_or_default();
                files.push(json!({
                    "name": name,
                    "filename": filename,
                    "type": media,
                    "size": content.len(),
                    "sha256": format!("{:x}", sha2::Sha256::digest(content)),
                }));
            }
            None => {
                fields.insert(name, json!(String::from_utf8_lossy(content)));
            }
        }
        rest = &rest_of[content_start + next..];
    }
    Ok(Json(json!({ "fields": fields, "files": files })).into_response())
}

/// Where `needle` first occurs in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The session token from the request's cookies.
fn session(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION)
        .map(|(_, value)| value.to_string())
}
