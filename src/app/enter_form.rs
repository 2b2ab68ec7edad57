//! The enter dialog (`x`): which namespaces to join, whether to join the cgroups, and the command.

use super::rows::RowKey;
use crate::effects::enter::Credentials;
use crate::model::target::Target;
use crate::model::{NsType, Snapshot};
use crossterm::event::{KeyCode, KeyEvent};

/// What the user asked to run, handed to the event loop (which suspends the screen for it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnterRequest {
    pub target: Target,
    /// What the dialog called the target, for messages.
    pub label: String,
    pub ns: Vec<NsType>,
    pub join_cgroups: bool,
    /// Empty: the target's login shell.
    pub command: Vec<String>,
}

/// The dialog's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnterForm {
    pub target: Target,
    pub label: String,
    /// Namespace types the target has, with their inodes, in type order.
    pub available: Vec<(NsType, u64)>,
    pub chosen: Vec<bool>,
    pub join_cgroups: bool,
    /// False in read-only mode: joining cgroups writes cgroup.procs.
    pub cgroups_allowed: bool,
    pub command: String,
    /// What the command will run as (the TUI enters with the target's credentials; a namespace
    /// without a process has none, and is entered as root, as by `--privileged`).
    pub runs_as: Credentials,
    /// 0..available.len(): a namespace; then the cgroup switch; then the command line.
    pub focus: usize,
    /// Why Enter did not run (a command that does not parse).
    pub error: Option<String>,
}

/// What a key did to the form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormResult {
    Editing,
    Cancel,
    Run(EnterRequest),
}

impl EnterForm {
    /// The form for a selected row, with the defaults of `nsview enter`: every namespace in which
    /// the target differs from the host (for a namespace row, that namespace), cgroups joined.
    /// None for rows there is nothing to enter (the host itself).
    pub fn for_row(snap: &Snapshot, key: &RowKey, read_only: bool) -> Result<EnterForm, String> {
        let aim = RowTarget::of(snap, key)?;
        let (available, chosen) = aim.namespaces_offered(snap)?;
        let ns_target = matches!(aim.target, Target::Namespace(_));
        let processless = match &aim.target {
            Target::Namespace(k) => snap.namespaces.get(k).is_none_or(|n| n.pids.is_empty()),
            _ => false,
        };
        Ok(EnterForm {
            target: aim.target,
            label: aim.label,
            available,
            chosen,
            // A bare namespace has no cgroups of its own to join.
            join_cgroups: !read_only && !ns_target,
            cgroups_allowed: !read_only && !ns_target,
            command: String::new(),
            runs_as: if processless {
                Credentials::Privileged
            } else {
                Credentials::Target
            },
            focus: 0,
            error: None,
        })
    }

    fn fields(&self) -> usize {
        self.available.len() + 2
    }

    pub fn cgroup_field(&self) -> usize {
        self.available.len()
    }

    pub fn command_field(&self) -> usize {
        self.available.len() + 1
    }

    /// Handle one key.
    pub fn key(&mut self, k: KeyEvent) -> FormResult {
        let on_command = self.focus == self.command_field();
        match k.code {
            KeyCode::Esc => return FormResult::Cancel,
            KeyCode::Enter => {
                // Words as a shell splits them: quotes group, backslashes escape.
                let Some(command) = shlex::split(&self.command) else {
                    self.error = Some("unbalanced quote in the command".into());
                    return FormResult::Editing;
                };
                self.error = None;
                let ns: Vec<NsType> = self
                    .available
                    .iter()
                    .zip(&self.chosen)
                    .filter(|(_, c)| **c)
                    .map(|((t, _), _)| *t)
                    .collect();
                return FormResult::Run(EnterRequest {
                    target: self.target.clone(),
                    label: self.label.clone(),
                    ns,
                    join_cgroups: self.join_cgroups && self.cgroups_allowed,
                    command,
                });
            }
            KeyCode::Up | KeyCode::BackTab => {
                self.focus = (self.focus + self.fields() - 1) % self.fields();
            }
            KeyCode::Down | KeyCode::Tab => self.focus = (self.focus + 1) % self.fields(),
            KeyCode::Backspace if on_command => {
                self.command.pop();
            }
            KeyCode::Char(c) if on_command => self.command.push(c),
            KeyCode::Char(' ') => {
                if self.focus < self.available.len() {
                    self.chosen[self.focus] = !self.chosen[self.focus];
                } else if self.focus == self.cgroup_field() && self.cgroups_allowed {
                    self.join_cgroups = !self.join_cgroups;
                }
            }
            _ => {}
        }
        FormResult::Editing
    }
}

