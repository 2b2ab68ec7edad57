//! nsfs: the files behind /proc/PID/ns/* and their ioctls (ioctl_ns(2)).

use super::error::{SysError, SysResult};
use crate::model::{NsId, NsType};
use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

/// A namespace to be opened: its inode and a path to an nsfs file for it (`/proc/PID/ns/net`, or a
/// bind mount such as `/run/netns/x`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NsTarget {
    pub ino: u64,
    pub path: PathBuf,
}

impl NsTarget {
    /// Open the nsfs file, checking that it is still the namespace we expect (a PID can be reused
    /// between collection and open).
    pub fn open(&self) -> SysResult<File> {
        let file = File::open(&self.path).map_err(|e| SysError::io(&self.path, e))?;
        let meta = file.metadata().map_err(|e| SysError::io(&self.path, e))?;
        if meta.ino() != self.ino {
            return Err(SysError::Vanished {
                path: self.path.clone(),
            });
        }
        Ok(file)
    }
}

// ioctl_ns(2): NSIO is 0xb7.
nix::ioctl_none!(ns_get_userns, 0xb7, 0x1);
nix::ioctl_none!(ns_get_parent, 0xb7, 0x2);
nix::ioctl_none!(ns_get_nstype, 0xb7, 0x3);
nix::ioctl_read!(ns_get_owner_uid, 0xb7, 0x4, libc_uid_t);

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
