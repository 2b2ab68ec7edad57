//! The one way a change is made: lock the journal (before anything is read for the plan), plan
//! under the lock, check the plan is the one the admin confirmed, write in order keeping how to
//! take each write back, then journal; a write that fails, or a journal that cannot record the
//! change, takes back everything already made (newest first) and says what that did.

use super::control::{read_control, write_control};
use super::error::CgroupError;
use super::{CgroupWriter, Location};
use crate::effects::journal::{Action, Change, JournalEntry, Locked};
use crate::policy::limits::{self, FileWrite};
use crate::sys::parse::parse_cpu_list;
use std::fmt::Write as _;

/// A write made, and how to put back what was there before it.
pub trait TakeBack {
    /// Restore the state before the write; Err says what could not be restored.
    fn take_back(&self) -> Result<(), String>;
}

/// A change in progress under the journal's lock.
pub struct Transaction {
    journal: Locked,
    made: Vec<Box<dyn TakeBack>>,
    /// For an undo: the entry it reverts (its rollback is worded as such).
    reverting: Option<u64>,
}

impl CgroupWriter {
    /// Refuse when read-only, else lock the journal: the start of every change. `what` names the
    /// change in the refusal.
    pub fn begin(&self, what: &str) -> Result<Transaction, CgroupError> {
        self.check_writable(what)?;
        Ok(Transaction {
            journal: self.journal.lock()?,
            made: Vec::new(),
            reverting: None,
        })
    }

    pub(crate) fn check_writable(&self, what: &str) -> Result<(), CgroupError> {
        if self.read_only {
            Err(CgroupError::ReadOnly(what.to_string()))
        } else {
            Ok(())
        }
    }
}

impl Transaction {
    /// The journal's entries, as read under the lock.
    pub fn entries(&self) -> &[JournalEntry] {
        self.journal.entries()
    }

    /// Record the Docker update bodies of this change in its journal entry.
    pub fn record_api(&mut self, api: serde_json::Value) {
        self.journal.api = Some(api);
    }

    /// What an undo skipped because it had vanished: recorded in its journal entry, which is
    /// written even when nothing else is.
    pub fn skipping(&mut self, skipped: Vec<String>) {
        self.journal.skipped = skipped;
    }

    /// This transaction reverts entry `id` (an undo).
    pub fn reverting(&mut self, id: u64) {
        self.reverting = Some(id);
    }

    /// A write was made: `step` takes it back if the change does not complete.
    pub fn made(&mut self, step: impl TakeBack + 'static) {
        self.made.push(Box::new(step));
    }

    /// Write `todo` in order, re-reading each file; on a failure, take back what was made.
    pub fn write_in_order(&mut self, todo: Vec<Written>) -> Result<Vec<Written>, CgroupError> {
        let mut done: Vec<Written> = Vec::new();
        for mut w in todo {
            if let Err(e) = write_control(&w.location, &w.write.file, &w.write.content) {
                return Err(self.abort(e));
            }
            self.made(FileBack(w.clone()));
            // Written but not readable back: undone with the rest rather than journaled blind.
            w.now = read_control(&w.location, &w.write.file).map_err(|e| self.abort(e))?;
            done.push(w);
        }
        Ok(done)
    }

    /// Take back every write made, newest first, and return `first` with what that did.
    pub fn abort(&mut self, first: CgroupError) -> CgroupError {
        if self.made.is_empty() {
            return first;
        }
        let n = self.made.len();
        let failures: Vec<String> = self
            .made
            .drain(..)
            .rev()
            .filter_map(|step| step.take_back().err())
            .collect();
        let rollback = match self.reverting {
            Some(id) if failures.is_empty() => {
                format!("undo of entry {id} rolled back: nothing changed")
            }
            Some(_) => format!("UNDO ROLLBACK INCOMPLETE: {}", failures.join("; ")),
            None => rollback_text(n, &failures),
        };
        CgroupError::RolledBack {
            first: Box::new(first),
            rollback,
        }
    }

