//! Appending frames to a recording file.

use super::file::{self, FileHeader, FrameKind, Parsed};
use super::{Delta, Event, Pairs, RecordError, State};
use crate::model::Snapshot;
use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// A full frame every this many frames (10 minutes at the default 5 s): how many deltas a
/// reader applies at most to reach a frame.
pub const KEYFRAME_EVERY: u32 = 120;

/// How many older segments a rotating recorder keeps beside the current file: PATH.1 (the
/// newest) to PATH.3 (the oldest); the current file and each of them stay under a quarter of
/// `--max-size`, so the four together stay under it.
pub const KEPT_SEGMENTS: u32 = 3;

/// An open recording file, appended to.
#[derive(Debug)]
pub struct Writer {
    path: PathBuf,
    file: File,
    interval_ms: u32,
    /// Rotate before a frame would make the file larger than this (`--max-size` / 4).
    segment_limit: Option<u64>,
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
            interval_ms,
            segment_limit: None,
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

    /// Keep the recording under `max_size` bytes in all: rotate the file into numbered segments
    /// (see [`KEPT_SEGMENTS`]) before a frame would make it larger than a quarter of that.
    pub fn rotate_at(&mut self, max_size: u64) {
        self.segment_limit = Some(max_size / (u64::from(KEPT_SEGMENTS) + 1));
    }

    /// Append the frame for `snap`: a delta against `prev` (the snapshot of the frame before,
    /// when there is one and no full frame is due), else a full frame. `same_processes`: the
    /// collector says `snap`'s processes are `prev`'s. `events` are added to those seen between
    /// `prev` and `snap`. When the frame would take the file over its segment limit, the file is
    /// rotated first and the frame written as a full one into the new file. Returns the kind
    /// written and its size.
    pub fn write(
        &mut self,
        time_ms: i64,
        snap: &Snapshot,
        prev: Option<&Snapshot>,
        same_processes: bool,
        mut events: Vec<Event>,
    ) -> Result<(FrameKind, usize), RecordError> {
        // The lookups between the two snapshots, built once for the events and the delta.
        let pairs = prev.map(|prev| Pairs::new(prev, snap));
        if let Some(pairs) = &pairs {
            let mut seen = super::events::between(pairs);
            seen.append(&mut events);
            events = seen;
        }
        let events = if events.is_empty() {
            Vec::new()
        } else {
            serde_json::to_vec(&events).map_err(|e| self.io(std::io::Error::other(e)))?
        };
        let full_due = self.since_full.is_none_or(|n| n + 1 >= KEYFRAME_EVERY);
        let delta_base = pairs.as_ref().filter(|_| !full_due);
        let (mut kind, mut frame) =
            self.encode(time_ms, snap, delta_base, same_processes, &events)?;
        if self.must_rotate(frame.len()) {
            if kind == FrameKind::Delta {
                (kind, frame) = self.encode(time_ms, snap, None, same_processes, &events)?;
            }
            self.rotate(&frame)?;
        } else {
            file::append(&mut self.file, &frame).map_err(|e| self.io(e))?;
            self.size += frame.len() as u64;
        }
        self.since_full = Some(match kind {
            FrameKind::Full => 0,
            FrameKind::Delta => self.since_full.unwrap_or(0) + 1,
        });
        Ok((kind, frame.len()))
    }

    /// One frame's bytes: a delta against `base`, or a full frame without one.
    fn encode(
        &self,
        time_ms: i64,
        snap: &Snapshot,
        base: Option<&Pairs<'_>>,
        same_processes: bool,
        events: &[u8],
    ) -> Result<(FrameKind, Vec<u8>), RecordError> {
        let (kind, json) = match base {
            Some(pairs) => (
                FrameKind::Delta,
                serde_json::to_vec(&Delta::between_pairs(pairs, same_processes)),
            ),
            None => (FrameKind::Full, State::of(snap).to_json()),
        };
        let json = json.map_err(|e| self.io(std::io::Error::other(e)))?;
        let state = file::compress(&json).map_err(|e| self.io(e))?;
        Ok((kind, file::encode_frame(kind, time_ms, events, &state)))
    }

    fn io(&self, e: std::io::Error) -> RecordError {
        RecordError::io(&self.path, e)
    }

    /// True when a frame of `len` bytes would take the file over its segment limit (a file
    /// holding no frame yet takes any frame: it cannot get smaller).
    fn must_rotate(&self, len: usize) -> bool {
        self.segment_limit
            .is_some_and(|limit| self.size > file::HEADER_LEN && self.size + len as u64 > limit)
    }

