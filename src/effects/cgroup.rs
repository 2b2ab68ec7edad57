//! Writing cgroups: limits (`nsview set`, the TUI's edit form), freeze and thaw, moving a
//! process, v1 device rules, and undo. Every write here goes: validate (see [`crate::policy::limits`])
//! -> read the old value -> write -> re-read -> journal; a failure part-way through rolls back
//! what was already written, and a change that could not be journaled is never made.
//!
//! Files are opened only below a detected cgroup mount point, with openat2(2)
//! RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV, from a cgroup path whose components
//! were checked (no `..`, no `.`), so no input can steer a write elsewhere.

use super::journal::{self, Action, Change, Entry, Journal, JournalError};
use crate::model::{Hierarchy, Snapshot};
use crate::policy::devices::DeviceRuleSpec;
use crate::policy::limits::{self, Assignment, Current, FileWrite, InputError, Place};
use crate::sys::Roots;
use crate::sys::parse::{self, parse_cpu_list};
use rustix::fs::{Mode, OFlags, ResolveFlags};
use rustix::io::Errno;
use std::fmt::Write as _;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// statfs(2) f_type of cgroup v1 and v2 (linux/magic.h).
const CGROUP_SUPER_MAGIC: i64 = 0x0027_e0eb;
const CGROUP2_SUPER_MAGIC: i64 = 0x6367_7270;

/// One cgroup directory in one hierarchy: where a write can land.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// Hierarchy key ("memory", "cpu,cpuacct", "unified").
    pub hierarchy: String,
    pub version: u8,
    /// The hierarchy's mount point, reachable from here.
    pub mount: PathBuf,
    /// Path inside the hierarchy ("/docker/<id>").
    pub path: String,
}

impl Location {
    /// The directory, for messages.
    pub fn dir(&self) -> PathBuf {
        self.mount.join(self.path.trim_start_matches('/'))
    }

    fn file(&self, file: &str) -> PathBuf {
        self.dir().join(file)
    }

    /// The hierarchy's directory name for messages ("memory", "cpu,cpuacct", "unified").
    pub fn label(&self) -> String {
        format!("{}:{}", self.hierarchy, self.path)
    }
}

/// Everything that can go wrong when changing a cgroup, as one line for the admin.
#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error(
        "nsview is read-only (--read-only, or read_only = true in the config): {0} refused, nothing written"
    )]
    ReadOnly(String),
    #[error("{}: {}", path.display(), explain(file, value.as_deref(), *errno))]
    Kernel {
        path: PathBuf,
        file: String,
        /// What was being written, None for a read.
        value: Option<String>,
        errno: Errno,
    },
    #[error("refusing {path}: {why}")]
    Unsafe { path: String, why: &'static str },
    #[error("{}: not a cgroup file system", .0.display())]
    NotCgroupfs(PathBuf),
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error("{what}")]
    Unsupported { what: String },
    #[error("{first}; {rollback}")]
    RolledBack {
        first: Box<CgroupError>,
        rollback: String,
    },
    #[error("{what}")]
    Conflict { what: String },
}

impl CgroupError {
    /// The cgroup or process behind the error is gone.
    pub fn is_vanished(&self) -> bool {
        matches!(
            self,
            CgroupError::Kernel {
                errno: Errno::NOENT | Errno::NODEV | Errno::SRCH,
                ..
            }
        )
    }

    fn kernel(loc: &Location, file: &str, value: Option<&str>, errno: Errno) -> Self {
        CgroupError::Kernel {
            path: loc.file(file),
            file: file.to_string(),
            value: value.map(str::to_string),
            errno,
        }
    }
}

/// What a refused write means, per file and errno (cgroup-v1/*.rst, cgroup-v2.rst).
fn explain(file: &str, value: Option<&str>, errno: Errno) -> String {
    let what = value.map_or_else(|| "reading".to_string(), |v| format!("writing '{v}'"));
    let name = errno_name(errno);
    let why = match (errno, file) {
        (Errno::NOENT | Errno::NODEV, _) => "the cgroup vanished".to_string(),
        (Errno::PERM, "devices.allow") => {
            "the parent cgroup does not allow that device (a child can have only what its \
             parent has)"
                .into()
        }
        (Errno::ACCESS | Errno::PERM, _) => {
            "permission denied: changing cgroups needs root (or a cgroup delegated to you)".into()
        }
        (Errno::ROFS, _) => {
            "the cgroup file system is mounted read-only here (inside a container?)".into()
        }
        (Errno::BUSY, "memory.limit_in_bytes" | "memory.memsw.limit_in_bytes") => {
            "the group uses more memory than that and the kernel could not reclaim enough; the old \
             limit stays"
                .into()
        }
        (Errno::BUSY, "cgroup.procs") => {
            "a v2 cgroup that enables controllers for its children cannot hold processes (no \
             internal processes); pick a leaf"
                .into()
        }
        (Errno::INVAL, "memory.limit_in_bytes") => {
            "must stay <= memory.memsw.limit_in_bytes (memory + swap): raise that first, or set \
             both"
                .into()
        }
        (Errno::INVAL, "memory.memsw.limit_in_bytes") => "must be >= memory.limit_in_bytes".into(),
        (Errno::INVAL, "cpu.cfs_quota_us" | "cpu.cfs_period_us" | "cpu.max") => {
            "does not fit the parent's CPU bandwidth or the allowed range".into()
        }
        (Errno::INVAL | Errno::NOSPC, "cpuset.cpus" | "cpuset.mems") => {
            "not within the parent's set, offline, or empty while the group has processes".into()
        }
        (Errno::INVAL, "cgroup.procs") => {
            "this process cannot be moved (a kernel thread, or a thread of a process)".into()
        }
        (Errno::SRCH, "cgroup.procs") => "the process is gone".into(),
        (Errno::INVAL, _) => "the kernel rejected the value".into(),
        _ => errno.to_string(),
    };
    format!("{what}: {why} ({name})")
}

fn errno_name(errno: Errno) -> &'static str {
    match errno {
        Errno::NOENT => "ENOENT",
        Errno::NODEV => "ENODEV",
        Errno::ACCESS => "EACCES",
        Errno::PERM => "EPERM",
        Errno::ROFS => "EROFS",
        Errno::BUSY => "EBUSY",
        Errno::INVAL => "EINVAL",
        Errno::NOSPC => "ENOSPC",
        Errno::SRCH => "ESRCH",
        Errno::OPNOTSUPP => "EOPNOTSUPP",
        _ => "errno",
    }
}

/// A cgroup path as it may be used below a mount point: absolute, no empty, `.` or `..`
/// components, no NUL.
fn check_cgroup_path(path: &str) -> Result<&str, CgroupError> {
    let unsafe_path = |why| CgroupError::Unsafe {
        path: path.to_string(),
        why,
    };
    if !path.starts_with('/') {
        return Err(unsafe_path("a cgroup path starts with /"));
    }
    if path.contains('\0') {
        return Err(unsafe_path("NUL in path"));
    }
    let rel = path.trim_start_matches('/');
    if rel
        .split('/')
        .any(|c| c == ".." || c == "." || (c.is_empty() && !rel.is_empty()))
    {
        return Err(unsafe_path("only plain names between slashes"));
    }
    Ok(rel)
}

