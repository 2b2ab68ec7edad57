//! Shared harness for tests that run the real `nsview` binary against the real kernel.
//!
//! Everything a test creates (processes, named network namespaces, cgroups) is owned by a guard
//! whose `Drop` removes it, also when the test panics. The safety rules of
//! shared/docs/testing.md are enforced here rather than left to each test:
//! - cgroups are only ever created, written and removed under `/sys/fs/cgroup/<hier>/nsview-test-<pid>/`
//!   where `<pid>` is this test process;
//! - only processes this test started are signalled (by the process group we created, or, for
//!   stragglers left in one of our own cgroups, through a pidfd checked against that cgroup);
//! - named network namespaces are `nsview-test-<pid>-<name>`.
//!
//! Tests of one binary run as parallel threads of one process: every name a test passes in must
//! be unique among the tests of that binary (use the test's own name).
//!
//! The one harness of every test file (`mod common;`):
//! - [`run`]: every command a test runs to completion (nsview and helpers) has a timeout;
//! - [`fixture`]: fake hosts (/proc and /sys/fs/cgroup trees) for `nsview --root DIR`;
//! - [`scenarios`]: the named fixture hosts the test files share (v1, v2, hybrid, Docker's
//!   cgroupfs and systemd drivers, Kubernetes, ...);
//! - [`fake_docker`]: a Docker Engine API on a fixture's socket;
//! - [`runtimes`]: containers from real runtimes (Docker, podman, runc, LXC);
//! - here: skipping ([`skip`], a failure under CI=true), names, polling, the kernel's truth from
//!   /proc, guards for processes, named netns and cgroups, lookups in nsview's JSON, tmux.

#![allow(dead_code)]

pub mod fake_docker;
pub mod fixture;
pub mod run;
pub mod runtimes;
pub mod scenarios;

// Each test binary uses a part of the harness.
#[allow(unused_imports)]
pub use fixture::*;
#[allow(unused_imports)]
pub use run::*;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use serde_json::Value;

/// The namespace types of namespaces(7), in nsview's (and lsns's) order.
pub const NS_TYPES: [&str; 8] = ["mnt", "uts", "ipc", "pid", "net", "user", "cgroup", "time"];

/// Where the cgroup hierarchies are mounted on the machines these tests run on.
pub const CGROUP_ROOT: &str = "/sys/fs/cgroup";

/// How long any single wait for the kernel (a process to appear, a link to come up) may take.
pub const POLL_TIMEOUT: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------------------------
// Skipping
// ---------------------------------------------------------------------------------------------

/// True when running under CI, where a skipped test counts as a failure.
pub fn under_ci() -> bool {
    std::env::var("CI").map(|v| v == "true").unwrap_or(false)
}

/// Report that `test` cannot run and why. Under CI (CI=true) this panics: a skip is a failure.
pub fn skip(test: &str, reason: &str) {
    if under_ci() {
        panic!("{test}: cannot run under CI: {reason}");
    }
    eprintln!("SKIPPED {test}: {reason}");
}

/// True when the tests may touch the real kernel: we are root and every tool in `tools` is on
/// PATH. Otherwise prints why the test is skipped and returns false (panics under CI).
pub fn require_root_and_tools(test: &str, tools: &[&str]) -> bool {
    if !nix::unistd::geteuid().is_root() {
        skip(test, "needs root (creates namespaces and cgroups)");
        return false;
    }
    for tool in tools {
        if which(tool).is_none() {
            skip(test, &format!("needs `{tool}` on PATH"));
            return false;
        }
    }
    true
}

/// The full path of `tool` if it is an executable on PATH.
pub fn which(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(tool))
        .find(|p| {
            fs::metadata(p)
                .map(|m| m.is_file() && m.mode() & 0o111 != 0)
                .unwrap_or(false)
        })
}

// ---------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------

/// This test process's PID: the `<pid>` in every name the harness creates.
pub fn test_pid() -> u32 {
    std::process::id()
}

/// `nsview-test-<pid>`: the parent cgroup of everything this process creates in a hierarchy.
pub fn cgroup_parent_name() -> String {
    format!("nsview-test-{}", test_pid())
}

/// `nsview-test-<pid>-<name>`: a name that is unique for this process and test.
pub fn unique_name(name: &str) -> String {
    format!("nsview-test-{}-{}", test_pid(), name)
}

