//! The config file: `$XDG_CONFIG_HOME/nsview/config.toml` (else `~/.config/nsview/config.toml`),
//! or the file given with `--config`. It sets the refresh interval, the read-only default, mouse
//! support, colours and key bindings. `assets/config.toml` is the commented default.
//!
//! serde reads the file into `File`, every value a `toml::Spanned<toml::Value>`. Unknown names
//! are refused by `deny_unknown_fields` (settings) and `Action::from_name` (`[keys]`), both with
//! a "did you mean" from `strsim`. One check per kind of value turns the rest into a [`Config`],
//! so that every mistake is one line naming the file and line.

use super::keymap::{Action, Key, Keymap};
use ratatui::style::Color;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;
use std::{env, fs, io};
use toml::de::ValueDeserializer;
use toml::{Spanned, Value};

/// Shortest refresh interval accepted from the config file (and a floor for `-`).
pub const MIN_INTERVAL: Duration = Duration::from_millis(200);
/// Longest refresh interval accepted from the config file (and a ceiling for `+`).
pub const MAX_INTERVAL: Duration = Duration::from_secs(60);

/// Why a refresh interval was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntervalError {
    /// Neither plain seconds ("2", "0.5") nor a humantime duration ("500ms", "2s", "1m").
    NotADuration,
    /// Outside [`MIN_INTERVAL`]..=[`MAX_INTERVAL`].
    OutOfRange,
}

/// A refresh interval as `-d` and the config file's `interval = "..."` take it: plain seconds
/// ("2", "0.5") or a humantime duration ("500ms", "2s", "1m 30s"), from 0.2 to 60 seconds.
pub fn parse_interval(text: &str) -> Result<Duration, IntervalError> {
    let text = text.trim();
    let duration = match text.parse::<f64>() {
        Ok(secs) if secs.is_finite() && secs >= 0.0 && secs <= MAX_INTERVAL.as_secs_f64() => {
            Duration::from_secs_f64(secs)
        }
        Ok(secs) if secs.is_finite() => return Err(IntervalError::OutOfRange),
        Ok(_) => return Err(IntervalError::NotADuration),
        Err(_) => humantime::parse_duration(text).map_err(|_| IntervalError::NotADuration)?,
    };
    if (MIN_INTERVAL..=MAX_INTERVAL).contains(&duration) {
        Ok(duration)
    } else {
        Err(IntervalError::OutOfRange)
    }
}

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
    let top: File = doc.read()?;
    // What is in [colors] and [keys] is read once they are known to be tables.
    let tables = (doc.set("colors", &top.colors, Slot::Table))
        .and(doc.set("keys", &top.keys, Slot::Table))
        .and_then(|()| doc.read::<File<ColorsFile, KeysFile>>());
    let (given, keymap) = match tables {
        Ok(File { colors, keys, .. }) => (colors.unwrap_or_default(), doc.keys(keys)),
        Err(e) => (ColorsFile::default(), Err(e)),
    };
    let mut cfg = Config::default();
    let keymap = keymap.map(|keymap| cfg.keymap = keymap);
    let c = &mut cfg.colors;
    let settings = [
        ("interval", &top.interval, Slot::Seconds(&mut cfg.interval)),
        ("read_only", &top.read_only, Slot::Bool(&mut cfg.read_only)),
        ("mouse", &top.mouse, Slot::Bool(&mut cfg.mouse)),
        ("header", &given.header, Slot::Color(&mut c.header)),
        ("selection", &given.selection, Slot::Color(&mut c.selection)),
        ("accent", &given.accent, Slot::Color(&mut c.accent)),
        ("warning", &given.warning, Slot::Color(&mut c.warning)),
        ("error", &given.error, Slot::Color(&mut c.error)),
        ("dim", &given.dim, Slot::Color(&mut c.dim)),
    ];
    let mistakes = settings
        .into_iter()
        .filter_map(|(name, value, slot)| doc.set(name, value, slot).err());
    // Of the mistakes found, the one on the earliest line is reported.
    match mistakes.chain(keymap.err()).min_by_key(ConfigError::line) {
        Some(e) => Err(e),
        None => Ok(cfg),
    }
}

/// The file as serde reads it: first with the tables as plain values, then with what is in
/// them. A value of the wrong type is no serde error: the checks, knowing its name, report it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File<C = Spanned<Value>, K = Spanned<Value>> {
    interval: Setting,
    read_only: Setting,
    mouse: Setting,
    colors: Option<C>,
    keys: Option<K>,
}

type Setting = Option<Spanned<Value>>;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ColorsFile {
    header: Setting,
    selection: Setting,
    accent: Setting,
    warning: Setting,
    error: Setting,
    dim: Setting,
}

/// `[keys]`: action names are checked against `Action::ALL`, with a suggestion.
type KeysFile = BTreeMap<Spanned<String>, Spanned<Value>>;

