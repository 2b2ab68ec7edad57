//! The nsview binary itself, opened to be copied before `nsview enter` runs it as its helper
//! (effects::enter copies it into a sealed memfd, as runc does since CVE-2019-5736).

use super::error::{SysError, SysResult};
use super::roots::Roots;
use std::fs::File;
use std::os::fd::RawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// /proc/self/exe: the binary this process runs.
pub fn self_exe_path(roots: &Roots) -> PathBuf {
    roots.proc.join("self/exe")
}

/// /proc/self/fd/FD: exec(2) of this path runs the file `fd` refers to, as fexecve(3) does.
pub fn self_fd_path(roots: &Roots, fd: RawFd) -> PathBuf {
    roots.proc.join(format!("self/fd/{fd}"))
}

/// Open an executable (normally [`self_exe_path`]) for reading, close-on-exec.
pub fn open_executable(path: &Path) -> SysResult<File> {
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| SysError::io(path, e))
}
