#!/usr/bin/env bash
# Benchmark (not a test): the nsview TUI next to htop on the same large population.
#
#   sudo scripts/bench-tui.sh
#
# 1. installs htop, tmux, jq, procps and util-linux from Debian if missing;
# 2. builds target/release/nsview (cargo build --release --locked; a no-op when it is up to
#    date) unless $NSVIEW names a binary;
# 3. brings up scripts/bench-population.sh (~4,500 processes in ~3,000 namespaces) and tears
#    it down on exit, failure and Ctrl-C included. A population that was already up (started
#    by hand or by another benchmark) is used as it is and left up;
# 4. runs every program in its own detached tmux session (120x40, status line off) on a
#    private tmux server (`tmux -L nsview-bench-<pid of this script>`, its own config), with
#    XDG_CONFIG_HOME pointing at an empty directory so that neither nsview nor htop reads or
#    writes a user config, and measures:
#    a. idle CPU: `nsview -d 1` and `htop -d 10` (both refresh every second), each alone,
#       run directly by the pane (exec, so the pane's PID is the program's), 5 s to settle
#       once its first frame is up, then utime+stime from /proc/PID/stat over 30 s (plus
#       cutime/cstime and any live descendants); percent of one core. What the rest of the
#       machine used in the same window (from /proc/stat) is reported next to it, with a
#       warning when it is not quiet (other nsview or htop processes are warned about too);
#    b. time to first frame, 5 times, each in a fresh pane: the pane's shell waits on a
#       FIFO and then execs the program; the clock starts when the script releases the FIFO
#       and stops when `tmux capture-pane -p` (polled every 5 ms) shows nsview's header (a
#       line starting with "nsview" that contains "N procs", N > 0). nsview may draw a
#       header before it has data ("nsview  collecting ..."): the time to that first screen
#       of any kind is reported as well, for information. htop's time to its "Tasks: N"
#       meter (N > 0) is measured the same way, for comparison. The idle-CPU and new-cgroup
#       measurements also wait for the first frame with data before they start;
#    c. new cgroup on screen, 5 times: nsview runs in the Cgroups view (key 3) with the
#       filter "bench" typed in (`/`, `bench`, Enter), which shows the tree of the first
#       hierarchy in `nsview cgroups --json` (.hierarchies[0]); the script creates
#       <that mount>/nsview-test-<pid>/bench-<pid>-N (mkdir, nothing else: no process is
#       moved, no control file written) and times until the name is on screen (capture-pane
#       every 5 ms). It waits a random 0.3-1.3 s before each mkdir so that the samples fall
#       at different points of the 1 s refresh. The directories are removed at the end,
#       children first;
# 5. prints a markdown table (measure, nsview, htop, target, verdict) with the population
#    counts and writes it to target/bench-tui.md; the last screen of every measurement goes
#    to target/bench-tui-screens.txt (to check what the programs actually showed).
#
# Cleanup (EXIT trap from lib.sh, so also on failure, Ctrl-C and TERM): the private tmux
# server and the programs in its panes (by PID, after checking their start time), the test
# cgroups, the population (only if this script brought it up), the temporary directory.
#
# Environment:
#   NSVIEW=PATH                  the nsview binary (default target/release/nsview, built)
#   NSVIEW_BENCH_TOOLS="htop nsview"   what to measure ("htop" alone: htop only)
#   NSVIEW_BENCH_IDLE_SECS=30    idle CPU window
#   NSVIEW_BENCH_SETTLE_SECS=5   wait after the first screen before the idle window
#   NSVIEW_BENCH_REPEATS=5       repetitions of the first-frame and new-cgroup measurements
#   NSVIEW_BENCH_TIMEOUT=10      seconds to wait for a screen before giving up on one sample
#   NSVIEW_BENCH_GROUPS, NSVIEW_BENCH_GROUP_SIZE, NSVIEW_BENCH_PLAIN, NSVIEW_BENCH_USERNS
#                                population shape (see bench-population.sh)
#   NSVIEW_BENCH_TUI_CMD=CMD     for developing this script only: a stand-in shell command run
#                                in the pane instead of `$NSVIEW -d 1` (e.g. a fake that
#                                prints "nsview x 4500 procs"); the report then goes to
#                                target/bench-tui-standin.md and says so.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SCRIPT_NAME=bench-tui.sh
# shellcheck source=scripts/lib.sh
. "$ROOT/scripts/lib.sh"

