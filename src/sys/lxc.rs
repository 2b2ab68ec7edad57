//! LXC's and systemd-machined's records of containers known by name: an LXC container's config
//! (LXCPATH/NAME/config, LXCPATH being /var/lib/lxc or the `-P` its monitor was started with)
//! and machined's registration (/run/systemd/machines/NAME). Either confirms that a cgroup named
//! lxc.payload.NAME or machine-NAME.scope is that runtime's container.

use super::error::{SysError, SysResult};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Whether `path` is a regular file root owns (not followed through a symlink): a record only
/// root could have written. Absent: Ok(false).
pub fn is_roots_file(path: &Path) -> SysResult<bool> {
    match std::fs::symlink_metadata(path) {
        Ok(m) => Ok(m.is_file() && m.uid() == 0),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(SysError::io(path, e)),
    }
}

/// The LXCPATH of container `name` in the command line of its monitor (`[lxc monitor] LXCPATH
/// NAME`, as lxc-start sets its title), if `cmdline` is that.
pub fn monitor_lxcpath<'a>(cmdline: &'a [String], name: &str) -> Option<&'a str> {
    let title = cmdline.first()?.trim_end_matches('\0');
    let rest = title.strip_prefix("[lxc monitor] ")?;
    let (path, n) = rest.rsplit_once(' ')?;
    (n == name && path.starts_with('/')).then_some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monitor_titles() {
        let title = |s: &str| vec![s.to_string()];
        assert_eq!(
            monitor_lxcpath(&title("[lxc monitor] /var/lib/lxc web"), "web"),
            Some("/var/lib/lxc")
        );
        assert_eq!(
            monitor_lxcpath(&title("[lxc monitor] /tmp/my dir/x web"), "web"),
            Some("/tmp/my dir/x")
        );
        assert_eq!(
            monitor_lxcpath(&title("[lxc monitor] /var/lib/lxc db"), "web"),
            None
        );
        assert_eq!(monitor_lxcpath(&title("sleep 100"), "web"), None);
        assert_eq!(
            monitor_lxcpath(&title("[lxc monitor] rel web"), "web"),
            None
        );
    }

    #[test]
    fn roots_files() {
        let dir = std::env::temp_dir().join(format!("nsview-lxc-unit-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let config = dir.join("config");
        let _ = std::fs::write(&config, "lxc.uts.name = web\n");
        let root = rustix::process::geteuid().is_root();
        assert_eq!(is_roots_file(&config).ok(), Some(root));
        assert_eq!(is_roots_file(&dir.join("absent")).ok(), Some(false));
        assert_eq!(is_roots_file(&dir).ok(), Some(false), "a directory");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
