# shellcheck shell=bash
# Container runtimes for nsview's test suite. Sourced by scripts/test.sh (after lib.sh), which
# registers stop_runtimes with on_exit and then calls start_runtimes, so a half-started set is
# torn down too, on failure and on Ctrl-C alike.
#
# start_runtimes (about 0.6 s here, first run on a fresh machine included; the Debian packages
# are installed before, by ensure_packages with its temporary policy-rc.d so that no package
# starts a service):
#   1. takes a machine-wide lock: Docker's socket, podman's storage and the /docker, /libpod_parent
#      and /lxc.* cgroups are per machine, so two test.sh runs wait for each other;
#   2. starts dockerd (cgroupfs driver, no bridge, no iptables), which starts and later stops
#      its own containerd, unless a dockerd already answers (then it is used and left running);
#   3. builds one busybox-static root filesystem and its tar, and imports the tar into Docker and
#      podman (no registry is reachable);
#   4. exports what the tests (tests/common/runtimes.rs) need:
#        NSVIEW_TEST_RUNTIMES=1          this script brought the runtimes up
#        NSVIEW_TEST_RUNTIME_DIR=DIR     its temporary directory (dockerd.log is there)
#        NSVIEW_TEST_ROOTFS=DIR          the busybox root filesystem (do not write to it)
#        NSVIEW_TEST_ROOTFS_TAR=FILE     the same as a tar
#        NSVIEW_TEST_DOCKER_IMAGE=NAME   in Docker (only when Docker came up)
#        NSVIEW_TEST_PODMAN_IMAGE=NAME   in podman (only when the import worked)
#        NSVIEW_TEST_LXC_PATH=DIR        the lxcpath (-P) for the tests' LXC containers
#   A runtime that does not come up is reported and left out: its tests skip, which is a failure
#   under CI=true, and every other test still runs.
#
# stop_runtimes (about 1.1 s, mostly dockerd shutting down; idempotent; copes with anything not
# having been started):
#   removes every container the suite made (named nsview-test-*, or from the test image) in
#   Docker, podman, runc and LXC, removes the test images (by label, so also those a plain
#   `cargo test` imported), stops the daemons this script started (by
#   the PID it recorded, checked against the process's start time; never by name), unmounts what
#   the runtimes left mounted, removes the runtimes' cgroups once empty (/docker, /libpod_parent,
#   /lxc.pivot, nsview-test-<pid> of test processes that have exited) and the temporary
#   directory, and releases the lock.
#
# Safety rules (shared/docs/testing.md): only PIDs started here are signalled; cgroups are only
# ever removed with rmdir (the kernel refuses a group that still has processes or children), and
# only the runtimes' and the tests' groups.
#
# A plain `cargo test` (tests/common/runtimes.rs) holds the same lock shared while it uses
# runtimes, so test.sh neither tears down under it nor starts while it runs.

# The image both Docker and podman get; podman stores it as localhost/NAME.
RUNTIME_IMAGE=nsview-test/busybox:1
# Every test image carries this label (tests/common/runtimes.rs imports with it too), so the
# teardown finds them all, also the untagged ones an import under a taken name leaves behind.
RUNTIME_IMAGE_LABEL=nsview-test=1
# The marker in the root filesystem's /etc/os-release (tests look for it through /proc/PID/root).
RUNTIME_OS_RELEASE='NAME="nsview-test-rootfs"
ID=nsview-test
PRETTY_NAME="nsview test rootfs (busybox)"'
# Rootful podman on this machine: runc (crun refuses hybrid cgroups), cgroupfs (no systemd),
# events to a file (no journald).
PODMAN=(podman --runtime runc --cgroup-manager cgroupfs --events-backend file)
# Everything a test names is nsview-test-<pid>-<name> (tests/common/mod.rs, unique_name).
RUNTIME_NAME_PREFIX=nsview-test-
RUNTIME_LOCK_FILE=/run/nsview-test-runtimes.lock
# How long to wait for another test.sh holding the lock.
RUNTIME_LOCK_WAIT=${NSVIEW_RUNTIME_LOCK_WAIT:-1800}
# Top-level cgroups the runtimes create, removed at the end when empty.
RUNTIME_CGROUPS=(docker libpod_parent lxc.pivot)

