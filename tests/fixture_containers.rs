//! `nsview containers`, `show <container>` and container TARGETs on fixture trees: every cgroup
//! layout of shared/docs/kernel-notes.md ("Container cgroup layouts") on a v1 host (cgroupfs
//! drivers) and a v2 host (systemd drivers), named from runtimes' records written into the tree
//! (config.v2.json, containers/storage's containers.json, OCI bundle annotations, /var/log/pods,
//! runc's state.json) or served by a fake Docker Engine API on the tree's /var/run/docker.sock.
//! A record that is missing means fewer names, never an error.

mod fixture;

use fixture::*;
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

// Container ids: 64 hex digits. The two Docker ones of the v1 host share a prefix.
const WEB: &str = "4f1d6e2b9c8a7f3e5d0c1b2a39485766a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0";
const BATCH: &str = "4f1d99aa9c8a7f3e5d0c1b2a39485766a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0";
const PODMAN: &str = "57656b20fb883085861e0047f87e29302bfb811ca3e13ab9308650b7070f2fd5";
const PAUSE: &str = "a1a1a1a1fb883085861e0047f87e29302bfb811ca3e13ab9308650b7070f2fd5";
const APP: &str = "b2b2b2b2fb883085861e0047f87e29302bfb811ca3e13ab9308650b7070f2fd5";
const API: &str = "c3c3c3c3fb883085861e0047f87e29302bfb811ca3e13ab9308650b7070f2fd5";
const CRIO: &str = "d4d4d4d4fb883085861e0047f87e29302bfb811ca3e13ab9308650b7070f2fd5";
const POD_UID: &str = "2f4b7d1e-8c3a-4e5f-9b6d-0a1c2e3f4a5b";
const POD2_UID: &str = "7c0ffee0-1111-4222-8333-944455556666";

const HOST_NET: u64 = 4026531833;
const UNLIMITED: &str = "9223372036854771712\n";

const V1_KEYS: [&str; 6] = [
    "name=systemd",
    "cpu,cpuacct",
    "memory",
    "devices",
    "pids",
    "freezer",
];

/// Private mnt, uts, ipc, pid and net namespaces for container number `n`.
fn ct_ns(n: u64) -> Ns {
    let base = 4026533000 + n * 10;
    Ns::host()
        .with("mnt", base)
        .with("uts", base + 1)
        .with("ipc", base + 2)
        .with("pid", base + 3)
        .with("net", base + 4)
}

/// The namespaces object `containers --json` shows for `ns`.
fn ns_json(ns: &Ns) -> Value {
    Value::Object(
        ns.inodes()
            .into_iter()
            .map(|(t, i)| (t.to_string(), json!(i)))
            .collect(),
    )
}

/// The types in which `ns` is the host's.
fn shared(ns: &Ns) -> Vec<&'static str> {
    NS_TYPES
        .iter()
        .copied()
        .filter(|t| !ns.differing(&Ns::host()).contains(t))
        .collect()
}

fn config_v2(name: &str, image: &str, running: bool, paused: bool) -> String {
    format!(
        r#"{{"StreamConfig":{{}},"State":{{"Running":{running},"Paused":{paused},"Restarting":false,"OOMKilled":false,"Dead":false,"Pid":0,"ExitCode":0,"Error":""}},"ID":"x","Created":"2024-05-01T10:00:00.000000000Z","Path":"sleep","Args":["100000"],"Config":{{"Hostname":"4f1d6e2b9c8a","Env":["PATH=/usr/bin"],"Cmd":["sleep","100000"],"Image":"{image}","Labels":{{"com.docker.compose.project":"shop"}}}},"Image":"sha256:1234","Name":"/{name}","Driver":"overlay2"}}"#
    )
}

fn containers_json_podman(id: &str, name: &str) -> String {
    format!(
        r#"[{{"id":"{id}","names":["{name}"],"image":"97662d24417b316f60607afbca9f226a2ba58f09d642f27b8e197a89859ddc8e","layer":"2115060fb7fe51dd2068d56ab4976450dd70f010051df5c5be7fd39fa98138a0","metadata":"{{\"image-name\":\"localhost/nsview-busybox:latest\",\"image-id\":\"97662d24417b316f60607afbca9f226a2ba58f09d642f27b8e197a89859ddc8e\",\"name\":\"{name}\",\"created-at\":1760200649}}","created":"2025-10-11T16:37:29.214855063Z","flags":{{"MountLabel":"","ProcessLabel":""}}}}]"#
    )
}

