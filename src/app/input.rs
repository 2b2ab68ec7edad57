//! Keys and mouse: which handler a key goes to (the filter line, a dialog, the table).

use super::edit_form::{self, FormResult};
use super::enter_form;
use super::keymap::Action;
use super::{App, Cmd, Dialog, View};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};

/// Ctrl-C quits from anywhere.
fn is_ctrl_c(k: &KeyEvent) -> bool {
    k.code == KeyCode::Char('c') && k.modifiers.contains(KeyModifiers::CONTROL)
}

impl App {
    pub(super) fn on_key(&mut self, k: KeyEvent) -> Vec<Cmd> {
        if self.command_line.is_some() {
            return self.on_command_key(k);
        }
        if self.filter_editing {
            return self.on_filter_key(k);
        }
        if matches!(self.dialog, Some(Dialog::Enter(_))) {
            return self.on_enter_form_key(k);
        }
        if matches!(self.dialog, Some(Dialog::GoToTime(_))) {
            return self.on_time_key(k);
        }
        if let Some(cmds) = self.on_form_key(k) {
            return cmds;
        }
        if self.dialog.is_some() {
            return self.on_dialog_key(k);
        }
        if k.code == KeyCode::Esc {
            if !self.filter.is_empty() {
                self.filter.clear();
                self.refresh_rows();
            }
            self.status = None;
            return vec![];
        }
        self.on_action_key(k)
    }

    /// Typing the filter: text keys edit it, the others act as usual.
    fn on_filter_key(&mut self, k: KeyEvent) -> Vec<Cmd> {
        match k.code {
            KeyCode::Esc => {
                self.filter.clear();
                self.filter_editing = false;
            }
            KeyCode::Enter => self.filter_editing = false,
            KeyCode::Backspace => {
                self.filter.pop();
            }
            KeyCode::Char(c) if !k.modifiers.contains(KeyModifiers::CONTROL) => self.filter.push(c),
            _ => return self.on_action_key(k),
        }
        self.refresh_rows();
        vec![]
    }

    /// The enter form (`x`): Enter runs the command, Esc cancels.
    fn on_enter_form_key(&mut self, k: KeyEvent) -> Vec<Cmd> {
        let Some(Dialog::Enter(form)) = &mut self.dialog else {
            return vec![];
        };
        if is_ctrl_c(&k) {
            return vec![Cmd::Quit];
        }
        match form.key(k) {
            enter_form::FormResult::Editing => vec![],
            enter_form::FormResult::Cancel => {
                self.dialog = None;
                vec![]
            }
            enter_form::FormResult::Run(req) => {
                self.dialog = None;
                vec![Cmd::Enter(req)]
            }
        }
    }

    /// A dialog that only shows something (help, devices, a message, an outcome): scroll or
    /// close it.
    fn on_dialog_key(&mut self, k: KeyEvent) -> Vec<Cmd> {
        let action = self.keymap.action(&k);
        let d = &self.dialog;
        let close = matches!(k.code, KeyCode::Esc | KeyCode::Enter)
            || action == Some(Action::Quit)
            || (matches!(d, Some(Dialog::Help)) && action == Some(Action::Help))
            || (matches!(d, Some(Dialog::Devices(_))) && action == Some(Action::Devices));
        if close {
            self.dialog = match self.dialog.take() {
                Some(Dialog::Outcome {
                    back: Some(form), ..
                }) => Some(Dialog::Edit(*form)),
                _ => None,
            };
            self.dialog_scroll = 0;
            // Ctrl-C still quits from anywhere.
            if is_ctrl_c(&k) {
                return vec![Cmd::Quit];
            }
            return vec![];
        }
        match action {
            Some(Action::Down) => self.dialog_scroll = self.dialog_scroll.saturating_add(1),
            Some(Action::Up) => self.dialog_scroll = self.dialog_scroll.saturating_sub(1),
            Some(Action::PageDown) => self.dialog_scroll = self.dialog_scroll.saturating_add(10),
            Some(Action::PageUp) => self.dialog_scroll = self.dialog_scroll.saturating_sub(10),
            Some(Action::Home) => self.dialog_scroll = 0,
            _ => {}
        }
        vec![]
    }

