//! Ctrl-C in the caller (issue 14): however the helper is stuck, the caller can end it.
//!
//! The helper runs in a process group of its own, so the terminal's SIGINT, SIGQUIT and SIGHUP
//! reach the caller only. While the caller waits, those and SIGTERM arrive through signal pipes
//! ([`Interrupts`]) and [`HelperWait`] passes them on to the helper (which passes them on to the
//! command once it runs). Before the command has started, a helper that has not ended
//! [`GRACE`] after the signal is killed; one that does not end even then (a task stopped by a
//! frozen cgroup waits, in uninterruptible sleep, until it is thawed, SIGKILL included) is left
//! behind, and the caller returns with [`EnterError::Interrupted`] saying so.
//!
//! While the command's pty is relayed, the relay passes the signals on to the pty's foreground
//! process group instead (`pty`); the caller then only waits.

use super::error::EnterError;
use super::plan::EnterSpec;
use super::signal_pipe::SignalPipe;
use rustix::event::{PollFd, PollFlags, Timespec, poll};
use rustix::io::Errno;
use signal_hook::consts::{SIGHUP, SIGINT, SIGKILL, SIGQUIT, SIGTERM};
use std::os::fd::{BorrowedFd, OwnedFd};
use std::process::Child;
use std::time::{Duration, Instant};

/// The signals the caller passes on to its helper.
const PASSED_ON: [i32; 4] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT];

/// How long a helper that has not started the command has to end after a signal.
const GRACE: Duration = Duration::from_secs(2);

/// How long the caller waits for a helper it killed before leaving it behind.
const AFTER_KILL: Duration = Duration::from_secs(1);

/// Signal pipes (signal-hook's self-pipe) for [`PASSED_ON`], registered for as long as this lives.
pub(super) struct Interrupts {
    pipes: Vec<SignalPipe>,
}

impl Interrupts {
    pub(super) fn register() -> std::io::Result<Interrupts> {
        let pipes = PASSED_ON
            .into_iter()
            .map(SignalPipe::register)
            .collect::<std::io::Result<Vec<_>>>()?;
        Ok(Interrupts { pipes })
    }

    /// The signals that arrived since the last call (each at most once), emptying the pipes.
    fn take(&self) -> Vec<i32> {
        self.pipes
            .iter()
            .filter(|p| p.drain())
            .map(|p| p.signal)
            .collect()
    }
}

/// Where ending the helper stands.
#[derive(Debug, Clone, Copy)]
enum Ending {
    /// No signal yet.
    No,
    /// A signal was passed on at this time.
    Asked(Instant),
    /// SIGKILL was sent at this time.
    Killed(Instant),
}

/// The caller waiting for its helper, with Ctrl-C working.
pub(super) struct HelperWait<'a> {
    spec: &'a EnterSpec,
    child: &'a mut Child,
    interrupts: Interrupts,
    /// Readable when the helper has ended (None before Linux 5.3: its status is polled).
    pidfd: Option<OwnedFd>,
    ending: Ending,
}

/// What a wait saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Seen {
    /// The descriptor waited on is readable (or at its end).
    Ready,
    /// The helper has ended.
    HelperEnded,
}

impl<'a> HelperWait<'a> {
    pub(super) fn new(spec: &'a EnterSpec, child: &'a mut Child, interrupts: Interrupts) -> Self {
        let pid = rustix::process::Pid::from_raw(child.id() as i32);
        // The helper is this process's unreaped child: its PID is still its own.
        let pidfd = pid.and_then(|p| {
            rustix::process::pidfd_open(p, rustix::process::PidfdFlags::empty()).ok()
        });
        HelperWait {
            spec,
            child,
            interrupts,
            pidfd,
            ending: Ending::No,
        }
    }

    /// Whether the helper was killed (it did not end when told to).
    pub(super) fn killed(&self) -> bool {
        matches!(self.ending, Ending::Killed(_))
    }

    /// Kill the helper (something failed in the caller); it is reaped when it ends, if ever.
    pub(super) fn kill(&mut self) {
        self.signal(SIGKILL);
        self.ending = Ending::Killed(Instant::now());
    }

    /// Wait, before the command has started, until `fd` is readable or the helper ended. A
    /// signal is passed on to the helper; a helper that does not end is killed, and one that
    /// does not end even then is left behind with an error.
    pub(super) fn until_readable(&mut self, fd: BorrowedFd<'_>) -> Result<Seen, EnterError> {
        loop {
            if let Some(seen) = self.poll_once(Some(fd), true)? {
                return Ok(seen);
            }
        }
    }

    /// Wait until the helper has ended (the command is running): signals are passed on, the
    /// helper passes them on to the command.
    pub(super) fn until_ended(&mut self) -> Result<(), EnterError> {
        if self.pidfd.is_none() {
            return Ok(());
        }
        while self.poll_once(None, false)? != Some(Seen::HelperEnded) {}
        Ok(())
    }

