//! Readers for /proc/PID/*: stat, status, cmdline, cgroup, ns/*, mountinfo; and /proc/devices.

use super::error::{SysError, SysResult};
use super::parse;
use super::roots::Roots;
use crate::model::{NsId, NsType, Process};
use nix::fcntl::{OFlag, openat};
use nix::sys::stat::Mode;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// At most this much of a command line is read (the kernel allows up to a quarter of the stack
/// limit, megabytes).
pub const CMDLINE_MAX_BYTES: usize = 64 << 10;
/// At most this many arguments are kept.
pub const CMDLINE_MAX_ARGS: usize = 4096;
/// The last argument of a command line that was cut.
pub const CMDLINE_CUT_MARKER: &str = "[... cut by nsview: longer than 64 KiB or 4096 arguments]";

/// The arguments of `bytes` (a command line read up to a bound; `cut` when it went on), at most
/// [`CMDLINE_MAX_ARGS`], followed by [`CMDLINE_CUT_MARKER`] when anything was left out.
fn bounded_cmdline(bytes: &[u8], cut: bool) -> Vec<String> {
    let mut args = parse::parse_cmdline(bytes);
    let cut = cut || args.len() > CMDLINE_MAX_ARGS;
    if cut {
        args.truncate(CMDLINE_MAX_ARGS);
        args.push(CMDLINE_CUT_MARKER.to_string());
    }
    args
}

/// PIDs (thread group leaders) listed in /proc, in increasing order.
pub fn list_pids(roots: &Roots) -> SysResult<Vec<i32>> {
    Ok(list_pids_with_ino(roots)?
        .into_iter()
        .map(|(pid, _)| pid)
        .collect())
}

/// PIDs listed in /proc with the inode number of each /proc/PID directory, sorted by PID.
///
/// The inode tells processes apart across passes at no extra cost (it comes with the directory
/// entry): procfs gives /proc/PID a new inode when it builds the directory for a new process, so
/// a PID reused by another process shows a different inode (checked on 6.18 with ns_last_pid in
/// a private pid namespace). A living process keeps its inode while the kernel keeps its dentry
/// cached; under memory pressure the dentry can be dropped and the same process then shows a new
/// inode, which only costs a re-read.
pub fn list_pids_with_ino(roots: &Roots) -> SysResult<Vec<(i32, u64)>> {
    let mut out = Vec::new();
    read_pids_with_ino(roots, &mut out)?;
    Ok(out)
}

/// [`list_pids_with_ino`] into `out` (cleared first), so that a live view reuses one vector.
///
/// getdents(2) into a buffer on the stack: no allocation per entry, unlike `fs::read_dir`, which
/// also allocates its own 32 KiB buffer per call (a large allocation right after a snapshot was
/// freed makes the allocator consolidate all the small chunks the snapshot held).
pub fn read_pids_with_ino(roots: &Roots, out: &mut Vec<(i32, u64)>) -> SysResult<()> {
    use rustix::fs::{Mode, OFlags, RawDir};
    use std::mem::MaybeUninit;
    out.clear();
    let fd = rustix::fs::open(
        &roots.proc,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| SysError::io(&roots.proc, e.into()))?;
    let mut buf = [MaybeUninit::<u8>::uninit(); 16 * 1024];
    let mut dir = RawDir::new(&fd, &mut buf);
    while let Some(entry) = dir.next() {
        let entry = entry.map_err(|e| SysError::io(&roots.proc, e.into()))?;
        if let Some(pid) = parse_pid(entry.file_name().to_bytes()) {
            out.push((pid, entry.ino()));
        }
    }
    // procfs lists PIDs in increasing order already (a fixture tree may not).
    if !out.is_sorted_by_key(|&(pid, _)| pid) {
        out.sort_unstable_by_key(|&(pid, _)| pid);
    }
    Ok(())
}

/// A /proc entry name that is a PID: decimal digits only, no sign, no leading zero.
fn parse_pid(name: &[u8]) -> Option<i32> {
    if name
        .first()
        .is_none_or(|c| !c.is_ascii_digit() || *c == b'0')
    {
        return None;
    }
    std::str::from_utf8(name).ok()?.parse().ok()
}

/// A read buffer reused across files, so a pass allocates once per thread.
#[derive(Debug, Default)]
pub struct ReadBuf {
    data: Vec<u8>,
}

/// Per-thread scratch space for reading many processes: the read buffer, and one shared copy of
/// each cgroup hierarchy key and path (thousands of processes share a handful of cgroups).
#[derive(Debug, Default)]
pub struct Scratch {
    pub buf: ReadBuf,
    strings: HashSet<Arc<str>>,
}

impl Scratch {
    fn intern(&mut self, s: &str) -> Arc<str> {
        intern(&mut self.strings, s)
    }
}

fn intern(strings: &mut HashSet<Arc<str>>, s: &str) -> Arc<str> {
    if let Some(a) = strings.get(s) {
        return a.clone();
    }
    let a: Arc<str> = Arc::from(s);
    strings.insert(a.clone());
    a
}

