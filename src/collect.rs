//! One collection pass: readers -> [`Snapshot`]. Tolerant of processes and cgroups that vanish
//! mid-pass (they are skipped) and of unreadable files (absent fields, one warning per kind).

use crate::model::{self, Cgroup, CgroupMode, Hierarchy, NsId, NsKey, NsType, Process, Snapshot};
use crate::sys::cgroupfs::{self, CgroupDir};
use crate::sys::mounts;
use crate::sys::nsfs::{self, NsRelations, NsTarget};
use crate::sys::procfs::{self, ProcessRead};
use crate::sys::{Roots, SysResult, net, uts};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod containers;
mod refresh;
mod tasks;

pub use refresh::{FULL_READ_EVERY, ROLLING_PASSES, RefreshStats, YOUNG_PASSES};
pub use tasks::{ITER_MIN_TASKS, ProcessSource};

/// What to collect beyond processes and namespaces. The CLI turns off what a command does not
/// print; the UI and the benchmark collect everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CollectOptions {
    /// Owner and parent of each namespace (nsfs ioctls).
    pub relations: bool,
    /// Hostname and domainname per UTS namespace (joins each in a helper thread).
    pub uts: bool,
    /// Interfaces per network namespace (joins each in a helper thread).
    pub net: bool,
    /// Cgroup hierarchies, trees, limits and usage.
    pub cgroups: bool,
    /// Every process's command line. Without it (what `list` prints) only the lowest PID of
    /// each namespace has its command line read, after the pass (with the task iterator; the
    /// /proc reader reads them all anyway); the others show their comm.
    pub command_lines: bool,
}

impl CollectOptions {
    pub const ALL: CollectOptions = CollectOptions {
        relations: true,
        uts: true,
        net: true,
        cgroups: true,
        command_lines: true,
    };

    /// Processes and namespace membership only.
    pub const PROCESSES: CollectOptions = CollectOptions {
        relations: false,
        uts: false,
        net: false,
        cgroups: false,
        command_lines: true,
    };
}

/// The parts collected besides processes and namespaces: "relations uts net cgroups", or
/// "processes and namespaces only".
impl std::fmt::Display for CollectOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<&str> = [
            (self.relations, "relations"),
            (self.uts, "uts"),
            (self.net, "net"),
            (self.cgroups, "cgroups"),
        ]
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, name)| *name)
        .collect();
        if parts.is_empty() {
            f.write_str("processes and namespaces only")?;
        } else {
            write!(f, "processes, namespaces, {}", parts.join(" "))?;
        }
        if !self.command_lines {
            f.write_str("; command lines of each namespace's lowest PID only")?;
        }
        Ok(())
    }
}

/// Keeps what does not change between passes (namespace relations, device names), so a live view
/// re-reads only what can change: [`Collector::collect`] is one full pass (the CLI),
/// [`Collector::refresh`] the incremental pass of a live view (see its documentation for what it
/// keeps and for how stale a kept value can be).
pub struct Collector {
    roots: Roots,
    relations: HashMap<NsKey, NsRelations>,
    dev_nodes: Option<BTreeMap<(bool, u32, u32), String>>,
    threads: usize,
    phases: Vec<(&'static str, Duration)>,
    /// What the last full pass's phases did, one line each (counts, threads, time).
    phase_notes: Vec<String>,
    /// What [`Collector::refresh`] keeps between passes; `None` until its first pass and after
    /// [`Collector::invalidate`].
    live: Option<refresh::Live>,
    /// Set by [`Collector::cgroups_changed`]: the next refresh walks the cgroup trees again.
    cgroups_dirty: bool,
    stats: RefreshStats,
    /// Runtimes' records of the containers seen (names, images), kept between passes.
    runtimes: containers::RuntimeCache,
    /// The BPF task iterator a full pass reads processes with (see [`tasks`]).
    iter: tasks::IterState,
    /// Whether full passes find isolation groups and containers (see
    /// [`Collector::recognise_containers`]).
    containers: bool,
}

impl Collector {
    pub fn new(roots: Roots) -> Self {
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .clamp(1, 4);
        Collector {
            roots,
            relations: HashMap::new(),
            dev_nodes: None,
            threads,
            phases: Vec::new(),
            phase_notes: Vec::new(),
            live: None,
            cgroups_dirty: false,
            stats: RefreshStats::default(),
            runtimes: containers::RuntimeCache::default(),
            iter: tasks::IterState::default(),
            containers: true,
        }
    }

    /// How the last full pass read processes: "bpf task iterator", or "/proc (bpf task
    /// iterator: why not)".
    pub fn process_source(&self) -> String {
        self.iter.describe()
    }

    /// Whether full passes find isolation groups and containers (on by default). Off, the
    /// snapshot has none: for commands that print neither (`list`, `cgroups`).
    pub fn recognise_containers(&mut self, on: bool) {
        self.containers = on;
    }

    /// How full passes read processes (default [`ProcessSource::Auto`]).
    pub fn with_process_source(mut self, source: ProcessSource) -> Self {
        self.iter.source = source;
        self
    }

    pub fn roots(&self) -> &Roots {
        &self.roots
    }

