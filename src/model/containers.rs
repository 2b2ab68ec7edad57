//! Containers: what the kernel shows (processes grouped by the cgroup a runtime made for them,
//! or by the namespaces they share), named with what runtimes record about them when that is
//! known. Pure: the runtimes' records come in as [`Metadata`], read by the collector.
//!
//! The kernel's side is the truth: a container is listed because its processes are in its
//! cgroup ([`cgroup_path::recognise`]) or form an [`IsolationGroup`]; a runtime's record only
//! adds a name, an image, a state and labels, and a missing record means fewer names, never a
//! missing container.

pub mod cgroup_path;

use super::{CgValue, Cgroup, IsolationGroup, NsType, Process, Snapshot};
use cgroup_path::{Ident, PathMatch};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

/// Who runs a container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Runtime {
    #[serde(rename = "docker")]
    Docker,
    #[serde(rename = "podman")]
    Podman,
    #[serde(rename = "containerd")]
    Containerd,
    #[serde(rename = "cri-o")]
    CriO,
    /// A Kubernetes pod's container whose engine neither the cgroup path (cgroupfs driver:
    /// /kubepods/<qos>/pod<uid>/<id>) nor a runtime's record tells.
    #[serde(rename = "kubernetes")]
    Kubernetes,
    #[serde(rename = "lxc")]
    Lxc,
    #[serde(rename = "nspawn")]
    Nspawn,
    #[serde(rename = "runc")]
    Runc,
}

impl Runtime {
    /// The name nsview prints (and the JSON value).
    pub fn name(self) -> &'static str {
        match self {
            Runtime::Docker => "docker",
            Runtime::Podman => "podman",
            Runtime::Containerd => "containerd",
            Runtime::CriO => "cri-o",
            Runtime::Kubernetes => "kubernetes",
            Runtime::Lxc => "lxc",
            Runtime::Nspawn => "nspawn",
            Runtime::Runc => "runc",
        }
    }
}

impl fmt::Display for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A Kubernetes pod's container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pod {
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub uid: Option<String>,
    /// The container's name in the pod spec; None for the sandbox and when unknown.
    pub container: Option<String>,
    /// True for the pod's sandbox ("pause") container, which holds the pod's namespaces.
    pub sandbox: bool,
}

/// A container, or an isolation group no runtime is known to own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Container {
    /// The runtime's name ("web-1"), `pod/container` for Kubernetes, the LXC or machine name,
    /// the short id when no record names it; `comm[pid]` for an isolation group.
    pub name: String,
    /// The full id (64 hex digits for Docker, podman, containerd and CRI-O; the container's id
    /// for runc); the name for LXC and systemd-nspawn; None for an isolation group.
    pub id: Option<String>,
    /// None: an isolation group no runtime is known to own.
    pub runtime: Option<Runtime>,
    pub image: Option<String>,
    /// "running", "paused" (paused by its runtime), "frozen" (frozen in the kernel by someone
    /// else: freezer.state FROZEN or cgroup.freeze 1), "freezing", or another state the runtime
    /// reports ("created", "restarting").
    pub state: String,
    /// The runtime's own word when it disagrees with the kernel's freezer: "running" for a
    /// container frozen behind its runtime's back (state "frozen"), "paused" for one its runtime
    /// paused and someone thawed (state "running"). Absent when they agree, or when the runtime
    /// was not asked (podman without its API service).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime_state: Option<String>,
    /// Its init: the process its runtime's record names (when that is one of its processes),
    /// else the one that is PID 1 of the container's pid namespace, else its lowest PID.
    pub init_pid: i32,
    /// Its processes (no kernel threads), sorted.
    pub pids: Vec<i32>,
    /// Its cgroup path, in the memory hierarchy when there is one, else the unified one, else
    /// another (for an isolation group without a cgroup of its own: its init's).
    pub cgroup: Option<String>,
    /// Namespaces of its init, type -> inode.
    pub namespaces: BTreeMap<NsType, u64>,
    /// Namespace types in which its init is in the host's namespace.
    pub shared_with_host: Vec<NsType>,
    /// Its own cgroup path per hierarchy key (for an isolation group, only those of its init's
    /// cgroups that hold nothing but its processes: what can be shown and changed as its).
    pub cgroups: BTreeMap<String, String>,
    /// Docker labels, or the Kubernetes annotations of an OCI bundle.
    pub labels: BTreeMap<String, String>,
    /// com.docker.compose.project.
    pub compose_project: Option<String>,
    pub pod: Option<Pod>,
    /// Why a group whose cgroup looks like a runtime's is not named as that runtime's container
    /// ("looks like docker, not confirmed"): no record of the runtime has it, or its cgroup is
    /// below a directory delegated to a user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Container {
    /// What identifies it within a snapshot ([`Snapshot::container`], TARGET resolution): the id
    /// when it has one, else the name (an isolation group's `comm[pid]` holds its init's PID).
    pub fn key(&self) -> &str {
        self.id.as_deref().unwrap_or(&self.name)
    }

    /// The id as `docker ps` shows it: 12 hex digits (other ids whole).
    pub fn short_id(&self) -> Option<&str> {
        let id = self.id.as_deref()?;
        Some(if cgroup_path::is_id(id) {
            id.get(..12).unwrap_or(id)
        } else {
            id
        })
    }

    /// The state as the views print it: with the runtime's word when it disagrees with the
    /// kernel ("frozen (Docker says running)").
    pub fn state_text(&self) -> String {
        match (&self.runtime_state, self.runtime) {
            (Some(says), Some(rt)) => {
                let name = match rt {
                    Runtime::Docker => "Docker",
                    other => other.name(),
                };
                format!("{} ({name} says {says})", self.state)
            }
            _ => self.state.clone(),
        }
    }

    /// Namespace types in which it differs from the host.
    pub fn private_namespaces(&self) -> impl Iterator<Item = NsType> + '_ {
        self.namespaces
            .keys()
            .copied()
            .filter(|t| !self.shared_with_host.contains(t))
    }
}

/// What a runtime records about one container. Every field is optional: a record adds names to
/// what the kernel shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeRecord {
    /// The runtime whose record this is.
    pub runtime: Runtime,
    pub name: Option<String>,
    pub image: Option<String>,
    /// The runtime's state word ("running", "paused", "created", ...).
    pub state: Option<String>,
    /// Docker labels, or Kubernetes annotations of an OCI bundle.
    pub labels: BTreeMap<String, String>,
    /// The host PID of the container's init as the runtime records it (Docker's State.Pid,
    /// podman's OCI runtime's pid file), when running.
    pub init_pid: Option<i32>,
}

/// A Kubernetes pod as its log directory (/var/log/pods/<namespace>_<name>_<uid>/) shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodRecord {
    pub namespace: String,
    pub name: String,
    pub uid: String,
    /// Its containers' names (one log directory each), sorted.
    pub containers: Vec<String>,
}

/// A runc container's state file (state.json in runc's root directory).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuncRecord {
    pub runtime: Runtime,
    pub id: String,
    pub init_pid: i32,
    /// The cgroup path runc was given (config.cgroups.path), when absolute.
    pub cgroup: Option<String>,
}

