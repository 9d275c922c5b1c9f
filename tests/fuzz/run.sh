#!/usr/bin/env bash
# Build each libFuzzer target with clang (+ASan/UBSan) and run it for FUZZ_SECONDS
# (default 60) on its committed corpus; new interesting inputs are added to the corpus.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${FUZZ_SECONDS:-60}
out=build-fuzz
mkdir -p $out
src=$(ls src/*/*.c | grep -v -e src/main.c -e src/cmd/)
for t in tests/fuzz/fuzz_*.c; do
	name=$(basename "$t" .c)
	clang -std=c17 -D_GNU_SOURCE -Iinclude -O1 -g -msse4.2 -fsanitize=fuzzer,address,undefined \
		-o "$out/$name" "$t" $src -lmicrohttpd -lsqlite3 -lz -lxxhash -lm -pthread
	mkdir -p "tests/fuzz/corpus/$name"
	echo "== $name ($secs s)"
	"$out/$name" -max_total_time="$secs" -max_len=65536 "tests/fuzz/corpus/$name" 2>&1 | tail -3
done