/// Open a control file of `loc` strictly below its mount point.
fn open_control(loc: &Location, file: &str, write: bool) -> Result<OwnedFd, CgroupError> {
    if file.contains('/') || file.starts_with('.') || file.is_empty() {
        return Err(CgroupError::Unsafe {
            path: file.to_string(),
            why: "not a control file name",
        });
    }
    let rel = check_cgroup_path(&loc.path)?;
    let mount = rustix::fs::open(
        &loc.mount,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| CgroupError::kernel(loc, file, None, e))?;
    let st = rustix::fs::fstatfs(&mount).map_err(|e| CgroupError::kernel(loc, file, None, e))?;
    // On the live system the mount must be cgroupfs; fixture trees (tests) are plain files.
    let magic = st.f_type as i64;
    if magic != CGROUP_SUPER_MAGIC && magic != CGROUP2_SUPER_MAGIC && is_live_mount(&loc.mount) {
        return Err(CgroupError::NotCgroupfs(loc.mount.clone()));
    }
    let rel_file = if rel.is_empty() {
        file.to_string()
    } else {
        format!("{rel}/{file}")
    };
    // O_TRUNC as the shell's `echo > file` does: a no-op on cgroupfs, and it keeps a fixture
    // tree's plain files exact.
    let flags = if write {
        OFlags::WRONLY | OFlags::TRUNC | OFlags::CLOEXEC | OFlags::NOFOLLOW
    } else {
        OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOFOLLOW
    };
    rustix::fs::openat2(
        &mount,
        rel_file.as_str(),
        flags,
        Mode::empty(),
        ResolveFlags::BENEATH
            | ResolveFlags::NO_SYMLINKS
            | ResolveFlags::NO_MAGICLINKS
            | ResolveFlags::NO_XDEV,
    )
    .map_err(|e| {
        // A file missing from a cgroup that is there: the controller or feature that provides
        // it is off (memsw files need swap accounting), not a vanished cgroup.
        if e == Errno::NOENT && loc.dir().is_dir() {
            CgroupError::Unsupported {
                what: format!(
                    "{}: no {file} here (the controller or kernel feature that provides it is \
                     not enabled for this cgroup{})",
                    loc.dir().display(),
                    if file.contains("memsw") || file.contains("swap") {
                        "; swap files need swap accounting"
                    } else {
                        ""
                    }
                ),
            }
        } else {
            CgroupError::kernel(loc, file, write.then_some(""), e)
        }
    })
}

/// Mount points under the real /sys/fs/cgroup are checked to be cgroupfs.
fn is_live_mount(mount: &Path) -> bool {
    mount.starts_with(crate::sys::roots::DEFAULT_CGROUP_MOUNT)
}

/// Read a control file (trailing newline removed).
pub fn read_control(loc: &Location, file: &str) -> Result<String, CgroupError> {
    let fd = open_control(loc, file, false)?;
    let mut buf = Vec::with_capacity(256);
    let mut chunk = [0u8; 4096];
    loop {
        match rustix::io::read(&fd, &mut chunk) {
            Ok(0) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(Errno::INTR) => continue,
            Err(e) => return Err(CgroupError::kernel(loc, file, None, e)),
        }
    }
    Ok(String::from_utf8_lossy(&buf).trim_end().to_string())
}

/// Write `content` to a control file in one write(2), as cgroupfs expects.
fn write_control(loc: &Location, file: &str, content: &str) -> Result<(), CgroupError> {
    let fd = open_control(loc, file, true).map_err(|e| match e {
        CgroupError::Kernel {
            path, file, errno, ..
        } => CgroupError::Kernel {
            path,
            file,
            value: Some(content.to_string()),
            errno,
        },
        other => other,
    })?;
    let bytes = content.as_bytes();
    // An empty write is how cpuset.cpus is emptied; a newline makes it a real write(2).
    let bytes: &[u8] = if bytes.is_empty() { b"\n" } else { bytes };
    match rustix::io::write(&fd, bytes) {
        Ok(n) if n == bytes.len() => Ok(()),
        Ok(_) => Err(CgroupError::kernel(loc, file, Some(content), Errno::IO)),
        Err(e) => Err(CgroupError::kernel(loc, file, Some(content), e)),
    }
}

/// Names of the files in `loc`'s directory.
fn list_files(loc: &Location) -> Result<Vec<String>, CgroupError> {
    let dir = loc.dir();
    check_cgroup_path(&loc.path)?;
    let entries = std::fs::read_dir(&dir).map_err(|e| CgroupError::Kernel {
        path: dir.clone(),
        file: String::new(),
        value: None,
        errno: Errno::from_io_error(&e).unwrap_or(Errno::IO),
    })?;
    Ok(entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| e.file_name().into_string().ok())
        .collect())
}

/// Whether the kernel's read-back `now` shows `written` took effect: v1 memory limits round down
/// to pages and read "unlimited" as a huge number; lists and whitespace are normalised.
pub fn same_value(file: &str, written: &str, now: &str) -> bool {
    let (w, n) = (written.trim(), now.trim());
    if w == n {
        return true;
    }
    if file.starts_with("cpuset.") {
        return parse_cpu_list(w).is_some() && parse_cpu_list(w) == parse_cpu_list(n);
    }
    if file == "cpu.max" {
        return w.split_ascii_whitespace().eq(n.split_ascii_whitespace());
    }
    if file.ends_with("_in_bytes")
        || matches!(
            file,
            "memory.max" | "memory.high" | "memory.low" | "memory.min" | "memory.swap.max"
        )
    {
        let (Ok(w), Ok(n)) = (w.parse::<i64>(), n.parse::<i64>()) else {
            return false;
        };
        if w < 0 || crate::model::format::is_unlimited(w) {
            return crate::model::format::is_unlimited(n);
        }
        // Rounded down to the page size (at most 64 KiB pages).
        return n <= w && w - n < 65536;
    }
    false
}

/// The writer: the one place that changes cgroups. `read_only` turns every method off.
#[derive(Debug, Clone)]
pub struct CgroupWriter {
    pub read_only: bool,
    pub journal: Journal,
}

/// One file as it was and as it is now, after a write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub location: Location,
    pub write: FileWrite,
    pub old: String,
    /// Re-read after writing.
    pub now: String,
}

impl Written {
    /// "memory:/a memory.limit_in_bytes 134217728 (128M) -> 268435456 (256M)" with the notes.
    pub fn describe(&self) -> String {
        let mut s = format!(
            "{} {}",
            self.location.label(),
            limits::describe(&self.write.file, &self.old, &self.now)
        );
        if !self
            .write
            .asked
            .starts_with(&format!("{}=", self.write.file))
        {
            let _ = write!(s, " (asked {})", self.write.asked);
        }
        if !same_value(&self.write.file, &self.write.content, &self.now) {
            let _ = write!(
                s,
                " [wrote {}, the kernel reads back {}]",
                self.write.content, self.now
            );
        }
        for n in &self.write.notes {
            let _ = write!(s, "; {n}");
        }
        s
    }

