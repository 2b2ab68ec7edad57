//! `nsview replay`: the cursor over a recording's frames, the keys that move it, the marks of
//! its timeline and the go-to-time box. The recording itself stays on the replay thread
//! (src/tui/replay.rs): the app asks for a frame ([`Cmd::ReplaySeek`]) and gets its snapshot
//! back ([`Msg::ReplayFrame`]).

use super::keymap::Action;
use super::rows::CpuMap;
use super::{App, Cmd, Dialog, History, Unchanged};
use crate::model::Snapshot;
use crate::record::{Event, EventKind};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What every change key (and enter) says in a replay.
pub const REPLAY: &str =
    "replay of a recording: nothing here can be changed or entered (it is the past)";

/// One minute, the step of the minute keys.
const MINUTE_MS: i64 = 60_000;

/// What the replay thread is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seek {
    /// Frame index (0-based).
    Frame(usize),
    /// A typed time, resolved by `record::time::frame_at` on the thread.
    Time(String),
}

/// A decoded frame, ready to show: its snapshot, the CPU% against the frame before it, and the
/// recorded series around it for the sparklines.
#[derive(Debug)]
pub struct ReplayFrame {
    pub frame: usize,
    pub snap: Snapshot,
    pub cpu: CpuMap,
    pub history: History,
}

/// An event on the timeline, at the frame that saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct Mark {
    pub frame: usize,
    pub event: Event,
}

/// The go-to-time box: what is typed, and why the last time given named no frame.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TimeInput {
    pub text: String,
    pub error: Option<String>,
    /// Sent to the replay thread; the box closes when it answers with a frame.
    pub pending: bool,
}

/// The replay's state: the recording's frame times and events (indexed when it was opened),
/// where the cursor is and which frame is on screen.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReplayView {
    /// The recording's name for the header (its file name).
    pub label: String,
    /// Time of each frame, ms since the epoch.
    pub times: Vec<i64>,
    /// Events, in frame order.
    pub marks: Vec<Mark>,
    /// The frame asked for (moves at once with the keys).
    pub cursor: usize,
    /// The frame on screen (None until the first arrives).
    pub shown: Option<usize>,
}

/// One column of the timeline strip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    Empty,
    Mark(EventKind),
    Cursor,
}

impl ReplayView {
    pub fn new(label: String, times: Vec<i64>, marks: Vec<Mark>, cursor: usize) -> ReplayView {
        ReplayView {
            label,
            cursor: cursor.min(times.len().saturating_sub(1)),
            times,
            marks,
            shown: None,
        }
    }

    pub fn frames(&self) -> usize {
        self.times.len()
    }

    pub fn last(&self) -> usize {
        self.times.len().saturating_sub(1)
    }

    /// The time of the frame under the cursor.
    pub fn cursor_time(&self) -> Option<i64> {
        self.times.get(self.cursor).copied()
    }

