//! The incremental pass of a live view, [`Collector::refresh`]: the same [`Snapshot`] a full pass
//! ([`Collector::collect`]) would give, built by re-reading only what may have changed since the
//! previous pass and keeping the rest.
//!
//! # What is re-read, and how stale a kept value can be
//!
//! Passes are counted per collector. R is [`ROLLING_PASSES`] (10), Y is [`YOUNG_PASSES`] (2), F is
//! [`FULL_READ_EVERY`] (6).
//!
//! | what | re-read | stale for at most |
//! |---|---|---|
//! | the list of processes | from the process events connector every pass (forks and exits, see below); /proc listed (readdir, with each /proc/PID inode) every R-th pass, and every pass without the connector | - |
//! | a process first seen, or a PID reused (exit and fork, or its /proc/PID inode changed) | at once, in full | - |
//! | a process that exec'd or changed its comm, UID or GID (connector) | at once, in full (after an overrun, which loses events: as any other process, below) | - |
//! | a process first seen in the last Y passes (setns right after fork) | every pass, in full | - |
//! | a process whose parent exited (reparented: PPid changes) | at once, in full | - |
//! | any other process | at its turn, 1/R of them per pass: schedstat and cgroup (and its UID), the rest if it ran since (see below) | R passes |
//! | the same, for changes made to it by others than its main thread (argv written in place, comm without the connector) | every F-th turn: command line and comm compared, all of it read if they differ | F x R passes |
//! | a process the connector says nothing more about: a leader thread that exited before the others (its process lives on), a zombie until reaped | at the next listing of /proc | R passes |
//! | namespace relations (owner, parent, creator UID) | once per namespace (they never change) | - |
//! | hostname (UTS) and interfaces (net) of a namespace, nsfs bind mounts of a mount namespace | new namespaces and those of the last Y passes every pass, the others 1/R per pass | R passes |
//! | nsfs bind mounts of the host's mount namespace (`ip netns add`) | every pass | - |
//! | cgroup usage (memory, cpuacct, cpu.stat, pids.current, failcnt, events, pressure) and freezer.state | every pass | - |
//! | cgroup limits and devices.list | 1/R of the cgroups per pass | R passes |
//! | the cgroup trees (groups created or removed) | after [`Collector::cgroups_changed`], or when a process turns up in a group not in the trees, or a group vanishes | - |
//! | containers (runtimes' records: names, images, labels, states) | built again when a process, the cgroup trees or a freezer state changed, and every R passes (records are asked again when due: a new container, a freezer change, 30 s) | R passes past the 30 s |
//!
//! "R passes" means: a change made just after something was read shows in the snapshot of the
//! R-th pass after that read at the latest, i.e. within R x the refresh interval (10 s at one pass
//! a second). [`Collector::invalidate`] drops everything kept: the next pass reads the whole host
//! again, as `collect` does. A live view calls it after its own writes and when the user asks for
//! a refresh.
//!
//! Which processes exist: as root in the initial namespaces, on the live /proc, the collector
//! listens to the kernel's process events connector ([`crate::sys::proc_connector`]): forks,
//! execs, exits and changes of comm or credentials since the last pass, so that a pass need not
//! list /proc (a sixth of an incremental pass, the kernel looking up every /proc/PID) to learn who
//! came and went, and learns at once of what a turn would find only within R passes. /proc is
//! still listed every R-th pass (what the events cannot tell: see the table), and at once when
//! the socket's buffer overflowed (events were lost), when the socket fails, and always without
//! the connector (not root, another pid namespace, a fixture tree, a kernel without
//! CONFIG_PROC_EVENTS): then a pass is what it was before, every change but new and gone
//! processes within the bounds of the rolling turns.
//!
//! What a process's turn reads: a process's namespaces (setns, unshare), command line (exec,
//! setproctitle), comm, UID and *_for_children links change only by what its main thread does,
//! and /proc/PID/schedstat tells whether that thread ran since the last read (it counts every
//! time the thread is given a CPU). A turn reads schedstat and /proc/PID/cgroup (others move
//! processes between cgroups), compares the owner of /proc/PID (its UID) from the fstat that
//! gives the inode, and reads the rest only if the process ran. Most processes of a host sleep
//! most of the time; on the benchmark population a turn then costs about a quarter of a full read
//! (12 µs instead of 44 µs). What only others can change without the process running: its cgroup
//! (read at every turn), its PPid (read at once when the parent exits), and, rarely, its argv
//! area or comm written by another of its threads or a debugger: every F-th turn reads cmdline
//! and stat as well and compares them.
//!
//! Changes a kept value can miss for up to R passes, because the kernel gives no cheap sign of
//! them: setns(2)/unshare(2) by a process that did not exec since, a process moved to another
//! cgroup by someone else (its cgroup's usage files, re-read every pass, show the move at once),
//! a command line rewritten in place (setproctitle), a hostname changed inside an existing UTS
//! namespace, an interface added to an existing network namespace, a limit written by another
//! program.
//!
//! # Identity
//!
//! A process is the pair (PID, inode of /proc/PID), both from the directory entry (see
//! [`procfs::list_pids_with_ino`]); between listings, a PID that exited and was forked again is a
//! new process. A namespace keeps what was read about it (relations, names, interfaces, bind
//! mounts) only while some process that held it in the previous pass still holds it: namespace
//! inode numbers are reused once a namespace is freed, and a container that stops and another
//! that starts within one interval can have namespaces with the same numbers.
//!
//! # Cost
//!
//! See README "Performance". Memory idle for a second can be slow to touch again (see [`CachedProcess`]),
//! so the cache is packed, namespaces, groups and cgroup members are computed from the shared
//! sets, and a snapshot given back to [`Collector::recycle`] lends the next pass what did not
//! change since it was made: its processes (each one unchanged, or all of them), and, when no
//! process came, went or changed, its namespaces (unless what was read about them changed), its
//! isolation groups, and its containers (unless the cgroup trees or a freezer state changed). On
//! an idle host a pass then reads the connector's socket, the processes whose turn it is, the
//! names and interfaces of a tenth of the namespaces and the cgroup usage files, and builds
//! nothing but the cgroup list. [`RefreshStats`] says which parts are those of the previous pass,
//! so that a view keeps what it computed from them.

use super::PhaseClock;
use super::*;
use crate::model::{CgValue, Interface};
use crate::sys::proc_connector::{Drained, ProcEvent, ProcEvents};
use crate::sys::uts::UtsName;
use std::sync::Arc;

/// A process, namespace or cgroup limit that nothing else causes to be re-read is re-read at
/// least once every this many passes: the staleness bound of [`Collector::refresh`].
pub const ROLLING_PASSES: u64 = 10;

/// Every this many turns of the rolling slice a process is read in full even if it has not run
/// (see [`procfs::reread_process`]): changes made to it by its other threads or by other
/// processes (its argv area or /proc/PID/comm written by a sibling thread, a debugger's pokes)
/// show within this many times [`ROLLING_PASSES`].
pub const FULL_READ_EVERY: u8 = 6;

/// Processes and namespaces first seen within this many passes are re-read every pass: a new
/// process is often read between fork and exec (or before it joins its namespaces), and a new
/// network namespace gets its interfaces after its first process runs.
pub const YOUNG_PASSES: u64 = 2;

/// What the last [`Collector::refresh`] did, for benchmarks and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RefreshStats {
    /// Passes made by this collector's refresh since it was created or invalidated (1 = first).
    pub pass: u64,
    /// True when nothing was kept: the first pass, or the first after `invalidate` or a change of
    /// options.
    pub full: bool,
    /// Processes listed in /proc.
    pub listed: usize,
    /// Processes kept from the previous pass without reading anything of them.
    pub kept: usize,
    /// Processes read because they were new (or their PID was reused).
    pub read_new: usize,
    /// Processes re-read because they were first seen within [`YOUNG_PASSES`].
    pub read_young: usize,
    /// Processes whose turn in the rolling slice came (at most every [`ROLLING_PASSES`]) ...
    pub read_rolling: usize,
    /// ... of which had not run since they were read, so that only their cgroups were read.
    pub rolling_idle: usize,
    /// Processes re-read because their parent exited (they were reparented).
    pub read_reparented: usize,
    /// Processes re-read because the process events connector reported an exec or a change of
    /// comm or credentials.
    pub read_events: usize,
    /// True when the processes came from the last listing and the connector's events since,
    /// false when /proc was listed in this pass.
    pub from_events: bool,
    /// Events received from the connector in this pass (threads left out).
    pub events: usize,
    /// Processes that exited between the listing and their read.
    pub vanished: usize,
    /// Mount namespaces whose mountinfo was read.
    pub mountinfo_read: usize,
    /// UTS namespaces joined for their names.
    pub uts_read: usize,
    /// Network namespaces joined for their interfaces.
    pub net_read: usize,
    /// True when every network namespace had to be read (a new link whose peer namespace was not
    /// among those read).
    pub net_all: bool,
    /// True when the cgroup trees were walked (and every file of every group read).
    pub cgroup_walk: bool,
    /// Cgroups whose limits (and devices.list) were re-read without a walk.
    pub cgroup_limits_read: usize,
    /// Processes moved from a snapshot given back to [`Collector::recycle`] instead of built.
    pub recycled: usize,
    /// True when the snapshot's processes are those of the previous pass (nothing came, went or
    /// changed), its namespaces (with what was read about them) too, and its isolation groups
    /// and containers: a view can keep what it computed from them.
    pub processes_same: bool,
    pub namespaces_same: bool,
    pub containers_same: bool,
}

