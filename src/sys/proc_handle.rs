//! A process held open to be entered (`nsview enter`), and the host's own namespace files.
//!
//! [`ProcHandle`] holds a pidfd for the process (Linux 5.3) and its /proc/PID directory; every
//! file is then read or opened through that directory, so none can belong to another process
//! that reused the PID, and the pidfd tells whether the process still lives. The namespace, root
//! and cwd fds it returns are what setns(2), fchdir(2) and chroot(2) are later given: opening them
//! is reading the kernel's files, joining them is the effect (effects::enter).

use super::error::{SysError, SysResult};
use super::parse::{self, CgroupLine};
use super::roots::Roots;
use crate::model::NsType;
use nix::libc;
use rustix::fs::{Mode, OFlags};
use std::fs::File;
use std::io::Read;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Files read from a process (environ, status) are cut off at this size.
const READ_LIMIT: u64 = 1 << 20;

/// A process held open: its pidfd (where the kernel has pidfd_open) and its /proc/PID directory.
pub struct ProcHandle {
    pidfd: Option<OwnedFd>,
    dir: OwnedFd,
    path: PathBuf,
}

impl ProcHandle {
    /// Open a pidfd for `pid`, then /proc/PID. `Vanished` when the process is gone; without
    /// pidfd_open (ENOSYS before Linux 5.3) the handle has no pidfd and relies on /proc alone.
    pub fn open(roots: &Roots, pid: i32) -> SysResult<ProcHandle> {
        let path = roots.pid_dir(pid);
        let rpid = rustix::process::Pid::from_raw(pid)
            .ok_or_else(|| SysError::parse(&path, format!("bad PID {pid}")))?;
        let pidfd = match rustix::process::pidfd_open(rpid, rustix::process::PidfdFlags::empty()) {
            Ok(fd) => Some(fd),
            Err(rustix::io::Errno::SRCH) => return Err(SysError::Vanished { path }),
            Err(_) => None,
        };
        let dir = rustix::fs::open(
            &path,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| SysError::io(&path, e.into()))?;
        Ok(ProcHandle { pidfd, dir, path })
    }

    /// The pidfd, for setns(2) on all namespaces at once (Linux 5.8).
    pub fn pidfd(&self) -> Option<BorrowedFd<'_>> {
        self.pidfd.as_ref().map(|fd| fd.as_fd())
    }

    /// Whether the process still lives: signal 0 through the pidfd, else /proc/PID/stat is
    /// readable through the directory.
    pub fn is_alive(&self) -> bool {
        match &self.pidfd {
            Some(pidfd) => pidfd_alive(pidfd.as_fd()),
            None => self.read_limited("stat").is_ok(),
        }
    }

    /// Field 22 of /proc/PID/stat: the start time in clock ticks after boot.
    pub fn read_stat_start_time(&self) -> SysResult<u64> {
        let stat = self.read_limited("stat")?;
        parse::parse_start_time(&String::from_utf8_lossy(&stat))
            .ok_or_else(|| SysError::parse(self.path.join("stat"), "no start time"))
    }

    /// /proc/PID/environ: NUL-separated `NAME=value` entries, cut off at 1 MiB.
    pub fn read_environ(&self) -> SysResult<Vec<u8>> {
        self.read_limited("environ")
    }

    /// /proc/PID/cgroup: the process's cgroup in each hierarchy.
    pub fn read_cgroup(&self) -> SysResult<Vec<CgroupLine>> {
        let text = self.read_limited("cgroup")?;
        Ok(parse::parse_proc_pid_cgroup(&String::from_utf8_lossy(
            &text,
        )))
    }

    /// The credentials in /proc/PID/status, as seen from the reader's user namespace.
    pub fn read_status_creds(&self) -> SysResult<StatusCreds> {
        let text = self.read_limited("status")?;
        parse_status_creds(&String::from_utf8_lossy(&text))
            .ok_or_else(|| SysError::parse(self.path.join("status"), "no credentials"))
    }

    /// Open /proc/PID/ns/TYPE itself: an nsfs file for setns(2).
    pub fn open_ns(&self, t: NsType) -> SysResult<OwnedFd> {
        let name = format!("ns/{}", t.proc_file());
        rustix::fs::openat(
            self.dir.as_fd(),
            name.as_str(),
            OFlags::RDONLY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| SysError::io(self.path.join(&name), e.into()))
    }

    /// /proc/PID/root as an O_PATH directory fd (for fchdir and chroot).
    pub fn open_root(&self) -> SysResult<OwnedFd> {
        self.open_path_dir("root")
    }

    /// /proc/PID/cwd as an O_PATH directory fd (for fchdir).
    pub fn open_cwd(&self) -> SysResult<OwnedFd> {
        self.open_path_dir("cwd")
    }

    fn open_path_dir(&self, name: &str) -> SysResult<OwnedFd> {
        rustix::fs::openat(
            self.dir.as_fd(),
            name,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| SysError::io(self.path.join(name), e.into()))
    }

    /// Read a file below /proc/PID of at most [`READ_LIMIT`] bytes.
    fn read_limited(&self, name: &str) -> SysResult<Vec<u8>> {
        let path = || self.path.join(name);
        let fd = rustix::fs::openat(
            self.dir.as_fd(),
            name,
            OFlags::RDONLY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| SysError::io(path(), e.into()))?;
        let mut out = Vec::new();
        File::from(fd)
            .take(READ_LIMIT)
            .read_to_end(&mut out)
            .map_err(|e| SysError::io(path(), e))?;
        Ok(out)
    }
}

