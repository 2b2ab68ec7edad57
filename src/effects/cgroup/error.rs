//! Everything that can go wrong when changing a cgroup, as one line for the admin, with what a
//! refused write means per file and errno (cgroup-v1/*.rst, cgroup-v2.rst).

use super::Location;
use crate::effects::journal::JournalError;
use crate::model::target::TargetError;
use crate::policy::limits::InputError;
use rustix::io::Errno;
use std::path::PathBuf;

/// Everything that can go wrong when changing a cgroup, as one line for the admin.
#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error(transparent)]
    Target(#[from] TargetError),
    #[error(
        "nsview is read-only (--read-only, or read_only = true in the config): {0} refused, nothing written"
    )]
    ReadOnly(String),
    #[error("{}: {}", path.display(), explain(file, value.as_deref(), *errno))]
    Kernel {
        path: PathBuf,
        file: String,
        /// What was being written, None for a read.
        value: Option<String>,
        errno: Errno,
    },
    #[error("refusing {path}: {why}")]
    Unsafe { path: String, why: &'static str },
    #[error("{}: not a cgroup file system", .0.display())]
    NotCgroupfs(PathBuf),
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error("{what}")]
    Unsupported { what: String },
    #[error("{first}; {rollback}")]
    RolledBack {
        first: Box<CgroupError>,
        rollback: String,
    },
    #[error("{what}")]
    Conflict { what: String },
    /// What the change is about is gone (a container its runtime no longer knows).
    #[error("{what}")]
    Gone { what: String },
}

impl CgroupError {
    /// The cgroup or process behind the error is gone.
    pub fn is_vanished(&self) -> bool {
        matches!(
            self,
            CgroupError::Kernel {
                errno: Errno::NOENT | Errno::NODEV | Errno::SRCH,
                ..
            } | CgroupError::Gone { .. }
        )
    }

    pub(crate) fn kernel(loc: &Location, file: &str, value: Option<&str>, errno: Errno) -> Self {
        CgroupError::Kernel {
            path: loc.file(file),
            file: file.to_string(),
            value: value.map(str::to_string),
            errno,
        }
    }

    /// A refusal of policy: one line saying why nothing was written.
    pub(crate) fn refused(what: impl Into<String>) -> Self {
        CgroupError::Conflict { what: what.into() }
    }
}

/// What a refused write means, per file and errno (cgroup-v1/*.rst, cgroup-v2.rst).
fn explain(file: &str, value: Option<&str>, errno: Errno) -> String {
    let what = value.map_or_else(|| "reading".to_string(), |v| format!("writing '{v}'"));
    let name = errno_name(errno);
    let why = match (errno, file) {
        (Errno::NOENT | Errno::NODEV, _) => "the cgroup vanished".to_string(),
        (Errno::PERM, "devices.allow") => {
            "the parent cgroup does not allow that device (a child can have only what its \
             parent has)"
                .into()
        }
        (Errno::ACCESS | Errno::PERM, _) => {
            "permission denied: changing cgroups needs root (or a cgroup delegated to you)".into()
        }
        (Errno::ROFS, _) => {
            "the cgroup file system is mounted read-only here (inside a container?)".into()
        }
        (Errno::BUSY, "memory.limit_in_bytes" | "memory.memsw.limit_in_bytes") => {
            "the group uses more memory than that and the kernel could not reclaim enough; the old \
             limit stays"
                .into()
        }
        (Errno::BUSY, "cgroup.procs") => {
            "a v2 cgroup that enables controllers for its children cannot hold processes (no \
             internal processes); pick a leaf"
                .into()
        }
        (Errno::INVAL, "memory.limit_in_bytes") => {
            "must stay <= memory.memsw.limit_in_bytes (memory + swap): raise that first, or set \
             both"
                .into()
        }
        (Errno::INVAL, "memory.memsw.limit_in_bytes") => "must be >= memory.limit_in_bytes".into(),
        (Errno::INVAL, "cpu.cfs_quota_us" | "cpu.cfs_period_us" | "cpu.max") => {
            "does not fit the parent's CPU bandwidth or the allowed range".into()
        }
        (Errno::INVAL | Errno::NOSPC, "cpuset.cpus" | "cpuset.mems") => {
            "not within the parent's set, offline, or empty while the group has processes".into()
        }
        (Errno::INVAL, "cgroup.procs") => {
            "this process cannot be moved (a kernel thread, or a thread of a process)".into()
        }
        (Errno::SRCH, "cgroup.procs") => "the process is gone".into(),
        (Errno::INVAL, _) => "the kernel rejected the value".into(),
        _ => errno.to_string(),
    };
    format!("{what}: {why} ({name})")
}

fn errno_name(errno: Errno) -> &'static str {
    match errno {
        Errno::NOENT => "ENOENT",
        Errno::NODEV => "ENODEV",
        Errno::ACCESS => "EACCES",
        Errno::PERM => "EPERM",
        Errno::ROFS => "EROFS",
        Errno::BUSY => "EBUSY",
        Errno::INVAL => "EINVAL",
        Errno::NOSPC => "ENOSPC",
        Errno::SRCH => "ESRCH",
        Errno::OPNOTSUPP => "EOPNOTSUPP",
        _ => "errno",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_explained() {
        let e = explain("memory.limit_in_bytes", Some("1048576"), Errno::BUSY);
        assert!(
            e.contains("could not reclaim") && e.ends_with("(EBUSY)"),
            "{e}"
        );
        let e = explain("cpu.shares", Some("2"), Errno::ROFS);
        assert!(e.contains("read-only"), "{e}");
        let e = explain("cpu.shares", Some("2"), Errno::NOENT);
        assert!(e.contains("vanished"), "{e}");
    }
}
