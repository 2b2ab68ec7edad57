//! The command line: parsing (clap), dispatch, and printing the model as text or JSON.

/// `writeln!` for text that quotes the system's names: the line goes through
/// [`printable`](crate::model::format::printable), so that a control character in a value
/// (a hostname, a cgroup name) is shown escaped and cannot act on the terminal.
macro_rules! say {
    ($out:expr, $($arg:tt)*) => {
        $crate::cli::text::line($out, format_args!($($arg)*))
    };
}

mod change;
mod from;
mod json;
mod record;
mod shell;
mod text;

use crate::collect::{CollectOptions, Collector};
use crate::model::NsType;
use crate::model::format::printable;
use crate::sys::Roots;
use clap::{Parser, Subcommand, ValueEnum};
use from::Source;
use std::io::Write;
use std::path::PathBuf;

pub use crate::model::target::{Target, resolve};
pub use shell::{command_with_completers, complete_from_env};

/// nsview: which processes share which namespaces, and which cgroups, limits and usage apply,
/// read straight from the kernel.
#[derive(Debug, Parser)]
#[command(
    name = "nsview",
    version,
    about,
    after_help = "Without a command, nsview opens the interactive view (keys: ? for help, q to quit)."
)]
pub struct Cli {
    /// Read a fixture tree laid out like a host (DIR/proc, DIR/sys/fs/cgroup, DIR/dev) instead of
    /// the live kernel. For tests.
    #[arg(long, global = true, hide = true, value_name = "DIR")]
    pub root: Option<PathBuf>,

    /// The state directory holding the journal (instead of /var/lib/nsview as root,
    /// $XDG_STATE_HOME/nsview otherwise). For tests: no environment variable moves root's journal.
    #[arg(long, global = true, hide = true, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,

    /// Refresh interval of the interactive view: seconds or a duration (2, 0.5, 500ms, 2s; 0.2 s
    /// to 60 s).
    #[arg(short = 'd', long = "delay", value_name = "DURATION", value_parser = parse_delay)]
    pub delay: Option<std::time::Duration>,

    /// Turn every write off (the interactive view shows READ-ONLY; set, freeze, thaw, move,
    /// devices and undo refuse).
    #[arg(long, global = true)]
    pub read_only: bool,

    /// Do not capture the mouse (leaves text selection to the terminal).
    #[arg(long, global = true)]
    pub no_mouse: bool,

    /// Config file (default: $XDG_CONFIG_HOME/nsview/config.toml).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// How commands read processes: `auto` (the BPF task iterator as root on hosts with many
    /// tasks, /proc otherwise), `proc` (/proc only) or `iter` (the iterator whenever it can be
    /// used). For tests and benchmarks.
    #[arg(long, global = true, hide = true, value_enum, default_value_t = SourceArg::Auto)]
    pub process_source: SourceArg,

    #[command(subcommand)]
    pub command: Option<Command>,
}

