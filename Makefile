# herd — the README's commands. The real build is meson.build; this is a thin shell.
#   make run    install what is missing, build, and run herd's main job
#   make test   install what is missing, build, and run the whole test suite
#               (normal build, then again under ASan + UBSan)

BUILD ?= build
ASAN_BUILD ?= build-asan
MESON_SETUP = meson setup --buildtype=debugoptimized

.PHONY: all deps build run test test-fast test-asan fidelity fuzz install clean

all: build

deps:
	@bash scripts/install-deps.sh

$(BUILD)/build.ninja: | deps
	$(MESON_SETUP) $(BUILD)

build: deps $(BUILD)/build.ninja
	@meson setup --reconfigure $(BUILD) >/dev/null
	ninja -C $(BUILD)

# herd's main job: the four herds measured on this machine, then the page of seed 004
# (herd serve) until Ctrl-C. `make run SERVE=0` stops after the table.
SERVE ?= 1
LISTEN ?= 127.0.0.1:8080
run: build
	$(BUILD)/herd demo
ifneq ($(SERVE),0)
	@echo
	@echo "herd serve: open the URL below in a browser (Ctrl-C stops it; make run SERVE=0 skips it)"
	$(BUILD)/herd serve --listen $(LISTEN)
endif

test: build
	@bash scripts/run-tests.sh $(BUILD) $(ASAN_BUILD)

# Just the normal build's suite, without the sanitizer pass.
test-fast: build
	@bash scripts/run-tests.sh $(BUILD)

# The simulator against this kernel: live vs sim at N = 100 and 1,000 with intervals and
# a verdict per row (about five minutes; herd fidelity --help). Not a test: live ratios
# on a shared 2-core machine are for intervals and verdicts, not for pass/fail.
fidelity: build
	$(BUILD)/herd fidelity

# herd's parsers under libFuzzer (scripts/fuzz.sh: the scenario-file reader, the HTTP
# request head, the API's run request, herd run's command line), each until FUZZ_RUNS
# inputs or FUZZ_SECONDS; the test suite runs them 6 s each (a smoke run). Crashes: $(BUILD)/fuzz/*/crash-*.
FUZZ_RUNS ?= 10000000
FUZZ_SECONDS ?= 1800
fuzz: build
	@bash scripts/fuzz.sh . $(BUILD)/fuzz $(FUZZ_SECONDS) $(FUZZ_RUNS)

PREFIX ?= /usr/local
install: build
	meson configure $(BUILD) -Dprefix=$(PREFIX)
	meson install -C $(BUILD) $(if $(DESTDIR),--destdir "$(DESTDIR)",)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(BENCH_BUILD)

# Benchmarks print figures (ns/op, ops/s); they are not tests. bench/run.sh runs them all,
# from their own optimised build: -O3, NDEBUG and link-time optimisation, which lets the
# engine's queue and the models' callbacks inline into one another across files (about
# 10 % on the simulator's small models). The tests keep asserts on in $(BUILD).
BENCH_BUILD ?= build-bench
.PHONY: bench
bench: deps
	@bash scripts/install-deps.sh bench
	@[ -f $(BENCH_BUILD)/build.ninja ] || meson setup --buildtype=release -Db_lto=true $(BENCH_BUILD)
	ninja -C $(BENCH_BUILD)
	@bash bench/run.sh $(BENCH_BUILD)
