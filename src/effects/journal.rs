//! The journal of applied changes: one JSON object per line in `journal.jsonl` of nsview's state
//! directory: `/var/lib/nsview` as root (whatever HOME or XDG_STATE_HOME say: root's state must
//! not live where a user's environment points), `$XDG_STATE_HOME/nsview` (default
//! `~/.local/state/nsview`) for other users. The directory must be owned by the effective user
//! and writable by nobody else, and the journal is opened below it without following symlinks.
//! Every write nsview makes to a cgroup is appended here (time, target, file, old value, new
//! value, user), `nsview undo` and the TUI's `u` revert the newest change not yet undone, and
//! `nsview journal` lists them. Appends hold an exclusive flock so the TUI and a CLI run never
//! interleave or reuse an id.

use nix::fcntl::{Flock, FlockArg};
use rustix::fs::{Mode, OFlags};
use serde::{Deserialize, Serialize};
use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Write};
use std::os::fd::OwnedFd;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Root's state directory.
pub const ROOT_STATE_DIR: &str = "/var/lib/nsview";

/// The state directory given on the command line (the hidden `--state-dir`, for tests): the only
/// way to move root's journal, and one that no environment variable reaches.
static STATE_DIR_OVERRIDE: OnceLock<PathBuf> = OnceLock::new();

/// Use `dir` as the state directory of this process (the hidden `--state-dir DIR`; the journal is
/// `DIR/journal.jsonl`). Only the first call counts.
pub fn use_state_dir(dir: PathBuf) {
    let _ = STATE_DIR_OVERRIDE.set(dir);
}

/// The state directory for a user: root's is fixed; others follow the XDG Base Directory
/// specification (`$XDG_STATE_HOME/nsview`, else `$HOME/.local/state/nsview`).
fn state_dir_for(
    is_root: bool,
    xdg_state_home: Option<OsString>,
    home: Option<OsString>,
) -> Option<PathBuf> {
    if is_root {
        return Some(PathBuf::from(ROOT_STATE_DIR));
    }
    let state = xdg_state_home
        .filter(|v| !v.is_empty() && Path::new(v).is_absolute())
        .map(PathBuf::from)
        .or_else(|| {
            home.filter(|v| !v.is_empty())
                .map(|h| PathBuf::from(h).join(".local/state"))
        })?;
    Some(state.join("nsview"))
}

/// What a journal entry did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Set,
    Freeze,
    Thaw,
    Move,
    Devices,
    Undo,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Set => "set",
            Action::Freeze => "freeze",
            Action::Thaw => "thaw",
            Action::Move => "move",
            Action::Devices => "devices",
            Action::Undo => "undo",
        }
    }
}

/// One file changed: old and new are the file's content as read before and after (for a move,
/// the process's cgroup path before and after; for devices, devices.list before and after).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub hierarchy: String,
    pub cgroup: String,
    pub file: String,
    pub old: String,
    pub new: String,
    /// The process moved (moves only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<i32>,
    /// Its start time (/proc/PID/stat field 22), so that undo never moves a later process that
    /// got the same PID (moves only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<u64>,
    /// The rule written (devices only), e.g. "deny c 1:3 rwm".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// How the file was changed when not written directly: "docker-api" (the Engine API's
    /// container update, which changes Docker's record too, or its pause / unpause), or
    /// "podman-api" (podman's pause / unpause).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
}

/// One applied change (all the files of one `set` together).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalEntry {
    pub id: u64,
    /// RFC 3339, UTC, seconds.
    pub time: String,
    pub user: String,
    pub uid: u32,
    /// The invoking user behind sudo, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sudo_user: Option<String>,
    pub action: Action,
    /// The target as the admin gave it.
    pub target: String,
    pub changes: Vec<Change>,
    /// For an undo: the id of the entry it reverted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undo_of: Option<u64>,
    /// For changes made through the Docker Engine API: `{"id", "old", "new"}`, the update bodies
    /// (HostConfig fields) that made the change and that revert it; for a freeze or thaw made
    /// through a runtime's API, `{"id", "runtime": "docker"|"podman", "old": {"Paused": bool},
    /// "new": {"Paused": bool}}`, undone by the opposite call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<serde_json::Value>,
    /// For an undo (`undo --force`): what it skipped because it had vanished (a removed cgroup,
    /// an exited process, a container Docker no longer knows). An undo that skipped everything
    /// has no changes: the entry it names is then "skipped". Absent in journals written before.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<String>,
}