/// An open /proc/PID directory. Reading through one directory fd keeps every file of one process
/// consistent (a reused PID cannot mix two processes) and saves path lookups.
pub struct ProcDir {
    fd: OwnedFd,
    path: PathBuf,
}

impl ProcDir {
    pub fn open(roots: &Roots, pid: i32) -> SysResult<ProcDir> {
        Self::open_path(roots.pid_dir(pid))
    }

    /// The /proc directory itself, to read `PID/FILE` below it in one call each (for readers
    /// that need one file of many processes).
    pub fn open_root(roots: &Roots) -> SysResult<ProcDir> {
        Self::open_path(roots.proc.clone())
    }

    fn open_path(path: PathBuf) -> SysResult<ProcDir> {
        let fd = nix::fcntl::open(
            &path,
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| SysError::errno(&path, e))?;
        Ok(ProcDir { fd, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Read a whole file below this directory into `buf` (reused between calls) and return its
    /// bytes.
    ///
    /// procfs files are seq_files (or, for cmdline, fill the buffer up to the end): a read that
    /// returns less than the space offered has reached the end, so no extra read for EOF is made.
    /// This, and not asking for the file size (procfs reports 0), halves the syscalls of a pass.
    pub fn read_into<'b>(&self, name: &str, buf: &'b mut ReadBuf) -> SysResult<&'b [u8]> {
        self.read_at_most(name, buf, usize::MAX).map(|(b, _)| b)
    }

    /// [`ProcDir::read_into`] of at most `max` bytes; true when the file holds more.
    fn read_at_most<'b>(
        &self,
        name: &str,
        buf: &'b mut ReadBuf,
        max: usize,
    ) -> SysResult<(&'b [u8], bool)> {
        let fd = openat(
            self.fd.as_fd(),
            name,
            OFlag::O_RDONLY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| SysError::errno(self.path.join(name), e))?;
        // One byte beyond `max` tells whether the file goes on.
        let want = max.saturating_add(1);
        let mut len = 0;
        loop {
            if len == buf.data.len() {
                let grow = buf.data.len().max(4096).min(want - len);
                buf.data.resize(buf.data.len() + grow, 0);
            }
            let end = buf.data.len().min(want);
            let space = end - len;
            match nix::unistd::read(fd.as_fd(), &mut buf.data[len..end]) {
                Ok(n) => {
                    len += n;
                    if n < space || len == want {
                        break;
                    }
                }
                Err(nix::errno::Errno::EINTR) => {}
                Err(e) => return Err(SysError::errno(self.path.join(name), e)),
            }
        }
        let cut = len > max;
        Ok((&buf.data[..len.min(max)], cut))
    }

    /// A command line (`cmdline` or `PID/cmdline` below this directory), bounded: at most
    /// [`CMDLINE_MAX_BYTES`] read and [`CMDLINE_MAX_ARGS`] arguments kept; a longer one ends with
    /// [`CMDLINE_CUT_MARKER`]. A process controls its command line: it must not cost nsview
    /// memory or the terminal its width.
    pub fn read_cmdline(&self, name: &str, buf: &mut ReadBuf) -> SysResult<Vec<String>> {
        let (bytes, cut) = self.read_at_most(name, buf, CMDLINE_MAX_BYTES)?;
        Ok(bounded_cmdline(bytes, cut))
    }

    /// Read a text file; borrowed from `buf` unless it had to be decoded lossily.
    pub fn read_text<'b>(&self, name: &str, buf: &'b mut ReadBuf) -> SysResult<Cow<'b, str>> {
        self.read_into(name, buf).map(String::from_utf8_lossy)
    }

    /// Only the nsfs lines of /proc/PID/mountinfo (namespaces held by bind mounts). Read once per
    /// mount namespace, so it skips every other line before parsing.
    pub fn read_nsfs_mounts(&self, buf: &mut ReadBuf) -> SysResult<Vec<parse::MountLine>> {
        self.read_nsfs_mounts_in("mountinfo", buf)
    }

    /// [`ProcDir::read_nsfs_mounts`] of process `pid`, from the /proc directory
    /// ([`ProcDir::open_root`]).
    pub fn read_nsfs_mounts_of(
        &self,
        pid: i32,
        buf: &mut ReadBuf,
    ) -> SysResult<Vec<parse::MountLine>> {
        self.read_nsfs_mounts_in(&format!("{pid}/mountinfo"), buf)
    }

    fn read_nsfs_mounts_in(
        &self,
        name: &str,
        buf: &mut ReadBuf,
    ) -> SysResult<Vec<parse::MountLine>> {
        let text = self.read_text(name, buf)?;
        Ok(text
            .lines()
            .filter(|l| l.contains(" - nsfs "))
            .flat_map(parse::parse_mountinfo)
            .collect())
    }

    /// The owner of /proc/PID: the process's effective UID (what lsns and ps show as USER).
    pub fn read_owner_uid(&self) -> SysResult<u32> {
        self.read_owner_and_ino().map(|(uid, _)| uid)
    }

    /// The owner of /proc/PID (see [`ProcDir::read_owner_uid`]) and the directory's inode, which
    /// identifies the process read through this handle (see [`list_pids_with_ino`]).
    pub fn read_owner_and_ino(&self) -> SysResult<(u32, u64)> {
        nix::sys::stat::fstat(self.fd.as_fd())
            .map(|st| (st.st_uid, st.st_ino))
            .map_err(|e| SysError::errno(&self.path, e))
    }

    /// Open /proc/PID/ns as a directory handle, so that each link below is one path component.
    pub fn ns_dir(&self) -> SysResult<NsDir> {
        let fd = openat(
            self.fd.as_fd(),
            "ns",
            OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| SysError::errno(self.path.join("ns"), e))?;
        Ok(NsDir {
            fd,
            path: self.path.join("ns"),
        })
    }
}

