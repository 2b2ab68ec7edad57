//! The kernel's truth, read straight from /proc and mountinfo, to compare nsview's output with.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::NS_TYPES;

/// The value of `key:` in a /proc/PID/status text (panics naming the text when it has none).
pub fn status_field<'a>(status: &'a str, key: &str) -> &'a str {
    status
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key}:")))
        .map(str::trim)
        .unwrap_or_else(|| panic!("no {key} in status:\n{status}"))
}

/// The inode in a namespace link text such as `net:[4026531833]`.
pub fn parse_ns_link(text: &str) -> Option<u64> {
    let start = text.find(":[")? + 2;
    let end = text[start..].find(']')? + start;
    text[start..end].parse().ok()
}

/// The inode of `/proc/PID/ns/TYPE` (readlink), None when unreadable or gone.
pub fn ns_inode(pid: i32, ty: &str) -> Option<u64> {
    let link = fs::read_link(format!("/proc/{pid}/ns/{ty}")).ok()?;
    parse_ns_link(&link.to_string_lossy())
}

/// The inode of each of the 8 namespace types of a process (types it cannot read are absent).
pub fn ns_map(pid: i32) -> BTreeMap<String, u64> {
    NS_TYPES
        .iter()
        .filter_map(|ty| ns_inode(pid, ty).map(|ino| (ty.to_string(), ino)))
        .collect()
}

/// The namespaces the "host" is in. PID 1's links are the reference, but on some machines (this
/// VM's PID 1 is a supervisor with more capabilities than we have) they are unreadable even to
/// root; then kthreadd (PID 2, always in the initial namespaces) and finally this process stand in.
pub fn host_ns_map() -> BTreeMap<String, u64> {
    for pid in [1, 2] {
        let m = ns_map(pid);
        if m.len() == NS_TYPES.len() {
            return m;
        }
    }
    ns_map(std::process::id() as i32)
}

/// The inode of a file, following symlinks (what `stat -L -c %i` prints).
pub fn stat_inode(path: impl AsRef<Path>) -> u64 {
    let path = path.as_ref();
    fs::metadata(path)
        .unwrap_or_else(|e| panic!("stat {}: {e}", path.display()))
        .ino()
}

/// `/proc/PID/comm` without the newline.
pub fn comm(pid: i32) -> Option<String> {
    fs::read_to_string(format!("/proc/{pid}/comm"))
        .ok()
        .map(|s| s.trim_end_matches('\n').to_string())
}

/// The fields of /proc/PID/stat after the command (field 3 onwards), None when gone.
fn stat_fields(pid: i32) -> Option<Vec<String>> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    Some(rest.split_whitespace().map(str::to_string).collect())
}

/// The parent PID (field 4 of /proc/PID/stat).
pub fn ppid(pid: i32) -> Option<i32> {
    stat_fields(pid)?.get(1)?.parse().ok()
}

/// Start time in clock ticks since boot (field 22 of /proc/PID/stat): with the PID, it identifies
/// a process across PID reuse.
pub fn start_time(pid: i32) -> Option<u64> {
    stat_fields(pid)?.get(19)?.parse().ok()
}