# State of this run (empty = not done / nothing to undo).
_RT_STARTED=0
_RT_LOCK_FD=
_RT_DIR=
_RT_DOCKERD_PID=
_RT_DOCKERD_START=
_RT_CONTAINERD_PID=
_RT_CONTAINERD_START=
_RT_DOCKER_UP=0
_RT_CGROUPS_BEFORE=()

# --- small helpers ----------------------------------------------------------------------

# Microseconds since the epoch (bash 5's EPOCHREALTIME without the dot).
_rt_usec() { printf '%s' "${EPOCHREALTIME/./}"; }

# Seconds (with tenths) since a _rt_usec timestamp.
_rt_since() {
    local us=$(($(_rt_usec) - $1))
    printf '%d.%d' $((us / 1000000)) $((us % 1000000 / 100000))
}

# The start time of PID (field 22 of /proc/PID/stat, clock ticks since boot), empty when it is
# gone. With the PID it identifies a process across PID reuse.
_rt_start_time() {
    local stat fields
    read -r stat 2>/dev/null <"/proc/$1/stat" || return 0
    # After the command in parentheses come fields 3 (state) onwards: field 22 is the 20th.
    read -r -a fields <<<"${stat##*) }"
    printf '%s' "${fields[19]:-}"
}

# True when PID is still the process that had START_TIME and is not a zombie.
_rt_alive() {
    local pid=$1 start=$2 stat state
    [[ -n $pid && -n $start && $(_rt_start_time "$pid") == "$start" ]] || return 1
    read -r stat 2>/dev/null <"/proc/$pid/stat" || return 1
    state=${stat##*) }
    [[ ${state:0:1} != Z ]]
}

# Send SIGTERM to PID (only if it is still the process with START_TIME).
_rt_term() {
    if _rt_alive "$1" "$2"; then
        kill -TERM "$1" 2>/dev/null || true
    fi
}

# Wait up to SECONDS for PID (START_TIME) to end, then SIGKILL it and wait a little more.
_rt_wait_gone() {
    local pid=$1 start=$2 secs=$3 what=$4 i
    for ((i = 0; i < secs * 20; i++)); do
        _rt_alive "$pid" "$start" || return 0
        sleep 0.05
    done
    warn "$what (pid $pid) did not stop within ${secs}s: SIGKILL"
    if _rt_alive "$pid" "$start"; then
        kill -KILL "$pid" 2>/dev/null || true
    fi
    for ((i = 0; i < 100; i++)); do
        _rt_alive "$pid" "$start" || return 0
        sleep 0.05
    done
    warn "$what (pid $pid) survived SIGKILL"
    return 1
}

# Print the last lines of a log file as a warning (why a daemon did not come up).
_rt_show_log() {
    [[ -f $1 ]] || return 0
    warn "last lines of $1:"
    tail -n 15 "$1" | sed 's/^/    /' >&2
}

# --- the busybox root filesystem -------------------------------------------------------

# Build the busybox-static root filesystem in DIR and its tar in TAR: /bin/busybox and a
# relative symlink per applet (`busybox --list`), the os-release marker, root in passwd/group,
# a hostname, and the mount points runtimes expect. tests/common/runtimes.rs (build_rootfs)
# builds the same tree for runc and LXC containers: keep the two in step.
_rt_build_rootfs() {
    local dir=$1 tar=$2 applet
    mkdir -p "$dir"/{bin,dev,etc,proc,root,sys,tmp} || return 1
    chmod 1777 "$dir/tmp" || return 1
    cp /bin/busybox "$dir/bin/busybox" || return 1
    while read -r applet; do
        [[ -e $dir/bin/$applet || -L $dir/bin/$applet ]] || ln -s busybox "$dir/bin/$applet" ||
            return 1
    done < <(/bin/busybox --list)
    printf '%s\n' "$RUNTIME_OS_RELEASE" >"$dir/etc/os-release" &&
        printf 'root:x:0:0:root:/root:/bin/sh\n' >"$dir/etc/passwd" &&
        printf 'root:x:0:\n' >"$dir/etc/group" &&
        printf 'nsview-test\n' >"$dir/etc/hostname" || return 1
    tar --numeric-owner -C "$dir" -cf "$tar" . || return 1
}

# --- Docker ----------------------------------------------------------------------------

# True when a Docker daemon answers on the default socket.
_rt_docker_answers() {
    docker version --format '{{.Server.Version}}' >/dev/null 2>&1
}

# Start dockerd in the background (its own session, so a Ctrl-C in the terminal reaches only
# test.sh, whose trap then tears down in order) and record its PID and start time. Does not
# wait: _rt_wait_docker does, so the root filesystem is built meanwhile.
_rt_launch_dockerd() {
    if _rt_docker_answers; then
        log "a dockerd is already running (pid $(cat /var/run/docker.pid 2>/dev/null || echo '?')):" \
            "using it; it is not ours, so it stays running"
        return 0
    fi
    # The lock fd is closed for the daemon: it must not hold the lock after test.sh exits.
    # setsid does not fork here (a background job of a script is not a group leader), so $! is
    # dockerd's PID; _rt_wait_docker checks that.
    setsid dockerd --iptables=false --ip6tables=false --bridge=none \
        --storage-driver=overlay2 --exec-opt native.cgroupdriver=cgroupfs \
        </dev/null >"$_RT_DIR/dockerd.log" 2>&1 {_RT_LOCK_FD}>&- &
    _RT_DOCKERD_PID=$!
    # Fixed at fork, so it is there before the exec.
    _RT_DOCKERD_START=$(_rt_start_time "$_RT_DOCKERD_PID")
}

# Wait until the daemon answers (30 s at most), then record the containerd it started.
_rt_wait_docker() {
    local i
    for ((i = 0; i < 600; i++)); do
        if _rt_docker_answers; then
            break
        fi
        if [[ -n $_RT_DOCKERD_PID ]] && ! _rt_alive "$_RT_DOCKERD_PID" "$_RT_DOCKERD_START"; then
            warn "dockerd exited during start-up"
            _rt_show_log "$_RT_DIR/dockerd.log"
            _RT_DOCKERD_PID=
            return 1
        fi
        sleep 0.05
    done
    if ! _rt_docker_answers; then
        warn "dockerd did not answer within 30s"
        _rt_show_log "$_RT_DIR/dockerd.log"
        return 1
    fi
    if [[ -n $_RT_DOCKERD_PID ]]; then
        local comm
        comm=$(cat "/proc/$_RT_DOCKERD_PID/comm" 2>/dev/null || true)
        if [[ $comm != dockerd ]]; then
            warn "pid $_RT_DOCKERD_PID is '$comm', not dockerd: it will not be signalled"
            _RT_DOCKERD_PID=
            return 1
        fi
        # dockerd 20.10 starts its own containerd (libcontainerd) when none runs at
        # /run/containerd; it stops it on a clean shutdown. Recorded so that it can be stopped
        # by PID if dockerd has to be killed.
        _RT_CONTAINERD_PID=$(pgrep -P "$_RT_DOCKERD_PID" -x containerd | head -n 1 || true)
        if [[ -n $_RT_CONTAINERD_PID ]]; then
            _RT_CONTAINERD_START=$(_rt_start_time "$_RT_CONTAINERD_PID")
        fi
    fi
    _RT_DOCKER_UP=1
}

# Import the root filesystem tar as RUNTIME_IMAGE into Docker.
_rt_docker_import() {
    docker import -c 'CMD ["/bin/sh"]' -c "LABEL $RUNTIME_IMAGE_LABEL" \
        "$NSVIEW_TEST_ROOTFS_TAR" "$RUNTIME_IMAGE" >/dev/null
}

# Remove every test image from Docker (by label; see RUNTIME_IMAGE_LABEL).
_rt_docker_remove_images() {
    local ids
    ids=$(docker images -q --filter "label=$RUNTIME_IMAGE_LABEL" 2>/dev/null | sort -u)
    if [[ -n $ids ]]; then
        # shellcheck disable=SC2086 # one argument per id
        docker rmi -f $ids >/dev/null 2>&1 || warn "docker rmi failed: ${ids//$'\n'/ }"
    fi
}

# Remove the suite's Docker containers (named nsview-test-* or made from the test image).
_rt_docker_remove_containers() {
    local ids
    ids=$({
        docker ps -aq --filter "name=^/$RUNTIME_NAME_PREFIX" 2>/dev/null
        docker ps -aq --filter "ancestor=$RUNTIME_IMAGE" 2>/dev/null
    } | sort -u)
    if [[ -n $ids ]]; then
        log "removing Docker containers left by the tests: ${ids//$'\n'/ }"
        # shellcheck disable=SC2086 # one argument per id
        docker rm -f $ids >/dev/null || warn "docker rm -f failed"
    fi
}

# Stop the dockerd we started: SIGTERM now, the wait comes later (_rt_dockerd_wait) so that
# the other runtimes are torn down while it shuts down (it takes about a second).
_rt_dockerd_term() {
    if [[ -n $_RT_DOCKERD_PID ]]; then
        _rt_term "$_RT_DOCKERD_PID" "$_RT_DOCKERD_START"
    fi
}

# Wait for dockerd to end (15 s, then SIGKILL); then make sure its containerd ended too (dockerd
# stops it when it shuts down cleanly, not when it is killed).
_rt_dockerd_wait() {
    if [[ -n $_RT_DOCKERD_PID ]]; then
        _rt_wait_gone "$_RT_DOCKERD_PID" "$_RT_DOCKERD_START" 15 dockerd || true
        _RT_DOCKERD_PID=
    fi
    if [[ -n $_RT_CONTAINERD_PID ]]; then
        if _rt_alive "$_RT_CONTAINERD_PID" "$_RT_CONTAINERD_START"; then
            warn "containerd (pid $_RT_CONTAINERD_PID) outlived dockerd: stopping it"
            _rt_term "$_RT_CONTAINERD_PID" "$_RT_CONTAINERD_START"
            _rt_wait_gone "$_RT_CONTAINERD_PID" "$_RT_CONTAINERD_START" 10 containerd || true
        fi
        _RT_CONTAINERD_PID=
    fi
}

# --- podman ----------------------------------------------------------------------------

# Import the root filesystem tar into podman (stored as localhost/RUNTIME_IMAGE). It runs in
# the background, beside Docker's import.
_rt_podman_import() {
    "${PODMAN[@]}" import -q -c 'CMD ["/bin/sh"]' -c "LABEL $RUNTIME_IMAGE_LABEL" \
        "$NSVIEW_TEST_ROOTFS_TAR" "$RUNTIME_IMAGE" >/dev/null
}

# Remove every test image from podman (by label; see RUNTIME_IMAGE_LABEL).
_rt_podman_remove_images() {
    command -v podman >/dev/null || return 0
    local ids
    ids=$("${PODMAN[@]}" images -q --filter "label=$RUNTIME_IMAGE_LABEL" 2>/dev/null | sort -u)
    if [[ -n $ids ]]; then
        # shellcheck disable=SC2086 # one argument per id
        "${PODMAN[@]}" rmi -f $ids >/dev/null 2>&1 || warn "podman rmi failed: ${ids//$'\n'/ }"
    fi
}

# Remove the suite's podman containers (-t 0: SIGKILL at once instead of waiting 10 s after
# SIGTERM, which sleep as PID 1 ignores).
_rt_podman_remove_containers() {
    command -v podman >/dev/null || return 0
    local ids
    ids=$({
        "${PODMAN[@]}" ps -aq --filter "name=^$RUNTIME_NAME_PREFIX" 2>/dev/null
        "${PODMAN[@]}" ps -aq --filter "ancestor=localhost/$RUNTIME_IMAGE" 2>/dev/null
    } | sort -u)
    if [[ -n $ids ]]; then
        log "removing podman containers left by the tests: ${ids//$'\n'/ }"
        # shellcheck disable=SC2086 # one argument per id
        "${PODMAN[@]}" rm -f -t 0 $ids >/dev/null || warn "podman rm -f failed"
    fi
}

# --- runc and LXC ----------------------------------------------------------------------

# Remove runc containers named nsview-test-* (the tests' guards delete their own; these are
# left by a test process that was killed).
_rt_runc_remove_containers() {
    command -v runc >/dev/null || return 0
    local id
    while read -r id; do
        [[ $id == "$RUNTIME_NAME_PREFIX"* ]] || continue
        log "removing runc container left by the tests: $id"
        runc kill "$id" KILL 2>/dev/null || true
        runc delete -f "$id" || warn "runc delete -f $id failed"
    done < <(runc list -q 2>/dev/null)
}

# Stop and destroy every LXC container in our lxcpath.
_rt_lxc_remove_containers() {
    local path=${NSVIEW_TEST_LXC_PATH:-}
    [[ -n $path && -d $path ]] && command -v lxc-ls >/dev/null || return 0
    local name
    while read -r name; do
        [[ -n $name ]] || continue
        log "removing LXC container left by the tests: $name"
        lxc-stop -P "$path" -n "$name" -k 2>/dev/null || true
        lxc-destroy -P "$path" -n "$name" || warn "lxc-destroy $name failed"
    done < <(lxc-ls -P "$path" -1 2>/dev/null)
}

# --- mounts and cgroups left behind --------------------------------------------------------

# The mount points in /proc/self/mountinfo, one per line (octal escapes decoded).
_rt_mount_points() {
    local _a _b _c _d mp _rest
    while read -r _a _b _c _d mp _rest; do
        printf '%b\n' "$mp"
    done </proc/self/mountinfo
}

# Unmount, newest first, the mounts made since start_runtimes under the runtimes' state
# directories (podman bind-mounts its storage onto itself; dockerd /var/lib/docker; a killed
# runtime leaves overlay, shm and nsfs mounts) and under our temporary directory. /run/netns
# (which podman and `ip netns` bind-mount onto itself) only when nothing is mounted below it.
_rt_unmount_leftovers() {
    [[ -n $_RT_DIR && -f $_RT_DIR/mounts.before ]] || return 0
    local -A before=()
    local mp
    while read -r mp; do before[$mp]=1; done <"$_RT_DIR/mounts.before"
    local -a now=()
    mapfile -t now < <(_rt_mount_points)
    local i
    for ((i = ${#now[@]} - 1; i >= 0; i--)); do
        mp=${now[i]}
        [[ -z ${before[$mp]:-} ]] || continue
        case $mp in
        /run/docker/netns/*)
            # Routine: dockerd keeps the host's netns as /run/docker/netns/default once a
            # container used the host network, and leaves it mounted when it stops.
            umount "$mp" 2>/dev/null || umount -l "$mp" || warn "cannot unmount $mp"
            continue
            ;;
        /var/lib/docker | /var/lib/docker/* | /run/docker/* | /var/run/docker/* | \
            /var/lib/containers/* | /run/containers/* | /run/libpod/* | \
            /run/netns/netns-* | "$_RT_DIR" | "$_RT_DIR"/*) ;;
        /run/netns)
            # Routine (the first `ip netns add` or podman network namespace makes it): quiet.
            if ! _rt_mount_points | grep -q '^/run/netns/'; then
                umount /run/netns 2>/dev/null || true
            fi
            continue
            ;;
        *) continue ;;
        esac
        log "unmounting $mp (left by a runtime)"
        umount "$mp" 2>/dev/null || umount -l "$mp" || warn "cannot unmount $mp"
    done
}

# rmdir DIR's empty child groups, deepest first, then DIR. The kernel refuses to remove a group
# that still has processes, so nothing alive is touched. A group still in use is reported
# unless QUIET is set.
_rt_rmdir_cgroup_tree() {
    local dir=$1 quiet=${2:-} child
    [[ -d $dir ]] || return 0
    for child in "$dir"/*/; do
        if [[ -d $child ]]; then
            _rt_rmdir_cgroup_tree "${child%/}" "$quiet"
        fi
    done
    if ! rmdir "$dir" 2>/dev/null && [[ -z $quiet ]]; then
        warn "cgroup $dir is still in use; left in place"
    fi
}

# The cgroup hierarchy mount points (v1 controllers, name=systemd, the unified one).
_rt_cgroup_mounts() {
    local _a _b _c _d mp _rest
    while read -r _a _b _c _d mp _rest; do
        case $_rest in
        *" - cgroup "* | *" - cgroup2 "*) printf '%b\n' "$mp" ;;
        esac
    done </proc/self/mountinfo | sort -u
}

# Record which of RUNTIME_CGROUPS exist now: stop_runtimes reports those the runtimes created
# during this run when it cannot remove them, and leaves the others quietly.
_rt_record_cgroups() {
    local hier name
    _RT_CGROUPS_BEFORE=()
    while read -r hier; do
        for name in "${RUNTIME_CGROUPS[@]}"; do
            if [[ -d $hier/$name ]]; then
                _RT_CGROUPS_BEFORE+=("$hier/$name")
            fi
        done
    done < <(_rt_cgroup_mounts)
}

# Remove the runtimes' empty parent cgroups (/docker, /libpod_parent with conmon, /lxc.pivot;
# also those a plain `cargo test` left, which is why the ones that existed before this run are
# tried too, quietly: a busy one belongs to someone's running containers), and the groups of
# test processes that have exited (a killed test cannot remove its own): nsview-test-<pid> and
# LXC's lxc.payload/lxc.monitor.nsview-test-<pid>-*.
_rt_remove_cgroups() {
    local hier name dir
    local -A before=()
    for dir in "${_RT_CGROUPS_BEFORE[@]}"; do before[$dir]=1; done
    while read -r hier; do
        for name in "${RUNTIME_CGROUPS[@]}"; do
            dir=$hier/$name
            if [[ -d $dir ]]; then
                _rt_rmdir_cgroup_tree "$dir" "${before[$dir]:-}"
            fi
        done
        for dir in "$hier"/*; do
            [[ -d $dir ]] || continue
            name=${dir##*/}
            # The <pid> of the test process that made the group; while it runs, it is its.
            if [[ $name =~ ^(lxc\.payload\.|lxc\.monitor\.)?nsview-test-([0-9]+)(-|$) ]] &&
                [[ ! -d /proc/${BASH_REMATCH[2]} ]]; then
                _rt_rmdir_cgroup_tree "$dir"
            fi
        done
    done < <(_rt_cgroup_mounts)
}

# --- the lock ----------------------------------------------------------------------------

# The processes that have the lock file open, as "PID (COMM)" words: whoever makes us wait.
# test.sh's descriptor is inherited by what it runs (bash cannot mark it close-on-exec), so a
# process a test leaked would show up here.
_rt_lock_holders() {
    local fd pid
    for fd in /proc/[0-9]*/fd/*; do
        [[ $(readlink "$fd" 2>/dev/null) == "$RUNTIME_LOCK_FILE" ]] || continue
        pid=${fd#/proc/}
        pid=${pid%%/*}
        [[ $pid == "$$" || $pid == "$BASHPID" ]] && continue
        printf '%s (%s) ' "$pid" "$(cat "/proc/$pid/comm" 2>/dev/null)"
    done
}

# Take the machine-wide runtimes lock, waiting for another test run to finish with it.
_rt_lock() {
    exec {_RT_LOCK_FD}>>"$RUNTIME_LOCK_FILE"
    if ! flock -n "$_RT_LOCK_FD"; then
        log "another test run (scripts/test.sh, or a cargo test using containers) has the" \
            "container runtimes; waiting (${RUNTIME_LOCK_WAIT}s at most); lock holders:" \
            "$(_rt_lock_holders)"
        flock -w "$RUNTIME_LOCK_WAIT" "$_RT_LOCK_FD" ||
            die "timed out waiting for $RUNTIME_LOCK_FILE; held by: $(_rt_lock_holders)"
    fi
}

# Release the lock (closing our descriptor; processes that inherited it still hold it).
_rt_unlock() {
    if [[ -n $_RT_LOCK_FD ]]; then
        exec {_RT_LOCK_FD}>&-
        _RT_LOCK_FD=
    fi
}

# --- the two entry points ------------------------------------------------------------------

# Bring up Docker, podman, runc and LXC for the tests (see the top of this file).
start_runtimes() {
    if [[ ${NSVIEW_DRY_RUN:-} == 1 ]]; then
        log "dry-run: start_runtimes (dockerd, images for Docker and podman, runc, LXC)"
        return 0
    fi
    local t0 up=() down=()
    _rt_lock
    t0=$(_rt_usec)
    _RT_STARTED=1
    _RT_DIR=$(mktemp -d /tmp/nsview-runtimes.XXXXXX)
    _rt_mount_points >"$_RT_DIR/mounts.before"
    _rt_record_cgroups

    export NSVIEW_TEST_RUNTIME_DIR=$_RT_DIR
    export NSVIEW_TEST_ROOTFS=$_RT_DIR/rootfs
    export NSVIEW_TEST_ROOTFS_TAR=$_RT_DIR/rootfs.tar
    export NSVIEW_TEST_LXC_PATH=$_RT_DIR/lxc
    mkdir -p "$NSVIEW_TEST_LXC_PATH"

    # dockerd starts while the root filesystem is built.
    if command -v dockerd >/dev/null; then
        _rt_launch_dockerd
    fi
    if ! _rt_build_rootfs "$NSVIEW_TEST_ROOTFS" "$NSVIEW_TEST_ROOTFS_TAR"; then
        die "cannot build the busybox root filesystem in $NSVIEW_TEST_ROOTFS"
    fi

    # The two imports run side by side.
    local podman_job=
    if command -v podman >/dev/null; then
        _rt_podman_import >"$_RT_DIR/podman-import.log" 2>&1 {_RT_LOCK_FD}>&- &
        podman_job=$!
    else
        down+=("podman (not installed)")
    fi
    if ! command -v dockerd >/dev/null; then
        down+=("docker (not installed)")
    elif _rt_wait_docker && _rt_docker_import; then
        export NSVIEW_TEST_DOCKER_IMAGE=$RUNTIME_IMAGE
        up+=(docker)
    else
        down+=(docker)
    fi
    if [[ -n $podman_job ]]; then
        if wait "$podman_job"; then
            export NSVIEW_TEST_PODMAN_IMAGE=localhost/$RUNTIME_IMAGE
            up+=(podman)
        else
            warn "podman import failed"
            _rt_show_log "$_RT_DIR/podman-import.log"
            down+=(podman)
        fi
    fi
    # runc and LXC have no daemon: the tests start their containers.
    if command -v runc >/dev/null; then up+=(runc); else down+=("runc (not installed)"); fi
    if command -v lxc-start >/dev/null; then up+=(lxc); else down+=("lxc (not installed)"); fi

    export NSVIEW_TEST_RUNTIMES=1
    log "runtimes up in $(_rt_since "$t0")s: ${up[*]:-none}${down:+; NOT available: ${down[*]}}"
}

# Tear down everything start_runtimes and the tests left (see the top of this file).
stop_runtimes() {
    ((_RT_STARTED)) || return 0
    local t0
    t0=$(_rt_usec)
    if ((_RT_DOCKER_UP)) && _rt_docker_answers; then
        _rt_docker_remove_containers
        _rt_docker_remove_images
    fi
    _rt_dockerd_term
    _rt_podman_remove_containers
    _rt_podman_remove_images
    _rt_runc_remove_containers
    _rt_lxc_remove_containers
    _rt_dockerd_wait
    _rt_unmount_leftovers
    _rt_remove_cgroups
    if [[ -n $_RT_DIR && -d $_RT_DIR ]]; then
        rm -rf --one-file-system "$_RT_DIR" || warn "cannot remove $_RT_DIR"
    fi
    # The lxcpath of plain `cargo test` runs, once they destroyed their containers.
    rmdir "${TMPDIR:-/tmp}/nsview-test-lxc" 2>/dev/null || true
    _RT_DIR=
    _RT_DOCKER_UP=0
    unset NSVIEW_TEST_RUNTIMES NSVIEW_TEST_RUNTIME_DIR NSVIEW_TEST_ROOTFS NSVIEW_TEST_ROOTFS_TAR \
        NSVIEW_TEST_DOCKER_IMAGE NSVIEW_TEST_PODMAN_IMAGE NSVIEW_TEST_LXC_PATH
    _rt_unlock
    _RT_STARTED=0
    # Quiet when all is well (about a second): test.sh's PASS/FAIL line stays the last one.
    local took
    took=$(_rt_since "$t0")
    if ((${took%.*} >= 5)); then
        warn "tearing down the runtimes took ${took}s"
    fi
}