POPULATION=$ROOT/scripts/bench-population.sh
IDLE_SECS=${NSVIEW_BENCH_IDLE_SECS:-30}
SETTLE_SECS=${NSVIEW_BENCH_SETTLE_SECS:-5}
REPEATS=${NSVIEW_BENCH_REPEATS:-5}
TIMEOUT=${NSVIEW_BENCH_TIMEOUT:-10}
TOOLS=${NSVIEW_BENCH_TOOLS:-htop nsview}
TUI_CMD=${NSVIEW_BENCH_TUI_CMD:-}
POLL=0.005          # capture-pane polling interval, seconds
WIDTH=120 HEIGHT=40
TARGET_MS=300       # first frame and new cgroup: median under this

BENCH_PACKAGES=(htop tmux jq procps util-linux)

SOCKET=nsview-bench-$$
TMPD=""
SLEEP_FD=""
CLK_TCK=$(getconf CLK_TCK)

# nsview's first frame: its header, a line that starts (after any border) with "nsview" and
# contains "N procs" with N > 0. Before its first collection is done nsview may already draw a
# header without counts ("nsview  collecting ...") or with zeros: that first screen of any
# kind is timed too, for information. htop draws nothing before its first scan: its mark is
# the "Tasks: N" meter with N > 0.
NL=$'\n'
NSVIEW_SCREEN="(^|$NL)[^[:alnum:]$NL]*nsview( |$NL|$)"
NSVIEW_DATA="(^|$NL)[^[:alnum:]$NL]*nsview[^$NL]*[^0-9$NL][1-9][0-9,.]* procs"
HTOP_DATA="Tasks: [1-9]"

# --- small helpers ---------------------------------------------------------------------------
tm() { tmux -u -L "$SOCKET" -f "$TMPD/tmux.conf" "$@"; }

# sq STRING: STRING quoted for /bin/sh (the panes' shell).
sq() { printf "'%s'" "${1//\'/\'\\\'\'}"; }

# nap SECONDS: sleep without forking (a read that times out on a FIFO nobody writes to).
nap() { read -r -t "$1" -u "$SLEEP_FD" _ || :; }

