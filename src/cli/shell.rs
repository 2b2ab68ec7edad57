//! What an installed tool gives the shell and `man`: `nsview man` prints the man page (clap_mangen
//! from the clap definitions, plus the sections clap has nothing for: views, keys, TARGET, exit
//! status, files, environment), and `nsview completions SHELL` prints the completion script.
//!
//! Completion is clap_complete's dynamic engine: the script the shell loads calls
//! `NSVIEW_COMPLETE=SHELL nsview -- WORDS...`, and nsview answers from the same clap definitions at
//! once ([`complete_from_env`], first thing in `main`). So the options never go stale, and
//! TARGET completes to what is running now: container and isolation-group names, and PIDs when
//! the word starts with a digit.

use crate::collect::{CollectOptions, Collector};
use crate::model::format::printable;
use crate::sys::Roots;
use clap::{CommandFactory, Subcommand, ValueEnum};
use clap_complete::engine::{ArgValueCompleter, CompletionCandidate};
use clap_complete::env::{Bash, CompleteEnv, EnvCompleter, Fish, Zsh};
use std::ffi::OsStr;
use std::io::{self, Write};

/// The environment variable through which the shell asks nsview for completions.
const COMPLETE_VAR: &str = "NSVIEW_COMPLETE";

/// `nsview man` and `nsview completions` (flattened into the top-level command list).
#[derive(Debug, Subcommand)]
pub enum ShellCommand {
    /// Print the man page (roff): `nsview man | man -l -`.
    Man,
    /// Print the completion script for a shell. Bash: `source <(nsview completions bash)`; the
    /// package installs all three.
    Completions {
        /// The shell the script is for.
        #[arg(value_enum)]
        shell: ShellName,
    },
}

/// A shell `nsview completions` writes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ShellName {
    Bash,
    Zsh,
    Fish,
}

/// Print what `cmd` asks for to `out`.
pub fn execute(cmd: ShellCommand, out: &mut impl Write) -> anyhow::Result<()> {
    match cmd {
        ShellCommand::Man => write_man_page(out)?,
        ShellCommand::Completions { shell } => {
            let shell: &dyn EnvCompleter = match shell {
                ShellName::Bash => &Bash,
                ShellName::Zsh => &Zsh,
                ShellName::Fish => &Fish,
            };
            // `nsview` as the completer: found on PATH where the shell runs, as installed.
            shell.write_registration(COMPLETE_VAR, "nsview", "nsview", "nsview", out)?;
        }
    }
    out.flush()?;
    Ok(())
}

/// Answer a completion request and exit when the shell's script made one (`NSVIEW_COMPLETE` set);
/// return at once otherwise. Called first thing in `main`.
pub fn complete_from_env() {
    CompleteEnv::with_factory(command_with_completers)
        .var(COMPLETE_VAR)
        .complete();
}

/// The clap command, for the completion engine.
pub fn command_with_completers() -> clap::Command {
    super::Cli::command()
}

/// The completer of every TARGET argument (`#[arg(add = ...)]` in the clap definitions).
pub(crate) fn target_completer() -> ArgValueCompleter {
    ArgValueCompleter::new(complete_target)
}

/// TARGET candidates: the running containers and isolation groups by name (with their runtime
/// and image as help), or, when the word starts with a digit, the PIDs that start with it (with
/// their command name).
fn complete_target(current: &OsStr) -> Vec<CompletionCandidate> {
    let Some(current) = current.to_str() else {
        return Vec::new();
    };
    let mut collector = Collector::new(Roots::default());
    collector.read_runtime_records(true);
    let options = CollectOptions {
        relations: false,
        uts: false,
        net: false,
        cgroups: true,
        command_lines: true,
    };
    let Ok(snap) = collector.collect(options) else {
        return Vec::new();
    };
    if current.starts_with(|c: char| c.is_ascii_digit()) {
        return (snap.processes.values())
            .filter(|p| !p.kernel_thread && p.pid.to_string().starts_with(current))
            .map(|p| {
                CompletionCandidate::new(p.pid.to_string())
                    .help(Some(printable(&p.comm).to_string().into()))
            })
            .collect();
    }
    (snap.containers.iter())
        .filter(|c| c.name.starts_with(current))
        .map(|c| {
            let runtime = c.runtime.map_or("-".to_string(), |r| r.to_string());
            let help = match &c.image {
                Some(image) => format!("{runtime}, {image}"),
                None => runtime,
            };
            CompletionCandidate::new(&c.name).help(Some(printable(&help).to_string().into()))
        })
        .collect()
}