/// A v1 host with the cgroupfs drivers: Docker (/docker/<id>, one container paused and on the
/// host's network), podman (/libpod_parent/libpod-<id>, conmon beside it), a Kubernetes pod
/// (/kubepods/besteffort/pod<uid>/<id>), LXC new (/lxc.payload.web, its monitor beside it) and
/// old (/lxc/db), a runc container in a cgroup of its own, and an isolation group in a user's
/// session cgroup.
fn v1_host() -> Host {
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
    // LXC before 4.0.
    .process(1500, 1, "init", &[1500, 1], ct_ns(6), &[("*", "/lxc/db")])
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
fn v2_host() -> Host {
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
        .process(
            2450,
            1,
            "qemu-system-x86",
            &[],
            Ns::host(),
            &[("unified", "/machine.slice/machine-qemu\\x2d1\\x2dvm.scope")],
        )
}

fn list(f: &Fixture) -> Vec<Value> {
    let v = f.json(&["containers", "--json"]);
    v["containers"]
        .as_array()
        .unwrap_or_else(|| panic!("no containers list: {}", short(&v)))
        .clone()
}

fn find<'a>(list: &'a [Value], name: &str) -> &'a Value {
    list.iter().find(|c| c["name"] == name).unwrap_or_else(|| {
        panic!(
            "no container named {name} in {:?}",
            list.iter().map(|c| c["name"].clone()).collect::<Vec<_>>()
        )
    })
}

/// The contract's keys of one container, checked against what the fixture says.
#[allow(clippy::too_many_arguments)]
fn check(
    list: &[Value],
    host: &Host,
    name: &str,
    runtime: Option<&str>,
    id: Option<&str>,
    image: Option<&str>,
    state: &str,
    pids: &[i32],
    cgroup: &str,
) {
    let c = find(list, name);
    let ctx = format!("container {name}: {}", short(c));
    assert_eq!(c["runtime"], json!(runtime), "{ctx}: runtime");
    assert_eq!(c["id"], json!(id), "{ctx}: id");
    assert_eq!(c["image"], json!(image), "{ctx}: image");
    assert_eq!(c["state"], state, "{ctx}: state");
    assert_eq!(c["init_pid"], json!(pids[0]), "{ctx}: init_pid");
    assert_eq!(c["pids"], json!(pids), "{ctx}: pids");
    assert_eq!(c["cgroup"], cgroup, "{ctx}: cgroup");
    let init = host.proc(pids[0]);
    assert_eq!(c["namespaces"], ns_json(&init.ns), "{ctx}: namespaces");
    assert_eq!(
        c["shared_with_host"],
        json!(shared(&init.ns)),
        "{ctx}: shared_with_host"
    );
}