/// Runtimes' records, as far as they could be read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    /// By full container id.
    pub records: HashMap<String, RuntimeRecord>,
    /// By pod UID.
    pub pods: HashMap<String, PodRecord>,
    pub runc: Vec<RuncRecord>,
    /// Names of the LXC containers whose config exists (owned by root).
    pub lxc: HashSet<String>,
    /// Names of the machines systemd-machined registered (/run/systemd/machines/NAME).
    pub machines: HashSet<String>,
}

/// Identity of a container recognised from its cgroup path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FoundKey {
    /// An engine's 64-hex-digit id.
    Id(String),
    /// A name (LXC, systemd-nspawn), with its runtime.
    Name(Runtime, String),
    /// A cgroup path that looks like a runtime's, below a directory owned by a user (uid): never
    /// that runtime's container, whatever the name says (the user chose it).
    Delegated(String, u32),
}

/// A container recognised from its cgroup path, before records name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub key: FoundKey,
    pub runtime: Runtime,
    pub pod_uid: Option<String>,
    pub init_pid: i32,
    pub pids: Vec<i32>,
    /// Its cgroup per hierarchy key, and in the preferred hierarchy (see [`Container::cgroup`]).
    pub cgroups: BTreeMap<String, String>,
    pub cgroup: String,
    /// The kernel's freezer state ("frozen", "freezing") when not thawed.
    pub frozen: Option<&'static str>,
}

/// The kernel's side of the containers of a snapshot: which runtimes' records are worth reading.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Detected {
    pub found: Vec<Found>,
    /// The isolation groups none of whose processes is in a recognised container.
    pub loose: Vec<Loose>,
}

/// An isolation group no cgroup layout recognised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loose {
    /// Index into [`Snapshot::groups`].
    pub group: usize,
    /// Its init: the group's, or the one the runc state file that names it records.
    pub init_pid: i32,
    /// Its init's cgroups that hold nothing but the group's processes, per hierarchy key: the
    /// others (the host's /user.slice, say) are not the group's to show or to change.
    pub cgroups: BTreeMap<String, String>,
    /// The kernel's freezer state of those cgroups, when not thawed.
    pub frozen: Option<&'static str>,
}

impl Detected {
    /// Ids of the containers whose records runtime `r`'s sources may hold. A container in a
    /// kubepods tree whose engine the path does not tell may be Docker's or containerd's.
    pub fn ids_for(&self, r: Runtime) -> impl Iterator<Item = &str> + '_ {
        self.found.iter().filter_map(move |f| match &f.key {
            FoundKey::Id(id)
                if f.runtime == r
                    || (f.runtime == Runtime::Kubernetes
                        && matches!(r, Runtime::Docker | Runtime::Containerd)) =>
            {
                Some(id.as_str())
            }
            _ => None,
        })
    }

    /// Names of the containers of runtime `r` (LXC, systemd-nspawn) recognised by name.
    pub fn names_for(&self, r: Runtime) -> impl Iterator<Item = &str> + '_ {
        self.found.iter().filter_map(move |f| match &f.key {
            FoundKey::Name(rt, name) if *rt == r => Some(name.as_str()),
            _ => None,
        })
    }

    /// UIDs of the pods containers were found in.
    pub fn pod_uids(&self) -> impl Iterator<Item = &str> + '_ {
        self.found.iter().filter_map(|f| f.pod_uid.as_deref())
    }

    /// Init PIDs of the isolation groups no cgroup layout recognised (runc's state files may
    /// name them).
    pub fn loose_inits<'a>(&'a self, snap: &'a Snapshot) -> impl Iterator<Item = i32> + 'a {
        self.loose
            .iter()
            .filter_map(|l| snap.groups.get(l.group))
            .map(|g| g.init_pid)
    }
}

/// The hierarchies whose paths tell containers apart, best first: memory (where runtimes put
/// their limits on v1 and hybrid hosts), the unified one, systemd's named one.
const PREFERRED: [&str; 3] = ["memory", "unified", "name=systemd"];

/// A hierarchy key's address, and a path's address and length.
type PathAddress = (usize, usize, usize);

/// Processes grouped by the container their cgroup paths name.
#[derive(Default)]
struct Grouping<'s> {
    /// Per distinct hierarchy key and path, by address (and the path's length: processes share
    /// their paths, the collector interns them), the container it names, as an index into
    /// `members`, and the container's directory in it: a pass recognises each path once rather
    /// than once per process.
    by_path: HashMap<PathAddress, Option<(usize, &'s str)>>,
    index: HashMap<FoundKey, usize>,
    keys: Vec<FoundKey>,
    /// Members per container, and the runtime, pod and cgroup of the path first met.
    members: Vec<(Vec<&'s Process>, Runtime, Option<String>, String)>,
    /// Owners of the cgroup directories not owned by root, by (hierarchy key, path).
    owners: HashMap<(&'s str, &'s str), u32>,
}

impl<'s> Grouping<'s> {
    fn of_path(&mut self, hierarchy: &str, path: &'s str) -> Option<(usize, &'s str)> {
        let cache_key = (
            hierarchy.as_ptr() as usize,
            path.as_ptr() as usize,
            path.len(),
        );
        if let Some(known) = self.by_path.get(&cache_key) {
            return *known;
        }
        let at = cgroup_path::recognise(path).map(|m| {
            let key = match delegated_to(&self.owners, hierarchy, m.cgroup) {
                Some(uid) => FoundKey::Delegated(m.cgroup.to_string(), uid),
                None => found_key(&m),
            };
            let at = *self.index.entry(key.clone()).or_insert_with(|| {
                self.members.push((
                    Vec::new(),
                    m.runtime,
                    m.pod_uid.clone(),
                    m.cgroup.to_string(),
                ));
                self.keys.push(key);
                self.members.len() - 1
            });
            (at, m.cgroup)
        });
        self.by_path.insert(cache_key, at);
        at
    }

    /// The container a process's cgroups place it in. Only the first of [`PREFERRED`] that the
    /// process has is looked at, then the next if that one matched nothing; a process with none
    /// of them (a v1 host without a memory hierarchy) is looked up in every hierarchy.
    fn of_process(&mut self, p: &'s Process) -> Option<usize> {
        let mut any_preferred = false;
        for key in PREFERRED {
            if let Some((hierarchy, path)) = p.cgroups.get_key_value(key) {
                any_preferred = true;
                if let Some((at, _)) = self.of_path(hierarchy, path) {
                    return Some(at);
                }
            }
        }
        if any_preferred {
            return None;
        }
        p.cgroups
            .iter()
            .find_map(|(hierarchy, path)| self.of_path(hierarchy, path).map(|(at, _)| at))
    }
}

/// The owner of the first directory of `path` (hierarchy `hierarchy`), from its top down to
/// itself, that root does not own: where the tree was delegated to that user.
fn delegated_to(owners: &HashMap<(&str, &str), u32>, hierarchy: &str, path: &str) -> Option<u32> {
    if owners.is_empty() {
        return None;
    }
    path.match_indices('/')
        .map(|(i, _)| path.get(..i).unwrap_or(path))
        .chain(std::iter::once(path))
        .filter(|prefix| !prefix.is_empty())
        .find_map(|prefix| owners.get(&(hierarchy, prefix)).copied())
}

fn found_key(m: &PathMatch) -> FoundKey {
    match &m.ident {
        Ident::Id(id) => FoundKey::Id(id.to_string()),
        Ident::Name(n) => FoundKey::Name(m.runtime, n.clone()),
    }
}

/// The member that is PID 1 of a pid namespace below the host's, else the lowest PID (members in
/// PID order), as for isolation groups.
fn init_of<'a>(members: &[&'a Process]) -> Option<&'a Process> {
    members
        .iter()
        .find(|p| p.nspid.len() > 1 && p.nspid.last() == Some(&1))
        .or_else(|| members.first())
        .copied()
}

