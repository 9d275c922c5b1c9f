#!/usr/bin/env bash
# The whole suite: unit tests and end-to-end tests on the normal build, then both
# again on an AddressSanitizer + UBSan build. Ends with one line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
passed=0
failed=0
log=$(mktemp -d)

count_unit() { # unit test output -> adds to totals
	local line
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$1" | tail -1)
	if [ -z "$line" ]; then failed=$((failed + 1)); return; fi
	passed=$((passed + $(echo "$line" | awk '{print $1}')))
	failed=$((failed + $(echo "$line" | awk '{print $3}')))
}
count_node() { # node --test output (spec or tap) -> adds to totals
	local p f
	p=$(grep -E '^(# |ℹ )pass [0-9]+' "$1" | tail -1 | grep -oE '[0-9]+$')
	f=$(grep -E '^(# |ℹ )fail [0-9]+' "$1" | tail -1 | grep -oE '[0-9]+$')
	if [ -z "$p" ]; then failed=$((failed + 1)); return; fi
	passed=$((passed + p))
	failed=$((failed + ${f:-0}))
}

run() { # name, output file, command...
	local name=$1 out=$2
	shift 2
	echo "=== $name"
	"$@" 2>&1 | tee "$out"
	return "${PIPESTATUS[0]}"
}

if ! make -j2 build/flywheel build/unit >"$log/build.txt" 2>&1; then
	cat "$log/build.txt"
	echo "0 passed, 1 failed"
	exit 1
fi
run "unit tests" "$log/unit.txt" build/unit
count_unit "$log/unit.txt"
run "end-to-end tests" "$log/e2e.txt" make -s e2e
count_node "$log/e2e.txt"

if [ "${FW_SKIP_ASAN:-0}" != 1 ]; then
	if make -j2 BUILD=build-asan CFLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined" \
		LDFLAGS="-fsanitize=address,undefined" build-asan/flywheel build-asan/unit >"$log/asan-build.txt" 2>&1; then
		run "unit tests (ASan+UBSan)" "$log/asan-unit.txt" env ASAN_OPTIONS=detect_leaks=1 build-asan/unit
		count_unit "$log/asan-unit.txt"
		run "end-to-end tests (ASan+UBSan)" "$log/asan-e2e.txt" \
			bash -c "cd tests/e2e && FLYWHEEL_BIN=$PWD/build-asan/flywheel ASAN_OPTIONS=detect_leaks=0 node --test --test-concurrency=1"
		count_node "$log/asan-e2e.txt"
	else
		cat "$log/asan-build.txt"
		failed=$((failed + 1))
	fi
fi
rm -rf "$log"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