// ---------------------------------------------------------------------------------------------
// Polling
// ---------------------------------------------------------------------------------------------

/// Call `f` until it returns `Some`, backing off from 2 ms to 50 ms; panic naming `what` after
/// `timeout`. Use instead of fixed sleeps.
pub fn poll<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    match try_poll(timeout, &mut f) {
        Some(v) => v,
        None => panic!("timed out after {timeout:?} waiting for {what}"),
    }
}

/// Like [`poll`] but returns `None` on timeout.
pub fn try_poll<T>(timeout: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(2);
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

// ---------------------------------------------------------------------------------------------
// Reading the kernel's truth from /proc
// ---------------------------------------------------------------------------------------------

/// The inode in a namespace link text such as `net:[4026531833]`.
pub fn parse_ns_link(text: &str) -> Option<u64> {
    let start = text.find(":[")? + 2;
    let end = text[start..].find(']')? + start;
    text[start..end].parse().ok()
}

/// The inode of `/proc/PID/ns/TYPE` (readlink), None when unreadable or gone.
pub fn ns_inode(pid: i32, ty: &str) -> Option<u64> {
    let link = fs::read_link(format!("/proc/{pid}/ns/{ty}")).ok()?;
    parse_ns_link(&link.to_string_lossy())
}

/// The inode of each of the 8 namespace types of a process (types it cannot read are absent).
pub fn ns_map(pid: i32) -> BTreeMap<String, u64> {
    NS_TYPES
        .iter()
        .filter_map(|ty| ns_inode(pid, ty).map(|ino| (ty.to_string(), ino)))
        .collect()
}

/// The namespaces the "host" is in. PID 1's links are the reference, but on some machines (this
/// VM's PID 1 is a supervisor with more capabilities than we have) they are unreadable even to
/// root; then kthreadd (PID 2, always in the initial namespaces) and finally this process stand in.
pub fn host_ns_map() -> BTreeMap<String, u64> {
    for pid in [1, 2] {
        let m = ns_map(pid);
        if m.len() == NS_TYPES.len() {
            return m;
        }
    }
    ns_map(std::process::id() as i32)
}

/// The inode of a file, following symlinks (what `stat -L -c %i` prints).
pub fn stat_inode(path: impl AsRef<Path>) -> u64 {
    let path = path.as_ref();
    fs::metadata(path)
        .unwrap_or_else(|e| panic!("stat {}: {e}", path.display()))
        .ino()
}

/// `/proc/PID/comm` without the newline.
pub fn comm(pid: i32) -> Option<String> {
    fs::read_to_string(format!("/proc/{pid}/comm"))
        .ok()
        .map(|s| s.trim_end_matches('\n').to_string())
}

/// The fields of /proc/PID/stat after the command (field 3 onwards), None when gone.
fn stat_fields(pid: i32) -> Option<Vec<String>> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    Some(rest.split_whitespace().map(str::to_string).collect())
}

/// The parent PID (field 4 of /proc/PID/stat).
pub fn ppid(pid: i32) -> Option<i32> {
    stat_fields(pid)?.get(1)?.parse().ok()
}

/// Start time in clock ticks since boot (field 22 of /proc/PID/stat): with the PID, it identifies
/// a process across PID reuse.
pub fn start_time(pid: i32) -> Option<u64> {
    stat_fields(pid)?.get(19)?.parse().ok()
}

/// Whether /proc/PID exists and is not a zombie.
pub fn alive(pid: i32) -> bool {
    stat_fields(pid)
        .and_then(|f| f.first().cloned())
        .map(|state| state != "Z" && state != "X")
        .unwrap_or(false)
}

/// All PIDs (processes, not threads) in /proc right now.
pub fn all_pids() -> Vec<i32> {
    let mut pids: Vec<i32> = fs::read_dir("/proc")
        .expect("read /proc")
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    pids.sort_unstable();
    pids
}

/// Children of `pid`, found by scanning /proc (this kernel has no /proc/PID/task/TID/children).
pub fn children_of(pid: i32) -> Vec<i32> {
    all_pids()
        .into_iter()
        .filter(|&p| ppid(p) == Some(pid))
        .collect()
}

/// The processes whose /proc/PID/ns/TYPE is the namespace `inode`, as the kernel says right now.
pub fn ns_members(ty: &str, inode: u64) -> Vec<i32> {
    all_pids()
        .into_iter()
        .filter(|&p| ns_inode(p, ty) == Some(inode))
        .collect()
}

