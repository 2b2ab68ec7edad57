//! What a frame stores of a [`Snapshot`], and the delta between two snapshots.
//!
//! A full frame stores a [`State`]: everything a snapshot holds except what is computed from the
//! rest (the members of namespaces and cgroups come from the processes' own links and
//! /proc/PID/cgroup, isolation groups from the processes' namespaces), so that a process
//! starting on the host does not store the host's eight member lists again. A delta frame stores
//! a [`Delta`]: the processes, namespaces, containers and cgroups that came, went or changed, a
//! changed cgroup as the control files whose values moved.

use crate::model::containers::Container;
use crate::model::{
    CgValue, Cgroup, CgroupMode, DeviceRule, Hierarchy, HostInfo, Interface, Namespace, NsId,
    NsKey, NsType, Process, Snapshot,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// A namespace without its members.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredNamespace {
    #[serde(rename = "type")]
    pub ns_type: NsType,
    pub inode: u64,
    #[serde(default)]
    pub dev: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_uid: Option<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bind_mounts: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domainname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interfaces: Option<Vec<Interface>>,
}

impl StoredNamespace {
    fn of(ns: &Namespace) -> StoredNamespace {
        StoredNamespace {
            ns_type: ns.ns_type,
            inode: ns.inode,
            dev: ns.dev,
            owner: ns.owner,
            parent: ns.parent,
            owner_uid: ns.owner_uid,
            bind_mounts: ns.bind_mounts.clone(),
            hostname: ns.hostname.clone(),
            domainname: ns.domainname.clone(),
            interfaces: ns.interfaces.clone(),
        }
    }

    fn key(&self) -> NsKey {
        (self.ns_type, self.inode)
    }

    fn into_namespace(self) -> Namespace {
        Namespace {
            ns_type: self.ns_type,
            inode: self.inode,
            dev: self.dev,
            pids: Vec::new(),
            owner: self.owner,
            parent: self.parent,
            owner_uid: self.owner_uid,
            bind_mounts: self.bind_mounts,
            hostname: self.hostname,
            domainname: self.domainname,
            interfaces: self.interfaces,
        }
    }
}

/// True when two namespaces differ at most in their members (compared without a copy: every
/// frame compares every namespace).
fn same_but_members(a: &Namespace, b: &Namespace) -> bool {
    a.ns_type == b.ns_type
        && a.inode == b.inode
        && a.dev == b.dev
        && a.owner == b.owner
        && a.parent == b.parent
        && a.owner_uid == b.owner_uid
        && a.bind_mounts == b.bind_mounts
        && a.hostname == b.hostname
        && a.domainname == b.domainname
        && a.interfaces == b.interfaces
}

/// A cgroup without its members, with its values as the kernel gave them (v1's "no limit"
/// sentinels as numbers, not the JSON contract's "max").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredCgroup {
    #[serde(rename = "h")]
    pub hierarchy: String,
    #[serde(rename = "p")]
    pub path: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub limits: BTreeMap<String, CgValue>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub usage: BTreeMap<String, CgValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub devices: Option<Vec<DeviceRule>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub devices_default: Option<String>,
    #[serde(default)]
    pub owner_uid: u32,
}

impl StoredCgroup {
    fn of(cg: &Cgroup) -> StoredCgroup {
        StoredCgroup {
            hierarchy: cg.hierarchy.clone(),
            path: cg.path.clone(),
            limits: cg.limits.clone(),
            usage: cg.usage.clone(),
            devices: cg.devices.clone(),
            devices_default: cg.devices_default.clone(),
            owner_uid: cg.owner_uid,
        }
    }

    fn into_cgroup(self) -> Cgroup {
        Cgroup {
            hierarchy: self.hierarchy,
            path: self.path,
            pids: Vec::new(),
            limits: self.limits,
            usage: self.usage,
            devices: self.devices,
            devices_default: self.devices_default,
            owner_uid: self.owner_uid,
        }
    }
}