    /// How long each phase of the last pass took (for the benchmark command).
    pub fn phases(&self) -> &[(&'static str, Duration)] {
        &self.phases
    }

    /// What the phases of the last full pass did: how many namespaces each reader read, on how
    /// many threads, in how long (for the benchmark command).
    pub fn phase_notes(&self) -> &[String] {
        &self.phase_notes
    }

    /// One full pass. Fails only when /proc cannot be listed at all; everything else that cannot
    /// be read is absent from the snapshot and named in its warnings.
    pub fn collect(&mut self, opts: CollectOptions) -> SysResult<Snapshot> {
        let mut warnings = Warnings::default();
        let mut snap = Snapshot::default();
        let mut clock = PhaseClock::start(&mut self.phases);
        self.phase_notes.clear();

        snap.taken_at = Some(Instant::now());
        snap.host = uts::read_host_info();
        let (pass, cgroup_pass) = self.read_processes_and_cgroups(opts)?;
        clock.lap(&mut self.phases, "read processes, cgroups");
        let cgroup_pass = cgroup_pass.filter(|_| opts.cgroups);
        let mut denied_pids = Vec::new();
        for r in pass.processes {
            if !r.denied.is_empty() {
                denied_pids.push(r.process.pid);
            }
            snap.processes.insert(r.process.pid, r.process);
        }
        denied_pids.sort_unstable();
        if !denied_pids.is_empty() {
            warnings.push(processes_denied_warning(&denied_pids));
        }
        add_cgroup_pass(&mut snap, cgroup_pass, &mut warnings);
        snap.host_ns = host_namespaces(&snap.processes);
        clock.lap(&mut self.phases, "process table, members");

        snap.namespaces = model::namespaces_from_processes(&snap.processes);
        clock.lap(&mut self.phases, "namespaces");
        // Read meanwhile: they do not depend on what follows.
        let leaders_cmdlines =
            (!opts.command_lines).then(|| self.read_leaders_command_lines(&snap));
        let mut bind_mounts = Vec::new();
        let mut mountinfo_denied = 0;
        for m in pass.mountinfo {
            match m.found {
                Some(found) => bind_mounts.extend(found.into_iter().map(|b| (m.pid, b))),
                None => mountinfo_denied += 1,
            }
        }
        let openers = self.add_bind_mounts(&mut snap, bind_mounts);
        if mountinfo_denied > 0 {
            warnings.push(mountinfo_warning(mountinfo_denied));
        }
        self.relations.extend(pass.relations);
        clock.lap(&mut self.phases, "bind mounts");

        self.add_names_and_interfaces(&mut snap, &openers, opts);
        clock.lap(&mut self.phases, "relations, uts, net");
        if let Some(reader) = leaders_cmdlines {
            for (pid, args) in reader.join().unwrap_or_default() {
                if let Some(p) = snap.processes.get_mut(&pid) {
                    p.cmdline = args;
                }
            }
            clock.lap(&mut self.phases, "lowest PIDs' command lines (rest)");
        }

        snap.warnings = warnings.0;
        if self.containers {
            snap.groups = model::isolation_groups(&snap.processes, &snap.host_ns);
            clock.lap(&mut self.phases, "isolation groups");
            self.add_containers(&mut snap);
            clock.lap(&mut self.phases, "containers");
        }
        Ok(snap)
    }

    /// The processes of a full pass, from the task iterator when it is worth trying (see
    /// [`tasks`]) or from /proc, and meanwhile the cgroup trees: they do not depend on the
    /// processes. With the task iterator, the walk also notes each cgroup's id, which names the
    /// tasks' cgroups.
    fn read_processes_and_cgroups(
        &mut self,
        opts: CollectOptions,
    ) -> SysResult<(ProcessPass, Option<std::thread::Result<CgroupPass>>)> {
        let roots = &self.roots;
        let threads = self.threads;
        let dev_nodes = &mut self.dev_nodes;
        // Relations never change for a namespace; those known from earlier passes are kept.
        let known_relations = &self.relations;
        let iter_state = &mut self.iter;
        // Decided before listing /proc, so that the iterator loads while /proc is listed.
        let tasks_now = procfs::read_loadavg_tasks(roots).unwrap_or(usize::MAX);
        let try_iter = iter_state.worth_trying(roots, tasks_now);
        let want = CgroupWant {
            limits: opts.cgroups,
            ids: try_iter,
        };
        let nsfs_dev = procfs::nsfs_device(roots);
        std::thread::scope(|s| -> SysResult<_> {
            let cg = (want.limits || want.ids)
                .then(|| s.spawn(move || read_cgroups(roots, dev_nodes, want)));
            let it = try_iter.then(|| s.spawn(move || tasks::read_tasks(iter_state)));
            let pids = procfs::list_pids(roots)?;
            let from_iter = if let Some(it) = it {
                // The iterator loads and runs in its own thread while command lines, which it
                // does not give, are read here.
                let cmdlines = if opts.command_lines {
                    tasks::read_cmdlines(roots, &pids, threads)
                } else {
                    HashMap::new()
                };
                it.join().ok().flatten().map(|t| (t, cmdlines))
            } else {
                None
            };
            if let Some((tasks, cmdlines)) = from_iter {
                let cmdlines = tasks::CommandLines {
                    read: cmdlines,
                    read_missing: opts.command_lines,
                };
                let from_iter = tasks::process_pass(roots, tasks, cmdlines, nsfs_dev, threads);
                let cgroup_pass = cg.map(|h| h.join());
                let ids = cgroup_pass
                    .as_ref()
                    .and_then(|r| r.as_ref().ok())
                    .map(|p| &p.ids);
                let pass = complete_iterator_pass(
                    roots,
                    from_iter,
                    ids,
                    &pids,
                    threads,
                    opts,
                    known_relations,
                );
                return Ok((pass, cgroup_pass));
            }
            let requests: Vec<ReadRequest> =
                pids.iter().map(|&pid| ReadRequest::new(pid)).collect();
            let pass = read_processes(
                roots,
                &requests,
                threads,
                opts,
                known_relations,
                Some(&HashSet::new()),
                false,
            );
            Ok((pass, cg.map(|h| h.join())))
        })
    }

    /// The command lines of each namespace's lowest PID (what `list` prints), for a pass that
    /// read none, read in a thread of their own while names and interfaces are read; a process
    /// gone meanwhile keeps its comm.
    fn read_leaders_command_lines(
        &self,
        snap: &Snapshot,
    ) -> std::thread::JoinHandle<HashMap<i32, Vec<String>>> {
        let mut leaders: Vec<i32> = (snap.namespaces.values())
            .filter_map(|ns| ns.lowest_pid())
            .filter(|pid| {
                snap.processes
                    .get(pid)
                    .is_some_and(|p| p.cmdline.is_empty() && !p.kernel_thread)
            })
            .collect();
        leaders.sort_unstable();
        leaders.dedup();
        let roots = self.roots.clone();
        std::thread::spawn(move || tasks::read_cmdlines(&roots, &leaders, 1))
    }

    /// Hostnames, interfaces and relations of every namespace, spread over the collector's
    /// threads: UTS and network namespaces are joined by helper threads of their own (see
    /// [`uts::read_uts_names_on`], [`net::read_netns_interfaces_on`]) while the relations the
    /// process pass did not give are read here and on more threads meanwhile.
    fn add_names_and_interfaces(
        &mut self,
        snap: &mut Snapshot,
        openers: &HashMap<NsKey, NsTarget>,
        opts: CollectOptions,
    ) {
        let threads = self.threads;
        let targets = |on: bool, t: NsType| match on {
            true => targets_of(&self.roots, snap, openers, t, |_| true),
            false => Vec::new(),
        };
        let uts_targets = targets(opts.uts, NsType::Uts);
        let net_targets = targets(opts.net, NsType::Net);
        let (uts_names, interfaces, relations) = std::thread::scope(|s| {
            let uts = (!uts_targets.is_empty())
                .then(|| s.spawn(|| timed(|| uts::read_uts_names_on(&uts_targets, threads))));
            let net = (!net_targets.is_empty()).then(|| {
                s.spawn(|| timed(|| net::read_netns_interfaces_on(&net_targets, threads)))
            });
            let relations = opts
                .relations
                .then(|| timed(|| self.add_relations(snap, openers)));
            (
                uts.and_then(|h| h.join().ok()),
                net.and_then(|h| h.join().ok()),
                relations,
            )
        });
        if let Some((read, took)) = relations {
            let total = snap.namespaces.len();
            self.note(format!(
                "relations: {read} of {total} namespaces read here (the rest came with the process pass), {took:.1?}"
            ));
        }
        if let Some((names, took)) = uts_names {
            self.note(format!(
                "uts: {} namespaces joined on up to {threads} threads, {took:.1?}",
                names.len()
            ));
            for (ino, res) in names {
                if let (Ok(name), Some(ns)) = (res, snap.namespaces.get_mut(&(NsType::Uts, ino))) {
                    ns.hostname = Some(name.hostname);
                    ns.domainname = Some(name.domainname);
                }
            }
        }
        if let Some((found, took)) = interfaces {
            self.note(format!(
                "net: {} namespaces joined on up to {threads} threads, {took:.1?}",
                found.len()
            ));
            for (ino, res) in found {
                if let (Ok(ifs), Some(ns)) = (res, snap.namespaces.get_mut(&(NsType::Net, ino))) {
                    ns.interfaces = Some(ifs);
                }
            }
        }
    }

    fn note(&mut self, line: String) {
        self.phase_notes.push(line);
    }

    /// Namespaces held by nsfs bind mounts, found in the mountinfo of one process of every mount
    /// namespace (a bind mount is visible only in the mount namespace where it was made).
    /// Returns how to open them through the mount point, in the mount namespace that holds it
    /// (see [`openers`]).
    fn add_bind_mounts(
        &self,
        snap: &mut Snapshot,
        found: Vec<(i32, mounts::NsBindMount)>,
    ) -> HashMap<NsKey, NsTarget> {
        let mut openers = HashMap::new();
        let dev = snap.host_ns.values().next().map_or(0, |id| id.dev);
        for (pid, b) in found {
            let key = (b.ns_type, b.ino);
            // Seen already from another mount namespace (one that copied the mounts, as
            // `unshare --mount` does): listed, with its opener. Opening it again would cost
            // syscalls per bind mount and mount namespace, N x M.
            if snap
                .namespaces
                .get(&key)
                .is_some_and(|ns| ns.bind_mounts.contains(&b.mount_point))
            {
                continue;
            }
            let target =
                NsTarget::bind_mount(b.ino, self.roots.pid_dir(pid).join("root"), &b.mount_point);
            if !self.bind_mount_holds_it(&target) {
                continue;
            }
            let ns = snap.namespaces.entry(key).or_insert_with(|| {
                model::Namespace::new(b.ns_type, model::NsId { dev, ino: b.ino })
            });
            if !ns.bind_mounts.contains(&b.mount_point) {
                ns.bind_mounts.push(b.mount_point.clone());
            }
            // Reach the mount point through the mount namespace that holds it.
            openers.entry(key).or_insert(target);
        }
        for ns in snap.namespaces.values_mut() {
            ns.bind_mounts.sort();
        }
        openers
    }

    /// Whether the path of a bind mount listed in mountinfo leads to its namespace. Whoever owns
    /// that mount namespace controls what is at the path: a FIFO, a symlink or another
    /// namespace mounted over it is not the namespace mountinfo names, and is not listed. On the
    /// live kernel only (a fixture's mount points are not there); a path nsview may not reach
    /// (not root) is listed as mountinfo says.
    fn bind_mount_holds_it(&self, target: &NsTarget) -> bool {
        if !self.roots.is_live() {
            return true;
        }
        match target.open() {
            Ok(_) => true,
            Err(e) => e.is_permission(),
        }
    }

    /// Owner, parent and owner uid of every namespace: those the process pass or an earlier one
    /// gave, the others read now on the collector's threads.
    /// Returns how many were read now.
    fn add_relations(
        &mut self,
        snap: &mut Snapshot,
        openers_by_bind: &HashMap<NsKey, NsTarget>,
    ) -> usize {
        let missing = self.relations_to_read(snap, openers_by_bind);
        let read = read_relations_of(&missing, self.threads);
        let count = read.len();
        self.relations.extend(read);
        set_relations(snap, &self.relations);
        count
    }

    /// The namespaces whose relations are not known (from the process pass or an earlier one),
    /// each with the paths that open it. Drops the cached relations of namespaces that no
    /// longer exist first (their inode may be reused).
    fn relations_to_read(
        &mut self,
        snap: &Snapshot,
        openers_by_bind: &HashMap<NsKey, NsTarget>,
    ) -> Vec<(NsKey, NsType, Vec<NsTarget>)> {
        self.relations
            .retain(|k, _| snap.namespaces.contains_key(k));
        snap.namespaces
            .values()
            .filter(|ns| !self.relations.contains_key(&ns.key()))
            .map(|ns| {
                let paths = openers(&self.roots, ns, openers_by_bind);
                (ns.key(), ns.ns_type, paths)
            })
            .collect()
    }
}

/// The relations of each of `missing` (see [`Collector::relations_to_read`]) through the first
/// of its paths that opens, on up to `threads` threads; those that open by none are left out.
fn read_relations_of(
    missing: &[(NsKey, NsType, Vec<NsTarget>)],
    threads: usize,
) -> Vec<(NsKey, NsRelations)> {
    tasks::on_threads(missing, threads, 64, |chunk| {
        chunk
            .iter()
            .filter_map(|(key, t, paths)| {
                let file = paths.iter().find_map(|target| target.open().ok())?;
                Some((*key, nsfs::read_relations(&file, *t)))
            })
            .collect()
    })
}

/// Each namespace's owner, parent and owner uid from `relations`, where known.
fn set_relations(snap: &mut Snapshot, relations: &HashMap<NsKey, NsRelations>) {
    for ns in snap.namespaces.values_mut() {
        if let Some(rel) = relations.get(&ns.key()) {
            ns.owner = rel.owner.map(|id| id.ino);
            ns.parent = rel.parent.map(|id| id.ino);
            ns.owner_uid = rel.owner_uid;
        }
    }
}

/// The cgroup side of a pass, read independently of processes.
struct CgroupPass {
    mode: CgroupMode,
    hierarchies: Vec<Hierarchy>,
    /// Members are filled in later by [`assign_members`].
    cgroups: Vec<Cgroup>,
    /// The directory of each of `cgroups`, in the same order (for re-reading their files).
    dirs: Vec<CgroupDir>,
    warnings: Vec<String>,
    /// With [`CgroupWant::ids`]: how to name the cgroups the task iterator reports.
    ids: tasks::CgroupIds,
}

/// What [`read_cgroups`] reads besides the trees.
#[derive(Debug, Clone, Copy)]
struct CgroupWant {
    /// Limit, usage and device files of every cgroup.
    limits: bool,
    /// Each cgroup's id (see [`tasks::CgroupIds`]).
    ids: bool,
}

impl CgroupWant {
    const LIMITS: CgroupWant = CgroupWant {
        limits: true,
        ids: false,
    };
}

/// Walk one mounted hierarchy into `pass`: its cgroups with their files (with
/// [`CgroupWant::limits`]) and their ids (with [`CgroupWant::ids`]).
fn read_hierarchy(
    roots: &Roots,
    m: mounts::CgroupMount,
    want: CgroupWant,
    drivers: &BTreeMap<(bool, u32), String>,
    dev_nodes: &mut Option<BTreeMap<(bool, u32, u32), String>>,
    denied: &mut usize,
    pass: &mut CgroupPass,
) {
    let mut h: Hierarchy = m.hierarchy;
    let mount_dir = roots.mount_path(std::path::Path::new(&h.mount));
    if h.version == 2 {
        h.controllers = cgroupfs::read_cgroup_controllers(&mount_dir).unwrap_or_default();
    }
    // Ids name cgroups only where the walk's paths are /proc/PID/cgroup's: a mount of the
    // hierarchy's root.
    let id_of_hierarchy = pass
        .ids
        .lines
        .iter()
        .find(|(_, k)| **k == *h.key)
        .map(|(id, _)| *id)
        .filter(|_| want.ids && m.root == "/");
    match cgroupfs::walk_hierarchy(&mount_dir) {
        Ok(tree) => {
            for dir in tree {
                if let Some(hid) = id_of_hierarchy {
                    pass.ids
                        .paths
                        .insert((hid, dir.ino), Arc::from(dir.path.as_str()));
                }
                if !want.limits {
                    continue;
                }
                if let Some(cg) = read_one_cgroup(roots, &h, &dir, drivers, dev_nodes, denied) {
                    pass.cgroups.push(cg);
                    pass.dirs.push(dir);
                }
            }
        }
        Err(e) => pass
            .warnings
            .push(format!("cannot read cgroup hierarchy {}: {e}", h.key)),
    }
    pass.hierarchies.push(h);
}

/// Find the hierarchies in /proc/self/mountinfo and read every cgroup of each.
fn read_cgroups(
    roots: &Roots,
    dev_nodes: &mut Option<BTreeMap<(bool, u32, u32), String>>,
    want: CgroupWant,
) -> CgroupPass {
    let mut pass = CgroupPass {
        mode: CgroupMode::None,
        hierarchies: Vec::new(),
        cgroups: Vec::new(),
        dirs: Vec::new(),
        warnings: Vec::new(),
        ids: tasks::CgroupIds::default(),
    };
    let mountinfo = match procfs::read_self_mountinfo(roots) {
        Ok(m) => m,
        Err(e) => {
            pass.warnings
                .push(format!("cannot read cgroup mounts: {e}"));
            return pass;
        }
    };
    let self_cgroup = procfs::read_self_cgroup(roots).unwrap_or_default();
    let controllers = procfs::read_proc_cgroups(roots).unwrap_or_default();
    let (mode, found) = mounts::cgroup_mounts(&mountinfo, &self_cgroup, &controllers);
    pass.mode = mode;
    if want.ids {
        pass.ids.lines = self_cgroup
            .iter()
            .map(|l| (l.id, Arc::<str>::from(l.key.as_str())))
            .collect();
    }

    let drivers = procfs::read_proc_devices(roots).unwrap_or_default();
    let mut denied = 0usize;
    for m in found {
        read_hierarchy(roots, m, want, &drivers, dev_nodes, &mut denied, &mut pass);
    }
    if denied > 0 {
        pass.warnings.push(format!(
            "permission denied reading {denied} cgroup files (run as root to see every limit)"
        ));
    }
    if mode == CgroupMode::None {
        pass.warnings
            .push("no cgroup file system is mounted".into());
    }
    pass
}

/// Members come from /proc/PID/cgroup, already read: reading cgroup.procs again would make the
/// kernel build and sort a list of every PID for each hierarchy's root.
fn assign_members(cgroups: &mut [Cgroup], processes: &BTreeMap<i32, Process>) {
    // Ten or so lookups per process, every pass: FNV instead of SipHash (keys are cgroup paths
    // that only root can create; nothing to defend against).
    let mut members: HashMap<(&str, &str), Vec<i32>, BuildFnv> = HashMap::default();
    for p in processes.values() {
        for (key, path) in &p.cgroups {
            members.entry((key, path)).or_default().push(p.pid);
        }
    }
    for cg in cgroups.iter_mut() {
        if let Some(pids) = members.remove(&(cg.hierarchy.as_str(), cg.path.as_str())) {
            cg.pids = pids;
        }
    }
}

/// FNV-1a (64 bit), for small keys hashed many times per pass.
#[derive(Default)]
struct Fnv(u64);

impl std::hash::Hasher for Fnv {
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        self.0 = h;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type BuildFnv = std::hash::BuildHasherDefault<Fnv>;

fn read_one_cgroup(
    roots: &Roots,
    h: &Hierarchy,
    dir: &CgroupDir,
    drivers: &BTreeMap<(bool, u32), String>,
    dev_nodes: &mut Option<BTreeMap<(bool, u32, u32), String>>,
    denied: &mut usize,
) -> Option<Cgroup> {
    let read = match cgroupfs::read_cgroup(dir) {
        Ok(r) => r,
        Err(e) if e.is_permission() => {
            *denied += 1;
            cgroupfs::CgroupRead::default()
        }
        // Vanished mid-pass: skip the group.
        Err(_) => return None,
    };
    *denied += read.denied.len();
    let (devices, devices_default) = match &read.devices {
        Some(rules) => {
            let nodes = dev_nodes.get_or_insert_with(|| cgroupfs::read_dev_nodes(&roots.dev));
            let default_allow = rules
                .iter()
                .any(|r| r.kind == 'a' && r.major.is_none() && r.minor.is_none());
            (
                Some(cgroupfs::name_devices(rules, nodes, drivers)),
                Some(if default_allow { "allow" } else { "deny" }.to_string()),
            )
        }
        None => (None, None),
    };
    Some(Cgroup {
        hierarchy: h.key.clone(),
        path: dir.path.clone(),
        pids: Vec::new(),
        limits: read.limits,
        usage: read.usage,
        devices,
        devices_default,
        owner_uid: dir.uid,
    })
}

fn own_pid() -> i32 {
    std::process::id() as i32
}

/// The host's namespaces: PID 1's when readable; else kthreadd's (PID 2, a kernel thread, always
/// in the initial namespaces); else nsview's own.
fn host_namespaces(processes: &BTreeMap<i32, Process>) -> BTreeMap<NsType, NsId> {
    let full = |p: &&Process| p.ns.len() >= NsType::ALL.len() - 1;
    processes
        .get(&1)
        .filter(full)
        .or_else(|| processes.get(&2).filter(|p| p.kernel_thread).filter(full))
        .or_else(|| processes.get(&own_pid()))
        .map(|p| p.ns.clone())
        .unwrap_or_default()
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// "PID 1, 7, 9" or "PID 1, 7, 9, 12, 40 and 3 more".
fn pid_list(pids: &[i32]) -> String {
    let shown: Vec<String> = pids.iter().take(5).map(|p| p.to_string()).collect();
    let more = pids.len().saturating_sub(5);
    let mut s = format!("PID {}", shown.join(", "));
    if more > 0 {
        s.push_str(&format!(" and {more} more"));
    }
    s
}

/// What the process threads learn besides the processes: the first time a thread meets a
/// namespace it reads its relations (through the /proc/PID/ns handle it already holds), and the
/// first time it meets a mount namespace it reads the nsfs bind mounts listed there.
#[derive(Default)]
struct ProcessPass {
    processes: Vec<ProcessRead>,
    /// Processes re-read with [`ReadRequest::if_ran`] that had not run: PID, cgroups if they
    /// changed, and the hash of /proc/PID/cgroup.
    idle: Vec<(i32, Option<procfs::CgroupPaths>, u64)>,
    relations: Vec<(NsKey, NsRelations)>,
    mountinfo: Vec<MountinfoRead>,
}

impl ProcessPass {
    /// Add what another thread read.
    fn append(&mut self, part: ProcessPass) {
        self.processes.extend(part.processes);
        self.idle.extend(part.idle);
        self.relations.extend(part.relations);
        self.mountinfo.extend(part.mountinfo);
    }
}

/// The nsfs bind mounts of one mount namespace, from the mountinfo of one of its processes.
#[derive(Debug, Clone)]
struct MountinfoRead {
    /// The process whose mountinfo was read (bind mounts are opened through its root).
    pid: i32,
    /// `None`: permission denied.
    found: Option<Vec<mounts::NsBindMount>>,
}

/// One process to read, with what is known of it from an earlier pass.
struct ReadRequest<'a> {
    pid: i32,
    known: Option<procfs::Known<'a>>,
    /// Read only its cgroups if it has not run since `known` (see [`procfs::reread_process`]).
    if_ran: bool,
    /// With `if_ran`: also compare what others can change without it running (its command line
    /// and comm).
    check_others: bool,
}

impl ReadRequest<'_> {
    /// A process read whole, as if never seen.
    fn new(pid: i32) -> Self {
        ReadRequest {
            pid,
            known: None,
            if_ran: false,
            check_others: false,
        }
    }
}

/// The warning for processes some of whose files were denied.
/// One line for the processes whose namespaces or cgroups could not be read. PID 1 alone
/// (a VM's or sandbox's init that even root may not read) gets its own words: it costs nothing
/// but PID 1's own row, as the host's namespaces are then taken from kthreadd or nsview itself.
fn processes_denied_warning(denied_pids: &[i32]) -> String {
    if denied_pids == [1] {
        return "PID 1 (init) cannot be read, even as root (its /proc/1/ns links are denied, as on \
                VMs and sandboxes that protect their init): its row lacks namespaces and cgroups, \
                the host's namespaces are taken from kthreadd or nsview itself; harmless for \
                everything else"
            .into();
    }
    format!(
        "permission denied reading the namespaces or cgroups of {} ({})",
        plural(denied_pids.len(), "process", "processes"),
        pid_list(denied_pids)
    )
}

/// The cgroup side of a full pass into the snapshot, with the processes as members.
fn add_cgroup_pass(
    snap: &mut Snapshot,
    cgroup_pass: Option<std::thread::Result<CgroupPass>>,
    warnings: &mut Warnings,
) {
    match cgroup_pass {
        Some(Ok(pass)) => {
            snap.cgroup_mode = Some(pass.mode);
            snap.hierarchies = pass.hierarchies;
            snap.cgroups = pass.cgroups;
            assign_members(&mut snap.cgroups, &snap.processes);
            for w in pass.warnings {
                warnings.push(w);
            }
        }
        Some(Err(_)) => warnings.push("reading the cgroup trees failed".into()),
        None => {}
    }
}

fn mountinfo_warning(denied: usize) -> String {
    format!(
        "permission denied reading the mountinfo of {} (namespaces bind-mounted there are not listed)",
        plural(denied, "mount namespace", "mount namespaces")
    )
}

/// What reading processes needs to know first: nsview's own pid namespace and the nsfs device.
fn read_context(roots: &Roots, run_stamps: bool) -> procfs::ReadContext {
    let nsfs_dev = procfs::nsfs_device(roots);
    procfs::ReadContext {
        own_pid_ns: procfs::ProcDir::open(roots, own_pid())
            .and_then(|d| d.ns_dir())
            .and_then(|d| d.read(NsType::Pid.proc_file(), NsType::Pid, nsfs_dev))
            .ok(),
        nsfs_dev,
        run_stamps,
    }
}

/// One process read: in full, or with [`ReadRequest::if_ran`] only its cgroups when it has not
/// run since it was last read.
fn read_request(
    roots: &Roots,
    req: &ReadRequest,
    ctx: &procfs::ReadContext,
    scratch: &mut procfs::Scratch,
) -> SysResult<procfs::Reread> {
    match req.known.filter(|_| req.if_ran) {
        Some(known) => {
            procfs::reread_process(roots, req.pid, ctx, scratch, known, req.check_others)
        }
        None => procfs::read_process_known(roots, req.pid, ctx, scratch, req.known)
            .map(|(r, open)| procfs::Reread::Read(r, open)),
    }
}

/// Read processes on up to `threads` threads; vanished processes are dropped. With
/// `mountinfo`, the mountinfo of each mount namespace met (except those in the set) is read too.
/// With `run_stamps`, each process's [`procfs::RunStamp`] is read too.
fn read_processes(
    roots: &Roots,
    requests: &[ReadRequest],
    threads: usize,
    opts: CollectOptions,
    known_relations: &HashMap<NsKey, NsRelations>,
    mountinfo: Option<&HashSet<u64>>,
    run_stamps: bool,
) -> ProcessPass {
    let ctx = read_context(roots, run_stamps);
    let read_chunk = |chunk: &[ReadRequest]| -> ProcessPass {
        let mut scratch = procfs::Scratch::default();
        let mut pass = ProcessPass::default();
        let mut seen: HashSet<NsKey> = HashSet::new();
        let mut seen_mnt: HashSet<u64> = HashSet::new();
        for req in chunk {
            let pid = req.pid;
            let (r, open) = match read_request(roots, req, &ctx, &mut scratch) {
                Ok(procfs::Reread::Read(r, open)) => (r, open),
                Ok(procfs::Reread::Idle {
                    cgroups,
                    cgroup_hash,
                }) => {
                    pass.idle.push((pid, cgroups, cgroup_hash));
                    continue;
                }
                Err(_) => continue,
            };
            if let (Some(mnt), Some(skip)) = (r.process.ns.get(&NsType::Mnt), mountinfo)
                && !skip.contains(&mnt.ino)
                && seen_mnt.insert(mnt.ino)
                && let Some(found) = read_bind_mounts(&open, &mut scratch.buf)
            {
                pass.mountinfo.push(MountinfoRead { pid, found });
            }
            if opts.relations {
                read_new_relations(&r, &open, known_relations, &mut seen, &mut pass.relations);
            }
            pass.processes.push(r);
        }
        pass
    };
    if threads <= 1 || requests.len() < 256 {
        return read_chunk(requests);
    }
    let chunk = requests.len().div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = requests
            .chunks(chunk)
            .map(|c| s.spawn(move || read_chunk(c)))
            .collect();
        let mut all = ProcessPass::default();
        for h in handles {
            all.append(h.join().unwrap_or_default());
        }
        all
    })
}