#[test]
fn v1_cgroupfs_layouts_named_from_files() {
    let f = v1_host().build();
    let l = list(&f);
    let h = &f.host;
    check(
        &l,
        h,
        "web-1",
        Some("docker"),
        Some(WEB),
        Some("nginx:1.25"),
        "running",
        &[1000, 1001],
        &format!("/docker/{WEB}"),
    );
    // Paused by Docker: FROZEN in the kernel and Paused in config.v2.json; on the host's network.
    check(
        &l,
        h,
        "batch",
        Some("docker"),
        Some(BATCH),
        Some("busybox-test"),
        "paused",
        &[1100],
        &format!("/docker/{BATCH}"),
    );
    assert_eq!(
        find(&l, "batch")["shared_with_host"],
        json!(["net", "user", "cgroup", "time"])
    );
    let web = find(&l, "web-1");
    assert_eq!(web["compose_project"], "shop");
    assert_eq!(web["labels"]["com.docker.compose.project"], "shop");
    assert_eq!(web["pod"], Value::Null);
    let all_hier: serde_json::Map<String, Value> = V1_KEYS
        .iter()
        .map(|k| (k.to_string(), json!(format!("/docker/{WEB}"))))
        .collect();
    assert_eq!(
        web["cgroups"],
        Value::Object(all_hier),
        "web-1: its cgroup in every hierarchy"
    );
    check(
        &l,
        h,
        "sleepy",
        Some("podman"),
        Some(PODMAN),
        Some("localhost/nsview-busybox:latest"),
        "running",
        &[1200],
        &format!("/libpod_parent/libpod-{PODMAN}"),
    );
    // The pod's log directory names it; the sandbox is the one running pause.
    check(
        &l,
        h,
        "web-7d9f/POD",
        Some("kubernetes"),
        Some(PAUSE),
        None,
        "running",
        &[1300],
        &format!("/kubepods/besteffort/pod{POD_UID}/{PAUSE}"),
    );
    check(
        &l,
        h,
        "web-7d9f/nginx",
        Some("kubernetes"),
        Some(APP),
        None,
        "running",
        &[1310],
        &format!("/kubepods/besteffort/pod{POD_UID}/{APP}"),
    );
    assert_eq!(
        find(&l, "web-7d9f/nginx")["pod"],
        json!({"namespace": "shop", "name": "web-7d9f", "uid": POD_UID, "container": "nginx", "sandbox": false})
    );
    assert_eq!(find(&l, "web-7d9f/POD")["pod"]["sandbox"], true);
    check(
        &l,
        h,
        "web",
        Some("lxc"),
        Some("web"),
        None,
        "running",
        &[1400, 1401],
        "/lxc.payload.web",
    );
    check(
        &l,
        h,
        "db",
        Some("lxc"),
        Some("db"),
        None,
        "running",
        &[1500],
        "/lxc/db",
    );
    check(
        &l,
        h,
        "c1",
        Some("runc"),
        Some("c1"),
        None,
        "running",
        &[1600],
        "/nsview-test-1/c1",
    );
    check(
        &l,
        h,
        "sleep[1700]",
        None,
        None,
        None,
        "running",
        &[1700],
        "/user.slice/user-1000.slice/session-1.scope",
    );
    assert_eq!(
        find(&l, "sleep[1700]")["cgroups"],
        json!({}),
        "a session cgroup is not the group's own"
    );

    // Monitors and daemons are not containers, nor in one.
    let names: Vec<&str> = l.iter().filter_map(|c| c["name"].as_str()).collect();
    assert_eq!(names.len(), 9, "{names:?}");
    for pid in [1, 640, 1199, 1399, 4100] {
        assert!(
            !l.iter().any(|c| c["pids"]
                .as_array()
                .is_some_and(|p| p.contains(&json!(pid)))),
            "PID {pid} is in no container"
        );
    }
    // Sorted by init PID.
    let inits: Vec<i64> = l.iter().filter_map(|c| c["init_pid"].as_i64()).collect();
    assert!(inits.is_sorted(), "{inits:?}");
}