/// What describes the host as a whole; stored again whole when any of it changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Head {
    pub host: HostInfo,
    pub host_ns: BTreeMap<NsType, NsId>,
    pub cgroup_mode: Option<CgroupMode>,
    pub hierarchies: Vec<Hierarchy>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl Head {
    fn of(s: &Snapshot) -> Head {
        Head {
            host: s.host.clone(),
            host_ns: s.host_ns.clone(),
            cgroup_mode: s.cgroup_mode,
            hierarchies: s.hierarchies.clone(),
            warnings: s.warnings.clone(),
        }
    }

    /// True when two snapshots have the same head (compared in place: every frame asks).
    fn same_in(a: &Snapshot, b: &Snapshot) -> bool {
        a.host == b.host
            && a.host_ns == b.host_ns
            && a.cgroup_mode == b.cgroup_mode
            && a.hierarchies == b.hierarchies
            && a.warnings == b.warnings
    }
}

/// A full frame's content. Stored by [`State::to_json`]: maps as lists (a JSON key must be a
/// string; a namespace's key is a pair).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct State {
    pub head: Head,
    pub processes: BTreeMap<i32, Process>,
    pub namespaces: BTreeMap<NsKey, StoredNamespace>,
    pub containers: Vec<Container>,
    pub cgroups: Vec<StoredCgroup>,
}

impl State {
    /// What a full frame stores of `snap`.
    pub fn of(snap: &Snapshot) -> State {
        State {
            head: Head::of(snap),
            processes: snap.processes.clone(),
            namespaces: snap
                .namespaces
                .iter()
                .map(|(k, ns)| (*k, StoredNamespace::of(ns)))
                .collect(),
            containers: snap.containers.clone(),
            cgroups: snap.cgroups.iter().map(StoredCgroup::of).collect(),
        }
    }

    /// The snapshot this state describes, members and isolation groups computed again.
    pub fn to_snapshot(&self, taken_at: Option<std::time::Instant>) -> Snapshot {
        let mut namespaces: BTreeMap<NsKey, Namespace> = self
            .namespaces
            .iter()
            .map(|(k, ns)| (*k, ns.clone().into_namespace()))
            .collect();
        for p in self.processes.values() {
            for (t, id) in &p.ns {
                namespaces
                    .entry((*t, id.ino))
                    .or_insert_with(|| Namespace::new(*t, *id))
                    .pids
                    .push(p.pid);
            }
        }
        let mut members: HashMap<(&str, &str), Vec<i32>> = HashMap::new();
        for p in self.processes.values() {
            for (key, path) in &p.cgroups {
                members.entry((key, path)).or_default().push(p.pid);
            }
        }
        let cgroups = self
            .cgroups
            .iter()
            .map(|c| {
                let pids = members
                    .remove(&(c.hierarchy.as_str(), c.path.as_str()))
                    .unwrap_or_default();
                Cgroup {
                    pids,
                    ..c.clone().into_cgroup()
                }
            })
            .collect();
        let groups = crate::model::isolation_groups(&self.processes, &self.head.host_ns);
        // Snapshot's lookup index is private: fields are set one by one.
        let mut snap = Snapshot::default();
        snap.taken_at = taken_at;
        snap.host = self.head.host.clone();
        snap.processes = self.processes.clone();
        snap.namespaces = namespaces;
        snap.host_ns = self.head.host_ns.clone();
        snap.groups = groups;
        snap.containers = self.containers.clone();
        snap.cgroup_mode = self.head.cgroup_mode;
        snap.hierarchies = self.head.hierarchies.clone();
        snap.cgroups = cgroups;
        snap.warnings = self.head.warnings.clone();
        snap
    }

    /// Apply a delta made against this state.
    pub fn apply(&mut self, d: Delta) {
        if let Some(head) = d.head {
            self.head = head;
        }
        for pid in d.processes_gone {
            self.processes.remove(&pid);
        }
        for p in d.processes {
            self.processes.insert(p.pid, p);
        }
        for k in d.namespaces_gone {
            self.namespaces.remove(&k);
        }
        for ns in d.namespaces {
            self.namespaces.insert(ns.key(), ns);
        }
        if !d.containers_gone.is_empty() || !d.containers.is_empty() {
            self.containers
                .retain(|c| !d.containers_gone.iter().any(|k| k == c.key()));
            for c in d.containers {
                match self.containers.iter_mut().find(|o| o.key() == c.key()) {
                    Some(old) => *old = c,
                    None => self.containers.push(c),
                }
            }
            self.containers.sort_by_key(|c| c.init_pid);
        }
        if !d.cgroups_gone.is_empty() || !d.cgroups.is_empty() {
            self.apply_cgroups(d.cgroups_gone, d.cgroups);
        }
    }

