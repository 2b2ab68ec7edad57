//! The containers of a pass: recognised from the snapshot's cgroup paths (the model's
//! [`containers::detect`]), named from runtimes' records, which are read here and kept.
//!
//! Every source is optional and fails soft: a missing socket, file or directory means fewer
//! names, never an error; permission denied is one warning. Sources are read only for the
//! containers that need them (no Docker container, no Docker API request), so a host without
//! containers costs nothing, and a host with Docker but no daemon one failed connect(2).
//!
//! Records are kept by container id (pod UID, init PID) between passes of one collector, so that
//! a live view asks a runtime again only when a container it has not asked about appears, when
//! one's freezer state changes (a "paused" container shows as such), or when what it knows is
//! [`RECORD_TTL`] old (a `docker rename`); a container no source knew is asked about again after
//! [`MISSING_TTL`] (its records may have been written just after its first process started).

use super::Collector;
use crate::model::Snapshot;
use crate::model::containers::{self, Detected, Metadata, Runtime, RuntimeRecord};
use crate::sys::{Roots, SysError, docker, lxc, oci, podman, pods};
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

/// How long a record read from a runtime is shown without asking again.
pub const RECORD_TTL: Duration = Duration::from_secs(30);

/// How long "no source knows this container" holds before the sources are asked again.
pub const MISSING_TTL: Duration = Duration::from_secs(5);

/// How long a record in a passing state ("created": the container is starting, its processes
/// are already there) is shown before its runtime is asked again: a starting container must
/// not show "created" for long while it runs.
pub const UNSETTLED_TTL: Duration = Duration::from_millis(500);

/// Runtime states a container passes through (Docker's and podman's): a record holding one is
/// asked again soon, and the containers are built again every pass until it settles.
fn is_passing(state: Option<&str>) -> bool {
    matches!(
        state,
        Some("created" | "restarting" | "removing" | "configured" | "initialized" | "stopping")
    )
}

/// How long the Docker API is left alone after it failed other than by being absent (a daemon
/// that hangs or refuses): config.v2.json files are read meanwhile.
const API_BACKOFF: Duration = Duration::from_secs(30);

/// How long a record that disagrees with the kernel's freezer is shown without asking again:
/// the runtime may not have caught up with its own pause or unpause yet.
pub const DISAGREE_TTL: Duration = Duration::from_secs(1);

/// What was asked about, for [`RuntimeCache::asked`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Asked {
    /// A container id, in one runtime's records (Docker, podman, containerd's or CRI-O's
    /// bundles).
    Id(Runtime, String),
    /// A pod UID (its log directory).
    Pod(String),
    /// The init PID of an isolation group no layout recognised (runc's state files).
    Init(i32),
    /// A container known by name (LXC's config, machined's registration).
    Name(Runtime, String),
}

/// Runtimes' records kept between passes (see the module documentation).
#[derive(Debug, Default)]
pub(super) struct RuntimeCache {
    meta: Metadata,
    /// When each was last asked about, and the container's freezer state then.
    asked: HashMap<Asked, (Instant, Option<&'static str>)>,
    /// When the Docker API last failed other than by being absent.
    api_failed: Option<Instant>,
    /// The same for podman's API (its service's socket).
    podman_api_failed: Option<Instant>,
    /// One line per source that needs more privilege, until it is read.
    denied: Vec<(String, String)>,
    /// Set by [`Collector::read_runtime_records`].
    off: bool,
}

impl RuntimeCache {
    /// Forget every record (for [`Collector::invalidate`]): the next pass asks again.
    pub(super) fn forget(&mut self) {
        *self = RuntimeCache {
            off: self.off,
            ..RuntimeCache::default()
        };
    }

    /// Whether `what` needs asking now: never asked, or what was learnt is too old (a record
    /// in a passing state, see [`is_passing`], soon).
    fn due(&self, what: &Asked, known: bool, frozen: Option<&'static str>, now: Instant) -> bool {
        match self.asked.get(what) {
            None => true,
            Some((at, was_frozen)) => {
                let passing = match what {
                    Asked::Id(_, id) => self
                        .meta
                        .records
                        .get(id)
                        .is_some_and(|r| is_passing(r.state.as_deref())),
                    _ => false,
                };
                let ttl = match (known, passing) {
                    (true, true) => UNSETTLED_TTL,
                    (true, false) => RECORD_TTL,
                    (false, _) => MISSING_TTL,
                };
                now.duration_since(*at) >= ttl || *was_frozen != frozen
            }
        }
    }

