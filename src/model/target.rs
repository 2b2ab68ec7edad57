//! TARGET on the command line -> the thing it names in a snapshot.

use super::containers::Container;
use super::{NsKey, NsType, Snapshot, parse_ns_link};

/// What a TARGET names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Process(i32),
    Namespace(NsKey),
    /// A cgroup path, present in at least one hierarchy.
    Cgroup(String),
    /// A container (or isolation group), by its [`Container::key`]; see [`Snapshot::container`].
    Container(String),
    /// `host`: the processes no isolation group holds, in the host's namespaces and the root
    /// cgroups (the Containers view's "host" row).
    Host,
}

/// Errors resolving a TARGET: each is one line for the admin.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TargetError {
    /// `tried` says which readings of the TARGET were looked up; `nearest` the names of
    /// containers (and named netns) it may have meant, nearest first.
    #[error("{}", not_found_line(.target, .tried, .nearest))]
    NotFound {
        target: String,
        tried: Tried,
        nearest: Vec<String>,
    },
    #[error("'{target}' matches several namespaces ({candidates}); write TYPE:[INODE]")]
    Ambiguous { target: String, candidates: String },
    #[error("'{0}' is not a PID, namespace (INODE, TYPE:[INODE], bind-mount path) or cgroup path")]
    Malformed(String),
    #[error("'{target}' matches several containers ({candidates}); give more of the id")]
    AmbiguousContainer { target: String, candidates: String },
}

/// The readings of a TARGET that were looked up before it was found to match nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tried {
    /// A number: a PID, a namespace inode, a container id prefix.
    Number,
    /// `TYPE:[INODE]`.
    NamespaceLink,
    /// A path: a namespace bind mount, a cgroup path.
    Path,
    /// A word: a container's name or id prefix, a named netns, `host`.
    Name,
}

impl Tried {
    fn says(self) -> &'static str {
        match self {
            Tried::Number => "tried as a PID, a namespace inode and a container id prefix",
            Tried::NamespaceLink => "tried as a namespace TYPE:[INODE]",
            Tried::Path => "tried as a namespace bind mount and a cgroup path in every hierarchy",
            Tried::Name => {
                "tried as a container name, a container id prefix, a named netns and 'host'"
            }
        }
    }
}

fn not_found_line(target: &str, tried: &Tried, nearest: &[String]) -> String {
    let mut line = format!(
        "no process, namespace, cgroup or container matches '{target}' ({})",
        tried.says()
    );
    if !nearest.is_empty() {
        line.push_str(&format!("; did you mean {}?", nearest.join(" or ")));
    }
    line
}

/// The name the Containers view gives a network namespace held by a bind mount: the last part of
/// the path (/run/netns/nsview-b -> nsview-b).
pub fn netns_name(bind_mount: &str) -> &str {
    bind_mount.rsplit('/').next().unwrap_or(bind_mount)
}

/// Up to three NAMEs of the Containers view (containers, named netns, `host`) nearest to `arg`
/// by edit distance, nearest first; only those a typo or two away.
fn nearest_names(snap: &Snapshot, arg: &str) -> Vec<String> {
    let netns = snap
        .namespaces
        .values()
        .filter(|ns| ns.ns_type == NsType::Net)
        .flat_map(|ns| ns.bind_mounts.iter().map(|b| netns_name(b)));
    let names = snap
        .containers
        .iter()
        .map(|c| c.name.as_str())
        .chain(netns)
        .chain(std::iter::once(HOST));
    // One typo in four characters, at most three: a name that far off is another name.
    let limit = (arg.chars().count() / 4).clamp(1, 3);
    let mut near: Vec<(usize, &str)> = names
        .map(|n| (strsim::damerau_levenshtein(arg, n), n))
        .filter(|(d, _)| *d <= limit)
        .collect();
    near.sort_unstable();
    near.dedup_by(|a, b| a.1 == b.1);
    near.into_iter()
        .take(3)
        .map(|(_, n)| n.to_string())
        .collect()
}

/// The host's processes (those no isolation group holds), in PID order.
pub fn host_pids(snap: &Snapshot) -> Vec<i32> {
    snap.processes
        .values()
        .filter(|p| snap.group_of(p.pid).is_none())
        .map(|p| p.pid)
        .collect()
}

/// The TARGET that names the host.
pub const HOST: &str = "host";

