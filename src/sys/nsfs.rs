//! nsfs: the files behind /proc/PID/ns/* and their ioctls (ioctl_ns(2)).

use super::error::{SysError, SysResult};
use crate::model::{NsId, NsType};
use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

/// A namespace to be opened: its inode and a path to an nsfs file for it (`/proc/PID/ns/net`, or a
/// bind mount such as `/run/netns/x`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NsTarget {
    pub ino: u64,
    pub path: PathBuf,
    /// For a bind mount seen in another mount namespace: that namespace's root
    /// (`/proc/PID/root`); `path` is below it and is resolved only beneath it, without following
    /// any symlink (what is there is under the control of whoever owns that mount namespace).
    pub beneath: Option<PathBuf>,
}

/// statfs(2)'s f_type of nsfs (include/uapi/linux/magic.h NSFS_MAGIC).
const NSFS_MAGIC: u64 = 0x6e73_6673;

impl NsTarget {
    /// `/proc/PID/ns/TYPE` (or any path that may be followed to an nsfs file) of namespace `ino`:
    /// opened directly (see [`NsTarget::open`]).
    pub fn link(ino: u64, path: PathBuf) -> NsTarget {
        NsTarget {
            ino,
            path,
            beneath: None,
        }
    }

    /// The nsfs bind mount at `mount_point` in the mount namespace whose root is `root`
    /// (`/proc/PID/root` of a process in it).
    pub fn bind_mount(ino: u64, root: PathBuf, mount_point: &str) -> NsTarget {
        NsTarget {
            ino,
            path: root.join(mount_point.trim_start_matches('/')),
            beneath: Some(root),
        }
    }

    /// Open the nsfs file, checking that it is still the namespace we expect (a PID can be reused
    /// between collection and open). The path is first opened with O_PATH (which neither blocks on
    /// a FIFO nor opens a device) and checked to be on nsfs with the expected inode; only then
    /// is the file itself opened, through that descriptor. A bind mount's path is resolved
    /// beneath its mount namespace's root with no symlink followed.
    pub fn open(&self) -> SysResult<File> {
        let Some(root) = &self.beneath else {
            return self.open_link();
        };
        let fd = self
            .open_path_beneath(root)
            .map_err(|e| SysError::io(&self.path, e.into()))?;
        self.check_is_the_namespace(&fd)?;
        // Reopen the checked file for reading (ioctls and setns need more than O_PATH).
        let reopen = PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()));
        let file = File::open(&reopen).map_err(|e| SysError::io(&self.path, e))?;
        let meta = file.metadata().map_err(|e| SysError::io(&self.path, e))?;
        if meta.ino() != self.ino {
            return Err(SysError::Vanished {
                path: self.path.clone(),
            });
        }
        Ok(file)
    }

    /// A /proc/PID/ns link: a magic link the kernel resolves to the namespace itself, never to a
    /// FIFO or device a process could place there, so it is opened for reading at once (and
    /// without blocking or a controlling terminal, should a fixture root put anything else
    /// there), then checked as a bind mount is. One open instead of two: the full pass opens
    /// ~1,000 of them for hostnames and interfaces.
    fn open_link(&self) -> SysResult<File> {
        use rustix::fs::{Mode, OFlags};
        let flags = OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NONBLOCK | OFlags::NOCTTY;
        let fd = rustix::fs::open(&self.path, flags, Mode::empty())
            .map_err(|e| SysError::io(&self.path, e.into()))?;
        self.check_is_the_namespace(&fd)?;
        Ok(File::from(fd))
    }

    /// `fd` is on nsfs and has the namespace's inode: not something else placed at the path,
    /// nor another namespace since (a PID reused).
    fn check_is_the_namespace(&self, fd: &OwnedFd) -> SysResult<()> {
        let io_err = |e: rustix::io::Errno| SysError::io(&self.path, e.into());
        let fs = rustix::fs::fstatfs(fd).map_err(io_err)?;
        // The f_type width differs between architectures.
        #[allow(clippy::useless_conversion, clippy::unnecessary_cast)]
        let magic = fs.f_type as u64;
        if magic != NSFS_MAGIC {
            return Err(SysError::parse(&self.path, "not a namespace (nsfs) file"));
        }
        let st = rustix::fs::fstat(fd).map_err(io_err)?;
        if st.st_ino != self.ino {
            return Err(SysError::Vanished {
                path: self.path.clone(),
            });
        }
        Ok(())
    }

    /// The bind mount's path with O_PATH, resolved beneath `root` with no symlink followed.
    fn open_path_beneath(&self, root: &std::path::Path) -> rustix::io::Result<OwnedFd> {
        use rustix::fs::{Mode, OFlags, ResolveFlags};
        let rel = self.path.strip_prefix(root).unwrap_or(&self.path);
        let root_fd = rustix::fs::open(
            root,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        rustix::fs::openat2(
            &root_fd,
            rel,
            OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
            ResolveFlags::IN_ROOT | ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS,
        )
    }
}

