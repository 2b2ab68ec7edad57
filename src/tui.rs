//! The interactive terminal UI: terminal setup and restore, the event loop, and the threads that
//! feed it (input, signals, the poller that collects snapshots, the cgroup watcher).

mod journal_watch;
mod replay;

pub use replay::{ReplayOptions, run_replay};

use crate::app::{App, Cmd, Msg, Unchanged};
use crate::collect::{CollectOptions, Collector, RefreshStats};
use crate::model::Snapshot;
use crate::sys::Roots;
use crate::ui::{self, Theme};
use crossterm::event::{self, DisableMouseCapture, EnableMouseCapture, Event};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use notify::{EventKind, RecursiveMode, Watcher};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use std::collections::{HashMap, HashSet};
use std::io::{self, Stdout};
use std::ops::ControlFlow;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// How the TUI starts.
#[derive(Debug, Clone)]
pub struct Options {
    pub roots: Roots,
    pub interval: Duration,
    pub read_only: bool,
    pub mouse: bool,
    pub keymap: crate::app::keymap::Keymap,
    pub theme: Theme,
}

/// Puts the terminal back as it was: cooked mode, main screen, cursor, no mouse reporting.
/// Safe to call more than once (the panic hook and Drop may both run).
pub fn restore_terminal() {
    let _ = disable_raw_mode();
    let _ = execute!(
        io::stdout(),
        DisableMouseCapture,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
}

/// Restore the terminal before a panic's message is printed.
fn restore_terminal_on_panic() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore_terminal();
        previous(info);
    }));
}

/// Raw mode and the alternate screen for as long as it lives.
struct TerminalGuard;

impl TerminalGuard {
    fn enter(mouse: bool) -> io::Result<TerminalGuard> {
        enable_raw_mode()?;
        let guard = TerminalGuard;
        execute!(io::stdout(), EnterAlternateScreen, crossterm::cursor::Hide)?;
        if mouse {
            execute!(io::stdout(), EnableMouseCapture)?;
        }
        Ok(guard)
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal();
    }
}

/// Messages to the poller thread.
#[derive(Debug)]
enum Control {
    Interval(Duration),
    Now,
    CgroupsChanged,
    /// An entry was appended to the journal (a change by this or another nsview process).
    JournalChanged,
    /// A snapshot the UI no longer shows: its unchanged processes are reused by the next pass.
    Recycle(Box<Snapshot>),
    Quit,
}

/// Run the TUI until the user quits or a signal arrives.
pub fn run_live_view(opts: Options) -> anyhow::Result<()> {
    if !io::IsTerminal::is_terminal(&io::stdout()) {
        anyhow::bail!(
            "the interactive view needs a terminal; use a subcommand (list, ps, cgroups, show) for scripts"
        );
    }
    restore_terminal_on_panic();

    let is_root = nix::unistd::geteuid().is_root();
    let live = opts.roots.is_live();
    let mut app = App::new(opts.interval, opts.read_only, is_root, opts.keymap.clone());
    if !live {
        app.numeric_users();
    }

    let (tx, rx) = mpsc::channel::<Msg>();
    let signals = spawn_signals(tx.clone())?;
    let (ctrl, poller) = spawn_poller(opts.roots.clone(), opts.interval, tx.clone());

    let mut screen = Screen::new(tx, opts.mouse)?;
    let result = event_loop(&mut app, &opts, &rx, &ctrl, &mut screen);

    let _ = ctrl.send(Control::Quit);
    screen.suspend();
    signals.close();
    // The poller may be in the middle of a pass; it holds nothing that needs closing and ends
    // with the process, so quitting does not wait for it.
    drop(poller);
    result
}

/// The terminal while nsview owns it: raw mode, alternate screen and the input thread. It can
/// be handed to another program and taken back (the enter command, as gitui does around an
/// external editor).
struct Screen {
    guard: Option<TerminalGuard>,
    input: Option<(JoinHandle<()>, Arc<AtomicBool>)>,
    tx: Sender<Msg>,
    mouse: bool,
}

impl Screen {
    fn new(tx: Sender<Msg>, mouse: bool) -> io::Result<Screen> {
        let mut s = Screen {
            guard: None,
            input: None,
            tx,
            mouse,
        };
        s.resume()?;
        Ok(s)
    }

