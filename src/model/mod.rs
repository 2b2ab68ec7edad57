//! The model: one snapshot of the host, grouped by namespace identity and by cgroup. Pure data;
//! built by [`crate::collect`], read by the CLI and the UI.

pub mod containers;
pub mod format;
pub mod rates;
pub mod target;
mod types;

pub use types::*;

use serde::Serialize;
use std::collections::BTreeMap;

/// A namespace and what is known about it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Namespace {
    #[serde(rename = "type")]
    pub ns_type: NsType,
    pub inode: u64,
    /// Device of the nsfs file (one nsfs superblock holds every namespace, so the inode alone is
    /// unique today; the device is kept so a future kernel cannot silently merge two).
    #[serde(skip)]
    pub dev: u64,
    /// Member processes (whose /proc/PID/ns/TYPE is this namespace), sorted.
    pub pids: Vec<i32>,
    /// Owning user namespace (NS_GET_USERNS).
    pub owner: Option<u64>,
    /// Parent namespace (NS_GET_PARENT; pid and user namespaces).
    pub parent: Option<u64>,
    /// For user namespaces: the UID of the creator (NS_GET_OWNER_UID).
    pub owner_uid: Option<u32>,
    /// nsfs bind mounts holding it, as paths in the mount namespace where they were found.
    pub bind_mounts: Vec<String>,
    pub hostname: Option<String>,
    pub domainname: Option<String>,
    pub interfaces: Option<Vec<Interface>>,
}

impl Namespace {
    pub fn new(ns_type: NsType, id: NsId) -> Self {
        Namespace {
            ns_type,
            inode: id.ino,
            dev: id.dev,
            pids: Vec::new(),
            owner: None,
            parent: None,
            owner_uid: None,
            bind_mounts: Vec::new(),
            hostname: None,
            domainname: None,
            interfaces: None,
        }
    }

    pub fn key(&self) -> NsKey {
        (self.ns_type, self.inode)
    }

    /// The lowest member PID.
    pub fn lowest_pid(&self) -> Option<i32> {
        self.pids.first().copied()
    }
}

/// How namespaces are keyed in the model: (type, inode), as lsns does.
pub type NsKey = (NsType, u64);

/// Processes sharing the same set of non-host namespaces: a container as the kernel sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IsolationGroup {
    /// `comm[init pid]` until a runtime gives a better name.
    pub name: String,
    /// The group's init: the member that is PID 1 of a new pid namespace, else the lowest PID.
    pub init_pid: i32,
    pub pids: Vec<i32>,
    /// The namespaces in which the group differs from the host, type -> inode.
    pub private: BTreeMap<NsType, u64>,
}

/// The host as uname(2) describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct HostInfo {
    pub hostname: String,
    /// Kernel release ("6.18.44").
    pub kernel: String,
}

/// One collection pass, complete and self-consistent.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// When the pass started (for rates between two snapshots).
    pub taken_at: Option<std::time::Instant>,
    pub host: HostInfo,
    pub processes: BTreeMap<i32, Process>,
    pub namespaces: BTreeMap<NsKey, Namespace>,
    /// The host's namespaces: those of PID 1 (or of nsview itself when PID 1 is unreadable).
    pub host_ns: BTreeMap<NsType, NsId>,
    pub groups: Vec<IsolationGroup>,
    /// Containers recognised from their cgroups and named from runtimes' records, and the
    /// isolation groups no runtime is known to own (see [`containers`]), by init PID.
    pub containers: Vec<containers::Container>,
    pub cgroup_mode: Option<CgroupMode>,
    pub hierarchies: Vec<Hierarchy>,
    /// Sorted by hierarchy order, then path (parents before children).
    pub cgroups: Vec<Cgroup>,
    /// One line per kind of problem ("need root to read ...").
    pub warnings: Vec<String>,
    /// Lookup tables, built on first use (a snapshot is not changed once collected).
    index: std::sync::OnceLock<Index>,
}

/// Lookups the UI makes for every row: PID -> group, PID -> container, (hierarchy, path) ->
/// cgroup.
#[derive(Debug, Clone, Default)]
struct Index {
    group_of_pid: std::collections::HashMap<i32, usize>,
    container_of_pid: std::collections::HashMap<i32, usize>,
    cgroup: std::collections::HashMap<(String, String), usize>,
}

impl Snapshot {
    /// Namespace types in which `p` differs from the host.
    pub fn differs_from_host(&self, p: &Process) -> Vec<NsType> {
        p.ns.iter()
            .filter(|(t, id)| self.host_ns.get(t).is_some_and(|h| h.ino != id.ino))
            .map(|(t, _)| *t)
            .collect()
    }

    fn index(&self) -> &Index {
        self.index.get_or_init(|| Index {
            group_of_pid: self
                .groups
                .iter()
                .enumerate()
                .flat_map(|(i, g)| g.pids.iter().map(move |p| (*p, i)))
                .collect(),
            container_of_pid: self
                .containers
                .iter()
                .enumerate()
                .flat_map(|(i, c)| c.pids.iter().map(move |p| (*p, i)))
                .collect(),
            cgroup: self
                .cgroups
                .iter()
                .enumerate()
                .map(|(i, c)| ((c.hierarchy.clone(), c.path.clone()), i))
                .collect(),
        })
    }

    /// The isolation group a process belongs to, if it is not a host process.
    pub fn group_of(&self, pid: i32) -> Option<&IsolationGroup> {
        self.groups.get(*self.index().group_of_pid.get(&pid)?)
    }

