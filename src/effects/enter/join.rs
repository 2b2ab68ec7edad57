//! Joining: the target's cgroups, then its namespaces.

use super::error::{EnterError, is_permission};
use super::open::{OpenNs, Opened};
use super::plan::{EnterSpec, kernel_supports};
use super::report::warn;
use crate::model::NsType;
use crate::sys::cgroup_control::{self, CgroupDir};
use crate::sys::mounts::{self, CgroupMount};
use crate::sys::parse::CgroupLine;
use crate::sys::proc_handle::ProcHandle;
use crate::sys::{Roots, procfs};
use nix::errno::Errno;
use nix::sched::CloneFlags;
use std::io::{self, Write};
use std::os::fd::BorrowedFd;
use std::path::{Path, PathBuf};

/// Write the helper's PID to cgroup.procs of the process's cgroup in every hierarchy mounted here.
///
/// A frozen cgroup is refused, never joined: a task that enters a frozen v1 freezer group stops
/// on its way back from the write, in uninterruptible sleep, until the group is thawed (even
/// SIGKILL waits), and in v2 it stops as well. Every group is checked before any is joined (so a
/// refusal leaves the helper where it was), and each again right before its write.
pub(super) fn join_cgroups(spec: &EnterSpec, process: &ProcHandle) -> Result<(), EnterError> {
    let groups = cgroups_to_join(spec, process)?;
    for g in &groups {
        refuse_frozen(spec, g)?;
    }
    let me = std::process::id().to_string();
    for g in &groups {
        refuse_frozen(spec, g)?;
        write_cgroup_procs(spec, &g.procs, &g.line, &me)?;
    }
    Ok(())
}

/// One cgroup of the target the helper joins.
struct CgroupToJoin {
    line: CgroupLine,
    /// The hierarchy's mount point here, and the cgroup it shows as its root.
    mount: PathBuf,
    root: String,
    /// The group's path below that mount's root.
    rel: String,
    /// Its cgroup.procs.
    procs: PathBuf,
}

/// Refuse to join `g` when it (or an ancestor) is frozen, naming what to thaw.
fn refuse_frozen(spec: &EnterSpec, g: &CgroupToJoin) -> Result<(), EnterError> {
    let dir = CgroupDir {
        mount: &g.mount,
        path: &g.rel,
    };
    let Some(frozen) = cgroup_control::read_frozen(dir) else {
        return Ok(());
    };
    // The target's own group is thawed by naming the target; a frozen ancestor by its path
    // (as the hierarchy shows it, mount root included).
    let own = frozen.path == g.rel;
    let full = |p: &str| match (g.root.as_str(), p) {
        ("/", p) => p.to_string(),
        (root, "/") => root.to_string(),
        (root, p) => format!("{root}{p}"),
    };
    let thaw = if own && !spec.thaw_as.is_empty() {
        spec.thaw_as.clone()
    } else {
        full(&frozen.path)
    };
    Err(EnterError::Frozen {
        target: spec.target.clone(),
        cgroup: format!("{}:{}", g.line.key, full(&frozen.path)),
        state: format!("{} {}", frozen.file, frozen.state),
        thaw,
    })
}

/// The target's cgroups in the hierarchies mounted here, in /proc/PID/cgroup order; warns about
/// those that cannot be joined from here.
fn cgroups_to_join(
    spec: &EnterSpec,
    process: &ProcHandle,
) -> Result<Vec<CgroupToJoin>, EnterError> {
    let lines = process.read_cgroup().map_err(|e| {
        if e.is_vanished() {
            EnterError::TargetGone(format!("{} exited", spec.target))
        } else {
            spec.failed(format!("reading its cgroups: {e}"))
        }
    })?;
    let roots = Roots::default();
    let hierarchies = mounted_hierarchies(spec, &roots)?;
    let mut groups = Vec::new();
    for line in lines {
        let Some(h) = hierarchies.iter().find(|h| h.hierarchy.key == line.key) else {
            warn(&format!(
                "the cgroup hierarchy {} is not mounted here: not joined",
                line.key
            ));
            continue;
        };
        let Some(rel) = path_below_mount_root(h, &line) else {
            warn(&format!(
                "the cgroup {}:{} is outside the mount of its hierarchy here: not joined",
                line.key, line.path
            ));
            continue;
        };
        let mount = roots.mount_path(Path::new(&h.hierarchy.mount));
        let rel = if rel.is_empty() { "/" } else { rel }.to_string();
        let procs = mount.join(rel.trim_start_matches('/')).join("cgroup.procs");
        groups.push(CgroupToJoin {
            line: line.clone(),
            mount,
            root: h.root.clone(),
            rel,
            procs,
        });
    }
    Ok(groups)
}

/// The cgroup hierarchies mounted where the helper runs (its own mountinfo).
fn mounted_hierarchies(spec: &EnterSpec, roots: &Roots) -> Result<Vec<CgroupMount>, EnterError> {
    let mountinfo = procfs::read_self_mountinfo(roots).map_err(|e| spec.failed(e.to_string()))?;
    let own = procfs::read_self_cgroup(roots).map_err(|e| spec.failed(e.to_string()))?;
    let known = procfs::read_proc_cgroups(roots).unwrap_or_default();
    let (_, hierarchies) = mounts::cgroup_mounts(&mountinfo, &own, &known);
    Ok(hierarchies)
}

