//! The config file: `$XDG_CONFIG_HOME/nsview/config.toml` (else `~/.config/nsview/config.toml`),
//! or the file given with `--config`. It sets the refresh interval, the read-only default, mouse
//! support, colours and key bindings. `assets/config.toml` is the commented default.
//!
//! serde reads the file into `File`: its tables refuse names they do not know
//! (`deny_unknown_fields`, with a "did you mean" from `strsim`) and its values keep where they
//! were written (`toml::Spanned`). The checks below turn it into a [`Config`], so that every
//! mistake, a typo in a name included, is reported as one line naming the file and line.

use super::keymap::{Action, Key, Keymap};
use ratatui::style::Color;
use serde::Deserialize;
use serde::de::value::MapAccessDeserializer;
use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;
use std::{env, fmt, fs, io};
use toml::Spanned;

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
    let de = toml::de::Deserializer::parse(text).map_err(|e| doc.syntax(&e))?;
    let file = File::deserialize(de).map_err(|e| doc.unknown_field(&e))?;
    let mut config = Config::default();
    first_mistake([
        set(&file.interval, &mut config.interval, |v| doc.interval(v)),
        set(&file.read_only, &mut config.read_only, |v| {
            doc.boolean("read_only", v)
        }),
        set(&file.mouse, &mut config.mouse, |v| doc.boolean("mouse", v)),
        set(&file.colors, &mut config.colors, |v| doc.colors(v)),
        set(&file.keys, &mut config.keymap, |v| doc.keys(v)),
    ])?;
    Ok(config)
}

/// The file as serde reads it. A value of the wrong type is no serde error: the checks below
/// report it, as they know which setting it is.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    interval: Setting,
    read_only: Setting,
    mouse: Setting,
    colors: Setting<ColorsFile>,
    keys: Setting<KeysFile>,
}

#[derive(Deserialize)]
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
type KeysFile = BTreeMap<Spanned<String>, Spanned<Written>>;

/// A setting the file may give; a table is read as `T`.
type Setting<T = IgnoredAny> = Option<Spanned<Written<T>>>;

/// A TOML value as written, whatever its type.
enum Written<T = IgnoredAny> {
    Table(T),
    List(Vec<Spanned<Written>>),
    Text(String),
    Number(f64),
    Bool(bool),
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Written<T> {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        de.deserialize_any(WrittenVisitor(PhantomData))
    }
}

