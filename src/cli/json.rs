//! The JSON contract (shared/docs/product.md, docs/cli-json.md). Keys are part of nsview's
//! interface to scripts: change them only together with the README.

use crate::model::containers::{Container, cgroups_of};
use crate::model::target::Target;
use crate::model::{Cgroup, Interface, Namespace, NsType, Process, Snapshot};
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::{Value, json};

// Every report is serialized straight from the snapshot through these borrowed views: no
// intermediate `serde_json::Value` tree (4,500 processes made ~100,000 small allocations).
// Field order is the contract's key order.

/// One namespace: `list --json` and the namespaces of `show`.
#[derive(Serialize)]
pub struct NamespaceJson<'a> {
    #[serde(rename = "type")]
    ns_type: NsType,
    inode: u64,
    nprocs: usize,
    pids: &'a [i32],
    pid: Option<i32>,
    command: Option<String>,
    user: Option<u32>,
    owner: Option<u64>,
    parent: Option<u64>,
    owner_uid: Option<u32>,
    bind_mounts: &'a [String],
    hostname: Option<&'a str>,
    domainname: Option<&'a str>,
    interfaces: Option<&'a [Interface]>,
}

pub fn namespace<'a>(snap: &'a Snapshot, ns: &'a Namespace) -> NamespaceJson<'a> {
    let lowest = ns.lowest_pid().and_then(|pid| snap.processes.get(&pid));
    NamespaceJson {
        ns_type: ns.ns_type,
        inode: ns.inode,
        nprocs: ns.pids.len(),
        pids: &ns.pids,
        pid: ns.lowest_pid(),
        command: lowest.map(Process::command_line),
        user: lowest.map(|p| p.uid),
        owner: ns.owner,
        parent: ns.parent,
        owner_uid: ns.owner_uid,
        bind_mounts: &ns.bind_mounts,
        hostname: ns.hostname.as_deref(),
        domainname: ns.domainname.as_deref(),
        interfaces: ns.interfaces.as_deref(),
    }
}

/// One process: `ps --json` and the processes of `show`.
#[derive(Serialize)]
pub struct ProcessJson<'a> {
    pid: i32,
    ppid: i32,
    nspid: &'a [i32],
    comm: &'a str,
    #[serde(serialize_with = "joined")]
    cmdline: &'a [String],
    uid: u32,
    #[serde(serialize_with = "ns_inodes")]
    ns: &'a Process,
    cgroups: &'a std::collections::BTreeMap<std::sync::Arc<str>, std::sync::Arc<str>>,
    /// The container's name (web-1) when a runtime names it, else the isolation group's.
    container: Option<&'a str>,
    host_ns_differs: Vec<NsType>,
}

pub fn process<'a>(snap: &'a Snapshot, p: &'a Process) -> ProcessJson<'a> {
    ProcessJson {
        pid: p.pid,
        ppid: p.ppid,
        nspid: &p.nspid,
        comm: &p.comm,
        cmdline: &p.cmdline,
        uid: p.uid,
        ns: p,
        cgroups: &p.cgroups,
        container: snap
            .container_of(p.pid)
            .map(|c| c.name.as_str())
            .or_else(|| snap.group_of(p.pid).map(|g| g.name.as_str())),
        host_ns_differs: snap.differs_from_host(p),
    }
}

/// The command line's arguments joined by spaces, written without building the string.
fn joined<S: Serializer>(args: &&[String], s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&Joined(args))
}

struct Joined<'a>(&'a [String]);

impl std::fmt::Display for Joined<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, arg) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(arg)?;
        }
        Ok(())
    }
}

/// `{"mnt": inode, ...}`: the process's namespaces by type name.
fn ns_inodes<S: Serializer>(p: &&Process, s: S) -> Result<S::Ok, S::Error> {
    let mut map = s.serialize_map(Some(p.ns.len()))?;
    for (t, id) in &p.ns {
        map.serialize_entry(t.name(), &id.ino)?;
    }
    map.end()
}