fn parse_delay(s: &str) -> Result<std::time::Duration, String> {
    use crate::app::config::{IntervalError, parse_interval};
    parse_interval(s).map_err(|e| match e {
        IntervalError::NotADuration => {
            format!("'{s}' is not a number of seconds or a duration such as 500ms or 2s")
        }
        IntervalError::OutOfRange => {
            format!("the delay must be between 0.2 and 60 seconds, got {s}")
        }
    })
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List namespaces of every type, including those held only by a bind mount (lsns, complete).
    List {
        /// Only namespaces of this type.
        #[arg(long = "type", short = 't', value_enum)]
        ns_type: Option<NsTypeArg>,
        /// Print JSON ({"namespaces": [...]}).
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        from: from::FromArgs,
    },
    /// List processes with their namespaces, PID inside, cgroups and isolation group.
    Ps {
        /// Print JSON ({"processes": [...]}).
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        from: from::FromArgs,
    },
    /// Show the cgroup mode, hierarchies, and every cgroup with its limits and usage.
    Cgroups {
        /// Indent cgroups by depth and show only the main limits.
        #[arg(long)]
        tree: bool,
        /// Print JSON ({"mode", "hierarchies", "cgroups"}).
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        from: from::FromArgs,
    },
    /// List containers (recognised from their cgroups, named by their runtimes) and the isolation
    /// groups no runtime owns.
    Containers {
        /// Print JSON ({"containers": [...]}).
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        from: from::FromArgs,
    },
    /// Show one process, namespace, cgroup or container in full.
    #[command(
        after_help = "TARGET is a PID; a namespace as an inode, TYPE:[INODE] (net:[4026532385]) \
or a bind-mount path (/run/netns/NAME); a cgroup path (/docker/<id>), looked up in every hierarchy; \
or a container's name or id prefix."
    )]
    Show {
        /// PID, namespace (inode, TYPE:[INODE], bind-mount path), cgroup path or container.
        #[arg(add = crate::cli::shell::target_completer())]
        target: String,
        /// Print JSON ({"kind": "process"|"namespace"|"cgroup"|"container", ...}).
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        from: from::FromArgs,
    },
    /// Run a command (default: the target's login shell) inside a target's namespaces and cgroups.
    #[command(after_help = ENTER_HELP)]
    Enter(EnterArgs),
    /// Record the host's isolation state (containers, namespaces, cgroups with limits, usage and
    /// device rules, processes) every interval into a file that the read commands' --from and
    /// `nsview replay` read back.
    Record(record::RecordArgs),
    /// Open a recording (of `nsview record`) in the interactive view: every view and the detail
    /// pane as they were, a time bar with the recording's events, keys to move through time
    /// (, . a frame, { } a minute, < > an event, T a time; ? lists them). Nothing can be changed.
    Replay(ReplayArgs),
    #[command(flatten)]
    Change(change::ChangeCommand),
    #[command(flatten)]
    Shell(shell::ShellCommand),
    /// The single-threaded helper of `enter` (started by nsview itself).
    #[command(name = "__enter", hide = true)]
    EnterHelper(crate::effects::enter::HelperArgs),
    /// One full collection (namespaces, processes, cgroups), for benchmarks; prints a summary.
    #[command(name = "__collect", hide = true)]
    Collect {
        /// Number of collections to run with one collector (the first is cold, later ones warm).
        #[arg(long, default_value_t = 1)]
        repeat: u32,
        /// Print how long each phase took, and how processes were read.
        #[arg(long)]
        phases: bool,
        /// Collect what this command collects (default: everything, as the interactive view).
        #[arg(long = "for", value_enum, value_name = "COMMAND")]
        for_command: Option<CollectFor>,
        /// With --for: as the command with --json.
        #[arg(long, requires = "for_command")]
        json: bool,
        /// With --for list: as `list --type TYPE`.
        #[arg(long = "type", value_enum, requires = "for_command")]
        ns_type: Option<NsTypeArg>,
    },
}

/// The report commands whose collection `__collect --for` repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CollectFor {
    List,
    Ps,
    Cgroups,
    Containers,
    Show,
}

impl CollectFor {
    /// The report command `command` is, if it is one.
    fn of(command: &Command) -> Option<CollectFor> {
        Some(match command {
            Command::List { .. } => CollectFor::List,
            Command::Ps { .. } => CollectFor::Ps,
            Command::Cgroups { .. } => CollectFor::Cgroups,
            Command::Containers { .. } => CollectFor::Containers,
            Command::Show { .. } => CollectFor::Show,
            _ => return None,
        })
    }

    /// What the command collects: only what it prints (see [`CGROUPS_ONLY`], [`list_options`]).
    fn options(self, json: bool, ns_type: Option<NsType>) -> CollectOptions {
        match self {
            CollectFor::List => list_options(ns_type, json),
            CollectFor::Ps => CollectOptions::PROCESSES,
            CollectFor::Cgroups | CollectFor::Containers => CGROUPS_ONLY,
            CollectFor::Show => CollectOptions::ALL,
        }
    }

