//! `nsview enter`'s binary, played by an attacker in the container (issue 12, item 5).
//!
//! CVE-2019-5736: a process in a container opened the runtime's binary through /proc/PID/exe of
//! the process that was joining the container, and overwrote it on the host. nsview's helper
//! (`nsview __enter`, the entered command's parent) runs from a sealed memfd copy of nsview and
//! is non-dumpable after every credential change.
//!
//! The container: a busybox root directory, entered by a process that is root of its own user
//! namespace (host uid 1000) with its own mount and uts namespaces, chrooted into that directory.
//! It shares the host's pid namespace and sees it through a bind mount of the host's /proc (as a
//! container run with `--pid=host` does), so the helper, which stays in the host's pid namespace,
//! is visible to it. Nothing is written to cgroups (`--no-cgroup`). Safety rules:
//! shared/docs/testing.md.

mod common;

use std::fs;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use nix::libc;

/// The container's uid on the host (root of its user namespace).
/// What the test container needs on the host besides root and a static busybox.
const TOOLS: &[&str] = &["unshare", "busybox", "setpriv", "chroot", "mount"];

const CONTAINER_UID: &str = "1000";

/// What the container's own process does: wait for the test to name the helper's PID, then try
/// what an attacker would and write down each exit status (0 = it worked). The root directory has
/// no /dev: output goes to /tmp/sink. `control` reads its own exe: that must work.
const PROBE: &str = r#"hostname ctr-binary
while [ ! -s /tmp/helper-pid ]; do sleep 0.05; done
h=$(cat /tmp/helper-pid)
{
  readlink /proc/$$/exe >/tmp/sink 2>&1; echo "control=$?"
  grep -q '^Name:.nsview' /proc/$h/status; echo "seen=$?"
  readlink /proc/$h/exe >/tmp/sink 2>&1; echo "readlink=$?"
  cat /proc/$h/environ >/tmp/sink 2>&1; echo "environ=$?"
  cat /proc/$h/exe >/tmp/sink 2>&1; echo "read=$?"
  (echo x >> /proc/$h/exe) 2>/tmp/sink; echo "write=$?"
} > /tmp/result.tmp
mv /tmp/result.tmp /tmp/result
exec sleep 100000
"#;

/// A root directory the container's uid can use: busybox and its applets, /probe.sh, an empty
/// /proc (the host's is bind-mounted there) and a world-writable /tmp for the probe's results.
fn make_rootfs() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("nsview-enter-binary.")
        .tempdir()
        .expect("temp dir");
    let root = dir.path();
    fs::set_permissions(root, fs::Permissions::from_mode(0o755)).expect("chmod root");
    for d in ["bin", "etc", "proc", "tmp"] {
        fs::create_dir(root.join(d)).expect("mkdir");
    }
    fs::set_permissions(root.join("tmp"), fs::Permissions::from_mode(0o1777)).expect("chmod tmp");
    let busybox = static_busybox().expect("static busybox");
    fs::copy(&busybox, root.join("bin/busybox")).expect("copy busybox");
    let list = run_ok(busybox.to_str().expect("utf-8 path"), &["--list"]);
    for applet in list.lines().map(str::trim) {
        if !applet.is_empty() && applet != "busybox" && !applet.contains('/') {
            symlink("busybox", root.join("bin").join(applet)).expect("symlink applet");
        }
    }
    fs::write(root.join("etc/passwd"), "root:x:0:0:root:/:/bin/sh\n").expect("write passwd");
    fs::write(root.join("probe.sh"), PROBE).expect("write probe");
    dir
}

/// The container of the module docs. Field order is drop order: the processes die before the
/// root directory is removed.
struct Container {
    _guard: ChildGuard,
    pid: i32,
    root: tempfile::TempDir,
}

impl Container {
    fn start() -> Container {
        let root = make_rootfs();
        let dir = root.path().display().to_string();
        let script =
            format!("mount --rbind /proc {dir}/proc && exec chroot {dir} /bin/sh /probe.sh");
        let guard = ChildGuard::spawn(Command::new("setpriv").args([
            "--reuid",
            CONTAINER_UID,
            "--regid",
            CONTAINER_UID,
            "--clear-groups",
            "unshare",
            "--user",
            "--map-root-user",
            "--mount",
            "--uts",
            "--fork",
            "--kill-child",
            "sh",
            "-c",
            &script,
        ]));
        let pid = guard.single_child();
        // Ready once chrooted into its root.
        poll("the container to chroot", POLL_TIMEOUT, || {
            assert!(!guard.exited(), "the container exited early");
            (fs::read_link(format!("/proc/{pid}/root")).ok()? != Path::new("/")).then_some(())
        });
        Container {
            _guard: guard,
            pid,
            root,
        }
    }

    fn pid_arg(&self) -> String {
        self.pid.to_string()
    }

    fn path(&self, inner: &str) -> PathBuf {
        self.root.path().join(inner.trim_start_matches('/'))
    }
}

/// stdout of `nsview enter PID --no-cgroup ARGS...`, whatever its exit status.
fn enter_output(pid: i32, args: &[&str]) -> String {
    let pid = pid.to_string();
    let mut all = vec!["enter", &pid, "--no-cgroup"];
    all.extend_from_slice(args);
    nsview(&all).stdout
}

