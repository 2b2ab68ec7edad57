//! `nsview record`: sample the whole model every interval into a recording (see
//! [`crate::record`]), with the incremental collector of the live view.

use crate::collect::{CollectOptions, Collector};
use crate::model::Snapshot;
use crate::record::Writer;
use crate::sys::Roots;
use anyhow::Context;
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

/// Record until interrupted or `--duration` has passed.
pub fn record(args: RecordArgs, roots: Roots) -> anyhow::Result<()> {
    let path = output_path(args.output.as_deref())?;
    let interval_ms = args.interval.as_millis().min(u128::from(u32::MAX)) as u32;
    let mut writer = Writer::open(&path, interval_ms)?;
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
    let mut collector = Collector::new(roots);
    collector.read_runtime_records(true);
    collector.recognise_containers(true);
    let started = Instant::now();
    let mut prev: Option<Snapshot> = None;
    let mut frames = 0u64;
    loop {
        let tick = Instant::now();
        let snap = collector.refresh(CollectOptions::ALL)?;
        let same = collector.last_refresh().processes_same;
        let (kind, _) = writer.write(now_ms(), &snap, prev.as_ref(), same, Vec::new())?;
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
