//! `nsview set | freeze | thaw | move | devices | undo | journal` on the real kernel (issue 4).
//!
//! Every test builds its own cgroups under /sys/fs/cgroup/<hier>/nsview-test-<pid>/<name>, puts a
//! process it started inside, drives the nsview binary, and checks the kernel files and
//! /proc/PID afterwards. Each test has its own journal (the hidden --state-dir, a temp dir).

mod common;

use common::*;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const TEST_HIERARCHIES: [&str; 6] = ["cpu", "cpuset", "memory", "pids", "freezer", "devices"];

/// A cgroup of ours at the same path in several hierarchies, with a journal of its own.
struct Group {
    guards: Vec<CgroupGuard>,
    /// "/nsview-test-<pid>/<name>"
    rel: String,
    state: tempfile::TempDir,
}

impl Group {
    fn new(test: &str, name: &str, hiers: &[&str]) -> Option<Group> {
        if !require_root_and_tools(test, &[]) {
            return None;
        }
        let guards: Vec<CgroupGuard> = hiers
            .iter()
            .map(|h| {
                CgroupGuard::create(h, name).unwrap_or_else(|e| panic!("create {h}/{name}: {e}"))
            })
            .collect();
        let rel = guards[0].rel.clone();
        Some(Group {
            guards,
            rel,
            state: tempfile::tempdir().expect("state dir"),
        })
    }

    fn hier(&self, h: &str) -> &CgroupGuard {
        self.guards
            .iter()
            .find(|g| g.hier == h)
            .unwrap_or_else(|| panic!("no {h} guard"))
    }

    fn read(&self, h: &str, file: &str) -> String {
        self.hier(h)
            .read(file)
            .unwrap_or_else(|e| panic!("read {h}/{file}: {e}"))
    }

    /// Put process `pid` (ours) into every hierarchy of the group.
    fn adopt(&self, pid: i32) {
        for g in &self.guards {
            g.add_process(pid).expect("add process");
        }
    }

    /// Run nsview with this group's journal.
    fn nsview(&self, args: &[&str]) -> Run {
        run_with_timeout(
            Command::new(nsview_bin())
                .arg("--state-dir")
                .arg(self.state.path())
                .args(args),
            NSVIEW_TIMEOUT,
        )
    }

    fn ok(&self, args: &[&str]) -> Run {
        let r = self.nsview(args);
        r.assert_success();
        r
    }

    /// Runs and expects exit 1 with exactly one line on stderr; returns that line.
    fn fails(&self, args: &[&str]) -> String {
        let r = self.nsview(args);
        assert_eq!(
            r.code,
            Some(1),
            "`{}` should fail with exit 1\nstdout:\n{}\nstderr:\n{}",
            r.cmdline,
            r.stdout,
            r.stderr
        );
        let lines = r.stderr_lines();
        assert_eq!(lines.len(), 1, "one line on stderr, got:\n{}", r.stderr);
        lines[0].to_string()
    }

    fn journal(&self) -> serde_json::Value {
        self.ok(&["journal", "--json"]).json()
    }
}

/// Every limit file of the group, for proving that a refused command wrote nothing.
fn snapshot_files(g: &Group) -> Vec<(String, String, String)> {
    let files = [
        ("cpu", "cpu.shares"),
        ("cpu", "cpu.cfs_quota_us"),
        ("cpu", "cpu.cfs_period_us"),
        ("cpuset", "cpuset.cpus"),
        ("cpuset", "cpuset.mems"),
        ("memory", "memory.limit_in_bytes"),
        ("memory", "memory.memsw.limit_in_bytes"),
        ("memory", "memory.soft_limit_in_bytes"),
        ("pids", "pids.max"),
        ("freezer", "freezer.state"),
        ("devices", "devices.list"),
    ];
    files
        .iter()
        .filter(|(h, _)| g.guards.iter().any(|x| x.hier == *h))
        .map(|(h, f)| (h.to_string(), f.to_string(), g.read(h, f)))
        .collect()
}

