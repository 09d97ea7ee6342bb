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
    let mut paths: Vec<_> = std::fs::read_dir(common::scenarios())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
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
    // The folder ships three scenarios: finding fewer means the filter, not the schema, passed.
    assert!(checked >= 3, "only {checked} scenarios found");
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
    Step,
    Http,
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

/// One optional key: where it goes, values both judge valid, and values both judge invalid
/// (a wrong type, or a shape or bound the schema encodes).
struct Row {
    place: Place,
    key: &'static str,
    /// `[load]` keys: the model they belong to (None: both).
    model: Option<Model>,
    valid: &'static [&'static str],
    invalid: &'static [&'static str],
}

const REDIRECTS_VALID: &[&str] = &["true", "false", "0", "5", "30"];
const REDIRECTS_INVALID: &[&str] = &["31", "-1", "\"yes\"", "2.5"];

const ROWS: &[Row] = &[
    Row {
        place: Place::Target,
        key: "timeout",
        model: None,
        valid: &["\"5s\"", "\"1m30s\"", "\"250ms\"", "\"1.5s\""],
        invalid: &["5", "true", "\"5\"", "\"0s\"", "\"5 s\""],
    },
    Row {
        place: Place::Target,
        key: "max_body",
        model: None,
        valid: &["\"1MiB\"", "1048576", "\"512 KiB\"", "\"2MB\"", "300"],
        invalid: &["0", "-1", "true", "\"1 parsec\"", "1.5", "\"MiB\""],
    },
    Row {
        place: Place::Target,
        key: "cookies",
        model: None,
        valid: &["true", "false"],
        invalid: &["\"yes\"", "1"],
    },
    Row {
        place: Place::Target,
        key: "follow_redirects",
        model: None,
        valid: REDIRECTS_VALID,
        invalid: REDIRECTS_INVALID,
    },
    Row {
        place: Place::Load,
        key: "rate",
        model: Some(Model::Open),
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
        key: "users",
        model: Some(Model::Closed),
        valid: &["1", "5", "100000"],
        invalid: &["\"5\"", "0", "100001", "1.5"],
    },
    Row {
        place: Place::Load,
        key: "duration",
        model: None,
        valid: &["\"30s\"", "\"1m30s\"", "\"2m\""],
        invalid: &["30", "\"0s\"", "\"30\""],
    },
    Row {
        place: Place::Load,
        key: "warmup",
        model: None,
        valid: &["\"0s\"", "\"5s\""],
        invalid: &["5", "\"soon\""],
    },
    Row {
        place: Place::Step,
        key: "think",
        model: None,
        valid: &["\"200ms..600ms\"", "\"1s\"", "\"1s..2s\""],
        invalid: &["1", "\"fast\"", "\"1s..\""],
    },
    Row {
        place: Place::Step,
        key: "timeout",
        model: None,
        valid: &["\"5s\"", "\"250ms\""],
        invalid: &["5", "\"0ms\"", "false"],
    },
    Row {
        place: Place::Step,
        key: "follow_redirects",
        model: None,
        valid: REDIRECTS_VALID,
        invalid: REDIRECTS_INVALID,
    },
    Row {
        place: Place::Check,
        key: "status",
        model: None,
        valid: &[
            "200",
            "[200, 201]",
            "\"2xx\"",
            "\"200..299\"",
            "\"200-204\"",
        ],
        invalid: &["true", "\"ok\"", "[]", "99", "\"6xx\"", "2.5"],
    },
    Row {
        place: Place::Until,
        key: "json",
        model: None,
        valid: &["{ \"$.status\" = \"settled\" }"],
        invalid: &["\"settled\"", "[\"settled\"]"],
    },
    // Intervals stay below every timeout: that order is a rule between keys.
    Row {
        place: Place::Until,
        key: "interval",
        model: None,
        valid: &["\"20ms\"", "\"250ms\""],
        invalid: &["20", "\"0ms\""],
    },
    Row {
        place: Place::Until,
        key: "timeout",
        model: None,
        valid: &["\"10s\"", "\"30s\""],
        invalid: &["true", "\"0s\""],
    },
];

/// A misspelt key for each place, as an author would type it.
const UNKNOWN: &[(Place, &str)] = &[
    (Place::Top, "descripton"),
    (Place::Target, "base_ulr"),
    (Place::Load, "durration"),
    (Place::Step, "thnik"),
    (Place::Http, "methdo"),
    (Place::Check, "stauts"),
    (Place::Until, "intervall"),
];

fn is_step_place(p: Place) -> bool {
    matches!(p, Place::Step | Place::Http | Place::Check | Place::Until)
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
}

#[derive(Clone, Debug)]
struct Case {
    model: Option<Model>,
    /// For each row, the valid value chosen (None: absent): one set for the file's tables,
    /// one per step.
    file: Vec<Option<usize>>,
    steps: Vec<Vec<Option<usize>>>,
    fault: Option<Fault>,
}

fn choices() -> impl Strategy<Value = Vec<Option<usize>>> {
    ROWS.iter()
        .map(|r| proptest::option::weighted(0.4, 0..r.valid.len()))
        .collect::<Vec<_>>()
}

