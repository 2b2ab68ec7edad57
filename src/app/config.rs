//! The config file: `$XDG_CONFIG_HOME/nsview/config.toml` (else `~/.config/nsview/config.toml`),
//! or the file given with `--config`. It sets the refresh interval, the read-only default, mouse
//! support, colours and key bindings. `assets/config.toml` is the commented default.
//!
//! The file is walked as a spanned TOML tree rather than deserialized with serde so that every
//! mistake, a typo in a name included, is reported as one line naming the file and line.

use super::keymap::{Action, Key, Keymap};
use ratatui::style::Color;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;
use std::{env, fs, io};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// Shortest refresh interval accepted from the config file (and a floor for `-`).
pub const MIN_INTERVAL: Duration = Duration::from_millis(200);
/// Longest refresh interval accepted from the config file (and a ceiling for `+`).
pub const MAX_INTERVAL: Duration = Duration::from_secs(60);

/// Everything the config file sets, with the defaults for what it leaves out.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// How often the poller collects.
    pub interval: Duration,
    /// Start with writes (limits, freeze, move, enter) turned off, like `--read-only`.
    pub read_only: bool,
    /// Capture the mouse (click to select, wheel to scroll, click a header to sort).
    pub mouse: bool,
    pub colors: Colors,
    pub keymap: Keymap,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            interval: Duration::from_secs(1),
            read_only: false,
            mouse: true,
            colors: Colors::default(),
            keymap: Keymap::default(),
        }
    }
}

/// The UI's palette. `Color::Reset` means the terminal's own colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Colors {
    /// Header line, view tabs and table column titles.
    pub header: Color,
    /// Background of the selected row.
    pub selection: Color,
    /// Highlights: the active view, keys in the help and the status line, gauges, sparklines.
    pub accent: Color,
    /// The READ-ONLY badge, the not-root banner, usage close to a limit.
    pub warning: Color,
    /// Error messages, limits hit (failcnt), "terminal too small".
    pub error: Color,
    /// Secondary text: hints, shared namespaces, empty cgroups, missing values.
    pub dim: Color,
}

impl Default for Colors {
    /// For a dark terminal; the 16 named colours follow the terminal's own palette.
    fn default() -> Self {
        Colors {
            header: Color::Cyan,
            selection: Color::Blue,
            accent: Color::LightGreen,
            warning: Color::Yellow,
            error: Color::LightRed,
            dim: Color::DarkGray,
        }
    }
}

/// Why the config file could not be used. Its `Display` is one line naming the file, the line
/// (and column where the TOML parser knows it) and what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read (an explicit `--config` file missing, a permission, a
    /// directory). A missing file at the default location is not an error.
    #[error("cannot read config file {}: {error}", shown(path))]
    Read { path: PathBuf, error: io::Error },
    /// The file is not valid TOML (or not UTF-8).
    #[error("{}: {message}", place(path, *line, *column))]
    Syntax {
        path: PathBuf,
        line: Option<usize>,
        column: Option<usize>,
        message: String,
    },
    /// Valid TOML, but a setting is unknown, of the wrong type or out of range.
    #[error("{}: {message}", place(path, Some(*line), None))]
    Invalid {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

impl ConfigError {
    /// The 1-based line the error is on, where there is one.
    pub fn line(&self) -> Option<usize> {
        match self {
            ConfigError::Read { .. } => None,
            ConfigError::Syntax { line, .. } => *line,
            ConfigError::Invalid { line, .. } => Some(*line),
        }
    }

    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            ConfigError::Read { path, .. }
            | ConfigError::Syntax { path, .. }
            | ConfigError::Invalid { path, .. } => path,
        }
    }
}

/// `$XDG_CONFIG_HOME/nsview/config.toml`, else `$HOME/.config/nsview/config.toml`; `None`
/// when neither variable is usable.
pub fn default_path() -> Option<PathBuf> {
    default_path_from(env::var_os("XDG_CONFIG_HOME"), env::var_os("HOME"))
}

fn default_path_from(
    xdg_config_home: Option<std::ffi::OsString>,
    home: Option<std::ffi::OsString>,
) -> Option<PathBuf> {
    // The XDG base directory spec says to ignore empty and relative values.
    let absolute = |v: Option<std::ffi::OsString>| {
        v.map(PathBuf::from)
            .filter(|p| p.is_absolute() && !p.as_os_str().is_empty())
    };
    let base = absolute(xdg_config_home).or_else(|| absolute(home).map(|h| h.join(".config")))?;
    Some(base.join("nsview").join("config.toml"))
}