/// What [`Collector::refresh`] keeps between passes.
pub(super) struct Live {
    opts: CollectOptions,
    /// Number of the last pass (0 before the first).
    pass: u64,
    /// Every process of the last pass, sorted by PID.
    entries: Vec<CachedProcess>,
    /// When the last few snapshots were taken, and by which pass (to recognise one given back
    /// to [`Collector::recycle`]).
    issued: Vec<(Instant, u64)>,
    /// A snapshot given back, and the pass that built it: the parts that did not change since
    /// are moved out of it instead of built again.
    recycled: Option<(u64, Snapshot)>,
    /// The last pass in which a process came, went or changed (what it shows, or its cgroups).
    procs_changed: u64,
    /// The last pass in which what was read about namespaces (names, interfaces, bind mounts)
    /// changed.
    ns_changed: u64,
    /// The last pass in which the cgroup trees were walked or a freezer state changed.
    cg_changed: u64,
    /// Freezer state (freezer.state, cgroup.freeze) of every cgroup at the last pass.
    freezer: Vec<Option<CgValue>>,
    /// The last pass that built the containers (they are rebuilt at least every
    /// [`ROLLING_PASSES`] passes, which also asks runtimes again when their records are due),
    /// and what it built.
    containers_built: u64,
    containers: Vec<crate::model::containers::Container>,
    /// Every nsfs bind mount found at the last pass, sorted.
    bind_list: Vec<(NsKey, String)>,
    /// The shared parts of `entries`.
    interner: Interner,
    ns: HashMap<NsKey, NsState>,
    /// The host's mount namespace in the last pass (its mountinfo is read every pass).
    host_mnt: Option<u64>,
    /// The listing of /proc, and the arrays a pass fills, kept for their allocations (a new
    /// allocation of this size each pass costs page faults or a consolidation of the heap).
    listing: Vec<(i32, u64)>,
    spare_entries: Vec<CachedProcess>,
    decided: Vec<ReadDecision>,
    same: Vec<i32>,
    cgroups: Option<CgroupState>,
    /// The process events connector, when it can be used.
    connector: Connector,
    /// The last pass that listed /proc: the connector's events go on from there (0: the next
    /// pass lists).
    listed: u64,
    /// The events of this pass, and the PIDs they say to read again (sorted), kept for their
    /// allocations.
    events: Vec<ProcEvent>,
    touched: Vec<i32>,
}

/// Whether [`Collector::refresh`] may learn of processes from the connector instead of listing
/// /proc.
enum Connector {
    /// Not subscribed yet: try at the next listing.
    Untried,
    Active(ProcEvents),
    /// Not for this collector: not the live /proc, or the kernel refused (not root, not in the
    /// initial namespaces, no CONFIG_PROC_EVENTS).
    Unavailable,
}

impl Live {
    fn new(opts: CollectOptions) -> Live {
        Live {
            opts,
            pass: 0,
            entries: Vec::new(),
            issued: Vec::new(),
            recycled: None,
            procs_changed: 0,
            ns_changed: 0,
            cg_changed: 0,
            freezer: Vec::new(),
            containers_built: 0,
            containers: Vec::new(),
            bind_list: Vec::new(),
            interner: Interner::default(),
            ns: HashMap::new(),
            host_mnt: None,
            listing: Vec::new(),
            spare_entries: Vec::new(),
            decided: Vec::new(),
            same: Vec::new(),
            cgroups: None,
            connector: Connector::Untried,
            listed: 0,
            events: Vec::new(),
            touched: Vec::new(),
        }
    }
}

/// A process as kept between passes: what deciding whether to read it again needs, and the
/// process itself, packed.
///
/// Memory left untouched for a second can be slow to touch again: on the benchmark machine about
/// 10 µs a page (the host reclaims what a guest does not use), which made copying 4,500 processes
/// kept as [`Process`] values (seven heap blocks each, scattered) cost more than everything else
/// in a pass. So a pass works on one array of these, and the parts that many processes share
/// (comm, command line, namespaces, cgroups) are kept once ([`Interner`]): building the
/// snapshot then reads a few hundred pages instead of thousands.
struct CachedProcess {
    pid: i32,
    ppid: i32,
    /// Inode of /proc/PID when the process was read: with the PID, its identity.
    ino: u64,
    /// The pass that first read this process; 0 for processes found by a full pass (they are not
    /// young).
    born: u64,
    /// The pass by which it must be read again.
    due: u64,
    /// The last pass that found it new or changed (see [`Collector::recycle`]).
    changed: u64,
    /// Turns of the rolling slice since the last full read (where only its cgroups were read,
    /// because it had not run).
    idle_turns: u8,
    /// Some file of it could not be read for lack of permission.
    denied: bool,
    kernel_thread: bool,
    uid: u32,
    /// From /proc/PID/schedstat, read before the rest of the last full read.
    stamp: Option<procfs::RunStamp>,
    /// [`procfs::content_hash`] of /proc/PID/cgroup as last read.
    cgroup_hash: u64,
    nspid: Nspid,
    comm: Arc<str>,
    cmdline: Arc<[String]>,
    ns: Arc<NsRecord>,
    cgroups: Arc<procfs::CgroupPaths>,
}

/// NSpid, without a heap block for the usual depths.
enum Nspid {
    Inline { len: u8, ids: [i32; 4] },
    Long(Box<[i32]>),
}

impl Nspid {
    fn new(ids: &[i32]) -> Nspid {
        let mut inline = [0; 4];
        match inline.get_mut(..ids.len()) {
            Some(head) => {
                head.copy_from_slice(ids);
                Nspid::Inline {
                    len: ids.len() as u8,
                    ids: inline,
                }
            }
            None => Nspid::Long(ids.into()),
        }
    }

    fn as_slice(&self) -> &[i32] {
        match self {
            Nspid::Inline { len, ids } => ids.get(..usize::from(*len)).unwrap_or(&[]),
            Nspid::Long(ids) => ids,
        }
    }
}

/// A process's namespaces, as shared by every process in the same ones.
#[derive(Debug, PartialEq, Eq, Hash)]
struct NsRecord {
    ns: BTreeMap<NsType, NsId>,
    pid_for_children: Option<NsId>,
    time_for_children: Option<NsId>,
}

/// One copy of each comm, command line, namespace set and cgroup set in use.
#[derive(Default)]
struct Interner {
    comms: HashSet<Arc<str>>,
    cmdlines: HashSet<Arc<[String]>>,
    ns: HashSet<Arc<NsRecord>>,
    cgroups: HashSet<Arc<procfs::CgroupPaths>>,
}

impl Interner {
    fn comm(&mut self, comm: String) -> Arc<str> {
        if let Some(a) = self.comms.get(comm.as_str()) {
            return a.clone();
        }
        let a: Arc<str> = Arc::from(comm);
        self.comms.insert(a.clone());
        a
    }

    fn cmdline(&mut self, cmdline: Vec<String>) -> Arc<[String]> {
        if let Some(a) = self.cmdlines.get(cmdline.as_slice()) {
            return a.clone();
        }
        let a: Arc<[String]> = Arc::from(cmdline);
        self.cmdlines.insert(a.clone());
        a
    }

    fn ns(&mut self, record: NsRecord) -> Arc<NsRecord> {
        if let Some(a) = self.ns.get(&record) {
            return a.clone();
        }
        let a = Arc::new(record);
        self.ns.insert(a.clone());
        a
    }

    fn cgroups(&mut self, cgroups: procfs::CgroupPaths) -> Arc<procfs::CgroupPaths> {
        if let Some(a) = self.cgroups.get(&cgroups) {
            return a.clone();
        }
        let a = Arc::new(cgroups);
        self.cgroups.insert(a.clone());
        a
    }

    /// Drop what no process uses any more.
    fn purge(&mut self) {
        self.comms.retain(|a| Arc::strong_count(a) > 1);
        self.cmdlines.retain(|a| Arc::strong_count(a) > 1);
        self.ns.retain(|a| Arc::strong_count(a) > 1);
        self.cgroups.retain(|a| Arc::strong_count(a) > 1);
    }
}

impl CachedProcess {
    /// A process just read, packed (its count of idle turns at its [`stagger`]).
    fn new(
        r: ProcessRead,
        born: u64,
        due: u64,
        pass: u64,
        interner: &mut Interner,
    ) -> CachedProcess {
        let p = r.process;
        CachedProcess {
            pid: p.pid,
            ppid: p.ppid,
            ino: r.ino,
            born,
            due,
            changed: pass,
            idle_turns: stagger(p.pid),
            denied: !r.denied.is_empty(),
            kernel_thread: p.kernel_thread,
            uid: p.uid,
            stamp: r.stamp,
            cgroup_hash: r.cgroup_hash,
            nspid: Nspid::new(&p.nspid),
            comm: interner.comm(p.comm),
            cmdline: interner.cmdline(p.cmdline),
            ns: interner.ns(NsRecord {
                ns: p.ns,
                pid_for_children: p.pid_for_children,
                time_for_children: p.time_for_children,
            }),
            cgroups: interner.cgroups(p.cgroups),
        }
    }

    /// Whether it describes the same process data as `other` (the shared parts compared by
    /// identity: equal contents share one copy).
    fn same_data(&self, other: &CachedProcess) -> bool {
        self.ppid == other.ppid
            && self.uid == other.uid
            && self.kernel_thread == other.kernel_thread
            && self.nspid.as_slice() == other.nspid.as_slice()
            && Arc::ptr_eq(&self.comm, &other.comm)
            && Arc::ptr_eq(&self.cmdline, &other.cmdline)
            && Arc::ptr_eq(&self.ns, &other.ns)
            && Arc::ptr_eq(&self.cgroups, &other.cgroups)
    }

    /// What reading it again can take as known.
    fn known(&self) -> procfs::Known<'_> {
        procfs::Known {
            ino: self.ino,
            nspid: Some(self.nspid.as_slice()).filter(|n| !n.is_empty()),
            pid_ns: self.ns.ns.get(&NsType::Pid).copied(),
            stamp: self.stamp,
            cgroup_hash: self.cgroup_hash,
            uid: self.uid,
            comm: &self.comm,
            cmdline: &self.cmdline,
        }
    }

    /// The process, for a snapshot.
    fn process(&self) -> Process {
        Process {
            pid: self.pid,
            ppid: self.ppid,
            nspid: self.nspid.as_slice().to_vec(),
            comm: self.comm.to_string(),
            cmdline: self.cmdline.to_vec(),
            uid: self.uid,
            ns: self.ns.ns.clone(),
            pid_for_children: self.ns.pid_for_children,
            time_for_children: self.ns.time_for_children,
            cgroups: (*self.cgroups).clone(),
            kernel_thread: self.kernel_thread,
        }
    }
}

