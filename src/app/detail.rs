//! The detail pane's content for a selected row: everything known about it, as lines, gauges and
//! sparklines (pure; src/ui draws it).

use super::History;
use super::rows::{self, CpuMap, RowKey};
use crate::model::containers::Container;
use crate::model::format::{self, human_bytes, short_cgroup_path, value};
use crate::model::{Cgroup, DeviceRule, Namespace, NsType, Process, Snapshot};

/// One element of the detail pane.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Heading(String),
    Text(String),
    /// `label`, filled `ratio` (0..=1), `text` on the right.
    Gauge {
        label: String,
        ratio: f64,
        text: String,
    },
    /// Samples, oldest first; `max` is the top of the scale (memory: its limit, so that the
    /// sparkline agrees with the gauge above it), else the largest sample. `cursor`: in a
    /// replay, the sample of the frame shown (those after it come later in the recording).
    Spark {
        label: String,
        data: Vec<u64>,
        max: Option<u64>,
        text: String,
        cursor: Option<usize>,
    },
}

/// The detail pane: a title and items.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Detail {
    pub title: String,
    pub items: Vec<Item>,
}

/// Headings, lines and the title quote names the system chose (hostnames, labels, cgroup
/// names): escaped by [`format::printable`], so that a control character shows as `\x1b`
/// instead of vanishing in the terminal's buffer.
impl Detail {
    fn h(&mut self, s: impl Into<String>) {
        self.items
            .push(Item::Heading(format::printable_string(s.into())));
    }
    fn t(&mut self, s: impl Into<String>) {
        self.items
            .push(Item::Text(format::printable_string(s.into())));
    }
}

/// Build the detail of `key`.
pub fn detail(snap: &Snapshot, cpu: &CpuMap, history: &History, key: &RowKey) -> Detail {
    let mut d = Detail::default();
    let idx = rows::CgroupIndex::new(snap);
    match key {
        RowKey::Container(key) => {
            if let Some(c) = snap.container(key) {
                container_body(&mut d, &idx, cpu, history, c);
            }
        }
        RowKey::NetNs(ino) => {
            d.title = format!("net:[{ino}]");
            if let Some(ns) = snap.namespaces.get(&(NsType::Net, *ino)) {
                namespace_body(&mut d, snap, ns);
            }
        }
        RowKey::Host => host_body(&mut d, snap),
        RowKey::Namespace(k) => {
            if let Some(ns) = snap.namespaces.get(k) {
                d.title = format!("{}:[{}]", ns.ns_type, ns.inode);
                namespace_body(&mut d, snap, ns);
            }
        }
        RowKey::Cgroup(h, path) => {
            d.title = format!("{path} ({h})");
            if let Some(c) = snap
                .cgroups
                .iter()
                .find(|c| &c.hierarchy == h && &c.path == path)
            {
                cgroup_body(&mut d, snap, cpu, history, c);
                same_path_elsewhere(&mut d, snap, c);
            }
        }
        RowKey::Process(pid) => {
            if let Some(p) = snap.processes.get(pid) {
                process_body(&mut d, &idx, cpu, history, p);
            }
        }
    }
    d.title = format::printable_string(d.title);
    d
}

/// The host's namespaces and what they hold.
fn host_body(d: &mut Detail, snap: &Snapshot) {
    d.title = "host".into();
    d.h("host namespaces");
    for (t, id) in &snap.host_ns {
        d.t(format!("{:<6} {}", t.name(), id.ino));
    }
    // Isolation groups do not overlap: what they do not hold is the host's (counted
    // without visiting every process).
    let grouped: usize = snap.groups.iter().map(|g| g.pids.len()).sum();
    let n = snap.processes.len().saturating_sub(grouped);
    d.t(format!("processes in every host namespace: {n}"));
    d.t(format!(
        "cgroup mode {}",
        snap.cgroup_mode.map_or("-".into(), |m| m.to_string())
    ));
}

