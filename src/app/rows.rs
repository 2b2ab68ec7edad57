//! What each view lists: rows built from a snapshot, as plain data (pure functions, no I/O).

use crate::model::containers::Container;
use crate::model::format::{hierarchy_for, human_bytes, memory_of, ns_list, pids_of};
use crate::model::{Cgroup, NsKey, NsType, Snapshot};
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap, HashSet};

/// The identity of a row, stable across refreshes (selection follows it, not the row number).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RowKey {
    /// A container or an isolation group no runtime owns, by its
    /// [`Container::key`](crate::model::containers::Container::key).
    Container(String),
    /// A network namespace with no process, held by a bind mount (`ip netns add`).
    NetNs(u64),
    Host,
    Namespace(NsKey),
    /// (hierarchy key, path).
    Cgroup(String, String),
    Process(i32),
}

/// A value a column sorts by.
#[derive(Debug, Clone, PartialEq)]
pub enum SortVal {
    Num(f64),
    Text(String),
    None,
}

impl SortVal {
    fn cmp(&self, other: &SortVal) -> Ordering {
        match (self, other) {
            (SortVal::Num(a), SortVal::Num(b)) => a.partial_cmp(b).unwrap_or(Ordering::Equal),
            (SortVal::Text(a), SortVal::Text(b)) => a.cmp(b),
            // Rows without a value sort last.
            (SortVal::None, SortVal::None) => Ordering::Equal,
            (SortVal::None, _) => Ordering::Greater,
            (_, SortVal::None) => Ordering::Less,
            (SortVal::Num(_), SortVal::Text(_)) => Ordering::Less,
            (SortVal::Text(_), SortVal::Num(_)) => Ordering::Greater,
        }
    }
}

/// One cell: what is shown and what it sorts by.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub text: String,
    pub sort: SortVal,
}

impl Cell {
    /// A text cell; what is shown is escaped by [`printable`](crate::model::format::printable)
    /// (a control character in a hostname or command shows as `\x1b`), sorted by the real text.
    pub fn text(s: impl Into<String>) -> Cell {
        let s = s.into();
        Cell {
            sort: SortVal::Text(s.to_lowercase()),
            text: crate::model::format::printable_string(s),
        }
    }
    pub fn num(v: f64, text: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            sort: SortVal::Num(v),
        }
    }
    pub fn none() -> Cell {
        Cell {
            text: "-".into(),
            sort: SortVal::None,
        }
    }
}

/// One row of a view.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub key: RowKey,
    /// Tree depth (0 for flat views).
    pub depth: usize,
    pub cells: Vec<Cell>,
    /// Lower-case text the filter matches against (names, PIDs, inodes, paths).
    pub search: String,
    pub has_children: bool,
    pub collapsed: bool,
    /// Dimmed (an empty cgroup, a kernel thread).
    pub dim: bool,
}

/// A column: its title, and whether it is right-aligned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub title: &'static str,
    pub right: bool,
    /// Minimum width; the last column takes the rest.
    pub width: u16,
    /// Which columns go first when the terminal is narrow: the highest number first; 0 stays as
    /// long as it fits at all.
    pub priority: u8,
    /// Up to this width when its texts are longer and there is room to spare (names).
    pub max: u16,
    /// A text too long for the column is cut at its start, keeping the tail: paths, whose last
    /// part tells them apart (/run/netns/nsview-a and -b).
    pub keep_tail: bool,
}

const fn col(title: &'static str, right: bool, width: u16) -> Column {
    Column {
        title,
        right,
        width,
        priority: 0,
        max: width,
        keep_tail: false,
    }
}

impl Column {
    const fn priority(self, priority: u8) -> Column {
        Column { priority, ..self }
    }

    const fn grow(self, max: u16) -> Column {
        Column { max, ..self }
    }

    const fn keep_tail(self) -> Column {
        Column {
            keep_tail: true,
            ..self
        }
    }
}