#[test]
fn v1_text_table_and_show() {
    let f = v1_host().build();
    let run = f.run(&["containers"]);
    assert_eq!(run.code, Some(0), "{}", run.describe());
    assert_eq!(
        run.stderr, "",
        "no warning when records are missing or fine"
    );
    let lines: Vec<&str> = run.stdout.lines().collect();
    let header: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(
        header,
        [
            "NAME",
            "RUNTIME",
            "IMAGE",
            "ID",
            "STATE",
            "PID",
            "PROCS",
            "MEM",
            "/",
            "LIMIT",
            "PRIVATE-NS"
        ]
    );
    let web = lines
        .iter()
        .find(|l| l.starts_with("web-1 "))
        .expect("a web-1 row");
    let cells: Vec<&str> = web.split_whitespace().collect();
    assert_eq!(
        cells,
        [
            "web-1",
            "docker",
            "nginx:1.25",
            &WEB[..12],
            "running",
            "1000",
            "2",
            "2M",
            "/",
            "128M",
            "mnt",
            "uts",
            "ipc",
            "pid",
            "net"
        ]
    );
    let group = lines
        .iter()
        .find(|l| l.starts_with("sleep[1700]"))
        .expect("the group's row");
    assert_eq!(
        group.split_whitespace().collect::<Vec<_>>(),
        [
            "sleep[1700]",
            "-",
            "-",
            "-",
            "running",
            "1700",
            "1",
            "-",
            "mnt",
            "uts",
            "ipc",
            "pid",
            "net"
        ]
    );

    // show by name, by id prefix, by full id: one container, with its processes and cgroups.
    for target in ["web-1", "4f1d6", WEB] {
        let s = f.json(&["show", target, "--json"]);
        let ctx = format!("show {target} --json: {}", short(&s));
        assert_eq!(s["kind"], "container", "{ctx}");
        assert_eq!(s["name"], "web-1", "{ctx}");
        assert_eq!(s["id"], WEB, "{ctx}");
        let pids: Vec<i64> = s["processes"]
            .as_array()
            .map(|p| p.iter().filter_map(|p| p["pid"].as_i64()).collect())
            .unwrap_or_default();
        assert_eq!(pids, vec![1000, 1001], "{ctx}");
        assert_eq!(
            s["cgroup_details"].as_array().map(Vec::len),
            Some(6),
            "{ctx}"
        );
    }
    let run = f.run(&["show", "web-1"]);
    assert_eq!(run.code, Some(0), "{}", run.describe());
    assert!(
        run.stdout
            .starts_with("container web-1 (docker, nginx:1.25)\n"),
        "{}",
        run.describe()
    );
    assert!(
        run.stdout.contains(&format!("  id: {WEB}\n")),
        "{}",
        run.describe()
    );
    assert!(
        run.stdout.contains("  [memory] /docker/"),
        "{}",
        run.describe()
    );

    // A prefix two ids share: exit 1, one line naming both.
    let run = f.run(&["show", "4f1d", "--json"]);
    assert_eq!(run.code, Some(1), "{}", run.describe());
    assert_eq!(
        run.stderr.lines().collect::<Vec<_>>(),
        vec![format!(
            "nsview: '4f1d' matches several containers (web-1 {}, batch {}); give more of the id",
            &WEB[..12],
            &BATCH[..12]
        )],
    );
    // A number that is a PID stays one; a group is a TARGET by its name.
    assert_eq!(f.json(&["show", "1000", "--json"])["kind"], "process");
    assert_eq!(
        f.json(&["show", "sleep[1700]", "--json"])["kind"],
        "container"
    );
    // Unknown: as before.
    let run = f.run(&["show", "nosuch"]);
    assert_eq!(run.code, Some(1));
    assert_eq!(
        run.stderr.trim_end(),
        "nsview: no process, namespace or cgroup matches 'nosuch'"
    );
}

#[test]
fn missing_records_mean_fewer_names() {
    // The v1 host without any runtime's files: every container still listed, by id or path.
    let f = v1_host().build();
    for rel in ["var", "run"] {
        std::fs::remove_dir_all(f.root().join(rel)).unwrap();
    }
    let run = f.run(&["containers", "--json"]);
    assert_eq!(run.code, Some(0), "{}", run.describe());
    assert_eq!(run.stderr, "", "{}", run.describe());
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    let names: Vec<&str> = v["containers"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(
        names,
        [
            &WEB[..12],
            &BATCH[..12],
            &PODMAN[..12],
            &PAUSE[..12],
            &APP[..12],
            "web",
            "db",
            "sh[1600]",
            "sleep[1700]"
        ]
    );
    let batch = &v["containers"][1];
    // No record says "paused": the kernel says frozen.
    assert_eq!(batch["state"], "frozen");
    assert_eq!(batch["image"], Value::Null);
}

/// A fake Docker Engine API on `sock`: answers every GET /containers/json with `body`, in
/// chunks as dockerd does; records the requests.
struct FakeDocker {
    stop: Arc<AtomicBool>,
    requests: Arc<Mutex<Vec<String>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeDocker {
    fn serve(sock: &Path, body: String) -> FakeDocker {
        std::fs::create_dir_all(sock.parent().unwrap()).unwrap();
        let listener = UnixListener::bind(sock).unwrap();
        listener.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (st, rq) = (stop.clone(), requests.clone());
        let thread = std::thread::spawn(move || {
            while !st.load(Ordering::Relaxed) {
                let Ok((mut s, _)) = listener.accept() else {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                    continue;
                };
                s.set_nonblocking(false).unwrap();
                let mut req = Vec::new();
                let mut buf = [0u8; 1024];
                while !req.ends_with(b"\r\n\r\n") {
                    match s.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => req.extend_from_slice(&buf[..n]),
                    }
                }
                rq.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&req).into_owned());
                let mut answer = String::from(
                    "HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Type: application/json\r\nDocker-Experimental: false\r\nServer: Docker/20.10.24 (linux)\r\nTransfer-Encoding: chunked\r\n\r\n",
                );
                let bytes = body.as_bytes();
                for chunk in bytes.chunks(100) {
                    answer.push_str(&format!(
                        "{:x}\r\n{}\r\n",
                        chunk.len(),
                        String::from_utf8_lossy(chunk)
                    ));
                }
                answer.push_str("0\r\n\r\n");
                let _ = s.write_all(answer.as_bytes());
            }
        });
        FakeDocker {
            stop,
            requests,
            thread: Some(thread),
        }
    }
}

