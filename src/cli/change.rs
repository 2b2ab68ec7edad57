//! The commands that change cgroups: set, freeze, thaw, move, devices, undo, journal. They
//! resolve the TARGET against a fresh snapshot, hand the work to [`crate::effects::cgroup`], and
//! print what the kernel says afterwards.

use crate::collect::{CollectOptions, Collector};
use crate::effects::cgroup::{self, CgroupError, CgroupWriter, Location, Written};
use crate::effects::docker::DockerTarget;
use crate::effects::journal::{self, Change, Entry, Journal};
use crate::model::Snapshot;
use crate::model::target::{Target, resolve};
use crate::policy::devices::DeviceRuleSpec;
use crate::policy::limits;
use crate::sys::Roots;
use crate::sys::parse;
use clap::{Subcommand, ValueEnum};
use serde_json::json;
use std::io::Write;

/// Write commands (flattened into the top-level command list).
#[derive(Debug, Subcommand)]
pub enum ChangeCommand {
    /// Change limits of a cgroup, all or nothing (cpu.shares/weight, CPU quota, cpuset, memory,
    /// swap, pids).
    #[command(after_help = SET_HELP)]
    Set {
        /// PID (its cgroups), cgroup path (that path in every hierarchy that has it) or container.
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
        target: String,
        #[arg(long)]
        json: bool,
    },
    /// Thaw a frozen cgroup.
    Thaw {
        target: String,
        #[arg(long)]
        json: bool,
    },
    /// Move a process into another cgroup (cgroup.procs), in every hierarchy that has the target
    /// or in one.
    #[command(
        after_help = "TARGET is a cgroup path (moved into that path in every hierarchy that has it), \
a PID (moved next to that process, in each of its hierarchies) or a container."
    )]
    Move {
        /// The process to move.
        pid: i32,
        /// Destination: cgroup path, PID or container.
        target: String,
        /// Only this hierarchy (its key, e.g. memory, cpu,cpuacct, unified, or one controller).
        #[arg(long, value_name = "KEY")]
        hierarchy: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Show a cgroup's device rules decoded (v1 devices.list), or add an allow or deny rule.
    #[command(
        after_help = "RULE as devices.allow takes it: 'a' (all), or 'TYPE MAJOR:MINOR ACCESS' with TYPE \
a, b or c, * for any number, ACCESS from rwm. Examples:\n  nsview devices /docker/ID deny c 1:3 rwm\n  \
nsview devices 7146 allow 'c 136:* rw'\nOn cgroup v2 device rules are eBPF programs; nsview lists the attached ones."
    )]
    Devices {
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

const SET_HELP: &str = "\
KEY is a kernel file name of either cgroup version; a v2 name on a v1 cgroup maps to its v1 file \
and the other way round (the output says so):
  cpu.shares (v1, 2..262144) / cpu.weight (v2, 1..10000); converted with runc's curve (1024 = 100)
  cpu.max (v2) / cpu.cfs_quota_us + cpu.cfs_period_us (v1): CPUs (1.5), 'QUOTA PERIOD' in us, or max
  cpuset.cpus, cpuset.mems: lists like 0-2,4, within the parent's
  memory.limit_in_bytes (v1) / memory.max (v2), memory.high (v2), memory.soft_limit_in_bytes (v1):
    sizes like 512k 128m 1.5g (base 1024) or bytes, max / unlimited / -1
  memory.memsw.limit_in_bytes (v1, memory + swap) / memory.swap.max (v2, swap alone)
  pids.max: a number or max
Several keys are applied all or nothing: if one write fails, the ones made are rolled back.
Every change is journaled (nsview journal) and can be undone (nsview undo).

Example (what docker run --cpu-shares 2048 --memory 128m does):
  nsview set /docker/4653218b cpu.shares=2048 memory.limit_in_bytes=128m";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RuleAction {
    Allow,
    Deny,
}