    /// One poll: `fd` (if any), the helper's pidfd and the signal pipes. `escalate`: the
    /// command has not started, so a helper that does not end when told is killed.
    fn poll_once(
        &mut self,
        fd: Option<BorrowedFd<'_>>,
        escalate: bool,
    ) -> Result<Option<Seen>, EnterError> {
        let timeout = match (escalate, self.ending) {
            (true, Ending::Asked(t)) => Some(GRACE.saturating_sub(t.elapsed())),
            (true, Ending::Killed(t)) => Some(AFTER_KILL.saturating_sub(t.elapsed())),
            // Without a pidfd the helper's end is noticed by polling its status.
            _ if self.pidfd.is_none() => Some(Duration::from_millis(100)),
            _ => None,
        };
        let (fd_ready, ended, signalled) = self.poll_fds(fd, timeout);
        if fd_ready {
            return Ok(Some(Seen::Ready));
        }
        if ended || matches!(self.child.try_wait(), Ok(Some(_))) {
            return Ok(Some(Seen::HelperEnded));
        }
        if signalled {
            for sig in self.interrupts.take() {
                self.pass_on(sig, escalate);
            }
        }
        if escalate {
            self.escalate()?;
        }
        Ok(None)
    }

    /// poll(2) over `fd`, the pidfd and the signal pipes: (fd readable, helper ended, a
    /// signal came).
    fn poll_fds(
        &self,
        fd: Option<BorrowedFd<'_>>,
        timeout: Option<Duration>,
    ) -> (bool, bool, bool) {
        let mut fds: Vec<PollFd> = Vec::new();
        if let Some(fd) = &fd {
            fds.push(PollFd::new(fd, PollFlags::IN));
        }
        if let Some(p) = &self.pidfd {
            fds.push(PollFd::new(p, PollFlags::IN));
        }
        let first_signal = fds.len();
        fds.extend(
            self.interrupts
                .pipes
                .iter()
                .map(|p| PollFd::new(&p.read, PollFlags::IN)),
        );
        let timeout = timeout.map(|d| Timespec {
            tv_sec: d.as_secs() as i64,
            tv_nsec: i64::from(d.subsec_nanos()),
        });
        match poll(&mut fds, timeout.as_ref()) {
            Ok(_) | Err(Errno::INTR) => {}
            // Not expected; the caller goes on as if everything were ready, and finds out.
            Err(_) => return (true, false, false),
        }
        let ready = |i: usize| fds.get(i).is_some_and(|f| !f.revents().is_empty());
        let fd_ready = fd.is_some() && ready(0);
        let ended = self.pidfd.is_some() && ready(usize::from(fd.is_some()));
        let signalled = (first_signal..fds.len()).any(ready);
        (fd_ready, ended, signalled)
    }

    /// Pass `sig` on to the helper; before the command has started, a second signal kills it.
    fn pass_on(&mut self, sig: i32, escalate: bool) {
        let sig = match (escalate, self.ending) {
            (true, Ending::Asked(_)) => SIGKILL,
            _ => sig,
        };
        self.signal(sig);
        self.ending = match (sig, self.ending) {
            (_, Ending::Killed(t)) => Ending::Killed(t),
            (SIGKILL, _) => Ending::Killed(Instant::now()),
            (_, Ending::Asked(t)) => Ending::Asked(t),
            _ => Ending::Asked(Instant::now()),
        };
    }

    /// A helper that outlived its grace is killed; one that outlived even that is left behind.
    fn escalate(&mut self) -> Result<(), EnterError> {
        match self.ending {
            Ending::Asked(t) if t.elapsed() >= GRACE => {
                self.signal(SIGKILL);
                self.ending = Ending::Killed(Instant::now());
                Ok(())
            }
            Ending::Killed(t) if t.elapsed() >= AFTER_KILL => Err(self.left_behind()),
            _ => Ok(()),
        }
    }

    fn left_behind(&self) -> EnterError {
        let thaw = if self.spec.thaw_as.is_empty() {
            String::new()
        } else {
            format!(" (nsview thaw {})", self.spec.thaw_as)
        };
        EnterError::Interrupted(format!(
            "interrupted: the helper entering {} (PID {}) does not end, not even when killed: a \
             frozen cgroup stopped it; it ends once that cgroup is thawed{thaw}",
            self.spec.target,
            self.child.id()
        ))
    }

    fn signal(&self, sig: i32) {
        let Ok(sig) = nix::sys::signal::Signal::try_from(sig) else {
            return;
        };
        // The helper is this process's unreaped child: the PID is still its own.
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.child.id() as i32), sig);
    }
}
