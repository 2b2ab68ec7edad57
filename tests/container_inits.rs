//! A container's init is the process its runtime's record names (issue 12, item 6), against a
//! real Docker: the API's State.Pid, what `docker inspect` shows. The kernel alone only gives a
//! guess (the process that is PID 1 of a pid namespace, else the lowest PID, in the container's
//! cgroup), and a process that is PID 1 of a pid namespace of its own, with a lower PID, moved
//! into the container's cgroup would win it: `enter` would then join that process's namespaces
//! instead of the container's.
//!
//! The intruder is ours (`unshare --pid --fork sleep`, killed by its guard before the container
//! is removed); it is moved only into the memory cgroup of a container this test created. Run
//! with `scripts/test.sh --test container_inits`, which starts dockerd.

mod common;

use std::fs;

use common::runtimes::{ContainerGuard, ROOTFS_OS_RELEASE_NAME, docker_run};
use common::*;
use serde_json::Value;

/// `nsview containers --json`'s entry named `name`.
fn listed(name: &str) -> Value {
    let v = nsview_json(&["containers", "--json"]);
    array(&v, "containers")
        .iter()
        .find(|c| c["name"] == name)
        .cloned()
        .unwrap_or_else(|| panic!("{name} is not listed: {v}"))
}

/// `docker inspect -f '{{.State.Pid}}' NAME`.
fn docker_pid(name: &str) -> i64 {
    let out = run_ok("docker", &["inspect", "-f", "{{.State.Pid}}", name]);
    out.trim()
        .parse()
        .unwrap_or_else(|e| panic!("docker inspect printed {out:?}: {e}"))
}

#[test]
fn docker_init_is_state_pid_when_it_forks() {
    let test = "docker_init_is_state_pid_when_it_forks";
    let Some(g) = docker_run(
        test,
        "forks",
        &[],
        &["sh", "-c", "sleep 1000 & exec sleep 1001"],
    ) else {
        return;
    };
    let name = g.c.name.as_str();
    let pid = docker_pid(name);
    let c = poll("both sleeps in the container", POLL_TIMEOUT, || {
        let c = listed(name);
        (int_list(&c["pids"]).len() == 2).then_some(c)
    });
    assert_eq!(c["init_pid"], pid, "{c}");
    assert_eq!(
        fs::read_to_string(format!("/proc/{pid}/cmdline")).expect("init's cmdline"),
        "sleep\u{0}1001\u{0}"
    );
}

/// One attempt: the intruder (started first, so its PID is lower unless PIDs wrapped between
/// the two) moved into the container's memory cgroup. The container's guard is dropped after
/// the intruder's (declared before it), so Docker never meets our process in its cgroup.
#[test]
fn docker_init_is_state_pid_not_a_lower_pid_one_moved_in() {
    let test = "docker_init_is_state_pid_not_a_lower_pid_one_moved_in";
    if !require_root_and_tools(test, &["unshare", "sleep"]) {
        return;
    }
    for attempt in 0..3 {
        let container: Option<ContainerGuard>;
        let intruder = NsProcess::spawn(&["--pid", "--mount-proc"], "exec sleep 100000", "sleep");
        container = docker_run(test, &format!("moved{attempt}"), &[], &[]);
        let Some(g) = container.as_ref() else {
            return;
        };
        if intruder.inner > g.c.init_pid {
            // PIDs wrapped (pid_max is small here): try again.
            continue;
        }
        let procs = format!("{CGROUP_ROOT}/memory{}/cgroup.procs", g.c.cgroup);
        fs::write(&procs, intruder.inner.to_string())
            .unwrap_or_else(|e| panic!("moving {} into {procs}: {e}", intruder.inner));
        let c = listed(&g.c.name);
        assert!(
            int_list(&c["pids"]).contains(&i64::from(intruder.inner)),
            "the intruder is one of its processes: {c}"
        );
        assert_eq!(c["init_pid"], docker_pid(&g.c.name), "{c}");
        assert_eq!(c["init_pid"], g.c.init_pid, "{c}");
        // enter goes through the init: the container's files, not the intruder's (the host's).
        let r = nsview(&["enter", &g.c.name, "--", "cat", "/etc/os-release"]);
        r.assert_success();
        assert!(
            r.stdout.contains(ROOTFS_OS_RELEASE_NAME),
            "{}",
            r.describe()
        );
        drop(intruder);
        drop(container);
        return;
    }
    panic!("{test}: the intruder never got the lower PID in 3 attempts");
}
