#!/usr/bin/env bash
# Suites measured live: the shipped scenarios as one suite against the sandbox, A/A and with
# `pay` made 30% slower, compared with three earlier suite runs of main each time.
#
#   benches/suite_live.sh [trials=5]
#   REHEARSE_BIN=/path/to/rehearse benches/suite_live.sh     # measure another build
#
# Each trial: a fresh store; three suite runs of main against the sandbox; then the suite with
# `--repeat 3 --baseline branch:main` against the same sandbox (A/A) and against one started
# with `--slowdown pay=1.3`. Each scenario runs 5 s after a 1 s warm-up at its own load.
# Printed per trial: exit codes and what regressed; at the end, how many A/A trials regressed
# anything and how many slowdown trials flagged exactly pay-invoice/pay (the workflow of
# pay-invoice may move with it: listed separately). Every load goes to 127.0.0.1, is bounded
# in time and stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
TRIALS=${1:-5}
if [ -z "${REHEARSE_BIN:-}" ]; then
  cargo build --release --locked -q
  REHEARSE_BIN=$PWD/target/release/rehearse
fi
BIN=$REHEARSE_BIN
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

sandbox() { # sandbox NAME [flags…]: starts one on a free port, prints its URL
  local name=$1; shift
  timeout 7200 "$BIN" sandbox --port 0 "$@" > "$WORK/$name.url" 2>/dev/null &
  PIDS+=($!)
  for _ in $(seq 1 50); do [ -s "$WORK/$name.url" ] && break; sleep 0.1; done
  head -n1 "$WORK/$name.url"
}

MAIN=$(sandbox main)
SLOW=$(sandbox slow --slowdown pay=1.3)
LOAD=(--duration 5s --warmup 1s -q)
regressed() { python3 -c 'import json,sys; v=json.load(open(sys.argv[1])); print(",".join(v["overall"]["regressed"]) or "-")' "$1"; }

aa_alarms=0; exact=0; with_workflow=0; missed=0; others=0
for t in $(seq 1 "$TRIALS"); do
  STORE="sqlite://$WORK/t$t.db"
  for i in 1 2 3; do
    "$BIN" run scenarios/ --target "$MAIN" "${LOAD[@]}" --store "$STORE" --branch main --out "$WORK/t$t-main$i" > /dev/null
  done
  set +e
  "$BIN" run scenarios/ --target "$MAIN" "${LOAD[@]}" --store "$STORE" --branch aa --repeat 3 --baseline branch:main --out "$WORK/t$t-aa" > /dev/null
  aa_code=$?
  "$BIN" run scenarios/ --target "$SLOW" "${LOAD[@]}" --store "$STORE" --branch slow --repeat 3 --baseline branch:main --out "$WORK/t$t-slow" > /dev/null
  slow_code=$?
  set -e
  aa=$(regressed "$WORK/t$t-aa/suite.json")
  slow=$(regressed "$WORK/t$t-slow/suite.json")
  echo "trial $t: A/A exit $aa_code regressed: $aa | pay x1.3 exit $slow_code regressed: $slow"
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
