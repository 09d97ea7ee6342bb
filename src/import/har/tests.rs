//! Hand-made recordings, one edge each: what is kept and dropped, what is correlated, where
//! credentials go, and that every imported file validates.

use serde_json::{Value, json};

use super::*;

fn entry(method: &str, url: &str, req: Value, status: u16, resp: Value) -> Value {
    let mut request = json!({ "method": method, "url": url, "headers": [] });
    let mut response =
        json!({ "status": status, "headers": [], "content": { "mimeType": "application/json" } });
    for (k, v) in req.as_object().cloned().unwrap_or_default() {
        request[k] = v;
    }
    for (k, v) in resp.as_object().cloned().unwrap_or_default() {
        response[k] = v;
    }
    json!({ "request": request, "response": response })
}

fn har(entries: Vec<Value>) -> Vec<u8> {
    serde_json::to_vec(&json!({ "log": { "version": "1.2", "entries": entries } })).unwrap()
}

fn import_ok(entries: Vec<Value>) -> Imported {
    let imported = import(
        &har(entries),
        &Options {
            name: "t".into(),
            source: "t.har".into(),
            ..Options::default()
        },
    )
    .unwrap();
    // Every import validates as written (credentials set to anything).
    let env = |n: &str| n.starts_with("HAR_").then(|| "x".to_string());
    crate::scenario::parse(
        &crate::scenario::SourceFile::new("t.toml", imported.toml.clone()),
        &crate::scenario::Overrides::default(),
        &env,
    )
    .unwrap_or_else(|e| panic!("{e}\n{}", imported.toml));
    imported
}

fn json_body(v: Value) -> Value {
    json!({ "text": v.to_string(), "mimeType": "application/json" })
}

#[test]
fn a_login_token_and_an_id_from_responses_become_captures_and_references() {
    let imported = import_ok(vec![
        entry(
            "POST",
            "https://shop.example/api/login",
            json!({ "postData": { "mimeType": "application/json", "text": "{\"email\":\"a@b.c\",\"password\":\"hunter2\"}" } }),
            200,
            json!({ "content": json_body(json!({ "token": "tok-8f2d1c9a7b6e5d4c3b2a", "customer_id": "cus_7" })) }),
        ),
        entry(
            "GET",
            "https://shop.example/api/invoices?status=open&limit=5",
            json!({ "headers": [{ "name": "Authorization", "value": "Bearer tok-8f2d1c9a7b6e5d4c3b2a" }, { "name": ":authority", "value": "shop.example" }] }),
            200,
            json!({ "content": json_body(json!({ "invoices": [{ "id": "inv_12001", "status": "open" }] })) }),
        ),
        entry(
            "POST",
            "https://shop.example/api/invoices/inv_12001/pay",
            json!({ "headers": [{ "name": "authorization", "value": "Bearer tok-8f2d1c9a7b6e5d4c3b2a" }] }),
            202,
            json!({ "content": json_body(json!({ "payment_id": "pay_3", "status": "pending" })) }),
        ),
    ]);
    let t = &imported.toml;
    assert!(
        t.contains("base_url = \"${REHEARSE_TARGET:-https://shop.example}\""),
        "{t}"
    );
    assert!(t.contains("name = \"post-api-invoices-id-pay\""), "{t}");
    assert!(t.contains("token = { json = \"$.token\" }"), "{t}");
    assert!(
        t.contains("invoice_id = { json = \"$.invoices[0].id\" }"),
        "{t}"
    );
    assert!(t.contains("authorization = \"Bearer {{ token }}\""), "{t}");
    assert!(
        t.contains("path = \"/api/invoices/{{ invoice_id }}/pay\""),
        "{t}"
    );
    // Chosen values stay as they are; the password goes to the environment.
    assert!(
        t.contains("path = \"/api/invoices?status=open&limit=5\""),
        "{t}"
    );
    assert!(t.contains("password = \"{{ env.HAR_PASSWORD }}\""), "{t}");
    assert!(!t.contains("hunter2"), "{t}");
    assert_eq!(imported.env, ["HAR_PASSWORD"]);
    assert!(
        !t.contains(":authority"),
        "pseudo-headers are not headers: {t}"
    );
    assert!(t.contains("status = 202"));
}

