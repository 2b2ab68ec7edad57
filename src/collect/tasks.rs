//! The process side of a full pass from the BPF task iterator ([`crate::sys::task_iter`]):
//! identities, PIDs, namespaces with their relations and cgroups (by id, named from the cgroup
//! walk) come from the kernel in one read; only what the iterator cannot give is read from
//! /proc: each process's command line, kernel threads' names, the nsfs bind mounts of each
//! mount namespace (mountinfo), /proc/PID/cgroup where the ids cannot be named, and whole, with
//! the /proc reader, the processes the iterator did not settle (see [`leftover_pids`]).
//!
//! Used by [`super::Collector::collect`] when the live kernel is read as root from the initial
//! pid namespace on a host with [`ITER_MIN_TASKS`] tasks or more; otherwise, or when the
//! iterator cannot be loaded, the /proc reader does the whole job (same [`ProcessPass`], same
//! snapshot).

use super::{MountinfoRead, ProcessPass};
use crate::model::{NsId, NsKey, NsType, Process};
use crate::sys::nsfs::NsRelations;
use crate::sys::procfs::{self, CgroupPaths, ProcDir, ProcessRead, Scratch};
use crate::sys::task_iter::{Task, TaskIter, TaskNs};
use crate::sys::{Roots, mounts};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

/// Where the BTF of the running kernel is (CONFIG_DEBUG_INFO_BTF).
const VMLINUX_BTF: &str = "/sys/kernel/btf/vmlinux";

/// Below this many tasks (threads included, as /proc/loadavg counts them) a full pass reads
/// /proc: loading the iterator (reading the kernel's BTF, verifying the program: about 10 ms
/// here) costs more than it saves. Measured with `nsview __collect --process-source proc|iter`
/// (docs/performance.md).
pub const ITER_MIN_TASKS: usize = 600;

/// How a full pass reads processes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProcessSource {
    /// The task iterator on hosts with [`ITER_MIN_TASKS`] tasks or more (or once it is
    /// loaded), /proc otherwise or when it cannot be used.
    #[default]
    Auto,
    /// /proc only.
    Proc,
    /// The task iterator whenever it can be used, however few the processes.
    TaskIter,
}

/// The collector's task iterator: loaded on first use and kept for later passes, or why not.
#[derive(Debug, Default)]
pub(super) struct IterState {
    pub(super) source: ProcessSource,
    loaded: Loaded,
    /// How the last pass read processes, for [`IterState::describe`].
    last: Option<String>,
}

#[derive(Debug, Default)]
enum Loaded {
    #[default]
    Untried,
    Yes(TaskIter),
    /// It cannot be used here, and why.
    No(String),
}

impl IterState {
    /// The iterator, loaded on first use (None: it cannot load here, see `loaded`).
    fn get(&mut self) -> Option<&TaskIter> {
        if matches!(self.loaded, Loaded::Untried) {
            self.loaded = match TaskIter::load(Path::new(VMLINUX_BTF)) {
                Ok(it) => Loaded::Yes(it),
                Err(e) => Loaded::No(e.to_string()),
            };
        }
        match &self.loaded {
            Loaded::Yes(it) => Some(it),
            _ => None,
        }
    }

    /// Whether this pass, on a host with `tasks` tasks, should use the iterator; when not, the
    /// reason is what [`IterState::describe`] says.
    pub(super) fn worth_trying(&mut self, roots: &Roots, tasks: usize) -> bool {
        let why_not = match (&self.loaded, self.source) {
            (_, ProcessSource::Proc) => Some("turned off".to_string()),
            (Loaded::No(why), _) => Some(why.clone()),
            (Loaded::Yes(_), _) => None,
            (Loaded::Untried, source) => {
                let cannot = if !roots.is_live() {
                    Some("not reading the live kernel")
                } else if !nix::unistd::geteuid().is_root() {
                    Some("needs root")
                } else if !Path::new(VMLINUX_BTF).exists() {
                    Some("the kernel has no BTF (CONFIG_DEBUG_INFO_BTF)")
                } else if !in_initial_pid_ns_with_its_proc(roots) {
                    Some("nsview is not in the initial pid namespace, or /proc is not its procfs")
                } else {
                    None
                };
                match cannot {
                    Some(why) => {
                        self.loaded = Loaded::No(why.to_string());
                        Some(why.to_string())
                    }
                    None if source == ProcessSource::Auto && tasks < ITER_MIN_TASKS => {
                        Some(format!("not loaded for fewer than {ITER_MIN_TASKS} tasks"))
                    }
                    None => None,
                }
            }
        };
        self.last = Some(match &why_not {
            Some(why) => format!("/proc (bpf task iterator: {why})"),
            None => "bpf task iterator".to_string(),
        });
        why_not.is_none()
    }

