//! Plain data built from one collection pass. No I/O here: everything is testable from fixtures.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// The eight namespace types of namespaces(7), in the order lsns prints them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NsType {
    Mnt,
    Uts,
    Ipc,
    Pid,
    Net,
    User,
    Cgroup,
    Time,
}

impl NsType {
    pub const ALL: [NsType; 8] = [
        NsType::Mnt,
        NsType::Uts,
        NsType::Ipc,
        NsType::Pid,
        NsType::Net,
        NsType::User,
        NsType::Cgroup,
        NsType::Time,
    ];

    /// The short name used by lsns, nsenter and nsview's CLI (`net`, `mnt`, ...).
    pub fn name(self) -> &'static str {
        match self {
            NsType::Mnt => "mnt",
            NsType::Uts => "uts",
            NsType::Ipc => "ipc",
            NsType::Pid => "pid",
            NsType::Net => "net",
            NsType::User => "user",
            NsType::Cgroup => "cgroup",
            NsType::Time => "time",
        }
    }

    /// The file name in `/proc/PID/ns/` (`mnt` is the only one that differs from the link text).
    pub fn proc_file(self) -> &'static str {
        self.name()
    }

    /// The type prefix the kernel writes in the link text (`mnt:[...]`, `net:[...]`).
    pub fn link_prefix(self) -> &'static str {
        match self {
            NsType::Mnt => "mnt",
            other => other.name(),
        }
    }

    /// The CLONE_NEW* flag of this type (setns(2), ioctl_ns(2) NS_GET_NSTYPE).
    pub fn clone_flag(self) -> i32 {
        match self {
            NsType::Mnt => 0x0002_0000,
            NsType::Uts => 0x0400_0000,
            NsType::Ipc => 0x0800_0000,
            NsType::Pid => 0x2000_0000,
            NsType::Net => 0x4000_0000,
            NsType::User => 0x1000_0000,
            NsType::Cgroup => 0x0200_0000,
            NsType::Time => 0x0000_0080,
        }
    }

    pub fn from_clone_flag(flag: i32) -> Option<NsType> {
        NsType::ALL.into_iter().find(|t| t.clone_flag() == flag)
    }

    pub fn parse(s: &str) -> Option<NsType> {
        NsType::ALL.into_iter().find(|t| t.name() == s)
    }
}

impl fmt::Display for NsType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A namespace's identity: the (device, inode) of its nsfs file. lsns uses the inode alone; we keep
/// both and print the inode. `dev` is 0 when only the link text was readable (fixture trees).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct NsId {
    pub dev: u64,
    pub ino: u64,
}

/// One network interface inside a network namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interface {
    pub name: String,
    pub ifindex: u32,
    /// Operational state in lower case as `ip link` prints it: "up", "down", "unknown", ...
    pub state: String,
    /// Addresses with prefix length, e.g. "10.0.0.1/24", "fe80::1/64".
    pub addresses: Vec<String>,
    /// Link kind from IFLA_INFO_KIND ("veth", "bridge", ...), None for plain devices and loopback.
    pub kind: Option<String>,
    /// MAC address, lower case hex with colons, when the link has one.
    pub mac: Option<String>,
    /// For a veth (or other link with IFLA_LINK): the peer's ifindex.
    pub peer_ifindex: Option<u32>,
    /// The inode of the network namespace the peer lives in, when it could be resolved.
    pub peer_netns: Option<u64>,
}

/// One process as the kernel shows it in /proc/PID.
#[derive(Default, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Process {
    pub pid: i32,
    pub ppid: i32,
    /// The PID in each nested pid namespace, outermost first (NSpid in /proc/PID/status).
    pub nspid: Vec<i32>,
    pub comm: String,
    /// Arguments; lossily decoded from the NUL-separated /proc/PID/cmdline. Empty for kernel threads.
    pub cmdline: Vec<String>,
    /// Effective UID: the owner of /proc/PID (what ps and lsns show as the process's user).
    pub uid: u32,
    /// Namespace identity per type. A type the kernel lacks, or an unreadable link, is absent.
    pub ns: BTreeMap<NsType, NsId>,
    /// `pid_for_children` when it differs from `pid` (after unshare(CLONE_NEWPID)).
    pub pid_for_children: Option<NsId>,
    /// `time_for_children` when it differs from `time`.
    pub time_for_children: Option<NsId>,
    /// Cgroup path per hierarchy key (controller field of /proc/PID/cgroup, "unified" for v2).
    pub cgroups: BTreeMap<Arc<str>, Arc<str>>,
    /// True for kernel threads (no mm: empty cmdline and PF_KTHREAD).
    pub kernel_thread: bool,
}

impl Process {
    /// The command line as one string (arguments joined by spaces), or comm for kernel threads
    /// and processes whose cmdline is empty.
    pub fn command_line(&self) -> String {
        if self.cmdline.is_empty() {
            self.comm.clone()
        } else {
            self.cmdline.join(" ")
        }
    }
}

