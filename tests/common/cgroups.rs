//! Cgroups a test creates ([`CgroupGuard`]), below its own `nsview-test-<pid>` parents only.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use super::{CGROUP_ROOT, cgroup_parent_name, try_poll};

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
