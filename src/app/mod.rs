//! The TUI's state and its update function: messages in (keys, mouse, snapshots), state changes
//! and commands for the event loop out. No I/O here; rendering reads this state (src/ui).

mod actions;
mod command_line;
pub mod config;
pub mod detail;
pub mod edit_form;
pub mod enter_form;
mod history;
mod input;
pub mod keymap;
pub mod replay;
mod reply;
pub mod rows;
mod worker;

pub use command_line::COMMAND_HINT;
pub use history::{HISTORY, History};

use crate::model::{Snapshot, rates};
use crossterm::event::{KeyEvent, KeyEventKind, MouseEvent};
use keymap::Keymap;
use ratatui::layout::Rect;
use rows::{CpuMap, RowKey};
use std::collections::{HashMap, HashSet};
use std::time::Duration;

/// The four views.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// Containers, the isolation groups no runtime owns, named netns and the host.
    Containers,
    Namespaces,
    Cgroups,
    Processes,
}

impl View {
    pub const ALL: [View; 4] = [
        View::Containers,
        View::Namespaces,
        View::Cgroups,
        View::Processes,
    ];

    pub fn index(self) -> usize {
        match self {
            View::Containers => 0,
            View::Namespaces => 1,
            View::Cgroups => 2,
            View::Processes => 3,
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            View::Containers => "Containers",
            View::Namespaces => "Namespaces",
            View::Cgroups => "Cgroups",
            View::Processes => "Processes",
        }
    }

    pub fn columns(self) -> &'static [rows::Column] {
        match self {
            View::Containers => rows::CONTAINER_COLUMNS,
            View::Namespaces => rows::NAMESPACE_COLUMNS,
            View::Cgroups => rows::CGROUP_COLUMNS,
            View::Processes => rows::PROCESS_COLUMNS,
        }
    }

    /// The column sorted by when the view opens: (column, reversed).
    fn default_sort(self) -> (usize, bool) {
        match self {
            View::Containers => (rows::CONTAINER_PID_COLUMN, false),
            View::Namespaces => (0, false),
            View::Cgroups => (0, false),
            View::Processes => (0, false),
        }
    }
}

/// What the event loop receives.
#[derive(Debug)]
pub enum Msg {
    Key(KeyEvent),
    Mouse(MouseEvent),
    Resize,
    /// A snapshot, with nothing known about how it differs from the one shown.
    Snapshot(Box<Snapshot>),
    /// A snapshot from the live collector, which says what it has in common with the previous
    /// one (the one shown).
    Refresh(Box<Snapshot>, Unchanged),
    /// Names of user ids (the passwd database, NSS), looked up off the UI thread by the poller
    /// and sent before the snapshot whose processes run as them.
    UserNames(HashMap<u32, String>),
    /// The poller could not collect (e.g. /proc unreadable).
    CollectError(String),
    /// SIGTERM, SIGHUP, SIGINT.
    Signal,
    /// A command run with `x` ended (or could not start): one line for the footer.
    EnterDone(String),
    /// A change (or its preview) finished on the worker thread: the operation its
    /// [`Cmd::Effect`] carried, with the same `id`, and what the operations layer returned
    /// (boxed: an outcome is far larger than any other message).
    Effect {
        id: u64,
        op: crate::effects::ops::Operation,
        result: Box<Result<crate::effects::ops::Outcome, crate::effects::request::PerformError>>,
    },
    /// Replay: a frame decoded by the replay thread.
    ReplayFrame(Box<replay::ReplayFrame>),
    /// Replay: the frame a typed time named (its [`Msg::ReplayFrame`] follows).
    ReplayCursor(usize),
    /// Replay: a typed time that names no frame, or a frame that cannot be decoded.
    ReplayError(String),
}