/// What was read about one namespace, beyond its members.
struct NsState {
    born: u64,
    /// The pass by which its type-specific data (names, interfaces, bind mounts) must be read
    /// again.
    due: u64,
    /// UTS: `None` until read; `Some(None)` when reading failed (no names, as in a full pass).
    uts: Option<Option<UtsName>>,
    /// Net: as `uts`.
    interfaces: Option<Option<Vec<Interface>>>,
    /// Mnt: the last read of its mountinfo, with the inode of the /proc/PID it was read through.
    mountinfo: Option<(MountinfoRead, u64)>,
}

impl NsState {
    fn new(born: u64, due: u64) -> NsState {
        NsState {
            born,
            due,
            uts: None,
            interfaces: None,
            mountinfo: None,
        }
    }
}

/// The cgroup trees as last walked, with the files last read.
struct CgroupState {
    mode: CgroupMode,
    hierarchies: Vec<Hierarchy>,
    /// Without members (filled per snapshot).
    cgroups: Vec<Cgroup>,
    dirs: Vec<CgroupDir>,
    /// Per cgroup: indices into [`cgroupfs::CONTROL_FILES`] of its usage files (and
    /// freezer.state), re-read every pass, and of its limits, re-read 1/R per pass.
    volatile: Vec<Vec<usize>>,
    limits: Vec<Vec<usize>>,
    has_devices: Vec<bool>,
    /// Per cgroup: the pass by which its limits must be read again.
    limits_due: Vec<u64>,
    warnings: Vec<String>,
    /// Hierarchy key -> paths of the groups in the trees.
    known: HashMap<String, HashSet<String>>,
    /// Cgroups of processes that were not in the trees when they were walked (a hierarchy that is
    /// not mounted, a path outside nsview's cgroup namespace): no reason to walk again.
    unknown: HashMap<String, HashSet<String>>,
}

fn contains(map: &HashMap<String, HashSet<String>>, key: &str, path: &str) -> bool {
    map.get(key).is_some_and(|paths| paths.contains(path))
}

impl CgroupState {
    fn from_walk(pass: CgroupPass, interner: &Interner, now: u64) -> CgroupState {
        let mut known: HashMap<String, HashSet<String>> = HashMap::new();
        for cg in &pass.cgroups {
            known
                .entry(cg.hierarchy.clone())
                .or_default()
                .insert(cg.path.clone());
        }
        let mut unknown: HashMap<String, HashSet<String>> = HashMap::new();
        // Every cgroup set in use, once.
        for set in &interner.cgroups {
            for (key, path) in set.iter() {
                if !contains(&known, key, path) {
                    unknown
                        .entry(key.to_string())
                        .or_default()
                        .insert(path.to_string());
                }
            }
        }
        let mut volatile = Vec::with_capacity(pass.dirs.len());
        let mut limits = Vec::with_capacity(pass.dirs.len());
        let mut has_devices = Vec::with_capacity(pass.dirs.len());
        let mut limits_due = Vec::with_capacity(pass.dirs.len());
        for (i, dir) in pass.dirs.iter().enumerate() {
            let (v, l): (Vec<usize>, Vec<usize>) = cgroupfs::present_control_files(dir)
                .into_iter()
                .partition(|&f| cgroupfs::changes_by_itself(f));
            volatile.push(v);
            limits.push(l);
            has_devices.push(pass.cgroups.get(i).is_some_and(|c| c.devices.is_some()));
            limits_due.push(next_due(now, i as u64));
        }
        CgroupState {
            mode: pass.mode,
            hierarchies: pass.hierarchies,
            cgroups: pass.cgroups,
            dirs: pass.dirs,
            volatile,
            limits,
            has_devices,
            limits_due,
            warnings: pass.warnings,
            known,
            unknown,
        }
    }

    /// True when `p` is in a cgroup that was not in the trees at the last walk (and was not
    /// already unknown then): the trees changed.
    fn misses(&self, cgroups: &procfs::CgroupPaths) -> bool {
        cgroups.iter().any(|(key, path)| {
            !contains(&self.known, key, path) && !contains(&self.unknown, key, path)
        })
    }
}

/// The entries grouped by namespace set, in PID order within each set: a host of thousands of
/// processes has a few hundred sets.
fn by_ns_set(entries: &[CachedProcess]) -> Vec<(&NsRecord, Vec<&CachedProcess>)> {
    let mut index: HashMap<*const NsRecord, usize> = HashMap::new();
    let mut sets: Vec<(&NsRecord, Vec<&CachedProcess>)> = Vec::new();
    for e in entries {
        let at = *index.entry(Arc::as_ptr(&e.ns)).or_insert_with(|| {
            sets.push((&*e.ns, Vec::new()));
            sets.len() - 1
        });
        if let Some((_, members)) = sets.get_mut(at) {
            members.push(e);
        }
    }
    sets
}

/// What [`model::namespaces_from_processes`] gives for the processes of `entries`, computed from
/// the shared namespace sets rather than from each process (whose data a pass need not touch).
fn namespaces_from_entries(
    sets: &[(&NsRecord, Vec<&CachedProcess>)],
) -> BTreeMap<NsKey, model::Namespace> {
    let mut out: BTreeMap<NsKey, model::Namespace> = BTreeMap::new();
    for (record, members) in sets {
        for (t, id) in &record.ns {
            out.entry((*t, id.ino))
                .or_insert_with(|| model::Namespace::new(*t, *id))
                .pids
                .extend(members.iter().map(|e| e.pid));
        }
    }
    for ns in out.values_mut() {
        ns.pids.sort_unstable();
    }
    out
}

/// What [`model::isolation_groups`] gives for the processes of `entries` (the same rules:
/// processes other than kernel threads with the same non-empty set of namespaces that differ
/// from the host's; the init is the member that is PID 1 of a pid namespace, else the lowest
/// PID), computed per namespace set. The tests compare refresh with collect, which uses the
/// model's function.
fn isolation_groups_from_entries(
    sets: &[(&NsRecord, Vec<&CachedProcess>)],
    host: &BTreeMap<NsType, NsId>,
) -> Vec<model::IsolationGroup> {
    let mut by_key: BTreeMap<BTreeMap<NsType, u64>, Vec<&CachedProcess>> = BTreeMap::new();
    for (record, members) in sets {
        let private: BTreeMap<NsType, u64> = record
            .ns
            .iter()
            .filter(|(t, id)| host.get(t).is_some_and(|h| h.ino != id.ino))
            .map(|(t, id)| (*t, id.ino))
            .collect();
        if private.is_empty() {
            continue;
        }
        let users = members.iter().filter(|e| !e.kernel_thread);
        by_key.entry(private).or_default().extend(users);
    }
    let mut groups: Vec<model::IsolationGroup> = by_key
        .into_iter()
        .filter_map(|(private, mut members)| {
            members.sort_unstable_by_key(|e| e.pid);
            let init = members
                .iter()
                .find(|e| {
                    let nspid = e.nspid.as_slice();
                    nspid.len() > 1 && nspid.last() == Some(&1)
                })
                .or_else(|| members.first())?;
            Some(model::IsolationGroup {
                name: format!("{}[{}]", init.comm, init.pid),
                init_pid: init.pid,
                pids: members.iter().map(|e| e.pid).collect(),
                private,
            })
        })
        .collect();
    groups.sort_by_key(|g| g.init_pid);
    groups
}

/// [`assign_members`] from the entries, per shared cgroup set.
fn assign_members_from_entries(cgroups: &mut [Cgroup], entries: &[CachedProcess]) {
    let mut by_set: HashMap<*const procfs::CgroupPaths, (&procfs::CgroupPaths, Vec<i32>)> =
        HashMap::new();
    for e in entries {
        by_set
            .entry(Arc::as_ptr(&e.cgroups))
            .or_insert_with(|| (&*e.cgroups, Vec::new()))
            .1
            .push(e.pid);
    }
    let mut members: HashMap<(&str, &str), Vec<i32>> = HashMap::new();
    for (set, pids) in by_set.values() {
        for (key, path) in set.iter() {
            members
                .entry((key, path))
                .or_default()
                .extend_from_slice(pids);
        }
    }
    for cg in cgroups.iter_mut() {
        if let Some(mut pids) = members.remove(&(cg.hierarchy.as_str(), cg.path.as_str())) {
            pids.sort_unstable();
            cg.pids = pids;
        }
    }
}

/// Spreads items over the R passes of a rolling cycle (a multiplicative hash, so that PIDs or
/// inodes in arithmetic progression do not pile up in one slot).
fn slot(x: u64) -> u64 {
    (x.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) % ROLLING_PASSES
}

/// Where a process starts counting its turns towards the next full read: spread over
/// [`FULL_READ_EVERY`], so that processes found together (all of them, in the first pass) do not
/// all come up for a full read in the same cycle. A process is read in full again within
/// [`FULL_READ_EVERY`] turns whatever it starts at.
fn stagger(pid: i32) -> u8 {
    (((pid as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40) % u64::from(FULL_READ_EVERY)) as u8
}

/// The first pass after `pass` that falls in `slot`'s turn: at most [`ROLLING_PASSES`] later.
fn next_due(pass: u64, slot: u64) -> u64 {
    let next = pass + 1;
    next + (slot % ROLLING_PASSES + ROLLING_PASSES - next % ROLLING_PASSES) % ROLLING_PASSES
}

/// True in the [`YOUNG_PASSES`] passes after pass `born` (0: found by a full pass, never young).
fn young(born: u64, pass: u64) -> bool {
    born > 0 && pass > born && pass <= born + YOUNG_PASSES
}

/// Why a process is read in this pass.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reason {
    New,
    Young,
    Rolling,
    Reparented,
    /// The process events connector reported an exec, or a change of comm or credentials.
    Event,
}

/// How the cgroup side of a pass went.
enum CgroupOutcome {
    Walked(CgroupPass),
    /// Usage (and due limits) re-read; `vanished` when a group disappeared meanwhile.
    Reread {
        state: Box<CgroupState>,
        vanished: bool,
        limits_read: usize,
    },
}