/// Run a write command. `read_only` comes from --read-only or the config.
pub fn run(
    cmd: ChangeCommand,
    roots: Roots,
    read_only: bool,
    source: crate::collect::ProcessSource,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let writer = CgroupWriter {
        read_only,
        journal: Journal::default_location()?,
    };
    if let ChangeCommand::Journal { json } = cmd {
        return print_journal(&writer.journal, json, out);
    }
    let mut collector = Collector::new(roots.clone()).with_process_source(source);
    let snap = collector.collect(CollectOptions {
        cgroups: true,
        ..CollectOptions::PROCESSES
    })?;
    match cmd {
        ChangeCommand::Set {
            target,
            assignments,
            dry_run,
            direct,
            json,
        } => {
            let requests = limits::parse_assignments(&assignments).map_err(CgroupError::from)?;
            let locs = locations(&snap, &roots, &target)?;
            let docker = docker_of(&snap, &roots, &target);
            let mut outcome = match &docker {
                Some(d) if !direct => {
                    writer.set_docker(d, &target, &locs, &requests, dry_run, None)?
                }
                _ => writer.set(&target, &locs, &requests, dry_run)?,
            };
            if docker.is_some() && direct {
                outcome.notes.push(
                    "written to the cgroup files directly (--direct): Docker's record (docker \
                     inspect, restarts) still has the old values"
                        .into(),
                );
            }
            if json {
                print(
                    out,
                    &json!({
                        "action": "set",
                        "target": target,
                        "dry_run": dry_run,
                        "changes": outcome.written.iter().map(written_json).collect::<Vec<_>>(),
                        "unchanged": outcome.unchanged.iter().map(written_json).collect::<Vec<_>>(),
                        "journal_id": outcome.entry.as_ref().map(|e| e.id),
                        "notes": outcome.notes,
                    }),
                )?;
            } else {
                let verb = if dry_run { "would set" } else { "set" };
                writeln!(out, "{verb} {target}:")?;
                for w in &outcome.written {
                    writeln!(out, "  {}", w.describe())?;
                }
                for w in &outcome.unchanged {
                    let mut line = format!(
                        "  {} {} already {} (unchanged",
                        w.location.label(),
                        w.write.file,
                        limits::annotate(&w.write.file, &w.old)
                    );
                    if !w.write.asked.starts_with(&format!("{}=", w.write.file)) {
                        line.push_str(&format!("; asked {}", w.write.asked));
                    }
                    for n in &w.write.notes {
                        line.push_str(&format!("; {n}"));
                    }
                    writeln!(out, "{line})")?;
                }
                for n in &outcome.notes {
                    writeln!(out, "  note: {n}")?;
                }
                footer(out, outcome.entry.as_ref(), dry_run)?;
            }
        }
        ChangeCommand::Freeze { target, json } => {
            freeze(out, &writer, &snap, &roots, &target, true, json)?
        }
        ChangeCommand::Thaw { target, json } => {
            freeze(out, &writer, &snap, &roots, &target, false, json)?
        }
        ChangeCommand::Move {
            pid,
            target,
            hierarchy,
            json,
        } => {
            let Some(p) = snap.processes.get(&pid) else {
                anyhow::bail!("no process {pid}");
            };
            if p.kernel_thread {
                anyhow::bail!(
                    "{pid} ({}) is a kernel thread: kernel threads stay in the root cgroup",
                    p.comm
                );
            }
            let mut locs = locations(&snap, &roots, &target)?;
            if let Some(h) = &hierarchy {
                locs.retain(|l| {
                    l.hierarchy == *h || l.hierarchy.split(',').any(|c| c == h.as_str())
                });
                if locs.is_empty() {
                    anyhow::bail!("{target} is not in a hierarchy named {h}");
                }
            }
            let outcome = writer.move_process(&roots, &target, pid, &locs)?;
            if json {
                print(
                    out,
                    &json!({
                        "action": "move",
                        "pid": pid,
                        "target": target,
                        "changes": outcome.changes,
                        "unchanged": outcome.unchanged.iter().map(|l| &l.hierarchy).collect::<Vec<_>>(),
                        "journal_id": outcome.entry.as_ref().map(|e| e.id),
                    }),
                )?;
            } else {
                writeln!(out, "moved {pid} ({}):", p.comm)?;
                for l in outcome.describe() {
                    writeln!(out, "  {l}")?;
                }
                footer(out, outcome.entry.as_ref(), false)?;
            }
        }
        ChangeCommand::Devices {
            target,
            action,
            rule,
            json,
        } => {
            let locs = locations(&snap, &roots, &target)?;
            match action {
                None => {
                    if !rule.is_empty() {
                        anyhow::bail!("give allow or deny before the rule");
                    }
                    let c = devices_cgroup(&snap, &locs)?;
                    if json {
                        print(
                            out,
                            &json!({"target": target, "cgroup": c.path, "default": c.devices_default, "devices": c.devices}),
                        )?;
                    } else {
                        print_devices(out, c)?;
                    }
                }
                Some(action) => {
                    let spec = DeviceRuleSpec::parse(&rule.join(" ")).map_err(CgroupError::from)?;
                    let allow = action == RuleAction::Allow;
                    let outcome = writer.device_rule(&target, &locs, allow, &spec)?;
                    if json {
                        print(
                            out,
                            &json!({
                                "action": "devices",
                                "target": target,
                                "rule": format!("{} {spec}", if allow { "allow" } else { "deny" }),
                                "old": outcome.old.lines().collect::<Vec<_>>(),
                                "devices": outcome.now.lines().collect::<Vec<_>>(),
                                "journal_id": outcome.entry.as_ref().map(|e| e.id),
                            }),
                        )?;
                    } else {
                        writeln!(
                            out,
                            "{} {spec} in {}; devices.list now:",
                            if allow { "allowed" } else { "denied" },
                            outcome.location.label()
                        )?;
                        let rules = decode(&roots, &outcome.now);
                        print_rules(out, &rules, "    ")?;
                        footer(out, outcome.entry.as_ref(), false)?;
                    }
                }
            }
        }
        ChangeCommand::Undo { force, json } => {
            let outcome = writer.undo(&roots, &snap.hierarchies, force, None)?;
            if json {
                print(
                    out,
                    &json!({
                        "action": "undo",
                        "undone": outcome.undone.id,
                        "changes": outcome.reverted,
                        "notes": outcome.notes,
                        "journal_id": outcome.entry.as_ref().map(|e| e.id),
                    }),
                )?;
            } else {
                writeln!(
                    out,
                    "undid entry {} ({} {} at {}):",
                    outcome.undone.id,
                    outcome.undone.action.as_str(),
                    outcome.undone.target,
                    outcome.undone.time
                )?;
                for c in &outcome.reverted {
                    writeln!(out, "  {}", change_line(c))?;
                }
                for n in &outcome.notes {
                    writeln!(out, "  note: {n}")?;
                }
            }
        }
        ChangeCommand::Journal { .. } => {}
    }
    Ok(())
}

