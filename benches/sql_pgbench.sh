#!/usr/bin/env bash
# SQL latency fidelity: pgbench's built-in TPC-B-like transaction (scale 1) at a fixed arrival
# rate, measured by pgbench itself (-R, -M prepared, per-transaction log) and by rehearse
# (benches/sql/tpcb.toml, open model), side by side on one machine, alternating A B B A.
#
#   benches/sql_pgbench.sh [rate=200] [more rates…]          e.g. benches/sql_pgbench.sh 200 500
#
# Environment (defaults in brackets):
#   REHEARSE   the rehearse binary [target/release/rehearse]
#   DURATION   measured seconds per run [15]   WARMUP  seconds before measuring [2]
#   CLIENTS    pgbench -c, and the scenario's `pool` [16]
#   ORDER      run order per rate, A = pgbench, B = rehearse ["A B B A"]
#   ROWS       rows of random (aid, bid, tid, delta) for rehearse [200000]   SEED [42]
#   PGHOST PGPORT PGUSER   the server [127.0.0.1 5432 postgres]; only a loopback host is accepted
#   PGBENCH_DB the scratch database, dropped and created here [rehearse_pgbench]
#   OUT        keep every run's files here [a temporary folder, removed at the end]
#   ARRIVALS   rehearse's arrival process [poisson, as pgbench -R]; `uniform` for evenly spaced
#   SYNC_COMMIT the scratch database's synchronous_commit [off]. With `on`, every COMMIT waits
#              for its WAL flush, and on a shared machine an fsync stall of 0.1 to 0.8 s now and
#              then (seen here, in either tool's runs) holds the one branch row every
#              transaction updates, so it alone decides the mean of whichever run it falls in;
#              `off` keeps the comparison about the two load generators
#
# Both tools measure latency from when a transaction was *scheduled* (pgbench -R's log, as its
# docs say, and rehearse's coordinated-omission-corrected histogram). Before every run the
# tables are re-created (pgbench -i -s 1) and checkpointed, so neither tool inherits the
# other's dead tuples, history rows or dirty buffers; pgbench then runs with -n (nothing left to
# vacuum). pgbench runs WARMUP + DURATION + 1 seconds (its -T clock starts before it connects)
# and the analysis keeps the transactions its log shows scheduled from WARMUP to WARMUP +
# DURATION seconds after its first, as rehearse's --warmup and --duration do. The table has
# each run's figures, then each tool's average over its runs, then the ratio
# rehearse / pgbench of those averages: PASS when the means agree within 20% (exit 0, else 1).
# `cpu s` is each process's user + system time (/usr/bin/time), start-up included (for
# rehearse about 0.25 s: reading the CSV, the scenario, the first connection). `machine` is
# the share of the run some task waited for a CPU, or every task for I/O (/proc/pressure):
# figures from runs above ~20% say more about the machine than about either tool.
#
# Arrivals are of one kind: pgbench -R draws Poisson arrivals (exponential gaps), and the
# scenario asks rehearse for the same (`arrivals = "poisson"`; ARRIVALS=uniform measures
# rehearse's evenly spaced default instead, whose tail is shorter at a shared lock). Needs: pgbench, psql, createdb/dropdb, python3, /usr/bin/time. All load is on
# loopback, each run is bounded by DURATION + WARMUP (+ rehearse's grace), and stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

RATES=("${@:-200}")
REHEARSE=${REHEARSE:-target/release/rehearse}
DURATION=${DURATION:-15}
WARMUP=${WARMUP:-2}
CLIENTS=${CLIENTS:-16}
ARRIVALS=${ARRIVALS:-poisson}
ORDER=${ORDER:-A B B A}
ROWS=${ROWS:-200000}
SEED=${SEED:-42}
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
DB=${PGBENCH_DB:-rehearse_pgbench}
SYNC_COMMIT=${SYNC_COMMIT:-off}

