#!/usr/bin/env bash
# bench/run.sh — Flywheel benchmarks (`make bench`). About 2–3 minutes.
#
#  1. durable HTTP ingest: bench/out/loadgen, closed loop, N keep-alive connections,
#     POST /v1/batch with 100 ~530-byte Segment track events per request
#     -> events/s, p50/p99 ack latency                    (goal >= 250,000 events/s)
#  2. the same, open loop paced at HALF the rate measured in 1
#     -> p99 ack latency, measured from the scheduled send time (goal <= 20 ms)
#  3. 1 and 2 against bench/node-discard.mjs (node:http, reads and drops bodies)
#     -> ratio flywheel/node
#  4. `flywheel import FILE` on a generated NDJSON file of Segment messages
#     -> events/s and MB/s                                (goal >= 1,000,000 events/s)
#     and the same file loaded by ClickHouse (INSERT ... FORMAT JSONEachRow into
#     a MergeTree table on a private clickhouse-server) -> ratio
#  5. json_bench (our JSON parser vs jansson), if build/json_bench or bench/out/json_bench exists
#  6. bench/analytics/run.sh: funnel, retention, DAU/MAU, accounts, events in Flywheel,
#     DuckDB and ClickHouse on one generated dataset (FW_BENCH_EVENTS, 10M), cross-checked
#  7. bench/scoring/run.sh: full PQL rescore and event-to-score latency (10M messages)
#  8. bench/entitlements/run.sh: entitlement checks in-process and over HTTP
#     (goal >= 50,000 checks/s with p99 under 2 ms), meter update cost per
#     event against SQLite; bench/out/entitlements.json (~2 minutes)
# Prints a table and writes bench/out/results.json. Every server it starts
# listens on 127.0.0.1 only and is killed on exit.
#
# Knobs (environment): BENCH_CONNECTIONS=8 BENCH_DURATION=10 BENCH_WARMUP=2
#   BENCH_BATCH=100 BENCH_IMPORT_LINES=2000000 FLYWHEEL_BIN=build/flywheel
#   BENCH_TMP=/tmp (must be a real disk: fdatasync on tmpfs is free)
#   BENCH_SKIP_CLICKHOUSE=1  BENCH_NO_INSTALL=1 (don't apt-get clickhouse)
#   BENCH_KEEP=1 (keep the temporary data directories)
#   BENCH_SKIP_ANALYTICS=1, FW_BENCH_EVENTS=10000000 (analytics; more in bench/README.md)
#   BENCH_SKIP_SCORING=1, BENCH_SKIP_ENTITLEMENTS=1 (FW_BENCH_ENT_* in bench/README.md)
set -uo pipefail

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH")
OUT=$BENCH/out
. "$BENCH/clickhouse-config.sh"
mkdir -p "$OUT"

CONNS=${BENCH_CONNECTIONS:-8}
DURATION=${BENCH_DURATION:-10}
WARMUP=${BENCH_WARMUP:-2}
BATCH=${BENCH_BATCH:-100}
IMPORT_LINES=${BENCH_IMPORT_LINES:-2000000}
FLYWHEEL_BIN=${FLYWHEEL_BIN:-$ROOT/build/flywheel}
WRITE_KEY="wk_bench_$(date +%s)_$$"
SECRET_KEY="sk_bench_$(date +%s)_$$"
R=$OUT/results.d          # one JSON file per measurement, assembled by report.mjs
rm -rf "$R" && mkdir -p "$R"
LOGS=$OUT/logs
rm -rf "$LOGS" && mkdir -p "$LOGS"

TMP=$(mktemp -d "${BENCH_TMP:-/tmp}/flywheel-bench.XXXXXX")
PIDS=()

