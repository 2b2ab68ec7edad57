# shellcheck shell=bash
# Shared helpers for nsview's scripts (test.sh, bench-*.sh). Source it, don't run it:
#   . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# Provides:
#   log / warn / die            messages prefixed with the calling script's name (stderr)
#   require_root                exit 1 with a clear message unless running as root
#   on_exit CMD                 register CMD to run when the script exits (LIFO; runs on
#                               success, failure, Ctrl-C and TERM alike)
#   run CMD...                  run CMD, or only print it when NSVIEW_DRY_RUN=1
#   missing_packages PKG...     print the Debian packages among PKG that are not installed
#   ensure_packages PKG...      apt-get install the missing ones (apt-get update once, and only
#                               when something is missing; nothing at all when all are present)
#   find_cargo                  make sure `cargo` is on PATH (rustup's ~/.cargo/bin is not on
#                               sudo's secure_path)
#   ensure_cargo_tool NAME      `cargo install --locked cargo-NAME` unless `cargo NAME` works

SCRIPT_NAME=${SCRIPT_NAME:-$(basename "${BASH_SOURCE[1]:-$0}")}

log() { printf '%s: %s\n' "$SCRIPT_NAME" "$*" >&2; }
warn() { printf '%s: warning: %s\n' "$SCRIPT_NAME" "$*" >&2; }
die() {
    printf '%s: error: %s\n' "$SCRIPT_NAME" "$*" >&2
    exit 1
}

require_root() {
    if [[ $(id -u) -ne 0 ]]; then
        die "must run as root (it creates namespaces and cgroups and installs packages): sudo $0"
    fi
}

# --- cleanup stack -----------------------------------------------------------------------
# One EXIT trap for the whole script; everything that needs tearing down registers itself
# with on_exit right after it is set up, so a failure at any later point still undoes it.
_NSVIEW_CLEANUPS=()

on_exit() { _NSVIEW_CLEANUPS+=("$1"); }

_nsview_run_cleanups() {
    local rc=$? i
    set +e
    trap - EXIT INT TERM
    for ((i = ${#_NSVIEW_CLEANUPS[@]} - 1; i >= 0; i--)); do
        eval "${_NSVIEW_CLEANUPS[i]}" || warn "cleanup step failed: ${_NSVIEW_CLEANUPS[i]}"
    done
    _NSVIEW_CLEANUPS=()
    exit "$rc"
}
trap _nsview_run_cleanups EXIT
# A signal turns into a normal exit, so the EXIT trap (and with it every cleanup) runs.
trap 'exit 130' INT
trap 'exit 143' TERM

# --- dry run -------------------------------------------------------------------------------
run() {
    if [[ ${NSVIEW_DRY_RUN:-} == 1 ]]; then
        printf '%s: dry-run: %s\n' "$SCRIPT_NAME" "$*" >&2
        return 0
    fi
    "$@"
}

# --- Debian packages -----------------------------------------------------------------------
missing_packages() {
    local pkg
    for pkg in "$@"; do
        # db:Status-Abbrev is "ii " for an installed package; anything else (absent,
        # removed with config left, half-installed) counts as missing.
        if [[ $(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null) != ii* ]]; then
            printf '%s\n' "$pkg"
        fi
    done
}

_NSVIEW_APT_UPDATED=0
_NSVIEW_POLICY_RC=/usr/sbin/policy-rc.d
_NSVIEW_POLICY_CREATED=0

# Remove the policy-rc.d that ensure_packages created (and only that one).
_nsview_drop_policy_rc() {
    if ((_NSVIEW_POLICY_CREATED)); then
        rm -f "$_NSVIEW_POLICY_RC"
        _NSVIEW_POLICY_CREATED=0
    fi
}

ensure_packages() {
    local missing
    mapfile -t missing < <(missing_packages "$@")
    if ((${#missing[@]} == 0)); then
        return 0
    fi
    log "installing missing Debian packages: ${missing[*]}"
    command -v apt-get >/dev/null || die "apt-get not found; install by hand: ${missing[*]}"

    # Packages with daemons (docker.io, lxc, ...) must not start services on install: the
    # scripts start what they need themselves. policy-rc.d exit 101 = "action forbidden".
    if [[ ! -e $_NSVIEW_POLICY_RC && ${NSVIEW_DRY_RUN:-} != 1 ]]; then
        printf '#!/bin/sh\nexit 101\n' >"$_NSVIEW_POLICY_RC" && chmod 755 "$_NSVIEW_POLICY_RC" &&
            _NSVIEW_POLICY_CREATED=1
        on_exit _nsview_drop_policy_rc
    fi

    local -x DEBIAN_FRONTEND=noninteractive
    local apt=(apt-get -q -y -o DPkg::Lock::Timeout=300
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
    local rc=0
    if ((_NSVIEW_APT_UPDATED == 0)); then
        run "${apt[@]}" update || rc=$?
        _NSVIEW_APT_UPDATED=1
    fi
    if ((rc == 0)); then
        run "${apt[@]}" install --no-install-recommends "${missing[@]}" || rc=$?
    fi
    _nsview_drop_policy_rc
    ((rc == 0)) || die "apt-get failed (exit $rc) installing: ${missing[*]}"
    if [[ ${NSVIEW_DRY_RUN:-} != 1 ]]; then
        mapfile -t missing < <(missing_packages "$@")
        ((${#missing[@]} == 0)) || die "still not installed after apt-get: ${missing[*]}"
    fi
}

# --- Rust toolchain ------------------------------------------------------------------------
find_cargo() {
    command -v cargo >/dev/null && return 0
    local dir
    for dir in "${CARGO_HOME:-${HOME:-/root}/.cargo}/bin" /root/.cargo/bin; do
        if [[ -x $dir/cargo ]]; then
            export PATH="$dir:$PATH"
            return 0
        fi
    done
    die "cargo not found on PATH (rustup's ~/.cargo/bin is not on sudo's PATH; when rustup belongs to your user, try: sudo env \"PATH=\$PATH\" \"RUSTUP_HOME=\$HOME/.rustup\" $0)"
}

# ensure_cargo_tool NAME: make `cargo NAME` work (cargo-deb, cargo-nextest), installing the
# crate cargo-NAME from crates.io when it is missing.
ensure_cargo_tool() {
    local name=$1
    if cargo "$name" --version >/dev/null 2>&1; then
        return 0
    fi
    log "installing cargo-$name (cargo install --locked cargo-$name)"
    run cargo install --locked "cargo-$name"
}