    fn apply_cgroups(&mut self, gone: Vec<(String, String)>, patches: Vec<CgroupPatch>) {
        let gone: std::collections::HashSet<(String, String)> = gone.into_iter().collect();
        self.cgroups
            .retain(|c| !gone.contains(&(c.hierarchy.clone(), c.path.clone())));
        let mut index: HashMap<(String, String), usize> = self
            .cgroups
            .iter()
            .enumerate()
            .map(|(i, c)| ((c.hierarchy.clone(), c.path.clone()), i))
            .collect();
        let mut added = false;
        for p in patches {
            let key = (p.hierarchy.clone(), p.path.clone());
            let i = match index.get(&key) {
                Some(i) => *i,
                None => {
                    self.cgroups.push(StoredCgroup {
                        hierarchy: p.hierarchy.clone(),
                        path: p.path.clone(),
                        limits: BTreeMap::new(),
                        usage: BTreeMap::new(),
                        devices: None,
                        devices_default: None,
                        owner_uid: 0,
                    });
                    index.insert(key, self.cgroups.len() - 1);
                    added = true;
                    self.cgroups.len() - 1
                }
            };
            if let Some(cg) = self.cgroups.get_mut(i) {
                p.apply_to(cg);
            }
        }
        if added {
            let order: HashMap<&str, usize> = self
                .head
                .hierarchies
                .iter()
                .enumerate()
                .map(|(i, h)| (h.key.as_str(), i))
                .collect();
            let mut keyed: Vec<(usize, Vec<String>, StoredCgroup)> =
                std::mem::take(&mut self.cgroups)
                    .into_iter()
                    .map(|c| {
                        let h = order
                            .get(c.hierarchy.as_str())
                            .copied()
                            .unwrap_or(usize::MAX);
                        let parts = c
                            .path
                            .split('/')
                            .filter(|s| !s.is_empty())
                            .map(str::to_string)
                            .collect();
                        (h, parts, c)
                    })
                    .collect();
            // The collector's walk: hierarchies in order, each tree depth first with children
            // sorted by name, which is the order of the paths' components.
            keyed.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
            self.cgroups = keyed.into_iter().map(|(_, _, c)| c).collect();
        }
    }

    /// Serialize for a full frame.
    pub fn to_json(&self) -> serde_json::Result<Vec<u8>> {
        #[derive(Serialize)]
        struct Out<'a> {
            head: &'a Head,
            processes: Vec<&'a Process>,
            namespaces: Vec<&'a StoredNamespace>,
            containers: &'a [Container],
            cgroups: &'a [StoredCgroup],
        }
        serde_json::to_vec(&Out {
            head: &self.head,
            processes: self.processes.values().collect(),
            namespaces: self.namespaces.values().collect(),
            containers: &self.containers,
            cgroups: &self.cgroups,
        })
    }

    /// Read a full frame's content.
    pub fn from_json(bytes: &[u8]) -> serde_json::Result<State> {
        #[derive(Deserialize)]
        struct In {
            head: Head,
            processes: Vec<Process>,
            namespaces: Vec<StoredNamespace>,
            containers: Vec<Container>,
            cgroups: Vec<StoredCgroup>,
        }
        let i: In = serde_json::from_slice(bytes)?;
        Ok(State {
            head: i.head,
            processes: i.processes.into_iter().map(|p| (p.pid, p)).collect(),
            namespaces: i.namespaces.into_iter().map(|n| (n.key(), n)).collect(),
            containers: i.containers,
            cgroups: i.cgroups,
        })
    }
}