    /// Whether the command prints isolation groups or containers (`ps` names each process's).
    fn shows_containers(self) -> bool {
        !matches!(self, CollectFor::List | CollectFor::Cgroups)
    }

    /// Whether the command names containers from runtimes' records.
    fn reads_runtime_records(self) -> bool {
        matches!(
            self,
            CollectFor::Ps | CollectFor::Containers | CollectFor::Show
        )
    }
}

/// `--process-source`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SourceArg {
    Auto,
    Proc,
    Iter,
}

impl From<SourceArg> for crate::collect::ProcessSource {
    fn from(s: SourceArg) -> Self {
        match s {
            SourceArg::Auto => crate::collect::ProcessSource::Auto,
            SourceArg::Proc => crate::collect::ProcessSource::Proc,
            SourceArg::Iter => crate::collect::ProcessSource::TaskIter,
        }
    }
}

const ENTER_HELP: &str = "\
TARGET is a PID; a namespace as an inode, TYPE:[INODE] or a bind-mount path (/run/netns/NAME); a \
cgroup path or a container's name or id prefix (entered through its init process).

The command runs in the target's namespaces (default: every type in which the target differs from \
the host; for a namespace TARGET, that namespace), in its cgroups (every v1 hierarchy and the \
unified one), chrooted to its root and in its working directory when mnt is joined, with a minimal \
environment (TERM, PATH from the target, HOME) and only file descriptors 0, 1 and 2 open.

It runs with the target's credentials: uid, gid, groups, capability sets, no_new_privs and seccomp \
filter (as docker exec); --user UID[:GID] picks another user within the same bounds; --privileged \
keeps root with every capability and no seccomp (as nsenter). Without mnt the command is looked up \
only in /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin, and --env-from-target drops \
PATH, LD_* and the other variables that would make the host run the target's code.

The exit status is the command's (128+N when killed by signal N); 127 when the command does not \
exist in the target, 126 when it cannot be executed, 1 when entering fails. An image without a shell \
can be entered without its mount namespace: `--ns net,pid,uts,ipc` runs the host's command in the \
other namespaces.

Example: nsview enter 7146 --ns mnt -- cat /etc/os-release";

/// `nsview enter` options.
#[derive(Debug, clap::Args)]
pub struct EnterArgs {
    /// PID, namespace (inode, TYPE:[INODE], bind-mount path), cgroup path or container.
    #[arg(add = crate::cli::shell::target_completer())]
    pub target: String,
    /// Namespace types to join, comma-separated (default: where the target differs from the host).
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        value_name = "TYPES",
        conflicts_with = "all"
    )]
    pub ns: Vec<NsTypeArg>,
    /// Join every namespace type the target has.
    #[arg(long)]
    pub all: bool,
    /// Do not join the target's cgroups.
    #[arg(long)]
    pub no_cgroup: bool,
    /// Working directory for the command (inside the target's root when mnt is joined).
    #[arg(long, value_name = "DIR")]
    pub wd: Option<PathBuf>,
    /// Run as this user (numeric UID[:GID], as `docker exec -u`), keeping the target's
    /// capability bounds, no_new_privs and seccomp filter.
    #[arg(long, value_name = "UID[:GID]", value_parser = parse_user, conflicts_with = "privileged")]
    pub user: Option<crate::effects::enter::Credentials>,
    /// Run as root with every capability and no seccomp filter (what nsenter does), instead of
    /// the target's credentials.
    #[arg(long)]
    pub privileged: bool,
    /// Copy the target's whole environment instead of TERM, PATH and HOME.
    #[arg(long)]
    pub env_from_target: bool,
    /// The command and its arguments (default: the target's login shell).
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "CMD"
    )]
    pub command: Vec<String>,
}

impl EnterArgs {
    fn options(&self) -> crate::effects::enter::EnterOptions {
        crate::effects::enter::EnterOptions {
            types: (!self.ns.is_empty())
                .then(|| self.ns.iter().map(|t| NsType::from(*t)).collect()),
            all: self.all,
            join_cgroups: !self.no_cgroup,
            wd: self.wd.clone(),
            creds: if self.privileged {
                crate::effects::enter::Credentials::Privileged
            } else {
                self.user.unwrap_or_default()
            },
            env_from_target: self.env_from_target,
            command: self.command.clone(),
        }
    }
}

