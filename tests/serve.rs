//! `rehearse serve` end to end over HTTP: every page type from a filled store, the change
//! point on the scenario page, read-only, loopback names only, names from the store as text,
//! no page that reads a file it is given.

mod common;

use common::dashboard::{link as href_to, serve};

#[test]
fn every_page_answers_from_the_store_and_links_to_the_next() {
    let s = serve();

    let index = s.get("/");
    assert_eq!(index.status, 200, "{}", index.body);
    assert!(
        index
            .head
            .contains("content-security-policy: default-src 'none'"),
        "{}",
        index.head
    );
    assert!(index.body.contains("pay-invoice"));
    assert!(index.body.contains(">main<") && index.body.contains(">feature<"));
    // The feature branch's newest run, compared with main's newest runs.
    assert!(index.body.contains("vs branch:main"), "{}", index.body);
    // A hostile scenario name is text, and its link is encoded.
    assert!(!index.body.contains("<script>alert(1)"));
    assert!(index.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));

    let scenario = s.get(&href_to(&index.body, "/scenario/pay-invoice"));
    assert_eq!(scenario.status, 200, "{}", scenario.body);
    // pay's step on main is found, named with the commit it began at, and marked on its trend.
    let row = scenario
        .body
        .lines()
        .find(|l| l.contains("<td>main</td><td>pay</td>"))
        .unwrap_or_else(|| panic!("no change point of pay on main: {}", scenario.body));
    assert!(row.contains("..main-20"), "{row}");
    assert!(
        scenario.body.contains("stroke=\"#C62828\""),
        "the change is marked"
    );
    assert!(scenario.body.matches("<a href=\"/run/").count() >= 30 * 5);

    let p99 = s.get("/scenario/pay-invoice?metric=p99&runs=25&branch=feature");
    assert_eq!(p99.status, 200);
    assert!(p99.body.contains("Trends: p99 per step"));
    assert!(p99.body.contains("value=\"feature\" checked"));

    let run = s.get(&href_to(&scenario.body, "/run/"));
    assert_eq!(run.status, 200, "{}", run.body);
    assert!(run.body.contains("nav class=\"dash\""));
    assert!(run.body.contains("<form class=\"pick\""));

    let compare = s.get(&href_to(&index.body, "/compare?scenario=pay-invoice"));
    assert_eq!(compare.status, 200, "{}", compare.body);
    assert!(compare.body.contains("baseline"));
    let branches =
        s.get("/compare?scenario=pay-invoice&baseline=branch%3Amain&candidate=branch%3Afeature");
    assert_eq!(branches.status, 200, "{}", branches.body);
    assert!(branches.body.contains("pay"), "{}", branches.body);
    assert_eq!(s.get("/compare").status, 200);
}

#[test]
fn the_dashboard_only_reads_and_only_answers_to_this_machine() {
    let s = serve();
    let post = s.request("POST", "/", &s.host.clone());
    assert_eq!(post.status, 405);
    assert!(post.head.to_ascii_lowercase().contains("allow: get, head"));
    assert_eq!(s.request("DELETE", "/run/x", &s.host.clone()).status, 405);
    // A page of another site reaching the dashboard through a rebound name is refused.
    assert_eq!(s.request("GET", "/", "evil.example").status, 421);
    assert_eq!(s.get("/no/such/page").status, 404);
    assert_eq!(s.get("/run/ffffffff").status, 404);
    assert_eq!(s.get("/scenario/nothing-here").status, 404);
    assert_eq!(s.get("/scenario/pay-invoice?metric=p42").status, 400);
    let many: Vec<String> = (0..7).map(|i| format!("branch=b{i}")).collect();
    assert_eq!(
        s.get(&format!("/scenario/pay-invoice?{}", many.join("&")))
            .status,
        400
    );
    // Another site's page (an image, a form) cannot make the dashboard work; its own pages can.
    let from = |site: &str| {
        s.request_with(
            "GET",
            "/",
            &s.host.clone(),
            &format!("Sec-Fetch-Site: {site}\r\n"),
        )
        .status
    };
    assert_eq!(from("cross-site"), 403);
    assert_eq!(from("same-origin"), 200);
    assert_eq!(from("none"), 200);
    // A page never makes the server read a file it names.
    let file =
        s.get("/compare?scenario=pay-invoice&baseline=%2Fetc%2Fpasswd&candidate=branch%3Amain");
    assert_eq!(file.status, 400);
    assert!(
        file.body.contains("names no run") && file.body.contains("<form class=\"pick\""),
        "{}",
        file.body
    );
    assert!(!file.body.contains("root:"));
}
