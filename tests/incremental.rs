//! `Collector::refresh` against the real kernel, as root: the incremental pass of the live view
//! must give what a full pass (`Collector::collect`) gives for everything that changed, at once
//! for new and gone processes, reused PIDs and cgroup usage, and within the documented bound
//! (`ROLLING_PASSES` passes) for changes to a living process; `invalidate` makes the next pass
//! see everything.
//!
//! The last test does the same on a fixture tree.
//!
//! Each test makes its own processes, namespaces and cgroups (tests/common guards; cgroups only
//! under /sys/fs/cgroup/<hier>/nsview-test-<pid>/) and looks only at those, on a host where other
//! processes come and go. Each test runs alone (.config/nextest.toml: threads-required, under
//! scripts/test.sh): a test's `unshare --mount` copies the mount table, and with it the nsfs bind
//! mounts of another test's named network namespaces, which then outlive `ip netns del`; and
//! counts of what a refresh read are exact only while no other test starts processes. Outside
//! nextest: `cargo test --test incremental -- --test-threads=1`.

mod common;

use common::*;
use nsview::collect::{CollectOptions, Collector, FULL_READ_EVERY, ROLLING_PASSES, YOUNG_PASSES};
use nsview::model::{CgValue, NsType, Process, Snapshot};
use nsview::sys::Roots;
use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn refresh(c: &mut Collector) -> Snapshot {
    c.refresh(CollectOptions::ALL)
        .unwrap_or_else(|e| panic!("refresh failed: {e}"))
}

fn collect() -> Snapshot {
    Collector::new(Roots::default())
        .collect(CollectOptions::ALL)
        .unwrap_or_else(|e| panic!("collect failed: {e}"))
}

fn process(snap: &Snapshot, pid: i32) -> &Process {
    snap.processes
        .get(&pid)
        .unwrap_or_else(|| panic!("process {pid} is not in the snapshot"))
}

/// The namespace inodes of a process in a snapshot, keyed like [`ns_map`].
fn ns_of(p: &Process) -> BTreeMap<String, u64> {
    p.ns.iter().map(|(t, id)| (t.to_string(), id.ino)).collect()
}

/// /proc/PID/cmdline as arguments.
fn proc_cmdline(pid: i32) -> Vec<String> {
    let raw = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    raw.split(|&b| b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect()
}

/// Refresh until `done` holds, at most `passes` times; returns the number of refreshes it took
/// and the snapshot, or panics naming `what` with the last snapshot's view of `pid`.
fn refresh_until(
    c: &mut Collector,
    passes: u64,
    what: &str,
    pid: i32,
    done: impl Fn(&Snapshot) -> bool,
) -> (u64, Snapshot) {
    let mut last = None;
    for n in 1..=passes {
        let snap = refresh(c);
        if done(&snap) {
            return (n, snap);
        }
        last = Some(snap);
    }
    let seen = last.as_ref().and_then(|s| s.processes.get(&pid));
    panic!("{what}: not seen within {passes} refreshes; last view of {pid}: {seen:?}");
}

/// A v1 "pids" hierarchy (the test machines are hybrid): its usage file pids.current shows a
/// move at once.
fn pids_hierarchy(test: &str) -> Option<HierarchyMount> {
    let h = cgroup_hierarchies().into_iter().find(|h| h.key == "pids");
    if h.is_none() {
        skip(
            test,
            "needs a cgroup v1 pids hierarchy (the hybrid layout of shared/docs/testing.md)",
        );
    }
    h
}

fn cgroup<'a>(snap: &'a Snapshot, key: &str, path: &str) -> &'a nsview::model::Cgroup {
    snap.cgroups
        .iter()
        .find(|c| c.hierarchy == key && c.path == path)
        .unwrap_or_else(|| panic!("no cgroup {path} in hierarchy {key}"))
}

fn pids_current(snap: &Snapshot, path: &str) -> Option<i64> {
    match cgroup(snap, "pids", path).usage.get("pids.current") {
        Some(CgValue::Int(n)) => Some(*n),
        _ => None,
    }
}

/// The PID written by a test script into `file`, once it is there.
fn read_pid_file(file: &Path) -> i32 {
    poll(&format!("{}", file.display()), POLL_TIMEOUT, || {
        fs::read_to_string(file).ok()?.trim().parse().ok()
    })
}

// ---------------------------------------------------------------------------------------------
// New and gone processes, new and gone namespaces
// ---------------------------------------------------------------------------------------------

