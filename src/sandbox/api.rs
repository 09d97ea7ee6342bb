//! The routes of the payments API and their handlers: request validation and response shapes.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::middleware::from_fn_with_state;
use axum::response::IntoResponse;
use axum::routing::{MethodRouter, get, post};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::http::{self, Answered, ApiError, App, Body, Caller, Id, Params, parse_json};
use super::latency::Endpoint;
use super::records::{CustomerView, Invoice, Payment, Receipt, Status, luhn_valid};
use super::state::parse_id;

/// Default and largest page size of `list_invoices`.
const DEFAULT_LIMIT: usize = 20;
const MAX_LIMIT: usize = 100;

type Reply<T> = Result<T, ApiError>;

/// Every route, each named endpoint behind its latency layer, all behind the freeze layer.
pub(super) fn router(app: App) -> Router {
    let paced = |endpoint: Endpoint, route: MethodRouter<App>| {
        route.route_layer(from_fn_with_state((app.clone(), endpoint), http::pace))
    };
    Router::new()
        .route("/health", get(health))
        .route("/api/login", paced(Endpoint::Login, post(login)))
        .route("/api/customers", paced(Endpoint::Signup, post(signup)))
        .route(
            "/api/customers/{id}",
            paced(Endpoint::Customer, get(customer)),
        )
        .route(
            "/api/customers/{id}/cards",
            paced(Endpoint::AddCard, post(add_card)),
        )
        .route(
            "/api/invoices",
            paced(Endpoint::ListInvoices, get(list_invoices))
                .merge(paced(Endpoint::CreateInvoice, post(create_invoice))),
        )
        .route(
            "/api/invoices/search",
            paced(Endpoint::SearchInvoices, get(search_invoices)),
        )
        .route(
            "/api/invoices/{id}",
            paced(Endpoint::GetInvoice, get(get_invoice)),
        )
        .route("/api/invoices/{id}/pay", paced(Endpoint::Pay, post(pay)))
        .route("/api/receipts/{id}", paced(Endpoint::Receipt, get(receipt)))
        .route("/api/payments/{id}", paced(Endpoint::Payment, get(payment)))
        .route(
            "/web/login",
            paced(Endpoint::Login, post(super::web::login)),
        )
        .route(
            "/web/account",
            paced(Endpoint::Customer, get(super::web::account)),
        )
        .route("/web/logout", post(super::web::logout))
        .route("/web/hops/{n}", get(super::web::hops))
        .route("/web/away", get(super::web::away))
        .route(
            "/web/upload",
            post(super::web::upload).layer(axum::extract::DefaultBodyLimit::max(64 << 20)),
        )
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "not found") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method not allowed")
        })
        .layer(from_fn_with_state(app.clone(), http::freeze))
        .with_state(app)
}

async fn health() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

#[derive(Deserialize)]
struct LoginRequest {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

/// A successful login.
#[derive(Serialize)]
struct Session {
    token: String,
    customer_id: String,
}

async fn login(State(app): State<App>, Body(request): Body<LoginRequest>) -> Reply<Json<Session>> {
    let mut rng = app.pacing().rng();
    let (token, id) = app
        .store()
        .login(&request.email, &request.password, &mut rng)?;
    Ok(Json(Session {
        token,
        customer_id: format!("cus_{id}"),
    }))
}

#[derive(Deserialize)]
struct SignupRequest {
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
}

async fn signup(
    State(app): State<App>,
    Body(request): Body<SignupRequest>,
) -> Reply<impl IntoResponse> {
    let email = request.email.trim();
    let name = request.name.trim();
    for (field, value) in [
        ("email", email),
        ("name", name),
        ("password", request.password.as_str()),
    ] {
        if value.is_empty() {
            return Err(ApiError::invalid(format!("{field} is required")));
        }
    }
    if !email.contains('@') {
        return Err(ApiError::invalid("email must contain @"));
    }
    let customer = app.store().signup(email, name, &request.password)?;
    Ok((StatusCode::CREATED, Json(customer)))
}

/// Customers may only see and change themselves; anyone else's id is forbidden, not missing.
fn own(me: u64, id: &str) -> Reply<()> {
    match parse_id("cus_", id) {
        Some(n) if n == me => Ok(()),
        _ => Err(ApiError::new(StatusCode::FORBIDDEN, "forbidden")),
    }
}

async fn customer(
    State(app): State<App>,
    Caller(me): Caller,
    Id(id): Id,
) -> Reply<Json<CustomerView>> {
    own(me, &id)?;
    let customer = app.store().customer(me);
    customer
        .map(Json)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "customer not found"))
}

#[derive(Deserialize)]
struct CardRequest {
    #[serde(default)]
    number: String,
    #[serde(default)]
    exp_month: u32,
    #[serde(default)]
    exp_year: u32,
    #[serde(default)]
    cvc: String,
}