/// A cgroup's change: the control files whose values changed (None: the file is gone), and the
/// rest when it changed. A new cgroup is a patch from nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CgroupPatch {
    #[serde(rename = "h")]
    pub hierarchy: String,
    #[serde(rename = "p")]
    pub path: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub limits: BTreeMap<String, Option<CgValue>>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub usage: BTreeMap<String, Option<CgValue>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rest: Option<CgroupRest>,
}

/// What a cgroup holds besides its control files' values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CgroupRest {
    pub devices: Option<Vec<DeviceRule>>,
    pub devices_default: Option<String>,
    pub owner_uid: u32,
}

impl CgroupPatch {
    /// The patch from `old` (None: a new cgroup) to `new`, None when nothing changed.
    fn between(old: Option<&Cgroup>, new: &Cgroup) -> Option<CgroupPatch> {
        let empty = BTreeMap::new();
        let limits = map_patch(old.map_or(&empty, |o| &o.limits), &new.limits);
        let usage = map_patch(old.map_or(&empty, |o| &o.usage), &new.usage);
        let rest_changed = old.is_none_or(|o| {
            o.devices != new.devices
                || o.devices_default != new.devices_default
                || o.owner_uid != new.owner_uid
        });
        if limits.is_empty() && usage.is_empty() && !rest_changed {
            return None;
        }
        Some(CgroupPatch {
            hierarchy: new.hierarchy.clone(),
            path: new.path.clone(),
            limits,
            usage,
            rest: rest_changed.then(|| CgroupRest {
                devices: new.devices.clone(),
                devices_default: new.devices_default.clone(),
                owner_uid: new.owner_uid,
            }),
        })
    }

    fn apply_to(self, cg: &mut StoredCgroup) {
        apply_map(&mut cg.limits, self.limits);
        apply_map(&mut cg.usage, self.usage);
        if let Some(rest) = self.rest {
            cg.devices = rest.devices;
            cg.devices_default = rest.devices_default;
            cg.owner_uid = rest.owner_uid;
        }
    }
}

fn map_patch(
    old: &BTreeMap<String, CgValue>,
    new: &BTreeMap<String, CgValue>,
) -> BTreeMap<String, Option<CgValue>> {
    let mut out: BTreeMap<String, Option<CgValue>> = new
        .iter()
        .filter(|(k, v)| old.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), Some(v.clone())))
        .collect();
    for k in old.keys().filter(|k| !new.contains_key(*k)) {
        out.insert(k.clone(), None);
    }
    out
}

fn apply_map(map: &mut BTreeMap<String, CgValue>, patch: BTreeMap<String, Option<CgValue>>) {
    for (k, v) in patch {
        match v {
            Some(v) => map.insert(k, v),
            None => map.remove(&k),
        };
    }
}

/// A delta frame's content: what changed since the frame before.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Delta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head: Option<Head>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub processes: Vec<Process>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub processes_gone: Vec<i32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub namespaces: Vec<StoredNamespace>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub namespaces_gone: Vec<NsKey>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub containers: Vec<Container>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub containers_gone: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cgroups: Vec<CgroupPatch>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cgroups_gone: Vec<(String, String)>,
}

impl Delta {
    /// Read a delta frame's content.
    pub fn from_json(bytes: &[u8]) -> serde_json::Result<Delta> {
        serde_json::from_slice(bytes)
    }

    /// What changed from `old` to `new`. `same_processes`: the collector says every process is
    /// that of `old` (nothing compared then).
    pub fn between(old: &Snapshot, new: &Snapshot, same_processes: bool) -> Delta {
        Delta::between_pairs(&super::Pairs::new(old, new), same_processes)
    }

    /// The same, with the lookups the frame's events share.
    pub fn between_pairs(pairs: &super::Pairs<'_>, same_processes: bool) -> Delta {
        let (old, new) = (pairs.old, pairs.new);
        let mut d = Delta {
            head: (!Head::same_in(old, new)).then(|| Head::of(new)),
            ..Delta::default()
        };
        if !same_processes {
            d.processes_between(old, new);
        }
        d.namespaces_between(old, new);
        d.containers_between(pairs);
        d.cgroups_between(pairs);
        d
    }

