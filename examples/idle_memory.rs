//! Benchmark (not a test): how much dearer memory is to touch after the process slept.
//!
//!     cargo run --release --example idle_memory -- [--idle SECONDS] [--mib 40] [--rounds 4]
//!
//! Fills a buffer, then `rounds` times: sleeps `idle` seconds and reads one byte of each 4 KiB
//! page, printing how long that took. On a machine whose idle memory stays where it is, a
//! round takes well under a millisecond at any idle time; on the VM of docs/performance.md it
//! takes hundreds after 5 s, which is what makes a recorder's frame at 5 s dearer than at 1 s.

use std::time::{Duration, Instant};

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let idle = arg("--idle", 5);
    let mib = arg("--mib", 40) as usize;
    let rounds = arg("--rounds", 4);
    let buf = vec![1u8; mib << 20];
    for _ in 0..rounds {
        std::thread::sleep(Duration::from_secs(idle));
        let t = Instant::now();
        let sum: u64 = buf.iter().step_by(4096).map(|b| u64::from(*b)).sum();
        println!(
            "after {idle} s idle: reading {mib} MiB (one byte a page) took {:.2} ms (sum {sum})",
            t.elapsed().as_secs_f64() * 1e3
        );
    }
}
