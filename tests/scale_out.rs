//! The scale-out deployment works as written: the Kubernetes Indexed Job's fields that keep a
//! sharded run honest, its container arguments run as N local processes the way the pods
//! would run them, the Dockerfile's shape, and docs/scale-out.md's GitHub Actions matrix run
//! job by job (shards at once, then the merge). The only changes made to the commands: the
//! sandbox for staging, a short load, local paths for the pod's mounts.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use common::stores::stores;
use common::{fast_sandbox, results};
use yaml_rust2::{Yaml, YamlLoader};

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The arguments with a short load against `target`: the values of `--rate`, `--duration`,
/// `--target` and `--allow-host` replaced, no warm-up, results under `out`.
fn short(args: &[String], target: &str, out: &Path) -> Vec<String> {
    let host = target
        .trim_start_matches("http://")
        .split(':')
        .next()
        .unwrap()
        .to_string();
    let mut out_args = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let value = match a.as_str() {
            "--rate" => Some("30/s".to_string()),
            "--duration" => Some("2s".to_string()),
            "--target" => Some(target.to_string()),
            "--allow-host" => Some(host.clone()),
            "--out" => Some(out.display().to_string()),
            _ => None,
        };
        out_args.push(a.clone());
        if let Some(v) = value {
            it.next();
            out_args.push(v);
        }
    }
    out_args.extend(["--warmup".into(), "0s".into()]);
    out_args
}

fn spawn(args: &[String], env: &[(&str, String)], dir: &Path) -> Child {
    let mut c = Command::new(env!("CARGO_BIN_EXE_rehearse"));
    c.args(args)
        .current_dir(dir)
        .env_remove("JOB_COMPLETION_INDEX")
        .env_remove("REHEARSE_GROUP")
        .env_remove("GITHUB_RUN_ID")
        .env_remove("GITHUB_RUN_ATTEMPT")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        c.env(k, v);
    }
    c.spawn().unwrap()
}

fn str_at<'a>(y: &'a Yaml, path: &[&str]) -> &'a str {
    let mut at = y;
    for key in path {
        at = &at[*key];
    }
    at.as_str()
        .unwrap_or_else(|| panic!("{path:?} is not a string: {at:?}"))
}

fn int_at(y: &Yaml, path: &[&str]) -> i64 {
    let mut at = y;
    for key in path {
        at = &at[*key];
    }
    at.as_i64()
        .unwrap_or_else(|| panic!("{path:?} is not an integer: {at:?}"))
}