/// Re-read what changes by itself in every cgroup, and the limits of those whose turn came.
/// Stops at the first group that vanished (the trees changed: the caller walks them again).
fn reread_cgroups(
    state: &mut CgroupState,
    pass: u64,
    roots: &Roots,
    dev_nodes: &mut Option<BTreeMap<(bool, u32, u32), String>>,
    drivers: &mut Option<BTreeMap<(bool, u32), String>>,
) -> (bool, usize) {
    let mut buf = Vec::new();
    let mut limits_read = 0;
    let mut files: Vec<usize> = Vec::new();
    for i in 0..state.cgroups.len() {
        let (Some(cg), Some(dir)) = (state.cgroups.get_mut(i), state.dirs.get(i)) else {
            break;
        };
        let limits_due = state.limits_due.get(i).is_some_and(|&d| d <= pass);
        files.clear();
        files.extend(state.volatile.get(i).into_iter().flatten());
        if limits_due {
            files.extend(state.limits.get(i).into_iter().flatten());
        }
        let mut read = cgroupfs::CgroupRead::default();
        if !files.is_empty() {
            if let Err(e) = cgroupfs::read_control_files(&dir.dir, &files, &mut buf, &mut read) {
                if e.is_vanished() {
                    return (true, limits_read);
                }
                continue;
            }
            // A file read before and unreadable now is absent, as in a full pass.
            for &f in &files {
                if let Some((name, _, _)) = cgroupfs::CONTROL_FILES.get(f) {
                    cg.limits.remove(*name);
                    cg.usage.remove(*name);
                }
            }
            cg.limits.append(&mut read.limits);
            cg.usage.append(&mut read.usage);
        }
        if limits_due {
            limits_read += 1;
            if state.has_devices.get(i).copied().unwrap_or(false)
                && reread_devices(cg, dir, roots, dev_nodes, drivers)
            {
                return (true, limits_read);
            }
            if let Some(d) = state.limits_due.get_mut(i) {
                *d = next_due(pass, i as u64);
            }
        }
    }
    (false, limits_read)
}

/// Re-read devices.list of `cg` (device names looked up once per pass). Returns true when the
/// group vanished.
fn reread_devices(
    cg: &mut Cgroup,
    dir: &CgroupDir,
    roots: &Roots,
    dev_nodes: &mut Option<BTreeMap<(bool, u32, u32), String>>,
    drivers: &mut Option<BTreeMap<(bool, u32), String>>,
) -> bool {
    match cgroupfs::read_devices_list(&dir.dir) {
        Ok(rules) => {
            let nodes = dev_nodes.get_or_insert_with(|| cgroupfs::read_dev_nodes(&roots.dev));
            let drivers =
                drivers.get_or_insert_with(|| procfs::read_proc_devices(roots).unwrap_or_default());
            let default_allow = rules
                .iter()
                .any(|r| r.kind == 'a' && r.major.is_none() && r.minor.is_none());
            cg.devices = Some(cgroupfs::name_devices(&rules, nodes, drivers));
            cg.devices_default = Some(if default_allow { "allow" } else { "deny" }.to_string());
            false
        }
        Err(e) => e.is_vanished(),
    }
}

/// The processes of this pass into `listing` (PID and /proc/PID inode, sorted by PID), and in
/// `touched` (sorted) those the connector says exec'd or changed their comm or credentials:
/// from the last listing and the connector's events since, or by listing /proc again (the first
/// pass, every [`ROLLING_PASSES`] passes to catch what the events cannot tell, and whenever the
/// connector lost events or cannot be used). A listing subscribes first, so that no event after
/// it is missed.
fn list_processes(
    roots: &Roots,
    live: &mut Live,
    full: bool,
    listing: &mut Vec<(i32, u64)>,
    touched: &mut Vec<i32>,
) -> SysResult<()> {
    touched.clear();
    live.events.clear();
    let pass = live.pass;
    let complete = match &mut live.connector {
        Connector::Active(connector) => match connector.drain(&mut live.events) {
            Ok(Drained::Complete) => true,
            Ok(Drained::Overrun) => false,
            Err(_) => {
                live.connector = Connector::Untried;
                false
            }
        },
        _ => false,
    };
    if complete && !full && live.listed > 0 && pass < live.listed + ROLLING_PASSES {
        apply_events(&live.events, &live.entries, listing, touched);
        return Ok(());
    }
    if let Connector::Untried = live.connector {
        live.connector = match roots.is_live().then(ProcEvents::subscribe) {
            Some(Ok(c)) => Connector::Active(c),
            // Not the live /proc (a fixture, another pid namespace's), or the kernel refused.
            _ => Connector::Unavailable,
        };
    }
    procfs::read_pids_with_ino(roots, listing)?;
    live.listed = pass;
    // The listing shows who came and went; an exec or a change of comm or credentials since the
    // last pass is still news.
    if complete {
        touched.extend(live.events.iter().filter_map(|ev| match *ev {
            ProcEvent::Exec(tgid) | ProcEvent::Changed(tgid) => Some(tgid),
            ProcEvent::Fork { .. } | ProcEvent::Exit(_) => None,
        }));
        touched.sort_unstable();
        touched.dedup();
    }
    Ok(())
}

/// The processes of the last pass (`entries`) changed by `events`, as a listing: a process that
/// exited is left out, a new one has inode 0 (it is read as new, and its inode read then), and
/// one that exec'd or changed its comm or credentials is listed as it was and put in `touched`.
/// A PID that exited and came back (reused within the interval) is new; one that exited and then
/// exec'd is the same process (an exec by another thread ends the leader first).
fn apply_events(
    events: &[ProcEvent],
    entries: &[CachedProcess],
    listing: &mut Vec<(i32, u64)>,
    touched: &mut Vec<i32>,
) {
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum Fate {
        Gone,
        Changed,
        Reborn,
    }
    let mut fate: HashMap<i32, Fate> = HashMap::new();
    for ev in events {
        match *ev {
            ProcEvent::Fork { tgid, .. } => {
                let now = match fate.get(&tgid) {
                    Some(Fate::Gone) => Fate::Reborn,
                    Some(&f) => f,
                    None => Fate::Changed,
                };
                fate.insert(tgid, now);
            }
            ProcEvent::Exec(tgid) | ProcEvent::Changed(tgid) => {
                let now = match fate.get(&tgid) {
                    Some(Fate::Reborn) => Fate::Reborn,
                    _ => Fate::Changed,
                };
                fate.insert(tgid, now);
            }
            ProcEvent::Exit(tgid) => {
                fate.insert(tgid, Fate::Gone);
            }
        }
    }
    listing.clear();
    for e in entries {
        match fate.remove(&e.pid) {
            None => listing.push((e.pid, e.ino)),
            Some(Fate::Gone) => {}
            Some(Fate::Changed) => {
                listing.push((e.pid, e.ino));
                touched.push(e.pid);
            }
            Some(Fate::Reborn) => listing.push((e.pid, 0)),
        }
    }
    // What is left are PIDs the last pass did not have: new processes (a fork and an exit of the
    // same short-lived process cancel out).
    let before = listing.len();
    listing.extend(
        fate.into_iter()
            .filter(|(_, f)| *f != Fate::Gone)
            .map(|(pid, _)| (pid, 0)),
    );
    if listing.len() > before {
        listing.sort_unstable_by_key(|&(pid, _)| pid);
    }
}

/// Whether a listed process is read in this pass, and why: decided for every process of the
/// listing before anything is read.
#[derive(Clone, Copy)]
struct ReadDecision {
    /// Index into the listing.
    listed: usize,
    /// Index of the same process (same PID and /proc/PID inode) among the entries of the
    /// previous pass, if it was there.
    cached: Option<usize>,
    /// Why it is read; `None`: kept as it was.
    reason: Option<Reason>,
}

/// The join of the cgroup side's thread.
type CgroupJoin = std::thread::Result<CgroupOutcome>;

/// What the process threads read in this pass, by PID.
struct ReadByPid {
    /// Processes read in full.
    fresh: HashMap<i32, ProcessRead>,
    /// Processes whose rolling turn found they had not run: their cgroups if they changed, and
    /// the hash of /proc/PID/cgroup.
    idle: HashMap<i32, (Option<procfs::CgroupPaths>, u64)>,
}

impl ReadByPid {
    /// What the process threads read, by PID, and the namespace relations they read.
    fn new(read: ProcessPass) -> (ReadByPid, Vec<(NsKey, NsRelations)>) {
        let ProcessPass {
            processes,
            idle,
            relations,
            mountinfo: _,
        } = read;
        let read = ReadByPid {
            fresh: processes.into_iter().map(|r| (r.process.pid, r)).collect(),
            idle: idle
                .into_iter()
                .map(|(pid, cgroups, hash)| (pid, (cgroups, hash)))
                .collect(),
        };
        (read, relations)
    }
}

/// What was read of some namespaces, by inode.
type NsReads<T> = HashMap<u64, SysResult<T>>;

/// What one [`Collector::refresh`] carries from phase to phase.
struct RefreshPass {
    /// What the collector keeps between passes, taken out of it for the pass.
    live: Live,
    opts: CollectOptions,
    pass: u64,
    /// Nothing was kept: everything is read.
    full: bool,
    stats: RefreshStats,
    warnings: Warnings,
    snap: Snapshot,
    /// The processes of this pass: PID and /proc/PID inode, sorted by PID.
    listing: Vec<(i32, u64)>,
    /// One per process of the listing, in its order.
    decided: Vec<ReadDecision>,
    /// PIDs still the processes they were (same /proc/PID inode), for the parent check.
    same: Vec<i32>,
    /// Processes read in this pass whose cgroups may be new to the trees.
    read_pids: Vec<i32>,
    /// Processes that are new, or changed namespaces: the namespaces they held in the previous
    /// pass and still hold (none when new). Every other process held all its namespaces then.
    moved: HashMap<i32, Vec<NsKey>>,
    /// The snapshot given back to [`Collector::recycle`] (empty if none), and the pass that built
    /// it (0 if none).
    recycled: Snapshot,
    recycled_pass: u64,
    /// Nothing came, went or changed since the snapshot given back: its processes, and what is
    /// computed from them alone, are this pass's.
    same_procs: bool,
    /// The snapshot's namespaces are those given back (what was read about them is checked).
    reuse_ns: bool,
}

