//! v1 device rules: devices.allow and devices.deny written, devices.list read before and after,
//! and restored on undo (cgroup-v1/devices.rst). On v2 device rules are eBPF programs: nsview
//! says which are attached.

use super::control::{list_files, read_control, write_control};
use super::error::CgroupError;
use super::txn::TakeBack;
use super::{CgroupWriter, Location};
use crate::effects::journal::{Action, Change, JournalEntry};
use crate::policy::devices::DeviceRuleSpec;
use crate::sys::parse;

/// Result of a device rule.
#[derive(Debug, Clone)]
pub struct DevicesOutcome {
    pub location: Location,
    pub allow: bool,
    pub rule: DeviceRuleSpec,
    pub old: String,
    pub now: String,
    pub entry: Option<JournalEntry>,
    /// Why devices.list may not show a change.
    pub notes: Vec<String>,
}

/// A device rule written: the list before it is restored.
struct RuleBack {
    loc: Location,
    change: Change,
}

impl TakeBack for RuleBack {
    fn take_back(&self) -> Result<(), String> {
        revert_devices(&self.loc, &self.change)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

impl CgroupWriter {
    /// Add a v1 device rule (devices.allow or devices.deny) and read devices.list after.
    pub fn device_rule(
        &self,
        target: &str,
        locs: &[Location],
        allow: bool,
        rule: &DeviceRuleSpec,
    ) -> Result<DevicesOutcome, CgroupError> {
        let loc = devices_location(locs)?;
        let mut tx = self.begin("devices")?;
        let old = read_control(&loc, "devices.list")?;
        let file = if allow {
            "devices.allow"
        } else {
            "devices.deny"
        };
        write_control(&loc, file, &rule.to_string())?;
        let now = read_control(&loc, "devices.list")?;
        let default_allow = old.lines().any(|l| l.starts_with("a "));
        let notes = if now == old {
            vec![unchanged_note(default_allow, allow)]
        } else {
            Vec::new()
        };
        let change = Change {
            hierarchy: loc.hierarchy.clone(),
            cgroup: loc.path.clone(),
            file: file.into(),
            old: old.clone(),
            new: now.clone(),
            pid: None,
            start: None,
            rule: Some(format!("{} {rule}", if allow { "allow" } else { "deny" })),
            via: None,
        };
        // A no-op is not journaled, except a deny under allow-all, which did change something
        // devices.list cannot show.
        let entry = if now == old && (!default_allow || allow) {
            None
        } else {
            tx.made(RuleBack {
                loc: loc.clone(),
                change: change.clone(),
            });
            tx.commit(Action::Devices, target, vec![change], None)?
        };
        Ok(DevicesOutcome {
            location: loc,
            allow,
            rule: rule.clone(),
            old,
            now,
            entry,
            notes,
        })
    }
}

/// Why devices.list did not change.
fn unchanged_note(default_allow: bool, allow: bool) -> String {
    if default_allow && !allow {
        "devices.list does not change: the default is allow, and deny exceptions are not visible \
         in devices.list (the rule is in force)"
            .to_string()
    } else {
        "nothing changed: the kernel adds or removes only exceptions that match type, major and \
         minor exactly (c 136:0 does not remove c 136:*)"
            .to_string()
    }
}

/// The v1 devices location of `locs`, or an explanation (v2 has BPF programs instead).
fn devices_location(locs: &[Location]) -> Result<Location, CgroupError> {
    if let Some(l) = locs.iter().find(|l| {
        l.version == 1 && list_files(l).is_ok_and(|f| f.iter().any(|f| f == "devices.list"))
    }) {
        return Ok(l.clone());
    }
    let v2 = locs.iter().find(|l| l.version == 2);
    Err(CgroupError::Unsupported {
        what: match v2 {
            Some(l) => format!(
                "{}: cgroup v2 has no device files: device rules are eBPF programs \
                 (BPF_CGROUP_DEVICE) attached to the cgroup; {}",
                l.path,
                attached_programs(l)
            ),
            None => "no devices controller for this cgroup (no v1 devices hierarchy has it)".into(),
        },
    })
}

/// The BPF_CGROUP_DEVICE programs attached to a v2 cgroup, as a phrase.
fn attached_programs(l: &Location) -> String {
    match crate::sys::bpf::cgroup_device_programs(&l.dir()) {
        Ok(ids) if ids.is_empty() => "none is attached here".to_string(),
        Ok(ids) => format!(
            "attached here: program id{} {}",
            if ids.len() == 1 { "" } else { "s" },
            ids.iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Err(e) => format!("cannot list them: {e}"),
    }
}

/// Undo a device rule: restore the list that was in place (cgroup-v1/devices.rst).
/// - Before, a whitelist (default deny): devices.list showed all of it, so it is restored
///   exactly: from allow-all back to deny-all first, then the old entries allowed again and
///   entries that were not there denied.
/// - Before, the default was allow (`a *:* rwm`): deny exceptions are not visible in
///   devices.list, so the rule is inverted (a deny is allowed again, an allow denied), and a
///   switch to deny-all goes back to allow-all (exceptions that were hidden then are lost; the
///   kernel cannot show them).
///
/// The list read afterwards must be the old one, or the undo reports what differs.
pub(crate) fn revert_devices(loc: &Location, c: &Change) -> Result<Change, CgroupError> {
    let rule = c.rule.as_deref().unwrap_or_default();
    let (verb, spec) = rule.split_once(' ').unwrap_or(("", ""));
    let spec = DeviceRuleSpec::parse(spec)?;
    let old = parse::parse_devices_list(&c.old).unwrap_or_default();
    if allow_all(&old) {
        back_to_allow_all(loc, verb, &spec)?;
    } else {
        back_to_whitelist(loc, verb, &spec, &old)?;
    }
    let now = read_control(loc, "devices.list")?;
    if !same_devices(&now, &c.old) {
        return Err(CgroupError::Conflict {
            what: format!(
                "{}: devices.list could not be restored exactly: now {}, before the change {}",
                loc.label(),
                now.replace('\n', ", "),
                c.old.replace('\n', ", ")
            ),
        });
    }
    Ok(Change {
        old: c.new.clone(),
        new: now,
        file: if verb == "allow" {
            "devices.deny"
        } else {
            "devices.allow"
        }
        .into(),
        rule: Some(format!(
            "{} {spec} (undo)",
            if verb == "allow" { "deny" } else { "allow" }
        )),
        ..c.clone()
    })
}

/// Whether two devices.list contents hold the same rules: as sets, since the kernel lists its
/// exceptions in the order they were added (a rule allowed again comes last) and a rule's access
/// letters in its own order.
pub(crate) fn same_devices(a: &str, b: &str) -> bool {
    rule_set(a).is_some_and(|a| rule_set(b).is_some_and(|b| a == b))
}

type RuleKey = (char, Option<u32>, Option<u32>, Vec<char>);

fn rule_set(list: &str) -> Option<std::collections::BTreeSet<RuleKey>> {
    let lines = parse::parse_devices_list(list)?;
    Some(
        lines
            .into_iter()
            .map(|l| {
                let mut access: Vec<char> = l.access.chars().collect();
                access.sort_unstable();
                access.dedup();
                (l.kind, l.major, l.minor, access)
            })
            .collect(),
    )
}

fn allow_all(l: &[parse::DevicesLine]) -> bool {
    l.iter().any(|l| l.kind == 'a')
}

fn list(loc: &Location) -> Result<Vec<parse::DevicesLine>, CgroupError> {
    Ok(parse::parse_devices_list(&read_control(loc, "devices.list")?).unwrap_or_default())
}

fn spec_of(l: &parse::DevicesLine) -> DeviceRuleSpec {
    DeviceRuleSpec {
        kind: l.kind,
        major: l.major,
        minor: l.minor,
        access: l.access.clone(),
    }
}

/// The list before was a whitelist: restore it exactly.
fn back_to_whitelist(
    loc: &Location,
    verb: &str,
    spec: &DeviceRuleSpec,
    old: &[parse::DevicesLine],
) -> Result<(), CgroupError> {
    if allow_all(&list(loc)?) {
        write_control(loc, "devices.deny", "a")?;
    } else if verb == "allow" {
        write_control(loc, "devices.deny", &spec.to_string())?;
    }
    for line in old {
        if !list(loc)?.iter().any(|l| same_rule(l, line)) {
            write_control(loc, "devices.allow", &spec_of(line).to_string())?;
        }
    }
    for line in list(loc)? {
        if !old.iter().any(|l| same_rule(l, &line)) {
            write_control(loc, "devices.deny", &spec_of(&line).to_string())?;
        }
    }
    Ok(())
}

fn same_rule(a: &parse::DevicesLine, b: &parse::DevicesLine) -> bool {
    let letters = |l: &parse::DevicesLine| {
        let mut v: Vec<char> = l.access.chars().collect();
        v.sort_unstable();
        v
    };
    a.kind == b.kind && a.major == b.major && a.minor == b.minor && letters(a) == letters(b)
}

/// The default before was allow: invert the rule, or go back to allow-all.
fn back_to_allow_all(loc: &Location, verb: &str, spec: &DeviceRuleSpec) -> Result<(), CgroupError> {
    if !allow_all(&list(loc)?) {
        write_control(loc, "devices.allow", "a")?;
    } else if verb == "deny" {
        write_control(loc, "devices.allow", &spec.to_string())?;
    } else if spec.kind != 'a' {
        write_control(loc, "devices.deny", &spec.to_string())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_lists_are_compared_as_sets() {
        let before = "c 1:3 rwm\nc 1:5 rwm\nc 136:* rwm";
        // /dev/null allowed again after a deny comes last.
        let after = "c 1:5 rwm\nc 136:* rwm\nc 1:3 rwm";
        assert!(same_devices(before, after));
        assert!(same_devices("c 1:3 mwr", "c 1:3 rwm"));
        assert!(!same_devices(before, "c 1:5 rwm\nc 136:* rwm"));
        assert!(!same_devices("c 1:3 rw", "c 1:3 rwm"));
        assert!(same_devices("", ""));
    }
}