/// The same path as `c` in the other hierarchies, with their main limits.
fn same_path_elsewhere(d: &mut Detail, snap: &Snapshot, c: &Cgroup) {
    let others: Vec<&Cgroup> = snap
        .cgroups
        .iter()
        .filter(|o| o.path == c.path && o.hierarchy != c.hierarchy)
        .collect();
    if !others.is_empty() {
        d.h("same path in other hierarchies");
        for o in others {
            let lim = crate::model::format::main_limits(o);
            d.t(format!(
                "[{}] {}",
                o.hierarchy,
                if lim.is_empty() { "-".into() } else { lim }
            ));
        }
    }
}

/// A process: its command, ids, namespaces, cgroups, and the limits and usage it lives under.
fn process_body(
    d: &mut Detail,
    idx: &rows::CgroupIndex,
    cpu: &CpuMap,
    history: &History,
    p: &Process,
) {
    let snap = idx.snapshot();
    d.title = format!("{} {}", p.pid, p.comm);
    d.t(format!("command {}", p.command_line()));
    d.t(format!(
        "ppid {}  uid {}  nspid {}",
        p.ppid,
        p.uid,
        p.nspid
            .iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(" ")
    ));
    if let Some(c) = snap.container_of(p.pid) {
        d.t(format!("container {}", c.name));
    }
    namespaces_section(d, snap, p);
    d.h("cgroups");
    for (k, path) in &p.cgroups {
        d.t(format!("[{k}] {}", short_cgroup_path(path)));
    }
    let pid = p.pid;
    let members = snap.container_of(pid).map(|c| c.pids.as_slice());
    resources_section(
        d,
        cpu,
        history,
        |controller| rows::cgroup_of(idx, pid, controller),
        |cg| match members {
            Some(m) => cg
                .pids
                .iter()
                .filter(|p| m.binary_search(p).is_err())
                .count(),
            // A host process: everyone else in the cgroup.
            None => cg.pids.len().saturating_sub(1),
        },
    );
}

/// One line per namespace: type, inode, whether it is the host's or private, then what names it
/// (its bind mounts, the hostname of a uts namespace) and the other containers in it, each said
/// in words (a hostname in parentheses read as "shared with").
fn namespaces_section(d: &mut Detail, snap: &Snapshot, p: &Process) {
    d.h("namespaces (host's or private)");
    let differs = snap.differs_from_host(p);
    for (t, id) in &p.ns {
        let mark = if differs.contains(t) {
            "private"
        } else {
            "host's"
        };
        let sharers: Vec<String> = snap
            .containers
            .iter()
            .filter(|c| {
                c.namespaces.get(t) == Some(&id.ino)
                    && !c.shared_with_host.contains(t)
                    && c.pids.binary_search(&p.pid).is_err()
            })
            .map(|c| c.name.clone())
            .collect();
        let mut line = format!("{:<6} {} {mark}", t.name(), id.ino);
        if let Some(ns) = snap.namespaces.get(&(*t, id.ino)) {
            for b in &ns.bind_mounts {
                line.push_str(&format!(", bind mount {b}"));
            }
            if let Some(h) = &ns.hostname {
                line.push_str(&format!(", hostname {h}"));
            }
        }
        if !sharers.is_empty() {
            line.push_str(&format!(", shared with {}", sharers.join(", ")));
        }
        d.t(line);
    }
}

/// Memory, CPU, pids and devices of the cgroups `cgroup_for` finds per controller, with gauges
/// and sparklines. `outside` counts the processes of a cgroup that are not the selection's.
fn resources_section<'a>(
    d: &mut Detail,
    cpu: &CpuMap,
    history: &History,
    cgroup_for: impl Fn(&str) -> Option<&'a Cgroup>,
    outside: impl Fn(&Cgroup) -> usize,
) {
    // Say whose numbers these are: a selection in a cgroup shared with others (the host's) sees
    // the whole cgroup's usage, not its own.
    match cgroup_for("memory").or_else(|| cgroup_for("pids")) {
        Some(c) => match outside(c) {
            0 => d.h(format!(
                "limits and usage of {}",
                short_cgroup_path(&c.path)
            )),
            n => d.h(format!(
                "limits and usage of {} (shared: {n} more processes)",
                short_cgroup_path(&c.path)
            )),
        },
        None => d.h("limits and usage"),
    }
    if let Some(c) = cgroup_for("memory") {
        memory_items(d, history, c);
    }
    if let Some(c) = cgroup_for("cpuacct").or_else(|| cgroup_for("cpu")) {
        cpu_items(d, cpu, history, c);
    }
    if let Some(c) = cgroup_for("cpu") {
        weight_line(d, c);
    }
    if let Some(c) = cgroup_for("cpuset") {
        for f in ["cpuset.cpus", "cpuset.mems", "cpuset.cpus.effective"] {
            if let Some(v) = c.limits.get(f).or_else(|| c.usage.get(f)) {
                d.t(format!("{f} {}", value(v)));
            }
        }
    }
    if let Some(c) = cgroup_for("pids") {
        pids_items(d, history, c);
    }
    if let Some(v) = cgroup_for("freezer").and_then(|c| c.limits.get("freezer.state")) {
        d.t(format!("freezer.state {}", value(v)));
    }
    if let Some(c) = cgroup_for("devices") {
        devices_summary(d, c);
    }
}

