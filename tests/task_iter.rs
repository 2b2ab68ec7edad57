//! The BPF task iterator against /proc, on the real kernel as root: a full pass reads processes
//! with the iterator (src/sys/task_iter/) when it can, and must give exactly what the /proc
//! reader gives (`Collector::without_task_iter`): PIDs and NSpid, parent, comm, command line,
//! UID, every namespace with its owner and parent, pid_for_children / time_for_children, and the
//! cgroup of every hierarchy, for processes made to exercise each of those (nested pid and user
//! namespaces, an unshare(CLONE_NEWPID) without fork, a zombie in a v1 and v2 cgroup of our own)
//! and for every other process that stays the same while the passes run.
//!
//! Each test makes its own processes and cgroups (tests/common guards; cgroups only under
//! /sys/fs/cgroup/<hier>/nsview-test-<pid>/). Each test runs alone (.config/nextest.toml:
//! threads-required, under scripts/test.sh): the comparisons look at every process of the host,
//! and the processes other tests start and stop would leave few to compare. Outside nextest:
//! `cargo test --test task_iter -- --test-threads=1`.

mod common;

use common::*;
use nsview::collect::{CollectOptions, Collector, ITER_MIN_TASKS, ProcessSource};
use nsview::model::{NsType, Process, Snapshot};
use nsview::sys::Roots;
use std::collections::BTreeMap;
use std::process::Command;

fn with_iter() -> (Snapshot, String) {
    let mut c = Collector::new(Roots::default()).with_process_source(ProcessSource::TaskIter);
    let snap = c
        .collect(CollectOptions::ALL)
        .expect("collect with the iterator");
    (snap, c.process_source())
}

fn with_proc() -> (Snapshot, String) {
    let mut c = Collector::new(Roots::default()).with_process_source(ProcessSource::Proc);
    let snap = c.collect(CollectOptions::ALL).expect("collect from /proc");
    (snap, c.process_source())
}

/// The namespace relations of a snapshot: (type, inode) -> (owner, parent, owner_uid).
type Relations = BTreeMap<(NsType, u64), (Option<u64>, Option<u64>, Option<u32>)>;

fn relations(snap: &Snapshot) -> Relations {
    snap.namespaces
        .values()
        .filter(|ns| !ns.pids.is_empty())
        .map(|ns| ((ns.ns_type, ns.inode), (ns.owner, ns.parent, ns.owner_uid)))
        .collect()
}

/// A process of `guard`'s tree whose comm is `comm` (the test knows there is exactly one).
fn descendant(root: i32, comm_want: &str) -> i32 {
    poll(&format!("a {comm_want} below {root}"), POLL_TIMEOUT, || {
        let mut stack = vec![root];
        while let Some(p) = stack.pop() {
            if comm(p).as_deref() == Some(comm_want) && p != root {
                return Some(p);
            }
            stack.extend(children_of(p));
        }
        None
    })
}

fn state(pid: i32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(") ")?.1.chars().next()
}

