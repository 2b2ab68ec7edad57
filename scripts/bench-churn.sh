#!/usr/bin/env bash
# Benchmark (not a test): the live view under a storm of short-lived processes, next to htop.
#
#   sudo scripts/bench-churn.sh
#
# 1. installs tmux, htop, perl and procps from Debian if missing;
# 2. builds target/release/nsview (cargo build --release --locked; a no-op when it is up to
#    date) unless $NSVIEW names a binary;
# 3. for nsview (`nsview -d 1`) and htop (`htop -d 10`), each alone, in a detached 120x40 pane
#    of a private tmux server (`tmux -L nsview-bench-churn-<pid>`, no config; XDG_CONFIG_HOME
#    an empty directory): waits for its first frame, visits every view once (nsview: keys 1-4;
#    htop: F5 tree, F5 back) and lets it settle 5 s, then runs a storm of short-lived processes
#    for $NSVIEW_BENCH_CHURN_SECS (60) seconds: a perl loop forking and exec'ing /bin/true at
#    $NSVIEW_BENCH_CHURN_RATE (1000) a second and reaping each one (at most 64 at once; the rate
#    it achieved is reported). Every second it samples the program's utime+stime
#    (/proc/PID/stat) and VmRSS (/proc/PID/status); every 5 s it presses a key (nsview: the
#    next view, 1-4; htop: F5, tree on and off) and checks that the screen answers within 5 s
#    (nsview: the view's title; htop: the screen changes);
# 4. prints a markdown table (storm rate, CPU as % of one core over the storm, RSS at the
#    start and end of the storm and its maximum, keys answered) and writes it to
#    target/bench-churn.md.
#
# Whatever population is up (scripts/bench-population.sh) is measured as it is and left alone.
# Cleanup (EXIT trap from lib.sh, so also on failure, Ctrl-C and TERM): the storm (by its PID;
# its children are /bin/true processes it reaps), the private tmux server and the programs in
# its panes, the temporary directory.
#
# Environment:
#   NSVIEW=PATH                    the nsview binary (default target/release/nsview, built)
#   NSVIEW_BENCH_TOOLS="nsview htop"  what to measure
#   NSVIEW_BENCH_CHURN_SECS=60     length of the storm
#   NSVIEW_BENCH_CHURN_RATE=1000   processes started per second
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SCRIPT_NAME=bench-churn.sh
# shellcheck source=scripts/lib.sh
. "$ROOT/scripts/lib.sh"

SECS=${NSVIEW_BENCH_CHURN_SECS:-60}
RATE=${NSVIEW_BENCH_CHURN_RATE:-1000}
TOOLS=${NSVIEW_BENCH_TOOLS:-nsview htop}
BENCH_PACKAGES=(tmux htop perl procps)
SOCKET=nsview-bench-churn-$$
CLK_TCK=$(getconf CLK_TCK)
TMPD="" STORM_PID=""

tm() { tmux -L "$SOCKET" -f /dev/null "$@"; }

# ticks PID: utime+stime of PID in clock ticks (fails when it is gone).
ticks() {
    local line f
    { IFS= read -r line <"/proc/$1/stat"; } 2>/dev/null || return 1
    read -r -a f <<<"${line##*) }"
    printf '%s\n' $((f[11] + f[12]))
}

# rss_kib PID: VmRSS of PID in KiB.
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# wait_screen SESSION TEXT SECONDS: until the pane shows TEXT (fixed string); 1 on timeout.
wait_screen() {
    local end=$((SECONDS + $3))
    while ((SECONDS < end)); do
        tm capture-pane -p -t "$1" | grep -qF -- "$2" && return 0
        sleep 0.05
    done
    return 1
}

# wait_change SESSION BEFORE SECONDS: until the pane differs from BEFORE; 1 on timeout.
wait_change() {
    local end=$((SECONDS + $3))
    while ((SECONDS < end)); do
        [[ $(tm capture-pane -p -t "$1") != "$2" ]] && return 0
        sleep 0.05
    done
    return 1
}

stop_storm() {
    [[ -z $STORM_PID ]] && return 0
    kill -TERM "$STORM_PID" 2>/dev/null || true
    wait "$STORM_PID" 2>/dev/null || true
    STORM_PID=""
}
stop_tmux() { tm kill-server 2>/dev/null || true; }
remove_tmpd() { [[ -z $TMPD ]] || rm -rf "$TMPD"; }

# The storm: RATE forks of /bin/true a second for SECS seconds, each reaped; prints
# "STARTED SECONDS" at the end. On TERM it stops starting and reaps what is left.
write_storm() {
    cat >"$TMPD/storm.pl" <<'EOF'
use strict; use warnings; use POSIX ();
use Time::HiRes qw(time sleep);
my ($rate, $secs) = @ARGV;
my $stop = 0; $SIG{TERM} = sub { $stop = 1 };
my ($t0, $n, $live) = (time, 0, 0);
while (!$stop && (my $el = time - $t0) < $secs) {
    my $due = int($el * $rate);
    while ($n < $due && $live < 64) {
        my $pid = fork;
        die "fork: $!" unless defined $pid;
        if ($pid == 0) { exec '/bin/true' or POSIX::_exit(127); }
        $n++; $live++;
    }
    while (waitpid(-1, POSIX::WNOHANG()) > 0) { $live--; }
    sleep 0.001;
}
while (waitpid(-1, 0) > 0) {}
printf "%d %.3f\n", $n, time - $t0;
EOF
}

