//! Joining: the target's cgroups, then its namespaces.

use super::error::{EnterError, is_gone, is_permission};
use super::open::{OpenNs, Opened, read_proc_at};
use super::plan::{EnterSpec, kernel_supports};
use super::report::warn;
use crate::model::NsType;
use crate::sys::{Roots, mounts, parse, procfs};
use nix::errno::Errno;
use nix::sched::CloneFlags;
use std::io::{self, Write};
use std::os::fd::BorrowedFd;
use std::path::Path;

/// Write the helper's PID to cgroup.procs of the process's cgroup in every hierarchy mounted here.
pub(super) fn join_cgroups(spec: &EnterSpec, proc_dir: BorrowedFd<'_>) -> Result<(), EnterError> {
    let failed = |reason: String| EnterError::Failed {
        target: spec.target.clone(),
        reason,
    };
    let text = read_proc_at(proc_dir, "cgroup").map_err(|e| {
        if is_gone(&e) {
            EnterError::TargetGone(format!("{} exited", spec.target))
        } else {
            failed(format!("reading its cgroups: {e}"))
        }
    })?;
    let lines = parse::parse_proc_pid_cgroup(&String::from_utf8_lossy(&text));
    let roots = Roots::default();
    let mountinfo = procfs::read_self_mountinfo(&roots).map_err(|e| failed(e.to_string()))?;
    let own = procfs::read_self_cgroup(&roots).map_err(|e| failed(e.to_string()))?;
    let known = procfs::read_proc_cgroups(&roots).unwrap_or_default();
    let (_, hierarchies) = mounts::cgroup_mounts(&mountinfo, &own, &known);
    let me = std::process::id().to_string();
    for line in lines {
        let Some(h) = hierarchies.iter().find(|h| h.hierarchy.key == line.key) else {
            warn(&format!(
                "the cgroup hierarchy {} is not mounted here: not joined",
                line.key
            ));
            continue;
        };
        let rel = if h.root == "/" {
            Some(line.path.as_str())
        } else {
            line.path
                .strip_prefix(h.root.as_str())
                .filter(|r| r.is_empty() || r.starts_with('/'))
        };
        let Some(rel) = rel else {
            warn(&format!(
                "the cgroup {}:{} is outside the mount of its hierarchy here: not joined",
                line.key, line.path
            ));
            continue;
        };
        let dir = roots
            .mount_path(Path::new(&h.hierarchy.mount))
            .join(rel.trim_start_matches('/'));
        let procs = dir.join("cgroup.procs");
        let written = std::fs::OpenOptions::new()
            .write(true)
            .open(&procs)
            .and_then(|mut f| f.write_all(me.as_bytes()));
        if let Err(e) = written {
            return Err(if is_permission(&e) {
                EnterError::PermissionDenied(format!("cannot join the cgroup {}", procs.display()))
            } else if e.kind() == io::ErrorKind::NotFound {
                failed(format!("its cgroup {}:{} is gone", line.key, line.path))
            } else {
                failed(format!(
                    "joining its cgroup {}: {e} (--no-cgroup skips joining)",
                    procs.display()
                ))
            });
        }
    }
    Ok(())
}

fn setns_error(spec: &EnterSpec, t: NsType, e: Errno) -> EnterError {
    match e {
        Errno::EPERM | Errno::EACCES => {
            EnterError::PermissionDenied(format!("joining the {t} namespace of {}", spec.target))
        }
        Errno::EINVAL if !kernel_supports(t) => EnterError::Unsupported(t),
        Errno::ESRCH => EnterError::TargetGone(format!("{} exited", spec.target)),
        e => EnterError::Failed {
            target: spec.target.clone(),
            reason: format!("setns into its {t} namespace: {e}"),
        },
    }
}

/// Join the namespaces: all at once through the pidfd where the kernel can, else one file at a
/// time, user namespace in runc's position.
pub(super) fn join_namespaces(spec: &EnterSpec, o: &Opened) -> Result<(), EnterError> {
    let todo: Vec<&OpenNs> = o.ns.iter().filter(|n| !n.ours).collect();
    if todo.is_empty() {
        return Ok(());
    }
    let flag = |t: NsType| CloneFlags::from_bits_retain(t.clone_flag());
    if let Some(pidfd) = &o.pidfd
        && todo.iter().all(|n| n.from_process)
    {
        let all = todo
            .iter()
            .fold(CloneFlags::empty(), |acc, n| acc | flag(n.ns_type));
        match nix::sched::setns(pidfd, all) {
            Ok(()) => return Ok(()),
            Err(Errno::ESRCH) => {
                return Err(EnterError::TargetGone(format!("{} exited", spec.target)));
            }
            // EINVAL before Linux 5.8 (a pidfd is not a namespace file); any other error is
            // retried one namespace at a time, which also names the one that fails.
            Err(_) => {}
        }
    }
    let has_user = todo.iter().any(|n| n.ns_type == NsType::User);
    let mut deferred: Vec<&OpenNs> = Vec::new();
    for n in todo.iter().filter(|n| n.ns_type != NsType::User) {
        match nix::sched::setns(&n.fd, flag(n.ns_type)) {
            Ok(()) => {}
            // Owned by the target's user namespace: possible only with its credentials.
            Err(Errno::EPERM) if has_user => deferred.push(n),
            Err(e) => return Err(setns_error(spec, n.ns_type, e)),
        }
    }
    if let Some(u) = todo.iter().find(|n| n.ns_type == NsType::User) {
        nix::sched::setns(&u.fd, flag(NsType::User))
            .map_err(|e| setns_error(spec, NsType::User, e))?;
    }
    for n in deferred {
        nix::sched::setns(&n.fd, flag(n.ns_type)).map_err(|e| setns_error(spec, n.ns_type, e))?;
    }
    Ok(())
}
