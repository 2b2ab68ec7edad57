//! Text output: aligned columns like lsns and ps, for people.

use crate::model::containers::{cgroups_of, memory_cgroup};
use crate::model::format::{self, human_bytes, main_limits, memory_of, ns_list};
use crate::model::target::Target;
use crate::model::{Cgroup, Namespace, Process, Snapshot};
use std::collections::HashMap;
use std::io::{self, Write};

/// One line of text output, escaped by [`format::printable`]: the body of [`say!`].
pub(super) fn line(out: &mut impl Write, args: std::fmt::Arguments) -> io::Result<()> {
    match args.as_str() {
        Some(fixed) => writeln!(out, "{fixed}"),
        None => writeln!(out, "{}", format::printable(&args.to_string())),
    }
}

/// A table whose columns are padded to their widest cell; the last column is never padded.
pub(super) struct Table {
    rows: Vec<Vec<String>>,
    right: Vec<bool>,
}

impl Table {
    pub(super) fn new(header: &[&str], right: &[bool]) -> Self {
        Table {
            rows: vec![header.iter().map(|s| s.to_string()).collect()],
            right: right.to_vec(),
        }
    }

    /// A row of cells, each escaped (a tab or newline in a hostname must not break the row).
    pub(super) fn push(&mut self, row: Vec<String>) {
        self.rows
            .push(row.into_iter().map(format::printable_string).collect());
    }