    /// Whether the record of container `id` disagrees with its freezer state `frozen` (then it
    /// is asked again after [`DISAGREE_TTL`]).
    fn disagrees(&self, id: &str, frozen: Option<&str>) -> bool {
        let recorded = self.meta.records.get(id).and_then(|r| r.state.as_deref());
        containers::is_disagreement(frozen, recorded)
    }

    /// True while a container's record is in a passing state ("created" while it starts): the
    /// containers are then built again every pass, which asks its runtime again when due, so
    /// that the state follows the runtime's within [`UNSETTLED_TTL`].
    pub(super) fn unsettled(&self) -> bool {
        !self.off
            && self
                .meta
                .records
                .values()
                .any(|r| is_passing(r.state.as_deref()))
    }

    /// Remember a source's permission problem (or that it is gone) under `source`.
    fn note(&mut self, source: &str, result: Result<(), &SysError>) {
        self.denied.retain(|(s, _)| s != source);
        if let Err(e) = result
            && e.is_permission()
        {
            self.denied.push((
                source.to_string(),
                format!("{e} (containers are listed without their {source} names)"),
            ));
        }
    }

    /// Read what the containers of `detected` need and is not known or is stale; forget what
    /// belongs to containers that are gone.
    fn update(&mut self, roots: &Roots, snap: &Snapshot, detected: &Detected, now: Instant) {
        let found = FoundIds::new(detected, now);
        self.update_docker(roots, detected, &found);
        self.update_podman(roots, detected, &found);
        self.update_kube(roots, detected, &found);
        let uids = self.update_pods(roots, detected, now);
        let inits = self.update_runc(roots, snap, detected, now);
        let names = self.update_named(roots, snap, detected, now);

        // Forget the containers that are gone (an id is never reused; a PID or a pod UID's
        // record would be wrong for the next owner).
        let ids: HashSet<&str> = found.frozen.keys().copied().collect();
        let inits: HashSet<i32> = inits.into_iter().collect();
        let loose_pids: HashSet<i32> = detected
            .loose
            .iter()
            .filter_map(|l| snap.groups.get(l.group))
            .flat_map(|g| g.pids.iter().copied())
            .collect();
        self.meta.records.retain(|id, _| ids.contains(id.as_str()));
        self.meta.pods.retain(|uid, _| uids.contains(uid.as_str()));
        self.meta.runc.retain(|r| loose_pids.contains(&r.init_pid));
        self.meta
            .lxc
            .retain(|n| names.contains(&(Runtime::Lxc, n.as_str())));
        self.meta
            .machines
            .retain(|n| names.contains(&(Runtime::Nspawn, n.as_str())));
        self.asked.retain(|k, _| match k {
            Asked::Id(_, id) => ids.contains(id.as_str()),
            Asked::Pod(uid) => uids.contains(uid.as_str()),
            Asked::Init(pid) => inits.contains(pid),
            Asked::Name(r, n) => names.contains(&(*r, n.as_str())),
        });
    }

    /// Docker: the API, else config.v2.json per container.
    fn update_docker(&mut self, roots: &Roots, detected: &Detected, found: &FoundIds) {
        let docker_ids = found.due_ids(
            self,
            Runtime::Docker,
            detected.ids_for(Runtime::Docker).collect(),
        );
        if docker_ids.is_empty() {
            return;
        }
        let wanted: HashSet<&str> = detected.ids_for(Runtime::Docker).collect();
        let mut missing: HashSet<&str> = docker_ids.iter().map(String::as_str).collect();
        let api_ok = self
            .api_failed
            .is_none_or(|at| found.now.duration_since(at) >= API_BACKOFF);
        if api_ok {
            self.docker_from_api(roots, &wanted, &mut missing, found.now);
        }
        let dir = roots.docker_containers();
        for id in missing {
            match docker::read_config_v2(&dir, id) {
                Ok(r) => {
                    self.meta.records.insert(id.to_string(), r);
                }
                Err(e) if e.is_permission() => self.note("Docker", Err(&e)),
                Err(_) => {}
            }
        }
        found.mark(self, Runtime::Docker, &docker_ids);
    }

