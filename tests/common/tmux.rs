//! A terminal for the TUI's end-to-end tests ([`TmuxGuard`]).

use std::fs;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use super::{NSVIEW_TIMEOUT, run_ok, try_poll, try_run_with_timeout, unique_name};

/// A detached tmux session running one command, on a tmux server of its own (socket
/// `$TMPDIR/nsview-test-<pid>-<name>.tmux`, no user config), so nothing touches anyone else's
/// tmux. Drop kills that server, which ends the command, and removes the socket.
pub struct TmuxGuard {
    pub socket: PathBuf,
    pub session: String,
}

impl TmuxGuard {
    /// Start `command` (a shell command line) in a `width` x `height` terminal.
    pub fn start(name: &str, width: u16, height: u16, command: &str) -> TmuxGuard {
        let socket = std::env::temp_dir().join(format!("{}.tmux", unique_name(name)));
        let guard = TmuxGuard {
            session: name.to_string(),
            socket,
        };
        let (w, h) = (width.to_string(), height.to_string());
        guard.tmux(&["new-session", "-d", "-s", name, "-x", &w, "-y", &h, command]);
        guard
    }

    /// Run `tmux -S SOCKET -f /dev/null ARGS...`, which must succeed; returns stdout.
    pub fn tmux(&self, args: &[&str]) -> String {
        let socket = self.socket.to_string_lossy();
        let mut all = vec!["-S", &*socket, "-f", "/dev/null"];
        all.extend_from_slice(args);
        run_ok("tmux", &all)
    }

    /// `tmux send-keys`: each item is a key name (`Enter`, `Down`, `C-c`) or literal text.
    pub fn send_keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", self.session.as_str()];
        args.extend_from_slice(keys);
        self.tmux(&args);
    }

    /// The visible screen as text.
    pub fn capture(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", &self.session])
    }

    /// Wait until the screen contains `text`; returns the screen (panics with it on timeout).
    pub fn wait_for(&self, text: &str, timeout: Duration) -> String {
        match try_poll(timeout, || {
            let screen = self.capture();
            screen.contains(text).then_some(screen)
        }) {
            Some(screen) => screen,
            None => panic!(
                "timed out waiting for {text:?} on screen:\n{}",
                self.capture()
            ),
        }
    }
}

impl Drop for TmuxGuard {
    fn drop(&mut self) {
        let _ = try_run_with_timeout(
            Command::new("tmux").arg("-S").arg(&self.socket).args([
                "-f",
                "/dev/null",
                "kill-server",
            ]),
            NSVIEW_TIMEOUT,
        );
        let _ = fs::remove_file(&self.socket);
    }
}

/// The rows of the list pane: lines between its header (NAME ...) and its bottom border.
pub fn table_rows(screen: &str) -> Vec<String> {
    screen
        .lines()
        .skip_while(|l| !l.contains("NAME "))
        .skip(1)
        .take_while(|l| !l.starts_with('└'))
        .map(|l| {
            // The list pane is the first box of the line.
            let inner = l.strip_prefix('│').unwrap_or(l);
            inner.split('│').next().unwrap_or("").trim().to_string()
        })
        .filter(|l| !l.is_empty())
        .collect()
}