case $PGHOST in
  127.0.0.1 | localhost | ::1) ;;
  *) echo "PGHOST=$PGHOST: this bench only drives a server on loopback" >&2; exit 2 ;;
esac
for tool in pgbench psql createdb dropdb python3 /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 2; }
done
case $REHEARSE in /*) ;; *) REHEARSE=$ROOT/$REHEARSE ;; esac
[ -x "$REHEARSE" ] || { echo "no rehearse binary at $REHEARSE (cargo build --release, or set REHEARSE)" >&2; exit 2; }
for n in "$DURATION" "$WARMUP" "$CLIENTS" "$ROWS" "${RATES[@]}"; do
  [[ $n =~ ^[0-9]+$ ]] || { echo "not a whole number: $n" >&2; exit 2; }
done
for r in "${RATES[@]}"; do (( r >= 1 && r <= 5000 )) || { echo "rate $r: 1 to 5000 per second" >&2; exit 2; }; done
(( DURATION >= 1 && DURATION <= 60 )) || { echo "DURATION must be 1 to 60 seconds" >&2; exit 2; }
[[ $SYNC_COMMIT =~ ^(on|off|local|remote_write|remote_apply)$ ]] || { echo "SYNC_COMMIT: on, off, local, remote_write or remote_apply" >&2; exit 2; }
(( WARMUP <= 30 )) || { echo "WARMUP must be at most 30 seconds" >&2; exit 2; }

if [ -n "${OUT:-}" ]; then
  WORK=$OUT; mkdir -p "$WORK"; rm -rf "$WORK"/r[0-9]*
else
  WORK=$(mktemp -d)
fi
cleanup() {
  dropdb --if-exists "$DB" 2>/dev/null || true
  [ -n "${OUT:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

init() { # fresh pgbench tables at scale 1, written out, so every run starts alike
  pgbench -i -s 1 -q "$DB" >"$WORK/init.log" 2>&1 || { cat "$WORK/init.log" >&2; exit 1; }
  psql -q -X -d "$DB" -c CHECKPOINT >/dev/null
}

dropdb --if-exists "$DB" 2>/dev/null
createdb "$DB"
psql -q -X -d "$DB" -c "ALTER DATABASE \"$DB\" SET synchronous_commit = '$SYNC_COMMIT'" >/dev/null

# rehearse has no random-number template: pgbench's \set aid random(1, 100000 * :scale) etc.
# become a seeded CSV of the same ranges, read in order (different rows every iteration).
# The scenario is copied beside it (its data file is relative to the scenario file), with
# `pool` set to CLIENTS.
python3 - "$WORK/tpcb-accounts.csv" "$ROWS" "$SEED" <<'PY'
import random, sys
path, rows, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
r = random.Random(seed)
with open(path, "w") as f:
    f.write("aid,bid,tid,delta\n")
    for _ in range(rows):
        f.write(f"{r.randint(1, 100000)},1,{r.randint(1, 10)},{r.randint(-5000, 5000)}\n")
PY
sed -e "s/^pool = [0-9]*/pool = $CLIENTS/" \
    -e "s/^arrivals = \"[a-z]*\"/arrivals = \"$ARRIVALS\"/" \
    -e "s|^url = .*|url = \"postgres://$PGUSER@$PGHOST:$PGPORT/$DB\"|" \
    benches/sql/tpcb.toml > "$WORK/tpcb.toml"
"$REHEARSE" validate "$WORK/tpcb.toml" >/dev/null

