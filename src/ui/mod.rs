//! Rendering: pure functions of the App state into a ratatui frame. No I/O.

use crate::app::detail::{self, Item};
use crate::app::rows::{Column, Row};
use crate::app::{App, Dialog, Hits, View, interval_text};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Block, Borders, Cell, Clear, LineGauge, Paragraph, Row as TRow, Sparkline, Table, TableState,
};

/// The smallest terminal nsview draws into.
pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 24;

/// Colours; all of them are plain (no colour) when NO_COLOR is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub header: Color,
    pub selection: Color,
    pub accent: Color,
    pub warning: Color,
    pub error: Color,
    pub dim: Color,
    /// NO_COLOR: only bold, reversed and dim attributes.
    pub mono: bool,
}

impl Default for Theme {
    /// The config file's default colours (one place: app::config::Colors::default).
    fn default() -> Self {
        Theme::from_config(&crate::app::config::Colors::default(), false)
    }
}

impl Theme {
    /// The configured colours, or none at all when `no_color` (the NO_COLOR convention).
    pub fn from_config(c: &crate::app::config::Colors, no_color: bool) -> Theme {
        Theme {
            header: c.header,
            selection: c.selection,
            accent: c.accent,
            warning: c.warning,
            error: c.error,
            dim: c.dim,
            mono: no_color,
        }
    }

    pub fn monochrome() -> Theme {
        Theme {
            mono: true,
            ..Theme::default()
        }
    }

    fn fg(&self, c: Color) -> Style {
        if self.mono {
            Style::default()
        } else {
            Style::default().fg(c)
        }
    }

    fn selected(&self) -> Style {
        if self.mono {
            Style::default().add_modifier(Modifier::REVERSED)
        } else {
            Style::default()
                .bg(self.selection)
                .fg(Color::White)
                .add_modifier(Modifier::BOLD)
        }
    }

    fn dimmed(&self) -> Style {
        if self.mono {
            Style::default().add_modifier(Modifier::DIM)
        } else {
            Style::default().fg(self.dim)
        }
    }

    fn heading(&self) -> Style {
        self.fg(self.accent).add_modifier(Modifier::BOLD)
    }
}

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
    let [header, banner_area, tabs, body, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(u16::from(banner)),
        Constraint::Length(1),
        Constraint::Min(5),
        Constraint::Length(1),
    ])
    .areas(area);
    draw_header(f, app, theme, header);
    if banner {
        f.render_widget(
            Paragraph::new("not root: some namespaces, cgroup files and hostnames are hidden")
                .style(theme.fg(theme.warning)),
            banner_area,
        );
    }
    draw_tabs(f, app, theme, tabs);
    let mut drawn = Drawn::default();
    drawn.hits.tabs = tabs;
    if !app.ready {
        f.render_widget(Paragraph::new("collecting ..."), body);
    } else if let Some(Dialog::Devices(key)) = &app.dialog {
        draw_devices(f, app, theme, body, key);
    } else {
        // Wide terminals: the detail pane on the right, 30% of the width. Narrow ones (80
        // columns): below the list, so the list keeps its columns.
        let [list, detail] = if body.width >= 110 {
            let detail_width = (body.width * 3 / 10).clamp(34, 60);
            Layout::horizontal([Constraint::Min(30), Constraint::Length(detail_width)]).areas(body)
        } else {
            let detail_height = (body.height * 2 / 5).max(6);
            Layout::vertical([Constraint::Min(5), Constraint::Length(detail_height)]).areas(body)
        };
        drawn = draw_table(f, app, theme, list);
        drawn.hits.tabs = tabs;
        drawn.detail_len = draw_detail(f, app, theme, detail);
    }
    draw_footer(f, app, theme, footer);
    match &app.dialog {
        Some(Dialog::Help) => draw_help(f, app, theme, body),
        Some(Dialog::Message { title, text }) => draw_message(f, theme, body, title, text),
        Some(Dialog::Enter(form)) => draw_enter(f, theme, body, form),
        Some(Dialog::Edit(form)) => draw_edit(f, theme, body, form),
        Some(Dialog::Move(form)) => draw_move(f, theme, body, form),
        Some(Dialog::Rule(form)) => draw_rule(f, theme, body, form),
        Some(Dialog::Confirm { title, lines, .. }) => draw_lines(
            f,
            theme,
            body,
            title,
            lines,
            theme.accent,
            app.dialog_scroll,
        ),
        Some(Dialog::Working(text)) => draw_lines(
            f,
            theme,
            body,
            "working",
            std::slice::from_ref(text),
            theme.accent,
            0,
        ),
        Some(Dialog::Outcome { title, lines, ok }) => {
            let mut all = lines.clone();
            all.push(String::new());
            all.push("Esc / Enter closes".into());
            let color = if *ok { theme.accent } else { theme.error };
            draw_lines(f, theme, body, title, &all, color, app.dialog_scroll)
        }
        _ => {}
    }
    drawn
}

