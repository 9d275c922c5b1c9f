#!/usr/bin/env bash
# bench/entitlements/run.sh — entitlement checks (part of `make bench`;
# BENCH_SKIP_ENTITLEMENTS=1 skips it). About 2 minutes on the 2-core box.
#
#  1. in-process ($(BUILD)/entitlements_inproc, bench/entitlements/inproc.c):
#     the engine with bench/entitlements/flywheel.yaml and 10,000 accounts fed
#     through fw_billing_feed -> per-check p50/p99/p999 and checks/s of
#     preflight meter checks, feature checks, consuming checks with an emit
#     that does nothing, and consuming checks against a real embedded store
#     (answer after fdatasync, group commit) from 1 and 8 threads; meter
#     update cost per ingested event (fw_billing_feed of 1M events) against
#     the same counting in SQLite (upserts, WAL) -> ratio
#  2. over HTTP: `flywheel serve` on 127.0.0.1 with the same accounts
#     (`flywheel import` of their group calls and events, their api_calls
#     usage through POST /api/v1/usage), bench/out/loadgen --mode check, one
#     request in flight per keep-alive connection:
#       GET /healthz (the HTTP layer with a trivial handler), GET and POST
#       preflights, feature checks and consuming checks (each with and
#       without a user_id), closed loop at 8/16/32 connections for the most checks/s,
#       open loop at FW_BENCH_ENT_RATE (50,000) checks/s for the latency at
#       the goal rate (consuming checks: at half their closed-loop best);
#       server and client CPU per check from /proc and getrusage
#     goal: >= 50,000 checks/s with p99 under 2 ms
#  3. table on stdout; bench/out/entitlements.json, and an "entitlements"
#     member in bench/out/results.json when it exists
#
# Knobs: FW_BENCH_ENT_ACCOUNTS=10000 FW_BENCH_ENT_EVENTS=1000000
#   FW_BENCH_ENT_DURATION=2 FW_BENCH_ENT_WARMUP=1 (s per HTTP run)
#   FW_BENCH_ENT_RATE=50000 FW_BENCH_ENT_HTTP=0 (in-process only)
#   FW_BENCH_ENT_INPROC=0 (HTTP only) FLYWHEEL_BIN BENCH_TMP (a real disk)
#   BENCH_KEEP=1 (keep the data directory)
# Every server listens on 127.0.0.1 only and is stopped on exit; every wait is bounded.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH=$(dirname "$HERE")
ROOT=$(dirname "$BENCH")
OUT=$BENCH/out/entitlements
rm -rf "$OUT" && mkdir -p "$OUT"
FLYWHEEL_BIN=${FLYWHEEL_BIN:-$ROOT/build/flywheel}
INPROC=${FW_BENCH_ENT_INPROC_BIN:-$(dirname "$FLYWHEEL_BIN")/entitlements_inproc}
ACCOUNTS=${FW_BENCH_ENT_ACCOUNTS:-10000}
EVENTS=${FW_BENCH_ENT_EVENTS:-1000000}
DUR=${FW_BENCH_ENT_DURATION:-2}
WARM=${FW_BENCH_ENT_WARMUP:-1}
RATE=${FW_BENCH_ENT_RATE:-50000}
LOADGEN=$BENCH/out/loadgen
SECRET="sk_ent_$$_$RANDOM"
WRITE="wk_ent_$$_$RANDOM"
TMP=$(mktemp -d "${BENCH_TMP:-/tmp}/flywheel-ent.XXXXXX")
SRV=""
cleanup() {
	if [ -n "$SRV" ] && kill -0 "$SRV" 2>/dev/null; then
		kill -TERM "$SRV" 2>/dev/null
		for _ in $(seq 100); do kill -0 "$SRV" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$SRV" 2>/dev/null
	fi
	[ -n "${BENCH_KEEP:-}" ] && { echo "entitlements: kept $TMP" >&2; return; }
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
say() { printf '\n== %s\n' "$*" >&2; }
T_START=$(date +%s)

# ---------------------------------------------------------------- tools
if [ ! -x "$INPROC" ] || [ "$HERE/inproc.c" -nt "$INPROC" ]; then
	if [ "$(dirname "$FLYWHEEL_BIN")" = "$ROOT/build" ]; then
		make -C "$ROOT" build/entitlements_inproc >"$OUT/make.log" 2>&1 ||
			{ echo "entitlements: building entitlements_inproc failed (bench/out/entitlements/make.log)" >&2; }
	fi
fi
if [ ! -x "$LOADGEN" ] || [ "$BENCH/loadgen.c" -nt "$LOADGEN" ] || [ "$BENCH/events.h" -nt "$LOADGEN" ]; then
	${CC:-cc} -O2 -pthread -o "$LOADGEN" "$BENCH/loadgen.c" ||
		{ echo "entitlements: cannot build bench/out/loadgen" >&2; exit 1; }
fi

# ---------------------------------------------------------------- in-process
if [ "${FW_BENCH_ENT_INPROC:-1}" != 0 ]; then
	if [ -x "$INPROC" ]; then
		say "entitlements in-process ($INPROC, $ACCOUNTS accounts, $EVENTS events; store and SQLite in $TMP)"
		timeout 300 "$INPROC" --accounts "$ACCOUNTS" --events "$EVENTS" --tmp "$TMP" \
			--config "$HERE/flywheel.yaml" >"$OUT/inproc.json" 2>"$OUT/inproc.log"
		rc=$?
		cat "$OUT/inproc.log" >&2
		[ $rc -eq 0 ] || echo "entitlements: entitlements_inproc exited with status $rc" >&2
	else
		echo "entitlements: $INPROC not built (make bench builds it); in-process part skipped" >&2
	fi
fi

# ---------------------------------------------------------------- HTTP
RUNS=$OUT/runs.ndjson
: >"$RUNS"
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
# run LABEL CHECK CONNECTIONS [--rate R]: one loadgen run, its JSON line (plus
# the server's CPU during it) appended to $RUNS
run() {
	local label=$1 check=$2 conns=$3; shift 3
	local c0 c1 line
	c0=$(cpu_ticks "$SRV")
	line=$(timeout $((DUR + WARM + 30)) "$LOADGEN" --url "http://127.0.0.1:$PORT" --mode check --check "$check" \
		--key "$SECRET" --accounts "$ACCOUNTS" --connections "$conns" --duration "$DUR" --warmup "$WARM" \
		--label "$label" --timeline "$OUT/$label.timeline.txt" "$@" 2>>"$OUT/loadgen.log")
	c1=$(cpu_ticks "$SRV")
	if [ -z "$line" ]; then
		echo "   $label: no result (bench/out/entitlements/loadgen.log)" >&2
		return
	fi
	node -e 'const o=JSON.parse(process.argv[1]);o.server_cpu_s=(process.argv[3]-process.argv[2])/100;o.server=process.argv[4];
	  console.log(JSON.stringify(o));
	  const us=(s)=>(s*1e6/Math.max(1,o.ok)).toFixed(1);
	  console.error(`   ${o.label.padEnd(24)} ${String(Math.round(o.checks_per_s)).padStart(7)} checks/s  p50 ${o.p50_ms.toFixed(3)}  p99 ${o.p99_ms.toFixed(3)}  p999 ${o.p999_ms.toFixed(3)}  max ${o.max_ms.toFixed(1)} ms  non-2xx ${o.non2xx} errors ${o.errors}  cpu/check server ${us(o.server_cpu_s)} µs client ${us(o.client_cpu_s)} µs`)' \
		"$line" "$c0" "$c1" "$SERVER" >>"$RUNS"
	sleep 0.5 # let the server's background work from the run settle
}

if [ "${FW_BENCH_ENT_HTTP:-1}" != 0 ]; then
	say "entitlements over HTTP: flywheel serve, $ACCOUNTS accounts"
	DATA=$TMP/serve
	mkdir -p "$DATA"
	cp "$HERE/flywheel.yaml" "$DATA/flywheel.yaml"
	export FLYWHEEL_WRITE_KEY=$WRITE FLYWHEEL_SECRET_KEY=$SECRET
	if ! "$INPROC" --accounts "$ACCOUNTS" --ndjson "$TMP/seed.ndjson" --usage-dir "$TMP/usage" >"$OUT/seed.json" 2>"$OUT/seed.log" ||
		! timeout 120 "$FLYWHEEL_BIN" import --data "$DATA" "$TMP/seed.ndjson" >"$OUT/import.log" 2>&1; then
		echo "entitlements: could not prepare the data directory (bench/out/entitlements/seed.log, import.log)" >&2
		exit 1
	fi
	PORT=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
	"$FLYWHEEL_BIN" serve --data "$DATA" --listen "127.0.0.1:$PORT" >"$OUT/serve.log" 2>&1 &
	SRV=$!
	URL=http://127.0.0.1:$PORT
	SERVER=flywheel
	ready=0
	for _ in $(seq 600); do # up to 60 s: listening, then the billing feed has read the log
		code=$(curl -s -o /dev/null -w '%{http_code}' -m 2 -H "Authorization: Bearer $SECRET" "$URL/api/v1/entitlements/acct_00000" 2>/dev/null)
		[ "$code" = 200 ] && { ready=1; break; }
		kill -0 "$SRV" 2>/dev/null || break
		sleep 0.1
	done
	if [ $ready = 0 ]; then
		echo "entitlements: flywheel serve did not answer entitlements within 60 s:" >&2
		tail -5 "$OUT/serve.log" >&2
		exit 1
	fi
	# the api_calls seed: usage reports, 500 per request, the requests in parallel
	T0=$(date +%s.%N)
	pids=()
	for f in "$TMP"/usage/*.json; do
		curl -s -m 60 -o "$f.out" -w '%{http_code}\n' -H "Authorization: Bearer $SECRET" \
			-H 'Content-Type: application/json' --data-binary "@$f" "$URL/api/v1/usage" >"$f.code" &
		pids+=($!)
	done
	wait "${pids[@]}"
	T1=$(date +%s.%N)
	bad=$(cat "$TMP"/usage/*.code | grep -vc '^200$')
	[ "$bad" = 0 ] || echo "entitlements: $bad usage report requests failed: $(cat "$TMP"/usage/*.out | head -c 300)" >&2
	# wait until the feed has read everything (the reports' records included)
	for _ in $(seq 300); do
		caught=$(curl -s -m 2 "$URL/healthz" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{const o=JSON.parse(s);console.log(o.billing&&o.billing.records_read>=o.records?1:0)}catch{console.log(0)}})')
		[ "$caught" = 1 ] && break
		sleep 0.1
	done
	echo "   $(node -e 'const o=require(process.argv[1]);console.log(`${o.lines} records imported, ${o.accounts} accounts`)' "$OUT/seed.json"); usage seed: $ACCOUNTS reports in $(ls "$TMP"/usage/*.json | wc -l) requests of 500, in parallel, $(node -e "console.log(($T1-$T0).toFixed(2))") s" >&2
	curl -s -m 2 "$URL/healthz" >"$OUT/healthz-before.json"
	RSS0=$(awk '/VmRSS/{print $2}' "/proc/$SRV/status")

	say "closed loop (most checks/s) and open loop at $RATE checks/s; latency in ms"
	for c in 8 16 32; do run "health_closed_$c" health "$c"; done
	for k in get preflight; do
		for c in 8 16 32; do run "${k}_closed_$c" "$k" "$c"; done
		for c in 8 16 32; do run "${k}_open_$c" "$k" "$c" --rate "$RATE"; done
	done
	# feature checks: without a person first, then with one; a denied check
	# writes two records (once per person, feature and day), which then name
	# a person
	run feature_anon_closed_16 feature-anon 16
	run feature_closed_16 feature 16
	run feature_open_16 feature 16 --rate "$RATE"
	# consuming checks: without a person first, then the same with one (the
	# records then name a person, and the billing thread recounts seats)
	run consume_anon_closed_16 consume-anon 16
	run consume_closed_16 consume 16
	run consume_closed_8 consume 8
	run consume_closed_32 consume 32
	BEST=$(node -e 'const fs=require("fs");let b=0;for(const l of fs.readFileSync(process.argv[1],"utf8").split("\n")){if(!l)continue;const o=JSON.parse(l);if(o.check==="consume"&&o.mode==="closed")b=Math.max(b,o.checks_per_s)}console.log(Math.round(b))' "$RUNS")
	CRATE=$(node -e "console.log(Math.max(100, Math.min($RATE, Math.round($BEST / 2))))")
	run consume_open_16 consume 16 --rate "$CRATE"
	RSS1=$(awk '/VmRSS/{print $2}' "/proc/$SRV/status")
	curl -s -m 2 "$URL/healthz" >"$OUT/healthz-after.json"
	node -e 'require("fs").writeFileSync(process.argv[1],JSON.stringify({rss_before_kb:+process.argv[2],rss_after_kb:+process.argv[3]}))' \
		"$OUT/server.json" "${RSS0:-0}" "${RSS1:-0}"
	grep -iE "error|warn|fatal|abort|sanitizer" "$OUT/serve.log" | head -5 >&2
	kill -TERM "$SRV" 2>/dev/null
	for _ in $(seq 100); do kill -0 "$SRV" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$SRV" 2>/dev/null
	wait "$SRV" 2>/dev/null
	SRV=""

	# the peer: the same preflights against a node:http service answering from a Map
	say "the peer: bench/entitlements/node-check.mjs (node:http, the same accounts in memory), preflight POST"
	PORT=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
	node "$HERE/node-check.mjs" --listen "127.0.0.1:$PORT" --seed "$TMP/seed.ndjson" --usage "$TMP/usage" \
		--key "$SECRET" >"$OUT/node-check.log" 2>&1 &
	SRV=$!
	SERVER=node
	for _ in $(seq 300); do grep -q "listening on" "$OUT/node-check.log" && break; kill -0 "$SRV" 2>/dev/null || break; sleep 0.1; done
	if grep -q "listening on" "$OUT/node-check.log"; then
		for c in 8 16 32; do run "node_preflight_closed_$c" preflight "$c"; done
		NBEST=$(node -e 'const fs=require("fs");let b=0;for(const l of fs.readFileSync(process.argv[1],"utf8").split("\n")){if(!l)continue;const o=JSON.parse(l);if(o.server==="node"&&o.mode==="closed")b=Math.max(b,o.checks_per_s)}console.log(Math.round(b))' "$RUNS")
		NRATE=$(node -e "console.log($NBEST >= $RATE ? $RATE : Math.max(100, Math.round($NBEST / 2)))")
		run node_preflight_open_16 preflight 16 --rate "$NRATE"
	else
		echo "entitlements: node-check did not start: $(tail -3 "$OUT/node-check.log")" >&2
	fi
fi

# ---------------------------------------------------------------- report
node "$HERE/report.mjs" "$OUT" "$BENCH/out/entitlements.json" "$BENCH/out/results.json" "$RATE" \
	"$(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')" "$(($(date +%s) - T_START))"
