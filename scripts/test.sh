#!/usr/bin/env bash
# The one test command for nsview: README says `sudo scripts/test.sh`, and .ci/run execs it.
#
#   sudo scripts/test.sh [ARGS...]      ARGS go to `cargo nextest run` (e.g. `--test NAME` or a
#                                       test name filter)
#
# On a fresh Debian 12 machine (rustup toolchain present) it:
#   1. refuses to run unless root: the real-kernel tests create namespaces, cgroups, netns;
#   2. installs the Debian packages in TEST_PACKAGES that are missing (apt-get update once,
#      only when something is missing; no apt at all when everything is there), and
#      cargo-nextest (cargo install --locked) when `cargo nextest` is missing;
#   3. runs shellcheck on scripts/*.sh;
#   4. without ARGS (the whole suite), the fuzz smoke run: scripts/fuzz.sh runs every fuzz
#      target (fuzz/) for NSVIEW_FUZZ_SECONDS each, installing cargo-fuzz when it is missing;
#      it runs before the container runtimes start, so it holds no runtime lock;
#   5. without ARGS, the package: scripts/package.sh builds the release binary and the .deb
#      (installing cargo-deb when missing), scripts/check-package.sh installs it into a
#      throwaway root and checks man -w nsview, nsview --version and the bash completion;
#   6. starts the container runtimes the suite needs (start_runtimes: Docker, podman, runc,
#      LXC; scripts/runtimes.sh), with their
#      teardown (stop_runtimes) on EXIT, so it runs on failure and Ctrl-C too;
#   7. runs cargo fmt --check, cargo clippy --all-targets --locked -- -D warnings and
#      cargo nextest run --locked (.config/nextest.toml: which tests run alone, timeouts, no
#      retries). nextest does not run doctests; nsview has none (its one fenced block is C), so
#      there is no `cargo test --doc` step: add one with the first Rust example in a doc comment;
#   8. prints one final line, "test.sh: PASS ..." or "test.sh: FAIL ...", and exits non-zero
#      if any step failed. All steps run even after a failure, so one run shows everything.
#
# Environment:
#   CI=true           exported to the tests: there a test that would skip fails instead.
#   NSVIEW_FUZZ_SECONDS=10  seconds per fuzz target in the smoke run (0: no fuzz step).
#   NSVIEW_PACKAGE=1  build and check the .deb with the whole suite (0: no package step).
#   NSVIEW_DRY_RUN=1  print the apt-get and cargo commands instead of running them.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SCRIPT_NAME=test.sh
# shellcheck source=scripts/lib.sh
. "$ROOT/scripts/lib.sh"

# Debian packages the test suite needs.
#   util-linux      lsns (cross-check), unshare, nsenter, flock, setsid
#   iproute2        ip netns, veth pairs
#   busybox-static  tiny root filesystems for containers
#   tmux            driving the TUI in a real terminal
#   procps          ps, sysctl, pgrep
#   jq              JSON checks in shell-level tests
#   docker.io       dockerd 20.10 (brings containerd, runc); started by start_runtimes
#   runc            OCI containers started directly by the tests
#   podman          rootful podman 4.3 (brings conmon); daemonless
#   lxc             LXC 5.0 (lxc-start with a busybox rootfs)
#   gcc libc6-dev   the C linker and libc a fresh rustup toolchain links with
#   ShellCheck      (package shellcheck) lints scripts/*.sh
#   man-db          man -w / man -l for the man page checks (package, tests/shell_completion.rs)
#   systemd         systemd-analyze verify of the recorder's unit (package check; no systemd runs)
TEST_PACKAGES=(util-linux iproute2 busybox-static tmux procps jq docker.io runc podman lxc
    gcc libc6-dev shellcheck man-db systemd)

# --- container runtimes hook -----------------------------------------------------------
# start_runtimes starts every daemon the suite needs and records what it started;
# stop_runtimes undoes exactly that. stop_runtimes is registered with on_exit BEFORE
# start_runtimes runs, so a half-started set is torn down too; it copes with anything not
# having been started. Both live in scripts/runtimes.sh: Docker (dockerd with its own
# containerd), podman, runc and LXC, a busybox image imported offline, the NSVIEW_TEST_*
# variables the tests read (tests/common/runtimes.rs), and the teardown. Rules
# (../shared/docs/testing.md): signal only PIDs this script started, never pkill by name;
# absolute cgroupsPath for runc.
# shellcheck source=scripts/runtimes.sh
. "$ROOT/scripts/runtimes.sh"

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

# scripts/package.sh, then scripts/check-package.sh on the package it names.
build_and_check_package() {
    local deb
    deb=$("$ROOT/scripts/package.sh" | tail -n 1)
    if [[ ${NSVIEW_DRY_RUN:-} == 1 ]]; then
        return 0
    fi
    "$ROOT/scripts/check-package.sh" "$deb"
}

main() {
    require_root
    cd "$ROOT"
    local t0=$SECONDS

    ensure_packages "${TEST_PACKAGES[@]}"
    find_cargo
    ensure_cargo_tool nextest

    # CI=true turns skips into failures inside the tests; make sure they see it.
    if [[ -n ${CI:-} ]]; then
        export CI
        log "CI=$CI: skipped tests count as failures"
    fi
    export RUST_BACKTRACE=${RUST_BACKTRACE:-1}

    step shellcheck shellcheck -x scripts/*.sh

    # The fuzz smoke run (about 16 targets x 10 s plus their build) only with the whole suite.
    local fuzz_seconds=${NSVIEW_FUZZ_SECONDS:-10}
    if (($# == 0 && fuzz_seconds > 0)); then
        step fuzz "$ROOT/scripts/fuzz.sh" "$fuzz_seconds"
    fi
    # The .deb (a release build) only with the whole suite, before the runtimes start too.
    if (($# == 0)) && [[ ${NSVIEW_PACKAGE:-1} != 0 ]]; then
        step package build_and_check_package
    fi

    on_exit stop_runtimes
    start_runtimes

    step fmt cargo fmt --check
    step clippy cargo clippy --all-targets --locked -- -D warnings
    step test cargo nextest run --locked "$@"

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
