//! Everything the helper opens before it joins anything: the target process (pidfd and /proc/PID,
//! checked against the start time in the plan), every namespace file (each checked against the
//! inode in the plan), the target's root, cwd and environment. The files are opened by the readers
//! in sys::proc_handle; this module decides what each failure means for the admin.

use super::error::EnterError;
use super::plan::{EnterSpec, NsJoin, NsSource};
use super::seccomp::SeccompFilters;
use crate::model::NsType;
use crate::sys::proc_handle::{self, ProcHandle};
use crate::sys::{Roots, SysError};
use std::os::fd::OwnedFd;
use std::path::PathBuf;

/// Everything the helper opens before it joins anything.
#[derive(Default)]
pub(super) struct Opened {
    /// The plan's process (none for a namespace held only by a bind mount).
    pub(super) process: Option<ProcHandle>,
    pub(super) ns: Vec<OpenNs>,
    pub(super) root: Option<OwnedFd>,
    pub(super) cwd: Option<OwnedFd>,
    pub(super) environ: Option<Vec<u8>>,
    /// The target's seccomp filters, read by the helper before it joins anything (see `creds`).
    pub(super) seccomp: SeccompFilters,
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
    let process = match spec.pid {
        Some(pid) => Some(open_process(spec, pid)?),
        None => None,
    };
    let ns = spec
        .namespaces
        .iter()
        .map(|join| open_namespace(spec, process.as_ref(), join))
        .collect::<Result<Vec<_>, _>>()?;
    let mut o = Opened {
        process,
        ns,
        ..Opened::default()
    };
    if let (Some(pid), Some(process)) = (spec.pid, &o.process) {
        if spec.types().contains(&NsType::Mnt) {
            o.root = Some(process.open_root().map_err(|e| {
                process_error(spec, pid, e, format!("cannot open the root of PID {pid}"))
            })?);
            // A cwd that cannot be opened (deleted) is replaced by the root later.
            o.cwd = process.open_cwd().ok();
        }
        o.environ = read_environ(spec, pid, process)?;
        // Everything above was opened while the process lived (it lives now, and a PID is not
        // reused while its process lives): it all belongs to the one process of the plan.
        if !process.is_alive() {
            return Err(process_exited(pid));
        }
    }
    Ok(o)
}

fn process_exited(pid: i32) -> EnterError {
    EnterError::TargetGone(format!("process {pid} exited"))
}

/// What a failure to open or read a file of process `pid` means: it exited, `denied` (when
/// permission was refused), or anything else with the file's path.
fn process_error(spec: &EnterSpec, pid: i32, e: SysError, denied: String) -> EnterError {
    if e.is_vanished() {
        process_exited(pid)
    } else if e.is_permission() {
        EnterError::PermissionDenied(denied)
    } else {
        spec.failed(e.to_string())
    }
}

/// A pidfd and /proc/PID for the plan's process, refused when the PID now names another process
/// (its start time differs from the plan's).
fn open_process(spec: &EnterSpec, pid: i32) -> Result<ProcHandle, EnterError> {
    if pid <= 0 {
        return Err(EnterError::Invalid(format!("bad PID {pid}")));
    }
    let process = ProcHandle::open(&Roots::default(), pid).map_err(|e| {
        if e.is_vanished() {
            process_exited(pid)
        } else {
            spec.failed(e.to_string())
        }
    })?;
    let now = match process.read_stat_start_time() {
        Ok(now) => Some(now),
        // A stat without a start time cannot be compared: the pidfd still pins the process.
        Err(SysError::Parse { .. }) => None,
        Err(_) => return Err(process_exited(pid)),
    };
    if let (Some(then), Some(now)) = (spec.start_time, now)
        && then != now
    {
        return Err(EnterError::TargetGone(format!(
            "process {pid} exited (the PID now names another process)"
        )));
    }
    Ok(process)
}

/// Open the namespace file of `join` and check it is still the namespace of the plan.
fn open_namespace(
    spec: &EnterSpec,
    process: Option<&ProcHandle>,
    join: &NsJoin,
) -> Result<OpenNs, EnterError> {
    let t = join.ns_type;
    let ours = match proc_handle::read_self_ns_inode(&Roots::default(), t) {
        Ok(ino) => ino,
        Err(e) if e.is_vanished() => return Err(EnterError::Unsupported(t)),
        Err(e) => return Err(spec.failed(e.to_string())),
    };
    let (fd, from_process) = match &join.source {
        NsSource::Process => (open_process_ns(spec, process, t)?, true),
        NsSource::BindMount(paths) => (open_bind_mount(join, paths)?, false),
    };
    let ino = rustix::fs::fstat(&fd)
        .map_err(|e| spec.failed(format!("fstat of the {t} namespace: {e}")))?
        .st_ino;
    if ino != join.inode {
        return Err(spec.failed(format!(
            "its {t} namespace changed since it was looked up ({t}:[{}], now {t}:[{ino}]); \
             look it up again",
            join.inode
        )));
    }
    Ok(OpenNs {
        ns_type: t,
        fd,
        from_process,
        ours: ours == ino,
    })
}

/// /proc/PID/ns/TYPE of the plan's process.
fn open_process_ns(
    spec: &EnterSpec,
    process: Option<&ProcHandle>,
    t: NsType,
) -> Result<OwnedFd, EnterError> {
    let (Some(pid), Some(process)) = (spec.pid, process) else {
        return Err(EnterError::Invalid(format!(
            "the {t} namespace is to be joined through a process, but there is none"
        )));
    };
    process.open_ns(t).map_err(|e| {
        process_error(
            spec,
            pid,
            e,
            format!("cannot open the {t} namespace of PID {pid}"),
        )
    })
}

/// The target's environment: required with `--env-from-target`, else best effort.
fn read_environ(
    spec: &EnterSpec,
    pid: i32,
    process: &ProcHandle,
) -> Result<Option<Vec<u8>>, EnterError> {
    match process.read_environ() {
        Ok(env) => Ok(Some(env)),
        Err(e) if spec.env_from_target => Err(if e.is_permission() {
            EnterError::PermissionDenied(format!("cannot read the environment of PID {pid}"))
        } else {
            process_exited(pid)
        }),
        Err(_) => Ok(None),
    }
}

/// Open the first of `paths` that is an nsfs file of the namespace `join` names.
fn open_bind_mount(join: &NsJoin, paths: &[PathBuf]) -> Result<OwnedFd, EnterError> {
    let t = join.ns_type;
    let mut denied = None;
    for p in paths {
        match proc_handle::open_nsfs_file(p, t, join.inode) {
            Ok(Some(fd)) => return Ok(fd),
            Ok(None) => {}
            Err(e) if e.is_permission() => denied = Some(p),
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
