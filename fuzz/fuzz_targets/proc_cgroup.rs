//! /proc/PID/cgroup (cgroup names are chosen by whoever may create cgroups: delegated users,
//! container runtimes) and namespace link targets ("net:[4026531840]").
#![no_main]

use libfuzzer_sys::fuzz_target;
use nsview::sys::parse;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = parse::parse_proc_pid_cgroup(&text);
    let _ = parse::parse_ns_link(&text);
});
