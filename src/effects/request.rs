//! Changes asked for in the TUI, run on its worker thread: an [`Operation`] built by the UI from
//! its snapshot (pure) goes through the operations layer ([`super::ops`]) with the same journal
//! as the CLI's, and its [`Outcome`] (or why there is none) goes back to the UI, which renders it.

use super::cgroup::{CgroupError, CgroupWriter};
use super::journal::{Journal, JournalError};
use super::ops::{Operation, Operations, Outcome};
use crate::sys::Roots;

/// Why an operation asked for in the TUI changed nothing.
#[derive(Debug, thiserror::Error)]
pub enum PerformError {
    /// No journal to record the change in, so nothing may be changed.
    #[error(transparent)]
    NoJournal(#[from] JournalError),
    /// The operations layer refused the operation, or the kernel did.
    #[error(transparent)]
    Refused(#[from] CgroupError),
}

/// Run `op` as root would from the CLI: same validation, same journal.
pub fn perform(op: Operation, roots: &Roots, read_only: bool) -> Result<Outcome, PerformError> {
    let journal = Journal::default_location()?;
    perform_with(op, roots, &CgroupWriter { read_only, journal })
}

/// [`perform`] with a given writer (its journal and read-only switch).
pub fn perform_with(
    op: Operation,
    roots: &Roots,
    writer: &CgroupWriter,
) -> Result<Outcome, PerformError> {
    Ok(Operations { writer, roots }.apply(op)?)
}
