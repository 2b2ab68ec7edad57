//! The table of the current view: columns that fit, sort marks, the tree column, the selection.

use super::{Drawn, Theme};
use crate::app::rows::{Column, Row};
use crate::app::{App, Hits, View};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Cell, Row as TRow, Table, TableState};

/// Which column carries the tree indentation in each view.
fn tree_column(view: View) -> Option<usize> {
    match view {
        View::Cgroups | View::Namespaces => Some(0),
        View::Processes => Some(5),
        View::Containers => None,
    }
}

/// The current view's rows, the selection in sight; returns where things went.
pub(super) fn draw_table(f: &mut Frame, app: &App, theme: &Theme, area: Rect) -> Drawn {
    let cols: &[Column] = app.view.columns();
    let st = app.state();
    let inner_height = area.height.saturating_sub(3) as usize; // borders + header
    let page = inner_height.max(1);
    let (index, offset) = scroll_to_selection(st.index, st.offset, app.rows.len(), page);
    let mut fitted = fit_columns(
        cols,
        &wanted_widths(cols, &app.rows),
        area.width.saturating_sub(2),
    );
    room_for_sort_mark(cols, &mut fitted, st.sort);
    let shown: Vec<usize> = fitted.iter().map(|(i, _)| *i).collect();
    let tree = tree_column(app.view);
    let visible = app.rows.iter().skip(offset).take(page);
    let body: Vec<TRow> = visible
        .map(|r| table_row(r, cols, &fitted, tree, theme))
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
    let border = if app.detail_focus {
        theme.dimmed()
    } else {
        theme.fg(theme.accent)
    };
    let table = Table::new(body, widths.clone())
        .header(header_row(cols, &shown, st.sort))
        .block(
            Block::default()
                .borders(Borders::ALL)
                .title(table_title(app))
                .border_style(border),
        )
        .row_highlight_style(theme.selected())
        .column_spacing(1);
    let mut ts = TableState::default();
    if !app.rows.is_empty() {
        ts.select(Some(index - offset));
    }
    f.render_stateful_widget(table, area, &mut ts);
    Drawn {
        hits: column_hits(area, widths, &shown),
        page,
        offset,
        detail_len: 0,
    }
}

/// The selected index and the first visible row, moved so that the selection is in sight.
fn scroll_to_selection(index: usize, offset: usize, len: usize, page: usize) -> (usize, usize) {
    let index = index.min(len.saturating_sub(1));
    let mut offset = offset.min(len.saturating_sub(1));
    if index < offset {
        offset = index;
    } else if index >= offset + page {
        offset = index + 1 - page;
    }
    (index, offset)
}

/// The sort column as wide as its title and mark (`PROCS▲` in a column of 5); the last column
/// (which takes the rest of the line) gives the room.
fn room_for_sort_mark(cols: &[Column], fitted: &mut [(usize, u16)], sort: Option<(usize, bool)>) {
    let Some((col, _)) = sort else { return };
    let Some(need) = cols.get(col).map(|c| c.title.chars().count() as u16 + 1) else {
        return;
    };
    let Some(pos) = fitted.iter().position(|(i, _)| *i == col) else {
        return;
    };
    let short = need.saturating_sub(fitted[pos].1);
    let Some(last) = fitted.len().checked_sub(1) else {
        return;
    };
    if short == 0 || pos == last {
        return;
    }
    let give = short.min(fitted[last].1.saturating_sub(1));
    fitted[pos].1 += give;
    fitted[last].1 -= give;
}

/// Column titles, the sort column marked ▲ or ▼ (reversed).
fn header_row<'a>(cols: &[Column], shown: &[usize], sort: Option<(usize, bool)>) -> TRow<'a> {
    TRow::new(shown.iter().map(|&i| {
        let c = &cols[i];
        let mark = match sort {
            Some((s, false)) if s == i => "▲",
            Some((s, true)) if s == i => "▼",
            _ => "",
        };
        Cell::from(format!("{}{mark}", c.title))
    }))
    .style(Style::default().add_modifier(Modifier::BOLD | Modifier::UNDERLINED))
}

/// ` Containers (12) `, or with the filter: ` Containers (2 matching 'web') `.
fn table_title(app: &App) -> String {
    if app.filter.is_empty() {
        format!(" {} ({}) ", app.view.title(), app.rows.len())
    } else {
        format!(
            " {} ({} matching '{}') ",
            app.view.title(),
            app.rows.len(),
            app.filter
        )
    }
}

/// The table's inside and its column starts, for clicks on the header.
fn column_hits(area: Rect, widths: Vec<Constraint>, shown: &[usize]) -> Hits {
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
    for (slot, (r, col)) in rects.iter().zip(shown).enumerate().take(8) {
        hits.column_x[slot] = r.x;
        hits.column_id[slot] = *col;
    }
    hits
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

/// `text` in `width` columns: whole when it fits; else, for a column that keeps the tail, its
/// start cut to `…` (ratatui cuts the end of the rest).
fn fit_text(text: &str, width: u16, keep_tail: bool) -> String {
    let n = text.chars().count();
    let width = usize::from(width);
    if !keep_tail || n <= width || width < 2 {
        return text.to_string();
    }
    let tail: String = text.chars().skip(n + 1 - width).collect();
    format!("…{tail}")
}

/// One row: the `shown` (column, width) cells, the tree column indented.
fn table_row<'a>(
    r: &'a Row,
    cols: &[Column],
    shown: &[(usize, u16)],
    tree: Option<usize>,
    theme: &Theme,
) -> TRow<'a> {
    let cells = shown
        .iter()
        .filter_map(|&(i, w)| r.cells.get(i).map(|c| (i, w, c)))
        .map(|(i, w, c)| {
            let indented = tree == Some(i) && (r.depth > 0 || r.has_children);
            let indent = if indented { 2 * r.depth as u16 + 2 } else { 0 };
            let keep_tail = cols.get(i).is_some_and(|c| c.keep_tail);
            let mut text = fit_text(&c.text, w.saturating_sub(indent), keep_tail);
            if indented {
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

#[cfg(test)]
mod tests {
    use super::fit_columns;
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
        // The Cgroups view: left to right while they fit.
        let cols = crate::app::rows::CGROUP_COLUMNS;
        let n = cols.len();
        let shown: Vec<usize> = fit_columns(cols, &vec![0; n], 60)
            .into_iter()
            .map(|(i, _)| i)
            .collect();
        assert_eq!(shown, [0, 1, 2, n - 1]);
    }
}