/// The man page: clap's sections, then the hand-written ones, then the version.
fn write_man_page(out: &mut impl Write) -> io::Result<()> {
    let man = clap_mangen::Man::new(super::Cli::command());
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;
    man.render_description_section(out)?;
    man.render_options_section(out)?;
    man.render_subcommands_section(out)?;
    write_sections(out)?;
    man.render_version_section(out)
}

/// roff text: backslashes and hyphens escaped, and a line that would start with `.` or `'`
/// (a request) guarded.
fn roff(text: &str) -> String {
    let escaped = text.replace('\\', "\\e").replace('-', "\\-");
    escaped
        .lines()
        .map(|line| match line.starts_with(['.', '\'']) {
            true => format!("\\&{line}"),
            false => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `.SH TITLE` and paragraphs of plain text (blank-line separated).
fn section(out: &mut impl Write, title: &str, paragraphs: &[&str]) -> io::Result<()> {
    writeln!(out, ".SH {title}")?;
    for (i, p) in paragraphs.iter().enumerate() {
        if i > 0 {
            writeln!(out, ".PP")?;
        }
        writeln!(out, "{}", roff(p))?;
    }
    Ok(())
}

/// `.SH TITLE` and a list of (term, description) as tagged paragraphs.
fn tagged(
    out: &mut impl Write,
    title: &str,
    intro: &str,
    items: &[(&str, &str)],
) -> io::Result<()> {
    section(out, title, &[intro])?;
    for (term, text) in items {
        writeln!(out, ".TP\n\\fB{}\\fR\n{}", roff(term), roff(text))?;
    }
    Ok(())
}

fn write_sections(out: &mut impl Write) -> io::Result<()> {
    tagged(out, "VIEWS", VIEWS_INTRO, VIEWS)?;
    let keymap = crate::app::keymap::Keymap::default();
    let keys = keymap.help_lines();
    let keys: Vec<(&str, &str)> = keys.iter().map(|(k, h)| (k.as_str(), *h)).collect();
    tagged(out, "KEYS", KEYS_INTRO, &keys)?;
    tagged(out, "TARGET", TARGET_INTRO, TARGETS)?;
    tagged(out, "EXIT STATUS", "", EXIT_STATUS)?;
    tagged(out, "FILES", "", FILES)?;
    tagged(out, "ENVIRONMENT", "", ENVIRONMENT)?;
    section(out, "SEE ALSO", &[SEE_ALSO])
}

const VIEWS_INTRO: &str = "nsview without a command opens a full-screen view that refreshes \
every second (-d, + and -). Each view is a list (or tree) and a detail pane for the selection.";

const VIEWS: &[(&str, &str)] = &[
    (
        "1 Containers",
        "Containers named by their runtimes (Docker, podman, containerd and CRI-O, LXC, \
systemd-nspawn, runc), isolation groups no runtime owns (shown as comm[pid]), network namespaces \
held only by a bind mount, and the host: PID, processes, CPU%, memory against its limit, the \
namespace types not shared with the host.",
    ),
    (
        "2 Namespaces",
        "Every namespace of the eight types, with its processes and bind mounts; t shows the tree \
by owning user namespace and parent pid namespace.",
    ),
    (
        "3 Cgroups",
        "The cgroup tree of each hierarchy ([ and ] switch; v1, v2 or hybrid) with limits, usage \
and gauges; e edits limits, f freezes, d shows the decoded device rules.",
    ),
    (
        "4 Processes",
        "The process tree with PID inside, namespaces, cgroups and isolation group; m moves a \
process into another cgroup, x enters its namespaces.",
    ),
];

const KEYS_INTRO: &str = "The default keys; each can be rebound in the [keys] table of the \
config file (an action name = a key or a list of keys). ? shows this table in the view.";

const TARGET_INTRO: &str = "show, enter, set, freeze, thaw, move and devices take a TARGET:";

const TARGETS: &[(&str, &str)] = &[
    ("PID", "a process (for set and freeze: its cgroups)."),
    (
        "INODE, TYPE:[INODE]",
        "a namespace by its inode, e.g. 4026532385 or net:[4026532385] (as ls -l /proc/PID/ns \
shows it).",
    ),
    (
        "/run/netns/NAME",
        "a namespace held by a bind mount (ip netns add).",
    ),
    (
        "/CGROUP/PATH",
        "a cgroup path as /proc/PID/cgroup shows it (/docker/<id>), looked up in every hierarchy.",
    ),
    (
        "NAME, ID-PREFIX",
        "a container by its runtime's name (web-1), an isolation group by comm[pid], or a \
container's id prefix; entered through its init process. The shell completions offer the running \
ones.",
    ),
];

const EXIT_STATUS: &[(&str, &str)] = &[
    ("0", "Success."),
    (
        "1",
        "An error: a bad TARGET or value, a refused or failed write, a config file mistake (one \
line naming the file and line).",
    ),
    ("2", "A command line nsview does not understand (usage)."),
    (
        "enter",
        "The command's own status; 128+N when it was killed by signal N; 126 when it cannot be \
executed, 127 when it does not exist in the target, 1 when entering fails.",
    ),
];

const FILES: &[(&str, &str)] = &[
    (
        "$XDG_CONFIG_HOME/nsview/config.toml",
        "The config file (default ~/.config/nsview/config.toml; --config FILE reads another): \
refresh interval (seconds or a duration such as \"500ms\"), read_only, mouse, [colors] and [keys]. \
A commented example is /usr/share/doc/nsview/config.toml.",
    ),
    (
        "/var/lib/nsview/journal.jsonl",
        "The journal of every change nsview wrote (root's; other users' is \
$XDG_STATE_HOME/nsview/journal.jsonl, default ~/.local/state/nsview). nsview undo and u revert \
the newest change; nsview journal lists them.",
    ),
];

const ENVIRONMENT: &[(&str, &str)] = &[
    (
        "XDG_CONFIG_HOME, HOME",
        "Where the config file is looked for.",
    ),
    (
        "XDG_STATE_HOME",
        "Where a user other than root keeps the journal (root's is always /var/lib/nsview).",
    ),
    ("NO_COLOR", "When set and not empty: no colours."),
    (
        "SUDO_USER",
        "Recorded in the journal next to the user who made a change.",
    ),
    (
        "SHELL",
        "enter's command when none is given and the target has no login shell of its own.",
    ),
    ("TERM", "Passed to the command enter runs."),
    (
        "NSVIEW_COMPLETE",
        "Set by the completion scripts to ask nsview for completions (bash, zsh, fish).",
    ),
];

const SEE_ALSO: &str = "namespaces(7), cgroups(7), lsns(8), nsenter(1), unshare(1), ip-netns(8), \
systemd-cgls(1), docker(1)";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roff_escapes_hyphens_backslashes_and_requests() {
        assert_eq!(roff("-d 2s"), "\\-d 2s");
        assert_eq!(roff("a\\b"), "a\\eb");
        assert_eq!(roff(".hidden\n'quoted"), "\\&.hidden\n\\&'quoted");
    }

    #[test]
    fn man_page_has_the_hand_written_sections() {
        let mut out = Vec::new();
        write_man_page(&mut out).unwrap();
        let page = String::from_utf8(out).unwrap();
        for title in [
            ".TH nsview 1",
            ".SH SYNOPSIS",
            ".SH VIEWS",
            ".SH KEYS",
            ".SH TARGET",
            ".SH EXIT STATUS",
            ".SH FILES",
            ".SH ENVIRONMENT",
        ] {
            assert!(page.contains(title), "{title} missing");
        }
        assert!(page.contains("TYPE:[INODE]"));
        assert!(page.contains("/var/lib/nsview/journal.jsonl"));
    }

    #[test]
    fn every_target_argument_completes() {
        let cmd = command_with_completers();
        let mut checked = 0;
        for sub in cmd.get_subcommands().filter(|sub| !sub.is_hide_set()) {
            for arg in sub.get_arguments().filter(|a| a.get_id() == "target") {
                assert!(
                    arg.get::<ArgValueCompleter>().is_some(),
                    "{}'s TARGET has no completer",
                    sub.get_name()
                );
                checked += 1;
            }
        }
        // show, enter, set, freeze, thaw, move, devices.
        assert_eq!(checked, 7);
    }
}
