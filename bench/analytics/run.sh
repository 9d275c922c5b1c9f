#!/usr/bin/env bash
# bench/analytics/run.sh — the analytics benchmark (part of `make bench`):
# the same questions asked of Flywheel, DuckDB and ClickHouse on the same data.
#
#  1. gen.c (built here with cc -O2) writes a seeded dataset: FW_BENCH_EVENTS
#     events (default 10,000,000) of events/100 people and people/5 accounts over
#     90 days, as Segment NDJSON (~180 B a line) and as a TSV of integer ids
#     (person after identity resolution, account, event name, time in ms), and
#     (unless BENCH_SKIP_CLICKHOUSE) every message whole as a 10-column TSV
#  2. loads: `flywheel import` of the NDJSON; ClickHouse (Debian's 18.16, a
#     private server on 127.0.0.1) INSERT of the TSV into a MergeTree ORDER BY
#     (person_id, time) + OPTIMIZE FINAL; DuckDB (npm @duckdb/node-api) table
#     sorted by (person_id, time) in a database file
#  3. bench.mjs: `flywheel serve` open time (start -> first query answered), then
#     funnel, retention, DAU/MAU, accounts and events, each engine a warm-up plus
#     FW_BENCH_RUNS (>= 5) timed runs; answers cross-checked (MISMATCH -> exit 1)
#  4. after the questions (so that it moves no memory figure), bench.mjs loads
#     the full TSV into ClickHouse `events_full` (MergeTree ORDER BY (user_id,
#     anonymous_id, time_ms), default LZ4; plus `events_full_zstd` with
#     CODEC(ZSTD(3)) where the server has column codecs, which 18.16 has not):
#     bytes on disk for the same events Flywheel keeps, vs Flywheel's directory
#  5. table on stdout, bench/out/analytics.json; big files removed at the end
#
# Knobs: FW_BENCH_EVENTS=10000000 FW_BENCH_PEOPLE FW_BENCH_ACCOUNTS FW_BENCH_SEED
#   FW_BENCH_RUNS=5 FW_BENCH_KEEP=1 (keep data files) FLYWHEEL_BIN=build/flywheel
#   BENCH_SKIP_CLICKHOUSE=1 BENCH_NO_INSTALL=1 (don't apt-get clickhouse)
# Every server listens on 127.0.0.1 only and is stopped on exit; every wait is bounded.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH=$(dirname "$HERE")
ROOT=$(dirname "$BENCH")
OUT=$BENCH/out
. "$BENCH/clickhouse-config.sh"
A=$OUT/analytics            # data files and logs of this benchmark
RESULT=$OUT/analytics.json
mkdir -p "$A/logs"
LOGS=$A/logs
# work from $A: all paths are absolute, and no ./flywheel.yaml of the caller's
# directory applies (Flywheel runs on its built-in defaults, as the SQL assumes)
cd "$A" || exit 2

EVENTS=${FW_BENCH_EVENTS:-10000000}
RUNS=${FW_BENCH_RUNS:-5}
SEED=${FW_BENCH_SEED:-20250106}
FLYWHEEL_BIN=${FLYWHEEL_BIN:-$ROOT/build/flywheel}
THREADS=$(nproc)
SECRET_KEY="sk_analytics_$(date +%s)_$$"
WRITE_KEY="wk_analytics_$(date +%s)_$$"
PIDS=()

