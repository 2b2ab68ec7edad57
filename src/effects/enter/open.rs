//! Everything the helper opens before it joins anything.

use super::error::{EnterError, is_gone, is_permission};
use super::plan::{EnterSpec, NsJoin, NsSource};
use super::target_fs::READ_LIMIT;
use crate::model::NsType;
use crate::sys::{Roots, nsfs};
use nix::libc;
use rustix::fs::{Mode, OFlags};
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

/// Everything the helper opens before it joins anything.
#[derive(Default)]
pub(super) struct Opened {
    pub(super) pidfd: Option<OwnedFd>,
    pub(super) proc_dir: Option<OwnedFd>,
    pub(super) ns: Vec<OpenNs>,
    pub(super) root: Option<OwnedFd>,
    pub(super) cwd: Option<OwnedFd>,
    pub(super) environ: Option<Vec<u8>>,
}

pub(super) struct OpenNs {
    pub(super) ns_type: NsType,
    pub(super) fd: OwnedFd,
    /// Opened from /proc/PID/ns (so setns on the pidfd joins the same namespace).
    pub(super) from_process: bool,
    /// The helper is in this namespace already (joining would be a no-op, or EINVAL for user).
    pub(super) ours: bool,
}

/// Open the process's directory, namespaces, root, cwd and environment (see the module docs).
pub(super) fn open_target(spec: &EnterSpec) -> Result<Opened, EnterError> {
    let failed = |reason: String| EnterError::Failed {
        target: spec.target.clone(),
        reason,
    };
    let roots = Roots::default();
    let mut o = Opened::default();
    let gone = |pid: i32| EnterError::TargetGone(format!("process {pid} exited"));
    if let Some(pid) = spec.pid {
        let rpid = rustix::process::Pid::from_raw(pid)
            .ok_or_else(|| EnterError::Invalid(format!("bad PID {pid}")))?;
        o.pidfd = match rustix::process::pidfd_open(rpid, rustix::process::PidfdFlags::empty()) {
            Ok(fd) => Some(fd),
            Err(rustix::io::Errno::SRCH) => return Err(gone(pid)),
            // ENOSYS before Linux 5.3: fall back to the /proc files, checked by start time.
            Err(_) => None,
        };
        let path = roots.pid_dir(pid);
        let dir = rustix::fs::open(
            &path,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| {
            let e = io::Error::from(e);
            if is_gone(&e) {
                gone(pid)
            } else {
                failed(format!("{}: {e}", path.display()))
            }
        })?;
        let stat = read_proc_at(dir.as_fd(), "stat").map_err(|_| gone(pid))?;
        let now = crate::sys::parse::parse_start_time(&String::from_utf8_lossy(&stat));
        if let (Some(then), Some(now)) = (spec.start_time, now)
            && then != now
        {
            return Err(EnterError::TargetGone(format!(
                "process {pid} exited (the PID now names another process)"
            )));
        }
        o.proc_dir = Some(dir);
    }
    let self_ns = roots.proc.join("self/ns");
    for join in &spec.namespaces {
        let t = join.ns_type;
        let ours = match std::fs::metadata(self_ns.join(t.proc_file())) {
            Ok(m) => m.ino(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(EnterError::Unsupported(t));
            }
            Err(e) => return Err(failed(format!("/proc/self/ns/{t}: {e}"))),
        };
        let (fd, from_process) = match &join.source {
            NsSource::Process => {
                let (Some(pid), Some(dir)) = (spec.pid, &o.proc_dir) else {
                    return Err(EnterError::Invalid(format!(
                        "the {t} namespace is to be joined through a process, but there is none"
                    )));
                };
                let name = format!("ns/{}", t.proc_file());
                let fd = rustix::fs::openat(
                    dir.as_fd(),
                    name.as_str(),
                    OFlags::RDONLY | OFlags::CLOEXEC,
                    Mode::empty(),
                )
                .map_err(|e| {
                    let e = io::Error::from(e);
                    if is_permission(&e) {
                        EnterError::PermissionDenied(format!(
                            "cannot open the {t} namespace of PID {pid}"
                        ))
                    } else if is_gone(&e) {
                        gone(pid)
                    } else {
                        failed(format!("/proc/{pid}/{name}: {e}"))
                    }
                })?;
                (fd, true)
            }
            NsSource::BindMount(paths) => (open_bind_mount(join, paths)?, false),
        };
        let ino = rustix::fs::fstat(&fd)
            .map_err(|e| failed(format!("fstat of the {t} namespace: {e}")))?
            .st_ino;
        if ino != join.inode {
            return Err(failed(format!(
                "its {t} namespace changed since it was looked up ({t}:[{}], now {t}:[{ino}]); \
                 look it up again",
                join.inode
            )));
        }
        o.ns.push(OpenNs {
            ns_type: t,
            fd,
            from_process,
            ours: ours == ino,
        });
    }
    if let (Some(pid), Some(dir)) = (spec.pid, &o.proc_dir) {
        if spec.types().contains(&NsType::Mnt) {
            let open_dir = |name: &str| {
                rustix::fs::openat(
                    dir.as_fd(),
                    name,
                    OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
                    Mode::empty(),
                )
                .map_err(io::Error::from)
            };
            o.root = Some(open_dir("root").map_err(|e| {
                if is_permission(&e) {
                    EnterError::PermissionDenied(format!("cannot open the root of PID {pid}"))
                } else if is_gone(&e) {
                    gone(pid)
                } else {
                    failed(format!("/proc/{pid}/root: {e}"))
                }
            })?);
            // A cwd that cannot be opened (deleted) is replaced by the root later.
            o.cwd = open_dir("cwd").ok();
        }
        o.environ = match read_proc_at(dir.as_fd(), "environ") {
            Ok(env) => Some(env),
            Err(e) if spec.env_from_target => {
                return Err(if is_permission(&e) {
                    EnterError::PermissionDenied(format!(
                        "cannot read the environment of PID {pid}"
                    ))
                } else {
                    gone(pid)
                });
            }
            Err(_) => None,
        };
        // Everything above was opened while the process lived (it lives now, and a PID is not
        // reused while its process lives): it all belongs to the one process of the plan.
        let alive = match &o.pidfd {
            Some(pidfd) => pidfd_alive(pidfd.as_fd()),
            None => read_proc_at(dir.as_fd(), "stat").is_ok(),
        };
        if !alive {
            return Err(gone(pid));
        }
    }
    Ok(o)
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
    r == 0 || io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

/// Open the first of `paths` that is an nsfs file of the namespace `join` names.
fn open_bind_mount(join: &NsJoin, paths: &[PathBuf]) -> Result<OwnedFd, EnterError> {
    let t = join.ns_type;
    let mut denied = None;
    for p in paths {
        // Whatever is at the path now is only opened, never read: a FIFO or a terminal put there
        // cannot block or become the controlling terminal; the inode and type decide.
        let flags = OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NONBLOCK | OFlags::NOCTTY;
        match rustix::fs::open(p, flags, Mode::empty()) {
            Ok(fd) => {
                let file = File::from(fd);
                let ino = file.metadata().map(|m| m.ino()).unwrap_or(0);
                if ino == join.inode && nsfs::read_nstype(&file) == Some(t) {
                    return Ok(OwnedFd::from(file));
                }
            }
            Err(e) if is_permission(&io::Error::from(e)) => denied = Some(p),
            Err(_) => {}
        }
    }
    let first = paths
        .first()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    Err(match denied {
        Some(p) => EnterError::PermissionDenied(format!("cannot open {}", p.display())),
        None => EnterError::TargetGone(format!(
            "{first} no longer holds the namespace {t}:[{}]",
            join.inode
        )),
    })
}

/// Read a /proc/PID file through the process's directory fd.
pub(super) fn read_proc_at(dir: BorrowedFd<'_>, name: &str) -> io::Result<Vec<u8>> {
    let fd = rustix::fs::openat(dir, name, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())?;
    let mut out = Vec::new();
    File::from(fd).take(READ_LIMIT).read_to_end(&mut out)?;
    Ok(out)
}
