//! What a full pass computes from every process (namespaces, isolation groups, cgroup members),
//! computed from the cache's shared sets instead.

use super::cache::{CachedProcess, NsRecord};
use super::*;

/// The entries grouped by namespace set, in PID order within each set: a host of thousands of
/// processes has a few hundred sets.
pub(super) fn by_ns_set(entries: &[CachedProcess]) -> Vec<(&NsRecord, Vec<&CachedProcess>)> {
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
pub(super) fn namespaces_from_entries(
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
pub(super) fn isolation_groups_from_entries(
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
pub(super) fn assign_members_from_entries(cgroups: &mut [Cgroup], entries: &[CachedProcess]) {
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
