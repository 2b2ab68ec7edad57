//! Cgroup control files opened for a change (`effects` decides what to write; this opens, reads
//! and writes the files). Files are opened only below a cgroup mount point, with openat2(2)
//! RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV, from a cgroup
//! path whose components were checked (no `..`, no `.`), so no input can steer a write elsewhere.

use super::roots::DEFAULT_CGROUP_MOUNT;
use rustix::fs::{Mode, OFlags, ResolveFlags};
use rustix::io::Errno;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

/// statfs(2) f_type of cgroup v1 and v2 (linux/magic.h).
const CGROUP_SUPER_MAGIC: i64 = 0x0027_e0eb;
const CGROUP2_SUPER_MAGIC: i64 = 0x6367_7270;

/// One cgroup directory: a mount point and a path inside its hierarchy (`/docker/<id>`).
#[derive(Debug, Clone, Copy)]
pub struct CgroupDir<'a> {
    pub mount: &'a Path,
    pub path: &'a str,
}

impl CgroupDir<'_> {
    /// The directory.
    pub fn dir(&self) -> PathBuf {
        self.mount.join(self.path.trim_start_matches('/'))
    }
}

/// Why a control file could not be opened, read or written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ControlError {
    /// The path or file name could lead outside the cgroup directory.
    Unsafe { path: String, why: &'static str },
    /// The mount point is not a cgroup file system.
    NotCgroupfs(PathBuf),
    /// The cgroup is there but the file is not (its controller or feature is off).
    NoSuchFile,
    /// The kernel refused.
    Os(Errno),
}

/// A cgroup path as it may be used below a mount point: absolute, no empty, `.` or `..`
/// components, no NUL. Returns the path relative to the mount point.
pub fn check_cgroup_path(path: &str) -> Result<&str, ControlError> {
    let unsafe_path = |why| ControlError::Unsafe {
        path: path.to_string(),
        why,
    };
    if !path.starts_with('/') {
        return Err(unsafe_path("a cgroup path starts with /"));
    }
    if path.contains('\0') {
        return Err(unsafe_path("NUL in path"));
    }
    let rel = path.trim_start_matches('/');
    if rel
        .split('/')
        .any(|c| c == ".." || c == "." || (c.is_empty() && !rel.is_empty()))
    {
        return Err(unsafe_path("only plain names between slashes"));
    }
    Ok(rel)
}

/// Mount points under the real /sys/fs/cgroup are checked to be cgroupfs.
pub fn is_live_mount(mount: &Path) -> bool {
    mount.starts_with(DEFAULT_CGROUP_MOUNT)
}

/// Open control file `file` of `at` strictly below its mount point.
fn open_control(at: CgroupDir, file: &str, write: bool) -> Result<OwnedFd, ControlError> {
    if file.contains('/') || file.starts_with('.') || file.is_empty() {
        return Err(ControlError::Unsafe {
            path: file.to_string(),
            why: "not a control file name",
        });
    }
    let rel = check_cgroup_path(at.path)?;
    let mount = rustix::fs::open(
        at.mount,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(ControlError::Os)?;
    let st = rustix::fs::fstatfs(&mount).map_err(ControlError::Os)?;
    // On the live system the mount must be cgroupfs; fixture trees (tests) are plain files.
    let magic = st.f_type as i64;
    if magic != CGROUP_SUPER_MAGIC && magic != CGROUP2_SUPER_MAGIC && is_live_mount(at.mount) {
        return Err(ControlError::NotCgroupfs(at.mount.to_path_buf()));
    }
    let rel_file = if rel.is_empty() {
        file.to_string()
    } else {
        format!("{rel}/{file}")
    };
    // O_TRUNC as the shell's `echo > file` does: a no-op on cgroupfs, and it keeps a fixture
    // tree's plain files exact.
    let flags = if write {
        OFlags::WRONLY | OFlags::TRUNC | OFlags::CLOEXEC | OFlags::NOFOLLOW
    } else {
        OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOFOLLOW
    };
    rustix::fs::openat2(
        &mount,
        rel_file.as_str(),
        flags,
        Mode::empty(),
        ResolveFlags::BENEATH
            | ResolveFlags::NO_SYMLINKS
            | ResolveFlags::NO_MAGICLINKS
            | ResolveFlags::NO_XDEV,
    )
    .map_err(|e| {
        // A file missing from a cgroup that is there: the controller or feature that provides
        // it is off (memsw files need swap accounting), not a vanished cgroup.
        if e == Errno::NOENT && at.dir().is_dir() {
            ControlError::NoSuchFile
        } else {
            ControlError::Os(e)
        }
    })
}

/// Read a control file (trailing white space removed).
pub fn read_control(at: CgroupDir, file: &str) -> Result<String, ControlError> {
    let fd = open_control(at, file, false)?;
    let mut buf = Vec::with_capacity(256);
    let mut chunk = [0u8; 4096];
    loop {
        match rustix::io::read(&fd, &mut chunk) {
            Ok(0) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(Errno::INTR) => continue,
            Err(e) => return Err(ControlError::Os(e)),
        }
    }
    Ok(String::from_utf8_lossy(&buf).trim_end().to_string())
}

/// Write `content` to a control file in one write(2), as cgroupfs expects.
pub fn write_control(at: CgroupDir, file: &str, content: &str) -> Result<(), ControlError> {
    let fd = open_control(at, file, true)?;
    let bytes = content.as_bytes();
    // An empty write is how cpuset.cpus is emptied; a newline makes it a real write(2).
    let bytes: &[u8] = if bytes.is_empty() { b"\n" } else { bytes };
    match rustix::io::write(&fd, bytes) {
        Ok(n) if n == bytes.len() => Ok(()),
        Ok(_) => Err(ControlError::Os(Errno::IO)),
        Err(e) => Err(ControlError::Os(e)),
    }
}

/// Names of the files in the cgroup directory.
pub fn list_control_files(at: CgroupDir) -> Result<Vec<String>, ControlError> {
    check_cgroup_path(at.path)?;
    let entries = std::fs::read_dir(at.dir())
        .map_err(|e| ControlError::Os(Errno::from_io_error(&e).unwrap_or(Errno::IO)))?;
    Ok(entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| e.file_name().into_string().ok())
        .collect())
}

