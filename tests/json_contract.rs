//! The JSON contract (docs/cli-json.md), pinned: every read command's `--json` output, from the
//! real binary on each fixture host of the harness (tests/common/scenarios), compared with a
//! snapshot file in tests/snapshots/ (insta). `list`, `ps`, `cgroups` and `containers` of the
//! whole host, and `show` of a process, a namespace, a cgroup and a container.
//!
//! A change to what a command prints shows here as a snapshot diff. After an intended change:
//! `INSTA_UPDATE=always cargo test --test json_contract` (or `cargo insta review`), then read the
//! diff of tests/snapshots/json_contract__*.snap. Under CI (CI=true) insta writes no snapshot
//! file: a missing or different snapshot fails.
//!
//! Nothing is redacted or filtered: on a fixture host every value nsview prints comes from the
//! tree (user IDs stay numbers, device names come from the tree's /proc/devices, no clock is
//! read, the temporary root's path is printed nowhere), and the hostnames and interfaces that
//! only a real namespace could give are null. Should a value ever come from the machine running
//! the test, filter it in [`json_text`], saying why.

mod common;

use common::fake_docker::FakeDocker;
use common::scenarios::{contract_hosts, docker_hosts, runtime_hosts, tui_host};
use common::*;

/// What `show` is asked about on one host: one process, one namespace, one cgroup and one
/// container, each a TARGET as a user types it.
struct ShowTargets {
    process: String,
    namespace: String,
    cgroup: String,
    container: String,
}

fn targets(scenario: &str) -> ShowTargets {
    let t = |process: &str, namespace: String, cgroup: String, container: &str| ShowTargets {
        process: process.to_string(),
        namespace,
        cgroup,
        container: container.to_string(),
    };
    match scenario {
        "v1_docker_cgroupfs" => t(
            "7160",
            format!("net:[{}]", docker_hosts::CT_NET),
            docker_hosts::docker_v1_path(),
            "shop-web-1",
        ),
        "v2_docker_systemd" => t(
            "7146",
            format!("cgroup:[{}]", docker_hosts::CT_CGROUP),
            docker_hosts::docker_scope(),
            "shop-api-1",
        ),
        "hybrid_runc" => t(
            "3100",
            docker_hosts::CT_PID.to_string(),
            docker_hosts::RUNC_CG.to_string(),
            "c1",
        ),
        // A namespace by its bind mount.
        "hybrid_docker_cgroupfs" => t(
            "7190",
            "/run/netns/blue".to_string(),
            tui_host::web_cgroup(),
            "web-1",
        ),
        // The Kubernetes pod's container, by its id's first 12 hex digits.
        "v1_cgroupfs_runtimes" => t(
            "1310",
            format!("uts:[{}]", ct_inode(4, "uts")),
            format!(
                "/kubepods/besteffort/pod{}/{}",
                runtime_hosts::POD_UID,
                runtime_hosts::APP
            ),
            &runtime_hosts::APP[..12],
        ),
        // A CRI-O container's process; Docker's container, named by the Engine API.
        "v2_systemd_runtimes" => t(
            "2300",
            format!("pid:[{}]", ct_inode(14, "pid")),
            format!("/system.slice/docker-{}.scope", runtime_hosts::API),
            "api-gw",
        ),
        other => panic!("no show targets for scenario {other}"),
    }
}

/// The inode of namespace `ty` of container number `n` of the runtime hosts.
fn ct_inode(n: u64, ty: &str) -> u64 {
    runtime_hosts::ct_ns(n)
        .inode(ty)
        .expect("container namespaces are valid")
}

/// `nsview --root DIR ARGS... --json` on `fixture`, as pretty-printed JSON for a snapshot; the
/// run must succeed and print JSON.
fn json_text(fixture: &Fixture, args: &[&str]) -> String {
    let mut all = args.to_vec();
    all.push("--json");
    serde_json::to_string_pretty(&fixture.json(&all)).expect("JSON prints")
}

/// The snapshots of one host, named `<scenario>__<command>`.
fn snapshot_host(scenario: &str, fixture: &Fixture) {
    let t = targets(scenario);
    let runs: [(&str, Vec<&str>); 8] = [
        ("list", vec!["list"]),
        ("ps", vec!["ps"]),
        ("cgroups", vec!["cgroups"]),
        ("containers", vec!["containers"]),
        ("show_process", vec!["show", &t.process]),
        ("show_namespace", vec!["show", &t.namespace]),
        ("show_cgroup", vec!["show", &t.cgroup]),
        ("show_container", vec!["show", &t.container]),
    ];
    for (command, args) in runs {
        let text = json_text(fixture, &args);
        insta::assert_snapshot!(format!("{scenario}__{command}"), text, &args.join(" "));
    }
}

/// Build the contract host `scenario` and check its snapshots.
fn check_contract(scenario: &str) {
    let (_, host) = contract_hosts()
        .into_iter()
        .find(|(name, _)| *name == scenario)
        .unwrap_or_else(|| panic!("no contract host {scenario}"));
    let fixture = host.build();
    // The v2 host's Docker container is named by the Engine API, as on a real host.
    let _api = (scenario == "v2_systemd_runtimes").then(|| {
        FakeDocker::serve(
            &fixture.root().join("var/run/docker.sock"),
            runtime_hosts::docker_api_body(),
        )
    });
    snapshot_host(scenario, &fixture);
}

#[test]
fn every_contract_host_has_its_test() {
    let tested = [
        "v1_docker_cgroupfs",
        "v2_docker_systemd",
        "hybrid_runc",
        "hybrid_docker_cgroupfs",
        "v1_cgroupfs_runtimes",
        "v2_systemd_runtimes",
    ];
    let hosts: Vec<&str> = contract_hosts().iter().map(|(name, _)| *name).collect();
    assert_eq!(hosts, tested);
}

#[test]
fn v1_docker_cgroupfs() {
    check_contract("v1_docker_cgroupfs");
}

#[test]
fn v2_docker_systemd() {
    check_contract("v2_docker_systemd");
}

#[test]
fn hybrid_runc() {
    check_contract("hybrid_runc");
}

#[test]
fn hybrid_docker_cgroupfs() {
    check_contract("hybrid_docker_cgroupfs");
}

#[test]
fn v1_cgroupfs_runtimes_with_kubernetes() {
    check_contract("v1_cgroupfs_runtimes");
}

#[test]
fn v2_systemd_runtimes_with_kubernetes() {
    check_contract("v2_systemd_runtimes");
}
