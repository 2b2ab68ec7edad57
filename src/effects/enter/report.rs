//! How the helper and its child tell the caller what went wrong.

use super::error::EnterError;
use crate::model::format::printable;
use nix::libc;
use std::os::fd::{BorrowedFd, RawFd};

/// Where the helper sends its one-line error: the pipe from [`run_inside`](super::run_inside), or stderr.
#[derive(Debug, Clone, Copy)]
pub(super) struct Reporter {
    pub(super) fd: Option<RawFd>,
}

impl Reporter {
    /// Use `fd` if it is open, and keep it out of anything exec'd.
    pub(super) fn adopt(fd: Option<RawFd>) -> Reporter {
        let fd = fd.filter(|&fd| {
            // SAFETY: F_GETFD/F_SETFD on an fd number only read and set its flags.
            unsafe {
                fd > 2
                    && libc::fcntl(fd, libc::F_GETFD) != -1
                    && libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) != -1
            }
        });
        Reporter { fd }
    }

    pub(super) fn send(&self, e: &EnterError) {
        match self.fd {
            Some(fd) => {
                let line = format!("{}\n", e.encode());
                // SAFETY: `fd` was checked open in `adopt`; it is closed only right before exec or
                // by the parent after fork, after which `send` is not called.
                let fd = unsafe { BorrowedFd::borrow_raw(fd) };
                let _ = nix::unistd::write(fd, line.as_bytes());
            }
            None => eprintln!("nsview: {}", printable(&e.to_string())),
        }
    }
}

pub(super) fn warn(msg: &str) {
    eprintln!("nsview: warning: {}", printable(msg));
}