/// A cgroup hierarchy mounted on this host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hierarchy {
    /// Controller field of /proc/PID/cgroup ("memory", "cpu,cpuacct", "name=systemd"), or "unified".
    pub key: String,
    /// 1 or 2.
    pub version: u8,
    /// Controllers bound to it (v2: those in cgroup.controllers of the root).
    pub controllers: Vec<String>,
    /// Where it is mounted, as mountinfo names it.
    pub mount: String,
    /// Hierarchy ID from /proc/cgroups (0 for v2).
    #[serde(skip)]
    pub id: u32,
}

/// How the host mounts cgroups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CgroupMode {
    V1,
    V2,
    Hybrid,
    /// No cgroup file system mounted at all.
    None,
}

impl fmt::Display for CgroupMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CgroupMode::V1 => "v1",
            CgroupMode::V2 => "v2",
            CgroupMode::Hybrid => "hybrid",
            CgroupMode::None => "none",
        })
    }
}

/// A value read from a cgroup control file, in the form the JSON contract asks for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum CgValue {
    Int(i64),
    /// The literal "max" (v2) or another word the kernel writes (freezer.state "FROZEN").
    Text(String),
    /// Two or more fields: "max 100000" (cpu.max) as ["max", 100000].
    List(Vec<CgValue>),
    /// Flat keyed files (memory.events, cpu.stat) as an object of integers.
    Map(BTreeMap<String, i64>),
    /// Pressure (PSI) files: {"some": {"avg10": 0.0, ...}, "full": {...}}.
    Pressure(BTreeMap<String, BTreeMap<String, f64>>),
}

/// One rule from a v1 devices.list, decoded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceRule {
    /// "a" (all), "c" (char) or "b" (block).
    #[serde(rename = "type")]
    pub kind: String,
    /// None for `*`.
    pub major: Option<u32>,
    /// None for `*`.
    pub minor: Option<u32>,
    /// Any of "r", "w", "m" in that order.
    pub access: String,
    /// The device node (/dev/null) or driver name (from /proc/devices) when known.
    pub name: Option<String>,
}

/// A limit as the JSON contract gives it: v1's "unlimited" sentinels as "max", like v2's. The
/// memory files read PAGE_COUNTER_MAX pages as bytes (9223372036854771712 with 4 KiB pages, less
/// with larger pages: [`is_unlimited`](super::format::is_unlimited)), which no JSON reader holds
/// exactly; cpu.cfs_quota_us reads -1 for no quota.
pub fn limit_json<'a>(file: &str, v: &'a CgValue) -> std::borrow::Cow<'a, CgValue> {
    use std::borrow::Cow;
    match v {
        CgValue::Int(i) if super::format::is_unlimited(*i) => {
            Cow::Owned(CgValue::Text("max".into()))
        }
        CgValue::Int(-1) if file == "cpu.cfs_quota_us" => Cow::Owned(CgValue::Text("max".into())),
        _ => Cow::Borrowed(v),
    }
}

fn serialize_limits<S: serde::Serializer>(
    limits: &BTreeMap<String, CgValue>,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_map(limits.iter().map(|(k, v)| (k, limit_json(k, v))))
}

/// One cgroup in one hierarchy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cgroup {
    /// Hierarchy key (see [`Hierarchy::key`]).
    pub hierarchy: String,
    /// Path relative to the hierarchy root, starting with "/".
    pub path: String,
    /// Member processes (cgroup.procs), sorted.
    pub pids: Vec<i32>,
    /// Control files, keyed by kernel file name. In JSON, v1's "no limit" values are "max" as in
    /// v2 (see [`limit_json`]).
    #[serde(serialize_with = "serialize_limits")]
    pub limits: BTreeMap<String, CgValue>,
    /// Usage and statistics files, keyed by kernel file name.
    pub usage: BTreeMap<String, CgValue>,
    /// Decoded devices.list (v1 devices hierarchy only).
    pub devices: Option<Vec<DeviceRule>>,
    /// "allow" when the group's default is allow (devices.list shows `a *:* rwm`, and deny
    /// exceptions are then NOT visible through devices.list), "deny" otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub devices_default: Option<String>,
    /// The directory's owner (0, root, unless the tree was delegated to a user, who may then
    /// name cgroups below it as a runtime would).
    #[serde(skip)]
    pub owner_uid: u32,
}

/// `net:[4026532385]` (the link text of /proc/PID/ns/net, or the root field of an nsfs mount) ->
/// (type, inode). `mnt:[...]` is the mount namespace.
pub fn parse_ns_link(text: &str) -> Option<(NsType, u64)> {
    let (prefix, rest) = text.split_once(":[")?;
    let ino = rest.strip_suffix(']')?.parse().ok()?;
    let ns_type = NsType::ALL
        .into_iter()
        .find(|t| t.link_prefix() == prefix)?;
    Some((ns_type, ino))
}