cleanup() {
    local pid
    for pid in "${PIDS[@]:-}"; do
        [ -n "$pid" ] || continue
        if alive "$pid"; then
            kill -TERM "$pid" 2>/dev/null
            for _ in $(seq 50); do alive "$pid" || break; sleep 0.1; done
            alive "$pid" && kill -KILL "$pid" 2>/dev/null
        fi
    done
    [ -n "${BENCH_KEEP:-}" ] && { echo "bench: kept $TMP" >&2; return; }
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '\n== %s\n' "$*" >&2; }
note() { # note KEY TEXT: a line for the report
    node -e 'const fs=require("fs");const [f,k,v]=process.argv.slice(1);let o={};try{o=JSON.parse(fs.readFileSync(f))}catch{}o[k]=v;fs.writeFileSync(f,JSON.stringify(o))' "$R/notes.json" "$1" "$2"
}
jget() { node -e 'const o=JSON.parse(require("fs").readFileSync(process.argv[1]));const v=o[process.argv[2]];process.stdout.write(v===undefined?"":String(v))' "$1" "$2"; }
free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
now() { date +%s.%N; }

alive() { local s; s=$(ps -o stat= -p "$1" 2>/dev/null) || return 1; [[ $s != Z* ]]; }

# stop_pid PID NAME: SIGTERM, wait up to 10 s, then SIGKILL. Sets STOPPED to
# "exit:N", "killed" or "exited-early:N". Not in a subshell: `wait` needs the parent.
STOPPED=""
stop_pid() {
    local pid=$1 name=$2 rc
    if ! alive "$pid"; then
        wait "$pid" 2>/dev/null; rc=$?
        echo "bench: $name had already exited (status $rc)" >&2
        STOPPED="exited-early:$rc"
        return
    fi
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 100); do alive "$pid" || break; sleep 0.1; done
    if alive "$pid"; then
        echo "bench: $name still running 10 s after SIGTERM, sending SIGKILL" >&2
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        STOPPED="killed"
        return
    fi
    wait "$pid" 2>/dev/null; rc=$?
    STOPPED="exit:$rc"
}

# wait_ready LOGFILE PID PATTERN SECONDS
wait_ready() {
    local log=$1 pid=$2 pat=$3 secs=$4 i
    for i in $(seq $((secs * 10))); do
        grep -q "$pat" "$log" 2>/dev/null && return 0
        alive "$pid" || return 1
        sleep 0.1
    done
    return 1
}

command -v node >/dev/null || { echo "bench: node is required (node-discard, ports, report)" >&2; exit 1; }

# ---------------------------------------------------------------- build
say "build"
CC=${CC:-cc}
build_tool() { # build_tool NAME SOURCE [extra flags]
    local name=$1 src=$2; shift 2
    if [ ! -x "$OUT/$name" ] || [ "$BENCH/$src" -nt "$OUT/$name" ] || [ "$BENCH/events.h" -nt "$OUT/$name" ]; then
        $CC -O2 -g -std=c17 -Wall -Wextra -pthread -o "$OUT/$name" "$BENCH/$src" "$@" || { echo "bench: cannot build $name" >&2; exit 1; }
    fi
}
build_tool loadgen loadgen.c
build_tool gen-ndjson gen-ndjson.c
FLYWHEEL_OK=1
if [ ! -x "$FLYWHEEL_BIN" ]; then
    if ! make -C "$ROOT" -j2 build/flywheel >"$LOGS/make.log" 2>&1; then
        tail -5 "$LOGS/make.log" >&2
        FLYWHEEL_OK=0
        note flywheel_build "make build/flywheel failed: $(grep -v -E '^make(\[[0-9]+\])?: (Entering|Leaving)' "$LOGS/make.log" | grep -m1 -E 'error|Error|\*\*\*' | head -c 300)"
    fi
fi
[ -x "$FLYWHEEL_BIN" ] || FLYWHEEL_OK=0

FSTYPE=$(df -T "$TMP" | awk 'NR==2{print $2}')
note data_fs "$TMP on $FSTYPE"
if [ "$FSTYPE" = tmpfs ]; then
    echo "bench: WARNING: $TMP is on tmpfs, fdatasync costs nothing there; set BENCH_TMP to a real disk" >&2
fi
note machine "$(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr), node $(node --version)"

