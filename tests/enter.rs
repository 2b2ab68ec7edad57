//! `nsview enter` on the real kernel, as root (issue 5).
//!
//! Each test makes its own container: a root directory with busybox-static (its applets as
//! symlinks), a marker /etc/os-release and an /etc/passwd; a process in new mnt, pid, uts, ipc and
//! net namespaces chrooted into it (`unshare --root`), with the hostname `ctr-x` and its cwd in
//! /etc; moved into a test cgroup `nsview-test-<pid>/<name>` in every hierarchy. Everything is
//! removed by guards (tests/common), also on failure. Safety rules: shared/docs/testing.md.
//!
//! What is checked from outside (through /proc, read by the test itself): the entered command's
//! open fds are exactly 0, 1 and 2, its cgroups are the target's, it is inside the target's pid
//! namespace and root; the messages and exit codes of the failures.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;
use std::process::Command;

use common::*;
use nsview::effects::enter::{self, EnterError, EnterOptions, EnterSpec};
use nsview::model::NsType;
use nsview::model::target::Target;

/// Marker in the container's /etc/os-release.
/// What the test container needs on the host besides root and a static busybox.
const TOOLS: &[&str] = &["unshare", "busybox", "ip", "setpriv"];

const MARKER: &str = "ID=nsview-enter-test-marker";
const HOSTNAME: &str = "ctr-x";

// ---------------------------------------------------------------------------------------------
// The test container
// ---------------------------------------------------------------------------------------------

/// A root directory: /bin/busybox and its applets, /etc/os-release with [`MARKER`], /etc/passwd
/// with root's shell /bin/sh, an empty /proc for `unshare --mount-proc`.
fn make_rootfs() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("nsview-enter-root.")
        .tempdir()
        .expect("temp dir");
    let root = dir.path();
    // unshare --root chroots: every directory on the way must be searchable.
    fs::set_permissions(root, fs::Permissions::from_mode(0o755)).expect("chmod root");
    for d in ["bin", "etc", "proc", "tmp", "root"] {
        fs::create_dir(root.join(d)).expect("mkdir");
    }
    let busybox = static_busybox().expect("static busybox");
    fs::copy(&busybox, root.join("bin/busybox")).expect("copy busybox");
    let list = run_ok(busybox.to_str().expect("utf-8 path"), &["--list"]);
    for applet in list.lines().map(str::trim) {
        if applet.is_empty() || applet == "busybox" || applet.contains('/') {
            continue;
        }
        symlink("busybox", root.join("bin").join(applet)).expect("symlink applet");
    }
    fs::write(
        root.join("etc/os-release"),
        format!("NAME=\"nsview test container\"\n{MARKER}\n"),
    )
    .expect("write os-release");
    fs::write(root.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n").expect("write passwd");
    dir
}

/// A container as described in the module docs. Field order is drop order: the processes die
/// before their cgroups are removed, and the root directory goes last.
struct Container {
    proc: NsProcess,
    cgroups: Vec<CgroupGuard>,
    _root: tempfile::TempDir,
}

impl Container {
    fn start(name: &str) -> Container {
        let root = make_rootfs();
        let cgroups: Vec<CgroupGuard> = cgroup_hierarchies()
            .iter()
            .map(|h| {
                CgroupGuard::create(&h.dir_name(), name)
                    .unwrap_or_else(|e| panic!("create cgroup {name} in {}: {e}", h.dir_name()))
            })
            .collect();
        assert!(!cgroups.is_empty(), "no cgroup hierarchy is mounted");
        let root_flag = format!("--root={}", root.path().display());
        let proc = NsProcess::spawn(
            &[
                "--pid",
                "--mount-proc",
                "--uts",
                "--ipc",
                "--net",
                "--mount",
                &root_flag,
            ],
            &format!("hostname {HOSTNAME}; cd /etc; exec sleep 100000"),
            "sleep",
        );
        for g in &cgroups {
            g.add_process(proc.inner)
                .unwrap_or_else(|e| panic!("move {} into {}: {e}", proc.inner, g.dir.display()));
        }
        Container {
            proc,
            cgroups,
            _root: root,
        }
    }

