//! Files of the target's own root file system (not kernel files): its /etc/passwd and shells.

use rustix::fs::{Mode, OFlags, ResolveFlags};
use std::fs::File;
use std::io::Read;
use std::os::fd::BorrowedFd;
use std::os::unix::fs::MetadataExt;

/// Files read from the target (passwd, environ, status) are cut off at this size.
pub(super) const READ_LIMIT: u64 = 1 << 20;

/// The shell field of the passwd entry of `uid`.
pub(super) fn passwd_field(passwd: &str, uid: u32, field: usize) -> Option<&str> {
    passwd.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() >= 7 && f[2].parse() == Ok(uid)).then(|| f[field])
    })
}

/// A shell someone can log in with (not nologin, false, sync ...).
pub(super) fn is_login_shell(shell: &str) -> bool {
    let base = shell.rsplit('/').next().unwrap_or(shell);
    shell.starts_with('/')
        && !matches!(
            base,
            "nologin" | "false" | "true" | "sync" | "halt" | "shutdown"
        )
}

/// Whether `path` is an executable regular file, resolved inside the root `root` (symlinks
/// included: RESOLVE_IN_ROOT).
pub(super) fn is_executable_in(root: BorrowedFd<'_>, path: &str) -> bool {
    let Ok(fd) = rustix::fs::openat2(
        root,
        path,
        OFlags::PATH | OFlags::CLOEXEC,
        Mode::empty(),
        ResolveFlags::IN_ROOT,
    ) else {
        return false;
    };
    File::from(fd)
        .metadata()
        .is_ok_and(|m| m.is_file() && m.mode() & 0o111 != 0)
}

/// Read a regular file of at most [`READ_LIMIT`] bytes below `dir`. Never blocks on a FIFO or a
/// device, whatever the target put at that path. With `in_root`, `path` (and every symlink on the
/// way) is resolved with `dir` as the root.
pub(super) fn read_regular_at(dir: BorrowedFd<'_>, path: &str, in_root: bool) -> Option<String> {
    let flags = OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NONBLOCK | OFlags::NOCTTY;
    let fd = if in_root {
        rustix::fs::openat2(dir, path, flags, Mode::empty(), ResolveFlags::IN_ROOT).ok()?
    } else {
        rustix::fs::openat(dir, path, flags, Mode::empty()).ok()?
    };
    let file = File::from(fd);
    if !file.metadata().ok()?.is_file() {
        return None;
    }
    let mut text = String::new();
    file.take(READ_LIMIT).read_to_string(&mut text).ok()?;
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwd_shells() {
        let p = "root:x:0:0:root:/root:/bin/ash\nnginx:x:101:101::/var/lib/nginx:/sbin/nologin\n";
        assert_eq!(passwd_field(p, 0, 6), Some("/bin/ash"));
        assert_eq!(passwd_field(p, 101, 5), Some("/var/lib/nginx"));
        assert_eq!(passwd_field(p, 5, 6), None);
        assert!(is_login_shell("/bin/ash"));
        assert!(!is_login_shell("/sbin/nologin"));
        assert!(!is_login_shell("/bin/false"));
    }
}