# measure NAME COMMAND: one program under the storm; sets RESULT to a table row.
measure() {
    local name=$1 cmd=$2 pid first keys_ok=0 keys=0 t0 t1 r r0 rmax i key marker before
    tm new-session -d -s "$name" -x 120 -y 40 "XDG_CONFIG_HOME=$TMPD/config exec $cmd"
    pid=$(tm display-message -p -t "$name" '#{pane_pid}')
    if [[ $name == nsview ]]; then first=" Containers ("; else first="Tasks: "; fi
    wait_screen "$name" "$first" 60 || die "$name: no first frame within 60 s"
    if [[ $name == nsview ]]; then
        for key in 1 2 3 4 1; do tm send-keys -t "$name" "$key"; sleep 1; done
    else
        tm send-keys -t "$name" F5; sleep 1; tm send-keys -t "$name" F5; sleep 1
    fi
    sleep 5
    perl "$TMPD/storm.pl" "$RATE" "$SECS" >"$TMPD/storm-$name.out" &
    STORM_PID=$!
    t0=$(ticks "$pid") r0=$(rss_kib "$pid") rmax=$r0 r=$r0
    local start=$EPOCHREALTIME views=("1: Containers (" "2: Namespaces (" "3:hierarchy [" "4: Processes (")
    for ((i = 1; i <= SECS; i++)); do
        sleep "$(awk -v s="$start" -v now="$EPOCHREALTIME" -v i="$i" 'BEGIN { d = s + i - now; print (d > 0 ? d : 0) }')"
        r=$(rss_kib "$pid") || die "$name died during the storm"
        ((r > rmax)) && rmax=$r
        if ((i % 5 == 0)); then
            keys=$((keys + 1))
            if [[ $name == nsview ]]; then
                key=${views[keys % 4]%%:*} marker=${views[keys % 4]#*:}
                tm send-keys -t "$name" "$key"
                wait_screen "$name" "$marker" 5 && keys_ok=$((keys_ok + 1))
            else
                before=$(tm capture-pane -p -t "$name")
                tm send-keys -t "$name" F5
                wait_change "$name" "$before" 5 && keys_ok=$((keys_ok + 1))
            fi
        fi
    done
    t1=$(ticks "$pid")
    wait "$STORM_PID" || true
    STORM_PID=""
    local started elapsed
    read -r started elapsed <"$TMPD/storm-$name.out"
    tm kill-session -t "$name"
    RESULT=$(awk -v st="$started" -v el="$elapsed" -v dt="$((t1 - t0))" -v hz="$CLK_TCK" \
        -v secs="$SECS" -v r0="$r0" -v r1="$r" -v rmax="$rmax" -v ok="$keys_ok" -v n="$keys" \
        -v name="$name" 'BEGIN {
            printf "| %s | %.0f /s | %.1f %% | %.1f / %.1f / %.1f MiB (%+.0f %%) | %d of %d |",
                name, st / el, 100 * dt / hz / secs, r0 / 1024, r1 / 1024, rmax / 1024,
                100 * (rmax - r0) / r0, ok, n }')
    log "$RESULT"
}

main() {
    require_root
    cd "$ROOT"
    ensure_packages "${BENCH_PACKAGES[@]}"
    mkdir -p target
    if [[ $TOOLS == *nsview* && -z ${NSVIEW:-} ]]; then
        NSVIEW=$ROOT/target/release/nsview
        find_cargo
        log "building $NSVIEW (cargo build --release --locked)"
        cargo build --release --locked
    fi
    TMPD=$(mktemp -d /tmp/nsview-bench-churn.XXXXXX)
    on_exit remove_tmpd
    mkdir -p "$TMPD/config"
    write_storm
    on_exit stop_tmux
    on_exit stop_storm
    local rows=() t procs
    procs=$(ps -e --no-headers | wc -l)
    for t in $TOOLS; do
        case $t in
        nsview) measure nsview "$(printf '%q' "$NSVIEW") -d 1" ;;
        htop) measure htop "$(printf '%q' "$(command -v htop)") -d 10" ;;
        *) die "NSVIEW_BENCH_TOOLS: unknown tool '$t' (nsview, htop)" ;;
        esac
        rows+=("$RESULT")
    done
    {
        echo "## Live view under a storm of short-lived processes"
        echo
        echo "Storm: /bin/true forked, exec'd and reaped at a target $RATE/s for $SECS s (perl), with $procs processes up before it;" \
            "machine: $(nproc) cores, kernel $(uname -r), $(date -u +%Y-%m-%d)." \
            "CPU: utime+stime over the storm, % of one core. RSS: VmRSS at the start (after visiting every view) and end of the storm, and its maximum." \
            "Keys: every 5 s a view key (nsview) or F5 (htop), answered within 5 s."
        echo "Programs: $("$NSVIEW" --version 2>/dev/null | head -n1) \`-d 1\`; $(htop --version 2>/dev/null | head -n1) \`-d 10\`."
        echo
        echo "| program | storm achieved | CPU (mean) | RSS start / end / max (max vs start) | keys answered |"
        echo "|---|---:|---:|---:|---:|"
        printf '%s\n' "${rows[@]}"
    } >target/bench-churn.md
    echo
    cat target/bench-churn.md
}

main "$@"