    /// The container's init (PID 1 inside), the target of the tests.
    fn pid(&self) -> i32 {
        self.proc.inner
    }

    fn pid_arg(&self) -> String {
        self.pid().to_string()
    }
}

/// `nsview enter ARGS...`.
/// `enter::run_with_binary(spec, nsview)`, as the TUI calls it, with [`NSVIEW_TIMEOUT`].
fn enter_through_library(spec: &EnterSpec) -> Result<std::process::ExitStatus, enter::EnterError> {
    let spec = spec.clone();
    call_with_timeout(
        "enter::run_with_binary",
        nsview_bin(),
        NSVIEW_TIMEOUT,
        move || enter::run_with_binary(&spec, Path::new(nsview_bin())),
    )
}

fn enter(args: &[&str]) -> Run {
    let mut all = vec!["enter"];
    all.extend_from_slice(args);
    nsview(&all)
}

/// Exit 0 and stdout.
fn enter_ok(args: &[&str]) -> String {
    let r = enter(args);
    r.assert_success();
    r.stdout
}

/// Panic unless `r` exited with `code` and printed exactly one line to stderr, starting with
/// `nsview: ` and containing `text`.
fn assert_one_line_error(r: &Run, code: i32, text: &str) {
    assert_eq!(
        r.code,
        Some(code),
        "`{}`: expected exit {code}\nstdout:\n{}\nstderr:\n{}",
        r.cmdline,
        r.stdout,
        r.stderr
    );
    let lines = r.stderr_lines();
    assert_eq!(
        lines.len(),
        1,
        "`{}`: expected one line on stderr, got:\n{}",
        r.cmdline,
        r.stderr
    );
    assert!(
        lines[0].starts_with("nsview: ") && lines[0].contains(text),
        "`{}`: expected a line with {text:?}, got {:?}",
        r.cmdline,
        lines[0]
    );
}

/// Interface names listed in a /proc/net/dev text.
fn interfaces(net_dev: &str) -> BTreeSet<String> {
    net_dev
        .lines()
        .skip(2)
        .filter_map(|l| l.split_once(':'))
        .map(|(name, _)| name.trim().to_string())
        .collect()
}

/// The open fd numbers of a process, read from outside.
fn open_fds(pid: i32) -> Vec<i32> {
    let mut fds: Vec<i32> = fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap_or_else(|e| panic!("read /proc/{pid}/fd: {e}"))
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    fds.sort_unstable();
    fds
}

fn snapshot() -> nsview::model::Snapshot {
    nsview::collect::collect_once(
        &nsview::sys::Roots::default(),
        nsview::collect::CollectOptions {
            relations: false,
            uts: false,
            net: false,
            cgroups: true,
            command_lines: true,
        },
    )
    .expect("collect")
}

// ---------------------------------------------------------------------------------------------
// Inside the container
// ---------------------------------------------------------------------------------------------

