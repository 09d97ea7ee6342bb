//! The dashboard's addresses: a path and query string as a [`Page`], checked and bounded
//! before anything is read (a page never names a file, never asks for unbounded work).

use crate::app::select::Spec;
use crate::model::SummaryMetric;
use crate::scenario::template::{decode_form, percent_decode};

/// Runs per branch a scenario page charts unless asked.
pub(super) const CHART_RUNS: i64 = 60;
/// The most runs per branch a scenario page charts.
pub(super) const MAX_CHART_RUNS: i64 = 500;
/// The most branches a scenario page charts at once.
pub(super) const MAX_BRANCHES: usize = 6;

/// A page of the dashboard, as its address names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Page {
    /// `/`: every scenario with each branch's latest verdict.
    Index,
    /// `/scenario/NAME?metric=p50&runs=60&branch=main&branch=…`: trends with change points.
    Scenario {
        /// The scenario.
        name: String,
        /// The metric charted.
        metric: SummaryMetric,
        /// Runs per branch.
        runs: i64,
        /// Branches charted (none: the base branch and the most recent others).
        branches: Vec<String>,
    },
    /// `/run/ID`: the run's report.
    Run {
        /// Run id or unique prefix.
        id: String,
    },
    /// `/compare?scenario=…&baseline=…&candidate=…`: any two runs or branches.
    Compare {
        /// The scenario, when the specs do not say.
        scenario: Option<String>,
        /// `branch:NAME`, `latest` or a run id.
        baseline: String,
        /// The same.
        candidate: String,
    },
}

/// Why a page could not be shown.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// Nothing is at that address.
    #[error("{0}")]
    NotFound(String),
    /// The address asks for something that cannot be.
    #[error("{0}")]
    BadRequest(String),
    /// The store failed to answer.
    #[error("{0}")]
    Failed(String),
    /// Something that should not happen (a stored run that cannot be read or shown).
    #[error("{0}")]
    Internal(String),
    /// The address asks for something that cannot be, answered with a page of its own (the
    /// comparison picker with why).
    #[error("{reason}")]
    Refused {
        /// Why.
        reason: String,
        /// The page to show.
        html: String,
    },
}

impl From<crate::store::StoreError> for PageError {
    fn from(e: crate::store::StoreError) -> Self {
        match e {
            crate::store::StoreError::NotFound(_) | crate::store::StoreError::Ambiguous { .. } => {
                PageError::NotFound(e.to_string())
            }
            crate::store::StoreError::Corrupt { .. } => PageError::Internal(e.to_string()),
            e => PageError::Failed(e.to_string()),
        }
    }
}

