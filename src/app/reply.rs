//! What the worker's result of an operation shows: the lines of the TUI's dialogs.

use crate::effects::cgroup::{UndoPick, Written};
use crate::effects::journal::JournalEntry;
use crate::effects::ops::{Operation, Outcome};
use crate::effects::request::PerformError;
use crate::policy::limits;

/// An operation's result as the UI shows it.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Reply {
    /// Ask the admin; on yes, run `then`.
    Confirm {
        title: String,
        lines: Vec<String>,
        then: Operation,
    },
    /// Finished (or refused): what the kernel says now, or why nothing changed.
    Done {
        title: String,
        lines: Vec<String>,
        ok: bool,
    },
}

/// The worker's result of `op` as a dialog.
pub(super) fn reply(op: Operation, result: Result<Outcome, PerformError>) -> Reply {
    match result {
        Ok(outcome) => outcome_reply(op, outcome),
        Err(e @ PerformError::NoJournal(_)) => {
            done("cannot change anything", vec![e.to_string()], false)
        }
        Err(e @ PerformError::Refused(_)) => done(&failure_title(&op), vec![e.to_string()], false),
    }
}

/// The title of a refusal or failure of `op`.
fn failure_title(op: &Operation) -> String {
    match op {
        Operation::Set {
            at, preview: true, ..
        } => format!("edit {}", at.label),
        Operation::Set { at, .. } => format!("change {}", at.label),
        Operation::Freeze { at, freeze } => format!("{} {}", freeze_verb(*freeze), at.label),
        Operation::Move { pid, .. } => format!("move {pid}"),
        Operation::Device { allow, rule, .. } => format!("{} {rule}", allow_verb(*allow)),
        Operation::Undo { .. } => "undo".into(),
    }
}

/// The outcome of `op` as a dialog: a confirmation for a preview, else what happened.
fn outcome_reply(op: Operation, outcome: Outcome) -> Reply {
    match (op, outcome) {
        (
            Operation::Set {
                at, assignments, ..
            },
            Outcome::Set(o),
        ) if o.dry_run => {
            if o.written.is_empty() {
                let line = "nothing to change: every value is already in place".to_string();
                return done(&format!("edit {}", at.label), vec![line], true);
            }
            let mut lines = set_lines(&o.written, &o.notes);
            lines.push(String::new());
            lines.push("write these values? (y: yes, n / Esc: no)".into());
            Reply::Confirm {
                title: format!("change {}", at.label),
                lines,
                // What y confirms is exactly these writes.
                then: Operation::Set {
                    expect: Some(o.written.iter().map(Written::key).collect()),
                    at,
                    assignments,
                    preview: false,
                },
            }
        }
        (Operation::Undo { hierarchies, .. }, Outcome::UndoPreview { entry, gone }) => {
            Reply::Confirm {
                title: "undo".into(),
                lines: undo_preview_lines(&entry, &gone),
                then: Operation::Undo {
                    preview: false,
                    hierarchies,
                    pick: UndoPick::Confirmed(entry.id),
                    // What y confirms: skipping what the preview showed gone.
                    skip_gone: !gone.is_empty(),
                },
            }
        }
        (op, outcome) => finished(&op, outcome),
    }
}

/// A change made: its lines and the journal entry.
fn finished(op: &Operation, outcome: Outcome) -> Reply {
    let label = match op {
        Operation::Set { at, .. }
        | Operation::Freeze { at, .. }
        | Operation::Move { at, .. }
        | Operation::Device { at, .. } => at.label.as_str(),
        Operation::Undo { .. } => "",
    };
    match outcome {
        Outcome::Set(o) => {
            let mut lines = set_lines(&o.written, &o.notes);
            lines.push(journal_line(o.entry.as_ref()));
            done(&format!("changed {label}"), lines, true)
        }
        Outcome::Freeze { freeze, outcome: o } => {
            let mut lines = o.describe(freeze);
            lines.extend(o.notes.iter().cloned());
            lines.push(journal_line(o.entry.as_ref()));
            let ok = o.state == if freeze { "FROZEN" } else { "THAWED" };
            done(&format!("{} {label}", freeze_verb(freeze)), lines, ok)
        }
        Outcome::Move(o) => {
            let mut lines = o.describe();
            lines.push(journal_line(o.entry.as_ref()));
            done(&format!("moved {} to {label}", o.pid), lines, true)
        }
        Outcome::Devices(o) => {
            let mut lines = vec![format!(
                "{} {}: devices.list now:",
                allow_verb(o.allow),
                o.rule
            )];
            lines.extend(o.now.lines().map(|l| format!("  {l}")));
            if o.now.is_empty() {
                lines.push("  (empty: every device denied)".into());
            }
            lines.push(journal_line(o.entry.as_ref()));
            done(&format!("devices of {label}"), lines, true)
        }
        Outcome::Undo(o) => {
            let mut lines = vec![format!(
                "reverted entry {} ({} {})",
                o.undone.id,
                o.undone.action.as_str(),
                o.undone.target
            )];
            lines.extend(o.reverted.iter().map(|c| {
                let what = limits::describe(&c.file, &c.old, &c.new).replace('\n', ", ");
                format!("  {}:{} {what}", c.hierarchy, c.cgroup)
            }));
            lines.extend(o.notes.iter().map(|n| format!("note: {n}")));
            lines.extend(o.skipped.iter().map(|n| format!("skipped (gone): {n}")));
            if o.reverted.is_empty() {
                lines[0] = format!(
                    "skipped entry {} ({} {}): everything it changed is gone",
                    o.undone.id,
                    o.undone.action.as_str(),
                    o.undone.target
                );
            }
            done("undo", lines, true)
        }
        Outcome::UndoPreview { .. } => done("undo", vec![], false),
    }
}