#[test]
fn iterator_and_proc_agree_on_processes_made_to_differ() {
    if !require_root_and_tools(
        "iterator_and_proc_agree_on_processes_made_to_differ",
        &["unshare", "sh", "sleep", "ip"],
    ) {
        return;
    }
    // Every namespace type new, inside a new user namespace owned by root.
    let all_new = NsProcess::spawn(
        &[
            "--user",
            "--map-root-user",
            "--pid",
            "--mount",
            "--mount-proc",
            "--uts",
            "--ipc",
            "--net",
            "--cgroup",
            "--time",
        ],
        "exec sleep 1000",
        "sleep",
    );
    // Three pid namespace levels: NSpid has three entries.
    let nested = ChildGuard::spawn(Command::new("unshare").args([
        "--fork",
        "--kill-child",
        "--pid",
        "sh",
        "-c",
        "unshare --fork --kill-child --pid sh -c 'sleep 1001; true'; true",
    ]));
    let deep = descendant(nested.pid(), "sleep");
    // unshare(CLONE_NEWPID) without fork: the shell's pid_for_children differs from its pid
    // namespace (its child sleep is PID 1 there); a lone sleep has a pid_for_children without a
    // reaper, which /proc cannot open either.
    let for_children =
        ChildGuard::spawn(Command::new("unshare").args(["--pid", "sh", "-c", "sleep 1002; true"]));
    let reaperless = ChildGuard::spawn(Command::new("unshare").args(["--pid", "sleep", "1003"]));
    // A process and a zombie in cgroups of our own in every hierarchy.
    let hierarchies = cgroup_hierarchies();
    let groups: Vec<CgroupGuard> = hierarchies
        .iter()
        .map(|h| CgroupGuard::create(&h.dir_name(), "iter").expect("create test cgroup"))
        .collect();
    let parent = ChildGuard::spawn_sh("sleep 0.3; sleep 0 & exec sleep 1004");
    for g in &groups {
        g.add_process(parent.pid()).expect("move into test cgroup");
    }
    let zombie = poll("a zombie child", POLL_TIMEOUT, || {
        children_of(parent.pid())
            .into_iter()
            .find(|&c| state(c) == Some('Z'))
    });
    // A network namespace held only by a bind mount (found through mountinfo).
    let netns = NetnsGuard::create("iter");
    let for_children_sh = for_children.pid();
    let for_children_child = descendant(for_children_sh, "sleep");

    let (a, source) = with_iter();
    assert_eq!(
        source, "bpf task iterator",
        "the iterator must load as root here"
    );
    let (b, proc_source) = with_proc();
    assert!(proc_source.starts_with("/proc"), "{proc_source}");

    let ours = [
        all_new.outer,
        all_new.inner,
        nested.pid(),
        deep,
        for_children_sh,
        for_children_child,
        reaperless.pid(),
        parent.pid(),
        zombie,
    ];
    for pid in ours {
        let (x, y): (&Process, &Process) = (
            a.processes
                .get(&pid)
                .unwrap_or_else(|| panic!("{pid} missing (iterator)")),
            b.processes
                .get(&pid)
                .unwrap_or_else(|| panic!("{pid} missing (/proc)")),
        );
        assert_eq!(x, y, "process {pid}: iterator (left) vs /proc (right)");
    }
    // What each was made for, so the agreement above is not about empty fields.
    let deep_p = &a.processes[&deep];
    assert_eq!(deep_p.nspid.len(), 3, "{:?}", deep_p.nspid);
    let want: Vec<i64> = deep_p.nspid.iter().map(|&p| i64::from(p)).collect();
    assert_eq!(want, nspid(deep), "NSpid in /proc/{deep}/status");
    let sh = &a.processes[&for_children_sh];
    assert!(sh.pid_for_children.is_some(), "{sh:?}");
    assert_eq!(
        sh.pid_for_children.map(|n| n.ino),
        a.processes[&for_children_child]
            .ns
            .get(&NsType::Pid)
            .map(|n| n.ino)
    );
    assert_eq!(a.processes[&reaperless.pid()].pid_for_children, None);
    let inner = &a.processes[&all_new.inner];
    assert_eq!(inner.ns.len(), 8, "{inner:?}");
    for (t, id) in &inner.ns {
        assert_ne!(Some(id), a.host_ns.get(t), "{t:?} should be new");
    }
    let z = &a.processes[&zombie];
    for g in &groups {
        let key = hierarchies
            .iter()
            .find(|h| h.dir_name() == g.hier)
            .map(|h| h.key.clone())
            .expect("hierarchy");
        let path = z.cgroups.get(key.as_str()).map(|p| p.to_string());
        let want = proc_cgroups(zombie).get(&key).cloned();
        assert_eq!(path, want, "zombie's {key} cgroup");
        let live = &a.processes[&parent.pid()];
        assert_eq!(
            live.cgroups.get(key.as_str()).map(|p| p.to_string()),
            Some(g.rel.clone()),
            "{key}"
        );
    }

    // Owner, parent and creator of every namespace of ours, including the new user namespace
    // (parent: the host's) and the nested pid namespaces (parent chain).
    // Our namespaces, whole (members, relations, bind mounts, hostname, interfaces), and our
    // cgroups, members included.
    let ours_ns: Vec<_> = ours
        .iter()
        .flat_map(|pid| a.processes[pid].ns.iter().map(|(t, id)| (*t, id.ino)))
        .filter(|(t, ino)| a.host_ns.get(t).map(|h| h.ino) != Some(*ino))
        .chain([(NsType::Net, netns.inode())])
        .collect();
    for key in &ours_ns {
        assert_eq!(
            a.namespaces.get(key),
            b.namespaces.get(key),
            "namespace {key:?}: iterator (left) vs /proc (right)"
        );
    }
    assert_eq!(
        a.namespaces[&(NsType::Net, netns.inode())].bind_mounts,
        vec![netns.path()]
    );
    for g in &groups {
        let find = |s: &Snapshot| {
            s.cgroups
                .iter()
                .find(|c| c.path == g.rel && c.pids.contains(&parent.pid()))
                .cloned()
        };
        let (x, y) = (find(&a), find(&b));
        assert!(x.is_some(), "{} {} with {}", g.hier, g.rel, parent.pid());
        assert_eq!(x.map(|c| c.pids), y.map(|c| c.pids), "{} members", g.hier);
    }

    let (ra, rb) = (relations(&a), relations(&b));
    for pid in ours {
        for (t, id) in &a.processes[&pid].ns {
            let key = (*t, id.ino);
            assert_eq!(
                ra.get(&key),
                rb.get(&key),
                "relations of {t:?}:[{}]",
                id.ino
            );
            assert!(ra.contains_key(&key));
        }
    }
    let user = inner.ns[&NsType::User].ino;
    assert_eq!(
        ra[&(NsType::User, user)].1,
        Some(a.host_ns[&NsType::User].ino)
    );
    assert_eq!(ra[&(NsType::User, user)].2, Some(0));
    let deep_pid_ns = deep_p.ns[&NsType::Pid].ino;
    assert!(ra[&(NsType::Pid, deep_pid_ns)].1.is_some());
}