/// `--user UID[:GID]`.
fn parse_user(s: &str) -> Result<crate::effects::enter::Credentials, String> {
    crate::effects::enter::Credentials::parse_user(s)
        .ok_or_else(|| format!("expected a numeric UID[:GID], got {s:?}"))
}

/// `nsview enter`: plan, run, and exit with the command's status (never returns).
fn enter(collector: &mut Collector, live: bool, args: &EnterArgs) -> anyhow::Result<()> {
    use crate::effects::enter::{self, EnterSpec};
    if !live {
        anyhow::bail!("enter works only on the live kernel (not with --root)");
    }
    let snap = collector.collect(CollectOptions {
        relations: false,
        uts: false,
        net: false,
        cgroups: true,
        command_lines: true,
    })?;
    let found = resolve(&snap, &args.target)?;
    let result = EnterSpec::for_target(&snap, &found, args.options()).and_then(|spec| {
        discard(snap);
        enter::run_inside(&spec)
    });
    let code = match result {
        Ok(status) => enter::exit_code(&status),
        Err(e) => {
            eprintln!("nsview: {}", printable(&e.to_string()));
            e.exit_code()
        }
    };
    std::process::exit(code)
}

/// Namespace type as written on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NsTypeArg {
    Mnt,
    Uts,
    Ipc,
    Pid,
    Net,
    User,
    Cgroup,
    Time,
}

impl From<NsTypeArg> for NsType {
    fn from(a: NsTypeArg) -> NsType {
        match a {
            NsTypeArg::Mnt => NsType::Mnt,
            NsTypeArg::Uts => NsType::Uts,
            NsTypeArg::Ipc => NsType::Ipc,
            NsTypeArg::Pid => NsType::Pid,
            NsTypeArg::Net => NsType::Net,
            NsTypeArg::User => NsType::User,
            NsTypeArg::Cgroup => NsType::Cgroup,
            NsTypeArg::Time => NsType::Time,
        }
    }
}

/// Carry out a parsed command line: the interactive view without a command, a change, or a
/// report printed as text or JSON. Errors are printed by the caller as one line.
pub fn dispatch(mut cli: Cli) -> anyhow::Result<()> {
    let roots = match &cli.root {
        Some(dir) => Roots::under(dir),
        None => Roots::default(),
    };
    if let Some(dir) = cli.state_dir.take() {
        crate::effects::journal::use_state_dir(dir);
    }
    match cli.command.take() {
        // The helper must stay single-threaded: nothing else runs before it.
        Some(Command::EnterHelper(args)) => {
            std::process::exit(crate::effects::enter::helper_main(args))
        }
        None => live_view(&cli, roots),
        Some(Command::Change(cmd)) => {
            let config = crate::app::config::load(cli.config.as_deref())?;
            let mut out = buffered_stdout();
            let read_only = cli.read_only || config.read_only;
            change::execute(cmd, roots, read_only, cli.process_source.into(), &mut out)?;
            out.flush()?;
            Ok(())
        }
        Some(Command::Record(args)) => record::record(args, roots),
        Some(Command::Replay(args)) => replay(&cli, args),
        Some(Command::Shell(cmd)) => {
            let mut out = buffered_stdout();
            shell::execute(cmd, &mut out)?;
            Ok(out.flush()?)
        }
        Some(command) => report(command, roots, cli.process_source),
    }
}

/// The interactive view, with the config file's settings under the command line's.
fn live_view(cli: &Cli, roots: Roots) -> anyhow::Result<()> {
    let config = crate::app::config::load(cli.config.as_deref())?;
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    crate::tui::run_live_view(crate::tui::Options {
        roots,
        interval: cli.delay.unwrap_or(config.interval),
        read_only: cli.read_only || config.read_only,
        mouse: config.mouse && !cli.no_mouse,
        theme: crate::ui::Theme::from_config(&config.colors, no_color),
        keymap: config.keymap,
    })
}