/// The detail pane's title for a container: `web-1 (docker, nginx:1.25)`; an isolation group
/// no runtime owns is its name alone.
pub fn container_title(c: &Container) -> String {
    let about: Vec<&str> = c
        .runtime
        .map(|r| r.name())
        .into_iter()
        .chain(c.image.as_deref())
        .collect();
    if about.is_empty() {
        c.name.clone()
    } else {
        format!("{} ({})", c.name, about.join(", "))
    }
}

/// Everything known about a container (or an isolation group no runtime owns): who it is, its
/// init, namespaces, the limits and usage of its own cgroups (its init's when it has none of its
/// own, said to be shared), its cgroups, processes, interfaces and the runtime's labels.
fn container_body(
    d: &mut Detail,
    idx: &rows::CgroupIndex,
    cpu: &CpuMap,
    history: &History,
    c: &Container,
) {
    let snap = idx.snapshot();
    d.title = container_title(c);
    let init = snap.processes.get(&c.init_pid);
    container_identity(d, c, init);
    if let Some(p) = init {
        namespaces_section(d, snap, p);
    }
    resources_section(
        d,
        cpu,
        history,
        |controller| {
            rows::container_cgroup(idx, c, controller)
                .or_else(|| rows::cgroup_of(idx, c.init_pid, controller))
        },
        |cg| {
            cg.pids
                .iter()
                .filter(|p| c.pids.binary_search(p).is_err())
                .count()
        },
    );
    if c.cgroups.is_empty() {
        d.h("cgroups (its init's, shared)");
        for (k, path) in init.iter().flat_map(|p| p.cgroups.iter()) {
            d.t(format!("[{k}] {}", short_cgroup_path(path)));
        }
    } else {
        d.h("cgroups");
        for (k, path) in &c.cgroups {
            d.t(format!("[{k}] {}", short_cgroup_path(path)));
        }
    }
    d.h("processes (pid, inside, command)");
    members(d, snap, &c.pids, 200);
    if let Some(ino) = c.namespaces.get(&NsType::Net)
        && !c.shared_with_host.contains(&NsType::Net)
    {
        net_section(d, snap, *ino);
    }
    runtime_record(d, c);
}

/// Who a container is: id and state, init, command, cgroup, compose project, pod.
fn container_identity(d: &mut Detail, c: &Container, init: Option<&Process>) {
    match (c.short_id().filter(|id| *id != c.name), c.runtime) {
        (Some(id), _) => d.t(format!("id {id}  state {}", c.state_text())),
        (None, None) => d.t(format!("isolation group  state {}", c.state_text())),
        // Known by its name (LXC, nspawn, runc).
        (None, Some(_)) => d.t(format!("state {}", c.state_text())),
    }
    // The title has it too, but a long image name (registry/team/app:tag) is cut there.
    if let Some(image) = &c.image {
        d.t(format!("image {image}"));
    }
    if let Some(note) = &c.note {
        d.t(format!("note: {note}"));
    }
    d.t(format!(
        "init {} ({} inside)  processes {}",
        c.init_pid,
        init.and_then(|p| p.nspid.last())
            .map_or("-".into(), |n| n.to_string()),
        c.pids.len()
    ));
    if let Some(p) = init {
        d.t(format!("command {}", p.command_line()));
    }
    if let Some(path) = &c.cgroup {
        d.t(format!("cgroup {}", short_cgroup_path(path)));
    }
    if let Some(project) = &c.compose_project {
        d.t(format!("compose project {project}"));
    }
    if let Some(pod) = &c.pod {
        d.t(format!(
            "pod {}/{}{}",
            pod.namespace.as_deref().unwrap_or("?"),
            pod.name.as_deref().unwrap_or("?"),
            match (&pod.container, pod.sandbox) {
                (_, true) => "  sandbox (holds the pod's namespaces)".to_string(),
                (Some(name), false) => format!("  container {name}"),
                (None, false) => String::new(),
            }
        ));
    }
}

