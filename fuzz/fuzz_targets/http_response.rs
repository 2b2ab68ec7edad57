//! An HTTP/1.1 answer from a runtime's API socket (Content-Length, chunked, status line), and
//! every prefix of it the client looks at while reading: the reader asks after each read.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nsview::sys::http;

fuzz_target!(|data: &[u8]| {
    let _ = http::parse_response(data);
    // The client tries again after every read; a few cut points stand for those reads.
    for cut in [data.len() / 3, data.len() / 2, data.len().saturating_sub(1)] {
        let _ = http::parse_response(data.get(..cut).unwrap_or_default());
    }
});
