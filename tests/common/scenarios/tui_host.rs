//! The host of the TUI's screens (tests/tui_screens.rs): hybrid (v1 controllers and an empty
//! cgroup2 at /sys/fs/cgroup/unified) with Docker's cgroupfs driver, two containers (web-1, and
//! batch: paused, on the host's network), one bare isolation group and one named netns.

use crate::common::fixture::{Host, Ns};

#[allow(unused_imports)] // for the test files that glob-import this scenario
pub use super::{HOST_NET, UNLIMITED as NO_LIMIT};

/// web-1's ID (64 hex digits); its cgroup is /docker/<CID> in every hierarchy.
pub const CID: &str = "8d3f2a71c9e04b5a6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9012345678";
/// batch's ID: `docker run --network host --cpu-shares 512`, then `docker pause`.
pub const BATCH_CID: &str = "b47c0e5d9a8f7e6d5c4b3a29180716f5e4d3c2b1a09f8e7d6c5b4a3928170605";

// The container's namespaces (`docker run --hostname web-1`): mnt uts ipc pid net.
pub const WEB_MNT: u64 = 4026532601;
pub const WEB_UTS: u64 = 4026532602;
pub const WEB_IPC: u64 = 4026532603;
pub const WEB_PID: u64 = 4026532604;
pub const WEB_NET: u64 = 4026532606;
// A process in a new uts and net namespace only (`unshare --uts --net`), hostname "sandbox".
// batch's namespaces: mnt uts ipc pid of its own, the host's network.
pub const BATCH_MNT: u64 = 4026532651;
pub const BATCH_UTS: u64 = 4026532652;
pub const BATCH_IPC: u64 = 4026532653;
pub const BATCH_PID: u64 = 4026532654;
pub const BOX_UTS: u64 = 4026532701;
pub const BOX_NET: u64 = 4026532703;
// `ip netns add blue`: a network namespace held only by its bind mount.
pub const BLUE_NET: u64 = 4026532800;
pub const HOST_PID: u64 = 4026531836;
pub const HOST_USER: u64 = 4026531837;

pub const V1: [(&str, &str); 6] = [
    ("name=systemd", "/sys/fs/cgroup/systemd"),
    ("cpu,cpuacct", "/sys/fs/cgroup/cpu,cpuacct"),
    ("memory", "/sys/fs/cgroup/memory"),
    ("devices", "/sys/fs/cgroup/devices"),
    ("pids", "/sys/fs/cgroup/pids"),
    ("freezer", "/sys/fs/cgroup/freezer"),
];

/// devices.list of a Docker 20.10 container: deny all, then its default allow list.
pub const WEB_DEVICES: &str = "c 1:5 rwm\nc 1:3 rwm\nc 1:9 rwm\nc 1:8 rwm\nc 5:0 rwm\nc 5:1 rwm\n\
c *:* m\nb *:* m\nc 1:7 rwm\nc 136:* rwm\nc 5:2 rwm\nc 10:200 rwm\n";

/// CPU time (ns) of the container's and the root cpuacct cgroup.
pub const WEB_CPU_NS: i64 = 7_000_000_000;
pub const ROOT_CPU_NS: i64 = 900_000_000_000;

pub fn web_cgroup() -> String {
    format!("/docker/{CID}")
}

pub fn batch_cgroup() -> String {
    format!("/docker/{BATCH_CID}")
}

/// Docker's record of a container (/var/lib/docker/containers/<id>/config.v2.json), as the
/// collector reads it when the daemon does not answer: name, image, labels, state.
pub fn docker_record(name: &str, image: &str, paused: bool, labels: &str) -> Vec<u8> {
    format!(
        r#"{{"State":{{"Running":true,"Paused":{paused},"Restarting":false,"Pid":0}},"ID":"","Name":"/{name}","Config":{{"Image":"{image}","Labels":{{{labels}}}}},"Driver":"overlay2"}}"#
    )
    .into_bytes()
}

pub fn web_ns() -> Ns {
    Ns::host()
        .with("mnt", WEB_MNT)
        .with("uts", WEB_UTS)
        .with("ipc", WEB_IPC)
        .with("pid", WEB_PID)
        .with("net", WEB_NET)
}

