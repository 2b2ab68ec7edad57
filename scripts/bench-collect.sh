#!/usr/bin/env bash
# Benchmark (not a test): one full nsview collection (namespaces + processes + cgroups)
# next to `lsns -J` on the same large population, timed with hyperfine.
#
#   sudo scripts/bench-collect.sh
#
# 1. installs hyperfine (and jq, util-linux, procps) from Debian if missing;
# 2. builds target/release/nsview (cargo build --release --locked);
# 3. brings up scripts/bench-population.sh (~4,500 processes in ~2,500 namespaces) and
#    tears it down on exit, failure and Ctrl-C included. A population that was already
#    up (started by hand) is used as it is and left up;
# 4. times `lsns -J > /dev/null`, `nsview __collect > /dev/null` (hidden subcommand: one
#    full collection, one-line summary; processes read with the BPF task iterator, as root on a
#    host this size) and `nsview __collect --process-source proc` (the /proc reader alone) with
#    hyperfine; if nsview cannot be built or `__collect` fails, only lsns is timed and the table
#    says why nsview was skipped;
# 5. prints a markdown table (tool, mean, stddev, ratio vs lsns) with the population counts
#    and writes it to target/bench-collect.md (hyperfine's raw JSON: target/bench-collect.json).
#
# Environment:
#   NSVIEW_BENCH_RUNS=10     hyperfine --runs (at least 10 is sensible)
#   NSVIEW_BENCH_WARMUP=2    hyperfine --warmup
#   NSVIEW_BIN=PATH          time this nsview binary instead of building target/release/nsview
#   NSVIEW_BENCH_GROUPS, NSVIEW_BENCH_PROCS   population shape (see bench-population.sh)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SCRIPT_NAME=bench-collect.sh
# shellcheck source=scripts/lib.sh
. "$ROOT/scripts/lib.sh"

RUNS=${NSVIEW_BENCH_RUNS:-10}
WARMUP=${NSVIEW_BENCH_WARMUP:-2}
POPULATION=$ROOT/scripts/bench-population.sh
OUT_MD=$ROOT/target/bench-collect.md
OUT_JSON=$ROOT/target/bench-collect.json

BENCH_PACKAGES=(util-linux procps jq hyperfine)

# count_namespaces: every namespace lsns -J lists, child pid/time namespaces included
# (lsns nests them under their parents).
count_namespaces() {
    lsns -J | jq '[.. | objects | select(has("ns") and has("type"))] | length'
}

population_down() { "$POPULATION" down; }

count_processes() {
    ps -e --no-headers | wc -l
}

main() {
    require_root
    cd "$ROOT"
    ensure_packages "${BENCH_PACKAGES[@]}"
    mkdir -p target

    # Build first, before the population loads the machine.
    local nsview=${NSVIEW_BIN:-} skip_reason=""
    if [[ -z $nsview ]]; then
        nsview=$ROOT/target/release/nsview
        find_cargo
        log "building $nsview"
        if ! cargo build --release --locked; then
            skip_reason="cargo build --release --locked failed"
        fi
    fi

    if "$POPULATION" is-up; then
        log "using the population that is already up (it stays up)"
    else
        on_exit population_down
        "$POPULATION" up
    fi

    local procs namespaces summary=""
    procs=$(count_processes)
    namespaces=$(count_namespaces)

    if [[ -z $skip_reason ]]; then
        local out rc=0
        out=$("$nsview" __collect --phases 2>&1) || rc=$?
        if ((rc == 0)); then
            summary=$(head -n2 <<<"$out" | sed 's/^ *//' | paste -sd ';' - | sed 's/;/; /')
            log "nsview __collect: $summary"
        else
            local first
            first=$(head -n1 <<<"$out")
            skip_reason="\`nsview __collect\` exited $rc${first:+: $first}"
        fi
    fi
    [[ -z $skip_reason ]] || warn "nsview skipped: $skip_reason"

    local cmds=(-n 'lsns -J' 'lsns -J > /dev/null')
    # The default (the BPF task iterator on a host this size, as root), and the /proc reader alone.
    [[ -n $skip_reason ]] || cmds+=(-n 'nsview __collect' "$(printf '%q' "$nsview") __collect > /dev/null"
        -n 'nsview __collect --process-source proc' "$(printf '%q' "$nsview") __collect --process-source proc > /dev/null")
    hyperfine --warmup "$WARMUP" --runs "$RUNS" --export-json "$OUT_JSON" "${cmds[@]}"

    local hyperfine_version load
    hyperfine_version=$(hyperfine --version | awk '{ print $2 }')
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    {
        echo "## Full collection: nsview vs lsns -J"
        echo
        echo "Population: $procs processes (\`ps -e\`), $namespaces namespaces (\`lsns -J\`, nested ones included);" \
            "from scripts/bench-population.sh."
        echo "Machine: $(nproc) cores, kernel $(uname -r), $(date -u +%Y-%m-%d);" \
            "hyperfine $hyperfine_version, warmup $WARMUP, $RUNS runs; load average before: $load."
        echo
        echo "| tool | mean | stddev | ratio vs lsns |"
        echo "|---|---:|---:|---:|"
        jq -r '.results[] | [.command, .mean, (.stddev // 0)] | @tsv' "$OUT_JSON" |
            awk -F'\t' '
                NR == 1 { base = $2 } # lsns -J is always the first command
                { printf "| `%s` | %.1f ms | %.1f ms | %.3f |\n", $1, $2 * 1000, $3 * 1000, $2 / base }'
        if [[ -n $skip_reason ]]; then
            echo "| \`nsview __collect\` | skipped: ${skip_reason//|/\\|} | | |"
        elif [[ -n $summary ]]; then
            echo
            echo "nsview's summary of one collection: \`$summary\`"
        fi
    } >"$OUT_MD"
    echo
    cat "$OUT_MD"
    echo
    log "written to ${OUT_MD#"$ROOT"/} (raw: ${OUT_JSON#"$ROOT"/})"
}

main "$@"