/// NSpid of /proc/PID/status: the PID in each nested pid namespace, outermost first.
pub fn nspid(pid: i32) -> Vec<i64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("NSpid:"))
        .map(|rest| {
            rest.split_whitespace()
                .filter_map(|v| v.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// /proc/PID/cgroup as hierarchy key -> path: the key is the controller field (`memory`,
/// `cpu,cpuacct`, `name=systemd`), and `unified` for the v2 line (`0::/path`).
pub fn proc_cgroups(pid: i32) -> BTreeMap<String, String> {
    let text = fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap_or_default();
    parse_proc_cgroup(&text)
}

/// Parse the text of a /proc/PID/cgroup file (see [`proc_cgroups`]).
pub fn parse_proc_cgroup(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|line| {
            let mut parts = line.splitn(3, ':');
            let id = parts.next()?;
            let controllers = parts.next()?;
            let path = parts.next()?;
            let key = if id == "0" && controllers.is_empty() {
                "unified".to_string()
            } else {
                controllers.to_string()
            };
            Some((key, path.to_string()))
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Cgroup hierarchies as the kernel mounts them
// ---------------------------------------------------------------------------------------------

/// One mounted cgroup hierarchy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HierarchyMount {
    /// Key as in /proc/PID/cgroup ("memory", "name=systemd") or "unified".
    pub key: String,
    pub version: u8,
    /// Mount point, e.g. /sys/fs/cgroup/memory.
    pub mount: PathBuf,
}

impl HierarchyMount {
    /// The directory name under /sys/fs/cgroup (what [`CgroupGuard::create`] takes).
    pub fn dir_name(&self) -> String {
        self.mount
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }
}

/// The cgroup hierarchies of this host, from /proc/self/mountinfo (the first mount of each
/// hierarchy's root), keyed like /proc/self/cgroup.
pub fn cgroup_hierarchies() -> Vec<HierarchyMount> {
    let keys: Vec<String> = proc_cgroups(std::process::id() as i32)
        .into_keys()
        .collect();
    let mountinfo = fs::read_to_string("/proc/self/mountinfo").expect("read mountinfo");
    let mut out: Vec<HierarchyMount> = Vec::new();
    for line in mountinfo.lines() {
        let Some((pre, post)) = line.split_once(" - ") else {
            continue;
        };
        let pre: Vec<&str> = pre.split(' ').collect();
        let post: Vec<&str> = post.split(' ').collect();
        if pre.len() < 5 || post.len() < 3 || pre[3] != "/" {
            continue;
        }
        let mount = PathBuf::from(unescape_mountinfo(pre[4]));
        let (key, version) = match post[0] {
            "cgroup2" => ("unified".to_string(), 2),
            "cgroup" => {
                let opts: BTreeSet<&str> = post[2].split(',').collect();
                let Some(key) = keys
                    .iter()
                    .find(|k| k.as_str() != "unified" && k.split(',').all(|c| opts.contains(c)))
                else {
                    continue;
                };
                (key.clone(), 1)
            }
            _ => continue,
        };
        if !out.iter().any(|h| h.key == key) {
            out.push(HierarchyMount {
                key,
                version,
                mount,
            });
        }
    }
    out
}

fn unescape_mountinfo(s: &str) -> String {
    // mountinfo escapes space, tab, newline and backslash as \ooo (octal).
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\'
            && i + 4 <= bytes.len()
            && let Some(v) = std::str::from_utf8(&bytes[i + 1..i + 4])
                .ok()
                .and_then(|o| u8::from_str_radix(o, 8).ok())
        {
            out.push(v);
            i += 4;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

// ---------------------------------------------------------------------------------------------
// Processes
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Named network namespaces
// ---------------------------------------------------------------------------------------------

/// Serialises `ip netns add/del` within this process: concurrent first uses of /run/netns can
/// race in iproute2 (both bind-mount /run/netns onto itself).
static NETNS_LOCK: Mutex<()> = Mutex::new(());

/// A named network namespace `nsview-test-<pid>-<name>` (`ip netns add`), deleted on drop.
pub struct NetnsGuard {
    pub name: String,
}

impl NetnsGuard {
    pub fn create(name: &str) -> NetnsGuard {
        let name = unique_name(name);
        let _lock = NETNS_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        run_ok("ip", &["netns", "add", &name]);
        NetnsGuard { name }
    }

    /// /run/netns/NAME, the bind mount that holds the namespace.
    pub fn path(&self) -> String {
        format!("/run/netns/{}", self.name)
    }

    /// The namespace's inode (`stat -L -c %i /run/netns/NAME`).
    pub fn inode(&self) -> u64 {
        stat_inode(self.path())
    }

    /// Run `ip -n NAME ARGS...`, which must succeed; returns stdout.
    pub fn ip(&self, args: &[&str]) -> String {
        let mut all = vec!["-n", self.name.as_str()];
        all.extend_from_slice(args);
        run_ok("ip", &all)
    }

    /// `ip -n NAME -j -d addr show` parsed: one object per link, with linkinfo and addr_info.
    pub fn ip_links_json(&self) -> Vec<Value> {
        let out = self.ip(&["-j", "-d", "addr", "show"]);
        match serde_json::from_str(&out) {
            Ok(Value::Array(links)) => links,
            other => panic!("unexpected `ip -j addr` output {other:?}: {out}"),
        }
    }
}

impl Drop for NetnsGuard {
    fn drop(&mut self) {
        let _lock = NETNS_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let r = try_run_with_timeout(
            Command::new("ip").args(["netns", "del", &self.name]),
            NSVIEW_TIMEOUT,
        );
        match r {
            Ok(r) if r.status.success() => {}
            Ok(r) => eprintln!(
                "warning: could not delete netns {}: {}",
                self.name,
                r.describe()
            ),
            Err(e) => eprintln!("warning: could not delete netns {}: {e}", self.name),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Cgroups
// ---------------------------------------------------------------------------------------------

/// Serialises creation and removal of the shared `nsview-test-<pid>` parents, so one test's
/// cleanup cannot remove a parent another test is about to create a child in.
static CGROUP_PARENT_LOCK: Mutex<()> = Mutex::new(());

/// A cgroup created by this test at `/sys/fs/cgroup/<hier>/nsview-test-<pid>/<name>` (or deeper,
/// with [`CgroupGuard::create_child`]). Drop removes it and everything below it, children first,
/// after killing any process still inside (only processes in our own cgroup, which this test put
/// there or which descend from those). It first thaws the group, its subtree and its ancestors
/// below `nsview-test-<pid>` (a frozen task does not die until thawed).
/// The `nsview-test-<pid>` parent is removed when its last child goes.
pub struct CgroupGuard {
    /// Directory name of the hierarchy under /sys/fs/cgroup ("cpu", "systemd", "unified").
    pub hier: String,
    /// Path inside the hierarchy, as nsview and /proc/PID/cgroup print it: "/nsview-test-<pid>/<name>".
    pub rel: String,
    /// Absolute directory.
    pub dir: PathBuf,
}

/// `/sys/fs/cgroup/<hier>/nsview-test-<pid>`.
fn our_parent_dir(hier: &str) -> PathBuf {
    Path::new(CGROUP_ROOT).join(hier).join(cgroup_parent_name())
}

/// Panics unless `dir` is strictly below this process's `nsview-test-<pid>` parent of `hier`.
fn assert_ours(hier: &str, dir: &Path) {
    let parent = our_parent_dir(hier);
    assert!(
        dir.starts_with(&parent)
            && dir != parent
            && dir
                .components()
                .all(|c| !matches!(c, std::path::Component::ParentDir)),
        "refusing to touch {} (not below {})",
        dir.display(),
        parent.display()
    );
}

fn valid_component(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains('/')
}

/// In the v1 cpuset hierarchy a new group starts with empty cpuset.cpus/mems and accepts no
/// process until they are set: copy them from the parent (cgroup-v1/cpusets.rst).
fn init_cpuset(dir: &Path) -> io::Result<()> {
    let parent = dir.parent().expect("cgroup has a parent");
    for file in ["cpuset.cpus", "cpuset.mems"] {
        let mine = dir.join(file);
        if !mine.exists() {
            continue;
        }
        if fs::read_to_string(&mine)?.trim().is_empty() {
            let value = fs::read_to_string(parent.join(file))?;
            fs::write(&mine, value.trim())?;
        }
    }
    Ok(())
}

impl CgroupGuard {
    /// Create `/sys/fs/cgroup/<hier>/nsview-test-<pid>/<name>` (and the parent if needed).
    /// `hier` is the directory name of a mounted hierarchy ("memory", "systemd", "unified").
    pub fn create(hier: &str, name: &str) -> io::Result<CgroupGuard> {
        assert!(
            valid_component(hier) && valid_component(name),
            "bad cgroup name {hier}/{name}"
        );
        let hier_dir = Path::new(CGROUP_ROOT).join(hier);
        if !hier_dir.join("cgroup.procs").exists() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{} is not a mounted cgroup hierarchy", hier_dir.display()),
            ));
        }
        let parent = our_parent_dir(hier);
        let dir = parent.join(name);
        {
            let _lock = CGROUP_PARENT_LOCK.lock().unwrap_or_else(|e| e.into_inner());
            match fs::create_dir(&parent) {
                Ok(()) => init_cpuset(&parent)?,
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e),
            }
            fs::create_dir(&dir)?;
        }
        let guard = CgroupGuard {
            hier: hier.to_string(),
            rel: format!("/{}/{}", cgroup_parent_name(), name),
            dir,
        };
        init_cpuset(&guard.dir)?;
        Ok(guard)
    }

    /// Create a child group `<this>/<name>`; drop it before its parent (declare it later).
    pub fn create_child(&self, name: &str) -> io::Result<CgroupGuard> {
        assert!(valid_component(name), "bad cgroup name {name}");
        let dir = self.dir.join(name);
        assert_ours(&self.hier, &dir);
        fs::create_dir(&dir)?;
        let guard = CgroupGuard {
            hier: self.hier.clone(),
            rel: format!("{}/{}", self.rel, name),
            dir,
        };
        init_cpuset(&guard.dir)?;
        Ok(guard)
    }

    /// Write `value` to a control file of this group (only ours: see [`assert_ours`]).
    pub fn write(&self, file: &str, value: &str) -> io::Result<()> {
        assert!(valid_component(file), "bad file name {file}");
        assert_ours(&self.hier, &self.dir);
        fs::write(self.dir.join(file), value)
    }

    /// A control file's content without the trailing newline.
    pub fn read(&self, file: &str) -> io::Result<String> {
        fs::read_to_string(self.dir.join(file)).map(|s| s.trim_end_matches('\n').to_string())
    }

    /// Move process `pid` (one this test started) into this group.
    pub fn add_process(&self, pid: i32) -> io::Result<()> {
        self.write("cgroup.procs", &pid.to_string())
    }

    /// Member PIDs (cgroup.procs).
    pub fn procs(&self) -> Vec<i32> {
        read_procs(&self.dir)
    }
}

fn read_procs(dir: &Path) -> Vec<i32> {
    fs::read_to_string(dir.join("cgroup.procs"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

/// SIGKILL `pid` only if it is (still) in the cgroup `dir`: a pidfd pins the process, and the
/// membership check after opening it makes the signal race-free against PID reuse.
fn kill_if_member(dir: &Path, pid: i32) {
    if pid == std::process::id() as i32 {
        eprintln!("warning: the test process itself is in {}", dir.display());
        return;
    }
    // SAFETY: pidfd_open(2) takes a pid and flags and returns a new fd or -1; no memory is shared.
    let fd = unsafe { nix::libc::syscall(nix::libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return; // gone already
    }
    let fd = fd as i32;
    if read_procs(dir).contains(&pid) {
        // SAFETY: pidfd_send_signal(2) with our own fd, a signal number, no siginfo and no flags.
        unsafe {
            nix::libc::syscall(
                nix::libc::SYS_pidfd_send_signal,
                fd,
                nix::libc::SIGKILL,
                std::ptr::null::<nix::libc::siginfo_t>(),
                0,
            );
        }
    }
    // SAFETY: closing the fd opened above, used nowhere else.
    unsafe {
        nix::libc::close(fd);
    }
}

/// Thaw `dir` if a freezer froze it (v1 freezer.state or v2 cgroup.freeze): a frozen task does
/// not die from SIGKILL until thawed.
fn thaw(dir: &Path) {
    let freezer = dir.join("freezer.state");
    if fs::read_to_string(&freezer)
        .map(|s| s.trim() != "THAWED")
        .unwrap_or(false)
    {
        let _ = fs::write(&freezer, "THAWED");
    }
    let freeze = dir.join("cgroup.freeze");
    if fs::read_to_string(&freeze)
        .map(|s| s.trim() == "1")
        .unwrap_or(false)
    {
        let _ = fs::write(&freeze, "0");
    }
}

/// The direct subdirectories (child cgroups) of `dir`.
fn child_dirs(dir: &Path) -> Vec<PathBuf> {
    fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false))
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default()
}

/// Thaw the groups of ours above `dir` (top-down: a v1 group stays frozen while an ancestor is
/// frozen), then `dir` and everything below it.
fn thaw_for_removal(hier: &str, dir: &Path) {
    let ours = our_parent_dir(hier);
    let mut ancestors: Vec<&Path> = dir
        .ancestors()
        .skip(1)
        .take_while(|a| a.starts_with(&ours) && *a != ours)
        .collect();
    ancestors.reverse();
    for a in ancestors {
        thaw(a);
    }
    fn thaw_tree(dir: &Path) {
        thaw(dir);
        for child in child_dirs(dir) {
            thaw_tree(&child);
        }
    }
    thaw_tree(dir);
}

/// Remove the group at `dir` and everything below it (children first), killing the processes
/// still in each. Never panics past the ownership check: Drop calls it, possibly while unwinding.
fn remove_cgroup_tree(hier: &str, dir: &Path) {
    if !dir.exists() {
        return;
    }
    assert_ours(hier, dir);
    for child in child_dirs(dir) {
        remove_cgroup_tree(hier, &child);
    }
    let emptied = try_poll(Duration::from_secs(10), || {
        let procs = read_procs(dir);
        for &pid in &procs {
            kill_if_member(dir, pid);
        }
        procs.is_empty().then_some(())
    });
    if emptied.is_none() {
        eprintln!("warning: processes remain in {}", dir.display());
    }
    let removed = try_poll(Duration::from_secs(10), || match fs::remove_dir(dir) {
        Ok(()) => Some(Ok(())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Some(Ok(())),
        Err(e) if e.raw_os_error() == Some(nix::libc::EBUSY) => None,
        Err(e) => Some(Err(e)),
    });
    match removed {
        Some(Ok(())) => {}
        Some(Err(e)) => eprintln!("warning: cannot remove {}: {e}", dir.display()),
        None => eprintln!("warning: {} stayed busy", dir.display()),
    }
}

impl Drop for CgroupGuard {
    fn drop(&mut self) {
        if self.dir.exists() {
            assert_ours(&self.hier, &self.dir);
            thaw_for_removal(&self.hier, &self.dir);
            remove_cgroup_tree(&self.hier, &self.dir);
        }
        let _lock = CGROUP_PARENT_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        // Fails (and that is fine) while other tests still have groups in it.
        let _ = fs::remove_dir(our_parent_dir(&self.hier));
    }
}

// ---------------------------------------------------------------------------------------------
// Looking things up in nsview's JSON
// ---------------------------------------------------------------------------------------------

/// The array `doc[key]`, panicking with the document when it is missing.
pub fn array<'a>(doc: &'a Value, key: &str) -> &'a Vec<Value> {
    doc.get(key)
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("no array {key:?} in {}", truncate(&doc.to_string(), 2000)))
}

/// The namespace of `type` and `inode` in `nsview list --json`.
pub fn find_ns<'a>(list: &'a Value, ty: &str, inode: u64) -> Option<&'a Value> {
    array(list, "namespaces")
        .iter()
        .find(|n| n["type"] == ty && n["inode"].as_u64() == Some(inode))
}

/// Like [`find_ns`] but panics with a useful message when absent.
pub fn get_ns<'a>(list: &'a Value, ty: &str, inode: u64) -> &'a Value {
    find_ns(list, ty, inode)
        .unwrap_or_else(|| panic!("`nsview list --json` has no {ty} namespace with inode {inode}"))
}

/// The process `pid` in `nsview ps --json`.
pub fn get_process(ps: &Value, pid: i32) -> &Value {
    array(ps, "processes")
        .iter()
        .find(|p| p["pid"].as_i64() == Some(pid as i64))
        .unwrap_or_else(|| panic!("`nsview ps --json` has no process {pid}"))
}

/// The cgroup of `hierarchy` and `path` in `nsview cgroups --json` (or a `show` of a cgroup).
pub fn find_cgroup<'a>(cgroups: &'a Value, hierarchy: &str, path: &str) -> Option<&'a Value> {
    array(cgroups, "cgroups")
        .iter()
        .find(|c| c["hierarchy"] == hierarchy && c["path"] == path)
}

