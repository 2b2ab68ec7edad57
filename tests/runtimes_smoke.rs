//! The container guards of tests/common/runtimes.rs against the real runtimes: each starts a
//! container, checks it is up where the kernel says (init alive, cgroup path as documented in
//! shared/docs/kernel-notes.md, limits in the cgroup files, the test root filesystem), and checks
//! that dropping the guard removes the container, also when the test panics.
//!
//! These tests prove the harness, not nsview: they never run the nsview binary. They need
//! scripts/test.sh's runtimes (or a dockerd and the tools); without them they skip, which is a
//! failure under CI=true.

mod common;

use std::fs;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;

use common::runtimes::{
    ContainerGuard, PODMAN_GLOBAL_ARGS, ROOTFS_OS_RELEASE_NAME, RuntimeContainer, docker_run,
    lxc_start, podman_run, runc_run,
};
use common::*;

/// The directory of `cgroup` in the hierarchy mounted at /sys/fs/cgroup/`hier`.
fn cgroup_dir(hier: &str, cgroup: &str) -> PathBuf {
    PathBuf::from(CGROUP_ROOT)
        .join(hier)
        .join(cgroup.trim_start_matches('/'))
}

/// A control file of the container's cgroup, trimmed.
fn cgroup_file(hier: &str, cgroup: &str, file: &str) -> String {
    let path = cgroup_dir(hier, cgroup).join(file);
    fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
        .trim()
        .to_string()
}

/// What every container must show: a living init running `sleep`, the same cgroup path in every
/// v1 hierarchy and the unified one, and the test root filesystem as its root.
fn assert_up(c: &RuntimeContainer) {
    assert!(c.init_pid > 0 && alive(c.init_pid), "{c:?}: init not alive");
    assert_eq!(comm(c.init_pid).as_deref(), Some("sleep"), "{c:?}");
    let cgroups = proc_cgroups(c.init_pid);
    assert_eq!(cgroups.get("memory"), Some(&c.cgroup), "{c:?}: {cgroups:?}");
    for (key, path) in &cgroups {
        assert_eq!(
            path, &c.cgroup,
            "{c:?}: hierarchy {key} differs: {cgroups:?}"
        );
    }
    assert!(
        cgroup_dir("memory", &c.cgroup).is_dir(),
        "{c:?}: no memory cgroup directory"
    );
    let os_release = fs::read_to_string(format!("/proc/{}/root/etc/os-release", c.init_pid))
        .unwrap_or_else(|e| panic!("{c:?}: os-release: {e}"));
    assert!(
        os_release.contains(ROOTFS_OS_RELEASE_NAME),
        "{c:?}: not the test root filesystem: {os_release}"
    );
    // Its own pid namespace: the init is PID 1 inside.
    assert_eq!(nspid(c.init_pid).last(), Some(&1), "{c:?}: NSpid");
}

/// After removal: the init is gone and so is the container's cgroup.
fn assert_gone(c: &RuntimeContainer) {
    poll(
        &format!("{} init {} to exit", c.name, c.init_pid),
        POLL_TIMEOUT,
        || (!alive(c.init_pid)).then_some(()),
    );
    let dir = cgroup_dir("memory", &c.cgroup);
    poll(
        &format!("{} to be removed", dir.display()),
        POLL_TIMEOUT,
        || (!dir.exists()).then_some(()),
    );
}

/// `podman GLOBAL... ARGS...`, whatever the exit status.
fn podman(args: &[&str]) -> Run {
    let mut all = PODMAN_GLOBAL_ARGS.to_vec();
    all.extend_from_slice(args);
    run("podman", &all)
}

/// Start a container in `start`, then panic while its guard is alive: the unwinding must
/// remove it. Returns what the container was.
fn started_then_panicked(
    start: impl FnOnce() -> Option<ContainerGuard>,
) -> Option<RuntimeContainer> {
    let mut seen = None;
    let result = catch_unwind(AssertUnwindSafe(|| {
        let guard = start();
        seen = guard.as_ref().map(|g| g.c.clone());
        if let Some(g) = &guard {
            assert_up(&g.c);
            panic!(
                "deliberate panic with {} container {} alive",
                g.c.runtime, g.c.name
            );
        }
    }));
    if seen.is_some() {
        assert!(result.is_err(), "the deliberate panic did not happen");
    } else if let Err(e) = result {
        // Not a deliberate panic: the runtime was not available under CI, or the start failed.
        std::panic::resume_unwind(e);
    }
    seen
}