alive() { local s; s=$(ps -o stat= -p "$1" 2>/dev/null) || return 1; [[ $s != Z* ]]; }
big_files() { echo "$A/events.ndjson $A/events.tsv $A/events-full.tsv $A/flywheel $A/clickhouse $A/duckdb"; }
cleanup() { # TERM to every process started here at once, KILL what is left after 4 s
    local pid left
    for pid in "${PIDS[@]:-}"; do [ -n "$pid" ] && alive "$pid" && kill -TERM "$pid" 2>/dev/null; done
    for _ in $(seq 40); do
        left=0
        for pid in "${PIDS[@]:-}"; do [ -n "$pid" ] && alive "$pid" && left=1; done
        [ $left = 0 ] && break
        sleep 0.1
    done
    for pid in "${PIDS[@]:-}"; do [ -n "$pid" ] && alive "$pid" && kill -KILL "$pid" 2>/dev/null; done
    if [ -n "${FW_BENCH_KEEP:-}" ]; then echo "analytics: kept the data in $A" >&2; else
        # shellcheck disable=SC2046
        rm -rf $(big_files)
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '\n== analytics: %s\n' "$*" >&2; }
die() { echo "analytics: $*" >&2; exit 2; }
now_ms() { date +%s%3N; }
free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
jget() { node -e 'const o=JSON.parse(require("fs").readFileSync(process.argv[1]));const v=o[process.argv[2]];process.stdout.write(v===undefined?"":String(v))' "$1" "$2"; }
# run_bounded SECONDS INPUT LOG CMD...: in the background (so INT/TERM reach the trap),
# bounded by timeout; INPUT is its stdin (a background job's is /dev/null otherwise)
run_bounded() {
    local secs=$1 input=$2 logf=$3; shift 3
    timeout "$secs" "$@" <"$input" >"$logf" 2>&1 &
    local p=$!
    PIDS+=("$p")
    wait "$p"
}

command -v node >/dev/null || die "node is required"
command -v npm >/dev/null || die "npm is required"

# ---------------------------------------------------------------- build, disk
say "build"
CC=${CC:-cc}
if [ ! -x "$A/gen" ] || [ "$HERE/gen.c" -nt "$A/gen" ]; then
    $CC -O2 -std=c17 -Wall -Wextra -o "$A/gen" "$HERE/gen.c" -lm || die "cannot build gen.c"
fi
if [ ! -x "$FLYWHEEL_BIN" ]; then
    make -C "$ROOT" -j"$THREADS" build/flywheel >"$LOGS/make.log" 2>&1 || { tail -5 "$LOGS/make.log" >&2; die "make build/flywheel failed"; }
fi
if [ ! -d "$HERE/node_modules/@duckdb/node-api" ] || [ "$HERE/package-lock.json" -nt "$HERE/node_modules/.package-lock.json" ]; then
    (cd "$HERE" && timeout 600 npm ci --no-audit --no-fund >"$LOGS/npm.log" 2>&1) || { tail -5 "$LOGS/npm.log" >&2; die "npm ci in bench/analytics failed"; }
fi
# shellcheck disable=SC2046
rm -rf $(big_files)
# NDJSON ~185 B, TSV ~35 B, full TSV ~95 B, Flywheel's directory, ClickHouse (4 columns
# and the full messages, twice while OPTIMIZE FINAL merges) and DuckDB: ~900 B an event at most
NEED_MB=$((EVENTS * 900 / 1048576 + 512))
FREE_MB=$(df -Pm "$A" | awk 'NR==2{print $4}')
[ "$FREE_MB" -ge "$NEED_MB" ] || die "$A has $FREE_MB MiB free, the run needs about $NEED_MB MiB (lower FW_BENCH_EVENTS)"

# ---------------------------------------------------------------- generate
say "generate $EVENTS events (seed $SEED)"
GEN_ARGS=(--events "$EVENTS" --seed "$SEED" --ndjson "$A/events.ndjson" --tsv "$A/events.tsv" --names "$A/names.tsv")
[ -n "${FW_BENCH_PEOPLE:-}" ] && GEN_ARGS+=(--people "$FW_BENCH_PEOPLE")
[ -n "${FW_BENCH_ACCOUNTS:-}" ] && GEN_ARGS+=(--accounts "$FW_BENCH_ACCOUNTS")
[ -z "${BENCH_SKIP_CLICKHOUSE:-}" ] && GEN_ARGS+=(--full-tsv "$A/events-full.tsv")
T0=$(now_ms)
timeout 1800 "$A/gen" "${GEN_ARGS[@]}" >"$A/gen.json" 2>"$LOGS/gen.err" &
GP=$!; PIDS+=("$GP")
wait "$GP" || { cat "$LOGS/gen.err" >&2; die "gen failed"; }
echo "   $(cat "$A/gen.json") in $(( $(now_ms) - T0 )) ms" >&2

