//! `nsview containers`, `show <container>` and container TARGETs on fixture trees: every cgroup
//! layout of shared/docs/kernel-notes.md ("Container cgroup layouts") on a v1 host (cgroupfs
//! drivers) and a v2 host (systemd drivers), named from runtimes' records written into the tree
//! (config.v2.json, containers/storage's containers.json, OCI bundle annotations, /var/log/pods,
//! runc's state.json) or served by a fake Docker Engine API on the tree's /var/run/docker.sock.
//! A record that is missing means fewer names, never an error.

mod common;

use common::fake_docker::FakeDocker;
use common::scenarios::runtime_hosts::*;
use common::*;
use serde_json::{Value, json};

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
    let f = v1_cgroupfs_runtimes().build();
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
    let f = v1_cgroupfs_runtimes().build();
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
        "nsview: no process, namespace, cgroup or container matches 'nosuch' (tried as a container name, a container id prefix, a named \
         netns and 'host')"
    );
}

#[test]
fn missing_records_mean_fewer_names() {
    // The v1 host without any runtime's files: every container still listed, but nothing
    // confirms a runtime's: each is the isolation group of its init, with a note saying what
    // its cgroup looks like.
    let f = v1_cgroupfs_runtimes().build();
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
            "nginx[1000]",
            "sleep[1100]",
            "sleep[1200]",
            "pause[1300]",
            "nginx[1310]",
            "init[1400]",
            "init[1500]",
            "sh[1600]",
            "sleep[1700]"
        ]
    );
    let notes: Vec<&Value> = v["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["note"])
        .collect();
    assert_eq!(
        notes,
        [
            "looks like docker, not confirmed",
            "looks like docker, not confirmed",
            "looks like podman, not confirmed",
            "looks like kubernetes, not confirmed",
            "looks like kubernetes, not confirmed",
            "looks like lxc, not confirmed",
            "looks like lxc, not confirmed",
        ]
        .iter()
        .map(|n| Value::from(*n))
        .chain([Value::Null, Value::Null])
        .collect::<Vec<_>>()
        .iter()
        .collect::<Vec<_>>()
    );
    for c in v["containers"].as_array().unwrap() {
        assert_eq!(c["runtime"], Value::Null, "{c}");
        assert_eq!(c["id"], Value::Null, "{c}");
    }
    let batch = &v["containers"][1];
    // No record says "paused": the kernel says frozen.
    assert_eq!(batch["state"], "frozen");
    assert_eq!(batch["image"], Value::Null);
}