#[test]
fn new_processes_and_namespaces_show_at_once_and_go_at_once() {
    if !require_root_and_tools("new_processes_and_namespaces", &["unshare", "hostname"]) {
        return;
    }
    let mut c = Collector::new(Roots::default());
    let first = refresh(&mut c);
    assert!(c.last_refresh().full, "the first refresh reads everything");
    assert!(!first.processes.is_empty());

    let mut p = NsProcess::spawn(
        &[
            "--pid",
            "--uts",
            "--ipc",
            "--net",
            "--mount",
            "--mount-proc",
        ],
        "hostname inc-new && exec sleep 100000",
        "sleep",
    );
    let (outer, inner) = (p.outer, p.inner);
    let snap = refresh(&mut c);
    let stats = c.last_refresh();
    assert!(!stats.full);
    assert!(stats.read_new >= 2, "{stats:?}");
    assert_eq!(
        stats.kept
            + stats.read_new
            + stats.read_young
            + stats.read_rolling
            + stats.read_reparented
            + stats.read_events,
        stats.listed,
        "every listed process is kept or read: {stats:?}"
    );

    let pi = process(&snap, inner);
    assert_eq!(ns_of(pi), ns_map(inner), "namespaces of {inner}");
    assert_eq!(pi.cmdline, vec!["sleep", "100000"]);
    assert_eq!(pi.nspid, vec![inner, 1]);
    assert_eq!(process(&snap, outer).ppid, std::process::id() as i32);
    let uts = pi.ns[&NsType::Uts].ino;
    let net = pi.ns[&NsType::Net].ino;
    let uts_ns = &snap.namespaces[&(NsType::Uts, uts)];
    assert_eq!(uts_ns.hostname.as_deref(), Some("inc-new"));
    assert_eq!(uts_ns.pids, vec![outer, inner]);
    let net_ns = &snap.namespaces[&(NsType::Net, net)];
    let names: Vec<&str> = net_ns
        .interfaces
        .as_ref()
        .map(|ifs| ifs.iter().map(|i| i.name.as_str()).collect())
        .unwrap_or_default();
    assert_eq!(names, vec!["lo"], "{net_ns:?}");
    assert!(
        net_ns.owner.is_some(),
        "relations of a new namespace are read"
    );
    assert!(
        snap.group_of(inner).is_some_and(|g| g.init_pid == inner),
        "isolation group of {inner}"
    );

    // Gone: once the kernel has let go of them, the next refresh has neither the processes nor
    // their namespaces.
    p.guard.kill();
    poll("the inner process to be reaped", POLL_TIMEOUT, || {
        (!Path::new(&format!("/proc/{inner}")).exists()).then_some(())
    });
    let snap = refresh(&mut c);
    assert!(!snap.processes.contains_key(&outer));
    assert!(!snap.processes.contains_key(&inner));
    assert!(!snap.namespaces.contains_key(&(NsType::Uts, uts)));
    assert!(!snap.namespaces.contains_key(&(NsType::Net, net)));
    assert!(snap.group_of(inner).is_none());
}

#[test]
fn a_named_netns_shows_and_goes_at_once() {
    if !require_root_and_tools("a_named_netns_shows_and_goes_at_once", &["ip"]) {
        return;
    }
    let mut c = Collector::new(Roots::default());
    refresh(&mut c);
    refresh(&mut c);
    let netns = NetnsGuard::create("inc-bind");
    let inode = netns.inode();
    let snap = refresh(&mut c);
    let ns = snap
        .namespaces
        .get(&(NsType::Net, inode))
        .unwrap_or_else(|| {
            panic!(
                "{} not in the first refresh after ip netns add",
                netns.path()
            )
        });
    assert_eq!(ns.bind_mounts, vec![netns.path()]);
    assert!(ns.pids.is_empty());
    assert_eq!(
        ns.interfaces
            .as_ref()
            .map(|ifs| ifs.iter().map(|i| i.name.clone()).collect::<Vec<_>>()),
        Some(vec!["lo".to_string()])
    );
    drop(netns);
    let snap = refresh(&mut c);
    assert!(
        !snap.namespaces.contains_key(&(NsType::Net, inode)),
        "still listed after ip netns del"
    );
}

// ---------------------------------------------------------------------------------------------
// A PID reused by a new process
// ---------------------------------------------------------------------------------------------

