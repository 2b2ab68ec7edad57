#!/usr/bin/env bash
# Benchmark population (not a test): many processes in many namespaces, to time a full
# collection by nsview next to `lsns -J` on the same host.
#
#   sudo scripts/bench-population.sh up       create it (refuses if one is already up)
#   sudo scripts/bench-population.sh down     kill exactly what `up` started, then forget it
#   sudo scripts/bench-population.sh status   print the host's counts (processes, namespaces)
#   sudo scripts/bench-population.sh is-up    exit 0 if a population is up, 1 if not (quiet)
#
# Shape (defaults: the population of the speed issue, 4,500 processes on top of the host's own,
# 3,000 namespaces):
#   NSVIEW_BENCH_GROUPS=500      isolation groups. Each is one
#       unshare --fork --pid --mount-proc --uts --ipc --net --mount --cgroup --kill-child sh -c ...
#     i.e. 6 new namespaces (mnt, uts, ipc, pid, net, cgroup), hostname "nsview-bench-N", with
#     `sh` as PID 1 and its `sleep infinity` children.
#   NSVIEW_BENCH_GROUP_SIZE=5    processes per group: unshare, sh and GROUP_SIZE - 2 sleeps.
#   NSVIEW_BENCH_PLAIN=2000      plain `sleep infinity`s in the host's namespaces.
#   NSVIEW_BENCH_USERNS=0        1: each group also gets a user namespace (--map-root-user)
#     and a time namespace (8 new namespaces per group).
# The 20,000-process population of the benchmarks: NSVIEW_BENCH_GROUPS=2000
# NSVIEW_BENCH_PLAIN=10000.
#
# Safety (../shared/docs/testing.md):
# - Everything runs in one new session/process group whose leader is a launcher shell; the
#   state under /run/nsview-bench/ records that group and every PID with its start time
#   (field 22 of /proc/PID/stat). `down` signals that group (after checking the leader is
#   still the same process) and those PIDs (only if the start time still matches), never
#   anything by name.
# - No cgroup is written: the processes stay in the caller's cgroups (cgroup namespaces are
#   only new views of them). No network traffic: the new net namespaces only hold `lo`.
# - If `up` fails half-way, it tears down what it started.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SCRIPT_NAME=bench-population.sh
# shellcheck source=scripts/lib.sh
. "$ROOT/scripts/lib.sh"

STATE_DIR=/run/nsview-bench
STATE=$STATE_DIR/state          # pgid=, leader_start=, groups=, procs=
PIDS=$STATE_DIR/pids            # "PID STARTTIME" per line, every process of the population
LEADER_FILE=$STATE_DIR/leader   # written by the launcher itself
LAUNCH_LOG=$STATE_DIR/launcher.log

GROUPS_WANTED=${NSVIEW_BENCH_GROUPS:-500}
GROUP_SIZE=${NSVIEW_BENCH_GROUP_SIZE:-5}
PLAIN_WANTED=${NSVIEW_BENCH_PLAIN:-2000}
USERNS=${NSVIEW_BENCH_USERNS:-0}
PROCS_WANTED=$((GROUPS_WANTED * GROUP_SIZE + PLAIN_WANTED))
UP_TIMEOUT=${NSVIEW_BENCH_UP_TIMEOUT:-600}

BENCH_PACKAGES=(util-linux procps jq)

