//! The pages of `rehearse serve`, from plain views the application gathers: the scenarios
//! with each branch's latest verdict, a scenario's trends per step and branch with change
//! points marked and every run a link, and the frame around a run's or a comparison's report.
//! No scripts, nothing fetched from elsewhere: every page works offline under a strict CSP.

mod trend;

use std::fmt::Write as _;

use super::escape::{url as url_encode, xml as esc};
use super::palette::{self, css};
use super::plots::cut;
use super::views::{Conclusion, short};
use crate::model::ChangePoint;
use crate::model::SummaryMetric;

/// The header every page sends: nothing but inline styles and inline images, links and forms
/// to the dashboard itself, and no framing by other sites.
pub const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The same policy in the page itself, for a page saved to a file (`frame-ancestors` only
/// works as a header: browsers warn about it in a meta element).
const META_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; base-uri 'none'";

/// The navigation bar and the pickers: on the dashboard's own pages and on the reports it frames.
const NAV_STYLE: &str = r#"
nav.dash{background:#263238;color:#fff;padding:8px 24px;font-size:14px;font-family:system-ui,sans-serif}nav.dash a{color:#fff;margin-right:18px;text-decoration:none;font-weight:600}nav.dash span{color:#b0bec5;float:right}
form.pick{background:#fff;border:1px solid #e3e3e3;border-radius:4px;padding:10px 14px;margin:10px 0;font-size:14px}
form.pick input,form.pick select{font-size:14px;margin:0 12px 0 4px}form.pick input[type=text]{width:22em}
p.links{font-size:14px;font-family:system-ui,sans-serif}
"#;

const STYLE: &str = r#"
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0;color:#222;background:#fafafa}
.page{max-width:1280px;margin:0 auto;padding:12px 24px 48px}
h1{font-size:22px;margin:8px 0 4px}h2{font-size:18px;margin:26px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
table.data{border-collapse:collapse;font-size:13px;background:#fff;margin:6px 0;width:100%}
table.data th{background:#f0f0f0;text-align:left;padding:5px 8px;border-bottom:1px solid #ccc;white-space:nowrap}
table.data td{padding:4px 8px;border-bottom:1px solid #eee;white-space:nowrap;font-variant-numeric:tabular-nums}
table.data td.v{white-space:normal;min-width:22em;max-width:34em}
td.n,th.n{text-align:right}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-size:12px;font-weight:600}
.muted{color:#777}.note{background:#fff8e1;border-left:4px solid #E69F00;padding:6px 10px;margin:6px 0;font-size:13px}
.trend{background:#fff;border:1px solid #e3e3e3;border-radius:4px;margin:4px 0 14px;max-width:100%;height:auto}
.legend span{display:inline-block;width:12px;height:12px;border-radius:2px;margin:0 4px -1px 12px}
"#;

/// One stored run as a line of a page.
#[derive(Debug, Clone, PartialEq)]
pub struct RunLine {
    /// Run id.
    pub id: String,
    /// Start, epoch milliseconds.
    pub started_ms: i64,
    /// Commit, if known.
    pub commit: Option<String>,
    /// Workflow iterations ended.
    pub iterations: Option<i64>,
    /// Failed workflow iterations.
    pub errors: Option<i64>,
    /// Workflow p50, µs.
    pub p50: Option<i64>,
    /// Workflow p99, µs.
    pub p99: Option<i64>,
}

/// What the latest run of a branch was found to be.
#[derive(Debug, Clone, PartialEq)]
pub enum VerdictCell {
    /// Compared with a baseline.
    Compared {
        /// What it was compared with (`branch:main`).
        against: String,
        /// How the comparison concludes.
        conclusion: Conclusion,
        /// Its one-line summary.
        text: String,
    },
    /// Nothing to compare with yet (kept: it stays so until a run is stored).
    Alone(String),
    /// Not compared this time (the store failed to answer): tried again on the next view.
    NotCompared(String),
}

/// A branch of a scenario on the front page.
#[derive(Debug, Clone, PartialEq)]
pub struct BranchLatest {
    /// The branch.
    pub branch: String,
    /// Runs standing for it.
    pub runs: i64,
    /// Its newest run.
    pub latest: RunLine,
    /// That run's verdict.
    pub verdict: VerdictCell,
}

/// A scenario on the front page.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioSummary {
    /// Its name.
    pub name: String,
    /// Its branches, base branch first, then the most recently run.
    pub branches: Vec<BranchLatest>,
    /// Branches not shown (older ones), listed on the scenario's page.
    pub more_branches: usize,
}

/// The front page.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexView {
    /// The store, password hidden.
    pub store: String,
    /// The branch others are compared with.
    pub base: String,
    /// Every scenario with runs on a branch.
    pub scenarios: Vec<ScenarioSummary>,
    /// Scenarios whose runs name no branch (not charted: a trend is a branch's).
    pub without_branch: Vec<String>,
}

/// One run on a trend.
#[derive(Debug, Clone, PartialEq)]
pub struct TrendRun {
    /// Run id.
    pub run_id: String,
    /// Start, epoch milliseconds.
    pub started_ms: i64,
    /// Commit, if known.
    pub commit: Option<String>,
    /// The metric's value.
    pub value: f64,
}

/// A branch's series on a trend, oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct BranchSeries {
    /// The branch.
    pub branch: String,
    /// Its runs.
    pub runs: Vec<TrendRun>,
}

/// A step's trend: every shown branch, and the change points of the metric shown.
#[derive(Debug, Clone, PartialEq)]
pub struct StepTrend {
    /// The step (`workflow` for the whole workflow).
    pub step: String,
    /// One series per branch shown, in the page's branch order.
    pub series: Vec<BranchSeries>,
}

/// A scenario's page.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioView {
    /// The scenario.
    pub name: String,
    /// The metric charted.
    pub metric: SummaryMetric,
    /// Runs per branch charted.
    pub runs: i64,
    /// The most runs per branch a page charts.
    pub max_runs: i64,
    /// The branch others are compared with.
    pub base: String,
    /// Whether change points are searched in the metric charted (p95, p999 and max are not).
    pub searched: bool,
    /// The branches charted, base branch first when it is one of them.
    pub shown: Vec<String>,
    /// Every branch with runs (for the picker), most recent first.
    pub branches: Vec<String>,
    /// One trend per step, workflow last.
    pub steps: Vec<StepTrend>,
    /// Change points found on the branches charted (every metric), per branch.
    pub changes: Vec<(String, ChangePoint)>,
    /// Branches whose change points could not be searched, and why.
    pub notes: Vec<String>,
    /// The newest runs of the charted branches.
    pub recent: Vec<(String, RunLine)>,
}

use trend::colour;
pub use trend::trend_svg;

/// A page for `rehearse serve`: the dashboard's frame around `body`.
pub fn page(title: &str, store: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<meta http-equiv=\"Content-Security-Policy\" content=\"{META_CSP}\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{NAV_STYLE}{STYLE}</style></head><body>\n{}<div class=\"page\">\n{body}</div></body></html>\n",
        esc(title),
        nav(store)
    )
}

fn nav(store: &str) -> String {
    format!(
        "<nav class=\"dash\"><a href=\"/\">rehearse</a><a href=\"/\">scenarios</a><a href=\"/compare\">compare</a><span>{}</span></nav>\n",
        esc(store)
    )
}

/// A report page (a run's, a comparison's) with the dashboard's navigation and `above` (the
/// comparison picker) put at the top of its body. The report stays as `rehearse report`
/// writes it: the same page a ticket gets.
pub fn framed(report: &str, store: &str, above: &str) -> String {
    let bar = format!(
        "<style>{NAV_STYLE}form.pick,p.links{{margin:10px 24px}}</style>\n{}{above}",
        nav(store)
    );
    match report.find("<body>") {
        Some(i) => {
            let at = i + "<body>".len();
            format!("{}{bar}{}", &report[..at], &report[at..])
        }
        None => format!("{bar}{report}"),
    }
}

/// An error page's body: what went wrong, and the way back.
pub fn error_body(title: &str, message: &str) -> String {
    format!(
        "<h1>{}</h1><p class=\"note\">{}</p><p><a href=\"/\">back to the scenarios</a></p>",
        esc(title),
        esc(message)
    )
}

/// The compare page's body without a comparison: the picker and what to do (or why the
/// comparison asked for cannot be made).
pub fn compare_body(form: &str, note: Option<&str>) -> String {
    match note {
        Some(n) => format!("<h1>Compare</h1>{form}<p class=\"note\">{}</p>", esc(n)),
        None => format!(
            "<h1>Compare</h1>{form}<p class=\"muted\">Pick a baseline and a candidate: a run id (or its first characters), <code>branch:NAME</code> (that branch's newest runs) or <code>latest</code>.</p>"
        ),
    }
}

/// The links above a run's report: compare it with the base branch, the scenario's trends.
pub fn run_links(base: &str, id: &str, scenario: &str) -> String {
    let base = format!("branch:{base}");
    format!(
        "<p class=\"links\"><a href=\"{}\">compare this run with {}</a> · <a href=\"{}\">{} trends</a></p>",
        compare_href(&base, id, scenario),
        esc(&base),
        scenario_href(scenario, None),
        esc(scenario)
    )
}

/// The front page's body.
pub fn index(v: &IndexView) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<h1>Scenarios</h1>\n<p class=\"muted\">Each branch's newest run, compared with <code>branch:{}</code> (the base branch's newest runs before it). {} scenario{} in the store.</p>",
        esc(&v.base),
        v.scenarios.len(),
        if v.scenarios.len() == 1 { "" } else { "s" }
    );
    if v.scenarios.is_empty() && v.without_branch.is_empty() {
        out.push_str("<p class=\"note\">No runs in this store yet: <code>rehearse run SCENARIO</code> stores one.</p>\n");
    }
    if !v.without_branch.is_empty() {
        let names: Vec<String> = v.without_branch.iter().map(|n| esc(n)).collect();
        let _ = writeln!(
            out,
            "<p class=\"note\">Runs that name no branch are not shown ({}): run in a git checkout or give <code>--branch</code>.</p>",
            names.join(", ")
        );
    }
    for s in &v.scenarios {
        let link = scenario_href(&s.name, None);
        let _ = writeln!(
            out,
            "<h2><a href=\"{link}\">{}</a></h2>\n<table class=\"data\"><tr><th>branch</th><th>verdict of its newest run</th><th>run</th><th>commit</th><th>started</th><th class=\"n\">iterations</th><th class=\"n\">errors</th><th class=\"n\">p50</th><th class=\"n\">p99</th><th class=\"n\">runs</th><th></th></tr>",
            esc(&s.name)
        );
        for b in &s.branches {
            let r = &b.latest;
            let compare = match b.verdict {
                VerdictCell::Compared { .. } => format!(
                    "<a href=\"{}\">compare</a>",
                    compare_href(&format!("branch:{}", v.base), &r.id, &s.name)
                ),
                VerdictCell::Alone(_) | VerdictCell::NotCompared(_) => String::new(),
            };
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td class=\"v\">{}</td><td><a href=\"{}\"><code>{}</code></a></td><td><code>{}</code></td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{compare}</td></tr>",
                esc(&b.branch),
                verdict_cell(&b.verdict),
                run_href(&r.id),
                esc(short(&r.id)),
                esc(&commit(&r.commit)),
                when(r.started_ms),
                opt(r.iterations),
                opt(r.errors),
                us(r.p50),
                us(r.p99),
                b.runs
            );
        }
        out.push_str("</table>\n");
        if s.more_branches > 0 {
            let _ = writeln!(
                out,
                "<p class=\"muted\">{} older branch{} on <a href=\"{link}\">the scenario's page</a>.</p>",
                s.more_branches,
                if s.more_branches == 1 { "" } else { "es" }
            );
        }
    }
    out
}