    /// Keys for the change dialogs (forms, confirm, devices rules); None when no such dialog
    /// is open.
    fn on_form_key(&mut self, k: KeyEvent) -> Option<Vec<Cmd>> {
        let ctrl_c = is_ctrl_c(&k);
        let result = match &mut self.dialog {
            Some(Dialog::Edit(f)) => f.on_key(k),
            Some(Dialog::Move(f)) => f.on_key(k),
            Some(Dialog::Rule(f)) => f.on_key(k),
            // Only y writes: Enter is what ends the form before, and a key pressed twice must not
            // confirm what was not read.
            Some(Dialog::Confirm { then, .. }) => match k.code {
                KeyCode::Char('y') | KeyCode::Char('Y') => FormResult::Submit(then.clone()),
                KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc | KeyCode::Char('q') => {
                    FormResult::Cancel
                }
                _ if ctrl_c => return Some(vec![Cmd::Quit]),
                _ => FormResult::Editing,
            },
            // Nothing to do while the worker runs but quit, or hide the box: its reply then only
            // shows in the footer, and never takes over whatever is on screen by then.
            Some(Dialog::Working(_)) => {
                if k.code == KeyCode::Esc {
                    self.dialog = None;
                    self.awaiting = None;
                    self.form_behind = None;
                }
                return Some(if ctrl_c { vec![Cmd::Quit] } else { vec![] });
            }
            Some(Dialog::Devices(key)) => {
                let allow = match k.code {
                    KeyCode::Char('a') => true,
                    KeyCode::Char('D') => false,
                    _ => return None,
                };
                let key = key.clone();
                if self.read_only {
                    self.status = Some(self.refusal().into());
                    return Some(vec![]);
                }
                match edit_form::places_for_row(&self.snap, &key) {
                    Ok(at) => self.dialog = Some(Dialog::Rule(edit_form::RuleForm::new(at, allow))),
                    Err(e) => self.status = Some(e),
                }
                return Some(vec![]);
            }
            _ => return None,
        };
        if ctrl_c {
            return Some(vec![Cmd::Quit]);
        }
        Some(match result {
            FormResult::Editing => vec![],
            FormResult::Cancel => {
                self.enter_after_thaw = None;
                // No to a preview: back to its form as typed (Esc there closes it).
                self.dialog = match (&self.dialog, self.form_behind.take()) {
                    (Some(Dialog::Confirm { .. }), Some(form)) => Some(Dialog::Edit(form)),
                    _ => None,
                };
                vec![]
            }
            FormResult::Submit(req) => {
                // The edit form is kept as typed until its change is done: a refusal of the
                // preview or of the confirmed write returns to it.
                self.form_behind = match &self.dialog {
                    Some(Dialog::Edit(form)) => Some(form.clone()),
                    Some(Dialog::Confirm { .. }) => self.form_behind.take(),
                    _ => None,
                };
                self.send_effect(req)
            }
            FormResult::Confirm { title, lines, then } => {
                self.dialog = Some(Dialog::Confirm { title, lines, then });
                self.dialog_scroll = 0;
                vec![]
            }
        })
    }

    fn on_action_key(&mut self, k: KeyEvent) -> Vec<Cmd> {
        let Some(action) = self.keymap.action(&k) else {
            return vec![];
        };
        self.on_action(action)
    }

    pub(super) fn on_mouse(&mut self, m: MouseEvent) {
        let t = self.hits.table;
        let inside =
            m.column >= t.x && m.column < t.x + t.width && m.row >= t.y && m.row < t.y + t.height;
        match m.kind {
            MouseEventKind::ScrollDown => self.move_by(3),
            MouseEventKind::ScrollUp => self.move_by(-3),
            MouseEventKind::Down(MouseButton::Left) if self.on_timeline(m.column, m.row) => {}
            MouseEventKind::Down(MouseButton::Left) => {
                let tabs = self.hits.tabs;
                if m.row == tabs.y && tabs.width > 0 {
                    // " 1 Containers  2 Namespaces  3 Cgroups  4 Processes": pick by position.
                    let mut x = tabs.x + 1;
                    for v in View::ALL {
                        let w = v.title().len() as u16 + 4;
                        if m.column >= x && m.column < x + w {
                            self.set_view(v);
                            return;
                        }
                        x += w;
                    }
                    return;
                }
                if !inside {
                    return;
                }
                if m.row == t.y {
                    // Header: sort by the clicked column, again to reverse.
                    let cols = self.hits.columns.min(8);
                    let slot = (0..cols)
                        .rev()
                        .find(|c| m.column >= self.hits.column_x[*c])
                        .unwrap_or(0);
                    let col = self.hits.column_id[slot];
                    let st = self.state_mut();
                    st.sort = match st.sort {
                        Some((c, rev)) if c == col => Some((c, !rev)),
                        _ => Some((col, false)),
                    };
                    self.refresh_rows();
                } else {
                    let row = (m.row - t.y - 1) as usize + self.state().offset;
                    if row < self.rows.len() {
                        self.select_index(row);
                    }
                }
            }
            _ => {}
        }
    }
}