/// A frozen cgroup: which group holds the freeze and which file says so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frozen {
    /// The group frozen itself (the one to thaw): the group asked about, or an ancestor.
    pub path: String,
    /// `freezer.state` (v1) or `cgroup.freeze` (v2).
    pub file: &'static str,
    /// What it says: FROZEN or FREEZING (v1), 1 (v2).
    pub state: String,
}

/// Whether the processes of `at` are frozen or being frozen, and by which group: v1
/// freezer.state FREEZING or FROZEN (it says so also when only an ancestor is frozen; the group
/// to thaw is the nearest with freezer.self_freezing 1), v2 cgroup.freeze 1 of the group or an
/// ancestor, or cgroup.events `frozen 1` (cgroup-v1/freezer-subsystem.rst, cgroup-v2.rst). None
/// when not frozen, when the hierarchy has no freezer, or when the files cannot be read (a write
/// into the group then says why).
pub fn read_frozen(at: CgroupDir) -> Option<Frozen> {
    let read = |path: &str, file: &str| {
        read_control(
            CgroupDir {
                mount: at.mount,
                path,
            },
            file,
        )
        .ok()
    };
    let ancestry = || std::iter::successors(Some(at.path.to_string()), |p| parent_of(p));
    if let Some(state) = read(at.path, "freezer.state") {
        if state.trim() == "THAWED" {
            return None;
        }
        let path = ancestry()
            .find(|p| read(p, "freezer.self_freezing").is_some_and(|s| s.trim() == "1"))
            .unwrap_or_else(|| at.path.to_string());
        return Some(Frozen {
            path,
            file: "freezer.state",
            state: state.trim().to_string(),
        });
    }
    let frozen_v2 = |path: String| {
        read(&path, "cgroup.freeze")
            .is_some_and(|s| s.trim() == "1")
            .then(|| Frozen {
                path,
                file: "cgroup.freeze",
                state: "1".into(),
            })
    };
    ancestry().find_map(frozen_v2).or_else(|| {
        let events = read(at.path, "cgroup.events")?;
        events
            .lines()
            .any(|l| l.trim() == "frozen 1")
            .then(|| Frozen {
                path: at.path.to_string(),
                file: "cgroup.freeze",
                state: "1".into(),
            })
    })
}

/// The parent of a cgroup path; None for the root.
fn parent_of(path: &str) -> Option<String> {
    let trimmed = path.trim_end_matches('/');
    let (parent, _) = trimmed.rsplit_once('/')?;
    Some(if parent.is_empty() { "/" } else { parent }.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frozen_groups_and_the_group_to_thaw() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let write = |rel: &str, file: &str, text: &str| {
            let dir = tmp.path().join(rel);
            std::fs::create_dir_all(&dir).expect("mkdir");
            std::fs::write(dir.join(file), text).expect("write");
        };
        let at = |path| CgroupDir {
            mount: tmp.path(),
            path,
        };
        // v1: a child of a frozen group reads FROZEN too; the group to thaw is the parent.
        write("v1/a", "freezer.state", "FROZEN\n");
        write("v1/a", "freezer.self_freezing", "1\n");
        write("v1/a/b", "freezer.state", "FROZEN\n");
        write("v1/a/b", "freezer.self_freezing", "0\n");
        write("v1/c", "freezer.state", "THAWED\n");
        let f = read_frozen(at("/v1/a/b")).expect("frozen");
        assert_eq!(
            (f.path.as_str(), f.file, f.state.as_str()),
            ("/v1/a", "freezer.state", "FROZEN")
        );
        assert_eq!(read_frozen(at("/v1/c")), None);
        // v2: cgroup.freeze of an ancestor, or cgroup.events of the group itself.
        write("v2", "cgroup.freeze", "1\n");
        write("v2/d", "cgroup.freeze", "0\n");
        write("v2/d", "cgroup.events", "populated 1\nfrozen 1\n");
        write("w2", "cgroup.freeze", "0\n");
        write("w2", "cgroup.events", "populated 1\nfrozen 0\n");
        assert_eq!(read_frozen(at("/v2/d")).map(|f| f.path), Some("/v2".into()));
        assert_eq!(read_frozen(at("/w2")), None);
        // No freezer at all (a named hierarchy): not frozen.
        write("n", "cgroup.procs", "");
        assert_eq!(read_frozen(at("/n")), None);
    }

    #[test]
    fn cgroup_paths_cannot_escape() {
        assert_eq!(check_cgroup_path("/").ok(), Some(""));
        assert_eq!(check_cgroup_path("/a/b").ok(), Some("a/b"));
        for bad in ["a/b", "/a/../b", "/..", "/a/./b", "/a//b", "/a\0b"] {
            assert!(check_cgroup_path(bad).is_err(), "{bad}");
        }
    }
}
