//! Recordings (`--from`, `nsview replay`): a recording can be handed over by someone else, so its
//! frames are untrusted. The first byte picks what the rest is: a frame (header, events, state),
//! a full frame's state JSON, a delta's JSON applied to an empty state, or a zstd block.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nsview::record::file::{self, Parsed};
use nsview::record::{Delta, State, events};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    match selector % 4 {
        0 => {
            if let Parsed::Frame(h) = file::parse_header(rest)
                && let Some(body) = rest.get(file::FRAME_HEADER_LEN..)
                && body.len() as u64 + file::FRAME_HEADER_LEN as u64 >= h.frame_len()
            {
                let _ = file::body_matches(&h, rest, body);
                let events = body.get(..h.events_len as usize).unwrap_or_default();
                let _ = events::from_json(events);
                if let Some(state) = body.get(h.events_len as usize..) {
                    let _ = file::decompress(state);
                }
            }
        }
        1 => {
            if let Ok(state) = State::from_json(rest) {
                let _ = state.to_snapshot(None);
            }
        }
        2 => {
            if let Ok(delta) = Delta::from_json(rest) {
                let mut state = State::default();
                state.apply(delta);
                let _ = state.to_snapshot(None);
            }
        }
        _ => {
            let _ = file::decompress(rest);
        }
    }
});