    /// What identifies this write in a preview: hierarchy, file, old value, new content.
    pub fn key(&self) -> PlannedKey {
        (
            self.location.hierarchy.clone(),
            self.write.file.clone(),
            self.old.clone(),
            self.write.content.clone(),
        )
    }

    pub fn change(&self) -> Change {
        Change {
            hierarchy: self.location.hierarchy.clone(),
            cgroup: self.location.path.clone(),
            file: self.write.file.clone(),
            old: self.old.clone(),
            new: self.now.clone(),
            pid: None,
            start: None,
            rule: None,
            via: None,
        }
    }
}

/// One write of a previewed set: hierarchy, file, old value, new content. A confirmed set must
/// plan exactly these again, or it writes nothing.
pub type PlannedKey = (String, String, String, String);

/// Refuse when the plan made under the lock is not the one the admin confirmed.
pub(crate) fn check_expected(
    expect: Option<&[PlannedKey]>,
    planned: &[Written],
) -> Result<(), CgroupError> {
    let Some(expect) = expect else { return Ok(()) };
    let now: Vec<PlannedKey> = planned
        .iter()
        .filter(|w| !same_value(&w.write.file, &w.write.content, &w.old))
        .map(Written::key)
        .collect();
    if now == expect {
        return Ok(());
    }
    Err(CgroupError::Conflict {
        what: "the values changed since the preview (someone else wrote the cgroup); nothing \
               written: look again"
            .into(),
    })
}

/// The outcome of a set: what changed (or would, with a dry run), and writes that were skipped
/// because the value was already in place.
#[derive(Debug, Clone, Default)]
pub struct SetOutcome {
    pub written: Vec<Written>,
    pub unchanged: Vec<Written>,
    pub dry_run: bool,
    pub entry: Option<Entry>,
    /// How it was applied when that is worth saying (through Docker's API, keys it could not
    /// take written directly).
    pub notes: Vec<String>,
}

/// The places of `locs` for planning.
fn places(locs: &[Location]) -> Result<Vec<Place>, CgroupError> {
    locs.iter()
        .map(|l| {
            Ok(Place {
                hierarchy: l.hierarchy.clone(),
                version: l.version,
                files: list_files(l)?,
            })
        })
        .collect()
}

/// Current values, read from the kernel at planning time.
struct Live<'a> {
    locs: &'a [Location],
}

impl Current for Live<'_> {
    fn get(&self, hierarchy: &str, file: &str) -> Option<String> {
        let loc = self.locs.iter().find(|l| l.hierarchy == hierarchy)?;
        read_control(loc, file).ok()
    }

    fn parent_list(&self, hierarchy: &str, file: &str) -> Option<String> {
        let loc = self.locs.iter().find(|l| l.hierarchy == hierarchy)?;
        let parent = parent_path(&loc.path)?;
        let parent = Location {
            path: parent,
            ..loc.clone()
        };
        // v2 children stay within the parent's effective set; v1 within its configured set.
        let effective = format!("{file}.effective");
        if loc.version == 2 {
            read_control(&parent, &effective).ok()
        } else {
            read_control(&parent, file).ok()
        }
    }
}

fn parent_path(path: &str) -> Option<String> {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return None;
    }
    let (parent, _) = trimmed.rsplit_once('/')?;
    Some(if parent.is_empty() {
        "/".into()
    } else {
        parent.into()
    })
}

impl CgroupWriter {
    pub(crate) fn check_writable(&self, what: &str) -> Result<(), CgroupError> {
        if self.read_only {
            Err(CgroupError::ReadOnly(what.to_string()))
        } else {
            Ok(())
        }
    }

    /// Plan `requests` for `locs` without writing: the old value of each file and the content
    /// that would be written.
    pub fn plan(
        &self,
        locs: &[Location],
        requests: &[Assignment],
    ) -> Result<Vec<Written>, CgroupError> {
        let places = places(locs)?;
        let writes = limits::plan(requests, &places, &Live { locs })?;
        writes
            .into_iter()
            .map(|w| {
                let loc = locs
                    .iter()
                    .find(|l| l.hierarchy == w.hierarchy)
                    .cloned()
                    .ok_or_else(|| CgroupError::Unsupported {
                        what: format!("no location for hierarchy {}", w.hierarchy),
                    })?;
                let old = read_control(&loc, &w.file)?;
                Ok(Written {
                    location: loc,
                    now: w.content.clone(),
                    write: w,
                    old,
                })
            })
            .collect()
    }

    /// Apply `requests` to `locs` all or nothing: validate, read old values, write in order,
    /// re-read each; on a failure, write the old values back (newest first) and report both.
    /// Journaled as one entry. `dry_run` stops after planning.
    pub fn set(
        &self,
        target: &str,
        locs: &[Location],
        requests: &[Assignment],
        dry_run: bool,
    ) -> Result<SetOutcome, CgroupError> {
        self.set_expecting(target, locs, requests, dry_run, None)
    }

    /// [`CgroupWriter::set`], writing only if the plan made under the lock is `expect` (the
    /// writes of a preview the admin confirmed).
    pub fn set_expecting(
        &self,
        target: &str,
        locs: &[Location],
        requests: &[Assignment],
        dry_run: bool,
        expect: Option<&[PlannedKey]>,
    ) -> Result<SetOutcome, CgroupError> {
        // The lock first, so that the old values read for the plan are the ones replaced: two
        // writers (the view and a command) cannot journal the same old value.
        let mut journal = if dry_run {
            None
        } else {
            self.check_writable("set")?;
            Some(self.journal.lock()?)
        };
        let planned = self.plan(locs, requests)?;
        refuse_root(planned.iter().map(|w| &w.location))?;
        if !dry_run {
            check_expected(expect, &planned)?;
        }
        let (unchanged, todo): (Vec<Written>, Vec<Written>) = planned
            .into_iter()
            .partition(|w| same_value(&w.write.file, &w.write.content, &w.old));
        let Some(journal) = journal.as_mut() else {
            return Ok(SetOutcome {
                written: todo,
                unchanged,
                dry_run: true,
                entry: None,
                notes: Vec::new(),
            });
        };
        let done = write_in_order(todo)?;
        let entry = match journal.append(
            Action::Set,
            target,
            done.iter().map(Written::change).collect(),
            None,
        ) {
            Ok(entry) => entry,
            // A change that cannot be journaled is not kept.
            Err(e) => return Err(rollback(e.into(), &done)),
        };
        Ok(SetOutcome {
            written: done,
            unchanged,
            dry_run: false,
            entry,
            notes: Vec::new(),
        })
    }

