//! /proc/PID/cmdline: whatever the process wrote in its argument area, not UTF-8 necessarily.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nsview::sys::parse;

fuzz_target!(|data: &[u8]| {
    let _ = parse::parse_cmdline(data);
});
