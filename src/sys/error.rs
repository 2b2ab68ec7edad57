//! Typed errors for the readers: every error names the kernel file it came from.

use std::io;
use std::path::{Path, PathBuf};

/// An error from reading (or writing) one kernel file.
#[derive(Debug, thiserror::Error)]
pub enum SysError {
    /// The file or its process/cgroup disappeared (ENOENT, ESRCH): callers treat this as data.
    #[error("{path}: not found")]
    Vanished { path: PathBuf },
    /// Permission denied (EACCES, EPERM): usually "needs root".
    #[error("{path}: permission denied")]
    Permission { path: PathBuf },
    /// Any other I/O error.
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    /// The file was read but its content was not what the kernel documents.
    #[error("{path}: cannot parse: {reason}")]
    Parse { path: PathBuf, reason: String },
}

impl SysError {
    /// Classify an `io::Error` for `path`.
    pub fn io(path: impl AsRef<Path>, source: io::Error) -> Self {
        let path = path.as_ref().to_path_buf();
        match source.raw_os_error() {
            Some(libc_errno) if is_vanished(libc_errno) => SysError::Vanished { path },
            Some(libc_errno) if is_permission(libc_errno) => SysError::Permission { path },
            _ if source.kind() == io::ErrorKind::NotFound => SysError::Vanished { path },
            _ if source.kind() == io::ErrorKind::PermissionDenied => SysError::Permission { path },
            _ => SysError::Io { path, source },
        }
    }

    /// Classify a `nix` errno for `path`.
    pub fn errno(path: impl AsRef<Path>, errno: nix::errno::Errno) -> Self {
        Self::io(path, io::Error::from_raw_os_error(errno as i32))
    }

    /// A parse failure of the content of `path`.
    pub fn parse(path: impl AsRef<Path>, reason: impl Into<String>) -> Self {
        SysError::Parse {
            path: path.as_ref().to_path_buf(),
            reason: reason.into(),
        }
    }

    /// True when the object behind the file is gone (a process exited, a cgroup was removed).
    pub fn is_vanished(&self) -> bool {
        matches!(self, SysError::Vanished { .. })
    }

    /// True when reading needs more privilege.
    pub fn is_permission(&self) -> bool {
        matches!(self, SysError::Permission { .. })
    }

    /// The path the error is about.
    pub fn path(&self) -> &Path {
        match self {
            SysError::Vanished { path }
            | SysError::Permission { path }
            | SysError::Io { path, .. }
            | SysError::Parse { path, .. } => path,
        }
    }
}

fn is_vanished(errno: i32) -> bool {
    use nix::errno::Errno;
    // ESRCH: the task exited between readdir and open; ENODEV: a cgroup file of a removed group.
    [Errno::ENOENT, Errno::ESRCH, Errno::ENODEV]
        .iter()
        .any(|e| *e as i32 == errno)
}

fn is_permission(errno: i32) -> bool {
    use nix::errno::Errno;
    [Errno::EACCES, Errno::EPERM]
        .iter()
        .any(|e| *e as i32 == errno)
}

pub type SysResult<T> = Result<T, SysError>;