    /// The frame an action moves the cursor to, or why it stays (no event after it...).
    pub fn target(&self, action: Action) -> Result<usize, &'static str> {
        let at = self.cursor;
        let t = self.cursor_time().unwrap_or(0);
        match action {
            Action::FrameBack => Ok(at.saturating_sub(1)),
            Action::FrameForward => Ok((at + 1).min(self.last())),
            Action::FirstFrame => Ok(0),
            Action::LastFrame => Ok(self.last()),
            // The last frame at or before a minute earlier; the first at or after a minute
            // later (times normally rise; with a clock set back, file order decides).
            Action::MinuteBack => Ok(self
                .times
                .iter()
                .rposition(|x| *x <= t - MINUTE_MS)
                .filter(|i| *i < at)
                .unwrap_or(0)),
            Action::MinuteForward => Ok(self
                .times
                .iter()
                .position(|x| *x >= t + MINUTE_MS)
                .filter(|i| *i > at)
                .unwrap_or(self.last())),
            Action::PrevEvent => self
                .marks
                .iter()
                .rev()
                .find(|m| m.frame < at)
                .map(|m| m.frame)
                .ok_or("no event before this frame"),
            Action::NextEvent => self
                .marks
                .iter()
                .find(|m| m.frame > at)
                .map(|m| m.frame)
                .ok_or("no event after this frame"),
            _ => Ok(at),
        }
    }

    /// The column of frame `i` in a strip of `width` columns: by time, so that a pause in the
    /// recording shows as a gap; by index when every frame has the same time.
    pub fn column(&self, i: usize, width: usize) -> usize {
        let (Some(first), Some(last), Some(t)) =
            (self.times.first(), self.times.last(), self.times.get(i))
        else {
            return 0;
        };
        let w = width.saturating_sub(1) as i64;
        let col = if last > first {
            (t - first).clamp(0, last - first) * w / (last - first)
        } else if self.times.len() > 1 {
            i as i64 * w / (self.times.len() as i64 - 1)
        } else {
            0
        };
        col as usize
    }

    /// The timeline strip: the marks (the most serious kind where several share a column) and
    /// the cursor over them.
    pub fn strip(&self, width: usize) -> Vec<Cell> {
        let mut cells = vec![Cell::Empty; width];
        if width == 0 {
            return cells;
        }
        for m in &self.marks {
            let c = self.column(m.frame, width);
            let kind = m.event.kind;
            match cells[c] {
                Cell::Mark(k) if severity(k) >= severity(kind) => {}
                _ => cells[c] = Cell::Mark(kind),
            }
        }
        cells[self.column(self.cursor, width)] = Cell::Cursor;
        cells
    }

    /// The frame nearest to column `col` of a strip of `width` columns.
    pub fn frame_at_column(&self, col: usize, width: usize) -> usize {
        (0..self.times.len())
            .min_by_key(|i| self.column(*i, width).abs_diff(col))
            .unwrap_or(0)
    }

    /// The events of frame `i`, as one line for the footer.
    pub fn events_text(&self, i: usize) -> Option<String> {
        let here: Vec<String> = self
            .marks
            .iter()
            .filter(|m| m.frame == i)
            .map(|m| {
                format!(
                    "{} {}: {}",
                    m.event.kind.name(),
                    m.event.subject,
                    m.event.detail
                )
            })
            .collect();
        (!here.is_empty()).then(|| here.join("; "))
    }
}

/// Which mark wins a column shared by several.
fn severity(k: EventKind) -> u8 {
    match k {
        EventKind::Oom => 5,
        EventKind::LimitHit => 4,
        EventKind::LimitChanged => 3,
        EventKind::Change => 2,
        EventKind::ContainerStopped => 1,
        EventKind::ContainerStarted => 0,
    }
}

impl App {
    /// Show a recording instead of the live host: changes and enter are refused with
    /// [`REPLAY`], the header carries the time bar.
    pub fn start_replay(&mut self, view: ReplayView) {
        self.read_only = true;
        self.replay = Some(view);
    }

