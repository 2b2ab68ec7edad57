//! The detail pane: the selection's items as wrapped lines, gauges and sparklines.

use super::{Theme, wrap};
use crate::app::App;
use crate::app::detail::{self, Item};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier};
use ratatui::widgets::{Block, Borders, LineGauge, Paragraph, Sparkline, SparklineBar};

/// One screen line of the detail pane.
enum DetailLine<'a> {
    Heading(String),
    Text(String),
    Item(&'a Item),
}

/// The selection's detail pane; returns how many screen lines its content has.
pub(super) fn draw_detail(f: &mut Frame, app: &App, theme: &Theme, area: Rect) -> u16 {
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
    let lines = screen_lines(&d.items, inner.width as usize);
    let total = lines.len() as u16;
    let rows = (inner.y..inner.y + inner.height).zip(lines.iter().skip(app.detail_scroll as usize));
    for (y, item) in rows {
        draw_line(f, theme, Rect::new(inner.x, y, inner.width, 1), item);
    }
    total
}

/// The items as screen lines: headings and text wrapped to `width`.
fn screen_lines(items: &[Item], width: usize) -> Vec<DetailLine<'_>> {
    let mut lines: Vec<DetailLine> = Vec::new();
    for item in items {
        match item {
            Item::Heading(t) => lines.extend(wrap(t, width).into_iter().map(DetailLine::Heading)),
            Item::Text(t) => lines.extend(wrap(t, width).into_iter().map(DetailLine::Text)),
            other => lines.push(DetailLine::Item(other)),
        }
    }
    lines
}

fn draw_line(f: &mut Frame, theme: &Theme, line: Rect, item: &DetailLine) {
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
        DetailLine::Item(Item::Spark {
            label,
            data,
            max,
            text,
            cursor,
        }) => {
            let label_w = 25u16.min(line.width);
            let [l, s] =
                Layout::horizontal([Constraint::Length(label_w), Constraint::Fill(1)]).areas(line);
            f.render_widget(Paragraph::new(format!("{label:<6} {text}")), l);
            let mut spark = spark_bars(theme, data, *cursor, s.width as usize);
            if let Some(m) = max {
                spark = spark.max(*m);
            }
            f.render_widget(spark, s);
        }
        DetailLine::Item(Item::Heading(_) | Item::Text(_)) => {}
    }
}

/// The samples that fit `width` columns. Live (no cursor): the newest, right-aligned. A replay:
/// a stretch around the cursor's sample (three quarters of it before), which is highlighted,
/// the samples after it (the recording's future) dimmed.
fn spark_bars<'a>(
    theme: &Theme,
    data: &[u64],
    cursor: Option<usize>,
    width: usize,
) -> Sparkline<'a> {
    let base = Sparkline::default().style(theme.fg(theme.header));
    let Some(cursor) = cursor.filter(|c| *c < data.len()) else {
        let start = data.len().saturating_sub(width);
        return base.data(&data[start..]);
    };
    let start = cursor
        .saturating_sub(width * 3 / 4)
        .min(data.len().saturating_sub(width));
    let end = (start + width).min(data.len());
    let bars: Vec<SparklineBar> = (start..end)
        .map(|i| {
            let bar = SparklineBar::from(data[i]);
            match i.cmp(&cursor) {
                std::cmp::Ordering::Less => bar,
                std::cmp::Ordering::Equal => bar.style(Some(
                    theme.fg(theme.accent).add_modifier(Modifier::REVERSED),
                )),
                std::cmp::Ordering::Greater => bar.style(Some(theme.dimmed())),
            }
        })
        .collect();
    base.data(bars)
}