struct WrittenVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for WrittenVisitor<T> {
    type Value = Written<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a TOML value")
    }
    fn visit_bool<E>(self, b: bool) -> Result<Written<T>, E> {
        Ok(Written::Bool(b))
    }
    fn visit_i64<E>(self, i: i64) -> Result<Written<T>, E> {
        Ok(Written::Number(i as f64))
    }
    fn visit_f64<E>(self, f: f64) -> Result<Written<T>, E> {
        Ok(Written::Number(f))
    }
    fn visit_str<E>(self, s: &str) -> Result<Written<T>, E> {
        Ok(Written::Text(s.to_string()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Written<T>, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Written::List(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Written<T>, A::Error> {
        T::deserialize(MapAccessDeserializer::new(map)).map(Written::Table)
    }
}

/// Check a setting the file gives and store it in `slot`.
fn set<S, T>(
    value: &Setting<S>,
    slot: &mut T,
    check: impl FnOnce(&Spanned<Written<S>>) -> Result<T, ConfigError>,
) -> Result<(), ConfigError> {
    if let Some(value) = value {
        *slot = check(value)?;
    }
    Ok(())
}

/// Of the settings checked, the mistake on the earliest line is the one reported.
fn first_mistake(
    checks: impl IntoIterator<Item = Result<(), ConfigError>>,
) -> Result<(), ConfigError> {
    match checks
        .into_iter()
        .filter_map(Result::err)
        .min_by_key(ConfigError::line)
    {
        Some(e) => Err(e),
        None => Ok(()),
    }
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

    /// serde's one complaint about valid TOML here, a name `deny_unknown_fields` refuses
    /// ("unknown field `x`, expected one of `a`, `b`"), in our words.
    fn unknown_field(&self, e: &toml::de::Error) -> ConfigError {
        let span = e.span().unwrap_or_default();
        // serde sees a TOML datetime as a table with one private key, which fails where
        // [colors] or [keys] is expected (the only tables read into types).
        let raw = self.text.get(span.clone()).unwrap_or_default();
        if let Ok(datetime) = raw.parse::<toml::value::Datetime>() {
            let name = if e.message().contains("`header`") {
                "colors"
            } else {
                "keys"
            };
            let message = format!("{name} must be a table ([{name}]), got {datetime}");
            return self.invalid(span, message);
        }
        let Some((name, expected)) = e
            .message()
            .strip_prefix("unknown field `")
            .and_then(|m| m.split_once("`, expected "))
        else {
            return self.invalid(span, e.message().to_string());
        };
        let known: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
        // The names serde lists say which table the unknown one is in.
        let what = if known.contains(&"header") {
            format!("color setting \"{name}\" in [colors]")
        } else {
            format!("setting \"{name}\"")
        };
        self.unknown(span, &what, name, &known)
    }

    /// `unknown WHAT, did you mean "x"? (known: a, b, c)`
    fn unknown(&self, span: Range<usize>, what: &str, name: &str, known: &[&str]) -> ConfigError {
        let hint = did_you_mean(name, known.iter().copied());
        let known = known.join(", ");
        self.invalid(span, format!("unknown {what}{hint} (known: {known})"))
    }

    /// A value as the user wrote it, for "got ..." in messages.
    fn got<T>(&self, value: &Spanned<Written<T>>) -> String {
        let raw = self.text.get(value.span()).unwrap_or_default();
        match value.get_ref() {
            // serde sees a TOML datetime as a table with one private key.
            Written::Table(_) => match raw.parse::<toml::value::Datetime>() {
                Ok(datetime) => datetime.to_string(),
                Err(_) => "a table".to_string(),
            },
            Written::List(_) => "a list".to_string(),
            Written::Text(s) => format!("\"{s}\""),
            Written::Number(_) | Written::Bool(_) => raw.replace('_', ""),
        }
    }

    fn interval(&self, value: &Spanned<Written>) -> Result<Duration, ConfigError> {
        let got = self.got(value);
        let Written::Number(secs) = *value.get_ref() else {
            let message = format!("interval must be a number of seconds, got {got}");
            return Err(self.invalid(value.span(), message));
        };
        let (min, max) = (MIN_INTERVAL.as_secs_f64(), MAX_INTERVAL.as_secs_f64());
        if !(min..=max).contains(&secs) {
            let message = format!("interval must be between {min} and {max} seconds, got {got}");
            return Err(self.invalid(value.span(), message));
        }
        Ok(Duration::from_secs_f64(secs))
    }

    fn boolean(&self, name: &str, value: &Spanned<Written>) -> Result<bool, ConfigError> {
        match value.get_ref() {
            Written::Bool(b) => Ok(*b),
            _ => Err(self.invalid(
                value.span(),
                format!("{name} must be true or false, got {}", self.got(value)),
            )),
        }
    }

    fn table<'a, T>(
        &self,
        name: &str,
        value: &'a Spanned<Written<T>>,
    ) -> Result<&'a T, ConfigError> {
        match value.get_ref() {
            Written::Table(table) => Ok(table),
            _ => Err(self.invalid(
                value.span(),
                format!("{name} must be a table ([{name}]), got {}", self.got(value)),
            )),
        }
    }

    /// The default colours with those the file sets.
    fn colors(&self, value: &Spanned<Written<ColorsFile>>) -> Result<Colors, ConfigError> {
        let file = self.table("colors", value)?;
        let mut colors = Colors::default();
        let slots = [
            ("header", &file.header, &mut colors.header),
            ("selection", &file.selection, &mut colors.selection),
            ("accent", &file.accent, &mut colors.accent),
            ("warning", &file.warning, &mut colors.warning),
            ("error", &file.error, &mut colors.error),
            ("dim", &file.dim, &mut colors.dim),
        ];
        first_mistake(slots.map(|(name, value, slot)| set(value, slot, |v| self.color(name, v))))?;
        Ok(colors)
    }

    fn color(&self, setting: &str, value: &Spanned<Written>) -> Result<Color, ConfigError> {
        let Written::Text(s) = value.get_ref() else {
            return Err(self.invalid(
                value.span(),
                format!(
                    "colors.{setting} must be a color in quotes, such as \"cyan\", got {}",
                    self.got(value)
                ),
            ));
        };
        let s = s.trim();
        if s.eq_ignore_ascii_case("default") {
            return Ok(Color::Reset);
        }
        Color::from_str(s).map_err(|_| {
            let hint = did_you_mean(&s.to_ascii_lowercase(), COLOR_NAMES.split(' '));
            self.invalid(
                value.span(),
                format!(
                    "unknown color \"{s}\"{hint} (use a name such as cyan or lightblue, \
                     \"#rrggbb\", a number 0-255, or \"default\")"
                ),
            )
        })
    }

    /// The default bindings with the file's `[keys]`, read in file order so that the first
    /// mistake is the one reported and, of two actions given one key, the later is blamed.
    fn keys(&self, value: &Spanned<Written<KeysFile>>) -> Result<Keymap, ConfigError> {
        let mut keymap = Keymap::default();
        let mut entries: Vec<_> = self.table("keys", value)?.iter().collect();
        entries.sort_by_key(|(name, _)| name.span().start);
        // Every key the file binds, so one key given to two actions is caught rather than the
        // later entry silently winning.
        let mut taken: Vec<(Key, Action)> = Vec::new();
        let mut quit_lost_at = None;
        for (name, value) in entries {
            let action = self.action(name)?;
            let mut keys = Vec::new();
            for item in self.key_items(name.get_ref(), value)? {
                let (key, text) = self.key(name.get_ref(), item)?;
                if let Some((_, other)) = taken.iter().find(|(t, a)| *t == key && *a != action) {
                    let (other, name) = (other.name(), name.get_ref());
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

    fn action(&self, key: &Spanned<String>) -> Result<Action, ConfigError> {
        let name = key.get_ref();
        Action::from_name(name).ok_or_else(|| {
            let known = Action::ALL.map(Action::name);
            let what = format!("action \"{name}\" in [keys]");
            self.unknown(key.span(), &what, name, &known)
        })
    }

    /// The items of one `[keys]` entry: a list, or one key written without the brackets.
    fn key_items<'a>(
        &self,
        name: &str,
        value: &'a Spanned<Written>,
    ) -> Result<Vec<&'a Spanned<Written>>, ConfigError> {
        match value.get_ref() {
            Written::List(items) => Ok(items.iter().collect()),
            Written::Text(_) => Ok(vec![value]),
            _ => Err(self.invalid(
                value.span(),
                format!(
                    "keys.{name} must be a list of keys such as [\"q\", \"ctrl-c\"], got {}",
                    self.got(value)
                ),
            )),
        }
    }

    /// One key of the entry for action `name`, and its spelling.
    fn key<'a>(
        &self,
        name: &str,
        item: &'a Spanned<Written>,
    ) -> Result<(Key, &'a str), ConfigError> {
        let Written::Text(text) = item.get_ref() else {
            let got = self.got(item);
            let message = format!("keys.{name} must list keys in quotes, such as \"q\", got {got}");
            return Err(self.invalid(item.span(), message));
        };
        match Key::parse(text) {
            Some(key) => Ok((key, text)),
            None => Err(self.invalid(
                item.span(),
                format!(
                    "unknown key \"{text}\" for {name} (write keys like \"q\", \"G\", \
                     \"ctrl-c\", \"up\", \"pgdn\", \"home\", \"f1\", \"space\", \
                     \"enter\", \"esc\", \"tab\")"
                ),
            )),
        }
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
