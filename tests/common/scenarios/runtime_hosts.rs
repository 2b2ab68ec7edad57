//! Every container cgroup layout of shared/docs/kernel-notes.md ("Container cgroup layouts"),
//! named from the runtimes' records in the tree: the hosts of tests/fixture_containers.rs and
//! the JSON contract's snapshots.
//!
//! - [`v1_cgroupfs_runtimes`]: v1, the cgroupfs drivers: Docker, podman, a Kubernetes pod
//!   (kubelet's cgroupfs driver), LXC old and new, runc, a bare isolation group;
//! - [`v2_systemd_runtimes`]: v2, the systemd drivers: Docker (named by the Engine API, see
//!   [`docker_api_body`]), podman, Kubernetes pods of containerd's CRI and of CRI-O, a
//!   systemd-nspawn machine and a libvirt VM.

use crate::common::fixture::{Host, Ns};

#[allow(unused_imports)] // for the test files that glob-import this scenario
pub use super::{HOST_NET, UNLIMITED, V1_KEYS};

// Container ids: 64 hex digits. The two Docker ones of the v1 host share a prefix.
pub const WEB: &str = "4f1d6e2b9c8a7f3e5d0c1b2a39485766a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0";
pub const BATCH: &str = "4f1d99aa9c8a7f3e5d0c1b2a39485766a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0";
pub const PODMAN: &str = "57656b20fb883085861e0047f87e29302bfb811ca3e13ab9308650b7070f2fd5";
pub const PAUSE: &str = "a1a1a1a1fb883085861e0047f87e29302bfb811ca3e13ab9308650b7070f2fd5";
pub const APP: &str = "b2b2b2b2fb883085861e0047f87e29302bfb811ca3e13ab9308650b7070f2fd5";
pub const API: &str = "c3c3c3c3fb883085861e0047f87e29302bfb811ca3e13ab9308650b7070f2fd5";
pub const CRIO: &str = "d4d4d4d4fb883085861e0047f87e29302bfb811ca3e13ab9308650b7070f2fd5";
pub const POD_UID: &str = "2f4b7d1e-8c3a-4e5f-9b6d-0a1c2e3f4a5b";
pub const POD2_UID: &str = "7c0ffee0-1111-4222-8333-944455556666";

/// Private mnt, uts, ipc, pid and net namespaces for container number `n`.
pub fn ct_ns(n: u64) -> Ns {
    let base = 4026533000 + n * 10;
    Ns::host()
        .with("mnt", base)
        .with("uts", base + 1)
        .with("ipc", base + 2)
        .with("pid", base + 3)
        .with("net", base + 4)
}

pub fn config_v2(name: &str, image: &str, running: bool, paused: bool) -> String {
    format!(
        r#"{{"StreamConfig":{{}},"State":{{"Running":{running},"Paused":{paused},"Restarting":false,"OOMKilled":false,"Dead":false,"Pid":0,"ExitCode":0,"Error":""}},"ID":"x","Created":"2024-05-01T10:00:00.000000000Z","Path":"sleep","Args":["100000"],"Config":{{"Hostname":"4f1d6e2b9c8a","Env":["PATH=/usr/bin"],"Cmd":["sleep","100000"],"Image":"{image}","Labels":{{"com.docker.compose.project":"shop"}}}},"Image":"sha256:1234","Name":"/{name}","Driver":"overlay2"}}"#
    )
}

pub fn containers_json_podman(id: &str, name: &str) -> String {
    format!(
        r#"[{{"id":"{id}","names":["{name}"],"image":"97662d24417b316f60607afbca9f226a2ba58f09d642f27b8e197a89859ddc8e","layer":"2115060fb7fe51dd2068d56ab4976450dd70f010051df5c5be7fd39fa98138a0","metadata":"{{\"image-name\":\"localhost/nsview-busybox:latest\",\"image-id\":\"97662d24417b316f60607afbca9f226a2ba58f09d642f27b8e197a89859ddc8e\",\"name\":\"{name}\",\"created-at\":1760200649}}","created":"2025-10-11T16:37:29.214855063Z","flags":{{"MountLabel":"","ProcessLabel":""}}}}]"#
    )
}