/// The process `pid` in `nsview ps --json`, None when absent.
pub fn find_proc(ps: &Value, pid: i32) -> Option<&Value> {
    array(ps, "processes")
        .iter()
        .find(|p| p["pid"].as_i64() == Some(pid as i64))
}

/// A short, one-line rendering of a JSON value for messages.
pub fn short(v: &Value) -> String {
    truncate(&v.to_string(), 1500)
}

/// Like [`find_cgroup`] but panics with a useful message when absent.
pub fn get_cgroup<'a>(cgroups: &'a Value, hierarchy: &str, path: &str) -> &'a Value {
    find_cgroup(cgroups, hierarchy, path)
        .unwrap_or_else(|| panic!("no cgroup {path} in hierarchy {hierarchy:?} in nsview's output"))
}

/// A JSON array of integers as a sorted Vec (panics when it is something else).
pub fn int_list(v: &Value) -> Vec<i64> {
    let mut out: Vec<i64> = v
        .as_array()
        .unwrap_or_else(|| panic!("expected a list of integers, got {v}"))
        .iter()
        .map(|x| {
            x.as_i64()
                .unwrap_or_else(|| panic!("expected an integer, got {x}"))
        })
        .collect();
    out.sort_unstable();
    out
}

/// Panic unless `obj` is a JSON object whose keys are exactly `required` plus any of `optional`.
pub fn assert_keys(obj: &Value, required: &[&str], optional: &[&str]) {
    let map = obj
        .as_object()
        .unwrap_or_else(|| panic!("expected an object, got {obj}"));
    for key in required {
        assert!(map.contains_key(*key), "missing key {key:?} in {obj}");
    }
    for key in map.keys() {
        assert!(
            required.contains(&key.as_str()) || optional.contains(&key.as_str()),
            "undocumented key {key:?} in {obj}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Terminal sessions (TUI end-to-end tests)
// ---------------------------------------------------------------------------------------------

/// A detached tmux session running one command, on a tmux server of its own (socket
/// `$TMPDIR/nsview-test-<pid>-<name>.tmux`, no user config), so nothing touches anyone else's
/// tmux. Drop kills that server, which ends the command, and removes the socket.
pub struct TmuxGuard {
    pub socket: PathBuf,
    pub session: String,
}

impl TmuxGuard {
    /// Start `command` (a shell command line) in a `width` x `height` terminal.
    pub fn start(name: &str, width: u16, height: u16, command: &str) -> TmuxGuard {
        let socket = std::env::temp_dir().join(format!("{}.tmux", unique_name(name)));
        let guard = TmuxGuard {
            session: name.to_string(),
            socket,
        };
        let (w, h) = (width.to_string(), height.to_string());
        guard.tmux(&["new-session", "-d", "-s", name, "-x", &w, "-y", &h, command]);
        guard
    }

    /// Run `tmux -S SOCKET -f /dev/null ARGS...`, which must succeed; returns stdout.
    pub fn tmux(&self, args: &[&str]) -> String {
        let socket = self.socket.to_string_lossy();
        let mut all = vec!["-S", &*socket, "-f", "/dev/null"];
        all.extend_from_slice(args);
        run_ok("tmux", &all)
    }

    /// `tmux send-keys`: each item is a key name (`Enter`, `Down`, `C-c`) or literal text.
    pub fn send_keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", self.session.as_str()];
        args.extend_from_slice(keys);
        self.tmux(&args);
    }

    /// The visible screen as text.
    pub fn capture(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", &self.session])
    }

    /// Wait until the screen contains `text`; returns the screen (panics with it on timeout).
    pub fn wait_for(&self, text: &str, timeout: Duration) -> String {
        match try_poll(timeout, || {
            let screen = self.capture();
            screen.contains(text).then_some(screen)
        }) {
            Some(screen) => screen,
            None => panic!(
                "timed out waiting for {text:?} on screen:\n{}",
                self.capture()
            ),
        }
    }
}

impl Drop for TmuxGuard {
    fn drop(&mut self) {
        let _ = try_run_with_timeout(
            Command::new("tmux").arg("-S").arg(&self.socket).args([
                "-f",
                "/dev/null",
                "kill-server",
            ]),
            NSVIEW_TIMEOUT,
        );
        let _ = fs::remove_file(&self.socket);
    }
}
