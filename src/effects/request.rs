//! Changes asked for in the TUI, carried from the UI thread to a worker thread, and their
//! outcome as lines for a dialog. The UI never writes: it builds a [`Request`] from its
//! snapshot (pure), the event loop runs it with [`run`] on a thread of its own.

use super::cgroup::{CgroupWriter, Location, PlannedKey, Written, location};
use super::docker::DockerTarget;
use super::journal::{self, Journal};
use crate::model::Hierarchy;
use crate::policy::devices::DeviceRuleSpec;
use crate::policy::limits::{self, Assignment};
use crate::sys::Roots;

/// Where a change lands: hierarchies and the target's path in each (resolved by the UI from its
/// snapshot; mount points are mapped through the roots by the worker).
#[derive(Debug, Clone, PartialEq)]
pub struct Places {
    /// What the admin selected, for titles and the journal ("/docker/4653…", "1234 sleep").
    pub label: String,
    /// The target as the journal records it (a cgroup path, or a PID).
    pub target: String,
    pub places: Vec<(Hierarchy, String)>,
    /// The Docker container's id when the selection is one: limits then go through Docker's
    /// API, as `nsview set` does.
    pub docker: Option<String>,
}

impl Places {
    fn locations(&self, roots: &Roots) -> Vec<Location> {
        self.places
            .iter()
            .map(|(h, path)| location(roots, h, path))
            .collect()
    }
}

/// A change, or the preview of one.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// Limits from the edit form; `preview` plans (reads the old values) without writing; a
    /// confirmed set carries the previewed writes in `expect` and writes only if it plans the
    /// same.
    Set {
        at: Places,
        requests: Vec<Assignment>,
        preview: bool,
        expect: Option<Vec<PlannedKey>>,
    },
    Freeze {
        at: Places,
        freeze: bool,
    },
    Move {
        at: Places,
        pid: i32,
    },
    Device {
        at: Places,
        allow: bool,
        rule: DeviceRuleSpec,
    },
    /// `preview`: say which entry undo would revert, without writing; the confirmed undo
    /// reverts exactly the entry shown (`expect`), or nothing.
    Undo {
        preview: bool,
        hierarchies: Vec<Hierarchy>,
        expect: Option<u64>,
    },
}

/// What the worker tells the UI.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// Ask the admin; on yes, run `then`.
    Confirm {
        title: String,
        lines: Vec<String>,
        then: Request,
    },
    /// Finished (or refused): what the kernel says now, or why nothing changed.
    Done {
        title: String,
        lines: Vec<String>,
        ok: bool,
    },
}

/// Run `req` as root would from the CLI: same validation, same journal.
pub fn run(req: Request, roots: &Roots, read_only: bool) -> Reply {
    match Journal::default_location() {
        Ok(journal) => run_with(req, roots, &CgroupWriter { read_only, journal }),
        Err(e) => failed("cannot change anything", e.to_string()),
    }
}

