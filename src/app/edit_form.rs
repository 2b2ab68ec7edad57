//! The forms that change cgroups: `e` (limits), `m` (move a process), and a device rule from the
//! devices view. Pure state and key handling; validation as the admin types uses the same
//! parser as `nsview set` ([`crate::policy::limits`]). What they produce is an
//! [`Operation`] for the worker.

use super::rows::RowKey;
use crate::effects::ops::{Operation, Places};
use crate::model::containers::Runtime;
use crate::model::{CgValue, Hierarchy, Snapshot, format};
use crate::policy::devices::DeviceRuleSpec;
use crate::policy::limits::{self, KeyDef, Knob};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::collections::BTreeMap;

/// Where the selected row's cgroups are, or why it has none to change.
pub fn places_for_row(snap: &Snapshot, key: &RowKey) -> Result<Places, String> {
    match key {
        RowKey::Container(key) => places_of_container(snap, key),
        RowKey::Process(pid) => {
            let comm = snap
                .processes
                .get(pid)
                .map(|p| p.comm.clone())
                .unwrap_or_default();
            places_of_process(snap, *pid, format!("{pid} {comm}"))
        }
        RowKey::Cgroup(_, path) => Ok(Places {
            label: path.clone(),
            target: path.clone(),
            places: snap
                .hierarchies
                .iter()
                .filter(|h| snap.cgroup(&h.key, path).is_some())
                .map(|h| (h.clone(), path.clone()))
                .collect(),
            docker: None,
            podman: None,
        }),
        RowKey::Host => Err("the host's own cgroups: select a container, cgroup or process".into()),
        RowKey::Namespace(_) | RowKey::NetNs(_) => {
            Err("a namespace has no cgroup: select a container, cgroup or process".into())
        }
    }
}

/// A process's cgroups; a Docker container's init process goes through Docker's API.
fn places_of_process(snap: &Snapshot, pid: i32, label: String) -> Result<Places, String> {
    let p = snap.processes.get(&pid).ok_or("the process is gone")?;
    let places = snap
        .hierarchies
        .iter()
        .filter_map(|h| {
            p.cgroups
                .get(h.key.as_str())
                .map(|path| (h.clone(), path.to_string()))
        })
        .collect();
    // A Docker container's limits (and a Docker or podman container's freezing) go through its
    // runtime's API.
    let id_of = |rt: Runtime| {
        snap.containers
            .iter()
            .find(|c| c.init_pid == pid && c.runtime == Some(rt))
            .and_then(|c| c.id.clone())
    };
    Ok(Places {
        label,
        target: pid.to_string(),
        places,
        docker: id_of(Runtime::Docker),
        podman: id_of(Runtime::Podman),
    })
}

/// A container's own cgroups: an isolation group in a cgroup it shares (a user's session) must
/// not have the others' limits changed through it.
fn places_of_container(snap: &Snapshot, key: &str) -> Result<Places, String> {
    let c = snap.container(key).ok_or("the container is gone")?;
    let places: Vec<_> = snap
        .hierarchies
        .iter()
        .filter_map(|h| c.cgroups.get(&h.key).map(|path| (h.clone(), path.clone())))
        .collect();
    if places.is_empty() {
        return Err(format!(
            "{}: no cgroup of its own (its processes share their cgroups with others): select \
             its cgroup or a process",
            c.name
        ));
    }
    // A Docker container's limits (and a Docker or podman container's freezing) go through its
    // runtime's API.
    let id_of = |rt: Runtime| c.id.clone().filter(|_| c.runtime == Some(rt));
    Ok(Places {
        label: c.name.clone(),
        target: c.name.clone(),
        places,
        docker: id_of(Runtime::Docker),
        podman: id_of(Runtime::Podman),
    })
}

/// One editable limit.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The kernel file written (the version this cgroup has).
    pub key: &'static KeyDef,
    pub label: &'static str,
    /// The value in place, as the admin reads it.
    pub current: String,
    /// What was typed; empty = leave as is.
    pub input: String,
    /// Why the input is not accepted (shown under the field as it is typed).
    pub error: Option<String>,
    /// What is checked as the value is typed, beyond its syntax.
    pub checks: FieldChecks,
}

