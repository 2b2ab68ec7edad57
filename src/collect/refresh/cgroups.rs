//! The cgroup side of a pass: the trees as last walked, what is re-read of them every pass and
//! 1/R per pass, and when they are walked again.

use super::assemble::assign_members_from_entries;
use super::cache::Interner;
use super::pass::RefreshPass;
use super::schedule::next_due;
use super::*;

/// The cgroup trees as last walked, with the files last read.
pub(super) struct CgroupState {
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

    /// Make the limits of the `hinted` cgroups (hierarchy key, path) due in pass `pass`. False
    /// when one of them is not in the trees (created since the last walk).
    pub(super) fn limits_due_now(&mut self, hinted: &[(String, String)], pass: u64) -> bool {
        let mut all = true;
        for (key, path) in hinted {
            let at = self
                .cgroups
                .iter()
                .position(|c| c.hierarchy == *key && c.path == *path);
            match at.and_then(|i| self.limits_due.get_mut(i)) {
                Some(due) => *due = pass,
                None => all = false,
            }
        }
        all
    }

    /// True when `p` is in a cgroup that was not in the trees at the last walk (and was not
    /// already unknown then): the trees changed.
    fn misses(&self, cgroups: &procfs::CgroupPaths) -> bool {
        cgroups.iter().any(|(key, path)| {
            !contains(&self.known, key, path) && !contains(&self.unknown, key, path)
        })
    }
}

/// How the cgroup side of a pass went.
pub(super) enum CgroupOutcome {
    Walked(CgroupPass),
    /// Usage (and due limits) re-read; `vanished` when a group disappeared meanwhile.
    Reread {
        state: Box<CgroupState>,
        vanished: bool,
        limits_read: usize,
    },
}

/// The join of the cgroup side's thread.
pub(super) type CgroupJoin = std::thread::Result<CgroupOutcome>;

/// Re-read what changes by itself in every cgroup, and the limits of those whose turn came.
/// Stops at the first group that vanished (the trees changed: the caller walks them again).
pub(super) fn reread_cgroups(
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

impl Collector {
    /// The cgroup side of the pass into the snapshot: walk again if the trees changed under a
    /// re-read; note a walk or a change of freezer state (containers show freezer states: they
    /// are built again).
    pub(super) fn settle_cgroups(&mut self, p: &mut RefreshPass, outcome: Option<CgroupJoin>) {
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
}
