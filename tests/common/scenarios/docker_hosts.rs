//! One Docker container (or a runc one) on each cgroup layout, with every control file the
//! readers know: the hosts of tests/fixture_trees.rs and the JSON contract's snapshots.
//!
//! - [`v2_docker_systemd`]: v2 only, Docker with the systemd cgroup driver
//!   (`/system.slice/docker-<id>.scope`), a private cgroup namespace;
//! - [`v1_docker_cgroupfs`]: v1 only, Docker with the cgroupfs driver (`/docker/<id>` in every
//!   hierarchy), a `docker exec` beside the container's init, its netns bind-mounted by Docker;
//! - [`hybrid_runc`]: hybrid like the development machines (v1 controllers, an almost empty
//!   cgroup2 at /sys/fs/cgroup/unified), a runc container in `/nsview-test-3000/c1`;
//! - [`v2_broken_files`]: processes and cgroups whose files are missing, cut short or garbage;
//! - [`v2_netns_bind_mounts`]: [`v2_docker_systemd`] plus network namespaces held only by
//!   bind mounts, one of them only in a private mount namespace.

use crate::common::fixture::{Host, Ns};

#[allow(unused_imports)] // for the test files that glob-import this scenario
pub use super::{HOST_NET, UNLIMITED, V1_KEYS};

/// A Docker container ID (64 hex digits).
pub const CID: &str = "4f1d6e2b9c8a7f3e5d0c1b2a39485766a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0";

// Namespaces of the container (made up, in the range the kernel hands out).
pub const CT_MNT: u64 = 4026532380;
pub const CT_UTS: u64 = 4026532381;
pub const CT_IPC: u64 = 4026532382;
pub const CT_PID: u64 = 4026532383;
pub const CT_NET: u64 = 4026532385;
pub const CT_CGROUP: u64 = 4026532446;

/// Docker's devices.list for a container (deny all, then the default allow list), in the order a
/// Docker 20.10 container on cgroup v1 shows it.
pub const DOCKER_DEVICES_LIST: &str = "c 1:5 rwm
c 1:3 rwm
c 1:9 rwm
c 1:8 rwm
c 5:0 rwm
c 5:1 rwm
c *:* m
b *:* m
c 1:7 rwm
c 136:* rwm
c 5:2 rwm
c 10:200 rwm
";

pub const PSI_ZERO: &str = "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n";

pub fn docker_v1_path() -> String {
    format!("/docker/{CID}")
}

pub fn docker_scope() -> String {
    format!("/system.slice/docker-{CID}.scope")
}

pub fn container_ns() -> Ns {
    Ns::host()
        .with("mnt", CT_MNT)
        .with("uts", CT_UTS)
        .with("ipc", CT_IPC)
        .with("pid", CT_PID)
        .with("net", CT_NET)
}

/// The mountinfo of a Docker container's mount namespace (overlay root, its own /proc, /dev,
/// /sys, and the cgroup hierarchies mounted read-only with their root at the container's cgroup).
pub fn container_mountinfo(cgroup_lines: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = vec![
        "684 600 0:52 / / rw,relatime master:306 - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/QK3T2Y5O6J:/var/lib/docker/overlay2/l/B7XG4W2Z,upperdir=/var/lib/docker/overlay2/9d2e/diff,workdir=/var/lib/docker/overlay2/9d2e/work".into(),
        "685 684 0:55 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw".into(),
        "686 684 0:56 / /dev rw,nosuid - tmpfs tmpfs rw,size=65536k,mode=755".into(),
        "687 686 0:57 / /dev/pts rw,nosuid,noexec,relatime - devpts devpts rw,gid=5,mode=620,ptmxmode=666".into(),
        "690 684 0:60 / /sys ro,nosuid,nodev,noexec,relatime - sysfs sysfs ro".into(),
    ];
    v.extend(cgroup_lines.iter().map(|s| s.to_string()));
    v
}

// ---------------------------------------------------------------------------------------------
// Fixture 1: v2-only host, Docker with the systemd cgroup driver.

