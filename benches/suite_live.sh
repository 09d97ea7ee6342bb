#!/usr/bin/env bash
# Suites measured live: the shipped scenarios as one suite against the sandbox, A/A and with
# `pay` made 30% slower, compared with three earlier suite runs of main each time.
#
#   benches/suite_live.sh [trials=5] [history=6]
#   REHEARSE_BIN=/path/to/rehearse benches/suite_live.sh     # measure another build
#
# Each trial: a fresh store; `history` suite runs of main against the sandbox; then the suite with
# `--repeat 3 --baseline branch:main` against the same sandbox (A/A) and against one started
# with `--slowdown pay=1.3`. Each scenario runs 5 s after a 1 s warm-up at 50 arrivals/s.
# Printed per trial: exit codes and what regressed; at the end, how many A/A trials regressed
# anything and how many slowdown trials flagged exactly pay-invoice/pay (the workflow of
# pay-invoice may move with it: listed separately). Every load goes to 127.0.0.1, is bounded
# in time and stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
TRIALS=${1:-5}
HISTORY=${2:-6}
# shellcheck source=benches/common.sh
source benches/common.sh

sandbox main; MAIN=$(url main)
sandbox slow --slowdown pay=1.3; SLOW=$(url slow)
# Every scenario at 50 arrivals/s (the shipped 10/s gives ~50 iterations in 5 s: a p50 whose
# sampling error alone is ~9% per run, too coarse for a 15-step Holm family to see +30%).
LOAD=(--rate 50/s --duration 5s --warmup 1s -q)
regressed() { python3 -c 'import json,sys; v=json.load(open(sys.argv[1])); print(",".join(v["overall"]["regressed"]) or "-")' "$1"; }
pay() { # pay-invoice/pay: its verdict and p50 change with the interval
  python3 - "$1" <<'PY'
import json, sys
v = json.load(open(sys.argv[1]))
for c in v["scenarios"]:
    for s in c["steps"]:
        if c["scenario"] == "pay-invoice" and s["name"] == "pay":
            m = next(m for m in s["metrics"] if m["metric"] == "p50")
            print(f"pay {s['verdict']}, p50 {m['change']*100:+.1f}% [{m['interval'][0]*100:+.1f}%, {m['interval'][1]*100:+.1f}%]")
PY
}

aa_alarms=0; exact=0; with_workflow=0; missed=0; others=0
for t in $(seq 1 "$TRIALS"); do
  STORE="sqlite://$WORK/t$t.db"
  for i in $(seq 1 "$HISTORY"); do
    "$BIN" run scenarios/ --target "$MAIN" "${LOAD[@]}" --store "$STORE" --branch main --out "$WORK/t$t-main$i" > /dev/null
  done
  set +e
  "$BIN" run scenarios/ --target "$MAIN" "${LOAD[@]}" --store "$STORE" --branch aa --repeat 3 --baseline branch:main --out "$WORK/t$t-aa" > /dev/null
  aa_code=$?
  "$BIN" run scenarios/ --target "$SLOW" "${LOAD[@]}" --store "$STORE" --branch slow --repeat 3 --baseline branch:main --out "$WORK/t$t-slow" --report "$WORK/t$t-report" > /dev/null
  slow_code=$?
  report=$(ls "$WORK/t$t-report" 2>/dev/null | tr '\n' ' ')
  set -e
  aa=$(regressed "$WORK/t$t-aa/suite.json")
  slow=$(regressed "$WORK/t$t-slow/suite.json")
  echo "trial $t: A/A exit $aa_code regressed: $aa ($(pay "$WORK/t$t-aa/suite.json")) | pay x1.3 exit $slow_code regressed: $slow ($(pay "$WORK/t$t-slow/suite.json")) | report: $report"
  [ "$aa" != "-" ] && aa_alarms=$((aa_alarms + 1))
  case "$slow" in
    pay-invoice/pay) exact=$((exact + 1)) ;;
    pay-invoice/pay,pay-invoice/workflow|pay-invoice/workflow,pay-invoice/pay) with_workflow=$((with_workflow + 1)) ;;
    -) missed=$((missed + 1)) ;;
    *) if [[ ",$slow," == *",pay-invoice/pay,"* ]]; then others=$((others + 1)); else missed=$((missed + 1)); fi ;;
  esac
done
echo "A/A: $aa_alarms of $TRIALS suite runs regressed anything"
echo "pay x1.3: exactly pay-invoice/pay in $exact, pay and its workflow in $with_workflow, pay plus another scenario's step in $others, pay missed in $missed (of $TRIALS)"