    /// Freeze (or thaw) the cgroup at `locs`: v1 freezer.state, else v2 cgroup.freeze; waits up
    /// to 2 s for the state to settle and reports the state reached.
    pub fn freeze(
        &self,
        target: &str,
        locs: &[Location],
        freeze: bool,
    ) -> Result<FreezeOutcome, CgroupError> {
        let verb = if freeze { "freeze" } else { "thaw" };
        let (loc, file) = freezer_of(locs).ok_or_else(|| CgroupError::Unsupported {
            what: format!(
                "{target}: no freezer here (neither a v1 freezer hierarchy with this cgroup nor a \
                 v2 cgroup.freeze; the root cgroup cannot be frozen)"
            ),
        })?;
        if freeze && holds_self(roots_of(&loc), &loc) {
            return Err(CgroupError::Conflict {
                what: format!(
                    "refusing to freeze {}: nsview itself runs in it (freezing it would stop \
                     nsview and this terminal); freeze a cgroup below it",
                    loc.label()
                ),
            });
        }
        self.check_writable(verb)?;
        let mut journal = self.journal.lock()?;
        // The journal keeps the file's own words (freezer.state THAWED/FROZEN, cgroup.freeze
        // 0/1), so that undo can compare and write them back as they are.
        let old = read_control(&loc, file)?;
        let old_state = read_state(&loc, file)?;
        let content = match (file, freeze) {
            ("freezer.state", true) => "FROZEN",
            ("freezer.state", false) => "THAWED",
            (_, true) => "1",
            (_, false) => "0",
        };
        write_control(&loc, file, content)?;
        let state = wait_state(&loc, file, freeze)?;
        if freeze && state != "FROZEN" {
            // A task that does not stop (uninterruptible sleep on NFS, say) leaves the group
            // half-frozen: put it back rather than leave it so.
            let thaw = if file == "freezer.state" {
                "THAWED"
            } else {
                "0"
            };
            let back = write_control(&loc, file, thaw).and_then(|()| wait_state(&loc, file, false));
            return Err(CgroupError::Conflict {
                what: match back {
                    Ok(_) => format!(
                        "{}: not every task stopped within 2 s (state {state}; one in \
                         uninterruptible sleep?); thawed again, nothing changed",
                        loc.label()
                    ),
                    Err(e) => format!(
                        "{}: not every task stopped within 2 s (state {state}), and thawing \
                         again failed: {e}",
                        loc.label()
                    ),
                },
            });
        }
        let now = read_control(&loc, file)?;
        let change = Change {
            hierarchy: loc.hierarchy.clone(),
            cgroup: loc.path.clone(),
            file: file.to_string(),
            old: old.clone(),
            new: now.clone(),
            pid: None,
            start: None,
            rule: None,
            via: None,
        };
        let entry = if old == now {
            None
        } else {
            let action = if freeze { Action::Freeze } else { Action::Thaw };
            match journal.append(action, target, vec![change], None) {
                Ok(e) => e,
                Err(e) => {
                    let _ = write_control(&loc, file, &old);
                    return Err(CgroupError::RolledBack {
                        first: Box::new(e.into()),
                        rollback: format!("{} {file} put back to {old}", loc.label()),
                    });
                }
            }
        };
        let parent_frozen = ancestor_frozen(&loc, file);
        Ok(FreezeOutcome {
            location: loc,
            file,
            old: old_state,
            state,
            parent_frozen,
            entry,
        })
    }

    /// Move process `pid` into `dests` (one location per hierarchy). Re-reads /proc/PID/cgroup
    /// to prove it; on a failure moves it back where it was in the hierarchies already done.
    pub fn move_process(
        &self,
        roots: &Roots,
        target: &str,
        pid: i32,
        dests: &[Location],
    ) -> Result<MoveOutcome, CgroupError> {
        self.check_writable("move")?;
        let mut journal = self.journal.lock()?;
        let before = proc_cgroups(roots, pid)?;
        let mut done: Vec<(Location, String)> = Vec::new();
        let mut unchanged = Vec::new();
        for dest in dests {
            let old = before.get(&dest.hierarchy).cloned().unwrap_or_default();
            if old == dest.path {
                unchanged.push(dest.clone());
                continue;
            }
            if let Err(e) = write_control(dest, "cgroup.procs", &pid.to_string()) {
                let mut failures = Vec::new();
                for (loc, old_path) in done.iter().rev() {
                    let back = Location {
                        path: old_path.clone(),
                        ..loc.clone()
                    };
                    if let Err(e2) = write_control(&back, "cgroup.procs", &pid.to_string()) {
                        failures.push(e2.to_string());
                    }
                }
                return Err(if done.is_empty() {
                    e
                } else {
                    CgroupError::RolledBack {
                        first: Box::new(e),
                        rollback: rollback_text(done.len(), &failures),
                    }
                });
            }
            done.push((dest.clone(), old));
        }
        let after = proc_cgroups(roots, pid)?;
        let changes: Vec<Change> = done
            .iter()
            .map(|(loc, old)| Change {
                hierarchy: loc.hierarchy.clone(),
                cgroup: loc.path.clone(),
                file: "cgroup.procs".into(),
                old: old.clone(),
                new: after.get(&loc.hierarchy).cloned().unwrap_or_default(),
                pid: Some(pid),
                start: start_time(roots, pid),
                rule: None,
                via: None,
            })
            .collect();
        let entry = match journal.append(Action::Move, target, changes.clone(), None) {
            Ok(e) => e,
            Err(e) => {
                for (loc, old_path) in done.iter().rev() {
                    let back = Location {
                        path: old_path.clone(),
                        ..loc.clone()
                    };
                    let _ = write_control(&back, "cgroup.procs", &pid.to_string());
                }
                return Err(CgroupError::RolledBack {
                    first: Box::new(e.into()),
                    rollback: format!("{pid} moved back"),
                });
            }
        };
        Ok(MoveOutcome {
            pid,
            changes,
            unchanged,
            entry,
        })
    }

