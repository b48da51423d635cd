# Tuatara: the README's two commands are `make run` and `make test`.
# Each target does its own set-up (`deps`), so a fresh clone needs nothing else.

SHELL := /bin/bash
CARGO ?= cargo
export CARGO_TERM_COLOR ?= never

.PHONY: run test bench bench-app deps fmt lint doc unit fuzz-build fuzz help ui ui-check app e2e screenshot package package-test icons

help:
	@echo "make run    - build the UI and the desktop app and open it (see README)"
	@echo "make screenshot - the real app under Xvfb (demo drive, a real quota wait): PNGs in target/screenshots/"
	@echo "make test   - everything CI runs: format, lints, docs, tests, fuzz targets built, e2e, screenshots, the package"
	@echo "make package - the .deb and .rpm of the app and tuatara-cli (release build; see README)"
	@echo "make bench  - Tuatara beside curl, rclone and megajs, plus the crypto benchmarks;"
	@echo "              tables in target/bench/ (BENCH_SIZE_MB, BENCH_RUNS, ... see bench/bench.py)"
	@echo "make bench-app - the release app's start on a 1,000,000-node account, in a real window"
	@echo "make fuzz   - run every fuzz target for FUZZ_SECONDS (default 60) each"
	@echo "make deps   - install the system and cargo tools the project needs"

deps:
	@scripts/deps.sh

# The desktop app embeds the built UI (ui/dist), so everything that compiles src-tauri
# (clippy, docs, tests) comes after `ui`. TARGET_DIR is where cargo puts binaries.
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)
APP_BIN := $(TARGET_DIR)/debug/tuatara

# The app's build of the UI has no mock backend in it (only `npm run dev`/`build:mock` do).
ui: deps
	cd ui && npm ci --no-audit --no-fund && npx vite build
	@! grep -l 'Trip to Wanaka' ui/dist/assets/*.js || { echo "ui: the mock backend is in the app's bundle" >&2; exit 1; }

ui-check: ui
	cd ui && npx svelte-check && npx vitest run

# The app with its frontend embedded (its default feature custom-protocol), as users run it.
app: ui
	$(CARGO) build -p tuatara-app --locked

run: app
	@if [ -z "$${DISPLAY:-}$${WAYLAND_DISPLAY:-}" ]; then \
	  echo "No display here: 'make screenshot' runs the app under Xvfb on the demo drive and writes"; \
	  echo "PNGs to target/screenshots/. With a display, $(APP_BIN) opens the app (try the demo drive)."; \
	else $(APP_BIN); fi

screenshot: app
	$(CARGO) build -p mega-testserver --locked
	scripts/screenshot.sh $(APP_BIN)

# The real app window through WebKitWebDriver under Xvfb, a private D-Bus and gnome-keyring.
e2e: app
	$(CARGO) build -p mega-testserver -p tuatara-cli --locked
	scripts/e2e.sh $(APP_BIN)

test: deps fmt ui ui-check lint doc unit fuzz-build e2e screenshot package-test

# The .deb and .rpm (Tauri's bundler, the CLI from npm in packaging/) of a release build:
# their paths are printed at the end. `icons` remakes src-tauri/icons from packaging/icon.svg.
package: ui
	$(CARGO) build --release -p tuatara-app -p tuatara-cli --locked
	scripts/package.sh

icons: deps
	scripts/icons.sh

# The package test bundles the debug build (the one `app` and `e2e` build), unpacks and installs
# it, and starts the installed app under Xvfb (scripts/package-test.sh).
package-test: app
	$(CARGO) build -p tuatara-cli --locked
	scripts/package-test.sh

fmt:
	$(CARGO) fmt --all --check

lint:
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

doc:
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --workspace --no-deps --locked

# Doc tests first, so the run closes on nextest's summary of every other test. nextest runs
# inside a private D-Bus session with an unlocked throwaway gnome-keyring, so the tests that
# store sessions in the OS keyring (tuatara-cli) run headless.
unit:
	$(CARGO) test --workspace --doc --locked
	scripts/with-keyring.sh $(CARGO) nextest run --workspace --locked --no-fail-fast

fuzz-build: deps
	FUZZ_TARGET_DIR=$${CARGO_TARGET_DIR:+$$CARGO_TARGET_DIR/fuzz} crates/mega-proto/fuzz/run.sh build

fuzz: deps
	FUZZ_TARGET_DIR=$${CARGO_TARGET_DIR:+$$CARGO_TARGET_DIR/fuzz} crates/mega-proto/fuzz/run.sh run $${FUZZ_SECONDS:-60}

bench: deps
	$(CARGO) build --release --locked -p mega-testserver -p tuatara-cli
	python3 bench/bench.py
	$(CARGO) bench -p mega-proto --bench throughput --locked
	$(CARGO) bench -p tuatara-core --bench links_check --locked
	$(CARGO) bench -p tuatara-core --bench stream --locked
	$(CARGO) bench -p tuatara-core --bench node_cache --locked
	@echo "tables: target/bench/report.md (clients side by side, the node cache's starts), target/bench/mega-proto.md (crypto), target/bench/links-check.md (10,000 links checked), target/bench/stream.md (seeks and streaming), target/bench/node-cache.md (cold and warm starts, in process); the app's start: make bench-app"

# The desktop app's start on a 1,000,000-node account: the release app in a real window under
# Xvfb, warm (node cache) and without it. Table in target/bench/app-start.md.
bench-app: ui
	$(CARGO) build --release --locked -p tuatara-app -p mega-testserver
	bench/app-start.sh $(TARGET_DIR)/release/tuatara