/// A titled box of text lines (confirmations, outcomes), wrapped to the box.
fn draw_lines(
    f: &mut Frame,
    theme: &Theme,
    area: Rect,
    title: &str,
    lines: &[String],
    color: Color,
    scroll: u16,
) {
    let width = 92.min(area.width);
    let inner = width.saturating_sub(2) as usize;
    let wrapped: Vec<Line> = lines
        .iter()
        .flat_map(|l| {
            if l.is_empty() {
                vec![String::new()]
            } else {
                wrap(l, inner.max(10))
            }
        })
        .map(Line::from)
        .collect();
    let h = (wrapped.len() as u16 + 2).min(area.height);
    let r = centered(area, width, h);
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(wrapped).scroll((scroll, 0)).block(
            Block::default()
                .borders(Borders::ALL)
                .title(format!(" {title} "))
                .border_style(theme.fg(color)),
        ),
        r,
    );
}

/// `e`: one line per limit: label, value in place, what is typed, and the accepted form or the
/// validation error under the focused field.
fn draw_edit(f: &mut Frame, theme: &Theme, area: Rect, form: &crate::app::edit_form::EditForm) {
    let mut lines = vec![Line::from(Span::styled(
        format!("{:<14} {:<28} {}", "LIMIT", "NOW", "NEW (empty: unchanged)"),
        theme.heading(),
    ))];
    for (i, fld) in form.fields.iter().enumerate() {
        let focused = form.focus == i;
        let input = if focused {
            format!("{}▏", fld.input)
        } else {
            fld.input.clone()
        };
        let style = if focused {
            theme.selected()
        } else {
            Style::default()
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{:<14} ", fld.label), style),
            Span::raw(format!("{:<28} ", truncate_to(&fld.current, 28))),
            Span::styled(
                input,
                if fld.error.is_some() {
                    theme.fg(theme.error)
                } else {
                    Style::default()
                },
            ),
        ]));
        if focused {
            let (note, style) = match &fld.error {
                Some(e) => (e.clone(), theme.fg(theme.error)),
                None => (
                    format!("{}: {}", fld.key.name, fld.key.form),
                    theme.dimmed(),
                ),
            };
            for l in wrap(&note, 86) {
                lines.push(Line::from(Span::styled(format!("  {l}"), style)));
            }
        }
    }
    lines.push(Line::from(match &form.error {
        Some(e) => Span::styled(e.clone(), theme.fg(theme.error)),
        None => Span::raw(""),
    }));
    lines.push(Line::from(Span::styled(
        "↑ ↓ Tab move  type a value  Enter review old -> new  Esc cancel",
        theme.dimmed(),
    )));
    let h = (lines.len() as u16 + 2).min(area.height);
    let r = centered(area, 92, h);
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .title(format!(" edit limits of {} ", form.at.label))
                .border_style(theme.fg(theme.accent)),
        ),
        r,
    );
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

