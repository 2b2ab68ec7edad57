//! The plan: what to join, resolved from a TARGET and a snapshot. Runs in the caller and changes
//! nothing.

use super::error::EnterError;
use super::target_fs::default_command;
use crate::model::target::Target;
use crate::model::{Namespace, NsType, Process, Snapshot};
use crate::sys::{Roots, proc_handle};
use std::path::PathBuf;

/// What the caller asks for (the CLI's flags, the TUI's dialog).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnterOptions {
    /// Namespace types to join; `None`: the default for the target ([`default_types`]).
    pub types: Option<Vec<NsType>>,
    /// Join every namespace type the target has (`--all`; wins over `types`).
    pub all: bool,
    /// Join the target's cgroups (default; `--no-cgroup` turns it off).
    pub join_cgroups: bool,
    /// Working directory for the command (absolute; inside the target's root when mnt is joined).
    pub wd: Option<PathBuf>,
    /// Whose credentials the command runs with (default: the target's).
    pub creds: Credentials,
    /// Copy the target's whole environment instead of the minimal one.
    pub env_from_target: bool,
    /// Command and arguments; empty: the target's login shell ([`EnterSpec::for_target`]).
    pub command: Vec<String>,
}

impl Default for EnterOptions {
    fn default() -> Self {
        EnterOptions {
            types: None,
            all: false,
            join_cgroups: true,
            wd: None,
            creds: Credentials::Target,
            env_from_target: false,
            command: Vec::new(),
        }
    }
}

/// Whose credentials the command runs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Credentials {
    /// The target's uid, gid, groups, capability sets (effective, permitted, inheritable,
    /// bounding, ambient), no_new_privs and seccomp filter, as `docker exec` gives.
    #[default]
    Target,
    /// `--user UID[:GID]`: that user (GID: the user's group in the passwd of the root the command
    /// runs in, else 0), no supplementary groups, with the target's bounding set, no_new_privs and
    /// seccomp filter; a user other than 0 has no capabilities, as `docker exec -u` gives.
    User { uid: u32, gid: Option<u32> },
    /// `--privileged`: root (of a joined user namespace, else the host's) with every capability
    /// and no seccomp filter, as nsenter gives.
    Privileged,
}

impl Credentials {
    /// `UID[:GID]`, numeric.
    pub fn parse_user(s: &str) -> Option<Credentials> {
        let (uid, gid) = match s.split_once(':') {
            Some((u, g)) => (u, Some(g.parse().ok()?)),
            None => (s, None),
        };
        Some(Credentials::User {
            uid: uid.parse().ok()?,
            gid,
        })
    }

    /// One line for the TUI's dialog and messages: what the command will run as.
    pub fn describe(&self) -> String {
        match self {
            Credentials::Target => {
                "the target's user, capabilities and seccomp (as docker exec)".into()
            }
            Credentials::User { uid, gid: Some(g) } => {
                format!("user {uid}:{g} within the target's capabilities and seccomp")
            }
            Credentials::User { uid, gid: None } => {
                format!("user {uid} within the target's capabilities and seccomp")
            }
            Credentials::Privileged => {
                "privileged: root, every capability, no seccomp (as nsenter)".into()
            }
        }
    }
}

/// Where the helper opens a namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NsSource {
    /// `/proc/PID/ns/TYPE` of the plan's process (or setns on its pidfd).
    Process,
    /// An nsfs bind mount (a namespace without processes): the paths to try, in order; the first
    /// whose inode is the namespace's is used. A bind mount made in another mount namespace is
    /// reached through `/proc/PID/root/PATH` of a process of that mount namespace.
    BindMount(Vec<PathBuf>),
}

/// One namespace to join.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NsJoin {
    pub ns_type: NsType,
    /// The namespace's inode when the plan was made: the helper refuses a different one.
    pub inode: u64,
    pub source: NsSource,
}

