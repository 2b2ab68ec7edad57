#!/usr/bin/env bash
# Build the Debian package of nsview: target/debian/nsview_<version>-1_<arch>.deb.
#
#   scripts/package.sh
#
# 1. installs cargo-deb (`cargo install --locked cargo-deb`) when it is missing;
# 2. builds the release binary (cargo build --release --locked; the profile is in Cargo.toml);
# 3. generates what the package installs besides the binary into target/assets, with the
#    binary itself, so they always match its clap definitions:
#      nsview.1.gz   `nsview man`                 -> /usr/share/man/man1/
#      nsview.bash   `nsview completions bash`    -> /usr/share/bash-completion/completions/nsview
#      _nsview       `nsview completions zsh`     -> /usr/share/zsh/vendor-completions/
#      nsview.fish   `nsview completions fish`    -> /usr/share/fish/vendor_completions.d/
# 4. runs `cargo deb --no-build` ([package.metadata.deb] in Cargo.toml lists the assets: the
#    example config, README, CHANGELOG and both licenses go to /usr/share/doc/nsview);
# 5. prints the package's path on stdout (the last line), and its contents (dpkg -c) on stderr.
#
# Environment:
#   NSVIEW_DRY_RUN=1  print the commands instead of running them.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SCRIPT_NAME=package.sh
# shellcheck source=scripts/lib.sh
. "$ROOT/scripts/lib.sh"

main() {
    cd "$ROOT"
    find_cargo
    ensure_cargo_tool deb
    run cargo build --release --locked

    local bin=target/release/nsview assets=target/assets
    run mkdir -p "$assets"
    if [[ ${NSVIEW_DRY_RUN:-} != 1 ]]; then
        # -n: no name or time stamp in the gzip header, so the same page gives the same file.
        "$bin" man | gzip -9n >"$assets/nsview.1.gz"
        "$bin" completions bash >"$assets/nsview.bash"
        "$bin" completions zsh >"$assets/_nsview"
        "$bin" completions fish >"$assets/nsview.fish"
    fi

    local deb
    if [[ ${NSVIEW_DRY_RUN:-} == 1 ]]; then
        run cargo deb --no-build --locked
        return 0
    fi
    deb=$(cargo deb --no-build --locked | tail -n 1)
    [[ -f $deb ]] || die "cargo deb did not name a package (got '$deb')"
    log "contents of $deb:"
    dpkg -c "$deb" >&2
    printf '%s\n' "$deb"
}

main "$@"