fn draw_move(f: &mut Frame, theme: &Theme, area: Rect, form: &crate::app::edit_form::MoveForm) {
    let style = |i: usize| {
        if form.focus == i {
            theme.selected()
        } else {
            Style::default()
        }
    };
    let lines = vec![
        Line::from(vec![
            Span::styled("to cgroup:   ", theme.heading()),
            Span::styled(
                if form.focus == 0 {
                    format!("{}▏", form.path)
                } else {
                    form.path.clone()
                },
                style(0),
            ),
        ]),
        Line::from(vec![
            Span::styled("hierarchies: ", theme.heading()),
            Span::styled(format!("◂ {} ▸", form.hierarchy_text()), style(1)),
        ]),
        Line::from(match &form.error {
            Some(e) => Span::styled(e.clone(), theme.fg(theme.error)),
            None => Span::raw(""),
        }),
        Line::from(Span::styled(
            "Tab switch field  ← → choose hierarchy  Enter move  Esc cancel",
            theme.dimmed(),
        )),
    ];
    let r = centered(area, 80, lines.len() as u16 + 2);
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .title(format!(" move {} {} ", form.pid, form.comm))
                .border_style(theme.fg(theme.accent)),
        ),
        r,
    );
}

fn draw_rule(f: &mut Frame, theme: &Theme, area: Rect, form: &crate::app::edit_form::RuleForm) {
    let verb = if form.allow { "allow" } else { "deny" };
    let lines = vec![
        Line::from(vec![
            Span::styled(format!("{verb} rule: "), theme.heading()),
            Span::raw(format!("{}▏", form.text)),
        ]),
        Line::from(match &form.error {
            Some(e) => Span::styled(e.clone(), theme.fg(theme.error)),
            None => Span::styled(
                "'a' for all, or TYPE MAJOR:MINOR ACCESS: c 1:3 rwm, b 8:* r, c 136:* rw",
                theme.dimmed(),
            ),
        }),
        Line::from(Span::styled("Enter write  Esc cancel", theme.dimmed())),
    ];
    let r = centered(area, 84, lines.len() as u16 + 4);
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines)
            .wrap(ratatui::widgets::Wrap { trim: false })
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(format!(" devices.{verb} of {} ", form.at.label))
                    .border_style(theme.fg(theme.accent)),
            ),
        r,
    );
}

