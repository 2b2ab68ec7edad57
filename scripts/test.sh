#!/usr/bin/env bash
# The one test command for nsview: README says `sudo scripts/test.sh`, and .ci/run execs it.
#
#   sudo scripts/test.sh [ARGS...]      ARGS go to `cargo test` (e.g. a test name filter)
#
# On a fresh Debian 12 machine (rustup toolchain + cargo-nextest present) it:
#   1. refuses to run unless root: the real-kernel tests create namespaces, cgroups, netns;
#   2. installs the Debian packages in TEST_PACKAGES that are missing (apt-get update once,
#      only when something is missing; no apt at all when everything is there);
#   3. starts the container runtimes the suite needs (start_runtimes; none yet), with their
#      teardown (stop_runtimes) on EXIT, so it runs on failure and Ctrl-C too;
#   4. runs cargo fmt --check, cargo clippy --all-targets --locked -- -D warnings and
#      cargo test --locked (default --test-threads: the tests are parallel-safe);
#   5. prints one final line, "test.sh: PASS ..." or "test.sh: FAIL ...", and exits non-zero
#      if any step failed. All steps run even after a failure, so one run shows everything.
#
# Environment:
#   CI=true           exported to the tests: there a test that would skip fails instead.
#   NSVIEW_DRY_RUN=1  print the apt-get and cargo commands instead of running them.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SCRIPT_NAME=test.sh
# shellcheck source=scripts/lib.sh
. "$ROOT/scripts/lib.sh"

# Debian packages the test suite needs. Add runtimes here when tests use them
# (docker.io, runc, podman, lxc) and start them in start_runtimes below.
#   util-linux      lsns (cross-check), unshare, nsenter
#   iproute2        ip netns, veth pairs
#   busybox-static  tiny root filesystems for containers
#   tmux            driving the TUI in a real terminal
#   procps          ps, sysctl
#   jq              JSON checks in shell-level tests
TEST_PACKAGES=(util-linux iproute2 busybox-static tmux procps jq)

# --- container runtimes hook -----------------------------------------------------------
# start_runtimes starts every daemon the suite needs and records what it started;
# stop_runtimes undoes exactly that. stop_runtimes is registered with on_exit BEFORE
# start_runtimes runs, so a half-started set is torn down too; it must therefore cope
# with anything not having been started. Rules (../shared/docs/testing.md): signal only
# PIDs this script started, never pkill by name; absolute cgroupsPath for runc.
# A later issue fills these in, e.g. for Docker:
#   start:  dockerd --iptables=false --ip6tables=false --bridge=none \
#             --storage-driver=overlay2 --exec-opt native.cgroupdriver=cgroupfs \
#             >"$RUNTIME_LOG_DIR/dockerd.log" 2>&1 &
#           RUNTIME_PIDS+=($!)   # then wait for `docker info` to succeed
#   stop:   remove the test's containers, then kill "${RUNTIME_PIDS[@]}" and wait for them.
RUNTIME_PIDS=()

start_runtimes() {
    : # nothing yet
}

stop_runtimes() {
    local pid
    for pid in "${RUNTIME_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || continue
        # Give a daemon a few seconds to shut down cleanly before forcing it.
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    done
    RUNTIME_PIDS=()
}

# --- steps ------------------------------------------------------------------------------
RESULTS=()
FAILED=()

# step NAME CMD...: run one step, time it, record pass/fail without stopping the script.
step() {
    local name=$1 t0 rc=0
    shift
    log "== $name: $*"
    t0=$SECONDS
    run "$@" || rc=$?
    if ((rc == 0)); then
        RESULTS+=("$name ok ($((SECONDS - t0))s)")
    else
        RESULTS+=("$name FAILED (exit $rc, $((SECONDS - t0))s)")
        FAILED+=("$name")
    fi
}

main() {
    require_root
    cd "$ROOT"
    local t0=$SECONDS

    ensure_packages "${TEST_PACKAGES[@]}"
    find_cargo

    # CI=true turns skips into failures inside the tests; make sure they see it.
    if [[ -n ${CI:-} ]]; then
        export CI
        log "CI=$CI: skipped tests count as failures"
    fi
    export RUST_BACKTRACE=${RUST_BACKTRACE:-1}

    on_exit stop_runtimes
    start_runtimes

    step fmt cargo fmt --check
    step clippy cargo clippy --all-targets --locked -- -D warnings
    step test cargo test --locked "$@"

    local summary
    summary=$(printf '%s; ' "${RESULTS[@]}")
    summary=${summary%; }
    if ((${#FAILED[@]} == 0)); then
        printf '%s: PASS in %ss: %s\n' "$SCRIPT_NAME" "$((SECONDS - t0))" "$summary"
    else
        printf '%s: FAIL (%s) in %ss: %s\n' "$SCRIPT_NAME" "${FAILED[*]}" "$((SECONDS - t0))" \
            "$summary"
        exit 1
    fi
}

main "$@"