async fn add_card(
    State(app): State<App>,
    Caller(me): Caller,
    Id(id): Id,
    Body(card): Body<CardRequest>,
) -> Reply<impl IntoResponse> {
    own(me, &id)?;
    // Clients commonly send numbers grouped as printed on the card.
    let digits: String = card
        .number
        .chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .collect();
    if !(12..=19).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::invalid("card number must be 12 to 19 digits"));
    }
    if !luhn_valid(&digits) {
        return Err(ApiError::invalid("card number failed the Luhn check"));
    }
    if !(1..=12).contains(&card.exp_month) || card.exp_year < 2026 {
        return Err(ApiError::invalid(
            "card expiry must be a month 1-12 of 2026 or later",
        ));
    }
    if !(3..=4).contains(&card.cvc.len()) || !card.cvc.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::invalid("cvc must be 3 or 4 digits"));
    }
    let card = app.store().add_card(me, &digits);
    Ok((StatusCode::CREATED, Json(card)))
}

/// One page of invoices and how many there are in all.
#[derive(Serialize)]
struct InvoicePage {
    invoices: Vec<Invoice>,
    total: usize,
}

#[derive(Deserialize)]
struct ListParams {
    status: Option<Status>,
    limit: Option<usize>,
    offset: Option<usize>,
}

async fn list_invoices(
    State(app): State<App>,
    Caller(me): Caller,
    Params(params): Params<ListParams>,
) -> Json<InvoicePage> {
    let limit = params.limit.unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT);
    let offset = params.offset.unwrap_or(0);
    let (invoices, total) = app.store().list_invoices(me, params.status, offset, limit);
    Json(InvoicePage { invoices, total })
}

/// Every invoice that matched a search.
#[derive(Serialize)]
struct SearchResults {
    results: Vec<Invoice>,
    count: usize,
}

#[derive(Deserialize)]
struct SearchParams {
    #[serde(default)]
    q: String,
}

async fn search_invoices(
    State(app): State<App>,
    Caller(me): Caller,
    Params(params): Params<SearchParams>,
) -> Reply<Json<SearchResults>> {
    let needle = params.q.trim().to_lowercase();
    if needle.is_empty() {
        return Err(ApiError::invalid("q must not be empty"));
    }
    let results = app.store().search_invoices(me, &needle);
    Ok(Json(SearchResults {
        count: results.len(),
        results,
    }))
}

#[derive(Deserialize)]
struct InvoiceRequest {
    amount_cents: Option<i64>,
    currency: Option<String>,
    #[serde(default)]
    description: String,
}

async fn create_invoice(
    State(app): State<App>,
    Caller(me): Caller,
    Body(request): Body<InvoiceRequest>,
) -> Reply<impl IntoResponse> {
    let amount = request
        .amount_cents
        .ok_or_else(|| ApiError::invalid("amount_cents is required"))?;
    if amount <= 0 {
        return Err(ApiError::invalid("amount_cents must be > 0"));
    }
    let currency = request
        .currency
        .as_deref()
        .unwrap_or("EUR")
        .trim()
        .to_ascii_uppercase();
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(ApiError::invalid(
            "currency must be a 3-letter code such as EUR",
        ));
    }
    let invoice = app
        .store()
        .create_invoice(me, amount, &currency, request.description.trim());
    Ok((StatusCode::CREATED, Json(invoice)))
}

async fn get_invoice(
    State(app): State<App>,
    Caller(me): Caller,
    Id(id): Id,
) -> Reply<Json<Invoice>> {
    let invoice = app.store().invoice(me, &id);
    invoice
        .map(Json)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "invoice not found"))
}

#[derive(Deserialize)]
struct PayRequest {
    card_id: Option<String>,
}

/// Accepts a payment (202, `pending`); it settles a drawn delay after this answer leaves,
/// as `GET /api/payments/{id}` shows.
async fn pay(
    State(app): State<App>,
    Caller(me): Caller,
    Id(id): Id,
    answered: Option<Extension<Answered>>,
    body: Bytes,
) -> Reply<(StatusCode, Json<Payment>)> {
    // The body is optional: without one the default card on file pays.
    let card_id = if body.trim_ascii().is_empty() {
        None
    } else {
        parse_json::<PayRequest>(&body)?.card_id
    };
    let mut rng = app.pacing().rng();
    let answered = answered.map_or_else(tokio::time::Instant::now, |Extension(a)| a.0);
    let pacing = app.pacing();
    let payment = app.store().pay(
        me,
        &id,
        card_id.as_deref(),
        |n| answered + pacing.settlement(n),
        &mut rng,
    )?;
    Ok((StatusCode::ACCEPTED, Json(payment)))
}

/// A payment's settlement status.
async fn payment(State(app): State<App>, Caller(me): Caller, Id(id): Id) -> Reply<Json<Payment>> {
    let now = tokio::time::Instant::now();
    let payment = app.store().payment(me, &id, now);
    payment
        .map(Json)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "payment not found"))
}

async fn receipt(State(app): State<App>, Caller(me): Caller, Id(id): Id) -> Reply<Json<Receipt>> {
    let receipt = app.store().receipt(me, &id);
    receipt
        .map(Json)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "receipt not found"))
}
