//! HTTP steps: connections, request building, and judging responses.

pub mod client;
pub mod request;
pub mod response;
pub mod tls;

use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;

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
    let needs_body = step.checks.needs_body() || !step.captures.is_empty();
    let exchange = async {
        let resp = client.send(session, req).await.map_err(|t| match t {
            Transport::Connect(m) => (Outcome::ConnectError, m),
            Transport::Reset(m) => (Outcome::Reset, m),
        })?;
        let (parts, mut body) = resp.into_parts();
        // The body is always read to the end so the connection can be reused; it is
        // only kept when a check, a capture or an error message needs it.
        let keep = needs_body
            || !step
                .checks
                .status
                .iter()
                .any(|r| r.contains(&parts.status.as_u16()));
        let bytes = if keep {
            body.collect()
                .await
                .map_err(|e| (Outcome::Reset, format!("reading the response body: {e}")))?
                .to_bytes()
        } else {
            while let Some(frame) = body.frame().await {
                frame.map_err(|e| (Outcome::Reset, format!("reading the response body: {e}")))?;
            }
            Bytes::new()
        };
        Ok::<_, Failure>((parts, bytes))
    };
    let (parts, bytes) = match tokio::time::timeout(step.timeout, exchange).await {
        Ok(result) => result?,
        Err(_) => {
            return Err((
                Outcome::Timeout,
                format!("no complete response within {}", fmt_timeout(step.timeout)),
            ));
        }
    };
    response::judge(step, &parts, &bytes, vars)
}

fn fmt_timeout(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}
