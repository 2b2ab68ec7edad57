//! Undo: revert a journal entry (the newest not undone, or one the admin names), as one
//! transaction. Every file must still hold what nsview left; what vanished since (a removed
//! cgroup, an exited process, a container Docker no longer knows) stops the undo unless forced,
//! which skips it and, when nothing is left to revert, marks the entry skipped so that later
//! undos reach older entries.

use super::control::{process_cgroups, read_control, start_time, write_control};
use super::devices::{revert_devices, same_devices};
use super::error::CgroupError;
use super::freeze::wait_state;
use super::txn::{TakeBack, Transaction, restore_file, same_value};
use super::{CgroupWriter, Location};
use crate::effects::journal::{self, Action, Change, EntryState, JournalEntry};
use crate::model::Hierarchy;
use crate::model::containers::cgroup_path::is_id;
use crate::model::format::printable;
use crate::policy::devices::DeviceRuleSpec;
use crate::policy::limits;
use crate::sys::Roots;
use crate::sys::cgroup_control::check_cgroup_path;
use std::path::Path;

/// Result of an undo.
#[derive(Debug, Clone)]
pub struct UndoOutcome {
    pub undone: JournalEntry,
    pub reverted: Vec<Change>,
    pub entry: Option<JournalEntry>,
    /// What was put back another way (Docker could not).
    pub notes: Vec<String>,
    /// What was skipped because it had vanished (--force). When nothing was reverted, the entry
    /// is now "skipped".
    pub skipped: Vec<String>,
}

/// Which entry an undo reverts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UndoPick {
    /// The newest entry still done (`nsview undo`).
    Newest,
    /// The newest entry still done, which must be this one: the admin confirmed it in a preview
    /// and must not get another that arrived since (the TUI's `u`).
    Confirmed(u64),
    /// This entry, by its number in `nsview journal` (`nsview undo N`).
    Entry(u64),
}

/// What an undo may do beyond the plain case.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UndoForce {
    /// Skip what vanished (a removed cgroup, an exited process, a container Docker answers 404
    /// for) instead of refusing.
    pub skip_gone: bool,
    /// Restore files that changed since nsview wrote them.
    pub overwrite: bool,
}

impl UndoForce {
    /// `nsview undo --force`: both.
    pub const ALL: UndoForce = UndoForce {
        skip_gone: true,
        overwrite: true,
    };
}

/// How the changes made through Docker's API are put back (one update with the old body): given
/// by the caller, which knows Docker. A container Docker no longer knows is a vanished error.
pub type ApiRevert<'a> = &'a dyn Fn(&serde_json::Value) -> Result<(), CgroupError>;

/// The files undo may write: the ones nsview writes (a journal is data, not commands).
const UNDOABLE_FILES: &[&str] = &[
    "cpu.shares",
    "cpu.weight",
    "cpu.max",
    "cpu.cfs_quota_us",
    "cpu.cfs_period_us",
    "cpuset.cpus",
    "cpuset.mems",
    "memory.limit_in_bytes",
    "memory.max",
    "memory.high",
    "memory.soft_limit_in_bytes",
    "memory.memsw.limit_in_bytes",
    "memory.swap.max",
    "pids.max",
    "freezer.state",
    "cgroup.freeze",
    "cgroup.procs",
    "devices.allow",
    "devices.deny",
];

/// "entry 7 (set web-1)": an entry as messages name it.
pub fn entry_label(entry: &JournalEntry) -> String {
    format!(
        "entry {} ({} {})",
        entry.id,
        entry.action.as_str(),
        printable(&entry.target)
    )
}