pub fn v2_docker_systemd() -> Host {
    let scope = docker_scope();
    // Docker on cgroup v2 defaults to a private cgroup namespace.
    let ct = container_ns().with("cgroup", CT_CGROUP);
    Host::new()
        .mount_v2("/sys/fs/cgroup", "cpuset cpu io memory pids")
        .process(1, 0, "systemd", &[], Ns::host(), &[("unified", "/init.scope")])
        .edit(1, |p| {
            p.args("/sbin/init splash");
        })
        .process(2, 0, "kthreadd", &[], Ns::host(), &[])
        .edit(2, |p| {
            p.kernel_thread = true;
            p.cmdline.clear();
        })
        .process(830, 1, "dockerd", &[], Ns::host(), &[("unified", "/system.slice/docker.service")])
        .edit(830, |p| {
            p.args("/usr/bin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock");
        })
        .process(7120, 1, "containerd-shim", &[], Ns::host(), &[("unified", "/system.slice/containerd.service")])
        .edit(7120, |p| {
            p.args(&format!(
                "/usr/bin/containerd-shim-runc-v2 -namespace moby -id {CID} -address /run/containerd/containerd.sock"
            ));
        })
        .process(7146, 7120, "sleep", &[7146, 1], ct, &[("unified", scope.as_str())])
        .edit(7146, |p| {
            p.args("sleep 100000");
            p.mountinfo = Some(container_mountinfo(&[
                "691 690 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec,relatime - cgroup2 cgroup rw,nsdelegate,memory_recursiveprot",
            ]));
        })
        .process(4100, 1, "bash", &[], Ns::host(), &[("unified", "/user.slice/user-1000.slice/session-1.scope")])
        .edit(4100, |p| {
            p.args("-bash");
            p.uid = 1000;
        })
        .cgroup(
            "unified",
            "/",
            &[
                ("cgroup.subtree_control", "cpuset cpu io memory pids\n"),
                ("cgroup.max.depth", "max\n"),
                ("cgroup.stat", "nr_descendants 9\nnr_dying_descendants 0\n"),
                ("cpu.stat", "usage_usec 24080691\nuser_usec 13030695\nsystem_usec 11049996\nnice_usec 0\n"),
                ("cpu.pressure", "some avg10=0.65 avg60=0.45 avg300=0.37 total=2815841\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"),
                ("memory.pressure", PSI_ZERO),
                ("io.pressure", PSI_ZERO),
                ("cpuset.cpus.effective", "0-1\n"),
                ("cpuset.mems.effective", "0\n"),
                ("memory.stat", "anon 104857600\nfile 524288000\n"),
            ],
        )
        .cgroup(
            "unified",
            "/init.scope",
            &[
                ("cgroup.type", "domain\n"),
                ("cgroup.freeze", "0\n"),
                ("cpu.weight", "100\n"),
                ("memory.max", "max\n"),
                ("memory.current", "9437184\n"),
                ("pids.max", "max\n"),
                ("pids.current", "1\n"),
            ],
        )
        .cgroup(
            "unified",
            "/system.slice",
            &[
                // A parent with controllers enabled in subtree_control holds no process.
                ("cgroup.procs", ""),
                ("cgroup.subtree_control", "cpu memory pids\n"),
                ("cgroup.freeze", "0\n"),
                ("cpu.weight", "100\n"),
                ("cpu.max", "max 100000\n"),
                ("memory.max", "max\n"),
                ("memory.high", "max\n"),
                ("memory.current", "734003200\n"),
                ("pids.max", "max\n"),
                ("pids.current", "37\n"),
            ],
        )
        .cgroup(
            "unified",
            &scope,
            &[
                ("cgroup.type", "domain\n"),
                ("cgroup.events", "populated 1\nfrozen 0\n"),
                ("cgroup.freeze", "0\n"),
                ("cpu.weight", "174\n"),
                ("cpu.idle", "0\n"),
                ("cpu.max", "50000 100000\n"),
                (
                    "cpu.stat",
                    "usage_usec 48213\nuser_usec 30122\nsystem_usec 18091\nnice_usec 0\nnr_periods 12\nnr_throttled 2\nthrottled_usec 3120\nnr_bursts 0\nburst_usec 0\n",
                ),
                ("cpuset.cpus", "0\n"),
                ("cpuset.cpus.effective", "0\n"),
                ("cpuset.mems.effective", "0\n"),
                ("memory.max", "134217728\n"),
                ("memory.high", "max\n"),
                ("memory.low", "0\n"),
                ("memory.min", "0\n"),
                ("memory.swap.max", "134217728\n"),
                ("memory.current", "4321280\n"),
                ("memory.peak", "5242880\n"),
                ("memory.swap.current", "0\n"),
                ("memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\noom_group_kill 0\n"),
                ("memory.oom.group", "1\n"),
                ("pids.max", "max\n"),
                ("pids.current", "1\n"),
                ("cpu.pressure", "some avg10=1.52 avg60=0.48 avg300=0.10 total=2815841\nfull avg10=0.25 avg60=0.05 avg300=0.01 total=93466\n"),
                ("memory.pressure", PSI_ZERO),
                ("io.pressure", "some avg10=0.12 avg60=0.05 avg300=0.01 total=96311\nfull avg10=0.12 avg60=0.04 avg300=0.01 total=90210\n"),
            ],
        )
}