impl Page {
    /// The page at a path and query string (without the `?`).
    pub fn parse(path: &str, query: &str) -> Result<Page, PageError> {
        let params = decode_form(query);
        // A NUL cannot be in a name the store holds, and PostgreSQL refuses it outright.
        if path.contains("%00")
            || params
                .iter()
                .any(|(k, v)| k.contains('\0') || v.contains('\0'))
        {
            return Err(PageError::BadRequest(
                "a NUL character names nothing".into(),
            ));
        }
        let one = |k: &str| {
            params
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        match path {
            "/" | "/index.html" => Ok(Page::Index),
            "/compare" => Ok(Page::Compare {
                scenario: one("scenario"),
                baseline: one("baseline").unwrap_or_default(),
                candidate: one("candidate").unwrap_or_default(),
            }),
            _ => {
                if let Some(name) = path.strip_prefix("/scenario/") {
                    let name = percent_decode(name);
                    let metric = match one("metric") {
                        None => SummaryMetric::P50,
                        Some(m) => SummaryMetric::from_name(&m).ok_or_else(|| {
                            PageError::BadRequest(format!("unknown metric `{m}`"))
                        })?,
                    };
                    let runs = match one("runs") {
                        None => CHART_RUNS,
                        Some(n) => n
                            .parse::<i64>()
                            .ok()
                            .filter(|n| (2..=MAX_CHART_RUNS).contains(n))
                            .ok_or_else(|| {
                                PageError::BadRequest(format!(
                                    "runs must be a number from 2 to {MAX_CHART_RUNS}, not `{n}`"
                                ))
                            })?,
                    };
                    let mut branches: Vec<String> = Vec::new();
                    for (_, v) in params
                        .iter()
                        .filter(|(n, v)| n == "branch" && !v.is_empty())
                    {
                        if !branches.contains(v) {
                            branches.push(v.clone());
                        }
                    }
                    // Each branch is a query and a change-point search: a page charts a few.
                    if branches.len() > MAX_BRANCHES {
                        return Err(PageError::BadRequest(format!(
                            "a page charts at most {MAX_BRANCHES} branches, not {}",
                            branches.len()
                        )));
                    }
                    return Ok(Page::Scenario {
                        name,
                        metric,
                        runs,
                        branches,
                    });
                }
                if let Some(id) = path.strip_prefix("/run/") {
                    return Ok(Page::Run {
                        id: percent_decode(id),
                    });
                }
                Err(PageError::NotFound(format!("no page at `{path}`")))
            }
        }
    }
}

/// A spec typed into the page: a branch, `latest` or a run id. Never a file: a page must not
/// make the server read a path it names.
pub(super) fn spec(text: &str) -> Result<Spec, PageError> {
    if let Some(b) = text.strip_prefix("branch:")
        && !b.is_empty()
    {
        return Ok(Spec::Branch(b.to_string()));
    }
    if text == "latest" {
        return Ok(Spec::Latest);
    }
    if !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Ok(Spec::Id(text.to_string()));
    }
    Err(PageError::BadRequest(format!(
        "`{text}` names no run: give a run id (or its first characters), branch:NAME or latest"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_name_pages() {
        assert_eq!(Page::parse("/", "").unwrap(), Page::Index);
        assert_eq!(
            Page::parse(
                "/scenario/pay%20invoice",
                "metric=p99&runs=30&branch=main&branch=feat%2Fx"
            )
            .unwrap(),
            Page::Scenario {
                name: "pay invoice".into(),
                metric: SummaryMetric::P99,
                runs: 30,
                branches: vec!["main".into(), "feat/x".into()],
            }
        );
        assert_eq!(
            Page::parse("/compare", "baseline=branch%3Amain&candidate=0190+").unwrap(),
            Page::Compare {
                scenario: None,
                baseline: "branch:main".into(),
                candidate: "0190".into(),
            }
        );
        assert!(matches!(
            Page::parse("/etc/passwd", ""),
            Err(PageError::NotFound(_))
        ));
        assert!(matches!(
            Page::parse("/scenario/x", "metric=p42"),
            Err(PageError::BadRequest(_))
        ));
        assert!(matches!(
            Page::parse("/scenario/x", "runs=100000"),
            Err(PageError::BadRequest(_))
        ));
        let many: Vec<String> = (0..7).map(|i| format!("branch=b{i}")).collect();
        assert!(matches!(
            Page::parse("/scenario/x", &many.join("&")),
            Err(PageError::BadRequest(_))
        ));
        let same = vec!["branch=main"; 1000].join("&");
        assert!(
            matches!(Page::parse("/scenario/x", &same), Ok(Page::Scenario { branches, .. }) if branches == ["main"])
        );
        assert!(matches!(
            Page::parse("/run/a%00b", ""),
            Err(PageError::BadRequest(_))
        ));
        assert_eq!(percent_decode("%+1%zz%4"), "%+1%zz%4");
    }

    #[test]
    fn a_page_never_names_a_file() {
        assert_eq!(spec("branch:main").unwrap(), Spec::Branch("main".into()));
        assert_eq!(spec("0190ab-cd").unwrap(), Spec::Id("0190ab-cd".into()));
        for bad in [
            "/etc/passwd",
            "../results.json",
            "results.json",
            "branch:",
            "",
        ] {
            assert!(spec(bad).is_err(), "{bad}");
        }
    }
}