    /// Add a v1 device rule (devices.allow or devices.deny) and read devices.list after.
    pub fn device_rule(
        &self,
        target: &str,
        locs: &[Location],
        allow: bool,
        rule: &DeviceRuleSpec,
    ) -> Result<DevicesOutcome, CgroupError> {
        let loc = devices_location(locs)?;
        self.check_writable("devices")?;
        let mut journal = self.journal.lock()?;
        let old = read_control(&loc, "devices.list")?;
        let file = if allow {
            "devices.allow"
        } else {
            "devices.deny"
        };
        write_control(&loc, file, &rule.to_string())?;
        let now = read_control(&loc, "devices.list")?;
        let mut notes = Vec::new();
        let default_allow = old.lines().any(|l| l.starts_with("a "));
        if now == old {
            notes.push(if default_allow && !allow {
                "devices.list does not change: the default is allow, and deny exceptions are not \
                 visible in devices.list (the rule is in force)"
                    .to_string()
            } else {
                "nothing changed: the kernel adds or removes only exceptions that match type, \
                 major and minor exactly (c 136:0 does not remove c 136:*)"
                    .to_string()
            });
        }
        let change = Change {
            hierarchy: loc.hierarchy.clone(),
            cgroup: loc.path.clone(),
            file: file.into(),
            old: old.clone(),
            new: now.clone(),
            pid: None,
            start: None,
            rule: Some(format!("{} {rule}", if allow { "allow" } else { "deny" })),
            via: None,
        };
        // A no-op is not journaled, except a deny under allow-all, which did change something
        // devices.list cannot show.
        let entry = if now == old && (!default_allow || allow) {
            None
        } else {
            match journal.append(Action::Devices, target, vec![change.clone()], None) {
                Ok(e) => e,
                Err(e) => {
                    let back = revert_devices(&loc, &change);
                    return Err(CgroupError::RolledBack {
                        first: Box::new(e.into()),
                        rollback: match back {
                            Ok(_) => "the rule was taken back".into(),
                            Err(e2) => format!("ROLLBACK INCOMPLETE: {e2}"),
                        },
                    });
                }
            }
        };
        Ok(DevicesOutcome {
            location: loc,
            old,
            now,
            entry,
            notes,
        })
    }

    /// Revert the newest journal entry not yet undone (or, with `expect`, exactly that entry:
    /// the TUI confirms one entry and must not revert another that arrived since). Every file
    /// must still hold what nsview left (else nothing is changed, unless `force`); things that
    /// vanished since (a removed cgroup, an exited process) stop the undo unless `force`, which
    /// skips them. All or nothing: when a write fails, the files already reverted are put back.
    /// Journaled as an undo entry.
    pub fn undo(
        &self,
        roots: &Roots,
        snap_mounts: &[Hierarchy],
        force: bool,
        expect: Option<u64>,
    ) -> Result<UndoOutcome, CgroupError> {
        self.check_writable("undo")?;
        let mut journal = self.journal.lock()?;
        let Some(entry) = journal::last_undoable(journal.entries()).cloned() else {
            return Err(CgroupError::Conflict {
                what: format!("nothing to undo (journal {})", self.journal.path.display()),
            });
        };
        if let Some(want) = expect
            && want != entry.id
        {
            return Err(CgroupError::Conflict {
                what: format!(
                    "the journal changed since: the newest change is now entry {} (not {want}); \
                     nothing undone, look again",
                    entry.id
                ),
            });
        }
        let loc_of = |c: &Change| -> Option<Location> {
            let h = snap_mounts.iter().find(|h| h.key == c.hierarchy)?;
            Some(Location {
                hierarchy: h.key.clone(),
                version: h.version,
                mount: roots.mount_path(Path::new(&h.mount)),
                path: c.cgroup.clone(),
            })
        };
        // Check first, write after: nothing is changed when any file moved on since.
        let mut steps: Vec<(Location, Change)> = Vec::new();
        let mut skipped: Vec<String> = Vec::new();
        for c in entry.changes.iter().rev() {
            // Only files nsview itself writes are replayed: the journal is data, not commands.
            if !UNDOABLE_FILES.contains(&c.file.as_str()) {
                return Err(CgroupError::Conflict {
                    what: format!(
                        "entry {}: {} is not a file nsview writes; refusing to replay it",
                        entry.id, c.file
                    ),
                });
            }
            let gone = |what: String| -> Result<(), CgroupError> {
                if force {
                    Ok(())
                } else {
                    Err(CgroupError::Conflict {
                        what: format!(
                            "entry {}: {what}; nothing undone (--force skips what is gone and \
                             reverts the rest)",
                            entry.id
                        ),
                    })
                }
            };
            let Some(loc) = loc_of(c) else {
                gone(format!("hierarchy {} is not mounted any more", c.hierarchy))?;
                skipped.push(format!("{}: not mounted", c.hierarchy));
                continue;
            };
            let now = match entry.action {
                Action::Move => {
                    let pid = c
                        .pid
                        .filter(|p| *p > 0)
                        .ok_or_else(|| CgroupError::Conflict {
                            what: format!("entry {}: a move without a PID", entry.id),
                        })?;
                    let same_process = c.start.is_none_or(|s| start_time(roots, pid) == Some(s));
                    let cg = proc_cgroups(roots, pid).ok().filter(|_| same_process);
                    let Some(cg) = cg else {
                        gone(format!("process {pid} has exited"))?;
                        skipped.push(format!("process {pid} has exited"));
                        continue;
                    };
                    cg.get(&c.hierarchy).cloned().unwrap_or_default()
                }
                _ => {
                    let file = if entry.action == Action::Devices {
                        "devices.list"
                    } else {
                        c.file.as_str()
                    };
                    match read_control(&loc, file) {
                        Ok(now) => now,
                        Err(e) if e.is_vanished() => {
                            gone(format!("{} vanished", loc.label()))?;
                            skipped.push(format!("{} vanished", loc.label()));
                            continue;
                        }
                        Err(e) => return Err(e),
                    }
                }
            };
            let moved_on = match entry.action {
                Action::Move | Action::Devices => now != c.new,
                _ => !same_value(&c.file, &c.new, &now),
            };
            if moved_on && !force {
                return Err(CgroupError::Conflict {
                    what: format!(
                        "entry {}: {} {} changed since nsview wrote it (now {}, nsview left {}); \
                         nothing undone (--force restores {} anyway)",
                        entry.id,
                        loc.label(),
                        c.file,
                        limits::annotate(&c.file, &now).replace('\n', ", "),
                        limits::annotate(&c.file, &c.new).replace('\n', ", "),
                        limits::annotate(&c.file, &c.old).replace('\n', ", ")
                    ),
                });
            }
            steps.push((loc, c.clone()));
        }
        let mut reverted: Vec<(Location, Change)> = Vec::new();
        let mut notes = skipped;
        // Changes made through Docker's API go back the same way, in one update, so that
        // Docker's record follows; what Docker cannot put back (it reads 0 and "" as "leave
        // as is") is then written directly.
        if let Some(api) = &entry.api {
            super::docker::revert(api, &roots.docker_sock())?;
            for (loc, c) in steps.iter().filter(|(_, c)| c.via.is_some()) {
                let mut now = read_control(loc, &c.file)?;
                if !same_value(&c.file, &c.old, &now) {
                    write_control(loc, &c.file, &restore_content(&c.file, &c.old))?;
                    now = read_control(loc, &c.file)?;
                    notes.push(format!(
                        "Docker could not put {} back: written to the cgroup directly (Docker's \
                         record keeps the value it had)",
                        c.file
                    ));
                }
                reverted.push((
                    loc.clone(),
                    Change {
                        old: c.new.clone(),
                        new: now,
                        ..c.clone()
                    },
                ));
            }
            journal.api = Some(serde_json::json!({
                "id": api.get("id"),
                "old": api.get("new"),
                "new": api.get("old"),
            }));
        }
        for (loc, c) in steps.iter().filter(|(_, c)| c.via.is_none()) {
            match revert_one(roots, entry.action, loc, c) {
                Ok(ch) => reverted.push((loc.clone(), ch)),
                Err(e) => {
                    // All or nothing: put back what this undo already changed.
                    let mut failures = Vec::new();
                    for (loc, ch) in reverted.iter().rev() {
                        if ch.via.is_some() {
                            failures.push(format!("{} stays as Docker's update left it", ch.file));
                            continue;
                        }
                        // `ch.old` is what the file held before this undo: put it back.
                        if let Err(e2) = revert_one(roots, entry.action, loc, ch) {
                            failures.push(e2.to_string());
                        }
                    }
                    return Err(CgroupError::RolledBack {
                        first: Box::new(e),
                        rollback: if failures.is_empty() {
                            format!("undo of entry {} rolled back: nothing changed", entry.id)
                        } else {
                            format!("UNDO ROLLBACK INCOMPLETE: {}", failures.join("; "))
                        },
                    });
                }
            }
        }
        let reverted: Vec<Change> = reverted.into_iter().map(|(_, c)| c).collect();
        let undo_entry = journal.append(
            Action::Undo,
            &entry.target,
            reverted.clone(),
            Some(entry.id),
        )?;
        Ok(UndoOutcome {
            undone: entry,
            reverted,
            entry: undo_entry,
            notes,
        })
    }
}

