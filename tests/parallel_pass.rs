//! The full pass reads hostnames, interfaces and namespace relations on several threads (issue
//! 15): on the real kernel as root, what it gives for namespaces this test makes must be what
//! they hold, and what the one-thread readers give, whichever helper thread read them.
//!
//! The test makes 40 processes each in a UTS and network namespace of its own (a known hostname
//! and domain name, a veth pair with known names, both ends inside), two named network namespaces joined by
//! a veth pair (bind mounts only: no process, read through /run/netns), and a process in a new
//! user and pid namespace (owner and parent). Enough namespaces that the readers split them over
//! their helper threads on any machine with two cores or more.

mod common;

use common::*;
use nsview::collect::{CollectOptions, Collector};
use nsview::model::{Interface, NsType, Snapshot};
use nsview::sys::Roots;
use nsview::sys::nsfs::NsTarget;
use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;

const GROUPS: usize = 40;

/// Process `i` of the test: its own UTS and network namespace with names made from `i`.
fn spawn_named(i: usize) -> NsProcess {
    let script = format!(
        "echo {host} > /proc/sys/kernel/hostname && echo {dom} > /proc/sys/kernel/domainname && \
         ip link add {prefix}a type veth peer name {prefix}b && exec sleep 600",
        host = hostname(i),
        dom = domainname(i),
        prefix = veth_prefix(i),
    );
    NsProcess::spawn(&["--uts", "--net"], &script, "sleep")
}

fn hostname(i: usize) -> String {
    format!("nsview-par-{i}")
}

fn domainname(i: usize) -> String {
    format!("nsview-dom-{i}")
}

fn veth_prefix(i: usize) -> String {
    format!("nsvpar{i}")
}

fn names(ifaces: &[Interface]) -> BTreeSet<String> {
    ifaces.iter().map(|i| i.name.clone()).collect()
}

fn interfaces_of(snap: &Snapshot, ino: u64) -> &[Interface] {
    snap.namespaces
        .get(&(NsType::Net, ino))
        .and_then(|ns| ns.interfaces.as_deref())
        .unwrap_or_else(|| panic!("net:[{ino}] has no interfaces in the snapshot"))
}

/// The veth in the named namespace `ns`, from the snapshot.
fn veth<'a>(snap: &'a Snapshot, ns: &NetnsGuard, name: &str) -> &'a Interface {
    interfaces_of(snap, ns.inode())
        .iter()
        .find(|i| i.name == name)
        .unwrap_or_else(|| panic!("no {name} in {}", ns.name))
}

#[test]
fn parallel_pass_reads_names_interfaces_and_relations_right() {
    if !require_root_and_tools("parallel full pass", &["unshare", "ip"]) {
        return;
    }
    let procs: Vec<NsProcess> = (0..GROUPS).map(spawn_named).collect();
    let a = NetnsGuard::create("para");
    let b = NetnsGuard::create("parb");
    a.ip(&[
        "link", "add", "nsvpa", "type", "veth", "peer", "name", "nsvpb", "netns", &b.name,
    ]);
    let userns = NsProcess::spawn(
        &["--user", "--map-root-user", "--pid"],
        "exec sleep 600",
        "sleep",
    );

    let snap = Collector::new(Roots::default())
        .collect(CollectOptions::ALL)
        .expect("collect");
    let host = host_ns_map();
    let host_user = host["user"];

    for (i, p) in procs.iter().enumerate() {
        let uts = ns_inode(p.inner, "uts").expect("uts inode");
        let ns = &snap.namespaces[&(NsType::Uts, uts)];
        assert_eq!(ns.hostname.as_deref(), Some(hostname(i).as_str()));
        assert_eq!(ns.domainname.as_deref(), Some(domainname(i).as_str()));
        assert_eq!(ns.owner, Some(host_user), "owner of uts:[{uts}]");
        let net = ns_inode(p.inner, "net").expect("net inode");
        let ifaces = interfaces_of(&snap, net);
        let want: BTreeSet<String> = [
            "lo".into(),
            format!("{}a", veth_prefix(i)),
            format!("{}b", veth_prefix(i)),
        ]
        .into();
        assert_eq!(names(ifaces), want, "net:[{net}]");
        // Both ends here: the peer's namespace is this one.
        assert!(
            ifaces
                .iter()
                .filter(|i| i.name != "lo")
                .all(|i| i.peer_netns == Some(net))
        );
        assert_eq!(snap.namespaces[&(NsType::Net, net)].owner, Some(host_user));
    }

    // Bind mounts only: joined through /run/netns, relations read outside the process pass.
    let (va, vb) = (veth(&snap, &a, "nsvpa"), veth(&snap, &b, "nsvpb"));
    assert_eq!(va.peer_netns, Some(b.inode()));
    assert_eq!(vb.peer_netns, Some(a.inode()));
    assert_eq!(va.peer_ifindex, Some(vb.ifindex));
    for ns in [&a, &b] {
        assert_eq!(
            snap.namespaces[&(NsType::Net, ns.inode())].owner,
            Some(host_user)
        );
    }

    let user = ns_inode(userns.inner, "user").expect("user inode");
    let user_ns = &snap.namespaces[&(NsType::User, user)];
    assert_eq!(user_ns.parent, Some(host_user));
    assert_eq!(user_ns.owner_uid, Some(0));
    let pid = ns_inode(userns.inner, "pid").expect("pid inode");
    let pid_ns = &snap.namespaces[&(NsType::Pid, pid)];
    assert_eq!(pid_ns.owner, Some(user));
    assert_eq!(pid_ns.parent, Some(host["pid"]));

    same_as_one_thread_readers(&snap, &procs);
}

