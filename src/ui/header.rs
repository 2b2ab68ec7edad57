//! The header line (host, counts, interval) and the tab bar.

use super::Theme;
use crate::app::replay::Cell;
use crate::app::{App, View, interval_text};
use crate::record::EventKind;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// The top line: host, kernel, cgroup mode, counts and interval, as many as fit, and the
/// READ-ONLY badge.
pub(super) fn draw_header(f: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    if !app.ready {
        f.render_widget(
            Paragraph::new(if app.replay.is_some() {
                "nsview  REPLAY  reading the recording ..."
            } else {
                "nsview  collecting ..."
            })
            .style(theme.fg(theme.header).add_modifier(Modifier::BOLD)),
            area,
        );
        return;
    }
    let parts = header_parts(app);
    let badge = if app.replay.is_some() {
        " REPLAY "
    } else if app.read_only {
        " READ-ONLY "
    } else {
        ""
    };
    let tail = "  ? help";
    let budget = (area.width as usize).saturating_sub(8 + badge.len() + 2 + tail.len());
    let text = parts_that_fit(&parts, budget);
    let mut spans = vec![Span::styled(
        format!("nsview  {}", text.join(" · ")),
        theme.fg(theme.header).add_modifier(Modifier::BOLD),
    )];
    if !badge.is_empty() {
        spans.push(Span::raw("  "));
        spans.push(Span::styled(
            badge,
            theme.fg(theme.warning).add_modifier(Modifier::REVERSED),
        ));
    }
    spans.push(Span::raw(tail));
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The header's parts in display order, each with its priority (0 first).
fn header_parts(app: &App) -> [(u8, String); 7] {
    let s = &app.snap;
    let mode = s.cgroup_mode.map_or("-".to_string(), |m| m.to_string());
    let or_dash = |t: &str| {
        if t.is_empty() {
            "-".to_string()
        } else {
            t.to_string()
        }
    };
    [
        (1, format!("host {}", or_dash(&s.host.hostname))),
        (6, format!("kernel {}", or_dash(&s.host.kernel))),
        (3, format!("cgroup {mode}")),
        (0, format!("{} procs", s.processes.len())),
        (2, format!("{} ns", s.namespaces.len())),
        (4, format!("{} containers", s.containers.len())),
        (5, interval_text(app.interval)),
    ]
}

/// The parts that fit in `budget` columns, in display order: those that do not fit a narrow
/// terminal are left out, least important first.
fn parts_that_fit(parts: &[(u8, String); 7], budget: usize) -> Vec<&str> {
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
    parts
        .iter()
        .zip(keep)
        .filter(|(_, k)| *k)
        .map(|((_, p), _)| p.as_str())
        .collect()
}

pub(super) fn draw_tabs(f: &mut Frame, app: &App, theme: &Theme, area: Rect) {
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

/// Replay: the time bar under the header: the frame's time, frame i/n, and the timeline strip
/// with the recording's events and the cursor.
/// Returns where the strip is (for mouse clicks).
pub(super) fn draw_time_bar(f: &mut Frame, app: &App, theme: &Theme, area: Rect) -> Rect {
    let Some(r) = &app.replay else {
        return Rect::default();
    };
    let time = r
        .cursor_time()
        .map_or_else(|| "-".to_string(), crate::record::time::show);
    // While a frame is being decoded the cursor runs ahead of the screen: said.
    let wait = if r.shown == Some(r.cursor) {
        ""
    } else {
        " …"
    };
    let head = format!(" {time}  frame {}/{}{wait} ", r.cursor + 1, r.frames());
    let strip_w = (area.width as usize).saturating_sub(head.chars().count() + 2);
    let mut spans = vec![Span::styled(
        head,
        theme.fg(theme.accent).add_modifier(Modifier::BOLD),
    )];
    spans.push(Span::styled("▕", theme.dimmed()));
    for cell in r.strip(strip_w) {
        spans.push(match cell {
            Cell::Empty => Span::styled("─", theme.dimmed()),
            Cell::Cursor => Span::styled("█", theme.fg(theme.header).add_modifier(Modifier::BOLD)),
            Cell::Mark(kind) => {
                let (glyph, color) = mark_look(theme, kind);
                Span::styled(glyph, theme.fg(color).add_modifier(Modifier::BOLD))
            }
        });
    }
    spans.push(Span::styled("▏", theme.dimmed()));
    f.render_widget(Paragraph::new(Line::from(spans)), area);
    let start = area.x + (area.width as usize).saturating_sub(strip_w + 1) as u16;
    Rect::new(start, area.y, strip_w as u16, 1)
}

/// Each kind of event its own glyph (so that NO_COLOR still tells them apart) and colour.
pub(super) fn mark_look(theme: &Theme, kind: EventKind) -> (&'static str, Color) {
    match kind {
        EventKind::ContainerStarted => ("+", Color::Green),
        EventKind::ContainerStopped => ("x", theme.dim),
        EventKind::LimitChanged => ("~", theme.accent),
        EventKind::Oom => ("!", theme.error),
        EventKind::LimitHit => ("^", theme.warning),
        EventKind::Change => ("*", theme.header),
    }
}
