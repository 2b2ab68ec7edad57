//! `nsview replay PATH`: the TUI on a recording. The replay thread owns the [`Recording`] and
//! decodes frames off the UI thread when the cursor moves (no refresh timer); the app shows
//! what it sends as it shows the poller's snapshots, with changes and enter refused.
//!
//! The sparklines' series come from the same thread: the numbers of each frame in a window
//! around the cursor ([`WINDOW_BEFORE`] frames before it, [`WINDOW_AFTER`] after), kept for a
//! few windows around it and forgotten beyond, so memory does not grow with the recording.

use super::{Screen, UserNameLookup, draw, next_batch, restore_terminal_on_panic, spawn_signals};
use crate::app::keymap::Keymap;
use crate::app::replay::{Mark, ReplayFrame, ReplayView, Seek};
use crate::app::rows::CpuMap;
use crate::app::{App, Cmd, History, Msg};
use crate::model::CgValue;
use crate::record::{KEYFRAME_EVERY, RecordError, Recording, State, time};
use crate::ui::Theme;
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io;
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread;
use std::time::Duration;

/// Frames of a sparkline before the cursor's, and after it.
pub const WINDOW_BEFORE: usize = 89;
pub const WINDOW_AFTER: usize = 30;
/// Frames whose numbers are kept: this far from the cursor either way.
const KEEP: usize = 3 * (WINDOW_BEFORE + WINDOW_AFTER + 1);

/// How the replay starts.
#[derive(Debug, Clone)]
pub struct ReplayOptions {
    pub path: PathBuf,
    /// The first frame shown (record::time::frame_at); default the last frame.
    pub at: Option<String>,
    pub mouse: bool,
    pub keymap: Keymap,
    pub theme: Theme,
}

/// Open the recording, then show it until the user quits or a signal arrives. A path that is
/// not a recording, or an `--at` that names no frame, fails before the screen is touched.
pub fn run_replay(opts: ReplayOptions) -> anyhow::Result<()> {
    let rec = Recording::open(&opts.path)?;
    let last = rec.frames().len().saturating_sub(1);
    let start = match &opts.at {
        Some(at) => time::frame_at(&rec, at)?,
        None => last,
    };
    if !io::IsTerminal::is_terminal(&io::stdout()) {
        anyhow::bail!(
            "the replay needs a terminal; the read commands' --from {} print a recording's state",
            opts.path.display()
        );
    }
    restore_terminal_on_panic();
    let interval = Duration::from_millis(u64::from(rec.interval_ms().max(1)));
    let is_root = nix::unistd::geteuid().is_root();
    let mut app = App::new(interval, true, is_root, opts.keymap.clone());
    app.start_replay(replay_view(&opts.path, &rec, start));
    // A corrupted frame cut the recording short: said at once.
    if let Some(w) = rec.warnings().first() {
        app.status = Some(w.clone());
    }

    let (tx, rx) = mpsc::channel::<Msg>();
    let signals = spawn_signals(tx.clone())?;
    let seeks = spawn_replayer(rec, tx.clone());
    let _ = seeks.send(Seek::Frame(start));
    let mut screen = Screen::new(tx, opts.mouse)?;
    let result = replay_loop(&mut app, &opts.theme, &rx, &seeks);
    screen.suspend();
    signals.close();
    // The replay thread ends when `seeks` is dropped (it may be decoding: not waited for).
    result
}

/// The app's view of a recording: its name, frame times and events.
pub fn replay_view(path: &std::path::Path, rec: &Recording, cursor: usize) -> ReplayView {
    let label = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let times = rec.frames().iter().map(|f| f.time_ms).collect();
    let marks = rec
        .frames()
        .iter()
        .enumerate()
        .flat_map(|(frame, f)| {
            f.events.iter().map(move |e| Mark {
                frame,
                event: e.clone(),
            })
        })
        .collect();
    ReplayView::new(label, times, marks, cursor)
}