/// The Containers view. At 80 columns (and in the list beside the detail pane) NAME, RUNTIME,
/// PID, PROCS, CPU%, MEM / LIMIT and PRIVATE NS show; STATE, INSIDE, IMAGE and ID follow as
/// the width allows.
pub const CONTAINER_COLUMNS: &[Column] = &[
    col("NAME", false, 14).grow(40),
    col("RUNTIME", false, 7).grow(10),
    col("IMAGE", false, 16).priority(3).grow(32),
    col("ID", false, 12).priority(4),
    col("STATE", false, 8).priority(1).grow(30),
    col("PID", true, 7),
    col("INSIDE", true, 6).priority(2),
    col("PROCS", true, 5),
    col("CPU%", true, 6),
    col("MEM / LIMIT", true, 13),
    col("PRIVATE NS", false, 12),
];

/// Column indexes of [`CONTAINER_COLUMNS`] that code refers to.
pub const CONTAINER_PID_COLUMN: usize = 5;
pub const CONTAINER_CPU_COLUMN: usize = 8;
pub const CONTAINER_MEM_COLUMN: usize = 9;

pub const NAMESPACE_COLUMNS: &[Column] = &[
    col("TYPE", false, 14),
    col("INODE", true, 10),
    col("PROCS", true, 5),
    col("PID", true, 7),
    col("CONTAINER", false, 11).grow(24),
    col("NAME", false, 13).grow(48).keep_tail(),
    col("COMMAND", false, 10),
];

/// The Cgroups view. Beside the detail pane (78 columns) PIDS gives way first.
pub const CGROUP_COLUMNS: &[Column] = &[
    col("CGROUP", false, 24).grow(30),
    col("CONTAINER", false, 10).grow(24),
    col("PROCS", true, 5),
    col("CPU%", true, 6),
    col("MEM / LIMIT", true, 15),
    col("PIDS", true, 9).priority(1),
    col("LIMITS", false, 10),
];

pub const PROCESS_COLUMNS: &[Column] = &[
    col("PID", true, 7),
    col("INSIDE", true, 6),
    col("USER", false, 8),
    col("PRIVATE NS", false, 20),
    col("CGROUP", false, 18).keep_tail(),
    col("COMMAND", false, 10),
];

fn mem_cell(c: Option<&Cgroup>) -> Cell {
    match c.and_then(memory_of) {
        Some((used, Some(limit))) => Cell::num(
            used as f64,
            format!("{} / {}", human_bytes(used), human_bytes(limit)),
        ),
        Some((used, None)) => Cell::num(used as f64, format!("{} / -", human_bytes(used))),
        None => Cell::none(),
    }
}

fn cpu_cell(cpu: Option<f64>) -> Cell {
    match cpu {
        Some(v) => Cell::num(v, format!("{v:.1}")),
        None => Cell::none(),
    }
}

/// A snapshot's cgroups by (hierarchy key, path), borrowed: built once for a rows update or a
/// detail pane. The snapshot's own index ([`Snapshot::cgroup`]) is built anew for every
/// snapshot, with every other lookup table, and allocates two strings per lookup.
pub struct CgroupIndex<'a> {
    snap: &'a Snapshot,
    by_path: HashMap<(&'a str, &'a str), &'a Cgroup>,
}

impl<'a> CgroupIndex<'a> {
    pub fn new(snap: &'a Snapshot) -> CgroupIndex<'a> {
        CgroupIndex {
            snap,
            by_path: snap
                .cgroups
                .iter()
                .map(|c| ((c.hierarchy.as_str(), c.path.as_str()), c))
                .collect(),
        }
    }

    pub fn snapshot(&self) -> &'a Snapshot {
        self.snap
    }

    /// The cgroup at `path` in hierarchy `key`.
    pub fn get(&self, key: &str, path: &str) -> Option<&'a Cgroup> {
        let by_path: &HashMap<(&str, &str), &'a Cgroup> = &self.by_path;
        by_path.get(&(key, path)).copied()
    }
}