/// The cgroup of `line` relative to the root of mount `h` (a mount made inside a container shows
/// only part of its hierarchy); `None` when it is outside.
fn path_below_mount_root<'a>(h: &CgroupMount, line: &'a CgroupLine) -> Option<&'a str> {
    if h.root == "/" {
        Some(line.path.as_str())
    } else {
        line.path
            .strip_prefix(h.root.as_str())
            .filter(|r| r.is_empty() || r.starts_with('/'))
    }
}

/// Move the helper into the cgroup whose cgroup.procs is `procs` (the target's, from `line`).
fn write_cgroup_procs(
    spec: &EnterSpec,
    procs: &Path,
    line: &CgroupLine,
    me: &str,
) -> Result<(), EnterError> {
    let written = std::fs::OpenOptions::new()
        .write(true)
        .open(procs)
        .and_then(|mut f| f.write_all(me.as_bytes()));
    written.map_err(|e| {
        if is_permission(&e) {
            EnterError::PermissionDenied(format!("cannot join the cgroup {}", procs.display()))
        } else if e.kind() == io::ErrorKind::NotFound {
            spec.failed(format!("its cgroup {}:{} is gone", line.key, line.path))
        } else {
            spec.failed(format!(
                "joining its cgroup {}: {e} (--no-cgroup skips joining)",
                procs.display()
            ))
        }
    })
}

fn setns_error(spec: &EnterSpec, t: NsType, e: Errno) -> EnterError {
    match e {
        Errno::EPERM | Errno::EACCES => {
            EnterError::PermissionDenied(format!("joining the {t} namespace of {}", spec.target))
        }
        Errno::EINVAL if !kernel_supports(t) => EnterError::Unsupported(t),
        Errno::ESRCH => EnterError::TargetGone(format!("{} exited", spec.target)),
        e => spec.failed(format!("setns into its {t} namespace: {e}")),
    }
}

fn clone_flag(t: NsType) -> CloneFlags {
    CloneFlags::from_bits_retain(t.clone_flag())
}

/// Join the namespaces: all at once through the pidfd where the kernel can, else one file at a
/// time, user namespace in runc's position.
pub(super) fn join_namespaces(spec: &EnterSpec, o: &Opened) -> Result<(), EnterError> {
    let todo: Vec<&OpenNs> = o.ns.iter().filter(|n| !n.ours).collect();
    if todo.is_empty() {
        return Ok(());
    }
    if let Some(pidfd) = o.process.as_ref().and_then(|p| p.pidfd())
        && todo.iter().all(|n| n.from_process)
        && join_all_through_pidfd(spec, pidfd, &todo)?
    {
        return Ok(());
    }
    join_one_at_a_time(spec, &todo)
}

/// setns(pidfd, all flags): every namespace in one step (Linux 5.8). False when the kernel or the
/// namespaces want them one at a time.
fn join_all_through_pidfd(
    spec: &EnterSpec,
    pidfd: BorrowedFd<'_>,
    todo: &[&OpenNs],
) -> Result<bool, EnterError> {
    let all = todo
        .iter()
        .fold(CloneFlags::empty(), |acc, n| acc | clone_flag(n.ns_type));
    match nix::sched::setns(pidfd, all) {
        Ok(()) => Ok(true),
        Err(Errno::ESRCH) => Err(EnterError::TargetGone(format!("{} exited", spec.target))),
        // EINVAL before Linux 5.8 (a pidfd is not a namespace file); any other error is retried
        // one namespace at a time, which also names the one that fails.
        Err(_) => Ok(false),
    }
}

/// One namespace file at a time in runc's order: every type but user, then user, then those that
/// needed the user namespace's credentials.
fn join_one_at_a_time(spec: &EnterSpec, todo: &[&OpenNs]) -> Result<(), EnterError> {
    let has_user = todo.iter().any(|n| n.ns_type == NsType::User);
    let mut deferred: Vec<&OpenNs> = Vec::new();
    for n in todo.iter().filter(|n| n.ns_type != NsType::User) {
        match nix::sched::setns(&n.fd, clone_flag(n.ns_type)) {
            Ok(()) => {}
            // Owned by the target's user namespace: possible only with its credentials.
            Err(Errno::EPERM) if has_user => deferred.push(n),
            Err(e) => return Err(setns_error(spec, n.ns_type, e)),
        }
    }
    if let Some(u) = todo.iter().find(|n| n.ns_type == NsType::User) {
        nix::sched::setns(&u.fd, clone_flag(NsType::User))
            .map_err(|e| setns_error(spec, NsType::User, e))?;
    }
    for n in deferred {
        nix::sched::setns(&n.fd, clone_flag(n.ns_type))
            .map_err(|e| setns_error(spec, n.ns_type, e))?;
    }
    Ok(())
}