// ---------------------------------------------------------------------------------------------
// Fixture 2: v1-only host, Docker with the cgroupfs driver (/docker/<id> in every hierarchy).

pub const DOCKER_NETNS: &str = "/run/docker/netns/1a2b3c4d5e6f";

pub fn v1_docker_cgroupfs() -> Host {
    let d = docker_v1_path();
    let cg_lines: Vec<String> = [
        ("cpu,cpuacct", "cpu,cpuacct"),
        ("memory", "memory"),
        ("devices", "devices"),
        ("pids", "pids"),
        ("freezer", "freezer"),
        ("systemd", "xattr,name=systemd"),
    ]
    .iter()
    .enumerate()
    .map(|(i, (dir, opts))| {
        format!(
            "{} 691 0:{} {d} /sys/fs/cgroup/{dir} ro,nosuid,nodev,noexec,relatime master:{} - cgroup cgroup rw,{opts}",
            692 + i,
            30 + i,
            16 + i
        )
    })
    .collect();
    let mut ct_lines: Vec<&str> = vec![
        "691 690 0:61 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - tmpfs tmpfs rw,mode=755",
    ];
    ct_lines.extend(cg_lines.iter().map(String::as_str));
    let ct_mountinfo = container_mountinfo(&ct_lines);
    let ct_mountinfo2 = ct_mountinfo.clone();

    Host::new()
        .mount_v1("name=systemd", "/sys/fs/cgroup/systemd")
        .mount_v1("cpu,cpuacct", "/sys/fs/cgroup/cpu,cpuacct")
        .mount_v1("memory", "/sys/fs/cgroup/memory")
        .mount_v1("devices", "/sys/fs/cgroup/devices")
        .mount_v1("pids", "/sys/fs/cgroup/pids")
        .mount_v1("freezer", "/sys/fs/cgroup/freezer")
        .bind_ns(DOCKER_NETNS, "net", CT_NET)
        .process(1, 0, "systemd", &[], Ns::host(), &[("name=systemd", "/init.scope")])
        .edit(1, |p| {
            p.args("/sbin/init");
        })
        .process(2, 0, "kthreadd", &[], Ns::host(), &[])
        .edit(2, |p| {
            p.kernel_thread = true;
            p.cmdline.clear();
        })
        .process(640, 1, "dockerd", &[], Ns::host(), &[("name=systemd", "/system.slice/docker.service")])
        .edit(640, |p| {
            p.args("/usr/bin/dockerd -H fd:// --exec-opt native.cgroupdriver=cgroupfs");
        })
        .process(4100, 1, "bash", &[], Ns::host(), &[("name=systemd", "/user.slice/user-1000.slice/session-1.scope")])
        .edit(4100, |p| {
            p.args("-bash");
            p.uid = 1000;
        })
        .process(7120, 1, "containerd-shim", &[], Ns::host(), &[("name=systemd", "/system.slice/containerd.service")])
        .edit(7120, |p| {
            p.args(&format!(
                "/usr/bin/containerd-shim-runc-v2 -namespace moby -id {CID} -address /run/containerd/containerd.sock"
            ));
        })
        // The container's init: PID 1 of a new pid namespace.
        .process(7146, 7120, "sleep", &[7146, 1], container_ns(), &[("*", d.as_str())])
        .edit(7146, move |p| {
            p.args("sleep 100000");
            p.mountinfo = Some(ct_mountinfo);
        })
        // `docker exec` into it: the shim's child, PID 7 inside.
        .process(7160, 7120, "sh", &[7160, 7], container_ns(), &[("*", d.as_str())])
        .edit(7160, move |p| {
            p.args("/bin/sh");
            p.mountinfo = Some(ct_mountinfo2);
        })
        // cpu,cpuacct
        .cgroup(
            "cpu,cpuacct",
            "/",
            &[
                ("cpu.shares", "1024\n"),
                ("cpu.cfs_quota_us", "-1\n"),
                ("cpu.cfs_period_us", "100000\n"),
                ("cpuacct.usage", "98431877213\n"),
                ("cgroup.clone_children", "0\n"),
                ("notify_on_release", "0\n"),
            ],
        )
        .cgroup(
            "cpu,cpuacct",
            "/docker",
            &[
                ("cpu.shares", "1024\n"),
                ("cpu.cfs_quota_us", "-1\n"),
                ("cpu.cfs_period_us", "100000\n"),
                ("cpuacct.usage", "48213377\n"),
            ],
        )
        .cgroup(
            "cpu,cpuacct",
            &d,
            &[
                ("cpu.shares", "2048\n"),
                ("cpu.cfs_quota_us", "-1\n"),
                ("cpu.cfs_period_us", "100000\n"),
                ("cpuacct.usage", "48213377\n"),
                // cpuacct prints each CPU followed by a space.
                ("cpuacct.usage_percpu", "24106688 24106689 \n"),
                ("cgroup.clone_children", "0\n"),
                ("notify_on_release", "0\n"),
            ],
        )
        // memory
        .cgroup(
            "memory",
            "/",
            &[
                ("memory.limit_in_bytes", UNLIMITED),
                ("memory.soft_limit_in_bytes", UNLIMITED),
                ("memory.usage_in_bytes", "1521692672\n"),
                ("memory.max_usage_in_bytes", "1887436800\n"),
                ("memory.failcnt", "0\n"),
                ("memory.use_hierarchy", "1\n"),
                ("memory.swappiness", "60\n"),
            ],
        )
        .cgroup(
            "memory",
            "/docker",
            &[
                ("memory.limit_in_bytes", UNLIMITED),
                ("memory.soft_limit_in_bytes", UNLIMITED),
                ("memory.usage_in_bytes", "3977216\n"),
                ("memory.max_usage_in_bytes", "5431296\n"),
                ("memory.failcnt", "0\n"),
            ],
        )
        .cgroup(
            "memory",
            &d,
            &[
                ("memory.limit_in_bytes", "134217728\n"),
                ("memory.soft_limit_in_bytes", UNLIMITED),
                ("memory.memsw.limit_in_bytes", "268435456\n"),
                ("memory.usage_in_bytes", "3977216\n"),
                ("memory.max_usage_in_bytes", "5431296\n"),
                ("memory.failcnt", "0\n"),
                ("memory.memsw.usage_in_bytes", "3977216\n"),
                ("memory.memsw.max_usage_in_bytes", "5431296\n"),
                ("memory.memsw.failcnt", "0\n"),
                ("memory.swappiness", "60\n"),
                ("memory.use_hierarchy", "1\n"),
                ("memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n"),
                ("memory.kmem.limit_in_bytes", UNLIMITED),
            ],
        )
        // devices: the root and /docker allow all; the container denies all, then allows a list.
        .cgroup("devices", "/", &[("devices.list", "a *:* rwm\n")])
        .cgroup("devices", "/docker", &[("devices.list", "a *:* rwm\n")])
        .cgroup("devices", &d, &[("devices.list", DOCKER_DEVICES_LIST)])
        // pids: no pids.max on the root cgroup.
        .cgroup("pids", "/docker", &[("pids.max", "max\n"), ("pids.current", "2\n")])
        .cgroup("pids", &d, &[("pids.max", "max\n"), ("pids.current", "2\n"), ("pids.events", "max 0\n")])
        // freezer: no freezer.state on the root cgroup.
        .cgroup(
            "freezer",
            "/docker",
            &[("freezer.state", "THAWED\n"), ("freezer.self_freezing", "0\n"), ("freezer.parent_freezing", "0\n")],
        )
        .cgroup(
            "freezer",
            &d,
            &[("freezer.state", "THAWED\n"), ("freezer.self_freezing", "0\n"), ("freezer.parent_freezing", "0\n")],
        )
        .cgroup_in(&["name=systemd"], &d, &[("notify_on_release", "0\n")])
}

