//! The change commands' arguments (clap).

use super::help;
use clap::{Subcommand, ValueEnum};

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
        /// Show what would be written (old -> new) and write nothing.
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
    /// Freeze every process of a cgroup (v1 freezer.state, v2 cgroup.freeze).
    Freeze {
        #[arg(add = crate::cli::shell::target_completer())]
        target: String,
        #[arg(long)]
        json: bool,
    },
    /// Thaw a frozen cgroup.
    Thaw {
        #[arg(add = crate::cli::shell::target_completer())]
        target: String,
        #[arg(long)]
        json: bool,
    },
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
    /// Revert the newest change in the journal not yet undone.
    Undo {
        /// Restore even if a file changed since nsview wrote it.
        #[arg(long)]
        force: bool,
        #[arg(long)]
        json: bool,
    },
    /// List the changes nsview made (the journal undo reads).
    Journal {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RuleAction {
    Allow,
    Deny,
}