/// An open /proc/PID/ns directory.
pub struct NsDir {
    fd: OwnedFd,
    path: PathBuf,
}

impl NsDir {
    /// Open `ns/<file>` itself (an nsfs file, for the ioctls), checking it is still `expect`: the
    /// process may have called setns since its link was read.
    pub fn open_ns(&self, ns_file: &str, expect: NsId) -> SysResult<std::fs::File> {
        let path = self.path.join(ns_file);
        let fd = openat(
            self.fd.as_fd(),
            ns_file,
            OFlag::O_RDONLY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| SysError::errno(&path, e))?;
        let file = std::fs::File::from(fd);
        let ino = file
            .metadata()
            .map(|m| {
                use std::os::unix::fs::MetadataExt;
                m.ino()
            })
            .map_err(|e| SysError::io(&path, e))?;
        if ino != expect.ino {
            return Err(SysError::Vanished { path });
        }
        Ok(file)
    }

    /// Identity of `ns/<file>` from the link text (`net:[4026532385]`).
    ///
    /// readlink, not stat: following the link makes nsfs allocate (and then free) an inode and a
    /// dentry for the namespace every time, which was a third of a whole pass; readlink only
    /// formats the name. Every namespace lives on the one nsfs superblock, so the device is the
    /// same for all and is taken once ([`nsfs_device`]).
    pub fn read(&self, ns_file: &str, ns_type: NsType, nsfs_dev: u64) -> SysResult<NsId> {
        // "cgroup:[4026531835]" is the longest link text; 64 bytes is plenty and avoids a heap
        // allocation per link.
        let mut raw = [0u8; 64];
        let len = rustix::fs::readlinkat_raw(&self.fd, ns_file, &mut raw)
            .map_err(|e| SysError::io(self.path.join(ns_file), e.into()))?;
        let text = String::from_utf8_lossy(raw.get(..len).unwrap_or(&raw));
        match parse::parse_ns_link(&text) {
            Some((t, ino)) if t == ns_type => Ok(NsId { dev: nsfs_dev, ino }),
            _ => Err(SysError::parse(
                self.path.join(ns_file),
                format!("unexpected link {text:?}"),
            )),
        }
    }
}

/// The device of the nsfs superblock (st_dev of any namespace file), or 0 where there is none
/// (a fixture tree, whose ns links are dangling).
pub fn nsfs_device(roots: &Roots) -> u64 {
    fs::metadata(roots.proc.join("self/ns/user"))
        .map(|m| {
            use std::os::unix::fs::MetadataExt;
            m.dev()
        })
        .unwrap_or(0)
}

/// What one pass knows before reading processes.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReadContext {
    /// nsview's own pid namespace: processes inside it need no NSpid lookup.
    pub own_pid_ns: Option<NsId>,
    /// See [`nsfs_device`].
    pub nsfs_dev: u64,
    /// Also read each process's [`RunStamp`] (before anything else of it), for a later
    /// [`reread_process`].
    pub run_stamps: bool,
}

/// How much a process's main thread has run, from /proc/PID/schedstat: time on a CPU (ns), time
/// spent waiting for one (ns), and the number of times it was given one (sched-stats.rst). The
/// line stays the same, to the byte, while the thread does not run, and changes as soon as it
/// does (checked on 6.18).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunStamp([u64; 3]);

/// /proc/PID/schedstat as a [`RunStamp`]. Any failure is "no telling", not "gone": the file is
/// missing without CONFIG_SCHED_INFO (and in fixture trees), and a process that exited is noticed
/// by the reads that follow.
fn read_run_stamp(dir: &ProcDir, buf: &mut ReadBuf) -> Option<RunStamp> {
    parse_schedstat(&dir.read_text("schedstat", buf).ok()?)
}

/// /proc/PID/schedstat: "runtime delay count". `None` for the "0 0 0" the kernel prints when it
/// does not keep the counts: then there is no telling.
fn parse_schedstat(text: &str) -> Option<RunStamp> {
    let mut f = text.split_ascii_whitespace().map(|v| v.parse::<u64>());
    let stamp = [f.next()?.ok()?, f.next()?.ok()?, f.next()?.ok()?];
    (stamp != [0, 0, 0]).then_some(RunStamp(stamp))
}