# loadgen PHASE URL [--rate R]  -> $R/PHASE.json
run_load() {
    local phase=$1 url=$2; shift 2
    "$OUT/loadgen" --url "$url" --path /v1/batch --key "$WRITE_KEY" --connections "$CONNS" \
        --duration "$DURATION" --warmup "$WARMUP" --batch "$BATCH" --label "$phase" --timeline "$LOGS/$phase.timeline.txt" "$@" \
        >"$R/$phase.json" 2>"$LOGS/$phase.loadgen.err" &
    local lg=$! rc
    PIDS+=("$lg")
    wait "$lg"; rc=$?   # in the background so that INT/TERM reach the trap at once
    if [ $rc -ne 0 ] || [ ! -s "$R/$phase.json" ]; then
        echo "bench: loadgen $phase failed (status $rc)" >&2
        cat "$LOGS/$phase.loadgen.err" >&2
        rm -f "$R/$phase.json"
        return 1
    fi
    cat "$LOGS/$phase.loadgen.err" >&2
    node -e 'const o=JSON.parse(require("fs").readFileSync(process.argv[1]));console.error(`   ${o.label}: ${Math.round(o.events_per_s).toLocaleString("en")} events/s  p50 ${o.p50_ms} ms  p99 ${o.p99_ms} ms  max ${o.max_ms} ms  ${o.mb_per_s} MB/s  requests ${o.requests} errors ${o.errors} non2xx ${o.non2xx}`)' "$R/$phase.json"
}

# ---------------------------------------------------------------- flywheel serve
HALF=""
if [ $FLYWHEEL_OK = 1 ]; then
    say "flywheel serve: closed loop, $CONNS connections, ${DURATION}s (+${WARMUP}s warm-up)"
    FW_PORT=$(free_port)
    mkdir -p "$TMP/serve"
    FLYWHEEL_WRITE_KEY=$WRITE_KEY FLYWHEEL_SECRET_KEY=$SECRET_KEY \
        "$FLYWHEEL_BIN" serve --data "$TMP/serve" --listen "127.0.0.1:$FW_PORT" >"$LOGS/flywheel-serve.log" 2>&1 &
    FW_PID=$!
    PIDS+=("$FW_PID")
    if ! wait_ready "$LOGS/flywheel-serve.log" "$FW_PID" "flywheel: listening on" 20; then
        echo "bench: flywheel serve did not become ready:" >&2
        tail -20 "$LOGS/flywheel-serve.log" >&2
        note flywheel_serve "did not print 'listening' within 20 s: $(tail -3 "$LOGS/flywheel-serve.log" | tr '\n' ' ' | head -c 300)"
    else
        URL=http://127.0.0.1:$FW_PORT
        run_load flywheel_max "$URL"
        MAX=$( [ -s "$R/flywheel_max.json" ] && jget "$R/flywheel_max.json" events_per_s || echo 0)
        if [ "${MAX%.*}" -gt 0 ] 2>/dev/null && alive "$FW_PID"; then
            HALF=$(node -e "console.log(Math.round($MAX/2))")
            sleep 3   # let any background work from the saturating run settle
            say "flywheel serve: open loop at half the max, $HALF events/s"
            run_load flywheel_half "$URL" --rate "$HALF"
        fi
        # every acknowledged event must be countable afterwards
        if alive "$FW_PID"; then
            ACKED=$(node -e 'const fs=require("fs");let n=0;for(const f of process.argv.slice(1)){try{n+=JSON.parse(fs.readFileSync(f)).acked_events_total}catch{}}console.log(n)' "$R"/flywheel_*.json)
            COUNT=""
            C0=$(now)
            for _ in $(seq 60); do   # at most ~30 s for the count to catch up
                COUNT=$(curl -s -m 5 -H "Authorization: Bearer $SECRET_KEY" "$URL/api/v1/events/count" |
                    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{console.log(JSON.parse(s).total)}catch{console.log("")}})')
                [ -n "$COUNT" ] && [ "$COUNT" -ge "$ACKED" ] 2>/dev/null && break
                sleep 0.5
            done
            C1=$(now)
            echo "   acknowledged events $ACKED, /api/v1/events/count total ${COUNT:-?} (after $(node -e "console.log(($C1-$C0).toFixed(1))") s)" >&2
            node -e 'require("fs").writeFileSync(process.argv[1],JSON.stringify({acked:+process.argv[2],count:process.argv[3]===""?null:+process.argv[3],wait_s:process.argv[5]-process.argv[4]}))' \
                "$R/flywheel_count.json" "$ACKED" "${COUNT:-}" "$C0" "$C1"
        fi
        RSS=$(awk '/VmHWM/{print $2}' /proc/"$FW_PID"/status 2>/dev/null)
        [ -n "$RSS" ] && note flywheel_serve_peak_rss "$((RSS / 1024)) MiB"
        DISK=$(du -sm "$TMP/serve" | cut -f1)
        note flywheel_serve_data "$DISK MiB in the data directory after the HTTP runs"
    fi
    stop_pid "$FW_PID" "flywheel serve"
    note flywheel_serve_stop "$STOPPED"
    [ "$STOPPED" = "exit:0" ] || echo "bench: flywheel serve stopped with $STOPPED" >&2
    grep -iE "error|warn|fatal|abort|assert|sanitizer" "$LOGS/flywheel-serve.log" | head -5 >&2