// ioctl_ns(2): NSIO is 0xb7.
nix::ioctl_none!(ns_get_userns, 0xb7, 0x1);
nix::ioctl_none!(ns_get_parent, 0xb7, 0x2);
nix::ioctl_none!(ns_get_nstype, 0xb7, 0x3);
// NS_GET_OWNER_UID writes a uid_t through its argument but is defined as _IO(NSIO, 0x4)
// (include/uapi/linux/nsfs.h), without the size and direction bits `ioctl_read!` would add.
nix::ioctl_read_bad!(
    ns_get_owner_uid,
    nix::request_code_none!(0xb7, 0x4),
    libc_uid_t
);

#[allow(non_camel_case_types)]
type libc_uid_t = u32;

/// Relations of one namespace, from the nsfs ioctls.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NsRelations {
    /// NS_GET_USERNS: the owning user namespace.
    pub owner: Option<NsId>,
    /// NS_GET_PARENT: the parent (pid and user namespaces only).
    pub parent: Option<NsId>,
    /// NS_GET_OWNER_UID: for a user namespace, the UID of its creator.
    pub owner_uid: Option<u32>,
}

fn id_of_fd(fd: OwnedFd) -> Option<NsId> {
    let file = File::from(fd);
    let meta = file.metadata().ok()?;
    Some(NsId {
        dev: meta.dev(),
        ino: meta.ino(),
    })
}

fn ioctl_fd(file: &File, call: unsafe fn(i32) -> nix::Result<i32>) -> Option<NsId> {
    // SAFETY: the NS_GET_* ioctls take no argument and return a new fd owned by the caller (or -1
    // with errno); `file` is an open nsfs file for the duration of the call.
    let raw = unsafe { call(file.as_raw_fd()) }.ok()?;
    // SAFETY: the kernel just returned `raw` as a fresh descriptor that nobody else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    id_of_fd(fd)
}

/// Read the relations of an open nsfs file. Errors (EPERM when the owner is outside our user
/// namespace, EINVAL for types without a parent) mean "not known" and give `None`.
pub fn read_relations(file: &File, ns_type: NsType) -> NsRelations {
    let owner = ioctl_fd(file, ns_get_userns);
    let parent = match ns_type {
        NsType::Pid | NsType::User => ioctl_fd(file, ns_get_parent),
        _ => None,
    };
    let owner_uid = if ns_type == NsType::User {
        let mut uid: libc_uid_t = 0;
        // SAFETY: NS_GET_OWNER_UID writes one uid_t through the pointer, which points at `uid`.
        unsafe { ns_get_owner_uid(file.as_raw_fd(), &mut uid) }
            .ok()
            .map(|_| uid)
    } else {
        None
    };
    NsRelations {
        owner,
        parent,
        owner_uid,
    }
}

/// NS_GET_NSTYPE on an open nsfs file.
pub fn read_nstype(file: &File) -> Option<NsType> {
    // SAFETY: NS_GET_NSTYPE takes no argument and returns the CLONE_NEW* constant or -1.
    let flag = unsafe { ns_get_nstype(file.as_raw_fd()) }.ok()?;
    NsType::from_clone_flag(flag)
}

/// Targets grouped by inode, in first-seen order: a namespace listed under several paths (a member
/// process and a bind mount) is read once, trying its paths in order.
pub(crate) fn group_by_ino(targets: &[NsTarget]) -> Vec<(u64, Vec<&NsTarget>)> {
    let mut groups: Vec<(u64, Vec<&NsTarget>)> = Vec::new();
    let mut index: HashMap<u64, usize> = HashMap::new();
    for target in targets {
        match index.get(&target.ino) {
            Some(&i) => groups[i].1.push(target),
            None => {
                index.insert(target.ino, groups.len());
                groups.push((target.ino, vec![target]));
            }
        }
    }
    groups
}

/// Open the first of `paths` that still leads to the namespace. The error reported is the most
/// telling one: a permission problem wins over "vanished".
pub(crate) fn open_any<'a>(paths: &[&'a NsTarget]) -> SysResult<(&'a NsTarget, File)> {
    let mut first_err: Option<SysError> = None;
    for &target in paths {
        match target.open() {
            Ok(file) => return Ok((target, file)),
            Err(e) => {
                let replace = match &first_err {
                    None => true,
                    Some(prev) => prev.is_vanished() && !e.is_vanished(),
                };
                if replace {
                    first_err = Some(e);
                }
            }
        }
    }
    Err(first_err.unwrap_or_else(|| SysError::parse("", "namespace target without a path")))
}

