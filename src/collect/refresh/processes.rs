//! The processes of a pass: which to read and why, reading them (with the cgroup side alongside),
//! the cache updated from what was read, and the snapshot's processes.

use super::assemble::{by_ns_set, isolation_groups_from_entries, namespaces_from_entries};
use super::cache::{CachedProcess, Interner};
use super::cgroups::{CgroupJoin, CgroupOutcome, reread_cgroups};
use super::pass::RefreshPass;
use super::schedule::{ReadDecision, Reason, next_due, slot, young};
use super::*;

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

impl RefreshPass {
    /// Which processes to read, and why: the listing and the entries are both sorted by PID.
    pub(super) fn decide_reads(&mut self) {
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
    pub(super) fn update_entries(&mut self, read: ProcessPass) -> Vec<(NsKey, NsRelations)> {
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
    pub(super) fn snapshot_processes(&mut self) {
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
    pub(super) fn namespaces_from_entries(&mut self) {
        let sets = by_ns_set(&self.live.entries);
        self.snap.namespaces = namespaces_from_entries(&sets);
        self.snap.groups = isolation_groups_from_entries(&sets, &self.snap.host_ns);
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
    /// The cgroups given to [`Collector::reread_soon`]: their limits are due in this pass (the
    /// trees walked again when one is not in them), and the containers built again (they show
    /// limits and freezer states).
    fn apply_cgroup_hints(&mut self, p: &mut RefreshPass) {
        let hinted = std::mem::take(&mut p.live.hinted_cgroups);
        if hinted.is_empty() {
            return;
        }
        p.live.cg_changed = p.pass;
        let known = p
            .live
            .cgroups
            .as_mut()
            .is_some_and(|state| state.limits_due_now(&hinted, p.pass));
        if !known {
            self.cgroups_dirty = true;
        }
    }

    /// Processes on the process threads; meanwhile the cgroup side on its own thread: a walk
    /// when the trees may have changed, else the files that change by themselves.
    pub(super) fn read_for_refresh(
        &mut self,
        p: &mut RefreshPass,
    ) -> (ProcessPass, Option<CgroupJoin>) {
        let (opts, pass) = (p.opts, p.pass);
        self.apply_cgroup_hints(p);
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
}