/// A v1 host with the cgroupfs drivers: Docker (/docker/<id>, one container paused and on the
/// host's network), podman (/libpod_parent/libpod-<id>, conmon beside it), a Kubernetes pod
/// (/kubepods/besteffort/pod<uid>/<id>), LXC new (/lxc.payload.web, its monitor beside it) and
/// old (/lxc/db), a runc container in a cgroup of its own, and an isolation group in a user's
/// session cgroup.
pub fn v1_cgroupfs_runtimes() -> Host {
    let mut h = Host::new();
    for key in V1_KEYS {
        let dir = key.strip_prefix("name=").unwrap_or(key);
        h = h.mount_v1(key, &format!("/sys/fs/cgroup/{dir}"));
    }
    let web = format!("/docker/{WEB}");
    let batch = format!("/docker/{BATCH}");
    let podman = format!("/libpod_parent/libpod-{PODMAN}");
    let pause = format!("/kubepods/besteffort/pod{POD_UID}/{PAUSE}");
    let app = format!("/kubepods/besteffort/pod{POD_UID}/{APP}");
    let session = "/user.slice/user-1000.slice/session-1.scope";
    let runc_state = r#"{"id":"c1","init_process_pid":1600,"init_process_start":123456,"created":"2024-05-01T10:00:00Z","config":{"rootfs":"/tmp/bundle/rootfs","cgroups":{"path":"/nsview-test-1/c1","resources":{}}},"cgroup_paths":{"memory":"/sys/fs/cgroup/memory/nsview-test-1/c1"}}"#;
    h.process(
        1,
        0,
        "systemd",
        &[],
        Ns::host(),
        &[("name=systemd", "/init.scope")],
    )
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
    .process(4100, 1, "bash", &[], Ns::host(), &[("*", session)])
    // Docker.
    .process(
        1000,
        990,
        "nginx",
        &[1000, 1],
        ct_ns(1),
        &[("*", web.as_str())],
    )
    .process(
        1001,
        1000,
        "nginx",
        &[1001, 7],
        ct_ns(1),
        &[("*", web.as_str())],
    )
    .process(
        1100,
        990,
        "sleep",
        &[1100, 1],
        ct_ns(2).with("net", HOST_NET),
        &[("*", batch.as_str())],
    )
    .file(
        &format!("var/lib/docker/containers/{WEB}/config.v2.json"),
        config_v2("web-1", "nginx:1.25", true, false).as_bytes(),
    )
    .file(
        &format!("var/lib/docker/containers/{BATCH}/config.v2.json"),
        config_v2("batch", "busybox-test", true, true).as_bytes(),
    )
    .cgroup(
        "memory",
        &web,
        &[
            ("memory.limit_in_bytes", "134217728\n"),
            ("memory.usage_in_bytes", "2097152\n"),
        ],
    )
    .cgroup(
        "memory",
        &batch,
        &[
            ("memory.limit_in_bytes", UNLIMITED),
            ("memory.usage_in_bytes", "1048576\n"),
        ],
    )
    .cgroup("freezer", &web, &[("freezer.state", "THAWED\n")])
    .cgroup("freezer", &batch, &[("freezer.state", "FROZEN\n")])
    // podman, and its conmon, which is not the container.
    .process(
        1199,
        1,
        "conmon",
        &[],
        Ns::host(),
        &[("*", "/libpod_parent/conmon")],
    )
    .process(
        1200,
        1199,
        "sleep",
        &[1200, 1],
        ct_ns(3),
        &[("*", podman.as_str())],
    )
    .file(
        "var/lib/containers/storage/overlay-containers/containers.json",
        containers_json_podman(PODMAN, "sleepy").as_bytes(),
    )
    // A Kubernetes pod (cgroupfs driver): its sandbox and one container.
    .process(
        1300,
        1290,
        "pause",
        &[1300, 1],
        ct_ns(4),
        &[("*", pause.as_str())],
    )
    .process(
        1310,
        1290,
        "nginx",
        &[1310, 1],
        ct_ns(4).with("pid", 4026533999).with("mnt", 4026533998),
        &[("*", app.as_str())],
    )
    .dir(&format!("var/log/pods/shop_web-7d9f_{POD_UID}/nginx"))
    // LXC 4+, and its monitor.
    .process(
        1399,
        1,
        "lxc-start",
        &[],
        Ns::host(),
        &[("*", "/lxc.monitor.web")],
    )
    .process(
        1400,
        1399,
        "init",
        &[1400, 1],
        ct_ns(5),
        &[("*", "/lxc.payload.web")],
    )
    .process(
        1401,
        1400,
        "sh",
        &[1401, 9],
        ct_ns(5),
        &[("*", "/lxc.payload.web/init.scope")],
    )
    .file("var/lib/lxc/web/config", b"lxc.uts.name = web\n")
    // LXC before 4.0.
    .process(1500, 1, "init", &[1500, 1], ct_ns(6), &[("*", "/lxc/db")])
    .file("var/lib/lxc/db/config", b"lxc.uts.name = db\n")
    // runc, in a cgroup of its own.
    .process(
        1600,
        1,
        "sh",
        &[1600, 1],
        ct_ns(7),
        &[("*", "/nsview-test-1/c1")],
    )
    .file("run/runc/c1/state.json", runc_state.as_bytes())
    // unshare in a user's session: a group, with no cgroup of its own.
    .process(1700, 4100, "sleep", &[1700, 1], ct_ns(8), &[("*", session)])
}