/// The cgroup of `pid` in the hierarchy that holds `controller`.
pub fn cgroup_of<'a>(idx: &CgroupIndex<'a>, pid: i32, controller: &str) -> Option<&'a Cgroup> {
    let key = hierarchy_for(idx.snap, controller)?;
    let path = idx.snap.processes.get(&pid)?.cgroups.get(key)?;
    idx.get(key, path)
}

/// A process's cgroup path to show: the memory one (where containers are limited), else the v2
/// one, else any.
pub fn display_cgroup(snap: &Snapshot, pid: i32) -> Option<String> {
    let p = snap.processes.get(&pid)?;
    let key = hierarchy_for(snap, "memory").or_else(|| {
        snap.hierarchies
            .iter()
            .find(|h| h.version == 2)
            .map(|h| h.key.as_str())
    })?;
    p.cgroups
        .get(key)
        .or_else(|| p.cgroups.values().next())
        .map(|s| s.to_string())
}

/// CPU% per (hierarchy, path), from the UI's rate computation.
pub type CpuMap = HashMap<(String, String), f64>;

/// The container's own cgroup in the hierarchy that holds `controller` (none for an isolation
/// group whose processes share their cgroup with others: it has no usage of its own to show).
pub fn container_cgroup<'a>(
    idx: &CgroupIndex<'a>,
    c: &Container,
    controller: &str,
) -> Option<&'a Cgroup> {
    let key = hierarchy_for(idx.snap, controller)?;
    idx.get(key, c.cgroups.get(key)?)
}

fn container_cpu(idx: &CgroupIndex, cpu: &CpuMap, c: &Container) -> Option<f64> {
    let cg = container_cgroup(idx, c, "cpuacct").or_else(|| container_cgroup(idx, c, "cpu"))?;
    cpu_at(idx.snap, cpu, cg)
}

/// CPU% of a cgroup; for a v1 hierarchy without cpuacct, that of the same path in the one with it.
pub fn cpu_at(snap: &Snapshot, cpu: &CpuMap, c: &Cgroup) -> Option<f64> {
    cpu.get(&(c.hierarchy.clone(), c.path.clone()))
        .or_else(|| {
            let h = hierarchy_for(snap, "cpuacct")?;
            cpu.get(&(h.to_string(), c.path.clone()))
        })
        .copied()
}

/// The text a container's row is found by: names, ids, image, runtime, PIDs, namespace
/// inodes, cgroup path, hostname, compose project and pod.
fn container_search(snap: &Snapshot, c: &Container) -> String {
    let hostname = c
        .namespaces
        .get(&NsType::Uts)
        .filter(|_| !c.shared_with_host.contains(&NsType::Uts))
        .and_then(|ino| snap.namespaces.get(&(NsType::Uts, *ino)))
        .and_then(|ns| ns.hostname.as_deref());
    let mut words: Vec<&str> = vec![c.name.as_str(), c.state.as_str()];
    words.extend(c.id.as_deref());
    words.extend(c.image.as_deref());
    words.extend(c.runtime.map(|r| r.name()));
    words.extend(c.cgroup.as_deref());
    words.extend(hostname);
    words.extend(c.compose_project.as_deref());
    if let Some(pod) = &c.pod {
        words.extend(pod.namespace.as_deref());
        words.extend(pod.name.as_deref());
    }
    let numbers = c
        .pids
        .iter()
        .map(|p| p.to_string())
        .chain(
            c.private_namespaces()
                .filter_map(|t| c.namespaces.get(&t))
                .map(|i| i.to_string()),
        )
        .collect::<Vec<_>>()
        .join(" ");
    format!("{} {numbers}", words.join(" ")).to_lowercase()
}

/// CPU% of the host's row: the root cgroup of the hierarchy with cpuacct.
fn host_cpu(snap: &Snapshot, cpu: &CpuMap) -> Option<f64> {
    let h = hierarchy_for(snap, "cpuacct")?;
    snap.cgroups
        .iter()
        .find(|c| c.path == "/" && c.hierarchy == h)
        .and_then(|c| cpu.get(&(c.hierarchy.clone(), c.path.clone())).copied())
}