/// `freeze` / `thaw`: the state reached, and why it may not be the one asked.
fn freeze(
    out: &mut impl Write,
    writer: &CgroupWriter,
    snap: &Snapshot,
    roots: &Roots,
    target: &str,
    freeze: bool,
    json: bool,
) -> anyhow::Result<()> {
    let locs = locations(snap, roots, target)?;
    let outcome = writer.freeze(target, &locs, freeze)?;
    let wanted = if freeze { "FROZEN" } else { "THAWED" };
    if json {
        print(
            out,
            &json!({
                "action": if freeze { "freeze" } else { "thaw" },
                "target": target,
                "hierarchy": outcome.location.hierarchy,
                "cgroup": outcome.location.path,
                "file": outcome.file,
                "old": outcome.old,
                "state": outcome.state,
                "parent_frozen": outcome.parent_frozen,
                "journal_id": outcome.entry.as_ref().map(|e| e.id),
            }),
        )?;
    } else {
        let mut lines = outcome.describe(freeze).into_iter();
        writeln!(out, "{}", lines.next().unwrap_or_default())?;
        for l in lines {
            writeln!(out, "  {l}")?;
        }
        footer(out, outcome.entry.as_ref(), false)?;
    }
    if outcome.state != wanted {
        anyhow::bail!(
            "{target}: {} is {}, not {wanted}",
            outcome.file,
            outcome.state
        );
    }
    Ok(())
}