/// `nsview replay PATH [--at TIME]`.
#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    /// The recording: a file, or a directory of recordings (as `nsview record` writes them).
    #[arg(value_name = "PATH")]
    pub path: PathBuf,
    /// Start at this time: RFC 3339, a time of day within the recording (03:12:00), or an
    /// offset from its end (-10m) or start (+5m); default: the last frame.
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    pub at: Option<String>,
}

/// The interactive view on a recording, with the config file's keys and colours.
fn replay(cli: &Cli, args: ReplayArgs) -> anyhow::Result<()> {
    let config = crate::app::config::load(cli.config.as_deref())?;
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    crate::tui::run_replay(crate::tui::ReplayOptions {
        path: args.path,
        at: args.at,
        mouse: config.mouse && !cli.no_mouse,
        theme: crate::ui::Theme::from_config(&config.colors, no_color),
        keymap: config.keymap,
    })
}

/// What a report command collects: each reads only what it prints. `ps` needs no relations,
/// hostnames or interfaces, `cgroups` and `containers` no namespace details either (their
/// namespaces are inodes); `show` prints any of it.
const CGROUPS_ONLY: CollectOptions = CollectOptions {
    cgroups: true,
    ..CollectOptions::PROCESSES
};

/// `list`: hostnames (uts) and interface names (net) in the NAME column and in JSON, owners and
/// parents in JSON only; only for the type asked for; no cgroups.
fn list_options(ns_type: Option<NsType>, json: bool) -> CollectOptions {
    let shown = |t: NsType| ns_type.is_none_or(|only| only == t);
    CollectOptions {
        relations: json,
        uts: shown(NsType::Uts),
        net: shown(NsType::Net),
        cgroups: false,
        command_lines: false,
    }
}

impl Command {
    /// The recording a read command is given with `--from`, and its `--at`.
    fn recording(&self) -> Option<(&std::path::Path, Option<&str>)> {
        let args = match self {
            Command::List { from, .. }
            | Command::Ps { from, .. }
            | Command::Cgroups { from, .. }
            | Command::Containers { from, .. }
            | Command::Show { from, .. } => from,
            _ => return None,
        };
        Some((args.from.as_deref()?, args.at.as_deref()))
    }
}

/// The commands that read the host (or a recording, with `--from`) and print what they found
/// (and `enter`, which reads the host first).
fn report(command: Command, roots: Roots, source: SourceArg) -> anyhow::Result<()> {
    let mut users = text::Users::new(roots.is_live());
    if let Some((path, at)) = command.recording() {
        let snap = from::recorded_snapshot(path, at)?;
        return print_report(
            command,
            &mut Source::Recorded(Some(Box::new(snap))),
            &mut users,
        );
    }
    let mut collector = Collector::new(roots).with_process_source(source.into());
    // Runtimes' records name containers: only for the commands that show them.
    let collects_for = match &command {
        Command::Collect { for_command, .. } => *for_command,
        other => CollectFor::of(other),
    };
    collector.read_runtime_records(
        matches!(command, Command::Enter(_))
            || collects_for.is_some_and(CollectFor::reads_runtime_records),
    );
    collector.recognise_containers(collects_for.is_none_or(CollectFor::shows_containers));
    match command {
        Command::Enter(args) => {
            let live = collector.roots().is_live();
            enter(&mut collector, live, &args)
        }
        Command::Collect {
            repeat,
            phases,
            for_command,
            json,
            ns_type,
        } => {
            let opts = for_command.map_or(CollectOptions::ALL, |c| {
                c.options(json, ns_type.map(NsType::from))
            });
            let mut out = buffered_stdout();
            time_passes(&mut collector, repeat, phases, opts, &mut out)?;
            Ok(out.flush()?)
        }
        other => print_report(other, &mut Source::Live(&mut collector), &mut users),
    }
}

