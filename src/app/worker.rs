//! Changes handed to the worker thread: the Working box, and what its result shows.

use super::reply::{Reply, reply};
use super::{App, Cmd, Dialog};
use crate::effects::ops::{Operation, Outcome};
use crate::effects::request::PerformError;

impl App {
    /// Hand `req` to the worker and wait for its reply in a Working box.
    pub(super) fn send_effect(&mut self, req: Operation) -> Vec<Cmd> {
        self.effect_seq += 1;
        self.awaiting = Some(self.effect_seq);
        self.dialog = Some(Dialog::Working(working_text(&req)));
        vec![Cmd::Effect {
            id: self.effect_seq,
            req,
        }]
    }

    /// The worker's result of `op`: ask, or show the outcome and refresh at once so the tables
    /// show what the kernel now says.
    pub(super) fn on_effect(
        &mut self,
        id: u64,
        op: Operation,
        result: Result<Outcome, PerformError>,
    ) -> Vec<Cmd> {
        let enter_after = match &op {
            Operation::Freeze { freeze: false, .. } => self.enter_after_thaw.take(),
            _ => None,
        };
        let reply = reply(op, result);
        // A reply nobody waits for any more (its box was closed): a line in the footer, and
        // a preview is dropped rather than shown over whatever the admin does now.
        let current = self.awaiting == Some(id) && matches!(self.dialog, Some(Dialog::Working(_)));
        if !current {
            return match reply {
                Reply::Confirm { title, .. } => {
                    self.status = Some(format!("{title}: preview dropped (its box was closed)"));
                    vec![]
                }
                Reply::Done { title, ok, .. } => {
                    self.status = Some(format!(
                        "{title}: {} (finished after its box was closed)",
                        if ok { "done" } else { "failed" }
                    ));
                    vec![Cmd::RefreshNow]
                }
            };
        }
        self.awaiting = None;
        match reply {
            Reply::Confirm { title, lines, then } => {
                self.dialog = Some(Dialog::Confirm { title, lines, then });
                vec![]
            }
            Reply::Done {
                title, ok: true, ..
            } if enter_after.is_some() => {
                self.status = Some(format!("{title}: done"));
                self.open_enter_after_thaw(enter_after);
                vec![Cmd::RefreshNow]
            }
            Reply::Done { title, lines, ok } => {
                self.status = Some(format!("{title}: {}", if ok { "done" } else { "failed" }));
                // A refused change goes back to its form as typed, with why under it.
                let back = self.form_behind.take().filter(|_| !ok).map(|mut form| {
                    form.error = lines.first().cloned();
                    Box::new(form)
                });
                self.dialog = Some(Dialog::Outcome {
                    title,
                    lines,
                    ok,
                    back,
                });
                self.dialog_scroll = 0;
                vec![Cmd::RefreshNow]
            }
        }
    }
}

impl App {
    /// The thaw `x` asked for succeeded: the enter dialog of the row it was for.
    fn open_enter_after_thaw(&mut self, key: Option<super::rows::RowKey>) {
        let Some(key) = key else { return };
        self.dialog = None;
        match super::enter_form::EnterForm::for_row(&self.snap, &key, self.read_only) {
            Ok(form) => self.dialog = Some(Dialog::Enter(form)),
            Err(e) => self.status = Some(e),
        }
    }
}

/// The line shown while the worker makes a change.
fn working_text(req: &Operation) -> String {
    match req {
        Operation::Set {
            at, preview: true, ..
        } => format!("reading {}...", at.label),
        Operation::Set { at, .. } => format!("writing {}...", at.label),
        Operation::Freeze { at, freeze } => format!(
            "{} {}...",
            if *freeze { "freezing" } else { "thawing" },
            at.label
        ),
        Operation::Move { at, pid } => format!("moving {pid} to {}...", at.label),
        Operation::Device { at, .. } => format!("writing device rule of {}...", at.label),
        Operation::Undo { .. } => "reading the journal...".into(),
    }
}