fn draw_header(f: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    if !app.ready {
        f.render_widget(
            Paragraph::new("nsview  collecting ...")
                .style(theme.fg(theme.header).add_modifier(Modifier::BOLD)),
            area,
        );
        return;
    }
    let s = &app.snap;
    let mode = s.cgroup_mode.map_or("-".to_string(), |m| m.to_string());
    // Parts in display order, each with its priority (0 first); those that do not fit a narrow
    // terminal are left out, least important first.
    let parts = [
        (
            1,
            format!(
                "host {}",
                if s.host.hostname.is_empty() {
                    "-"
                } else {
                    &s.host.hostname
                }
            ),
        ),
        (
            6,
            format!(
                "kernel {}",
                if s.host.kernel.is_empty() {
                    "-"
                } else {
                    &s.host.kernel
                }
            ),
        ),
        (3, format!("cgroup {mode}")),
        (0, format!("{} procs", s.processes.len())),
        (2, format!("{} ns", s.namespaces.len())),
        (4, format!("{} containers", s.containers.len())),
        (5, interval_text(app.interval)),
    ];
    let badge = if app.read_only { " READ-ONLY " } else { "" };
    let tail = "  ? help";
    let budget = (area.width as usize).saturating_sub(8 + badge.len() + 2 + tail.len());
    let mut by_priority: Vec<usize> = (0..parts.len()).collect();
    by_priority.sort_by_key(|i| parts[*i].0);
    let mut keep = [false; 7];
    let mut used = 0;
    for i in by_priority {
        let w = parts[i].1.chars().count() + 3;
        if used + w <= budget {
            used += w;
            keep[i] = true;
        }
    }
    let text: Vec<&str> = parts
        .iter()
        .zip(keep)
        .filter(|(_, k)| *k)
        .map(|((_, p), _)| p.as_str())
        .collect();
    let mut spans = vec![Span::styled(
        format!("nsview  {}", text.join(" · ")),
        theme.fg(theme.header).add_modifier(Modifier::BOLD),
    )];
    if app.read_only {
        spans.push(Span::raw("  "));
        spans.push(Span::styled(
            badge,
            theme.fg(theme.warning).add_modifier(Modifier::REVERSED),
        ));
    }
    spans.push(Span::raw(tail));
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn draw_tabs(f: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let mut spans = vec![Span::raw(" ")];
    for (i, v) in View::ALL.iter().enumerate() {
        let label = format!(" {} {} ", i + 1, v.title());
        let style = if *v == app.view {
            theme.selected()
        } else {
            Style::default()
        };
        spans.push(Span::styled(label, style));
        spans.push(Span::raw("  "));
    }
    if app.view == View::Cgroups
        && let Some(h) = app.current_hierarchy()
    {
        spans.push(Span::styled(
            format!(
                "hierarchy [{}] v{} {}  ([ ] switch, z {})",
                h.key,
                h.version,
                h.mount,
                if app.hide_empty {
                    "show empty"
                } else {
                    "hide empty"
                }
            ),
            theme.fg(theme.accent),
        ));
    }
    if app.view == View::Namespaces {
        spans.push(Span::styled(
            if app.ns_tree {
                "tree by owner (t: flat)"
            } else {
                "t: tree by owner"
            },
            theme.dimmed(),
        ));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// Which column carries the tree indentation in each view.
fn tree_column(view: View) -> Option<usize> {
    match view {
        View::Cgroups | View::Namespaces => Some(0),
        View::Processes => Some(5),
        View::Containers => None,
    }
}

fn draw_table(f: &mut Frame, app: &App, theme: &Theme, area: Rect) -> Drawn {
    let cols: &[Column] = app.view.columns();
    let st = app.state();
    let inner_height = area.height.saturating_sub(3) as usize; // borders + header
    let page = inner_height.max(1);
    let index = st.index.min(app.rows.len().saturating_sub(1));
    let mut offset = st.offset.min(app.rows.len().saturating_sub(1));
    if index < offset {
        offset = index;
    } else if index >= offset + page {
        offset = index + 1 - page;
    }
    let sort = st.sort;
    let fitted = fit_columns(
        cols,
        &wanted_widths(cols, &app.rows),
        area.width.saturating_sub(2),
    );
    let shown: Vec<usize> = fitted.iter().map(|(i, _)| *i).collect();
    let header = TRow::new(shown.iter().map(|&i| {
        let c = &cols[i];
        let mark = match sort {
            Some((s, false)) if s == i => "▲",
            Some((s, true)) if s == i => "▼",
            _ => "",
        };
        Cell::from(format!("{}{mark}", c.title))
    }))
    .style(Style::default().add_modifier(Modifier::BOLD | Modifier::UNDERLINED));
    let tree = tree_column(app.view);
    let visible = app.rows.iter().skip(offset).take(page);
    let body: Vec<TRow> = visible
        .map(|r| table_row(r, cols, &shown, tree, theme))
        .collect();
    let widths: Vec<Constraint> = fitted
        .iter()
        .map(|&(i, w)| {
            if i + 1 == cols.len() {
                Constraint::Fill(1)
            } else {
                Constraint::Length(w)
            }
        })
        .collect();
    let title = if app.filter.is_empty() {
        format!(" {} ({}) ", app.view.title(), app.rows.len())
    } else {
        format!(
            " {} ({} matching '{}') ",
            app.view.title(),
            app.rows.len(),
            app.filter
        )
    };
    let border = if app.detail_focus {
        theme.dimmed()
    } else {
        theme.fg(theme.accent)
    };
    let table = Table::new(body, widths.clone())
        .header(header)
        .block(
            Block::default()
                .borders(Borders::ALL)
                .title(title)
                .border_style(border),
        )
        .row_highlight_style(theme.selected())
        .column_spacing(1);
    let mut ts = TableState::default();
    if !app.rows.is_empty() {
        ts.select(Some(index - offset));
    }
    f.render_stateful_widget(table, area, &mut ts);

    // Column starts, for clicks on the header.
    let inner = Rect::new(
        area.x + 1,
        area.y + 1,
        area.width.saturating_sub(2),
        area.height.saturating_sub(2),
    );
    let mut hits = Hits {
        table: inner,
        columns: shown.len().min(8),
        ..Hits::default()
    };
    let rects = Layout::horizontal(widths).spacing(1).split(inner);
    for (slot, (r, col)) in rects.iter().zip(&shown).enumerate().take(8) {
        hits.column_x[slot] = r.x;
        hits.column_id[slot] = *col;
    }
    Drawn {
        hits,
        page,
        offset,
        detail_len: 0,
    }
}

/// The columns that fit in `width`, as (column, width) in display order; the last column always
/// shows and takes what is left. Columns are dropped rather than squeezed: a cut-off number (an
/// inode, a PID) would be wrong, not just short. Priority 0 columns come first, left to right,
/// leaving the last column its minimum; then columns that grow (names) get room for their
/// longest text (`want`), as far as the last column's texts (`want[last]`) still fit; then the
/// other columns by priority, as they fit beside the last column's texts, and those of them that
/// grow get what room is left.
fn fit_columns(cols: &[Column], want: &[u16], width: u16) -> Vec<(usize, u16)> {
    const LAST_MIN: u16 = 12;
    let Some(last) = cols.len().checked_sub(1) else {
        return Vec::new();
    };
    let last_need = want.get(last).copied().unwrap_or(0).clamp(LAST_MIN, width);
    let mut widths: Vec<Option<u16>> = vec![None; cols.len()];
    let mut used = 0u16;
    let grow = |widths: &mut [Option<u16>], used: &mut u16| {
        for (i, c) in cols.iter().enumerate().take(last) {
            let Some(w) = widths[i] else { continue };
            let room = width.saturating_sub(*used + last_need);
            let wanted = want.get(i).copied().unwrap_or(0).min(c.max);
            let extra = wanted.saturating_sub(w).min(room);
            widths[i] = Some(w + extra);
            *used += extra;
        }
    };
    for (i, c) in cols.iter().enumerate().take(last) {
        if c.priority == 0 && used + c.width + 1 + LAST_MIN <= width {
            used += c.width + 1;
            widths[i] = Some(c.width);
        }
    }
    grow(&mut widths, &mut used);
    let mut rest: Vec<usize> = (0..last).filter(|i| cols[*i].priority > 0).collect();
    rest.sort_by_key(|i| cols[*i].priority);
    for i in rest {
        let c = &cols[i];
        if used + c.width + 1 + last_need <= width {
            used += c.width + 1;
            widths[i] = Some(c.width);
        }
    }
    grow(&mut widths, &mut used);
    widths[last] = Some(width.saturating_sub(used));
    widths
        .into_iter()
        .enumerate()
        .filter_map(|(i, w)| Some((i, w?)))
        .collect()
}

/// The width each column's texts want (title included), for the columns whose width depends on
/// them: those that grow, and the last one when others give way to it. Other columns: 0.
fn wanted_widths(cols: &[Column], rows: &[Row]) -> Vec<u16> {
    let last = cols.len().saturating_sub(1);
    let yields = cols.iter().any(|c| c.priority > 0);
    cols.iter()
        .enumerate()
        .map(|(i, c)| {
            if c.max > c.width || (i == last && yields) {
                let longest = rows
                    .iter()
                    .filter_map(|r| r.cells.get(i))
                    .map(|cell| cell.text.chars().count())
                    .max()
                    .unwrap_or(0)
                    .max(c.title.len() + 1);
                u16::try_from(longest).unwrap_or(u16::MAX)
            } else {
                0
            }
        })
        .collect()
}

fn table_row<'a>(
    r: &'a Row,
    cols: &[Column],
    shown: &[usize],
    tree: Option<usize>,
    theme: &Theme,
) -> TRow<'a> {
    let cells = shown
        .iter()
        .filter_map(|&i| r.cells.get(i).map(|c| (i, c)))
        .map(|(i, c)| {
            let mut text = c.text.clone();
            if tree == Some(i) && (r.depth > 0 || r.has_children) {
                let marker = if !r.has_children {
                    "  "
                } else if r.collapsed {
                    "▸ "
                } else {
                    "▾ "
                };
                text = format!("{}{marker}{text}", "  ".repeat(r.depth));
            }
            let right = cols.get(i).is_some_and(|c| c.right);
            let line = if right {
                Line::from(text).right_aligned()
            } else {
                Line::from(text)
            };
            Cell::from(line)
        });
    let row = TRow::new(cells);
    if r.dim {
        row.style(theme.dimmed())
    } else {
        row
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

/// One screen line of the detail pane.
enum DetailLine<'a> {
    Heading(String),
    Text(String),
    Item(&'a Item),
}

fn draw_detail(f: &mut Frame, app: &App, theme: &Theme, area: Rect) -> u16 {
    let border = if app.detail_focus {
        theme.fg(theme.accent)
    } else {
        theme.dimmed()
    };
    let Some(sel) = app.selected() else {
        f.render_widget(
            Block::default().borders(Borders::ALL).border_style(border),
            area,
        );
        return 0;
    };
    let d = detail::detail(&app.snap, &app.cpu, &app.history, &sel.key);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(format!(" {} ", d.title))
        .border_style(border);
    let inner = block.inner(area);
    f.render_widget(block, area);
    let width = inner.width as usize;
    let mut lines: Vec<DetailLine> = Vec::new();
    for item in &d.items {
        match item {
            Item::Heading(t) => lines.extend(wrap(t, width).into_iter().map(DetailLine::Heading)),
            Item::Text(t) => lines.extend(wrap(t, width).into_iter().map(DetailLine::Text)),
            other => lines.push(DetailLine::Item(other)),
        }
    }
    let total = lines.len() as u16;
    let rows = (inner.y..inner.y + inner.height).zip(lines.iter().skip(app.detail_scroll as usize));
    for (y, item) in rows {
        let line = Rect::new(inner.x, y, inner.width, 1);
        match item {
            DetailLine::Heading(t) => {
                f.render_widget(Paragraph::new(t.as_str()).style(theme.heading()), line)
            }
            DetailLine::Text(t) => f.render_widget(Paragraph::new(t.as_str()), line),
            DetailLine::Item(Item::Gauge { label, ratio, text }) => {
                let color = if *ratio >= 0.9 {
                    theme.error
                } else if *ratio >= 0.7 {
                    theme.warning
                } else {
                    Color::Green
                };
                f.render_widget(
                    LineGauge::default()
                        .ratio(*ratio)
                        .label(format!("{label:<6} {text:<17}"))
                        .filled_style(theme.fg(color))
                        .unfilled_style(theme.dimmed()),
                    line,
                );
            }
            DetailLine::Item(Item::Spark { label, data, text }) => {
                let label_w = 25u16.min(line.width);
                let [l, s] = Layout::horizontal([Constraint::Length(label_w), Constraint::Fill(1)])
                    .areas(line);
                f.render_widget(Paragraph::new(format!("{label:<6} {text}")), l);
                // The newest samples, right-aligned.
                let n = s.width as usize;
                let start = data.len().saturating_sub(n);
                f.render_widget(
                    Sparkline::default()
                        .data(&data[start..])
                        .style(theme.fg(theme.header)),
                    s,
                );
            }
            DetailLine::Item(Item::Heading(_) | Item::Text(_)) => {}
        }
    }
    total
}

fn draw_footer(f: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let line = if app.filter_editing {
        Line::from(vec![
            Span::styled("filter: ", theme.heading()),
            Span::raw(app.filter.clone()),
            Span::styled("▏", theme.fg(theme.accent)),
            Span::styled("   Enter keep  Esc clear", theme.dimmed()),
        ])
    } else if let Some(s) = &app.status {
        Line::from(Span::styled(s.clone(), theme.fg(theme.warning)))
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

fn draw_help(f: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let lines: Vec<Line> = app
        .keymap
        .help_lines()
        .into_iter()
        .map(|(k, d)| {
            Line::from(vec![
                Span::styled(format!("{k:>16}  "), theme.heading()),
                Span::raw(d),
            ])
        })
        .collect();
    let h = (lines.len() as u16 + 2).min(area.height);
    let r = centered(area, 72, h);
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines).scroll((app.dialog_scroll, 0)).block(
            Block::default()
                .borders(Borders::ALL)
                .title(" keys (Esc closes) "),
        ),
        r,
    );
}

fn draw_enter(f: &mut Frame, theme: &Theme, area: Rect, form: &crate::app::enter_form::EnterForm) {
    let focus = |i: usize| {
        if form.focus == i {
            theme.selected()
        } else {
            Style::default()
        }
    };
    let check = |b: bool| if b { "[x]" } else { "[ ]" };
    let mut lines = vec![Line::from(Span::styled(
        "namespaces to join (Space toggles)",
        theme.heading(),
    ))];
    for (i, ((t, ino), on)) in form.available.iter().zip(&form.chosen).enumerate() {
        lines.push(Line::from(Span::styled(
            format!(" {} {:<6} {ino}", check(*on), t.name()),
            focus(i),
        )));
    }
    let cg = form.cgroup_field();
    let cg_text = if form.cgroups_allowed {
        format!(
            " {} join the target's cgroups (limited and accounted like it)",
            check(form.join_cgroups)
        )
    } else {
        " [ ] join the target's cgroups (not for a bare namespace, nor in read-only mode)"
            .to_string()
    };
    lines.push(Line::from(Span::styled(cg_text, focus(cg))));
    lines.push(Line::from(""));
    let cmd = form.command_field();
    let shown = if form.command.is_empty() && form.focus != cmd {
        "(empty: the target's login shell)".to_string()
    } else {
        format!("{}▏", form.command)
    };
    lines.push(Line::from(vec![
        Span::styled("command: ", theme.heading()),
        Span::styled(shown, focus(cmd)),
    ]));
    lines.push(Line::from(match &form.error {
        Some(e) => Span::styled(e.clone(), theme.fg(theme.error)),
        None => Span::raw(""),
    }));
    lines.push(Line::from(Span::styled(
        "↑ ↓ Tab move  Space toggle  Enter run (words split as by a shell)  Esc cancel",
        theme.dimmed(),
    )));
    let h = (lines.len() as u16 + 2).min(area.height);
    let r = centered(area, 76, h);
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .title(format!(" enter {} ", form.label))
                .border_style(theme.fg(theme.accent)),
        ),
        r,
    );
}

fn draw_message(f: &mut Frame, theme: &Theme, area: Rect, title: &str, text: &str) {
    let r = centered(area, 70, 7);
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(text.to_string())
            .wrap(ratatui::widgets::Wrap { trim: true })
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(format!(" {title} (Esc closes) "))
                    .border_style(theme.fg(theme.error)),
            ),
        r,
    );
}

