#!/usr/bin/env bash
# Fuzzing mega-proto with cargo-fuzz (libFuzzer) on the STABLE toolchain.
#
#   run.sh build          build every fuzz target in one `cargo fuzz build` (for CI)
#   run.sh run SECONDS    build, then run every target for SECONDS (libFuzzer -max_total_time),
#                         each on corpus/<target> (grown, gitignored) plus seeds/<target>
#                         (committed), and print one summary line per target:
#                         `<target> runs=<N> <ok|CRASH|TIMEOUT|OOM> [artifact]`
#
# cargo-fuzz passes nightly-only flags (-Zsanitizer=address); RUSTC_BOOTSTRAP=1 lets the stable
# compiler accept them. cargo-fuzz itself is installed with `cargo install cargo-fuzz --locked`
# if `cargo fuzz` is missing.
#
# Environment (all optional):
#   FUZZ_SANITIZER   address (default) | none
#   FUZZ_TARGET_DIR  cargo target dir (default: <this dir>/target)
#   FUZZ_TARGETS     space-separated subset of targets (default: every fuzz_targets/*.rs)
#   FUZZ_FEATURES    cargo features of the fuzz crate (none today)
#   FUZZ_JOBS        targets run at once, 1 (default) or more
#   FUZZ_TIMEOUT     libFuzzer -timeout per input in seconds (default 10)
#   FUZZ_LOG_DIR     where each target's full libFuzzer log goes (default: <this dir>/logs)
#
# A crash leaves its input in artifacts/<target>/; reproduce it with
#   RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir <this dir> <target> <artifact>
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$HERE"
export RUSTC_BOOTSTRAP=1

SANITIZER="${FUZZ_SANITIZER:-address}"
TARGET_DIR="${FUZZ_TARGET_DIR:-$HERE/target}"
LOG_DIR="${FUZZ_LOG_DIR:-$HERE/logs}"
JOBS="${FUZZ_JOBS:-1}"
TIMEOUT="${FUZZ_TIMEOUT:-10}"
if [[ -n "${FUZZ_TARGETS:-}" ]]; then
    read -r -a TARGETS <<<"$FUZZ_TARGETS"
else
    TARGETS=()
    for f in fuzz_targets/*.rs; do TARGETS+=("$(basename "$f" .rs)"); done
fi

BUILD_ARGS=(--fuzz-dir "$HERE" --sanitizer "$SANITIZER" --target-dir "$TARGET_DIR")
if [[ -n "${FUZZ_FEATURES:-}" ]]; then BUILD_ARGS+=(--features "$FUZZ_FEATURES"); fi

usage() {
    sed -n '2,9p' "$HERE/run.sh" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

ensure_cargo_fuzz() {
    if ! cargo fuzz --version >/dev/null 2>&1; then
        echo "+ cargo install cargo-fuzz --locked" >&2
        cargo install cargo-fuzz --locked
    fi
}

build() {
    ensure_cargo_fuzz
    echo "+ RUSTC_BOOTSTRAP=1 cargo fuzz build ${BUILD_ARGS[*]}  ($(rustc --version), $(cargo fuzz --version))"
    cargo fuzz build "${BUILD_ARGS[@]}"
}

dict_for() {
    case "$1" in
        link_parse | extract_links) echo "$HERE/dicts/links.dict" ;;
    esac
}

# Runs one target; writes its summary line to $LOG_DIR/<target>.result.
run_one() {
    local t="$1" secs="$2" log="$LOG_DIR/$1.log" rc=0
    mkdir -p "corpus/$t" "artifacts/$t"
    local args=(-max_total_time="$secs" -timeout="$TIMEOUT" -print_final_stats=1)
    local dict
    dict="$(dict_for "$t")"
    if [[ -n "$dict" ]]; then args+=(-dict="$dict"); fi
    local before
    before="$(ls -1 "artifacts/$t" | sort)"
    echo "+ RUSTC_BOOTSTRAP=1 cargo fuzz run ${BUILD_ARGS[*]} $t corpus/$t seeds/$t -- ${args[*]}" >"$log"
    cargo fuzz run "${BUILD_ARGS[@]}" "$t" "corpus/$t" "seeds/$t" -- "${args[@]}" >>"$log" 2>&1 || rc=$?
    # libFuzzer's final line on a clean stop is "Done N runs in S second(s)"; on a crash,
    # -print_final_stats gives stat::number_of_executed_units.
    local runs
    runs="$(grep -oE '^Done [0-9]+ runs' "$log" | tail -n1 | awk '{print $2}' || true)"
    if [[ -z "$runs" ]]; then
        runs="$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | tail -n1 | grep -oE '[0-9]+$' || true)"
    fi
    local result=ok artifact=""
    if [[ $rc -ne 0 ]]; then
        if grep -q 'ERROR: libFuzzer: timeout' "$log"; then
            result=TIMEOUT
        elif grep -q 'ERROR: libFuzzer: out-of-memory' "$log"; then
            result=OOM
        else
            result=CRASH
        fi
        artifact="$(comm -13 <(echo "$before") <(ls -1 "artifacts/$t" | sort) | head -n1)"
        [[ -n "$artifact" ]] && artifact="artifacts/$t/$artifact"
        [[ -z "$artifact" ]] && artifact="(exit $rc, see $log)"
    fi
    printf '%-16s runs=%-10s %s %s\n' "$t" "${runs:-?}" "$result" "$artifact" >"$LOG_DIR/$t.result"
    echo "finished: $(cat "$LOG_DIR/$t.result")" >&2
}

run_all() {
    local secs="$1"
    [[ "$secs" =~ ^[0-9]+$ ]] || usage
    mkdir -p "$LOG_DIR"
    build
    local t running=0
    for t in "${TARGETS[@]}"; do
        rm -f "$LOG_DIR/$t.result"
        run_one "$t" "$secs" &
        running=$((running + 1))
        if ((running >= JOBS)); then
            wait -n || true
            running=$((running - 1))
        fi
    done
    wait || true
    echo "== summary (${secs}s per target, sanitizer $SANITIZER${FUZZ_FEATURES:+, features $FUZZ_FEATURES}; logs in $LOG_DIR)"
    local failed=0
    for t in "${TARGETS[@]}"; do
        if [[ -f "$LOG_DIR/$t.result" ]]; then
            cat "$LOG_DIR/$t.result"
            grep -q ' ok ' "$LOG_DIR/$t.result" || failed=1
        else
            printf '%-16s runs=?          CRASH (no result, see %s)\n' "$t" "$LOG_DIR/$t.log"
            failed=1
        fi
    done
    return $failed
}

case "${1:-}" in
    build) build ;;
    run) run_all "${2:-}" ;;
    *) usage ;;
esac