#[test]
fn set_writes_every_limit_and_reads_it_back() {
    let Some(g) = Group::new("set_writes_every_limit", "set_all", &TEST_HIERARCHIES) else {
        return;
    };
    let p = ChildGuard::spawn_sleep();
    g.adopt(p.pid());
    let cpus = g.read("cpuset", "cpuset.cpus");
    let first_cpu = cpus.split([',', '-']).next().expect("a cpu").to_string();

    // v1 names, as Docker's --cpu-shares 2048 --memory 128m --cpuset-cpus 0 writes them.
    let out = g
        .ok(&[
            "set",
            &g.rel,
            "cpu.shares=2048",
            "memory.limit_in_bytes=128m",
            &format!("cpuset.cpus={first_cpu}"),
        ])
        .stdout;
    assert!(out.contains("cpu.shares 1024 -> 2048"), "{out}");
    assert_eq!(g.read("cpu", "cpu.shares"), "2048");
    assert_eq!(g.read("memory", "memory.limit_in_bytes"), "134217728");
    assert_eq!(g.read("cpuset", "cpuset.cpus"), first_cpu);

    // v2 names on this v1 group land in the v1 files, and the output says how.
    let out = g
        .ok(&[
            "set",
            &g.rel,
            "memory.max=256m",
            "cpu.weight=174",
            "cpu.max=20000 50000",
            "pids.max=64",
            "memory.swap.max=64m",
        ])
        .stdout;
    assert!(
        out.contains("converted cpu.weight 174 to cpu.shares 2048"),
        "{out}"
    );
    assert!(out.contains("memory + swap"), "{out}");
    assert_eq!(g.read("memory", "memory.limit_in_bytes"), "268435456");
    assert_eq!(g.read("memory", "memory.memsw.limit_in_bytes"), "335544320");
    assert_eq!(g.read("cpu", "cpu.cfs_period_us"), "50000");
    assert_eq!(g.read("cpu", "cpu.cfs_quota_us"), "20000");
    assert_eq!(g.read("pids", "pids.max"), "64");

    // CPUs, a soft limit, memory + swap directly, max, and nodes.
    g.ok(&[
        "set",
        &g.rel,
        "cpu.cfs_period_us=100000",
        "cpu.cfs_quota_us=150000",
        "memory.soft_limit_in_bytes=64m",
        "memory.memsw.limit_in_bytes=512m",
        "cpuset.mems=0",
        "pids.max=max",
    ]);
    assert_eq!(g.read("cpu", "cpu.cfs_period_us"), "100000");
    assert_eq!(g.read("cpu", "cpu.cfs_quota_us"), "150000");
    assert_eq!(g.read("memory", "memory.soft_limit_in_bytes"), "67108864");
    assert_eq!(g.read("memory", "memory.memsw.limit_in_bytes"), "536870912");
    assert_eq!(g.read("cpuset", "cpuset.mems"), "0");
    assert_eq!(g.read("pids", "pids.max"), "max");
    g.ok(&[
        "set",
        &g.rel,
        "cpu.max=0.5",
        "memory.limit_in_bytes=unlimited",
        "memory.memsw.limit_in_bytes=-1",
    ]);
    assert_eq!(g.read("cpu", "cpu.cfs_quota_us"), "50000");
    assert_eq!(
        g.read("memory", "memory.limit_in_bytes"),
        "9223372036854771712"
    );
    g.ok(&["set", &g.rel, "cpu.max=max"]);
    assert_eq!(g.read("cpu", "cpu.cfs_quota_us"), "-1");

    // A PID target means that process's cgroups.
    let pid = p.pid().to_string();
    g.ok(&["set", &pid, "cpu.shares=512"]);
    assert_eq!(g.read("cpu", "cpu.shares"), "512");

    // --dry-run shows old -> new and writes nothing.
    let out = g
        .ok(&["set", &g.rel, "cpu.shares=4096", "--dry-run"])
        .stdout;
    assert!(
        out.contains("cpu.shares 512 -> 4096") && out.contains("dry run"),
        "{out}"
    );
    assert_eq!(g.read("cpu", "cpu.shares"), "512");

    // The journal has one entry per applied set, with old and new values.
    let j = g.journal();
    let entries = j["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 6, "{j:#}");
    let first = &entries[0];
    assert_eq!(first["action"], "set");
    assert_eq!(first["target"], g.rel.as_str());
    assert_eq!(first["user"], "root");
    let changes = first["changes"].as_array().expect("changes");
    assert!(
        changes
            .iter()
            .any(|c| c["file"] == "cpu.shares" && c["old"] == "1024" && c["new"] == "2048"),
        "{first:#}"
    );
}

#[test]
fn bad_input_is_one_line_and_writes_nothing() {
    let Some(g) = Group::new(
        "bad_input_writes_nothing",
        "bad_input",
        &["cpu", "memory", "pids", "cpuset"],
    ) else {
        return;
    };
    let p = ChildGuard::spawn_sleep();
    g.adopt(p.pid());
    let before = snapshot_files(&g);
    let cases: &[(&[&str], &str)] = &[
        (
            &["cpu.shares=1"],
            "cpu.shares: 1 is out of range: 2..262144",
        ),
        (&["cpu.shares=abc"], "cpu.shares: 'abc' is not valid"),
        (&["cpu.weight=0"], "cpu.weight: 0 is out of range"),
        (
            &["memory.max=12x"],
            "memory.max: '12x' is not valid: give a size",
        ),
        (&["memory.max=100"], "memory.max: 100 is out of range"),
        (&["memory.maxx=1g"], "unknown key 'memory.maxx'"),
        (&["memory.max"], "is not KEY=VALUE"),
        (
            &["cpu.max=500 100000"],
            "cpu.max: 500 100000 is out of range",
        ),
        (
            &["cpu.cfs_period_us=2000000"],
            "cpu.cfs_period_us: 2000000 is out of range",
        ),
        (
            &["cpuset.cpus=0-9999"],
            "is not in the parent's cpuset.cpus",
        ),
        (&["cpuset.cpus=x"], "cpuset.cpus: 'x' is not valid"),
        (&["pids.max=-3"], "pids.max: '-3' is not valid"),
        (&["memory.high=1g"], "memory.high: cgroup v2 only"),
        (&["cpu.shares=2048", "cpu.weight=10"], "given twice"),
        // A valid first key does not get written when a later one is invalid.
        (
            &["cpu.shares=4096", "pids.max=zero"],
            "pids.max: 'zero' is not valid",
        ),
    ];
    for (assignments, expected) in cases {
        let mut args = vec!["set", g.rel.as_str()];
        args.extend_from_slice(assignments);
        let line = g.fails(&args);
        assert!(
            line.contains(expected),
            "{assignments:?}: expected '{expected}' in: {line}"
        );
        assert_eq!(snapshot_files(&g), before, "{assignments:?} changed a file");
    }
    // Unknown targets, a namespace, and paths that try to leave the cgroup tree.
    for target in [
        "/nsview-test-no/such",
        "/../../../etc",
        "999999999",
        "net:[1]",
        "nope",
    ] {
        let line = g.fails(&["set", target, "cpu.shares=2048"]);
        assert!(line.starts_with("nsview: "), "{line}");
    }
    let line = g.fails(&["set", &format!("{}/../..", g.rel), "cpu.shares=2048"]);
    assert!(
        line.contains("no process, namespace, cgroup or container matches"),
        "{line}"
    );
    // A key whose controller this cgroup lacks.
    let line = g.fails(&["set", &g.rel, "freezer.state=FROZEN"]);
    assert!(line.contains("unknown key"), "{line}");
    assert_eq!(snapshot_files(&g), before);
    assert!(
        g.journal()["entries"]
            .as_array()
            .expect("entries")
            .is_empty()
    );
}

/// A process in the group's memory cgroup that holds `mib` MiB of anonymous memory (no swap on
/// these machines, so it cannot be reclaimed). The loop at the end keeps bash from exec'ing its
/// last command, which would drop the memory.
fn memory_hog(g: &Group, mib: u32) -> ChildGuard {
    let procs = g.hier("memory").dir.join("cgroup.procs");
    let script = format!(
        "echo $$ > {} && a=$(head -c {} /dev/zero | tr '\\0' x) && touch {}/ready && while :; do sleep 1000; done",
        procs.display(),
        mib * 1024 * 1024,
        g.state.path().display()
    );
    let hog = ChildGuard::spawn(Command::new("bash").args(["-c", &script]));
    let ready = g.state.path().join("ready");
    poll("memory hog ready", POLL_TIMEOUT, || {
        ready.exists().then_some(())
    });
    hog
}

#[test]
fn ebusy_is_explained_and_a_multi_key_set_rolls_back() {
    let Some(g) = Group::new("ebusy_rolls_back", "ebusy", &["cpu", "memory"]) else {
        return;
    };
    let swap = std::fs::read_to_string("/proc/swaps").unwrap_or_default();
    if swap.lines().count() > 1 {
        skip(
            "ebusy_rolls_back",
            "swap is on: the kernel would swap instead of refusing",
        );
        return;
    }
    let _hog = memory_hog(&g, 32);
    let usage: u64 = g
        .read("memory", "memory.usage_in_bytes")
        .parse()
        .expect("usage");
    assert!(
        usage > 30 << 20,
        "the hog uses {usage} bytes\n{}",
        g.read("memory", "memory.stat")
    );

    // Alone: EBUSY, translated, the old limit still in place.
    let line = g.fails(&["set", &g.rel, "memory.limit_in_bytes=4m"]);
    assert!(
        line.contains("could not reclaim") && line.contains("EBUSY"),
        "{line}"
    );
    assert_eq!(
        g.read("memory", "memory.limit_in_bytes"),
        "9223372036854771712"
    );

    // With a key that succeeds first: that one is rolled back, and the message says so.
    let line = g.fails(&["set", &g.rel, "cpu.shares=512", "memory.limit_in_bytes=4m"]);
    assert!(
        line.contains("EBUSY") && line.contains("rolled back"),
        "{line}"
    );
    assert_eq!(g.read("cpu", "cpu.shares"), "1024");
    assert_eq!(
        g.read("memory", "memory.limit_in_bytes"),
        "9223372036854771712"
    );
    assert!(
        g.journal()["entries"]
            .as_array()
            .expect("entries")
            .is_empty()
    );
}

/// utime + stime of `pid` in clock ticks.
fn cpu_ticks(pid: i32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    let rest = &stat[stat.rfind(')').expect("comm") + 2..];
    let f: Vec<&str> = rest.split(' ').collect();
    f[11].parse::<u64>().expect("utime") + f[12].parse::<u64>().expect("stime")
}

fn proc_state(pid: i32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .expect("status")
        .lines()
        .find_map(|l| l.strip_prefix("State:"))
        .expect("State")
        .trim()
        .to_string()
}

/// Whether `pid` uses CPU over a short window (it is a busy loop unless frozen).
fn makes_progress(pid: i32) -> bool {
    let t0 = cpu_ticks(pid);
    try_poll(Duration::from_secs(2), || {
        (cpu_ticks(pid) > t0 + 5).then_some(())
    })
    .is_some()
}

#[test]
fn freeze_stops_the_processes_and_thaw_resumes_them() {
    let Some(g) = Group::new("freeze_and_thaw", "freeze", &["freezer"]) else {
        return;
    };
    let busy = ChildGuard::spawn_sh("while :; do :; done");
    g.adopt(busy.pid());
    assert!(
        makes_progress(busy.pid()),
        "busy loop runs before the freeze"
    );

    let out = g.ok(&["freeze", &g.rel]).stdout;
    assert!(out.contains("THAWED -> FROZEN"), "{out}");
    assert_eq!(g.read("freezer", "freezer.state"), "FROZEN");
    assert!(
        proc_state(busy.pid()).starts_with('D'),
        "frozen task state: {}",
        proc_state(busy.pid())
    );
    assert!(!makes_progress(busy.pid()), "a frozen task got CPU time");

    let out = g.ok(&["thaw", &g.rel]).stdout;
    assert!(out.contains("FROZEN -> THAWED"), "{out}");
    assert_eq!(g.read("freezer", "freezer.state"), "THAWED");
    assert!(makes_progress(busy.pid()), "the thawed task runs again");

    // Undo of the thaw freezes again; undo of the freeze thaws.
    g.ok(&["undo"]);
    assert_eq!(g.read("freezer", "freezer.state"), "FROZEN");
    g.ok(&["undo"]);
    assert_eq!(g.read("freezer", "freezer.state"), "THAWED");
    let j = g.journal();
    let actions: Vec<&str> = j["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| e["action"].as_str().expect("action"))
        .collect();
    assert_eq!(actions, ["freeze", "thaw", "undo", "undo"]);
}

#[test]
fn move_puts_a_process_into_another_cgroup_and_undo_moves_it_back() {
    let Some(a) = Group::new("move_and_undo", "move_a", &["memory", "pids"]) else {
        return;
    };
    let b_guards: Vec<CgroupGuard> = ["memory", "pids"]
        .iter()
        .map(|h| CgroupGuard::create(h, "move_b").expect("create move_b"))
        .collect();
    let b_rel = b_guards[0].rel.clone();
    let p = ChildGuard::spawn_sleep();
    a.adopt(p.pid());
    let pid = p.pid().to_string();

    let out = a
        .ok(&["move", &pid, &b_rel, "--hierarchy", "memory"])
        .stdout;
    assert!(
        out.contains(&format!("memory: {} -> {b_rel}", a.rel)),
        "{out}"
    );
    let cg = proc_cgroups(p.pid());
    assert_eq!(cg["memory"], b_rel);
    assert_eq!(cg["pids"], a.rel, "--hierarchy memory left pids alone");

    a.ok(&["move", &pid, &b_rel]);
    let cg = proc_cgroups(p.pid());
    assert_eq!(
        (cg["memory"].as_str(), cg["pids"].as_str()),
        (b_rel.as_str(), b_rel.as_str())
    );

    a.ok(&["undo"]);
    let cg = proc_cgroups(p.pid());
    assert_eq!(
        (cg["memory"].as_str(), cg["pids"].as_str()),
        (b_rel.as_str(), a.rel.as_str())
    );
    a.ok(&["undo"]);
    assert_eq!(proc_cgroups(p.pid())["memory"], a.rel);

    // Moving next to another process (a PID target), a gone process, a kernel thread.
    let q = ChildGuard::spawn_sleep();
    for g in &b_guards {
        g.add_process(q.pid()).expect("add q");
    }
    a.ok(&["move", &pid, &q.pid().to_string()]);
    assert_eq!(proc_cgroups(p.pid())["pids"], b_rel);
    let line = a.fails(&["move", "999999999", &b_rel]);
    assert!(line.contains("no process 999999999"), "{line}");
    let line = a.fails(&["move", "2", &b_rel]);
    assert!(line.contains("kernel thread"), "{line}");
    drop(p);
    drop(q);
    drop(b_guards);
}

#[test]
fn a_device_deny_stops_opens_inside_the_cgroup() {
    let Some(g) = Group::new("device_deny", "devices", &["devices"]) else {
        return;
    };
    let procs = g.hier("devices").dir.join("cgroup.procs");
    // A process that joins the cgroup itself, then opens a device.
    let try_open = |dev: &str| -> bool {
        let script = format!("echo $$ > {} && exec 3<{dev}", procs.display());
        run("sh", &["-c", &script]).status.success()
    };
    assert!(try_open("/dev/null"), "/dev/null opens before the rule");
    let out = g.ok(&["devices", &g.rel, "deny", "c 1:3 rwm"]).stdout;
    assert!(out.contains("denied c 1:3 rwm"), "{out}");
    assert!(
        !try_open("/dev/null"),
        "/dev/null still opens after deny c 1:3 rwm"
    );
    assert!(
        try_open("/dev/zero"),
        "/dev/zero is not covered by the rule"
    );

    // Undo allows it again.
    g.ok(&["undo"]);
    assert!(try_open("/dev/null"), "undo restored /dev/null");

    // Whitelist mode, as Docker sets it up: deny all, allow /dev/null.
    g.ok(&["devices", &g.rel, "deny", "a"]);
    let out = g
        .ok(&["devices", &g.rel, "allow", "c", "1:3", "rwm"])
        .stdout;
    assert!(
        out.contains("c 1:3 rwm") && out.contains("/dev/null"),
        "{out}"
    );
    assert_eq!(g.read("devices", "devices.list"), "c 1:3 rwm");
    assert!(try_open("/dev/null") && !try_open("/dev/zero"));
    let shown = g.ok(&["devices", &g.rel]).stdout;
    assert!(
        shown.contains("default deny") && shown.contains("/dev/null"),
        "{shown}"
    );
    let j = g.ok(&["devices", &g.rel, "--json"]).json();
    assert_eq!(j["devices"][0]["name"], "/dev/null");

    // Undo the allow: the whitelist is empty again; undo the deny-all: back to allow all.
    g.ok(&["undo"]);
    assert_eq!(g.read("devices", "devices.list"), "");
    g.ok(&["undo"]);
    assert_eq!(g.read("devices", "devices.list"), "a *:* rwm");

    for bad in [
        &["allow", "x 1:3 rwm"][..],
        &["deny", "c 1:3 rwq"],
        &["allow"],
    ] {
        let mut args = vec!["devices", g.rel.as_str()];
        args.extend_from_slice(bad);
        let line = g.fails(&args);
        assert!(line.contains("device rule"), "{bad:?}: {line}");
    }
    assert_eq!(g.read("devices", "devices.list"), "a *:* rwm");
}

#[test]
fn undo_restores_and_refuses_when_the_file_moved_on() {
    let Some(g) = Group::new("undo_restores", "undo", &["cpu", "memory"]) else {
        return;
    };
    g.ok(&[
        "set",
        &g.rel,
        "cpu.shares=2048",
        "memory.limit_in_bytes=128m",
    ]);
    g.ok(&["set", &g.rel, "cpu.shares=300"]);
    let out = g.ok(&["undo"]).stdout;
    assert!(out.contains("undid entry 2"), "{out}");
    assert_eq!(g.read("cpu", "cpu.shares"), "2048");

    // Someone else changed the file since: undo refuses, --force restores.
    g.hier("memory")
        .write("memory.limit_in_bytes", "64m")
        .expect("write");
    let line = g.fails(&["undo"]);
    assert!(line.contains("changed since nsview wrote it"), "{line}");
    assert_eq!(
        g.read("cpu", "cpu.shares"),
        "2048",
        "nothing undone on conflict"
    );
    g.ok(&["undo", "--force"]);
    assert_eq!(g.read("cpu", "cpu.shares"), "1024");
    assert_eq!(
        g.read("memory", "memory.limit_in_bytes"),
        "9223372036854771712"
    );
    let line = g.fails(&["undo"]);
    assert!(line.contains("nothing to undo"), "{line}");

    let text = g.ok(&["journal"]).stdout;
    assert!(
        text.contains("(undone by 3)") && text.contains("(undo of 1)"),
        "{text}"
    );
}

#[test]
fn read_only_refuses_every_write() {
    let Some(g) = Group::new(
        "read_only_refuses",
        "read_only",
        &["cpu", "freezer", "devices"],
    ) else {
        return;
    };
    let before = snapshot_files(&g);
    let config = g.state.path().join("config.toml");
    std::fs::write(&config, "read_only = true\n").expect("config");
    let config = config.display().to_string();
    let p = ChildGuard::spawn_sleep();
    let pid = p.pid().to_string();
    let cmds: Vec<Vec<&str>> = vec![
        vec!["--read-only", "set", &g.rel, "cpu.shares=2048"],
        vec!["set", &g.rel, "cpu.shares=2048", "--read-only"],
        vec!["--config", &config, "set", &g.rel, "cpu.shares=2048"],
        vec!["--read-only", "freeze", &g.rel],
        vec!["--read-only", "thaw", &g.rel],
        vec!["--read-only", "devices", &g.rel, "deny", "a"],
        vec!["--read-only", "move", &pid, &g.rel],
        vec!["--read-only", "undo"],
    ];
    for args in &cmds {
        let line = g.fails(args);
        assert!(line.contains("read-only"), "{args:?}: {line}");
    }
    assert_eq!(snapshot_files(&g), before);
    // Reading still works.
    g.ok(&["--read-only", "devices", &g.rel]);
}

#[test]
fn a_read_only_cgroupfs_and_a_non_root_user_get_one_clear_line() {
    let Some(g) = Group::new("rofs_and_non_root", "rofs", &["cpu"]) else {
        return;
    };
    // In a mount namespace of its own, remount the cpu hierarchy read-only (as inside a
    // container) and try to set: EROFS.
    let script = format!(
        "mount --make-rprivate / && mount -o remount,bind,ro /sys/fs/cgroup/cpu && exec {} --state-dir {} set {} cpu.shares=2048",
        nsview_bin(),
        g.state.path().display(),
        g.rel
    );
    let r = run("unshare", &["--mount", "sh", "-c", &script]);
    assert_eq!(r.code, Some(1), "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("read-only") && r.stderr.contains("EROFS"),
        "{}",
        r.stderr
    );
    assert_eq!(g.read("cpu", "cpu.shares"), "1024");

    // As nobody (with a state directory of its own): permission denied, nothing written.
    let nobody_state = tempfile::tempdir().expect("state dir");
    std::fs::set_permissions(
        nobody_state.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .expect("chmod");
    let r = run_with_timeout(
        nsview_as_nobody(&["set", &g.rel, "cpu.shares=2048"])
            .env("XDG_STATE_HOME", nobody_state.path())
            .env("HOME", nobody_state.path()),
        NSVIEW_TIMEOUT,
    );
    assert_eq!(r.code, Some(1), "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("needs root") && r.stderr.lines().count() == 1,
        "{}",
        r.stderr
    );
    assert_eq!(g.read("cpu", "cpu.shares"), "1024");
}

#[test]
fn a_vanished_cgroup_is_reported_not_half_written() {
    let Some(g) = Group::new("vanished_cgroup", "vanish", &["cpu"]) else {
        return;
    };
    let rel = g.rel.clone();
    let state = g.state.path().to_path_buf();
    // The cgroup goes away between nsview's snapshot and its write: simulate by removing it
    // and asking for it (nsview must say it does not exist, not write elsewhere).
    drop(g.guards);
    let r = run_with_timeout(
        Command::new(nsview_bin())
            .arg("--state-dir")
            .arg(&state)
            .args(["set", &rel, "cpu.shares=2048"]),
        NSVIEW_TIMEOUT,
    );
    assert_eq!(r.code, Some(1));
    assert!(
        r.stderr
            .contains("no process, namespace, cgroup or container matches"),
        "{}",
        r.stderr
    );
    assert!(!Path::new(&format!("/sys/fs/cgroup/cpu{rel}")).exists());
}

/// The article's sequence: a group made like `docker run --cpu-shares 2048 --memory 128m` shows
/// those values in nsview, and nsview changes them in the kernel.
#[test]
fn article_sequence_docker_like_limits_seen_and_changed() {
    let Some(g) = Group::new("article_sequence", "article", &["cpu", "memory"]) else {
        return;
    };
    let p = ChildGuard::spawn_sleep();
    g.adopt(p.pid());
    g.hier("cpu").write("cpu.shares", "2048").expect("write");
    g.hier("memory")
        .write("memory.limit_in_bytes", "128m")
        .expect("write");

    let shown = g.ok(&["show", &g.rel, "--json"]).json();
    let text = shown.to_string();
    assert!(text.contains("\"cpu.shares\":2048"), "{text}");
    assert!(
        text.contains("\"memory.limit_in_bytes\":134217728"),
        "{text}"
    );

    g.ok(&[
        "set",
        &g.rel,
        "cpu.shares=512",
        "memory.limit_in_bytes=256m",
    ]);
    assert_eq!(g.read("cpu", "cpu.shares"), "512");
    assert_eq!(g.read("memory", "memory.limit_in_bytes"), "268435456");
    let cg = g.ok(&["cgroups", "--json"]).json();
    let c = get_cgroup(&cg, "cpu", &g.rel);
    assert_eq!(c["limits"]["cpu.shares"], 512);
}

/// Issue 14 item 4: a device rule denied, allowed again, and both undone: the kernel lists a rule
/// allowed again last, so the list comes back in another order; undo compares the lists as sets
/// and restores /dev/null (it said "could not be restored exactly" and left it denied).
#[test]
fn a_device_rule_denied_allowed_and_undone_round_trips() {
    let Some(g) = Group::new("device_round_trip", "devround", &["devices"]) else {
        return;
    };
    // A whitelist as Docker makes one: deny all, then /dev/null and /dev/zero.
    let dev = g.hier("devices");
    dev.write("devices.deny", "a").expect("deny a");
    dev.write("devices.allow", "c 1:3 rwm").expect("allow null");
    dev.write("devices.allow", "c 1:5 rwm").expect("allow zero");
    let before = g.read("devices", "devices.list");
    assert_eq!(before, "c 1:3 rwm\nc 1:5 rwm");
    let procs = dev.dir.join("cgroup.procs");
    let try_open = |d: &str| -> bool {
        let script = format!("echo $$ > {} && exec 3<{d}", procs.display());
        run("sh", &["-c", &script]).status.success()
    };
    g.ok(&["devices", &g.rel, "deny", "c 1:3 rwm"]);
    assert!(!try_open("/dev/null"));
    g.ok(&["devices", &g.rel, "allow", "c 1:3 rwm"]);
    assert_eq!(g.read("devices", "devices.list"), "c 1:5 rwm\nc 1:3 rwm");
    assert!(try_open("/dev/null"));

    // Undo the allow: denied again.
    let out = g.ok(&["undo"]).stdout;
    assert!(out.contains("undid entry 2"), "{out}");
    assert_eq!(g.read("devices", "devices.list"), "c 1:5 rwm");
    assert!(!try_open("/dev/null"));
    // Undo the deny: the same rules as before, in the kernel's order.
    let r = g.nsview(&["undo"]);
    r.assert_success();
    assert!(!r.stderr.contains("could not be restored"), "{}", r.stderr);
    assert!(r.stdout.contains("undid entry 1"), "{}", r.stdout);
    assert!(try_open("/dev/null"), "undo restored /dev/null");
    let mut now: Vec<String> = g
        .read("devices", "devices.list")
        .lines()
        .map(str::to_string)
        .collect();
    now.sort();
    assert_eq!(now, ["c 1:3 rwm", "c 1:5 rwm"]);
    let j = g.journal();
    let states: Vec<&str> = j["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| e["state"].as_str().unwrap_or("?"))
        .collect();
    assert_eq!(states, ["undone", "undone", "done", "done"], "{j:#}");
}

/// Issue 14 item 2: `nsview undo N` reverts the entry chosen by its number, a later entry that
/// changed the same file is named, and `nsview journal` shows each entry's state.
#[test]
fn undo_n_reverts_a_chosen_entry_and_the_journal_shows_states() {
    let Some(g) = Group::new("undo_n", "undon", &["cpu", "pids"]) else {
        return;
    };
    g.ok(&["set", &g.rel, "cpu.shares=2048"]);
    g.ok(&["set", &g.rel, "pids.max=64"]);
    g.ok(&["set", &g.rel, "cpu.shares=300"]);
    // Entry 1's file was changed by entry 3, still done: refused, naming it.
    let line = g.fails(&["undo", "1"]);
    assert!(line.contains("undo 3 first"), "{line}");
    assert_eq!(g.read("cpu", "cpu.shares"), "300");
    // Entry 2 alone, older than the newest.
    let out = g.ok(&["undo", "2"]).stdout;
    assert!(out.contains("undid entry 2"), "{out}");
    assert_eq!(g.read("pids", "pids.max"), "max");
    assert_eq!(g.read("cpu", "cpu.shares"), "300");
    for (args, says) in [
        (&["undo", "2"][..], "already undone (by entry 4)"),
        (&["undo", "4"], "is the undo of entry 2"),
        (&["undo", "99"], "no entry 99"),
    ] {
        let line = g.fails(args);
        assert!(line.contains(says), "{args:?}: {line}");
    }
    // The newest still done is entry 3, then 1.
    assert!(g.ok(&["undo"]).stdout.contains("undid entry 3"));
    assert!(g.ok(&["undo"]).stdout.contains("undid entry 1"));
    assert_eq!(g.read("cpu", "cpu.shares"), "1024");

    let text = g.ok(&["journal"]).stdout;
    for says in [
        "(undone by 4)",
        "(undo of 2)",
        "(undone by 5)",
        "(undone by 6)",
    ] {
        assert!(text.contains(says), "{says}: {text}");
    }
    let j = g.journal();
    let e = &j["entries"];
    assert_eq!(e[1]["state"], "undone", "{j:#}");
    assert_eq!(e[1]["undone_by"], 4, "{j:#}");
    assert_eq!(e[3]["state"], "done", "{j:#}");
    assert_eq!(e[3]["undo_of"], 2, "{j:#}");
    assert!(e[3]["undone_by"].is_null(), "{j:#}");
}

/// Issue 14 item 2: an entry whose cgroup was removed no longer wedges undo: `undo` names it,
/// `undo --force` skips it (exit 0, says so, journals the skip) and the next `undo` reaches the
/// older entry. (Before, --force wrote nothing to the journal and every undo hit the same entry.)
#[test]
fn undo_force_skips_a_vanished_entry_and_reaches_older_ones() {
    let Some(g) = Group::new("undo_skip", "undoskip", &["cpu"]) else {
        return;
    };
    let gone = g
        .hier("cpu")
        .create_child("gone")
        .expect("create a child to remove");
    let gone_rel = gone.rel.clone();
    g.ok(&["set", &g.rel, "cpu.shares=2048"]);
    g.ok(&["set", &gone_rel, "cpu.shares=512"]);
    drop(gone);

    let line = g.fails(&["undo"]);
    assert!(
        line.contains("entry 2 (set ") && line.contains("vanished") && line.contains("--force"),
        "{line}"
    );
    let r = g.ok(&["undo", "--force"]);
    assert!(r.stdout.contains("skipped entry 2"), "{}", r.stdout);
    let j = g.journal();
    assert_eq!(j["entries"][1]["state"], "skipped", "{j:#}");
    assert_eq!(j["entries"][2]["undo_of"], 2, "{j:#}");
    assert!(
        j["entries"][2]["skipped"][0]
            .as_str()
            .is_some_and(|s| s.contains("vanished")),
        "{j:#}"
    );
    let text = g.ok(&["journal"]).stdout;
    assert!(
        text.contains("(skipped by 3)") && text.contains("(skip of 2)"),
        "{text}"
    );

    let out = g.ok(&["undo"]).stdout;
    assert!(out.contains("undid entry 1"), "{out}");
    assert_eq!(g.read("cpu", "cpu.shares"), "1024");
    let line = g.fails(&["undo"]);
    assert!(line.contains("nothing to undo"), "{line}");
}