/// A v2 host with the systemd drivers: Docker (system.slice/docker-<id>.scope, named by the
/// Engine API), podman (machine.slice/libpod-<id>.scope/container, conmon in
/// libpod-conmon-<id>.scope), containerd's CRI (cri-containerd-<id>.scope in a burstable pod
/// slice), CRI-O (crio-<id>.scope in a guaranteed pod slice, conmon in crio-conmon-<id>.scope), a
/// systemd-nspawn machine (frozen) and a libvirt VM (not a container).
pub fn v2_systemd_runtimes() -> Host {
    let docker = format!("/system.slice/docker-{API}.scope");
    let podman = format!("/machine.slice/libpod-{PODMAN}.scope");
    let podman_ct = format!("{podman}/container");
    let slice_uid = POD_UID.replace('-', "_");
    let pod_slice =
        format!("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{slice_uid}.slice");
    let pause = format!("{pod_slice}/cri-containerd-{PAUSE}.scope");
    let app = format!("{pod_slice}/cri-containerd-{APP}.scope");
    let crio_slice = format!(
        "/kubepods.slice/kubepods-pod{}.slice",
        POD2_UID.replace('-', "_")
    );
    let crio = format!("{crio_slice}/crio-{CRIO}.scope");
    let machine = "/machine.slice/machine-deb\\x2d12.scope";
    let annotations = |kind: &str, name: Option<&str>, image: Option<&str>| {
        let mut a = vec![
            format!(r#""io.kubernetes.cri.container-type":"{kind}""#),
            r#""io.kubernetes.cri.sandbox-name":"api-5c6d""#.to_string(),
            r#""io.kubernetes.cri.sandbox-namespace":"shop""#.to_string(),
            format!(r#""io.kubernetes.cri.sandbox-uid":"{POD_UID}""#),
        ];
        if let Some(n) = name {
            a.push(format!(r#""io.kubernetes.cri.container-name":"{n}""#));
        }
        if let Some(i) = image {
            a.push(format!(r#""io.kubernetes.cri.image-name":"{i}""#));
        }
        format!(
            r#"{{"ociVersion":"1.1.0","process":{{"args":["/pause"],"cwd":"/"}},"root":{{"path":"rootfs"}},"annotations":{{{}}},"linux":{{"cgroupsPath":"kubepods-burstable-pod{slice_uid}.slice:cri-containerd:x"}}}}"#,
            a.join(",")
        )
    };
    let crio_config = format!(
        r#"{{"ociVersion":"1.0.2-dev","annotations":{{"io.kubernetes.container.name":"worker","io.kubernetes.pod.name":"jobs-0","io.kubernetes.pod.namespace":"batch","io.kubernetes.cri-o.ContainerType":"container","io.kubernetes.cri-o.ImageName":"quay.io/example/worker:2","io.kubernetes.cri-o.Labels":"{{\"io.kubernetes.container.name\":\"worker\",\"io.kubernetes.pod.name\":\"jobs-0\",\"io.kubernetes.pod.namespace\":\"batch\",\"io.kubernetes.pod.uid\":\"{POD2_UID}\",\"padding\":\"{}\"}}"}}}}"#,
        "x".repeat(300)
    );
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
        .process(2, 0, "kthreadd", &[], Ns::host(), &[])
        .edit(2, |p| {
            p.kernel_thread = true;
            p.cmdline.clear();
        })
        .process(
            2000,
            1,
            "sleep",
            &[2000, 1],
            ct_ns(11),
            &[("unified", docker.as_str())],
        )
        .cgroup(
            "unified",
            &docker,
            &[
                ("memory.max", "134217728\n"),
                ("memory.current", "4321280\n"),
                ("cgroup.freeze", "0\n"),
            ],
        )
        .process(
            2099,
            1,
            "conmon",
            &[],
            Ns::host(),
            &[(
                "unified",
                &format!("/machine.slice/libpod-conmon-{PODMAN}.scope"),
            )],
        )
        .process(
            2100,
            2099,
            "sleep",
            &[2100, 1],
            ct_ns(12),
            &[("unified", podman_ct.as_str())],
        )
        .file(
            "var/lib/containers/storage/overlay-containers/containers.json",
            containers_json_podman(PODMAN, "sleepy").as_bytes(),
        )
        .process(
            2200,
            1,
            "pause",
            &[2200, 1],
            ct_ns(13),
            &[("unified", pause.as_str())],
        )
        .process(
            2210,
            1,
            "api",
            &[2210, 1],
            ct_ns(13).with("pid", 4026533997).with("mnt", 4026533996),
            &[("unified", app.as_str())],
        )
        .file(
            &format!("run/containerd/io.containerd.runtime.v2.task/k8s.io/{PAUSE}/config.json"),
            annotations("sandbox", None, None).as_bytes(),
        )
        .file(
            &format!("run/containerd/io.containerd.runtime.v2.task/k8s.io/{APP}/config.json"),
            annotations("container", Some("api"), Some("registry.example/api:3")).as_bytes(),
        )
        .process(
            2299,
            1,
            "conmon",
            &[],
            Ns::host(),
            &[("unified", &format!("{crio_slice}/crio-conmon-{CRIO}.scope"))],
        )
        .process(
            2300,
            2299,
            "worker",
            &[2300, 1],
            ct_ns(14),
            &[("unified", crio.as_str())],
        )
        .file(
            &format!("run/containers/storage/overlay-containers/{CRIO}/userdata/config.json"),
            crio_config.as_bytes(),
        )
        .process(
            2400,
            1,
            "systemd",
            &[2400, 1],
            ct_ns(15),
            &[("unified", &format!("{machine}/init.scope"))],
        )
        .cgroup("unified", machine, &[("cgroup.freeze", "1\n")])
        // systemd-machined's registration of it.
        .file(
            "run/systemd/machines/deb-12",
            b"NAME=deb-12\nCLASS=container\n",
        )
        .process(
            2450,
            1,
            "qemu-system-x86",
            &[],
            Ns::host(),
            &[("unified", "/machine.slice/machine-qemu\\x2d1\\x2dvm.scope")],
        )
}

/// What the Docker Engine API of [`v2_systemd_runtimes`] answers to GET /containers/json?all=1
/// (serve it with [`crate::common::fake_docker::FakeDocker`]): the container of [`API`] as
/// `api-gw` of compose project `edge`, and an exited one nsview has no cgroup for.
pub fn docker_api_body() -> String {
    format!(
        r#"[{{"Id":"{API}","Names":["/api-gw"],"Image":"sha256:aa11bb22","ImageID":"sha256:aa11bb22","Command":"sleep 100000","Created":1714557600,"Ports":[],"Labels":{{"com.docker.compose.project":"edge"}},"State":"running","Status":"Up 5 minutes","HostConfig":{{"NetworkMode":"default"}},"NetworkSettings":{{"Networks":{{}}}},"Mounts":[]}},{{"Id":"{}","Names":["/old"],"Image":"x","State":"exited","Labels":{{}}}}]"#,
        "e".repeat(64)
    )
}
