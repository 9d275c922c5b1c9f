#!/usr/bin/env bash
# Build each libFuzzer target with clang (+ASan/UBSan) and run it for FUZZ_SECONDS
# (default 60) on its committed corpus; new interesting inputs are added to the corpus.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${FUZZ_SECONDS:-60}
out=build-fuzz
mkdir -p $out
src=$(ls src/*/*.c | grep -v -e src/main.c -e src/cmd/)
# the dashboard's assets, generated from web/dist (src/web/dashboard.c needs them)
make -s build/gen/assets.c
for t in tests/fuzz/fuzz_*.c; do
	name=$(basename "$t" .c)
	clang -std=c17 -D_GNU_SOURCE -Iinclude -Isrc/web -O1 -g -msse4.2 -fsanitize=fuzzer,address,undefined \
		-o "$out/$name" "$t" $src build/gen/assets.c \
		-lmicrohttpd -lsqlite3 -lz -lxxhash -lzstd -lyaml -lm -pthread
	mkdir -p "tests/fuzz/corpus/$name"
	echo "== $name ($secs s)"
	"$out/$name" -max_total_time="$secs" -max_len=65536 "tests/fuzz/corpus/$name" 2>&1 | tail -3
done
