#!/usr/bin/env bash
# Fuzz every parser of untrusted input (fuzz/fuzz_targets, one target per parser family) with
# cargo fuzz (libFuzzer), each for a set time.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
#   SECONDS   time per target (default 10: the smoke run that scripts/test.sh makes; the
#             long runs whose figures are in docs/fuzzing.md use 600)
#   TARGET    only these targets (default: every one `cargo fuzz list` names)
#
# 1. installs cargo-fuzz (`cargo install --locked cargo-fuzz`) when it is missing;
# 2. builds every target once on the default (stable) toolchain without a sanitizer
#    (`-s none`: nsview has no unsafe code in its parsers, and ASan needs nightly), with
#    debug assertions and overflow checks on (cargo fuzz's default), so an arithmetic
#    overflow is a crash too;
# 3. runs each target for SECONDS on its seed corpus fuzz/corpus/TARGET (read only: what
#    the run adds goes to fuzz/corpus-run/TARGET, not in git) with a maximum input length,
#    -timeout (an input that takes longer is a hang, reported as a crash) and -rss_limit_mb
#    (a process above it, or one allocation above it, is a crash too);
# 4. prints a table target / runs / execs per second / peak RSS / result, also written to
#    target/fuzz.md, and exits 1 if any target crashed. A crashing input is kept in
#    fuzz/artifacts/TARGET/ (the table names it); replay it with
#    `cargo fuzz run -s none TARGET fuzz/artifacts/TARGET/crash-...`, make it a regression
#    unit test next to the parser.
#
# Environment:
#   NSVIEW_FUZZ_MAX_LEN=16384   -max_len (bytes); larger than any seed
#   NSVIEW_FUZZ_TIMEOUT=10      -timeout (seconds for one input)
#   NSVIEW_FUZZ_RSS_MB=1024     -rss_limit_mb (and with it -malloc_limit_mb)
#   NSVIEW_FUZZ_REPORT=target/fuzz.md   where the table goes (for runs side by side)
#   NSVIEW_DRY_RUN=1            print the commands instead of running them
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SCRIPT_NAME=fuzz.sh
# shellcheck source=scripts/lib.sh
. "$ROOT/scripts/lib.sh"

SECONDS_EACH=${1:-10}
[[ $SECONDS_EACH =~ ^[1-9][0-9]*$ ]] || die "SECONDS must be a positive number, not '$SECONDS_EACH'"
shift $(($# > 0 ? 1 : 0))
MAX_LEN=${NSVIEW_FUZZ_MAX_LEN:-16384}
TIMEOUT=${NSVIEW_FUZZ_TIMEOUT:-10}
RSS_MB=${NSVIEW_FUZZ_RSS_MB:-1024}
# The same build flags for build and run, or cargo fuzz rebuilds.
FUZZ_FLAGS=(-s none)
REPORT=${NSVIEW_FUZZ_REPORT:-$ROOT/target/fuzz.md}
LOGS=$ROOT/fuzz/target/logs

ensure_cargo_fuzz() {
    if ! cargo fuzz --version >/dev/null 2>&1; then
        log "installing cargo-fuzz (cargo install --locked cargo-fuzz)"
        run cargo install --locked cargo-fuzz
    fi
}

# libFuzzer's final statistics of one run (-print_final_stats=1) from its log.
final_stat() { sed -n "s/^stat::$1: *//p" "$2" | tail -n 1; }

# fuzz_one TARGET: run it for SECONDS_EACH; append its table row to ROWS; 1 if it crashed.
fuzz_one() {
    local target=$1 log=$LOGS/$1-${SECONDS_EACH}s.log rc=0 result runs rate rss artifact
    local seeds=$ROOT/fuzz/corpus/$target live=$ROOT/fuzz/corpus-run/$target
    mkdir -p "$live" "$ROOT/fuzz/artifacts/$target"
    log "== $target: ${SECONDS_EACH}s"
    # The first corpus directory receives the new inputs: the seeds stay as committed.
    run cargo fuzz run "${FUZZ_FLAGS[@]}" "$target" "$live" "$seeds" -- \
        -max_total_time="$SECONDS_EACH" -max_len="$MAX_LEN" -timeout="$TIMEOUT" \
        -rss_limit_mb="$RSS_MB" -malloc_limit_mb="$RSS_MB" -print_final_stats=1 \
        -artifact_prefix="$ROOT/fuzz/artifacts/$target/" >"$log" 2>&1 || rc=$?
    runs=$(final_stat number_of_executed_units "$log")
    rate=$(final_stat average_exec_per_sec "$log")
    rss=$(final_stat peak_rss_mb "$log")
    if ((rc == 0)); then
        result=ok
    else
        artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
        result="CRASH (exit $rc) ${artifact:-see $log}"
        tail -n 40 "$log" >&2
    fi
    ROWS+=("| $target | ${SECONDS_EACH} s | ${runs:-?} | ${rate:-?} | ${rss:-?} MB | $result |")
    return "$rc"
}

main() {
    cd "$ROOT"
    find_cargo
    ensure_cargo_fuzz
    local targets=("$@") t0=$SECONDS crashed=()
    if ((${#targets[@]} == 0)); then
        mapfile -t targets < <(cargo fuzz list)
    fi
    ((${#targets[@]} > 0)) || die "no fuzz targets found in fuzz/"
    log "building ${#targets[@]} fuzz targets"
    run cargo fuzz build "${FUZZ_FLAGS[@]}"
    mkdir -p "$LOGS" "$(dirname "$REPORT")"
    ROWS=()
    local target
    for target in "${targets[@]}"; do
        fuzz_one "$target" || crashed+=("$target")
    done
    {
        printf '%s\n' "| target | time | runs | execs/s | peak RSS | result |"
        printf '%s\n' "|---|---|---|---|---|---|"
        printf '%s\n' "${ROWS[@]}"
    } | tee "$REPORT"
    log "${#targets[@]} targets x ${SECONDS_EACH}s in $((SECONDS - t0))s (build included); table in $REPORT"
    if ((${#crashed[@]} > 0)); then
        die "crashed: ${crashed[*]} (inputs in fuzz/artifacts/)"
    fi
}

main "$@"
