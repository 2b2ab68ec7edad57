//! `nsview enter`: run a command inside the namespaces and cgroups of a process, an isolation group
//! (container), a cgroup's init process, or a namespace held only by a bind mount.
//!
//! Two halves:
//! - [`EnterSpec::for_target`] turns a snapshot and a resolved TARGET into a plan: which namespaces
//!   (type and inode), the process whose root, cwd, cgroups and credentials are used (PID and start
//!   time, so PID reuse is noticed), and the command. It runs in the caller (CLI or TUI) and
//!   changes nothing.
//! - [`run`] carries the plan out: it starts the nsview binary itself (`/proc/self/exe`) with the
//!   hidden subcommand `__enter` (the helper), hands it the terminal and waits for it. The caller
//!   may be multithreaded (the TUI is); the helper is a fresh single-threaded process, which the
//!   kernel requires to join a mount or user namespace.
//!
//! The helper ([`helper_main`]), in order:
//! 1. makes itself non-dumpable (PR_SET_DUMPABLE 0) before it holds anything, so nothing in the
//!    target can ptrace it or read its memory (runc, CVE-2019-5736);
//! 2. opens everything first: a pidfd for the target, its /proc/PID directory (checked against the
//!    start time in the plan), every namespace file (each checked against the inode in the plan),
//!    the target's root, cwd and environment; then checks through the pidfd that the target is
//!    still alive, so all of these belong to the one process the plan names;
//! 3. joins the target's cgroups in every v1 hierarchy and the unified one, by writing its own PID
//!    to their cgroup.procs, so the command is limited and accounted like the target from its first
//!    instruction (unless `--no-cgroup`);
//! 4. joins the namespaces: atomically with setns(pidfd, flags) where the kernel supports it
//!    (Linux 5.8), otherwise one namespace file at a time in runc's order: every type but user,
//!    then user, then those that needed the user namespace's credentials;
//! 5. forks, so that the command really is inside the pid and time namespaces;
//! 6. in the child: chroot to the target's root and chdir to its cwd (or `--wd`), then checks that
//!    the cwd is inside the new root; with `--as-target` adopts the target's credentials in runc's
//!    order (bounding set, keep-caps, setgroups/setgid/setuid, capabilities, no_new_privs last);
//!    builds a minimal environment; finds the command; closes every fd above 2; execs;
//! 7. the parent closes everything it holds, waits, and exits with the command's status.
//!
//! Errors before the command runs travel back to [`run`] over a pipe (one line: a kind and the
//! text), so the CLI and the TUI get a typed [`EnterError`] rather than just an exit status. The
//! pipe's write end is close-on-exec in the child: it is gone when the command starts.

use crate::model::target::Target;
use crate::model::{Namespace, NsType, Process, Snapshot};
use crate::sys::{Roots, mounts, nsfs, parse, procfs};
use nix::errno::Errno;
use nix::libc;
use nix::sched::CloneFlags;
use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, SigmaskHow, Signal};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{ForkResult, Gid, Pid, Uid};
use rustix::fs::{Mode, OFlags, ResolveFlags};
use std::ffi::{CString, OsString};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::ExitStatus;

/// The hidden subcommand that runs the helper.
pub const HELPER_SUBCOMMAND: &str = "__enter";

/// PATH for the command when the target's environment has none (or cannot be read).
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Files read from the target (passwd, environ, status) are cut off at this size.
const READ_LIMIT: u64 = 1 << 20;

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// Why entering failed. Each message is one line for the admin.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnterError {
    /// The target exited, or its PID now names another process.
    #[error("the target is gone: {0}")]
    TargetGone(String),
    /// The kernel has no namespaces of this type (no /proc/self/ns/TYPE).
    #[error("namespace type {0} is not supported by this kernel")]
    Unsupported(NsType),
    /// The kernel refused (not root, or a security module said no).
    #[error("permission denied: {0} (nsview enter needs root)")]
    PermissionDenied(String),
    /// The command does not exist where it would run. `suggest` is set when the target's mount
    /// namespace was joined: the other types, to suggest entering without mnt (images without a
    /// shell).
    #[error("{}", missing_message(.command, .suggest.as_deref()))]
    CommandMissing {
        command: String,
        suggest: Option<String>,
    },
    /// The command exists but cannot be executed.
    #[error("cannot run {command} in the target: {reason}")]
    CommandNotExecutable { command: String, reason: String },
    /// The request does not make sense for this target (e.g. `--as-target` on a namespace that no
    /// process is in).
    #[error("{0}")]
    Invalid(String),
    /// Anything else, with the step that failed.
    #[error("cannot enter {target}: {reason}")]
    Failed { target: String, reason: String },
}

fn missing_message(command: &str, suggest: Option<&str>) -> String {
    match suggest {
        None => format!("command not found: {command}"),
        Some("") => format!(
            "command not found in the target: {command} (an image without a shell can be entered \
             without its mount namespace: --ns with other types, e.g. --ns net,pid,uts,ipc, runs \
             the host's command inside them)"
        ),
        Some(types) => format!(
            "command not found in the target: {command} (an image without a shell can be entered \
             without its mount namespace: --ns {types} runs the host's command in the target's \
             other namespaces)"
        ),
    }
}

impl EnterError {
    /// The exit status the CLI uses: 127 for a missing command, 126 for one that cannot be
    /// executed (as shells do), 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self {
            EnterError::CommandMissing { .. } => 127,
            EnterError::CommandNotExecutable { .. } => 126,
            _ => 1,
        }
    }

    /// One line for the pipe from the helper: a kind, then tab-separated fields.
    fn encode(&self) -> String {
        let f = |s: &str| s.replace(['\t', '\n', '\r'], " ");
        match self {
            EnterError::TargetGone(m) => format!("gone\t{}", f(m)),
            EnterError::Unsupported(t) => format!("unsupported\t{t}"),
            EnterError::PermissionDenied(m) => format!("permission\t{}", f(m)),
            EnterError::CommandMissing { command, suggest } => match suggest {
                Some(s) => format!("missing\t{}\t{}", f(command), f(s)),
                None => format!("missing\t{}", f(command)),
            },
            EnterError::CommandNotExecutable { command, reason } => {
                format!("noexec\t{}\t{}", f(command), f(reason))
            }
            EnterError::Invalid(m) => format!("invalid\t{}", f(m)),
            EnterError::Failed { target, reason } => {
                format!("failed\t{}\t{}", f(target), f(reason))
            }
        }
    }

    /// The inverse of [`EnterError::encode`]; anything unrecognised becomes [`EnterError::Failed`].
    fn decode(line: &str) -> EnterError {
        let mut parts = line.splitn(3, '\t');
        let kind = parts.next().unwrap_or_default();
        let a = parts.next().unwrap_or_default().to_string();
        let b = parts.next();
        match (kind, b) {
            ("gone", _) => EnterError::TargetGone(a),
            ("unsupported", _) => match NsType::parse(&a) {
                Some(t) => EnterError::Unsupported(t),
                None => EnterError::Invalid(format!("unknown namespace type {a}")),
            },
            ("permission", _) => EnterError::PermissionDenied(a),
            ("missing", suggest) => EnterError::CommandMissing {
                command: a,
                suggest: suggest.map(str::to_string),
            },
            ("noexec", Some(reason)) => EnterError::CommandNotExecutable {
                command: a,
                reason: reason.to_string(),
            },
            ("invalid", _) => EnterError::Invalid(a),
            ("failed", Some(reason)) => EnterError::Failed {
                target: a,
                reason: reason.to_string(),
            },
            _ => EnterError::Failed {
                target: "the target".into(),
                reason: format!("the helper reported {line:?}"),
            },
        }
    }
}

