//! `--from PATH [--at TIME]`: the read commands (list, ps, cgroups, containers, show) on a
//! recording made by `nsview record` instead of the live host. The snapshot of the frame asked
//! for is printed by the same code, with the same keys, as a live one.

use crate::collect::{CollectOptions, Collector};
use crate::model::Snapshot;
use crate::record::{Recording, time};
use std::path::PathBuf;

/// The options every read command takes to read a recording.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "Reading a recording")]
pub struct FromArgs {
    /// Read a recording made by `nsview record` (a file with its rotated segments, or a
    /// directory of recordings) instead of the live host.
    #[arg(long, value_name = "PATH")]
    pub from: Option<PathBuf>,
    /// The state at TIME (the last frame taken at or before it): RFC 3339
    /// (2026-12-07T03:12:00Z), a time of day of the recording (03:12, 03:12:00), an offset from
    /// its end (-10m) or from its start (+5m). Default: the last frame.
    #[arg(
        long,
        value_name = "TIME",
        requires = "from",
        allow_hyphen_values = true
    )]
    pub at: Option<String>,
}

/// Where a read command's snapshot comes from: the host (collected with only what the command
/// prints) or a recording (the frame's snapshot, read once).
pub enum Source<'a> {
    Live(&'a mut Collector),
    Recorded(Option<Box<Snapshot>>),
}

impl Source<'_> {
    /// The snapshot to print: collected with `opts` from the host, or the recorded one.
    pub fn snapshot(&mut self, opts: CollectOptions) -> anyhow::Result<Snapshot> {
        match self {
            Source::Live(collector) => Ok(collector.collect(opts)?),
            Source::Recorded(snap) => snap
                .take()
                .map(|s| *s)
                .ok_or_else(|| anyhow::anyhow!("the recorded snapshot was already printed")),
        }
    }
}

/// The snapshot `args` name: the frame at `--at` (default: the last) of the recording at
/// `--from`. Problems found in the recording (a corrupted frame) are printed once, as warnings.
pub fn recorded_snapshot(path: &std::path::Path, at: Option<&str>) -> anyhow::Result<Snapshot> {
    let rec = Recording::open(path)?;
    let frame = match at {
        Some(spec) => time::frame_at(&rec, spec)?,
        None => rec.frames().len().saturating_sub(1),
    };
    super::warn(rec.warnings());
    Ok(rec.snapshot_at(frame)?)
}