/// The full id when the identity line shortened it, and the runtime's labels.
fn runtime_record(d: &mut Detail, c: &Container) {
    let full_id = c.id.as_deref().filter(|id| Some(*id) != c.short_id());
    if full_id.is_some() || !c.labels.is_empty() {
        d.h(format!(
            "{} record",
            c.runtime.map_or("runtime", |r| r.name())
        ));
        if let Some(id) = full_id {
            d.t(format!("id {id}"));
        }
        for (k, v) in &c.labels {
            d.t(format!("{k}={v}"));
        }
    }
}

fn memory_items(d: &mut Detail, history: &History, c: &Cgroup) {
    if let Some((used, limit)) = format::memory_of(c) {
        match limit {
            Some(l) if l > 0 => d.items.push(Item::Gauge {
                label: "memory".into(),
                ratio: (used as f64 / l as f64).clamp(0.0, 1.0),
                text: format!("{} / {}", human_bytes(used), human_bytes(l)),
            }),
            _ => d.t(format!("memory {} (no limit)", human_bytes(used))),
        }
        if let Some(h) = history.mem.get(&(c.hierarchy.clone(), c.path.clone())) {
            let data: Vec<u64> = h.iter().copied().collect();
            // Scaled to the limit like the gauge (a sample above it, as usage may briefly be,
            // tops the scale).
            let max = limit.filter(|l| *l > 0).map(|l| {
                let top = data.iter().copied().max().unwrap_or(0);
                l.max(top)
            });
            d.items.push(Item::Spark {
                label: "mem".into(),
                data,
                max,
                text: match limit {
                    Some(l) => format!("{} of {}", human_bytes(used), human_bytes(l)),
                    None => human_bytes(used),
                },
                cursor: history.cursor,
            });
        }
    }
    for f in ["memory.failcnt", "memory.max_usage_in_bytes", "memory.peak"] {
        if let Some(crate::model::CgValue::Int(v)) = c.usage.get(f) {
            let text = if f == "memory.failcnt" {
                v.to_string()
            } else {
                human_bytes(*v as u64)
            };
            d.t(format!("{f} {text}"));
        }
    }
    if let Some(v) = c.usage.get("memory.events") {
        d.t(format!("memory.events {}", value(v)));
    }
}

fn cpu_items(d: &mut Detail, cpu: &CpuMap, history: &History, c: &Cgroup) {
    let key = (c.hierarchy.clone(), c.path.clone());
    let now = cpu.get(&key).copied();
    if let Some(h) = history.cpu.get(&key) {
        d.items.push(Item::Spark {
            label: "cpu".into(),
            data: h.iter().copied().collect(),
            max: None,
            text: now.map_or("-".into(), |v| format!("{v:.1}%")),
            cursor: history.cursor,
        });
    } else if let Some(v) = now {
        d.t(format!("cpu {v:.1}%"));
    }
}

/// cpu.shares / cpu.weight with both scales, and the quota.
fn weight_line(d: &mut Detail, c: &Cgroup) {
    use crate::model::CgValue::Int;
    if let Some(Int(s)) = c.limits.get("cpu.shares") {
        d.t(format!(
            "cpu.shares {s} (weight {})",
            shares_to_weight(*s as u64)
        ));
    }
    if let Some(Int(w)) = c.limits.get("cpu.weight") {
        d.t(format!("cpu.weight {w}"));
    }
    match (
        c.limits.get("cpu.cfs_quota_us"),
        c.limits.get("cpu.cfs_period_us"),
    ) {
        (Some(Int(q)), Some(Int(p))) if *q > 0 && *p > 0 => d.t(format!(
            "cpu quota {q}/{p} us ({:.2} CPUs)",
            *q as f64 / *p as f64
        )),
        _ => {}
    }
    if let Some(v) = c.limits.get("cpu.max") {
        d.t(format!("cpu.max {}", value(v)));
    }
}