fn is_permission(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EACCES | libc::EPERM))
}

fn is_gone(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::ENOENT | libc::ESRCH))
}

// ---------------------------------------------------------------------------------------------
// The plan
// ---------------------------------------------------------------------------------------------

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
    /// Adopt the target's uid, gid, groups, capabilities and no_new_privs.
    pub as_target: bool,
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
            as_target: false,
            env_from_target: false,
            command: Vec::new(),
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

/// A complete plan for [`run`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnterSpec {
    /// What is entered, for messages: "PID 7146", "net:[4026532385] (/run/netns/x)".
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
    pub wd: Option<PathBuf>,
    pub as_target: bool,
    pub env_from_target: bool,
    /// The command and its arguments (never empty).
    pub command: Vec<String>,
}

/// The process (or bind mount) a target is entered through.
enum Entry<'a> {
    Process(&'a Process, String),
    BindMount(&'a Namespace),
}

/// The process or bind mount behind `target`.
fn entry<'a>(snap: &'a Snapshot, target: &Target) -> Result<Entry<'a>, EnterError> {
    let process = |pid: i32| {
        snap.processes
            .get(&pid)
            .ok_or_else(|| EnterError::TargetGone(format!("no process {pid}")))
    };
    match target {
        Target::Process(pid) => Ok(Entry::Process(process(*pid)?, format!("PID {pid}"))),
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
            Ok(Entry::Process(
                process(pid)?,
                format!("cgroup {path} (PID {pid})"),
            ))
        }
        // A container is entered through its init, as `docker exec` does.
        Target::Container(key) => {
            let c = snap
                .container(key)
                .ok_or_else(|| EnterError::TargetGone(format!("no container {key}")))?;
            Ok(Entry::Process(
                process(c.init_pid)?,
                format!("container {} (PID {})", c.name, c.init_pid),
            ))
        }
        Target::Namespace(key) => {
            let ns = snap.namespaces.get(key).ok_or_else(|| {
                EnterError::TargetGone(format!("no namespace {}:[{}]", key.0, key.1))
            })?;
            match init_of(snap, &ns.pids) {
                Some(pid) => Ok(Entry::Process(
                    process(pid)?,
                    format!("{}:[{}] (PID {pid})", ns.ns_type, ns.inode),
                )),
                None if !ns.bind_mounts.is_empty() => Ok(Entry::BindMount(ns)),
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
    match entry(snap, target)? {
        Entry::Process(p, _) => Ok(snap.differs_from_host(p)),
        Entry::BindMount(ns) => Ok(vec![ns.ns_type]),
    }
}

/// Whether this kernel has namespaces of type `t` (/proc/self/ns/TYPE exists).
pub fn kernel_supports(t: NsType) -> bool {
    Roots::default()
        .proc
        .join("self/ns")
        .join(t.proc_file())
        .symlink_metadata()
        .is_ok()
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
        match entry(snap, target)? {
            Entry::Process(p, label) => Self::for_process(snap, target, p, label, opts),
            Entry::BindMount(ns) => Self::for_bind_mount(snap, ns, opts),
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
        let types = if opts.all {
            NsType::ALL
                .into_iter()
                .filter(|t| p.ns.contains_key(t) && kernel_supports(*t))
                .collect()
        } else if let Some(list) = &opts.types {
            in_order(list)
        } else {
            let d = default_types(snap, target)?;
            if d.is_empty() {
                return Err(EnterError::Invalid(format!(
                    "PID {pid} is in every namespace of the host: nothing to enter (choose types \
                     with --ns, or --all)"
                )));
            }
            d
        };
        let mut namespaces = Vec::new();
        for t in &types {
            let id = p.ns.get(t).ok_or_else(|| {
                EnterError::PermissionDenied(format!("cannot read the {t} namespace of PID {pid}"))
            })?;
            namespaces.push(NsJoin {
                ns_type: *t,
                inode: id.ino,
                source: NsSource::Process,
            });
        }
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
            wd: opts.wd,
            as_target: opts.as_target,
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
        if opts.as_target || opts.env_from_target {
            return Err(only_bind("credentials or an environment"));
        }
        // The path as this process sees it first, then through the root of a process of each
        // mount namespace (a bind mount is visible only in the one where it was made): the first
        // that leads to the namespace now. The helper checks it again when it opens it.
        let roots = Roots::default();
        let mnt_roots: Vec<PathBuf> = snap
            .namespaces
            .range((NsType::Mnt, 0)..=(NsType::Mnt, u64::MAX))
            .filter_map(|(_, m)| init_of(snap, &m.pids))
            .map(|pid| roots.pid_dir(pid).join("root"))
            .collect();
        let path = ns
            .bind_mounts
            .iter()
            .flat_map(|b| {
                std::iter::once(PathBuf::from(b)).chain(
                    mnt_roots
                        .iter()
                        .map(move |r| r.join(b.trim_start_matches('/'))),
                )
            })
            .find(|p| std::fs::metadata(p).is_ok_and(|m| m.ino() == ns.inode))
            .ok_or_else(|| {
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
            wd: opts.wd,
            as_target: false,
            env_from_target: false,
            command,
        })
    }

    /// The namespace types the plan joins.
    pub fn types(&self) -> Vec<NsType> {
        self.namespaces.iter().map(|n| n.ns_type).collect()
    }

    /// The helper's command line (after the subcommand name).
    pub fn helper_args(&self, report_fd: Option<RawFd>) -> Vec<OsString> {
        let mut a: Vec<OsString> = vec!["--target".into(), self.target.clone().into()];
        if let Some(pid) = self.pid {
            a.extend(["--pid".into(), pid.to_string().into()]);
        }
        if let Some(t) = self.start_time {
            a.extend(["--start-time".into(), t.to_string().into()]);
        }
        for n in &self.namespaces {
            match &n.source {
                NsSource::Process => {
                    a.extend(["--ns".into(), format!("{}:{}", n.ns_type, n.inode).into()]);
                }
                NsSource::BindMount(paths) => {
                    for p in paths {
                        let mut v = OsString::from(format!("{}:{}:", n.ns_type, n.inode));
                        v.push(p);
                        a.extend(["--ns-path".into(), v]);
                    }
                }
            }
        }
        if !self.join_cgroups {
            a.push("--no-cgroup".into());
        }
        if let Some(wd) = &self.wd {
            a.extend(["--wd".into(), wd.clone().into()]);
        }
        if self.as_target {
            a.push("--as-target".into());
        }
        if self.env_from_target {
            a.push("--env-from-target".into());
        }
        if let Some(fd) = report_fd {
            a.extend(["--report-fd".into(), fd.to_string().into()]);
        }
        a.push("--".into());
        a.extend(self.command.iter().map(OsString::from));
        a
    }
}

/// Field 22 of /proc/PID/stat (start time in clock ticks after boot).
fn read_start_time(pid: i32) -> Option<u64> {
    super::cgroup::start_time(&Roots::default(), pid)
}

/// The shell field of the passwd entry of `uid`.
fn passwd_field(passwd: &str, uid: u32, field: usize) -> Option<&str> {
    passwd.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() >= 7 && f[2].parse() == Ok(uid)).then(|| f[field])
    })
}

