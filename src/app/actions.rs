//! What each action of the keymap does to the state (from a key, or from a test).

use super::config::{MAX_INTERVAL, MIN_INTERVAL};
use super::keymap::Action;
use super::{App, Cmd, Dialog, View, edit_form, enter_form, interval_text, rows};
use crate::effects::cgroup::UndoPick;
use crate::effects::ops::Operation;
use std::time::Duration;

impl App {
    /// Perform one action (from a key, or from a test).
    pub fn on_action(&mut self, action: Action) -> Vec<Cmd> {
        match action {
            Action::Quit => return vec![Cmd::Quit],
            Action::RefreshNow => return vec![Cmd::RefreshNow],
            Action::Redraw => return vec![Cmd::Redraw, Cmd::RefreshNow],
            Action::CommandLine => self.open_command_line(),
            Action::Faster | Action::Slower if self.replay.is_some() => {
                self.status = Some("a replay does not refresh: , . step frames, T a time".into());
            }
            Action::Faster | Action::Slower => {
                return self.change_interval(action == Action::Faster);
            }
            Action::FrameBack
            | Action::FrameForward
            | Action::MinuteBack
            | Action::MinuteForward
            | Action::PrevEvent
            | Action::NextEvent
            | Action::FirstFrame
            | Action::LastFrame
            | Action::GoToTime => return self.on_replay_action(action),
            Action::Up
            | Action::Down
            | Action::PageUp
            | Action::PageDown
            | Action::Home
            | Action::End
                if self.detail_focus =>
            {
                self.scroll_detail(action)
            }
            Action::Up
            | Action::Down
            | Action::PageUp
            | Action::PageDown
            | Action::Home
            | Action::End
            | Action::Left
            | Action::Right
            | Action::Open => self.move_selection(action),
            Action::Help | Action::Devices | Action::EnterNs => self.open_dialog(action),
            Action::EditLimits | Action::Freeze | Action::MoveProcess | Action::Undo => {
                return self.start_change(action);
            }
            Action::NextPane
            | Action::ViewGroups
            | Action::ViewNamespaces
            | Action::ViewCgroups
            | Action::ViewProcesses
            | Action::Filter
            | Action::Sort
            | Action::SortReverse
            | Action::PrevHierarchy
            | Action::NextHierarchy
            | Action::ToggleEmpty
            | Action::ToggleTree => self.change_view(action),
        }
        vec![]
    }

    /// Up, down, page, home and end in the focused detail pane.
    fn scroll_detail(&mut self, action: Action) {
        let max = self.detail_len.saturating_sub(1);
        let step = self.page.max(1) as u16;
        self.detail_scroll = match action {
            Action::Up => self.detail_scroll.saturating_sub(1),
            Action::Down => self.detail_scroll.saturating_add(1),
            Action::PageUp => self.detail_scroll.saturating_sub(step),
            Action::PageDown => self.detail_scroll.saturating_add(step),
            Action::Home => 0,
            _ => max,
        }
        .min(max);
    }

    /// Moves of the selection in the table, and opening or closing a row of a tree.
    fn move_selection(&mut self, action: Action) {
        let page = self.page.max(1) as isize;
        match action {
            Action::Up => self.move_by(-1),
            Action::Down => self.move_by(1),
            Action::PageUp => self.move_by(-page),
            Action::PageDown => self.move_by(page),
            Action::Home => self.select_index(0),
            Action::End => self.select_index(self.rows.len().saturating_sub(1)),
            Action::Left => self.collapse_or_parent(),
            Action::Right => self.expand(),
            Action::Open => self.toggle_open(),
            _ => {}
        }
    }

    /// Faster or slower refreshes: seconds step by one, below a second they halve or double.
    fn change_interval(&mut self, faster: bool) -> Vec<Cmd> {
        let secs = self.interval.as_secs_f64();
        let next = if faster {
            if secs > 1.0 { secs - 1.0 } else { secs / 2.0 }
        } else if secs >= 1.0 {
            secs + 1.0
        } else {
            secs * 2.0
        };
        let next = Duration::from_secs_f64(next).clamp(MIN_INTERVAL, MAX_INTERVAL);
        self.interval = next;
        self.status = Some(format!("refresh every {}", interval_text(next)));
        vec![Cmd::SetInterval(next)]
    }

