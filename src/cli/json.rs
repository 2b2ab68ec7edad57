//! The JSON contract (shared/docs/product.md, docs/cli-json.md). Keys are part of nsview's
//! interface to scripts: change them only together with the README.

use crate::model::containers::{Container, cgroups_of};
use crate::model::target::Target;
use crate::model::{Cgroup, Namespace, Process, Snapshot};
use serde_json::{Value, json};

pub fn namespace(snap: &Snapshot, ns: &Namespace) -> Value {
    let lowest = ns.lowest_pid().and_then(|pid| snap.processes.get(&pid));
    json!({
        "type": ns.ns_type,
        "inode": ns.inode,
        "nprocs": ns.pids.len(),
        "pids": ns.pids,
        "pid": ns.lowest_pid(),
        "command": lowest.map(Process::command_line),
        "user": lowest.map(|p| p.uid),
        "owner": ns.owner,
        "parent": ns.parent,
        "owner_uid": ns.owner_uid,
        "bind_mounts": ns.bind_mounts,
        "hostname": ns.hostname,
        "domainname": ns.domainname,
        "interfaces": ns.interfaces,
    })
}

pub fn process(snap: &Snapshot, p: &Process) -> Value {
    let ns: serde_json::Map<String, Value> =
        p.ns.iter()
            .map(|(t, id)| (t.name().to_string(), json!(id.ino)))
            .collect();
    json!({
        "pid": p.pid,
        "ppid": p.ppid,
        "nspid": p.nspid,
        "comm": p.comm,
        "cmdline": p.cmdline.join(" "),
        "uid": p.uid,
        "ns": ns,
        "cgroups": p.cgroups,
        // The container's name (web-1) when a runtime names it, else the isolation group's.
        "container": snap
            .container_of(p.pid)
            .map(|c| c.name.clone())
            .or_else(|| snap.group_of(p.pid).map(|g| g.name.clone())),
        "host_ns_differs": snap.differs_from_host(p),
    })
}

pub fn cgroup(c: &Cgroup) -> Value {
    serde_json::to_value(c).unwrap_or(Value::Null)
}

pub fn cgroups(snap: &Snapshot) -> Value {
    json!({
        "mode": snap.cgroup_mode,
        "hierarchies": snap.hierarchies,
        "cgroups": snap.cgroups.iter().map(cgroup).collect::<Vec<_>>(),
    })
}

/// Merge `extra` keys into the object `base`.
fn with(mut base: Value, extra: Value) -> Value {
    if let (Value::Object(b), Value::Object(e)) = (&mut base, extra) {
        b.extend(e);
    }
    base
}

pub fn show(snap: &Snapshot, target: &Target) -> Value {
    match target {
        Target::Process(pid) => match snap.processes.get(pid) {
            Some(p) => with(
                json!({"kind": "process"}),
                with(
                    process(snap, p),
                    json!({
                        "namespaces": snap.namespaces_of(p).iter().map(|ns| namespace(snap, ns)).collect::<Vec<_>>(),
                        "cgroup_details": snap.cgroups_of(p).iter().map(|c| cgroup(c)).collect::<Vec<_>>(),
                    }),
                ),
            ),
            None => Value::Null,
        },
        Target::Namespace(key) => match snap.namespaces.get(key) {
            Some(ns) => with(
                json!({"kind": "namespace"}),
                with(
                    namespace(snap, ns),
                    json!({
                        "processes": ns.pids.iter()
                            .filter_map(|pid| snap.processes.get(pid))
                            .map(|p| process(snap, p))
                            .collect::<Vec<_>>(),
                    }),
                ),
            ),
            None => Value::Null,
        },
        Target::Cgroup(path) => json!({
            "kind": "cgroup",
            "path": path,
            "cgroups": snap.cgroups.iter().filter(|c| &c.path == path).map(cgroup).collect::<Vec<_>>(),
        }),
        Target::Container(key) => match snap.container(key) {
            Some(c) => with(json!({"kind": "container"}), container_show(snap, c)),
            None => Value::Null,
        },
    }
}

/// One container as JSON: the contract's keys (name, id, runtime, image, state, init_pid, pids,
/// cgroup, namespaces, shared_with_host), then cgroups, labels, compose_project and pod.
pub fn container_json(c: &Container) -> Value {
    serde_json::to_value(c).unwrap_or(Value::Null)
}

/// `{"containers": [...]}`.
pub fn containers(snap: &Snapshot) -> Value {
    json!({
        "containers": snap.containers.iter().map(container_json).collect::<Vec<_>>(),
    })
}

/// `show <container> --json` without its "kind": the container, its processes and its cgroups in
/// full.
fn container_show(snap: &Snapshot, c: &Container) -> Value {
    let mut v = container_json(c);
    if let Value::Object(m) = &mut v {
        m.insert(
            "processes".into(),
            c.pids
                .iter()
                .filter_map(|pid| snap.processes.get(pid))
                .map(|p| process(snap, p))
                .collect(),
        );
        m.insert(
            "cgroup_details".into(),
            cgroups_of(snap, c).into_iter().map(cgroup).collect(),
        );
    }
    v
}
