//! The HTML report in a real browser: headless Chromium opens index.html from a file:// URL;
//! no console messages, no network requests from the page, a screenshot that is not blank,
//! and a step named `<script>…` shown as text. Required in CI (CI=true); skipped with a
//! printed reason elsewhere when Chromium is not installed. The dashboard (`rehearse serve`)
//! too: every page type says nothing on the console, asks nothing of other origins, draws
//! something, and its links lead from one page type to the next.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

fn chromium() -> Option<PathBuf> {
    let found = ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|p| p.join(name))
                    .find(|p| p.is_file())
            })
        });
    if found.is_none() {
        assert!(
            !std::env::var("CI").is_ok_and(|v| v == "true"),
            "Chromium is required in CI (apt-get install -y chromium); .ci/run installs it"
        );
        eprintln!(
            "skipping the browser test: Chromium is not installed (apt-get install -y chromium)"
        );
    }
    found
}

/// What the browser saw.
struct Visit {
    console: Vec<String>,
    requests: Vec<String>,
    dom: String,
    screenshot: PathBuf,
}

fn visit(browser: &Path, page: &Path, work: &Path) -> Visit {
    let url = format!("file://{}", page.canonicalize().unwrap().display());
    visit_url(browser, &url, work)
}

fn visit_url(browser: &Path, url: &str, work: &Path) -> Visit {
    let profile = work.join("profile");
    let netlog = work.join("net.json");
    let screenshot = work.join("shot.png");
    let flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        "--enable-logging=stderr",
        "--v=0",
    ];
    let shot = Command::new(browser)
        .args(flags)
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--log-net-log={}", netlog.display()))
        .arg(format!("--screenshot={}", screenshot.display()))
        .arg("--window-size=1280,2000")
        .arg(url)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&shot.stderr).to_string();
    // Every console message from the page (errors, CSP violations, anything: the report
    // has no scripts, so it should say nothing at all).
    let console = stderr
        .lines()
        .filter(|l| l.contains(":CONSOLE") && l.contains(url))
        .map(str::to_string)
        .collect();
    let dom = Command::new(browser)
        .args(flags)
        .arg(format!(
            "--user-data-dir={}",
            work.join("profile2").display()
        ))
        .arg("--dump-dom")
        .arg(url)
        .output()
        .unwrap();
    Visit {
        console,
        requests: page_requests(&netlog),
        dom: String::from_utf8_lossy(&dom.stdout).to_string(),
        screenshot,
    }
}

/// URLs the page itself asked for (the browser's own background traffic has no origin).
fn page_requests(netlog: &Path) -> Vec<String> {
    let log: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(netlog).unwrap_or_else(|_| "{}".into()))
            .unwrap_or_default();
    let start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"].as_u64();
    log["events"]
        .as_array()
        .map(|events| {
            events
                .iter()
                .filter(|e| e["type"].as_u64() == start)
                .filter(|e| e["params"]["initiator"].as_str() != Some("not an origin"))
                .filter_map(|e| e["params"]["url"].as_str())
                .filter(|u| !u.starts_with("file:") && !u.starts_with("data:"))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Share of pixels that are not near-white, and how many distinct colours there are.
fn ink(png_path: &Path) -> (f64, usize) {
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(png_path).unwrap(),
    ));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let pixels: Vec<&[u8]> = buf[..info.buffer_size()].chunks(channels).collect();
    let inked = pixels
        .iter()
        .filter(|p| p[..3].iter().any(|c| *c < 200))
        .count();
    let colours: std::collections::BTreeSet<[u8; 3]> =
        pixels.iter().map(|p| [p[0], p[1], p[2]]).collect();
    (inked as f64 / pixels.len() as f64, colours.len())
}

