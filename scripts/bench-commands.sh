#!/usr/bin/env bash
# Benchmark (not a test): every user-facing nsview command as typed, output included, next to
# the tool an admin would use instead, on the same population, alternating runs.
#
#   sudo scripts/bench-commands.sh [small] [large]      (default: both)
#
#   small  the population of the speed issue: 500 isolation groups of 5 processes in 6 new
#          namespaces each (pid, uts, ipc, net, mnt, cgroup) + 2,000 plain sleeps (~4,580
#          processes, ~3,000 namespaces with the host's own)
#   large  2,000 groups of 5 + 10,000 plain sleeps (~20,000 processes, ~12,000 namespaces)
#
# With NSVIEW_BENCH_USE_UP=1 and a population already up (bench-population.sh up), that one is
# timed as it is (named "current") and left up.
#
# 1. installs hyperfine, jq, GNU time, util-linux, procps from Debian if missing;
# 2. builds target/release/nsview (or times NSVIEW_BIN);
# 3. starts the test suite's container runtimes (scripts/runtimes.sh) and 10 Docker containers
#    (nsview-test-bench-N, removed again) so that `containers` has a peer in `docker ps`;
# 4. for each population: brings it up with scripts/bench-population.sh, times each pair
#    (nsview command, peer) in NSVIEW_BENCH_RUNS rounds (default 7) after one warm-up round:
#    each round is one hyperfine run of each command (`-N --output=pipe`: no shell, the
#    output read through a pipe), the order flipped every round; then measures each command's
#    peak RSS (GNU time) once; takes the population down. A peer whose warm-up run took more
#    than NSVIEW_BENCH_SLOW_PEER seconds (10) runs in the first NSVIEW_BENCH_SLOW_PEER_RUNS
#    rounds (1) only, its warm-up run counted too: `lsns` at 20,000 processes takes over a
#    minute. Before timing, the machine is left to settle (the kernel frees the network
#    namespaces of a population taken down in a worker thread, for a minute or more): until
#    it is 90 % idle over 2 s, at most NSVIEW_BENCH_SETTLE seconds (180);
# 5. writes a markdown table (medians, ratio nsview/peer, peak RSS) and, with both populations,
#    the growth from small to large per process, to target/bench-commands.md (raw times:
#    target/bench-commands.tsv).
# Everything started is torn down on exit, failure and Ctrl-C included.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SCRIPT_NAME=bench-commands.sh
# shellcheck source=scripts/lib.sh
. "$ROOT/scripts/lib.sh"
# shellcheck source=scripts/runtimes.sh
. "$ROOT/scripts/runtimes.sh"

RUNS=${NSVIEW_BENCH_RUNS:-7}
SLOW_PEER=${NSVIEW_BENCH_SLOW_PEER:-10}
SETTLE=${NSVIEW_BENCH_SETTLE:-180}
SLOW_PEER_RUNS=${NSVIEW_BENCH_SLOW_PEER_RUNS:-1}
POPULATION=$ROOT/scripts/bench-population.sh
OUT_MD=$ROOT/target/bench-commands.md
OUT_TSV=$ROOT/target/bench-commands.tsv
PS_PEER='ps -eo pid,cgroup,ipcns,mntns,netns,pidns,userns,utsns'
CONTAINERS=10

BENCH_PACKAGES=(util-linux procps jq hyperfine time)

NSVIEW=""
DOCKER_UP=0
SHOW_PID=""

# The pairs: "nsview arguments|peer command line" ("-" when nothing else prints it).
pairs() {
    local docker_peer="-" docker_json_peer="-"
    if ((DOCKER_UP)); then
        docker_peer="docker ps"
        docker_json_peer="docker ps --format '{{json .}}'"
    fi
    local cgls_peer="-"
    command -v systemd-cgls >/dev/null && cgls_peer="systemd-cgls --no-pager"
    printf '%s\n' \
        "list --json|lsns -J" \
        "list|lsns" \
        "ps --json|$PS_PEER" \
        "ps|$PS_PEER" \
        "cgroups|$cgls_peer" \
        "cgroups --json|$cgls_peer" \
        "containers|$docker_peer" \
        "containers --json|$docker_json_peer" \
        "show $SHOW_PID|lsns -p $SHOW_PID" \
        "show $SHOW_PID --json|lsns -J -p $SHOW_PID"
}

# time_once CMD...: one hyperfine run, output through a pipe; prints seconds.
time_once() {
    local json
    json=$(mktemp)
    hyperfine -N --output=pipe --warmup 0 --runs 1 --style none --export-json "$json" \
        "$*" >/dev/null 2>&1 || {
        rm -f "$json"
        die "failed: $*"
    }
    jq -r '.results[0].times[0]' "$json"
    rm -f "$json"
}

