//! HTTP steps: connections, request building, and judging responses.

pub mod body;
pub mod client;
pub mod request;
pub mod response;
pub mod tls;

use std::time::Duration;

pub use client::{HttpClient, Session, Transport};

/// Why a step failed: its outcome and a message for people.
pub type Failure = (Outcome, String);

use crate::model::Outcome;
use crate::runner::vars::IterationVars;
use crate::scenario::{HttpRequestPlan, StepPlan};

/// Performs one HTTP step; returns its outcome and, on failure, why.
pub async fn perform(
    step: &StepPlan,
    plan: &HttpRequestPlan,
    client: &HttpClient,
    session: &mut Session,
    vars: &mut IterationVars<'_>,
) -> Result<(), Failure> {
    let req = request::build(plan, client, vars).map_err(|e| (Outcome::RequestError, e))?;
    let needs_body = step.checks.needs_body() || step.captures_need_body();
    let exchange = async {
        let resp = client.send(session, req).await.map_err(|t| match t {
            Transport::Connect(m) => (Outcome::ConnectError, m),
            Transport::Reset(m) => (Outcome::Reset, m),
        })?;
        let (parts, body) = resp.into_parts();
        // The body is always read to the end so the connection can be reused; only what a
        // check, a capture or an error message needs is kept.
        let keep = if needs_body {
            body::Keep::UpTo(step.max_body)
        } else {
            body::Keep::Excerpt
        };
        let body = body::read(body, keep, &client.budget)
            .await
            .map_err(|m| (Outcome::Reset, m))?;
        Ok::<_, Failure>((parts, body))
    };
    let (parts, body) = match tokio::time::timeout(step.timeout, exchange).await {
        Ok(result) => result?,
        Err(_) => {
            return Err((
                Outcome::Timeout,
                format!("no complete response within {}", fmt_timeout(step.timeout)),
            ));
        }
    };
    response::judge(step, &parts, &body, vars)
}

fn fmt_timeout(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}