/// Load the config: from `path` if given (it must exist), else from the default location, where
/// a missing file means the defaults.
pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
    match path {
        Some(path) => parse(&read(path)?, path),
        None => {
            let Some(path) = default_path() else {
                return Ok(Config::default());
            };
            match read(&path) {
                Ok(text) => parse(&text, &path),
                Err(ConfigError::Read { error, .. }) if error.kind() == io::ErrorKind::NotFound => {
                    Ok(Config::default())
                }
                Err(e) => Err(e),
            }
        }
    }
}

fn read(path: &Path) -> Result<String, ConfigError> {
    let bytes = fs::read(path).map_err(|error| ConfigError::Read {
        path: path.to_path_buf(),
        error,
    })?;
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|b| **b == b'\n').count() + 1;
        ConfigError::Syntax {
            path: path.to_path_buf(),
            line: Some(line),
            column: None,
            message: "the file is not valid UTF-8".to_string(),
        }
    })
}

/// Parse the text of a config file; `path` is only used in error messages.
pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
    let doc = Doc { text, path };
    let root = DeTable::parse(text).map_err(|e| doc.syntax(&e))?;
    let mut config = Config::default();
    for (key, value) in in_file_order(root.get_ref()) {
        match key.get_ref().as_ref() {
            "interval" => config.interval = doc.interval(value)?,
            "read_only" => config.read_only = doc.boolean("read_only", value)?,
            "mouse" => config.mouse = doc.boolean("mouse", value)?,
            "colors" => doc.colors(value, &mut config.colors)?,
            "keys" => doc.keys(value, &mut config.keymap)?,
            other => {
                return Err(doc.unknown(
                    key.span(),
                    &format!("setting \"{other}\""),
                    other,
                    &TOP_LEVEL,
                ));
            }
        }
    }
    Ok(config)
}

const TOP_LEVEL: [&str; 5] = ["interval", "read_only", "mouse", "colors", "keys"];
const COLOR_SETTINGS: [&str; 6] = ["header", "selection", "accent", "warning", "error", "dim"];
/// The colour names accepted, for error messages and suggestions (ratatui also takes spellings
/// such as "light-blue", "grey" and "bright red").
const COLOR_NAMES: [&str; 17] = [
    "default",
    "black",
    "red",
    "green",
    "yellow",
    "blue",
    "magenta",
    "cyan",
    "gray",
    "darkgray",
    "lightred",
    "lightgreen",
    "lightyellow",
    "lightblue",
    "lightmagenta",
    "lightcyan",
    "white",
];

type Entry<'a, 'i> = (
    &'a Spanned<std::borrow::Cow<'i, str>>,
    &'a Spanned<DeValue<'i>>,
);

/// A table's entries in the order they appear in the file, so the first mistake is the one
/// reported (the parsed table is sorted by key).
fn in_file_order<'a, 'i>(table: &'a DeTable<'i>) -> Vec<Entry<'a, 'i>> {
    let mut entries: Vec<Entry<'a, 'i>> = table.iter().collect();
    entries.sort_by_key(|(k, _)| k.span().start);
    entries
}

/// The file being parsed, for turning byte offsets into error lines.
struct Doc<'a> {
    text: &'a str,
    path: &'a Path,
}