    /// The container (or isolation group) a process belongs to.
    pub fn container_of(&self, pid: i32) -> Option<&containers::Container> {
        self.containers
            .get(*self.index().container_of_pid.get(&pid)?)
    }

    /// The container whose [`containers::Container::key`] is `key`.
    pub fn container(&self, key: &str) -> Option<&containers::Container> {
        self.containers.iter().find(|c| c.key() == key)
    }

    /// The cgroup at `path` in hierarchy `key`.
    pub fn cgroup(&self, key: &str, path: &str) -> Option<&Cgroup> {
        let i = *self
            .index()
            .cgroup
            .get(&(key.to_string(), path.to_string()))?;
        self.cgroups.get(i)
    }

    /// Cgroups of a process, in hierarchy order.
    pub fn cgroups_of(&self, p: &Process) -> Vec<&Cgroup> {
        self.cgroups
            .iter()
            .filter(|c| p.cgroups.get(c.hierarchy.as_str()).map(|s| &**s) == Some(c.path.as_str()))
            .collect()
    }

    /// The namespaces of a process, in type order.
    pub fn namespaces_of(&self, p: &Process) -> Vec<&Namespace> {
        p.ns.iter()
            .filter_map(|(t, id)| self.namespaces.get(&(*t, id.ino)))
            .collect()
    }
}

/// Group processes by namespace identity: every (type, inode) a process is in becomes a
/// [`Namespace`] with its members.
pub fn namespaces_from_processes(processes: &BTreeMap<i32, Process>) -> BTreeMap<NsKey, Namespace> {
    let mut out: BTreeMap<NsKey, Namespace> = BTreeMap::new();
    for p in processes.values() {
        for (t, id) in &p.ns {
            out.entry((*t, id.ino))
                .or_insert_with(|| Namespace::new(*t, *id))
                .pids
                .push(p.pid);
        }
    }
    // Processes are visited in PID order, so member lists are already sorted.
    out
}

/// Isolation groups: processes whose set of non-host namespaces is the same and not empty.
/// Kernel threads are left out: a few (kdevtmpfs) run in a private mount namespace, but they are
/// part of the kernel, not an isolated workload.
pub fn isolation_groups(
    processes: &BTreeMap<i32, Process>,
    host: &BTreeMap<NsType, NsId>,
) -> Vec<IsolationGroup> {
    let mut by_key: BTreeMap<BTreeMap<NsType, u64>, Vec<&Process>> = BTreeMap::new();
    for p in processes.values().filter(|p| !p.kernel_thread) {
        let private: BTreeMap<NsType, u64> =
            p.ns.iter()
                .filter(|(t, id)| host.get(t).is_some_and(|h| h.ino != id.ino))
                .map(|(t, id)| (*t, id.ino))
                .collect();
        if !private.is_empty() {
            by_key.entry(private).or_default().push(p);
        }
    }
    let mut groups: Vec<IsolationGroup> = by_key
        .into_iter()
        .filter_map(|(private, members)| {
            let init = members
                .iter()
                .find(|p| p.nspid.len() > 1 && p.nspid.last() == Some(&1))
                .or_else(|| members.first())?;
            Some(IsolationGroup {
                name: format!("{}[{}]", init.comm, init.pid),
                init_pid: init.pid,
                pids: members.iter().map(|p| p.pid).collect(),
                private,
            })
        })
        .collect();
    groups.sort_by_key(|g| g.init_pid);
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proc(pid: i32, nspid: Vec<i32>, ns: &[(NsType, u64)]) -> Process {
        Process {
            pid,
            ppid: 1,
            nspid,
            comm: format!("p{pid}"),
            cmdline: vec![],
            uid: 0,
            ns: ns
                .iter()
                .map(|(t, i)| (*t, NsId { dev: 4, ino: *i }))
                .collect(),
            pid_for_children: None,
            time_for_children: None,
            cgroups: BTreeMap::new(),
            kernel_thread: false,
        }
    }

    #[test]
    fn groups_by_private_namespace_set() {
        use NsType::*;
        let host = [(Mnt, 1), (Pid, 2), (Net, 3)];
        let c = [(Mnt, 11), (Pid, 12), (Net, 3)];
        let d = [(Mnt, 21), (Pid, 2), (Net, 23)];
        let mut ps = BTreeMap::new();
        for p in [
            proc(1, vec![1], &host),
            proc(50, vec![50], &host),
            proc(100, vec![100, 1], &c),
            proc(101, vec![101, 2], &c),
            proc(99, vec![99], &c), // lower host PID but not the pid-namespace init
            proc(200, vec![200], &d),
            proc(201, vec![201], &d),
            Process {
                kernel_thread: true,
                ..proc(25, vec![25], &[(Mnt, 99), (Pid, 2), (Net, 3)])
            },
        ] {
            ps.insert(p.pid, p);
        }
        let host_ns = ps[&1].ns.clone();
        let g = isolation_groups(&ps, &host_ns);
        assert_eq!(g.len(), 2);
        assert_eq!(g[0].init_pid, 100);
        assert_eq!(g[0].pids, vec![99, 100, 101]);
        assert_eq!(
            g[0].private.keys().copied().collect::<Vec<_>>(),
            vec![Mnt, Pid]
        );
        assert_eq!(g[0].name, "p100[100]");
        assert_eq!(g[1].init_pid, 200);
        let ns = namespaces_from_processes(&ps);
        assert_eq!(ns[&(Mnt, 1)].pids, vec![1, 50]);
        assert_eq!(ns[&(Net, 3)].pids, vec![1, 25, 50, 99, 100, 101]);
        assert_eq!(ns[&(Net, 3)].lowest_pid(), Some(1));
    }
}
