//! Benchmark (not a test): the CPU a live view's collector uses, pass by pass.
//!
//!     cargo run --release --example refresh_loop -- [--mode refresh|collect] [--seconds 30]
//!                                                   [--interval 1.0] [--quiet]
//!
//! Calls `Collector::refresh` (or, with `--mode collect`, the full `Collector::collect`) once per
//! interval for the given time, as the interactive view's poller does (each snapshot replaces
//! the previous one, which is given back to `Collector::recycle` unless `--no-recycle`; without
//! it the previous one is dropped here, as a view that keeps nothing would), and prints for each pass
//! the CPU time the process used (getrusage(2), user + system, every thread) and what the pass
//! read. At the end: CPU per pass (the first pass, which reads everything, apart) and the CPU of
//! the whole run, sleeps included, as a percentage of one core. Run it as root on the benchmark
//! population (`scripts/bench-population.sh up`) to reproduce README's figures.

use nsview::collect::{CollectOptions, Collector};
use nsview::sys::Roots;
use std::error::Error;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Refresh,
    Collect,
}

struct Args {
    mode: Mode,
    seconds: f64,
    interval: f64,
    quiet: bool,
    recycle: bool,
}

fn parse_args() -> Result<Args, Box<dyn Error>> {
    let mut args = Args {
        mode: Mode::Refresh,
        seconds: 30.0,
        interval: 1.0,
        quiet: false,
        recycle: true,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--mode" => {
                args.mode = match value()?.as_str() {
                    "refresh" => Mode::Refresh,
                    "collect" => Mode::Collect,
                    other => return Err(format!("unknown mode {other:?}").into()),
                }
            }
            "--seconds" => args.seconds = value()?.parse()?,
            "--interval" => args.interval = value()?.parse()?,
            "--quiet" => args.quiet = true,
            "--no-recycle" => args.recycle = false,
            "-h" | "--help" => {
                println!(
                    "usage: refresh_loop [--mode refresh|collect] [--seconds 30] [--interval 1.0] [--quiet] [--no-recycle]"
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?} (see --help)").into()),
        }
    }
    if args.interval <= 0.0 || args.seconds <= 0.0 {
        return Err("--seconds and --interval must be positive".into());
    }
    Ok(args)
}

/// CPU time used by this process so far (user + system, all threads, joined ones included).
fn cpu_time() -> Duration {
    let (user, system) = cpu_times();
    user + system
}

