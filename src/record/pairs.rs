//! Two consecutive snapshots with the lookups a frame needs between them, built once per frame
//! and shared by the delta ([`super::Delta`]) and the timeline's events ([`super::events`]).

use crate::model::containers::Container;
use crate::model::{Cgroup, Snapshot};
use std::collections::{HashMap, HashSet};

/// The snapshot of the frame before (`old`), this frame's (`new`), and their containers and
/// cgroups by key.
pub struct Pairs<'a> {
    pub old: &'a Snapshot,
    pub new: &'a Snapshot,
    pub old_containers: HashMap<&'a str, &'a Container>,
    pub new_containers: HashSet<&'a str>,
    pub old_cgroups: HashMap<(&'a str, &'a str), &'a Cgroup>,
    pub new_cgroups: HashSet<(&'a str, &'a str)>,
}

impl<'a> Pairs<'a> {
    pub fn new(old: &'a Snapshot, new: &'a Snapshot) -> Pairs<'a> {
        let cgroup_key = |c: &'a Cgroup| (c.hierarchy.as_str(), c.path.as_str());
        Pairs {
            old,
            new,
            old_containers: old.containers.iter().map(|c| (c.key(), c)).collect(),
            new_containers: new.containers.iter().map(Container::key).collect(),
            old_cgroups: old.cgroups.iter().map(|c| (cgroup_key(c), c)).collect(),
            new_cgroups: new.cgroups.iter().map(cgroup_key).collect(),
        }
    }

    /// `cg`'s group in the old snapshot.
    pub fn old_cgroup(&self, cg: &Cgroup) -> Option<&'a Cgroup> {
        self.old_cgroups
            .get(&(cg.hierarchy.as_str(), cg.path.as_str()))
            .copied()
    }
}
