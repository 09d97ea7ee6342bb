//! `rehearse serve`: the read-only dashboard over a store, on 127.0.0.1 unless told. Only GET
//! (and HEAD) are answered. A request must name the dashboard by an IP address, `localhost`
//! or a name given with `--allow-host`, so a web page cannot reach it through a DNS name it
//! rebinds to this machine; and a request a browser marks as sent by another site is refused,
//! so a page the user visits cannot make the dashboard work for it.

use std::net::{IpAddr, SocketAddr};

use anyhow::{Context as _, anyhow};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::Response;

use crate::app::args::ServeArgs;
use crate::app::console;
use crate::app::dashboard::{Dashboard, Page, PageError};
use crate::app::error::{AppError, AppResult, Classify as _, Outcome};
use crate::report::dashboard::CSP;
use crate::store::{Access, Store};

#[derive(Clone)]
struct App {
    dashboard: Dashboard,
    /// Names (besides IP addresses and `localhost`) a request may call the dashboard by.
    names: Vec<String>,
}

/// Runs the command.
pub async fn serve(args: ServeArgs) -> AppResult {
    let url = args.store.url();
    let store = Store::open(&url, Access::Read).await.invalid()?;
    let addr = SocketAddr::new(args.bind, args.port);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))
        .invalid()?;
    let bound = listener.local_addr().invalid()?;
    if !args.bind.is_loopback() {
        console::warn(&format!(
            "serving on {} makes every stored run readable to anyone who can reach this machine",
            args.bind
        ));
    }
    let dashboard = Dashboard::new(store.clone(), &url, &args.branch);
    // The first page views would pay for the verdicts and the change-point calibration;
    // pay for them now, in the background.
    let warm = dashboard.clone();
    tokio::spawn(async move { warm.warm().await });
    let app = App {
        dashboard,
        names: args
            .allow_host
            .iter()
            .map(|h| h.to_ascii_lowercase())
            .collect(),
    };
    let router = axum::Router::new().fallback(handle).with_state(app);
    let shown = match bound.ip() {
        IpAddr::V6(ip) => format!("http://[{ip}]:{}/", bound.port()),
        IpAddr::V4(ip) => format!("http://{ip}:{}/", bound.port()),
    };
    // The first line is the URL alone, so scripts can read it.
    console::out(&format!("{shown}\n"));
    console::note(&format!(
        "rehearse serve: the dashboard of {} on {shown} (read-only; Ctrl-C to stop)",
        crate::store::redact(&url)
    ));
    axum::serve(listener, router)
        .with_graceful_shutdown(crate::app::signals::wait_for_stop())
        .await
        .map_err(|e| AppError::run_failed(anyhow!(e).context("the dashboard stopped")))?;
    store.close().await;
    Ok(Outcome::Passed)
}

async fn handle(State(app): State<App>, request: Request) -> Response {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        let mut r = plain(
            StatusCode::METHOD_NOT_ALLOWED,
            "the dashboard is read-only: GET only\n",
        );
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return r;
    }
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    if !allowed_host(host, &app.names) {
        return plain(
            StatusCode::MISDIRECTED_REQUEST,
            "this dashboard answers to an IP address, localhost, or a name given with --allow-host\n",
        );
    }
    // Browsers say who sent a request: a page of another site (an image, a form) is refused.
    let site = request
        .headers()
        .get("sec-fetch-site")
        .and_then(|h| h.to_str().ok());
    if site.is_some_and(|s| s != "same-origin" && s != "none") {
        return plain(
            StatusCode::FORBIDDEN,
            "this dashboard answers to its own pages and to addresses typed in, not to other sites\n",
        );
    }
    let uri = request.uri();
    if uri.path() == "/favicon.ico" {
        return plain(StatusCode::NO_CONTENT, "");
    }
    let page = Page::parse(uri.path(), uri.query().unwrap_or(""));
    let result = match page {
        Ok(p) => app.dashboard.render(&p).await,
        Err(e) => Err(e),
    };
    let (status, body) = match result {
        Ok(html) => (StatusCode::OK, html),
        Err(e) => (
            match e {
                PageError::NotFound(_) => StatusCode::NOT_FOUND,
                PageError::BadRequest(_) | PageError::Refused { .. } => StatusCode::BAD_REQUEST,
                PageError::Failed(_) => StatusCode::SERVICE_UNAVAILABLE,
                PageError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            },
            app.dashboard.error_page(&e),
        ),
    };
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    secure(h);
    r
}

/// Whether a `Host` header names the dashboard in a way DNS cannot rebind: an IP address,
/// `localhost`, or a name the user allowed.
fn allowed_host(host: &str, names: &[String]) -> bool {
    let name = match host.strip_prefix('[') {
        // [v6]:port
        Some(rest) => {
            return rest
                .split(']')
                .next()
                .is_some_and(|ip| ip.parse::<std::net::Ipv6Addr>().is_ok());
        }
        None => host.rsplit_once(':').map_or(host, |(n, _)| n),
    };
    let name = name.to_ascii_lowercase();
    name.parse::<std::net::Ipv4Addr>().is_ok() || name == "localhost" || names.contains(&name)
}

fn plain(status: StatusCode, text: &'static str) -> Response {
    let mut r = Response::new(Body::from(text));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    secure(r.headers_mut());
    r
}

/// Headers every answer carries.
fn secure(h: &mut axum::http::HeaderMap) {
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

#[cfg(test)]
mod tests {
    use super::allowed_host;

    #[test]
    fn only_names_dns_cannot_rebind_are_answered() {
        let names = vec!["perf.internal".to_string()];
        for ok in [
            "127.0.0.1:8077",
            "127.0.0.2:9000",
            "10.1.2.3",
            "localhost",
            "LOCALHOST:8077",
            "[::1]:8077",
            "perf.internal:8077",
        ] {
            assert!(allowed_host(ok, &names), "{ok}");
        }
        for bad in [
            "evil.example",
            "evil.example:8077",
            "",
            "[nope]:1",
            "127.0.0.1.evil.example",
        ] {
            assert!(!allowed_host(bad, &names), "{bad}");
        }
    }
}