fn set_lines(written: &[Written], notes: &[String]) -> Vec<String> {
    let mut lines: Vec<String> = written.iter().map(Written::describe).collect();
    lines.extend(notes.iter().map(|n| format!("note: {n}")));
    lines
}

fn undo_preview_lines(e: &JournalEntry, gone: &[String]) -> Vec<String> {
    let mut lines = vec![format!(
        "entry {}: {} {} at {} by {}",
        e.id,
        e.action.as_str(),
        e.target,
        e.time,
        e.sudo_user.as_deref().unwrap_or(&e.user)
    )];
    lines.extend(e.changes.iter().map(|c| {
        let back = limits::annotate(&c.file, &c.old).replace('\n', ", ");
        format!("  {}:{} {} (back to {back})", c.hierarchy, c.cgroup, c.file)
    }));
    lines.extend(gone.iter().map(|g| format!("  gone: {g}")));
    lines.push(String::new());
    let ask = if gone.len() == e.changes.len() && !gone.is_empty() {
        "everything it changed is gone: mark it skipped, so that u reaches older changes? (y: \
         yes, n / Esc: no)"
    } else if gone.is_empty() {
        "revert it? (y: yes, n / Esc: no)"
    } else {
        "revert the rest and skip what is gone? (y: yes, n / Esc: no)"
    };
    lines.push(ask.into());
    lines
}

fn freeze_verb(freeze: bool) -> &'static str {
    if freeze { "freeze" } else { "thaw" }
}

fn allow_verb(allow: bool) -> &'static str {
    if allow { "allow" } else { "deny" }
}

fn done(title: &str, lines: Vec<String>, ok: bool) -> Reply {
    Reply::Done {
        title: title.to_string(),
        lines,
        ok,
    }
}

fn journal_line(entry: Option<&JournalEntry>) -> String {
    match entry {
        Some(e) => format!("journal entry {} (u undoes it)", e.id),
        None => "nothing changed".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::effects::journal::{Action, Change};

    fn entry() -> JournalEntry {
        JournalEntry {
            id: 7,
            time: "2026-12-07T00:00:00Z".into(),
            user: "root".into(),
            uid: 0,
            sudo_user: None,
            action: Action::Set,
            target: "web-1".into(),
            changes: vec![Change {
                hierarchy: "cpu".into(),
                cgroup: "/docker/ab".into(),
                file: "cpu.shares".into(),
                old: "1024".into(),
                new: "512".into(),
                pid: None,
                start: None,
                rule: None,
                via: None,
            }],
            undo_of: None,
            api: None,
            skipped: Vec::new(),
        }
    }

    /// `u` on an entry whose cgroup is gone offers to skip it (the same rule as `undo --force`
    /// for what vanished), and y confirms exactly that entry, skipping what is gone.
    #[test]
    fn undo_of_a_vanished_entry_offers_to_skip_it() {
        let op = Operation::Undo {
            preview: true,
            hierarchies: vec![],
            pick: UndoPick::Newest,
            skip_gone: false,
        };
        let gone = vec!["cpu:/docker/ab vanished".to_string()];
        let outcome = Outcome::UndoPreview {
            entry: entry(),
            gone,
        };
        let Reply::Confirm { lines, then, .. } = reply(op.clone(), Ok(outcome)) else {
            panic!("a confirmation");
        };
        let text = lines.join("\n");
        assert!(text.contains("gone: cpu:/docker/ab vanished"), "{text}");
        assert!(text.contains("mark it skipped"), "{text}");
        assert_eq!(
            then,
            Operation::Undo {
                preview: false,
                hierarchies: vec![],
                pick: UndoPick::Confirmed(7),
                skip_gone: true,
            }
        );
        // Nothing gone: a plain revert, which refuses what vanishes meanwhile.
        let outcome = Outcome::UndoPreview {
            entry: entry(),
            gone: vec![],
        };
        let Reply::Confirm { lines, then, .. } = reply(op, Ok(outcome)) else {
            panic!("a confirmation");
        };
        assert!(lines.join("\n").contains("revert it?"));
        assert!(matches!(
            then,
            Operation::Undo {
                skip_gone: false,
                ..
            }
        ));
    }
}
