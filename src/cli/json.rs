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
        Target::Host => host_show(snap),
        Target::Container(key) => match snap.container(key) {
            Some(c) => with(json!({"kind": "container"}), container_show(snap, c)),
            None => Value::Null,
        },
    }
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

/// Write `v` pretty-printed, then a newline. Strings keep their real value; serde_json escapes
/// C0 control characters, and [`TerminalSafe`] also DEL and C1 (U+007F..U+009F), so that JSON
/// read on a terminal cannot act on it either. As io::Error, so that a closed pipe
/// (nsview list --json | head) is recognised in main.
pub(super) fn write_pretty(out: &mut impl std::io::Write, v: &Value) -> std::io::Result<()> {
    use serde::Serialize;
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
