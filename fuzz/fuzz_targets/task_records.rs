//! The BPF task iterator's records: fixed-size binary records with counts and lengths inside.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nsview::sys::task_iter;

fuzz_target!(|data: &[u8]| {
    let _ = task_iter::parse_records(data);
});