fi

# ---------------------------------------------------------------- node discard
say "node-discard: closed loop, then open loop at the same rate as flywheel's half-max run"
NODE_PORT=$(free_port)
node "$BENCH/node-discard.mjs" --listen "127.0.0.1:$NODE_PORT" >"$LOGS/node-discard.log" 2>&1 &
NODE_PID=$!
PIDS+=("$NODE_PID")
if wait_ready "$LOGS/node-discard.log" "$NODE_PID" "listening on" 10; then
    run_load node_max "http://127.0.0.1:$NODE_PORT"
    NMAX=$( [ -s "$R/node_max.json" ] && jget "$R/node_max.json" events_per_s || echo 0)
    if [ "${NMAX%.*}" -gt 0 ] 2>/dev/null; then
        # the same offered load as flywheel's half-rate run when there was one, else half node's own max
        NRATE=${HALF:-$(node -e "console.log(Math.round($NMAX/2))")}
        run_load node_half "http://127.0.0.1:$NODE_PORT" --rate "$NRATE"
    fi
else
    echo "bench: node-discard did not start" >&2
    cat "$LOGS/node-discard.log" >&2
fi
stop_pid "$NODE_PID" node-discard

# ---------------------------------------------------------------- import
say "import file: $IMPORT_LINES lines"
IMPORT_FILE=$TMP/import.ndjson
"$OUT/gen-ndjson" --lines "$IMPORT_LINES" --out "$IMPORT_FILE" >"$R/import_file.json" &
GEN_PID=$!
PIDS+=("$GEN_PID")
wait "$GEN_PID" || { echo "bench: gen-ndjson failed" >&2; rm -f "$R/import_file.json"; }
if [ -s "$R/import_file.json" ] && [ $FLYWHEEL_OK = 1 ]; then
    say "flywheel import"
    mkdir -p "$TMP/import"
    sync
    T0=$(now)
    FLYWHEEL_WRITE_KEY=$WRITE_KEY FLYWHEEL_SECRET_KEY=$SECRET_KEY \
        timeout 300 "$FLYWHEEL_BIN" import --data "$TMP/import" "$IMPORT_FILE" >"$LOGS/flywheel-import.log" 2>&1 &
    IMP_PID=$!
    PIDS+=("$IMP_PID")
    wait "$IMP_PID"; IRC=$?
    T1=$(now)
    tail -5 "$LOGS/flywheel-import.log" >&2
    # the importer reports when the events were durable (before people/accounts were done)
    DURABLE=$(tr '\r' '\n' <"$LOGS/flywheel-import.log" | sed -nE 's/.*events durable after ([0-9.]+) s.*/\1/p' | tail -1)
    node -e 'const [f,lines,bytes,t0,t1,rc,dur]=process.argv.slice(1);const s=t1-t0;const o={seconds:s,events_per_s:lines/s,mb_per_s:bytes/s/1e6,exit:+rc};
      if(dur){o.durable_seconds=+dur;o.durable_events_per_s=lines/dur;}require("fs").writeFileSync(f,JSON.stringify(o))' \
        "$R/flywheel_import.json" "$(jget "$R/import_file.json" lines)" "$(jget "$R/import_file.json" bytes)" "$T0" "$T1" "$IRC" "$DURABLE"
    echo "   $(node -e 'const o=require(process.argv[1]);console.log(`${Math.round(o.events_per_s).toLocaleString("en")} events/s, ${o.mb_per_s.toFixed(1)} MB/s, ${o.seconds.toFixed(2)} s, exit ${o.exit}`)' "$R/flywheel_import.json")" >&2
    note flywheel_import_data "$(du -sm "$TMP/import" | cut -f1) MiB in the data directory after import"
    # were all lines stored? count them through a short-lived server on the import directory
    if [ $IRC -eq 0 ]; then
        IP=$(free_port)
        FLYWHEEL_WRITE_KEY=$WRITE_KEY FLYWHEEL_SECRET_KEY=$SECRET_KEY \
            "$FLYWHEEL_BIN" serve --data "$TMP/import" --listen "127.0.0.1:$IP" >"$LOGS/flywheel-import-verify.log" 2>&1 &
        VP=$!
        PIDS+=("$VP")
        if wait_ready "$LOGS/flywheel-import-verify.log" "$VP" "flywheel: listening on" 60; then
            ICOUNT=$(curl -s -m 30 -H "Authorization: Bearer $SECRET_KEY" "http://127.0.0.1:$IP/api/v1/events/count" |
                node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{console.log(JSON.parse(s).total)}catch{console.log("")}})')
            # /api/v1/events/count counts events (track, page); identify/group lines are not events
            EXPECT=$(node -e 'const o=require(process.argv[1]);console.log(o.track+o.page)' "$R/import_file.json")
            echo "   /api/v1/events/count after import: ${ICOUNT:-?}, expected $EXPECT (track+page lines)" >&2
            node -e 'require("fs").writeFileSync(process.argv[1],JSON.stringify({expected:+process.argv[2],count:process.argv[3]===""?null:+process.argv[3]}))' \
                "$R/flywheel_import_count.json" "$EXPECT" "${ICOUNT:-}"
        else
            note flywheel_import_check "could not start serve on the imported data to count it"
        fi
        stop_pid "$VP" "flywheel serve (import check)"
    fi