/// [`run`] with a given writer (its journal and read-only switch).
pub fn run_with(req: Request, roots: &Roots, writer: &CgroupWriter) -> Reply {
    let read_only = writer.read_only;
    match req {
        Request::Set {
            at,
            requests,
            preview,
            expect,
        } => {
            let locs = at.locations(roots);
            let docker = at.docker.as_ref().map(|id| DockerTarget {
                id: id.clone(),
                sock: roots.docker_sock(),
            });
            let expect = expect.as_deref();
            let set = |dry_run: bool| match &docker {
                Some(d) => writer.set_docker(d, &at.target, &locs, &requests, dry_run, expect),
                None => writer.set_expecting(&at.target, &locs, &requests, dry_run, expect),
            };
            if preview {
                return match set(true) {
                    Ok(o) if o.written.is_empty() => Reply::Done {
                        title: format!("edit {}", at.label),
                        lines: vec!["nothing to change: every value is already in place".into()],
                        ok: true,
                    },
                    Ok(o) => {
                        let mut lines: Vec<String> =
                            o.written.iter().map(|w| w.describe()).collect();
                        lines.extend(o.notes.iter().map(|n| format!("note: {n}")));
                        lines.push(String::new());
                        lines.push("write these values? (y: yes, n / Esc: no)".into());
                        Reply::Confirm {
                            title: format!("change {}", at.label),
                            lines,
                            // What y confirms is exactly these writes.
                            then: Request::Set {
                                expect: Some(o.written.iter().map(Written::key).collect()),
                                at,
                                requests,
                                preview: false,
                            },
                        }
                    }
                    Err(e) => failed(&format!("edit {}", at.label), e.to_string()),
                };
            }
            match set(false) {
                Ok(o) => {
                    let mut lines: Vec<String> = o.written.iter().map(|w| w.describe()).collect();
                    lines.extend(o.notes.iter().map(|n| format!("note: {n}")));
                    lines.push(journal_line(o.entry.as_ref()));
                    Reply::Done {
                        title: format!("changed {}", at.label),
                        lines,
                        ok: true,
                    }
                }
                Err(e) => failed(&format!("change {}", at.label), e.to_string()),
            }
        }
        Request::Freeze { at, freeze } => {
            let verb = if freeze { "freeze" } else { "thaw" };
            match writer.freeze(&at.target, &at.locations(roots), freeze) {
                Ok(o) => {
                    let want = if freeze { "FROZEN" } else { "THAWED" };
                    let mut lines = o.describe(freeze);
                    lines.push(journal_line(o.entry.as_ref()));
                    Reply::Done {
                        title: format!("{verb} {}", at.label),
                        lines,
                        ok: o.state == want,
                    }
                }
                Err(e) => failed(&format!("{verb} {}", at.label), e.to_string()),
            }
        }
        Request::Move { at, pid } => {
            match writer.move_process(roots, &at.target, pid, &at.locations(roots)) {
                Ok(o) => {
                    let mut lines = o.describe();
                    lines.push(journal_line(o.entry.as_ref()));
                    Reply::Done {
                        title: format!("moved {pid} to {}", at.label),
                        lines,
                        ok: true,
                    }
                }
                Err(e) => failed(&format!("move {pid}"), e.to_string()),
            }
        }
        Request::Device { at, allow, rule } => {
            let verb = if allow { "allow" } else { "deny" };
            match writer.device_rule(&at.target, &at.locations(roots), allow, &rule) {
                Ok(o) => {
                    let mut lines = vec![format!("{verb} {rule}: devices.list now:")];
                    lines.extend(o.now.lines().map(|l| format!("  {l}")));
                    if o.now.is_empty() {
                        lines.push("  (empty: every device denied)".into());
                    }
                    lines.push(journal_line(o.entry.as_ref()));
                    Reply::Done {
                        title: format!("devices of {}", at.label),
                        lines,
                        ok: true,
                    }
                }
                Err(e) => failed(&format!("{verb} {rule}"), e.to_string()),
            }
        }
        Request::Undo {
            preview,
            hierarchies,
            expect,
        } => {
            if preview {
                if read_only {
                    return failed(
                        "undo",
                        super::cgroup::CgroupError::ReadOnly("undo".into()).to_string(),
                    );
                }
                return match writer.journal.entries() {
                    Ok(entries) => match journal::last_undoable(&entries) {
                        Some(e) => {
                            let mut lines = vec![format!(
                                "entry {}: {} {} at {} by {}",
                                e.id,
                                e.action.as_str(),
                                e.target,
                                e.time,
                                e.sudo_user.as_deref().unwrap_or(&e.user)
                            )];
                            lines.extend(e.changes.iter().map(|c| {
                                format!(
                                    "  {}:{} {} (back to {})",
                                    c.hierarchy,
                                    c.cgroup,
                                    c.file,
                                    limits::annotate(&c.file, &c.old).replace('\n', ", ")
                                )
                            }));
                            lines.push(String::new());
                            lines.push("revert it? (y: yes, n / Esc: no)".into());
                            Reply::Confirm {
                                title: "undo".into(),
                                lines,
                                then: Request::Undo {
                                    preview: false,
                                    hierarchies,
                                    expect: Some(e.id),
                                },
                            }
                        }
                        None => failed(
                            "undo",
                            format!(
                                "nothing to undo (journal {})",
                                writer.journal.path.display()
                            ),
                        ),
                    },
                    Err(e) => failed("undo", e.to_string()),
                };
            }
            match writer.undo(roots, &hierarchies, false, expect) {
                Ok(o) => {
                    let mut lines = vec![format!(
                        "reverted entry {} ({} {})",
                        o.undone.id,
                        o.undone.action.as_str(),
                        o.undone.target
                    )];
                    lines.extend(o.reverted.iter().map(|c| {
                        format!(
                            "  {}:{} {}",
                            c.hierarchy,
                            c.cgroup,
                            limits::describe(&c.file, &c.old, &c.new).replace('\n', ", ")
                        )
                    }));
                    lines.extend(o.notes.iter().map(|n| format!("note: {n}")));
                    Reply::Done {
                        title: "undo".into(),
                        lines,
                        ok: true,
                    }
                }
                Err(e) => failed("undo", e.to_string()),
            }
        }
    }
}

fn failed(title: &str, why: String) -> Reply {
    Reply::Done {
        title: title.to_string(),
        lines: vec![why],
        ok: false,
    }
}

fn journal_line(entry: Option<&journal::Entry>) -> String {
    match entry {
        Some(e) => format!("journal entry {} (u undoes it)", e.id),
        None => "nothing changed".into(),
    }
}
