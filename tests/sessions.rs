//! Browser-like sessions end to end against the sandbox: a form login whose session cookie
//! carries the customer through a 303 to the account page and on to later steps, the same
//! workflow failing when cookies are off, redirect chains followed within a limit or checked
//! as they are, a redirect off the target refused, and a multipart upload arriving whole.

mod common;

use common::*;

const LOGIN: &str = r#"
[[steps]]
name = "login"
[steps.http]
method = "POST"
path = "/web/login"
form = { email = "{{ email }}", password = "{{ password }}" }
[steps.capture]
sid = { cookie = "sid" }
[steps.check]
status = 200
json = { "$.customer_id" = "cus_{{ n }}" }

[[steps]]
name = "account"
[steps.http]
path = "/web/account"
headers = { x-session = "{{ cookie.sid }}", x-captured = "{{ sid }}" }
[steps.check]
status = 200

[[steps]]
name = "logout"
[steps.http]
method = "POST"
path = "/web/logout"
[steps.check]
status = 204

[[steps]]
name = "after-logout"
[steps.http]
path = "/web/account"
[steps.check]
status = 401
"#;

/// Runs a scenario of `steps` against a fast sandbox, 12 iterations; returns the results.
fn run(dir: &std::path::Path, target: &str, steps: &str) -> rehearse::model::RunResult {
    let scenario = format!(
        "name = \"sessions\"\n{target}\n[load]\nrate = \"40/s\"\nduration = \"5s\"\niterations = 12\n[data]\nfile = \"people.csv\"\n{steps}"
    );
    let csv: String = std::iter::once("email,password,n\n".to_string())
        .chain((1..=12).map(|n| format!("customer{n}@example.com,hunter2,{n}\n")))
        .collect();
    write(dir, "people.csv", &csv);
    let file = write(dir, "sessions.toml", &scenario);
    let sandbox = fast_sandbox();
    let out = dir.join("out");
    let o = rehearse()
        .args([
            "run",
            "--quiet",
            "--no-store",
            "--warmup",
            "0s",
            "--target",
            &sandbox.url,
            "--out",
        ])
        .arg(&out)
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    results(&out)
}

#[test]
fn a_cookie_session_logs_in_through_a_redirect_and_out_again() {
    let dir = tempfile::tempdir().unwrap();
    let r = run(
        dir.path(),
        "[target]\nbase_url = \"http://unused.test\"",
        LOGIN,
    );
    for s in &r.steps {
        assert_eq!(s.count, 12, "{}", s.name);
        assert_eq!(s.errors, 0, "{}: {:?}", s.name, s.error_samples);
    }
}

#[test]
fn without_cookies_the_account_page_refuses_the_customer() {
    let dir = tempfile::tempdir().unwrap();
    let steps = LOGIN.replace("sid = { cookie = \"sid\" }", "").replace(
        "x-session = \"{{ cookie.sid }}\", x-captured = \"{{ sid }}\"",
        "",
    );
    let r = run(
        dir.path(),
        "[target]\nbase_url = \"http://unused.test\"\ncookies = false",
        &steps,
    );
    let login = step(&r, "login");
    assert_eq!(
        login.outcomes.http_4xx, 12,
        "the 303 leads to a page that needs the cookie"
    );
    assert!(
        login
            .error_samples
            .values()
            .any(|m| m.contains("401") && m.contains("after 303 /web/login")),
        "{:?}",
        login.error_samples
    );
}

#[test]
fn redirects_are_followed_within_their_limit_or_checked_as_they_are() {
    let dir = tempfile::tempdir().unwrap();
    let steps = r#"
[[steps]]
name = "chain"
http = { path = "/web/hops/3" }
check = { status = 200, json = { "$.arrived" = true } }

[[steps]]
name = "as-is"
follow_redirects = false
http = { path = "/web/hops/3" }
check = { status = 302 }
"#;
    let r = run(
        dir.path(),
        "[target]\nbase_url = \"http://unused.test\"",
        steps,
    );
    assert_eq!(
        step(&r, "chain").errors,
        0,
        "{:?}",
        step(&r, "chain").error_samples
    );
    assert_eq!(
        step(&r, "as-is").errors,
        0,
        "{:?}",
        step(&r, "as-is").error_samples
    );

    let short = r#"
[[steps]]
name = "chain"
follow_redirects = 2
http = { path = "/web/hops/3" }
"#;
    let r = run(
        dir.path(),
        "[target]\nbase_url = \"http://unused.test\"",
        short,
    );
    let chain = step(&r, "chain");
    assert_eq!(chain.outcomes.http_3xx, 12);
    let said: Vec<&String> = chain.error_samples.values().collect();
    assert!(
        said.iter().any(|m| m.contains("more than 2 redirects")
            && m.contains("302 /web/hops/3 → 302 /web/hops/2 → 302 /web/hops/1")),
        "{said:?}"
    );
}