/// A complete plan for [`run_inside`](super::run_inside).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnterSpec {
    /// What is entered, for messages: `PID 7146`, `net:[4026532385] (/run/netns/x)`.
    pub target: String,
    /// The process whose namespaces, root, cwd, cgroups, environment and credentials are used;
    /// `None` for a namespace held only by a bind mount.
    pub pid: Option<i32>,
    /// Its start time (clock ticks after boot, field 22 of /proc/PID/stat) when the plan was made.
    pub start_time: Option<u64>,
    /// The namespaces to join, in [`NsType::ALL`] order.
    pub namespaces: Vec<NsJoin>,
    /// Join the process's cgroups (always false without a process).
    pub join_cgroups: bool,
    /// The TARGET that `nsview thaw` takes for the process's cgroups (a container's name, a
    /// cgroup path, a PID), named when one of them is frozen.
    pub thaw_as: String,
    pub wd: Option<PathBuf>,
    /// Whose credentials; never [`Credentials::Target`] without a process.
    pub creds: Credentials,
    pub env_from_target: bool,
    /// The command and its arguments (never empty).
    pub command: Vec<String>,
}

/// The process (or bind mount) a target is entered through.
enum EntryPoint<'a> {
    Process(&'a Process, String),
    BindMount(&'a Namespace),
}

/// The process or bind mount behind `target`.
fn entry_point<'a>(snap: &'a Snapshot, target: &Target) -> Result<EntryPoint<'a>, EnterError> {
    let process = |pid: i32| {
        snap.processes
            .get(&pid)
            .ok_or_else(|| EnterError::TargetGone(format!("no process {pid}")))
    };
    match target {
        Target::Process(pid) => Ok(EntryPoint::Process(process(*pid)?, format!("PID {pid}"))),
        Target::Cgroup(path) => {
            let mut pids: Vec<i32> = snap
                .cgroups
                .iter()
                .filter(|c| &c.path == path)
                .flat_map(|c| c.pids.iter().copied())
                .collect();
            pids.sort_unstable();
            pids.dedup();
            let pid = init_of(snap, &pids).ok_or_else(|| {
                EnterError::Invalid(format!("cgroup {path} has no process to enter"))
            })?;
            Ok(EntryPoint::Process(
                process(pid)?,
                format!("cgroup {path} (PID {pid})"),
            ))
        }
        // The host through its lowest process whose namespaces could be read (PID 1 may not be).
        Target::Host => {
            let readable: Vec<i32> = crate::model::target::host_pids(snap)
                .into_iter()
                .filter(|p| snap.processes.get(p).is_some_and(|p| !p.ns.is_empty()))
                .collect();
            let pid = init_of(snap, &readable)
                .ok_or_else(|| EnterError::Invalid("the host has no process to enter".into()))?;
            Ok(EntryPoint::Process(
                process(pid)?,
                format!("host (PID {pid})"),
            ))
        }
        // A container is entered through its init, as `docker exec` does.
        Target::Container(key) => {
            let c = snap
                .container(key)
                .ok_or_else(|| EnterError::TargetGone(format!("no container {key}")))?;
            Ok(EntryPoint::Process(
                process(c.init_pid)?,
                format!("container {} (PID {})", c.name, c.init_pid),
            ))
        }
        Target::Namespace(key) => {
            let ns = snap.namespaces.get(key).ok_or_else(|| {
                EnterError::TargetGone(format!("no namespace {}:[{}]", key.0, key.1))
            })?;
            match init_of(snap, &ns.pids) {
                Some(pid) => Ok(EntryPoint::Process(
                    process(pid)?,
                    format!("{}:[{}] (PID {pid})", ns.ns_type, ns.inode),
                )),
                None if !ns.bind_mounts.is_empty() => Ok(EntryPoint::BindMount(ns)),
                None => Err(EnterError::TargetGone(format!(
                    "namespace {}:[{}] has no process and no bind mount",
                    ns.ns_type, ns.inode
                ))),
            }
        }
    }
}

/// The process to enter a set of processes through: the init of a pid namespace (a container's
/// PID 1) if one is among them, else the lowest PID. Kernel threads are never chosen.
fn init_of(snap: &Snapshot, pids: &[i32]) -> Option<i32> {
    let procs: Vec<&Process> = pids
        .iter()
        .filter_map(|p| snap.processes.get(p))
        .filter(|p| !p.kernel_thread)
        .collect();
    procs
        .iter()
        .find(|p| p.nspid.len() > 1 && p.nspid.last() == Some(&1))
        .or_else(|| procs.first())
        .map(|p| p.pid)
}