TIMEFMT="%U %S %e"
psi() { # cumulative stall µs: cpu "some", io "full" (0 0 where /proc/pressure is missing)
  local c=0 i=0
  [ -r /proc/pressure/cpu ] && c=$(sed -n 's/^some .*total=//p' /proc/pressure/cpu)
  [ -r /proc/pressure/io ] && i=$(sed -n 's/^full .*total=//p' /proc/pressure/io)
  echo "$c $i $(date +%s%6N)"
}
run_pgbench() { # $1 rate, $2 run dir
  local dir=$2
  mkdir -p "$dir"
  psi > "$dir/psi.txt"
  ( cd "$dir" && /usr/bin/time -f "$TIMEFMT" -o time.txt \
      pgbench -n -M prepared -b tpcb-like -R "$1" -T $((DURATION + WARMUP + 1)) \
        -c "$CLIENTS" -j 1 -l --log-prefix=tx "$DB" >out.txt 2>&1 ) \
    || { cat "$dir/out.txt" >&2; exit 1; }
  psi >> "$dir/psi.txt"
}
run_rehearse() { # $1 rate, $2 run dir
  local dir=$2
  mkdir -p "$dir"
  psi > "$dir/psi.txt"
  /usr/bin/time -f "$TIMEFMT" -o "$dir/time.txt" \
    "$REHEARSE" run "$WORK/tpcb.toml" --rate "$1/s" --duration "${DURATION}s" \
      --warmup "${WARMUP}s" --out "$dir/out" --no-store -q >"$dir/out.txt" 2>&1 \
    || { cat "$dir/out.txt" >&2; exit 1; }
  psi >> "$dir/psi.txt"
}

echo "pgbench tpcb-like, scale 1, -M prepared, $CLIENTS clients / pool $CLIENTS, ${WARMUP}s warm-up + ${DURATION}s measured, order: $ORDER, synchronous_commit=$SYNC_COMMIT"
echo "rehearse: $REHEARSE ($("$REHEARSE" --version))"
for rate in "${RATES[@]}"; do
  i=0
  for who in $ORDER; do
    i=$((i + 1)); n=$(printf %02d "$i")
    init
    case $who in
      A) echo "  rate $rate/s run $n: pgbench";  run_pgbench "$rate" "$WORK/r$rate/$n-pgbench" ;;
      B) echo "  rate $rate/s run $n: rehearse"; run_rehearse "$rate" "$WORK/r$rate/$n-rehearse" ;;
      *) echo "ORDER holds A (pgbench) and B (rehearse) only" >&2; exit 2 ;;
    esac
  done
done

python3 - "$WORK" "$WARMUP" "$DURATION" "${RATES[@]}" <<'PY'
import glob, json, math, os, sys

work, warmup, duration = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
rates = sys.argv[4:]

def pct(sorted_us, p):  # nearest rank, as HdrHistogram reports a percentile
    return sorted_us[max(0, math.ceil(p / 100 * len(sorted_us)) - 1)]

def cpu(d):
    u, s, e = open(os.path.join(d, "time.txt")).read().split()[-3:]
    return float(u) + float(s)

busiest = [0.0, ""]

def machine(d):  # share of the run's wall time some task waited for a CPU / all for I/O
    try:
        (c0, i0, t0), (c1, i1, t1) = [map(int, l.split()) for l in open(os.path.join(d, "psi.txt"))]
    except (OSError, ValueError):
        return ""
    cpu_psi, io_psi = 100 * (c1 - c0) / (t1 - t0), 100 * (i1 - i0) / (t1 - t0)
    if max(cpu_psi, io_psi) > busiest[0]:
        busiest[:] = [max(cpu_psi, io_psi), os.path.relpath(d, work)]
    return f"; machine: cpu psi {cpu_psi:.0f}%, io psi {io_psi:.0f}%"

def pgbench(d):
    # client txno latency_us script epoch_s epoch_us lag_us (-R): the latency runs from the
    # scheduled start, the timestamp is the end; a failed or skipped one has a word instead.
    done, failed = [], 0
    for f in glob.glob(os.path.join(d, "tx.*")):
        for line in open(f):
            x = line.split()
            end = int(x[4]) * 1_000_000 + int(x[5])
            if x[2].isdigit():
                done.append((end - int(x[2]), int(x[2]), int(x[6])))
            else:
                failed += 1
    t0 = min(s for s, _, _ in done)
    lo, hi = t0 + warmup * 1e6, t0 + (warmup + duration) * 1e6
    kept = [(l, g) for s, l, g in done if lo <= s < hi]
    lat = sorted(l for l, _ in kept)
    lag = sorted(g for _, g in kept)
    return dict(n=len(lat), mean=sum(lat) / len(lat), p50=pct(lat, 50), p90=pct(lat, 90),
                p99=pct(lat, 99), max=lat[-1], errors=failed, cpu=cpu(d),
                note=f"lag p99 {pct(lag, 99) / 1000:.2f}ms" + machine(d))

