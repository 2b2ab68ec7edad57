//! Interpreting mountinfo: which cgroup hierarchies are mounted where, and which namespaces are
//! held by nsfs bind mounts. Pure functions over parsed lines (the reading is in [`super::procfs`]).

use super::parse::{CgroupLine, MountLine, parse_ns_link};
use crate::model::{CgroupMode, Hierarchy, NsType};
use std::collections::BTreeSet;

/// A cgroup hierarchy as found in mountinfo, before its v2 controllers are read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CgroupMount {
    pub hierarchy: Hierarchy,
    /// Root of the mount inside the hierarchy ("/" unless nsview runs inside a container).
    pub root: String,
}

/// Find the cgroup hierarchies in `mounts`.
///
/// v1 mounts (fstype `cgroup`) name their controllers in the super options (`rw,cpu,cpuacct` or
/// `rw,name=systemd`); the key is the matching controller field of /proc/self/cgroup, which is
/// what /proc/PID/cgroup uses too. v2 (`cgroup2`) is keyed "unified". A hierarchy mounted twice is
/// listed once, preferring the mount of its root.
pub fn cgroup_mounts(
    mounts: &[MountLine],
    self_cgroup: &[CgroupLine],
    known_controllers: &[(String, u32, bool)],
) -> (CgroupMode, Vec<CgroupMount>) {
    let known: BTreeSet<&str> = known_controllers.iter().map(|c| c.0.as_str()).collect();
    let mut out: Vec<CgroupMount> = Vec::new();
    for m in mounts {
        let (key, version, controllers, id) = match m.fs_type.as_str() {
            "cgroup2" => ("unified".to_string(), 2, Vec::new(), 0),
            "cgroup" => match v1_identity(m, self_cgroup, &known, known_controllers) {
                Some((key, controllers, id)) => (key, 1, controllers, id),
                None => continue,
            },
            _ => continue,
        };
        let candidate = CgroupMount {
            hierarchy: Hierarchy {
                key,
                version,
                controllers,
                mount: m.mount_point.clone(),
                id,
            },
            root: m.root.clone(),
        };
        match out
            .iter_mut()
            .find(|c| c.hierarchy.key == candidate.hierarchy.key)
        {
            Some(existing) => {
                if existing.root != "/" && candidate.root == "/" {
                    *existing = candidate;
                }
            }
            None => out.push(candidate),
        }
    }
    let v1 = out.iter().any(|m| m.hierarchy.version == 1);
    let v2 = out.iter().any(|m| m.hierarchy.version == 2);
    let mode = match (v1, v2) {
        (true, true) => CgroupMode::Hybrid,
        (true, false) => CgroupMode::V1,
        (false, true) => CgroupMode::V2,
        (false, false) => CgroupMode::None,
    };
    (mode, out)
}

/// A v1 mount's hierarchy: its key (the controller field of /proc/self/cgroup), controllers and
/// hierarchy id; `None` for a mount that names no known controller and no name.
fn v1_identity(
    m: &MountLine,
    self_cgroup: &[CgroupLine],
    known: &BTreeSet<&str>,
    known_controllers: &[(String, u32, bool)],
) -> Option<(String, Vec<String>, u32)> {
    // The hierarchy's identity: its controllers plus its name (name=systemd), as the
    // controller field of /proc/PID/cgroup writes it. A named hierarchy has no
    // controller bound to it (cgroups(7)).
    let ident: Vec<String> = m
        .super_options
        .iter()
        .filter(|o| known.contains(o.as_str()) || o.starts_with("name="))
        .cloned()
        .collect();
    if ident.is_empty() {
        return None;
    }
    let controllers: Vec<String> = ident
        .iter()
        .filter(|o| !o.starts_with("name="))
        .cloned()
        .collect();
    let set: BTreeSet<&str> = ident.iter().map(String::as_str).collect();
    let line = self_cgroup
        .iter()
        .find(|l| l.id != 0 && l.key.split(',').collect::<BTreeSet<_>>() == set);
    let key = match line {
        Some(l) => l.key.clone(),
        None => ident.join(","),
    };
    let id = line.map(|l| l.id).unwrap_or_else(|| {
        known_controllers
            .iter()
            .find(|c| set.contains(c.0.as_str()))
            .map(|c| c.1)
            .unwrap_or(0)
    });
    Some((key, controllers, id))
}

