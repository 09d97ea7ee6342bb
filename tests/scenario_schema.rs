//! schema/scenario.schema.json, the schema editors check scenario files with as they are
//! typed, says what the parser says: every shipped scenario and every complete example in the
//! docs satisfies it; on generated files it accepts exactly what the parser accepts, so an
//! editor neither flags a file `rehearse validate` passes nor passes a misspelt key or a
//! wrong-typed value the parser refuses; it names the same keys as the parser's model
//! (src/scenario/raw.rs); and every key has a description for the editor to show.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use rehearse::scenario::{Overrides, SourceFile, parse};
use serde_json::Value;

const SCHEMA_ID: &str = "https://rehearse.dev/schema/scenario.schema.json";

fn schema_json() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/scenario.schema.json");
    let text = std::fs::read_to_string(&path).unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The schema compiled once, for validating many documents.
struct Checker {
    schemas: boon::Schemas,
    index: boon::SchemaIndex,
}

impl Checker {
    fn new() -> Self {
        let mut schemas = boon::Schemas::new();
        let mut compiler = boon::Compiler::new();
        compiler.add_resource(SCHEMA_ID, schema_json()).unwrap();
        let index = compiler
            .compile(SCHEMA_ID, &mut schemas)
            .unwrap_or_else(|e| panic!("{e:#}"));
        Checker { schemas, index }
    }

    /// The schema's verdict on a TOML text, as an editor would see it (the TOML as JSON).
    fn check(&self, toml_text: &str) -> Result<(), String> {
        let table: toml::Table = toml_text
            .parse()
            .unwrap_or_else(|e| panic!("not TOML: {e}\n{toml_text}"));
        let instance = serde_json::to_value(&table).unwrap();
        self.schemas
            .validate(&instance, self.index)
            .map_err(|e| format!("{e:#}"))
    }
}

/// The parser's verdict, with every environment variable set so none is the reason.
fn parser_accepts(text: &str) -> Result<(), String> {
    let env = |_: &str| Some("http://127.0.0.1:8080".to_string());
    parse(
        &SourceFile::new("generated.toml", text.to_string()),
        &Overrides::default(),
        &env,
    )
    .map(drop)
    .map_err(|e| e.to_string())
}

/// Mix and suite files share the `.toml` extension and folder but have their own formats.
fn is_scenario(table: &toml::Table) -> bool {
    !table.contains_key("mix") && !table.contains_key("suite")
}

#[test]
fn every_shipped_scenario_satisfies_the_schema() {
    let checker = Checker::new();
    // The folder and its subfolders (scenarios/sql/).
    let mut paths = Vec::new();
    let mut folders = vec![common::scenarios()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|x| x == "toml") {
                paths.push(path);
            }
        }
    }
    paths.sort();
    let mut checked = 0;
    let mut failures = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(&path).unwrap();
        if !is_scenario(&text.parse::<toml::Table>().unwrap()) {
            continue;
        }
        checked += 1;
        if let Err(e) = checker.check(&text) {
            failures.push(format!("{}: {e}", path.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    // The folder ships four scenarios: finding fewer means the filter, not the schema, passed.
    assert!(checked >= 4, "only {checked} scenarios found");
}

/// The ```toml blocks of a Markdown text, with the line each starts on.
fn toml_blocks(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (i, line) in text.lines().enumerate() {
        let fence = line.trim_start().starts_with("```");
        match &mut current {
            None if fence && line.trim_start().trim_start_matches('`').trim() == "toml" => {
                current = Some((i + 1, String::new()));
            }
            Some(_) if fence => out.push(current.take().unwrap()),
            Some((_, body)) => {
                body.push_str(line);
                body.push('\n');
            }
            None => {}
        }
    }
    out
}

/// A block that is a whole scenario (a top-level `name` and steps), not a fragment.
fn is_complete_scenario(block: &str) -> bool {
    let lines: Vec<&str> = block.lines().map(str::trim_start).collect();
    let first_table = lines
        .iter()
        .position(|l| l.starts_with('['))
        .unwrap_or(lines.len());
    let named = lines[..first_table]
        .iter()
        .any(|l| l.split('=').next().map(str::trim) == Some("name"));
    let other_format = lines
        .iter()
        .any(|l| l.starts_with("[suite]") || l.starts_with("[mix"));
    named && !other_format && lines.contains(&"[[steps]]")
}

#[test]
fn every_complete_scenario_in_the_docs_satisfies_the_schema() {
    let checker = Checker::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![root.join("README.md")];
    let mut docs: Vec<_> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    let mut checked = 0;
    let mut failures = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (line, block) in toml_blocks(&text) {
            if !is_complete_scenario(&block) {
                continue;
            }
            checked += 1;
            if let Err(e) = checker.check(&block) {
                failures.push(format!("{}:{line}: {e}", file.display()));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    // docs/scenarios.md has the complete example and the redirect example at least.
    assert!(checked >= 2, "only {checked} complete scenarios found");
}

/// Where a generated key goes.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Place {
    Top,
    Target,
    Load,
    /// `[databases.main]`.
    Database,
    Step,
    Http,
    /// `[steps.sql]`.
    Sql,
    /// `[steps.capture]`: the key is the captured variable's name.
    Capture,
    Check,
    Until,
}

/// The load model a `[load]` key belongs to: each model is generated consistently, since
/// mixing them is a rule between keys, not a property of one value.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Model {
    Open,
    Closed,
}

/// What a step does: an HTTP request or SQL statements. Some step keys belong to one kind;
/// in a step of the other kind they are refused, which the schema says with `if`/`then`.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Http,
    Sql,
}

impl Kind {
    fn other(self) -> Kind {
        match self {
            Kind::Http => Kind::Sql,
            Kind::Sql => Kind::Http,
        }
    }
}

/// One optional key: where it goes, values both judge valid, and values both judge invalid
/// (a wrong type, or a shape or bound the schema encodes).
struct Row {
    place: Place,
    key: &'static str,
    /// `[load]` keys: the model they belong to (None: both).
    model: Option<Model>,
    /// Step keys: the kind of step they belong to (None: both, or the place says).
    kind: Option<Kind>,
    valid: &'static [&'static str],
    invalid: &'static [&'static str],
}