#[test]
fn iterator_and_proc_agree_on_every_process_that_stays_put() {
    if !require_root_and_tools(
        "iterator_and_proc_agree_on_every_process_that_stays_put",
        &[],
    ) {
        return;
    }
    // Iterator, /proc, iterator: a process is compared when both iterator passes saw it the same
    // (it neither exited, exec'd, moved nor was replaced meanwhile).
    let (a, _) = with_iter();
    let (b, _) = with_proc();
    let (c, source) = with_iter();
    assert_eq!(source, "bpf task iterator");
    let mut compared = 0;
    let mut differ = Vec::new();
    // A workqueue worker's name says what it runs at the moment ("kworker/0:1-events"), which
    // changes from one read to the next: only the worker part is stable.
    let stable = |p: &Process| -> Process {
        let mut p = p.clone();
        if p.kernel_thread && p.comm.starts_with("kworker/") {
            p.comm.truncate(p.comm.find('-').unwrap_or(p.comm.len()));
        }
        p
    };
    for (pid, x) in &a.processes {
        let (Some(y), Some(z)) = (b.processes.get(pid), c.processes.get(pid)) else {
            continue;
        };
        let (x, y, z) = (&stable(x), &stable(y), &stable(z));
        if x != z {
            continue;
        }
        compared += 1;
        if x != y {
            differ.push(format!("{pid}:\n  iterator {x:?}\n  /proc    {y:?}"));
        }
    }
    assert!(
        differ.is_empty(),
        "{} differ:\n{}",
        differ.len(),
        differ.join("\n")
    );
    // Nothing /proc shows is missing from the iterator's passes unless it exited meanwhile
    // (this kernel's iterator skips PID 1, which nsview then reads from /proc).
    let missing: Vec<i32> = b
        .processes
        .keys()
        .copied()
        .filter(|p| !a.processes.contains_key(p) && !c.processes.contains_key(p))
        .filter(|p| alive(*p))
        .collect();
    assert!(
        missing.is_empty(),
        "missing from the iterator's passes: {missing:?}"
    );
    assert!(a.processes.contains_key(&1) && c.processes.contains_key(&1));
    assert!(
        compared * 10 >= a.processes.len() * 9,
        "only {compared} of {} processes were stable enough to compare",
        a.processes.len()
    );
    let (ra, rb, rc) = (relations(&a), relations(&b), relations(&c));
    for (key, rel) in &ra {
        if rc.get(key) == Some(rel)
            && let Some(other) = rb.get(key)
        {
            assert_eq!(rel, other, "relations of {key:?}");
        }
    }
    // The same namespaces and cgroups, member for member where stable.
    assert_eq!(a.cgroup_mode, b.cgroup_mode);
    assert_eq!(a.hierarchies, b.hierarchies);
}