/// The checks a write makes that the form can make as the admin types, from the snapshot: the
/// same functions as the write's, so a value the form accepts is not refused for these reasons
/// after Enter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldChecks {
    /// cpuset.cpus / cpuset.mems: the parent's list (v1 its file, v2 its `.effective` one).
    pub parent_list: Option<String>,
    /// The target is a Docker container whose limits go through Docker's API: Docker's rules
    /// (its 6 MB minimum memory) apply.
    pub docker: bool,
}

impl Field {
    fn validate(&mut self) {
        let input = self.input.trim();
        self.error = if input.is_empty() {
            None
        } else {
            self.check(input).err()
        };
    }

    fn check(&self, input: &str) -> Result<(), String> {
        let a = limits::parse_key_value(self.key.name, input).map_err(|e| e.to_string())?;
        if self.checks.docker {
            limits::check_docker(&a).map_err(|e| e.to_string())?;
        }
        if let (limits::Value::List(list), Some(parent)) = (&a.value, &self.checks.parent_list) {
            limits::check_within_parent(self.key.name, list, parent)
                .map_err(|why| format!("{}: {why}", self.key.name))?;
        }
        Ok(())
    }
}

/// The list a cpuset file of `path` in hierarchy `h` must stay within: the parent's, from the
/// snapshot (None when the snapshot does not have it: the write checks it then).
fn parent_cpuset(snap: &Snapshot, h: &Hierarchy, path: &str, file: &str) -> Option<String> {
    let trimmed = path.trim_end_matches('/');
    let (parent, _) = trimmed.rsplit_once('/')?;
    let parent = snap.cgroup(&h.key, if parent.is_empty() { "/" } else { parent })?;
    let v = if h.version == 1 {
        parent.limits.get(file)
    } else {
        parent.usage.get(&format!("{file}.effective"))
    }?;
    Some(format::value(v))
}

/// `e`: the limits of one target.
#[derive(Debug, Clone, PartialEq)]
pub struct EditForm {
    pub at: Places,
    pub fields: Vec<Field>,
    pub focus: usize,
    /// Why Enter did nothing.
    pub error: Option<String>,
}

/// What a key did to a form.
#[derive(Debug, Clone, PartialEq)]
pub enum FormResult {
    Editing,
    Cancel,
    Submit(Operation),
    /// Ask first (y/n), then run `then`.
    Confirm {
        title: String,
        lines: Vec<String>,
        then: Operation,
    },
}

/// Whether the snapshot says the cgroup `path` of hierarchy `key` is frozen: v1 freezer.state
/// other than THAWED (which covers a frozen ancestor), v2 cgroup.freeze 1 of it or an ancestor.
pub fn frozen_in(snap: &Snapshot, key: &str, path: &str) -> bool {
    let mut at = Some(path.to_string());
    while let Some(p) = at {
        if let Some(c) = snap.cgroup(key, &p) {
            match (c.limits.get("freezer.state"), c.limits.get("cgroup.freeze")) {
                (Some(CgValue::Text(s)), _) => return s.trim() != "THAWED",
                (_, Some(CgValue::Int(1))) => return true,
                _ => {}
            }
        }
        at = p
            .rsplit_once('/')
            .filter(|_| p != "/")
            .map(|(parent, _)| if parent.is_empty() { "/" } else { parent }.to_string());
    }
    false
}

/// The knobs the form offers, in order, with a label.
const FIELDS: &[(Knob, &str)] = &[
    (Knob::CpuWeight, "CPU weight"),
    (Knob::CpuBandwidth, "CPU quota"),
    (Knob::CpusetCpus, "CPUs"),
    (Knob::CpusetMems, "memory nodes"),
    (Knob::MemoryLimit, "memory limit"),
    (Knob::MemoryHigh, "memory high"),
    (Knob::Swap, "swap"),
    (Knob::PidsMax, "max processes"),
];