/// The handles of a process just read, for reading more of it without new path lookups. Drop
/// them soon: thousands of open descriptors make the kernel grow the fd table, which stalls every
/// thread of the process (synchronize_rcu).
pub struct OpenProcess {
    pub dir: ProcDir,
    pub ns_dir: NsDir,
}

/// What reading one process yields besides the [`Process`] itself.
pub struct ProcessRead {
    pub process: Process,
    /// Files that could not be read for lack of permission (for one warning).
    pub denied: Vec<PathBuf>,
    /// Inode of the /proc/PID directory the process was read through (its identity, see
    /// [`list_pids_with_ino`]).
    pub ino: u64,
    /// Read before everything else when [`ReadContext::run_stamps`] is set.
    pub stamp: Option<RunStamp>,
    /// [`content_hash`] of /proc/PID/cgroup (0 when unreadable).
    pub cgroup_hash: u64,
}

/// What is already known of a process being read again: the parts that cannot change while the
/// process lives, valid only for the process whose /proc/PID inode is `ino`.
#[derive(Debug, Clone, Copy)]
pub struct Known<'a> {
    pub ino: u64,
    /// NSpid: a process never changes pid namespace (setns(2) with CLONE_NEWPID only changes
    /// pid_for_children), so its PIDs in the nested namespaces are fixed for life. `None`: not
    /// known (status is read).
    pub nspid: Option<&'a [i32]>,
    /// Its pid namespace (/proc/PID/ns/pid), fixed for life for the same reason.
    pub pid_ns: Option<NsId>,
    /// Its [`RunStamp`] when it was read: see [`reread_process`].
    pub stamp: Option<RunStamp>,
    /// [`content_hash`] of its /proc/PID/cgroup when it was read.
    pub cgroup_hash: u64,
    /// Its UID, comm and command line as read: what [`reread_process`] compares when asked to
    /// check what others can change in a process that has not run.
    pub uid: u32,
    pub comm: &'a str,
    pub cmdline: &'a [String],
}

/// Cgroup path per hierarchy key, as in [`Process::cgroups`].
pub type CgroupPaths = BTreeMap<Arc<str>, Arc<str>>;

/// What [`reread_process`] found.
// Returned by value once per process and taken apart at once: boxing would only add an
// allocation.
#[allow(clippy::large_enum_variant)]
pub enum Reread {
    /// Read again in full (it ran since, or there was no telling).
    Read(ProcessRead, OpenProcess),
    /// It has not run since it was read: only its cgroups, which others can change, were read;
    /// `None` when /proc/PID/cgroup is what it was ([`Known::cgroup_hash`]).
    Idle {
        cgroups: Option<CgroupPaths>,
        cgroup_hash: u64,
    },
}

/// A 64-bit FNV-1a hash of a file's bytes: whether a file read again is what it was, without
/// keeping (or touching) what was parsed from it.
pub fn content_hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Read a process known from an earlier read again, cheaply when it has not run since.
///
/// Namespaces (setns, unshare), the command line (exec, setproctitle), comm, UID and the
/// *_for_children links change only by what the process does itself. When its main thread has
/// not run since `known` was read (same [`RunStamp`], and the stamp is read before the rest) they
/// cannot have changed, and only /proc/PID/cgroup is read again: another process can move it to
/// another cgroup at any time. Its UID (the owner of /proc/PID, from the fstat that gives the
/// inode) is compared for free. Changes made to it by its other threads or by a debugger (its
/// argv area written, /proc/PID/comm written) do not show in the stamp: with `check_others`,
/// cmdline and stat are read too and compared with `known`. Anything that differs, and a process
/// that ran, is read again in full, as by [`read_process_known`].
pub fn reread_process(
    roots: &Roots,
    pid: i32,
    ctx: &ReadContext,
    scratch: &mut Scratch,
    known: Known<'_>,
    check_others: bool,
) -> SysResult<Reread> {
    let dir = ProcDir::open(roots, pid)?;
    let (uid, ino) = dir.read_owner_and_ino()?;
    let stamp = read_run_stamp(&dir, &mut scratch.buf);
    let idle = ino == known.ino && stamp.is_some() && stamp == known.stamp && uid == known.uid;
    let unchanged = |scratch: &mut Scratch| -> SysResult<bool> {
        if !check_others {
            return Ok(true);
        }
        let same_cmdline = match dir.read_cmdline("cmdline", &mut scratch.buf) {
            Ok(c) => c == known.cmdline,
            Err(e) if e.is_vanished() => return Err(e),
            Err(_) => false,
        };
        let same_comm = same_cmdline
            && match dir.read_text("stat", &mut scratch.buf) {
                Ok(t) => parse::parse_stat(&t).is_some_and(|s| s.comm == known.comm),
                Err(e) if e.is_vanished() => return Err(e),
                Err(_) => false,
            };
        Ok(same_comm)
    };
    if idle && unchanged(scratch)? {
        match dir.read_into("cgroup", &mut scratch.buf) {
            Ok(bytes) => {
                let cgroup_hash = content_hash(bytes);
                if cgroup_hash == known.cgroup_hash {
                    return Ok(Reread::Idle {
                        cgroups: None,
                        cgroup_hash,
                    });
                }
                let lines = parse::parse_proc_pid_cgroup(&String::from_utf8_lossy(bytes));
                let cgroups = lines
                    .iter()
                    .map(|l| (scratch.intern(&l.key), scratch.intern(&l.path)))
                    .collect();
                return Ok(Reread::Idle {
                    cgroups: Some(cgroups),
                    cgroup_hash,
                });
            }
            Err(e) if e.is_vanished() => return Err(e),
            // Read in full, which records what could not be read.
            Err(_) => {}
        }
    }
    read_process_in(dir, uid, ino, Some(stamp), pid, ctx, scratch, Some(known))
        .map(|(r, open)| Reread::Read(r, open))
}

