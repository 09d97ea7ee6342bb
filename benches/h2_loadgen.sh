#!/usr/bin/env bash
# HTTP/2 load generation, rehearse next to h2load, in one sitting on one machine.
#
#   benches/h2_loadgen.sh [seconds=10] [rate=5000] [connections=4]
#   REHEARSE_BIN=/path/to/rehearse benches/h2_loadgen.sh     # measure another build
#
# nginx (Debian's nginx-light, HTTP/2 over TLS with the test certificate) serves a small
# JSON body on 127.0.0.1, pinned to CPU 0; each tool is pinned to CPU 1 under /usr/bin/time.
# Both send RATE requests/s for SECONDS over CONNECTIONS TLS connections as HTTP/2 streams:
# h2load with --rps per connection (-c CONNECTIONS, -m 100), rehearse with
# `[target] http = "2"`, `connections = CONNECTIONS` and every per-request feature on
# (templated query and header, a JSON capture and check, both histograms, the interval log).
# Printed: requests done, the rate achieved, CPU-seconds per 10k requests and peak RSS of
# each, the ratio rehearse / h2load, and each tool's latency (h2load's mean is from when a
# request was sent, rehearse's p50/p99 from when it was due).
# Needs: nginx-light h2load (nghttp2-client) time taskset; all load is on 127.0.0.1, bounded
# in time and request count, and stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-10}
RATE=${2:-5000}
CONNS=${3:-4}
PORT=18443

for tool in nginx h2load /usr/bin/time taskset; do
  command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install -y nginx-light nghttp2-client time util-linux" >&2; exit 2; }
done
if [ -z "${REHEARSE_BIN:-}" ]; then
  cargo build --release --locked -q
  REHEARSE_BIN=$PWD/target/release/rehearse
fi
BIN=$REHEARSE_BIN
WORK=$(mktemp -d)
cleanup() {
  [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$WORK/www" "$WORK/logs"
chmod 755 "$WORK" "$WORK/www"   # nginx's workers run as www-data
echo '{"id":"inv_1042","status":"open","amount_cents":12999,"currency":"EUR","customer":"cus_7"}' > "$WORK/www/invoice.json"
cp tests/fixtures/tls/cert.pem tests/fixtures/tls/key.pem tests/fixtures/tls/ca.pem "$WORK/"
chmod 644 "$WORK"/*.pem
cat > "$WORK/nginx.conf" <<NGINX
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/logs/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  http2_max_concurrent_streams 1000;
  default_type application/json;
  server {
    listen 127.0.0.1:$PORT ssl http2;
    ssl_certificate $WORK/cert.pem;
    ssl_certificate_key $WORK/key.pem;
    root $WORK/www;
  }
}
NGINX
taskset -c 0 nginx -c "$WORK/nginx.conf" -p "$WORK"
sleep 0.5

calc() { awk "BEGIN { printf \"%.3f\", $1 }"; }
measure() { # runs a command on CPU 1 under time -v; sets CPU (user+sys s) and RSS (MB)
  taskset -c 1 /usr/bin/time -v "$@" > "$WORK/out.txt" 2> "$WORK/time.txt"
  CPU=$(awk -F': ' '/User time/{u=$2} /System time/{s=$2} END{printf "%.2f", u+s}' "$WORK/time.txt")
  RSS=$(awk -F': ' '/Maximum resident/{printf "%.1f", $2/1024}' "$WORK/time.txt")
}

TOTAL=$((RATE * SECS))
PER_CONN=$((RATE / CONNS))
printf '== HTTP/2 over TLS, %s requests/s for %ss over %s connections; nginx on CPU 0, tool on CPU 1\n' "$RATE" "$SECS" "$CONNS"
measure h2load -n "$TOTAL" -c "$CONNS" -m 100 --rps "$PER_CONN" "https://localhost:$PORT/invoice.json"
H_DONE=$(awk '/^requests:/{print $8}' "$WORK/out.txt")
H_RATE=$(awk '/^finished in/{gsub(",","",$4); print $4}' "$WORK/out.txt")
H_MEAN=$(awk '/^time for request:/{print $6}' "$WORK/out.txt")
H_CPU=$CPU; H_RSS=$RSS
printf 'h2load    %9s ok   %9s req/s  %6s CPU-s  %6.3f CPU-s/10k  %6s MB RSS  mean %s (from send)\n' \
  "$H_DONE" "$H_RATE" "$H_CPU" "$(calc "$H_CPU * 10000 / $H_DONE")" "$H_RSS" "$H_MEAN"

cat > "$WORK/h2.toml" <<TOML
name = "h2-loadgen"
[target]
base_url = "https://localhost:$PORT"
ca_file = "ca.pem"
http = "2"
connections = $CONNS
[load]
rate = "$RATE/s"
duration = "${SECS}s"
max_in_flight = 1000
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
measure "$BIN" run -q "$WORK/h2.toml" --out "$WORK/run" --no-store
read -r N R P50 P99 ERR LAG < <(python3 - "$WORK/run/results.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); s = r["steps"][0]
lag = ((r.get("health") or {}).get("lag") or {}).get("p99", "?")
print(s["outcomes"]["ok"], round(s["count"] / r["measured_seconds"], 1), s["latency"]["p50"], s["latency"]["p99"], s["errors"], lag)
PY
)
printf 'rehearse  %9s ok   %9s req/s  %6s CPU-s  %6.3f CPU-s/10k  %6s MB RSS  p50 %sus p99 %sus (from due; errors %s, schedule lag p99 %sus)\n' \
  "$N" "$R" "$CPU" "$(calc "$CPU * 10000 / $N")" "$RSS" "$P50" "$P99" "$ERR" "$LAG"
printf 'ratio rehearse / h2load: CPU per request %.2f, RSS %.2f\n' \
  "$(calc "($CPU / $N) / ($H_CPU / $H_DONE)")" "$(calc "$RSS / $H_RSS")"