    /// Stop reading input and give the terminal back in its normal state.
    fn suspend(&mut self) {
        if let Some((handle, stop)) = self.input.take() {
            stop.store(true, Ordering::Relaxed);
            let _ = handle.join();
        }
        self.guard = None;
    }

    /// Take the terminal again and read input.
    fn resume(&mut self) -> io::Result<()> {
        if self.guard.is_none() {
            self.guard = Some(TerminalGuard::enter(self.mouse)?);
        }
        if self.input.is_none() {
            let stop = Arc::new(AtomicBool::new(false));
            let handle = spawn_input(self.tx.clone(), stop.clone());
            self.input = Some((handle, stop));
        }
        Ok(())
    }
}

type Term = Terminal<CrosstermBackend<Stdout>>;

/// Messages in, commands out, one draw after each batch; until a command says quit.
fn event_loop(
    app: &mut App,
    opts: &Options,
    rx: &Receiver<Msg>,
    ctrl: &Sender<Control>,
    screen: &mut Screen,
) -> anyhow::Result<()> {
    let theme = &opts.theme;
    let mut terminal = Terminal::new(CrosstermBackend::new(io::stdout()))?;
    terminal.clear()?;
    draw(&mut terminal, app, theme)?;
    while let Some(mut pending) = next_batch(rx) {
        for old in coalesce_refreshes(&mut pending) {
            let _ = ctrl.send(Control::Recycle(old));
        }
        for msg in pending {
            for cmd in app.update(msg) {
                if carry_out(cmd, app, opts, ctrl, screen, &mut terminal)?.is_break() {
                    return Ok(());
                }
            }
        }
        draw(&mut terminal, app, theme)?;
    }
    Ok(())
}

/// The next message and everything waiting behind it (handled before drawing once); None when
/// every sender is gone.
fn next_batch(rx: &Receiver<Msg>) -> Option<Vec<Msg>> {
    let first = rx.recv().ok()?;
    let mut pending = vec![first];
    while let Ok(m) = rx.try_recv() {
        pending.push(m);
        if pending.len() > 256 {
            break;
        }
    }
    Some(pending)
}

/// Of several snapshots waiting (the UI fell behind the poller: a slow terminal, a storm of
/// processes that changes every pass), only the last is shown: the others are taken out of
/// `pending` and returned (for the collector to recycle), and the last one's [`Unchanged`] says
/// unchanged only where none of them changed anything. The other messages stay, in order.
// Boxed as they came and as Control::Recycle takes them: no move, no new allocation.
#[allow(clippy::vec_box)]
fn coalesce_refreshes(pending: &mut Vec<Msg>) -> Vec<Box<Snapshot>> {
    let refreshes = pending
        .iter()
        .filter(|m| matches!(m, Msg::Refresh(..)))
        .count();
    if refreshes < 2 {
        return Vec::new();
    }
    let mut skipped = Vec::with_capacity(refreshes - 1);
    let mut same = Unchanged {
        processes: true,
        namespaces: true,
        containers: true,
    };
    let mut kept = Vec::with_capacity(pending.len() - skipped.capacity());
    for m in pending.drain(..) {
        match m {
            Msg::Refresh(snap, unchanged) => {
                same.processes &= unchanged.processes;
                same.namespaces &= unchanged.namespaces;
                same.containers &= unchanged.containers;
                if skipped.len() + 1 == refreshes {
                    kept.push(Msg::Refresh(snap, same));
                } else {
                    skipped.push(snap);
                }
            }
            other => kept.push(other),
        }
    }
    *pending = kept;
    skipped
}

