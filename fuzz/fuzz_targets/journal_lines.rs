//! The journal of applied changes, one JSON object per line: undo replays what it says as root.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nsview::effects::journal;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    if let Ok(entries) = journal::parse_entries(Path::new("journal.jsonl"), data) {
        let _ = journal::last_undoable(&entries);
        if let Some(last) = entries.last() {
            let _ = journal::undone_by(&entries, last.id);
        }
    }
});