/// The entry to revert, found under the lock (see [`UndoPick`]), checked to be one nsview could
/// have written.
pub fn entry_to_undo(
    entries: &[JournalEntry],
    journal_path: &Path,
    pick: UndoPick,
) -> Result<JournalEntry, CgroupError> {
    let entry = match pick {
        UndoPick::Entry(id) => chosen_entry(entries, journal_path, id)?,
        UndoPick::Newest | UndoPick::Confirmed(_) => {
            let Some(entry) = journal::last_undoable(entries).cloned() else {
                return Err(CgroupError::refused(format!(
                    "nothing to undo (journal {})",
                    journal_path.display()
                )));
            };
            if let UndoPick::Confirmed(want) = pick
                && want != entry.id
            {
                return Err(CgroupError::refused(format!(
                    "the journal changed since: the newest change is now entry {} (not {want}); \
                     nothing undone, look again",
                    entry.id
                )));
            }
            entry
        }
    };
    check_entry(&entry).map_err(|why| {
        CgroupError::refused(format!(
            "journal {} entry {}: {why}; refusing to replay it (a journal is data, not commands)",
            journal_path.display(),
            entry.id
        ))
    })?;
    Ok(entry)
}

/// Entry `id`, which must be a change still done.
fn chosen_entry(
    entries: &[JournalEntry],
    journal_path: &Path,
    id: u64,
) -> Result<JournalEntry, CgroupError> {
    let Some(entry) = entries.iter().find(|e| e.id == id) else {
        return Err(CgroupError::refused(format!(
            "no entry {id} in the journal {} (nsview journal lists them)",
            journal_path.display()
        )));
    };
    if let Some(of) = entry.undo_of {
        return Err(CgroupError::refused(format!(
            "entry {id} is the undo of entry {of}: undo reverts changes, not undos"
        )));
    }
    let by = journal::undone_by(entries, id).unwrap_or_default();
    match journal::state_of(entries, id) {
        EntryState::Done => Ok(entry.clone()),
        state => Err(CgroupError::refused(format!(
            "{} is already {} (by entry {by}); nothing undone",
            entry_label(entry),
            state.as_str()
        ))),
    }
}

/// Everything undo would act on must be what nsview itself writes to a journal: known control
/// files, plain cgroup paths, a real PID, a device rule that parses, and a Docker record naming a
/// container id with plain values. Checked before anything is done.
pub(crate) fn check_entry(entry: &JournalEntry) -> Result<(), String> {
    for c in &entry.changes {
        check_change(entry.action, c)?;
    }
    match &entry.api {
        Some(api) => check_api_record(api),
        None => Ok(()),
    }
}

fn check_change(action: Action, c: &Change) -> Result<(), String> {
    // Only files nsview itself writes are replayed.
    if !UNDOABLE_FILES.contains(&c.file.as_str()) {
        return Err(format!("{:?} is not a file nsview writes", c.file));
    }
    let plain_name = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b','))
    };
    if !plain_name(&c.hierarchy) {
        return Err(format!(
            "hierarchy {:?} is not a hierarchy name",
            c.hierarchy
        ));
    }
    check_plain_cgroup(&c.cgroup)?;
    if let Some(via) = &c.via
        && !matches!(via.as_str(), "docker-api" | "podman-api")
    {
        return Err(format!("unknown way of writing {via:?}"));
    }
    match action {
        Action::Move => {
            if c.file != "cgroup.procs" || c.pid.is_none_or(|p| p <= 0) {
                return Err("a move without a PID".into());
            }
            check_plain_cgroup(&c.old)?;
        }
        Action::Devices => {
            let rule = c.rule.as_deref().unwrap_or_default();
            let (verb, spec) = rule.split_once(' ').unwrap_or(("", ""));
            if !matches!(verb, "allow" | "deny") || DeviceRuleSpec::parse(spec).is_err() {
                return Err(format!("device rule {rule:?} is not one nsview writes"));
            }
        }
        _ if c.pid.is_some() || c.rule.is_some() => {
            return Err("a PID or device rule in a change of a file".into());
        }
        _ => {}
    }
    Ok(())
}

