//! `nsview enter` and the caller's terminal, on the real kernel as root (issue 12, item 2).
//!
//! The attacker is the entered command: with the caller's own terminal it could push input into
//! it with TIOCSTI (this kernel has `dev.tty.legacy_tiocsti = 1`), to be read by the admin's shell
//! after nsview exits. Under a terminal the command must get a pty of its own and lead its own
//! session; without one, no controlling terminal at all. The target is a process in new uts and
//! net namespaces; entering only those keeps the host's files, so the host's python3 can play the
//! attacker. Safety rules: shared/docs/testing.md.

mod common;

use std::fs::File;
use std::io::Read;
use std::os::fd::{AsRawFd, OwnedFd};
use std::process::{Command, Stdio};

use common::*;
use nix::pty::{Winsize, openpty};

/// Prints its pid, session, tty_nr and terminal, the window size, pushes a line into its own
/// terminal's input with TIOCSTI (not reading it back) and exits 7.
const ATTACKER: &str = r#"
import os, fcntl, termios, sys
st = open('/proc/self/stat').read().rsplit(')', 1)[1].split()
print('PID', os.getpid(), 'SID', st[3], 'TTYNR', st[4])
print('TTY', os.readlink('/proc/self/fd/0'))
sz = os.get_terminal_size(0)
print('SIZE', sz.lines, sz.columns)
for c in b'echo INJECTED\n':
    fcntl.ioctl(0, termios.TIOCSTI, bytes([c]))
print('STI done', flush=True)
sys.exit(7)
"#;

fn can_run(test: &str) -> bool {
    require_root_and_tools(test, &["unshare", "python3"])
}

fn target() -> NsProcess {
    NsProcess::spawn(&["--uts", "--net"], "exec sleep 100000", "sleep")
}

/// The value after `key` on the line starting with `key` in `out`.
fn field<'a>(out: &'a str, key: &str) -> &'a str {
    out.lines()
        .map(|l| l.trim_end_matches('\r'))
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no {key} in the output:\n{out}"))
}

/// Bytes waiting to be read on a terminal (FIONREAD).
fn pending_input(fd: &OwnedFd) -> i32 {
    let mut n: nix::libc::c_int = 0;
    // SAFETY: FIONREAD writes one int to the pointer given, which points at `n`.
    let r = unsafe { nix::libc::ioctl(fd.as_raw_fd(), nix::libc::FIONREAD, &mut n) };
    assert_eq!(r, 0, "FIONREAD");
    n
}

#[test]
fn under_a_terminal_the_command_gets_its_own_pty_and_session_and_tiocsti_stays_there() {
    let test = "under_a_terminal_the_command_gets_its_own_pty_and_session_and_tiocsti_stays_there";
    if !can_run(test) {
        return;
    }
    let t = target();
    let size = Winsize {
        ws_row: 33,
        ws_col: 101,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    let pty = openpty(Some(&size), None).expect("openpty");
    let caller_tty = std::fs::read_link(format!("/proc/self/fd/{}", pty.slave.as_raw_fd()))
        .expect("caller's tty name");
    let before = nix::sys::termios::tcgetattr(&pty.slave).expect("tcgetattr");
    let slave = || Stdio::from(pty.slave.try_clone().expect("dup slave"));
    let mut child = Command::new(nsview_bin())
        .args(["enter", &t.inner.to_string(), "--ns", "uts,net", "--"])
        .args(["python3", "-c", ATTACKER])
        .stdin(slave())
        .stdout(slave())
        .stderr(slave())
        .spawn()
        .expect("start nsview enter");
    let status = try_poll(NSVIEW_TIMEOUT, || child.try_wait().ok().flatten());
    let Some(status) = status else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("nsview enter under a pty did not finish");
    };
    // Small output: it all fits in the pty's buffer; read it without blocking.
    nix::fcntl::fcntl(
        &pty.master,
        nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
    )
    .expect("O_NONBLOCK");
    let mut raw = Vec::new();
    let _ = File::from(pty.master.try_clone().expect("dup master")).read_to_end(&mut raw);
    let out = String::from_utf8_lossy(&raw).into_owned();

    assert_eq!(status.code(), Some(7), "exit status passed on:\n{out}");
    assert!(
        out.contains("STI done"),
        "TIOCSTI on its own pty works:\n{out}"
    );
    let own_tty = field(&out, "TTY");
    assert_ne!(own_tty, caller_tty.to_string_lossy(), "same tty:\n{out}");
    assert!(own_tty.starts_with("/dev/pts/"), "not a pty: {own_tty}");
    // "PID <pid> SID <session> TTYNR <tty_nr>"
    let ids: Vec<&str> = field(&out, "PID").split(' ').collect();
    assert_eq!(ids.len(), 5, "{out}");
    assert_eq!(ids[0], ids[2], "not a session leader:\n{out}");
    assert_ne!(ids[4], "0", "no controlling terminal:\n{out}");
    assert_eq!(field(&out, "SIZE"), "33 101", "window size:\n{out}");
    assert_eq!(
        pending_input(&pty.slave),
        0,
        "the command's TIOCSTI reached the caller's terminal"
    );
    let after = nix::sys::termios::tcgetattr(&pty.slave).expect("tcgetattr");
    assert_eq!(
        after.local_flags, before.local_flags,
        "terminal not restored"
    );
    assert_eq!(
        after.input_flags, before.input_flags,
        "terminal not restored"
    );
    assert_eq!(
        after.output_flags, before.output_flags,
        "terminal not restored"
    );
    drop(t);
}

#[test]
fn without_a_terminal_the_command_has_no_controlling_terminal_and_the_pipes_flow() {
    let test = "without_a_terminal_the_command_has_no_controlling_terminal_and_the_pipes_flow";
    if !can_run(test) {
        return;
    }
    let t = target();
    let script = format!(
        "echo hello | {} enter {} --ns uts,net -- sh -c \
         'read l; echo got $l; cut -d\" \" -f1,6,7 /proc/$$/stat; echo $$; exit 5'",
        nsview_bin(),
        t.inner
    );
    let r = run_with_timeout(Command::new("sh").args(["-c", &script]), NSVIEW_TIMEOUT);
    assert_eq!(r.code, Some(5), "{}", r.describe());
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.first(), Some(&"got hello"), "{}", r.describe());
    let stat: Vec<&str> = lines.get(1).copied().unwrap_or("").split(' ').collect();
    let pid = lines.get(2).copied().unwrap_or("");
    assert_eq!(
        stat,
        [pid, pid, "0"],
        "pid, session, tty_nr:\n{}",
        r.describe()
    );
    drop(t);
}