/// Signal 0 through the pidfd: false once the process has exited.
fn pidfd_alive(pidfd: BorrowedFd<'_>) -> bool {
    // SAFETY: pidfd_send_signal(2) with a valid fd, signal 0 (existence check only), no siginfo
    // and no flags; no memory is passed.
    let r = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            0,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        )
    };
    r == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

/// Field 22 of /proc/PID/stat of `pid` (start time in clock ticks after boot).
pub fn read_start_time(roots: &Roots, pid: i32) -> SysResult<u64> {
    let path = roots.pid_dir(pid).join("stat");
    let text = std::fs::read_to_string(&path).map_err(|e| SysError::io(&path, e))?;
    parse::parse_start_time(&text).ok_or_else(|| SysError::parse(&path, "no start time"))
}

/// /proc/PID/root of `pid` as an O_PATH directory fd, to look at files inside the process's root.
pub fn open_pid_root(roots: &Roots, pid: i32) -> SysResult<OwnedFd> {
    let path = roots.pid_dir(pid).join("root");
    rustix::fs::open(
        &path,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| SysError::io(&path, e.into()))
}

/// Whether /proc/self/ns/TYPE exists: the kernel has namespaces of type `t`.
pub fn self_ns_exists(roots: &Roots, t: NsType) -> bool {
    self_ns_path(roots, t).symlink_metadata().is_ok()
}

/// The inode of /proc/self/ns/TYPE: the namespace of type `t` the reader is in.
pub fn read_self_ns_inode(roots: &Roots, t: NsType) -> SysResult<u64> {
    read_ns_inode(&self_ns_path(roots, t))
}

fn self_ns_path(roots: &Roots, t: NsType) -> PathBuf {
    roots.proc.join("self/ns").join(t.proc_file())
}

/// The inode of the namespace behind an nsfs file (`/proc/PID/ns/TYPE`, whose link stat follows,
/// or a bind mount such as `/run/netns/x`).
pub fn read_ns_inode(path: &Path) -> SysResult<u64> {
    std::fs::metadata(path)
        .map(|m| m.ino())
        .map_err(|e| SysError::io(path, e))
}