    fn set_unavailable(&mut self, why: String) {
        self.last = Some(format!("/proc (bpf task iterator: {why})"));
        self.loaded = Loaded::No(why);
    }

    /// How the last pass read processes: "bpf task iterator", or "/proc (bpf task iterator:
    /// why not)".
    pub(super) fn describe(&self) -> String {
        self.last.clone().unwrap_or_else(|| "/proc".to_string())
    }
}

/// Load the iterator if needed and walk the tasks; None (and the reason kept in `state`) when it
/// cannot stand in for /proc.
pub(super) fn read_tasks(state: &mut IterState) -> Option<Vec<Task>> {
    let tasks = match state.get() {
        Some(it) => it.read(),
        None => {
            let why = match &state.loaded {
                Loaded::No(why) => why.clone(),
                _ => "not loaded".to_string(),
            };
            state.set_unavailable(why);
            return None;
        }
    };
    // Whether nsview is in the initial pid namespace was settled before loading
    // (see in_initial_pid_ns_with_its_proc): it cannot change while it runs.
    match tasks {
        Ok(t) => Some(t),
        // Kept loaded: a failed read (ENOMEM, say) falls back for this pass only.
        Err(e) => {
            state.last = Some(format!("/proc (bpf task iterator: reading it failed: {e})"));
            None
        }
    }
}

/// /proc/PID/cmdline of every process, `threads` at a time (read while the iterator runs; a
/// process started after the listing has its command line read by [`process_pass`]). A process
/// that execs between this read and the iterator's shows its old command line next to its new
/// comm until the next pass: a window of a few milliseconds, as between two files of one
/// process for the /proc reader.
pub(super) fn read_cmdlines(
    roots: &Roots,
    pids: &[i32],
    threads: usize,
) -> HashMap<i32, Vec<String>> {
    let read_chunk = |chunk: &[i32]| -> Vec<(i32, Vec<String>)> {
        let Ok(proc_root) = ProcDir::open_root(roots) else {
            return Vec::new();
        };
        let mut scratch = Scratch::default();
        chunk
            .iter()
            .filter_map(|&pid| {
                let args = proc_root
                    .read_cmdline(&format!("{pid}/cmdline"), &mut scratch.buf)
                    .ok()?;
                Some((pid, args))
            })
            .collect()
    };
    on_threads(pids, threads, 256, read_chunk)
        .into_iter()
        .collect()
}