/// The files undo may write: the ones nsview writes (a journal is data, not commands).
const UNDOABLE_FILES: &[&str] = &[
    "cpu.shares",
    "cpu.weight",
    "cpu.max",
    "cpu.cfs_quota_us",
    "cpu.cfs_period_us",
    "cpuset.cpus",
    "cpuset.mems",
    "memory.limit_in_bytes",
    "memory.max",
    "memory.high",
    "memory.soft_limit_in_bytes",
    "memory.memsw.limit_in_bytes",
    "memory.swap.max",
    "pids.max",
    "freezer.state",
    "cgroup.freeze",
    "cgroup.procs",
    "devices.allow",
    "devices.deny",
];

/// Put one change of an entry back: `c.old` is what to restore, `c.new` what nsview left.
/// Returns the change the undo made (old and new swapped, as read back).
fn revert_one(
    roots: &Roots,
    action: Action,
    loc: &Location,
    c: &Change,
) -> Result<Change, CgroupError> {
    match action {
        Action::Move => {
            let pid = c
                .pid
                .filter(|p| *p > 0)
                .ok_or_else(|| CgroupError::Conflict {
                    what: "a move without a PID".into(),
                })?;
            let back = Location {
                path: c.old.clone(),
                ..loc.clone()
            };
            write_control(&back, "cgroup.procs", &pid.to_string())?;
            let now = proc_cgroups(roots, pid)?
                .get(&c.hierarchy)
                .cloned()
                .unwrap_or_default();
            Ok(Change {
                cgroup: c.old.clone(),
                old: c.new.clone(),
                new: now,
                ..c.clone()
            })
        }
        Action::Devices => revert_devices(loc, c),
        Action::Freeze | Action::Thaw => {
            let content = undo_freeze_content(&c.file, &c.old);
            write_control(loc, &c.file, content)?;
            wait_state(loc, &c.file, content == "FROZEN" || content == "1")?;
            Ok(Change {
                old: c.new.clone(),
                new: read_control(loc, &c.file)?,
                ..c.clone()
            })
        }
        _ => {
            write_control(loc, &c.file, &restore_content(&c.file, &c.old))?;
            Ok(Change {
                old: c.new.clone(),
                new: read_control(loc, &c.file)?,
                ..c.clone()
            })
        }
    }
}

/// /proc/PID/stat field 22 (starttime): tells a process from a later one with the same PID.
pub(crate) fn start_time(roots: &Roots, pid: i32) -> Option<u64> {
    let text = std::fs::read_to_string(roots.pid_dir(pid).join("stat")).ok()?;
    parse::parse_start_time(&text)
}

/// The root cgroup's files are the host's own defaults (and v2 has no limits there): nsview
/// changes cgroups below it.
fn refuse_root<'a>(mut locs: impl Iterator<Item = &'a Location>) -> Result<(), CgroupError> {
    if locs.any(|l| l.path == "/") {
        return Err(CgroupError::Conflict {
            what: "refusing to change the root cgroup (the host's defaults): give a cgroup below \
                   it, or a process that is in one"
                .into(),
        });
    }
    Ok(())
}

/// Write `todo` in order, re-reading each file; on a failure write back the old values of those
/// already written and return the error with what the rollback did.
pub(crate) fn write_in_order(todo: Vec<Written>) -> Result<Vec<Written>, CgroupError> {
    let mut done: Vec<Written> = Vec::new();
    for mut w in todo {
        if let Err(e) = write_control(&w.location, &w.write.file, &w.write.content) {
            return Err(rollback(e, &done));
        }
        match read_control(&w.location, &w.write.file) {
            Ok(now) => {
                w.now = now;
                done.push(w);
            }
            // Written but not readable back: undone with the rest rather than journaled blind.
            Err(e) => {
                done.push(w);
                return Err(rollback(e, &done));
            }
        }
    }
    Ok(done)
}

/// Write `old` (a file's content as read before a change) back to `file`.
pub(crate) fn restore_file(loc: &Location, file: &str, old: &str) -> Result<(), CgroupError> {
    write_control(loc, file, &restore_content(file, old))
}

/// What to write to restore `old` (v1 reads "unlimited" as a huge number; writing -1 is the
/// documented way back).
fn restore_content(file: &str, old: &str) -> String {
    match old.parse::<i64>() {
        Ok(n) if file.ends_with("_in_bytes") && crate::model::format::is_unlimited(n) => {
            "-1".into()
        }
        _ => old.to_string(),
    }
}

/// What to write to a freezer file to get back to `old`, the file's content before (v1
/// THAWED / FREEZING / FROZEN, v2 0 / 1; entries of older versions of nsview hold the words for
/// v2 too).
fn undo_freeze_content(file: &str, old: &str) -> &'static str {
    match (file, old.trim()) {
        ("freezer.state", "THAWED") => "THAWED",
        ("freezer.state", _) => "FROZEN",
        (_, "0" | "THAWED") => "0",
        _ => "1",
    }
}

/// Write the old values of `done` back, newest first, and describe the result beside the error
/// that caused it.
pub(crate) fn rollback(first: CgroupError, done: &[Written]) -> CgroupError {
    if done.is_empty() {
        return first;
    }
    let mut failures = Vec::new();
    for w in done.iter().rev() {
        let content = restore_content(&w.write.file, &w.old);
        let ok = write_control(&w.location, &w.write.file, &content)
            .and_then(|()| read_control(&w.location, &w.write.file))
            .map(|now| same_value(&w.write.file, &w.old, &now) || now == w.old);
        match ok {
            Ok(true) => {}
            Ok(false) => failures.push(format!(
                "{} {} not restored",
                w.location.label(),
                w.write.file
            )),
            Err(e) => failures.push(e.to_string()),
        }
    }
    CgroupError::RolledBack {
        first: Box::new(first),
        rollback: rollback_text(done.len(), &failures),
    }
}

