//! The recording file: a header, then frames appended one after the other.
//!
//! ```text
//! header (16 bytes): "\x89NSVREC\n" | version u32 LE (1) | interval in ms u32 LE
//! frame header (32 bytes):
//!   "NSVF" | kind u8 (1 full, 2 delta) | 3 zero bytes | time: ms since the epoch, i64 LE
//!   | events length u32 LE | state length u32 LE
//!   | CRC-32 of the header's first 24 bytes, the events and the state, u32 LE
//!   | CRC-32 of the header's first 28 bytes, u32 LE
//! events: JSON list of Event (plain; usually empty)
//! state: zstd-compressed JSON, a State (full) or a Delta
//! ```
//!
//! Each frame is written with one write(2) on a file opened for appending, so a recorder killed
//! at any moment leaves whole frames and at most the start of one more: a reader stops at a frame
//! the file ends inside of (a torn tail, as while the recorder writes it), and at a frame whose
//! checksum is wrong (with a warning naming it).

use super::RecordError;
use std::io::{Read, Write};
use std::path::Path;

pub const MAGIC: &[u8; 8] = b"\x89NSVREC\n";
pub const VERSION: u32 = 1;
pub const HEADER_LEN: u64 = 16;
const FRAME_MAGIC: &[u8; 4] = b"NSVF";
pub const FRAME_HEADER_LEN: usize = 32;
/// The largest events or state block a reader accepts (a corrupt length is not allocated).
const MAX_BLOCK: u32 = 1 << 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameKind {
    Full,
    Delta,
}

/// The file header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileHeader {
    pub interval_ms: u32,
}

impl FileHeader {
    pub fn encode(&self) -> [u8; HEADER_LEN as usize] {
        let mut b = [0u8; HEADER_LEN as usize];
        b[..8].copy_from_slice(MAGIC);
        b[8..12].copy_from_slice(&VERSION.to_le_bytes());
        b[12..16].copy_from_slice(&self.interval_ms.to_le_bytes());
        b
    }

    /// Read and check the header at the start of `r`.
    pub fn read(path: &Path, r: &mut impl Read) -> Result<FileHeader, RecordError> {
        let mut b = [0u8; HEADER_LEN as usize];
        let not_one = || RecordError::NotARecording {
            path: path.to_path_buf(),
        };
        r.read_exact(&mut b).map_err(|e| match e.kind() {
            std::io::ErrorKind::UnexpectedEof => not_one(),
            _ => RecordError::io(path, e),
        })?;
        if &b[..8] != MAGIC {
            return Err(not_one());
        }
        let version = u32::from_le_bytes([b[8], b[9], b[10], b[11]]);
        if version != VERSION {
            return Err(RecordError::Version {
                path: path.to_path_buf(),
                version,
            });
        }
        Ok(FileHeader {
            interval_ms: u32::from_le_bytes([b[12], b[13], b[14], b[15]]),
        })
    }
}

/// One frame's header, as read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    pub kind: FrameKind,
    pub time_ms: i64,
    pub events_len: u32,
    pub state_len: u32,
    crc: u32,
}

impl FrameHeader {
    pub fn frame_len(&self) -> u64 {
        FRAME_HEADER_LEN as u64 + u64::from(self.events_len) + u64::from(self.state_len)
    }
}

/// The bytes of one frame, ready for one write.
pub fn encode_frame(kind: FrameKind, time_ms: i64, events: &[u8], state: &[u8]) -> Vec<u8> {
    let mut b = Vec::with_capacity(FRAME_HEADER_LEN + events.len() + state.len());
    b.extend_from_slice(FRAME_MAGIC);
    b.push(match kind {
        FrameKind::Full => 1,
        FrameKind::Delta => 2,
    });
    b.extend_from_slice(&[0, 0, 0]);
    b.extend_from_slice(&time_ms.to_le_bytes());
    b.extend_from_slice(&(events.len() as u32).to_le_bytes());
    b.extend_from_slice(&(state.len() as u32).to_le_bytes());
    let mut h = crc32fast::Hasher::new();
    h.update(&b[..24]);
    h.update(events);
    h.update(state);
    b.extend_from_slice(&h.finalize().to_le_bytes());
    let header_crc = crc32fast::hash(&b[..28]);
    b.extend_from_slice(&header_crc.to_le_bytes());
    b.extend_from_slice(events);
    b.extend_from_slice(state);
    b
}

/// What the bytes at a frame's place are.
#[derive(Debug)]
pub enum Parsed {
    Frame(FrameHeader),
    /// The file ends inside the header or the frame: the frame is being (or was being) written.
    Torn,
    /// Not a frame: wrong magic, kind or header checksum.
    Corrupt(&'static str),
}

/// Decode a frame header from its 32 bytes (`None`: fewer bytes than that).
pub fn parse_header(b: &[u8]) -> Parsed {
    let Some(b) = b.get(..FRAME_HEADER_LEN) else {
        return Parsed::Torn;
    };
    let u32_at = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    if &b[..4] != FRAME_MAGIC {
        return Parsed::Corrupt("no frame starts there");
    }
    if crc32fast::hash(&b[..28]) != u32_at(28) {
        return Parsed::Corrupt("its header's checksum is wrong");
    }
    let kind = match b[4] {
        1 => FrameKind::Full,
        2 => FrameKind::Delta,
        _ => return Parsed::Corrupt("unknown frame kind"),
    };
    let mut t = [0u8; 8];
    t.copy_from_slice(&b[8..16]);
    let (events_len, state_len) = (u32_at(16), u32_at(20));
    if events_len > MAX_BLOCK || state_len > MAX_BLOCK {
        return Parsed::Corrupt("its length is out of range");
    }
    Parsed::Frame(FrameHeader {
        kind,
        time_ms: i64::from_le_bytes(t),
        events_len,
        state_len,
        crc: u32_at(24),
    })
}

/// True when the frame's blocks match its checksum. `body` is the events then the state.
pub fn body_matches(h: &FrameHeader, header: &[u8], body: &[u8]) -> bool {
    let mut c = crc32fast::Hasher::new();
    c.update(&header[..24]);
    c.update(body);
    c.finalize() == h.crc
}

/// Compress a frame's state.
pub fn compress(json: &[u8]) -> std::io::Result<Vec<u8>> {
    zstd::bulk::compress(json, 3)
}

/// The most a state block may decompress to: a recording handed over by someone else cannot
/// make a reader allocate more (a full frame of 20,000 processes is about 17 MB of JSON).
pub const MAX_STATE_JSON: u64 = 256 << 20;

/// Decompress a frame's state, refusing more than [`MAX_STATE_JSON`] bytes.
pub fn decompress(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    zstd::stream::read::Decoder::new(bytes)?
        .take(MAX_STATE_JSON + 1)
        .read_to_end(&mut out)?;
    if out.len() as u64 > MAX_STATE_JSON {
        return Err(std::io::Error::other(format!(
            "the state decompresses to more than {} MiB",
            MAX_STATE_JSON >> 20
        )));
    }
    Ok(out)
}

/// Append `frame` with one write.
pub fn append(file: &mut std::fs::File, frame: &[u8]) -> std::io::Result<()> {
    file.write_all(frame)
}