/// `{"namespaces": [...]}` of `list --json`.
pub fn namespaces<'a>(snap: &'a Snapshot, nss: &'a [&'a Namespace]) -> impl Serialize + 'a {
    #[derive(Serialize)]
    struct List<'a> {
        namespaces: Vec<NamespaceJson<'a>>,
    }
    List {
        namespaces: nss.iter().map(|ns| namespace(snap, ns)).collect(),
    }
}

/// `{"processes": [...]}` of `ps --json`.
pub fn processes(snap: &Snapshot) -> impl Serialize + '_ {
    #[derive(Serialize)]
    struct List<'a> {
        processes: Vec<ProcessJson<'a>>,
    }
    List {
        processes: snap.processes.values().map(|p| process(snap, p)).collect(),
    }
}

/// `cgroups --json`.
pub fn cgroups(snap: &Snapshot) -> impl Serialize + '_ {
    #[derive(Serialize)]
    struct Cgroups<'a> {
        mode: Option<crate::model::CgroupMode>,
        hierarchies: &'a [crate::model::Hierarchy],
        cgroups: &'a [Cgroup],
    }
    Cgroups {
        mode: snap.cgroup_mode,
        hierarchies: &snap.hierarchies,
        cgroups: &snap.cgroups,
    }
}

/// `{"containers": [...]}`: each with the contract's keys (name, id, runtime, image, state,
/// init_pid, pids, cgroup, namespaces, shared_with_host), then cgroups, labels, compose_project
/// and pod.
pub fn containers(snap: &Snapshot) -> impl Serialize + '_ {
    #[derive(Serialize)]
    struct List<'a> {
        containers: &'a [Container],
    }
    List {
        containers: &snap.containers,
    }
}

/// `show TARGET --json`: the target with a "kind" first and its details after. Small: built as a
/// value.
pub fn show(snap: &Snapshot, target: &Target) -> Value {
    let v = match target {
        Target::Process(pid) => snap.processes.get(pid).map(|p| {
            json!({
                "kind": "process",
                "process": process(snap, p),
                "namespaces": snap.namespaces_of(p).iter().map(|ns| namespace(snap, ns)).collect::<Vec<_>>(),
                "cgroup_details": snap.cgroups_of(p),
            })
        }),
        Target::Namespace(key) => snap.namespaces.get(key).map(|ns| {
            json!({
                "kind": "namespace",
                "namespace": namespace(snap, ns),
                "processes": ns.pids.iter()
                    .filter_map(|pid| snap.processes.get(pid))
                    .map(|p| process(snap, p))
                    .collect::<Vec<_>>(),
            })
        }),
        Target::Cgroup(path) => Some(json!({
            "kind": "cgroup",
            "path": path,
            "cgroups": snap.cgroups.iter().filter(|c| &c.path == path).collect::<Vec<_>>(),
        })),
        Target::Host => Some(host_show(snap)),
        Target::Container(key) => snap.container(key).map(|c| {
            json!({
                "kind": "container",
                "container": c,
                "processes": c.pids
                    .iter()
                    .filter_map(|pid| snap.processes.get(pid))
                    .map(|p| process(snap, p))
                    .collect::<Vec<_>>(),
                "cgroup_details": cgroups_of(snap, c),
            })
        }),
    };
    v.map(hoist).unwrap_or(Value::Null)
}

/// `{"kind": K, "process": {...}, rest...}` -> `{"kind": K, ...the process's keys, rest...}`:
/// the target's own keys at the top level, as the contract has them.
fn hoist(v: Value) -> Value {
    let Value::Object(map) = v else {
        return v;
    };
    let mut out = serde_json::Map::new();
    for (k, v) in map {
        match (k.as_str(), v) {
            ("process" | "namespace" | "container", Value::Object(inner)) => out.extend(inner),
            (_, v) => {
                out.insert(k, v);
            }
        }
    }
    Value::Object(out)
}