#[test]
fn default_entry_sees_the_containers_files_hostname_and_processes() {
    if !require_busybox_root(
        "default_entry_sees_the_containers_files_hostname_and_processes",
        TOOLS,
    ) {
        return;
    }
    let c = Container::start("enter-default");
    let pid = c.pid_arg();

    // The plan joins exactly the types in which the container differs from the host.
    let snap = snapshot();
    let spec = EnterSpec::for_target(&snap, &Target::Process(c.pid()), EnterOptions::default())
        .expect("plan");
    assert_eq!(
        spec.types(),
        vec![
            NsType::Mnt,
            NsType::Uts,
            NsType::Ipc,
            NsType::Pid,
            NsType::Net
        ]
    );
    // Its login shell, from its own /etc/passwd.
    assert_eq!(spec.command, vec!["/bin/sh".to_string()]);

    let os = enter_ok(&[&pid, "--", "cat", "/etc/os-release"]);
    assert!(os.contains(MARKER), "not the container's os-release:\n{os}");

    assert_eq!(enter_ok(&[&pid, "--", "hostname"]).trim(), HOSTNAME);
    assert_eq!(
        enter_ok(&[&pid, "--all", "--", "hostname"]).trim(),
        HOSTNAME
    );

    // In its pid namespace: a small PID, and ps sees only the container's processes.
    let out = enter_ok(&[&pid, "--", "sh", "-c", "echo $$"]);
    let inner_pid: i64 = out.trim().parse().expect("a PID");
    assert!(
        (2..=10).contains(&inner_pid),
        "echo $$ printed {inner_pid}, not a PID inside the container"
    );
    let ps = enter_ok(&[&pid, "--", "ps", "-o", "pid,comm"]);
    let pids: Vec<i64> = ps
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next()?.parse().ok())
        .collect();
    assert!(pids.contains(&1), "ps inside does not show PID 1:\n{ps}");
    assert!(pids.len() <= 4, "ps inside shows host processes:\n{ps}");

    // The environment is minimal and the cwd is the target's.
    let env = enter_ok(&[&pid, "--", "env"]);
    let names: BTreeSet<&str> = env
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, _)| k)
        .collect();
    assert!(
        names.is_subset(&["TERM", "PATH", "HOME", "PWD", "SHLVL"].into()),
        "unexpected environment:\n{env}"
    );
    assert!(
        env.lines().any(|l| l == "HOME=/root"),
        "HOME from the container's passwd:\n{env}"
    );
    assert_eq!(enter_ok(&[&pid, "--", "pwd"]).trim(), "/etc");
    assert_eq!(
        enter_ok(&[&pid, "--wd", "/bin", "--", "pwd"]).trim(),
        "/bin"
    );

    // The command's exit status is passed on.
    assert_eq!(enter(&[&pid, "--", "sh", "-c", "exit 7"]).code, Some(7));
    drop(c);
}

#[test]
fn article_demonstration_ns_mnt_cat_os_release() {
    if !require_busybox_root("article_demonstration_ns_mnt_cat_os_release", TOOLS) {
        return;
    }
    let c = Container::start("enter-article");
    let out = enter_ok(&[&c.pid_arg(), "--ns", "mnt", "--", "cat", "/etc/os-release"]);
    assert!(
        out.contains(MARKER),
        "not the container's os-release:\n{out}"
    );
    // Only mnt: the hostname is still the host's.
    let host = nix::unistd::gethostname().expect("hostname");
    let name = enter_ok(&[&c.pid_arg(), "--ns", "mnt", "--", "hostname"]);
    assert_eq!(name.trim(), host.to_string_lossy());
}

#[test]
fn net_only_shows_the_hosts_files_and_the_containers_interfaces() {
    if !require_busybox_root(
        "net_only_shows_the_hosts_files_and_the_containers_interfaces",
        TOOLS,
    ) {
        return;
    }
    let c = Container::start("enter-net");
    let pid = c.pid_arg();
    let os = enter_ok(&[&pid, "--ns", "net", "--", "cat", "/etc/os-release"]);
    assert_eq!(
        os,
        fs::read_to_string("/etc/os-release").expect("host os-release"),
        "--ns net must show the host's files"
    );
    let inside = interfaces(&enter_ok(&[
        &pid,
        "--ns",
        "net",
        "--",
        "cat",
        "/proc/net/dev",
    ]));
    let container = interfaces(
        &fs::read_to_string(format!("/proc/{}/net/dev", c.pid())).expect("container net/dev"),
    );
    assert_eq!(inside, container);
    assert_eq!(inside, BTreeSet::from(["lo".to_string()]));
    let links = enter_ok(&[&pid, "--ns", "net", "--", "ip", "-o", "link"]);
    assert_eq!(links.lines().count(), 1, "only lo expected:\n{links}");
}

#[test]
fn named_netns_is_entered_through_its_bind_mount() {
    if !require_busybox_root("named_netns_is_entered_through_its_bind_mount", TOOLS) {
        return;
    }
    let netns = NetnsGuard::create("enter-named");
    netns.ip(&[
        "link", "add", "nsva0", "type", "veth", "peer", "name", "nsvb0",
    ]);
    let path = netns.path();
    let out = enter_ok(&[&path, "--", "cat", "/proc/net/dev"]);
    assert_eq!(
        interfaces(&out),
        BTreeSet::from(["lo", "nsva0", "nsvb0"].map(String::from))
    );
    // By TYPE:[INODE] too.
    let by_inode = format!("net:[{}]", netns.inode());
    let out = enter_ok(&[&by_inode, "--", "ip", "-o", "link"]);
    assert!(out.contains("nsva0"), "{out}");
    // No process: nothing else can be taken from it.
    let r = enter(&[&path, "--ns", "uts", "--", "true"]);
    assert_one_line_error(&r, 1, "held only by a bind mount");
}