// ---------------------------------------------------------------------------------------------
// Fixture 3: hybrid host like the development machines.

pub const HYBRID_V1: [(&str, &str); 9] = [
    ("cpu", "/sys/fs/cgroup/cpu"),
    ("cpuacct", "/sys/fs/cgroup/cpuacct"),
    ("cpuset", "/sys/fs/cgroup/cpuset"),
    ("memory", "/sys/fs/cgroup/memory"),
    ("devices", "/sys/fs/cgroup/devices"),
    ("freezer", "/sys/fs/cgroup/freezer"),
    ("blkio", "/sys/fs/cgroup/blkio"),
    ("pids", "/sys/fs/cgroup/pids"),
    ("name=systemd", "/sys/fs/cgroup/systemd"),
];
pub const SUPERVISOR_CG: &str = "/process_api/77865b2618554613070398ea99a87720";
pub const RUNC_CG: &str = "/nsview-test-3000/c1";

pub fn hybrid_runc() -> Host {
    let mut h = Host::new();
    for (key, mp) in HYBRID_V1 {
        h = h.mount_v1(key, mp);
    }
    h.mount_v2("/sys/fs/cgroup/unified", "hugetlb")
        .process(
            1,
            0,
            "process_api",
            &[],
            Ns::host(),
            &[("memory", SUPERVISOR_CG)],
        )
        .edit(1, |p| {
            p.args("/process_api --addr 0.0.0.0:2024");
        })
        .process(2, 0, "kthreadd", &[], Ns::host(), &[])
        .edit(2, |p| {
            p.kernel_thread = true;
            p.cmdline.clear();
        })
        .process(
            3100,
            3090,
            "sh",
            &[3100, 1],
            container_ns(),
            &[("*", RUNC_CG)],
        )
        .edit(3100, |p| {
            p.args("sh -c sleep 1000");
        })
        .process(
            3090,
            1,
            "runc",
            &[],
            Ns::host(),
            &[("memory", SUPERVISOR_CG)],
        )
        .edit(3090, |p| {
            p.args("runc run -d c1");
        })
        .cgroup(
            "memory",
            "/",
            &[
                ("memory.limit_in_bytes", UNLIMITED),
                ("memory.usage_in_bytes", "812769280\n"),
            ],
        )
        .cgroup(
            "memory",
            SUPERVISOR_CG,
            &[("memory.limit_in_bytes", "4294967296\n")],
        )
        .cgroup(
            "memory",
            RUNC_CG,
            &[
                ("memory.limit_in_bytes", "67108864\n"),
                ("memory.usage_in_bytes", "1183744\n"),
            ],
        )
        .cgroup(
            "cpu",
            RUNC_CG,
            &[
                ("cpu.shares", "512\n"),
                ("cpu.cfs_quota_us", "50000\n"),
                ("cpu.cfs_period_us", "100000\n"),
            ],
        )
        .cgroup(
            "cpuset",
            RUNC_CG,
            &[("cpuset.cpus", "0-1\n"), ("cpuset.mems", "0\n")],
        )
        .cgroup("devices", "/", &[("devices.list", "a *:* rwm\n")])
        .cgroup("devices", RUNC_CG, &[("devices.list", "c 1:3 rwm\n")])
        .cgroup(
            "unified",
            "/",
            &[(
                "cpu.stat",
                "usage_usec 24080691\nuser_usec 13030695\nsystem_usec 11049996\nnice_usec 0\n",
            )],
        )
}