/// Open `path` if it is the nsfs file of namespace `t` with `inode`; `None` when something else is
/// there now. Whatever is at the path is only opened, never read: a FIFO or a terminal put there
/// cannot block or become the controlling terminal; the inode and NS_GET_NSTYPE decide.
pub fn open_nsfs_file(path: &Path, t: NsType, inode: u64) -> SysResult<Option<OwnedFd>> {
    let flags = OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NONBLOCK | OFlags::NOCTTY;
    let fd =
        rustix::fs::open(path, flags, Mode::empty()).map_err(|e| SysError::io(path, e.into()))?;
    let file = File::from(fd);
    let ino = file.metadata().map(|m| m.ino()).unwrap_or(0);
    Ok((ino == inode && super::nsfs::read_nstype(&file) == Some(t)).then(|| OwnedFd::from(file)))
}

/// The number of threads of the reading process (entries of /proc/self/task).
pub fn count_self_tasks(roots: &Roots) -> SysResult<usize> {
    let path = roots.proc.join("self/task");
    std::fs::read_dir(&path)
        .map(|d| d.count())
        .map_err(|e| SysError::io(&path, e))
}

/// Credentials from /proc/PID/status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusCreds {
    /// Real, effective, saved.
    pub uid: [u32; 3],
    pub gid: [u32; 3],
    pub groups: Vec<u32>,
    pub inheritable: u64,
    pub permitted: u64,
    pub effective: u64,
    pub bounding: u64,
    pub ambient: u64,
    pub no_new_privs: bool,
    /// The `Seccomp:` mode: 0 none, 1 strict, 2 filter (0 when the kernel does not say).
    pub seccomp: u32,
}

/// Uid, Gid, Groups, the capability sets and NoNewPrivs of a status file; `None` when one of them
/// is missing (CapAmb may be: kernels before 4.3).
pub fn parse_status_creds(status: &str) -> Option<StatusCreds> {
    let mut uid = None;
    let mut gid = None;
    let mut groups = Vec::new();
    let mut caps = [None::<u64>; 5];
    let mut no_new_privs = false;
    let mut seccomp = 0;
    let ids = |v: &str| -> Option<[u32; 3]> {
        let v: Vec<u32> = v
            .split_ascii_whitespace()
            .map(|x| x.parse().ok())
            .collect::<Option<_>>()?;
        Some([*v.first()?, *v.get(1)?, *v.get(2)?])
    };
    for line in status.lines() {
        let Some((key, v)) = line.split_once(':') else {
            continue;
        };
        let v = v.trim();
        let cap = |i: usize, caps: &mut [Option<u64>; 5]| caps[i] = u64::from_str_radix(v, 16).ok();
        match key {
            "Uid" => uid = ids(v),
            "Gid" => gid = ids(v),
            "Groups" => {
                groups = v
                    .split_ascii_whitespace()
                    .filter_map(|g| g.parse().ok())
                    .collect()
            }
            "CapInh" => cap(0, &mut caps),
            "CapPrm" => cap(1, &mut caps),
            "CapEff" => cap(2, &mut caps),
            "CapBnd" => cap(3, &mut caps),
            "CapAmb" => cap(4, &mut caps),
            "NoNewPrivs" => no_new_privs = v == "1",
            "Seccomp" => seccomp = v.parse().unwrap_or(0),
            _ => {}
        }
    }
    Some(StatusCreds {
        uid: uid?,
        gid: gid?,
        groups,
        inheritable: caps[0]?,
        permitted: caps[1]?,
        effective: caps[2]?,
        bounding: caps[3]?,
        ambient: caps[4].unwrap_or(0),
        no_new_privs,
        seccomp,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creds_from_status() {
        let status = "Name:\tsleep\nUid:\t1000\t1001\t1002\t1001\nGid:\t50\t51\t52\t51\n\
                      Groups:\t4 24 \nCapInh:\t0000000000000000\nCapPrm:\t00000000a80425fb\n\
                      CapEff:\t00000000a80425fb\nCapBnd:\t00000000a80425fb\n\
                      CapAmb:\t0000000000000000\nNoNewPrivs:\t1\n";
        let c = parse_status_creds(status).expect("parses");
        assert_eq!(c.uid, [1000, 1001, 1002]);
        assert_eq!(c.gid, [50, 51, 52]);
        assert_eq!(c.groups, vec![4, 24]);
        assert_eq!(c.bounding, 0xa80425fb);
        assert!(c.no_new_privs);
    }
}