#[test]
fn docker_container_with_limits_in_docker_cgroups() {
    let test = "docker_container_with_limits";
    let Some(mut g) = docker_run(test, "limits", &runtimes::ARTICLE_LIMITS, &[]) else {
        return;
    };
    let c = g.c.clone();
    assert_eq!(c.runtime, "docker");
    assert_eq!(c.name, unique_name("limits"));
    assert_eq!(c.id.len(), 64, "{c:?}");
    assert_eq!(
        c.cgroup,
        format!("/docker/{}", c.id),
        "cgroupfs driver layout"
    );
    assert_up(&c);

    // The limits as the kernel holds them (Docker's units are base 1024: 128m = 128 MiB).
    assert_eq!(cgroup_file("cpu", &c.cgroup, "cpu.shares"), "2048");
    assert_eq!(
        cgroup_file("memory", &c.cgroup, "memory.limit_in_bytes"),
        "134217728"
    );
    assert_eq!(cgroup_file("cpuset", &c.cgroup, "cpuset.cpus"), "0");
    // Docker denies every device, then allows its list: /dev/null (c 1:3) among them.
    let devices = cgroup_file("devices", &c.cgroup, "devices.list");
    assert!(devices.lines().any(|l| l == "c 1:3 rwm"), "{devices}");
    assert!(!devices.lines().any(|l| l == "a *:* rwm"), "{devices}");

    // And as Docker records them.
    let inspect = run_ok(
        "docker",
        &[
            "inspect",
            "--format",
            "{{.Name}} {{.Id}} {{.State.Pid}} {{.HostConfig.CpuShares}} {{.HostConfig.Memory}} \
             {{.HostConfig.CpusetCpus}} {{.Config.Image}}",
            &c.id,
        ],
    );
    let expected = format!(
        "/{} {} {} 2048 134217728 0 {}",
        c.name,
        c.id,
        c.init_pid,
        c.image.as_deref().unwrap_or_default()
    );
    assert_eq!(inspect.trim(), expected);

    g.remove();
    assert_gone(&c);
    let after = run("docker", &["inspect", &c.id]);
    assert!(!after.status.success(), "docker still knows {}", c.id);
}

#[test]
fn podman_container_in_libpod_parent() {
    let test = "podman_container_in_libpod_parent";
    let Some(mut g) = podman_run(test, "plain", &[], &[]) else {
        return;
    };
    let c = g.c.clone();
    assert_eq!(c.runtime, "podman");
    assert_eq!(c.name, unique_name("plain"));
    assert_eq!(
        c.cgroup,
        format!("/libpod_parent/libpod-{}", c.id),
        "cgroupfs layout"
    );
    assert_up(&c);
    // --network none: a network namespace of its own holding only lo.
    let net_dev = fs::read_to_string(format!("/proc/{}/net/dev", c.init_pid)).unwrap_or_default();
    let ifaces: Vec<&str> = net_dev
        .lines()
        .skip(2)
        .filter_map(|l| l.split(':').next())
        .map(str::trim)
        .collect();
    assert_eq!(ifaces, ["lo"], "{net_dev}");
    let inspect = podman(&["inspect", "--format", "{{.Name}} {{.State.Pid}}", &c.id]);
    inspect.assert_success();
    assert_eq!(inspect.stdout.trim(), format!("{} {}", c.name, c.init_pid));

    g.remove();
    assert_gone(&c);
    assert!(!podman(&["container", "exists", &c.name]).status.success());
}

#[test]
fn runc_container_in_an_absolute_cgroup_of_ours() {
    let test = "runc_container_in_an_absolute_cgroup";
    let Some(mut g) = runc_run(test, "abs") else {
        return;
    };
    let c = g.c.clone();
    assert_eq!(c.runtime, "runc");
    assert_eq!(c.id, c.name);
    assert_eq!(c.cgroup, format!("/{}/runc-abs", cgroup_parent_name()));
    assert_up(&c);
    let state = run_ok("runc", &["state", &c.id]);
    let state: serde_json::Value = serde_json::from_str(&state).expect("runc state JSON");
    assert_eq!(state["status"], "running");
    assert_eq!(state["pid"].as_i64(), Some(c.init_pid as i64));

    g.remove();
    assert_gone(&c);
    assert!(!run("runc", &["state", &c.id]).status.success());
    assert!(!std::env::temp_dir().join(&c.name).exists(), "bundle left");
}

#[test]
fn lxc_container_in_lxc_payload() {
    let test = "lxc_container_in_lxc_payload";
    let Some(mut g) = lxc_start(test, "payload") else {
        return;
    };
    let c = g.c.clone();
    assert_eq!(c.runtime, "lxc");
    assert_eq!(c.id, c.name);
    assert_eq!(c.cgroup, format!("/lxc.payload.{}", c.name));
    assert_up(&c);
    // LXC's monitor (the init's parent) sits in /lxc.monitor.<name>.
    let monitor = ppid(c.init_pid).expect("init's parent");
    assert_eq!(
        proc_cgroups(monitor).get("memory").map(String::as_str),
        Some(format!("/lxc.monitor.{}", c.name).as_str())
    );

    g.remove();
    assert_gone(&c);
    poll("LXC's monitor to exit", POLL_TIMEOUT, || {
        (!alive(monitor)).then_some(())
    });
}

#[test]
fn docker_guard_removes_the_container_when_the_test_panics() {
    let test = "docker_guard_on_panic";
    if let Some(c) = started_then_panicked(|| docker_run(test, "panic", &[], &[])) {
        assert_gone(&c);
        assert!(!run("docker", &["inspect", &c.id]).status.success());
    }
}

#[test]
fn podman_guard_removes_the_container_when_the_test_panics() {
    let test = "podman_guard_on_panic";
    if let Some(c) = started_then_panicked(|| podman_run(test, "panic", &[], &[])) {
        assert_gone(&c);
        assert!(!podman(&["container", "exists", &c.name]).status.success());
    }
}

#[test]
fn runc_guard_removes_the_container_when_the_test_panics() {
    let test = "runc_guard_on_panic";
    if let Some(c) = started_then_panicked(|| runc_run(test, "panic")) {
        assert_gone(&c);
        assert!(!run("runc", &["state", &c.id]).status.success());
    }
}

#[test]
fn lxc_guard_removes_the_container_when_the_test_panics() {
    let test = "lxc_guard_on_panic";
    if let Some(c) = started_then_panicked(|| lxc_start(test, "panic")) {
        assert_gone(&c);
    }
}