#[test]
fn the_kubernetes_indexed_job_runs_as_its_pods_would() {
    let manifest = std::fs::read_to_string(repo("deploy/kubernetes/job.yaml")).unwrap();
    let docs = YamlLoader::load_from_str(&manifest).unwrap();
    let job = &docs[0];
    assert_eq!(str_at(job, &["apiVersion"]), "batch/v1");
    assert_eq!(str_at(job, &["kind"]), "Job");
    let spec = &job["spec"];
    assert_eq!(str_at(spec, &["completionMode"]), "Indexed");
    // A retried shard would send its share twice.
    assert_eq!(int_at(spec, &["backoffLimitPerIndex"]), 0);
    assert!(int_at(spec, &["activeDeadlineSeconds"]) > 0);
    let pod = &spec["template"]["spec"];
    assert_eq!(str_at(pod, &["restartPolicy"]), "Never");
    assert_eq!(pod["securityContext"]["runAsNonRoot"].as_bool(), Some(true));
    let containers = pod["containers"].as_vec().unwrap();
    assert_eq!(containers.len(), 1);
    let c = &containers[0];
    let args: Vec<String> = c["args"]
        .as_vec()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect();
    assert_eq!(args[0], "run");
    let flag = |name: &str| {
        let at = args.iter().position(|a| a == name).unwrap();
        args[at + 1].clone()
    };
    // Every shard at once, and as many as the run is split into.
    let shards: i64 = flag("--shards").parse().unwrap();
    assert_eq!(int_at(spec, &["completions"]), shards);
    assert_eq!(int_at(spec, &["parallelism"]), shards);
    assert!(
        !args.contains(&"--shard-index".to_string()),
        "JOB_COMPLETION_INDEX gives it"
    );
    let env: BTreeMap<String, Yaml> = c["env"]
        .as_vec()
        .unwrap()
        .iter()
        .map(|e| (str_at(e, &["name"]).to_string(), e["valueFrom"].clone()))
        .collect();
    assert!(
        env["REHEARSE_STORE"]["secretKeyRef"]["name"]
            .as_str()
            .is_some(),
        "the store URL (with its password) comes from a Secret"
    );
    assert_eq!(
        str_at(&env["REHEARSE_GROUP"], &["fieldRef", "fieldPath"]),
        "metadata.labels['batch.kubernetes.io/controller-uid']"
    );
    assert_eq!(
        c["securityContext"]["allowPrivilegeEscalation"].as_bool(),
        Some(false)
    );
    // The target is in the allowlist the pods are given.
    let host = flag("--target").trim_start_matches("https://").to_string();
    assert!(rehearse::app::allow::matches(&flag("--allow-host"), &host));

    // The pods' mounts, laid out locally: the ConfigMap's items where the pod would see them.
    let dir = tempfile::tempdir().unwrap();
    let mount = str_at(&c["volumeMounts"][0], &["mountPath"]).to_string();
    let volume = &pod["volumes"][0]["configMap"]["items"];
    let local = dir.path().join("scenarios");
    for item in volume.as_vec().unwrap() {
        let key = str_at(item, &["key"]);
        let source = [
            repo("scenarios").join(key),
            repo("scenarios/data").join(key),
        ]
        .into_iter()
        .find(|p| p.exists())
        .unwrap_or_else(|| panic!("no file for ConfigMap key {key}"));
        let to = local.join(str_at(item, &["path"]));
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(source, to).unwrap();
    }
    let target = fast_sandbox();
    for store in stores() {
        let children: Vec<Child> = (0..shards)
            .map(|i| {
                let mut pod_args = short(&args, &target.url, &dir.path().join(format!("pod-{i}")));
                for a in &mut pod_args {
                    if let Some(rest) = a.strip_prefix(&format!("{mount}/")) {
                        *a = local.join(rest).display().to_string();
                    }
                }
                spawn(
                    &pod_args,
                    &[
                        ("JOB_COMPLETION_INDEX", i.to_string()),
                        ("REHEARSE_GROUP", format!("uid-{}", store.label)),
                        ("REHEARSE_STORE", store.url.clone()),
                    ],
                    dir.path(),
                )
            })
            .collect();
        for c in children {
            let o = c.wait_with_output().unwrap();
            assert!(o.status.success(), "{}: {}", store.label, text(&o));
        }
        let out = dir.path().join(format!("merged-{}", store.label));
        let o = common::rehearse()
            .args([
                "merge",
                &format!("uid-{}", store.label),
                "--store",
                &store.url,
            ])
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}: {}", store.label, text(&o));
        let merged = results(&out);
        assert!(merged.complete, "{:?}", merged.stop_reason);
        assert_eq!(merged.shards.len() as i64, shards);
        assert_eq!(merged.scenario, "pay-invoice");
    }
}

#[test]
fn the_dockerfile_builds_in_one_stage_and_runs_rehearse_unprivileged_in_another() {
    let file = std::fs::read_to_string(repo("Dockerfile")).unwrap();
    let lines: Vec<&str> = file
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let stages: Vec<usize> = (0..lines.len())
        .filter(|i| lines[*i].starts_with("FROM "))
        .collect();
    assert_eq!(stages.len(), 2, "a build stage and a runtime stage");
    let (build, runtime) = (&lines[stages[0]..stages[1]], &lines[stages[1]..]);
    assert!(
        build
            .iter()
            .any(|l| l.contains("cargo build --release --locked"))
    );
    // Everything the crate reads at build time is in the build stage.
    for dir in ["src", "benches", "migrations", "assets", "scenarios"] {
        assert!(
            build
                .iter()
                .any(|l| l.starts_with("COPY ") && l.contains(&format!(" {dir} "))),
            "the build stage copies {dir}/"
        );
    }
    assert!(
        runtime
            .iter()
            .any(|l| l.starts_with("COPY --from=") && l.contains("target/release/rehearse"))
    );
    let user = runtime
        .iter()
        .rev()
        .find_map(|l| l.strip_prefix("USER "))
        .expect("the runtime stage sets a user");
    assert!(!["root", "0", "0:0"].contains(&user.trim()), "{user}");
    let entry = runtime
        .iter()
        .find_map(|l| l.strip_prefix("ENTRYPOINT "))
        .expect("an entrypoint");
    assert!(entry.contains("rehearse"), "{entry}");
    let ignore = std::fs::read_to_string(repo(".dockerignore")).unwrap();
    assert!(ignore.lines().any(|l| l.trim() == "target/"));
}

/// A job of the GitHub example: its name, its matrix key and values, its `rehearse` commands.
struct GithubJob {
    name: String,
    matrix: Option<(String, Vec<String>)>,
    commands: Vec<String>,
}