/// The namespaces a form offers (type, inode) and whether each is ticked.
type Offered = (Vec<(NsType, u64)>, Vec<bool>);

/// What a row enters: the target and its label, the process whose namespaces are offered (none
/// for a bare namespace), and the one type a namespace row offers.
struct RowTarget {
    target: Target,
    label: String,
    pid: Option<i32>,
    only: Option<NsType>,
}

impl RowTarget {
    fn of(snap: &Snapshot, key: &RowKey) -> Result<RowTarget, String> {
        let (target, label, pid, only) = match key {
            // Entered through its init, as `docker exec` does.
            RowKey::Container(key) => {
                let c = snap.container(key).ok_or("the container is gone")?;
                (
                    Target::Container(key.clone()),
                    c.name.clone(),
                    Some(c.init_pid),
                    None,
                )
            }
            RowKey::Process(pid) => {
                let p = snap.processes.get(pid).ok_or("the process is gone")?;
                (
                    Target::Process(*pid),
                    format!("{} {}", p.pid, p.comm),
                    Some(*pid),
                    None,
                )
            }
            RowKey::Namespace(k) => (
                Target::Namespace(*k),
                format!("{}:[{}]", k.0, k.1),
                None,
                Some(k.0),
            ),
            RowKey::NetNs(ino) => (
                Target::Namespace((NsType::Net, *ino)),
                format!("net:[{ino}]"),
                None,
                Some(NsType::Net),
            ),
            RowKey::Cgroup(_, path) => {
                let c = snap
                    .cgroups
                    .iter()
                    .find(|c| &c.path == path && !c.pids.is_empty())
                    .ok_or("this cgroup has no process to enter")?;
                let pid = c.pids[0];
                (Target::Cgroup(path.clone()), path.clone(), Some(pid), None)
            }
            RowKey::Host => return Err("this is the host: there is nothing to enter".into()),
        };
        Ok(RowTarget {
            target,
            label,
            pid,
            only,
        })
    }

    /// The namespaces the form offers, and which of them are ticked: those of the process in
    /// which it differs from the host, or the namespace of a namespace row.
    fn namespaces_offered(&self, snap: &Snapshot) -> Result<Offered, String> {
        Ok(match (self.pid, self.only) {
            (_, Some(t)) => match &self.target {
                Target::Namespace((_, ino)) => (vec![(t, *ino)], vec![true]),
                _ => (vec![], vec![]),
            },
            (Some(pid), None) => {
                let p = snap.processes.get(&pid).ok_or("the process is gone")?;
                let differs = snap.differs_from_host(p);
                let av: Vec<(NsType, u64)> = p.ns.iter().map(|(t, id)| (*t, id.ino)).collect();
                let ch = av.iter().map(|(t, _)| differs.contains(t)).collect();
                (av, ch)
            }
            (None, None) => (vec![], vec![]),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyModifiers;

    fn key(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    #[test]
    fn toggles_and_types() {
        let mut f = EnterForm {
            target: Target::Process(7),
            label: "x".into(),
            available: vec![(NsType::Mnt, 1), (NsType::Net, 2)],
            chosen: vec![true, false],
            join_cgroups: true,
            cgroups_allowed: true,
            command: String::new(),
            runs_as: Credentials::Target,
            focus: 0,
            error: None,
        };
        assert_eq!(f.key(key(KeyCode::Char(' '))), FormResult::Editing);
        assert_eq!(f.chosen, vec![false, false]);
        f.key(key(KeyCode::Down));
        f.key(key(KeyCode::Char(' ')));
        f.key(key(KeyCode::Down));
        f.key(key(KeyCode::Char(' ')));
        assert!(!f.join_cgroups);
        f.key(key(KeyCode::Down));
        for c in "sh -c 'cat /etc/os-release; echo $$'".chars() {
            f.key(key(KeyCode::Char(c)));
        }
        match f.key(key(KeyCode::Enter)) {
            FormResult::Run(r) => {
                assert_eq!(r.ns, vec![NsType::Net]);
                assert!(!r.join_cgroups);
                assert_eq!(r.command, vec!["sh", "-c", "cat /etc/os-release; echo $$"]);
            }
            other => panic!("{other:?}"),
        }
        f.key(key(KeyCode::Char('\'')));
        assert_eq!(f.key(key(KeyCode::Enter)), FormResult::Editing);
        assert!(f.error.is_some());
        assert_eq!(f.key(key(KeyCode::Esc)), FormResult::Cancel);
    }
}
