//! Processes a test starts ([`ChildGuard`], [`NsProcess`]), killed when the test ends.

use std::io;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

use super::{NS_TYPES, POLL_TIMEOUT, children_of, comm, host_ns_map, ns_map, poll};

/// A process this test started, in a process group of its own. Drop sends SIGKILL to that group
/// (which also reaches processes the child forked, e.g. the inner process of `unshare --fork`,
/// unless they changed their process group) and reaps the child.
///
/// The child also gets PR_SET_PDEATHSIG=SIGKILL so it dies if the test process is killed before
/// the guard can run. The kernel sends that signal when the *thread* that spawned the child
/// exits: keep the guard on the thread that created it (the normal case in a test).
pub struct ChildGuard {
    child: Child,
    reaped: bool,
    what: String,
}

impl ChildGuard {
    /// Start `cmd` (stdin and stdout closed, stderr inherited so failures show in the test log).
    pub fn spawn(cmd: &mut Command) -> ChildGuard {
        let what = format!("{cmd:?}");
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .process_group(0);
        // SAFETY: the closure runs in the forked child before exec and only calls prctl(2),
        // which is async-signal-safe; it touches no memory shared with the parent.
        unsafe {
            cmd.pre_exec(|| {
                nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).map_err(io::Error::from)
            });
        }
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
        ChildGuard {
            child,
            reaped: false,
            what,
        }
    }

    /// `sh -c SCRIPT`.
    pub fn spawn_sh(script: &str) -> ChildGuard {
        ChildGuard::spawn(Command::new("sh").args(["-c", script]))
    }

    /// `sleep 100000` (never returns by itself within a test).
    pub fn spawn_sleep() -> ChildGuard {
        let g = ChildGuard::spawn(Command::new("sleep").arg("100000"));
        let pid = g.pid();
        poll("sleep to exec", POLL_TIMEOUT, || {
            (comm(pid).as_deref() == Some("sleep")).then_some(())
        });
        g
    }

    /// The child's PID (also its process group ID).
    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Whether the child has exited. It is not reaped (waitid with WNOWAIT): while it is an
    /// unreaped zombie its PID, which is also the process group ID, cannot be reused, so Drop can
    /// still signal the group safely (e.g. processes it left behind).
    pub fn exited(&self) -> bool {
        use nix::sys::wait::{Id, WaitPidFlag, WaitStatus, waitid};
        if self.reaped {
            return true;
        }
        let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT;
        !matches!(
            waitid(Id::Pid(Pid::from_raw(self.pid())), flags),
            Ok(WaitStatus::StillAlive)
        )
    }

    /// Wait until the child has exactly one child process and return it (e.g. the inner process of
    /// `unshare --fork`). Panics if the child exits first.
    pub fn single_child(&self) -> i32 {
        let pid = self.pid();
        let what = format!("the child of {} ({})", pid, self.what);
        poll(&what, POLL_TIMEOUT, || {
            assert!(!self.exited(), "{} exited early", self.what);
            match children_of(pid).as_slice() {
                [one] => Some(*one),
                _ => None,
            }
        })
    }

    /// SIGKILL the process group and reap the child. Idempotent.
    pub fn kill(&mut self) {
        if self.reaped {
            return;
        }
        // The group leader is our unreaped child (alive or a zombie), so its PID (= the group ID)
        // cannot have been reused: the signal reaches only processes of the group we created.
        let _ = killpg(Pid::from_raw(self.pid()), Signal::SIGKILL);
        let _ = self.child.wait();
        self.reaped = true;
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A process started with `unshare --fork` in new namespaces: `outer` is the unshare process (our
/// child), `inner` the process it forked, which runs the script.
pub struct NsProcess {
    pub guard: ChildGuard,
    pub outer: i32,
    pub inner: i32,
}

impl NsProcess {
    /// Start `unshare --fork --kill-child FLAGS... sh -c SCRIPT` and wait until the inner process
    /// exists, its namespaces of the unshared types differ from the host's, and its comm is
    /// `ready_comm` (let the script end with `exec sleep ...` and pass "sleep": then everything the
    /// script did before, such as `hostname`, is done).
    ///
    /// FLAGS are unshare's namespace options, e.g. `["--pid", "--uts"]`; `--mount-proc` is allowed.
    pub fn spawn(flags: &[&str], script: &str, ready_comm: &str) -> NsProcess {
        let mut cmd = Command::new("unshare");
        cmd.arg("--fork")
            .arg("--kill-child")
            .args(flags)
            .args(["sh", "-c", script]);
        let guard = ChildGuard::spawn(&mut cmd);
        let outer = guard.pid();
        let inner = guard.single_child();
        let host = host_ns_map();
        let types: Vec<&str> = flags
            .iter()
            .filter_map(|f| f.strip_prefix("--"))
            .map(|f| if f == "mount" { "mnt" } else { f })
            .filter(|t| NS_TYPES.contains(t))
            .collect();
        poll(
            &format!("{inner} to be ready in its namespaces"),
            POLL_TIMEOUT,
            || {
                assert!(!guard.exited(), "unshare {flags:?} exited early");
                let ns = ns_map(inner);
                let moved = types
                    .iter()
                    .all(|t| ns.contains_key(*t) && ns.get(*t) != host.get(*t));
                (moved && comm(inner).as_deref() == Some(ready_comm)).then_some(())
            },
        );
        NsProcess {
            guard,
            outer,
            inner,
        }
    }
}

/// A host directory holding a fake `id` that leaves a mark when it runs: put first in a target's
/// PATH, it proves a command was never looked up there. Removed on drop.
pub struct FakeId {
    dir: tempfile::TempDir,
    /// Exists once the fake ran.
    pub mark: std::path::PathBuf,
}

impl FakeId {
    pub fn new() -> FakeId {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::Builder::new()
            .prefix("nsview-test-fakebin.")
            .tempdir()
            .expect("temp dir");
        let mode = |m| std::fs::Permissions::from_mode(m);
        std::fs::set_permissions(dir.path(), mode(0o755)).expect("chmod");
        let mark = dir.path().join("ran");
        let fake = dir.path().join("id");
        let script = format!("#!/bin/sh\necho fake > {}\necho fake-id\n", mark.display());
        std::fs::write(&fake, script).expect("write fake id");
        std::fs::set_permissions(&fake, mode(0o755)).expect("chmod");
        FakeId { dir, mark }
    }

    /// A PATH with the fake's directory first, then /usr/bin and /bin.
    pub fn path(&self) -> String {
        format!("{}:/usr/bin:/bin", self.dir.path().display())
    }
}
