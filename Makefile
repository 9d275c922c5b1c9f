# Flywheel — `make help` lists the targets.
CC      ?= cc
CFLAGS  ?= -O2 -g
override CFLAGS += -std=c17 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter -Wshadow -Iinclude -pthread -msse4.2
override LDLIBS += -lmicrohttpd -lsqlite3 -lcurl -lcrypto -lz -lxxhash -lzstd -lyaml -lm -pthread
BUILD   ?= build

LIB_SRC   := $(filter-out src/main.c,$(wildcard src/*/*.c))
# the dashboard (web/dist, committed; `make web` rebuilds it) as C arrays
WEB_DIST  := $(sort $(wildcard web/dist/*))
ASSETS_OBJ:= $(BUILD)/gen/assets.o
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/%.o) $(ASSETS_OBJ)
MAIN_OBJ  := $(BUILD)/src/main.o
UNIT_SRC  := $(wildcard tests/unit/*.c tests/unit/*/*.c)
UNIT_OBJ  := $(UNIT_SRC:%.c=$(BUILD)/%.o)
DEPS      := $(LIB_OBJ:.o=.d) $(MAIN_OBJ:.o=.d) $(UNIT_OBJ:.o=.d)

.PHONY: all test unit e2e asan check bench crash-long fuzz format clean help deps web

all: $(BUILD)/flywheel ## build the flywheel binary (build/flywheel)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

# web/embed.c runs at build time: plain flags, no sanitizer, whatever BUILD is
$(BUILD)/embed: web/embed.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -std=c17 -D_GNU_SOURCE -Wall -Wextra -o $@ $< -lz -lxxhash

# web/dist itself is a prerequisite so that removing a file re-embeds too
$(BUILD)/gen/assets.c: $(BUILD)/embed web/dist $(WEB_DIST)
	@mkdir -p $(dir $@)
	$(BUILD)/embed $@ web/dist

$(ASSETS_OBJ): $(BUILD)/gen/assets.c src/web/assets.h
	$(CC) $(CFLAGS) -Isrc/web -c $< -o $@

web: ## rebuild the dashboard (web/src -> web/dist with npm's esbuild; commit web/dist), then the binary
	cd web && { [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund --loglevel=error; } && node build.mjs
	$(MAKE) $(BUILD)/flywheel

$(BUILD)/libflywheel.a: $(LIB_OBJ)
	$(AR) rcs $@ $^

$(BUILD)/flywheel: $(MAIN_OBJ) $(BUILD)/libflywheel.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS)

$(BUILD)/unit: $(UNIT_OBJ) $(BUILD)/libflywheel.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS)

unit: $(BUILD)/unit ## run the C unit tests
	$(BUILD)/unit

e2e: $(BUILD)/flywheel ## run the end-to-end tests (real binary, real SDKs)
	cd tests/e2e && FLYWHEEL_BIN=$(abspath $(BUILD)/flywheel) node --test --test-concurrency=1

test: ## the whole suite: unit + e2e, then the same under ASan/UBSan; ends with "N passed, N failed"
	tests/run-all.sh

asan: ## build into build-asan/ with -fsanitize=address,undefined and run unit + e2e
	$(MAKE) BUILD=build-asan CFLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined" LDFLAGS="-fsanitize=address,undefined" build-asan/flywheel build-asan/unit
	ASAN_OPTIONS=detect_leaks=1 build-asan/unit
	cd tests/e2e && FLYWHEEL_BIN=$(abspath build-asan/flywheel) node --test --test-concurrency=1

deps: ## install build and test dependencies (Debian 12; needs root)
	scripts/install-deps.sh

bench: $(BUILD)/flywheel $(BUILD)/json_bench $(BUILD)/entitlements_inproc ## benchmarks: ingest over HTTP, import, JSON parser vs jansson, entitlements
	bench/run.sh

crash-long: $(BUILD)/flywheel ## long kill -9 crash test (minutes)
	cd tests/e2e && FLYWHEEL_BIN=$(abspath $(BUILD)/flywheel) FW_CRASH_ROUNDS=40 node --test crash.test.mjs

fuzz: ## build libFuzzer targets for each parser and run each for 60 s
	tests/fuzz/run.sh

format: ## clang-format every C file
	clang-format -i $(wildcard src/*.c src/*/*.c include/flywheel/*.h tests/unit/*.c tests/unit/*/*.c)

clean: ## remove build outputs
	rm -rf build build-asan build-fuzz

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 14

-include $(DEPS)

$(BUILD)/json_bench: bench/json_bench.c $(BUILD)/libflywheel.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) -ljansson $(LDLIBS)

# bench/entitlements/run.sh runs it (the engine in-process, and SQLite for the ratio)
$(BUILD)/entitlements_inproc: bench/entitlements/inproc.c $(BUILD)/libflywheel.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS)