/// The nsfs bind mounts in the mountinfo of an open process: `Some(None)` when denied, `None`
/// when it could not be read otherwise (gone meanwhile).
fn read_bind_mounts(
    open: &procfs::OpenProcess,
    buf: &mut procfs::ReadBuf,
) -> Option<Option<Vec<mounts::NsBindMount>>> {
    match open.dir.read_nsfs_mounts(buf) {
        Ok(lines) => Some(Some(mounts::nsfs_bind_mounts(&lines))),
        Err(e) if e.is_permission() => Some(None),
        Err(_) => None,
    }
}

/// The relations of the namespaces of `r` that are neither known nor `seen` yet, into `out`.
fn read_new_relations(
    r: &ProcessRead,
    open: &procfs::OpenProcess,
    known_relations: &HashMap<NsKey, NsRelations>,
    seen: &mut HashSet<NsKey>,
    out: &mut Vec<(NsKey, NsRelations)>,
) {
    for (t, id) in &r.process.ns {
        let key = (*t, id.ino);
        if known_relations.contains_key(&key) || !seen.insert(key) {
            continue;
        }
        if let Ok(file) = open.ns_dir.open_ns(t.proc_file(), *id) {
            out.push((key, nsfs::read_relations(&file, *t)));
        }
    }
}

