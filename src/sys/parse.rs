//! Parsers from the text the kernel writes to typed values. No I/O: every function takes `&str` (or
//! bytes) and is tested on literal strings copied from real machines.

use crate::model::CgValue;
use std::collections::BTreeMap;

pub use crate::model::parse_ns_link;

/// The fields nsview needs from /proc/PID/stat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatFields {
    pub comm: String,
    pub ppid: i32,
    /// Field 9, PF_* flags (PF_KTHREAD = 0x00200000).
    pub flags: u64,
    /// Field 14 + 15: user and system time in clock ticks.
    pub cpu_ticks: u64,
    /// Field 22: when the process started, in clock ticks after boot (None when the line is
    /// cut short); with the PID, it names one process for its whole life.
    pub start_time: Option<u64>,
    /// Field 3, the state letter (`Z` a zombie, `X` dead), and field 20, the threads of its
    /// process still counted (None when the line is cut short).
    pub state: char,
    pub threads: Option<u64>,
}

impl StatFields {
    /// The process is ending as a whole: its main thread has begun to exit (PF_EXITING, set
    /// first thing in do_exit, before it gives up its memory, namespaces and, on v1
    /// hierarchies, its cgroups) or is a zombie, and no other thread keeps it alive. A main
    /// thread that ended while others run on (pthread_exit) leaves a process that is not
    /// ending.
    pub fn ending(&self) -> bool {
        let exiting = self.flags & PF_EXITING != 0 || matches!(self.state, 'Z' | 'X' | 'x');
        exiting && self.threads.is_none_or(|n| n <= 1)
    }
}

/// PF_KTHREAD and PF_EXITING from include/linux/sched.h.
pub const PF_KTHREAD: u64 = 0x0020_0000;
pub const PF_EXITING: u64 = 0x0000_0004;

/// /proc/PID/stat: `7146 (sleep) S 7130 ...`. comm may contain spaces and parentheses, so it is
/// everything between the first '(' and the LAST ')'.
pub fn parse_stat(text: &str) -> Option<StatFields> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    if close < open {
        return None;
    }
    let comm = text[open + 1..close].to_string();
    let mut rest = text[close + 1..].split_ascii_whitespace();
    // Fields after comm start at field 3 (state).
    let state = rest.next()?.chars().next()?;
    let ppid = rest.next()?.parse().ok()?;
    // Fields 5..8: pgrp session tty_nr tpgid; field 9: flags.
    let flags = rest.nth(4)?.parse().ok()?;
    // Fields 10..13: minflt cminflt majflt cmajflt; 14 utime; 15 stime.
    let utime: u64 = rest.nth(4)?.parse().ok()?;
    let stime: u64 = rest.next()?.parse().ok()?;
    // Fields 16..19: cutime cstime priority nice; field 20: num_threads.
    let threads = rest.nth(4).and_then(|t| t.parse().ok());
    Some(StatFields {
        comm,
        ppid,
        flags,
        // Saturating: the fields are only as sane as what wrote them (found by fuzzing).
        cpu_ticks: utime.saturating_add(stime),
        start_time: parse_start_time(text),
        state,
        threads,
    })
}

/// Field 22 of /proc/PID/stat (starttime, clock ticks after boot), without allocating: with the
/// PID, it names one process for its whole life.
pub fn parse_start_time(stat: &str) -> Option<u64> {
    // Fields after the command (which may contain spaces and parentheses) start at field 3.
    let rest = stat.get(stat.rfind(')')? + 1..)?;
    rest.split_ascii_whitespace().nth(19)?.parse().ok()
}

/// The fields nsview needs from /proc/PID/status.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatusFields {
    /// `Name:` (comm), with the kernel's escapes for newline and backslash undone.
    pub name: Option<String>,
    pub ppid: Option<i32>,
    /// Effective UID (second field of `Uid:`).
    pub euid: Option<u32>,
    /// `NSpid:` outermost first; empty on kernels before 4.1.
    pub nspid: Vec<i32>,
    /// `Kthread: 1` (Linux 6.x); false when absent.
    pub kthread: bool,
}

