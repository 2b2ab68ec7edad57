//! `set`: limits written all or nothing, as planned by [`crate::policy::limits`] from the values
//! read under the journal's lock.

use super::control::{list_files, parent_path, read_control};
use super::error::CgroupError;
use super::txn::{Written, check_expected};
use super::{CgroupWriter, Location};
use crate::effects::journal::{Action, JournalEntry};
use crate::policy::limits::{self, Assignment, Current, Place};

/// The outcome of a set: what changed (or would, with a dry run), and writes that were skipped
/// because the value was already in place.
#[derive(Debug, Clone, Default)]
pub struct SetOutcome {
    pub written: Vec<Written>,
    pub unchanged: Vec<Written>,
    pub dry_run: bool,
    pub entry: Option<JournalEntry>,
    /// How it was applied when that is worth saying (through Docker's API, keys it could not
    /// take written directly).
    pub notes: Vec<String>,
}

/// The places of `locs` for planning.
fn places(locs: &[Location]) -> Result<Vec<Place>, CgroupError> {
    locs.iter()
        .map(|l| {
            Ok(Place {
                hierarchy: l.hierarchy.clone(),
                version: l.version,
                files: list_files(l)?,
            })
        })
        .collect()
}

/// Current values, read from the kernel at planning time.
struct Live<'a> {
    locs: &'a [Location],
}

impl Current for Live<'_> {
    fn get(&self, hierarchy: &str, file: &str) -> Option<String> {
        let loc = self.locs.iter().find(|l| l.hierarchy == hierarchy)?;
        read_control(loc, file).ok()
    }

    fn parent_list(&self, hierarchy: &str, file: &str) -> Option<String> {
        let loc = self.locs.iter().find(|l| l.hierarchy == hierarchy)?;
        let parent = parent_path(&loc.path)?;
        let parent = Location {
            path: parent,
            ..loc.clone()
        };
        // v2 children stay within the parent's effective set; v1 within its configured set.
        let effective = format!("{file}.effective");
        if loc.version == 2 {
            read_control(&parent, &effective).ok()
        } else {
            read_control(&parent, file).ok()
        }
    }
}

/// The root cgroup's files are the host's own defaults (and v2 has no limits there): nsview
/// changes cgroups below it.
fn refuse_root<'a>(mut locs: impl Iterator<Item = &'a Location>) -> Result<(), CgroupError> {
    if locs.any(|l| l.path == "/") {
        return Err(CgroupError::refused(
            "refusing to change the root cgroup (the host's defaults): give a cgroup below it, or \
             a process that is in one",
        ));
    }
    Ok(())
}

impl CgroupWriter {
    /// Plan `assignments` for `locs` without writing: the old value of each file and the content
    /// that would be written. A plan that would write the root cgroup is refused.
    pub fn plan(
        &self,
        locs: &[Location],
        assignments: &[Assignment],
    ) -> Result<Vec<Written>, CgroupError> {
        let places = places(locs)?;
        let writes = limits::plan(assignments, &places, &Live { locs })?;
        let planned = writes
            .into_iter()
            .map(|w| {
                let loc = locs
                    .iter()
                    .find(|l| l.hierarchy == w.hierarchy)
                    .cloned()
                    .ok_or_else(|| CgroupError::Unsupported {
                        what: format!("no location for hierarchy {}", w.hierarchy),
                    })?;
                let old = read_control(&loc, &w.file)?;
                Ok(Written {
                    location: loc,
                    now: w.content.clone(),
                    write: w,
                    old,
                })
            })
            .collect::<Result<Vec<Written>, CgroupError>>()?;
        refuse_root(planned.iter().map(|w| &w.location))?;
        Ok(planned)
    }

    /// Apply `assignments` to `locs` all or nothing: validate, read old values, write in order,
    /// re-read each; on a failure, write the old values back (newest first) and report both.
    /// Journaled as one entry. `dry_run` stops after planning.
    pub fn set(
        &self,
        target: &str,
        locs: &[Location],
        assignments: &[Assignment],
        dry_run: bool,
    ) -> Result<SetOutcome, CgroupError> {
        self.set_expecting(target, locs, assignments, dry_run, None)
    }

    /// [`CgroupWriter::set`], writing only if the plan made under the lock is `expect` (the
    /// writes of a preview the admin confirmed).
    pub fn set_expecting(
        &self,
        target: &str,
        locs: &[Location],
        assignments: &[Assignment],
        dry_run: bool,
        expect: Option<&[super::PlannedKey]>,
    ) -> Result<SetOutcome, CgroupError> {
        // The lock first, so that the old values read for the plan are the ones replaced: two
        // writers (the view and a command) cannot journal the same old value.
        let tx = if dry_run {
            None
        } else {
            Some(self.begin("set")?)
        };
        let planned = self.plan(locs, assignments)?;
        let (unchanged, todo): (Vec<Written>, Vec<Written>) =
            planned.iter().cloned().partition(Written::is_in_place);
        let Some(mut tx) = tx else {
            return Ok(SetOutcome {
                written: todo,
                unchanged,
                dry_run: true,
                ..SetOutcome::default()
            });
        };
        check_expected(expect, &planned)?;
        let done = tx.write_in_order(todo)?;
        let entry = tx.commit(
            Action::Set,
            target,
            done.iter().map(Written::change).collect(),
            None,
        )?;
        Ok(SetOutcome {
            written: done,
            unchanged,
            dry_run: false,
            entry,
            notes: Vec::new(),
        })
    }
}
