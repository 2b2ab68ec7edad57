//! Names and what the CLI says (issue 14, items 8 and 11), on the real kernel: an unknown TARGET
//! says what was tried and offers the nearest container name; `host` and a named netns are
//! TARGETs like the Containers view's NAMEs; `show` prints sizes in human form and "1 process";
//! v1's "no limit" is "max" in JSON; the PID 1 warning explains itself; `undo` and `journal`
//! document `--json`.

mod common;

use common::cgroups::CgroupGuard;
use common::netns::NetnsGuard;
use common::processes::ChildGuard;
use common::runtimes::docker_run;
use common::*;

/// A Docker container named `nsview-test-<pid>-dock1`, asked for as `...-dok1` by every
/// command that takes a TARGET: one line saying how the name was read and offering the
/// container's real name first. Nothing is written (the TARGET resolves to nothing).
#[test]
fn unknown_target_suggests_the_nearest_docker_name() {
    let test = "unknown_target_suggests_the_nearest_docker_name";
    let Some(g) = docker_run(test, "dock1", &[], &[]) else {
        return;
    };
    let typo = g.c.name.replace("dock1", "dok1");
    let init = g.c.init_pid.to_string();
    let commands: Vec<Vec<&str>> = vec![
        vec!["show", &typo],
        vec!["show", &typo, "--json"],
        vec!["set", &typo, "cpu.shares=512", "--dry-run"],
        vec!["freeze", &typo],
        vec!["thaw", &typo],
        vec!["move", &init, &typo],
        vec!["devices", &typo],
        vec!["enter", &typo, "--", "true"],
    ];
    for args in commands {
        let r = nsview(&args);
        assert_eq!(r.code, Some(1), "{args:?}\n{}", r.describe());
        let lines = r.stderr_lines();
        assert_eq!(lines.len(), 1, "{args:?}: one line\n{}", r.describe());
        let want = format!(
            "nsview: no process, namespace, cgroup or container matches '{typo}' (tried as a \
             container name, a container id prefix, a named netns and 'host'); did you mean {}",
            g.c.name
        );
        assert!(
            lines[0].starts_with(&want),
            "{args:?}: the line says what was tried and suggests {}:\n{}",
            g.c.name,
            r.describe()
        );
    }
    // The name itself still resolves, unchanged.
    let v = nsview_json(&["show", &g.c.name, "--json"]);
    assert_eq!(v["kind"], "container");
    assert_eq!(v["id"], g.c.id.as_str());
}

/// `host`, the Containers view's NAME for the host, is a TARGET: `show host` (text and JSON)
/// shows the host's namespaces and processes, this test among them; `enter host --all` runs in
/// the host's namespaces; `devices host` reads the root cgroup's rules (nothing is written).
#[test]
fn host_is_a_target() {
    let test = "host_is_a_target";
    if !require_root_and_tools(test, &[]) {
        return;
    }
    let r = nsview(&["show", "host"]);
    r.assert_success();
    assert!(r.stdout.starts_with("host "), "{}", r.describe());
    assert!(
        r.stdout.contains("in every host namespace"),
        "{}",
        r.describe()
    );
    let own_net = kernel_ns_inode("net");
    assert!(
        r.stdout.contains(&format!("net    {own_net}")),
        "the host's net namespace is this test's:\n{}",
        r.describe()
    );
    let v = nsview_json(&["show", "host", "--json"]);
    assert_eq!(v["kind"], "host", "{v}");
    assert_eq!(v["namespaces"]["net"], own_net, "{v}");
    let me = i64::from(test_pid());
    assert!(
        int_list(&v["pids"]).contains(&me),
        "this test (PID {me}) is a host process: {}",
        short(&v["pids"])
    );
    // enter: through a host process whose namespaces can be read (not PID 1 where it cannot).
    let r = nsview(&[
        "enter",
        "host",
        "--all",
        "--",
        "readlink",
        "/proc/self/ns/net",
    ]);
    r.assert_success();
    assert_eq!(
        r.stdout.trim(),
        format!("net:[{own_net}]"),
        "{}",
        r.describe()
    );
    if std::path::Path::new(CGROUP_ROOT).join("devices").exists() {
        let d = nsview_json(&["devices", "host", "--json"]);
        assert_eq!(d["cgroup"], "/", "{d}");
    }
}

/// The inode of this test's own namespace of type `t` (/proc/self/ns/T).
fn kernel_ns_inode(t: &str) -> u64 {
    stat_inode(format!("/proc/self/ns/{t}"))
}