/// Read one process: /proc/PID/ns/*, stat or status, cmdline and cgroup. A process that vanished
/// while being read gives `Err(Vanished)`; unreadable parts are absent and listed in `denied`.
pub fn read_process(
    roots: &Roots,
    pid: i32,
    ctx: &ReadContext,
    scratch: &mut Scratch,
) -> SysResult<(ProcessRead, OpenProcess)> {
    read_process_known(roots, pid, ctx, scratch, None)
}

/// [`read_process`] for a process read before: when `known` is still the same process (same
/// /proc/PID inode), its NSpid is taken from `known` and the small stat file is read instead of
/// status. Everything else is read as for a new process.
pub fn read_process_known(
    roots: &Roots,
    pid: i32,
    ctx: &ReadContext,
    scratch: &mut Scratch,
    known: Option<Known<'_>>,
) -> SysResult<(ProcessRead, OpenProcess)> {
    let dir = ProcDir::open(roots, pid)?;
    let (uid, ino) = dir.read_owner_and_ino()?;
    read_process_in(dir, uid, ino, None, pid, ctx, scratch, known)
}

/// The body of [`read_process_known`] once /proc/PID is open; `stamp` is the [`RunStamp`] when
/// the caller already read it.
#[allow(clippy::too_many_arguments)]
fn read_process_in(
    dir: ProcDir,
    uid: u32,
    ino: u64,
    stamp: Option<Option<RunStamp>>,
    pid: i32,
    ctx: &ReadContext,
    scratch: &mut Scratch,
    known: Option<Known<'_>>,
) -> SysResult<(ProcessRead, OpenProcess)> {
    let mut denied = Vec::new();
    let known = known.filter(|k| k.ino == ino);
    // First, so that a change made after it shows as a new stamp next time.
    let stamp = match stamp {
        Some(s) => s,
        None if ctx.run_stamps => read_run_stamp(&dir, &mut scratch.buf),
        None => None,
    };

    let ns_dir = dir.ns_dir()?;
    let ns = read_ns_links(&ns_dir, ctx, known.and_then(|k| k.pid_ns), &mut denied);

    let mut cmdline = match dir.read_cmdline("cmdline", &mut scratch.buf) {
        Ok(c) => c,
        Err(e) if e.is_vanished() => return Err(e),
        Err(_) => Vec::new(),
    };

    let (cgroups, cgroup_hash) = read_cgroup_with_hash(&dir, scratch, &mut denied)?;

    let pid_for_children = read_for_children(&ns_dir, "pid_for_children", NsType::Pid, &ns, ctx);
    let time_for_children = read_for_children(&ns_dir, "time_for_children", NsType::Time, &ns, ctx);
    // Last: a process that had not begun to exit by now had its memory (command line),
    // namespaces and cgroups when they were read. One that had is dropped as gone unless it was
    // a zombie all along (see `whole_at_its_end`): never shown half read.
    let basics = read_basics(&dir, pid, &ns, ctx, known, &mut scratch.buf)?;
    // An exec in progress shows no command line for a moment (the new memory is in place before
    // its arguments are): once more, now that it is known not to be exiting.
    if cmdline.is_empty() && !basics.kernel_thread && basics.ending.is_none() {
        cmdline = dir
            .read_cmdline("cmdline", &mut scratch.buf)
            .unwrap_or_default();
    }
    if !whole_at_its_end(basics.ending, &ns, &cmdline) {
        return Err(SysError::Vanished {
            path: dir.path().join("stat"),
        });
    }

    let read = ProcessRead {
        process: Process {
            pid,
            ppid: basics.ppid,
            nspid: if basics.nspid.is_empty() {
                vec![pid]
            } else {
                basics.nspid
            },
            comm: basics.comm,
            cmdline,
            uid,
            ns,
            pid_for_children,
            time_for_children,
            cgroups,
            kernel_thread: basics.kernel_thread,
        },
        denied,
        ino,
        stamp,
        cgroup_hash,
    };
    Ok((read, OpenProcess { dir, ns_dir }))
}