/// (device, inode) of the file a path (or /proc/PID/exe) leads to.
fn file_id(path: impl AsRef<Path>) -> (u64, u64) {
    let m = fs::metadata(path.as_ref())
        .unwrap_or_else(|e| panic!("stat {}: {e}", path.as_ref().display()));
    (m.dev(), m.ino())
}

/// Try to write one byte through `path`; Err(errno) when opening or writing fails.
fn try_write_through(path: &Path) -> Result<(), i32> {
    let errno = |e: std::io::Error| e.raw_os_error().unwrap_or(-1);
    let mut f = fs::OpenOptions::new()
        .append(true)
        .open(path)
        .map_err(errno)?;
    f.write_all(b"x").map_err(errno)
}

/// `key=value` lines of the probe's result.
fn result_value<'a>(result: &'a str, key: &str) -> &'a str {
    result
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
        .unwrap_or_else(|| panic!("no {key} in the probe's result:\n{result}"))
}

#[test]
fn helper_runs_from_a_sealed_memfd_the_container_cannot_open_or_write() {
    let test = "helper_runs_from_a_sealed_memfd_the_container_cannot_open_or_write";
    if !require_busybox_root(test, TOOLS) {
        return;
    }
    let host_binary = fs::read(nsview_bin()).expect("read the nsview binary");
    let c = Container::start();

    // An entered command that stays: `sleep` under its helper.
    let nsview_run = ChildGuard::spawn(Command::new(nsview_bin()).args([
        "enter",
        &c.pid_arg(),
        "--no-cgroup",
        "--",
        "sleep",
        "100000",
    ]));
    let nsview_pid = nsview_run.pid();
    let (helper, cmd) = poll("the entered sleep", POLL_TIMEOUT, || {
        assert!(!nsview_run.exited(), "nsview enter exited early");
        let helper = *children_of(nsview_pid).first()?;
        let cmd = *children_of(helper).first()?;
        (comm(cmd).as_deref() == Some("sleep")).then_some((helper, cmd))
    });

    // The helper (the command's parent) runs from the memfd, not from the host's binary.
    assert_eq!(comm(helper).as_deref(), Some("nsview"));
    assert_eq!(
        fs::read_link(format!("/proc/{helper}/exe")).expect("readlink the helper's exe"),
        Path::new("/memfd:nsview (deleted)")
    );
    assert_ne!(
        file_id(format!("/proc/{helper}/exe")),
        file_id(nsview_bin()),
        "the helper runs the host's nsview binary"
    );
    // The command runs the container's own binary.
    assert_eq!(
        file_id(format!("/proc/{cmd}/exe")),
        file_id(c.path("/bin/busybox")),
        "the entered sleep is not the container's busybox"
    );
    // Even host root cannot write through the helper's exe: sealed (EPERM) and being executed
    // (ETXTBSY).
    let err = try_write_through(Path::new(&format!("/proc/{helper}/exe")))
        .expect_err("wrote through /proc/PID/exe of the helper");
    assert!(
        [libc::EPERM, libc::EACCES, libc::ETXTBSY].contains(&err),
        "unexpected errno {err}"
    );

    // The container's own process (root of its user namespace) sees the helper but can open
    // neither its exe nor its environment: the helper is not dumpable.
    fs::write(c.path("/tmp/helper-pid"), helper.to_string()).expect("name the helper");
    let result = poll("the probe's result", POLL_TIMEOUT, || {
        fs::read_to_string(c.path("/tmp/result")).ok()
    });
    assert_eq!(
        result_value(&result, "control"),
        "0",
        "probe broken:\n{result}"
    );
    assert_eq!(
        result_value(&result, "seen"),
        "0",
        "probe did not see the helper"
    );
    for key in ["readlink", "environ", "read", "write"] {
        assert_ne!(
            result_value(&result, key),
            "0",
            "the container could {key} /proc/HELPER:\n{result}"
        );
    }

    // A process in the container's mount namespace with every host capability (--privileged:
    // enter now gives the target's credentials by default): /proc/PID/exe
    // of the helper names the memfd, and writing through it fails.
    let out = enter_output(
        c.pid,
        &[
            "--privileged",
            "--ns",
            "mnt",
            "--",
            "sh",
            "-c",
            &format!(
                "readlink /proc/{helper}/exe; echo ok > /tmp/control; echo control=$?; (echo x >> /proc/{helper}/exe) 2>/tmp/sink; echo write=$?"
            ),
        ],
    );
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("/memfd:nsview (deleted)"), "{out}");
    assert_eq!(result_value(&out, "control"), "0", "{out}");
    assert_ne!(result_value(&out, "write"), "0", "{out}");

    // nsview enter killed (SIGKILL, nothing to pass on): its helper gets SIGHUP as its parent
    // dies (re-armed after joining the user namespace) and passes it on to the command.
    drop(nsview_run);
    let gone = try_poll(POLL_TIMEOUT, || {
        (!alive(helper) && !alive(cmd)).then_some(())
    });
    assert!(
        gone.is_some(),
        "the helper {helper} or the command {cmd} outlived a killed nsview enter"
    );
    drop(c);
    assert!(
        fs::read(nsview_bin()).expect("read the nsview binary") == host_binary,
        "the host's nsview binary changed"
    );
}
