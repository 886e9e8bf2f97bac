# herd — the README's commands. The real build is meson.build; this is a thin shell.
#   make run    install what is missing, build, and run herd's main job
#   make test   install what is missing, build, and run the whole test suite
#               (normal build, then again under ASan + UBSan)

BUILD ?= build
ASAN_BUILD ?= build-asan
MESON_SETUP = meson setup --buildtype=debugoptimized

.PHONY: all deps build run test test-fast test-asan install clean

all: build

deps:
	@bash scripts/install-deps.sh

$(BUILD)/build.ninja: | deps
	$(MESON_SETUP) $(BUILD)

build: deps $(BUILD)/build.ninja
	@meson setup --reconfigure $(BUILD) >/dev/null
	ninja -C $(BUILD)

run: build
	$(BUILD)/herd demo

test: build
	@bash scripts/run-tests.sh $(BUILD) $(ASAN_BUILD)

# Just the normal build's suite, without the sanitizer pass.
test-fast: build
	@bash scripts/run-tests.sh $(BUILD)

PREFIX ?= /usr/local
install: build
	meson configure $(BUILD) -Dprefix=$(PREFIX)
	meson install -C $(BUILD) $(if $(DESTDIR),--destdir "$(DESTDIR)",)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)

# Benchmarks print figures (ns/op, ops/s); they are not tests. bench/run.sh runs them all.
.PHONY: bench
bench: build
	@bash scripts/install-deps.sh bench
	@bash bench/run.sh $(BUILD)
