//! Changes asked for in the TUI, run on a worker thread: an [`Operation`] built by the UI from
//! its snapshot (pure) goes through the operations layer ([`super::ops`]), and its
//! [`Outcome`](super::ops::Outcome) comes back as lines for a dialog.

mod render;

use super::cgroup::CgroupWriter;
use super::journal::Journal;
use super::ops::{Operation, Operations};
use crate::sys::Roots;
use render::{allow_verb, done, freeze_verb, reply};

/// What the worker tells the UI.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
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

/// Run `op` as root would from the CLI: same validation, same journal.
pub fn perform(op: Operation, roots: &Roots, read_only: bool) -> Reply {
    match Journal::default_location() {
        Ok(journal) => perform_with(op, roots, &CgroupWriter { read_only, journal }),
        Err(e) => done("cannot change anything", vec![e.to_string()], false),
    }
}

/// [`perform`] with a given writer (its journal and read-only switch).
pub fn perform_with(op: Operation, roots: &Roots, writer: &CgroupWriter) -> Reply {
    let ops = Operations { writer, roots };
    match ops.apply(op.clone()) {
        Ok(outcome) => reply(op, outcome),
        Err(e) => done(&failure_title(&op), vec![e.to_string()], false),
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