fn draw_devices(
    f: &mut Frame,
    app: &App,
    theme: &Theme,
    area: Rect,
    key: &crate::app::rows::RowKey,
) {
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.fg(theme.accent));
    let Some(c) = detail::devices_cgroup(&app.snap, key) else {
        let v2 = app.snap.hierarchies.iter().all(|h| h.version == 2);
        let text = if v2 {
            "cgroup v2 has no devices.list: device rules are eBPF programs (BPF_CGROUP_DEVICE) attached to the cgroup. Esc closes."
        } else {
            "no devices cgroup for this selection. Esc closes."
        };
        f.render_widget(
            Paragraph::new(text)
                .wrap(ratatui::widgets::Wrap { trim: true })
                .block(block.title(" devices ")),
            area,
        );
        return;
    };
    let mut lines = vec![Line::from(Span::styled(
        match c.devices_default.as_deref() {
            Some("allow") => {
                "default: allow every device; deny exceptions are NOT visible through devices.list"
                    .to_string()
            }
            _ => "default: deny; only these are allowed".to_string(),
        },
        theme.heading(),
    ))];
    lines.push(Line::from(Span::styled(
        format!("{:<5} {:<12} {:<7} DEVICE", "TYPE", "MAJOR:MINOR", "ACCESS"),
        Style::default().add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
    )));
    for d in c.devices.iter().flatten() {
        let kind = match d.kind.as_str() {
            "c" => "char",
            "b" => "block",
            _ => "all",
        };
        let mm = format!(
            "{}:{}",
            d.major.map_or("*".into(), |m| m.to_string()),
            d.minor.map_or("*".into(), |m| m.to_string())
        );
        let access = ["r", "w", "m"]
            .iter()
            .map(|a| if d.access.contains(a) { *a } else { "-" })
            .collect::<String>();
        lines.push(Line::from(format!(
            "{kind:<5} {mm:<12} {access:<7} {}",
            d.name
                .as_deref()
                .unwrap_or(if d.major.is_none() { "any" } else { "-" })
        )));
    }
    f.render_widget(
        Paragraph::new(lines)
            .scroll((app.dialog_scroll, 0))
            .block(block.title(format!(
                " devices.list of {} [{}]  a allow  D deny  Esc closes ",
                c.path, c.hierarchy
            ))),
        area,
    );
}

