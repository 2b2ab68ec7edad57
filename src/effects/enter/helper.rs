//! The helper (`nsview __enter`): a fresh single-threaded process that opens, joins and forks.

use super::child::child_main;
use super::dumpable::{hang_up_with_caller, stay_undumpable};
use super::error::EnterError;
use super::helper_args::HelperArgs;
use super::inherit::{close_fds_above_2, pass_signals_to, set_disposition};
use super::join::{join_cgroups, join_namespaces};
use super::open::{Opened, open_target};
use super::plan::{Credentials, EnterSpec};
use super::pty::PtyRequest;
use super::report::Reporter;
use super::seccomp::SeccompFilters;
use crate::sys::{Roots, proc_handle};
use nix::errno::Errno;
use nix::sys::signal::{SigHandler, SigSet, Signal};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid};
use std::os::fd::{OwnedFd, RawFd};

/// Entry point of `nsview __enter`: returns the exit status for the process.
pub fn helper_main(args: HelperArgs) -> i32 {
    // exec of /proc/self/exe names the process "exe"; ps and the tests look for "nsview".
    let _ = rustix::thread::set_name(c"nsview");
    let report = Reporter::adopt(args.report_fd);
    let pty_socket = args.pty_socket;
    let result = args
        .into_spec()
        .and_then(|spec| helper(&spec, report, pty_socket));
    match result {
        Ok(code) => code,
        Err(e) => {
            report.send(&e);
            e.exit_code()
        }
    }
}

/// The helper's steps, in the order of the module docs: refuse to be inspected, open everything,
/// join cgroups then namespaces, allocate the command's pty (when asked), fork the command and
/// wait for it.
fn helper(
    spec: &EnterSpec,
    report: Reporter,
    pty_socket: Option<RawFd>,
) -> Result<i32, EnterError> {
    let caller = nix::unistd::getppid();
    stay_undumpable(spec)?;
    ensure_single_threaded(spec)?;
    // The host's ptmx (the fallback) is opened before joining anything.
    let pty = pty_socket.and_then(PtyRequest::adopt);
    let mut opened = open_target(spec)?;
    opened.seccomp = read_seccomp(spec, &opened)?;
    if spec.join_cgroups
        && let Some(process) = &opened.process
    {
        join_cgroups(spec, process)?;
    }
    join_namespaces(spec, &opened)?;
    // Joining a user namespace changed the credentials.
    stay_undumpable(spec)?;
    hang_up_with_caller(spec, caller)?;
    let terminal = match pty {
        Some(p) => Some(p.allocate(spec, &opened)?),
        None => None,
    };
    fork_command(spec, opened, report, terminal)
}

/// The target's seccomp filters, when the command is to have them: read from the host's
/// namespaces (ptrace needs CAP_SYS_PTRACE over the target and the seccomp reader CAP_SYS_ADMIN
/// in the initial user namespace), before anything is joined. A target in strict mode (1) cannot
/// be matched: refused, as is a filter the kernel does not let us read.
fn read_seccomp(spec: &EnterSpec, o: &Opened) -> Result<SeccompFilters, EnterError> {
    let (Some(pid), Some(process)) = (spec.pid, &o.process) else {
        return Ok(SeccompFilters::default());
    };
    if spec.creds == Credentials::Privileged {
        return Ok(SeccompFilters::default());
    }
    let mode = process
        .read_status_creds()
        .map_err(|_| EnterError::TargetGone(format!("process {pid} exited")))?
        .seccomp;
    match mode {
        0 => Ok(SeccompFilters::default()),
        2 => SeccompFilters::read(spec, pid),
        m => Err(EnterError::PermissionDenied(format!(
            "PID {pid} runs in seccomp mode {m}, which cannot be given to the command; only \
             --privileged can enter it"
        ))),
    }
}

/// setns(2) refuses a mount or user namespace to a process with more than one thread (EINVAL),
/// and fork in a multithreaded process leaves the child only async-signal-safe calls. The helper
/// is a fresh exec of nsview that starts no thread; nothing between here and exec may start one
/// (no thread pool, no reader that spreads work over threads).
fn ensure_single_threaded(spec: &EnterSpec) -> Result<(), EnterError> {
    let threads = proc_handle::count_self_tasks(&Roots::default()).unwrap_or(1);
    if threads != 1 {
        return Err(spec.failed(format!(
            "the helper has {threads} threads; it must have one to join mount and user namespaces"
        )));
    }
    Ok(())
}

/// Fork, so that the command really is inside the pid and time namespaces (they apply to children
/// only); the child execs the command (on `terminal`, the slave of its pty, when there is one), the
/// helper waits for it and returns its status.
fn fork_command(
    spec: &EnterSpec,
    opened: Opened,
    report: Reporter,
    terminal: Option<OwnedFd>,
) -> Result<i32, EnterError> {
    // The helper waits for the command: terminal signals are for the command only (ignored
    // until it is forked, then passed on to it). The child puts every disposition back to the
    // default before exec.
    for sig in [Signal::SIGINT, Signal::SIGQUIT, Signal::SIGTSTP] {
        set_disposition(sig, SigHandler::SigIgn);
    }
    // SAFETY: the helper is single-threaded (checked in `ensure_single_threaded`, and nothing since
    // starts a thread), so the child cannot inherit a lock held by another thread; it may allocate
    // and use the standard library normally.
    match unsafe { nix::unistd::fork() } {
        Ok(ForkResult::Child) => child_main(spec, opened, report, terminal),
        Ok(ForkResult::Parent { child }) => {
            pass_signals_to(child.as_raw());
            drop(opened);
            drop(terminal);
            // The report pipe and anything else: only the command's status is left to give.
            close_fds_above_2(None);
            Ok(wait_for(child))
        }
        Err(e) => Err(spec.failed(format!("fork: {e}"))),
    }
}

/// Wait for the command; stopped (Ctrl-Z) it is continued: nothing here could resume it later.
/// Returns its exit code, or dies of the signal that killed it.
fn wait_for(child: Pid) -> i32 {
    loop {
        match waitpid(child, Some(WaitPidFlag::WUNTRACED)) {
            Ok(WaitStatus::Exited(_, code)) => return code,
            Ok(WaitStatus::Signaled(_, sig, _)) => {
                set_disposition(sig, SigHandler::SigDfl);
                let mut set = SigSet::empty();
                set.add(sig);
                let _ = set.thread_unblock();
                let _ = nix::sys::signal::raise(sig);
                return 128 + sig as i32;
            }
            Ok(WaitStatus::Stopped(..)) => {
                let _ = nix::sys::signal::kill(child, Signal::SIGCONT);
            }
            Ok(_) | Err(Errno::EINTR) => {}
            Err(_) => return 1,
        }
    }
}
