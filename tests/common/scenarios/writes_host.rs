//! The host `nsview set` writes to in tests/fixture_writes.rs: v2 only, laid out like a systemd
//! machine, one service ([`WEB`]) with every v2 limit file.

use crate::common::fixture::{Host, Ns};

pub const WEB: &str = "/system.slice/web.scope";

pub fn v2_web_scope() -> Host {
    Host::new()
        .mount_v2("/sys/fs/cgroup", "cpuset cpu io memory pids")
        .process(
            1,
            0,
            "systemd",
            &[],
            Ns::host(),
            &[("unified", "/init.scope")],
        )
        .process(500, 1, "nginx", &[], Ns::host(), &[("unified", WEB)])
        .cgroup(
            "unified",
            "/",
            &[
                ("cgroup.subtree_control", "cpuset cpu io memory pids\n"),
                ("cpuset.cpus.effective", "0-3\n"),
                ("cpuset.mems.effective", "0\n"),
            ],
        )
        .cgroup(
            "unified",
            "/system.slice",
            &[
                ("cgroup.procs", ""),
                ("cgroup.subtree_control", "cpuset cpu memory pids\n"),
                ("cpuset.cpus.effective", "0-1\n"),
                ("cpuset.mems.effective", "0\n"),
            ],
        )
        .cgroup(
            "unified",
            WEB,
            &[
                ("cgroup.events", "populated 1\nfrozen 0\n"),
                ("cgroup.freeze", "0\n"),
                ("cpu.weight", "100\n"),
                ("cpu.max", "max 100000\n"),
                ("cpuset.cpus", "\n"),
                ("cpuset.mems", "\n"),
                ("memory.max", "max\n"),
                ("memory.high", "max\n"),
                ("memory.swap.max", "max\n"),
                ("memory.current", "2097152\n"),
                ("pids.max", "max\n"),
            ],
        )
}
