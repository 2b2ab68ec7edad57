//! /proc/PID/status (Name is the process's own choice, with the kernel's escapes).
#![no_main]

use libfuzzer_sys::fuzz_target;
use nsview::sys::parse;

fuzz_target!(|data: &[u8]| {
    let _ = parse::parse_status(&String::from_utf8_lossy(data));
});