/// What the update asks the event loop to do.
#[derive(Debug)]
pub enum Cmd {
    SetInterval(Duration),
    RefreshNow,
    /// Clear the terminal so that the next draw repaints every cell (F5, Ctrl-L).
    Redraw,
    Quit,
    /// Suspend the screen, run a command inside the target's namespaces, come back.
    Enter(enter_form::EnterRequest),
    /// The snapshot just replaced, for the collector to reuse what did not change.
    Recycle(Box<Snapshot>),
    /// Run a change (or preview one) off the UI thread; the reply comes back as [`Msg::Effect`]
    /// with the same `id`.
    Effect {
        id: u64,
        req: crate::effects::ops::Operation,
    },
    /// Replay: decode this frame (or the frame at this time) and send it as
    /// [`Msg::ReplayFrame`].
    ReplaySeek(replay::Seek),
}

/// The parts of a snapshot that are those of the snapshot before it (the live collector knows;
/// the poller translates what it says): rows computed only from them need not be built again.
/// The default says nothing is known to be unchanged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Unchanged {
    /// Every process, with everything shown of it (cgroups included).
    pub processes: bool,
    /// Every namespace, with its members and what was read about it.
    pub namespaces: bool,
    /// The isolation groups and containers.
    pub containers: bool,
}

/// A modal dialog.
#[derive(Debug, Clone, PartialEq)]
pub enum Dialog {
    Help,
    /// devices.list of the cgroup behind this row, full screen.
    Devices(RowKey),
    Message {
        title: String,
        text: String,
    },
    /// `x`: choose namespaces, cgroups and command, then run it inside.
    Enter(enter_form::EnterForm),
    /// `e`: new values for the selection's limits.
    Edit(edit_form::EditForm),
    /// `m`: where to move the selected process.
    Move(edit_form::MoveForm),
    /// A device rule to add (from the devices view).
    Rule(edit_form::RuleForm),
    /// Old -> new, y/n: runs `then` on yes.
    Confirm {
        title: String,
        lines: Vec<String>,
        then: crate::effects::ops::Operation,
    },
    /// A change is being made on the worker thread.
    Working(String),
    /// Replay: go to a typed time.
    GoToTime(replay::TimeInput),
    /// What the kernel says after a change, or why it refused.
    Outcome {
        title: String,
        lines: Vec<String>,
        ok: bool,
        /// The edit form whose change was refused, as typed: closing the box returns to it.
        back: Option<Box<edit_form::EditForm>>,
    },
}

/// Selection and scrolling of one view.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ViewState {
    /// The selected row by identity; follows the item across refreshes.
    pub selected: Option<RowKey>,
    /// Where the selection was, for when the item vanishes.
    pub index: usize,
    /// First visible row.
    pub offset: usize,
    pub sort: Option<(usize, bool)>,
}

/// Where the last frame put things, for mouse hits (set by the renderer's caller).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Hits {
    /// The table, header row included.
    pub table: Rect,
    /// x start of each shown column, and which column of the view it is.
    pub column_x: [u16; 8],
    pub column_id: [usize; 8],
    pub columns: usize,
    /// The tab bar row.
    pub tabs: Rect,
    /// Replay: the timeline strip of the time bar (a click there moves the cursor).
    pub timeline: Rect,
}

