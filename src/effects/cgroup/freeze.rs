//! Freeze and thaw: v1 freezer.state, else v2 cgroup.freeze; the state reached, and why it may
//! not be the one asked. A container whose runtime can pause it (Docker, podman) is paused and
//! unpaused through the runtime ([`RuntimePause`]), so that the runtime's state agrees with the
//! kernel's; the freezer file is written directly only when the runtime already says what is
//! asked (then it is the kernel that disagrees), or with `--direct`.

use super::control::{
    is_live, list_files, parent_path, process_cgroups, read_control, write_control,
};
use super::error::CgroupError;
use super::txn::{TakeBack, Transaction};
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
    /// How it was done when not by writing the file (through a runtime's API, or directly while
    /// a runtime will disagree).
    pub notes: Vec<String>,
}

/// A container runtime that pauses and unpauses its containers itself (Docker's and podman's
/// Engine API: POST /containers/{id}/pause and /unpause), so that its own state follows.
pub trait RuntimePause {
    /// The runtime's name for messages ("Docker", "podman").
    fn name(&self) -> &str;
    /// Whether the runtime says the container is paused.
    fn is_paused(&self) -> Result<bool, CgroupError>;
    /// Pause (`true`) or unpause the container.
    fn set_paused(&self, paused: bool) -> Result<(), CgroupError>;
    /// How the journal's change is marked ([`Change::via`]): "docker-api", "podman-api".
    fn via(&self) -> &'static str;
    /// The journal's record of the call (`{"id", "old": {"Paused"}, "new": {"Paused"}}`, with
    /// the runtime), from which undo makes the opposite call.
    fn record(&self, paused: bool) -> serde_json::Value;
    /// A runtime to put a pause back with, for a rollback.
    fn boxed(&self) -> Box<dyn RuntimePause>;
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
    /// to 2 s for the state to settle and reports the state reached. With a `runtime`, the
    /// container is paused or unpaused through it (see the module documentation).
    pub fn freeze(
        &self,
        target: &str,
        locs: &[Location],
        freeze: bool,
        runtime: Option<&dyn RuntimePause>,
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
        let (via, notes) = match runtime {
            Some(rt) => through_runtime(&mut tx, rt, &loc, file, freeze)?,
            None => {
                write_file(&mut tx, &loc, file, freeze)?;
                (None, Vec::new())
            }
        };
        let state = wait_state(&loc, file, freeze)?;
        if freeze && state != "FROZEN" {
            if via.is_some() {
                let e = CgroupError::Conflict {
                    what: format!(
                        "{}: not every task stopped within 2 s (state {state})",
                        loc.label()
                    ),
                };
                return Err(tx.abort(e));
            }
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
                old,
                new: now,
                pid: None,
                start: None,
                rule: None,
                via: via.map(str::to_string),
            };
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
            notes,
        })
    }
}

/// Pause or unpause through the runtime when it says otherwise than asked (its call taken back
/// if the rest fails, and recorded for undo); when it already says what is asked, the kernel is
/// the one that disagrees: the file is written to bring it in line. Returns how the change was
/// made ([`Change::via`]) and what to tell the admin.
fn through_runtime(
    tx: &mut Transaction,
    rt: &dyn RuntimePause,
    loc: &Location,
    file: &'static str,
    freeze: bool,
) -> Result<(Option<&'static str>, Vec<String>), CgroupError> {
    let name = rt.name();
    let (call, word) = if freeze {
        ("pause", "paused")
    } else {
        ("unpause", "running")
    };
    if rt.is_paused()? == freeze {
        let want = if freeze { "FROZEN" } else { "THAWED" };
        if read_state(loc, file)? == want {
            return Ok((None, Vec::new()));
        }
        write_file(tx, loc, file, freeze)?;
        return Ok((
            None,
            vec![format!(
                "{name} already said {word}: {file} written directly so that the kernel agrees"
            )],
        ));
    }
    rt.set_paused(freeze)?;
    tx.made(PauseBack {
        rt: rt.boxed(),
        paused: !freeze,
    });
    tx.record_api(rt.record(freeze));
    Ok((
        Some(rt.via()),
        vec![format!(
            "done through {name}'s API ({call}), so {name} says {word} too"
        )],
    ))
}

/// Write the freezer file, keeping how to put back what it held.
fn write_file(
    tx: &mut Transaction,
    loc: &Location,
    file: &'static str,
    freeze: bool,
) -> Result<(), CgroupError> {
    let old = read_control(loc, file)?;
    write_control(loc, file, freezer_content(file, freeze))?;
    tx.made(FreezerBack {
        loc: loc.clone(),
        file,
        old,
    });
    Ok(())
}

/// A pause or unpause made through a runtime: the opposite call puts it back.
struct PauseBack {
    rt: Box<dyn RuntimePause>,
    /// What the runtime said before.
    paused: bool,
}

impl TakeBack for PauseBack {
    fn take_back(&self) -> Result<(), String> {
        self.rt
            .set_paused(self.paused)
            .map_err(|e| format!("{} stays as it was told: {e}", self.rt.name()))
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
