//! One datagram of the process connector (netlink + cn_msg + proc_event).
#![no_main]

use libfuzzer_sys::fuzz_target;
use nsview::sys::proc_connector;

fuzz_target!(|data: &[u8]| {
    let _ = proc_connector::parse_event(data);
});