def rehearse(d):
    r = json.load(open(os.path.join(d, "out", "results.json")))
    st = r["steps"][0]
    l = st["latency"]
    it = r["iterations"]
    h = r["health"]
    note = f"lag p99 {h['lag']['p99'] / 1000:.2f}ms"
    if it.get("dropped"):
        note += f", dropped {it['dropped']}"
    if h.get("harness_limited"):
        note += ", HARNESS-LIMITED"
    note += machine(d)
    return dict(n=l["count"], mean=l["mean"], p50=l["p50"], p90=l["p90"], p99=l["p99"],
                max=l["max"], errors=st["errors"], cpu=cpu(d), note=note)

ms = lambda us: f"{us / 1000:8.2f}"
cols = ("mean", "p50", "p90", "p99", "max")
head = f"{'rate':>6} {'run':<12} {'n':>6} " + " ".join(f"{c + ' ms':>8}" for c in cols) + f" {'errors':>6} {'cpu s':>6}  notes"
print()
print(head)
print("-" * len(head))
verdicts, ok = [], True
for rate in rates:
    runs = {"pgbench": [], "rehearse": []}
    for d in sorted(glob.glob(os.path.join(work, f"r{rate}", "*-*"))):
        who = d.rsplit("-", 1)[1]
        s = (pgbench if who == "pgbench" else rehearse)(d)
        runs[who].append(s)
        label = f"{os.path.basename(d).split('-')[0]} {who}"
        print(f"{rate + '/s':>6} {label:<12} {s['n']:>6} " + " ".join(ms(s[c]) for c in cols)
              + f" {s['errors']:>6} {s['cpu']:>6.2f}  {s['note']}")
    avg = {}
    for who, rs in runs.items():
        if not rs:
            continue
        avg[who] = {k: sum(r[k] for r in rs) / len(rs) for k in ("n",) + cols + ("errors", "cpu")}
        a = avg[who]
        print(f"{rate + '/s':>6} {'avg ' + who:<12} {a['n']:>6.0f} " + " ".join(ms(a[c]) for c in cols)
              + f" {a['errors']:>6.0f} {a['cpu']:>6.2f}")
    if len(avg) == 2:
        p, r = avg["pgbench"], avg["rehearse"]
        ratio = {c: r[c] / p[c] for c in cols + ("cpu",)}
        print(f"{rate + '/s':>6} {'ratio R/P':<12} {'':>6} " + " ".join(f"{ratio[c]:8.2f}" for c in cols)
              + f" {'':>6} {ratio['cpu']:>6.2f}")
        good = abs(ratio["mean"] - 1) <= 0.20
        ok &= good
        verdicts.append(f"{rate}/s: rehearse mean {r['mean'] / 1000:.2f} ms vs pgbench {p['mean'] / 1000:.2f} ms,"
                        f" ratio {ratio['mean']:.2f}: {'PASS' if good else 'FAIL'} (within 20%)")
    print("-" * len(head))
print()
for v in verdicts:
    print(v)
if busiest[0] > 20:
    print(f"warning: the machine was busy ({busiest[1]}: tasks stalled {busiest[0]:.0f}% of the run on"
          " CPU or I/O); other load moves both tools' figures, so rerun when it is quiet")
print("note: both tools drew Poisson arrivals (unless ARRIVALS=uniform); at scale 1 every"
      " transaction locks the one pgbench_branches row until COMMIT, so bunched arrivals queue.")
sys.exit(0 if ok else 1)
PY
