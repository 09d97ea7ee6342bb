//! HTTP steps: connections, request building, and judging responses.

pub mod body;
pub mod client;
pub mod cookies;
pub mod payload;
pub mod redirect;
pub mod request;
pub mod response;
pub mod tls;

use std::time::Duration;

use ::http::Request;
use ::http::header::{COOKIE, SET_COOKIE};

pub use client::{HttpClient, Session, Transport};

/// Why a step failed: its outcome and a message for people.
pub type Failure = (Outcome, String);

use crate::model::Outcome;
use crate::runner::vars::IterationVars;
use crate::scenario::{HttpRequestPlan, StepPlan};

/// Performs one HTTP step; returns its outcome and, on failure, why. Redirects are followed
/// up to the step's limit, every hop inside the step's time and timeout; the cookies each
/// response sets go into the customer's jar and every request carries the jar's. A polling
/// step (`until`) repeats the request every interval until its condition holds; `polls`
/// counts the requests it sent.
pub async fn perform(
    step: &StepPlan,
    plan: &HttpRequestPlan,
    client: &HttpClient,
    session: &mut Session,
    vars: &mut IterationVars<'_>,
    polls: &mut u32,
) -> Result<(), Failure> {
    let Some(until) = &step.until else {
        let (parts, body, hops) = exchange(step, plan, client, session, vars).await?;
        return response::judge(step, &parts, &body, vars).map_err(|f| after_hops(f, &hops));
    };
    let first = tokio::time::Instant::now();
    let deadline = first + until.timeout;
    let mut pending = String::new();
    let polling = async {
        let mut due = first;
        loop {
            *polls += 1;
            let (parts, body, hops) = exchange(step, plan, client, session, vars).await?;
            match response::judge_poll(step, &parts, &body, vars)
                .map_err(|f| after_hops(f, &hops))?
            {
                response::Poll::Met => return Ok(()),
                response::Poll::Pending(why) => pending = why,
            }
            // Start to start, never a burst to catch up: a slow answer delays the next poll,
            // it does not make the following ones come faster.
            due = (due + until.interval).max(tokio::time::Instant::now());
            tokio::time::sleep_until(due).await;
        }
    };
    match tokio::time::timeout_at(deadline, polling).await {
        Ok(result) => result,
        Err(_) => Err((
            Outcome::PollTimeout,
            format!(
                "`until` not met within {} ({} {}): {}",
                fmt_timeout(until.timeout),
                polls,
                if *polls == 1 { "poll" } else { "polls" },
                if pending.is_empty() {
                    "the last poll had no answer yet"
                } else {
                    &pending
                }
            ),
        )),
    }
}

/// A failure's message with the redirects that led to it.
fn after_hops((outcome, message): Failure, hops: &[String]) -> Failure {
    if hops.is_empty() {
        (outcome, message)
    } else {
        (outcome, format!("{message} (after {})", hops.join(" → ")))
    }
}

/// One request and its redirects within the step's timeout: the final response's head and
/// body, and the hops that led to it.
async fn exchange(
    step: &StepPlan,
    plan: &HttpRequestPlan,
    client: &HttpClient,
    session: &mut Session,
    vars: &mut IterationVars<'_>,
) -> Result<(http::response::Parts, body::ReadBody, Vec<String>), Failure> {
    // A cookie capture reads what this exchange's responses set (a poll's, not earlier polls').
    vars.step_cookies.clear();
    let req = request::build(plan, client, vars).map_err(|e| (Outcome::RequestError, e))?;
    let needs_body = step.needs_body();
    let mut hops: Vec<String> = Vec::new();
    let exchange = async {
        let mut req = req;
        loop {
            let jar_cookie = client.cookies && add_cookies(&mut req, client, &vars.cookies);
            // What a redirect resends (method, headers, body) is kept only when one may come;
            // the body is `Bytes` (shared, not copied) and the address a cheap clone.
            let (head, sent_body) = req.into_parts();
            let uri = head.uri.clone();
            let path = uri.path();
            // What a redirect resends (method, headers, body) is kept only when one may come;
            // the body's chunks are shared, so keeping it copies nothing.
            let kept = (step.max_redirects > 0).then(|| head.clone());
            let again = Request::from_parts(head, sent_body.clone());
            let resp = client.send(session, again).await.map_err(|t| match t {
                Transport::Connect(m) => (Outcome::ConnectError, m),
                Transport::Reset(m) => (Outcome::Reset, m),
            })?;
            let (parts, body) = resp.into_parts();
            if client.cookies {
                let now = std::time::SystemTime::now();
                for value in parts.headers.get_all(SET_COOKIE) {
                    if let Ok(text) = value.to_str()
                        && let Some(name) =
                            vars.cookies.store(text, client.cookie_host(), path, now)
                    {
                        vars.step_cookies.push(name);
                    }
                }
            }
            let location = redirect::location(&parts);
            if let (Some(location), Some(head)) = (location, kept) {
                // Read to the end so the connection can be reused for the next hop.
                body::read(body, body::Keep::Excerpt, &client.budget)
                    .await
                    .map_err(|m| (Outcome::Reset, m))?;
                let status = parts.status.as_u16();
                hops.push(format!("{status} {path}"));
                if hops.len() > step.max_redirects as usize {
                    return Err((
                        Outcome::Http3xx,
                        format!(
                            "status {status}: more than {} redirects ({})",
                            step.max_redirects,
                            hops.join(" → ")
                        ),
                    ));
                }
                req = redirect::next(
                    &head,
                    sent_body,
                    parts.status,
                    &location,
                    client,
                    jar_cookie,
                )
                .map_err(|why| {
                    (
                        Outcome::Http3xx,
                        format!("status {status}: {why} ({})", hops.join(" → ")),
                    )
                })?;
                continue;
            }
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
            return Ok::<_, Failure>((parts, body));
        }
    };
    match tokio::time::timeout(step.timeout, exchange).await {
        Ok(result) => result.map(|(parts, body)| (parts, body, hops)),
        Err(_) => Err((
            Outcome::Timeout,
            format!("no complete response within {}", fmt_timeout(step.timeout)),
        )),
    }
}

/// Puts the jar's cookies for this request in its `Cookie` header, unless the step wrote
/// one itself (a step's header wins, as everywhere); returns whether it did.
fn add_cookies(req: &mut Request<client::Body>, client: &HttpClient, jar: &cookies::Jar) -> bool {
    if req.headers().contains_key(COOKIE) {
        return false;
    }
    let now = std::time::SystemTime::now();
    if let Some(value) = jar.header(client.cookie_host(), req.uri().path(), client.is_tls(), now)
        && let Ok(v) = http::HeaderValue::from_str(&value)
    {
        req.headers_mut().insert(COOKIE, v);
        return true;
    }
    false
}

fn fmt_timeout(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}