#[test]
fn static_assets_preflights_and_cached_answers_are_left_out_by_what_they_are() {
    let imported = import_ok(vec![
        // An image behind a script-looking URL is still an image.
        entry(
            "GET",
            "http://h/avatar.php?u=1",
            json!({}),
            200,
            json!({ "content": { "mimeType": "image/png" } }),
        ),
        // A stylesheet without an extension.
        entry(
            "GET",
            "http://h/theme",
            json!({}),
            200,
            json!({ "content": { "mimeType": "text/css; charset=utf-8" } }),
        ),
        // A file name decides only when the recorder kept no media type.
        entry(
            "GET",
            "http://h/app.js",
            json!({}),
            200,
            json!({ "content": { "mimeType": "" } }),
        ),
        entry("OPTIONS", "http://h/api/x", json!({}), 204, json!({})),
        entry("GET", "http://h/api/cached", json!({}), 304, json!({})),
        entry("GET", "http://h/api/blocked", json!({}), 0, json!({})),
        entry(
            "GET",
            "data:image/png;base64,AAAA",
            json!({}),
            200,
            json!({}),
        ),
        // An API call whose URL ends like a file is kept: it answered JSON.
        entry(
            "GET",
            "http://h/api/report.js",
            json!({}),
            200,
            json!({ "content": json_body(json!({})) }),
        ),
    ]);
    assert_eq!(imported.steps, 1, "{}", imported.toml);
    assert!(imported.toml.contains("path = \"/api/report.js\""));
    let dropped: Vec<(&str, usize)> = imported
        .dropped
        .iter()
        .map(|(k, n)| (k.as_str(), *n))
        .collect();
    assert!(
        dropped.contains(&("static asset (by its media type)", 3)),
        "{dropped:?}"
    );
    assert!(
        dropped
            .iter()
            .any(|(k, n)| k.contains("preflight") && *n == 1)
    );
    assert!(dropped.iter().any(|(k, n)| k.contains("304") && *n == 1));
    assert!(
        imported
            .warnings
            .iter()
            .any(|w| w.contains("/api/cached") && w.contains("304"))
    );
}

#[test]
fn several_origins_need_a_choice_and_host_filters_make_it() {
    let entries = || {
        vec![
            entry("GET", "https://api.example/a", json!({}), 200, json!({})),
            entry("GET", "https://api.example/b", json!({}), 200, json!({})),
            entry(
                "GET",
                "https://telemetry.example/t",
                json!({}),
                204,
                json!({}),
            ),
        ]
    };
    let e = import(&har(entries()), &Options::default()).unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("https://api.example: 2") && text.contains("--include-host"),
        "{text}"
    );
    for options in [
        Options {
            include_hosts: vec!["api.example".into()],
            name: "t".into(),
            ..Options::default()
        },
        Options {
            exclude_hosts: vec!["telemetry.example".into()],
            name: "t".into(),
            ..Options::default()
        },
    ] {
        assert_eq!(import(&har(entries()), &options).unwrap().steps, 2);
    }
    assert!(matches!(
        import(b"{\"not\": \"a har\"}", &Options::default()),
        Err(ImportError::Format(_))
    ));
}

