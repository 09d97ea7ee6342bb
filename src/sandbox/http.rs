//! HTTP plumbing the handlers share: app state, JSON errors, extractors, latency and freeze layers.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::config::SandboxConfig;
use super::latency::{Draw, Endpoint, Pacing};
use super::seed;
use super::state::{Refusal, Store};

/// What every handler can reach: the data and the latency model.
#[derive(Clone, Debug)]
pub(super) struct App(Arc<Shared>);

#[derive(Debug)]
struct Shared {
    store: Mutex<Store>,
    pacing: Pacing,
}

impl App {
    /// Seeds the data and starts the stall clock.
    pub(super) fn new(config: &SandboxConfig) -> Self {
        App(Arc::new(Shared {
            store: Mutex::new(seed::seeded_store(config.seed)),
            pacing: Pacing::new(config),
        }))
    }

    /// Locks the data; hold the guard for one store call, never across an await.
    pub(super) fn store(&self) -> MutexGuard<'_, Store> {
        // Store calls leave the data consistent before any point that could panic,
        // so a poisoned lock is still safe to use and the sandbox keeps serving.
        self.0.store.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The latency model and per-request randomness.
    pub(super) fn pacing(&self) -> &Pacing {
        &self.0.pacing
    }
}

/// An error answer: a status and `{"error": message}`.
#[derive(Debug)]
pub(super) struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    /// An error with this status and message.
    pub(super) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    /// 422: the request is well-formed HTTP but its content is not acceptable.
    pub(super) fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, message)
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: &self.message,
        };
        (self.status, Json(body)).into_response()
    }
}

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::InvalidCredentials => {
                Self::new(StatusCode::UNAUTHORIZED, "invalid credentials")
            }
            Refusal::EmailTaken => Self::new(StatusCode::CONFLICT, "email already registered"),
            Refusal::UnknownInvoice => Self::new(StatusCode::NOT_FOUND, "invoice not found"),
            Refusal::AlreadyPaid => Self::new(StatusCode::CONFLICT, "invoice already paid"),
            Refusal::UnknownCard => Self::invalid("unknown card"),
        }
    }
}

/// The authenticated customer, from `Authorization: Bearer <token>`.
pub(super) struct Caller(pub u64);

impl FromRequestParts<App> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim());
        let customer = token.and_then(|token| app.store().authenticate(token));
        customer
            .map(Caller)
            .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized"))
    }
}

/// The `{id}` path segment, with a JSON error instead of axum's plain-text one.
pub(super) struct Id(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(id)) => Ok(Id(id)),
            Err(rejection) => Err(ApiError::new(StatusCode::NOT_FOUND, rejection.body_text())),
        }
    }
}

/// Query parameters, with a JSON 422 instead of axum's plain-text 400.
pub(super) struct Params<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(params)) => Ok(Params(params)),
            Err(rejection) => Err(ApiError::invalid(rejection.body_text())),
        }
    }
}

/// A JSON body read regardless of `Content-Type`, as lenient clients expect; 422 when malformed.
pub(super) struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| ApiError::new(rejection.status(), rejection.body_text()))?;
        parse_json(&bytes).map(Body)
    }
}

/// Parses a JSON request body into `T`, naming what was wrong.
pub(super) fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| ApiError::invalid(format!("invalid JSON body: {e}")))
}

/// Outermost layer: a frozen process neither takes requests in nor lets responses out.
pub(super) async fn freeze(State(app): State<App>, request: Request, next: Next) -> Response {
    app.pacing().wait_out_freeze().await;
    let response = next.run(request).await;
    app.pacing().wait_out_freeze().await;
    response
}

/// When the paced answer leaves: a handler whose effect starts with the answer (a payment's
/// settlement clock) reads it from the request's extensions.
#[derive(Clone, Copy, Debug)]
pub(super) struct Answered(pub tokio::time::Instant);

/// Per-endpoint layer: the whole answer takes the drawn latency; an injected failure is just as slow.
pub(super) async fn pace(
    State((app, endpoint)): State<(App, Endpoint)>,
    mut request: Request,
    next: Next,
) -> Response {
    let Draw { delay, fail } = app.pacing().draw(endpoint);
    let deadline = tokio::time::Instant::now() + delay;
    request.extensions_mut().insert(Answered(deadline));
    let response = if fail {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "injected failure").into_response()
    } else {
        next.run(request).await
    };
    // Handler time counts towards the latency, so a slow store does not add on top of it.
    if !delay.is_zero() {
        tokio::time::sleep_until(deadline).await;
    }
    response
}
