//! Which processes a pass has: the last listing changed by the process events connector's
//! events, or /proc listed again.

use super::cache::CachedProcess;
use super::pass::RefreshPass;
use super::*;
use crate::sys::proc_connector::{Drained, ProcEvent, ProcEvents};

/// Whether [`Collector::refresh`] may learn of processes from the connector instead of listing
/// /proc.
pub(super) enum Connector {
    /// Not subscribed yet: try at the next listing.
    Untried,
    Active(ProcEvents),
    /// Not for this collector: not the live /proc, or the kernel refused (not root, not in the
    /// initial namespaces, no CONFIG_PROC_EVENTS).
    Unavailable,
}

/// The processes of this pass into `listing` (PID and /proc/PID inode, sorted by PID), and in
/// `touched` (sorted) those the connector says exec'd or changed their comm or credentials:
/// from the last listing and the connector's events since, or by listing /proc again (the first
/// pass, every [`ROLLING_PASSES`] passes to catch what the events cannot tell, and whenever the
/// connector lost events or cannot be used). A listing subscribes first, so that no event after
/// it is missed.
fn list_processes(
    roots: &Roots,
    live: &mut Live,
    full: bool,
    listing: &mut Vec<(i32, u64)>,
    touched: &mut Vec<i32>,
) -> SysResult<()> {
    touched.clear();
    live.events.clear();
    let pass = live.pass;
    let complete = match &mut live.connector {
        Connector::Active(connector) => match connector.drain(&mut live.events) {
            Ok(Drained::Complete) => true,
            Ok(Drained::Overrun) => false,
            Err(_) => {
                live.connector = Connector::Untried;
                false
            }
        },
        _ => false,
    };
    if complete && !full && live.listed > 0 && pass < live.listed + ROLLING_PASSES {
        apply_events(&live.events, &live.entries, listing, touched);
        return Ok(());
    }
    if let Connector::Untried = live.connector {
        live.connector = match roots.is_live().then(ProcEvents::subscribe) {
            Some(Ok(c)) => Connector::Active(c),
            // Not the live /proc (a fixture, another pid namespace's), or the kernel refused.
            _ => Connector::Unavailable,
        };
    }
    procfs::read_pids_with_ino(roots, listing)?;
    live.listed = pass;
    // The listing shows who came and went; an exec or a change of comm or credentials since the
    // last pass is still news.
    if complete {
        touched.extend(live.events.iter().filter_map(|ev| match *ev {
            ProcEvent::Exec(tgid) | ProcEvent::Changed(tgid) => Some(tgid),
            ProcEvent::Fork { .. } | ProcEvent::Exit(_) => None,
        }));
        touched.sort_unstable();
        touched.dedup();
    }
    Ok(())
}

/// The processes of the last pass (`entries`) changed by `events`, as a listing: a process that
/// exited is left out, a new one has inode 0 (it is read as new, and its inode read then), and
/// one that exec'd or changed its comm or credentials is listed as it was and put in `touched`.
/// A PID that exited and came back (reused within the interval) is new; one that exited and then
/// exec'd is the same process (an exec by another thread ends the leader first).
fn apply_events(
    events: &[ProcEvent],
    entries: &[CachedProcess],
    listing: &mut Vec<(i32, u64)>,
    touched: &mut Vec<i32>,
) {
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum Fate {
        Gone,
        Changed,
        Reborn,
    }
    let mut fate: HashMap<i32, Fate> = HashMap::new();
    for ev in events {
        match *ev {
            ProcEvent::Fork { tgid, .. } => {
                let now = match fate.get(&tgid) {
                    Some(Fate::Gone) => Fate::Reborn,
                    Some(&f) => f,
                    None => Fate::Changed,
                };
                fate.insert(tgid, now);
            }
            ProcEvent::Exec(tgid) | ProcEvent::Changed(tgid) => {
                let now = match fate.get(&tgid) {
                    Some(Fate::Reborn) => Fate::Reborn,
                    _ => Fate::Changed,
                };
                fate.insert(tgid, now);
            }
            ProcEvent::Exit(tgid) => {
                fate.insert(tgid, Fate::Gone);
            }
        }
    }
    listing.clear();
    for e in entries {
        match fate.remove(&e.pid) {
            None => listing.push((e.pid, e.ino)),
            Some(Fate::Gone) => {}
            Some(Fate::Changed) => {
                listing.push((e.pid, e.ino));
                touched.push(e.pid);
            }
            Some(Fate::Reborn) => listing.push((e.pid, 0)),
        }
    }
    // What is left are PIDs the last pass did not have: new processes (a fork and an exit of the
    // same short-lived process cancel out).
    let before = listing.len();
    listing.extend(
        fate.into_iter()
            .filter(|(_, f)| *f != Fate::Gone)
            .map(|(pid, _)| (pid, 0)),
    );
    if listing.len() > before {
        listing.sort_unstable_by_key(|&(pid, _)| pid);
    }
}