    /// The records of the `wanted` Docker containers from the Docker API, taken out of
    /// `missing`.
    fn docker_from_api(
        &mut self,
        roots: &Roots,
        wanted: &HashSet<&str>,
        missing: &mut HashSet<&str>,
        now: Instant,
    ) {
        let sock = roots.docker_sock();
        match docker::read_containers_api(&sock) {
            Ok(list) => {
                self.api_failed = None;
                self.note("Docker", Ok(()));
                let dir = roots.docker_containers();
                for (id, mut r) in list {
                    if !wanted.contains(id.as_str()) {
                        continue;
                    }
                    missing.remove(id.as_str());
                    let mut own = None;
                    // The list names the image by its id once the name it was run by points
                    // elsewhere (re-tagged, re-imported); Docker's own record keeps the name it
                    // was run by.
                    if r.image.as_deref().is_some_and(|i| i.starts_with("sha256:")) {
                        own = docker::read_config_v2(&dir, &id).ok();
                        if let Some(image) = own.as_ref().and_then(|o| o.image.as_deref())
                            && !image.starts_with("sha256:")
                        {
                            r.image = Some(image.to_string());
                        }
                    }
                    r.init_pid = docker_init_pid(&sock, &dir, &id, own);
                    self.meta.records.insert(id, r);
                }
            }
            Err(e) => {
                if !e.is_vanished() {
                    self.api_failed = Some(now);
                }
                self.note("Docker", Err(&e));
            }
        }
    }

    /// podman: containers/storage's list.
    fn update_podman(&mut self, roots: &Roots, detected: &Detected, found: &FoundIds) {
        let podman_ids = found.due_ids(
            self,
            Runtime::Podman,
            detected.ids_for(Runtime::Podman).collect(),
        );
        if podman_ids.is_empty() {
            return;
        }
        let wanted: HashSet<&str> = detected.ids_for(Runtime::Podman).collect();
        for path in roots.podman_containers_json() {
            match podman::read_containers_json(&path) {
                Ok(list) => {
                    self.note("podman", Ok(()));
                    for (id, mut r) in list {
                        if wanted.contains(id.as_str()) {
                            // Its init: the pid file its OCI runtime wrote.
                            r.init_pid = roots
                                .podman_pidfiles(&id)
                                .iter()
                                .find_map(|p| podman::read_pidfile(p).ok());
                            self.meta.records.insert(id, r);
                        }
                    }
                }
                Err(e) if e.is_vanished() => {}
                Err(e) => self.note("podman", Err(&e)),
            }
        }
        self.podman_states(roots, &wanted, found.now);
        found.mark(self, Runtime::Podman, &podman_ids);
    }

    /// The states of the `wanted` podman containers, from podman's API when its service runs
    /// (its storage does not record them): what shows a podman container frozen behind podman's
    /// back. Without the service the states stay unknown.
    fn podman_states(&mut self, roots: &Roots, wanted: &HashSet<&str>, now: Instant) {
        if self
            .podman_api_failed
            .is_some_and(|at| now.duration_since(at) < API_BACKOFF)
        {
            return;
        }
        match docker::read_containers_api(&roots.podman_sock()) {
            Ok(list) => {
                self.podman_api_failed = None;
                for (id, r) in list {
                    if !wanted.contains(id.as_str()) {
                        continue;
                    }
                    if let Some(known) = self.meta.records.get_mut(&id) {
                        known.state = r.state;
                    }
                }
            }
            Err(e) if e.is_vanished() => {}
            Err(_) => self.podman_api_failed = Some(now),
        }
    }

    /// Kubernetes containers of containerd and CRI-O: their bundles' annotations. One that
    /// Docker knows (dockershim) has its labels already.
    fn update_kube(&mut self, roots: &Roots, detected: &Detected, found: &FoundIds) {
        let kube: Vec<&str> = detected
            .ids_for(Runtime::Containerd)
            .chain(detected.ids_for(Runtime::CriO))
            .filter(|id| {
                self.meta
                    .records
                    .get(*id)
                    .is_none_or(|r| r.runtime != Runtime::Docker)
            })
            .collect();
        let kube_ids = found.due_ids(self, Runtime::Containerd, kube);
        for id in &kube_ids {
            // The first config is containerd's, the others CRI-O's (Roots::kube_bundle_configs).
            for (i, path) in roots.kube_bundle_configs(id).iter().enumerate() {
                match oci::read_bundle_annotations(path) {
                    Ok(annotations) => {
                        self.meta.records.insert(
                            id.clone(),
                            RuntimeRecord {
                                runtime: if i == 0 {
                                    Runtime::Containerd
                                } else {
                                    Runtime::CriO
                                },
                                name: None,
                                image: oci::annotated_image(&annotations),
                                state: None,
                                labels: annotations,
                                init_pid: None,
                            },
                        );
                        break;
                    }
                    Err(e) if e.is_permission() => self.note("Kubernetes", Err(&e)),
                    Err(_) => {}
                }
            }
        }
        found.mark(self, Runtime::Containerd, &kube_ids);
    }