/// The whole TUI state.
pub struct App {
    pub snap: Snapshot,
    /// False until the first snapshot arrived.
    pub ready: bool,
    pub cpu: CpuMap,
    pub history: History,
    pub view: View,
    pub states: [ViewState; 4],
    /// The rows of the current view, recomputed when the snapshot or the view settings change.
    pub rows: Vec<rows::Row>,
    pub filter: String,
    pub filter_editing: bool,
    /// The `:` command line as typed, while it is open.
    pub command_line: Option<String>,
    pub dialog: Option<Dialog>,
    /// Scroll of a dialog or of the detail pane.
    pub dialog_scroll: u16,
    pub detail_focus: bool,
    pub detail_scroll: u16,
    /// Lines the detail pane had at the last draw (bounds its scrolling).
    pub detail_len: u16,
    pub interval: Duration,
    pub read_only: bool,
    /// The id of the last change sent to the worker, and the one whose reply the Working box
    /// waits for (None once that box is closed).
    effect_seq: u64,
    awaiting: Option<u64>,
    /// The edit form behind the change in flight (its preview, then its confirmation), as typed:
    /// a refusal returns to it.
    form_behind: Option<edit_form::EditForm>,
    /// `x` on a frozen target asked to thaw it first: the row whose enter dialog opens once
    /// the thaw confirmed for it has succeeded.
    enter_after_thaw: Option<RowKey>,
    pub is_root: bool,
    /// Cgroups view: index into snap.hierarchies.
    pub hierarchy: usize,
    pub hide_empty: bool,
    pub ns_tree: bool,
    pub collapsed: HashSet<RowKey>,
    pub keymap: Keymap,
    /// A one-line message in the footer (collection errors, hints), in place of the key hints
    /// until it is [`STATUS_SECONDS`] old.
    pub status: Option<String>,
    /// Snapshots received since `status` last changed: its age, counted in refresh intervals
    /// (the App has no clock).
    status_age: u32,
    pub hits: Hits,
    /// Rows that fit in the table (set by the renderer's caller), for paging.
    pub page: usize,
    /// User names received with the snapshots ([`Msg::UserNames`]); a uid without one shows as
    /// its number.
    users: HashMap<u32, String>,
    resolve_users: bool,
    /// Some in `nsview replay`: the recording's frames and the cursor.
    pub replay: Option<replay::ReplayView>,
    /// A seek a mouse click made, for the commands of its message.
    pending_seek: Option<replay::Seek>,
}

/// How long a footer message stays before the key hints come back, in seconds.
pub const STATUS_SECONDS: u64 = 5;

impl App {
    pub fn new(interval: Duration, read_only: bool, is_root: bool, keymap: Keymap) -> App {
        let mut states: [ViewState; 4] = Default::default();
        for v in View::ALL {
            states[v.index()].sort = Some(v.default_sort());
        }
        App {
            snap: Snapshot::default(),
            ready: false,
            cpu: CpuMap::new(),
            history: History::default(),
            view: View::Containers,
            states,
            rows: Vec::new(),
            filter: String::new(),
            filter_editing: false,
            command_line: None,
            dialog: None,
            dialog_scroll: 0,
            detail_focus: false,
            detail_scroll: 0,
            detail_len: 0,
            interval,
            read_only,
            effect_seq: 0,
            awaiting: None,
            form_behind: None,
            enter_after_thaw: None,
            is_root,
            hierarchy: 0,
            hide_empty: false,
            ns_tree: false,
            collapsed: HashSet::new(),
            keymap,
            status: None,
            status_age: 0,
            hits: Hits::default(),
            page: 20,
            users: HashMap::new(),
            resolve_users: true,
            replay: None,
            pending_seek: None,
        }
    }

    /// Show numeric UIDs instead of names (fixture snapshots: the host's names do not apply);
    /// names received later are ignored.
    pub fn numeric_users(&mut self) {
        self.resolve_users = false;
        self.users.clear();
    }

    pub fn state(&self) -> &ViewState {
        &self.states[self.view.index()]
    }

    fn state_mut(&mut self) -> &mut ViewState {
        &mut self.states[self.view.index()]
    }

    /// The selected row of the current view.
    pub fn selected(&self) -> Option<&rows::Row> {
        self.rows.get(self.state().index)
    }

    /// The hierarchy the Cgroups view shows.
    pub fn current_hierarchy(&self) -> Option<&crate::model::Hierarchy> {
        self.snap.hierarchies.get(self.hierarchy)
    }