    /// PATH becomes PATH.1, PATH.1 PATH.2 ..., the oldest segment is dropped, and a new PATH
    /// starts with `first` (a full frame). A reader never finds PATH missing or empty: the new
    /// file is written whole as PATH.new first and swapped with PATH in one step
    /// (renameat2 RENAME_EXCHANGE); until the old one is renamed to PATH.1 a reader sees the
    /// newest segment alone, which is whole.
    fn rotate(&mut self, first: &[u8]) -> Result<(), RecordError> {
        self.sync()?;
        let fresh = segment_sibling(&self.path, "new");
        let _ = std::fs::remove_file(&fresh);
        let mut file = OpenOptions::new()
            .read(true)
            .create_new(true)
            .append(true)
            .open(&fresh)
            .map_err(|e| RecordError::io(&fresh, e))?;
        let header = FileHeader {
            interval_ms: self.interval_ms,
        }
        .encode();
        let mut bytes = header.to_vec();
        bytes.extend_from_slice(first);
        file::append(&mut file, &bytes).map_err(|e| RecordError::io(&fresh, e))?;
        file.sync_data().map_err(|e| RecordError::io(&fresh, e))?;
        let oldest = segment_path(&self.path, KEPT_SEGMENTS);
        ignore_missing(std::fs::remove_file(&oldest), &oldest)?;
        for (from, to) in rotation_renames(&self.path, KEPT_SEGMENTS) {
            // PATH itself is swapped below, not renamed.
            if from != self.path {
                ignore_missing(std::fs::rename(&from, &to), &from)?;
            }
        }
        nix::fcntl::renameat2(
            nix::fcntl::AT_FDCWD,
            &fresh,
            nix::fcntl::AT_FDCWD,
            &self.path,
            nix::fcntl::RenameFlags::RENAME_EXCHANGE,
        )
        .map_err(|e| self.io(std::io::Error::from(e)))?;
        let previous = segment_path(&self.path, 1);
        std::fs::rename(&fresh, &previous).map_err(|e| RecordError::io(&fresh, e))?;
        self.file = file;
        self.size = bytes.len() as u64;
        Ok(())
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
    let mut r = std::io::BufReader::with_capacity(1 << 20, file);
    let mut buf = Vec::new();
    let mut end = file::HEADER_LEN;
    for frame in 1.. {
        match super::next_frame(&mut r, &mut buf).map_err(|e| RecordError::io(path, e))? {
            Parsed::Frame(h) => end += h.frame_len(),
            Parsed::Torn => break,
            Parsed::Corrupt(why) => {
                return Err(RecordError::Decode {
                    path: path.to_path_buf(),
                    frame,
                    reason: format!("{why}; record to another file"),
                });
            }
        }
    }
    Ok(end)
}

/// A missing file is what a rotation that has not yet filled every segment finds.
fn ignore_missing(r: std::io::Result<()>, path: &Path) -> Result<(), RecordError> {
    match r {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(RecordError::io(path, e)),
        _ => Ok(()),
    }
}

/// The `n`th older segment of the recording at `path`: PATH.n (PATH itself for 0).
pub fn segment_path(path: &Path, n: u32) -> PathBuf {
    if n == 0 {
        return path.to_path_buf();
    }
    let mut p = path.as_os_str().to_owned();
    p.push(format!(".{n}"));
    PathBuf::from(p)
}

/// PATH.WORD beside PATH (PATH.new: the next segment while it is written).
fn segment_sibling(path: &Path, word: &str) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(format!(".{word}"));
    PathBuf::from(p)
}

/// The renames of a rotation, in the order they are made (each frees the name the next one
/// takes): PATH.(kept-1) -> PATH.kept, ..., PATH.1 -> PATH.2, PATH -> PATH.1.
pub fn rotation_renames(path: &Path, kept: u32) -> Vec<(PathBuf, PathBuf)> {
    (0..kept)
        .rev()
        .map(|n| (segment_path(path, n), segment_path(path, n + 1)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_shifts_every_segment_one_older() {
        let p = Path::new("/r/nsview.nsrec");
        assert_eq!(segment_path(p, 0), p);
        assert_eq!(segment_path(p, 2), Path::new("/r/nsview.nsrec.2"));
        let names: Vec<(String, String)> = rotation_renames(p, 3)
            .into_iter()
            .map(|(a, b)| (a.display().to_string(), b.display().to_string()))
            .collect();
        let pair = |a: &str, b: &str| (a.to_string(), b.to_string());
        assert_eq!(
            names,
            [
                pair("/r/nsview.nsrec.2", "/r/nsview.nsrec.3"),
                pair("/r/nsview.nsrec.1", "/r/nsview.nsrec.2"),
                pair("/r/nsview.nsrec", "/r/nsview.nsrec.1"),
            ]
        );
        assert!(rotation_renames(p, 0).is_empty());
    }
}
