//! Docker's records: the Engine API's /containers/json answer and a container's config.v2.json.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nsview::sys::docker;

fuzz_target!(|data: &[u8]| {
    let _ = docker::parse_containers_json(data);
    let _ = docker::parse_config_v2(data);
});