impl Doc<'_> {
    /// 1-based line and column (in characters) of a byte offset.
    fn line_col(&self, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        (line, column)
    }

    fn syntax(&self, e: &toml::de::Error) -> ConfigError {
        let (line, column) = match e.span() {
            Some(span) => {
                let (l, c) = self.line_col(span.start);
                (Some(l), Some(c))
            }
            None => (None, None),
        };
        // The message is one line already; make sure a future one cannot break the rule.
        let mut message = e.message().split_whitespace().collect::<Vec<_>>().join(" ");
        // The parser does not say which key is repeated; the span points at it.
        if message == "duplicate key"
            && let Some(key) = e.span().and_then(|s| self.text.get(s))
        {
            message = format!("duplicate key \"{}\"", key.trim().trim_matches('"'));
        }
        ConfigError::Syntax {
            path: self.path.to_path_buf(),
            line,
            column,
            message: format!("invalid TOML: {message}"),
        }
    }

    fn invalid(&self, span: Range<usize>, message: String) -> ConfigError {
        ConfigError::Invalid {
            path: self.path.to_path_buf(),
            line: self.line_col(span.start).0,
            message,
        }
    }

    /// `unknown WHAT, did you mean "x"? (known: a, b, c)`
    fn unknown(&self, span: Range<usize>, what: &str, name: &str, known: &[&str]) -> ConfigError {
        let hint = match suggest(name, known.iter().copied()) {
            Some(s) => format!(", did you mean \"{s}\"?"),
            None => String::new(),
        };
        self.invalid(
            span,
            format!("unknown {what}{hint} (known: {})", known.join(", ")),
        )
    }

    fn interval(&self, value: &Spanned<DeValue<'_>>) -> Result<Duration, ConfigError> {
        let secs = match value.get_ref() {
            DeValue::Float(f) => f.as_str().parse::<f64>().ok(),
            DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix())
                .ok()
                .map(|i| i as f64),
            other => {
                return Err(self.invalid(
                    value.span(),
                    format!(
                        "interval must be a number of seconds, got {}",
                        describe(other)
                    ),
                ));
            }
        };
        let range = MIN_INTERVAL.as_secs_f64()..=MAX_INTERVAL.as_secs_f64();
        match secs {
            Some(s) if range.contains(&s) => Ok(Duration::from_secs_f64(s)),
            _ => Err(self.invalid(
                value.span(),
                format!(
                    "interval must be between {} and {} seconds, got {}",
                    range.start(),
                    range.end(),
                    describe(value.get_ref())
                ),
            )),
        }
    }

    fn boolean(&self, name: &str, value: &Spanned<DeValue<'_>>) -> Result<bool, ConfigError> {
        match value.get_ref() {
            DeValue::Boolean(b) => Ok(*b),
            other => Err(self.invalid(
                value.span(),
                format!("{name} must be true or false, got {}", describe(other)),
            )),
        }
    }

    fn table<'a, 'i>(
        &self,
        name: &str,
        value: &'a Spanned<DeValue<'i>>,
    ) -> Result<&'a DeTable<'i>, ConfigError> {
        match value.get_ref() {
            DeValue::Table(t) => Ok(t),
            other => Err(self.invalid(
                value.span(),
                format!("{name} must be a table ([{name}]), got {}", describe(other)),
            )),
        }
    }

    fn colors(&self, value: &Spanned<DeValue<'_>>, colors: &mut Colors) -> Result<(), ConfigError> {
        for (key, value) in in_file_order(self.table("colors", value)?) {
            let name = key.get_ref().as_ref();
            let slot = match name {
                "header" => &mut colors.header,
                "selection" => &mut colors.selection,
                "accent" => &mut colors.accent,
                "warning" => &mut colors.warning,
                "error" => &mut colors.error,
                "dim" => &mut colors.dim,
                _ => {
                    return Err(self.unknown(
                        key.span(),
                        &format!("color setting \"{name}\" in [colors]"),
                        name,
                        &COLOR_SETTINGS,
                    ));
                }
            };
            *slot = self.color(name, value)?;
        }
        Ok(())
    }

    fn color(&self, setting: &str, value: &Spanned<DeValue<'_>>) -> Result<Color, ConfigError> {
        let DeValue::String(s) = value.get_ref() else {
            return Err(self.invalid(
                value.span(),
                format!(
                    "colors.{setting} must be a color in quotes, such as \"cyan\", got {}",
                    describe(value.get_ref())
                ),
            ));
        };
        let s = s.trim();
        if s.eq_ignore_ascii_case("default") {
            return Ok(Color::Reset);
        }
        Color::from_str(s).map_err(|_| {
            let hint = match suggest(&s.to_ascii_lowercase(), COLOR_NAMES.iter().copied()) {
                Some(n) => format!(", did you mean \"{n}\"?"),
                None => String::new(),
            };
            self.invalid(
                value.span(),
                format!(
                    "unknown color \"{s}\"{hint} (use a name such as cyan or lightblue, \
                     \"#rrggbb\", a number 0-255, or \"default\")"
                ),
            )
        })
    }

    fn keys(&self, value: &Spanned<DeValue<'_>>, keymap: &mut Keymap) -> Result<(), ConfigError> {
        let names: Vec<&str> = Action::ALL.iter().map(|a| a.name()).collect();
        // Every key the file binds, so one key given to two actions is caught rather than the
        // later entry silently winning.
        let mut taken: Vec<(Key, Action)> = Vec::new();
        let mut rebinds: Vec<(Action, Vec<Key>, Range<usize>)> = Vec::new();
        for (key, value) in in_file_order(self.table("keys", value)?) {
            let name = key.get_ref().as_ref();
            let Some(action) = Action::from_name(name) else {
                return Err(self.unknown(
                    key.span(),
                    &format!("action \"{name}\" in [keys]"),
                    name,
                    &names,
                ));
            };
            let strings: Vec<&Spanned<DeValue<'_>>> = match value.get_ref() {
                DeValue::Array(a) => a.iter().collect(),
                // A single key may be written without the brackets.
                DeValue::String(_) => vec![value],
                other => {
                    return Err(self.invalid(
                        value.span(),
                        format!(
                            "keys.{name} must be a list of keys such as [\"q\", \"ctrl-c\"], \
                             got {}",
                            describe(other)
                        ),
                    ));
                }
            };
            let mut keys = Vec::new();
            for s in strings {
                let DeValue::String(text) = s.get_ref() else {
                    return Err(self.invalid(
                        s.span(),
                        format!(
                            "keys.{name} must list keys in quotes, such as \"q\", got {}",
                            describe(s.get_ref())
                        ),
                    ));
                };
                let Some(k) = Key::parse(text) else {
                    return Err(self.invalid(
                        s.span(),
                        format!(
                            "unknown key \"{text}\" for {name} (write keys like \"q\", \"G\", \
                             \"ctrl-c\", \"up\", \"pgdn\", \"home\", \"f1\", \"space\", \
                             \"enter\", \"esc\", \"tab\")"
                        ),
                    ));
                };
                if let Some((_, other)) = taken.iter().find(|(t, a)| *t == k && *a != action) {
                    return Err(self.invalid(
                        s.span(),
                        format!(
                            "key \"{text}\" is given to both {} and {name} in [keys]",
                            other.name()
                        ),
                    ));
                }
                if !keys.contains(&k) {
                    keys.push(k);
                    taken.push((k, action));
                }
            }
            rebinds.push((action, keys, value.span()));
        }
        let mut quit_lost_at = None;
        for (action, keys, span) in rebinds {
            let had_quit = !keymap.keys(Action::Quit).is_empty();
            keymap.rebind(action, &keys);
            if had_quit && keymap.keys(Action::Quit).is_empty() {
                quit_lost_at = Some(span);
            }
        }
        if keymap.keys(Action::Quit).is_empty()
            && let Some(span) = quit_lost_at
        {
            return Err(self.invalid(
                span,
                "this leaves no key for quit; give quit a key in [keys], such as quit = [\"q\"]"
                    .to_string(),
            ));
        }
        Ok(())
    }
}