/// The kind of step a place's keys need (None: any).
fn place_kind(p: Place) -> Option<Kind> {
    match p {
        Place::Http | Place::Until => Some(Kind::Http),
        Place::Sql => Some(Kind::Sql),
        _ => None,
    }
}

/// The kind of step a row's key needs (None: any).
fn row_kind(r: &Row) -> Option<Kind> {
    r.kind.or(place_kind(r.place))
}

/// Whether a row's key belongs to one kind of step and can be written in the other
/// (`[steps.http]` and `[steps.sql]` keys make the step what it is).
fn misplaceable(r: &Row) -> bool {
    row_kind(r).is_some() && !matches!(r.place, Place::Http | Place::Sql)
}

const REDIRECTS_VALID: &[&str] = &["true", "false", "0", "5", "30"];
const REDIRECTS_INVALID: &[&str] = &["31", "-1", "\"yes\"", "2.5"];

/// The one database generated files declare, and its default URL.
const DATABASE: &str = "main";

const ROWS: &[Row] = &[
    Row {
        place: Place::Target,
        key: "timeout",
        model: None,
        kind: None,
        valid: &["\"5s\"", "\"1m30s\"", "\"250ms\"", "\"1.5s\""],
        invalid: &["5", "true", "\"5\"", "\"0s\"", "\"5 s\""],
    },
    Row {
        place: Place::Target,
        key: "max_body",
        model: None,
        kind: None,
        valid: &[
            "\"1MiB\"",
            "1048576",
            "\"512 KiB\"",
            "\"2MB\"",
            "300",
            "\"1.5KiB\"",
        ],
        invalid: &["0", "-1", "true", "\"1 parsec\"", "1.5", "\"MiB\""],
    },
    Row {
        place: Place::Target,
        key: "http",
        model: None,
        kind: None,
        valid: &["\"1.1\"", "\"2\"", "\"auto\"", "\"AUTO\"", "2", "1.1"],
        invalid: &["\"3\"", "\"h2\"", "1", "true", "\"2.0\""],
    },
    Row {
        place: Place::Target,
        key: "cookies",
        model: None,
        kind: None,
        valid: &["true", "false"],
        invalid: &["\"yes\"", "1"],
    },
    Row {
        place: Place::Target,
        key: "follow_redirects",
        model: None,
        kind: None,
        valid: REDIRECTS_VALID,
        invalid: REDIRECTS_INVALID,
    },
    Row {
        place: Place::Load,
        key: "rate",
        model: Some(Model::Open),
        kind: None,
        valid: &[
            "\"50/s\"",
            "\"3000/m\"",
            "\"1/10s\"",
            "\"0.5/s\"",
            "\"10 / s\"",
        ],
        invalid: &["50", "\"50\"", "\"fast/s\"", "\"0/s\"", "true"],
    },
    Row {
        place: Place::Load,
        key: "arrivals",
        model: Some(Model::Open),
        kind: None,
        valid: &["\"uniform\"", "\"poisson\"", "\"Poisson\""],
        invalid: &["\"exponential\"", "1", "true"],
    },
    Row {
        place: Place::Load,
        key: "model",
        model: Some(Model::Open),
        kind: None,
        valid: &["\"open\"", "\"Open\"", "\" OPEN \""],
        invalid: &["\"opened\"", "1", "\"\""],
    },
    Row {
        place: Place::Load,
        key: "users",
        model: Some(Model::Closed),
        kind: None,
        valid: &["1", "5", "100000"],
        invalid: &["\"5\"", "0", "100001", "1.5"],
    },
    Row {
        place: Place::Load,
        key: "duration",
        model: None,
        kind: None,
        valid: &["\"30s\"", "\"1m30s\"", "\"2m\""],
        invalid: &["30", "\"0s\"", "\"30\""],
    },
    Row {
        place: Place::Load,
        key: "warmup",
        model: None,
        kind: None,
        valid: &["\"0s\"", "\"5s\""],
        invalid: &["5", "\"soon\""],
    },
    // Required: a generated `[databases.main]` has the first valid URL unless one is chosen.
    // (`${ENV}` URLs are left out: the parser here reads every variable as an http:// URL.)
    Row {
        place: Place::Database,
        key: "url",
        model: None,
        kind: None,
        valid: &[
            "\"sqlite:ledger.db\"",
            "\"postgres://app:s%40cret@db.staging:5432/ledger?sslmode=require\"",
            "\"postgresql://db.staging/ledger\"",
            "\"mysql://root@127.0.0.1:3306/test?password=hunter2\"",
            "\"mariadb://[::1]:3306/x\"",
            "\"SQLite:data/ledger.db\"",
        ],
        invalid: &[
            "\"oracle://db.staging/ledger\"",
            "\"ledger.db\"",
            "\"http://db.staging/ledger\"",
            "\" postgres://db.staging/ledger\"",
            "5",
        ],
    },
    Row {
        place: Place::Database,
        key: "pool",
        model: None,
        kind: None,
        valid: &["1", "10", "1000"],
        invalid: &["0", "1001", "-1", "\"10\"", "1.5"],
    },
    // At most 1h, like other timeouts: a range the parser checks, so not tabled.
    Row {
        place: Place::Database,
        key: "statement_timeout",
        model: None,
        kind: None,
        valid: &["\"30s\"", "\"250ms\"", "\"1h\""],
        invalid: &["30", "\"0s\"", "\"soon\"", "true"],
    },
    Row {
        place: Place::Step,
        key: "think",
        model: None,
        kind: None,
        valid: &["\"200ms..600ms\"", "\"1s\"", "\"1s..2s\""],
        invalid: &["1", "\"fast\"", "\"1s..\""],
    },
    Row {
        place: Place::Step,
        key: "timeout",
        model: None,
        kind: None,
        valid: &["\"5s\"", "\"250ms\""],
        invalid: &["5", "\"0ms\"", "false"],
    },
    Row {
        place: Place::Step,
        key: "follow_redirects",
        model: None,
        kind: Some(Kind::Http),
        valid: REDIRECTS_VALID,
        invalid: REDIRECTS_INVALID,
    },
    Row {
        place: Place::Step,
        key: "max_body",
        model: None,
        kind: Some(Kind::Http),
        valid: &["\"64KiB\"", "4096"],
        invalid: &["0", "\"big\""],
    },
    // The database the step names: generated files declare only `main`, and a name that
    // is not declared is a reference the schema cannot follow, so only names no
    // declaration could have are tabled as invalid.
    Row {
        place: Place::Sql,
        key: "database",
        model: None,
        kind: None,
        valid: &["\"main\""],
        invalid: &["\"no such\"", "\"\"", "1"],
    },
    // Required unless `statements` is chosen, which replaces it (and `params`).
    Row {
        place: Place::Sql,
        key: "query",
        model: None,
        kind: None,
        valid: &[
            "\"SELECT 1\"",
            "\"SELECT id FROM invoices WHERE customer = $1\"",
            "'''\nSELECT id\n  FROM invoices\n WHERE customer = ?'''",
            "\"SELECT '{' || name || '}' FROM t\"",
        ],
        invalid: &[
            "\"\"",
            "\"   \"",
            "\"SELECT {{ iteration }}\"",
            "\"SELECT * FROM t WHERE id = {{iteration}}\"",
            "1",
            "[\"SELECT 1\"]",
        ],
    },
    Row {
        place: Place::Sql,
        key: "params",
        model: None,
        kind: None,
        valid: &[
            "[]",
            "[\"{{ iteration }}\", 42, 1.5, true, -3]",
            "[{ int = \"{{ iteration }}\" }, { float = \"1.5\" }, { bool = \"true\" }, { text = \"x\" }]",
            "[\"plain text\", { text = \"{{ uuid }}\" }]",
        ],
        invalid: &[
            "\"{{ iteration }}\"",
            "[[1]]",
            "[{ int = 1 }]",
            "[{ integer = \"1\" }]",
            "[{ int = \"1\", text = \"1\" }]",
            "[{}]",
        ],
    },
    Row {
        place: Place::Sql,
        key: "statements",
        model: None,
        kind: None,
        valid: &[
            "[{ query = \"SELECT 1\" }]",
            "[{ query = \"SELECT 2\", params = [] }]",
        ],
        invalid: &[
            "[]",
            "[{ params = [1] }]",
            "[{ query = \"SELECT {{ iteration }}\" }]",
            "[{ query = \"SELECT 1\", param = [1] }]",
            "[{ query = \"SELECT $1\", params = [[1]] }]",
            "{ query = \"SELECT 1\" }",
        ],
    },
    Row {
        place: Place::Sql,
        key: "transaction",
        model: None,
        kind: None,
        valid: &["true", "false"],
        invalid: &["\"yes\"", "1"],
    },
    Row {
        place: Place::Sql,
        key: "read_only",
        model: None,
        kind: None,
        valid: &["true", "false"],
        invalid: &["\"no\"", "0"],
    },
    Row {
        place: Place::Sql,
        key: "prepare",
        model: None,
        kind: None,
        valid: &["true", "false"],
        invalid: &["\"always\""],
    },
    Row {
        place: Place::Capture,
        key: "got",
        model: None,
        kind: Some(Kind::Http),
        valid: &[
            "{ json = \"$.id\" }",
            "{ header = \"location\" }",
            "{ regex = 'id=(\\w+)' }",
        ],
        invalid: &[
            "{ json = \"$.id\", header = \"location\" }",
            "{}",
            "{ header = 1 }",
            "\"$.id\"",
        ],
    },
    Row {
        place: Place::Capture,
        key: "cell",
        model: None,
        kind: Some(Kind::Sql),
        valid: &[
            "{ column = \"id\" }",
            "{ row = 2, column = \"id\" }",
            "{ column = \"id\", row = 0 }",
            "{ row = 1000000, column = \"id\" }",
            "{ row_count = true }",
        ],
        invalid: &[
            "{ row_count = false }",
            "{ column = \"id\", row_count = true }",
            "{ row = 1, row_count = true }",
            "{ row = -1, column = \"id\" }",
            "{ row = 1000001, column = \"id\" }",
            "{ row = 1 }",
            "{ column = \"\" }",
            "{ column = 1 }",
            "{ column = \"id\", json = \"$.id\" }",
            "{}",
        ],
    },
    Row {
        place: Place::Check,
        key: "status",
        model: None,
        kind: Some(Kind::Http),
        valid: &[
            "200",
            "[200, 201]",
            "\"2xx\"",
            "\"200..299\"",
            "\"200-204\"",
        ],
        invalid: &[
            "true", "\"ok\"", "[]", "99", "\"6xx\"", "2.5", "\"+200\"", "\"0200\"", "\"02xx\"",
        ],
    },
    Row {
        place: Place::Check,
        key: "body_contains",
        model: None,
        kind: Some(Kind::Http),
        valid: &["\"ok\"", "[\"ok\", \"paid\"]"],
        invalid: &["1", "[1]"],
    },
    // `"10..1"` (a range that ends below its start) is refused by the parser only.
    Row {
        place: Place::Check,
        key: "rows",
        model: None,
        kind: Some(Kind::Sql),
        valid: &[
            "1",
            "0",
            "\"1..10\"",
            "\" 3 .. 3 \"",
            "\">= 1\"",
            "\"<=5\"",
            "\"7\"",
            "\"+2\"",
        ],
        invalid: &[
            "-1", "\"-1\"", "\"1..\"", "\"> 1\"", "\"1-10\"", "\"many\"", "true", "1.5", "[1]",
        ],
    },
    Row {
        place: Place::Check,
        key: "columns",
        model: None,
        kind: Some(Kind::Sql),
        valid: &[
            "{ status = \"open\", amount = 12 }",
            "{ paid = true, ratio = 1.5 }",
            "{ customer = \"{{ iteration }}\" }",
        ],
        invalid: &[
            "{ status = [\"open\"] }",
            "{ status = { is = \"open\" } }",
            "\"open\"",
        ],
    },
    Row {
        place: Place::Until,
        key: "json",
        model: None,
        kind: None,
        valid: &["{ \"$.status\" = \"settled\" }"],
        invalid: &["\"settled\"", "[\"settled\"]"],
    },
    // Intervals stay below every timeout: that order is a rule between keys.
    Row {
        place: Place::Until,
        key: "interval",
        model: None,
        kind: None,
        valid: &["\"20ms\"", "\"250ms\""],
        invalid: &["20", "\"0ms\""],
    },
    Row {
        place: Place::Until,
        key: "timeout",
        model: None,
        kind: None,
        valid: &["\"10s\"", "\"30s\""],
        invalid: &["true", "\"0s\""],
    },
];