/// The CPU% and MEM / LIMIT cells of Containers rows built from an earlier snapshot with the same
/// containers and processes, from `snap`'s cgroup usage: what changes from one second to the
/// next on an idle host.
pub fn update_container_usage(rows: &mut [Row], snap: &Snapshot, cpu: &CpuMap) {
    let by_key: HashMap<&str, &Container> = snap.containers.iter().map(|c| (c.key(), c)).collect();
    let idx = CgroupIndex::new(snap);
    for row in rows {
        let (cpu_now, mem) = match &row.key {
            RowKey::Container(k) => match by_key.get(k.as_str()) {
                Some(c) => (
                    cpu_cell(container_cpu(&idx, cpu, c)),
                    mem_cell(container_cgroup(&idx, c, "memory")),
                ),
                None => continue,
            },
            RowKey::Host => (cpu_cell(host_cpu(snap, cpu)), Cell::none()),
            _ => continue,
        };
        if let Some(cell) = row.cells.get_mut(CONTAINER_CPU_COLUMN) {
            *cell = cpu_now;
        }
        if let Some(cell) = row.cells.get_mut(CONTAINER_MEM_COLUMN) {
            *cell = mem;
        }
    }
}

/// Containers view: containers and the isolation groups no runtime owns, named network
/// namespaces without processes, and the host. `search`: fill [`Row::search`] (for a filter).
pub fn container_rows(snap: &Snapshot, cpu: &CpuMap, search: bool) -> Vec<Row> {
    let idx = CgroupIndex::new(snap);
    let mut rows: Vec<Row> = snap
        .containers
        .iter()
        .map(|c| container_row(&idx, cpu, c, search))
        .collect();
    rows.extend(
        snap.namespaces
            .values()
            .filter(|ns| {
                ns.ns_type == NsType::Net && ns.pids.is_empty() && !ns.bind_mounts.is_empty()
            })
            .map(|ns| named_netns_row(ns, search)),
    );
    rows.push(host_row(snap, cpu));
    rows
}

fn text_or_none(t: Option<&str>) -> Cell {
    t.map_or_else(Cell::none, Cell::text)
}

/// A container's (or isolation group's) row.
fn container_row(idx: &CgroupIndex, cpu: &CpuMap, c: &Container, search: bool) -> Row {
    let snap = idx.snapshot();
    let inside = snap
        .processes
        .get(&c.init_pid)
        .and_then(|p| p.nspid.last().copied());
    Row {
        key: RowKey::Container(c.key().to_string()),
        depth: 0,
        cells: vec![
            Cell::text(c.name.clone()),
            text_or_none(c.runtime.map(|r| r.name())),
            text_or_none(c.image.as_deref()),
            // LXC and nspawn containers (and runc's, here) are known by their name: an id
            // that only repeats it says nothing.
            text_or_none(c.short_id().filter(|id| *id != c.name)),
            Cell::text(crate::model::format::printable_string(c.state_text())),
            Cell::num(c.init_pid as f64, c.init_pid.to_string()),
            inside.map_or(Cell::none(), |i| Cell::num(i as f64, i.to_string())),
            Cell::num(c.pids.len() as f64, c.pids.len().to_string()),
            cpu_cell(container_cpu(idx, cpu, c)),
            mem_cell(container_cgroup(idx, c, "memory")),
            Cell::text(ns_list(c.private_namespaces())),
        ],
        search: if search {
            container_search(snap, c)
        } else {
            String::new()
        },
        has_children: false,
        collapsed: false,
        // Paused or frozen: nothing in it runs (STATE says which, when it has room).
        dim: matches!(c.state.as_str(), "paused" | "frozen" | "freezing"),
    }
}