/// Namespaces grouped by inode with the paths to try, as [`group_by_ino`] gives them.
pub(crate) type NsGroups<'t> = [(u64, Vec<&'t NsTarget>)];

/// `read` over `groups` split in even chunks, in order, over up to `threads` helper threads
/// named `name` (fewer when there are fewer than `min_per_thread` groups per thread); the
/// chunks' results concatenated in `groups`' order. Never on the caller's thread: `read` may join
/// namespaces with setns(2), which must move only a helper that exits afterwards. A chunk whose
/// helper could not start or panicked gets `failed` for its groups, and only it.
pub(crate) fn on_helper_threads<'t, R: Send>(
    name: &str,
    groups: &NsGroups<'t>,
    threads: usize,
    min_per_thread: usize,
    read: impl Fn(&NsGroups<'t>) -> Vec<R> + Sync,
    failed: impl Fn(&NsGroups<'t>, &io::Error) -> Vec<R>,
) -> Vec<R> {
    if groups.is_empty() {
        return Vec::new();
    }
    let helpers = threads
        .min(groups.len().div_ceil(min_per_thread.max(1)))
        .max(1);
    let chunk = groups.len().div_ceil(helpers);
    let read = &read;
    std::thread::scope(|scope| {
        let spawned: Vec<_> = groups
            .chunks(chunk)
            .map(|part| {
                let handle = std::thread::Builder::new()
                    .name(name.to_string())
                    .spawn_scoped(scope, move || read(part));
                (part, handle)
            })
            .collect();
        let mut out = Vec::with_capacity(groups.len());
        for (part, handle) in spawned {
            let outcome = match handle {
                Ok(h) => h
                    .join()
                    .map_err(|_| io::Error::other(format!("{name} thread panicked"))),
                Err(e) => Err(e),
            };
            match outcome {
                Ok(results) => out.extend(results),
                Err(e) => out.extend(failed(part, &e)),
            }
        }
        out
    })
}

/// Every key gets the same error when a helper thread could not run (spawn failure).
pub(crate) fn fail_all<T>(
    groups: &[(u64, Vec<&NsTarget>)],
    err: &io::Error,
) -> HashMap<u64, SysResult<T>> {
    groups
        .iter()
        .map(|(ino, paths)| {
            let path = paths.first().map(|t| t.path.clone()).unwrap_or_default();
            let e = io::Error::new(err.kind(), err.to_string());
            (*ino, Err(SysError::io(path, e)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn own_net() -> (PathBuf, u64) {
        let path = PathBuf::from("/proc/thread-self/ns/net");
        let ino = std::fs::metadata(&path).expect("stat own net").ino();
        (path, ino)
    }

    #[test]
    fn a_namespace_link_opens() {
        let (path, ino) = own_net();
        let file = NsTarget::link(ino, path).open().expect("open own net");
        assert_eq!(read_nstype(&file), Some(NsType::Net));
    }

    /// What a mount namespace's owner can put where mountinfo says a namespace is mounted: a
    /// symlink (to a namespace, even the right one) is not followed, a FIFO is not opened for
    /// reading (which would block), a plain file is not a namespace.
    #[test]
    fn a_bind_mount_path_is_not_followed_and_must_be_nsfs() {
        let (path, ino) = own_net();
        let root = tempfile::tempdir().expect("tempdir");
        let netns = root.path().join("run/netns");
        std::fs::create_dir_all(&netns).expect("mkdir");
        std::os::unix::fs::symlink(&path, netns.join("link")).expect("symlink");
        std::os::unix::fs::symlink("/proc/thread-self", root.path().join("proc")).expect("symlink");
        nix::unistd::mkfifo(&netns.join("fifo"), nix::sys::stat::Mode::S_IRWXU).expect("mkfifo");
        std::fs::write(netns.join("file"), "").expect("write");
        for at in [
            "/run/netns/link",
            "/proc/ns/net",
            "/run/netns/fifo",
            "/run/netns/file",
        ] {
            let target = NsTarget::bind_mount(ino, root.path().to_path_buf(), at);
            assert!(target.open().is_err(), "{at}");
        }
        // The same paths followed, as before: the symlinks lead to the namespace.
        assert!(NsTarget::link(ino, netns.join("link")).open().is_ok());
    }
}