impl RefreshPass {
    /// The pass a namespace first seen now counts as born in (0 in a full pass: never young).
    fn ns_born(&self) -> u64 {
        if self.full { 0 } else { self.pass }
    }

    /// Which processes to read, and why: the listing and the entries are both sorted by PID.
    fn decide_reads(&mut self) {
        let pass = self.pass;
        self.decided = std::mem::take(&mut self.live.decided);
        self.decided.clear();
        self.same = std::mem::take(&mut self.live.same);
        self.same.clear();
        let entries = &self.live.entries;
        let touched = &self.live.touched;
        let mut at = 0;
        for (i, &(pid, ino)) in self.listing.iter().enumerate() {
            while entries.get(at).is_some_and(|e| e.pid < pid) {
                at += 1;
            }
            let cached = entries
                .get(at)
                .filter(|e| e.pid == pid && e.ino == ino)
                .map(|_| at);
            let reason = match cached.and_then(|k| entries.get(k)) {
                None => Some(Reason::New),
                Some(e) => {
                    self.same.push(pid);
                    if young(e.born, pass) {
                        Some(Reason::Young)
                    } else if touched.binary_search(&pid).is_ok() {
                        Some(Reason::Event)
                    } else if e.due <= pass {
                        Some(Reason::Rolling)
                    } else {
                        None
                    }
                }
            };
            self.decided.push(ReadDecision {
                listed: i,
                cached,
                reason,
            });
        }
        // Reparented (its parent exited, or is another process now): read at once, also at its
        // rolling turn, which would not read PPid of a process that did not run.
        for d in self.decided.iter_mut() {
            if let Some(e) = d.cached.and_then(|k| entries.get(k))
                && matches!(d.reason, None | Some(Reason::Rolling))
                && e.ppid > 0
                && self.same.binary_search(&e.ppid).is_err()
            {
                d.reason = Some(Reason::Reparented);
            }
        }
    }

    /// The process cache of this pass: kept entries moved over, read ones packed anew. Entries
    /// of processes no longer listed are dropped with the old array. Returns the namespace
    /// relations read.
    fn update_entries(&mut self, read: ProcessPass) -> Vec<(NsKey, NsRelations)> {
        let (mut read, relations) = ReadByPid::new(read);
        self.stats.rolling_idle = read.idle.len();
        self.read_pids = Vec::with_capacity(read.fresh.len());
        let pass = self.pass;
        let mut old_entries = std::mem::take(&mut self.live.entries);
        let mut entries = std::mem::take(&mut self.live.spare_entries);
        entries.clear();
        entries.reserve(self.listing.len());
        // Whether any process came, went or changed in this pass: old entries carried over
        // (kept, or read again as the same process), and entries that changed.
        let old_len = old_entries.len();
        let mut carried = 0;
        let mut changed_now = false;
        let mut old = old_entries.drain(..).enumerate().peekable();
        let decided = std::mem::take(&mut self.decided);
        for d in &decided {
            let Some(&(pid, _)) = self.listing.get(d.listed) else {
                continue;
            };
            // Both in PID order: skip (drop) the entries of processes that are gone.
            let previous = d.cached.and_then(|k| {
                while old.next_if(|(j, _)| *j < k).is_some() {}
                old.next_if(|(j, _)| *j == k).map(|(_, e)| e)
            });
            if d.reason.is_none() {
                // Kept as it was.
                carried += usize::from(previous.is_some());
                entries.extend(previous);
                continue;
            }
            let Some((entry, same_process)) = self.reread_entry(pid, previous, &mut read) else {
                continue;
            };
            carried += usize::from(same_process);
            changed_now |= entry.changed == pass;
            entries.push(entry);
        }
        self.decided = decided;
        drop(old);
        self.live.spare_entries = old_entries;
        self.live.entries = entries;
        if changed_now || carried < old_len {
            self.live.procs_changed = pass;
        }
        if pass.is_multiple_of(ROLLING_PASSES) {
            self.live.interner.purge();
        }
        relations
    }

    /// The entry of a listed process that was to be read (`previous`: its entry of the last
    /// pass, if the same process was there), and whether it is still that process; `None` when
    /// it vanished before its read.
    fn reread_entry(
        &mut self,
        pid: i32,
        previous: Option<CachedProcess>,
        read: &mut ReadByPid,
    ) -> Option<(CachedProcess, bool)> {
        let pass = self.pass;
        let due = next_due(pass, slot(pid as u64));
        let previous = match (previous, read.idle.remove(&pid)) {
            (Some(mut e), Some((cgroups, cgroup_hash))) => {
                // Did not run since it was read: only its cgroups may have changed.
                if cgroups.is_some() {
                    self.read_pids.push(pid);
                }
                let interner = &mut self.live.interner;
                after_idle_turn(&mut e, cgroups, cgroup_hash, due, pass, interner);
                return Some((e, true));
            }
            (previous, _) => previous,
        };
        let Some(r) = read.fresh.remove(&pid) else {
            self.stats.vanished += 1;
            return None;
        };
        self.read_pids.push(pid);
        let same_process = previous.filter(|e| e.ino == r.ino);
        let born = match &same_process {
            Some(e) => e.born,
            None if self.full => 0,
            None => pass,
        };
        let entry = CachedProcess::new(r, born, due, pass, &mut self.live.interner);
        let same = same_process.is_some();
        Some((
            after_full_read(entry, same_process.as_ref(), &mut self.moved),
            same,
        ))
    }

    /// The snapshot's processes: those unchanged since a snapshot given back are moved out of
    /// it, the others built from their entries. Then the host's namespaces, the namespaces and
    /// the isolation groups: those of the snapshot given back while no process changed since
    /// (what was read about the namespaces is checked later), else from the processes' shared
    /// sets.
    fn snapshot_processes(&mut self) {
        (self.recycled_pass, self.recycled) = match self.live.recycled.take() {
            Some((p, old)) => (p, old),
            None => (0, Snapshot::default()),
        };
        // Nothing came, went or changed since the snapshot given back: its processes, and what
        // is computed from them alone, are this pass's.
        self.same_procs = self.recycled_pass > 0 && self.live.procs_changed <= self.recycled_pass;
        let mut denied_pids: Vec<i32> = Vec::new();
        if self.same_procs {
            self.snap.processes = std::mem::take(&mut self.recycled.processes);
            self.stats.recycled = self.snap.processes.len();
            denied_pids.extend(self.live.entries.iter().filter(|e| e.denied).map(|e| e.pid));
        } else {
            self.stats.recycled = self.build_processes(&mut denied_pids);
        }
        if !denied_pids.is_empty() {
            self.warnings.push(processes_denied_warning(&denied_pids));
        }
        self.snap.host_ns = host_namespaces(&self.snap.processes);
        self.reuse_ns = self.same_procs;
        if self.same_procs {
            self.snap.namespaces = std::mem::take(&mut self.recycled.namespaces);
            self.snap.groups = std::mem::take(&mut self.recycled.groups);
        } else {
            self.namespaces_from_entries();
        }
    }

    /// The snapshot's processes from the entries, moved out of the snapshot given back where
    /// unchanged since; the PIDs whose files were denied into `denied_pids`. Returns how many
    /// were moved.
    fn build_processes(&mut self, denied_pids: &mut Vec<i32>) -> usize {
        let mut old = std::mem::take(&mut self.recycled.processes)
            .into_iter()
            .peekable();
        let mut reused = 0;
        // Inserted in PID order: no temporary array of every process, as collecting would make.
        for e in &self.live.entries {
            if e.denied {
                denied_pids.push(e.pid);
            }
            while old.next_if(|(pid, _)| *pid < e.pid).is_some() {}
            let kept = old
                .next_if(|(pid, _)| *pid == e.pid)
                .filter(|_| e.changed <= self.recycled_pass);
            let process = match kept {
                Some((_, p)) => {
                    reused += 1;
                    p
                }
                None => e.process(),
            };
            self.snap.processes.insert(e.pid, process);
        }
        reused
    }

    /// The namespaces and isolation groups from the processes' shared namespace sets.
    fn namespaces_from_entries(&mut self) {
        let sets = by_ns_set(&self.live.entries);
        self.snap.namespaces = namespaces_from_entries(&sets);
        self.snap.groups = isolation_groups_from_entries(&sets, &self.snap.host_ns);
    }

    /// The mountinfo of the mount namespaces that are new, young, due, or the host's, read
    /// through their lowest PID. Not through whichever process the threads met first:
    /// bind-mounted namespaces are opened through the reader's /proc/PID/root, and a process read
    /// because it is new (a kworker, a short-lived command) may be gone by then.
    fn read_mountinfo(&mut self, roots: &Roots) {
        let pass = self.pass;
        let host_mnt = self.snap.host_ns.get(&NsType::Mnt).map(|id| id.ino);
        self.live.host_mnt = host_mnt;
        let mut mnt_read = 0;
        let mut buf = procfs::ReadBuf::default();
        let entries = &self.live.entries;
        let ino_of = |pid: i32| {
            entries
                .binary_search_by_key(&pid, |e| e.pid)
                .ok()
                .and_then(|i| entries.get(i))
                .map(|e| e.ino)
        };
        for (key, ns) in self
            .snap
            .namespaces
            .range((NsType::Mnt, 0)..=(NsType::Mnt, u64::MAX))
        {
            let Some(st) = self.live.ns.get_mut(key) else {
                continue;
            };
            // Still the same process, still in this mount namespace.
            let reader_same = st.mountinfo.as_ref().is_some_and(|(m, pid_ino)| {
                ino_of(m.pid) == Some(*pid_ino) && ns.pids.binary_search(&m.pid).is_ok()
            });
            let needed =
                !reader_same || young(st.born, pass) || st.due <= pass || Some(key.1) == host_mnt;
            if !needed {
                continue;
            }
            let Some(pid) = ns.lowest_pid() else {
                continue;
            };
            let Some(pid_ino) = ino_of(pid) else {
                continue;
            };
            let Ok(dir) = procfs::ProcDir::open(roots, pid) else {
                continue;
            };
            let found = match dir.read_nsfs_mounts(&mut buf) {
                Ok(lines) => Some(mounts::nsfs_bind_mounts(&lines)),
                Err(e) if e.is_permission() => None,
                // Gone meanwhile: keep what was read before, try again next pass.
                Err(_) => continue,
            };
            mnt_read += 1;
            st.due = next_due(pass, slot(key.1));
            st.mountinfo = Some((MountinfoRead { pid, found }, pid_ino));
        }
        self.stats.mountinfo_read = mnt_read;
    }