/// The Docker container a TARGET names, when it names one Docker knows: by name or id, by its
/// cgroup path (/docker/<id>), or by a process in it (whose cgroups are the container's), so that
/// every way of naming it keeps Docker's record right.
fn docker_of(snap: &Snapshot, roots: &Roots, target: &str) -> Option<DockerTarget> {
    use crate::model::containers::Runtime;
    let c = match resolve(snap, target).ok()? {
        Target::Container(key) => snap.container(&key)?,
        Target::Cgroup(path) => snap
            .containers
            .iter()
            .find(|c| c.cgroup.as_deref() == Some(path.as_str()))?,
        Target::Process(pid) => {
            let c = snap.container_of(pid)?;
            let p = snap.processes.get(&pid)?;
            let same = c
                .cgroups
                .iter()
                .all(|(k, path)| p.cgroups.get(k.as_str()).is_some_and(|q| **q == **path));
            if !same {
                return None;
            }
            c
        }
        Target::Namespace(_) => return None,
    };
    (c.runtime == Some(Runtime::Docker)).then(|| DockerTarget {
        id: c.id.clone().unwrap_or_default(),
        sock: roots.docker_sock(),
    })
}

/// The cgroup locations a TARGET names.
pub fn locations(snap: &Snapshot, roots: &Roots, target: &str) -> anyhow::Result<Vec<Location>> {
    let locs = match resolve(snap, target)? {
        Target::Process(pid) => cgroup::locations_of_process(snap, roots, pid),
        Target::Cgroup(path) => cgroup::locations_of_path(snap, roots, &path),
        Target::Container(key) => {
            let Some(c) = snap.container(&key) else {
                anyhow::bail!("{target}: the container vanished");
            };
            snap.hierarchies
                .iter()
                .filter_map(|h| {
                    c.cgroups
                        .get(&h.key)
                        .map(|path| cgroup::location(roots, h, path))
                })
                .collect()
        }
        Target::Namespace(_) => anyhow::bail!(
            "{target} is a namespace, which has no cgroup: give a PID, a cgroup path or a container"
        ),
    };
    if locs.is_empty() {
        anyhow::bail!("{target}: no cgroup hierarchy has it");
    }
    Ok(locs)
}

fn written_json(w: &Written) -> serde_json::Value {
    json!({
        "hierarchy": w.location.hierarchy,
        "cgroup": w.location.path,
        "file": w.write.file,
        "old": w.old,
        "new": w.now,
        "asked": w.write.asked,
        "notes": w.write.notes,
    })
}

fn footer(out: &mut impl Write, entry: Option<&Entry>, dry_run: bool) -> anyhow::Result<()> {
    if dry_run {
        writeln!(out, "dry run: nothing written")?;
    } else if let Some(e) = entry {
        writeln!(out, "journal entry {} (nsview undo reverts it)", e.id)?;
    } else {
        writeln!(out, "nothing to change")?;
    }
    Ok(())
}