    /// Journal the change as one entry (none when nothing changed); a change the journal cannot
    /// record is taken back.
    pub fn commit(
        mut self,
        action: Action,
        target: &str,
        changes: Vec<Change>,
        undo_of: Option<u64>,
    ) -> Result<Option<JournalEntry>, CgroupError> {
        match self.journal.append(action, target, changes, undo_of) {
            Ok(entry) => Ok(entry),
            Err(e) => Err(self.abort(e.into())),
        }
    }
}

fn rollback_text(n: usize, failures: &[String]) -> String {
    if failures.is_empty() {
        format!(
            "rolled back: the {n} change{} already made {} written back and re-read",
            if n == 1 { "" } else { "s" },
            if n == 1 { "was" } else { "were" }
        )
    } else {
        format!("ROLLBACK INCOMPLETE: {}", failures.join("; "))
    }
}

/// A control file written: its old content is written back and re-read.
struct FileBack(Written);

impl TakeBack for FileBack {
    fn take_back(&self) -> Result<(), String> {
        let w = &self.0;
        let ok = restore_file(&w.location, &w.write.file, &w.old)
            .and_then(|()| read_control(&w.location, &w.write.file))
            .map(|now| same_value(&w.write.file, &w.old, &now) || now == w.old);
        match ok {
            Ok(true) => Ok(()),
            Ok(false) => Err(format!(
                "{} {} not restored",
                w.location.label(),
                w.write.file
            )),
            Err(e) => Err(e.to_string()),
        }
    }
}

/// One file as it was and as it is now, after a write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub location: Location,
    pub write: FileWrite,
    pub old: String,
    /// Re-read after writing.
    pub now: String,
}

impl Written {
    /// "memory:/a memory.limit_in_bytes 134217728 (128M) -> 268435456 (256M)" with the notes.
    pub fn describe(&self) -> String {
        let mut s = format!(
            "{} {}",
            self.location.label(),
            limits::describe(&self.write.file, &self.old, &self.now)
        );
        if !self
            .write
            .asked
            .starts_with(&format!("{}=", self.write.file))
        {
            let _ = write!(s, " (asked {})", self.write.asked);
        }
        if !same_value(&self.write.file, &self.write.content, &self.now) {
            let _ = write!(
                s,
                " [wrote {}, the kernel reads back {}]",
                self.write.content, self.now
            );
        }
        for n in &self.write.notes {
            let _ = write!(s, "; {n}");
        }
        s
    }

    /// What identifies this write in a preview: hierarchy, file, old value, new content.
    pub fn key(&self) -> PlannedKey {
        (
            self.location.hierarchy.clone(),
            self.write.file.clone(),
            self.old.clone(),
            self.write.content.clone(),
        )
    }

    pub fn change(&self) -> Change {
        Change {
            hierarchy: self.location.hierarchy.clone(),
            cgroup: self.location.path.clone(),
            file: self.write.file.clone(),
            old: self.old.clone(),
            new: self.now.clone(),
            pid: None,
            start: None,
            rule: None,
            via: None,
        }
    }

    /// The value is already in place: nothing to write.
    pub fn is_in_place(&self) -> bool {
        same_value(&self.write.file, &self.write.content, &self.old)
    }
}

/// One write of a previewed set: hierarchy, file, old value, new content. A confirmed set must
/// plan exactly these again, or it writes nothing.
pub type PlannedKey = (String, String, String, String);

/// Refuse when the plan made under the lock is not the one the admin confirmed.
pub fn check_expected(
    expect: Option<&[PlannedKey]>,
    planned: &[Written],
) -> Result<(), CgroupError> {
    let Some(expect) = expect else { return Ok(()) };
    let now: Vec<PlannedKey> = planned
        .iter()
        .filter(|w| !w.is_in_place())
        .map(Written::key)
        .collect();
    if now == expect {
        return Ok(());
    }
    Err(CgroupError::Conflict {
        what: "the values changed since the preview (someone else wrote the cgroup); nothing \
               written: look again"
            .into(),
    })
}