fi

# ---------------------------------------------------------------- clickhouse
CH_REASON=""
clickhouse_bench() {
    if [ -n "${BENCH_SKIP_CLICKHOUSE:-}" ]; then CH_REASON="skipped (BENCH_SKIP_CLICKHOUSE)"; return 1; fi
    local srv cli
    srv=$(command -v clickhouse-server || command -v clickhouse)
    cli=$(command -v clickhouse-client)
    if { [ -z "$srv" ] || [ -z "$cli" ]; } && [ -z "${BENCH_NO_INSTALL:-}" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        # the Debian package would start a system service unless policy-rc.d forbids it
        if [ -x /usr/sbin/policy-rc.d ]; then
            echo "   installing clickhouse-server clickhouse-client (Debian 18.16)" >&2
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q clickhouse-server clickhouse-client >"$LOGS/clickhouse-apt.log" 2>&1 ||
                { apt-get update -q >>"$LOGS/clickhouse-apt.log" 2>&1 &&
                  DEBIAN_FRONTEND=noninteractive apt-get install -y -q clickhouse-server clickhouse-client >>"$LOGS/clickhouse-apt.log" 2>&1; }
            srv=$(command -v clickhouse-server || command -v clickhouse)
            cli=$(command -v clickhouse-client)
        fi
    fi
    if [ -z "$srv" ] || [ -z "$cli" ]; then
        CH_REASON="clickhouse-server/clickhouse-client not installed and not installable here (apt-get install clickhouse-server clickhouse-client; see $LOGS/clickhouse-apt.log)"
        return 1
    fi
    local dir=$TMP/clickhouse port
    port=$(free_port)
    ch_write_config "$dir" "$port" "" 8000000000
    "$srv" --config-file="$dir/config.xml" >"$LOGS/clickhouse-server.log" 2>&1 &
    local pid=$!
    PIDS+=("$pid")
    local up=0
    for _ in $(seq 100); do
        "$cli" --host 127.0.0.1 --port "$port" -q "SELECT 1" >/dev/null 2>&1 && { up=1; break; }
        alive "$pid" || break
        sleep 0.2
    done
    if [ $up = 0 ]; then
        stop_pid "$pid" clickhouse-server
        CH_REASON="clickhouse-server did not start: $(tail -2 "$LOGS/clickhouse-server.log" "$dir/server.err.log" 2>/dev/null | tr '\n' ' ' | head -c 200)"
        return 1
    fi
    local ver
    ver=$("$cli" --host 127.0.0.1 --port "$port" -q "SELECT version()")
    # 18.16's JSONEachRow cannot put a JSON object into a column, so the nested
    # objects (properties, context, traits, integrations, _metadata) are skipped
    # with input_format_skip_unknown_fields and only the top-level scalars stored.
    "$cli" --host 127.0.0.1 --port "$port" -q "CREATE TABLE events (timestamp String, type String, event String,
        userId String, anonymousId String, groupId String, name String, category String, messageId String)
        ENGINE = MergeTree() ORDER BY (timestamp, messageId)" 2>"$LOGS/clickhouse-client.log" ||
        { stop_pid "$pid" clickhouse-server; CH_REASON="CREATE TABLE failed: $(head -c 200 "$LOGS/clickhouse-client.log")"; return 1; }
    local t0 t1 rc rows
    sync
    t0=$(now)
    timeout 300 "$cli" --host 127.0.0.1 --port "$port" --input_format_skip_unknown_fields=1 \
        -q "INSERT INTO events FORMAT JSONEachRow" <"$IMPORT_FILE" 2>>"$LOGS/clickhouse-client.log" &
    local ins=$!
    PIDS+=("$ins")
    wait "$ins"; rc=$?
    t1=$(now)
    rows=$("$cli" --host 127.0.0.1 --port "$port" -q "SELECT count() FROM events" 2>/dev/null)
    stop_pid "$pid" clickhouse-server
    if [ $rc -ne 0 ]; then
        CH_REASON="INSERT failed (status $rc): $(head -c 300 "$LOGS/clickhouse-client.log" | tr '\n' ' ')"
        return 1
    fi
    node -e 'const [f,lines,bytes,t0,t1,rows,ver]=process.argv.slice(1);const s=t1-t0;require("fs").writeFileSync(f,JSON.stringify({seconds:s,events_per_s:lines/s,mb_per_s:bytes/s/1e6,rows:+rows,version:ver,
      what:"clickhouse-server "+ver+" on 127.0.0.1, clickhouse-client INSERT INTO MergeTree FORMAT JSONEachRow; top-level scalar fields only (18.16 cannot store the nested objects, they are parsed and skipped); no fsync"}))' \
        "$R/clickhouse_import.json" "$(jget "$R/import_file.json" lines)" "$(jget "$R/import_file.json" bytes)" "$t0" "$t1" "${rows:-0}" "$ver"
    echo "   $(node -e 'const o=require(process.argv[1]);console.log(`clickhouse ${o.version}: ${Math.round(o.events_per_s).toLocaleString("en")} events/s, ${o.mb_per_s.toFixed(1)} MB/s, ${o.seconds.toFixed(2)} s, ${o.rows} rows`)' "$R/clickhouse_import.json")" >&2
    return 0
}
if [ -s "$R/import_file.json" ]; then
    say "clickhouse: same file, INSERT ... FORMAT JSONEachRow"
    if ! clickhouse_bench; then
        echo "clickhouse: not available ($CH_REASON)" >&2
        note clickhouse "not available ($CH_REASON)"
    fi