#[test]
fn v2_systemd_layouts_named_from_the_api_and_bundles() {
    let f = v2_systemd_runtimes().build();
    let body = docker_api_body();
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
    // One list per pass, and the container (for its init's PID, which the list lacks).
    assert_eq!(reqs.len(), 2, "{reqs:?}");
    assert!(
        reqs[0].starts_with("GET /containers/json?all=1 HTTP/1.1\r\n"),
        "{reqs:?}"
    );
    assert!(
        reqs[1].starts_with(&format!("GET /containers/{API}/json HTTP/1.1\r\n")),
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
    // Docker's own record names it; without that either, nothing confirms it is Docker's: the
    // group of its init, with a note.
    let l = list(&f);
    assert!(
        l.iter().any(|c| c["name"] == "stale-name"),
        "fails soft to config.v2.json"
    );
    std::fs::remove_dir_all(f.root().join("var/lib/docker")).unwrap();
    let l = list(&f);
    let group = l
        .iter()
        .find(|c| c["cgroup"].as_str().is_some_and(|p| p.contains(API)))
        .expect("still listed");
    assert_eq!(group["runtime"], Value::Null);
    assert_eq!(group["id"], Value::Null);
    assert_eq!(group["note"], "looks like docker, not confirmed");
}

#[test]
fn the_docker_api_is_not_asked_without_docker_containers() {
    // The v2 host without its Docker container: no request reaches the API.
    let mut h = v2_systemd_runtimes();
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
    let f = v2_systemd_runtimes().build();
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
    // The list and the container's own record, once.
    assert_eq!(api.requests.lock().unwrap().len(), 2, "kept between passes");
    // Asked again after invalidate (the user's refresh, or nsview's own writes).
    c.invalidate();
    c.refresh(CollectOptions::ALL).expect("refresh");
    assert_eq!(api.requests.lock().unwrap().len(), 4);
    // Off: not asked at all; then nothing confirms the container, still listed as the group
    // of its init, with the note.
    let mut c = Collector::new(Roots::under(f.root()));
    c.read_runtime_records(false);
    let snap = c.collect(CollectOptions::PROCESSES).expect("collect");
    assert!(snap.container(API).is_none());
    let group = snap
        .containers
        .iter()
        .find(|c| c.cgroup.as_deref().is_some_and(|p| p.contains(API)))
        .expect("listed");
    assert_eq!(group.runtime, None);
    assert_eq!(
        group.note.as_deref(),
        Some("looks like docker, not confirmed")
    );
    assert_eq!(api.requests.lock().unwrap().len(), 4);
}

/// A Docker container's init is the process Docker's record names (State.Pid), not the lowest
/// PID that is PID 1 of a pid namespace in its cgroup: process 999, PID 1 of a namespace of its
/// own, was moved into web-1's cgroups. Offline: no API, Docker's config.v2.json.
#[test]
fn docker_init_comes_from_config_v2_json() {
    let web = format!("/docker/{WEB}");
    let record = config_v2("web-1", "nginx:1.25", true, false).replace("\"Pid\":0", "\"Pid\":1000");
    let f = v1_cgroupfs_runtimes()
        .process(
            999,
            1,
            "intruder",
            &[999, 1],
            ct_ns(9),
            &[("*", web.as_str())],
        )
        .file(
            &format!("var/lib/docker/containers/{WEB}/config.v2.json"),
            record.as_bytes(),
        )
        .build();
    let l = list(&f);
    let c = find(&l, "web-1");
    assert_eq!(c["init_pid"], 1000, "{c}");
    assert_eq!(c["pids"], json!([999, 1000, 1001]), "{c}");
    assert_eq!(c["namespaces"], ns_json(&ct_ns(1)), "{c}");
    // Without the record's PID the kernel's guess would be the intruder.
    let f = v1_cgroupfs_runtimes()
        .process(
            999,
            1,
            "intruder",
            &[999, 1],
            ct_ns(9),
            &[("*", web.as_str())],
        )
        .build();
    assert_eq!(find(&list(&f), "web-1")["init_pid"], 999);
}

/// With the API up, the init comes from GET /containers/<id>/json's State.Pid (the list does
/// not carry it); a stale config.v2.json naming another PID does not count.
#[test]
fn docker_init_comes_from_the_api() {
    let docker = format!("/system.slice/docker-{API}.scope");
    let f = v2_systemd_runtimes()
        .process(
            1999,
            1,
            "intruder",
            &[1999, 1],
            ct_ns(9),
            &[("unified", docker.as_str())],
        )
        .file(
            &format!("var/lib/docker/containers/{API}/config.v2.json"),
            config_v2("api-gw", "gw:1", true, false)
                .replace("\"Pid\":0", "\"Pid\":1999")
                .as_bytes(),
        )
        .build();
    let inspect = format!(
        r#"{{"Id":"{API}","Name":"/api-gw","State":{{"Status":"running","Running":true,"Paused":false,"Restarting":false,"Pid":2000}},"Config":{{"Image":"gw:1","Labels":{{}}}}}}"#
    );
    let api = FakeDocker::serve_routes(
        &f.root().join("var/run/docker.sock"),
        vec![
            (format!("/containers/{API}/json"), inspect),
            ("/containers/json".to_string(), docker_api_body()),
        ],
    );
    let l = list(&f);
    let c = find(&l, "api-gw");
    assert_eq!(c["init_pid"], 2000, "{c}");
    assert_eq!(c["namespaces"], ns_json(&ct_ns(11)), "{c}");
    let reqs = api.requests.lock().unwrap().clone();
    assert_eq!(reqs.len(), 2, "the list, then the container: {reqs:?}");
    assert!(
        reqs[1].starts_with(&format!("GET /containers/{API}/json HTTP/1.1\r\n")),
        "{reqs:?}"
    );
}

/// podman's init is the one its OCI runtime's pid file names (userdata/pidfile in
/// containers/storage's run root), and runc's the one its state.json names (init_process_pid),
/// when that process is one of theirs.
#[test]
fn podman_and_runc_inits_come_from_their_records() {
    let podman = format!("/libpod_parent/libpod-{PODMAN}");
    let f = v1_cgroupfs_runtimes()
        .process(1190, 1, "intruder", &[1190, 1], ct_ns(9), &[("*", podman.as_str())])
        .file(
            &format!("run/containers/storage/overlay-containers/{PODMAN}/userdata/pidfile"),
            b"1200",
        )
        // A runc container's second process, with the same namespaces, whose state file says
        // it is the init (a process that is PID 1 nowhere would never be the kernel's guess).
        .process(1601, 1600, "sh", &[1601, 2], ct_ns(7), &[("*", "/nsview-test-1/c1")])
        .file(
            "run/runc/c1/state.json",
            br#"{"id":"c1","init_process_pid":1601,"config":{"cgroups":{"path":"/nsview-test-1/c1"}}}"#,
        )
        .build();
    let l = list(&f);
    let c = find(&l, "sleepy");
    assert_eq!(c["init_pid"], 1200, "{c}");
    assert_eq!(c["pids"], json!([1190, 1200]), "{c}");
    assert_eq!(c["namespaces"], ns_json(&ct_ns(3)), "{c}");
    let c = find(&l, "c1");
    assert_eq!(c["init_pid"], 1601, "{c}");
    assert_eq!(c["cgroup"], "/nsview-test-1/c1", "{c}");
}