#[cfg(test)]
mod tests {
    use super::{fit_columns, wrap};
    use crate::app::rows::CONTAINER_COLUMNS;

    /// The Containers view's columns at a width: (title, width) in display order.
    fn fitted(want: &[u16], width: u16) -> Vec<(&'static str, u16)> {
        fit_columns(CONTAINER_COLUMNS, want, width)
            .into_iter()
            .map(|(i, w)| (CONTAINER_COLUMNS[i].title, w))
            .collect()
    }

    #[test]
    fn columns_give_way_by_priority_and_names_grow() {
        let titles = |f: &[(&'static str, u16)]| f.iter().map(|(t, _)| *t).collect::<Vec<_>>();
        // Short texts everywhere; PRIVATE NS wants 19 ("mnt uts ipc pid net").
        let mut want = vec![0u16; CONTAINER_COLUMNS.len()];
        want[CONTAINER_COLUMNS.len() - 1] = 19;
        // 80 columns: the essentials, and PRIVATE NS whole.
        let at80 = fitted(&want, 78);
        assert_eq!(
            titles(&at80),
            [
                "NAME",
                "RUNTIME",
                "PID",
                "PROCS",
                "CPU%",
                "MEM / LIMIT",
                "PRIVATE NS"
            ]
        );
        assert!(at80.last().is_some_and(|(_, w)| *w >= 19), "{at80:?}");
        // Wider: STATE first, then INSIDE, IMAGE, ID, each at its place in the row.
        assert!(titles(&fitted(&want, 90)).contains(&"STATE"));
        assert!(!titles(&fitted(&want, 90)).contains(&"IMAGE"));
        assert_eq!(
            titles(&fitted(&want, 160)),
            [
                "NAME",
                "RUNTIME",
                "IMAGE",
                "ID",
                "STATE",
                "PID",
                "INSIDE",
                "PROCS",
                "CPU%",
                "MEM / LIMIT",
                "PRIVATE NS"
            ]
        );
        // A long name takes spare room before the optional columns do, up to its text.
        want[0] = 30;
        let f = fitted(&want, 100);
        assert_eq!(f[0], ("NAME", 30), "{f:?}");
        let f = fitted(&want, 78);
        assert_eq!(f[0], ("NAME", 15), "only the room PRIVATE NS leaves: {f:?}");
        // Every other view: all priority 0, nothing grows: left to right while they fit.
        let cols = crate::app::rows::CGROUP_COLUMNS;
        let n = cols.len();
        let shown: Vec<usize> = fit_columns(cols, &vec![0; n], 60)
            .into_iter()
            .map(|(i, _)| i)
            .collect();
        assert_eq!(shown, [0, 1, 2, n - 1]);
    }

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