/// A shell someone can log in with (not nologin, false, sync ...).
fn is_login_shell(shell: &str) -> bool {
    let base = shell.rsplit('/').next().unwrap_or(shell);
    shell.starts_with('/')
        && !matches!(
            base,
            "nologin" | "false" | "true" | "sync" | "halt" | "shutdown"
        )
}

/// The command when none is given: the login shell of the target's uid from the target's own
/// /etc/passwd (then root's entry there), when the target's root is entered and the shell exists
/// in it; else $SHELL (when it exists where the command will run); else /bin/sh.
fn default_command(pid: Option<i32>, uid: u32, in_target_root: bool) -> Vec<String> {
    let env_shell = std::env::var("SHELL")
        .ok()
        .filter(|s| s.starts_with('/') && !s.contains('\0'));
    if in_target_root && let Some(pid) = pid {
        let root_path = Roots::default().pid_dir(pid).join("root");
        if let Ok(root) = rustix::fs::open(
            &root_path,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        ) {
            let usable = |shell: &str| is_executable_in(root.as_fd(), shell);
            if let Some(text) = read_regular_at(root.as_fd(), "/etc/passwd", true) {
                for u in [uid, 0] {
                    if let Some(shell) = passwd_field(&text, u, 6)
                        && is_login_shell(shell)
                        && usable(shell)
                    {
                        return vec![shell.to_string()];
                    }
                }
            }
            if let Some(s) = env_shell.filter(|s| usable(s)) {
                return vec![s];
            }
            return vec!["/bin/sh".into()];
        }
    }
    vec![
        env_shell
            .filter(|s| Path::new(s).exists())
            .unwrap_or_else(|| "/bin/sh".into()),
    ]
}

/// Whether `path` is an executable regular file, resolved inside the root `root` (symlinks
/// included: RESOLVE_IN_ROOT).
fn is_executable_in(root: BorrowedFd<'_>, path: &str) -> bool {
    let Ok(fd) = rustix::fs::openat2(
        root,
        path,
        OFlags::PATH | OFlags::CLOEXEC,
        Mode::empty(),
        ResolveFlags::IN_ROOT,
    ) else {
        return false;
    };
    File::from(fd)
        .metadata()
        .is_ok_and(|m| m.is_file() && m.mode() & 0o111 != 0)
}

/// Read a regular file of at most [`READ_LIMIT`] bytes below `dir`. Never blocks on a FIFO or a
/// device, whatever the target put at that path. With `in_root`, `path` (and every symlink on the
/// way) is resolved with `dir` as the root.
fn read_regular_at(dir: BorrowedFd<'_>, path: &str, in_root: bool) -> Option<String> {
    let flags = OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NONBLOCK | OFlags::NOCTTY;
    let fd = if in_root {
        rustix::fs::openat2(dir, path, flags, Mode::empty(), ResolveFlags::IN_ROOT).ok()?
    } else {
        rustix::fs::openat(dir, path, flags, Mode::empty()).ok()?
    };
    let file = File::from(fd);
    if !file.metadata().ok()?.is_file() {
        return None;
    }
    let mut text = String::new();
    file.take(READ_LIMIT).read_to_string(&mut text).ok()?;
    Some(text)
}

/// Read a /proc/PID file through the process's directory fd.
fn read_proc_at(dir: BorrowedFd<'_>, name: &str) -> io::Result<Vec<u8>> {
    let fd = rustix::fs::openat(dir, name, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())?;
    let mut out = Vec::new();
    File::from(fd).take(READ_LIMIT).read_to_end(&mut out)?;
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Running the plan (caller side)
// ---------------------------------------------------------------------------------------------

/// Carry out `spec`: start the helper (this binary, `/proc/self/exe`), hand it the terminal, wait
/// for it. Returns the command's exit status (the helper exits with it, or dies of the same
/// signal); an error when entering failed before the command started.
///
/// The caller keeps its threads; it must not read the terminal meanwhile (the TUI pauses its input
/// thread and leaves raw mode and the alternate screen first). When stdin is a terminal and the
/// caller is in its foreground process group, the helper gets a process group of its own and the
/// terminal's foreground for the duration (so Ctrl-C and Ctrl-Z reach the command, not the
/// caller); the caller's group gets the foreground back afterwards.
pub fn run(spec: &EnterSpec) -> Result<ExitStatus, EnterError> {
    run_with_binary(spec, &Roots::default().proc.join("self/exe"))
}

/// [`run`] with an explicit nsview binary (tests run it from a test binary, whose own
/// /proc/self/exe is not nsview).
pub fn run_with_binary(spec: &EnterSpec, exe: &Path) -> Result<ExitStatus, EnterError> {
    let failed = |reason: String| EnterError::Failed {
        target: spec.target.clone(),
        reason,
    };
    let (read_end, write_end) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
        .map_err(|e| failed(format!("pipe: {e}")))?;
    let report_fd = write_end.as_raw_fd();
    let foreground = terminal_foreground();
    let mut cmd = std::process::Command::new(exe);
    cmd.arg0("nsview")
        .arg(HELPER_SUBCOMMAND)
        .args(spec.helper_args(Some(report_fd)));
    // SAFETY: the closure runs in the forked child before exec; it only makes system calls that
    // are async-signal-safe (fcntl, setpgid, pthread_sigmask, tcsetpgrp, getpid) on values it
    // owns, allocates nothing and takes no lock.
    unsafe {
        cmd.pre_exec(move || prepare_helper_process(report_fd, foreground));
    }
    let spawned = cmd.spawn();
    drop(write_end);
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => {
            if foreground {
                take_foreground_back();
            }
            return Err(failed(format!("cannot start {}: {e}", exe.display())));
        }
    };
    // Until the command is exec'd the helper may report an error; exec closes the pipe.
    let mut report = String::new();
    let _ = File::from(read_end).read_to_string(&mut report);
    let status = child.wait();
    if foreground {
        take_foreground_back();
    }
    let status = status.map_err(|e| failed(format!("waiting for the helper: {e}")))?;
    match report.lines().find(|l| !l.trim().is_empty()) {
        Some(line) => Err(EnterError::decode(line)),
        None => Ok(status),
    }
}