/// /proc/PID/ns/*: the process's namespaces (its pid namespace is `known_pid_ns` when known:
/// not read again). Links denied go to `denied`.
fn read_ns_links(
    ns_dir: &NsDir,
    ctx: &ReadContext,
    known_pid_ns: Option<NsId>,
    denied: &mut Vec<PathBuf>,
) -> BTreeMap<NsType, NsId> {
    let mut ns = BTreeMap::new();
    for t in NsType::ALL {
        if t == NsType::Pid && known_pid_ns.is_some() {
            continue;
        }
        match ns_dir.read(t.proc_file(), t, ctx.nsfs_dev) {
            Ok(id) => {
                ns.insert(t, id);
            }
            // A type the kernel lacks has no file: absent, not an error. A process that exited
            // makes every link vanish, which the reads below notice.
            Err(e) if e.is_permission() => denied.push(e.path().to_path_buf()),
            Err(_) => {}
        }
    }
    // The links of a process all read alike (one permission check, gone together when it
    // exits): when the others were read, so would its pid namespace have been.
    if let Some(pid_ns) = known_pid_ns
        && !ns.is_empty()
    {
        ns.insert(NsType::Pid, pid_ns);
    }
    ns
}

/// /proc/PID/ns/pid_for_children or time_for_children (`file`): the namespace the process's
/// next children get, when it differs from its own (in `ns`).
fn read_for_children(
    ns_dir: &NsDir,
    file: &str,
    t: NsType,
    ns: &BTreeMap<NsType, NsId>,
    ctx: &ReadContext,
) -> Option<NsId> {
    let id = ns_dir.read(file, t, ctx.nsfs_dev).ok()?;
    (ns.get(&t) != Some(&id)).then_some(id)
}

/// Name, PPid, NSpid and PF_KTHREAD of process `pid` in namespaces `ns`, from /proc/PID/status
/// or /proc/PID/stat.
fn read_basics(
    dir: &ProcDir,
    pid: i32,
    ns: &BTreeMap<NsType, NsId>,
    ctx: &ReadContext,
    known: Option<Known<'_>>,
    buf: &mut ReadBuf,
) -> SysResult<Basics> {
    // One of stat and status is enough: status has Name, PPid and NSpid, and NSpid matters only
    // outside our own pid namespace (inside it, the only PID is the one we know). Kernel threads
    // all live in the initial pid namespace, so they take the stat path, which has PF_KTHREAD.
    let in_own_pid_ns = ctx.own_pid_ns.is_some() && ns.get(&NsType::Pid) == ctx.own_pid_ns.as_ref();
    if in_own_pid_ns {
        return read_basics_from_stat(dir, pid, buf);
    }
    if let Some(nspid) = known.and_then(|k| k.nspid) {
        return Ok(Basics {
            nspid: nspid.to_vec(),
            ..read_basics_from_stat(dir, pid, buf)?
        });
    }
    let nspid = match dir.read_text("status", buf) {
        Ok(t) => parse::parse_status(&t).nspid,
        Err(e) if e.is_vanished() => return Err(e),
        Err(_) => Vec::new(),
    };
    // stat as well, for the flags that tell a process that is ending (status has none).
    let basics = read_basics_from_stat(dir, pid, buf)?;
    Ok(if nspid.is_empty() {
        basics
    } else {
        Basics { nspid, ..basics }
    })
}

/// /proc/PID/cgroup and the [`content_hash`] of its bytes (0 and no cgroups when it cannot be
/// read; denied, it goes to `denied`).
fn read_cgroup_with_hash(
    dir: &ProcDir,
    scratch: &mut Scratch,
    denied: &mut Vec<PathBuf>,
) -> SysResult<(CgroupPaths, u64)> {
    match dir.read_into("cgroup", &mut scratch.buf) {
        Ok(bytes) => {
            let hash = content_hash(bytes);
            Ok((cgroup_paths(bytes, &mut scratch.strings), hash))
        }
        Err(e) if e.is_vanished() => Err(e),
        Err(e) => {
            denied.push(e.path().to_path_buf());
            Ok((BTreeMap::new(), 0))
        }
    }
}

/// /proc/PID/cgroup of process `pid`, from the /proc directory ([`ProcDir::open_root`]).
pub fn read_cgroup_paths(
    proc_root: &ProcDir,
    pid: i32,
    scratch: &mut Scratch,
) -> SysResult<CgroupPaths> {
    let bytes = proc_root.read_into(&format!("{pid}/cgroup"), &mut scratch.buf)?;
    Ok(cgroup_paths(bytes, &mut scratch.strings))
}

fn cgroup_paths(bytes: &[u8], strings: &mut HashSet<Arc<str>>) -> CgroupPaths {
    parse::parse_proc_pid_cgroup(&String::from_utf8_lossy(bytes))
        .iter()
        .map(|l| (intern(strings, &l.key), intern(strings, &l.path)))
        .collect()
}

/// What stat or status tell about a process.
struct Basics {
    comm: String,
    ppid: i32,
    nspid: Vec<i32>,
    kernel_thread: bool,
    /// The process is ending ([`parse::StatFields::ending`]): a zombie (`Some('Z')`) or still
    /// exiting (its state letter).
    ending: Option<char>,
}