    /// Handle one message; returns what the event loop must do. A footer message the message
    /// set starts its [`STATUS_SECONDS`]; each snapshot ages it, and an old one gives the footer
    /// back to the key hints.
    pub fn update(&mut self, msg: Msg) -> Vec<Cmd> {
        let before = self.status.clone();
        let snapshot = matches!(
            msg,
            Msg::Snapshot(_) | Msg::Refresh(..) | Msg::ReplayFrame(_)
        );
        let cmds = self.handle(msg);
        if self.status != before {
            self.status_age = 0;
        } else if snapshot && self.status.is_some() {
            self.status_age = self.status_age.saturating_add(1);
            let age = self.interval.saturating_mul(self.status_age);
            if age >= Duration::from_secs(STATUS_SECONDS) {
                self.status = None;
                self.status_age = 0;
            }
        }
        cmds
    }

    fn handle(&mut self, msg: Msg) -> Vec<Cmd> {
        match msg {
            Msg::Key(k) if k.kind != KeyEventKind::Release => self.on_key(k),
            Msg::Key(_) => vec![],
            Msg::Mouse(m) => {
                self.on_mouse(m);
                // A click on a replay's timeline asks for a frame.
                self.pending_seek
                    .take()
                    .map(Cmd::ReplaySeek)
                    .into_iter()
                    .collect()
            }
            Msg::Resize => vec![],
            Msg::Snapshot(s) => {
                let old = self.on_snapshot(*s, Unchanged::default());
                vec![Cmd::Recycle(Box::new(old))]
            }
            Msg::Refresh(s, same) => {
                let old = self.on_snapshot(*s, same);
                vec![Cmd::Recycle(Box::new(old))]
            }
            Msg::CollectError(e) => {
                self.status = Some(format!("collection failed: {e}"));
                vec![]
            }
            Msg::Signal => vec![Cmd::Quit],
            Msg::EnterDone(text) => {
                self.status = Some(text);
                vec![Cmd::RefreshNow]
            }
            Msg::Effect { id, op, result } => self.on_effect(id, op, *result),
            Msg::ReplayFrame(f) => {
                self.on_replay_frame(*f);
                vec![]
            }
            Msg::ReplayCursor(i) => {
                self.on_replay_cursor(i);
                vec![]
            }
            Msg::ReplayError(e) => {
                self.on_replay_error(e);
                vec![]
            }
            Msg::UserNames(names) => {
                if self.resolve_users {
                    self.users.extend(names);
                }
                vec![]
            }
        }
    }

    /// Show `snap`, of which `same` tells what is as in the one shown; returns the snapshot it
    /// replaces.
    fn on_snapshot(&mut self, snap: Snapshot, same: Unchanged) -> Snapshot {
        // Rates are between the snapshot on screen and the new one.
        if self.ready {
            self.cpu = rates::cpu_percent(&self.snap, &snap);
        }
        let old = std::mem::replace(&mut self.snap, snap);
        self.history.record(&self.snap, &self.cpu);
        if self.hierarchy >= self.snap.hierarchies.len() {
            self.hierarchy = 0;
        }
        let same = if self.ready {
            same
        } else {
            Unchanged::default()
        };
        self.ready = true;
        self.update_rows(same);
        old
    }

    /// The rows after a new snapshot: built again only when what they show may have changed.
    /// Every second on an idle host the processes, namespaces and containers are those of the
    /// previous snapshot and only cgroup usage moves (CPU%, memory).
    fn update_rows(&mut self, same: Unchanged) {
        let sort_col = self.state().sort.map(|(c, _)| c);
        let keep = match self.view {
            View::Namespaces => same.processes && same.namespaces,
            View::Processes => same.processes,
            View::Containers => {
                let usage_sorted = matches!(
                    sort_col,
                    Some(rows::CONTAINER_CPU_COLUMN | rows::CONTAINER_MEM_COLUMN)
                );
                let keep = same.processes && same.namespaces && same.containers && !usage_sorted;
                if keep {
                    rows::update_container_usage(&mut self.rows, &self.snap, &self.cpu);
                }
                keep
            }
            // Few rows, most of them showing usage.
            View::Cgroups => false,
        };
        if !keep {
            self.refresh_rows();
        }
    }