/// What became of a journal entry: still in force, reverted by an undo, or passed over by an
/// `undo --force` that found everything it changed gone. Undo entries themselves are "done".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryState {
    Done,
    Undone,
    Skipped,
}

impl EntryState {
    pub fn as_str(self) -> &'static str {
        match self {
            EntryState::Done => "done",
            EntryState::Undone => "undone",
            EntryState::Skipped => "skipped",
        }
    }
}

/// Journal errors name the journal file.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("journal {}: {err}", path.display())]
    Io { path: PathBuf, err: io::Error },
    #[error("journal {}: line {line}: {reason}", path.display())]
    Corrupt {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    #[error(
        "no journal location: set XDG_STATE_HOME or HOME (the journal is what makes undo possible)"
    )]
    NoLocation,
    #[error("journal {}: not trusted: {why}", path.display())]
    Untrusted { path: PathBuf, why: String },
}

/// The journal file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Journal {
    pub path: PathBuf,
}

impl Journal {
    /// `journal.jsonl` in the state directory: the one given by `--state-dir`, else
    /// `/var/lib/nsview` as root, else `$XDG_STATE_HOME/nsview`, else
    /// `$HOME/.local/state/nsview`.
    pub fn default_location() -> Result<Journal, JournalError> {
        let dir = match STATE_DIR_OVERRIDE.get() {
            Some(dir) => dir.clone(),
            None => state_dir_for(
                nix::unistd::geteuid().is_root(),
                std::env::var_os("XDG_STATE_HOME"),
                std::env::var_os("HOME"),
            )
            .ok_or(JournalError::NoLocation)?,
        };
        Ok(Journal {
            path: dir.join("journal.jsonl"),
        })
    }

    fn io(&self, source: io::Error) -> JournalError {
        JournalError::Io {
            path: self.path.clone(),
            err: source,
        }
    }

    /// Open the journal for appending, creating it (and its directory) if needed, with an
    /// exclusive lock held until the returned writer is dropped, and read it whole. Called
    /// BEFORE any cgroup write: a journal that cannot be opened, is not ours, or does not parse
    /// stops the change before anything is written, so that a change that could not be
    /// journaled is never made.
    pub fn lock(&self) -> Result<Locked, JournalError> {
        let dir = self.dir();
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| self.io(e))?;
        let dir_fd = self.open_dir()?;
        let file = rustix::fs::openat(
            &dir_fd,
            self.file_name(),
            OFlags::RDWR | OFlags::APPEND | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o600),
        )
        .map(File::from)
        .map_err(|e| self.io(e.into()))?;
        check_owner(&self.path, &file)?;
        let file = Flock::lock(file, FlockArg::LockExclusive)
            .map_err(|(_, e)| self.io(io::Error::from(e)))?;
        // Read through the locked file itself, never by path again.
        let entries = self.parse(&file)?;
        Ok(Locked {
            journal: self.clone(),
            file,
            next_id: entries.last().map_or(1, |e| e.id + 1),
            entries,
            api: None,
            skipped: Vec::new(),
        })
    }

    /// Every entry, oldest first. A missing journal (or state directory) is an empty one.
    pub fn entries(&self) -> Result<Vec<JournalEntry>, JournalError> {
        let dir_fd = match self.open_dir() {
            Ok(fd) => fd,
            Err(JournalError::Io { err, .. }) if err.kind() == io::ErrorKind::NotFound => {
                return Ok(Vec::new());
            }
            Err(e) => return Err(e),
        };
        let opened = rustix::fs::openat(
            &dir_fd,
            self.file_name(),
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        );
        match opened {
            Ok(fd) => {
                let f = File::from(fd);
                check_owner(&self.path, &f)?;
                self.parse(&f)
            }
            Err(rustix::io::Errno::NOENT) => Ok(Vec::new()),
            Err(e) => Err(self.io(e.into())),
        }
    }

    pub fn dir(&self) -> &Path {
        self.path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
    }

    fn file_name(&self) -> &std::ffi::OsStr {
        self.path
            .file_name()
            .unwrap_or(std::ffi::OsStr::new("journal.jsonl"))
    }

    /// The state directory, opened without following a symlink in its place and checked: owned
    /// by the effective user, writable by nobody else (else someone else could swap the journal).
    fn open_dir(&self) -> Result<OwnedFd, JournalError> {
        let dir = self.dir();
        let fd = rustix::fs::open(
            dir,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| self.io(e.into()))?;
        let st = rustix::fs::fstat(&fd).map_err(|e| self.io(e.into()))?;
        let euid = nix::unistd::geteuid().as_raw();
        let mode = st.st_mode & 0o7777;
        if st.st_uid != euid || mode & 0o022 != 0 {
            return Err(JournalError::Untrusted {
                path: self.path.clone(),
                why: format!(
                    "its directory {} is owned by uid {} with mode {mode:o}; nsview runs as uid \
                     {euid} and trusts only a directory of its own, writable by nobody else",
                    dir.display(),
                    st.st_uid
                ),
            });
        }
        Ok(fd)
    }

    fn parse(&self, f: &File) -> Result<Vec<JournalEntry>, JournalError> {
        parse_entries(&self.path, BufReader::new(f))
    }
}