fn rollback_text(n: usize, failures: &[String]) -> String {
    if failures.is_empty() {
        format!(
            "rolled back: the {n} change{} already made {} written back and re-read",
            if n == 1 { "" } else { "s" },
            if n == 1 { "was" } else { "were" }
        )
    } else {
        format!("ROLLBACK INCOMPLETE: {}", failures.join("; "))
    }
}

/// The freezer of `locs`: the v1 freezer hierarchy's freezer.state, else v2 cgroup.freeze.
fn freezer_of(locs: &[Location]) -> Option<(Location, &'static str)> {
    let v1 = locs.iter().find(|l| {
        l.version == 1 && list_files(l).is_ok_and(|f| f.iter().any(|f| f == "freezer.state"))
    });
    if let Some(l) = v1 {
        return Some((l.clone(), "freezer.state"));
    }
    locs.iter()
        .find(|l| {
            l.version == 2 && list_files(l).is_ok_and(|f| f.iter().any(|f| f == "cgroup.freeze"))
        })
        .map(|l| (l.clone(), "cgroup.freeze"))
}

/// Whether nsview's own process is in `loc` or below it (freezing that would stop nsview).
/// On a fixture tree (not the live /proc) the answer is no.
fn holds_self(roots: Option<Roots>, loc: &Location) -> bool {
    let Some(roots) = roots else { return false };
    let Ok(own) = proc_cgroups(&roots, std::process::id() as i32) else {
        return false;
    };
    own.get(&loc.hierarchy).is_some_and(|mine| {
        loc.path == "/" || *mine == loc.path || mine.starts_with(&format!("{}/", loc.path))
    })
}

/// The live roots when `loc` is on the live cgroup mounts.
fn roots_of(loc: &Location) -> Option<Roots> {
    is_live_mount(&loc.mount).then(Roots::default)
}

/// A frozen ancestor keeps a group frozen whatever it is told: v1 freezer.parent_freezing, v2
/// cgroup.freeze of any ancestor.
fn ancestor_frozen(loc: &Location, file: &str) -> bool {
    if file == "freezer.state" {
        return read_control(loc, "freezer.parent_freezing").is_ok_and(|s| s.trim() == "1");
    }
    let mut path = parent_path(&loc.path);
    while let Some(p) = path {
        let up = Location {
            path: p.clone(),
            ..loc.clone()
        };
        if read_control(&up, "cgroup.freeze").is_ok_and(|s| s.trim() == "1") {
            return true;
        }
        path = parent_path(&p);
    }
    false
}

/// The freezer state as a word: v1 freezer.state, or v2 "FROZEN"/"THAWED" from cgroup.events
/// `frozen` (falling back to cgroup.freeze).
fn read_state(loc: &Location, file: &str) -> Result<String, CgroupError> {
    if file == "freezer.state" {
        return read_control(loc, file);
    }
    let events = read_control(loc, "cgroup.events").unwrap_or_default();
    let frozen = events
        .lines()
        .find_map(|l| l.strip_prefix("frozen "))
        .map(|v| v.trim() == "1");
    let frozen = match frozen {
        Some(f) => f,
        None => read_control(loc, file)?.trim() == "1",
    };
    Ok(if frozen { "FROZEN" } else { "THAWED" }.into())
}