/// What a setting must be, and where its value goes.
enum Slot<'a> {
    Seconds(&'a mut Duration),
    Bool(&'a mut bool),
    Color(&'a mut Color),
    /// Read afterwards, as `ColorsFile` or `KeysFile`.
    Table,
}

/// The colour names accepted, for suggestions (ratatui also takes spellings such as
/// "light-blue", "grey" and "bright red").
const COLOR_NAMES: &str = "default black red green yellow blue magenta cyan gray darkgray \
                           lightred lightgreen lightyellow lightblue lightmagenta lightcyan white";

/// The file being parsed, for turning byte offsets into error lines.
struct Doc<'a> {
    text: &'a str,
    path: &'a Path,
}

impl Doc<'_> {
    /// 1-based line and column (in characters) of a byte offset.
    fn line_col(&self, offset: usize) -> (usize, usize) {
        let before = &self.text[..self.text.floor_char_boundary(offset)];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        (before.matches('\n').count() + 1, column)
    }

    /// The file read as `T`. serde's one complaint about valid TOML is a name that
    /// `deny_unknown_fields` refuses.
    fn read<T: DeserializeOwned>(&self) -> Result<T, ConfigError> {
        let de = toml::de::Deserializer::parse(self.text).map_err(|e| self.syntax(&e))?;
        T::deserialize(de).map_err(|e| self.unknown_field(&e))
    }

    fn syntax(&self, e: &toml::de::Error) -> ConfigError {
        let (line, column) = e.span().map(|s| self.line_col(s.start)).unzip();
        // The message is one line already; make sure a future one cannot break the rule.
        let mut message = e.message().split_whitespace().collect::<Vec<_>>().join(" ");
        // The parser does not say which key is repeated; the span points at it.
        if message == "duplicate key"
            && let Some(key) = e.span().and_then(|s| self.text.get(s))
        {
            message = format!("duplicate key \"{}\"", key.trim().trim_matches('"'));
        }
        let (path, message) = (self.path.to_path_buf(), format!("invalid TOML: {message}"));
        ConfigError::Syntax {
            path,
            line,
            column,
            message,
        }
    }

    fn invalid(&self, span: Range<usize>, message: String) -> ConfigError {
        let (path, line) = (self.path.to_path_buf(), self.line_col(span.start).0);
        ConfigError::Invalid {
            path,
            line,
            message,
        }
    }

    /// `{expected}, got {the value as written}`.
    fn wrong(&self, value: &Spanned<Value>, expected: String) -> ConfigError {
        let got = match value.get_ref() {
            Value::String(s) => format!("\"{s}\""),
            Value::Array(_) => "a list".to_string(),
            Value::Table(_) => "a table".to_string(),
            Value::Integer(_) | Value::Float(_) => {
                (self.text.get(value.span()).unwrap_or_default()).replace('_', "")
            }
            other => other.to_string(),
        };
        self.invalid(value.span(), format!("{expected}, got {got}"))
    }

    /// serde's "unknown field `x`, expected one of `a`, `b`", in our words.
    fn unknown_field(&self, e: &toml::de::Error) -> ConfigError {
        let span = e.span().unwrap_or_default();
        let Some((name, expected)) = (e.message().strip_prefix("unknown field `"))
            .and_then(|m| m.split_once("`, expected "))
        else {
            return self.invalid(span, e.message().to_string());
        };
        let known: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
        // The names serde lists say which table the unknown one is in.
        let what = match known.contains(&"header") {
            true => format!("color setting \"{name}\" in [colors]"),
            false => format!("setting \"{name}\""),
        };
        self.unknown(span, &what, name, &known)
    }

    /// `unknown WHAT, did you mean "x"? (known: a, b, c)`
    fn unknown(&self, span: Range<usize>, what: &str, name: &str, known: &[&str]) -> ConfigError {
        let hint = did_you_mean(name, known.iter().copied());
        let known = known.join(", ");
        self.invalid(span, format!("unknown {what}{hint} (known: {known})"))
    }

    /// Check the value the file gives setting `name`, if any, and store it in `slot`.
    fn set(&self, name: &str, value: &Setting, slot: Slot) -> Result<(), ConfigError> {
        let Some(value) = value else { return Ok(()) };
        let wrong = |expected: String| Err(self.wrong(value, expected));
        let (min, max) = (MIN_INTERVAL.as_secs_f64(), MAX_INTERVAL.as_secs_f64());
        match (slot, value.get_ref()) {
            (Slot::Seconds(slot), Value::String(s)) => match parse_interval(s) {
                Ok(d) => *slot = d,
                Err(IntervalError::OutOfRange) => {
                    return wrong(format!("{name} must be between {min} and {max} seconds"));
                }
                Err(IntervalError::NotADuration) => {
                    return wrong(format!(
                        "{name} must be a number of seconds or a duration such as \"500ms\""
                    ));
                }
            },
            (Slot::Seconds(slot), v) => match v.as_float().or(v.as_integer().map(|i| i as f64)) {
                Some(secs) if (min..=max).contains(&secs) => *slot = Duration::from_secs_f64(secs),
                Some(_) => return wrong(format!("{name} must be between {min} and {max} seconds")),
                None => return wrong(format!("{name} must be a number of seconds")),
            },
            (Slot::Bool(slot), Value::Boolean(b)) => *slot = *b,
            (Slot::Bool(_), _) => return wrong(format!("{name} must be true or false")),
            (Slot::Color(slot), Value::String(s)) => *slot = self.color(s, value.span())?,
            (Slot::Color(_), _) => {
                return wrong(format!(
                    "colors.{name} must be a color in quotes, such as \"cyan\""
                ));
            }
            (Slot::Table, Value::Table(_)) => {}
            (Slot::Table, _) => return wrong(format!("{name} must be a table ([{name}])")),
        }
        Ok(())
    }

    fn color(&self, s: &str, span: Range<usize>) -> Result<Color, ConfigError> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("default") {
            return Ok(Color::Reset);
        }
        Color::from_str(s).map_err(|_| {
            let hint = did_you_mean(&s.to_ascii_lowercase(), COLOR_NAMES.split(' '));
            let message = format!(
                "unknown color \"{s}\"{hint} (use a name such as cyan or lightblue, \
                 \"#rrggbb\", a number 0-255, or \"default\")"
            );
            self.invalid(span, message)
        })
    }

    /// The default bindings with the file's `[keys]`, read in file order so that the first
    /// mistake is the one reported and, of two actions given one key, the later is blamed.
    fn keys(&self, table: Option<KeysFile>) -> Result<Keymap, ConfigError> {
        let mut entries: Vec<_> = table.unwrap_or_default().into_iter().collect();
        entries.sort_by_key(|(name, _)| name.span().start);
        let (mut keymap, mut quit_lost_at) = (Keymap::default(), None);
        // Every key the file binds, so one key given to two actions is caught rather than the
        // later entry silently winning.
        let mut taken: Vec<(Key, Action)> = Vec::new();
        for (name, value) in entries {
            let action = self.action(&name)?;
            let name = name.get_ref();
            let mut keys = Vec::new();
            for item in self.key_items(name, &value)? {
                let (key, text) = self.key(name, &item)?;
                if let Some((_, other)) = taken.iter().find(|(t, a)| *t == key && *a != action) {
                    let other = other.name();
                    let message =
                        format!("key \"{text}\" is given to both {other} and {name} in [keys]");
                    return Err(self.invalid(item.span(), message));
                }
                if !keys.contains(&key) {
                    keys.push(key);
                    taken.push((key, action));
                }
            }
            let had_quit = !keymap.keys(Action::Quit).is_empty();
            keymap.rebind(action, &keys);
            if had_quit && keymap.keys(Action::Quit).is_empty() {
                quit_lost_at = Some(value.span());
            }
        }
        match quit_lost_at {
            Some(span) if keymap.keys(Action::Quit).is_empty() => Err(self.invalid(
                span,
                "this leaves no key for quit; give quit a key in [keys], such as quit = [\"q\"]"
                    .to_string(),
            )),
            _ => Ok(keymap),
        }
    }

    fn action(&self, name: &Spanned<String>) -> Result<Action, ConfigError> {
        let (span, name) = (name.span(), name.get_ref());
        Action::from_name(name).ok_or_else(|| {
            let what = format!("action \"{name}\" in [keys]");
            self.unknown(span, &what, name, &Action::ALL.map(Action::name))
        })
    }

    /// The keys of the entry for action `name`, each with where it is: a list's items (its text
    /// is read again, as a `toml::Value` keeps no spans inside), or one key without brackets.
    fn key_items(
        &self,
        name: &str,
        value: &Spanned<Value>,
    ) -> Result<Vec<Spanned<Value>>, ConfigError> {
        let expected = || format!("keys.{name} must be a list of keys such as [\"q\", \"ctrl-c\"]");
        match value.get_ref() {
            Value::String(_) => Ok(vec![value.clone()]),
            Value::Array(_) => {
                let (list, at) = (
                    self.text.get(value.span()).unwrap_or_default(),
                    value.span().start,
                );
                let items =
                    ValueDeserializer::parse(list).and_then(Vec::<Spanned<Value>>::deserialize);
                let items =
                    items.map_err(|e| self.invalid(value.span(), e.message().to_string()))?;
                let shift = |i: Spanned<Value>| {
                    Spanned::new(i.span().start + at..i.span().end + at, i.into_inner())
                };
                Ok(items.into_iter().map(shift).collect())
            }
            _ => Err(self.wrong(value, expected())),
        }
    }

    /// One key of the entry for action `name`, and its spelling.
    fn key<'a>(&self, name: &str, item: &'a Spanned<Value>) -> Result<(Key, &'a str), ConfigError> {
        let Some(text) = item.get_ref().as_str() else {
            return Err(self.wrong(
                item,
                format!("keys.{name} must list keys in quotes, such as \"q\""),
            ));
        };
        Key::parse(text).map(|key| (key, text)).ok_or_else(|| {
            let message = format!(
                "unknown key \"{text}\" for {name} (write keys like \"q\", \"G\", \"ctrl-c\", \
                 \"up\", \"pgdn\", \"home\", \"f1\", \"space\", \"enter\", \"esc\", \"tab\")"
            );
            self.invalid(item.span(), message)
        })
    }
}

