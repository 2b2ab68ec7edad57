//! cgroup v1 devices.list.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nsview::sys::parse;

fuzz_target!(|data: &[u8]| {
    let _ = parse::parse_devices_list(&String::from_utf8_lossy(data));
});