    /// The nsfs bind mounts as last read in every mount namespace (with the PID they were read
    /// through), and how many mount namespaces' mountinfo was denied. A change of the list
    /// since the last pass is a change of what was read about namespaces.
    fn bind_mounts_found(&mut self) -> (Vec<(i32, mounts::NsBindMount)>, usize) {
        let mut bind_mounts = Vec::new();
        let mut mountinfo_denied = 0;
        for key in self
            .snap
            .namespaces
            .range((NsType::Mnt, 0)..=(NsType::Mnt, u64::MAX))
            .map(|(k, _)| k)
        {
            if let Some((m, _)) = self.live.ns.get(key).and_then(|st| st.mountinfo.as_ref()) {
                match &m.found {
                    Some(found) => bind_mounts.extend(found.iter().map(|b| (m.pid, b.clone()))),
                    None => mountinfo_denied += 1,
                }
            }
        }
        let mut bind_list: Vec<(NsKey, String)> = bind_mounts
            .iter()
            .map(|(_, b)| ((b.ns_type, b.ino), b.mount_point.clone()))
            .collect();
        bind_list.sort_unstable();
        bind_list.dedup();
        if bind_list != self.live.bind_list {
            self.live.ns_changed = self.pass;
            self.live.bind_list = bind_list;
        }
        (bind_mounts, mountinfo_denied)
    }

    /// Names and interfaces just read into what is kept (when due again: a read that failed
    /// for another reason than permission, the process or bind mount it went through gone, is
    /// tried again next pass), then into the snapshot as last read; namespaces given back already
    /// have them when nothing was read differently since.
    fn store_names_and_interfaces(
        &mut self,
        uts_names: NsReads<UtsName>,
        interfaces: NsReads<Vec<Interface>>,
    ) {
        let pass = self.pass;
        let due_after = |err: Option<&crate::sys::SysError>, ino: u64| match err {
            Some(e) if !e.is_permission() => pass + 1,
            _ => next_due(pass, slot(ino)),
        };
        for (ino, res) in uts_names {
            if let Some(st) = self.live.ns.get_mut(&(NsType::Uts, ino)) {
                st.due = due_after(res.as_ref().err(), ino);
                let read = Some(res.ok());
                if st.uts != read {
                    st.uts = read;
                    self.live.ns_changed = pass;
                }
            }
        }
        for (ino, res) in interfaces {
            if let Some(st) = self.live.ns.get_mut(&(NsType::Net, ino)) {
                st.due = due_after(res.as_ref().err(), ino);
                let read = Some(res.ok());
                if st.interfaces != read {
                    st.interfaces = read;
                    self.live.ns_changed = pass;
                }
            }
        }
        if !self.reuse_ns || self.live.ns_changed > self.recycled_pass {
            for (key, ns) in self.snap.namespaces.iter_mut() {
                let Some(st) = self.live.ns.get(key) else {
                    continue;
                };
                if let Some(uts) = &st.uts {
                    ns.hostname = uts.as_ref().map(|n| n.hostname.clone());
                    ns.domainname = uts.as_ref().map(|n| n.domainname.clone());
                }
                if let Some(ifs) = &st.interfaces {
                    ns.interfaces = ifs.clone();
                }
            }
        }
    }
}

/// The reads of this pass, from the decisions (counted by reason in `stats`).
fn read_requests<'a>(
    decided: &[ReadDecision],
    listing: &[(i32, u64)],
    entries: &'a [CachedProcess],
    stats: &mut RefreshStats,
) -> Vec<ReadRequest<'a>> {
    let mut requests: Vec<ReadRequest> = Vec::new();
    for d in decided {
        let Some(reason) = d.reason else {
            stats.kept += 1;
            continue;
        };
        match reason {
            Reason::New => stats.read_new += 1,
            Reason::Young => stats.read_young += 1,
            Reason::Rolling => stats.read_rolling += 1,
            Reason::Reparented => stats.read_reparented += 1,
            Reason::Event => stats.read_events += 1,
        }
        let Some(&(pid, _)) = listing.get(d.listed) else {
            continue;
        };
        let entry = d.cached.and_then(|k| entries.get(k));
        requests.push(ReadRequest {
            pid,
            known: entry.map(CachedProcess::known),
            if_ran: reason == Reason::Rolling,
            check_others: entry.is_some_and(|e| e.idle_turns + 1 >= FULL_READ_EVERY),
        });
    }
    requests
}

/// A kept entry after a rolling turn that found the process had not run since it was read:
/// only its cgroups may have changed (`cgroups`: `Some` when they did, as read). Marked changed
/// in this pass when they did.
fn after_idle_turn(
    e: &mut CachedProcess,
    cgroups: Option<procfs::CgroupPaths>,
    cgroup_hash: u64,
    due: u64,
    pass: u64,
    interner: &mut Interner,
) {
    if let Some(cgroups) = cgroups {
        let cgroups = interner.cgroups(cgroups);
        if !Arc::ptr_eq(&cgroups, &e.cgroups) {
            e.cgroups = cgroups;
            e.changed = pass;
        }
    }
    e.cgroup_hash = cgroup_hash;
    e.due = due;
    // Its command line and comm were compared at this turn (see the request).
    e.idle_turns = if e.idle_turns + 1 >= FULL_READ_EVERY {
        0
    } else {
        e.idle_turns + 1
    };
}

/// A process read in full, compared with its entry of the previous pass (`previous`, if the
/// same process): the namespaces it kept into `moved` when it is new or changed them.
fn after_full_read(
    mut entry: CachedProcess,
    previous: Option<&CachedProcess>,
    moved: &mut HashMap<i32, Vec<NsKey>>,
) -> CachedProcess {
    let Some(e) = previous else {
        moved.insert(entry.pid, Vec::new());
        return entry;
    };
    // Read in full again: the count of idle turns starts over (only a process read for the
    // first time starts at its stagger).
    entry.idle_turns = 0;
    if entry.same_data(e) {
        entry.changed = e.changed;
    }
    if !Arc::ptr_eq(&e.ns, &entry.ns) {
        // Namespaces changed (setns, unshare): the ones it kept.
        let kept = entry
            .ns
            .ns
            .iter()
            .filter(|(t, id)| e.ns.ns.get(t) == Some(id))
            .map(|(t, id)| (*t, id.ino))
            .collect();
        moved.insert(entry.pid, kept);
    }
    entry
}

impl Collector {
    /// One incremental pass for a live view: the snapshot a full pass ([`Collector::collect`])
    /// would give, re-reading only what may have changed since the previous call. New and gone
    /// processes, reused PIDs, execs (with the process events connector) and cgroup usage are
    /// exact at every pass (between two listings of /proc a process leaves at its exit, not when
    /// its parent reaps it); other changes show within [`ROLLING_PASSES`] passes (a few rare
    /// ones within [`FULL_READ_EVERY`] times that): see the documentation of
    /// src/collect/refresh.rs. The first call, the first after [`Collector::invalidate`] and the
    /// first with other `opts` read everything.
    ///
    /// A live view should give each snapshot it replaces back to [`Collector::recycle`].
    ///
    /// Fails only when /proc cannot be listed at all, like `collect`.
    pub fn refresh(&mut self, opts: CollectOptions) -> SysResult<Snapshot> {
        let mut clock = PhaseClock::start(&mut self.phases);
        let mut p = self.begin_refresh(opts);
        if let Err(e) = self.list_for_refresh(&mut p) {
            // The events drained are lost with this pass: the next one lists /proc.
            p.live.listed = 0;
            self.live = Some(p.live);
            return Err(e);
        }
        clock.lap(&mut self.phases, "list /proc");
        p.decide_reads();
        let (read, cgroup_outcome) = self.read_for_refresh(&mut p);
        clock.lap(&mut self.phases, "read processes, cgroup files");
        let read_relations = p.update_entries(read);
        p.snapshot_processes();
        clock.lap(&mut self.phases, "snapshot of processes");
        self.settle_cgroups(&mut p, cgroup_outcome);
        clock.lap(&mut self.phases, "cgroups");
        self.renew_namespaces(&mut p, read_relations);
        let (bind_openers, gone_net) = self.refresh_bind_mounts(&mut p);
        clock.lap(&mut self.phases, "namespaces, bind mounts");
        let (uts_names, interfaces) =
            self.read_names_and_interfaces(&mut p, &bind_openers, &gone_net);
        p.store_names_and_interfaces(uts_names, interfaces);
        clock.lap(&mut self.phases, "relations, uts, net");
        self.refresh_containers(&mut p);
        clock.lap(&mut self.phases, "containers");
        Ok(self.finish_refresh(p))
    }

    /// The start of a pass: what was kept (nothing after a change of options), counted one pass
    /// further.
    fn begin_refresh(&mut self, opts: CollectOptions) -> RefreshPass {
        let mut live = match self.live.take() {
            Some(live) if live.opts == opts => live,
            _ => {
                // Nothing kept can be trusted without the previous pass to compare with.
                self.relations.clear();
                self.cgroups_dirty = true;
                Live::new(opts)
            }
        };
        let full = live.pass == 0;
        live.pass += 1;
        let pass = live.pass;
        let mut snap = Snapshot::default();
        snap.taken_at = Some(Instant::now());
        snap.host = uts::read_host_info();
        let listing = std::mem::take(&mut live.listing);
        RefreshPass {
            live,
            opts,
            pass,
            full,
            stats: RefreshStats {
                pass,
                full,
                ..RefreshStats::default()
            },
            warnings: Warnings::default(),
            snap,
            listing,
            decided: Vec::new(),
            same: Vec::new(),
            read_pids: Vec::new(),
            moved: HashMap::new(),
            recycled: Snapshot::default(),
            recycled_pass: 0,
            same_procs: false,
            reuse_ns: false,
        }
    }

