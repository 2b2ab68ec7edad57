//! `nsview record --info PATH [--json]`: what a recording holds.

use crate::model::format::{human_bytes, printable};
use crate::record::{Recording, time};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

/// The summary `--info` prints (its JSON keys).
#[derive(Debug, Serialize)]
pub struct RecordingInfo {
    pub path: String,
    /// The files read, oldest first.
    pub segments: Vec<SegmentInfo>,
    /// First and last frame, RFC 3339 (UTC) and ms since the epoch.
    pub start: String,
    pub end: String,
    pub start_ms: i64,
    pub end_ms: i64,
    pub duration_ms: i64,
    pub frames: usize,
    pub full_frames: usize,
    pub delta_frames: usize,
    /// The files' size on disk.
    pub bytes: u64,
    /// The sampling interval the (newest) recorder was started with.
    pub interval_ms: u32,
    /// Events on the timeline by kind (container-started, limit-changed, change, ...).
    pub events: BTreeMap<&'static str, usize>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct SegmentInfo {
    pub path: String,
    pub frames: usize,
    pub bytes: u64,
}

impl RecordingInfo {
    pub fn of(path: &Path, rec: &Recording) -> RecordingInfo {
        let frames = rec.frames();
        let segments: Vec<SegmentInfo> = rec
            .segments()
            .enumerate()
            .map(|(i, p)| SegmentInfo {
                path: p.display().to_string(),
                frames: frames.iter().filter(|f| f.segment == i).count(),
                bytes: std::fs::metadata(p).map_or(0, |m| m.len()),
            })
            .collect();
        let mut events = BTreeMap::new();
        for e in frames.iter().flat_map(|f| &f.events) {
            *events.entry(e.kind.name()).or_insert(0) += 1;
        }
        let start_ms = frames.first().map_or(0, |f| f.time_ms);
        let end_ms = frames.last().map_or(0, |f| f.time_ms);
        let full_frames = frames.iter().filter(|f| f.full).count();
        RecordingInfo {
            path: path.display().to_string(),
            bytes: segments.iter().map(|s| s.bytes).sum(),
            segments,
            start: rfc3339(start_ms),
            end: rfc3339(end_ms),
            start_ms,
            end_ms,
            duration_ms: end_ms - start_ms,
            frames: frames.len(),
            full_frames,
            delta_frames: frames.len() - full_frames,
            interval_ms: rec.interval_ms(),
            events,
            warnings: rec.warnings().to_vec(),
        }
    }

    /// The summary as text, one fact a line.
    pub fn write_text(&self, out: &mut impl Write) -> std::io::Result<()> {
        let ms = |v: i64| std::time::Duration::from_millis(v.max(0) as u64);
        let rows = [
            ("recording", self.path.clone()),
            (
                "span",
                format!(
                    "{} to {} ({})",
                    time::show(self.start_ms),
                    time::show(self.end_ms),
                    humantime::format_duration(ms(self.duration_ms / 1000 * 1000))
                ),
            ),
            (
                "frames",
                format!(
                    "{} ({} full, {} delta)",
                    self.frames, self.full_frames, self.delta_frames
                ),
            ),
            (
                "size",
                format!("{} bytes ({})", self.bytes, human_bytes(self.bytes)),
            ),
            (
                "interval",
                humantime::format_duration(ms(i64::from(self.interval_ms))).to_string(),
            ),
            ("events", self.events_text()),
        ];
        for (name, value) in rows {
            writeln!(out, "{name:<10} {}", printable(&value))?;
        }
        for s in &self.segments {
            writeln!(
                out,
                "segment    {} ({} frames, {} bytes)",
                printable(&s.path),
                s.frames,
                s.bytes
            )?;
        }
        for w in &self.warnings {
            writeln!(out, "warning    {}", printable(w))?;
        }
        Ok(())
    }

    fn events_text(&self) -> String {
        if self.events.is_empty() {
            return "none".into();
        }
        self.events
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn rfc3339(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).map_or_else(|_| ms.to_string(), |t| t.to_string())
}