impl Drop for FakeDocker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[test]
fn v2_systemd_layouts_named_from_the_api_and_bundles() {
    let f = v2_host().build();
    let body = format!(
        r#"[{{"Id":"{API}","Names":["/api-gw"],"Image":"sha256:aa11bb22","ImageID":"sha256:aa11bb22","Command":"sleep 100000","Created":1714557600,"Ports":[],"Labels":{{"com.docker.compose.project":"edge"}},"State":"running","Status":"Up 5 minutes","HostConfig":{{"NetworkMode":"default"}},"NetworkSettings":{{"Networks":{{}}}},"Mounts":[]}},{{"Id":"{}","Names":["/old"],"Image":"x","State":"exited","Labels":{{}}}}]"#,
        "e".repeat(64)
    );
    // The name comes from the API; the image too, unless the API names it by its id (the tag
    // it was run by moved): then from Docker's own record.
    std::fs::create_dir_all(f.root().join(format!("var/lib/docker/containers/{API}"))).unwrap();
    std::fs::write(
        f.root()
            .join(format!("var/lib/docker/containers/{API}/config.v2.json")),
        config_v2("stale-name", "registry.example/gw:1", true, false),
    )
    .unwrap();
    let api = FakeDocker::serve(&f.root().join("var/run/docker.sock"), body);
    let l = list(&f);
    let h = &f.host;
    let reqs = api.requests.lock().unwrap().clone();
    assert_eq!(reqs.len(), 1, "one request per pass: {reqs:?}");
    assert!(
        reqs[0].starts_with("GET /containers/json?all=1 HTTP/1.1\r\n"),
        "{reqs:?}"
    );
    check(
        &l,
        h,
        "api-gw",
        Some("docker"),
        Some(API),
        Some("registry.example/gw:1"),
        "running",
        &[2000],
        &format!("/system.slice/docker-{API}.scope"),
    );
    assert_eq!(find(&l, "api-gw")["compose_project"], "edge");
    // podman's container sits in a sub-cgroup of its scope; conmon in its own scope is not it.
    check(
        &l,
        h,
        "sleepy",
        Some("podman"),
        Some(PODMAN),
        Some("localhost/nsview-busybox:latest"),
        "running",
        &[2100],
        &format!("/machine.slice/libpod-{PODMAN}.scope"),
    );
    let slice_uid = POD_UID.replace('-', "_");
    let pod_slice =
        format!("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{slice_uid}.slice");
    check(
        &l,
        h,
        "api-5c6d/POD",
        Some("containerd"),
        Some(PAUSE),
        None,
        "running",
        &[2200],
        &format!("{pod_slice}/cri-containerd-{PAUSE}.scope"),
    );
    check(
        &l,
        h,
        "api-5c6d/api",
        Some("containerd"),
        Some(APP),
        Some("registry.example/api:3"),
        "running",
        &[2210],
        &format!("{pod_slice}/cri-containerd-{APP}.scope"),
    );
    assert_eq!(
        find(&l, "api-5c6d/api")["pod"],
        json!({"namespace": "shop", "name": "api-5c6d", "uid": POD_UID, "container": "api", "sandbox": false})
    );
    let crio_slice = format!(
        "/kubepods.slice/kubepods-pod{}.slice",
        POD2_UID.replace('-', "_")
    );
    check(
        &l,
        h,
        "jobs-0/worker",
        Some("cri-o"),
        Some(CRIO),
        Some("quay.io/example/worker:2"),
        "running",
        &[2300],
        &format!("{crio_slice}/crio-{CRIO}.scope"),
    );
    let worker = find(&l, "jobs-0/worker");
    assert_eq!(worker["pod"]["namespace"], "batch");
    assert_eq!(worker["pod"]["uid"], POD2_UID);
    assert!(
        worker["labels"]
            .as_object()
            .is_some_and(|m| !m.contains_key("io.kubernetes.cri-o.Labels")),
        "long annotations are left out: {}",
        short(worker)
    );
    // nspawn, frozen by cgroup.freeze; the VM beside it is not a container.
    check(
        &l,
        h,
        "deb-12",
        Some("nspawn"),
        Some("deb-12"),
        None,
        "frozen",
        &[2400],
        "/machine.slice/machine-deb\\x2d12.scope",
    );
    assert_eq!(
        l.len(),
        6,
        "{:?}",
        l.iter().map(|c| c["name"].clone()).collect::<Vec<_>>()
    );
    for pid in [1, 2099, 2299, 2450] {
        assert!(
            !l.iter().any(|c| c["pids"]
                .as_array()
                .is_some_and(|p| p.contains(&json!(pid)))),
            "PID {pid} is in no container"
        );
    }

    // The text table shows memory from the unified hierarchy.
    let run = f.run(&["containers"]);
    assert_eq!(run.code, Some(0), "{}", run.describe());
    let row = run
        .stdout
        .lines()
        .find(|l| l.starts_with("api-gw "))
        .expect("api-gw row");
    assert!(row.contains("4.1M / 128M"), "{row}");
    // A container TARGET in a pod.
    let s = f.json(&["show", "api-5c6d/api", "--json"]);
    assert_eq!(s["kind"], "container");
    assert_eq!(s["cgroup_details"].as_array().map(Vec::len), Some(1));
    drop(api);

    // Without the daemon (the socket's file is left behind, nobody listens: ECONNREFUSED):
    // Docker's own record names it; without that either, its short id.
    let l = list(&f);
    assert!(
        l.iter().any(|c| c["name"] == "stale-name"),
        "fails soft to config.v2.json"
    );
    std::fs::remove_dir_all(f.root().join("var/lib/docker")).unwrap();
    let l = list(&f);
    assert!(
        l.iter().any(|c| c["name"] == json!(&API[..12])),
        "fails soft: named by its short id"
    );
}