    fn user_name(&self, uid: u32) -> String {
        self.users
            .get(&uid)
            .cloned()
            .unwrap_or_else(|| uid.to_string())
    }

    /// Recompute the rows of the current view and put the selection back on its item.
    pub fn refresh_rows(&mut self) {
        let sort = self.state().sort;
        // The text a filter matches is built only while there is a filter.
        let search = !self.filter.trim().is_empty();
        let items = match self.view {
            View::Containers => rows::container_rows(&self.snap, &self.cpu, search)
                .into_iter()
                .map(|r| (r, None))
                .collect(),
            View::Namespaces => rows::namespace_items(&self.snap, self.ns_tree, search),
            View::Cgroups => {
                let key = self.current_hierarchy().map(|h| h.key.clone());
                let mut items = match key {
                    Some(k) => rows::cgroup_items(&self.snap, &k, &self.cpu, search),
                    None => Vec::new(),
                };
                if self.hide_empty {
                    items = hide_empty_cgroups(items);
                }
                items
            }
            View::Processes => {
                let lookup = |u: u32| self.user_name(u);
                rows::process_items(&self.snap, &lookup, search)
            }
        };
        self.rows = rows::flatten(items, sort, &self.collapsed, &self.filter);
        self.reselect();
    }

    /// Find the selected item again; if it vanished, stay at the same position.
    fn reselect(&mut self) {
        let len = self.rows.len();
        let found = self
            .state()
            .selected
            .as_ref()
            .and_then(|k| self.rows.iter().position(|r| &r.key == k));
        let index = match found {
            Some(i) => i,
            None => self.state().index.min(len.saturating_sub(1)),
        };
        let key = self.rows.get(index).map(|r| r.key.clone());
        let st = self.state_mut();
        st.index = index;
        st.selected = key;
    }

    fn select_index(&mut self, index: usize) {
        let len = self.rows.len();
        if len == 0 {
            return;
        }
        let index = index.min(len - 1);
        let key = self.rows.get(index).map(|r| r.key.clone());
        let st = self.state_mut();
        st.index = index;
        st.selected = key;
        self.detail_scroll = 0;
    }

    fn move_by(&mut self, delta: isize) {
        let cur = self.state().index as isize;
        let next = (cur + delta).max(0) as usize;
        self.select_index(next);
    }

    fn set_view(&mut self, v: View) {
        if self.view != v {
            self.view = v;
            self.detail_scroll = 0;
            self.refresh_rows();
        }
    }
}

/// Drop cgroups whose whole subtree has no process.
fn hide_empty_cgroups(items: Vec<(rows::Row, Option<RowKey>)>) -> Vec<(rows::Row, Option<RowKey>)> {
    // A cgroup is kept when it or any descendant has processes: mark from each non-empty one up.
    let index: HashMap<RowKey, usize> = items
        .iter()
        .enumerate()
        .map(|(i, (r, _))| (r.key.clone(), i))
        .collect();
    let mut keep = vec![false; items.len()];
    for (i, (r, _)) in items.iter().enumerate() {
        if r.dim {
            continue;
        }
        let mut cur = Some(i);
        while let Some(c) = cur {
            if keep[c] {
                break;
            }
            keep[c] = true;
            cur = items[c].1.as_ref().and_then(|p| index.get(p)).copied();
        }
    }
    items
        .into_iter()
        .zip(keep)
        .filter_map(|(it, k)| k.then_some(it))
        .collect()
}

/// What every change key says in read-only mode.
pub const READ_ONLY: &str =
    "read-only (--read-only or read_only in the config): changes are turned off";

/// "1s", "500ms", "2.5s".
pub fn interval_text(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}