    /// Why a change key does nothing: replay, or --read-only.
    pub(super) fn refusal(&self) -> &'static str {
        if self.replay.is_some() {
            REPLAY
        } else {
            super::READ_ONLY
        }
    }

    /// The replay keys: move the cursor and ask the replay thread for that frame.
    pub(super) fn on_replay_action(&mut self, action: Action) -> Vec<Cmd> {
        let Some(r) = &mut self.replay else {
            self.status = Some("only in a replay of a recording (nsview replay FILE)".into());
            return vec![];
        };
        if action == Action::GoToTime {
            self.dialog = Some(Dialog::GoToTime(TimeInput::default()));
            return vec![];
        }
        match r.target(action) {
            Ok(i) if i == r.cursor => vec![],
            Ok(i) => {
                r.cursor = i;
                vec![Cmd::ReplaySeek(Seek::Frame(i))]
            }
            Err(why) => {
                self.status = Some(why.into());
                vec![]
            }
        }
    }

    /// A click on the timeline: the cursor goes to the frame under it (its seek is the mouse
    /// message's command). False when the click was elsewhere.
    pub(super) fn on_timeline(&mut self, column: u16, row: u16) -> bool {
        let t = self.hits.timeline;
        let inside = t.width > 0 && row == t.y && column >= t.x && column < t.x + t.width;
        let Some(r) = self.replay.as_mut().filter(|_| inside) else {
            return false;
        };
        let i = r.frame_at_column((column - t.x) as usize, t.width as usize);
        if i != r.cursor {
            r.cursor = i;
            self.pending_seek = Some(Seek::Frame(i));
        }
        true
    }

    /// Keys of the go-to-time box: Enter asks the thread to resolve the time, Esc closes.
    pub(super) fn on_time_key(&mut self, k: KeyEvent) -> Vec<Cmd> {
        let Some(Dialog::GoToTime(input)) = &mut self.dialog else {
            return vec![];
        };
        if k.code == KeyCode::Char('c') && k.modifiers.contains(KeyModifiers::CONTROL) {
            return vec![Cmd::Quit];
        }
        match k.code {
            KeyCode::Esc => self.dialog = None,
            KeyCode::Enter if !input.text.trim().is_empty() => {
                input.pending = true;
                input.error = None;
                return vec![Cmd::ReplaySeek(Seek::Time(input.text.trim().to_string()))];
            }
            KeyCode::Backspace => {
                input.text.pop();
                input.error = None;
            }
            KeyCode::Char(c) if !k.modifiers.contains(KeyModifiers::CONTROL) => {
                if input.text.chars().count() < 64 {
                    input.text.push(c);
                }
                input.error = None;
            }
            _ => {}
        }
        vec![]
    }

    /// A typed time named frame `i`: the cursor goes there (its frame follows).
    pub(super) fn on_replay_cursor(&mut self, i: usize) {
        if let Some(r) = &mut self.replay {
            r.cursor = i.min(r.last());
        }
        if matches!(self.dialog, Some(Dialog::GoToTime(_))) {
            self.dialog = None;
        }
    }

    /// A typed time named no frame (or a frame could not be decoded): said in the box if it is
    /// waiting for it, else in the footer.
    pub(super) fn on_replay_error(&mut self, e: String) {
        match &mut self.dialog {
            Some(Dialog::GoToTime(input)) if input.pending => {
                input.pending = false;
                input.error = Some(e);
            }
            _ => self.status = Some(e),
        }
    }

    /// A frame decoded by the replay thread: shown with its CPU% and series; the footer says
    /// what happened at it.
    pub(super) fn on_replay_frame(&mut self, f: ReplayFrame) {
        let old = std::mem::replace(&mut self.snap, f.snap);
        self.cpu = f.cpu;
        self.history = f.history;
        if self.hierarchy >= self.snap.hierarchies.len() {
            self.hierarchy = 0;
        }
        self.ready = true;
        self.update_rows(Unchanged::default());
        if let Some(r) = &mut self.replay {
            r.shown = Some(f.frame);
            if let Some(text) = r.events_text(f.frame) {
                self.status = Some(text);
            }
        }
        drop(old);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::keymap::Keymap;
    use crossterm::event::KeyEvent;
    use std::time::Duration;

    fn event(kind: EventKind, subject: &str) -> Event {
        Event {
            kind,
            subject: subject.into(),
            detail: "d".into(),
        }
    }

    /// 10 frames one second apart from 1000 s, then (a pause) 5 frames from 1200 s; a group
    /// starts at frame 3 and stops at frame 7, a limit changes at frame 12.
    fn view() -> ReplayView {
        let mut times: Vec<i64> = (0..10).map(|i| 1_000_000 + i * 1000).collect();
        times.extend((0..5).map(|i| 1_200_000 + i * 1000));
        let marks = vec![
            Mark {
                frame: 3,
                event: event(EventKind::ContainerStarted, "g"),
            },
            Mark {
                frame: 7,
                event: event(EventKind::ContainerStopped, "g"),
            },
            Mark {
                frame: 12,
                event: event(EventKind::LimitChanged, "memory:/x"),
            },
            Mark {
                frame: 12,
                event: event(EventKind::Oom, "memory:/x"),
            },
        ];
        ReplayView::new("r.nsrec".into(), times, marks, 14)
    }

    fn app() -> App {
        let mut app = App::new(Duration::from_secs(1), false, true, Keymap::default());
        app.start_replay(view());
        app
    }

    fn key(app: &mut App, c: char) -> Vec<Cmd> {
        app.update(crate::app::Msg::Key(KeyEvent::from(KeyCode::Char(c))))
    }

    fn cursor(app: &App) -> usize {
        app.replay.as_ref().map_or(usize::MAX, |r| r.cursor)
    }

    fn seeks(cmds: &[Cmd]) -> Vec<Seek> {
        cmds.iter()
            .filter_map(|c| match c {
                Cmd::ReplaySeek(s) => Some(s.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn keys_move_the_cursor_and_ask_for_the_frame() {
        let mut app = app();
        assert_eq!(cursor(&app), 14);
        assert_eq!(seeks(&key(&mut app, ',')), vec![Seek::Frame(13)]);
        assert_eq!(seeks(&key(&mut app, '^')), vec![Seek::Frame(0)]);
        // Already at the first frame: nothing to ask for.
        assert!(seeks(&key(&mut app, ',')).is_empty());
        assert_eq!(seeks(&key(&mut app, '.')), vec![Seek::Frame(1)]);
        // A minute on: past the pause, the first frame at or after it.
        assert_eq!(seeks(&key(&mut app, '}')), vec![Seek::Frame(10)]);
        assert_eq!(seeks(&key(&mut app, '{')), vec![Seek::Frame(9)]);
        assert_eq!(seeks(&key(&mut app, '$')), vec![Seek::Frame(14)]);
        // Events: back to the limit change, then the stop, then the start; none before it.
        assert_eq!(seeks(&key(&mut app, '<')), vec![Seek::Frame(12)]);
        assert_eq!(seeks(&key(&mut app, '<')), vec![Seek::Frame(7)]);
        assert_eq!(seeks(&key(&mut app, '<')), vec![Seek::Frame(3)]);
        assert!(seeks(&key(&mut app, '<')).is_empty());
        assert_eq!(app.status.as_deref(), Some("no event before this frame"));
        assert_eq!(seeks(&key(&mut app, '>')), vec![Seek::Frame(7)]);
        assert_eq!(cursor(&app), 7);
    }

    #[test]
    fn a_typed_time_goes_to_the_thread_and_its_error_shows_in_the_box() {
        let mut app = app();
        key(&mut app, 'T');
        for c in "03:12".chars() {
            key(&mut app, c);
        }
        let cmds = app.update(crate::app::Msg::Key(KeyEvent::from(KeyCode::Enter)));
        assert_eq!(seeks(&cmds), vec![Seek::Time("03:12".into())]);
        app.update(crate::app::Msg::ReplayError("no 03:12 within".into()));
        match &app.dialog {
            Some(Dialog::GoToTime(input)) => {
                assert_eq!(input.error.as_deref(), Some("no 03:12 within"));
                assert_eq!(input.text, "03:12");
            }
            other => panic!("the box must stay open with the error: {other:?}"),
        }
        app.update(crate::app::Msg::Key(KeyEvent::from(KeyCode::Enter)));
        app.update(crate::app::Msg::ReplayCursor(5));
        assert!(app.dialog.is_none());
        assert_eq!(cursor(&app), 5);
    }

    #[test]
    fn every_change_key_is_refused_with_the_replay_reason() {
        for c in ['e', 'f', 'm', 'u', 'x'] {
            let mut app = app();
            app.update(crate::app::Msg::ReplayFrame(Box::new(ReplayFrame {
                frame: 14,
                snap: Snapshot::default(),
                cpu: CpuMap::new(),
                history: History::default(),
            })));
            app.status = None;
            let cmds = key(&mut app, c);
            assert!(cmds.is_empty(), "{c}: {cmds:?}");
            assert!(app.dialog.is_none(), "{c} opened {:?}", app.dialog);
            assert_eq!(app.status.as_deref(), Some(REPLAY), "{c}");
        }
    }

    #[test]
    fn a_click_on_the_timeline_moves_the_cursor() {
        use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
        let mut app = app();
        app.hits.timeline = ratatui::layout::Rect::new(40, 1, 201, 1);
        let click = |column: u16| {
            crate::app::Msg::Mouse(MouseEvent {
                kind: MouseEventKind::Down(MouseButton::Left),
                column,
                row: 1,
                modifiers: KeyModifiers::NONE,
            })
        };
        // The left end: the first frame; the column of frame 12 (by time): frame 12.
        assert_eq!(seeks(&app.update(click(40))), vec![Seek::Frame(0)]);
        let col = 40 + app.replay.as_ref().map_or(0, |r| r.column(12, 201)) as u16;
        assert_eq!(seeks(&app.update(click(col))), vec![Seek::Frame(12)]);
        assert_eq!(cursor(&app), 12);
    }

    #[test]
    fn marks_on_the_strip() {
        let v = view();
        // 21 columns over 1000 s .. 1204 s: by time.
        assert_eq!(v.column(0, 21), 0);
        assert_eq!(v.column(14, 21), 20);
        assert_eq!(v.column(3, 21), 0);
        let s = v.strip(201);
        assert_eq!(s[v.column(3, 201)], Cell::Mark(EventKind::ContainerStarted));
        assert_eq!(s[v.column(7, 201)], Cell::Mark(EventKind::ContainerStopped));
        // The OOM wins the column it shares with the limit change.
        assert_eq!(s[v.column(12, 201)], Cell::Mark(EventKind::Oom));
        assert_eq!(s[200], Cell::Cursor);
        assert_eq!(s.iter().filter(|c| **c != Cell::Empty).count(), 4, "{s:?}");
    }
}