/// Do what the app asked; Break on quit.
fn carry_out(
    cmd: Cmd,
    app: &App,
    opts: &Options,
    ctrl: &Sender<Control>,
    screen: &mut Screen,
    terminal: &mut Term,
) -> anyhow::Result<ControlFlow<()>> {
    match cmd {
        Cmd::Quit => return Ok(ControlFlow::Break(())),
        Cmd::SetInterval(d) => {
            let _ = ctrl.send(Control::Interval(d));
        }
        Cmd::RefreshNow => {
            let _ = ctrl.send(Control::Now);
        }
        Cmd::Redraw => terminal.clear()?,
        // The live view has no recording to move through.
        Cmd::ReplaySeek(_) => {}
        Cmd::Recycle(old) => {
            let _ = ctrl.send(Control::Recycle(old));
        }
        Cmd::Effect { id, req } => {
            // Writes (and the reads they start with) happen off the UI thread; the outcome
            // arrives as a message like any other, and the app renders it.
            let tx = screen.tx.clone();
            let roots = opts.roots.clone();
            let read_only = opts.read_only;
            std::thread::Builder::new()
                .name("nsview-effect".into())
                .spawn(move || {
                    let result = crate::effects::request::perform(req.clone(), &roots, read_only);
                    let _ = tx.send(Msg::Effect {
                        id,
                        op: req,
                        result: Box::new(result),
                    });
                })?;
        }
        Cmd::Enter(req) => {
            screen.suspend();
            ENTERING.store(true, Ordering::SeqCst);
            let outcome = run_enter(&app.snap, &req);
            ENTERING.store(false, Ordering::SeqCst);
            screen.resume()?;
            terminal.clear()?;
            let _ = screen.tx.send(Msg::EnterDone(outcome));
        }
    }
    Ok(ControlFlow::Continue(()))
}

/// Run an enter request on the plain terminal and say how it went, in one line. The user presses
/// Enter before nsview takes the screen back, so the command's output can be read.
fn run_enter(snap: &Snapshot, req: &crate::app::enter_form::EnterRequest) -> String {
    use crate::model::format::printable;
    use std::io::{BufRead, Write};
    let ns: Vec<&str> = req.ns.iter().map(|t| t.name()).collect();
    // The label and the outcome quote names the target chose: escaped on the plain terminal.
    println!(
        "nsview: entering {} ({}{})",
        printable(&req.label),
        if ns.is_empty() {
            "no namespaces".to_string()
        } else {
            ns.join(",")
        },
        if req.join_cgroups { ", cgroups" } else { "" }
    );
    use crate::effects::enter::{EnterOptions, EnterSpec};
    let opts = EnterOptions {
        types: Some(req.ns.clone()),
        join_cgroups: req.join_cgroups,
        command: req.command.clone(),
        ..EnterOptions::default()
    };
    let planned = EnterSpec::for_target(snap, &req.target, opts);
    let outcome = match planned.and_then(|spec| crate::effects::enter::run_inside(&spec)) {
        Ok(status) => match status.code() {
            Some(0) => format!("{}: exited with status 0", req.label),
            Some(c) => format!("{}: exited with status {c}", req.label),
            None => format!("{}: ended by a signal", req.label),
        },
        Err(e) => format!("cannot enter {}: {e}", req.label),
    };
    print!(
        "nsview: {}. Press Enter to return to nsview.",
        printable(&outcome)
    );
    let _ = io::stdout().flush();
    let mut line = String::new();
    let _ = io::stdin().lock().read_line(&mut line);
    outcome
}

fn draw(terminal: &mut Term, app: &mut App, theme: &Theme) -> io::Result<()> {
    let mut drawn = ui::Drawn::default();
    terminal.draw(|f| drawn = ui::draw(f, app, theme))?;
    drawn.apply_to(app);
    Ok(())
}

/// Terminal input on its own thread (crossterm's read blocks). It polls so that it can stop.
fn spawn_input(tx: Sender<Msg>, stop: Arc<AtomicBool>) -> JoinHandle<()> {
    thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            match event::poll(Duration::from_millis(100)) {
                Ok(true) => {
                    let msg = match event::read() {
                        Ok(Event::Key(k)) => Msg::Key(k),
                        Ok(Event::Mouse(m)) => Msg::Mouse(m),
                        Ok(Event::Resize(_, _)) => Msg::Resize,
                        Ok(_) => continue,
                        Err(_) => return,
                    };
                    if tx.send(msg).is_err() {
                        return;
                    }
                }
                Ok(false) => {}
                Err(_) => return,
            }
        }
    })
}

