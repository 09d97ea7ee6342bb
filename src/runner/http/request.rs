//! Builds an HTTP request from a step's plan and the iteration's variables.

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HOST};
use http::{HeaderValue, Request};
use http_body_util::Full;

use super::client::{Body, HttpClient};
use crate::runner::vars::IterationVars;
use crate::scenario::{BodyPlan, HttpRequestPlan};

/// Renders a request; an error names what could not be built.
pub fn build(
    plan: &HttpRequestPlan,
    client: &HttpClient,
    vars: &mut IterationVars<'_>,
) -> Result<Request<Body>, String> {
    let mut target = String::with_capacity(client.base_path.len() + 64);
    target.push_str(&client.base_path);
    vars.render_into(&plan.path, &mut target);
    let mut sep = if target.contains('?') { '&' } else { '?' };
    for (name, value) in &plan.query {
        target.push(sep);
        sep = '&';
        target.push_str(name);
        target.push('=');
        vars.render_into(value, &mut target);
    }
    let uri: http::Uri = target
        .parse()
        .map_err(|e| format!("invalid request path `{target}`: {e}"))?;

    let mut req = Request::builder().method(plan.method.clone()).uri(uri);
    let headers = req.headers_mut().expect("builder is valid so far");
    headers.insert(HOST, client.authority.clone());
    for (name, value) in &client.default_headers {
        headers.insert(name.clone(), value.clone());
    }
    for (name, template) in &plan.headers {
        let text = vars.render(template);
        let value = HeaderValue::try_from(text)
            .map_err(|_| format!("header `{name}` renders to an invalid value"))?;
        headers.insert(name.clone(), value);
    }
    let (content_type, body) = match &plan.body {
        BodyPlan::Empty => (None, Bytes::new()),
        BodyPlan::Json(t) => (Some("application/json"), Bytes::from(vars.render(t))),
        BodyPlan::Form(t) => (
            Some("application/x-www-form-urlencoded"),
            Bytes::from(vars.render(t)),
        ),
        BodyPlan::Raw(t) => (None, Bytes::from(vars.render(t))),
    };
    if let Some(ct) = content_type {
        headers
            .entry(CONTENT_TYPE)
            .or_insert(HeaderValue::from_static(ct));
    }
    req.body(Full::new(body))
        .map_err(|e| format!("cannot build request: {e}"))
}
