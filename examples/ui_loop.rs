//! Benchmark (not a test): what the live view's UI thread spends per snapshot.
//!
//!     cargo run --release --example ui_loop -- [--seconds 30] [--view 1|2|3|4] [--size 120x40]
//!                                              [--filter TEXT] [--quiet]
//!
//! Does what the interactive view does once a second, on the real host (run it as root on the
//! benchmark population, `scripts/bench-population.sh up`): a `Collector::refresh` (as the
//! poller thread does), then `App::update` with the snapshot and a draw of the whole screen into
//! a terminal whose output is thrown away (ratatui's diffing and escape sequences included), the
//! replaced snapshot given back to `Collector::recycle`. The UI's part is timed on this thread's
//! own CPU clock (CLOCK_THREAD_CPUTIME_ID) around update and around draw, apart from the
//! collector's, which is timed on the process's clock (its reader threads included). The first
//! pass (everything read, the rows built for the first time) is counted apart.

use nsview::app::keymap::{Action, Keymap};
use nsview::app::{App, Cmd, Msg};
use nsview::collect::{CollectOptions, Collector};
use nsview::sys::Roots;
use nsview::tui::{self, UserNameLookup};
use nsview::ui::{self, Theme};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use std::error::Error;
use std::time::{Duration, Instant};

struct Args {
    seconds: f64,
    view: u8,
    width: u16,
    height: u16,
    filter: Option<String>,
    quiet: bool,
}

fn parse_args() -> Result<Args, Box<dyn Error>> {
    let mut args = Args {
        seconds: 30.0,
        view: 1,
        width: 120,
        height: 40,
        filter: None,
        quiet: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--seconds" => args.seconds = value()?.parse()?,
            "--view" => args.view = value()?.parse()?,
            "--size" => {
                let v = value()?;
                let (w, h) = v.split_once('x').ok_or("--size WIDTHxHEIGHT")?;
                args.width = w.parse()?;
                args.height = h.parse()?;
            }
            "--filter" => args.filter = Some(value()?),
            "--quiet" => args.quiet = true,
            "-h" | "--help" => {
                println!(
                    "usage: ui_loop [--seconds 30] [--view 1|2|3|4] [--size 120x40] [--filter TEXT] [--quiet]"
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?} (see --help)").into()),
        }
    }
    if !(1..=4).contains(&args.view) || args.seconds <= 0.0 {
        return Err("--view is 1 to 4, --seconds positive".into());
    }
    Ok(args)
}

/// CPU time of the calling thread (clock_gettime(2), CLOCK_THREAD_CPUTIME_ID: exact, unlike
/// getrusage's per-thread figures, which are scaled from ticks).
fn thread_cpu() -> Duration {
    clock(nix::libc::CLOCK_THREAD_CPUTIME_ID)
}

/// CPU time of the whole process (every thread).
fn process_cpu() -> Duration {
    clock(nix::libc::CLOCK_PROCESS_CPUTIME_ID)
}

