//! A cgroup that merely looks like a runtime's (issue 12, item 6): anyone who can create a
//! cgroup (root's tools, or a user a subtree was delegated to) can name it `docker/<64 hex>`.
//! nsview must not call what is in it a Docker container unless Docker's own record says so,
//! and never when the cgroup lies below a directory a user owns: it lists an isolation group
//! with a note.
//!
//! Everything here is created by the test: the cgroups under nsview-test-<pid> of the memory
//! hierarchy (the one nsview recognises containers in first; `.../docker/<id>` is recognised at
//! any depth, so the fake needs no cgroup outside our own parent), and the `sleep` moved there
//! (ours, killed by its guard). The id is made from our PID, so no Docker daemon knows it.

mod common;

use common::*;
use serde_json::Value;

/// A 64-hex-digit id no runtime has: our PID, repeated.
fn fake_id() -> String {
    format!("{:08x}", std::process::id()).repeat(8)
}

/// The entry of `nsview containers --json` whose init is `pid`.
fn container_of(pid: i32) -> Value {
    let r = nsview(&["containers", "--json"]);
    r.assert_success();
    let doc = r.json();
    array(&doc, "containers")
        .iter()
        .find(|c| c["init_pid"] == pid)
        .cloned()
        .unwrap_or_else(|| panic!("no entry with init {pid} in {doc}"))
}

#[test]
fn a_fake_docker_cgroup_is_an_isolation_group_with_a_note() {
    let test = "a_fake_docker_cgroup_is_an_isolation_group_with_a_note";
    if !require_root_and_tools(test, &["sleep"]) {
        return;
    }
    let parent = match CgroupGuard::create("memory", "identity") {
        Ok(g) => g,
        Err(e) => return skip(test, &format!("no memory hierarchy: {e}")),
    };
    let docker = parent.create_child("docker").expect("docker/");
    let id = fake_id();
    let fake = docker.create_child(&id).expect("docker/<id>");
    let sleep = ChildGuard::spawn_sleep();
    let pid = sleep.pid();
    fake.add_process(pid)
        .expect("move sleep into the fake cgroup");

    let c = container_of(pid);
    assert_eq!(c["runtime"], Value::Null, "{c}");
    assert_eq!(c["id"], Value::Null, "{c}");
    assert_eq!(c["name"], format!("sleep[{pid}]"), "{c}");
    assert_eq!(c["note"], "looks like docker, not confirmed", "{c}");
    assert_eq!(c["cgroup"], fake.rel, "{c}");
    assert_eq!(c["pids"], serde_json::json!([pid]), "{c}");

    // Neither the short nor the full id names a container.
    for key in [&id[..12], id.as_str()] {
        let r = nsview(&["show", key, "--json"]);
        assert!(
            r.code != Some(0) || r.json()["kind"] != "container",
            "{}",
            r.describe()
        );
    }
    // show, as text, carries the note.
    let r = nsview(&["show", &format!("sleep[{pid}]")]);
    r.assert_success();
    assert!(
        r.stdout.contains("note: looks like docker, not confirmed"),
        "{}",
        r.describe()
    );
    assert!(!r.stdout.contains("(docker"), "{}", r.describe());
}

#[test]
fn a_docker_cgroup_below_a_users_directory_is_never_dockers() {
    let test = "a_docker_cgroup_below_a_users_directory_is_never_dockers";
    if !require_root_and_tools(test, &["sleep"]) {
        return;
    }
    let parent = match CgroupGuard::create("memory", "delegated") {
        Ok(g) => g,
        Err(e) => return skip(test, &format!("no memory hierarchy: {e}")),
    };
    let user = parent.create_child("user").expect("user/");
    // Delegated to nobody (65534), as systemd delegates a subtree to a user's manager.
    std::os::unix::fs::chown(&user.dir, Some(65534), Some(65534)).expect("chown");
    let docker = user.create_child("docker").expect("docker/");
    let fake = docker.create_child(&fake_id()).expect("docker/<id>");
    let sleep = ChildGuard::spawn_sleep();
    let pid = sleep.pid();
    fake.add_process(pid)
        .expect("move sleep into the fake cgroup");

    let c = container_of(pid);
    assert_eq!(c["runtime"], Value::Null, "{c}");
    assert_eq!(c["id"], Value::Null, "{c}");
    assert_eq!(
        c["note"], "looks like docker, not confirmed: its cgroup is delegated to uid 65534",
        "{c}"
    );
}
