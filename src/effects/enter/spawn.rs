//! The caller's side: start the helper, relay the command's own terminal, wait for it.

use super::error::EnterError;
use super::helper_args::HELPER_SUBCOMMAND;
use super::interrupt::{HelperWait, Interrupts, Seen};
use super::plan::EnterSpec;
use super::pty;
use super::sealed_exe::SealedExe;
use crate::sys::{Roots, self_exe};
use nix::libc;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
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
    let pty_pair = if pty::stdin_is_terminal() {
        Some(pty::socket_pair().map_err(|e| spec.failed(format!("socketpair: {e}")))?)
    } else {
        None
    };
    let pty_fd = pty_pair
        .as_ref()
        .map(|(_, helper_end)| helper_end.as_raw_fd());
    // From before the helper starts until it is reaped, Ctrl-C is the caller's to pass on.
    let interrupts =
        Interrupts::register().map_err(|e| spec.failed(format!("signal handlers: {e}")))?;
    let spawned = helper_command(spec, &sealed, write_end.as_raw_fd(), pty_fd).spawn();
    drop(write_end);
    // The helper execs the copy (or failed to): this process no longer needs it.
    drop(sealed);
    let caller_end = pty_pair.map(|(caller_end, _helper_end)| caller_end);
    let mut child =
        spawned.map_err(|e| spec.failed(format!("cannot start {}: {e}", exe.display())))?;
    let mut wait = HelperWait::new(spec, &mut child, interrupts);
    // The helper sends the master once it has joined the namespaces, or ends without one.
    let relay = match &caller_end {
        Some(socket) => start_relay(spec, &mut wait, socket)?,
        None => None,
    };
    // Until the command is exec'd the helper may report an error; exec closes the pipe.
    let report = read_report(&mut wait, read_end)?;
    let killed = wait.killed();
    if relay.is_none() && !killed {
        wait.until_ended()?;
    }
    drop(wait);
    let status = child.wait();
    if let Some(relay) = relay {
        relay.finish();
    }
    let status = status.map_err(|e| spec.failed(format!("waiting for the helper: {e}")))?;
    match report.lines().find(|l| !l.trim().is_empty()) {
        Some(line) => Err(EnterError::decode(line)),
        None if killed => Err(EnterError::Interrupted(format!(
            "interrupted before entering {}: the helper did not end when told to and was killed",
            spec.target
        ))),
        None => Ok(status),
    }
}

/// The helper's command line: the sealed copy, `__enter`, the plan; the report pipe's write end
/// (and the pty socket) kept open across exec. The helper gets a process group of its own, so
/// that the terminal's signals reach the caller only, which passes them on (`interrupt`).
fn helper_command(
    spec: &EnterSpec,
    sealed: &SealedExe,
    report_fd: RawFd,
    pty_fd: Option<RawFd>,
) -> std::process::Command {
    let mut cmd = std::process::Command::new(sealed.exec_path());
    cmd.arg0("nsview").arg(HELPER_SUBCOMMAND).process_group(0);
    if let Some(fd) = pty_fd {
        // The helper has no use for the terminal: only the relay reads it.
        cmd.args(["--pty-socket", &fd.to_string()])
            .stdin(Stdio::null());
    }
    cmd.args(spec.helper_args(Some(report_fd)));
    let caller = std::process::id();
    // SAFETY: the closure runs in the forked child before exec; it only calls fcntl, prctl and
    // getppid, which are async-signal-safe, on values it was given; it allocates nothing and takes
    // no lock.
    unsafe {
        cmd.pre_exec(move || {
            keep_across_exec(&[Some(report_fd), pty_fd])?;
            hang_up_with_caller(caller)
        });
    }
    cmd
}

/// In the forked child before exec: SIGHUP when the thread that started it ends (the caller
/// killed, even with SIGKILL), as a terminal hangup would: the helper dies of it before the
/// command runs, and passes it on to the command afterwards (`inherit`), so nothing of an
/// `nsview enter` outlives it unnoticed. A caller already gone is an error.
fn hang_up_with_caller(caller: u32) -> io::Result<()> {
    // SAFETY: prctl(PR_SET_PDEATHSIG) and getppid(2) are plain async-signal-safe system calls.
    unsafe {
        if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGHUP as libc::c_ulong) == -1 {
            return Err(io::Error::last_os_error());
        }
        if u32::try_from(libc::getppid()).ok() != Some(caller) {
            return Err(io::Error::from_raw_os_error(libc::ESRCH));
        }
    }
    Ok(())
}

/// Receive the command's pty master over `socket` (waiting with Ctrl-C working) and start
/// relaying it; None when the helper ended without sending one.
fn start_relay(
    spec: &EnterSpec,
    wait: &mut HelperWait<'_>,
    socket: &OwnedFd,
) -> Result<Option<pty::Relay>, EnterError> {
    wait.until_readable(socket.as_fd())?;
    let Some(master) = pty::receive_master(socket) else {
        return Ok(None);
    };
    match pty::Relay::start(master) {
        Ok(relay) => Ok(Some(relay)),
        Err(e) => {
            wait.kill();
            Err(spec.failed(format!("relaying the command's terminal: {e}")))
        }
    }
}

/// What the helper reported before the command was exec'd (empty: nothing went wrong), read
/// with Ctrl-C working.
fn read_report(wait: &mut HelperWait<'_>, read_end: OwnedFd) -> Result<String, EnterError> {
    let mut file = File::from(read_end);
    let mut report = Vec::new();
    loop {
        if wait.until_readable(file.as_fd())? == Seen::HelperEnded {
            // Its write end closes as soon as the command's process execs or ends.
            let _ = file.read_to_end(&mut report);
            break;
        }
        let mut buf = [0u8; 4096];
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => report.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    Ok(String::from_utf8_lossy(&report).into_owned())
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