#[test]
fn a_redirect_off_the_target_is_refused_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let steps = r#"
[[steps]]
name = "away"
http = { path = "/web/away" }
"#;
    let r = run(
        dir.path(),
        "[target]\nbase_url = \"http://unused.test\"",
        steps,
    );
    let away = step(&r, "away");
    assert_eq!(away.outcomes.http_3xx, 12);
    assert!(
        away.error_samples
            .values()
            .any(|m| m.contains("redirect to `http://elsewhere.invalid/phish` refused")),
        "{:?}",
        away.error_samples
    );
}

#[test]
fn a_multipart_upload_arrives_whole_with_its_fields() {
    use sha2::Digest as _;
    let dir = tempfile::tempdir().unwrap();
    // Bytes that look like multipart syntax too: the boundary must still hold.
    let mut data = Vec::new();
    let mut x: u32 = 7;
    while data.len() < 300 * 1024 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        data.push((x >> 16) as u8);
        if x.is_multiple_of(97) {
            data.extend_from_slice(b"\r\n--\r\n\r\n");
        }
    }
    std::fs::write(dir.path().join("receipt.pdf"), &data).unwrap();
    let sha = format!("{:x}", sha2::Sha256::digest(&data));
    let steps = format!(
        r#"
[[steps]]
name = "upload"
[steps.http]
method = "POST"
path = "/web/upload"
multipart = {{ receipt = {{ path = "receipt.pdf" }}, note = "for customer {{{{ n }}}}" }}
[steps.check]
json = {{ "$.files[0].sha256" = "{sha}", "$.files[0].size" = {}, "$.files[0].type" = "application/pdf", "$.files[0].filename" = "receipt.pdf", "$.fields.note" = "for customer {{{{ n }}}}" }}
"#,
        data.len()
    );
    let r = run(
        dir.path(),
        "[target]\nbase_url = \"http://unused.test\"",
        &steps,
    );
    let upload = step(&r, "upload");
    assert_eq!(upload.count, 12);
    assert_eq!(upload.errors, 0, "{:?}", upload.error_samples);
}

#[test]
fn new_keys_are_checked_where_they_are_written() {
    let dir = tempfile::tempdir().unwrap();
    for (text, says) in [
        (
            "[target]\nbase_url = \"http://h.test\"\ncookies = \"yes\"\n[[steps]]\nname = \"a\"\nhttp = { path = \"/\" }\n",
            "sessions.toml:4:11",
        ),
        (
            "[target]\nbase_url = \"http://h.test\"\nfollow_redirects = 99\n[[steps]]\nname = \"a\"\nhttp = { path = \"/\" }\n",
            "sessions.toml:4:20",
        ),
        (
            "[target]\nbase_url = \"http://h.test\"\ncookies = false\n[[steps]]\nname = \"a\"\nhttp = { path = \"/{{ cookie.sid }}\" }\n",
            "cookies = false",
        ),
        (
            "[target]\nbase_url = \"http://h.test\"\n[[steps]]\nname = \"a\"\nhttp = { path = \"/\" }\ncapture = { s = { cookie = \"a b\" } }\n",
            "invalid cookie name",
        ),
        (
            "[target]\nbase_url = \"http://h.test\"\n[[steps]]\nname = \"a\"\nhttp = { method = \"POST\", path = \"/\", multipart = { f = { path = \"nope.pdf\" } } }\n",
            "nope.pdf",
        ),
        (
            "[target]\nbase_url = \"http://h.test\"\n[[steps]]\nname = \"a\"\nhttp = { method = \"POST\", path = \"/\", multipart = { f = { file = \"x\" } } }\n",
            "unknown key `file`",
        ),
        (
            "[target]\nbase_url = \"http://h.test\"\n[[steps]]\nname = \"a\"\nhttp = { method = \"POST\", path = \"/\", body = \"x\", multipart = { a = \"b\" } }\n",
            "one body",
        ),
        (
            "[target]\nbase_url = \"http://h.test\"\n[[steps]]\nname = \"a\"\nhttp = { method = \"POST\", path = \"/\", headers = { content-type = \"multipart/form-data\" }, multipart = { a = \"b\" } }\n",
            "sets its own content-type",
        ),
    ] {
        let file = write(
            dir.path(),
            "sessions.toml",
            &format!("name = \"s\"\n{text}"),
        );
        let o = rehearse().args(["validate"]).arg(&file).output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains(says), "{says}: {err}");
    }
}