// ---------------------------------------------------------------------------------------------
// Robustness: broken files.

pub fn v2_broken_files() -> Host {
    Host::new()
        .mount_v2("/sys/fs/cgroup", "cpu memory pids")
        .process(1, 0, "systemd", &[], Ns::host(), &[])
        .edit(1, |p| {
            p.args("/sbin/init");
        })
        // status unreadable (gone)
        .process(500, 1, "nostatus", &[], Ns::host(), &[])
        .edit(500, |p| p.omit.push("status".into()))
        // ns links that do not read as TYPE:[INODE]: a symlink loop (stat fails with ELOOP and
        // readlink gives "net"), empty brackets, a non-number, and no time link at all.
        .process(
            501,
            1,
            "badns",
            &[],
            Ns::host()
                .raw("net", "net")
                .raw("uts", "uts:[]")
                .raw("ipc", "ipc:[12x]")
                .without("time"),
            &[],
        )
        // stat cut short
        .process(503, 1, "badstat", &[], Ns::host(), &[])
        .edit(503, |p| {
            p.raw.push(("stat".into(), b"503 (badstat".to_vec()))
        })
        // comm may hold spaces and parentheses (prctl PR_SET_NAME): stat must be split at the last ')'.
        .process(504, 1, "a) b", &[], Ns::host(), &[])
        .process(505, 1, "(sd-pam)", &[], Ns::host(), &[])
        .edit(505, |p| {
            p.args("(sd-pam)");
            p.uid = 1000;
        })
        // a process that vanished between readdir and open
        .dir("proc/502")
        .cgroup(
            "unified",
            "/bad",
            &[
                ("cpu.weight", "lots\n"),
                ("memory.max", "12abc\n"),
                ("cpu.max", "banana 100000\n"),
                ("memory.low", ""),
                ("pids.current", ""),
                ("memory.pressure", "some avg10=zero\n"),
                ("memory.high", "max\n"),
                ("memory.current", "1048576\n"),
            ],
        )
        .cgroup(
            "unified",
            "/empty",
            &[("cgroup.procs", ""), ("pids.max", "max\n")],
        )
}