/// A named netns (`ip netns add nsview-test-<pid>-names`) is a TARGET by its name, as the
/// Containers view shows it: `show NAME` is that namespace, and `enter NAME` runs a command in it.
#[test]
fn named_netns_is_a_target() {
    let test = "named_netns_is_a_target";
    if !require_root_and_tools(test, &["ip"]) {
        return;
    }
    let ns = NetnsGuard::create("names");
    let v = nsview_json(&["show", &ns.name, "--json"]);
    assert_eq!(v["kind"], "namespace", "{v}");
    assert_eq!(v["type"], "net", "{v}");
    assert_eq!(v["inode"], ns.inode(), "{v}");
    let r = nsview(&["show", &ns.name]);
    r.assert_success();
    assert!(
        r.stdout
            .starts_with(&format!("namespace net:[{}]", ns.inode())),
        "{}",
        r.describe()
    );
    // Inside, only the namespace's own loopback (down, as `ip netns add` leaves it).
    let r = nsview(&["enter", &ns.name, "--", "cat", "/proc/self/net/dev"]);
    r.assert_success();
    assert!(r.stdout.contains("lo:"), "{}", r.describe());
    assert!(
        r.stdout.lines().count() == 3,
        "only lo in the new netns:\n{}",
        r.describe()
    );
}

/// A v1 memory cgroup this test creates: with no limit, JSON says "max" (not
/// 9223372036854771712, which JSON readers round); with 128M, `show` says `134217728 (128M)`;
/// with one process, "1 process".
#[test]
fn show_sizes_and_v1_unlimited_as_max() {
    let test = "show_sizes_and_v1_unlimited_as_max";
    if !require_root_and_tools(test, &[]) {
        return;
    }
    let g = match CgroupGuard::create("memory", "names_sizes") {
        Ok(g) => g,
        Err(e) => return skip(test, &format!("no v1 memory hierarchy: {e}")),
    };
    let unlimited = g.read("memory.limit_in_bytes").expect("read the limit");
    assert!(
        unlimited.parse::<u64>().is_ok_and(|v| v > 1 << 53),
        "a new v1 memory cgroup has no limit: {unlimited}"
    );
    let v = nsview_json(&["show", &g.rel, "--json"]);
    let cg = array(&v, "cgroups")
        .iter()
        .find(|c| c["hierarchy"] == "memory")
        .unwrap_or_else(|| panic!("show {} --json has no memory cgroup: {v}", g.rel))
        .clone();
    assert_eq!(cg["limits"]["memory.limit_in_bytes"], "max", "{cg}");
    let all = nsview_json(&["cgroups", "--json"]);
    let listed = get_cgroup(&all, "memory", &g.rel);
    assert_eq!(listed["limits"]["memory.limit_in_bytes"], "max", "{listed}");

    g.write("memory.limit_in_bytes", "134217728")
        .expect("set 128M");
    let mut child = ChildGuard::spawn_sleep();
    g.add_process(child.pid()).expect("move our sleep in");
    let r = nsview(&["show", &g.rel]);
    r.assert_success();
    assert!(
        r.stdout
            .contains("memory.limit_in_bytes = 134217728 (128M)"),
        "{}",
        r.describe()
    );
    assert!(
        r.stdout
            .contains(&format!("[memory] {}  (1 process)", g.rel)),
        "{}",
        r.describe()
    );
    let v = nsview_json(&["show", &g.rel, "--json"]);
    assert!(
        v.to_string()
            .contains("\"memory.limit_in_bytes\":134217728"),
        "{v}"
    );
    child.kill();
}

/// Where PID 1 cannot be read (this VM's init, even for root), the warning comes once, says what
/// it costs and that the rest is unaffected.
#[test]
fn pid1_warning_once_and_explained() {
    let test = "pid1_warning_once_and_explained";
    if !require_root_and_tools(test, &[]) {
        return;
    }
    if std::fs::read_link("/proc/1/ns/net").is_ok() {
        return skip(test, "PID 1 is readable here: no warning to check");
    }
    for args in [&["list"][..], &["show", "host"], &["cgroups"]] {
        let r = nsview(args);
        r.assert_success();
        let about: Vec<&str> = r
            .stderr_lines()
            .into_iter()
            .filter(|l| l.contains("PID 1"))
            .collect();
        assert_eq!(about.len(), 1, "{args:?}: once\n{}", r.describe());
        assert!(
            about[0].contains("harmless for everything else"),
            "{args:?}: says it is harmless\n{}",
            r.describe()
        );
    }
}

/// `undo --help` and `journal --help` say what `--json` does.
#[test]
fn undo_and_journal_json_have_help() {
    for cmd in ["undo", "journal"] {
        let r = nsview(&[cmd, "--help"]);
        r.assert_success();
        let line = r
            .stdout
            .lines()
            .find(|l| l.trim_start().starts_with("--json"))
            .unwrap_or_else(|| panic!("{cmd} --help lists --json\n{}", r.describe()));
        assert!(
            line.trim_start().trim_start_matches("--json").trim().len() > 10,
            "{cmd} --help: --json has a description: {line:?}"
        );
    }
}
