//! cgroup control files, limits and usage (a delegated cgroup's owner writes many of them, and
//! some echo what was written): the first byte picks the file format, the rest is the content.
//! cgroup.procs and cpuset lists too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nsview::sys::parse::{self, CgFormat};

const FORMATS: [CgFormat; 7] = [
    CgFormat::Int,
    CgFormat::IntOrMax,
    CgFormat::Pair,
    CgFormat::Text,
    CgFormat::FlatKeyed,
    CgFormat::Pressure,
    CgFormat::Lines,
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, content)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(content);
    let format = FORMATS[usize::from(selector) % FORMATS.len()];
    let _ = parse::parse_cg_value(format, &text);
    let _ = parse::parse_pid_list(&text);
    let _ = parse::parse_cpu_list(&text);
});
