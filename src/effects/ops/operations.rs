//! The operations, over a writer (journal, read-only switch) and the roots.

use super::{Operation, Outcome, Places};
use crate::effects::cgroup::{
    CgroupError, CgroupWriter, PlannedKey, RuntimePause, UndoForce, UndoPick,
};
use crate::effects::docker::{self, DockerTarget};
use crate::effects::runtime_pause::{self, EngineApi};
use crate::model::Hierarchy;
use crate::model::containers::Runtime;
use crate::policy::devices::DeviceRuleSpec;
use crate::policy::limits::Assignment;
use crate::policy::process::check_movable;
use crate::sys::parse::PF_KTHREAD;
use crate::sys::{Roots, procfs};

/// How a set is made.
#[derive(Debug, Clone, Default)]
pub struct SetMode {
    /// Plan only: read the old values, write nothing.
    pub dry_run: bool,
    /// For a Docker container: write the cgroup files instead of asking Docker's API.
    pub direct: bool,
    /// The writes of a preview the admin confirmed: anything else is refused.
    pub expect: Option<Vec<PlannedKey>>,
}

/// The operations nsview makes, with the writer and roots they use.
#[derive(Debug, Clone, Copy)]
pub struct Operations<'a> {
    pub writer: &'a CgroupWriter,
    pub roots: &'a Roots,
}

impl Operations<'_> {
    /// An operation the TUI asked for.
    pub fn apply(&self, op: Operation) -> Result<Outcome, CgroupError> {
        match op {
            Operation::Set {
                at,
                assignments,
                preview,
                expect,
            } => {
                let mode = SetMode {
                    dry_run: preview,
                    direct: false,
                    expect,
                };
                self.set(&at, &assignments, &mode)
            }
            Operation::Freeze { at, freeze } => self.freeze(&at, freeze, false),
            Operation::Move { at, pid } => self.move_process(&at, pid),
            Operation::Device { at, allow, rule } => self.device_rule(&at, allow, &rule),
            Operation::Undo {
                preview: true,
                hierarchies,
                pick,
                ..
            } => self.undo_preview(&hierarchies, pick),
            Operation::Undo {
                hierarchies,
                pick,
                skip_gone,
                ..
            } => {
                let force = UndoForce {
                    skip_gone,
                    overwrite: false,
                };
                self.undo(&hierarchies, force, pick)
            }
        }
    }

    /// Set limits: through Docker's API for a Docker container (unless `direct`), else by
    /// writing the cgroup files.
    pub fn set(
        &self,
        at: &Places,
        assignments: &[Assignment],
        mode: &SetMode,
    ) -> Result<Outcome, CgroupError> {
        let locs = at.locations(self.roots);
        let docker = at.docker.as_ref().map(|id| DockerTarget {
            id: id.clone(),
            sock: self.roots.docker_sock(),
        });
        let (w, target, expect) = (self.writer, &at.target, mode.expect.as_deref());
        let mut outcome = match &docker {
            Some(d) if !mode.direct => {
                w.set_docker(d, target, &locs, assignments, mode.dry_run, expect)?
            }
            _ => w.set_expecting(target, &locs, assignments, mode.dry_run, expect)?,
        };
        if docker.is_some() && mode.direct {
            outcome.notes.push(
                "written to the cgroup files directly (--direct): Docker's record (docker \
                 inspect, restarts) still has the old values"
                    .into(),
            );
        }
        Ok(Outcome::Set(outcome))
    }

    /// Freeze (`freeze`) or thaw the target's cgroup: a Docker or podman container through its
    /// runtime's API (pause, unpause), so that the runtime agrees, unless `direct`, which writes
    /// the freezer file and says that the runtime will disagree.
    pub fn freeze(&self, at: &Places, freeze: bool, direct: bool) -> Result<Outcome, CgroupError> {
        let engine = [(Runtime::Docker, &at.docker), (Runtime::Podman, &at.podman)]
            .into_iter()
            .find_map(|(rt, id)| EngineApi::of(self.roots, rt, id.as_deref()?));
        let runtime = engine.as_ref().filter(|_| !direct);
        let mut outcome = self.writer.freeze(
            &at.target,
            &at.locations(self.roots),
            freeze,
            runtime.map(|e| e as &dyn RuntimePause),
        )?;
        if let Some(e) = engine.filter(|_| direct) {
            let (name, cmd) = (e.name(), e.runtime.name());
            outcome.notes.push(format!(
                "written directly (--direct): {name} was not told, so `{cmd} ps` and `{cmd} \
                 {}` disagree with the kernel",
                if freeze { "unpause" } else { "pause" }
            ));
        }
        Ok(Outcome::Freeze { freeze, outcome })
    }

    /// Move process `pid` into the target's cgroups; kernel threads stay where they are.
    pub fn move_process(&self, at: &Places, pid: i32) -> Result<Outcome, CgroupError> {
        let stat = procfs::read_pid_stat(self.roots, pid).map_err(|_| CgroupError::Conflict {
            what: format!("no process {pid}"),
        })?;
        check_movable(pid, &stat.comm, stat.flags & PF_KTHREAD != 0)
            .map_err(|what| CgroupError::Conflict { what })?;
        let locs = at.locations(self.roots);
        let mut outcome = self
            .writer
            .move_process(self.roots, &at.target, pid, &locs)?;
        outcome.comm = stat.comm;
        Ok(Outcome::Move(outcome))
    }

    /// Add a v1 device rule (allow or deny).
    pub fn device_rule(
        &self,
        at: &Places,
        allow: bool,
        rule: &DeviceRuleSpec,
    ) -> Result<Outcome, CgroupError> {
        let locs = at.locations(self.roots);
        let outcome = self.writer.device_rule(&at.target, &locs, allow, rule)?;
        Ok(Outcome::Devices(outcome))
    }

    /// Revert a journal entry (see [`UndoPick`]); `force` skips what is gone and restores files
    /// that changed since.
    pub fn undo(
        &self,
        hierarchies: &[Hierarchy],
        force: UndoForce,
        pick: UndoPick,
    ) -> Result<Outcome, CgroupError> {
        let sock = self.roots.docker_sock();
        // A pause goes back through the runtime that made it; a set's update through Docker's.
        let through_docker = |api: &serde_json::Value| {
            runtime_pause::revert(api, self.roots).unwrap_or_else(|| docker::revert(api, &sock))
        };
        let outcome = self
            .writer
            .undo(self.roots, hierarchies, force, pick, &through_docker)?;
        Ok(Outcome::Undo(outcome))
    }

    /// The entry undo would revert and what of it is gone, without writing (refused when
    /// read-only, as undo is, and when a file changed since nsview wrote it).
    pub fn undo_preview(
        &self,
        hierarchies: &[Hierarchy],
        pick: UndoPick,
    ) -> Result<Outcome, CgroupError> {
        self.writer.check_writable("undo")?;
        let (entry, gone) = self.writer.undo_preview(self.roots, hierarchies, pick)?;
        Ok(Outcome::UndoPreview { entry, gone })
    }
}