/// A named network namespace (a bind mount, e.g. /run/netns/NAME) without processes.
fn named_netns_row(ns: &crate::model::Namespace, search: bool) -> Row {
    let name = ns.bind_mounts.first().cloned().unwrap_or_default();
    let short = name.rsplit('/').next().unwrap_or(&name).to_string();
    Row {
        key: RowKey::NetNs(ns.inode),
        depth: 0,
        cells: vec![
            Cell::text(short),
            Cell::text("netns"),
            Cell::none(),
            Cell::none(),
            Cell::none(),
            Cell::none(),
            Cell::none(),
            Cell::num(0.0, "0"),
            Cell::none(),
            Cell::none(),
            Cell::text("net"),
        ],
        search: if search {
            format!("{} {} netns", name, ns.inode).to_lowercase()
        } else {
            String::new()
        },
        has_children: false,
        collapsed: false,
        dim: false,
    }
}

/// The host: the processes no isolation group holds.
fn host_row(snap: &Snapshot, cpu: &CpuMap) -> Row {
    let host_pids: Vec<i32> = snap
        .processes
        .values()
        .filter(|p| snap.group_of(p.pid).is_none())
        .map(|p| p.pid)
        .collect();
    let host_cpu = host_cpu(snap, cpu);
    Row {
        key: RowKey::Host,
        depth: 0,
        cells: vec![
            Cell::text("host"),
            Cell::none(),
            Cell::none(),
            Cell::none(),
            Cell::none(),
            host_pids
                .first()
                .map_or(Cell::none(), |p| Cell::num(*p as f64, p.to_string())),
            Cell::none(),
            Cell::num(host_pids.len() as f64, host_pids.len().to_string()),
            cpu_cell(host_cpu),
            Cell::none(),
            Cell::text("-"),
        ],
        search: "host".into(),
        has_children: false,
        collapsed: false,
        dim: false,
    }
}

/// A short name for a namespace: bind mounts and hostname.
pub fn ns_name(ns: &crate::model::Namespace) -> String {
    let mut parts: Vec<String> = ns.bind_mounts.clone();
    if let Some(h) = &ns.hostname {
        parts.push(h.clone());
    }
    parts.join(" ")
}

/// Namespaces view. `tree`: user namespaces nested by parent, every other namespace under its
/// owning user namespace, pid namespaces by parent. `search`: fill [`Row::search`].
pub fn namespace_items(snap: &Snapshot, tree: bool, search: bool) -> Vec<(Row, Option<RowKey>)> {
    snap.namespaces
        .values()
        .map(|ns| {
            let parent = if tree {
                namespace_parent(snap, ns)
            } else {
                None
            };
            (namespace_row(snap, ns, search), parent)
        })
        .collect()
}

/// Where a namespace hangs in the tree: a user or pid namespace under its parent (a pid
/// namespace without one under its owner), any other under its owning user namespace.
fn namespace_parent(snap: &Snapshot, ns: &crate::model::Namespace) -> Option<RowKey> {
    let parent_ino = match ns.ns_type {
        NsType::User | NsType::Pid => ns.parent.or(if ns.ns_type == NsType::Pid {
            ns.owner
        } else {
            None
        }),
        _ => ns.owner,
    };
    let parent_type = match ns.ns_type {
        NsType::Pid if ns.parent.is_some() => NsType::Pid,
        _ => NsType::User,
    };
    parent_ino
        .filter(|i| snap.namespaces.contains_key(&(parent_type, *i)))
        .map(|i| RowKey::Namespace((parent_type, i)))
}

/// Whose a namespace is: "host" for the host's, else the containers (and isolation groups) whose
/// init is in it, where it is not the host's; empty when none is.
pub fn namespace_owner(snap: &Snapshot, ns: &crate::model::Namespace) -> String {
    if snap
        .host_ns
        .get(&ns.ns_type)
        .is_some_and(|h| h.ino == ns.inode)
    {
        return "host".into();
    }
    snap.containers
        .iter()
        .filter(|c| {
            c.namespaces.get(&ns.ns_type) == Some(&ns.inode)
                && !c.shared_with_host.contains(&ns.ns_type)
        })
        .map(|c| c.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The container (or isolation group) whose own cgroup in `hierarchy` is `path` or above it.
pub fn cgroup_owner<'a>(snap: &'a Snapshot, hierarchy: &str, path: &str) -> Option<&'a str> {
    snap.containers
        .iter()
        .find(|c| {
            c.cgroups.get(hierarchy).is_some_and(|own| {
                own != "/"
                    && (own == path
                        || path
                            .strip_prefix(own.as_str())
                            .is_some_and(|rest| rest.starts_with('/')))
            })
        })
        .map(|c| c.name.as_str())
}

