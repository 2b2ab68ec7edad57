//! The one table of key bindings. The help screen is generated from it and the config file can
//! remap any action to other keys.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::fmt;

/// Everything a key can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Quit,
    Up,
    Down,
    PageUp,
    PageDown,
    Home,
    End,
    /// Collapse a tree node (Cgroups, Processes, Namespaces tree) or go to its parent.
    Left,
    /// Expand a tree node.
    Right,
    /// Switch focus between the list and the detail pane.
    NextPane,
    ViewGroups,
    ViewNamespaces,
    ViewCgroups,
    ViewProcesses,
    /// Open / expand / toggle.
    Open,
    Filter,
    Sort,
    SortReverse,
    Devices,
    Faster,
    Slower,
    RefreshNow,
    /// Repaint the whole terminal and refresh now.
    Redraw,
    /// Open the `:` command line (view names, `:q`).
    CommandLine,
    Help,
    /// Cgroups view: previous / next hierarchy.
    PrevHierarchy,
    NextHierarchy,
    /// Cgroups view: hide or show cgroups without processes.
    ToggleEmpty,
    /// Namespaces view: flat list or tree by owner / parent.
    ToggleTree,
    /// Run a shell or a command inside the selection's namespaces.
    EnterNs,
    /// Edit the selection's cgroup limits.
    EditLimits,
    /// Freeze or thaw the selection's cgroup.
    Freeze,
    /// Move the selected process into another cgroup.
    MoveProcess,
    /// Revert the newest change in the journal.
    Undo,
    /// Replay: one frame back / forward.
    FrameBack,
    FrameForward,
    /// Replay: a minute back / forward.
    MinuteBack,
    MinuteForward,
    /// Replay: the previous / next frame with an event on the timeline.
    PrevEvent,
    NextEvent,
    /// Replay: the first / last frame.
    FirstFrame,
    LastFrame,
    /// Replay: go to a typed time.
    GoToTime,
}

impl Action {
    /// Every action, in the order the help screen lists them.
    pub const ALL: [Action; 43] = [
        Action::Up,
        Action::Down,
        Action::PageUp,
        Action::PageDown,
        Action::Home,
        Action::End,
        Action::Left,
        Action::Right,
        Action::NextPane,
        Action::ViewGroups,
        Action::ViewNamespaces,
        Action::ViewCgroups,
        Action::ViewProcesses,
        Action::Open,
        Action::Filter,
        Action::Sort,
        Action::SortReverse,
        Action::Devices,
        Action::EnterNs,
        Action::EditLimits,
        Action::Freeze,
        Action::MoveProcess,
        Action::Undo,
        Action::FrameBack,
        Action::FrameForward,
        Action::MinuteBack,
        Action::MinuteForward,
        Action::PrevEvent,
        Action::NextEvent,
        Action::FirstFrame,
        Action::LastFrame,
        Action::GoToTime,
        Action::PrevHierarchy,
        Action::NextHierarchy,
        Action::ToggleEmpty,
        Action::ToggleTree,
        Action::Faster,
        Action::Slower,
        Action::RefreshNow,
        Action::Redraw,
        Action::CommandLine,
        Action::Help,
        Action::Quit,
    ];