/// The preferred cgroup path among `cgroups` (see [`Container::cgroup`]).
fn preferred_path(cgroups: &BTreeMap<String, String>) -> Option<String> {
    PREFERRED
        .iter()
        .find_map(|k| cgroups.get(*k))
        .or_else(|| cgroups.values().next())
        .cloned()
}

/// Freezer state of the cgroups in `cgroups` (hierarchy key -> path): v1 freezer.state
/// (FROZEN also for a group whose ancestor is frozen), v2 cgroup.freeze.
fn freezer_state(
    cgroups: &BTreeMap<String, String>,
    freezer: &HashMap<(&str, &str), &Cgroup>,
) -> Option<&'static str> {
    for (key, path) in cgroups {
        let Some(c) = freezer.get(&(key.as_str(), path.as_str())) else {
            continue;
        };
        match c.limits.get("freezer.state") {
            Some(CgValue::Text(s)) if s == "FROZEN" => return Some("frozen"),
            Some(CgValue::Text(s)) if s == "FREEZING" => return Some("freezing"),
            _ => {}
        }
        if c.limits.get("cgroup.freeze") == Some(&CgValue::Int(1)) {
            return Some("frozen");
        }
    }
    None
}

/// The snapshot's cgroups by (hierarchy, path). Built here rather than through
/// [`Snapshot::cgroup`]: the snapshot's index must not be built before its containers are set.
fn cgroup_index(snap: &Snapshot) -> HashMap<(&str, &str), &Cgroup> {
    snap.cgroups
        .iter()
        .map(|c| ((c.hierarchy.as_str(), c.path.as_str()), c))
        .collect()
}

/// Recognise containers from the cgroup paths of the snapshot's processes (kernel threads never
/// belong to one), and find the isolation groups left over.
pub fn detect(snap: &Snapshot) -> Detected {
    let (mut grouping, in_container) = group_by_container(snap);
    let inits = container_inits(&mut grouping);
    // Only a host with containers or groups pays for it.
    let cgroups_by_path = if inits.is_empty() && snap.groups.is_empty() {
        HashMap::new()
    } else {
        cgroup_index(snap)
    };
    let found = found_containers(grouping, inits, &cgroups_by_path);
    let loose = loose_groups(snap, &in_container, &cgroups_by_path);
    Detected { found, loose }
}

/// A container's init and its directory in every hierarchy where the init's path names it.
type InitOf<'s> = Option<(&'s Process, BTreeMap<String, String>)>;

/// The processes of every recognised container, and the PIDs that are in one.
fn group_by_container(snap: &Snapshot) -> (Grouping<'_>, HashSet<i32>) {
    let mut grouping = Grouping {
        owners: snap
            .cgroups
            .iter()
            .filter(|c| c.owner_uid != 0)
            .map(|c| ((c.hierarchy.as_str(), c.path.as_str()), c.owner_uid))
            .collect(),
        ..Grouping::default()
    };
    let mut in_container = HashSet::new();
    for p in snap.processes.values().filter(|p| !p.kernel_thread) {
        if let Some(at) = grouping.of_process(p)
            && let Some(entry) = grouping.members.get_mut(at)
        {
            entry.0.push(p);
            in_container.insert(p.pid);
        }
    }
    (grouping, in_container)
}

/// Each container's init, and its directory in every hierarchy where the init's path names
/// it (looked up before the members are taken: a path may name a container no process's
/// preferred path did, which adds one).
fn container_inits<'s>(grouping: &mut Grouping<'s>) -> Vec<InitOf<'s>> {
    let mut inits = Vec::new();
    for at in 0..grouping.members.len() {
        let Some(init) = grouping.members.get(at).and_then(|m| init_of(&m.0)) else {
            inits.push(None);
            continue;
        };
        let cgroups = init
            .cgroups
            .iter()
            .filter_map(|(k, path)| match grouping.of_path(k, path) {
                Some((same, dir)) if same == at => Some((k.to_string(), dir.to_string())),
                _ => None,
            })
            .collect();
        inits.push(Some((init, cgroups)));
    }
    inits
}

/// The recognised containers that have an init, by init PID.
fn found_containers(
    grouping: Grouping<'_>,
    inits: Vec<InitOf<'_>>,
    cgroups_by_path: &HashMap<(&str, &str), &Cgroup>,
) -> Vec<Found> {
    let mut found: Vec<Found> = grouping
        .keys
        .into_iter()
        .zip(grouping.members)
        .zip(inits)
        .filter_map(|((key, (procs, runtime, pod_uid, cgroup)), init)| {
            let (init, cgroups) = init?;
            let frozen = freezer_state(&cgroups, cgroups_by_path);
            Some(Found {
                key,
                runtime,
                pod_uid,
                init_pid: init.pid,
                pids: procs.iter().map(|p| p.pid).collect(),
                cgroup: preferred_path(&cgroups).unwrap_or(cgroup),
                cgroups,
                frozen,
            })
        })
        .collect();
    found.sort_by_key(|f| f.init_pid);
    found
}

/// The isolation groups none of whose processes is in a recognised container, each with its
/// init's cgroups that hold nothing but the group's processes.
fn loose_groups(
    snap: &Snapshot,
    in_container: &HashSet<i32>,
    cgroups_by_path: &HashMap<(&str, &str), &Cgroup>,
) -> Vec<Loose> {
    snap.groups
        .iter()
        .enumerate()
        .filter(|(_, g)| !g.pids.iter().any(|p| in_container.contains(p)))
        .map(|(i, g)| {
            let cgroups = own_cgroups(snap, g, g.init_pid, cgroups_by_path);
            let frozen = freezer_state(&cgroups, cgroups_by_path);
            Loose {
                group: i,
                init_pid: g.init_pid,
                cgroups,
                frozen,
            }
        })
        .collect()
}

/// The cgroups of process `init` that hold nothing but the processes of group `g`.
fn own_cgroups(
    snap: &Snapshot,
    g: &IsolationGroup,
    init: i32,
    cgroups_by_path: &HashMap<(&str, &str), &Cgroup>,
) -> BTreeMap<String, String> {
    snap.processes
        .get(&init)
        .into_iter()
        .flat_map(|p| p.cgroups.iter())
        .filter(|(k, path)| {
            &***path != "/"
                && cgroups_by_path.get(&(&***k, &***path)).is_some_and(|c| {
                    !c.pids.is_empty() && c.pids.iter().all(|p| g.pids.binary_search(p).is_ok())
                })
        })
        .map(|(k, path)| (k.to_string(), path.to_string()))
        .collect()
}

/// What Kubernetes labels or annotations say about a container: dockershim's Docker labels and
/// CRI-O's annotations (io.kubernetes.pod.name, ...), containerd's CRI annotations
/// (io.kubernetes.cri.sandbox-name, ...).
#[derive(Debug, Default, PartialEq, Eq)]
struct KubeLabels {
    container: Option<String>,
    pod: Option<String>,
    namespace: Option<String>,
    uid: Option<String>,
    sandbox: Option<bool>,
}