#[test]
fn credentials_the_recording_cannot_explain_go_to_the_environment_never_the_file() {
    let imported = import_ok(vec![
        entry(
            "POST",
            "http://h/session",
            json!({
                "headers": [
                    { "name": "Authorization", "value": "Basic dXNlcjpzM2NyZXQ=" },
                    { "name": "Cookie", "value": "sid=abc123secret; theme=dark" },
                    { "name": "X-Api-Key", "value": "key-0123456789abcdef" }
                ],
                "postData": { "mimeType": "application/x-www-form-urlencoded", "params": [
                    { "name": "user", "value": "ann" }, { "name": "password", "value": "pa%24%24" }
                ] }
            }),
            303,
            json!({ "headers": [{ "name": "Location", "value": "/home" }, { "name": "Set-Cookie", "value": "sid=new456; Path=/" }] }),
        ),
        entry(
            "GET",
            "http://h/home",
            json!({ "headers": [{ "name": "Cookie", "value": "sid=new456" }] }),
            200,
            json!({ "content": { "mimeType": "text/html" } }),
        ),
    ]);
    let t = &imported.toml;
    for secret in [
        "dXNlcjpzM2NyZXQ",
        "abc123secret",
        "key-0123456789abcdef",
        "pa$$",
        "pa%24%24",
    ] {
        assert!(!t.contains(secret), "{secret} in {t}");
    }
    assert_eq!(
        imported.env,
        [
            "HAR_AUTHORIZATION",
            "HAR_COOKIE",
            "HAR_PASSWORD",
            "HAR_X_API_KEY"
        ]
    );
    assert!(
        t.contains("form = { user = \"ann\", password = \"{{ env.HAR_PASSWORD }}\" }"),
        "{t}"
    );
    // The redirect is replayed as recorded: checked itself, its target the next step.
    assert!(t.contains("follow_redirects = false"), "{t}");
    assert!(t.contains("status = 303"), "{t}");
    // A cookie an earlier response set travels in the jar: the second step sends none.
    let home = &t[t.find("name = \"get-home\"").unwrap()..];
    assert!(!home.contains("cookie"), "{home}");
}

#[test]
fn generated_values_nothing_explains_are_reported_where_they_are() {
    let imported = import_ok(vec![entry(
        "PUT",
        "http://h/api/carts/c-98765/items?session=s1a2b3",
        json!({ "postData": { "mimeType": "application/json", "text": "{\"sku\":\"SKU-4411\",\"note\":\"{{ not a var }}\",\"gift\":null}" } }),
        200,
        json!({}),
    )]);
    let w = imported.warnings.join("\n");
    assert!(w.contains("path segment `c-98765`"), "{w}");
    assert!(w.contains("query `session` `s1a2b3`"), "{w}");
    // A null has no TOML form: the body goes as its recorded text.
    let t = &imported.toml;
    assert!(t.contains("body = \"{\\\"gift\\\":null"), "{t}");
    assert!(t.contains("content-type = \"application/json\""), "{t}");
}

#[test]
fn recorded_text_that_looks_like_a_template_is_sent_unchanged() {
    let imported = import_ok(vec![entry(
        "POST",
        "http://h/api/notes",
        json!({ "postData": { "mimeType": "application/json", "text": "{\"text\":\"Hi {{ name }}\"}" } }),
        201,
        json!({}),
    )]);
    let t = &imported.toml;
    assert!(t.contains("har_text_1 = \"Hi {{ name }}\""), "{t}");
    assert!(t.contains("json = { text = \"{{ har_text_1 }}\" }"), "{t}");
}

#[test]
fn a_value_a_response_header_returned_is_captured_from_that_header() {
    let imported = import_ok(vec![
        entry(
            "GET",
            "http://h/form",
            json!({}),
            200,
            json!({ "headers": [{ "name": "X-CSRF-Token", "value": "csrf-7f3a9b2c" }] }),
        ),
        entry(
            "POST",
            "http://h/api/orders",
            json!({ "headers": [{ "name": "X-CSRF-Token", "value": "csrf-7f3a9b2c" }] }),
            201,
            json!({}),
        ),
    ]);
    let t = &imported.toml;
    assert!(
        t.contains("x_csrf_token = { header = \"x-csrf-token\" }"),
        "{t}"
    );
    assert!(t.contains("x-csrf-token = \"{{ x_csrf_token }}\""), "{t}");
    assert_eq!(imported.recorded, 2);
}
