#!/usr/bin/env bash
# Install the Debian package into a throwaway root and check it as an admin would use it.
#
#   scripts/check-package.sh DEB
#
# 1. `dpkg --root=TMP -i DEB` into an empty dpkg database under a temporary directory (the
#    package has no maintainer scripts, so nothing runs chrooted; --force-depends because the
#    empty root has no libc6 registered);
# 2. checks every file the package must install (binary, man page, three completions, example
#    config, changelog, licenses) with `dpkg --root=TMP -L nsview`;
# 3. `man -M TMP/usr/share/man -w nsview` finds the page, and it renders with its TARGET and KEYS
#    sections;
# 4. TMP/usr/bin/nsview --version prints the version in Cargo.toml;
# 5. bash, with the installed completion loaded, completes `nsview enter ` to the name of an
#    isolation group started here (`unshare --pid --fork`: comm[pid]); the zsh and fish files
#    call nsview for their completions too.
# 6. the recorder's systemd unit passes `systemd-analyze verify`, and its ExecStart, run with
#    the installed binary for 3 s into a temporary directory instead of /var/lib, records a file
#    that `nsview ps --from` reads.
# Removes the root and stops the group (by its PID) on exit, also on failure.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SCRIPT_NAME=check-package.sh
# shellcheck source=scripts/lib.sh
. "$ROOT/scripts/lib.sh"

DEB=${1:?usage: check-package.sh DEB}
[[ -f $DEB ]] || die "no package at $DEB"
DEST=$(mktemp -d /tmp/nsview-deb-root.XXXXXX)
on_exit "rm -rf '$DEST'"
GROUP_PID=

check() {
    local what=$1
    shift
    if "$@"; then
        log "ok: $what"
    else
        die "FAILED: $what"
    fi
}

install_into_root() {
    mkdir -p "$DEST/var/lib/dpkg/info" "$DEST/var/lib/dpkg/updates"
    : >"$DEST/var/lib/dpkg/status"
    dpkg --root="$DEST" --force-depends --force-script-chrootless -i "$DEB" >&2
    local listed file
    listed=$(dpkg --root="$DEST" -L nsview)
    for file in /usr/bin/nsview /usr/share/man/man1/nsview.1.gz \
        /usr/share/bash-completion/completions/nsview /usr/share/zsh/vendor-completions/_nsview \
        /usr/share/fish/vendor_completions.d/nsview.fish /usr/share/doc/nsview/config.toml \
        /usr/share/doc/nsview/CHANGELOG.md /usr/share/doc/nsview/LICENSE-MIT \
        /usr/share/doc/nsview/LICENSE-APACHE /usr/share/doc/nsview/copyright \
        /usr/lib/systemd/system/nsview-record.service; do
        check "installs $file" grep -qx "$file" <<<"$listed"
        check "$file is in the root" test -s "$DEST$file"
    done
}

check_man_page() {
    local page
    page=$(man -M "$DEST/usr/share/man" -w nsview)
    check "man -w nsview finds the installed page ($page)" \
        test "$page" = "$DEST/usr/share/man/man1/nsview.1.gz"
    local text
    text=$(MANPAGER=cat MANWIDTH=100 man -M "$DEST/usr/share/man" nsview 2>/dev/null)
    check "the page has TARGET and KEYS sections" \
        grep -q '^TARGET' <<<"$text"
    grep -q '^KEYS' <<<"$text" || die "FAILED: no KEYS section"
}

check_version() {
    local want got
    want=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$ROOT/Cargo.toml" | head -n 1)
    got=$("$DEST/usr/bin/nsview" --version)
    check "nsview --version is 'nsview $want' (got '$got')" test "$got" = "nsview $want"
}

stop_group() {
    if [[ -n $GROUP_PID ]]; then
        kill "$GROUP_PID" 2>/dev/null || true
        wait "$GROUP_PID" 2>/dev/null || true
    fi
}