    fn processes_between(&mut self, old: &Snapshot, new: &Snapshot) {
        for (pid, p) in &new.processes {
            if old.processes.get(pid) != Some(p) {
                self.processes.push(p.clone());
            }
        }
        self.processes_gone = old
            .processes
            .keys()
            .filter(|pid| !new.processes.contains_key(pid))
            .copied()
            .collect();
    }

    fn namespaces_between(&mut self, old: &Snapshot, new: &Snapshot) {
        for (k, ns) in &new.namespaces {
            if !old
                .namespaces
                .get(k)
                .is_some_and(|o| same_but_members(o, ns))
            {
                self.namespaces.push(StoredNamespace::of(ns));
            }
        }
        self.namespaces_gone = old
            .namespaces
            .keys()
            .filter(|k| !new.namespaces.contains_key(k))
            .copied()
            .collect();
    }

    fn containers_between(&mut self, pairs: &super::Pairs<'_>) {
        self.containers = pairs
            .new
            .containers
            .iter()
            .filter(|c| pairs.old_containers.get(c.key()) != Some(c))
            .cloned()
            .collect();
        self.containers_gone = pairs
            .old
            .containers
            .iter()
            .filter(|c| !pairs.new_containers.contains(c.key()))
            .map(|c| c.key().to_string())
            .collect();
    }

    fn cgroups_between(&mut self, pairs: &super::Pairs<'_>) {
        self.cgroups = pairs
            .new
            .cgroups
            .iter()
            .filter_map(|c| CgroupPatch::between(pairs.old_cgroup(c), c))
            .collect();
        self.cgroups_gone = pairs
            .old
            .cgroups
            .iter()
            .filter(|c| {
                !pairs
                    .new_cgroups
                    .contains(&(c.hierarchy.as_str(), c.path.as_str()))
            })
            .map(|c| (c.hierarchy.clone(), c.path.clone()))
            .collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cgroup(path: &str, usage: i64) -> Cgroup {
        Cgroup {
            hierarchy: "memory".into(),
            path: path.into(),
            pids: Vec::new(),
            limits: BTreeMap::from([("memory.limit_in_bytes".to_string(), CgValue::Int(1 << 20))]),
            usage: BTreeMap::from([("memory.usage_in_bytes".to_string(), CgValue::Int(usage))]),
            devices: None,
            devices_default: None,
            owner_uid: 0,
        }
    }

    fn snapshot(cgroups: Vec<Cgroup>) -> Snapshot {
        let mut s = Snapshot::default();
        s.hierarchies = vec![Hierarchy {
            key: "memory".into(),
            version: 1,
            controllers: vec!["memory".into()],
            mount: "/sys/fs/cgroup/memory".into(),
            id: 0,
        }];
        s.cgroups = cgroups;
        s
    }

    #[test]
    fn deltas_keep_the_walks_order_and_only_moved_values() {
        let old = snapshot(vec![cgroup("/", 1), cgroup("/a", 2), cgroup("/b", 3)]);
        // As the collector walks: depth first, children sorted by name ("a" < "a-b" < "b").
        let mut new = snapshot(vec![
            cgroup("/", 1),
            cgroup("/a", 5),
            cgroup("/a/x", 6),
            cgroup("/a-b", 7),
        ]);
        new.cgroups[1].limits.clear();
        let d = Delta::between(&old, &new, true);
        assert_eq!(d.cgroups_gone, vec![("memory".into(), "/b".into())]);
        let a = d.cgroups.iter().find(|p| p.path == "/a").unwrap();
        assert_eq!(a.limits["memory.limit_in_bytes"], None);
        assert_eq!(a.usage.len(), 1);
        assert!(a.rest.is_none());
        assert!(!d.cgroups.iter().any(|p| p.path == "/"));
        let mut state = State::of(&old);
        state.apply(serde_json::from_slice(&serde_json::to_vec(&d).unwrap()).unwrap());
        assert_eq!(state, State::of(&new));
    }
}