/// `, did you mean "x"?` for the closest known name to a misspelt one, or nothing.
fn did_you_mean<'k>(name: &str, known: impl Iterator<Item = &'k str>) -> String {
    suggest(name, known).map_or_else(String::new, |s| format!(", did you mean \"{s}\"?"))
}

/// The closest known name to a misspelt one, if it is close enough to be a typo.
fn suggest<'k>(name: &str, known: impl Iterator<Item = &'k str>) -> Option<&'k str> {
    let limit = if name.chars().count() <= 3 { 1 } else { 2 };
    known
        .map(|k| (strsim::levenshtein(name, k), k))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
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
    use strsim::levenshtein as edit_distance;

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
        // The htop / k9s keys are rebound like the others: the command line on ";", redraw
        // on ctrl-r only; F10 still quits, ":" is free.
        let c = parse("[keys]\ncommand = [\";\"]\nredraw = [\"ctrl-r\"]", p()).unwrap();
        let km = &c.keymap;
        let none = KeyModifiers::NONE;
        let ctrl = KeyModifiers::CONTROL;
        assert_eq!(
            km.action(&ev(KeyCode::Char(';'), none)),
            Some(Action::CommandLine)
        );
        assert_eq!(km.action(&ev(KeyCode::Char(':'), none)), None);
        assert_eq!(
            km.action(&ev(KeyCode::Char('r'), ctrl)),
            Some(Action::Redraw)
        );
        assert_eq!(km.action(&ev(KeyCode::Char('l'), ctrl)), None);
        assert_eq!(km.action(&ev(KeyCode::F(5), none)), None);
        assert_eq!(km.action(&ev(KeyCode::F(10), none)), Some(Action::Quit));
        // Dotted keys are the same thing.
        let c = parse("keys.quit = [\"x\"]\ncolors.dim = \"white\"", p()).unwrap();
        assert_eq!(c.keymap.keys(Action::Quit), vec![Key::plain('x')]);
        assert_eq!(c.colors.dim, Color::White);
    }

    #[test]
    fn interval_takes_seconds_and_durations() {
        let ms = Duration::from_millis;
        assert_eq!(parse_interval("2"), Ok(ms(2000)));
        assert_eq!(parse_interval("0.5"), Ok(ms(500)));
        assert_eq!(parse_interval("500ms"), Ok(ms(500)));
        assert_eq!(parse_interval("2s"), Ok(ms(2000)));
        assert_eq!(parse_interval("1m"), Ok(ms(60_000)));
        assert_eq!(parse_interval("100ms"), Err(IntervalError::OutOfRange));
        assert_eq!(parse_interval("61"), Err(IntervalError::OutOfRange));
        assert_eq!(parse_interval("2min 1s"), Err(IntervalError::OutOfRange));
        assert_eq!(parse_interval("-1"), Err(IntervalError::OutOfRange));
        assert_eq!(parse_interval("fast"), Err(IntervalError::NotADuration));
        assert_eq!(parse_interval("NaN"), Err(IntervalError::NotADuration));
        let c = parse("interval = \"750ms\"", p()).unwrap();
        assert_eq!(c.interval, ms(750));
        let (_, msg) = err_at("interval = \"90s\"");
        assert!(msg.contains("between 0.2 and 60 seconds"), "{msg}");
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
            msg.contains(
                "interval must be a number of seconds or a duration such as \"500ms\", got \"fast\""
            ),
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
                 sort, sort_reverse, devices, enter, edit_limits, freeze, move, undo, \
                 frame_back, frame_forward, minute_back, minute_forward, prev_event, next_event, \
                 first_frame, last_frame, go_to_time, prev_hierarchy, next_hierarchy, toggle_empty, \
                 toggle_tree, faster, slower, refresh_now, redraw, command, help, quit)"
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
        let (line, msg) = err_at("[keys]\nhelp = [\"q\"]\nfilter = [\"ctrl-c\", \"f10\"]\n");
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