/// A namespace held by an nsfs bind mount (`ip netns add x` -> /run/netns/x).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NsBindMount {
    pub ns_type: NsType,
    pub ino: u64,
    /// Mount point as seen in the mount namespace whose mountinfo listed it.
    pub mount_point: String,
}

/// nsfs mounts in one mountinfo. The mount's root field names the namespace (`net:[4026532385]`).
pub fn nsfs_bind_mounts(mounts: &[MountLine]) -> Vec<NsBindMount> {
    mounts
        .iter()
        .filter(|m| m.fs_type == "nsfs")
        .filter_map(|m| {
            let (ns_type, ino) = parse_ns_link(&m.root)?;
            Some(NsBindMount {
                ns_type,
                ino,
                mount_point: m.mount_point.clone(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::parse::{parse_mountinfo, parse_proc_pid_cgroup};

    const HYBRID: &str = "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n\
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n\
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n\
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n\
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd\n\
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate\n\
99 31 0:32 /docker/abc /mnt/memory-again rw - cgroup cgroup rw,memory\n";

    fn controllers() -> Vec<(String, u32, bool)> {
        ["cpu", "cpuacct", "memory"]
            .iter()
            .enumerate()
            .map(|(i, n)| (n.to_string(), i as u32 + 1, true))
            .collect()
    }

    #[test]
    fn hybrid_host() {
        let m = parse_mountinfo(HYBRID);
        let sc =
            parse_proc_pid_cgroup("9:name=systemd:/\n4:memory:/\n2:cpuacct:/\n1:cpu:/\n0::/\n");
        let (mode, h) = cgroup_mounts(&m, &sc, &controllers());
        assert_eq!(mode, CgroupMode::Hybrid);
        let keys: Vec<&str> = h.iter().map(|c| c.hierarchy.key.as_str()).collect();
        assert_eq!(
            keys,
            vec!["cpu", "cpuacct", "memory", "name=systemd", "unified"]
        );
        let mem = &h[2];
        assert_eq!(mem.hierarchy.mount, "/sys/fs/cgroup/memory");
        assert_eq!(mem.root, "/");
        assert_eq!(mem.hierarchy.id, 4);
        assert!(h[3].hierarchy.controllers.is_empty());
    }

    #[test]
    fn co_mounted_controllers_take_the_kernel_key() {
        let m = parse_mountinfo(
            "25 24 0:22 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpuacct,cpu\n",
        );
        let sc = parse_proc_pid_cgroup("3:cpu,cpuacct:/\n");
        let (mode, h) = cgroup_mounts(&m, &sc, &controllers());
        assert_eq!(mode, CgroupMode::V1);
        assert_eq!(h[0].hierarchy.key, "cpu,cpuacct");
    }

    #[test]
    fn v2_only_and_none() {
        let m = parse_mountinfo("30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n");
        let (mode, h) = cgroup_mounts(&m, &[], &[]);
        assert_eq!(mode, CgroupMode::V2);
        assert_eq!(h[0].hierarchy.key, "unified");
        let (mode, h) = cgroup_mounts(&[], &[], &[]);
        assert_eq!(mode, CgroupMode::None);
        assert!(h.is_empty());
    }

    #[test]
    fn nsfs_mounts() {
        let m = parse_mountinfo(
            "612 29 0:4 net:[4026532385] /run/netns/x rw shared:5 - nsfs nsfs rw\n\
             613 29 0:4 mnt:[4026532999] /run/keep-mnt rw - nsfs nsfs rw\n\
             614 29 0:4 / /proc rw - proc proc rw\n",
        );
        let b = nsfs_bind_mounts(&m);
        assert_eq!(
            b,
            vec![
                NsBindMount {
                    ns_type: NsType::Net,
                    ino: 4026532385,
                    mount_point: "/run/netns/x".into()
                },
                NsBindMount {
                    ns_type: NsType::Mnt,
                    ino: 4026532999,
                    mount_point: "/run/keep-mnt".into()
                }
            ]
        );
    }
}
