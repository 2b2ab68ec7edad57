//! The caller's side: start the helper, hand it the terminal, wait for it.

use super::error::EnterError;
use super::helper_args::HELPER_SUBCOMMAND;
use super::plan::EnterSpec;
use super::sealed_exe::SealedExe;
use crate::sys::{Roots, self_exe};
use nix::libc;
use nix::sys::signal::{SigSet, SigmaskHow, Signal};
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::ExitStatus;

/// Carry out `spec`: start the helper (this binary, `/proc/self/exe`), hand it the terminal, wait
/// for it. Returns the command's exit status (the helper exits with it, or dies of the same
/// signal); an error when entering failed before the command started.
///
/// The caller keeps its threads; it must not read the terminal meanwhile (the TUI pauses its input
/// thread and leaves raw mode and the alternate screen first). When stdin is a terminal and the
/// caller is in its foreground process group, the helper gets a process group of its own and the
/// terminal's foreground for the duration (so Ctrl-C and Ctrl-Z reach the command, not the
/// caller); the caller's group gets the foreground back afterwards.
pub fn run_inside(spec: &EnterSpec) -> Result<ExitStatus, EnterError> {
    run_with_binary(spec, &self_exe::self_exe_path(&Roots::default()))
}

/// [`run_inside`] with an explicit nsview binary (tests run it from a test binary, whose own
/// /proc/self/exe is not nsview).
///
/// The helper runs from a sealed memfd copy of `exe` ([`SealedExe`]), never from `exe` itself:
/// the helper and its child, until it execs the command, are visible to the target, and their
/// /proc/PID/exe must not lead to the host's binary.
pub fn run_with_binary(spec: &EnterSpec, exe: &Path) -> Result<ExitStatus, EnterError> {
    let sealed = SealedExe::copy_of(exe).map_err(|e| spec.failed(e))?;
    let (read_end, write_end) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
        .map_err(|e| spec.failed(format!("pipe: {e}")))?;
    let report_fd = write_end.as_raw_fd();
    let foreground = terminal_foreground();
    let mut cmd = std::process::Command::new(sealed.exec_path());
    cmd.arg0("nsview")
        .arg(HELPER_SUBCOMMAND)
        .args(spec.helper_args(Some(report_fd)));
    // SAFETY: the closure runs in the forked child before exec; it only makes system calls that
    // are async-signal-safe (fcntl, setpgid, pthread_sigmask, tcsetpgrp, getpid) on values it
    // owns, allocates nothing and takes no lock.
    unsafe {
        cmd.pre_exec(move || prepare_helper_process(report_fd, foreground));
    }
    let spawned = cmd.spawn();
    drop(write_end);
    // The helper execs the copy (or failed to): this process no longer needs it.
    drop(sealed);
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => {
            if foreground {
                take_foreground_back();
            }
            return Err(spec.failed(format!("cannot start {}: {e}", exe.display())));
        }
    };
    // Until the command is exec'd the helper may report an error; exec closes the pipe.
    let mut report = String::new();
    let _ = File::from(read_end).read_to_string(&mut report);
    let status = child.wait();
    if foreground {
        take_foreground_back();
    }
    let status = status.map_err(|e| spec.failed(format!("waiting for the helper: {e}")))?;
    match report.lines().find(|l| !l.trim().is_empty()) {
        Some(line) => Err(EnterError::decode(line)),
        None => Ok(status),
    }
}

/// The exit code a shell would report for `status` (128 + signal when killed).
pub fn exit_code(status: &ExitStatus) -> i32 {
    status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}

/// Stdin is a terminal whose foreground process group is ours.
fn terminal_foreground() -> bool {
    let stdin = io::stdin();
    let fd = stdin.as_fd();
    nix::unistd::isatty(fd).unwrap_or(false)
        && nix::unistd::tcgetpgrp(fd).is_ok_and(|g| g == nix::unistd::getpgrp())
}

/// In the forked child before exec: keep the report pipe open across exec, and with `foreground`
/// become a process group of its own in the terminal's foreground.
fn prepare_helper_process(report_fd: RawFd, foreground: bool) -> io::Result<()> {
    // SAFETY: plain system calls on an fd number and on a stack-allocated signal set; all are
    // async-signal-safe, as required between fork and exec in a multithreaded parent.
    unsafe {
        if libc::fcntl(report_fd, libc::F_SETFD, 0) == -1 {
            return Err(io::Error::last_os_error());
        }
        if foreground {
            if libc::setpgid(0, 0) == -1 {
                return Err(io::Error::last_os_error());
            }
            // A background group may call tcsetpgrp only with SIGTTOU blocked.
            let mut set: libc::sigset_t = std::mem::zeroed();
            let mut old: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGTTOU);
            libc::pthread_sigmask(libc::SIG_BLOCK, &set, &mut old);
            let r = libc::tcsetpgrp(0, libc::getpid());
            let err = io::Error::last_os_error();
            libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
            if r == -1 {
                return Err(err);
            }
        }
    }
    Ok(())
}

/// Make the caller's process group the terminal's foreground again.
fn take_foreground_back() {
    let mut ttou = SigSet::empty();
    ttou.add(Signal::SIGTTOU);
    let mut old = SigSet::empty();
    if nix::sys::signal::pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&ttou), Some(&mut old)).is_ok()
    {
        let _ = nix::unistd::tcsetpgrp(io::stdin().as_fd(), nix::unistd::getpgrp());
        let _ = nix::sys::signal::pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&old), None);
    }
}
