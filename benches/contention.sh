#!/usr/bin/env bash
# Verdicts on a busy machine, measured live: A/A sessions and a planted slowdown under bursty
# CPU contention, and a run with a deliberately starved generator.
#
#   benches/contention.sh [sessions=50] [slowdown-sessions=20]
#   REHEARSE_BIN=/path/to/rehearse benches/contention.sh     # measure another build
#
# Contention: two hogs, each alternating busy and idle spells of 0.2-1.5 s (uniform), for the
# whole measurement, on this 2-core machine. Measured:
#   1. A/A: `ab --same --rounds 3` and `--rounds 6` (pay-invoice, 150/s, 2 s + 0.5 s warm-up)
#      against the sandbox: sessions that claimed a regression (any step, any metric).
#   2. Slowdown: `ab --rounds 6` of the sandbox against one with `--slowdown pay=1.3`:
#      sessions in which `pay` regressed, and sessions in which another step did.
#   3. Harness health: one run (50/s, 5 s) quiet and one with rehearse pinned to one core that
#      two constant hogs share: schedule lag p99 and whether it is marked harness-limited.
# Every load goes to 127.0.0.1, is bounded in time and stops by itself; the hogs are bounded
# by `timeout` and killed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
SESSIONS=${1:-50}
SLOW_SESSIONS=${2:-20}
# shellcheck source=benches/common.sh
source benches/common.sh

bursty_hog() { # alternates busy and idle spells of 0.2-1.5 s until killed
  timeout 7200 python3 - <<'PY' &
import random, time
random.seed()
while True:
    end = time.time() + random.uniform(0.2, 1.5)
    while time.time() < end:
        pass
    time.sleep(random.uniform(0.2, 1.5))
PY
  PIDS+=($!)
}

sandbox main; MAIN=$(url main)
sandbox slow --slowdown pay=1.3; SLOW=$(url slow)
STORE="sqlite://$WORK/store.db"
AB=(ab scenarios/pay-invoice.toml --rate 150/s --duration 2s --warmup 500ms -q --json --store "$STORE")

regressed_steps() { # the steps a comparison.json on stdin regressed, space-separated
  python3 -c 'import json,sys; c=json.load(sys.stdin); print(" ".join(s["name"] for s in c["steps"] if s["verdict"]=="regressed" and not s.get("workflow")))'
}

echo "binary: $BIN ($("$BIN" --version))"
bursty_hog; bursty_hog
echo "contention: two bursty hogs running"

for rounds in 3 6; do
  alarms=0
  for i in $(seq 1 "$SESSIONS"); do
    out=$("$BIN" "${AB[@]}" --baseline "$MAIN" --same --rounds "$rounds" --out "$WORK/aa-$rounds-$i" 2>/dev/null || true)
    steps=$(printf '%s' "$out" | regressed_steps 2>/dev/null || echo "?")
    if [ -n "$steps" ]; then alarms=$((alarms + 1)); echo "  A/A $rounds rounds, session $i: regressed $steps"; fi
  done
  echo "A/A, $rounds rounds, under contention: $alarms false alarms in $SESSIONS sessions"
done

caught=0; others=0
for i in $(seq 1 "$SLOW_SESSIONS"); do
  out=$("$BIN" "${AB[@]}" --baseline "$MAIN" --candidate "$SLOW" --rounds 6 --out "$WORK/slow-$i" 2>/dev/null || true)
  steps=$(printf '%s' "$out" | regressed_steps 2>/dev/null || echo "?")
  case " $steps " in *" pay "*) caught=$((caught + 1));; esac
  for s in $steps; do [ "$s" != pay ] && { others=$((others + 1)); echo "  slowdown session $i: also regressed $s"; break; }; done
done
echo "pay +30%, 6 rounds, under contention: caught in $caught of $SLOW_SESSIONS sessions; another step regressed in $others"

for p in "${PIDS[@]:2}"; do kill "$p" 2>/dev/null || true; done
sleep 1
health() { # health LABEL [prefix…]: one run, prints its schedule lag p99 and harness verdict
  local label=$1; shift
  "$@" "$BIN" run scenarios/pay-invoice.toml --target "$MAIN" --rate 50/s --duration 5s --warmup 1s -q \
    --no-store --out "$WORK/health-$label" >/dev/null 2>&1 || true
  python3 - "$WORK/health-$label/results.json" "$label" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); h = r.get("health")
if h is None:
    print(f"{sys.argv[2]}: this build records no harness health")
else:
    print(f"{sys.argv[2]}: schedule lag p99 {h['lag']['p99']} us, max {h['lag']['max']} us, "
          f"CPU pressure {h.get('pressure_some')}, harness_limited={h['harness_limited']}")
    for reason in h.get("reasons", []): print("   ", reason)
PY
}
health quiet
timeout 30 sh -c 'while :; do :; done' & PIDS+=($!); taskset -p -c 1 $! >/dev/null
timeout 30 sh -c 'while :; do :; done' & PIDS+=($!); taskset -p -c 1 $! >/dev/null
health starved taskset -c 1