#[test]
fn collect_says_how_it_read_processes() {
    if !require_root_and_tools("collect_says_how_it_read_processes", &["setpriv"]) {
        return;
    }
    let out = run_ok(
        nsview_bin(),
        &["__collect", "--phases", "--process-source", "iter"],
    );
    assert!(
        out.contains("processes read with bpf task iterator"),
        "{out}"
    );
    let out = run_ok(
        nsview_bin(),
        &["__collect", "--phases", "--process-source", "proc"],
    );
    assert!(
        out.contains("processes read with /proc (bpf task iterator: turned off)"),
        "{out}"
    );
    // Auto: the iterator from ITER_MIN_TASKS tasks on (threads included, as /proc/loadavg
    // counts them), /proc below; the margin keeps tasks that come and go out of the way.
    let tasks = || -> usize {
        let text = std::fs::read_to_string("/proc/loadavg").expect("loadavg");
        let field = text.split_whitespace().nth(3).expect("4 fields");
        field
            .split_once('/')
            .and_then(|(_, n)| n.parse().ok())
            .expect("a/b")
    };
    let before = tasks();
    let out = run_ok(nsview_bin(), &["__collect", "--phases"]);
    let after = tasks();
    if before.min(after) >= ITER_MIN_TASKS + 50 {
        assert!(
            out.contains("processes read with bpf task iterator"),
            "{out}"
        );
    } else if before.max(after) + 50 < ITER_MIN_TASKS {
        let why = format!("bpf task iterator: not loaded for fewer than {ITER_MIN_TASKS}");
        assert!(out.contains(&why), "{out}");
    }
    // Without root: /proc, and why.
    let r = run_with_timeout(
        &mut nsview_as_nobody(&["__collect", "--phases", "--process-source", "iter"]),
        NSVIEW_TIMEOUT,
    );
    r.assert_success();
    assert!(
        r.stdout
            .contains("processes read with /proc (bpf task iterator: needs root)"),
        "{}",
        r.stdout
    );
}

/// `nsview ARGS --json` with processes read by `source`, optionally from a new cgroup
/// namespace (`unshare --cgroup`), as JSON.
fn cli_json(source: &str, cgroup_ns: bool, args: &[&str]) -> serde_json::Value {
    let mut cmd = if cgroup_ns {
        let mut c = Command::new("unshare");
        c.args(["--cgroup", nsview_bin()]);
        c
    } else {
        Command::new(nsview_bin())
    };
    cmd.args(["--process-source", source]).args(args);
    let r = run_with_timeout(&mut cmd, NSVIEW_TIMEOUT);
    r.assert_success();
    r.json()
}

/// ps --json's processes by PID.
fn ps_by_pid(v: &serde_json::Value) -> BTreeMap<i64, serde_json::Value> {
    array(v, "processes")
        .iter()
        .map(|p| (p["pid"].as_i64().expect("pid"), p.clone()))
        .collect()
}