# stat_of PID: set STAT_STATE, STAT_PGID and STAT_START from /proc/PID/stat; 1 if it is gone.
stat_of() {
    local line rest f
    { IFS= read -r line <"/proc/$1/stat"; } 2>/dev/null || return 1
    rest=${line##*) } # comm may hold spaces and parentheses: cut after the last ") "
    read -r -a f <<<"$rest"
    STAT_STATE=${f[0]} STAT_PGID=${f[2]} STAT_START=${f[19]}
}

# alive PID START: the process with this PID is still the one that started at START.
alive() {
    stat_of "$1" && [[ $STAT_STATE != Z && $STAT_START == "$2" ]]
}

# pgid_members PGID: PIDs of every process in process group PGID.
pgid_members() {
    ps -e -o pid=,pgid= | awk -v g="$1" '$2 == g { print $1 }'
}

print_counts() {
    local procs ns
    procs=$(ps -e --no-headers | wc -l)
    # lsns -J nests child pid/time namespaces under their parents ("children"): count them
    # all, at any depth.
    ns=$(lsns -J | jq -r '[.. | objects | select(has("ns") and has("type"))] |
        "\(length) (" + (group_by(.type) | map("\(.[0].type) \(length)") | join(", ")) + ")"')
    log "counts: processes (ps -e | wc -l, no header): $procs"
    log "counts: namespaces (lsns -J | jq): $ns"
}

# record_leader: once the launcher has written its PID, check that it is our launcher (its
# own process group leader, with our leader file on its command line) and write STATE.
record_leader() {
    [[ -f $STATE ]] && return 0
    [[ -s $LEADER_FILE ]] || return 1
    local pid
    pid=$(<"$LEADER_FILE")
    stat_of "$pid" || return 1
    [[ $STAT_PGID == "$pid" ]] || return 1
    tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qxF "$LEADER_FILE" || return 1
    printf 'pgid=%s\nleader_start=%s\ngroups=%s\nprocs=%s\n' \
        "$pid" "$STAT_START" "$GROUPS_WANTED" "$PROCS_WANTED" >"$STATE"
}

population_is_up() {
    [[ -f $STATE ]] || return 1
    local pgid leader_start
    pgid=$(sed -n 's/^pgid=//p' "$STATE")
    leader_start=$(sed -n 's/^leader_start=//p' "$STATE")
    [[ -n $pgid ]] && alive "$pgid" "$leader_start"
}

_BENCH_UP_OK=0

undo_failed_up() {
    ((_BENCH_UP_OK)) && return 0
    warn "up did not complete; tearing down what it started"
    record_leader || true
    cmd_down
}

cmd_up() {
    if population_is_up; then
        die "a population is already up (state in $STATE); run: $0 down"
    fi
    if [[ -f $STATE || -f $PIDS ]]; then
        log "removing the leftovers of an earlier population first"
        cmd_down
    fi
    ((GROUPS_WANTED >= 0)) || die "NSVIEW_BENCH_GROUPS must be >= 0"
    ((GROUP_SIZE >= 2)) || die "NSVIEW_BENCH_GROUP_SIZE must be >= 2 (unshare and sh)"
    ((PLAIN_WANTED >= 0)) || die "NSVIEW_BENCH_PLAIN must be >= 0"
    local free_pids
    free_pids=$(($(</proc/sys/kernel/pid_max) - $(ps -e --no-headers -L | wc -l)))
    ((PROCS_WANTED + 1000 < free_pids)) ||
        die "$PROCS_WANTED processes do not fit: kernel.pid_max leaves $free_pids free PIDs"
    local sleeps=$((GROUPS_WANTED * (GROUP_SIZE - 2) + PLAIN_WANTED))
    local ns_flags="--pid --mount-proc --uts --ipc --net --mount --cgroup"
    ((USERNS)) && ns_flags+=" --user --map-root-user --time"

    mkdir -p "$STATE_DIR"
    rm -f "$LEADER_FILE"
    local t0=$EPOCHREALTIME

    # PID 1 of each group: name the UTS namespace (its own; with NSVIEW_BENCH_USERNS=1 we are
    # root in the group's own user namespace), start the sleeps, reap them forever.
    # shellcheck disable=SC2016 # expanded by the group's sh, not here
    local group_sh='echo "nsview-bench-$1" > /proc/sys/kernel/hostname
i=0
while [ "$i" -lt "$2" ]; do sleep infinity & i=$((i + 1)); done
wait'
    # The launcher: a new session (so one process group holds the whole population, and
    # nothing is tied to our terminal) that records its own PID, starts the groups and
    # waits for them. No job control in a non-interactive shell, so every descendant stays
    # in the launcher's process group.
    # shellcheck disable=SC2016
    # shellcheck disable=SC2016
    local launcher='echo $$ > "$1"
groups=$2 per_group=$3 plain=$4 group_sh=$5 ns_flags=$6
for ((g = 0; g < groups; g++)); do
    unshare --fork $ns_flags --kill-child sh -c "$group_sh" sh "$g" "$per_group" &
done
for ((i = 0; i < plain; i++)); do sleep infinity & done
wait'
    # From here on a failure (or Ctrl-C) must undo what was started.
    on_exit undo_failed_up
    setsid bash -c "$launcher" nsview-bench "$LEADER_FILE" "$GROUPS_WANTED" \
        "$((GROUP_SIZE - 2))" "$PLAIN_WANTED" "$group_sh" "$ns_flags" </dev/null >"$LAUNCH_LOG" 2>&1 &
    disown # `down` kills it; no "Killed" job report from this shell

    local deadline=$((SECONDS + UP_TIMEOUT)) pgid
    until record_leader; do
        ((SECONDS < deadline)) || die "launcher did not start (see $LAUNCH_LOG)"
        sleep 0.05
    done
    pgid=$(sed -n 's/^pgid=//p' "$STATE")

    # Wait for the whole population: the launcher plus PROCS_WANTED processes, with every
    # sleep past its exec (a freshly forked child still shows the parent's comm).
    local want=$((PROCS_WANTED + 1)) have=0 sleeping=0
    while :; do
        read -r have sleeping < <(ps -e -o pgid=,comm= |
            awk -v g="$pgid" '$1 == g { n++; if ($2 == "sleep") s++ } END { print n + 0, s + 0 }')
        ((have >= want && sleeping >= sleeps)) && break
        ((SECONDS < deadline)) || die "only $have of $want processes after ${UP_TIMEOUT}s (see $LAUNCH_LOG)"
        population_is_up || die "launcher died (see $LAUNCH_LOG)"
        sleep 0.2
    done

    # Record every PID with its start time, so `down` can tell ours from a reused PID.
    local pid tmp=$PIDS.tmp
    : >"$tmp"
    while read -r pid; do
        stat_of "$pid" && printf '%s %s\n' "$pid" "$STAT_START" >>"$tmp"
    done < <(pgid_members "$pgid")
    mv "$tmp" "$PIDS"
    _BENCH_UP_OK=1
    log "up: $GROUPS_WANTED groups of $GROUP_SIZE, $PLAIN_WANTED plain, $((have - 1)) processes in process group $pgid, ready in" \
        "$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f s", b - a }')"
    print_counts
}

cmd_down() {
    if [[ ! -f $STATE && ! -f $PIDS ]]; then
        log "down: nothing to tear down (no $STATE)"
        return 0
    fi
    local t0=$EPOCHREALTIME pgid="" leader_start=""
    if [[ -f $STATE ]]; then
        pgid=$(sed -n 's/^pgid=//p' "$STATE")
        leader_start=$(sed -n 's/^leader_start=//p' "$STATE")
    fi
    # The whole group at once, but only while its leader is provably still our launcher:
    # the group number cannot be reused while the leader lives.
    if [[ -n $pgid ]] && alive "$pgid" "$leader_start"; then
        kill -KILL -- "-$pgid" 2>/dev/null || true
    fi
    # Then every recorded PID that is still the process we started (e.g. if the leader was
    # gone already). SIGKILL: PID 1 of a pid namespace ignores other signals from outside.
    local pid start left
    if [[ -f $PIDS ]]; then
        while read -r pid start; do
            if alive "$pid" "$start"; then kill -KILL "$pid" 2>/dev/null || true; fi
        done <"$PIDS"
    fi
    # Wait until they are all gone (zombies count as gone: PID 1 reaps orphans).
    local deadline=$((SECONDS + 60))
    while :; do
        left=0
        if [[ -n $pgid ]] && alive "$pgid" "$leader_start"; then left=1; fi
        if [[ -f $PIDS ]]; then
            while read -r pid start; do
                if alive "$pid" "$start"; then
                    left=$((left + 1))
                    kill -KILL "$pid" 2>/dev/null || true
                fi
            done <"$PIDS"
        fi
        ((left == 0)) && break
        ((SECONDS < deadline)) || die "down: $left processes still alive after 60 s (state kept in $STATE_DIR)"
        sleep 0.2
    done
    rm -f "$STATE" "$PIDS" "$LEADER_FILE" "$LAUNCH_LOG"
    # Orphaned zombies are reaped by PID 1; give it a moment so the counts below are clean.
    if [[ -n $pgid ]]; then
        for _ in $(seq 25); do
            [[ -z $(pgid_members "$pgid") ]] && break
            sleep 0.2
        done
    fi
    log "down: done in $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f s", b - a }')"
    # The kernel frees net namespaces asynchronously; lsns only lists those with processes.
    print_counts
}

main() {
    require_root
    ensure_packages "${BENCH_PACKAGES[@]}"
    case ${1:-} in
    up) cmd_up ;;
    down) cmd_down ;;
    is-up) population_is_up ;;
    status)
        if population_is_up; then
            log "population is up (process group $(sed -n 's/^pgid=//p' "$STATE"))"
        else
            log "no population is up"
        fi
        print_counts
        ;;
    *)
        echo "usage: $0 up|down|status|is-up" >&2
        exit 2
        ;;
    esac
}

main "$@"