/// A value as the user wrote it, for "got ..." in messages.
fn describe(value: &DeValue<'_>) -> String {
    match value {
        DeValue::String(s) => format!("\"{s}\""),
        DeValue::Integer(i) => i.to_string(),
        DeValue::Float(f) => f.to_string(),
        DeValue::Boolean(b) => b.to_string(),
        DeValue::Datetime(d) => d.to_string(),
        DeValue::Array(_) => "a list".to_string(),
        DeValue::Table(_) => "a table".to_string(),
    }
}

/// The closest known name to a misspelt one, if it is close enough to be a typo.
fn suggest<'k>(name: &str, known: impl Iterator<Item = &'k str>) -> Option<&'k str> {
    let limit = if name.chars().count() <= 3 { 1 } else { 2 };
    known
        .map(|k| (edit_distance(name, k), k))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitute = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = substitute.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The path as the user knows it: `~/...` under the home directory.
fn shown(path: &Path) -> String {
    shown_with_home(path, env::var_os("HOME").map(PathBuf::from).as_deref())
}

fn shown_with_home(path: &Path, home: Option<&Path>) -> String {
    if let Some(rest) = home
        .filter(|h| h.is_absolute() && h != &Path::new("/"))
        .and_then(|h| path.strip_prefix(h).ok())
    {
        return Path::new("~").join(rest).display().to_string();
    }
    path.display().to_string()
}