// ---------------------------------------------------------------------------------------------
// Namespaces held only by bind mounts.

pub const NETNS_X: u64 = 4026532999;
pub const NETNS_Y: u64 = 4026533000;
pub const PRIVATE_MNT: u64 = 4026532700;

pub fn v2_netns_bind_mounts() -> Host {
    let h = v2_docker_systemd()
        .mount_raw("120 27 0:24 /netns /run/netns rw,nosuid,nodev,noexec,relatime shared:5 - tmpfs tmpfs rw,size=804100k,mode=755")
        .bind_ns("/run/netns/x", "net", NETNS_X);
    // A process in a private mount namespace where `ip netns add y` ran: /run/netns/y is only in
    // that namespace's mountinfo.
    let mut mi: Vec<String> = h
        .mountinfo()
        .into_iter()
        .filter(|l| !l.contains("/run/netns/x"))
        .collect();
    mi.push(format!(
        "300 120 0:4 net:[{NETNS_Y}] /run/netns/y rw - nsfs nsfs rw"
    ));
    h.process(
        2200,
        4100,
        "unshare",
        &[],
        Ns::host().with("mnt", PRIVATE_MNT),
        &[("unified", "/user.slice/user-1000.slice/session-1.scope")],
    )
    .edit(2200, move |p| {
        p.args("unshare --mount sleep 1000");
        p.mountinfo = Some(mi);
    })
}
