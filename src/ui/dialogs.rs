//! The boxes over the table: help, messages, the enter form, the change forms, confirmations
//! and outcomes; and the full-screen devices list.

use super::{Theme, centered, truncate_to, wrap};
use crate::app::detail;
use crate::app::rows::RowKey;
use crate::app::{App, Dialog};
use crate::model::DeviceRule;
use crate::model::format::{printable, printable_lines};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

/// The dialog over the body, if one is open (the devices list is drawn as the body).
pub(super) fn draw_dialog(f: &mut Frame, app: &App, theme: &Theme, body: Rect) {
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
        Some(Dialog::GoToTime(input)) => draw_time_input(f, theme, body, input),
        Some(Dialog::Working(text)) => draw_lines(
            f,
            theme,
            body,
            "working",
            std::slice::from_ref(text),
            theme.accent,
            0,
        ),
        Some(Dialog::Outcome {
            title,
            lines,
            ok,
            back,
        }) => {
            let mut all = lines.clone();
            all.push(String::new());
            all.push(if back.is_some() {
                "Esc / Enter: back to the form, as typed".into()
            } else {
                "Esc / Enter closes".into()
            });
            let color = if *ok { theme.accent } else { theme.error };
            draw_lines(f, theme, body, title, &all, color, app.dialog_scroll)
        }
        _ => {}
    }
}

/// Replay, `T`: the time as typed, what forms it takes, and why the last one named no frame.
fn draw_time_input(
    f: &mut Frame,
    theme: &Theme,
    area: Rect,
    input: &crate::app::replay::TimeInput,
) {
    let mut lines = vec![Line::from(vec![
        Span::styled("time: ", theme.heading()),
        Span::raw(printable(&input.text).into_owned()),
        Span::styled("▏", theme.fg(theme.accent)),
    ])];
    match (&input.error, input.pending) {
        (Some(e), _) => lines.extend(
            wrap(&printable(e), 88)
                .into_iter()
                .map(|l| Line::from(Span::styled(l, theme.fg(theme.error)))),
        ),
        (None, true) => lines.push(Line::from(Span::styled(
            "looking for the frame...",
            theme.dimmed(),
        ))),
        (None, false) => lines.push(Line::from("")),
    }
    lines.push(Line::from(Span::styled(
        "03:12 or 03:12:05 (a time of day), -10m (before the end), +5m (after the start),",
        theme.dimmed(),
    )));
    lines.push(Line::from(Span::styled(
        "2026-12-07T03:12:00Z; Enter go  Esc cancel",
        theme.dimmed(),
    )));
    draw_form_box(f, theme, area, 92, " go to time ".into(), lines);
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
                wrap(&printable(l), inner.max(10))
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
                .title(format!(" {} ", printable(title)))
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
        lines.extend(edit_field_lines(theme, fld, form.focus == i));
    }
    lines.push(Line::from(match &form.error {
        Some(e) => Span::styled(e.clone(), theme.fg(theme.error)),
        None => Span::raw(""),
    }));
    lines.push(Line::from(Span::styled(
        "↑ ↓ Tab move  type a value  Enter review old -> new  Esc cancel",
        theme.dimmed(),
    )));
    let title = format!(" edit limits of {} ", printable(&form.at.label));
    draw_form_box(f, theme, area, 92, title, lines);
}

/// A form's lines in a box `width` wide (at most as high as `area`), centred, accent border.
fn draw_form_box(
    f: &mut Frame,
    theme: &Theme,
    area: Rect,
    width: u16,
    title: String,
    lines: Vec<Line>,
) {
    let h = (lines.len() as u16 + 2).min(area.height);
    let r = centered(area, width, h);
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .title(title)
                .border_style(theme.fg(theme.accent)),
        ),
        r,
    );
}

/// One limit of the edit form: label, value in place, what is typed; under the focused one
/// the accepted form or the validation error.
fn edit_field_lines(
    theme: &Theme,
    fld: &crate::app::edit_form::Field,
    focused: bool,
) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
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
    lines
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
                .title(format!(" move {} {} ", form.pid, printable(&form.comm)))
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
                    .title(format!(" devices.{verb} of {} ", printable(&form.at.label)))
                    .border_style(theme.fg(theme.accent)),
            ),
        r,
    );
}

fn draw_help(f: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let lines: Vec<Line> = app
        .keymap
        .help_lines_for(app.replay.is_some())
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
    lines.push(Line::from(vec![
        Span::styled("runs as: ", theme.heading()),
        Span::raw(form.runs_as.describe()),
    ]));
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
    let title = format!(" enter {} ", printable(&form.label));
    draw_form_box(f, theme, area, 76, title, lines);
}

fn draw_message(f: &mut Frame, theme: &Theme, area: Rect, title: &str, text: &str) {
    let r = centered(area, 70, 7);
    f.render_widget(Clear, r);
    f.render_widget(
        // Newlines of a message stay lines; other control characters are shown escaped.
        Paragraph::new(printable_lines(text).into_owned())
            .wrap(ratatui::widgets::Wrap { trim: true })
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(format!(" {} (Esc closes) ", printable(title)))
                    .border_style(theme.fg(theme.error)),
            ),
        r,
    );
}

/// devices.list of the selection's cgroup, full screen, one rule a line.
pub(super) fn draw_devices(f: &mut Frame, app: &App, theme: &Theme, area: Rect, key: &RowKey) {
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
    lines.extend(c.devices.iter().flatten().map(device_line));
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

/// `char   1:3          rw-     null`.
fn device_line(d: &DeviceRule) -> Line<'static> {
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
    Line::from(format!(
        "{kind:<5} {mm:<12} {access:<7} {}",
        d.name
            .as_deref()
            .unwrap_or(if d.major.is_none() { "any" } else { "-" })
    ))
}