/// Whether what was read of a process that stat, read last, says is `ending` is whole: nothing
/// of a process that was still exiting (it may have given up its memory, namespaces and v1
/// cgroups between two reads), and of a zombie only what a zombie has: no command line, no
/// namespaces but its pid and user ones (or none, denied), all of it read after it died.
fn whole_at_its_end(ending: Option<char>, ns: &BTreeMap<NsType, NsId>, cmdline: &[String]) -> bool {
    match ending {
        None => true,
        Some('Z') => {
            cmdline.is_empty() && ns.keys().all(|t| matches!(t, NsType::Pid | NsType::User))
        }
        Some(_) => false,
    }
}

/// /proc/PID/stat: comm, ppid, PF_KTHREAD and whether it is ending (no NSpid: the caller knows
/// it is the plain PID).
fn read_basics_from_stat(dir: &ProcDir, pid: i32, buf: &mut ReadBuf) -> SysResult<Basics> {
    let text = dir.read_text("stat", buf)?;
    let stat = parse::parse_stat(&text)
        .ok_or_else(|| SysError::parse(dir.path().join("stat"), "unexpected format"))?;
    Ok(Basics {
        ending: stat.ending().then_some(stat.state),
        comm: stat.comm,
        ppid: stat.ppid,
        nspid: vec![pid],
        kernel_thread: stat.flags & parse::PF_KTHREAD != 0,
    })
}

/// The number of tasks (threads included) on the host: the denominator of the fourth field of
/// /proc/loadavg ("1/4890"), a quick upper bound of the process count.
pub fn read_loadavg_tasks(roots: &Roots) -> SysResult<usize> {
    let path = roots.proc.join("loadavg");
    let text = std::fs::read_to_string(&path).map_err(|e| SysError::io(&path, e))?;
    parse::parse_loadavg_tasks(&text).ok_or_else(|| SysError::parse(&path, "no task count"))
}

/// /proc/self: the link to the caller's PID as the procfs at `roots.proc` numbers it (another
/// pid namespace's procfs names another number, or none).
pub fn read_self_link(roots: &Roots) -> SysResult<PathBuf> {
    let path = roots.proc.join("self");
    fs::read_link(&path).map_err(|e| SysError::io(&path, e))
}

/// /proc/self/ns/pid: the caller's pid namespace, from the link ("pid:[4026531836]").
pub fn read_self_pid_ns_link(roots: &Roots) -> SysResult<(NsType, u64)> {
    let path = roots.proc.join("self/ns/pid");
    let target = fs::read_link(&path).map_err(|e| SysError::io(&path, e))?;
    parse::parse_ns_link(&target.to_string_lossy())
        .ok_or_else(|| SysError::parse(&path, "not a namespace link"))
}

/// /proc/self/mountinfo: the mounts nsview itself sees (cgroup hierarchies).
pub fn read_self_mountinfo(roots: &Roots) -> SysResult<Vec<parse::MountLine>> {
    let path = roots.proc.join("self/mountinfo");
    let text = fs::read_to_string(&path).map_err(|e| SysError::io(&path, e))?;
    Ok(parse::parse_mountinfo(&text))
}

/// /proc/self/cgroup: the hierarchy keys as the kernel names them.
pub fn read_self_cgroup(roots: &Roots) -> SysResult<Vec<parse::CgroupLine>> {
    let path = roots.proc.join("self/cgroup");
    let text = fs::read_to_string(&path).map_err(|e| SysError::io(&path, e))?;
    Ok(parse::parse_proc_pid_cgroup(&text))
}

/// /proc/PID/cgroup of one process: its hierarchy keys and paths.
pub fn read_pid_cgroup(roots: &Roots, pid: i32) -> SysResult<Vec<parse::CgroupLine>> {
    let path = roots.pid_dir(pid).join("cgroup");
    let text = fs::read_to_string(&path).map_err(|e| SysError::io(&path, e))?;
    Ok(parse::parse_proc_pid_cgroup(&text))
}

/// /proc/PID/stat of one process: comm, flags (PF_KTHREAD), start time.
pub fn read_pid_stat(roots: &Roots, pid: i32) -> SysResult<parse::StatFields> {
    let path = roots.pid_dir(pid).join("stat");
    let text = fs::read_to_string(&path).map_err(|e| SysError::io(&path, e))?;
    parse::parse_stat(&text).ok_or_else(|| SysError::parse(&path, "unexpected format"))
}

/// /proc/cgroups: controller -> (hierarchy id, enabled).
pub fn read_proc_cgroups(roots: &Roots) -> SysResult<Vec<(String, u32, bool)>> {
    use procfs_core::FromBufRead;
    let path = roots.proc.join("cgroups");
    let file = fs::File::open(&path).map_err(|e| SysError::io(&path, e))?;
    let ctl = procfs_core::CGroupControllers::from_buf_read(std::io::BufReader::new(file))
        .map_err(|e| SysError::parse(&path, e.to_string()))?;
    Ok(ctl
        .0
        .into_iter()
        .map(|c| (c.name, c.hierarchy, c.enabled))
        .collect())
}

