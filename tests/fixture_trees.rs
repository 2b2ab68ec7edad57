//! Readers and collector on fixture trees: `nsview --root DIR ... --json` against the hosts of
//! tests/common/scenarios/docker_hosts.rs (v2-only, v1-only with Docker's cgroupfs layout,
//! hybrid, broken files, a namespace held only by a bind mount). Expectations follow
//! docs/cli-json.md and the kernel's file formats (shared/docs/kernel-notes.md). The same hosts'
//! output is pinned whole by tests/json_contract.rs.

mod common;

use common::scenarios::docker_hosts::*;
use common::*;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

// ---------------------------------------------------------------------------------------------
// Generic checks: the whole JSON against what the fixture describes.

/// Compare two JSON objects key by key, naming every missing, extra and differing key. Keys ending
/// in `.pressure` are compared numerically (PSI values are floats, `total` may print as 93466.0).
fn assert_object(ctx: &str, actual: &Value, expected: &Value) {
    let (Some(a), Some(e)) = (actual.as_object(), expected.as_object()) else {
        panic!(
            "{ctx}: expected an object {}, got {}",
            short(expected),
            short(actual)
        );
    };
    let mut problems = Vec::new();
    for (k, ev) in e {
        match a.get(k) {
            None => problems.push(format!("missing key {k:?} (expected {ev})")),
            Some(av) => {
                let same = if k.ends_with(".pressure") {
                    numeric_eq(av, ev)
                } else {
                    av == ev
                };
                if !same {
                    problems.push(format!("{k:?}: expected {ev}, got {av}"));
                }
            }
        }
    }
    for (k, av) in a {
        if !e.contains_key(k) {
            problems.push(format!("unexpected key {k:?} = {av}"));
        }
    }
    assert!(
        problems.is_empty(),
        "{ctx}:\n  {}\nwhole object: {}",
        problems.join("\n  "),
        short(actual)
    );
}

/// Structural equality where numbers compare as f64.
fn numeric_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            (x.as_f64().unwrap() - y.as_f64().unwrap()).abs() < 1e-9
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| numeric_eq(v, w)))
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| numeric_eq(v, w))
        }
        _ => a == b,
    }
}

fn str_set<'a>(v: impl IntoIterator<Item = &'a Value>) -> BTreeSet<String> {
    v.into_iter()
        .map(|x| {
            x.as_str()
                .map(str::to_string)
                .unwrap_or_else(|| x.to_string())
        })
        .collect()
}

fn arr<'a>(v: &'a Value, ctx: &str) -> &'a Vec<Value> {
    v.as_array()
        .unwrap_or_else(|| panic!("{ctx}: expected an array, got {}", short(v)))
}

/// `ps --json` shows every fixture process with the fixture's data.
fn check_ps(name: &str, host: &Host, ps: &Value) {
    let procs = arr(&ps["processes"], &format!("{name}: ps --json .processes"));
    let got: Vec<i64> = procs
        .iter()
        .map(|p| p["pid"].as_i64().unwrap_or(-1))
        .collect();
    let want: Vec<i64> = host.procs().map(|p| p.pid as i64).collect();
    assert_eq!(
        got, want,
        "{name}: ps --json: the PIDs (sorted by pid) should be exactly the fixture's processes"
    );
    let init = host.proc(1);
    for p in host.procs() {
        let ctx = format!("{name}: ps --json, pid {}", p.pid);
        let e = find_proc(ps, p.pid).unwrap();
        assert_eq!(e["ppid"], json!(p.ppid), "{ctx}: ppid (stat field 4)");
        assert_eq!(
            e["nspid"],
            json!(p.nspid),
            "{ctx}: nspid (NSpid of status, outermost first)"
        );
        assert_eq!(e["comm"], json!(p.comm), "{ctx}: comm");
        let cmd = if p.kernel_thread {
            String::new()
        } else {
            p.command_line()
        };
        assert_eq!(
            e["cmdline"],
            json!(cmd),
            "{ctx}: cmdline (args joined by spaces; empty for a kernel thread)"
        );
        assert_eq!(e["uid"], json!(p.uid), "{ctx}: uid (real uid of status)");
        let ns: BTreeMap<&str, u64> = p.ns.inodes().into_iter().collect();
        assert_object(&format!("{ctx}: ns (type -> inode)"), &e["ns"], &json!(ns));
        assert_object(
            &format!("{ctx}: cgroups (hierarchy key -> path)"),
            &e["cgroups"],
            &json!(host.cgroup_map(p)),
        );
        let differs = p.ns.differing(&init.ns);
        let got_differs = str_set(arr(
            &e["host_ns_differs"],
            &format!("{ctx}: host_ns_differs"),
        ));
        let want_differs: BTreeSet<String> = differs.iter().map(|s| s.to_string()).collect();
        assert_eq!(
            got_differs, want_differs,
            "{ctx}: host_ns_differs (types whose inode differs from PID 1's)"
        );
        if differs.is_empty() {
            assert!(
                e["container"].is_null(),
                "{ctx}: container should be null for a process in all of the host's namespaces, got {}",
                e["container"]
            );
        } else {
            assert!(
                e["container"].as_str().is_some_and(|s| !s.is_empty()),
                "{ctx}: container should name the isolation group (process differs from PID 1 in {differs:?}), got {}",
                e["container"]
            );
        }
    }
}