/// `list`, `ps`, `cgroups`, `containers` and `show`: the snapshot from `source`, printed as
/// text or JSON.
fn print_report(
    command: Command,
    source: &mut Source<'_>,
    users: &mut text::Users,
) -> anyhow::Result<()> {
    let mut out = buffered_stdout();
    match command {
        Command::List { ns_type, json, .. } => {
            list_namespaces(source, ns_type, json, &mut out, users)?
        }
        Command::Ps { json, .. } => list_processes(source, json, &mut out, users)?,
        Command::Cgroups { tree, json, .. } => {
            let snap = source.snapshot(CollectFor::Cgroups.options(json, None))?;
            warn(&snap.warnings);
            if json {
                print_json(&mut out, &json::cgroups(&snap))?;
            } else {
                text::cgroups(&mut out, &snap, tree)?;
            }
            discard(snap);
        }
        Command::Containers { json, .. } => {
            let snap = source.snapshot(CollectFor::Containers.options(json, None))?;
            warn(&snap.warnings);
            if json {
                print_json(&mut out, &json::containers(&snap))?;
            } else {
                text::containers(&mut out, &snap)?;
            }
            discard(snap);
        }
        Command::Show { target, json, .. } => {
            let snap = source.snapshot(CollectFor::Show.options(json, None))?;
            let found = resolve(&snap, &target)?;
            warn(&snap.warnings);
            if json {
                print_json(&mut out, &json::show(&snap, &found))?;
            } else {
                text::show(&mut out, &snap, &found)?;
            }
            discard(snap);
        }
        // Dispatched before: they print no snapshot.
        Command::Enter(_)
        | Command::Collect { .. }
        | Command::EnterHelper(_)
        | Command::Change(_)
        | Command::Shell(_)
        | Command::Record(_)
        | Command::Replay(_) => {}
    }
    out.flush()?;
    Ok(())
}

/// `list`: the namespaces (of one type), as text or JSON.
fn list_namespaces(
    source: &mut Source<'_>,
    ns_type: Option<NsTypeArg>,
    json: bool,
    out: &mut impl Write,
    users: &mut text::Users,
) -> anyhow::Result<()> {
    let snap = source.snapshot(list_options(ns_type.map(NsType::from), json))?;
    warn(&snap.warnings);
    let filter = ns_type.map(NsType::from);
    let nss: Vec<_> = snap
        .namespaces
        .values()
        .filter(|ns| filter.is_none_or(|t| ns.ns_type == t))
        .collect();
    if json {
        print_json(out, &json::namespaces(&snap, &nss))?;
    } else {
        text::namespaces(out, &snap, &nss, users)?;
    }
    discard(snap);
    Ok(())
}

/// `ps`: every process, as text or JSON.
fn list_processes(
    source: &mut Source<'_>,
    json: bool,
    out: &mut impl Write,
    users: &mut text::Users,
) -> anyhow::Result<()> {
    let snap = source.snapshot(CollectOptions::PROCESSES)?;
    warn(&snap.warnings);
    if json {
        print_json(out, &json::processes(&snap))?;
    } else {
        text::processes(out, &snap, users)?;
    }
    discard(snap);
    Ok(())
}

/// `__collect`: time `repeat` full passes collecting `opts` (and their phases).
fn time_passes(
    collector: &mut Collector,
    repeat: u32,
    phases: bool,
    opts: CollectOptions,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    for i in 0..repeat.max(1) {
        let start = std::time::Instant::now();
        let snap = collector.collect(opts)?;
        writeln!(
            out,
            "collection {}: {} processes, {} namespaces, {} cgroups, {} groups in {:.1} ms",
            i + 1,
            snap.processes.len(),
            snap.namespaces.len(),
            snap.cgroups.len(),
            snap.groups.len(),
            start.elapsed().as_secs_f64() * 1000.0
        )?;
        if phases {
            writeln!(out, "  collected: {opts}")?;
            writeln!(out, "  processes read with {}", collector.process_source())?;
            for (name, d) in collector.phases() {
                writeln!(out, "  {name:<24} {:>8.1} ms", d.as_secs_f64() * 1000.0)?;
            }
            for note in collector.phase_notes() {
                writeln!(out, "    {note}")?;
            }
        }
        if i + 1 == repeat.max(1) {
            discard(snap);
        }
    }
    Ok(())
}