/// Resolve `arg` against `snap`:
/// - a number: a live PID, else a namespace inode;
/// - `TYPE:[INODE]`: that namespace;
/// - a path: a namespace bind mount with that path, else a cgroup path in any hierarchy;
/// - else a container's name, or a prefix of its id (a number that is a PID or a namespace inode
///   stays one; other numbers may be id prefixes);
/// - else `host`, or the name of a network namespace's bind mount (`nsview-b` for
///   /run/netns/nsview-b): the NAMEs the Containers view shows for them.
///
/// Nothing matching is one line saying what was tried and, for a name, the nearest NAMEs.
pub fn resolve(snap: &Snapshot, arg: &str) -> Result<Target, TargetError> {
    let arg_t = arg.trim();
    if arg_t.is_empty() {
        return Err(TargetError::Malformed(arg.to_string()));
    }
    let missing = |tried: Tried, nearest: Vec<String>| TargetError::NotFound {
        target: arg.to_string(),
        tried,
        nearest,
    };
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
            [] => container(snap, arg_t).unwrap_or(Err(missing(Tried::Number, Vec::new()))),
            [one] => Ok(Target::Namespace(*one)),
            many => Err(ambiguous_namespaces(arg, many)),
        };
    }
    if let Some((t, ino)) = parse_ns_link(arg_t) {
        return if snap.namespaces.contains_key(&(t, ino)) {
            Ok(Target::Namespace((t, ino)))
        } else {
            Err(missing(Tried::NamespaceLink, Vec::new()))
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
        return Err(missing(Tried::Path, Vec::new()));
    }
    if let Some(found) = container(snap, arg_t) {
        return found;
    }
    if arg_t == HOST {
        return Ok(Target::Host);
    }
    if let Some(found) = named_netns(snap, arg, arg_t) {
        return found;
    }
    if NsType::parse(arg_t).is_some() || arg_t.contains(":[") {
        return Err(TargetError::Malformed(arg.to_string()));
    }
    Err(missing(Tried::Name, nearest_names(snap, arg_t)))
}