/// status escapes a newline in comm as `\n` and a backslash as `\\` (fs/proc/array.c).
fn unescape_status_name(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some(other) => out.push(other),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// /proc/PID/status (proc(5)): Name, PPid, Uid, NSpid and Kthread.
pub fn parse_status(text: &str) -> StatusFields {
    let mut out = StatusFields::default();
    for line in text.lines() {
        let Some((key, v)) = line.split_once(':') else {
            continue;
        };
        // The kernel writes "Key:\tvalue"; a comm may itself start with spaces.
        let raw = v.strip_prefix('\t').unwrap_or(v);
        let v = v.trim_start_matches(['\t', ' ']);
        match key {
            "Name" => out.name = Some(unescape_status_name(raw)),
            "PPid" => out.ppid = v.trim().parse().ok(),
            "Uid" => {
                out.euid = v
                    .split_ascii_whitespace()
                    .nth(1)
                    .and_then(|s| s.parse().ok())
            }
            "NSpid" => {
                out.nspid = v
                    .split_ascii_whitespace()
                    .filter_map(|s| s.parse().ok())
                    .collect()
            }
            "Kthread" => out.kthread = v.trim() == "1",
            // Everything nsview needs comes before the memory and signal lines.
            "VmPeak" | "Threads" => break,
            _ => {}
        }
    }
    out
}

/// /proc/PID/cmdline: NUL-separated arguments, possibly without a final NUL, possibly not UTF-8.
pub fn parse_cmdline(bytes: &[u8]) -> Vec<String> {
    let bytes = bytes.strip_suffix(&[0]).unwrap_or(bytes);
    if bytes.is_empty() {
        return Vec::new();
    }
    bytes
        .split(|b| *b == 0)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect()
}

/// The total of the fourth field of /proc/loadavg ("runnable/total"): the host's tasks.
pub fn parse_loadavg_tasks(text: &str) -> Option<usize> {
    text.split_whitespace()
        .nth(3)?
        .split_once('/')?
        .1
        .parse()
        .ok()
}

/// One line of /proc/PID/cgroup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CgroupLine {
    /// Hierarchy ID (0 for v2).
    pub id: u32,
    /// The hierarchy key: the controller field ("cpu,cpuacct", "name=systemd"), or "unified" for
    /// the v2 line `0::/path`.
    pub key: String,
    pub path: String,
}

/// /proc/PID/cgroup: `ID:CONTROLLERS:PATH` per line. The path may itself contain ':'.
pub fn parse_proc_pid_cgroup(text: &str) -> Vec<CgroupLine> {
    text.lines()
        .filter_map(|line| {
            let mut parts = line.splitn(3, ':');
            let id = parts.next()?.parse().ok()?;
            let controllers = parts.next()?;
            let path = parts.next()?;
            let key = if id == 0 && controllers.is_empty() {
                "unified".to_string()
            } else {
                controllers.to_string()
            };
            Some(CgroupLine {
                id,
                key,
                path: path.to_string(),
            })
        })
        .collect()
}