impl EditForm {
    /// The form for a row: one field per limit file its cgroups have, with the current values.
    pub fn for_row(snap: &Snapshot, key: &RowKey) -> Result<EditForm, String> {
        let at = places_for_row(snap, key)?;
        let mut fields = Vec::new();
        for (knob, label) in FIELDS {
            let found = at.places.iter().find_map(|(h, path)| {
                let c = snap.cgroup(&h.key, path)?;
                let name = match knob {
                    Knob::CpuBandwidth if h.version == 1 => "cpu.cfs_quota_us",
                    _ => limits::file_for(*knob, h.version)?,
                };
                let v = c.limits.get(name)?;
                let parent_list = matches!(knob, Knob::CpusetCpus | Knob::CpusetMems)
                    .then(|| parent_cpuset(snap, h, path, name))
                    .flatten();
                Some((h.version, name, v, c, parent_list))
            });
            let Some((version, name, v, c, parent_list)) = found else {
                continue;
            };
            // The bandwidth field takes cpu.max's syntax on both versions.
            let key = if *knob == Knob::CpuBandwidth {
                limits::key("cpu.max")
            } else {
                limits::key(name)
            };
            let Some(key) = key else { continue };
            // v1's swap file limits memory + swap; say so where the number is typed.
            let label = if *knob == Knob::Swap && version == 1 {
                "memory + swap"
            } else {
                label
            };
            fields.push(Field {
                key,
                label,
                current: describe_current(name, v, c, version),
                input: String::new(),
                error: None,
                checks: FieldChecks {
                    parent_list,
                    docker: at.docker.is_some(),
                },
            });
        }
        if fields.is_empty() {
            return Err(format!(
                "{}: no limit files here (the root cgroup, or no cpu, cpuset, memory or pids \
                 controller)",
                at.label
            ));
        }
        Ok(EditForm {
            at,
            fields,
            focus: 0,
            error: None,
        })
    }

    pub fn on_key(&mut self, k: KeyEvent) -> FormResult {
        let n = self.fields.len();
        match k.code {
            KeyCode::Esc => return FormResult::Cancel,
            KeyCode::Up | KeyCode::BackTab => self.focus = (self.focus + n - 1) % n,
            KeyCode::Down | KeyCode::Tab => self.focus = (self.focus + 1) % n,
            KeyCode::Enter => return self.submit(),
            KeyCode::Backspace => {
                self.fields[self.focus].input.pop();
                self.fields[self.focus].validate();
            }
            KeyCode::Char('u') if k.modifiers.contains(KeyModifiers::CONTROL) => {
                self.fields[self.focus].input.clear();
                self.fields[self.focus].validate();
            }
            KeyCode::Char(c) if !k.modifiers.contains(KeyModifiers::CONTROL) => {
                let f = &mut self.fields[self.focus];
                if f.input.len() < 64 {
                    f.input.push(c);
                }
                f.validate();
            }
            _ => {}
        }
        self.error = None;
        FormResult::Editing
    }

    fn submit(&mut self) -> FormResult {
        if let Some(f) = self.fields.iter().find(|f| f.error.is_some()) {
            self.error = Some(format!("fix {} first", f.label));
            return FormResult::Editing;
        }
        let args: Vec<String> = self
            .fields
            .iter()
            .filter(|f| !f.input.trim().is_empty())
            .map(|f| format!("{}={}", f.key.name, f.input.trim()))
            .collect();
        if args.is_empty() {
            self.error = Some("type a new value in a field (empty fields stay as they are)".into());
            return FormResult::Editing;
        }
        match limits::parse_assignments(&args) {
            Ok(assignments) => FormResult::Submit(Operation::Set {
                at: self.at.clone(),
                assignments,
                preview: true,
                expect: None,
            }),
            Err(e) => {
                self.error = Some(e.to_string());
                FormResult::Editing
            }
        }
    }
}