/// `show host --json`: the host's namespaces (type -> inode) and its processes (those no
/// isolation group holds).
fn host_show(snap: &Snapshot) -> Value {
    let ns: serde_json::Map<String, Value> = snap
        .host_ns
        .iter()
        .map(|(t, id)| (t.name().to_string(), json!(id.ino)))
        .collect();
    json!({
        "kind": "host",
        "hostname": snap.host.hostname,
        "kernel": snap.host.kernel,
        "cgroup_mode": snap.cgroup_mode,
        "namespaces": ns,
        "pids": crate::model::target::host_pids(snap),
    })
}

/// Write `v` pretty-printed, then a newline. Strings keep their real value; serde_json escapes
/// C0 control characters, and [`TerminalSafe`] also DEL and C1 (U+007F..U+009F), so that JSON
/// read on a terminal cannot act on it either. As io::Error, so that a closed pipe
/// (nsview list --json | head) is recognised in main.
pub(super) fn write_pretty(
    out: &mut impl std::io::Write,
    v: &impl Serialize,
) -> std::io::Result<()> {
    let formatter = TerminalSafe(serde_json::ser::PrettyFormatter::new());
    let mut ser = serde_json::Serializer::with_formatter(&mut *out, formatter);
    v.serialize(&mut ser).map_err(std::io::Error::from)?;
    writeln!(out)
}

/// serde_json's pretty layout, with DEL and C1 control characters written as \u escapes.
struct TerminalSafe(serde_json::ser::PrettyFormatter<'static>);

/// Calls of the layout go to the pretty formatter unchanged.
macro_rules! pretty {
    ($($name:ident($($arg:ident: $ty:ty),*);)*) => {
        $(fn $name<W: ?Sized + std::io::Write>(&mut self, w: &mut W $(, $arg: $ty)*) -> std::io::Result<()> {
            self.0.$name(w $(, $arg)*)
        })*
    };
}

impl serde_json::ser::Formatter for TerminalSafe {
    pretty! {
        begin_array();
        end_array();
        begin_array_value(first: bool);
        end_array_value();
        begin_object();
        end_object();
        begin_object_key(first: bool);
        begin_object_value();
        end_object_value();
    }

    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        // serde_json hands over the runs between the characters it escapes itself (", \ and C0).
        let mut rest = fragment;
        while let Some((at, c)) = rest.char_indices().find(|(_, c)| c.is_control()) {
            w.write_all(&rest.as_bytes()[..at])?;
            write!(w, "\\u{:04x}", u32::from(c))?;
            rest = &rest[at + c.len_utf8()..];
        }
        w.write_all(rest.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::write_pretty;
    use serde_json::json;

    #[test]
    fn json_escapes_del_and_c1_and_keeps_the_value() {
        let v = json!({"host\u{9b}": "evil\u{1b}]0;pwn\u{7}\u{9b}2J\u{7f}é", "n": [1, "x"]});
        let mut out = Vec::new();
        write_pretty(&mut out, &v).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(!text.chars().any(|c| c.is_control() && c != '\n'), "{text}");
        assert!(
            text.contains(r#""evil\u001b]0;pwn\u0007\u009b2J\u007fé""#),
            "{text}"
        );
        assert!(text.contains(r#""host\u009b""#), "{text}");
        assert_eq!(serde_json::from_str::<serde_json::Value>(&text).unwrap(), v);
        // Plain values come out as serde_json's own pretty printer writes them.
        let plain = json!({"a": [1, {"b": null}], "c": "d"});
        let mut out = Vec::new();
        write_pretty(&mut out, &plain).unwrap();
        let expected = serde_json::to_string_pretty(&plain).unwrap() + "\n";
        assert_eq!(String::from_utf8(out).unwrap(), expected);
    }
}
