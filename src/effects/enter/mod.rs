//! `nsview enter`: run a command inside the namespaces and cgroups of a process, an isolation group
//! (container), a cgroup's init process, or a namespace held only by a bind mount.
//!
//! Two halves:
//! - [`EnterSpec::for_target`] turns a snapshot and a resolved TARGET into a plan: which namespaces
//!   (type and inode), the process whose root, cwd, cgroups and credentials are used (PID and start
//!   time, so PID reuse is noticed), and the command. It runs in the caller (CLI or TUI) and
//!   changes nothing.
//! - [`run_inside`] carries the plan out: it starts the nsview binary itself (`/proc/self/exe`) with the
//!   hidden subcommand `__enter` (the helper), relays the command's own pty when stdin is a
//!   terminal (`pty`) and waits for it. The helper runs from a sealed memfd copy of the binary
//!   (`sealed_exe`), so its /proc/PID/exe, and its child's until the command is exec'd, never
//!   leads to the host's binary (CVE-2019-5736). The caller
//!   may be multithreaded (the TUI is); the helper is a fresh single-threaded process, which the
//!   kernel requires to join a mount or user namespace.
//!
//! The helper ([`helper_main`]), in order:
//! 1. makes itself non-dumpable (PR_SET_DUMPABLE 0) before it holds anything, so nothing in the
//!    target can ptrace it or read its memory (runc, CVE-2019-5736); again after joining the
//!    namespaces and, in the child, after every credential change, which resets it (`dumpable`);
//! 2. opens everything first: a pidfd for the target, its /proc/PID directory (checked against the
//!    start time in the plan), every namespace file (each checked against the inode in the plan),
//!    the target's root, cwd and environment; then checks through the pidfd that the target is
//!    still alive, so all of these belong to the one process the plan names;
//! 3. joins the target's cgroups in every v1 hierarchy and the unified one, by writing its own PID
//!    to their cgroup.procs, so the command is limited and accounted like the target from its first
//!    instruction (unless `--no-cgroup`); a frozen one (v1 freezer.state, v2 cgroup.freeze or
//!    cgroup.events) is refused, checked right before joining, naming `nsview thaw TARGET`: a
//!    task that joins it stops in uninterruptible sleep until it is thawed;
//! 4. joins the namespaces: atomically with setns(pidfd, flags) where the kernel supports it
//!    (Linux 5.8), otherwise one namespace file at a time in runc's order: every type but user,
//!    then user, then those that needed the user namespace's credentials;
//! 5. when the caller's stdin is a terminal, opens a pty (the target's /dev/ptmx when mnt is
//!    joined) and sends its master to the caller; forks, so that the command really is inside the
//!    pid and time namespaces;
//! 6. in the child: setsid (with the pty's slave as controlling terminal and fds 0-2), chroot to
//!    the target's root and chdir to its cwd (or `--wd`), then checks that the cwd is inside the
//!    new root; adopts the target's credentials (or `--user`'s within the target's bounds; none
//!    with `--privileged`) in runc's order (bounding set, keep-caps, setgroups/setgid/setuid,
//!    capabilities, no_new_privs last) and its seccomp filter (read by the helper with ptrace
//!    before step 3; installed last, or before the capabilities drop when the target has no
//!    no_new_privs, as runc does); builds a minimal environment (PATH fixed when mnt is not
//!    joined); finds the command; closes every fd above 2; execs;
//! 7. the parent closes everything it holds, waits (passing SIGINT, SIGTERM, SIGHUP and SIGQUIT on
//!    to the command), and exits with the command's status.
//!
//! The helper runs in a process group of its own: the terminal's signals reach the caller, which
//! passes them on, and kills a helper that does not end before the command has started
//! (`interrupt`), so Ctrl-C always works, even when a cgroup froze the helper.
//!
//! Errors before the command runs travel back to [`run_inside`] over a pipe (one line: a kind and the
//! text), so the CLI and the TUI get a typed [`EnterError`] rather than just an exit status. The
//! pipe's write end is close-on-exec in the child: it is gone when the command starts.
//!
//! The rooms, in the order they run:
//! - caller: `plan` (TARGET -> [`EnterSpec`]; `target_fs` finds the default shell in the target's
//!   root), `helper_args` (the plan as the helper's command line and back), `spawn` ([`run_inside`]),
//!   `interrupt` (Ctrl-C while waiting for the helper), `sealed_exe` (the memfd copy the helper
//!   runs from);
//! - helper: `helper` (steps 1, 5, 7 and the single-thread rule), `open` (step 2, through the
//!   readers in `sys::proc_handle`), `join` (steps 3 and 4);
//! - child: `child` (step 6), `creds` (its credentials), `seccomp` (the target's filters, read in
//!   the helper);
//! - the command's terminal: `pty` (the caller's relay, the helper's pty, the child's session);
//! - shared by helper and child: `error` ([`EnterError`] and its one-line form), `report` (the
//!   pipe), `inherit` (signal dispositions and fds that fork and exec pass on), `dumpable`;
//! - shared by the caller's poll loops (`pty`, `interrupt`): `signal_pipe`.
//!
//! Sibling files import each other without a circle (tests/layers.rs checks it): the helper calls
//! into open, join and child, which never call back; error, report, inherit,
//! dumpable and signal_pipe are leaves.

mod child;
mod creds;
mod dumpable;
mod error;
mod helper;
mod helper_args;
mod inherit;
mod interrupt;
mod join;
mod open;
mod plan;
mod pty;
mod report;
mod sealed_exe;
mod seccomp;
mod signal_pipe;
mod spawn;
mod target_fs;

pub use child::DEFAULT_PATH;
pub use error::EnterError;
pub use helper::helper_main;
pub use helper_args::{HELPER_SUBCOMMAND, HelperArgs};
pub use plan::{
    Credentials, EnterOptions, EnterSpec, NsJoin, NsSource, default_types, kernel_supports,
};
pub use spawn::{exit_code, run_inside, run_with_binary};