LOADS=$A/loads.json
echo '{}' >"$LOADS"
setload() { node -e 'const fs=require("fs");const [f,k,v]=process.argv.slice(1);const o=JSON.parse(fs.readFileSync(f));o[k]=isNaN(Number(v))||v===""?v:Number(v);fs.writeFileSync(f,JSON.stringify(o))' "$LOADS" "$1" "$2"; }

# ---------------------------------------------------------------- flywheel import
say "flywheel import"
mkdir -p "$A/flywheel"
sync
T0=$(now_ms)
FLYWHEEL_WRITE_KEY=$WRITE_KEY FLYWHEEL_SECRET_KEY=$SECRET_KEY run_bounded 3600 /dev/null "$LOGS/flywheel-import.log" \
    "$FLYWHEEL_BIN" import --data "$A/flywheel" "$A/events.ndjson"
IRC=$?
T1=$(now_ms)
tr '\r' '\n' <"$LOGS/flywheel-import.log" | grep -v '^$' | tail -3 >&2
[ $IRC -eq 0 ] || die "flywheel import failed (status $IRC), see $LOGS/flywheel-import.log"
setload flywheel_import_s "$(node -e "console.log(($T1-$T0)/1000)")"
DURABLE=$(tr '\r' '\n' <"$LOGS/flywheel-import.log" | sed -nE 's/.*events durable after ([0-9.]+) s.*/\1/p' | tail -1)
setload flywheel_durable_s "${DURABLE:-}"
setload flywheel_disk_bytes "$(du -s --block-size=1 "$A/flywheel" | cut -f1)"
echo "   $(( T1 - T0 )) ms, $(du -sm "$A/flywheel" | cut -f1) MiB" >&2

