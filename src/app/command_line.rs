//! The `:` command line (k9s style): a view name switches to that view, `:q` quits, Tab
//! completes a name, Esc cancels. Pure: it only changes the state and returns commands.

use super::{App, Cmd, View};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What a command does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Command {
    Show(View),
    Quit,
}

/// Every name the command line knows, the full ones first (Tab completes to the first match).
const COMMANDS: &[(&str, Command)] = &[
    ("containers", Command::Show(View::Containers)),
    ("namespaces", Command::Show(View::Namespaces)),
    ("cgroups", Command::Show(View::Cgroups)),
    ("processes", Command::Show(View::Processes)),
    ("quit", Command::Quit),
    ("ctr", Command::Show(View::Containers)),
    ("c", Command::Show(View::Containers)),
    ("ns", Command::Show(View::Namespaces)),
    ("cg", Command::Show(View::Cgroups)),
    ("ps", Command::Show(View::Processes)),
    ("q", Command::Quit),
];

/// The names, for the footer's hint and the help screen.
pub const COMMAND_HINT: &str = ":containers (c, ctr)  :ns  :cgroups (cg)  :ps  :q";

fn lookup(name: &str) -> Option<Command> {
    COMMANDS.iter().find(|(n, _)| *n == name).map(|(_, c)| *c)
}

/// The text completed by Tab: the one full name it starts, or the longest prefix the names it
/// starts share; None when no name starts with it.
fn complete(text: &str) -> Option<String> {
    let matches: Vec<&str> = COMMANDS
        .iter()
        .map(|(n, _)| *n)
        .filter(|n| n.len() > 2 && n.starts_with(text))
        .collect();
    let first = matches.first()?;
    let shared = matches.iter().fold(first.len(), |len, n| {
        first
            .chars()
            .zip(n.chars())
            .take(len)
            .take_while(|(a, b)| a == b)
            .count()
    });
    Some(first[..shared].to_string())
}

impl App {
    /// Open the command line (the `command` action).
    pub(super) fn open_command_line(&mut self) {
        self.command_line = Some(String::new());
        self.status = None;
    }

    /// A key while the command line is open.
    pub(super) fn on_command_key(&mut self, k: KeyEvent) -> Vec<Cmd> {
        let Some(text) = &mut self.command_line else {
            return vec![];
        };
        let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
        match k.code {
            KeyCode::Char('c') if ctrl => return vec![Cmd::Quit],
            KeyCode::Esc => self.command_line = None,
            // Backspace on an empty line closes it, as in vim and k9s.
            KeyCode::Backspace if text.is_empty() => self.command_line = None,
            KeyCode::Backspace => {
                text.pop();
            }
            KeyCode::Tab => match complete(text.trim()) {
                Some(done) => *text = done,
                None => {
                    self.status = Some(format!("no command starts with \"{}\"", text.trim()));
                }
            },
            KeyCode::Enter => return self.run_command_line(),
            KeyCode::Char(c) if !ctrl => text.push(c),
            _ => {}
        }
        vec![]
    }

    /// Enter: do what the typed name says, or say it is unknown and leave the view as it is.
    fn run_command_line(&mut self) -> Vec<Cmd> {
        let text = self.command_line.take().unwrap_or_default();
        let name = text.trim();
        match lookup(name) {
            Some(Command::Quit) => return vec![Cmd::Quit],
            Some(Command::Show(v)) => {
                self.status = None;
                self.set_view(v);
            }
            None if name.is_empty() => {}
            None => {
                self.status = Some(format!("unknown command \":{name}\"; try {COMMAND_HINT}"));
            }
        }
        vec![]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_completion() {
        assert_eq!(lookup("ps"), Some(Command::Show(View::Processes)));
        assert_eq!(lookup("ctr"), Some(Command::Show(View::Containers)));
        assert_eq!(lookup("nosuch"), None);
        assert_eq!(complete("pro").as_deref(), Some("processes"));
        assert_eq!(complete("c").as_deref(), Some("c"));
        assert_eq!(complete("co").as_deref(), Some("containers"));
        assert_eq!(complete("x"), None);
    }
}