/// A misspelt key for each place, as an author would type it.
const UNKNOWN: &[(Place, &str)] = &[
    (Place::Top, "descripton"),
    (Place::Target, "base_ulr"),
    (Place::Load, "durration"),
    (Place::Database, "poool"),
    (Place::Step, "thnik"),
    (Place::Http, "methdo"),
    (Place::Sql, "querry"),
    (Place::Check, "stauts"),
    (Place::Until, "intervall"),
];

fn is_step_place(p: Place) -> bool {
    matches!(
        p,
        Place::Step | Place::Http | Place::Sql | Place::Capture | Place::Check | Place::Until
    )
}

fn row(place: Place, key: &str) -> usize {
    ROWS.iter()
        .position(|r| r.place == place && r.key == key)
        .unwrap()
}

/// The one fault a case may carry, so that each rejection has a single cause the schema
/// must see on its own.
#[derive(Clone, Debug)]
enum Fault {
    /// ROWS[row] set to its invalid value `value`, in step `step` (modulo the step count).
    Invalid {
        row: usize,
        value: usize,
        step: usize,
    },
    /// UNKNOWN[place] added, in step `step`.
    Unknown { place: usize, step: usize },
    /// ROWS[row], a key of one kind of step, set to its valid value `value` in step `step`,
    /// made a step of the other kind.
    Misplaced {
        row: usize,
        value: usize,
        step: usize,
    },
}

