//! Appending frames to a recording file.

use super::file::{self, FileHeader, FrameKind, Parsed};
use super::{Delta, Event, RecordError, State};
use crate::model::Snapshot;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// A full frame every this many frames (10 minutes at the default 5 s): how many deltas a
/// reader applies at most to reach a frame.
pub const KEYFRAME_EVERY: u32 = 120;

/// An open recording file, appended to.
#[derive(Debug)]
pub struct Writer {
    path: PathBuf,
    file: File,
    /// Bytes in the file.
    size: u64,
    /// Frames written since the last full frame (None: the next frame must be full).
    since_full: Option<u32>,
    /// Set when a torn tail was cut off at open: what the caller should say.
    pub repaired: Option<String>,
}

impl Writer {
    /// Open `path` for appending: a new file gets a header; an existing recording is checked
    /// and, if a recorder was killed while writing its last frame, cut back to its last
    /// complete frame. The next frame written is a full frame.
    pub fn open(path: &Path, interval_ms: u32) -> Result<Writer, RecordError> {
        let mut file = OpenOptions::new()
            .read(true)
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| RecordError::io(path, e))?;
        let len = file.metadata().map_err(|e| RecordError::io(path, e))?.len();
        let mut repaired = None;
        let size = if len == 0 {
            let header = FileHeader { interval_ms }.encode();
            file::append(&mut file, &header).map_err(|e| RecordError::io(path, e))?;
            header.len() as u64
        } else {
            file.seek(SeekFrom::Start(0))
                .map_err(|e| RecordError::io(path, e))?;
            FileHeader::read(path, &mut file)?;
            let end = complete_end(path, &mut file)?;
            if end < len {
                file.set_len(end).map_err(|e| RecordError::io(path, e))?;
                repaired = Some(format!(
                    "{}: cut {} bytes after the last complete frame (a recorder stopped while writing)",
                    path.display(),
                    len - end
                ));
            }
            end
        };
        Ok(Writer {
            path: path.to_path_buf(),
            file,
            size,
            since_full: None,
            repaired,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes in the file so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Append the frame for `snap`: a delta against `prev` (the snapshot of the frame before,
    /// when there is one and no full frame is due), else a full frame. `same_processes`: the
    /// collector says `snap`'s processes are `prev`'s. `events` are added to those seen between
    /// `prev` and `snap`. Returns the kind written and its size.
    pub fn write(
        &mut self,
        time_ms: i64,
        snap: &Snapshot,
        prev: Option<&Snapshot>,
        same_processes: bool,
        mut events: Vec<Event>,
    ) -> Result<(FrameKind, usize), RecordError> {
        let io = |e| RecordError::io(&self.path, e);
        if let Some(prev) = prev {
            let mut seen = super::events::between(prev, snap);
            seen.append(&mut events);
            events = seen;
        }
        let full_due = self.since_full.is_none_or(|n| n + 1 >= KEYFRAME_EVERY);
        let (kind, json) = match prev {
            Some(prev) if !full_due => (
                FrameKind::Delta,
                serde_json::to_vec(&Delta::between(prev, snap, same_processes)),
            ),
            _ => (FrameKind::Full, State::of(snap).to_json()),
        };
        let json = json.map_err(|e| io(std::io::Error::other(e)))?;
        let state = file::compress(&json).map_err(io)?;
        let events = if events.is_empty() {
            Vec::new()
        } else {
            serde_json::to_vec(&events).map_err(|e| io(std::io::Error::other(e)))?
        };
        let frame = file::encode_frame(kind, time_ms, &events, &state);
        file::append(&mut self.file, &frame).map_err(io)?;
        self.size += frame.len() as u64;
        self.since_full = Some(match kind {
            FrameKind::Full => 0,
            FrameKind::Delta => self.since_full.unwrap_or(0) + 1,
        });
        Ok((kind, frame.len()))
    }

    /// Make what was written durable (at the end, and after each full frame).
    pub fn sync(&self) -> Result<(), RecordError> {
        self.file
            .sync_data()
            .map_err(|e| RecordError::io(&self.path, e))
    }
}

/// Where the last complete frame of an open recording ends. A torn tail (the file ends inside a
/// frame) is what a killed recorder leaves; a frame that is complete but wrong is refused:
/// appending after it would hide everything behind it from readers.
fn complete_end(path: &Path, file: &mut File) -> Result<u64, RecordError> {
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)
        .map_err(|e| RecordError::io(path, e))?;
    let mut at = 0usize;
    let mut frame = 0usize;
    loop {
        let corrupt = |reason: &str| RecordError::Decode {
            path: path.to_path_buf(),
            frame: frame + 1,
            reason: format!("{reason}; record to another file"),
        };
        let h = match file::parse_header(&bytes[at..]) {
            Parsed::Frame(h) => h,
            Parsed::Torn => break,
            Parsed::Corrupt(why) => return Err(corrupt(why)),
        };
        let end = at + h.frame_len() as usize;
        match bytes.get(at + file::FRAME_HEADER_LEN..end) {
            Some(body) if file::body_matches(&h, &bytes[at..], body) => at = end,
            Some(_) => return Err(corrupt("its checksum is wrong")),
            None => break,
        }
        frame += 1;
    }
    Ok(file::HEADER_LEN + at as u64)
}
