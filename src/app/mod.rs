//! The TUI's state and its update function: messages in (keys, mouse, snapshots), state changes
//! and commands for the event loop out. No I/O here; rendering reads this state (src/ui).

pub mod config;
pub mod detail;
pub mod edit_form;
pub mod enter_form;
pub mod keymap;
pub mod rows;

use crate::model::{Snapshot, rates};
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, MouseButton, MouseEvent, MouseEventKind};
use keymap::{Action, Keymap};
use ratatui::layout::Rect;
use rows::{CpuMap, RowKey};
use std::collections::{HashMap, HashSet, VecDeque};
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
    Refresh(Box<Snapshot>, Same),
    /// The poller could not collect (e.g. /proc unreadable).
    CollectError(String),
    /// SIGTERM, SIGHUP, SIGINT.
    Signal,
    /// A command run with `x` ended (or could not start): one line for the footer.
    EnterDone(String),
    /// A change (or its preview) finished on the worker thread.
    /// A change (or its preview) finished on the worker thread; `id` is the one its
    /// [`Cmd::Effect`] carried.
    Effect {
        id: u64,
        reply: crate::effects::request::Reply,
    },
}

/// What the update asks the event loop to do.
#[derive(Debug)]
pub enum Cmd {
    SetInterval(Duration),
    RefreshNow,
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
}

/// The parts of a snapshot that are those of the snapshot before it (see
/// [`crate::collect::RefreshStats`]): rows computed only from them need not be built again.
/// The default says nothing is known to be the same.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Same {
    /// Every process, with everything shown of it (cgroups included).
    pub processes: bool,
    /// Every namespace, with its members and what was read about it.
    pub namespaces: bool,
    /// The isolation groups and containers.
    pub containers: bool,
}

impl Same {
    /// What the collector's last refresh says.
    pub fn from_refresh(stats: &crate::collect::RefreshStats) -> Same {
        Same {
            processes: stats.processes_same,
            namespaces: stats.namespaces_same,
            containers: stats.containers_same,
        }
    }
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
    /// What the kernel says after a change, or why it refused.
    Outcome {
        title: String,
        lines: Vec<String>,
        ok: bool,
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
}

/// Samples kept for sparklines: 2 minutes at the default interval.
pub const HISTORY: usize = 120;

/// CPU% and memory over time per cgroup.
#[derive(Debug, Clone, Default)]
pub struct History {
    pub cpu: HashMap<(String, String), VecDeque<u64>>,
    pub mem: HashMap<(String, String), VecDeque<u64>>,
}

impl History {
    fn push(map: &mut HashMap<(String, String), VecDeque<u64>>, key: (String, String), v: u64) {
        let q = map.entry(key).or_default();
        if q.len() == HISTORY {
            q.pop_front();
        }
        q.push_back(v);
    }

