//! The change commands' arguments (clap).

use super::help;
use clap::{Args, Subcommand, ValueEnum};

/// Write commands (flattened into the top-level command list).
#[derive(Debug, Subcommand)]
pub enum ChangeCommand {
    /// Change limits of a cgroup, all or nothing (cpu.shares/weight, CPU quota, cpuset, memory,
    /// swap, pids).
    #[command(after_help = help::SET_HELP)]
    Set {
        /// PID (its cgroups), cgroup path (that path in every hierarchy that has it) or container.
        #[arg(add = crate::cli::shell::target_completer())]
        target: String,
        /// KEY=VALUE pairs, e.g. memory.max=256m cpu.shares=2048.
        #[arg(required = true, value_name = "KEY=VALUE")]
        assignments: Vec<String>,
        /// Show every file that would change (old -> new), after every check the write makes
        /// (Docker's included), and write nothing.
        #[arg(long)]
        dry_run: bool,
        /// For a Docker container: write the cgroup files instead of asking Docker's API (Docker's
        /// record, docker inspect, then keeps the old values).
        #[arg(long)]
        direct: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Freeze every process of a cgroup (v1 freezer.state, v2 cgroup.freeze); a Docker or
    /// podman container through its runtime's API (pause), so that the runtime agrees.
    Freeze(FreezeArgs),
    /// Thaw a frozen cgroup; a Docker or podman container through its runtime's API (unpause).
    Thaw(FreezeArgs),
    /// Move a process into another cgroup (cgroup.procs), in every hierarchy that has the target
    /// or in one.
    #[command(after_help = help::MOVE_HELP)]
    Move {
        /// The process to move.
        pid: i32,
        /// Destination: cgroup path, PID or container.
        #[arg(add = crate::cli::shell::target_completer())]
        target: String,
        /// Only this hierarchy (its key, e.g. memory, cpu,cpuacct, unified, or one controller).
        #[arg(long, value_name = "KEY")]
        hierarchy: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Show a cgroup's device rules decoded (v1 devices.list), or add an allow or deny rule.
    #[command(after_help = help::DEVICES_HELP)]
    Devices {
        #[arg(add = crate::cli::shell::target_completer())]
        target: String,
        /// allow or deny (without it: show the rules).
        #[arg(value_enum)]
        action: Option<RuleAction>,
        /// The rule, as one argument or several words.
        rule: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// Revert the newest change in the journal still done, or the entry given.
    #[command(after_help = help::UNDO_HELP)]
    Undo {
        /// The entry to revert, by its number in `nsview journal` (default: the newest still
        /// done).
        #[arg(value_name = "ENTRY")]
        entry: Option<u64>,
        /// Skip what vanished since (a removed cgroup or container, an exited process) and
        /// restore files that changed since nsview wrote them; an entry of which nothing is left
        /// is marked skipped.
        #[arg(long)]
        force: bool,
        /// Print JSON: {"action", "undone", "state", "changes", "skipped", "notes",
        /// "journal_id"}.
        #[arg(long)]
        json: bool,
    },
    /// List the changes nsview made (the journal undo reads), each with its state: done, undone
    /// or skipped.
    Journal {
        /// Print JSON: {"path", "entries": [{"id", "time", "user", "uid", "action", "target",
        /// "changes", "state", "undone_by", ...}]}.
        #[arg(long)]
        json: bool,
    },
}

/// The arguments of `freeze` and `thaw`.
#[derive(Debug, Args)]
pub struct FreezeArgs {
    #[arg(add = crate::cli::shell::target_completer())]
    pub target: String,
    /// For a Docker or podman container: write the freezer file instead of asking the runtime's
    /// API (the runtime's state, `docker ps`, then disagrees with the kernel).
    #[arg(long)]
    pub direct: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RuleAction {
    Allow,
    Deny,
}
