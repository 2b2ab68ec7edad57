//! /proc/PID/stat (comm is the process's own choice) and /proc/loadavg.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nsview::sys::parse;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = parse::parse_stat(&text);
    let _ = parse::parse_start_time(&text);
    let _ = parse::parse_loadavg_tasks(&text);
});