/// A limit as the form shows it: the raw value with units, and both scales for CPU weight.
fn describe_current(name: &str, v: &CgValue, c: &crate::model::Cgroup, _version: u8) -> String {
    match (name, v) {
        ("cpu.shares", CgValue::Int(s)) => {
            format!(
                "{s} (weight {})",
                limits::shares_to_weight((*s).max(0) as u64)
            )
        }
        ("cpu.weight", CgValue::Int(w)) => {
            format!(
                "{w} (shares {})",
                limits::weight_to_shares((*w).max(0) as u64)
            )
        }
        ("cpu.cfs_quota_us", CgValue::Int(q)) => {
            let period = match c.limits.get("cpu.cfs_period_us") {
                Some(CgValue::Int(p)) => *p,
                _ => limits::PERIOD_DEFAULT as i64,
            };
            if *q < 0 {
                format!("max {period}")
            } else {
                format!("{q} {period} ({:.2} CPUs)", *q as f64 / period as f64)
            }
        }
        ("cpu.max", CgValue::List(l)) => {
            let parts: Vec<String> = l.iter().map(format::value).collect();
            match (parts.first(), parts.get(1)) {
                (Some(q), Some(p)) if q != "max" => match (q.parse::<f64>(), p.parse::<f64>()) {
                    (Ok(q), Ok(p)) if p > 0.0 => {
                        format!("{} ({:.2} CPUs)", parts.join(" "), q / p)
                    }
                    _ => parts.join(" "),
                },
                _ => parts.join(" "),
            }
        }
        (_, CgValue::Int(n)) if name.starts_with("memory.") => {
            if format::is_unlimited(*n) || *n < 0 {
                "max".into()
            } else {
                limits::human_size(*n as u64)
            }
        }
        (_, CgValue::Text(t)) if t.is_empty() => "(empty)".into(),
        _ => format::value(v),
    }
}

/// `m`: move the selected process into another cgroup.
#[derive(Debug, Clone, PartialEq)]
pub struct MoveForm {
    pub pid: i32,
    pub comm: String,
    /// The destination path, as typed.
    pub path: String,
    /// Hierarchies the process is in; `hierarchy` None = all of them that have the path.
    pub choices: Vec<String>,
    pub hierarchy: Option<usize>,
    /// 0: path, 1: hierarchy.
    pub focus: usize,
    /// Validation of the path as typed.
    pub error: Option<String>,
    /// Hierarchies (key, mount, version) and which have which paths, from the snapshot.
    known: Vec<(crate::model::Hierarchy, Vec<String>)>,
    /// Where the process is now: hierarchy key -> path.
    from: BTreeMap<String, String>,
    /// The cgroups (hierarchy key, path) the snapshot shows frozen, among those it could go to.
    frozen: Vec<(String, String)>,
}

impl MoveForm {
    pub fn for_row(snap: &Snapshot, key: &RowKey) -> Result<MoveForm, String> {
        let RowKey::Process(pid) = key else {
            return Err("m moves a process: select one in the Processes view (4)".into());
        };
        let p = snap.processes.get(pid).ok_or("the process is gone")?;
        crate::policy::process::check_movable(*pid, &p.comm, p.kernel_thread)?;
        let known: Vec<(crate::model::Hierarchy, Vec<String>)> = snap
            .hierarchies
            .iter()
            .map(|h| {
                let paths = snap
                    .cgroups
                    .iter()
                    .filter(|c| c.hierarchy == h.key)
                    .map(|c| c.path.clone())
                    .collect();
                (h.clone(), paths)
            })
            .collect();
        let choices: Vec<String> = known
            .iter()
            .filter(|(h, _)| p.cgroups.contains_key(h.key.as_str()))
            .map(|(h, _)| h.key.clone())
            .collect();
        // Start from where it is (the memory hierarchy's path, else any), to edit from there.
        let path = p
            .cgroups
            .get("memory")
            .or_else(|| p.cgroups.values().next())
            .map(|s| s.to_string())
            .unwrap_or_else(|| "/".into());
        let frozen = known
            .iter()
            .filter(|(h, _)| choices.contains(&h.key))
            .flat_map(|(h, paths)| paths.iter().map(move |p| (h.key.clone(), p.clone())))
            .filter(|(k, p)| frozen_in(snap, k, p))
            .collect();
        let from = p
            .cgroups
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut form = MoveForm {
            pid: *pid,
            comm: p.comm.clone(),
            path,
            choices,
            hierarchy: None,
            focus: 0,
            error: None,
            known,
            from,
            frozen,
        };
        form.validate();
        Ok(form)
    }

