//! The fixture hosts the test files share, each built by one named function that returns the
//! [`Host`] description (add to it, then `.build()`):
//!
//! | scenario | cgroups | what runs there |
//! |---|---|---|
//! | [`docker_hosts::v1_docker_cgroupfs`] | v1 | Docker, cgroupfs driver |
//! | [`docker_hosts::v2_docker_systemd`] | v2 | Docker, systemd driver |
//! | [`docker_hosts::hybrid_runc`] | hybrid | runc |
//! | [`docker_hosts::v2_broken_files`] | v2 | broken /proc and cgroup files |
//! | [`docker_hosts::v2_netns_bind_mounts`] | v2 | netns held only by bind mounts |
//! | [`runtime_hosts::v1_cgroupfs_runtimes`] | v1 | Docker, podman, Kubernetes, LXC, runc (cgroupfs) |
//! | [`runtime_hosts::v2_systemd_runtimes`] | v2 | Docker, podman, Kubernetes (containerd, CRI-O), nspawn (systemd) |
//! | [`tui_host::hybrid_docker_cgroupfs`] | hybrid | Docker, cgroupfs driver (the TUI's screens) |
//! | [`writes_host::v2_web_scope`] | v2 | one service to write limits to |

pub mod docker_hosts;
pub mod runtime_hosts;
pub mod tui_host;
pub mod writes_host;

use super::fixture::Host;

/// The initial network namespace's inode as a 6.x kernel numbers it.
pub const HOST_NET: u64 = 4026531833;

/// v1 writes "no limit" as the largest page-aligned signed 64-bit number.
pub const UNLIMITED: &str = "9223372036854771712\n";

/// The v1 hierarchies of the v1-only hosts, keyed as /proc/PID/cgroup shows them.
pub const V1_KEYS: [&str; 6] = [
    "name=systemd",
    "cpu,cpuacct",
    "memory",
    "devices",
    "pids",
    "freezer",
];

/// The hosts whose `--json` output pins nsview's JSON contract (tests/json_contract.rs), by the
/// name their snapshots carry: each cgroup layout (v1, v2, hybrid) and each way containers are
/// laid out in it (Docker's cgroupfs and systemd drivers, Kubernetes, podman, LXC, runc). The
/// single-container hosts get the record their runtime keeps (Docker's config.v2.json, runc's
/// state.json), so that every container has its name, as on a real host.
pub fn contract_hosts() -> Vec<(&'static str, Host)> {
    use docker_hosts::{CID, RUNC_CG};
    let docker_record = format!("var/lib/docker/containers/{CID}/config.v2.json");
    let runc_state = format!(
        r#"{{"id":"c1","init_process_pid":3100,"init_process_start":9400,"created":"2024-05-01T10:00:00Z","config":{{"rootfs":"/tmp/c1/rootfs","cgroups":{{"path":"{RUNC_CG}","resources":{{}}}}}},"cgroup_paths":{{"memory":"/sys/fs/cgroup/memory{RUNC_CG}"}}}}"#
    );
    vec![
        (
            "v1_docker_cgroupfs",
            docker_hosts::v1_docker_cgroupfs().file(
                &docker_record,
                runtime_hosts::config_v2("shop-web-1", "nginx:1.25", true, false).as_bytes(),
            ),
        ),
        (
            "v2_docker_systemd",
            docker_hosts::v2_docker_systemd().file(
                &docker_record,
                runtime_hosts::config_v2("shop-api-1", "registry.example/api:3", true, false)
                    .as_bytes(),
            ),
        ),
        (
            "hybrid_runc",
            docker_hosts::hybrid_runc().file("run/runc/c1/state.json", runc_state.as_bytes()),
        ),
        ("hybrid_docker_cgroupfs", tui_host::hybrid_docker_cgroupfs()),
        (
            "v1_cgroupfs_runtimes",
            runtime_hosts::v1_cgroupfs_runtimes(),
        ),
        ("v2_systemd_runtimes", runtime_hosts::v2_systemd_runtimes()),
    ]
}
