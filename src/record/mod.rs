//! Recordings: the host's isolation state sampled over time, and read back.
//!
//! A recording is an append-only file of checksummed frames ([`file`]): a full frame (a
//! [`State`]) now and then, deltas ([`Delta`]) in between, each compressed. [`Writer`] appends
//! them from the snapshots a recorder collects; [`Recording`] reads a file (or a chain of
//! rotated segments) back into [`Snapshot`]s, at any frame.

pub mod events;
pub mod file;
mod pairs;
pub mod state;
pub mod time;
mod writer;

pub use events::{Event, EventKind};
pub use pairs::Pairs;
pub use state::{Delta, State};
pub use writer::{KEPT_SEGMENTS, KEYFRAME_EVERY, Writer, rotation_renames, segment_path};

use crate::model::Snapshot;
use file::{FileHeader, FrameKind, Parsed};
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// Why a recording could not be read or written. Every error names the file.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The error's text is in the message (not a `source`: printed as a chain, it would show
    /// twice).
    #[error("{path}: {err}")]
    Io { path: PathBuf, err: std::io::Error },
    #[error("{path}: not an nsview recording")]
    NotARecording { path: PathBuf },
    #[error("{path}: recording format version {version}; this nsview reads version 1")]
    Version { path: PathBuf, version: u32 },
    #[error("{path}: the recording holds no complete frame")]
    Empty { path: PathBuf },
    #[error("{path}: a directory without recordings (no *.nsrec file in it)")]
    NoRecordings { path: PathBuf },
    #[error("{path}: frame {frame} cannot be decoded: {reason}")]
    Decode {
        path: PathBuf,
        frame: usize,
        reason: String,
    },
}

impl RecordError {
    pub fn io(path: &Path, source: std::io::Error) -> RecordError {
        RecordError::Io {
            path: path.to_path_buf(),
            err: source,
        }
    }
}

/// One frame of a recording, as indexed when it was opened.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameInfo {
    /// Which file of the chain ([`Recording::segments`]) holds it.
    pub segment: usize,
    /// Where its header starts in that file.
    pub offset: u64,
    pub full: bool,
    /// Wall-clock time of the sample, milliseconds since the epoch.
    pub time_ms: i64,
    /// Its size in the file, header included.
    pub bytes: u64,
    /// What happened between the frame before and this one.
    pub events: Vec<Event>,
}

/// A recording opened for reading: every frame indexed and its checksum verified.
#[derive(Debug)]
pub struct Recording {
    segments: Vec<(PathBuf, FileHeader)>,
    frames: Vec<FrameInfo>,
    warnings: Vec<String>,
}

impl Recording {
    /// Open `path`: a recording file (with its rotated segments PATH.1, PATH.2, ... before it,
    /// oldest first), or a directory holding recordings (every `*.nsrec` chain in it).
    pub fn open(path: &Path) -> Result<Recording, RecordError> {
        let files = segment_chain(path)?;
        let mut rec = Recording {
            segments: Vec::new(),
            frames: Vec::new(),
            warnings: Vec::new(),
        };
        for f in &files {
            rec.index_file(f)?;
        }
        if rec.frames.is_empty() {
            return Err(RecordError::Empty {
                path: path.to_path_buf(),
            });
        }
        Ok(rec)
    }

    /// Index one file's frames, checking each checksum; stop at a torn tail (silently: the
    /// recorder may be writing it) or at a corrupt frame (with a warning).
    fn index_file(&mut self, path: &Path) -> Result<(), RecordError> {
        let mut f = File::open(path).map_err(|e| RecordError::io(path, e))?;
        let header = FileHeader::read(path, &mut f)?;
        // Streamed frame by frame: memory is bounded by the largest frame, not the file.
        let mut r = std::io::BufReader::with_capacity(1 << 20, f);
        let segment = self.segments.len();
        self.segments.push((path.to_path_buf(), header));
        let mut buf = Vec::new();
        let mut offset = file::HEADER_LEN;
        for number in 1.. {
            let corrupt = |why: &str, this: &mut Recording| {
                this.warnings.push(format!(
                    "{}: frame {number} (byte {offset}) is corrupted ({why}): read up to the frame before it",
                    path.display(),
                ));
            };
            let h = match next_frame(&mut r, &mut buf).map_err(|e| RecordError::io(path, e))? {
                Parsed::Frame(h) => h,
                Parsed::Torn => break,
                Parsed::Corrupt(why) => {
                    corrupt(why, self);
                    break;
                }
            };
            // A segment starts with a full frame; a file whose first frame is a delta lost its
            // start and cannot be read.
            if number == 1 && h.kind != FrameKind::Full {
                corrupt("the file does not start with a full frame", self);
                break;
            }
            let events = &buf[file::FRAME_HEADER_LEN..][..h.events_len as usize];
            let events: Vec<Event> = match events {
                [] => Vec::new(),
                ev => events::from_json(ev).unwrap_or_else(|e| {
                    self.warnings.push(format!(
                        "{}: frame {number}: events unreadable ({e})",
                        path.display(),
                    ));
                    Vec::new()
                }),
            };
            self.frames.push(FrameInfo {
                segment,
                offset,
                full: h.kind == FrameKind::Full,
                time_ms: h.time_ms,
                bytes: h.frame_len(),
                events,
            });
            offset += h.frame_len();
        }
        Ok(())
    }

    pub fn frames(&self) -> &[FrameInfo] {
        &self.frames
    }

    /// One line per problem found while opening (a corrupted frame).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The files read, oldest first.
    pub fn segments(&self) -> impl Iterator<Item = &Path> {
        self.segments.iter().map(|(p, _)| p.as_path())
    }

