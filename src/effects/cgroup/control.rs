//! The files a change reads and writes, through the readers of `sys`: a location's control files
//! (opened safely by [`crate::sys::cgroup_control`]) and the /proc files of a process being moved.
//! Errors name the file and what was being done.

use super::Location;
use super::error::CgroupError;
use crate::sys::Roots;
use crate::sys::cgroup_control::{self, CgroupDir, ControlError};
use crate::sys::{SysError, procfs};
use rustix::io::Errno;
use std::collections::BTreeMap;

fn dir(loc: &Location) -> CgroupDir<'_> {
    CgroupDir {
        mount: &loc.mount,
        path: &loc.path,
    }
}

/// The error of `file` of `loc`, `value` being what was written (None for a read).
fn error(loc: &Location, file: &str, value: Option<&str>, e: ControlError) -> CgroupError {
    match e {
        ControlError::Unsafe { path, why } => CgroupError::Unsafe { path, why },
        ControlError::NotCgroupfs(mount) => CgroupError::NotCgroupfs(mount),
        ControlError::NoSuchFile => CgroupError::Unsupported {
            what: format!(
                "{}: no {file} here (the controller or kernel feature that provides it is not \
                 enabled for this cgroup{})",
                loc.dir().display(),
                if file.contains("memsw") || file.contains("swap") {
                    "; swap files need swap accounting"
                } else {
                    ""
                }
            ),
        },
        ControlError::Os(errno) => CgroupError::kernel(loc, file, value, errno),
    }
}

/// Read a control file (trailing newline removed).
pub fn read_control(loc: &Location, file: &str) -> Result<String, CgroupError> {
    cgroup_control::read_control(dir(loc), file).map_err(|e| error(loc, file, None, e))
}

/// Write `content` to a control file in one write(2), as cgroupfs expects.
pub(crate) fn write_control(loc: &Location, file: &str, content: &str) -> Result<(), CgroupError> {
    cgroup_control::write_control(dir(loc), file, content)
        .map_err(|e| error(loc, file, Some(content), e))
}

/// Whether `loc` is frozen (or being frozen), by itself or an ancestor: see
/// [`cgroup_control::read_frozen`].
pub(crate) fn frozen(loc: &Location) -> Option<cgroup_control::Frozen> {
    cgroup_control::read_frozen(dir(loc))
}

/// Names of the files in `loc`'s directory.
pub(crate) fn list_files(loc: &Location) -> Result<Vec<String>, CgroupError> {
    cgroup_control::list_control_files(dir(loc)).map_err(|e| match e {
        ControlError::Os(errno) => CgroupError::Kernel {
            path: loc.dir(),
            file: String::new(),
            value: None,
            errno,
        },
        other => error(loc, "", None, other),
    })
}

/// Whether `loc` is on the live cgroup mounts (not a fixture tree).
pub(crate) fn is_live(loc: &Location) -> bool {
    cgroup_control::is_live_mount(&loc.mount)
}

/// The parent of a cgroup path, None for the root.
pub(crate) fn parent_path(path: &str) -> Option<String> {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return None;
    }
    let (parent, _) = trimmed.rsplit_once('/')?;
    Some(if parent.is_empty() {
        "/".into()
    } else {
        parent.into()
    })
}

/// /proc/PID/cgroup as hierarchy key -> path.
pub(crate) fn process_cgroups(
    roots: &Roots,
    pid: i32,
) -> Result<BTreeMap<String, String>, CgroupError> {
    let lines = procfs::read_pid_cgroup(roots, pid).map_err(|e| CgroupError::Kernel {
        path: roots.pid_dir(pid).join("cgroup"),
        file: "cgroup".into(),
        value: None,
        errno: errno_of(&e),
    })?;
    Ok(lines.into_iter().map(|l| (l.key, l.path)).collect())
}

/// /proc/PID/stat field 22 (starttime): tells a process from a later one with the same PID.
pub fn start_time(roots: &Roots, pid: i32) -> Option<u64> {
    procfs::read_pid_stat(roots, pid).ok()?.start_time
}

fn errno_of(e: &SysError) -> Errno {
    match e {
        SysError::Vanished { .. } => Errno::NOENT,
        SysError::Permission { .. } => Errno::ACCESS,
        SysError::Io { source, .. } => Errno::from_io_error(source).unwrap_or(Errno::IO),
        SysError::Parse { .. } => Errno::IO,
    }
}