    pub(super) fn write(&self, out: &mut impl Write) -> io::Result<()> {
        let cols = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        let widths: Vec<usize> = (0..cols)
            .map(|c| {
                self.rows
                    .iter()
                    .filter_map(|r| r.get(c))
                    .map(|s| s.chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        for row in &self.rows {
            let mut line = String::new();
            for (c, cell) in row.iter().enumerate() {
                let last = c + 1 == row.len();
                let pad = widths[c].saturating_sub(cell.chars().count());
                if self.right.get(c).copied().unwrap_or(false) {
                    line.push_str(&" ".repeat(pad));
                    line.push_str(cell);
                } else {
                    line.push_str(cell);
                    if !last {
                        line.push_str(&" ".repeat(pad));
                    }
                }
                if !last {
                    line.push(' ');
                }
            }
            writeln!(out, "{}", line.trim_end())?;
        }
        Ok(())
    }
}

/// uid -> user name, looked up once per uid in the live host's user database; numbers when the
/// snapshot comes from a fixture tree (the host's names would not belong to it).
pub struct Users {
    live: bool,
    names: HashMap<u32, String>,
}

impl Users {
    pub fn new(live: bool) -> Self {
        Users {
            live,
            names: HashMap::new(),
        }
    }

    fn name(&mut self, uid: u32) -> String {
        let live = self.live;
        self.names
            .entry(uid)
            .or_insert_with(|| {
                if !live {
                    return uid.to_string();
                }
                crate::sys::users::user_name(uid).unwrap_or_else(|| uid.to_string())
            })
            .clone()
    }
}

pub(super) fn dash<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_else(|| "-".into())
}

/// A short name for a namespace: bind mounts, hostname, interfaces.
fn ns_name(ns: &Namespace) -> String {
    let mut parts: Vec<String> = ns.bind_mounts.clone();
    if let Some(h) = &ns.hostname {
        parts.push(format!("hostname={h}"));
    }
    if let Some(ifs) = &ns.interfaces {
        let names: Vec<&str> = ifs.iter().map(|i| i.name.as_str()).collect();
        if !names.is_empty() {
            parts.push(format!("if={}", names.join(",")));
        }
    }
    if parts.is_empty() {
        "-".into()
    } else {
        parts.join(" ")
    }
}

pub fn namespaces(
    out: &mut impl Write,
    snap: &Snapshot,
    nss: &[&Namespace],
    users: &mut Users,
) -> io::Result<()> {
    let mut t = Table::new(
        &["NS", "TYPE", "NPROCS", "PID", "USER", "NAME", "COMMAND"],
        &[true, false, true, true, false, false, false],
    );
    for ns in nss {
        let lowest = ns.lowest_pid().and_then(|p| snap.processes.get(&p));
        t.push(vec![
            ns.inode.to_string(),
            ns.ns_type.to_string(),
            ns.pids.len().to_string(),
            dash(ns.lowest_pid()),
            lowest.map_or("-".into(), |p| users.name(p.uid)),
            ns_name(ns),
            lowest.map_or("-".into(), Process::command_line),
        ]);
    }
    t.write(out)
}

fn differs(snap: &Snapshot, p: &Process) -> String {
    let d = snap.differs_from_host(p);
    if d.is_empty() {
        "-".into()
    } else {
        d.iter().map(|t| t.name()).collect::<Vec<_>>().join(",")
    }
}

pub fn processes(out: &mut impl Write, snap: &Snapshot, users: &mut Users) -> io::Result<()> {
    let mut t = Table::new(
        &[
            "PID",
            "PPID",
            "NSPID",
            "USER",
            "PRIVATE-NS",
            "GROUP",
            "COMMAND",
        ],
        &[true, true, true, false, false, false, false],
    );
    for p in snap.processes.values() {
        t.push(vec![
            p.pid.to_string(),
            p.ppid.to_string(),
            dash(p.nspid.last()),
            users.name(p.uid),
            differs(snap, p),
            dash(
                snap.container_of(p.pid)
                    .map(|c| c.name.clone())
                    .or_else(|| snap.group_of(p.pid).map(|g| g.name.clone())),
            ),
            p.command_line(),
        ]);
    }
    t.write(out)
}

pub fn cgroups(out: &mut impl Write, snap: &Snapshot, tree: bool) -> io::Result<()> {
    say!(out, "cgroup mode: {}", dash(snap.cgroup_mode))?;
    for h in &snap.hierarchies {
        say!(
            out,
            "  v{} {:<14} {}  {}",
            h.version,
            h.key,
            h.mount,
            if h.controllers.is_empty() {
                "-".to_string()
            } else {
                h.controllers.join(",")
            }
        )?;
    }
    writeln!(out)?;
    let mut t = Table::new(
        &["HIERARCHY", "CGROUP", "PIDS", "LIMITS"],
        &[false, false, true, false],
    );
    for c in &snap.cgroups {
        let path = if tree {
            let depth = c.path.matches('/').count() - usize::from(c.path == "/");
            let name = c
                .path
                .rsplit('/')
                .next()
                .filter(|s| !s.is_empty())
                .unwrap_or("/");
            format!("{}{}", "  ".repeat(depth), name)
        } else {
            c.path.clone()
        };
        t.push(vec![
            c.hierarchy.clone(),
            path,
            c.pids.len().to_string(),
            main_limits(c),
        ]);
    }
    t.write(out)
}

pub(super) fn write_cgroup(out: &mut impl Write, c: &Cgroup) -> io::Result<()> {
    say!(
        out,
        "  [{}] {}  ({})",
        c.hierarchy,
        c.path,
        format::count(c.pids.len(), "process", "processes")
    )?;
    for (k, v) in &c.limits {
        say!(out, "    {k} = {}", format::file_value(k, v))?;
    }
    for (k, v) in &c.usage {
        say!(out, "    {k}: {}", format::file_value(k, v))?;
    }
    if let Some(devs) = &c.devices {
        if c.devices_default.as_deref() == Some("allow") {
            say!(
                out,
                "    devices: default allow (deny exceptions are not visible through devices.list)"
            )?;
        } else {
            say!(out, "    devices: default deny, allowed:")?;
        }
        for d in devs {
            say!(
                out,
                "      {} {}:{} {}  {}",
                d.kind,
                d.major.map_or("*".into(), |m| m.to_string()),
                d.minor.map_or("*".into(), |m| m.to_string()),
                d.access,
                d.name.as_deref().unwrap_or("")
            )?;
        }
    }
    Ok(())
}

fn write_namespace(out: &mut impl Write, snap: &Snapshot, ns: &Namespace) -> io::Result<()> {
    say!(out, "namespace {}:[{}]", ns.ns_type, ns.inode)?;
    say!(out, "  processes: {}", ns.pids.len())?;
    if let Some(p) = ns.lowest_pid().and_then(|p| snap.processes.get(&p)) {
        say!(out, "  lowest pid: {} {}", p.pid, p.command_line())?;
    }
    say!(out, "  owner user ns: {}", dash(ns.owner))?;
    if ns.parent.is_some() {
        say!(out, "  parent: {}", dash(ns.parent))?;
    }
    for b in &ns.bind_mounts {
        say!(out, "  bind mount: {b}")?;
    }
    if let Some(h) = &ns.hostname {
        say!(out, "  hostname: {h}")?;
    }
    for i in ns.interfaces.iter().flatten() {
        let peer = match (i.peer_ifindex, i.peer_netns) {
            (Some(ix), Some(n)) => format!(" peer {ix} in net:[{n}]"),
            (Some(ix), None) => format!(" peer {ix}"),
            _ => String::new(),
        };
        say!(
            out,
            "  if {} {} {} {}{}",
            i.ifindex,
            i.name,
            i.state,
            i.addresses.join(" "),
            peer
        )?;
    }
    Ok(())
}

/// `show TARGET`: everything known about a process, namespace, cgroup or container.
pub fn show(out: &mut impl Write, snap: &Snapshot, target: &Target) -> io::Result<()> {
    match target {
        Target::Process(pid) => {
            if let Some(p) = snap.processes.get(pid) {
                show_process(out, snap, p)?;
            }
        }
        Target::Namespace(key) => {
            if let Some(ns) = snap.namespaces.get(key) {
                write_namespace(out, snap, ns)?;
            }
        }
        Target::Cgroup(path) => {
            say!(out, "cgroup {path}")?;
            for c in snap.cgroups.iter().filter(|c| &c.path == path) {
                write_cgroup(out, c)?;
            }
        }
        Target::Container(key) => container(out, snap, key)?,
        Target::Host => show_host(out, snap)?,
    }
    Ok(())
}

/// `show host`: the host's namespaces and the processes in all of them (what no isolation group
/// holds), as the Containers view's "host" row.
fn show_host(out: &mut impl Write, snap: &Snapshot) -> io::Result<()> {
    let pids = crate::model::target::host_pids(snap);
    say!(
        out,
        "host {} (kernel {})",
        snap.host.hostname,
        snap.host.kernel
    )?;
    say!(
        out,
        "  {} in every host namespace",
        format::count(pids.len(), "process", "processes")
    )?;
    if let Some(p) = pids.first().and_then(|p| snap.processes.get(p)) {
        say!(out, "  lowest pid: {} {}", p.pid, p.command_line())?;
    }
    say!(
        out,
        "  cgroup mode: {}",
        snap.cgroup_mode.map_or("-".into(), |m| m.to_string())
    )?;
    say!(out, "namespaces:")?;
    for (t, id) in &snap.host_ns {
        say!(out, "  {:<6} {}", t.name(), id.ino)?;
    }
    Ok(())
}

/// A process: ids, group, namespaces (those not the host's marked) and cgroups.
fn show_process(out: &mut impl Write, snap: &Snapshot, p: &Process) -> io::Result<()> {
    say!(out, "process {} ({})", p.pid, p.comm)?;
    say!(out, "  command: {}", p.command_line())?;
    say!(out, "  ppid: {}  uid: {}", p.ppid, p.uid)?;
    say!(
        out,
        "  nspid: {}",
        p.nspid
            .iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(" ")
    )?;
    say!(
        out,
        "  group: {}",
        dash(snap.group_of(p.pid).map(|g| g.name.clone()))
    )?;
    let differ = snap.differs_from_host(p);
    say!(out, "namespaces:")?;
    for (t, id) in &p.ns {
        let mark = if differ.contains(t) {
            "  (not the host's)"
        } else {
            ""
        };
        say!(out, "  {:<6} {}{}", t.name(), id.ino, mark)?;
    }
    say!(out, "cgroups:")?;
    for c in snap.cgroups_of(p) {
        write_cgroup(out, c)?;
    }
    if snap.cgroups.is_empty() {
        for (k, path) in &p.cgroups {
            say!(out, "  [{k}] {path}")?;
        }
    }
    Ok(())
}

fn memory_cell(snap: &Snapshot, c: &crate::model::containers::Container) -> String {
    match memory_cgroup(snap, c).and_then(memory_of) {
        Some((used, Some(limit))) => format!("{} / {}", human_bytes(used), human_bytes(limit)),
        Some((used, None)) => format!("{} / -", human_bytes(used)),
        None => "-".into(),
    }
}

/// The text table of `nsview containers`.
pub fn containers(out: &mut impl Write, snap: &Snapshot) -> io::Result<()> {
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
            format::printable_string(c.state_text()),
            c.init_pid.to_string(),
            c.pids.len().to_string(),
            memory_cell(snap, c),
            ns_list(c.private_namespaces()),
        ]);
    }
    t.write(out)
}