    /// The sampling interval the recorder was started with (of the newest segment), in ms.
    pub fn interval_ms(&self) -> u32 {
        self.segments.last().map_or(0, |(_, h)| h.interval_ms)
    }

    /// Total size of the frames read, headers included.
    pub fn bytes(&self) -> u64 {
        self.frames.iter().map(|f| f.bytes).sum()
    }

    /// Decode frame `i`'s state block.
    fn payload(&self, i: usize) -> Result<Payload, RecordError> {
        let info = self.frames.get(i).ok_or_else(|| RecordError::Decode {
            path: self
                .segments
                .first()
                .map(|s| s.0.clone())
                .unwrap_or_default(),
            frame: i,
            reason: "no such frame".into(),
        })?;
        let (path, _) = &self.segments[info.segment];
        let mut buf = vec![0u8; info.bytes as usize];
        let f = File::open(path).map_err(|e| RecordError::io(path, e))?;
        f.read_exact_at(&mut buf, info.offset)
            .map_err(|e| RecordError::io(path, e))?;
        let decode_err = |reason: String| RecordError::Decode {
            path: path.clone(),
            frame: i + 1,
            reason,
        };
        let h = match file::parse_header(&buf) {
            Parsed::Frame(h) => h,
            _ => return Err(decode_err("its header changed since it was read".into())),
        };
        let body = &buf[file::FRAME_HEADER_LEN..];
        if !file::body_matches(&h, &buf, body) {
            return Err(decode_err("its checksum is wrong".into()));
        }
        let json = file::decompress(&body[h.events_len as usize..])
            .map_err(|e| decode_err(format!("zstd: {e}")))?;
        Ok(if info.full {
            Payload::Full(State::from_json(&json).map_err(|e| decode_err(e.to_string()))?)
        } else {
            Payload::Delta(Delta::from_json(&json).map_err(|e| decode_err(e.to_string()))?)
        })
    }

    /// The state at frame `i`: its last full frame with the deltas after it applied.
    pub fn state_at(&self, i: usize) -> Result<State, RecordError> {
        let start = (0..=i.min(self.frames.len().saturating_sub(1)))
            .rev()
            .find(|&k| self.frames[k].full)
            .unwrap_or(0);
        let mut state = State::default();
        for k in start..=i {
            self.apply(&mut state, k)?;
        }
        Ok(state)
    }

    /// Move `state`, the state at frame `from`, to frame `to`: forward by applying the frames
    /// between, backward (or across a long stretch) by decoding from the full frame before `to`.
    pub fn step(&self, state: &mut State, from: usize, to: usize) -> Result<(), RecordError> {
        let restart = (from + 1..=to).rev().find(|&k| self.frames[k].full);
        if to < from || restart.is_some() {
            *state = self.state_at(to)?;
            return Ok(());
        }
        for k in from + 1..=to {
            self.apply(state, k)?;
        }
        Ok(())
    }

    fn apply(&self, state: &mut State, k: usize) -> Result<(), RecordError> {
        match self.payload(k)? {
            Payload::Full(s) => *state = s,
            Payload::Delta(d) => state.apply(d),
        }
        Ok(())
    }

    /// The snapshot at frame `i`.
    pub fn snapshot_at(&self, i: usize) -> Result<Snapshot, RecordError> {
        Ok(self.state_at(i)?.to_snapshot(None))
    }
}

/// Read the next frame of `r` whole into `buf` (header, events, state) and check it: Torn when
/// the file ends inside it, Corrupt when its header or checksum is wrong.
pub(super) fn next_frame(r: &mut impl Read, buf: &mut Vec<u8>) -> std::io::Result<Parsed> {
    buf.resize(file::FRAME_HEADER_LEN, 0);
    if read_full(r, buf)? < file::FRAME_HEADER_LEN {
        return Ok(Parsed::Torn);
    }
    let h = match file::parse_header(buf) {
        Parsed::Frame(h) => h,
        other => return Ok(other),
    };
    let len = h.frame_len() as usize;
    buf.resize(len, 0);
    if read_full(r, &mut buf[file::FRAME_HEADER_LEN..])? < len - file::FRAME_HEADER_LEN {
        return Ok(Parsed::Torn);
    }
    let (head, body) = buf.split_at(file::FRAME_HEADER_LEN);
    Ok(if file::body_matches(&h, head, body) {
        Parsed::Frame(h)
    } else {
        Parsed::Corrupt("its checksum is wrong")
    })
}

/// Read until `buf` is full or the end of the file; the number of bytes read.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

enum Payload {
    Full(State),
    Delta(Delta),
}

/// The files a reader opens for `path`, oldest first: a directory's `*.nsrec` files with their
/// segments; a file with its rotated segments (PATH.N ... PATH.1, then PATH).
fn segment_chain(path: &Path) -> Result<Vec<PathBuf>, RecordError> {
    let meta = std::fs::metadata(path).map_err(|e| RecordError::io(path, e))?;
    if meta.is_dir() {
        let mut out = Vec::new();
        let mut names: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| RecordError::io(path, e))?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "nsrec"))
            .collect();
        names.sort();
        for n in names {
            out.extend(rotated_segments(&n));
            out.push(n);
        }
        if out.is_empty() {
            return Err(RecordError::NoRecordings {
                path: path.to_path_buf(),
            });
        }
        return Ok(out);
    }
    let mut out = rotated_segments(path);
    out.push(path.to_path_buf());
    Ok(out)
}

/// PATH.N, ..., PATH.1 that exist (older segments of PATH, oldest first).
pub fn rotated_segments(path: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for n in 1.. {
        let p = segment_path(path, n);
        if !p.exists() {
            break;
        }
        out.push(p);
    }
    out.reverse();
    out
}
