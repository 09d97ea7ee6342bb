#!/usr/bin/env bash
# Load-generation efficiency, rehearse next to wrk, in one sitting on one machine.
#
#   benches/loadgen.sh [seconds=10] [connections=64] [rate=5000]
#
# nginx (Debian's nginx-light) serves a small JSON body on 127.0.0.1, pinned to CPU 0;
# each load tool is pinned to CPU 1 and run under /usr/bin/time -v. Measured:
#   1. closed loop, 64 connections: CPU-seconds per 10k requests and peak RSS (wrk, rehearse)
#   2. open model at a fixed rate: the rate achieved, CPU and RSS (rehearse)
#   3. memory flatness: RSS of the same open-model run at 1x and 4x the duration
#   4. coordinated omission: the sandbox freezing 1 s every 5 s at 200 requests/s; the
#      true p99 is ~955 ms (1 s x (1 - 0.01/0.2) + service time)
# rehearse runs with every per-request feature on: templated path and header, a JSON
# capture and a JSON check, corrected + service-time histograms and the interval log.
# Needs: nginx-light wrk time (apt-get install -y nginx-light wrk time); all load is on
# 127.0.0.1, bounded in time, and stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-10}
CONNS=${2:-64}
RATE=${3:-5000}
PORT=18089
SANDBOX_PORT=18090

for tool in nginx wrk /usr/bin/time taskset; do
  command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install -y nginx-light wrk time util-linux" >&2; exit 2; }
done
cargo build --release --locked -q
BIN=$PWD/target/release/rehearse
WORK=$(mktemp -d)
cleanup() {
  [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
  [ -n "${SANDBOX_PID:-}" ] && kill "$SANDBOX_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$WORK/www" "$WORK/logs"
chmod 755 "$WORK" "$WORK/www"   # nginx's workers run as www-data
echo '{"id":"inv_1042","status":"open","amount_cents":12999,"currency":"EUR","customer":"cus_7"}' > "$WORK/www/invoice.json"
cat > "$WORK/nginx.conf" <<NGINX
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/logs/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  default_type application/json;
  server { listen 127.0.0.1:$PORT; root $WORK/www; }
}
NGINX
taskset -c 0 nginx -c "$WORK/nginx.conf" -p "$WORK"
sleep 0.5

scenario() { # $1 = load table body
  cat <<TOML
name = "loadgen"
[target]
base_url = "http://127.0.0.1:$PORT"
[load]
$1
[[steps]]
name = "invoice"
[steps.http]
path = "/invoice.json"
query = { n = "{{ iteration }}" }
headers = { x-request-id = "{{ uuid }}" }
[steps.capture]
invoice = { json = "\$.id" }
[steps.check]
status = 200
json = { "\$.status" = "open" }
TOML
}

calc() { awk "BEGIN { printf \"%.3f\", $1 }"; }

# Runs a command on CPU 1 under time -v; sets CPU (user+sys seconds) and RSS (MB).
measure() {
  taskset -c 1 /usr/bin/time -v "$@" > "$WORK/out.txt" 2> "$WORK/time.txt"
  CPU=$(awk -F': ' '/User time/{u=$2} /System time/{s=$2} END{printf "%.2f", u+s}' "$WORK/time.txt")
  RSS=$(awk -F': ' '/Maximum resident/{printf "%.1f", $2/1024}' "$WORK/time.txt")
}

results() { # prints "count rate p50 p99 service_p50" from a results.json
  python3 - "$1" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); s = r["steps"][0]
print(s["count"], round(s["count"] / r["measured_seconds"], 1), s["latency"]["p50"], s["latency"]["p99"], s["service_time"]["p50"], s["errors"])
if s["errors"]:
    print("errors:", s["outcomes"], s.get("error_samples"), file=sys.stderr)
PY
}

printf '\n== 1. closed loop, %s connections, %ss, nginx on CPU 0, tool on CPU 1\n' "$CONNS" "$SECS"
measure wrk -t1 -c"$CONNS" -d"${SECS}s" "http://127.0.0.1:$PORT/invoice.json"
WRK_REQ=$(awk '/requests in/{print $1}' "$WORK/out.txt")
if grep -q "Non-2xx" "$WORK/out.txt"; then echo "wrk saw errors:" >&2; cat "$WORK/out.txt" >&2; fi
printf 'wrk       %9s requests  %6s CPU-s  %6.3f CPU-s/10k  %6s MB RSS\n' "$WRK_REQ" "$CPU" "$(calc "$CPU * 10000 / $WRK_REQ")" "$RSS"

scenario "users = $CONNS
duration = \"${SECS}s\"" > "$WORK/closed.toml"
measure "$BIN" run -q "$WORK/closed.toml" --out "$WORK/closed"
read -r N R P50 P99 SP50 ERR < <(results "$WORK/closed/results.json")
printf 'rehearse  %9s requests  %6s CPU-s  %6.3f CPU-s/10k  %6s MB RSS  (errors %s, p50 %sus)\n' "$N" "$CPU" "$(calc "$CPU * 10000 / $N")" "$RSS" "$ERR" "$P50"

printf '\n== 2. open model, fixed %s/s for %ss\n' "$RATE" "$SECS"
scenario "rate = \"$RATE/s\"
duration = \"${SECS}s\"" > "$WORK/open.toml"
measure "$BIN" run -q "$WORK/open.toml" --out "$WORK/open"
read -r N R P50 P99 SP50 ERR < <(results "$WORK/open/results.json")
printf 'rehearse  %9s requests  achieved %s/s (%.2f%% of target)  %6s CPU-s  %6.3f CPU-s/10k  %6s MB RSS  p50 %sus (service %sus) p99 %sus\n' \
  "$N" "$R" "$(calc "100 * $R / $RATE")" "$CPU" "$(calc "$CPU * 10000 / $N")" "$RSS" "$P50" "$SP50" "$P99"
RSS1=$RSS

printf '\n== 3. memory over time: the same open-model run, %ss vs %ss\n' "$SECS" "$((SECS * 4))"
scenario "rate = \"$RATE/s\"
duration = \"$((SECS * 4))s\"" > "$WORK/long.toml"
measure "$BIN" run -q "$WORK/long.toml" --out "$WORK/long"
printf 'RSS %s MB after %ss, %s MB after %ss\n' "$RSS1" "$SECS" "$RSS" "$((SECS * 4))"

printf '\n== 4. coordinated omission: sandbox freezing 1 s every 5 s, 200 requests/s for 20 s\n'
taskset -c 0 "$BIN" sandbox --port "$SANDBOX_PORT" --latency-scale 0 --stall 1s/5s > /dev/null 2>&1 &
SANDBOX_PID=$!
sleep 1
cat > "$WORK/co.toml" <<TOML
name = "co"
[target]
base_url = "http://127.0.0.1:$SANDBOX_PORT"
[load]
rate = "200/s"
duration = "20s"
[[steps]]
name = "health"
http = { path = "/health" }
TOML
measure "$BIN" run -q "$WORK/co.toml" --out "$WORK/co"
read -r N R P50 P99 SP50 ERR < <(results "$WORK/co/results.json")
printf 'rehearse p99 %s ms (truth ~955 ms: %.1f%% off), p50 %s us\n' "$(calc "$P99 / 1000")" "$(calc "100 * ($P99 / 1000 - 955) / 955")" "$P50"
