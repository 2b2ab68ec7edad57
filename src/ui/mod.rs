//! Rendering: pure functions of the App state into a ratatui frame. No I/O.

mod detail;
mod dialogs;
mod header;
mod table;
mod theme;

pub use theme::Theme;

use crate::app::{App, Dialog, Hits, View};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// The smallest terminal nsview draws into.
pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 24;

/// What the last frame laid out, for the event loop (mouse hits, paging, scroll offset).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Drawn {
    pub hits: Hits,
    /// Rows of the table that fit on screen.
    pub page: usize,
    /// First visible row.
    pub offset: usize,
    /// Screen lines of the detail pane's content.
    pub detail_len: u16,
}

impl Drawn {
    /// Give the app what the frame laid out (for mouse hits, paging and scroll bounds).
    pub fn apply_to(&self, app: &mut App) {
        app.hits = self.hits;
        app.page = self.page.max(1);
        app.detail_len = self.detail_len;
        let v = app.view.index();
        app.states[v].offset = self.offset;
    }
}

/// Draw the whole screen.
pub fn draw(f: &mut Frame, app: &App, theme: &Theme) -> Drawn {
    let area = f.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let msg = format!(
            "terminal too small: {}x{}, nsview needs at least {MIN_WIDTH}x{MIN_HEIGHT}\nq quits",
            area.width, area.height
        );
        f.render_widget(Paragraph::new(msg).style(theme.fg(theme.warning)), area);
        return Drawn::default();
    }
    let banner = !app.is_root;
    let [header, time_bar, banner_area, tabs, body, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(u16::from(app.replay.is_some())),
        Constraint::Length(u16::from(banner)),
        Constraint::Length(1),
        Constraint::Min(5),
        Constraint::Length(1),
    ])
    .areas(area);
    header::draw_header(f, app, theme, header);
    let timeline = header::draw_time_bar(f, app, theme, time_bar);
    if banner {
        f.render_widget(
            Paragraph::new("not root: some namespaces, cgroup files and hostnames are hidden")
                .style(theme.fg(theme.warning)),
            banner_area,
        );
    }
    header::draw_tabs(f, app, theme, tabs);
    let mut drawn = draw_body(f, app, theme, body);
    drawn.hits.tabs = tabs;
    drawn.hits.timeline = timeline;
    draw_footer(f, app, theme, footer);
    dialogs::draw_dialog(f, app, theme, body);
    drawn
}

/// Between the tabs and the footer: the table and the detail pane, the full-screen devices
/// list, or a word while the first snapshot is collected.
fn draw_body(f: &mut Frame, app: &App, theme: &Theme, body: Rect) -> Drawn {
    if !app.ready {
        let word = if app.replay.is_some() {
            "reading the recording ..."
        } else {
            "collecting ..."
        };
        f.render_widget(Paragraph::new(word), body);
        return Drawn::default();
    }
    if let Some(Dialog::Devices(key)) = &app.dialog {
        dialogs::draw_devices(f, app, theme, body, key);
        return Drawn::default();
    }
    // Wide terminals: the detail pane on the right, with what the list leaves beyond the 80
    // columns it needs for its main columns (at 140 columns 60: image names and cgroup paths
    // fit), 34 to 60 wide. Narrow ones (80 columns): below the list, so the list keeps its
    // columns.
    let [list, detail] = if body.width >= 110 {
        let detail_width = body.width.saturating_sub(80).clamp(34, 60);
        Layout::horizontal([Constraint::Min(30), Constraint::Length(detail_width)]).areas(body)
    } else {
        let detail_height = (body.height * 2 / 5).max(6);
        Layout::vertical([Constraint::Min(5), Constraint::Length(detail_height)]).areas(body)
    };
    let mut drawn = table::draw_table(f, app, theme, list);
    drawn.detail_len = detail::draw_detail(f, app, theme, detail);
    drawn
}

fn draw_footer(f: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let line = if let Some(text) = &app.command_line {
        Line::from(vec![
            Span::styled(":", theme.heading()),
            Span::raw(crate::model::format::printable(text).into_owned()),
            Span::styled("▏", theme.fg(theme.accent)),
            Span::styled(
                format!("   {}  Tab complete  Esc cancel", crate::app::COMMAND_HINT),
                theme.dimmed(),
            ),
        ])
    } else if app.filter_editing {
        Line::from(vec![
            Span::styled("filter: ", theme.heading()),
            Span::raw(app.filter.clone()),
            Span::styled("▏", theme.fg(theme.accent)),
            Span::styled("   Enter keep  Esc clear", theme.dimmed()),
        ])
    } else if let Some(s) = &app.status {
        // Status messages quote names the system chose: escaped.
        let status = crate::model::format::printable(s).into_owned();
        Line::from(Span::styled(status, theme.fg(theme.warning)))
    } else if app.replay.is_some() {
        let hints = " , . frame  { } minute  < > event  ^ $ first/last  T time  / filter  Tab pane  ? help  q quit";
        Line::from(Span::styled(hints, theme.dimmed()))
    } else {
        let hints = match app.view {
            View::Cgroups => {
                " e edit  f freeze  u undo  d devices  [ ] hierarchy  / filter  s sort  ? help  q quit"
            }
            View::Namespaces => {
                " x enter  t tree  d devices  / filter  s sort  Tab pane  ? help  q quit"
            }
            View::Processes => {
                " e edit  f freeze  m move  x enter  u undo  d devices  / filter  ? help  q quit"
            }
            View::Containers => {
                " e edit  f freeze  x enter  u undo  d devices  / filter  s sort  ? help  q quit"
            }
        };
        Line::from(Span::styled(hints, theme.dimmed()))
    };
    f.render_widget(Paragraph::new(line), area);
}

fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

fn truncate_to(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// Split `text` into lines of at most `width` characters, at spaces where possible; continuation
/// lines are indented by two so a wrapped line reads as one.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(8);
    let mut out = Vec::new();
    let mut rest: Vec<char> = text.chars().collect();
    let mut room = width;
    while rest.len() > room {
        // Break after the last space in reach, unless that leaves most of the line empty.
        let cut = rest[..=room]
            .iter()
            .rposition(|c| *c == ' ')
            .filter(|&i| i > room / 2)
            .unwrap_or(room);
        let line: String = rest[..cut].iter().collect();
        out.push(if out.is_empty() {
            line
        } else {
            format!("  {line}")
        });
        let skip = if rest.get(cut) == Some(&' ') {
            cut + 1
        } else {
            cut
        };
        rest.drain(..skip);
        room = width - 2;
    }
    let line: String = rest.into_iter().collect();
    out.push(if out.is_empty() {
        line
    } else {
        format!("  {line}")
    });
    out
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wraps_at_spaces() {
        assert_eq!(wrap("short", 20), vec!["short"]);
        assert_eq!(
            wrap("uts 4026555738 private (nsv-e2e-20417) also x", 30),
            vec!["uts 4026555738 private", "  (nsv-e2e-20417) also x"]
        );
        // No space in reach: a hard break.
        assert_eq!(wrap("abcdefghijklmnop", 10), vec!["abcdefghij", "  klmnop"]);
        for line in wrap("a b c d e f g h i j k l m n o p q r s t u v w x y z", 9) {
            assert!(line.chars().count() <= 9, "{line}");
        }
    }
}