/// The exit code a shell would report for `status` (128 + signal when killed).
pub fn exit_code(status: &ExitStatus) -> i32 {
    status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}

/// Stdin is a terminal whose foreground process group is ours.
fn terminal_foreground() -> bool {
    let stdin = io::stdin();
    let fd = stdin.as_fd();
    nix::unistd::isatty(fd).unwrap_or(false)
        && nix::unistd::tcgetpgrp(fd).is_ok_and(|g| g == nix::unistd::getpgrp())
}

/// In the forked child before exec: keep the report pipe open across exec, and with `foreground`
/// become a process group of its own in the terminal's foreground.
fn prepare_helper_process(report_fd: RawFd, foreground: bool) -> io::Result<()> {
    // SAFETY: plain system calls on an fd number and on a stack-allocated signal set; all are
    // async-signal-safe, as required between fork and exec in a multithreaded parent.
    unsafe {
        if libc::fcntl(report_fd, libc::F_SETFD, 0) == -1 {
            return Err(io::Error::last_os_error());
        }
        if foreground {
            if libc::setpgid(0, 0) == -1 {
                return Err(io::Error::last_os_error());
            }
            // A background group may call tcsetpgrp only with SIGTTOU blocked.
            let mut set: libc::sigset_t = std::mem::zeroed();
            let mut old: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGTTOU);
            libc::pthread_sigmask(libc::SIG_BLOCK, &set, &mut old);
            let r = libc::tcsetpgrp(0, libc::getpid());
            let err = io::Error::last_os_error();
            libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
            if r == -1 {
                return Err(err);
            }
        }
    }
    Ok(())
}

/// Make the caller's process group the terminal's foreground again.
fn take_foreground_back() {
    let mut ttou = SigSet::empty();
    ttou.add(Signal::SIGTTOU);
    let mut old = SigSet::empty();
    if nix::sys::signal::pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&ttou), Some(&mut old)).is_ok()
    {
        let _ = nix::unistd::tcsetpgrp(io::stdin().as_fd(), nix::unistd::getpgrp());
        let _ = nix::sys::signal::pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&old), None);
    }
}

// ---------------------------------------------------------------------------------------------
// The helper (`nsview __enter`)
// ---------------------------------------------------------------------------------------------

/// The helper's command line, written by [`EnterSpec::helper_args`]. Not for people.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct HelperArgs {
    /// What is entered, for messages.
    #[arg(long)]
    pub target: String,
    /// The process entered through.
    #[arg(long)]
    pub pid: Option<i32>,
    /// Its start time when the plan was made.
    #[arg(long)]
    pub start_time: Option<u64>,
    /// TYPE:INODE, joined through the process.
    #[arg(long = "ns", value_name = "TYPE:INODE")]
    pub ns: Vec<String>,
    /// TYPE:INODE:PATH, a bind mount holding a namespace (repeated for each candidate path).
    #[arg(long = "ns-path", value_name = "TYPE:INODE:PATH")]
    pub ns_path: Vec<OsString>,
    #[arg(long)]
    pub no_cgroup: bool,
    #[arg(long, value_name = "DIR")]
    pub wd: Option<PathBuf>,
    #[arg(long)]
    pub as_target: bool,
    #[arg(long)]
    pub env_from_target: bool,
    /// Write a one-line error here instead of printing it (close-on-exec for the command).
    #[arg(long, value_name = "FD")]
    pub report_fd: Option<RawFd>,
    /// The command and its arguments.
    #[arg(last = true, required = true)]
    pub command: Vec<String>,
}

impl HelperArgs {
    /// Back to the plan ([`EnterSpec::helper_args`] in reverse).
    pub fn into_spec(self) -> Result<EnterSpec, EnterError> {
        let bad = |what: &str| EnterError::Invalid(format!("bad helper argument {what}"));
        let type_ino = |s: &str| -> Option<(NsType, u64)> {
            let (t, ino) = s.split_once(':')?;
            Some((NsType::parse(t)?, ino.parse().ok()?))
        };
        let mut namespaces: Vec<NsJoin> = Vec::new();
        for s in &self.ns {
            let (t, inode) = type_ino(s).ok_or_else(|| bad(s))?;
            namespaces.push(NsJoin {
                ns_type: t,
                inode,
                source: NsSource::Process,
            });
        }
        for v in &self.ns_path {
            let bytes = v.as_bytes();
            let text = String::from_utf8_lossy(bytes);
            let mut it = bytes.splitn(3, |b| *b == b':');
            let (Some(t), Some(ino), Some(path)) = (it.next(), it.next(), it.next()) else {
                return Err(bad(&text));
            };
            let key = format!(
                "{}:{}",
                String::from_utf8_lossy(t),
                String::from_utf8_lossy(ino)
            );
            let (t, inode) = type_ino(&key).ok_or_else(|| bad(&text))?;
            let path = PathBuf::from(std::ffi::OsStr::from_bytes(path));
            match namespaces
                .iter_mut()
                .find(|n| n.ns_type == t && n.inode == inode)
            {
                Some(NsJoin {
                    source: NsSource::BindMount(paths),
                    ..
                }) => paths.push(path),
                Some(_) => return Err(bad(&text)),
                None => namespaces.push(NsJoin {
                    ns_type: t,
                    inode,
                    source: NsSource::BindMount(vec![path]),
                }),
            }
        }
        namespaces.sort_by_key(|n| n.ns_type);
        if self.command.is_empty() {
            return Err(bad("(no command)"));
        }
        Ok(EnterSpec {
            target: self.target,
            pid: self.pid,
            start_time: self.start_time,
            namespaces,
            join_cgroups: !self.no_cgroup,
            wd: self.wd,
            as_target: self.as_target,
            env_from_target: self.env_from_target,
            command: self.command,
        })
    }
}