/// `nsview show <container>` as text.
fn container(out: &mut impl Write, snap: &Snapshot, key: &str) -> io::Result<()> {
    let Some(c) = snap.container(key) else {
        return Ok(());
    };
    let what = match (c.runtime, &c.image) {
        (Some(r), Some(i)) => format!(" ({r}, {i})"),
        (Some(r), None) => format!(" ({r})"),
        (None, _) => " (isolation group, no runtime known)".into(),
    };
    say!(out, "container {}{what}", c.name)?;
    if let Some(note) = &c.note {
        say!(out, "  note: {note}")?;
    }
    if let Some(id) = &c.id {
        say!(out, "  id: {id}")?;
    }
    say!(out, "  state: {}", format::printable(&c.state_text()))?;
    say!(
        out,
        "  init: {} ({}: {})",
        c.init_pid,
        format::count(c.pids.len(), "process", "processes"),
        c.pids
            .iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join(" ")
    )?;
    say!(out, "  cgroup: {}", dash(c.cgroup.as_deref()))?;
    if let Some(p) = &c.compose_project {
        say!(out, "  compose project: {p}")?;
    }
    if let Some(pod) = &c.pod {
        say!(
            out,
            "  pod: {}/{} (uid {}){}",
            dash(pod.namespace.as_deref()),
            dash(pod.name.as_deref()),
            dash(pod.uid.as_deref()),
            if pod.sandbox { ", its sandbox" } else { "" }
        )?;
    }
    for (k, v) in &c.labels {
        say!(out, "  label {k}={v}")?;
    }
    say!(out, "namespaces:")?;
    for (t, ino) in &c.namespaces {
        let mark = if c.shared_with_host.contains(t) {
            "  (the host's)"
        } else {
            ""
        };
        say!(out, "  {:<6} {ino}{mark}", t.name())?;
    }
    say!(out, "cgroups:")?;
    for cg in cgroups_of(snap, c) {
        write_cgroup(out, cg)?;
    }
    Ok(())
}
