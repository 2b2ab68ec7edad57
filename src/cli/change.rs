//! The commands that change cgroups: set, freeze, thaw, move, devices, undo, journal. They
//! resolve the TARGET against a fresh snapshot, hand the work to the operations layer
//! ([`crate::effects::ops`]), and print its outcome ([`render`]).

mod args;
mod help;
mod render;
mod show;

pub use args::{ChangeCommand, RuleAction};

use crate::collect::{CollectOptions, Collector, ProcessSource};
use crate::effects::cgroup::{CgroupError, CgroupWriter, UndoForce, UndoPick};
use crate::effects::journal::Journal;
use crate::effects::ops::{Operations, Outcome, Places, SetMode, places_of_target};
use crate::policy::devices::DeviceRuleSpec;
use crate::policy::limits;
use crate::sys::Roots;
use std::io::Write;

/// Run a write command. `read_only` comes from --read-only or the config.
pub fn execute(
    cmd: ChangeCommand,
    roots: Roots,
    read_only: bool,
    source: ProcessSource,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let journal = Journal::default_location()?;
    let writer = CgroupWriter { read_only, journal };
    if let ChangeCommand::Journal { json } = cmd {
        return show::journal(&writer.journal, json, out);
    }
    let mut collector = Collector::new(roots.clone()).with_process_source(source);
    let snap = collector.collect(CollectOptions {
        cgroups: true,
        ..CollectOptions::PROCESSES
    })?;
    let ops = Operations {
        writer: &writer,
        roots: &roots,
    };
    let at = |target: &str| places_of_target(&snap, target);
    let freeze = matches!(cmd, ChangeCommand::Freeze(_));
    let (outcome, target, json): (Outcome, String, bool) = match cmd {
        ChangeCommand::Set {
            target,
            assignments,
            dry_run,
            direct,
            json,
        } => {
            let mode = SetMode {
                dry_run,
                direct,
                expect: None,
            };
            (set(&ops, &at(&target)?, &assignments, &mode)?, target, json)
        }
        ChangeCommand::Freeze(a) | ChangeCommand::Thaw(a) => (
            ops.freeze(&at(&a.target)?, freeze, a.direct)?,
            a.target,
            a.json,
        ),
        ChangeCommand::Move {
            pid,
            target,
            hierarchy,
            json,
        } => {
            let mut places = at(&target)?;
            if let Some(h) = &hierarchy {
                places = places.only_hierarchy(h)?;
            }
            (ops.move_process(&places, pid)?, target, json)
        }
        ChangeCommand::Devices {
            target,
            action,
            rule,
            json,
        } => {
            let places = at(&target)?;
            let Some(action) = action else {
                return show::devices(&snap, &places, &rule, json, out);
            };
            let spec = DeviceRuleSpec::parse(&rule.join(" ")).map_err(CgroupError::from)?;
            let allow = action == RuleAction::Allow;
            (ops.device_rule(&places, allow, &spec)?, target, json)
        }
        ChangeCommand::Undo { entry, force, json } => (
            undo(&ops, &snap.hierarchies, entry, force)?,
            String::new(),
            json,
        ),
        ChangeCommand::Journal { .. } => return Ok(()),
    };
    render::outcome(out, &roots, &target, &outcome, json)
}

/// `set`: the KEY=VALUE arguments checked, then the operation.
fn set(
    ops: &Operations,
    at: &Places,
    assignments: &[String],
    mode: &SetMode,
) -> Result<Outcome, CgroupError> {
    let assignments = limits::parse_assignments(assignments).map_err(CgroupError::from)?;
    ops.set(at, &assignments, mode)
}

/// `nsview undo [ENTRY] [--force]`.
fn undo(
    ops: &Operations,
    hierarchies: &[crate::model::Hierarchy],
    entry: Option<u64>,
    force: bool,
) -> Result<Outcome, CgroupError> {
    let pick = entry.map_or(UndoPick::Newest, UndoPick::Entry);
    let force = if force {
        UndoForce::ALL
    } else {
        UndoForce::default()
    };
    ops.undo(hierarchies, force, pick)
}