    /// Which hierarchies the move lands in, given the path and the choice.
    fn destinations(&self) -> Vec<(crate::model::Hierarchy, String)> {
        self.known
            .iter()
            .filter(|(h, _)| match self.hierarchy {
                None => self.choices.contains(&h.key),
                Some(i) => self.choices.get(i) == Some(&h.key),
            })
            .filter(|(_, paths)| paths.contains(&self.path))
            .map(|(h, _)| (h.clone(), self.path.clone()))
            .collect()
    }

    fn validate(&mut self) {
        let dests = self.destinations();
        let frozen = dests.iter().find(|(h, p)| {
            self.from.get(&h.key) != Some(p) && self.frozen.contains(&(h.key.clone(), p.clone()))
        });
        self.error = if !self.path.starts_with('/') {
            Some("a cgroup path starts with /".into())
        } else if dests.is_empty() {
            Some(match self.hierarchy.and_then(|i| self.choices.get(i)) {
                Some(h) => format!("no cgroup {} in {h}", self.path),
                None => format!("no cgroup {} in any hierarchy of this process", self.path),
            })
        } else if let Some((h, p)) = frozen {
            Some(format!(
                "{}:{p} is frozen: a process moved into it stops; thaw it first (f)",
                h.key
            ))
        } else {
            None
        };
    }

    /// The confirmation of the move to the destinations: where it is and where it goes, per
    /// hierarchy.
    fn confirm(&self, then: Operation) -> FormResult {
        let mut lines = vec![format!(
            "move {} ({}) to {}?",
            self.pid, self.comm, self.path
        )];
        for (h, to) in self.destinations() {
            let from = self.from.get(&h.key).map(String::as_str).unwrap_or("?");
            lines.push(if from == to {
                format!("  {}: already in {to}", h.key)
            } else {
                format!("  {}: {from} -> {to}", h.key)
            });
        }
        lines
            .push("its limits and accounting become those of the new cgroups (u undoes it)".into());
        lines.push(String::new());
        lines.push("y: yes, n / Esc: no".into());
        FormResult::Confirm {
            title: format!("move {}", self.pid),
            lines,
            then,
        }
    }

    /// The hierarchy choice as shown.
    pub fn hierarchy_text(&self) -> String {
        match self.hierarchy.and_then(|i| self.choices.get(i)) {
            Some(h) => h.clone(),
            None => "all that have the path".into(),
        }
    }

    pub fn on_key(&mut self, k: KeyEvent) -> FormResult {
        match k.code {
            KeyCode::Esc => return FormResult::Cancel,
            KeyCode::Tab | KeyCode::BackTab | KeyCode::Up | KeyCode::Down => {
                self.focus = 1 - self.focus
            }
            KeyCode::Enter => {
                if let Some(e) = &self.error {
                    let e = e.clone();
                    self.error = Some(e);
                    return FormResult::Editing;
                }
                let places = self.destinations();
                return self.confirm(Operation::Move {
                    at: Places {
                        label: self.path.clone(),
                        target: self.path.clone(),
                        places,
                        docker: None,
                        podman: None,
                    },
                    pid: self.pid,
                });
            }
            KeyCode::Left | KeyCode::Right | KeyCode::Char(' ') if self.focus == 1 => {
                let n = self.choices.len() + 1;
                let cur = self.hierarchy.map_or(0, |i| i + 1);
                let next = if k.code == KeyCode::Left {
                    (cur + n - 1) % n
                } else {
                    (cur + 1) % n
                };
                self.hierarchy = next.checked_sub(1);
            }
            KeyCode::Backspace if self.focus == 0 => {
                self.path.pop();
            }
            KeyCode::Char('u')
                if self.focus == 0 && k.modifiers.contains(KeyModifiers::CONTROL) =>
            {
                self.path.clear()
            }
            KeyCode::Char(c)
                if self.focus == 0
                    && !k.modifiers.contains(KeyModifiers::CONTROL)
                    && self.path.len() < 4096 =>
            {
                self.path.push(c)
            }
            _ => {}
        }
        self.validate();
        FormResult::Editing
    }
}