/// Where the helper sends its one-line error: the pipe from [`run`], or stderr.
#[derive(Debug, Clone, Copy)]
struct Reporter {
    fd: Option<RawFd>,
}

impl Reporter {
    /// Use `fd` if it is open, and keep it out of anything exec'd.
    fn adopt(fd: Option<RawFd>) -> Reporter {
        let fd = fd.filter(|&fd| {
            // SAFETY: F_GETFD/F_SETFD on an fd number only read and set its flags.
            unsafe {
                fd > 2
                    && libc::fcntl(fd, libc::F_GETFD) != -1
                    && libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) != -1
            }
        });
        Reporter { fd }
    }

    fn send(&self, e: &EnterError) {
        match self.fd {
            Some(fd) => {
                let line = format!("{}\n", e.encode());
                // SAFETY: `fd` was checked open in `adopt`; it is closed only right before exec or
                // by the parent after fork, after which `send` is not called.
                let fd = unsafe { BorrowedFd::borrow_raw(fd) };
                let _ = nix::unistd::write(fd, line.as_bytes());
            }
            None => eprintln!("nsview: {e}"),
        }
    }
}

fn warn(msg: &str) {
    eprintln!("nsview: warning: {msg}");
}

/// Entry point of `nsview __enter`: returns the exit status for the process.
pub fn helper_main(args: HelperArgs) -> i32 {
    // exec of /proc/self/exe names the process "exe"; ps and the tests look for "nsview".
    let _ = rustix::thread::set_name(c"nsview");
    let report = Reporter::adopt(args.report_fd);
    let result = args.into_spec().and_then(|spec| helper(&spec, report));
    match result {
        Ok(code) => code,
        Err(e) => {
            report.send(&e);
            e.exit_code()
        }
    }
}

/// Everything the helper opens before it joins anything.
#[derive(Default)]
struct Opened {
    pidfd: Option<OwnedFd>,
    proc_dir: Option<OwnedFd>,
    ns: Vec<OpenNs>,
    root: Option<OwnedFd>,
    cwd: Option<OwnedFd>,
    environ: Option<Vec<u8>>,
}

struct OpenNs {
    ns_type: NsType,
    fd: OwnedFd,
    /// Opened from /proc/PID/ns (so setns on the pidfd joins the same namespace).
    from_process: bool,
    /// The helper is in this namespace already (joining would be a no-op, or EINVAL for user).
    ours: bool,
}

fn helper(spec: &EnterSpec, report: Reporter) -> Result<i32, EnterError> {
    let failed = |reason: String| EnterError::Failed {
        target: spec.target.clone(),
        reason,
    };
    nix::sys::prctl::set_dumpable(false).map_err(|e| failed(format!("PR_SET_DUMPABLE: {e}")))?;
    let threads = std::fs::read_dir(Roots::default().proc.join("self/task"))
        .map(|d| d.count())
        .unwrap_or(1);
    if threads != 1 {
        return Err(failed(format!(
            "the helper has {threads} threads; it must have one to join mount and user namespaces"
        )));
    }
    let opened = open_target(spec)?;
    if spec.join_cgroups
        && let Some(dir) = &opened.proc_dir
    {
        join_cgroups(spec, dir.as_fd())?;
    }
    join_namespaces(spec, &opened)?;
    // The helper waits for the command: terminal signals are for the command only. The child
    // puts every disposition back to the default before exec.
    for sig in [Signal::SIGINT, Signal::SIGQUIT, Signal::SIGTSTP] {
        set_disposition(sig, SigHandler::SigIgn);
    }
    // SAFETY: the helper is single-threaded (checked above), so the child cannot inherit a lock
    // held by another thread; it may allocate and use the standard library normally.
    match unsafe { nix::unistd::fork() } {
        Ok(ForkResult::Child) => child_main(spec, opened, report),
        Ok(ForkResult::Parent { child }) => {
            drop(opened);
            // The report pipe and anything else: only the command's status is left to give.
            close_fds_above_2(None);
            Ok(wait_for(child))
        }
        Err(e) => Err(failed(format!("fork: {e}"))),
    }
}

fn set_disposition(sig: Signal, handler: SigHandler) {
    let action = SigAction::new(handler, SaFlags::empty(), SigSet::empty());
    // SAFETY: SIG_IGN and SIG_DFL install no handler code, so no signal-safety rules apply.
    unsafe {
        let _ = nix::sys::signal::sigaction(sig, &action);
    }
}

