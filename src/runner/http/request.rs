//! Builds an HTTP request from a step's plan and the iteration's variables.

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HOST};
use http::{HeaderValue, Request};

use super::client::{Body, HttpClient};
use crate::runner::vars::IterationVars;
use crate::scenario::{BodyPlan, HttpRequestPlan, PartContent, PartPlan};

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
        BodyPlan::Empty => (None, Body::default()),
        BodyPlan::Json(t) => (
            Some(HeaderValue::from_static("application/json")),
            Bytes::from(vars.render(t)).into(),
        ),
        BodyPlan::Form(t) => (
            Some(HeaderValue::from_static(
                "application/x-www-form-urlencoded",
            )),
            Bytes::from(vars.render(t)).into(),
        ),
        BodyPlan::Raw(t) => (None, Bytes::from(vars.render(t)).into()),
        BodyPlan::Multipart(parts) => {
            let (boundary, body) = multipart(parts, vars);
            let ct = format!("multipart/form-data; boundary={boundary}");
            (HeaderValue::from_str(&ct).ok(), body)
        }
    };
    if let Some(ct) = content_type {
        // A step's own content-type wins (it must then carry the boundary itself).
        headers.entry(CONTENT_TYPE).or_insert(ct);
    }
    req.body(body)
        .map_err(|e| format!("cannot build request: {e}"))
}

/// A `multipart/form-data` body (RFC 7578) and its boundary: 32 random hex digits, so no
/// file or field can contain it by chance. Files go out as their own shared chunks.
fn multipart(parts: &[PartPlan], vars: &mut IterationVars<'_>) -> (String, Body) {
    let boundary = format!(
        "rehearse-{:016x}{:016x}",
        fastrand::u64(..),
        fastrand::u64(..)
    );
    let mut chunks: Vec<Bytes> = Vec::with_capacity(parts.len() * 2 + 1);
    // Text between files: part headers, text fields, delimiters.
    let mut text = String::with_capacity(256);
    for part in parts {
        text.push_str("--");
        text.push_str(&boundary);
        text.push_str("\r\n");
        match &part.content {
            PartContent::Text(t) => {
                text.push_str(&format!(
                    "Content-Disposition: form-data; name=\"{}\"\r\n\r\n",
                    part.name
                ));
                vars.render_into(t, &mut text);
            }
            PartContent::File {
                bytes,
                filename,
                content_type,
            } => {
                text.push_str(&format!(
                    "Content-Disposition: form-data; name=\"{}\"; filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n",
                    part.name
                ));
                chunks.push(Bytes::from(std::mem::take(&mut text)));
                chunks.push(bytes.clone());
            }
        }
        text.push_str("\r\n");
    }
    text.push_str("--");
    text.push_str(&boundary);
    text.push_str("--\r\n");
    chunks.push(Bytes::from(text));
    (boundary, Body::chunks(chunks))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{Overrides, SourceFile, StepAction, parse};

    fn requests(steps: &str) -> Vec<Request<Body>> {
        let text = format!(
            "name = \"r\"\n[target]\nbase_url = \"http://example.test:8080/v2/\"\nheaders = {{ accept = \"application/json\" }}\n[vars]\nwho = \"a b&c\"\n{steps}"
        );
        let plan = parse(
            &SourceFile::new("r.toml", text),
            &Overrides::default(),
            &|_| None,
        )
        .unwrap();
        let client = HttpClient::new(&plan.target, 0).unwrap();
        let mut vars = IterationVars::new(None, 0, plan.captures.len(), 7, 1, 1);
        plan.steps
            .iter()
            .map(|s| match &s.action {
                StepAction::Http(h) => build(h, &client, &mut vars).unwrap(),
                StepAction::Sql(_) => unreachable!("HTTP steps only"),
            })
            .collect()
    }

    fn body(r: Request<Body>) -> String {
        use http_body_util::BodyExt;
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let collected = rt.block_on(r.into_body().collect());
        let Ok(collected) = collected;
        String::from_utf8(collected.to_bytes().to_vec()).unwrap()
    }

    #[test]
    fn paths_queries_headers_and_bodies_are_rendered_and_encoded() {
        let reqs = requests(
            r#"
[[steps]]
name = "q"
http = { path = "/search?fixed=1", query = { q = "{{ who }}", n = "{{ iteration }}", page = 2 }, headers = { x-user = "{{ who }}", accept = "text/plain" } }
[[steps]]
name = "form"
http = { method = "POST", path = "/f/{{ who }}", form = { name = "{{ who }}", age = 42 } }
[[steps]]
name = "raw"
http = { method = "PUT", path = "/r", body = "hello {{ who }}", headers = { content-type = "text/plain" } }
[[steps]]
name = "json"
http = { method = "POST", path = "/j", json = { s = "say \"{{ who }}\"", list = [1, true] } }
"#,
        );
        let mut reqs = reqs.into_iter();
        let q = reqs.next().unwrap();
        assert_eq!(
            q.uri().to_string(),
            "/v2/search?fixed=1&n=7&page=2&q=a%20b%26c"
        );
        assert_eq!(q.headers()["host"], "example.test:8080");
        assert_eq!(q.headers()["x-user"], "a b&c");
        assert_eq!(
            q.headers()["accept"],
            "text/plain",
            "a step's header overrides the target's"
        );
        assert!(
            q.headers()["user-agent"]
                .to_str()
                .unwrap()
                .starts_with("rehearse/")
        );

        let form = reqs.next().unwrap();
        assert_eq!(form.uri().path(), "/v2/f/a%20b%26c");
        assert_eq!(
            form.headers()["content-type"],
            "application/x-www-form-urlencoded"
        );
        assert_eq!(body(form), "age=42&name=a%20b%26c");

        let raw = reqs.next().unwrap();
        assert_eq!(raw.method(), http::Method::PUT);
        assert_eq!(raw.headers()["content-type"], "text/plain");
        assert_eq!(body(raw), "hello a b&c");

        let json = reqs.next().unwrap();
        assert_eq!(json.headers()["content-type"], "application/json");
        let value: serde_json::Value = serde_json::from_str(&body(json)).unwrap();
        assert_eq!(
            value,
            serde_json::json!({"s": "say \"a b&c\"", "list": [1, true]})
        );
    }
}
