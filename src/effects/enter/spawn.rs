//! The caller's side: start the helper, relay the command's own terminal, wait for it.

use super::error::EnterError;
use super::helper_args::HELPER_SUBCOMMAND;
use super::plan::EnterSpec;
use super::pty;
use super::sealed_exe::SealedExe;
use crate::sys::{Roots, self_exe};
use nix::libc;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{ExitStatus, Stdio};

/// Carry out `spec`: start the helper (this binary, `/proc/self/exe`), wait for it. Returns the
/// command's exit status (the helper exits with it, or dies of the same signal); an error when
/// entering failed before the command started.
///
/// The caller keeps its threads; it must not read the terminal meanwhile (the TUI pauses its input
/// thread and leaves raw mode and the alternate screen first). When stdin is a terminal, the
/// command never gets it: it gets a pty of its own, which this process relays to the terminal
/// (in raw mode, restored before returning) until the command ends (see `pty`).
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
    let pty_pair = if pty::stdin_is_terminal() {
        Some(pty::socket_pair().map_err(|e| spec.failed(format!("socketpair: {e}")))?)
    } else {
        None
    };
    let pty_fd = pty_pair
        .as_ref()
        .map(|(_, helper_end)| helper_end.as_raw_fd());
    let mut cmd = std::process::Command::new(sealed.exec_path());
    cmd.arg0("nsview").arg(HELPER_SUBCOMMAND);
    if let Some(fd) = pty_fd {
        // The helper has no use for the terminal: only the relay reads it.
        cmd.args(["--pty-socket", &fd.to_string()])
            .stdin(Stdio::null());
    }
    cmd.args(spec.helper_args(Some(report_fd)));
    // SAFETY: the closure runs in the forked child before exec; it only calls fcntl, which is
    // async-signal-safe, on fd numbers it was given; it allocates nothing and takes no lock.
    unsafe {
        cmd.pre_exec(move || keep_across_exec(&[Some(report_fd), pty_fd]));
    }
    let spawned = cmd.spawn();
    drop(write_end);
    // The helper execs the copy (or failed to): this process no longer needs it.
    drop(sealed);
    let caller_end = pty_pair.map(|(caller_end, _helper_end)| caller_end);
    let mut child =
        spawned.map_err(|e| spec.failed(format!("cannot start {}: {e}", exe.display())))?;
    // The helper sends the master once it has joined the namespaces, or ends without one.
    let relay = match caller_end.as_ref().and_then(pty::receive_master) {
        Some(master) => match pty::Relay::start(master) {
            Ok(relay) => Some(relay),
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(spec.failed(format!("relaying the command's terminal: {e}")));
            }
        },
        None => None,
    };
    // Until the command is exec'd the helper may report an error; exec closes the pipe.
    let mut report = String::new();
    let _ = File::from(read_end).read_to_string(&mut report);
    let status = child.wait();
    if let Some(relay) = relay {
        relay.finish();
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

/// In the forked child before exec: keep `fds` open across exec.
fn keep_across_exec(fds: &[Option<RawFd>]) -> io::Result<()> {
    for fd in fds.iter().flatten() {
        // SAFETY: F_SETFD on an fd number only changes its flags; async-signal-safe, as required
        // between fork and exec in a multithreaded parent.
        if unsafe { libc::fcntl(*fd, libc::F_SETFD, 0) } == -1 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}