/// Whether the kernel's read-back `now` shows `written` took effect: v1 memory limits round down
/// to pages and read "unlimited" as a huge number; lists and whitespace are normalised.
pub fn same_value(file: &str, written: &str, now: &str) -> bool {
    let (w, n) = (written.trim(), now.trim());
    if w == n {
        return true;
    }
    if file.starts_with("cpuset.") {
        return parse_cpu_list(w).is_some() && parse_cpu_list(w) == parse_cpu_list(n);
    }
    if file == "cpu.max" {
        return w.split_ascii_whitespace().eq(n.split_ascii_whitespace());
    }
    if file.ends_with("_in_bytes")
        || matches!(
            file,
            "memory.max" | "memory.high" | "memory.low" | "memory.min" | "memory.swap.max"
        )
    {
        let (Ok(w), Ok(n)) = (w.parse::<i64>(), n.parse::<i64>()) else {
            return false;
        };
        if w < 0 || crate::model::format::is_unlimited(w) {
            return crate::model::format::is_unlimited(n);
        }
        // Rounded down to the page size (at most 64 KiB pages).
        return n <= w && w - n < 65536;
    }
    false
}

/// Write `old` (a file's content as read before a change) back to `file`.
pub fn restore_file(loc: &Location, file: &str, old: &str) -> Result<(), CgroupError> {
    write_control(loc, file, &restore_content(file, old))
}

/// What to write to restore `old` (v1 reads "unlimited" as a huge number; writing -1 is the
/// documented way back).
fn restore_content(file: &str, old: &str) -> String {
    match old.parse::<i64>() {
        Ok(n) if file.ends_with("_in_bytes") && crate::model::format::is_unlimited(n) => {
            "-1".into()
        }
        _ => old.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::effects::journal::Journal;

    fn written(loc: &Location, file: &str, old: &str, content: &str) -> Written {
        Written {
            location: loc.clone(),
            write: FileWrite {
                hierarchy: loc.hierarchy.clone(),
                file: file.into(),
                content: content.into(),
                asked: format!("{file}={content}"),
                notes: vec![],
            },
            old: old.into(),
            now: content.into(),
        }
    }

    /// A failed write takes back the ones made before it, and a committed change is journaled.
    #[test]
    fn a_transaction_is_all_or_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cg = dir.path().join("cg/a");
        std::fs::create_dir_all(&cg).expect("mkdir");
        std::fs::write(cg.join("cpu.shares"), "1024\n").expect("write");
        std::fs::write(cg.join("pids.max"), "max\n").expect("write");
        let loc = Location {
            hierarchy: "cpu".into(),
            version: 1,
            mount: dir.path().join("cg"),
            path: "/a".into(),
        };
        let writer = CgroupWriter {
            read_only: false,
            journal: Journal {
                path: dir.path().join("journal.jsonl"),
            },
        };
        let mut tx = writer.begin("set").expect("begin");
        let todo = vec![
            written(&loc, "cpu.shares", "1024", "2048"),
            written(&loc, "../escape", "", "1"),
        ];
        let e = tx
            .write_in_order(todo)
            .expect_err("the second write is refused");
        assert!(e.to_string().contains("rolled back: the 1 change"), "{e}");
        let shares = std::fs::read_to_string(cg.join("cpu.shares")).expect("read");
        assert_eq!(shares, "1024");
        drop(tx);
        let mut tx = writer.begin("set").expect("begin");
        let done = tx
            .write_in_order(vec![written(&loc, "pids.max", "max", "64")])
            .expect("written");
        let changes = done.iter().map(Written::change).collect();
        let entry = tx.commit(Action::Set, "/a", changes, None).expect("commit");
        assert_eq!(
            entry.map(|e| e.changes[0].new.clone()).as_deref(),
            Some("64")
        );
        let read_only = CgroupWriter {
            read_only: true,
            ..writer
        };
        assert!(matches!(
            read_only.begin("set"),
            Err(CgroupError::ReadOnly(_))
        ));
    }

    #[test]
    fn read_back_comparison_knows_the_kernels_habits() {
        assert!(same_value(
            "memory.limit_in_bytes",
            "-1",
            "9223372036854771712"
        ));
        assert!(same_value("memory.limit_in_bytes", "1000000", "999424"));
        assert!(!same_value("memory.limit_in_bytes", "1000000", "4096"));
        assert!(same_value("cpuset.cpus", "1,0", "0-1"));
        assert!(same_value("cpu.max", "max  100000", "max 100000"));
        assert!(!same_value("cpu.shares", "2048", "1024"));
    }
}