/// /proc/devices: (is_block, major) -> driver name.
pub fn read_proc_devices(roots: &Roots) -> SysResult<BTreeMap<(bool, u32), String>> {
    use procfs_core::FromBufRead;
    let path = roots.proc.join("devices");
    let file = fs::File::open(&path).map_err(|e| SysError::io(&path, e))?;
    let dev = procfs_core::Devices::from_buf_read(std::io::BufReader::new(file))
        .map_err(|e| SysError::parse(&path, e.to_string()))?;
    let mut out = BTreeMap::new();
    for c in dev.char_devices {
        out.insert((false, c.major), c.name);
    }
    for b in dev.block_devices {
        if let Ok(major) = u32::try_from(b.major) {
            out.insert((true, major), b.name);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_line_is_bounded() {
        let dir = tempfile::tempdir().expect("tempdir");
        let huge: Vec<u8> = (0..100_000)
            .flat_map(|i| format!("arg{i}\0").into_bytes())
            .collect();
        std::fs::write(dir.path().join("cmdline"), &huge).expect("write");
        std::fs::write(dir.path().join("short"), b"sleep\x00100\x00").expect("write");
        let many: Vec<u8> = (0..5000).flat_map(|_| b"a\0".to_vec()).collect();
        std::fs::write(dir.path().join("many"), &many).expect("write");
        let exact = vec![b'x'; CMDLINE_MAX_BYTES];
        std::fs::write(dir.path().join("exact"), &exact).expect("write");
        let d = ProcDir::open_path(dir.path().to_path_buf()).expect("open");
        let mut buf = ReadBuf::default();
        let args = d.read_cmdline("cmdline", &mut buf).expect("read");
        assert_eq!(args.last().map(String::as_str), Some(CMDLINE_CUT_MARKER));
        let kept: usize = args[..args.len() - 1].iter().map(|a| a.len() + 1).sum();
        assert!(kept <= CMDLINE_MAX_BYTES + 1, "{kept}");
        assert!(args.len() <= CMDLINE_MAX_ARGS + 1);
        assert!(
            buf.data.len() <= CMDLINE_MAX_BYTES + 1,
            "{}",
            buf.data.len()
        );
        assert_eq!(
            d.read_cmdline("short", &mut buf).expect("read"),
            ["sleep", "100"]
        );
        let args = d.read_cmdline("many", &mut buf).expect("read");
        assert_eq!(args.len(), CMDLINE_MAX_ARGS + 1);
        assert_eq!(args.last().map(String::as_str), Some(CMDLINE_CUT_MARKER));
        // Exactly at the bound: whole, no marker.
        let args = d.read_cmdline("exact", &mut buf).expect("read");
        assert_eq!(args.len(), 1);
        assert_eq!(args[0].len(), CMDLINE_MAX_BYTES);
    }

    #[test]
    fn schedstat_is_a_stamp_unless_the_kernel_keeps_no_counts() {
        assert_eq!(
            parse_schedstat("290590 432228 1\n"),
            Some(RunStamp([290590, 432228, 1]))
        );
        assert_ne!(
            parse_schedstat("290590 432228 1\n"),
            parse_schedstat("379151 432228 2\n")
        );
        assert_eq!(parse_schedstat("0 0 0\n"), None);
        assert_eq!(parse_schedstat("12 34\n"), None);
        assert_eq!(parse_schedstat(""), None);
        assert_eq!(parse_schedstat("a b c\n"), None);
    }

    #[test]
    fn content_hash_tells_contents_apart() {
        assert_ne!(content_hash(b"0::/a\n"), content_hash(b"0::/b\n"));
        assert_eq!(content_hash(b"0::/a\n"), content_hash(b"0::/a\n"));
    }

    #[test]
    fn only_pid_names_are_pids() {
        assert_eq!(parse_pid(b"1"), Some(1));
        assert_eq!(parse_pid(b"4194304"), Some(4194304));
        for name in [
            &b"self"[..],
            b"thread-self",
            b"0",
            b"01",
            b"+5",
            b"-5",
            b"",
            b"12a",
        ] {
            assert_eq!(parse_pid(name), None, "{:?}", String::from_utf8_lossy(name));
        }
    }

    #[test]
    fn listing_a_fixture_proc_gives_sorted_pids_and_inodes() {
        use std::os::unix::fs::MetadataExt;
        let tmp = tempfile::tempdir().expect("tempdir");
        let proc_dir = tmp.path().join("proc");
        for name in ["300", "2", "1000", "self", "cgroups"] {
            fs::create_dir_all(proc_dir.join(name)).expect("mkdir");
        }
        let roots = Roots::under(tmp.path());
        let listed = list_pids_with_ino(&roots).expect("list");
        let ino = |n: &str| fs::metadata(proc_dir.join(n)).expect("stat").ino();
        assert_eq!(
            listed,
            vec![(2, ino("2")), (300, ino("300")), (1000, ino("1000"))]
        );
        assert_eq!(list_pids(&roots).expect("list"), vec![2, 300, 1000]);
        assert!(list_pids(&Roots::under(&tmp.path().join("nope"))).is_err());
    }
}