/// The iterator's pass made whole: each process's cgroups named from the cgroup walk's `ids`
/// (see [`tasks::assign_cgroups`]), and what the iterator did not give (see
/// [`tasks::leftover_pids`]) read by the /proc reader, skipping the mount namespaces whose
/// mountinfo was read already.
fn complete_iterator_pass(
    roots: &Roots,
    from_iter: tasks::IterPass,
    ids: Option<&tasks::CgroupIds>,
    listed: &[i32],
    threads: usize,
    opts: CollectOptions,
    known_relations: &HashMap<NsKey, NsRelations>,
) -> ProcessPass {
    let tasks::IterPass {
        mut pass,
        cgroups,
        mounts_read,
    } = from_iter;
    let no_ids = tasks::CgroupIds::default();
    tasks::assign_cgroups(roots, &mut pass, &cgroups, ids.unwrap_or(&no_ids), threads);
    let leftover: Vec<ReadRequest> = tasks::leftover_pids(listed, &pass)
        .into_iter()
        .map(ReadRequest::new)
        .collect();
    if leftover.is_empty() {
        return pass;
    }
    let more = read_processes(
        roots,
        &leftover,
        threads,
        opts,
        known_relations,
        Some(&mounts_read),
        false,
    );
    // The iterator's relations stand; the /proc reader adds those of namespaces it alone saw.
    let have: HashSet<NsKey> = pass.relations.iter().map(|(k, _)| *k).collect();
    pass.processes.extend(more.processes);
    pass.mountinfo.extend(more.mountinfo);
    pass.relations.extend(
        more.relations
            .into_iter()
            .filter(|(k, _)| !have.contains(k)),
    );
    pass
}