fn kube_labels(labels: &BTreeMap<String, String>) -> KubeLabels {
    let get = |keys: &[&str]| keys.iter().find_map(|k| labels.get(*k)).cloned();
    let kind = get(&[
        "io.kubernetes.cri.container-type",
        "io.kubernetes.cri-o.ContainerType",
        "io.kubernetes.docker.type",
    ]);
    KubeLabels {
        container: get(&[
            "io.kubernetes.cri.container-name",
            "io.kubernetes.container.name",
        ])
        // dockershim labelled the sandbox "POD".
        .filter(|c| c != "POD"),
        pod: get(&["io.kubernetes.cri.sandbox-name", "io.kubernetes.pod.name"]),
        namespace: get(&[
            "io.kubernetes.cri.sandbox-namespace",
            "io.kubernetes.pod.namespace",
        ]),
        uid: get(&["io.kubernetes.cri.sandbox-uid", "io.kubernetes.pod.uid"]),
        sandbox: kind.map(|k| k == "sandbox" || k == "podsandbox"),
    }
}

/// The state to show: the kernel's freezer first (a runtime's "paused" is its freezer at work; a
/// frozen container its runtime calls running was frozen by someone else, nsview or an admin),
/// then the runtime's word, else "running" (it has processes). Second: the runtime's word when
/// it disagrees with the freezer (see [`Container::runtime_state`]).
fn state(frozen: Option<&'static str>, recorded: Option<&str>) -> (String, Option<String>) {
    match (frozen, recorded) {
        (Some("frozen"), Some("paused")) => ("paused".into(), None),
        (Some("frozen"), Some("running")) => ("frozen".into(), Some("running".into())),
        (Some(f), _) => (f.into(), None),
        (None, Some("paused")) => ("running".into(), Some("paused".into())),
        // Records of stopped containers are stale when processes run.
        (None, Some(s)) if !matches!(s, "exited" | "dead" | "") => (s.into(), None),
        (None, _) => ("running".into(), None),
    }
}

/// Whether the kernel's freezer state and the runtime's word disagree (then the record is asked
/// again soon: the runtime may just not have caught up with its own pause or unpause).
pub fn is_disagreement(frozen: Option<&str>, recorded: Option<&str>) -> bool {
    matches!(
        (frozen, recorded),
        (Some("frozen"), Some("running")) | (None, Some("paused"))
    )
}

/// The namespaces of `p`, and the types in which they are the host's.
fn namespaces_of(snap: &Snapshot, p: Option<&Process>) -> (BTreeMap<NsType, u64>, Vec<NsType>) {
    let Some(p) = p else {
        return (BTreeMap::new(), Vec::new());
    };
    let ns = p.ns.iter().map(|(t, id)| (*t, id.ino)).collect();
    let shared =
        p.ns.iter()
            .filter(|(t, id)| snap.host_ns.get(t).is_some_and(|h| h.ino == id.ino))
            .map(|(t, _)| *t)
            .collect();
    (ns, shared)
}

/// A Kubernetes container's pod, and its name: `pod/container`, `pod/POD` for the sandbox.
/// Without labels, the container's name is taken from the pod's log directories when the pod
/// has one container there and one non-sandbox container running (`others_in_pod`), and a
/// container whose init is `pause` is taken for the sandbox.
fn kube_name(
    f: &Found,
    labels: &KubeLabels,
    pod: Option<&PodRecord>,
    init_comm: Option<&str>,
    others_in_pod: usize,
) -> (Pod, Option<String>) {
    let sandbox = labels.sandbox.unwrap_or(init_comm == Some("pause"));
    let container = labels.container.clone().or_else(|| {
        let pod = pod?;
        match pod.containers.as_slice() {
            [only] if !sandbox && others_in_pod == 0 => Some(only.clone()),
            _ => None,
        }
    });
    let pod_name = labels.pod.clone().or_else(|| pod.map(|p| p.name.clone()));
    let name = match (&pod_name, sandbox, &container) {
        (Some(p), true, _) => Some(format!("{p}/POD")),
        (Some(p), false, Some(c)) => Some(format!("{p}/{c}")),
        (None, false, Some(c)) => Some(c.clone()),
        _ => None,
    };
    (
        Pod {
            namespace: labels
                .namespace
                .clone()
                .or_else(|| pod.map(|p| p.namespace.clone())),
            name: pod_name,
            uid: f.pod_uid.clone().or_else(|| labels.uid.clone()),
            container: container.filter(|_| !sandbox),
            sandbox,
        },
        name,
    )
}

/// The short form of an id for a name: 12 hex digits, as `docker ps` shows it.
fn short(id: &str) -> String {
    id.get(..12).unwrap_or(id).to_string()
}

/// Non-sandbox containers per pod, for naming from log directories.
fn non_sandbox_per_pod<'d>(snap: &Snapshot, detected: &'d Detected) -> HashMap<&'d str, usize> {
    let mut per_pod: HashMap<&str, usize> = HashMap::new();
    for f in &detected.found {
        let pause = snap
            .processes
            .get(&f.init_pid)
            .is_some_and(|p| p.comm == "pause");
        if let Some(uid) = &f.pod_uid
            && !pause
        {
            *per_pod.entry(uid).or_default() += 1;
        }
    }
    per_pod
}

/// Take each recognised container's init from its runtime's record (see
/// [`RuntimeRecord::init_pid`]) where that process is one of the container's: the kernel's view
/// alone ([`init_of`]) can be misled by a process moved into the container's cgroup, or by a
/// nested pid namespace, that is PID 1 of its own namespace. Its cgroups and freezer state follow
/// the new init. An isolation group named by a runc state file gets that file's init the same way
/// (when it is one of the group's processes).
pub fn adopt_recorded_inits(snap: &Snapshot, detected: &mut Detected, meta: &Metadata) {
    let mut index = None;
    let mut changed = false;
    for f in &mut detected.found {
        let FoundKey::Id(id) = &f.key else {
            continue;
        };
        let Some(pid) = meta.records.get(id).and_then(|r| r.init_pid) else {
            continue;
        };
        if pid == f.init_pid || f.pids.binary_search(&pid).is_err() {
            continue;
        }
        let Some(init) = snap.processes.get(&pid) else {
            continue;
        };
        let cgroups: BTreeMap<String, String> = init
            .cgroups
            .iter()
            .filter_map(|(k, path)| {
                let m = cgroup_path::recognise(path)?;
                (found_key(&m) == f.key).then(|| (k.to_string(), m.cgroup.to_string()))
            })
            .collect();
        if cgroups.is_empty() {
            continue;
        }
        let index = index.get_or_insert_with(|| cgroup_index(snap));
        f.frozen = freezer_state(&cgroups, index);
        if let Some(path) = preferred_path(&cgroups) {
            f.cgroup = path;
        }
        f.cgroups = cgroups;
        f.init_pid = pid;
        changed = true;
    }
    if changed {
        detected.found.sort_by_key(|f| f.init_pid);
    }
    for l in &mut detected.loose {
        let Some(g) = snap.groups.get(l.group) else {
            continue;
        };
        if let Some(r) = runc_record_of(snap, g, meta)
            && r.init_pid != l.init_pid
        {
            let index = index.get_or_insert_with(|| cgroup_index(snap));
            l.cgroups = own_cgroups(snap, g, r.init_pid, index);
            l.frozen = freezer_state(&l.cgroups, index);
            l.init_pid = r.init_pid;
        }
    }
}