fi
rm -f "$IMPORT_FILE"

# ---------------------------------------------------------------- JSON parser micro-benchmark (hook)
# json_bench (bench/json_bench.c) is built by the Makefile next to the flywheel
# binary (build/json_bench; `make bench` depends on it) or may be dropped into
# bench/out/. Its output is kept verbatim; a last line that is a JSON object is
# put into results.json.
JSON_BENCH=""
for jb in "$OUT/json_bench" "$(dirname "$FLYWHEEL_BIN")/json_bench"; do
    [ -x "$jb" ] && { JSON_BENCH=$jb; break; }
done
if [ -z "$JSON_BENCH" ] && [ -f "$BENCH/json_bench.c" ] && [ "$FLYWHEEL_BIN" = "$ROOT/build/flywheel" ]; then
    make -C "$ROOT" build/json_bench >>"$LOGS/make.log" 2>&1 && JSON_BENCH=$ROOT/build/json_bench
fi
if [ -n "$JSON_BENCH" ]; then
    say "json_bench ($JSON_BENCH)"
    timeout 120 "$JSON_BENCH" >"$LOGS/json_bench.out" 2>&1
    echo "json_bench exit $?" >>"$LOGS/json_bench.out"
    cat "$LOGS/json_bench.out" >&2
    node -e 'const fs=require("fs");const l=fs.readFileSync(process.argv[1],"utf8").trim().split("\n").filter(x=>x.startsWith("{"));let o={raw:fs.readFileSync(process.argv[1],"utf8")};try{o=Object.assign(JSON.parse(l[l.length-1]),o)}catch{}fs.writeFileSync(process.argv[2],JSON.stringify(o))' \
        "$LOGS/json_bench.out" "$R/json_bench.json"