fn clock(id: nix::libc::clockid_t) -> Duration {
    let mut ts = nix::libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime(2) only writes the timespec we pass, which lives for the call; the
    // clock ids are the process's and the thread's own CPU clocks, always valid.
    let rc = unsafe { nix::libc::clock_gettime(id, &mut ts) };
    if rc != 0 {
        return Duration::ZERO;
    }
    Duration::new(
        ts.tv_sec.max(0) as u64,
        ts.tv_nsec.clamp(0, 999_999_999) as u32,
    )
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn stats(name: &str, v: &[f64]) {
    if v.is_empty() {
        return;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    let mean = s.iter().sum::<f64>() / n as f64;
    let pick = |q: f64| s[((n - 1) as f64 * q).round() as usize];
    println!(
        "  {name:<10} mean {mean:>6.2} ms  median {:>6.2}  p90 {:>6.2}  max {:>6.2}",
        pick(0.5),
        pick(0.9),
        pick(1.0)
    );
}

fn main() -> Result<(), Box<dyn Error>> {
    let args = parse_args()?;
    let mut collector = Collector::new(Roots::default());
    let mut users = UserNameLookup::default();
    let mut app = App::new(Duration::from_secs(1), false, true, Keymap::default());
    let theme = Theme::default();
    let backend = CrosstermBackend::new(std::io::sink());
    let mut terminal = Terminal::with_options(
        backend,
        ratatui::TerminalOptions {
            viewport: ratatui::Viewport::Fixed(ratatui::layout::Rect::new(
                0,
                0,
                args.width,
                args.height,
            )),
        },
    )?;
    let draw = |terminal: &mut Terminal<CrosstermBackend<std::io::Sink>>, app: &mut App| {
        let mut drawn = ui::Drawn::default();
        let r = terminal.draw(|f| drawn = ui::draw(f, app, &theme));
        drawn.apply_to(app);
        r.map(|_| ())
    };
    draw(&mut terminal, &mut app)?;

    let (mut collect_ms, mut update_ms, mut draw_ms) = (Vec::new(), Vec::new(), Vec::new());
    let start = Instant::now();
    let run_for = Duration::from_secs_f64(args.seconds);
    let mut pass = 0;
    while start.elapsed() < run_for {
        let tick = Instant::now();
        let c0 = process_cpu();
        let snap = collector.refresh(CollectOptions::ALL)?;
        // The poller's part: user names are looked up off the UI thread.
        let names = users.names_new_in(&snap);
        let c1 = process_cpu();
        let t0 = thread_cpu();
        let unchanged = tui::unchanged_since_previous(&collector.last_refresh());
        let mut cmds = app.update(Msg::UserNames(names));
        cmds.extend(app.update(Msg::Refresh(Box::new(snap), unchanged)));
        let t1 = thread_cpu();
        draw(&mut terminal, &mut app)?;
        let t2 = thread_cpu();
        for cmd in cmds {
            if let Cmd::Recycle(old) = cmd {
                collector.recycle(*old);
            }
        }
        pass += 1;
        if pass == 1 {
            // Once the first snapshot is in: the view (and filter) asked for.
            let view = match args.view {
                2 => Action::ViewNamespaces,
                3 => Action::ViewCgroups,
                4 => Action::ViewProcesses,
                _ => Action::ViewGroups,
            };
            app.on_action(view);
            if let Some(f) = &args.filter {
                app.on_action(Action::Filter);
                for ch in f.chars() {
                    app.update(Msg::Key(crossterm::event::KeyEvent::from(
                        crossterm::event::KeyCode::Char(ch),
                    )));
                }
                app.update(Msg::Key(crossterm::event::KeyEvent::from(
                    crossterm::event::KeyCode::Enter,
                )));
            }
            draw(&mut terminal, &mut app)?;
            println!(
                "first pass: collect {:.1} ms (process CPU), update {:.1} ms, draw {:.1} ms",
                ms(c1 - c0),
                ms(t1 - t0),
                ms(t2 - t1)
            );
        } else {
            collect_ms.push(ms(c1 - c0));
            update_ms.push(ms(t1 - t0));
            draw_ms.push(ms(t2 - t1));
            if !args.quiet {
                let flag = |b: bool, c: char| if b { c } else { '-' };
                println!(
                    "pass {pass:>3}: collect {:>6.1} ms  update {:>6.2} ms  draw {:>6.2} ms  rows {}  same {}{}{}",
                    ms(c1 - c0),
                    ms(t1 - t0),
                    ms(t2 - t1),
                    app.rows.len(),
                    flag(unchanged.processes, 'p'),
                    flag(unchanged.namespaces, 'n'),
                    flag(unchanged.containers, 'c'),
                );
            }
        }
        if let Some(rest) = Duration::from_secs(1).checked_sub(tick.elapsed()) {
            std::thread::sleep(rest);
        }
    }
    println!("later passes (n = {}):", update_ms.len());
    stats("collect", &collect_ms);
    stats("update", &update_ms);
    stats("draw", &draw_ms);
    let ui: Vec<f64> = update_ms.iter().zip(&draw_ms).map(|(a, b)| a + b).collect();
    stats("UI", &ui);
    Ok(())
}