    /// Pods: the kubelet's log directories. Returns the pod UIDs of the pass.
    fn update_pods<'a>(
        &mut self,
        roots: &Roots,
        detected: &'a Detected,
        now: Instant,
    ) -> HashSet<&'a str> {
        let uids: HashSet<&str> = detected.pod_uids().collect();
        let pods_due = uids.iter().any(|uid| {
            self.due(
                &Asked::Pod(uid.to_string()),
                self.meta.pods.contains_key(*uid),
                None,
                now,
            )
        });
        if pods_due {
            match pods::read_pod_log_dirs(&roots.pod_logs()) {
                Ok(list) => {
                    self.note("Kubernetes pod", Ok(()));
                    for p in list {
                        if uids.contains(p.uid.as_str()) {
                            self.meta.pods.insert(p.uid.clone(), p);
                        }
                    }
                }
                Err(e) => self.note("Kubernetes pod", Err(&e)),
            }
            for uid in &uids {
                self.asked.insert(Asked::Pod(uid.to_string()), (now, None));
            }
        }
        uids
    }

    /// runc: its state files name the isolation groups whose init they hold. Returns the inits
    /// of the isolation groups no layout recognised.
    fn update_runc(
        &mut self,
        roots: &Roots,
        snap: &Snapshot,
        detected: &Detected,
        now: Instant,
    ) -> Vec<i32> {
        let inits: Vec<i32> = detected.loose_inits(snap).collect();
        let runc_due = detected
            .loose
            .iter()
            .filter_map(|l| snap.groups.get(l.group))
            .any(|g| {
                // A state file may name another of the group's processes than its kernel init.
                let known = self
                    .meta
                    .runc
                    .iter()
                    .any(|r| g.pids.binary_search(&r.init_pid).is_ok());
                self.due(&Asked::Init(g.init_pid), known, None, now)
            });
        if runc_due {
            match oci::read_runc_states(&roots.runc_root(), Runtime::Runc) {
                Ok(states) => {
                    self.note("runc", Ok(()));
                    self.meta.runc = states;
                }
                Err(e) => {
                    self.meta.runc.clear();
                    self.note("runc", Err(&e));
                }
            }
            for pid in &inits {
                self.asked.insert(Asked::Init(*pid), (now, None));
            }
        }
        inits
    }
}

impl RuntimeCache {
    /// LXC and systemd-nspawn containers, known by name: confirmed by LXC's config (in
    /// /var/lib/lxc, or in the LXCPATH of the container's monitor, a root process titled
    /// `[lxc monitor] LXCPATH NAME`) or by machined's registration, each a file root owns.
    /// Returns the names of the pass.
    fn update_named<'a>(
        &mut self,
        roots: &Roots,
        snap: &Snapshot,
        detected: &'a Detected,
        now: Instant,
    ) -> HashSet<(Runtime, &'a str)> {
        let names: HashSet<(Runtime, &str)> = [Runtime::Lxc, Runtime::Nspawn]
            .into_iter()
            .flat_map(|r| detected.names_for(r).map(move |n| (r, n)))
            .collect();
        for &(runtime, name) in &names {
            let what = Asked::Name(runtime, name.to_string());
            let set = match runtime {
                Runtime::Lxc => &self.meta.lxc,
                _ => &self.meta.machines,
            };
            if !self.due(&what, set.contains(name), None, now) {
                continue;
            }
            let confirmed = is_file_name(name)
                && match runtime {
                    Runtime::Lxc => self.lxc_config_exists(roots, snap, name),
                    _ => self.roots_file(roots.machine_file(name), "systemd-machined"),
                };
            let set = match runtime {
                Runtime::Lxc => &mut self.meta.lxc,
                _ => &mut self.meta.machines,
            };
            if confirmed {
                set.insert(name.to_string());
            } else {
                set.remove(name);
            }
            self.asked.insert(what, (now, None));
        }
        names
    }

    /// Whether LXC container `name`'s config exists, owned by root.
    fn lxc_config_exists(&mut self, roots: &Roots, snap: &Snapshot, name: &str) -> bool {
        let monitor = snap
            .processes
            .values()
            .filter(|p| p.uid == 0 && !p.kernel_thread)
            .find_map(|p| lxc::monitor_lxcpath(&p.cmdline, name));
        [Some(Roots::LXC_DEFAULT_PATH), monitor]
            .into_iter()
            .flatten()
            .any(|path| self.roots_file(roots.lxc_config(path, name), "LXC"))
    }

    /// [`lxc::is_roots_file`], a permission problem noted under `source`.
    fn roots_file(&mut self, path: std::path::PathBuf, source: &str) -> bool {
        match lxc::is_roots_file(&path) {
            Ok(yes) => yes,
            Err(e) => {
                self.note(source, Err(&e));
                false
            }
        }
    }
}