/// utime + stime of PID (fields 14 and 15 of /proc/PID/stat), in clock ticks.
pub fn cpu_ticks(pid: i32) -> Option<u64> {
    let f = stat_fields(pid)?;
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

/// Clock ticks per second (sysconf _SC_CLK_TCK).
pub fn clock_ticks_per_second() -> u64 {
    nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .map_or(100, |t| t as u64)
}

/// VmRSS of PID in KiB (/proc/PID/status), None when it is gone.
pub fn vm_rss_kib(pid: i32) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status_field(&status, "VmRSS")
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// Whether /proc/PID exists and is not a zombie.
pub fn alive(pid: i32) -> bool {
    stat_fields(pid)
        .and_then(|f| f.first().cloned())
        .map(|state| state != "Z" && state != "X")
        .unwrap_or(false)
}

/// All PIDs (processes, not threads) in /proc right now.
pub fn all_pids() -> Vec<i32> {
    let mut pids: Vec<i32> = fs::read_dir("/proc")
        .expect("read /proc")
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    pids.sort_unstable();
    pids
}

/// Children of `pid`, found by scanning /proc (this kernel has no /proc/PID/task/TID/children).
pub fn children_of(pid: i32) -> Vec<i32> {
    all_pids()
        .into_iter()
        .filter(|&p| ppid(p) == Some(pid))
        .collect()
}

/// The processes whose /proc/PID/ns/TYPE is the namespace `inode`, as the kernel says right now.
pub fn ns_members(ty: &str, inode: u64) -> Vec<i32> {
    all_pids()
        .into_iter()
        .filter(|&p| ns_inode(p, ty) == Some(inode))
        .collect()
}

/// NSpid of /proc/PID/status: the PID in each nested pid namespace, outermost first.
pub fn nspid(pid: i32) -> Vec<i64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("NSpid:"))
        .map(|rest| {
            rest.split_whitespace()
                .filter_map(|v| v.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// /proc/PID/cgroup as hierarchy key -> path: the key is the controller field (`memory`,
/// `cpu,cpuacct`, `name=systemd`), and `unified` for the v2 line (`0::/path`).
pub fn proc_cgroups(pid: i32) -> BTreeMap<String, String> {
    let text = fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap_or_default();
    parse_proc_cgroup(&text)
}

/// Parse the text of a /proc/PID/cgroup file (see [`proc_cgroups`]).
pub fn parse_proc_cgroup(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|line| {
            let mut parts = line.splitn(3, ':');
            let id = parts.next()?;
            let controllers = parts.next()?;
            let path = parts.next()?;
            let key = if id == "0" && controllers.is_empty() {
                "unified".to_string()
            } else {
                controllers.to_string()
            };
            Some((key, path.to_string()))
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Cgroup hierarchies as the kernel mounts them
// ---------------------------------------------------------------------------------------------

/// One mounted cgroup hierarchy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HierarchyMount {
    /// Key as in /proc/PID/cgroup ("memory", "name=systemd") or "unified".
    pub key: String,
    pub version: u8,
    /// Mount point, e.g. /sys/fs/cgroup/memory.
    pub mount: PathBuf,
}

impl HierarchyMount {
    /// The directory name under /sys/fs/cgroup (what [`CgroupGuard::create`] takes).
    pub fn dir_name(&self) -> String {
        self.mount
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }
}

/// The cgroup hierarchies of this host, from /proc/self/mountinfo (the first mount of each
/// hierarchy's root), keyed like /proc/self/cgroup.
pub fn cgroup_hierarchies() -> Vec<HierarchyMount> {
    let keys: Vec<String> = proc_cgroups(std::process::id() as i32)
        .into_keys()
        .collect();
    let mountinfo = fs::read_to_string("/proc/self/mountinfo").expect("read mountinfo");
    let mut out: Vec<HierarchyMount> = Vec::new();
    for line in mountinfo.lines() {
        let Some((pre, post)) = line.split_once(" - ") else {
            continue;
        };
        let pre: Vec<&str> = pre.split(' ').collect();
        let post: Vec<&str> = post.split(' ').collect();
        if pre.len() < 5 || post.len() < 3 || pre[3] != "/" {
            continue;
        }
        let mount = PathBuf::from(unescape_mountinfo(pre[4]));
        let (key, version) = match post[0] {
            "cgroup2" => ("unified".to_string(), 2),
            "cgroup" => {
                let opts: BTreeSet<&str> = post[2].split(',').collect();
                let Some(key) = keys
                    .iter()
                    .find(|k| k.as_str() != "unified" && k.split(',').all(|c| opts.contains(c)))
                else {
                    continue;
                };
                (key.clone(), 1)
            }
            _ => continue,
        };
        if !out.iter().any(|h| h.key == key) {
            out.push(HierarchyMount {
                key,
                version,
                mount,
            });
        }
    }
    out
}

fn unescape_mountinfo(s: &str) -> String {
    // mountinfo escapes space, tab, newline and backslash as \ooo (octal).
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\'
            && i + 4 <= bytes.len()
            && let Some(v) = std::str::from_utf8(&bytes[i + 1..i + 4])
                .ok()
                .and_then(|o| u8::from_str_radix(o, 8).ok())
        {
            out.push(v);
            i += 4;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The busybox on PATH when it is statically linked (Debian's busybox-static: no PT_INTERP
/// program header): a dynamic one would not run inside a root directory without its libraries.
pub fn static_busybox() -> Option<PathBuf> {
    let path = super::which("busybox")?;
    let elf = std::fs::read(&path).ok()?;
    let u16_at = |o: usize| Some(u16::from_le_bytes(elf.get(o..o + 2)?.try_into().ok()?));
    let u32_at = |o: usize| Some(u32::from_le_bytes(elf.get(o..o + 4)?.try_into().ok()?));
    let u64_at = |o: usize| Some(u64::from_le_bytes(elf.get(o..o + 8)?.try_into().ok()?));
    if elf.get(..5)? != b"\x7fELF\x02" {
        return None;
    }
    let (phoff, phentsize, phnum) = (u64_at(0x20)? as usize, u16_at(0x36)?, u16_at(0x38)?);
    for i in 0..phnum as usize {
        if u32_at(phoff + i * phentsize as usize)? == 3 {
            return None;
        }
    }
    Some(path)
}

/// True when a test that builds a busybox root directory can run (root, `tools`, a static
/// busybox); otherwise says why it is skipped (a failure under CI).
pub fn require_busybox_root(test: &str, tools: &[&str]) -> bool {
    if !super::require_root_and_tools(test, tools) {
        return false;
    }
    if static_busybox().is_none() {
        super::skip(
            test,
            "needs a statically linked busybox (Debian package busybox-static)",
        );
        return false;
    }
    true
}
