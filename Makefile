# libkasko — the front door.
#
#   make          release build: build/libkasko.so.1 (+ links), the sandbox
#   make demo     build, start the sandbox, create and view a payment from C
#   make check    every test: Swift, C (also under valgrind), ABI and header checks
#   make header   regenerate include/kasko.h from Sources/KaskoC
#
# Swift comes from PATH (the toolchain is not a Debian package here).

SWIFT        ?= swift
CC           ?= cc
BUILD        := build
RELEASE_DIR  := .build/release
SANDBOX      := $(RELEASE_DIR)/kasko-sandbox
LIB          := $(BUILD)/libkasko.so.1
CFLAGS_C     := -std=c99 -Wall -Wextra -Wpedantic -Werror -O2 -g
KASKO_CFLAGS := -Iinclude
KASKO_LIBS   := -L$(BUILD) -lkasko
RUN_LIB      := env LD_LIBRARY_PATH=$(CURDIR)/$(BUILD)
WITH_SANDBOX := scripts/with-sandbox --sandbox $(SANDBOX)

.PHONY: all deps build header demo check check-header check-abi check-swift check-c \
        check-valgrind check-sandbox check-reference check-traps clean

all: build

deps:
	@scripts/install-deps

# SwiftPM tracks its own inputs, so this always asks it; it returns at once when nothing changed.
build: deps
	$(SWIFT) build -c release
	scripts/link-library $(RELEASE_DIR) $(BUILD)

header: build
	scripts/generate-header

$(BUILD)/create_and_view: examples/c/create_and_view.c include/kasko.h build
	$(CC) $(CFLAGS_C) $(KASKO_CFLAGS) $< $(KASKO_LIBS) -o $@

$(BUILD)/test_api: tests/c/test_api.c tests/c/sandbox_client.c tests/c/sandbox_client.h include/kasko.h build
	$(CC) $(CFLAGS_C) -pthread $(KASKO_CFLAGS) tests/c/test_api.c tests/c/sandbox_client.c \
	    $(KASKO_LIBS) $$(pkg-config --libs libcurl) -o $@

demo: build $(BUILD)/create_and_view
	$(WITH_SANDBOX) scripts/demo $(BUILD)/create_and_view

check: build check-header check-abi check-traps check-sandbox check-reference check-swift check-c check-valgrind
	@echo "make check: all checks passed"

check-header: build
	scripts/generate-header --check
	scripts/check-header-compiles include/kasko.h

check-abi: build
	scripts/check-abi $(BUILD)/libkasko.so.1

check-traps:
	scripts/check-no-traps Sources/Kasko Sources/KaskoC

check-sandbox: build
	scripts/sandbox-smoke $(SANDBOX)

check-reference: build
	$(WITH_SANDBOX) scripts/check-reference-examples

check-swift: build
	$(WITH_SANDBOX) $(SWIFT) test

check-c: $(BUILD)/test_api
	$(WITH_SANDBOX) $(RUN_LIB) $(BUILD)/test_api

# valgrind 3.19 cannot read the DWARF 5 debug info that the Swift runtime
# brings along, so it checks a copy of the library without debug info. The
# Swift runtime's metadata caches live until exit and show as "possibly lost"
# (interior pointers); definite and indirect leaks fail the check.
check-valgrind: $(BUILD)/test_api
	mkdir -p $(BUILD)/nodebug
	objcopy --strip-debug $(BUILD)/libkasko.so.1 $(BUILD)/nodebug/libkasko.so.1
	$(WITH_SANDBOX) env LD_LIBRARY_PATH=$(CURDIR)/$(BUILD)/nodebug KASKO_TEST_QUICK=1 \
	    valgrind --leak-check=full --show-possibly-lost=no --errors-for-leak-kinds=definite,indirect \
	    --error-exitcode=1 $(BUILD)/test_api

clean:
	rm -rf $(BUILD) .build