# median: the median of the numbers on standard input.
median() {
    sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# peak_rss_kib COMMAND_LINE: the command's maximum resident set size in KiB (GNU time; the
# shell execs the command, so its own size does not count), output discarded.
peak_rss_kib() {
    local f
    f=$(mktemp)
    /usr/bin/time -f '%M' -o "$f" bash -c "exec $1" >/dev/null 2>&1 || true
    tail -n1 "$f"
    rm -f "$f"
}

# measure POPULATION_NAME: every pair, RUNS alternating rounds; rows appended to OUT_TSV as
# population, nsview args, peer, nsview median, peer median, nsview peak RSS, peer peak RSS.
measure() {
    local name=$1 pair args peer round
    while IFS= read -r pair; do
        args=${pair%%|*} peer=${pair#*|}
        local nsview_cmd="$NSVIEW $args" t_n=() t_p=()
        # One warm-up round (page cache, dentries), not counted. A peer slower than
        # SLOW_PEER seconds (lsns at 20,000 processes: about a minute) runs in the first
        # SLOW_PEER_RUNS rounds only.
        local peer_rounds=$RUNS warm
        time_once "$nsview_cmd" >/dev/null
        if [[ $peer != - ]]; then
            warm=$(time_once "$peer")
            if awk -v t="$warm" -v s="$SLOW_PEER" 'BEGIN { exit !(t > s) }'; then
                # Its warm-up counts as one run: a minute of lsns warms nothing further.
                peer_rounds=$SLOW_PEER_RUNS
                t_p+=("$warm")
                log "$name: $peer took $warm s: timed $((peer_rounds + 1)) times only"
            fi
        fi
        for ((round = 0; round < RUNS; round++)); do
            if [[ $peer == - ]] || ((round >= peer_rounds)); then
                t_n+=("$(time_once "$nsview_cmd")")
            elif ((round % 2)); then
                t_p+=("$(time_once "$peer")")
                t_n+=("$(time_once "$nsview_cmd")")
            else
                t_n+=("$(time_once "$nsview_cmd")")
                t_p+=("$(time_once "$peer")")
            fi
        done
        local m_n m_p="-" r_n r_p="-"
        m_n=$(printf '%s\n' "${t_n[@]}" | median)
        r_n=$(peak_rss_kib "$nsview_cmd")
        if [[ $peer != - ]]; then
            m_p=$(printf '%s\n' "${t_p[@]}" | median)
            r_p=$(peak_rss_kib "$peer")
        fi
        log "$name: nsview $args: $m_n s (peer ${peer}: $m_p s)"
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$args" "$peer" "$m_n" "$m_p" "$r_n" "$r_p" >>"$OUT_TSV"
    done < <(pairs)
}

population_up() {
    case $1 in
    small) NSVIEW_BENCH_GROUPS=500 NSVIEW_BENCH_PLAIN=2000 "$POPULATION" up ;;
    large) NSVIEW_BENCH_GROUPS=2000 NSVIEW_BENCH_PLAIN=10000 "$POPULATION" up ;;
    *) die "unknown population '$1' (small or large)" ;;
    esac
}

population_down() { "$POPULATION" down; }

# settle: wait until the machine is at least 90 % idle over 2 s (at most SETTLE seconds), so
# that the kernel's freeing of an earlier population's namespaces is not timed.
settle() {
    local deadline=$((SECONDS + SETTLE)) idle
    while :; do
        idle=$(idle_percent)
        ((idle >= 90)) && break
        if ((SECONDS >= deadline)); then
            warn "machine still busy after ${SETTLE}s (${idle} % idle): timing anyway"
            break
        fi
    done
    log "machine ${idle} % idle"
}

# idle_percent: the share of idle time of all CPUs over 2 s, from /proc/stat.
idle_percent() {
    local a b
    a=$(awk '/^cpu / { print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat)
    sleep 2
    b=$(awk '/^cpu / { print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat)
    awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " ");
        printf "%d", 100 * (y[1] - x[1]) / (y[2] - x[2]) }'
}

remove_bench_containers() {
    local i
    for ((i = 0; i < CONTAINERS; i++)); do
        docker rm -f "nsview-test-bench-$i" >/dev/null 2>&1 || true
    done
}

# start_containers: the runtimes of the test suite and CONTAINERS Docker containers.
start_containers() {
    on_exit stop_runtimes
    start_runtimes
    [[ -n ${NSVIEW_TEST_DOCKER_IMAGE:-} ]] || {
        warn "Docker did not come up: containers is timed without a peer"
        return 0
    }
    on_exit remove_bench_containers
    local i
    for ((i = 0; i < CONTAINERS; i++)); do
        docker run -d --name "nsview-test-bench-$i" "$NSVIEW_TEST_DOCKER_IMAGE" sleep 100000 >/dev/null
    done
    DOCKER_UP=1
}

