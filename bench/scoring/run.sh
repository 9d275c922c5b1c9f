#!/usr/bin/env bash
# bench/scoring/run.sh — PQL scoring benchmark (part of `make bench`):
#
#  1. `flywheel demo --no-serve --scale S` writes the sample company at scale S
#     (FW_BENCH_SCORING_SCALE, default 5: ~120,000 people, 25,000 accounts,
#     ~10M messages) with its own flywheel.yaml (default rules)
#  2. `flywheel serve` on it; bench.mjs waits for the first full rescore, then
#     - full rescore: POST /api/v1/rescore, a warm-up plus FW_BENCH_RUNS (5) timed
#       runs; the server reports how long scoring everyone took (score_seconds,
#       the snapshot already built) — goal under 1 s
#     - event to score: sustained ingest (FW_BENCH_SCORING_RATE events/s, default
#       2000, in batches of 100) for FW_BENCH_SCORING_SECONDS (20); every 100 ms a
#       probe person sends `Payment Info Entered` and the time from its 200 to
#       their score showing 40 points in GET /api/v1/pqls/person/ID is taken —
#       goal p99 under 1 s
#  3. table on stdout, bench/out/scoring.json
# No peer engine computes PQL scores; the rescore's own speed is set against
# the analytics benchmark's engines in bench/README.md.
# The server listens on 127.0.0.1 only and is stopped on exit; every wait is bounded.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH=$(dirname "$HERE")
ROOT=$(dirname "$BENCH")
OUT=$BENCH/out/scoring
mkdir -p "$OUT"
FLYWHEEL_BIN=${FLYWHEEL_BIN:-$ROOT/build/flywheel}
SCALE=${FW_BENCH_SCORING_SCALE:-5}
DATA=$OUT/data
PORT=$((20000 + RANDOM % 20000))
SECRET="sk_scoring_$$_$RANDOM"
WRITE="wk_scoring_$$_$RANDOM"
SRV=""
cleanup() {
	[ -n "$SRV" ] && kill -TERM "$SRV" 2>/dev/null && for _ in $(seq 100); do kill -0 "$SRV" 2>/dev/null || break; sleep 0.1; done
	[ -n "$SRV" ] && kill -KILL "$SRV" 2>/dev/null
	[ "${FW_BENCH_KEEP:-0}" = 1 ] || rm -rf "$DATA"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== scoring: demo data at scale $SCALE" >&2
rm -rf "$DATA"
T0=$(date +%s.%N)
timeout 900 "$FLYWHEEL_BIN" demo --data "$DATA" --no-serve --scale "$SCALE" >"$OUT/demo.log" 2>&1 || { cat "$OUT/demo.log" >&2; exit 1; }
T1=$(date +%s.%N)
echo "   generated in $(echo "$T1 - $T0" | bc) s" >&2
FLYWHEEL_SECRET_KEY=$SECRET FLYWHEEL_WRITE_KEY=$WRITE "$FLYWHEEL_BIN" serve --data "$DATA" \
	--listen "127.0.0.1:$PORT" >"$OUT/serve.log" 2>&1 &
SRV=$!
node "$HERE/bench.mjs" "http://127.0.0.1:$PORT" "$SECRET" "$WRITE" "$SCALE" "$SRV" "$BENCH/out/scoring.json"
