//! Freeze and thaw: v1 freezer.state, else v2 cgroup.freeze; the state reached, and why it may
//! not be the one asked.

use super::control::{
    is_live, list_files, parent_path, process_cgroups, read_control, write_control,
};
use super::error::CgroupError;
use super::txn::TakeBack;
use super::{CgroupWriter, Location};
use crate::effects::journal::{Action, Change, JournalEntry};
use crate::sys::Roots;
use std::time::{Duration, Instant};

/// Result of a freeze or thaw.
#[derive(Debug, Clone)]
pub struct FreezeOutcome {
    pub location: Location,
    pub file: &'static str,
    pub old: String,
    /// FROZEN, FREEZING or THAWED.
    pub state: String,
    /// v1: an ancestor is frozen, so this group stays frozen whatever it is told.
    pub parent_frozen: bool,
    pub entry: Option<JournalEntry>,
}

impl FreezeOutcome {
    /// The state the kernel reached (and why, when it is not the one asked), for the CLI and
    /// the view alike.
    pub fn describe(&self, freeze: bool) -> Vec<String> {
        let want = if freeze { "FROZEN" } else { "THAWED" };
        let mut lines = vec![format!(
            "{} {}: {} -> {}",
            self.location.label(),
            self.file,
            self.old,
            self.state
        )];
        if self.state != want {
            lines.push(if self.parent_frozen {
                "still frozen: an ancestor cgroup is frozen".to_string()
            } else {
                format!("not {want} after 2 s: some tasks have not stopped yet")
            });
        }
        lines
    }
}

/// The freezer file written: its old content goes back.
struct FreezerBack {
    loc: Location,
    file: &'static str,
    old: String,
}

impl TakeBack for FreezerBack {
    fn take_back(&self) -> Result<(), String> {
        write_control(&self.loc, self.file, &self.old).map_err(|e| e.to_string())
    }
}

impl CgroupWriter {
    /// Freeze (or thaw) the cgroup at `locs`: v1 freezer.state, else v2 cgroup.freeze; waits up
    /// to 2 s for the state to settle and reports the state reached.
    pub fn freeze(
        &self,
        target: &str,
        locs: &[Location],
        freeze: bool,
    ) -> Result<FreezeOutcome, CgroupError> {
        let verb = if freeze { "freeze" } else { "thaw" };
        let (loc, file) = freezer_of(locs).ok_or_else(|| CgroupError::Unsupported {
            what: format!(
                "{target}: no freezer here (neither a v1 freezer hierarchy with this cgroup nor a \
                 v2 cgroup.freeze; the root cgroup cannot be frozen)"
            ),
        })?;
        if freeze && holds_self(&loc) {
            return Err(CgroupError::refused(format!(
                "refusing to freeze {}: nsview itself runs in it (freezing it would stop nsview \
                 and this terminal); freeze a cgroup below it",
                loc.label()
            )));
        }
        let mut tx = self.begin(verb)?;
        // The journal keeps the file's own words (freezer.state THAWED/FROZEN, cgroup.freeze
        // 0/1), so that undo can compare and write them back as they are.
        let old = read_control(&loc, file)?;
        let old_state = read_state(&loc, file)?;
        write_control(&loc, file, freezer_content(file, freeze))?;
        let state = wait_state(&loc, file, freeze)?;
        if freeze && state != "FROZEN" {
            return Err(thaw_half_frozen(&loc, file, &state));
        }
        let now = read_control(&loc, file)?;
        let entry = if old == now {
            None
        } else {
            let change = Change {
                hierarchy: loc.hierarchy.clone(),
                cgroup: loc.path.clone(),
                file: file.to_string(),
                old: old.clone(),
                new: now,
                pid: None,
                start: None,
                rule: None,
                via: None,
            };
            tx.made(FreezerBack {
                loc: loc.clone(),
                file,
                old,
            });
            let action = if freeze { Action::Freeze } else { Action::Thaw };
            tx.commit(action, target, vec![change], None)?
        };
        let parent_frozen = ancestor_frozen(&loc, file);
        Ok(FreezeOutcome {
            location: loc,
            file,
            old: old_state,
            state,
            parent_frozen,
            entry,
        })
    }
}