/// True while a command entered with `x` has the terminal.
static ENTERING: AtomicBool = AtomicBool::new(false);

/// SIGTERM, SIGHUP, SIGINT and SIGQUIT end the UI cleanly (the terminal is restored); while a
/// command entered with `x` has the terminal, its Ctrl-C and Ctrl-\ are for that command (enter
/// passes them on), not for nsview.
fn spawn_signals(tx: Sender<Msg>) -> io::Result<signal_hook::iterator::Handle> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGHUP, SIGINT, SIGQUIT])?;
    let handle = signals.handle();
    thread::spawn(move || {
        for sig in signals.forever() {
            if ENTERING.load(Ordering::SeqCst) && matches!(sig, SIGINT | SIGQUIT) {
                continue;
            }
            let _ = tx.send(Msg::Signal);
            break;
        }
    });
    Ok(handle)
}

/// The poller: collects at the interval, at once on request, and when the cgroup watcher sees a
/// cgroup created or removed. The UI thread never reads /proc or /sys itself.
fn spawn_poller(
    roots: Roots,
    interval: Duration,
    tx: Sender<Msg>,
) -> (Sender<Control>, JoinHandle<()>) {
    let (ctrl_tx, ctrl_rx) = mpsc::channel::<Control>();
    let watcher_tx = ctrl_tx.clone();
    let handle = thread::spawn(move || {
        Poller::new(roots, interval, tx, ctrl_rx, watcher_tx).poll_until_quit();
    });
    (ctrl_tx, handle)
}

/// The poller thread's state.
struct Poller {
    roots: Roots,
    collector: Collector,
    interval: Duration,
    /// Started after the first pass, which says where the hierarchies are mounted.
    watcher: Option<notify::RecommendedWatcher>,
    watcher_tx: Sender<Control>,
    /// Set by the watcher when it sends a change notice, cleared when the poller takes it: one
    /// notice in the channel however many events arrive.
    cgroup_notice: Arc<AtomicBool>,
    /// When the last pass for cgroup changes ran: a flood of events (a user's cgroup created and
    /// removed in a loop) triggers at most one pass per [`CGROUP_PASS_GAP`].
    last_cgroup_pass: Option<Instant>,
    /// None on a fixture tree: the host's names do not apply there.
    users: Option<UserNameLookup>,
    /// nsview's own changes, from any process: read again at once (None on a fixture tree).
    journal: Option<journal_watch::JournalWatch>,
    tx: Sender<Msg>,
    ctrl: Receiver<Control>,
}

impl Poller {
    fn new(
        roots: Roots,
        interval: Duration,
        tx: Sender<Msg>,
        ctrl: Receiver<Control>,
        watcher_tx: Sender<Control>,
    ) -> Poller {
        Poller {
            collector: Collector::new(roots.clone()),
            users: roots.is_live().then(UserNameLookup::default),
            journal: roots
                .is_live()
                .then(journal_watch::JournalWatch::new)
                .flatten(),
            roots,
            interval,
            watcher: None,
            watcher_tx,
            cgroup_notice: Arc::new(AtomicBool::new(false)),
            last_cgroup_pass: None,
            tx,
            ctrl,
        }
    }

    /// Collect, send, wait for the next pass; until the UI quits or goes away.
    fn poll_until_quit(mut self) {
        loop {
            let started = Instant::now();
            if self.collect_and_send().is_break() || self.wait_for_next(started).is_break() {
                return;
            }
        }
    }

