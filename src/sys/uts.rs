//! UTS namespaces: the hostname and NIS domain name of each namespace.
//!
//! The kernel shows a UTS namespace's names only to tasks inside it, through uname(2); /proc has
//! no per-process copy. setns(2) with CLONE_NEWUTS is allowed for a single thread of a
//! multithreaded process, so dedicated, short-lived helper threads (one per call, or a few that
//! share the namespaces out) join each namespace in turn and ask uname(2). The caller's thread
//! never changes namespace, and a helper thread's namespace memberships end with it.

use super::error::{SysError, SysResult};
use super::nsfs::{NsGroups, NsTarget, fail_all, group_by_ino, on_helper_threads, open_any};
use nix::sched::{CloneFlags, setns};
use std::collections::HashMap;

/// The names a UTS namespace holds, as uname(2) reports them inside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UtsName {
    /// `nodename`: what hostname(1) prints. Decoded lossily: the kernel accepts any bytes.
    pub hostname: String,
    /// `domainname` (NIS/YP, not DNS). The kernel's default is the literal "(none)", kept as is.
    pub domainname: String,
}

/// Hostname and domain name of every given UTS namespace, keyed by namespace inode.
///
/// Each namespace is joined once, by a helper thread that exits before this returns. Targets
/// naming the same inode are read once; their paths are tried in order until one opens. A
/// namespace that is gone gives `Err(Vanished)`, missing privilege `Err(Permission)`, and a
/// failure concerns only the key it is stored under.
pub fn read_uts_names(targets: &[NsTarget]) -> HashMap<u64, SysResult<UtsName>> {
    read_uts_names_on(targets, 1)
}

/// [`read_uts_names`] with the namespaces split over up to `threads` helper threads (each
/// joins its own share in turn and exits): the same result, sooner on a host with hundreds.
pub fn read_uts_names_on(targets: &[NsTarget], threads: usize) -> HashMap<u64, SysResult<UtsName>> {
    let groups = group_by_ino(targets);
    on_helper_threads(
        "nsview-uts",
        &groups,
        threads,
        MIN_PER_THREAD,
        read_groups,
        |part, e| fail_all(part, e).into_iter().collect(),
    )
    .into_iter()
    .collect()
}

/// Below this many namespaces per helper, another thread costs more than it saves (one join and
/// uname(2) take microseconds).
const MIN_PER_THREAD: usize = 16;

/// Runs in a helper thread: joins each namespace in turn.
fn read_groups(groups: &NsGroups<'_>) -> Vec<(u64, SysResult<UtsName>)> {
    groups
        .iter()
        .map(|(ino, paths)| (*ino, read_one(paths)))
        .collect()
}

fn read_one(paths: &[&NsTarget]) -> SysResult<UtsName> {
    let (target, file) = open_any(paths)?;
    setns(&file, CloneFlags::CLONE_NEWUTS).map_err(|e| SysError::errno(&target.path, e))?;
    let uts = nix::sys::utsname::uname().map_err(|e| SysError::errno(&target.path, e))?;
    Ok(UtsName {
        hostname: uts.nodename().to_string_lossy().into_owned(),
        domainname: uts.domainname().to_string_lossy().into_owned(),
    })
}

