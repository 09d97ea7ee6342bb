//! A store for the dashboard's tests and a running `rehearse serve` over it. The runs are
//! drawn from the seeded generator: main has 30 runs with pay 50% slower from run 20 (commit
//! `main-20`), so a change point is certain; a feature branch has 3 runs; one scenario has a
//! hostile name.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

use super::simulated::{independent_runs, write_runs};

/// A running dashboard; stopped when dropped.
pub struct Served {
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub url: String,
    /// `127.0.0.1:PORT`.
    pub host: String,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The store the dashboard tests look at, filled; returns its URL.
pub fn fill(dir: &std::path::Path) -> String {
    let store = format!("sqlite://{}", dir.join("store.db").display());
    let (history, after) = independent_runs(11, 20, 13, &[("pay", 0.5)]);
    let mut runs = history;
    for (i, mut r) in after.into_iter().enumerate() {
        if i < 10 {
            let git = r.git.as_mut().unwrap();
            git.branch = Some("main".into());
            git.commit = Some(format!("main-{}", 20 + i));
        }
        runs.push(r);
    }
    let mut odd = runs[0].clone();
    odd.run_id = uuid::Uuid::now_v7().to_string();
    odd.scenario = "<script>alert(1)</script>".into();
    runs.push(odd);
    let files = write_runs(dir, "run", &runs);
    let o = super::rehearse()
        .args(["runs", "import", "--store", &store])
        .args(&files)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    store
}

/// `rehearse serve` on a free port over a freshly filled store.
pub fn serve() -> Served {
    let dir = tempfile::tempdir().unwrap();
    let store = fill(dir.path());
    let mut child = Command::new(assert_cmd::cargo::cargo_bin!("rehearse"))
        .args(["serve", "--port", "0", "--store", &store])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let url = first.trim().trim_end_matches('/').to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{first}");
    let host = url.trim_start_matches("http://").to_string();
    Served {
        url,
        host,
        child,
        _dir: dir,
    }
}

/// A response.
pub struct Got {
    /// Its status code.
    pub status: u16,
    /// Its status line and headers.
    pub head: String,
    /// Its body.
    pub body: String,
}

/// The first link in `html` starting with `prefix`, as a browser would follow it.
pub fn link(html: &str, prefix: &str) -> String {
    let at = html
        .find(&format!("href=\"{prefix}"))
        .unwrap_or_else(|| panic!("no link to {prefix} in {html}"));
    let rest = &html[at + 6..];
    rest[..rest.find('"').unwrap()].replace("&amp;", "&")
}

impl Served {
    /// `METHOD path` with the given Host header (and any extra header lines).
    pub fn request(&self, method: &str, path: &str, host: &str) -> Got {
        self.request_with(method, path, host, "")
    }

    /// `METHOD path` with the given Host header and extra header lines (`Name: value\r\n`).
    pub fn request_with(&self, method: &str, path: &str, host: &str, extra: &str) -> Got {
        let mut s = TcpStream::connect(&self.host).unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(60)))
            .unwrap();
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: {host}\r\n{extra}Connection: close\r\nContent-Length: 0\r\n\r\n"
        )
        .unwrap();
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).unwrap();
        let text = String::from_utf8_lossy(&raw).to_string();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        Got {
            status,
            head: head.to_string(),
            body: body.to_string(),
        }
    }

    /// `GET path` as a browser on this machine asks.
    pub fn get(&self, path: &str) -> Got {
        self.request("GET", path, &self.host.clone())
    }
}