fn freezer_content(file: &str, freeze: bool) -> &'static str {
    match (file, freeze) {
        ("freezer.state", true) => "FROZEN",
        ("freezer.state", false) => "THAWED",
        (_, true) => "1",
        (_, false) => "0",
    }
}

/// A task that does not stop (uninterruptible sleep on NFS, say) leaves the group half-frozen:
/// put it back rather than leave it so.
fn thaw_half_frozen(loc: &Location, file: &'static str, state: &str) -> CgroupError {
    let back = write_control(loc, file, freezer_content(file, false))
        .and_then(|()| wait_state(loc, file, false));
    CgroupError::Conflict {
        what: match back {
            Ok(_) => format!(
                "{}: not every task stopped within 2 s (state {state}; one in uninterruptible \
                 sleep?); thawed again, nothing changed",
                loc.label()
            ),
            Err(e) => format!(
                "{}: not every task stopped within 2 s (state {state}), and thawing again \
                 failed: {e}",
                loc.label()
            ),
        },
    }
}

/// The freezer of `locs`: the v1 freezer hierarchy's freezer.state, else v2 cgroup.freeze.
fn freezer_of(locs: &[Location]) -> Option<(Location, &'static str)> {
    let v1 = locs.iter().find(|l| {
        l.version == 1 && list_files(l).is_ok_and(|f| f.iter().any(|f| f == "freezer.state"))
    });
    if let Some(l) = v1 {
        return Some((l.clone(), "freezer.state"));
    }
    locs.iter()
        .find(|l| {
            l.version == 2 && list_files(l).is_ok_and(|f| f.iter().any(|f| f == "cgroup.freeze"))
        })
        .map(|l| (l.clone(), "cgroup.freeze"))
}

/// Whether nsview's own process is in `loc` or below it (freezing that would stop nsview).
/// On a fixture tree (not the live /proc) the answer is no.
fn holds_self(loc: &Location) -> bool {
    if !is_live(loc) {
        return false;
    }
    let Ok(own) = process_cgroups(&Roots::default(), std::process::id() as i32) else {
        return false;
    };
    own.get(&loc.hierarchy).is_some_and(|mine| {
        loc.path == "/" || *mine == loc.path || mine.starts_with(&format!("{}/", loc.path))
    })
}

/// A frozen ancestor keeps a group frozen whatever it is told: v1 freezer.parent_freezing, v2
/// cgroup.freeze of any ancestor.
fn ancestor_frozen(loc: &Location, file: &str) -> bool {
    if file == "freezer.state" {
        return read_control(loc, "freezer.parent_freezing").is_ok_and(|s| s.trim() == "1");
    }
    let mut path = parent_path(&loc.path);
    while let Some(p) = path {
        let up = Location {
            path: p.clone(),
            ..loc.clone()
        };
        if read_control(&up, "cgroup.freeze").is_ok_and(|s| s.trim() == "1") {
            return true;
        }
        path = parent_path(&p);
    }
    false
}

/// The freezer state as a word: v1 freezer.state, or v2 "FROZEN"/"THAWED" from cgroup.events
/// `frozen` (falling back to cgroup.freeze).
fn read_state(loc: &Location, file: &str) -> Result<String, CgroupError> {
    if file == "freezer.state" {
        return read_control(loc, file);
    }
    let events = read_control(loc, "cgroup.events").unwrap_or_default();
    let frozen = events
        .lines()
        .find_map(|l| l.strip_prefix("frozen "))
        .map(|v| v.trim() == "1");
    let frozen = match frozen {
        Some(f) => f,
        None => read_control(loc, file)?.trim() == "1",
    };
    Ok(if frozen { "FROZEN" } else { "THAWED" }.into())
}

/// Poll the state for up to 2 s until it settles (v1 passes through FREEZING).
pub(crate) fn wait_state(loc: &Location, file: &str, freeze: bool) -> Result<String, CgroupError> {
    let want = if freeze { "FROZEN" } else { "THAWED" };
    let start = Instant::now();
    loop {
        let state = read_state(loc, file)?;
        if state == want || start.elapsed() > Duration::from_secs(2) {
            return Ok(state);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}
