//! Writing cgroups: limits (`nsview set`, the TUI's edit form), freeze and thaw, moving a
//! process, v1 device rules, and undo. Every change is one [`Transaction`]: validate (see
//! [`crate::policy::limits`]) -> lock the journal -> read the old values -> write in order ->
//! re-read -> journal; a failure part-way through rolls back what was already written, and a
//! change that could not be journaled is never made.
//!
//! - `error`: what can go wrong, one line per error.
//! - `control`: the files read and written, through the safe opener of `sys`.
//! - `txn`: the transaction every change goes through, and what a write was.
//! - `set`, `freeze`, `moves`, `devices`, `undo`: the changes.

mod control;
mod devices;
mod error;
mod freeze;
mod moves;
mod set;
mod txn;
mod undo;

pub use control::{read_control, start_time};
pub use devices::DevicesOutcome;
pub use error::CgroupError;
pub use freeze::{FreezeOutcome, RuntimePause};
pub use moves::MoveOutcome;
pub use set::SetOutcome;
pub use txn::{
    PlannedKey, TakeBack, Transaction, Written, check_expected, restore_file, same_value,
};
pub use undo::{ApiRevert, UndoForce, UndoOutcome, UndoPick, entry_label, entry_to_undo};

use crate::effects::journal::Journal;
use crate::model::Hierarchy;
use crate::sys::Roots;
use std::path::{Path, PathBuf};

/// One cgroup directory in one hierarchy: where a write can land.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// Hierarchy key ("memory", "cpu,cpuacct", "unified").
    pub hierarchy: String,
    pub version: u8,
    /// The hierarchy's mount point, reachable from here.
    pub mount: PathBuf,
    /// Path inside the hierarchy ("/docker/<id>").
    pub path: String,
}

impl Location {
    /// The directory, for messages.
    pub fn dir(&self) -> PathBuf {
        self.mount.join(self.path.trim_start_matches('/'))
    }

    fn file(&self, file: &str) -> PathBuf {
        self.dir().join(file)
    }

    /// The hierarchy's directory name for messages ("memory", "cpu,cpuacct", "unified").
    pub fn label(&self) -> String {
        format!("{}:{}", self.hierarchy, self.path)
    }
}

/// The writer: the one place that changes cgroups. `read_only` turns every method off.
#[derive(Debug, Clone)]
pub struct CgroupWriter {
    pub read_only: bool,
    pub journal: Journal,
}

/// One hierarchy's location of `path`.
pub fn location(roots: &Roots, h: &Hierarchy, path: &str) -> Location {
    Location {
        hierarchy: h.key.clone(),
        version: h.version,
        mount: roots.mount_path(Path::new(&h.mount)),
        path: path.to_string(),
    }
}