#[test]
fn entered_command_holds_only_fds_0_1_2_and_is_in_the_targets_cgroups() {
    if !require_busybox_root(
        "entered_command_holds_only_fds_0_1_2_and_is_in_the_targets_cgroups",
        TOOLS,
    ) {
        return;
    }
    let c = Container::start("enter-fds");
    let nsview_run = ChildGuard::spawn(Command::new(nsview_bin()).args([
        "enter",
        &c.pid_arg(),
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
    assert_eq!(comm(helper).as_deref(), Some("nsview"));

    assert_eq!(
        open_fds(cmd),
        vec![0, 1, 2],
        "the command inherited more fds"
    );
    // The helper that waits holds nothing either.
    assert_eq!(
        open_fds(helper),
        vec![0, 1, 2],
        "the waiting helper holds fds"
    );

    let target_cgroups = proc_cgroups(c.pid());
    assert!(!target_cgroups.is_empty());
    assert_eq!(proc_cgroups(cmd), target_cgroups);
    for g in &c.cgroups {
        assert!(
            g.procs().contains(&cmd),
            "{} not in {}",
            cmd,
            g.dir.display()
        );
    }

    // Inside the pid namespace (a small PID there), in the container's root and namespaces.
    let nspid = nspid(cmd);
    assert_eq!(nspid.len(), 2, "NSpid of the command: {nspid:?}");
    assert!(
        nspid[1] > 1 && nspid[1] < 100,
        "NSpid of the command: {nspid:?}"
    );
    for ty in ["mnt", "uts", "ipc", "pid", "net"] {
        assert_eq!(ns_inode(cmd, ty), ns_inode(c.pid(), ty), "{ty} namespace");
    }
    assert_eq!(
        fs::read_link(format!("/proc/{cmd}/root")).expect("root link"),
        fs::read_link(format!("/proc/{}/root", c.pid())).expect("root link")
    );
    assert_eq!(
        fs::read_link(format!("/proc/{cmd}/cwd")).expect("cwd link"),
        fs::read_link(format!("/proc/{}/cwd", c.pid())).expect("cwd link")
    );
    drop(nsview_run);
    drop(c);
}

// ---------------------------------------------------------------------------------------------
// Credentials and environment
// ---------------------------------------------------------------------------------------------

#[test]
fn default_adopts_ids_capabilities_and_no_new_privs() {
    if !require_busybox_root("default_adopts_ids_capabilities_and_no_new_privs", TOOLS) {
        return;
    }
    // A process with its own uts namespace, uid/gid 1234, no groups, an empty bounding set,
    // no_new_privs, and a variable in its environment.
    let target = NsProcess::spawn(
        &["--uts"],
        "NSVIEW_TEST_VAR=from-target exec setpriv --reuid 1234 --regid 1234 --clear-groups \
         --no-new-privs --bounding-set -all --inh-caps -all sleep 100000",
        "sleep",
    );
    let pid = target.inner.to_string();

    let status = enter_ok(&[&pid, "--no-cgroup", "--", "cat", "/proc/self/status"]);
    assert_eq!(status_field(&status, "Uid"), "1234\t1234\t1234\t1234");
    assert_eq!(status_field(&status, "Gid"), "1234\t1234\t1234\t1234");
    assert_eq!(status_field(&status, "Groups"), "");
    assert_eq!(status_field(&status, "CapEff"), "0000000000000000");
    assert_eq!(status_field(&status, "CapBnd"), "0000000000000000");
    assert_eq!(status_field(&status, "NoNewPrivs"), "1");

    // --privileged: root with its capabilities, as nsenter.
    let status = enter_ok(&[
        &pid,
        "--no-cgroup",
        "--privileged",
        "--",
        "cat",
        "/proc/self/status",
    ]);
    assert_eq!(status_field(&status, "Uid"), "0\t0\t0\t0");
    assert_ne!(status_field(&status, "CapEff"), "0000000000000000");
    assert_eq!(status_field(&status, "NoNewPrivs"), "0");

    // The environment: minimal by default, the target's with --env-from-target.
    let env = enter_ok(&[&pid, "--no-cgroup", "--", "env"]);
    assert!(!env.contains("NSVIEW_TEST_VAR"), "{env}");
    assert!(env.lines().any(|l| l.starts_with("PATH=")), "{env}");
    let env = enter_ok(&[&pid, "--no-cgroup", "--env-from-target", "--", "env"]);
    assert!(
        env.lines().any(|l| l == "NSVIEW_TEST_VAR=from-target"),
        "{env}"
    );
}

// ---------------------------------------------------------------------------------------------
// Failures: one line, the promised exit codes
// ---------------------------------------------------------------------------------------------

#[test]
fn missing_command_exits_127_and_suggests_entering_without_mnt() {
    if !require_busybox_root(
        "missing_command_exits_127_and_suggests_entering_without_mnt",
        TOOLS,
    ) {
        return;
    }
    let c = Container::start("enter-missing");
    let pid = c.pid_arg();
    let r = enter(&[&pid, "--", "bash", "-c", "true"]);
    assert_one_line_error(&r, 127, "command not found in the target: bash");
    assert!(r.stderr.contains("--ns uts,ipc,pid,net"), "{}", r.stderr);
    // Without mnt the host's files are used: a command missing there too.
    let r = enter(&[&pid, "--ns", "net", "--", "nsview-no-such-command"]);
    assert_one_line_error(&r, 127, "command not found: nsview-no-such-command");
    // Found but not executable: 126, as shells do.
    let r = enter(&[&pid, "--", "/etc/os-release"]);
    assert_one_line_error(&r, 126, "cannot run /etc/os-release");
}

#[test]
fn vanished_target_is_one_line_and_exit_1() {
    if !require_busybox_root("vanished_target_is_one_line_and_exit_1", TOOLS) {
        return;
    }
    // From the command line: the PID is gone before nsview looks.
    let mut gone = ChildGuard::spawn_sleep();
    let pid = gone.pid();
    gone.kill();
    let r = enter(&[&pid.to_string(), "--", "true"]);
    assert_one_line_error(&r, 1, &pid.to_string());

    // Through the library, as the TUI does: planned while alive, gone when run.
    let mut target = NsProcess::spawn(&["--uts"], "exec sleep 100000", "sleep");
    let snap = snapshot();
    let opts = EnterOptions {
        join_cgroups: false,
        command: vec!["true".into()],
        ..EnterOptions::default()
    };
    let spec =
        EnterSpec::for_target(&snap, &Target::Process(target.inner), opts.clone()).expect("plan");
    assert_eq!(spec.types(), vec![NsType::Uts]);
    // A start time that does not match is a reused PID.
    let reused = EnterSpec {
        start_time: spec.start_time.map(|t| t + 1),
        ..spec.clone()
    };
    let err = enter_through_library(&reused).expect_err("PID reuse");
    assert!(matches!(err, EnterError::TargetGone(_)), "{err:?}");
    assert!(err.to_string().starts_with("the target is gone"), "{err}");
    // While alive it works.
    let status = enter_through_library(&spec).expect("enter");
    assert!(status.success());
    target.guard.kill();
    let err = enter_through_library(&spec).expect_err("gone");
    assert!(matches!(err, EnterError::TargetGone(_)), "{err:?}");
    assert_eq!(err.exit_code(), 1);
}

#[test]
fn unprivileged_caller_gets_permission_denied() {
    if !require_busybox_root("unprivileged_caller_gets_permission_denied", TOOLS) {
        return;
    }
    let c = Container::start("enter-perm");
    let r = run(
        "setpriv",
        &[
            "--reuid",
            "65534",
            "--regid",
            "65534",
            "--clear-groups",
            nsview_bin(),
            "enter",
            &c.pid_arg(),
            "--ns",
            "uts",
            "--",
            "true",
        ],
    );
    assert_one_line_error(&r, 1, "permission denied");
}