fn ambiguous_namespaces(arg: &str, many: &[NsKey]) -> TargetError {
    TargetError::Ambiguous {
        target: arg.to_string(),
        candidates: many
            .iter()
            .map(|(t, i)| format!("{t}:[{i}]"))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// The network namespace whose bind mount is named `name` (/run/netns/NAME, as the Containers
/// view names it); None when none is.
fn named_netns(snap: &Snapshot, arg: &str, name: &str) -> Option<Result<Target, TargetError>> {
    let matches: Vec<NsKey> = snap
        .namespaces
        .values()
        .filter(|ns| {
            ns.ns_type == NsType::Net && ns.bind_mounts.iter().any(|b| netns_name(b) == name)
        })
        .map(|ns| ns.key())
        .collect();
    match matches.as_slice() {
        [] => None,
        [one] => Some(Ok(Target::Namespace(*one))),
        many => Some(Err(ambiguous_namespaces(arg, many))),
    }
}

/// The container named `arg` (a name that is not unique is ambiguous, as two pods' containers
/// can be), else the one whose id is or starts with `arg`; None when no container matches.
fn container(snap: &Snapshot, arg: &str) -> Option<Result<Target, TargetError>> {
    let found = |c: &Container| Ok(Target::Container(c.key().to_string()));
    let named: Vec<&Container> = snap.containers.iter().filter(|c| c.name == arg).collect();
    let matches = match named.as_slice() {
        [one] => return Some(found(one)),
        [] => {
            if let Some(c) = snap
                .containers
                .iter()
                .find(|c| c.id.as_deref() == Some(arg))
            {
                return Some(found(c));
            }
            snap.containers
                .iter()
                .filter(|c| c.id.as_deref().is_some_and(|id| id.starts_with(arg)))
                .collect()
        }
        _ => named,
    };
    match matches.as_slice() {
        [] => None,
        [one] => Some(found(one)),
        many => Some(Err(TargetError::AmbiguousContainer {
            target: arg.to_string(),
            candidates: many
                .iter()
                .map(|c| match c.short_id() {
                    Some(id) if id != c.name => format!("{} {id}", c.name),
                    _ => c.name.clone(),
                })
                .collect::<Vec<_>>()
                .join(", "),
        })),
    }
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
            owner_uid: 0,
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
        assert!(matches!(
            resolve(&s, "999999"),
            Err(TargetError::NotFound { .. })
        ));
        assert!(matches!(
            resolve(&s, "/no/such"),
            Err(TargetError::NotFound { .. })
        ));
        assert!(matches!(
            resolve(&s, "uts:[1]"),
            Err(TargetError::NotFound { .. })
        ));
        assert!(matches!(resolve(&s, ""), Err(TargetError::Malformed(_))));
        // The NAMEs of the Containers view: host, and a netns by its bind mount's name.
        assert_eq!(resolve(&s, "host"), Ok(Target::Host));
        assert_eq!(
            resolve(&s, "x"),
            Ok(Target::Namespace((NsType::Net, 4026532385)))
        );
    }

    fn container(name: &str, id: Option<&str>, init_pid: i32) -> Container {
        Container {
            name: name.into(),
            id: id.map(str::to_string),
            runtime: None,
            image: None,
            state: "running".into(),
            runtime_state: None,
            init_pid,
            pids: vec![init_pid],
            cgroup: None,
            namespaces: BTreeMap::new(),
            shared_with_host: vec![],
            cgroups: BTreeMap::new(),
            labels: BTreeMap::new(),
            compose_project: None,
            pod: None,
            note: None,
        }
    }

    #[test]
    fn containers_by_name_or_id_prefix() {
        let web = "4653218bbd17a0c1e2f3a4b5c6d7e8f90123456789abcdef0123456789abcdef";
        let batch = "4653999bbd17a0c1e2f3a4b5c6d7e8f90123456789abcdef0123456789abcdef";
        let digits = "1234567bbd17a0c1e2f3a4b5c6d7e8f90123456789abcdef0123456789abcdef";
        let mut s = snap();
        s.processes.insert(
            1234,
            crate::model::Process {
                pid: 1234,
                ppid: 1,
                nspid: vec![1234],
                comm: "sh".into(),
                cmdline: vec![],
                uid: 0,
                ns: BTreeMap::new(),
                pid_for_children: None,
                time_for_children: None,
                cgroups: BTreeMap::new(),
                kernel_thread: false,
            },
        );
        s.containers = vec![
            container("web-1", Some(web), 10),
            container("batch", Some(batch), 20),
            container("num", Some(digits), 30),
            container("sh[40]", None, 40),
            container("dup", Some("c1"), 50),
            container("dup", Some("c2"), 60),
            // A container named like a namespace type is still found by its name.
            container("net", Some("c3"), 70),
        ];
        let ct = |k: &str| Ok(Target::Container(k.into()));
        assert_eq!(resolve(&s, "web-1"), ct(web));
        assert_eq!(resolve(&s, "46532"), ct(web));
        assert_eq!(resolve(&s, web), ct(web));
        assert_eq!(resolve(&s, "sh[40]"), ct("sh[40]"));
        assert_eq!(resolve(&s, "net"), ct("c3"));
        // A number: a PID first, then a namespace inode, then an id prefix.
        assert_eq!(resolve(&s, "1234"), Ok(Target::Process(1234)));
        assert_eq!(resolve(&s, "12345"), ct(digits));
        assert_eq!(
            resolve(&s, "4653"),
            Err(TargetError::AmbiguousContainer {
                target: "4653".into(),
                candidates: "web-1 4653218bbd17, batch 4653999bbd17".into()
            })
        );
        assert!(matches!(
            resolve(&s, "dup"),
            Err(TargetError::AmbiguousContainer { .. })
        ));
        assert_eq!(resolve(&s, "c2"), ct("c2"));
        assert!(matches!(
            resolve(&s, "zz"),
            Err(TargetError::NotFound { .. })
        ));
        // A name one letter off: the message says what was tried and offers the nearest names.
        let e = resolve(&s, "web-2").map_err(|e| e.to_string());
        assert_eq!(
            e,
            Err(
                "no process, namespace, cgroup or container matches 'web-2' (tried as a container \
                 name, a container id prefix, a named netns and 'host'); did you mean web-1?"
                    .into()
            )
        );
        let e = resolve(&s, "999999").map_err(|e| e.to_string());
        assert_eq!(
            e,
            Err(
                "no process, namespace, cgroup or container matches '999999' (tried as a PID, a \
                 namespace inode and a container id prefix)"
                    .into()
            )
        );
    }
}