/// `list --json` shows exactly the fixture's namespaces, sorted by (type order, inode), with
/// members, lowest PID, its command and uid, and bind mounts.
fn check_list(name: &str, host: &Host, list: &Value) {
    let entries = arr(
        &list["namespaces"],
        &format!("{name}: list --json .namespaces"),
    );
    let got: Vec<(String, u64)> = entries
        .iter()
        .map(|n| {
            (
                n["type"].as_str().unwrap_or("?").to_string(),
                n["inode"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    let expected = host.expected_namespaces();
    let want: Vec<(String, u64)> = expected
        .iter()
        .map(|e| (e.ty.to_string(), e.inode))
        .collect();
    assert_eq!(
        got, want,
        "{name}: list --json: (type, inode) of every namespace, sorted by type order (mnt uts ipc pid net user cgroup time) then inode"
    );
    for e in &expected {
        let ctx = format!("{name}: list --json, {}:[{}]", e.ty, e.inode);
        let n = find_ns(list, e.ty, e.inode).unwrap();
        assert_eq!(n["nprocs"], json!(e.pids.len()), "{ctx}: nprocs");
        assert_eq!(n["pids"], json!(e.pids), "{ctx}: pids (sorted members)");
        match e.pids.first() {
            None => {
                assert!(
                    n["pid"].is_null(),
                    "{ctx}: pid should be null for a namespace without processes, got {}",
                    n["pid"]
                );
                assert!(
                    n["command"].is_null(),
                    "{ctx}: command should be null without processes, got {}",
                    n["command"]
                );
                assert!(
                    n["user"].is_null(),
                    "{ctx}: user should be null without processes, got {}",
                    n["user"]
                );
            }
            Some(&low) => {
                let p = host.proc(low);
                assert_eq!(n["pid"], json!(low), "{ctx}: pid (lowest member)");
                let cmd = if p.kernel_thread || p.cmdline.is_empty() {
                    p.comm.clone()
                } else {
                    p.command_line()
                };
                assert_eq!(
                    n["command"],
                    json!(cmd),
                    "{ctx}: command (cmdline of pid {low}, comm when empty)"
                );
                assert_eq!(n["user"], json!(p.uid), "{ctx}: user (uid of pid {low})");
            }
        }
        let got_bm = str_set(arr(&n["bind_mounts"], &format!("{ctx}: bind_mounts")));
        let want_bm: BTreeSet<String> = e.bind_mounts.iter().cloned().collect();
        assert_eq!(
            got_bm, want_bm,
            "{ctx}: bind_mounts (nsfs mounts of it in any mount namespace's mountinfo)"
        );
        // A fixture tree has no nsfs files: the ioctls cannot answer, so the relations are unknown.
        for k in ["owner", "parent"] {
            assert!(
                n[k].is_null(),
                "{ctx}: {k} cannot be known from a fixture tree (no nsfs ioctls), got {}",
                n[k]
            );
        }
        if e.ty != "uts" {
            assert!(
                n["hostname"].is_null(),
                "{ctx}: hostname is for uts namespaces only, got {}",
                n["hostname"]
            );
        }
        if e.ty != "net" {
            assert!(
                n["interfaces"].is_null(),
                "{ctx}: interfaces is for net namespaces only, got {}",
                n["interfaces"]
            );
        }
    }
}

/// `cgroups --json`: mode, hierarchies, and the full tree of each hierarchy with member PIDs.
fn check_cgroup_tree(name: &str, host: &Host, cg: &Value, mode: &str) {
    assert_eq!(cg["mode"], json!(mode), "{name}: cgroups --json: mode");
    let hs = arr(
        &cg["hierarchies"],
        &format!("{name}: cgroups --json .hierarchies"),
    );
    let got_keys: BTreeSet<String> = hs
        .iter()
        .map(|h| h["key"].as_str().unwrap_or("?").to_string())
        .collect();
    let want = host.hierarchies();
    let want_keys: BTreeSet<String> = want.iter().map(|h| h.key.clone()).collect();
    assert_eq!(
        got_keys, want_keys,
        "{name}: cgroups --json: hierarchy keys"
    );
    assert_eq!(
        hs.len(),
        want.len(),
        "{name}: cgroups --json: each hierarchy once: {}",
        short(&cg["hierarchies"])
    );
    for w in &want {
        let ctx = format!("{name}: cgroups --json, hierarchy {:?}", w.key);
        let h = hs.iter().find(|h| h["key"] == w.key.as_str()).unwrap();
        assert_eq!(h["version"], json!(w.version), "{ctx}: version");
        assert_eq!(
            h["mount"],
            json!(w.mount_point),
            "{ctx}: mount (as mountinfo names it, not the fixture path)"
        );
        // Named hierarchies (name=systemd) are checked in named_v1_hierarchy_has_no_controllers.
        if !w.key.starts_with("name=") {
            let got_c = str_set(arr(&h["controllers"], &format!("{ctx}: controllers")));
            let want_c: BTreeSet<String> = w.controllers.iter().cloned().collect();
            assert_eq!(got_c, want_c, "{ctx}: controllers");
        }
    }
    let all = arr(&cg["cgroups"], &format!("{name}: cgroups --json .cgroups"));
    for (key, paths) in host.cgroup_paths() {
        let got: Vec<String> = all
            .iter()
            .filter(|c| c["hierarchy"] == key.as_str())
            .map(|c| c["path"].as_str().unwrap_or("?").to_string())
            .collect();
        let got_set: BTreeSet<String> = got.iter().cloned().collect();
        assert_eq!(
            got_set, paths,
            "{name}: cgroups --json: the cgroup paths of hierarchy {key:?} (the whole tree)"
        );
        assert_eq!(
            got.len(),
            paths.len(),
            "{name}: cgroups --json: each cgroup of {key:?} once: {got:?}"
        );
        for path in &paths {
            let c = find_cgroup(cg, &key, path).unwrap();
            if let Some(pids) = host.expected_cgroup_pids(&key, path) {
                assert_eq!(
                    c["pids"],
                    json!(pids),
                    "{name}: cgroups --json, {key}:{path}: pids (sorted, from cgroup.procs)"
                );
            }
            if key != "devices" {
                assert!(
                    c["devices"].is_null(),
                    "{name}: cgroups --json, {key}:{path}: devices is for the v1 devices hierarchy only, got {}",
                    c["devices"]
                );
                assert!(
                    c.get("devices_default").is_none_or(Value::is_null),
                    "{name}: cgroups --json, {key}:{path}: devices_default is for the devices hierarchy only, got {}",
                    c["devices_default"]
                );
            }
        }
    }
}

fn cgroup<'a>(name: &str, cg: &'a Value, key: &str, path: &str) -> &'a Value {
    find_cgroup(cg, key, path)
        .unwrap_or_else(|| panic!("{name}: cgroups --json has no cgroup {key}:{path}"))
}

// ---------------------------------------------------------------------------------------------
// 1. v2-only host

#[test]
fn v2_host_cgroups_mode_hierarchy_and_tree() {
    let f = v2_docker_systemd().build();
    let cg = f.json(&["cgroups", "--json"]);
    check_cgroup_tree("v2 host", &f.host, &cg, "v2");
    let h = &cg["hierarchies"][0];
    assert_eq!(
        h["key"], "unified",
        "v2 host: the only hierarchy is keyed \"unified\""
    );
    assert_eq!(
        h["mount"], "/sys/fs/cgroup",
        "v2 host: unified is mounted at /sys/fs/cgroup"
    );
}

#[test]
fn v2_host_container_limits_and_usage() {
    let f = v2_docker_systemd().build();
    let cg = f.json(&["cgroups", "--json"]);
    let scope = docker_scope();
    let c = cgroup("v2 host", &cg, "unified", &scope);
    let ctx = format!("v2 host, cgroups --json, unified:{scope}");
    assert_eq!(c["pids"], json!([7146]), "{ctx}: pids");
    assert_object(
        &format!(
            "{ctx}: limits (only limit files of docs/cli-json.md; cgroup.type, cpu.idle, memory.oom.group are not)"
        ),
        &c["limits"],
        &json!({
            "cgroup.freeze": 0,
            "cpu.weight": 174,
            "cpu.max": [50000, 100000],
            "cpuset.cpus": "0",
            "memory.max": 134217728,
            "memory.high": "max",
            "memory.low": 0,
            "memory.min": 0,
            "memory.swap.max": 134217728,
            "pids.max": "max",
        }),
    );
    let zero = json!({"avg10": 0.0, "avg60": 0.0, "avg300": 0.0, "total": 0});
    assert_object(
        &format!("{ctx}: usage (cgroup.events and other unlisted files are not)"),
        &c["usage"],
        &json!({
            "cpu.stat": {"usage_usec": 48213, "user_usec": 30122, "system_usec": 18091, "nice_usec": 0,
                         "nr_periods": 12, "nr_throttled": 2, "throttled_usec": 3120, "nr_bursts": 0, "burst_usec": 0},
            "cpuset.cpus.effective": "0",
            "cpuset.mems.effective": "0",
            "memory.current": 4321280,
            "memory.peak": 5242880,
            "memory.swap.current": 0,
            "memory.events": {"low": 0, "high": 0, "max": 3, "oom": 1, "oom_kill": 1, "oom_group_kill": 0},
            "pids.current": 1,
            "cpu.pressure": {"some": {"avg10": 1.52, "avg60": 0.48, "avg300": 0.10, "total": 2815841},
                             "full": {"avg10": 0.25, "avg60": 0.05, "avg300": 0.01, "total": 93466}},
            "memory.pressure": {"some": zero, "full": zero},
            "io.pressure": {"some": {"avg10": 0.12, "avg60": 0.05, "avg300": 0.01, "total": 96311},
                            "full": {"avg10": 0.12, "avg60": 0.04, "avg300": 0.01, "total": 90210}},
        }),
    );
    // PSI averages are floats in the JSON, not strings.
    for k in ["avg10", "avg60", "avg300"] {
        assert!(
            c["usage"]["cpu.pressure"]["some"][k].is_f64(),
            "{ctx}: usage.cpu.pressure.some.{k} should be a JSON float, got {}",
            c["usage"]["cpu.pressure"]["some"][k]
        );
    }

    let ctx = "v2 host, cgroups --json, unified:/system.slice";
    let s = cgroup("v2 host", &cg, "unified", "/system.slice");
    assert_eq!(s["pids"], json!([]), "{ctx}: pids of an empty cgroup.procs");
    assert_object(
        &format!("{ctx}: limits"),
        &s["limits"],
        &json!({"cgroup.freeze": 0, "cpu.weight": 100, "cpu.max": ["max", 100000], "memory.max": "max",
                "memory.high": "max", "pids.max": "max"}),
    );
    assert_object(
        &format!("{ctx}: usage"),
        &s["usage"],
        &json!({"memory.current": 734003200, "pids.current": 37}),
    );

    let ctx = "v2 host, cgroups --json, unified:/ (the root has no limit files)";
    let r = cgroup("v2 host", &cg, "unified", "/");
    assert_eq!(
        r["pids"],
        json!([2]),
        "{ctx}: pids (the kernel thread stays in the root)"
    );
    assert_object(&format!("{ctx}: limits"), &r["limits"], &json!({}));
    assert_object(
        &format!("{ctx}: usage"),
        &r["usage"],
        &json!({
            "cpu.stat": {"usage_usec": 24080691, "user_usec": 13030695, "system_usec": 11049996, "nice_usec": 0},
            "cpuset.cpus.effective": "0-1",
            "cpuset.mems.effective": "0",
            "cpu.pressure": {"some": {"avg10": 0.65, "avg60": 0.45, "avg300": 0.37, "total": 2815841}, "full": zero},
            "memory.pressure": {"some": zero, "full": zero},
            "io.pressure": {"some": zero, "full": zero},
        }),
    );
}

#[test]
fn v2_host_processes() {
    let f = v2_docker_systemd().build();
    let ps = f.json(&["ps", "--json"]);
    check_ps("v2 host", &f.host, &ps);
    let p = find_proc(&ps, 7146).unwrap();
    assert_object(
        "v2 host, ps --json, pid 7146: cgroups",
        &p["cgroups"],
        &json!({"unified": docker_scope()}),
    );
    assert_eq!(
        p["nspid"],
        json!([7146, 1]),
        "v2 host, ps --json, pid 7146: nspid"
    );
    let differs = str_set(arr(&p["host_ns_differs"], "host_ns_differs"));
    assert_eq!(
        differs,
        ["cgroup", "ipc", "mnt", "net", "pid", "uts"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        "v2 host, ps --json, pid 7146: host_ns_differs (Docker on v2 uses a private cgroup namespace)"
    );
}

#[test]
fn v2_host_namespaces() {
    let f = v2_docker_systemd().build();
    let list = f.json(&["list", "--json"]);
    check_list("v2 host", &f.host, &list);
    let n = find_ns(&list, "cgroup", CT_CGROUP)
        .expect("v2 host: list --json should show the container's cgroup namespace");
    assert_eq!(
        n["pids"],
        json!([7146]),
        "v2 host, list --json, cgroup:[{CT_CGROUP}]: pids"
    );
}

#[test]
fn v2_host_show_cgroup_and_process() {
    let f = v2_docker_systemd().build();
    let scope = docker_scope();
    let s = f.json(&["show", &scope, "--json"]);
    let ctx = format!("v2 host, show {scope} --json");
    assert_eq!(s["kind"], "cgroup", "{ctx}: kind");
    assert_eq!(s["path"], json!(scope), "{ctx}: path");
    let cgs = arr(&s["cgroups"], &format!("{ctx}: cgroups"));
    assert_eq!(
        cgs.len(),
        1,
        "{ctx}: one cgroup (one hierarchy): {}",
        short(&s["cgroups"])
    );
    assert_eq!(cgs[0]["hierarchy"], "unified", "{ctx}: hierarchy");
    assert_eq!(
        cgs[0]["limits"]["cpu.weight"],
        json!(174),
        "{ctx}: limits.cpu.weight"
    );

    let s = f.json(&["show", "7146", "--json"]);
    let ctx = "v2 host, show 7146 --json";
    assert_eq!(s["kind"], "process", "{ctx}: kind");
    assert_eq!(s["pid"], json!(7146), "{ctx}: pid");
    assert_eq!(s["nspid"], json!([7146, 1]), "{ctx}: nspid");
    let nss: BTreeSet<(String, u64)> = arr(&s["namespaces"], &format!("{ctx}: namespaces"))
        .iter()
        .map(|n| {
            (
                n["type"].as_str().unwrap_or("?").to_string(),
                n["inode"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    let want: BTreeSet<(String, u64)> = f
        .host
        .proc(7146)
        .ns
        .inodes()
        .into_iter()
        .map(|(t, i)| (t.to_string(), i))
        .collect();
    assert_eq!(nss, want, "{ctx}: namespaces (the process's eight)");
    let details = arr(&s["cgroup_details"], &format!("{ctx}: cgroup_details"));
    assert_eq!(
        details.len(),
        1,
        "{ctx}: cgroup_details, one per hierarchy: {}",
        short(&s["cgroup_details"])
    );
    assert_eq!(
        details[0]["path"],
        json!(scope),
        "{ctx}: cgroup_details[0].path"
    );
}

// ---------------------------------------------------------------------------------------------
// 2. v1-only host, Docker cgroupfs layout

#[test]
fn v1_host_cgroups_mode_hierarchies_and_tree() {
    let f = v1_docker_cgroupfs().build();
    let cg = f.json(&["cgroups", "--json"]);
    check_cgroup_tree("v1 host", &f.host, &cg, "v1");
    let hs = arr(&cg["hierarchies"], "hierarchies");
    let cpu = hs
        .iter()
        .find(|h| h["key"] == "cpu,cpuacct")
        .expect("v1 host: a hierarchy keyed \"cpu,cpuacct\"");
    assert_eq!(
        cpu["mount"], "/sys/fs/cgroup/cpu,cpuacct",
        "v1 host: cpu,cpuacct mount"
    );
    assert!(
        !hs.iter().any(|h| h["key"] == "unified"),
        "v1 host: no cgroup2 is mounted, so no \"unified\" hierarchy: {}",
        short(&cg["hierarchies"])
    );
}

#[test]
fn named_v1_hierarchy_has_no_controllers() {
    // cgroups(7): a named hierarchy (mount -t cgroup -o none,name=systemd) has no controller bound
    // to it; "name=systemd" is its key, not a controller (it is not in /proc/cgroups either).
    for (name, f) in [
        ("v1 host", v1_docker_cgroupfs().build()),
        ("hybrid host", hybrid_runc().build()),
    ] {
        let cg = f.json(&["cgroups", "--json"]);
        let h = arr(&cg["hierarchies"], "hierarchies")
            .iter()
            .find(|h| h["key"] == "name=systemd")
            .unwrap_or_else(|| {
                panic!(
                    "{name}: no name=systemd hierarchy in {}",
                    short(&cg["hierarchies"])
                )
            });
        assert_eq!(
            h["controllers"],
            json!([]),
            "{name}: cgroups --json, hierarchy name=systemd: controllers"
        );
    }
}

#[test]
fn v1_host_limits_and_usage() {
    let f = v1_docker_cgroupfs().build();
    let run = f.run(&["cgroups", "--json"]);
    assert_eq!(run.code, Some(0), "{}", run.describe());
    let cg: Value = serde_json::from_str(&run.stdout).expect("JSON");
    let d = docker_v1_path();
    let n = "v1 host";

    let c = cgroup(n, &cg, "cpu,cpuacct", &d);
    assert_eq!(c["pids"], json!([7146, 7160]), "{n}, cpu,cpuacct:{d}: pids");
    assert_object(
        &format!("{n}, cpu,cpuacct:{d}: limits"),
        &c["limits"],
        &json!({"cpu.shares": 2048, "cpu.cfs_quota_us": "max", "cpu.cfs_period_us": 100000}),
    );
    assert_object(
        &format!("{n}, cpu,cpuacct:{d}: usage (cpuacct.usage_percpu is not a listed file)"),
        &c["usage"],
        &json!({"cpuacct.usage": 48213377}),
    );

    let c = cgroup(n, &cg, "memory", &d);
    assert_object(
        &format!("{n}, memory:{d}: limits (memory.swappiness, memory.kmem.* are not listed files)"),
        &c["limits"],
        &json!({"memory.limit_in_bytes": 134217728, "memory.soft_limit_in_bytes": "max",
                "memory.memsw.limit_in_bytes": 268435456}),
    );
    assert_object(
        &format!("{n}, memory:{d}: usage"),
        &c["usage"],
        &json!({"memory.usage_in_bytes": 3977216, "memory.max_usage_in_bytes": 5431296, "memory.failcnt": 0,
                "memory.memsw.usage_in_bytes": 3977216, "memory.memsw.max_usage_in_bytes": 5431296,
                "memory.memsw.failcnt": 0}),
    );

    // "unlimited" reads as 9223372036854771712, which JSON readers round: it is "max", as in v2.
    let root = cgroup(n, &cg, "memory", "/");
    assert_eq!(
        root["limits"]["memory.limit_in_bytes"],
        json!("max"),
        "{n}, memory:/: limits.memory.limit_in_bytes should be \"max\""
    );
    assert!(
        !run.stdout.contains("9223372036854771712"),
        "{n}: cgroups --json should print no v1 unlimited sentinel"
    );

    let c = cgroup(n, &cg, "pids", &d);
    assert_object(
        &format!("{n}, pids:{d}: limits"),
        &c["limits"],
        &json!({"pids.max": "max"}),
    );
    assert_object(
        &format!("{n}, pids:{d}: usage (pids.events is not listed)"),
        &c["usage"],
        &json!({"pids.current": 2}),
    );
    let c = cgroup(n, &cg, "pids", "/");
    assert_object(
        &format!("{n}, pids:/: limits (no pids.max on the root)"),
        &c["limits"],
        &json!({}),
    );

    let c = cgroup(n, &cg, "freezer", &d);
    assert_object(
        &format!("{n}, freezer:{d}: limits"),
        &c["limits"],
        &json!({"freezer.state": "THAWED"}),
    );

    let c = cgroup(n, &cg, "name=systemd", &d);
    assert_eq!(
        c["pids"],
        json!([7146, 7160]),
        "{n}, name=systemd:{d}: pids"
    );
    assert_object(
        &format!("{n}, name=systemd:{d}: limits"),
        &c["limits"],
        &json!({}),
    );
}

fn dev(
    ty: &str,
    major: Option<u32>,
    minor: Option<u32>,
    access: &str,
    name: Option<&str>,
) -> Value {
    json!({"type": ty, "major": major, "minor": minor, "access": access, "name": name})
}

/// Docker's rules decoded with names from /proc/devices only (the fixture has no dev/ with device
/// nodes, so c 1:3 is "mem", the driver of major 1, not "/dev/null").
fn docker_devices_without_dev() -> Vec<Value> {
    vec![
        dev("c", Some(1), Some(5), "rwm", Some("mem")),
        dev("c", Some(1), Some(3), "rwm", Some("mem")),
        dev("c", Some(1), Some(9), "rwm", Some("mem")),
        dev("c", Some(1), Some(8), "rwm", Some("mem")),
        dev("c", Some(5), Some(0), "rwm", None),
        dev("c", Some(5), Some(1), "rwm", None),
        dev("c", None, None, "m", None),
        dev("b", None, None, "m", None),
        dev("c", Some(1), Some(7), "rwm", Some("mem")),
        dev("c", Some(136), None, "rwm", Some("pts")),
        dev("c", Some(5), Some(2), "rwm", None),
        dev("c", Some(10), Some(200), "rwm", Some("misc")),
    ]
}

/// Compare decoded rules in file order. Major 5 has three /proc/devices entries (/dev/tty,
/// /dev/console, /dev/ptmx, one per minor range); without dev/ any of them (or null) is accepted.
fn check_devices(ctx: &str, got: &Value, want: &[Value]) {
    let got = arr(got, &format!("{ctx}: devices"));
    assert_eq!(
        got.len(),
        want.len(),
        "{ctx}: devices: one entry per devices.list line: {}",
        short(&json!(got))
    );
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        for k in ["type", "major", "minor", "access"] {
            assert_eq!(
                g[k],
                w[k],
                "{ctx}: devices[{i}].{k} (line {i} of devices.list is {})",
                short(w)
            );
        }
        if w["major"] == json!(5) && w["name"].is_null() {
            let ok = g["name"].is_null()
                || ["/dev/tty", "/dev/console", "/dev/ptmx"]
                    .contains(&g["name"].as_str().unwrap_or(""));
            assert!(
                ok,
                "{ctx}: devices[{i}].name for major 5 should come from /proc/devices, got {}",
                g["name"]
            );
        } else {
            assert_eq!(
                g["name"],
                w["name"],
                "{ctx}: devices[{i}].name (rule {})",
                short(w)
            );
        }
    }
}

#[test]
fn v1_host_devices_decoded() {
    let f = v1_docker_cgroupfs().build();
    let cg = f.json(&["cgroups", "--json"]);
    let d = docker_v1_path();
    let c = cgroup("v1 host", &cg, "devices", &d);
    let ctx = format!("v1 host, cgroups --json, devices:{d}");
    check_devices(&ctx, &c["devices"], &docker_devices_without_dev());
    assert_eq!(
        c["devices_default"], "deny",
        "{ctx}: devices_default (Docker denies all, then allows)"
    );
    assert_object(
        &format!("{ctx}: limits (devices.list goes to devices)"),
        &c["limits"],
        &json!({}),
    );

    for path in ["/", "/docker"] {
        let c = cgroup("v1 host", &cg, "devices", path);
        let ctx = format!("v1 host, cgroups --json, devices:{path}");
        check_devices(&ctx, &c["devices"], &[dev("a", None, None, "rwm", None)]);
        assert_eq!(
            c["devices_default"], "allow",
            "{ctx}: devices_default for `a *:* rwm`"
        );
    }
}

#[test]
fn v1_host_device_names_need_char_device_nodes() {
    // A regular file dev/null is no device node: c 1:3 stays "mem".
    let f = v1_docker_cgroupfs().file("dev/null", b"").build();
    let cg = f.json(&["cgroups", "--json"]);
    let d = docker_v1_path();
    let c = cgroup("v1 host + regular file dev/null", &cg, "devices", &d);
    check_devices(
        &format!("v1 host with a regular file dev/null, devices:{d}"),
        &c["devices"],
        &docker_devices_without_dev(),
    );

    // With real character device nodes (mknod, if allowed here), the node names are used.
    let f = v1_docker_cgroupfs().dir("dev").build();
    let mk = |name: &str, major: &str, minor: &str| {
        let node = f.root().join("dev").join(name);
        run_with_timeout(
            std::process::Command::new("mknod")
                .arg(&node)
                .args(["c", major, minor]),
            NSVIEW_TIMEOUT,
        )
        .status
        .success()
    };
    if !(mk("null", "1", "3") && mk("random", "1", "8")) {
        // A skip, and so a failure under CI=true.
        skip(
            "part of v1_host_device_names_need_char_device_nodes",
            "mknod failed (not root?)",
        );
        return;
    }
    let cg = f.json(&["cgroups", "--json"]);
    let c = cgroup("v1 host + dev/null", &cg, "devices", &d);
    let mut want = docker_devices_without_dev();
    want[1] = dev("c", Some(1), Some(3), "rwm", Some("/dev/null"));
    want[3] = dev("c", Some(1), Some(8), "rwm", Some("/dev/random"));
    check_devices(
        &format!(
            "v1 host with char devices dev/null (1:3) and dev/random (1:8), devices:{d} (names are host paths, not fixture paths)"
        ),
        &c["devices"],
        &want,
    );
}

#[test]
fn v1_host_processes() {
    let f = v1_docker_cgroupfs().build();
    let ps = f.json(&["ps", "--json"]);
    check_ps("v1 host", &f.host, &ps);
    let a = find_proc(&ps, 7146).unwrap();
    let b = find_proc(&ps, 7160).unwrap();
    assert_eq!(
        a["nspid"],
        json!([7146, 1]),
        "v1 host, ps --json, pid 7146: nspid (init of a new pid namespace)"
    );
    assert_eq!(
        b["nspid"],
        json!([7160, 7]),
        "v1 host, ps --json, pid 7160: nspid"
    );
    assert_eq!(
        str_set(arr(&a["host_ns_differs"], "host_ns_differs")),
        ["ipc", "mnt", "net", "pid", "uts"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        "v1 host, ps --json, pid 7146: host_ns_differs"
    );
    assert!(
        a["container"].is_string(),
        "v1 host, ps --json, pid 7146: container should be a name, got {}",
        a["container"]
    );
    assert_eq!(
        a["container"], b["container"],
        "v1 host, ps --json: 7146 and 7160 share all their namespaces, so one isolation group"
    );
    let d = docker_v1_path();
    let want: BTreeMap<&str, &str> = V1_KEYS.iter().map(|k| (*k, d.as_str())).collect();
    assert_object(
        "v1 host, ps --json, pid 7146: cgroups (keys are the controller fields of /proc/PID/cgroup)",
        &a["cgroups"],
        &json!(want),
    );
    let k = find_proc(&ps, 2).unwrap();
    assert_eq!(
        k["cmdline"], "",
        "v1 host, ps --json, pid 2 (kernel thread): cmdline"
    );
}

#[test]
fn v1_host_namespaces() {
    let f = v1_docker_cgroupfs().build();
    let list = f.json(&["list", "--json"]);
    check_list("v1 host", &f.host, &list);
    for (ty, ino) in [
        ("mnt", CT_MNT),
        ("uts", CT_UTS),
        ("ipc", CT_IPC),
        ("pid", CT_PID),
        ("net", CT_NET),
    ] {
        let ctx = format!("v1 host, list --json, the container's {ty}:[{ino}]");
        let n = find_ns(&list, ty, ino).unwrap_or_else(|| panic!("{ctx}: missing"));
        assert_eq!(n["nprocs"], json!(2), "{ctx}: nprocs");
        assert_eq!(n["pids"], json!([7146, 7160]), "{ctx}: pids");
        assert_eq!(n["pid"], json!(7146), "{ctx}: pid");
        assert_eq!(n["command"], "sleep 100000", "{ctx}: command");
        assert_eq!(n["user"], json!(0), "{ctx}: user");
    }
    let n = find_ns(&list, "net", CT_NET).unwrap();
    assert_eq!(
        n["bind_mounts"],
        json!([DOCKER_NETNS]),
        "v1 host, list --json, net:[{CT_NET}]: bind_mounts (Docker's netns file)"
    );
    let host_mnt = find_ns(&list, "mnt", 4026531832).unwrap();
    assert_eq!(
        host_mnt["pids"],
        json!([1, 2, 640, 4100, 7120]),
        "v1 host, list --json, host mnt: pids"
    );
    assert_eq!(
        host_mnt["command"], "/sbin/init",
        "v1 host, list --json, host mnt: command"
    );
    let user = find_ns(&list, "user", 4026531837).unwrap();
    assert_eq!(
        user["nprocs"],
        json!(7),
        "v1 host, list --json, host user ns (shared with the container): nprocs"
    );

    let nets = f.json(&["list", "--type", "net", "--json"]);
    let got: Vec<u64> = arr(&nets["namespaces"], "namespaces")
        .iter()
        .map(|n| {
            assert_eq!(
                n["type"],
                "net",
                "v1 host, list --type net --json: only net namespaces: {}",
                short(n)
            );
            n["inode"].as_u64().unwrap_or(0)
        })
        .collect();
    assert_eq!(
        got,
        vec![HOST_NET, CT_NET],
        "v1 host, list --type net --json: inodes (sorted)"
    );
    let pids = f.json(&["list", "--type", "pid", "--json"]);
    let got: Vec<(String, u64)> = arr(&pids["namespaces"], "namespaces")
        .iter()
        .map(|n| {
            (
                n["type"].as_str().unwrap_or("?").to_string(),
                n["inode"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![("pid".to_string(), 4026531836), ("pid".to_string(), CT_PID)],
        "v1 host, list --type pid --json"
    );
}

#[test]
fn v1_host_text_output() {
    let f = v1_docker_cgroupfs().build();
    let run = f.run(&["list"]);
    assert_eq!(run.code, Some(0), "{}", run.describe());
    let header: Vec<&str> = run
        .stdout
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    // docs/cli-json.md: columns NS TYPE NPROCS PID USER COMMAND (like lsns) plus NAME, wherever.
    let want = ["NS", "TYPE", "NPROCS", "PID", "USER", "COMMAND"];
    let in_order: Vec<&str> = header
        .iter()
        .copied()
        .filter(|c| want.contains(c))
        .collect();
    assert_eq!(
        in_order, want,
        "v1 host, `list`: header columns {header:?} should have {want:?} in this order"
    );
    assert!(
        header.contains(&"NAME"),
        "v1 host, `list`: header {header:?} should have a NAME column"
    );
    let line = run
        .stdout
        .lines()
        .find(|l| l.contains(&CT_NET.to_string()))
        .unwrap_or_else(|| {
            panic!(
                "v1 host, `list`: no line for net:[{CT_NET}]\n{}",
                run.describe()
            )
        });
    assert!(
        line.contains(DOCKER_NETNS),
        "v1 host, `list`: the NAME column of net:[{CT_NET}] should show {DOCKER_NETNS}: {line:?}"
    );
    for args in [&["ps"][..], &["cgroups"], &["cgroups", "--tree"]] {
        let run = f.run(args);
        assert_eq!(run.code, Some(0), "{}", run.describe());
        assert!(
            !run.stdout.trim().is_empty(),
            "v1 host: `{}` printed nothing",
            args.join(" ")
        );
    }
}

#[test]
fn v1_host_show_targets() {
    let f = v1_docker_cgroupfs().build();
    let d = docker_v1_path();
    let s = f.json(&["show", &d, "--json"]);
    let ctx = format!("v1 host, show {d} --json");
    assert_eq!(s["kind"], "cgroup", "{ctx}: kind");
    assert_eq!(s["path"], json!(d), "{ctx}: path");
    let hs = str_set(
        arr(&s["cgroups"], &format!("{ctx}: cgroups"))
            .iter()
            .map(|c| &c["hierarchy"]),
    );
    assert_eq!(
        hs,
        V1_KEYS.iter().map(|s| s.to_string()).collect(),
        "{ctx}: one cgroup per hierarchy that has the path (all six)"
    );

    let s = f.json(&["show", "7146", "--json"]);
    assert_eq!(s["kind"], "process", "v1 host, show 7146 --json: kind");
    assert_eq!(
        s["nspid"],
        json!([7146, 1]),
        "v1 host, show 7146 --json: nspid"
    );
    let details = arr(&s["cgroup_details"], "cgroup_details");
    assert_eq!(
        details.len(),
        6,
        "v1 host, show 7146 --json: cgroup_details, one per hierarchy: {}",
        short(&s["cgroup_details"])
    );

    let wrong_type = format!("uts:[{CT_NET}]");
    let run = f.run(&["show", &wrong_type, "--json"]);
    assert_eq!(
        run.code,
        Some(1),
        "v1 host, show {wrong_type}: {CT_NET} is a net namespace, not a uts one\n{}",
        run.describe()
    );
    assert_eq!(
        run.stderr.lines().collect::<Vec<_>>(),
        vec![format!(
            "nsview: no process, namespace, cgroup or container matches '{wrong_type}' (tried as a namespace TYPE:[INODE])"
        )],
        "v1 host, show {wrong_type}: stderr"
    );

    let by_text = format!("net:[{CT_NET}]");
    let by_inode = CT_NET.to_string();
    for target in [by_text.as_str(), by_inode.as_str(), DOCKER_NETNS] {
        let s = f.json(&["show", target, "--json"]);
        let ctx = format!("v1 host, show {target} --json");
        assert_eq!(s["kind"], "namespace", "{ctx}: kind");
        assert_eq!(s["type"], "net", "{ctx}: type");
        assert_eq!(s["inode"], json!(CT_NET), "{ctx}: inode");
        let pids: Vec<i64> = arr(&s["processes"], &format!("{ctx}: processes"))
            .iter()
            .map(|p| p["pid"].as_i64().unwrap_or(-1))
            .collect();
        assert_eq!(pids, vec![7146, 7160], "{ctx}: processes");
    }
}

#[test]
fn v1_host_second_mount_of_a_hierarchy() {
    // The same memory hierarchy mounted a second time outside /sys/fs/cgroup (as lxcfs or a
    // runtime may do in the host's mount namespace), and a bind mount of a subtree: still one
    // "memory" hierarchy with its whole tree.
    let f = v1_docker_cgroupfs()
        .mount_raw("140 27 0:30 / /run/lxcfs/controllers/memory rw,relatime shared:40 - cgroup memory rw,memory")
        .mount_raw("141 22 0:30 /docker /mnt/dockercg rw,relatime shared:40 - cgroup cgroup rw,memory")
        .build();
    let cg = f.json(&["cgroups", "--json"]);
    let hs = arr(&cg["hierarchies"], "hierarchies");
    let mem: Vec<&Value> = hs.iter().filter(|h| h["key"] == "memory").collect();
    assert_eq!(
        mem.len(),
        1,
        "v1 host with extra mounts of memory: one \"memory\" hierarchy: {}",
        short(&cg["hierarchies"])
    );
    let paths: BTreeSet<String> = str_set(
        arr(&cg["cgroups"], "cgroups")
            .iter()
            .filter(|c| c["hierarchy"] == "memory")
            .map(|c| &c["path"]),
    );
    assert_eq!(
        paths,
        f.host.cgroup_paths()["memory"],
        "v1 host with extra mounts of memory: the memory tree, each cgroup once, paths relative to the hierarchy root"
    );
}

// ---------------------------------------------------------------------------------------------
// 3. hybrid host

#[test]
fn hybrid_host_mode_hierarchies_and_processes() {
    let f = hybrid_runc().build();
    let cg = f.json(&["cgroups", "--json"]);
    check_cgroup_tree("hybrid host", &f.host, &cg, "hybrid");
    let hs = arr(&cg["hierarchies"], "hierarchies");
    let u = hs
        .iter()
        .find(|h| h["key"] == "unified")
        .expect("hybrid host: a \"unified\" hierarchy");
    assert_eq!(u["version"], json!(2), "hybrid host: unified version");
    assert_eq!(
        u["mount"], "/sys/fs/cgroup/unified",
        "hybrid host: unified mount"
    );
    let c = cgroup("hybrid host", &cg, "memory", RUNC_CG);
    assert_eq!(
        c["limits"]["memory.limit_in_bytes"],
        json!(67108864),
        "hybrid host, memory:{RUNC_CG}: memory.limit_in_bytes"
    );
    let c = cgroup("hybrid host", &cg, "cpu", RUNC_CG);
    assert_object(
        &format!("hybrid host, cpu:{RUNC_CG}: limits"),
        &c["limits"],
        &json!({"cpu.shares": 512, "cpu.cfs_quota_us": 50000, "cpu.cfs_period_us": 100000}),
    );
    let c = cgroup("hybrid host", &cg, "cpuset", RUNC_CG);
    assert_object(
        &format!("hybrid host, cpuset:{RUNC_CG}: limits"),
        &c["limits"],
        &json!({"cpuset.cpus": "0-1", "cpuset.mems": "0"}),
    );
    let c = cgroup("hybrid host", &cg, "devices", RUNC_CG);
    check_devices(
        &format!("hybrid host, devices:{RUNC_CG}"),
        &c["devices"],
        &[dev("c", Some(1), Some(3), "rwm", Some("mem"))],
    );

    let ps = f.json(&["ps", "--json"]);
    check_ps("hybrid host", &f.host, &ps);
    let p = find_proc(&ps, 3100).unwrap();
    assert_eq!(
        p["cgroups"]["unified"],
        json!(RUNC_CG),
        "hybrid host, ps --json, pid 3100: cgroups.unified (the 0:: line)"
    );
    assert_eq!(
        p["cgroups"]["name=systemd"],
        json!(RUNC_CG),
        "hybrid host, ps --json, pid 3100: cgroups[name=systemd]"
    );
    let list = f.json(&["list", "--json"]);
    check_list("hybrid host", &f.host, &list);

    let s = f.json(&["show", SUPERVISOR_CG, "--json"]);
    assert_eq!(
        s["kind"], "cgroup",
        "hybrid host, show {SUPERVISOR_CG} --json: kind"
    );
    let hs = str_set(
        arr(&s["cgroups"], "cgroups")
            .iter()
            .map(|c| &c["hierarchy"]),
    );
    assert_eq!(
        hs,
        BTreeSet::from(["memory".to_string()]),
        "hybrid host, show {SUPERVISOR_CG}: only the memory hierarchy has it"
    );
}

// ---------------------------------------------------------------------------------------------
// 4. Robustness

#[test]
fn robustness_processes_with_missing_or_broken_files() {
    let f = v2_broken_files().build();
    let ps = f.json(&["ps", "--json"]);
    let pids: BTreeSet<i64> = arr(&ps["processes"], "processes")
        .iter()
        .map(|p| p["pid"].as_i64().unwrap_or(-1))
        .collect();
    for must in [1, 501, 504, 505] {
        assert!(
            pids.contains(&must),
            "broken host, ps --json: pid {must} (all its essential files are fine) is missing: {pids:?}"
        );
    }
    let allowed: BTreeSet<i64> = [1, 500, 501, 502, 503, 504, 505].into();
    assert!(
        pids.is_subset(&allowed),
        "broken host, ps --json: unexpected PIDs {:?}",
        pids.difference(&allowed).collect::<Vec<_>>()
    );

    let p = find_proc(&ps, 501).unwrap();
    let keys: BTreeSet<String> = p["ns"]
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    assert_eq!(
        keys,
        ["cgroup", "mnt", "pid", "user"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        "broken host, ps --json, pid 501: ns should have only the readable links (net is a symlink loop, uts:[] and ipc:[12x] are garbage, time is absent): {}",
        short(&p["ns"])
    );
    let p = find_proc(&ps, 504).unwrap();
    assert_eq!(
        p["comm"], "a) b",
        "broken host, ps --json, pid 504: comm with ') ' inside"
    );
    assert_eq!(
        p["ppid"],
        json!(1),
        "broken host, ps --json, pid 504: ppid (stat split at the last ')')"
    );
    let p = find_proc(&ps, 505).unwrap();
    assert_eq!(
        p["comm"], "(sd-pam)",
        "broken host, ps --json, pid 505: comm"
    );
    assert_eq!(p["ppid"], json!(1), "broken host, ps --json, pid 505: ppid");
    assert_eq!(
        p["uid"],
        json!(1000),
        "broken host, ps --json, pid 505: uid"
    );
    if let Some(p) = find_proc(&ps, 500) {
        assert_eq!(
            p["ppid"],
            json!(1),
            "broken host, ps --json, pid 500 (no status) is shown, so its ppid from stat should be right"
        );
    }

    let list = f.json(&["list", "--json"]);
    let got: BTreeSet<(String, u64)> = arr(&list["namespaces"], "namespaces")
        .iter()
        .map(|n| {
            (
                n["type"].as_str().unwrap_or("?").to_string(),
                n["inode"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    let want: BTreeSet<(String, u64)> = HOST_NS.iter().map(|(t, i)| (t.to_string(), *i)).collect();
    assert_eq!(
        got, want,
        "broken host, list --json: only the host's namespaces (garbage links must not become namespaces)"
    );
    let net = find_ns(&list, "net", HOST_NET).unwrap();
    let members = str_set(arr(&net["pids"], "pids"));
    assert!(
        !members.contains("501"),
        "broken host, list --json: pid 501's net link is unreadable, it must not count as a member: {}",
        short(net)
    );
    assert!(
        members.contains("1") && members.contains("504") && members.contains("505"),
        "broken host, list --json, host net: members {members:?}"
    );
    assert_eq!(
        net["nprocs"],
        json!(members.len()),
        "broken host, list --json, host net: nprocs == len(pids)"
    );
    let mnt = find_ns(&list, "mnt", 4026531832).unwrap();
    assert!(
        str_set(arr(&mnt["pids"], "pids")).contains("501"),
        "broken host, list --json: pid 501's mnt link is fine, it is a member: {}",
        short(mnt)
    );
}

#[test]
fn robustness_garbage_cgroup_files_and_empty_procs() {
    let f = v2_broken_files().build();
    let cg = f.json(&["cgroups", "--json"]);
    let c = cgroup("broken host", &cg, "unified", "/bad");
    let ctx = "broken host, cgroups --json, unified:/bad";
    for k in ["cpu.weight", "memory.max", "cpu.max", "memory.low"] {
        assert!(
            c["limits"].get(k).is_none_or(Value::is_null),
            "{ctx}: limits.{k} has garbage content and should be absent, got {}",
            c["limits"][k]
        );
    }
    for k in ["pids.current", "memory.pressure"] {
        assert!(
            c["usage"].get(k).is_none_or(Value::is_null),
            "{ctx}: usage.{k} has garbage content and should be absent, got {}",
            c["usage"][k]
        );
    }
    assert_eq!(
        c["limits"]["memory.high"], "max",
        "{ctx}: a good file next to garbage ones is still read (memory.high)"
    );
    assert_eq!(
        c["usage"]["memory.current"],
        json!(1048576),
        "{ctx}: usage.memory.current"
    );
    let e = cgroup("broken host", &cg, "unified", "/empty");
    assert_eq!(
        e["pids"],
        json!([]),
        "broken host, cgroups --json, unified:/empty: pids of an empty cgroup.procs"
    );
    assert_eq!(
        e["limits"]["pids.max"], "max",
        "broken host, unified:/empty: limits.pids.max"
    );

    let s = f.json(&["show", "/bad", "--json"]);
    assert_eq!(s["kind"], "cgroup", "broken host, show /bad --json: kind");
    assert_eq!(s["path"], "/bad", "broken host, show /bad --json: path");
    let s = f.json(&["show", "/empty", "--json"]);
    assert_eq!(s["kind"], "cgroup", "broken host, show /empty --json: kind");

    for args in [&["list"][..], &["ps"], &["cgroups", "--tree"]] {
        let run = f.run(args);
        assert_eq!(
            run.code,
            Some(0),
            "broken host: text output must not fail\n{}",
            run.describe()
        );
    }
}

#[test]
fn robustness_unreadable_file_warns_once() {
    // proc/PID/cgroup that cannot be read (a directory: read fails with EISDIR, standing in for
    // EACCES, which root does not get): the field is absent, the run succeeds, and the warning of
    // that kind is printed once for both processes.
    let f = v2_docker_systemd()
        .edit(4100, |p| {
            p.omit.push("cgroup".into());
        })
        .edit(830, |p| {
            p.omit.push("cgroup".into());
        })
        .dir("proc/4100/cgroup")
        .dir("proc/830/cgroup")
        .build();
    let run = f.run(&["ps", "--json"]);
    assert_eq!(
        run.code,
        Some(0),
        "v2 host with unreadable proc/PID/cgroup: exit code\n{}",
        run.describe()
    );
    let ps: Value = serde_json::from_str(&run.stdout).expect("JSON");
    for pid in [830, 4100] {
        let p = find_proc(&ps, pid).unwrap_or_else(|| {
            panic!(
                "v2 host with unreadable proc/{pid}/cgroup: pid {pid} should still be listed\n{}",
                run.describe()
            )
        });
        assert!(
            p["cgroups"].as_object().is_none_or(|o| o.is_empty()),
            "v2 host with unreadable proc/{pid}/cgroup: cgroups should be absent or empty, got {}",
            p["cgroups"]
        );
        assert_eq!(
            p["comm"],
            json!(f.host.proc(pid).comm),
            "v2 host with unreadable proc/{pid}/cgroup: other fields are intact"
        );
    }
    let warnings: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(
        warnings.len(),
        1,
        "v2 host with two unreadable proc/PID/cgroup files: one warning of that kind (docs/cli-json.md: each kind once)\n{}",
        run.describe()
    );
    assert!(
        warnings[0].starts_with("nsview: warning: "),
        "warning format: {:?}",
        warnings[0]
    );
}

#[test]
fn show_unknown_target_exits_1_with_one_line() {
    let f = v2_docker_systemd().build();
    for (target, tried) in [
        (
            "424242",
            "a PID, a namespace inode and a container id prefix",
        ),
        (
            "/no/such/cgroup",
            "a namespace bind mount and a cgroup path in every hierarchy",
        ),
        ("net:[4026599999]", "a namespace TYPE:[INODE]"),
    ] {
        let run = f.run(&["show", target, "--json"]);
        assert_eq!(
            run.code,
            Some(1),
            "v2 host, show {target}: exit code\n{}",
            run.describe()
        );
        let lines: Vec<&str> = run.stderr.lines().collect();
        assert_eq!(
            lines.len(),
            1,
            "v2 host, show {target}: exactly one line on stderr\n{}",
            run.describe()
        );
        assert_eq!(
            lines[0],
            format!(
                "nsview: no process, namespace, cgroup or container matches '{target}' (tried as {tried})"
            ),
            "v2 host, show {target}: the message of docs/cli-json.md"
        );
        assert!(
            run.stdout.trim().is_empty(),
            "v2 host, show {target}: nothing on stdout\n{}",
            run.describe()
        );
    }
}

#[test]
fn missing_root_fails_with_one_line() {
    // A --root without proc/ is no host at all: a failure (exit 1, one line), not an empty listing.
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-root");
    let missing = missing.to_str().unwrap();
    for cmd in ["list", "ps", "cgroups"] {
        let out = nsview(&["--root", missing, cmd, "--json"]);
        let stderr = &out.stderr;
        let ctx = format!(
            "`nsview --root {missing} {cmd} --json` (no such directory)\nstdout: {}\nstderr: {stderr}",
            out.stdout
        );
        assert_eq!(out.code, Some(1), "{ctx}\nexit code");
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{ctx}\nexactly one line on stderr");
        assert!(
            lines[0].starts_with("nsview: ") && !lines[0].starts_with("nsview: warning:"),
            "{ctx}\nan error line starting 'nsview: '"
        );
    }
}

#[test]
fn usage_error_exits_2() {
    let f = v2_docker_systemd().build();
    let run = f.run(&["no-such-command"]);
    assert_eq!(
        run.code,
        Some(2),
        "an unknown subcommand is a usage error (clap)\n{}",
        run.describe()
    );
    let run = f.run(&["list", "--type", "bogus"]);
    assert_eq!(
        run.code,
        Some(2),
        "an unknown namespace type is a usage error (clap)\n{}",
        run.describe()
    );
}

// ---------------------------------------------------------------------------------------------
// 5. Namespaces held only by bind mounts

#[test]
fn netns_held_only_by_bind_mount() {
    let f = v2_netns_bind_mounts().build();
    let list = f.json(&["list", "--json"]);
    check_list("netns host", &f.host, &list);
    for (ino, path) in [(NETNS_X, "/run/netns/x"), (NETNS_Y, "/run/netns/y")] {
        let ctx = format!("netns host, list --json, net:[{ino}] (only {path} holds it)");
        let n = find_ns(&list, "net", ino)
            .unwrap_or_else(|| panic!("{ctx}: missing from {}", short(&list)));
        assert_eq!(n["nprocs"], json!(0), "{ctx}: nprocs");
        assert_eq!(n["pids"], json!([]), "{ctx}: pids");
        assert!(
            n["pid"].is_null(),
            "{ctx}: pid should be null, got {}",
            n["pid"]
        );
        assert!(
            n["command"].is_null(),
            "{ctx}: command should be null, got {}",
            n["command"]
        );
        assert_eq!(n["bind_mounts"], json!([path]), "{ctx}: bind_mounts");
    }
    let nets = f.json(&["list", "--type", "net", "--json"]);
    let got: Vec<u64> = arr(&nets["namespaces"], "namespaces")
        .iter()
        .map(|n| n["inode"].as_u64().unwrap_or(0))
        .collect();
    assert_eq!(
        got,
        vec![HOST_NET, CT_NET, NETNS_X, NETNS_Y],
        "netns host, list --type net --json: inodes, sorted"
    );

    let x_text = format!("net:[{NETNS_X}]");
    let x_inode = NETNS_X.to_string();
    for target in ["/run/netns/x", x_text.as_str(), x_inode.as_str()] {
        let s = f.json(&["show", target, "--json"]);
        let ctx = format!("netns host, show {target} --json");
        assert_eq!(s["kind"], "namespace", "{ctx}: kind");
        assert_eq!(s["type"], "net", "{ctx}: type");
        assert_eq!(s["inode"], json!(NETNS_X), "{ctx}: inode");
        assert_eq!(s["nprocs"], json!(0), "{ctx}: nprocs");
        assert_eq!(s["processes"], json!([]), "{ctx}: processes");
        assert_eq!(
            s["bind_mounts"],
            json!(["/run/netns/x"]),
            "{ctx}: bind_mounts"
        );
    }

    let run = f.run(&["list", "--type", "net"]);
    assert_eq!(run.code, Some(0), "{}", run.describe());
    let line = run
        .stdout
        .lines()
        .find(|l| l.contains(&NETNS_X.to_string()));
    assert!(
        line.is_some_and(|l| l.contains("/run/netns/x")),
        "netns host, `list --type net`: the line of {NETNS_X} should name /run/netns/x\n{}",
        run.describe()
    );
}

// ---------------------------------------------------------------------------------------------
// The fixture builder itself (runs without the binary).

#[test]
fn fixture_files_are_written_like_the_kernel() {
    let f = v1_docker_cgroupfs().build();
    let root = f.root();
    let read = |rel: &str| {
        std::fs::read_to_string(root.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    };
    assert_eq!(CID.len(), 64);
    assert!(CID.chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(
        std::fs::read_link(root.join("proc/7146/ns/net"))
            .unwrap()
            .to_str(),
        Some("net:[4026532385]")
    );
    assert_eq!(
        std::fs::read_link(root.join("proc/self")).unwrap().to_str(),
        Some("1")
    );
    let status = read("proc/7146/status");
    assert!(status.contains("\nNSpid:\t7146\t1\n"), "{status}");
    assert!(status.contains("\nUid:\t0\t0\t0\t0\n"), "{status}");
    let stat = read("proc/7146/stat");
    let fields: Vec<&str> = stat.trim_end().split(' ').collect();
    assert_eq!(fields.len(), 52, "stat has 52 fields: {stat}");
    assert_eq!(
        (fields[0], fields[1], fields[2], fields[3]),
        ("7146", "(sleep)", "S", "7120")
    );
    assert_eq!(fields[8], "4194304", "flags is field 9");
    assert_eq!(
        read("proc/2/stat").split(' ').nth(8),
        Some("2129984"),
        "kthreadd has PF_KTHREAD"
    );
    assert_eq!(
        std::fs::read(root.join("proc/7146/cmdline")).unwrap(),
        b"sleep\x00100000\x00"
    );
    assert_eq!(std::fs::read(root.join("proc/2/cmdline")).unwrap(), b"");
    let cg = read("proc/7146/cgroup");
    assert_eq!(
        cg,
        format!(
            "6:freezer:/docker/{CID}\n5:pids:/docker/{CID}\n4:devices:/docker/{CID}\n3:memory:/docker/{CID}\n2:cpu,cpuacct:/docker/{CID}\n1:name=systemd:/docker/{CID}\n"
        )
    );
    let mi = read("proc/self/mountinfo");
    assert!(
        mi.contains(" /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:"),
        "{mi}"
    );
    assert!(mi.contains(" - cgroup cgroup rw,cpu,cpuacct\n"), "{mi}");
    assert!(
        mi.contains(" - cgroup cgroup rw,xattr,name=systemd\n"),
        "{mi}"
    );
    assert!(
        mi.contains(&format!(" 0:4 net:[{CT_NET}] {DOCKER_NETNS} rw shared:")),
        "{mi}"
    );
    assert!(!mi.contains("cgroup2"), "{mi}");
    let pc = read("proc/cgroups");
    assert!(
        pc.starts_with("#subsys_name\thierarchy\tnum_cgroups\tenabled\n"),
        "{pc}"
    );
    assert!(
        pc.contains("\ncpu\t2\t3\t1\n")
            && pc.contains("\ncpuacct\t2\t3\t1\n")
            && pc.contains("\nnet_cls\t0\t1\t1\n"),
        "{pc}"
    );
    assert_eq!(
        read(&format!(
            "sys/fs/cgroup/cpu,cpuacct/docker/{CID}/cgroup.procs"
        )),
        "7146\n7160\n"
    );
    assert_eq!(
        read(&format!("sys/fs/cgroup/devices/docker/{CID}/devices.list")),
        DOCKER_DEVICES_LIST
    );
    assert_eq!(read("sys/fs/cgroup/systemd/init.scope/cgroup.procs"), "1\n");
    assert!(read("proc/devices").contains("\n  1 mem\n"));

    let f = v2_docker_systemd().build();
    let root = f.root();
    let read = |rel: &str| std::fs::read_to_string(root.join(rel)).unwrap();
    assert_eq!(
        read("sys/fs/cgroup/cgroup.controllers"),
        "cpuset cpu io memory pids\n"
    );
    assert_eq!(read("proc/1/cgroup"), "0::/init.scope\n");
    assert_eq!(read("proc/7146/cgroup"), format!("0::{}\n", docker_scope()));
    assert_eq!(read("sys/fs/cgroup/system.slice/cgroup.procs"), "");
    let mi = read("proc/1/mountinfo");
    assert!(mi.contains(" /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n"), "{mi}");
    assert!(read("proc/cgroups").contains("\nmemory\t0\t"));
}