fn verdict_cell(v: &VerdictCell) -> String {
    match v {
        VerdictCell::Compared {
            against,
            conclusion,
            text,
        } => {
            let (word, colour) = match conclusion {
                Conclusion::Passed => ("pass", palette::conclusion(Conclusion::Passed)),
                Conclusion::Inconclusive => (
                    "inconclusive",
                    palette::conclusion(Conclusion::Inconclusive),
                ),
                Conclusion::Failed => ("FAIL", palette::conclusion(Conclusion::Failed)),
            };
            format!(
                "<span class=\"badge\" style=\"background:{}\">{word}</span> {} <span class=\"muted\">vs {}</span>",
                css(colour),
                esc(&cut(text, 160)),
                esc(against)
            )
        }
        VerdictCell::Alone(why) | VerdictCell::NotCompared(why) => {
            format!("<span class=\"muted\">{}</span>", esc(why))
        }
    }
}

/// A scenario page's body.
pub fn scenario(v: &ScenarioView) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "<h1>{}</h1>", esc(&v.name));
    out.push_str(&picker(v));
    let _ = write!(out, "<p class=\"legend\">");
    for (i, b) in v.shown.iter().enumerate() {
        let _ = write!(
            out,
            "<span style=\"background:{}\"></span>{}",
            colour(i),
            esc(b)
        );
    }
    let _ = writeln!(
        out,
        " <span style=\"background:#C62828;width:3px\"></span>change for the worse <span style=\"background:#2E7D32;width:3px\"></span>for the better</p>"
    );
    for n in &v.notes {
        let _ = writeln!(out, "<p class=\"note\">{}</p>", esc(n));
    }
    out.push_str("<h2>Change points</h2>\n");
    if v.changes.is_empty() {
        out.push_str("<p class=\"muted\">None found on the branches shown.</p>\n");
    } else {
        out.push_str("<table class=\"data\"><tr><th>branch</th><th>step</th><th>metric</th><th>change</th><th>95% interval</th><th>levels</th><th>shape</th><th>first run</th><th>bisect</th></tr>\n");
        for (branch, c) in &v.changes {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td style=\"color:{}\">{}</td><td>[{:+.1}%, {:+.1}%]</td><td>{}</td><td>{}</td><td><a href=\"{}\"><code>{}</code></a></td><td><code>{}</code></td></tr>",
                esc(branch),
                esc(&c.step),
                esc(&c.metric),
                if c.worse { "#C62828" } else { "#2E7D32" },
                esc(&c.effect_text()),
                c.interval.0 * 100.0,
                c.interval.1 * 100.0,
                esc(&super::watch::levels(c)),
                match c.creep_runs {
                    Some(n) => format!("creep over {n} runs"),
                    None => "step".into(),
                },
                run_href(&c.run_id),
                esc(short(&c.run_id)),
                esc(&c.range())
            );
        }
        out.push_str("</table>\n");
    }
    let marks = if v.searched {
        format!("Lines mark change points of {}.", v.metric.name())
    } else {
        format!(
            "Change points are searched in p50, p90, p99, mean, error rate and throughput, not in {}.",
            v.metric.name()
        )
    };
    let _ = writeln!(
        out,
        "<h2>Trends: {} per step</h2>\n<p class=\"muted\">Every point is a run: hover for its commit, click for its report. {marks}</p>",
        v.metric.name()
    );
    for t in &v.steps {
        let marks: Vec<&ChangePoint> = v
            .changes
            .iter()
            .map(|(_, c)| c)
            .filter(|c| c.step == t.step && c.metric == v.metric.name())
            .collect();
        let _ = writeln!(
            out,
            "<h3 id=\"step-{}\">{}</h3>",
            slug(&t.step),
            esc(&t.step)
        );
        out.push_str(&trend_svg(t, v.metric, &marks));
    }
    out.push_str("<h2>Recent runs</h2>\n<table class=\"data\"><tr><th>branch</th><th>run</th><th>commit</th><th>started</th><th class=\"n\">iterations</th><th class=\"n\">errors</th><th class=\"n\">p50</th><th class=\"n\">p99</th><th></th></tr>\n");
    for (branch, r) in &v.recent {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td><a href=\"{}\"><code>{}</code></a></td><td><code>{}</code></td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td><a href=\"{}\">compare with {}</a></td></tr>",
            esc(branch),
            run_href(&r.id),
            esc(short(&r.id)),
            esc(&commit(&r.commit)),
            when(r.started_ms),
            opt(r.iterations),
            opt(r.errors),
            us(r.p50),
            us(r.p99),
            compare_href(&format!("branch:{}", v.base), &r.id, &v.name),
            esc(&v.base)
        );
    }
    out.push_str("</table>\n");
    out
}

