//! Files of the target's own root file system (not kernel files): its /etc/passwd and shells,
//! for the default command and HOME.

use crate::sys::{Roots, proc_handle};
use rustix::fs::{Mode, OFlags, ResolveFlags};
use std::fs::File;
use std::io::Read;
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Files read from the target (passwd, environ, status) are cut off at this size.
pub(super) const READ_LIMIT: u64 = 1 << 20;

/// The shell field of the passwd entry of `uid`.
pub(super) fn passwd_field(passwd: &str, uid: u32, field: usize) -> Option<&str> {
    passwd.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() >= 7 && f[2].parse() == Ok(uid)).then(|| f[field])
    })
}

/// The supplementary groups `docker exec -u` gives a user (containerd's and runc's rule): its
/// primary group `gid` first, then every group of `group` (an /etc/group text) that lists the
/// user's name (from `passwd`) as a member, each once.
pub(super) fn supplementary_groups(
    passwd: Option<&str>,
    group: Option<&str>,
    uid: u32,
    gid: u32,
) -> Vec<u32> {
    let mut out = vec![gid];
    let name = passwd.and_then(|p| passwd_field(p, uid, 0));
    if let (Some(name), Some(group)) = (name, group) {
        for line in group.lines() {
            let f: Vec<&str> = line.split(':').collect();
            let (Some(g), Some(members)) = (f.get(2).and_then(|g| g.parse().ok()), f.get(3)) else {
                continue;
            };
            if members.split(',').any(|m| m.trim() == name) && !out.contains(&g) {
                out.push(g);
            }
        }
    }
    out
}

/// A shell someone can log in with (not nologin, false, sync ...).
fn is_login_shell(shell: &str) -> bool {
    let base = shell.rsplit('/').next().unwrap_or(shell);
    shell.starts_with('/')
        && !matches!(
            base,
            "nologin" | "false" | "true" | "sync" | "halt" | "shutdown"
        )
}

/// The command when none is given: the login shell of the target's uid from the target's own
/// /etc/passwd (then root's entry there), when the target's root is entered and the shell exists
/// in it; else $SHELL (when it exists where the command will run); else /bin/sh.
pub(super) fn default_command(pid: Option<i32>, uid: u32, in_target_root: bool) -> Vec<String> {
    let env_shell = std::env::var("SHELL")
        .ok()
        .filter(|s| s.starts_with('/') && !s.contains('\0'));
    if in_target_root
        && let Some(pid) = pid
        && let Ok(root) = proc_handle::open_pid_root(&Roots::default(), pid)
    {
        return vec![shell_in_root(root.as_fd(), uid, env_shell)];
    }
    vec![
        env_shell
            .filter(|s| Path::new(s).exists())
            .unwrap_or_else(|| "/bin/sh".into()),
    ]
}

/// The first that exists in `root`: the login shell of `uid` (then of root) in its /etc/passwd,
/// `env_shell`, /bin/sh.
fn shell_in_root(root: BorrowedFd<'_>, uid: u32, env_shell: Option<String>) -> String {
    let usable = |shell: &str| is_executable_in(root, shell);
    if let Some(text) = read_regular_at(root, "/etc/passwd", true) {
        for u in [uid, 0] {
            if let Some(shell) = passwd_field(&text, u, 6)
                && is_login_shell(shell)
                && usable(shell)
            {
                return shell.to_string();
            }
        }
    }
    env_shell
        .filter(|s| usable(s))
        .unwrap_or_else(|| "/bin/sh".into())
}

/// Whether `path` is an executable regular file, resolved inside the root `root` (symlinks
/// included: RESOLVE_IN_ROOT).
fn is_executable_in(root: BorrowedFd<'_>, path: &str) -> bool {
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

    #[test]
    fn supplementary_groups_as_docker_exec() {
        let p = "root:x:0:0:root:/root:/bin/sh\nweb:x:1000:1000::/home/web:/bin/sh\n";
        let g =
            "root:x:0:\nweb:x:1000:\naudio:x:29:web,other\nvideo:x:44:other\nwheel:x:10:root,web\n";
        assert_eq!(
            supplementary_groups(Some(p), Some(g), 1000, 1000),
            [1000, 29, 10]
        );
        assert_eq!(supplementary_groups(Some(p), Some(g), 1000, 5), [5, 29, 10]);
        assert_eq!(supplementary_groups(Some(p), Some(g), 0, 0), [0, 10]);
        // Not in passwd, or no files: the primary group alone.
        assert_eq!(supplementary_groups(Some(p), Some(g), 4242, 7), [7]);
        assert_eq!(supplementary_groups(None, None, 1000, 1000), [1000]);
    }
}
