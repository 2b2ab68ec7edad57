//! `nsview enter` of a real Docker container gives the command what `docker exec` gives it, not
//! host root (issue 12, item 3): the container's capability sets, no_new_privs and seccomp
//! filter, checked against the container's init and against `docker exec` itself; `--user`
//! as `docker exec -u`; `--privileged` as nsenter (every capability, no filter). And with only
//! its network namespace joined, a PATH the container chose never makes the host run a program
//! of the container's choosing (item 4).
//!
//! The containers are the suite's (tests/common/runtimes.rs: the busybox test image, named
//! `nsview-test-<pid>-<name>`, removed by their guards also on failure); run with
//! `scripts/test.sh --test enter_docker_creds`, which starts dockerd.

mod common;

use std::fs;

use common::runtimes::docker_run;
use common::*;

/// The credential fields of /proc/PID/status that enter must carry over.
const CRED_FIELDS: [&str; 11] = [
    "Uid",
    "Gid",
    "Groups",
    "CapInh",
    "CapPrm",
    "CapEff",
    "CapBnd",
    "CapAmb",
    "NoNewPrivs",
    "Seccomp",
    "Seccomp_filters",
];

/// `nsview enter ARGS...`'s stdout; the run must succeed.
fn enter_ok(args: &[&str]) -> String {
    let mut all = vec!["enter"];
    all.extend_from_slice(args);
    let r = nsview(&all);
    r.assert_success();
    r.stdout
}

/// Every field of [`CRED_FIELDS`] of `got` equals `want`'s.
fn assert_same_creds(got: &str, want: &str, what: &str) {
    for key in CRED_FIELDS {
        assert_eq!(
            status_field(got, key),
            status_field(want, key),
            "{key} of {what}\n--- got ---\n{got}\n--- want ---\n{want}"
        );
    }
}

#[test]
fn entered_command_has_the_containers_credentials_and_seccomp() {
    let test = "entered_command_has_the_containers_credentials_and_seccomp";
    let Some(g) = docker_run(test, "creds", &[], &[]) else {
        return;
    };
    let c = &g.c;
    let init = fs::read_to_string(format!("/proc/{}/status", c.init_pid)).expect("init status");
    // What Docker gives a container by default: a reduced bounding set and its seccomp profile.
    let own = fs::read_to_string("/proc/self/status").expect("own status");
    assert_eq!(status_field(&init, "Seccomp"), "2", "{init}");
    assert_ne!(
        status_field(&init, "CapBnd"),
        status_field(&own, "CapBnd"),
        "Docker's default bounding set is smaller than root's"
    );

    let entered = enter_ok(&[&c.name, "--", "cat", "/proc/self/status"]);
    assert_same_creds(
        &entered,
        &init,
        "the entered command (vs the container's init)",
    );
    let exec = run_ok("docker", &["exec", &c.name, "cat", "/proc/self/status"]);
    assert_same_creds(&entered, &exec, "the entered command (vs docker exec)");
    eprintln!(
        "{test}: default: CapEff {} CapBnd {} Seccomp {} filters {}",
        status_field(&entered, "CapEff"),
        status_field(&entered, "CapBnd"),
        status_field(&entered, "Seccomp"),
        status_field(&entered, "Seccomp_filters"),
    );

    // --user: as `docker exec -u`: that user, no effective capability, the same bounds and filter.
    let user = enter_ok(&[
        &c.name,
        "--user",
        "1000:1000",
        "--",
        "cat",
        "/proc/self/status",
    ]);
    assert_eq!(status_field(&user, "Uid"), "1000\t1000\t1000\t1000");
    assert_eq!(status_field(&user, "Gid"), "1000\t1000\t1000\t1000");
    assert_eq!(status_field(&user, "CapEff"), "0000000000000000");
    assert_eq!(status_field(&user, "CapPrm"), "0000000000000000");
    assert_eq!(status_field(&user, "CapBnd"), status_field(&init, "CapBnd"));
    assert_eq!(status_field(&user, "Seccomp"), "2");
    // Every form of --user, field by field as docker exec -u gives them.
    let mut differ = Vec::new();
    for spec in ["1000:1000", "1000", "0:1000", "65534", "0"] {
        let ours = enter_ok(&[&c.name, "--user", spec, "--", "cat", "/proc/self/status"]);
        let theirs = run_ok(
            "docker",
            &["exec", "-u", spec, &c.name, "cat", "/proc/self/status"],
        );
        for key in CRED_FIELDS {
            let (a, b) = (status_field(&ours, key), status_field(&theirs, key));
            if a != b {
                differ.push(format!("-u {spec}: {key}: enter {a:?}, docker exec {b:?}"));
            }
        }
    }
    assert!(
        differ.is_empty(),
        "enter --user differs from docker exec -u:\n{}",
        differ.join("\n")
    );

    // --privileged: what nsenter gives, every capability of the host's root and no filter.
    let privileged = enter_ok(&[&c.name, "--privileged", "--", "cat", "/proc/self/status"]);
    assert_eq!(status_field(&privileged, "Uid"), "0\t0\t0\t0");
    for key in ["CapEff", "CapPrm", "CapBnd"] {
        assert_eq!(
            status_field(&privileged, key),
            status_field(&own, key),
            "{key} with --privileged"
        );
    }
    assert_eq!(status_field(&privileged, "NoNewPrivs"), "0");
    assert_eq!(status_field(&privileged, "Seccomp"), "0");
    eprintln!(
        "{test}: --privileged: CapEff {}; --user 1000:1000: CapEff {} CapBnd {}",
        status_field(&privileged, "CapEff"),
        status_field(&user, "CapEff"),
        status_field(&user, "CapBnd"),
    );
}

#[test]
fn net_only_never_runs_a_program_the_containers_path_names() {
    let test = "net_only_never_runs_a_program_the_containers_path_names";
    // A host directory the container's PATH names first, with an `id` that leaves a mark: the
    // host path a container's writable layer has (/var/lib/docker/overlay2/.../merged) would
    // serve the same.
    let fake_id = FakeId::new();
    let path = format!("PATH={}", fake_id.path());
    let Some(g) = docker_run(test, "fakeid", &["-e", &path], &[]) else {
        return;
    };
    let name = g.c.name.as_str();
    assert_eq!(
        enter_ok(&[name, "--ns", "net", "--", "id", "-u"]).trim(),
        "0"
    );
    assert_eq!(
        enter_ok(&[name, "--ns", "net", "--env-from-target", "--", "id", "-u"]).trim(),
        "0"
    );
    assert!(
        !fake_id.mark.exists(),
        "the container's fake id ran on the host"
    );
}
