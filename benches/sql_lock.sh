#!/usr/bin/env bash
# The SQL lock acceptance, measured live on PostgreSQL: a scenario reads two tables (steps
# `invoices` and `balance`); 6 runs on main, then 3 runs while a lock on the second table is
# held for 150 ms of every 300 ms, compared with branch:main. Prints, per session, the steps
# that regressed (the workflow, their sum, is shown apart) and both steps' p99.
#
#   benches/sql_lock.sh [sessions=3] [seconds=5] [rate=50/s]
#   REHEARSE_BIN=/path/to/rehearse PG_URL=postgres://… benches/sql_lock.sh
#
# Every load goes to 127.0.0.1, is bounded in time and stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
SESSIONS=${1:-3}
SECONDS_PER_RUN=${2:-5}
RATE=${3:-50/s}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/test}
# shellcheck source=benches/common.sh
source benches/common.sh

A=rh_bench_lock_a_$$
B=rh_bench_lock_b_$$
psql -q "$PG_URL" <<SQL
CREATE TABLE $A (id BIGINT PRIMARY KEY, v BIGINT NOT NULL);
CREATE TABLE $B (id BIGINT PRIMARY KEY, v BIGINT NOT NULL);
INSERT INTO $A SELECT g, g FROM generate_series(1, 1000) g;
INSERT INTO $B SELECT g, g FROM generate_series(1, 1000) g;
SQL
drop_tables() { psql -q "$PG_URL" -c "DROP TABLE IF EXISTS $A, $B" || true; }
trap 'drop_tables; cleanup' EXIT

cat > "$WORK/lock.toml" <<TOML
name = "sql-lock"
[databases.main]
url = "$PG_URL"
pool = 16
[load]
rate = "$RATE"
duration = "${SECONDS_PER_RUN}s"
warmup = "1s"
[[steps]]
name = "invoices"
[steps.sql]
query = "SELECT v FROM $A WHERE id = \$1"
params = [{ int = "{{ iteration }}" }]
[[steps]]
name = "balance"
[steps.sql]
query = "SELECT v FROM $B WHERE id = \$1"
params = [{ int = "{{ iteration }}" }]
TOML

hold_locks() { # until killed: the exclusive lock on the second table, 150 ms of every 300 ms
  while :; do
    psql -q "$PG_URL" -c "BEGIN; LOCK TABLE $B IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(0.15); COMMIT;" > /dev/null
    sleep 0.15
  done
}

exactly=0
for i in $(seq 1 "$SESSIONS"); do
  STORE="sqlite://$WORK/store-$i.db"
  for r in 1 2 3 4 5 6; do
    "$BIN" run --quiet "$WORK/lock.toml" --store "$STORE" --branch main --out "$WORK/main-$i-$r" > /dev/null 2>&1 || true
  done
  hold_locks & HOLDER=$!
  "$BIN" run --quiet "$WORK/lock.toml" --store "$STORE" --branch feature --repeat 3 \
    --baseline branch:main --out "$WORK/locked-$i" > /dev/null 2>&1 || true
  kill "$HOLDER"; wait "$HOLDER" 2>/dev/null || true
  line=$(python3 - "$WORK" "$i" <<'PY'
import json, sys, pathlib
work, i = pathlib.Path(sys.argv[1]), sys.argv[2]
c = json.load(open(work / f"locked-{i}" / "comparison.json"))
# The workflow (the sum of both steps) regresses with its slow step; the question is which steps.
regressed = [s["name"] for s in c["steps"] if s["verdict"] == "regressed" and s["name"] != "workflow"]
workflow = next((s["verdict"] for s in c["steps"] if s["name"] == "workflow"), "?")
def p99(path):
    r = json.load(open(path))
    return {s["name"]: s["latency"]["p99"] / 1000 for s in r["steps"]}
base = p99(work / f"main-{i}-6" / "results.json")
cand = p99(work / f"locked-{i}" / "run-3" / "results.json")
print(f"regressed: {' '.join(regressed) or 'nothing'} | workflow {workflow} | p99 ms main→locked: "
      + ", ".join(f"{k} {base[k]:.2f}→{cand[k]:.2f}" for k in base))
PY
)
  echo "session $i: $line"
  case "$line" in "regressed: balance |"*) exactly=$((exactly + 1));; esac
done
echo "sessions in which exactly the step balance regressed: $exactly of $SESSIONS"