/// User and system CPU time used by this process so far.
fn cpu_times() -> (Duration, Duration) {
    // SAFETY: getrusage(2) only writes the rusage struct we pass, which is plain data and
    // zero-initialised; RUSAGE_SELF is a valid `who`.
    let usage = unsafe {
        let mut usage: nix::libc::rusage = std::mem::zeroed();
        nix::libc::getrusage(nix::libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let tv = |t: nix::libc::timeval| {
        Duration::from_secs(t.tv_sec.max(0) as u64) + Duration::from_micros(t.tv_usec.max(0) as u64)
    };
    (tv(usage.ru_utime), tv(usage.ru_stime))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() -> Result<(), Box<dyn Error>> {
    let args = parse_args()?;
    let mut collector = Collector::new(Roots::default());
    let interval = Duration::from_secs_f64(args.interval);
    let run_for = Duration::from_secs_f64(args.seconds);
    let mode_name = match args.mode {
        Mode::Refresh => "refresh",
        Mode::Collect => "collect",
    };
    let recycle = args.recycle && args.mode == Mode::Refresh;
    println!(
        "{mode_name} every {:.2} s for {:.0} s{}",
        args.interval,
        args.seconds,
        if recycle {
            ", giving each replaced snapshot back"
        } else {
            ""
        }
    );
    let mut current: Option<nsview::model::Snapshot> = None;

    let start = Instant::now();
    let cpu_start = cpu_time();
    let mut later_user = Duration::ZERO;
    let mut later_system = Duration::ZERO;
    let mut per_pass: Vec<f64> = Vec::new();
    let mut phase_sums: Vec<(&'static str, f64)> = Vec::new();
    let mut first_pass = None;
    let mut pass = 0usize;
    while start.elapsed() < run_for {
        let tick = Instant::now();
        let (user0, system0) = cpu_times();
        let cpu0 = user0 + system0;
        let snap = match args.mode {
            Mode::Refresh => collector.refresh(CollectOptions::ALL)?,
            Mode::Collect => collector.collect(CollectOptions::ALL)?,
        };
        let wall = tick.elapsed();
        let (user1, system1) = cpu_times();
        let cpu = (user1 + system1).saturating_sub(cpu0);
        pass += 1;
        if !args.quiet {
            let s = collector.last_refresh();
            let what = match args.mode {
                Mode::Collect => String::new(),
                Mode::Refresh => format!(
                    "  {} read new {} young {} events {} rolling {} ({} had not run) reparented {}, kept {}, recycled {}; mountinfo {} uts {} net {}{}{}",
                    if s.from_events {
                        format!("{} events;", s.events)
                    } else {
                        "listed /proc;".to_string()
                    },
                    s.read_new,
                    s.read_young,
                    s.read_events,
                    s.read_rolling,
                    s.rolling_idle,
                    s.read_reparented,
                    s.kept,
                    s.recycled,
                    s.mountinfo_read,
                    s.uts_read,
                    s.net_read,
                    if s.net_all { " (all)" } else { "" },
                    if s.cgroup_walk { ", cgroup walk" } else { "" },
                ),
            };
            println!(
                "pass {pass:>3}: cpu {:>7.1} ms  wall {:>6.1} ms  {} processes {} namespaces {} cgroups{what}",
                ms(cpu),
                ms(wall),
                snap.processes.len(),
                snap.namespaces.len(),
                snap.cgroups.len(),
            );
        }
        if pass == 1 {
            first_pass = Some(ms(cpu));
        } else {
            per_pass.push(ms(cpu));
            later_user += user1.saturating_sub(user0);
            later_system += system1.saturating_sub(system0);
            for (name, d) in collector.phases() {
                match phase_sums.iter_mut().find(|(n, _)| n == name) {
                    Some((_, sum)) => *sum += ms(*d),
                    None => phase_sums.push((name, ms(*d))),
                }
            }
        }
        // The new snapshot replaces the one "on screen", which is given back or dropped (its
        // CPU time counts here, as it would in the view).
        if let Some(old) = current.replace(snap) {
            if recycle {
                collector.recycle(old);
            } else {
                drop(old);
            }
        }
        if let Some(rest) = interval.checked_sub(tick.elapsed()) {
            std::thread::sleep(rest);
        }
    }
    let elapsed = start.elapsed();
    let total_cpu = cpu_time().saturating_sub(cpu_start);

    println!();
    println!(
        "mode: {mode_name}, interval {:.2} s, {pass} passes in {:.1} s",
        args.interval,
        elapsed.as_secs_f64()
    );
    if let Some(first) = first_pass {
        println!("first pass (reads everything): {first:.1} ms CPU");
    }
    if !per_pass.is_empty() {
        let mut sorted = per_pass.clone();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let mean = sorted.iter().sum::<f64>() / n as f64;
        let pick = |q: f64| sorted[((n - 1) as f64 * q).round() as usize];
        println!(
            "later passes: CPU per pass mean {mean:.1} ms, median {:.1}, p90 {:.1}, max {:.1} (n = {n})",
            pick(0.5),
            pick(0.9),
            pick(1.0)
        );
        println!(
            "  of which user {:.1} ms, system (the kernel, mostly /proc) {:.1} ms per pass",
            ms(later_user) / n as f64,
            ms(later_system) / n as f64
        );
        println!("mean wall time per phase of the later passes:");
        for (name, sum) in &phase_sums {
            println!("  {name:<32} {:>7.2} ms", sum / n as f64);
        }
    }
    println!(
        "whole run: {:.1} ms CPU in {:.1} s = {:.2} % of one core",
        ms(total_cpu),
        elapsed.as_secs_f64(),
        total_cpu.as_secs_f64() / elapsed.as_secs_f64() * 100.0
    );
    Ok(())
}
