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

mod property {
    use proptest::prelude::*;

    use super::*;

    /// Text a recording can hold: quotes, backslashes, braces, control characters, non-ASCII.
    fn text() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                Just("a".to_string()),
                Just("7".to_string()),
                Just("\"".to_string()),
                Just("\\".to_string()),
                Just("{{".to_string()),
                Just("}}".to_string()),
                Just("${X}".to_string()),
                Just("\n".to_string()),
                Just("\u{1}".to_string()),
                Just("é".to_string()),
                Just("/".to_string()),
                Just("%".to_string()),
                Just("=".to_string()),
                Just("&".to_string()),
                Just("id_42".to_string()),
            ],
            0..8,
        )
        .prop_map(|v| v.concat())
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            any::<f64>().prop_map(|f| json!(f)),
            text().prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 16, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
                proptest::collection::btree_map(text(), inner, 0..3)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    fn entry_strategy() -> impl Strategy<Value = Value> {
        (
            prop_oneof![Just("GET"), Just("POST"), Just("put"), Just("DELETE")],
            proptest::collection::vec(text(), 0..3),
            proptest::collection::vec((text(), text()), 0..3),
            proptest::option::of(json_value()),
            prop_oneof![Just(200u16), Just(201), Just(302), Just(404), Just(500)],
            json_value(),
            proptest::collection::vec((text(), text()), 0..3),
        )
            .prop_map(
                |(method, segments, headers, body, status, resp, resp_headers)| {
                    let mut path = String::new();
                    for (i, s) in segments.iter().enumerate() {
                        path.push('/');
                        if i == 0 {
                            // Raw braces, as a lenient recorder may keep them.
                            path.push_str(&s.replace(
                                |c: char| !c.is_ascii_graphic() || "\\\"%&=/".contains(c),
                                "",
                            ));
                        } else {
                            crate::scenario::template::percent_encode_into(s, &mut path);
                        }
                    }
                    let headers: Vec<Value> = headers
                        .into_iter()
                        .map(|(n, v)| json!({ "name": n, "value": v }))
                        .collect();
                    let resp_headers: Vec<Value> = resp_headers
                        .into_iter()
                        .map(|(n, v)| json!({ "name": n, "value": v }))
                        .collect();
                    let mut request = json!({ "headers": headers });
                    if let Some(b) = body {
                        request["postData"] =
                            json!({ "mimeType": "application/json", "text": b.to_string() });
                    }
                    entry(
                        method,
                        &format!("http://h{path}"),
                        request,
                        status,
                        json!({ "headers": resp_headers, "content": json_body(resp) }),
                    )
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        // A recording is an untrusted file: whatever it holds, the import either refuses it
        // with a message or writes a scenario that validates.
        #[test]
        fn any_recording_imports_into_a_valid_scenario_or_a_clear_refusal(
            entries in proptest::collection::vec(entry_strategy(), 1..5)
        ) {
            let options = Options { name: "p".into(), source: "p.har".into(), ..Options::default() };
            match import(&har(entries), &options) {
                Ok(imported) => {
                    let env = |n: &str| n.starts_with("HAR_").then(|| "x".to_string());
                    let parsed = crate::scenario::parse(
                        &crate::scenario::SourceFile::new("p.toml", imported.toml.clone()),
                        &crate::scenario::Overrides::default(),
                        &env,
                    );
                    prop_assert!(parsed.is_ok(), "{:?}\n{}", parsed.err(), imported.toml);
                }
                Err(e) => prop_assert!(!e.to_string().is_empty()),
            }
        }
    }
}
