//! Every TOML example in the README and docs/ validates as written. A complete scenario is
//! validated as it stands (beside a copy of the shipped data file it names); a fragment (a
//! `[thresholds]` or `[compare]` table, a top-level key) is validated inside a minimal
//! scenario whose own tables it replaces.

mod common;

use common::*;

/// The ```toml blocks of a Markdown file, with the line each starts on.
fn toml_blocks(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (i, line) in text.lines().enumerate() {
        match (&mut current, line.trim_start().starts_with("```")) {
            (None, true) if line.trim_start().trim_start_matches('`').trim() == "toml" => {
                current = Some((i + 1, String::new()));
            }
            (Some(_), true) => out.push(current.take().unwrap()),
            (Some((_, body)), false) => {
                body.push_str(line);
                body.push('\n');
            }
            _ => {}
        }
    }
    out
}

/// The minimal scenario fragments are completed with: top-level keys, then tables by header.
const BASE_KEYS: &[(&str, &str)] = &[("name", "name = \"docs-fragment\"\n")];
const BASE_TABLES: &[(&str, &str)] = &[
    (
        "[target]",
        "[target]\nbase_url = \"http://127.0.0.1:8080\"\n",
    ),
    ("[load]", "[load]\nrate = \"5/s\"\nduration = \"10s\"\n"),
    (
        "[[steps]]",
        "[[steps]]\nname = \"login\"\nhttp = { path = \"/api/login\" }\n[[steps]]\nname = \"pay\"\nhttp = { path = \"/api/pay\" }\n",
    ),
];

/// Completes a fragment: its top-level keys first, the base's missing keys and tables, then
/// the fragment's tables (a table the fragment has replaces the base's).
fn complete(fragment: &str) -> String {
    let first_table = fragment
        .lines()
        .position(|l| l.trim_start().starts_with('['))
        .unwrap_or(fragment.lines().count());
    let lines: Vec<&str> = fragment.lines().collect();
    let (keys, tables) = lines.split_at(first_table);
    let has_key = |k: &str| {
        keys.iter()
            .any(|l| l.trim_start().split('=').next().map(str::trim) == Some(k))
    };
    let has_table = |h: &str| tables.iter().any(|l| l.trim_start().starts_with(h));
    let mut out = String::new();
    for l in keys {
        out.push_str(l);
        out.push('\n');
    }
    for (k, text) in BASE_KEYS {
        if !has_key(k) {
            out.push_str(text);
        }
    }
    for (h, text) in BASE_TABLES {
        if !has_table(h) {
            out.push_str(text);
        }
    }
    for l in tables {
        out.push_str(l);
        out.push('\n');
    }
    out
}

#[test]
fn every_toml_example_in_the_docs_validates() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    std::fs::copy(
        scenarios().join("data/customers.csv"),
        dir.path().join("data/customers.csv"),
    )
    .unwrap();
    let mut docs: Vec<std::path::PathBuf> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    docs.push(root.join("README.md"));
    docs.sort();
    let mut checked = 0;
    for doc in docs {
        let text = std::fs::read_to_string(&doc).unwrap();
        for (line, block) in toml_blocks(&text) {
            if block.lines().any(|l| l.trim() == "[suite]") {
                beside_the_shipped_scenarios(&doc, line, &block, "rehearse.toml", "ok: suite");
                checked += 1;
                continue;
            }
            if block.lines().any(|l| l.trim() == "[mix]") {
                beside_the_shipped_scenarios(&doc, line, &block, "mix.toml", "ok: mix");
                checked += 1;
                continue;
            }
            let whole =
                block.lines().any(|l| l.starts_with("name =")) && block.contains("[[steps]]");
            let scenario = if whole {
                block.clone()
            } else {
                complete(&block)
            };
            let name = doc.file_name().unwrap().to_string_lossy().to_string();
            let path = write(dir.path(), &format!("{name}-{line}.toml"), &scenario);
            let out = rehearse()
                .env("STAGING_URL", "http://127.0.0.1:8080")
                .arg("validate")
                .arg(&path)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}:{line}: the example does not validate:\n{}\n{}",
                doc.display(),
                String::from_utf8_lossy(&out.stderr),
                scenario
            );
            checked += 1;
        }
    }
    assert!(checked >= 5, "found only {checked} TOML examples");
}

/// A suite or mix file example is validated as `file` beside a copy of the shipped
/// scenarios; `validate` must say `ok`.
fn beside_the_shipped_scenarios(
    doc: &std::path::Path,
    line: usize,
    block: &str,
    file: &str,
    ok: &str,
) {
    let dir = tempfile::tempdir().unwrap();
    let from = scenarios();
    for f in [
        "pay-invoice.toml",
        "browse-invoices.toml",
        "signup-add-card.toml",
        "data/customers.csv",
    ] {
        let dest = dir.path().join(f);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(from.join(f), dest).unwrap();
    }
    let path = write(dir.path(), file, block);
    let out = rehearse()
        .env("STAGING_URL", "http://127.0.0.1:8080")
        .env_remove("REHEARSE_STORE")
        .arg("validate")
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}:{line}: the {file} example does not validate:\n{}\n{block}",
        doc.display(),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(ok),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn fragments_are_completed_without_duplicating_tables() {
    let done = complete("name = \"x\"\npublic_env = [\"A\"]\n[load]\nusers = 2\n");
    assert!(
        done.starts_with("name = \"x\"\npublic_env = [\"A\"]\n"),
        "{done}"
    );
    assert_eq!(done.matches("[load]").count(), 1, "{done}");
    assert!(
        done.contains("[target]") && done.contains("[[steps]]"),
        "{done}"
    );
}