fn check_plain_cgroup(path: &str) -> Result<(), String> {
    match check_cgroup_path(path) {
        Ok(_) => Ok(()),
        Err(_) => Err(format!("{path:?} is not a plain cgroup path")),
    }
}

/// The Docker part of an entry: `{"id": 64 hex digits, "old": {...}, "new": {...}}` with
/// HostConfig field names and numbers or CPU lists as values (the fields themselves are checked
/// again by the Docker writer).
fn check_api_record(api: &serde_json::Value) -> Result<(), String> {
    let id = api.get("id").and_then(serde_json::Value::as_str);
    if !id.is_some_and(is_id) {
        return Err("the Docker record does not name a container id (64 hex digits)".into());
    }
    let Some(obj) = api.as_object() else {
        return Err("the Docker record is not an object".into());
    };
    if obj
        .keys()
        .any(|k| !matches!(k.as_str(), "id" | "old" | "new" | "runtime"))
    {
        return Err("the Docker record has fields nsview does not write".into());
    }
    // A pause or unpause (freeze, thaw) names its runtime: Docker's or podman's API.
    if let Some(rt) = obj.get("runtime")
        && !matches!(rt.as_str(), Some("docker" | "podman"))
    {
        return Err("the record names a runtime nsview does not use".into());
    }
    for side in ["old", "new"] {
        let Some(body) = api.get(side).and_then(serde_json::Value::as_object) else {
            return Err(format!("the Docker record has no {side} body"));
        };
        // Paused (true or false) is a pause's record; the rest a set's HostConfig fields.
        let plain_value = |k: &str, v: &serde_json::Value| match v {
            serde_json::Value::Number(n) => n.is_i64(),
            serde_json::Value::Bool(_) => k == "Paused",
            serde_json::Value::String(s) => s
                .bytes()
                .all(|b| b.is_ascii_digit() || b == b',' || b == b'-'),
            _ => false,
        };
        if body
            .iter()
            .any(|(k, v)| !k.bytes().all(|b| b.is_ascii_alphanumeric()) || !plain_value(k, v))
        {
            return Err(format!(
                "the Docker record's {side} body holds what nsview does not write"
            ));
        }
    }
    Ok(())
}

/// A change to revert, at its location.
type Step = (Location, Change);

/// What the undo checks before writing anything.
struct Check<'a> {
    roots: &'a Roots,
    hierarchies: &'a [Hierarchy],
    entry: &'a JournalEntry,
    /// The whole journal, to name a later entry that changed the same file.
    entries: &'a [JournalEntry],
    force: UndoForce,
}