# The completions bash offers for `nsview WORDS...` (the last word is the one completed).
bash_complete() {
    local script="$DEST/usr/share/bash-completion/completions/nsview"
    local current=${*: -1} previous=nsview
    (($# > 1)) && previous=${*: -2:1}
    # shellcheck disable=SC2016  # expanded by the inner bash
    PATH="$DEST/usr/bin:$PATH" bash --norc --noprofile -c '
        script=$1 current=$2 previous=$3
        shift 3
        source "$script"
        complete -p nsview >/dev/null || exit 3
        COMP_WORDS=(nsview "$@"); COMP_CWORD=$#
        COMP_LINE="${COMP_WORDS[*]}"; COMP_POINT=${#COMP_LINE}; COMP_TYPE=9
        _clap_complete_nsview nsview "$current" "$previous"
        printf "%s\n" "${COMPREPLY[@]}"' bash "$script" "$current" "$previous" "$@"
}

check_completions() {
    unshare --pid --fork --kill-child sleep 300 &
    GROUP_PID=$!
    on_exit stop_group
    local inner='' i
    for ((i = 0; i < 100; i++)); do
        inner=$(cat "/proc/$GROUP_PID/task/$GROUP_PID/children" 2>/dev/null || true)
        inner=${inner%% *}
        [[ -n $inner && $(cat "/proc/$inner/comm" 2>/dev/null) == sleep ]] && break
        sleep 0.1
    done
    [[ -n $inner ]] || die "the unshare group did not start"
    local offered
    offered=$(bash_complete enter "")
    check "bash completes 'nsview enter ' to sleep[$inner]" grep -qxF "sleep[$inner]" <<<"$offered"
    offered=$(bash_complete "comp")
    check "bash completes 'nsview comp' to completions" test "$offered" = completions
    check "zsh's file is a #compdef for nsview" \
        grep -qx '#compdef nsview' "$DEST/usr/share/zsh/vendor-completions/_nsview"
    check "fish's file asks nsview" \
        grep -q 'NSVIEW_COMPLETE=fish nsview' "$DEST/usr/share/fish/vendor_completions.d/nsview.fish"
}

check_record_unit() {
    local unit="$DEST/usr/lib/systemd/system/nsview-record.service"
    local out i said
    out=$(mktemp -d /tmp/nsview-unit-rec.XXXXXX)
    on_exit "rm -rf '$out'"
    # verify, which warns about every unknown key or bad value, on a copy that runs the
    # installed binary (no systemd runs here: it checks the file, not a boot).
    sed "s#=/usr/bin/nsview #=$DEST/usr/bin/nsview #" "$unit" >"$out/nsview-record.service"
    said=$(systemd-analyze verify --man=no "$out/nsview-record.service" 2>&1) ||
        die "FAILED: systemd-analyze verify: $said"
    check "systemd-analyze verify has nothing to say about the recorder's unit${said:+: $said}" \
        test -z "$said"
    local exec
    exec=$(sed -n 's/^ExecStart=//p' "$unit")
    local -a argv
    read -r -a argv <<<"$exec"
    check "the unit runs /usr/bin/nsview record" test "${argv[0]} ${argv[1]}" = "/usr/bin/nsview record"
    # The unit's own arguments, with the output moved out of /var/lib and a duration added.
    for ((i = 2; i < ${#argv[@]}; i++)); do
        [[ ${argv[i]} == --output ]] && argv[i + 1]="$out/"
    done
    "$DEST${argv[0]}" "${argv[@]:1}" --duration 3s 2>&1 | sed 's/^/    /' >&2
    check "the unit's command recorded $out/nsview.nsrec" test -s "$out/nsview.nsrec"
    check "nsview ps --from reads it" \
        sh -c "'$DEST/usr/bin/nsview' ps --from '$out' --json | grep -q '\"processes\"'"
}

main() {
    require_root
    install_into_root
    check_man_page
    check_version
    check_completions
    check_record_unit
    log "package $DEB: installed and checked"
}

main "$@"
