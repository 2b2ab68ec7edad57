//! The operations layer: every change nsview makes (set, freeze, thaw, move, device rule, undo,
//! and the previews they need), one function each, called by the CLI (`cli::change`) and by the
//! TUI's worker (`effects::request`) alike. Each returns one [`Outcome`] that the front end
//! renders its own way. Every policy check (read-only, the root cgroup, kernel threads, a cgroup
//! holding nsview, the journal changed since a preview) is made here or below, never in a front
//! end.
//!
//! - `target`: where a TARGET given on the command line lands ([`Places`]).
//! - `operations`: the operations ([`Operations`]).

mod operations;
mod target;

pub use operations::{Operations, SetMode};
pub use target::places_of_target;

use super::cgroup::{
    DevicesOutcome, FreezeOutcome, Location, MoveOutcome, PlannedKey, SetOutcome, UndoOutcome,
    UndoPick, location,
};
use super::journal::JournalEntry;
use crate::model::Hierarchy;
use crate::policy::devices::DeviceRuleSpec;
use crate::policy::limits::Assignment;
use crate::sys::Roots;

/// Where a change lands: hierarchies and the target's path in each (resolved from a snapshot by
/// the front end; mount points are mapped through the roots when the change is made).
#[derive(Debug, Clone, PartialEq)]
pub struct Places {
    /// What the admin selected, for titles and the journal ("/docker/4653…", "1234 sleep").
    pub label: String,
    /// The target as the journal records it (a cgroup path, or a PID).
    pub target: String,
    pub places: Vec<(Hierarchy, String)>,
    /// The Docker container's id when the target is one: limits then go through Docker's API.
    pub docker: Option<String>,
    /// The podman container's id when the target is one: freeze and thaw then go through
    /// podman's API.
    pub podman: Option<String>,
}

impl Places {
    pub fn locations(&self, roots: &Roots) -> Vec<Location> {
        self.places
            .iter()
            .map(|(h, path)| location(roots, h, path))
            .collect()
    }
}

/// A change asked for in the TUI (carried from the UI thread to the worker), or the preview of
/// one.
#[derive(Debug, Clone, PartialEq)]
pub enum Operation {
    /// Limits from the edit form; `preview` plans (reads the old values) without writing; a
    /// confirmed set carries the previewed writes in `expect` and writes only if it plans the
    /// same.
    Set {
        at: Places,
        assignments: Vec<Assignment>,
        preview: bool,
        expect: Option<Vec<PlannedKey>>,
    },
    Freeze {
        at: Places,
        freeze: bool,
    },
    Move {
        at: Places,
        pid: i32,
    },
    Device {
        at: Places,
        allow: bool,
        rule: DeviceRuleSpec,
    },
    /// `preview`: say which entry undo would revert (and what of it is gone), without writing;
    /// the confirmed undo reverts exactly the entry shown (`UndoPick::Confirmed`), or nothing.
    /// `skip_gone`: skip what vanished (the preview showed it), marking the entry skipped when
    /// nothing is left.
    Undo {
        preview: bool,
        hierarchies: Vec<Hierarchy>,
        pick: UndoPick,
        skip_gone: bool,
    },
}

/// What an operation did (or, for a preview, would do).
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Limits written, or planned (`dry_run`).
    Set(SetOutcome),
    Freeze {
        freeze: bool,
        outcome: FreezeOutcome,
    },
    Move(MoveOutcome),
    Devices(DevicesOutcome),
    Undo(UndoOutcome),
    /// The entry an undo would revert, and what of it is gone (an undo skips it).
    UndoPreview {
        entry: JournalEntry,
        gone: Vec<String>,
    },
}