    /// The processes of this pass (see [`list_processes`]).
    fn list_for_refresh(&self, p: &mut RefreshPass) -> SysResult<()> {
        let mut touched = std::mem::take(&mut p.live.touched);
        let listed = list_processes(
            &self.roots,
            &mut p.live,
            p.full,
            &mut p.listing,
            &mut touched,
        );
        p.live.touched = touched;
        listed?;
        p.stats.listed = p.listing.len();
        p.stats.from_events = p.live.listed != p.pass;
        p.stats.events = p.live.events.len();
        Ok(())
    }

    /// Processes on the process threads; meanwhile the cgroup side on its own thread: a walk
    /// when the trees may have changed, else the files that change by themselves.
    fn read_for_refresh(&mut self, p: &mut RefreshPass) -> (ProcessPass, Option<CgroupJoin>) {
        let (opts, pass) = (p.opts, p.pass);
        let requests = read_requests(&p.decided, &p.listing, &p.live.entries, &mut p.stats);
        let walk = opts.cgroups && (self.cgroups_dirty || p.live.cgroups.is_none());
        let mut cg_state = if opts.cgroups && !walk {
            p.live.cgroups.take()
        } else {
            None
        };
        let roots = &self.roots;
        let threads = self.threads;
        let dev_nodes = &mut self.dev_nodes;
        let known_relations = &self.relations;
        std::thread::scope(|s| {
            let cg = if walk {
                Some(s.spawn(move || {
                    CgroupOutcome::Walked(read_cgroups(roots, dev_nodes, CgroupWant::LIMITS))
                }))
            } else {
                cg_state.take().map(|mut state| {
                    s.spawn(move || {
                        let mut drivers = None;
                        let (vanished, limits_read) =
                            reread_cgroups(&mut state, pass, roots, dev_nodes, &mut drivers);
                        CgroupOutcome::Reread {
                            state: Box::new(state),
                            vanished,
                            limits_read,
                        }
                    })
                })
            };
            let read = read_processes(roots, &requests, threads, opts, known_relations, None, true);
            (read, cg.map(|h| h.join()))
        })
    }

    /// The cgroup side of the pass into the snapshot: walk again if the trees changed under a
    /// re-read; note a walk or a change of freezer state (containers show freezer states: they
    /// are built again).
    fn settle_cgroups(&mut self, p: &mut RefreshPass, outcome: Option<CgroupJoin>) {
        let cgroup_state = self.cgroup_state(p, outcome);
        if let Some(state) = &cgroup_state {
            p.snap.cgroup_mode = Some(state.mode);
            p.snap.hierarchies = state.hierarchies.clone();
            p.snap.cgroups = state.cgroups.clone();
            assign_members_from_entries(&mut p.snap.cgroups, &p.live.entries);
            for w in &state.warnings {
                p.warnings.push(w.clone());
            }
        }
        if p.stats.cgroup_walk {
            p.live.cg_changed = p.pass;
        }
        let freezer: Vec<Option<CgValue>> = p
            .snap
            .cgroups
            .iter()
            .map(|c| {
                c.limits
                    .get("freezer.state")
                    .or_else(|| c.limits.get("cgroup.freeze"))
                    .cloned()
            })
            .collect();
        if freezer != p.live.freezer {
            p.live.cg_changed = p.pass;
            p.live.freezer = freezer;
        }
        // A walk that failed outright is tried again next pass.
        self.cgroups_dirty = p.opts.cgroups && cgroup_state.is_none();
        p.live.cgroups = cgroup_state;
    }

    /// The cgroup trees of this pass: as walked, or as re-read unless a group vanished or a
    /// process read in this pass is in a group the trees do not have (then walked again).
    fn cgroup_state(
        &mut self,
        p: &mut RefreshPass,
        outcome: Option<CgroupJoin>,
    ) -> Option<CgroupState> {
        match outcome {
            None => None,
            Some(Err(_)) => {
                p.warnings.push("reading the cgroup trees failed".into());
                None
            }
            Some(Ok(CgroupOutcome::Walked(cg))) => {
                p.stats.cgroup_walk = true;
                Some(CgroupState::from_walk(cg, &p.live.interner, p.pass))
            }
            Some(Ok(CgroupOutcome::Reread {
                state,
                vanished,
                limits_read,
            })) => {
                p.stats.cgroup_limits_read = limits_read;
                let entries = &p.live.entries;
                let moved = p
                    .read_pids
                    .iter()
                    .filter_map(|pid| {
                        let at = entries.binary_search_by_key(pid, |e| e.pid).ok()?;
                        entries.get(at).map(|e| &*e.cgroups)
                    })
                    .any(|cgroups| state.misses(cgroups));
                if vanished || moved {
                    p.stats.cgroup_walk = true;
                    let cg = read_cgroups(&self.roots, &mut self.dev_nodes, CgroupWant::LIMITS);
                    Some(CgroupState::from_walk(cg, &p.live.interner, p.pass))
                } else {
                    Some(*state)
                }
            }
        }
    }

    /// Namespaces: keep what was read about those still held by a process that held them in the
    /// previous pass; start afresh for the others.
    fn renew_namespaces(&mut self, p: &mut RefreshPass, read_relations: Vec<(NsKey, NsRelations)>) {
        let (born, pass) = (p.ns_born(), p.pass);
        for (key, ns) in &p.snap.namespaces {
            let carried = ns
                .pids
                .iter()
                .any(|pid| p.moved.get(pid).is_none_or(|kept| kept.contains(key)));
            let fresh = || NsState::new(born, next_due(pass, slot(key.1)));
            match p.live.ns.get_mut(key) {
                Some(_) if carried => {}
                // Its inode may be a freed namespace's: what was read about that one is wrong.
                Some(st) => {
                    self.relations.remove(key);
                    *st = fresh();
                }
                None => {
                    self.relations.remove(key);
                    p.live.ns.insert(*key, fresh());
                }
            }
        }
        self.relations.extend(read_relations);
    }

    /// nsfs bind mounts, from the mountinfo of the mount namespaces that need it (see
    /// [`RefreshPass::read_mountinfo`]), into the snapshot; then forget the namespaces that are
    /// gone. Returns how to open the namespaces held by bind mounts, and the network namespaces
    /// that are gone.
    fn refresh_bind_mounts(&self, p: &mut RefreshPass) -> (HashMap<NsKey, NsTarget>, HashSet<u64>) {
        p.read_mountinfo(&self.roots);
        let (bind_mounts, mountinfo_denied) = p.bind_mounts_found();
        // The namespaces given back hold the bind mounts of their pass: a bind mount added or
        // removed since (a namespace held only by it comes or goes) means building them again.
        if p.reuse_ns && p.live.ns_changed > p.recycled_pass {
            p.reuse_ns = false;
            p.namespaces_from_entries();
        }
        let bind_openers = self.add_bind_mounts(&mut p.snap, bind_mounts);
        // Namespaces held only by bind mounts: the same namespace as long as it stays listed.
        let (born, pass) = (p.ns_born(), p.pass);
        for key in p.snap.namespaces.keys() {
            p.live
                .ns
                .entry(*key)
                .or_insert_with(|| NsState::new(born, next_due(pass, slot(key.1))));
        }
        // Forget the namespaces that are gone; network namespaces among them take the links
        // that had their peer there with them.
        let mut gone_net: HashSet<u64> = HashSet::new();
        let namespaces = &p.snap.namespaces;
        p.live.ns.retain(|key, _| {
            let present = namespaces.contains_key(key);
            if !present && key.0 == NsType::Net {
                gone_net.insert(key.1);
            }
            present
        });
        if mountinfo_denied > 0 {
            p.warnings.push(mountinfo_warning(mountinfo_denied));
        }
        (bind_openers, gone_net)
    }

    /// Names and interfaces of the namespaces that are new, young or due (joined on helper
    /// threads); relations of new namespaces meanwhile.
    fn read_names_and_interfaces(
        &mut self,
        p: &mut RefreshPass,
        bind_openers: &HashMap<NsKey, NsTarget>,
        gone_net: &HashSet<u64>,
    ) -> (NsReads<UtsName>, NsReads<Vec<Interface>>) {
        let (uts_targets, net_targets) = self.ns_targets_due(p, bind_openers, gone_net);
        let (uts_names, interfaces) = std::thread::scope(|s| {
            let uts =
                (!uts_targets.is_empty()).then(|| s.spawn(|| uts::read_uts_names(&uts_targets)));
            let net = (!net_targets.is_empty())
                .then(|| s.spawn(|| net::read_netns_interfaces(&net_targets)));
            // Relations never change: namespaces given back have theirs already, unless one
            // could not be opened then (tried again here).
            if p.opts.relations && !(p.reuse_ns && self.relations.len() == p.snap.namespaces.len())
            {
                self.add_relations(&mut p.snap, bind_openers);
            }
            (
                uts.and_then(|h| h.join().ok()).unwrap_or_default(),
                net.and_then(|h| h.join().ok()).unwrap_or_default(),
            )
        });
        // A link whose peer namespace was not among those read stays unresolved: then read them
        // all, as a full pass does (a new veth pair whose other end is in a namespace read
        // earlier, such as a container's eth0 and the host's new veth).
        let all_net = p
            .snap
            .namespaces
            .range((NsType::Net, 0)..=(NsType::Net, u64::MAX))
            .count();
        let unresolved = interfaces.values().any(|r| {
            r.as_ref().is_ok_and(|ifs| {
                ifs.iter()
                    .any(|i| i.peer_ifindex.is_some() && i.peer_netns.is_none())
            })
        });
        let interfaces = if unresolved && net_targets.len() < all_net {
            p.stats.net_all = true;
            let all = targets_of(&self.roots, &p.snap, bind_openers, NsType::Net, |_| true);
            net::read_netns_interfaces(&all)
        } else {
            interfaces
        };
        p.stats.uts_read = uts_names.len();
        p.stats.net_read = interfaces.len();
        (uts_names, interfaces)
    }

