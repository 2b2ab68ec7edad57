//! Moving a process into another cgroup (cgroup.procs), in one or several hierarchies, proved by
//! re-reading /proc/PID/cgroup.

use super::control::{frozen, process_cgroups, start_time, write_control};
use super::error::CgroupError;
use super::txn::TakeBack;
use super::{CgroupWriter, Location};
use crate::effects::journal::{Action, Change, JournalEntry};
use crate::sys::Roots;

/// Result of a move.
#[derive(Debug, Clone)]
pub struct MoveOutcome {
    pub pid: i32,
    /// The process's command name.
    pub comm: String,
    pub changes: Vec<Change>,
    /// Hierarchies where the process already was in the destination.
    pub unchanged: Vec<Location>,
    pub entry: Option<JournalEntry>,
}

impl MoveOutcome {
    /// Per hierarchy: where the process was and is now, or that it was already there.
    pub fn describe(&self) -> Vec<String> {
        self.changes
            .iter()
            .map(|c| format!("{}: {} -> {}", c.hierarchy, c.old, c.new))
            .chain(
                self.unchanged
                    .iter()
                    .map(|l| format!("{}: already in {}", l.hierarchy, l.path)),
            )
            .collect()
    }
}

/// A process moved in one hierarchy: it goes back to the cgroup it was in.
pub(crate) struct MoveBack {
    pub loc: Location,
    /// The path it was in.
    pub from: String,
    pub pid: i32,
}

impl TakeBack for MoveBack {
    fn take_back(&self) -> Result<(), String> {
        let back = Location {
            path: self.from.clone(),
            ..self.loc.clone()
        };
        write_control(&back, "cgroup.procs", &self.pid.to_string()).map_err(|e| e.to_string())
    }
}

impl CgroupWriter {
    /// Move process `pid` into `dests` (one location per hierarchy). Re-reads /proc/PID/cgroup
    /// to prove it; on a failure moves it back where it was in the hierarchies already done.
    pub fn move_process(
        &self,
        roots: &Roots,
        target: &str,
        pid: i32,
        dests: &[Location],
    ) -> Result<MoveOutcome, CgroupError> {
        let mut tx = self.begin("move")?;
        let before = process_cgroups(roots, pid)?;
        refuse_frozen_destination(pid, &before, dests)?;
        let mut done: Vec<(Location, String)> = Vec::new();
        let mut unchanged = Vec::new();
        for dest in dests {
            let old = before.get(&dest.hierarchy).cloned().unwrap_or_default();
            if old == dest.path {
                unchanged.push(dest.clone());
                continue;
            }
            if let Err(e) = write_control(dest, "cgroup.procs", &pid.to_string()) {
                return Err(tx.abort(e));
            }
            tx.made(MoveBack {
                loc: dest.clone(),
                from: old.clone(),
                pid,
            });
            done.push((dest.clone(), old));
        }
        let after = process_cgroups(roots, pid).map_err(|e| tx.abort(e))?;
        let changes: Vec<Change> = done
            .iter()
            .map(|(loc, old)| Change {
                hierarchy: loc.hierarchy.clone(),
                cgroup: loc.path.clone(),
                file: "cgroup.procs".into(),
                old: old.clone(),
                new: after.get(&loc.hierarchy).cloned().unwrap_or_default(),
                pid: Some(pid),
                start: start_time(roots, pid),
                rule: None,
                via: None,
            })
            .collect();
        let entry = tx.commit(Action::Move, target, changes.clone(), None)?;
        Ok(MoveOutcome {
            pid,
            comm: String::new(),
            changes,
            unchanged,
            entry,
        })
    }
}

/// A process moved into a frozen cgroup stops there (in uninterruptible sleep, for v1) until the
/// group is thawed: refused before anything is written, naming the group to thaw.
fn refuse_frozen_destination(
    pid: i32,
    before: &std::collections::BTreeMap<String, String>,
    dests: &[Location],
) -> Result<(), CgroupError> {
    for dest in dests {
        if before.get(&dest.hierarchy) == Some(&dest.path) {
            continue;
        }
        if let Some(f) = frozen(dest) {
            return Err(CgroupError::refused(format!(
                "refusing to move {pid} into {}:{}: it is frozen ({} {}) and the process would \
                 stop with it; thaw it first: nsview thaw {}",
                dest.hierarchy, dest.path, f.file, f.state, f.path
            )));
        }
    }
    Ok(())
}
