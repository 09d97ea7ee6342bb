#!/usr/bin/env bash
# The workflow-mix acceptance, measured live: the shipped checkout mix (browse 70, pay 20,
# signup 10 of the rate) against the sandbox, 6 runs on main, then 3 runs against a sandbox with
# `--slowdown pay=1.3` compared with branch:main. Prints, per session, the steps that
# regressed and each scenario's share of the arrivals.
#
#   benches/mix_live.sh [sessions=3] [seconds=15] [rate=60/s]
#   REHEARSE_BIN=/path/to/rehearse benches/mix_live.sh     # measure another build
#
# Every load goes to 127.0.0.1, is bounded in time and stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
SESSIONS=${1:-3}
SECONDS_PER_RUN=${2:-15}
RATE=${3:-60/s}
# shellcheck source=benches/common.sh
source benches/common.sh

sandbox main; MAIN=$(url main)
sandbox slow --slowdown pay=1.3; SLOW=$(url slow)
RUN=(run --quiet --rate "$RATE" --duration "${SECONDS_PER_RUN}s" --warmup 2s scenarios/checkout-mix.toml)

only_pay=0
for i in $(seq 1 "$SESSIONS"); do
  STORE="sqlite://$WORK/store-$i.db"
  for r in 1 2 3 4 5 6; do
    "$BIN" "${RUN[@]}" --target "$MAIN" --store "$STORE" --branch main --out "$WORK/main-$i-$r" > /dev/null
  done
  "$BIN" "${RUN[@]}" --target "$SLOW" --store "$STORE" --branch feature --repeat 3 \
    --baseline branch:main --out "$WORK/slow-$i" > /dev/null 2>&1 || true
  line=$(python3 - "$WORK/slow-$i" <<'PY'
import json, sys, pathlib
d = pathlib.Path(sys.argv[1])
c = json.load(open(d / "comparison.json"))
regressed = [s["name"] for s in c["steps"] if s["verdict"] == "regressed"]
r = json.load(open(d / "run-1" / "results.json"))
counts = {s["name"].split("/")[0]: s["count"] for s in r["steps"] if s["name"].endswith("/workflow")}
total = sum(counts.values())
shares = ", ".join(f"{k} {v / total:.2%} ({v})" for k, v in counts.items())
print(f"regressed: {' '.join(regressed) or 'nothing'} | arrivals: {shares}")
PY
)
  echo "session $i: $line"
  case "$line" in "regressed: pay-invoice/pay |"*) only_pay=$((only_pay + 1));; esac
done
echo "sessions in which exactly pay-invoice/pay regressed: $only_pay of $SESSIONS"
