//! `nsview set <container>` on a real Docker container (issue 6 with issue 4): through the Engine
//! API by default, so `docker inspect` shows the change; `--direct` writes the cgroup files and
//! leaves Docker's record alone; undo goes back the way the change came; Docker's refusals are
//! one line and change nothing.

mod common;

use common::runtimes::{self, docker_run};
use common::*;
use std::process::Command;

fn inspect(name: &str, field: &str) -> String {
    run_ok(
        "docker",
        &[
            "inspect",
            "-f",
            &format!("{{{{.HostConfig.{field}}}}}"),
            name,
        ],
    )
    .trim()
    .to_string()
}

fn kernel(hier: &str, cgroup: &str, file: &str) -> String {
    std::fs::read_to_string(format!("{CGROUP_ROOT}/{hier}{cgroup}/{file}"))
        .unwrap_or_else(|e| panic!("read {hier}{cgroup}/{file}: {e}"))
        .trim()
        .to_string()
}

#[test]
fn set_goes_through_dockers_api_and_undo_comes_back() {
    let test = "set_goes_through_dockers_api";
    let Some(guard) = docker_run(test, "set-api", &runtimes::ARTICLE_LIMITS, &[]) else {
        return;
    };
    let c = &guard.c;
    let state = tempfile::tempdir().expect("state dir");
    let nsview = |args: &[&str]| {
        run_with_timeout(
            Command::new(nsview_bin())
                .arg("--state-dir")
                .arg(state.path())
                .args(args),
            NSVIEW_TIMEOUT,
        )
    };
    // nsview sees what `docker run` asked for.
    assert_eq!(kernel("cpu", &c.cgroup, "cpu.shares"), "2048");
    assert_eq!(
        kernel("memory", &c.cgroup, "memory.limit_in_bytes"),
        "134217728"
    );

    // By name, through the API: Docker's record and the kernel agree.
    let r = nsview(&["set", &c.name, "memory.max=256m"]);
    r.assert_success();
    assert!(r.stdout.contains("Docker Engine API"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("memory.limit_in_bytes 134217728 (128M) -> 268435456 (256M)"),
        "{}",
        r.stdout
    );
    assert_eq!(inspect(&c.name, "Memory"), "268435456");
    assert_eq!(
        kernel("memory", &c.cgroup, "memory.limit_in_bytes"),
        "268435456"
    );

    // By id prefix, --direct: the kernel changes, Docker's record does not, and nsview says so.
    let r = nsview(&["set", &c.id[..12], "cpu.shares=512", "--direct"]);
    r.assert_success();
    assert!(r.stdout.contains("Docker's record"), "{}", r.stdout);
    assert_eq!(kernel("cpu", &c.cgroup, "cpu.shares"), "512");
    assert_eq!(inspect(&c.name, "CpuShares"), "2048");

    // What Docker would refuse (its 6 MB minimum) is refused by nsview first: one line, nothing
    // changed (tests/write_preview.rs checks the dry run says it too).
    let r = nsview(&["set", &c.name, "memory.max=4m"]);
    assert_eq!(r.code, Some(1), "{}\n{}", r.stdout, r.stderr);
    assert_eq!(r.stderr_lines().len(), 1, "{}", r.stderr);
    assert!(r.stderr.contains("Docker's minimum"), "{}", r.stderr);
    assert_eq!(
        kernel("memory", &c.cgroup, "memory.limit_in_bytes"),
        "268435456"
    );

    // Undo: the direct write first, then the API change, through the API.
    nsview(&["undo"]).assert_success();
    assert_eq!(kernel("cpu", &c.cgroup, "cpu.shares"), "2048");
    let r = nsview(&["undo"]);
    r.assert_success();
    assert_eq!(inspect(&c.name, "Memory"), "134217728");
    assert_eq!(
        kernel("memory", &c.cgroup, "memory.limit_in_bytes"),
        "134217728"
    );

    let j = nsview(&["journal", "--json"]);
    j.assert_success();
    let j = j.json();
    let first = &j["entries"][0];
    assert_eq!(first["changes"][0]["via"], "docker-api", "{first:#}");
    assert_eq!(first["api"]["new"]["Memory"], 268435456, "{first:#}");
}

/// A container made without limits: Docker needs MemorySwap along with a first Memory, and
/// cannot put CpuShares back to "unset" (it reads 0 as "leave as is"): nsview does both right
/// and says how.
#[test]
fn a_container_without_limits_gets_one_and_loses_it_again() {
    let test = "a_container_without_limits";
    let Some(guard) = docker_run(test, "no-limits", &[], &[]) else {
        return;
    };
    let c = &guard.c;
    let state = tempfile::tempdir().expect("state dir");
    let nsview = |args: &[&str]| {
        run_with_timeout(
            Command::new(nsview_bin())
                .arg("--state-dir")
                .arg(state.path())
                .args(args),
            NSVIEW_TIMEOUT,
        )
    };
    // By cgroup path: still through Docker's API.
    let r = nsview(&["set", &c.cgroup, "memory.max=256m", "cpu.shares=512"]);
    r.assert_success();
    assert!(r.stdout.contains("Docker Engine API"), "{}", r.stdout);
    assert_eq!(inspect(&c.name, "Memory"), "268435456");
    assert_eq!(inspect(&c.name, "CpuShares"), "512");
    assert_eq!(kernel("cpu", &c.cgroup, "cpu.shares"), "512");

    let r = nsview(&["undo"]);
    r.assert_success();
    assert_eq!(
        kernel("cpu", &c.cgroup, "cpu.shares"),
        "1024",
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("Docker could not put"), "{}", r.stdout);
}

/// Issue 14 item 2: a change to a container that was removed since (`docker rm -f`) no longer
/// wedges undo: `undo` names the entry and refuses, `undo --force` skips it (the cgroups are gone
/// and Docker answers 404: both count as vanished), exits 0 and says so, and the next `undo`
/// reverts the older entry.
#[test]
fn a_removed_container_is_skipped_by_undo_force() {
    let test = "a_removed_container_is_skipped";
    if !require_root_and_tools(test, &[]) {
        return;
    }
    let older = CgroupGuard::create("cpu", "undo-older").expect("create a cgroup");
    let Some(mut guard) = docker_run(test, "undo-rm", &runtimes::ARTICLE_LIMITS, &[]) else {
        return;
    };
    let name = guard.c.name.clone();
    let state = tempfile::tempdir().expect("state dir");
    let nsview = |args: &[&str]| {
        run_with_timeout(
            Command::new(nsview_bin())
                .arg("--state-dir")
                .arg(state.path())
                .args(args),
            NSVIEW_TIMEOUT,
        )
    };
    nsview(&["set", &older.rel, "cpu.shares=2048"]).assert_success();
    let r = nsview(&["set", &name, "cpu.shares=512"]);
    r.assert_success();
    assert!(r.stdout.contains("Docker Engine API"), "{}", r.stdout);
    guard.remove();

    let r = nsview(&["undo"]);
    assert_eq!(r.code, Some(1), "{}", r.describe());
    assert_eq!(r.stderr_lines().len(), 1, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!("entry 2 (set {name})")) && r.stderr.contains("--force"),
        "{}",
        r.stderr
    );

    let r = nsview(&["undo", "--force"]);
    r.assert_success();
    assert!(r.stdout.contains("skipped entry 2"), "{}", r.stdout);
    let j = nsview(&["journal", "--json"]).json();
    assert_eq!(j["entries"][1]["state"], "skipped", "{j:#}");

    let r = nsview(&["undo"]);
    r.assert_success();
    assert!(r.stdout.contains("undid entry 1"), "{}", r.stdout);
    assert_eq!(older.read("cpu.shares").expect("read"), "1024");
}