/// The containers of `snap`: those `detected` from cgroup paths, named from `meta`, then the
/// isolation groups left over (named by runc's state files when one has their init), by init
/// PID.
pub fn build(snap: &Snapshot, detected: &Detected, meta: &Metadata) -> Vec<Container> {
    let mut out: Vec<Container> = Vec::with_capacity(detected.found.len() + detected.loose.len());
    let per_pod = non_sandbox_per_pod(snap, detected);
    let mut group_by_init: HashMap<i32, &IsolationGroup> = HashMap::new();
    for g in &snap.groups {
        group_by_init.entry(g.init_pid).or_insert(g);
    }
    for f in &detected.found {
        let init = snap.processes.get(&f.init_pid);
        let (namespaces, shared_with_host) = namespaces_of(snap, init);
        // A machine-<name>.scope in all of the host's namespaces is a virtual machine (libvirt's
        // qemu) or another program systemd-machined tracks, not a container.
        if f.runtime == Runtime::Nspawn && shared_with_host.len() == namespaces.len() {
            continue;
        }
        if let Some(note) = unconfirmed(f, meta) {
            out.push(unconfirmed_group(
                snap,
                group_by_init.get(&f.init_pid).copied(),
                f,
                note,
                namespaces,
                shared_with_host,
            ));
            continue;
        }
        let (id, path_name) = match &f.key {
            FoundKey::Id(id) => (id.clone(), None),
            FoundKey::Name(_, name) => (name.clone(), Some(name.clone())),
            FoundKey::Delegated(..) => continue,
        };
        let record = matches!(f.key, FoundKey::Id(_))
            .then(|| meta.records.get(&id))
            .flatten();
        let runtime = match (f.runtime, record) {
            (Runtime::Kubernetes, Some(r)) => r.runtime,
            (r, _) => r,
        };
        let labels = record.map(|r| r.labels.clone()).unwrap_or_default();
        let kube = kube_labels(&labels);
        let is_kube = f.pod_uid.is_some() || kube.pod.is_some();
        let (pod, kube_name) = match is_kube {
            true => pod_and_name(f, &kube, meta, &per_pod, init),
            false => (None, None),
        };
        let (state, runtime_state) = state(f.frozen, record.and_then(|r| r.state.as_deref()));
        let name = kube_name
            .or_else(|| record.and_then(|r| r.name.clone()))
            .or(path_name)
            .unwrap_or_else(|| short(&id));
        out.push(Container {
            name,
            id: Some(id),
            runtime: Some(runtime),
            image: record.and_then(|r| r.image.clone()),
            state,
            runtime_state,
            init_pid: f.init_pid,
            pids: f.pids.clone(),
            cgroup: Some(f.cgroup.clone()),
            namespaces,
            shared_with_host,
            cgroups: f.cgroups.clone(),
            compose_project: labels.get("com.docker.compose.project").cloned(),
            labels,
            pod,
            note: None,
        });
    }
    for l in &detected.loose {
        if let Some(g) = snap.groups.get(l.group) {
            out.push(loose_group(snap, g, l, meta));
        }
    }
    out.sort_by_key(|c| c.init_pid);
    out
}

/// The pod of a Kubernetes container and its name (see [`kube_name`]).
fn pod_and_name(
    f: &Found,
    kube: &KubeLabels,
    meta: &Metadata,
    per_pod: &HashMap<&str, usize>,
    init: Option<&Process>,
) -> (Option<Pod>, Option<String>) {
    let record = f.pod_uid.as_deref().and_then(|u| meta.pods.get(u));
    let others = f
        .pod_uid
        .as_deref()
        .and_then(|u| per_pod.get(u))
        .map_or(0, |n| n.saturating_sub(1));
    let (pod, name) = kube_name(f, kube, record, init.map(|p| p.comm.as_str()), others);
    (Some(pod), name)
}

/// An isolation group no cgroup layout recognised: named by a runc state file whose init is
/// among its processes (and whose cgroup, when runc was given one, is the process's), else
/// listed as the group it is.
fn loose_group(snap: &Snapshot, g: &IsolationGroup, l: &Loose, meta: &Metadata) -> Container {
    let init = snap.processes.get(&l.init_pid);
    let (namespaces, shared_with_host) = namespaces_of(snap, init);
    // Its init's cgroups, to show where it is; only its own ones are listed in `cgroups`.
    let all: BTreeMap<String, String> = init
        .map(|p| {
            p.cgroups
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        })
        .unwrap_or_default();
    let runc = runc_record_of(snap, g, meta);
    Container {
        name: runc.map_or_else(|| g.name.clone(), |r| r.id.clone()),
        id: runc.map(|r| r.id.clone()),
        runtime: runc.map(|r| r.runtime),
        image: None,
        state: state(l.frozen, None).0,
        runtime_state: None,
        init_pid: l.init_pid,
        pids: g.pids.clone(),
        cgroup: preferred_path(&l.cgroups).or_else(|| preferred_path(&all)),
        namespaces,
        shared_with_host,
        cgroups: l.cgroups.clone(),
        labels: BTreeMap::new(),
        compose_project: None,
        pod: None,
        note: None,
    }
}

/// The runc state file whose init is among the processes of group `g` (and whose cgroup, when
/// runc was given one, is that process's).
fn runc_record_of<'m>(
    snap: &Snapshot,
    g: &IsolationGroup,
    meta: &'m Metadata,
) -> Option<&'m RuncRecord> {
    meta.runc.iter().find(|r| {
        g.pids.binary_search(&r.init_pid).is_ok()
            && snap.processes.get(&r.init_pid).is_some_and(|p| {
                r.cgroup.as_deref().is_none_or(|want| {
                    p.cgroups.values().any(|have| {
                        have.strip_prefix(want)
                            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
                    })
                })
            })
    })
}

/// Why the runtime's name is not given to `f`, if it is not: its cgroup is below a directory a
/// user owns, or no record of the runtime confirms it (Docker's, podman's, containerd's or
/// CRI-O's record of its id, or its pod's log directory; LXC's config; machined's registration).
fn unconfirmed(f: &Found, meta: &Metadata) -> Option<String> {
    let looks = f.runtime.name();
    let confirmed = match &f.key {
        FoundKey::Delegated(_, uid) => {
            return Some(format!(
                "looks like {looks}, not confirmed: its cgroup is delegated to uid {uid}"
            ));
        }
        FoundKey::Id(id) => {
            meta.records.contains_key(id)
                || (f.runtime == Runtime::Kubernetes
                    && f.pod_uid
                        .as_ref()
                        .is_some_and(|u| meta.pods.contains_key(u)))
        }
        FoundKey::Name(Runtime::Lxc, name) => meta.lxc.contains(name),
        FoundKey::Name(Runtime::Nspawn, name) => meta.machines.contains(name),
        FoundKey::Name(..) => false,
    };
    (!confirmed).then(|| format!("looks like {looks}, not confirmed"))
}