    /// The dialogs that change nothing by themselves: help, devices.list, the enter form.
    fn open_dialog(&mut self, action: Action) {
        match action {
            Action::Help => {
                self.dialog = Some(Dialog::Help);
                self.dialog_scroll = 0;
            }
            Action::Devices => {
                if let Some(r) = self.selected() {
                    self.dialog = Some(Dialog::Devices(r.key.clone()));
                    self.dialog_scroll = 0;
                }
            }
            Action::EnterNs if self.replay.is_some() => {
                self.status = Some(super::replay::REPLAY.into());
            }
            Action::EnterNs => {
                if let Some(r) = self.selected() {
                    let key = r.key.clone();
                    match enter_form::EnterForm::for_row(&self.snap, &key, self.read_only) {
                        Ok(form) => match self.thaw_first(&key, &form) {
                            Some(confirm) => {
                                self.dialog = Some(confirm);
                                self.enter_after_thaw = Some(key);
                            }
                            None => self.dialog = Some(Dialog::Enter(form)),
                        },
                        Err(e) => self.status = Some(e),
                    }
                }
            }
            _ => {}
        }
    }

    /// The first step of a change: its form, its confirmation, or (undo) the journal's preview.
    fn start_change(&mut self, action: Action) -> Vec<Cmd> {
        if self.read_only {
            self.status = Some(self.refusal().into());
            return vec![];
        }
        if action == Action::Undo {
            let req = Operation::Undo {
                preview: true,
                hierarchies: self.snap.hierarchies.clone(),
                pick: UndoPick::Newest,
                skip_gone: false,
            };
            return self.send_effect(req);
        }
        let Some(key) = self.selected().map(|r| r.key.clone()) else {
            return vec![];
        };
        let dialog = match action {
            Action::EditLimits => edit_form::EditForm::for_row(&self.snap, &key).map(Dialog::Edit),
            Action::Freeze => self.freeze_confirm(&key),
            Action::MoveProcess => edit_form::MoveForm::for_row(&self.snap, &key).map(Dialog::Move),
            _ => return vec![],
        };
        match dialog {
            Ok(d) => self.dialog = Some(d),
            Err(e) => self.status = Some(e),
        }
        vec![]
    }

    /// Which view, and how it shows its rows: sort, filter, hierarchy, empty cgroups, tree.
    fn change_view(&mut self, action: Action) {
        match action {
            Action::NextPane => self.detail_focus = !self.detail_focus,
            Action::ViewGroups => self.set_view(View::Containers),
            Action::ViewNamespaces => self.set_view(View::Namespaces),
            Action::ViewCgroups => self.set_view(View::Cgroups),
            Action::ViewProcesses => self.set_view(View::Processes),
            Action::Filter => self.filter_editing = true,
            Action::Sort | Action::SortReverse => {
                let cols = self.view.columns().len();
                let st = self.state_mut();
                let (c, rev) = st.sort.unwrap_or((0, false));
                st.sort = Some(if action == Action::Sort {
                    ((c + 1) % cols, rev)
                } else {
                    (c, !rev)
                });
                self.refresh_rows();
            }
            Action::PrevHierarchy | Action::NextHierarchy => {
                let n = self.snap.hierarchies.len();
                if n > 0 {
                    self.hierarchy = if action == Action::NextHierarchy {
                        (self.hierarchy + 1) % n
                    } else {
                        (self.hierarchy + n - 1) % n
                    };
                    self.set_view(View::Cgroups);
                    self.refresh_rows();
                }
            }
            Action::ToggleEmpty => {
                self.hide_empty = !self.hide_empty;
                self.status = Some(if self.hide_empty {
                    "empty cgroups hidden".into()
                } else {
                    "empty cgroups shown".into()
                });
                self.refresh_rows();
            }
            Action::ToggleTree => {
                self.ns_tree = !self.ns_tree;
                self.refresh_rows();
            }
            _ => {}
        }
    }