/// The shares -> weight curve runc and crun use today (kernel-notes): 1024 -> 100, 2048 -> 174.
pub fn shares_to_weight(shares: u64) -> u64 {
    if shares <= 2 {
        return 1;
    }
    if shares >= 262_144 {
        return 10_000;
    }
    let l = (shares as f64).log2();
    let exponent = (l * l + 125.0 * l) / 612.0 - 7.0 / 34.0;
    (10f64.powf(exponent).ceil() as u64).clamp(1, 10_000)
}

fn pids_items(d: &mut Detail, history: &History, c: &Cgroup) {
    if let Some((cur, max)) = format::pids_of(c) {
        match max {
            Some(m) if m > 0 => d.items.push(Item::Gauge {
                label: "pids".into(),
                ratio: (cur as f64 / m as f64).clamp(0.0, 1.0),
                text: format!("{cur} / {m}"),
            }),
            _ => d.t(format!("pids {cur} (no limit)")),
        }
        // A replay's recorded counts (the live view keeps none).
        if let Some(h) = history.pids.get(&(c.hierarchy.clone(), c.path.clone())) {
            d.items.push(Item::Spark {
                label: "pids".into(),
                data: h.iter().copied().collect(),
                max: max.filter(|m| *m > 0 && *m < u64::from(u32::MAX)),
                text: cur.to_string(),
                cursor: history.cursor,
            });
        }
    }
}

/// "devices: deny all, allow 11 (d: view)".
pub fn devices_summary_text(c: &Cgroup) -> Option<String> {
    let rules: &Vec<DeviceRule> = c.devices.as_ref()?;
    Some(if c.devices_default.as_deref() == Some("allow") {
        "devices: allow all, deny exceptions not visible (d)".into()
    } else {
        format!("devices: deny all, allow {} (d)", rules.len())
    })
}

fn devices_summary(d: &mut Detail, c: &Cgroup) {
    if let Some(t) = devices_summary_text(c) {
        d.t(t);
    }
}

fn cgroup_body(d: &mut Detail, snap: &Snapshot, cpu: &CpuMap, history: &History, c: &Cgroup) {
    d.t(format!("processes {}", c.pids.len()));
    memory_items(d, history, c);
    cpu_items(d, cpu, history, c);
    weight_line(d, c);
    pids_items(d, history, c);
    devices_summary(d, c);
    if !c.limits.is_empty() {
        d.h("limits");
        for (k, v) in &c.limits {
            d.t(format!("{k} = {}", value(v)));
        }
    }
    if !c.usage.is_empty() {
        d.h("usage");
        for (k, v) in &c.usage {
            d.t(format!("{k}: {}", value(v)));
        }
    }
    if !c.pids.is_empty() {
        d.h("processes (pid, inside, command)");
        members(d, snap, &c.pids, 100);
    }
}

fn namespace_body(d: &mut Detail, snap: &Snapshot, ns: &Namespace) {
    d.t(format!("processes {}", ns.pids.len()));
    if let Some(p) = ns.lowest_pid().and_then(|p| snap.processes.get(&p)) {
        d.t(format!("lowest pid {} {}", p.pid, p.command_line()));
    }
    d.t(format!(
        "owner user ns {}",
        ns.owner.map_or("-".into(), |o| o.to_string())
    ));
    if let Some(p) = ns.parent {
        d.t(format!("parent {p}"));
    }
    if let Some(u) = ns.owner_uid {
        d.t(format!("created by uid {u}"));
    }
    for b in &ns.bind_mounts {
        d.t(format!("bind mount {b}"));
    }
    if let Some(h) = &ns.hostname {
        d.t(format!("hostname {h}"));
    }
    if ns.ns_type == NsType::Net {
        net_section(d, snap, ns.inode);
    }
    let users: Vec<&str> = snap
        .containers
        .iter()
        .filter(|c| {
            c.namespaces.get(&ns.ns_type) == Some(&ns.inode)
                && !c.shared_with_host.contains(&ns.ns_type)
        })
        .map(|c| c.name.as_str())
        .collect();
    if !users.is_empty() {
        d.t(format!("used by {}", users.join(", ")));
    }
    if !ns.pids.is_empty() {
        d.h("processes (pid, inside, command)");
        members(d, snap, &ns.pids, 100);
    }
}