    /// The UTS and network namespaces to read in this pass: new, young or due (and for network
    /// namespaces, see [`net_to_read`]).
    fn ns_targets_due(
        &self,
        p: &RefreshPass,
        bind_openers: &HashMap<NsKey, NsTarget>,
        gone_net: &HashSet<u64>,
    ) -> (Vec<NsTarget>, Vec<NsTarget>) {
        let pass = p.pass;
        let due = |st: &NsState| young(st.born, pass) || st.due <= pass;
        let uts_targets = if p.opts.uts {
            targets_of(&self.roots, &p.snap, bind_openers, NsType::Uts, |ns| {
                p.live
                    .ns
                    .get(&ns.key())
                    .is_some_and(|st| st.uts.is_none() || due(st))
            })
        } else {
            Vec::new()
        };
        let net_wanted: HashSet<u64> = if p.opts.net {
            net_to_read(&p.snap, &p.live.ns, gone_net, due)
        } else {
            HashSet::new()
        };
        let net_targets = targets_of(&self.roots, &p.snap, bind_openers, NsType::Net, |ns| {
            net_wanted.contains(&ns.inode)
        });
        (uts_targets, net_targets)
    }

    /// The isolation groups, the warnings and the containers of the snapshot. Containers are
    /// computed from the processes, groups and cgroup trees (and freezer states), and the
    /// runtimes' records, asked again when due: the containers given back while none of that
    /// changed, for at most ROLLING_PASSES passes.
    fn refresh_containers(&mut self, p: &mut RefreshPass) {
        let pass = p.pass;
        p.snap.warnings = std::mem::take(&mut p.warnings.0);
        let built = p.live.containers_built;
        let same_containers = built > 0
            && p.live.procs_changed <= built
            && p.live.cg_changed <= built
            && pass < built + ROLLING_PASSES;
        if same_containers {
            // Those given back are the ones built, when they came after; else a copy.
            p.snap.containers = if p.recycled_pass >= built {
                std::mem::take(&mut p.recycled.containers)
            } else {
                p.live.containers.clone()
            };
            self.add_runtime_warnings(&mut p.snap);
        } else {
            self.add_containers(&mut p.snap);
            p.live.containers_built = pass;
            p.live.containers = p.snap.containers.clone();
        }
        p.stats.processes_same = p.live.procs_changed < pass;
        p.stats.namespaces_same = p.stats.processes_same && p.live.ns_changed < pass;
        // Those built before the previous pass, with nothing changed since: the previous pass had
        // them too.
        p.stats.containers_same = same_containers && built < pass;
        // What is left of the snapshot given back is freed here, off the UI thread.
        drop(std::mem::take(&mut p.recycled));
    }

    /// The end of a pass: its statistics, and what it keeps for the next one.
    fn finish_refresh(&mut self, p: RefreshPass) -> Snapshot {
        let RefreshPass {
            mut live,
            pass,
            stats,
            snap,
            listing,
            decided,
            same,
            ..
        } = p;
        self.stats = stats;
        if let Some(t) = snap.taken_at {
            if live.issued.len() >= 4 {
                live.issued.remove(0);
            }
            live.issued.push((t, pass));
        }
        live.listing = listing;
        live.decided = decided;
        live.same = same;
        self.live = Some(live);
        snap
    }

    /// Forget everything kept between refreshes: the next [`Collector::refresh`] reads the whole
    /// host again (processes, namespaces, cgroup trees, device names). For a live view after its
    /// own writes and when the user asks for a refresh.
    pub fn invalidate(&mut self) {
        self.live = None;
        self.relations.clear();
        self.dev_nodes = None;
        self.cgroups_dirty = true;
        self.runtimes.forget();
    }

    /// Give back a snapshot this collector's [`Collector::refresh`] made and the caller no
    /// longer needs (the one a live view replaces): the next refresh moves what did not change
    /// since out of it (processes, and when none changed, namespaces, isolation groups and
    /// containers) instead of building it again, which saves most of the work of a pass on an
    /// idle host (and the caller the cost of freeing the old snapshot). Optional; a snapshot
    /// from elsewhere, or from before [`Collector::invalidate`], is just dropped.
    pub fn recycle(&mut self, old: Snapshot) {
        let Some(live) = self.live.as_mut() else {
            return;
        };
        let pass = old
            .taken_at
            .and_then(|t| live.issued.iter().find(|(at, _)| *at == t))
            .map(|&(_, pass)| pass);
        if let Some(pass) = pass
            && live.recycled.as_ref().is_none_or(|(p, _)| *p < pass)
        {
            live.recycled = Some((pass, old));
        }
    }

    /// Tell the collector that cgroups may have been created or removed (a watcher on the cgroup
    /// mounts saw it): the next [`Collector::refresh`] walks the cgroup trees again.
    pub fn cgroups_changed(&mut self) {
        self.cgroups_dirty = true;
    }

    /// What the last [`Collector::refresh`] read and kept.
    pub fn last_refresh(&self) -> RefreshStats {
        self.stats
    }
}

/// The network namespaces to read in this pass: those never read, young or due, those with a link
/// whose peer namespace vanished, and the namespaces their known links lead to (a veth is
/// resolved only when both ends are read together).
fn net_to_read(
    snap: &Snapshot,
    states: &HashMap<NsKey, NsState>,
    gone_net: &HashSet<u64>,
    due: impl Fn(&NsState) -> bool,
) -> HashSet<u64> {
    let mut wanted: HashSet<u64> = HashSet::new();
    for key in snap
        .namespaces
        .range((NsType::Net, 0)..=(NsType::Net, u64::MAX))
        .map(|(k, _)| k)
    {
        let Some(st) = states.get(key) else {
            continue;
        };
        let peer_gone = || {
            matches!(&st.interfaces, Some(Some(ifs))
                if ifs.iter().any(|i| i.peer_netns.is_some_and(|p| gone_net.contains(&p))))
        };
        if st.interfaces.is_none() || due(st) || peer_gone() {
            wanted.insert(key.1);
        }
    }
    let peers: Vec<u64> = wanted
        .iter()
        .filter_map(|ino| states.get(&(NsType::Net, *ino)))
        .filter_map(|st| match &st.interfaces {
            Some(Some(ifs)) => Some(ifs.iter().filter_map(|i| i.peer_netns)),
            _ => None,
        })
        .flatten()
        .filter(|p| snap.namespaces.contains_key(&(NsType::Net, *p)))
        .collect();
    wanted.extend(peers);
    wanted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_passes_fall_in_the_slot_and_within_the_bound() {
        for pass in 0..40 {
            for s in 0..ROLLING_PASSES {
                let d = next_due(pass, s);
                assert!(
                    d > pass && d <= pass + ROLLING_PASSES,
                    "pass {pass} slot {s}"
                );
                assert_eq!(d % ROLLING_PASSES, s);
            }
        }
    }

    #[test]
    fn slots_spread_consecutive_pids() {
        let mut count = [0usize; ROLLING_PASSES as usize];
        for pid in 1000..11000u64 {
            count[slot(pid) as usize] += 1;
        }
        // 1,000 each if perfectly even; the rolling slice stays close to 1/R.
        assert!(count.iter().all(|&c| (800..1200).contains(&c)), "{count:?}");
        let mut even = [0usize; ROLLING_PASSES as usize];
        for pid in (1000..21000u64).step_by(2) {
            even[slot(pid) as usize] += 1;
        }
        assert!(even.iter().all(|&c| (800..1200).contains(&c)), "{even:?}");
    }

    /// An entry for process `pid` read through a /proc/PID of inode `ino`.
    fn entry(pid: i32, ino: u64, interner: &mut Interner) -> CachedProcess {
        let read = ProcessRead {
            process: Process {
                pid,
                ppid: 1,
                nspid: vec![pid],
                comm: "sleep".into(),
                cmdline: vec!["sleep".into()],
                uid: 0,
                ns: BTreeMap::new(),
                pid_for_children: None,
                time_for_children: None,
                cgroups: BTreeMap::new(),
                kernel_thread: false,
            },
            denied: Vec::new(),
            ino,
            stamp: None,
            cgroup_hash: 0,
        };
        CachedProcess::new(read, 0, 1, 1, interner)
    }

    #[test]
    fn events_turn_the_last_pass_into_this_ones_listing() {
        use ProcEvent::*;
        let mut interner = Interner::default();
        let entries: Vec<CachedProcess> = [(10, 100), (20, 200), (30, 300), (40, 400), (50, 500)]
            .into_iter()
            .map(|(pid, ino)| entry(pid, ino, &mut interner))
            .collect();
        let events = [
            // 20 exits; 60 starts; 70 starts and exits within the interval.
            Exit(20),
            Fork {
                tgid: 60,
                parent: 10,
            },
            Fork {
                tgid: 70,
                parent: 10,
            },
            Exit(70),
            // 30 execs; 40's PID is reused (exit, then a fork gives it to a new process).
            Exec(30),
            Exit(40),
            Fork {
                tgid: 40,
                parent: 10,
            },
            Exec(40),
            // 50's leader ends before the exec of another of its threads, which takes over.
            Exit(50),
            Exec(50),
            // A comm change of 60, new anyway.
            Changed(60),
        ];
        let (mut listing, mut touched) = (Vec::new(), Vec::new());
        apply_events(&events, &entries, &mut listing, &mut touched);
        assert_eq!(
            listing,
            vec![(10, 100), (30, 300), (40, 0), (50, 500), (60, 0)],
            "gone left out, new and reused with inode 0 (read as new)"
        );
        assert_eq!(touched, vec![30, 50], "read again in full");

        // No events: the last pass as it was.
        let (mut listing, mut touched) = (Vec::new(), Vec::new());
        apply_events(&[], &entries, &mut listing, &mut touched);
        assert_eq!(listing.len(), entries.len());
        assert!(touched.is_empty());
    }

    #[test]
    fn young_means_the_passes_right_after_the_first_read() {
        // 0: found by a full pass, never young.
        assert!(!young(0, 1));
        assert!(!young(5, 5));
        assert!(young(5, 6));
        assert!(young(5, 5 + YOUNG_PASSES));
        assert!(!young(5, 6 + YOUNG_PASSES));
    }
}