/// Messages in, one draw after each batch; seeks go to the replay thread.
fn replay_loop(
    app: &mut App,
    theme: &Theme,
    rx: &Receiver<Msg>,
    seeks: &Sender<Seek>,
) -> anyhow::Result<()> {
    let mut terminal = Terminal::new(CrosstermBackend::new(io::stdout()))?;
    terminal.clear()?;
    draw(&mut terminal, app, theme)?;
    while let Some(mut pending) = next_batch(rx) {
        only_the_last_frame(&mut pending);
        for msg in pending {
            for cmd in app.update(msg) {
                match cmd {
                    Cmd::Quit => return Ok(()),
                    Cmd::Redraw => terminal.clear()?,
                    Cmd::ReplaySeek(s) => {
                        let _ = seeks.send(s);
                    }
                    // A replay refreshes nothing, and refuses changes and enter before they
                    // become commands.
                    Cmd::SetInterval(_)
                    | Cmd::RefreshNow
                    | Cmd::Recycle(_)
                    | Cmd::Effect { .. }
                    | Cmd::Enter(_) => {}
                }
            }
        }
        draw(&mut terminal, app, theme)?;
    }
    Ok(())
}

/// Of several decoded frames waiting, only the newest is shown.
fn only_the_last_frame(pending: &mut Vec<Msg>) {
    let Some(last) = pending
        .iter()
        .rposition(|m| matches!(m, Msg::ReplayFrame(_)))
    else {
        return;
    };
    let mut i = 0;
    pending.retain(|m| {
        let keep = i >= last || !matches!(m, Msg::ReplayFrame(_));
        i += 1;
        keep
    });
}

/// Start the replay thread; it serves seeks until the returned sender is dropped.
fn spawn_replayer(rec: Recording, tx: Sender<Msg>) -> Sender<Seek> {
    let (seek_tx, seek_rx) = mpsc::channel::<Seek>();
    thread::spawn(move || Replayer::new(rec, tx).serve(&seek_rx));
    seek_tx
}

/// The numbers of one cgroup in one frame that the sparklines draw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sample {
    /// memory.usage_in_bytes (v1) or memory.current (v2).
    pub mem: Option<u64>,
    /// cpuacct.usage (v1) or cpu.stat usage_usec (v2), in ns.
    pub cpu_ns: Option<u64>,
    /// pids.current.
    pub pids: Option<u64>,
}

/// Cgroups by number, so that a frame's numbers hold no strings.
#[derive(Debug, Default)]
pub struct CgroupIds {
    ids: HashMap<(String, String), u32>,
    keys: Vec<(String, String)>,
}

impl CgroupIds {
    fn id(&mut self, hierarchy: &str, path: &str) -> u32 {
        let key = (hierarchy.to_string(), path.to_string());
        if let Some(id) = self.ids.get(&key) {
            return *id;
        }
        let id = self.keys.len() as u32;
        self.keys.push(key.clone());
        self.ids.insert(key, id);
        id
    }

    fn key(&self, id: u32) -> Option<&(String, String)> {
        self.keys.get(id as usize)
    }
}

/// One frame's numbers: (cgroup id, sample), sorted by id.
pub type FrameNumbers = Vec<(u32, Sample)>;

/// The numbers of every cgroup of `state` that has any.
pub fn numbers_of(state: &State, ids: &mut CgroupIds) -> FrameNumbers {
    let int = |usage: &BTreeMap<String, CgValue>, file: &str| match usage.get(file) {
        Some(CgValue::Int(i)) => u64::try_from(*i).ok(),
        _ => None,
    };
    let mut out: FrameNumbers = state
        .cgroups
        .iter()
        .filter_map(|c| {
            let u = &c.usage;
            // As model::format::memory_of and model::rates::cpu_usage_ns read a Cgroup.
            let cpu_ns = int(u, "cpuacct.usage").or_else(|| match u.get("cpu.stat") {
                Some(CgValue::Map(m)) => m
                    .get("usage_usec")
                    .and_then(|us| u64::try_from(*us).ok())
                    .map(|us| us.saturating_mul(1000)),
                _ => None,
            });
            let s = Sample {
                mem: int(u, "memory.usage_in_bytes").or_else(|| int(u, "memory.current")),
                cpu_ns,
                pids: int(u, "pids.current"),
            };
            (s != Sample::default()).then(|| (ids.id(&c.hierarchy, &c.path), s))
        })
        .collect();
    out.sort_unstable_by_key(|(id, _)| *id);
    out
}