/// One line per member process (PID, PID inside, command), at most `limit`, then how many more.
fn members(d: &mut Detail, snap: &Snapshot, pids: &[i32], limit: usize) {
    for p in pids
        .iter()
        .take(limit)
        .filter_map(|pid| snap.processes.get(pid))
    {
        d.t(format!(
            "{:>7} {:>6}  {}",
            p.pid,
            p.nspid.last().copied().unwrap_or(p.pid),
            p.command_line()
        ));
    }
    if pids.len() > limit {
        d.t(format!("... and {} more", pids.len() - limit));
    }
}

/// A name for a network namespace: its bind mount, or the container using it.
fn netns_name(snap: &Snapshot, ino: u64) -> String {
    if let Some(b) = snap
        .namespaces
        .get(&(NsType::Net, ino))
        .and_then(|ns| ns.bind_mounts.first())
    {
        return b.clone();
    }
    if let Some(c) = snap.containers.iter().find(|c| {
        c.namespaces.get(&NsType::Net) == Some(&ino) && !c.shared_with_host.contains(&NsType::Net)
    }) {
        return c.name.clone();
    }
    if snap.host_ns.get(&NsType::Net).is_some_and(|h| h.ino == ino) {
        return "host".into();
    }
    format!("net:[{ino}]")
}

fn net_section(d: &mut Detail, snap: &Snapshot, ino: u64) {
    let Some(ifs) = snap
        .namespaces
        .get(&(NsType::Net, ino))
        .and_then(|ns| ns.interfaces.as_ref())
    else {
        return;
    };
    d.h("interfaces");
    for i in ifs {
        let peer = match (i.peer_ifindex, i.peer_netns) {
            (Some(ix), Some(n)) if n != ino => format!("  peer {ix} in {}", netns_name(snap, n)),
            (Some(ix), _) => format!("  peer {ix}"),
            _ => String::new(),
        };
        let kind = i
            .kind
            .as_deref()
            .map(|k| format!(" {k}"))
            .unwrap_or_default();
        d.t(format!(
            "{} {}{} {} {}{}",
            i.ifindex,
            i.name,
            kind,
            i.state,
            i.addresses.join(" "),
            peer
        ));
    }
}

/// The cgroup whose devices.list a row stands for, if any.
pub fn devices_cgroup<'a>(snap: &'a Snapshot, key: &RowKey) -> Option<&'a Cgroup> {
    let hier = format::hierarchy_for(snap, "devices")?;
    let path: String = match key {
        RowKey::Container(k) => {
            let c = snap.container(k)?;
            // Its own devices cgroup, else (an isolation group without one) its init's.
            match c.cgroups.get(hier) {
                Some(p) => p.clone(),
                None => snap
                    .processes
                    .get(&c.init_pid)?
                    .cgroups
                    .get(hier)?
                    .to_string(),
            }
        }
        RowKey::Process(pid) => snap.processes.get(pid)?.cgroups.get(hier)?.to_string(),
        RowKey::Cgroup(_, path) => path.clone(),
        RowKey::Host => "/".into(),
        _ => return None,
    };
    snap.cgroups
        .iter()
        .find(|c| c.hierarchy == hier && c.path == path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weight_curve_matches_runc() {
        assert_eq!(shares_to_weight(1024), 100);
        assert_eq!(shares_to_weight(2048), 174);
        assert_eq!(shares_to_weight(512), 59);
        assert_eq!(shares_to_weight(2), 1);
        assert_eq!(shares_to_weight(262_144), 10_000);
    }
}
