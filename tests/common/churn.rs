//! A storm of short-lived processes ([`Churn`]): a thread that starts `/bin/true` at a target
//! rate and reaps every one, for tests of what nsview does while processes come and go by the
//! thousand.
//!
//! The thread keeps at most [`IN_FLIGHT`] children at a time (each exits at once), starts as many
//! as the rate says are due, reaps those that exited (at once, or every so often: then the
//! exited ones stay zombies meanwhile, as under a parent that reaps lazily), and sleeps a
//! millisecond. Only its own
//! children are ever signalled: on drop (or [`Churn::stop`]) those still running are killed by
//! their PID while they are its unreaped children (their PID cannot have been reused), then
//! reaped.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Children of a storm of `/bin/true` alive at once, at most (a rate the machine cannot keep up
/// with is then reported as a lower achieved rate, not a pile of processes).
pub const IN_FLIGHT: usize = 512;

/// What a storm did.
#[derive(Debug, Clone, Copy)]
pub struct ChurnReport {
    /// Processes started (and reaped).
    pub started: u64,
    /// Starts that failed (fork or exec refused).
    pub failed: u64,
    pub elapsed: Duration,
}

impl ChurnReport {
    /// Processes started per second, as achieved.
    pub fn rate(&self) -> f64 {
        self.started as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// A running storm of `/bin/true` processes; stops (and kills what is left of it) on drop.
pub struct Churn {
    stop: Arc<AtomicBool>,
    started: Arc<AtomicU64>,
    handle: Option<JoinHandle<ChurnReport>>,
}

impl Churn {
    /// Start `per_second` processes a second (each `/bin/true`, stdio closed) until stopped,
    /// each reaped as soon as it exited.
    pub fn start(per_second: u32) -> Churn {
        Churn::reaping_every(per_second, Duration::ZERO)
    }

    /// [`Churn::start`], reaping only every `reap_every`: the exited children stay zombies until
    /// then.
    pub fn reaping_every(per_second: u32, reap_every: Duration) -> Churn {
        Churn::of(per_second, reap_every, IN_FLIGHT, "/bin/true", &[])
    }

    /// A storm of `program ARGS...` instead of `/bin/true` (each must end by itself), at most
    /// `in_flight` of them at once.
    pub fn of(
        per_second: u32,
        reap_every: Duration,
        in_flight: usize,
        program: &str,
        args: &[&str],
    ) -> Churn {
        let program = program.to_string();
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let stop = Arc::new(AtomicBool::new(false));
        let started = Arc::new(AtomicU64::new(0));
        let (s, n) = (stop.clone(), started.clone());
        let handle = std::thread::Builder::new()
            .name("churn".into())
            .spawn(move || {
                let limits = (per_second, reap_every, in_flight);
                storm(limits, (&program, &args), &s, &n)
            })
            .expect("start the churn thread");
        Churn {
            stop,
            started,
            handle: Some(handle),
        }
    }

    /// Processes started so far.
    pub fn started(&self) -> u64 {
        self.started.load(Ordering::Relaxed)
    }

    /// Stop the storm and say what it did.
    pub fn stop(mut self) -> ChurnReport {
        self.finish().expect("the churn thread ran")
    }

    fn finish(&mut self) -> Option<ChurnReport> {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.take()?.join().ok()
    }
}

impl Drop for Churn {
    fn drop(&mut self) {
        let _ = self.finish();
    }
}

/// The storm's loop: start what is due, reap what exited.
fn storm(
    (per_second, reap_every, in_flight): (u32, Duration, usize),
    (program, args): (&str, &[String]),
    stop: &AtomicBool,
    count: &AtomicU64,
) -> ChurnReport {
    let t0 = Instant::now();
    let mut reaped_at = t0;
    let mut live: Vec<Child> = Vec::with_capacity(IN_FLIGHT);
    let (mut started, mut failed) = (0u64, 0u64);
    while !stop.load(Ordering::Relaxed) {
        let due = (t0.elapsed().as_secs_f64() * f64::from(per_second)) as u64;
        while started + failed < due && live.len() < in_flight {
            match Command::new(program)
                .args(args)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
            {
                Ok(child) => {
                    live.push(child);
                    started += 1;
                    count.store(started, Ordering::Relaxed);
                }
                Err(_) => failed += 1,
            }
        }
        if reaped_at.elapsed() >= reap_every || live.len() >= in_flight {
            live.retain_mut(|c| !matches!(c.try_wait(), Ok(Some(_))));
            reaped_at = Instant::now();
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    // Still our unreaped children: their PIDs are theirs.
    for mut c in live {
        let _ = c.kill();
        let _ = c.wait();
    }
    ChurnReport {
        started,
        failed,
        elapsed: t0.elapsed(),
    }
}