/// What the one-thread readers give for the test's namespaces is what the pass gave.
fn same_as_one_thread_readers(snap: &Snapshot, procs: &[NsProcess]) {
    let target = |pid: i32, t: &str| {
        let ino = ns_inode(pid, t).expect("inode");
        NsTarget::link(ino, PathBuf::from(format!("/proc/{pid}/ns/{t}")))
    };
    let uts: Vec<NsTarget> = procs.iter().map(|p| target(p.inner, "uts")).collect();
    let net: Vec<NsTarget> = procs.iter().map(|p| target(p.inner, "net")).collect();
    let names_alone = nsview::sys::uts::read_uts_names(&uts);
    let ifaces_alone: HashMap<u64, _> = nsview::sys::net::read_netns_interfaces(&net);
    for t in &uts {
        let alone = names_alone[&t.ino].as_ref().expect("uts read alone");
        let ns = &snap.namespaces[&(NsType::Uts, t.ino)];
        assert_eq!(ns.hostname.as_ref(), Some(&alone.hostname));
        assert_eq!(ns.domainname.as_ref(), Some(&alone.domainname));
    }
    for t in &net {
        let alone = ifaces_alone[&t.ino].as_ref().expect("net read alone");
        assert_eq!(
            interfaces_of(snap, t.ino),
            alone.as_slice(),
            "net:[{}]",
            t.ino
        );
    }
}

/// `__collect --for COMMAND` collects what that command collects, and `--phases` says what.
#[test]
fn collect_for_a_command_collects_what_it_prints() {
    let cases: [(&[&str], &str); 7] = [
        (&[], "processes, namespaces, relations uts net cgroups"),
        (
            &["--for", "list"],
            "processes, namespaces, uts net; command lines of each namespace's lowest PID only",
        ),
        (
            &["--for", "list", "--json"],
            "processes, namespaces, relations uts net; command lines of each namespace's lowest \
             PID only",
        ),
        (
            &["--for", "list", "--type", "uts"],
            "processes, namespaces, uts; command lines of each namespace's lowest PID only",
        ),
        (&["--for", "ps", "--json"], "processes and namespaces only"),
        (&["--for", "cgroups"], "processes, namespaces, cgroups"),
        (
            &["--for", "show"],
            "processes, namespaces, relations uts net cgroups",
        ),
    ];
    for (args, want) in cases {
        let mut all = vec!["__collect", "--phases"];
        all.extend_from_slice(args);
        let run = nsview(&all);
        run.assert_success();
        let line = format!("collected: {want}\n");
        assert!(run.stdout.contains(&line), "{all:?}: {}", run.describe());
    }
}

/// A named network namespace seen from many mount namespaces (each `unshare --mount` copies the
/// bind mount at /run/netns/NAME): listed once, at its path, and read, as from one.
#[test]
fn a_bind_mount_copied_into_many_mount_namespaces_is_listed_once() {
    if !require_root_and_tools("bind mount in many mount namespaces", &["unshare", "ip"]) {
        return;
    }
    let netns = NetnsGuard::create("parcopies");
    netns.ip(&[
        "link", "add", "nsvcopya", "type", "veth", "peer", "name", "nsvcopyb",
    ]);
    let copies: Vec<NsProcess> = (0..20)
        .map(|_| NsProcess::spawn(&["--mount"], "exec sleep 600", "sleep"))
        .collect();
    let snap = Collector::new(Roots::default())
        .collect(CollectOptions::ALL)
        .expect("collect");
    for p in &copies {
        let mountinfo =
            std::fs::read_to_string(format!("/proc/{}/mountinfo", p.inner)).expect("mountinfo");
        assert!(mountinfo.contains(&netns.path()), "no copy in {}", p.inner);
    }
    let ns = &snap.namespaces[&(NsType::Net, netns.inode())];
    assert_eq!(ns.bind_mounts, vec![netns.path()]);
    let want: BTreeSet<String> = ["lo", "nsvcopya", "nsvcopyb"].map(String::from).into();
    assert_eq!(names(interfaces_of(&snap, netns.inode())), want);
}