/// Paths that open namespace `ns`, to be tried in order: /proc/PID/ns/TYPE of its lowest and
/// of its highest member (one of them may exit before the namespace is opened), then its bind
/// mount as seen by a process of the mount namespace holding it (`bind_openers`, from
/// [`Collector::add_bind_mounts`]).
fn openers(
    roots: &Roots,
    ns: &model::Namespace,
    bind_openers: &HashMap<NsKey, NsTarget>,
) -> Vec<NsTarget> {
    let link = |pid: i32| {
        NsTarget::link(
            ns.inode,
            roots.pid_dir(pid).join("ns").join(ns.ns_type.proc_file()),
        )
    };
    let mut out = Vec::with_capacity(3);
    if let Some(&first) = ns.pids.first() {
        out.push(link(first));
    }
    if let Some(&last) = ns.pids.last().filter(|&&p| Some(&p) != ns.pids.first()) {
        out.push(link(last));
    }
    if let Some(target) = bind_openers.get(&ns.key()) {
        out.push(target.clone());
    }
    out
}

/// Targets for the namespaces of type `t` that `want` selects, each under all its
/// [`openers`] (the readers try them in order).
fn targets_of(
    roots: &Roots,
    snap: &Snapshot,
    bind_openers: &HashMap<NsKey, NsTarget>,
    t: NsType,
    want: impl Fn(&model::Namespace) -> bool,
) -> Vec<NsTarget> {
    snap.namespaces
        .range((t, 0)..=(t, u64::MAX))
        .map(|(_, ns)| ns)
        .filter(|ns| want(ns))
        .flat_map(|ns| openers(roots, ns, bind_openers))
        .collect()
}

/// `read()` and how long it took.
fn timed<T>(read: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    (read(), start.elapsed())
}

/// Times the phases of a pass (`nsview __collect --phases`, examples/refresh_loop).
pub(crate) struct PhaseClock {
    last: Instant,
}

impl PhaseClock {
    pub(crate) fn start(phases: &mut Vec<(&'static str, Duration)>) -> PhaseClock {
        phases.clear();
        PhaseClock {
            last: Instant::now(),
        }
    }

    /// Record the time since the last lap under `name`.
    pub(crate) fn lap(&mut self, phases: &mut Vec<(&'static str, Duration)>, name: &'static str) {
        let now = Instant::now();
        phases.push((name, now - self.last));
        self.last = now;
    }
}

/// Warnings, each text once.
#[derive(Default)]
struct Warnings(Vec<String>);

impl Warnings {
    fn push(&mut self, w: String) {
        if !self.0.contains(&w) {
            self.0.push(w);
        }
    }
}

/// Convenience for one-shot users (the CLI): collect once from `roots`.
pub fn collect_once(roots: &Roots, opts: CollectOptions) -> SysResult<Snapshot> {
    Collector::new(roots.clone()).collect(opts)
}