/// Undo the octal escapes mountinfo uses for space, tab, newline and backslash (`\040`). Three
/// octal digits above `\377` are no byte and no escape: they stay as they are.
pub fn unescape_octal(s: &str) -> String {
    if !s.contains('\\') {
        return s.to_string();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\'
            && i + 3 < bytes.len()
            && (b'0'..=b'3').contains(&bytes[i + 1])
            && bytes[i + 2..i + 4]
                .iter()
                .all(|b| (b'0'..=b'7').contains(b))
        {
            let v = (bytes[i + 1] - b'0') * 64 + (bytes[i + 2] - b'0') * 8 + (bytes[i + 3] - b'0');
            out.push(v);
            i += 4;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The parts of one mountinfo line that nsview uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountLine {
    /// Root of the mount inside its file system (for nsfs: `net:[4026532385]`).
    pub root: String,
    /// Mount point, unescaped.
    pub mount_point: String,
    pub fs_type: String,
    /// Super block options, in order ("rw", "memory", "name=systemd").
    pub super_options: Vec<String>,
}

/// /proc/PID/mountinfo (proc(5)); lines that do not parse are skipped. Parsing of the fields is
/// procfs-core's; nsview adds unescaping and keeps the option order.
pub fn parse_mountinfo(text: &str) -> Vec<MountLine> {
    text.lines()
        .filter_map(|line| {
            let mi = procfs_core::process::MountInfo::from_line(line).ok()?;
            // procfs keeps options in a map; the order matters for nothing nsview does, but the
            // super options field is re-read here to keep it exact and ordered.
            let super_opts = line
                .rsplit(' ')
                .next()
                .map(|s| s.split(',').map(str::to_string).collect())
                .unwrap_or_default();
            Some(MountLine {
                root: unescape_octal(&mi.root),
                mount_point: unescape_octal(&mi.mount_point.to_string_lossy()),
                fs_type: mi.fs_type,
                super_options: super_opts,
            })
        })
        .collect()
}

/// cgroup.procs / tasks: one PID per line.
pub fn parse_pid_list(text: &str) -> Vec<i32> {
    let mut pids: Vec<i32> = text.lines().filter_map(|l| l.trim().parse().ok()).collect();
    pids.sort_unstable();
    pids
}

/// A CPU or memory-node list ("0-2,4", "" for none) -> sorted, de-duplicated numbers.
pub fn parse_cpu_list(text: &str) -> Option<Vec<u32>> {
    let text = text.trim();
    let mut out = Vec::new();
    if text.is_empty() {
        return Some(out);
    }
    for part in text.split(',') {
        let part = part.trim();
        match part.split_once('-') {
            Some((a, b)) => {
                let a: u32 = a.parse().ok()?;
                let b: u32 = b.parse().ok()?;
                if b < a || b - a > 65536 {
                    return None;
                }
                out.extend(a..=b);
            }
            None => out.push(part.parse().ok()?),
        }
    }
    out.sort_unstable();
    out.dedup();
    Some(out)
}

/// One rule of devices.list before device names are looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevicesLine {
    pub kind: char,
    pub major: Option<u32>,
    pub minor: Option<u32>,
    pub access: String,
}

/// devices.list (cgroup-v1/devices.rst): `c 1:3 rwm`, `a *:* rwm`, `b *:* m`.
pub fn parse_devices_list(text: &str) -> Option<Vec<DevicesLine>> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let mut f = line.split_ascii_whitespace();
            let kind = f.next()?;
            let kind = match kind {
                "a" | "b" | "c" => kind.chars().next()?,
                _ => return None,
            };
            let (maj, min) = f.next()?.split_once(':')?;
            let num = |s: &str| -> Option<Option<u32>> {
                if s == "*" {
                    Some(None)
                } else {
                    s.parse().ok().map(Some)
                }
            };
            let access = f.next()?;
            if access.is_empty() || !access.chars().all(|c| matches!(c, 'r' | 'w' | 'm')) {
                return None;
            }
            Some(DevicesLine {
                kind,
                major: num(maj)?,
                minor: num(min)?,
                access: access.to_string(),
            })
        })
        .collect()
}

/// How a cgroup control file is written by the kernel, for [`parse_cg_value`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CgFormat {
    /// A single integer (cpu.shares, memory.usage_in_bytes, cpuacct.usage).
    Int,
    /// An integer or "max" (memory.max, pids.max).
    IntOrMax,
    /// Two fields, each an integer or "max" (cpu.max: "max 100000").
    Pair,
    /// One word or list kept as text (cpuset.cpus, freezer.state).
    Text,
    /// Lines of `key value` (memory.events, cpu.stat).
    FlatKeyed,
    /// PSI: `some avg10=0.00 avg60=0.00 avg300=0.00 total=0` and `full ...`.
    Pressure,
    /// Free-form lines (io.max), kept as text without the final newline.
    Lines,
}

fn int_or_max(s: &str) -> Option<CgValue> {
    if s == "max" {
        Some(CgValue::Text("max".into()))
    } else {
        s.parse().ok().map(CgValue::Int)
    }
}