/// The form choosing the metric, the branches and how many runs a scenario page charts.
fn picker(v: &ScenarioView) -> String {
    let mut out = format!(
        "<form class=\"pick\" method=\"get\" action=\"/scenario/{}\">metric <select name=\"metric\">",
        url_encode(&v.name)
    );
    for (name, m) in SummaryMetric::ALL {
        let _ = write!(
            out,
            "<option value=\"{name}\"{}>{name}</option>",
            if m == v.metric { " selected" } else { "" }
        );
    }
    let _ = write!(
        out,
        "</select> runs <input type=\"number\" name=\"runs\" min=\"2\" max=\"{}\" value=\"{}\" style=\"width:5em\"> branches ",
        v.max_runs, v.runs
    );
    for b in &v.branches {
        let _ = write!(
            out,
            "<label><input type=\"checkbox\" name=\"branch\" value=\"{}\"{}>{}</label> ",
            esc(b),
            if v.shown.contains(b) { " checked" } else { "" },
            esc(b)
        );
    }
    out.push_str("<input type=\"submit\" value=\"show\"></form>\n");
    out
}

/// The comparison picker: any two runs or branches, by id (or prefix) or `branch:NAME`.
pub fn compare_form(
    scenarios: &[String],
    scenario: Option<&str>,
    baseline: &str,
    candidate: &str,
    suggestions: &[String],
) -> String {
    let mut out = String::from(
        "<form class=\"pick\" method=\"get\" action=\"/compare\">scenario <select name=\"scenario\">",
    );
    for s in scenarios {
        let _ = write!(
            out,
            "<option value=\"{}\"{}>{}</option>",
            esc(s),
            if Some(s.as_str()) == scenario {
                " selected"
            } else {
                ""
            },
            esc(s)
        );
    }
    let _ = write!(
        out,
        "</select> baseline <input type=\"text\" name=\"baseline\" list=\"specs\" value=\"{}\" placeholder=\"branch:main or a run id\"> candidate <input type=\"text\" name=\"candidate\" list=\"specs\" value=\"{}\" placeholder=\"a run id or branch:NAME\"><input type=\"submit\" value=\"compare\"><datalist id=\"specs\">",
        esc(baseline),
        esc(candidate)
    );
    for s in suggestions {
        let _ = write!(out, "<option value=\"{}\">", esc(s));
    }
    out.push_str("</datalist></form>\n");
    out
}