/// The namespace types the TUI's dialog ticks by default and the CLI joins without `--ns`: every
/// type in which the target differs from the host; for a namespace TARGET, that namespace. May be
/// empty (a host process).
pub fn default_types(snap: &Snapshot, target: &Target) -> Result<Vec<NsType>, EnterError> {
    if let Target::Namespace((t, _)) = target {
        return Ok(vec![*t]);
    }
    match entry_point(snap, target)? {
        EntryPoint::Process(p, _) => Ok(snap.differs_from_host(p)),
        EntryPoint::BindMount(ns) => Ok(vec![ns.ns_type]),
    }
}

/// Whether this kernel has namespaces of type `t` (/proc/self/ns/TYPE exists).
pub fn kernel_supports(t: NsType) -> bool {
    proc_handle::self_ns_exists(&Roots::default(), t)
}

/// `types` deduplicated, in [`NsType::ALL`] order.
fn in_order(types: &[NsType]) -> Vec<NsType> {
    NsType::ALL
        .into_iter()
        .filter(|t| types.contains(t))
        .collect()
}

impl EnterSpec {
    /// Plan entering `target` (resolved against `snap`) with `opts`. Reads a little from /proc
    /// (the process's start time, its /etc/passwd for the default shell) and changes nothing.
    pub fn for_target(
        snap: &Snapshot,
        target: &Target,
        opts: EnterOptions,
    ) -> Result<EnterSpec, EnterError> {
        if let Some(wd) = &opts.wd
            && !wd.is_absolute()
        {
            return Err(EnterError::Invalid(format!(
                "--wd needs an absolute path, got {}",
                wd.display()
            )));
        }
        if let Some(t) = opts.types.iter().flatten().find(|t| !kernel_supports(**t)) {
            return Err(EnterError::Unsupported(*t));
        }
        match entry_point(snap, target)? {
            EntryPoint::Process(p, label) => Self::for_process(snap, target, p, label, opts),
            EntryPoint::BindMount(ns) => Self::for_bind_mount(snap, ns, opts),
        }
    }

    fn for_process(
        snap: &Snapshot,
        target: &Target,
        p: &Process,
        label: String,
        opts: EnterOptions,
    ) -> Result<EnterSpec, EnterError> {
        let pid = p.pid;
        if p.ns.is_empty() {
            return Err(EnterError::PermissionDenied(format!(
                "cannot read the namespaces of PID {pid}"
            )));
        }
        if p.kernel_thread {
            return Err(EnterError::Invalid(format!(
                "PID {pid} is a kernel thread: there is nothing to enter"
            )));
        }
        let types = types_to_join(snap, target, p, &opts)?;
        let namespaces = process_joins(p, &types)?;
        let start_time = read_start_time(pid)
            .ok_or_else(|| EnterError::TargetGone(format!("process {pid} exited")))?;
        let command = if opts.command.is_empty() {
            default_command(Some(pid), p.uid, types.contains(&NsType::Mnt))
        } else {
            opts.command
        };
        Ok(EnterSpec {
            target: label,
            pid: Some(pid),
            start_time: Some(start_time),
            namespaces,
            join_cgroups: opts.join_cgroups,
            thaw_as: thaw_target(snap, target, pid),
            wd: opts.wd,
            creds: opts.creds,
            env_from_target: opts.env_from_target,
            command,
        })
    }

    fn for_bind_mount(
        snap: &Snapshot,
        ns: &Namespace,
        opts: EnterOptions,
    ) -> Result<EnterSpec, EnterError> {
        let t = ns.ns_type;
        let label = format!("{t}:[{}] ({})", ns.inode, ns.bind_mounts.join(", "));
        refuse_what_needs_a_process(&label, t, &opts)?;
        let path = reachable_bind_mount(snap, ns).ok_or_else(|| {
            EnterError::TargetGone(format!("{label}: no bind mount holds it any more"))
        })?;
        let command = if opts.command.is_empty() {
            default_command(None, 0, false)
        } else {
            opts.command
        };
        Ok(EnterSpec {
            target: label,
            pid: None,
            start_time: None,
            namespaces: vec![NsJoin {
                ns_type: t,
                inode: ns.inode,
                source: NsSource::BindMount(vec![path]),
            }],
            join_cgroups: false,
            thaw_as: String::new(),
            wd: opts.wd,
            // No process to take credentials from: root, as nsenter does.
            creds: Credentials::Privileged,
            env_from_target: false,
            command,
        })
    }

    /// The reason for an error of the helper about this plan's target.
    pub(super) fn failed(&self, reason: String) -> EnterError {
        EnterError::Failed {
            target: self.target.clone(),
            reason,
        }
    }

