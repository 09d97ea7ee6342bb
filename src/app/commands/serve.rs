//! `rehearse serve`: the read-only dashboard over a store, on 127.0.0.1 unless told. Only GET
//! (and HEAD) are answered; a request naming another host is refused, so a web page the
//! user visits cannot reach the dashboard through a rebound DNS name.

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
    /// Hosts a request may name, when bound to a loopback address.
    hosts: Option<Vec<String>>,
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
    let hosts = args.bind.is_loopback().then(|| {
        let port = bound.port();
        vec![
            format!("127.0.0.1:{port}"),
            format!("localhost:{port}"),
            format!("[::1]:{port}"),
        ]
    });
    let dashboard = Dashboard::new(store.clone(), &url, &args.branch);
    // The first page views would pay for the verdicts and the change-point calibration;
    // pay for them now, in the background.
    let warm = dashboard.clone();
    tokio::spawn(async move { warm.warm().await });
    let app = App { dashboard, hosts };
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
    if let Some(hosts) = &app.hosts {
        let host = request
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        if !hosts.iter().any(|h| h.eq_ignore_ascii_case(host)) {
            return plain(
                StatusCode::MISDIRECTED_REQUEST,
                "this dashboard answers to 127.0.0.1 and localhost only\n",
            );
        }
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
                PageError::BadRequest(_) => StatusCode::BAD_REQUEST,
                PageError::Failed(_) => StatusCode::SERVICE_UNAVAILABLE,
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
