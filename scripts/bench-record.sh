#!/usr/bin/env bash
# Benchmark (not a test): what the recorder costs and how fast a recording is read back.
#
#   sudo scripts/bench-population.sh up && sudo scripts/bench-record.sh
#
# 1. installs hyperfine and procps from Debian if missing; builds target/release/nsview
#    (cargo build --release --locked) unless $NSVIEW names a binary;
# 2. runs `nsview record --interval $INTERVAL --duration $MINUTES` (5 s, 60 min) into a new
#    temporary directory on whatever population is up, and samples the recorder's
#    utime+stime (/proc/PID/stat), VmRSS and the file's size every minute;
# 3. reports CPU as % of one core over the first 5 minutes and over the whole run, storage
#    per hour (bytes written per hour of recording), the sizes of full and delta frames
#    (`nsview record --info --json`), and peak RSS;
# 4. times what the user waits for on that recording with hyperfine (-N, output to a pipe):
#    `nsview ps --from F --at -30m --json`, `nsview list --from F --at -30m` (the middle of the
#    recording), `nsview
#    containers --from F --json` (last frame) and `nsview record --info F`;
# 5. prints a markdown table and writes it to target/bench-record.md.
#
# NSVIEW_BENCH_RECORD=FILE skips 2: reads an existing recording (its CPU figures are then
# not measured). Cleanup (EXIT trap from lib.sh): the recorder (by its PID) and the temporary
# directory unless NSVIEW_BENCH_KEEP=1.
#
# Environment:
#   NSVIEW=PATH                         the nsview binary (default target/release/nsview)
#   NSVIEW_BENCH_RECORD_MINUTES=60      length of the recording
#   NSVIEW_BENCH_RECORD_INTERVAL=5s     its interval
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SCRIPT_NAME=bench-record.sh
# shellcheck source=scripts/lib.sh
. "$ROOT/scripts/lib.sh"

MINUTES=${NSVIEW_BENCH_RECORD_MINUTES:-60}
INTERVAL=${NSVIEW_BENCH_RECORD_INTERVAL:-5s}
BENCH_PACKAGES=(hyperfine procps jq)
CLK_TCK=$(getconf CLK_TCK)
REC_PID=""

# ticks PID: utime+stime of PID in clock ticks (fails when it is gone).
ticks() {
    local line f
    { IFS= read -r line <"/proc/$1/stat"; } 2>/dev/null || return 1
    read -r -a f <<<"${line##*) }"
    printf '%s\n' $((f[11] + f[12]))
}

stop_recorder() {
    if [[ -n $REC_PID ]] && kill -0 "$REC_PID" 2>/dev/null; then
        kill -TERM "$REC_PID" 2>/dev/null || true
        wait "$REC_PID" 2>/dev/null || true
    fi
}

# record DIR: a recording of MINUTES into DIR/bench.nsrec; sets CPU_5MIN, CPU_ALL, PEAK_KB.
record() {
    local dir=$1 file=$1/bench.nsrec
    "$NSVIEW" record --interval "$INTERVAL" --duration "${MINUTES}m" --output "$file" \
        2>"$dir/record.log" &
    REC_PID=$!
    on_exit stop_recorder
    local start now t0 t5="" minute=0 peak=0 rss ticks_now
    start=$(date +%s)
    t0=$(ticks "$REC_PID")
    T5_AT=0 LAST_TICKS=$t0 LAST_AT=$start
    log "recording $MINUTES min at $INTERVAL into $file (PID $REC_PID)"
    while kill -0 "$REC_PID" 2>/dev/null; do
        sleep 5
        ticks_now=$(ticks "$REC_PID") || break
        now=$(date +%s)
        LAST_TICKS=$ticks_now LAST_AT=$now
        rss=$(awk '/^VmHWM:/ { print $2 }' "/proc/$REC_PID/status" 2>/dev/null || echo 0)
        ((rss > peak)) && peak=$rss
        if ((now - start >= 300)) && [[ -z $t5 ]]; then
            t5=$ticks_now T5_AT=$now
        fi
        if (((now - start) / 60 > minute)); then
            minute=$(((now - start) / 60))
            log "minute $minute: $(stat -c %s "$file") bytes, CPU $((ticks_now - t0)) ticks"
        fi
    done
    wait "$REC_PID" || die "the recorder failed: $(cat "$dir/record.log")"
    REC_PID=""
    CPU_5MIN=$(awk -v a="$t0" -v b="${t5:-0}" -v hz="$CLK_TCK" -v s="$((T5_AT - start))" \
        'BEGIN { if (b == 0) print "n/a"; else printf "%.2f %%", 100 * (b - a) / hz / s }')
    CPU_ALL=$(awk -v a="$t0" -v b="${LAST_TICKS:-0}" -v hz="$CLK_TCK" -v s="$((LAST_AT - start))" \
        'BEGIN { printf "%.2f %%", 100 * (b - a) / hz / s }')
    PEAK_KB=$peak
}

main() {
    require_root
    ensure_packages "${BENCH_PACKAGES[@]}"
    if [[ -z ${NSVIEW:-} ]]; then
        run cargo build --release --locked --manifest-path "$ROOT/Cargo.toml" >&2
        NSVIEW=$ROOT/target/release/nsview
    fi
    local dir file
    dir=$(mktemp -d /tmp/nsview-bench-record.XXXXXX)
    [[ ${NSVIEW_BENCH_KEEP:-0} == 1 ]] || on_exit "rm -rf '$dir'"
    CPU_5MIN=n/a CPU_ALL=n/a PEAK_KB=n/a
    if [[ -n ${NSVIEW_BENCH_RECORD:-} ]]; then
        file=$NSVIEW_BENCH_RECORD
    else
        record "$dir"
        file=$dir/bench.nsrec
    fi
    local info span bytes frames full per_hour
    info=$("$NSVIEW" record --info "$file" --json)
    span=$(jq -r '.duration_ms / 1000 | floor' <<<"$info")
    bytes=$(jq -r '.bytes' <<<"$info")
    frames=$(jq -r '.frames' <<<"$info")
    full=$(jq -r '.full_frames' <<<"$info")
    per_hour=$(awk -v b="$bytes" -v s="$span" 'BEGIN { printf "%.2f MB", b / s * 3600 / 1e6 }')
    log "$frames frames ($full full) over $span s, $bytes bytes"
    # A frame in the middle: the full frame before it and up to 119 deltas to apply.
    local at="-$((span / 2))s"
    hyperfine -N --output=pipe --warmup 2 --runs 10 --export-json "$dir/hf.json" \
        "$NSVIEW ps --from $file --at $at --json" \
        "$NSVIEW list --from $file --at $at" \
        "$NSVIEW containers --from $file --json" \
        "$NSVIEW record --info $file" >&2
    local table
    table=$(
        echo "| what | figure |"
        echo "|---|---|"
        echo "| population | $(ps -e --no-headers | wc -l) processes |"
        echo "| recording | $frames frames ($full full) over $span s at $INTERVAL, $bytes bytes |"
        echo "| recorder CPU, first 5 min (% of one core) | $CPU_5MIN |"
        echo "| recorder CPU, whole run | $CPU_ALL |"
        echo "| recorder peak RSS | $PEAK_KB KiB |"
        echo "| storage per hour | $per_hour |"
        jq -r '.results[] | "| `\(.command | sub("^[^ ]*/"; "") )` | \(.mean * 1000 | floor) ms ± \(.stddev * 1000 | floor) |"' "$dir/hf.json"
    )
    mkdir -p "$ROOT/target"
    printf '%s\n' "$table" | tee "$ROOT/target/bench-record.md"
}

main "$@"