fi

# ---------------------------------------------------------------- report
node "$BENCH/report.mjs" "$R" "$OUT/results.json"

# ---------------------------------------------------------------- analytics
# bench/analytics/run.sh: funnel, retention, DAU/MAU, accounts and events on the same
# generated data in Flywheel, DuckDB and ClickHouse, answers cross-checked; its own table
# and bench/out/analytics.json (bench/README.md). FW_BENCH_EVENTS (10M) sets the size;
# BENCH_SKIP_ANALYTICS=1 skips it. A MISMATCH between the engines fails `make bench`.
if [ -z "${BENCH_SKIP_ANALYTICS:-}" ]; then
    say "analytics: Flywheel vs DuckDB vs ClickHouse (bench/analytics/run.sh, ${FW_BENCH_EVENTS:-10000000} events)"
    FLYWHEEL_BIN=$FLYWHEEL_BIN "$BENCH/analytics/run.sh" &
    AN_PID=$!
    PIDS+=("$AN_PID")
    wait "$AN_PID"; AN_RC=$?
    [ $AN_RC -eq 0 ] || { echo "bench: analytics failed (status $AN_RC)" >&2; exit $AN_RC; }
fi

# ---------------------------------------------------------------- scoring
# bench/scoring/run.sh: a full PQL rescore of the demo company at scale 5 (~120,000
# people, 25,000 accounts, 10M messages) and the time from an event's acknowledgement
# to its person's new score under sustained ingest; bench/out/scoring.json.
# BENCH_SKIP_SCORING=1 skips it; FW_BENCH_SCORING_SCALE sets the size.
if [ -z "${BENCH_SKIP_SCORING:-}" ]; then
    say "scoring: full rescore and event-to-score latency (bench/scoring/run.sh)"
    FLYWHEEL_BIN=$FLYWHEEL_BIN "$BENCH/scoring/run.sh" &
    SC_PID=$!
    PIDS+=("$SC_PID")
    wait "$SC_PID"; SC_RC=$?
    [ $SC_RC -eq 0 ] || { echo "bench: scoring failed (status $SC_RC)" >&2; exit $SC_RC; }
fi

# ---------------------------------------------------------------- entitlements
# bench/entitlements/run.sh: entitlement checks in-process (build/entitlements_inproc:
# preflight, feature, consuming with and without fdatasync; meter updates per event
# against SQLite) and over HTTP (bench/out/loadgen --mode check, 8/16/32 connections,
# closed loop and open loop at 50,000 checks/s; a node:http peer); its own table,
# bench/out/entitlements.json and an "entitlements" member in results.json.
# BENCH_SKIP_ENTITLEMENTS=1 skips it.
if [ -z "${BENCH_SKIP_ENTITLEMENTS:-}" ]; then
    say "entitlements: checks in-process and over HTTP (bench/entitlements/run.sh)"
    FLYWHEEL_BIN=$FLYWHEEL_BIN "$BENCH/entitlements/run.sh" &
    EN_PID=$!
    PIDS+=("$EN_PID")
    wait "$EN_PID"; EN_RC=$?
    [ $EN_RC -eq 0 ] || { echo "bench: entitlements failed (status $EN_RC)" >&2; exit $EN_RC; }
fi
