# Shared by the live bench scripts (sourced from the project root): the binary to measure,
# a scratch folder, sandboxes on free ports, and a cleanup that stops every process started.
#   REHEARSE_BIN=/path/to/rehearse    measure another build (default: this checkout's release)
if [ -z "${REHEARSE_BIN:-}" ]; then
  cargo build --release --locked -q
  REHEARSE_BIN=$PWD/target/release/rehearse
fi
BIN=$REHEARSE_BIN
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  # A run still going when the script is stopped would write into a removed folder.
  pkill -P $$ 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

sandbox() { # sandbox NAME [flags…]: starts one on a free port; `url NAME` prints its URL
  # Not called in $(…): a subshell's PIDS would be lost and the sandbox outlive the script.
  local name=$1; shift
  timeout 7200 "$BIN" sandbox --port 0 "$@" > "$WORK/$name.url" 2>/dev/null &
  PIDS+=($!)
  for _ in $(seq 1 50); do [ -s "$WORK/$name.url" ] && break; sleep 0.1; done
}
url() { head -n1 "$WORK/$1.url"; }
