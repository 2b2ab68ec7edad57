//! `nsview record`: sample the whole model every interval into a recording (see
//! [`crate::record`]), with the incremental collector of the live view.

mod cgroup_watch;
mod info;
mod journal_tail;

use crate::collect::{CollectOptions, Collector};
use crate::model::Snapshot;
use crate::record::Writer;
use crate::sys::Roots;
use anyhow::Context;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};

/// The recording file in a directory given as --output (and in the default directory).
pub const FILE_NAME: &str = "nsview.nsrec";

#[derive(Debug, clap::Args)]
pub struct RecordArgs {
    /// How often to sample: seconds or a duration (5, 500ms, 1m; 0.2 s to 60 s).
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_interval)]
    pub interval: Duration,
    /// The recording file, or a directory to record into (as nsview.nsrec). Default: the
    /// recordings directory under nsview's state directory (/var/lib/nsview/recordings as root).
    /// An existing recording is appended to.
    #[arg(long, short = 'o', value_name = "PATH")]
    pub output: Option<PathBuf>,
    /// Stop after this long (1h, 30m, 90s); default: until interrupted (Ctrl-C, SIGTERM).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// Keep the recording under SIZE in all (100M, 1G, bytes; at least 1M): the file is rotated
    /// into numbered segments PATH.1 to PATH.3, the oldest dropped. Default: no limit.
    #[arg(long, value_name = "SIZE", value_parser = parse_max_size)]
    pub max_size: Option<u64>,
    /// Print what the recording at PATH holds (its span, frames, size, interval, events by
    /// kind, segments and warnings) instead of recording.
    #[arg(
        long,
        value_name = "PATH",
        conflicts_with_all = ["interval", "output", "duration", "max_size"]
    )]
    pub info: Option<PathBuf>,
    /// With --info: print JSON.
    #[arg(long, requires = "info")]
    pub json: bool,
}

/// The smallest `--max-size`: a quarter of it must hold several full frames of a busy host.
pub const MIN_MAX_SIZE: u64 = 1 << 20;

fn parse_max_size(s: &str) -> Result<u64, String> {
    match crate::policy::limits::parse_size(s) {
        Some(Some(bytes)) if bytes >= MIN_MAX_SIZE => Ok(bytes),
        Some(Some(_)) => Err(format!("'{s}' is too small: at least 1M")),
        _ => Err(format!(
            "'{s}' is not a size such as 100M, 1G or a number of bytes"
        )),
    }
}

fn parse_interval(s: &str) -> Result<Duration, String> {
    use crate::app::config::{IntervalError, parse_interval};
    parse_interval(s).map_err(|e| match e {
        IntervalError::NotADuration => {
            format!("'{s}' is not a number of seconds or a duration such as 500ms or 5s")
        }
        IntervalError::OutOfRange => {
            format!("the interval must be between 0.2 and 60 seconds, got {s}")
        }
    })
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    match s.trim().parse::<f64>() {
        Ok(secs) if secs.is_finite() && secs > 0.0 => Ok(Duration::from_secs_f64(secs)),
        _ => humantime::parse_duration(s.trim())
            .ok()
            .filter(|d| !d.is_zero())
            .ok_or_else(|| format!("'{s}' is not a duration such as 90s, 30m or 1h")),
    }
}

/// Where the recording goes: `--output` (a directory gets nsview.nsrec), else the default.
fn output_path(output: Option<&Path>) -> anyhow::Result<PathBuf> {
    let dir = match output {
        Some(p) if !p.is_dir() && !p.as_os_str().to_string_lossy().ends_with('/') => {
            return Ok(p.to_path_buf());
        }
        Some(dir) => dir.to_path_buf(),
        None => crate::effects::journal::Journal::default_location()
            .context("no place for recordings: give --output")?
            .dir()
            .join("recordings"),
    };
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o750)
        .create(&dir)
        .with_context(|| format!("{}: cannot create the directory", dir.display()))?;
    Ok(dir.join(FILE_NAME))
}

use std::os::unix::fs::DirBuilderExt;

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// `--info PATH`: what the recording holds, as text or JSON.
fn print_info(path: &Path, json: bool) -> anyhow::Result<()> {
    let rec = crate::record::Recording::open(path)?;
    let info = info::RecordingInfo::of(path, &rec);
    let mut out = std::io::stdout().lock();
    if json {
        super::json::write_pretty(&mut out, &info)?;
    } else {
        info.write_text(&mut out)?;
    }
    Ok(out.flush()?)
}