impl Collector {
    /// The processes of this pass (see [`list_processes`]).
    pub(super) fn list_for_refresh(&self, p: &mut RefreshPass) -> SysResult<()> {
        let mut touched = std::mem::take(&mut p.live.touched);
        let listed = list_processes(
            &self.roots,
            &mut p.live,
            p.full,
            &mut p.listing,
            &mut touched,
        );
        // Processes a write just moved are read in full, as if the connector had reported them.
        if !p.live.hinted_pids.is_empty() {
            touched.append(&mut p.live.hinted_pids);
            touched.sort_unstable();
            touched.dedup();
        }
        p.live.touched = touched;
        listed?;
        p.stats.listed = p.listing.len();
        p.stats.from_events = p.live.listed != p.pass;
        p.stats.events = p.live.events.len();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::refresh::cache::Interner;

    /// An entry for process `pid` read through a /proc/PID of inode `ino`.
    fn entry(pid: i32, ino: u64, interner: &mut Interner) -> CachedProcess {
        let read = ProcessRead {
            process: Process {
                pid,
                ppid: 1,
                nspid: vec![pid],
                comm: "sleep".into(),
                cmdline: vec!["sleep".into()],
                uid: 0,
                ns: BTreeMap::new(),
                pid_for_children: None,
                time_for_children: None,
                cgroups: BTreeMap::new(),
                kernel_thread: false,
            },
            denied: Vec::new(),
            ino,
            stamp: None,
            cgroup_hash: 0,
        };
        CachedProcess::new(read, 0, 1, 1, interner)
    }

    #[test]
    fn events_turn_the_last_pass_into_this_ones_listing() {
        use ProcEvent::*;
        let mut interner = Interner::default();
        let entries: Vec<CachedProcess> = [(10, 100), (20, 200), (30, 300), (40, 400), (50, 500)]
            .into_iter()
            .map(|(pid, ino)| entry(pid, ino, &mut interner))
            .collect();
        let events = [
            // 20 exits; 60 starts; 70 starts and exits within the interval.
            Exit(20),
            Fork {
                tgid: 60,
                parent: 10,
            },
            Fork {
                tgid: 70,
                parent: 10,
            },
            Exit(70),
            // 30 execs; 40's PID is reused (exit, then a fork gives it to a new process).
            Exec(30),
            Exit(40),
            Fork {
                tgid: 40,
                parent: 10,
            },
            Exec(40),
            // 50's leader ends before the exec of another of its threads, which takes over.
            Exit(50),
            Exec(50),
            // A comm change of 60, new anyway.
            Changed(60),
        ];
        let (mut listing, mut touched) = (Vec::new(), Vec::new());
        apply_events(&events, &entries, &mut listing, &mut touched);
        assert_eq!(
            listing,
            vec![(10, 100), (30, 300), (40, 0), (50, 500), (60, 0)],
            "gone left out, new and reused with inode 0 (read as new)"
        );
        assert_eq!(touched, vec![30, 50], "read again in full");

        // No events: the last pass as it was.
        let (mut listing, mut touched) = (Vec::new(), Vec::new());
        apply_events(&[], &entries, &mut listing, &mut touched);
        assert_eq!(listing.len(), entries.len());
        assert!(touched.is_empty());
    }
}