/// The link to a run's page (ids come from files people import: encoded, never trusted).
pub fn run_href(id: &str) -> String {
    format!("/run/{}", url_encode(id))
}

/// The link to a scenario's page.
pub fn scenario_href(name: &str, metric: Option<&str>) -> String {
    match metric {
        Some(m) => format!("/scenario/{}?metric={m}", url_encode(name)),
        None => format!("/scenario/{}", url_encode(name)),
    }
}

/// The link to the comparison of two specs of a scenario.
pub fn compare_href(baseline: &str, candidate: &str, scenario: &str) -> String {
    format!(
        "/compare?scenario={}&amp;baseline={}&amp;candidate={}",
        url_encode(scenario),
        url_encode(baseline),
        url_encode(candidate)
    )
}

fn slug(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

fn commit(c: &Option<String>) -> String {
    c.as_deref()
        .map(|c| c.chars().take(12).collect())
        .unwrap_or_else(|| "-".into())
}

fn opt(v: Option<i64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_else(|| "-".into())
}

fn us(v: Option<i64>) -> String {
    v.map(|v| crate::report::console::fmt_us(v.max(0) as u64))
        .unwrap_or_else(|| "-".into())
}

/// A start time as UTC `YYYY-MM-DD HH:MM`.
fn when(ms: i64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms.max(0) as u64);
    let s = humantime::format_rfc3339_seconds(t).to_string();
    s.get(..16).map(|s| s.replace('T', " ")).unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_the_store_are_text_and_links_are_encoded() {
        let v = IndexView {
            store: "sqlite://x".into(),
            base: "main".into(),
            scenarios: vec![ScenarioSummary {
                name: "<script>alert(1)</script> & co".into(),
                branches: vec![BranchLatest {
                    branch: "feat/<b>".into(),
                    runs: 3,
                    latest: RunLine {
                        id: "0190-abc".into(),
                        started_ms: 1_790_000_000_000,
                        commit: None,
                        iterations: Some(10),
                        errors: Some(0),
                        p50: Some(1500),
                        p99: Some(9000),
                    },
                    verdict: VerdictCell::Alone("first run".into()),
                }],
                more_branches: 0,
            }],
            without_branch: vec!["<i>odd</i>".into()],
        };
        let html = page("x", &v.store, &index(&v));
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; co"));
        assert!(html.contains("/scenario/%3Cscript%3Ealert%281%29%3C%2Fscript%3E%20%26%20co"));
        assert!(html.contains("feat/&lt;b&gt;"));
        assert!(html.contains("&lt;i&gt;odd&lt;/i&gt;"));
        assert!(html.contains(META_CSP));
    }

    #[test]
    fn a_report_is_framed_with_the_navigation_at_the_top_of_its_body() {
        let framed = framed(
            "<html><body><main>r</main></body></html>",
            "s",
            "<form></form>",
        );
        let nav = framed.find("nav class=\"dash\"").unwrap();
        assert!(nav < framed.find("<main>").unwrap());
        assert!(framed.find("<form></form>").unwrap() < framed.find("<main>").unwrap());
    }
}