fn sample(numbers: Option<&FrameNumbers>, id: u32) -> Option<Sample> {
    let n = numbers?;
    n.binary_search_by_key(&id, |(i, _)| *i)
        .ok()
        .map(|at| n[at].1)
}

/// CPU% of a cgroup between two frames (100 = one core); None when either misses its counter,
/// the counter went back (a new cgroup at the same path) or no time passed.
fn cpu_rate(before: Option<Sample>, now: Option<Sample>, dt_ms: i64) -> Option<f64> {
    let used = now?.cpu_ns?.checked_sub(before?.cpu_ns?)?;
    (dt_ms > 0).then(|| used as f64 / (dt_ms as f64 * 1e6) * 100.0)
}

/// The replay thread's state.
struct Replayer {
    rec: Recording,
    /// The state at frame `at`, the frame on screen (None: decode it afresh).
    state: State,
    at: Option<usize>,
    /// A second state that walks the window's frames for their numbers.
    walker: Option<(usize, State)>,
    numbers: BTreeMap<usize, FrameNumbers>,
    ids: CgroupIds,
    users: UserNameLookup,
    tx: Sender<Msg>,
}

impl Replayer {
    fn new(rec: Recording, tx: Sender<Msg>) -> Replayer {
        Replayer {
            rec,
            state: State::default(),
            at: None,
            walker: None,
            numbers: BTreeMap::new(),
            ids: CgroupIds::default(),
            users: UserNameLookup::default(),
            tx,
        }
    }

    /// Serve seeks until the UI goes away. Keys held down queue seeks faster than frames
    /// decode: only the newest is served.
    fn serve(mut self, rx: &Receiver<Seek>) {
        while let Ok(mut seek) = rx.recv() {
            while let Ok(next) = rx.try_recv() {
                seek = next;
            }
            let msgs = self.seek(seek);
            for m in msgs {
                if self.tx.send(m).is_err() {
                    return;
                }
            }
        }
    }

    /// The messages that answer one seek.
    fn seek(&mut self, seek: Seek) -> Vec<Msg> {
        let mut out = Vec::new();
        let frame = match seek {
            Seek::Frame(i) => i.min(self.rec.frames().len().saturating_sub(1)),
            Seek::Time(text) => match time::frame_at(&self.rec, &text) {
                Ok(i) => {
                    out.push(Msg::ReplayCursor(i));
                    i
                }
                Err(e) => return vec![Msg::ReplayError(e.to_string())],
            },
        };
        match self.frame(frame) {
            Ok(f) => {
                let names = self.users.names_new_in(&f.snap);
                if !names.is_empty() {
                    out.push(Msg::UserNames(names));
                }
                out.push(Msg::ReplayFrame(Box::new(f)));
            }
            Err(e) => {
                // Decode from the full frame before the next one asked for.
                self.at = None;
                self.walker = None;
                out.push(Msg::ReplayError(e.to_string()));
            }
        }
        out
    }

    /// Frame `i` decoded, with its CPU% and the series around it.
    fn frame(&mut self, i: usize) -> Result<ReplayFrame, RecordError> {
        match self.at {
            Some(at) => self.rec.step(&mut self.state, at, i)?,
            None => self.state = self.rec.state_at(i)?,
        }
        self.at = Some(i);
        let snap = self.state.to_snapshot(None);
        if !self.numbers.contains_key(&i) {
            let n = numbers_of(&self.state, &mut self.ids);
            self.numbers.insert(i, n);
        }
        let last = self.rec.frames().len().saturating_sub(1);
        let lo = i.saturating_sub(WINDOW_BEFORE);
        let hi = (i + WINDOW_AFTER).min(last);
        // The frame before the window too: the first sample's CPU% is against it.
        self.fill(lo.saturating_sub(1), hi)?;
        self.numbers
            .retain(|k, _| *k + KEEP >= i && *k <= i.saturating_add(KEEP));
        let (cpu, history) = self.series(i, lo, hi);
        Ok(ReplayFrame {
            frame: i,
            snap,
            cpu,
            history,
        })
    }

