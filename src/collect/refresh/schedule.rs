//! When each thing is read again: rolling slots, the stagger of full reads, young processes and
//! namespaces, and why a listed process is read in this pass.

use super::{FULL_READ_EVERY, ROLLING_PASSES, YOUNG_PASSES};

/// Spreads items over the R passes of a rolling cycle (a multiplicative hash, so that PIDs or
/// inodes in arithmetic progression do not pile up in one slot).
pub(super) fn slot(x: u64) -> u64 {
    (x.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) % ROLLING_PASSES
}

/// Where a process starts counting its turns towards the next full read: spread over
/// [`FULL_READ_EVERY`], so that processes found together (all of them, in the first pass) do not
/// all come up for a full read in the same cycle. A process is read in full again within
/// [`FULL_READ_EVERY`] turns whatever it starts at.
pub(super) fn stagger(pid: i32) -> u8 {
    (((pid as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40) % u64::from(FULL_READ_EVERY)) as u8
}

/// The first pass after `pass` that falls in `slot`'s turn: at most [`ROLLING_PASSES`] later.
pub(super) fn next_due(pass: u64, slot: u64) -> u64 {
    let next = pass + 1;
    next + (slot % ROLLING_PASSES + ROLLING_PASSES - next % ROLLING_PASSES) % ROLLING_PASSES
}

/// True in the [`YOUNG_PASSES`] passes after pass `born` (0: found by a full pass, never young).
pub(super) fn young(born: u64, pass: u64) -> bool {
    born > 0 && pass > born && pass <= born + YOUNG_PASSES
}

/// Why a process is read in this pass.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Reason {
    New,
    Young,
    Rolling,
    Reparented,
    /// The process events connector reported an exec, or a change of comm or credentials.
    Event,
}

/// Whether a listed process is read in this pass, and why: decided for every process of the
/// listing before anything is read.
#[derive(Clone, Copy)]
pub(super) struct ReadDecision {
    /// Index into the listing.
    pub(super) listed: usize,
    /// Index of the same process (same PID and /proc/PID inode) among the entries of the
    /// previous pass, if it was there.
    pub(super) cached: Option<usize>,
    /// Why it is read; `None`: kept as it was.
    pub(super) reason: Option<Reason>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_passes_fall_in_the_slot_and_within_the_bound() {
        for pass in 0..40 {
            for s in 0..ROLLING_PASSES {
                let d = next_due(pass, s);
                assert!(
                    d > pass && d <= pass + ROLLING_PASSES,
                    "pass {pass} slot {s}"
                );
                assert_eq!(d % ROLLING_PASSES, s);
            }
        }
    }

    #[test]
    fn slots_spread_consecutive_pids() {
        let mut count = [0usize; ROLLING_PASSES as usize];
        for pid in 1000..11000u64 {
            count[slot(pid) as usize] += 1;
        }
        // 1,000 each if perfectly even; the rolling slice stays close to 1/R.
        assert!(count.iter().all(|&c| (800..1200).contains(&c)), "{count:?}");
        let mut even = [0usize; ROLLING_PASSES as usize];
        for pid in (1000..21000u64).step_by(2) {
            even[slot(pid) as usize] += 1;
        }
        assert!(even.iter().all(|&c| (800..1200).contains(&c)), "{even:?}");
    }

    #[test]
    fn young_means_the_passes_right_after_the_first_read() {
        // 0: found by a full pass, never young.
        assert!(!young(0, 1));
        assert!(!young(5, 5));
        assert!(young(5, 6));
        assert!(young(5, 5 + YOUNG_PASSES));
        assert!(!young(5, 6 + YOUNG_PASSES));
    }
}