#[derive(Clone, Debug)]
struct Case {
    model: Option<Model>,
    /// Whether `[target]` is written when every step is a SQL step (which needs none);
    /// it is always written otherwise.
    target: bool,
    /// For each row, the valid value chosen (None: absent): one set for the file's tables,
    /// one per step, with the step's kind.
    file: Vec<Option<usize>>,
    steps: Vec<(Kind, Vec<Option<usize>>)>,
    fault: Option<Fault>,
}

fn choices() -> impl Strategy<Value = Vec<Option<usize>>> {
    ROWS.iter()
        .map(|r| proptest::option::weighted(0.4, 0..r.valid.len()))
        .collect::<Vec<_>>()
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![Just(Kind::Http), Just(Kind::Sql)]
}

fn fault() -> impl Strategy<Value = Fault> {
    let invalid = (0..ROWS.len())
        .prop_flat_map(|row| (Just(row), 0..ROWS[row].invalid.len(), 0..3usize))
        .prop_map(|(row, value, step)| Fault::Invalid { row, value, step });
    let unknown =
        (0..UNKNOWN.len(), 0..3usize).prop_map(|(place, step)| Fault::Unknown { place, step });
    let kinded: Vec<usize> = (0..ROWS.len())
        .filter(|&i| misplaceable(&ROWS[i]))
        .collect();
    let misplaced = proptest::sample::select(kinded)
        .prop_flat_map(|row| (Just(row), 0..ROWS[row].valid.len(), 0..3usize))
        .prop_map(|(row, value, step)| Fault::Misplaced { row, value, step });
    prop_oneof![invalid, unknown, misplaced]
}