    /// The namespace types the plan joins.
    pub fn types(&self) -> Vec<NsType> {
        self.namespaces.iter().map(|n| n.ns_type).collect()
    }
}

/// What `nsview thaw` is told to thaw the cgroups of `target`, entered through process `pid`:
/// the container's name (or id), the cgroup path, else the PID.
fn thaw_target(snap: &Snapshot, target: &Target, pid: i32) -> String {
    match target {
        Target::Container(key) => snap
            .container(key)
            .map(|c| match &c.id {
                Some(id) if c.name.is_empty() => id.clone(),
                _ => c.name.clone(),
            })
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| pid.to_string()),
        Target::Cgroup(path) => path.clone(),
        Target::Process(_) | Target::Namespace(_) | Target::Host => pid.to_string(),
    }
}

/// The types to join in process `p`: every type it has (`--all`), the ones asked for, or the
/// default for the target (an error when that is none).
fn types_to_join(
    snap: &Snapshot,
    target: &Target,
    p: &Process,
    opts: &EnterOptions,
) -> Result<Vec<NsType>, EnterError> {
    if opts.all {
        return Ok(NsType::ALL
            .into_iter()
            .filter(|t| p.ns.contains_key(t) && kernel_supports(*t))
            .collect());
    }
    if let Some(list) = &opts.types {
        return Ok(in_order(list));
    }
    let d = default_types(snap, target)?;
    if d.is_empty() {
        return Err(EnterError::Invalid(format!(
            "PID {} is in every namespace of the host: nothing to enter (choose types with --ns, \
             or --all)",
            p.pid
        )));
    }
    Ok(d)
}

/// The namespaces of `types` of process `p`, joined through it.
fn process_joins(p: &Process, types: &[NsType]) -> Result<Vec<NsJoin>, EnterError> {
    types
        .iter()
        .map(|t| {
            let id = p.ns.get(t).ok_or_else(|| {
                EnterError::PermissionDenied(format!(
                    "cannot read the {t} namespace of PID {}",
                    p.pid
                ))
            })?;
            Ok(NsJoin {
                ns_type: *t,
                inode: id.ino,
                source: NsSource::Process,
            })
        })
        .collect()
}

/// A namespace held only by a bind mount (`label`, of type `t`) has no process to take other
/// namespaces, credentials or an environment from.
fn refuse_what_needs_a_process(
    label: &str,
    t: NsType,
    opts: &EnterOptions,
) -> Result<(), EnterError> {
    let only_bind = |what: &str| {
        EnterError::Invalid(format!(
            "{label} is held only by a bind mount: there is no process to take {what} from \
             (only --ns {t} is possible)"
        ))
    };
    if let Some(list) = &opts.types
        && !opts.all
        && list.iter().any(|x| *x != t)
    {
        return Err(only_bind("other namespaces"));
    }
    if matches!(opts.creds, Credentials::User { .. }) || opts.env_from_target {
        return Err(only_bind("credentials or an environment"));
    }
    Ok(())
}

/// The path of a bind mount of `ns` that leads to it now: the path as this process sees it first,
/// then through the root of a process of each mount namespace (a bind mount is visible only in
/// the one where it was made). The helper checks it again when it opens it.
fn reachable_bind_mount(snap: &Snapshot, ns: &Namespace) -> Option<PathBuf> {
    let roots = Roots::default();
    let mnt_roots: Vec<PathBuf> = snap
        .namespaces
        .range((NsType::Mnt, 0)..=(NsType::Mnt, u64::MAX))
        .filter_map(|(_, m)| init_of(snap, &m.pids))
        .map(|pid| roots.pid_dir(pid).join("root"))
        .collect();
    ns.bind_mounts
        .iter()
        .flat_map(|b| {
            std::iter::once(PathBuf::from(b)).chain(
                mnt_roots
                    .iter()
                    .map(move |r| r.join(b.trim_start_matches('/'))),
            )
        })
        .find(|p| proc_handle::read_ns_inode(p).is_ok_and(|ino| ino == ns.inode))
}

/// Field 22 of /proc/PID/stat (start time in clock ticks after boot).
fn read_start_time(pid: i32) -> Option<u64> {
    proc_handle::read_start_time(&Roots::default(), pid).ok()
}