/// Parse the content of a cgroup control file according to its format. `None` when the content
/// is not what the kernel documents (the field is then absent, not wrong).
pub fn parse_cg_value(format: CgFormat, text: &str) -> Option<CgValue> {
    let t = text.trim_end_matches('\n');
    match format {
        CgFormat::Int => {
            let t = t.trim();
            // memory.limit_in_bytes etc. fit in i64; cpuacct.usage in ns fits for 292 years.
            t.parse::<i64>()
                .ok()
                .or_else(|| t.parse::<u64>().ok().map(|v| v.min(i64::MAX as u64) as i64))
                .map(CgValue::Int)
        }
        CgFormat::IntOrMax => int_or_max(t.trim()),
        CgFormat::Pair => {
            let mut f = t.split_ascii_whitespace();
            let a = int_or_max(f.next()?)?;
            let b = int_or_max(f.next()?)?;
            if f.next().is_some() {
                return None;
            }
            Some(CgValue::List(vec![a, b]))
        }
        CgFormat::Text => Some(CgValue::Text(t.trim().to_string())),
        CgFormat::Lines => Some(CgValue::Text(t.to_string())),
        CgFormat::FlatKeyed => {
            let mut map = BTreeMap::new();
            for line in t.lines().filter(|l| !l.is_empty()) {
                let (k, v) = line.split_once(' ')?;
                map.insert(k.to_string(), v.trim().parse().ok()?);
            }
            Some(CgValue::Map(map))
        }
        CgFormat::Pressure => {
            let mut out = BTreeMap::new();
            for line in t.lines().filter(|l| !l.is_empty()) {
                let mut f = line.split_ascii_whitespace();
                let kind = f.next()?;
                let mut fields = BTreeMap::new();
                for kv in f {
                    let (k, v) = kv.split_once('=')?;
                    fields.insert(k.to_string(), v.parse().ok()?);
                }
                out.insert(kind.to_string(), fields);
            }
            Some(CgValue::Pressure(out))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::NsType;

    // Regression tests for inputs the fuzz targets (fuzz/) found: each panicked before.

    #[test]
    fn an_octal_escape_above_a_byte_is_kept_as_text() {
        // fuzz target mountinfo: `\777` overflowed a u8.
        assert_eq!(unescape_octal("/mnt/a\\777b"), "/mnt/a\\777b");
        assert_eq!(
            unescape_octal("/mnt/a\\377"),
            String::from_utf8_lossy(b"/mnt/a\xff")
        );
        assert_eq!(unescape_octal("/run/my\\040net"), "/run/my net");
        let line = "412 29 0:4 / /mnt/\\777 rw shared:200 - tmpfs tmpfs rw";
        assert_eq!(parse_mountinfo(line)[0].mount_point, "/mnt/\\777");
    }

    #[test]
    fn cpu_times_at_the_top_of_u64_saturate() {
        // fuzz target proc_stat: utime + stime overflowed.
        let max = u64::MAX;
        let stat = format!("7 (x) S 1 7 7 0 -1 4194304 0 0 0 0 {max} {max} 0 0 20 0 1 0 5");
        assert_eq!(parse_stat(&stat).map(|s| s.cpu_ticks), Some(u64::MAX));
    }

    #[test]
    fn a_status_name_keeps_its_leading_spaces() {
        let f = parse_status("Name:\t  lead\\\\x\nPPid:\t1\n");
        assert_eq!(f.name.as_deref(), Some("  lead\\x"));
        assert_eq!(f.ppid, Some(1));
    }

    #[test]
    fn loadavg_gives_the_task_total() {
        assert_eq!(
            parse_loadavg_tasks("1.29 3.18 3.87 1/4579 12295\n"),
            Some(4579)
        );
        assert_eq!(parse_loadavg_tasks("0.00 0.01 0.05 1/87 9"), Some(87));
        assert_eq!(parse_loadavg_tasks("0.00 0.01 0.05"), None);
        assert_eq!(parse_loadavg_tasks("0.00 0.01 0.05 187 9"), None);
        assert_eq!(parse_loadavg_tasks("0.00 0.01 0.05 1/x 9"), None);
        assert_eq!(parse_loadavg_tasks(""), None);
    }

    #[test]
    fn start_time_is_field_22() {
        let stat = "7146 (a (b) c) S 7130 7146 7130 0 -1 4194560 104 0 0 0 0 0 0 0 20 0 1 0 \
                    987654 2818048 ...";
        assert_eq!(parse_start_time(stat), Some(987654));
        assert_eq!(parse_stat(stat).and_then(|f| f.start_time), Some(987654));
        assert_eq!(parse_start_time("7146 (sleep) S 1"), None);
    }

    #[test]
    fn ns_links() {
        assert_eq!(
            parse_ns_link("net:[4026532385]"),
            Some((NsType::Net, 4026532385))
        );
        assert_eq!(
            parse_ns_link("mnt:[4026531841]"),
            Some((NsType::Mnt, 4026531841))
        );
        assert_eq!(
            parse_ns_link("time:[4026531834]"),
            Some((NsType::Time, 4026531834))
        );
        assert_eq!(parse_ns_link("net:4026532385"), None);
        assert_eq!(parse_ns_link("bogus:[1]"), None);
        assert_eq!(parse_ns_link("net:[x]"), None);
        assert_eq!(parse_ns_link(""), None);
    }

    #[test]
    fn stat_with_odd_comm() {
        let s =
            "7146 (my (odd) prog) S 7130 7146 7130 0 -1 4194560 100 0 0 0 12 3 0 0 20 0 1 0 1 2 3";
        let f = parse_stat(s).expect("parses");
        assert_eq!(f.comm, "my (odd) prog");
        assert_eq!(f.ppid, 7130);
        assert_eq!(f.flags, 4194560);
        assert_eq!(f.cpu_ticks, 15);
        let kthread = "2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 2";
        let k = parse_stat(kthread).expect("parses");
        assert_ne!(k.flags & PF_KTHREAD, 0);
        assert_eq!(parse_stat("7146 (trunc"), None);
        assert_eq!(parse_stat(""), None);
    }

    #[test]
    fn a_process_ends_when_its_last_thread_exits() {
        let stat = |state: &str, flags: u64, threads: u32| {
            let line =
                format!("9 (true) {state} 1 9 1 0 -1 {flags} 0 0 0 0 0 0 0 0 20 0 {threads} 0 5");
            parse_stat(&line).expect("parses")
        };
        assert!(!stat("R", 0x40_0000, 1).ending(), "running");
        assert!(
            stat("R", 0x40_0004, 1).ending(),
            "PF_EXITING, before it is a zombie"
        );
        assert!(stat("Z", 0x40_0004, 1).ending(), "a zombie");
        assert_eq!(stat("Z", 0x40_0004, 1).state, 'Z');
        assert_eq!(stat("Z", 0x40_0004, 1).threads, Some(1));
        // pthread_exit(3) of the main thread: the process runs on in its other threads.
        assert!(!stat("Z", 0x40_0004, 3).ending());
    }

    #[test]
    fn status_fields() {
        let s = "Name:\tsleep\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t7146\nNgid:\t0\nPid:\t7146\nPPid:\t7130\nTracerPid:\t0\nUid:\t1000\t1000\t1000\t1000\nGid:\t0\t0\t0\t0\nFDSize:\t64\nGroups:\t\nNStgid:\t7146\t1\nNSpid:\t7146\t1\nNSpgid:\t7146\t1\n";
        let f = parse_status(s);
        assert_eq!(f.name.as_deref(), Some("sleep"));
        assert_eq!(f.ppid, Some(7130));
        assert_eq!(f.euid, Some(1000));
        assert_eq!(f.nspid, vec![7146, 1]);
        assert!(!f.kthread);
        let k = parse_status("Name:\tkthreadd\nPPid:\t0\nNSpid:\t2\nKthread:\t1\n");
        assert!(k.kthread);
        let esc = parse_status("Name:\ta\\nb\\\\c\nPPid:\t1\n");
        assert_eq!(esc.name.as_deref(), Some("a\nb\\c"));
        let only_name = parse_status("Name:\tx\n");
        assert_eq!(only_name.name.as_deref(), Some("x"));
        assert_eq!(only_name.ppid, None);
        assert!(only_name.nspid.is_empty());
        let tricky = parse_status("Name:\ta\\\\n\n");
        assert_eq!(tricky.name.as_deref(), Some("a\\n"));
    }

    #[test]
    fn cmdline_variants() {
        assert_eq!(parse_cmdline(b"sleep\x00100\x00"), vec!["sleep", "100"]);
        assert_eq!(
            parse_cmdline(b"nginx: master process"),
            vec!["nginx: master process"]
        );
        assert!(parse_cmdline(b"").is_empty());
        assert_eq!(parse_cmdline(b"a\xff\x00"), vec!["a\u{fffd}"]);
    }

    #[test]
    fn proc_pid_cgroup_hybrid() {
        let s = "9:name=systemd:/\n4:memory:/docker/abc\n2:cpu,cpuacct:/x:y\n0::/\n";
        let l = parse_proc_pid_cgroup(s);
        assert_eq!(l.len(), 4);
        assert_eq!(l[0].key, "name=systemd");
        assert_eq!(l[1].key, "memory");
        assert_eq!(l[1].path, "/docker/abc");
        assert_eq!(l[2].key, "cpu,cpuacct");
        assert_eq!(l[2].path, "/x:y");
        assert_eq!(l[3].key, "unified");
        assert_eq!(l[3].id, 0);
        assert!(parse_proc_pid_cgroup("garbage\n").is_empty());
    }

    #[test]
    fn mountinfo_lines() {
        let s = "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n\
                 40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n\
                 41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n\
                 612 29 0:4 net:[4026532385] /run/netns/my\\040ns rw shared:5 - nsfs nsfs rw\n\
                 not a mountinfo line\n";
        let m = parse_mountinfo(s);
        assert_eq!(m.len(), 4);
        assert_eq!(m[0].super_options, vec!["rw", "cpu"]);
        assert_eq!(m[1].super_options, vec!["rw", "name=systemd"]);
        assert_eq!(m[2].fs_type, "cgroup2");
        assert_eq!(m[3].fs_type, "nsfs");
        assert_eq!(m[3].root, "net:[4026532385]");
        assert_eq!(m[3].mount_point, "/run/netns/my ns");
    }

    #[test]
    fn octal() {
        assert_eq!(unescape_octal("a\\040b\\134c"), "a b\\c");
        assert_eq!(unescape_octal("trail\\04"), "trail\\04");
        assert_eq!(unescape_octal("plain"), "plain");
    }

    #[test]
    fn cpu_lists() {
        assert_eq!(parse_cpu_list("0-2,4\n"), Some(vec![0, 1, 2, 4]));
        assert_eq!(parse_cpu_list(""), Some(vec![]));
        assert_eq!(parse_cpu_list("3-1"), None);
        assert_eq!(parse_cpu_list("a"), None);
        assert_eq!(parse_cpu_list("1,1"), Some(vec![1]));
    }

    #[test]
    fn devices() {
        let d = parse_devices_list("c 1:3 rwm\nc 136:* rwm\nb *:* m\n").expect("parses");
        assert_eq!(d.len(), 3);
        assert_eq!(d[0].major, Some(1));
        assert_eq!(d[0].minor, Some(3));
        assert_eq!(d[1].minor, None);
        assert_eq!(d[2].kind, 'b');
        assert_eq!(d[2].major, None);
        assert_eq!(d[2].access, "m");
        let all = parse_devices_list("a *:* rwm\n").expect("parses");
        assert_eq!(all[0].kind, 'a');
        assert_eq!(parse_devices_list("").map(|v| v.len()), Some(0));
        assert!(parse_devices_list("x 1:3 rwm").is_none());
        assert!(parse_devices_list("c 1:3 rwx").is_none());
        assert!(parse_devices_list("c 1 rw").is_none());
    }

    #[test]
    fn cg_values() {
        use CgFormat::*;
        assert_eq!(parse_cg_value(Int, "2048\n"), Some(CgValue::Int(2048)));
        assert_eq!(
            parse_cg_value(Int, "9223372036854771712\n"),
            Some(CgValue::Int(9223372036854771712))
        );
        assert_eq!(parse_cg_value(Int, "-1\n"), Some(CgValue::Int(-1)));
        assert_eq!(parse_cg_value(Int, "junk\n"), None);
        assert_eq!(parse_cg_value(Int, ""), None);
        assert_eq!(
            parse_cg_value(IntOrMax, "max\n"),
            Some(CgValue::Text("max".into()))
        );
        assert_eq!(
            parse_cg_value(Pair, "max 100000\n"),
            Some(CgValue::List(vec![
                CgValue::Text("max".into()),
                CgValue::Int(100000)
            ]))
        );
        assert_eq!(parse_cg_value(Pair, "50000\n"), None);
        assert_eq!(
            parse_cg_value(Text, "0-1\n"),
            Some(CgValue::Text("0-1".into()))
        );
        let ev = parse_cg_value(FlatKeyed, "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n");
        match ev {
            Some(CgValue::Map(m)) => assert_eq!(m.get("max"), Some(&3)),
            other => panic!("unexpected {other:?}"),
        }
        let psi = parse_cg_value(
            Pressure,
            "some avg10=1.50 avg60=0.00 avg300=0.00 total=123\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n",
        );
        match psi {
            Some(CgValue::Pressure(m)) => {
                assert_eq!(m["some"]["avg10"], 1.5);
                assert_eq!(m["full"]["total"], 0.0);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
