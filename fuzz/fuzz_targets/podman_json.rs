//! podman's containers.json (libpod's storage record of every container) and a container's
//! userdata/pidfile.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nsview::sys::podman;

fuzz_target!(|data: &[u8]| {
    let _ = podman::parse_containers_json(data);
    let _ = podman::parse_pidfile(data);
});
