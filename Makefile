# SPDX-License-Identifier: Apache-2.0
# A thin layer over meson: the README's commands. Every target installs what it lacks first.
.PHONY: all deps build demo test unit check-clang check-release fuzz bench format-check clean

BUILD      ?= build
ASAN_BUILD ?= build-asan
CLANG_BUILD ?= build-clang
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 15

all: build

deps:
	@scripts/install-deps.sh build

$(BUILD)/build.ninja:
	meson setup $(BUILD) --buildtype=release -Dtests=false

build: deps $(BUILD)/build.ninja
	meson compile -C $(BUILD)

demo: build
	@scripts/demo.sh $(BUILD)

$(ASAN_BUILD)/build.ninja:
	meson setup $(ASAN_BUILD) -Db_sanitize=address,undefined -Db_lundef=false

$(CLANG_BUILD)/build.ninja:
	CC=clang meson setup $(CLANG_BUILD)

$(FUZZ_BUILD)/build.ninja:
	CC=clang meson setup $(FUZZ_BUILD) -Dfuzz=true -Dtests=false -Db_lundef=false

# The whole suite: clang build, the -O3 release build `make demo` uses, format check, unit +
# integration + interop tests under ASan+UBSan, then each fuzz target for a bounded time.
test:
	@scripts/install-deps.sh test
	@$(MAKE) --no-print-directory check-clang check-release format-check
	@$(MAKE) --no-print-directory unit fuzz

unit: $(ASAN_BUILD)/build.ninja
	meson compile -C $(ASAN_BUILD)
	@scripts/run-tests.sh $(ASAN_BUILD)

check-clang: $(CLANG_BUILD)/build.ninja
	meson compile -C $(CLANG_BUILD)

check-release: $(BUILD)/build.ninja
	meson compile -C $(BUILD)

format-check:
	@scripts/format-check.sh

fuzz: $(FUZZ_BUILD)/build.ninja
	meson compile -C $(FUZZ_BUILD)
	@scripts/run-fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

bench: build
	@scripts/run-bench.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(CLANG_BUILD) $(FUZZ_BUILD)