# ---------------------------------------------------------------- clickhouse
CH_URL="" CH_PID="" CH_REASON="" CH_CLI="" CH_TCP=""
clickhouse_up() {
    if [ -n "${BENCH_SKIP_CLICKHOUSE:-}" ]; then CH_REASON="skipped (BENCH_SKIP_CLICKHOUSE)"; return 1; fi
    local srv cli
    srv=$(command -v clickhouse-server || command -v clickhouse)
    cli=$(command -v clickhouse-client)
    if { [ -z "$srv" ] || [ -z "$cli" ]; } && [ -z "${BENCH_NO_INSTALL:-}" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null && [ -x /usr/sbin/policy-rc.d ]; then
        echo "   installing clickhouse-server clickhouse-client (Debian 18.16)" >&2
        DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -q clickhouse-server clickhouse-client >"$LOGS/clickhouse-apt.log" 2>&1 ||
            { timeout 300 apt-get update -q >>"$LOGS/clickhouse-apt.log" 2>&1 &&
              DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -q clickhouse-server clickhouse-client >>"$LOGS/clickhouse-apt.log" 2>&1; }
        srv=$(command -v clickhouse-server || command -v clickhouse)
        cli=$(command -v clickhouse-client)
    fi
    if [ -z "$srv" ] || [ -z "$cli" ]; then CH_REASON="clickhouse-server/clickhouse-client not installed"; return 1; fi
    local dir=$A/clickhouse tcp http
    tcp=$(free_port); http=$(free_port)
    while [ "$http" = "$tcp" ]; do http=$(free_port); done
    ch_write_config "$dir" "$tcp" "$http" 16000000000
    "$srv" --config-file="$dir/config.xml" >"$LOGS/clickhouse-server.log" 2>&1 &
    CH_PID=$!
    PIDS+=("$CH_PID")
    local up=0
    for _ in $(seq 150); do
        curl -s -m 2 "http://127.0.0.1:$http/?query=SELECT%201" 2>/dev/null | grep -q '^1$' && { up=1; break; }
        alive "$CH_PID" || break
        sleep 0.2
    done
    if [ $up = 0 ]; then
        CH_REASON="clickhouse-server did not start: $(tail -2 "$dir/server.err.log" 2>/dev/null | tr '\n' ' ' | head -c 200)"
        return 1
    fi
    CH_URL=http://127.0.0.1:$http
    CH_CLI=$cli CH_TCP=$tcp
    local cq=("$cli" --host 127.0.0.1 --port "$tcp")
    local cq60=(timeout 60 "${cq[@]}")
    setload clickhouse_version "$("${cq60[@]}" -q 'SELECT version()')"
    "${cq60[@]}" -q "CREATE TABLE events (person_id UInt32, account_id UInt32, name_id UInt8, time UInt64)
        ENGINE = MergeTree() ORDER BY (person_id, time)" 2>"$LOGS/clickhouse-client.log" ||
        { CH_REASON="CREATE TABLE failed: $(head -c 200 "$LOGS/clickhouse-client.log")"; return 1; }
    sync
    local t0 t1 t2
    t0=$(now_ms)
    run_bounded 1800 "$A/events.tsv" "$LOGS/clickhouse-insert.log" "${cq[@]}" -q "INSERT INTO events FORMAT TabSeparated" ||
        { CH_REASON="INSERT failed: $(head -c 300 "$LOGS/clickhouse-insert.log" | tr '\n' ' ')"; return 1; }
    t1=$(now_ms)
    run_bounded 1800 /dev/null "$LOGS/clickhouse-optimize.log" "${cq[@]}" -q "OPTIMIZE TABLE events FINAL" ||
        { CH_REASON="OPTIMIZE failed: $(head -c 300 "$LOGS/clickhouse-optimize.log" | tr '\n' ' ')"; return 1; }
    t2=$(now_ms)
    setload clickhouse_insert_s "$(node -e "console.log(($t1-$t0)/1000)")"
    setload clickhouse_optimize_s "$(node -e "console.log(($t2-$t1)/1000)")"
    setload clickhouse_load_s "$(node -e "console.log(($t2-$t0)/1000)")"
    echo "   $("${cq60[@]}" -q 'SELECT count() FROM events') rows, insert $((t1 - t0)) ms, optimize $((t2 - t1)) ms" >&2
    return 0
}
say "clickhouse: load"
if ! clickhouse_up; then
    echo "   clickhouse: not available ($CH_REASON)" >&2
    CH_URL=""
fi

# ---------------------------------------------------------------- flywheel serve + the questions
say "questions (median of $RUNS runs after a warm-up)"
FW_PORT=$(free_port)
FW_START_MS=$(now_ms)
FLYWHEEL_WRITE_KEY=$WRITE_KEY FLYWHEEL_SECRET_KEY=$SECRET_KEY \
    "$FLYWHEEL_BIN" serve --data "$A/flywheel" --listen "127.0.0.1:$FW_PORT" >"$LOGS/flywheel-serve.log" 2>&1 &
FW_PID=$!
PIDS+=("$FW_PID")

mkdir -p "$A/duckdb"
FWA_FW_URL=http://127.0.0.1:$FW_PORT FWA_FW_PID=$FW_PID FWA_FW_LOG=$LOGS/flywheel-serve.log FWA_FW_START_MS=$FW_START_MS \
FWA_SECRET=$SECRET_KEY FWA_FW_VERSION="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)" \
FWA_CH_URL=$CH_URL FWA_CH_PID=$CH_PID FWA_CH_REASON=$CH_REASON FWA_CH_CLIENT=$CH_CLI FWA_CH_TCP=$CH_TCP \
FWA_FULL_TSV=$( [ -f "$A/events-full.tsv" ] && echo "$A/events-full.tsv") \
FWA_DUCK_DB=$A/duckdb/events.duckdb FWA_TSV=$A/events.tsv FWA_NAMES=$A/names.tsv FWA_GEN=$A/gen.json FWA_LOADS=$LOADS \
FWA_RUNS=$RUNS FWA_THREADS=$THREADS FWA_OUT=$RESULT FWA_LOGS=$LOGS \
FWA_MACHINE="$(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr), node $(node --version)" \
    timeout 7200 node "$HERE/bench.mjs" &
BP=$!
PIDS+=("$BP")
wait "$BP"
RC=$?
grep -iE "error|fatal|abort|assert|sanitizer" "$LOGS/flywheel-serve.log" | head -5 >&2
[ $RC -eq 0 ] || echo "analytics: bench.mjs exited with status $RC" >&2
exit $RC