/// A device rule typed in the devices view.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleForm {
    pub at: Places,
    pub allow: bool,
    pub text: String,
    pub error: Option<String>,
}

impl RuleForm {
    pub fn new(at: Places, allow: bool) -> RuleForm {
        RuleForm {
            at,
            allow,
            text: String::new(),
            error: None,
        }
    }

    pub fn on_key(&mut self, k: KeyEvent) -> FormResult {
        match k.code {
            KeyCode::Esc => return FormResult::Cancel,
            KeyCode::Enter => {
                return match DeviceRuleSpec::parse(&self.text) {
                    Ok(rule) => FormResult::Submit(Operation::Device {
                        at: self.at.clone(),
                        allow: self.allow,
                        rule,
                    }),
                    Err(e) => {
                        self.error = Some(e.to_string());
                        FormResult::Editing
                    }
                };
            }
            KeyCode::Backspace => {
                self.text.pop();
            }
            KeyCode::Char(c)
                if !k.modifiers.contains(KeyModifiers::CONTROL) && self.text.len() < 64 =>
            {
                self.text.push(c)
            }
            _ => {}
        }
        self.error = if self.text.trim().is_empty() {
            None
        } else {
            DeviceRuleSpec::parse(&self.text)
                .err()
                .map(|e| e.to_string())
        };
        FormResult::Editing
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Cgroup, Hierarchy, Process};
    use std::collections::BTreeMap;
    use std::sync::Arc;

    fn key(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
    }

    fn snap() -> Snapshot {
        let mut s = Snapshot::default();
        for (k, v) in [("cpu", 1u8), ("memory", 1)] {
            s.hierarchies.push(Hierarchy {
                key: k.into(),
                version: v,
                controllers: vec![k.into()],
                mount: format!("/sys/fs/cgroup/{k}"),
                id: 1,
            });
        }
        let cg = |h: &str, limits: &[(&str, CgValue)]| Cgroup {
            hierarchy: h.into(),
            path: "/web".into(),
            pids: vec![7],
            limits: limits
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
            usage: BTreeMap::new(),
            devices: None,
            devices_default: None,
            owner_uid: 0,
        };
        s.cgroups.push(cg(
            "cpu",
            &[
                ("cpu.shares", CgValue::Int(2048)),
                ("cpu.cfs_quota_us", CgValue::Int(-1)),
                ("cpu.cfs_period_us", CgValue::Int(100_000)),
            ],
        ));
        s.cgroups.push(cg(
            "memory",
            &[("memory.limit_in_bytes", CgValue::Int(134_217_728))],
        ));
        let mut p = Process {
            pid: 7,
            comm: "sleep".into(),
            ..Process::default()
        };
        for h in ["cpu", "memory"] {
            p.cgroups.insert(Arc::from(h), Arc::from("/web"));
        }
        s.processes.insert(7, p);
        s
    }