/// Issue 14 item 2, with the cgroups still there: Docker's 404 alone counts as vanished (an undo
/// replays the update of a container Docker no longer knows). A journal entry as nsview writes it
/// for a container set, pointing at an id no container has.
#[test]
fn dockers_404_counts_as_vanished() {
    let test = "dockers_404_counts_as_vanished";
    if !runtimes::docker_available(test) {
        return;
    }
    let cg = CgroupGuard::create("cpu", "undo-404").expect("create a cgroup");
    cg.write("cpu.shares", "512").expect("write");
    let state = tempfile::tempdir().expect("state dir");
    let id = "ab".repeat(32);
    let entry = serde_json::json!({
        "id": 1, "time": "2026-12-07T00:00:00Z", "user": "root", "uid": 0, "action": "set",
        "target": "gone-container",
        "changes": [{"hierarchy": "cpu", "cgroup": cg.rel, "file": "cpu.shares",
            "old": "1024", "new": "512", "via": "docker-api"}],
        "api": {"id": id, "old": {"CpuShares": 1024}, "new": {"CpuShares": 512}},
    });
    let path = state.path().join("journal.jsonl");
    std::fs::write(&path, format!("{entry}\n")).expect("write journal");
    let nsview = |args: &[&str]| {
        run_with_timeout(
            Command::new(nsview_bin())
                .arg("--state-dir")
                .arg(state.path())
                .args(args),
            NSVIEW_TIMEOUT,
        )
    };
    let r = nsview(&["undo"]);
    assert_eq!(r.code, Some(1), "{}", r.describe());
    assert!(
        r.stderr.contains("HTTP 404") && r.stderr.contains("--force"),
        "{}",
        r.stderr
    );
    let r = nsview(&["undo", "--force"]);
    r.assert_success();
    assert!(r.stdout.contains("skipped"), "{}", r.stdout);
    assert_eq!(cg.read("cpu.shares").expect("read"), "512");
    let j = nsview(&["journal", "--json"]).json();
    assert_eq!(j["entries"][0]["state"], "skipped", "{j:#}");
}
