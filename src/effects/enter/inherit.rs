//! What a forked or exec'd process inherits from the helper: signal dispositions and fds.

use nix::libc;
use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal};
use std::os::fd::RawFd;

pub(super) fn set_disposition(sig: Signal, handler: SigHandler) {
    let action = SigAction::new(handler, SaFlags::empty(), SigSet::empty());
    // SAFETY: SIG_IGN and SIG_DFL install no handler code, so no signal-safety rules apply.
    unsafe {
        let _ = nix::sys::signal::sigaction(sig, &action);
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