/// A running Docker container's init as Docker records it: the API's State.Pid (the list does not
/// carry it), else config.v2.json's (`own`, when already read).
fn docker_init_pid(
    sock: &std::path::Path,
    dir: &std::path::Path,
    id: &str,
    own: Option<RuntimeRecord>,
) -> Option<i32> {
    docker::read_container_api(sock, id)
        .ok()
        .and_then(|r| r.init_pid)
        .or_else(|| {
            own.or_else(|| docker::read_config_v2(dir, id).ok())
                .and_then(|r| r.init_pid)
        })
}

/// Whether a container's name can be a file name: a component of its own, no `..` or `/` (a
/// machine's name comes unescaped from a unit name that may hold `\x2f`).
fn is_file_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\0'])
}

/// The containers of a pass known by id, with their freezer states: which of them a runtime is
/// asked about now.
struct FoundIds<'a> {
    frozen: HashMap<&'a str, Option<&'static str>>,
    /// Each one's processes (sorted).
    pids: HashMap<&'a str, &'a [i32]>,
    now: Instant,
}

impl<'a> FoundIds<'a> {
    fn new(detected: &'a Detected, now: Instant) -> Self {
        let mut frozen = HashMap::new();
        let mut pids = HashMap::new();
        for f in &detected.found {
            if let containers::FoundKey::Id(id) = &f.key {
                frozen.insert(id.as_str(), f.frozen);
                pids.insert(id.as_str(), f.pids.as_slice());
            }
        }
        FoundIds { frozen, pids, now }
    }

    /// Whether the record of `id` holds: there is one, and the init it names (if any) is still
    /// one of the container's processes (after a restart it is not).
    fn record_holds(&self, cache: &RuntimeCache, id: &str) -> bool {
        cache.meta.records.get(id).is_some_and(|r| {
            r.init_pid.is_none_or(|pid| {
                self.pids
                    .get(id)
                    .is_some_and(|p| p.binary_search(&pid).is_ok())
            })
        })
    }

    /// Those of `ids` that `source` needs asking about now (see [`RuntimeCache::due`]).
    fn due_ids(&self, cache: &RuntimeCache, source: Runtime, ids: Vec<&str>) -> Vec<String> {
        ids.into_iter()
            .filter(|id| {
                let f = self.frozen.get(id).copied().flatten();
                let known = self.record_holds(cache, id);
                let what = Asked::Id(source, id.to_string());
                let soon = cache.disagrees(id, f)
                    && cache
                        .asked
                        .get(&what)
                        .is_some_and(|(at, _)| self.now.duration_since(*at) >= DISAGREE_TTL);
                soon || cache.due(&what, known, f, self.now)
            })
            .map(str::to_string)
            .collect()
    }

    /// Note that `source` was asked about `ids` now.
    fn mark(&self, cache: &mut RuntimeCache, source: Runtime, ids: &[String]) {
        for id in ids {
            let f = self.frozen.get(id.as_str()).copied().flatten();
            cache
                .asked
                .insert(Asked::Id(source, id.clone()), (self.now, f));
        }
    }
}

impl Collector {
    /// Whether passes read runtimes' records (on by default). Off, containers are still
    /// recognised, by their short ids and paths: for commands that do not show them, so that a
    /// daemon that hangs cannot slow them down.
    pub fn read_runtime_records(&mut self, on: bool) {
        self.runtimes.off = !on;
    }

    /// Set `snap.containers` (see [`containers::build`]) from what the snapshot shows and what
    /// runtimes record, read as needed (see the module documentation).
    pub(super) fn add_containers(&mut self, snap: &mut Snapshot) {
        let mut detected = containers::detect(snap);
        if !self.runtimes.off {
            self.runtimes
                .update(&self.roots, snap, &detected, Instant::now());
            containers::adopt_recorded_inits(snap, &mut detected, &self.runtimes.meta);
        }
        snap.containers = containers::build(snap, &detected, &self.runtimes.meta);
        self.add_runtime_warnings(snap);
    }

    /// The warnings of the runtimes' records last read (a refresh that keeps the containers of
    /// an earlier pass adds them without building the containers again).
    pub(super) fn add_runtime_warnings(&self, snap: &mut Snapshot) {
        for (_, w) in &self.runtimes.denied {
            if !snap.warnings.contains(w) {
                snap.warnings.push(w.clone());
            }
        }
    }
}