fn case() -> impl Strategy<Value = Case> {
    let model = prop_oneof![
        Just(None),
        Just(Some(Model::Open)),
        Just(Some(Model::Closed))
    ];
    (
        model,
        any::<bool>(),
        choices(),
        proptest::collection::vec((kind(), choices()), 1..=3),
        proptest::option::weighted(0.5, fault()),
    )
        .prop_map(|(model, target, file, steps, fault)| Case {
            model,
            target,
            file,
            steps,
            fault,
        })
}

impl Case {
    /// The file's text, and whether it is a valid scenario by construction.
    fn render(&self) -> (String, bool) {
        let mut model = self.model;
        let mut target = self.target;
        let mut file: Vec<Option<&str>> = self.values(&self.file);
        let mut kinds: Vec<Kind> = self.steps.iter().map(|(k, _)| *k).collect();
        let mut steps: Vec<Vec<Option<&str>>> =
            self.steps.iter().map(|(_, s)| self.values(s)).collect();
        let n = steps.len();
        let mut unknown: Option<(Place, &str, usize)> = None;
        let mut misplaced: Option<(&Row, &str, usize)> = None;
        match &self.fault {
            Some(Fault::Invalid { row, value, step }) => {
                let r = &ROWS[*row];
                let literal = Some(r.invalid[*value]);
                if is_step_place(r.place) {
                    let s = step % n;
                    if let Some(k) = row_kind(r) {
                        kinds[s] = k;
                    }
                    steps[s][*row] = literal;
                    // `statements` would replace the faulty query or params.
                    if r.place == Place::Sql && r.key != "statements" {
                        steps[s][self::row(Place::Sql, "statements")] = None;
                    }
                } else {
                    if r.place == Place::Load
                        && model.is_none_or(|m| r.model.is_some_and(|rm| rm != m))
                    {
                        model = Some(r.model.unwrap_or(Model::Open));
                    }
                    target |= r.place == Place::Target;
                    file[*row] = literal;
                }
            }
            Some(Fault::Unknown { place, step }) => {
                let (p, key) = UNKNOWN[*place];
                let s = step % n;
                if let Some(k) = place_kind(p) {
                    kinds[s] = k;
                }
                target |= p == Place::Target;
                unknown = Some((p, key, s));
            }
            Some(Fault::Misplaced { row, value, step }) => {
                let r = &ROWS[*row];
                let s = step % n;
                kinds[s] = row_kind(r).expect("a kinded row").other();
                misplaced = Some((r, r.valid[*value], s));
            }
            None => {}
        }
        let extra = |p: Place, step: Option<usize>| {
            let mut out = String::new();
            if let Some((up, key, us)) = unknown
                && up == p
                && (!is_step_place(p) || step == Some(us))
            {
                out += &format!("{key} = \"1s\"\n");
            }
            if let Some((r, value, ms)) = misplaced
                && r.place == p
                && step == Some(ms)
            {
                out += &format!("{} = {value}\n", r.key);
            }
            out
        };
        let statements = self::row(Place::Sql, "statements");
        let entries = |values: &[Option<&str>], place: Place, kind: Option<Kind>| -> String {
            ROWS.iter()
                .zip(values)
                .filter(|(r, _)| r.place == place)
                .filter(|(r, _)| place != Place::Load || r.model.is_none() || r.model == model)
                .filter(|(r, _)| kind.is_none() || row_kind(r).is_none_or(|k| Some(k) == kind))
                .filter(|(r, _)| {
                    // `statements` replace the query and its params.
                    place != Place::Sql
                        || values[statements].is_none()
                        || !matches!(r.key, "query" | "params")
                })
                .filter_map(|(r, v)| {
                    // A load's model and length are what make it a load at all; a database
                    // needs its URL, a SQL step its statement.
                    let required = match place {
                        Place::Load => r.key != "warmup",
                        Place::Database => r.key == "url",
                        Place::Sql => r.key == "query",
                        _ => false,
                    };
                    v.or(required.then(|| r.valid[0]))
                        .map(|v| format!("{} = {v}\n", r.key))
                })
                .collect()
        };

        let all_sql = kinds.iter().all(|k| *k == Kind::Sql);
        let any_sql = kinds.contains(&Kind::Sql);
        let mut text = String::from("name = \"generated\"\n");
        text += &extra(Place::Top, None);
        if target || !all_sql {
            text += "[target]\nbase_url = \"http://127.0.0.1:8080\"\n";
            text += &entries(&file, Place::Target, None);
            text += &extra(Place::Target, None);
        }
        let load_extra = extra(Place::Load, None);
        if model.is_some() || !load_extra.is_empty() {
            text += "[load]\n";
            if model.is_some() {
                text += &entries(&file, Place::Load, None);
            }
            text += &load_extra;
        }
        let database_chosen = ROWS
            .iter()
            .zip(&file)
            .any(|(r, v)| r.place == Place::Database && v.is_some());
        let database_extra = extra(Place::Database, None);
        if any_sql || database_chosen || !database_extra.is_empty() {
            text += &format!("[databases.{DATABASE}]\n");
            text += &entries(&file, Place::Database, None);
            text += &database_extra;
        }
        let mut valid = self.fault.is_none();
        for (i, (values, kind)) in steps.iter().zip(&kinds).enumerate() {
            text += &format!("[[steps]]\nname = \"s{i}\"\n");
            if *kind == Kind::Http {
                let http_extra = extra(Place::Http, Some(i)).replace('\n', "");
                let http_extra = if http_extra.is_empty() {
                    http_extra
                } else {
                    format!(", {http_extra}")
                };
                text += &format!("http = {{ path = \"/x\"{http_extra} }}\n");
            }
            text += &entries(values, Place::Step, Some(*kind));
            text += &extra(Place::Step, Some(i));
            if *kind == Kind::Sql {
                text += "[steps.sql]\n";
                // A statement binds as many parameters as it has placeholders (a rule across
                // two keys the parser checks and a schema cannot): the query is made to fit.
                let fitted = fit_placeholders(&file, values);
                text += &entries(&fitted, Place::Sql, None);
                text += &extra(Place::Sql, Some(i));
            }
            let tables = [
                ("[steps.capture]", Place::Capture),
                ("[steps.check]", Place::Check),
                ("[steps.until]", Place::Until),
            ];
            for (header, place) in tables {
                let body = entries(values, place, Some(*kind)) + &extra(place, Some(i));
                if !body.is_empty() {
                    text += &format!("{header}\n{body}");
                }
            }
            // Polling needs something to wait for: an `until` without a condition is invalid.
            let until: Vec<&str> = ROWS
                .iter()
                .zip(values)
                .filter(|(r, v)| r.place == Place::Until && v.is_some())
                .map(|(r, _)| r.key)
                .collect();
            if *kind == Kind::Http && !until.is_empty() && !until.contains(&"json") {
                valid = false;
            }
        }
        (text, valid)
    }

