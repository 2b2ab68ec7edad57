//! Where a TARGET given on the command line lands: its cgroups in each hierarchy of a fresh
//! snapshot, and the Docker container behind it, if any.

use super::Places;
use crate::effects::cgroup::CgroupError;
use crate::model::containers::Runtime;
use crate::model::target::{Target, resolve};
use crate::model::{Hierarchy, Snapshot};

/// The places a TARGET names (a PID's cgroups, a cgroup path in every hierarchy that has it, a
/// container's own cgroups), with the Docker container it is, when it is one.
pub fn places_of_target(snap: &Snapshot, target: &str) -> Result<Places, CgroupError> {
    let refused = |what: String| CgroupError::Conflict { what };
    let pairs = |f: &dyn Fn(&Hierarchy) -> Option<String>| -> Vec<(Hierarchy, String)> {
        snap.hierarchies
            .iter()
            .filter_map(|h| f(h).map(|path| (h.clone(), path)))
            .collect()
    };
    let places = match resolve(snap, target)? {
        Target::Process(pid) => match snap.processes.get(&pid) {
            Some(p) => pairs(&|h| p.cgroups.get(h.key.as_str()).map(|s| s.to_string())),
            None => Vec::new(),
        },
        Target::Cgroup(path) => pairs(&|h| snap.cgroup(&h.key, &path).map(|_| path.clone())),
        Target::Container(key) => {
            let Some(c) = snap.container(&key) else {
                return Err(refused(format!("{target}: the container vanished")));
            };
            pairs(&|h| c.cgroups.get(&h.key).cloned())
        }
        // The host's cgroups are the root of each hierarchy.
        Target::Host => pairs(&|h| snap.cgroup(&h.key, "/").map(|_| "/".to_string())),
        Target::Namespace(_) => {
            return Err(refused(format!(
                "{target} is a namespace, which has no cgroup: give a PID, a cgroup path or a \
                 container"
            )));
        }
    };
    if places.is_empty() {
        return Err(refused(format!("{target}: no cgroup hierarchy has it")));
    }
    Ok(Places {
        label: target.to_string(),
        target: target.to_string(),
        places,
        docker: runtime_id_of(snap, target, Runtime::Docker),
        podman: runtime_id_of(snap, target, Runtime::Podman),
    })
}

impl Places {
    /// Only the hierarchy named `name` (its key, or one of its controllers).
    pub fn only_hierarchy(mut self, name: &str) -> Result<Places, CgroupError> {
        self.places
            .retain(|(h, _)| h.key == name || h.key.split(',').any(|c| c == name));
        if self.places.is_empty() {
            return Err(CgroupError::Conflict {
                what: format!("{} is not in a hierarchy named {name}", self.target),
            });
        }
        Ok(self)
    }
}

/// The id of the `runtime` container (Docker's, podman's) a TARGET names, when it names one that
/// runtime knows: by name or id, by its cgroup path (/docker/<id>), or by a process in it (whose
/// cgroups are the container's), so that every way of naming it keeps the runtime's record right.
fn runtime_id_of(snap: &Snapshot, target: &str, runtime: Runtime) -> Option<String> {
    let c = match resolve(snap, target).ok()? {
        Target::Container(key) => snap.container(&key)?,
        Target::Cgroup(path) => snap
            .containers
            .iter()
            .find(|c| c.cgroup.as_deref() == Some(path.as_str()))?,
        Target::Process(pid) => {
            let c = snap.container_of(pid)?;
            let p = snap.processes.get(&pid)?;
            let same = c
                .cgroups
                .iter()
                .all(|(k, path)| p.cgroups.get(k.as_str()).is_some_and(|q| **q == **path));
            if !same {
                return None;
            }
            c
        }
        Target::Namespace(_) | Target::Host => return None,
    };
    (c.runtime == Some(runtime)).then(|| c.id.clone().unwrap_or_default())
}