# group_sleep: the PID of a sleep in a pid namespace other than ours (one of the groups), for
# `show`.
group_sleep() {
    local pid own
    own=$(readlink /proc/self/ns/pid)
    for pid in $(pgrep -x sleep); do
        if [[ $(readlink "/proc/$pid/ns/pid" 2>/dev/null) != "$own" ]]; then
            echo "$pid"
            return 0
        fi
    done
    die "no sleep of the population in a pid namespace of its own"
}

# counts: "N processes, M namespaces" of the host now.
counts() {
    local procs ns
    procs=$(ps -e --no-headers | wc -l)
    ns=$(lsns -J | jq '[.. | objects | select(has("ns") and has("type"))] | length')
    echo "$procs processes, $ns namespaces"
}

main() {
    require_root
    cd "$ROOT"
    local populations=("$@")
    ((${#populations[@]})) || populations=(small large)
    ensure_packages "${BENCH_PACKAGES[@]}"
    mkdir -p target
    NSVIEW=${NSVIEW_BIN:-$ROOT/target/release/nsview}
    if [[ -z ${NSVIEW_BIN:-} ]]; then
        find_cargo
        log "building $NSVIEW"
        cargo build --release --locked
    fi
    : >"$OUT_TSV"
    local name sizes=()
    if "$POPULATION" is-up; then
        [[ ${NSVIEW_BENCH_USE_UP:-0} == 1 ]] ||
            die "a benchmark population is already up; take it down first ($POPULATION down)," \
                "or time it as it is with NSVIEW_BENCH_USE_UP=1"
        start_containers
        SHOW_PID=$(group_sleep)
        sizes+=("current: $(counts)")
        settle
        measure current
        write_table "${sizes[@]}"
        return 0
    fi
    start_containers
    for name in "${populations[@]}"; do
        on_exit population_down
        population_up "$name"
        SHOW_PID=$(group_sleep)
        sizes+=("$name: $(counts)")
        settle
        measure "$name"
        population_down
    done
    write_table "${sizes[@]}"
}

# write_table SIZE...: target/bench-commands.md from OUT_TSV.
write_table() {
    local hv
    hv=$(hyperfine --version | awk '{ print $2 }')
    {
        echo "Machine: $(nproc) cores, kernel $(uname -r), $(date -u +%Y-%m-%d); hyperfine $hv;" \
            "median of $RUNS alternating runs after a warm-up, output read through a pipe."
        local s
        for s in "$@"; do echo "Population $s."; done
        echo
        echo "| population | command | nsview | peer | peer time | ratio | nsview peak RSS | peer peak RSS |"
        echo "|---|---|---:|---|---:|---:|---:|---:|"
        awk -F'\t' '{
            ratio = ($5 == "-") ? "-" : sprintf("%.3f", $4 / $5)
            peer_t = ($5 == "-") ? "-" : sprintf("%.0f ms", $5 * 1000)
            peer = ($3 == "-") ? "-" : "`" $3 "`"
            rss_p = ($7 == "-") ? "-" : sprintf("%.1f MiB", $7 / 1024)
            printf "| %s | `nsview %s` | %.0f ms | %s | %s | %s | %.1f MiB | %s |\n",
                $1, $2, $4 * 1000, peer, peer_t, ratio, $6 / 1024, rss_p
        }' "$OUT_TSV"
        growth_table
    } >"$OUT_MD"
    cat "$OUT_MD"
    log "written to ${OUT_MD#"$ROOT"/} (raw: ${OUT_TSV#"$ROOT"/})"
}

# growth_table: with both populations, time per process at large over time per process at
# small, for each command (1.0: linear).
growth_table() {
    grep -q '^small' "$OUT_TSV" && grep -q '^large' "$OUT_TSV" || return 0
    local n_small n_large
    n_small=$(sed -n 's/^small: \([0-9]*\) processes.*/\1/p' <<<"$(printf '%s\n' "${sizes[@]}")")
    n_large=$(sed -n 's/^large: \([0-9]*\) processes.*/\1/p' <<<"$(printf '%s\n' "${sizes[@]}")")
    echo
    echo "Growth from small ($n_small processes) to large ($n_large): (time large / time small) /" \
        "(processes large / processes small); 1.0 is linear."
    echo
    echo "| command | small | large | growth vs linear |"
    echo "|---|---:|---:|---:|"
    awk -F'\t' -v ns="$n_small" -v nl="$n_large" '
        $1 == "small" { small[$2] = $4; order[++n] = $2 }
        $1 == "large" { large[$2] = $4 }
        END {
            for (i = 1; i <= n; i++) {
                k = order[i]
                if (!(k in large) || k ~ /^show/) continue
                printf "| `nsview %s` | %.0f ms | %.0f ms | %.2f |\n", k, small[k] * 1000,
                    large[k] * 1000, (large[k] / small[k]) / (nl / ns)
            }
        }' "$OUT_TSV"
}

main "$@"