/// In a private pid namespace (so that nothing else takes the PID), a process is killed and its
/// PID given to a new one with /proc/sys/kernel/ns_last_pid. The collector reads that pid
/// namespace's own /proc (through /proc/PID1/root/proc): the reused PID has a new /proc/PID
/// inode, and the very next refresh reads it as the new process.
#[test]
fn a_reused_pid_is_read_as_a_new_process_at_once() {
    if !require_root_and_tools("a_reused_pid", &["unshare", "sleep"]) {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path().display();
    let script = format!(
        "sleep 100000 & echo $! > {d}/a.tmp && mv {d}/a.tmp {d}/a
while [ ! -e {d}/go ]; do sleep 0.02; done
kill $(cat {d}/a); wait $(cat {d}/a)
echo $(($(cat {d}/a) - 1)) > /proc/sys/kernel/ns_last_pid
sleep 200000 & echo $! > {d}/b.tmp && mv {d}/b.tmp {d}/b
wait"
    );
    let p = NsProcess::spawn(&["--pid", "--mount-proc"], &script, "sh");
    let inner_proc = format!("/proc/{}/root/proc", p.inner);
    let roots = Roots {
        proc: inner_proc.clone().into(),
        ..Roots::default()
    };
    let a = read_pid_file(&dir.path().join("a"));
    let pid_dir = format!("{inner_proc}/{a}");
    poll("the first sleep to exec", POLL_TIMEOUT, || {
        (fs::read(format!("{pid_dir}/cmdline")).ok()? == b"sleep\x00100000\x00").then_some(())
    });
    let first_ino = fs::metadata(&pid_dir).expect("stat /proc/PID").ino();

    let procs_only = CollectOptions {
        relations: false,
        uts: false,
        net: false,
        cgroups: false,
        command_lines: true,
    };
    let mut c = Collector::new(roots);
    let snap = c.refresh(procs_only).expect("refresh");
    assert_eq!(process(&snap, a).cmdline, vec!["sleep", "100000"]);
    for _ in 0..=YOUNG_PASSES {
        c.refresh(procs_only).expect("refresh");
    }

    fs::write(dir.path().join("go"), "").expect("write go");
    let b = read_pid_file(&dir.path().join("b"));
    assert_eq!(b, a, "ns_last_pid did not give the PID again");
    poll("the second sleep to exec", POLL_TIMEOUT, || {
        (fs::read(format!("{pid_dir}/cmdline")).ok()? == b"sleep\x00200000\x00").then_some(())
    });
    let second_ino = fs::metadata(&pid_dir).expect("stat /proc/PID").ino();
    assert_ne!(
        first_ino, second_ino,
        "the kernel kept the /proc/PID inode for a new process"
    );

    let snap = c.refresh(procs_only).expect("refresh");
    let stats = c.last_refresh();
    assert_eq!(
        process(&snap, a).cmdline,
        vec!["sleep", "200000"],
        "{stats:?}"
    );
    assert!(stats.read_new >= 1, "read as a new process: {stats:?}");
}

// ---------------------------------------------------------------------------------------------
// Changes to a living process
// ---------------------------------------------------------------------------------------------

/// A process that execs into `unshare --uts sleep` keeps its PID and /proc/PID inode but gets a
/// new command line and UTS namespace: seen within `ROLLING_PASSES` refreshes, or by the first
/// refresh after `invalidate`.
#[test]
fn exec_and_unshare_of_a_living_process_show_within_the_bound_or_after_invalidate() {
    if !require_root_and_tools("exec_and_unshare", &["unshare", "sleep"]) {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let start = |name: &str| {
        let go = dir.path().join(name);
        ChildGuard::spawn_sh(&format!(
            "while [ ! -e {} ]; do sleep 0.05; done; exec unshare --uts sleep 100000",
            go.display()
        ))
    };
    let (rolled, forced) = (start("go-rolled"), start("go-forced"));
    let mut c = Collector::new(Roots::default());
    refresh(&mut c);
    // Past the passes in which a new process is read every time.
    for _ in 0..=YOUNG_PASSES {
        refresh(&mut c);
    }
    let host_uts = ns_inode(std::process::id() as i32, "uts").expect("own uts");

    for (guard, name) in [(&rolled, "go-rolled"), (&forced, "go-forced")] {
        let pid = guard.pid();
        fs::write(dir.path().join(name), "").expect("write go");
        poll(
            "exec into sleep in a new uts namespace",
            POLL_TIMEOUT,
            || {
                let done = comm(pid).as_deref() == Some("sleep")
                    && ns_inode(pid, "uts").is_some_and(|u| u != host_uts);
                done.then_some(())
            },
        );
    }

    // The first: the rolling slice.
    let pid = rolled.pid();
    let want_uts = ns_inode(pid, "uts").expect("uts");
    let (n, snap) = refresh_until(
        &mut c,
        ROLLING_PASSES,
        "exec and unshare seen by the rolling re-read",
        pid,
        |s| {
            s.processes.get(&pid).is_some_and(|p| {
                p.cmdline == ["sleep", "100000"] && p.ns[&NsType::Uts].ino == want_uts
            })
        },
    );
    assert!(n <= ROLLING_PASSES);
    assert_eq!(ns_of(process(&snap, pid)), ns_map(pid));
    assert_eq!(
        snap.namespaces[&(NsType::Uts, want_uts)].pids,
        vec![pid],
        "the new namespace and its member"
    );

    // The second: invalidate, then one refresh.
    let pid = forced.pid();
    c.invalidate();
    let snap = refresh(&mut c);
    assert!(c.last_refresh().full);
    let p = process(&snap, pid);
    assert_eq!(p.cmdline, proc_cmdline(pid));
    assert_eq!(ns_of(p), ns_map(pid));
}

/// A sleeping process moved to another cgroup by someone else: the groups' usage files show the
/// move in the next refresh; the process's own cgroup (and the groups' member lists) within
/// `ROLLING_PASSES` refreshes although the process itself never runs, and at once after
/// `invalidate`.
#[test]
fn a_cgroup_move_shows_in_usage_at_once_and_in_membership_within_the_bound() {
    if !require_root_and_tools("a_cgroup_move", &["sleep"]) {
        return;
    }
    let Some(h) = pids_hierarchy("a_cgroup_move") else {
        return;
    };
    let a = CgroupGuard::create(&h.dir_name(), "inc-move-a").expect("create group a");
    let b = CgroupGuard::create(&h.dir_name(), "inc-move-b").expect("create group b");
    // Declared after the groups: killed before they are removed.
    let sleep = ChildGuard::spawn_sleep();
    let pid = sleep.pid();
    a.add_process(pid).expect("move into a");

    let mut c = Collector::new(Roots::default());
    let snap = refresh(&mut c);
    assert_eq!(&*process(&snap, pid).cgroups["pids"], a.rel.as_str());
    assert_eq!(cgroup(&snap, "pids", &a.rel).pids, vec![pid]);
    assert_eq!(pids_current(&snap, &a.rel), Some(1));
    assert_eq!(pids_current(&snap, &b.rel), Some(0));
    for _ in 0..=YOUNG_PASSES {
        refresh(&mut c);
    }

    b.add_process(pid).expect("move into b");
    assert_eq!(proc_cgroups(pid)["pids"], b.rel);
    let snap = refresh(&mut c);
    assert_eq!(
        (pids_current(&snap, &a.rel), pids_current(&snap, &b.rel)),
        (Some(0), Some(1)),
        "usage files are read every pass"
    );
    let in_b = |s: &Snapshot| {
        s.processes
            .get(&pid)
            .is_some_and(|p| &*p.cgroups["pids"] == b.rel.as_str())
            && cgroup(s, "pids", &b.rel).pids == vec![pid]
            && cgroup(s, "pids", &a.rel).pids.is_empty()
    };
    if !in_b(&snap) {
        refresh_until(
            &mut c,
            ROLLING_PASSES - 1,
            "the move in the process's cgroups",
            pid,
            in_b,
        );
    }

    a.add_process(pid).expect("move back into a");
    c.invalidate();
    let snap = refresh(&mut c);
    assert_eq!(&*process(&snap, pid).cgroups["pids"], a.rel.as_str());
    assert_eq!(cgroup(&snap, "pids", &a.rel).pids, vec![pid]);
}

/// A process whose parent exits is reparented: the next refresh after the parent is gone shows
/// its new PPid, without waiting for its turn.
#[test]
fn a_reparented_process_shows_its_new_parent_at_once() {
    if !require_root_and_tools("a_reparented_process", &["sh", "sleep"]) {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path().display();
    // Our child runs a middle shell that starts the sleep and then waits to be killed.
    let top = ChildGuard::spawn_sh(&format!(
        "sh -c 'sleep 100000 & echo $! > {d}/c.tmp; mv {d}/c.tmp {d}/c; echo $$ > {d}/m.tmp; \
         mv {d}/m.tmp {d}/m; exec sleep 100000' & wait"
    ));
    let child = read_pid_file(&dir.path().join("c"));
    let middle = read_pid_file(&dir.path().join("m"));
    poll("the middle shell to exec", POLL_TIMEOUT, || {
        (comm(middle).as_deref() == Some("sleep")).then_some(())
    });
    let mut c = Collector::new(Roots::default());
    let snap = refresh(&mut c);
    assert_eq!(process(&snap, child).ppid, middle);
    assert_eq!(process(&snap, middle).ppid, top.pid());
    for _ in 0..=YOUNG_PASSES {
        refresh(&mut c);
    }
    // `middle` is a process this test started (in its process group), signalled by PID.
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(middle),
        nix::sys::signal::Signal::SIGKILL,
    )
    .expect("kill the middle shell");
    poll("the middle shell to be reaped", POLL_TIMEOUT, || {
        (!Path::new(&format!("/proc/{middle}")).exists()).then_some(())
    });
    let want = ppid(child).expect("ppid of the sleep");
    assert_ne!(want, middle);
    let snap = refresh(&mut c);
    assert_eq!(process(&snap, child).ppid, want, "{:?}", c.last_refresh());
    assert!(!snap.processes.contains_key(&middle));
}

// ---------------------------------------------------------------------------------------------
// The process events connector
// ---------------------------------------------------------------------------------------------

/// Refresh past the passes in which new processes are read every time; false (and a skip) when
/// no pass learnt of processes from the connector (a kernel without CONFIG_PROC_EVENTS).
fn settle_with_events(c: &mut Collector, test: &str) -> bool {
    let mut events = false;
    for _ in 0..=YOUNG_PASSES + 1 {
        let old = refresh(c);
        events |= c.last_refresh().from_events;
        c.recycle(old);
    }
    if !events {
        skip(
            test,
            "the process events connector is not available on this kernel",
        );
    }
    events
}

/// With the connector, an exec, and a process renaming itself (/proc/PID/comm), are read at the
/// next refresh, where the rolling re-read alone would take up to [`ROLLING_PASSES`] passes.
/// Both between two listings of /proc and across the listing of every
/// [`ROLLING_PASSES`]-th pass.
#[test]
fn an_exec_and_a_rename_show_at_the_next_refresh() {
    const TEST: &str = "an_exec_and_a_rename_show_at_the_next_refresh";
    if !require_root_and_tools(TEST, &["sh", "sleep"]) {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let mut c = Collector::new(Roots::default());
    refresh(&mut c);
    if !settle_with_events(&mut c, TEST) {
        return;
    }
    // Every pass of a whole cycle, so that one of them lists /proc.
    let mut listed = false;
    for round in 0..ROLLING_PASSES {
        let go = dir.path().join(format!("go-{round}"));
        let wait = format!("while [ ! -e {} ]; do sleep 0.05; done", go.display());
        let name = format!("inc-r{round}");
        let execs = ChildGuard::spawn_sh(&format!("{wait}; exec sleep {}", 100_000 + round));
        let renames = ChildGuard::spawn_sh(&format!(
            "{wait}; printf {name} > /proc/$$/comm; sleep 100000"
        ));
        let (pid, renamed) = (execs.pid(), renames.pid());
        // Past their young passes.
        for _ in 0..=YOUNG_PASSES {
            let old = refresh(&mut c);
            c.recycle(old);
        }
        fs::write(&go, "").expect("write go");
        poll("exec into sleep, and the rename", POLL_TIMEOUT, || {
            (comm(pid).as_deref() == Some("sleep") && comm(renamed).as_deref() == Some(&name))
                .then_some(())
        });
        let snap = refresh(&mut c);
        let stats = c.last_refresh();
        listed |= !stats.from_events;
        assert_eq!(
            process(&snap, pid).cmdline,
            vec!["sleep".to_string(), (100_000 + round).to_string()],
            "round {round}: {stats:?}"
        );
        assert_eq!(
            process(&snap, renamed).comm,
            name,
            "round {round}: {stats:?}"
        );
        assert!(!stats.processes_same, "{stats:?}");
        c.recycle(snap);
    }
    assert!(listed, "no pass of the cycle listed /proc");
}

/// What a refresh says is the same as in the previous pass is: the processes, namespaces,
/// isolation groups and containers it flags equal those of the snapshot before (which a live
/// view then keeps), while processes come and go around it.
#[test]
fn what_refresh_says_is_unchanged_is_unchanged() {
    const TEST: &str = "what_refresh_says_is_unchanged_is_unchanged";
    if !require_root_and_tools(TEST, &["sh", "sleep", "unshare"]) {
        return;
    }
    let mut c = Collector::new(Roots::default());
    let mut previous = refresh(&mut c);
    let mut held: Vec<ChildGuard> = Vec::new();
    let mut same = [0usize; 3];
    let passes = 2 * ROLLING_PASSES + YOUNG_PASSES;
    for n in 0..passes {
        // Changes now and then: a process starts, one ends, one gets a namespace of its own.
        match n % 5 {
            1 => held.push(ChildGuard::spawn_sleep()),
            3 => {
                if let Some(mut g) = held.pop() {
                    g.kill();
                }
            }
            4 if n < ROLLING_PASSES => {
                let p = NsProcess::spawn(
                    &["--uts"],
                    "hostname inc-same && exec sleep 100000",
                    "sleep",
                );
                held.push(p.guard);
            }
            _ => {}
        }
        let snap = refresh(&mut c);
        let stats = c.last_refresh();
        if stats.processes_same {
            same[0] += 1;
            assert_eq!(snap.processes, previous.processes, "pass {n}: {stats:?}");
        }
        if stats.namespaces_same {
            same[1] += 1;
            assert!(stats.processes_same);
            assert_eq!(snap.namespaces, previous.namespaces, "pass {n}: {stats:?}");
            assert_eq!(snap.host_ns, previous.host_ns, "pass {n}");
        }
        if stats.containers_same {
            same[2] += 1;
            assert!(stats.processes_same);
            assert_eq!(snap.groups, previous.groups, "pass {n}: {stats:?}");
            assert_eq!(snap.containers, previous.containers, "pass {n}: {stats:?}");
        }
        // The new one is kept to compare with; the one before goes back, as a view does.
        c.recycle(std::mem::replace(&mut previous, snap.clone()));
        drop(snap);
    }
    eprintln!(
        "{TEST}: of {passes} passes, processes the same in {}, namespaces in {}, containers in {}",
        same[0], same[1], same[2]
    );
}

/// A hostname changed inside an existing UTS namespace (no process changes) shows within the
/// bound, also while the refreshes keep the namespaces of a snapshot given back.
#[test]
fn a_hostname_changed_in_place_shows_within_the_bound() {
    const TEST: &str = "a_hostname_changed_in_place";
    if !require_root_and_tools(TEST, &["unshare", "nsenter", "hostname", "sleep"]) {
        return;
    }
    let p = NsProcess::spawn(
        &["--uts"],
        "hostname inc-before && exec sleep 100000",
        "sleep",
    );
    let pid = p.outer;
    let mut c = Collector::new(Roots::default());
    let mut last = refresh(&mut c);
    for _ in 0..=YOUNG_PASSES {
        c.recycle(last);
        last = refresh(&mut c);
    }
    let uts = process(&last, pid).ns[&NsType::Uts].ino;
    assert_eq!(
        last.namespaces[&(NsType::Uts, uts)].hostname.as_deref(),
        Some("inc-before")
    );
    let out = run(
        "nsenter",
        &["-t", &pid.to_string(), "-u", "hostname", "inc-after"],
    );
    assert!(out.status.success(), "nsenter -u hostname");
    let mut seen = None;
    for n in 1..=ROLLING_PASSES {
        c.recycle(last);
        last = refresh(&mut c);
        if last.namespaces[&(NsType::Uts, uts)].hostname.as_deref() == Some("inc-after") {
            seen = Some(n);
            break;
        }
    }
    assert!(
        seen.is_some(),
        "hostname not seen within {ROLLING_PASSES} refreshes"
    );
    // And it stays, in the passes that keep the namespaces given back.
    for _ in 0..3 {
        c.recycle(last);
        last = refresh(&mut c);
        assert_eq!(
            last.namespaces[&(NsType::Uts, uts)].hostname.as_deref(),
            Some("inc-after")
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Cgroup trees
// ---------------------------------------------------------------------------------------------

#[test]
fn cgroups_changed_makes_the_next_refresh_walk_the_trees() {
    if !require_root_and_tools("cgroups_changed", &["sh", "sleep"]) {
        return;
    }
    let Some(h) = pids_hierarchy("cgroups_changed") else {
        return;
    };
    let mut c = Collector::new(Roots::default());
    refresh(&mut c);
    let snap = refresh(&mut c);
    let before = snap.cgroups.len();

    // Told: created and removed groups show in the next refresh.
    let g = CgroupGuard::create(&h.dir_name(), "inc-told").expect("create group");
    c.cgroups_changed();
    let snap = refresh(&mut c);
    assert!(c.last_refresh().cgroup_walk);
    assert!(snap.cgroups.iter().any(|x| x.path == g.rel));
    assert!(snap.cgroups.len() > before);
    let rel = g.rel.clone();
    drop(g);
    c.cgroups_changed();
    let snap = refresh(&mut c);
    assert!(!snap.cgroups.iter().any(|x| x.path == rel));

    // Not told: a new process in a group that is not in the trees makes the refresh that reads
    // it walk them.
    let g = CgroupGuard::create(&h.dir_name(), "inc-untold").expect("create group");
    let procs = g.dir.join("cgroup.procs");
    let joined = ChildGuard::spawn_sh(&format!(
        "echo $$ > {} && exec sleep 100000",
        procs.display()
    ));
    let pid = joined.pid();
    poll("the process to join the group", POLL_TIMEOUT, || {
        (comm(pid).as_deref() == Some("sleep")).then_some(())
    });
    let snap = refresh(&mut c);
    assert!(c.last_refresh().cgroup_walk, "{:?}", c.last_refresh());
    assert_eq!(cgroup(&snap, "pids", &g.rel).pids, vec![pid]);
    assert_eq!(pids_current(&snap, &g.rel), Some(1));
    drop(joined);
}

// ---------------------------------------------------------------------------------------------
// refresh() against collect()
// ---------------------------------------------------------------------------------------------

/// A quiet set of test processes (namespaces of every type, a user namespace, hostnames, two
/// named network namespaces joined by a veth pair, a cgroup with a limit): after more refreshes
/// than a whole rolling cycle (so that every process has been both kept and re-read), refresh()
/// gives what collect() gives for all of it.
#[test]
fn refresh_matches_collect_on_quiet_test_processes() {
    if !require_root_and_tools("refresh_matches_collect", &["unshare", "ip", "sleep"]) {
        return;
    }
    let Some(h) = pids_hierarchy("refresh_matches_collect") else {
        return;
    };
    let g = CgroupGuard::create(&h.dir_name(), "inc-same").expect("create group");
    g.write("pids.max", "50").expect("pids.max");
    let n1 = NetnsGuard::create("inc-same-1");
    let n2 = NetnsGuard::create("inc-same-2");
    n1.ip(&[
        "link", "add", "inc-va", "type", "veth", "peer", "name", "inc-vb", "netns", &n2.name,
    ]);
    n1.ip(&["addr", "add", "10.77.0.1/24", "dev", "inc-va"]);
    n1.ip(&["link", "set", "inc-va", "up"]);
    let p1 = NsProcess::spawn(
        &[
            "--pid",
            "--uts",
            "--ipc",
            "--net",
            "--mount",
            "--mount-proc",
            "--cgroup",
            "--time",
        ],
        "hostname inc-same-a && exec sleep 100000",
        "sleep",
    );
    let p2 = NsProcess::spawn(
        &["--user", "--map-root-user", "--uts", "--pid", "--fork"],
        "hostname inc-same-b && exec sleep 100000",
        "sleep",
    );
    let sleeper = ChildGuard::spawn_sleep();
    g.add_process(sleeper.pid()).expect("move into the group");
    let ours = [p1.outer, p1.inner, p2.outer, p2.inner, sleeper.pid()];

    // Given back each time, as a live view does: unchanged processes are moved out of it.
    let mut c = Collector::new(Roots::default());
    for _ in 0..(ROLLING_PASSES * u64::from(FULL_READ_EVERY) + YOUNG_PASSES + 1) {
        let old = refresh(&mut c);
        c.recycle(old);
    }
    let r = refresh(&mut c);
    assert!(c.last_refresh().recycled > 0, "{:?}", c.last_refresh());
    let f = collect();

    for pid in ours {
        assert_eq!(process(&r, pid), process(&f, pid), "process {pid}");
    }
    let host = &f.host_ns;
    assert_eq!(&r.host_ns, host);
    // Every namespace of ours that the host does not share, and the two named ones.
    let mut keys: Vec<(NsType, u64)> = ours
        .iter()
        .flat_map(|pid| process(&f, *pid).ns.iter())
        .filter(|(t, id)| host.get(t) != Some(id))
        .map(|(t, id)| (*t, id.ino))
        .collect();
    keys.push((NsType::Net, n1.inode()));
    keys.push((NsType::Net, n2.inode()));
    keys.sort();
    keys.dedup();
    assert!(keys.len() >= 12, "{keys:?}");
    for key in &keys {
        assert_eq!(
            r.namespaces.get(key),
            f.namespaces.get(key),
            "namespace {key:?}"
        );
        assert!(r.namespaces.contains_key(key), "namespace {key:?}");
    }
    // The veth pair is resolved across the two named namespaces.
    let va = r.namespaces[&(NsType::Net, n1.inode())]
        .interfaces
        .as_ref()
        .and_then(|ifs| ifs.iter().find(|i| i.name == "inc-va").cloned())
        .expect("inc-va");
    assert_eq!(va.peer_netns, Some(n2.inode()));
    for pid in ours {
        assert_eq!(r.group_of(pid), f.group_of(pid), "isolation group of {pid}");
    }
    let (rg, fg) = (cgroup(&r, "pids", &g.rel), cgroup(&f, "pids", &g.rel));
    assert_eq!(rg.pids, vec![sleeper.pid()]);
    assert_eq!(rg.pids, fg.pids);
    assert_eq!(rg.limits, fg.limits);
    assert_eq!(rg.usage, fg.usage);
    assert_eq!(rg.limits.get("pids.max"), Some(&CgValue::Int(50)));
    assert_eq!(r.hierarchies, f.hierarchies);
    assert_eq!(r.cgroup_mode, f.cgroup_mode);
    let paths = |s: &Snapshot| -> Vec<(String, String)> {
        s.cgroups
            .iter()
            .map(|c| (c.hierarchy.clone(), c.path.clone()))
            .filter(|(_, p)| !p.starts_with("/nsview-test-"))
            .collect()
    };
    assert_eq!(paths(&r), paths(&f), "cgroup trees");
}

#[test]
fn a_quiet_refresh_reads_a_slice_and_invalidate_reads_everything() {
    if !require_root_and_tools("a_quiet_refresh", &[]) {
        return;
    }
    let mut c = Collector::new(Roots::default());
    let mut last = refresh(&mut c);
    let mut rolled = 0;
    for _ in 0..ROLLING_PASSES {
        c.recycle(last);
        last = refresh(&mut c);
        let s = c.last_refresh();
        assert!(s.recycled > 0, "{s:?}");
        assert!(!s.full);
        assert!(s.kept > 0, "{s:?}");
        assert_eq!(
            s.kept + s.read_new + s.read_young + s.read_rolling + s.read_reparented + s.read_events,
            s.listed,
            "{s:?}"
        );
        // A slice, spread evenly over the cycle.
        assert!(
            s.read_rolling as u64 <= s.listed as u64 * 3 / ROLLING_PASSES + 10,
            "{s:?}"
        );
        assert!(s.rolling_idle <= s.read_rolling, "{s:?}");
        rolled += s.read_rolling;
    }
    // Every process that stayed had its turn once in the cycle.
    let listed = c.last_refresh().listed;
    assert!(
        rolled * 2 >= listed,
        "{rolled} turns for {listed} processes in {ROLLING_PASSES} passes"
    );
    c.invalidate();
    refresh(&mut c);
    let s = c.last_refresh();
    assert!(s.full, "{s:?}");
    assert_eq!(s.kept, 0, "{s:?}");
    assert_eq!(s.read_new, s.listed, "{s:?}");
    assert!(s.cgroup_walk, "{s:?}");
}

// ---------------------------------------------------------------------------------------------
// On a fixture tree (no root needed)
// ---------------------------------------------------------------------------------------------

/// Copy a fixture directory (regular files, directories, and the dangling symlinks that stand
/// for namespace links).
fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir(to).unwrap_or_else(|e| panic!("mkdir {}: {e}", to.display()));
    for entry in fs::read_dir(from).expect("read fixture dir").flatten() {
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        let ft = entry.file_type().expect("file type");
        if ft.is_symlink() {
            let target = fs::read_link(&src).expect("readlink");
            std::os::unix::fs::symlink(target, &dst).expect("symlink");
        } else if ft.is_dir() {
            copy_tree(&src, &dst);
        } else {
            fs::copy(&src, &dst).expect("copy");
        }
    }
}

/// A Docker container id of the fixture tree.
const DOCKER_ID: &str = "4653218bbd17a0c1e2f3a4b5c6d7e8f90123456789abcdef0123456789abcdef";

/// What a refresh and a full pass must agree on (everything but the time).
fn assert_same(r: &Snapshot, f: &Snapshot, when: &str) {
    assert_eq!(r.processes, f.processes, "processes {when}");
    assert_eq!(r.namespaces, f.namespaces, "namespaces {when}");
    assert_eq!(r.host_ns, f.host_ns, "host namespaces {when}");
    assert_eq!(r.groups, f.groups, "isolation groups {when}");
    assert_eq!(r.containers, f.containers, "containers {when}");
    assert_eq!(r.cgroup_mode, f.cgroup_mode, "cgroup mode {when}");
    assert_eq!(r.hierarchies, f.hierarchies, "hierarchies {when}");
    assert_eq!(r.cgroups, f.cgroups, "cgroups {when}");
    assert_eq!(r.warnings, f.warnings, "warnings {when}");
}

#[test]
fn refresh_follows_a_fixture_tree_as_a_full_pass_does() {
    if !nix::unistd::geteuid().is_root() {
        skip(
            "refresh_follows_a_fixture_tree",
            "needs root (the fixture trees make /proc/PID owned by each process's UID)",
        );
        return;
    }
    let ct = Ns::host()
        .with("mnt", 4026532380)
        .with("uts", 4026532381)
        .with("pid", 4026532383);
    let fx = Host::new()
        .mount_v2("/sys/fs/cgroup", "memory pids")
        .process(1, 0, "init", &[], Ns::host(), &[("unified", "/")])
        .process(100, 1, "sh", &[100, 1], ct, &[("unified", "/c1")])
        .process(200, 1, "sleep", &[], Ns::host(), &[("unified", "/")])
        // A Docker container (systemd driver), named by its config.v2.json.
        .process(
            400,
            1,
            "sleep",
            &[400, 1],
            Ns::host().with("mnt", 4026532390).with("pid", 4026532393),
            &[(
                "unified",
                &format!("/system.slice/docker-{DOCKER_ID}.scope"),
            )],
        )
        .file(
            &format!("var/lib/docker/containers/{DOCKER_ID}/config.v2.json"),
            br#"{"Name":"/web-1","Config":{"Image":"nginx:1.25"},"State":{"Running":true}}"#,
        )
        .cgroup(
            "unified",
            "/c1",
            &[("memory.max", "max\n"), ("memory.current", "4096\n")],
        )
        .build();
    let roots = Roots::under(fx.root());
    let proc_dir = roots.proc.clone();
    let c1 = fx.root().join("sys/fs/cgroup/c1");
    let full = || {
        Collector::new(roots.clone())
            .collect(CollectOptions::ALL)
            .expect("collect")
    };
    let mut c = Collector::new(roots.clone());
    // Each snapshot is given back before the next refresh, as a live view does, so that the
    // comparisons also cover processes moved out of a recycled snapshot.
    let mut previous: Option<Snapshot> = None;
    let mut refresh = |c: &mut Collector| {
        if let Some(old) = previous.take() {
            c.recycle(old);
        }
        let snap = c.refresh(CollectOptions::ALL).expect("refresh");
        previous = Some(snap.clone());
        snap
    };

    let r = refresh(&mut c);
    assert_same(&r, &full(), "at first");
    assert_eq!(r.processes.len(), 4);
    assert!(r.group_of(100).is_some());
    assert_eq!(r.container_of(400).map(|c| c.name.as_str()), Some("web-1"));
    for _ in 0..=YOUNG_PASSES {
        refresh(&mut c);
    }

    // Usage: every pass.
    fs::write(c1.join("memory.current"), "8192\n").expect("write");
    let r = refresh(&mut c);
    assert_eq!(
        cgroup(&r, "unified", "/c1").usage.get("memory.current"),
        Some(&CgValue::Int(8192))
    );
    assert_same(&r, &full(), "after a usage change");

    // Gone and new processes: at once.
    fs::remove_dir_all(proc_dir.join("200")).expect("rm");
    copy_tree(&proc_dir.join("100"), &proc_dir.join("300"));
    let r = refresh(&mut c);
    assert!(!r.processes.contains_key(&200));
    assert!(r.processes.contains_key(&300));
    assert_same(&r, &full(), "after a process left and one came");

    for _ in 0..=YOUNG_PASSES {
        refresh(&mut c);
    }

    // A PID reused: a new directory behind the same name, read at once. Made under another name
    // first, so that it cannot get the inode number of the one it replaces (procfs never gives
    // a new process the old number; a disk file system may reuse a freed one at once).
    copy_tree(&proc_dir.join("1"), &proc_dir.join("next"));
    fs::write(proc_dir.join("next/cmdline"), "reused\0").expect("write");
    fs::remove_dir_all(proc_dir.join("300")).expect("rm");
    fs::rename(proc_dir.join("next"), proc_dir.join("300")).expect("rename");
    let r = refresh(&mut c);
    assert!(c.last_refresh().read_new >= 1, "{:?}", c.last_refresh());
    assert_eq!(process(&r, 300).cmdline, vec!["reused"]);
    assert_same(&r, &full(), "after a PID was reused");

    // A living process changed in place, and a limit: within the bound.
    fs::write(proc_dir.join("100/cmdline"), "sh\0-c\0changed\0").expect("write");
    fs::write(c1.join("memory.max"), "1073741824\n").expect("write");
    let f = full();
    let mut seen = None;
    for n in 1..=ROLLING_PASSES {
        let r = refresh(&mut c);
        if r.processes == f.processes && r.cgroups == f.cgroups {
            seen = Some(n);
            break;
        }
    }
    assert!(seen.is_some(), "not seen within {ROLLING_PASSES} refreshes");

    // A new cgroup: after cgroups_changed.
    fs::create_dir(fx.root().join("sys/fs/cgroup/c2")).expect("mkdir");
    c.cgroups_changed();
    let r = refresh(&mut c);
    assert!(c.last_refresh().cgroup_walk);
    assert_same(&r, &full(), "after cgroups_changed");
    assert!(r.cgroups.iter().any(|g| g.path == "/c2"));

    // invalidate: everything read again.
    c.invalidate();
    let r = refresh(&mut c);
    assert!(c.last_refresh().full);
    assert_same(&r, &full(), "after invalidate");
}
