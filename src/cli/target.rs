//! TARGET on the command line -> the thing it names in a snapshot.

use crate::model::{NsKey, NsType, Snapshot};
use crate::sys::parse::parse_ns_link;

/// What a TARGET names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Process(i32),
    Namespace(NsKey),
    /// A cgroup path, present in at least one hierarchy.
    Cgroup(String),
}

/// Errors resolving a TARGET: each is one line for the admin.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TargetError {
    #[error("no process, namespace or cgroup matches '{0}'")]
    NotFound(String),
    #[error("'{target}' matches several namespaces ({candidates}); write TYPE:[INODE]")]
    Ambiguous { target: String, candidates: String },
    #[error("'{0}' is not a PID, namespace (INODE, TYPE:[INODE], bind-mount path) or cgroup path")]
    Malformed(String),
}

/// Resolve `arg` against `snap`:
/// - a number: a live PID, else a namespace inode;
/// - `TYPE:[INODE]`: that namespace;
/// - a path: a namespace bind mount with that path, else a cgroup path in any hierarchy.
pub fn resolve(snap: &Snapshot, arg: &str) -> Result<Target, TargetError> {
    let arg_t = arg.trim();
    if arg_t.is_empty() {
        return Err(TargetError::Malformed(arg.to_string()));
    }
    if let Ok(n) = arg_t.parse::<u64>() {
        if let Ok(pid) = i32::try_from(n)
            && snap.processes.contains_key(&pid)
        {
            return Ok(Target::Process(pid));
        }
        let matches: Vec<NsKey> = snap
            .namespaces
            .keys()
            .filter(|(_, ino)| *ino == n)
            .copied()
            .collect();
        return match matches.as_slice() {
            [] => Err(TargetError::NotFound(arg.to_string())),
            [one] => Ok(Target::Namespace(*one)),
            many => Err(TargetError::Ambiguous {
                target: arg.to_string(),
                candidates: many
                    .iter()
                    .map(|(t, i)| format!("{t}:[{i}]"))
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        };
    }
    if let Some((t, ino)) = parse_ns_link(arg_t) {
        return if snap.namespaces.contains_key(&(t, ino)) {
            Ok(Target::Namespace((t, ino)))
        } else {
            Err(TargetError::NotFound(arg.to_string()))
        };
    }
    if arg_t.starts_with('/') {
        let path = normalize(arg_t);
        if let Some(ns) = snap
            .namespaces
            .values()
            .find(|ns| ns.bind_mounts.contains(&path))
        {
            return Ok(Target::Namespace(ns.key()));
        }
        if snap.cgroups.iter().any(|c| c.path == path) {
            return Ok(Target::Cgroup(path));
        }
        return Err(TargetError::NotFound(arg.to_string()));
    }
    if NsType::parse(arg_t).is_some() || arg_t.contains(":[") {
        return Err(TargetError::Malformed(arg.to_string()));
    }
    Err(TargetError::NotFound(arg.to_string()))
}

/// "/a//b/" -> "/a/b"; "/" stays "/". `..` is kept literally (no such cgroup exists, so it simply
/// does not match).
fn normalize(path: &str) -> String {
    let parts: Vec<&str> = path
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    format!("/{}", parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Cgroup, Namespace, NsId};
    use std::collections::BTreeMap;

    fn snap() -> Snapshot {
        let mut s = Snapshot::default();
        let mut net = Namespace::new(
            NsType::Net,
            NsId {
                dev: 4,
                ino: 4026532385,
            },
        );
        net.bind_mounts.push("/run/netns/x".into());
        s.namespaces.insert(net.key(), net);
        let uts = Namespace::new(
            NsType::Uts,
            NsId {
                dev: 4,
                ino: 4026531838,
            },
        );
        s.namespaces.insert(uts.key(), uts);
        s.cgroups.push(Cgroup {
            hierarchy: "memory".into(),
            path: "/docker/abc".into(),
            pids: vec![],
            limits: BTreeMap::new(),
            usage: BTreeMap::new(),
            devices: None,
            devices_default: None,
        });
        s
    }

    #[test]
    fn resolves_each_form() {
        let s = snap();
        assert_eq!(
            resolve(&s, "4026532385"),
            Ok(Target::Namespace((NsType::Net, 4026532385)))
        );
        assert_eq!(
            resolve(&s, "net:[4026532385]"),
            Ok(Target::Namespace((NsType::Net, 4026532385)))
        );
        assert_eq!(
            resolve(&s, "/run/netns/x"),
            Ok(Target::Namespace((NsType::Net, 4026532385)))
        );
        assert_eq!(
            resolve(&s, "/docker//abc/"),
            Ok(Target::Cgroup("/docker/abc".into()))
        );
        assert_eq!(
            resolve(&s, "999999"),
            Err(TargetError::NotFound("999999".into()))
        );
        assert_eq!(
            resolve(&s, "/no/such"),
            Err(TargetError::NotFound("/no/such".into()))
        );
        assert_eq!(
            resolve(&s, "uts:[1]"),
            Err(TargetError::NotFound("uts:[1]".into()))
        );
        assert!(matches!(resolve(&s, ""), Err(TargetError::Malformed(_))));
    }
}