fn fault() -> impl Strategy<Value = Fault> {
    let invalid = (0..ROWS.len())
        .prop_flat_map(|row| (Just(row), 0..ROWS[row].invalid.len(), 0..3usize))
        .prop_map(|(row, value, step)| Fault::Invalid { row, value, step });
    let unknown =
        (0..UNKNOWN.len(), 0..3usize).prop_map(|(place, step)| Fault::Unknown { place, step });
    prop_oneof![invalid, unknown]
}

fn case() -> impl Strategy<Value = Case> {
    let model = prop_oneof![
        Just(None),
        Just(Some(Model::Open)),
        Just(Some(Model::Closed))
    ];
    (
        model,
        choices(),
        proptest::collection::vec(choices(), 1..=3),
        proptest::option::weighted(0.5, fault()),
    )
        .prop_map(|(model, file, steps, fault)| Case {
            model,
            file,
            steps,
            fault,
        })
}

impl Case {
    /// The file's text, and whether it is a valid scenario by construction.
    fn render(&self) -> (String, bool) {
        let mut model = self.model;
        let mut file: Vec<Option<&str>> = self.values(&self.file);
        let mut steps: Vec<Vec<Option<&str>>> = self.steps.iter().map(|s| self.values(s)).collect();
        let mut unknown: Option<(Place, &str, usize)> = None;
        match &self.fault {
            Some(Fault::Invalid { row, value, step }) => {
                let r = &ROWS[*row];
                let literal = Some(r.invalid[*value]);
                if is_step_place(r.place) {
                    let n = steps.len();
                    steps[step % n][*row] = literal;
                } else {
                    if r.place == Place::Load
                        && model.is_none_or(|m| r.model.is_some_and(|rm| rm != m))
                    {
                        model = Some(r.model.unwrap_or(Model::Open));
                    }
                    file[*row] = literal;
                }
            }
            Some(Fault::Unknown { place, step }) => {
                let (p, key) = UNKNOWN[*place];
                unknown = Some((p, key, step % steps.len()));
            }
            None => {}
        }
        let extra = |p: Place, step: Option<usize>| match unknown {
            Some((up, key, us)) if up == p && (!is_step_place(p) || step == Some(us)) => {
                format!("{key} = \"1s\"\n")
            }
            _ => String::new(),
        };
        let entries = |values: &[Option<&str>], place: Place| -> String {
            ROWS.iter()
                .zip(values)
                .filter(|(r, _)| r.place == place)
                .filter(|(r, _)| place != Place::Load || r.model.is_none() || r.model == model)
                .filter_map(|(r, v)| {
                    // A load's model and length are what make it a load at all.
                    let required = place == Place::Load && r.key != "warmup";
                    v.or(required.then(|| r.valid[0]))
                        .map(|v| format!("{} = {v}\n", r.key))
                })
                .collect()
        };

        let mut text = String::from("name = \"generated\"\n");
        text += &extra(Place::Top, None);
        text += "[target]\nbase_url = \"http://127.0.0.1:8080\"\n";
        text += &entries(&file, Place::Target);
        text += &extra(Place::Target, None);
        let load_extra = extra(Place::Load, None);
        if model.is_some() || !load_extra.is_empty() {
            text += "[load]\n";
            if model.is_some() {
                text += &entries(&file, Place::Load);
            }
            text += &load_extra;
        }
        let mut valid = self.fault.is_none();
        for (i, values) in steps.iter().enumerate() {
            let http_extra = extra(Place::Http, Some(i)).replace('\n', "");
            let http_extra = if http_extra.is_empty() {
                http_extra
            } else {
                format!(", {http_extra}")
            };
            text +=
                &format!("[[steps]]\nname = \"s{i}\"\nhttp = {{ path = \"/x\"{http_extra} }}\n");
            text += &entries(values, Place::Step);
            text += &extra(Place::Step, Some(i));
            for (header, place) in [
                ("[steps.check]", Place::Check),
                ("[steps.until]", Place::Until),
            ] {
                let body = entries(values, place) + &extra(place, Some(i));
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
            if !until.is_empty() && !until.contains(&"json") {
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
/// is checked on every run.
#[test]
fn the_schema_and_the_parser_judge_every_tabled_value_alike() {
    let checker = Checker::new();
    let json = ROWS.iter().position(|r| r.key == "json").unwrap();
    let mut cases = Vec::new();
    for (row, r) in ROWS.iter().enumerate() {
        let mut base = Case {
            model: r.model.or((r.place == Place::Load).then_some(Model::Open)),
            file: vec![None; ROWS.len()],
            steps: vec![vec![None; ROWS.len()]],
            fault: None,
        };
        if r.place == Place::Until {
            base.steps[0][json] = Some(0);
        }
        for value in 0..r.valid.len() {
            let mut case = base.clone();
            let slot = if is_step_place(r.place) {
                &mut case.steps[0][row]
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
    }
    for place in 0..UNKNOWN.len() {
        cases.push(Case {
            model: None,
            file: vec![None; ROWS.len()],
            steps: vec![vec![None; ROWS.len()]],
            fault: Some(Fault::Unknown { place, step: 0 }),
        });
    }
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
    ("RawStep", "/$defs/step"),
    ("RawHttp", "/$defs/http"),
    ("RawCapture", "/$defs/capture"),
    ("RawCheck", "/$defs/check"),
    ("RawUntil", "/$defs/until"),
];

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