fn change_line(c: &Change) -> String {
    match c.pid {
        Some(pid) => format!("{}: process {pid} {} -> {}", c.hierarchy, c.old, c.new),
        None if c.file.starts_with("devices.") => format!(
            "{}:{} {} ({}): devices.list {} -> {}",
            c.hierarchy,
            c.cgroup,
            c.file,
            c.rule.as_deref().unwrap_or("-"),
            c.old.replace('\n', ", "),
            c.new.replace('\n', ", ")
        ),
        None => format!(
            "{}:{} {}",
            c.hierarchy,
            c.cgroup,
            limits::describe(&c.file, &c.old, &c.new)
        ),
    }
}

fn print(out: &mut impl Write, v: &serde_json::Value) -> anyhow::Result<()> {
    serde_json::to_writer_pretty(&mut *out, v).map_err(std::io::Error::from)?;
    writeln!(out)?;
    Ok(())
}

fn print_journal(j: &Journal, json: bool, out: &mut impl Write) -> anyhow::Result<()> {
    let entries = j.entries()?;
    if json {
        return print(out, &json!({"path": j.path, "entries": entries}));
    }
    if entries.is_empty() {
        writeln!(out, "no changes yet (journal {})", j.path.display())?;
        return Ok(());
    }
    for e in &entries {
        let status = match (e.undo_of, journal::undone_by(&entries, e.id)) {
            (Some(of), _) => format!(" (undo of {of})"),
            (None, Some(by)) => format!(" (undone by {by})"),
            _ => String::new(),
        };
        writeln!(
            out,
            "{:>4}  {}  {}  {} {}{status}",
            e.id,
            e.time,
            e.sudo_user.as_deref().unwrap_or(&e.user),
            e.action.as_str(),
            e.target
        )?;
        for c in &e.changes {
            writeln!(out, "        {}", change_line(c))?;
        }
    }
    Ok(())
}

/// The snapshot's devices cgroup among `locs`.
fn devices_cgroup<'a>(
    snap: &'a Snapshot,
    locs: &[Location],
) -> anyhow::Result<&'a crate::model::Cgroup> {
    locs.iter()
        .filter(|l| l.version == 1)
        .find_map(|l| {
            snap.cgroup(&l.hierarchy, &l.path)
                .filter(|c| c.devices.is_some())
        })
        .ok_or_else(|| {
            anyhow::anyhow!(
                "no v1 devices hierarchy has this cgroup (on cgroup v2 device rules are eBPF \
                 programs: nsview devices TARGET allow|deny lists the attached ones)"
            )
        })
}

fn print_devices(out: &mut impl Write, c: &crate::model::Cgroup) -> anyhow::Result<()> {
    let default = c.devices_default.as_deref().unwrap_or("deny");
    writeln!(
        out,
        "{}: default {default}{}",
        c.path,
        if default == "allow" {
            " (every device; deny exceptions are not visible in devices.list)"
        } else {
            ", allowed:"
        }
    )?;
    if default != "allow" {
        print_rules(out, c.devices.as_deref().unwrap_or_default(), "  ")?;
    }
    Ok(())
}

fn print_rules(
    out: &mut impl Write,
    rules: &[crate::model::DeviceRule],
    indent: &str,
) -> anyhow::Result<()> {
    if rules.is_empty() {
        writeln!(out, "{indent}(none: every device denied)")?;
    }
    for r in rules {
        let n = |v: Option<u32>| v.map_or("*".to_string(), |v| v.to_string());
        writeln!(
            out,
            "{indent}{} {}:{} {:<3}  {}",
            r.kind,
            n(r.major),
            n(r.minor),
            r.access,
            r.name.as_deref().unwrap_or("")
        )?;
    }
    Ok(())
}

/// devices.list text -> rules named from /dev and /proc/devices.
fn decode(roots: &Roots, list: &str) -> Vec<crate::model::DeviceRule> {
    let lines = parse::parse_devices_list(list).unwrap_or_default();
    let nodes = crate::sys::cgroupfs::read_dev_nodes(&roots.dev);
    let drivers = crate::sys::procfs::read_proc_devices(roots).unwrap_or_default();
    crate::sys::cgroupfs::name_devices(&lines, &nodes, &drivers)
}