/// `f` over `items` split in `threads` even chunks, one thread each (on the caller's alone when
/// there are fewer than `min` items), the results in order. A chunk whose thread panicked gives
/// nothing: what it would have read is read by the /proc reader or missing, never wrong.
pub(super) fn on_threads<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    min: usize,
    f: impl Fn(&[T]) -> Vec<R> + Sync,
) -> Vec<R> {
    if threads <= 1 || items.len() < min {
        return f(items);
    }
    let chunk = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|s| {
        let handles: Vec<_> = items.chunks(chunk).map(|c| s.spawn(move || f(c))).collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

/// The iterator reports PIDs of the initial pid namespace, which the /proc reads that complete
/// its records must use: nsview must be in that namespace (PROC_PID_INIT_INO) and /proc must be
/// its procfs (not, say, a container's after `nsenter -m`), i.e. /proc/self is nsview.
fn in_initial_pid_ns_with_its_proc(roots: &Roots) -> bool {
    const PROC_PID_INIT_INO: u64 = 0xEFFF_FFFC;
    let me = std::process::id().to_string();
    let self_is_me = procfs::read_self_link(roots).is_ok_and(|p| p.as_os_str() == me.as_str());
    let pid_ns = procfs::read_self_pid_ns_link(roots).ok();
    self_is_me && pid_ns == Some((NsType::Pid, PROC_PID_INIT_INO))
}

/// What names the cgroups the task iterator reports (by hierarchy id and cgroup id, see
/// [`Task::cgroups`]), from the cgroup trees' walk.
#[derive(Debug, Default)]
pub(super) struct CgroupIds {
    /// The lines /proc/PID/cgroup has, as (hierarchy id, key), from /proc/self/cgroup.
    pub lines: Vec<(u32, Arc<str>)>,
    /// (hierarchy id, directory inode) -> cgroup path.
    pub paths: HashMap<(u32, u64), Arc<str>>,
}

impl CgroupIds {
    /// The cgroup paths /proc/PID/cgroup would show for a task, or None when one of its
    /// hierarchies cannot be named from the ids (not walked, a cgroup made after the walk, a
    /// removed one): then that file must be read.
    fn paths_of(&self, cg: &TaskCgroups) -> Option<CgroupPaths> {
        if !cg.complete || self.lines.is_empty() {
            return None;
        }
        let mut out = CgroupPaths::new();
        for (hid, key) in &self.lines {
            let id = cg.ids.iter().find(|(h, _)| h == hid).map(|(_, id)| *id)?;
            // proc_cgroup_show: on v1 hierarchies an exiting task shows as in the root.
            if *hid != 0 && cg.exiting {
                out.insert(key.clone(), Arc::from("/"));
                continue;
            }
            out.insert(key.clone(), self.paths.get(&(*hid, id))?.clone());
        }
        Some(out)
    }
}

/// A task's cgroups as the iterator saw them.
pub(super) struct TaskCgroups {
    ids: Vec<(u32, u64)>,
    complete: bool,
    exiting: bool,
}

/// The PIDs /proc listed that the iterator's pass does not have (started since, a task the
/// iterator did not show, one whose namespaces changed during the read): the /proc reader reads
/// them (a PID that exited meanwhile drops out there).
pub(super) fn leftover_pids(listed: &[i32], pass: &ProcessPass) -> Vec<i32> {
    let have: HashSet<i32> = pass.processes.iter().map(|r| r.process.pid).collect();
    listed
        .iter()
        .copied()
        .filter(|p| !have.contains(p))
        .collect()
}

/// Give each process of `pass` its cgroups, named from `ids`; a process they cannot name has its
/// /proc/PID/cgroup read instead, and is dropped if it exited meanwhile.
pub(super) fn assign_cgroups(
    roots: &Roots,
    pass: &mut ProcessPass,
    task_cgroups: &HashMap<i32, TaskCgroups>,
    ids: &CgroupIds,
    threads: usize,
) {
    let mut unnamed = Vec::new();
    for (i, r) in pass.processes.iter_mut().enumerate() {
        match task_cgroups
            .get(&r.process.pid)
            .and_then(|cg| ids.paths_of(cg))
        {
            Some(c) => r.process.cgroups = c,
            None => unnamed.push((i, r.process.pid)),
        }
    }
    if unnamed.is_empty() {
        return;
    }
    // Every process, in a cgroup namespace whose root is not a mount's: as many threads as the
    // /proc reader.
    let read = |chunk: &[(usize, i32)]| -> Vec<(usize, crate::sys::SysResult<CgroupPaths>)> {
        let Ok(proc_root) = ProcDir::open_root(roots) else {
            return Vec::new();
        };
        let mut scratch = Scratch::default();
        chunk
            .iter()
            .map(|&(i, pid)| (i, procfs::read_cgroup_paths(&proc_root, pid, &mut scratch)))
            .collect()
    };
    let results = on_threads(&unnamed, threads, 256, read);
    let mut gone = HashSet::new();
    for (i, result) in results {
        let Some(r) = pass.processes.get_mut(i) else {
            continue;
        };
        match result {
            Ok(c) => r.process.cgroups = c,
            // Exited meanwhile: gone, as /proc would have it.
            Err(e) if e.is_vanished() => {
                gone.insert(i);
            }
            Err(e) => r.denied.push(e.path().to_path_buf()),
        }
    }
    if !gone.is_empty() {
        let mut i = 0;
        pass.processes.retain(|_| {
            i += 1;
            !gone.contains(&(i - 1))
        });
    }
}

/// The command lines read while the iterator ran, and whether those missing (processes started
/// since the listing) are read afterwards.
pub(super) struct CommandLines {
    pub read: HashMap<i32, Vec<String>>,
    pub read_missing: bool,
}

/// Turn the iterator's records into the same [`ProcessPass`] the /proc reader makes, cgroups
/// apart (see [`assign_cgroups`]), with the command lines read meanwhile (`cmdlines`). What is
/// left to read from /proc (kernel threads' names, command lines of processes started since
/// the listing, the mountinfo of one process per mount namespace) is read `threads` at a time.
pub(super) fn process_pass(
    roots: &Roots,
    tasks: Vec<Task>,
    cmdlines: CommandLines,
    nsfs_dev: u64,
    threads: usize,
) -> IterPass {
    // A task that changed namespaces while the program read them, and one that is exiting
    // (no namespaces left, maybe no memory), is read from /proc instead (it is missing from this
    // pass: see `leftover_pids`), which keeps a zombie whole and drops one caught exiting.
    let tasks: Vec<Task> = tasks
        .into_iter()
        .filter(|t| t.namespaces_stable && !t.exiting)
        .collect();
    let relations = relations_of(&tasks, nsfs_dev);
    let command_lines_read = cmdlines.read_missing;
    let IterPlan {
        mut processes,
        cgroups,
        jobs,
        mount_readers,
    } = plan_reads(&tasks, cmdlines, nsfs_dev);
    let run = |jobs: &[Job]| -> Vec<(Job, JobResult)> {
        let Ok(proc_root) = ProcDir::open_root(roots) else {
            return Vec::new();
        };
        let mut buf = procfs::ReadBuf::default();
        jobs.iter()
            .map(|&job| {
                let result = run_job(&proc_root, &processes, &mount_readers, job, &mut buf);
                (job, result)
            })
            .collect()
    };
    let results = on_threads(&jobs, threads, 64, run);

    let mut pass = ProcessPass::default();
    let (mounts_read, mut gone) =
        apply_results(results, &mut processes, &mount_readers, &mut pass.mountinfo);
    // No command line: the process gave up its memory (it began to exit after the program read
    // it), or it never had one. Left to the /proc reader, which tells the two apart. Not when
    // command lines were not read at all (`list`: see `CollectOptions::command_lines`).
    if command_lines_read {
        gone.extend(
            processes
                .iter()
                .enumerate()
                .filter(|(_, p)| !p.kernel_thread && p.cmdline.is_empty())
                .map(|(i, _)| i),
        );
    }
    pass.processes = processes
        .into_iter()
        .enumerate()
        .filter(|(i, _)| !gone.contains(i))
        .map(|(_, process)| ProcessRead {
            process,
            denied: Vec::new(),
            ino: 0,
            stamp: None,
            cgroup_hash: 0,
        })
        .collect();
    pass.relations = relations;
    IterPass {
        pass,
        cgroups,
        mounts_read,
    }
}

/// The processes of the iterator's records, and what is left to read from /proc for them.
struct IterPlan {
    processes: Vec<Process>,
    cgroups: HashMap<i32, TaskCgroups>,
    jobs: Vec<Job>,
    /// The members of each mount namespace, tried in turn: its mountinfo is lost only if all of
    /// them exited before it was read.
    mount_readers: Vec<(u64, Vec<i32>)>,
}

/// The processes of `tasks` with the command lines read meanwhile, and the /proc reads left.
fn plan_reads(tasks: &[Task], cmdlines: CommandLines, nsfs_dev: u64) -> IterPlan {
    let CommandLines {
        read: mut cmdlines,
        read_missing,
    } = cmdlines;
    let mut cgroups = HashMap::with_capacity(tasks.len());
    let mut processes = Vec::with_capacity(tasks.len());
    let mut jobs = Vec::new();
    let mut mount_readers: Vec<(u64, Vec<i32>)> = Vec::new();
    let mut mnt_index: HashMap<u64, usize> = HashMap::new();
    for task in tasks {
        let i = processes.len();
        let cmdline = cmdlines.remove(&task.pid);
        // /proc names kernel threads by their full name (get_kthread_comm) and workqueue
        // workers by what they run ("kworker/0:1-events"), not by task->comm.
        if task.kernel_thread {
            jobs.push(Job::Comm(i));
        } else if cmdline.is_none() && read_missing {
            jobs.push(Job::Cmdline(i));
        }
        if let Some((_, mnt)) = task.ns.iter().find(|(t, _)| *t == NsType::Mnt) {
            match mnt_index.get(&mnt.ino) {
                Some(&m) => {
                    if let Some((_, readers)) = mount_readers.get_mut(m) {
                        readers.push(task.pid);
                    }
                }
                None => {
                    mnt_index.insert(mnt.ino, mount_readers.len());
                    jobs.push(Job::Mountinfo(mount_readers.len()));
                    mount_readers.push((mnt.ino, vec![task.pid]));
                }
            }
        }
        processes.push(process_of(task, cmdline.unwrap_or_default(), nsfs_dev));
        cgroups.insert(
            task.pid,
            TaskCgroups {
                ids: task.cgroups.clone(),
                complete: task.cgroups_complete,
                exiting: task.exiting,
            },
        );
    }
    IterPlan {
        processes,
        cgroups,
        jobs,
        mount_readers,
    }
}

/// The results of the /proc reads into the processes and `mountinfo`. Returns the mount
/// namespaces whose mountinfo was read, and the processes found gone.
fn apply_results(
    results: Vec<(Job, JobResult)>,
    processes: &mut [Process],
    mount_readers: &[(u64, Vec<i32>)],
    mountinfo: &mut Vec<MountinfoRead>,
) -> (HashSet<u64>, HashSet<usize>) {
    let mut mounts_read = HashSet::new();
    let mut gone = HashSet::new();
    for (job, result) in results {
        match (job, result) {
            (Job::Comm(i), JobResult::Text(comm)) => {
                if let Some(p) = processes.get_mut(i) {
                    p.comm = comm;
                }
            }
            (Job::Cmdline(i), JobResult::Args(args)) => {
                if let Some(p) = processes.get_mut(i) {
                    p.cmdline = args;
                }
            }
            (Job::Mountinfo(m), JobResult::Mounts(pid, found)) => {
                mountinfo.push(MountinfoRead { pid, found });
                if let Some((mnt, _)) = mount_readers.get(m) {
                    mounts_read.insert(*mnt);
                }
            }
            // Exited since the iterator ran: gone, as /proc would have it.
            (Job::Comm(i) | Job::Cmdline(i), JobResult::Vanished) => {
                gone.insert(i);
            }
            _ => {}
        }
    }
    (mounts_read, gone)
}

/// What [`process_pass`] made of the iterator's records.
pub(super) struct IterPass {
    pub pass: ProcessPass,
    /// Each process's cgroups as the iterator saw them, for [`assign_cgroups`].
    pub cgroups: HashMap<i32, TaskCgroups>,
    /// The mount namespaces whose mountinfo was read: the /proc reader, reading the leftover
    /// processes, reads the others.
    pub mounts_read: HashSet<u64>,
}

/// One /proc read left after the iterator: a process's comm or command line (its index in the
/// pass), or the mountinfo of a mount namespace (its index in the table of readers).
#[derive(Debug, Clone, Copy)]
enum Job {
    Comm(usize),
    Cmdline(usize),
    Mountinfo(usize),
}

enum JobResult {
    Text(String),
    Args(Vec<String>),
    /// The process whose mountinfo was read, and its nsfs bind mounts (None: permission denied).
    Mounts(i32, Option<Vec<mounts::NsBindMount>>),
    Vanished,
    /// Unreadable: the field keeps what the iterator gave.
    Unread,
}

fn run_job(
    proc_root: &ProcDir,
    processes: &[Process],
    mount_readers: &[(u64, Vec<i32>)],
    job: Job,
    buf: &mut procfs::ReadBuf,
) -> JobResult {
    let pid_of = |i: usize| processes.get(i).map_or(0, |p| p.pid);
    match job {
        Job::Comm(i) => match proc_root.read_into(&format!("{}/comm", pid_of(i)), buf) {
            Ok(b) => JobResult::Text(
                String::from_utf8_lossy(b)
                    .trim_end_matches('\n')
                    .to_string(),
            ),
            Err(e) if e.is_vanished() => JobResult::Vanished,
            Err(_) => JobResult::Unread,
        },
        Job::Cmdline(i) => match proc_root.read_cmdline(&format!("{}/cmdline", pid_of(i)), buf) {
            Ok(args) => JobResult::Args(args),
            Err(e) if e.is_vanished() => JobResult::Vanished,
            Err(_) => JobResult::Unread,
        },
        Job::Mountinfo(m) => {
            for &pid in mount_readers.get(m).map_or(&[][..], |(_, r)| &r[..]) {
                match proc_root.read_nsfs_mounts_of(pid, buf) {
                    Ok(lines) => {
                        return JobResult::Mounts(pid, Some(mounts::nsfs_bind_mounts(&lines)));
                    }
                    Err(e) if e.is_permission() => return JobResult::Mounts(pid, None),
                    // Exited: the next member.
                    Err(_) => {}
                }
            }
            JobResult::Unread
        }
    }
}

fn process_of(task: &Task, cmdline: Vec<String>, dev: u64) -> Process {
    let id = |n: &TaskNs| NsId { dev, ino: n.ino };
    let ns: BTreeMap<NsType, NsId> = task.ns.iter().map(|(t, n)| (*t, id(n))).collect();
    let differs =
        |t: NsType, n: Option<TaskNs>| n.map(|n| id(&n)).filter(|n| ns.get(&t) != Some(n));
    Process {
        pid: task.pid,
        ppid: task.ppid,
        nspid: task.nspid.clone(),
        comm: task.comm.clone(),
        cmdline,
        uid: task.euid,
        pid_for_children: differs(NsType::Pid, task.pid_for_children),
        time_for_children: differs(NsType::Time, task.time_for_children),
        ns,
        cgroups: CgroupPaths::new(),
        kernel_thread: task.kernel_thread,
    }
}

/// Owner and parent of every namespace the tasks are in, as NS_GET_USERNS, NS_GET_PARENT and
/// NS_GET_OWNER_UID would give them.
fn relations_of(tasks: &[Task], dev: u64) -> Vec<(NsKey, NsRelations)> {
    let mut seen: HashSet<NsKey> = HashSet::new();
    let mut out = Vec::new();
    let id = |ino: u64| NsId { dev, ino };
    for task in tasks {
        let extra = [
            task.pid_for_children.map(|n| (NsType::Pid, n)),
            task.time_for_children.map(|n| (NsType::Time, n)),
        ];
        for (t, n) in task.ns.iter().copied().chain(extra.into_iter().flatten()) {
            if !seen.insert((t, n.ino)) {
                continue;
            }
            let parent = matches!(t, NsType::Pid | NsType::User)
                .then_some(n.parent)
                .flatten();
            out.push((
                (t, n.ino),
                NsRelations {
                    owner: n.owner.map(id),
                    parent: parent.map(id),
                    owner_uid: if t == NsType::User {
                        task.user_owner_uid
                    } else {
                        None
                    },
                },
            ));
        }
    }
    out
}