pub fn hybrid_docker_cgroupfs() -> Host {
    let web = web_cgroup();
    let batch = batch_cgroup();
    let session = "/user.slice/user-1000.slice/session-2.scope";
    let mut h = Host::new();
    for (key, mount) in V1 {
        h = h.mount_v1(key, mount);
    }
    h.mount_v2("/sys/fs/cgroup/unified", "")
        .bind_ns("/run/netns/blue", "net", BLUE_NET)
        .process(1, 0, "systemd", &[], Ns::host(), &[("*", "/init.scope")])
        .edit(1, |p| {
            p.args("/sbin/init");
        })
        .process(2, 0, "kthreadd", &[], Ns::host(), &[])
        .edit(2, |p| {
            p.kernel_thread = true;
            p.cmdline.clear();
        })
        .process(
            640,
            1,
            "dockerd",
            &[],
            Ns::host(),
            &[("name=systemd", "/system.slice/docker.service")],
        )
        .edit(640, |p| {
            p.args("/usr/sbin/dockerd --exec-opt native.cgroupdriver=cgroupfs");
        })
        .process(
            4100,
            1,
            "bash",
            &[],
            Ns::host(),
            &[("name=systemd", session)],
        )
        .edit(4100, |p| {
            p.args("-bash");
            p.uid = 1000;
        })
        .process(
            7120,
            1,
            "containerd-shim",
            &[],
            Ns::host(),
            &[("name=systemd", "/system.slice/containerd.service")],
        )
        .edit(7120, |p| {
            p.args(&format!(
                "/usr/bin/containerd-shim-runc-v2 -namespace moby -id {CID}"
            ));
        })
        // The container: nginx as PID 1 of its pid namespace, and one worker (uid 101 inside).
        .process(
            7146,
            7120,
            "nginx",
            &[7146, 1],
            web_ns(),
            &[("*", web.as_str())],
        )
        .edit(7146, |p| {
            p.cmdline = vec!["nginx: master process nginx -g daemon off;".into()];
        })
        .process(
            7190,
            7146,
            "nginx",
            &[7190, 29],
            web_ns(),
            &[("*", web.as_str())],
        )
        .edit(7190, |p| {
            p.cmdline = vec!["nginx: worker process".into()];
            p.uid = 101;
        })
        // batch: python as PID 1 of its pid namespace, in the host's network namespace.
        .process(
            7780,
            1,
            "containerd-shim",
            &[],
            Ns::host(),
            &[("name=systemd", "/system.slice/containerd.service")],
        )
        .edit(7780, |p| {
            p.args(&format!(
                "/usr/bin/containerd-shim-runc-v2 -namespace moby -id {BATCH_CID}"
            ));
        })
        .process(
            7794,
            7780,
            "python3",
            &[7794, 1],
            Ns::host()
                .with("mnt", BATCH_MNT)
                .with("uts", BATCH_UTS)
                .with("ipc", BATCH_IPC)
                .with("pid", BATCH_PID),
            &[("*", batch.as_str())],
        )
        .edit(7794, |p| {
            p.args("python3 /app/batch.py");
        })
        // `unshare --uts --net sleep 1000` from the user's shell: private uts and net only.
        .process(
            8300,
            4100,
            "sleep",
            &[],
            Ns::host().with("uts", BOX_UTS).with("net", BOX_NET),
            &[("name=systemd", session)],
        )
        .edit(8300, |p| {
            p.args("sleep 1000");
        })
        // cpu,cpuacct
        .cgroup(
            "cpu,cpuacct",
            "/",
            &[
                ("cpu.shares", "1024\n"),
                ("cpu.cfs_quota_us", "-1\n"),
                ("cpu.cfs_period_us", "100000\n"),
                ("cpuacct.usage", &format!("{ROOT_CPU_NS}\n")),
            ],
        )
        .cgroup(
            "cpu,cpuacct",
            "/docker",
            &[
                ("cpu.shares", "1024\n"),
                ("cpu.cfs_quota_us", "-1\n"),
                ("cpu.cfs_period_us", "100000\n"),
                ("cpuacct.usage", &format!("{WEB_CPU_NS}\n")),
            ],
        )
        .cgroup(
            "cpu,cpuacct",
            &web,
            &[
                ("cpu.shares", "2048\n"),
                ("cpu.cfs_quota_us", "-1\n"),
                ("cpu.cfs_period_us", "100000\n"),
                ("cpuacct.usage", &format!("{WEB_CPU_NS}\n")),
            ],
        )
        // memory: `docker run --memory 128m`
        .cgroup(
            "memory",
            "/",
            &[
                ("memory.limit_in_bytes", NO_LIMIT),
                ("memory.usage_in_bytes", "1521692672\n"),
                ("memory.max_usage_in_bytes", "1887436800\n"),
                ("memory.failcnt", "0\n"),
            ],
        )
        .cgroup(
            "memory",
            "/docker",
            &[
                ("memory.limit_in_bytes", NO_LIMIT),
                ("memory.usage_in_bytes", "9437184\n"),
                ("memory.max_usage_in_bytes", "12582912\n"),
                ("memory.failcnt", "0\n"),
            ],
        )
        .cgroup(
            "memory",
            &web,
            &[
                ("memory.limit_in_bytes", "134217728\n"),
                ("memory.usage_in_bytes", "9437184\n"),
                ("memory.max_usage_in_bytes", "12582912\n"),
                ("memory.failcnt", "3\n"),
            ],
        )
        // devices: the root and /docker allow all; the container denies all, then allows a list.
        .cgroup("devices", "/", &[("devices.list", "a *:* rwm\n")])
        .cgroup("devices", "/docker", &[("devices.list", "a *:* rwm\n")])
        .cgroup("devices", &web, &[("devices.list", WEB_DEVICES)])
        // pids: `--pids-limit 512`
        .cgroup(
            "pids",
            "/docker",
            &[("pids.max", "max\n"), ("pids.current", "2\n")],
        )
        .cgroup(
            "pids",
            &web,
            &[("pids.max", "512\n"), ("pids.current", "2\n")],
        )
        .cgroup("freezer", &web, &[("freezer.state", "THAWED\n")])
        // batch: `--cpu-shares 512`, no memory or pids limit, paused (frozen).
        .cgroup(
            "cpu,cpuacct",
            &batch,
            &[
                ("cpu.shares", "512\n"),
                ("cpu.cfs_quota_us", "-1\n"),
                ("cpu.cfs_period_us", "100000\n"),
                ("cpuacct.usage", "120000000000\n"),
            ],
        )
        .cgroup(
            "memory",
            &batch,
            &[
                ("memory.limit_in_bytes", NO_LIMIT),
                ("memory.usage_in_bytes", "1048576\n"),
                ("memory.max_usage_in_bytes", "2097152\n"),
                ("memory.failcnt", "0\n"),
            ],
        )
        .cgroup("devices", &batch, &[("devices.list", WEB_DEVICES)])
        .cgroup(
            "pids",
            &batch,
            &[("pids.max", "max\n"), ("pids.current", "1\n")],
        )
        .cgroup("freezer", &batch, &[("freezer.state", "FROZEN\n")])
        // Docker's records: names, images, compose labels; batch is paused.
        .file(
            &format!("var/lib/docker/containers/{CID}/config.v2.json"),
            &docker_record(
                "web-1",
                "nginx:1.25",
                false,
                r#""com.docker.compose.project":"shop","com.docker.compose.service":"web""#,
            ),
        )
        .file(
            &format!("var/lib/docker/containers/{BATCH_CID}/config.v2.json"),
            &docker_record("batch", "python:3.12-slim", true, ""),
        )
        // A service that has ended leaves its (empty) cgroup behind; z hides it.
        .cgroup(
            "memory",
            "/system.slice/cron.service",
            &[
                ("memory.limit_in_bytes", NO_LIMIT),
                ("memory.usage_in_bytes", "0\n"),
            ],
        )
}
