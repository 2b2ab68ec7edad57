//! An operation's outcome as the CLI prints it: text for the admin, or JSON.

use crate::effects::cgroup::{
    DevicesOutcome, FreezeOutcome, MoveOutcome, SetOutcome, UndoOutcome, Written,
};
use crate::effects::journal::{Change, JournalEntry};
use crate::effects::ops::Outcome;
use crate::model::DeviceRule;
use crate::policy::limits;
use crate::sys::Roots;
use crate::sys::parse;
use serde_json::json;
use std::io::Write;

/// Print `outcome` of the command on `target`; a freeze or thaw that did not reach its state is
/// an error after the output.
pub fn outcome(
    out: &mut impl Write,
    roots: &Roots,
    target: &str,
    outcome: &Outcome,
    json: bool,
) -> anyhow::Result<()> {
    match outcome {
        Outcome::Set(o) => set(out, target, o, json),
        Outcome::Freeze { freeze, outcome } => freeze_state(out, target, *freeze, outcome, json),
        Outcome::Move(o) => moved(out, target, o, json),
        Outcome::Devices(o) => device_rule(out, roots, target, o, json),
        Outcome::Undo(o) => undone(out, o, json),
        Outcome::UndoPreview { .. } => Ok(()),
    }
}

/// `set`: old -> new per file, what was in place already, notes.
fn set(out: &mut impl Write, target: &str, o: &SetOutcome, json: bool) -> anyhow::Result<()> {
    if json {
        return print(
            out,
            &json!({
                "action": "set",
                "target": target,
                "dry_run": o.dry_run,
                "changes": o.written.iter().map(written_json).collect::<Vec<_>>(),
                "unchanged": o.unchanged.iter().map(written_json).collect::<Vec<_>>(),
                "journal_id": o.entry.as_ref().map(|e| e.id),
                "notes": o.notes,
            }),
        );
    }
    let verb = if o.dry_run { "would set" } else { "set" };
    say!(out, "{verb} {target}:")?;
    for w in &o.written {
        say!(out, "  {}", w.describe())?;
    }
    for w in &o.unchanged {
        say!(out, "{})", unchanged_line(w))?;
    }
    for n in &o.notes {
        say!(out, "  note: {n}")?;
    }
    footer(out, o.entry.as_ref(), o.dry_run)
}

/// `move`: where the process was and is, per hierarchy.
fn moved(out: &mut impl Write, target: &str, o: &MoveOutcome, json: bool) -> anyhow::Result<()> {
    if json {
        return print(
            out,
            &json!({
                "action": "move",
                "pid": o.pid,
                "target": target,
                "changes": o.changes,
                "unchanged": o.unchanged.iter().map(|l| &l.hierarchy).collect::<Vec<_>>(),
                "journal_id": o.entry.as_ref().map(|e| e.id),
            }),
        );
    }
    say!(out, "moved {} ({}):", o.pid, o.comm)?;
    for l in o.describe() {
        say!(out, "  {l}")?;
    }
    footer(out, o.entry.as_ref(), false)
}

/// `devices TARGET allow|deny RULE`: devices.list after, decoded.
fn device_rule(
    out: &mut impl Write,
    roots: &Roots,
    target: &str,
    o: &DevicesOutcome,
    json: bool,
) -> anyhow::Result<()> {
    if json {
        return print(
            out,
            &json!({
                "action": "devices",
                "target": target,
                "rule": format!("{} {}", if o.allow { "allow" } else { "deny" }, o.rule),
                "old": o.old.lines().collect::<Vec<_>>(),
                "devices": o.now.lines().collect::<Vec<_>>(),
                "journal_id": o.entry.as_ref().map(|e| e.id),
            }),
        );
    }
    let verb = if o.allow { "allowed" } else { "denied" };
    let place = o.location.label();
    say!(out, "{verb} {} in {place}; devices.list now:", o.rule)?;
    print_rules(out, &decode(roots, &o.now), "    ")?;
    footer(out, o.entry.as_ref(), false)
}

/// `undo`: the entry reverted (or skipped) and each change it made.
fn undone(out: &mut impl Write, o: &UndoOutcome, json: bool) -> anyhow::Result<()> {
    let skipped = o.reverted.is_empty() && !o.skipped.is_empty();
    if json {
        return print(
            out,
            &json!({
                "action": "undo",
                "undone": o.undone.id,
                "state": if skipped { "skipped" } else { "undone" },
                "changes": o.reverted,
                "skipped": o.skipped,
                "notes": o.notes,
                "journal_id": o.entry.as_ref().map(|e| e.id),
            }),
        );
    }
    let e = &o.undone;
    let (id, action, time) = (e.id, e.action.as_str(), &e.time);
    if skipped {
        say!(
            out,
            "skipped entry {id} ({action} {} at {time}): everything it changed is gone; the next \
             undo reaches older changes",
            e.target
        )?;
    } else {
        say!(out, "undid entry {id} ({action} {} at {time}):", e.target)?;
    }
    for c in &o.reverted {
        say!(out, "  {}", change_line(c))?;
    }
    for s in &o.skipped {
        say!(out, "  skipped (gone): {s}")?;
    }
    for n in &o.notes {
        say!(out, "  note: {n}")?;
    }
    Ok(())
}