/// uname(2) of nsview's own UTS namespace: the host's name and kernel release.
pub fn read_host_info() -> crate::model::HostInfo {
    let u = nix::sys::utsname::uname();
    crate::model::HostInfo {
        hostname: u
            .as_ref()
            .map(|u| u.nodename().to_string_lossy().into_owned())
            .unwrap_or_default(),
        kernel: u
            .as_ref()
            .map(|u| u.release().to_string_lossy().into_owned())
            .unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader};
    use std::os::unix::fs::MetadataExt;
    use std::path::PathBuf;
    use std::process::{Child, Command, Stdio};

    fn require_root() -> bool {
        crate::sys::test_support::require_root("the UTS namespace tests")
    }

    /// A process in a new UTS namespace with known names; killed and reaped on drop, also when
    /// a test fails.
    struct UtsProc {
        child: Child,
    }

    impl UtsProc {
        fn start(hostname: &str, domainname: &str) -> UtsProc {
            // Writes through /proc/sys/kernel so no hostname/domainname binary is needed; both
            // files are per UTS namespace.
            let script = format!(
                "echo {hostname} > /proc/sys/kernel/hostname && \
                 echo {domainname} > /proc/sys/kernel/domainname && echo ready && exec sleep 30"
            );
            let child = Command::new("unshare")
                .args(["--uts", "sh", "-c", &script])
                .stdout(Stdio::piped())
                .spawn()
                .expect("spawn unshare");
            // Guard first, so the process is reaped even if the handshake below fails.
            let mut proc = UtsProc { child };
            let stdout = proc.child.stdout.take().expect("piped stdout");
            let mut line = String::new();
            BufReader::new(stdout)
                .read_line(&mut line)
                .expect("read ready");
            assert_eq!(line.trim(), "ready", "unshare helper did not start");
            proc
        }

        fn target(&self) -> NsTarget {
            let path = PathBuf::from(format!("/proc/{}/ns/uts", self.child.id()));
            let ino = std::fs::metadata(&path).expect("stat ns/uts").ino();
            NsTarget::link(ino, path)
        }
    }

    impl Drop for UtsProc {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    fn own_uts() -> NsTarget {
        let path = PathBuf::from("/proc/thread-self/ns/uts");
        let ino = std::fs::metadata(&path).expect("stat own uts").ino();
        NsTarget::link(ino, path)
    }

    #[test]
    fn reads_hostname_of_other_namespace_without_moving_caller() {
        if !require_root() {
            return;
        }
        let h1 = UtsProc::start("nsview-h1", "nsview-d1");
        let h2 = UtsProc::start("nsview-h2", "nsview-d2");
        let before = own_uts();
        let (t1, t2) = (h1.target(), h2.target());
        assert_ne!(t1.ino, t2.ino);

        let names = read_uts_names(&[t1.clone(), t2.clone(), t1.clone()]);
        assert_eq!(names.len(), 2);
        let n1 = names[&t1.ino].as_ref().expect("uts 1");
        assert_eq!(n1.hostname, "nsview-h1");
        assert_eq!(n1.domainname, "nsview-d1");
        let n2 = names[&t2.ino].as_ref().expect("uts 2");
        assert_eq!(n2.hostname, "nsview-h2");
        assert_eq!(n2.domainname, "nsview-d2");

        // The calling thread is still where it was.
        assert_eq!(own_uts().ino, before.ino);
        let ours = nix::sys::utsname::uname().expect("uname");
        assert_ne!(ours.nodename(), "nsview-h2");
    }

    #[test]
    fn vanished_target_fails_alone() {
        if !require_root() {
            return;
        }
        let h1 = UtsProc::start("nsview-h3", "nsview-d3");
        let good = h1.target();
        let missing = NsTarget::link(1, PathBuf::from("/proc/nonexistent-nsview/ns/uts"));
        // Right file, wrong inode: what a reused PID looks like.
        let reused = NsTarget::link(good.ino + 1_000_000, good.path.clone());
        let names = read_uts_names(&[missing.clone(), good.clone(), reused.clone()]);
        assert!(
            names[&missing.ino]
                .as_ref()
                .is_err_and(SysError::is_vanished)
        );
        assert!(
            names[&reused.ino]
                .as_ref()
                .is_err_and(SysError::is_vanished)
        );
        assert_eq!(
            names[&good.ino].as_ref().expect("good").hostname,
            "nsview-h3"
        );
    }

    #[test]
    fn second_path_of_same_namespace_is_tried() {
        if !require_root() {
            return;
        }
        let h1 = UtsProc::start("nsview-h4", "nsview-d4");
        let good = h1.target();
        let dead = NsTarget::link(good.ino, PathBuf::from("/proc/nonexistent-nsview/ns/uts"));
        let names = read_uts_names(&[dead, good.clone()]);
        assert_eq!(
            names[&good.ino].as_ref().expect("good").hostname,
            "nsview-h4"
        );
    }

    #[test]
    fn empty_input_spawns_nothing() {
        assert!(read_uts_names(&[]).is_empty());
    }
}