    /// Name used in the config file (`[keys] quit = ["q"]`).
    pub fn name(self) -> &'static str {
        match self {
            Action::Quit => "quit",
            Action::Up => "up",
            Action::Down => "down",
            Action::PageUp => "page_up",
            Action::PageDown => "page_down",
            Action::Home => "home",
            Action::End => "end",
            Action::Left => "left",
            Action::Right => "right",
            Action::NextPane => "next_pane",
            Action::ViewGroups => "view_groups",
            Action::ViewNamespaces => "view_namespaces",
            Action::ViewCgroups => "view_cgroups",
            Action::ViewProcesses => "view_processes",
            Action::Open => "open",
            Action::Filter => "filter",
            Action::Sort => "sort",
            Action::SortReverse => "sort_reverse",
            Action::Devices => "devices",
            Action::Faster => "faster",
            Action::Slower => "slower",
            Action::RefreshNow => "refresh_now",
            Action::Redraw => "redraw",
            Action::CommandLine => "command",
            Action::Help => "help",
            Action::PrevHierarchy => "prev_hierarchy",
            Action::NextHierarchy => "next_hierarchy",
            Action::ToggleEmpty => "toggle_empty",
            Action::ToggleTree => "toggle_tree",
            Action::EnterNs => "enter",
            Action::EditLimits => "edit_limits",
            Action::Freeze => "freeze",
            Action::MoveProcess => "move",
            Action::Undo => "undo",
            Action::FrameBack => "frame_back",
            Action::FrameForward => "frame_forward",
            Action::MinuteBack => "minute_back",
            Action::MinuteForward => "minute_forward",
            Action::PrevEvent => "prev_event",
            Action::NextEvent => "next_event",
            Action::FirstFrame => "first_frame",
            Action::LastFrame => "last_frame",
            Action::GoToTime => "go_to_time",
        }
    }

    /// The keys that move through a recording (`nsview replay`).
    pub fn replay_only(self) -> bool {
        matches!(
            self,
            Action::FrameBack
                | Action::FrameForward
                | Action::MinuteBack
                | Action::MinuteForward
                | Action::PrevEvent
                | Action::NextEvent
                | Action::FirstFrame
                | Action::LastFrame
                | Action::GoToTime
        )
    }

    pub fn from_name(name: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.name() == name)
    }

    /// One line for the help screen.
    pub fn help(self) -> &'static str {
        match self {
            Action::Quit => "quit",
            Action::Up => "move up",
            Action::Down => "move down",
            Action::PageUp => "page up",
            Action::PageDown => "page down",
            Action::Home => "first row",
            Action::End => "last row",
            Action::Left => "collapse / go to parent",
            Action::Right => "expand",
            Action::NextPane => "switch between list and detail pane",
            Action::ViewGroups => "view: containers and isolation groups",
            Action::ViewNamespaces => "view: namespaces",
            Action::ViewCgroups => "view: cgroups",
            Action::ViewProcesses => "view: processes",
            Action::Open => "open / expand / collapse",
            Action::Filter => "filter (name, PID, inode, cgroup path); Esc clears",
            Action::Sort => "sort by the next column",
            Action::SortReverse => "reverse the sort order",
            Action::Devices => "devices.list of the selection, decoded",
            Action::Faster => "refresh more often",
            Action::Slower => "refresh less often",
            Action::RefreshNow => "refresh now",
            Action::Redraw => "redraw the screen and refresh now",
            Action::CommandLine => "command line: :containers :ns :cgroups :ps, :q quits",
            Action::Help => "this help",
            Action::PrevHierarchy => "cgroups: previous hierarchy",
            Action::NextHierarchy => "cgroups: next hierarchy",
            Action::ToggleEmpty => "cgroups: hide / show empty groups",
            Action::ToggleTree => "namespaces: flat list / tree by owner and parent",
            Action::EnterNs => "enter the selection's namespaces (a shell or a command)",
            Action::EditLimits => {
                "edit the selection's cgroup limits (validated, confirmed, undoable)"
            }
            Action::Freeze => "freeze / thaw the selection's cgroup",
            Action::MoveProcess => "move the selected process into another cgroup",
            Action::Undo => "undo the last change (from the journal)",
            Action::FrameBack => "replay: one frame back",
            Action::FrameForward => "replay: one frame forward",
            Action::MinuteBack => "replay: a minute back",
            Action::MinuteForward => "replay: a minute forward",
            Action::PrevEvent => "replay: previous event on the timeline",
            Action::NextEvent => "replay: next event on the timeline",
            Action::FirstFrame => "replay: first frame",
            Action::LastFrame => "replay: last frame",
            Action::GoToTime => "replay: go to a time (03:12, -10m, +5m, RFC 3339)",
        }
    }
}

/// The keys of the devices view (src/app/input.rs), listed by the help screen.
pub const DEVICES_VIEW_KEYS: &[(&str, &str)] = &[
    (
        "a",
        "in the devices view: add an allow rule (devices.allow)",
    ),
    ("D", "in the devices view: add a deny rule (devices.deny)"),
];

/// A key as written in the config file and shown in help: "q", "ctrl-c", "up", "pgdn", "tab",
/// "f1", "space", "enter", "esc".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub ctrl: bool,
}

