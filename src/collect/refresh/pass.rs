//! What one pass carries from phase to phase, its start, its last phase (the containers) and its
//! end. The other phases are in the files of what they read: events.rs (the listing),
//! processes.rs, cgroups.rs, namespaces.rs.

use super::schedule::ReadDecision;
use super::*;

/// What one [`Collector::refresh`] carries from phase to phase.
pub(super) struct RefreshPass {
    /// What the collector keeps between passes, taken out of it for the pass.
    pub(super) live: Live,
    pub(super) opts: CollectOptions,
    pub(super) pass: u64,
    /// Nothing was kept: everything is read.
    pub(super) full: bool,
    pub(super) stats: RefreshStats,
    pub(super) warnings: Warnings,
    pub(super) snap: Snapshot,
    /// The processes of this pass: PID and /proc/PID inode, sorted by PID.
    pub(super) listing: Vec<(i32, u64)>,
    /// One per process of the listing, in its order.
    pub(super) decided: Vec<ReadDecision>,
    /// PIDs still the processes they were (same /proc/PID inode), for the parent check.
    pub(super) same: Vec<i32>,
    /// Processes read in this pass whose cgroups may be new to the trees.
    pub(super) read_pids: Vec<i32>,
    /// Processes that are new, or changed namespaces: the namespaces they held in the previous
    /// pass and still hold (none when new). Every other process held all its namespaces then.
    pub(super) moved: HashMap<i32, Vec<NsKey>>,
    /// The snapshot given back to [`Collector::recycle`] (empty if none), and the pass that built
    /// it (0 if none).
    pub(super) recycled: Snapshot,
    pub(super) recycled_pass: u64,
    /// Nothing came, went or changed since the snapshot given back: its processes, and what is
    /// computed from them alone, are this pass's.
    pub(super) same_procs: bool,
    /// The snapshot's namespaces are those given back (what was read about them is checked).
    pub(super) reuse_ns: bool,
}

impl RefreshPass {
    /// The pass a namespace first seen now counts as born in (0 in a full pass: never young).
    pub(super) fn ns_born(&self) -> u64 {
        if self.full { 0 } else { self.pass }
    }
}

impl Collector {
    /// The start of a pass: what was kept (nothing after a change of options), counted one pass
    /// further.
    pub(super) fn begin_refresh(&mut self, opts: CollectOptions) -> RefreshPass {
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

    /// The isolation groups, the warnings and the containers of the snapshot. Containers are
    /// computed from the processes, groups and cgroup trees (and freezer states), and the
    /// runtimes' records, asked again when due: the containers given back while none of that
    /// changed, for at most ROLLING_PASSES passes.
    pub(super) fn refresh_containers(&mut self, p: &mut RefreshPass) {
        let pass = p.pass;
        p.snap.warnings = std::mem::take(&mut p.warnings.0);
        let built = p.live.containers_built;
        // A container starting shows its runtime's "created" until asked again: built every
        // pass meanwhile (see RuntimeCache::unsettled).
        let same_containers = built > 0
            && p.live.procs_changed <= built
            && p.live.cg_changed <= built
            && pass < built + ROLLING_PASSES
            && !self.runtimes.unsettled();
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
    pub(super) fn finish_refresh(&mut self, p: RefreshPass) -> Snapshot {
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
}