#[test]
fn the_cli_prints_the_same_from_both_readers_also_in_a_cgroup_namespace() {
    if !require_root_and_tools(
        "the_cli_prints_the_same_from_both_readers_also_in_a_cgroup_namespace",
        &["unshare"],
    ) {
        return;
    }
    // A process in a cgroup of our own in every hierarchy, so that paths below the namespace
    // root appear too.
    let groups: Vec<CgroupGuard> = cgroup_hierarchies()
        .iter()
        .map(|h| CgroupGuard::create(&h.dir_name(), "cli").expect("create test cgroup"))
        .collect();
    let sleeper = ChildGuard::spawn_sleep();
    for g in &groups {
        g.add_process(sleeper.pid()).expect("move into test cgroup");
    }
    for cgroup_ns in [false, true] {
        // Iterator, /proc, iterator: processes that both iterator runs printed alike.
        let a = ps_by_pid(&cli_json("iter", cgroup_ns, &["ps", "--json"]));
        let b = ps_by_pid(&cli_json("proc", cgroup_ns, &["ps", "--json"]));
        let c = ps_by_pid(&cli_json("iter", cgroup_ns, &["ps", "--json"]));
        let mut compared = 0;
        // The workqueue part of a kworker's name changes from one read to the next.
        let kworker = |p: &serde_json::Value| {
            p["comm"]
                .as_str()
                .is_some_and(|n| n.starts_with("kworker/"))
        };
        let candidates = a.values().filter(|p| !kworker(p)).count();
        for (pid, x) in &a {
            if c.get(pid) != Some(x) || kworker(x) {
                continue;
            }
            // nsview's own process is a different one in each run.
            let Some(y) = b.get(pid) else { continue };
            compared += 1;
            assert_eq!(
                x, y,
                "cgroup namespace: {cgroup_ns}; iterator (left) vs /proc"
            );
        }
        assert!(
            compared * 10 >= candidates * 8,
            "{compared} of {candidates}"
        );
        let me = &a[&i64::from(sleeper.pid())];
        let cgroups = me["cgroups"].as_object().expect("cgroups");
        for g in &groups {
            let key = cgroup_hierarchies()
                .into_iter()
                .find(|h| h.dir_name() == g.hier)
                .map(|h| h.key)
                .expect("hierarchy");
            let want = proc_cgroups(sleeper.pid())[&key].clone();
            if cgroup_ns {
                // Seen from a namespace rooted at the test's own cgroup: still below it.
                assert!(
                    cgroups[&key].as_str().is_some_and(|p| p.ends_with(&g.rel)),
                    "{me}"
                );
            } else {
                assert_eq!(cgroups[&key].as_str(), Some(want.as_str()), "{me}");
            }
        }
    }
}

/// list --json's namespaces by (type, inode).
fn list_by_key(v: &serde_json::Value) -> BTreeMap<(String, i64), serde_json::Value> {
    array(v, "namespaces")
        .iter()
        .map(|n| {
            let t = n["type"].as_str().expect("type").to_string();
            ((t, n["inode"].as_i64().expect("inode")), n.clone())
        })
        .collect()
}

/// `list` reads only the command lines it prints (each namespace's lowest PID) when the iterator
/// reads processes: the same namespaces, members and commands as the /proc reader, which reads
/// them all.
#[test]
fn list_prints_the_same_commands_from_both_readers() {
    if !require_root_and_tools(
        "list_prints_the_same_commands_from_both_readers",
        &["unshare"],
    ) {
        return;
    }
    let marker = unique_name("list-cmdline");
    let group = ChildGuard::spawn(Command::new("unshare").args([
        "--uts",
        "--ipc",
        "--",
        "sh",
        "-c",
        "sleep 100000; :",
        &marker,
    ]));
    let want = format!("sh -c sleep 100000; : {marker}");
    poll(
        "the group's command line",
        std::time::Duration::from_secs(10),
        || {
            let raw = std::fs::read(format!("/proc/{}/cmdline", group.pid())).ok()?;
            (String::from_utf8_lossy(&raw).replace('\0', " ").trim_end() == want).then_some(())
        },
    );
    let a = list_by_key(&cli_json("iter", false, &["list", "--json"]));
    let b = list_by_key(&cli_json("proc", false, &["list", "--json"]));
    let c = list_by_key(&cli_json("iter", false, &["list", "--json"]));
    let ours: Vec<_> = a
        .values()
        .filter(|n| n["pid"].as_i64() == Some(i64::from(group.pid())))
        .collect();
    assert_eq!(
        ours.len(),
        2,
        "the group's uts and ipc namespaces: {ours:?}"
    );
    for n in ours {
        assert_eq!(n["command"].as_str(), Some(want.as_str()), "{n}");
    }
    let mut compared = 0;
    for (key, x) in &a {
        // Namespaces whose lowest member changed between the runs aside (the members of the
        // others differ anyway: each run's nsview is one of the host's).
        let (Some(y), Some(z)) = (b.get(key), c.get(key)) else {
            continue;
        };
        if x["pid"] != y["pid"] || x["pid"] != z["pid"] || x["command"] != z["command"] {
            continue;
        }
        compared += 1;
        assert_eq!(
            x["command"], y["command"],
            "iterator (left) vs /proc: {key:?}"
        );
    }
    assert!(compared * 10 >= a.len() * 8, "{compared} of {}", a.len());
}