    /// One pass, sent to the UI with the names of its new users; Break when the UI is gone.
    fn collect_and_send(&mut self) -> ControlFlow<()> {
        // Incremental: only what can have changed is read again (see Collector::refresh).
        let msgs = match self.collector.refresh(CollectOptions::ALL) {
            Ok(snap) => {
                if self.watcher.is_none() {
                    self.watcher = watch_cgroups(
                        &self.roots,
                        &snap,
                        self.watcher_tx.clone(),
                        self.cgroup_notice.clone(),
                    );
                }
                if let Some(j) = &mut self.journal {
                    j.ensure_watching(&self.watcher_tx);
                }
                let names = match &mut self.users {
                    Some(users) => users.names_new_in(&snap),
                    None => HashMap::new(),
                };
                // What it shares with the previous snapshot spares the UI rebuilding rows.
                let unchanged = unchanged_since_previous(&self.collector.last_refresh());
                let refresh = Msg::Refresh(Box::new(snap), unchanged);
                if names.is_empty() {
                    vec![refresh]
                } else {
                    vec![Msg::UserNames(names), refresh]
                }
            }
            Err(e) => vec![Msg::CollectError(e.to_string())],
        };
        for msg in msgs {
            if self.tx.send(msg).is_err() {
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    }

    /// Wait for the next tick, a request, or a cgroup change; Break on quit.
    fn wait_for_next(&mut self, started: Instant) -> ControlFlow<()> {
        let mut deadline = started + self.interval;
        // A cgroup change that came too soon after the last pass for one: its pass is due then.
        let mut cgroups_due: Option<Instant> = None;
        loop {
            let wake = cgroups_due.map_or(deadline, |due| due.min(deadline));
            let timeout = wake.saturating_duration_since(Instant::now());
            match self.ctrl.recv_timeout(timeout) {
                Ok(Control::Recycle(old)) => self.collector.recycle(*old),
                Ok(Control::Interval(d)) => {
                    self.interval = d;
                    deadline = started + d;
                }
                Ok(Control::Now) => {
                    // "Refresh now" (and the return from a command run with x) re-reads
                    // everything, not just what changed.
                    self.collector.invalidate();
                    return ControlFlow::Continue(());
                }
                Ok(Control::JournalChanged) => {
                    if self.journal_news() {
                        return ControlFlow::Continue(());
                    }
                }
                Ok(Control::CgroupsChanged) => {
                    let due = self
                        .last_cgroup_pass
                        .map_or_else(Instant::now, |last| last + CGROUP_PASS_GAP);
                    if due <= Instant::now() {
                        return self.gather_cgroup_changes();
                    }
                    cgroups_due = Some(due);
                }
                Ok(Control::Quit) | Err(RecvTimeoutError::Disconnected) => {
                    return ControlFlow::Break(());
                }
                Err(RecvTimeoutError::Timeout) if cgroups_due.is_some() => {
                    return self.gather_cgroup_changes();
                }
                Err(RecvTimeoutError::Timeout) => return ControlFlow::Continue(()),
            }
        }
    }

    /// New journal entries: the collector reads what they touched in the next pass. True when
    /// there was something (the pass is due now).
    fn journal_news(&mut self) -> bool {
        let Some(j) = &mut self.journal else {
            return false;
        };
        let (pids, cgroups) = j.news();
        if pids.is_empty() && cgroups.is_empty() {
            return false;
        }
        self.collector.reread_soon(&pids, &cgroups);
        true
    }

    /// A container start makes a burst of mkdirs: gather it into one pass.
    fn gather_cgroup_changes(&mut self) -> ControlFlow<()> {
        self.last_cgroup_pass = Some(Instant::now());
        for other in drain_for(&self.ctrl, Duration::from_millis(15)) {
            match other {
                Control::Recycle(old) => self.collector.recycle(*old),
                Control::Interval(d) => self.interval = d,
                Control::Now => self.collector.invalidate(),
                Control::Quit => return ControlFlow::Break(()),
                Control::JournalChanged => {
                    self.journal_news();
                }
                Control::CgroupsChanged => {}
            }
        }
        // Events from now on send a new notice (after the drain, which swallows notices: the
        // pass below reads what came before).
        self.cgroup_notice.store(false, Ordering::SeqCst);
        self.collector.cgroups_changed();
        ControlFlow::Continue(())
    }
}

/// What the collector's last refresh says is as in the snapshot before, in the app's terms.
pub fn unchanged_since_previous(stats: &RefreshStats) -> Unchanged {
    Unchanged {
        processes: stats.processes_same,
        namespaces: stats.namespaces_same,
        containers: stats.containers_same,
    }
}

/// User names of the uids the snapshots show, looked up in the passwd database (NSS, which may
/// ask a directory server) off the UI thread. Each uid is looked up once.
#[derive(Debug, Default)]
pub struct UserNameLookup {
    looked_up: HashSet<u32>,
}

impl UserNameLookup {
    /// The names of the uids of `snap`'s processes not looked up before (a uid the database
    /// does not know has none: it shows as its number).
    pub fn names_new_in(&mut self, snap: &Snapshot) -> HashMap<u32, String> {
        let mut names = HashMap::new();
        for p in snap.processes.values() {
            if self.looked_up.insert(p.uid)
                && let Some(name) = crate::sys::users::user_name(p.uid)
            {
                names.insert(p.uid, name);
            }
        }
        names
    }
}

/// The shortest time between two passes for cgroup changes (a flood of events gets at most
/// four passes a second; the interval's passes come as usual).
const CGROUP_PASS_GAP: Duration = Duration::from_millis(250);

/// Swallow further change notices for `d`; returns the other messages that came meanwhile.
fn drain_for(rx: &Receiver<Control>, d: Duration) -> Vec<Control> {
    let end = Instant::now() + d;
    let mut others = Vec::new();
    while let Ok(c) = rx.recv_timeout(end.saturating_duration_since(Instant::now())) {
        if !matches!(c, Control::CgroupsChanged) {
            others.push(c);
        }
    }
    others
}

/// Watch every cgroup hierarchy for directories created or removed (a container started or
/// stopped). Fails soft: without a watcher, changes appear at the next tick.
fn watch_cgroups(
    roots: &Roots,
    snap: &Snapshot,
    ctrl: Sender<Control>,
    notice: Arc<AtomicBool>,
) -> Option<notify::RecommendedWatcher> {
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        if let Ok(ev) = res
            && matches!(ev.kind, EventKind::Create(_) | EventKind::Remove(_))
            && !notice.swap(true, Ordering::SeqCst)
        {
            let _ = ctrl.send(Control::CgroupsChanged);
        }
    })
    .ok()?;
    for h in &snap.hierarchies {
        let dir = roots.mount_path(std::path::Path::new(&h.mount));
        let _ = watcher.watch(&dir, RecursiveMode::Recursive);
    }
    Some(watcher)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Snapshots that piled up behind a slow UI: only the last is shown, unchanged only where
    /// none changed, and the other messages stay in their order.
    #[test]
    fn only_the_last_of_the_waiting_snapshots_is_shown() {
        let refresh = |processes: bool| {
            let same = Unchanged {
                processes,
                namespaces: true,
                containers: true,
            };
            Msg::Refresh(Box::default(), same)
        };
        let mut pending = vec![
            refresh(false),
            Msg::Resize,
            refresh(true),
            Msg::Signal,
            refresh(true),
        ];
        let skipped = coalesce_refreshes(&mut pending);
        assert_eq!(skipped.len(), 2);
        assert!(matches!(
            pending.as_slice(),
            [
                Msg::Resize,
                Msg::Signal,
                Msg::Refresh(
                    _,
                    Unchanged {
                        processes: false,
                        namespaces: true,
                        containers: true
                    }
                )
            ]
        ));
        let mut one = vec![refresh(true), Msg::Resize];
        assert!(coalesce_refreshes(&mut one).is_empty());
        assert_eq!(one.len(), 2);
    }

    /// A flood of cgroup change notices (what a user creating and removing a cgroup in a loop
    /// makes) for one second: a few passes, not one per notice.
    #[test]
    fn a_flood_of_cgroup_events_makes_a_few_passes_a_second() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (tx, rx) = mpsc::channel::<Msg>();
        let (ctrl_tx, handle) = spawn_poller(Roots::under(dir.path()), Duration::from_secs(60), tx);
        // The first pass.
        assert!(rx.recv_timeout(Duration::from_secs(10)).is_ok());
        while rx.try_recv().is_ok() {}
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(1) {
            let _ = ctrl_tx.send(Control::CgroupsChanged);
            thread::sleep(Duration::from_millis(1));
        }
        let _ = ctrl_tx.send(Control::Quit);
        let _ = handle.join();
        let passes = rx
            .try_iter()
            .filter(|m| matches!(m, Msg::Refresh(..) | Msg::CollectError(_)))
            .count();
        assert!((1..=6).contains(&passes), "{passes} passes in one second");
    }
}