    /// `x` on a target whose cgroups are frozen (and would be joined): entering would stop with
    /// them, so the admin is asked to thaw first (the enter dialog follows the thaw) or cancel.
    fn thaw_first(&self, key: &rows::RowKey, form: &enter_form::EnterForm) -> Option<Dialog> {
        if self.read_only || !form.join_cgroups {
            return None;
        }
        let at = edit_form::places_for_row(&self.snap, key).ok()?;
        let (h, path) = at
            .places
            .iter()
            .find(|(h, p)| edit_form::frozen_in(&self.snap, &h.key, p))?;
        let lines = vec![
            format!(
                "{} is frozen ({}:{path}): a command entering it would stop with it",
                form.label, h.key
            ),
            String::new(),
            "y: thaw it, then enter; n / Esc: cancel".into(),
        ];
        Some(Dialog::Confirm {
            title: format!("enter {}", form.label),
            lines,
            then: Operation::Freeze { at, freeze: false },
        })
    }

    /// `f`: freeze when thawed, thaw when frozen; the state comes from the snapshot's
    /// freezer.state / cgroup.freeze of the selection's cgroup.
    fn freeze_confirm(&self, key: &rows::RowKey) -> Result<Dialog, String> {
        let at = edit_form::places_for_row(&self.snap, key)?;
        let state = at.places.iter().find_map(|(h, path)| {
            let c = self.snap.cgroup(&h.key, path)?;
            match (c.limits.get("freezer.state"), c.limits.get("cgroup.freeze")) {
                (Some(crate::model::CgValue::Text(s)), _) => Some(s.trim() != "THAWED"),
                (_, Some(crate::model::CgValue::Int(n))) => Some(*n == 1),
                _ => None,
            }
        });
        let Some(frozen) = state else {
            return Err(format!(
                "{}: no freezer (no v1 freezer hierarchy has it, no cgroup.freeze)",
                at.label
            ));
        };
        let procs: std::collections::BTreeSet<i32> = at
            .places
            .iter()
            .filter_map(|(h, p)| self.snap.cgroup(&h.key, p))
            .flat_map(|c| c.pids.iter().copied())
            .collect();
        let verb = if frozen { "thaw" } else { "freeze" };
        let mut lines = vec![format!(
            "{verb} {} ({} process{})?",
            at.label,
            procs.len(),
            if procs.len() == 1 { "" } else { "es" }
        )];
        if !frozen {
            lines.push("frozen processes stop until thawed (f again, or u to undo)".to_string());
        }
        let runtime = [("Docker", &at.docker), ("podman", &at.podman)]
            .into_iter()
            .find(|(_, id)| id.is_some());
        if let Some((name, _)) = runtime {
            let call = if frozen { "unpause" } else { "pause" };
            lines.push(format!(
                "through {name}'s API ({call}), so that {name} agrees"
            ));
        }
        lines.push(String::new());
        lines.push("y: yes, n / Esc: no".into());
        Ok(Dialog::Confirm {
            title: verb.to_string(),
            lines,
            then: Operation::Freeze {
                at,
                freeze: !frozen,
            },
        })
    }

    fn toggle_open(&mut self) {
        let Some(r) = self.selected() else { return };
        if r.has_children {
            let key = r.key.clone();
            if !self.collapsed.remove(&key) {
                self.collapsed.insert(key);
            }
            self.refresh_rows();
        } else {
            self.detail_focus = !self.detail_focus;
        }
    }

    fn expand(&mut self) {
        if let Some(r) = self.selected()
            && r.collapsed
        {
            let key = r.key.clone();
            self.collapsed.remove(&key);
            self.refresh_rows();
        }
    }

    fn collapse_or_parent(&mut self) {
        let Some(r) = self.selected() else { return };
        if r.has_children && !r.collapsed {
            let key = r.key.clone();
            self.collapsed.insert(key);
            self.refresh_rows();
            return;
        }
        // Go to the parent: the nearest row above with a smaller depth.
        let (idx, depth) = (self.state().index, r.depth);
        if depth == 0 {
            return;
        }
        if let Some(p) = (0..idx).rev().find(|i| self.rows[*i].depth < depth) {
            self.select_index(p);
        }
    }
}
