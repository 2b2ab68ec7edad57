#!/usr/bin/env bash
# Regenerate README's picture of the live view: docs/img/nsview.png.
#
#   sudo scripts/screenshot.sh [NSVIEW_BINARY]
#
# 1. starts a small isolation group of its own to show (unshare: new pid, uts, net, ipc and
#    mount namespaces, hostname "demo"), killed again on exit;
# 2. runs nsview (default: target/release/nsview, built when missing) in a detached tmux server of
#    its own at 140x24, waits for two refreshes and selects the demo group (the last row);
# 3. captures the pane with its colours (tmux capture-pane -e) and renders it with
#    scripts/render_ansi.py (python3-pil, DejaVu Sans Mono; apt-get install python3-pil
#    fonts-dejavu-core tmux when missing).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$ROOT/docs/img/nsview.png
SOCKET=nsview-shot-$$
WORK=$(mktemp -d)
DEMO_PID=

cleanup() {
    tmux -L "$SOCKET" kill-server 2>/dev/null || true
    if [[ -n $DEMO_PID ]]; then
        # unshare ignores SIGTERM while it waits; --kill-child takes the group along with it.
        kill -KILL "$DEMO_PID" 2>/dev/null || true
        wait "$DEMO_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

main() {
    [[ $(id -u) == 0 ]] || { echo "screenshot.sh: run as root (nsview shows every process then)" >&2; exit 1; }
    local bin=${1:-$ROOT/target/release/nsview}
    if [[ ! -x $bin ]]; then
        (cd "$ROOT" && cargo build --release --locked)
    fi
    for need in tmux /usr/bin/python3; do
        command -v "$need" >/dev/null || { echo "screenshot.sh: $need is missing" >&2; exit 1; }
    done
    unshare --fork --kill-child --pid --uts --net --ipc --mount --mount-proc \
        sh -c 'hostname demo; exec sleep 300' &
    DEMO_PID=$!
    tmux -L "$SOCKET" new-session -d -x 140 -y 24 "TERM=xterm-256color $bin"
    sleep 3
    tmux -L "$SOCKET" send-keys End
    sleep 1.5
    tmux -L "$SOCKET" capture-pane -e -p >"$WORK/capture.txt"
    mkdir -p "$(dirname "$OUT")"
    /usr/bin/python3 "$ROOT/scripts/render_ansi.py" "$WORK/capture.txt" "$OUT"
    echo "screenshot.sh: wrote $OUT"
}

main "$@"