/// The entries of the journal at `path`, read from `reader`: one JSON object per line, blank
/// lines skipped. Public for the fuzz target fuzz/fuzz_targets/journal_lines.rs.
#[doc(hidden)]
pub fn parse_entries(path: &Path, reader: impl BufRead) -> Result<Vec<JournalEntry>, JournalError> {
    let mut out = Vec::new();
    for (i, line) in reader.lines().enumerate() {
        let line = line.map_err(|e| JournalError::Io {
            path: path.to_path_buf(),
            err: e,
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let entry: JournalEntry =
            serde_json::from_str(&line).map_err(|e| JournalError::Corrupt {
                path: path.to_path_buf(),
                line: i + 1,
                reason: e.to_string(),
            })?;
        out.push(entry);
    }
    Ok(out)
}

/// Undo replays what the journal says as root: a journal someone else could have written (not
/// owned by the effective user, or writable by group or others) is refused.
fn check_owner(path: &Path, file: &File) -> Result<(), JournalError> {
    use std::os::unix::fs::MetadataExt;
    let meta = file.metadata().map_err(|e| JournalError::Io {
        path: path.to_path_buf(),
        err: e,
    })?;
    let euid = nix::unistd::geteuid().as_raw();
    if meta.uid() != euid || meta.mode() & 0o022 != 0 {
        return Err(JournalError::Untrusted {
            path: path.to_path_buf(),
            why: format!(
                "owned by uid {} with mode {:o}; nsview runs as uid {euid} and trusts only its own \
                 journal, writable by nobody else",
                meta.uid(),
                meta.mode() & 0o777
            ),
        });
    }
    Ok(())
}

/// The journal, locked for appending.
pub struct Locked {
    journal: Journal,
    file: Flock<File>,
    /// The id the next entry gets (read at lock time, before any write).
    next_id: u64,
    /// The entries as read at lock time.
    entries: Vec<JournalEntry>,
    /// Set by the Docker path before [`Locked::append`]: recorded in the next entry.
    pub api: Option<serde_json::Value>,
    /// Set by an undo before [`Locked::append`]: what it skipped, recorded in the next entry.
    pub skipped: Vec<String>,
}

impl Locked {
    /// Every entry, as read under the lock.
    pub fn entries(&self) -> &[JournalEntry] {
        &self.entries
    }

    /// Append one entry for `changes` (nothing when there are none and nothing was skipped),
    /// numbering it after the last one. Returns the entry written.
    pub fn append(
        &mut self,
        action: Action,
        target: &str,
        changes: Vec<Change>,
        undo_of: Option<u64>,
    ) -> Result<Option<JournalEntry>, JournalError> {
        if changes.is_empty() && self.skipped.is_empty() {
            return Ok(None);
        }
        let id = self.next_id;
        let uid = nix::unistd::getuid().as_raw();
        let entry = JournalEntry {
            id,
            time: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
            user: crate::sys::users::user_name(uid).unwrap_or_else(|| uid.to_string()),
            uid,
            sudo_user: std::env::var("SUDO_USER").ok().filter(|s| !s.is_empty()),
            action,
            target: target.to_string(),
            changes,
            undo_of,
            api: self.api.take(),
            skipped: std::mem::take(&mut self.skipped),
        };
        let mut line = serde_json::to_string(&entry).map_err(|e| self.journal.io(e.into()))?;
        line.push('\n');
        // One write of a whole line to an O_APPEND file, under the lock.
        self.file
            .write_all(line.as_bytes())
            .and_then(|()| self.file.sync_data())
            .map_err(|e| self.journal.io(e))?;
        self.next_id += 1;
        self.entries.push(entry.clone());
        Ok(Some(entry))
    }
}

/// The state of entry `id` among `entries` (see [`EntryState`]): undone when an undo of it
/// reverted something, skipped when the only undo of it found everything gone.
pub fn state_of(entries: &[JournalEntry], id: u64) -> EntryState {
    let mut state = EntryState::Done;
    for e in entries.iter().filter(|e| e.undo_of == Some(id)) {
        if e.changes.is_empty() && !e.skipped.is_empty() {
            if state == EntryState::Done {
                state = EntryState::Skipped;
            }
        } else {
            state = EntryState::Undone;
        }
    }
    state
}

/// The newest entry that changed something and is still done (neither undone nor skipped).
pub fn last_undoable(entries: &[JournalEntry]) -> Option<&JournalEntry> {
    let closed: std::collections::BTreeSet<u64> =
        entries.iter().filter_map(|e| e.undo_of).collect();
    entries
        .iter()
        .rev()
        .find(|e| e.action != Action::Undo && !closed.contains(&e.id))
}

/// What the entries after entry `after` changed, for a live view to read again at once: the
/// processes moved, and the cgroups written (hierarchy key, path), including those a moved
/// process left and joined.
pub fn touched_after(entries: &[JournalEntry], after: u64) -> (Vec<i32>, Vec<(String, String)>) {
    let mut pids = Vec::new();
    let mut cgroups = Vec::new();
    for c in entries
        .iter()
        .filter(|e| e.id > after)
        .flat_map(|e| &e.changes)
    {
        cgroups.push((c.hierarchy.clone(), c.cgroup.clone()));
        if let Some(pid) = c.pid {
            pids.push(pid);
            // A move's old and new are the process's cgroup paths before and after.
            cgroups.push((c.hierarchy.clone(), c.old.clone()));
            cgroups.push((c.hierarchy.clone(), c.new.clone()));
        }
    }
    pids.sort_unstable();
    pids.dedup();
    cgroups.sort();
    cgroups.dedup();
    (pids, cgroups)
}

/// The id of the undo entry that reverted (or skipped) `id`, if any.
pub fn undone_by(entries: &[JournalEntry], id: u64) -> Option<u64> {
    entries.iter().find(|e| e.undo_of == Some(id)).map(|e| e.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(file: &str, old: &str, new: &str) -> Change {
        Change {
            hierarchy: "memory".into(),
            cgroup: "/a".into(),
            file: file.into(),
            old: old.into(),
            new: new.into(),
            pid: None,
            start: None,
            rule: None,
            via: None,
        }
    }

    #[test]
    fn appends_numbers_and_finds_what_to_undo() {
        let dir = tempfile::tempdir().expect("tempdir");
        let j = Journal {
            path: dir.path().join("state/nsview/journal.jsonl"),
        };
        assert!(j.entries().expect("empty").is_empty());
        {
            let mut l = j.lock().expect("lock");
            let e1 = l
                .append(
                    Action::Set,
                    "/a",
                    vec![change("memory.max", "max", "1")],
                    None,
                )
                .expect("append")
                .expect("entry");
            assert_eq!(e1.id, 1);
            assert!(
                l.append(Action::Set, "/a", vec![], None)
                    .expect("nothing")
                    .is_none()
            );
            l.append(
                Action::Freeze,
                "/a",
                vec![change("freezer.state", "THAWED", "FROZEN")],
                None,
            )
            .expect("append");
        }
        let entries = j.entries().expect("entries");
        assert_eq!(entries.len(), 2);
        assert_eq!(last_undoable(&entries).map(|e| e.id), Some(2));
        j.lock()
            .expect("lock")
            .append(
                Action::Undo,
                "/a",
                vec![change("freezer.state", "FROZEN", "THAWED")],
                Some(2),
            )
            .expect("append");
        let entries = j.entries().expect("entries");
        assert_eq!(last_undoable(&entries).map(|e| e.id), Some(1));
        assert_eq!(undone_by(&entries, 2), Some(3));
        let text = fs::read_to_string(&j.path).expect("read");
        assert!(text.lines().all(|l| l.starts_with("{\"id\":")), "{text}");
    }

    /// Journals written before states existed read as before; a skip (an undo that reverted
    /// nothing, everything being gone) makes its entry "skipped", and undo passes over it.
    #[test]
    fn old_journals_read_and_states_follow_undos_and_skips() {
        let old = concat!(
            r#"{"id":1,"time":"2026-01-01T00:00:00Z","user":"root","uid":0,"action":"set","target":"/a","changes":[{"hierarchy":"cpu","cgroup":"/a","file":"cpu.shares","old":"1024","new":"2048"}]}"#,
            "\n",
            r#"{"id":2,"time":"2026-01-01T00:00:00Z","user":"root","uid":0,"action":"set","target":"/b","changes":[{"hierarchy":"cpu","cgroup":"/b","file":"cpu.shares","old":"1024","new":"512"}]}"#,
            "\n",
            r#"{"id":3,"time":"2026-01-01T00:00:00Z","user":"root","uid":0,"action":"set","target":"/c","changes":[{"hierarchy":"cpu","cgroup":"/c","file":"cpu.shares","old":"1024","new":"512"}]}"#,
            "\n",
            r#"{"id":4,"time":"2026-01-01T00:00:00Z","user":"root","uid":0,"action":"undo","target":"/c","changes":[{"hierarchy":"cpu","cgroup":"/c","file":"cpu.shares","old":"512","new":"1024"}],"undo_of":3}"#,
            "\n",
        );
        let mut entries = parse_entries(Path::new("j"), old.as_bytes()).expect("old lines parse");
        assert_eq!(state_of(&entries, 3), EntryState::Undone);
        assert_eq!(state_of(&entries, 2), EntryState::Done);
        assert_eq!(last_undoable(&entries).map(|e| e.id), Some(2));
        let mut skip = entries[3].clone();
        skip.id = 5;
        skip.undo_of = Some(2);
        skip.changes.clear();
        skip.skipped = vec!["cpu:/b vanished".into()];
        let line = serde_json::to_string(&skip).expect("json");
        assert!(line.contains(r#""skipped":["cpu:/b vanished"]"#), "{line}");
        entries.push(skip);
        assert_eq!(state_of(&entries, 2), EntryState::Skipped);
        assert_eq!(last_undoable(&entries).map(|e| e.id), Some(1));
        assert_eq!(undone_by(&entries, 2), Some(5));
        // Undo entries themselves are done, and written without "skipped" when none was.
        assert_eq!(state_of(&entries, 4), EntryState::Done);
        let line = serde_json::to_string(&entries[3]).expect("json");
        assert!(!line.contains("skipped"), "{line}");
    }

    #[test]
    fn root_state_ignores_the_environment() {
        let user = Some(OsString::from("/home/mallory/.state"));
        let home = Some(OsString::from("/home/mallory"));
        assert_eq!(
            state_dir_for(true, user.clone(), home.clone()),
            Some(PathBuf::from("/var/lib/nsview"))
        );
        // Root without HOME (a unit, cron) has a place too.
        assert_eq!(
            state_dir_for(true, None, None),
            Some(PathBuf::from("/var/lib/nsview"))
        );
        assert_eq!(
            state_dir_for(false, user, home.clone()),
            Some(PathBuf::from("/home/mallory/.state/nsview"))
        );
        assert_eq!(
            state_dir_for(false, Some("relative".into()), home),
            Some(PathBuf::from("/home/mallory/.local/state/nsview"))
        );
        assert_eq!(state_dir_for(false, None, None), None);
    }

    #[test]
    fn a_symlink_or_a_shared_directory_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let victim = dir.path().join("victim");
        fs::write(&victim, "precious\n").expect("write");
        let state = dir.path().join("state");
        fs::create_dir(&state).expect("mkdir");
        std::os::unix::fs::symlink(&victim, state.join("journal.jsonl")).expect("symlink");
        let j = Journal {
            path: state.join("journal.jsonl"),
        };
        assert!(j.lock().is_err());
        assert!(j.entries().is_err());
        assert_eq!(fs::read_to_string(&victim).expect("read"), "precious\n");
        // The directory itself a symlink.
        let real = dir.path().join("real");
        fs::create_dir(&real).expect("mkdir");
        std::os::unix::fs::symlink(&real, dir.path().join("link")).expect("symlink");
        let j = Journal {
            path: dir.path().join("link/journal.jsonl"),
        };
        assert!(j.lock().is_err());
        assert!(!real.join("journal.jsonl").exists());
        // A directory others may write to.
        let shared = dir.path().join("shared");
        fs::create_dir(&shared).expect("mkdir");
        fs::set_permissions(&shared, fs::Permissions::from_mode(0o777)).expect("chmod");
        let j = Journal {
            path: shared.join("journal.jsonl"),
        };
        let e = j.lock().err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("not trusted"), "{e}");
        assert!(!shared.join("journal.jsonl").exists());
    }

    #[test]
    fn a_corrupt_line_is_reported_with_its_number() {
        let dir = tempfile::tempdir().expect("tempdir");
        let j = Journal {
            path: dir.path().join("journal.jsonl"),
        };
        fs::write(&j.path, "{not json}\n").expect("write");
        let e = j.entries().unwrap_err().to_string();
        assert!(e.contains("line 1"), "{e}");
    }
}