    fn record(&mut self, snap: &Snapshot, cpu: &CpuMap) {
        let live: HashSet<(String, String)> = snap
            .cgroups
            .iter()
            .map(|c| (c.hierarchy.clone(), c.path.clone()))
            .collect();
        self.cpu.retain(|k, _| live.contains(k));
        self.mem.retain(|k, _| live.contains(k));
        for (k, v) in cpu {
            // Tenths of a percent, so small loads still draw.
            History::push(&mut self.cpu, k.clone(), (v * 10.0).round().max(0.0) as u64);
        }
        for c in &snap.cgroups {
            if let Some((used, _)) = crate::model::format::memory_of(c) {
                History::push(&mut self.mem, (c.hierarchy.clone(), c.path.clone()), used);
            }
        }
    }
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
    pub is_root: bool,
    /// Cgroups view: index into snap.hierarchies.
    pub hierarchy: usize,
    pub hide_empty: bool,
    pub ns_tree: bool,
    pub collapsed: HashSet<RowKey>,
    pub keymap: Keymap,
    /// A one-line message in the footer (collection errors, hints).
    pub status: Option<String>,
    pub hits: Hits,
    /// Rows that fit in the table (set by the renderer's caller), for paging.
    pub page: usize,
    users: HashMap<u32, String>,
    resolve_users: bool,
}

use config::{MAX_INTERVAL, MIN_INTERVAL};

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
            dialog: None,
            dialog_scroll: 0,
            detail_focus: false,
            detail_scroll: 0,
            detail_len: 0,
            interval,
            read_only,
            effect_seq: 0,
            awaiting: None,
            is_root,
            hierarchy: 0,
            hide_empty: false,
            ns_tree: false,
            collapsed: HashSet::new(),
            keymap,
            status: None,
            hits: Hits::default(),
            page: 20,
            users: HashMap::new(),
            resolve_users: true,
        }
    }

    /// Show numeric UIDs instead of names (fixture snapshots: the host's names do not apply).
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

    /// Handle one message; returns what the event loop must do.
    pub fn update(&mut self, msg: Msg) -> Vec<Cmd> {
        match msg {
            Msg::Key(k) if k.kind != KeyEventKind::Release => self.on_key(k),
            Msg::Key(_) => vec![],
            Msg::Mouse(m) => {
                self.on_mouse(m);
                vec![]
            }
            Msg::Resize => vec![],
            Msg::Snapshot(s) => {
                let old = self.on_snapshot(*s, Same::default());
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
            Msg::Effect { id, reply } => self.on_effect(id, reply),
        }
    }

    /// Show `snap`, of which `same` tells what is as in the one shown; returns the snapshot it
    /// replaces.
    fn on_snapshot(&mut self, snap: Snapshot, same: Same) -> Snapshot {
        // Rates are between the snapshot on screen and the new one.
        if self.ready {
            self.cpu = rates::cpu_percent(&self.snap, &snap);
        }
        let old = std::mem::replace(&mut self.snap, snap);
        self.history.record(&self.snap, &self.cpu);
        if self.hierarchy >= self.snap.hierarchies.len() {
            self.hierarchy = 0;
        }
        let same = if self.ready { same } else { Same::default() };
        self.ready = true;
        self.update_rows(same);
        old
    }

    /// The rows after a new snapshot: built again only when what they show may have changed.
    /// Every second on an idle host the processes, namespaces and containers are those of the
    /// previous snapshot and only cgroup usage moves (CPU%, memory).
    fn update_rows(&mut self, same: Same) {
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

    fn user_name(&mut self, uid: u32) -> String {
        if !self.resolve_users {
            return uid.to_string();
        }
        self.users
            .entry(uid)
            .or_insert_with(|| crate::sys::users::user_name(uid).unwrap_or_else(|| uid.to_string()))
            .clone()
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
                let uids: HashSet<u32> = self.snap.processes.values().map(|p| p.uid).collect();
                let names: HashMap<u32, String> =
                    uids.into_iter().map(|u| (u, self.user_name(u))).collect();
                let lookup = |u: u32| names.get(&u).cloned().unwrap_or_else(|| u.to_string());
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

    fn on_key(&mut self, k: KeyEvent) -> Vec<Cmd> {
        if self.filter_editing {
            match k.code {
                KeyCode::Esc => {
                    self.filter.clear();
                    self.filter_editing = false;
                }
                KeyCode::Enter => self.filter_editing = false,
                KeyCode::Backspace => {
                    self.filter.pop();
                }
                KeyCode::Char(c)
                    if !k
                        .modifiers
                        .contains(crossterm::event::KeyModifiers::CONTROL) =>
                {
                    self.filter.push(c)
                }
                _ => return self.on_action_key(k),
            }
            self.refresh_rows();
            return vec![];
        }
        if let Some(Dialog::Enter(form)) = &mut self.dialog {
            if k.code == KeyCode::Char('c')
                && k.modifiers
                    .contains(crossterm::event::KeyModifiers::CONTROL)
            {
                return vec![Cmd::Quit];
            }
            return match form.key(k) {
                enter_form::FormResult::Editing => vec![],
                enter_form::FormResult::Cancel => {
                    self.dialog = None;
                    vec![]
                }
                enter_form::FormResult::Run(req) => {
                    self.dialog = None;
                    vec![Cmd::Enter(req)]
                }
            };
        }
        if let Some(cmds) = self.on_form_key(k) {
            return cmds;
        }
        if let Some(d) = &self.dialog {
            let action = self.keymap.action(&k);
            let close = matches!(k.code, KeyCode::Esc | KeyCode::Enter)
                || action == Some(Action::Quit)
                || (matches!(d, Dialog::Help) && action == Some(Action::Help))
                || (matches!(d, Dialog::Devices(_)) && action == Some(Action::Devices));
            if close {
                self.dialog = None;
                self.dialog_scroll = 0;
                // Ctrl-C still quits from anywhere.
                if k.code == KeyCode::Char('c')
                    && k.modifiers
                        .contains(crossterm::event::KeyModifiers::CONTROL)
                {
                    return vec![Cmd::Quit];
                }
                return vec![];
            }
            match action {
                Some(Action::Down) => self.dialog_scroll = self.dialog_scroll.saturating_add(1),
                Some(Action::Up) => self.dialog_scroll = self.dialog_scroll.saturating_sub(1),
                Some(Action::PageDown) => {
                    self.dialog_scroll = self.dialog_scroll.saturating_add(10)
                }
                Some(Action::PageUp) => self.dialog_scroll = self.dialog_scroll.saturating_sub(10),
                Some(Action::Home) => self.dialog_scroll = 0,
                _ => {}
            }
            return vec![];
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

    /// Keys for the change dialogs (forms, confirm, devices rules); None when no such dialog
    /// is open.
    fn on_form_key(&mut self, k: KeyEvent) -> Option<Vec<Cmd>> {
        use edit_form::FormResult;
        let ctrl_c = k.code == KeyCode::Char('c')
            && k.modifiers
                .contains(crossterm::event::KeyModifiers::CONTROL);
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
                    self.status = Some(READ_ONLY.into());
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
                self.dialog = None;
                vec![]
            }
            FormResult::Submit(req) => self.send_effect(req),
        })
    }

    /// Hand `req` to the worker and wait for its reply in a Working box.
    fn send_effect(&mut self, req: crate::effects::ops::Operation) -> Vec<Cmd> {
        self.effect_seq += 1;
        self.awaiting = Some(self.effect_seq);
        self.dialog = Some(Dialog::Working(working_text(&req)));
        vec![Cmd::Effect {
            id: self.effect_seq,
            req,
        }]
    }

    /// A reply from the worker: ask, or show the outcome and refresh at once so the tables show
    /// what the kernel now says.
    fn on_effect(&mut self, id: u64, reply: crate::effects::request::Reply) -> Vec<Cmd> {
        use crate::effects::request::Reply;
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
            Reply::Done { title, lines, ok } => {
                self.status = Some(format!("{title}: {}", if ok { "done" } else { "failed" }));
                self.dialog = Some(Dialog::Outcome { title, lines, ok });
                self.dialog_scroll = 0;
                vec![Cmd::RefreshNow]
            }
        }
    }

    fn on_action_key(&mut self, k: KeyEvent) -> Vec<Cmd> {
        let Some(action) = self.keymap.action(&k) else {
            return vec![];
        };
        self.on_action(action)
    }

    /// Perform one action (from a key, or from a test).
    pub fn on_action(&mut self, action: Action) -> Vec<Cmd> {
        let page = self.page.max(1) as isize;
        match action {
            Action::Quit => return vec![Cmd::Quit],
            Action::Up
            | Action::Down
            | Action::PageUp
            | Action::PageDown
            | Action::Home
            | Action::End
                if self.detail_focus =>
            {
                let max = self.detail_len.saturating_sub(1);
                let step = page as u16;
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
            Action::Up => self.move_by(-1),
            Action::Down => self.move_by(1),
            Action::PageUp => self.move_by(-page),
            Action::PageDown => self.move_by(page),
            Action::Home => self.select_index(0),
            Action::End => self.select_index(self.rows.len().saturating_sub(1)),
            Action::Left => self.collapse_or_parent(),
            Action::Right => self.expand(),
            Action::Open => self.toggle_open(),
            Action::NextPane => self.detail_focus = !self.detail_focus,
            Action::ViewGroups => self.set_view(View::Containers),
            Action::ViewNamespaces => self.set_view(View::Namespaces),
            Action::ViewCgroups => self.set_view(View::Cgroups),
            Action::ViewProcesses => self.set_view(View::Processes),
            Action::Filter => self.filter_editing = true,
            Action::Sort => {
                let cols = self.view.columns().len();
                let st = self.state_mut();
                let (c, rev) = st.sort.unwrap_or((0, false));
                st.sort = Some(((c + 1) % cols, rev));
                self.refresh_rows();
            }
            Action::SortReverse => {
                let st = self.state_mut();
                let (c, rev) = st.sort.unwrap_or((0, false));
                st.sort = Some((c, !rev));
                self.refresh_rows();
            }
            Action::Devices => {
                if let Some(r) = self.selected() {
                    self.dialog = Some(Dialog::Devices(r.key.clone()));
                    self.dialog_scroll = 0;
                }
            }
            Action::Faster | Action::Slower => {
                let secs = self.interval.as_secs_f64();
                let next = if action == Action::Faster {
                    if secs > 1.0 { secs - 1.0 } else { secs / 2.0 }
                } else if secs >= 1.0 {
                    secs + 1.0
                } else {
                    secs * 2.0
                };
                let next = Duration::from_secs_f64(next).clamp(MIN_INTERVAL, MAX_INTERVAL);
                self.interval = next;
                self.status = Some(format!("refresh every {}", interval_text(next)));
                return vec![Cmd::SetInterval(next)];
            }
            Action::RefreshNow => return vec![Cmd::RefreshNow],
            Action::Help => {
                self.dialog = Some(Dialog::Help);
                self.dialog_scroll = 0;
            }
            Action::EnterNs => {
                if let Some(r) = self.selected() {
                    match enter_form::EnterForm::for_row(&self.snap, &r.key, self.read_only) {
                        Ok(form) => self.dialog = Some(Dialog::Enter(form)),
                        Err(e) => self.status = Some(e),
                    }
                }
            }
            Action::EditLimits | Action::Freeze | Action::MoveProcess | Action::Undo
                if self.read_only =>
            {
                self.status = Some(READ_ONLY.into());
            }
            Action::EditLimits => {
                if let Some(r) = self.selected() {
                    match edit_form::EditForm::for_row(&self.snap, &r.key) {
                        Ok(form) => self.dialog = Some(Dialog::Edit(form)),
                        Err(e) => self.status = Some(e),
                    }
                }
            }
            Action::Freeze => {
                if let Some(r) = self.selected() {
                    match self.freeze_confirm(&r.key.clone()) {
                        Ok(d) => self.dialog = Some(d),
                        Err(e) => self.status = Some(e),
                    }
                }
            }
            Action::MoveProcess => {
                if let Some(r) = self.selected() {
                    match edit_form::MoveForm::for_row(&self.snap, &r.key) {
                        Ok(form) => self.dialog = Some(Dialog::Move(form)),
                        Err(e) => self.status = Some(e),
                    }
                }
            }
            Action::Undo => {
                let req = crate::effects::ops::Operation::Undo {
                    preview: true,
                    hierarchies: self.snap.hierarchies.clone(),
                    expect: None,
                };
                return self.send_effect(req);
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
        }
        vec![]
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
        lines.push(String::new());
        lines.push("y: yes, n / Esc: no".into());
        Ok(Dialog::Confirm {
            title: verb.to_string(),
            lines,
            then: crate::effects::ops::Operation::Freeze {
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

    fn on_mouse(&mut self, m: MouseEvent) {
        let t = self.hits.table;
        let inside =
            m.column >= t.x && m.column < t.x + t.width && m.row >= t.y && m.row < t.y + t.height;
        match m.kind {
            MouseEventKind::ScrollDown => self.move_by(3),
            MouseEventKind::ScrollUp => self.move_by(-3),
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

/// "1s", "500ms", "2.5s".
/// What every change key says in read-only mode.
pub const READ_ONLY: &str =
    "read-only (--read-only or read_only in the config): changes are turned off";

/// The line shown while the worker makes a change.
fn working_text(req: &crate::effects::ops::Operation) -> String {
    use crate::effects::ops::Operation;
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