/// A recognised cgroup no runtime's record confirms: listed as the isolation group it is (named
/// `comm[pid]` after its init: `group`, the isolation group whose init it is, if one), with its
/// processes and its cgroups, and the `note` why.
fn unconfirmed_group(
    snap: &Snapshot,
    group: Option<&IsolationGroup>,
    f: &Found,
    note: String,
    namespaces: BTreeMap<NsType, u64>,
    shared_with_host: Vec<NsType>,
) -> Container {
    let name = group
        .map(|g| g.name.clone())
        .or_else(|| {
            snap.processes
                .get(&f.init_pid)
                .map(|p| format!("{}[{}]", p.comm, p.pid))
        })
        .unwrap_or_else(|| format!("[{}]", f.init_pid));
    Container {
        name,
        id: None,
        runtime: None,
        image: None,
        state: state(f.frozen, None).0,
        runtime_state: None,
        init_pid: f.init_pid,
        pids: f.pids.clone(),
        cgroup: Some(f.cgroup.clone()),
        namespaces,
        shared_with_host,
        cgroups: f.cgroups.clone(),
        labels: BTreeMap::new(),
        compose_project: None,
        pod: None,
        note: Some(note),
    }
}

/// The cgroups of a container, in hierarchy order.
pub fn cgroups_of<'a>(snap: &'a Snapshot, c: &Container) -> Vec<&'a Cgroup> {
    snap.cgroups
        .iter()
        .filter(|g| c.cgroups.get(&g.hierarchy) == Some(&g.path))
        .collect()
}

