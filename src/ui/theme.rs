//! Colours: the config's, or none when NO_COLOR is set.

use ratatui::style::{Color, Modifier, Style};

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

    pub(super) fn fg(&self, c: Color) -> Style {
        if self.mono {
            Style::default()
        } else {
            Style::default().fg(c)
        }
    }

    pub(super) fn selected(&self) -> Style {
        if self.mono {
            Style::default().add_modifier(Modifier::REVERSED)
        } else {
            Style::default()
                .bg(self.selection)
                .fg(Color::White)
                .add_modifier(Modifier::BOLD)
        }
    }

    pub(super) fn dimmed(&self) -> Style {
        if self.mono {
            Style::default().add_modifier(Modifier::DIM)
        } else {
            Style::default().fg(self.dim)
        }
    }

    pub(super) fn heading(&self) -> Style {
        self.fg(self.accent).add_modifier(Modifier::BOLD)
    }
}
