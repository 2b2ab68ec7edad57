//! Writes an admin can trust (issue 14), on the real kernel as root: entering a frozen target
//! (item 1), and the moves that are refused (item 7).
//!
//! Every cgroup is the test's own (`nsview-test-<pid>/<name>`, guards from tests/common that
//! thaw, kill what is left inside and remove it, also on failure); every process is one the test
//! started. The target of an enter is put in a test cgroup in every hierarchy, so that the
//! helper, which joins all of the target's cgroups, joins only ours.
//!
//! A hang must fail, not block: every nsview run has a timeout, and what a hung helper leaves
//! in a frozen group of ours is thawed and killed by the guards.

mod common;

use common::*;
use std::process::Command;
use std::time::Duration;

/// Long enough for nsview on a loaded machine; a helper stuck in a frozen cgroup never ends.
const ENTER_TIMEOUT: Duration = Duration::from_secs(30);

/// A process in new uts and ipc namespaces (something to enter), in a test cgroup `name` in
/// every hierarchy. Field order is drop order: the process dies before its cgroups go, and the
/// groups that can freeze (freezer, unified) go first: their guards thaw them, so that a helper
/// a test left stopped in one can die before the other groups are emptied.
struct Target {
    proc: NsProcess,
    cgroups: Vec<CgroupGuard>,
}

impl Target {
    fn start(name: &str) -> Target {
        let mut hierarchies = cgroup_hierarchies();
        hierarchies.sort_by_key(|h| !matches!(h.key.as_str(), "freezer" | "unified"));
        let cgroups: Vec<CgroupGuard> = hierarchies
            .iter()
            .map(|h| {
                CgroupGuard::create(&h.dir_name(), name)
                    .unwrap_or_else(|e| panic!("create {name} in {}: {e}", h.dir_name()))
            })
            .collect();
        let proc = NsProcess::spawn(&["--uts", "--ipc"], "exec sleep 100000", "sleep");
        for g in &cgroups {
            g.add_process(proc.inner)
                .unwrap_or_else(|e| panic!("move {} into {}: {e}", proc.inner, g.dir.display()));
        }
        Target { proc, cgroups }
    }

    fn cgroup(&self, hier: &str) -> &CgroupGuard {
        self.cgroups
            .iter()
            .find(|g| g.hier == hier)
            .unwrap_or_else(|| panic!("no {hier} hierarchy mounted"))
    }

    fn pid(&self) -> String {
        self.proc.inner.to_string()
    }

    /// `nsview enter TARGET -- true`, with a timeout.
    fn enter(&self, target: &str) -> Run {
        run_with_timeout(
            Command::new(nsview_bin()).args(["enter", target, "--", "true"]),
            ENTER_TIMEOUT,
        )
    }

    /// Every process of its cgroup in `hier`: the target alone when nothing joined it.
    fn members(&self, hier: &str) -> Vec<i32> {
        self.cgroup(hier).procs()
    }
}

/// Exit 1, one line on stderr; returns the line.
fn one_line_failure(r: &Run) -> String {
    assert_eq!(r.code, Some(1), "{}", r.describe());
    let lines = r.stderr_lines();
    assert_eq!(lines.len(), 1, "one line on stderr: {}", r.describe());
    lines[0].to_string()
}

/// v1: `nsview enter` into a process whose freezer cgroup is FROZEN exits 1 at once with one line
/// naming `nsview thaw TARGET`, and nothing joined the frozen group (before: the helper joined
/// it and stopped in D state; nsview hung).
#[test]
fn enter_into_a_frozen_v1_cgroup_is_refused_with_the_thaw_hint() {
    if !require_root_and_tools("enter_frozen_v1", &["unshare"]) {
        return;
    }
    let t = Target::start("enter_frozen_v1");
    let freezer = t.cgroup("freezer");
    freezer.write("freezer.state", "FROZEN").expect("freeze");
    poll("the group to be FROZEN", POLL_TIMEOUT, || {
        (freezer.read("freezer.state").ok()? == "FROZEN").then_some(())
    });

    let line = one_line_failure(&t.enter(&t.pid()));
    assert!(
        line.contains(&format!("nsview thaw {}", t.pid())),
        "names the thaw: {line}"
    );
    assert!(
        line.contains(&format!("freezer:{}", freezer.rel)) && line.contains("FROZEN"),
        "names the frozen group: {line}"
    );
    // A cgroup path TARGET is named as given.
    let line = one_line_failure(&t.enter(&freezer.rel));
    assert!(
        line.contains(&format!("nsview thaw {}", freezer.rel)),
        "{line}"
    );
    for h in ["freezer", "memory", "cpu"] {
        assert_eq!(
            t.members(h),
            vec![t.proc.inner],
            "nothing joined the {h} group"
        );
    }
    // Thawed, entering works again.
    freezer.write("freezer.state", "THAWED").expect("thaw");
    t.enter(&t.pid()).assert_success();
}