    fn values(&self, choices: &[Option<usize>]) -> Vec<Option<&'static str>> {
        ROWS.iter()
            .zip(choices)
            .map(|(r, c)| c.map(|i| r.valid[i]))
            .collect()
    }
}

#[test]
fn the_schema_accepts_exactly_what_the_parser_accepts() {
    let checker = Checker::new();
    let config = Config {
        // Nothing is written beside the tests; a failure prints its minimal case.
        failure_persistence: None,
        ..Config::with_cases(256)
    };
    let mut runner = TestRunner::new(config);
    let result = runner.run(&case(), |case| {
        let (text, valid) = case.render();
        let parser = parser_accepts(&text);
        let schema = checker.check(&text);
        prop_assert_eq!(
            parser.is_ok(),
            valid,
            "the parser's verdict is not the one the case was built for\n{}\n{:?}",
            text,
            parser
        );
        prop_assert_eq!(
            schema.is_ok(),
            valid,
            "the schema disagrees with the parser\n{}\nparser: {:?}\nschema: {:?}",
            text,
            parser,
            schema
        );
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// A random case meets a given invalid value about once in 256 cases, so each value of the
/// table is also tried alone, in a one-step file: every bound and pattern the table exercises
/// is checked on every run, and so is every key of one kind of step in a step of the other.
#[test]
fn the_schema_and_the_parser_judge_every_tabled_value_alike() {
    let checker = Checker::new();
    let json = row(Place::Until, "json");
    let empty = || vec![None; ROWS.len()];
    let mut cases = Vec::new();
    for (row, r) in ROWS.iter().enumerate() {
        // Keys any step may have are tried in both kinds of step.
        let kinds = match row_kind(r) {
            Some(k) => vec![k],
            None if is_step_place(r.place) => vec![Kind::Http, Kind::Sql],
            None => vec![Kind::Http],
        };
        for kind in kinds {
            let mut base = Case {
                model: r.model.or((r.place == Place::Load).then_some(Model::Open)),
                target: true,
                file: empty(),
                steps: vec![(kind, empty())],
                fault: None,
            };
            if r.place == Place::Until {
                base.steps[0].1[json] = Some(0);
            }
            for value in 0..r.valid.len() {
                let mut case = base.clone();
                let slot = if is_step_place(r.place) {
                    &mut case.steps[0].1[row]
                } else {
                    &mut case.file[row]
                };
                *slot = Some(value);
                cases.push(case);
            }
            for value in 0..r.invalid.len() {
                let step = 0;
                let fault = Some(Fault::Invalid { row, value, step });
                cases.push(Case {
                    fault,
                    ..base.clone()
                });
            }
            if misplaceable(r) {
                for value in 0..r.valid.len() {
                    let step = 0;
                    let fault = Some(Fault::Misplaced { row, value, step });
                    cases.push(Case {
                        fault,
                        ..base.clone()
                    });
                }
            }
        }
    }
    for place in 0..UNKNOWN.len() {
        cases.push(Case {
            model: None,
            target: true,
            file: empty(),
            steps: vec![(Kind::Http, empty())],
            fault: Some(Fault::Unknown { place, step: 0 }),
        });
    }
    // A scenario whose steps are all SQL needs no `[target]`.
    cases.push(Case {
        model: None,
        target: false,
        file: empty(),
        steps: vec![(Kind::Sql, empty()), (Kind::Sql, empty())],
        fault: None,
    });
    let mut failures = Vec::new();
    for case in &cases {
        let (text, valid) = case.render();
        let parser = parser_accepts(&text);
        let schema = checker.check(&text);
        if parser.is_ok() != valid || schema.is_ok() != valid {
            failures.push(format!(
                "{text}expected valid: {valid}\nparser: {parser:?}\nschema: {schema:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Rules between keys that the schema encodes, each in a small file both judge: what a step
/// is, which database a SQL step uses, and the forms of `[steps.sql]`.
const RULES: &[(&str, bool, &str)] = &[
    (
        "a step with both http and sql",
        false,
        r#"name = "r"
[target]
base_url = "http://127.0.0.1:8080"
[databases.main]
url = "sqlite:ledger.db"
[[steps]]
name = "both"
http = { path = "/x" }
sql = { query = "SELECT 1" }
"#,
    ),
    (
        "a step with neither http nor sql",
        false,
        r#"name = "r"
[target]
base_url = "http://127.0.0.1:8080"
[[steps]]
name = "nothing"
think = "1s"
"#,
    ),
    (
        "a sql step and no database",
        false,
        r#"name = "r"
[[steps]]
name = "q"
sql = { query = "SELECT 1" }
"#,
    ),
    (
        "a sql step and an empty [databases]",
        false,
        r#"name = "r"
databases = {}
[[steps]]
name = "q"
sql = { query = "SELECT 1" }
"#,
    ),
    (
        "a database and only http steps",
        true,
        r#"name = "r"
[target]
base_url = "http://127.0.0.1:8080"
[databases.main]
url = "sqlite:ledger.db"
[[steps]]
name = "h"
http = { path = "/x" }
"#,
    ),
    (
        "two databases and a sql step that names neither",
        false,
        r#"name = "r"
[databases.ledger]
url = "sqlite:ledger.db"
[databases.orders]
url = "postgres://app@db.staging/orders"
[[steps]]
name = "q"
sql = { query = "SELECT 1" }
"#,
    ),
    (
        "two databases and sql steps that name theirs",
        true,
        r#"name = "r"
[databases.ledger]
url = "sqlite:ledger.db"
[databases.orders]
url = "postgres://app@db.staging/orders"
[[steps]]
name = "a"
sql = { database = "ledger", query = "SELECT 1" }
[[steps]]
name = "b"
sql = { database = "orders", query = "SELECT 1" }
"#,
    ),
    (
        "database names in letters of any script, digits, _ and -",
        true,
        r#"name = "r"
[databases."données_2-eu"]
url = "sqlite:ledger.db"
[[steps]]
name = "q"
sql = { database = "données_2-eu", query = "SELECT 1" }
"#,
    ),
    (
        "a database name with a space",
        false,
        r#"name = "r"
[databases."the ledger"]
url = "sqlite:ledger.db"
[[steps]]
name = "q"
sql = { query = "SELECT 1" }
"#,
    ),
    (
        "a database without a url",
        false,
        r#"name = "r"
[databases.main]
pool = 5
[[steps]]
name = "q"
sql = { query = "SELECT 1" }
"#,
    ),
    (
        "a sql step with neither query nor statements",
        false,
        r#"name = "r"
[databases.main]
url = "sqlite:ledger.db"
[[steps]]
name = "q"
[steps.sql]
read_only = true
"#,
    ),
    (
        "a sql step with both query and statements",
        false,
        r#"name = "r"
[databases.main]
url = "sqlite:ledger.db"
[[steps]]
name = "q"
[steps.sql]
query = "SELECT 1"
statements = [{ query = "SELECT 2" }]
"#,
    ),
    (
        "statements and step-level params",
        false,
        r#"name = "r"
[databases.main]
url = "sqlite:ledger.db"
[[steps]]
name = "q"
[steps.sql]
params = [1]
statements = [{ query = "SELECT $1" }]
"#,
    ),
    (
        "statements and an empty step-level params",
        true,
        r#"name = "r"
[databases.main]
url = "sqlite:ledger.db"
[[steps]]
name = "q"
[steps.sql]
params = []
statements = [{ query = "SELECT 1" }]
"#,
    ),
    (
        "several statements without transaction",
        false,
        r#"name = "r"
[databases.main]
url = "sqlite:ledger.db"
[[steps]]
name = "q"
[[steps.sql.statements]]
query = "UPDATE t SET n = n + 1"
[[steps.sql.statements]]
query = "SELECT n FROM t"
"#,
    ),
    (
        "several statements, each on its own",
        true,
        r#"name = "r"
[databases.main]
url = "sqlite:ledger.db"
[[steps]]
name = "q"
[steps.sql]
transaction = false
read_only = false
[[steps.sql.statements]]
query = "UPDATE t SET n = n + $1"
params = [1]
[[steps.sql.statements]]
query = "SELECT n FROM t"
[steps.capture]
n = { column = "n" }
"#,
    ),
    (
        "a sql-only scenario with [target] (kept for the report)",
        true,
        r#"name = "r"
[target]
base_url = "http://127.0.0.1:8080"
[databases.main]
url = "sqlite:ledger.db"
[[steps]]
name = "q"
sql = { query = "SELECT 1" }
"#,
    ),
    (
        "http and sql steps taking values from each other",
        true,
        r#"name = "r"
[target]
base_url = "http://127.0.0.1:8080"
[databases.main]
url = "sqlite:ledger.db"
pool = 4
statement_timeout = "5s"
[[steps]]
name = "create"
http = { method = "POST", path = "/invoices", json = { amount = 12 } }
capture = { invoice = { json = "$.id" } }
[[steps]]
name = "stored"
timeout = "2s"
think = "100ms"
[steps.sql]
query = "SELECT status, amount FROM invoices WHERE id = $1"
params = [{ int = "{{ invoice }}" }]
[steps.capture]
status = { column = "status" }
count = { row_count = true }
[steps.check]
rows = 1
columns = { status = "open", amount = 12 }
[[steps]]
name = "page"
http = { path = "/invoices/{{ invoice }}?status={{ status }}" }
"#,
    ),
];

#[test]
fn the_schema_and_the_parser_judge_the_rules_between_keys_alike() {
    let checker = Checker::new();
    let mut failures = Vec::new();
    for (what, valid, text) in RULES {
        let parser = parser_accepts(text);
        let schema = checker.check(text);
        if parser.is_ok() != *valid || schema.is_ok() != *valid {
            failures.push(format!(
                "{what}\n{text}expected valid: {valid}\nparser: {parser:?}\nschema: {schema:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Every object under a `properties`, anywhere in the schema, with its JSON pointer.
fn properties<'a>(at: &str, v: &'a Value, out: &mut Vec<(String, &'a Value)>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                let here = format!("{at}/{k}");
                if k == "properties"
                    && let Value::Object(props) = child
                {
                    for (name, p) in props {
                        out.push((format!("{here}/{name}"), p));
                    }
                }
                properties(&here, child, out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                properties(&format!("{at}/{i}"), child, out);
            }
        }
        _ => {}
    }
}

#[test]
fn the_schema_compiles_and_describes_every_key() {
    let schema = schema_json();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert_eq!(schema["$id"], SCHEMA_ID);
    // Compiling checks every keyword, $ref and pattern (as boon's regex engine reads it).
    Checker::new();

    let mut found = Vec::new();
    properties("", &schema, &mut found);
    assert!(found.len() > 50, "only {} properties found", found.len());
    let undescribed: Vec<&str> = found
        .iter()
        .filter(|(_, p)| {
            p["description"]
                .as_str()
                .is_none_or(|d| d.trim().is_empty() || d.contains('\n'))
        })
        .map(|(at, _)| at.as_str())
        .collect();
    assert!(
        undescribed.is_empty(),
        "properties without a one-line description: {undescribed:?}"
    );
}

/// Each struct of the parser's model and where the schema describes it.
const MODEL: &[(&str, &str)] = &[
    ("RawScenario", ""),
    ("RawCompare", "/properties/compare"),
    ("RawTarget", "/properties/target"),
    ("RawLoad", "/properties/load"),
    ("RawStage", "/properties/load/properties/stages/items"),
    ("RawData", "/properties/data"),
    ("RawDatabase", "/$defs/database"),
    ("RawStep", "/$defs/step"),
    ("RawHttp", "/$defs/http"),
    ("RawSql", "/$defs/sql"),
    ("RawStatement", "/$defs/statement"),
    ("RawCapture", "/$defs/capture"),
    ("RawCheck", "/$defs/check"),
    ("RawUntil", "/$defs/until"),
];

/// `values` with the chosen SQL query given as many placeholders as the chosen `params` has
/// entries (a valid query with a wrong count would be a parser-only error).
fn fit_placeholders(
    file: &[Option<&'static str>],
    values: &[Option<&'static str>],
) -> Vec<Option<&'static str>> {
    let mut out = values.to_vec();
    let at = |key| row(Place::Sql, key);
    // PostgreSQL numbers its placeholders; MySQL, MariaDB and SQLite take `?`.
    let url =
        file[row(Place::Database, "url")].unwrap_or(ROWS[row(Place::Database, "url")].valid[0]);
    let postgres = url.to_ascii_lowercase().contains("postgres");
    let (query, params, statements) = (at("query"), at("params"), at("statements"));
    if out[statements].is_some() {
        return out;
    }
    // An unchosen query is the first valid one (a SQL step needs a statement).
    let q = out[query].unwrap_or(ROWS[query].valid[0]);
    let wanted = out[params]
        .and_then(|p| format!("p = {p}").parse::<toml::Table>().ok())
        .and_then(|t| t["p"].as_array().map(|a| a.len()))
        .unwrap_or(0);
    let marks: String = (1..=wanted)
        .map(|n| {
            if postgres {
                format!(", ${n}")
            } else {
                ", ?".to_string()
            }
        })
        .collect();
    if ROWS[query].valid.contains(&q) {
        out[query] = Some(Box::leak(format!("\"SELECT 1{marks}\"").into_boxed_str()));
    }
    out
}

/// The fields of each `pub struct` in raw.rs, read from its source: the keys serde accepts
/// (none is renamed).
fn model_fields() -> Vec<(String, BTreeSet<String>)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/scenario/raw.rs");
    let source = std::fs::read_to_string(path).unwrap();
    assert!(!source.contains("serde(rename"), "raw.rs renames a field");
    // Every struct denies unknown fields, which is why the schema's tables must too.
    assert_eq!(
        source.matches("#[serde(deny_unknown_fields)]").count(),
        source.matches("pub struct ").count(),
        "a struct in raw.rs accepts unknown fields"
    );
    let mut out: Vec<(String, BTreeSet<String>)> = Vec::new();
    for line in source.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("pub struct ") {
            let name = rest.split_whitespace().next().unwrap();
            out.push((name.to_string(), BTreeSet::new()));
        } else if let (Some(rest), Some((_, fields))) = (line.strip_prefix("pub "), out.last_mut())
            && let Some((field, _)) = rest.split_once(':')
        {
            fields.insert(field.trim().to_string());
        }
    }
    out
}

#[test]
fn the_schema_names_the_keys_of_the_parsers_model() {
    let schema = schema_json();
    let structs = model_fields();
    let mapped: BTreeSet<&str> = MODEL.iter().map(|(s, _)| *s).collect();
    let unmapped: Vec<&str> = structs
        .iter()
        .map(|(s, _)| s.as_str())
        .filter(|s| !mapped.contains(s))
        .collect();
    assert!(
        unmapped.is_empty(),
        "raw.rs structs the schema does not describe: {unmapped:?}"
    );
    for (name, pointer) in MODEL {
        let fields = &structs
            .iter()
            .find(|(s, _)| s == name)
            .unwrap_or_else(|| panic!("{name} is not in raw.rs"))
            .1;
        let table = schema.pointer(pointer).unwrap();
        let keys: BTreeSet<String> = table["properties"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        assert_eq!(&keys, fields, "{name} (schema {pointer:?})");
        assert_eq!(table["additionalProperties"], false, "{name}");
    }
}
