//! /proc/PID/mountinfo (any mount namespace's, so what its owner mounted) and /proc/self/cgroup,
//! then what nsview derives from them: nsfs bind mounts and cgroup hierarchies. Input: the
//! mountinfo text, optionally followed by a NUL and a /proc/self/cgroup text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nsview::sys::{mounts, parse};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (mountinfo, self_cgroup) = text.split_once('\0').unwrap_or((&text, ""));
    let lines = parse::parse_mountinfo(mountinfo);
    let cgroup_lines = parse::parse_proc_pid_cgroup(self_cgroup);
    // /proc/cgroups as the cgroup lines name it: every controller, its hierarchy id, enabled.
    let known: Vec<(String, u32, bool)> = cgroup_lines
        .iter()
        .flat_map(|l| l.key.split(',').map(|c| (c.to_string(), l.id, true)))
        .collect();
    let _ = mounts::nsfs_bind_mounts(&lines);
    let _ = mounts::cgroup_mounts(&lines, &cgroup_lines, &known);
    let _ = parse::unescape_octal(mountinfo);
});