/// Open the process's directory, namespaces, root, cwd and environment (see the module docs).
fn open_target(spec: &EnterSpec) -> Result<Opened, EnterError> {
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

/// Write the helper's PID to cgroup.procs of the process's cgroup in every hierarchy mounted here.
fn join_cgroups(spec: &EnterSpec, proc_dir: BorrowedFd<'_>) -> Result<(), EnterError> {
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
fn join_namespaces(spec: &EnterSpec, o: &Opened) -> Result<(), EnterError> {
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

/// Wait for the command; stopped (Ctrl-Z) it is continued: nothing here could resume it later.
/// Returns its exit code, or dies of the signal that killed it.
fn wait_for(child: Pid) -> i32 {
    loop {
        match waitpid(child, Some(WaitPidFlag::WUNTRACED)) {
            Ok(WaitStatus::Exited(_, code)) => return code,
            Ok(WaitStatus::Signaled(_, sig, _)) => {
                set_disposition(sig, SigHandler::SigDfl);
                let mut set = SigSet::empty();
                set.add(sig);
                let _ = set.thread_unblock();
                let _ = nix::sys::signal::raise(sig);
                return 128 + sig as i32;
            }
            Ok(WaitStatus::Stopped(..)) => {
                let _ = nix::sys::signal::kill(child, Signal::SIGCONT);
            }
            Ok(_) | Err(Errno::EINTR) => {}
            Err(_) => return 1,
        }
    }
}

/// Close every fd above 2 except `keep`: close_range(2), or one by one on kernels without it.
fn close_fds_above_2(keep: Option<RawFd>) {
    let max = u32::MAX;
    let ranges: Vec<(u32, u32)> = match keep.and_then(|k| u32::try_from(k).ok()) {
        Some(k) if k > 2 => vec![(3, k - 1), (k + 1, max)],
        _ => vec![(3, max)],
    };
    for (lo, hi) in ranges {
        if lo > hi {
            continue;
        }
        // SAFETY: close_range(2) on fd numbers only; the callers no longer use any Rust object
        // that owns one of these fds (they are dropped or forgotten before).
        let r = unsafe { libc::syscall(libc::SYS_close_range, lo, hi, 0u32) };
        if r != 0 {
            let limit = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
                .map(|(soft, _)| soft.min(1 << 20) as u32)
                .unwrap_or(1024);
            for fd in lo..=hi.min(limit) {
                // SAFETY: as above; closing an fd that is not open fails harmlessly with EBADF.
                unsafe {
                    libc::close(fd as RawFd);
                }
            }
        }
    }
}

/// What the child execs.
struct Exec {
    path: CString,
    argv: Vec<CString>,
    env: Vec<CString>,
}

/// The forked child: finish entering, then exec the command; never returns.
fn child_main(spec: &EnterSpec, opened: Opened, report: Reporter) -> ! {
    let result = prepare_child(spec, &opened);
    // Nothing below uses these fds; close_fds_above_2 closes them (no double close on drop).
    std::mem::forget(opened);
    let e = match result {
        Ok(exec) => {
            close_fds_above_2(report.fd);
            let err = nix::unistd::execve(&exec.path, &exec.argv, &exec.env)
                .err()
                .unwrap_or(Errno::UnknownErrno);
            exec_error(spec, &exec.path, err)
        }
        Err(e) => e,
    };
    report.send(&e);
    // SAFETY: _exit(2) ends the process at once, without running destructors or atexit handlers
    // that belong to the parent's state.
    unsafe { libc::_exit(e.exit_code()) }
}

fn exec_error(spec: &EnterSpec, path: &CString, e: Errno) -> EnterError {
    let command = spec.command.first().cloned().unwrap_or_default();
    match e {
        Errno::ENOENT => EnterError::CommandMissing {
            command: format!(
                "{command} (found at {}, but its interpreter or loader is missing)",
                path.to_string_lossy()
            ),
            suggest: missing_suggestion(spec),
        },
        Errno::EACCES | Errno::EPERM => EnterError::CommandNotExecutable {
            command,
            reason: "permission denied".into(),
        },
        Errno::ENOEXEC => EnterError::CommandNotExecutable {
            command,
            reason: "not an executable format".into(),
        },
        e => EnterError::CommandNotExecutable {
            command,
            reason: e.desc().to_string(),
        },
    }
}

/// For a missing command with the mount namespace joined: the other types, to suggest.
fn missing_suggestion(spec: &EnterSpec) -> Option<String> {
    let types = spec.types();
    types.contains(&NsType::Mnt).then(|| {
        types
            .iter()
            .filter(|t| **t != NsType::Mnt)
            .map(|t| t.name())
            .collect::<Vec<_>>()
            .join(",")
    })
}

fn prepare_child(spec: &EnterSpec, o: &Opened) -> Result<Exec, EnterError> {
    let failed = |reason: String| EnterError::Failed {
        target: spec.target.clone(),
        reason,
    };
    // Dispositions the helper ignored (and the runtime's SIGPIPE) must not reach the command.
    for sig in Signal::iterator() {
        if sig != Signal::SIGKILL && sig != Signal::SIGSTOP {
            set_disposition(sig, SigHandler::SigDfl);
        }
    }
    let _ = SigSet::empty().thread_set_mask();

    enter_root_and_cwd(spec, o)?;

    let joined_user = o.ns.iter().any(|n| n.ns_type == NsType::User && !n.ours);
    let mut no_new_privs = false;
    if spec.as_target {
        let dir = o.proc_dir.as_ref().ok_or_else(|| {
            EnterError::Invalid("--as-target needs a process to take credentials from".into())
        })?;
        // Read now, after joining its user namespace: the IDs are translated into it.
        let status = read_proc_at(dir.as_fd(), "status")
            .map_err(|_| EnterError::TargetGone(format!("{} exited", spec.target)))?;
        let creds = parse_creds(&String::from_utf8_lossy(&status))
            .ok_or_else(|| failed("cannot parse its credentials in /proc/PID/status".into()))?;
        adopt_creds(spec, &creds)?;
        no_new_privs = creds.no_new_privs;
    } else if joined_user {
        become_user_ns_root();
    }

    let environ = o.environ.as_deref();
    let home = {
        let uid = nix::unistd::getuid().as_raw();
        read_regular_at(rustix::fs::CWD, "/etc/passwd", false)
            .and_then(|p| passwd_field(&p, uid, 5).map(str::to_string))
            .filter(|h| h.starts_with('/'))
    };
    let (env, path_var) = build_env(
        spec.env_from_target,
        environ,
        std::env::var("TERM").ok(),
        home,
    );
    let command = spec
        .command
        .first()
        .ok_or_else(|| EnterError::Invalid("no command".into()))?;
    let path = find_command(spec, command, &path_var)?;
    let cstr = |s: &str| {
        CString::new(s).map_err(|_| EnterError::Invalid(format!("NUL byte in argument {s:?}")))
    };
    let argv = spec
        .command
        .iter()
        .map(|a| cstr(a))
        .collect::<Result<Vec<_>, _>>()?;
    let env = env
        .iter()
        .map(|e| CString::new(e.as_slice()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| failed("NUL byte in the environment".into()))?;
    let path = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| failed("NUL byte in the command's path".into()))?;
    // Last of the privilege changes, as runc does.
    if no_new_privs {
        nix::sys::prctl::set_no_new_privs().map_err(|e| failed(format!("no_new_privs: {e}")))?;
    }
    Ok(Exec { path, argv, env })
}

/// Whether the cwd is reachable from the current root (the kernel's getcwd says "(unreachable)"
/// otherwise, which the C library turns into ENOENT).
fn cwd_inside_root() -> bool {
    nix::unistd::getcwd().is_ok_and(|p| p.is_absolute())
}

/// After joining the mount namespace: chroot to the process's root, chdir to its cwd (or --wd),
/// and refuse a cwd outside the new root.
fn enter_root_and_cwd(spec: &EnterSpec, o: &Opened) -> Result<(), EnterError> {
    let failed = |reason: String| EnterError::Failed {
        target: spec.target.clone(),
        reason,
    };
    let joins_mnt = spec.types().contains(&NsType::Mnt);
    if joins_mnt {
        if let Some(root) = &o.root {
            nix::unistd::fchdir(root).map_err(|e| failed(format!("fchdir to its root: {e}")))?;
            nix::unistd::chroot(".").map_err(|e| match e {
                Errno::EPERM => {
                    EnterError::PermissionDenied(format!("chroot to the root of {}", spec.target))
                }
                e => failed(format!("chroot to its root: {e}")),
            })?;
        }
        // setns into a mount namespace already moved root and cwd to its root.
        nix::unistd::chdir("/").map_err(|e| failed(format!("chdir /: {e}")))?;
    }
    if let Some(wd) = &spec.wd {
        nix::unistd::chdir(wd.as_path()).map_err(|e| {
            EnterError::Invalid(format!(
                "--wd {}: {}{}",
                wd.display(),
                e.desc(),
                if joins_mnt { " (in the target)" } else { "" }
            ))
        })?;
    } else if joins_mnt
        && let Some(cwd) = &o.cwd
        && (nix::unistd::fchdir(cwd).is_err() || !cwd_inside_root())
    {
        warn("the target's working directory is outside its root: starting in /");
        nix::unistd::chdir("/").map_err(|e| failed(format!("chdir /: {e}")))?;
    }
    if !cwd_inside_root() {
        return Err(failed(
            "the working directory is outside the root; refusing to run the command there".into(),
        ));
    }
    Ok(())
}

/// Credentials read from /proc/PID/status.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TargetCreds {
    /// Real, effective, saved.
    uid: [u32; 3],
    gid: [u32; 3],
    groups: Vec<u32>,
    inheritable: u64,
    permitted: u64,
    effective: u64,
    bounding: u64,
    ambient: u64,
    no_new_privs: bool,
}

fn parse_creds(status: &str) -> Option<TargetCreds> {
    let mut uid = None;
    let mut gid = None;
    let mut groups = Vec::new();
    let mut caps = [None::<u64>; 5];
    let mut no_new_privs = false;
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
            _ => {}
        }
    }
    Some(TargetCreds {
        uid: uid?,
        gid: gid?,
        groups,
        inheritable: caps[0]?,
        permitted: caps[1]?,
        effective: caps[2]?,
        bounding: caps[3]?,
        ambient: caps[4].unwrap_or(0),
        no_new_privs,
    })
}