    /// Numbers for every frame in `a..=b` not known yet, walking forward with the walker.
    fn fill(&mut self, a: usize, b: usize) -> Result<(), RecordError> {
        for k in a..=b {
            if self.numbers.contains_key(&k) {
                continue;
            }
            let walker = match self.walker.take() {
                // Forward from the walker unless that is longer than decoding from a full frame.
                Some((w, mut s)) if w < k && k - w <= KEYFRAME_EVERY as usize => {
                    self.rec.step(&mut s, w, k)?;
                    s
                }
                // Just after the frame on screen: from its state, without decoding it again.
                _ if k > 0 && self.at == Some(k - 1) => {
                    let mut s = self.state.clone();
                    self.rec.step(&mut s, k - 1, k)?;
                    s
                }
                _ => self.rec.state_at(k)?,
            };
            let n = numbers_of(&walker, &mut self.ids);
            self.numbers.insert(k, n);
            self.walker = Some((k, walker));
        }
        Ok(())
    }

    /// CPU% at frame `i`, and the series of frames `lo..=hi` of every cgroup of frame `i`.
    fn series(&self, i: usize, lo: usize, hi: usize) -> (CpuMap, History) {
        let times: Vec<i64> = self.rec.frames().iter().map(|f| f.time_ms).collect();
        let at = |k: usize| self.numbers.get(&k);
        let dt = |k: usize| {
            k.checked_sub(1)
                .map_or(0, |p| times.get(k).copied().unwrap_or(0) - times[p])
        };
        let prev = |k: usize| k.checked_sub(1).and_then(&at);
        let mut cpu = CpuMap::new();
        let mut h = History {
            cursor: Some(i - lo),
            ..History::default()
        };
        let Some(now) = at(i) else {
            return (cpu, h);
        };
        for (id, s) in now {
            let Some(key) = self.ids.key(*id) else {
                continue;
            };
            if let Some(rate) = cpu_rate(sample(prev(i), *id), Some(*s), dt(i)) {
                cpu.insert(key.clone(), rate);
            }
            let series = |f: &dyn Fn(usize) -> Option<u64>| -> VecDeque<u64> {
                (lo..=hi).map(|k| f(k).unwrap_or(0)).collect()
            };
            if s.mem.is_some() {
                let v = series(&|k| sample(at(k), *id)?.mem);
                h.mem.insert(key.clone(), v);
            }
            if s.pids.is_some() {
                let v = series(&|k| sample(at(k), *id)?.pids);
                h.pids.insert(key.clone(), v);
            }
            if s.cpu_ns.is_some() {
                // Tenths of a percent, as the live view's.
                let v = series(&|k| {
                    let r = cpu_rate(sample(prev(k), *id), sample(at(k), *id), dt(k))?;
                    Some((r * 10.0).round().max(0.0) as u64)
                });
                h.cpu.insert(key.clone(), v);
            }
        }
        (cpu, h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_rate_between_frames() {
        let s = |ns: u64| {
            Some(Sample {
                cpu_ns: Some(ns),
                ..Sample::default()
            })
        };
        // Half a second of CPU in one second: 50 %.
        assert_eq!(
            cpu_rate(s(1_000_000_000), s(1_500_000_000), 1000),
            Some(50.0)
        );
        assert_eq!(cpu_rate(s(2), s(1), 1000), None);
        assert_eq!(cpu_rate(s(1), s(2), 0), None);
        assert_eq!(cpu_rate(None, s(2), 1000), None);
    }

    #[test]
    fn only_the_newest_decoded_frame_is_shown() {
        let frame = |i: usize| {
            Msg::ReplayFrame(Box::new(ReplayFrame {
                frame: i,
                snap: Default::default(),
                cpu: CpuMap::new(),
                history: History::default(),
            }))
        };
        let mut pending = vec![
            frame(1),
            Msg::Resize,
            frame(2),
            Msg::ReplayCursor(3),
            frame(3),
        ];
        only_the_last_frame(&mut pending);
        assert!(matches!(
            pending.as_slice(),
            [Msg::Resize, Msg::ReplayCursor(3), Msg::ReplayFrame(f)] if f.frame == 3
        ));
    }
}