#[test]
fn the_docker_api_is_not_asked_without_docker_containers() {
    // The v2 host without its Docker container: no request reaches the API.
    let mut h = v2_host();
    h = h.edit(2000, |p| {
        p.cgroups = vec![("unified".into(), "/system.slice/cron.service".into())];
    });
    let f = h.build();
    let api = FakeDocker::serve(&f.root().join("var/run/docker.sock"), "[]".into());
    let l = list(&f);
    assert!(l.iter().any(|c| c["name"] == "sleep[2000]"));
    assert!(api.requests.lock().unwrap().is_empty());
}

#[test]
fn a_live_view_asks_docker_once_per_new_container() {
    use nsview::collect::{CollectOptions, Collector};
    use nsview::sys::Roots;
    let f = v2_host().build();
    let api = FakeDocker::serve(
        &f.root().join("var/run/docker.sock"),
        format!(
            r#"[{{"Id":"{API}","Names":["/api-gw"],"Image":"gw:1","State":"running","Labels":{{}}}}]"#
        ),
    );
    let mut c = Collector::new(Roots::under(f.root()));
    for _ in 0..3 {
        let snap = c.refresh(CollectOptions::ALL).expect("refresh");
        assert_eq!(snap.container(API).map(|c| c.name.as_str()), Some("api-gw"));
    }
    assert_eq!(api.requests.lock().unwrap().len(), 1, "kept between passes");
    // Asked again after invalidate (the user's refresh, or nsview's own writes).
    c.invalidate();
    c.refresh(CollectOptions::ALL).expect("refresh");
    assert_eq!(api.requests.lock().unwrap().len(), 2);
    // Off: not asked at all, the container still listed by its short id.
    let mut c = Collector::new(Roots::under(f.root()));
    c.read_runtime_records(false);
    let snap = c.collect(CollectOptions::PROCESSES).expect("collect");
    assert_eq!(
        snap.container(API).map(|c| c.name.as_str()),
        Some(&API[..12])
    );
    assert_eq!(api.requests.lock().unwrap().len(), 2);
}