    #[test]
    fn edit_form_shows_current_values_and_validates_as_typed() {
        let s = snap();
        let mut f = EditForm::for_row(&s, &RowKey::Process(7)).expect("form");
        let labels: Vec<(&str, &str)> = f
            .fields
            .iter()
            .map(|f| (f.label, f.current.as_str()))
            .collect();
        assert_eq!(
            labels,
            [
                ("CPU weight", "2048 (weight 174)"),
                ("CPU quota", "max 100000"),
                ("memory limit", "128M")
            ]
        );
        f.on_key(key('1'));
        assert!(
            f.fields[0]
                .error
                .as_deref()
                .is_some_and(|e| e.contains("out of range"))
        );
        assert_eq!(
            f.on_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
            FormResult::Editing
        );
        assert!(f.error.is_some());
        f.on_key(key('0'));
        f.on_key(key('2'));
        f.on_key(key('4'));
        assert_eq!(f.fields[0].error, None, "1024 is fine");
        f.on_key(KeyEvent::new(KeyCode::Down, KeyModifiers::NONE));
        f.on_key(KeyEvent::new(KeyCode::Down, KeyModifiers::NONE));
        for c in "256m".chars() {
            f.on_key(key(c));
        }
        match f.on_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)) {
            FormResult::Submit(Operation::Set {
                assignments,
                preview,
                ..
            }) => {
                assert!(preview);
                let names: Vec<&str> = assignments.iter().map(|r| r.key.name).collect();
                assert_eq!(names, ["cpu.shares", "memory.limit_in_bytes"]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn fields_check_what_the_write_checks_as_typed() {
        let field = |name: &str, checks: FieldChecks, input: &str| {
            let mut f = Field {
                key: limits::key(name).expect("key"),
                label: "x",
                current: String::new(),
                input: input.into(),
                error: None,
                checks,
            };
            f.validate();
            f.error
        };
        let parent = FieldChecks {
            parent_list: Some("0-1".into()),
            docker: false,
        };
        assert_eq!(
            field("cpuset.cpus", parent.clone(), "7").as_deref(),
            Some("cpuset.cpus: 7 is not in the parent's cpuset.cpus (0-1)")
        );
        assert_eq!(field("cpuset.cpus", parent, "1,0"), None);
        let docker = FieldChecks {
            parent_list: None,
            docker: true,
        };
        assert!(
            field("memory.limit_in_bytes", docker.clone(), "4m")
                .is_some_and(|e| e.contains("Docker's minimum"))
        );
        assert_eq!(field("memory.limit_in_bytes", docker, "6m"), None);
        assert_eq!(
            field("memory.limit_in_bytes", FieldChecks::default(), "4m"),
            None,
            "not a Docker container"
        );
    }

    #[test]
    fn frozen_in_reads_the_freezer_of_the_snapshot() {
        let mut s = snap();
        let mut limits = BTreeMap::new();
        limits.insert("freezer.state".to_string(), CgValue::Text("FROZEN".into()));
        for (h, l) in [("memory", BTreeMap::new()), ("freezer", limits)] {
            s.cgroups.push(Cgroup {
                hierarchy: h.into(),
                path: "/paused".into(),
                pids: vec![],
                limits: l,
                usage: BTreeMap::new(),
                devices: None,
                devices_default: None,
                owner_uid: 0,
            });
        }
        assert!(frozen_in(&s, "freezer", "/paused"));
        assert!(!frozen_in(&s, "memory", "/paused"));
    }

    #[test]
    fn move_form_checks_the_path_exists() {
        let mut s = snap();
        s.cgroups.push(Cgroup {
            hierarchy: "memory".into(),
            path: "/other".into(),
            pids: vec![],
            limits: BTreeMap::new(),
            usage: BTreeMap::new(),
            devices: None,
            devices_default: None,
            owner_uid: 0,
        });
        let mut f = MoveForm::for_row(&s, &RowKey::Process(7)).expect("form");
        assert_eq!(f.path, "/web");
        for _ in 0..3 {
            f.on_key(KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE));
        }
        for c in "other".chars() {
            f.on_key(key(c));
        }
        assert_eq!(f.error, None, "{:?}", f.error);
        // Enter asks first (issue 14 item 7): y then carries out `then`.
        match f.on_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)) {
            FormResult::Confirm {
                lines,
                then: Operation::Move { at, pid },
                ..
            } => {
                assert_eq!(pid, 7);
                let hs: Vec<&str> = at.places.iter().map(|(h, _)| h.key.as_str()).collect();
                assert_eq!(hs, ["memory"], "only memory has /other");
                assert!(
                    lines.iter().any(|l| l.trim() == "memory: /web -> /other"),
                    "{lines:?}"
                );
            }
            other => panic!("{other:?}"),
        }
        f.on_key(key('x'));
        assert!(
            f.error
                .as_deref()
                .is_some_and(|e| e.contains("no cgroup /otherx"))
        );
    }
}
