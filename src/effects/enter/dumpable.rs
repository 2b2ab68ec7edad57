//! Non-dumpable: no core dump, and /proc/PID/{exe,environ,mem,fd,...} and ptrace(2) refused to
//! anyone without CAP_SYS_PTRACE in the helper's original user namespace (ptrace(2), "Ptrace
//! access mode checking"), even to a process with the same IDs or root of a joined user namespace.
//!
//! The helper sets it first thing; but every credential change (setns into a user namespace,
//! setgroups, setresgid, setresuid, capset) resets it to fs.suid_dumpable (commit_creds in
//! kernel/cred.c), which may be 1. runc sets it again after each: so does nsview.

use super::error::EnterError;
use super::plan::EnterSpec;

/// prctl(PR_SET_DUMPABLE, 0); call again after every credential change.
pub(super) fn stay_undumpable(spec: &EnterSpec) -> Result<(), EnterError> {
    nix::sys::prctl::set_dumpable(false).map_err(|e| spec.failed(format!("PR_SET_DUMPABLE: {e}")))
}

/// The parent-death signal (SIGHUP when the caller ends, set before exec in `spawn`) is cleared
/// by the same credential changes (commit_creds in kernel/cred.c): set it again after joining a
/// user namespace, then make sure `caller` did not end in between (the helper would then belong
/// to init and never get the signal).
pub(super) fn hang_up_with_caller(
    spec: &EnterSpec,
    caller: nix::unistd::Pid,
) -> Result<(), EnterError> {
    nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGHUP)
        .map_err(|e| spec.failed(format!("PR_SET_PDEATHSIG: {e}")))?;
    if nix::unistd::getppid() != caller {
        return Err(EnterError::Interrupted(
            "nsview enter ended before the command started".into(),
        ));
    }
    Ok(())
}
