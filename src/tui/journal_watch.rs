//! The journal, watched by the live view: a change nsview makes in any process (a CLI `set`,
//! `move` or `undo` beside the TUI) is appended there, so the poller learns of it at once and
//! has the collector read the processes and cgroups it touched in the next pass, instead of at
//! their rolling turn (up to ten passes later).

use super::Control;
use crate::effects::journal::{self, Journal};
use notify::{EventKind, RecursiveMode, Watcher};
use std::sync::mpsc::Sender;

/// The journal file and the watch on its directory.
pub(super) struct JournalWatch {
    journal: Journal,
    /// The id of the newest entry already passed on.
    seen: u64,
    watcher: Option<notify::RecommendedWatcher>,
    /// False until the first try to watch: entries there then are not news; a journal whose
    /// directory appears later was written since the view started.
    tried: bool,
}

/// What the entries appended since were about: processes moved and cgroups written.
pub(super) type Touched = (Vec<i32>, Vec<(String, String)>);

impl JournalWatch {
    /// The journal of this process (`--state-dir`, else the user's); None without a location.
    pub(super) fn new() -> Option<JournalWatch> {
        Some(JournalWatch {
            journal: Journal::default_location().ok()?,
            seen: 0,
            watcher: None,
            tried: false,
        })
    }

    /// Watch the journal's directory once it exists (nsview creates it with the first change):
    /// an append sends [`Control::JournalChanged`]. Entries there when the view started are not
    /// news; those of a journal that appeared since are (one notice is sent for them). Fails
    /// soft: without a watch, changes appear at their rolling turn.
    pub(super) fn ensure_watching(&mut self, ctrl: &Sender<Control>) {
        if self.watcher.is_some() {
            return;
        }
        let first = !self.tried;
        self.tried = true;
        let Some(dir) = self.journal.path.parent() else {
            return;
        };
        if !dir.is_dir() {
            return;
        }
        let name = self.journal.path.file_name().map(|n| n.to_os_string());
        let notify_ctrl = ctrl.clone();
        let watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
            if let Ok(ev) = res
                && matches!(ev.kind, EventKind::Create(_) | EventKind::Modify(_))
                && ev.paths.iter().any(|p| p.file_name() == name.as_deref())
            {
                let _ = notify_ctrl.send(Control::JournalChanged);
            }
        });
        let Ok(mut watcher) = watcher else { return };
        if watcher.watch(dir, RecursiveMode::NonRecursive).is_err() {
            return;
        }
        if first {
            self.seen = self.newest();
        } else {
            let _ = ctrl.send(Control::JournalChanged);
        }
        self.watcher = Some(watcher);
    }

    fn newest(&self) -> u64 {
        self.journal
            .entries()
            .ok()
            .and_then(|e| e.last().map(|e| e.id))
            .unwrap_or(0)
    }

    /// What the entries appended since the last call touched (nothing when the journal cannot
    /// be read: the rolling turns show the change later).
    pub(super) fn news(&mut self) -> Touched {
        let Ok(entries) = self.journal.entries() else {
            return (Vec::new(), Vec::new());
        };
        let touched = journal::touched_after(&entries, self.seen);
        if let Some(last) = entries.last() {
            self.seen = last.id;
        }
        touched
    }
}