impl Key {
    pub const fn plain(c: char) -> Key {
        Key {
            code: KeyCode::Char(c),
            ctrl: false,
        }
    }

    pub const fn code(code: KeyCode) -> Key {
        Key { code, ctrl: false }
    }

    pub fn from_event(ev: &KeyEvent) -> Key {
        Key {
            code: ev.code,
            ctrl: ev.modifiers.contains(KeyModifiers::CONTROL),
        }
    }

    /// Parse the config file's spelling of a key.
    pub fn parse(s: &str) -> Option<Key> {
        let lower = s.to_ascii_lowercase();
        let (ctrl, rest) = match lower.strip_prefix("ctrl-") {
            Some(r) => (true, r),
            None => (false, lower.as_str()),
        };
        let code = match rest {
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "pgup" | "pageup" => KeyCode::PageUp,
            "pgdn" | "pagedown" => KeyCode::PageDown,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "tab" => KeyCode::Tab,
            "backtab" => KeyCode::BackTab,
            "enter" => KeyCode::Enter,
            "esc" => KeyCode::Esc,
            "space" => KeyCode::Char(' '),
            "backspace" => KeyCode::Backspace,
            f if f.starts_with('f') && f.len() > 1 => KeyCode::F(f[1..].parse().ok()?),
            _ => {
                // A single character keeps its case ("S" is not "s").
                let original = if ctrl { &s[5..] } else { s };
                let mut chars = original.chars();
                let c = chars.next()?;
                if chars.next().is_some() {
                    return None;
                }
                KeyCode::Char(c)
            }
        };
        Some(Key { code, ctrl })
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("Ctrl-")?;
        }
        match self.code {
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::Left => f.write_str("←"),
            KeyCode::Right => f.write_str("→"),
            KeyCode::PageUp => f.write_str("PgUp"),
            KeyCode::PageDown => f.write_str("PgDn"),
            KeyCode::Home => f.write_str("Home"),
            KeyCode::End => f.write_str("End"),
            KeyCode::Tab => f.write_str("Tab"),
            KeyCode::BackTab => f.write_str("S-Tab"),
            KeyCode::Enter => f.write_str("Enter"),
            KeyCode::Esc => f.write_str("Esc"),
            KeyCode::Backspace => f.write_str("Backspace"),
            KeyCode::Char(' ') => f.write_str("Space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::F(n) => write!(f, "F{n}"),
            _ => f.write_str("?"),
        }
    }
}

/// Key -> action, in binding order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keymap {
    bindings: Vec<(Key, Action)>,
}

impl Default for Keymap {
    fn default() -> Self {
        use Action::*;
        let c = Key::plain;
        let k = Key::code;
        let bindings = vec![
            (c('q'), Quit),
            (
                Key {
                    code: KeyCode::Char('c'),
                    ctrl: true,
                },
                Quit,
            ),
            (k(KeyCode::F(10)), Quit),
            (k(KeyCode::Up), Up),
            (c('k'), Up),
            (k(KeyCode::Down), Down),
            (c('j'), Down),
            (k(KeyCode::PageUp), PageUp),
            (k(KeyCode::PageDown), PageDown),
            (k(KeyCode::Home), Home),
            (c('g'), Home),
            (k(KeyCode::End), End),
            (c('G'), End),
            (k(KeyCode::Left), Left),
            (c('h'), Left),
            (k(KeyCode::Right), Right),
            (c('l'), Right),
            (k(KeyCode::Tab), NextPane),
            (c('1'), ViewGroups),
            (c('2'), ViewNamespaces),
            (c('3'), ViewCgroups),
            (c('4'), ViewProcesses),
            (k(KeyCode::Enter), Open),
            (c('/'), Filter),
            (k(KeyCode::F(3)), Filter),
            (k(KeyCode::F(4)), Filter),
            (c('s'), Sort),
            (c('S'), SortReverse),
            (c('d'), Devices),
            (c('x'), EnterNs),
            (c('e'), EditLimits),
            (c('f'), Freeze),
            (c('m'), MoveProcess),
            (c('u'), Undo),
            (c(','), FrameBack),
            (c('.'), FrameForward),
            (c('{'), MinuteBack),
            (c('}'), MinuteForward),
            (c('<'), PrevEvent),
            (c('>'), NextEvent),
            (c('^'), FirstFrame),
            (c('$'), LastFrame),
            (c('T'), GoToTime),
            (c('['), PrevHierarchy),
            (c(']'), NextHierarchy),
            (c('z'), ToggleEmpty),
            (c('t'), ToggleTree),
            (c('+'), Faster),
            (c('-'), Slower),
            (c(' '), RefreshNow),
            (k(KeyCode::F(5)), Redraw),
            (
                Key {
                    code: KeyCode::Char('l'),
                    ctrl: true,
                },
                Redraw,
            ),
            (c(':'), CommandLine),
            (c('?'), Help),
            (k(KeyCode::F(1)), Help),
        ];
        Keymap { bindings }
    }
}

