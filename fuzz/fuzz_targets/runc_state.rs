//! runc's state.json (libcontainer's State), as runc and crun write it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nsview::model::containers::Runtime;
use nsview::sys::oci;

fuzz_target!(|data: &[u8]| {
    let _ = oci::parse_runc_state(data, Runtime::Runc);
});
