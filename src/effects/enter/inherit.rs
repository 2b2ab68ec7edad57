//! What a forked or exec'd process inherits from the helper: signal dispositions and fds.

use nix::libc;
use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal};
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicI32, Ordering};

pub(super) fn set_disposition(sig: Signal, handler: SigHandler) {
    let action = SigAction::new(handler, SaFlags::empty(), SigSet::empty());
    // SAFETY: SIG_IGN and SIG_DFL install no handler code, so no signal-safety rules apply.
    unsafe {
        let _ = nix::sys::signal::sigaction(sig, &action);
    }
}

/// The command's PID while the helper waits for it (0 before), for [`pass_on_to_command`].
static COMMAND: AtomicI32 = AtomicI32::new(0);

/// In the helper, once the command is forked: SIGINT, SIGTERM, SIGHUP and SIGQUIT (which the
/// caller passes on to the helper, `interrupt`) go on to the command.
pub(super) fn pass_signals_to(command: i32) {
    COMMAND.store(command, Ordering::SeqCst);
    let action = SigAction::new(
        SigHandler::Handler(pass_on_to_command),
        SaFlags::empty(),
        SigSet::empty(),
    );
    for sig in [
        Signal::SIGINT,
        Signal::SIGTERM,
        Signal::SIGHUP,
        Signal::SIGQUIT,
    ] {
        // SAFETY: the handler only reads an atomic and calls kill(2), both async-signal-safe.
        unsafe {
            let _ = nix::sys::signal::sigaction(sig, &action);
        }
    }
}

/// Signal handler: `sig` to the command's process group (it leads a session of its own), or to
/// the command alone while it has not made one yet.
extern "C" fn pass_on_to_command(sig: libc::c_int) {
    let pid = COMMAND.load(Ordering::SeqCst);
    if pid <= 0 {
        return;
    }
    // SAFETY: kill(2) is async-signal-safe; errno is saved and put back, as a handler must.
    unsafe {
        let saved = *libc::__errno_location();
        if libc::kill(-pid, sig) != 0 {
            libc::kill(pid, sig);
        }
        *libc::__errno_location() = saved;
    }
}

/// Close every fd above 2 except `keep`: close_range(2), or one by one on kernels without it.
pub(super) fn close_fds_above_2(keep: Option<RawFd>) {
    let max = u32::MAX;
    let ranges: Vec<(u32, u32)> = match keep.and_then(|k| u32::try_from(k).ok()) {
        Some(k) if k > 2 => vec![(3, k - 1), (k + 1, max)],
        _ => vec![(3, max)],
    };
    for (lo, hi) in ranges {
        if lo > hi {
            continue;
        }
        // SAFETY: close_range(2) on fd numbers only; the callers no longer use any Rust object
        // that owns one of these fds (they are dropped or forgotten before).
        let r = unsafe { libc::syscall(libc::SYS_close_range, lo, hi, 0u32) };
        if r != 0 {
            let limit = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
                .map(|(soft, _)| soft.min(1 << 20) as u32)
                .unwrap_or(1024);
            for fd in lo..=hi.min(limit) {
                // SAFETY: as above; closing an fd that is not open fails harmlessly with EBADF.
                unsafe {
                    libc::close(fd as RawFd);
                }
            }
        }
    }
}