/// Record until interrupted or `--duration` has passed (or, with `--info`, describe a
/// recording).
pub fn record(args: RecordArgs, roots: Roots) -> anyhow::Result<()> {
    if let Some(path) = &args.info {
        return print_info(path, args.json);
    }
    let path = output_path(args.output.as_deref())?;
    let interval_ms = args.interval.as_millis().min(u128::from(u32::MAX)) as u32;
    let mut writer = Writer::open(&path, interval_ms)?;
    if let Some(max) = args.max_size {
        writer.rotate_at(max);
    }
    if let Some(note) = writer.repaired.take() {
        eprintln!("{}", crate::model::format::printable(&note));
    }
    let (tx, stop) = mpsc::channel::<()>();
    let mut signals = signal_hook::iterator::Signals::new([
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
    ])?;
    let handle = signals.handle();
    std::thread::spawn(move || {
        if signals.forever().next().is_some() {
            let _ = tx.send(());
        }
    });
    eprintln!(
        "recording to {} every {} (Ctrl-C to stop)",
        crate::model::format::printable(&path.display().to_string()),
        humantime::format_duration(args.interval)
    );
    let result = sample_until_stopped(&args, roots, &mut writer, &stop);
    handle.close();
    writer.sync()?;
    let frames = result?;
    eprintln!(
        "recorded {frames} frames; {} is {} bytes",
        crate::model::format::printable(&path.display().to_string()),
        writer.size()
    );
    Ok(())
}

/// The sampling loop: one frame per interval; returns the number of frames written.
fn sample_until_stopped(
    args: &RecordArgs,
    roots: Roots,
    writer: &mut Writer,
    stop: &mpsc::Receiver<()>,
) -> anyhow::Result<u64> {
    let mut collector = Collector::new(roots.clone());
    collector.read_runtime_records(true);
    collector.recognise_containers(true);
    let mut journal = journal_tail::JournalTail::start();
    let mut cgroups: Option<cgroup_watch::CgroupWatch> = None;
    let started = Instant::now();
    let mut prev: Option<Snapshot> = None;
    let mut frames = 0u64;
    loop {
        let tick = Instant::now();
        // What changed that the collector's rolling turns would see only later: cgroups
        // written or processes moved through nsview, cgroups created or removed.
        let news = journal.news();
        collector.reread_soon(&news.pids, &news.cgroups);
        if cgroups.as_ref().is_some_and(|w| w.take_changed()) {
            collector.cgroups_changed();
        }
        let snap = collector.refresh(CollectOptions::ALL)?;
        if cgroups.is_none() {
            cgroups = Some(cgroup_watch::CgroupWatch::start(&roots, &snap));
        }
        let same = collector.last_refresh().processes_same;
        let (kind, _) = writer.write(now_ms(), &snap, prev.as_ref(), same, news.events)?;
        if kind == crate::record::file::FrameKind::Full {
            writer.sync()?;
        }
        frames += 1;
        if let Some(old) = prev.replace(snap) {
            collector.recycle(old);
        }
        let mut next = tick + args.interval;
        if let Some(d) = args.duration {
            if started.elapsed() >= d {
                return Ok(frames);
            }
            next = next.min(started + d);
        }
        match stop.recv_timeout(next.saturating_duration_since(Instant::now())) {
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            _ => return Ok(frames),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_size_in_units_and_bytes() {
        assert_eq!(parse_max_size("100M"), Ok(100 << 20));
        assert_eq!(parse_max_size("1G"), Ok(1 << 30));
        assert_eq!(parse_max_size("1.5g"), Ok(3 << 29));
        assert_eq!(parse_max_size("2097152"), Ok(2 << 20));
        assert_eq!(parse_max_size("1M"), Ok(MIN_MAX_SIZE));
        assert!(parse_max_size("512K").unwrap_err().contains("at least 1M"));
        for bad in ["", "max", "-1", "10X", "M", "lots"] {
            assert!(
                parse_max_size(bad).unwrap_err().contains("not a size"),
                "{bad}"
            );
        }
    }
}