/// Take the target's credentials, in runc's order: bounding set, keep-caps, setgroups / setgid /
/// setuid, capabilities (then ambient). no_new_privs is set last, right before exec.
fn adopt_creds(spec: &EnterSpec, c: &TargetCreds) -> Result<(), EnterError> {
    use rustix::thread::{CapabilitySet, CapabilitySets};
    let denied = |what: &str, e: &dyn std::fmt::Display| {
        EnterError::PermissionDenied(format!("{what} for --as-target ({e})"))
    };
    for cap in 0..64u32 {
        if c.bounding & (1 << cap) != 0 {
            continue;
        }
        match rustix::thread::remove_capability_from_bounding_set(CapabilitySet::from_bits_retain(
            1 << cap,
        )) {
            Ok(()) => {}
            // Past the kernel's last capability.
            Err(rustix::io::Errno::INVAL) => break,
            Err(e) => return Err(denied("dropping capabilities from the bounding set", &e)),
        }
    }
    rustix::thread::set_keep_capabilities(true).map_err(|e| denied("PR_SET_KEEPCAPS", &e))?;
    let groups: Vec<Gid> = c.groups.iter().map(|g| Gid::from_raw(*g)).collect();
    if let Err(e) = nix::unistd::setgroups(&groups) {
        // Denied in a user namespace with setgroups "deny": fine when nothing would change.
        let current = nix::unistd::getgroups().unwrap_or_default();
        if !(e == Errno::EPERM && (groups.is_empty() || groups == current)) {
            return Err(denied("setgroups", &e));
        }
    }
    let [rg, eg, sg] = c.gid.map(Gid::from_raw);
    nix::unistd::setresgid(rg, eg, sg).map_err(|e| denied("setresgid", &e))?;
    let [ru, eu, su] = c.uid.map(Uid::from_raw);
    nix::unistd::setresuid(ru, eu, su).map_err(|e| denied("setresuid", &e))?;
    rustix::thread::set_capabilities(
        None,
        CapabilitySets {
            effective: CapabilitySet::from_bits_retain(c.effective),
            permitted: CapabilitySet::from_bits_retain(c.permitted),
            inheritable: CapabilitySet::from_bits_retain(c.inheritable),
        },
    )
    .map_err(|e| denied("capset", &e))?;
    rustix::thread::clear_ambient_capability_set().map_err(|e| denied("ambient set", &e))?;
    for cap in 0..64u32 {
        if c.ambient & (1 << cap) != 0 {
            rustix::thread::configure_capability_in_ambient_set(
                CapabilitySet::from_bits_retain(1 << cap),
                true,
            )
            .map_err(|e| denied("raising an ambient capability", &e))?;
        }
    }
    rustix::thread::set_keep_capabilities(false).map_err(|e| EnterError::Failed {
        target: spec.target.clone(),
        reason: format!("PR_SET_KEEPCAPS: {e}"),
    })?;
    Ok(())
}

/// After joining a user namespace without --as-target: become its root, as nsenter does.
fn become_user_ns_root() {
    // Denied when the namespace's setgroups is "deny"; the groups are then unmapped anyway.
    let _ = nix::unistd::setgroups(&[]);
    let root_gid = Gid::from_raw(0);
    let root_uid = Uid::from_raw(0);
    if nix::unistd::setresgid(root_gid, root_gid, root_gid).is_err()
        || nix::unistd::setresuid(root_uid, root_uid, root_uid).is_err()
    {
        warn("uid or gid 0 is not mapped in the target's user namespace: running unmapped");
    }
}

/// The command's environment and the PATH it is looked up in. Minimal: TERM (the caller's
/// terminal), PATH from the target's environment (or [`DEFAULT_PATH`]), HOME (from the passwd of
/// the root the command runs in, else the target's). With `from_target`: the target's whole
/// environment (plus the caller's TERM when it has none).
fn build_env(
    from_target: bool,
    environ: Option<&[u8]>,
    term: Option<String>,
    home: Option<String>,
) -> (Vec<Vec<u8>>, String) {
    let target: Vec<&[u8]> = environ
        .unwrap_or_default()
        .split(|b| *b == 0)
        .filter(|e| !e.is_empty() && e.contains(&b'='))
        .collect();
    let get = |name: &str| {
        let prefix = format!("{name}=");
        target
            .iter()
            .find_map(|e| e.strip_prefix(prefix.as_bytes()))
            .map(|v| String::from_utf8_lossy(v).into_owned())
    };
    let path = get("PATH")
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| DEFAULT_PATH.to_string());
    let mut env: Vec<Vec<u8>> = Vec::new();
    if from_target {
        env.extend(target.iter().map(|e| e.to_vec()));
        if get("TERM").is_none()
            && let Some(t) = term
        {
            env.push(format!("TERM={t}").into_bytes());
        }
    } else {
        if let Some(t) = term {
            env.push(format!("TERM={t}").into_bytes());
        }
        env.push(format!("PATH={path}").into_bytes());
        let home = home.or_else(|| get("HOME")).unwrap_or_else(|| "/".into());
        env.push(format!("HOME={home}").into_bytes());
    }
    (env, path)
}

