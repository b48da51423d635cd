# Tuatara: the README's two commands are `make run` and `make test`.
# Each target does its own set-up (`deps`), so a fresh clone needs nothing else.

SHELL := /bin/bash
CARGO ?= cargo
export CARGO_TERM_COLOR ?= never

.PHONY: run test bench deps fmt lint doc unit fuzz-build fuzz help

help:
	@echo "make run    - start Tuatara (see README)"
	@echo "make test   - everything CI runs: format, lints, docs, tests, fuzz targets built"
	@echo "make bench  - Tuatara beside curl, rclone and megajs, plus the crypto benchmarks;"
	@echo "              tables in target/bench/ (BENCH_SIZE_MB, BENCH_RUNS, ... see bench/bench.py)"
	@echo "make fuzz   - run every fuzz target for FUZZ_SECONDS (default 60) each"
	@echo "make deps   - install the system and cargo tools the project needs"

deps:
	@scripts/deps.sh

run: deps
	@echo "Tuatara's desktop app (src-tauri + ui/) is not in this tree yet; 'make run' will build"
	@echo "and open it, with its offline demo drive. What runs today:"
	@echo "  cargo run --release -p mega-testserver -- --demo --data ~/.local/share/tuatara/demo"
	@echo "a MEGA-compatible server on 127.0.0.1 with the demo drive (demo@tuatara.test /"
	@echo "tuatara-demo; megajs and rclone work against it), and the"
	@echo "protocol library mega-proto, which 'make test' checks and 'make bench' measures."

test: deps fmt lint doc unit fuzz-build

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
	@echo "tables: target/bench/report.md (clients side by side), target/bench/mega-proto.md (crypto)"
