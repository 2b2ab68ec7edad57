//! `nsview containers [--json]` and `nsview show <container>`: containers recognised from their
//! cgroups and named by their runtimes, and the isolation groups no runtime owns.

use super::json;
use super::text::{Table, dash, write_cgroup};
use crate::app::rows::{hierarchy_for, human_bytes, memory_of, ns_list};
use crate::model::containers::Container;
use crate::model::{Cgroup, Snapshot};
use serde_json::{Value, json};
use std::io::{self, Write};

/// One container as JSON: the contract's keys (name, id, runtime, image, state, init_pid, pids,
/// cgroup, namespaces, shared_with_host), then cgroups, labels, compose_project and pod.
pub fn container_json(c: &Container) -> Value {
    serde_json::to_value(c).unwrap_or(Value::Null)
}

/// `{"containers": [...]}`.
pub fn list_json(snap: &Snapshot) -> Value {
    json!({
        "containers": snap.containers.iter().map(container_json).collect::<Vec<_>>(),
    })
}

/// The cgroups of a container, in hierarchy order.
fn cgroups_of<'a>(snap: &'a Snapshot, c: &Container) -> Vec<&'a Cgroup> {
    snap.cgroups
        .iter()
        .filter(|g| c.cgroups.get(&g.hierarchy) == Some(&g.path))
        .collect()
}

/// `show <container> --json` without its "kind": the container, its processes and its cgroups in
/// full.
pub fn show_json(snap: &Snapshot, c: &Container) -> Value {
    let mut v = container_json(c);
    if let Value::Object(m) = &mut v {
        m.insert(
            "processes".into(),
            c.pids
                .iter()
                .filter_map(|pid| snap.processes.get(pid))
                .map(|p| json::process(snap, p))
                .collect(),
        );
        m.insert(
            "cgroup_details".into(),
            cgroups_of(snap, c).into_iter().map(json::cgroup).collect(),
        );
    }
    v
}

/// The container's memory cgroup, when it is its own: an isolation group no runtime owns may
/// share its init's cgroup with other processes, whose usage is not the group's.
fn memory_cgroup<'a>(snap: &'a Snapshot, c: &Container) -> Option<&'a Cgroup> {
    let key = hierarchy_for(snap, "memory")?;
    let cg = snap.cgroup(key, c.cgroups.get(key)?)?;
    let own = c.runtime.is_some() || cg.pids.iter().all(|p| c.pids.binary_search(p).is_ok());
    own.then_some(cg)
}

fn memory_cell(snap: &Snapshot, c: &Container) -> String {
    match memory_cgroup(snap, c).and_then(memory_of) {
        Some((used, Some(limit))) => format!("{} / {}", human_bytes(used), human_bytes(limit)),
        Some((used, None)) => format!("{} / -", human_bytes(used)),
        None => "-".into(),
    }
}

/// The text table of `nsview containers`.
pub fn table(out: &mut impl Write, snap: &Snapshot) -> io::Result<()> {
    let mut t = Table::new(
        &[
            "NAME",
            "RUNTIME",
            "IMAGE",
            "ID",
            "STATE",
            "PID",
            "PROCS",
            "MEM / LIMIT",
            "PRIVATE-NS",
        ],
        &[false, false, false, false, false, true, true, true, false],
    );
    for c in &snap.containers {
        t.push(vec![
            c.name.clone(),
            dash(c.runtime),
            dash(c.image.as_deref()),
            dash(c.short_id()),
            c.state.clone(),
            c.init_pid.to_string(),
            c.pids.len().to_string(),
            memory_cell(snap, c),
            ns_list(c.private_namespaces()),
        ]);
    }
    t.write(out)
}

/// `nsview show <container>` as text.
pub fn show_text(out: &mut impl Write, snap: &Snapshot, key: &str) -> io::Result<()> {
    let Some(c) = snap.container(key) else {
        return Ok(());
    };
    let what = match (c.runtime, &c.image) {
        (Some(r), Some(i)) => format!(" ({r}, {i})"),
        (Some(r), None) => format!(" ({r})"),
        (None, _) => " (isolation group, no runtime known)".into(),
    };
    writeln!(out, "container {}{what}", c.name)?;
    if let Some(id) = &c.id {
        writeln!(out, "  id: {id}")?;
    }
    writeln!(out, "  state: {}", c.state)?;
    writeln!(
        out,
        "  init: {} ({} processes: {})",
        c.init_pid,
        c.pids.len(),
        c.pids
            .iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join(" ")
    )?;
    writeln!(out, "  cgroup: {}", dash(c.cgroup.as_deref()))?;
    if let Some(p) = &c.compose_project {
        writeln!(out, "  compose project: {p}")?;
    }
    if let Some(pod) = &c.pod {
        writeln!(
            out,
            "  pod: {}/{} (uid {}){}",
            dash(pod.namespace.as_deref()),
            dash(pod.name.as_deref()),
            dash(pod.uid.as_deref()),
            if pod.sandbox { ", its sandbox" } else { "" }
        )?;
    }
    for (k, v) in &c.labels {
        writeln!(out, "  label {k}={v}")?;
    }
    writeln!(out, "namespaces:")?;
    for (t, ino) in &c.namespaces {
        let mark = if c.shared_with_host.contains(t) {
            "  (the host's)"
        } else {
            ""
        };
        writeln!(out, "  {:<6} {ino}{mark}", t.name())?;
    }
    writeln!(out, "cgroups:")?;
    for cg in cgroups_of(snap, c) {
        write_cgroup(out, cg)?;
    }
    Ok(())
}
