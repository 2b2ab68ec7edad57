//! The change commands that only read: `journal`, and `devices` without a rule.

use super::render::{change_line, print, print_rules};
use crate::effects::journal::{self, Journal};
use crate::effects::ops::Places;
use crate::model::{Cgroup, Snapshot};
use serde_json::json;
use std::io::Write;

/// `nsview journal`: every change, with its state (done, undone, skipped) and what undid it.
pub fn journal(j: &Journal, json: bool, out: &mut impl Write) -> anyhow::Result<()> {
    let entries = j.entries()?;
    if json {
        let listed: Vec<serde_json::Value> = entries
            .iter()
            .map(|e| {
                let mut v = serde_json::to_value(e).unwrap_or_default();
                if let Some(obj) = v.as_object_mut() {
                    obj.insert("state".into(), json!(journal::state_of(&entries, e.id)));
                    obj.insert(
                        "undone_by".into(),
                        json!(journal::undone_by(&entries, e.id)),
                    );
                }
                v
            })
            .collect();
        return print(out, &json!({"path": j.path, "entries": listed}));
    }
    if entries.is_empty() {
        say!(out, "no changes yet (journal {})", j.path.display())?;
        return Ok(());
    }
    for e in &entries {
        let status = match (e.undo_of, journal::undone_by(&entries, e.id)) {
            (Some(of), _) if e.changes.is_empty() => format!("(skip of {of})"),
            (Some(of), _) => format!("(undo of {of})"),
            (None, Some(by)) => {
                let state = journal::state_of(&entries, e.id);
                format!("({} by {by})", state.as_str())
            }
            (None, None) => "(done)".to_string(),
        };
        say!(
            out,
            "{:>4}  {}  {}  {} {}  {status}",
            e.id,
            e.time,
            e.sudo_user.as_deref().unwrap_or(&e.user),
            e.action.as_str(),
            e.target
        )?;
        for c in &e.changes {
            say!(out, "        {}", change_line(c))?;
        }
        for s in &e.skipped {
            say!(out, "        skipped (gone): {s}")?;
        }
    }
    Ok(())
}

/// `nsview devices TARGET`: the device rules decoded.
pub fn devices(
    snap: &Snapshot,
    at: &Places,
    rule: &[String],
    json: bool,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    if !rule.is_empty() {
        anyhow::bail!("give allow or deny before the rule");
    }
    let c = devices_cgroup(snap, at)?;
    if json {
        return print(
            out,
            &json!({"target": at.target, "cgroup": c.path, "default": c.devices_default, "devices": c.devices}),
        );
    }
    let default = c.devices_default.as_deref().unwrap_or("deny");
    say!(
        out,
        "{}: default {default}{}",
        c.path,
        if default == "allow" {
            " (every device; deny exceptions are not visible in devices.list)"
        } else {
            ", allowed:"
        }
    )?;
    if default != "allow" {
        print_rules(out, c.devices.as_deref().unwrap_or_default(), "  ")?;
    }
    Ok(())
}

/// The snapshot's devices cgroup among the places.
fn devices_cgroup<'a>(snap: &'a Snapshot, at: &Places) -> anyhow::Result<&'a Cgroup> {
    at.places
        .iter()
        .filter(|(h, _)| h.version == 1)
        .find_map(|(h, path)| snap.cgroup(&h.key, path).filter(|c| c.devices.is_some()))
        .ok_or_else(|| {
            anyhow::anyhow!(
                "no v1 devices hierarchy has this cgroup (on cgroup v2 device rules are eBPF \
                 programs: nsview devices TARGET allow|deny lists the attached ones)"
            )
        })
}