impl Keymap {
    pub fn action(&self, ev: &KeyEvent) -> Option<Action> {
        let key = Key::from_event(ev);
        self.bindings
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, a)| *a)
    }

    /// Keys bound to `action`, in binding order.
    pub fn keys(&self, action: Action) -> Vec<Key> {
        self.bindings
            .iter()
            .filter(|(_, a)| *a == action)
            .map(|(k, _)| *k)
            .collect()
    }

    /// Replace the keys of `action` (config file). Keys taken from other actions are removed
    /// from them, so one key never does two things.
    pub fn rebind(&mut self, action: Action, keys: &[Key]) {
        self.bindings
            .retain(|(k, a)| *a != action && !keys.contains(k));
        for k in keys {
            self.bindings.push((*k, action));
        }
    }

    /// (keys, description) per action, for the help screen; after the devices action, the keys
    /// of the devices view itself (fixed, not remappable: [`DEVICES_VIEW_KEYS`]).
    pub fn help_lines(&self) -> Vec<(String, &'static str)> {
        self.lines_of(Action::ALL)
    }

    /// The help screen's lines: in a replay its keys first; live, without them (they do
    /// nothing there).
    pub fn help_lines_for(&self, replay: bool) -> Vec<(String, &'static str)> {
        let (mut first, rest): (Vec<Action>, Vec<Action>) =
            Action::ALL.into_iter().partition(|a| a.replay_only());
        if !replay {
            first.clear();
        }
        first.extend(rest);
        self.lines_of(first)
    }

    fn lines_of(&self, actions: impl IntoIterator<Item = Action>) -> Vec<(String, &'static str)> {
        let mut lines = Vec::new();
        for a in actions {
            let keys = self.keys(a);
            if keys.is_empty() {
                continue;
            }
            let names: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
            lines.push((names.join(" "), a.help()));
            if a == Action::Devices {
                lines.extend(DEVICES_VIEW_KEYS.iter().map(|(k, d)| (k.to_string(), *d)));
            }
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_rebind() {
        assert_eq!(Key::parse("q"), Some(Key::plain('q')));
        assert_eq!(Key::parse("S"), Some(Key::plain('S')));
        assert_eq!(
            Key::parse("ctrl-c"),
            Some(Key {
                code: KeyCode::Char('c'),
                ctrl: true
            })
        );
        assert_eq!(Key::parse("pgdn"), Some(Key::code(KeyCode::PageDown)));
        assert_eq!(Key::parse("f1"), Some(Key::code(KeyCode::F(1))));
        assert_eq!(Key::parse("space"), Some(Key::plain(' ')));
        assert_eq!(Key::parse("nope"), None);
        assert_eq!(Key::parse(""), None);
        let mut km = Keymap::default();
        km.rebind(Action::Quit, &[Key::plain('x')]);
        let x = KeyEvent::new(KeyCode::Char('x'), KeyModifiers::NONE);
        let q = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE);
        assert_eq!(km.action(&x), Some(Action::Quit));
        assert_eq!(km.action(&q), None);
        // Every action has a key by default and a name that parses back.
        let def = Keymap::default();
        for a in Action::ALL {
            assert!(!def.keys(a).is_empty(), "{a:?} has no key");
            assert_eq!(Action::from_name(a.name()), Some(a));
        }
    }
}
