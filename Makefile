# libkasko — the front door.
#
#   make deps     installs what the build and the checks need (the only goal
#                 that installs anything): the Python tools into .venv, and
#                 the missing Debian packages with apt-get (root only)
#   make          release build: build/libkasko.so.1 (+ links), the sandbox
#   make demo     build, start the sandbox, run the whole checkout from C (quote, offer,
#                 payment, policy) with its signed webhook verified by the Python receiver
#   make check    every test: Swift, C (also under valgrind), Python, bindings,
#                 ABI, header, man pages, packages built and lintian-checked, the wheel
#   make deb      the Debian packages, in build/deb/ (lintian-checked)
#   make check-deb  installs the built packages, uses them, removes them (root;
#                 refuses when they are installed already); CI runs it
#   make wheel    a manylinux wheel with the library inside, in build/wheel/
#   make bench    benchmarks against libcurl C and Python requests
#   make install  install without Debian: PREFIX=/usr/local DESTDIR= LIBDIR= PYTHONDIR=
#   make header   regenerate include/kasko.h from Sources/KaskoC
#
# Nothing but `make deps` installs: a goal that lacks a tool stops and names
# the Debian package (scripts/deps check; the list is scripts/dependencies).
# Swift comes from PATH (the toolchain is not a Debian package here).

# The project's Python tools (pytest, mypy, pyright, auditwheel...) live in
# .venv, made by `make deps`; every recipe finds them first.
export PATH := $(CURDIR)/.venv/bin:$(PATH)

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

# Keys for every sandbox of this make run, random each run unless given:
# scripts/with-sandbox starts the sandbox with them and every suite reads
# them from there, so no test passes by knowing a fixed key, and `make check`
# can search all it printed for them (scripts/check-output-secrets).
# Made once here (:=) and exported: sub-makes and scripts see the same.
ifeq ($(origin KASKO_SANDBOX_PUBLIC_KEY),undefined)
KASKO_SANDBOX_PUBLIC_KEY := pk_test_$(shell head -c 18 /dev/urandom | base64 | tr '+/' 'xy')
endif
ifeq ($(origin KASKO_SANDBOX_SECRET_KEY),undefined)
KASKO_SANDBOX_SECRET_KEY := sk_test_$(shell head -c 18 /dev/urandom | base64 | tr '+/' 'xy')
endif
export KASKO_SANDBOX_PUBLIC_KEY KASKO_SANDBOX_SECRET_KEY

.PHONY: all deps need-build need-check need-bench build install install-files header demo deb check check-header check-abi check-swift check-c check-results check-checkout check-events check-readme check-readme-types \
        check-suites check-valgrind check-sandbox check-reference check-traps check-python check-deb check-asan check-faults check-stress check-async \
        check-hostile check-valgrind-stress check-helgrind check-transport check-fork check-bindings check-install wheel check-wheel fuzz bench clean

all: build

deps:
	scripts/deps install

# What each goal needs, checked, never installed (`make deps` installs).
need-build:
	@scripts/deps check build
need-check:
	@scripts/deps check build check
need-bench:
	@scripts/deps check build bench

# SwiftPM tracks its own inputs, so this always asks it; it returns at once
# when nothing changed. --static-swift-stdlib makes the sandbox run without
# the toolchain (the library is linked by scripts/link-library, statically too).
build: need-build
	$(SWIFT) build -c release --static-swift-stdlib
	scripts/link-library $(RELEASE_DIR) $(BUILD)

# ---- installing ---------------------------------------------------------
# make install [PREFIX=/usr/local] [DESTDIR=] [LIBDIR=] [PYTHONDIR=]
PREFIX     ?= /usr/local
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
PYTHONDIR  ?= $(shell python3 -c 'import sysconfig,sys; print(sysconfig.get_path("purelib", vars={"base": sys.argv[1], "platbase": sys.argv[1]}))' $(PREFIX))
VERSION    := $(shell scripts/version)

install: build install-files