impl Check<'_> {
    /// Something vanished: stop, unless forced (then `skipped` says so).
    fn gone(
        &self,
        what: String,
        skipped: &mut Vec<String>,
        note: String,
    ) -> Result<(), CgroupError> {
        gone(self.entry, self.force, what, skipped, note)
    }

    fn location(&self, c: &Change) -> Option<Location> {
        let h = self.hierarchies.iter().find(|h| h.key == c.hierarchy)?;
        Some(Location {
            hierarchy: h.key.clone(),
            version: h.version,
            mount: self.roots.mount_path(Path::new(&h.mount)),
            path: c.cgroup.clone(),
        })
    }

    /// What `c`'s file (or process) holds now; None when it is gone.
    fn now(&self, loc: &Location, c: &Change) -> Result<Option<String>, CgroupError> {
        if self.entry.action == Action::Move {
            let pid = pid_of(c).map_err(|_| {
                CgroupError::refused(format!("entry {}: a move without a PID", self.entry.id))
            })?;
            let same_process = c
                .start
                .is_none_or(|s| start_time(self.roots, pid) == Some(s));
            let cg = process_cgroups(self.roots, pid)
                .ok()
                .filter(|_| same_process);
            return Ok(cg.map(|cg| cg.get(&c.hierarchy).cloned().unwrap_or_default()));
        }
        let file = if self.entry.action == Action::Devices {
            "devices.list"
        } else {
            c.file.as_str()
        };
        match read_control(loc, file) {
            Ok(now) => Ok(Some(now)),
            Err(e) if e.is_vanished() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Check first, write after: nothing is changed when any file moved on since (unless
    /// forced). The steps to revert, newest change first, and what was skipped.
    fn steps(&self) -> Result<(Vec<Step>, Vec<String>), CgroupError> {
        let mut steps = Vec::new();
        let mut skipped = Vec::new();
        for c in self.entry.changes.iter().rev() {
            // Only files nsview itself writes are replayed: the journal is data, not commands.
            check_change(self.entry.action, c).map_err(|why| {
                CgroupError::refused(format!(
                    "entry {}: {why}; refusing to replay it",
                    self.entry.id
                ))
            })?;
            let Some(loc) = self.location(c) else {
                let what = format!("hierarchy {} is not mounted any more", c.hierarchy);
                self.gone(what, &mut skipped, format!("{}: not mounted", c.hierarchy))?;
                continue;
            };
            let Some(now) = self.now(&loc, c)? else {
                let what = match c.pid {
                    Some(pid) if self.entry.action == Action::Move => {
                        format!("process {pid} has exited")
                    }
                    _ => format!("{} vanished", loc.label()),
                };
                self.gone(what.clone(), &mut skipped, what)?;
                continue;
            };
            self.check_unchanged(&loc, c, &now)?;
            steps.push((loc, c.clone()));
        }
        Ok((steps, skipped))
    }

    /// The file must still hold what nsview left, unless forced.
    fn check_unchanged(&self, loc: &Location, c: &Change, now: &str) -> Result<(), CgroupError> {
        let moved_on = match self.entry.action {
            Action::Move => now != c.new,
            Action::Devices => !same_devices(now, &c.new),
            _ => !same_value(&c.file, &c.new, now),
        };
        if !moved_on || self.force.overwrite {
            return Ok(());
        }
        let show = |v: &str| limits::annotate(&c.file, v).replace('\n', ", ");
        let later = self.later_change_of(c).map_or_else(String::new, |id| {
            format!(" (entry {id}, still done, changed it later: undo {id} first)")
        });
        Err(CgroupError::refused(format!(
            "entry {}: {} {} changed since nsview wrote it (now {}, nsview left {}){later}; \
             nothing undone (--force restores {} anyway)",
            self.entry.id,
            loc.label(),
            c.file,
            show(now),
            show(&c.new),
            show(&c.old)
        )))
    }

    /// The newest entry after this one, still done, that changed the same file (any device
    /// rule for devices, the same process for a move).
    fn later_change_of(&self, c: &Change) -> Option<u64> {
        let same = |d: &Change| {
            d.hierarchy == c.hierarchy
                && match self.entry.action {
                    Action::Move => d.pid == c.pid,
                    Action::Devices => d.cgroup == c.cgroup && d.file.starts_with("devices."),
                    _ => d.cgroup == c.cgroup && d.file == c.file,
                }
        };
        self.entries
            .iter()
            .rev()
            .filter(|e| e.id > self.entry.id && e.action != Action::Undo)
            .filter(|e| journal::state_of(self.entries, e.id) == EntryState::Done)
            .find(|e| e.changes.iter().any(same))
            .map(|e| e.id)
    }
}

/// Something vanished: stop, unless `force` skips what is gone (then `skipped` gets `note`).
fn gone(
    entry: &JournalEntry,
    force: UndoForce,
    what: String,
    skipped: &mut Vec<String>,
    note: String,
) -> Result<(), CgroupError> {
    if !force.skip_gone {
        return Err(CgroupError::refused(format!(
            "{}: {what}; nothing undone (nsview undo --force {} skips what is gone, reverts the \
             rest, and marks the entry skipped when nothing is left)",
            entry_label(entry),
            entry.id
        )));
    }
    skipped.push(note);
    Ok(())
}

fn pid_of(c: &Change) -> Result<i32, CgroupError> {
    c.pid
        .filter(|p| *p > 0)
        .ok_or_else(|| CgroupError::refused("a move without a PID"))
}

/// A change an undo made: reverting it again puts back what the undo found.
struct RevertBack {
    roots: Roots,
    action: Action,
    loc: Location,
    change: Change,
}

impl TakeBack for RevertBack {
    fn take_back(&self) -> Result<(), String> {
        if self.change.via.is_some() {
            return Err(format!(
                "{} stays as Docker's update left it",
                self.change.file
            ));
        }
        // `change.old` is what the file held before this undo: put it back.
        revert_one(&self.roots, self.action, &self.loc, &self.change)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

impl CgroupWriter {
    /// Revert a journal entry (see [`UndoPick`]). Every file must still hold what nsview left
    /// (else nothing is changed, unless `force.overwrite`); things that vanished since (a removed
    /// cgroup, an exited process, a container Docker no longer knows) stop the undo unless
    /// `force.skip_gone`, which skips them. All or nothing: when a write fails, the files already
    /// reverted are put back. Journaled as an undo entry, also when everything was skipped (the
    /// entry is then "skipped"). Changes made through Docker's API go back through `api_revert`.
    pub fn undo(
        &self,
        roots: &Roots,
        hierarchies: &[Hierarchy],
        force: UndoForce,
        pick: UndoPick,
        api_revert: ApiRevert,
    ) -> Result<UndoOutcome, CgroupError> {
        let mut tx = self.begin("undo")?;
        let entry = entry_to_undo(tx.entries(), &self.journal.path, pick)?;
        let check = Check {
            roots,
            hierarchies,
            entry: &entry,
            entries: tx.entries(),
            force,
        };
        let (steps, mut skipped) = check.steps()?;
        tx.reverting(entry.id);
        let mut reverted = Vec::new();
        let mut notes = Vec::new();
        if let Some(api) = &entry.api {
            let docker = DockerUndo {
                roots,
                entry: &entry,
                force,
                api,
            };
            let (changes, said) = docker.revert(&mut tx, &steps, api_revert, &mut skipped)?;
            reverted.extend(changes);
            notes.extend(said);
        }
        for (loc, c) in steps.iter().filter(|(_, c)| c.via.is_none()) {
            let ch = revert_one(roots, entry.action, loc, c).map_err(|e| tx.abort(e))?;
            tx.made(RevertBack {
                roots: roots.clone(),
                action: entry.action,
                loc: loc.clone(),
                change: ch.clone(),
            });
            reverted.push(ch);
        }
        tx.skipping(skipped.clone());
        let undo_entry = tx.commit(
            Action::Undo,
            &entry.target,
            reverted.clone(),
            Some(entry.id),
        )?;
        Ok(UndoOutcome {
            undone: entry,
            reverted,
            entry: undo_entry,
            notes,
            skipped,
        })
    }
}

impl CgroupWriter {
    /// The entry [`CgroupWriter::undo`] would revert and what of it is gone, read without the
    /// lock and without writing. Refused as the undo would be when a file changed since.
    pub fn undo_preview(
        &self,
        roots: &Roots,
        hierarchies: &[Hierarchy],
        pick: UndoPick,
    ) -> Result<(JournalEntry, Vec<String>), CgroupError> {
        let entries = self.journal.entries()?;
        let entry = entry_to_undo(&entries, &self.journal.path, pick)?;
        let check = Check {
            roots,
            hierarchies,
            entry: &entry,
            entries: &entries,
            force: UndoForce {
                skip_gone: true,
                overwrite: false,
            },
        };
        let (_, gone) = check.steps()?;
        Ok((entry, gone))
    }
}

/// The Docker part of an undo.
struct DockerUndo<'a> {
    roots: &'a Roots,
    entry: &'a JournalEntry,
    force: UndoForce,
    api: &'a serde_json::Value,
}

impl DockerUndo<'_> {
    /// Changes made through Docker's API go back the same way, in one update, so that Docker's
    /// record follows; what Docker cannot put back (it reads 0 and "" as "leave as is") is then
    /// written directly. A container Docker no longer knows (HTTP 404) is gone: skipped when
    /// forced, with the changes made through it.
    fn revert(
        &self,
        tx: &mut Transaction,
        steps: &[Step],
        api_revert: ApiRevert,
        skipped: &mut Vec<String>,
    ) -> Result<(Vec<Change>, Vec<String>), CgroupError> {
        match api_revert(self.api) {
            Ok(()) => {}
            Err(e) if e.is_vanished() => {
                let id = self.api.get("id").and_then(serde_json::Value::as_str);
                let short = id.unwrap_or_default().get(..12).unwrap_or_default();
                let what = format!("Docker no longer knows container {short} ({e})");
                gone(self.entry, self.force, what.clone(), skipped, what)?;
                return Ok((Vec::new(), Vec::new()));
            }
            Err(e) => return Err(e),
        }
        let mut reverted = Vec::new();
        let mut notes = Vec::new();
        for (loc, c) in steps.iter().filter(|(_, c)| c.via.is_some()) {
            let mut now = read_control(loc, &c.file)?;
            if !same_value(&c.file, &c.old, &now) {
                restore_file(loc, &c.file, &c.old)?;
                now = read_control(loc, &c.file)?;
                notes.push(format!(
                    "Docker could not put {} back: written to the cgroup directly (Docker's \
                     record keeps the value it had)",
                    c.file
                ));
            }
            let ch = Change {
                old: c.new.clone(),
                new: now,
                ..c.clone()
            };
            tx.made(RevertBack {
                roots: self.roots.clone(),
                action: self.entry.action,
                loc: loc.clone(),
                change: ch.clone(),
            });
            reverted.push(ch);
        }
        let api = self.api;
        let mut record = serde_json::json!({
            "id": api.get("id"),
            "old": api.get("new"),
            "new": api.get("old"),
        });
        if let Some(rt) = api.get("runtime") {
            record["runtime"] = rt.clone();
        }
        tx.record_api(record);
        Ok((reverted, notes))
    }
}

/// Put one change of an entry back: `c.old` is what to restore, `c.new` what nsview left.
/// Returns the change the undo made (old and new swapped, as read back).
fn revert_one(
    roots: &Roots,
    action: Action,
    loc: &Location,
    c: &Change,
) -> Result<Change, CgroupError> {
    match action {
        Action::Move => {
            let pid = pid_of(c)?;
            let back = Location {
                path: c.old.clone(),
                ..loc.clone()
            };
            write_control(&back, "cgroup.procs", &pid.to_string())?;
            let now = process_cgroups(roots, pid)?
                .get(&c.hierarchy)
                .cloned()
                .unwrap_or_default();
            Ok(Change {
                cgroup: c.old.clone(),
                old: c.new.clone(),
                new: now,
                ..c.clone()
            })
        }
        Action::Devices => revert_devices(loc, c),
        Action::Freeze | Action::Thaw => {
            let content = undo_freeze_content(&c.file, &c.old);
            write_control(loc, &c.file, content)?;
            wait_state(loc, &c.file, content == "FROZEN" || content == "1")?;
            Ok(Change {
                old: c.new.clone(),
                new: read_control(loc, &c.file)?,
                ..c.clone()
            })
        }
        _ => {
            restore_file(loc, &c.file, &c.old)?;
            Ok(Change {
                old: c.new.clone(),
                new: read_control(loc, &c.file)?,
                ..c.clone()
            })
        }
    }
}

/// What to write to a freezer file to get back to `old`, the file's content before (v1
/// THAWED / FREEZING / FROZEN, v2 0 / 1; entries of older versions of nsview hold the words for
/// v2 too).
fn undo_freeze_content(file: &str, old: &str) -> &'static str {
    match (file, old.trim()) {
        ("freezer.state", "THAWED") => "THAWED",
        ("freezer.state", _) => "FROZEN",
        (_, "0" | "THAWED") => "0",
        _ => "1",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(action: Action, change: Change, api: Option<serde_json::Value>) -> JournalEntry {
        JournalEntry {
            id: 1,
            time: "2026-01-01T00:00:00Z".into(),
            user: "root".into(),
            uid: 0,
            sudo_user: None,
            action,
            target: "/t".into(),
            changes: vec![change],
            undo_of: None,
            api,
            skipped: Vec::new(),
        }
    }

    fn set(file: &str) -> Change {
        Change {
            hierarchy: "cpu".into(),
            cgroup: "/nsview-test/a".into(),
            file: file.into(),
            old: "1024".into(),
            new: "2048".into(),
            pid: None,
            start: None,
            rule: None,
            via: None,
        }
    }

    #[test]
    fn a_journal_entry_is_replayed_only_when_nsview_could_have_written_it() {
        let id = "ab".repeat(32);
        let good_api = json!({"id": id, "old": {"CpuShares": 1024, "CpusetCpus": "0-1"},
            "new": {"CpuShares": 2048}});
        assert_eq!(
            check_entry(&entry(Action::Set, set("cpu.shares"), None)),
            Ok(())
        );
        assert_eq!(
            check_entry(&entry(Action::Set, set("cpu.shares"), Some(good_api))),
            Ok(())
        );
        let mut thawed = set("freezer.state");
        thawed.via = Some("podman-api".into());
        let unpause = json!({"id": id, "runtime": "podman", "old": {"Paused": true},
            "new": {"Paused": false}});
        assert_eq!(
            check_entry(&entry(Action::Thaw, thawed, Some(unpause))),
            Ok(())
        );
        let mut bad: Vec<JournalEntry> = vec![
            entry(Action::Set, set("release_agent"), None),
            entry(Action::Set, set("../cpu.shares"), None),
        ];
        for (field, value) in [
            ("cgroup", "/a/../../etc"),
            ("cgroup", "a"),
            ("hierarchy", "cpu/.."),
        ] {
            let mut c = set("cpu.shares");
            match field {
                "cgroup" => c.cgroup = value.into(),
                _ => c.hierarchy = value.into(),
            }
            bad.push(entry(Action::Set, c, None));
        }
        let mut via = set("cpu.shares");
        via.via = Some("sh -c".into());
        bad.push(entry(Action::Set, via, None));
        let mut mv = set("cgroup.procs");
        mv.old = "/../x".into();
        mv.pid = Some(42);
        bad.push(entry(Action::Move, mv.clone(), None));
        mv.old = "/x".into();
        mv.pid = Some(-1);
        bad.push(entry(Action::Move, mv, None));
        let mut dev = set("devices.deny");
        dev.rule = Some("write c 1:3 rwm".into());
        bad.push(entry(Action::Devices, dev, None));
        for api in [
            json!({"id": "x/../../containers/create", "old": {"Memory": 1}, "new": {}}),
            json!({"id": format!("{}\r\nX: y", "ab".repeat(31)), "old": {}, "new": {}}),
            json!({"id": id, "old": {"Privileged": true}, "new": {}}),
            json!({"id": id, "old": {"Binds": ["/:/host"]}, "new": {}}),
            json!({"id": id, "old": {}, "new": {}, "then": "more"}),
            json!({"id": id, "runtime": "sh", "old": {"Paused": true}, "new": {}}),
        ] {
            bad.push(entry(Action::Set, set("cpu.shares"), Some(api)));
        }
        for e in &bad {
            assert!(check_entry(e).is_err(), "{e:?}");
            let refused = entry_to_undo(std::slice::from_ref(e), Path::new("j"), UndoPick::Newest);
            assert!(refused.is_err(), "{e:?}");
        }
    }
}
