//! nsview against the real kernel, as root: each test builds namespaces and cgroups of its own,
//! runs the `nsview` binary with `--json`, and checks that it reports exactly what the kernel
//! says (read independently from /proc, `stat`, `ip -j` and `lsns -J`).
//!
//! Contract: docs/cli-json.md. Safety rules: shared/docs/testing.md (enforced by tests/common).
//! Tests run in parallel on a live machine: they only look at what they created, except the lsns
//! cross-check, which is written to tolerate processes that come and go.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use common::*;
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------
// Helpers specific to these tests
// ---------------------------------------------------------------------------------------------

/// Both ways nsview reads processes (`--process-source`): /proc, and the BPF task iterator
/// (which a host of this test's size would not use by default). Tests of the "Done when"
/// items check both.
const READERS: [&str; 2] = ["proc", "iter"];

/// `nsview --process-source SOURCE ARGS...` as JSON.
fn nsview_json_from(source: &str, args: &[&str]) -> Value {
    let mut all = vec!["--process-source", source];
    all.extend_from_slice(args);
    nsview_json(&all)
}

/// The inode of this (host) process's namespace of `ty`.
fn self_ns(ty: &str) -> u64 {
    ns_inode(std::process::id() as i32, ty).expect("own namespace link")
}

/// The space-joined command line of a process, as nsview's `command` and `cmdline` print it.
fn cmdline(pid: i32) -> String {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    raw.split(|&b| b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

fn string_set(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("expected a list of strings, got {v}"))
        .iter()
        .map(|s| {
            s.as_str()
                .unwrap_or_else(|| panic!("expected a string, got {s}"))
                .to_string()
        })
        .collect()
}

/// Check nsview's `interfaces` of one net namespace against `ip -j -d addr show` in it.
/// `peer_netns` is the inode of the namespace where veth peers live (the test knows it).
fn assert_interfaces_match_ip(ns: &Value, netns: &NetnsGuard, peer_netns: Option<u64>) {
    let ifaces = ns["interfaces"]
        .as_array()
        .unwrap_or_else(|| panic!("net namespace without an interfaces list: {ns}"));
    let ip_links = netns.ip_links_json();
    let got_names: BTreeSet<&str> = ifaces.iter().filter_map(|i| i["name"].as_str()).collect();
    let want_names: BTreeSet<&str> = ip_links
        .iter()
        .filter_map(|l| l["ifname"].as_str())
        .collect();
    assert_eq!(got_names, want_names, "interface names in {}", netns.name);
    for link in &ip_links {
        let name = link["ifname"].as_str().unwrap();
        let iface = ifaces.iter().find(|i| i["name"] == name).unwrap();
        let ctx = format!(
            "interface {name} in {}: nsview says {iface}, ip says {link}",
            netns.name
        );
        assert_eq!(iface["ifindex"], link["ifindex"], "ifindex of {ctx}");
        // docs/cli-json.md does not fix the case of `state`; ip prints UP/DOWN/UNKNOWN.
        let state = iface["state"]
            .as_str()
            .unwrap_or_else(|| panic!("no state: {ctx}"));
        assert!(
            state.eq_ignore_ascii_case(link["operstate"].as_str().unwrap()),
            "state of {ctx}"
        );
        let want_addrs: BTreeSet<String> = link["addr_info"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|x| format!("{}/{}", x["local"].as_str().unwrap(), x["prefixlen"]))
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(
            string_set(&iface["addresses"]),
            want_addrs,
            "addresses of {ctx}"
        );
        let want_kind = link["linkinfo"]["info_kind"].clone();
        assert_eq!(iface["kind"], want_kind, "kind of {ctx}");
        if want_kind == "veth" {
            assert_eq!(iface["mac"], link["address"], "mac of {ctx}");
            assert_eq!(
                iface["peer_ifindex"], link["link_index"],
                "peer_ifindex of {ctx}"
            );
            assert_eq!(
                iface["peer_netns"],
                json!(peer_netns),
                "peer_netns of {ctx}"
            );
        } else {
            assert_eq!(iface["peer_ifindex"], Value::Null, "peer_ifindex of {ctx}");
            assert_eq!(iface["peer_netns"], Value::Null, "peer_netns of {ctx}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 1. A named network namespace with no process
// ---------------------------------------------------------------------------------------------

#[test]
fn named_netns_without_processes_is_listed_with_its_bind_mount() {
    if !require_root_and_tools("named_netns_without_processes", &["ip"]) {
        return;
    }
    let netns = NetnsGuard::create("bind");
    let inode = netns.inode();

    for source in READERS {
        let list = nsview_json_from(source, &["list", "--json"]);
        let ns = get_ns(&list, "net", inode);
        assert_eq!(ns["bind_mounts"], json!([netns.path()]), "{source}: {ns}");
        assert_eq!(ns["nprocs"], json!(0), "{source}: {ns}");
        assert_eq!(ns["pids"], json!([]), "{source}: {ns}");
        assert_eq!(ns["pid"], Value::Null, "{source}: {ns}");
        assert_eq!(ns["command"], Value::Null, "{source}: {ns}");
        assert_eq!(ns["owner"], json!(self_ns("user")), "{source}: {ns}");
        assert_eq!(
            ns["parent"],
            Value::Null,
            "net namespaces have no parent: {ns}"
        );
        assert_eq!(ns["hostname"], Value::Null, "{source}: {ns}");
        assert_interfaces_match_ip(ns, &netns, None);
    }

    // --type filters.
    let nets = nsview_json(&["list", "--type", "net", "--json"]);
    assert!(
        array(&nets, "namespaces")
            .iter()
            .all(|n| n["type"] == "net"),
        "{nets}"
    );
    get_ns(&nets, "net", inode);

    // The bind mount path and TYPE:[INODE] both name it for `show`.
    let path = netns.path();
    for target in [path.as_str(), &format!("net:[{inode}]")] {
        let shown = nsview_json(&["show", target, "--json"]);
        assert_eq!(shown["kind"], "namespace", "show {target}: {shown}");
        assert_eq!(shown["type"], "net", "show {target}: {shown}");
        assert_eq!(shown["inode"], json!(inode), "show {target}: {shown}");
        assert_eq!(
            shown["bind_mounts"],
            json!([path]),
            "show {target}: {shown}"
        );
        assert_eq!(shown["processes"], json!([]), "show {target}: {shown}");
    }
}

// ---------------------------------------------------------------------------------------------
// 2. unshare --pid --uts: hostname, members, NSpid
// ---------------------------------------------------------------------------------------------

#[test]
fn unshared_pid_and_uts_namespaces() {
    if !require_root_and_tools("unshared_pid_and_uts_namespaces", &["unshare", "hostname"]) {
        return;
    }
    let p = NsProcess::spawn(
        &["--pid", "--uts"],
        // Both are per-UTS-namespace: this changes only the new namespace.
        "hostname h1 && echo nsv-dom > /proc/sys/kernel/domainname && exec sleep 100000",
        "sleep",
    );
    let (outer, inner) = (p.outer, p.inner);
    let inner_ns = ns_map(inner);
    let uts = inner_ns["uts"];
    let pidns = inner_ns["pid"];
    assert_ne!(uts, self_ns("uts"));
    assert_ne!(pidns, self_ns("pid"));

    // Both readers; the last one's `ps` serves the checks after the loop.
    let mut ps = Value::Null;
    for source in READERS {
        let list = nsview_json_from(source, &["list", "--json"]);

        // The UTS namespace: unshare(1) calls unshare(CLONE_NEWUTS) itself before forking, so the
        // kernel counts both the unshare process and the inner one as members.
        let want_uts_members = ns_members("uts", uts);
        assert_eq!(
            want_uts_members,
            vec![outer, inner],
            "kernel's members of uts:[{uts}]"
        );
        let u = get_ns(&list, "uts", uts);
        assert_eq!(u["hostname"], "h1", "{u}");
        assert_eq!(u["domainname"], "nsv-dom", "{u}");
        assert_eq!(u["nprocs"], json!(2), "{u}");
        assert_eq!(u["pids"], json!([outer, inner]), "{u}");
        assert_eq!(u["pid"], json!(outer), "{u}");
        assert_eq!(u["command"], json!(cmdline(outer)), "{u}");
        assert_eq!(u["owner"], json!(self_ns("user")), "{u}");
        assert_eq!(u["bind_mounts"], json!([]), "{u}");
        assert_eq!(u["interfaces"], Value::Null, "{u}");

        // The pid namespace: only the inner process is in it (unshare only has pid_for_children).
        let pn = get_ns(&list, "pid", pidns);
        assert_eq!(pn["nprocs"], json!(1), "{pn}");
        assert_eq!(pn["pids"], json!([inner]), "{pn}");
        assert_eq!(pn["pid"], json!(inner), "{pn}");
        assert_eq!(pn["command"], "sleep 100000", "{pn}");
        assert_eq!(pn["parent"], json!(self_ns("pid")), "parent pid ns: {pn}");
        assert_eq!(pn["owner"], json!(self_ns("user")), "{pn}");
        assert_eq!(pn["hostname"], Value::Null, "{pn}");

        // ps: the inner process is PID 1 of its namespace.
        ps = nsview_json_from(source, &["ps", "--json"]);
        let pi = get_process(&ps, inner);
        assert_eq!(
            nspid(inner),
            vec![inner as i64, 1],
            "kernel NSpid of {inner}"
        );
        assert_eq!(pi["nspid"], json!([inner, 1]), "{pi}");
        assert_eq!(pi["ppid"], json!(outer), "{pi}");
        assert_eq!(pi["comm"], "sleep", "{pi}");
        assert_eq!(pi["cmdline"], "sleep 100000", "{pi}");
        assert_eq!(pi["uid"], json!(0), "{pi}");
        assert_eq!(
            pi["ns"],
            json!(inner_ns),
            "ns map of {inner} (readlink /proc/{inner}/ns/*): {pi}"
        );
        assert_eq!(pi["cgroups"], json!(proc_cgroups(inner)), "{pi}");
        assert!(
            pi["container"].is_string(),
            "a process in its own pid+uts ns has a container: {pi}"
        );
        let host = host_ns_map();
        let differs = |pid: i32| -> BTreeSet<String> {
            let m = ns_map(pid);
            NS_TYPES
                .iter()
                .filter(|t| m.get(**t) != host.get(**t))
                .map(|t| t.to_string())
                .collect()
        };
        assert_eq!(
            differs(inner),
            BTreeSet::from(["pid".to_string(), "uts".to_string()])
        );
        assert_eq!(string_set(&pi["host_ns_differs"]), differs(inner), "{pi}");

        let po = get_process(&ps, outer);
        assert_eq!(po["nspid"], json!([outer]), "{po}");
        assert_eq!(string_set(&po["host_ns_differs"]), differs(outer), "{po}");
        assert!(
            po["container"].is_string(),
            "unshare is in a non-host uts ns: {po}"
        );
    }

    // This test process shares all of the host's namespaces.
    let me = get_process(&ps, std::process::id() as i32);
    assert_eq!(me["container"], Value::Null, "{me}");
    assert_eq!(me["host_ns_differs"], json!([]), "{me}");

    // show PID: the process with its namespaces and cgroups in full.
    let shown = nsview_json(&["show", &inner.to_string(), "--json"]);
    assert_eq!(shown["kind"], "process", "{shown}");
    assert_eq!(shown["pid"], json!(inner), "{shown}");
    assert_eq!(shown["nspid"], json!([inner, 1]), "{shown}");
    assert_eq!(shown["ns"], json!(inner_ns), "{shown}");
    let shown_ns: BTreeMap<String, u64> = array(&shown, "namespaces")
        .iter()
        .map(|n| {
            (
                n["type"].as_str().unwrap().to_string(),
                n["inode"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(shown_ns, inner_ns, "namespaces of show {inner}");
    let shown_uts = array(&shown, "namespaces")
        .iter()
        .find(|n| n["type"] == "uts")
        .unwrap();
    assert_eq!(shown_uts["hostname"], "h1", "{shown_uts}");
    let shown_cgroups: BTreeMap<String, String> = array(&shown, "cgroup_details")
        .iter()
        .map(|c| {
            (
                c["hierarchy"].as_str().unwrap().to_string(),
                c["path"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        shown_cgroups,
        proc_cgroups(inner),
        "cgroup_details of show {inner}"
    );

    // show TYPE:[INODE] and show INODE (a number that is no PID) name the namespaces.
    let shown = nsview_json(&["show", &format!("uts:[{uts}]"), "--json"]);
    assert_eq!(shown["kind"], "namespace", "{shown}");
    assert_eq!(shown["inode"], json!(uts), "{shown}");
    assert_eq!(shown["hostname"], "h1", "{shown}");
    let shown_pids: Vec<i64> = array(&shown, "processes")
        .iter()
        .map(|p| p["pid"].as_i64().unwrap())
        .collect();
    assert_eq!(shown_pids, vec![outer as i64, inner as i64], "{shown}");
    let shown = nsview_json(&["show", &pidns.to_string(), "--json"]);
    assert_eq!(shown["kind"], "namespace", "{shown}");
    assert_eq!(shown["type"], "pid", "{shown}");
    assert_eq!(shown["inode"], json!(pidns), "{shown}");
    assert_eq!(shown["parent"], json!(self_ns("pid")), "{shown}");
}

// ---------------------------------------------------------------------------------------------
// 3. A veth pair between two created network namespaces
// ---------------------------------------------------------------------------------------------

#[test]
fn veth_pair_between_two_netns_links_both_ends() {
    if !require_root_and_tools("veth_pair_between_two_netns", &["ip"]) {
        return;
    }
    let a = NetnsGuard::create("veth-a");
    let b = NetnsGuard::create("veth-b");
    // Distinct ifindexes on the two sides, so that "peer_ifindex is the other's ifindex" cannot
    // hold by accident; no IPv6 link-local addresses, which would appear asynchronously.
    a.ip(&[
        "link", "add", "va", "index", "7", "type", "veth", "peer", "name", "vb", "index", "9",
        "netns", &b.name,
    ]);
    a.ip(&["link", "set", "va", "addrgenmode", "none"]);
    b.ip(&["link", "set", "vb", "addrgenmode", "none"]);
    a.ip(&["addr", "add", "10.200.77.1/24", "dev", "va"]);
    b.ip(&["addr", "add", "10.200.77.2/24", "dev", "vb"]);
    a.ip(&["link", "set", "va", "up"]);
    b.ip(&["link", "set", "vb", "up"]);
    let up = |ns: &NetnsGuard, dev: &str| {
        ns.ip_links_json()
            .iter()
            .any(|l| l["ifname"] == dev && l["operstate"] == "UP")
    };
    poll("both veth ends to be UP", POLL_TIMEOUT, || {
        (up(&a, "va") && up(&b, "vb")).then_some(())
    });
    let (ino_a, ino_b) = (a.inode(), b.inode());

    let list = nsview_json(&["list", "--json"]);
    let na = get_ns(&list, "net", ino_a);
    let nb = get_ns(&list, "net", ino_b);
    assert_interfaces_match_ip(na, &a, Some(ino_b));
    assert_interfaces_match_ip(nb, &b, Some(ino_a));

    let iface = |ns: &Value, name: &str| -> Value {
        ns["interfaces"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["name"] == name)
            .unwrap()
            .clone()
    };
    let va = iface(na, "va");
    let vb = iface(nb, "vb");
    assert_eq!(va["ifindex"], json!(7), "{va}");
    assert_eq!(vb["ifindex"], json!(9), "{vb}");
    assert_eq!(va["kind"], "veth", "{va}");
    assert_eq!(vb["kind"], "veth", "{vb}");
    assert_eq!(va["addresses"], json!(["10.200.77.1/24"]), "{va}");
    assert_eq!(vb["addresses"], json!(["10.200.77.2/24"]), "{vb}");
    assert_eq!(
        va["peer_ifindex"], vb["ifindex"],
        "va's peer is vb: {va} {vb}"
    );
    assert_eq!(
        vb["peer_ifindex"], va["ifindex"],
        "vb's peer is va: {va} {vb}"
    );
    assert_eq!(va["peer_netns"], json!(ino_b), "{va}");
    assert_eq!(vb["peer_netns"], json!(ino_a), "{vb}");
    assert_eq!(na["bind_mounts"], json!([a.path()]), "{na}");
    assert_eq!(nb["bind_mounts"], json!([b.path()]), "{nb}");
}

// ---------------------------------------------------------------------------------------------
// 4. Cgroups in every hierarchy, with limits, usage, devices and a process inside
// ---------------------------------------------------------------------------------------------

/// Limit files of docs/cli-json.md.
const LIMIT_FILES: &[&str] = &[
    "cpu.shares",
    "cpu.cfs_quota_us",
    "cpu.cfs_period_us",
    "cpuset.cpus",
    "cpuset.mems",
    "memory.limit_in_bytes",
    "memory.soft_limit_in_bytes",
    "memory.memsw.limit_in_bytes",
    "pids.max",
    "freezer.state",
    "cpu.weight",
    "cpu.max",
    "memory.max",
    "memory.high",
    "memory.low",
    "memory.min",
    "memory.swap.max",
    "io.max",
    "cgroup.freeze",
];

/// Usage files of docs/cli-json.md.
const USAGE_FILES: &[&str] = &[
    "memory.usage_in_bytes",
    "memory.max_usage_in_bytes",
    "memory.failcnt",
    "memory.memsw.usage_in_bytes",
    "memory.memsw.max_usage_in_bytes",
    "memory.memsw.failcnt",
    "pids.current",
    "cpuacct.usage",
    "cpuset.cpus.effective",
    "cpuset.mems.effective",
    "memory.current",
    "memory.peak",
    "memory.swap.current",
    "memory.events",
    "cpu.stat",
    "cpu.pressure",
    "memory.pressure",
    "io.pressure",
];

/// Files reported as strings rather than numbers.
const STRING_FILES: &[&str] = &[
    "cpuset.cpus",
    "cpuset.mems",
    "cpuset.cpus.effective",
    "cpuset.mems.effective",
    "freezer.state",
];

/// What nsview must report for a limit file with this content, when that is well defined.
fn expected_limit(file: &str, content: &str) -> Option<Value> {
    let c = content.trim();
    if STRING_FILES.contains(&file) {
        return Some(json!(c));
    }
    match file {
        "io.max" => None,
        "cpu.max" => {
            let mut parts = c.split_whitespace();
            let quota = parts.next()?;
            let period: i64 = parts.next()?.parse().ok()?;
            let quota = if quota == "max" {
                json!("max")
            } else {
                json!(quota.parse::<i64>().ok()?)
            };
            Some(json!([quota, period]))
        }
        _ if c == "max" => Some(json!("max")),
        // v1's "no limit" (docs/cli-json.md): PAGE_COUNTER_MAX pages as bytes, and a quota of -1.
        "cpu.cfs_quota_us" if c == "-1" => Some(json!("max")),
        _ => c.parse::<i64>().ok().map(|v| {
            if v >= 0x7FFF_FFFF_FFFF_0000 {
                json!("max")
            } else {
                json!(v)
            }
        }),
    }
}

/// Check that nsview's `limits` and `usage` of one cgroup hold exactly the listed files that
/// exist (and are readable) in `dir`, that stable limits have the file's value, and that usage
/// values have the documented shape.
fn assert_cgroup_files(cg: &Value, dir: &Path) {
    for (section, files) in [("limits", LIMIT_FILES), ("usage", USAGE_FILES)] {
        let obj = cg[section]
            .as_object()
            .unwrap_or_else(|| panic!("{section} of {} is not an object: {cg}", dir.display()));
        for key in obj.keys() {
            assert!(
                files.contains(&key.as_str()),
                "{section} has {key}, not a {section} file: {cg}"
            );
        }
        for file in files {
            let content = std::fs::read_to_string(dir.join(file)).ok();
            let ctx = format!(
                "{section}.{file} of {} (file: {content:?}): {cg}",
                dir.display()
            );
            let Some(content) = content else {
                assert!(!obj.contains_key(*file), "absent file reported: {ctx}");
                continue;
            };
            let got = obj.get(*file).unwrap_or_else(|| panic!("missing {ctx}"));
            if section == "limits" {
                if let Some(want) = expected_limit(file, &content) {
                    assert_eq!(got, &want, "{ctx}");
                }
                continue;
            }
            match *file {
                "memory.events" | "cpu.stat" => {
                    let m = got
                        .as_object()
                        .unwrap_or_else(|| panic!("not an object: {ctx}"));
                    assert!(!m.is_empty() && m.values().all(Value::is_i64), "{ctx}");
                }
                f if f.ends_with(".pressure") => {
                    assert!(got["some"].is_object(), "no some: {ctx}");
                    for kind in ["some", "full"] {
                        if let Some(line) = got.get(kind) {
                            for k in ["avg10", "avg60", "avg300", "total"] {
                                assert!(line[k].is_number(), "{kind}.{k}: {ctx}");
                            }
                        }
                    }
                }
                f if STRING_FILES.contains(&f) => assert_eq!(got, &json!(content.trim()), "{ctx}"),
                _ => assert!(got.is_i64(), "not an integer: {ctx}"),
            }
        }
    }
}

#[test]
fn cgroups_in_every_hierarchy_with_limits_devices_and_a_process() {
    if !require_root_and_tools("cgroups_in_every_hierarchy", &["sleep"]) {
        return;
    }
    let hierarchies = cgroup_hierarchies();
    let keys: BTreeSet<String> = hierarchies.iter().map(|h| h.key.clone()).collect();
    let has = |k: &str| keys.contains(k);
    // This suite runs on the hybrid machines of shared/docs/testing.md.
    for k in [
        "cpu",
        "cpuacct",
        "cpuset",
        "memory",
        "devices",
        "freezer",
        "pids",
        "blkio",
        "name=systemd",
        "unified",
    ] {
        if !has(k) {
            let why = format!("needs the hybrid layout of the test machines; no {k} in {keys:?}");
            skip("cgroups_in_every_hierarchy", &why);
            return;
        }
    }

    let name = "cgall";
    let groups: Vec<(HierarchyMount, CgroupGuard)> = hierarchies
        .iter()
        .map(|h| {
            let g = CgroupGuard::create(&h.dir_name(), name)
                .unwrap_or_else(|e| panic!("create {name} in {}: {e}", h.mount.display()));
            (h.clone(), g)
        })
        .collect();
    let group = |key: &str| &groups.iter().find(|(h, _)| h.key == key).unwrap().1;
    let dflt = CgroupGuard::create("devices", "cgdflt").expect("create devices group");
    let rel = group("memory").rel.clone();

    group("cpu").write("cpu.shares", "2048").unwrap();
    group("cpu").write("cpu.cfs_quota_us", "50000").unwrap();
    group("memory")
        .write("memory.limit_in_bytes", "128M")
        .unwrap();
    group("pids").write("pids.max", "64").unwrap();
    group("cpuset").write("cpuset.cpus", "0").unwrap();
    group("devices").write("devices.deny", "a").unwrap();
    group("devices")
        .write("devices.allow", "c 1:3 rwm")
        .unwrap();
    assert_eq!(group("devices").read("devices.list").unwrap(), "c 1:3 rwm");
    assert_eq!(dflt.read("devices.list").unwrap(), "a *:* rwm");

    // Declared after the groups: dropped (killed) before they are removed.
    let sleep = ChildGuard::spawn_sleep();
    let pid = sleep.pid();
    for (h, g) in &groups {
        g.add_process(pid)
            .unwrap_or_else(|e| panic!("move {pid} into {}: {e}", h.key));
    }
    let kernel_cgroups = proc_cgroups(pid);
    assert_eq!(
        kernel_cgroups.keys().cloned().collect::<BTreeSet<_>>(),
        keys
    );
    assert!(
        kernel_cgroups.values().all(|p| *p == rel),
        "{kernel_cgroups:?}"
    );

    let doc = nsview_json(&["cgroups", "--json"]);

    // Mode and hierarchies, as mountinfo says.
    let v1 = hierarchies.iter().any(|h| h.version == 1);
    let v2 = hierarchies.iter().any(|h| h.version == 2);
    let want_mode = match (v1, v2) {
        (true, true) => "hybrid",
        (true, false) => "v1",
        _ => "v2",
    };
    assert_eq!(doc["mode"], want_mode);
    let got_h = array(&doc, "hierarchies");
    let got_keys: BTreeSet<String> = got_h
        .iter()
        .map(|h| h["key"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(got_keys, keys, "hierarchy keys");
    for h in &hierarchies {
        let e = got_h.iter().find(|e| e["key"] == h.key.as_str()).unwrap();
        assert_eq!(e["version"], json!(h.version), "{e}");
        assert_eq!(e["mount"], json!(h.mount.to_string_lossy()), "{e}");
        if h.version == 1 && !h.key.starts_with("name=") {
            let want: BTreeSet<String> = h.key.split(',').map(str::to_string).collect();
            assert_eq!(string_set(&e["controllers"]), want, "{e}");
        }
        if h.version == 2 {
            let root = std::fs::read_to_string(h.mount.join("cgroup.controllers")).unwrap();
            let want: BTreeSet<String> = root.split_whitespace().map(str::to_string).collect();
            assert_eq!(string_set(&e["controllers"]), want, "{e}");
        }
    }

    // Our group in every hierarchy: the process, the files, the values we set.
    let parent_rel = format!("/{}", cgroup_parent_name());
    for (h, g) in &groups {
        let cg = get_cgroup(&doc, &h.key, &rel);
        assert_eq!(cg["pids"], json!([pid]), "{}: {cg}", h.key);
        assert_cgroup_files(cg, &g.dir);
        let parent = get_cgroup(&doc, &h.key, &parent_rel);
        assert_cgroup_files(parent, g.dir.parent().unwrap());
        if h.key != "devices" {
            assert_eq!(cg["devices"], Value::Null, "{}: {cg}", h.key);
            assert!(
                cg.get("devices_default").is_none_or(Value::is_null),
                "{}: {cg}",
                h.key
            );
        }
    }
    // Members as the BPF task iterator names them (hierarchy and cgroup ids): the same.
    let doc_iter = nsview_json_from("iter", &["cgroups", "--json"]);
    for (h, _) in &groups {
        let cg = get_cgroup(&doc_iter, &h.key, &rel);
        assert_eq!(cg["pids"], json!([pid]), "iterator, {}: {cg}", h.key);
    }
    let cg = |key: &str| get_cgroup(&doc, key, &rel);
    assert_eq!(cg("cpu")["limits"]["cpu.shares"], json!(2048));
    assert_eq!(cg("cpu")["limits"]["cpu.cfs_quota_us"], json!(50000));
    assert_eq!(cg("cpu")["limits"]["cpu.cfs_period_us"], json!(100000));
    assert_eq!(
        cg("memory")["limits"]["memory.limit_in_bytes"],
        json!(134217728)
    );
    assert!(
        cg("memory")["usage"]["memory.usage_in_bytes"].is_i64(),
        "{}",
        cg("memory")
    );
    assert_eq!(cg("pids")["limits"]["pids.max"], json!(64));
    assert_eq!(cg("pids")["usage"]["pids.current"], json!(1));
    assert_eq!(cg("cpuset")["limits"]["cpuset.cpus"], json!("0"));
    assert_eq!(cg("freezer")["limits"]["freezer.state"], json!("THAWED"));
    assert!(
        cg("cpuacct")["usage"]["cpuacct.usage"].is_i64(),
        "{}",
        cg("cpuacct")
    );
    assert_eq!(cg("unified")["limits"]["cgroup.freeze"], json!(0));
    assert_eq!(
        cg("devices")["devices"],
        json!([{"type": "c", "major": 1, "minor": 3, "access": "rwm", "name": "/dev/null"}]),
        "{}",
        cg("devices")
    );
    assert_eq!(
        cg("devices")["devices_default"],
        "deny",
        "{}",
        cg("devices")
    );

    // A group left at the default allows everything (and deny exceptions would be invisible).
    let d = get_cgroup(&doc, "devices", &dflt.rel);
    assert_eq!(d["pids"], json!([]), "{d}");
    let rules = d["devices"].as_array().unwrap_or_else(|| panic!("{d}"));
    assert_eq!(rules.len(), 1, "{d}");
    assert_eq!(rules[0]["type"], "a", "{d}");
    assert_eq!(rules[0]["major"], Value::Null, "{d}");
    assert_eq!(rules[0]["minor"], Value::Null, "{d}");
    assert_eq!(rules[0]["access"], "rwm", "{d}");
    assert_eq!(d["devices_default"], "allow", "{d}");

    // ps: the process's cgroup in every hierarchy.
    let ps = nsview_json(&["ps", "--json"]);
    let p = get_process(&ps, pid);
    assert_eq!(p["cgroups"], json!(kernel_cgroups), "{p}");

    // show CGROUP-PATH: one entry per hierarchy that has it.
    let shown = nsview_json(&["show", &rel, "--json"]);
    assert_eq!(shown["kind"], "cgroup", "{shown}");
    assert_eq!(shown["path"], json!(rel), "{shown}");
    let entries = array(&shown, "cgroups");
    let shown_keys: Vec<String> = entries
        .iter()
        .map(|c| c["hierarchy"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        shown_keys.len(),
        keys.len(),
        "one entry per hierarchy: {shown_keys:?}"
    );
    assert_eq!(shown_keys.into_iter().collect::<BTreeSet<_>>(), keys);
    for c in entries {
        assert_eq!(c["path"], json!(rel), "{c}");
        assert_eq!(c["pids"], json!([pid]), "{c}");
    }
    let shown = nsview_json(&["show", &dflt.rel, "--json"]);
    assert_eq!(shown["kind"], "cgroup", "{shown}");
    let entries = array(&shown, "cgroups");
    assert_eq!(entries.len(), 1, "{shown}");
    assert_eq!(entries[0]["hierarchy"], "devices", "{shown}");
    assert_eq!(entries[0]["devices_default"], "allow", "{shown}");
}

// ---------------------------------------------------------------------------------------------
// 5. Errors
// ---------------------------------------------------------------------------------------------

#[test]
fn unknown_targets_fail_with_one_line_and_bad_usage_exits_2() {
    if !require_root_and_tools("unknown_targets_fail", &[]) {
        return;
    }
    assert!(
        !Path::new("/proc/999999").exists(),
        "PID 999999 exists on this machine"
    );
    for (target, json) in [
        ("999999", false),
        ("999999", true),
        ("/no/such/cgroup", false),
        ("/no/such/cgroup", true),
    ] {
        let mut args = vec!["show", target];
        if json {
            args.push("--json");
        }
        let r = nsview(&args);
        assert_eq!(r.code, Some(1), "{args:?}: {r:?}");
        assert_eq!(r.stdout, "", "{args:?}: nothing on stdout");
        let lines = r.stderr_lines();
        assert_eq!(
            lines.len(),
            1,
            "{args:?}: exactly one line on stderr: {:?}",
            r.stderr
        );
        assert!(lines[0].starts_with("nsview: "), "{args:?}: {:?}", lines[0]);
        assert!(
            lines[0].contains(target),
            "{args:?}: the line names the target: {:?}",
            lines[0]
        );
        if target == "999999" {
            assert_eq!(
                lines[0],
                "nsview: no process, namespace, cgroup or container matches '999999' (tried as a PID, a namespace inode and a \
                 container id prefix)"
            );
        }
    }
    let r = nsview(&["list", "--type", "bogus"]);
    assert_eq!(r.code, Some(2), "list --type bogus: {r:?}");
    assert_eq!(r.stdout, "", "list --type bogus: {r:?}");
    assert!(
        !r.stderr.trim().is_empty(),
        "list --type bogus says why: {r:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// 6. Cross-check with lsns
// ---------------------------------------------------------------------------------------------

/// The entries of `lsns -J`, with the ones nested under "children" brought to the top level.
fn flatten_lsns(entries: &[Value]) -> Vec<Value> {
    let mut out = Vec::new();
    for e in entries {
        if let Some(children) = e.get("children").and_then(Value::as_array) {
            out.extend(flatten_lsns(children));
        }
        out.push(e.clone());
    }
    out
}

#[test]
fn every_namespace_lsns_lists_is_listed_by_nsview() {
    if !require_root_and_tools("cross_check_with_lsns", &["lsns", "unshare"]) {
        return;
    }
    // Quiet namespaces of our own: nothing else joins or leaves them during the test.
    let p = NsProcess::spawn(
        &[
            "--pid",
            "--mount-proc",
            "--uts",
            "--ipc",
            "--net",
            "--cgroup",
            "--time",
        ],
        "exec sleep 100000",
        "sleep",
    );
    let inner_ns = ns_map(p.inner);
    let quiet: Vec<(&str, u64)> = ["mnt", "uts", "ipc", "pid", "net", "cgroup", "time"]
        .into_iter()
        .map(|t| (t, inner_ns[t]))
        .collect();

    // lsns first, then nsview: a namespace lsns saw whose lowest process is still alive, the same
    // process (start time) and still in it after nsview finished was there during nsview's
    // whole run, so nsview must list it. Namespaces of processes that came and went are skipped.
    // lsns 2.38 itself exits 1, silently, when a process vanishes under it: retry.
    let lsns_doc = poll("lsns -J to succeed", POLL_TIMEOUT, || {
        let r = run("lsns", &["-J"]);
        r.status.success().then(|| r.json())
    });
    // lsns 2.38 nests pid and user namespaces under another entry's "children" in -J output.
    let lsns = flatten_lsns(array(&lsns_doc, "namespaces"));
    let starts: Vec<Option<u64>> = lsns
        .iter()
        .map(|n| n["pid"].as_i64().and_then(|p| start_time(p as i32)))
        .collect();
    for source in READERS {
        let list = nsview_json_from(source, &["list", "--json"]);

        let mut checked = 0;
        for (n, started) in lsns.iter().zip(&starts) {
            let ty = n["type"].as_str().unwrap();
            let inode = n["ns"].as_u64().unwrap();
            let Some(pid) = n["pid"].as_i64().map(|p| p as i32) else {
                continue;
            };
            let stable = started.is_some()
                && start_time(pid) == *started
                && alive(pid)
                && ns_inode(pid, ty) == Some(inode);
            if !stable {
                continue;
            }
            checked += 1;
            assert!(
                find_ns(&list, ty, inode).is_some(),
                "lsns lists {ty}:[{inode}] (pid {pid}, {}), nsview list --json does not",
                n["command"]
            );
        }
        assert!(
            checked >= NS_TYPES.len(),
            "only {checked} lsns namespaces were stable"
        );

        for &(ty, inode) in &quiet {
            let members = ns_members(ty, inode);
            let want = if ty == "pid" || ty == "time" {
                vec![p.inner] // unshare itself only has pid_for_children / time_for_children
            } else {
                vec![p.outer, p.inner]
            };
            assert_eq!(members, want, "kernel's members of {ty}:[{inode}]");
            let n = get_ns(&list, ty, inode);
            assert_eq!(n["pids"], json!(members), "{n}");
            assert_eq!(n["nprocs"], json!(members.len()), "{n}");
            assert_eq!(n["pid"], json!(members[0]), "{n}");
            let l = lsns
                .iter()
                .find(|l| l["type"] == ty && l["ns"].as_u64() == Some(inode))
                .unwrap_or_else(|| panic!("lsns does not list our {ty}:[{inode}]"));
            assert_eq!(
                n["nprocs"], l["nprocs"],
                "nprocs of {ty}:[{inode}]: nsview {n} lsns {l}"
            );
            assert_eq!(
                n["pid"], l["pid"],
                "pid of {ty}:[{inode}]: nsview {n} lsns {l}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 7. Text output
// ---------------------------------------------------------------------------------------------

#[test]
fn text_list_has_a_header_and_our_uts_namespace() {
    if !require_root_and_tools("text_list", &["unshare", "hostname"]) {
        return;
    }
    // The hostname must not appear in any command line (unshare's shows the script): build it
    // from the shell's PID.
    let p = NsProcess::spawn(&["--uts"], "hostname nsv-$$ && exec sleep 100000", "sleep");
    let hostname = format!("nsv-{}", p.inner);
    let uts = ns_inode(p.inner, "uts").unwrap();
    let r = nsview(&["list"]);
    r.assert_success();
    let mut lines = r.stdout.lines().filter(|l| !l.trim().is_empty());
    let header = lines.next().expect("some output");
    // Like lsns, the NS column is right-aligned: the header starts with "NS" after padding.
    assert!(header.trim_start().starts_with("NS "), "header: {header:?}");
    for col in ["NS", "TYPE", "NPROCS", "PID", "USER", "COMMAND"] {
        assert!(
            header.split_whitespace().any(|w| w == col),
            "header has {col}: {header:?}"
        );
    }
    let inode = uts.to_string();
    let row = lines
        .find(|l| l.split_whitespace().next() == Some(inode.as_str()))
        .unwrap_or_else(|| panic!("no row for uts {inode} in:\n{}", r.stdout));
    let cols: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cols.get(1), Some(&"uts"), "{row:?}");
    assert_eq!(cols.get(2), Some(&"2"), "unshare and its child: {row:?}");
    assert!(
        row.contains(&hostname),
        "the NAME column shows the hostname {hostname}: {row:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// 8. The JSON contract: every object has exactly the documented keys and value types
// ---------------------------------------------------------------------------------------------

const NS_KEYS: &[&str] = &[
    "type",
    "inode",
    "nprocs",
    "pids",
    "pid",
    "command",
    "user",
    "owner",
    "parent",
    "owner_uid",
    "bind_mounts",
    "hostname",
    "domainname",
    "interfaces",
];
const INTERFACE_KEYS: &[&str] = &[
    "name",
    "ifindex",
    "state",
    "addresses",
    "kind",
    "mac",
    "peer_ifindex",
    "peer_netns",
];
const PROCESS_KEYS: &[&str] = &[
    "pid",
    "ppid",
    "nspid",
    "comm",
    "cmdline",
    "uid",
    "ns",
    "cgroups",
    "container",
    "host_ns_differs",
];
const HIERARCHY_KEYS: &[&str] = &["key", "version", "controllers", "mount"];
const CGROUP_KEYS: &[&str] = &["hierarchy", "path", "pids", "limits", "usage", "devices"];
const DEVICE_KEYS: &[&str] = &["type", "major", "minor", "access", "name"];

fn is_int_or_null(v: &Value) -> bool {
    v.is_null() || v.is_i64() || v.is_u64()
}

fn is_string_list(v: &Value) -> bool {
    v.as_array().is_some_and(|a| a.iter().all(Value::is_string))
}

fn check_namespace_shape(n: &Value) {
    assert_keys(n, NS_KEYS, &[]);
    let ty = n["type"].as_str().unwrap_or_else(|| panic!("type: {n}"));
    assert!(NS_TYPES.contains(&ty), "type: {n}");
    assert!(n["inode"].is_u64(), "inode: {n}");
    let pids = int_list(&n["pids"]);
    assert!(
        n["pids"]
            .as_array()
            .unwrap()
            .windows(2)
            .all(|w| w[0].as_i64() < w[1].as_i64()),
        "pids sorted: {n}"
    );
    assert_eq!(n["nprocs"].as_u64(), Some(pids.len() as u64), "nprocs: {n}");
    assert_eq!(
        n["pid"].as_i64(),
        pids.first().copied(),
        "pid is the lowest member: {n}"
    );
    assert_eq!(n["command"].is_string(), !pids.is_empty(), "command: {n}");
    assert!(n["user"].is_null() || n["user"].is_u64(), "user: {n}");
    assert!(is_int_or_null(&n["owner"]), "owner: {n}");
    assert!(is_int_or_null(&n["parent"]), "parent: {n}");
    if ty != "pid" && ty != "user" {
        assert!(
            n["parent"].is_null(),
            "only pid and user namespaces have a parent: {n}"
        );
    }
    if ty != "user" {
        assert!(
            n["owner_uid"].is_null(),
            "owner_uid is for user namespaces: {n}"
        );
    } else {
        // As root NS_GET_OWNER_UID always answers (it is null only for a user namespace whose
        // creator has no uid in ours).
        assert!(n["owner_uid"].is_u64(), "owner_uid: {n}");
    }
    assert!(is_string_list(&n["bind_mounts"]), "bind_mounts: {n}");
    assert_eq!(n["hostname"].is_string(), ty == "uts", "hostname: {n}");
    assert_eq!(n["domainname"].is_string(), ty == "uts", "domainname: {n}");
    if ty == "net" {
        let ifaces = n["interfaces"]
            .as_array()
            .unwrap_or_else(|| panic!("interfaces: {n}"));
        for i in ifaces {
            assert_keys(i, INTERFACE_KEYS, &[]);
            assert!(i["name"].is_string() && i["ifindex"].is_u64(), "{i}");
            assert!(
                i["state"].is_string() && is_string_list(&i["addresses"]),
                "{i}"
            );
            assert!(i["kind"].is_null() || i["kind"].is_string(), "{i}");
            assert!(i["mac"].is_null() || i["mac"].is_string(), "{i}");
            assert!(
                is_int_or_null(&i["peer_ifindex"]) && is_int_or_null(&i["peer_netns"]),
                "{i}"
            );
        }
    } else {
        assert!(n["interfaces"].is_null(), "interfaces only for net: {n}");
    }
}

fn check_process_shape(p: &Value) {
    assert_keys(p, PROCESS_KEYS, &[]);
    let pid = p["pid"].as_i64().unwrap_or_else(|| panic!("pid: {p}"));
    assert!(p["ppid"].is_i64(), "ppid: {p}");
    let nspid = p["nspid"]
        .as_array()
        .unwrap_or_else(|| panic!("nspid: {p}"));
    assert_eq!(
        nspid.first().and_then(Value::as_i64),
        Some(pid),
        "nspid starts with the pid: {p}"
    );
    assert!(nspid.iter().all(Value::is_i64), "nspid: {p}");
    assert!(p["comm"].is_string() && p["cmdline"].is_string(), "{p}");
    assert!(p["uid"].is_u64(), "uid: {p}");
    let ns = p["ns"].as_object().unwrap_or_else(|| panic!("ns: {p}"));
    assert!(
        ns.iter()
            .all(|(k, v)| NS_TYPES.contains(&k.as_str()) && v.is_u64()),
        "ns: {p}"
    );
    let cg = p["cgroups"]
        .as_object()
        .unwrap_or_else(|| panic!("cgroups: {p}"));
    assert!(
        cg.values()
            .all(|v| v.as_str().is_some_and(|s| s.starts_with('/'))),
        "cgroups: {p}"
    );
    let differs = string_set(&p["host_ns_differs"]);
    assert!(
        differs.iter().all(|t| NS_TYPES.contains(&t.as_str())),
        "host_ns_differs: {p}"
    );
    assert!(
        p["container"].is_null() || p["container"].is_string(),
        "container: {p}"
    );
    // Kernel threads (kthreadd, PID 2, and its children) are never an isolation group, even the
    // few (kdevtmpfs) that run in a private mount namespace.
    let kernel_thread = p["pid"] == json!(2) || p["ppid"] == json!(2);
    if !ns.is_empty() && !kernel_thread {
        assert_eq!(
            p["container"].is_null(),
            differs.is_empty(),
            "container iff a non-host ns: {p}"
        );
    }
}

fn check_cgroup_shape(c: &Value, keys: &BTreeSet<String>) {
    let devices_hierarchy = c["hierarchy"] == "devices";
    assert_keys(c, CGROUP_KEYS, &["devices_default"]);
    let h = c["hierarchy"]
        .as_str()
        .unwrap_or_else(|| panic!("hierarchy: {c}"));
    assert!(
        keys.contains(h),
        "hierarchy {h} is not one of {keys:?}: {c}"
    );
    assert!(
        c["path"].as_str().is_some_and(|p| p.starts_with('/')),
        "path: {c}"
    );
    let pids = c["pids"].as_array().unwrap_or_else(|| panic!("pids: {c}"));
    assert!(
        pids.windows(2).all(|w| w[0].as_i64() < w[1].as_i64()),
        "pids sorted: {c}"
    );
    for (section, files) in [("limits", LIMIT_FILES), ("usage", USAGE_FILES)] {
        let obj = c[section]
            .as_object()
            .unwrap_or_else(|| panic!("{section}: {c}"));
        assert!(
            obj.keys().all(|k| files.contains(&k.as_str())),
            "{section} keys: {c}"
        );
    }
    if devices_hierarchy {
        let rules = c["devices"]
            .as_array()
            .unwrap_or_else(|| panic!("devices: {c}"));
        for r in rules {
            assert_keys(r, DEVICE_KEYS, &[]);
            assert!(
                ["a", "b", "c"].contains(&r["type"].as_str().unwrap_or("")),
                "{r}"
            );
            assert!(
                is_int_or_null(&r["major"]) && is_int_or_null(&r["minor"]),
                "{r}"
            );
            let access = r["access"].as_str().unwrap_or("");
            assert!(
                !access.is_empty() && access.chars().all(|ch| "rwm".contains(ch)),
                "{r}"
            );
            assert!(r["name"].is_null() || r["name"].is_string(), "{r}");
        }
        assert!(
            ["allow", "deny"].contains(&c["devices_default"].as_str().unwrap_or("")),
            "{c}"
        );
    } else {
        assert!(
            c["devices"].is_null(),
            "devices only in the devices hierarchy: {c}"
        );
        assert!(c.get("devices_default").is_none_or(Value::is_null), "{c}");
    }
}

#[test]
fn json_objects_have_exactly_the_documented_keys() {
    if !require_root_and_tools("json_contract_shape", &[]) {
        return;
    }
    let list = nsview_json(&["list", "--json"]);
    assert_keys(&list, &["namespaces"], &[]);
    let namespaces = array(&list, "namespaces");
    let order = |n: &Value| {
        let ty = n["type"].as_str().unwrap_or("");
        (NS_TYPES.iter().position(|t| *t == ty), n["inode"].as_u64())
    };
    assert!(
        namespaces.windows(2).all(|w| order(&w[0]) < order(&w[1])),
        "sorted by (type, inode)"
    );
    namespaces.iter().for_each(check_namespace_shape);

    let ps = nsview_json(&["ps", "--json"]);
    assert_keys(&ps, &["processes"], &[]);
    let processes = array(&ps, "processes");
    assert!(
        processes
            .windows(2)
            .all(|w| w[0]["pid"].as_i64() < w[1]["pid"].as_i64()),
        "sorted by pid"
    );
    processes.iter().for_each(check_process_shape);

    let cgroups = nsview_json(&["cgroups", "--json"]);
    assert_keys(&cgroups, &["mode", "hierarchies", "cgroups"], &[]);
    assert!(
        ["v1", "v2", "hybrid"].contains(&cgroups["mode"].as_str().unwrap_or("")),
        "mode"
    );
    let mut keys = BTreeSet::new();
    for h in array(&cgroups, "hierarchies") {
        assert_keys(h, HIERARCHY_KEYS, &[]);
        assert!(
            h["key"].is_string() && is_string_list(&h["controllers"]),
            "{h}"
        );
        assert!(h["version"] == 1 || h["version"] == 2, "{h}");
        assert!(
            h["mount"].as_str().is_some_and(|m| m.starts_with('/')),
            "{h}"
        );
        keys.insert(h["key"].as_str().unwrap().to_string());
    }
    for c in array(&cgroups, "cgroups") {
        check_cgroup_shape(c, &keys);
    }
    for key in &keys {
        assert!(
            find_cgroup(&cgroups, key, "/").is_some(),
            "no root cgroup of {key}"
        );
    }
}