/// Poll the state for up to 2 s until it settles (v1 passes through FREEZING).
fn wait_state(loc: &Location, file: &str, freeze: bool) -> Result<String, CgroupError> {
    let want = if freeze { "FROZEN" } else { "THAWED" };
    let start = Instant::now();
    loop {
        let state = read_state(loc, file)?;
        if state == want || start.elapsed() > Duration::from_secs(2) {
            return Ok(state);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Result of a freeze or thaw.
#[derive(Debug, Clone)]
pub struct FreezeOutcome {
    pub location: Location,
    pub file: &'static str,
    pub old: String,
    /// FROZEN, FREEZING or THAWED.
    pub state: String,
    /// v1: an ancestor is frozen, so this group stays frozen whatever it is told.
    pub parent_frozen: bool,
    pub entry: Option<Entry>,
}

impl FreezeOutcome {
    /// The state the kernel reached (and why, when it is not the one asked), for the CLI and
    /// the view alike.
    pub fn describe(&self, freeze: bool) -> Vec<String> {
        let want = if freeze { "FROZEN" } else { "THAWED" };
        let mut lines = vec![format!(
            "{} {}: {} -> {}",
            self.location.label(),
            self.file,
            self.old,
            self.state
        )];
        if self.state != want {
            lines.push(if self.parent_frozen {
                "still frozen: an ancestor cgroup is frozen".to_string()
            } else {
                format!("not {want} after 2 s: some tasks have not stopped yet")
            });
        }
        lines
    }
}

/// Result of a move.
#[derive(Debug, Clone)]
pub struct MoveOutcome {
    pub pid: i32,
    pub changes: Vec<Change>,
    /// Hierarchies where the process already was in the destination.
    pub unchanged: Vec<Location>,
    pub entry: Option<Entry>,
}

impl MoveOutcome {
    /// Per hierarchy: where the process was and is now, or that it was already there.
    pub fn describe(&self) -> Vec<String> {
        self.changes
            .iter()
            .map(|c| format!("{}: {} -> {}", c.hierarchy, c.old, c.new))
            .chain(
                self.unchanged
                    .iter()
                    .map(|l| format!("{}: already in {}", l.hierarchy, l.path)),
            )
            .collect()
    }
}

/// Result of a device rule.
#[derive(Debug, Clone)]
pub struct DevicesOutcome {
    pub location: Location,
    pub old: String,
    pub now: String,
    pub entry: Option<Entry>,
    /// Why devices.list may not show a change.
    pub notes: Vec<String>,
}

/// Result of an undo.
#[derive(Debug, Clone)]
pub struct UndoOutcome {
    pub undone: Entry,
    pub reverted: Vec<Change>,
    pub entry: Option<Entry>,
    /// What was skipped (--force) or put back another way.
    pub notes: Vec<String>,
}

/// /proc/PID/cgroup as hierarchy key -> path.
fn proc_cgroups(
    roots: &Roots,
    pid: i32,
) -> Result<std::collections::BTreeMap<String, String>, CgroupError> {
    let path = roots.pid_dir(pid).join("cgroup");
    let text = std::fs::read_to_string(&path).map_err(|e| CgroupError::Kernel {
        path: path.clone(),
        file: "cgroup".into(),
        value: None,
        errno: Errno::from_io_error(&e).unwrap_or(Errno::IO),
    })?;
    Ok(parse::parse_proc_pid_cgroup(&text)
        .into_iter()
        .map(|l| (l.key, l.path))
        .collect())
}

/// The v1 devices location of `locs`, or an explanation (v2 has BPF programs instead).
fn devices_location(locs: &[Location]) -> Result<Location, CgroupError> {
    if let Some(l) = locs.iter().find(|l| {
        l.version == 1 && list_files(l).is_ok_and(|f| f.iter().any(|f| f == "devices.list"))
    }) {
        return Ok(l.clone());
    }
    let v2 = locs.iter().find(|l| l.version == 2);
    Err(CgroupError::Unsupported {
        what: match v2 {
            Some(l) => format!(
                "{}: cgroup v2 has no device files: device rules are eBPF programs \
                 (BPF_CGROUP_DEVICE) attached to the cgroup; {}",
                l.path,
                match crate::sys::bpf::cgroup_device_programs(&l.dir()) {
                    Ok(ids) if ids.is_empty() => "none is attached here".to_string(),
                    Ok(ids) => format!(
                        "attached here: program id{} {}",
                        if ids.len() == 1 { "" } else { "s" },
                        ids.iter()
                            .map(u32::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    Err(e) => format!("cannot list them: {e}"),
                }
            ),
            None => "no devices controller for this cgroup (no v1 devices hierarchy has it)".into(),
        },
    })
}

/// Undo a device rule: restore the list that was in place (cgroup-v1/devices.rst).
/// - Before, a whitelist (default deny): devices.list showed all of it, so it is restored
///   exactly: from allow-all back to deny-all first, then the old entries allowed again and
///   entries that were not there denied.
/// - Before, the default was allow (`a *:* rwm`): deny exceptions are not visible in
///   devices.list, so the rule is inverted (a deny is allowed again, an allow denied), and a
///   switch to deny-all goes back to allow-all (exceptions that were hidden then are lost; the
///   kernel cannot show them).
///
/// The list read afterwards must be the old one, or the undo reports what differs.
fn revert_devices(loc: &Location, c: &Change) -> Result<Change, CgroupError> {
    let rule = c.rule.as_deref().unwrap_or_default();
    let (verb, spec) = rule.split_once(' ').unwrap_or(("", ""));
    let spec = DeviceRuleSpec::parse(spec)?;
    let list = || -> Result<Vec<parse::DevicesLine>, CgroupError> {
        Ok(parse::parse_devices_list(&read_control(loc, "devices.list")?).unwrap_or_default())
    };
    let spec_of = |l: &parse::DevicesLine| DeviceRuleSpec {
        kind: l.kind,
        major: l.major,
        minor: l.minor,
        access: l.access.clone(),
    };
    let allow_all = |l: &[parse::DevicesLine]| l.iter().any(|l| l.kind == 'a');
    let old = parse::parse_devices_list(&c.old).unwrap_or_default();
    if !allow_all(&old) {
        if allow_all(&list()?) {
            write_control(loc, "devices.deny", "a")?;
        } else if verb == "allow" {
            write_control(loc, "devices.deny", &spec.to_string())?;
        }
        for line in &old {
            if !list()?.contains(line) {
                write_control(loc, "devices.allow", &spec_of(line).to_string())?;
            }
        }
        for line in list()? {
            if !old.contains(&line) {
                write_control(loc, "devices.deny", &spec_of(&line).to_string())?;
            }
        }
    } else if !allow_all(&list()?) {
        write_control(loc, "devices.allow", "a")?;
    } else if verb == "deny" {
        write_control(loc, "devices.allow", &spec.to_string())?;
    } else if spec.kind != 'a' {
        write_control(loc, "devices.deny", &spec.to_string())?;
    }
    let now = read_control(loc, "devices.list")?;
    if parse::parse_devices_list(&now) != parse::parse_devices_list(&c.old) {
        return Err(CgroupError::Conflict {
            what: format!(
                "{}: devices.list could not be restored exactly: now {}, before the change {}",
                loc.label(),
                now.replace('\n', ", "),
                c.old.replace('\n', ", ")
            ),
        });
    }
    Ok(Change {
        old: c.new.clone(),
        new: now,
        file: if verb == "allow" {
            "devices.deny"
        } else {
            "devices.allow"
        }
        .into(),
        rule: Some(format!(
            "{} {spec} (undo)",
            if verb == "allow" { "deny" } else { "allow" }
        )),
        ..c.clone()
    })
}

/// The locations of `path` in every hierarchy of `snap` that has it.
pub fn locations_of_path(snap: &Snapshot, roots: &Roots, path: &str) -> Vec<Location> {
    snap.hierarchies
        .iter()
        .filter(|h| {
            snap.cgroups
                .iter()
                .any(|c| c.hierarchy == h.key && c.path == path)
        })
        .map(|h| location(roots, h, path))
        .collect()
}

/// The locations of process `pid`'s cgroups, one per hierarchy (from the snapshot's
/// /proc/PID/cgroup).
pub fn locations_of_process(snap: &Snapshot, roots: &Roots, pid: i32) -> Vec<Location> {
    let Some(p) = snap.processes.get(&pid) else {
        return Vec::new();
    };
    snap.hierarchies
        .iter()
        .filter_map(|h| {
            p.cgroups
                .get(h.key.as_str())
                .map(|path| location(roots, h, path))
        })
        .collect()
}

/// One hierarchy's location of `path`.
pub fn location(roots: &Roots, h: &Hierarchy, path: &str) -> Location {
    Location {
        hierarchy: h.key.clone(),
        version: h.version,
        mount: roots.mount_path(Path::new(&h.mount)),
        path: path.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cgroup_paths_cannot_escape() {
        assert_eq!(check_cgroup_path("/").ok(), Some(""));
        assert_eq!(check_cgroup_path("/a/b").ok(), Some("a/b"));
        for bad in ["a/b", "/a/../b", "/..", "/a/./b", "/a//b", "/a\0b"] {
            assert!(check_cgroup_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn read_back_comparison_knows_the_kernels_habits() {
        assert!(same_value(
            "memory.limit_in_bytes",
            "-1",
            "9223372036854771712"
        ));
        assert!(same_value("memory.limit_in_bytes", "1000000", "999424"));
        assert!(!same_value("memory.limit_in_bytes", "1000000", "4096"));
        assert!(same_value("cpuset.cpus", "1,0", "0-1"));
        assert!(same_value("cpu.max", "max  100000", "max 100000"));
        assert!(!same_value("cpu.shares", "2048", "1024"));
    }

    #[test]
    fn refusals_are_explained() {
        let e = explain("memory.limit_in_bytes", Some("1048576"), Errno::BUSY);
        assert!(
            e.contains("could not reclaim") && e.ends_with("(EBUSY)"),
            "{e}"
        );
        let e = explain("cpu.shares", Some("2"), Errno::ROFS);
        assert!(e.contains("read-only"), "{e}");
        let e = explain("cpu.shares", Some("2"), Errno::NOENT);
        assert!(e.contains("vanished"), "{e}");
    }
}
