//! Changes made through nsview while recording: the journal's new entries become
//! [`EventKind::Change`] events of the next frame, and the collector reads what they touched in
//! that frame's pass (as the live view does), instead of at their rolling turn.

use crate::effects::journal::{self, Action, Journal, JournalEntry};
use crate::model::CgValue;
use crate::record::{Event, EventKind};
use std::os::unix::fs::MetadataExt;

/// The journal as last seen by the recorder: only entries numbered after `last_id` are new.
pub struct JournalTail {
    journal: Option<Journal>,
    last_id: u64,
    /// The journal file's (size, mtime in ns) when last read: unchanged means nothing new, and
    /// the file is not read again (one stat per sample).
    seen: Option<(u64, i128)>,
    /// Said once: why the journal cannot be read.
    complained: bool,
}

impl JournalTail {
    /// Start following the journal of the state directory (`--state-dir` moves it): the
    /// entries already there are history, not events of this recording.
    pub fn start() -> JournalTail {
        let mut tail = JournalTail {
            journal: Journal::default_location().ok(),
            last_id: 0,
            seen: None,
            complained: false,
        };
        tail.new_entries();
        tail
    }

    /// The changes journaled since the last call.
    pub fn news(&mut self) -> JournalNews {
        let entries = self.new_entries();
        let (pids, cgroups) = journal::touched_after(&entries, 0);
        JournalNews {
            events: entries.iter().map(change_event).collect(),
            pids,
            cgroups,
        }
    }

    fn new_entries(&mut self) -> Vec<JournalEntry> {
        let Some(journal) = &self.journal else {
            return Vec::new();
        };
        let stamp = std::fs::metadata(&journal.path).ok().map(|m| {
            (
                m.len(),
                i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec()),
            )
        });
        if stamp.is_none() || stamp == self.seen {
            return Vec::new();
        }
        let entries = match journal.entries() {
            Ok(entries) => entries,
            Err(e) => {
                if !self.complained {
                    self.complained = true;
                    eprintln!(
                        "nsview: warning: {}: changes made through nsview are not recorded",
                        crate::model::format::printable(&e.to_string())
                    );
                }
                return Vec::new();
            }
        };
        self.seen = stamp;
        let new: Vec<JournalEntry> = entries
            .into_iter()
            .filter(|e| e.id > self.last_id)
            .collect();
        if let Some(last) = new.last() {
            self.last_id = last.id;
        }
        new
    }
}

/// New journal entries: as events, and what they touched (processes moved; cgroups written,
/// as (hierarchy key, path)).
pub struct JournalNews {
    pub events: Vec<Event>,
    pub pids: Vec<i32>,
    pub cgroups: Vec<(String, String)>,
}

/// A journal entry as a timeline event: the target as the admin gave it, and what changed
/// ("set memory.limit_in_bytes 104857600 (100M) -> 209715200 (200M)").
pub fn change_event(entry: &JournalEntry) -> Event {
    let mut detail = entry.action.as_str().to_string();
    if let Some(id) = entry.undo_of {
        detail.push_str(&format!(" of #{id}"));
    }
    let changes: Vec<String> = entry
        .changes
        .iter()
        .map(|c| match (entry.action, &c.rule, c.pid) {
            (Action::Devices, Some(rule), _) => format!("{} {rule}", c.cgroup),
            (_, _, Some(pid)) => format!("pid {pid} {} -> {}", c.old, c.new),
            _ => format!(
                "{} {} -> {}",
                c.file,
                value_text(&c.file, &c.old),
                value_text(&c.file, &c.new)
            ),
        })
        .collect();
    if !changes.is_empty() {
        detail.push(' ');
        detail.push_str(&changes.join("; "));
    }
    Event {
        kind: EventKind::Change,
        subject: entry.target.clone(),
        detail,
    }
}

/// A control file's content as one short value: sizes with their human form, several lines
/// counted.
fn value_text(file: &str, raw: &str) -> String {
    let raw = raw.trim();
    if let Ok(i) = raw.parse::<i64>() {
        return crate::model::format::file_value(file, &CgValue::Int(i));
    }
    match raw.lines().count() {
        0 => "(empty)".to_string(),
        1 => raw.to_string(),
        n => format!("({n} lines)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::effects::journal::Change;

    fn entry(action: Action, changes: Vec<Change>) -> JournalEntry {
        JournalEntry {
            id: 7,
            time: "2026-12-07T03:12:00Z".into(),
            user: "root".into(),
            uid: 0,
            sudo_user: None,
            action,
            target: "/web".into(),
            changes,
            undo_of: None,
            api: None,
            skipped: Vec::new(),
        }
    }

    fn change(file: &str, old: &str, new: &str) -> Change {
        Change {
            hierarchy: "memory".into(),
            cgroup: "/web".into(),
            file: file.into(),
            old: old.into(),
            new: new.into(),
            pid: None,
            start: None,
            rule: None,
            via: None,
        }
    }

    #[test]
    fn a_set_says_what_it_changed() {
        let e = change_event(&entry(
            Action::Set,
            vec![change(
                "memory.limit_in_bytes",
                "104857600\n",
                "209715200\n",
            )],
        ));
        assert_eq!(e.kind, EventKind::Change);
        assert_eq!(e.subject, "/web");
        assert_eq!(
            e.detail,
            "set memory.limit_in_bytes 104857600 (100M) -> 209715200 (200M)"
        );
        let e = change_event(&entry(
            Action::Devices,
            vec![Change {
                rule: Some("deny c 1:3 rwm".into()),
                ..change("devices.list", "a *:* rwm\n", "a\nb\n")
            }],
        ));
        assert_eq!(e.detail, "devices /web deny c 1:3 rwm");
    }
}