fn place(path: &Path, line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!("{} line {l}, column {c}", shown(path)),
        (Some(l), None) => format!("{} line {l}", shown(path)),
        _ => shown(path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    const ASSET: &str = include_str!("../../assets/config.toml");

    fn p() -> &'static Path {
        Path::new("/etc/nsview-test/config.toml")
    }

    fn err(text: &str) -> ConfigError {
        match parse(text, p()) {
            Ok(c) => panic!("expected an error for {text:?}, got {c:?}"),
            Err(e) => e,
        }
    }

    /// The error's line and its one-line message.
    fn err_at(text: &str) -> (usize, String) {
        let e = err(text);
        let msg = e.to_string();
        assert!(!msg.contains('\n'), "not one line: {msg}");
        assert!(
            msg.starts_with("/etc/nsview-test/config.toml line "),
            "{msg}"
        );
        (e.line().unwrap(), msg)
    }

    fn ev(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, mods)
    }

    /// The config file's spelling of a key (what `Key::parse` reads back).
    fn spelling(key: Key) -> String {
        let base = match key.code {
            KeyCode::Up => "up".to_string(),
            KeyCode::Down => "down".to_string(),
            KeyCode::Left => "left".to_string(),
            KeyCode::Right => "right".to_string(),
            KeyCode::PageUp => "pgup".to_string(),
            KeyCode::PageDown => "pgdn".to_string(),
            KeyCode::Home => "home".to_string(),
            KeyCode::End => "end".to_string(),
            KeyCode::Tab => "tab".to_string(),
            KeyCode::BackTab => "backtab".to_string(),
            KeyCode::Enter => "enter".to_string(),
            KeyCode::Esc => "esc".to_string(),
            KeyCode::Backspace => "backspace".to_string(),
            KeyCode::Char(' ') => "space".to_string(),
            KeyCode::Char('"') => "\\\"".to_string(),
            KeyCode::Char('\\') => "\\\\".to_string(),
            KeyCode::Char(c) => c.to_string(),
            KeyCode::F(n) => format!("f{n}"),
            other => panic!("no config spelling for {other:?}"),
        };
        if key.ctrl {
            format!("ctrl-{base}")
        } else {
            base
        }
    }

    /// The `[keys]` lines of the default config, as they appear (commented) in the asset.
    fn default_key_lines() -> Vec<String> {
        let km = Keymap::default();
        Action::ALL
            .iter()
            .map(|a| {
                let keys: Vec<String> = km
                    .keys(*a)
                    .into_iter()
                    .map(|k| format!("\"{}\"", spelling(k)))
                    .collect();
                format!("#{} = [{}]", a.name(), keys.join(", "))
            })
            .collect()
    }

    /// The asset with its settings uncommented: lines `#name = ...` / `#[table]` lose the `#`;
    /// prose comments (`# ...`) stay.
    fn uncommented(asset: &str) -> String {
        asset
            .lines()
            .map(|l| match l.strip_prefix('#') {
                Some(rest) if !rest.is_empty() && !rest.starts_with([' ', '#']) => rest,
                _ => l,
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn assert_same_keys(a: &Keymap, b: &Keymap) {
        for action in Action::ALL {
            assert_eq!(a.keys(action), b.keys(action), "keys of {}", action.name());
        }
    }

    #[test]
    fn defaults() {
        let c = Config::default();
        assert_eq!(c.interval, Duration::from_secs(1));
        assert!(!c.read_only);
        assert!(c.mouse);
        assert_eq!(c.colors, Colors::default());
        assert_eq!(c.keymap, Keymap::default());
        // An empty file, or one with only comments, is the defaults.
        assert_eq!(parse("", p()).unwrap(), c);
        assert_eq!(parse("# nothing\n\n", p()).unwrap(), c);
        assert_eq!(parse("[colors]\n[keys]\n", p()).unwrap(), c);
    }

    #[test]
    fn every_setting_parsed() {
        let text = r##"
interval = 2.5
read_only = true
mouse = false

[colors]
header = "lightblue"
selection = "#203040"
accent = "default"
warning = "208"
error = "Light-Red"
dim = "grey"

[keys]
quit = ["x", "ctrl-q"]
help = "f2"
sort = ["q"]
refresh_now = ["ctrl-r", "F5"]
page_down = ["PgDn", "space"]
"##;
        let c = parse(text, p()).unwrap();
        assert_eq!(c.interval, Duration::from_millis(2500));
        assert!(c.read_only);
        assert!(!c.mouse);
        assert_eq!(
            c.colors,
            Colors {
                header: Color::LightBlue,
                selection: Color::Rgb(0x20, 0x30, 0x40),
                accent: Color::Reset,
                warning: Color::Indexed(208),
                error: Color::LightRed,
                dim: Color::Gray,
            }
        );
        let km = &c.keymap;
        let none = KeyModifiers::NONE;
        let ctrl = KeyModifiers::CONTROL;
        assert_eq!(km.action(&ev(KeyCode::Char('x'), none)), Some(Action::Quit));
        assert_eq!(km.action(&ev(KeyCode::Char('q'), ctrl)), Some(Action::Quit));
        // "q" moved to sort; ctrl-c is no longer quit because quit's keys were replaced.
        assert_eq!(km.action(&ev(KeyCode::Char('q'), none)), Some(Action::Sort));
        assert_eq!(km.action(&ev(KeyCode::Char('c'), ctrl)), None);
        assert_eq!(km.action(&ev(KeyCode::Char('s'), none)), None);
        assert_eq!(km.action(&ev(KeyCode::F(2), none)), Some(Action::Help));
        assert_eq!(km.action(&ev(KeyCode::F(1), none)), None);
        assert_eq!(
            km.action(&ev(KeyCode::Char('r'), ctrl)),
            Some(Action::RefreshNow)
        );
        assert_eq!(
            km.action(&ev(KeyCode::F(5), none)),
            Some(Action::RefreshNow)
        );
        // space moved from refresh_now to page_down.
        assert_eq!(
            km.action(&ev(KeyCode::Char(' '), none)),
            Some(Action::PageDown)
        );
        assert_eq!(
            km.action(&ev(KeyCode::PageDown, none)),
            Some(Action::PageDown)
        );
        // Untouched actions keep their defaults.
        assert_eq!(km.action(&ev(KeyCode::Char('j'), none)), Some(Action::Down));

        // Integers are seconds too; the bounds are included.
        let c = parse("interval = 60", p()).unwrap();
        assert_eq!(c.interval, MAX_INTERVAL);
        let c = parse("interval = 0.2", p()).unwrap();
        assert_eq!(c.interval, MIN_INTERVAL);
        // Duplicates in one list are harmless; an empty list unbinds.
        let c = parse("[keys]\nhelp = [\"?\", \"?\"]\ndevices = []", p()).unwrap();
        assert_eq!(c.keymap.keys(Action::Help), vec![Key::plain('?')]);
        assert!(c.keymap.keys(Action::Devices).is_empty());
        // Dotted keys are the same thing.
        let c = parse("keys.quit = [\"x\"]\ncolors.dim = \"white\"", p()).unwrap();
        assert_eq!(c.keymap.keys(Action::Quit), vec![Key::plain('x')]);
        assert_eq!(c.colors.dim, Color::White);
    }

    #[test]
    fn errors_name_the_line() {
        let (line, msg) = err_at("interval = 0\n");
        assert_eq!(line, 1);
        assert!(
            msg.ends_with("line 1: interval must be between 0.2 and 60 seconds, got 0"),
            "{msg}"
        );
        let (line, msg) = err_at("mouse = true\n\ninterval = 61.5");
        assert_eq!(line, 3);
        assert!(msg.contains("got 61.5"), "{msg}");
        let (line, _) = err_at("interval = nan");
        assert_eq!(line, 1);
        let (line, msg) = err_at("\ninterval = \"fast\"");
        assert_eq!(line, 2);
        assert!(
            msg.contains("interval must be a number of seconds, got \"fast\""),
            "{msg}"
        );
        let (line, msg) = err_at("read_only = \"yes\"");
        assert_eq!(line, 1);
        assert!(msg.contains("read_only must be true or false"), "{msg}");
        let (line, msg) = err_at("mouse = 1");
        assert_eq!(line, 1);
        assert!(msg.contains("mouse must be true or false, got 1"), "{msg}");

        // Unknown top-level setting, with a suggestion.
        let (line, msg) = err_at("mouse = true\nintervl = 2\n");
        assert_eq!(line, 2);
        assert!(msg.contains("unknown setting \"intervl\""), "{msg}");
        assert!(msg.contains("did you mean \"interval\"?"), "{msg}");
        let (line, msg) = err_at("[colours]\nheader = \"red\"");
        assert_eq!(line, 1);
        assert!(msg.contains("unknown setting \"colours\""), "{msg}");

        // Colours.
        let (line, msg) = err_at("[colors]\nheader = \"cyan\"\n\n\ndim = \"blu\"\n");
        assert_eq!(line, 5);
        assert!(msg.contains("line 5: unknown color \"blu\""), "{msg}");
        assert!(msg.contains("did you mean \"blue\"?"), "{msg}");
        let (line, msg) = err_at("[colors]\nheadr = \"red\"");
        assert_eq!(line, 2);
        assert!(
            msg.contains("unknown color setting \"headr\" in [colors]"),
            "{msg}"
        );
        let (line, msg) = err_at("[colors]\nerror = 3");
        assert_eq!(line, 2);
        assert!(msg.contains("must be a color in quotes"), "{msg}");
        let (line, msg) = err_at("colors = \"dark\"");
        assert_eq!(line, 1);
        assert!(msg.contains("colors must be a table"), "{msg}");

        // Keys.
        let (line, msg) = err_at("[keys]\nhelp = [\"?\"]\nqit = [\"x\"]\n");
        assert_eq!(line, 3);
        assert!(
            msg.ends_with(
                "line 3: unknown action \"qit\" in [keys], did you mean \"quit\"? \
                 (known: up, down, page_up, page_down, home, end, left, right, next_pane, \
                 view_groups, view_namespaces, view_cgroups, view_processes, open, filter, \
                 sort, sort_reverse, devices, enter, edit_limits, freeze, move, undo, prev_hierarchy, next_hierarchy, toggle_empty, \
                 toggle_tree, faster, slower, refresh_now, help, quit)"
            ),
            "{msg}"
        );
        let (line, msg) = err_at("[keys]\nquit = [\n  \"q\",\n  \"ctrl-\",\n]");
        assert_eq!(line, 4);
        assert!(msg.contains("unknown key \"ctrl-\" for quit"), "{msg}");
        let (line, msg) = err_at("[keys]\nquit = [\"q\", 3]");
        assert_eq!(line, 2);
        assert!(msg.contains("keys.quit must list keys in quotes"), "{msg}");
        let (line, msg) = err_at("[keys]\nquit = true");
        assert_eq!(line, 2);
        assert!(msg.contains("keys.quit must be a list of keys"), "{msg}");
        let (line, msg) = err_at("[keys]\nsort = [\"x\"]\nhelp = [\"F1\", \"x\"]");
        assert_eq!(line, 3);
        assert!(
            msg.contains("key \"x\" is given to both sort and help in [keys]"),
            "{msg}"
        );
        let (line, msg) = err_at("[keys]\nquit = []");
        assert_eq!(line, 2);
        assert!(msg.contains("leaves no key for quit"), "{msg}");
        let (line, msg) = err_at("[keys]\nhelp = [\"q\"]\nfilter = [\"ctrl-c\"]\n");
        assert_eq!(line, 3);
        assert!(msg.contains("leaves no key for quit"), "{msg}");

        // TOML syntax errors carry line and column.
        let e = err("interval = 1.0\nread_only = tru\n");
        assert_eq!(e.line(), Some(2));
        let msg = e.to_string();
        assert!(!msg.contains('\n'), "{msg}");
        assert!(
            msg.starts_with("/etc/nsview-test/config.toml line 2, column 13: invalid TOML"),
            "{msg}"
        );
        let e = err("[keys]\nquit = [\"q\"\nhelp = [\"?\"]\n");
        assert!(matches!(e, ConfigError::Syntax { .. }), "{e}");
        assert!(e.line().is_some(), "{e}");
        let e = err("interval = 1\ninterval = 2\n");
        assert_eq!(e.line(), Some(2), "{e}");
        assert!(e.to_string().ends_with("duplicate key \"interval\""), "{e}");
        let e = err("[keys]\nquit = [\"q\"]\n[keys]\n");
        assert_eq!(e.line(), Some(3), "{e}");
    }

    #[test]
    fn load_reads_files() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.toml");
        fs::write(&file, "read_only = true\n").unwrap();
        assert!(load(Some(&file)).unwrap().read_only);

        // An explicit file that is missing is an error naming it.
        let missing = dir.path().join("nope.toml");
        let e = load(Some(&missing)).unwrap_err();
        assert!(matches!(e, ConfigError::Read { .. }));
        assert_eq!(e.path(), missing);
        let msg = e.to_string();
        assert!(msg.contains("nope.toml"), "{msg}");
        assert!(!msg.contains('\n'), "{msg}");

        fs::write(&file, b"mouse = true\n# caf\xe9\n").unwrap();
        let e = load(Some(&file)).unwrap_err();
        assert_eq!(e.line(), Some(2), "{e}");
        assert!(e.to_string().contains("not valid UTF-8"), "{e}");

        fs::write(&file, "mouse = false\n\ninterval = 100\n").unwrap();
        let e = load(Some(&file)).unwrap_err();
        assert_eq!(e.path(), file);
        assert_eq!(e.line(), Some(3));
    }

    #[test]
    fn default_location() {
        let os = |s: &str| Some(std::ffi::OsString::from(s));
        assert_eq!(
            default_path_from(os("/x/conf"), os("/home/u")),
            Some(PathBuf::from("/x/conf/nsview/config.toml"))
        );
        assert_eq!(
            default_path_from(None, os("/home/u")),
            Some(PathBuf::from("/home/u/.config/nsview/config.toml"))
        );
        // Empty or relative XDG_CONFIG_HOME is ignored, as the spec says.
        assert_eq!(
            default_path_from(os(""), os("/home/u")),
            Some(PathBuf::from("/home/u/.config/nsview/config.toml"))
        );
        assert_eq!(
            default_path_from(os("rel"), os("/home/u")),
            Some(PathBuf::from("/home/u/.config/nsview/config.toml"))
        );
        assert_eq!(default_path_from(None, None), None);
        assert_eq!(
            shown_with_home(
                Path::new("/home/u/.config/nsview/config.toml"),
                Some(Path::new("/home/u"))
            ),
            "~/.config/nsview/config.toml"
        );
        assert_eq!(
            shown_with_home(Path::new("/etc/x.toml"), Some(Path::new("/home/u"))),
            "/etc/x.toml"
        );
        assert_eq!(
            shown_with_home(Path::new("/etc/x.toml"), Some(Path::new("/"))),
            "/etc/x.toml"
        );
    }

    #[test]
    fn suggestions() {
        assert_eq!(edit_distance("qit", "quit"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        let names = Action::ALL.map(|a| a.name());
        assert_eq!(
            suggest("page-down", names.iter().copied()),
            Some("page_down")
        );
        assert_eq!(
            suggest("pagedown", names.iter().copied()),
            Some("page_down")
        );
        assert_eq!(suggest("zzzzzz", names.iter().copied()), None);
    }

    #[test]
    fn asset_is_the_defaults_and_lists_every_action() {
        // As shipped, everything is commented out: valid TOML that means the defaults.
        assert_eq!(parse(ASSET, p()).unwrap(), Config::default());

        // Every action appears with exactly its default keys. On failure, paste this block.
        let lines = default_key_lines();
        let missing: Vec<&String> = lines
            .iter()
            .filter(|l| !ASSET.lines().any(|a| a == l.as_str()))
            .collect();
        assert!(
            missing.is_empty(),
            "assets/config.toml is out of date with Keymap::default(); its [keys] should be:\n{}",
            lines.join("\n")
        );
        for a in Action::ALL {
            assert!(ASSET.contains(a.name()), "{} not in the asset", a.name());
        }

        // Uncommented, it parses, and to the very same settings.
        let text = uncommented(ASSET);
        assert!(text.contains("\ninterval = "), "settings not found");
        assert!(text.contains("\n[keys]"), "settings not found");
        let c = parse(&text, p()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.interval, Config::default().interval);
        assert_eq!(c.read_only, Config::default().read_only);
        assert_eq!(c.mouse, Config::default().mouse);
        assert_eq!(c.colors, Colors::default());
        assert_same_keys(&c.keymap, &Keymap::default());
    }

    #[test]
    fn key_spellings_round_trip() {
        let km = Keymap::default();
        for a in Action::ALL {
            for k in km.keys(a) {
                let s = spelling(k).replace("\\\"", "\"").replace("\\\\", "\\");
                assert_eq!(Key::parse(&s), Some(k), "{s}");
            }
        }
    }
}