/// The process exits right after printing: freeing thousands of small allocations one by one
/// would only delay the exit (a sixth of a pass on a host with 4,500 processes).
fn discard(snap: crate::model::Snapshot) {
    std::mem::forget(snap);
}

/// Standard output for a command's report: one write per 64 KiB, not one per line (4,500
/// processes were 170,000 write calls). Through a duplicate of descriptor 1, not `Stdout`, whose
/// own line buffer would split every block at its last newline into two writes. Flushed by the
/// caller at the end, so that an error there (a closed pipe) is seen; what is still buffered when
/// an error ends the command early is written when it is dropped.
fn buffered_stdout() -> std::io::BufWriter<Box<dyn Write>> {
    use std::os::fd::AsFd;
    let raw: Box<dyn Write> = match std::io::stdout().as_fd().try_clone_to_owned() {
        Ok(fd) => Box::new(std::fs::File::from(fd)),
        // No descriptor to spare: Stdout, line by line, still works.
        Err(_) => Box::new(std::io::stdout()),
    };
    std::io::BufWriter::with_capacity(64 * 1024, raw)
}

/// The collector's warnings name paths and processes the system chose: printed escaped, all in
/// one write to standard error.
fn warn(warnings: &[String]) {
    if warnings.is_empty() {
        return;
    }
    let mut text = String::new();
    for w in warnings {
        text.push_str("nsview: warning: ");
        text.push_str(&printable(w));
        text.push('\n');
    }
    // Standard error closed: nothing left to tell.
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

fn print_json(out: &mut impl Write, v: &impl serde::Serialize) -> anyhow::Result<()> {
    Ok(json::write_pretty(out, v)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_command_collects_what_it_prints() {
        let none = CollectOptions::PROCESSES;
        // list: NAME shows hostnames and interfaces; owners and parents only in JSON.
        let list = CollectFor::List.options(false, None);
        assert_eq!(
            (list.relations, list.uts, list.net, list.cgroups),
            (false, true, true, false)
        );
        let list_json = CollectFor::List.options(true, None);
        assert!(list_json.relations && list_json.uts && list_json.net && !list_json.cgroups);
        let only_net = CollectFor::List.options(true, Some(NsType::Net));
        assert!(only_net.relations && !only_net.uts && only_net.net);
        // list prints the command of each namespace's lowest PID only.
        assert!(!list.command_lines && !list_json.command_lines);
        let only_pid = CollectFor::List.options(false, Some(NsType::Pid));
        assert_eq!(
            only_pid,
            CollectOptions {
                command_lines: false,
                ..none
            }
        );
        for json in [false, true] {
            assert_eq!(CollectFor::Ps.options(json, None), none);
            for c in [CollectFor::Cgroups, CollectFor::Containers] {
                assert_eq!(
                    c.options(json, None),
                    CollectOptions {
                        cgroups: true,
                        ..none
                    }
                );
            }
            assert_eq!(CollectFor::Show.options(json, None), CollectOptions::ALL);
        }
    }

    #[test]
    fn containers_only_where_they_are_printed() {
        assert!(CollectFor::Ps.shows_containers());
        assert!(CollectFor::Containers.shows_containers());
        assert!(CollectFor::Show.shows_containers());
        assert!(!CollectFor::List.shows_containers());
        assert!(!CollectFor::Cgroups.shows_containers());
    }

    #[test]
    fn runtime_records_only_where_containers_are_named() {
        assert!(CollectFor::Ps.reads_runtime_records());
        assert!(CollectFor::Containers.reads_runtime_records());
        assert!(CollectFor::Show.reads_runtime_records());
        assert!(!CollectFor::List.reads_runtime_records());
        assert!(!CollectFor::Cgroups.reads_runtime_records());
    }
}