/// The container's memory cgroup, when it is its own: an isolation group no runtime owns may
/// share its init's cgroup with other processes, whose usage is not the group's.
pub fn memory_cgroup<'a>(snap: &'a Snapshot, c: &Container) -> Option<&'a Cgroup> {
    let key = super::format::hierarchy_for(snap, "memory")?;
    let cg = snap.cgroup(key, c.cgroups.get(key)?)?;
    let own = c.runtime.is_some() || cg.pids.iter().all(|p| c.pids.binary_search(p).is_ok());
    own.then_some(cg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{NsId, isolation_groups};
    use std::sync::Arc;

    const A: &str = "aaaaaaaaaaaa4653218bbd17a0c1e2f3a4b5c6d7e8f90123456789abcdef0123";
    const B: &str = "bbbbbbbbbbbb4653218bbd17a0c1e2f3a4b5c6d7e8f90123456789abcdef0123";

    fn proc(pid: i32, nspid: Vec<i32>, ns: &[(NsType, u64)], cgroups: &[(&str, &str)]) -> Process {
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
            cgroups: cgroups
                .iter()
                .map(|(k, v)| (Arc::from(*k), Arc::from(*v)))
                .collect(),
            kernel_thread: false,
        }
    }

    fn snapshot(procs: Vec<Process>) -> Snapshot {
        let mut s = Snapshot::default();
        for p in procs {
            s.processes.insert(p.pid, p);
        }
        s.host_ns = s.processes[&1].ns.clone();
        s.groups = isolation_groups(&s.processes, &s.host_ns);
        s
    }

    fn cgroup(key: &str, path: &str, limits: &[(&str, CgValue)]) -> Cgroup {
        Cgroup {
            hierarchy: key.into(),
            path: path.into(),
            pids: vec![],
            limits: limits
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
            usage: BTreeMap::new(),
            devices: None,
            devices_default: None,
            owner_uid: 0,
        }
    }

    use NsType::{Mnt, Net, Pid, User};
    const HOST: [(NsType, u64); 4] = [(Mnt, 1), (Pid, 2), (Net, 3), (User, 4)];

    fn ct(n: u64) -> [(NsType, u64); 4] {
        [
            (Mnt, 10 * n + 1),
            (Pid, 10 * n + 2),
            (Net, 10 * n + 3),
            (User, 4),
        ]
    }

    #[test]
    fn inits_come_from_the_records_when_they_name_a_member() {
        let a = format!("/docker/{A}");
        let runc = "/nsview-test-1/c1";
        let s = snapshot(vec![
            proc(1, vec![1], &HOST, &[("memory", "/"), ("freezer", "/")]),
            // PID 1 of a namespace of its own, moved into the container's memory cgroup.
            proc(90, vec![90, 1], &ct(9), &[("memory", &a), ("freezer", "/")]),
            proc(
                100,
                vec![100, 1],
                &ct(1),
                &[("memory", &a), ("freezer", &a)],
            ),
            // A runc container sharing the host's pid namespace: lowest PID by default.
            proc(300, vec![300], &ct(3), &[("memory", runc)]),
            proc(301, vec![301], &ct(3), &[("memory", runc)]),
        ]);
        let mut d = detect(&s);
        assert_eq!(d.found[0].init_pid, 90, "the kernel's guess");
        assert_eq!(d.loose[0].init_pid, 300);
        let mut meta = Metadata::default();
        let record = |init_pid| RuntimeRecord {
            runtime: Runtime::Docker,
            name: Some("web".into()),
            image: None,
            state: None,
            labels: BTreeMap::new(),
            init_pid,
        };
        // A record naming a process that is not the container's changes nothing.
        meta.records.insert(A.into(), record(Some(301)));
        adopt_recorded_inits(&s, &mut d, &meta);
        assert_eq!(d.found[0].init_pid, 90);
        meta.records.insert(A.into(), record(Some(100)));
        meta.runc.push(RuncRecord {
            runtime: Runtime::Runc,
            id: "c1".into(),
            init_pid: 301,
            cgroup: Some(runc.into()),
        });
        adopt_recorded_inits(&s, &mut d, &meta);
        assert_eq!(d.found[0].init_pid, 100);
        assert_eq!(
            d.found[0].cgroups,
            BTreeMap::from([
                ("memory".to_string(), a.clone()),
                ("freezer".to_string(), a.clone())
            ])
        );
        let c = build(&s, &d, &meta);
        assert_eq!(c[0].name, "web");
        assert_eq!(c[0].init_pid, 100);
        assert_eq!(c[0].namespaces[&Mnt], 11);
        assert_eq!(c[0].pids, vec![90, 100]);
        assert_eq!(c[1].name, "c1");
        assert_eq!(c[1].init_pid, 301);
        assert_eq!(c[1].cgroup.as_deref(), Some(runc));
    }

    #[test]
    fn docker_containers_named_from_records_and_groups_left_over() {
        let a = format!("/docker/{A}");
        let b = format!("/system.slice/docker-{B}.scope");
        let mut s = snapshot(vec![
            proc(1, vec![1], &HOST, &[("memory", "/"), ("freezer", "/")]),
            proc(50, vec![50], &HOST, &[("memory", &a)]), // --pid host, --net host: still in it
            proc(
                100,
                vec![100, 1],
                &ct(1),
                &[("memory", &a), ("freezer", &a)],
            ),
            proc(
                101,
                vec![101, 7],
                &ct(1),
                &[("memory", &format!("{a}/sub")), ("freezer", &a)],
            ),
            proc(
                200,
                vec![200, 1],
                &ct(2),
                &[("memory", "/"), ("unified", &b)],
            ),
            proc(300, vec![300, 1], &ct(3), &[("memory", "/user.slice")]),
            proc(301, vec![301, 2], &ct(3), &[("memory", "/user.slice")]),
        ]);
        s.cgroups = vec![
            cgroup(
                "freezer",
                &a,
                &[("freezer.state", CgValue::Text("FROZEN".into()))],
            ),
            cgroup("unified", &b, &[("cgroup.freeze", CgValue::Int(0))]),
        ];
        let d = detect(&s);
        assert_eq!(d.found.len(), 2);
        assert_eq!(d.found[0].pids, vec![50, 100, 101]);
        assert_eq!(d.found[0].init_pid, 100);
        assert_eq!(d.found[0].frozen, Some("frozen"));
        assert_eq!(
            d.found[0].cgroups,
            BTreeMap::from([
                ("memory".to_string(), a.clone()),
                ("freezer".to_string(), a.clone())
            ])
        );
        assert_eq!(d.found[1].cgroup, b);
        assert_eq!(d.ids_for(Runtime::Docker).collect::<Vec<_>>(), vec![A, B]);
        assert_eq!(d.loose_inits(&s).collect::<Vec<_>>(), vec![300]);
        assert!(
            d.loose[0].cgroups.is_empty(),
            "/user.slice is not the group's"
        );

        // No records: nothing confirms them, isolation groups with a note, states from the
        // kernel alone.
        let c = build(&s, &d, &Metadata::default());
        assert_eq!(
            c.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
            vec!["p100[100]", "p200[200]", "p300[300]"]
        );
        assert_eq!(c[0].state, "frozen");
        assert_eq!(c[0].runtime, None);
        assert_eq!(c[0].id, None);
        assert_eq!(c[0].pids, vec![50, 100, 101]);
        assert_eq!(
            c[0].note.as_deref(),
            Some("looks like docker, not confirmed")
        );
        assert_eq!(c[0].cgroup.as_deref(), Some(a.as_str()));
        assert_eq!(c[0].shared_with_host, vec![User]);
        assert_eq!(
            c[0].private_namespaces().collect::<Vec<_>>(),
            vec![Mnt, Pid, Net]
        );
        assert_eq!(c[1].state, "running");
        assert_eq!(c[2].runtime, None);
        assert_eq!(c[2].id, None);
        assert_eq!(c[2].note, None, "no runtime's layout");
        assert_eq!(c[2].key(), "p300[300]");
        assert_eq!(c[2].cgroup.as_deref(), Some("/user.slice"));

        // Records name them; a paused record of a frozen container is "paused".
        let mut meta = Metadata::default();
        let labels =
            BTreeMap::from([("com.docker.compose.project".to_string(), "shop".to_string())]);
        meta.records.insert(
            A.into(),
            RuntimeRecord {
                runtime: Runtime::Docker,
                name: Some("web-1".into()),
                image: Some("nginx:1.25".into()),
                state: Some("paused".into()),
                labels,
                init_pid: None,
            },
        );
        meta.records.insert(
            B.into(),
            RuntimeRecord {
                runtime: Runtime::Docker,
                name: Some("batch".into()),
                image: None,
                state: Some("paused".into()),
                labels: BTreeMap::new(),
                init_pid: None,
            },
        );
        let c = build(&s, &d, &meta);
        assert_eq!(c[0].name, "web-1");
        assert_eq!(c[0].runtime, Some(Runtime::Docker));
        assert_eq!(c[0].short_id(), Some("aaaaaaaaaaaa"));
        assert_eq!(c[0].note, None);
        assert_eq!(c[0].state, "paused");
        assert_eq!(c[0].image.as_deref(), Some("nginx:1.25"));
        assert_eq!(c[0].compose_project.as_deref(), Some("shop"));
        assert_eq!(c[0].runtime_state, None);
        // Not frozen in the kernel while Docker says paused (thawed behind its back): running,
        // and the disagreement is shown.
        assert_eq!(c[1].name, "batch");
        assert_eq!(c[1].state, "running");
        assert_eq!(c[1].runtime_state.as_deref(), Some("paused"));
        assert_eq!(c[1].state_text(), "running (Docker says paused)");
    }

    #[test]
    fn runc_state_names_a_group_with_its_cgroup() {
        let mut s = snapshot(vec![
            proc(1, vec![1], &HOST, &[("memory", "/")]),
            proc(
                400,
                vec![400, 1],
                &ct(4),
                &[("memory", "/nsview-test-9/c1")],
            ),
            proc(500, vec![500, 1], &ct(5), &[("memory", "/elsewhere")]),
        ]);
        let mut own = cgroup("memory", "/nsview-test-9/c1", &[]);
        own.pids = vec![400];
        let mut shared = cgroup("memory", "/elsewhere", &[]);
        shared.pids = vec![500, 501];
        s.cgroups = vec![own, shared];
        let d = detect(&s);
        let meta = Metadata {
            runc: vec![
                RuncRecord {
                    runtime: Runtime::Runc,
                    id: "c1".into(),
                    init_pid: 400,
                    cgroup: Some("/nsview-test-9/c1".into()),
                },
                // A stale state file whose PID was reused by another group.
                RuncRecord {
                    runtime: Runtime::Runc,
                    id: "old".into(),
                    init_pid: 500,
                    cgroup: Some("/nsview-test-9/old".into()),
                },
            ],
            ..Metadata::default()
        };
        let c = build(&s, &d, &meta);
        assert_eq!(c[0].name, "c1");
        assert_eq!(c[0].id.as_deref(), Some("c1"));
        assert_eq!(c[0].runtime, Some(Runtime::Runc));
        assert_eq!(c[0].short_id(), Some("c1"));
        assert_eq!(
            c[0].cgroups,
            BTreeMap::from([("memory".to_string(), "/nsview-test-9/c1".to_string())])
        );
        assert_eq!(c[1].name, "p500[500]");
        assert_eq!(c[1].runtime, None);
        // Its cgroup holds another process: shown, but not its own.
        assert_eq!(c[1].cgroup.as_deref(), Some("/elsewhere"));
        assert!(c[1].cgroups.is_empty());
    }

    #[test]
    fn kubernetes_pods_named_from_annotations_or_log_directories() {
        let uid = "2f4b7d1e-8c3a-4e5f-9b6d-0a1c2e3f4a5b";
        let sandbox = format!("/kubepods/besteffort/pod{uid}/{A}");
        let app = format!("/kubepods/besteffort/pod{uid}/{B}");
        let mut pause = proc(600, vec![600, 1], &ct(6), &[("memory", &sandbox)]);
        pause.comm = "pause".into();
        let s = snapshot(vec![
            proc(1, vec![1], &HOST, &[("memory", "/")]),
            pause,
            proc(610, vec![610, 1], &ct(6), &[("memory", &app)]),
        ]);
        let d = detect(&s);
        assert_eq!(d.pod_uids().collect::<Vec<_>>(), vec![uid, uid]);
        assert_eq!(d.ids_for(Runtime::Containerd).count(), 2);
        // No records at all: nothing confirms them.
        let c = build(&s, &d, &Metadata::default());
        assert_eq!(c[0].name, "pause[600]");
        assert_eq!(c[0].runtime, None);
        assert_eq!(
            c[0].note.as_deref(),
            Some("looks like kubernetes, not confirmed")
        );
        // The log directories name the pod and its one container; pause is the sandbox.
        let mut meta = Metadata::default();
        meta.pods.insert(
            uid.into(),
            PodRecord {
                namespace: "shop".into(),
                name: "web-7d9f".into(),
                uid: uid.into(),
                containers: vec!["nginx".into()],
            },
        );
        let c = build(&s, &d, &meta);
        assert_eq!(c[0].name, "web-7d9f/POD");
        assert_eq!(c[0].runtime, Some(Runtime::Kubernetes));
        assert!(c[0].pod.as_ref().is_some_and(|p| p.sandbox));
        assert_eq!(c[1].name, "web-7d9f/nginx");
        assert_eq!(
            c[1].pod,
            Some(Pod {
                namespace: Some("shop".into()),
                name: Some("web-7d9f".into()),
                uid: Some(uid.into()),
                container: Some("nginx".into()),
                sandbox: false,
            })
        );
        // containerd's annotations say more, and which engine runs it.
        let annotations = |kind: &str, name: Option<&str>| {
            let mut l = BTreeMap::from([
                (
                    "io.kubernetes.cri.container-type".to_string(),
                    kind.to_string(),
                ),
                (
                    "io.kubernetes.cri.sandbox-name".to_string(),
                    "web-7d9f".to_string(),
                ),
                (
                    "io.kubernetes.cri.sandbox-namespace".to_string(),
                    "shop".to_string(),
                ),
            ]);
            if let Some(n) = name {
                l.insert("io.kubernetes.cri.container-name".into(), n.into());
            }
            l
        };
        meta.records.insert(
            B.into(),
            RuntimeRecord {
                runtime: Runtime::Containerd,
                name: None,
                image: Some("nginx:1.25".into()),
                state: None,
                labels: annotations("container", Some("app")),
                init_pid: None,
            },
        );
        meta.records.insert(
            A.into(),
            RuntimeRecord {
                runtime: Runtime::Containerd,
                name: None,
                image: None,
                state: None,
                labels: annotations("sandbox", None),
                init_pid: None,
            },
        );
        let c = build(&s, &d, &meta);
        assert_eq!(c[0].name, "web-7d9f/POD");
        assert_eq!(c[1].name, "web-7d9f/app");
        assert_eq!(c[1].runtime, Some(Runtime::Containerd));
        assert_eq!(c[1].image.as_deref(), Some("nginx:1.25"));
    }

    #[test]
    fn lxc_and_nspawn_names_but_not_virtual_machines() {
        let s = snapshot(vec![
            proc(1, vec![1], &HOST, &[("memory", "/")]),
            proc(700, vec![700, 1], &ct(7), &[("memory", "/lxc.payload.web")]),
            proc(701, vec![701], &HOST, &[("memory", "/lxc.monitor.web")]),
            proc(
                800,
                vec![800, 1],
                &ct(8),
                &[("memory", "/machine.slice/machine-deb\\x2d12.scope")],
            ),
            proc(
                900,
                vec![900],
                &HOST,
                &[("memory", "/machine.slice/machine-qemu\\x2d1\\x2dvm.scope")],
            ),
        ]);
        let d = detect(&s);
        assert_eq!(d.names_for(Runtime::Lxc).collect::<Vec<_>>(), vec!["web"]);
        // No config, no registration: groups that look like theirs.
        let c = build(&s, &d, &Metadata::default());
        assert_eq!(
            c.iter()
                .map(|c| (c.name.as_str(), c.runtime, c.note.as_deref()))
                .collect::<Vec<_>>(),
            vec![
                ("p700[700]", None, Some("looks like lxc, not confirmed")),
                ("p800[800]", None, Some("looks like nspawn, not confirmed")),
            ]
        );
        let meta = Metadata {
            lxc: HashSet::from(["web".to_string()]),
            machines: HashSet::from(["deb-12".to_string()]),
            ..Metadata::default()
        };
        let c = build(&s, &d, &meta);
        assert_eq!(
            c.iter()
                .map(|c| (c.name.as_str(), c.runtime, c.id.as_deref()))
                .collect::<Vec<_>>(),
            vec![
                ("web", Some(Runtime::Lxc), Some("web")),
                ("deb-12", Some(Runtime::Nspawn), Some("deb-12")),
            ]
        );
        let says = |s: &str, r: Option<&str>| (s.to_string(), r.map(str::to_string));
        assert_eq!(
            state(Some("freezing"), Some("running")),
            says("freezing", None)
        );
        assert_eq!(state(None, Some("created")), says("created", None));
        assert_eq!(state(None, Some("exited")), says("running", None));
        // Frozen behind the runtime's back, and thawed behind it.
        assert_eq!(
            state(Some("frozen"), Some("running")),
            says("frozen", Some("running"))
        );
        assert_eq!(state(None, Some("paused")), says("running", Some("paused")));
        assert!(is_disagreement(None, Some("paused")));
        assert!(!is_disagreement(Some("frozen"), Some("paused")));
    }

    #[test]
    fn a_cgroup_below_a_users_directory_is_never_a_runtimes() {
        // uid 1000 was delegated /user.slice/u1000 and named a cgroup after a real Docker
        // container's id: its process is not added to that container, nor named by its record.
        let real = format!("/docker/{A}");
        let fake = format!("/user.slice/u1000/docker/{A}");
        let mut s = snapshot(vec![
            proc(1, vec![1], &HOST, &[("memory", "/")]),
            proc(100, vec![100, 1], &ct(1), &[("memory", &real)]),
            proc(200, vec![200, 1], &ct(2), &[("memory", &fake)]),
        ]);
        let mut delegated = cgroup("memory", "/user.slice/u1000", &[]);
        delegated.owner_uid = 1000;
        let mut own = cgroup("memory", &fake, &[]);
        own.owner_uid = 1000;
        s.cgroups = vec![
            cgroup("memory", "/user.slice", &[]),
            delegated,
            cgroup("memory", &real, &[]),
            own,
        ];
        let d = detect(&s);
        assert_eq!(d.ids_for(Runtime::Docker).collect::<Vec<_>>(), vec![A]);
        let mut meta = Metadata::default();
        meta.records.insert(
            A.into(),
            RuntimeRecord {
                runtime: Runtime::Docker,
                name: Some("web-1".into()),
                image: None,
                state: None,
                labels: BTreeMap::new(),
                init_pid: None,
            },
        );
        let c = build(&s, &d, &meta);
        assert_eq!(c[0].name, "web-1");
        assert_eq!(c[0].pids, vec![100]);
        assert_eq!(c[1].name, "p200[200]");
        assert_eq!(c[1].runtime, None);
        assert_eq!(c[1].id, None);
        assert_eq!(c[1].pids, vec![200]);
        assert_eq!(
            c[1].note.as_deref(),
            Some("looks like docker, not confirmed: its cgroup is delegated to uid 1000")
        );
        assert_eq!(
            delegated_to(
                &HashMap::from([(("memory", "/a"), 7)]),
                "memory",
                "/a/b/docker/x"
            ),
            Some(7)
        );
        assert_eq!(
            delegated_to(&HashMap::from([(("pids", "/a"), 7)]), "memory", "/a/b"),
            None
        );
        assert_eq!(
            delegated_to(&HashMap::from([(("memory", "/ab"), 7)]), "memory", "/a/b"),
            None
        );
    }
}
