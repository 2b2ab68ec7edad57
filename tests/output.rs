//! How reports reach standard output (issue 15, item 1): buffered, one write per 64 KiB rather
//! than one per line, for text and JSON alike, and a reader that goes away early (`nsview ps |
//! head`) ends the command quietly with success. Run by the real binary on the live host.

mod common;

use common::*;
use nix::sys::wait::{Id, WaitPidFlag, WaitStatus, waitid};
use nix::unistd::Pid;
use std::io::Read;
use std::os::fd::OwnedFd;
use std::process::{Command, Stdio};

/// What /proc/PID/io says a process wrote: (write calls, bytes).
fn write_counts(pid: u32) -> (u64, u64) {
    let io = std::fs::read_to_string(format!("/proc/{pid}/io")).expect("read /proc/PID/io");
    let field = |name: &str| {
        io.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or_else(|| panic!("no {name} in /proc/{pid}/io: {io}"))
    };
    (field("syscw:"), field("wchar:"))
}

/// Run nsview with ARGS, its output drained through a pipe; once it has exited (and before it
/// is reaped, so that /proc/PID/io still holds its counts) return (write calls, bytes written,
/// bytes read from the pipe).
fn run_counting_writes(args: &[&str]) -> (u64, u64, usize) {
    let mut child = Command::new(nsview_bin())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn nsview");
    let mut stdout = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        stdout.read_to_end(&mut buf).map(|_| buf.len())
    });
    let pid = Pid::from_raw(child.id() as i32);
    // Exited but not reaped: its /proc entry (and io counters) stay until `wait` below.
    let exited = try_poll(NSVIEW_TIMEOUT, || {
        let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT | WaitPidFlag::WNOHANG;
        match waitid(Id::Pid(pid), flags) {
            Ok(WaitStatus::StillAlive) => None,
            other => Some(other),
        }
    });
    if !matches!(exited, Some(Ok(_))) {
        // Ours and unreaped: the PID is still the child's.
        let _ = child.kill();
        let _ = child.wait();
        panic!("nsview {args:?} did not finish within {NSVIEW_TIMEOUT:?}: {exited:?}");
    }
    let (calls, bytes) = write_counts(child.id());
    let ok = child.wait().expect("wait").success();
    assert!(ok, "nsview {args:?} failed");
    let read = reader.join().expect("reader").expect("read stdout");
    (calls, bytes, read)
}

#[test]
fn reports_are_written_in_large_blocks() {
    if !require_root_and_tools("reports_are_written_in_large_blocks", &[]) {
        return;
    }
    for args in [
        &["ps", "--json"][..],
        &["ps"],
        &["list", "--json"],
        &["list"],
        &["cgroups", "--json"],
        &["cgroups"],
        &["containers", "--json"],
    ] {
        let (calls, bytes, read) = run_counting_writes(args);
        assert!(read > 0, "nsview {args:?} printed nothing");
        // Standard output in 64 KiB blocks, plus at most a few writes of warnings to standard
        // error. Line by line, this host's `ps` alone would be hundreds of calls.
        let bound = bytes / (64 * 1024) + 4;
        assert!(
            calls <= bound,
            "nsview {args:?}: {calls} write calls for {bytes} bytes (at most {bound} expected)"
        );
    }
}

#[test]
fn a_closed_pipe_ends_the_report_quietly() {
    if !require_root_and_tools("a_closed_pipe_ends_the_report_quietly", &[]) {
        return;
    }
    for args in [
        &["ps", "--json"][..],
        &["ps"],
        &["list"],
        &["cgroups", "--tree"],
    ] {
        // The read end is closed before nsview starts: its first write meets EPIPE.
        let (read_end, write_end): (OwnedFd, OwnedFd) = nix::unistd::pipe().expect("pipe");
        drop(read_end);
        let mut child = Command::new(nsview_bin())
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::from(write_end))
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn nsview");
        let finished = try_poll(NSVIEW_TIMEOUT, || child.try_wait().ok().flatten());
        let Some(status) = finished else {
            // Ours and unreaped: the PID is still the child's.
            let _ = child.kill();
            let _ = child.wait();
            panic!("nsview {args:?} into a closed pipe did not finish within {NSVIEW_TIMEOUT:?}");
        };
        let mut stderr = String::new();
        let _ = child
            .stderr
            .take()
            .map(|mut e| e.read_to_string(&mut stderr));
        assert!(
            status.success(),
            "nsview {args:?} into a closed pipe: {status}, stderr: {stderr}"
        );
        let said: Vec<&str> = stderr
            .lines()
            .filter(|l| !l.contains(": warning: "))
            .collect();
        assert!(
            said.is_empty(),
            "nsview {args:?} into a closed pipe said more than warnings: {said:?}"
        );
    }
}