/// `freeze` / `thaw`: the state reached, and why it may not be the one asked.
fn freeze_state(
    out: &mut impl Write,
    target: &str,
    freeze: bool,
    o: &FreezeOutcome,
    json: bool,
) -> anyhow::Result<()> {
    let wanted = if freeze { "FROZEN" } else { "THAWED" };
    if json {
        print(
            out,
            &json!({
                "action": if freeze { "freeze" } else { "thaw" },
                "target": target,
                "hierarchy": o.location.hierarchy,
                "cgroup": o.location.path,
                "file": o.file,
                "old": o.old,
                "state": o.state,
                "parent_frozen": o.parent_frozen,
                "journal_id": o.entry.as_ref().map(|e| e.id),
                "notes": o.notes,
            }),
        )?;
    } else {
        let mut lines = o.describe(freeze).into_iter();
        say!(out, "{}", lines.next().unwrap_or_default())?;
        for l in lines {
            say!(out, "  {l}")?;
        }
        for n in &o.notes {
            say!(out, "  note: {n}")?;
        }
        footer(out, o.entry.as_ref(), false)?;
    }
    if o.state != wanted {
        anyhow::bail!("{target}: {} is {}, not {wanted}", o.file, o.state);
    }
    Ok(())
}

/// A write skipped because the value is in place (the caller closes the parenthesis).
fn unchanged_line(w: &Written) -> String {
    let mut line = format!(
        "  {} {} already {} (unchanged",
        w.location.label(),
        w.write.file,
        limits::annotate(&w.write.file, &w.old)
    );
    if !w.write.asked.starts_with(&format!("{}=", w.write.file)) {
        line.push_str(&format!("; asked {}", w.write.asked));
    }
    for n in &w.write.notes {
        line.push_str(&format!("; {n}"));
    }
    line
}

fn written_json(w: &Written) -> serde_json::Value {
    json!({
        "hierarchy": w.location.hierarchy,
        "cgroup": w.location.path,
        "file": w.write.file,
        "old": w.old,
        "new": w.now,
        "asked": w.write.asked,
        "notes": w.write.notes,
    })
}

fn footer(out: &mut impl Write, entry: Option<&JournalEntry>, dry_run: bool) -> anyhow::Result<()> {
    if dry_run {
        say!(out, "dry run: nothing written")?;
    } else if let Some(e) = entry {
        say!(out, "journal entry {} (nsview undo reverts it)", e.id)?;
    } else {
        say!(out, "nothing to change")?;
    }
    Ok(())
}

/// One change of a journal entry, as a line.
pub fn change_line(c: &Change) -> String {
    match c.pid {
        Some(pid) => format!("{}: process {pid} {} -> {}", c.hierarchy, c.old, c.new),
        None if c.file.starts_with("devices.") => format!(
            "{}:{} {} ({}): devices.list {} -> {}",
            c.hierarchy,
            c.cgroup,
            c.file,
            c.rule.as_deref().unwrap_or("-"),
            c.old.replace('\n', ", "),
            c.new.replace('\n', ", ")
        ),
        None => format!(
            "{}:{} {}",
            c.hierarchy,
            c.cgroup,
            limits::describe(&c.file, &c.old, &c.new)
        ),
    }
}

pub fn print(out: &mut impl Write, v: &serde_json::Value) -> anyhow::Result<()> {
    Ok(super::super::json::write_pretty(out, v)?)
}

pub fn print_rules(out: &mut impl Write, rules: &[DeviceRule], indent: &str) -> anyhow::Result<()> {
    if rules.is_empty() {
        say!(out, "{indent}(none: every device denied)")?;
    }
    for r in rules {
        let n = |v: Option<u32>| v.map_or("*".to_string(), |v| v.to_string());
        say!(
            out,
            "{indent}{} {}:{} {:<3}  {}",
            r.kind,
            n(r.major),
            n(r.minor),
            r.access,
            r.name.as_deref().unwrap_or("")
        )?;
    }
    Ok(())
}

/// devices.list text -> rules named from /dev and /proc/devices.
pub fn decode(roots: &Roots, list: &str) -> Vec<DeviceRule> {
    let lines = parse::parse_devices_list(list).unwrap_or_default();
    let nodes = crate::sys::cgroupfs::read_dev_nodes(&roots.dev);
    let drivers = crate::sys::procfs::read_proc_devices(roots).unwrap_or_default();
    crate::sys::cgroupfs::name_devices(&lines, &nodes, &drivers)
}