#[test]
fn the_html_report_opens_offline_says_nothing_fetches_nothing_and_shows_names_as_text() {
    let Some(browser) = chromium() else { return };
    let work = tempfile::tempdir().unwrap();

    // The detector itself: a page that loads something and logs must be caught.
    let bad = write(
        work.path(),
        "bad.html",
        "<!DOCTYPE html><html><body><img src=\"http://127.0.0.1:9/x.png\"><script>console.error('boom')</script></body></html>",
    );
    let seen = visit(&browser, &bad, &work.path().join("bad"));
    assert!(
        seen.requests.iter().any(|u| u.contains("127.0.0.1:9")),
        "the request detector works: {:?}",
        seen.requests
    );
    assert!(
        seen.console.iter().any(|l| l.contains("boom")),
        "the console detector works: {:?}",
        seen.console
    );

    // A real comparison report of a scenario whose step name is hostile.
    let target = fast_sandbox();
    let store = format!("sqlite://{}", work.path().join("s.db").display());
    let scenario = std::fs::read_to_string(scenarios().join("pay-invoice.toml"))
        .unwrap()
        .replace("name = \"receipt\"", "name = \"<script>alert(1)</script>\"");
    let file = write(work.path(), "pay.toml", &scenario);
    std::fs::create_dir_all(work.path().join("data")).unwrap();
    std::fs::copy(
        scenarios().join("data/customers.csv"),
        work.path().join("data/customers.csv"),
    )
    .unwrap();
    for (i, extra) in [vec![], vec!["--baseline", "branch:main", "--report"]]
        .into_iter()
        .enumerate()
    {
        let mut cmd = rehearse();
        cmd.args([
            "run",
            "-q",
            "--rate",
            "40/s",
            "--duration",
            "2s",
            "--warmup",
            "0s",
            "--branch",
            "main",
            "--target",
            &target.url,
            "--store",
            &store,
            "--out",
        ])
        .arg(work.path().join(format!("run{i}")));
        if !extra.is_empty() {
            cmd.args(&extra).arg(work.path().join("report"));
        }
        // The second run compares with the first: whether it regressed is live timing's say
        // (issue 9), so exit 1 is as good as 0 here; the report is written either way.
        let code = cmd.arg(&file).assert().get_output().status.code();
        assert!(matches!(code, Some(0 | 1)), "exit {code:?}");
    }
    let page = work.path().join("report/index.html");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        !html.contains("<script>alert(1)</script>"),
        "the hostile name is escaped in the file"
    );

    let seen = visit(&browser, &page, &work.path().join("report-visit"));
    assert!(
        seen.console.is_empty(),
        "console messages: {:#?}",
        seen.console
    );
    assert!(
        seen.requests.is_empty(),
        "network requests: {:#?}",
        seen.requests
    );
    assert!(
        seen.dom.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "the name is shown as text"
    );
    assert!(
        !seen.dom.contains("<script"),
        "no script element reached the DOM"
    );
    assert!(
        seen.dom.contains("Change per step") && seen.dom.contains("<svg"),
        "the plots are there"
    );
    let (inked, colours) = ink(&seen.screenshot);
    assert!(
        inked > 0.03 && colours > 16,
        "the screenshot is not blank: {inked:.3} inked, {colours} colours"
    );

    // summary.png decodes and carries a picture too.
    let (inked, colours) = ink(&work.path().join("report/summary.png"));
    assert!(
        inked > 0.03 && colours > 16,
        "summary.png: {inked:.3} inked, {colours} colours"
    );
}

#[test]
fn the_dashboard_pages_load_quietly_draw_and_lead_from_one_to_the_next() {
    let Some(browser) = chromium() else { return };
    let work = tempfile::tempdir().unwrap();
    let served = common::dashboard::serve();
    let mut path = "/".to_string();
    let steps: [(&str, &str, &str); 4] = [
        ("index", "/scenario/pay-invoice", "Scenarios"),
        ("scenario", "/run/", "Change points"),
        ("run", "/compare?", "nav class=\"dash\""),
        ("compare", "/", "<form class=\"pick\""),
    ];
    for (kind, next, shows) in steps {
        let url = format!("{}{path}", served.url);
        let seen = visit_url(&browser, &url, &work.path().join(kind));
        assert!(
            seen.console.is_empty(),
            "{kind}: console messages: {:#?}",
            seen.console
        );
        assert!(
            seen.requests.iter().all(|u| u.starts_with(&served.url)),
            "{kind}: requests elsewhere: {:#?}",
            seen.requests
        );
        assert!(
            seen.dom.contains(shows),
            "{kind} ({url}) shows {shows}: {}",
            seen.dom
        );
        assert!(
            !seen.dom.contains("<script"),
            "{kind}: no script reached the DOM"
        );
        let (inked, colours) = ink(&seen.screenshot);
        assert!(
            inked > 0.02 && colours > 16,
            "{kind}: the screenshot is not blank: {inked:.3} inked, {colours} colours"
        );
        path = common::dashboard::link(&seen.dom, next);
    }
}