fn text_or_empty(t: &str) -> Cell {
    if t.is_empty() {
        Cell::none()
    } else {
        Cell::text(t)
    }
}

fn namespace_row(snap: &Snapshot, ns: &crate::model::Namespace, search: bool) -> Row {
    let lowest = ns.lowest_pid().and_then(|p| snap.processes.get(&p));
    let command = lowest
        .map(crate::model::Process::command_line)
        .unwrap_or_else(|| "-".into());
    let name = ns_name(ns);
    let owner = namespace_owner(snap, ns);
    Row {
        key: RowKey::Namespace(ns.key()),
        depth: 0,
        cells: vec![
            Cell {
                text: ns.ns_type.name().into(),
                sort: SortVal::Num(ns.ns_type as u8 as f64),
            },
            Cell::num(ns.inode as f64, ns.inode.to_string()),
            Cell::num(ns.pids.len() as f64, ns.pids.len().to_string()),
            ns.lowest_pid()
                .map_or(Cell::none(), |p| Cell::num(p as f64, p.to_string())),
            text_or_empty(&owner),
            text_or_empty(&name),
            Cell::text(command.clone()),
        ],
        search: if search {
            format!(
                "{} {} {} {} {} {}",
                ns.ns_type,
                ns.inode,
                owner,
                name,
                command,
                search_pids(&ns.pids)
            )
            .to_lowercase()
        } else {
            String::new()
        },
        has_children: false,
        collapsed: false,
        dim: ns.pids.is_empty() && ns.bind_mounts.is_empty(),
    }
}