/// The GitHub Actions block of docs/scale-out.md, job by job.
fn github_jobs() -> Vec<GithubJob> {
    let doc = std::fs::read_to_string(repo("docs/scale-out.md")).unwrap();
    let start = doc
        .find("```yaml\n# .github/workflows/load-sharded.yml")
        .expect("the GitHub example");
    let block = &doc[start + 8..];
    let block = &block[..block.find("```").unwrap()];
    let yaml = &YamlLoader::load_from_str(block).unwrap()[0];
    let mut out = Vec::new();
    for (name, job) in yaml["jobs"].as_hash().unwrap() {
        let matrix = job["strategy"]["matrix"].as_hash().map(|m| {
            let (k, v) = m.iter().next().unwrap();
            let values = v
                .as_vec()
                .unwrap()
                .iter()
                .map(|x| match x {
                    Yaml::Integer(i) => i.to_string(),
                    other => other.as_str().unwrap().to_string(),
                })
                .collect();
            (k.as_str().unwrap().to_string(), values)
        });
        let commands = job["steps"]
            .as_vec()
            .unwrap()
            .iter()
            .filter_map(|s| s["run"].as_str())
            .filter(|r| r.starts_with("rehearse "))
            .map(str::to_string)
            .collect();
        out.push(GithubJob {
            name: name.as_str().unwrap().to_string(),
            matrix,
            commands,
        });
    }
    out
}

/// A command of the example as the runner's shell would get it, split into arguments:
/// GitHub's expressions and the workflow's env variables filled in.
fn expand(command: &str, values: &BTreeMap<String, String>) -> Vec<String> {
    let mut line = command.to_string();
    while let Some(at) = line.find("${{") {
        let end = line[at..].find("}}").unwrap() + at;
        let key = line[at + 3..end].trim().to_string();
        let v = values
            .get(&key)
            .unwrap_or_else(|| panic!("unknown expression {key}"));
        line.replace_range(at..end + 2, v);
    }
    line.split_whitespace()
        .skip(1)
        .map(|w| {
            let w = w.trim_matches('"');
            match w {
                "$STAGING_URL" => values["STAGING_URL"].clone(),
                _ => w.to_string(),
            }
        })
        .collect()
}

#[test]
fn the_github_matrix_of_shards_then_the_verdict_job_works_as_written() {
    let jobs = github_jobs();
    let shard = jobs.iter().find(|j| j.name == "shard").unwrap();
    let (key, indexes) = shard.matrix.clone().expect("the shard job has a matrix");
    let shard_commands = &shard.commands;
    assert_eq!(shard_commands.len(), 1);
    let verdict = &jobs.iter().find(|j| j.name == "verdict").unwrap().commands;
    assert_eq!(verdict.len(), 1);

    let target = fast_sandbox();
    let store = stores().pop().unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("scenarios")).unwrap();
    for f in ["pay-invoice.toml", "data/customers.csv"] {
        let to = dir.path().join("scenarios").join(f);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(repo("scenarios").join(f), to).unwrap();
    }
    let env = [
        ("GITHUB_RUN_ID", "4242".to_string()),
        ("GITHUB_RUN_ATTEMPT", "1".to_string()),
        ("REHEARSE_STORE", store.url.clone()),
    ];
    let children: Vec<Child> = indexes
        .iter()
        .map(|i| {
            let values = BTreeMap::from([
                (format!("matrix.{key}"), i.clone()),
                ("STAGING_URL".to_string(), target.url.clone()),
            ]);
            let args = short(
                &expand(&shard_commands[0], &values),
                &target.url,
                &dir.path().join(format!("job-{i}")),
            );
            spawn(&args, &env, dir.path())
        })
        .collect();
    for c in children {
        let o = c.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", text(&o));
    }
    let values = BTreeMap::from([
        ("github.run_id".to_string(), "4242".to_string()),
        ("github.run_attempt".to_string(), "1".to_string()),
    ]);
    let args = expand(&verdict[0], &values);
    assert_eq!(args[0], "merge");
    let o = spawn(&args, &env, dir.path()).wait_with_output().unwrap();
    // The first run of the branch has nothing to compare with: it is stored to become one.
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("no baseline yet"), "{}", text(&o));
    let merged = results(&dir.path().join("reports/load"));
    assert_eq!(merged.run_id, "gh-4242-1-pay-invoice");
    assert!(merged.complete, "{:?}", merged.stop_reason);
    assert_eq!(merged.shards.len(), indexes.len());
}
