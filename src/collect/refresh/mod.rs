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
//! | containers (runtimes' records: names, images, labels, states) | built again when a process, the cgroup trees or a freezer state changed, and every R passes (records are asked again when due: a new container, a freezer change, 30 s); every pass while a record is in a passing state ("created" while the container starts: asked again every 0.5 s) | R passes past the 30 s |
//! | processes and cgroups a write by nsview touched (any nsview process: the live view watches the journal and calls [`Collector::reread_soon`]) | in the next pass, which the live view makes at once: moved processes in full, written cgroups' limits | - |
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
//! See docs/performance.md. Memory idle for a second can be slow to touch again (see [`CachedProcess`](cache::CachedProcess)),
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
use crate::model::CgValue;
use crate::sys::proc_connector::ProcEvent;

mod assemble;
mod cache;
mod cgroups;
mod events;
mod namespaces;
mod pass;
mod processes;
mod schedule;

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
    entries: Vec<cache::CachedProcess>,
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
    interner: cache::Interner,
    ns: HashMap<NsKey, namespaces::NsState>,
    /// The host's mount namespace in the last pass (its mountinfo is read every pass).
    host_mnt: Option<u64>,
    /// The listing of /proc, and the arrays a pass fills, kept for their allocations (a new
    /// allocation of this size each pass costs page faults or a consolidation of the heap).
    listing: Vec<(i32, u64)>,
    spare_entries: Vec<cache::CachedProcess>,
    decided: Vec<schedule::ReadDecision>,
    same: Vec<i32>,
    cgroups: Option<cgroups::CgroupState>,
    /// The process events connector, when it can be used.
    connector: events::Connector,
    /// The last pass that listed /proc: the connector's events go on from there (0: the next
    /// pass lists).
    listed: u64,
    /// The events of this pass, and the PIDs they say to read again (sorted), kept for their
    /// allocations.
    events: Vec<ProcEvent>,
    touched: Vec<i32>,
    /// Given by [`Collector::reread_soon`]: processes read in full and cgroups whose limits are
    /// read in the next pass.
    hinted_pids: Vec<i32>,
    hinted_cgroups: Vec<(String, String)>,
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
            interner: cache::Interner::default(),
            ns: HashMap::new(),
            host_mnt: None,
            listing: Vec::new(),
            spare_entries: Vec::new(),
            decided: Vec::new(),
            same: Vec::new(),
            cgroups: None,
            connector: events::Connector::Untried,
            listed: 0,
            events: Vec::new(),
            touched: Vec::new(),
            hinted_pids: Vec::new(),
            hinted_cgroups: Vec::new(),
        }
    }
}

impl Collector {
    /// One incremental pass for a live view: the snapshot a full pass ([`Collector::collect`])
    /// would give, re-reading only what may have changed since the previous call. New and gone
    /// processes, reused PIDs, execs (with the process events connector) and cgroup usage are
    /// exact at every pass (between two listings of /proc a process leaves at its exit, not when
    /// its parent reaps it); other changes show within [`ROLLING_PASSES`] passes (a few rare
    /// ones within [`FULL_READ_EVERY`] times that): see the documentation of
    /// src/collect/refresh/mod.rs. The first call, the first after [`Collector::invalidate`] and the
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

    /// Tell the collector what a write just changed (nsview's own, read from its journal by a live
    /// view): the next [`Collector::refresh`] reads these processes in full (a move) and these
    /// cgroups' limits, devices and freezer state (hierarchy key and path: a set, a device rule,
    /// a freeze), instead of at their rolling turn up to [`ROLLING_PASSES`] passes later; a
    /// cgroup not in the trees makes it walk them again. Before the first pass, or after
    /// [`Collector::invalidate`], the next pass reads everything anyway.
    pub fn reread_soon(&mut self, pids: &[i32], cgroups: &[(String, String)]) {
        if let Some(live) = self.live.as_mut() {
            live.hinted_pids.extend_from_slice(pids);
            live.hinted_cgroups.extend_from_slice(cgroups);
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