/// The first PIDs of a row's members, for the filter to match (a row with thousands of members
/// is found by its first ones; the rest would only make every search slower).
fn search_pids(pids: &[i32]) -> String {
    pids.iter()
        .take(64)
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Cgroups view: the tree of one hierarchy. `search`: fill [`Row::search`].
pub fn cgroup_items(
    snap: &Snapshot,
    hierarchy: &str,
    cpu: &CpuMap,
    search: bool,
) -> Vec<(Row, Option<RowKey>)> {
    snap.cgroups
        .iter()
        .filter(|c| c.hierarchy == hierarchy)
        .map(|c| {
            let name = if c.path == "/" {
                "/".to_string()
            } else {
                c.path.rsplit('/').next().unwrap_or(&c.path).to_string()
            };
            let parent = if c.path == "/" {
                None
            } else {
                let p = match c.path.rfind('/') {
                    Some(0) | None => "/".to_string(),
                    Some(i) => c.path[..i].to_string(),
                };
                Some(RowKey::Cgroup(hierarchy.to_string(), p))
            };
            let pids = match pids_of(c) {
                Some((cur, Some(max))) => Cell::num(cur as f64, format!("{cur}/{max}")),
                Some((cur, None)) => Cell::num(cur as f64, format!("{cur}/max")),
                None => Cell::none(),
            };
            let limits = crate::model::format::main_limits(c);
            let owner = cgroup_owner(snap, hierarchy, &c.path);
            let row = Row {
                key: RowKey::Cgroup(hierarchy.to_string(), c.path.clone()),
                depth: 0,
                cells: vec![
                    Cell::text(name),
                    owner.map_or_else(Cell::none, Cell::text),
                    Cell::num(c.pids.len() as f64, c.pids.len().to_string()),
                    cpu_cell(cpu_at(snap, cpu, c)),
                    mem_cell(Some(c)),
                    pids,
                    if limits.is_empty() {
                        Cell::none()
                    } else {
                        Cell::text(limits)
                    },
                ],
                search: if search {
                    format!(
                        "{} {} {}",
                        c.path,
                        owner.unwrap_or_default(),
                        search_pids(&c.pids)
                    )
                    .to_lowercase()
                } else {
                    String::new()
                },
                has_children: false,
                collapsed: false,
                dim: c.pids.is_empty(),
            };
            (row, parent)
        })
        .collect()
}

/// Processes view: a tree by parent. `search`: fill [`Row::search`].
pub fn process_items(
    snap: &Snapshot,
    users: &dyn Fn(u32) -> String,
    search: bool,
) -> Vec<(Row, Option<RowKey>)> {
    snap.processes
        .values()
        .map(|p| {
            let differs = snap.differs_from_host(p);
            let cg = display_cgroup(snap, p.pid).unwrap_or_else(|| "-".into());
            let command = p.command_line();
            let inside = p.nspid.last().copied().unwrap_or(p.pid);
            let parent = snap
                .processes
                .contains_key(&p.ppid)
                .then_some(RowKey::Process(p.ppid));
            let row = Row {
                key: RowKey::Process(p.pid),
                depth: 0,
                cells: vec![
                    Cell::num(p.pid as f64, p.pid.to_string()),
                    Cell::num(inside as f64, inside.to_string()),
                    Cell::text(users(p.uid)),
                    Cell::text(ns_list(differs.into_iter())),
                    Cell::text(crate::model::format::short_cgroup_path(&cg)),
                    Cell::text(command.clone()),
                ],
                search: if search {
                    format!("{} {} {} {}", p.pid, command, cg, p.comm).to_lowercase()
                } else {
                    String::new()
                },
                has_children: false,
                collapsed: false,
                dim: p.kernel_thread,
            };
            (row, parent)
        })
        .collect()
}

/// Order items as a tree (children after their parent, siblings sorted by `sort`), honour
/// collapsed nodes, and keep only rows matching `filter` plus their ancestors.
pub fn flatten(
    items: Vec<(Row, Option<RowKey>)>,
    sort: Option<(usize, bool)>,
    collapsed: &HashSet<RowKey>,
    filter: &str,
) -> Vec<Row> {
    let mut tree = Tree::of(&items);
    let keep = matching(&items, &tree.index, filter);
    let cmp = |a: &usize, b: &usize| compare(&items, sort, *a, *b);
    tree.roots.sort_by(cmp);
    for v in tree.children.values_mut() {
        v.sort_by(cmp);
    }
    walk(items, &tree, &keep, collapsed)
}

/// Which item is whose child, by index into the items.
struct Tree {
    index: HashMap<RowKey, usize>,
    children: BTreeMap<usize, Vec<usize>>,
    /// Items without a parent among the items.
    roots: Vec<usize>,
}

impl Tree {
    fn of(items: &[(Row, Option<RowKey>)]) -> Tree {
        let index: HashMap<RowKey, usize> = items
            .iter()
            .enumerate()
            .map(|(i, (r, _))| (r.key.clone(), i))
            .collect();
        let mut children: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        let mut roots = Vec::new();
        for (i, (_, parent)) in items.iter().enumerate() {
            match parent.as_ref().and_then(|p| index.get(p)) {
                Some(&pi) if pi != i => children.entry(pi).or_default().push(i),
                _ => roots.push(i),
            }
        }
        Tree {
            index,
            children,
            roots,
        }
    }
}

/// Filter: a row is kept if it matches or a descendant matches (all rows without a filter).
fn matching(
    items: &[(Row, Option<RowKey>)],
    index: &HashMap<RowKey, usize>,
    filter: &str,
) -> Vec<bool> {
    let needle = filter.trim().to_lowercase();
    let mut keep = vec![needle.is_empty(); items.len()];
    if needle.is_empty() {
        return keep;
    }
    for (i, (r, _)) in items.iter().enumerate() {
        if r.search.contains(&needle) {
            // Mark it and its ancestors.
            let mut cur = Some(i);
            let mut guard = 0;
            while let Some(c) = cur {
                if keep[c] || guard > items.len() {
                    break;
                }
                keep[c] = true;
                guard += 1;
                cur = items[c].1.as_ref().and_then(|p| index.get(p)).copied();
            }
        }
    }
    keep
}

/// The order of items `a` and `b` by the sort column (reversed or not).
fn compare(
    items: &[(Row, Option<RowKey>)],
    sort: Option<(usize, bool)>,
    a: usize,
    b: usize,
) -> Ordering {
    let Some((col, rev)) = sort else {
        return Ordering::Equal;
    };
    let va = items[a].0.cells.get(col).map(|c| &c.sort);
    let vb = items[b].0.cells.get(col).map(|c| &c.sort);
    match (va, vb) {
        // Rows without a value stay last in either direction.
        (Some(SortVal::None), _) | (_, Some(SortVal::None)) => {
            va.zip(vb).map_or(Ordering::Equal, |(x, y)| x.cmp(y))
        }
        (Some(x), Some(y)) if rev => x.cmp(y).reverse(),
        (Some(x), Some(y)) => x.cmp(y),
        _ => Ordering::Equal,
    }
}

/// The kept rows in tree order, with their depth; below a collapsed row nothing.
fn walk(
    items: Vec<(Row, Option<RowKey>)>,
    tree: &Tree,
    keep: &[bool],
    collapsed: &HashSet<RowKey>,
) -> Vec<Row> {
    let mut out = Vec::with_capacity(items.len());
    // Each row is moved out once (a tree walk visits each index at most once).
    let mut slots: Vec<Option<Row>> = items.into_iter().map(|(r, _)| Some(r)).collect();
    let mut stack: Vec<(usize, usize)> = tree.roots.iter().rev().map(|r| (*r, 0)).collect();
    while let Some((i, depth)) = stack.pop() {
        let Some(mut row) = slots.get_mut(i).and_then(Option::take) else {
            continue;
        };
        if !keep[i] {
            continue;
        }
        row.depth = depth;
        let kids = tree.children.get(&i).map(Vec::as_slice).unwrap_or(&[]);
        row.has_children = kids.iter().any(|k| keep[*k]);
        row.collapsed = row.has_children && collapsed.contains(&row.key);
        let expand = !row.collapsed;
        out.push(row);
        if expand {
            for k in kids.iter().rev() {
                stack.push((*k, depth + 1));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(key: i32, parent: Option<i32>, name: &str) -> (Row, Option<RowKey>) {
        (
            Row {
                key: RowKey::Process(key),
                depth: 0,
                cells: vec![Cell::num(key as f64, key.to_string()), Cell::text(name)],
                search: name.to_string(),
                has_children: false,
                collapsed: false,
                dim: false,
            },
            parent.map(RowKey::Process),
        )
    }

    #[test]
    fn tree_sort_collapse_filter() {
        let items = vec![
            item(1, None, "init"),
            item(10, Some(1), "b-child"),
            item(5, Some(1), "a-child"),
            item(11, Some(10), "grandchild"),
        ];
        let rows = flatten(items.clone(), Some((0, false)), &HashSet::new(), "");
        let keys: Vec<_> = rows.iter().map(|r| (r.key.clone(), r.depth)).collect();
        assert_eq!(
            keys,
            vec![
                (RowKey::Process(1), 0),
                (RowKey::Process(5), 1),
                (RowKey::Process(10), 1),
                (RowKey::Process(11), 2)
            ]
        );
        let rev = flatten(items.clone(), Some((1, true)), &HashSet::new(), "");
        assert_eq!(rev[1].key, RowKey::Process(10));
        let mut collapsed = HashSet::new();
        collapsed.insert(RowKey::Process(10));
        let c = flatten(items.clone(), Some((0, false)), &collapsed, "");
        assert_eq!(c.len(), 3);
        assert!(c[2].collapsed);
        let f = flatten(items, Some((0, false)), &HashSet::new(), "grand");
        let keys: Vec<_> = f.iter().map(|r| r.key.clone()).collect();
        assert_eq!(
            keys,
            vec![RowKey::Process(1), RowKey::Process(10), RowKey::Process(11)]
        );
    }
}