/// v2: cgroup.freeze 1 in the unified hierarchy is refused the same way.
#[test]
fn enter_into_a_frozen_v2_cgroup_is_refused() {
    if !require_root_and_tools("enter_frozen_v2", &["unshare"]) {
        return;
    }
    if !cgroup_hierarchies().iter().any(|h| h.version == 2) {
        skip("enter_frozen_v2", "no cgroup2 hierarchy mounted");
        return;
    }
    let t = Target::start("enter_frozen_v2");
    let unified = t.cgroup("unified");
    unified.write("cgroup.freeze", "1").expect("freeze");
    poll("the group to be frozen", POLL_TIMEOUT, || {
        unified
            .read("cgroup.events")
            .ok()?
            .lines()
            .any(|l| l == "frozen 1")
            .then_some(())
    });
    let line = one_line_failure(&t.enter(&t.pid()));
    assert!(line.contains("cgroup.freeze 1"), "{line}");
    assert!(line.contains(&format!("nsview thaw {}", t.pid())), "{line}");
    assert_eq!(t.members("unified"), vec![t.proc.inner]);
    assert_eq!(t.members("freezer"), vec![t.proc.inner]);
}

/// SIGINT to `nsview enter` (Ctrl-C) ends the command it runs, not only nsview (before: nsview
/// died and left the command running in the target).
#[test]
fn sigint_to_enter_ends_its_command() {
    if !require_root_and_tools("enter_sigint", &["unshare"]) {
        return;
    }
    let t = Target::start("enter_sigint");
    let mut nsview = ChildGuard::spawn(Command::new(nsview_bin()).args([
        "enter",
        &t.pid(),
        "--",
        "sleep",
        "100001",
    ]));
    // The command runs when it is in the target's cgroup beside the target (with the helper).
    let command = poll("the command to run in the target", POLL_TIMEOUT, || {
        t.members("memory")
            .into_iter()
            .find(|p| *p != t.proc.inner && comm(*p).as_deref() == Some("sleep"))
    });
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(nsview.pid()),
        nix::sys::signal::Signal::SIGINT,
    )
    .expect("SIGINT to our nsview");
    poll("nsview to end", POLL_TIMEOUT, || {
        nsview.exited().then_some(())
    });
    poll("the command to end", POLL_TIMEOUT, || {
        (!t.members("memory").contains(&command)).then_some(())
    });
    assert_eq!(
        t.members("memory"),
        vec![t.proc.inner],
        "nothing left inside"
    );
    nsview.kill();
}

/// `nsview move 1 CGROUP` is refused with one line, and PID 1 stays where it is. Even the old
/// code could not move it here: the destination is a cpuset group with no CPUs, which the
/// kernel refuses every process (ENOSPC), so the test never moves the machine's init.
#[test]
fn move_of_pid_1_is_refused() {
    if !require_root_and_tools("move_pid_1", &[]) {
        return;
    }
    let g = CgroupGuard::create("cpuset", "move_pid_1").expect("create cpuset group");
    g.write("cpuset.cpus", "\n").expect("empty cpuset.cpus");
    assert_eq!(
        g.read("cpuset.cpus").expect("read"),
        "",
        "no CPU: no process fits"
    );
    let before = proc_cgroups(1);
    let r = nsview(&["move", "1", &g.rel]);
    let line = one_line_failure(&r);
    assert!(line.contains("PID 1") && line.contains("init"), "{line}");
    assert_eq!(proc_cgroups(1), before);
    assert!(g.procs().is_empty());
}

/// A kernel thread (kthreadd, PID 2) is refused with one line.
#[test]
fn move_of_a_kernel_thread_is_refused() {
    if !require_root_and_tools("move_kthread", &[]) {
        return;
    }
    assert_eq!(comm(2).as_deref(), Some("kthreadd"), "PID 2 is kthreadd");
    let g = CgroupGuard::create("cpuset", "move_kthread").expect("create cpuset group");
    g.write("cpuset.cpus", "\n").expect("empty cpuset.cpus");
    let line = one_line_failure(&nsview(&["move", "2", &g.rel]));
    assert!(line.contains("kernel thread"), "{line}");
    assert!(g.procs().is_empty());
}

/// Moving a process into a frozen cgroup is refused with one line naming the thaw; the process
/// stays where it was and keeps running (before: it was moved, and stopped).
#[test]
fn move_into_a_frozen_cgroup_is_refused() {
    if !require_root_and_tools("move_frozen", &[]) {
        return;
    }
    // Declared first, dropped last: the guards thaw `to` (and kill what is inside) before the
    // sleep is reaped, should a failing nsview have moved it into the frozen group.
    let p = ChildGuard::spawn_sleep();
    let from = CgroupGuard::create("freezer", "move_frozen_from").expect("create from");
    let to = CgroupGuard::create("freezer", "move_frozen_to").expect("create to");
    from.add_process(p.pid()).expect("adopt");
    to.write("freezer.state", "FROZEN").expect("freeze");
    poll("the group to be FROZEN", POLL_TIMEOUT, || {
        (to.read("freezer.state").ok()? == "FROZEN").then_some(())
    });
    let state = tempfile::tempdir().expect("state dir");
    let r = run_with_timeout(
        Command::new(nsview_bin())
            .arg("--state-dir")
            .arg(state.path())
            .args(["move", &p.pid().to_string(), &to.rel]),
        NSVIEW_TIMEOUT,
    );
    let line = one_line_failure(&r);
    assert!(line.contains("frozen"), "{line}");
    assert!(line.contains(&format!("nsview thaw {}", to.rel)), "{line}");
    assert_eq!(proc_cgroups(p.pid())["freezer"], from.rel);
    assert!(to.procs().is_empty());
}