# now_us: microseconds since the epoch, into NOW_US (no subshell).
now_us() {
    local t=$EPOCHREALTIME
    NOW_US=$((10#${t/[.,]/}))
}

# start_time PID: field 22 of /proc/PID/stat (empty if gone).
start_time() {
    local line rest f
    { IFS= read -r line <"/proc/$1/stat"; } 2>/dev/null || return 1
    rest=${line##*) }
    read -r -a f <<<"$rest"
    printf '%s\n' "${f[19]}"
}

# own_ticks PID: utime+stime+cutime+cstime of PID, in clock ticks (fails if it is gone).
own_ticks() {
    local line rest f
    { IFS= read -r line <"/proc/$1/stat"; } 2>/dev/null || return 1
    rest=${line##*) }
    read -r -a f <<<"$rest"
    # After the comm: f[0] is field 3 (state), so utime (14) .. cstime (17) are f[11..14].
    printf '%s\n' $((f[11] + f[12] + f[13] + f[14]))
}

# tree_ticks PID: own_ticks of PID plus those of its live descendants. A descendant that ends
# between two samples moves from the second term into its parent's cutime/cstime, so the
# difference of two samples stays right.
tree_ticks() {
    local total child t
    total=$(own_ticks "$1") || return 1
    for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do
        t=$(tree_ticks "$child") && total=$((total + t))
    done
    printf '%s\n' "$total"
}

# median / min of integers (one per argument).
min_of() { printf '%s\n' "$@" | sort -n | head -n1; }
median_of() {
    local sorted n
    mapfile -t sorted < <(printf '%s\n' "$@" | sort -n)
    n=${#sorted[@]}
    if ((n % 2)); then
        printf '%s\n' "${sorted[n / 2]}"
    else
        printf '%s\n' $(((sorted[n / 2 - 1] + sorted[n / 2]) / 2))
    fi
}
# ms_list US...: "12, 15, 11" (milliseconds, rounded).
ms_list() { printf '%s\n' "$@" | awk '{ printf "%s%.0f", (NR > 1 ? ", " : ""), $1 / 1000 }'; }
fmt_ms() { awk -v us="$1" 'BEGIN { printf "%.0f ms", us / 1000 }'; }

population_down() { "$POPULATION" down; }
remove_tmpd() { [[ -z $TMPD ]] || rm -rf "$TMPD"; }

count_processes() { ps -e --no-headers | wc -l; }
count_namespaces() { lsns -J | jq '[.. | objects | select(has("ns") and has("type"))] | length'; }

# --- tmux server and panes ---------------------------------------------------------------------
SERVER_PID="" SOCKET_PATH=""
declare -A PANE_PID=() PANE_START=()

start_tmux() {
    cat >"$TMPD/tmux.conf" <<'EOF'
set -g exit-empty off
set -g status off
set -g default-shell /bin/sh
set -g history-limit 100
set -gw remain-on-exit on
EOF
    on_exit stop_tmux
    tm start-server
    SERVER_PID=$(tm display-message -p '#{pid}')
    SOCKET_PATH=$(tm display-message -p '#{socket_path}')
    log "tmux server $SERVER_PID on private socket $SOCKET (tmux -L $SOCKET attach, to watch)"
}

# wait_gone PID START SECONDS: wait until PID (started at START) is gone; 1 if still there.
wait_gone() {
    local pid=$1 start=$2 i st
    for ((i = 0; i < $3 * 20; i++)); do
        st=$(start_time "$pid") || return 0
        [[ $st == "$start" ]] || return 0
        [[ $(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null) == Z ]] && return 0
        nap 0.05
    done
    return 1
}

# kill_pane_proc NAME: make sure the program of session NAME is gone (SIGHUP from tmux
# first, then SIGTERM and SIGKILL by PID, only while it is provably the process we started).
kill_pane_proc() {
    local name=$1 pid=${PANE_PID[$1]:-} start=${PANE_START[$1]:-}
    tm kill-session -t "=$name" 2>/dev/null || true
    [[ -n $pid && -n $start ]] || return 0
    wait_gone "$pid" "$start" 3 && return 0
    warn "$name: PID $pid still runs 3 s after tmux closed its terminal (SIGHUP); sending SIGTERM"
    if [[ $(start_time "$pid") == "$start" ]]; then kill -TERM "$pid" 2>/dev/null || true; fi
    wait_gone "$pid" "$start" 2 && return 0
    warn "$name: PID $pid ignored SIGTERM for 2 s; sending SIGKILL"
    if [[ $(start_time "$pid") == "$start" ]]; then kill -KILL "$pid" 2>/dev/null || true; fi
    wait_gone "$pid" "$start" 2 || warn "PID $pid (session $name) did not exit"
}

stop_tmux() {
    local name
    for name in "${!PANE_PID[@]}"; do kill_pane_proc "$name"; done
    tm kill-server 2>/dev/null || true
    if [[ -n $SERVER_PID ]]; then
        for _ in $(seq 40); do [[ -e /proc/$SERVER_PID ]] || break; nap 0.05; done
    fi
    # tmux 3.3 leaves its socket file behind after kill-server.
    [[ -z $SOCKET_PATH || ! -S $SOCKET_PATH ]] || rm -f "$SOCKET_PATH"
}

# launch NAME SHELL_CMD: a new detached session NAME whose pane runs SHELL_CMD; records the
# pane's PID (and its start time) in PANE_PID[NAME] / PANE_START[NAME].
launch() {
    local name=$1 cmd=$2 pid
    tm new-session -d -s "$name" -x "$WIDTH" -y "$HEIGHT" \
        -e "XDG_CONFIG_HOME=$TMPD/config" -e "HOME=$TMPD/home" "$cmd"
    pid=$(tm list-panes -t "=$name:" -F '#{pane_pid}')
    PANE_PID[$name]=$pid
    PANE_START[$name]=$(start_time "$pid" || echo gone)
}

# pane_dead NAME: 0 if the pane's program has exited (remain-on-exit keeps the pane).
pane_dead() { [[ $(tm list-panes -t "=$1:" -F '#{pane_dead}' 2>/dev/null) == 1 ]]; }
pane_dead_status() { tm list-panes -t "=$1:" -F '#{pane_dead_status}' 2>/dev/null; }
capture() { tm capture-pane -p -t "=$1:" 2>/dev/null; }

# wait_screen NAME REGEX DEADLINE_US: poll the pane every $POLL s until its text matches
# REGEX. Sets SCREEN (the last capture) and SEEN_US (the time just after the capture that
# matched, i.e. an upper bound). Returns 1 on timeout, 2 if the program exited.
wait_screen() {
    local name=$1 re=$2 deadline=$3
    while :; do
        SCREEN=$(capture "$name")
        now_us
        if [[ $SCREEN =~ $re ]]; then
            SEEN_US=$NOW_US
            return 0
        fi
        ((NOW_US < deadline)) || return 1
        # remain-on-exit: an exited program leaves "Pane is dead (status N, ...)" behind.
        if [[ $SCREEN == *"Pane is dead ("* ]] && pane_dead "$name"; then
            return 2
        fi
        nap "$POLL"
    done
}

SCREENS_FILE=""
save_screen() { # TITLE TEXT
    { printf '==== %s\n' "$1"; printf '%s\n' "$2" | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}'; echo; } >>"$SCREENS_FILE"
}

# why_failed NAME RC: one line on why waiting for a screen failed.
why_failed() {
    local name=$1 rc=$2 last
    # The most telling line: the first that says error or panic, else the last one.
    last=$(printf '%s\n' "$SCREEN" | grep -v -e '^[[:space:]]*$' -e '^Pane is dead' |
        awk 'tolower($0) ~ /error|panic/ && !e { e = $0 } { l = $0 } END { print (e != "" ? e : l) }' |
        cut -c1-100)
    if ((rc == 2)); then
        printf 'exited (status %s)%s' "$(pane_dead_status "$name")" "${last:+: $last}"
    else
        printf 'nothing after %s s%s' "$TIMEOUT" "${last:+ (last line: $last)}"
    fi
}

# --- measurements ------------------------------------------------------------------------------
# Each sets its figures (microseconds or per cent) or a one-line reason why it could not.

# machine_ticks: "BUSY TOTAL" clock ticks of all cores, from the first line of /proc/stat
# (busy = everything but idle and iowait).
machine_ticks() {
    local _cpu user nice system idle iowait irq softirq steal _rest
    read -r _cpu user nice system idle iowait irq softirq steal _rest </proc/stat
    printf '%s %s\n' $((user + nice + system + irq + softirq + steal)) \
        $((user + nice + system + idle + iowait + irq + softirq + steal))
}

# idle_cpu TOOL CMD READY_RE EXPECT_EXE: sets IDLE_PCT (the program, % of one core) and
# IDLE_OTHERS (everything else on the machine during the same window, % of one core), or
# IDLE_ERR.
idle_cpu() {
    local tool=$1 cmd=$2 re=$3 exe=$4 name="$1-idle" pid rc=0 t0 t1 k0 k1 m0 m1
    IDLE_PCT="" IDLE_OTHERS="" IDLE_ERR=""
    log "$tool: idle CPU: start, wait for its first screen, ${SETTLE_SECS} s settle, ${IDLE_SECS} s window"
    launch "$name" "exec $cmd"
    pid=${PANE_PID[$name]}
    now_us
    wait_screen "$name" "$re" $((NOW_US + TIMEOUT * 1000000)) || rc=$?
    if ((rc != 0)); then
        IDLE_ERR=$(why_failed "$name" "$rc")
        save_screen "$tool idle CPU (failed)" "$SCREEN"
        kill_pane_proc "$name"
        return 0
    fi
    if [[ -n $exe && $(readlink -f "/proc/$pid/exe") != "$exe" ]]; then
        IDLE_ERR="pane PID $pid runs $(readlink -f "/proc/$pid/exe"), not $exe"
        kill_pane_proc "$name"
        return 0
    fi
    sleep "$SETTLE_SECS"
    now_us && t0=$NOW_US
    k0=$(tree_ticks "$pid") || { IDLE_ERR="PID $pid vanished during the settle time"; kill_pane_proc "$name"; return 0; }
    m0=$(machine_ticks)
    sleep "$IDLE_SECS"
    m1=$(machine_ticks)
    k1=$(tree_ticks "$pid") || k1=""
    now_us && t1=$NOW_US
    SCREEN=$(capture "$name")
    save_screen "$tool idle CPU, end of the window" "$SCREEN"
    if [[ -z $k1 || $(start_time "$pid") != "${PANE_START[$name]}" ]] || pane_dead "$name"; then
        IDLE_ERR="exited during the ${IDLE_SECS} s window"
    else
        IDLE_PCT=$(awk -v k=$((k1 - k0)) -v hz="$CLK_TCK" -v us=$((t1 - t0)) \
            'BEGIN { printf "%.1f", 100 * (k / hz) / (us / 1e6) }')
        # The rest of the machine: busy ticks of all cores minus the program's, per core-second.
        IDLE_OTHERS=$(awk -v b0="${m0% *}" -v t0="${m0#* }" -v b1="${m1% *}" -v t1="${m1#* }" \
            -v k=$((k1 - k0)) -v n="$(nproc)" 'BEGIN {
                o = (t1 - t0) > 0 ? 100 * n * ((b1 - b0) - k) / (t1 - t0) : 0
                printf "%.0f", (o < 0 ? 0 : o) }')
        log "$tool: idle CPU $IDLE_PCT % of one core ($((k1 - k0)) ticks in $(fmt_ms $((t1 - t0))));" \
            "the rest of the machine used $IDLE_OTHERS % of one core meanwhile"
        ((IDLE_OTHERS < 20)) || warn "the machine was not quiet during the window" \
            "(others used $IDLE_OTHERS % of one core): latencies and CPU figures are disturbed"
    fi
    kill_pane_proc "$name"
}

# first_frame TOOL CMD SCREEN_RE FRAME_RE: REPEATS fresh panes; sets FF_US and FD_US
# (arrays: time to SCREEN_RE, time to FRAME_RE) or FF_ERR.
first_frame() {
    local tool=$1 cmd=$2 re=$3 data_re=$4 i name pid gate fd t0 rc header_us
    FF_US=() FD_US=() FF_ERR=""
    log "$tool: time to first frame, $REPEATS runs"
    for ((i = 1; i <= REPEATS; i++)); do
        name="$tool-first-$i" gate="$TMPD/gate-$tool-$i"
        mkfifo "$gate"
        exec {fd}<>"$gate" # read-write: never blocks; the pane's shell blocks in read instead
        launch "$name" "read -r _ < $(sq "$gate"); exec $cmd"
        pid=${PANE_PID[$name]}
        # Wait until the pane's shell has the FIFO open (its read follows at once).
        for _ in $(seq 200); do
            [[ $(readlink "/proc/$pid/fd/0" 2>/dev/null) == "$gate" ]] && break
            nap 0.005
        done
        [[ $(readlink "/proc/$pid/fd/0" 2>/dev/null) == "$gate" ]] ||
            warn "$name: the pane's shell did not open the gate; timing from now anyway"
        now_us && t0=$NOW_US
        echo go >&"$fd"
        rc=0
        wait_screen "$name" "$re" $((t0 + TIMEOUT * 1000000)) || rc=$?
        exec {fd}>&-
        if ((rc != 0)); then
            FF_ERR=$(why_failed "$name" "$rc")
            save_screen "$tool first frame run $i (failed)" "$SCREEN"
            kill_pane_proc "$name"
            return 0
        fi
        header_us=$((SEEN_US - t0))
        save_screen "$tool run $i, first screen" "$SCREEN"
        if [[ ! $SCREEN =~ $data_re ]]; then
            wait_screen "$name" "$data_re" $((t0 + TIMEOUT * 1000000)) || rc=$?
            if ((rc != 0)); then
                FF_ERR="no data on screen: $(why_failed "$name" "$rc")"
                save_screen "$tool first frame run $i (no data)" "$SCREEN"
                kill_pane_proc "$name"
                return 0
            fi
            save_screen "$tool run $i, first frame (with counts)" "$SCREEN"
        fi
        FF_US+=("$header_us")
        FD_US+=($((SEEN_US - t0)))
        log "$tool: run $i: first frame after $(fmt_ms $((SEEN_US - t0))) (first screen after $(fmt_ms "$header_us"))"
        kill_pane_proc "$name"
        nap 0.5
    done
}

# Test cgroups: created only under <first hierarchy>/nsview-test-$$, removed children first.
CG_PARENT=""
CG_CREATED=()

remove_test_cgroups() {
    local i
    for ((i = ${#CG_CREATED[@]} - 1; i >= 0; i--)); do
        rmdir "${CG_CREATED[i]}" 2>/dev/null || [[ ! -d ${CG_CREATED[i]} ]] ||
            warn "could not remove ${CG_CREATED[i]}"
    done
    CG_CREATED=()
}

# first_hierarchy: the mount point of .hierarchies[0] of `nsview cgroups --json`, checked
# to be a cgroup file system under /sys/fs/cgroup. Sets CG_MOUNT or CG_ERR.
first_hierarchy() {
    local json fstype
    CG_MOUNT="" CG_ERR=""
    if ! json=$("$NSVIEW" cgroups --json 2>/dev/null); then
        CG_ERR="\`nsview cgroups --json\` failed"
        return 1
    fi
    CG_MOUNT=$(jq -r '.hierarchies[0].mount // empty' <<<"$json")
    fstype=$(stat -f -c %T "$CG_MOUNT" 2>/dev/null || true)
    if [[ $CG_MOUNT != /sys/fs/cgroup* || ! -d $CG_MOUNT || ! $fstype =~ ^cgroup ]]; then
        CG_ERR="first hierarchy '$CG_MOUNT' is not a cgroup mount under /sys/fs/cgroup ($fstype)"
        CG_MOUNT=""
        return 1
    fi
}

# new_cgroup CMD: sets CG_US (array) or CG_ERR.
new_cgroup() {
    local cmd=$1 name=cgroups-view i cg re rc t0 wait_ms
    CG_US=()
    log "nsview: new cgroup on screen, $REPEATS runs"
    first_hierarchy || return 0
    CG_PARENT=$CG_MOUNT/nsview-test-$$
    mkdir "$CG_PARENT" # fails if it exists: then it is not ours
    CG_CREATED+=("$CG_PARENT")
    log "test cgroups under $CG_PARENT (first hierarchy of nsview cgroups --json)"

    launch "$name" "exec $cmd"
    now_us
    rc=0
    wait_screen "$name" "$NSVIEW_DATA" $((NOW_US + TIMEOUT * 1000000)) || rc=$?
    if ((rc != 0)); then
        CG_ERR=$(why_failed "$name" "$rc")
        kill_pane_proc "$name"
        return 0
    fi
    sleep 1
    tm send-keys -t "=$name:" 3
    sleep 0.5
    tm send-keys -t "=$name:" /
    tm send-keys -t "=$name:" -l bench
    tm send-keys -t "=$name:" Enter
    sleep 1
    save_screen "nsview Cgroups view, filter 'bench', before the first mkdir" "$(capture "$name")"

    for ((i = 1; i <= REPEATS; i++)); do
        cg=bench-$$-$i
        re="(^|[^[:alnum:]_.-])$cg($|[^[:alnum:]_.-])"
        SCREEN=$(capture "$name")
        if [[ $SCREEN =~ $re ]]; then
            CG_ERR="$cg is on screen before it was created"
            break
        fi
        # A random point of the refresh period (0.3-1.3 s after the previous sample).
        wait_ms=$((300 + RANDOM % 1000))
        nap "$((wait_ms / 1000)).$(printf '%03d' $((wait_ms % 1000)))"
        now_us && t0=$NOW_US
        mkdir "$CG_PARENT/$cg"
        CG_CREATED+=("$CG_PARENT/$cg")
        rc=0
        wait_screen "$name" "$re" $((t0 + TIMEOUT * 1000000)) || rc=$?
        if ((rc != 0)); then
            CG_ERR="$cg: $(why_failed "$name" "$rc")"
            save_screen "nsview new cgroup run $i (failed)" "$SCREEN"
            break
        fi
        CG_US+=($((SEEN_US - t0)))
        log "nsview: $cg on screen after $(fmt_ms $((SEEN_US - t0)))"
    done
    save_screen "nsview Cgroups view after the last mkdir" "$(capture "$name")"
    kill_pane_proc "$name"
}

# --- report ------------------------------------------------------------------------------------
# min_median_cell USARRAY_NAME ERR: "min / median ms" or the error.
min_median_cell() {
    local -n arr=$1
    if ((${#arr[@]} == 0)); then
        printf '%s' "${2:+failed: }${2:-not run}"
        return
    fi
    printf '%s / %s (%d runs)' "$(fmt_ms "$(min_of "${arr[@]}")")" \
        "$(fmt_ms "$(median_of "${arr[@]}")")" "${#arr[@]}"
    [[ -z $2 ]] || printf '; then failed: %s' "$2"
}

# verdict_ms USARRAY_NAME ERR
verdict_ms() {
    local -n arr=$1
    if [[ -n $2 || ${#arr[@]} -lt $REPEATS ]]; then
        printf 'no result'
    elif (($(median_of "${arr[@]}") < TARGET_MS * 1000)); then
        printf 'pass'
    else
        printf 'FAIL'
    fi
}

md_escape() { local s=$1; s=${s//|/\\|}; printf '%s' "${s//$'\n'/ }"; }

main() {
    require_root
    cd "$ROOT"
    ensure_packages "${BENCH_PACKAGES[@]}"
    mkdir -p target

    local want_htop=0 want_nsview=0 t
    for t in $TOOLS; do
        case $t in
        htop) want_htop=1 ;;
        nsview) want_nsview=1 ;;
        *) die "NSVIEW_BENCH_TOOLS: unknown tool '$t' (htop, nsview)" ;;
        esac
    done

    # Build first, before the population loads the machine.
    local nsview_skip="" nsview_exe="" standin=""
    if ((want_nsview)); then
        if [[ -z ${NSVIEW:-} ]]; then
            NSVIEW=$ROOT/target/release/nsview
            find_cargo
            log "building $NSVIEW (cargo build --release --locked)"
            cargo build --release --locked || nsview_skip="cargo build --release --locked failed"
        fi
        [[ -n $nsview_skip || -x $NSVIEW ]] || nsview_skip="$NSVIEW is not an executable"
        [[ -n $nsview_skip ]] || NSVIEW=$(readlink -f "$NSVIEW")
        if [[ -n $TUI_CMD ]]; then
            standin=$TUI_CMD
            warn "STAND-IN: the panes run \`$TUI_CMD\`, not nsview"
        else
            TUI_CMD="$(sq "$NSVIEW") -d 1"
            nsview_exe=$NSVIEW
        fi
    fi
    local out_md=$ROOT/target/bench-tui.md
    [[ -z $standin ]] || out_md=$ROOT/target/bench-tui-standin.md
    SCREENS_FILE=${out_md%.md}-screens.txt
    : >"$SCREENS_FILE"

    TMPD=$(mktemp -d /tmp/nsview-bench-tui.XXXXXX)
    on_exit remove_tmpd
    mkdir -p "$TMPD/config" "$TMPD/home"
    mkfifo "$TMPD/nap"
    exec {SLEEP_FD}<>"$TMPD/nap"

    local own_population=0
    if "$POPULATION" is-up; then
        log "using the population that is already up (it stays up)"
    else
        on_exit population_down
        "$POPULATION" up
        own_population=1
    fi
    local procs namespaces load_before
    procs=$(count_processes)
    namespaces=$(count_namespaces)
    load_before=$(cut -d' ' -f1-3 /proc/loadavg)
    log "population: $procs processes, $namespaces namespaces; load average $load_before"

    local busy
    busy=$(pgrep -d ' ' -x 'nsview|htop' || true)
    [[ -z $busy ]] || warn "other nsview/htop processes are running (PIDs $busy): they load the" \
        "machine and disturb the figures"

    start_tmux

    local htop_idle="not run" htop_fd="not run" htop_pct=""
    local nsview_idle="not run" nsview_ff="not run" nsview_fd="not run" nsview_cg="not run" nsview_pct=""
    local -a htop_fd_us=() nsview_ff_us=() nsview_fd_us=() nsview_cg_us=()
    local nsview_ff_err="" nsview_cg_err="" others=()

    if ((want_htop)); then
        local htop_bin
        htop_bin=$(readlink -f "$(command -v htop)")
        idle_cpu htop "$(sq "$htop_bin") -d 10" "$HTOP_DATA" "$htop_bin"
        if [[ -n $IDLE_PCT ]]; then
            htop_idle="$IDLE_PCT %" htop_pct=$IDLE_PCT others+=("htop's: $IDLE_OTHERS %")
        else
            htop_idle="failed: $IDLE_ERR"
        fi
        first_frame htop "$(sq "$htop_bin") -d 10" "$HTOP_DATA" "$HTOP_DATA"
        htop_fd_us=("${FD_US[@]}")
        htop_fd="$(min_median_cell htop_fd_us "$FF_ERR") (its Tasks: meter)"
    fi

    if ((want_nsview)) && [[ -n $nsview_skip ]]; then
        warn "nsview skipped: $nsview_skip"
        nsview_idle="skipped: $nsview_skip" nsview_ff=$nsview_idle nsview_fd=$nsview_idle nsview_cg=$nsview_idle
    elif ((want_nsview)); then
        idle_cpu nsview "$TUI_CMD" "$NSVIEW_DATA" "$nsview_exe"
        if [[ -n $IDLE_PCT ]]; then
            nsview_idle="$IDLE_PCT %" nsview_pct=$IDLE_PCT others+=("nsview's: $IDLE_OTHERS %")
        else
            nsview_idle="failed: $IDLE_ERR"
        fi
        first_frame nsview "$TUI_CMD" "$NSVIEW_SCREEN" "$NSVIEW_DATA"
        nsview_ff_us=("${FF_US[@]}") nsview_fd_us=("${FD_US[@]}") nsview_ff_err=$FF_ERR
        nsview_ff=$(min_median_cell nsview_ff_us "$FF_ERR")
        nsview_fd=$(min_median_cell nsview_fd_us "$FF_ERR")
        CG_ERR=""
        on_exit remove_test_cgroups
        new_cgroup "$TUI_CMD"
        nsview_cg_us=("${CG_US[@]}") nsview_cg_err=$CG_ERR
        nsview_cg=$(min_median_cell nsview_cg_us "$CG_ERR")
    fi

    local idle_verdict="no result"
    if [[ -n $nsview_pct && -n $htop_pct ]]; then
        if awk -v n="$nsview_pct" -v h="$htop_pct" 'BEGIN { exit !(n <= h / 4) }'; then
            idle_verdict=pass
        else
            idle_verdict=FAIL
        fi
    fi
    local quarter="≤ ¼ of htop's"
    [[ -z $htop_pct ]] || quarter+=" (≤ $(awk -v h="$htop_pct" 'BEGIN { printf "%.1f", h / 4 }') %)"
    local still_up="yes"
    "$POPULATION" is-up || still_up="NO (it went down during the run: figures not comparable)"

    local tmux_v htop_v nsview_v load_after
    tmux_v=$(tmux -V)
    htop_v=$(htop --version 2>/dev/null | head -n1)
    nsview_v=$([[ -n $nsview_skip || $want_nsview == 0 ]] || "$NSVIEW" --version 2>/dev/null | head -n1)
    load_after=$(cut -d' ' -f1-3 /proc/loadavg)
    {
        echo "## TUI: nsview vs htop"
        echo
        if [[ -n $standin ]]; then
            echo "**STAND-IN RUN: the nsview column measured \`$(md_escape "$standin")\`, not nsview.**"
            echo
        fi
        echo "Population: $procs processes (\`ps -e\`), $namespaces namespaces (\`lsns -J\`, nested ones included);" \
            "from scripts/bench-population.sh$( ((own_population)) || echo ', already up')." \
            "Still up at the end: $still_up."
        echo "Machine: $(nproc) cores, kernel $(uname -r), $(date -u +%Y-%m-%d); load average $load_before before, $load_after after."
        echo "Programs: ${nsview_v:-nsview not run}; ${htop_v:-htop not run}; $tmux_v, detached ${WIDTH}x${HEIGHT} panes, no config files."
        echo "Idle CPU: utime+stime of the pane's PID (/proc/PID/stat, children included) over ${IDLE_SECS} s after ${SETTLE_SECS} s settle;" \
            "\`nsview -d 1\` vs \`htop -d 10\` (both refresh every second), each alone." \
            "Everything else on the machine during each window (% of one core; near 0 on a quiet machine):" \
            "$(if ((${#others[@]})); then printf '%s; ' "${others[@]}" | sed 's/; $//'; else echo 'not measured'; fi)."
        echo "Times: min / median of $REPEATS; capture-pane polled every 5 ms, the time taken after the capture that shows it (upper bound)." \
            "First frame: from exec in a fresh pane to nsview's header with its counts (\"nsview ... N procs\", N > 0; htop: its \"Tasks: N\" meter);" \
            "first screen: to any line starting with \"nsview\" (e.g. \"nsview  collecting ...\" before the first collection is done)." \
            "New cgroup: from \`mkdir\` of ${CG_PARENT:-<first hierarchy>/nsview-test-PID}/bench-PID-N to its name on screen, Cgroups view (key 3), filter \"bench\"."
        echo
        echo "| measure | nsview | htop | target | verdict |"
        echo "|---|---|---|---|---|"
        echo "| idle CPU, 1 s refresh (% of one core) | $(md_escape "$nsview_idle") | $(md_escape "$htop_idle") | $quarter | $idle_verdict |"
        echo "| time to first frame (header with counts) | $(md_escape "$nsview_fd") | $(md_escape "$htop_fd") | median < $TARGET_MS ms | $(verdict_ms nsview_fd_us "$nsview_ff_err") |"
        echo "| time to first screen of any kind | $(md_escape "$nsview_ff") | — | (information) | — |"
        echo "| new cgroup on screen | $(md_escape "$nsview_cg") | n/a | median < $TARGET_MS ms | $(verdict_ms nsview_cg_us "$nsview_cg_err") |"
        local samples=()
        ((${#nsview_fd_us[@]} == 0)) || samples+=("nsview first frame $(ms_list "${nsview_fd_us[@]}")")
        ((${#nsview_ff_us[@]} == 0)) || samples+=("nsview first screen $(ms_list "${nsview_ff_us[@]}")")
        ((${#nsview_cg_us[@]} == 0)) || samples+=("nsview new cgroup $(ms_list "${nsview_cg_us[@]}")")
        ((${#htop_fd_us[@]} == 0)) || samples+=("htop first frame $(ms_list "${htop_fd_us[@]}")")
        if ((${#samples[@]})); then
            echo
            local joined
            joined=$(printf '%s; ' "${samples[@]}")
            printf 'Every sample, in order (ms): %s.\n' "${joined%; }"
        fi
    } >"$out_md"
    echo
    cat "$out_md"
    echo
    log "written to ${out_md#"$ROOT"/} (screens: ${SCREENS_FILE#"$ROOT"/})"
}

main "$@"