/// Look `command` up as execvp(3) would, in `path_var`, inside the current root and with the
/// current credentials.
fn find_command(spec: &EnterSpec, command: &str, path_var: &str) -> Result<PathBuf, EnterError> {
    let missing = || EnterError::CommandMissing {
        command: command.to_string(),
        suggest: missing_suggestion(spec),
    };
    let not_exec = |reason: &str| EnterError::CommandNotExecutable {
        command: command.to_string(),
        reason: reason.to_string(),
    };
    let executable = |p: &Path| nix::unistd::access(p, nix::unistd::AccessFlags::X_OK).is_ok();
    if command.is_empty() {
        return Err(missing());
    }
    if command.contains('/') {
        let p = PathBuf::from(command);
        return match std::fs::metadata(&p) {
            Err(_) => Err(missing()),
            Ok(m) if m.is_dir() => Err(not_exec("it is a directory")),
            Ok(m) if m.file_type().is_fifo() => Err(not_exec("it is a FIFO")),
            Ok(_) if !executable(&p) => Err(not_exec("permission denied")),
            Ok(_) => Ok(p),
        };
    }
    let mut saw_noexec = false;
    for dir in path_var.split(':') {
        let dir = if dir.is_empty() { "." } else { dir };
        let p = Path::new(dir).join(command);
        if std::fs::metadata(&p).is_ok_and(|m| m.is_file()) {
            if executable(&p) {
                return Ok(p);
            }
            saw_noexec = true;
        }
    }
    Err(if saw_noexec {
        not_exec("permission denied")
    } else {
        missing()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Wrap {
        #[command(flatten)]
        args: HelperArgs,
    }

    fn spec() -> EnterSpec {
        EnterSpec {
            target: "PID 7146".into(),
            pid: Some(7146),
            start_time: Some(123456),
            namespaces: vec![
                NsJoin {
                    ns_type: NsType::Mnt,
                    inode: 4026532385,
                    source: NsSource::Process,
                },
                NsJoin {
                    ns_type: NsType::Net,
                    inode: 4026532390,
                    source: NsSource::BindMount(vec![
                        "/run/netns/a:b".into(),
                        "/proc/1/root/run/netns/a:b".into(),
                    ]),
                },
            ],
            join_cgroups: false,
            wd: Some("/srv".into()),
            as_target: true,
            env_from_target: false,
            command: vec!["sh".into(), "-c".into(), "echo --ns $$".into()],
        }
    }

    #[test]
    fn helper_args_round_trip() {
        let s = spec();
        let mut argv: Vec<OsString> = vec!["nsview".into()];
        argv.extend(s.helper_args(Some(9)));
        let parsed = Wrap::try_parse_from(argv).expect("parses").args;
        assert_eq!(parsed.report_fd, Some(9));
        assert_eq!(parsed.into_spec(), Ok(s));
    }

    #[test]
    fn errors_survive_the_pipe_and_keep_their_exit_codes() {
        let all = [
            EnterError::TargetGone("process 12 exited".into()),
            EnterError::Unsupported(NsType::Time),
            EnterError::PermissionDenied("joining the net namespace of PID 1".into()),
            EnterError::CommandMissing {
                command: "bash".into(),
                suggest: Some("uts,ipc,pid,net".into()),
            },
            EnterError::CommandMissing {
                command: "nosuch".into(),
                suggest: None,
            },
            EnterError::CommandNotExecutable {
                command: "x".into(),
                reason: "permission denied".into(),
            },
            EnterError::Invalid("--wd /x: No such file".into()),
            EnterError::Failed {
                target: "PID 1".into(),
                reason: "fork: again".into(),
            },
        ];
        for e in all {
            assert_eq!(EnterError::decode(&e.encode()), e);
            assert!(!e.to_string().contains('\n'));
        }
        let missing = EnterError::CommandMissing {
            command: "bash".into(),
            suggest: Some("uts,pid".into()),
        };
        assert_eq!(missing.exit_code(), 127);
        assert!(missing.to_string().contains("--ns uts,pid"));
        assert_eq!(EnterError::TargetGone(String::new()).exit_code(), 1);
    }

    #[test]
    fn passwd_shells() {
        let p = "root:x:0:0:root:/root:/bin/ash\nnginx:x:101:101::/var/lib/nginx:/sbin/nologin\n";
        assert_eq!(passwd_field(p, 0, 6), Some("/bin/ash"));
        assert_eq!(passwd_field(p, 101, 5), Some("/var/lib/nginx"));
        assert_eq!(passwd_field(p, 5, 6), None);
        assert!(is_login_shell("/bin/ash"));
        assert!(!is_login_shell("/sbin/nologin"));
        assert!(!is_login_shell("/bin/false"));
    }

    #[test]
    fn creds_from_status() {
        let status = "Name:\tsleep\nUid:\t1000\t1001\t1002\t1001\nGid:\t50\t51\t52\t51\n\
                      Groups:\t4 24 \nCapInh:\t0000000000000000\nCapPrm:\t00000000a80425fb\n\
                      CapEff:\t00000000a80425fb\nCapBnd:\t00000000a80425fb\n\
                      CapAmb:\t0000000000000000\nNoNewPrivs:\t1\n";
        let c = parse_creds(status).expect("parses");
        assert_eq!(c.uid, [1000, 1001, 1002]);
        assert_eq!(c.gid, [50, 51, 52]);
        assert_eq!(c.groups, vec![4, 24]);
        assert_eq!(c.bounding, 0xa80425fb);
        assert!(c.no_new_privs);
    }

    #[test]
    fn minimal_and_full_environments() {
        let environ = b"PATH=/opt/bin:/bin\0SECRET=1\0HOME=/home/app\0\0";
        let (env, path) = build_env(false, Some(environ), Some("xterm".into()), None);
        assert_eq!(path, "/opt/bin:/bin");
        let env: Vec<String> = env
            .into_iter()
            .map(|e| String::from_utf8(e).expect("utf8"))
            .collect();
        assert_eq!(env, ["TERM=xterm", "PATH=/opt/bin:/bin", "HOME=/home/app"]);
        let (env, _) = build_env(true, Some(environ), Some("xterm".into()), None);
        assert_eq!(env.len(), 4);
        let (env, path) = build_env(false, None, None, Some("/root".into()));
        assert_eq!(path, DEFAULT_PATH);
        assert_eq!(env.len(), 2);
    }
}