# Installs what `make build` made, without building (debian/rules uses this).
install-files:
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(BINDIR) \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man3
	install -m 0644 $(BUILD)/libkasko.so.$(VERSION) $(DESTDIR)$(LIBDIR)/
	ln -sf libkasko.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libkasko.so.1
	ln -sf libkasko.so.1 $(DESTDIR)$(LIBDIR)/libkasko.so
	install -m 0644 include/kasko.h bindings/cpp/kasko.hpp $(DESTDIR)$(INCLUDEDIR)/
	sed -e 's|@PREFIX@|$(PREFIX)|; s|@LIBDIR@|$(LIBDIR)|; s|@INCLUDEDIR@|$(INCLUDEDIR)|; s|@VERSION@|$(VERSION)|' \
	    scripts/kasko.pc.in >$(DESTDIR)$(LIBDIR)/pkgconfig/kasko.pc
	install -m 0755 $(SANDBOX) $(DESTDIR)$(BINDIR)/kasko-sandbox
	scripts/generate-manpages $(DESTDIR)$(MANDIR)/man3
	install -m 0644 docs/man/kasko-sandbox.1 $(DESTDIR)$(MANDIR)/man1/
# PYTHONDIR= (empty) leaves the Python package out: debian/rules has pybuild install it.
ifneq ($(PYTHONDIR),)
	install -d $(DESTDIR)$(PYTHONDIR)/kasko
	install -m 0644 bindings/python/kasko/*.py bindings/python/kasko/py.typed $(DESTDIR)$(PYTHONDIR)/kasko/
endif

header: build
	scripts/generate-header

# Every C test program: one test_*.c, the sandbox helpers, the header, the
# library (-pthread for those with threads; harmless for the others).
C_TEST_SUPPORT := Tests/C/sandbox_client.c Tests/C/sandbox_client.h Tests/C/testing.h include/kasko.h
$(BUILD)/test_%: Tests/C/test_%.c $(C_TEST_SUPPORT) build
	$(CC) $(CFLAGS_C) -pthread $(KASKO_CFLAGS) $< Tests/C/sandbox_client.c \
	    $(KASKO_LIBS) $$(pkg-config --libs libcurl) -o $@

$(BUILD)/create_and_view: examples/c/create_and_view.c include/kasko.h build
	$(CC) $(CFLAGS_C) $(KASKO_CFLAGS) $< $(KASKO_LIBS) -o $@

$(BUILD)/checkout: examples/c/checkout.c include/kasko.h build
	$(CC) $(CFLAGS_C) $(KASKO_CFLAGS) $< $(KASKO_LIBS) -o $@

$(BUILD)/trace: examples/c/trace.c include/kasko.h build
	$(CC) $(CFLAGS_C) $(KASKO_CFLAGS) $< $(KASKO_LIBS) -o $@

demo: build $(BUILD)/create_and_view $(BUILD)/checkout
	KASKO_SANDBOX_BIN=$(SANDBOX) scripts/demo $(BUILD)/create_and_view $(BUILD)/checkout

# Every suite, with all it prints searched for this run's keys and for
# payment tokens (scripts/check-output-secrets; the log is build/check-output.log).
check: need-check
	scripts/check-output-secrets $(MAKE) --no-print-directory check-suites

check-suites: need-check build check-header check-abi check-traps check-sandbox check-reference check-swift check-c check-results check-checkout check-async check-events check-readme check-readme-types check-valgrind \
       check-asan check-faults check-hostile check-stress check-valgrind-stress check-helgrind check-transport check-fork check-python \
       check-bindings check-wheel check-install deb fuzz
	@echo "make check: all suites passed"

check-header: build
	scripts/generate-header --check
	scripts/check-header-compiles include/kasko.h
	scripts/check-c-api
	scripts/check-version
	scripts/check-project-facts >/dev/null
	scripts/check-manpages
	scripts/check-man-examples --lib-dir $(BUILD)
	scripts/check-output-secrets --self-test

check-abi: build
	scripts/check-abi $(BUILD)/libkasko.so.1
	scripts/check-abi-compat $(BUILD)/libkasko.so.1

check-traps:
	scripts/check-no-traps Sources/Kasko Sources/KaskoC Sources/KaskoSandbox Sources/kasko-sandbox

check-sandbox: build
	PYTHONDONTWRITEBYTECODE=1 python3 -m pytest -p no:cacheprovider -q Tests/sandbox --sandbox=$(SANDBOX)

check-reference: build
	$(WITH_SANDBOX) scripts/check-reference-examples

check-swift: build
	KASKO_SANDBOX_ARGS=--faults $(WITH_SANDBOX) $(SWIFT) test

# test_webhook (kasko_webhook_verify) needs no sandbox: it runs alone, then
# under valgrind (see check-valgrind for why the copy without debug info).
check-c: $(BUILD)/test_api $(BUILD)/test_messages $(BUILD)/test_webhook $(BUILD)/nodebug/libkasko.so.1
	$(WITH_SANDBOX) $(RUN_LIB) $(BUILD)/test_api
	$(WITH_SANDBOX) $(RUN_LIB) $(BUILD)/test_messages
	$(RUN_LIB) $(BUILD)/test_webhook
	env LD_LIBRARY_PATH=$(CURDIR)/$(BUILD)/nodebug valgrind -q --leak-check=full --show-possibly-lost=no \
	    --errors-for-leak-kinds=definite,indirect --error-exitcode=1 $(BUILD)/test_webhook

# The 1.1 API (kasko_result, per-call options, the _v2 calls, kasko_config)
# against a sandbox with fault injection and the tests' own raw-socket
# recorder; then under valgrind.
check-results: $(BUILD)/test_results $(BUILD)/test_config $(BUILD)/nodebug/libkasko.so.1
	KASKO_SANDBOX_ARGS=--faults $(WITH_SANDBOX) $(RUN_LIB) $(BUILD)/test_results
	$(WITH_SANDBOX) $(RUN_LIB) $(BUILD)/test_config
	for test in test_results test_config; do \
	    KASKO_SANDBOX_ARGS=--faults $(WITH_SANDBOX) env LD_LIBRARY_PATH=$(CURDIR)/$(BUILD)/nodebug KASKO_TEST_QUICK=1 \
	        valgrind -q --leak-check=full --show-possibly-lost=no --errors-for-leak-kinds=definite,indirect \
	        --error-exitcode=1 $(BUILD)/$$test || exit 1; \
	done

# The checkout calls (1.3: quote, offer, policy, and the way out of
# "outcome: unknown") against a sandbox with fault injection and a short
# policy-creation delay, then under valgrind (the copy without debug info,
# as in check-valgrind) and ASan/UBSan.
CHECKOUT_SANDBOX := KASKO_SANDBOX_ARGS="--faults --policy-delay-ms 50" $(WITH_SANDBOX)
check-checkout: $(BUILD)/test_checkout $(BUILD)/test_checkout_asan $(BUILD)/nodebug/libkasko.so.1
	$(CHECKOUT_SANDBOX) $(RUN_LIB) $(BUILD)/test_checkout
	$(CHECKOUT_SANDBOX) env LD_LIBRARY_PATH=$(CURDIR)/$(BUILD)/nodebug valgrind -q --leak-check=full \
	    --show-possibly-lost=no --errors-for-leak-kinds=definite,indirect --error-exitcode=1 $(BUILD)/test_checkout
	$(CHECKOUT_SANDBOX) $(RUN_LIB) $(BUILD)/test_checkout_asan

$(BUILD)/test_checkout_asan: Tests/C/test_checkout.c $(C_TEST_SUPPORT) build
	$(CC) $(CFLAGS_C) -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all -pthread \
	    $(KASKO_CFLAGS) Tests/C/test_checkout.c Tests/C/sandbox_client.c $(KASKO_LIBS) $$(pkg-config --libs libcurl) -o $@

# The asynchronous calls (1.4: the engine thread, callbacks, cancellation,
# kasko_client_free with calls in flight, fork) against a sandbox with fault
# injection and a short policy-creation delay: plainly, then the load test
# alone against random faults, then under valgrind (the copy without debug
# info; --fair-sched so that the engine thread and the test's threads all
# run; forked children silent) and ASan/UBSan.
ASYNC_SANDBOX := KASKO_SANDBOX_ARGS="--faults --policy-delay-ms 50" $(WITH_SANDBOX)
check-async: $(BUILD)/test_async $(BUILD)/test_async_asan $(BUILD)/nodebug/libkasko.so.1
	$(ASYNC_SANDBOX) $(RUN_LIB) $(BUILD)/test_async
	KASKO_SANDBOX_ARGS="--faults --random-faults 0.1" $(WITH_SANDBOX) $(RUN_LIB) KASKO_ASYNC_TESTS=load \
	    $(BUILD)/test_async
	$(ASYNC_SANDBOX) env LD_LIBRARY_PATH=$(CURDIR)/$(BUILD)/nodebug KASKO_TEST_QUICK=1 valgrind -q --fair-sched=yes \
	    --leak-check=full --show-possibly-lost=no --errors-for-leak-kinds=definite,indirect \
	    --child-silent-after-fork=yes --error-exitcode=1 $(BUILD)/test_async
	$(ASYNC_SANDBOX) $(RUN_LIB) ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
	    $(BUILD)/test_async_asan

$(BUILD)/test_async_asan: Tests/C/test_async.c $(C_TEST_SUPPORT) build
	$(CC) $(CFLAGS_C) -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all -pthread \
	    $(KASKO_CFLAGS) Tests/C/test_async.c Tests/C/sandbox_client.c $(KASKO_LIBS) $$(pkg-config --libs libcurl) -o $@

# The event hook (issue 13) against a sandbox with fault injection: with the
# sandbox's own short keys (a hint shows no last four), with this run's long
# random ones (so that "no event holds a key" means something), then under
# valgrind (its forked children silent: memory the threads they do not have
# held looks lost there; they report on a pipe).
check-events: $(BUILD)/test_events $(BUILD)/trace $(BUILD)/nodebug/libkasko.so.1
	KASKO_SANDBOX_PUBLIC_KEY=pk_test_sandbox KASKO_SANDBOX_SECRET_KEY=sk_test_sandbox \
	    KASKO_SANDBOX_ARGS=--faults $(WITH_SANDBOX) $(RUN_LIB) $(BUILD)/test_events
	KASKO_SANDBOX_ARGS=--faults $(WITH_SANDBOX) $(RUN_LIB) $(BUILD)/test_events
	KASKO_SANDBOX_ARGS=--faults $(WITH_SANDBOX) env LD_LIBRARY_PATH=$(CURDIR)/$(BUILD)/nodebug KASKO_TEST_QUICK=1 \
	    valgrind -q --leak-check=full --show-possibly-lost=no --errors-for-leak-kinds=definite,indirect \
	    --child-silent-after-fork=yes --error-exitcode=1 $(BUILD)/test_events

# The README's C and Python programs, extracted and run as printed against the sandbox.
check-readme: build
	$(WITH_SANDBOX) env KASKO_LIB_DIR=$(BUILD) scripts/check-readme-programs README.md

# The READMEs' Python code and the package under mypy --strict and pyright.
check-readme-types:
	scripts/check-readme-types

# valgrind 3.19 cannot read the DWARF 5 debug info that the Swift runtime
# brings along, so it checks a copy of the library without debug info. The
# Swift runtime's metadata caches live until exit and show as "possibly lost"
# (interior pointers); definite and indirect leaks fail the check.
$(BUILD)/nodebug/libkasko.so.1: build
	mkdir -p $(BUILD)/nodebug
	objcopy --strip-debug $(BUILD)/libkasko.so.1 $(BUILD)/nodebug/libkasko.so.1

check-valgrind: $(BUILD)/test_api $(BUILD)/nodebug/libkasko.so.1
	$(WITH_SANDBOX) env LD_LIBRARY_PATH=$(CURDIR)/$(BUILD)/nodebug KASKO_TEST_QUICK=1 \
	    valgrind --leak-check=full --show-possibly-lost=no --errors-for-leak-kinds=definite,indirect \
	    --error-exitcode=1 $(BUILD)/test_api

# The C suite built with AddressSanitizer and UBSan: misuse of what the
# library hands out (a double free, reading past a returned string, a leak
# of one) fails here even where valgrind would be too slow to go.
$(BUILD)/test_api_asan: Tests/C/test_api.c $(C_TEST_SUPPORT) build
	$(CC) $(CFLAGS_C) -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all -pthread \
	    $(KASKO_CFLAGS) Tests/C/test_api.c Tests/C/sandbox_client.c $(KASKO_LIBS) $$(pkg-config --libs libcurl) -o $@

$(BUILD)/test_webhook_asan: Tests/C/test_webhook.c Tests/C/testing.h include/kasko.h build
	$(CC) $(CFLAGS_C) -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all -pthread \
	    $(KASKO_CFLAGS) Tests/C/test_webhook.c $(KASKO_LIBS) -o $@

check-asan: $(BUILD)/test_api_asan $(BUILD)/test_webhook_asan
	$(WITH_SANDBOX) $(RUN_LIB) ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
	    $(BUILD)/test_api_asan
	$(RUN_LIB) ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 $(BUILD)/test_webhook_asan

# libFuzzer targets for the response parser, the config parser, the
# request validator and webhook signatures (scripts/fuzz); FUZZ_SECONDS per target.
FUZZ_SECONDS ?= 60
fuzz: need-check
	scripts/fuzz $(FUZZ_SECONDS)

# Every retry rule, against a sandbox with fault injection on, asserting how
# many requests the sandbox saw.
check-faults: $(BUILD)/test_faults
	KASKO_SANDBOX_ARGS=--faults $(WITH_SANDBOX) $(RUN_LIB) $(BUILD)/test_faults

# 16 threads x 1000 mixed calls on one client (16,000 calls), then 16 x 250
# on a client each, random faults on; every create seen exactly once by the
# sandbox. Then keep-alive (no random faults: they close connections).
check-stress: $(BUILD)/test_stress
	KASKO_SANDBOX_ARGS="--faults --random-faults 0.1" $(WITH_SANDBOX) $(RUN_LIB) $(BUILD)/test_stress
	KASKO_SANDBOX_ARGS="--faults --random-faults 0.1" $(WITH_SANDBOX) $(RUN_LIB) KASKO_STRESS_API=1.1 $(BUILD)/test_stress
	$(WITH_SANDBOX) $(RUN_LIB) KASKO_STRESS_KEEPALIVE=1 $(BUILD)/test_stress

# The same stress, 16 threads x 128 calls, under valgrind's memcheck with
# --fair-sched=yes (threads interleave as on real cores) and under helgrind
# (scripts/check-races: no race reported; suppressions for the Swift runtime
# only, in Tests/C/helgrind-swift-runtime.supp); helgrind once more with an
# event hook on every client, replaced and cleared while calls run.
STRESS_UNDER_VALGRIND := KASKO_SANDBOX_ARGS="--faults --random-faults 0.1" $(WITH_SANDBOX) \
    env LD_LIBRARY_PATH=$(CURDIR)/$(BUILD)/nodebug KASKO_STRESS_CALLS=128
check-valgrind-stress: $(BUILD)/test_stress $(BUILD)/nodebug/libkasko.so.1
	for api in 1.0 1.1; do \
	    $(STRESS_UNDER_VALGRIND) KASKO_STRESS_API=$$api valgrind --fair-sched=yes --error-exitcode=1 --leak-check=full \
	        --show-possibly-lost=no --errors-for-leak-kinds=definite,indirect $(BUILD)/test_stress || exit 1; \
	done

check-helgrind: $(BUILD)/test_stress $(BUILD)/test_webhook $(BUILD)/test_async $(BUILD)/nodebug/libkasko.so.1
	for api in 1.0 1.1; do $(STRESS_UNDER_VALGRIND) KASKO_STRESS_API=$$api scripts/check-races $(BUILD)/test_stress || exit 1; done
	$(STRESS_UNDER_VALGRIND) KASKO_STRESS_API=1.1 KASKO_STRESS_HOOK=1 scripts/check-races $(BUILD)/test_stress
	env LD_LIBRARY_PATH=$(CURDIR)/$(BUILD)/nodebug scripts/check-races $(BUILD)/test_webhook
	# The engine of asynchronous calls against callers' threads (issue 15):
	# submissions, cancels, frees from callbacks and from other threads, and
	# the mixed load with blocking calls alongside (not fork: its children).
	KASKO_SANDBOX_ARGS="--faults --policy-delay-ms 50" $(WITH_SANDBOX) env LD_LIBRARY_PATH=$(CURDIR)/$(BUILD)/nodebug \
	    KASKO_TEST_QUICK=1 KASKO_ASYNC_TESTS=every_call,statuses,retries,idle_closes,cancel,free,free_other,free_busy,callbacks,edges,events,load,resolve \
	    scripts/check-races $(BUILD)/test_async

# TLS verification (a test CA, self-signed and wrong-host certificates behind
# a loopback nginx) and proxies (a loopback forward proxy).
check-transport: $(BUILD)/test_transport
	$(WITH_SANDBOX) $(RUN_LIB) scripts/check-transport $(BUILD)/test_transport

# Our own raw-socket servers on 127.0.0.1 answering what no sane server
# would (garbage, odd statuses, huge headers, wrong ids, echoed secrets),
# through the built library and real libcurl (Tests/hostile/README.md).
check-hostile: build
	PYTHONDONTWRITEBYTECODE=1 KASKO_LIBRARY=$(CURDIR)/$(LIB) python3 -m pytest -p no:cacheprovider -q Tests/hostile

# fork(): a client used before fork() keeps every process on connections of
# its own: parent and child at once, a fork while 4 threads are mid-call
# (sandbox delay faults), a child that frees the client, a grandchild; over
# HTTP and over TLS (a loopback nginx with stub_status).
check-fork: $(BUILD)/test_fork
	KASKO_SANDBOX_ARGS=--faults $(WITH_SANDBOX) $(RUN_LIB) scripts/check-fork $(BUILD)/test_fork

check-python: build
	KASKO_SANDBOX_ARGS=--faults $(WITH_SANDBOX) bindings/python/run-tests $(LIB)

# A manylinux wheel with libkasko inside and libcurl & co. grafted by
# auditwheel (build/wheel/); checked in fresh venvs against the sandbox.
wheel: build
	scripts/build-wheel

check-wheel: wheel
	$(WITH_SANDBOX) scripts/check-wheel

# The C++ header, the Rust crate and the Go package, each against the
# sandbox; then a project of each language outside the tree, depending on it
# as the README says.
check-bindings: build
	scripts/check-bindings
	scripts/check-readme-dependencies

# libkasko against hand-written libcurl C and Python requests, side by side
# (bench/run; results and method in docs/performance.md).
bench: need-bench build
	bench/run

# ---- Debian packages ----------------------------------------------------
deb: build
	scripts/build-deb

# make install into a scratch DESTDIR, used through its kasko.pc.
check-install: build
	scripts/check-install

# Installs the packages, uses them, removes them (needs root). Not part of
# make check, which leaves the machine's packages as it found them; it refuses
# to run when any of them is installed already, so it never removes a package
# that it did not install.
check-deb: deb
	scripts/check-deb

clean:
	rm -rf $(BUILD) .build
